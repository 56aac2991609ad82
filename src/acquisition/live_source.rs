//! What the engine keeps of one source for the UI and the online analysis: its channels' ring buffers of
//! calibrated values, its connection state and counters, and the calibration in force on each channel.
//!
//! Apart from the engine so that the calibration code and the online analysis can use a source's live state
//! without importing the engine thread (which uses both).

use super::calibration::{Calibration, CalibrationError, ZERO_WINDOW_S, mean_sd, zero};
use super::ring::RingBuffer;
use super::source::SourceStatus;
use crate::model::SourceSpec;

/// What the UI knows about one source.
#[derive(Clone, Debug)]
pub struct LiveSource {
    /// Channels and rate as last announced.
    pub spec: SourceSpec,
    /// Whether the source is delivering samples now.
    pub connected: bool,
    /// Why it is not connected, when it is not.
    pub disconnect_reason: Option<String>,
    /// Whether the source has ended (a replay reached its end).
    pub finished: bool,
    /// Transport and decoder counters.
    pub status: SourceStatus,
    /// Samples received (per channel).
    pub num_samples: u64,
    /// Samples known lost (gaps reported by the source).
    pub num_dropped_samples: u64,
    /// One ring buffer per channel, in the order of `spec.channels`, holding calibrated values.
    pub channels: Vec<RingBuffer>,
    /// The calibration in force on each channel (applied to every block before it enters `channels`; the
    /// recorder gets the raw block).
    pub calibrations: Vec<Calibration>,
    /// Index of the first sample each channel's calibration applies to.
    pub calibrated_from: Vec<u64>,
}

impl LiveSource {
    pub(crate) fn new(spec: SourceSpec, live_window_s: f64) -> LiveSource {
        let capacity = (live_window_s * spec.sample_rate_hz).ceil() as usize;
        LiveSource {
            channels: spec.channels.iter().map(|_| RingBuffer::new(capacity)).collect(),
            calibrations: vec![Calibration::IDENTITY; spec.channels.len()],
            calibrated_from: vec![0; spec.channels.len()],
            spec,
            connected: false,
            disconnect_reason: None,
            finished: false,
            status: SourceStatus::default(),
            num_samples: 0,
            num_dropped_samples: 0,
        }
    }

    /// A connected source whose rings already hold `samples` (one slice per channel, starting at sample 0), with
    /// no calibration: the frame a benchmark draws or a test analyses without running an engine.
    pub fn holding(spec: SourceSpec, samples: &[Vec<f32>]) -> LiveSource {
        let num_samples = samples.first().map_or(0, Vec::len);
        let mut source = LiveSource::new(spec, 0.0);
        source.channels = samples
            .iter()
            .map(|channel| {
                let mut ring = RingBuffer::new(num_samples);
                ring.extend(0, channel);
                ring
            })
            .collect();
        source.connected = true;
        source.num_samples = num_samples as u64;
        source
    }

    /// Index one past the newest sample.
    pub fn end_sample(&self) -> u64 {
        self.channels.first().map_or(0, RingBuffer::end_sample)
    }
}

impl LiveSource {
    fn channel_index(&self, channel: &str) -> Result<usize, CalibrationError> {
        self.spec
            .channels
            .iter()
            .position(|c| c.name == channel)
            .ok_or_else(|| CalibrationError::Invalid(format!("{} has no channel {channel}", self.spec.id)))
    }

    /// Puts `calibration` in force on `channel` from the next sample on (earlier samples keep theirs, as the
    /// case file's readers will); returns the index of that sample.
    pub fn calibrate(&mut self, channel: &str, calibration: Calibration) -> Result<u64, CalibrationError> {
        calibration.check()?;
        let index = self.channel_index(channel)?;
        let from = self.end_sample();
        self.calibrations[index] = calibration;
        self.calibrated_from[index] = from;
        Ok(from)
    }

