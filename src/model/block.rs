//! Samples as they travel from a source through the engine to the recorder, and the explicit record of samples
//! that never arrived.

use serde::{Deserialize, Serialize};

/// A run of consecutive samples from one source, all channels at once.
///
/// `channels[c][i]` is channel `c` at sample index `first_sample + i`. Every channel has the same length.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Per-source monotonic index of the first sample (time = index / sample rate).
    pub first_sample: u64,
    /// One vector of samples per channel, in the order of the source's [`crate::model::SourceSpec::channels`].
    pub channels: Vec<Vec<f32>>,
}

impl Block {
    /// Number of samples per channel.
    pub fn num_samples(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Index one past the last sample.
    pub fn end_sample(&self) -> u64 {
        self.first_sample + self.num_samples() as u64
    }
}

/// Why samples are missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GapReason {
    /// Frames lost on the wire (sequence numbers skipped).
    DroppedFrames,
    /// Frames that arrived damaged and were discarded.
    CorruptFrames,
    /// The connection to the console was lost and later re-established.
    Disconnected,
    /// The recorder could not keep up or could not write, and the in-memory backlog overflowed.
    RecorderOverflow,
    /// Anything else, described.
    Other(String),
}

/// Samples that should have arrived but did not. Gaps are recorded, never papered over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Index of the first missing sample.
    pub first_sample: u64,
    /// Number of missing samples.
    pub num_samples: u64,
    /// Why they are missing.
    pub reason: GapReason,
}

/// What the engine hands to the recorder, in arrival order. `source` is the source's position in the engine's
/// source list; a [`RecordItem::Source`] always precedes that source's blocks and gaps.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordItem {
    /// A source (re)connected: a new segment starts at `first_sample` with these channels.
    Source {
        /// Position of the source in the engine.
        source: usize,
        /// What it delivers.
        spec: super::SourceSpec,
        /// Index of the first sample of the new segment.
        first_sample: u64,
    },
    /// Samples.
    Block {
        /// Position of the source in the engine.
        source: usize,
        /// The samples.
        block: Block,
    },
    /// Samples known to be missing.
    Gap {
        /// Position of the source in the engine.
        source: usize,
        /// What is missing and why.
        gap: Gap,
    },
}

impl RecordItem {
    /// Samples per channel this item carries (0 for non-sample items).
    pub fn num_samples(&self) -> usize {
        match self {
            RecordItem::Block { block, .. } => block.num_samples(),
            RecordItem::Source { .. } | RecordItem::Gap { .. } => 0,
        }
    }
}
