//! The case file as the guided protocol writes it: a named thread that creates (or opens) the case file, hands
//! the engine a recorder for it, then records every accepted protocol transition in order. For each one it keeps
//! the event itself (so reopening the case replays the protocol exactly) and the human-readable records a
//! reviewer reads: protocol steps with their device and ECMO settings, markers, eligibility answers, checklist
//! ticks, the allocation, captures, analysis windows with their beats and results, and the sign-off. Saving a
//! window stores it with the case's analysis settings and hands it to the review's `recompute` (the one path:
//! [`crate::analysis::window::analyse_window`]), which stores its report, beats and the case results (CDFR,
//! resistances); the writer does not analyse anything itself.
//!
//! The UI never waits for it: jobs go through a bounded queue (when it is full the session keeps them in order
//! and offers them again next frame, so nothing is dropped) and replies come back through another.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::acquisition::calibration::{CalibrationRecord, store_calibration, stored_calibrations};
use crate::analysis::ALGORITHM_VERSION;
use crate::analysis::pipeline::Report;
use crate::analysis::window::WindowSettings;
use crate::model::{CaseId, EcmoSettings, Recording, StepId, UnloadingDevice};
use crate::protocol::{Arm, Effect, Event, Moment, WindowKind};
use crate::review::analysis::{CaseAnalysis, ReviewError, Scope, case_settings, recompute};
use crate::review::endpoints::{
    EndpointRow, MEASUREMENT_CONTEXT, PD_EQUALISATION, PRESSURE_ZERO, endpoint_table,
};
use crate::review::follow_up::RandomisationEntry;
use crate::review::sign_off::{self, current_results};
use crate::store::{
    self, AnalysisWindow, CaseFile, Recorder, RecorderOptions, Relocator, ResultRecord, StoreError,
};

/// Jobs waiting for the writer thread, at most (the session holds any more, in order).
const JOB_QUEUE_LEN: usize = 64;

/// Replies waiting for the UI, at most (the writer waits when the UI has not drained them).
const REPLY_QUEUE_LEN: usize = 64;

/// How long the writer waits for the recorder to commit a saved window's samples before analysing what is there.
const COMMIT_WAIT: Duration = Duration::from_secs(5);

/// Event kind of the rows that hold the accepted protocol events, replayed when a case is reopened.
pub const PROTOCOL_EVENT_KIND: &str = crate::review::markers::PROTOCOL_MARKER_KIND;

/// Result name of a saved window's representative pressure-volume loop.
pub const LOOP_RESULT: &str = "representative_loop";

/// Longest representative loop kept, in points.
const MAX_LOOP_POINTS: usize = 400;

/// How the writer gets its case file.
#[derive(Clone, Debug)]
pub enum Opening {
    /// Create the file of a new case in `dir`.
    Create {
        /// The data folder.
        dir: PathBuf,
        /// The case.
        case_id: CaseId,
        /// Who sets it up.
        operator: String,
    },
    /// Open an existing case file.
    Open {
        /// The file.
        path: PathBuf,
    },
}

/// One accepted protocol transition, with what the writer needs to record it.
#[derive(Clone, Debug)]
pub struct Transition {
    /// The event.
    pub event: Event,
    /// When it happened.
    pub at: Moment,
    /// What the state machine asked to record.
    pub effects: Vec<Effect>,
    /// The device in place after it.
    pub device: UnloadingDevice,
    /// The ECMO settings in force after it.
    pub ecmo: Option<EcmoSettings>,
    /// Who did it (the case's operator).
    pub who: String,
}

/// A stored protocol event: what the replay reads back, and the event in words for every reader
/// ([`crate::review::markers::marker_words`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredEvent {
    event: Event,
    at: Moment,
    #[serde(default)]
    words: String,
}

/// A saved window and its analysis.
#[derive(Clone, Debug)]
pub struct AnalysedWindow {
    /// The step it was captured in.
    pub step: StepId,
    /// What it measures.
    pub kind: WindowKind,
    /// Its row in the case file.
    pub window_id: i64,
    /// The pipeline's report of it.
    pub report: Report,
    /// A representative loop (volume mL, pressure mmHg): the last accepted beat.
    pub loop_points: Vec<[f64; 2]>,
    /// The case's endpoint table after this window was analysed (the rows the review and exports show).
    pub table: Vec<EndpointRow>,
}

