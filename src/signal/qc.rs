//! Beat quality control with reasons (ENDPOINTS.md section 2), in beat order so that the online tracker and
//! offline segmentation reach the same verdicts.
//!
//! The rhythm first. Each beat is judged within a regular or an irregular (AF-like) rhythm: irregular when the
//! median absolute successive RR difference over the beat and the 63 before it (the first 64 beats of a record
//! use the first 64; a shorter record, all its beats) exceeds 0.067 of their median RR. 64 beats (half of Dash et
//! al.'s 128) so that a burst of artefacts (a noisy ECG stretch of 20 false and missed detections on TestICU)
//! is not taken for AF, while a capture of AF of any length is. This is the normalised RMSSD of Dash et al. 2009
//! ("Automatic real time detection of atrial fibrillation", Ann Biomed Eng 37:1701-1709; AF when RMSSD over the
//! mean RR exceeds 0.1 after their outlier trimming) in a robust form: the median of |dRR| is 0.674 of the RMSSD
//! for normal differences (0.1 x 0.674 = 0.067). Where Dash et al. trim the extreme RRs, the differences touching
//! an ectopic pattern (a beat more than 20 % short of the window's median RR, not followed by another short one,
//! and the beat after it) are left out, and the median ignores the rest of the outliers (a missed beat disturbs
//! two differences), so sinus rhythm with ectopics (bigeminy too) stays regular while AF (median |dRR| about
//! 0.15-0.2 of RR after the same exclusion) does not. The rhythm is reported per beat
//! ([`crate::model::Beat::irregular_rhythm`]) and counted per window ([`QcCounts::num_irregular_rhythm`]).
//!
//! Before any verdict, a beat shorter than the shortest plausible one (250 ms) must show a pulse behind it: its
//! end counts as a beat only when, within 300 ms after it, the pressure (LV where recorded, else aortic) falls
//! and rises again by at least 30 % of its range. Otherwise the second detection is a double detection (or an
//! extra systole that ejects nothing) and the two beats are merged into one, which is then judged like any other
//! (without a pressure no pulse can be shown, so it is merged too). A short beat with a pulse of its own stays a
//! beat, rejected as `RrOutlier` (too short to measure).
//!
//! Per beat, one reason (the first that applies, in this order):
//! 1. `MissingData`: a sample is missing in a channel the beat is measured on;
//! 2. `FlatPressure`: an aortic or distal pressure whose range over the beat, after a 20 ms moving mean,
//!    is below 1 mmHg at a mean more than 15 % from the local median mean: a transducer opened to air or to the
//!    flush. A pulse that fades at the patient's own pressure is not flat: on VA-ECMO with an Impella the aortic
//!    pulse can be 0.4 mmHg (the simulator's P-8 arm), physiology that is labelled non-pulsatile, not rejected;
//! 3. `ClippedPressure`: an aortic or distal pressure with a run of identical samples at the beat's maximum lasting at
//!    least 30 ms (and 3 samples), entered or left at speed (a step of at least 3 times the beat's smallest
//!    non-zero step): the amplifier's rail. A quantised peak repeats its extreme too, but one step at a time;
//!    a rail is only seen at the rate it was recorded (a resampled plateau ripples);
//! 4. `RrOutlier` as an artefact, in any rhythm: RR shorter than 250 ms or longer than 3 s;
//! 5. in a regular rhythm only (an irregular rhythm is not an artefact, and its beats are kept):
//!    - bigeminy: where the RRs of the beat, the three before and the next alternate short and long (each short
//!      one more than 20 % below its neighbours, the short ones within 20 % of each other and the long ones
//!      too), the rhythm is a rhythm, not an artefact: every beat is kept and labelled as judged within an
//!      irregular rhythm (regularly irregular), so the window's time-weighted values (APV) cover the whole
//!      cycle, the sinus beat cut short and the ectopic beat with its compensatory pause, whose long diastole
//!      carries most of the coronary flow. (The single-ectopic rule below would exclude every beat: each sinus
//!      beat of bigeminy is both cut short and post-ectopic, and the local median flips between the two RRs;
//!      keeping only the sinus beats would keep a third of the time and the shortest diastoles.)
//!      The first and last couplets of a run follow the single-ectopic rule;
//!    - `Ectopic`: a premature beat, RR more than 20 % below the local median, between beats that are not also
//!      short (a pause follows: compensatory after a ventricular ectopic, shorter after an atrial one). The beat
//!      cut short, the ectopic beat (the next) and the post-ectopic beat (the one after) are all `Ectopic`;
//!      their filling, contraction and diastole are the ectopic's, not the rhythm's. Two short beats in a row
//!      are an extra detection: `RrOutlier`;
//!    - `RrOutlier`: RR differs from the local median by more than 20 %. The local median is over the beat and
//!      the 8 before it; the first 8 beats of a record use the first 9 beats (so their verdict waits for the 9th
//!      beat); beats with missing data are left out of the median;
//!    - `AfterRrOutlier`: the beat after an RR outlier;
//! 6. `NonPulsatile`: arterial pulse pressure below 10 mmHg, when the beat was detected on that arterial trace
//!    (with an ECG or LV fiducial a non-pulsatile beat is only labelled, [`crate::model::Beat::non_pulsatile`]);
//! 7. `PressureDamping`: arterial pulse pressure below 50 % of the local median while the mean stays within 15 %
//!    of the local median mean (a damped line keeps its mean; a real fall in pressure does not), on at least
//!    three beats in a row (a line stays damped until it is flushed, while a balloon pumping 1:2 or 1:3 changes
//!    the pulse of every second or third beat); not applied to non-pulsatile beats, whose aortic values are not
//!    reported anyway;
//! 8. `DopplerDropout`: velocity below 2 cm/s for more than 50 ms in diastole (from the end of systole, see
//!    [`super::phases`]; the whole beat when systole cannot be timed), judged on the velocity's running median
//!    over 5 ms so that the noise floor's single spikes do not split a dropout into short ones.
//!
//! The reviewer can override any verdict offline (`RejectReason::Manual` or accepting a rejected beat).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::phases::{PhaseFilters, beat_phases_with, margin_samples, pulse_below};
use super::settings::SignalSettings;
use super::signals::Signals;
use crate::model::workers::Workers;
use crate::model::{Beat, Fiducial, RejectReason, SignalKind};

/// Fewest beats whose QC measures, or contexts, are worth a thread of their own: a beat's measures take about
/// 0.8 us at 1 kHz and its context about 0.5 us (perf, session 11), starting and joining a thread 20-130 us.
const MIN_BEATS_PER_THREAD: usize = 512;

/// Numbers of beats per verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcCounts {
    /// All beats.
    pub num_beats: usize,
    /// Accepted beats.
    pub num_accepted: usize,
    /// Rejected beats per [`RejectReason::key`].
    pub rejected: BTreeMap<String, usize>,
    /// Beats labelled non-pulsatile (accepted or not).
    pub num_non_pulsatile: usize,
    /// Beats judged within an irregular (AF-like) rhythm.
    #[serde(default)]
    pub num_irregular_rhythm: usize,
}

impl QcCounts {
    /// Whether most beats were judged within an irregular (AF-like) rhythm.
    pub fn irregular_rhythm(&self) -> bool {
        self.num_beats > 0 && 2 * self.num_irregular_rhythm > self.num_beats
    }
}

/// Counts the verdicts of `beats`.
pub fn counts(beats: &[Beat]) -> QcCounts {
    let mut counts = QcCounts {
        num_beats: beats.len(),
        ..QcCounts::default()
    };
    for beat in beats {
        match &beat.reject {
            None => counts.num_accepted += 1,
            Some(reason) => *counts.rejected.entry(reason.key().to_owned()).or_default() += 1,
        }
        counts.num_non_pulsatile += usize::from(beat.non_pulsatile);
        counts.num_irregular_rhythm += usize::from(beat.irregular_rhythm);
    }
    counts
}

/// What QC needs to know about one beat, measured on the beat and a fixed margin around it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Measures {
    start: u64,
    end: u64,
    missing: bool,
    /// Per coronary pressure channel (aortic, distal), its range over the beat after the flat rule's moving mean
    /// and its mean, mmHg.
    pressures: [Option<(f64, f64)>; 2],
    /// A pressure channel is clipped over the beat.
    clipped: bool,
    /// Arterial pulse pressure and mean, mmHg.
    arterial: Option<(f64, f64)>,
    non_pulsatile: bool,
    dropout: bool,
}

impl Measures {
    /// The beat's RR interval, samples.
    fn rr(&self) -> f64 {
        (self.end - self.start) as f64
    }
}

/// What a beat's verdict reads from the beats around it ([`BeatJudge::context`]): found from their measures
/// alone, not from the verdicts before, so that a record's contexts (the medians, the costly part of QC) can be
/// found on several threads while the verdicts, each depending on the one before, follow in order.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Context {
    /// Judged within an irregular (AF-like) rhythm.
    irregular: bool,
    /// In a run of bigeminy (looked for only on a beat of plausible RR in a regular rhythm).
    bigeminy: bool,
    /// The local medians of the RR (samples), the arterial pulse pressure and the arterial mean (mmHg).
    rr_median: Option<f64>,
    pp_median: Option<f64>,
    mean_median: Option<f64>,
    /// A pressure channel flat at another level than its local median mean.
    flat: bool,
}

/// The QC state machine: beats go in as `[start, end)` pairs in order, judged beats come out in order.
#[derive(Clone, Debug)]
pub struct BeatJudge {
    fiducial: Fiducial,
    sample_rate_hz: f64,
    settings: SignalSettings,
    filters: PhaseFilters,
    measured: Vec<Measures>,
    num_judged: usize,
    previous_outlier: bool,
    /// Beats up to this index (exclusive) belong to an ectopic pattern already recognised.
    ectopic_until: usize,
    /// The start of a beat too short to be one and without a pulse behind it (a double detection), waiting
    /// to be merged with the next beat.
    pending_start: Option<u64>,
    /// Channels known to miss no sample at all ([`BeatJudge::with_complete`]): no beat's gap check reads them.
    complete: Vec<SignalKind>,
}

