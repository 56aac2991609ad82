//! The equations: the closed loop of Regazzoni et al. 2020 with the systemic arterial compartment split into
//! ascending and descending aorta, plus the device flows and the coronary branch, and one fixed-step RK4 step.
//!
//! States (`State`, indices in [`ix`]): the four chamber volumes; the transmural pressures of the ascending
//! aorta, the descending aorta (blood only: the balloon adds `V_balloon / C_DA`), the systemic veins and the
//! pulmonary arteries and veins; the four inertial flows; the intramyocardial blood volume of the coronary
//! branch, and the segment of descending aorta that holds the IABP balloon (where the patient has one: its
//! pressure and the flow into it). Intrathoracic compartments (chambers, aorta, pulmonary vessels) sit at the ventilator's
//! intrathoracic pressure; the systemic veins do not. VA-ECMO drains the inferior vena cava and the
//! right atrium and returns to the descending aorta.

use super::coronary::Squeeze;
use super::devices::{Ecmo, HqLine, Impella};
use super::patient::{Chamber, Passive, Patient, Valve};
use super::rhythm::{HalfCosine, Twitch};

/// Number of states.
pub const NUM_STATES: usize = 16;

/// The state vector.
pub type State = [f64; NUM_STATES];

/// Positions in [`State`].
pub mod ix {
    /// Left atrial volume, mL.
    pub const V_LA: usize = 0;
    /// Left ventricular volume, mL.
    pub const V_LV: usize = 1;
    /// Right atrial volume, mL.
    pub const V_RA: usize = 2;
    /// Right ventricular volume, mL.
    pub const V_RV: usize = 3;
    /// Ascending aorta transmural pressure, mmHg.
    pub const P_AO: usize = 4;
    /// Descending aorta transmural pressure of the blood alone, mmHg.
    pub const P_DA: usize = 5;
    /// Systemic venous pressure, mmHg.
    pub const P_VS: usize = 6;
    /// Pulmonary arterial transmural pressure, mmHg.
    pub const P_AP: usize = 7;
    /// Pulmonary venous transmural pressure, mmHg.
    pub const P_VP: usize = 8;
    /// Systemic arterial flow, mL/s.
    pub const Q_AS: usize = 9;
    /// Systemic venous flow, mL/s.
    pub const Q_VS: usize = 10;
    /// Pulmonary arterial flow, mL/s.
    pub const Q_AP: usize = 11;
    /// Pulmonary venous flow, mL/s.
    pub const Q_VP: usize = 12;
    /// Intramyocardial blood volume of the coronary branch, mL.
    pub const V_IM: usize = 13;
    /// Flow from the descending aorta into the balloon's segment, mL/s.
    pub const Q_BS: usize = 14;
    /// Balloon segment transmural pressure of the blood alone (the balloon adds `V_balloon / C_segment`), mmHg.
    pub const P_BS: usize = 15;
}

/// What changes with time within a sample: chamber activations (LA, LV, RA, RV), the LV myocardium's own
/// activation as the coronary vessels feel it, intrathoracic pressure, balloon volume.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Drive {
    /// Activation 0..1 of LA, LV, RA, RV.
    pub activation: [f64; 4],
    /// LV activation as the intramyocardial vessels feel it (0..1, at most the LV's): the LV twitch with the
    /// coronary branch's faster relaxation ([`super::coronary::CoronaryParams::tissue_relaxation_fraction`]).
    pub tissue_activation: f64,
    /// Intrathoracic pressure, mmHg.
    pub intrathoracic_mmhg: f64,
    /// IABP balloon volume, mL.
    pub balloon_ml: f64,
}

/// What is held constant over one output sample (devices and manoeuvres change over seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inputs {
    /// ECMO set flow, L/min.
    pub ecmo_l_min: f64,
    /// Impella H-Q line, if an Impella is in place.
    pub impella: Option<HqLine>,
    /// Factor on the systemic venous resistance and inertance (1 = open; larger during an IVC occlusion).
    pub venous_obstruction: f64,
    /// Factor on the coronary microvascular resistances (1 at rest, lower in hyperaemia).
    pub microvascular_scale: f64,
    /// Whether an IABP catheter is in place (pumping or on standby): only then is the balloon's segment of
    /// aorta a compartment of its own; without it, it is part of the descending aorta.
    pub balloon_catheter: bool,
}

