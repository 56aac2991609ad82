//! The guided protocol inside the app: one [`ProtocolSession`] per open case. It applies the operator's events
//! to the pure state machine, hands every accepted transition to the case writer, feeds a running capture with
//! quality reports computed from the live ring buffers, steers the simulated patient in a demo case, and keeps
//! the endpoint panel up to date as the writer analyses saved windows.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use chrono::Utc;
use egui::RichText;

use crate::acquisition::calibration::CalibrationRecord;
use crate::acquisition::{Engine, LiveState};
use crate::model::{CaseId, SignalKind, Site};
use crate::protocol::{CaptureQuality, Effect, Event, Moment, State, WindowKind, handle};
use crate::signal::{SignalSettings, Signals, segment};
use crate::sim::Control;
use crate::store::{self, CaseFile};
use crate::ui::live::find_channel;
use crate::ui::protocol::{
    ChannelStatus, EndpointView, ExistingCase, LiveChannels, PanelRequest, ProtocolForms, ProtocolView,
    StartChoice, StartForm, protocol_panels_ui, shows_live_traces, start_ui,
};
use crate::ui::theme;
use crate::ui::top_bar::TopBarInfo;
use crate::ui::upload::CaseUploads;
use crate::upload::worker::UploadStatus;

use super::Command;
use super::case_writer::{AnalysedWindow, CaseWriter, Opening, Reply, Transition};
use super::endpoints::endpoint_view;

/// Recording time between two quality reports of a running capture, s.
const CAPTURE_FEED_INTERVAL_S: f64 = 0.5;

/// Steers the simulated patient (given to the app when its source is the simulator).
pub type PatientControl = Box<dyn Fn(Control) -> Result<(), String>>;

/// The protocol of the open case.
pub struct ProtocolSession {
    /// The protocol state.
    pub state: State,
    /// What the operator is typing.
    pub forms: ProtocolForms,
    /// The case file's writer.
    writer: CaseWriter,
    /// The case file, once the writer has it ready.
    path: Option<PathBuf>,
    /// Whether the case runs on the simulated patient.
    demo: bool,
    /// Saved windows and their analyses, oldest first.
    windows: Vec<AnalysedWindow>,
    /// The endpoint panel's content.
    endpoints: Option<EndpointView>,
    /// A capture progress report not recorded yet: recorded just before the next recorded event, so that
    /// replaying the case gives the same capture quality.
    unrecorded_progress: Option<(Event, Moment)>,
    /// Recording time of the last quality report.
    last_feed_s: f64,
}

/// The time now: wall clock, and the recording time of the first source's newest sample.
pub fn moment_now(shown: &LiveState) -> Moment {
    let recording_s = shown
        .sources
        .first()
        .filter(|source| source.spec.sample_rate_hz > 0.0)
        .map_or(0.0, |source| {
            source.end_sample() as f64 / source.spec.sample_rate_hz
        });
    Moment {
        utc: Utc::now(),
        recording_s,
    }
}

impl ProtocolSession {
    /// A new case: `set_up` (an [`Event::SetUpCase`]) is checked by the state machine first; the file is created
    /// in `dir` only when it is accepted.
    pub fn create(set_up: Event, dir: &Path, demo: bool, now: Moment) -> Result<ProtocolSession, String> {
        let (state, effects) =
            handle(&State::new(), set_up.clone(), now).map_err(|refusal| refusal.to_string())?;
        let case = state.case.clone().ok_or("the case was not set up")?;
        let opening = Opening::Create {
            dir: dir.to_owned(),
            case_id: case.case_id,
            operator: case.operator.clone(),
        };
        let mut session = ProtocolSession::start(opening, demo, now)?;
        session.state = state;
        session.record(set_up, now, effects);
        Ok(session)
    }

    /// A demo case on the simulated patient, with the next free `HER-DEM` id in `dir`.
    pub fn demo(operator: &str, dir: &Path, now: Moment) -> Result<ProtocolSession, String> {
        let case_id = super::case_writer::next_demo_case_id(dir)?;
        let set_up = Event::SetUpCase {
            case_id: case_id.to_string(),
            site: Site::Dem,
            operator: operator.to_owned(),
        };
        ProtocolSession::create(set_up, dir, true, now)
    }

