//! Timing: the beat clock (when each heart beat starts and how long it lasts), the rhythm that decides each
//! beat's RR and kind (sinus, atrial fibrillation, ventricular ectopics, pacing), and mechanical ventilation
//! (intrathoracic pressure and respiratory sinus arrhythmia).
//!
//! The reference implementation takes the activation modulo a fixed RR. Here each beat has its own RR (the
//! ventilator modulates it, the rhythm draws it), so a chamber's activation is its twitch in the current beat
//! plus the tail of its twitch in the previous beat; with a constant RR this is exactly the modulo form.
//!
//! Rhythm disorders are common on VA-ECMO and the analysis must hold on them, so the simulated patient has them:
//! - atrial fibrillation: no atrial contraction and an irregularly irregular RR, a renewal process (each RR
//!   independent of the others). The RR is a refractory period plus the time for [`AF_SUMMED_IMPULSES`] atrial
//!   impulses, arriving at random (Poisson), to reach the AV node: the random-bombardment AV node model of Cohen,
//!   Berger & Dushane (IEEE Trans Biomed Eng 1983;30:769-781) reduced to its renewal form. The RR distribution is
//!   unimodal and wide (coefficient of variation about 0.22 at 110/min, within the 0.15-0.30 reported in AF).
//!   Stroke volume then varies beat to beat through filling alone (the circulation's equations), and a short
//!   RR can leave the aortic valve shut;
//! - ventricular ectopics: a premature beat at [`ECTOPIC_COUPLING`] of the sinus RR with a full compensatory pause
//!   (the sinus node is not reset: the ectopic cycle ends two sinus RRs after the last sinus beat), contracting
//!   at [`ECTOPIC_STRENGTH`] of a sinus beat (a wide, asynchronous QRS); little filling, so often non-ejecting;
//! - ventricular pacing: a fixed RR (no respiratory variation), atrial contraction kept (dual-chamber pacing).

use std::sync::LazyLock;

use super::patient::Chamber;
use super::rng::Rng;

/// Cells of the tabulated half-cosine.
const HALF_COSINE_CELLS: usize = 4096;

/// The rising half-cosine `g(x) = (1 - cos(pi x)) / 2` on `[0, 1]`, tabulated as one cubic per cell (Hermite:
/// value and slope exact at the cell's ends). A chamber's contraction is `g(t / TC)` and its relaxation
/// `1 - g(t / TR)`; the table spares a cosine per chamber per half substep, which was the simulator's largest
/// single cost. Interpolation error at most `h^4 / 384 x max|g(4)| = 4096^-4 / 384 x pi^4 / 2 = 4.5e-16`:
/// floating-point noise, and no cell straddles a corner of the twitch (each phase has its own argument).
#[derive(Clone, Debug, PartialEq)]
pub struct HalfCosine {
    /// Per cell: `g`, then the cubic's coefficients of `u`, `u^2`, `u^3` (`u` in `[0, 1)` across the cell).
    cells: Vec<[f64; 4]>,
}

/// The one table every part of the simulator uses ([`HalfCosine::shared`]).
static SHARED_HALF_COSINE: LazyLock<HalfCosine> = LazyLock::new(HalfCosine::new);

impl HalfCosine {
    /// The table.
    pub fn new() -> HalfCosine {
        let n = HALF_COSINE_CELLS as f64;
        // Value and slope per cell width at each node.
        let node = |i: usize| {
            let angle = std::f64::consts::PI * (i as f64 / n);
            (
                0.5 * (1.0 - angle.cos()),
                0.5 * std::f64::consts::PI * angle.sin() / n,
            )
        };
        let cells = (0..HALF_COSINE_CELLS)
            .map(|i| {
                let ((y0, d0), (y1, d1)) = (node(i), node(i + 1));
                [y0, d0, 3.0 * (y1 - y0) - 2.0 * d0 - d1, 2.0 * (y0 - y1) + d0 + d1]
            })
            .collect();
        HalfCosine { cells }
    }

    /// `g(x)` for `x` in `[0, 1]` (clamped to it).
    #[inline]
    pub fn rise(&self, x: f64) -> f64 {
        let position = x.clamp(0.0, 1.0) * HALF_COSINE_CELLS as f64;
        // The cell by a cast through `i64` (the conversions to and from `usize` are several instructions on the
        // baseline x86-64 target, these one each).
        let cell = (position as i64).min(HALF_COSINE_CELLS as i64 - 1);
        let u = position - cell as f64;
        let [c0, c1, c2, c3] = self.cells[cell as usize];
        c0 + u * (c1 + u * (c2 + u * c3))
    }

