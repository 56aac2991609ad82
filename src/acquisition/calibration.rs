//! Calibration of console channels: pressure zeroing against atmosphere, two-point scaling, and conductance
//! volume calibration (slope factor alpha, parallel conductance volume), per ENDPOINTS.md section 5.
//!
//! A calibration is a correction applied to displayed and analysed values; raw samples are never rewritten. Live,
//! the engine applies the calibration in force to each block before it enters the ring buffers the traces, numbers
//! and online analysis read ([`LiveSource::calibrate`](super::LiveSource::calibrate), [`LiveSource::zero_of`](super::LiveSource::zero_of)), while the recorder gets the raw
//! block. Each calibration is stored in the case file (the store's calibration table, through
//! [`store_calibration`]) with who made it, when (UTC), how, and the sample it took effect from, and the case
//! file's readers apply it from that sample on ([`calibrate_series`]): what is read back is what was shown live,
//! and the raw samples stay lossless.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::store::{CaseFile, StoreError};

/// Seconds of signal averaged for a zero.
pub const ZERO_WINDOW_S: f64 = 2.0;

/// A zero is refused when the signal over the window varies more than this (standard deviation, in the
/// channel's unit): the transducer is then not open to atmosphere (still on the patient, or being flushed).
pub const MAX_ZERO_SD: f64 = 1.5;

/// How a channel's displayed and analysed value is obtained from the recorded one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Calibration {
    /// `value = raw x gain + offset` (zeroing sets the offset, two-point scaling both).
    Linear {
        /// Multiplier.
        gain: f64,
        /// Added after the gain, in the channel's unit.
        offset: f64,
    },
    /// Conductance volume: `V = (V_raw - parallel_ml) / alpha`, i.e. `V = (1/alpha) rho L^2 (G - Gp)` with the
    /// console's uncalibrated volume `V_raw = rho L^2 G` and the parallel conductance volume `rho L^2 Gp`.
    Volume {
        /// Slope factor: conductance stroke volume / reference stroke volume.
        alpha: f64,
        /// Parallel conductance volume, mL (from hypertonic saline).
        parallel_ml: f64,
    },
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration::IDENTITY
    }
}

/// Why a calibration could not be made.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum CalibrationError {
    /// Too few valid samples in the window.
    #[error("too few valid samples to calibrate ({num_valid} of {num_needed} needed)")]
    TooFewSamples {
        /// Valid (finite) samples found.
        num_valid: usize,
        /// Samples needed.
        num_needed: usize,
    },
    /// The signal is not steady enough for a zero.
    #[error(
        "the signal varies too much to zero (SD {sd:.2} > {MAX_ZERO_SD}): open the transducer to air and wait for a flat trace"
    )]
    NotSteady {
        /// Standard deviation over the window.
        sd: f64,
    },
    /// The inputs do not define a calibration (equal points, non-positive volumes, slope 1, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Calibration {
    /// No correction.
    pub const IDENTITY: Calibration = Calibration::Linear {
        gain: 1.0,
        offset: 0.0,
    };

    /// The calibrated value of a recorded one.
    pub fn apply(&self, raw: f64) -> f64 {
        match *self {
            Calibration::Linear { gain, offset } => raw * gain + offset,
            Calibration::Volume { alpha, parallel_ml } => (raw - parallel_ml) / alpha,
        }
    }

    /// The recorded value that reads `value` (the inverse of [`Calibration::apply`]; needs a calibration that
    /// passes [`Calibration::check`]).
    pub fn raw_from(&self, value: f64) -> f64 {
        match *self {
            Calibration::Linear { gain, offset } => (value - offset) / gain,
            Calibration::Volume { alpha, parallel_ml } => value * alpha + parallel_ml,
        }
    }

    /// Whether the calibration can be applied and undone: finite numbers, a gain other than 0, a positive alpha.
    pub fn check(&self) -> Result<(), CalibrationError> {
        let ok = match *self {
            Calibration::Linear { gain, offset } => gain.is_finite() && gain != 0.0 && offset.is_finite(),
            Calibration::Volume { alpha, parallel_ml } => {
                alpha.is_finite() && alpha > 0.0 && parallel_ml.is_finite()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(CalibrationError::Invalid(format!(
                "{} is not a usable calibration (finite numbers, gain not 0, alpha above 0)",
                self.describe()
            )))
        }
    }

    /// Calibrates samples in place (for display buffers and analysis copies, never for recorded data).
    pub fn apply_all(&self, samples: &mut [f32]) {
        for sample in samples {
            *sample = self.apply(f64::from(*sample)) as f32;
        }
    }

    /// Whether this calibration changes nothing.
    pub fn is_identity(&self) -> bool {
        matches!(
            *self,
            Calibration::Linear {
                gain: 1.0,
                offset: 0.0
            } | Calibration::Volume {
                alpha: 1.0,
                parallel_ml: 0.0
            }
        )
    }

    /// The formula in words, for tooltips and reports.
    pub fn describe(&self) -> String {
        match *self {
            Calibration::Linear { gain, offset } => format!("value = raw x {gain:.6} {offset:+.4}"),
            Calibration::Volume { alpha, parallel_ml } => {
                format!(
                    "V = (V_raw - {parallel_ml:.2} mL) / {alpha:.4} (alpha {alpha:.4}, parallel {parallel_ml:.2} mL)"
                )
            }
        }
    }
}

