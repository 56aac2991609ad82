//! A small deterministic random number generator: xoshiro256++ seeded through splitmix64 (Blackman and Vigna),
//! with normals by the ziggurat method (Marsaglia and Tsang, "The Ziggurat Method for Generating Random
//! Variables", J Stat Softw 2000;5(8)). No global state: each simulator owns its generator, so a seed fixes the
//! output.
//!
//! The sensors draw eight normals per sample, so the normals are the simulator's noise cost: the ziggurat takes
//! one 64-bit draw, a multiplication and a comparison for 99 % of them, where Box-Muller (used before session 9)
//! took a logarithm, a square root and a sine and cosine per pair.

use std::sync::LazyLock;

/// xoshiro256++.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng {
    s: [u64; 4],
}

/// Layers of the ziggurat.
const LAYERS: usize = 256;
/// Where the base layer's tail starts, and the area of each layer, for 256 layers (Marsaglia and Tsang).
const TAIL_START: f64 = 3.654_152_885_361_008_8;
const LAYER_AREA: f64 = 4.928_673_233_99e-3;

/// The top 53 bits of `bits` as a fraction in [0, 1) (through `i64`, exact below 2^53: a single instruction,
/// where the conversion from `u64` is several on the baseline x86-64 target).
fn unit(bits: u64) -> f64 {
    (bits >> 11) as i64 as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The standard normal density without its constant, `exp(-x^2 / 2)`.
fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

/// The ziggurat of the half-normal density `exp(-x^2 / 2)`, `x >= 0`: 256 layers of equal area, layer `i` the
/// rectangle `[0, edges[i]) x [heights[i], heights[i + 1])`. Layer 0 is the base: the rectangle under `f(r)`
/// up to `r` and the tail beyond, `edges[0] = area / f(r)` wide as if it were all rectangle. `edges` falls from
/// `edges[1] = r` to `edges[256] = 0`; a point of layer `i` left of `edges[i + 1]` is under the density whatever
/// its height.
struct Ziggurat {
    edges: [f64; LAYERS + 1],
    heights: [f64; LAYERS + 1],
}

static ZIGGURAT: LazyLock<Ziggurat> = LazyLock::new(|| {
    let mut edges = [0.0; LAYERS + 1];
    edges[0] = LAYER_AREA / density(TAIL_START);
    edges[1] = TAIL_START;
    for i in 1..LAYERS - 1 {
        // The next edge is where the density reaches this layer's top: f(x[i]) + area / x[i].
        let top = density(edges[i]) + LAYER_AREA / edges[i];
        edges[i + 1] = (-2.0 * top.min(1.0).ln()).sqrt();
    }
    edges[LAYERS] = 0.0;
    let heights = edges.map(density);
    Ziggurat { edges, heights }
});

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
        // The top 53 bits as a fraction.
        unit(self.next_u64())
    }

    /// Uniform in [low, high).
    pub fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (the ziggurat: one draw gives the layer, the sign and the position along the layer).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let zig = &*ZIGGURAT;
        loop {
            let bits = self.next_u64();
            let layer = (bits & 0xff) as usize;
            let sign = if bits & 0x100 == 0 { 1.0 } else { -1.0 };
            let x = unit(bits) * zig.edges[layer];
            if x < zig.edges[layer + 1] {
                return sign * x;
            }
            if layer == 0 {
                return sign * self.normal_tail();
            }
            // The wedge between the layer's inner edge and the curve: a uniform height in the layer, kept if
            // under the density.
            let height = zig.heights[layer] + self.uniform() * (zig.heights[layer + 1] - zig.heights[layer]);
            if height < density(x) {
                return sign * x;
            }
        }
    }

    /// A normal beyond [`TAIL_START`] (Marsaglia's method for the tail).
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
    fn the_ziggurat_closes_with_layers_of_equal_area() {
        let zig = &*ZIGGURAT;
        // The base: rectangle under f(r) up to r, and the tail beyond r (its area from erfc: 0.5 of the whole
        // normal's 2.58e-4, times sqrt(2 pi)).
        let tail = 0.5 * 2.580_324_876_539_013e-4 * (2.0 * std::f64::consts::PI).sqrt();
        let base = TAIL_START * density(TAIL_START) + tail;
        assert!((base - LAYER_AREA).abs() < 1e-9 * LAYER_AREA, "base {base:e}");
        for i in 1..LAYERS {
            let area = zig.edges[i] * (zig.heights[i + 1] - zig.heights[i]);
            assert!(
                (area - LAYER_AREA).abs() < 1e-6 * LAYER_AREA,
                "layer {i}: area {area:e}"
            );
            assert!(zig.edges[i + 1] < zig.edges[i]);
        }
        assert!(zig.edges[LAYERS - 1] > 0.0 && zig.heights[LAYERS] == 1.0);
    }

    #[test]
    fn normals_are_standard_normal_and_white() {
        let mut rng = Rng::new(42);
        let n = 2_000_000;
        let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let nf = n as f64;
        let moment = |k: i32| x.iter().map(|v| v.powi(k)).sum::<f64>() / nf;
        // Moments, each within 5 standard errors: mean, variance, skewness, kurtosis.
        let (mean, var) = (moment(1), moment(2));
        assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "variance {var}");
        assert!(moment(3).abs() < 5.0 * (6.0 / nf).sqrt(), "skewness {}", moment(3));
        assert!((moment(4) - 3.0).abs() < 5.0 * (96.0 / nf).sqrt(), "kurtosis {}", moment(4));
        // The distribution function against the normal's (from erfc), the tails included.
        let phi = [
            (-4.0, 3.167_124_183_311_996_5e-5),
            (-3.5, 2.326_290_790_355_250_4e-4),
            (-3.0, 1.349_898_031_630_095_7e-3),
            (-2.5, 6.209_665_325_776_139e-3),
            (-2.0, 2.275_013_194_817_922e-2),
            (-1.5, 6.680_720_126_885_809e-2),
            (-1.0, 0.158_655_253_931_457_07),
            (-0.5, 0.308_537_538_725_986_9),
            (0.0, 0.5),
            (0.5, 0.691_462_461_274_013_1),
            (1.0, 0.841_344_746_068_542_9),
            (1.5, 0.933_192_798_731_141_9),
            (2.0, 0.977_249_868_051_820_8),
            (2.5, 0.993_790_334_674_223_8),
            (3.0, 0.998_650_101_968_369_9),
            (3.5, 0.999_767_370_920_964_5),
            (4.0, 0.999_968_328_758_166_9),
        ];
        for (z, p) in phi {
            let below = x.iter().filter(|&&v| v <= z).count() as f64 / nf;
            let tolerance = 5.0 * (p * (1.0 - p) / nf).sqrt();
            assert!((below - p).abs() < tolerance, "P(X <= {z}) = {below}, not {p}");
        }
        // Beyond the base layer (the tail's own method): 2.58e-4 of the draws.
        let beyond = x.iter().filter(|v| v.abs() > TAIL_START).count() as f64;
        let expected = 2.580_324_876_539_013e-4 * nf;
        assert!(
            (beyond - expected).abs() < 5.0 * expected.sqrt(),
            "{beyond} beyond the tail's start"
        );
        // White: no autocorrelation at lags 1 to 20 ...
        for lag in 1..=20 {
            let r = x.iter().zip(&x[lag..]).map(|(a, b)| a * b).sum::<f64>() / (nf - lag as f64);
            assert!(r.abs() < 5.0 / nf.sqrt(), "lag {lag}: autocorrelation {r}");
        }
        // ... and a flat spectrum: the periodogram of 512 blocks of 256, averaged, is 1 at every frequency
        // (each bin's estimate within 25 %, 5.7 standard errors), and as high at the top as at the bottom.
        let block = 256;
        let num_blocks = 512;
        let mut power = vec![0.0; block / 2];
        for chunk in x.chunks_exact(block).take(num_blocks) {
            for (k, bin) in power.iter_mut().enumerate().skip(1) {
                let (mut re, mut im) = (0.0, 0.0);
                for (j, v) in chunk.iter().enumerate() {
                    let angle = std::f64::consts::TAU * (k * j % block) as f64 / block as f64;
                    re += v * angle.cos();
                    im -= v * angle.sin();
                }
                *bin += (re * re + im * im) / block as f64 / num_blocks as f64;
            }
        }
        for (k, p) in power.iter().enumerate().skip(1) {
            assert!((p - 1.0).abs() < 0.25, "frequency bin {k}: power {p}");
        }
        let low = power[1..33].iter().sum::<f64>() / 32.0;
        let high = power[96..128].iter().sum::<f64>() / 32.0;
        assert!((low / high - 1.0).abs() < 0.05, "low {low} against high {high}");
    }
}
