//! Recursive (IIR) filters: second-order Butterworth sections, cascaded into the ECG band-pass (0.5-45 Hz by
//! default) and the detectors' own bands.
//!
//! Time-domain recursion is the right tool here: the filters run sample by sample in the online detectors and
//! must give the same output whatever the chunking. [`zero_phase`] runs a filter forward and backward for offline
//! display where the causal filter's delay would mislead.
//!
//! `NaN` handling: a missing sample yields `NaN` and resets the section; the first valid sample after it restarts
//! the section in its steady state for that value (no start-up transient), as at the start of a record.

use std::f64::consts::{PI, SQRT_2};

/// Why a filter cannot be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// A corner frequency outside (0, Nyquist).
    #[error("corner frequency {corner_hz} Hz is outside (0, {nyquist_hz}) Hz")]
    BadCorner {
        /// The requested corner frequency.
        corner_hz: f64,
        /// Half the sample rate.
        nyquist_hz: f64,
    },
}

/// One second-order section in transposed direct form II.
#[derive(Clone, Debug, PartialEq)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    s1: f64,
    s2: f64,
    primed: bool,
}

impl Biquad {
    fn with_coefficients(b: [f64; 3], a: [f64; 2]) -> Biquad {
        Biquad {
            b,
            a,
            s1: 0.0,
            s2: 0.0,
            primed: false,
        }
    }

    fn warped(corner_hz: f64, sample_rate_hz: f64) -> Result<f64, FilterError> {
        let nyquist_hz = sample_rate_hz / 2.0;
        if !(corner_hz > 0.0 && corner_hz < nyquist_hz) {
            return Err(FilterError::BadCorner {
                corner_hz,
                nyquist_hz,
            });
        }
        Ok((PI * corner_hz / sample_rate_hz).tan())
    }

    /// Second-order Butterworth low-pass (bilinear transform with pre-warping).
    pub fn low_pass(corner_hz: f64, sample_rate_hz: f64) -> Result<Biquad, FilterError> {
        let k = Biquad::warped(corner_hz, sample_rate_hz)?;
        let norm = 1.0 / (1.0 + SQRT_2 * k + k * k);
        let b0 = k * k * norm;
        Ok(Biquad::with_coefficients(
            [b0, 2.0 * b0, b0],
            [2.0 * (k * k - 1.0) * norm, (1.0 - SQRT_2 * k + k * k) * norm],
        ))
    }

    /// Second-order Butterworth high-pass.
    pub fn high_pass(corner_hz: f64, sample_rate_hz: f64) -> Result<Biquad, FilterError> {
        let k = Biquad::warped(corner_hz, sample_rate_hz)?;
        let norm = 1.0 / (1.0 + SQRT_2 * k + k * k);
        Ok(Biquad::with_coefficients(
            [norm, -2.0 * norm, norm],
            [2.0 * (k * k - 1.0) * norm, (1.0 - SQRT_2 * k + k * k) * norm],
        ))
    }

    /// The band-pass of [`Cascade::band_pass`] as its two sections, high-pass then low-pass, for a loop that
    /// steps them itself (their state in registers).
    pub fn band_pass_sections(
        low_hz: f64,
        high_hz: f64,
        sample_rate_hz: f64,
    ) -> Result<[Biquad; 2], FilterError> {
        Ok([
            Biquad::high_pass(low_hz, sample_rate_hz)?,
            Biquad::low_pass(high_hz, sample_rate_hz)?,
        ])
    }

    /// Gain at 0 Hz.
    pub fn dc_gain(&self) -> f64 {
        (self.b[0] + self.b[1] + self.b[2]) / (1.0 + self.a[0] + self.a[1])
    }

    /// Group delay at 0 Hz in samples (how far a slow waveform is shifted; used to compensate detections).
    pub fn dc_group_delay_samples(&self) -> f64 {
        // tau(0) = sum(k b_k)/sum(b_k) - sum(k a_k)/sum(a_k) with a_0 = 1; a high-pass (zero DC gain) has none
        // that matters for slow waveforms, so it reports 0.
        let sb = self.b[0] + self.b[1] + self.b[2];
        let sa = 1.0 + self.a[0] + self.a[1];
        if sb.abs() < 1e-12 {
            return 0.0;
        }
        (self.b[1] + 2.0 * self.b[2]) / sb - (self.a[0] + 2.0 * self.a[1]) / sa
    }

    /// Forgets the past: the next valid sample restarts the section in steady state.
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Filters one sample.
    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        if x.is_nan() {
            self.primed = false;
            return f64::NAN;
        }
        if !self.primed {
            // Steady state for a constant input x: y = G x, s2 = b2 x - a2 y, s1 = b1 x - a1 y + s2.
            let y = self.dc_gain() * x;
            self.s2 = self.b[2] * x - self.a[1] * y;
            self.s1 = self.b[1] * x - self.a[0] * y + self.s2;
            self.primed = true;
        }
        let y = self.b[0] * x + self.s1;
        self.s1 = self.b[1] * x - self.a[0] * y + self.s2;
        self.s2 = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// A cascade of second-order sections applied in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Cascade {
    sections: Vec<Biquad>,
}

