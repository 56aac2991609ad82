//! Arterial-pressure pulse onsets by a slope-sum function, re-implemented from the published description of
//! Zong, Heldt, Moody and Mark, "An open-source algorithm to detect onset of arterial blood pressure pulses",
//! Computers in Cardiology 2003 (no code copied).
//!
//! Method, per sample (all settings in [`OnsetSettings`]):
//! 1. low-pass the pressure (second-order Butterworth, 16 Hz) to damp noise in the slope;
//! 2. slope sum SSF(n) = sum over the last 130 ms of the positive sample-to-sample increases (mmHg): it is large
//!    only on the systolic upstroke, whatever the baseline;
//! 3. threshold = 60 % of a "threshold base", initialised to 3 x the mean SSF over a learning period (8 s) and
//!    moved 25 % towards each detected pulse's SSF peak; after 2 s without a pulse the base halves every second
//!    (never below a 3 mmHg floor, so a flat line gives no pulses);
//! 4. a pulse is an upward SSF crossing of the threshold at least 250 ms (refractory period) after the previous
//!    one; its SSF peak is the maximum over the next 150 ms;
//! 5. onset [choice]: step back from the crossing to the first sample of the run where the SSF exceeds 10 % of
//!    the pulse's SSF peak (at most 300 ms back), then subtract the low-pass filter's delay. A level on the
//!    slope sum is robust to noise where "the SSF's last local minimum" is not; with 10 % the onsets on TestICU
//!    fall within a few ms of PhysioNet's `wabp` (median offset in `ARCHITECTURE.md`).
//!
//! Streaming: [`OnsetDetector::push`] takes chunks of any size and reports onsets once decided (150 ms after the
//! crossing); the same samples give the same onsets whatever the chunking. The learning period is buffered and
//! replayed, so the first onsets of a record are found too (after [`crate::signal::SignalSettings::lead_in_s`]).

use super::filter::{Cascade, FilterError};
use super::lookback::{AdaptiveThreshold, Lookback};
use super::settings::{OnsetSettings, samples_from_s};

/// Streaming arterial pulse-onset detector.
#[derive(Clone, Debug)]
pub struct OnsetDetector {
    // Front end: low-pass and slope sum.
    low_pass: Cascade,
    previous: f64,
    rises: Vec<f64>,
    rise_pos: usize,
    slope_sum: f64,
    next_index: u64,
    // Learning: slope sums of the first samples, replayed once the threshold is set.
    learning: Option<Vec<f64>>,
    learn_len: usize,
    // Decision stage.
    history: Lookback,
    threshold: AdaptiveThreshold,
    previous_ssf: f64,
    valid_since: u64,
    last_crossing: Option<u64>,
    last_pulse: u64,
    last_onset: Option<u64>,
    pending: Option<Pending>,
    // Settings in samples.
    refractory: u64,
    peak_window: u64,
    max_back: u64,
    lead_in: u64,
    delay: u64,
    onset_fraction: f64,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    crossing: u64,
    peak: f64,
}

impl OnsetDetector {
    /// A detector for pressure sampled at `sample_rate_hz`; `lead_in_s` is the signal needed before a first
    /// onset (at the start and after a gap).
    pub fn new(
        settings: &OnsetSettings,
        sample_rate_hz: f64,
        lead_in_s: f64,
    ) -> Result<OnsetDetector, FilterError> {
        let low_pass = Cascade::low_pass(settings.low_pass_hz.min(0.4 * sample_rate_hz), sample_rate_hz)?;
        let delay = low_pass.dc_group_delay_samples().round().max(0.0) as u64;
        let window = samples_from_s(settings.window_s, sample_rate_hz);
        let peak_window = samples_from_s(settings.peak_window_s, sample_rate_hz) as u64;
        let max_back = samples_from_s(settings.max_search_back_s, sample_rate_hz) as u64;
        Ok(OnsetDetector {
            low_pass,
            previous: f64::NAN,
            rises: vec![0.0; window],
            rise_pos: 0,
            slope_sum: 0.0,
            next_index: 0,
            learning: Some(Vec::new()),
            learn_len: samples_from_s(settings.learn_s, sample_rate_hz),
            history: Lookback::new((peak_window + max_back) as usize + 8),
            threshold: AdaptiveThreshold::new(
                settings.threshold_fraction,
                settings.min_threshold_mmhg,
                settings.base_update_weight,
                samples_from_s(settings.decay_after_s, sample_rate_hz) as u64,
                sample_rate_hz,
            ),
            previous_ssf: f64::NAN,
            valid_since: 0,
            last_crossing: None,
            last_pulse: 0,
            last_onset: None,
            pending: None,
            refractory: samples_from_s(settings.refractory_s, sample_rate_hz) as u64,
            peak_window,
            max_back,
            lead_in: (lead_in_s * sample_rate_hz).round().max(0.0) as u64,
            delay,
            onset_fraction: settings.onset_fraction,
        })
    }

