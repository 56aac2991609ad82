//! The patient's parameters: the closed-loop lumped circulation of Regazzoni et al. 2020 (four chambers with
//! time-varying elastance, four non-ideal diode valves, systemic and pulmonary R-L-C circuits), the coronary
//! branch, and the presets `healthy` and `cardiogenic shock`.
//!
//! Units throughout: mmHg, mL, s (resistance mmHg.s/mL, inertance mmHg.s^2/mL, compliance mL/mmHg).

use super::coronary::CoronaryParams;

/// Passive (end-diastolic) pressure-volume relation of a chamber, `x = V - V0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Passive {
    /// `P = EB x` (the published model).
    Linear {
        /// Passive elastance EB, mmHg/mL.
        eb_mmhg_per_ml: f64,
    },
    /// `P = A (e^(beta x) - 1)`: the stiff, nonlinear EDPVR of a failing, dilated ventricle.
    Exponential {
        /// Scale A, mmHg.
        a_mmhg: f64,
        /// Stiffness beta, 1/mL.
        beta_per_ml: f64,
    },
}

/// How far from its anchor [`Passive::pressure_near`] carries an exponential by its series (`|beta (x - x0)|`):
/// an integration step moves the LV's `beta x` by about 0.01 at most.
const NEAR_ANCHOR: f64 = 0.05;

impl Passive {
    /// Passive pressure at `x = V - V0`, mmHg.
    pub fn pressure_mmhg(self, x_ml: f64) -> f64 {
        self.pressure_near(x_ml, x_ml, self.anchor(x_ml))
    }

    /// What [`Passive::pressure_near`] needs of `x0`: `e^(beta x0)` for an exponential relation (1 for a linear
    /// one).
    pub fn anchor(self, x0_ml: f64) -> f64 {
        match self {
            Passive::Linear { .. } => 1.0,
            Passive::Exponential { beta_per_ml, .. } => (beta_per_ml * x0_ml).exp(),
        }
    }

    /// Passive pressure at `x`, given `anchor = self.anchor(x0)` at a nearby `x0`, mmHg. An exponential is
    /// `e^(beta x0) e^(beta (x - x0))`, the second factor by its Taylor series to the 7th power (within 1e-18
    /// of it for `|beta (x - x0)| <= 0.02`; the library's `exp` beyond [`NEAR_ANCHOR`]): the integrator takes
    /// one `exp` per step at its start and carries it to the step's stages. At `x = x0` it is the definition
    /// exactly.
    #[inline(always)]
    pub fn pressure_near(self, x_ml: f64, x0_ml: f64, anchor: f64) -> f64 {
        match self {
            Passive::Linear { eb_mmhg_per_ml } => eb_mmhg_per_ml * x_ml,
            Passive::Exponential { a_mmhg, beta_per_ml } => {
                let d = beta_per_ml * (x_ml - x0_ml);
                let exp = if d.abs() <= NEAR_ANCHOR {
                    // Estrin's scheme: the products are independent.
                    let d2 = d * d;
                    anchor
                        * ((1.0 + d)
                            + d2 * (1.0 / 2.0 + d * (1.0 / 6.0))
                            + (d2 * d2)
                                * ((1.0 / 24.0 + d * (1.0 / 120.0))
                                    + d2 * (1.0 / 720.0 + d * (1.0 / 5040.0))))
                } else {
                    (beta_per_ml * x_ml).exp()
                };
                a_mmhg * (exp - 1.0)
            }
        }
    }

    /// Slope dP/dV at V0, mmHg/mL.
    pub fn slope_at_v0_mmhg_per_ml(self) -> f64 {
        match self {
            Passive::Linear { eb_mmhg_per_ml } => eb_mmhg_per_ml,
            Passive::Exponential { a_mmhg, beta_per_ml } => a_mmhg * beta_per_ml,
        }
    }
}

/// One heart chamber: `P = EA act(t) (V - V0) + passive(V - V0)`, with the activation of Regazzoni et al.:
/// a raised-cosine contraction of `contraction_s` starting `onset_s` after the beat starts, then a
/// raised-cosine relaxation of `relaxation_s` (evaluated by [`super::rhythm::Twitch`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chamber {
    /// Active elastance amplitude EA, mmHg/mL.
    pub ea_mmhg_per_ml: f64,
    /// Passive relation.
    pub passive: Passive,
    /// Unstressed volume V0, mL.
    pub v0_ml: f64,
    /// Contraction onset after the start of the beat (tC), s.
    pub onset_s: f64,
    /// Duration of contraction (TC), s.
    pub contraction_s: f64,
    /// Duration of relaxation (TR), s.
    pub relaxation_s: f64,
}