/// Pressures and flows at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Aux {
    /// LA, LV, RA, RV pressures (absolute), mmHg.
    pub chamber_mmhg: [f64; 4],
    /// Ascending aorta (absolute), mmHg.
    pub ao_mmhg: f64,
    /// Descending aorta (absolute), mmHg.
    pub da_mmhg: f64,
    /// Systemic veins, mmHg.
    pub vs_mmhg: f64,
    /// Mitral, aortic, tricuspid, pulmonary valve flows, mL/s.
    pub valve_ml_s: [f64; 4],
    /// ECMO flow, mL/s.
    pub ecmo_ml_s: f64,
    /// Impella flow, mL/s.
    pub impella_ml_s: f64,
    /// Impella inflow factor (1 free, 0 sucked shut).
    pub impella_inflow: f64,
    /// Coronary inflow, mL/s.
    pub coronary_ml_s: f64,
    /// Distal coronary pressure, mmHg.
    pub pd_mmhg: f64,
}

/// Where the valve law switches from its definition to its series: `|z| = 64`, a pressure drop of 0.2 mmHg.
const VALVE_SERIES_FROM: f64 = 64.0;
/// Terms of the valve law's series past the constant (the first left out is below 3e-18 of the result).
const VALVE_SERIES_TERMS: usize = 10;

/// A valve with its law's constants precomputed.
///
/// The law (Regazzoni et al.): `Q = dP / R`, `ln R = ln Rmin + ln(Rmax / Rmin) H`, with the smooth Heaviside
/// `H = atan(z) / pi + 1/2`, `z = 100 pi (-dP)` (so `|z|` is 314 per mmHg). Away from the pressure balance
/// (`|z| >= 64`) `atan z = sign(z) pi/2 - atan(1/z)`, so `H = [z > 0] - atan(u) / pi` with `u = 1/z`, and
/// `1 / R = (1 / R_open or 1 / R_shut) g(u)` with `g(u) = exp(lambda atan(u))`, `lambda = ln(Rmax / Rmin) / pi`:
/// one function of `|u| <= 1/64`, evaluated as its Taylor series in `u` (coefficients from the series of
/// `atan` by the recurrence for the exponential of a series). This replaces an `atan` series, a division and the
/// library's `exp` (four valves, eight evaluations per sample: the simulator's largest single cost) with one
/// division and a polynomial; the flow is within 4e-15 of the definition's, which is the definition's own
/// rounding (a test holds it). Near the balance the definition itself is evaluated.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ValveLaw {
    ln_r_min: f64,
    ln_ratio: f64,
    /// `1 / Rmin` and `1 / Rmax`, as the law gives them (`e^-ln R`).
    per_r_open: f64,
    per_r_shut: f64,
    /// Taylor coefficients of `g(u)` of `u^1 ... u^10` (that of `u^0` is 1).
    series: [f64; VALVE_SERIES_TERMS],
}

impl ValveLaw {
    fn new(valve: Valve) -> ValveLaw {
        let ln_r_min = valve.r_min.ln();
        let ln_ratio = (valve.r_max / valve.r_min).ln();
        let lambda = ln_ratio * std::f64::consts::FRAC_1_PI;
        // lambda atan(u) = sum of h_k u^k: h_k = lambda (-1)^((k-1)/2) / k for odd k, 0 for even k.
        let h = |k: usize| {
            if k.is_multiple_of(2) {
                0.0
            } else {
                let sign = if k % 4 == 1 { 1.0 } else { -1.0 };
                sign * lambda / k as f64
            }
        };
        // g = e^h, g' = h' g: n g_n = sum over k = 1..n of k h_k g_(n-k), g_0 = 1.
        let mut g = [0.0; VALVE_SERIES_TERMS + 1];
        g[0] = 1.0;
        for n in 1..=VALVE_SERIES_TERMS {
            g[n] = (1..=n).map(|k| k as f64 * h(k) * g[n - k]).sum::<f64>() / n as f64;
        }
        ValveLaw {
            ln_r_min,
            ln_ratio,
            per_r_open: (-ln_r_min).exp(),
            per_r_shut: (-(ln_r_min + ln_ratio)).exp(),
            series: std::array::from_fn(|i| g[i + 1]),
        }
    }

