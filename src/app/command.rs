//! Everything the views can ask for, handled in one place. Views push [`Command`]s while drawing; the app applies
//! them after the frame's drawing, so a view never mutates shared state directly.

use crate::acquisition::calibration::{Calibration, CalibrationRecord};
use crate::acquisition::serial::{SerialConfig, SerialSource, available_ports};
use crate::acquisition::{Engine, EngineConfig};
use crate::protocol::Event;
use crate::ui::action::{Action, View};
use crate::ui::protocol::StartChoice;
use crate::ui::settings::SettingsCommand;
use crate::ui::upload::UploadAction;

use super::HeraclesApp;

/// A request from a view.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// What a live view, the top bar or the demo panel asked for.
    Ui(Action),
    /// Show the start screen (new case, open a case, demo case).
    ShowStart,
    /// Start the case chosen on the start screen.
    Start(StartChoice),
    /// Apply an operator's event to the open case's protocol.
    Protocol(Event),
    /// Close the open case (recording stops) and show the start screen. The view asks the operator first while
    /// the case is recording.
    CloseCase,
    /// What the console settings view asked for.
    Settings(SettingsCommand),
    /// Show the review screen's case chooser.
    ChooseReviewCase,
    /// Open a case file for review as this reviewer.
    OpenReview {
        /// The case file.
        path: std::path::PathBuf,
        /// The reviewer's name (every edit carries it).
        reviewer: String,
    },
    /// Leave the review screen (back to the live monitor).
    CloseReview,
    /// What an upload view asked for (settings, test connection, upload a case now).
    Upload(UploadAction),
    /// Continue saving the open case in this folder (NOT SAVING where it is).
    SaveElsewhere(std::path::PathBuf),
}

impl HeraclesApp {
    /// Applies one command.
    pub fn handle(&mut self, command: Command) {
        match command {
            Command::Ui(Action::SetFrozen(frozen)) => self.live.frozen = frozen,
            Command::Ui(Action::SetSweep(sweep_s)) => self.live.sweep_s = sweep_s,
            Command::Ui(Action::SetRange(strip, range)) => self.live.ranges[strip as usize] = range,
            Command::Ui(Action::ShowView(view)) => self.view = view,
            Command::Ui(Action::SaveElsewhere) => {
                self.save_elsewhere.get_or_insert_with(String::new);
            }
            Command::SaveElsewhere(folder) => match &mut self.protocol {
                Some(session) => session.save_elsewhere(folder),
                None => log::warn!("no case is open to save elsewhere"),
            },
            Command::Settings(command) => self.handle_settings(command),
            Command::Upload(action) => self.uploads.handle(action),
            Command::Ui(Action::Simulate(control)) => {
                let Some(sim) = &mut self.sim else {
                    log::warn!("simulator control {control:?} ignored: the simulator is not the source");
                    return;
                };
                let result = sim.control.send(control);
                if let Err(error) = &result {
                    log::warn!("simulator control {control:?} not applied: {error}");
                }
                sim.panel.last_error = result.err().map(|error| error.to_string());
            }
            Command::ShowStart => {
                self.start.refresh(self.data_dir.as_deref());
                self.view = View::Start;
            }
            Command::Start(StartChoice::Review(path)) => self.choose_review_case(Some(path)),
            Command::Start(choice) => {
                let now = super::protocol::moment_now(&self.shown);
                match self
                    .start
                    .open_case(choice, self.data_dir.as_deref(), self.patient.is_some(), now)
                {
                    Ok(session) => {
                        self.close_case();
                        self.protocol = Some(session);
                        self.view = View::Live;
                    }
                    Err(message) => self.start.message = Some(message),
                }
            }
            Command::Protocol(event) => {
                let now = super::protocol::moment_now(&self.shown);
                let Some(session) = &mut self.protocol else {
                    return;
                };
                session.apply(event, now, self.patient.as_ref());
                // A signed-off case takes no more records: its recording stops with the signature (the
                // confirmation said so).
                if session.state.signed_off.is_some()
                    && self.engine.lock().recording.active
                    && let Err(error) = self.engine.stop_recording()
                {
                    session.forms.message =
                        Some(format!("The last samples of the case may not be saved: {error}"));
                }
            }
            Command::CloseCase => {
                self.close_case();
                self.handle(Command::ShowStart);
            }
            Command::ChooseReviewCase | Command::OpenReview { .. } | Command::CloseReview => {
                self.handle_review(command)
            }
        }
    }
}

