//! The HERACLES measurement protocol (ENDPOINTS.md section 8) as a pure state machine:
//! [`handle`]`(state, event, at) -> (state, effects)` or a [`Refusal`] with its reason for the operator.
//!
//! The UI renders a [`State`] and sends [`Event`]s; the app applies the returned [`Effect`]s (writes to the case
//! file, starts the capture feed, gives the simulated patient its device). Nothing here reads a clock, touches a
//! file or draws: the time of each event is passed in, so every transition can be tested with plain values.
//!
//! Rules the machine enforces:
//! - going back is always possible; going forward needs every step on the way to be complete
//!   ([`State::missing`]): the case set up, every eligibility criterion answered and the patient eligible, the
//!   required window of each measurement step saved (or the step skipped with a reason), the coronary measurement
//!   context (vessel, segment, wire, Pd/Pa equalisation, zeroing) recorded at the baseline coronary step, the
//!   allocation and the device recorded;
//! - leaving a step with a running or unsaved capture or unticked checklist items, recording a device that differs
//!   from the allocation, and signing off each wait for the operator's confirmation ([`Pending`]);
//! - after sign-off every event is refused.

mod capture;
mod context;
mod eligibility;
mod event;
mod machine;
mod state;
mod steps;

pub use capture::{
    CaptureQuality, CaptureTarget, Drift, MAX_ECMO_FLOW_DRIFT_L_MIN, MAX_HEART_RATE_DRIFT_PCT, QualityIssue,
    RejectionCount, WindowKind,
};
pub use context::{ChannelZero, CoronaryContext, Equalisation, PressureZero, Vessel, VesselSegment};
pub use eligibility::{Criterion, CriterionKind, Eligibility, Verdict};
pub use event::{Effect, Event, Refusal};
pub use machine::handle;
pub use state::{
    Allocation, Arm, Capture, CaptureStatus, CaseInfo, FinishReason, Missing, Moment, Note, Pending,
    PendingAction, SavedWindow, SignOff, State, StepRecord, StepStatus, Visit, Warning,
};
pub use steps::{EQUALISED_CHECK, StepGuide, ZEROED_CHECK, guide, required_window};