impl BeatJudge {
    /// A judge for beats anchored on `fiducial` at `sample_rate_hz`.
    pub fn new(fiducial: Fiducial, sample_rate_hz: f64, settings: &SignalSettings) -> BeatJudge {
        BeatJudge {
            fiducial,
            sample_rate_hz,
            settings: settings.clone(),
            filters: PhaseFilters::new(sample_rate_hz, settings),
            measured: Vec::new(),
            num_judged: 0,
            previous_outlier: false,
            ectopic_until: 0,
            pending_start: None,
            complete: Vec::new(),
        }
    }

    /// The judge told that the channels `complete` miss no sample anywhere in the signals it will be given (a
    /// whole record checked by [`super::usability`]): each beat's check for missing samples skips them, since it
    /// would read every sample of the record only to find none (the same verdicts, without that pass).
    pub fn with_complete(mut self, complete: Vec<SignalKind>) -> BeatJudge {
        self.complete = complete;
        self
    }

    /// Samples of signal needed before a beat's start and after its end to measure it (before: also the
    /// shortest beat, which a double detection may merge into the next; after: also the pulse check's window).
    pub fn margins(&self) -> (u64, u64) {
        let (before, after) = margin_samples(self.sample_rate_hz, &self.settings);
        let qc = &self.settings.qc;
        let samples = |s: f64| (s * self.sample_rate_hz).ceil().max(0.0) as u64;
        (
            before + samples(qc.min_beat_s),
            after.max(samples(qc.pulse_check_s) + 1),
        )
    }

    /// Adds the beat `[start, end)`, measured on `signals` (which must cover the beat and its margins where the
    /// record has them; only that window is looked at). Appends the beats whose verdict is now known.
    ///
    /// A beat shorter than the shortest plausible one counts as a beat only when a new pressure pulse starts
    /// after it ([`BeatJudge::pulse_after`]); otherwise its end is a double detection (or an extra systole that
    /// ejects nothing) and the beat is merged with the next one, once (a merged beat still too short is an RR
    /// outlier). The last beat of a record cannot be merged and is left out.
    pub fn add(&mut self, signals: &Signals, start: u64, end: u64, judged: &mut Vec<Beat>) {
        if let Some((start, end)) = self.span(signals, start, end) {
            let measures = self.measure(signals, start, end);
            self.add_measured(measures, judged);
        }
    }

    /// The beats between consecutive `fiducials` (absolute indices, in order) judged as [`BeatJudge::add`] for
    /// each pair and then [`BeatJudge::finish`] judge them, with the beats' measures (each on its beat and
    /// margins alone) and their contexts (each on the measures around it) taken on `workers`; the merges and
    /// verdicts, which depend on the beats before, in order.
    pub fn judge_all(mut self, signals: &Signals, fiducials: &[u64], workers: Workers) -> Vec<Beat> {
        let spans: Vec<(u64, u64)> = fiducials
            .windows(2)
            .filter_map(|pair| self.span(signals, pair[0], pair[1]))
            .collect();
        let measured = workers.map_chunks(spans.len(), MIN_BEATS_PER_THREAD, |range| {
            spans[range]
                .iter()
                .map(|&(start, end)| self.measure(signals, start, end))
                .collect()
        });
        self.judge_measured(measured, workers)
    }

    /// `measured`, the last beats of the record, judged as [`BeatJudge::add_measured`] for each and then
    /// [`BeatJudge::finish`] judge them: every beat's neighbours are known, so the beats' contexts (the costly
    /// part) are found on `workers`, and the verdicts follow in order.
    fn judge_measured(mut self, mut measured: Vec<Measures>, workers: Workers) -> Vec<Beat> {
        if self.measured.is_empty() {
            self.measured = measured;
        } else {
            self.measured.append(&mut measured);
        }
        let first = self.num_judged;
        let this = &self;
        let contexts = workers.map_chunks(self.measured.len() - first, MIN_BEATS_PER_THREAD, |range| {
            let mut scratch = Scratch::default();
            range.map(|k| this.context(first + k, &mut scratch)).collect()
        });
        let mut judged = Vec::with_capacity(contexts.len());
        for context in &contexts {
            self.judge_next(context, &mut judged);
        }
        judged
    }

    /// The span `[start, end)` is measured as, or `None` while it waits to be merged with the next: a beat
    /// shorter than the shortest plausible one without a pulse behind it ([`BeatJudge::add`]).
    fn span(&mut self, signals: &Signals, start: u64, end: u64) -> Option<(u64, u64)> {
        let merged = self.pending_start.take();
        let start = merged.unwrap_or(start);
        let too_short = ((end - start) as f64) < self.settings.qc.min_beat_s * self.sample_rate_hz;
        if merged.is_none() && too_short && !self.pulse_after(signals, start, end) {
            self.pending_start = Some(start);
            return None;
        }
        Some((start, end))
    }

    fn add_measured(&mut self, measures: Measures, judged: &mut Vec<Beat>) {
        self.measured.push(measures);
        self.judge_ready(false, judged);
    }

    /// No more beats: judges the ones still waiting for their RR median.
    pub fn finish(&mut self, judged: &mut Vec<Beat>) {
        self.judge_ready(true, judged);
    }

    fn measure(&self, signals: &Signals, start: u64, end: u64) -> Measures {
        let qc = &self.settings.qc;
        let beat_view = signals.window(start, end);
        let smooth = ((qc.flat_smooth_s * self.sample_rate_hz).round() as usize).max(1);
        // Aortic and distal pressure are read once each ([`PressureScan`]); the other channels only for gaps.
        let scans = [beat_view.pa, beat_view.pd].map(|p| p.map(|p| (p, PressureScan::of(p, smooth))));
        let missing = scans.iter().flatten().any(|(_, scan)| scan.missing)
            || beat_view
                .present()
                .filter(|(kind, _)| {
                    !matches!(kind, SignalKind::Pa | SignalKind::Pd) && !self.complete.contains(kind)
                })
                .any(|(_, s)| s.iter().any(|v| v.is_nan()));
        let arterial_scan = scans[0].filter(|(pa, _)| !pa.is_empty() && !missing);
        let arterial =
            arterial_scan.map(|(pa, scan)| (scan.high - scan.low, scan.sum_from_zero / pa.len() as f64));
        // [`super::phases::pulse_below`] on the extremes the scan found (without reading the beat again).
        let non_pulsatile =
            arterial_scan.is_some_and(|(_, scan)| pulse_below(scan.low, scan.high, qc.non_pulsatile_pp_mmhg));
        let dropout = !missing && self.dropout(signals, start, end);
        // Not LV pressure: no reason is judged on the pressure-volume signals alone, so none can take a coronary
        // beat away (docs/methods.md section 2).
        let channels = scans.map(|p| p.filter(|(p, _)| p.len() >= 2 && !missing));
        let min_run = ((qc.clip_run_s * self.sample_rate_hz).ceil() as usize).max(3);
        let clipped = channels
            .iter()
            .flatten()
            .any(|(p, scan)| is_clipped(p, scan, min_run, qc.clip_edge_steps));
        let pressures = channels.map(|p| p.map(|(p, scan)| (scan.smoothed_range, scan.sum / p.len() as f64)));
        Measures {
            start,
            end,
            missing,
            pressures,
            clipped,
            arterial,
            non_pulsatile,
            dropout,
        }
    }

    /// Whether a new pressure pulse starts within the pulse check's window after `end` (LV pressure where it
    /// exists, else aortic): after `end` the pressure falls to a low point and rises again, each by at least
    /// the set fraction of the pressure's range over `[start, end + window)`. A double detection inside one
    /// pulse sees the pressure still rising, or only falling. No pressure: no pulse can be shown.
    fn pulse_after(&self, signals: &Signals, start: u64, end: u64) -> bool {
        let qc = &self.settings.qc;
        let window = (qc.pulse_check_s * self.sample_rate_hz).round() as u64;
        let view = signals.window(start, end + window);
        let Some(split) = end.checked_sub(view.first_sample).map(|s| s as usize) else {
            return false;
        };
        let Some(pressure) = [view.lvp, view.pa]
            .into_iter()
            .flatten()
            .find(|p| p.len() > split + 1 && p.iter().all(|v| v.is_finite()))
        else {
            return false;
        };
        let (low, high) = pressure
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let least = qc.pulse_rise_fraction * (high - low);
        let after = &pressure[split..];
        let Some((trough, trough_mmhg)) = after
            .iter()
            .copied()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
        else {
            return false;
        };
        let peak_before = pressure[..=split + trough]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let peak_after = after[trough..].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        least > 0.0 && peak_before - trough_mmhg >= least && peak_after - trough_mmhg >= least
    }

    fn dropout(&self, signals: &Signals, start: u64, end: u64) -> bool {
        let qc = &self.settings.qc;
        let Some(ipv) = signals.window(start, end).ipv else {
            return false;
        };
        let longest = (qc.dropout_duration_s * self.sample_rate_hz).round() as usize;
        let half_width = (DROPOUT_SPIKE_S * self.sample_rate_hz / 2.0).round() as usize;
        if covered_below(ipv, half_width, qc.dropout_velocity_cm_s) <= longest {
            // No run in diastole can be longer: the beat's phases are not placed for nothing.
            return false;
        }
        let beat = Beat {
            number: 0,
            start,
            end,
            fiducial: self.fiducial,
            reject: None,
            non_pulsatile: false,
            irregular_rhythm: false,
        };
        let diastole_start =
            beat_phases_with(&self.filters, signals, &beat, self.sample_rate_hz, &self.settings)
                .map(|p| p.systole_end)
                .unwrap_or(start)
                .clamp(start, end);
        let from = ((diastole_start - start) as usize).min(ipv.len());
        longest_run_below(&ipv[from..], half_width, qc.dropout_velocity_cm_s) > longest
    }