    /// An existing case file: its protocol is rebuilt from the events it holds once the writer has read them.
    pub fn open(path: &Path, now: Moment) -> Result<ProtocolSession, String> {
        let demo = path
            .file_stem()
            .and_then(|stem| stem.to_str()?.parse::<CaseId>().ok())
            .is_some_and(|id| id.site() == Site::Dem);
        ProtocolSession::start(
            Opening::Open {
                path: path.to_owned(),
            },
            demo,
            now,
        )
    }

    fn start(opening: Opening, demo: bool, now: Moment) -> Result<ProtocolSession, String> {
        let writer = CaseWriter::start(opening)
            .map_err(|error| format!("could not start the case writer: {error}"))?;
        Ok(ProtocolSession {
            state: State::new(),
            forms: ProtocolForms::default(),
            writer,
            path: None,
            demo,
            windows: Vec::new(),
            endpoints: None,
            unrecorded_progress: None,
            last_feed_s: now.recording_s,
        })
    }

    /// Whether the case runs on the simulated patient.
    pub fn demo_case(&self) -> bool {
        self.demo
    }

    /// The case file, once open.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The endpoint panel's content, once a baseline window is analysed.
    pub fn endpoints(&self) -> Option<&EndpointView> {
        self.endpoints.as_ref()
    }

    /// The analysed windows, oldest first.
    pub fn windows(&self) -> &[AnalysedWindow] {
        &self.windows
    }

    /// Who acts in this case (its operator), or why nobody can: a case being set up has none yet, and a
    /// signed-off case takes no more records.
    pub fn acting_operator(&self) -> Result<String, String> {
        if self.state.signed_off.is_some() {
            return Err("the case is signed off: it takes no more calibrations".to_owned());
        }
        self.state
            .case
            .as_ref()
            .map(|case| case.operator.clone())
            .ok_or_else(|| "the case is not set up yet".to_owned())
    }

    /// Stores a calibration in the case (through the writer, in order with the protocol records).
    pub fn calibrate(&mut self, record: CalibrationRecord) {
        self.writer.calibrate(record);
    }

    /// Protocol records not yet handed to the writer thread.
    pub fn num_unwritten(&self) -> usize {
        self.writer.num_waiting()
    }

    /// Continues saving the case in `folder` (the case file cannot be written where it is: NOT SAVING); the
    /// outcome comes back as a message, and the case's path changes when it worked.
    pub fn save_elsewhere(&mut self, folder: std::path::PathBuf) {
        self.forms.message = Some(format!("Moving the case to {}…", folder.display()));
        self.writer.relocate(folder);
    }

    /// Applies an operator's (or the capture feed's) event at `now`; a refusal is shown to the operator.
    pub fn apply(&mut self, event: Event, now: Moment, patient: Option<&PatientControl>) {
        match handle(&self.state, event.clone(), now) {
            Ok((state, effects)) => {
                self.state = state;
                self.forms.message = None;
                if let Some(patient) = patient.filter(|_| self.demo) {
                    self.steer(patient, &effects);
                }
                if matches!(event, Event::CaptureProgress(_)) && effects.is_empty() {
                    self.unrecorded_progress = Some((event, now));
                } else {
                    self.record(event, now, effects);
                }
            }
            Err(refusal) => self.forms.message = Some(refusal.to_string()),
        }
    }

    fn record(&mut self, event: Event, at: Moment, effects: Vec<Effect>) {
        let who = self
            .state
            .case
            .as_ref()
            .map(|case| case.operator.clone())
            .unwrap_or_default();
        if let Some((progress, progress_at)) = self.unrecorded_progress.take() {
            self.writer
                .record(self.transition(progress, progress_at, Vec::new(), who.clone()));
        }
        self.writer.record(self.transition(event, at, effects, who));
    }

    fn transition(&self, event: Event, at: Moment, effects: Vec<Effect>, who: String) -> Transition {
        Transition {
            event,
            at,
            effects,
            device: self.state.device,
            ecmo: self.state.ecmo,
            who,
        }
    }

    /// Gives the simulated patient what the protocol just recorded.
    fn steer(&mut self, patient: &PatientControl, effects: &[Effect]) {
        for effect in effects {
            let controls = patient_controls(effect);
            for control in controls {
                if let Err(error) = patient(control) {
                    self.forms.message =
                        Some(format!("The simulated patient did not take {control:?}: {error}"));
                }
            }
        }
    }

