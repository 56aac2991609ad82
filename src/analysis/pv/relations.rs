//! Load-independent relations fitted over beats the fellow chooses from a preload reduction (IVC occlusion):
//! the end-systolic pressure-volume relation (ESPVR, `ESP = Ees (ESV - V0)`, ES re-found at max P/(V - V0) as V0
//! is iterated to convergence), the end-diastolic relation (EDPVR, `EDP = A e^(beta EDV) + C`) and
//! preload-recruitable stroke work (PRSW, `SW = Mw (EDV - Vw)`).
//!
//! Which beats are chosen changes Ees by several percent (the first occlusion beat especially), so every fit
//! carries its beat list, n and r^2; the two straight-line fits also carry their slope's regression 95 %
//! interval, since r^2 stays high over a shallow occlusion whose slope is poorly determined.

use serde::{Deserialize, Serialize};

use super::max_elastance_offset;
use crate::analysis::numeric::{fit_line, minimise_log_scan};
use crate::analysis::settings::AnalysisSettings;
use crate::analysis::{Provenance, Unavailable};

/// One beat's samples as the ESPVR needs them, from ED onwards.
#[derive(Clone, Copy, Debug)]
pub struct LoopSamples<'a> {
    /// Beat number (as shown to the fellow).
    pub number: u32,
    /// LV pressure from ED, mmHg.
    pub lvp_mmhg: &'a [f64],
    /// LV volume from ED, mL.
    pub lvv_ml: &'a [f64],
    /// Samples from ED up to and including dP/dt min: where ES is searched.
    pub search_len: usize,
}

/// One end-systolic point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndSystolicPoint {
    /// Beat number.
    pub beat: u32,
    /// ESV, mL.
    pub esv_ml: f64,
    /// ESP, mmHg.
    pub esp_mmhg: f64,
}

/// The end-systolic pressure-volume relation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EspvrFit {
    /// End-systolic elastance (slope), mmHg/mL.
    pub ees_mmhg_per_ml: f64,
    /// Standard error of Ees from the final least-squares line, mmHg/mL (`None` below 3 beats).
    #[serde(default)]
    pub ees_se_mmhg_per_ml: Option<f64>,
    /// Ees's 95 % confidence interval from the final line, `Ees -+ t(0.975, n - 2) SE`, mmHg/mL. The V0
    /// iteration chooses the end-systolic points, so this is the interval of the final line given those points:
    /// it covers their scatter, not the choice of points or beats.
    #[serde(default)]
    pub ees_ci95_mmhg_per_ml: Option<[f64; 2]>,
    /// Volume intercept, mL (far negative for uncalibrated conductance volumes: valid data).
    pub v0_ml: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Beats in the fit.
    pub n: usize,
    /// The beats used, as chosen.
    pub beats: Vec<u32>,
    /// The end-systolic points at the final V0.
    pub points: Vec<EndSystolicPoint>,
    /// V0 iterations performed.
    pub iterations: usize,
    /// Whether V0 moved by less than the tolerance at the end.
    pub converged: bool,
    /// Data warnings.
    pub warnings: Vec<String>,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