impl Chamber {
    /// Pressure at volume `volume_ml` and activation `act` (0..1), mmHg (transmural).
    pub fn pressure_mmhg(&self, volume_ml: f64, act: f64) -> f64 {
        let x = volume_ml - self.v0_ml;
        self.pressure_near(volume_ml, act, x, self.passive.anchor(x))
    }

    /// [`Chamber::pressure_mmhg`] with the passive part from `anchor = self.passive.anchor(x0)` at a nearby
    /// `x0 = V0 - V0` ([`Passive::pressure_near`]).
    #[inline(always)]
    pub fn pressure_near(&self, volume_ml: f64, act: f64, x0_ml: f64, anchor: f64) -> f64 {
        let x = volume_ml - self.v0_ml;
        self.ea_mmhg_per_ml * act * x + self.passive.pressure_near(x, x0_ml, anchor)
    }
}

/// A non-ideal diode valve: `Q = dP / R`, `R = 10^(log10 Rmin + (log10 Rmax - log10 Rmin) H(-dP))`, with the
/// smooth Heaviside `H(x) = atan(100 pi x) / pi + 1/2` of the reference implementation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Valve {
    /// Resistance when open, mmHg.s/mL.
    pub r_min: f64,
    /// Resistance when closed, mmHg.s/mL.
    pub r_max: f64,
}

/// One R-L-C circuit (systemic or pulmonary): arteries and veins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Circuit {
    /// Arterial resistance, mmHg.s/mL.
    pub r_ar: f64,
    /// Arterial compliance, mL/mmHg.
    pub c_ar: f64,
    /// Venous resistance, mmHg.s/mL.
    pub r_ven: f64,
    /// Venous compliance, mL/mmHg.
    pub c_ven: f64,
    /// Arterial inertance, mmHg.s^2/mL.
    pub l_ar: f64,
    /// Venous inertance, mmHg.s^2/mL.
    pub l_ven: f64,
}

/// The segment of descending aorta that holds the IABP balloon: a side compartment of the descending aorta (its
/// share of the compliance) reached through the inertance and resistance of the blood column around the balloon.
/// Without a balloon it follows the descending aorta; when the balloon deflates, its blood pressure falls far
/// below the rest of the aorta for a moment and blood accelerates into it from the aorta, whose pressure
/// overshoots downwards (the presystolic dip; see `devices`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BalloonSegment {
    /// Share of the descending aorta's compliance in the segment (0..1, above 0).
    pub compliance_fraction: f64,
    /// Inertance of the blood column between the segment and the rest of the aorta, mmHg.s^2/mL.
    pub inertance: f64,
    /// Resistance of the same, mmHg.s/mL.
    pub resistance: f64,
}

/// Initial values of the 12 states of the published model (the ascending and descending aorta both start at
/// the systemic arterial pressure).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitialState {
    /// Chamber volumes LA, LV, RA, RV, mL.
    pub volumes_ml: [f64; 4],
    /// Systemic arterial, systemic venous, pulmonary arterial, pulmonary venous pressures, mmHg.
    pub pressures_mmhg: [f64; 4],
    /// Systemic arterial, systemic venous, pulmonary arterial, pulmonary venous flows, mL/s.
    pub flows_ml_s: [f64; 4],
}

/// Everything that defines the simulated patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    /// Heart rate at rest, beats/min.
    pub heart_rate_bpm: f64,
    /// Left atrium.
    pub la: Chamber,
    /// Left ventricle.
    pub lv: Chamber,
    /// Right atrium.
    pub ra: Chamber,
    /// Right ventricle.
    pub rv: Chamber,
    /// Mitral, aortic, tricuspid, pulmonary valves.
    pub valves: [Valve; 4],
    /// Systemic circuit (its arterial compliance is split between ascending and descending aorta).
    pub systemic: Circuit,
    /// Pulmonary circuit.
    pub pulmonary: Circuit,
    /// Fraction of the systemic arterial compliance in the ascending aorta (the rest is the descending aorta,
    /// where the IABP balloon and the ECMO return sit).
    pub ascending_compliance_fraction: f64,
    /// Resistance between ascending and descending aorta, mmHg.s/mL. Small, so the split barely changes the
    /// published beat (< 1 %), yet the balloon's augmentation reaches the aortic root through it.
    pub aortic_arch_resistance: f64,
    /// The segment of descending aorta around the IABP balloon, where the model has one (`None`: the balloon
    /// acts on the whole descending aorta).
    pub balloon_segment: Option<BalloonSegment>,
    /// Fraction of the VA-ECMO drainage taken from the right atrium by the cannula's tip; the rest enters its
    /// side holes in the inferior vena cava (the systemic venous compartment).
    pub ecmo_atrial_drainage_fraction: f64,
    /// Initial state.
    pub initial: InitialState,
    /// Beats run before t = 0 so the patient starts settled (0 for `healthy`, whose initial state is the
    /// reference implementation's periodic state).
    pub warmup_beats: u32,
    /// The instrumented coronary artery.
    pub coronary: CoronaryParams,
}

