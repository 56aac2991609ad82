//! ECG R-wave detection, Pan-Tompkins type (Pan and Tompkins, IEEE Trans Biomed Eng 1985, re-implemented from
//! the paper), the primary beat fiducial (ENDPOINTS.md section 2).
//!
//! Per sample: QRS band-pass (5-15 Hz, Butterworth), derivative, squaring, moving-window integration (150 ms).
//! Peaks of the integrated signal at least 200 ms apart (refractory period) are classified against two adaptive
//! thresholds: signal and noise peak levels SPK/NPK (running averages with weight 1/8), THRESHOLD1 =
//! NPK + 0.25 (SPK - NPK), THRESHOLD2 = THRESHOLD1 / 2. A peak above THRESHOLD1 is a QRS unless it falls within
//! 360 ms of the previous QRS with less than half its maximal slope (a T wave). When no QRS has been found for
//! 1.66 x the mean of the last 8 RR intervals, the largest peak above THRESHOLD2 since the last QRS is taken
//! (search-back, SPK weight 1/4). Thresholds start from the first 2 s (SPK = max/3, NPK = mean/2 of the
//! integrated signal), which are then analysed too. Two additions make the detector recover from artefacts,
//! which the original cannot (TestICU's ECG has a 200 ms, 17 mV step at 222 s that silenced it for the rest of
//! the record): a peak enters SPK at most as 4 x SPK, and after 2 s (and the search-back time) without a QRS,
//! SPK halves every second down to NPK.
//!
//! The R peak itself is located on the raw ECG in the 250 ms before the integrator's peak: the extreme sample
//! on the side (positive or negative) that departs further from the window's mean, so inverted leads work.
//! The console of the Inca example places its end-diastole at exactly this sample (see `ARCHITECTURE.md`).
//!
//! Streaming and chunk-invariant like the other detectors; R peaks are reported once their integrator peak is
//! confirmed (200 ms later) or found by search-back.

use super::filter::{Biquad, FilterError};
use super::lookback::Lookback;
use super::settings::{EcgSettings, samples_from_s};

/// Without a QRS for this long (and past the search-back time), the signal level starts to halve every second.
const STALE_S: f64 = 2.0;

/// Samples the front end filters at a time, before the decision stage reads them: the filters' state stays in
/// registers through a block, and a block's features (24 KiB) stay in the first-level cache.
const BLOCK: usize = 1024;

/// Streaming R-wave detector.
#[derive(Clone, Debug)]
pub struct EcgDetector {
    // Front end: the QRS band-pass's high-pass and low-pass sections.
    band_pass: [Biquad; 2],
    previous_filtered: f64,
    squares: Vec<f64>,
    square_pos: usize,
    square_sum: f64,
    sample_rate_hz: f64,
    next_index: u64,
    // Learning.
    learning: Option<Vec<Feature>>,
    learn_len: usize,
    // Decision stage.
    integrated: Lookback,
    slope: Lookback,
    raw: Lookback,
    previous: [f64; 2],
    candidate: Option<Peak>,
    search_back: Option<Peak>,
    signal_level: f64,
    noise_level: f64,
    last_qrs: Option<Peak>,
    recent_rr: [u64; 8],
    num_rr: usize,
    /// Index after which a missed beat is searched back for (last QRS + 1.66 x mean RR).
    search_back_after: Option<u64>,
    /// Index after which, still without a QRS, the signal level decays (see the module documentation).
    decay_from: u64,
    decay_per_sample: f64,
    stale: u64,
    valid_since: u64,
    last_r: Option<u64>,
    // Settings in samples.
    window: u64,
    refractory: u64,
    t_wave: u64,
    r_window: u64,
    lead_in: u64,
    search_back_factor: f64,
}

#[derive(Clone, Copy, Debug)]
struct Feature {
    integrated: f64,
    slope: f64,
    raw: f64,
}

impl Feature {
    /// At a missing sample.
    const MISSING: Feature = Feature {
        integrated: f64::NAN,
        slope: f64::NAN,
        raw: f64::NAN,
    };
}

