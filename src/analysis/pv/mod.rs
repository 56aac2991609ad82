//! Pressure-volume endpoints (ENDPOINTS.md section 5): per-beat indices from ED to the next ED, relaxation
//! ([`tau`]), the end-systolic, end-diastolic and preload-recruitable relations ([`relations`]), pressure-volume
//! area and coupling ([`pva`]), the single-beat elastance estimate ([`single_beat`]) and conductance calibration
//! ([`calibration`]).
//!
//! Uncalibrated conductance volumes are valid data: negative V0, negative EDP (zero offset) and volumes of the
//! wrong scale produce warnings beside the numbers, never a failure.

pub mod calibration;
pub mod pva;
pub mod relations;
pub mod single_beat;
pub mod tau;

use serde::{Deserialize, Serialize};

use super::Unavailable;
use super::numeric::sum;
use super::settings::AnalysisSettings;
pub use tau::Tau;

/// LV pressure, volume and dP/dt of a recording at one common rate.
#[derive(Clone, Copy, Debug)]
pub struct PvChannels<'a> {
    /// LV pressure, mmHg.
    pub lvp_mmhg: &'a [f64],
    /// LV volume, mL (calibrated or not).
    pub lvv_ml: &'a [f64],
    /// dP/dt of `lvp_mmhg` by the stored derivative method, mmHg/s.
    pub dpdt_mmhg_s: &'a [f64],
}

/// How end-systole was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndSystoleMethod {
    /// Maximum of P / (V - V0) between ED and dP/dt min.
    MaxElastance,
    /// No sample with V > V0: the fallback, a fixed time before dP/dt min.
    BeforeDpdtMin,
}

/// The end-systolic sample of a beat: the maximum of P/(V - V0) from ED up to dP/dt min (inclusive); its offset
/// from the start of the slices. `None` when no sample has V > V0.
pub fn max_elastance_offset(
    lvp_mmhg: &[f64],
    lvv_ml: &[f64],
    search_len: usize,
    v0_ml: f64,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, (&p, &v)) in lvp_mmhg.iter().zip(lvv_ml).take(search_len).enumerate() {
        let elastance = p / (v - v0_ml);
        if v > v0_ml && best.is_none_or(|(_, e)| elastance > e) {
            best = Some((i, elastance));
        }
    }
    best.map(|(i, _)| i)
}

/// Stroke work: the signed area of the closed loop by the shoelace formula, V on x and P on y, positive for the
/// normal counter-clockwise loop, mmHg.mL. The polygon closes from the last sample back to the first.
pub fn loop_area_mmhg_ml(lvp_mmhg: &[f64], lvv_ml: &[f64]) -> f64 {
    let n = lvp_mmhg.len().min(lvv_ml.len());
    if n < 3 {
        return 0.0;
    }
    // Coordinates relative to the first vertex keep the cross products small (volumes of 200 mL, offsets of
    // hundreds of mL in uncalibrated data) without changing the area.
    let (p0, v0) = (lvp_mmhg[0], lvv_ml[0]);
    let mut twice_area = 0.0;
    for i in 1..n - 1 {
        let (v1, p1) = (lvv_ml[i] - v0, lvp_mmhg[i] - p0);
        let (v2, p2) = (lvv_ml[i + 1] - v0, lvp_mmhg[i + 1] - p0);
        twice_area += v1 * p2 - v2 * p1;
    }
    0.5 * twice_area
}