    fn judge_ready(&mut self, finished: bool, judged: &mut Vec<Beat>) {
        let qc = &self.settings.qc;
        // A beat's verdict needs its local median, its rhythm window and the next two beats (the ectopic pattern,
        // a damped run).
        let window = qc.rr_median_beats.max(1).max(qc.rhythm_window_beats.max(2));
        let needed = |i: usize| window.max(i + 3);
        let mut scratch = Scratch::default();
        while self.num_judged < self.measured.len()
            && (finished || self.measured.len() >= needed(self.num_judged))
        {
            let context = self.context(self.num_judged, &mut scratch);
            self.judge_next(&context, judged);
        }
    }

    /// Judges the next beat within its `context` ([`BeatJudge::context`]).
    fn judge_next(&mut self, context: &Context, judged: &mut Vec<Beat>) {
        let i = self.num_judged;
        let (beat, premature) = self.verdict(i, context);
        self.previous_outlier = beat.reject == Some(RejectReason::RrOutlier);
        if premature {
            // The ectopic beat and the post-ectopic beat follow.
            self.ectopic_until = self.ectopic_until.max(i + 3);
        }
        judged.push(beat);
        self.num_judged += 1;
    }

    /// What beat `i`'s verdict reads from the beats around it, once they are measured (all the beats its
    /// verdict needs, or the record is finished: the windows then reach no further than the beats there are).
    /// `scratch` is kept from one beat to the next.
    fn context(&self, i: usize, scratch: &mut Scratch) -> Context {
        let qc = &self.settings.qc;
        let trailing = |beats: usize| {
            if i + 1 >= beats {
                i + 1 - beats..i + 1
            } else {
                0..beats.min(self.measured.len())
            }
        };
        let rhythm = trailing(qc.rhythm_window_beats.max(2));
        let rhythm_median = scratch.rhythm.median_over(&self.measured, rhythm.clone());
        let irregular = self.is_irregular(&self.measured[rhythm], rhythm_median);
        let window = &self.measured[trailing(qc.rr_median_beats.max(1))];
        let m = &self.measured[i];
        let values = &mut scratch.values;
        let bigeminy = self.plausible(m) && !irregular && self.is_bigeminy(i, values);
        let rr_median = median_in(values, window.iter().filter(|w| !w.missing).map(Measures::rr));
        // Flat: a pressure that stopped moving at another level than its local median mean (opened to air or to
        // the flush). A pulse that fades at the patient's pressure is physiology on ECMO and an Impella (or, when
        // sudden, a damped line: `PressureDamping`).
        let flat = (0..m.pressures.len()).any(|c| {
            m.pressures[c].is_some_and(|(range, mean)| {
                range < qc.flat_range_mmhg
                    && median_in(values, window.iter().filter_map(|w| w.pressures[c]).map(|p| p.1))
                        .is_some_and(|mean_med| {
                            (mean - mean_med).abs() > qc.damping_mean_tolerance * mean_med.abs()
                        })
            })
        });
        Context {
            irregular,
            bigeminy,
            rr_median,
            pp_median: median_in(values, window.iter().filter_map(|w| w.arterial).map(|a| a.0)),
            mean_median: median_in(values, window.iter().filter_map(|w| w.arterial).map(|a| a.1)),
            flat,
        }
    }

    /// Whether the beat's RR can be a heartbeat's at all (and its data are complete).
    fn plausible(&self, m: &Measures) -> bool {
        let (qc, rate) = (&self.settings.qc, self.sample_rate_hz);
        let rr = m.rr();
        !m.missing && rr <= qc.max_beat_s * rate && rr >= qc.min_beat_s * rate
    }

    /// Whether the RRs of `window` are irregular (AF-like): median |successive difference| above the set
    /// fraction of the median RR, leaving out the differences that touch an ectopic pattern (a premature beat
    /// and the one after it), so that frequent ectopics in a regular rhythm do not read as AF.
    /// `rr_median`: the median RR of `window`'s beats without missing data.
    fn is_irregular(&self, window: &[Measures], rr_median: Option<f64>) -> bool {
        let qc = &self.settings.qc;
        let Some(rr_median) = rr_median else {
            return false;
        };
        let short = |k: usize| {
            window
                .get(k)
                .is_some_and(|w| w.rr() < (1.0 - qc.rr_tolerance) * rr_median)
        };
        // An ectopic pattern: a short beat not followed by another short one, and the beat after it. One pass,
        // carrying whether the beat before is in a pattern and whether it starts one.
        let (mut before_in, mut before_starts) = (false, false);
        let differences = (0..window.len()).filter_map(|k| {
            let starts = short(k) && !short(k + 1);
            let in_pattern = starts || before_starts;
            let kept = k > 0 && !window[k - 1].missing && !window[k].missing && !before_in && !in_pattern;
            (before_in, before_starts) = (in_pattern, starts);
            kept.then(|| (window[k].rr() - window[k - 1].rr()).abs())
        });
        median_above(differences, qc.irregular_rr_fraction * rr_median)
    }

    /// Whether beat `i` lies in a run of bigeminy: the RRs of beats `i - 3..=i + 1` (at least four of them, none
    /// with missing data) alternate short and long, each short one more than the RR tolerance below its
    /// neighbours, the short ones within the tolerance of each other and the long ones too. The local median of
    /// such a run is either RR, so the single-ectopic rule cannot apply.
    fn is_bigeminy(&self, i: usize, scratch: &mut Vec<f64>) -> bool {
        let qc = &self.settings.qc;
        let Some(run) = self
            .measured
            .get(i.saturating_sub(3)..(i + 2).min(self.measured.len()))
        else {
            return false;
        };
        if run.len() < 4 || run.iter().any(|m| m.missing) {
            return false;
        }
        let short = |a: f64, b: f64| a < (1.0 - qc.rr_tolerance) * b;
        let rr = |k: usize| run[k].rr();
        let alternating = (1..run.len()).all(|k| short(rr(k - 1), rr(k)) || short(rr(k), rr(k - 1)))
            && (2..run.len()).all(|k| (rr(k - 2) < rr(k - 1)) != (rr(k - 1) < rr(k)));
        // Every other RR, the short ones and the long ones, each within the tolerance of their own median (a fixed
        // coupling interval; an artefact's or AF's alternation is not that regular).
        let mut steady = |parity: usize| {
            let same = || run.iter().skip(parity).step_by(2).map(Measures::rr);
            median_in(scratch, same())
                .is_some_and(|med| same().all(|r| (r - med).abs() <= qc.rr_tolerance * med))
        };
        alternating && steady(0) && steady(1)
    }

    /// The verdict on beat `i` within its `context`, and whether it is cut short by a premature (ectopic) beat.
    fn verdict(&self, i: usize, context: &Context) -> (Beat, bool) {
        let qc = &self.settings.qc;
        let m = self.measured[i];
        let rr = m.rr();
        let Context {
            irregular,
            bigeminy,
            rr_median,
            pp_median,
            mean_median,
            flat,
        } = *context;
        let rr_of = |j: Option<usize>| {
            j.and_then(|j| self.measured.get(j))
                .filter(|beat| !beat.missing)
                .map(Measures::rr)
        };
        let plausible = self.plausible(&m);
        // Short, between two beats that are not (a pause follows; two short beats in a row are an extra detection).
        let premature = plausible
            && !irregular
            && !bigeminy
            && rr_median.is_some_and(|med| {
                let short = |r: f64| r < (1.0 - qc.rr_tolerance) * med;
                short(rr)
                    && rr_of(i.checked_sub(1)).is_none_or(|prev| !short(prev))
                    && rr_of(Some(i + 1)).is_some_and(|next| !short(next))
            });
        // A damped line: the pulse shrinks while the mean stays, on at least three beats in a row (a line stays
        // damped until it is flushed; a balloon pumping 1:2 or 1:3 makes every second or third beat's pulse
        // differ, and its unassisted beats' small pulses are the rhythm, not the line).
        let damped = |j: Option<usize>| {
            j.and_then(|j| self.measured.get(j)).is_some_and(|w| {
                matches!(
                    (w.arterial, pp_median, mean_median),
                    (Some((pp, mean)), Some(pp_med), Some(mean_med))
                        if !w.non_pulsatile
                            && pp < qc.damping_pp_fraction * pp_med
                            && (mean - mean_med).abs() <= qc.damping_mean_tolerance * mean_med.abs()
                )
            })
        };
        let reject = if m.missing {
            Some(RejectReason::MissingData)
        } else if flat {
            Some(RejectReason::FlatPressure)
        } else if m.clipped {
            Some(RejectReason::ClippedPressure)
        } else if !plausible {
            Some(RejectReason::RrOutlier)
        } else if irregular || bigeminy {
            None
        } else if premature || i < self.ectopic_until {
            Some(RejectReason::Ectopic)
        } else if rr_median.is_some_and(|med| (rr - med).abs() > qc.rr_tolerance * med) {
            Some(RejectReason::RrOutlier)
        } else if self.previous_outlier {
            Some(RejectReason::AfterRrOutlier)
        } else {
            None
        };
        let reject = if reject.is_some() {
            reject
        } else if m.non_pulsatile && self.fiducial == Fiducial::PressureOnset {
            Some(RejectReason::NonPulsatile)
        } else if damped(Some(i))
            && [
                (i.checked_sub(2), i.checked_sub(1)),
                (i.checked_sub(1), Some(i + 1)),
                (Some(i + 1), Some(i + 2)),
            ]
            .into_iter()
            .any(|(a, b)| damped(a) && damped(b))
        {
            Some(RejectReason::PressureDamping)
        } else if m.dropout {
            Some(RejectReason::DopplerDropout)
        } else {
            None
        };
        let beat = Beat {
            number: i as u32 + 1,
            start: m.start,
            end: m.end,
            fiducial: self.fiducial,
            reject,
            non_pulsatile: m.non_pulsatile,
            irregular_rhythm: irregular || bigeminy,
        };
        (beat, premature)
    }
}

