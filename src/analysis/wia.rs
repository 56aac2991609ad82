//! Coronary wave intensity analysis (ENDPOINTS.md section 4, exploratory): on the ensemble beat of Pd and
//! velocity aligned on the R wave, correct the velocity lag, compute net wave intensity `dI = (dP/dt)(dU/dt)`, the
//! single-point wave speed `c = (1/rho) sqrt(sum dP^2 / sum dU^2)`, separate forward and backward waves, and
//! identify the classic waves with their peak, cumulative intensity and timing, plus perfusion efficiency.
//!
//! This module takes the derivatives (by the stored Savitzky-Golay filter, applied by the pipeline) in SI units:
//! dP/dt in Pa/s and dU/dt in m/s^2, so intensities come out in W m^-2 s^-2.

use serde::{Deserialize, Serialize};

use super::settings::AnalysisSettings;
use super::{Provenance, Unavailable};

/// The classic coronary waves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveKind {
    /// Forward compression wave (early systole, LV ejection pushing).
    ForwardCompression,
    /// Backward compression wave (systole, microvascular compression).
    BackwardCompression,
    /// Forward expansion wave (late systole, ejection slowing).
    ForwardExpansion,
    /// Backward decompression (expansion) wave: early diastole, the "suction" wave.
    BackwardDecompression,
    /// Forward compression in diastole (IABP inflation).
    DiastolicForwardCompression,
    /// Forward expansion in late diastole (IABP deflation).
    DiastolicForwardExpansion,
}

impl WaveKind {
    /// Whether the wave accelerates coronary flow (forward compression, backward decompression).
    pub fn accelerates(self) -> bool {
        matches!(
            self,
            WaveKind::ForwardCompression
                | WaveKind::BackwardDecompression
                | WaveKind::DiastolicForwardCompression
        )
    }
}

/// One identified wave.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wave {
    /// Which wave.
    pub kind: WaveKind,
    /// Peak separated intensity (positive forward, negative backward), W m^-2 s^-2.
    pub peak_w_m2_s2: f64,
    /// Time of the peak after the R wave, ms.
    pub peak_time_ms: f64,
    /// Cumulative intensity over the wave (between the zero crossings of its pressure change), J m^-2 s^-2.
    pub cumulative_j_m2_s2: f64,
    /// Start and end of the wave after the R wave, ms.
    pub span_ms: [f64; 2],
}

/// Wave intensity of one ensemble beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveIntensity {
    /// Single-point wave speed of this beat, m/s.
    pub c_single_point_m_s: f64,
    /// Wave speed used for the separation (this beat's, or the baseline's when given), m/s.
    pub c_used_m_s: f64,
    /// Velocity lag removed before the analysis (positive: velocity came late), ms.
    pub velocity_lag_ms: f64,
    /// Peak net intensity, W m^-2 s^-2.
    pub peak_net_w_m2_s2: f64,
    /// The waves found (a wave absent from the beat is not listed).
    pub waves: Vec<Wave>,
    /// Energy of the accelerating separated waves (forward compression, backward expansion), J m^-2 s^-2.
    pub accelerating_energy_j_m2_s2: f64,
    /// Energy of all separated waves, J m^-2 s^-2.
    pub total_energy_j_m2_s2: f64,
    /// Accelerating / total wave energy.
    pub perfusion_efficiency: f64,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// Where to look for one wave: its kind, the separated pressure change and intensity of its direction, the
/// window (samples), and whether it is a compression (pressure rising).
type WaveSearch<'a> = (WaveKind, &'a [f64], &'a [f64], (usize, usize), bool);

/// The shift (in samples) of `du` that best aligns it with `dp` over `window` (maximum cross-correlation, lags
/// `-max_lag..=max_lag`). Positive: velocity comes later than pressure.
fn velocity_lag(dp: &[f64], du: &[f64], window: usize, max_lag: usize) -> isize {
    let n = dp.len().min(du.len());
    let mut best = (0isize, f64::NEG_INFINITY);
    for lag in -(max_lag as isize)..=(max_lag as isize) {
        let sum: f64 = dp[..window.min(n)]
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                usize::try_from(i as isize + lag)
                    .ok()
                    .and_then(|j| du.get(j))
                    .map(|u| p * u)
            })
            .sum();
        if sum > best.1 {
            best = (lag, sum);
        }
    }
    best.0
}

