//! Myocardial oxygen supply versus demand (ENDPOINTS.md section 6): coronary flow per unit of pressure-volume
//! area, the tension-time and diastolic pressure-time indices and their ratio (SEVR), the rate-pressure product,
//! and an MVO2 estimate from PVA only when its constants are given. Only within-patient ratios between states are
//! interpretable; the absolute numbers have no normal range on VA-ECMO.

use serde::{Deserialize, Serialize};

use super::numeric::{integral, sum};
use super::settings::{AnalysisSettings, Mvo2Constants};
use super::{Provenance, Unavailable};

/// Tension-time index: the integral of LV pressure over systole `[from, to)`, mmHg.s.
pub fn tension_time_index_mmhg_s(lvp_mmhg: &[f64], from: usize, to: usize, dt_s: f64) -> Option<f64> {
    lvp_mmhg
        .get(from..to)
        .filter(|s| !s.is_empty())
        .and_then(|s| integral(s, dt_s))
}

/// Diastolic pressure-time index: the integral of (aortic - LV pressure) over diastole `[from, to)`, mmHg.s.
pub fn diastolic_pressure_time_index_mmhg_s(
    pa_mmhg: &[f64],
    lvp_mmhg: &[f64],
    from: usize,
    to: usize,
    dt_s: f64,
) -> Option<f64> {
    let (pa, lvp) = (pa_mmhg.get(from..to)?, lvp_mmhg.get(from..to)?);
    let difference = sum(pa) - sum(lvp);
    (!pa.is_empty() && difference.is_finite()).then_some(difference * dt_s)
}

/// Supply/demand values of one beat. Each is `None` when an input is missing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplyDemandBeat {
    /// Tension-time index, mmHg.s.
    pub tti_mmhg_s: Option<f64>,
    /// Diastolic pressure-time index, mmHg.s.
    pub dpti_mmhg_s: Option<f64>,
    /// Subendocardial viability ratio DPTI/TTI.
    pub sevr: Option<f64>,
    /// Heart rate x LVSP, mmHg/min.
    pub rate_pressure_product_mmhg_per_min: Option<f64>,
    /// Diastolic VTI per unit PVA, cm/(mmHg.mL).
    pub dvti_per_pva_cm_per_mmhg_ml: Option<f64>,
    /// Volumetric flow per beat per unit PVA, mL/(mmHg.mL) (when a vessel diameter is set).
    pub flow_per_pva_ml_per_mmhg_ml: Option<f64>,
}

/// The inputs of [`supply_demand_beat`], all per beat.
#[derive(Clone, Copy, Debug, Default)]
pub struct SupplyDemandInputs {
    /// Tension-time index, mmHg.s.
    pub tti_mmhg_s: Option<f64>,
    /// Diastolic pressure-time index, mmHg.s.
    pub dpti_mmhg_s: Option<f64>,
    /// Heart rate, beats/min.
    pub heart_rate_bpm: Option<f64>,
    /// Peak LV pressure, mmHg.
    pub lvsp_mmhg: Option<f64>,
    /// Diastolic velocity-time integral, cm.
    pub dvti_cm: Option<f64>,
    /// Coronary flow over the beat, mL (from APV and a vessel diameter).
    pub flow_ml_per_beat: Option<f64>,
    /// Pressure-volume area, mmHg.mL.
    pub pva_mmhg_ml: Option<f64>,
}

/// Supply/demand ratios of one beat.
pub fn supply_demand_beat(inputs: SupplyDemandInputs) -> SupplyDemandBeat {
    let per = |numerator: Option<f64>, denominator: Option<f64>| match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d),
        _ => None,
    };
    SupplyDemandBeat {
        tti_mmhg_s: inputs.tti_mmhg_s,
        dpti_mmhg_s: inputs.dpti_mmhg_s,
        sevr: per(inputs.dpti_mmhg_s, inputs.tti_mmhg_s),
        rate_pressure_product_mmhg_per_min: inputs.heart_rate_bpm.zip(inputs.lvsp_mmhg).map(|(hr, p)| hr * p),
        dvti_per_pva_cm_per_mmhg_ml: per(inputs.dvti_cm, inputs.pva_mmhg_ml),
        flow_per_pva_ml_per_mmhg_ml: per(inputs.flow_ml_per_beat, inputs.pva_mmhg_ml),
    }
}

