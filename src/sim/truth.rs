//! Per-beat ground truth: what an analysis of one beat should find, computed from the simulated patient's
//! [`Truth`] samples (never from the sensors). The reference for the phase-timing tests, `heracles simulate
//! --truth` and `heracles validate`.
//!
//! A beat runs from one R wave (LV contraction onset) to the next. Its events follow ENDPOINTS.md section 3 on the
//! true signals: systole ends at aortic-valve closure (LV pressure falling below ascending-aortic pressure after
//! the valve's first opening in the beat); when the valve does not open at all, at LV dP/dt min (central
//! difference of the true LV pressure; the beat's own, after its dP/dt max: a premature beat starts while the
//! previous one still relaxes). Diastole is from the end of systole to the next R wave; the wave-free
//! period from a fraction into diastole to a margin before its end (the caller gives both, the analysis settings'
//! values, so truth and analysis use one definition).

use super::rhythm::BeatKind;
use super::{OUTPUT_RATE_HZ, Truth};

/// What is true about one complete beat. Times are seconds since the start of the run (the sample's
/// [`Truth::time_s`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatTruth {
    /// R waves since the start of the run at this beat ([`Truth::beat_number`]).
    pub number: u64,
    /// R wave that starts the beat, s.
    pub start_s: f64,
    /// Next R wave (end of the beat), s.
    pub end_s: f64,
    /// What started the beat (sinus, AF, ectopic, paced).
    pub kind: BeatKind,
    /// Aortic valve opening, s (the first in the beat), when it opens.
    pub valve_open_s: Option<f64>,
    /// Aortic valve closure after that opening, s.
    pub valve_close_s: Option<f64>,
    /// LV dP/dt min, s.
    pub dpdt_min_s: f64,
    /// End of systole: valve closure, or LV dP/dt min when the valve does not open.
    pub systole_end_s: f64,
    /// The wave-free period `[from, to)`, s.
    pub wave_free_s: (f64, f64),
    /// Mean peak coronary velocity over the beat (APV), cm/s.
    pub apv_cm_s: f64,
    /// Mean peak coronary velocity over diastole, cm/s.
    pub diastolic_apv_cm_s: f64,
    /// Mean peak coronary velocity over the wave-free period, cm/s.
    pub wfp_ipv_cm_s: f64,
    /// Mean aortic pressure over the beat, mmHg.
    pub mean_pa_mmhg: f64,
    /// Mean distal coronary pressure over the beat, mmHg.
    pub mean_pd_mmhg: f64,
    /// Mean aortic pressure over diastole, mmHg.
    pub diastolic_pa_mmhg: f64,
    /// Mean distal pressure over diastole, mmHg.
    pub diastolic_pd_mmhg: f64,
    /// Mean distal pressure over the wave-free period, mmHg.
    pub wfp_pd_mmhg: f64,
    /// LV end-systolic elastance, mmHg/mL: the ESPVR's slope at V0 (for a nonlinear passive relation, lower
    /// than the slope of a line fitted over the volumes a preload reduction spans: fit that line through the
    /// beats' [`BeatTruth::end_systolic_point`]s instead).
    pub ees_mmhg_per_ml: f64,
    /// LV unstressed volume, mL.
    pub v0_ml: f64,
    /// Whether the IABP balloon inflated during the beat (its volume rose; a deflation carried over from the
    /// beat before does not count).
    pub balloon_inflated: bool,
    /// LV volume and pressure (mL, mmHg) at the beat's peak LV activation: a point of the true ESPVR (the
    /// chamber's `P = EA (V - V0) + passive(V - V0)` at full activation).
    pub end_systolic_point: (f64, f64),
}

impl BeatTruth {
    /// Length of the beat, s.
    pub fn rr_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// Whether the beat ejected (its aortic valve opened): a beat that does not eject has no arterial pulse.
    pub fn ejected(&self) -> bool {
        self.valve_open_s.is_some()
    }
}

/// What the tracker keeps of each sample of the current beat.
#[derive(Clone, Copy, Debug)]
struct Kept {
    time_s: f64,
    lv_mmhg: f64,
    lv_ml: f64,
    lv_activation: f64,
    pa_mmhg: f64,
    pd_mmhg: f64,
    ipv_cm_s: f64,
    valve_open: bool,
    balloon_ml: f64,
}

/// Turns a run's [`Truth`] samples, in order, into [`BeatTruth`]s (one per complete beat; the partial beat
/// before the run's first R wave is skipped).
#[derive(Clone, Debug)]
pub struct BeatTruthTracker {
    wfp_start_fraction: f64,
    wfp_end_margin_s: f64,
    beat_number: Option<u64>,
    beat_kind: BeatKind,
    started: bool,
    samples: Vec<Kept>,
    ees_mmhg_per_ml: f64,
    v0_ml: f64,
}

impl BeatTruthTracker {
    /// A tracker whose wave-free period starts `wfp_start_fraction` into diastole and ends `wfp_end_margin_s`
    /// before its end (ENDPOINTS.md: 0.25 and 5 ms).
    pub fn new(wfp_start_fraction: f64, wfp_end_margin_s: f64) -> BeatTruthTracker {
        BeatTruthTracker {
            wfp_start_fraction,
            wfp_end_margin_s,
            beat_number: None,
            beat_kind: BeatKind::Sinus,
            started: false,
            samples: Vec::new(),
            ees_mmhg_per_ml: 0.0,
            v0_ml: 0.0,
        }
    }