/// What the writer tells the session.
pub enum Reply {
    /// The file is ready and recording can start; for a reopened case, the events to replay and the windows
    /// already analysed.
    Ready {
        /// The case file.
        path: PathBuf,
        /// The recorder for the engine (`None` for a signed-off case: it is open for viewing, not recording).
        recorder: Option<Box<Recorder>>,
        /// Accepted protocol events, oldest first (empty for a new case).
        replay: Vec<(Event, Moment)>,
        /// Windows already analysed (empty for a new case).
        windows: Vec<AnalysedWindow>,
        /// Calibrations stored in the case, oldest first (empty for a new case): the newest of each channel is
        /// put back in force on the live channel.
        calibrations: Vec<CalibrationRecord>,
    },
    /// A saved window has been analysed and stored (with the case's endpoint table, CDFR included).
    Analysed(Box<AnalysedWindow>),
    /// Something the operator should know (e.g. free text that looks like an identifier).
    Notice(String),
    /// Writing failed; the message says what was not saved.
    Failed(String),
    /// The recording continues in this case file in another folder (after [`CaseWriter::relocate`]).
    Relocated(PathBuf),
}

enum Job {
    Record(Box<Transition>),
    Calibrate(Box<CalibrationRecord>),
    Relocate(PathBuf),
}

/// The writer thread and its queues.
pub struct CaseWriter {
    jobs: SyncSender<Job>,
    replies: Receiver<Reply>,
    backlog: VecDeque<Job>,
    thread: Option<JoinHandle<()>>,
}

impl CaseWriter {
    /// Starts the writer thread on `opening`; its first reply is [`Reply::Ready`] or [`Reply::Failed`].
    pub fn start(opening: Opening) -> std::io::Result<CaseWriter> {
        let (jobs, job_rx) = sync_channel(JOB_QUEUE_LEN);
        let (reply_tx, replies) = sync_channel(REPLY_QUEUE_LEN);
        let thread = std::thread::Builder::new()
            .name("case-writer".into())
            .spawn(move || run(opening, job_rx, reply_tx))?;
        Ok(CaseWriter {
            jobs,
            replies,
            backlog: VecDeque::new(),
            thread: Some(thread),
        })
    }

    /// Queues a transition to be recorded (in order, never dropped).
    pub fn record(&mut self, transition: Transition) {
        self.backlog.push_back(Job::Record(Box::new(transition)));
        self.flush();
    }

    /// Queues a calibration to be stored (in order with the transitions, never dropped).
    pub fn calibrate(&mut self, record: CalibrationRecord) {
        self.backlog.push_back(Job::Calibrate(Box::new(record)));
        self.flush();
    }

    /// Asks for the recording (and this writer) to continue in `folder`, when the case file cannot be written
    /// where it is; answered with [`Reply::Relocated`] or [`Reply::Failed`]. The wait is on the writer's thread.
    pub fn relocate(&mut self, folder: PathBuf) {
        self.backlog.push_back(Job::Relocate(folder));
        self.flush();
    }

    /// Offers the backlog to the thread without waiting.
    fn flush(&mut self) {
        while let Some(job) = self.backlog.pop_front() {
            match self.jobs.try_send(job) {
                Ok(()) => {}
                Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                    self.backlog.push_front(job);
                    break;
                }
            }
        }
    }

    /// Replies received so far (offers the backlog again first).
    pub fn replies(&mut self) -> Vec<Reply> {
        self.flush();
        let mut replies = Vec::new();
        loop {
            match self.replies.try_recv() {
                Ok(reply) => replies.push(reply),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.backlog.is_empty() {
                        replies.push(Reply::Failed(format!(
                            "the case writer stopped; {} protocol records were not saved",
                            self.backlog.len()
                        )));
                        self.backlog.clear();
                    }
                    break;
                }
            }
        }
        replies
    }

    /// Transitions not yet handed to the thread.
    pub fn num_waiting(&self) -> usize {
        self.backlog.len()
    }
}

