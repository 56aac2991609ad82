//! Small numerical tools the endpoint formulas share: straight-line least squares (with the slope's standard
//! error and Student-t interval), a bounded one-dimensional minimiser for separable fits, a seeded random stream
//! for the bootstrap, percentiles and sums over samples.

use super::Unavailable;

/// A straight line `y = slope x + intercept` fitted by ordinary least squares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LineFit {
    pub slope: f64,
    pub intercept: f64,
    /// Coefficient of determination.
    pub r2: f64,
    pub n: usize,
    /// Standard error of the slope, `sqrt(residual SS / (n - 2) / Sxx)` (`None` below 3 points: no residual
    /// degree of freedom).
    pub slope_se: Option<f64>,
}

impl LineFit {
    /// The slope's 95 % confidence interval, `slope -+ t(0.975, n - 2) SE` (`None` below 3 points). It assumes
    /// independent residuals of equal variance about a true line: it covers the scatter, not a bias of the points.
    pub fn slope_ci95(&self) -> Option<[f64; 2]> {
        let half = student_t_975(self.n.checked_sub(2)?)? * self.slope_se?;
        Some([self.slope - half, self.slope + half])
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`None` for 0): the published table for
/// 1..=30 (e.g. Abramowitz and Stegun 1964, table 26.10, to 7 decimals), above that the Cornish-Fisher expansion
/// about the normal quantile in powers of 1/df (Abramowitz and Stegun 26.7.5, four terms; error below 1e-7 from
/// 30 degrees of freedom).
pub(crate) fn student_t_975(df: usize) -> Option<f64> {
    const TABLE: [f64; 30] = [
        12.706_204_7,
        4.302_652_7,
        3.182_446_3,
        2.776_445_1,
        2.570_581_8,
        2.446_911_9,
        2.364_624_3,
        2.306_004_1,
        2.262_157_2,
        2.228_138_9,
        2.200_985_2,
        2.178_812_8,
        2.160_368_7,
        2.144_786_7,
        2.131_449_5,
        2.119_905_3,
        2.109_815_6,
        2.100_922_0,
        2.093_024_1,
        2.085_963_4,
        2.079_613_8,
        2.073_873_1,
        2.068_657_6,
        2.063_898_6,
        2.059_538_6,
        2.055_529_4,
        2.051_830_5,
        2.048_407_1,
        2.045_229_6,
        2.042_272_5,
    ];
    // The standard normal 0.975 quantile.
    const Z: f64 = 1.959_963_985;
    match df {
        0 => None,
        1..=30 => Some(TABLE[df - 1]),
        _ => {
            let (z, d) = (Z, df as f64);
            let g1 = (z.powi(3) + z) / 4.0;
            let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
            let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
            let g4 =
                (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5) - 1920.0 * z.powi(3) - 945.0 * z)
                    / 92160.0;
            Some(z + g1 / d + g2 / d.powi(2) + g3 / d.powi(3) + g4 / d.powi(4))
        }
    }
}

/// Least-squares line through `(x[i], y[i])`. Needs two distinct x values and finite data.
pub(crate) fn fit_line(x: &[f64], y: &[f64]) -> Result<LineFit, Unavailable> {
    let n = x.len().min(y.len());
    if n < 2 {
        return Err(Unavailable::too_few("points", n, 2));
    }
    let (x, y) = (&x[..n], &y[..n]);
    let mean_x = x.iter().sum::<f64>() / n as f64;
    let mean_y = y.iter().sum::<f64>() / n as f64;
    if !mean_x.is_finite() || !mean_y.is_finite() {
        return Err(Unavailable::MissingSamples("fit points".into()));
    }
    // Centred sums keep the fit accurate when x is far from 0 (e.g. time in seconds from the file start).
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        let (dx, dy) = (xi - mean_x, yi - mean_y);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return Err(Unavailable::FitFailed("all points have the same abscissa".into()));
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 { (sxy * sxy) / (sxx * syy) } else { 1.0 };
    // The residuals summed directly (not Syy - slope Sxy, which cancels to rounding noise on a near-exact line).
    let residual_ss: f64 = x
        .iter()
        .zip(y)
        .map(|(&xi, &yi)| ((yi - mean_y) - slope * (xi - mean_x)).powi(2))
        .sum();
    Ok(LineFit {
        slope,
        intercept: mean_y - slope * mean_x,
        r2,
        n,
        slope_se: (n > 2).then(|| (residual_ss / (n - 2) as f64 / sxx).sqrt()),
    })
}