    /// The table, made once for the process (128 KiB).
    pub fn shared() -> &'static HalfCosine {
        &SHARED_HALF_COSINE
    }

    /// `cos(2 pi turns)`, through the table: `turns` reduced to a turn `r` by a cast (as the library's `cos`
    /// reduces its argument), then `cos(pi w) = 1 - 2 g(w)` with `w = 2 r` on `[0, 1]`, mirrored about `w = 1`.
    /// Within 2e-15 of the library's for a turn in the tenth. Without branches.
    #[inline(always)]
    pub fn cos_turns(&self, turns: f64) -> f64 {
        let r = turns - turns as i64 as f64;
        let r = r + f64::from(u8::from(r < 0.0));
        let w = 2.0 * r;
        1.0 - 2.0 * self.rise(w.min(2.0 - w))
    }

    /// `sin(2 pi turns) = cos(2 pi (turns - 1/4))` ([`HalfCosine::cos_turns`]).
    #[inline(always)]
    pub fn sin_turns(&self, turns: f64) -> f64 {
        self.cos_turns(turns - 0.25)
    }
}

impl Default for HalfCosine {
    fn default() -> HalfCosine {
        HalfCosine::new()
    }
}

/// A chamber's twitch, the activation of one beat (Regazzoni et al.): a raised-cosine contraction of TC
/// starting `onset_s` after the beat starts, then a raised-cosine relaxation of TR, 0 outside; its constants
/// (reciprocals of TC and TR) precomputed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Twitch {
    onset_s: f64,
    contraction_s: f64,
    end_s: f64,
    per_contraction_s: f64,
    per_relaxation_s: f64,
}

impl Twitch {
    /// The twitch of `chamber`.
    pub fn of(chamber: &Chamber) -> Twitch {
        Twitch {
            onset_s: chamber.onset_s,
            contraction_s: chamber.contraction_s,
            end_s: chamber.contraction_s + chamber.relaxation_s,
            per_contraction_s: 1.0 / chamber.contraction_s,
            per_relaxation_s: 1.0 / chamber.relaxation_s,
        }
    }

    /// Activation (0..1) of one beat `s` seconds after that beat started.
    #[inline(always)]
    pub fn at(&self, shape: &HalfCosine, s: f64) -> f64 {
        let x = s - self.onset_s;
        if !(0.0..self.end_s).contains(&x) {
            0.0
        } else if x < self.contraction_s {
            shape.rise(x * self.per_contraction_s)
        } else {
            1.0 - shape.rise((x - self.contraction_s) * self.per_relaxation_s)
        }
    }
}

/// Atrial impulses summed at the AV node per conducted beat in atrial fibrillation (the shape of the RR
/// distribution: its variable part has a coefficient of variation of 1/sqrt(4)).
pub const AF_SUMMED_IMPULSES: u32 = 4;
/// AV-node refractory period as a fraction of the mean RR in atrial fibrillation (at least
/// [`AF_MIN_REFRACTORY_S`]).
const AF_REFRACTORY_FRACTION: f64 = 0.55;
/// Shortest AV-node refractory period, s (no conducted RR is shorter).
pub const AF_MIN_REFRACTORY_S: f64 = 0.3;
/// Coupling interval of a ventricular ectopic as a fraction of the sinus RR.
pub const ECTOPIC_COUPLING: f64 = 0.6;
/// Ventricular contraction of an ectopic beat relative to a sinus beat.
pub const ECTOPIC_STRENGTH: f64 = 0.8;

/// The heart's rhythm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rhythm {
    /// Sinus rhythm at the patient's rate (with respiratory sinus arrhythmia under ventilation).
    Sinus,
    /// Atrial fibrillation with this mean ventricular rate.
    AtrialFibrillation {
        /// Mean ventricular rate, beats/min.
        mean_rate_bpm: f64,
    },
    /// Sinus rhythm with ventricular premature beats (never two in a row).
    VentricularEctopics {
        /// Ectopic beats per 100 beats.
        per_100_beats: f64,
    },
    /// Paced at a fixed rate.
    Paced {
        /// Pacing rate, beats/min.
        rate_bpm: f64,
    },
}

