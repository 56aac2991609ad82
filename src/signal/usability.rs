//! Is a channel usable? Flat lines, noise, implausible pressures and missing samples are labelled with their
//! reason instead of being fed to a detector that would fabricate beats from them.
//!
//! Checks (thresholds in [`UsabilitySettings`]), on the finite samples:
//! - too short (under 1.5 s) or mostly missing (over 50 % `NaN`): unusable; fewer gaps are reported but allowed;
//! - flat: standard deviation below a per-signal floor (0.5 mmHg, 0.5 cm/s, 0.5 mL; ECG 1e-3);
//! - noise: physiological signals keep most of their power below 20 Hz (pressure > 99 %, ECG 83-97 % on the
//!   reference recordings), white noise sampled at 125-1000 Hz only 4-33 %; below 60 % the channel is noise.
//!   Measured with a second-order low-pass (time domain, no FFT needed for one band) on the whole channel, or on
//!   20 evenly spaced 10 s windows of a long one;
//! - implausible pressure: mean below 0 mmHg (e.g. a negative mean arterial pressure: zero or calibration
//!   fault) or above 250 mmHg.
//!
//! A flat channel cannot time beats but its values can still label them (a flat aortic trace on full ECMO flow is
//! non-pulsatile, not absent): [`ChannelReport::usable_as_fiducial`] vs [`ChannelReport::usable_for_measures`].
//! Moments are computed on every 4th sample at 1 kHz (a 250 Hz subsample), which keeps the cost small.

use serde::{Deserialize, Serialize};

use super::filter::Cascade;
use super::settings::UsabilitySettings;
use crate::model::SignalKind;

/// A problem found in a channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum ChannelIssue {
    /// Shorter than the minimum record length.
    TooShort {
        /// Its duration.
        duration_s: f64,
    },
    /// Too many samples missing.
    MostlyMissing {
        /// Fraction of samples that are `NaN`.
        missing_fraction: f64,
    },
    /// Some samples missing (not disqualifying; beats across gaps are rejected one by one).
    Gaps {
        /// Number of runs of missing samples.
        num_gaps: usize,
        /// Fraction of samples missing.
        missing_fraction: f64,
    },
    /// No variation.
    Flat {
        /// Standard deviation, in the channel's unit.
        std: f64,
    },
    /// No physiological structure: too little of the power at low frequencies.
    Noise {
        /// Fraction of the (mean-removed) power below the noise-test band edge.
        low_band_fraction: f64,
    },
    /// A pressure whose mean cannot be physiological.
    ImplausiblePressure {
        /// Mean pressure, mmHg.
        mean_mmhg: f64,
    },
}

impl ChannelIssue {
    /// The issue in words, for reports.
    pub fn describe(&self) -> String {
        match self {
            ChannelIssue::TooShort { duration_s } => format!("too short ({duration_s:.2} s)"),
            ChannelIssue::MostlyMissing { missing_fraction } => {
                format!("mostly missing ({:.0} % of samples)", 100.0 * missing_fraction)
            }
            ChannelIssue::Gaps {
                num_gaps,
                missing_fraction,
            } => {
                format!(
                    "{num_gaps} gap(s), {:.1} % of samples missing",
                    100.0 * missing_fraction
                )
            }
            ChannelIssue::Flat { std } => format!("flat (standard deviation {std:.3})"),
            ChannelIssue::Noise { low_band_fraction } => {
                format!(
                    "noise (only {:.0} % of its power at low frequencies)",
                    100.0 * low_band_fraction
                )
            }
            ChannelIssue::ImplausiblePressure { mean_mmhg } => {
                format!("implausible pressure (mean {mean_mmhg:.1} mmHg)")
            }
        }
    }
}

/// The verdict on one channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelReport {
    /// Which channel.
    pub kind: SignalKind,
    /// Everything found (empty when the channel looks fine).
    pub issues: Vec<ChannelIssue>,
}

impl ChannelReport {
    /// Whether beats may be detected on this channel.
    pub fn usable_as_fiducial(&self) -> bool {
        self.issues
            .iter()
            .all(|issue| matches!(issue, ChannelIssue::Gaps { .. }))
    }

    /// Whether its values may label and measure beats detected on another channel.
    pub fn usable_for_measures(&self) -> bool {
        self.issues
            .iter()
            .all(|issue| matches!(issue, ChannelIssue::Gaps { .. } | ChannelIssue::Flat { .. }))
    }