/// From the peak `at`, the run of samples over which `pressure_change` keeps its sign.
fn wave_run(pressure_change: &[f64], at: usize) -> (usize, usize) {
    let positive = pressure_change[at] > 0.0;
    let same = |i: usize| (pressure_change[i] > 0.0) == positive && pressure_change[i] != 0.0;
    let mut from = at;
    while from > 0 && same(from - 1) {
        from -= 1;
    }
    let mut to = at + 1;
    while to < pressure_change.len() && same(to) {
        to += 1;
    }
    (from, to)
}

/// Wave intensity of an ensemble beat from its derivatives (dP/dt in Pa/s, dU/dt in m/s^2, sample 0 at the R
/// wave). `end_systole` is the sample where diastole starts. With `baseline_c_m_s` the separation uses that wave
/// speed (the post state analysed with the baseline c, as ENDPOINTS.md asks for beside its own).
pub fn wave_intensity(
    dp_dt_pa_s: &[f64],
    du_dt_m_s2: &[f64],
    end_systole: usize,
    baseline_c_m_s: Option<f64>,
    settings: &AnalysisSettings,
) -> Result<WaveIntensity, Unavailable> {
    let rate = settings.analysis_rate_hz();
    let dt = 1.0 / rate;
    let n = dp_dt_pa_s.len().min(du_dt_m_s2.len());
    if n < 20 {
        return Err(Unavailable::too_few("samples in the ensemble beat", n, 20));
    }
    if !dp_dt_pa_s[..n]
        .iter()
        .chain(&du_dt_m_s2[..n])
        .sum::<f64>()
        .is_finite()
    {
        return Err(Unavailable::MissingSamples(
            "ensemble pressure or velocity".into(),
        ));
    }
    let max_lag = (settings.wia.max_velocity_lag_ms * 1e-3 * rate).round() as usize;
    let window = (settings.wia.upstroke_window_ms * 1e-3 * rate).round() as usize;
    let lag = velocity_lag(&dp_dt_pa_s[..n], &du_dt_m_s2[..n], window, max_lag);
    // Align: dU'[i] = dU[i + lag], keeping the samples where both exist.
    let (dp, du): (Vec<f64>, Vec<f64>) = (0..n)
        .filter_map(|i| {
            let j = i as isize + lag;
            (j >= 0 && (j as usize) < n).then(|| (dp_dt_pa_s[i], du_dt_m_s2[j as usize]))
        })
        .unzip();
    let offset = if lag < 0 { lag.unsigned_abs() } else { 0 };
    let rho = settings.blood_density_kg_m3;
    let sum_dp2: f64 = dp.iter().map(|x| x * x).sum();
    let sum_du2: f64 = du.iter().map(|x| x * x).sum();
    if sum_du2 <= 0.0 || sum_dp2 <= 0.0 {
        return Err(Unavailable::NonPositive(
            "pressure or velocity change over the beat".into(),
        ));
    }
    let c_single = (sum_dp2 / sum_du2).sqrt() / rho;
    let c = baseline_c_m_s
        .filter(|c| *c > 0.0 && c.is_finite())
        .unwrap_or(c_single);
    let rho_c = rho * c;
    let forward: Vec<f64> = dp.iter().zip(&du).map(|(p, u)| 0.5 * (p + rho_c * u)).collect();
    let backward: Vec<f64> = dp.iter().zip(&du).map(|(p, u)| 0.5 * (p - rho_c * u)).collect();
    let di_forward: Vec<f64> = forward.iter().map(|p| p * p / rho_c).collect();
    let di_backward: Vec<f64> = backward.iter().map(|p| -p * p / rho_c).collect();

    let end_systole = end_systole.saturating_sub(offset).min(dp.len());
    let half_systole = end_systole / 2;
    let diastole_mid = end_systole + (dp.len() - end_systole) / 2;
    let time_ms = |i: usize| (i + offset) as f64 * dt * 1e3;
    // (kind, separated pressure change, intensity, window, sign of the pressure change)
    let searches: [WaveSearch<'_>; 6] = [
        (
            WaveKind::ForwardCompression,
            &forward,
            &di_forward,
            (0, half_systole.max(1)),
            true,
        ),
        (
            WaveKind::BackwardCompression,
            &backward,
            &di_backward,
            (0, end_systole),
            true,
        ),
        (
            WaveKind::ForwardExpansion,
            &forward,
            &di_forward,
            (half_systole, end_systole),
            false,
        ),
        (
            WaveKind::BackwardDecompression,
            &backward,
            &di_backward,
            (end_systole, diastole_mid),
            false,
        ),
        (
            WaveKind::DiastolicForwardCompression,
            &forward,
            &di_forward,
            (end_systole, dp.len()),
            true,
        ),
        (
            WaveKind::DiastolicForwardExpansion,
            &forward,
            &di_forward,
            (diastole_mid, dp.len()),
            false,
        ),
    ];
    let mut waves = Vec::new();
    for (kind, change, intensity, (from, to), compression) in searches {
        let peak = (from..to.min(dp.len()))
            .filter(|&i| (change[i] > 0.0) == compression && change[i] != 0.0)
            .max_by(|&a, &b| intensity[a].abs().total_cmp(&intensity[b].abs()));
        let Some(at) = peak else { continue };
        let (start, end) = wave_run(change, at);
        waves.push(Wave {
            kind,
            peak_w_m2_s2: intensity[at],
            peak_time_ms: time_ms(at),
            cumulative_j_m2_s2: intensity[start..end].iter().sum::<f64>() * dt,
            span_ms: [time_ms(start), time_ms(end)],
        });
    }
    // Perfusion efficiency over the whole beat: accelerating samples are forward compression (dP+ > 0) and
    // backward expansion (dP- < 0), where the separated velocity change is positive.
    let mut accelerating = 0.0;
    let mut total = 0.0;
    for i in 0..dp.len() {
        total += di_forward[i].abs() + di_backward[i].abs();
        if forward[i] > 0.0 {
            accelerating += di_forward[i].abs();
        }
        if backward[i] < 0.0 {
            accelerating += di_backward[i].abs();
        }
    }
    let peak_net = dp
        .iter()
        .zip(&du)
        .map(|(p, u)| p * u)
        .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
    Ok(WaveIntensity {
        c_single_point_m_s: c_single,
        c_used_m_s: c,
        velocity_lag_ms: lag as f64 * dt * 1e3,
        peak_net_w_m2_s2: peak_net,
        waves,
        accelerating_energy_j_m2_s2: accelerating * dt,
        total_energy_j_m2_s2: total * dt,
        perfusion_efficiency: if total > 0.0 { accelerating / total } else { 0.0 },
        provenance: Provenance::new(
            "WIA: ensemble beat on R, velocity lag by cross-correlation of early-systolic dP/dt and dU/dt, \
             Savitzky-Golay derivatives, single-point c, separation dP± = (dP ± rho c dU)/2",
            settings,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth pulse and its derivative: a raised-cosine bump of `width` samples centred at `centre`.
    fn bump_derivative(n: usize, centre: f64, width: f64, height: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let x = (i as f64 - centre) / width;
                if x.abs() < 0.5 {
                    -height * (std::f64::consts::PI * x * 2.0).sin()
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn pure_forward_wave_gives_its_wave_speed_and_no_backward_wave() {
        let settings = AnalysisSettings::default();
        let (rho, c) = (settings.blood_density_kg_m3, 8.0);
        // A forward wave: dP = rho c dU everywhere.
        let du: Vec<f64> = bump_derivative(800, 100.0, 80.0, 5.0);
        let dp: Vec<f64> = du.iter().map(|u| rho * c * u).collect();
        let result = wave_intensity(&dp, &du, 350, None, &settings).unwrap();
        assert!((result.c_single_point_m_s - c).abs() < 1e-9);
        assert_eq!(result.velocity_lag_ms, 0.0);
        assert!(
            result
                .waves
                .iter()
                .all(|w| matches!(w.kind, WaveKind::ForwardCompression | WaveKind::ForwardExpansion)),
            "{:?}",
            result.waves
        );
        let fcw = result
            .waves
            .iter()
            .find(|w| w.kind == WaveKind::ForwardCompression)
            .unwrap();
        // Peak of dI+ = dP^2/(rho c) at the derivative's peak, 1/4 width before the centre.
        assert!((fcw.peak_time_ms - 80.0).abs() <= 1.0, "{fcw:?}");
        assert!((fcw.peak_w_m2_s2 - (rho * c * 5.0).powi(2) / (rho * c)).abs() < 1e-6 * fcw.peak_w_m2_s2);
        assert!(
            (result.perfusion_efficiency - 0.5).abs() < 1e-3,
            "compression = expansion energy"
        );
        // The baseline c is used when given, and reported beside the beat's own.
        let with_baseline = wave_intensity(&dp, &du, 350, Some(10.0), &settings).unwrap();
        assert_eq!(with_baseline.c_used_m_s, 10.0);
        assert!((with_baseline.c_single_point_m_s - c).abs() < 1e-9);
    }

    #[test]
    fn velocity_lag_is_found_and_removed() {
        let settings = AnalysisSettings::default();
        let rho_c = settings.blood_density_kg_m3 * 8.0;
        let dp: Vec<f64> = bump_derivative(800, 100.0, 80.0, 5.0 * rho_c);
        let du: Vec<f64> = bump_derivative(800, 112.0, 80.0, 5.0);
        let result = wave_intensity(&dp, &du, 350, None, &settings).unwrap();
        assert_eq!(result.velocity_lag_ms, 12.0);
        assert!((result.c_single_point_m_s - 8.0).abs() < 1e-6);
    }

    #[test]
    fn backward_decompression_in_early_diastole_accelerates_flow() {
        let settings = AnalysisSettings::default();
        let rho_c = settings.blood_density_kg_m3 * 8.0;
        // Forward compression in early systole; a backward expansion (dP- < 0: pressure falls while velocity
        // rises) in early diastole.
        let forward_u = bump_derivative(800, 100.0, 80.0, 5.0);
        let backward_u = bump_derivative(800, 430.0, 80.0, 3.0);
        let du: Vec<f64> = forward_u
            .iter()
            .zip(&backward_u)
            .map(|(f, b)| f + b.max(0.0))
            .collect();
        let dp: Vec<f64> = forward_u
            .iter()
            .zip(&backward_u)
            .map(|(f, b)| rho_c * (f - b.max(0.0)))
            .collect();
        let result = wave_intensity(&dp, &du, 380, Some(8.0), &settings).unwrap();
        let bdw = result
            .waves
            .iter()
            .find(|w| w.kind == WaveKind::BackwardDecompression)
            .unwrap();
        assert!(bdw.peak_w_m2_s2 < 0.0 && bdw.peak_time_ms > 380.0, "{bdw:?}");
        assert!(bdw.cumulative_j_m2_s2 < 0.0);
        assert!(result.perfusion_efficiency > 0.5);
        assert!(
            WaveKind::BackwardDecompression.accelerates() && !WaveKind::BackwardCompression.accelerates()
        );
    }

    #[test]
    fn flat_or_short_input_is_refused() {
        let settings = AnalysisSettings::default();
        assert!(wave_intensity(&[1.0; 5], &[1.0; 5], 2, None, &settings).is_err());
        assert!(wave_intensity(&[0.0; 100], &[0.0; 100], 40, None, &settings).is_err());
        let mut gap = vec![1.0; 100];
        gap[3] = f64::NAN;
        assert!(matches!(
            wave_intensity(&gap, &[1.0; 100], 40, None, &settings),
            Err(Unavailable::MissingSamples(_))
        ));
    }
}