impl Drop for CaseWriter {
    fn drop(&mut self) {
        // Hand over what is left, waiting if need be: closing the case must not lose protocol records. Replies
        // nobody will read now are taken off meanwhile: a thread waiting to deliver one takes no more jobs.
        'backlog: while let Some(mut job) = self.backlog.pop_front() {
            loop {
                match self.jobs.try_send(job) {
                    Ok(()) => break,
                    Err(TrySendError::Disconnected(_)) => break 'backlog,
                    Err(TrySendError::Full(back)) => {
                        job = back;
                        // A reply, or the thread taking a job: either way the thread has moved on.
                        let _ = self.replies.recv_timeout(Duration::from_millis(5));
                    }
                }
            }
        }
        let (jobs, _) = sync_channel(1);
        drop(std::mem::replace(&mut self.jobs, jobs));
        // Let the thread finish its queue; replies it can no longer deliver are dropped with the receiver.
        let (_, replies) = sync_channel(1);
        drop(std::mem::replace(&mut self.replies, replies));
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("the case writer thread panicked");
        }
    }
}

/// The writer's state on its thread.
struct Writer {
    file: CaseFile,
    replies: SyncSender<Reply>,
    /// Row id of each step's open record.
    open_steps: HashMap<StepId, i64>,
    /// Moves the recording to another folder (none for a case opened without a recorder).
    relocator: Option<Relocator>,
}

fn run(opening: Opening, jobs: Receiver<Job>, replies: SyncSender<Reply>) {
    let mut writer = match open(&opening) {
        Ok((file, recorder, replay, windows)) => {
            let path = file.path().to_owned();
            let (calibrations, unreadable) = match stored_calibrations(&file) {
                Ok(stored) => (stored.into_iter().map(|(_, record)| record).collect(), None),
                Err(error) => (Vec::new(), Some(error)),
            };
            let relocator = recorder.as_ref().map(Recorder::relocator);
            let ready = Reply::Ready {
                path,
                recorder: recorder.map(Box::new),
                replay,
                windows,
                calibrations,
            };
            if replies.send(ready).is_err() {
                return;
            }
            if let Some(error) = unreadable {
                let _ = replies.send(Reply::Failed(format!(
                    "the case's calibrations could not be read, so none is in force: {error}"
                )));
            }
            // A reopened case continues the step it was left in: its record is still open.
            let open_steps = file
                .steps()
                .map(|steps| {
                    steps
                        .into_iter()
                        .filter(|s| s.ended_utc.is_none())
                        .map(|s| (s.step, s.id))
                        .collect()
                })
                .unwrap_or_default();
            Writer {
                file,
                replies,
                open_steps,
                relocator,
            }
        }
        Err(error) => {
            let _ = replies.send(Reply::Failed(error.to_string()));
            return;
        }
    };
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Record(transition) => {
                if let Err(error) = writer.record(&transition) {
                    writer.reply(Reply::Failed(format!(
                        "recording {:?} in the case file failed: {error}",
                        transition.event
                    )));
                }
            }
            Job::Calibrate(record) => {
                if let Err(error) = store_calibration(&mut writer.file, &record) {
                    writer.reply(Reply::Failed(format!(
                        "the calibration of {} was applied but not saved in the case file: {error}",
                        record.channel
                    )));
                }
            }
            Job::Relocate(folder) => {
                let reply = writer.relocate(&folder);
                writer.reply(reply);
            }
        }
    }
}

type Opened = (
    CaseFile,
    Option<Recorder>,
    Vec<(Event, Moment)>,
    Vec<AnalysedWindow>,
);

/// Creates or opens the file, reads what a reopened case needs, and starts a recorder on a second connection.
fn open(opening: &Opening) -> Result<Opened, StoreError> {
    let file = match opening {
        Opening::Create {
            dir,
            case_id,
            operator,
        } => CaseFile::create(dir, *case_id, operator)?,
        Opening::Open { path } => CaseFile::open(path)?,
    };
    let mut stored: Vec<(i64, StoredEvent)> = file
        .events()?
        .into_iter()
        .filter(|event| event.kind == PROTOCOL_EVENT_KIND)
        .map(|event| {
            serde_json::from_str(&event.text)
                .map(|stored| (event.id, stored))
                .map_err(|error| {
                    StoreError::Invalid(format!("protocol event {} cannot be read: {error}", event.id))
                })
        })
        .collect::<Result<_, _>>()?;
    stored.sort_by_key(|(id, _)| *id);
    let replay = stored
        .into_iter()
        .map(|(_, stored)| (stored.event, stored.at))
        .collect();
    let windows = stored_windows(&file)?;
    let recorder = match file.summary()?.status.as_str() {
        "signed_off" => None,
        _ => Some(Recorder::start(
            CaseFile::open(file.path())?,
            RecorderOptions::default(),
        )?),
    };
    Ok((file, recorder, replay, windows))
}