    /// Flow for a pressure drop `drop_mmhg` (upstream - downstream), mL/s.
    #[inline(always)]
    fn flow(&self, drop_mmhg: f64) -> f64 {
        let z = std::f64::consts::FRAC_PI_2 * 200.0 * -drop_mmhg;
        if z.abs() < VALVE_SERIES_FROM {
            return self.defined_flow(drop_mmhg);
        }
        let u = 1.0 / z;
        let per_r = if z > 0.0 { self.per_r_shut } else { self.per_r_open };
        // g(u) - 1 = u (g1 + g2 u + ... + g10 u^9), the bracket by Estrin's scheme (independent products).
        let [g1, g2, g3, g4, g5, g6, g7, g8, g9, g10] = self.series;
        let u2 = u * u;
        let u4 = u2 * u2;
        let bracket = ((g1 + g2 * u) + u2 * (g3 + g4 * u))
            + u4 * ((g5 + g6 * u) + u2 * (g7 + g8 * u))
            + (u4 * u4) * (g9 + g10 * u);
        drop_mmhg * per_r * (1.0 + u * bracket)
    }

    /// The law as defined, mL/s.
    fn defined_flow(&self, drop_mmhg: f64) -> f64 {
        let z = std::f64::consts::FRAC_PI_2 * 200.0 * -drop_mmhg;
        let closed = z.atan() / std::f64::consts::PI + 0.5;
        drop_mmhg * (-(self.ln_r_min + self.ln_ratio * closed)).exp()
    }
}

/// Reciprocals of the constants the equations divide by (a multiplication is several times cheaper than a
/// division, and the equations run eight times per sample).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Reciprocals {
    c_ao: f64,
    c_da: f64,
    /// The whole descending aorta (its part outside the balloon's segment and the segment).
    c_descending: f64,
    c_ven: f64,
    c_ap: f64,
    c_vp: f64,
    l_as: f64,
    l_ap: f64,
    l_vp: f64,
    r_arch: f64,
}

/// The balloon's segment of descending aorta with its constants derived.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SegmentLaw {
    c_ml_per_mmhg: f64,
    per_c: f64,
    per_l: f64,
    r: f64,
}

/// The patient's equations with derived constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The parameters.
    pub patient: Patient,
    valves: [ValveLaw; 4],
    c_ao: f64,
    c_da: f64,
    per: Reciprocals,
    segment: Option<SegmentLaw>,
    twitches: [Twitch; 4],
    /// Whether RA twitches as LA does, and RV as LV (then they share the activation).
    alike: [bool; 2],
    tissue_twitch: Twitch,
    half_cosine: &'static HalfCosine,
}

impl Model {
    /// The equations of `patient`.
    pub fn new(patient: Patient) -> Model {
        let c_ao = patient.systemic.c_ar * patient.ascending_compliance_fraction;
        let c_descending = patient.systemic.c_ar - c_ao;
        let segment = patient.balloon_segment.map(|segment| SegmentLaw {
            c_ml_per_mmhg: segment.compliance_fraction * c_descending,
            per_c: 1.0 / (segment.compliance_fraction * c_descending),
            per_l: 1.0 / segment.inertance,
            r: segment.resistance,
        });
        let c_da = c_descending - segment.map_or(0.0, |segment| segment.c_ml_per_mmhg);
        let per_c_descending = 1.0 / c_descending;
        Model {
            valves: patient.valves.map(ValveLaw::new),
            c_ao,
            c_da,
            segment,
            per: Reciprocals {
                c_ao: 1.0 / c_ao,
                c_da: 1.0 / c_da,
                c_descending: per_c_descending,
                c_ven: 1.0 / patient.systemic.c_ven,
                c_ap: 1.0 / patient.pulmonary.c_ar,
                c_vp: 1.0 / patient.pulmonary.c_ven,
                l_as: 1.0 / patient.systemic.l_ar,
                l_ap: 1.0 / patient.pulmonary.l_ar,
                l_vp: 1.0 / patient.pulmonary.l_ven,
                r_arch: 1.0 / patient.aortic_arch_resistance,
            },
            twitches: [&patient.la, &patient.lv, &patient.ra, &patient.rv].map(Twitch::of),
            alike: [
                Twitch::of(&patient.ra) == Twitch::of(&patient.la),
                Twitch::of(&patient.rv) == Twitch::of(&patient.lv),
            ],
            tissue_twitch: Twitch::of(&Chamber {
                relaxation_s: patient.lv.relaxation_s * patient.coronary.tissue_relaxation_fraction,
                ..patient.lv
            }),
            half_cosine: HalfCosine::shared(),
            patient,
        }
    }

