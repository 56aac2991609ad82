//! A recording held in memory: what file importers produce, what a case file loads into for analysis, and what
//! the analysis pipeline consumes.

use serde::{Deserialize, Serialize};

/// One channel's samples at its own rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Channel id, e.g. `pa` (see [`crate::model::SignalKind`]), or the file's own title when it is unknown.
    pub name: String,
    /// Physical unit, e.g. `mmHg`; empty when the file gives none.
    pub unit: String,
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// Samples in physical units; `NaN` marks a missing sample.
    pub samples: Vec<f64>,
}

impl TimeSeries {
    /// Duration covered by the samples.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate_hz
    }
}

/// A stretch of contiguous recording (a LabChart block, a WFDB segment, a connection segment of a console).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start of the segment, seconds from the start of the recording.
    pub start_s: f64,
    /// The channels; each starts at `start_s`.
    pub channels: Vec<TimeSeries>,
}

impl Segment {
    /// The channel called `name` (case-insensitive).
    pub fn channel(&self, name: &str) -> Option<&TimeSeries> {
        self.channels
            .iter()
            .find(|series| series.name.eq_ignore_ascii_case(name))
    }
}

/// A time-anchored note: a LabChart comment, a console event, an operator's marker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Seconds from the start of the recording.
    pub time_s: f64,
    /// The note (never a patient identifier: importers drop identifying fields).
    pub text: String,
}

/// A whole recording: one or more segments and the markers placed on them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Contiguous stretches, in time order.
    pub segments: Vec<Segment>,
    /// Notes, in time order.
    pub markers: Vec<Marker>,
}