/// The analysed windows stored in the file, each with the case's current report and table (newest per step and
/// kind win when the session rebuilds them).
fn stored_windows(file: &CaseFile) -> Result<Vec<AnalysedWindow>, StoreError> {
    let analysis = CaseAnalysis::read(file).map_err(|error| StoreError::Invalid(error.to_string()))?;
    let table = case_table(file)?;
    let results = file.results()?;
    let mut analysed = Vec::new();
    for (window, kind, _) in &analysis.windows {
        let (Some(step), Some(kind)) = (window.step, *kind) else {
            continue;
        };
        let Some(report) = analysis.reports.get(&window.id).cloned() else {
            continue;
        };
        let loop_points = results
            .iter()
            .rev()
            .find(|r| r.window_id == Some(window.id) && r.name == LOOP_RESULT)
            .and_then(|r| serde_json::from_value(r.value.clone()).ok())
            .unwrap_or_default();
        analysed.push(AnalysedWindow {
            step,
            kind,
            window_id: window.id,
            report,
            loop_points,
            table: table.clone(),
        });
    }
    Ok(analysed)
}

impl Writer {
    fn reply(&self, reply: Reply) {
        // The UI is gone only when the app is closing; nothing is left to tell.
        let _ = self.replies.send(reply);
    }

    /// Has the recorder continue in `folder`, then writes the protocol's records there too.
    fn relocate(&mut self, folder: &Path) -> Reply {
        let Some(relocator) = &self.relocator else {
            return Reply::Failed("this case is not recording: there is nothing to move".into());
        };
        match relocator.relocate(folder) {
            Ok(path) => match CaseFile::open(&path) {
                Ok(file) => {
                    self.file = file;
                    Reply::Relocated(path)
                }
                Err(error) => Reply::Failed(format!(
                    "the samples are saved in {}, but the protocol's records cannot be written there: {error}",
                    path.display()
                )),
            },
            Err(message) => Reply::Failed(format!(
                "Still NOT SAVING: the case could not continue in {}: {message}",
                folder.display()
            )),
        }
    }

    fn marker(&mut self, who: &str, at: &Moment, kind: &str, text: &str) -> Result<(), StoreError> {
        let saved = self.file.add_marker(who, at.recording_s, kind, text)?;
        for warning in saved.warnings {
            self.reply(Reply::Notice(format!(
                "The note \"{text}\" may hold a patient identifier: {warning}"
            )));
        }
        Ok(())
    }

    fn record(&mut self, transition: &Transition) -> Result<(), StoreError> {
        let Transition {
            event,
            at,
            effects,
            who,
            ..
        } = transition;
        let stored = StoredEvent {
            event: event.clone(),
            at: *at,
            words: event.describe(),
        };
        let text = serde_json::to_string(&stored).map_err(|error| StoreError::Invalid(error.to_string()))?;
        self.file
            .add_marker(who, at.recording_s, PROTOCOL_EVENT_KIND, &text)?;
        for effect in effects {
            self.apply(transition, effect)?;
        }
        Ok(())
    }