    /// Feeds samples; appends the indices (counted from the first sample ever pushed) of newly decided onsets.
    pub fn push(&mut self, samples: &[f64], onsets: &mut Vec<u64>) {
        for &x in samples {
            let ssf = self.slope_sum_step(x);
            let index = self.next_index;
            self.next_index += 1;
            match &mut self.learning {
                Some(buffer) => {
                    buffer.push(ssf);
                    if buffer.len() >= self.learn_len {
                        self.end_learning(onsets);
                    }
                }
                None => self.decide(index, ssf, onsets),
            }
        }
    }

    /// Ends the record: a record shorter than the learning period is analysed with what there is.
    pub fn finish(&mut self, onsets: &mut Vec<u64>) {
        if self.learning.is_some() {
            self.end_learning(onsets);
        }
    }

    #[inline]
    fn slope_sum_step(&mut self, x: f64) -> f64 {
        if x.is_nan() {
            self.low_pass.reset();
            self.previous = f64::NAN;
            self.rises.fill(0.0);
            self.slope_sum = 0.0;
            return f64::NAN;
        }
        let y = self.low_pass.step(x);
        let rise = if self.previous.is_nan() {
            0.0
        } else {
            (y - self.previous).max(0.0)
        };
        self.previous = y;
        self.slope_sum += rise - self.rises[self.rise_pos];
        self.rises[self.rise_pos] = rise;
        self.rise_pos += 1;
        if self.rise_pos == self.rises.len() {
            self.rise_pos = 0;
        }
        self.slope_sum.max(0.0)
    }

    fn end_learning(&mut self, onsets: &mut Vec<u64>) {
        let Some(buffer) = self.learning.take() else {
            return;
        };
        let (sum, count) = buffer
            .iter()
            .filter(|v| v.is_finite())
            .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
        if count > 0 {
            self.threshold.base = self.threshold.base.max(3.0 * sum / count as f64);
        }
        for (index, ssf) in buffer.into_iter().enumerate() {
            self.decide(index as u64, ssf, onsets);
        }
    }

    #[inline]
    fn decide(&mut self, index: u64, ssf: f64, onsets: &mut Vec<u64>) {
        self.history.set(index, ssf);
        if ssf.is_nan() {
            self.pending = None;
            self.valid_since = index + 1;
            self.last_pulse = index + 1;
            self.previous_ssf = f64::NAN;
            return;
        }
        if let Some(pending) = &mut self.pending {
            pending.peak = pending.peak.max(ssf);
            if index >= pending.crossing + self.peak_window {
                let pending = *pending;
                self.pending = None;
                self.finalise(pending, index, onsets);
            }
        } else {
            let threshold = self.threshold.threshold();
            let outside_refractory = self.last_crossing.is_none_or(|c| index >= c + self.refractory);
            if self.previous_ssf < threshold && ssf >= threshold && outside_refractory {
                self.pending = Some(Pending {
                    crossing: index,
                    peak: ssf,
                });
                self.last_crossing = Some(index);
            }
        }
        self.threshold.tick(index.saturating_sub(self.last_pulse));
        self.previous_ssf = ssf;
    }

    fn finalise(&mut self, pending: Pending, now: u64, onsets: &mut Vec<u64>) {
        self.threshold.update(pending.peak);
        self.last_pulse = now;
        let floor = pending
            .crossing
            .saturating_sub(self.max_back)
            .max(self.valid_since)
            .max(self.last_onset.map_or(0, |o| o + 1));
        let level = self.onset_fraction * pending.peak;
        let mut k = pending.crossing;
        while k > floor && self.history.at(k - 1) > level {
            k -= 1;
        }
        let onset = k.saturating_sub(self.delay).max(self.valid_since);
        if onset >= self.valid_since + self.lead_in && self.last_onset.is_none_or(|last| onset > last) {
            self.last_onset = Some(onset);
            onsets.push(onset);
        }
    }
}

/// All onsets of a whole signal (the streaming detector run over it at once).
pub fn detect_onsets(
    pressure_mmhg: &[f64],
    sample_rate_hz: f64,
    settings: &OnsetSettings,
    lead_in_s: f64,
) -> Result<Vec<u64>, FilterError> {
    let mut detector = OnsetDetector::new(settings, sample_rate_hz, lead_in_s)?;
    let mut onsets = Vec::new();
    detector.push(pressure_mmhg, &mut onsets);
    detector.finish(&mut onsets);
    Ok(onsets)
}