/// Mean and standard deviation of the finite samples, with their count.
pub(super) fn mean_sd(samples: &[f32]) -> (f64, f64, usize) {
    let valid: Vec<f64> = samples
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| f64::from(v))
        .collect();
    let n = valid.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, 0);
    }
    let mean = valid.iter().sum::<f64>() / n as f64;
    let variance = valid.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    (mean, variance.sqrt(), n)
}

/// Zeroes a pressure channel against atmosphere: `recent_raw` are the recorded samples of (about) the last
/// [`ZERO_WINDOW_S`] seconds at `sample_rate_hz` while the transducer is open to air. Keeps the gain of `current`
/// and sets the offset so that their mean reads 0. Refused when under 80 % of the window is valid, or when the
/// signal is not flat (see [`MAX_ZERO_SD`], in calibrated units).
pub fn zero(
    current: Calibration,
    recent_raw: &[f32],
    sample_rate_hz: f64,
) -> Result<Calibration, CalibrationError> {
    let num_needed = ((ZERO_WINDOW_S * sample_rate_hz * 0.8).ceil() as usize).max(2);
    let (mean, sd, num_valid) = mean_sd(recent_raw);
    if num_valid < num_needed {
        return Err(CalibrationError::TooFewSamples {
            num_valid,
            num_needed,
        });
    }
    let gain = match current {
        Calibration::Linear { gain, .. } => gain,
        Calibration::Volume { .. } => {
            return Err(CalibrationError::Invalid(
                "a volume channel is calibrated, not zeroed".into(),
            ));
        }
    };
    if sd * gain.abs() > MAX_ZERO_SD {
        return Err(CalibrationError::NotSteady { sd: sd * gain.abs() });
    }
    Ok(Calibration::Linear {
        gain,
        offset: -mean * gain,
    })
}

/// The calibration under which a channel reads `factor` times what it reads under `current`: a gain on the
/// calibrated signal, so a zero stays zero (Pd equalised to Pa: `factor` = 1 / the Pd/Pa read with the sensor
/// at the catheter tip).
pub fn scaled(current: Calibration, factor: f64) -> Result<Calibration, CalibrationError> {
    let scaled = match current {
        Calibration::Linear { gain, offset } => Calibration::Linear {
            gain: gain * factor,
            offset: offset * factor,
        },
        Calibration::Volume { .. } => {
            return Err(CalibrationError::Invalid(
                "a volume channel is calibrated, not scaled".into(),
            ));
        }
    };
    scaled.check()?;
    Ok(scaled)
}

