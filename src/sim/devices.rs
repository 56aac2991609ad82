//! The circulatory support devices: VA-ECMO (a flow-controlled pump from the right atrium to the descending
//! aorta), the Impella (a trans-aortic-valve pump whose flow falls linearly with the aorta-LV pressure
//! difference, one line per P-level) and the IABP (a balloon in the descending aorta timed on the beat).
//!
//! Impella H-Q lines: the only published numbers used are the flow ranges per P-level of the Automated Impella
//! Controller's instructions for use (Abiomed document 0042-9023, "P-level flow rates"), read as the flows at an
//! aorta-LV difference of 20 mmHg (upper end) and 80 mmHg (lower end), the span of a beat's pressure difference
//! in the patients the table describes. For the Impella CP this gives, at 0 and 60 mmHg, L/min: P-1 1.87/0.47,
//! P-2 2.40/0.90, P-3 2.57/1.17, P-4 2.83/1.53, P-5 2.93/1.93, P-6 3.07/2.27, P-7 3.37/2.57, P-8 3.53/2.83,
//! P-9 3.97/3.17 (a test holds them). The 2.5's table was checked against a stored copy of the IFU; the CP's
//! was not, and no peer-reviewed H-Q characterisation of the CP with numbers could be found to check the slope
//! (0.012-0.025 L/min per mmHg here). Looked for (session 6): the pump function curves of Burkhoff, Sayer, Doshi
//! & Uriel, "Hemodynamics of Mechanical Circulatory Support", J Am Coll Cardiol 2015;66:2663-2674 (a figure,
//! no table of values in the copies at hand); the CP's P-level table of the AIC IFU (0042-9023: the stored
//! copies found print the 2.5's rows, the CP's are cut off); published lumped models of the CP stating their
//! H-Q coefficients (none found). So the afterload sensitivity of the simulated pump is the manufacturer's
//! table read as a line, not a measured pump curve.
//!
//! IABP: inflation adds the balloon's volume to the descending aorta (diastolic augmentation); deflation
//! withdraws it on the R wave (the consoles' R-wave deflation), so the balloon is empty before the aortic valve
//! opens. Two things lower the assisted beat's aortic end-diastolic pressure below an unassisted one (the
//! presystolic dip, 5-15 mmHg where timing is right, with a lower assisted systolic and LV end-systolic
//! pressure: Krishna & Zacharowski, Contin Educ Anaesth Crit Care Pain 2009;9:24-28; Trost & Hillis, Am J
//! Cardiol 2006;97:1391-1398): the augmented diastole ran more blood off to the periphery, and the deflation
//! empties the balloon's own segment of aorta (`patient::BalloonSegment`) faster than blood can follow through
//! the inertia of the column around it, so blood accelerates out of the rest of the aorta and the root's pressure
//! overshoots downwards as the valve opens. With the shock preset and a 40 mL balloon: 8.5 mmHg at 1:2 and 1:3
//! (assisted against unassisted beats), 15 mmHg at 1:1 against standby, with the assisted systolic and LV
//! end-systolic pressures 2-10 mmHg lower (`tests/it/sim.rs`); the lumped aorta alone (the balloon acting on the
//! whole descending aorta) gave 3.7 mmHg. Deflating late (the balloon still full when the valve would open)
//! loses the dip: the valve opens against a higher pressure than unassisted (afterload raised).

use crate::model::{IabpSettings, ImpellaModel, ImpellaSettings};

/// mL/s per L/min.
pub const ML_S_PER_L_MIN: f64 = 1000.0 / 60.0;

/// How fast the ECMO pump follows a new flow target, L/min per second (0 -> 4 L/min in 5 s).
const ECMO_RAMP_L_MIN_PER_S: f64 = 0.8;
/// Transmural pressure at the drainage cannula below which the vessel starts to collapse onto it ("chatter"),
/// mmHg.
const ECMO_DRAINAGE_LIMIT_MMHG: f64 = 1.5;

/// The VA-ECMO pump: its flow moves towards the target at a fixed rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Ecmo {
    flow_l_min: f64,
    target_l_min: f64,
}

