//! The protocol state: the case, where the operator is, what each step has recorded, the capture in progress and a
//! pending confirmation. Plain data (serialisable, so a case file can hold it); only [`super::handle`] changes it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CaseId, EcmoSettings, StepId, UnloadingDevice};

use super::capture::{CaptureQuality, CaptureTarget, WindowKind};
use super::context::{CoronaryContext, Equalisation, PressureZero};
use super::eligibility::{Eligibility, Verdict};
use super::steps::{guide, required_window};

/// When something happened: wall-clock time for people and the audit trail, recording time for the samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moment {
    /// Wall-clock time (UTC).
    pub utc: DateTime<Utc>,
    /// Seconds since the start of the case's recording, on the sample clock of the recorded sources.
    pub recording_s: f64,
}

/// Who and what the case is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseInfo {
    /// The pseudonymous trial case id.
    pub case_id: CaseId,
    /// The operator running the case (a staff name or code, never the patient's).
    pub operator: String,
}

/// The two arms of the trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arm {
    /// Intra-aortic balloon pump.
    Iabp,
    /// Impella (percutaneous LV assist device).
    Impella,
}

impl Arm {
    /// Both arms.
    pub const ALL: [Arm; 2] = [Arm::Iabp, Arm::Impella];

    /// Name shown to the operator.
    pub fn label(self) -> &'static str {
        match self {
            Arm::Iabp => "IABP",
            Arm::Impella => "Impella",
        }
    }

    /// The arm an inserted device belongs to (`None` for VA-ECMO alone).
    pub fn of(device: &UnloadingDevice) -> Option<Arm> {
        match device {
            UnloadingDevice::None => None,
            UnloadingDevice::Iabp(_) => Some(Arm::Iabp),
            UnloadingDevice::Impella(_) => Some(Arm::Impella),
        }
    }
}

/// The allocation given by the trial's randomisation system, as the operator recorded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The allocated arm.
    pub arm: Arm,
    /// The randomisation system's reference for this allocation.
    pub reference: String,
    /// When the randomisation system allocated it.
    pub allocated_utc: DateTime<Utc>,
    /// When the operator recorded it here.
    pub recorded: Moment,
}

/// One stay in a step (steps can be repeated).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// When the step was entered.
    pub started: Moment,
    /// When it was left (`None` while the operator is in it).
    pub ended: Option<Moment>,
}

/// Why a capture stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishReason {
    /// The target duration and number of consecutive accepted beats were reached.
    TargetReached,
    /// The maximum duration passed without reaching the target.
    TimedOut,
    /// The operator stopped it early.
    StoppedByOperator,
}

impl FinishReason {
    /// In words for the operator.
    pub fn label(self) -> &'static str {
        match self {
            FinishReason::TargetReached => "target reached",
            FinishReason::TimedOut => "timed out before the target was reached",
            FinishReason::StoppedByOperator => "stopped by the operator",
        }
    }
}

/// Whether a capture is still running.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum CaptureStatus {
    /// Still collecting beats.
    Running,
    /// Stopped; waiting to be saved or discarded.
    Finished {
        /// End of the window.
        ended: Moment,
        /// Why it stopped.
        reason: FinishReason,
    },
}

/// A capture in progress or waiting to be saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// The step it belongs to.
    pub step: StepId,
    /// What it measures.
    pub kind: WindowKind,
    /// Start of the window.
    pub started: Moment,
    /// Latest time the app reported progress (the start until the first report).
    pub latest: Moment,
    /// When it stops by itself.
    pub target: CaptureTarget,
    /// Quality so far.
    pub quality: CaptureQuality,
    /// Running or finished.
    pub status: CaptureStatus,
}

impl Capture {
    /// Seconds captured so far.
    pub fn elapsed_s(&self) -> f64 {
        let end = match self.status {
            CaptureStatus::Running => self.latest,
            CaptureStatus::Finished { ended, .. } => ended,
        };
        end.recording_s - self.started.recording_s
    }

    /// Whether it is still collecting.
    pub fn running(&self) -> bool {
        self.status == CaptureStatus::Running
    }
}

/// A saved analysis window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedWindow {
    /// What it measures.
    pub kind: WindowKind,
    /// Start of the window.
    pub start: Moment,
    /// End of the window.
    pub end: Moment,
    /// Its quality when it stopped.
    pub quality: CaptureQuality,
    /// The target it was captured against.
    pub target: CaptureTarget,
    /// Why it stopped.
    pub finish: FinishReason,
    /// The device at minimum support while a [`WindowKind::CoronaryRestMinimumSupport`] window was captured
    /// (none for the other kinds: the device step's setting holds).
    #[serde(default)]
    pub support: Option<UnloadingDevice>,
}

/// What one step has recorded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Every stay in the step, oldest first.
    pub visits: Vec<Visit>,
    /// Ticked state of each checklist item of the step's guide.
    pub checklist: Vec<bool>,
    /// Saved windows, oldest first (the newest of a kind is the one the endpoints use).
    pub windows: Vec<SavedWindow>,
    /// Why the step's measurement was skipped, if it was.
    pub skipped: Option<String>,
}