    /// Takes the next sample's truth; returns the beat it completes, if any.
    pub fn push(&mut self, truth: &Truth) -> Option<BeatTruth> {
        let kept = Kept {
            time_s: truth.time_s,
            lv_mmhg: truth.lv_pressure_mmhg,
            lv_ml: truth.lv_volume_ml,
            lv_activation: truth.lv_activation,
            pa_mmhg: truth.aortic_pressure_mmhg,
            pd_mmhg: truth.distal_pressure_mmhg,
            ipv_cm_s: truth.coronary_peak_velocity_cm_s,
            valve_open: truth.aortic_valve_open,
            balloon_ml: truth.iabp_volume_ml,
        };
        self.ees_mmhg_per_ml = truth.lv_ees_mmhg_per_ml;
        self.v0_ml = truth.lv_v0_ml;
        match self.beat_number.replace(truth.beat_number) {
            // The run starts inside a beat whose R wave was not seen: wait for the first one.
            None => None,
            Some(number) if number != truth.beat_number => {
                let done = if self.started {
                    self.beat(number, kept.time_s)
                } else {
                    None
                };
                self.beat_kind = truth.beat_kind;
                self.samples.clear();
                self.samples.push(kept);
                self.started = true;
                done
            }
            Some(_) => {
                if self.started {
                    self.samples.push(kept);
                }
                None
            }
        }
    }

    /// The beat of the kept samples, ending at `end_s` (`None` for the partial beat at the start of a run).
    fn beat(&self, number: u64, end_s: f64) -> Option<BeatTruth> {
        let s = &self.samples;
        if s.len() < 3 {
            return None;
        }
        let dt_s = 1.0 / OUTPUT_RATE_HZ;
        let start_s = s[0].time_s;
        let open = s
            .windows(2)
            .position(|w| !w[0].valve_open && w[1].valve_open)
            .map(|i| i + 1);
        let close = open.and_then(|o| {
            s[o..]
                .windows(2)
                .position(|w| w[0].valve_open && !w[1].valve_open)
                .map(|i| o + i + 1)
        });
        // The beat's own relaxation: after its own contraction (dP/dt max). A beat that starts early (AF, an
        // ectopic) begins while the previous beat still relaxes, whose dP/dt min is not this beat's.
        let slope = |i: usize| s[i + 1].lv_mmhg - s[i - 1].lv_mmhg;
        let dpdt_max = (1..s.len() - 1)
            .max_by(|&a, &b| slope(a).total_cmp(&slope(b)))
            .unwrap_or(1);
        let dpdt_min = (dpdt_max..s.len() - 1)
            .min_by(|&a, &b| slope(a).total_cmp(&slope(b)))
            .unwrap_or(dpdt_max);
        let systole_end = close.unwrap_or(dpdt_min);
        let diastole_s = end_s - s[systole_end].time_s;
        let wfp_from_s = s[systole_end].time_s + self.wfp_start_fraction * diastole_s;
        let wfp_to_s = end_s - self.wfp_end_margin_s;
        let mean = |from_s: f64, to_s: f64, value: fn(&Kept) -> f64| -> f64 {
            let (sum, n) = s
                .iter()
                .filter(|k| k.time_s >= from_s - 0.5 * dt_s && k.time_s < to_s - 0.5 * dt_s)
                .fold((0.0, 0usize), |(sum, n), k| (sum + value(k), n + 1));
            if n == 0 { f64::NAN } else { sum / n as f64 }
        };
        let diastole_from_s = s[systole_end].time_s;
        let peak = s
            .iter()
            .max_by(|a, b| a.lv_activation.total_cmp(&b.lv_activation))
            .unwrap_or(&s[0]);
        Some(BeatTruth {
            number,
            start_s,
            end_s,
            kind: self.beat_kind,
            valve_open_s: open.map(|i| s[i].time_s),
            valve_close_s: close.map(|i| s[i].time_s),
            dpdt_min_s: s[dpdt_min].time_s,
            systole_end_s: diastole_from_s,
            wave_free_s: (wfp_from_s, wfp_to_s),
            apv_cm_s: mean(start_s, end_s, |k| k.ipv_cm_s),
            diastolic_apv_cm_s: mean(diastole_from_s, end_s, |k| k.ipv_cm_s),
            wfp_ipv_cm_s: mean(wfp_from_s, wfp_to_s, |k| k.ipv_cm_s),
            mean_pa_mmhg: mean(start_s, end_s, |k| k.pa_mmhg),
            mean_pd_mmhg: mean(start_s, end_s, |k| k.pd_mmhg),
            diastolic_pa_mmhg: mean(diastole_from_s, end_s, |k| k.pa_mmhg),
            diastolic_pd_mmhg: mean(diastole_from_s, end_s, |k| k.pd_mmhg),
            wfp_pd_mmhg: mean(wfp_from_s, wfp_to_s, |k| k.pd_mmhg),
            ees_mmhg_per_ml: self.ees_mmhg_per_ml,
            v0_ml: self.v0_ml,
            balloon_inflated: s.windows(2).any(|w| w[1].balloon_ml > w[0].balloon_ml + 0.01),
            end_systolic_point: (peak.lv_ml, peak.lv_mmhg),
        })
    }
}
