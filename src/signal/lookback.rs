//! A fixed-size window of the most recent values of a streamed feature, addressed by absolute sample index: what
//! the online detectors search back through (onset before the slope-sum rise, end-diastole before dP/dt max, the
//! R peak before the integrator's peak) without keeping the whole signal.

/// The last `capacity` (a power of two) values, addressed by absolute index; older indices alias newer ones, so
/// callers only read within the window they sized it for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lookback {
    mask: usize,
    values: Vec<f64>,
}

impl Lookback {
    /// A window holding at least `min_len` values.
    pub(crate) fn new(min_len: usize) -> Lookback {
        let capacity = min_len.max(2).next_power_of_two();
        Lookback {
            mask: capacity - 1,
            values: vec![f64::NAN; capacity],
        }
    }

    #[inline]
    pub(crate) fn set(&mut self, index: u64, value: f64) {
        self.values[index as usize & self.mask] = value;
    }

    #[inline]
    pub(crate) fn at(&self, index: u64) -> f64 {
        self.values[index as usize & self.mask]
    }
}

/// Threshold-tracking state shared by the pulse detectors (arterial slope sum, LV dP/dt): a running "base"
/// (the typical feature height of a pulse), a detection threshold as a fraction of it with a floor, and a decay
/// of the base when pulses stop (so a sudden fall in pulse size is followed).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AdaptiveThreshold {
    pub(crate) base: f64,
    fraction: f64,
    floor: f64,
    weight: f64,
    decay_after: u64,
    decay_per_sample: f64,
}

impl AdaptiveThreshold {
    pub(crate) fn new(fraction: f64, floor: f64, weight: f64, decay_after: u64, sample_rate_hz: f64) -> Self {
        AdaptiveThreshold {
            base: floor / fraction.max(1e-9),
            fraction,
            floor,
            weight,
            decay_after,
            // Halves every second.
            decay_per_sample: 0.5f64.powf(1.0 / sample_rate_hz),
        }
    }

    #[inline]
    pub(crate) fn threshold(&self) -> f64 {
        (self.fraction * self.base).max(self.floor)
    }

    /// Folds a detected pulse's feature peak into the base.
    pub(crate) fn update(&mut self, peak: f64) {
        self.base += self.weight * (peak - self.base);
    }

    /// Called once per sample with the time since the last pulse (or the start of valid signal).
    #[inline]
    pub(crate) fn tick(&mut self, samples_since_pulse: u64) {
        if samples_since_pulse > self.decay_after && self.threshold() > self.floor {
            self.base *= self.decay_per_sample;
        }
    }
}
