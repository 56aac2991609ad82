//! Savitzky-Golay smoothing and differentiation: a least-squares polynomial fitted over a sliding frame and
//! evaluated (or differentiated) at the frame centre.
//!
//! This is the one derivative method of the workstation (ENDPOINTS.md sections 4 and 5: order 3, frame ~20 ms,
//! stored as a setting), because 2- and 3-point differences give different dP/dt max and min on the same beat.
//!
//! Edges: the first and last `half_width` outputs come from the polynomial fitted to the first (last) full frame,
//! evaluated at the edge sample itself, so every output is a least-squares estimate and the output has the input's
//! length. A signal shorter than the frame is fitted as a whole (with the order lowered to fit). A `NaN` anywhere
//! in a frame makes that output `NaN`: a missing sample is never differentiated across.
//!
//! API for analysis: [`derivative`] (per second, e.g. mmHg/s) and [`smooth`], both taking [`SavgolSettings`];
//! [`SavgolFilter`] when the same filter is applied to many slices.

use serde::{Deserialize, Serialize};

/// Why a Savitzky-Golay filter cannot be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SavgolError {
    /// The derivative order exceeds the polynomial order, so the result would be identically zero.
    #[error("derivative order {derivative} exceeds the polynomial order {order}")]
    DerivativeAboveOrder {
        /// Requested derivative.
        derivative: usize,
        /// Polynomial order.
        order: usize,
    },
    /// The frame is too short for the polynomial order, or not a positive odd number of samples.
    #[error(
        "a frame of {frame_len} samples cannot fit a polynomial of order {order} (need an odd length > order)"
    )]
    BadFrame {
        /// Frame length in samples.
        frame_len: usize,
        /// Polynomial order.
        order: usize,
    },
    /// The sample rate is not a positive finite number.
    #[error("sample rate {0} Hz is not positive")]
    BadRate(f64),
}

/// The stored parameters of the derivative/smoothing method (ENDPOINTS.md: order 3, frame ~20 ms).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavgolSettings {
    /// Polynomial order.
    pub order: usize,
    /// Frame length in ms; converted to the nearest odd number of samples at the signal's rate (at least
    /// `order + 2`, so that the fit is over-determined).
    pub frame_ms: f64,
}

impl Default for SavgolSettings {
    fn default() -> SavgolSettings {
        SavgolSettings {
            order: 3,
            frame_ms: 21.0,
        }
    }
}

impl SavgolSettings {
    /// Frame length in samples at `sample_rate_hz`: the odd number nearest to `frame_ms`, at least `order + 2`
    /// (rounded up to odd).
    pub fn frame_len(&self, sample_rate_hz: f64) -> usize {
        let exact = self.frame_ms * 1e-3 * sample_rate_hz;
        // Nearest odd integer: 2 * round((x - 1) / 2) + 1.
        let nearest_odd = if exact.is_finite() && exact > 1.0 {
            2 * ((exact - 1.0) / 2.0).round() as usize + 1
        } else {
            1
        };
        let minimum = (self.order + 2) | 1;
        nearest_odd.max(minimum)
    }
}

/// A Savitzky-Golay filter for one polynomial order, frame and derivative, at one sample rate.
#[derive(Clone, Debug, PartialEq)]
pub struct SavgolFilter {
    order: usize,
    derivative: usize,
    frame_len: usize,
    sample_rate_hz: f64,
    /// Weights for the frame centre (output `i` = sum `centre[k] * x[i - h + k]`).
    centre: Vec<f64>,
    /// `edges[j]`: weights over the first frame for output `j < h`.
    head: Vec<Vec<f64>>,
    /// `tail[j]`: weights over the last frame for output `n - h + j`.
    tail: Vec<Vec<f64>>,
}