/// Two-point scaling: the channel read `raw_low` at the known value `reference_low` and `raw_high` at
/// `reference_high` (e.g. 0 and 100 mmHg from a calibrator).
pub fn two_point(
    raw_low: f64,
    reference_low: f64,
    raw_high: f64,
    reference_high: f64,
) -> Result<Calibration, CalibrationError> {
    let values = [raw_low, reference_low, raw_high, reference_high];
    if values.iter().any(|v| !v.is_finite()) {
        return Err(CalibrationError::Invalid(
            "two-point calibration needs four finite numbers".into(),
        ));
    }
    if raw_high == raw_low || reference_high == reference_low {
        return Err(CalibrationError::Invalid(
            "the two calibration points must differ".into(),
        ));
    }
    let gain = (reference_high - reference_low) / (raw_high - raw_low);
    Ok(Calibration::Linear {
        gain,
        offset: reference_low - gain * raw_low,
    })
}

/// Parallel conductance volume from a hypertonic saline bolus: the beats' end-systolic and end-diastolic
/// (uncalibrated) volumes during the wash-in fit `V_es = m V_ed + b`, and the parallel volume is where that line
/// meets the identity, `b / (1 - m)` (ENDPOINTS.md section 5). Needs at least 3 beats and a slope clearly below 1.
pub fn parallel_volume_from_saline(edv_ml: &[f64], esv_ml: &[f64]) -> Result<f64, CalibrationError> {
    let pairs: Vec<(f64, f64)> = edv_ml
        .iter()
        .zip(esv_ml)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .collect();
    if edv_ml.len() != esv_ml.len() {
        return Err(CalibrationError::Invalid(
            "as many end-systolic as end-diastolic volumes are needed".into(),
        ));
    }
    if pairs.len() < 3 {
        return Err(CalibrationError::TooFewSamples {
            num_valid: pairs.len(),
            num_needed: 3,
        });
    }
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    if sxx <= 0.0 {
        return Err(CalibrationError::Invalid(
            "end-diastolic volumes do not change during the saline wash-in".into(),
        ));
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    // NaN (cannot happen with sxx > 0 and finite data) is refused with the rest.
    if slope.is_nan() || slope >= 0.95 {
        return Err(CalibrationError::Invalid(format!(
            "slope {slope:.3} of V_es on V_ed is not below 1: the line does not meet the identity"
        )));
    }
    Ok(intercept / (1.0 - slope))
}

/// Slope factor alpha: the conductance stroke volume (uncalibrated, parallel volume cancels) over a reference
/// stroke volume measured at the same time.
pub fn alpha_from_stroke_volumes(
    conductance_stroke_volume_ml: f64,
    reference_stroke_volume_ml: f64,
) -> Result<f64, CalibrationError> {
    let usable = |sv: f64| sv.is_finite() && sv > 0.0;
    if !(usable(conductance_stroke_volume_ml) && usable(reference_stroke_volume_ml)) {
        return Err(CalibrationError::Invalid(
            "both stroke volumes must be positive".into(),
        ));
    }
    Ok(conductance_stroke_volume_ml / reference_stroke_volume_ml)
}

/// One calibration as stored in the case: on which channel, what, how it was obtained, from when on the
/// recording's time axis, and who made it (the store adds the wall-clock time, UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRecord {
    /// The source's id, e.g. `coronary`.
    pub source: String,
    /// The channel, e.g. `pa`.
    pub channel: String,
    /// The calibration in force from `time_s` on.
    pub calibration: Calibration,
    /// How it was obtained, e.g. `zero: mean of 2.0 s open to air (raw mean 3.41 mmHg)`.
    pub method: String,
    /// Seconds on the source's time axis (sample index / rate) of the first sample it applies to.
    pub time_s: f64,
    /// Who calibrated (the operator of the case).
    pub who: String,
}

impl CalibrationRecord {
    /// Index of the first sample it applies to, at `sample_rate_hz`.
    pub fn first_sample(&self, sample_rate_hz: f64) -> u64 {
        (self.time_s * sample_rate_hz).round().max(0.0) as u64
    }
}

/// Stores a calibration in the case (the store's calibration table, audited under `record.who` with the method
/// as the reason). Returns the row id.
pub fn store_calibration(file: &mut CaseFile, record: &CalibrationRecord) -> Result<i64, StoreError> {
    record
        .calibration
        .check()
        .map_err(|error| StoreError::Invalid(error.to_string()))?;
    let json = serde_json::to_value(record).map_err(|error| StoreError::Invalid(error.to_string()))?;
    file.set_calibration(
        &record.who,
        &record.source,
        &record.channel,
        &json,
        &record.method,
    )
}