/// What `--rhythm` could not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown rhythm `{0}`: give sinus, af[:RATE_BPM], ectopics[:PER_100_BEATS] or paced[:RATE_BPM]")]
pub struct RhythmParseError(String);

impl std::str::FromStr for Rhythm {
    type Err = RhythmParseError;

    /// `sinus`, `af[:RATE]` (default 110/min), `ectopics[:PER_100]` (default 10), `paced[:RATE]` (default 80/min).
    fn from_str(text: &str) -> Result<Rhythm, RhythmParseError> {
        let error = || RhythmParseError(text.to_owned());
        let (name, value) = match text.split_once(':') {
            Some((name, value)) => {
                let value: f64 = value.trim().parse().map_err(|_| error())?;
                (name.trim(), Some(value))
            }
            None => (text.trim(), None),
        };
        let rhythm = match name {
            "sinus" if value.is_none() => Rhythm::Sinus,
            "af" => Rhythm::AtrialFibrillation {
                mean_rate_bpm: value.unwrap_or(110.0),
            },
            "ectopics" => Rhythm::VentricularEctopics {
                per_100_beats: value.unwrap_or(10.0),
            },
            "paced" => Rhythm::Paced {
                rate_bpm: value.unwrap_or(80.0),
            },
            _ => return Err(error()),
        };
        let plausible = match rhythm {
            Rhythm::Sinus => true,
            Rhythm::AtrialFibrillation { mean_rate_bpm: rate } | Rhythm::Paced { rate_bpm: rate } => {
                (30.0..=180.0).contains(&rate)
            }
            Rhythm::VentricularEctopics { per_100_beats } => (0.0..=40.0).contains(&per_100_beats),
        };
        if plausible { Ok(rhythm) } else { Err(error()) }
    }
}

/// What started a beat (the R wave's origin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BeatKind {
    /// Conducted from the sinus node (P wave before the QRS).
    #[default]
    Sinus,
    /// Conducted through the AV node in atrial fibrillation (no P wave, no atrial contraction).
    Fibrillation,
    /// A ventricular premature beat (no P wave, wide QRS).
    Ectopic,
    /// A paced ventricular beat (pacing spike, wide QRS).
    Paced,
}

impl BeatKind {
    /// Stable key (`sinus`, `af`, `ectopic`, `paced`), as in `heracles simulate --truth`.
    pub fn key(self) -> &'static str {
        match self {
            BeatKind::Sinus => "sinus",
            BeatKind::Fibrillation => "af",
            BeatKind::Ectopic => "ectopic",
            BeatKind::Paced => "paced",
        }
    }

    /// How strongly a chamber contracts in a beat of this kind, relative to a sinus beat.
    pub fn strength(self, atrial: bool) -> f64 {
        match (self, atrial) {
            (BeatKind::Fibrillation, true) => 0.0,
            (BeatKind::Ectopic, false) => ECTOPIC_STRENGTH,
            _ => 1.0,
        }
    }
}

/// Draws each beat's kind and RR for a [`Rhythm`]; deterministic given its seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RhythmGenerator {
    rhythm: Rhythm,
    rng: Rng,
    /// The ectopic beat that follows a shortened sinus beat.
    pending: Option<(BeatKind, f64)>,
    /// The beat after an ectopic is sinus.
    after_ectopic: bool,
}

impl RhythmGenerator {
    /// A generator for `rhythm` whose draws are fixed by `seed`.
    pub fn new(rhythm: Rhythm, seed: u64) -> RhythmGenerator {
        RhythmGenerator {
            rhythm,
            // Its own stream: the sensors' noise draws from the same seed.
            rng: Rng::new(seed ^ 0x5248_5954_484d_0001),
            pending: None,
            after_ectopic: false,
        }
    }

    /// The rhythm.
    pub fn rhythm(&self) -> Rhythm {
        self.rhythm
    }

    /// Kind and RR of the first beat, for a sinus RR of `sinus_rr_s` (no draw: the first beats settle unobserved).
    pub fn first(&self, sinus_rr_s: f64) -> (BeatKind, f64) {
        match self.rhythm {
            Rhythm::Sinus | Rhythm::VentricularEctopics { .. } => (BeatKind::Sinus, sinus_rr_s),
            Rhythm::AtrialFibrillation { mean_rate_bpm } => (BeatKind::Fibrillation, 60.0 / mean_rate_bpm),
            Rhythm::Paced { rate_bpm } => (BeatKind::Paced, 60.0 / rate_bpm),
        }
    }