impl SavgolFilter {
    /// A filter of polynomial `order` over `frame_len` samples (odd, > order) giving the `derivative`-th
    /// derivative per second (0 = smoothing) of a signal sampled at `sample_rate_hz`.
    pub fn new(
        order: usize,
        frame_len: usize,
        derivative: usize,
        sample_rate_hz: f64,
    ) -> Result<SavgolFilter, SavgolError> {
        if derivative > order {
            return Err(SavgolError::DerivativeAboveOrder { derivative, order });
        }
        if frame_len.is_multiple_of(2) || frame_len <= order {
            return Err(SavgolError::BadFrame { frame_len, order });
        }
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(SavgolError::BadRate(sample_rate_hz));
        }
        let h = frame_len / 2;
        let scale = sample_rate_hz.powi(derivative as i32);
        let weights = |position: usize| -> Vec<f64> {
            coefficients(frame_len, order, derivative, position as f64)
                .into_iter()
                .map(|c| c * scale)
                .collect()
        };
        Ok(SavgolFilter {
            order,
            derivative,
            frame_len,
            sample_rate_hz,
            centre: weights(h),
            head: (0..h).map(weights).collect(),
            tail: (h + 1..frame_len).map(weights).collect(),
        })
    }

    /// The filter described by `settings` at `sample_rate_hz`.
    pub fn from_settings(
        settings: &SavgolSettings,
        derivative: usize,
        sample_rate_hz: f64,
    ) -> Result<SavgolFilter, SavgolError> {
        SavgolFilter::new(
            settings.order,
            settings.frame_len(sample_rate_hz),
            derivative,
            sample_rate_hz,
        )
    }

    /// Frame length in samples.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Samples on each side of the centre (`frame_len / 2`): how far an output depends on its neighbours.
    pub fn half_width(&self) -> usize {
        self.frame_len / 2
    }

    /// The weights applied at the frame centre (per second^derivative), oldest sample first.
    pub fn centre_weights(&self) -> &[f64] {
        &self.centre
    }

    /// Filters `x` (same length out).
    pub fn apply(&self, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        self.apply_into(x, &mut out);
        out
    }

    /// [`Self::apply`] of `whole_x[range]`, given `whole_out` = this filter applied to all of `whole_x`: an
    /// output away from the range's ends is the same sum of the same samples in both, so it is copied; only the
    /// outputs within half a frame of an end of the range that is not an end of `whole_x` are computed, with the
    /// edge weights `apply` uses there. The same numbers bit for bit, without filtering the range again.
    pub fn apply_within(
        &self,
        whole_x: &[f64],
        whole_out: &[f64],
        range: std::ops::Range<usize>,
    ) -> Vec<f64> {
        let Some(x) = whole_x.get(range.clone()) else {
            return Vec::new();
        };
        let (m, n) = (self.frame_len, x.len());
        if n < m || whole_out.len() != whole_x.len() {
            return self.apply(x);
        }
        let mut out = whole_out[range.clone()].to_vec();
        let h = m / 2;
        if range.start > 0 {
            for (j, weights) in self.head.iter().enumerate() {
                out[j] = dot(weights, &x[..m]);
            }
        }
        if range.end < whole_x.len() {
            for (j, weights) in self.tail.iter().enumerate() {
                out[n - h + j] = dot(weights, &x[n - m..]);
            }
        }
        out
    }

    /// Filters `x` into `out` (which must have the same length; extra output is left untouched, missing output
    /// is not written).
    pub fn apply_into(&self, x: &[f64], out: &mut [f64]) {
        let n = x.len().min(out.len());
        let (x, out) = (&x[..n], &mut out[..n]);
        let m = self.frame_len;
        if n < m {
            self.apply_short(x, out);
            return;
        }
        let h = m / 2;
        for (j, weights) in self.head.iter().enumerate() {
            out[j] = dot(weights, &x[..m]);
        }
        for (j, weights) in self.tail.iter().enumerate() {
            out[n - h + j] = dot(weights, &x[n - m..]);
        }
        self.centre_into(x, h, &mut out[h..n - h]);
    }

    /// `apply(x)[outputs]` (the range clipped to `x`), bit for bit, computing only those outputs: the phase
    /// rules read a filtered stretch of a beat, not the half frames around it that `apply` fits with its edge
    /// weights (each edge output a serial sum, as dear as several centre outputs).
    pub fn apply_part(&self, x: &[f64], outputs: std::ops::Range<usize>) -> Vec<f64> {
        let mut out = Vec::new();
        self.apply_part_into(x, outputs, &mut out);
        out
    }

    /// [`Self::apply_part`] into `out` (replacing what it held; its memory is reused): the pipeline makes a
    /// block's LV traces in the same buffers block after block.
    pub fn apply_part_into(&self, x: &[f64], outputs: std::ops::Range<usize>, out: &mut Vec<f64>) {
        let (m, n) = (self.frame_len, x.len());
        let (from, to) = (outputs.start.min(n), outputs.end.min(n));
        let to = to.max(from);
        out.clear();
        if n < m {
            out.resize(n, 0.0);
            self.apply_short(x, out);
            out.truncate(to);
            out.drain(..from);
            return;
        }
        let h = m / 2;
        out.resize(to - from, 0.0);
        for i in from..to.min(h) {
            out[i - from] = dot(&self.head[i], &x[..m]);
        }
        for i in from.max(n - h)..to {
            out[i - from] = dot(&self.tail[i - (n - h)], &x[n - m..]);
        }
        let (centre_from, centre_to) = (from.max(h), to.min(n - h));
        if centre_from < centre_to {
            self.centre_into(x, centre_from, &mut out[centre_from - from..centre_to - from]);
        }
    }

    /// The centre outputs `first ..` of `x` (`first >= half_width`, the last one at most `x.len() - 1 -
    /// half_width`) into `out`: [`CENTRE_LANES`] outputs at a time accumulated in registers over the taps
    /// (vectorisable, one store per output). Every output is summed tap by tap from zero, so an output computed
    /// twice (the last group overlaps the one before when the count is not a multiple of the lanes) or alone
    /// gets the same number.
    fn centre_into(&self, x: &[f64], first: usize, out: &mut [f64]) {
        let start = first - self.half_width();
        let len = out.len();
        let group = |from: usize| -> [f64; CENTRE_LANES] {
            let mut acc = [0.0; CENTRE_LANES];
            for (k, &c) in self.centre.iter().enumerate() {
                for (a, &v) in acc.iter_mut().zip(&x[from + k..from + k + CENTRE_LANES]) {
                    *a += c * v;
                }
            }
            acc
        };
        if len < CENTRE_LANES {
            for (i, o) in out.iter_mut().enumerate() {
                *o = self
                    .centre
                    .iter()
                    .zip(&x[start + i..start + i + self.frame_len])
                    .fold(0.0, |a, (&c, &v)| a + c * v);
            }
            return;
        }
        for offset in (0..len - CENTRE_LANES).step_by(CENTRE_LANES) {
            out[offset..offset + CENTRE_LANES].copy_from_slice(&group(start + offset));
        }
        out[len - CENTRE_LANES..].copy_from_slice(&group(start + len - CENTRE_LANES));
    }

    /// A signal shorter than the frame: one polynomial (order lowered to fit) over all of it.
    fn apply_short(&self, x: &[f64], out: &mut [f64]) {
        let n = x.len();
        if n == 0 {
            return;
        }
        let order = self.order.min(n - 1);
        let scale = self.sample_rate_hz.powi(self.derivative as i32);
        for (i, o) in out.iter_mut().enumerate() {
            *o = if self.derivative > order {
                // A polynomial of lower degree than the derivative: the derivative is zero (unless data are missing).
                if x.iter().any(|v| v.is_nan()) {
                    f64::NAN
                } else {
                    0.0
                }
            } else {
                dot(&coefficients(n, order, self.derivative, i as f64), x) * scale
            };
        }
    }
}

