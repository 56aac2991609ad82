//! A small deterministic random number generator: xoshiro256++ seeded through splitmix64 (Blackman and Vigna),
//! with Box-Muller normals. No global state: each simulator owns its generator, so a seed fixes the output.
//!
//! The sensors draw eight normals per sample: the pair's sine and cosine come from the simulator's tabulated
//! half-cosine ([`HalfCosine::cos_turns`], within 2e-15 of the library's), which was a twentieth of the run.
//! (Session 9 tried the ziggurat (Marsaglia and Tsang 2000) instead: faster, but a new noise realisation,
//! which moved a validation verdict that sits at its bound; see docs/performance.md.)

use super::rhythm::HalfCosine;

/// xoshiro256++ with a cached second Box-Muller normal.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
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
            spare_normal: None,
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
        // The top 53 bits as a fraction, through `i64` (exact below 2^53: one instruction, where the conversion
        // from `u64` is several on the baseline x86-64 target).
        (self.next_u64() >> 11) as i64 as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    pub fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(spare) = self.spare_normal.take() {
            return spare;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: the logarithm stays finite
        let u2 = self.uniform();
        let radius = (-2.0 * u1.ln()).sqrt();
        // The angle 2 pi u2, in turns.
        let shape = HalfCosine::shared();
        self.spare_normal = Some(radius * shape.sin_turns(u2));
        radius * shape.cos_turns(u2)
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
    fn normals_are_box_muller_with_the_library_s_sine_and_cosine_to_rounding() {
        // The same draws through the library's sin and cos: the same realisation, value by value.
        let mut rng = Rng::new(11);
        let mut reference = Rng::new(11);
        let mut worst: f64 = 0.0;
        for _ in 0..100_000 {
            let u1 = 1.0 - reference.uniform();
            let u2 = reference.uniform();
            let radius = (-2.0 * u1.ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            for expected in [radius * angle.cos(), radius * angle.sin()] {
                worst = worst.max((rng.normal() - expected).abs());
            }
        }
        // The table is within 2e-15 of sin and cos; the radius is at most about 6.
        assert!(worst < 1.5e-14, "worst difference {worst:e}");
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut rng = Rng::new(42);
        let n = 200_000;
        let samples: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
    }
}
