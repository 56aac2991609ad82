//! The time constant of isovolumic relaxation, tau, by three published methods fitted on the same segment (from
//! dP/dt min until P falls to the next beat's EDP plus a margin):
//! - Weiss (1976): `ln P = a - t/tau` by least squares (assumes the pressure decays to zero);
//! - Glantz (Raff and Glantz 1981): `dP/dt = -(P - P_B)/tau`, a straight line of dP/dt against P;
//! - logistic (Matsubara 1995): `P = P_A / (1 + e^(t/tau_L)) + P_B` by least squares.
//!
//! tau is only meaningful while the ventricle is isovolumic; when volume changes by more than a set fraction of SV
//! over the segment (e.g. an Impella emptying the LV through relaxation) the result is flagged invalid.

use serde::{Deserialize, Serialize};

use crate::analysis::numeric::{fit_line, minimise_log_scan};
use crate::analysis::settings::AnalysisSettings;

/// One tau fit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TauFit {
    /// The time constant, ms.
    pub tau_ms: f64,
    /// The asymptote P_B (Glantz, logistic), mmHg; `None` for Weiss (zero by assumption).
    pub asymptote_mmhg: Option<f64>,
    /// Coefficient of determination of the fit.
    pub r2: f64,
}

/// tau of one beat by the three methods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tau {
    /// Weiss fit (absent when P <= 0 on the segment or the fit fails).
    pub weiss: Option<TauFit>,
    /// Glantz fit.
    pub glantz: Option<TauFit>,
    /// Logistic fit.
    pub logistic: Option<TauFit>,
    /// Samples in the fit segment.
    pub num_samples: usize,
    /// Volume change over the segment as a fraction of SV (when volume and a positive SV are known).
    pub volume_change_fraction_of_sv: Option<f64>,
    /// `Some(false)` when volume changed too much for relaxation to be isovolumic; `None` when it could not be
    /// checked (no volume or no positive SV).
    pub valid: Option<bool>,
    /// Why a fit is missing.
    pub notes: Vec<String>,
}

/// Below this many samples none of the fits is attempted.
const MIN_SAMPLES: usize = 4;
/// Plausible range of any tau, s: outside it the segment does not describe relaxation (a flat trace gives an
/// "infinite" tau from rounding noise), and the logistic search is bounded by it.
const TAU_RANGE_S: (f64, f64) = (5e-4, 1.0);

fn plausible(tau_s: f64) -> bool {
    tau_s > TAU_RANGE_S.0 && tau_s < TAU_RANGE_S.1
}

/// Fits tau on `lvp_mmhg[from..]` until the pressure first falls to `end_pressure_mmhg`. `dpdt_mmhg_s` is the
/// stored derivative of the same samples; `lvv_ml` (same indexing) and `sv_ml` check isovolumy.
pub fn tau(
    lvp_mmhg: &[f64],
    dpdt_mmhg_s: &[f64],
    lvv_ml: Option<&[f64]>,
    from: usize,
    end_pressure_mmhg: f64,
    sv_ml: Option<f64>,
    settings: &AnalysisSettings,
) -> Tau {
    let mut result = Tau::default();
    let len = lvp_mmhg.len().min(dpdt_mmhg_s.len());
    if from >= len {
        result
            .notes
            .push("tau: dP/dt min at the end of the beat".to_owned());
        return result;
    }
    let to = lvp_mmhg[from..len]
        .iter()
        .position(|&p| p <= end_pressure_mmhg)
        .map_or(len, |i| from + i);
    let p = &lvp_mmhg[from..to];
    let dpdt = &dpdt_mmhg_s[from..to];
    result.num_samples = p.len();
    if p.len() < MIN_SAMPLES {
        result.notes.push(format!(
            "tau: {} samples from dP/dt min to the end pressure",
            p.len()
        ));
        return result;
    }
    let dt = settings.sample_interval_s();
    if let (Some(volume), Some(sv)) = (lvv_ml, sv_ml.filter(|&sv| sv > 0.0))
        && let Some(segment) = volume.get(from..to)
    {
        let (low, high) = segment
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let fraction = (high - low) / sv;
        result.volume_change_fraction_of_sv = Some(fraction);
        result.valid = Some(fraction <= settings.tau.max_volume_change_fraction_of_sv);
    }
    result.weiss = weiss(p, dt);
    if result.weiss.is_none() {
        result.notes.push(
            "tau (Weiss): needs P > 0 over the segment and a decay with tau between 0.5 ms and 1 s"
                .to_owned(),
        );
    }
    result.glantz = glantz(p, dpdt);
    if result.glantz.is_none() {
        result
            .notes
            .push("tau (Glantz): dP/dt against P gives no tau between 0.5 ms and 1 s".to_owned());
    }
    result.logistic = logistic(p, dt);
    if result.logistic.is_none() {
        result
            .notes
            .push("tau (logistic): no decaying logistic fits the segment".to_owned());
    }
    result
}

