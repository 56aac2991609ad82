//! A synthetic ECG lead: each beat is a sum of Gaussian P, Q, R, S and T waves placed around its R peak, which
//! sits at the LV contraction onset (electromechanical coupling is folded into the activation timing). The QT
//! interval follows Bazett's scaling with RR.
//!
//! By beat kind ([`BeatKind`]): a sinus beat has its P wave; an AF beat has none and the baseline carries
//! fibrillatory waves ([`fibrillatory_mv`]); a ventricular ectopic or paced beat has a wide QRS with a discordant
//! T wave and no P wave of its own, a paced beat also a pacing spike (one sample wide at 1 kHz) before it.

use super::rhythm::BeatKind;

/// One wave: offset from the R peak (s, at RR = 1 s for the T wave), amplitude (mV), Gaussian width (s).
struct Wave {
    offset_s: f64,
    amplitude_mv: f64,
    width_s: f64,
    scales_with_qt: bool,
}

const WAVES: [Wave; 5] = [
    Wave {
        offset_s: -0.16,
        amplitude_mv: 0.12,
        width_s: 0.022,
        scales_with_qt: false,
    },
    Wave {
        offset_s: -0.028,
        amplitude_mv: -0.10,
        width_s: 0.009,
        scales_with_qt: false,
    },
    Wave {
        offset_s: 0.0,
        amplitude_mv: 1.1,
        width_s: 0.010,
        scales_with_qt: false,
    },
    Wave {
        offset_s: 0.03,
        amplitude_mv: -0.22,
        width_s: 0.011,
        scales_with_qt: false,
    },
    Wave {
        offset_s: 0.30,
        amplitude_mv: 0.28,
        width_s: 0.055,
        scales_with_qt: true,
    },
];

/// A wide ventricular complex (ectopic or paced): no P or Q wave, a broad R and S, a discordant T wave.
const WIDE_WAVES: [Wave; 3] = [
    Wave {
        offset_s: 0.0,
        amplitude_mv: 1.4,
        width_s: 0.022,
        scales_with_qt: false,
    },
    Wave {
        offset_s: 0.055,
        amplitude_mv: -0.45,
        width_s: 0.02,
        scales_with_qt: false,
    },
    Wave {
        offset_s: 0.32,
        amplitude_mv: -0.35,
        width_s: 0.06,
        scales_with_qt: true,
    },
];

/// The pacing spike's time before the R peak of a paced beat, s (an R-wave detector may mark the spike).
pub const PACING_SPIKE_LEAD_S: f64 = 0.045;
/// The pacing spike's amplitude (mV) and width (s).
const PACING_SPIKE_MV: f64 = 2.5;
const PACING_SPIKE_WIDTH_S: f64 = 0.0004;

/// ECG at `t_s`, mV, given the R-peak times and kinds of the previous, current and next beats and the current
/// RR.
pub fn ecg_mv(t_s: f64, r_peaks: [(f64, BeatKind); 3], rr_s: f64) -> f64 {
    let qt_scale = rr_s.max(0.2).sqrt();
    let mut ecg = 0.0;
    for (r_s, kind) in r_peaks {
        let dt = t_s - r_s;
        if !(-0.3..0.6).contains(&dt) {
            continue;
        }
        let waves: &[Wave] = match kind {
            BeatKind::Sinus => &WAVES,
            // No P wave.
            BeatKind::Fibrillation => &WAVES[1..],
            BeatKind::Ectopic | BeatKind::Paced => &WIDE_WAVES,
        };
        if kind == BeatKind::Paced {
            let x = (dt + PACING_SPIKE_LEAD_S) / PACING_SPIKE_WIDTH_S;
            if x.abs() < 8.0 {
                ecg += PACING_SPIKE_MV * (-0.5 * x * x).exp();
            }
        }
        for wave in waves {
            let scale = if wave.scales_with_qt { qt_scale } else { 1.0 };
            let x = (dt - wave.offset_s * scale) / (wave.width_s * scale);
            // Beyond 8 widths a wave contributes under 1e-14 mV.
            if x.abs() < 8.0 {
                ecg += wave.amplitude_mv * (-0.5 * x * x).exp();
            }
        }
    }
    ecg
}

/// Fibrillatory (f) waves of atrial fibrillation at `t_s`, mV: about 0.05 mV at 5-7 Hz, their frequency
/// wandering slowly (two incommensurate components).
pub fn fibrillatory_mv(t_s: f64) -> f64 {
    let tau = std::f64::consts::TAU;
    0.035 * (tau * 5.9 * t_s + 0.8 * (tau * 0.13 * t_s).sin()).sin()
        + 0.02 * (tau * 6.7 * t_s + 1.1 * (tau * 0.07 * t_s).sin()).sin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_peak_is_the_maximum_and_sits_at_the_given_time() {
        let r = [-0.6, 0.2, 1.0].map(|t| (t, BeatKind::Sinus));
        let (t_max, _) = (0..1000)
            .map(|i| i as f64 * 1e-3)
            .map(|t| (t, ecg_mv(t, r, 0.8)))
            .fold((0.0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best });
        assert!((t_max - 0.2).abs() < 1.5e-3, "R peak at {t_max}");
        assert!(ecg_mv(0.2, r, 0.8) > 1.0);
    }
}
