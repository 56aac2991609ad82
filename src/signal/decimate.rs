//! Min/max decimation for drawing: a trace of millions of samples drawn in a few hundred pixel columns keeps
//! every spike when each column shows the minimum and maximum of its samples.
//!
//! [`min_max_columns`] scans a slice once. [`MinMaxPyramid`] answers the same question for any range of a long
//! recording (the review screen's 2-hour cases: 8 channels x 7.2 M samples) in time proportional to the number
//! of columns: it stores min/max per bucket of 16 samples, then 64, 256, ... (4x per level, about 0.5 byte per
//! sample), and covers each column with at most a few buckets per level plus at most 15 raw samples at each end.
//! Results are exact. Missing samples (`NaN`) are ignored; a column with no valid sample is `NaN`/`NaN`.

use serde::{Deserialize, Serialize};

/// The extremes of a group of samples (`NaN` for both when the group has no valid sample).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMax {
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
}

impl MinMax {
    /// No samples.
    pub const EMPTY: MinMax = MinMax {
        min: f32::NAN,
        max: f32::NAN,
    };

    /// Whether the group held no valid sample.
    pub fn is_empty(&self) -> bool {
        self.min.is_nan()
    }

    #[inline]
    fn merge(self, other: MinMax) -> MinMax {
        // f32::min/max return the other operand when one is NaN, so EMPTY is the identity.
        MinMax {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    #[inline]
    fn of(value: f32) -> MinMax {
        MinMax {
            min: value,
            max: value,
        }
    }
}

fn scan<T: Copy + Into<f64>>(samples: &[T]) -> MinMax {
    samples
        .iter()
        .fold(MinMax::EMPTY, |acc, &v| acc.merge(MinMax::of(v.into() as f32)))
}

/// Column `c` of `num_columns` over `[from, to)`: `[from + c*(to-from)/num_columns, ...)`.
fn column_bounds(from: usize, to: usize, num_columns: usize, c: usize) -> (usize, usize) {
    let span = (to - from) as u128;
    let a = from + (span * c as u128 / num_columns as u128) as usize;
    let b = from + (span * (c as u128 + 1) / num_columns as u128) as usize;
    (a, b)
}

/// Min/max of `samples` in `num_columns` equal columns (a column may be empty when there are fewer samples than
/// columns).
pub fn min_max_columns<T: Copy + Into<f64>>(samples: &[T], num_columns: usize) -> Vec<MinMax> {
    (0..num_columns)
        .map(|c| {
            let (a, b) = column_bounds(0, samples.len(), num_columns, c);
            scan(&samples[a..b])
        })
        .collect()
}

/// A min/max pyramid over one channel (see the module documentation). It does not keep the samples: queries
/// take the same slice it was built from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MinMaxPyramid {
    len: usize,
    /// `levels[k]` holds buckets of `BASE * FACTOR^k` samples (complete buckets only).
    levels: Vec<Vec<MinMax>>,
}

impl MinMaxPyramid {
    /// Samples per bucket of the finest level.
    pub const BASE: usize = 16;
    /// Reduction from one level to the next.
    pub const FACTOR: usize = 4;

    /// Builds the pyramid of `samples` (one pass, then each level from the one below).
    pub fn build<T: Copy + Into<f64>>(samples: &[T]) -> MinMaxPyramid {
        let mut levels = Vec::new();
        let mut level: Vec<MinMax> = samples.chunks_exact(Self::BASE).map(scan).collect();
        while !level.is_empty() {
            let next: Vec<MinMax> = level
                .chunks_exact(Self::FACTOR)
                .map(|group| group.iter().fold(MinMax::EMPTY, |acc, &m| acc.merge(m)))
                .collect();
            levels.push(level);
            level = next;
        }
        MinMaxPyramid {
            len: samples.len(),
            levels,
        }
    }

    /// Number of samples it was built over.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it was built over no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Exact min/max of `samples[from..to]` (clipped to the samples).
    pub fn range<T: Copy + Into<f64>>(&self, samples: &[T], from: usize, to: usize) -> MinMax {
        let to = to.min(samples.len());
        if from >= to {
            return MinMax::EMPTY;
        }
        if samples.len() != self.len {
            // Not the slice it was built from: stay correct, if slower.
            return scan(&samples[from..to]);
        }
        let mut acc = MinMax::EMPTY;
        let mut i = from;
        while i < to {
            if !i.is_multiple_of(Self::BASE) || i + Self::BASE > to {
                acc = acc.merge(MinMax::of(samples[i].into() as f32));
                i += 1;
                continue;
            }
            let (mut level, mut size) = (0, Self::BASE);
            while level + 1 < self.levels.len()
                && i.is_multiple_of(size * Self::FACTOR)
                && i + size * Self::FACTOR <= to
            {
                level += 1;
                size *= Self::FACTOR;
            }
            acc = acc.merge(self.levels[level][i / size]);
            i += size;
        }
        acc
    }

    /// Min/max of `samples[from..to]` in `num_columns` equal columns.
    pub fn columns<T: Copy + Into<f64>>(
        &self,
        samples: &[T],
        from: usize,
        to: usize,
        num_columns: usize,
    ) -> Vec<MinMax> {
        let to = to.min(samples.len());
        let from = from.min(to);
        (0..num_columns)
            .map(|c| {
                let (a, b) = column_bounds(from, to, num_columns, c);
                self.range(samples, a, b)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_ranges_equal_a_plain_scan() {
        let samples: Vec<f64> = (0..5000).map(|i| ((i * 7919) % 1009) as f64 - 500.0).collect();
        let pyramid = MinMaxPyramid::build(&samples);
        for (from, to) in [
            (0, 5000),
            (1, 4999),
            (16, 32),
            (17, 1100),
            (3000, 3001),
            (4095, 4097),
        ] {
            assert_eq!(
                pyramid.range(&samples, from, to),
                scan(&samples[from..to]),
                "{from}..{to}"
            );
        }
        assert!(pyramid.range(&samples, 10, 10).is_empty());
        let cols = pyramid.columns(&samples, 123, 4567, 37);
        for (c, got) in cols.iter().enumerate() {
            let (a, b) = column_bounds(123, 4567, 37, c);
            assert_eq!(*got, scan(&samples[a..b]));
        }
        assert_eq!(min_max_columns(&samples, 5)[0], scan(&samples[..1000]));
    }

    #[test]
    fn nan_is_ignored_and_empty_columns_are_nan() {
        let samples = [f64::NAN, 1.0, f64::NAN, -2.0];
        let cols = min_max_columns(&samples, 4);
        assert!(cols[0].is_empty());
        assert_eq!(cols[1], MinMax { min: 1.0, max: 1.0 });
        assert_eq!(min_max_columns(&samples, 1)[0], MinMax { min: -2.0, max: 1.0 });
        assert!(min_max_columns::<f64>(&[], 3).iter().all(MinMax::is_empty));
    }
}
