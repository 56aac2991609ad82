//! Everything the views can ask for, handled in one place. Views push [`Command`]s while drawing; the app applies
//! them after the frame's drawing, so a view never mutates shared state directly.

use crate::acquisition::calibration::{self, Calibration, CalibrationRecord};
use crate::acquisition::online::LiveQuantity;
use crate::acquisition::serial::{SerialConfig, SerialSource, available_ports};
use crate::acquisition::{Engine, EngineConfig};
use crate::analysis::endpoints::Unit;
use crate::analysis::format;
use crate::model::SignalKind;
use crate::protocol::Event;
use crate::protocol::{ChannelZero, Equalisation, Moment, handle};
use crate::ui::action::{Action, View};
use crate::ui::protocol::{PressureAction, StartChoice};
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
    /// Zero the pressures or equalise Pd to Pa, as the consoles step asked.
    Pressures(PressureAction),
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
            Command::Pressures(action) => self.pressure_action(action),
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

    /// Zeroes `channel` of `source` (`set` = `None`) or puts `set`'s calibration in force (see
    /// [`HeraclesApp::put_in_force`]).
    fn calibrate(
        &mut self,
        source: &str,
        channel: &str,
        set: Option<(Calibration, String)>,
    ) -> Result<String, String> {
        self.acting_operator()?;
        let (calibration, method) = match set {
            Some(set) => set,
            None => {
                let state = self.engine.lock();
                let live = state
                    .sources
                    .iter()
                    .find(|s| s.spec.id == source)
                    .ok_or_else(|| format!("no source {source} is connected"))?;
                live.zero_of(channel)
                    .map_err(|error| format!("{channel}: not applied: {error}"))?
            }
        };
        let (time_s, who) = self.put_in_force(source, channel, calibration, method)?;
        Ok(format!(
            "{channel}: {} in force from {time_s:.2} s; stored in the case by {who}",
            calibration.describe()
        ))
    }

    /// The operator of the open case, who every calibration is stored under; refused without an open case that
    /// takes records: a calibration that the case file does not hold would make the case read back differently
    /// from what was shown.
    fn acting_operator(&self) -> Result<String, String> {
        self.protocol
            .as_ref()
            .ok_or("open a case first: calibrations are stored in the case")?
            .acting_operator()
    }

    /// Puts `calibration` in force on the live `channel` of `source` from its next sample on and stores it in
    /// the open case under its operator, with `method`. Returns the time it applies from (s on the source's
    /// axis) and the operator.
    fn put_in_force(
        &mut self,
        source: &str,
        channel: &str,
        calibration: Calibration,
        method: String,
    ) -> Result<(f64, String), String> {
        let who = self.acting_operator()?;
        let time_s = {
            let mut state = self.engine.lock();
            let live = state
                .sources
                .iter_mut()
                .find(|s| s.spec.id == source)
                .ok_or_else(|| format!("no source {source} is connected"))?;
            let from = live
                .calibrate(channel, calibration)
                .map_err(|error| format!("{channel}: not applied: {error}"))?;
            from as f64 / live.spec.sample_rate_hz
        };
        if let Some(session) = &mut self.protocol {
            session.calibrate(CalibrationRecord {
                source: source.to_owned(),
                channel: channel.to_owned(),
                calibration,
                method,
                time_s,
                who: who.clone(),
            });
        }
        self.settings.set_calibration(source, channel, calibration);
        Ok((time_s, who))
    }

    /// Carries out a consoles-step pressure action; why it failed is shown under its button.
    fn pressure_action(&mut self, action: PressureAction) {
        let now = super::protocol::moment_now(&self.shown);
        let outcome = match action {
            PressureAction::Zero => self.zero_pressures(now),
            PressureAction::EqualisePd => self.equalise_pd(now),
        };
        if let Some(session) = &mut self.protocol {
            session.forms.pressures.error = outcome.err().map(|why| (action, why));
        }
    }

    /// Zeroes every pressure channel of every connected source against atmosphere, all or none: each zero is
    /// computed first (a pulsatile or missing signal refuses them all, in words), the protocol is asked whether it
    /// takes the record, and only then are they put in force, stored, and recorded in the step.
    fn zero_pressures(&mut self, now: Moment) -> Result<(), String> {
        self.acting_operator()?;
        let zeros = {
            let state = self.engine.lock();
            let mut zeros = Vec::new();
            for live in state.sources.iter().filter(|live| live.connected) {
                for channel in live.spec.channels.iter().filter(|channel| channel.is_pressure()) {
                    let (calibration, method) = live
                        .zero_of(&channel.name)
                        .map_err(|error| format!("{}: {error}", channel.name))?;
                    zeros.push((live.spec.id.clone(), channel.name.clone(), calibration, method));
                }
            }
            zeros
        };
        if zeros.is_empty() {
            return Err("no pressure channel is live: connect the consoles first".to_owned());
        }
        let channels = zeros
            .iter()
            .map(|(_, channel, calibration, _)| ChannelZero {
                channel: channel.clone(),
                // A zero keeps the gain; what a raw 0 reads is the offset it adds.
                offset_mmhg: calibration.apply(0.0),
            })
            .collect();
        let event = Event::PressuresZeroed { channels };
        self.protocol_takes(&event, now)?;
        for (source, channel, calibration, method) in zeros {
            self.put_in_force(&source, &channel, calibration, method)?;
        }
        self.apply_protocol(event, now);
        Ok(())
    }

    /// Equalises Pd to Pa: reads Pd/Pa from the online analysis (the live Pd/Pa number, over the newest accepted
    /// beats), puts on Pd the gain that makes it read 1 (through the calibration path: in force, stored, audited)
    /// and records the ratio read in the step. Refused when Pd/Pa has no live value (a channel missing, flat or
    /// not pulsatile, or the beats rejected), with the analysis's reason, and while it still averages beats
    /// from before the newest zero or gain on Pa or Pd.
    fn equalise_pd(&mut self, now: Moment) -> Result<(), String> {
        self.acting_operator()?;
        let (source, channel, current, pd_pa, how) = {
            let state = self.engine.lock();
            let (live, index) = state
                .sources
                .iter()
                .find_map(|live| Some((live, live.spec.channel_index(SignalKind::Pd)?)))
                .ok_or("no console carries Pd: connect the pressure wire's console")?;
            if !live.connected {
                return Err(format!("{} is disconnected: Pd is not live", live.spec.label));
            }
            let number = state
                .analysis
                .number(LiveQuantity::PdPa)
                .ok_or("Pd/Pa has no live value yet: wait for beats on Pa and Pd")?;
            let pd_pa = number.value.clone().map_err(|why| {
                format!("Pd/Pa cannot be read now ({why}): Pd and Pa must be live, pulsatile and steady")
            })?;
            // Every beat averaged must be read under the zero and gain in force on Pa and Pd (pressing twice
            // would otherwise put a second gain on the first).
            let calibrated_s = [Some(index), live.spec.channel_index(SignalKind::Pa)]
                .into_iter()
                .flatten()
                .map(|channel| live.calibrated_from[channel] as f64 / live.spec.sample_rate_hz)
                .fold(0.0, f64::max);
            if number.from_s.is_none_or(|from_s| from_s < calibrated_s) {
                return Err(
                    "Pd/Pa still averages beats from before the last zero or equalisation: wait a \
                            few beats, then press again"
                        .to_owned(),
                );
            }
            let channel = live.spec.channels[index].name.clone();
            (
                live.spec.id.clone(),
                channel,
                live.calibrations[index],
                pd_pa,
                number.method.clone(),
            )
        };
        let gain = Equalisation::gain_for(pd_pa)?;
        let equalised = calibration::scaled(current, gain).map_err(|error| error.to_string())?;
        let event = Event::PdEqualised { pd_pa_read: pd_pa };
        self.protocol_takes(&event, now)?;
        let method = format!(
            "equalise Pd to Pa: Pd/Pa read {} ({how}); Pd x {gain:.4}",
            format::number(pd_pa, Unit::Ratio)
        );
        self.put_in_force(&source, &channel, equalised, method)?;
        self.apply_protocol(event, now);
        Ok(())
    }

    /// Whether the open case's protocol takes `event` now (asked before a calibration is put in force, so that a
    /// refused record leaves the channels as they were).
    fn protocol_takes(&self, event: &Event, now: Moment) -> Result<(), String> {
        let session = self.protocol.as_ref().ok_or("open a case first")?;
        handle(&session.state, event.clone(), now)
            .map(|_| ())
            .map_err(|refusal| refusal.to_string())
    }

    fn apply_protocol(&mut self, event: Event, now: Moment) {
        if let Some(session) = &mut self.protocol {
            session.apply(event, now, self.patient.as_ref());
        }
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