    fn apply(&mut self, transition: &Transition, effect: &Effect) -> Result<(), StoreError> {
        let who = transition.who.as_str();
        match effect {
            Effect::CaseCreated { .. } => {}
            Effect::StepStarted {
                step,
                at,
                device,
                ecmo,
                ..
            } => {
                let id =
                    self.file
                        .start_step(who, *step, Some(at.recording_s), Some(device), ecmo.as_ref())?;
                self.open_steps.insert(*step, id);
            }
            Effect::StepEnded {
                step,
                at,
                unticked,
                acknowledged,
                ..
            } => {
                if let Some(id) = self.open_steps.remove(step) {
                    let ecmo = transition.ecmo.as_ref();
                    self.file
                        .end_step(who, id, Some(at.recording_s), Some(&transition.device), ecmo)?;
                }
                if !unticked.is_empty() {
                    let text = format!(
                        "{} left with unticked items: {}",
                        step.title(),
                        unticked.join("; ")
                    );
                    self.marker(who, at, "checklist", &text)?;
                }
                for warning in acknowledged {
                    self.marker(who, at, "acknowledged", &format!("{}: {warning}", step.title()))?;
                }
            }
            Effect::ChecklistChanged {
                step,
                item,
                ticked,
                at,
            } => {
                let text = format!(
                    "{}: {item}: {}",
                    step.title(),
                    if *ticked { "ticked" } else { "unticked" }
                );
                self.marker(who, at, "checklist", &text)?;
            }
            Effect::CriterionAnswered {
                criterion,
                answer,
                verdict,
                at,
            } => {
                let text = format!(
                    "{}: {} (verdict: {verdict})",
                    criterion.text(),
                    if *answer { "yes" } else { "no" }
                );
                self.marker(who, at, "eligibility", &text)?;
            }
            Effect::EcmoRecorded { step, settings, at } => {
                self.marker(
                    who,
                    at,
                    "ecmo",
                    &format!("{}: {}", step.title(), settings.describe()),
                )?;
            }
            Effect::PressuresZeroed(zero) => {
                let text = format!("{}: {zero}", StepId::Preparation.title());
                self.marker(who, &zero.at, PRESSURE_ZERO, &text)?;
            }
            Effect::PdEqualised(equalisation) => {
                let text = format!("{}: {equalisation}", StepId::Preparation.title());
                self.marker(who, &equalisation.at, PD_EQUALISATION, &text)?;
            }
            Effect::CoronaryContextRecorded { context, at } => {
                self.marker(who, at, MEASUREMENT_CONTEXT, &context.to_string())?;
            }
            Effect::AllocationRecorded(allocation) => {
                let arm = match allocation.arm {
                    Arm::Iabp => store::Allocation::Iabp,
                    Arm::Impella => store::Allocation::Impella,
                };
                self.file.set_allocation(
                    who,
                    arm,
                    &allocation.reference,
                    "allocation recorded from the trial system",
                )?;
                let text = format!(
                    "{} allocated, reference {}, allocated at {} by the trial system",
                    allocation.arm.label(),
                    allocation.reference,
                    allocation.allocated_utc.to_rfc3339()
                );
                self.marker(who, &allocation.recorded, "allocation", &text)?;
                // The allocation time is the follow-up's day 0: stored once, where the follow-up reads it, so
                // the review does not ask for it again.
                let randomisation = RandomisationEntry {
                    randomised_utc: Some(allocation.allocated_utc.to_rfc3339()),
                };
                let data =
                    serde_json::to_value(&randomisation).map_err(|e| StoreError::Invalid(e.to_string()))?;
                self.file.set_follow_up(
                    who,
                    "randomisation",
                    &data,
                    "allocation time recorded at the bedside from the trial system",
                )?;
            }
            Effect::DeviceRecorded {
                device,
                ecmo,
                deviation,
                at,
            } => {
                self.marker(
                    who,
                    at,
                    "device",
                    &format!("{}; ECMO {}", device.describe(), ecmo.describe()),
                )?;
                if let Some(step) = self.open_steps.get(&StepId::DeviceInsertion).copied() {
                    // The step row carries the settings in force; its end time stays open.
                    self.file.end_step(who, step, None, Some(device), Some(ecmo))?;
                }
                if let Some(deviation) = deviation {
                    self.marker(who, at, "deviation", &deviation.to_string())?;
                }
            }
            Effect::MinimumSupportRecorded { device, at } => {
                let text = format!(
                    "{} at minimum support for the within-session CDFR reference",
                    device.describe()
                );
                self.marker(who, at, "device", &text)?;
            }
            Effect::TargetSupportRestored { device, at } => {
                self.marker(
                    who,
                    at,
                    "device",
                    &format!("{} back at its target setting", device.describe()),
                )?;
            }
            Effect::CaptureStarted {
                step,
                kind,
                at,
                target,
            } => {
                let text = format!(
                    "{}: {} capture started (target {:.0} s, {} consecutive accepted beats)",
                    step.title(),
                    kind.label(),
                    target.duration_s,
                    target.min_consecutive_beats
                );
                self.marker(who, at, "capture", &text)?;
            }
            Effect::CaptureFinished {
                step,
                kind,
                end,
                reason,
                quality,
                ..
            } => {
                let text = format!(
                    "{}: {} capture {}: {} beats accepted, {} rejected",
                    step.title(),
                    kind.label(),
                    reason.label(),
                    quality.num_beats_accepted,
                    quality.num_beats_rejected
                );
                self.marker(who, end, "capture", &text)?;
            }
            Effect::CaptureDiscarded { step, kind, at, .. } => {
                self.marker(
                    who,
                    at,
                    "capture",
                    &format!("{}: {} capture discarded", step.title(), kind.label()),
                )?;
            }
            Effect::WindowSaved { step, window } => self.save_window(who, *step, window)?,
            Effect::StepSkipped { step, reason, at } => {
                self.marker(who, at, "skip", &format!("{} skipped: {reason}", step.title()))?;
            }
            Effect::Marked { text, at, .. } => self.marker(who, at, "marker", text)?,
            Effect::SignedOff { by, acknowledged, .. } => {
                let mut statement = "I confirm the protocol was carried out as recorded.".to_owned();
                for warning in acknowledged
                    .iter()
                    .filter(|w| !matches!(w, crate::protocol::Warning::SignOffIsFinal))
                {
                    statement.push(' ');
                    statement.push_str(&warning.to_string());
                }
                // Bound to the results digest, like a reviewer's signature: a later change of the results shows.
                sign_off::sign_bound(&mut self.file, by, sign_off::OPERATOR_ROLE, &statement)?;
            }
        }
        Ok(())
    }