    /// Once per frame: takes the writer's replies (attaching the recorder when the file is ready) and feeds a
    /// running capture.
    pub fn tick(&mut self, shown: &LiveState, engine: &Engine, patient: Option<&PatientControl>) {
        for reply in self.writer.replies() {
            match reply {
                Reply::Ready {
                    path,
                    recorder,
                    replay,
                    windows,
                    calibrations,
                } => {
                    self.path = Some(path);
                    restore_calibrations(engine, &calibrations);
                    if let Some(recorder) = recorder
                        && let Err(error) = engine.start_recording(recorder)
                    {
                        self.forms.message = Some(format!("Recording could not start: {error}"));
                    }
                    self.replay(replay);
                    self.windows = windows;
                    self.refresh_endpoints();
                }
                Reply::Analysed(window) => {
                    self.windows.push(*window);
                    self.refresh_endpoints();
                }
                Reply::Notice(message) | Reply::Failed(message) => self.forms.message = Some(message),
                Reply::Relocated(path) => {
                    self.forms.message = Some(format!(
                        "Saving again: the case continues in {} (the move is in its audit trail)",
                        path.display()
                    ));
                    self.path = Some(path);
                }
            }
        }
        let Some(capture) = self.state.capture.as_ref().filter(|capture| capture.running()) else {
            return;
        };
        let now = moment_now(shown);
        if now.recording_s - self.last_feed_s < CAPTURE_FEED_INTERVAL_S {
            return;
        }
        self.last_feed_s = now.recording_s;
        let quality = capture_quality(shown, capture.kind, capture.started.recording_s);
        self.apply(Event::CaptureProgress(quality), now, patient);
    }

    /// Rebuilds the state of a reopened case from its recorded events.
    fn replay(&mut self, events: Vec<(Event, Moment)>) {
        if events.is_empty() {
            return;
        }
        let mut state = State::new();
        for (number, (event, at)) in events.into_iter().enumerate() {
            match handle(&state, event, at) {
                Ok((next, _)) => state = next,
                Err(refusal) => {
                    self.forms.message = Some(format!(
                        "The case's protocol could be rebuilt only up to event {number}: {refusal}"
                    ));
                    break;
                }
            }
        }
        self.state = state;
    }

    fn refresh_endpoints(&mut self) {
        let post_label = self.state.device.describe();
        self.endpoints = endpoint_view(&self.windows, &post_label);
    }

    /// The top bar's step name.
    pub fn step_title(&self) -> &'static str {
        self.state.current.title()
    }
}

/// The live status of every channel, from the engine's sources.
pub fn live_channels(shown: &LiveState) -> LiveChannels {
    let mut live = LiveChannels::default();
    for kind in SignalKind::ALL {
        if let Some((source, _)) = find_channel(shown, kind) {
            let connected = shown.sources.get(source).is_some_and(|s| s.connected);
            live.set(
                kind,
                if connected {
                    ChannelStatus::Live
                } else {
                    ChannelStatus::Disconnected
                },
            );
        }
    }
    live
}

/// The quality of a capture of `kind` that started at `start_s`: beats found and judged by `signal/` on the
/// capture's samples still held in the live ring buffers, and the ECMO flow over them.
fn capture_quality(shown: &LiveState, kind: WindowKind, start_s: f64) -> CaptureQuality {
    let Some(first) = kind.channels().iter().find_map(|kind| find_channel(shown, *kind)) else {
        return CaptureQuality {
            no_beats_reason: Some("none of its channels is connected".into()),
            ..Default::default()
        };
    };
    let Some(source) = shown.sources.get(first.0) else {
        return CaptureQuality::default();
    };
    let rate = source.spec.sample_rate_hz;
    let from = (start_s * rate).round().max(0.0) as u64;
    let to = source.end_sample();
    let mut buffer = Vec::new();
    let mut first_sample = from;
    let mut read = |channel: Option<usize>| -> Option<Vec<f64>> {
        let ring = source.channels.get(channel?)?;
        first_sample = ring.copy_range(from, to, &mut buffer);
        Some(buffer.iter().map(|v| f64::from(*v)).collect())
    };
    let wanted = |signal| {
        kind.channels()
            .contains(&signal)
            .then(|| source.spec.channel_index(signal))
            .flatten()
    };
    let [ecg, pa, pd, ipv, lvp, lvv] = [
        SignalKind::Ecg,
        SignalKind::Pa,
        SignalKind::Pd,
        SignalKind::Ipv,
        SignalKind::Lvp,
        SignalKind::Lvv,
    ]
    .map(|signal| read(wanted(signal)));
    let flow = read(source.spec.channel_index(SignalKind::EcmoFlow)).unwrap_or_default();
    let signals = Signals {
        first_sample,
        ecg: ecg.as_deref(),
        pa: pa.as_deref(),
        pd: pd.as_deref(),
        ipv: ipv.as_deref(),
        lvp: lvp.as_deref(),
        lvv: lvv.as_deref(),
    };
    match segment(&signals, rate, &SignalSettings::default()) {
        Ok(segmentation) => {
            let mut quality = CaptureQuality::assess(&segmentation.beats, rate, &flow);
            quality.no_beats_reason = segmentation.no_beats_reason;
            quality
        }
        Err(error) => CaptureQuality {
            no_beats_reason: Some(error.to_string()),
            ..Default::default()
        },
    }
}