    /// Whether the channel misses no sample (no gaps found, and it was not too empty to look).
    pub fn complete(&self) -> bool {
        !self.issues.iter().any(|issue| {
            matches!(
                issue,
                ChannelIssue::Gaps { .. } | ChannelIssue::MostlyMissing { .. }
            )
        })
    }

    /// The disqualifying issues in words (empty when usable as a fiducial).
    pub fn reason(&self) -> String {
        let words: Vec<String> = self
            .issues
            .iter()
            .filter(|issue| !matches!(issue, ChannelIssue::Gaps { .. }))
            .map(ChannelIssue::describe)
            .collect();
        words.join("; ")
    }
}

/// Checks one channel sampled at `sample_rate_hz`.
pub fn assess(
    kind: SignalKind,
    samples: &[f64],
    sample_rate_hz: f64,
    settings: &UsabilitySettings,
) -> ChannelReport {
    let mut issues = Vec::new();
    let n = samples.len();
    let duration_s = n as f64 / sample_rate_hz;
    if duration_s < settings.min_duration_s {
        issues.push(ChannelIssue::TooShort { duration_s });
    }
    // Missing samples, counted exactly, and the sum of the moments' ~250 Hz subsample, in one pass (the variance
    // reads the subsample again, below).
    let stride = ((sample_rate_hz / 250.0).floor() as usize).max(1);
    let Scan {
        num_missing,
        num_gaps,
        count,
        sum,
    } = Scan::of(samples, stride);
    let missing_fraction = if n == 0 {
        1.0
    } else {
        num_missing as f64 / n as f64
    };
    if missing_fraction > settings.max_missing_fraction {
        issues.push(ChannelIssue::MostlyMissing { missing_fraction });
        return ChannelReport { kind, issues };
    }
    if num_gaps > 0 {
        issues.push(ChannelIssue::Gaps {
            num_gaps,
            missing_fraction,
        });
    }
    // Moments on the subsample.
    if count < 2 {
        return ChannelReport { kind, issues };
    }
    let mean = sum / count as f64;
    let var = subsample(samples, stride)
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>();
    let std = (var / count as f64).sqrt();
    let flat_floor = match kind {
        SignalKind::Ecg => settings.flat_ecg,
        SignalKind::Ipv => settings.flat_velocity_cm_s,
        SignalKind::Lvv => settings.flat_volume_ml,
        _ => settings.flat_pressure_mmhg,
    };
    if std < flat_floor {
        issues.push(ChannelIssue::Flat { std });
    } else if let Some(low_band_fraction) = low_band_fraction(samples, sample_rate_hz, settings.noise_band_hz)
        && low_band_fraction < settings.min_low_band_fraction
    {
        issues.push(ChannelIssue::Noise { low_band_fraction });
    }
    if matches!(kind, SignalKind::Pa | SignalKind::Pd | SignalKind::Lvp)
        && !(settings.min_mean_pressure_mmhg..=settings.max_mean_pressure_mmhg).contains(&mean)
    {
        issues.push(ChannelIssue::ImplausiblePressure { mean_mmhg: mean });
    }
    ChannelReport { kind, issues }
}

/// The valid samples of the moments' subsample of `samples`: every `stride`-th sample from the first.
fn subsample(samples: &[f64], stride: usize) -> impl Iterator<Item = f64> + '_ {
    samples.iter().step_by(stride).copied().filter(|v| !v.is_nan())
}

/// What one pass over a channel finds: its missing samples, and the valid samples of its subsample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Scan {
    /// Samples missing (`NaN`).
    num_missing: usize,
    /// Runs of missing samples.
    num_gaps: usize,
    /// Valid samples of the subsample ([`subsample`]).
    count: usize,
    /// Their sum, added in order.
    sum: f64,
}

impl Scan {
    /// Scans `samples` block by block: the missing samples of a block counted without a branch per sample, and
    /// its runs of them only when there are some; then the block's part of the subsample, while the block is in
    /// the cache.
    fn of(samples: &[f64], stride: usize) -> Scan {
        let mut scan = Scan::default();
        let mut in_gap = false;
        // A multiple of the stride, so that every block's first sample is on the subsample grid.
        for block in samples.chunks(stride.saturating_mul(1024)) {
            let missing = block.iter().filter(|v| v.is_nan()).count();
            if missing == 0 {
                in_gap = false;
                for v in block.iter().step_by(stride) {
                    scan.sum += v;
                }
                scan.count += block.len().div_ceil(stride);
                continue;
            }
            scan.num_missing += missing;
            for v in block {
                scan.num_gaps += usize::from(v.is_nan() && !in_gap);
                in_gap = v.is_nan();
            }
            for v in subsample(block, stride) {
                scan.sum += v;
                scan.count += 1;
            }
        }
        scan
    }
}