    /// Kind and RR of the next beat; `sinus_rr_s` is the sinus RR now (the ventilator modulates it).
    pub fn next(&mut self, sinus_rr_s: f64) -> (BeatKind, f64) {
        match self.rhythm {
            Rhythm::Sinus => (BeatKind::Sinus, sinus_rr_s),
            Rhythm::Paced { rate_bpm } => (BeatKind::Paced, 60.0 / rate_bpm),
            Rhythm::AtrialFibrillation { mean_rate_bpm } => {
                let mean_rr_s = 60.0 / mean_rate_bpm;
                let refractory_s = (AF_REFRACTORY_FRACTION * mean_rr_s)
                    .max(AF_MIN_REFRACTORY_S)
                    .min(mean_rr_s);
                let k = f64::from(AF_SUMMED_IMPULSES);
                let rate_per_s = k / (mean_rr_s - refractory_s).max(1e-3);
                // Erlang(k): the sum of k exponential waiting times.
                let wait_s: f64 = (0..AF_SUMMED_IMPULSES)
                    .map(|_| -(1.0 - self.rng.uniform()).ln() / rate_per_s)
                    .sum();
                (BeatKind::Fibrillation, refractory_s + wait_s)
            }
            Rhythm::VentricularEctopics { per_100_beats } => {
                if let Some(ectopic) = self.pending.take() {
                    self.after_ectopic = true;
                    return ectopic;
                }
                if !std::mem::take(&mut self.after_ectopic) && self.rng.uniform() < per_100_beats / 100.0 {
                    // This sinus beat is cut short by the ectopic, whose cycle ends where the second sinus beat
                    // would have started (full compensatory pause).
                    self.pending = Some((BeatKind::Ectopic, (2.0 - ECTOPIC_COUPLING) * sinus_rr_s));
                    return (BeatKind::Sinus, ECTOPIC_COUPLING * sinus_rr_s);
                }
                (BeatKind::Sinus, sinus_rr_s)
            }
        }
    }
}

/// Breaths per minute of the ventilator.
const BREATHS_PER_MIN: f64 = 14.0;
/// Peak rise of intrathoracic pressure at end-inspiration under positive-pressure ventilation, mmHg.
const PEAK_INTRATHORACIC_MMHG: f64 = 5.0;
/// Relative shortening of RR at end-inspiration (respiratory sinus arrhythmia).
const RR_MODULATION: f64 = 0.03;

/// When the current beat started and how long it and its neighbours last.
#[derive(Clone, Debug, PartialEq)]
pub struct BeatClock {
    prev_rr_s: f64,
    start_s: f64,
    rr_s: f64,
    next_rr_s: f64,
    num_beats_started: u64,
    /// Kinds of the previous, current and next beats.
    kinds: [BeatKind; 3],
}

impl BeatClock {
    /// A clock whose first beat starts at `start_s`, every beat of `kind` lasting `rr_s` until told otherwise.
    pub fn new(start_s: f64, rr_s: f64, kind: BeatKind) -> BeatClock {
        BeatClock {
            prev_rr_s: rr_s,
            start_s,
            rr_s,
            next_rr_s: rr_s,
            num_beats_started: 1,
            kinds: [kind; 3],
        }
    }

    /// Where `t_s` falls: in the current beat or the next (integration stages look at most one step ahead).
    pub fn at(&self, t_s: f64) -> BeatTime {
        let s = t_s - self.start_s;
        if s >= self.rr_s {
            BeatTime {
                s: s - self.rr_s,
                prev_rr_s: self.rr_s,
                kinds: [self.kinds[1], self.kinds[2]],
            }
        } else {
            BeatTime {
                s,
                prev_rr_s: self.prev_rr_s,
                kinds: [self.kinds[0], self.kinds[1]],
            }
        }
    }

    /// Whether `t_s` has reached the start of the next beat.
    pub fn is_due(&self, t_s: f64) -> bool {
        t_s >= self.start_s + self.rr_s
    }

    /// Moves to the next beat if `t_s` has reached it; the beat after that will be `following` (its kind and
    /// RR). Returns whether a new beat started.
    pub fn advance(&mut self, t_s: f64, following: (BeatKind, f64)) -> bool {
        if !self.is_due(t_s) {
            return false;
        }
        self.prev_rr_s = self.rr_s;
        self.start_s += self.rr_s;
        self.rr_s = self.next_rr_s;
        self.next_rr_s = following.1;
        self.kinds = [self.kinds[1], self.kinds[2], following.0];
        self.num_beats_started += 1;
        true
    }