/// The start screen's state: the form, the case files found, and what went wrong last.
#[derive(Default)]
pub struct StartScreen {
    /// The new-case form.
    pub form: StartForm,
    /// The case files in the data folder, newest first.
    pub cases: Vec<ExistingCase>,
    /// Why the last choice could not be carried out.
    pub message: Option<String>,
    listing: Option<Receiver<Result<Vec<ExistingCase>, String>>>,
}

impl StartScreen {
    /// Lists the case files of the data folder again (on a thread of its own; the list appears when read).
    pub fn refresh(&mut self, data_dir: Option<&Path>) {
        let dir = match store::data_dir(data_dir) {
            Ok(dir) => dir,
            Err(error) => {
                self.message = Some(error.to_string());
                return;
            }
        };
        let (tx, rx) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("case-listing".into())
            .spawn(move || {
                // The start screen may have been left meanwhile; then nobody needs the list.
                let _ = tx.send(list_cases(&dir));
            });
        match spawned {
            Ok(_) => self.listing = Some(rx),
            Err(error) => self.message = Some(format!("could not list the case files: {error}")),
        }
    }

    /// Takes the case list once it has been read.
    pub fn poll(&mut self) {
        let Some(listing) = &self.listing else { return };
        match listing.try_recv() {
            Ok(Ok(cases)) => {
                self.cases = cases;
                self.listing = None;
            }
            Ok(Err(message)) => {
                self.message = Some(message);
                self.listing = None;
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => self.listing = None,
        }
    }

    /// Draws the start screen with each case's upload state from `uploads`; the choice becomes a
    /// [`Command::Start`], an upload asked for a [`Command::Upload`].
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        uploads: &UploadStatus,
        unsigned_reason: &mut String,
        commands: &mut Vec<Command>,
    ) {
        egui::CentralPanel::default().show(ui, |ui| {
            let mut upload = CaseUploads {
                status: uploads,
                reason: unsigned_reason,
                actions: Vec::new(),
            };
            let choice = start_ui(
                ui,
                &mut self.form,
                &self.cases,
                &mut upload,
                self.message.as_deref(),
            );
            if let Some(choice) = choice {
                commands.push(Command::Start(choice));
            }
            commands.extend(upload.actions.into_iter().map(Command::Upload));
        });
    }

    /// Opens the case chosen. On the simulated patient only demo cases can be created or continued: a trial
    /// case must never hold simulated samples.
    pub fn open_case(
        &mut self,
        choice: StartChoice,
        data_dir: Option<&Path>,
        on_simulator: bool,
        now: Moment,
    ) -> Result<ProtocolSession, String> {
        let dir = store::data_dir(data_dir).map_err(|error| error.to_string())?;
        let trial_on_simulator = "The workstation is running on the simulated patient: a trial case needs the \
                                  consoles connected. Start a demo case to practise.";
        let session = match choice {
            StartChoice::NewCase(_) | StartChoice::Open(_) if on_simulator && !is_demo(&choice) => {
                return Err(trial_on_simulator.to_owned());
            }
            StartChoice::NewCase(event) => ProtocolSession::create(event, &dir, false, now)?,
            StartChoice::Demo { operator } => ProtocolSession::demo(&operator, &dir, now)?,
            StartChoice::Open(path) => ProtocolSession::open(&path, now)?,
            StartChoice::Review(_) => {
                return Err("a case is reviewed on the review screen, not run".to_owned());
            }
        };
        self.message = None;
        Ok(session)
    }
}