/// The `derivative`-th time derivative (per second) of `x` sampled at `sample_rate_hz`, by Savitzky-Golay.
pub fn derivative(
    x: &[f64],
    sample_rate_hz: f64,
    settings: &SavgolSettings,
    derivative: usize,
) -> Result<Vec<f64>, SavgolError> {
    Ok(SavgolFilter::from_settings(settings, derivative, sample_rate_hz)?.apply(x))
}

/// `x` smoothed by Savitzky-Golay (derivative 0).
pub fn smooth(x: &[f64], sample_rate_hz: f64, settings: &SavgolSettings) -> Result<Vec<f64>, SavgolError> {
    derivative(x, sample_rate_hz, settings, 0)
}

/// Centre outputs computed together by [`SavgolFilter::centre_into`].
const CENTRE_LANES: usize = 16;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Least-squares weights over a window of `len` samples (indices `0..len`) for the `derivative`-th derivative
/// (per sample) of the polynomial of `order` fitted to the window, evaluated at window position `at`.
///
/// The abscissa is centred and scaled to [-1, 1] so that the normal equations stay well conditioned for long
/// frames and high orders.
fn coefficients(len: usize, order: usize, derivative: usize, at: f64) -> Vec<f64> {
    let p = order + 1;
    let centre = (len as f64 - 1.0) / 2.0;
    let scale = centre.max(1.0);
    let u: Vec<f64> = (0..len).map(|j| (j as f64 - centre) / scale).collect();
    // Gram matrix G[k][l] = sum_j u_j^(k+l).
    let mut gram = vec![vec![0.0; p]; p];
    for &uj in &u {
        let mut powers = vec![1.0; 2 * p - 1];
        for e in 1..powers.len() {
            powers[e] = powers[e - 1] * uj;
        }
        for (k, row) in gram.iter_mut().enumerate() {
            for (l, g) in row.iter_mut().enumerate() {
                *g += powers[k + l];
            }
        }
    }
    // Right-hand side: d^derivative/dj^derivative of u^k at `at`, i.e. k!/(k-d)! u0^(k-d) / scale^d.
    let u0 = (at - centre) / scale;
    let mut rhs: Vec<f64> = (0..p)
        .map(|k| {
            if k < derivative {
                0.0
            } else {
                let falling: f64 = (k - derivative + 1..=k).map(|f| f as f64).product();
                falling * u0.powi((k - derivative) as i32) / scale.powi(derivative as i32)
            }
        })
        .collect();
    solve_in_place(&mut gram, &mut rhs);
    u.iter()
        .map(|&uj| rhs.iter().rev().fold(0.0, |acc, &z| acc * uj + z))
        .collect()
}