    /// Kinds of the previous, current and next beats.
    pub fn kinds(&self) -> [BeatKind; 3] {
        self.kinds
    }

    /// Start of the current beat, s.
    pub fn start_s(&self) -> f64 {
        self.start_s
    }

    /// RR of the current beat, s.
    pub fn rr_s(&self) -> f64 {
        self.rr_s
    }

    /// RR of the next beat, s (already decided).
    pub fn next_rr_s(&self) -> f64 {
        self.next_rr_s
    }

    /// RR of the previous beat, s.
    pub fn prev_rr_s(&self) -> f64 {
        self.prev_rr_s
    }

    /// Beats started so far, counting the first.
    pub fn num_beats_started(&self) -> u64 {
        self.num_beats_started
    }
}

/// An instant on the beat clock ([`BeatClock::at`]): taken once for all the chambers' activations there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatTime {
    /// Seconds since the start of the beat containing the instant.
    pub s: f64,
    /// RR of the beat before that one, s.
    pub prev_rr_s: f64,
    /// Kinds of the beat before and of the beat containing the instant.
    pub kinds: [BeatKind; 2],
}

impl BeatTime {
    /// Activation (0..1) of a chamber with twitch `twitch` (an atrium when `atrial`): its twitch in this beat
    /// plus the tail of its twitch in the beat before, each scaled by its kind's [`BeatKind::strength`].
    #[inline(always)]
    pub fn activation(&self, twitch: &Twitch, shape: &HalfCosine, atrial: bool) -> f64 {
        let [prev, current] = self.kinds;
        (current.strength(atrial) * twitch.at(shape, self.s)
            + prev.strength(atrial) * twitch.at(shape, self.s + self.prev_rr_s))
        .clamp(0.0, 1.0)
    }
}

/// Mechanical ventilation: when it runs, breaths start every 60/14 s from `start_s`, each raising the
/// intrathoracic pressure during inspiration (a third of the cycle) and letting it fall in early expiration.
/// Switching it off lets the current breath finish.
#[derive(Clone, Debug, PartialEq)]
pub struct Ventilation {
    start_s: f64,
    end_s: f64,
}

impl Ventilation {
    /// Breathing from `start_s` until switched off.
    pub fn starting(start_s: f64) -> Ventilation {
        Ventilation {
            start_s,
            end_s: f64::INFINITY,
        }
    }

    /// Stops at the end of the breath running at `now_s`.
    pub fn stop(&mut self, now_s: f64) {
        let period_s = 60.0 / BREATHS_PER_MIN;
        let num_breaths = ((now_s - self.start_s) / period_s).max(0.0).ceil();
        self.end_s = self.end_s.min(self.start_s + num_breaths * period_s);
    }

    /// Whether breaths are still being delivered (or due) at `t_s`.
    pub fn is_running(&self, t_s: f64) -> bool {
        t_s < self.end_s
    }

    /// Inspiratory drive 0..1 at `t_s` (1 at end-inspiration): a raised-cosine rise over the first third of the
    /// breath and a raised-cosine fall over the second, through `shape` (the chambers' tabulated half-cosine).
    #[inline(always)]
    pub fn drive(&self, shape: &HalfCosine, t_s: f64) -> f64 {
        if t_s < self.start_s || t_s >= self.end_s {
            return 0.0;
        }
        let breaths = (t_s - self.start_s) * (BREATHS_PER_MIN / 60.0);
        // Thirds of the breath under way; the cast truncates (`fract` is a library call on the baseline target,
        // a cast through `u64` several instructions, through `i64` one).
        let thirds = 3.0 * (breaths - breaths as i64 as f64);
        if thirds < 1.0 {
            shape.rise(thirds)
        } else if thirds < 2.0 {
            1.0 - shape.rise(thirds - 1.0)
        } else {
            0.0
        }
    }

    /// Intrathoracic pressure above atmospheric at `t_s`, mmHg.
    #[inline(always)]
    pub fn intrathoracic_mmhg(&self, shape: &HalfCosine, t_s: f64) -> f64 {
        PEAK_INTRATHORACIC_MMHG * self.drive(shape, t_s)
    }

