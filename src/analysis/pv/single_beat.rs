//! Single-beat end-systolic elastance, an *estimate* (Sunagawa/Takeuchi 1991): a sinusoid fitted to the
//! isovolumic contraction and relaxation pressures predicts the peak pressure the ventricle would have reached
//! had it not ejected, `P_iso`; then `Ees(sb) = (P_iso - ESP) / SV`. It needs true isovolumic phases, so it is
//! refused when volume moves during them (e.g. an Impella emptying the ventricle throughout the cycle).

use serde::{Deserialize, Serialize};

use super::PvBeat;
use crate::analysis::settings::AnalysisSettings;
use crate::analysis::{Provenance, Unavailable};

/// The single-beat elastance estimate of one beat (or an ensemble beat).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SingleBeatEes {
    /// Estimated Ees, mmHg/mL. An estimate, not a measured ESPVR.
    pub ees_estimate_mmhg_per_ml: f64,
    /// Predicted peak isovolumic pressure, mmHg.
    pub p_iso_mmhg: f64,
    /// Coefficient of determination of the sinusoid on the isovolumic samples.
    pub r2: f64,
    /// Isovolumic samples fitted.
    pub num_samples: usize,
    /// Always `"estimate"`: shown beside the number.
    pub label: String,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// Residual sum of squares and amplitude of `P - EDP = amplitude x (1 + cos(pi (t - peak) / half_width)) / 2`.
fn hump_fit(points: &[(f64, f64)], peak_s: f64, half_width_s: f64) -> (f64, f64) {
    let (mut sgg, mut sgy) = (0.0, 0.0);
    let shape = |t: f64| 0.5 * (1.0 + (std::f64::consts::PI * (t - peak_s) / half_width_s).cos());
    for &(t, y) in points {
        let g = shape(t);
        sgg += g * g;
        sgy += g * y;
    }
    if sgg <= 0.0 {
        return (f64::INFINITY, 0.0);
    }
    let amplitude = sgy / sgg;
    let sse = points
        .iter()
        .map(|&(t, y)| (y - amplitude * shape(t)).powi(2))
        .sum();
    (sse, amplitude)
}