const VALVE_DEFAULT: Valve = Valve {
    r_min: 0.0075,
    r_max: 75006.2,
};

impl Patient {
    /// The published defaults: Regazzoni F, Salvador M, Africa PC, Fedele M, Dede' L, Quarteroni A, "A cardiac
    /// electromechanics model coupled with a lumped parameters model for closed-loop blood circulation. Part I:
    /// model derivation", arXiv:2011.15040 (2020), with the parameter set and periodic initial state of the
    /// MIT-licensed `circulation` package (ComputationalPhysiology), as given in
    /// `tests/data/sim/regazzoni2020_parameters.json`. Heart rate 1.25 Hz; LV Ees = EA + EB = 4.652
    /// mmHg/mL, V0 = 42 mL.
    pub fn healthy() -> Patient {
        Patient {
            heart_rate_bpm: 75.0,
            // The package's atrial tC = 0.9 s is taken modulo the 0.8 s beat: 0.1 s.
            la: chamber(
                0.07,
                Passive::Linear { eb_mmhg_per_ml: 0.18 },
                4.0,
                0.1,
                0.17,
                0.17,
            ),
            lv: chamber(
                4.482,
                Passive::Linear { eb_mmhg_per_ml: 0.17 },
                42.0,
                0.1,
                0.25,
                0.4,
            ),
            ra: chamber(
                0.06,
                Passive::Linear { eb_mmhg_per_ml: 0.07 },
                4.0,
                0.1,
                0.17,
                0.17,
            ),
            rv: chamber(
                0.2,
                Passive::Linear {
                    eb_mmhg_per_ml: 0.029,
                },
                16.0,
                0.1,
                0.25,
                0.4,
            ),
            valves: [VALVE_DEFAULT; 4],
            systemic: Circuit {
                r_ar: 0.733,
                c_ar: 1.372,
                r_ven: 0.32,
                c_ven: 11.363,
                l_ar: 0.005,
                l_ven: 0.0005,
            },
            pulmonary: Circuit {
                r_ar: 0.046,
                c_ar: 20.0,
                r_ven: 0.0015,
                c_ven: 16.0,
                l_ar: 0.0005,
                l_ven: 0.0005,
            },
            ascending_compliance_fraction: 0.5,
            aortic_arch_resistance: 0.002,
            balloon_segment: None,
            ecmo_atrial_drainage_fraction: 0.5,
            initial: InitialState {
                volumes_ml: [87.183, 118.520, 86.833, 166.177],
                pressures_mmhg: [87.675, 35.898, 19.545, 15.004],
                flows_ml_s: [71.104, 94.039, 94.084, 473.279],
            },
            warmup_beats: 0,
            coronary: CoronaryParams::normal(),
        }
    }