/// Indices of one pressure-volume beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvBeat {
    /// Beat length (ED to next ED), s.
    pub rr_s: f64,
    /// 60 / RR, beats/min.
    pub heart_rate_bpm: f64,
    /// LV pressure at ED, mmHg.
    pub lvedp_mmhg: f64,
    /// LV volume at ED (never at maximum volume), mL.
    pub edv_ml: f64,
    /// LV pressure at ES, mmHg.
    pub lvesp_mmhg: f64,
    /// LV volume at ES, mL.
    pub esv_ml: f64,
    /// Time of ES after ED, s.
    pub es_time_s: f64,
    /// How ES was found.
    pub es_method: EndSystoleMethod,
    /// V0 used for ES (and PVA), mL.
    pub v0_ml: f64,
    /// Maximum LV pressure, mmHg.
    pub lvsp_mmhg: f64,
    /// EDV - ESV, mL.
    pub sv_ml: f64,
    /// SV / EDV (only when EDV > 0).
    #[serde(alias = "ef")]
    pub ef_fraction: Option<f64>,
    /// SV x HR, L/min. On ECMO or an Impella this is the LV's own output, not systemic flow.
    pub native_co_l_min: f64,
    /// Maximum dP/dt, mmHg/s.
    #[serde(alias = "dpdt_max_mmhg_s")]
    pub dpdt_max_mmhg_per_s: f64,
    /// Minimum dP/dt, mmHg/s.
    #[serde(alias = "dpdt_min_mmhg_s")]
    pub dpdt_min_mmhg_per_s: f64,
    /// Time of dP/dt max after ED, s.
    pub dpdt_max_time_s: f64,
    /// Time of dP/dt min after ED, s.
    pub dpdt_min_time_s: f64,
    /// Arterial elastance ESP / SV, mmHg/mL (only when SV > 0).
    pub ea_mmhg_per_ml: Option<f64>,
    /// Stroke work, the signed loop area, mmHg.mL.
    pub sw_mmhg_ml: f64,
    /// Relaxation: Weiss, Glantz and logistic tau with the validity flag.
    pub tau: Tau,
    /// Data warnings (uncalibrated volumes, negative EDP, non-positive SV), shown beside the values.
    pub warnings: Vec<String>,
}

/// Offset (from `from`) of the largest and smallest value of `series[from..to]`.
fn arg_extrema(series: &[f64]) -> (usize, usize) {
    let (mut max_at, mut min_at) = (0, 0);
    for (i, &x) in series.iter().enumerate() {
        if x > series[max_at] {
            max_at = i;
        }
        if x < series[min_at] {
            min_at = i;
        }
    }
    (max_at, min_at)
}