    /// Stores a saved window with the case's settings (the shape the review reads), waits for its samples, and
    /// has the review's [`recompute`] analyse it: the bedside and the review get their numbers from the same
    /// function with the same stored settings, and the panel shows the case's endpoint table as review and
    /// exports show it.
    fn save_window(
        &mut self,
        who: &str,
        step: StepId,
        window: &crate::protocol::SavedWindow,
    ) -> Result<(), StoreError> {
        let (start_s, end_s) = (window.start.recording_s, window.end.recording_s);
        self.wait_for_commit(end_s)?;
        // A new window takes the case's analysis settings (with any choice the review changed).
        let case = CaseAnalysis::read(&self.file).map_err(|error| StoreError::Invalid(error.to_string()))?;
        let stored = WindowSettings {
            analysis: Some(case_settings(&case)),
            occlusion_beats: None,
            support: window.support,
        };
        let window_id = self.file.save_analysis_window(
            who,
            &AnalysisWindow {
                id: 0,
                step: Some(step),
                start_s,
                end_s,
                method: window.kind.key().to_owned(),
                settings: stored.json(),
                algorithm_version: ALGORITHM_VERSION.to_owned(),
            },
        )?;
        let analysis = match recompute(&mut self.file, who, Scope::Window(window_id)) {
            Ok(analysis) => analysis,
            Err(ReviewError::Store(error)) => return Err(error),
            Err(error) => {
                self.reply(Reply::Failed(format!(
                    "the {} could not be analysed: {error}",
                    window.kind.label()
                )));
                return Ok(());
            }
        };
        let Some(report) = analysis.reports.get(&window_id).cloned() else {
            self.reply(Reply::Failed(format!(
                "the {} was saved but has no analysis",
                window.kind.label()
            )));
            return Ok(());
        };
        let recording = self.file.recording(Some(start_s), Some(end_s))?;
        let loop_points = representative_loop(&recording, &report);
        self.file.save_result(
            who,
            &ResultRecord {
                id: 0,
                window_id: Some(window_id),
                name: LOOP_RESULT.to_owned(),
                method: window.kind.key().to_owned(),
                settings: stored.json(),
                algorithm_version: report.algorithm_version.clone(),
                value: serde_json::to_value(&loop_points)
                    .map_err(|error| StoreError::Invalid(error.to_string()))?,
            },
        )?;
        let analysed = AnalysedWindow {
            step,
            kind: window.kind,
            window_id,
            report,
            loop_points,
            table: case_table(&self.file)?,
        };
        self.reply(Reply::Analysed(Box::new(analysed)));
        Ok(())
    }

