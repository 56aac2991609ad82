//! Resampling to the common analysis rate (1 kHz, ENDPOINTS.md section 1) from whatever rate a console or file
//! delivers (125, 200, 250, 500, 1000 Hz, ...).
//!
//! Method [choice]: band-limited interpolation with a Kaiser-windowed sinc kernel (half-width 8 input samples,
//! beta 7, pass band to 90 % of the lower Nyquist frequency). When decimating the kernel is stretched, so the same
//! kernel is also the anti-aliasing low-pass. For rational rate ratios (every integer rate pair) the kernel is
//! tabulated per output phase (polyphase), so the cost is one short dot product per output sample. Each phase is
//! normalised to unit DC gain, so a mean pressure is preserved exactly.
//!
//! Time base: output sample `k` is at `k / to_hz` seconds from the first input sample; the output stops at the
//! last input sample's time (`floor((n - 1) * to / from) + 1` samples). Beyond the ends the first/last sample is
//! held. A `NaN` input sample makes every output whose kernel touches it `NaN` (gaps stay gaps).

/// Why a signal cannot be resampled.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ResampleError {
    /// A rate that is not a positive finite number.
    #[error("sample rate {0} Hz is not a positive number")]
    BadRate(f64),
}

/// Kernel half-width in input samples (when interpolating; scaled up when decimating).
const HALF_WIDTH: f64 = 8.0;
/// Kaiser window shape: about 70 dB side-lobe suppression.
const KAISER_BETA: f64 = 7.0;
/// Pass band as a fraction of the lower Nyquist frequency.
const PASS_FRACTION: f64 = 0.9;
/// Largest number of tabulated phases; beyond that (odd rate ratios) the kernel is evaluated per sample.
const MAX_PHASES: u64 = 4096;

/// A resampler from one rate to another; reusable across channels of the same rates.
#[derive(Clone, Debug)]
pub struct Resampler {
    from_hz: f64,
    to_hz: f64,
    /// Kernel half-width in input samples.
    half_width: f64,
    /// Cut-off in cycles per input sample.
    cutoff: f64,
    /// Polyphase tables when the ratio is rational: `(up, down, taps per phase, first tap offset, weights)`.
    table: Option<Polyphase>,
}

#[derive(Clone, Debug)]
struct Polyphase {
    up: u64,
    down: u64,
    /// `weights[phase]`, taps for input offsets `first_offset ..`.
    weights: Vec<Vec<f64>>,
    first_offset: i64,
}

