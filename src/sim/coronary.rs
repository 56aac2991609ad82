//! The instrumented coronary artery (the vessel with the Doppler-pressure wire): inflow from the ascending
//! aorta (Pa), an epicardial stenosis with a viscous and a quadratic (flow-separation) pressure drop to the
//! wire's distal pressure Pd, then an intramyocardial pump: arteriolar resistance into an intramyocardial
//! compliance squeezed by a fraction of LV pressure, and venular resistance out to the right atrium. The
//! compression makes the flow mostly diastolic; adenosine hyperaemia lowers both microvascular resistances.
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
    /// Fraction of LV pressure transmitted to the intramyocardial vessels.
    pub compression_fraction: f64,
    /// Microvascular resistance at full adenosine hyperaemia relative to rest.
    pub hyperaemic_resistance_ratio: f64,
}

impl CoronaryParams {
    /// A left anterior descending artery without significant stenosis.
    pub fn normal() -> CoronaryParams {
        CoronaryParams {
            diameter_mm: 3.0,
            stenosis_viscous: 1.0,
            stenosis_expansion: 0.3,
            r_arteriolar: 70.0,
            r_venular: 20.0,
            c_intramyocardial: 0.012,
            compression_fraction: 0.75,
            hyperaemic_resistance_ratio: 1.0 / 3.5,
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
    fn area_of_a_3_mm_vessel() {
        assert!((CoronaryParams::normal().area_cm2() - 0.070_685_8).abs() < 1e-6);
    }
}