/// Minimises `f` over `[low, high]`: a scan of `num_grid` log-spaced points (both bounds positive) finds the
/// basin, then Brent's method (golden-section steps with parabolic interpolation, Brent 1973) refines it in
/// log space to an absolute width of `log_tol` (a relative precision of about `log_tol` in the argument).
/// Returns the argument, the value, and whether the minimum sits on a bound of the range (then the true optimum
/// may lie outside it).
pub(crate) fn minimise_log_scan(
    mut f: impl FnMut(f64) -> f64,
    low: f64,
    high: f64,
    num_grid: usize,
    log_tol: f64,
) -> (f64, f64, bool) {
    let num_grid = num_grid.max(3);
    let ratio = (high / low).powf(1.0 / (num_grid - 1) as f64);
    let mut best = (0, f64::INFINITY);
    let mut grid = Vec::with_capacity(num_grid);
    for i in 0..num_grid {
        let x = low * ratio.powi(i as i32);
        let value = f(x);
        grid.push(x);
        // NaN never compares less, so a NaN evaluation is skipped rather than chosen.
        if value < best.1 {
            best = (i, value);
        }
    }
    if !best.1.is_finite() {
        return (f64::NAN, f64::NAN, false);
    }
    let at_bound = best.0 == 0 || best.0 == num_grid - 1;
    let a = grid[best.0.saturating_sub(1)].ln();
    let b = grid[(best.0 + 1).min(num_grid - 1)].ln();
    let (x, value) = brent(|log_x| f(log_x.exp()), a, b, grid[best.0].ln(), best.1, log_tol);
    if value < best.1 {
        (x.exp(), value, at_bound)
    } else {
        (grid[best.0], best.1, at_bound)
    }
}

/// Brent's minimisation of `f` on `[a, b]` from the interior point `x` (value `fx`), to an absolute `tol`.
fn brent(
    mut f: impl FnMut(f64) -> f64,
    mut a: f64,
    mut b: f64,
    mut x: f64,
    mut fx: f64,
    tol: f64,
) -> (f64, f64) {
    const GOLDEN: f64 = 0.381_966_011_250_105_1; // 2 - golden ratio
    let (mut w, mut v, mut fw, mut fv) = (x, x, fx, fx);
    // `step` is the last step taken, `previous` the one before: parabolic steps must shrink.
    let (mut step, mut previous) = (0.0f64, 0.0f64);
    for _ in 0..100 {
        let middle = 0.5 * (a + b);
        if (x - middle).abs() <= 2.0 * tol - 0.5 * (b - a) {
            break;
        }
        let mut parabolic = false;
        if previous.abs() > tol {
            // Vertex of the parabola through (x, fx), (w, fw), (v, fv), as an offset p/q from x.
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            if p.abs() < (0.5 * q * previous).abs() && p > q * (a - x) && p < q * (b - x) {
                previous = step;
                step = p / q;
                let u = x + step;
                if u - a < 2.0 * tol || b - u < 2.0 * tol {
                    step = tol.copysign(middle - x);
                }
                parabolic = true;
            }
        }
        if !parabolic {
            previous = if x >= middle { a - x } else { b - x };
            step = GOLDEN * previous;
        }
        let u = if step.abs() >= tol {
            x + step
        } else {
            x + tol.copysign(step)
        };
        let fu = f(u);
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    (x, fx)
}

/// SplitMix64: a tiny, well-mixed, seedable generator. The bootstrap needs reproducibility, not cryptography.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n > 0`; multiply-shift, bias below 2^-40 for any realistic `n`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The `q`-quantile (0..=1) of `sorted` by linear interpolation between order statistics (Hyndman-Fan type 7).
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let below = position.floor() as usize;
            let above = (below + 1).min(n - 1);
            let weight = position - below as f64;
            sorted[below] * (1.0 - weight) + sorted[above] * weight
        }
    }
}

/// Integral of `samples` over time by the rectangle rule (sum times the sample interval), or `None` when a
/// sample is missing. Over whole beats the rectangle rule makes consecutive beats add up exactly to the window
/// total, and it equals the trapezoid rule up to half the difference of the end samples.
pub(crate) fn integral(samples: &[f64], dt_s: f64) -> Option<f64> {
    let sum = sum(samples);
    // NaN and infinities propagate through the sum, so one check covers every sample.
    sum.is_finite().then_some(sum * dt_s)
}