/// Noise spikes shorter than this (s) do not end a Doppler dropout: a lost signal reads as the noise floor, whose
/// single samples rise above the dropout threshold now and then (a 60 ms dropout read as two short ones passed).
const DROPOUT_SPIKE_S: f64 = 0.005;

/// The longest run of samples whose running median over `2 * half_width + 1` samples (fewer at the ends) is below
/// `threshold`. The median keeps the edges of a step where they are, so a run is measured at its true length.
fn longest_run_below(values: &[f64], half_width: usize, threshold: f64) -> usize {
    // The window kept sorted by `total_cmp` (a total order: the multiset's sorted order is unique, so its middle
    // is the value a full sort of the window puts there): one insertion and one removal per sample.
    let mut window: Vec<f64> = Vec::with_capacity(2 * half_width + 1);
    let insert = |window: &mut Vec<f64>, v: f64| {
        let at = window.partition_point(|x| x.total_cmp(&v).is_lt());
        window.insert(at, v);
    };
    for &v in values.iter().take(half_width) {
        insert(&mut window, v);
    }
    let (mut run, mut longest) = (0, 0);
    for i in 0..values.len() {
        // The window of sample i: [i - half_width, i + half_width] clipped to the values.
        if let Some(&entering) = values.get(i + half_width) {
            insert(&mut window, entering);
        }
        if let Some(leaving) = i.checked_sub(half_width + 1).map(|k| values[k])
            && let Ok(at) = window.binary_search_by(|x| x.total_cmp(&leaving))
        {
            window.remove(at);
        }
        let below = window
            .get(window.len() / 2)
            .is_some_and(|median| *median < threshold);
        run = if below { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// The longest stretch of `values` in which every sample has a value below `threshold` within `half_width` of
/// it: a bound on [`longest_run_below`] of `values` and of every part of it (a median below the threshold is
/// itself a value below it, within the sample's window), found without sorting, so that a beat whose Doppler
/// never drops for long is cleared before its diastole is located.
fn covered_below(values: &[f64], half_width: usize, threshold: f64) -> usize {
    let last = values.len().saturating_sub(1);
    let below = |v: f64| v < threshold;
    let (mut longest, mut stretch) = (0, None::<(usize, usize)>);
    let mut p = first_from(values, 0, below);
    while p < values.len() {
        let (from, to) = (p.saturating_sub(half_width), (p + half_width).min(last));
        let start = match stretch {
            Some((start, end)) if from <= end + 1 => start,
            _ => from,
        };
        stretch = Some((start, to));
        longest = longest.max(to + 1 - start);
        p = first_from(values, p + 1, below);
    }
    longest
}

/// The index of the first of `values[from..]` for which `hit` holds (`values.len()` when none). Groups of
/// values without one are passed over a group at a time, every value of a group tested without a branch (the
/// beats of a 2-hour record are 7 M samples a channel, and most samples are no hit).
fn first_from(values: &[f64], from: usize, hit: impl Fn(f64) -> bool) -> usize {
    const GROUP: usize = 8;
    let mut at = from.min(values.len());
    while let Some(group) = values.get(at..at + GROUP) {
        if group.iter().fold(false, |any, &v| any | hit(v)) {
            break;
        }
        at += GROUP;
    }
    values[at..]
        .iter()
        .position(|&v| hit(v))
        .map_or(values.len(), |n| at + n)
}

/// What quality control reads from one pressure channel over a beat, in one pass over its samples (the rules
/// each read the beat again before, and the beats of a 2-hour record at 1 kHz are 7 M samples a channel). Every
/// value is its own fold over the samples in their order, so the numbers are those of separate passes.
#[derive(Clone, Copy, Debug)]
struct PressureScan {
    /// A sample is missing (`NaN`; the other values are then meaningless).
    missing: bool,
    low: f64,
    high: f64,
    /// The samples summed from 0.0 (the arterial mean) and from -0.0 (as `Iterator::sum`: the flat rule's mean).
    sum_from_zero: f64,
    sum: f64,
    /// The range (maximum - minimum) of the moving mean over the flat rule's window.
    smoothed_range: f64,
}

impl PressureScan {
    /// The scan of `values`, the moving mean over `width` samples (at most all of them).
    ///
    /// The loop carries nothing but the folds (no test per sample): the first `width` samples are summed into
    /// the first window, which is the running sum itself there (the same additions from -0.0), and the window
    /// moves over the rest. The sums are added in the samples' order; the extremes are kept in lanes that do not
    /// wait on each other (a minimum and a maximum are exact whatever the order: only which of +0 and -0 a zero
    /// extreme is may differ, which no difference or comparison tells apart). The sum from 0.0 is the sum from
    /// -0.0 plus 0.0 (they differ only while every sample is -0.0, where the sum from -0.0 is -0.0), and a
    /// sample is missing only when the sum is `NaN`.
    fn of(values: &[f64], width: usize) -> PressureScan {
        const LANES: usize = 4;
        // `NaN` is never taken into a minimum or maximum (as `f64::min` and `f64::max`).
        let lower = |a: f64, b: f64| if b < a { b } else { a };
        let higher = |a: f64, b: f64| if b > a { b } else { a };
        let width = width.clamp(1, values.len().max(1));
        let (head, tail) = values.split_at(width.min(values.len()));
        let (mut low, mut high, mut sum) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES], -0.0);
        for &v in head {
            low[0] = lower(low[0], v);
            high[0] = higher(high[0], v);
            sum += v;
        }
        // The moving sum over `width` samples and its extremes (from the first full window).
        let mut window_sum = sum;
        let (mut window_low, mut window_high) = ([window_sum; LANES], [window_sum; LANES]);
        let mut step = |lane: usize, v: f64, leaving: f64| {
            low[lane] = lower(low[lane], v);
            high[lane] = higher(high[lane], v);
            sum += v;
            window_sum += v - leaving;
            window_low[lane] = lower(window_low[lane], window_sum);
            window_high[lane] = higher(window_high[lane], window_sum);
        };
        let (chunks, leaving) = (tail.chunks_exact(LANES), values.chunks_exact(LANES));
        let remainder = chunks.remainder();
        for (chunk, leaving) in chunks.zip(leaving) {
            for lane in 0..LANES {
                step(lane, chunk[lane], leaving[lane]);
            }
        }
        let done = tail.len() - remainder.len();
        for (&v, &leaving) in remainder.iter().zip(&values[done..]) {
            step(0, v, leaving);
        }
        let fold_low = |lanes: [f64; LANES]| lanes.into_iter().fold(f64::INFINITY, f64::min);
        let fold_high = |lanes: [f64; LANES]| lanes.into_iter().fold(f64::NEG_INFINITY, f64::max);
        PressureScan {
            missing: sum.is_nan() && values.iter().any(|v| v.is_nan()),
            low: fold_low(low),
            high: fold_high(high),
            sum_from_zero: sum + 0.0,
            sum,
            smoothed_range: (fold_high(window_high) - fold_low(window_low)) / width as f64,
        }
    }
}

/// The smallest non-zero step between consecutive `values` (infinite when there is none).
fn smallest_step(values: &[f64]) -> f64 {
    values
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min)
}

/// Whether `values` hold a run of at least `min_run` identical samples at their maximum that the signal enters
/// or leaves (over two samples) by a step of at least `edge_steps` times its smallest non-zero step: a signal cut at
/// an amplifier's rail. A quantised peak also repeats its extreme sample, but rounds over it one step at a time
/// (TestICU's arterial pressure, 1 mmHg steps at 125 Hz, repeats its maximum for up to 6 samples). Only the upper
/// rail: an aortic or distal pressure does not reach a pressure amplifier's lower one (-30 mmHg or below), and a
/// waveform that drops onto a constant diastole (as synthetic ones do) would look like it.
/// `scan` is the [`PressureScan`] of `values` (its maximum). The smallest step is found only once a run at the
/// maximum is long enough to clip (most beats have none, so their steps are not read).
fn is_clipped(values: &[f64], scan: &PressureScan, min_run: usize, edge_steps: f64) -> bool {
    let rail = scan.high;
    let at_rail = |v: f64| v == rail;
    let mut smallest = None;
    let mut i = first_from(values, 0, at_rail);
    while i < values.len() {
        let run_end = values[i..]
            .iter()
            .position(|v| *v != rail)
            .map_or(values.len(), |n| i + n);
        if run_end - i >= min_run {
            let smallest_step = *smallest.get_or_insert_with(|| smallest_step(values));
            if !smallest_step.is_finite() {
                return false;
            }
            // The two steps before the run and the two after it (the last step into a rail may be any part of
            // the signal's step there).
            let step = |j: usize| values.get(j..j + 2).map(|w| (w[1] - w[0]).abs());
            let steep = [
                i.checked_sub(2),
                i.checked_sub(1),
                Some(run_end - 1),
                Some(run_end),
            ]
            .into_iter()
            .flatten()
            .filter_map(step)
            .any(|step| step >= edge_steps * smallest_step);
            if steep {
                return true;
            }
        }
        i = first_from(values, run_end, at_rail);
    }
    false
}

/// Median of the finite values (`None` when there are none).
pub fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    median_in(&mut Vec::new(), values)
}

/// [`median`] with the values held in `buffer` (which keeps its capacity: QC takes several medians per beat).
fn median_in(buffer: &mut Vec<f64>, values: impl Iterator<Item = f64>) -> Option<f64> {
    buffer.clear();
    buffer.reserve(values.size_hint().1.unwrap_or(0));
    buffer.extend(values.filter(|x| x.is_finite()));
    if buffer.is_empty() {
        return None;
    }
    // Selection instead of a full sort (called per beat over windows of up to 64): `total_cmp` is a total
    // order, so the elements selected are the ones a sort puts in the middle, the same values.
    let n = buffer.len();
    let (lower, &mut upper, _) = buffer.select_nth_unstable_by(n / 2, f64::total_cmp);
    Some(if n % 2 == 1 {
        upper
    } else {
        centre(
            lower.iter().copied().max_by(f64::total_cmp).unwrap_or(upper),
            upper,
        )
    })
}

