//! The source abstraction: anything that produces sample blocks on its own named thread (the simulator, a serial
//! console, a replayed file), and the sink it reports to.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use crate::model::{Block, Gap, SourceSpec};

/// What a source thread reports to the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceEvent {
    /// The source is connected and delivers these channels; a new segment starts at `first_sample`. Sent once
    /// at start and again after every reconnection.
    Connected {
        /// Channels and rate.
        spec: SourceSpec,
        /// Index of the first sample that will follow.
        first_sample: u64,
    },
    /// Consecutive samples.
    Block(Block),
    /// Samples that will never arrive.
    Gap(Gap),
    /// The connection was lost; the source keeps trying to reconnect.
    Disconnected {
        /// Why, in words for the operator.
        reason: String,
    },
    /// A new health report from the transport or decoder.
    Status(SourceStatus),
    /// The source has nothing more to deliver (end of a replayed file).
    Finished,
}

/// Counters a source keeps about its transport and decoding; shown on the source chip.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceStatus {
    /// Frames (or lines) decoded and accepted.
    pub num_frames_ok: u64,
    /// Frames discarded because their checksum failed.
    pub num_crc_failures: u64,
    /// Bytes skipped while searching for the next frame.
    pub num_bytes_skipped: u64,
    /// Times the decoder lost and regained frame synchronisation.
    pub num_resyncs: u64,
    /// Times the connection was re-established.
    pub num_reconnects: u64,
    /// Frames or lines that arrived readable but were rejected (malformed contents, another source's frames,
    /// frames disagreeing with the descriptor, unparsable text lines).
    pub num_rejected: u64,
}

/// Where a source sends its events, and how it learns it should stop.
#[derive(Clone)]
pub struct SourceSink {
    source: usize,
    tx: SyncSender<(usize, SourceEvent)>,
    stop: Arc<AtomicBool>,
}

/// The engine has stopped or asked the source to stop; the source should return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl SourceSink {
    /// A sink for the source at position `source` that sends to `tx` and watches `stop`.
    pub fn new(source: usize, tx: SyncSender<(usize, SourceEvent)>, stop: Arc<AtomicBool>) -> SourceSink {
        SourceSink { source, tx, stop }
    }

    /// Sends an event, waiting while the engine's queue is full (backpressure, never loss).
    pub fn send(&self, event: SourceEvent) -> Result<(), Stopped> {
        let mut item = (self.source, event);
        loop {
            if self.should_stop() {
                return Err(Stopped);
            }
            match self.tx.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => return Err(Stopped),
                Err(TrySendError::Full(back)) => {
                    item = back;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    }

    /// Whether the source should stop now.
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A producer of samples. The engine calls [`Source::run`] on a thread of its own named after
/// [`Source::thread_name`].
pub trait Source: Send + 'static {
    /// What the source is expected to deliver (shown before it connects).
    fn spec(&self) -> SourceSpec;

    /// Name of the source's thread, e.g. `source-sim`.
    fn thread_name(&self) -> String {
        format!("source-{}", self.spec().id)
    }

    /// Produces events until the sink says stop or the source ends. Must not panic on bad input: report it as
    /// a gap, a status count or a disconnection.
    fn run(self: Box<Self>, sink: SourceSink);
}
