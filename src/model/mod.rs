//! Plain data shared by every layer: units, channels and sources, sample blocks and gaps, beats, recordings,
//! case identifiers, protocol step ids, analysis window kinds, and how many parts of a computation may run at once
//! (`workers`).
//!
//! Nothing here does I/O, spawns threads or knows about egui or SQLite; these are the types that cross module
//! boundaries (see `ARCHITECTURE.md`).

pub mod about;
pub mod beat;
pub mod block;
pub mod case;
pub mod channel;
pub mod device;
pub mod recording;
pub mod step;
pub mod units;
pub mod window;
pub mod workers;

pub use beat::{Beat, Fiducial, RejectReason};
pub use block::{Block, Gap, GapReason, RecordItem};
pub use case::{CaseId, CaseIdError, CaseOrigin, Site};
pub use channel::{ChannelSpec, SignalKind, SourceSpec};
pub use device::{EcmoSettings, IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, UnloadingDevice};
pub use recording::{Marker, Recording, Segment, TimeSeries};
pub use step::{SAME_VESSEL_CHECK, StepId};
pub use window::WindowKind;
