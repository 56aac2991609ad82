//! Left-ventricular pressure fiducials (ENDPOINTS.md sections 2-3): dP/dt max (contraction), dP/dt min
//! (relaxation) and the end-diastole fallback "first sample before dP/dt max where dP/dt > 10 % of dP/dt max".
//!
//! LV pressure keeps a clear upstroke when the aortic trace is flat on full ECMO flow, so it is the beat
//! fiducial for pressure-volume data without a usable ECG.
//!
//! [`LvDetector`] (streaming): dP/dt by the Savitzky-Golay centre weights (the same numbers as
//! [`super::savgol`] away from the record's ends); an upstroke is an upward crossing of 40 % of a running dP/dt
//! max (initialised over the first 3 s, moved 25 % towards each beat's peak, decaying after 2 s without a beat,
//! floor 50 mmHg/s), at least 250 ms after the previous one; its dP/dt max is the maximum over the next 150 ms,
//! and end-diastole is found by stepping back from it while dP/dt stays above 10 % of that maximum.
//!
//! [`beat_fiducials`]: the per-beat values the analysis needs, from a whole-signal dP/dt.

use serde::{Deserialize, Serialize};

use super::lookback::{AdaptiveThreshold, Lookback};
use super::savgol::{SavgolError, SavgolFilter, SavgolSettings};
use super::settings::{LvSettings, samples_from_s};

/// Streaming LV end-diastole detector.
#[derive(Clone, Debug)]
pub struct LvDetector {
    weights: Vec<f64>,
    raw: Vec<f64>,
    raw_pos: usize,
    num_seen: u64,
    // Learning.
    learning: Option<Vec<f64>>,
    learn_len: usize,
    // Decision stage, indexed by the derivative's sample (half a frame behind the input).
    history: Lookback,
    threshold: AdaptiveThreshold,
    previous: f64,
    valid_since: u64,
    last_crossing: Option<u64>,
    last_pulse: u64,
    last_ed: Option<u64>,
    pending: Option<(u64, f64, u64)>,
    refractory: u64,
    peak_window: u64,
    max_back: u64,
    lead_in: u64,
    ed_fraction: f64,
}

impl LvDetector {
    /// A detector for LV pressure at `sample_rate_hz`, differentiating with `savgol`.
    pub fn new(
        settings: &LvSettings,
        savgol: &SavgolSettings,
        sample_rate_hz: f64,
        lead_in_s: f64,
    ) -> Result<LvDetector, SavgolError> {
        let filter = SavgolFilter::from_settings(savgol, 1, sample_rate_hz)?;
        let frame = filter.frame_len();
        let peak_window = samples_from_s(settings.peak_window_s, sample_rate_hz) as u64;
        let max_back = samples_from_s(settings.max_search_back_s, sample_rate_hz) as u64;
        Ok(LvDetector {
            weights: filter.centre_weights().to_vec(),
            raw: vec![f64::NAN; 2 * frame],
            raw_pos: 0,
            num_seen: 0,
            learning: Some(Vec::new()),
            learn_len: samples_from_s(settings.learn_s, sample_rate_hz),
            history: Lookback::new((peak_window + max_back) as usize + 8),
            threshold: AdaptiveThreshold::new(
                settings.threshold_fraction,
                settings.min_threshold_mmhg_s,
                settings.base_update_weight,
                samples_from_s(settings.decay_after_s, sample_rate_hz) as u64,
                sample_rate_hz,
            ),
            previous: f64::NAN,
            valid_since: 0,
            last_crossing: None,
            last_pulse: 0,
            last_ed: None,
            pending: None,
            refractory: samples_from_s(settings.refractory_s, sample_rate_hz) as u64,
            peak_window,
            max_back,
            lead_in: (lead_in_s * sample_rate_hz).round().max(0.0) as u64,
            ed_fraction: settings.ed_dpdt_fraction,
        })
    }

    /// Feeds LV pressure samples; appends the indices of newly found end-diastoles.
    pub fn push(&mut self, samples: &[f64], end_diastoles: &mut Vec<u64>) {
        let frame = self.weights.len();
        let half = (frame / 2) as u64;
        for &x in samples {
            // Each sample is written twice, `frame` apart, so the last `frame` samples are always the contiguous
            // slice ending at the write position (no wrap inside the dot product).
            self.raw[self.raw_pos] = x;
            self.raw[self.raw_pos + frame] = x;
            self.raw_pos += 1;
            if self.raw_pos == frame {
                self.raw_pos = 0;
            }
            self.num_seen += 1;
            if self.num_seen < frame as u64 {
                continue;
            }
            // The frame centred on sample num_seen - 1 - half, oldest first.
            let window = &self.raw[self.raw_pos..self.raw_pos + frame];
            let dpdt: f64 = self.weights.iter().zip(window).map(|(w, v)| w * v).sum();
            let index = self.num_seen - 1 - half;
            match &mut self.learning {
                Some(buffer) => {
                    buffer.push(dpdt);
                    if buffer.len() >= self.learn_len {
                        self.end_learning(end_diastoles);
                    }
                }
                None => self.decide(index, dpdt, end_diastoles),
            }
        }
    }

    /// Ends the record.
    pub fn finish(&mut self, end_diastoles: &mut Vec<u64>) {
        if self.learning.is_some() {
            self.end_learning(end_diastoles);
        }
    }

