//! The instrumented coronary artery (the vessel with the Doppler-pressure wire): inflow from the ascending
//! aorta (Pa), an epicardial stenosis with a viscous and a quadratic (flow-separation) pressure drop to the
//! wire's distal pressure Pd, then an intramyocardial pump (Spaan et al., Circ Res 1981;49:584-593):
//! arteriolar resistance into an intramyocardial compliance, and venular resistance out to the right atrium.
//!
//! The compliance sits in the myocardium, so its blood pressure is its own elastic pressure plus the tissue
//! pressure around it, which has two parts (Algranati, Kassab & Lanir, Am J Physiol Heart 2010;298:H861-H873;
//! as in the layered model of Mynard, Penny & Smolich, Am J Physiol Heart 2014;306:H517-H528): a fraction of
//! LV cavity pressure (cavity-induced) and a part that follows the myocardium's own contraction, the LV
//! activation (shortening-induced). The second keeps squeezing the vessels in systole when an Impella has
//! emptied the cavity. The venules of the deeper layers collapse when the tissue pressure exceeds the venous
//! pressure (the vascular waterfall, Downey & Kirk, Circ Res 1975;36:753-760): the outflow's back pressure is
//! the larger of RA pressure and a fraction of the tissue pressure, so a higher LVEDP lowers diastolic flow.
//! Adenosine hyperaemia lowers both microvascular resistances.
//!
//! What the Doppler velocity shows, against intracoronary Doppler-guidewire studies of the left anterior
//! descending artery (`tests/it/sim.rs` checks each):
//! - diastolic predominance: the ratio of mean diastolic to mean systolic velocity (DSVR, systole from the R
//!   wave to aortic-valve closure) 1.8 +/- 0.5 in angiographically normal arteries, 1.3 +/- 0.5 distal to a
//!   significant stenosis (Segal, Kern et al., J Am Coll Cardiol 1992;20:276-286; Ofili, Kern et al., J Am Coll
//!   Cardiol 1993;21:308-316); the ratio of the peaks (diastolic peak over the systolic peak after the early
//!   systolic dip) 2.08 +/- 0.64 without and 1.41 +/- 0.47 with an LAD stenosis >= 70 % (transthoracic Doppler,
//!   PMID 16932084). Simulated, normal artery (`healthy`): DSVR about 2.0, peak ratio about 2.2; intermediate
//!   stenosis (`shock-ecmo`): DSVR about 1.9;
//! - the systolic dip: velocity falls to its minimum at the end of isovolumic contraction, when the tissue
//!   pressure has risen and the aortic valve has not yet opened;
//! - coronary flow velocity reserve 2.5-3.5 in normal arteries, lower with a stenosis: about 2.9 here with the
//!   intermediate stenosis;
//! - IABP diastolic augmentation raises diastolic velocity (Kern et al., Circulation 1993;87:500-511); a higher
//!   LVEDP lowers it (the waterfall above).
//!
//! - the early-diastolic peak: velocity peaks in the first third of diastole, shortly after the valve closes,
//!   when the tissue pressure falls in isovolumic relaxation (about 0.3 of diastole here, healthy and shock).
//!   The tissue pressure follows the myocardium's relaxation, not the slow raised-cosine tail of the published
//!   elastance (Regazzoni et al.), which relaxes the LV chamber over 0.3-0.4 s: its active part (the LV's
//!   `EA act (V - V0)` and the shortening-induced pressure) is taken at a tissue activation that contracts as
//!   the LV does and relaxes in `tissue_relaxation_fraction` (0.5) of the LV's relaxation time, in line with
//!   the measured time course of isovolumic relaxation (60-120 ms; LV pressure's time constant 30-80 ms). The
//!   chamber itself still relaxes as published; only what squeezes the intramyocardial vessels relaxes faster.
//!
//! The branch is driven by the loop's pressures and does not feed back into it: its flow (about 1 % of the
//! cardiac output) is already part of the lumped systemic resistance of the published model.