#[derive(Clone, Copy, Debug)]
struct Peak {
    /// Index of the integrator's peak.
    index: u64,
    value: f64,
    /// Largest |slope| of the band-passed ECG in the integration window ending at the peak.
    max_slope: f64,
    /// The R peak on the raw ECG, when it lies in valid signal.
    r_index: Option<u64>,
}

impl EcgDetector {
    /// A detector for an ECG sampled at `sample_rate_hz`.
    pub fn new(
        settings: &EcgSettings,
        sample_rate_hz: f64,
        lead_in_s: f64,
    ) -> Result<EcgDetector, FilterError> {
        let (low, high) = settings.qrs_band_hz;
        let band_pass = Biquad::band_pass_sections(low, high.min(0.4 * sample_rate_hz), sample_rate_hz)?;
        let window = samples_from_s(settings.integration_window_s, sample_rate_hz);
        let refractory = samples_from_s(settings.refractory_s, sample_rate_hz) as u64;
        let r_window = samples_from_s(settings.r_search_window_s, sample_rate_hz) as u64;
        let keep = (refractory + r_window.max(window as u64)) as usize + 8;
        Ok(EcgDetector {
            band_pass,
            previous_filtered: f64::NAN,
            squares: vec![0.0; window],
            square_pos: 0,
            square_sum: 0.0,
            sample_rate_hz,
            next_index: 0,
            learning: Some(Vec::new()),
            learn_len: samples_from_s(settings.learn_s, sample_rate_hz),
            integrated: Lookback::new(keep),
            slope: Lookback::new(keep),
            raw: Lookback::new(keep),
            previous: [f64::NAN; 2],
            candidate: None,
            search_back: None,
            signal_level: 0.0,
            noise_level: 0.0,
            last_qrs: None,
            recent_rr: [0; 8],
            num_rr: 0,
            search_back_after: None,
            decay_from: samples_from_s(STALE_S, sample_rate_hz) as u64,
            decay_per_sample: 0.5f64.powf(1.0 / sample_rate_hz),
            stale: samples_from_s(STALE_S, sample_rate_hz) as u64,
            valid_since: 0,
            last_r: None,
            window: window as u64,
            refractory,
            t_wave: samples_from_s(settings.t_wave_window_s, sample_rate_hz) as u64,
            r_window,
            lead_in: (lead_in_s * sample_rate_hz).round().max(0.0) as u64,
            search_back_factor: settings.search_back_rr_factor,
        })
    }

    /// Feeds samples; appends the indices of newly found R peaks.
    pub fn push(&mut self, samples: &[f64], r_peaks: &mut Vec<u64>) {
        let mut buffer = vec![Feature::MISSING; samples.len().min(BLOCK)];
        for block in samples.chunks(BLOCK) {
            let features = &mut buffer[..block.len()];
            self.front_end(block, features);
            for &feature in features.iter() {
                let index = self.next_index;
                self.next_index += 1;
                match &mut self.learning {
                    Some(buffer) => {
                        buffer.push(feature);
                        if buffer.len() >= self.learn_len {
                            self.end_learning(r_peaks);
                        }
                    }
                    None => self.decide(index, feature, r_peaks),
                }
            }
        }
    }

    /// Ends the record (a record shorter than the learning period is analysed with what there is).
    pub fn finish(&mut self, r_peaks: &mut Vec<u64>) {
        if self.learning.is_some() {
            self.end_learning(r_peaks);
        }
    }