/// Solves `a x = b` (small, symmetric positive definite) by Gaussian elimination with partial pivoting; the
/// solution replaces `b`. The Gram matrix of distinct abscissae with `len > order` is never singular.
fn solve_in_place(a: &mut [Vec<f64>], b: &mut [f64]) {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let diag = a[col][col];
        if diag == 0.0 {
            continue;
        }
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / diag;
            if factor != 0.0 {
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= factor * p;
                }
                b[col + 1 + offset] -= factor * b[col];
            }
        }
    }
    for col in (0..n).rev() {
        let tail: f64 = (col + 1..n).map(|k| a[col][k] * b[k]).sum();
        b[col] = if a[col][col] == 0.0 {
            0.0
        } else {
            (b[col] - tail) / a[col][col]
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rough test signal of `n` samples.
    fn rough(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 37 % 23) as f64 - 11.0) * 0.3 + (i as f64 * 0.07).sin() * 40.0)
            .collect()
    }

    /// The stored cubic 21-sample filters at 1 kHz, smoothing and first and second derivatives.
    fn cubic_21() -> impl Iterator<Item = (usize, SavgolFilter)> {
        (0..3).map(|derivative| (derivative, SavgolFilter::new(3, 21, derivative, 1000.0).unwrap()))
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|y| y.to_bits()).collect()
    }

    /// The obviously-correct reference: a fresh least-squares fit (normal equations on raw sample offsets) for
    /// each output, then the polynomial's derivative at that output's position.
    fn slow_reference(x: &[f64], order: usize, frame: usize, derivative: usize, fs: f64) -> Vec<f64> {
        let n = x.len();
        let h = frame / 2;
        (0..n)
            .map(|i| {
                let lo = if n < frame {
                    0
                } else {
                    i.saturating_sub(h).min(n - frame)
                };
                let len = frame.min(n);
                let order = order.min(len - 1);
                let ts: Vec<f64> = (0..len).map(|j| (lo + j) as f64 - i as f64).collect();
                let ys = &x[lo..lo + len];
                let p = order + 1;
                let mut a = vec![vec![0.0; p]; p];
                let mut b = vec![0.0; p];
                for (t, y) in ts.iter().zip(ys) {
                    for (k, (bk, row)) in b.iter_mut().zip(a.iter_mut()).enumerate() {
                        *bk += t.powi(k as i32) * y;
                        for (l, akl) in row.iter_mut().enumerate() {
                            *akl += t.powi((k + l) as i32);
                        }
                    }
                }
                solve_in_place(&mut a, &mut b);
                // Polynomial in t (t = 0 at sample i): the derivative at 0 is d! * b[d].
                if derivative > order {
                    0.0
                } else {
                    (1..=derivative).map(|f| f as f64).product::<f64>()
                        * b[derivative]
                        * fs.powi(derivative as i32)
                }
            })
            .collect()
    }

    #[test]
    fn matches_slow_reference_for_many_orders_and_frames() {
        let x: Vec<f64> = (0..97)
            .map(|i| ((i * 37 % 23) as f64 - 11.0) * 0.3 + (i as f64 * 0.1).sin())
            .collect();
        for order in 0..=5 {
            for frame in [order + 1 + (order % 2 == 0) as usize, 7, 11, 21] {
                if frame <= order || frame % 2 == 0 {
                    continue;
                }
                for derivative in 0..=order.min(2) {
                    let filter = SavgolFilter::new(order, frame, derivative, 250.0).unwrap();
                    for len in [97, frame, frame.saturating_sub(2).max(1), 3, 1] {
                        let got = filter.apply(&x[..len]);
                        let want = slow_reference(&x[..len], order, frame, derivative, 250.0);
                        for (g, w) in got.iter().zip(&want) {
                            let tolerance = 1e-7 * (1.0 + w.abs());
                            assert!(
                                (g - w).abs() < tolerance,
                                "order {order} frame {frame} d {derivative} len {len}: {g} vs {w}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn cubic_is_reproduced_exactly_with_its_derivatives_including_edges() {
        let fs = 1000.0;
        let poly = |t: f64| 2.0 - 3.0 * t + 40.0 * t * t - 500.0 * t * t * t;
        let dpoly = |t: f64| -3.0 + 80.0 * t - 1500.0 * t * t;
        let ddpoly = |t: f64| 80.0 - 3000.0 * t;
        let x: Vec<f64> = (0..200).map(|i| poly(i as f64 / fs)).collect();
        let settings = SavgolSettings::default();
        let s = smooth(&x, fs, &settings).unwrap();
        let d = derivative(&x, fs, &settings, 1).unwrap();
        let dd = derivative(&x, fs, &settings, 2).unwrap();
        for i in 0..200 {
            let t = i as f64 / fs;
            assert!((s[i] - poly(t)).abs() < 1e-9, "smooth at {i}");
            assert!(
                (d[i] - dpoly(t)).abs() < 1e-6,
                "d1 at {i}: {} vs {}",
                d[i],
                dpoly(t)
            );
            assert!(
                (dd[i] - ddpoly(t)).abs() < 1e-3,
                "d2 at {i}: {} vs {}",
                dd[i],
                ddpoly(t)
            );
        }
    }

    #[test]
    fn sine_derivative_matches_analytic_within_frame_attenuation() {
        // 2 Hz sine at 1 kHz with a 21 ms cubic frame: the passband error is far below 0.1 %.
        let fs = 1000.0;
        let w = 2.0 * std::f64::consts::PI * 2.0;
        let x: Vec<f64> = (0..3000).map(|i| 50.0 * (w * i as f64 / fs).sin()).collect();
        let d = derivative(&x, fs, &SavgolSettings::default(), 1).unwrap();
        for (i, di) in d.iter().enumerate() {
            let want = 50.0 * w * (w * i as f64 / fs).cos();
            assert!((di - want).abs() < 1e-3 * 50.0 * w, "at {i}: {di} vs {want}");
        }
    }

    #[test]
    fn a_range_read_from_the_whole_output_is_bit_for_bit_the_range_filtered_alone() {
        let x = rough(300);
        for (derivative, filter) in cubic_21() {
            let whole = filter.apply(&x);
            // Ranges at both ends, inside, shorter than the frame, the frame exactly, empty and the whole.
            for (a, b) in [
                (0, 300),
                (0, 50),
                (250, 300),
                (17, 183),
                (40, 55),
                (100, 121),
                (3, 24),
                (90, 90),
            ] {
                let alone = filter.apply(&x[a..b]);
                let within = filter.apply_within(&x, &whole, a..b);
                assert_eq!(
                    bits(&within),
                    bits(&alone),
                    "derivative {derivative}, range {a}..{b}"
                );
            }
        }
    }

    #[test]
    fn every_centre_output_is_its_own_sum_from_zero_in_tap_order() {
        // The outputs are computed in groups, the last group overlapping the one before: each must still be the
        // plain sum of its frame, tap by tap from zero (what a per-output loop gives), for every count of centre
        // outputs (below, at and around multiples of the group).
        let x = rough(120);
        for (derivative, filter) in cubic_21() {
            let (centre, h) = (filter.centre_weights(), filter.half_width());
            for n in 21..=x.len() {
                let out = filter.apply(&x[..n]);
                for i in h..n - h {
                    let alone = centre
                        .iter()
                        .zip(&x[i - h..=i + h])
                        .fold(0.0, |a, (&c, &v)| a + c * v);
                    assert_eq!(
                        out[i].to_bits(),
                        alone.to_bits(),
                        "derivative {derivative}, n {n}, output {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_part_of_the_output_is_bit_for_bit_that_part_of_the_whole() {
        let x = rough(90);
        // One buffer for every part (what the pipeline's blocks do): nothing of an earlier part is left in it.
        let mut reused = vec![f64::NAN; 200];
        for (derivative, filter) in cubic_21() {
            // Shorter than the frame, the frame exactly, and longer: every range, including empty ones and
            // ranges past the end (clipped).
            for n in [4, 20, 21, 22, 45, 90] {
                let whole = filter.apply(&x[..n]);
                for a in 0..=n + 1 {
                    for b in a..=n + 2 {
                        let part = filter.apply_part(&x[..n], a..b);
                        let want = &whole[a.min(n)..b.min(n)];
                        assert_eq!(
                            bits(&part),
                            bits(want),
                            "derivative {derivative}, n {n}, {a}..{b}"
                        );
                        filter.apply_part_into(&x[..n], a..b, &mut reused);
                        assert_eq!(
                            bits(&reused),
                            bits(want),
                            "reused, derivative {derivative}, n {n}, {a}..{b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn frame_lengths_from_ms() {
        let s = SavgolSettings::default();
        assert_eq!(s.frame_len(1000.0), 21);
        assert_eq!(s.frame_len(250.0), 5);
        assert_eq!(s.frame_len(125.0), 5);
        assert_eq!(
            SavgolSettings {
                order: 3,
                frame_ms: 20.0
            }
            .frame_len(1000.0),
            21
        );
        assert_eq!(
            SavgolSettings {
                order: 3,
                frame_ms: 20.0
            }
            .frame_len(200.0),
            5
        );
    }

    #[test]
    fn nan_poisons_only_frames_that_contain_it() {
        let mut x: Vec<f64> = (0..100).map(|i| i as f64).collect();
        x[50] = f64::NAN;
        let d = derivative(&x, 1000.0, &SavgolSettings::default(), 1).unwrap();
        assert!(d[40..=60].iter().all(|v| v.is_nan()));
        assert!((d[39] - 1000.0).abs() < 1e-6 && (d[61] - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn rejects_impossible_settings() {
        assert!(SavgolFilter::new(3, 4, 1, 1000.0).is_err());
        assert!(SavgolFilter::new(3, 3, 1, 1000.0).is_err());
        assert!(SavgolFilter::new(2, 5, 3, 1000.0).is_err());
        assert!(SavgolFilter::new(2, 5, 1, 0.0).is_err());
    }
}