    /// The zero of `channel` against atmosphere from its newest [`ZERO_WINDOW_S`] seconds (only samples taken
    /// under the calibration in force, so a zero right after another waits for fresh samples), with how it was
    /// obtained; [`LiveSource::calibrate`] puts it in force (separately, so that several channels can be zeroed
    /// all or none).
    pub fn zero_of(&self, channel: &str) -> Result<(Calibration, String), CalibrationError> {
        let index = self.channel_index(channel)?;
        let rate = self.spec.sample_rate_hz;
        let current = self.calibrations[index];
        let end = self.end_sample();
        let window = (ZERO_WINDOW_S * rate).round() as u64;
        let mut shown = Vec::new();
        self.channels[index].copy_range(
            end.saturating_sub(window).max(self.calibrated_from[index]),
            end,
            &mut shown,
        );
        let raw: Vec<f32> = shown
            .iter()
            .map(|&value| current.raw_from(f64::from(value)) as f32)
            .collect();
        let zeroed = zero(current, &raw, rate)?;
        let raw_mean = mean_sd(&raw).0;
        let unit = &self.spec.channels[index].unit;
        let method = format!(
            "zero against atmosphere: mean of the last {:.1} s ({} samples) read {raw_mean:.3} {unit} raw",
            raw.len() as f64 / rate,
            raw.len()
        );
        Ok((zeroed, method))
    }

    /// Keeps the calibrations of `old`'s channels that `self` (the same source after a reconnection) still has,
    /// by name, in force from `first_sample` (the new segment's first sample).
    pub(crate) fn carry_calibrations(&mut self, old: &LiveSource, first_sample: u64) {
        for (index, channel) in self.spec.channels.iter().enumerate() {
            if let Some(old_index) = old.spec.channels.iter().position(|c| c.name == channel.name) {
                self.calibrations[index] = old.calibrations[old_index];
                self.calibrated_from[index] = first_sample;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_pressure(values: impl Iterator<Item = f32>) -> LiveSource {
        let spec = crate::model::SourceSpec {
            id: "coronary".into(),
            label: "Coronary console".into(),
            sample_rate_hz: 1000.0,
            channels: vec![crate::model::ChannelSpec {
                name: "pa".into(),
                unit: "mmHg".into(),
            }],
        };
        let mut source = LiveSource::new(spec, 10.0);
        let samples: Vec<f32> = values.collect();
        source.channels[0].extend(0, &samples);
        source
    }

    #[test]
    fn a_live_zero_uses_the_raw_values_of_the_last_two_seconds() {
        // 3 s: the first second at 40 mmHg (on the patient), then 2 s open to air reading 6.5 +- 0.2 mmHg. The
        // channel already has a gain of 2 (two-point scaled), so the ring holds 2 x raw and the raw mean is 6.5.
        let mut source = live_pressure((0..3000).map(|i| {
            if i < 1000 {
                80.0
            } else {
                2.0 * (6.5 + 0.2 * ((i % 2) as f32 * 2.0 - 1.0))
            }
        }));
        source.calibrations[0] = Calibration::Linear {
            gain: 2.0,
            offset: 0.0,
        };
        let (zeroed, method) = source.zero_of("pa").unwrap();
        assert_eq!(source.calibrate("pa", zeroed).unwrap(), 3000);
        let Calibration::Linear { gain, offset } = zeroed else {
            panic!("{zeroed:?}");
        };
        assert_eq!(gain, 2.0);
        assert!((offset + 13.0).abs() < 1e-4, "{offset}");
        assert!(method.contains("6.500 mmHg"), "{method}");
        assert_eq!(source.calibrations[0], zeroed);
        assert_eq!(source.calibrated_from[0], 3000);
        // Right after, no sample has been taken under the new zero: wait for fresh ones.
        assert!(matches!(
            source.zero_of("pa"),
            Err(CalibrationError::TooFewSamples { num_valid: 0, .. })
        ));
        assert!(source.zero_of("pd").is_err());
        assert!(
            source
                .calibrate(
                    "pa",
                    Calibration::Linear {
                        gain: 0.0,
                        offset: 1.0
                    }
                )
                .is_err()
        );
    }
}