/// The median of an even number of values: the mean of the two middle ones.
fn centre(below: f64, upper: f64) -> f64 {
    0.5 * (below + upper)
}

/// The median of values sorted by `total_cmp` (`None` when there are none), as [`median`] selects it.
fn sorted_median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n % 2 {
        _ if n == 0 => None,
        1 => Some(sorted[n / 2]),
        _ => Some(centre(sorted[n / 2 - 1], sorted[n / 2])),
    }
}

/// What [`BeatJudge::context`] keeps from one beat to the next: the buffer of one median at a time, and the
/// rhythm window's RRs kept sorted.
#[derive(Default)]
struct Scratch {
    values: Vec<f64>,
    rhythm: SortedRrs,
}

/// The RRs of a range of beats (those without missing data; an RR is always finite, so [`median`] would leave
/// none out) sorted by `total_cmp`. Beats are judged in order, so the rhythm window mostly moves by one beat: one
/// RR leaves and one enters, where a median selected afresh would read all 64 of them.
#[derive(Default)]
struct SortedRrs {
    range: Range<usize>,
    sorted: Vec<f64>,
}

impl SortedRrs {
    /// The median RR of `measured[range]`'s beats without missing data ([`median`]).
    fn median_over(&mut self, measured: &[Measures], range: Range<usize>) -> Option<f64> {
        let rr = |m: &Measures| (!m.missing).then(|| m.rr());
        if range.start == self.range.start + 1 && range.end == self.range.end + 1 {
            if let Some(leaving) = rr(&measured[self.range.start])
                && let Ok(at) = self.sorted.binary_search_by(|x| x.total_cmp(&leaving))
            {
                self.sorted.remove(at);
            }
            if let Some(entering) = rr(&measured[range.end - 1]) {
                let at = self.sorted.partition_point(|x| x.total_cmp(&entering).is_lt());
                self.sorted.insert(at, entering);
            }
        } else if range != self.range {
            self.sorted.clear();
            self.sorted.extend(measured[range.clone()].iter().filter_map(rr));
            self.sorted.sort_unstable_by(f64::total_cmp);
        }
        self.range = range;
        sorted_median(&self.sorted)
    }
}