/// Whether a start choice concerns a demo case.
fn is_demo(choice: &StartChoice) -> bool {
    match choice {
        StartChoice::Demo { .. } => true,
        StartChoice::NewCase(Event::SetUpCase { site, .. }) => *site == Site::Dem,
        StartChoice::NewCase(_) => false,
        StartChoice::Open(path) | StartChoice::Review(path) => path
            .file_stem()
            .and_then(|stem| stem.to_str()?.parse::<CaseId>().ok())
            .is_some_and(|id| id.site() == Site::Dem),
    }
}

/// The case files of `dir` with a line about each, newest first.
fn list_cases(dir: &Path) -> Result<Vec<ExistingCase>, String> {
    let files = store::list_case_files(dir).map_err(|error| error.to_string())?;
    let mut cases: Vec<(String, ExistingCase)> = files
        .into_iter()
        .filter_map(|path| {
            let case_id = path.file_stem()?.to_str()?.parse::<CaseId>().ok()?;
            let (created, summary) = match CaseFile::open_read_only(&path).and_then(|file| file.summary()) {
                Ok(summary) => {
                    let allocation = summary
                        .allocation
                        .map(|a| format!(", {}", a.key()))
                        .unwrap_or_default();
                    let text = format!(
                        "{}, {:.0} min recorded{allocation}, created {}",
                        summary.status.replace('_', " "),
                        summary.duration_s / 60.0,
                        summary.created_utc.get(..16).unwrap_or(&summary.created_utc)
                    );
                    (summary.created_utc, text)
                }
                Err(error) => (String::new(), format!("cannot be read: {error}")),
            };
            Some((
                created,
                ExistingCase {
                    case_id,
                    path,
                    summary,
                },
            ))
        })
        .collect();
    cases.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(cases.into_iter().map(|(_, case)| case).collect())
}

/// Puts the newest stored calibration of each channel of a reopened case back in force on the live channel (the
/// case file applies it to everything recorded after it, so the live view must too). Channels of sources that
/// are not connected are left alone.
fn restore_calibrations(engine: &Engine, calibrations: &[CalibrationRecord]) {
    let mut state = engine.lock();
    // Oldest first, so the newest of each channel is the one left in force.
    for record in calibrations {
        let Some(live) = state.sources.iter_mut().find(|s| s.spec.id == record.source) else {
            continue;
        };
        if let Err(error) = live.calibrate(&record.channel, record.calibration) {
            log::warn!("stored calibration of {} not restored: {error}", record.channel);
        }
    }
}

/// The top bar's case and step.
pub fn top_bar_info(session: Option<&ProtocolSession>) -> TopBarInfo {
    let Some(session) = session else {
        return TopBarInfo::default();
    };
    let case_id = session.state.case.as_ref().map(|case| {
        if session.demo_case() {
            format!("{} (demo, simulated patient)", case.case_id)
        } else {
            case.case_id.to_string()
        }
    });
    let step = format!("{}. {}", session.state.current as usize + 1, session.step_title());
    TopBarInfo {
        case_id,
        step: Some(step),
    }
}

/// The bar under the live monitor when no case is open: the way to the start screen.
pub fn no_case_bar_ui(ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    egui::Panel::bottom("protocol-no-case").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new("No case open: nothing is being recorded.").color(theme::TEXT_DIM));
            if ui
                .button(RichText::new("New, open or demo case").size(theme::BUTTON_SIZE))
                .clicked()
            {
                commands.push(Command::ShowStart);
            }
        });
    });
}

/// The protocol panels of the open case around the live monitor; returns whether the live traces should be
/// drawn in the space left.
pub fn protocol_panels(
    ui: &mut egui::Ui,
    session: &mut ProtocolSession,
    shown: &LiveState,
    commands: &mut Vec<Command>,
) -> bool {
    let live = live_channels(shown);
    let recording = shown.recording.active;
    let ProtocolSession {
        state,
        forms,
        endpoints,
        ..
    } = session;
    let view = ProtocolView {
        state,
        live: &live,
        endpoints: endpoints.as_ref(),
        now: Utc::now(),
        recording,
    };
    match protocol_panels_ui(ui, view, forms) {
        Some(PanelRequest::Event(event)) => commands.push(Command::Protocol(event)),
        Some(PanelRequest::CloseCase) => commands.push(Command::CloseCase),
        Some(PanelRequest::Pressures(action)) => commands.push(Command::Pressures(action)),
        None => {}
    }
    shows_live_traces(state.current, recording)
}

