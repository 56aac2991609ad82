//! A fixed-capacity ring buffer of one channel's newest samples, addressed by absolute sample index, with the
//! min/max-per-column decimation that keeps drawing cost independent of the sample rate.

/// The newest `capacity` samples of a channel. Index `i` is the absolute per-source sample index.
#[derive(Clone, Debug)]
pub struct RingBuffer {
    data: Vec<f32>,
    /// Absolute index one past the newest sample.
    end_sample: u64,
}

impl RingBuffer {
    /// An empty buffer holding at most `capacity` samples (at least one).
    pub fn new(capacity: usize) -> RingBuffer {
        RingBuffer {
            data: vec![f32::NAN; capacity.max(1)],
            end_sample: 0,
        }
    }

    /// Maximum number of samples held.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Absolute index one past the newest sample.
    pub fn end_sample(&self) -> u64 {
        self.end_sample
    }

    /// Absolute index of the oldest sample still held.
    pub fn start_sample(&self) -> u64 {
        self.end_sample.saturating_sub(self.data.len() as u64)
    }

    /// Appends samples that start at `first_sample`. A jump forward (a gap) is filled with NaN so a trace shows
    /// a break; samples older than the buffer's newest are ignored (a source never goes back in time).
    pub fn extend(&mut self, first_sample: u64, samples: &[f32]) {
        if first_sample > self.end_sample {
            let num_missing = (first_sample - self.end_sample).min(self.data.len() as u64);
            self.end_sample = first_sample - num_missing;
            for _ in 0..num_missing {
                self.push(f32::NAN);
            }
        }
        let skip = (self.end_sample.saturating_sub(first_sample) as usize).min(samples.len());
        for &value in &samples[skip..] {
            self.push(value);
        }
    }

    /// Restarts the buffer so that the next sample is `end_sample` (a new segment after a reconnection).
    pub fn reset(&mut self, end_sample: u64) {
        self.data.fill(f32::NAN);
        self.end_sample = end_sample;
    }

    fn push(&mut self, value: f32) {
        let capacity = self.data.len() as u64;
        self.data[(self.end_sample % capacity) as usize] = value;
        self.end_sample += 1;
    }

    /// The sample at absolute index `index`, if held (NaN marks a gap).
    pub fn at(&self, index: u64) -> Option<f32> {
        (index >= self.start_sample() && index < self.end_sample)
            .then(|| self.data[(index % self.data.len() as u64) as usize])
    }

    /// Copies the held samples in `[from, to)` into `out` (cleared first); indices outside what is held are
    /// skipped. Returns the absolute index of `out[0]`.
    pub fn copy_range(&self, from: u64, to: u64, out: &mut Vec<f32>) -> u64 {
        out.clear();
        let from = from.max(self.start_sample());
        let to = to.min(self.end_sample);
        out.extend((from..to).map(|i| self.data[(i % self.data.len() as u64) as usize]));
        from
    }

    /// Min and max of the samples in each of `num_columns` equal slices of `[from, to)`, for drawing.
    /// A column with no finite sample (not held, or a gap) is `None`.
    pub fn min_max_columns(&self, from: u64, to: u64, num_columns: usize) -> Vec<Option<(f32, f32)>> {
        let mut columns = vec![None; num_columns];
        if to <= from || num_columns == 0 {
            return columns;
        }
        let span = (to - from) as f64;
        let held_from = from.max(self.start_sample());
        let held_to = to.min(self.end_sample);
        let capacity = self.data.len() as u64;
        for (column, slot) in columns.iter_mut().enumerate() {
            let col_from = from + (span * column as f64 / num_columns as f64) as u64;
            let col_to = (from + (span * (column + 1) as f64 / num_columns as f64) as u64).max(col_from + 1);
            let (lo, hi) = (col_from.max(held_from), col_to.min(held_to));
            let mut range: Option<(f32, f32)> = None;
            for i in lo..hi {
                let value = self.data[(i % capacity) as usize];
                if value.is_finite() {
                    range = Some(match range {
                        None => (value, value),
                        Some((min, max)) => (min.min(value), max.max(value)),
                    });
                }
            }
            *slot = range;
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_newest_and_addresses_absolutely() {
        let mut ring = RingBuffer::new(4);
        ring.extend(0, &[1.0, 2.0, 3.0]);
        ring.extend(3, &[4.0, 5.0, 6.0]);
        assert_eq!((ring.start_sample(), ring.end_sample()), (2, 6));
        assert_eq!(ring.at(1), None);
        assert_eq!(ring.at(2), Some(3.0));
        assert_eq!(ring.at(5), Some(6.0));
        let mut out = Vec::new();
        assert_eq!(ring.copy_range(0, 10, &mut out), 2);
        assert_eq!(out, vec![3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn gaps_become_nan_and_overlaps_are_ignored() {
        let mut ring = RingBuffer::new(8);
        ring.extend(0, &[1.0, 2.0]);
        ring.extend(4, &[5.0]);
        assert!(ring.at(2).unwrap().is_nan() && ring.at(3).unwrap().is_nan());
        ring.extend(3, &[9.0, 9.0, 6.0]);
        assert_eq!(ring.at(4), Some(5.0));
        assert_eq!(ring.at(5), Some(6.0));
        assert_eq!(ring.end_sample(), 6);
    }

    #[test]
    fn min_max_matches_brute_force() {
        let mut ring = RingBuffer::new(1000);
        let samples: Vec<f32> = (0..1500).map(|i| ((i * 37 % 101) as f32).sin()).collect();
        ring.extend(0, &samples);
        let columns = ring.min_max_columns(600, 1400, 8);
        for (c, column) in columns.iter().enumerate() {
            let slice = &samples[600 + c * 100..600 + (c + 1) * 100];
            let min = slice.iter().copied().fold(f32::INFINITY, f32::min);
            let max = slice.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(*column, Some((min, max)));
        }
        assert_eq!(ring.min_max_columns(0, 400, 4), vec![None; 4]);
    }
}
