//! Anti-aliasing low-pass FIR filters designed by the Kaiser window method, and integer-factor decimation
//! through them. Used where a signal must leave at a lower rate with nothing above the new Nyquist frequency
//! folded back into the band (the DICOM Hemodynamic Waveform export at 250 Hz).
//!
//! Method (Kaiser 1974; Oppenheim & Schafer, *Discrete-Time Signal Processing*, 3rd ed., section 7.6): for a
//! pass-band edge `f_p`, stop-band edge `f_s` and stop-band attenuation `A` dB at sample rate `F`,
//! - the ideal low-pass is cut at the middle of the transition band, `f_c = (f_p + f_s) / 2`;
//! - the window shape is `beta = 0.1102 (A - 8.7)` for `A > 50`, `0.5842 (A - 21)^0.4 + 0.07886 (A - 21)` for
//!   `21 <= A <= 50`, `0` below;
//! - the order is `N = (A - 8) / (2.285 * 2 pi (f_s - f_p) / F)`, rounded up to an even number (odd length,
//!   so the delay is a whole number of samples and the filter is applied centred: zero phase);
//! - `h[n] = 2 f_c / F * sinc(2 f_c / F * (n - N/2)) * I0(beta sqrt(1 - ((n - N/2) / (N/2))^2)) / I0(beta)`,
//!   scaled to a DC gain of exactly 1 (a mean pressure is kept).
//!
//! The Kaiser method gives pass-band ripple and stop-band ripple of the same size, `10^(-A/20)`; the unit tests
//! check both against the filter's own frequency response, and a 1 Hz sine through unchanged.
//!
//! Edges and gaps: beyond the ends of the input the first or last sample is held (the same rule as
//! [`super::resample`]); a `NaN` input sample makes every output whose kernel touches it `NaN`, so a gap stays a
//! gap and is never smeared into invented values.

use super::resample::bessel_i0;

/// Why a filter cannot be designed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FirError {
    /// The band edges are not `0 < pass < stop < rate / 2`, or the attenuation is not positive.
    #[error(
        "a low-pass needs 0 < pass band ({pass_hz} Hz) < stop band ({stop_hz} Hz) <= half the rate ({rate_hz} Hz) \
         and a positive attenuation ({attenuation_db} dB)"
    )]
    BadSpecification {
        /// Pass-band edge.
        pass_hz: f64,
        /// Stop-band edge.
        stop_hz: f64,
        /// Sample rate.
        rate_hz: f64,
        /// Stop-band attenuation.
        attenuation_db: f64,
    },
}

/// A linear-phase low-pass FIR filter of odd length, applied centred (zero phase).
#[derive(Clone, Debug, PartialEq)]
pub struct LowPassFir {
    /// The coefficients, symmetric, odd length, summing to 1.
    taps: Vec<f64>,
    /// The sample rate the filter was designed for.
    rate_hz: f64,
    /// The cut-off (middle of the transition band).
    cutoff_hz: f64,
}