/// The estimate for one beat: `lvp_mmhg`/`lvv_ml` run from ED to the next ED (inclusive) and `beat` holds the
/// beat's indices (ED, ES, SV and the dP/dt extrema's times).
pub fn single_beat_ees(
    lvp_mmhg: &[f64],
    lvv_ml: &[f64],
    beat: &PvBeat,
    settings: &AnalysisSettings,
) -> Result<SingleBeatEes, Unavailable> {
    if beat.sv_ml <= 0.0 {
        return Err(Unavailable::NonPositive("stroke volume".into()));
    }
    let rate = settings.analysis_rate_hz();
    let dt = 1.0 / rate;
    let len = lvp_mmhg.len().min(lvv_ml.len());
    let rise_end = ((beat.dpdt_max_time_s * rate).round() as usize).min(len);
    let fall_start = ((beat.dpdt_min_time_s * rate).round() as usize).min(len);
    let fall_end = lvp_mmhg[fall_start..len]
        .iter()
        .position(|&p| p <= beat.lvedp_mmhg + settings.tau.end_above_next_edp_mmhg)
        .map_or(len, |i| fall_start + i);
    if rise_end < 3 || fall_end < fall_start + 3 {
        return Err(Unavailable::NotApplicable(
            "isovolumic phases too short to fit".into(),
        ));
    }
    let limit = settings.tau.max_volume_change_fraction_of_sv * beat.sv_ml;
    let spread = |x: &[f64]| {
        let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
        hi - lo
    };
    if spread(&lvv_ml[..rise_end]) > limit || spread(&lvv_ml[fall_start..fall_end]) > limit {
        return Err(Unavailable::NotApplicable(
            "no isovolumic phase: volume changes by more than the set fraction of SV".into(),
        ));
    }
    let points: Vec<(f64, f64)> = (0..rise_end)
        .chain(fall_start..fall_end)
        .map(|i| (i as f64 * dt, lvp_mmhg[i] - beat.lvedp_mmhg))
        .collect();
    // Zooming grid over the hump's peak time (between dP/dt max and dP/dt min) and half-width.
    let (t_rise, t_fall, t_end) = (rise_end as f64 * dt, fall_start as f64 * dt, fall_end as f64 * dt);
    let (mut peak_range, mut width_range) = ((t_rise, t_fall), ((t_fall - t_rise) * 0.5 + dt, 1.5 * t_end));
    let mut best = (f64::INFINITY, 0.0, 0.0, 0.0);
    const STEPS: usize = 16;
    for _ in 0..5 {
        for i in 0..=STEPS {
            for j in 0..=STEPS {
                let peak = peak_range.0 + (peak_range.1 - peak_range.0) * i as f64 / STEPS as f64;
                let width = width_range.0 + (width_range.1 - width_range.0) * j as f64 / STEPS as f64;
                let (sse, amplitude) = hump_fit(&points, peak, width);
                if sse < best.0 {
                    best = (sse, amplitude, peak, width);
                }
            }
        }
        let (peak_step, width_step) = (
            (peak_range.1 - peak_range.0) / STEPS as f64,
            (width_range.1 - width_range.0) / STEPS as f64,
        );
        peak_range = (best.2 - 2.0 * peak_step, best.2 + 2.0 * peak_step);
        width_range = ((best.3 - 2.0 * width_step).max(dt), best.3 + 2.0 * width_step);
    }
    let (sse, amplitude, ..) = best;
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let sst: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let p_iso = beat.lvedp_mmhg + amplitude;
    if !p_iso.is_finite() || p_iso <= beat.lvesp_mmhg {
        return Err(Unavailable::FitFailed(
            "predicted isovolumic pressure not above ESP".into(),
        ));
    }
    Ok(SingleBeatEes {
        ees_estimate_mmhg_per_ml: (p_iso - beat.lvesp_mmhg) / beat.sv_ml,
        p_iso_mmhg: p_iso,
        r2: if sst > 0.0 { 1.0 - sse / sst } else { 0.0 },
        num_samples: points.len(),
        label: "estimate".to_owned(),
        provenance: Provenance::new(
            "single-beat Ees (Takeuchi 1991): sinusoid on isovolumic contraction (ED..dP/dt max) and relaxation \
             (dP/dt min..EDP + tau margin); (P_iso - ESP)/SV",
            settings,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{EndSystoleMethod, Tau};
    use super::*;

    fn beat_indices(edp: f64, esp: f64, sv: f64, rise_s: f64, fall_s: f64) -> PvBeat {
        PvBeat {
            rr_s: 0.8,
            heart_rate_bpm: 75.0,
            lvedp_mmhg: edp,
            edv_ml: 120.0,
            lvesp_mmhg: esp,
            esv_ml: 120.0 - sv,
            es_time_s: fall_s - 0.02,
            es_method: EndSystoleMethod::MaxElastance,
            v0_ml: 0.0,
            lvsp_mmhg: esp + 10.0,
            sv_ml: sv,
            ef_fraction: Some(sv / 120.0),
            native_co_l_min: sv * 0.075,
            dpdt_max_mmhg_per_s: 1500.0,
            dpdt_min_mmhg_per_s: -1500.0,
            dpdt_max_time_s: rise_s,
            dpdt_min_time_s: fall_s,
            ea_mmhg_per_ml: Some(esp / sv),
            sw_mmhg_ml: 0.0,
            tau: Tau::default(),
            warnings: vec![],
        }
    }

    #[test]
    fn recovers_the_isovolumic_peak_of_a_planted_sinusoid() {
        let (edp, p_iso, peak, half) = (10.0, 190.0, 0.20, 0.20);
        let rate = 1000.0;
        let hump =
            |t: f64| edp + (p_iso - edp) * 0.5 * (1.0 + (std::f64::consts::PI * (t - peak) / half).cos());
        let (rise, fall) = (0.06, 0.33);
        let n = 800;
        let mut p = Vec::new();
        let mut v = Vec::new();
        for i in 0..=n {
            let t = i as f64 / rate;
            // Ejection between dP/dt max and dP/dt min keeps pressure below the isovolumic curve.
            let ejecting = t > rise && t < fall;
            p.push(if t > 2.0 * half + peak - half {
                edp
            } else if ejecting {
                hump(t) * 0.7
            } else {
                hump(t)
            });
            v.push(if t <= rise {
                120.0
            } else if t < fall {
                120.0 - 70.0 * (t - rise) / (fall - rise)
            } else {
                50.0
            });
        }
        let beat = beat_indices(edp, 100.0, 70.0, rise, fall);
        let settings = AnalysisSettings::default();
        let estimate = single_beat_ees(&p, &v, &beat, &settings).unwrap();
        assert!(
            (estimate.p_iso_mmhg / p_iso - 1.0).abs() < 0.01,
            "{}",
            estimate.p_iso_mmhg
        );
        assert!((estimate.ees_estimate_mmhg_per_ml - (p_iso - 100.0) / 70.0).abs() < 0.05);
        assert_eq!(estimate.label, "estimate");
        // Volume moving during "isovolumic" contraction: refused.
        let moving: Vec<f64> = (0..=n).map(|i| 120.0 - 0.1 * i as f64).collect();
        assert!(matches!(
            single_beat_ees(&p, &moving, &beat, &settings),
            Err(Unavailable::NotApplicable(_))
        ));
    }
}