    /// Waits (a few seconds at most) for the recorder to commit every channel up to `end_s`.
    fn wait_for_commit(&self, end_s: f64) -> Result<(), StoreError> {
        let deadline = Instant::now() + COMMIT_WAIT;
        loop {
            let channels = self.file.channels()?;
            let committed = !channels.is_empty()
                && channels
                    .iter()
                    .all(|channel| channel.end_sample as f64 >= end_s * channel.sample_rate_hz);
            if committed || Instant::now() >= deadline {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The case's endpoint table as the review and the exports show it.
fn case_table(file: &CaseFile) -> Result<Vec<EndpointRow>, StoreError> {
    let analysis = CaseAnalysis::read(file).map_err(|error| StoreError::Invalid(error.to_string()))?;
    let results = file.results()?;
    let mut table = endpoint_table(&analysis, &current_results(&results));
    crate::review::endpoints::add_measurement_context(&mut table, &file.events()?);
    Ok(table)
}

/// The last accepted beat's loop (volume, pressure), thinned to at most [`MAX_LOOP_POINTS`] points.
fn representative_loop(recording: &Recording, report: &Report) -> Vec<[f64; 2]> {
    let Some(segment) = recording.segments.first() else {
        return Vec::new();
    };
    let (Some(lvp), Some(lvv)) = (segment.channel("lvp"), segment.channel("lvv")) else {
        return Vec::new();
    };
    let Some(beat) = report.beats.iter().rev().find(|beat| beat.accepted) else {
        return Vec::new();
    };
    let rate = lvp.sample_rate_hz;
    let from = ((beat.time_s - segment.start_s) * rate).round().max(0.0) as usize;
    let to = (from + (beat.duration_s * rate).round() as usize + 1)
        .min(lvp.samples.len())
        .min(lvv.samples.len());
    let step = ((to.saturating_sub(from)) / MAX_LOOP_POINTS).max(1);
    (from..to)
        .step_by(step)
        .map(|i| [lvv.samples[i], lvp.samples[i]])
        .filter(|point| point.iter().all(|v| v.is_finite()))
        .collect()
}

/// The next free demo case id in `dir` (`HER-DEM-0001` when there is none).
pub fn next_demo_case_id(dir: &Path) -> Result<CaseId, String> {
    let files = store::list_case_files(dir).map_err(|error| error.to_string())?;
    let highest = files
        .iter()
        .filter_map(|path| path.file_stem()?.to_str()?.parse::<CaseId>().ok())
        .filter(|id| id.site() == crate::model::Site::Dem)
        .map(|id| id.number())
        .max()
        .unwrap_or(0);
    CaseId::new(crate::model::Site::Dem, highest + 1).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closing the writer while its thread waits to deliver more replies than the reply queue holds, with jobs
    /// still waiting behind a full job queue: the closing side waited for the thread to take a job while the
    /// thread waited for someone to take its reply, for ever. Every job is still recorded.
    #[test]
    fn closing_with_unread_replies_and_a_backlog_records_everything_and_returns() {
        let dir = tempfile::tempdir().unwrap();
        let case_id: CaseId = "HER-TST-0071".parse().unwrap();
        let mut writer = CaseWriter::start(Opening::Create {
            dir: dir.path().to_owned(),
            case_id,
            operator: "tester".into(),
        })
        .unwrap();
        // Each note draws a notice (it looks like a date of birth).
        let text = "born 1956";
        assert!(!store::text_warnings(text).is_empty());
        let at = Moment {
            utc: chrono::Utc::now(),
            recording_s: 1.0,
        };
        let num_jobs = JOB_QUEUE_LEN + REPLY_QUEUE_LEN + 10;
        for _ in 0..num_jobs {
            writer.record(Transition {
                event: Event::Mark { text: text.into() },
                at,
                effects: vec![Effect::Marked {
                    step: StepId::Preparation,
                    text: text.into(),
                    at,
                }],
                device: UnloadingDevice::None,
                ecmo: None,
                who: "tester".into(),
            });
        }
        // One message, sent once: the bound never holds it back.
        let (closed, closing) = sync_channel(1);
        std::thread::Builder::new()
            .name("closing-case-writer".into())
            .spawn(move || {
                drop(writer);
                let _ = closed.send(());
            })
            .unwrap();
        assert!(
            closing.recv_timeout(Duration::from_secs(60)).is_ok(),
            "closing the case writer hung"
        );
        let file = CaseFile::open_read_only(&dir.path().join(store::file_name(case_id))).unwrap();
        let notes = file
            .events()
            .unwrap()
            .iter()
            .filter(|event| event.kind == "marker" && event.text == text)
            .count();
        assert_eq!(notes, num_jobs);
    }
}
