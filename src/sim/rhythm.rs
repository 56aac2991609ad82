//! Timing: the beat clock (when each heart beat starts and how long it lasts) and mechanical ventilation
//! (intrathoracic pressure and respiratory sinus arrhythmia).
//!
//! The reference implementation takes the activation modulo a fixed RR. Here each beat has its own RR (the
//! ventilator modulates it), so a chamber's activation is its twitch in the current beat plus the tail of
//! its twitch in the previous beat; with a constant RR this is exactly the modulo form.

use super::patient::Chamber;

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
}

impl BeatClock {
    /// A clock whose first beat starts at `start_s`, every beat lasting `rr_s` until told otherwise.
    pub fn new(start_s: f64, rr_s: f64) -> BeatClock {
        BeatClock {
            prev_rr_s: rr_s,
            start_s,
            rr_s,
            next_rr_s: rr_s,
            num_beats_started: 1,
        }
    }

    /// Seconds since the start of the beat containing `t_s`, and the RR of the beat before that one. Valid for
    /// times up to the end of the next beat (integration stages look at most one step ahead).
    pub fn locate(&self, t_s: f64) -> (f64, f64) {
        let s = t_s - self.start_s;
        if s >= self.rr_s {
            (s - self.rr_s, self.rr_s)
        } else {
            (s, self.prev_rr_s)
        }
    }

    /// Activation (0..1) of `chamber` at `t_s`.
    pub fn activation(&self, chamber: &Chamber, t_s: f64) -> f64 {
        let (s, prev_rr_s) = self.locate(t_s);
        (chamber.twitch(s) + chamber.twitch(s + prev_rr_s)).clamp(0.0, 1.0)
    }

    /// Moves to the next beat if `t_s` has reached it; the beat after that will last `following_rr_s`.
    /// Returns whether a new beat started.
    pub fn advance(&mut self, t_s: f64, following_rr_s: f64) -> bool {
        if t_s < self.start_s + self.rr_s {
            return false;
        }
        self.prev_rr_s = self.rr_s;
        self.start_s += self.rr_s;
        self.rr_s = self.next_rr_s;
        self.next_rr_s = following_rr_s;
        self.num_beats_started += 1;
        true
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

    /// Inspiratory drive 0..1 at `t_s` (1 at end-inspiration).
    pub fn drive(&self, t_s: f64) -> f64 {
        if t_s < self.start_s || t_s >= self.end_s {
            return 0.0;
        }
        let period_s = 60.0 / BREATHS_PER_MIN;
        let phase = ((t_s - self.start_s) / period_s).fract();
        let third = 1.0 / 3.0;
        if phase < third {
            0.5 * (1.0 - (std::f64::consts::PI * phase / third).cos())
        } else if phase < 2.0 * third {
            0.5 * (1.0 + (std::f64::consts::PI * (phase - third) / third).cos())
        } else {
            0.0
        }
    }

    /// Intrathoracic pressure above atmospheric at `t_s`, mmHg.
    pub fn intrathoracic_mmhg(&self, t_s: f64) -> f64 {
        PEAK_INTRATHORACIC_MMHG * self.drive(t_s)
    }

    /// The RR of a beat starting at `t_s` for a resting RR of `rr_s` (shorter during inspiration).
    pub fn modulated_rr_s(&self, rr_s: f64, t_s: f64) -> f64 {
        rr_s * (1.0 - RR_MODULATION * self.drive(t_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::patient::Patient;

    #[test]
    fn constant_rr_activation_equals_the_modulo_form() {
        let patient = Patient::healthy();
        let mut clock = BeatClock::new(0.0, 0.8);
        for i in 0..4000 {
            let t = i as f64 * 0.001;
            clock.advance(t, 0.8);
            let modulo = patient.lv.twitch(t.rem_euclid(0.8));
            assert!(
                (clock.activation(&patient.lv, t) - modulo).abs() < 1e-12,
                "t = {t}"
            );
        }
        assert_eq!(clock.num_beats_started(), 5);
    }

    #[test]
    fn a_twitch_longer_than_the_beat_continues_into_the_next() {
        let shock = Patient::cardiogenic_shock();
        let clock = BeatClock::new(0.0, 0.6);
        // The atria start 0.48 s into the beat and twitch for 0.26 s: the tail lies in the next beat.
        let tail = clock.activation(&shock.la, 0.6 + 0.1);
        assert!((tail - shock.la.twitch(0.7)).abs() < 1e-12 && tail > 0.0);
    }

    #[test]
    fn ventilation_finishes_its_breath_when_stopped() {
        let mut vent = Ventilation::starting(1.0);
        assert_eq!(vent.drive(0.5), 0.0);
        let period = 60.0 / BREATHS_PER_MIN;
        assert!((vent.drive(1.0 + period / 3.0) - 1.0).abs() < 1e-9);
        vent.stop(1.0 + 0.2 * period);
        assert!(vent.is_running(1.0 + 0.9 * period));
        assert!(!vent.is_running(1.0 + period));
        assert_eq!(vent.drive(1.0 + period + period / 3.0), 0.0);
    }
}