    /// Cardiogenic shock (e.g. after a large anterior infarction): a dilated LV with low contractility and a
    /// stiff exponential EDPVR, a faster heart with the atria contracting before the ventricles, and the
    /// circulation of the original paper (Regazzoni et al. 2020, table of the closed-loop model), whose
    /// physiological systemic venous compliance lets unloading shift blood out of the lungs. Without support:
    /// LVEDP about 21 mmHg, EF about 18 %, MAP about 65 mmHg, cardiac output 3.7 L/min.
    pub fn cardiogenic_shock() -> Patient {
        let healthy = Patient::healthy();
        Patient {
            heart_rate_bpm: 100.0,
            // The atria contract 0.2 s before the ventricles; their twitch spills into the next beat.
            la: chamber(
                0.07,
                Passive::Linear { eb_mmhg_per_ml: 0.09 },
                4.0,
                0.48,
                0.13,
                0.13,
            ),
            lv: chamber(
                0.55,
                Passive::Exponential {
                    a_mmhg: 4.0,
                    beta_per_ml: 0.012,
                },
                60.0,
                0.08,
                0.2,
                0.3,
            ),
            ra: chamber(
                0.06,
                Passive::Linear { eb_mmhg_per_ml: 0.07 },
                4.0,
                0.48,
                0.13,
                0.13,
            ),
            rv: chamber(
                0.55,
                Passive::Linear { eb_mmhg_per_ml: 0.05 },
                10.0,
                0.08,
                0.22,
                0.2,
            ),
            // Arterial compliance 1.8 mL/mmHg (the paper's 1.2 gives an aortic pulse too stiff for a 40 mL balloon).
            systemic: Circuit {
                r_ar: 0.7,
                c_ar: 1.8,
                r_ven: 0.26,
                c_ven: 60.0,
                l_ar: 5e-3,
                l_ven: 5e-4,
            },
            pulmonary: Circuit {
                r_ar: 0.1625,
                c_ar: 10.0,
                r_ven: 0.1625,
                c_ven: 16.0,
                l_ar: 5e-4,
                l_ven: 5e-4,
            },
            initial: InitialState {
                volumes_ml: [110.0, 215.0, 80.0, 150.0],
                pressures_mmhg: [65.0, 20.0, 35.0, 27.0],
                flows_ml_s: [50.0, 50.0, 50.0, 50.0],
            },
            ecmo_atrial_drainage_fraction: 0.7,
            // The balloon's segment (a 25 cm balloon in a 2.5 cm aorta): 30 % of the descending aorta's
            // compliance, behind the inertance of a 1.06 g/cm^3 column of about 30 cm over 5 cm^2 (rho l / A = 5e-3
            // mmHg.s^2/mL) and a damping resistance; chosen so that the presystolic dip of a well-timed 40 mL
            // balloon falls in the published 5-15 mmHg (see `devices`).
            balloon_segment: Some(BalloonSegment {
                compliance_fraction: 0.3,
                inertance: 5e-3,
                resistance: 0.1,
            }),
            warmup_beats: 40,
            ..healthy
        }
    }

    /// RR interval at the resting heart rate, s.
    pub fn rr_s(&self) -> f64 {
        60.0 / self.heart_rate_bpm
    }
}

fn chamber(
    ea: f64,
    passive: Passive,
    v0_ml: f64,
    onset_s: f64,
    contraction_s: f64,
    relaxation_s: f64,
) -> Chamber {
    Chamber {
        ea_mmhg_per_ml: ea,
        passive,
        v0_ml,
        onset_s,
        contraction_s,
        relaxation_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_pressure_near_its_anchor_is_the_definition_to_rounding() {
        let passive = Passive::Exponential {
            a_mmhg: 4.0,
            beta_per_ml: 0.012,
        };
        let defined = |x: f64| 4.0 * ((0.012 * x).exp() - 1.0);
        let mut worst: f64 = 0.0;
        for i in 0..2_000 {
            let x0 = -20.0 + 0.137 * f64::from(i);
            let anchor = passive.anchor(x0);
            // At the anchor the definition itself; then off it by up to 5 mL both ways (|beta dx| <= 0.06:
            // the series to 0.05, the library beyond).
            assert_eq!(passive.pressure_near(x0, x0, anchor), defined(x0));
            for k in -50..=50 {
                let x = x0 + 0.1 * f64::from(k) + 1e-3;
                let p = passive.pressure_near(x, x0, anchor);
                worst = worst.max((p - defined(x)).abs() / (4.0 * (0.012 * x).exp()));
            }
        }
        // Both round their exponent (beta x or beta x0, to 4e-16 of the exponential each), the series adds its
        // own: a term left out of it would show at 1e-13.
        assert!(worst < 2e-15, "worst difference {worst:e} of the exponential");
        let linear = Passive::Linear { eb_mmhg_per_ml: 0.2 };
        assert_eq!(linear.pressure_near(30.0, 29.0, linear.anchor(29.0)), 6.0);
    }

    #[test]
    fn healthy_lv_espvr_is_ea_plus_eb() {
        let lv = Patient::healthy().lv;
        let ees = (lv.pressure_mmhg(100.0, 1.0) - lv.pressure_mmhg(80.0, 1.0)) / 20.0;
        assert!((ees - 4.652).abs() < 1e-9);
        assert_eq!(lv.pressure_mmhg(42.0, 1.0), 0.0);
    }
}
