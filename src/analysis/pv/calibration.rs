//! Conductance-catheter volume calibration (Baan): `V = (1/alpha) rho_b L^2 (G - Gp)`, with the parallel
//! conductance Gp from a hypertonic-saline wash-in (`G_es = m G_ed + b`, `Gp = b / (1 - m)`) and the slope
//! factor alpha from a reference stroke volume. Thermodilution is unreliable on VA-ECMO, so uncalibrated volumes
//! are accepted elsewhere; these formulas serve when a calibration was done.

use serde::{Deserialize, Serialize};

use crate::analysis::Unavailable;
use crate::analysis::numeric::fit_line;

/// Volume from conductance, mL: `(1/alpha) rho_b L^2 (G - Gp)`, with blood resistivity in ohm.cm, electrode
/// spacing in cm and conductances in mS.
pub fn volume_from_conductance_ml(
    conductance_ms: f64,
    parallel_conductance_ms: f64,
    alpha: f64,
    blood_resistivity_ohm_cm: f64,
    electrode_spacing_cm: f64,
) -> f64 {
    // ohm.cm x cm^2 x S = cm^3 = mL; mS -> S.
    blood_resistivity_ohm_cm
        * electrode_spacing_cm.powi(2)
        * (conductance_ms - parallel_conductance_ms)
        * 1e-3
        / alpha
}

/// The parallel conductance from a saline wash-in.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParallelConductance {
    /// Gp, mS.
    pub gp_ms: f64,
    /// Slope m of `G_es = m G_ed + b`.
    pub slope: f64,
    /// Intercept b, mS.
    pub intercept_ms: f64,
    /// Coefficient of determination of the line.
    pub r2: f64,
    /// Beats used.
    pub n: usize,
}

/// Gp from per-beat end-diastolic and end-systolic conductances during saline wash-in: the line
/// `G_es = m G_ed + b` meets the identity at `Gp = b / (1 - m)`.
pub fn parallel_conductance(g_ed_ms: &[f64], g_es_ms: &[f64]) -> Result<ParallelConductance, Unavailable> {
    let fit = fit_line(g_ed_ms, g_es_ms)?;
    if (1.0 - fit.slope).abs() < 1e-9 {
        return Err(Unavailable::FitFailed(
            "G_es parallel to G_ed: the wash-in line never meets G_es = G_ed".into(),
        ));
    }
    Ok(ParallelConductance {
        gp_ms: fit.intercept / (1.0 - fit.slope),
        slope: fit.slope,
        intercept_ms: fit.intercept,
        r2: fit.r2,
        n: fit.n,
    })
}

/// alpha from a reference stroke volume: the conductance stroke volume (with alpha = 1) over the reference.
pub fn alpha_from_reference_sv(
    g_ed_ms: f64,
    g_es_ms: f64,
    blood_resistivity_ohm_cm: f64,
    electrode_spacing_cm: f64,
    reference_sv_ml: f64,
) -> Result<f64, Unavailable> {
    if reference_sv_ml <= 0.0 {
        return Err(Unavailable::NonPositive("reference stroke volume".into()));
    }
    let conductance_sv = blood_resistivity_ohm_cm * electrode_spacing_cm.powi(2) * (g_ed_ms - g_es_ms) * 1e-3;
    if conductance_sv <= 0.0 {
        return Err(Unavailable::NonPositive("conductance stroke volume".into()));
    }
    Ok(conductance_sv / reference_sv_ml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_formulas_recover_planted_values() {
        // rho 150 ohm.cm, L 1 cm: 1 mS of conductance is 0.15 mL (alpha 1).
        let (rho, l, alpha, gp) = (150.0, 1.0, 0.8, 400.0);
        let volume = |g: f64| volume_from_conductance_ml(g, gp, alpha, rho, l);
        assert!((volume(1200.0) - 150.0).abs() < 1e-9);
        // Saline wash-in: true volumes 120 (ED) and 50 (ES) shifted by a rising Gp: G = V alpha/(rho L^2) + Gp.
        let to_g = |v: f64, gp: f64| v * alpha / (rho * l * l * 1e-3) + gp;
        let wash_in: Vec<f64> = (0..8).map(|k| 200.0 + 40.0 * k as f64).collect();
        let g_ed: Vec<f64> = wash_in.iter().map(|&g| to_g(120.0, g)).collect();
        let g_es: Vec<f64> = wash_in.iter().map(|&g| to_g(50.0, g)).collect();
        // Here G_es - G_ed is constant, so m = 1: no intersection. Real wash-in scales both with conductivity.
        assert!(parallel_conductance(&g_ed, &g_es).is_err());
        let scale: Vec<f64> = (0..8).map(|k| 1.0 + 0.1 * k as f64).collect();
        let g_ed: Vec<f64> = scale.iter().map(|s| s * to_g(120.0, 0.0) + gp).collect();
        let g_es: Vec<f64> = scale.iter().map(|s| s * to_g(50.0, 0.0) + gp).collect();
        let parallel = parallel_conductance(&g_ed, &g_es).unwrap();
        assert!((parallel.gp_ms - gp).abs() < 1e-6, "{parallel:?}");
        let alpha_found = alpha_from_reference_sv(to_g(120.0, gp), to_g(50.0, gp), rho, l, 70.0).unwrap();
        assert!((alpha_found - alpha).abs() < 1e-12);
        assert!(alpha_from_reference_sv(1.0, 2.0, rho, l, 70.0).is_err());
        assert!(alpha_from_reference_sv(2.0, 1.0, rho, l, 0.0).is_err());
    }
}