/// A free-text event marked by the operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// When.
    pub at: Moment,
    /// The step the operator was in.
    pub step: StepId,
    /// The text.
    pub text: String,
}

/// The sign-off of the case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignOff {
    /// Who signed.
    pub by: String,
    /// When.
    pub at: Moment,
}

/// Something the operator must acknowledge before an action goes ahead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Warning {
    /// A capture is still running and would be discarded.
    CaptureRunning(WindowKind),
    /// A finished capture has not been saved and would be discarded.
    UnsavedCapture(WindowKind),
    /// Checklist items of the step being left are not ticked.
    UncheckedItems(Vec<String>),
    /// The device inserted is not the allocated one (a protocol deviation, recorded as such).
    DeviceDiffersFromAllocation {
        /// The allocated arm.
        allocated: Arm,
        /// The arm of the device recorded.
        inserted: Arm,
    },
    /// Measurement steps were skipped (step and reason).
    StepsSkipped(Vec<(StepId, String)>),
    /// Signing off ends the protocol for this case.
    SignOffIsFinal,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CaptureRunning(kind) => write!(
                f,
                "The {} capture is still running and will be discarded.",
                kind.label()
            ),
            Warning::UnsavedCapture(kind) => write!(
                f,
                "The {} capture is not saved and will be discarded.",
                kind.label()
            ),
            Warning::UncheckedItems(items) => write!(f, "Not ticked: {}.", items.join("; ")),
            Warning::DeviceDiffersFromAllocation { allocated, inserted } => write!(
                f,
                "The allocation is {} but the device recorded is {}: this is recorded as a protocol deviation.",
                allocated.label(),
                inserted.label()
            ),
            Warning::StepsSkipped(skipped) => {
                let list: Vec<String> = skipped
                    .iter()
                    .map(|(step, reason)| format!("{} ({reason})", step.title()))
                    .collect();
                write!(f, "Skipped: {}.", list.join("; "))
            }
            Warning::SignOffIsFinal => {
                write!(
                    f,
                    "Signing off ends the protocol; later changes are made in offline review, with an audit trail."
                )
            }
        }
    }
}

/// The action waiting for confirmation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PendingAction {
    /// Go to this step.
    Move(StepId),
    /// Record this device and ECMO setting.
    RecordDevice {
        /// The device.
        device: UnloadingDevice,
        /// The ECMO settings.
        ecmo: EcmoSettings,
    },
    /// Sign the case off.
    SignOff {
        /// Who signs.
        by: String,
    },
}

/// An action and the warnings the operator must acknowledge for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// What happens on confirmation.
    pub action: PendingAction,
    /// What the operator is asked to acknowledge.
    pub warnings: Vec<Warning>,
}

/// How a step looks in the step list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    /// The operator is in it.
    Current,
    /// Never entered.
    NotStarted,
    /// Entered and complete.
    Complete,
    /// Its measurement was skipped, with a reason.
    Skipped,
    /// Entered but not complete.
    Incomplete,
}

/// The whole protocol state of one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The case, once set up.
    pub case: Option<CaseInfo>,
    /// The step the operator is in.
    pub current: StepId,
    /// What each step recorded, in [`StepId::ALL`] order.
    pub steps: Vec<StepRecord>,
    /// Eligibility answers.
    pub eligibility: Eligibility,
    /// The recorded allocation.
    pub allocation: Option<Allocation>,
    /// The unloading device in place (VA-ECMO alone until one is recorded).
    pub device: UnloadingDevice,
    /// The latest ECMO settings recorded.
    pub ecmo: Option<EcmoSettings>,
    /// The device turned down to its minimum support (post-unloading coronary step), until the resting window
    /// at minimum support is saved or discarded or the step is left: then the device is back at `device`.
    #[serde(default)]
    pub minimum_support: Option<UnloadingDevice>,
    /// The newest zero of the pressures made by the app (consoles step), which the measurement context carries.
    #[serde(default)]
    pub zero: Option<PressureZero>,
    /// The newest equalisation of Pd to Pa made by the app (consoles step), which the measurement context
    /// carries.
    #[serde(default)]
    pub equalisation: Option<Equalisation>,
    /// Where and how the coronary measurements are made (baseline coronary step).
    pub coronary_context: Option<CoronaryContext>,
    /// A capture running or waiting to be saved.
    pub capture: Option<Capture>,
    /// An action waiting for the operator's confirmation.
    pub pending: Option<Pending>,
    /// Free-text events, oldest first.
    pub notes: Vec<Note>,
    /// The sign-off, once given.
    pub signed_off: Option<SignOff>,
    /// Capture targets, in [`WindowKind::ALL`] order.
    pub capture_targets: Vec<CaptureTarget>,
}

impl Default for State {
    fn default() -> State {
        State {
            case: None,
            current: StepId::CaseSetup,
            steps: StepId::ALL
                .into_iter()
                .map(|step| StepRecord {
                    checklist: vec![false; guide(step).checklist.len()],
                    ..StepRecord::default()
                })
                .collect(),
            eligibility: Eligibility::default(),
            allocation: None,
            device: UnloadingDevice::None,
            ecmo: None,
            minimum_support: None,
            zero: None,
            equalisation: None,
            coronary_context: None,
            capture: None,
            pending: None,
            notes: Vec::new(),
            signed_off: None,
            capture_targets: WindowKind::ALL
                .into_iter()
                .map(CaptureTarget::default_for)
                .collect(),
        }
    }
}