/// Sum of `samples` in four interleaved lanes (the compiler vectorises it; a single running sum cannot be
/// reordered and runs at one addition per add latency). Deterministic: the same order every time.
pub(crate) fn sum(samples: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let chunks = samples.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane += x;
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_fit_recovers_planted_line() {
        let x: Vec<f64> = (0..20).map(|i| 1000.0 + i as f64).collect();
        let y: Vec<f64> = x.iter().map(|x| 2.5 * x - 7.0).collect();
        let fit = fit_line(&x, &y).unwrap();
        assert!((fit.slope - 2.5).abs() < 1e-12);
        assert!((fit.intercept + 7.0).abs() < 1e-8);
        assert!((fit.r2 - 1.0).abs() < 1e-12);
        assert!(fit_line(&[1.0, 1.0], &[2.0, 3.0]).is_err());
        assert!(fit_line(&[1.0], &[2.0]).is_err());
        assert!(fit_line(&[1.0, f64::NAN], &[2.0, 3.0]).is_err());
    }

    #[test]
    fn slope_standard_error_and_interval_match_the_hand_computation() {
        // x = 0..4 (Sxx = 10), y = 1 3 2 5 4: slope 0.8, residuals -0.4 0.8 -1 1.2 -0.6 (SS 3.6),
        // SE = sqrt(3.6 / 3 / 10) = sqrt(0.12), interval 0.8 -+ t(0.975, 3) SE.
        let fit = fit_line(&[0.0, 1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
        assert!((fit.slope - 0.8).abs() < 1e-12);
        let se = 0.12f64.sqrt();
        assert!((fit.slope_se.unwrap() - se).abs() < 1e-12, "{:?}", fit.slope_se);
        let [low, high] = fit.slope_ci95().unwrap();
        assert!(
            (low - (0.8 - 3.182_446_3 * se)).abs() < 1e-9 && (high - (0.8 + 3.182_446_3 * se)).abs() < 1e-9
        );
        // An exact line: no scatter, an interval of zero width.
        let exact = fit_line(&[1.0, 2.0, 4.0, 7.0], &[3.0, 5.0, 9.0, 15.0]).unwrap();
        assert_eq!(exact.slope_ci95(), Some([2.0, 2.0]));
        // Two points: a line but no residual degree of freedom.
        let two = fit_line(&[1.0, 2.0], &[3.0, 5.0]).unwrap();
        assert_eq!((two.slope_se, two.slope_ci95()), (None, None));
    }

    #[test]
    fn student_t_quantiles_match_published_values() {
        assert_eq!(student_t_975(0), None);
        // Table values, and the expansion beyond 30 against the published 40, 60 and 120 (A&S table 26.10) and
        // the normal quantile far out.
        for (df, t) in [
            (1, 12.706_204_7),
            (2, 4.302_652_7),
            (10, 2.228_138_9),
            (30, 2.042_272_5),
            (40, 2.021_075_4),
            (60, 2.000_297_8),
            (120, 1.979_930_4),
            (1_000_000, 1.959_966_3),
        ] {
            let got = student_t_975(df).unwrap();
            assert!((got - t).abs() < 2e-7, "df {df}: {got} vs {t}");
        }
        // Monotone falling towards the normal quantile across the table's end.
        let values: Vec<f64> = (1..=60).map(|df| student_t_975(df).unwrap()).collect();
        assert!(values.windows(2).all(|w| w[1] < w[0]) && values[59] > 1.959_963_985);
    }

    #[test]
    fn minimiser_finds_interior_minimum_and_flags_bounds() {
        // A non-quadratic basin, so the parabolic steps have to work for their convergence.
        let mut calls = 0;
        let basin = |x: f64| {
            calls += 1;
            let d = x.ln() - 0.03f64.ln();
            d * d + 0.5 * d.powi(4) + 0.3 * d.powi(3)
        };
        let (x, value, at_bound) = minimise_log_scan(basin, 1e-3, 1.0, 10, 1e-9);
        assert!((x / 0.03 - 1.0).abs() < 1e-6, "{x}");
        assert!(value < 1e-10 && !at_bound);
        assert!(calls < 10 + 25, "{calls} evaluations");
        let (_, _, at_bound) = minimise_log_scan(|x| x, 1e-3, 1.0, 20, 1e-9);
        assert!(at_bound);
    }

    #[test]
    fn random_stream_is_reproducible_and_uniform() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        let mut counts = [0usize; 10];
        for _ in 0..100_000 {
            let i = a.below(10);
            assert_eq!(i, b.below(10));
            counts[i] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
    }

    #[test]
    fn quantiles_and_integrals() {
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(integral(&[1.0, 2.0, 3.0], 0.5), Some(3.0));
        assert_eq!(integral(&[1.0, f64::NAN], 0.5), None);
        let values: Vec<f64> = (0..103).map(|i| f64::from(i) * 0.5).collect();
        assert_eq!(sum(&values), 0.25 * 102.0 * 103.0);
        assert!(sum(&[1.0, 2.0, f64::INFINITY, 3.0, 4.0]).is_infinite());
    }
}
