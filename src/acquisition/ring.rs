//! A fixed-capacity ring buffer of one channel's newest samples, addressed by absolute sample index, with the
//! min/max-per-column decimation that keeps drawing cost independent of the sample rate.

/// The newest `capacity` samples of a channel. Index `i` is the absolute per-source sample index.
#[derive(Clone, Debug)]
pub struct RingBuffer {
    data: Vec<f32>,
    /// Absolute index one past the newest sample.
    end_sample: u64,
    /// Incremented by every [`RingBuffer::reset`], so a copy can tell it no longer shares history with this buffer.
    num_resets: u64,
}

impl RingBuffer {
    /// An empty buffer holding at most `capacity` samples (at least one).
    pub fn new(capacity: usize) -> RingBuffer {
        RingBuffer {
            data: vec![f32::NAN; capacity.max(1)],
            end_sample: 0,
            num_resets: 0,
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
        self.num_resets += 1;
    }

    /// Makes this buffer equal to `newer`, copying only the samples it lacks when it is an older copy of the same
    /// buffer (the UI's per-frame copy of the engine's buffers costs what arrived since the last frame).
    pub fn sync_from(&mut self, newer: &RingBuffer) {
        let shares_history = self.data.len() == newer.data.len()
            && self.num_resets == newer.num_resets
            && self.end_sample <= newer.end_sample;
        if !shares_history {
            self.clone_from(newer);
            return;
        }
        let from = self.end_sample.max(newer.start_sample());
        let capacity = newer.data.len() as u64;
        self.end_sample = from;
        for index in from..newer.end_sample {
            self.push(newer.data[(index % capacity) as usize]);
        }
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
        if to <= from || num_columns == 0 {
            return vec![None; num_columns];
        }
        let span = (to - from) as f64;
        self.columns(num_columns, |column| {
            let col_from = from + (span * column as f64 / num_columns as f64) as u64;
            let col_to = from + (span * (column + 1) as f64 / num_columns as f64) as u64;
            (col_from, col_to)
        })
    }

    /// Min and max per drawing column on a grid fixed to absolute sample indices: column `k` covers
    /// `[floor(k * samples_per_column), floor((k + 1) * samples_per_column))`, and the columns returned are
    /// `first_column .. first_column + num_columns`. Because the grid does not move with the newest sample, a
    /// scrolling trace shifts by whole columns and its min/max envelope does not shimmer from frame to frame.
    pub fn min_max_grid(
        &self,
        first_column: u64,
        samples_per_column: f64,
        num_columns: usize,
    ) -> Vec<Option<(f32, f32)>> {
        if samples_per_column.is_nan() || samples_per_column <= 0.0 {
            return vec![None; num_columns];
        }
        let boundary = |k: u64| (k as f64 * samples_per_column).floor() as u64;
        self.columns(num_columns, |column| {
            let k = first_column + column as u64;
            (boundary(k), boundary(k + 1))
        })
    }

    /// Min/max of each column, the column's sample range given by `bounds` (widened to one sample when empty).
    fn columns(&self, num_columns: usize, bounds: impl Fn(usize) -> (u64, u64)) -> Vec<Option<(f32, f32)>> {
        (0..num_columns)
            .map(|column| {
                let (from, to) = bounds(column);
                self.min_max(from, to.max(from + 1))
            })
            .collect()
    }

    /// Min and max of the finite held samples in `[from, to)`.
    fn min_max(&self, from: u64, to: u64) -> Option<(f32, f32)> {
        let (from, to) = (from.max(self.start_sample()), to.min(self.end_sample));
        if from >= to {
            return None;
        }
        // The range is at most one wrap of the buffer: two contiguous slices.
        let capacity = self.data.len() as u64;
        let (start, len) = ((from % capacity) as usize, (to - from) as usize);
        let first = &self.data[start..(start + len).min(self.data.len())];
        let second = &self.data[..len - first.len()];
        let mut range: Option<(f32, f32)> = None;
        for &value in first.iter().chain(second) {
            if value.is_finite() {
                range = Some(match range {
                    None => (value, value),
                    Some((min, max)) => (min.min(value), max.max(value)),
                });
            }
        }
        range
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

    #[test]
    fn grid_columns_are_fixed_to_absolute_indices() {
        let mut ring = RingBuffer::new(100);
        let samples: Vec<f32> = (0..250).map(|i| i as f32).collect();
        ring.extend(0, &samples);
        // 2.5 samples per column: column k covers [floor(2.5k), floor(2.5k + 2.5)).
        let columns = ring.min_max_grid(60, 2.5, 4);
        assert_eq!(
            columns,
            vec![
                Some((150.0, 151.0)),
                Some((152.0, 154.0)),
                Some((155.0, 156.0)),
                Some((157.0, 159.0))
            ]
        );
        // Columns before the held history are empty; columns past the newest sample too.
        assert_eq!(ring.min_max_grid(0, 2.5, 2), vec![None, None]);
        assert_eq!(ring.min_max_grid(100, 2.5, 2), vec![None, None]);
        assert_eq!(ring.min_max_grid(0, 0.0, 1), vec![None]);
    }

    #[test]
    fn sync_copies_only_what_is_new_and_survives_resets() {
        let mut engine = RingBuffer::new(10);
        engine.extend(0, &[1.0, 2.0, 3.0]);
        let mut shown = engine.clone();
        engine.extend(3, &[4.0, 5.0]);
        shown.sync_from(&engine);
        assert_eq!((shown.end_sample(), shown.at(4)), (5, Some(5.0)));
        // Far behind: more new samples than the capacity.
        engine.extend(5, &(6..40).map(|i| i as f32).collect::<Vec<_>>());
        shown.sync_from(&engine);
        assert_eq!(
            (shown.start_sample(), shown.at(30), shown.at(38)),
            (29, Some(31.0), Some(39.0))
        );
        // A reset (reconnection at an earlier index) must not leave stale samples in the copy.
        engine.reset(2);
        engine.extend(2, &(0..38).map(|i| -(i as f32)).collect::<Vec<_>>());
        shown.sync_from(&engine);
        for index in 30..40 {
            assert_eq!(shown.at(index), engine.at(index));
        }
    }
}