impl Resampler {
    /// A resampler from `from_hz` to `to_hz`.
    pub fn new(from_hz: f64, to_hz: f64) -> Result<Resampler, ResampleError> {
        for rate in [from_hz, to_hz] {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(ResampleError::BadRate(rate));
            }
        }
        let stretch = (from_hz / to_hz).max(1.0);
        let half_width = HALF_WIDTH * stretch;
        let cutoff = 0.5 * PASS_FRACTION / stretch;
        let mut resampler = Resampler {
            from_hz,
            to_hz,
            half_width,
            cutoff,
            table: None,
        };
        if let Some((up, down)) = rational_ratio(from_hz, to_hz)
            && up <= MAX_PHASES
        {
            let first_offset = -(half_width.floor() as i64);
            let num_taps = (2.0 * half_width).floor() as usize + 2;
            let weights = (0..up)
                .map(|phase| {
                    let frac = phase as f64 / up as f64;
                    resampler.weights(frac, first_offset, num_taps)
                })
                .collect();
            resampler.table = Some(Polyphase {
                up,
                down,
                weights,
                first_offset,
            });
        }
        Ok(resampler)
    }

    /// Normalised kernel weights for an output at fractional position `frac` past an input sample, for input
    /// offsets `first_offset .. first_offset + num_taps`.
    fn weights(&self, frac: f64, first_offset: i64, num_taps: usize) -> Vec<f64> {
        let mut w: Vec<f64> = (0..num_taps)
            .map(|j| {
                let t = (first_offset + j as i64) as f64 - frac;
                self.kernel(t)
            })
            .collect();
        let sum: f64 = w.iter().sum();
        if sum != 0.0 {
            w.iter_mut().for_each(|v| *v /= sum);
        }
        w
    }

    fn kernel(&self, t: f64) -> f64 {
        let r = t / self.half_width;
        if r.abs() >= 1.0 {
            return 0.0;
        }
        let x = 2.0 * self.cutoff * t;
        let sinc = if x.abs() < 1e-12 {
            1.0
        } else {
            (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
        };
        2.0 * self.cutoff * sinc * bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / bessel_i0(KAISER_BETA)
    }

    /// Number of output samples for `num_input` input samples.
    pub fn output_len(&self, num_input: usize) -> usize {
        if num_input == 0 {
            return 0;
        }
        match &self.table {
            Some(p) => ((num_input as u64 - 1) * p.up / p.down) as usize + 1,
            None => ((num_input - 1) as f64 * self.to_hz / self.from_hz + 1e-9).floor() as usize + 1,
        }
    }

    /// Resamples `x`.
    pub fn apply(&self, x: &[f64]) -> Vec<f64> {
        let n_out = self.output_len(x.len());
        if self.from_hz == self.to_hz {
            return x.to_vec();
        }
        let mut out = Vec::with_capacity(n_out);
        match &self.table {
            Some(p) if p.down == 1 => match p.up {
                // The usual monitor rates (125, 200, 250, 500 Hz to 1 kHz): the outputs of one input sample held
                // in one array the compiler keeps in vector registers.
                8 => upsample_by::<8>(x, p, n_out, &mut out),
                5 => upsample_by::<5>(x, p, n_out, &mut out),
                4 => upsample_by::<4>(x, p, n_out, &mut out),
                2 => upsample_by::<2>(x, p, n_out, &mut out),
                _ => upsample(x, p, n_out, &mut out),
            },
            Some(p) => {
                for k in 0..n_out as u64 {
                    let position = k * p.down;
                    let base = (position / p.up) as i64;
                    let phase = (position % p.up) as usize;
                    out.push(dot_clamped(x, base + p.first_offset, &p.weights[phase]));
                }
            }
            None => {
                let first_offset = -(self.half_width.floor() as i64);
                let num_taps = (2.0 * self.half_width).floor() as usize + 2;
                for k in 0..n_out {
                    let position = k as f64 * self.from_hz / self.to_hz;
                    let base = position.floor();
                    let weights = self.weights(position - base, first_offset, num_taps);
                    out.push(dot_clamped(x, base as i64 + first_offset, &weights));
                }
            }
        }
        out
    }

    /// The outputs `outputs` of [`Resampler::apply`]`(x)`, bit for bit, computed from the inputs they need only
    /// (plus the kernel's reach): the analysis of a long record at a low rate brings short stretches to the
    /// analysis rate one after another instead of the whole record at once. Returns outputs computed and the
    /// index in them of output `outputs.start` (the range, clipped to the output, follows it); the few outputs
    /// around it are left in place rather than copied out.
    pub fn apply_range(&self, x: &[f64], outputs: std::ops::Range<usize>) -> (Vec<f64>, usize) {
        let n_out = self.output_len(x.len());
        let (from, to) = (outputs.start.min(n_out), outputs.end.min(n_out));
        if from >= to {
            return (Vec::new(), 0);
        }
        let Some(p) = self.table.as_ref().filter(|_| self.from_hz != self.to_hz) else {
            // Odd ratios (or none): the whole output.
            return (self.apply(x), from);
        };
        let (up, down) = (p.up as usize, p.down as usize);
        let reach = p.weights[0].len() + p.first_offset.unsigned_abs() as usize + 1;
        // First input kept: a multiple of `down`, so that the kept stretch's outputs are whole outputs of the
        // record with the same phases (and, upsampling, the same groups of `up`); `reach` inputs before the first
        // output needed, and after the last one, so that no end of the stretch is held where the record has
        // samples.
        let first_input = (from * down / up).saturating_sub(reach) / down * down;
        let last_input = ((to - 1) * down / up + reach + 1).min(x.len());
        let offset = first_input / down * up;
        (self.apply(&x[first_input..last_input]), from - offset)
    }
}

/// Whole-number upsampling by `p.up`: the `up` outputs from input sample i on all read the taps from
/// x[i + first_offset]; each tap is loaded once and multiplied into up to `LANES` sums held in registers. Every
/// output is still summed tap by tap from -0.0 in the order `dot_clamped` uses, so the numbers are the same
/// (tested).
fn upsample(x: &[f64], p: &Polyphase, n_out: usize, out: &mut Vec<f64>) {
    const LANES: usize = 8;
    let (up, num_taps, n) = (p.up as usize, p.weights[0].len(), x.len());
    // Weights by tap, then phase.
    let by_tap: Vec<f64> = (0..num_taps)
        .flat_map(|j| p.weights.iter().map(move |phase| phase[j]))
        .collect();
    let mut k = 0;
    while k < n_out {
        let base = (k / up) as i64 + p.first_offset;
        let count = up.min(n_out - k);
        let start = base.max(0) as usize;
        if base < 0 || start + num_taps > n || count < up {
            out.extend((0..count).map(|phase| dot_clamped(x, base, &p.weights[phase])));
            k += count;
            continue;
        }
        let taps = &x[start..start + num_taps];
        for first in (0..up).step_by(LANES) {
            let lanes = (up - first).min(LANES);
            let mut acc = [-0.0; LANES];
            for (j, &v) in taps.iter().enumerate() {
                let weights = &by_tap[j * up + first..j * up + first + lanes];
                for (a, &w) in acc.iter_mut().zip(weights) {
                    *a += w * v;
                }
            }
            out.extend_from_slice(&acc[..lanes]);
        }
        k += up;
    }
}