impl Ecmo {
    /// A pump already running at `flow_l_min`.
    pub fn running_at(flow_l_min: f64) -> Ecmo {
        let flow_l_min = flow_l_min.max(0.0);
        Ecmo {
            flow_l_min,
            target_l_min: flow_l_min,
        }
    }

    /// Sets a new target flow (non-negative, NaN ignored), reached by a ramp.
    pub fn set_target(&mut self, target_l_min: f64) {
        if target_l_min.is_finite() {
            self.target_l_min = target_l_min.clamp(0.0, 8.0);
        }
    }

    /// Advances the ramp by `dt_s`.
    pub fn tick(&mut self, dt_s: f64) {
        let max_step = ECMO_RAMP_L_MIN_PER_S * dt_s;
        self.flow_l_min += (self.target_l_min - self.flow_l_min).clamp(-max_step, max_step);
    }

    /// Set flow, L/min.
    pub fn set_flow_l_min(&self) -> f64 {
        self.flow_l_min
    }

    /// Pumped flow at set flow `set_l_min` for a transmural pressure at the drainage cannula, mL/s: the set
    /// flow unless the vessel collapses onto the cannula.
    pub fn flow_ml_s(set_l_min: f64, drainage_mmhg: f64) -> f64 {
        set_l_min * ML_S_PER_L_MIN * smoothstep(drainage_mmhg * (1.0 / ECMO_DRAINAGE_LIMIT_MMHG))
    }
}

/// Pressure differences (aorta - LV) at which the published flow range of a P-level is reached: its upper end
/// at the lower difference, its lower end at the higher one.
const HQ_DELTA_P_LOW_MMHG: f64 = 20.0;
const HQ_DELTA_P_HIGH_MMHG: f64 = 80.0;

/// Flow ranges per P-level (P-1 ...), L/min: Impella 2.5, Abiomed Automated Impella Controller IFU
/// (document 0042-9023): P-1 0.0-1.1 ... P-8 2.1-2.4.
const IMPELLA_25_RANGES_L_MIN: [(f64, f64); 8] = [
    (0.0, 1.1),
    (0.8, 1.5),
    (1.1, 1.7),
    (1.3, 1.8),
    (1.5, 1.9),
    (1.7, 2.1),
    (1.8, 2.2),
    (2.1, 2.4),
];
/// Impella CP: P-1 0.0-1.4 ... P-9 2.9-3.7 L/min (up to about 4 L/min at low afterload), as the CP's IFU table
/// gives them from memory; unlike the 2.5's, this table could not be checked against a stored copy.
const IMPELLA_CP_RANGES_L_MIN: [(f64, f64); 9] = [
    (0.0, 1.4),
    (0.4, 1.9),
    (0.7, 2.1),
    (1.1, 2.4),
    (1.6, 2.6),
    (2.0, 2.8),
    (2.3, 3.1),
    (2.6, 3.3),
    (2.9, 3.7),
];
/// Backflow through the stopped pump (P-0), L/min per mmHg of aorta-LV pressure difference.
const IMPELLA_P0_BACKFLOW_L_MIN_PER_MMHG: f64 = 0.01;
/// LV volume above V0 below which the inlet starts to be sucked shut, and where flow has collapsed, mL.
const SUCTION_ONSET_ML: f64 = 15.0;
const SUCTION_FULL_ML: f64 = 3.0;
/// Time for the motor to reach a new P-level, s.
const IMPELLA_SPINUP_S: f64 = 2.0;

/// One H-Q line: `Q = q_at_zero - slope * (P_aorta - P_LV)`, L/min.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HqLine {
    /// Flow at zero pressure difference, L/min.
    pub q_at_zero_l_min: f64,
    /// Flow lost per mmHg of pressure difference, L/min/mmHg.
    pub slope_l_min_per_mmhg: f64,
}

impl HqLine {
    /// The pump switched off and removed: no flow.
    pub const OFF: HqLine = HqLine {
        q_at_zero_l_min: 0.0,
        slope_l_min_per_mmhg: 0.0,
    };

