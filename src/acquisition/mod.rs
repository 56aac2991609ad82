//! Console I/O and the real-time data path: sources (one named thread each) deliver sample blocks to the engine
//! thread, which keeps the live ring buffers, runs the online analysis and forwards everything to the recorder.
//!
//! ```text
//! source thread --SourceEvent--> engine thread --> LiveState (shared with the UI, repaint requested)
//!  (sim, serial,                               \--> RecordSink (the store's recorder), with a >= 60 s backlog
//!   replay)
//! ```
//!
//! Loss policy: the source -> engine channel is bounded and blocking (a source waits; the engine is never the
//! slow part). The engine -> recorder path never drops silently: a backlog holds at least
//! [`engine::MIN_BACKLOG_S`] seconds; beyond that the oldest samples are dropped and recorded as a gap. The UI
//! reads the newest state and may skip frames.

pub mod calibration;
pub mod codec;
pub mod engine;
pub mod live_source;
pub mod online;
pub mod profile;
pub mod replay;
pub mod ring;
pub mod serial;
pub mod sim_source;
pub mod sim_stream;
pub mod source;
pub mod text_stream;

pub use engine::{Engine, EngineConfig, LiveState, RecordSink, RecorderHealth};
pub use live_source::LiveSource;
pub use online::{LiveAnalysis, LiveNumber, LiveQuantity};
pub use ring::RingBuffer;
pub use sim_source::{SimControl, SimControlError, SimSource};
pub use source::{Source, SourceEvent, SourceSink, SourceStatus};