impl LowPassFir {
    /// The Kaiser-window low-pass with pass band to `pass_hz`, stop band from `stop_hz` attenuated by
    /// `attenuation_db`, at sample rate `rate_hz` (see the module documentation for the design rules).
    pub fn kaiser(
        pass_hz: f64,
        stop_hz: f64,
        attenuation_db: f64,
        rate_hz: f64,
    ) -> Result<LowPassFir, FirError> {
        let valid = pass_hz.is_finite()
            && stop_hz.is_finite()
            && rate_hz.is_finite()
            && attenuation_db.is_finite()
            && pass_hz > 0.0
            && stop_hz > pass_hz
            && stop_hz <= rate_hz / 2.0
            && attenuation_db > 0.0;
        if !valid {
            return Err(FirError::BadSpecification {
                pass_hz,
                stop_hz,
                rate_hz,
                attenuation_db,
            });
        }
        let a = attenuation_db;
        let beta = if a > 50.0 {
            0.1102 * (a - 8.7)
        } else if a >= 21.0 {
            0.5842 * (a - 21.0).powf(0.4) + 0.07886 * (a - 21.0)
        } else {
            0.0
        };
        let transition = 2.0 * std::f64::consts::PI * (stop_hz - pass_hz) / rate_hz;
        let order = ((a - 8.0).max(0.0) / (2.285 * transition)).ceil().max(2.0) as usize;
        let order = order + order % 2;
        let half = order as f64 / 2.0;
        let cutoff_hz = (pass_hz + stop_hz) / 2.0;
        let fc = cutoff_hz / rate_hz;
        let mut taps: Vec<f64> = (0..=order)
            .map(|n| {
                let t = n as f64 - half;
                let x = 2.0 * fc * t;
                let sinc = if x == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                let r = t / half;
                let window = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta);
                2.0 * fc * sinc * window
            })
            .collect();
        let sum: f64 = taps.iter().sum();
        taps.iter_mut().for_each(|tap| *tap /= sum);
        Ok(LowPassFir {
            taps,
            rate_hz,
            cutoff_hz,
        })
    }

    /// The coefficients (symmetric, odd length, summing to 1).
    pub fn taps(&self) -> &[f64] {
        &self.taps
    }

    /// The cut-off frequency (middle of the transition band), Hz.
    pub fn cutoff_hz(&self) -> f64 {
        self.cutoff_hz
    }

    /// Input samples on each side of the centre tap: an output depends on the inputs this far either side.
    pub fn half_length(&self) -> usize {
        self.taps.len() / 2
    }

    /// The magnitude of the filter's frequency response at `frequency_hz` (its amplitude gain for a sine).
    pub fn gain_at(&self, frequency_hz: f64) -> f64 {
        let half = self.half_length() as f64;
        let omega = 2.0 * std::f64::consts::PI * frequency_hz / self.rate_hz;
        // Symmetric taps: the response is real after removing the linear phase.
        self.taps
            .iter()
            .enumerate()
            .map(|(n, tap)| tap * (omega * (n as f64 - half)).cos())
            .sum::<f64>()
            .abs()
    }

    /// Filtered values of `samples` at input indices `start, start + factor, start + 2 factor, ...` (`count` of
    /// them): decimation by `factor` from `start`. Indices outside the input hold the end samples; a `NaN` within
    /// reach of an output makes it `NaN`. A `factor` of 0 is taken as 1; an empty input gives `NaN`s.
    pub fn decimate(&self, samples: &[f64], start: usize, factor: usize, count: usize) -> Vec<f64> {
        let factor = factor.max(1);
        if samples.is_empty() {
            return vec![f64::NAN; count];
        }
        let half = self.half_length() as i64;
        let last = samples.len() as i64 - 1;
        (0..count)
            .map(|k| {
                let centre = (start + k * factor) as i64;
                if centre - half >= 0 && centre + half <= last {
                    // Inside the input: one dot product over the kernel's reach.
                    let from = (centre - half) as usize;
                    samples[from..from + self.taps.len()]
                        .iter()
                        .zip(&self.taps)
                        .map(|(sample, tap)| tap * sample)
                        .sum()
                } else {
                    self.taps
                        .iter()
                        .enumerate()
                        .map(|(j, tap)| {
                            let index = (centre + j as i64 - half).clamp(0, last) as usize;
                            tap * samples[index]
                        })
                        .sum()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DICOM export's filter: pass band to 100 Hz, stop band from 125 Hz (the Nyquist frequency of 250 Hz)
    /// at 60 dB, at 1 kHz.
    fn export_filter() -> LowPassFir {
        LowPassFir::kaiser(100.0, 125.0, 60.0, 1000.0).unwrap()
    }

    fn sine(frequency_hz: f64, rate_hz: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * frequency_hz * i as f64 / rate_hz).sin())
            .collect()
    }

    #[test]
    fn the_design_follows_kaisers_formulas() {
        let filter = export_filter();
        // N = (60 - 8) / (2.285 * 2 pi * 25 / 1000) = 144.9 -> 146 (even), 147 taps.
        assert_eq!(filter.taps().len(), 147);
        let sum: f64 = filter.taps().iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
        let taps = filter.taps();
        for (a, b) in taps.iter().zip(taps.iter().rev()) {
            assert_eq!(a, b, "symmetric");
        }
        assert_eq!(filter.cutoff_hz(), 112.5);
        // -6 dB at the cut-off: the ideal low-pass's half amplitude.
        assert!(
            (filter.gain_at(112.5) - 0.5).abs() < 0.01,
            "{}",
            filter.gain_at(112.5)
        );
    }

    #[test]
    fn pass_band_gain_is_one_and_stop_band_is_attenuated_by_the_design() {
        let filter = export_filter();
        // Ripple 10^(-60/20) = 0.001 in both bands (Kaiser's window gives equal ripples); allow 50 % over.
        for f in (0..=100).map(f64::from) {
            let gain = filter.gain_at(f);
            assert!((gain - 1.0).abs() < 1.5e-3, "gain {gain} at {f} Hz");
        }
        for f in (0..=375).map(|i| 125.0 + f64::from(i)) {
            let gain = filter.gain_at(f);
            assert!(
                gain < 1.5e-3,
                "gain {gain} ({:.1} dB) at {f} Hz",
                20.0 * gain.log10()
            );
        }
    }

    #[test]
    fn a_1_hz_sine_comes_through_unchanged_and_a_150_hz_one_does_not_alias() {
        let filter = export_filter();
        let n = 10_000;
        let low = filter.decimate(&sine(1.0, 1000.0, n), 0, 4, 2500);
        assert_eq!(low.len(), 2500);
        let expected = sine(1.0, 250.0, 2500);
        // Away from the ends (where the held end sample is not the sine's continuation), the kernel's reach of
        // 73 input samples = 19 outputs.
        let edge = filter.half_length().div_ceil(4);
        for k in edge..2500 - edge {
            assert!(
                (low[k] - expected[k]).abs() < 1e-3,
                "sample {k}: {} vs {}",
                low[k],
                expected[k]
            );
        }
        // 150 Hz would fold to 100 Hz at 250 Hz; after the filter less than 0.15 % of it is left.
        let high = filter.decimate(&sine(150.0, 1000.0, n), 0, 4, 2500);
        let interior = &high[100..2400];
        let peak = interior.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(peak < 1.5e-3, "{peak}");
    }

    #[test]
    fn a_constant_is_kept_at_the_edges_and_a_gap_stays_a_gap() {
        let filter = export_filter();
        let out = filter.decimate(&vec![80.0; 1000], 0, 4, 250);
        assert!(out.iter().all(|v| (v - 80.0).abs() < 1e-9));
        let mut samples = vec![80.0; 1000];
        samples[500] = f64::NAN;
        let out = filter.decimate(&samples, 0, 4, 250);
        let half = filter.half_length();
        for (k, v) in out.iter().enumerate() {
            let touches = (k * 4).abs_diff(500) <= half;
            assert_eq!(v.is_nan(), touches, "output {k}");
        }
    }

    #[test]
    fn impossible_specifications_are_refused() {
        assert!(LowPassFir::kaiser(125.0, 100.0, 60.0, 1000.0).is_err());
        assert!(LowPassFir::kaiser(100.0, 600.0, 60.0, 1000.0).is_err());
        assert!(LowPassFir::kaiser(100.0, 125.0, 0.0, 1000.0).is_err());
        assert!(LowPassFir::kaiser(f64::NAN, 125.0, 60.0, 1000.0).is_err());
    }
}
