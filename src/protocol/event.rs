//! What the operator (through the UI) and the app tell the state machine ([`Event`]), what the state machine asks
//! the app to record or do ([`Effect`]), and why it refuses an event ([`Refusal`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CaseIdError, EcmoSettings, Site, StepId, UnloadingDevice};

use super::capture::{CaptureQuality, CaptureTarget, WindowKind};
use super::context::{ChannelZero, CoronaryContext, Equalisation, PressureZero};
use super::eligibility::{Criterion, Verdict};
use super::state::{Allocation, CaseInfo, FinishReason, Missing, Moment, SavedWindow, Warning};

/// An input to the state machine. Serialisable: a case file keeps the events it accepted, so replaying them
/// through [`super::handle`] rebuilds the state exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Create the case (start screen). The site must match the case id's.
    SetUpCase {
        /// The case id as typed, `HER-<site>-<4 digits>`.
        case_id: String,
        /// The site chosen.
        site: Site,
        /// The operator.
        operator: String,
    },
    /// Answer an eligibility criterion (does it hold?).
    AnswerCriterion {
        /// The criterion.
        criterion: Criterion,
        /// Whether it holds for this patient.
        answer: bool,
    },
    /// Tick or untick an item of the current step's checklist.
    CheckItem {
        /// Position in the step's checklist.
        item: usize,
        /// Ticked or not.
        ticked: bool,
    },
    /// Record the ECMO settings now in effect.
    SetEcmo(EcmoSettings),
    /// The app zeroed the pressure channels against atmosphere (consoles step's "Zero pressures"), with these
    /// offsets: recorded, and the step's zeroing item ticked.
    PressuresZeroed {
        /// Every pressure channel zeroed.
        channels: Vec<ChannelZero>,
    },
    /// The app equalised Pd to Pa (consoles step's "Equalise Pd to Pa") with the gain
    /// [`Equalisation::gain_for`] this ratio: recorded, and the step's equalisation item ticked.
    PdEqualised {
        /// Pd/Pa read before equalising.
        pd_pa_read: f64,
    },
    /// Record where and how the coronary measurements are made (baseline coronary step).
    SetCoronaryContext(CoronaryContext),
    /// Record the randomisation system's allocation.
    RecordAllocation {
        /// The allocated arm.
        arm: super::state::Arm,
        /// The randomisation system's reference.
        reference: String,
        /// When the randomisation system allocated it.
        allocated_utc: DateTime<Utc>,
    },
    /// Record the inserted device and the ECMO settings (device step).
    RecordDevice {
        /// The device and its settings.
        device: UnloadingDevice,
        /// The ECMO settings.
        ecmo: EcmoSettings,
    },
    /// Record that the device was turned down to its minimum support for the within-session CDFR reference
    /// (post-unloading coronary step): IABP on standby, Impella at its lowest level above P-0.
    RecordMinimumSupport(UnloadingDevice),
    /// Start capturing a window of this kind in the current step.
    StartCapture(WindowKind),
    /// The app's latest quality assessment of the running capture (it stops by itself when the target is reached).
    CaptureProgress(CaptureQuality),
    /// Stop the running capture now.
    StopCapture,
    /// Save the finished capture as an analysis window.
    SaveCapture,
    /// Throw the capture away (the recording itself is kept).
    DiscardCapture,
    /// Skip the current step's measurement, with the reason.
    Skip {
        /// Why (recorded).
        reason: String,
    },
    /// Mark a free-text event now.
    Mark {
        /// The note.
        text: String,
    },
    /// Go to the next step.
    Next,
    /// Go to the previous step.
    Back,
    /// Go to any step already reachable.
    GoTo(StepId),
    /// Sign the case off.
    SignOff {
        /// Who signs.
        by: String,
    },
    /// Go ahead with the pending action.
    Confirm,
    /// Drop the pending action.
    Cancel,
}