/// What a step still lacks before the operator can move past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// No case set up.
    Case,
    /// Eligibility criteria not all answered (how many are left).
    Answers(usize),
    /// The patient is not eligible (the criteria that rule them out, as text).
    Eligible(Vec<String>),
    /// No saved window of this kind (and the step was not skipped).
    Window(WindowKind),
    /// The coronary measurement context (vessel, segment, wire, Pd/Pa, zeroing) is not recorded.
    CoronaryContext,
    /// No allocation recorded.
    Allocation,
    /// No device recorded.
    Device,
    /// Not signed off.
    SignOff,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Case => write!(f, "the case is not set up (case id, site, operator)"),
            Missing::Answers(1) => write!(f, "1 eligibility criterion is not answered"),
            Missing::Answers(count) => write!(f, "{count} eligibility criteria are not answered"),
            Missing::Eligible(reasons) => {
                write!(
                    f,
                    "the patient is not eligible ({}), so the case cannot go on to randomisation",
                    reasons.join("; ")
                )
            }
            Missing::Window(kind) => write!(
                f,
                "no saved {} (capture one, or skip the step with a reason)",
                kind.label()
            ),
            Missing::CoronaryContext => write!(
                f,
                "the vessel, segment, wire position, Pd/Pa equalisation and zeroing are not recorded"
            ),
            Missing::Allocation => write!(f, "no allocation recorded from the trial's randomisation system"),
            Missing::Device => write!(f, "no unloading device recorded"),
            Missing::SignOff => write!(f, "the case is not signed off"),
        }
    }
}

impl State {
    /// A fresh state at case set-up with the default capture targets.
    pub fn new() -> State {
        State::default()
    }

    /// What `step` has recorded.
    pub fn record(&self, step: StepId) -> &StepRecord {
        &self.steps[step as usize]
    }

    pub(super) fn record_mut(&mut self, step: StepId) -> &mut StepRecord {
        &mut self.steps[step as usize]
    }

    /// The capture target for `kind`.
    pub fn target(&self, kind: WindowKind) -> CaptureTarget {
        self.capture_targets
            .get(kind as usize)
            .copied()
            .unwrap_or_else(|| CaptureTarget::default_for(kind))
    }

    /// The newest saved window of `kind` in `step`.
    pub fn latest_window(&self, step: StepId, kind: WindowKind) -> Option<&SavedWindow> {
        self.record(step)
            .windows
            .iter()
            .rev()
            .find(|window| window.kind == kind)
    }

    /// What `step` still lacks before the operator can move past it (`None` when it is complete).
    pub fn missing(&self, step: StepId) -> Option<Missing> {
        match step {
            StepId::CaseSetup => self.case.is_none().then_some(Missing::Case),
            StepId::Eligibility => match self.eligibility.verdict() {
                Verdict::Eligible => None,
                Verdict::Incomplete(count) => Some(Missing::Answers(count)),
                Verdict::Ineligible(criteria) => Some(Missing::Eligible(
                    criteria
                        .iter()
                        .map(|criterion| criterion.text().to_owned())
                        .collect(),
                )),
            },
            StepId::Preparation | StepId::Review => None,
            StepId::BaselineCoronary | StepId::BaselinePv | StepId::PostCoronary | StepId::PostPv => {
                let kind = required_window(step)?;
                let skipped = self.record(step).skipped.is_some();
                let done = self.latest_window(step, kind).is_some() || skipped;
                let context_needed =
                    step == StepId::BaselineCoronary && !skipped && self.coronary_context.is_none();
                if !done {
                    Some(Missing::Window(kind))
                } else if context_needed {
                    Some(Missing::CoronaryContext)
                } else {
                    None
                }
            }
            StepId::Randomisation => self.allocation.is_none().then_some(Missing::Allocation),
            StepId::DeviceInsertion => (self.device == UnloadingDevice::None).then_some(Missing::Device),
            StepId::SignOff => self.signed_off.is_none().then_some(Missing::SignOff),
        }
    }

    /// How `step` looks in the step list.
    pub fn status(&self, step: StepId) -> StepStatus {
        if step == self.current {
            StepStatus::Current
        } else if self.record(step).visits.is_empty() {
            StepStatus::NotStarted
        } else if self.record(step).skipped.is_some() {
            StepStatus::Skipped
        } else if self.missing(step).is_none() {
            StepStatus::Complete
        } else {
            StepStatus::Incomplete
        }
    }

    /// The checklist items of `step` not ticked.
    pub fn unticked(&self, step: StepId) -> Vec<String> {
        guide(step)
            .checklist
            .iter()
            .zip(&self.record(step).checklist)
            .filter(|(_, ticked)| !**ticked)
            .map(|(item, _)| (*item).to_owned())
            .collect()
    }
}