    /// The features of `block` (band-pass, derivative, square, moving-window integral) into `features` (as
    /// long): each run of valid samples in a loop of its own with the state in locals (in registers: nothing
    /// in it calls out), a missing sample restarting the filters and the integral.
    fn front_end(&mut self, block: &[f64], features: &mut [Feature]) {
        let len = self.squares.len() as f64;
        let mut i = 0;
        while i < block.len() {
            let [mut high_pass, mut low_pass] = self.band_pass.clone();
            let (mut previous, mut sum, mut position) =
                (self.previous_filtered, self.square_sum, self.square_pos);
            let squares = &mut self.squares[..];
            while let Some(&x) = block.get(i)
                && !x.is_nan()
            {
                let filtered = low_pass.step(high_pass.step(x));
                let slope = if previous.is_nan() {
                    0.0
                } else {
                    (filtered - previous) * self.sample_rate_hz
                };
                previous = filtered;
                let square = slope * slope;
                sum += square - squares[position];
                squares[position] = square;
                position += 1;
                if position == squares.len() {
                    position = 0;
                }
                features[i] = Feature {
                    integrated: sum.max(0.0) / len,
                    slope: slope.abs(),
                    raw: x,
                };
                i += 1;
            }
            self.band_pass = [high_pass, low_pass];
            (self.previous_filtered, self.square_sum, self.square_pos) = (previous, sum, position);
            if i < block.len() {
                self.band_pass.iter_mut().for_each(Biquad::reset);
                self.previous_filtered = f64::NAN;
                self.squares.fill(0.0);
                self.square_sum = 0.0;
                features[i] = Feature::MISSING;
                i += 1;
            }
        }
    }

    fn end_learning(&mut self, r_peaks: &mut Vec<u64>) {
        let Some(buffer) = self.learning.take() else {
            return;
        };
        let finite = buffer.iter().map(|f| f.integrated).filter(|v| v.is_finite());
        let (max, sum, count) = finite.fold((0.0f64, 0.0, 0usize), |(m, s, c), v| (m.max(v), s + v, c + 1));
        if count > 0 {
            self.signal_level = max / 3.0;
            self.noise_level = 0.5 * sum / count as f64;
        }
        for (index, feature) in buffer.into_iter().enumerate() {
            self.decide(index as u64, feature, r_peaks);
        }
    }

    fn threshold1(&self) -> f64 {
        self.noise_level + 0.25 * (self.signal_level - self.noise_level)
    }

    #[inline(always)]
    fn decide(&mut self, index: u64, feature: Feature, r_peaks: &mut Vec<u64>) {
        self.integrated.set(index, feature.integrated);
        self.slope.set(index, feature.slope);
        self.raw.set(index, feature.raw);
        if feature.integrated.is_nan() {
            self.candidate = None;
            self.search_back = None;
            self.last_qrs = None;
            self.num_rr = 0;
            self.search_back_after = None;
            self.decay_from = index + 1 + self.stale;
            self.valid_since = index + 1;
            self.previous = [f64::NAN; 2];
            return;
        }
        // A local maximum of the integrated signal at index - 1.
        let [before, peak_value] = self.previous;
        if peak_value > before && peak_value >= feature.integrated {
            let at = index - 1;
            match self.candidate {
                Some(c) if at - c.index < self.refractory => {
                    if peak_value > c.value {
                        self.candidate = Some(Peak {
                            index: at,
                            value: peak_value,
                            max_slope: 0.0,
                            r_index: None,
                        });
                    }
                }
                _ => {
                    self.candidate = Some(Peak {
                        index: at,
                        value: peak_value,
                        max_slope: 0.0,
                        r_index: None,
                    })
                }
            }
        }
        if let Some(candidate) = self.candidate
            && index - candidate.index >= self.refractory
        {
            self.candidate = None;
            self.classify(candidate, r_peaks);
        }
        if let (Some(after), Some(found)) = (self.search_back_after, self.search_back)
            && index > after
        {
            self.search_back = None;
            self.accept(found, 0.25, r_peaks);
        }
        if index > self.decay_from {
            self.signal_level = (self.signal_level * self.decay_per_sample).max(self.noise_level);
        }
        self.previous = [peak_value, feature.integrated];
    }

    fn mean_rr(&self) -> Option<f64> {
        (self.num_rr > 0).then(|| {
            let n = self.num_rr.min(self.recent_rr.len());
            self.recent_rr[..n].iter().sum::<u64>() as f64 / n as f64
        })
    }