/// Every calibration stored in the case, oldest first, with the wall-clock time it was stored (UTC). A row that
/// does not read as a [`CalibrationRecord`] is an error: applying nothing would show raw values as calibrated.
pub fn stored_calibrations(file: &CaseFile) -> Result<Vec<(String, CalibrationRecord)>, StoreError> {
    file.calibrations()?
        .into_iter()
        .map(|row| {
            serde_json::from_value(row.calibration)
                .map(|record| (row.utc, record))
                .map_err(|error| {
                    StoreError::Invalid(format!("calibration row {} cannot be read: {error}", row.id))
                })
        })
        .collect()
}

/// Applies to `values`, samples `first_sample..` of one channel at `sample_rate_hz`, that channel's calibrations
/// `records` (oldest first): each from its first sample until the next one's; samples before the first stay as
/// recorded (no calibration was in force then).
pub fn calibrate_series(
    values: &mut [f64],
    first_sample: u64,
    sample_rate_hz: f64,
    records: &[&CalibrationRecord],
) {
    let len = values.len();
    let local = |sample: u64| (sample.saturating_sub(first_sample)).min(len as u64) as usize;
    for (index, record) in records.iter().enumerate() {
        let from = local(record.first_sample(sample_rate_hz));
        let to = records
            .get(index + 1)
            .map_or(len, |next| local(next.first_sample(sample_rate_hz)));
        if from < to {
            for value in &mut values[from..to] {
                *value = record.calibration.apply(*value);
            }
        }
    }
}

/// The calibrations stored for channel `channel` of source `source`, oldest first.
pub fn channel_calibrations(
    file: &CaseFile,
    source: &str,
    channel: &str,
) -> Result<Vec<CalibrationRecord>, StoreError> {
    Ok(stored_calibrations(file)?
        .into_iter()
        .map(|(_, record)| record)
        .filter(|record| record.source == source && record.channel == channel)
        .collect())
}

