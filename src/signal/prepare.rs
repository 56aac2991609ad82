//! From a recording's segment (channels at their own rates, named by the file) to the channels `signal/` works
//! on: picked by kind, resampled to the analysis rate, cut to one common length.

use super::resample::{ResampleError, resample};
use super::signals::{KINDS, Signals};
use crate::model::{Segment, SignalKind};

/// Why channels cannot be prepared.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PrepareError {
    /// A channel index beyond the segment's channels.
    #[error("channel index {index} does not exist (the segment has {num_channels} channels)")]
    NoSuchChannel {
        /// The index asked for.
        index: usize,
        /// Channels in the segment.
        num_channels: usize,
    },
    /// Two channels picked for the same signal.
    #[error("two channels picked as {0}")]
    Duplicate(&'static str),
    /// A channel's rate is unusable.
    #[error(transparent)]
    Rate(#[from] ResampleError),
}

/// Owned channels at the analysis rate, all of one length, starting at the segment's start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysisChannels {
    /// The analysis rate, Hz.
    pub sample_rate_hz: f64,
    /// Start of sample 0, seconds from the start of the recording.
    pub start_s: f64,
    channels: Vec<(SignalKind, Vec<f64>)>,
}

impl AnalysisChannels {
    /// The channels `picks` (signal, index into `segment.channels`) resampled to `sample_rate_hz`.
    pub fn from_segment(
        segment: &Segment,
        picks: &[(SignalKind, usize)],
        sample_rate_hz: f64,
    ) -> Result<AnalysisChannels, PrepareError> {
        let mut channels: Vec<(SignalKind, Vec<f64>)> = Vec::with_capacity(picks.len());
        for &(kind, index) in picks {
            if channels.iter().any(|(k, _)| *k == kind) {
                return Err(PrepareError::Duplicate(kind.name()));
            }
            let series = segment.channels.get(index).ok_or(PrepareError::NoSuchChannel {
                index,
                num_channels: segment.channels.len(),
            })?;
            channels.push((
                kind,
                resample(&series.samples, series.sample_rate_hz, sample_rate_hz)?,
            ));
        }
        let len = channels.iter().map(|(_, s)| s.len()).min().unwrap_or(0);
        channels.iter_mut().for_each(|(_, s)| s.truncate(len));
        Ok(AnalysisChannels {
            sample_rate_hz,
            start_s: segment.start_s,
            channels,
        })
    }

    /// Every channel whose name is a known signal id (`ecg`, `pa`, `lvp`, ...; see
    /// [`crate::model::SignalKind::from_name`]), resampled to `sample_rate_hz`.
    pub fn from_named_channels(
        segment: &Segment,
        sample_rate_hz: f64,
    ) -> Result<AnalysisChannels, PrepareError> {
        let picks: Vec<(SignalKind, usize)> = KINDS
            .into_iter()
            .filter_map(|kind| {
                segment
                    .channels
                    .iter()
                    .position(|c| SignalKind::from_name(&c.name) == Some(kind))
                    .map(|i| (kind, i))
            })
            .collect();
        AnalysisChannels::from_segment(segment, &picks, sample_rate_hz)
    }

    /// The samples of `kind`, if picked.
    pub fn get(&self, kind: SignalKind) -> Option<&[f64]> {
        self.channels
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s.as_slice())
    }

    /// Number of samples of every channel.
    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, |(_, s)| s.len())
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The channels as borrowed [`Signals`] (sample 0 = index 0).
    pub fn signals(&self) -> Signals<'_> {
        let mut signals = Signals::default();
        for (kind, samples) in &self.channels {
            signals.set(*kind, Some(samples));
        }
        signals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSeries;

    fn series(name: &str, rate: f64, n: usize) -> TimeSeries {
        TimeSeries {
            name: name.into(),
            unit: String::new(),
            sample_rate_hz: rate,
            samples: vec![1.0; n],
        }
    }

    #[test]
    fn resamples_picks_and_cuts_to_a_common_length() {
        let segment = Segment {
            start_s: 2.0,
            channels: vec![
                series("ecg", 250.0, 1000),
                series("x", 200.0, 800),
                series("pa", 1000.0, 3999),
            ],
        };
        let prepared = AnalysisChannels::from_named_channels(&segment, 1000.0).unwrap();
        assert_eq!(prepared.len(), 3997);
        assert!(prepared.get(SignalKind::Ecg).is_some() && prepared.get(SignalKind::Ipv).is_none());
        assert_eq!(prepared.signals().len(), Ok(3997));
        let picked = AnalysisChannels::from_segment(&segment, &[(SignalKind::Ipv, 1)], 1000.0).unwrap();
        assert_eq!(picked.len(), 3996);
        assert!(AnalysisChannels::from_segment(&segment, &[(SignalKind::Pa, 7)], 1000.0).is_err());
        let duplicate = [(SignalKind::Pa, 0), (SignalKind::Pa, 2)];
        assert!(AnalysisChannels::from_segment(&segment, &duplicate, 1000.0).is_err());
    }
}