    /// Slope and R location of a confirmed integrator peak (needs the lookback window around it).
    fn describe(&self, mut peak: Peak) -> Peak {
        let from = peak.index.saturating_sub(self.window).max(self.valid_since);
        peak.max_slope = (from..=peak.index).map(|i| self.slope.at(i)).fold(0.0, f64::max);
        let from = peak.index.saturating_sub(self.r_window).max(self.valid_since);
        let (mut sum, mut max, mut min) = (0.0, (f64::NEG_INFINITY, from), (f64::INFINITY, from));
        for i in from..=peak.index {
            let v = self.raw.at(i);
            sum += v;
            if v > max.0 {
                max = (v, i);
            }
            if v < min.0 {
                min = (v, i);
            }
        }
        let mean = sum / (peak.index - from + 1) as f64;
        peak.r_index = Some(if max.0 - mean >= mean - min.0 {
            max.1
        } else {
            min.1
        });
        peak
    }

    fn classify(&mut self, peak: Peak, r_peaks: &mut Vec<u64>) {
        let peak = self.describe(peak);
        let threshold1 = self.threshold1();
        let is_t_wave = self.last_qrs.is_some_and(|last| {
            peak.index - last.index < self.t_wave && peak.max_slope < 0.5 * last.max_slope
        });
        if peak.value > threshold1 && !is_t_wave {
            self.accept(peak, 0.125, r_peaks);
            return;
        }
        self.noise_level += 0.125 * (peak.value - self.noise_level);
        if peak.value > 0.5 * threshold1
            && !is_t_wave
            && self.search_back.is_none_or(|s| peak.value > s.value)
        {
            self.search_back = Some(peak);
        }
    }

    fn accept(&mut self, peak: Peak, weight: f64, r_peaks: &mut Vec<u64>) {
        // One artefact must not lift the signal level out of reach of the real QRS complexes.
        let value = if self.signal_level > 0.0 {
            peak.value.min(4.0 * self.signal_level)
        } else {
            peak.value
        };
        self.signal_level += weight * (value - self.signal_level);
        if let Some(last) = self.last_qrs {
            self.recent_rr[self.num_rr % self.recent_rr.len()] = peak.index - last.index;
            self.num_rr += 1;
        }
        self.search_back_after = self
            .mean_rr()
            .map(|rr| peak.index + (self.search_back_factor * rr) as u64);
        self.decay_from = self.search_back_after.unwrap_or(0).max(peak.index + self.stale);
        self.last_qrs = Some(peak);
        self.search_back = None;
        if let Some(r) = peak.r_index
            && r >= self.valid_since + self.lead_in
            && self.last_r.is_none_or(|last| r > last)
        {
            self.last_r = Some(r);
            r_peaks.push(r);
        }
    }
}