/// [`upsample`] with `p.up == UP` known to the compiler: the `UP` sums of one input sample are one array, added
/// to lane by lane in the same order (the same numbers), without the per-group copy of a variable length.
fn upsample_by<const UP: usize>(x: &[f64], p: &Polyphase, n_out: usize, out: &mut Vec<f64>) {
    let (num_taps, n) = (p.weights[0].len(), x.len());
    let by_tap: Vec<[f64; UP]> = (0..num_taps)
        .map(|j| std::array::from_fn(|phase| p.weights[phase][j]))
        .collect();
    let mut k = 0;
    while k < n_out {
        let base = (k / UP) as i64 + p.first_offset;
        let count = UP.min(n_out - k);
        let start = base.max(0) as usize;
        if base < 0 || start + num_taps > n || count < UP {
            out.extend((0..count).map(|phase| dot_clamped(x, base, &p.weights[phase])));
            k += count;
            continue;
        }
        let mut acc = [-0.0; UP];
        for (weights, &v) in by_tap.iter().zip(&x[start..start + num_taps]) {
            for (a, &w) in acc.iter_mut().zip(weights) {
                *a += w * v;
            }
        }
        out.extend_from_slice(&acc);
        k += UP;
    }
}

/// `sum w[j] * x[start + j]`, holding the end samples beyond the signal.
#[inline]
fn dot_clamped(x: &[f64], start: i64, weights: &[f64]) -> f64 {
    let n = x.len() as i64;
    if start >= 0 && start + weights.len() as i64 <= n {
        let xs = &x[start as usize..start as usize + weights.len()];
        return weights.iter().zip(xs).map(|(w, v)| w * v).sum();
    }
    weights
        .iter()
        .enumerate()
        .map(|(j, w)| w * x[(start + j as i64).clamp(0, n - 1) as usize])
        .sum()
}