    /// The initial state of the patient (coronary branch empty; it fills within a beat).
    pub fn initial_state(&self) -> State {
        let init = &self.patient.initial;
        let mut y = [0.0; NUM_STATES];
        y[ix::V_LA..=ix::V_RV].copy_from_slice(&init.volumes_ml);
        y[ix::P_AO] = init.pressures_mmhg[0];
        y[ix::P_DA] = init.pressures_mmhg[0];
        if self.segment.is_some() {
            y[ix::P_BS] = init.pressures_mmhg[0];
        }
        y[ix::P_VS] = init.pressures_mmhg[1];
        y[ix::P_AP] = init.pressures_mmhg[2];
        y[ix::P_VP] = init.pressures_mmhg[3];
        y[ix::Q_AS..=ix::Q_VP].copy_from_slice(&init.flows_ml_s);
        y
    }

    /// The twitches of LA, LV, RA, RV and the table they are evaluated through.
    pub fn twitches(&self) -> (&[Twitch; 4], &HalfCosine) {
        (&self.twitches, self.half_cosine)
    }

    /// Whether RA twitches as LA does, and RV as LV (the atria of both presets, the ventricles of `healthy`).
    pub fn twitches_alike(&self) -> [bool; 2] {
        self.alike
    }

    /// The LV twitch as the intramyocardial vessels feel it (the coronary branch's faster relaxation).
    pub fn tissue_twitch(&self) -> &Twitch {
        &self.tissue_twitch
    }

    /// Descending-aorta compliance, mL/mmHg.
    pub fn c_da(&self) -> f64 {
        self.c_da
    }

    /// Total blood volume in the loop (the coronary branch excluded), mL; conserved by the equations.
    pub fn blood_volume_ml(&self, y: &State) -> f64 {
        let sys = &self.patient.systemic;
        let pul = &self.patient.pulmonary;
        y[ix::V_LA]
            + y[ix::V_LV]
            + y[ix::V_RA]
            + y[ix::V_RV]
            + self.c_ao * y[ix::P_AO]
            + self.c_da * y[ix::P_DA]
            + self
                .segment
                .map_or(0.0, |segment| segment.c_ml_per_mmhg * y[ix::P_BS])
            + sys.c_ven * y[ix::P_VS]
            + pul.c_ar * y[ix::P_AP]
            + pul.c_ven * y[ix::P_VP]
    }

    /// Time derivatives of the state, and the pressures and flows behind them.
    #[inline(always)]
    pub fn derivatives(&self, inputs: &Inputs, drive: &Drive, y: &State) -> (State, Aux) {
        self.derivatives_with(inputs, drive, y, &self.anchors(y), ValveLaw::flow)
    }

    /// The chambers' passive relations anchored at `y` ([`Passive::anchor`] of each `V - V0`), for the
    /// derivatives at `y` and at the states of an integration step from it.
    #[inline(always)]
    fn anchors(&self, y: &State) -> Anchors {
        let p = &self.patient;
        let chambers = [&p.la, &p.lv, &p.ra, &p.rv];
        let x0: [f64; 4] = std::array::from_fn(|i| y[ix::V_LA + i] - chambers[i].v0_ml);
        Anchors {
            x0,
            exp: std::array::from_fn(|i| chambers[i].passive.anchor(x0[i])),
        }
    }