/// What the simulated patient of a demo case is told when the protocol records `effect`: the device and ECMO flow
/// as recorded (the minimum support for the within-session CDFR reference and back), adenosine during a
/// hyperaemic capture, an IVC occlusion during an end-expiratory ventilator hold at the start of a preload
/// reduction (the breath under way finishes first), and breathing again when that capture ends.
fn patient_controls(effect: &Effect) -> Vec<Control> {
    let flow = |l_min| Control::EcmoFlow { target_l_min: l_min };
    match effect {
        Effect::DeviceRecorded { device, ecmo, .. } => vec![Control::Device(*device), flow(ecmo.flow_l_min)],
        Effect::EcmoRecorded { settings, .. } => vec![flow(settings.flow_l_min)],
        Effect::MinimumSupportRecorded { device, .. } | Effect::TargetSupportRestored { device, .. } => {
            vec![Control::Device(*device)]
        }
        Effect::CaptureStarted {
            kind: WindowKind::CoronaryHyperaemia,
            ..
        } => vec![Control::Hyperaemia(true)],
        Effect::CaptureFinished {
            kind: WindowKind::CoronaryHyperaemia,
            ..
        }
        | Effect::CaptureDiscarded {
            kind: WindowKind::CoronaryHyperaemia,
            ..
        } => vec![Control::Hyperaemia(false)],
        Effect::CaptureStarted {
            kind: WindowKind::PvPreloadReduction,
            ..
        } => vec![Control::Ventilation(false), Control::PreloadReduction],
        Effect::CaptureFinished {
            kind: WindowKind::PvPreloadReduction,
            ..
        }
        | Effect::CaptureDiscarded {
            kind: WindowKind::PvPreloadReduction,
            ..
        } => vec![Control::Ventilation(true)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImpellaModel, ImpellaSettings, StepId, UnloadingDevice};

    #[test]
    fn the_demo_patient_follows_the_device_to_minimum_support_and_back() {
        let impella = |p_level| {
            UnloadingDevice::Impella(ImpellaSettings {
                model: ImpellaModel::ImpellaCp,
                p_level,
                displayed_flow_l_min: None,
            })
        };
        let at = Moment {
            utc: Utc::now(),
            recording_s: 10.0,
        };
        let effects = [
            Effect::MinimumSupportRecorded {
                device: impella(2),
                at,
            },
            Effect::TargetSupportRestored {
                device: impella(6),
                at,
            },
        ];
        let controls: Vec<Vec<Control>> = effects.iter().map(patient_controls).collect();
        assert_eq!(
            controls,
            [
                vec![Control::Device(impella(2))],
                vec![Control::Device(impella(6))]
            ]
        );
        // The capture itself changes nothing: the device was set when the operator recorded it.
        let started = Effect::CaptureStarted {
            step: StepId::PostCoronary,
            kind: WindowKind::CoronaryRestMinimumSupport,
            at,
            target: crate::protocol::CaptureTarget::default_for(WindowKind::CoronaryRestMinimumSupport),
        };
        assert!(patient_controls(&started).is_empty());
    }

    #[test]
    fn the_demo_patient_is_occluded_during_a_ventilator_hold_and_breathes_again_after() {
        let at = Moment {
            utc: Utc::now(),
            recording_s: 10.0,
        };
        let (step, kind) = (StepId::BaselinePv, WindowKind::PvPreloadReduction);
        let started = Effect::CaptureStarted {
            step,
            kind,
            at,
            target: crate::protocol::CaptureTarget::default_for(kind),
        };
        assert_eq!(
            patient_controls(&started),
            [Control::Ventilation(false), Control::PreloadReduction]
        );
        let discarded = Effect::CaptureDiscarded {
            step,
            kind,
            start: at,
            at,
        };
        assert_eq!(patient_controls(&discarded), [Control::Ventilation(true)]);
    }
}