    /// The RR of a beat starting at `t_s` for a resting RR of `rr_s` (shorter during inspiration).
    pub fn modulated_rr_s(&self, shape: &HalfCosine, rr_s: f64, t_s: f64) -> f64 {
        rr_s * (1.0 - RR_MODULATION * self.drive(shape, t_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::patient::Patient;

    /// The published twitch, by its cosines.
    fn raised_cosine_pair(chamber: &Chamber, s: f64) -> f64 {
        let pi = std::f64::consts::PI;
        let x = s - chamber.onset_s;
        if x < 0.0 {
            0.0
        } else if x < chamber.contraction_s {
            0.5 * (1.0 - (pi * x / chamber.contraction_s).cos())
        } else if x < chamber.contraction_s + chamber.relaxation_s {
            0.5 * (1.0 + (pi * (x - chamber.contraction_s) / chamber.relaxation_s).cos())
        } else {
            0.0
        }
    }

    #[test]
    fn tabulated_twitch_is_the_raised_cosine_pair_to_rounding() {
        let shape = HalfCosine::new();
        let mut worst: f64 = 0.0;
        let shock = Patient::cardiogenic_shock();
        for chamber in [Patient::healthy().lv, shock.la, shock.lv, shock.rv] {
            let twitch = Twitch::of(&chamber);
            // Off-grid times, corners included.
            for i in 0..200_000 {
                let s = i as f64 * 4.1e-6;
                worst = worst.max((twitch.at(&shape, s) - raised_cosine_pair(&chamber, s)).abs());
            }
            let corner = chamber.onset_s + chamber.contraction_s;
            assert!((twitch.at(&shape, corner) - 1.0).abs() < 1e-15);
        }
        assert!(worst < 2e-15, "worst difference {worst:e}");
        let lv = Twitch::of(&Patient::healthy().lv);
        assert_eq!(lv.at(&shape, 0.05), 0.0);
        assert_eq!(lv.at(&shape, 0.76), 0.0);
    }

    #[test]
    fn sine_and_cosine_in_turns_are_the_library_s_to_rounding() {
        let shape = HalfCosine::shared();
        let sine = |turns: f64| (std::f64::consts::TAU * turns).sin();
        let mut worst: f64 = 0.0;
        for i in 0..200_000 {
            let turns = f64::from(i) / 200_000.0;
            worst = worst.max((shape.cos_turns(turns) - (std::f64::consts::TAU * turns).cos()).abs());
        }
        assert!(worst < 2e-15, "cosine: worst difference {worst:e}");
        // Off-grid turns over two turns, both signs, and the quarters where the mirror and the reduction meet.
        for i in -200_000..200_000 {
            let turns = f64::from(i) * 5.1e-6;
            worst = worst.max((shape.sin_turns(turns) - sine(turns)).abs());
        }
        for quarter in -4..4 {
            let turns = f64::from(quarter) * 0.25;
            for turns in [turns, turns.next_up(), turns.next_down()] {
                worst = worst.max((shape.sin_turns(turns) - sine(turns)).abs());
            }
        }
        assert!(worst < 2e-15, "worst difference {worst:e}");
        // Far out (a day of 50 Hz hum is 4.3e6 turns) both differ by the rounding of their arguments only.
        for i in 0..10_000 {
            let turns = 4.3e6 * f64::from(i) / 10_000.0 + 0.123;
            let rounding = 4.0 * std::f64::consts::TAU * turns * f64::EPSILON;
            assert!(
                (shape.sin_turns(turns) - sine(turns)).abs() < rounding + 2e-15,
                "at {turns} turns"
            );
        }
    }

    #[test]
    fn constant_rr_activation_equals_the_modulo_form() {
        let patient = Patient::healthy();
        let (shape, lv) = (HalfCosine::new(), Twitch::of(&patient.lv));
        let mut clock = BeatClock::new(0.0, 0.8, BeatKind::Sinus);
        for i in 0..4000 {
            let t = i as f64 * 0.001;
            clock.advance(t, (BeatKind::Sinus, 0.8));
            let modulo = raised_cosine_pair(&patient.lv, t.rem_euclid(0.8));
            assert!(
                (clock.at(t).activation(&lv, &shape, false) - modulo).abs() < 1e-12,
                "t = {t}"
            );
        }
        assert_eq!(clock.num_beats_started(), 5);
    }

    #[test]
    fn a_twitch_longer_than_the_beat_continues_into_the_next() {
        let shock = Patient::cardiogenic_shock();
        let shape = HalfCosine::new();
        let clock = BeatClock::new(0.0, 0.6, BeatKind::Sinus);
        // The atria start 0.48 s into the beat and twitch for 0.26 s: the tail lies in the next beat.
        let tail = clock
            .at(0.6 + 0.1)
            .activation(&Twitch::of(&shock.la), &shape, true);
        assert!((tail - raised_cosine_pair(&shock.la, 0.7)).abs() < 1e-12 && tail > 0.0);
    }

    #[test]
    fn af_rr_is_a_wide_unimodal_renewal_process_and_ectopics_keep_the_sinus_grid() {
        let mut af = RhythmGenerator::new(Rhythm::AtrialFibrillation { mean_rate_bpm: 110.0 }, 7);
        let rrs: Vec<f64> = (0..20_000).map(|_| af.next(0.6)).map(|(_, rr)| rr).collect();
        let mean = rrs.iter().sum::<f64>() / rrs.len() as f64;
        let sd = (rrs.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / rrs.len() as f64).sqrt();
        assert!((mean - 60.0 / 110.0).abs() < 0.005, "mean RR {mean}");
        assert!((0.18..0.27).contains(&(sd / mean)), "CV {}", sd / mean);
        assert!(rrs.iter().all(|&rr| rr >= AF_MIN_REFRACTORY_S));
        // Successive RRs are uncorrelated (a renewal process).
        let lag1 = rrs.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum::<f64>()
            / ((rrs.len() - 1) as f64 * sd * sd);
        assert!(lag1.abs() < 0.03, "lag-1 correlation {lag1}");

        let mut ectopics = RhythmGenerator::new(Rhythm::VentricularEctopics { per_100_beats: 10.0 }, 7);
        let beats: Vec<(BeatKind, f64)> = (0..10_000).map(|_| ectopics.next(0.6)).collect();
        let num_ectopic = beats.iter().filter(|b| b.0 == BeatKind::Ectopic).count();
        assert!((800..1100).contains(&num_ectopic), "{num_ectopic} ectopics");
        for (i, pair) in beats.windows(2).enumerate() {
            if pair[1].0 == BeatKind::Ectopic {
                assert!(
                    (pair[0].1 + pair[1].1 - 1.2).abs() < 1e-12,
                    "beat {i}: no compensatory pause"
                );
                assert_ne!(beats[i + 2].0, BeatKind::Ectopic);
            }
        }
        assert_eq!(
            "af:90".parse(),
            Ok(Rhythm::AtrialFibrillation { mean_rate_bpm: 90.0 })
        );
        assert_eq!("paced".parse(), Ok(Rhythm::Paced { rate_bpm: 80.0 }));
        assert!("af:9000".parse::<Rhythm>().is_err() && "flutter".parse::<Rhythm>().is_err());
    }

    #[test]
    fn ventilation_drive_is_its_raised_cosine_to_rounding() {
        let shape = HalfCosine::new();
        let vent = Ventilation::starting(0.7);
        let period = 60.0 / BREATHS_PER_MIN;
        for i in 0..200_000 {
            let t = 0.7 + 3.0 * period * (f64::from(i) / 200_000.0);
            let phase = ((t - 0.7) / period).fract();
            let cosine = |x: f64| 0.5 * (1.0 - (std::f64::consts::PI * x).cos());
            let expected = if phase < 1.0 / 3.0 {
                cosine(3.0 * phase)
            } else if phase < 2.0 / 3.0 {
                1.0 - cosine(3.0 * phase - 1.0)
            } else {
                0.0
            };
            let drive = vent.drive(&shape, t);
            assert!(
                (drive - expected).abs() < 1e-13,
                "at {t}: {drive} against {expected}"
            );
        }
    }

    #[test]
    fn ventilation_finishes_its_breath_when_stopped() {
        let shape = HalfCosine::new();
        let mut vent = Ventilation::starting(1.0);
        assert_eq!(vent.drive(&shape, 0.5), 0.0);
        let period = 60.0 / BREATHS_PER_MIN;
        assert!((vent.drive(&shape, 1.0 + period / 3.0) - 1.0).abs() < 1e-9);
        vent.stop(1.0 + 0.2 * period);
        assert!(vent.is_running(1.0 + 0.9 * period));
        assert!(!vent.is_running(1.0 + period));
        assert_eq!(vent.drive(&shape, 1.0 + period + period / 3.0), 0.0);
    }
}