/// Fraction of the mean-removed power of `samples` below `band_hz` (`None` when it cannot be measured).
fn low_band_fraction(samples: &[f64], sample_rate_hz: f64, band_hz: f64) -> Option<f64> {
    let filter = Cascade::low_pass(band_hz, sample_rate_hz).ok()?;
    let window = (10.0 * sample_rate_hz) as usize;
    const NUM_WINDOWS: usize = 20;
    let windows: Vec<&[f64]> = if samples.len() <= 2 * NUM_WINDOWS * window {
        vec![samples]
    } else {
        let step = (samples.len() - window) / (NUM_WINDOWS - 1);
        (0..NUM_WINDOWS)
            .map(|k| &samples[k * step..k * step + window])
            .collect()
    };
    let (mut low, mut total) = (0.0, 0.0);
    for part in windows {
        let finite = part.iter().filter(|v| !v.is_nan());
        let (sum, count) = finite.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
        if count == 0 {
            continue;
        }
        let mean = sum / count as f64;
        let mut lp = filter.clone();
        for &v in part {
            let y = lp.step(v - mean);
            if !y.is_nan() {
                low += y * y;
                total += (v - mean) * (v - mean);
            }
        }
    }
    (total > 0.0).then(|| low / total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Rng;

    /// The missing samples, runs of them and the subsample's sum as `assess` counted them before one pass did:
    /// sample by sample, the subsample gathered into a vector.
    fn scan_sample_by_sample(samples: &[f64], stride: usize) -> Scan {
        let (mut num_missing, mut num_gaps, mut in_gap) = (0, 0, false);
        for v in samples {
            if v.is_nan() {
                num_missing += 1;
                num_gaps += usize::from(!in_gap);
                in_gap = true;
            } else {
                in_gap = false;
            }
        }
        let subsample: Vec<f64> = samples
            .iter()
            .step_by(stride)
            .copied()
            .filter(|v| !v.is_nan())
            .collect();
        let mut sum = 0.0;
        for v in &subsample {
            sum += v;
        }
        Scan {
            num_missing,
            num_gaps,
            count: subsample.len(),
            sum,
        }
    }

    #[test]
    fn one_pass_scan_finds_what_the_sample_by_sample_count_found_bit_for_bit() {
        let mut rng = Rng::new(5);
        for stride in [1, 4, 8] {
            let block = stride * 1024;
            for len in [0usize, 1, 999, 3 * block + 5] {
                let clean: Vec<f64> = (0..len)
                    .map(|i| 80.0 + 20.0 * (i as f64 / 130.0).sin() + rng.uniform_in(-0.5, 0.5))
                    .collect();
                // No gap; scattered single missing samples; runs at the ends and across block boundaries.
                let mut scattered = clean.clone();
                scattered.iter_mut().for_each(|v| {
                    if rng.uniform() < 0.01 {
                        *v = f64::NAN;
                    }
                });
                let mut runs = clean.clone();
                for (from, to) in [
                    (0, 3),
                    (block - 2, block + 7),
                    (2 * block, 2 * block + 1),
                    (len.saturating_sub(4), len),
                ] {
                    runs[from.min(len)..to.min(len)].fill(f64::NAN);
                }
                for samples in [clean, scattered, runs] {
                    let (got, expected) = (
                        Scan::of(&samples, stride),
                        scan_sample_by_sample(&samples, stride),
                    );
                    assert_eq!(got, expected, "stride {stride}, {len} samples");
                    assert_eq!(got.sum.to_bits(), expected.sum.to_bits());
                }
            }
        }
    }

    #[test]
    fn a_channel_is_complete_exactly_when_no_sample_is_missing() {
        let settings = UsabilitySettings::default();
        let pressure: Vec<f64> = (0..5000)
            .map(|t| 80.0 + 20.0 * (t as f64 / 130.0).sin())
            .collect();
        let report = |samples: &[f64]| assess(SignalKind::Pa, samples, 1000.0, &settings);
        assert!(report(&pressure).complete());
        let mut one_gap = pressure.clone();
        one_gap[4999] = f64::NAN;
        assert!(!report(&one_gap).complete());
        assert!(report(&one_gap).usable_as_fiducial());
        assert!(!report(&[f64::NAN; 5000]).complete());
        // Too short or flat, yet nothing missing: complete all the same.
        assert!(report(&pressure[..100]).complete());
        assert!(report(&[80.0; 5000]).complete());
    }
}