/// The calibrated envelope of samples `first_sample..end_sample` whose raw min and max are given (a stored chunk
/// summary): every calibration in force anywhere in the range maps both ends (each is monotonic), and the result
/// spans them all, so it holds every calibrated sample of the range.
pub fn calibrate_envelope(
    (min, max): (f32, f32),
    (first_sample, end_sample): (u64, u64),
    sample_rate_hz: f64,
    records: &[CalibrationRecord],
) -> (f32, f32) {
    if min.is_nan() || max.is_nan() {
        // A range with no finite sample stays empty.
        return (min, max);
    }
    let starts: Vec<u64> = records.iter().map(|r| r.first_sample(sample_rate_hz)).collect();
    // The one in force at the first sample (none: as recorded), and every one that starts inside the range.
    let at_first = starts.iter().rposition(|&start| start <= first_sample);
    let mut in_force: Vec<Calibration> = match at_first {
        Some(index) => vec![records[index].calibration],
        None => vec![Calibration::IDENTITY],
    };
    in_force.extend(
        records
            .iter()
            .zip(&starts)
            .filter(|(_, start)| **start > first_sample && **start < end_sample)
            .map(|(record, _)| record.calibration),
    );
    in_force
        .iter()
        .flat_map(|c| [c.apply(f64::from(min)) as f32, c.apply(f64::from(max)) as f32])
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_sets_the_offset_and_refuses_a_pulsatile_signal() {
        let open_to_air: Vec<f32> = (0..2000).map(|i| 7.5 + 0.3 * ((i as f32) * 0.7).sin()).collect();
        let zeroed = zero(
            Calibration::Linear {
                gain: 2.0,
                offset: 10.0,
            },
            &open_to_air,
            1000.0,
        )
        .unwrap();
        let (mean, _, _) = mean_sd(&open_to_air);
        assert!(zeroed.apply(mean).abs() < 1e-9);
        assert_eq!(
            zeroed,
            Calibration::Linear {
                gain: 2.0,
                offset: -2.0 * mean
            }
        );
        let arterial: Vec<f32> = (0..2000)
            .map(|i| 90.0 + 20.0 * ((i as f32) * 0.006).sin())
            .collect();
        assert!(matches!(
            zero(Calibration::IDENTITY, &arterial, 1000.0),
            Err(CalibrationError::NotSteady { .. })
        ));
        let mut sparse = open_to_air.clone();
        sparse[..1000].fill(f32::NAN);
        assert!(matches!(
            zero(Calibration::IDENTITY, &sparse, 1000.0),
            Err(CalibrationError::TooFewSamples { .. })
        ));
    }

    #[test]
    fn scaling_multiplies_the_calibrated_reading_and_keeps_the_zero() {
        let zeroed = Calibration::Linear {
            gain: 2.0,
            offset: -7.0,
        };
        let equalised = scaled(zeroed, 1.0 / 0.96).unwrap();
        // Open to air (raw 3.5) it still reads 0; on the patient it reads 1/0.96 times as much.
        assert!(equalised.apply(3.5).abs() < 1e-12);
        assert!((equalised.apply(50.0) - zeroed.apply(50.0) / 0.96).abs() < 1e-9);
        assert!(scaled(zeroed, 0.0).is_err());
        assert!(scaled(zeroed, f64::NAN).is_err());
        assert!(
            scaled(
                Calibration::Volume {
                    alpha: 0.8,
                    parallel_ml: 30.0
                },
                1.1
            )
            .is_err()
        );
    }

    #[test]
    fn two_point_maps_both_points() {
        let calibration = two_point(0.12, 0.0, 1.12, 100.0).unwrap();
        assert!((calibration.apply(0.12)).abs() < 1e-9);
        assert!((calibration.apply(1.12) - 100.0).abs() < 1e-9);
        assert!((calibration.apply(0.62) - 50.0).abs() < 1e-9);
        assert!(two_point(1.0, 0.0, 1.0, 100.0).is_err());
        assert!(two_point(f64::NAN, 0.0, 1.0, 100.0).is_err());
    }

    #[test]
    fn volume_calibration_recovers_a_known_ventricle() {
        // A ventricle with true EDV/ESV falling during saline wash-in; the conductance catheter reads
        // V_raw = alpha V_true + Vp with alpha 0.8 and Vp 60 mL. Saline raises the blood conductivity, so the
        // measured volumes rise while the true ones stay: model that as a multiplier k on the blood signal.
        let (alpha_true, parallel_true) = (0.8, 60.0);
        let (edv_true, esv_true) = (150.0, 90.0);
        let ks = [1.0, 1.1, 1.25, 1.4, 1.6];
        let edv: Vec<f64> = ks
            .iter()
            .map(|k| alpha_true * k * edv_true + parallel_true)
            .collect();
        let esv: Vec<f64> = ks
            .iter()
            .map(|k| alpha_true * k * esv_true + parallel_true)
            .collect();
        let parallel = parallel_volume_from_saline(&edv, &esv).unwrap();
        assert!((parallel - parallel_true).abs() < 1e-9, "{parallel}");
        let alpha = alpha_from_stroke_volumes(edv[0] - esv[0], edv_true - esv_true).unwrap();
        assert!((alpha - alpha_true).abs() < 1e-12);
        let calibration = Calibration::Volume {
            alpha,
            parallel_ml: parallel,
        };
        assert!((calibration.apply(edv[0]) - edv_true).abs() < 1e-9);
        assert!((calibration.apply(esv[0]) - esv_true).abs() < 1e-9);
        assert!(parallel_volume_from_saline(&edv[..2], &esv[..2]).is_err());
        assert!(
            parallel_volume_from_saline(&edv, &edv).is_err(),
            "slope 1 never meets the identity"
        );
        assert!(alpha_from_stroke_volumes(-1.0, 50.0).is_err());
    }

    #[test]
    fn serialises_as_tagged_records() {
        let json = serde_json::to_string(&Calibration::Volume {
            alpha: 0.8,
            parallel_ml: 60.0,
        })
        .unwrap();
        assert_eq!(json, r#"{"kind":"volume","alpha":0.8,"parallel_ml":60.0}"#);
        assert!(Calibration::IDENTITY.is_identity());
        let mut samples = [1.0f32, 2.0];
        Calibration::Linear {
            gain: 2.0,
            offset: 1.0,
        }
        .apply_all(&mut samples);
        assert_eq!(samples, [3.0, 5.0]);
    }

    #[test]
    fn raw_from_undoes_apply_and_unusable_calibrations_are_refused() {
        for calibration in [
            Calibration::Linear {
                gain: -2.5,
                offset: 7.0,
            },
            Calibration::Volume {
                alpha: 0.6,
                parallel_ml: 42.0,
            },
        ] {
            calibration.check().unwrap();
            for raw in [-10.0, 0.0, 3.25, 180.0] {
                assert!((calibration.raw_from(calibration.apply(raw)) - raw).abs() < 1e-12);
            }
        }
        // Volume: raw 102 mL with alpha 0.6 and 42 mL parallel is (102 - 42) / 0.6 = 100 mL.
        let volume = Calibration::Volume {
            alpha: 0.6,
            parallel_ml: 42.0,
        };
        assert!((volume.apply(102.0) - 100.0).abs() < 1e-12);
        for bad in [
            Calibration::Linear {
                gain: 0.0,
                offset: 0.0,
            },
            Calibration::Linear {
                gain: 1.0,
                offset: f64::NAN,
            },
            Calibration::Volume {
                alpha: -0.5,
                parallel_ml: 0.0,
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    fn record(time_s: f64, calibration: Calibration) -> CalibrationRecord {
        CalibrationRecord {
            source: "coronary".into(),
            channel: "pa".into(),
            calibration,
            method: "test".into(),
            time_s,
            who: "dr-a".into(),
        }
    }

    #[test]
    fn each_stored_calibration_applies_from_its_sample_until_the_next() {
        // 100 Hz, samples 1000..1010 (10.00 s to 10.09 s), all reading 5.
        let mut values = vec![5.0; 10];
        let zero = record(
            10.03,
            Calibration::Linear {
                gain: 1.0,
                offset: -5.0,
            },
        );
        let scaled = record(
            10.07,
            Calibration::Linear {
                gain: 2.0,
                offset: 1.0,
            },
        );
        calibrate_series(&mut values, 1000, 100.0, &[&zero, &scaled]);
        assert_eq!(values, [5.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 11.0, 11.0, 11.0]);
        // A calibration from before the stretch applies to all of it; one after it to none.
        let mut values = vec![5.0; 4];
        calibrate_series(&mut values, 1000, 100.0, &[&record(0.0, zero.calibration)]);
        assert_eq!(values, [0.0; 4]);
        let mut values = vec![5.0; 4];
        calibrate_series(&mut values, 1000, 100.0, &[&record(10.5, zero.calibration)]);
        assert_eq!(values, [5.0; 4]);
    }

    #[test]
    fn a_chunk_envelope_spans_every_calibration_in_force() {
        let zero = record(
            1.0,
            Calibration::Linear {
                gain: 1.0,
                offset: -5.0,
            },
        );
        let inverted = record(
            3.0,
            Calibration::Linear {
                gain: -2.0,
                offset: 0.0,
            },
        );
        let records = [zero, inverted];
        // Before any calibration: as recorded.
        assert_eq!(
            calibrate_envelope((4.0, 6.0), (0, 500), 1000.0, &records),
            (4.0, 6.0)
        );
        // Wholly under the zero.
        assert_eq!(
            calibrate_envelope((4.0, 6.0), (1000, 1500), 1000.0, &records),
            (-1.0, 1.0)
        );
        // Straddling the zero: raw (4..6) and zeroed (-1..1).
        assert_eq!(
            calibrate_envelope((4.0, 6.0), (500, 1500), 1000.0, &records),
            (-1.0, 6.0)
        );
        // Under the negative gain, min and max swap: -2 x (4..6) = -12..-8.
        assert_eq!(
            calibrate_envelope((4.0, 6.0), (3000, 3500), 1000.0, &records),
            (-12.0, -8.0)
        );
    }
}