    /// The line of `settings` (P-levels above the model's highest are taken as the highest).
    pub fn of(settings: &ImpellaSettings) -> HqLine {
        let ranges: &[(f64, f64)] = match settings.model {
            ImpellaModel::Impella25 => &IMPELLA_25_RANGES_L_MIN,
            ImpellaModel::ImpellaCp => &IMPELLA_CP_RANGES_L_MIN,
        };
        if settings.p_level == 0 {
            return HqLine {
                q_at_zero_l_min: 0.0,
                slope_l_min_per_mmhg: IMPELLA_P0_BACKFLOW_L_MIN_PER_MMHG,
            };
        }
        let (low, high) = ranges[(usize::from(settings.p_level) - 1).min(ranges.len() - 1)];
        let slope = (high - low) / (HQ_DELTA_P_HIGH_MMHG - HQ_DELTA_P_LOW_MMHG);
        HqLine {
            q_at_zero_l_min: high + slope * HQ_DELTA_P_LOW_MMHG,
            slope_l_min_per_mmhg: slope,
        }
    }

    /// Flow at a pressure difference (aorta - LV), L/min.
    pub fn flow_l_min(&self, delta_p_mmhg: f64) -> f64 {
        self.q_at_zero_l_min - self.slope_l_min_per_mmhg * delta_p_mmhg
    }

    fn lerp(from: HqLine, to: HqLine, fraction: f64) -> HqLine {
        HqLine {
            q_at_zero_l_min: from.q_at_zero_l_min + (to.q_at_zero_l_min - from.q_at_zero_l_min) * fraction,
            slope_l_min_per_mmhg: from.slope_l_min_per_mmhg
                + (to.slope_l_min_per_mmhg - from.slope_l_min_per_mmhg) * fraction,
        }
    }
}

/// The Impella pump: its H-Q line moves to that of a new P-level over the motor's spin-up time.
#[derive(Clone, Debug, PartialEq)]
pub struct Impella {
    from: HqLine,
    to: HqLine,
    progress: f64,
}

impl Impella {
    /// A pump running on `line`.
    pub fn running(line: HqLine) -> Impella {
        Impella {
            from: line,
            to: line,
            progress: 1.0,
        }
    }

    /// Moves towards `line`.
    pub fn set_line(&mut self, line: HqLine) {
        self.from = self.line();
        self.to = line;
        self.progress = 0.0;
    }

    /// Advances the spin-up by `dt_s`.
    pub fn tick(&mut self, dt_s: f64) {
        self.progress = (self.progress + dt_s / IMPELLA_SPINUP_S).min(1.0);
    }

    /// The current H-Q line.
    pub fn line(&self) -> HqLine {
        HqLine::lerp(self.from, self.to, self.progress)
    }

    /// Flow for an aorta-LV pressure difference and an LV volume above V0, mL/s, and the suction factor
    /// (1 = free inflow, 0 = inlet sucked shut). Suction only limits forward flow.
    pub fn flow_ml_s(line: &HqLine, delta_p_mmhg: f64, lv_volume_above_v0_ml: f64) -> (f64, f64) {
        let free = line.flow_l_min(delta_p_mmhg) * ML_S_PER_L_MIN;
        let inflow = smoothstep(
            (lv_volume_above_v0_ml - SUCTION_FULL_ML) * (1.0 / (SUCTION_ONSET_ML - SUCTION_FULL_ML)),
        );
        if free > 0.0 {
            (free * inflow, inflow)
        } else {
            (free, inflow)
        }
    }
}

/// Balloon inflation and deflation times, s.
const BALLOON_INFLATE_S: f64 = 0.06;
const BALLOON_DEFLATE_S: f64 = 0.05;
/// Largest timing error the console accepts, ms.
const MAX_OFFSET_MS: f64 = 300.0;

/// One scheduled inflation of the balloon.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Inflation {
    inflate_s: f64,
    deflate_s: f64,
    volume_ml: f64,
}