/// The indices of the beat `[start, end)` (ED to next ED). The sample at `end` (the next ED) ends the tau fit.
pub fn pv_beat(
    channels: PvChannels<'_>,
    start: usize,
    end: usize,
    v0_ml: f64,
    settings: &AnalysisSettings,
) -> Result<PvBeat, Unavailable> {
    let len = channels
        .lvp_mmhg
        .len()
        .min(channels.lvv_ml.len())
        .min(channels.dpdt_mmhg_s.len());
    if end >= len || end < start + 4 {
        return Err(Unavailable::too_few(
            "samples in the beat",
            end.saturating_sub(start),
            4,
        ));
    }
    let p = &channels.lvp_mmhg[start..=end];
    let v = &channels.lvv_ml[start..=end];
    let dpdt = &channels.dpdt_mmhg_s[start..end];
    let finite = |x: &[f64]| sum(x).is_finite();
    if !finite(p) || !finite(v) || !finite(dpdt) {
        return Err(Unavailable::MissingSamples(
            "LV pressure or volume in the beat".into(),
        ));
    }
    let dt = settings.sample_interval_s();
    let rr_s = (end - start) as f64 * dt;
    let (dpdt_max_at, dpdt_min_at) = arg_extrema(dpdt);
    let (es_at, es_method) = match max_elastance_offset(p, v, dpdt_min_at + 1, v0_ml) {
        Some(at) => (at, EndSystoleMethod::MaxElastance),
        None => {
            let back = (settings.signal.phases.es_before_dpdt_min_s / dt).round() as usize;
            (dpdt_min_at.saturating_sub(back), EndSystoleMethod::BeforeDpdtMin)
        }
    };
    let (lvedp, edv) = (p[0], v[0]);
    let (lvesp, esv) = (p[es_at], v[es_at]);
    let sv = edv - esv;
    let heart_rate = 60.0 / rr_s;
    let mut warnings = Vec::new();
    if lvedp < 0.0 {
        warnings.push(format!("negative EDP ({lvedp:.1} mmHg): check the pressure zero"));
    }
    if edv <= 0.0 {
        warnings.push("EDV <= 0: volumes uncalibrated, EF not reported".to_owned());
    }
    if sv <= 0.0 {
        warnings.push("SV <= 0: Ea not reported".to_owned());
    }
    if es_method == EndSystoleMethod::BeforeDpdtMin {
        warnings.push(format!(
            "no sample with V > V0 ({v0_ml:.1} mL): ES taken before dP/dt min"
        ));
    }
    let next_edp = p[p.len() - 1];
    let tau = tau::tau(
        &p[..p.len() - 1],
        dpdt,
        Some(&v[..v.len() - 1]),
        dpdt_min_at,
        next_edp + settings.tau.end_above_next_edp_mmhg,
        (sv > 0.0).then_some(sv),
        settings,
    );
    Ok(PvBeat {
        rr_s,
        heart_rate_bpm: heart_rate,
        lvedp_mmhg: lvedp,
        edv_ml: edv,
        lvesp_mmhg: lvesp,
        esv_ml: esv,
        es_time_s: es_at as f64 * dt,
        es_method,
        v0_ml,
        lvsp_mmhg: p[..p.len() - 1].iter().copied().fold(f64::NEG_INFINITY, f64::max),
        sv_ml: sv,
        ef_fraction: (edv > 0.0).then(|| sv / edv),
        native_co_l_min: sv * heart_rate / 1000.0,
        dpdt_max_mmhg_per_s: dpdt[dpdt_max_at],
        dpdt_min_mmhg_per_s: dpdt[dpdt_min_at],
        dpdt_max_time_s: dpdt_max_at as f64 * dt,
        dpdt_min_time_s: dpdt_min_at as f64 * dt,
        ea_mmhg_per_ml: (sv > 0.0).then(|| lvesp / sv),
        sw_mmhg_ml: loop_area_mmhg_ml(&p[..p.len() - 1], &v[..v.len() - 1]),
        tau,
        warnings,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A polygon traced densely (so it looks like a sampled loop): vertices joined by `per_edge` samples each.
    pub(crate) fn trace(vertices: &[(f64, f64)], per_edge: usize) -> (Vec<f64>, Vec<f64>) {
        let (mut v, mut p) = (Vec::new(), Vec::new());
        for (i, &(v1, p1)) in vertices.iter().enumerate() {
            let (v2, p2) = vertices[(i + 1) % vertices.len()];
            for k in 0..per_edge {
                let f = k as f64 / per_edge as f64;
                v.push(v1 + f * (v2 - v1));
                p.push(p1 + f * (p2 - p1));
            }
        }
        (p, v)
    }

    #[test]
    fn loop_area_is_exact_and_signed_by_orientation() {
        // Rectangle EDV 120, ESV 50, 10 -> 100 mmHg, counter-clockwise (fill, contract, eject, relax).
        let ccw = [(50.0, 10.0), (120.0, 10.0), (120.0, 100.0), (50.0, 100.0)];
        let (p, v) = trace(&ccw, 25);
        assert!((loop_area_mmhg_ml(&p, &v) - 70.0 * 90.0).abs() < 1e-9);
        let (p, v) = trace(&[ccw[3], ccw[2], ccw[1], ccw[0]], 25);
        assert!((loop_area_mmhg_ml(&p, &v) + 70.0 * 90.0).abs() < 1e-9);
        // A triangle far from the origin (uncalibrated offsets do not change the area).
        let (p, v) = trace(&[(-400.0, -5.0), (-300.0, -5.0), (-300.0, 95.0)], 7);
        assert!((loop_area_mmhg_ml(&p, &v) - 0.5 * 100.0 * 100.0).abs() < 1e-8);
        assert_eq!(loop_area_mmhg_ml(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    }

    #[test]
    fn end_systole_is_max_elastance_and_respects_v0() {
        let p = [10.0, 80.0, 100.0, 90.0, 40.0];
        let v = [120.0, 120.0, 80.0, 60.0, 60.0];
        // With V0 = 0: ratios 0.083, 0.67, 1.25, 1.5, 0.67 -> sample 3.
        assert_eq!(max_elastance_offset(&p, &v, 5, 0.0), Some(3));
        // The search stops at dP/dt min.
        assert_eq!(max_elastance_offset(&p, &v, 3, 0.0), Some(2));
        // Samples with V <= V0 do not count; none left -> None.
        assert_eq!(max_elastance_offset(&p, &v, 5, 200.0), None);
    }

    /// A rectangle-like loop sampled at 1 kHz: filling, isovolumic contraction, ejection, relaxation.
    fn box_beat() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let ccw = [(120.0, 8.0), (120.0, 100.0), (50.0, 110.0), (50.0, 8.0)];
        let (mut p, mut v) = trace(&ccw, 200);
        // Close with the next ED sample.
        p.push(8.0);
        v.push(120.0);
        let dpdt: Vec<f64> = (0..p.len())
            .map(|i| (p[(i + 1).min(p.len() - 1)] - p[i]) * 1000.0)
            .collect();
        (p, v, dpdt)
    }

    #[test]
    fn beat_indices_of_a_planted_loop() {
        let (p, v, dpdt) = box_beat();
        let settings = AnalysisSettings::default();
        let channels = PvChannels {
            lvp_mmhg: &p,
            lvv_ml: &v,
            dpdt_mmhg_s: &dpdt,
        };
        let beat = pv_beat(channels, 0, 800, 0.0, &settings).unwrap();
        assert_eq!((beat.lvedp_mmhg, beat.edv_ml), (8.0, 120.0));
        assert_eq!((beat.lvesp_mmhg, beat.esv_ml), (110.0, 50.0));
        assert_eq!(beat.es_method, EndSystoleMethod::MaxElastance);
        assert_eq!(beat.sv_ml, 70.0);
        assert!((beat.ef_fraction.unwrap() - 70.0 / 120.0).abs() < 1e-12);
        assert!((beat.heart_rate_bpm - 75.0).abs() < 1e-12);
        assert!((beat.native_co_l_min - 70.0 * 75.0 / 1000.0).abs() < 1e-12);
        assert_eq!(beat.lvsp_mmhg, 110.0);
        assert!((beat.ea_mmhg_per_ml.unwrap() - 110.0 / 70.0).abs() < 1e-12);
        // Trapezoid (120,8)-(120,100)-(50,110)-(50,8): 70 x (92 + 102) / 2.
        assert!((beat.sw_mmhg_ml - 70.0 * 97.0).abs() < 1e-9);
        assert!((beat.dpdt_max_mmhg_per_s - 92.0 / 0.2).abs() < 1e-6);
        assert!(beat.warnings.is_empty(), "{:?}", beat.warnings);
    }

    #[test]
    fn uncalibrated_and_broken_beats_warn_or_fail_cleanly() {
        let (mut p, mut v, dpdt) = box_beat();
        for x in &mut v {
            *x -= 300.0; // all volumes negative
        }
        for x in &mut p {
            *x -= 12.0; // EDP negative
        }
        let settings = AnalysisSettings::default();
        let channels = PvChannels {
            lvp_mmhg: &p,
            lvv_ml: &v,
            dpdt_mmhg_s: &dpdt,
        };
        let beat = pv_beat(channels, 0, 800, 0.0, &settings).unwrap();
        assert_eq!(beat.ef_fraction, None);
        assert_eq!(beat.es_method, EndSystoleMethod::BeforeDpdtMin);
        assert!(beat.warnings.len() >= 3, "{:?}", beat.warnings);
        assert!((beat.sw_mmhg_ml - 70.0 * 97.0).abs() < 1e-9);
        // With a plausible negative V0 the maximum-elastance search works again.
        let beat = pv_beat(channels, 0, 800, -400.0, &settings).unwrap();
        assert_eq!(beat.es_method, EndSystoleMethod::MaxElastance);
        let mut gap = p.clone();
        gap[300] = f64::NAN;
        let channels = PvChannels {
            lvp_mmhg: &gap,
            lvv_ml: &v,
            dpdt_mmhg_s: &dpdt,
        };
        assert!(matches!(
            pv_beat(channels, 0, 800, 0.0, &settings),
            Err(Unavailable::MissingSamples(_))
        ));
        assert!(pv_beat(channels, 0, 2, 0.0, &settings).is_err());
        assert!(pv_beat(channels, 0, 5000, 0.0, &settings).is_err());
    }
}