impl HeraclesApp {
    /// Stops recording into the open case and closes it. Waits for the recorder's last commit (normally well
    /// under a second): the case must not be closed with samples still in memory.
    fn close_case(&mut self) {
        if self.protocol.take().is_some()
            && self.engine.lock().recording.active
            && let Err(error) = self.engine.stop_recording()
        {
            self.start.message = Some(format!("The last samples of the case may not be saved: {error}"));
        }
    }

    fn handle_settings(&mut self, command: SettingsCommand) {
        let outcome = match command {
            SettingsCommand::RefreshPorts => {
                self.settings.ports = available_ports();
                Ok(format!("{} port(s) found", self.settings.ports.len()))
            }
            SettingsCommand::Connect(config) => self.connect(config),
            SettingsCommand::Zero { source, channel } => self.calibrate(&source, &channel, None),
            SettingsCommand::SetCalibration {
                source,
                channel,
                calibration,
                method,
            } => self.calibrate(&source, &channel, Some((calibration, method))),
        };
        self.settings.message = Some(outcome);
    }

    /// Zeroes `channel` of `source` (`set` = `None`) or puts `set`'s calibration in force, on the live channel
    /// from its next sample on, and stores it in the open case under its operator. Refused without an open case
    /// that takes records: a calibration that the case file does not hold would make the case read back
    /// differently from what was shown.
    fn calibrate(
        &mut self,
        source: &str,
        channel: &str,
        set: Option<(Calibration, String)>,
    ) -> Result<String, String> {
        let session = self
            .protocol
            .as_mut()
            .ok_or("open a case first: calibrations are stored in the case")?;
        let who = session.acting_operator()?;
        let (calibration, method, time_s) = {
            let mut state = self.engine.lock();
            let live = state
                .sources
                .iter_mut()
                .find(|s| s.spec.id == source)
                .ok_or_else(|| format!("no source {source} is connected"))?;
            let rate = live.spec.sample_rate_hz;
            let (calibration, method, from) = match set {
                None => live.zero(channel),
                Some((calibration, method)) => live
                    .calibrate(channel, calibration)
                    .map(|from| (calibration, method, from)),
            }
            .map_err(|error| format!("{channel}: not applied: {error}"))?;
            (calibration, method, from as f64 / rate)
        };
        session.calibrate(CalibrationRecord {
            source: source.to_owned(),
            channel: channel.to_owned(),
            calibration,
            method,
            time_s,
            who: who.clone(),
        });
        self.settings.set_calibration(source, channel, calibration);
        Ok(format!(
            "{channel}: {} in force from {time_s:.2} s; stored in the case by {who}",
            calibration.describe()
        ))
    }

    /// Replaces the sources by the console of `config` (the simulated patient stops); refused while recording,
    /// which must not be cut short.
    fn connect(&mut self, config: SerialConfig) -> Result<String, String> {
        if self.shown.recording.active {
            return Err("stop recording before changing the console".to_owned());
        }
        let what = format!("{} at {} baud", config.path, config.baud);
        let source = Box::new(SerialSource::new(config));
        let engine = Engine::start(vec![source], EngineConfig::default(), self.repaint.clone())
            .map_err(|error| format!("could not start reading {what}: {error}"))?;
        // The old engine and its sources stop (and their threads are joined) here.
        self.engine = engine;
        self.sim = None;
        self.patient = None;
        self.shown = self.engine.lock().clone();
        Ok(format!("reading {what}; the simulated patient has stopped"))
    }
}