fn end_systolic_points(loops: &[LoopSamples<'_>], v0_ml: f64) -> Result<Vec<EndSystolicPoint>, Unavailable> {
    loops
        .iter()
        .map(|beat| {
            let at = max_elastance_offset(beat.lvp_mmhg, beat.lvv_ml, beat.search_len, v0_ml).ok_or_else(
                || {
                    Unavailable::FitFailed(format!(
                        "beat {}: no sample with V > V0 = {v0_ml:.1} mL",
                        beat.number
                    ))
                },
            )?;
            Ok(EndSystolicPoint {
                beat: beat.number,
                esv_ml: beat.lvv_ml[at],
                esp_mmhg: beat.lvp_mmhg[at],
            })
        })
        .collect()
}

/// Fits the ESPVR over `loops`, iterating V0 (ES re-found at max P/(V - V0) each time) until it moves by less than
/// the tolerance. The first V0 is 0 mL, or below every volume when volumes are not all positive.
pub fn fit_espvr(loops: &[LoopSamples<'_>], settings: &AnalysisSettings) -> Result<EspvrFit, Unavailable> {
    if loops.len() < 3 {
        return Err(Unavailable::too_few("beats", loops.len(), 3));
    }
    let all_volumes = || {
        loops
            .iter()
            .flat_map(|beat| beat.lvv_ml.iter().take(beat.search_len).copied())
    };
    let (low, high) = all_volumes().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() || !high.is_finite() {
        return Err(Unavailable::MissingSamples(
            "LV volume of the chosen beats".into(),
        ));
    }
    let mut v0 = if low > 0.0 {
        0.0
    } else {
        low - (high - low).max(1.0)
    };
    let mut iterations = 0;
    let mut converged = false;
    let (mut points, mut fit);
    loop {
        points = end_systolic_points(loops, v0)?;
        let esv: Vec<f64> = points.iter().map(|p| p.esv_ml).collect();
        let esp: Vec<f64> = points.iter().map(|p| p.esp_mmhg).collect();
        fit = fit_line(&esv, &esp)?;
        if fit.slope <= 0.0 {
            return Err(Unavailable::FitFailed(format!(
                "ESPVR slope {:.3} mmHg/mL is not positive: the chosen beats do not span a preload change",
                fit.slope
            )));
        }
        let next_v0 = -fit.intercept / fit.slope;
        iterations += 1;
        let step = (next_v0 - v0).abs();
        v0 = next_v0;
        if step < settings.espvr.v0_tolerance_ml {
            converged = true;
            break;
        }
        if iterations >= settings.espvr.max_iterations {
            break;
        }
    }
    // The last line was fitted to points found with the previous V0; when converged they coincide.
    let mut warnings = Vec::new();
    if !converged {
        warnings.push(format!("V0 did not converge in {iterations} iterations"));
    }
    if v0 < 0.0 {
        warnings.push("negative V0: expected for uncalibrated conductance volumes".to_owned());
    }
    if fit.r2 < 0.9 {
        warnings.push(format!("low r^2 ({:.3}): check the chosen beats", fit.r2));
    }
    Ok(EspvrFit {
        ees_mmhg_per_ml: fit.slope,
        ees_se_mmhg_per_ml: fit.slope_se,
        ees_ci95_mmhg_per_ml: fit.slope_ci95(),
        v0_ml: v0,
        r2: fit.r2,
        n: fit.n,
        beats: loops.iter().map(|beat| beat.number).collect(),
        points,
        iterations,
        converged,
        warnings,
        provenance: Provenance::new(
            "ESPVR: ES = max P/(V - V0) up to dP/dt min; ESP = Ees (ESV - V0) by least squares, V0 iterated",
            settings,
        ),
    })
}

/// A beat's end-diastolic or stroke-work point for EDPVR and PRSW.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatPoint {
    /// Beat number.
    pub beat: u32,
    /// EDV, mL.
    pub edv_ml: f64,
    /// EDP (EDPVR) in mmHg, or SW (PRSW) in mmHg.mL.
    pub value: f64,
}

/// The end-diastolic pressure-volume relation `EDP = A e^(beta EDV) + C`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdpvrFit {
    /// A, mmHg.
    pub a_mmhg: f64,
    /// beta (stiffness), 1/mL.
    pub beta_per_ml: f64,
    /// C, mmHg.
    pub c_mmhg: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Beats in the fit.
    pub n: usize,
    /// The beats used.
    pub beats: Vec<u32>,
    /// Data warnings (beta at the search limit, narrow EDV range).
    pub warnings: Vec<String>,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

impl EdpvrFit {
    /// Pressure on the relation at volume `edv_ml`, mmHg.
    pub fn pressure_mmhg(&self, edv_ml: f64) -> f64 {
        self.a_mmhg * (self.beta_per_ml * edv_ml).exp() + self.c_mmhg
    }

    /// Integral of the relation from `from_ml` to `to_ml`, mmHg.mL.
    pub fn integral_mmhg_ml(&self, from_ml: f64, to_ml: f64) -> f64 {
        let beta = self.beta_per_ml;
        self.a_mmhg / beta * ((beta * to_ml).exp() - (beta * from_ml).exp()) + self.c_mmhg * (to_ml - from_ml)
    }
}

/// Search range of the EDPVR stiffness, 1/mL.
const BETA_RANGE_PER_ML: (f64, f64) = (1e-5, 1.0);

/// Fits the EDPVR. For each beta the model is linear in A and C, so beta alone is searched (separable least
/// squares), with volumes taken relative to the smallest EDV to keep the exponentials in range.
pub fn fit_edpvr(points: &[BeatPoint], settings: &AnalysisSettings) -> Result<EdpvrFit, Unavailable> {
    if points.len() < 4 {
        return Err(Unavailable::too_few("beats", points.len(), 4));
    }
    let edv: Vec<f64> = points.iter().map(|p| p.edv_ml).collect();
    let edp: Vec<f64> = points.iter().map(|p| p.value).collect();
    let min_edv = edv.iter().copied().fold(f64::INFINITY, f64::min);
    let max_edv = edv.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !min_edv.is_finite() || !max_edv.is_finite() || edp.iter().any(|p| !p.is_finite()) {
        return Err(Unavailable::MissingSamples(
            "EDV or EDP of the chosen beats".into(),
        ));
    }
    if max_edv - min_edv <= 0.0 {
        return Err(Unavailable::FitFailed(
            "all chosen beats have the same EDV".into(),
        ));
    }
    let basis = |beta: f64| -> Vec<f64> { edv.iter().map(|v| (beta * (v - min_edv)).exp()).collect() };
    let sse = |beta: f64| {
        fit_line(&basis(beta), &edp).map_or(f64::INFINITY, |fit| {
            let mean = edp.iter().sum::<f64>() / edp.len() as f64;
            edp.iter().map(|p| (p - mean).powi(2)).sum::<f64>() * (1.0 - fit.r2)
        })
    };
    let (beta, _, at_bound) = minimise_log_scan(sse, BETA_RANGE_PER_ML.0, BETA_RANGE_PER_ML.1, 40, 1e-7);
    if !beta.is_finite() {
        return Err(Unavailable::FitFailed("EDPVR: no finite fit".into()));
    }
    let fit = fit_line(&basis(beta), &edp)?;
    let mut warnings = Vec::new();
    if at_bound {
        warnings.push(format!("beta at the limit of its search range ({beta:.2e} /mL): the relation is not exponential over these beats"));
    }
    if fit.slope <= 0.0 {
        warnings.push("EDP does not rise with EDV over the chosen beats".to_owned());
    }
    Ok(EdpvrFit {
        // A e^(beta (V - Vmin)) = (A e^(-beta Vmin)) e^(beta V).
        a_mmhg: fit.slope * (-beta * min_edv).exp(),
        beta_per_ml: beta,
        c_mmhg: fit.intercept,
        r2: fit.r2,
        n: fit.n,
        beats: points.iter().map(|p| p.beat).collect(),
        warnings,
        provenance: Provenance::new(
            "EDPVR: EDP = A e^(beta EDV) + C, separable least squares over beta",
            settings,
        ),
    })
}

/// Preload-recruitable stroke work `SW = Mw (EDV - Vw)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrswFit {
    /// Slope Mw, mmHg.
    pub mw_mmhg: f64,
    /// Mw's 95 % confidence interval from the least-squares line, `Mw -+ t(0.975, n - 2) SE`, mmHg.
    #[serde(default)]
    pub mw_ci95_mmhg: Option<[f64; 2]>,
    /// Volume intercept Vw, mL.
    pub vw_ml: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Beats in the fit.
    pub n: usize,
    /// The beats used.
    pub beats: Vec<u32>,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// Fits PRSW by least squares of SW on EDV.
pub fn fit_prsw(points: &[BeatPoint], settings: &AnalysisSettings) -> Result<PrswFit, Unavailable> {
    if points.len() < 3 {
        return Err(Unavailable::too_few("beats", points.len(), 3));
    }
    let edv: Vec<f64> = points.iter().map(|p| p.edv_ml).collect();
    let sw: Vec<f64> = points.iter().map(|p| p.value).collect();
    let fit = fit_line(&edv, &sw)?;
    if fit.slope <= 0.0 {
        return Err(Unavailable::FitFailed(
            "stroke work does not rise with EDV over the chosen beats".into(),
        ));
    }
    Ok(PrswFit {
        mw_mmhg: fit.slope,
        mw_ci95_mmhg: fit.slope_ci95(),
        vw_ml: -fit.intercept / fit.slope,
        r2: fit.r2,
        n: fit.n,
        beats: points.iter().map(|p| p.beat).collect(),
        provenance: Provenance::new("PRSW: SW = Mw (EDV - Vw) by least squares", settings),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A time-varying-elastance beat at 1 kHz: P = E(t) (V - V0) during systole, with E rising from `e_min` to
    /// `ees` and back, volume ejecting from `edv` during the middle of systole. Returns P, V and the index of the
    /// steepest relaxation (dP/dt min).
    pub(crate) fn elastance_beat(edv: f64, ees: f64, v0: f64, e_min: f64) -> (Vec<f64>, Vec<f64>, usize) {
        let n = 800;
        let systole = 350.0;
        let (mut p, mut v) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let sv = 0.45 * (edv - v0);
        for i in 0..n {
            let t = i as f64;
            let activation = if t < systole {
                (std::f64::consts::PI * t / systole).sin().powi(2)
            } else {
                0.0
            };
            let elastance = e_min + (ees - e_min) * activation;
            let ejected = if t < 60.0 {
                0.0
            } else if t < 250.0 {
                sv * 0.5 * (1.0 - (std::f64::consts::PI * (t - 60.0) / 190.0).cos())
            } else if t < 420.0 {
                sv
            } else {
                sv * (1.0 - (t - 420.0) / 380.0)
            };
            let volume = edv - ejected;
            v.push(volume);
            p.push(elastance * (volume - v0));
        }
        let dpdt_min = (1..n)
            .min_by(|&a, &b| (p[a] - p[a - 1]).total_cmp(&(p[b] - p[b - 1])))
            .unwrap_or(0);
        (p, v, dpdt_min)
    }

    /// [`elastance_beat`]s as loops numbered from 1, ES searched up to each one's dP/dt min.
    fn numbered_loops(beats: &[(Vec<f64>, Vec<f64>, usize)]) -> Vec<LoopSamples<'_>> {
        beats
            .iter()
            .enumerate()
            .map(|(k, (p, v, dpdt_min))| LoopSamples {
                number: k as u32 + 1,
                lvp_mmhg: p,
                lvv_ml: v,
                search_len: dpdt_min + 1,
            })
            .collect()
    }

    #[test]
    fn espvr_recovers_planted_ees_and_v0() {
        let settings = AnalysisSettings::default();
        for (ees, v0) in [(2.5, 15.0), (4.652, 42.0), (1.2, -60.0)] {
            let beats: Vec<_> = (0..12)
                .map(|k| elastance_beat(160.0 - 6.0 * k as f64, ees, v0, 0.06))
                .collect();
            let fit = fit_espvr(&numbered_loops(&beats), &settings).unwrap();
            assert!(
                (fit.ees_mmhg_per_ml / ees - 1.0).abs() < 1e-3,
                "Ees {} vs {ees}",
                fit.ees_mmhg_per_ml
            );
            assert!((fit.v0_ml - v0).abs() < 0.1, "V0 {} vs {v0}", fit.v0_ml);
            assert!(fit.converged && fit.r2 > 0.9999 && fit.n == 12);
            // Points on the planted line: an interval of (almost) zero width about Ees.
            let [low, high] = fit.ees_ci95_mmhg_per_ml.unwrap();
            assert!(low <= fit.ees_mmhg_per_ml && fit.ees_mmhg_per_ml <= high && high - low < 1e-3 * ees);
            assert_eq!(fit.beats, (1..=12).collect::<Vec<_>>());
            assert_eq!(fit.warnings.is_empty(), v0 >= 0.0, "{:?}", fit.warnings);
        }
    }

    #[test]
    fn espvr_interval_is_the_final_lines_regression_interval() {
        // Each beat's pressure scaled by its own factor: its end-systolic point leaves the planted line, and the
        // interval is that of the line through the reported points, wide enough to hold the planted Ees.
        let settings = AnalysisSettings::default();
        let (ees, v0) = (2.0, 10.0);
        let scales = [1.03, 0.97, 1.0, 1.04, 0.98, 0.99, 1.02, 0.96];
        let beats: Vec<_> = scales
            .iter()
            .enumerate()
            .map(|(k, scale)| {
                let (p, v, at) = elastance_beat(150.0 - 8.0 * k as f64, ees, v0, 0.06);
                (p.iter().map(|p| p * scale).collect::<Vec<f64>>(), v, at)
            })
            .collect();
        let fit = fit_espvr(&numbered_loops(&beats), &settings).unwrap();
        let esv: Vec<f64> = fit.points.iter().map(|p| p.esv_ml).collect();
        let esp: Vec<f64> = fit.points.iter().map(|p| p.esp_mmhg).collect();
        let line = fit_line(&esv, &esp).unwrap();
        let se = line.slope_se.unwrap();
        assert!((fit.ees_mmhg_per_ml - line.slope).abs() < 1e-12);
        assert_eq!(fit.ees_se_mmhg_per_ml, Some(se));
        let half = crate::analysis::numeric::student_t_975(fit.n - 2).unwrap() * se;
        let [low, high] = fit.ees_ci95_mmhg_per_ml.unwrap();
        assert!((low - (line.slope - half)).abs() < 1e-12 && (high - (line.slope + half)).abs() < 1e-12);
        assert!(
            se > 0.01 * ees && low < ees && ees < high,
            "{low} .. {high}, SE {se}"
        );
    }

    #[test]
    fn espvr_refuses_too_few_or_flat_beats() {
        let settings = AnalysisSettings::default();
        let (p, v, at) = elastance_beat(150.0, 2.0, 10.0, 0.06);
        let one = LoopSamples {
            number: 1,
            lvp_mmhg: &p,
            lvv_ml: &v,
            search_len: at + 1,
        };
        assert!(matches!(
            fit_espvr(&[one, one], &settings),
            Err(Unavailable::TooFew { .. })
        ));
        // The same beat three times: no preload change, no slope.
        assert!(fit_espvr(&[one, one, one], &settings).is_err());
    }

    #[test]
    fn edpvr_and_prsw_recover_planted_relations() {
        let settings = AnalysisSettings::default();
        let (a, beta, c) = (0.35, 0.021, -2.0);
        let points: Vec<BeatPoint> = (0..15)
            .map(|k| {
                let edv = 150.0 + 6.0 * k as f64;
                BeatPoint {
                    beat: k + 1,
                    edv_ml: edv,
                    value: a * (beta * edv).exp() + c,
                }
            })
            .collect();
        let fit = fit_edpvr(&points, &settings).unwrap();
        assert!((fit.beta_per_ml / beta - 1.0).abs() < 1e-4, "{}", fit.beta_per_ml);
        assert!((fit.a_mmhg / a - 1.0).abs() < 1e-3 && (fit.c_mmhg - c).abs() < 1e-2);
        assert!(fit.r2 > 0.999_999 && fit.warnings.is_empty());
        assert!((fit.pressure_mmhg(180.0) - (a * (beta * 180.0f64).exp() + c)).abs() < 1e-6);
        let numeric: f64 = (0..1000)
            .map(|i| fit.pressure_mmhg(100.0 + (i as f64 + 0.5) * 0.1) * 0.1)
            .sum();
        assert!((fit.integral_mmhg_ml(100.0, 200.0) - numeric).abs() < 1e-3);

        let points: Vec<BeatPoint> = (0..10)
            .map(|k| BeatPoint {
                beat: k,
                edv_ml: 100.0 + 10.0 * k as f64,
                value: 75.0 * (100.0 + 10.0 * k as f64 - 40.0),
            })
            .collect();
        let prsw = fit_prsw(&points, &settings).unwrap();
        assert!((prsw.mw_mmhg - 75.0).abs() < 1e-9 && (prsw.vw_ml - 40.0).abs() < 1e-9);
        let [low, high] = prsw.mw_ci95_mmhg.unwrap();
        assert!(low <= prsw.mw_mmhg && prsw.mw_mmhg <= high && high - low < 1e-9);
        // Off the line by 30, -50, 20, 40, -40 mmHg mL: Mw 74.5 with SE 1.5 (by hand), so the interval is
        // 74.5 -+ t(0.975, 3) 1.5 = 74.5 -+ 3.1824463 x 1.5.
        let noisy: Vec<BeatPoint> = [30.0, -50.0, 20.0, 40.0, -40.0]
            .iter()
            .enumerate()
            .map(|(k, off)| BeatPoint {
                beat: k as u32,
                edv_ml: 100.0 + 10.0 * k as f64,
                value: 75.0 * (100.0 + 10.0 * k as f64 - 40.0) + off,
            })
            .collect();
        let prsw = fit_prsw(&noisy, &settings).unwrap();
        let [low, high] = prsw.mw_ci95_mmhg.unwrap();
        assert!((prsw.mw_mmhg - 74.5).abs() < 1e-9, "{}", prsw.mw_mmhg);
        assert!(
            (low - 69.726_330_55).abs() < 1e-6 && (high - 79.273_669_45).abs() < 1e-6,
            "{low} {high}"
        );
        assert!(fit_prsw(&points[..2], &settings).is_err());
        assert!(fit_edpvr(&points[..3], &settings).is_err());
    }
}
