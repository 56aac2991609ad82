//! A synthetic ECG lead: each beat is a sum of Gaussian P, Q, R, S and T waves placed around its R peak, which
//! sits at the LV contraction onset (electromechanical coupling is folded into the activation timing). The QT
//! interval follows Bazett's scaling with RR.

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

/// ECG at `t_s`, mV, given the R-peak times of the previous, current and next beats and the current RR.
pub fn ecg_mv(t_s: f64, r_peaks_s: [f64; 3], rr_s: f64) -> f64 {
    let qt_scale = rr_s.max(0.2).sqrt();
    let mut ecg = 0.0;
    for r_s in r_peaks_s {
        let dt = t_s - r_s;
        if !(-0.3..0.6).contains(&dt) {
            continue;
        }
        for wave in &WAVES {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_peak_is_the_maximum_and_sits_at_the_given_time() {
        let r = [-0.6, 0.2, 1.0];
        let (t_max, _) = (0..1000)
            .map(|i| i as f64 * 1e-3)
            .map(|t| (t, ecg_mv(t, r, 0.8)))
            .fold((0.0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best });
        assert!((t_max - 0.2).abs() < 1.5e-3, "R peak at {t_max}");
        assert!(ecg_mv(0.2, r, 0.8) > 1.0);
    }
}
