//! A small deterministic random number generator: xoshiro256++ seeded through splitmix64 (Blackman and Vigna),
//! with normals by the ziggurat method (Marsaglia and Tsang, "The Ziggurat Method for Generating Random
//! Variables", J Stat Softw 2000;5(8), 256 layers; in the form of Doornik, "An Improved Ziggurat Method to
//! Generate Normal Random Samples", 2005: the layer and the signed position along it from separate bits of one
//! draw). No global state: each simulator owns its generator, so a seed fixes the output.
//!
//! The sensors draw eight normals per sample, so the normals are the simulator's noise cost: the ziggurat takes
//! one 64-bit draw, a multiplication and a comparison for 99 % of them, where Box-Muller (before session 10)
//! took a logarithm, a square root, a sine and a cosine per pair. The two are different realisations of the
//! same distribution: the sensors' noise changed with it (docs/validation.md regenerated).

use std::sync::LazyLock;

/// xoshiro256++.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng {
    s: [u64; 4],
}

/// Layers of the ziggurat: the low 8 bits of a draw choose one.
const LAYERS: usize = 256;
/// Where the base layer's tail starts, `r`, and the area of every layer, `v`, for 256 layers of the half-normal
/// density `exp(-x^2 / 2)`, as Marsaglia and Tsang (2000) give them.
const TAIL_START: f64 = 3.654_152_885_361_009; // 3.6541528853610088 (the paper), to f64 precision
const LAYER_AREA: f64 = 4.928_673_233_99e-3;

/// The normal density without its constant, `exp(-x^2 / 2)`.
fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

/// The ziggurat: layer `i` covers `[0, edges[i])` across and `[heights[i], heights[i + 1])` up, all of area `v`.
/// The base, layer 0, is the rectangle under `f(r)` up to `r` with the tail beyond, `edges[0] = v / f(r)` wide
/// as if it were all rectangle; `edges` falls from `edges[1] = r` to `edges[256] = 0`. A point of layer `i`
/// left of `edges[i + 1]` is under the density at any height: `inner[i] = edges[i + 1] / edges[i]` is that
/// share of the layer's width.
struct Ziggurat {
    edges: [f64; LAYERS + 1],
    heights: [f64; LAYERS + 1],
    inner: [f64; LAYERS],
}

static ZIGGURAT: LazyLock<Ziggurat> = LazyLock::new(|| {
    let mut edges = [0.0; LAYERS + 1];
    edges[0] = LAYER_AREA / density(TAIL_START);
    edges[1] = TAIL_START;
    for i in 1..LAYERS - 1 {
        // The next layer starts where this one's top, f(x_i) + v / x_i, meets the density.
        let top = density(edges[i]) + LAYER_AREA / edges[i];
        edges[i + 1] = (-2.0 * top.ln()).sqrt();
    }
    let heights = edges.map(density);
    let inner = std::array::from_fn(|i| edges[i + 1] / edges[i]);
    Ziggurat {
        edges,
        heights,
        inner,
    }
});