/// Coronary supply per unit of demand per minute: APV (cm/s) or flow (mL/min) divided by PVA x HR
/// (mmHg.mL/min). Only the ratio between states of one patient means anything.
pub fn supply_per_pva_rate(supply: f64, pva_mmhg_ml: f64, heart_rate_bpm: f64) -> Option<f64> {
    let demand = pva_mmhg_ml * heart_rate_bpm;
    (demand > 0.0 && supply.is_finite()).then(|| supply / demand)
}

/// A labelled MVO2 estimate from PVA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mvo2Estimate {
    /// Estimated oxygen consumption, mL O2 per beat.
    pub ml_o2_per_beat: f64,
    /// Estimated oxygen consumption, mL O2 per minute.
    pub ml_o2_per_min: f64,
    /// The constants used, with their source.
    pub constants: Mvo2Constants,
    /// Always `"estimate"`.
    pub label: String,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// `MVO2 = a PVA + b`, only when the settings carry constants (otherwise no estimate is made).
pub fn mvo2_estimate(
    pva_mmhg_ml: f64,
    heart_rate_bpm: f64,
    settings: &AnalysisSettings,
) -> Result<Mvo2Estimate, Unavailable> {
    let constants = settings.mvo2.clone().ok_or_else(|| {
        Unavailable::NotApplicable("MVO2 not requested (no constants in the settings)".into())
    })?;
    let per_beat = constants.ml_o2_per_mmhg_ml * pva_mmhg_ml + constants.ml_o2_per_beat;
    Ok(Mvo2Estimate {
        ml_o2_per_beat: per_beat,
        ml_o2_per_min: per_beat * heart_rate_bpm,
        label: "estimate".to_owned(),
        provenance: Provenance::new(&format!("MVO2 = a PVA + b ({})", constants.source), settings),
        constants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_of_planted_pressures() {
        let lvp: Vec<f64> = (0..1000).map(|i| if i < 400 { 100.0 } else { 10.0 }).collect();
        let pa = vec![70.0; 1000];
        let tti = tension_time_index_mmhg_s(&lvp, 0, 400, 1e-3).unwrap();
        let dpti = diastolic_pressure_time_index_mmhg_s(&pa, &lvp, 400, 1000, 1e-3).unwrap();
        assert!((tti - 40.0).abs() < 1e-9 && (dpti - 36.0).abs() < 1e-9);
        assert_eq!(tension_time_index_mmhg_s(&lvp, 900, 1200, 1e-3), None);
        let beat = supply_demand_beat(SupplyDemandInputs {
            tti_mmhg_s: Some(tti),
            dpti_mmhg_s: Some(dpti),
            heart_rate_bpm: Some(60.0),
            lvsp_mmhg: Some(100.0),
            dvti_cm: Some(12.0),
            flow_ml_per_beat: None,
            pva_mmhg_ml: Some(6000.0),
        });
        assert!((beat.sevr.unwrap() - 0.9).abs() < 1e-12);
        assert_eq!(beat.rate_pressure_product_mmhg_per_min, Some(6000.0));
        assert_eq!(beat.dvti_per_pva_cm_per_mmhg_ml, Some(0.002));
        assert_eq!(beat.flow_per_pva_ml_per_mmhg_ml, None);
        assert_eq!(supply_per_pva_rate(20.0, 5000.0, 80.0), Some(20.0 / 400_000.0));
        assert_eq!(supply_per_pva_rate(20.0, -5.0, 80.0), None);
    }

    #[test]
    fn mvo2_only_when_asked_for() {
        let mut settings = AnalysisSettings::default();
        assert!(mvo2_estimate(6000.0, 80.0, &settings).is_err());
        settings.mvo2 = Some(Mvo2Constants {
            ml_o2_per_mmhg_ml: 1.8e-5,
            ml_o2_per_beat: 0.02,
            source: "test constants".into(),
        });
        let estimate = mvo2_estimate(6000.0, 80.0, &settings).unwrap();
        assert!((estimate.ml_o2_per_beat - 0.128).abs() < 1e-12);
        assert!((estimate.ml_o2_per_min - 10.24).abs() < 1e-9);
        assert_eq!(estimate.label, "estimate");
    }
}