    /// [`Model::derivatives`] with the chambers' passive relations carried from `anchors`
    /// ([`Passive::pressure_near`]) and the valves' flows from `valve_flow` (a test puts the law's definition
    /// in place of its series; inlined, so the equations pay nothing for it).
    #[inline(always)]
    fn derivatives_with(
        &self,
        inputs: &Inputs,
        drive: &Drive,
        y: &State,
        anchors: &Anchors,
        valve_flow: impl Fn(&ValveLaw, f64) -> f64,
    ) -> (State, Aux) {
        let p = &self.patient;
        let sys = &p.systemic;
        let pul = &p.pulmonary;
        let pth = drive.intrathoracic_mmhg;
        let chambers = [&p.la, &p.lv, &p.ra, &p.rv];
        let mut chamber_mmhg = [0.0; 4];
        for (i, chamber) in chambers.iter().enumerate() {
            chamber_mmhg[i] = chamber.pressure_near(
                y[ix::V_LA + i],
                drive.activation[i],
                anchors.x0[i],
                anchors.exp[i],
            ) + pth;
        }
        let [p_la, p_lv, p_ra, p_rv] = chamber_mmhg;
        let p_ao = y[ix::P_AO] + pth;
        // With a balloon catheter in the patient's segment, the balloon sits there; else the segment is part of
        // the descending aorta (its state follows it) and a balloon, if any, acts on the whole of it.
        let segment = self.segment.filter(|_| inputs.balloon_catheter);
        let (p_da, p_bs, q_bs) = match &segment {
            Some(segment) => (
                y[ix::P_DA] + pth,
                y[ix::P_BS] + drive.balloon_ml * segment.per_c + pth,
                y[ix::Q_BS],
            ),
            None => {
                let p_da = y[ix::P_DA] + drive.balloon_ml * self.per.c_descending + pth;
                (p_da, p_da, 0.0)
            }
        };
        let p_vs = y[ix::P_VS];
        let p_ap = y[ix::P_AP] + pth;
        let p_vp = y[ix::P_VP] + pth;

        let [mv, av, tv, pv] = &self.valves;
        let q_mv = valve_flow(mv, p_la - p_lv);
        let q_av = valve_flow(av, p_lv - p_ao);
        let q_tv = valve_flow(tv, p_ra - p_rv);
        let q_pv = valve_flow(pv, p_rv - p_ap);
        let q_arch = (p_ao - p_da) * self.per.r_arch;
        // A multi-stage drainage cannula: side holes in the inferior vena cava, the tip at the cavo-atrial
        // junction. Each part collapses on its own when its vessel empties.
        let atrial = p.ecmo_atrial_drainage_fraction;
        let ecmo_ra_ml_s = Ecmo::flow_ml_s(atrial * inputs.ecmo_l_min, p_ra - pth);
        let ecmo_vs_ml_s = Ecmo::flow_ml_s((1.0 - atrial) * inputs.ecmo_l_min, p_vs);
        let ecmo_ml_s = ecmo_ra_ml_s + ecmo_vs_ml_s;
        let (impella_ml_s, impella_inflow) = match &inputs.impella {
            Some(line) => Impella::flow_ml_s(line, p_ao - p_lv, y[ix::V_LV] - p.lv.v0_ml),
            None => (0.0, 1.0),
        };
        let [q_as, q_vs, q_ap, q_vp] = [y[ix::Q_AS], y[ix::Q_VS], y[ix::Q_AP], y[ix::Q_VP]];
        let coronary = p.coronary.flows(
            inputs.microvascular_scale,
            p_ao,
            &Squeeze {
                pressure_mmhg: p_lv,
                active_mmhg_per_activation: p.lv.ea_mmhg_per_ml * (y[ix::V_LV] - p.lv.v0_ml),
                activation: drive.activation[1],
                tissue_activation: drive.tissue_activation,
            },
            p_ra,
            y[ix::V_IM],
        );

        let mut dy = [0.0; NUM_STATES];
        dy[ix::V_LA] = q_vp - q_mv;
        dy[ix::V_LV] = q_mv - q_av - impella_ml_s;
        dy[ix::V_RA] = q_vs - q_tv - ecmo_ra_ml_s;
        dy[ix::V_RV] = q_tv - q_pv;
        dy[ix::P_AO] = (q_av + impella_ml_s - q_arch) * self.per.c_ao;
        dy[ix::P_DA] = match &segment {
            Some(_) => (q_arch + ecmo_ml_s - q_as - q_bs) * self.per.c_da,
            None => (q_arch + ecmo_ml_s - q_as) * self.per.c_descending,
        };
        dy[ix::P_VS] = (q_as - q_vs - ecmo_vs_ml_s) * self.per.c_ven;
        dy[ix::P_AP] = (q_pv - q_ap) * self.per.c_ap;
        dy[ix::P_VP] = (q_ap - q_vp) * self.per.c_vp;
        dy[ix::Q_AS] = (p_da - p_vs - sys.r_ar * q_as) * self.per.l_as;
        // The occlusion narrows the vena cava: resistance and inertance rise together, keeping the branch's
        // time constant (and the integration's stability) unchanged.
        dy[ix::Q_VS] = (p_vs - p_ra - sys.r_ven * inputs.venous_obstruction * q_vs)
            * (1.0 / (sys.l_ven * inputs.venous_obstruction));
        dy[ix::Q_AP] = (p_ap - p_vp - pul.r_ar * q_ap) * self.per.l_ap;
        dy[ix::Q_VP] = (p_vp - p_la - pul.r_ven * q_vp) * self.per.l_vp;
        dy[ix::V_IM] = coronary.d_volume_ml_s;
        match (&self.segment, &segment) {
            (_, Some(segment)) => {
                dy[ix::Q_BS] = (p_da - p_bs - segment.r * q_bs) * segment.per_l;
                dy[ix::P_BS] = q_bs * segment.per_c;
            }
            (Some(_), None) => dy[ix::P_BS] = dy[ix::P_DA],
            (None, None) => {}
        }

        let aux = Aux {
            chamber_mmhg,
            ao_mmhg: p_ao,
            da_mmhg: p_da,
            vs_mmhg: p_vs,
            valve_ml_s: [q_mv, q_av, q_tv, q_pv],
            ecmo_ml_s,
            impella_ml_s,
            impella_inflow,
            coronary_ml_s: coronary.inflow_ml_s,
            pd_mmhg: coronary.pd_mmhg,
        };
        (dy, aux)
    }