/// The top 53 bits of `bits` as a fraction in [0, 1), through `i64` (exact below 2^53: one instruction, where
/// the conversion from `u64` is several on the baseline x86-64 target).
fn unit(bits: u64) -> f64 {
    (bits >> 11) as i64 as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The top 53 bits of `bits`, the highest the sign, as a fraction in [-1, 1) (an arithmetic shift).
fn signed_unit(bits: u64) -> f64 {
    ((bits as i64) >> 11) as f64 * (1.0 / (1u64 << 52) as f64)
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            // splitmix64
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Uniform in [low, high).
    pub fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal, by the ziggurat: one draw gives the layer (its low 8 bits) and a signed position across
    /// it (its top 53); inside the layer's inner rectangle (99 % of draws) that is the value. Inlined into the
    /// sensors' loop; the rest is out of line ([`Rng::normal_beyond_inner`]).
    #[inline(always)]
    pub fn normal(&mut self) -> f64 {
        let zig = &*ZIGGURAT;
        let bits = self.next_u64();
        let layer = (bits & 0xff) as usize;
        let u = signed_unit(bits);
        if u.abs() < zig.inner[layer] {
            return u * zig.edges[layer];
        }
        self.normal_beyond_inner(layer, u)
    }

    /// The ziggurat's draw `u` of `layer` fell outside the layer's inner rectangle: in the base layer, a value
    /// from the tail; else kept if under the density at a uniform height across the layer; else new draws.
    #[cold]
    #[inline(never)]
    fn normal_beyond_inner(&mut self, mut layer: usize, mut u: f64) -> f64 {
        let zig = &*ZIGGURAT;
        loop {
            let x = u * zig.edges[layer];
            if u.abs() < zig.inner[layer] {
                return x;
            }
            if layer == 0 {
                return self.normal_tail().copysign(u);
            }
            let height = zig.heights[layer] + self.uniform() * (zig.heights[layer + 1] - zig.heights[layer]);
            if height < density(x) {
                return x;
            }
            let bits = self.next_u64();
            layer = (bits & 0xff) as usize;
            u = signed_unit(bits);
        }
    }

    /// A normal beyond `r`, the base layer's tail (Marsaglia 1964, as Marsaglia and Tsang give it).
    #[cold]
    fn normal_tail(&mut self) -> f64 {
        loop {
            // (0, 1]: the logarithms stay finite.
            let a = -(1.0 - self.uniform()).ln() / TAIL_START;
            let b = -(1.0 - self.uniform()).ln();
            if 2.0 * b > a * a {
                return TAIL_START + a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn normals_are_fixed_by_the_seed() {
        let normals = |seed| {
            let mut rng = Rng::new(seed);
            (0..100_000).map(|_| rng.normal()).collect::<Vec<f64>>()
        };
        assert_eq!(normals(7), normals(7));
        assert_ne!(normals(7), normals(8));
        // The realisation itself, pinned: the ziggurat's first draws of seed 1 (Box-Muller's differ).
        let first: Vec<f64> = normals(1).into_iter().take(4).collect();
        let pinned = [
            -0.510_246_703_137_254_5,
            -0.732_328_918_547_076_6,
            0.479_871_676_161_722_1,
            -0.466_401_713_259_271_8,
        ];
        for (got, want) in first.iter().zip(pinned) {
            assert!((got - want).abs() < 1e-15, "{first:?}");
        }
    }

    #[test]
    fn the_ziggurat_closes_with_layers_of_equal_area() {
        let zig = &*ZIGGURAT;
        // The base: the rectangle under f(r) up to r and the tail beyond r, whose area is
        // sqrt(pi / 2) erfc(r / sqrt 2) (erfc from mpmath: 2.580_324_876_539_013e-4 of the whole normal).
        let tail = 0.5 * 2.580_324_876_539_013e-4 * (2.0 * std::f64::consts::PI).sqrt();
        let base = TAIL_START * density(TAIL_START) + tail;
        assert!((base - LAYER_AREA).abs() < 1e-9 * LAYER_AREA, "base {base:e}");
        for i in 1..LAYERS {
            let area = zig.edges[i] * (zig.heights[i + 1] - zig.heights[i]);
            assert!(
                (area - LAYER_AREA).abs() < 1e-9 * LAYER_AREA,
                "layer {i}: area {area:e}"
            );
            assert!(zig.edges[i + 1] < zig.edges[i] && zig.heights[i + 1] > zig.heights[i]);
        }
        // The top layer's cap reaches the density's peak (the construction closes).
        let top = density(zig.edges[LAYERS - 1]) + LAYER_AREA / zig.edges[LAYERS - 1];
        assert!((top - 1.0).abs() < 1e-9, "top {top}");
    }

    /// The standard normal distribution function on a grid of `GRID_STEP` from `-GRID_END` to `GRID_END`,
    /// integrated from the density by Simpson's rule (each cell to about 1e-16), and interpolated linearly
    /// between the nodes (within 3e-8).
    const GRID_STEP: f64 = 1e-3;
    const GRID_END: f64 = 9.0;

    fn normal_cdf_table() -> Vec<f64> {
        let pdf = |x: f64| density(x) / (2.0 * std::f64::consts::PI).sqrt();
        let nodes = (2.0 * GRID_END / GRID_STEP).round() as usize;
        let mut table = Vec::with_capacity(nodes + 1);
        // Below -9 the mass is 1e-19.
        let mut below = 0.0;
        table.push(below);
        for k in 0..nodes {
            let a = -GRID_END + k as f64 * GRID_STEP;
            let b = a + GRID_STEP;
            below += GRID_STEP / 6.0 * (pdf(a) + 4.0 * pdf(0.5 * (a + b)) + pdf(b));
            table.push(below);
        }
        table
    }

    fn normal_cdf(table: &[f64], x: f64) -> f64 {
        let position = ((x + GRID_END) / GRID_STEP).clamp(0.0, (table.len() - 1) as f64);
        let k = (position as usize).min(table.len() - 2);
        let w = position - k as f64;
        table[k] + w * (table[k + 1] - table[k])
    }

    #[test]
    fn the_distribution_function_integrated_here_is_the_normal_s() {
        let table = normal_cdf_table();
        // Values from erfc (mpmath, 20 digits).
        for (x, p) in [
            (-4.0, 3.167_124_183_311_996_5e-5),
            (-1.0, 0.158_655_253_931_457_07),
            (0.0, 0.5),
            (0.5, 0.691_462_461_274_013_1),
            (2.5, 0.993_790_334_674_223_8),
        ] {
            assert!(
                (normal_cdf(&table, x) - p).abs() < 1e-12,
                "{x}: {}",
                normal_cdf(&table, x)
            );
        }
    }

    #[test]
    fn a_million_normals_are_standard_normal() {
        let mut rng = Rng::new(42);
        let n = 1_000_000;
        let mut x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let nf = n as f64;
        // Moments, each within 5 standard errors: mean, variance (so sd), skewness, kurtosis.
        let moment = |k: i32| x.iter().map(|v| v.powi(k)).sum::<f64>() / nf;
        let (mean, var) = (moment(1), moment(2));
        assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "variance {var}");
        assert!(
            moment(3).abs() < 5.0 * (15.0 / nf).sqrt(),
            "skewness {}",
            moment(3)
        );
        assert!(
            (moment(4) - 3.0).abs() < 5.0 * (96.0 / nf).sqrt(),
            "kurtosis {}",
            moment(4)
        );
        let table = normal_cdf_table();
        // Tails: beyond 2, 3, r (the base layer's own tail method) and 4, both sides, within 5 standard errors.
        for z in [2.0, 3.0, TAIL_START, 4.0] {
            let p = normal_cdf(&table, -z);
            for side in [-1.0, 1.0] {
                let beyond = x.iter().filter(|&&v| v * side > z).count() as f64;
                let expected = p * nf;
                assert!(
                    (beyond - expected).abs() < 5.0 * (expected * (1.0 - p)).sqrt(),
                    "{beyond} beyond {}, not {expected}",
                    side * z
                );
            }
        }
        // Chi-square over 66 cells: 64 of width 1/8 across [-4, 4] and the two tails beyond. 65 degrees of
        // freedom: the 0.1 % critical value is 107.6.
        let edges: Vec<f64> = (0..=64).map(|k| -4.0 + f64::from(k) / 8.0).collect();
        let mut counts = vec![0u64; edges.len() + 1];
        for &v in &x {
            counts[edges.partition_point(|&e| e < v)] += 1;
        }
        let mut cdf_at_edges: Vec<f64> = vec![0.0];
        cdf_at_edges.extend(edges.iter().map(|&e| normal_cdf(&table, e)));
        cdf_at_edges.push(1.0);
        let chi_square: f64 = counts
            .iter()
            .zip(cdf_at_edges.windows(2))
            .map(|(&count, cell)| {
                let expected = (cell[1] - cell[0]) * nf;
                (count as f64 - expected).powi(2) / expected
            })
            .sum();
        assert!(
            chi_square < 107.6,
            "chi-square {chi_square} on 65 degrees of freedom"
        );
        // Kolmogorov-Smirnov against the normal: the 0.1 % critical distance is 1.95 / sqrt(n).
        x.sort_by(f64::total_cmp);
        let distance = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let p = normal_cdf(&table, v);
                (p - i as f64 / nf).abs().max((p - (i + 1) as f64 / nf).abs())
            })
            .fold(0.0, f64::max);
        assert!(
            distance < 1.95 / nf.sqrt(),
            "Kolmogorov-Smirnov distance {distance}"
        );
    }

    #[test]
    fn normals_are_white() {
        let mut rng = Rng::new(5);
        let n = 1_000_000;
        let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let nf = n as f64;
        // No autocorrelation at lags 1 to 20 (each within 5 standard errors), nor between a draw's magnitude
        // and the next's (the layer and the position come from one draw; the next draw is independent).
        for lag in 1..=20 {
            let r = x.iter().zip(&x[lag..]).map(|(a, b)| a * b).sum::<f64>() / (nf - lag as f64);
            assert!(r.abs() < 5.0 / nf.sqrt(), "lag {lag}: autocorrelation {r}");
        }
        let magnitude_mean = x.iter().map(|v| v.abs()).sum::<f64>() / nf;
        let magnitude_var = 1.0 - magnitude_mean * magnitude_mean;
        let r = x
            .iter()
            .zip(&x[1..])
            .map(|(a, b)| (a.abs() - magnitude_mean) * (b.abs() - magnitude_mean))
            .sum::<f64>()
            / (nf - 1.0)
            / magnitude_var;
        assert!(r.abs() < 5.0 / nf.sqrt(), "magnitudes' lag-1 correlation {r}");
    }
}