/// All R peaks of a whole ECG.
pub fn detect_r_peaks(
    ecg: &[f64],
    sample_rate_hz: f64,
    settings: &EcgSettings,
    lead_in_s: f64,
) -> Result<Vec<u64>, FilterError> {
    let mut detector = EcgDetector::new(settings, sample_rate_hz, lead_in_s)?;
    let mut r_peaks = Vec::new();
    detector.push(ecg, &mut r_peaks);
    detector.finish(&mut r_peaks);
    Ok(r_peaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::filter::Cascade;
    use crate::sim::rng::Rng;

    /// An ECG at `rate_hz` for 60 s: narrow R waves (some inverted) at irregular intervals with T waves,
    /// baseline wander, noise, a large step artefact, and two gaps (one of a single sample).
    fn ecg(rate_hz: f64) -> Vec<f64> {
        let mut rng = Rng::new(11);
        let n = (60.0 * rate_hz) as usize;
        let mut samples = vec![0.0; n];
        let mut beat = 0.3;
        let mut k = 0;
        while beat < 59.0 {
            let sign = if k % 7 == 3 { -1.0 } else { 1.0 };
            for (i, v) in samples.iter_mut().enumerate() {
                let t = i as f64 / rate_hz - beat;
                *v += sign * 1.2 * (-(t / 0.012).powi(2)).exp() + 0.3 * (-((t - 0.25) / 0.05).powi(2)).exp();
            }
            beat += [0.8, 0.62, 1.1, 0.45, 0.9][k % 5];
            k += 1;
        }
        for (i, v) in samples.iter_mut().enumerate() {
            let t = i as f64 / rate_hz;
            *v += 0.2 * (0.3 * t).sin()
                + rng.uniform_in(-0.03, 0.03)
                + if (30.0..30.2).contains(&t) { 17.0 } else { 0.0 };
        }
        let gap = (20.0 * rate_hz) as usize;
        samples[gap..gap + (0.5 * rate_hz) as usize].fill(f64::NAN);
        samples[(45.0 * rate_hz) as usize] = f64::NAN;
        samples
    }

    /// The features as the detector computed them before its front end ran in blocks: sample by sample through
    /// the band-pass cascade.
    fn features_one_by_one(settings: &EcgSettings, rate_hz: f64, samples: &[f64]) -> Vec<Feature> {
        let (low, high) = settings.qrs_band_hz;
        let mut band_pass = Cascade::band_pass(low, high.min(0.4 * rate_hz), rate_hz).unwrap();
        let mut squares = vec![0.0; samples_from_s(settings.integration_window_s, rate_hz)];
        let (mut previous, mut sum, mut position) = (f64::NAN, 0.0, 0);
        let mut features = Vec::new();
        for &x in samples {
            if x.is_nan() {
                band_pass.reset();
                previous = f64::NAN;
                squares.fill(0.0);
                sum = 0.0;
                features.push(Feature::MISSING);
                continue;
            }
            let filtered = band_pass.step(x);
            let slope = if previous.is_nan() {
                0.0
            } else {
                (filtered - previous) * rate_hz
            };
            previous = filtered;
            sum += slope * slope - squares[position];
            squares[position] = slope * slope;
            position = (position + 1) % squares.len();
            features.push(Feature {
                integrated: sum.max(0.0) / squares.len() as f64,
                slope: slope.abs(),
                raw: x,
            });
        }
        features
    }

    #[test]
    fn features_of_the_block_front_end_are_those_of_the_cascade_sample_by_sample_bit_for_bit() {
        let settings = EcgSettings::default();
        let bits = |f: &Feature| [f.integrated, f.slope, f.raw].map(f64::to_bits);
        for rate_hz in [250.0, 1000.0] {
            let samples = ecg(rate_hz);
            let expected: Vec<_> = features_one_by_one(&settings, rate_hz, &samples)
                .iter()
                .map(bits)
                .collect();
            for chunk in [1, 7, BLOCK, BLOCK + 1, samples.len()] {
                let mut detector = EcgDetector::new(&settings, rate_hz, 2.0).unwrap();
                let mut features = Vec::new();
                for part in samples.chunks(chunk) {
                    let mut out = vec![Feature::MISSING; part.len()];
                    detector.front_end(part, &mut out);
                    features.extend(out);
                }
                let got: Vec<_> = features.iter().map(bits).collect();
                assert!(got == expected, "{rate_hz} Hz in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn r_peaks_do_not_depend_on_the_chunking() {
        let settings = EcgSettings::default();
        let samples = ecg(1000.0);
        let whole = detect_r_peaks(&samples, 1000.0, &settings, 2.0).unwrap();
        assert!(whole.len() > 60, "{} R peaks", whole.len());
        for chunk in [1, 40, BLOCK - 1, 3 * BLOCK + 5] {
            let mut detector = EcgDetector::new(&settings, 1000.0, 2.0).unwrap();
            let mut found = Vec::new();
            for part in samples.chunks(chunk) {
                detector.push(part, &mut found);
            }
            detector.finish(&mut found);
            assert_eq!(found, whole, "chunks of {chunk}");
        }
    }
}