    /// Merges the balloon's segment back into the descending aorta (the catheter is removed): one pressure for
    /// both, the blood volume kept, no flow between them.
    pub fn merge_balloon_segment(&self, y: &mut State) {
        if let Some(segment) = &self.segment {
            let volume_ml = self.c_da * y[ix::P_DA] + segment.c_ml_per_mmhg * y[ix::P_BS];
            y[ix::P_DA] = volume_ml / (self.c_da + segment.c_ml_per_mmhg);
            y[ix::P_BS] = y[ix::P_DA];
            y[ix::Q_BS] = 0.0;
        }
    }

    /// The LV's end-systolic elastance: EA plus the passive slope at V0 (exact for a linear passive relation;
    /// the tangent at V0 for an exponential one), mmHg/mL.
    pub fn lv_ees_mmhg_per_ml(&self) -> f64 {
        let lv = &self.patient.lv;
        lv.ea_mmhg_per_ml + lv.passive.slope_at_v0_mmhg_per_ml()
    }

    /// Whether the LV passive relation is linear (then the ESPVR is exactly `Ees (V - V0)`).
    pub fn lv_espvr_is_linear(&self) -> bool {
        matches!(self.patient.lv.passive, Passive::Linear { .. })
    }
}

/// The chambers' `V - V0` at a state and their passive relations' [`Passive::anchor`] there.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Anchors {
    x0: [f64; 4],
    exp: [f64; 4],
}