impl Cascade {
    /// A band-pass made of a second-order Butterworth high-pass at `low_hz` and low-pass at `high_hz`.
    pub fn band_pass(low_hz: f64, high_hz: f64, sample_rate_hz: f64) -> Result<Cascade, FilterError> {
        Ok(Cascade {
            sections: Biquad::band_pass_sections(low_hz, high_hz, sample_rate_hz)?.to_vec(),
        })
    }

    /// A second-order Butterworth low-pass alone.
    pub fn low_pass(corner_hz: f64, sample_rate_hz: f64) -> Result<Cascade, FilterError> {
        Ok(Cascade {
            sections: vec![Biquad::low_pass(corner_hz, sample_rate_hz)?],
        })
    }

    /// Filters one sample through every section.
    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        self.sections.iter_mut().fold(x, |v, section| section.step(v))
    }

    /// Forgets the past.
    pub fn reset(&mut self) {
        self.sections.iter_mut().for_each(Biquad::reset);
    }

    /// Group delay at 0 Hz of the low-pass sections, in samples.
    pub fn dc_group_delay_samples(&self) -> f64 {
        self.sections.iter().map(Biquad::dc_group_delay_samples).sum()
    }

    /// Filters a whole signal causally (a fresh copy of the filter, so `self` is not advanced).
    pub fn apply(&self, x: &[f64]) -> Vec<f64> {
        let mut filter = self.clone();
        filter.reset();
        x.iter().map(|&v| filter.step(v)).collect()
    }
}

/// Zero-phase filtering (forward, then backward over the reversed output): no delay, squared magnitude response.
/// For offline display and measurement only; online detectors use the causal filter.
pub fn zero_phase(filter: &Cascade, x: &[f64]) -> Vec<f64> {
    let mut forward = filter.apply(x);
    forward.reverse();
    let mut backward = filter.apply(&forward);
    backward.reverse();
    backward
}

/// The ECG band-pass of ENDPOINTS.md section 2 (defaults 0.5-45 Hz), zero-phase, for display and offline
/// measurement. `low_hz`/`high_hz` above Nyquist are clamped to just below it.
pub fn ecg_band_pass(
    x: &[f64],
    sample_rate_hz: f64,
    low_hz: f64,
    high_hz: f64,
) -> Result<Vec<f64>, FilterError> {
    let high_hz = high_hz.min(0.45 * sample_rate_hz);
    Ok(zero_phase(
        &Cascade::band_pass(low_hz, high_hz, sample_rate_hz)?,
        x,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain_at(filter: &Cascade, freq_hz: f64, fs: f64) -> f64 {
        let n = (fs * 20.0) as usize;
        let x: Vec<f64> = (0..n)
            .map(|i| (2.0 * PI * freq_hz * i as f64 / fs).sin())
            .collect();
        let y = filter.apply(&x);
        let tail = &y[n / 2..];
        let rms = (tail.iter().map(|v| v * v).sum::<f64>() / tail.len() as f64).sqrt();
        rms * SQRT_2
    }

    #[test]
    fn butterworth_corners_are_minus_3_db() {
        let fs = 1000.0;
        let lp = Cascade::low_pass(45.0, fs).unwrap();
        assert!((gain_at(&lp, 45.0, fs) - 1.0 / SQRT_2).abs() < 0.01);
        assert!((gain_at(&lp, 2.0, fs) - 1.0).abs() < 0.01);
        assert!(gain_at(&lp, 300.0, fs) < 0.03);
        let bp = Cascade::band_pass(0.5, 45.0, fs).unwrap();
        assert!((gain_at(&bp, 10.0, fs) - 1.0).abs() < 0.01);
        assert!((gain_at(&bp, 0.5, fs) - 1.0 / SQRT_2).abs() < 0.02);
    }

    #[test]
    fn steady_state_start_and_nan_restart_have_no_transient() {
        let mut lp = Cascade::low_pass(16.0, 1000.0).unwrap();
        assert!((lp.step(80.0) - 80.0).abs() < 1e-9);
        assert!((lp.step(80.0) - 80.0).abs() < 1e-9);
        assert!(lp.step(f64::NAN).is_nan());
        assert!((lp.step(20.0) - 20.0).abs() < 1e-9);
        let mut hp = Cascade::band_pass(0.5, 45.0, 1000.0).unwrap();
        assert!(hp.step(5.0).abs() < 1e-9);
    }

    #[test]
    fn zero_phase_has_no_delay() {
        let fs = 1000.0;
        let x: Vec<f64> = (0..4000)
            .map(|i| (-((i as f64 - 2000.0) / 30.0).powi(2)).exp())
            .collect();
        let y = zero_phase(&Cascade::low_pass(20.0, fs).unwrap(), &x);
        let peak = y.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(peak, 2000);
        let lp = Cascade::low_pass(16.0, 125.0).unwrap();
        assert!(lp.dc_group_delay_samples() > 0.5 && lp.dc_group_delay_samples() < 3.0);
    }

    #[test]
    fn rejects_corners_outside_the_band() {
        assert!(Cascade::low_pass(600.0, 1000.0).is_err());
        assert!(Cascade::band_pass(0.0, 45.0, 1000.0).is_err());
    }
}