/// Parameters of the coronary branch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoronaryParams {
    /// Lumen diameter at the Doppler sample volume, mm.
    pub diameter_mm: f64,
    /// Viscous stenosis coefficient (pressure drop per flow), mmHg.s/mL.
    pub stenosis_viscous: f64,
    /// Expansion stenosis coefficient (pressure drop per flow squared), mmHg.s^2/mL^2.
    pub stenosis_expansion: f64,
    /// Arteriolar resistance at rest, mmHg.s/mL.
    pub r_arteriolar: f64,
    /// Venular resistance at rest, mmHg.s/mL.
    pub r_venular: f64,
    /// Intramyocardial compliance, mL/mmHg.
    pub c_intramyocardial: f64,
    /// Fraction of LV cavity pressure transmitted to the intramyocardial tissue (cavity-induced pressure).
    pub compression_fraction: f64,
    /// Tissue pressure from the myocardium's own contraction at full LV activation (shortening-induced), mmHg.
    pub shortening_mmhg: f64,
    /// Fraction of the tissue pressure that the venular outflow drains against when it exceeds RA pressure
    /// (the waterfall of the deeper layers).
    pub waterfall_fraction: f64,
    /// Microvascular resistance at full adenosine hyperaemia relative to rest.
    pub hyperaemic_resistance_ratio: f64,
    /// Duration of the tissue pressure's relaxation as a fraction of the LV elastance's relaxation (see the
    /// module documentation).
    pub tissue_relaxation_fraction: f64,
}

impl CoronaryParams {
    /// A left anterior descending artery without significant stenosis.
    pub fn normal() -> CoronaryParams {
        CoronaryParams {
            diameter_mm: 3.0,
            stenosis_viscous: 1.0,
            stenosis_expansion: 0.3,
            r_arteriolar: 62.0,
            r_venular: 18.0,
            c_intramyocardial: 0.012,
            compression_fraction: 0.6,
            shortening_mmhg: 15.0,
            waterfall_fraction: 0.5,
            hyperaemic_resistance_ratio: 1.0 / 3.5,
            tissue_relaxation_fraction: 0.5,
        }
    }

    /// The same artery with an intermediate residual stenosis (Pd/Pa about 0.94 at rest, FFR about 0.8).
    pub fn intermediate_stenosis() -> CoronaryParams {
        CoronaryParams {
            stenosis_viscous: 4.5,
            stenosis_expansion: 0.9,
            ..CoronaryParams::normal()
        }
    }

    /// Lumen area, cm^2.
    pub fn area_cm2(&self) -> f64 {
        let radius_cm = 0.05 * self.diameter_mm;
        std::f64::consts::PI * radius_cm * radius_cm
    }

    /// Pressure drop across the stenosis at flow `q_ml_s`, mmHg.
    pub fn stenosis_drop_mmhg(&self, q_ml_s: f64) -> f64 {
        self.stenosis_viscous * q_ml_s + self.stenosis_expansion * q_ml_s * q_ml_s.abs()
    }

    /// Inflow through stenosis and arterioles (resistance `r_arteriolar_eff`) for an aortic pressure `pa_mmhg`
    /// and intramyocardial node pressure `node_mmhg`, mL/s: the root of
    /// `Pa - node = (f_v + R1) Q + f_s Q|Q|`.
    pub fn inflow_ml_s(&self, pa_mmhg: f64, node_mmhg: f64, r_arteriolar_eff: f64) -> f64 {
        let drop = pa_mmhg - node_mmhg;
        let linear = self.stenosis_viscous + r_arteriolar_eff;
        // 2c / (b + sqrt(b^2 + 4ac)): the stable form of the quadratic root, exact when a = 0 too.
        2.0 * drop / (linear + (linear * linear + 4.0 * self.stenosis_expansion * drop.abs()).sqrt())
    }