/// One classical RK4 step of `dt_s` from `y`, with the drive at the start, middle and end of the step. Returns
/// the new state and the pressures and flows at the start of the step. The chambers' passive relations are
/// anchored at `y` for all four stages (one `exp` for the LV's exponential EDPVR per step, not four).
pub fn rk4_step(model: &Model, inputs: &Inputs, drives: [&Drive; 3], y: &State, dt_s: f64) -> (State, Aux) {
    let [drive_start, drive_mid, drive_end] = drives;
    let anchors = model.anchors(y);
    let derivatives = |drive, y: &State| model.derivatives_with(inputs, drive, y, &anchors, ValveLaw::flow);
    let (k1, aux) = derivatives(drive_start, y);
    let (k2, _) = derivatives(drive_mid, &axpy(y, 0.5 * dt_s, &k1));
    let (k3, _) = derivatives(drive_mid, &axpy(y, 0.5 * dt_s, &k2));
    let (k4, _) = derivatives(drive_end, &axpy(y, dt_s, &k3));
    let mut next = *y;
    for i in 0..NUM_STATES {
        next[i] += dt_s / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    (next, aux)
}

/// `y + a x`.
fn axpy(y: &State, a: f64, x: &State) -> State {
    let mut out = *y;
    for i in 0..NUM_STATES {
        out[i] += a * x[i];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published valve.
    const VALVE_DEFAULT_FOR_TEST: Valve = Valve {
        r_min: 0.0075,
        r_max: 75006.2,
    };

    #[test]
    fn valve_law_matches_the_published_resistances() {
        let law = ValveLaw::new(VALVE_DEFAULT_FOR_TEST);
        // Wide open: R -> Rmin; firmly shut: R -> Rmax; at zero difference the geometric mean.
        assert!((10.0 / law.flow(10.0) - 0.0075).abs() / 0.0075 < 2e-3);
        assert!((-10.0 / law.flow(-10.0) - 75006.2).abs() / 75006.2 < 2e-3);
        let eps = 1e-12;
        let r_mid = eps / law.flow(eps);
        assert!((r_mid - (0.0075f64 * 75006.2).sqrt()).abs() / r_mid < 1e-6);
    }

    #[test]
    fn valve_law_series_is_the_definition_to_rounding() {
        // The published valves and one of another ratio; drops from the switch (0.204 mmHg) to 1000 mmHg, both
        // ways, on a geometric grid that does not repeat the series' points.
        for valve in [
            VALVE_DEFAULT_FOR_TEST,
            Valve {
                r_min: 0.01,
                r_max: 100.0,
            },
        ] {
            let law = ValveLaw::new(valve);
            let mut worst: f64 = 0.0;
            for i in 0..100_000 {
                let drop = 0.2037 * 1.000_085_3f64.powi(i);
                for drop in [drop, -drop] {
                    let (series, defined) = (law.flow(drop), law.defined_flow(drop));
                    worst = worst.max(((series - defined) / defined).abs());
                }
            }
            // The definition's own rounding (H near 0 or 1 from atan / pi + 1/2, times ln(Rmax / Rmin)) is
            // about 1e-15 of the flow.
            assert!(worst < 4e-15, "{valve:?}: worst relative difference {worst:e}");
        }
    }

    #[test]
    fn derivatives_are_those_of_the_valve_law_as_defined_to_rounding() {
        // Many states around the shock patient's (every valve open, shut and crossing its balance), activations,
        // intrathoracic pressures and balloon volumes; with and without an Impella and a balloon catheter.
        let model = Model::new(Patient::cardiogenic_shock());
        let y0 = model.initial_state();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut series_used = 0;
        for i in 0..20_000 {
            let inputs = Inputs {
                ecmo_l_min: 4.0 * uniform(),
                impella: (i % 2 == 0).then_some(HqLine {
                    q_at_zero_l_min: 3.5,
                    slope_l_min_per_mmhg: 0.02,
                }),
                venous_obstruction: 1.0 + uniform(),
                microvascular_scale: 0.3 + uniform(),
                balloon_catheter: i % 3 == 0,
            };
            let drive = Drive {
                activation: [uniform(), uniform(), uniform(), uniform()],
                tissue_activation: uniform(),
                intrathoracic_mmhg: 5.0 * uniform(),
                balloon_ml: 40.0 * uniform(),
            };
            let y: State = std::array::from_fn(|k| y0[k] * (0.5 + uniform()) + (uniform() - 0.5));
            let (dy, aux) = model.derivatives(&inputs, &drive, &y);
            let (dy_defined, aux_defined) =
                model.derivatives_with(&inputs, &drive, &y, &model.anchors(&y), ValveLaw::defined_flow);
            for (valve, (ours, defined)) in aux.valve_ml_s.iter().zip(aux_defined.valve_ml_s).enumerate() {
                assert!(
                    (ours - defined).abs() <= 4e-15 * defined.abs(),
                    "valve {valve}: {ours} against {defined}"
                );
            }
            // Sums of flows of hundreds of mL/s: their rounding, not more.
            for (k, (ours, defined)) in dy.iter().zip(dy_defined).enumerate() {
                assert!(
                    (ours - defined).abs() <= 1e-11 * (1.0 + defined.abs()),
                    "state {k}: {ours} against {defined}"
                );
            }
            series_used += usize::from(dy != dy_defined);
        }
        // The series is what was tested: it is most of the valves' states.
        assert!(series_used > 10_000, "{series_used}");
    }

    #[test]
    fn anchored_stages_are_the_unanchored_integration_to_rounding() {
        // The shock patient (exponential LV EDPVR) over 3 s of beats with an Impella: RK4 with the passive
        // relations anchored once per step, against RK4 with an `exp` at every stage, and both against the same
        // integration at a tenth of the step. The anchoring must move the states by rounding only: a thousandth
        // of what the step size itself costs.
        let model = Model::new(Patient::cardiogenic_shock());
        let inputs = ecmo_and_impella(false);
        let (twitches, shape) = model.twitches();
        let drive = |t: f64| {
            let s = t % 0.6;
            Drive {
                activation: twitches.map(|twitch| twitch.at(shape, s)),
                tissue_activation: model.tissue_twitch().at(shape, s),
                intrathoracic_mmhg: 0.0,
                balloon_ml: 0.0,
            }
        };
        let unanchored = |y: &State, t: f64, dt: f64| {
            let d = |t: f64, y: &State| model.derivatives(&inputs, &drive(t), y).0;
            let k1 = d(t, y);
            let k2 = d(t + 0.5 * dt, &axpy(y, 0.5 * dt, &k1));
            let k3 = d(t + 0.5 * dt, &axpy(y, 0.5 * dt, &k2));
            let k4 = d(t + dt, &axpy(y, dt, &k3));
            std::array::from_fn(|i| y[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
        };
        let anchored = |y: &State, t: f64, dt: f64| {
            let drives = [drive(t), drive(t + 0.5 * dt), drive(t + dt)];
            rk4_step(&model, &inputs, [&drives[0], &drives[1], &drives[2]], y, dt).0
        };
        let run = |step: &dyn Fn(&State, f64, f64) -> State, dt: f64, n: usize| {
            let mut y = model.initial_state();
            for i in 0..n {
                y = step(&y, i as f64 * dt, dt);
            }
            y
        };
        let (ours, exact) = (run(&anchored, 5e-4, 6000), run(&unanchored, 5e-4, 6000));
        let fine = run(&unanchored, 5e-5, 60_000);
        let anchoring = (0..NUM_STATES)
            .map(|i| (ours[i] - exact[i]).abs())
            .fold(0.0, f64::max);
        let step_error = (0..NUM_STATES)
            .map(|i| (fine[i] - exact[i]).abs())
            .fold(0.0, f64::max);
        assert!(anchoring > 0.0, "the anchoring was not exercised");
        assert!(
            anchoring < 1e-3 * step_error && anchoring < 1e-9,
            "anchoring moves the states by {anchoring:e}, the step size by {step_error:e}"
        );
    }

    /// VA-ECMO at 3.5 L/min and an Impella, with or without a balloon catheter.
    fn ecmo_and_impella(balloon_catheter: bool) -> Inputs {
        Inputs {
            ecmo_l_min: 3.5,
            impella: Some(HqLine {
                q_at_zero_l_min: 3.5,
                slope_l_min_per_mmhg: 0.01,
            }),
            venous_obstruction: 1.0,
            microvascular_scale: 1.0,
            balloon_catheter,
        }
    }

    #[test]
    fn blood_volume_is_conserved() {
        let model = Model::new(Patient::cardiogenic_shock());
        let inputs = ecmo_and_impella(true);
        let drive = |t: f64| Drive {
            activation: [0.0, (t * 7.0).sin().abs(), 0.0, 0.2],
            tissue_activation: 0.5 * (t * 7.0).sin().abs(),
            intrathoracic_mmhg: 3.0 * t,
            balloon_ml: 10.0 * t,
        };
        let mut y = model.initial_state();
        let before = model.blood_volume_ml(&y);
        for i in 0..2000 {
            let t = i as f64 * 5e-4;
            let drives = [drive(t), drive(t + 2.5e-4), drive(t + 5e-4)];
            y = rk4_step(&model, &inputs, [&drives[0], &drives[1], &drives[2]], &y, 5e-4).0;
        }
        assert!((model.blood_volume_ml(&y) - before).abs() < 1e-6);
    }
}