impl Event {
    /// The event in words, as a reader of the case (review lane, `case info`, exported markers) sees it.
    pub fn describe(&self) -> String {
        let yes_no = |answer: bool| if answer { "yes" } else { "no" };
        match self {
            Event::SetUpCase {
                case_id, operator, ..
            } => format!("Case {} set up by {}", case_id.trim(), operator.trim()),
            Event::AnswerCriterion { criterion, answer } => {
                format!("Eligibility: {}: {}", criterion.text(), yes_no(*answer))
            }
            Event::CheckItem { item, ticked } => format!(
                "Checklist item {} {}",
                item + 1,
                if *ticked { "ticked" } else { "unticked" }
            ),
            Event::SetEcmo(ecmo) => format!("ECMO settings recorded: {}", ecmo.describe()),
            Event::PressuresZeroed { channels } => format!(
                "Pressures zeroed: {}",
                channels
                    .iter()
                    .map(|zero| zero.channel.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Event::PdEqualised { pd_pa_read } => format!(
                "Pd equalised to Pa: Pd/Pa read {}",
                crate::analysis::format::number(*pd_pa_read, crate::analysis::endpoints::Unit::Ratio)
            ),
            Event::SetCoronaryContext(context) => format!("Measurement context recorded: {context}"),
            Event::RecordAllocation { arm, reference, .. } => {
                format!("Allocation recorded: {}, reference {reference}", arm.label())
            }
            Event::RecordDevice { device, ecmo } => {
                format!("Device recorded: {}; ECMO {}", device.describe(), ecmo.describe())
            }
            Event::RecordMinimumSupport(device) => {
                format!("Device at minimum support recorded: {}", device.describe())
            }
            Event::StartCapture(kind) => format!("Capture of the {} started", kind.label()),
            Event::CaptureProgress(quality) => format!(
                "Capture progress: {} beats accepted, {} rejected",
                quality.num_beats_accepted, quality.num_beats_rejected
            ),
            Event::StopCapture => "Capture stopped by the operator".to_owned(),
            Event::SaveCapture => "Capture saved as an analysis window".to_owned(),
            Event::DiscardCapture => "Capture discarded".to_owned(),
            Event::Skip { reason } => format!("Measurement skipped: {}", reason.trim()),
            Event::Mark { text } => format!("Note: {}", text.trim()),
            Event::Next => "Next step".to_owned(),
            Event::Back => "Previous step".to_owned(),
            Event::GoTo(step) => format!("Go to {}", step.title()),
            Event::SignOff { by } => format!("Sign-off asked by {}", by.trim()),
            Event::Confirm => "Confirmed".to_owned(),
            Event::Cancel => "Cancelled".to_owned(),
        }
    }
}

/// What the app must record in the case file (every state change produces at least one) or do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Create the case file.
    CaseCreated {
        /// The case.
        case: CaseInfo,
        /// When.
        at: Moment,
    },
    /// A step was entered.
    StepStarted {
        /// The step.
        step: StepId,
        /// 1 for the first stay, 2 when it is repeated, ...
        visit: usize,
        /// When.
        at: Moment,
        /// The unloading device in place.
        device: UnloadingDevice,
        /// The ECMO settings in effect, if recorded.
        ecmo: Option<EcmoSettings>,
    },
    /// A step was left.
    StepEnded {
        /// The step.
        step: StepId,
        /// Which stay.
        visit: usize,
        /// When.
        at: Moment,
        /// Checklist items left unticked.
        unticked: Vec<String>,
        /// Warnings the operator acknowledged to leave.
        acknowledged: Vec<Warning>,
    },
    /// A checklist item was ticked or unticked.
    ChecklistChanged {
        /// The step.
        step: StepId,
        /// The item's text.
        item: String,
        /// Its new state.
        ticked: bool,
        /// When.
        at: Moment,
    },
    /// An eligibility criterion was answered.
    CriterionAnswered {
        /// The criterion.
        criterion: Criterion,
        /// Whether it holds.
        answer: bool,
        /// The verdict after this answer.
        verdict: Verdict,
        /// When.
        at: Moment,
    },
    /// ECMO settings were recorded.
    EcmoRecorded {
        /// The step the operator was in.
        step: StepId,
        /// The settings.
        settings: EcmoSettings,
        /// When.
        at: Moment,
    },
    /// The pressures were zeroed by the app.
    PressuresZeroed(PressureZero),
    /// Pd was equalised to Pa by the app.
    PdEqualised(Equalisation),
    /// The coronary measurement context was recorded.
    CoronaryContextRecorded {
        /// The context.
        context: CoronaryContext,
        /// When.
        at: Moment,
    },
    /// The allocation was recorded.
    AllocationRecorded(Allocation),
    /// The device was recorded. The app applies it to the simulated patient in a demo case.
    DeviceRecorded {
        /// The device and its settings.
        device: UnloadingDevice,
        /// The ECMO settings.
        ecmo: EcmoSettings,
        /// Set when the device differs from the allocation (a protocol deviation).
        deviation: Option<Warning>,
        /// When.
        at: Moment,
    },
    /// The device was turned down to its minimum support. The app steers the simulated patient to it in a demo
    /// case.
    MinimumSupportRecorded {
        /// The device at minimum support.
        device: UnloadingDevice,
        /// When.
        at: Moment,
    },
    /// The device is back at its target setting (the window at minimum support was saved or discarded, or the
    /// step was left). The app steers the simulated patient back in a demo case.
    TargetSupportRestored {
        /// The device at its target setting, as the device step recorded it.
        device: UnloadingDevice,
        /// When.
        at: Moment,
    },
    /// A capture started: the app feeds it [`Event::CaptureProgress`] until it stops.
    CaptureStarted {
        /// The step.
        step: StepId,
        /// What it measures.
        kind: WindowKind,
        /// Start of the window.
        at: Moment,
        /// When it stops by itself.
        target: CaptureTarget,
    },
    /// A capture stopped (by itself or by the operator); it waits to be saved.
    CaptureFinished {
        /// The step.
        step: StepId,
        /// What it measures.
        kind: WindowKind,
        /// Start of the window.
        start: Moment,
        /// End of the window.
        end: Moment,
        /// Why it stopped.
        reason: FinishReason,
        /// Its quality.
        quality: CaptureQuality,
    },
    /// A capture was thrown away.
    CaptureDiscarded {
        /// The step.
        step: StepId,
        /// What it measured.
        kind: WindowKind,
        /// Its start.
        start: Moment,
        /// When it was discarded.
        at: Moment,
    },
    /// A window was saved: the app stores it as an analysis window and computes its endpoints.
    WindowSaved {
        /// The step.
        step: StepId,
        /// The window.
        window: SavedWindow,
    },
    /// A step's measurement was skipped.
    StepSkipped {
        /// The step.
        step: StepId,
        /// Why.
        reason: String,
        /// When.
        at: Moment,
    },
    /// A free-text event.
    Marked {
        /// The step the operator was in.
        step: StepId,
        /// The text.
        text: String,
        /// When.
        at: Moment,
    },
    /// The case was signed off.
    SignedOff {
        /// Who signed.
        by: String,
        /// When.
        at: Moment,
        /// Warnings acknowledged when signing.
        acknowledged: Vec<Warning>,
    },
}

/// Why the state machine refused an event, in words for the operator.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// Most events need a case.
    #[error("set up the case first (case id, site and operator)")]
    NoCase,
    /// The case is already set up.
    #[error("the case is already set up; open a new case from the start screen")]
    CaseAlreadySetUp,
    /// The case id is malformed.
    #[error("{0}")]
    InvalidCaseId(CaseIdError),
    /// The case id's site differs from the chosen site.
    #[error("case id {case_id} belongs to {id_site}, but {chosen} is selected")]
    SiteMismatch {
        /// The case id.
        case_id: String,
        /// Its site's name.
        id_site: &'static str,
        /// The chosen site's name.
        chosen: &'static str,
    },
    /// The operator field is empty.
    #[error("enter the operator")]
    NoOperator,
    /// The case is signed off.
    #[error("the case is signed off; later changes are made in offline review")]
    SignedOff,
    /// A confirmation is waiting.
    #[error("confirm or cancel the pending action first")]
    AwaitingConfirmation,
    /// Confirm or cancel without a pending action.
    #[error("nothing is waiting for confirmation")]
    NothingToConfirm,
    /// The event belongs to another step.
    #[error("{action} belongs to the {expected} step; you are in {current}")]
    WrongStep {
        /// What was attempted.
        action: &'static str,
        /// The step it belongs to.
        expected: &'static str,
        /// The current step.
        current: &'static str,
    },
    /// No such checklist item in this step.
    #[error("the {step} step has no checklist item {item}")]
    NoSuchItem {
        /// The current step.
        step: &'static str,
        /// The item asked for.
        item: usize,
    },
    /// A setting is out of range or not a number.
    #[error("{what}: {why}")]
    InvalidSetting {
        /// Which setting.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The allocation time lies in the future.
    #[error("the allocation time is in the future; enter the time the trial system gave")]
    AllocationInFuture,
    /// The current step does not capture this kind of window.
    #[error("the {step} step does not capture a {kind}")]
    CaptureNotInStep {
        /// The current step.
        step: &'static str,
        /// The kind asked for.
        kind: &'static str,
    },
    /// A window at minimum support needs the minimum setting recorded first.
    #[error(
        "record the device's minimum support setting first (IABP on standby, Impella at its lowest level above \
             P-0)"
    )]
    NoMinimumSupport,
    /// The device is at minimum support: only the window at minimum support can be captured.
    #[error(
        "the device is at minimum support: capture or discard the resting window at minimum support first"
    )]
    AtMinimumSupport,
    /// A capture is running.
    #[error("a capture is running: wait for it to finish or stop it")]
    CaptureRunning,
    /// No capture to act on.
    #[error("there is no capture to {0}")]
    NoCapture(&'static str),
    /// The step has no measurement to skip.
    #[error("the {0} step has no measurement to skip")]
    NothingToSkip(&'static str),
    /// The step already has its window.
    #[error("the {0} step already has a saved window")]
    AlreadyMeasured(&'static str),
    /// A reason or note is empty.
    #[error("enter the {0}")]
    EmptyText(&'static str),
    /// A step stands in the way.
    #[error("{step} is not complete: {missing}")]
    Incomplete {
        /// The step.
        step: &'static str,
        /// What it lacks.
        missing: Missing,
    },
    /// Back from the first step.
    #[error("this is the first step")]
    AtFirstStep,
    /// Next from the last step.
    #[error("this is the last step; sign the case off")]
    AtLastStep,
    /// Go to the step the operator is in.
    #[error("you are already in the {0} step")]
    AlreadyThere(&'static str),
}