    fn end_learning(&mut self, end_diastoles: &mut Vec<u64>) {
        let Some(buffer) = self.learning.take() else {
            return;
        };
        let max = buffer
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        self.threshold.base = self.threshold.base.max(max);
        let first = (self.weights.len() / 2) as u64;
        for (i, dpdt) in buffer.into_iter().enumerate() {
            self.decide(first + i as u64, dpdt, end_diastoles);
        }
    }

    #[inline]
    fn decide(&mut self, index: u64, dpdt: f64, end_diastoles: &mut Vec<u64>) {
        self.history.set(index, dpdt);
        if dpdt.is_nan() {
            self.pending = None;
            self.valid_since = index + 1;
            self.last_pulse = index + 1;
            self.previous = f64::NAN;
            return;
        }
        if let Some((crossing, peak, peak_at)) = &mut self.pending {
            if dpdt > *peak {
                *peak = dpdt;
                *peak_at = index;
            }
            if index >= *crossing + self.peak_window {
                let (peak, peak_at) = (*peak, *peak_at);
                self.pending = None;
                self.finalise(peak, peak_at, index, end_diastoles);
            }
        } else {
            let threshold = self.threshold.threshold();
            let outside_refractory = self.last_crossing.is_none_or(|c| index >= c + self.refractory);
            if self.previous < threshold && dpdt >= threshold && outside_refractory {
                self.pending = Some((index, dpdt, index));
                self.last_crossing = Some(index);
            }
        }
        self.threshold.tick(index.saturating_sub(self.last_pulse));
        self.previous = dpdt;
    }

    fn finalise(&mut self, peak: f64, peak_at: u64, now: u64, end_diastoles: &mut Vec<u64>) {
        self.threshold.update(peak);
        self.last_pulse = now;
        let floor = peak_at
            .saturating_sub(self.max_back)
            .max(self.valid_since)
            .max(self.last_ed.map_or(0, |e| e + 1));
        let level = self.ed_fraction * peak;
        let mut k = peak_at;
        while k > floor && self.history.at(k - 1) > level {
            k -= 1;
        }
        if k >= self.valid_since + self.lead_in && self.last_ed.is_none_or(|last| k > last) {
            self.last_ed = Some(k);
            end_diastoles.push(k);
        }
    }
}

/// All end-diastoles of a whole LV pressure signal.
pub fn detect_end_diastoles(
    lvp_mmhg: &[f64],
    sample_rate_hz: f64,
    settings: &LvSettings,
    savgol: &SavgolSettings,
    lead_in_s: f64,
) -> Result<Vec<u64>, SavgolError> {
    let mut detector = LvDetector::new(settings, savgol, sample_rate_hz, lead_in_s)?;
    let mut found = Vec::new();
    detector.push(lvp_mmhg, &mut found);
    detector.finish(&mut found);
    Ok(found)
}

/// The LV pressure fiducials of one beat.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LvFiducials {
    /// Sample of dP/dt max within the beat.
    pub dpdt_max_index: u64,
    /// dP/dt max, mmHg/s.
    pub dpdt_max_mmhg_per_s: f64,
    /// Sample of dP/dt min within the beat (after dP/dt max).
    pub dpdt_min_index: u64,
    /// dP/dt min, mmHg/s.
    pub dpdt_min_mmhg_per_s: f64,
    /// End-diastole by the fallback rule: the first sample of the run before dP/dt max where dP/dt exceeds
    /// the set fraction (10 %) of dP/dt max; searched back from dP/dt max, at most to `search_from`.
    pub dpdt_end_diastole_index: u64,
}

/// The fiducials of the beat `[start, end)` from `dpdt` (mmHg/s; `dpdt[i]` is sample `first_sample + i`).
/// The end-diastole search may look back to `search_from` (e.g. the previous beat's dP/dt min), so that an R
/// wave placed after the true onset of contraction does not truncate it. `None` when the beat has no finite
/// derivative or no upstroke (dP/dt max not positive).
pub fn beat_fiducials(
    dpdt: &[f64],
    first_sample: u64,
    start: u64,
    end: u64,
    search_from: u64,
    ed_fraction: f64,
) -> Option<LvFiducials> {
    let at = |i: u64| dpdt.get(i.checked_sub(first_sample)? as usize).copied();
    let (mut max, mut min) = ((f64::NEG_INFINITY, start), (f64::INFINITY, start));
    for i in start..end {
        let v = at(i)?;
        if v.is_nan() {
            return None;
        }
        if v > max.0 {
            max = (v, i);
        }
    }
    if max.0 <= 0.0 {
        return None;
    }
    for i in max.1..end {
        let v = at(i)?;
        if v < min.0 {
            min = (v, i);
        }
    }
    let level = ed_fraction * max.0;
    let floor = search_from.max(first_sample);
    let mut ed = max.1;
    while ed > floor && at(ed - 1).is_some_and(|v| v > level) {
        ed -= 1;
    }
    Some(LvFiducials {
        dpdt_max_index: max.1,
        dpdt_max_mmhg_per_s: max.0,
        dpdt_min_index: min.1,
        dpdt_min_mmhg_per_s: min.0,
        dpdt_end_diastole_index: ed,
    })
}