impl Inflation {
    fn volume_at_ml(&self, t_s: f64) -> f64 {
        self.volume_ml
            * smoothstep((t_s - self.inflate_s) / BALLOON_INFLATE_S)
            * (1.0 - smoothstep((t_s - self.deflate_s) / BALLOON_DEFLATE_S))
    }

    fn is_over(&self, t_s: f64) -> bool {
        t_s >= self.deflate_s + BALLOON_DEFLATE_S
    }
}

/// The intra-aortic balloon pump. At the start of each triggering beat it schedules one inflation: at the
/// aortic-valve closure time measured on the previous unassisted closures (plus the inflation offset), deflated
/// from the next R wave (the next contraction onset; plus the deflation offset), as a console timed on the ECG
/// and the dicrotic notch does.
#[derive(Clone, Debug, PartialEq)]
pub struct Iabp {
    settings: Option<IabpSettings>,
    inflations: [Option<Inflation>; 2],
    closure_after_beat_start_s: Option<f64>,
}

impl Iabp {
    /// A balloon that is not pumping.
    pub fn idle() -> Iabp {
        Iabp {
            settings: None,
            inflations: [None; 2],
            closure_after_beat_start_s: None,
        }
    }

    /// Starts pumping with `settings` (`None`: stop; an inflation under way deflates now).
    pub fn set(&mut self, settings: Option<IabpSettings>, now_s: f64) {
        if settings.is_none() {
            for inflation in self.inflations.iter_mut().flatten() {
                inflation.deflate_s = inflation.deflate_s.min(now_s);
            }
        }
        self.settings = settings;
    }

    /// The settings it pumps with, if any.
    pub fn settings(&self) -> Option<IabpSettings> {
        self.settings
    }

    /// Records an aortic-valve closure at `t_s` in the beat that started at `beat_start_s`. Closures the balloon
    /// brought forward (it was already inflating) are not the notch the timing is set on, and are ignored.
    pub fn aortic_valve_closed(&mut self, t_s: f64, beat_start_s: f64) {
        if self.volume_ml(t_s) == 0.0 {
            self.closure_after_beat_start_s = Some(t_s - beat_start_s);
        }
    }

    /// Called when beat number `beat_number` starts at `beat_start_s`, lasting `rr_s`; the LV contracts
    /// `lv_onset_s` after a beat starts and its contraction lasts `lv_contraction_s`.
    pub fn beat_started(
        &mut self,
        beat_number: u64,
        beat_start_s: f64,
        rr_s: f64,
        lv_onset_s: f64,
        lv_contraction_s: f64,
    ) {
        for slot in &mut self.inflations {
            if slot.is_some_and(|inflation| inflation.is_over(beat_start_s)) {
                *slot = None;
            }
        }
        let Some(settings) = self.settings else { return };
        let Some(every) = settings.ratio.beats_per_inflation() else {
            return;
        };
        if !beat_number.is_multiple_of(u64::from(every)) {
            return;
        }
        let closure_s = self
            .closure_after_beat_start_s
            .unwrap_or(lv_onset_s + lv_contraction_s + 0.05);
        let inflate_s = beat_start_s
            + closure_s
            + 1e-3 * settings.inflation_offset_ms.clamp(-MAX_OFFSET_MS, MAX_OFFSET_MS);
        let deflate_s = beat_start_s
            + rr_s
            + lv_onset_s
            + 1e-3 * settings.deflation_offset_ms.clamp(-MAX_OFFSET_MS, MAX_OFFSET_MS);
        let volume_ml = settings.balloon_volume_ml.clamp(0.0, 60.0);
        // Also refuses NaN settings (every comparison with NaN is false).
        if !(inflate_s < deflate_s && volume_ml.is_finite()) {
            return;
        }
        let inflation = Inflation {
            inflate_s,
            deflate_s,
            volume_ml,
        };
        if let Some(slot) = self.inflations.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(inflation);
        }
    }

    /// Balloon volume at `t_s`, mL.
    pub fn volume_ml(&self, t_s: f64) -> f64 {
        self.inflations
            .iter()
            .flatten()
            .map(|inflation| inflation.volume_at_ml(t_s))
            .sum()
    }
}