/// Whether the [`median`] of `values` is above `threshold` (false when there are none), counted in one pass
/// instead of selected. With `n` finite values of which `k` are not above the threshold: for odd `n` the middle
/// value is above it when `k <= n / 2`; for even `n` the median is the mean of the two middle values, above the
/// threshold when both are (`k < n / 2`), not when neither is (`k > n / 2`: the mean of two values lies between
/// them, for values whose sum does not overflow), and otherwise the two are the highest value not above and the
/// lowest above, whose mean is compared as [`median`] computes it.
fn median_above(values: impl Iterator<Item = f64>, threshold: f64) -> bool {
    let (mut n, mut not_above) = (0usize, 0usize);
    let (mut highest_not_above, mut lowest_above) = (f64::NEG_INFINITY, f64::INFINITY);
    for v in values.filter(|x| x.is_finite()) {
        n += 1;
        if v > threshold {
            lowest_above = lowest_above.min(v);
        } else {
            not_above += 1;
            highest_not_above = highest_not_above.max(v);
        }
    }
    match (n % 2, not_above.cmp(&(n / 2))) {
        _ if n == 0 => false,
        (1, order) => order.is_le(),
        (_, std::cmp::Ordering::Less) => true,
        (_, std::cmp::Ordering::Greater) => false,
        (_, std::cmp::Ordering::Equal) => centre(highest_not_above, lowest_above) > threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verdicts (reason, judged irregular) on beats of these RRs (ms at 1 kHz), no other channel.
    fn verdicts(rrs: &[u64]) -> Vec<(Option<RejectReason>, bool)> {
        judged(rrs, &SignalSettings::default())
            .iter()
            .map(|b| (b.reject.clone(), b.irregular_rhythm))
            .collect()
    }

    fn judged(rrs: &[u64], settings: &SignalSettings) -> Vec<Beat> {
        let mut judge = BeatJudge::new(Fiducial::RWave, 1000.0, settings);
        let mut start = 0;
        for &rr in rrs {
            judge.measured.push(Measures {
                start,
                end: start + rr,
                missing: false,
                pressures: [None; 2],
                clipped: false,
                arterial: None,
                non_pulsatile: false,
                dropout: false,
            });
            start += rr;
        }
        let mut judged = Vec::new();
        judge.finish(&mut judged);
        judged
    }

    /// Measures of `n` beats at 1 kHz mixing what QC tells apart, the rhythm changing every 10 to 80 beats: sinus
    /// with ectopics, extra detections and pauses; bigeminy; AF; steady sinus with a damped line now and then;
    /// and throughout beats with missing data, flat, clipped and non-pulsatile pressure and dropouts. From a
    /// fixed generator of its own (a change in the simulator's random numbers does not change it).
    fn varied_measures(seed: u64, n: usize) -> Vec<Measures> {
        let mut x = seed;
        let mut uniform = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut start, mut rhythm, mut left, mut long) = (0, 0, 0, false);
        (0..n)
            .map(|_| {
                if left == 0 {
                    rhythm = (uniform() * 4.0) as usize;
                    left = 10 + (uniform() * 70.0) as usize;
                }
                left -= 1;
                long = !long;
                let u = uniform();
                let rr: f64 = match rhythm {
                    0 if u < 0.05 => 480.0,
                    0 if u < 0.08 => 360.0,
                    0 if u < 0.1 => 3200.0,
                    0 => 800.0 + 40.0 * (uniform() - 0.5),
                    1 => (if long { 1120.0 } else { 480.0 }) + 30.0 * (uniform() - 0.5),
                    2 => 350.0 + 450.0 * uniform(),
                    _ => 900.0 + 10.0 * (uniform() - 0.5),
                };
                let rr = rr.round() as u64;
                let missing = uniform() < 0.03;
                let damped = rhythm == 3 && left % 20 < 5;
                let pp = (if damped { 12.0 } else { 40.0 }) * (1.0 + 0.1 * (uniform() - 0.5));
                let pp = if uniform() < 0.03 { 6.0 } else { pp };
                let mean = 80.0 + 4.0 * (uniform() - 0.5);
                let range = if uniform() < 0.02 { 0.5 } else { pp };
                let flat_mean = if range < 1.0 && uniform() < 0.7 {
                    20.0
                } else {
                    mean
                };
                let m = Measures {
                    start,
                    end: start + rr,
                    missing,
                    pressures: [(!missing).then_some((range, flat_mean)), None],
                    clipped: uniform() < 0.01,
                    arterial: (!missing).then_some((pp, mean)),
                    non_pulsatile: pp < 10.0,
                    dropout: uniform() < 0.02,
                };
                start += rr;
                m
            })
            .collect()
    }

    /// One character per beat: its verdict (`.` accepted), upper case (`*` accepted) when judged within an irregular
    /// rhythm.
    fn fingerprint(beats: &[Beat]) -> String {
        beats
            .iter()
            .map(|b| {
                let c = match &b.reject {
                    None => '.',
                    Some(RejectReason::RrOutlier) => 'r',
                    Some(RejectReason::AfterRrOutlier) => 'a',
                    Some(RejectReason::Ectopic) => 'e',
                    Some(RejectReason::DopplerDropout) => 'd',
                    Some(RejectReason::PressureDamping) => 'p',
                    Some(RejectReason::NonPulsatile) => 'n',
                    Some(RejectReason::MissingData) => 'm',
                    Some(RejectReason::FlatPressure) => 'f',
                    Some(RejectReason::ClippedPressure) => 'c',
                    Some(RejectReason::Manual(_)) => 'x',
                };
                match (b.irregular_rhythm, c) {
                    (true, '.') => '*',
                    (true, c) => c.to_ascii_uppercase(),
                    (false, c) => c,
                }
            })
            .collect()
    }

    /// The verdicts on [`varied_measures`] as the rules gave them before the contexts were found apart from the
    /// verdicts (judged beat by beat, each median taken afresh): any change to a verdict or a rhythm label fails.
    fn known_fingerprints() -> Vec<(u64, usize, String)> {
        vec![
            (1, 3, ".ee".to_owned()),
            (2, 8, "n.f.....".to_owned()),
            (3, 40, "....eee...................ereee*nn......".to_owned()),
            (4, 70, "********D****F**********************************M*****C*N*************".to_owned()),
            (
                5,
                700,
                [
                "...n..m......mm..mnrmrra...reeerraeem.....raeeerrreee..ra..rrrra.************NM**M**PPPP*****C*****.",
                "...nmppp..............dpppm...c............pppp...eee..........ra..ere.n.....n.eee.f................",
                "eeeeeem.d.rm...eferee******D****.m...fd....eee....eee.......rrmd..f............fm..rad.m.n.........e",
                "ee.eee...eee........d..eee********F********************fm.ra**rmceeem...*F****C*pppm..n....m.m...d.p",
                "ppp......n.........pppp.....mf.........pppp.....mra......eee......eee.eee....ra.......mm..dneeeee***",
                "**********C***************F****.m.ra*...ra..eeerF********D*C************N********M**F***************",
                "************N*****F*M****N********************N*************************Cm.ee**************.*ra.....",
                ]
                .concat(),
            ),
            (
                6,
                2600,
                [
                ".......d......n..eeDf....eee...eemn.m.......d.eeef..m..............eeef................eeeee*..rrf.e",
                "ee...d.....deee.eeeeee...rra.ra.eeerrm..***************M*********************N*M**************M*****",
                "*******R********R**.n.eee..eee..............eef.c.....eee.....eeeeerra....eemrreceeee.raeee.rra.rra.",
                "..eee.meeee***********D*************N****ND*****F**C*****************D***********************D******",
                "*****************N*************************N****N**************N*********F*****************M****F*N*",
                "******D**M****FF*********N*************************N**********N*M**N*F*F***********D*************PPP",
                "P****...m........f.m.................pppp.................mppprrrm.rreee*Nrra..meeeee..n............",
                "....eee...............................eee............ppppc.......c.......pppp...eee.neeerra....deee.",
                "..ee*n.....m..ra.eee....d....eeera..raeee.ra...rracrra.dn.m......n.eee..........ra.........eee..d.d.",
                "........................pppp.........n...m..pppp..m.............pcppdrrrarmeeeee.eeera*eee...de*e..r",
                "rrmeeeeee.....eef.ra.*******F*******FC***DM*********************N**F********D*****************N*****",
                "*****M**N*****MPPPP***cn......n..fcppd.................mppp........m...n...np.....................c.",
                "ppppn...nf..........pppp................pppp.eeemeee******************...........................eee",
                "mra...........d.m...........ree**F****F*****************D*.m.ee**rm.f.*...nmrmd..eeeeee*D*****M*****",
                "***F*********C*******************************M****M**********D***..........pppp........n.n.....pppp.",
                "rrrra.reeeee..rad.eeerappp.............d..pppp.eeeN***************D***********.m.ee*****...f..pppp..",
                ".....m..fd...fmpppf...............pppp.............d..pppp.ee*******.m.ee**rm.rarran.d..ppp.........",
                "........ppppdn.m............pppp........f.......pppp........eee...eera.eee..........feee..cee.......",
                "........rrrrara.rra...meeeefeee...ra.eeeraf.ra*.m.ra*********.m.r******M***D************************",
                "**N******************D************N*********M***********F*******************************M*******m*M*",
                "*****F**N*M*******D****M**************M.f....m.eee..ree***N******************N**N***N*****C*********",
                "**.nf....................eee.n......eee.........f......eeeeem.eee..rmeee.....ee**ra.reeerc.ra.rra.ee",
                "eeee.....eemrar*rm.rM******N***********N*D************************DM**.*****F*****cm.ee****ee******N",
                "**N*M*****FC*D*****N***NM*********D***********.........d.eee......n........n...rrra..rree*rm.ee***N*",
                "******.m.ee*****C******F****C***D***********..f....d.............eee...n.........rrra........neeeeee",
                "..nfppc..m..............mpfp..n......m...nppp...........m.....mpcp.....d.........pppp.m.............",
                ]
                .concat(),
            ),
        ]
    }

    #[test]
    fn verdicts_on_every_rhythm_are_the_known_ones_beat_by_beat_and_on_any_number_of_workers() {
        use crate::model::workers::{InOrder, Workers};
        let judge = || BeatJudge::new(Fiducial::PressureOnset, 1000.0, &SignalSettings::default());
        for (seed, n, known) in known_fingerprints() {
            let measures = varied_measures(seed, n);
            // As the live monitor judges: a beat at a time, each judged as soon as its neighbours are known.
            let mut streaming = judge();
            let mut one_by_one = Vec::new();
            for &m in &measures {
                streaming.add_measured(m, &mut one_by_one);
            }
            streaming.finish(&mut one_by_one);
            assert_eq!(fingerprint(&one_by_one), known, "seed {seed}");
            // All at once, the contexts on several workers (chunks of 512 beats).
            for count in 1..4 {
                let workers = Workers::new(std::num::NonZeroUsize::new(count).unwrap(), &InOrder);
                assert_eq!(
                    judge().judge_measured(measures.clone(), workers),
                    one_by_one,
                    "seed {seed}, {count} workers"
                );
            }
            // The first beats judged one by one, the rest all at once.
            let mut part = judge();
            let mut judged = Vec::new();
            for &m in &measures[..n / 2] {
                part.add_measured(m, &mut judged);
            }
            judged.extend(part.judge_measured(measures[n / 2..].to_vec(), Workers::ONE));
            assert_eq!(judged, one_by_one, "seed {seed}, in two parts");
        }
    }

    #[test]
    fn ectopics_extra_detections_and_af_each_get_their_rule() {
        // Sinus at 800 ms with an ectopic (coupling 480 ms, compensatory 1120 ms) cutting beat 20 short.
        let mut rrs = vec![800; 40];
        (rrs[20], rrs[21]) = (480, 1120);
        let v = verdicts(&rrs);
        for (i, (reason, irregular)) in v.iter().enumerate() {
            let want = (20..=22).contains(&i).then_some(RejectReason::Ectopic);
            assert_eq!((reason, *irregular), (&want, false), "beat {i}");
        }
        // An extra detection splits beat 20 in two short beats: RR outliers, not an ectopic.
        let mut rrs = vec![800; 40];
        rrs.splice(20..21, [400, 400]);
        let v = verdicts(&rrs);
        assert_eq!(v[20].0, Some(RejectReason::RrOutlier));
        assert_eq!(v[21].0, Some(RejectReason::RrOutlier));
        assert_eq!(v[22].0, Some(RejectReason::AfterRrOutlier));
        assert!(v.iter().all(|(_, irregular)| !irregular));
        // Ventricular bigeminy is a rhythm too: inside its run nothing is rejected for its RR.
        let bigeminy: Vec<u64> = (0..60).map(|i| if i % 2 == 0 { 480 } else { 1120 }).collect();
        assert!(
            verdicts(&bigeminy)[4..56]
                .iter()
                .all(|(reason, _)| reason.is_none())
        );
        // AF: irregularly irregular RRs (a fixed pseudo-random sequence, CV ~0.25): irregular, nothing rejected for
        // its RR, except a non-physiological 200 ms.
        let mut x: u64 = 12345;
        let mut af: Vec<u64> = (0..80)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                350 + (x >> 33) % 450
            })
            .collect();
        af[40] = 200;
        let v = verdicts(&af);
        for (i, (reason, irregular)) in v.iter().enumerate() {
            let want = (i == 40).then_some(RejectReason::RrOutlier);
            assert_eq!((reason, *irregular), (&want, true), "AF beat {i} of RR {}", af[i]);
        }
        // The sinus rule on the same AF (never irregular) throws most of it away.
        let mut sinus_rule = SignalSettings::default();
        sinus_rule.qc.irregular_rr_fraction = f64::INFINITY;
        let judged = judged(&af, &sinus_rule);
        assert!(judged.iter().filter(|b| b.accepted()).count() < af.len() / 2);
    }

    /// Aortic pressure at 1 kHz: 60 mmHg with a 30 mmHg pulse (sin^2 over 250 ms) starting 80 ms after each R
    /// wave in `r_waves`, `len` samples.
    fn pulses(r_waves: &[u64], len: usize) -> Vec<f64> {
        (0..len)
            .map(|t| {
                let pulse = |r: &u64| {
                    let x = (t as f64 - *r as f64 - 80.0) / 250.0;
                    if (0.0..=1.0).contains(&x) {
                        30.0 * (std::f64::consts::PI * x).sin().powi(2)
                    } else {
                        0.0
                    }
                };
                60.0 + r_waves.iter().map(pulse).sum::<f64>()
            })
            .collect()
    }

    /// Beats judged from the fiducials `fiducials` on `signals` (1 kHz).
    fn judged_on(signals: &Signals, fiducials: &[u64]) -> Vec<Beat> {
        let mut judge = BeatJudge::new(Fiducial::RWave, 1000.0, &SignalSettings::default());
        let mut judged = Vec::new();
        for pair in fiducials.windows(2) {
            judge.add(signals, pair[0], pair[1], &mut judged);
        }
        judge.finish(&mut judged);
        judged
    }

    #[test]
    fn channels_known_complete_are_left_out_of_the_gap_check_with_the_same_verdicts() {
        let sinus: Vec<u64> = (0..30).map(|k| 800 * k).collect();
        let pa = pulses(&sinus, 24_000);
        let ecg: Vec<f64> = (0..24_000).map(|t| f64::from(t % 800 < 20)).collect();
        let mut lvv = vec![100.0; 24_000];
        let judged_with = |lvv: &[f64], complete: Vec<SignalKind>| {
            let signals = Signals {
                ecg: Some(&ecg),
                pa: Some(&pa),
                lvv: Some(lvv),
                ..Signals::default()
            };
            let mut judge =
                BeatJudge::new(Fiducial::RWave, 1000.0, &SignalSettings::default()).with_complete(complete);
            let mut judged = Vec::new();
            for pair in sinus.windows(2) {
                judge.add(&signals, pair[0], pair[1], &mut judged);
            }
            judge.finish(&mut judged);
            judged
        };
        // Channels that miss no sample: the verdicts of a judge that reads them for gaps.
        let read = judged_with(&lvv, Vec::new());
        assert_eq!(read.len(), sinus.len() - 1);
        assert_eq!(read, judged_with(&lvv, vec![SignalKind::Ecg, SignalKind::Lvv]));
        // The check really is left out: a gap in a channel said to be complete goes unseen (segmentation says so
        // only of channels the usability check found without one), while a judge reading it rejects the beat.
        lvv[8100] = f64::NAN;
        let gap = |beats: &[Beat]| beats.iter().find(|b| b.start == 8000).map(|b| b.reject.clone());
        assert_eq!(
            gap(&judged_with(&lvv, Vec::new())),
            Some(Some(RejectReason::MissingData))
        );
        assert_eq!(gap(&judged_with(&lvv, vec![SignalKind::Lvv])), Some(None));
    }

    #[test]
    fn judging_all_at_once_on_several_workers_gives_the_verdicts_beat_by_beat() {
        use crate::model::workers::{InOrder, Workers};
        // 1200 beats of 800 ms (a 24 s stretch repeated), with double detections to merge, a gap and a flat beat.
        let tile: Vec<u64> = (0..30).map(|k| 800 * k).collect();
        let mut pa = pulses(&tile, 24_000).repeat(40);
        pa[300_100] = f64::NAN;
        pa[500_000..500_800].fill(12.0);
        let mut fiducials: Vec<u64> = (0..1200).map(|k| 800 * k).collect();
        for k in [11, 500, 640, 642, 1100] {
            let at = fiducials[k] + 220;
            fiducials.insert(k + 1, at);
        }
        let signals = Signals {
            pa: Some(&pa),
            ..Signals::default()
        };
        let one_by_one = judged_on(&signals, &fiducials);
        assert_eq!(one_by_one.len(), 1199);
        assert!(
            one_by_one
                .iter()
                .any(|b| b.reject == Some(RejectReason::MissingData))
        );
        for count in 1..5 {
            let workers = Workers::new(std::num::NonZeroUsize::new(count).unwrap(), &InOrder);
            let judge = BeatJudge::new(Fiducial::RWave, 1000.0, &SignalSettings::default());
            assert_eq!(
                judge.judge_all(&signals, &fiducials, workers),
                one_by_one,
                "{count} workers"
            );
        }
    }

    #[test]
    fn a_double_detection_is_merged_and_a_short_beat_with_a_pulse_is_kept() {
        let sinus: Vec<u64> = (0..30).map(|k| 800 * k).collect();
        // A second detection 220 ms after the R wave at 8000 ms, inside its pulse: merged, one accepted beat.
        let mut fiducials = sinus.clone();
        fiducials.insert(11, 8220);
        let pa = pulses(&sinus, 24_000);
        let signals = Signals {
            pa: Some(&pa),
            ..Signals::default()
        };
        let beats = judged_on(&signals, &fiducials);
        assert_eq!(beats.len(), sinus.len() - 1);
        let merged = beats.iter().find(|b| b.start == 8000).unwrap();
        assert_eq!((merged.end, merged.reject.clone()), (8800, None));
        assert!(beats.iter().all(|b| b.accepted()), "{beats:?}");
        // With a pulse of its own behind the short RR, it is a beat (too short to be measured: an RR outlier).
        let mut with_pulse = sinus.clone();
        with_pulse.insert(11, 8220);
        let pa = pulses(&with_pulse, 24_000);
        let signals = Signals {
            pa: Some(&pa),
            ..Signals::default()
        };
        let beats = judged_on(&signals, &with_pulse);
        assert_eq!(beats.len(), with_pulse.len() - 1);
        let short = beats.iter().find(|b| b.start == 8000).unwrap();
        assert_eq!(
            (short.end, short.reject.clone()),
            (8220, Some(RejectReason::RrOutlier))
        );
        // Without any pressure no pulse can be shown: merged.
        let ecg_only = vec![0.0; 24_000];
        let signals = Signals {
            ecg: Some(&ecg_only),
            ..Signals::default()
        };
        assert_eq!(judged_on(&signals, &fiducials).len(), sinus.len() - 1);
    }

    #[test]
    fn flat_and_clipped_pressure_beats_get_their_own_reasons() {
        let sinus: Vec<u64> = (0..30).map(|k| 800 * k).collect();
        let mut pa = pulses(&sinus, 24_000);
        // Beat 10 (8000..8800): the transducer closed to the patient (a constant with 0.2 mmHg of noise).
        for (k, v) in pa[8000..8800].iter_mut().enumerate() {
            *v = 12.0 + 0.2 * ((k * 7919 % 13) as f64 / 6.0 - 1.0);
        }
        // Beat 15 (12000..12800): clipped at 80 mmHg for the 130 ms around its peak.
        for v in &mut pa[12000..12800] {
            *v = v.min(80.0);
        }
        // Beat 20: the same pulse quantised to 1 mmHg, which repeats its extreme samples: not clipped.
        for v in &mut pa[16000..16800] {
            *v = v.round();
        }
        // Beat 25: the pulse gone at the patient's mean pressure (physiology on ECMO and an Impella, or a closed
        // stopcock): not flat; labelled non-pulsatile (not rejected: the beat was found on the ECG).
        let mean = pa[20000..20800].iter().sum::<f64>() / 800.0;
        pa[20000..20800].fill(mean);
        let signals = Signals {
            pa: Some(&pa),
            ..Signals::default()
        };
        let beats = judged_on(&signals, &sinus);
        for beat in &beats {
            let want = match beat.start {
                8000 => Some(RejectReason::FlatPressure),
                12000 => Some(RejectReason::ClippedPressure),

                _ => None,
            };
            assert_eq!(beat.reject, want, "beat at {}", beat.start);
        }
        assert!(beats.iter().find(|b| b.start == 20000).unwrap().non_pulsatile);
        assert_eq!(counts(&beats).rejected.get("flat_pressure"), Some(&1));
        assert_eq!(counts(&beats).rejected.get("clipped_pressure"), Some(&1));
    }

    #[test]
    fn bigeminy_is_a_rhythm_whose_every_beat_is_kept() {
        // Sinus at 800 ms, then bigeminy (sinus beats cut short at 480 ms, compensatory 1120 ms), then sinus.
        let mut rrs = vec![800; 20];
        rrs.extend((0..40).map(|i| if i % 2 == 0 { 480 } else { 1120 }));
        rrs.extend([800; 20]);
        let v = verdicts(&rrs);
        // Inside the run (its first and last couplets follow the single-ectopic rule), every beat is kept and
        // labelled as judged within an irregular rhythm: the whole cycle, not a third of it.
        for (i, (reason, irregular)) in v.iter().enumerate().take(56).skip(24) {
            assert_eq!((reason, *irregular), (&None, true), "beat {i} of RR {}", rrs[i]);
        }
        // Sinus rhythm on either side is kept, and regular.
        assert!(
            v[..19]
                .iter()
                .chain(&v[63..])
                .all(|(reason, irregular)| reason.is_none() && !irregular),
            "{v:?}"
        );
    }

    #[test]
    fn a_dropout_with_noise_spikes_is_one_run_at_its_true_length() {
        // 60 samples of noise floor with two single-sample spikes above the threshold, inside a flowing signal.
        let mut values = vec![20.0; 200];
        values[70..130].fill(0.5);
        values[90] = 2.6;
        values[111] = 3.0;
        assert_eq!(longest_run_below(&values, 2, 2.0), 60);
        // Without the median, the spikes split it into runs of 20, 20 and 18.
        assert_eq!(longest_run_below(&values, 0, 2.0), 20);
        // A clean 30-sample dropout stays 30 long (the median does not widen it).
        let mut short = vec![20.0; 100];
        short[40..70].fill(0.5);
        assert_eq!(longest_run_below(&short, 2, 2.0), 30);
        assert_eq!(longest_run_below(&[], 2, 2.0), 0);
    }

    #[test]
    fn no_run_in_any_part_of_a_beat_is_longer_than_its_covered_stretch() {
        // The dropout check clears a beat by `covered_below` before placing its phases: that bound must hold for
        // the run counted from any diastole start, so the verdict is the one the phases would have given.
        let mut rng = crate::sim::rng::Rng::new(18);
        for case in 0..300 {
            let n = 1 + case % 160;
            let density = (case % 7) as f64 / 6.0;
            let values: Vec<f64> = (0..n)
                .map(|_| match rng.uniform() {
                    u if u < density => 0.5,
                    u if u < density + 0.02 => f64::NAN,
                    _ => 20.0,
                })
                .collect();
            for half_width in [0, 1, 2, 3] {
                let bound = covered_below(&values, half_width, 2.0);
                assert!(bound <= n);
                for from in 0..=n {
                    let run = longest_run_below(&values[from..], half_width, 2.0);
                    assert!(
                        run <= bound,
                        "case {case}, half width {half_width}, from {from}: {run} > {bound}"
                    );
                }
            }
        }
        // A clean dropout is bounded by itself and the spikes' reach on either side.
        let mut values = vec![20.0; 200];
        values[70..130].fill(0.5);
        assert_eq!(covered_below(&values, 2, 2.0), 64);
        assert_eq!(covered_below(&[], 2, 2.0), 0);
        assert_eq!(covered_below(&[20.0; 9], 2, 2.0), 0);
    }

    #[test]
    fn searches_a_group_at_a_time_give_what_the_definitions_give() {
        // `covered_below` and `is_clipped` by their definitions, sample by sample: a sample is covered when a value
        // below the threshold lies within the half-width of it; a run of the rail (a run of equal values at the
        // maximum) clips when it is long enough and entered or left by a steep step.
        fn covered_by_definition(values: &[f64], half_width: usize, threshold: f64) -> usize {
            let covered = |q: usize| {
                values[q.saturating_sub(half_width)..(q + half_width + 1).min(values.len())]
                    .iter()
                    .any(|v| *v < threshold)
            };
            let (mut run, mut longest) = (0, 0);
            for q in 0..values.len() {
                run = if covered(q) { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            longest
        }
        fn clipped_by_runs(values: &[f64], rail: f64, smallest: f64, min_run: usize, edge: f64) -> bool {
            let steep_at = |j: usize| {
                values
                    .get(j..j + 2)
                    .is_some_and(|w| (w[1] - w[0]).abs() >= edge * smallest)
            };
            let mut start = 0;
            values.chunk_by(|a, b| a == b).any(|run| {
                let end = start + run.len();
                let edges = [
                    start.checked_sub(2),
                    start.checked_sub(1),
                    Some(end - 1),
                    Some(end),
                ];
                start = end;
                run[0] == rail && run.len() >= min_run && edges.into_iter().flatten().any(steep_at)
            })
        }
        let mut rng = crate::sim::rng::Rng::new(9);
        let (mut num_clipped, mut num_covered) = (0, 0);
        for case in 0..2000 {
            let n = case % 97;
            // Runs of one level (a rail), quantised steps, rare big steps, values below the threshold, NaN.
            let mut level = 50.0;
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    let u = rng.uniform();
                    level = match u {
                        u if u < 0.5 => level,
                        u if u < 0.8 => level + if u < 0.65 { 1.0 } else { -1.0 },
                        u if u < 0.9 => level + 10.0,
                        u if u < 0.95 => 0.5,
                        _ => 50.0,
                    };
                    if rng.uniform() < 0.01 { f64::NAN } else { level }
                })
                .collect();
            for half_width in [0, 1, 2, 5] {
                let covered = covered_below(&values, half_width, 2.0);
                assert_eq!(
                    covered,
                    covered_by_definition(&values, half_width, 2.0),
                    "case {case}"
                );
                num_covered += usize::from(covered > 0);
            }
            let scan = PressureScan::of(&values, 1);
            for (min_run, edge) in [(3, 3.0), (1, 1.0), (5, 8.0)] {
                let clipped = is_clipped(&values, &scan, min_run, edge);
                let smallest = smallest_step(&values);
                let want =
                    smallest.is_finite() && clipped_by_runs(&values, scan.high, smallest, min_run, edge);
                assert_eq!(clipped, want, "case {case}");
                num_clipped += usize::from(clipped);
            }
            for from in 0..=n + 1 {
                let want = values
                    .get(from..)
                    .and_then(|rest| rest.iter().position(|v| *v < 2.0));
                assert_eq!(
                    first_from(&values, from, |v| v < 2.0),
                    want.map_or(n, |k| from + k)
                );
            }
        }
        // Both verdicts occur, so both paths were compared.
        assert!(
            num_clipped > 100 && num_covered > 1000,
            "{num_clipped} {num_covered}"
        );
    }

    #[test]
    fn running_and_plain_medians_are_those_of_a_full_sort() {
        // Values with repeats, both zeros and a NaN, so that the order of equal and unordered values matters.
        let values: Vec<f64> = (0..157)
            .map(|i| match i % 11 {
                3 => 0.0,
                5 => -0.0,
                7 if i == 40 => f64::NAN,
                _ => ((i * 37 % 29) as f64 - 14.0) * 0.5,
            })
            .collect();
        let sorted_middle = |window: &[f64]| {
            let mut w = window.to_vec();
            w.sort_by(f64::total_cmp);
            w.get(w.len() / 2).copied()
        };
        for half_width in [0, 1, 3, 8, 100] {
            for threshold in [-6.0, -0.5, 0.0, 0.5, 3.0, 7.5] {
                let (mut run, mut longest) = (0, 0);
                for i in 0..values.len() {
                    let window =
                        &values[i.saturating_sub(half_width)..(i + half_width + 1).min(values.len())];
                    run = if sorted_middle(window).is_some_and(|m| m < threshold) {
                        run + 1
                    } else {
                        0
                    };
                    longest = longest.max(run);
                }
                assert_eq!(
                    longest_run_below(&values, half_width, threshold),
                    longest,
                    "{half_width} {threshold}"
                );
            }
        }
        for n in 1..40 {
            let mut finite: Vec<f64> = values[..n].iter().copied().filter(|v| v.is_finite()).collect();
            finite.sort_by(f64::total_cmp);
            let k = finite.len();
            let expected = if k % 2 == 1 {
                finite[k / 2]
            } else {
                0.5 * (finite[k / 2 - 1] + finite[k / 2])
            };
            assert_eq!(
                median(values[..n].iter().copied()).map(f64::to_bits),
                Some(expected.to_bits())
            );
            // A buffer holding another median's values gives the same.
            let mut buffer = values[n..].to_vec();
            assert_eq!(
                median_in(&mut buffer, values[..n].iter().copied()).map(f64::to_bits),
                Some(expected.to_bits())
            );
        }
    }

    #[test]
    fn a_sorted_window_moved_a_beat_at_a_time_or_anywhere_gives_the_selected_median() {
        let measures = varied_measures(11, 400);
        assert!(measures.iter().filter(|m| m.missing).count() > 5);
        let mut window = SortedRrs::default();
        let mut buffer = Vec::new();
        let mut check = |range: Range<usize>| {
            let want = median_in(
                &mut buffer,
                measures[range.clone()]
                    .iter()
                    .filter(|m| !m.missing)
                    .map(Measures::rr),
            );
            assert_eq!(
                window.median_over(&measures, range.clone()).map(f64::to_bits),
                want.map(f64::to_bits),
                "{range:?}"
            );
        };
        // As the judge moves it: the first beats' fixed window, then a beat at a time; then jumps, even and odd
        // counts, a single beat, back to the start.
        for i in 0..300 {
            check(if i + 1 >= 64 { i + 1 - 64..i + 1 } else { 0..64 });
        }
        for range in [
            10..20,
            11..21,
            11..21,
            0..1,
            5..6,
            6..7,
            100..163,
            101..164,
            0..400,
            1..400,
        ] {
            check(range);
        }
    }

    #[test]
    fn a_median_counted_against_a_threshold_is_the_selected_median_compared() {
        let mut x: u64 = 77;
        let mut next = move |below: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % below
        };
        let (mut num_above, mut num_cases) = (0, 0);
        for case in 0..3000 {
            let n = (case % 70) as u64;
            // Small integers (many ties, as RR differences in samples), now and then a NaN, a zero of either sign
            // or a fraction.
            let values: Vec<f64> = (0..n)
                .map(|_| match next(40) {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    3 => 2.5,
                    _ => next(12) as f64,
                })
                .collect();
            for threshold in [
                -1.0,
                -0.0,
                0.0,
                0.5,
                2.0,
                2.5,
                3.0,
                5.75,
                6.0,
                11.0,
                20.0,
                f64::NAN,
            ] {
                let want = median(values.iter().copied()).is_some_and(|m| m > threshold);
                assert_eq!(
                    median_above(values.iter().copied(), threshold),
                    want,
                    "{values:?} above {threshold}"
                );
                num_above += usize::from(want);
                num_cases += 1;
            }
        }
        assert!(
            num_above > num_cases / 4 && num_above < 3 * num_cases / 4,
            "{num_above} of {num_cases}"
        );
    }

    /// A beat's pressure numbers as the rules computed them before [`PressureScan`], one pass each.
    fn separate_passes(values: &[f64], width: usize) -> [f64; 5] {
        let (low, high, sum_from_zero) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY, 0.0), |(lo, hi, s), &v| {
                (lo.min(v), hi.max(v), s + v)
            });
        let width = width.clamp(1, values.len().max(1));
        let mut moving: f64 = values.iter().take(width).sum();
        let (mut moving_low, mut moving_high) = (moving, moving);
        for i in width..values.len() {
            moving += values[i] - values[i - width];
            moving_low = moving_low.min(moving);
            moving_high = moving_high.max(moving);
        }
        let sum = values.iter().sum::<f64>();
        let smoothed_range = (moving_high - moving_low) / width as f64;
        [low, high, sum_from_zero, sum, smoothed_range]
    }

    #[test]
    fn a_beat_is_non_pulsatile_by_its_measures_as_by_the_phase_rule() {
        // The rule on the whole beat (ENDPOINTS.md section 2): a pulse below the threshold, a beat with a
        // missing sample never non-pulsatile.
        let rule = |pa: &[f64], threshold: f64| {
            let (low, high) = pa
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &v| {
                    (low.min(v), high.max(v))
                });
            !pa.iter().any(|v| v.is_nan()) && high - low < threshold
        };
        let judge = BeatJudge::new(Fiducial::PressureOnset, 1000.0, &SignalSettings::default());
        let threshold = SignalSettings::default().qc.non_pulsatile_pp_mmhg;
        let mut rng = crate::sim::rng::Rng::new(5);
        let mut num_non_pulsatile = 0;
        for case in 0..400 {
            let len = 1 + case % 50;
            let pulse = threshold * rng.uniform_in(0.5, 1.5);
            let mut pa: Vec<f64> = (0..len).map(|_| 80.0 + pulse * rng.uniform()).collect();
            match case % 5 {
                0 => pa[case % len] = f64::NAN,
                1 => pa[0] = -0.0,
                _ => {}
            }
            let signals = Signals {
                pa: Some(&pa),
                ..Signals::default()
            };
            let measured = judge.measure(&signals, 0, len as u64).non_pulsatile;
            let by_rule = rule(&pa, threshold);
            assert_eq!(measured, by_rule, "case {case}: {pa:?}");
            num_non_pulsatile += usize::from(by_rule);
        }
        assert!(num_non_pulsatile > 50, "{num_non_pulsatile}");
    }

    #[test]
    fn one_pass_over_a_pressure_gives_the_numbers_of_separate_passes() {
        let mut rng = crate::sim::rng::Rng::new(3);
        let mut cases: Vec<Vec<f64>> = vec![
            vec![],
            vec![80.0],
            vec![-0.0, 0.0, -0.0],
            vec![-0.0; 5],
            vec![-0.0, -0.0, 2.5, -2.5, -0.0, 0.0],
            vec![120.0; 40],
        ];
        // Pressure-like beats: a pulse plus noise, and the same quantised to 1 mmHg (repeated samples, steps).
        for len in [2, 3, 17, 400, 1000] {
            let beat: Vec<f64> = (0..len)
                .map(|i| 80.0 + 40.0 * (i as f64 / 90.0).sin().max(0.0) + rng.uniform_in(-1.5, 1.5))
                .collect();
            cases.push(beat.iter().map(|v| v.round()).collect());
            cases.push(beat);
        }
        for values in &cases {
            for width in [1, 2, 50, 2000] {
                let scan = PressureScan::of(values, width);
                let [low, high, sum_from_zero, sum, smoothed_range] = separate_passes(values, width);
                // The sums bit for bit; the extremes by value (a zero extreme may be +0 or -0, which no
                // comparison or difference of them tells apart).
                assert_eq!(
                    [scan.sum_from_zero, scan.sum].map(f64::to_bits),
                    [sum_from_zero, sum].map(f64::to_bits),
                    "{values:?}, width {width}"
                );
                assert_eq!(
                    [scan.low, scan.high, scan.smoothed_range],
                    [low, high, smoothed_range],
                    "{values:?}, width {width}"
                );
                assert!(!scan.missing);
            }
        }
        for at in [0, 5, 999] {
            let mut gap = cases[cases.len() - 1].clone();
            gap[at] = f64::NAN;
            assert!(PressureScan::of(&gap, 50).missing, "gap at {at}");
        }
        // Infinite samples make the sum NaN without a missing one.
        let infinite = [f64::INFINITY, 80.0, f64::NEG_INFINITY];
        assert!(PressureScan::of(&infinite, 1).sum.is_nan() && !PressureScan::of(&infinite, 1).missing);
    }
}