/// `(up, down)` with `to / from = up / down` in lowest terms, when both rates are whole numbers.
fn rational_ratio(from_hz: f64, to_hz: f64) -> Option<(u64, u64)> {
    let whole = |r: f64| (r.fract() == 0.0 && r < 1e9).then_some(r as u64);
    let (from, to) = (whole(from_hz)?, whole(to_hz)?);
    let g = gcd(from, to);
    Some((to / g, from / g))
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used).
pub(crate) fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..64 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// Resamples `x` from `from_hz` to `to_hz` (see the module documentation for the method).
pub fn resample(x: &[f64], from_hz: f64, to_hz: f64) -> Result<Vec<f64>, ResampleError> {
    Ok(Resampler::new(from_hz, to_hz)?.apply(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn sine(n: usize, freq_hz: f64, fs: f64) -> Vec<f64> {
        (0..n)
            .map(|i| (2.0 * PI * freq_hz * i as f64 / fs).sin())
            .collect()
    }

    #[test]
    fn upsampling_reproduces_band_limited_sines() {
        for from in [125.0, 200.0, 250.0, 500.0] {
            for freq in [1.0, 7.0, 20.0] {
                let x = sine((from * 4.0) as usize, freq, from);
                let y = resample(&x, from, 1000.0).unwrap();
                assert_eq!(y.len(), (x.len() - 1) * (1000 / from as usize) + 1);
                // Away from the held ends the interpolation error is tiny.
                for (k, v) in y.iter().enumerate().skip(200).take(y.len() - 400) {
                    let want = (2.0 * PI * freq * k as f64 / 1000.0).sin();
                    assert!(
                        (v - want).abs() < 2e-3,
                        "{from} Hz, {freq} Hz, k {k}: {v} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn decimation_removes_aliases_and_keeps_the_band() {
        // 1 kHz -> 250 Hz: 10 Hz passes, 200 Hz (which would alias to 50 Hz) is removed.
        let x: Vec<f64> = sine(8000, 10.0, 1000.0)
            .iter()
            .zip(sine(8000, 200.0, 1000.0))
            .map(|(a, b)| a + b)
            .collect();
        let y = resample(&x, 1000.0, 250.0).unwrap();
        for (k, v) in y.iter().enumerate().skip(100).take(y.len() - 200) {
            let want = (2.0 * PI * 10.0 * k as f64 / 250.0).sin();
            assert!((v - want).abs() < 5e-3, "k {k}: {v} vs {want}");
        }
    }

    #[test]
    fn outputs_computed_together_are_bit_for_bit_the_single_dot_products() {
        let x: Vec<f64> = (0..3000)
            .map(|i| 80.0 + 30.0 * (i as f64 * 0.05).sin() + (i * 7919 % 13) as f64 * 0.1)
            .collect();
        for (from, to) in [
            (125.0, 1000.0),
            (100.0, 1000.0),
            (250.0, 1000.0),
            (200.0, 1000.0),
            (1000.0, 250.0),
            (360.0, 1000.0),
        ] {
            let resampler = Resampler::new(from, to).unwrap();
            let p = resampler.table.as_ref().unwrap();
            let y = resampler.apply(&x);
            assert_eq!(y.len(), resampler.output_len(x.len()));
            for (k, v) in y.iter().enumerate() {
                let position = k as u64 * p.down;
                let start = (position / p.up) as i64 + p.first_offset;
                let one = dot_clamped(&x, start, &p.weights[(position % p.up) as usize]);
                assert_eq!(v.to_bits(), one.to_bits(), "{from} -> {to} Hz, output {k}");
            }
        }
    }

    #[test]
    fn a_range_of_the_output_is_bit_for_bit_the_whole_outputs() {
        let x: Vec<f64> = (0..2000)
            .map(|i| 80.0 + 30.0 * (i as f64 * 0.05).sin() + (i * 7919 % 13) as f64 * 0.1)
            .collect();
        for (from, to) in [
            (125.0, 1000.0),
            (250.0, 1000.0),
            (300.0, 1000.0),
            (1000.0, 250.0),
            (360.0, 1000.0),
            (1000.0, 1000.0),
            (125.0, 1000.5),
        ] {
            let resampler = Resampler::new(from, to).unwrap();
            let whole = resampler.apply(&x);
            let n = whole.len();
            for (a, b) in [
                (0, 1),
                (0, 50),
                (3, 200),
                (997, 4000),
                (n - 30, n),
                (n - 1, n + 5),
                (17, n),
                (9, 9),
            ] {
                let (computed, offset) = resampler.apply_range(&x, a..b);
                let expected = &whole[a.min(n)..b.min(n)];
                let part = &computed[offset.min(computed.len())..];
                assert!(part.len() >= expected.len(), "{from} -> {to} Hz, {a}..{b}");
                for (k, (p, w)) in part.iter().zip(expected).enumerate() {
                    assert_eq!(
                        p.to_bits(),
                        w.to_bits(),
                        "{from} -> {to} Hz, {a}..{b}, output {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn constant_is_exact_and_identity_is_a_copy() {
        let x = vec![87.5; 300];
        assert!(
            resample(&x, 125.0, 1000.0)
                .unwrap()
                .iter()
                .all(|v| (v - 87.5).abs() < 1e-12)
        );
        assert!(
            resample(&x, 333.3, 1000.0)
                .unwrap()
                .iter()
                .all(|v| (v - 87.5).abs() < 1e-9)
        );
        let z: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(resample(&z, 1000.0, 1000.0).unwrap(), z);
    }

    #[test]
    fn non_integer_rates_use_the_direct_kernel() {
        let from = 333.3;
        let x = sine(2000, 5.0, from);
        let y = resample(&x, from, 1000.0).unwrap();
        for (k, v) in y.iter().enumerate().skip(300).take(y.len() - 600) {
            let want = (2.0 * PI * 5.0 * k as f64 / 1000.0).sin();
            assert!((v - want).abs() < 2e-3);
        }
    }

    #[test]
    fn nan_gaps_stay_local_and_short_inputs_work() {
        let mut x = vec![1.0; 400];
        x[200] = f64::NAN;
        let y = resample(&x, 250.0, 1000.0).unwrap();
        assert!(y[800].is_nan());
        assert!(y[700].is_finite() && y[900].is_finite());
        assert!(resample(&[], 250.0, 1000.0).unwrap().is_empty());
        assert_eq!(resample(&[3.0], 250.0, 1000.0).unwrap(), vec![3.0]);
        assert_eq!(resample(&[3.0, 3.0], 250.0, 1000.0).unwrap().len(), 5);
        assert!(resample(&x, 0.0, 1000.0).is_err());
    }
}