    /// The branch at one instant: microvascular resistances scaled by `scale` (1 at rest), aortic pressure
    /// `pa_mmhg`, the LV as the myocardium squeezes the vessels (`lv`), right-atrial pressure `p_ra_mmhg` and
    /// intramyocardial blood volume `v_im_ml`.
    pub fn flows(
        &self,
        scale: f64,
        pa_mmhg: f64,
        lv: &Squeeze,
        p_ra_mmhg: f64,
        v_im_ml: f64,
    ) -> CoronaryFlows {
        // LV pressure with its active part (EA act (V - V0)) taken at the tissue's activation instead of the
        // chamber's: the same in contraction, released faster in relaxation.
        let tissue_lv_mmhg =
            lv.pressure_mmhg - lv.active_mmhg_per_activation * (lv.activation - lv.tissue_activation);
        let tissue_mmhg =
            self.compression_fraction * tissue_lv_mmhg + self.shortening_mmhg * lv.tissue_activation;
        let node_mmhg = v_im_ml * (1.0 / self.c_intramyocardial) + tissue_mmhg;
        let inflow_ml_s = self.inflow_ml_s(pa_mmhg, node_mmhg, self.r_arteriolar * scale);
        let back_mmhg = p_ra_mmhg.max(self.waterfall_fraction * tissue_mmhg);
        let outflow_ml_s = (node_mmhg - back_mmhg) * (1.0 / (self.r_venular * scale));
        CoronaryFlows {
            inflow_ml_s,
            d_volume_ml_s: inflow_ml_s - outflow_ml_s,
            pd_mmhg: pa_mmhg - self.stenosis_drop_mmhg(inflow_ml_s),
        }
    }
}

/// What the LV does to the intramyocardial vessels at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Squeeze {
    /// LV pressure, mmHg.
    pub pressure_mmhg: f64,
    /// The LV's active pressure per unit activation, `EA (V - V0)`, mmHg.
    pub active_mmhg_per_activation: f64,
    /// The LV chamber's activation, 0..1.
    pub activation: f64,
    /// The myocardium's activation as the vessels feel it (relaxing faster), 0..1.
    pub tissue_activation: f64,
}

/// The coronary branch at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoronaryFlows {
    /// Inflow through the wired artery, mL/s.
    pub inflow_ml_s: f64,
    /// Rate of change of the intramyocardial blood volume, mL/s.
    pub d_volume_ml_s: f64,
    /// Distal (wire) pressure Pd, mmHg.
    pub pd_mmhg: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflow_solves_the_stenosis_equation() {
        let params = CoronaryParams::intermediate_stenosis();
        for (pa, node) in [(90.0, 30.0), (40.0, 60.0), (50.0, 50.0)] {
            let q = params.inflow_ml_s(pa, node, 50.0);
            let residual = pa - node - 50.0 * q - params.stenosis_drop_mmhg(q);
            assert!(residual.abs() < 1e-9, "residual {residual} at {pa}/{node}");
        }
    }

    #[test]
    fn a_higher_lvedp_lowers_diastolic_inflow_at_steady_state() {
        let diastolic = |lvedp: f64| Squeeze {
            pressure_mmhg: lvedp,
            ..Squeeze::default()
        };
        let params = CoronaryParams::normal();
        // Diastole (no activation), aortic pressure 80 mmHg, RA 5 mmHg: the intramyocardial volume where inflow
        // equals outflow, found by running the branch to steady state.
        let steady_inflow = |lvedp: f64| {
            let mut v_im = 0.5;
            for _ in 0..200_000 {
                v_im += 1e-4
                    * params
                        .flows(1.0, 80.0, &diastolic(lvedp), 5.0, v_im)
                        .d_volume_ml_s;
            }
            params.flows(1.0, 80.0, &diastolic(lvedp), 5.0, v_im).inflow_ml_s
        };
        let (low, high) = (steady_inflow(8.0), steady_inflow(28.0));
        // Below the waterfall (0.5 x 0.6 x 8 < 5 mmHg) the back pressure is RA pressure: (80 - 5) / (1 + 62 + 18)
        // less the stenosis' quadratic loss; above it, 0.5 x 0.6 x 28 = 8.4 mmHg.
        assert!(high < low * 0.97, "inflow {high} at LVEDP 28 vs {low} at 8");
        let expected_low = params.inflow_ml_s(80.0, 5.0, 62.0 + 18.0);
        assert!((low - expected_low).abs() < 1e-6, "{low} vs {expected_low}");
    }

    #[test]
    fn area_of_a_3_mm_vessel() {
        assert!((CoronaryParams::normal().area_cm2() - 0.070_685_8).abs() < 1e-6);
    }
}