fn weiss(p: &[f64], dt: f64) -> Option<TauFit> {
    // ln P against the sample index in one pass without buffers (this runs for every beat): sums of x = i and
    // y = ln P, then the least-squares slope and r^2 from the centred moments.
    let n = p.len() as f64;
    let (mut sx, mut sy, mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &pressure) in p.iter().enumerate() {
        if pressure <= 0.0 {
            return None;
        }
        let (x, y) = (i as f64, pressure.ln());
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    let (cxx, cxy, cyy) = (sxx - sx * sx / n, sxy - sx * sy / n, syy - sy * sy / n);
    if cxx <= 0.0 || !cxy.is_finite() {
        return None;
    }
    let slope_per_s = cxy / cxx / dt;
    let tau_s = -1.0 / slope_per_s;
    let r2 = if cyy > 0.0 {
        (cxy * cxy / (cxx * cyy)).min(1.0)
    } else {
        1.0
    };
    plausible(tau_s).then_some(TauFit {
        tau_ms: tau_s * 1e3,
        asymptote_mmhg: None,
        r2,
    })
}

fn glantz(p: &[f64], dpdt: &[f64]) -> Option<TauFit> {
    // dP/dt = -P/tau + P_B/tau: slope -1/tau, intercept P_B/tau.
    let fit = fit_line(p, dpdt).ok()?;
    let tau_s = -1.0 / fit.slope;
    plausible(tau_s).then_some(TauFit {
        tau_ms: tau_s * 1e3,
        asymptote_mmhg: Some(fit.intercept * tau_s),
        r2: fit.r2,
    })
}

/// Least-squares P_A and P_B for a given logistic tau, and the residual sum of squares.
fn logistic_linear_part(p: &[f64], dt: f64, tau_s: f64, mean_p: f64, sum_pp: f64) -> (f64, f64, f64) {
    let growth = (dt / tau_s).exp();
    let n = p.len() as f64;
    // f_i = 1/(1 + e^(t_i/tau)) with e^(t_i/tau) built by repeated multiplication: one multiply per sample
    // instead of one exponential (this runs inside the one-dimensional search for every beat).
    let (mut sum_f, mut sum_ff, mut sum_fp) = (0.0, 0.0, 0.0);
    let mut e = 1.0;
    for &x in p {
        let f = 1.0 / (1.0 + e);
        sum_f += f;
        sum_ff += f * f;
        sum_fp += f * (x - mean_p);
        e *= growth;
    }
    let sff = sum_ff - sum_f * sum_f / n;
    if sff <= f64::MIN_POSITIVE {
        return (0.0, mean_p, sum_pp);
    }
    let amplitude = sum_fp / sff;
    let asymptote = mean_p - amplitude * sum_f / n;
    (amplitude, asymptote, (sum_pp - amplitude * sum_fp).max(0.0))
}

fn logistic(p: &[f64], dt: f64) -> Option<TauFit> {
    let mean_p = p.iter().sum::<f64>() / p.len() as f64;
    let sum_pp: f64 = p.iter().map(|x| (x - mean_p) * (x - mean_p)).sum();
    if sum_pp <= 0.0 {
        return None;
    }
    let sse = |tau_s: f64| logistic_linear_part(p, dt, tau_s, mean_p, sum_pp).2;
    let (tau_s, best_sse, at_bound) = minimise_log_scan(sse, TAU_RANGE_S.0, TAU_RANGE_S.1, 10, 1e-5);
    let (amplitude, asymptote, _) = logistic_linear_part(p, dt, tau_s, mean_p, sum_pp);
    (tau_s.is_finite() && !at_bound && amplitude > 0.0).then(|| TauFit {
        tau_ms: tau_s * 1e3,
        asymptote_mmhg: Some(asymptote),
        r2: 1.0 - best_sse / sum_pp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_at(rate_hz: f64) -> AnalysisSettings {
        let mut settings = AnalysisSettings::default();
        settings.signal.analysis_rate_hz = rate_hz;
        settings
    }

    /// Exponential decay `(p0 - pb) e^(-t/tau) + pb` and its exact derivative.
    fn exponential(rate_hz: f64, tau_s: f64, p0: f64, pb: f64) -> (Vec<f64>, Vec<f64>) {
        let n = (rate_hz * 0.4) as usize;
        let p = (0..n)
            .map(|i| (p0 - pb) * (-(i as f64) / rate_hz / tau_s).exp() + pb)
            .collect::<Vec<_>>();
        let dpdt = p.iter().map(|x| -(x - pb) / tau_s).collect();
        (p, dpdt)
    }

    #[test]
    fn weiss_and_glantz_recover_tau_of_an_exponential() {
        for rate in [250.0, 1000.0] {
            for tau_ms in [30.0, 45.0, 60.0] {
                let settings = settings_at(rate);
                let (p, dpdt) = exponential(rate, tau_ms * 1e-3, 100.0, 0.0);
                let result = tau(&p, &dpdt, None, 0, 5.0, None, &settings);
                let weiss = result.weiss.unwrap().tau_ms;
                let glantz = result.glantz.unwrap();
                assert!(
                    (weiss / tau_ms - 1.0).abs() < 0.01,
                    "Weiss {weiss} vs {tau_ms} at {rate} Hz"
                );
                assert!(
                    (glantz.tau_ms / tau_ms - 1.0).abs() < 0.01,
                    "Glantz {} vs {tau_ms}",
                    glantz.tau_ms
                );
                assert!(glantz.asymptote_mmhg.unwrap().abs() < 0.5);
                assert_eq!(result.valid, None);
                // Glantz with a non-zero asymptote (where Weiss does not apply).
                let (p, dpdt) = exponential(rate, tau_ms * 1e-3, 100.0, -8.0);
                let glantz = tau(&p, &dpdt, None, 0, 0.0, None, &settings).glantz.unwrap();
                assert!((glantz.tau_ms / tau_ms - 1.0).abs() < 0.01);
                assert!((glantz.asymptote_mmhg.unwrap() + 8.0).abs() < 0.1);
            }
        }
    }

    #[test]
    fn logistic_recovers_tau_of_a_logistic_decay() {
        for rate in [250.0, 1000.0] {
            for tau_ms in [30.0, 45.0, 60.0] {
                let settings = settings_at(rate);
                let tau_s = tau_ms * 1e-3;
                let p: Vec<f64> = (0..(rate * 0.4) as usize)
                    .map(|i| 180.0 / (1.0 + (i as f64 / rate / tau_s).exp()) + 4.0)
                    .collect();
                let dpdt = vec![0.0; p.len()];
                let fit = tau(&p, &dpdt, None, 0, 9.0, None, &settings).logistic.unwrap();
                assert!(
                    (fit.tau_ms / tau_ms - 1.0).abs() < 0.01,
                    "logistic {} vs {tau_ms} at {rate} Hz",
                    fit.tau_ms
                );
                assert!((fit.asymptote_mmhg.unwrap() - 4.0).abs() < 0.5);
                assert!(fit.r2 > 0.9999);
            }
        }
    }

    #[test]
    fn volume_change_flags_tau_invalid() {
        let settings = settings_at(1000.0);
        let (p, dpdt) = exponential(1000.0, 0.04, 100.0, 0.0);
        let isovolumic = vec![50.0; p.len()];
        let result = tau(&p, &dpdt, Some(&isovolumic), 0, 5.0, Some(60.0), &settings);
        assert_eq!(result.valid, Some(true));
        let emptying: Vec<f64> = (0..p.len()).map(|i| 50.0 - 0.1 * i as f64).collect();
        let result = tau(&p, &dpdt, Some(&emptying), 0, 5.0, Some(60.0), &settings);
        assert_eq!(result.valid, Some(false));
        assert!(result.volume_change_fraction_of_sv.unwrap() > 0.05);
        assert!(
            result.weiss.is_some(),
            "an invalid tau is still reported, flagged"
        );
    }

    #[test]
    fn degenerate_segments_give_reasons() {
        let settings = settings_at(1000.0);
        let result = tau(&[3.0, 2.0], &[0.0, 0.0], None, 0, 5.0, None, &settings);
        assert_eq!(result.num_samples, 0);
        assert!(result.weiss.is_none() && !result.notes.is_empty());
        let flat = vec![50.0; 100];
        let result = tau(&flat, &vec![0.0; 100], None, 0, 5.0, None, &settings);
        assert!(result.weiss.is_none() && result.glantz.is_none() && result.logistic.is_none());
        let negative: Vec<f64> = (0..100).map(|i| 20.0 - i as f64).collect();
        let result = tau(&negative, &vec![-1000.0; 100], None, 0, -50.0, None, &settings);
        assert!(result.weiss.is_none());
        assert!(tau(&flat, &flat, None, 500, 5.0, None, &settings).notes.len() == 1);
    }
}
