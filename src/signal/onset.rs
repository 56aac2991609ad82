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

use super::filter::{Biquad, FilterError};
use super::lookback::{AdaptiveThreshold, Lookback};
use super::settings::{OnsetSettings, samples_from_s};
use crate::model::workers::{MIN_SAMPLES_PER_THREAD, Workers};

/// Samples the front end filters at a time before the decision stage reads them: the filter's state stays in
/// registers through a block, and a block's slope sums (8 KiB) stay in the first-level cache.
const BLOCK: usize = 1024;

/// Streaming arterial pulse-onset detector.
#[derive(Clone, Debug)]
pub struct OnsetDetector {
    // Front end: low-pass and slope sum, the window of rises beside it.
    front: SlopeSum,
    rises: Vec<f64>,
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
        let low_pass = Biquad::low_pass(settings.low_pass_hz.min(0.4 * sample_rate_hz), sample_rate_hz)?;
        let delay = low_pass.dc_group_delay_samples().round().max(0.0) as u64;
        let window = samples_from_s(settings.window_s, sample_rate_hz);
        let peak_window = samples_from_s(settings.peak_window_s, sample_rate_hz) as u64;
        let max_back = samples_from_s(settings.max_search_back_s, sample_rate_hz) as u64;
        Ok(OnsetDetector {
            front: SlopeSum::new(low_pass),
            rises: vec![0.0; window],
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
        let mut buffer = vec![f64::NAN; samples.len().min(BLOCK)];
        for block in samples.chunks(BLOCK) {
            let slope_sums = &mut buffer[..block.len()];
            self.front.run(&mut self.rises, block, slope_sums);
            for &ssf in slope_sums.iter() {
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
    }

    /// Ends the record: a record shorter than the learning period is analysed with what there is.
    pub fn finish(&mut self, onsets: &mut Vec<u64>) {
        if self.learning.is_some() {
            self.end_learning(onsets);
        }
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

    #[inline(always)]
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

/// Onsets of the arterial pulses of `pressure_mmhg`, searched on a copy averaged over blocks of `factor` samples
/// (at `sample_rate_hz / factor`, as PhysioNet's `wabp -R` searches at 125 Hz) and each placed on the full-rate
/// samples by [`OnsetPlacer`]: the slope sum of the whole record is computed at the low rate only, and only the
/// stretch around each pulse at the full rate, the pulses' stretches on `workers` (the onsets are the same for
/// any number). With `factor` 1 it is [`detect_onsets`].
pub fn detect_onsets_searching(
    pressure_mmhg: &[f64],
    sample_rate_hz: f64,
    factor: usize,
    settings: &OnsetSettings,
    lead_in_s: f64,
    workers: Workers,
) -> Result<Vec<u64>, FilterError> {
    if factor <= 1 {
        return detect_onsets(pressure_mmhg, sample_rate_hz, settings, lead_in_s);
    }
    // A block mean: a NaN sample makes its block NaN, so a gap stays a gap for the search (and a record whose
    // means are all numbers misses no sample but perhaps in its last, partial block). Memory-bound: on `workers`.
    let coarse: Vec<f64> = workers.map_chunks(
        pressure_mmhg.len() / factor,
        MIN_SAMPLES_PER_THREAD / factor,
        |blocks| {
            pressure_mmhg[blocks.start * factor..blocks.end * factor]
                .chunks_exact(factor)
                .map(|block| block.iter().sum::<f64>() / factor as f64)
                .collect()
        },
    );
    let partial = pressure_mmhg.chunks_exact(factor).remainder();
    let gapless = !coarse
        .iter()
        .chain(partial)
        .fold(false, |nan, x| nan | x.is_nan());
    let found = detect_onsets(&coarse, sample_rate_hz / factor as f64, settings, lead_in_s)?;
    let placer = OnsetPlacer::new(settings, sample_rate_hz, gapless)?;
    // Each block's centre at the full rate.
    let approximate: Vec<u64> = found
        .iter()
        .map(|&coarse_onset| coarse_onset * factor as u64 + factor as u64 / 2)
        .collect();
    let n = pressure_mmhg.len() as u64;
    let next = |k: usize| approximate.get(k + 1).copied().unwrap_or(u64::MAX);
    // Each pulse's upstroke searched on its stretch as it is when the onset placed before it does not reach into
    // it (nearly always): independent of the other pulses, so on `workers`, two pulses side by side in each loop
    // (two independent filters in one loop run at about the speed of one). Used only where the stretch turns out
    // the same.
    let per_thread =
        MIN_SAMPLES_PER_THREAD.div_ceil((placer.settle + placer.near + placer.peak_after) as usize);
    let ahead: Vec<Ahead> = workers.map_chunks(approximate.len(), per_thread, |range| {
        let stretches: Vec<(u64, Option<Stretch>)> = range
            .map(|k| {
                (
                    approximate[k],
                    placer.stretch(n, approximate[k], 0, next(k), placer.near),
                )
            })
            .collect();
        let mut ahead = Vec::with_capacity(stretches.len());
        for pair in stretches.chunks(2) {
            let sums = placer.slope_sums(pressure_mmhg, [pair[0].1, pair.get(1).and_then(|&(_, s)| s)]);
            ahead.extend(pair.iter().zip(sums).map(|(&(approximate, stretch), slope_sum)| {
                Ahead {
                    stretch,
                    upstroke: stretch
                        .zip(slope_sum)
                        .and_then(|(stretch, slope_sum)| placer.upstroke(stretch, &slope_sum, approximate)),
                }
            }));
        }
        ahead
    });
    let mut onsets: Vec<u64> = Vec::with_capacity(found.len());
    for (k, (&approximate_onset, ahead)) in approximate.iter().zip(&ahead).enumerate() {
        let floor = onsets.last().map_or(0, |&last| last + 1);
        let stretch = placer.stretch(n, approximate_onset, floor, next(k), placer.near);
        let upstroke = if stretch == ahead.stretch {
            ahead.upstroke
        } else {
            stretch.and_then(|stretch| {
                let slope_sum = placer.slope_sum(pressure_mmhg, stretch)?;
                placer.upstroke(stretch, &slope_sum, approximate_onset)
            })
        };
        let onset = upstroke
            .and_then(|upstroke| placer.place(pressure_mmhg, approximate_onset, floor, next(k), upstroke))
            .unwrap_or(approximate_onset);
        if onsets.last().is_none_or(|&last| onset > last) {
            onsets.push(onset);
        }
    }
    Ok(onsets)
}

/// One pulse's stretch searched with no onset before it ([`OnsetPlacer::stretch`] with a floor of 0), and the
/// upstroke found there.
struct Ahead {
    stretch: Option<Stretch>,
    upstroke: Option<Upstroke>,
}

/// Places one pulse onset on full-rate samples near an approximate one (found at a lower rate), by the
/// detector's own rule on the stretch around it: the slope sum's peak on the upstroke after the approximate
/// onset, then back to the first sample of the run where the slope sum exceeds [`OnsetSettings::onset_fraction`]
/// of that peak, less the low-pass filter's delay. The filter (started in steady state) and the slope sum start a
/// settling time before the stretch (six of the filter's time constants and the slope-sum window), so they read
/// as over the whole record to within 0.25 % of the pressure's variation there.
#[derive(Clone, Debug)]
pub struct OnsetPlacer {
    low_pass: Biquad,
    delay: u64,
    window: usize,
    /// Settling time of the filter and slope sum before the search, samples.
    settle: u64,
    /// How far before the approximate onset the onset is looked for first, samples (a few samples of the
    /// search rate), and at most ([`OnsetSettings::max_search_back_s`]).
    near: u64,
    max_back: u64,
    /// How far after the approximate onset (and the filter's delay) the slope-sum peak is searched, samples:
    /// the slope-sum window and the detector's peak window.
    peak_after: u64,
    onset_fraction: f64,
    /// Whether the pressure misses no sample (then a stretch need not be checked for one).
    gapless: bool,
}

impl OnsetPlacer {
    /// A placer for pressure sampled at `sample_rate_hz`; `gapless`: the pressure is known to miss no sample (a
    /// stretch with a gap would then give a wrong onset, so only this module, which checked, may say so).
    pub(crate) fn new(
        settings: &OnsetSettings,
        sample_rate_hz: f64,
        gapless: bool,
    ) -> Result<OnsetPlacer, FilterError> {
        let corner_hz = settings.low_pass_hz.min(0.4 * sample_rate_hz);
        // The detector's low-pass (`Cascade::low_pass` is this one section), stepped without the cascade's loop.
        let low_pass = Biquad::low_pass(corner_hz, sample_rate_hz)?;
        let delay = low_pass.dc_group_delay_samples().round().max(0.0) as u64;
        let window = samples_from_s(settings.window_s, sample_rate_hz);
        // Six time constants of the second-order Butterworth low-pass (1 / (sqrt(1/2) 2 pi f)): e^-6, of a
        // variation that is the slow diastolic decay before a pulse.
        let settle_s = 6.0 / (std::f64::consts::FRAC_1_SQRT_2 * 2.0 * std::f64::consts::PI * corner_hz);
        Ok(OnsetPlacer {
            low_pass,
            delay,
            window,
            settle: (window + samples_from_s(settle_s, sample_rate_hz)) as u64,
            near: samples_from_s(0.04, sample_rate_hz) as u64,
            max_back: samples_from_s(settings.max_search_back_s, sample_rate_hz) as u64,
            peak_after: (samples_from_s(settings.peak_window_s, sample_rate_hz) + window) as u64,
            onset_fraction: settings.onset_fraction,
            gapless,
        })
    }

    /// The onset near `approximate` (not before `floor`; its upstroke before the next pulse's approximate onset
    /// `next`), from the `upstroke` found within a few samples of the search rate ([`OnsetPlacer::upstroke`] on
    /// that search's [`OnsetPlacer::stretch`]), or looked for again up to [`OnsetSettings::max_search_back_s`]
    /// back when the slope sum is still rising there (`None` when samples there are missing).
    fn place(
        &self,
        pressure_mmhg: &[f64],
        approximate: u64,
        floor: u64,
        next: u64,
        upstroke: Upstroke,
    ) -> Option<u64> {
        match self.settle(upstroke, floor, self.near) {
            (_, true) => {
                let n = pressure_mmhg.len() as u64;
                let stretch = self.stretch(n, approximate, floor, next, self.max_back)?;
                let slope_sum = self.slope_sum(pressure_mmhg, stretch)?;
                let upstroke = self.upstroke(stretch, &slope_sum, approximate)?;
                Some(self.settle(upstroke, floor, self.max_back).0)
            }
            (onset, false) => Some(onset),
        }
    }

    /// The samples a search up to `back` samples before `approximate` reads, in a record of `n` samples (`None`
    /// when there are none).
    fn stretch(&self, n: u64, approximate: u64, floor: u64, next: u64, back: u64) -> Option<Stretch> {
        let search_from = approximate.saturating_sub(back).max(floor);
        let from = search_from.saturating_sub(self.settle);
        let to = (approximate + self.peak_after)
            .min(next.max(approximate + 1))
            .saturating_add(self.delay)
            .min(n);
        (from < to).then_some(Stretch {
            from,
            search_from,
            to,
        })
    }

    /// The slope sum of `stretch` from its `search_from` (`None` when a sample is missing): the low-pass started
    /// in steady state at the stretch's first sample, which has no rise (as where the detector starts or resumes
    /// after a gap).
    fn slope_sum(&self, pressure_mmhg: &[f64], stretch: Stretch) -> Option<Vec<f64>> {
        let mut lane = Lane::new(self, pressure_mmhg, stretch)?;
        lane.finish(0);
        Some(lane.output)
    }

    /// [`OnsetPlacer::slope_sum`] of two stretches, filtered side by side, each by its own filter: the same
    /// numbers as one at a time, in less time (the filter's recursion, not its arithmetic, sets the pace).
    /// Not inlined: in a function of its own the two lanes' state is allocated registers for that loop alone.
    #[inline(never)]
    fn slope_sums(&self, pressure_mmhg: &[f64], stretches: [Option<Stretch>; 2]) -> [Option<Vec<f64>>; 2] {
        let [a, b] = stretches.map(|stretch| Lane::new(self, pressure_mmhg, stretch?));
        match (a, b) {
            (Some(mut a), Some(mut b)) => {
                let common = a.samples.len().min(b.samples.len());
                for i in 0..common {
                    a.step(i);
                    b.step(i);
                }
                a.finish(common);
                b.finish(common);
                [Some(a.output), Some(b.output)]
            }
            (a, b) => [a, b].map(|lane| {
                lane.map(|mut lane| {
                    lane.finish(0);
                    lane.output
                })
            }),
        }
    }

    /// The upstroke on `stretch`, whose slope sum from its `search_from` is `slope_sum`, of the pulse whose
    /// approximate onset is `approximate` (`None` when the stretch ends before its slope-sum peak could be).
    fn upstroke(&self, stretch: Stretch, slope_sum: &[f64], approximate: u64) -> Option<Upstroke> {
        let Stretch { search_from, to, .. } = stretch;
        let at = |index: u64| slope_sum[(index - search_from) as usize];
        // The slope sum lags the pressure by the filter's delay: the upstroke of an onset at `approximate` peaks
        // in the slope sum after `approximate + delay`.
        let peak_from = (approximate + self.delay)
            .saturating_sub(self.near)
            .max(search_from);
        let peak = (peak_from..to).max_by(|&a, &b| at(a).total_cmp(&at(b)))?;
        let level = self.onset_fraction * at(peak);
        let lowest = (search_from + self.delay).min(peak);
        let mut start = peak;
        while start > lowest && at(start - 1) > level {
            start -= 1;
        }
        Some(Upstroke { start, lowest })
    }

    /// The onset of `upstroke` (not before `floor`), found by a search up to `back` samples before the approximate
    /// onset, and whether the search stopped at its first sample (the slope sum still rising there).
    fn settle(&self, upstroke: Upstroke, floor: u64, back: u64) -> (u64, bool) {
        let Upstroke { start, lowest } = upstroke;
        let stopped = start == lowest && start > floor + self.delay && back < self.max_back;
        (start.saturating_sub(self.delay).max(floor), stopped)
    }
}

/// Where the slope sum of a pulse's upstroke first exceeds [`OnsetSettings::onset_fraction`] of its peak (before
/// the filter's delay is subtracted), and the first sample the search could reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Upstroke {
    start: u64,
    lowest: u64,
}

/// The samples `[from, to)` an onset search reads, searched from `search_from` (the samples before it settle the
/// filter and the slope sum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    from: u64,
    search_from: u64,
    to: u64,
}

/// The detector's low-pass and slope sum, run over one stretch's samples, and its output from the search's start
/// (owned by the loop that steps it, so that its state stays in registers).
struct Lane<'a> {
    samples: &'a [f64],
    /// Index in `samples` of the search's start.
    keep: usize,
    output: Vec<f64>,
    front: SlopeSum,
    rises: Vec<f64>,
}

impl<'a> Lane<'a> {
    /// Starting on the first sample of `stretch` (no rise there); `None` when a sample is missing.
    fn new(placer: &OnsetPlacer, pressure_mmhg: &'a [f64], stretch: Stretch) -> Option<Lane<'a>> {
        let samples = &pressure_mmhg[stretch.from as usize..stretch.to as usize];
        if !placer.gapless && samples.iter().any(|x| x.is_nan()) {
            return None;
        }
        let keep = (stretch.search_from - stretch.from) as usize;
        // Sample `keep` (the search's start) first.
        let output = vec![0.0; samples.len() - keep.min(samples.len())];
        Some(Lane {
            samples,
            keep,
            output,
            front: SlopeSum::new(placer.low_pass.clone()),
            rises: vec![0.0; placer.window],
        })
    }

    /// Steps to sample `i` (the samples in order from 0).
    #[inline(always)]
    fn step(&mut self, i: usize) {
        let slope_sum = self.front.step(&mut self.rises, self.samples[i]);
        if let Some(at) = i.checked_sub(self.keep) {
            self.output[at] = slope_sum;
        }
    }

    /// Steps from sample `from` to the end.
    fn finish(&mut self, from: usize) {
        for i in from..self.samples.len() {
            self.step(i);
        }
    }
}

/// The slope sum's front end: the low-pass (started in steady state at the first sample, and after a gap), the
/// last filtered value, and the running sum of the window of rises, whose ring is kept beside it (so that the
/// rest stays in registers when the caller steps a local copy).
#[derive(Clone, Debug)]
struct SlopeSum {
    low_pass: Biquad,
    previous: f64,
    position: usize,
    sum: f64,
}

impl SlopeSum {
    /// Before the first sample: no rise yet, the window all 0.
    fn new(mut low_pass: Biquad) -> SlopeSum {
        low_pass.reset();
        SlopeSum {
            low_pass,
            previous: f64::NAN,
            position: 0,
            sum: 0.0,
        }
    }

    /// The slope sums of `samples` into `slope_sums` (as long), with `rises` the window's ring: each run of valid
    /// samples in a loop of its own with the state in locals (in registers: nothing in it calls out); a missing
    /// sample gives `NaN` and forgets the past.
    fn run(&mut self, rises: &mut [f64], samples: &[f64], slope_sums: &mut [f64]) {
        let mut i = 0;
        while i < samples.len() {
            let mut front = self.clone();
            while let Some(&x) = samples.get(i)
                && !x.is_nan()
            {
                slope_sums[i] = front.step(rises, x);
                i += 1;
            }
            *self = front;
            if i < samples.len() {
                self.low_pass.reset();
                self.previous = f64::NAN;
                rises.fill(0.0);
                self.sum = 0.0;
                slope_sums[i] = f64::NAN;
                i += 1;
            }
        }
    }

    /// The slope sum at the valid sample `x` (never below 0: the running sum may drift a rounding error below
    /// it), with `rises` the window's ring.
    #[inline(always)]
    fn step(&mut self, rises: &mut [f64], x: f64) -> f64 {
        let y = self.low_pass.step(x);
        let rise = if self.previous.is_nan() {
            0.0
        } else {
            (y - self.previous).max(0.0)
        };
        self.previous = y;
        self.sum += rise - rises[self.position];
        rises[self.position] = rise;
        self.position += 1;
        if self.position == rises.len() {
            self.position = 0;
        }
        f64::max(self.sum, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::model::workers::InOrder;
    use crate::signal::filter::Cascade;
    use crate::sim::rng::Rng;

    /// An arterial pressure at 1 kHz: pulses at irregular intervals (some close together), noise, and a gap.
    fn pressure() -> Vec<f64> {
        let mut rng = Rng::new(7);
        let mut samples = Vec::new();
        for k in 0..90 {
            let rr = [800, 620, 1100, 450, 900][k % 5];
            samples.extend((0..rr).map(|i| {
                let t = i as f64 / 1000.0;
                let pulse = if t < 0.3 {
                    (std::f64::consts::PI * t / 0.3).sin()
                } else {
                    0.0
                };
                70.0 + 45.0 * pulse - 10.0 * t + rng.uniform_in(-0.4, 0.4)
            }));
        }
        samples[40_000..40_300].fill(f64::NAN);
        samples
    }

    /// The slope sum the placer computed before two stretches shared a loop: one stretch at a time, from its
    /// first sample.
    fn slope_sum_alone(placer: &OnsetPlacer, pressure: &[f64], stretch: Stretch) -> Option<Vec<f64>> {
        let samples = &pressure[stretch.from as usize..stretch.to as usize];
        if samples.iter().any(|x| x.is_nan()) {
            return None;
        }
        let mut low_pass = placer.low_pass.clone();
        low_pass.reset();
        let mut rises = vec![0.0; placer.window];
        let (mut position, mut sum) = (0, 0.0);
        let mut previous = low_pass.step(samples[0]);
        let mut ssf = vec![0.0];
        for &x in &samples[1..] {
            let y = low_pass.step(x);
            let rise = (y - previous).max(0.0);
            previous = y;
            sum += rise - rises[position];
            rises[position] = rise;
            position = (position + 1) % rises.len();
            ssf.push(f64::max(sum, 0.0));
        }
        Some(ssf[(stretch.search_from - stretch.from) as usize..].to_vec())
    }

    /// The slope sums as the detector computed them before its front end ran in blocks: sample by sample through
    /// the low-pass cascade.
    fn slope_sums_one_by_one(settings: &OnsetSettings, rate_hz: f64, samples: &[f64]) -> Vec<f64> {
        let mut low_pass = Cascade::low_pass(settings.low_pass_hz.min(0.4 * rate_hz), rate_hz).unwrap();
        let mut rises = vec![0.0; samples_from_s(settings.window_s, rate_hz)];
        let (mut previous, mut position, mut sum) = (f64::NAN, 0, 0.0);
        let mut slope_sums = Vec::new();
        for &x in samples {
            if x.is_nan() {
                low_pass.reset();
                previous = f64::NAN;
                rises.fill(0.0);
                sum = 0.0;
                slope_sums.push(f64::NAN);
                continue;
            }
            let y = low_pass.step(x);
            let rise = if previous.is_nan() {
                0.0
            } else {
                (y - previous).max(0.0)
            };
            previous = y;
            sum += rise - rises[position];
            rises[position] = rise;
            position = (position + 1) % rises.len();
            slope_sums.push(f64::max(sum, 0.0));
        }
        slope_sums
    }

    #[test]
    fn slope_sums_of_the_block_front_end_are_those_of_the_cascade_sample_by_sample_bit_for_bit() {
        let settings = OnsetSettings::default();
        let full = pressure();
        let coarse: Vec<f64> = full.iter().step_by(8).copied().collect();
        let bits = |sums: &[f64]| sums.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for (rate_hz, samples) in [(1000.0, &full), (125.0, &coarse)] {
            let expected = bits(&slope_sums_one_by_one(&settings, rate_hz, samples));
            for chunk in [1, 7, BLOCK, BLOCK + 1, samples.len()] {
                let mut detector = OnsetDetector::new(&settings, rate_hz, 2.0).unwrap();
                let mut slope_sums = Vec::new();
                for part in samples.chunks(chunk) {
                    let mut out = vec![0.0; part.len()];
                    detector.front.run(&mut detector.rises, part, &mut out);
                    slope_sums.extend(out);
                }
                assert!(bits(&slope_sums) == expected, "{rate_hz} Hz in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn onsets_do_not_depend_on_the_chunking() {
        let settings = OnsetSettings::default();
        let samples = pressure();
        let whole = detect_onsets(&samples, 1000.0, &settings, 2.0).unwrap();
        assert!(whole.len() > 70, "{} onsets", whole.len());
        for chunk in [1, 40, BLOCK - 1, 3 * BLOCK + 5] {
            let mut detector = OnsetDetector::new(&settings, 1000.0, 2.0).unwrap();
            let mut found = Vec::new();
            for part in samples.chunks(chunk) {
                detector.push(part, &mut found);
            }
            detector.finish(&mut found);
            assert_eq!(found, whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn stretches_filtered_side_by_side_give_the_slope_sums_of_each_alone_bit_for_bit() {
        let settings = OnsetSettings::default();
        let placer = OnsetPlacer::new(&settings, 1000.0, false).unwrap();
        let pressure = pressure();
        let n = pressure.len() as u64;
        let bits = |sums: Option<Vec<f64>>| sums.map(|s| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        // Stretches of different lengths, searched from their start or after a settling time, one over the gap,
        // one past the end of the record, and none.
        let stretches = [
            placer.stretch(n, 5_000, 0, u64::MAX, placer.near),
            placer.stretch(n, 9_000, 0, 9_100, placer.max_back),
            placer.stretch(n, 30, 0, u64::MAX, placer.near),
            placer.stretch(n, 40_100, 0, u64::MAX, placer.near),
            placer.stretch(n, n - 50, 0, u64::MAX, placer.near),
            placer.stretch(n, 20_000, 19_990, u64::MAX, placer.max_back),
            None,
        ];
        assert!(stretches[2].is_some_and(|s| s.from == s.search_from));
        for a in stretches {
            for b in stretches {
                let [sum_a, sum_b] = placer.slope_sums(&pressure, [a, b]);
                let alone = |s: Option<Stretch>| s.and_then(|s| slope_sum_alone(&placer, &pressure, s));
                assert_eq!(bits(sum_a), bits(alone(a)), "{a:?} beside {b:?}");
                assert_eq!(bits(sum_b), bits(alone(b)), "{b:?} beside {a:?}");
                if let Some(a) = a {
                    assert_eq!(bits(placer.slope_sum(&pressure, a)), bits(alone(Some(a))));
                }
            }
        }
    }

    /// The onset on `stretch` as the placer found it before the upstroke's search and its settling on the floor
    /// were two steps: one function.
    fn place_within_alone(
        placer: &OnsetPlacer,
        stretch: Stretch,
        slope_sum: &[f64],
        approximate: u64,
        floor: u64,
        back: u64,
    ) -> Option<(u64, bool)> {
        let Stretch { search_from, to, .. } = stretch;
        let at = |index: u64| slope_sum[(index - search_from) as usize];
        let peak_from = (approximate + placer.delay)
            .saturating_sub(placer.near)
            .max(search_from);
        let peak = (peak_from..to).max_by(|&a, &b| at(a).total_cmp(&at(b)))?;
        let level = placer.onset_fraction * at(peak);
        let lowest = (search_from + placer.delay).min(peak);
        let mut k = peak;
        while k > lowest && at(k - 1) > level {
            k -= 1;
        }
        let stopped = k == lowest && k > floor + placer.delay && back < placer.max_back;
        Some((k.saturating_sub(placer.delay).max(floor), stopped))
    }

    #[test]
    fn onsets_placed_from_stretches_searched_ahead_on_any_number_of_workers_are_those_placed_one_by_one() {
        let settings = OnsetSettings::default();
        // With its gap, and without (then the stretches are not checked for missing samples); four times as
        // long, so that the pulses are shared among workers.
        let gapped = pressure().repeat(4);
        let gapless: Vec<f64> = gapped
            .iter()
            .map(|&x| if x.is_nan() { 70.0 } else { x })
            .collect();
        let workers = |count: usize| Workers::new(NonZeroUsize::new(count).unwrap(), &InOrder);
        for pressure in [gapped, gapless] {
            // One pulse at a time, each stretch filtered alone, as the placer did before.
            let coarse: Vec<f64> = pressure
                .chunks_exact(8)
                .map(|block| block.iter().sum::<f64>() / 8.0)
                .collect();
            let placer = OnsetPlacer::new(&settings, 1000.0, false).unwrap();
            let approximate: Vec<u64> = detect_onsets(&coarse, 125.0, &settings, 2.0)
                .unwrap()
                .iter()
                .map(|&onset| onset * 8 + 4)
                .collect();
            let n = pressure.len() as u64;
            let mut one_by_one: Vec<u64> = Vec::new();
            for (k, &approximate_onset) in approximate.iter().enumerate() {
                let floor = one_by_one.last().map_or(0, |&last| last + 1);
                let next = approximate.get(k + 1).copied().unwrap_or(u64::MAX);
                let place = |back: u64| {
                    let stretch = placer.stretch(n, approximate_onset, floor, next, back)?;
                    let slope_sum = slope_sum_alone(&placer, &pressure, stretch)?;
                    place_within_alone(&placer, stretch, &slope_sum, approximate_onset, floor, back)
                };
                let onset = match place(placer.near) {
                    Some((_, true)) => place(placer.max_back).map(|(onset, _)| onset),
                    other => other.map(|(onset, _)| onset),
                }
                .unwrap_or(approximate_onset);
                if one_by_one.last().is_none_or(|&last| onset > last) {
                    one_by_one.push(onset);
                }
            }
            assert!(one_by_one.len() > 300, "{} onsets", one_by_one.len());
            for count in [1, 2, 3] {
                let found =
                    detect_onsets_searching(&pressure, 1000.0, 8, &settings, 2.0, workers(count)).unwrap();
                assert_eq!(found, one_by_one, "{count} workers");
            }
        }
    }
}