/// 0 below 0, 1 above 1, a smooth (C1) raised-cosine step between.
pub fn smoothstep(x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else if x >= 1.0 {
        1.0
    } else {
        0.5 * (1.0 - (std::f64::consts::PI * x).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IabpRatio;

    fn cp(p_level: u8) -> ImpellaSettings {
        ImpellaSettings {
            model: ImpellaModel::ImpellaCp,
            p_level,
            displayed_flow_l_min: None,
        }
    }

    #[test]
    fn hq_lines_span_the_published_ranges() {
        let line = HqLine::of(&cp(9));
        assert!((line.flow_l_min(HQ_DELTA_P_LOW_MMHG) - 3.7).abs() < 1e-12);
        assert!((line.flow_l_min(HQ_DELTA_P_HIGH_MMHG) - 2.9).abs() < 1e-12);
        let p2 = HqLine::of(&ImpellaSettings {
            model: ImpellaModel::Impella25,
            ..cp(2)
        });
        assert!((p2.flow_l_min(HQ_DELTA_P_LOW_MMHG) - 1.5).abs() < 1e-12);
        assert!(
            HqLine::of(&cp(0)).flow_l_min(60.0) < 0.0,
            "blood flows back through a stopped pump"
        );
    }

    #[test]
    fn impella_cp_flow_at_zero_and_60_mmhg() {
        // L/min at an aorta-LV difference of 0 and 60 mmHg, P-1 ... P-9 (module documentation).
        let expected = [
            (1.87, 0.47),
            (2.40, 0.90),
            (2.57, 1.17),
            (2.83, 1.53),
            (2.93, 1.93),
            (3.07, 2.27),
            (3.37, 2.57),
            (3.53, 2.83),
            (3.97, 3.17),
        ];
        for (p_level, (at_0, at_60)) in (1..=9).zip(expected) {
            let line = HqLine::of(&cp(p_level));
            assert!(
                (line.flow_l_min(0.0) - at_0).abs() < 0.005,
                "P-{p_level} at 0 mmHg"
            );
            assert!(
                (line.flow_l_min(60.0) - at_60).abs() < 0.005,
                "P-{p_level} at 60 mmHg"
            );
        }
    }

    #[test]
    fn suction_collapses_forward_flow_only() {
        let line = HqLine::of(&cp(8));
        let (free, factor) = Impella::flow_ml_s(&line, 40.0, 50.0);
        assert_eq!(factor, 1.0);
        assert!(free > 0.0);
        let (sucked, factor) = Impella::flow_ml_s(&line, 40.0, 2.0);
        assert_eq!((sucked, factor), (0.0, 0.0));
    }

    #[test]
    fn ecmo_ramps_to_its_target() {
        let mut ecmo = Ecmo::running_at(0.0);
        ecmo.set_target(4.0);
        for _ in 0..2500 {
            ecmo.tick(0.001);
        }
        assert!((ecmo.set_flow_l_min() - 2.0).abs() < 1e-9);
        for _ in 0..5000 {
            ecmo.tick(0.001);
        }
        assert!((ecmo.set_flow_l_min() - 4.0).abs() < 1e-12);
    }

    #[test]
    fn balloon_inflates_on_triggering_beats_only() {
        let mut iabp = Iabp::idle();
        iabp.set(
            Some(IabpSettings {
                ratio: IabpRatio::OneToTwo,
                ..IabpSettings::default()
            }),
            0.0,
        );
        iabp.aortic_valve_closed(0.4, 0.0);
        iabp.beat_started(1, 0.8, 0.8, 0.1, 0.25);
        assert_eq!(iabp.volume_ml(1.4), 0.0);
        iabp.beat_started(2, 1.6, 0.8, 0.1, 0.25);
        assert!((iabp.volume_ml(2.2) - 40.0).abs() < 1e-12);
        assert_eq!(
            iabp.volume_ml(1.6 + 0.8 + 0.1 + BALLOON_DEFLATE_S),
            0.0,
            "deflated from the next R wave"
        );
    }
}
