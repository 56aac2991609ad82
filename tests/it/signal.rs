//! Beat detection against third-party references (PhysioNet `wabp` onsets on TestICU, the Inca console's own
//! beat counter), against synthetic signals with known beat times, on bad input, and chunk by chunk.

use std::path::{Path, PathBuf};

use heracles::formats::{self, Format};
use heracles::model::{Beat, Fiducial, Recording, RejectReason, SignalKind};
use heracles::signal::ensemble::ensemble_average;
use heracles::signal::phases::{PhaseError, SystoleEnd, beat_phases};
use heracles::signal::resample::resample;
use heracles::signal::window::{Pick, steady_window};
use heracles::signal::{BeatTracker, SignalSettings, Signals, detect_beats, segment};
use heracles::sim::{SensorLevel, Simulator};

fn data(path: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/")).join(path)
}

const RATE: f64 = 1000.0;

/// Channel `index` of a recording resampled to the analysis rate.
fn at_analysis_rate(recording: &Recording, index: usize) -> Vec<f64> {
    let channel = &recording.segments[0].channels[index];
    resample(&channel.samples, channel.sample_rate_hz, RATE).unwrap()
}

/// Beats of an arterial pressure alone at [`RATE`], default settings.
fn segment_pa(pa: &[f64]) -> heracles::signal::Segmentation {
    segment(
        &Signals {
            pa: Some(pa),
            ..Signals::default()
        },
        RATE,
        &SignalSettings::default(),
    )
    .unwrap()
}

fn test_icu_abp() -> Vec<f64> {
    at_analysis_rate(
        &formats::read(&data("wfdb/TestICU.hea"), Format::Wfdb).unwrap(),
        2,
    )
}

fn wabp_onsets_s() -> Vec<f64> {
    let text = std::fs::read_to_string(data("wfdb/TestICU_wabp_onsets.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// One-to-one matching of sorted times within `tolerance_s`: (matched pairs as detected - reference, s).
fn match_times(detected: &[f64], reference: &[f64], tolerance_s: f64) -> Vec<f64> {
    let mut differences = Vec::new();
    let mut j = 0;
    for &r in reference {
        while j < detected.len() && detected[j] < r - tolerance_s {
            j += 1;
        }
        if j < detected.len() && (detected[j] - r).abs() <= tolerance_s {
            differences.push(detected[j] - r);
            j += 1;
        }
    }
    differences
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn test_icu_onsets_match_wabp() {
    let abp = test_icu_abp();
    let settings = SignalSettings::default();
    let signals = Signals {
        pa: Some(&abp),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &settings).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::PressureOnset));
    let mut detected: Vec<f64> = result.beats.iter().map(|b| b.start as f64 / RATE).collect();
    if let Some(last) = result.beats.last() {
        detected.push(last.end as f64 / RATE);
    }
    let reference = wabp_onsets_s();
    let matched = match_times(&detected, &reference, 0.05);
    let sensitivity = matched.len() as f64 / reference.len() as f64;
    let ppv = matched.len() as f64 / detected.len() as f64;
    let median_ms = 1000.0 * median(matched.clone());
    println!(
        "TestICU onsets: {} detected, {} reference, sensitivity {sensitivity:.4}, PPV {ppv:.4}, median offset {median_ms:.1} ms",
        detected.len(),
        reference.len()
    );
    assert!(
        sensitivity >= 0.99 && ppv >= 0.99,
        "sensitivity {sensitivity}, PPV {ppv}"
    );
    assert!(median_ms.abs() < 20.0, "median offset {median_ms} ms");
}

#[test]
fn inca_end_diastole_matches_the_console_beat_counter() {
    let recording = formats::read(&data("inca/inca_ivc_occlusion_example.csv"), Format::Inca).unwrap();
    let segment_data = &recording.segments[0];
    let index = |name: &str| segment_data.channels.iter().position(|c| c.name == name).unwrap();
    let counter = &segment_data.channels[index("beat#")].samples;
    let ecg = at_analysis_rate(&recording, index(SignalKind::Ecg.name()));
    let lvp = at_analysis_rate(&recording, index(SignalKind::Lvp.name()));
    let lvv = at_analysis_rate(&recording, index(SignalKind::Lvv.name()));
    let signals = Signals {
        ecg: Some(&ecg),
        lvp: Some(&lvp),
        lvv: Some(&lvv),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &SignalSettings::default()).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave), "{:?}", result.notes);
    // The console's end-diastoles: where its beat counter increments (in 250 Hz samples).
    let transitions: Vec<usize> = (1..counter.len())
        .filter(|&i| counter[i] != counter[i - 1])
        .collect();
    let mut ends: Vec<u64> = result.beats.iter().map(|b| b.start).collect();
    ends.extend(result.beats.last().map(|b| b.end));
    let ours: Vec<f64> = ends.iter().map(|&s| s as f64 / RATE * 250.0).collect();
    let matched = transitions
        .iter()
        .filter(|&&t| ours.iter().any(|&o| (o - t as f64).abs() <= 2.0))
        .count();
    let rate = matched as f64 / transitions.len() as f64;
    println!(
        "Inca: {matched} of {} console end-diastoles matched within 2 samples ({rate:.3})",
        transitions.len()
    );
    assert!(rate >= 0.95);
    // Numbering: beat N starts where the console's counter becomes N.
    for beat in &result.beats {
        let at = (beat.start as f64 / RATE * 250.0).round() as usize;
        assert_eq!(
            counter[at.min(counter.len() - 1)] as u32,
            beat.number,
            "beat {}",
            beat.number
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Synthetic patient with known beat times.

/// Deterministic Gaussian noise (xorshift + Box-Muller), so tests are reproducible.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Timing constants of the synthetic beat, s.
const PRE_EJECTION_S: f64 = 0.08;
const LV_DELAY_S: f64 = 0.02;
const CONTRACTION_S: f64 = 0.35;
const SYSTOLE_S: f64 = 0.30;

/// A synthetic recording at 1 kHz: ECG (P-QRS-T, baseline wander, noise), aortic pressure (foot at R +
/// 80 ms, notch 300 ms later, exponential diastolic decay), LV pressure (sin^2 activation 20 ms after R),
/// LV volume and Doppler velocity. R times are the truth.
struct Synthetic {
    r_times_s: Vec<f64>,
    ecg: Vec<f64>,
    pa: Vec<f64>,
    lvp: Vec<f64>,
    lvv: Vec<f64>,
    ipv: Vec<f64>,
}

impl Synthetic {
    /// `rr_s(k)` gives the k-th RR interval; `pulse(k)` scales the k-th arterial pulse (1 = 45 mmHg).
    fn new(duration_s: f64, rr_s: impl Fn(usize) -> f64, pulse: impl Fn(usize) -> f64) -> Synthetic {
        let n = (duration_s * RATE) as usize;
        let mut r_times_s = Vec::new();
        let mut t = 0.37;
        while t < duration_s + 2.0 {
            r_times_s.push(t);
            t += rr_s(r_times_s.len() - 1);
        }
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        let gauss = |x: f64, mu: f64, sigma: f64| (-0.5 * ((x - mu) / sigma).powi(2)).exp();
        let mut s = Synthetic {
            r_times_s: r_times_s.clone(),
            ecg: vec![0.0; n],
            pa: vec![0.0; n],
            lvp: vec![0.0; n],
            lvv: vec![0.0; n],
            ipv: vec![0.0; n],
        };
        for i in 0..n {
            let t = i as f64 / RATE;
            // The beat this sample belongs to (last R at or before t), and the previous one.
            let k = r_times_s.iter().rposition(|&r| r <= t);
            let mut ecg = 0.1 * (2.0 * std::f64::consts::PI * 0.25 * t).sin() + 0.01 * noise.gauss();
            for &r in r_times_s.iter().filter(|&&r| (r - t).abs() < 0.6) {
                ecg += 0.12 * gauss(t, r - 0.16, 0.02) - 0.1 * gauss(t, r - 0.025, 0.008)
                    + 1.0 * gauss(t, r, 0.01)
                    - 0.25 * gauss(t, r + 0.025, 0.008)
                    + 0.3 * gauss(t, r + 0.25, 0.04);
            }
            s.ecg[i] = ecg;
            // Arterial pulse, volume and velocity follow the foot (R + pre-ejection period); LV pressure follows R.
            let (pa, lvv, ipv) = match r_times_s.iter().rposition(|&r| r + PRE_EJECTION_S <= t) {
                None => (70.0, 150.0, 12.0),
                Some(b) => {
                    let tau = t - r_times_s[b] - PRE_EJECTION_S;
                    let rr = r_times_s[b + 1] - r_times_s[b];
                    let lvv = 150.0 - 70.0 * smoothstep(tau / SYSTOLE_S)
                        + 70.0 * smoothstep((tau - SYSTOLE_S - 0.05) / (rr - SYSTOLE_S - 0.15));
                    let diastole = (tau - SYSTOLE_S) / (rr - SYSTOLE_S);
                    let ipv = if diastole > 0.0 {
                        15.0 + 25.0 * (std::f64::consts::PI * diastole).sin()
                    } else {
                        12.0
                    };
                    (aortic(tau, rr, pulse(b)), lvv, ipv)
                }
            };
            let since_r = k.map_or(-1.0, |k| t - r_times_s[k] - LV_DELAY_S);
            let lvp = if (0.0..CONTRACTION_S).contains(&since_r) {
                10.0 + 110.0 * (std::f64::consts::PI * since_r / CONTRACTION_S).sin().powi(2)
            } else {
                10.0
            };
            s.pa[i] = pa + 0.2 * noise.gauss();
            s.lvp[i] = lvp + 0.05 * noise.gauss();
            s.lvv[i] = lvv;
            s.ipv[i] = ipv + 0.5 * noise.gauss();
        }
        s
    }

    fn regular(duration_s: f64) -> Synthetic {
        Synthetic::new(duration_s, |k| 0.8 + 0.02 * (k as f64 * 0.7).sin(), |_| 1.0)
    }

    fn signals(&self) -> Signals<'_> {
        Signals {
            ecg: Some(&self.ecg),
            pa: Some(&self.pa),
            ipv: Some(&self.ipv),
            lvp: Some(&self.lvp),
            lvv: Some(&self.lvv),
            ..Signals::default()
        }
    }

    /// Index of the R wave nearest to sample `index`, and the distance in ms.
    fn nearest_r(&self, index: u64) -> (usize, f64) {
        let t = index as f64 / RATE;
        let (k, r) = self
            .r_times_s
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()))
            .unwrap();
        (k, 1000.0 * (t - r))
    }
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Aortic pressure `tau` s after a pulse's foot in a beat of length `rr`: a systolic lobe from 70 mmHg rising
/// by 45 x `scale`, meeting a notch (small dip) at `SYSTOLE_S`, then decaying back to 70 mmHg at the next foot.
fn aortic(tau: f64, rr: f64, scale: f64) -> f64 {
    let (end, amplitude, notch) = (70.0, 45.0 * scale, 70.0 + 20.0 * scale);
    let width =
        std::f64::consts::PI * SYSTOLE_S / (std::f64::consts::PI - ((notch - end) / amplitude).asin());
    if tau < SYSTOLE_S {
        end + amplitude * (std::f64::consts::PI * tau / width).sin()
            - 3.0 * scale * (-0.5 * ((tau - SYSTOLE_S) / 0.01).powi(2)).exp()
    } else {
        let decay = |x: f64| (-x / 0.4).exp();
        let span = rr - SYSTOLE_S;
        let shape = (decay(tau - SYSTOLE_S) - decay(span)) / (1.0 - decay(span));
        end + (notch - end) * shape - 3.0 * scale * (-0.5 * ((tau - SYSTOLE_S) / 0.01).powi(2)).exp()
    }
}

fn r_index_of(s: &Synthetic, beat: &Beat, offset_s: f64, tolerance_ms: f64) -> usize {
    let (k, ms) = s.nearest_r((beat.start as f64 - offset_s * RATE).round() as u64);
    assert!(
        ms.abs() <= tolerance_ms,
        "beat {} is {ms:.1} ms from R {k} (+{offset_s} s)",
        beat.number
    );
    k
}

/// Beats are consecutive R-to-R intervals: beat n+1 starts at the R after beat n's.
fn assert_consecutive(s: &Synthetic, beats: &[Beat], offset_s: f64, tolerance_ms: f64) {
    let ks: Vec<usize> = beats
        .iter()
        .map(|b| r_index_of(s, b, offset_s, tolerance_ms))
        .collect();
    for pair in ks.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "beats skip or repeat an R wave: {ks:?}");
    }
    for beat in beats.windows(2) {
        assert_eq!(beat[0].end, beat[1].start);
    }
}

#[test]
fn synthetic_fiducials_follow_the_priority_and_the_truth() {
    let s = Synthetic::regular(40.0);
    let settings = SignalSettings::default();
    let num_r = s
        .r_times_s
        .iter()
        .filter(|&&r| r > settings.lead_in_s && r < 39.0)
        .count();

    let all = segment(&s.signals(), RATE, &settings).unwrap();
    assert_eq!(all.fiducial, Some(Fiducial::RWave));
    assert_consecutive(&s, &all.beats, 0.0, 3.0);
    assert!(
        all.beats.len() + 1 >= num_r,
        "{} beats for {num_r} R waves",
        all.beats.len()
    );
    assert_eq!(all.counts.num_accepted, all.beats.len(), "{:?}", all.counts);
    assert_eq!(all.beats[0].number, 1);

    let mut no_ecg = s.signals();
    no_ecg.ecg = None;
    let lv = segment(&no_ecg, RATE, &settings).unwrap();
    assert_eq!(lv.fiducial, Some(Fiducial::LvEndDiastole));
    // dP/dt of sin^2 activation: 10 % of its maximum is reached asin(0.1)/(2 pi) of the contraction in.
    let ed_offset_s = LV_DELAY_S + CONTRACTION_S * 0.1f64.asin() / (2.0 * std::f64::consts::PI);
    assert_consecutive(&s, &lv.beats, ed_offset_s, 3.0);
    assert!(lv.beats.len() + 1 >= num_r);

    let pa_only = Signals {
        pa: Some(&s.pa),
        ..Signals::default()
    };
    let onsets = segment(&pa_only, RATE, &settings).unwrap();
    assert_eq!(onsets.fiducial, Some(Fiducial::PressureOnset));
    // The onset is where the slope sum reaches 10 % of its pulse peak: on this ideal, sharp foot that is a few
    // ms after the corner (on real pressure it matches PhysioNet's wabp, see test_icu_onsets_match_wabp).
    assert_consecutive(&s, &onsets.beats, PRE_EJECTION_S, 15.0);
    assert_eq!(onsets.counts.num_accepted, onsets.beats.len());
}

#[test]
fn synthetic_phases_notch_wave_free_period_and_lv_fiducials() {
    let s = Synthetic::regular(20.0);
    let settings = SignalSettings::default();
    let result = segment(&s.signals(), RATE, &settings).unwrap();
    for beat in &result.beats {
        let k = r_index_of(&s, beat, 0.0, 3.0);
        // With aortic pressure alone systole ends at the notch (these synthetic LV and aortic pressures are not
        // one circulation, so their crossover means nothing); LV fiducials come from the LV trace.
        let aortic_only = Signals {
            lvp: None,
            lvv: None,
            ..s.signals()
        };
        let phases = beat_phases(&aortic_only, beat, RATE, &settings).unwrap();
        let r = s.r_times_s[k];
        let ms = |index: u64, truth_s: f64| 1000.0 * (index as f64 / RATE - truth_s);
        assert_eq!(phases.end_diastole, Some(beat.start));
        assert_eq!(phases.systole_end_method, SystoleEnd::DicroticNotch);
        let notch = phases.dicrotic_notch.unwrap();
        assert!(
            ms(notch, r + PRE_EJECTION_S + SYSTOLE_S).abs() <= 10.0,
            "notch {} ms",
            ms(notch, r + 0.38)
        );
        let with_lv = beat_phases(&s.signals(), beat, RATE, &settings).unwrap();
        let lv = with_lv.lv.unwrap();
        // sin^2 activation: dP/dt max a quarter into contraction, min at three quarters. The peaks are broad
        // (cosine-shaped), so even 0.05 mmHg of noise moves their timing by several ms (and their value by ~1 %).
        assert!(ms(lv.dpdt_max_index, r + LV_DELAY_S + CONTRACTION_S / 4.0).abs() <= 15.0);
        assert!(ms(lv.dpdt_min_index, r + LV_DELAY_S + 0.75 * CONTRACTION_S).abs() <= 15.0);
        let expected_max = 110.0 * std::f64::consts::PI / CONTRACTION_S;
        assert!(
            (lv.dpdt_max_mmhg_per_s / expected_max - 1.0).abs() < 0.03,
            "{}",
            lv.dpdt_max_mmhg_per_s
        );
        assert!(
            (lv.dpdt_min_mmhg_per_s / -expected_max - 1.0).abs() < 0.03,
            "{}",
            lv.dpdt_min_mmhg_per_s
        );
        let (wfp_start, wfp_end) = phases.wave_free.unwrap();
        let diastole = (beat.end - notch) as f64;
        assert!(((wfp_start - notch) as f64 - 0.25 * diastole).abs() <= 1.0);
        assert_eq!(beat.end - wfp_end, 5);
        assert_eq!(with_lv.end_systole_fallback, Some(lv.dpdt_min_index - 20));
    }
}

#[test]
fn qc_rejects_ectopy_dropout_and_damping_and_labels_non_pulsatile_beats() {
    // R 20 comes early (short RR 20), a compensatory pause follows (RR 21).
    let rr = |k: usize| match k {
        19 => 0.5,
        20 => 1.1,
        _ => 0.8,
    };
    let pulse = |k: usize| if (40..50).contains(&k) { 0.1 } else { 1.0 };
    let mut s = Synthetic::new(60.0, rr, pulse);
    // Doppler dropout: 80 ms (rejected) in diastole of the beat of R 12, 30 ms (kept) in that of R 14.
    for (k, length_ms) in [(12, 80), (14, 30)] {
        let from = ((s.r_times_s[k] + 0.55) * RATE) as usize;
        s.ipv[from..from + length_ms].fill(0.5);
    }
    // Damping of the beats of R 30-33: pulse shrunk to 30 % around the beat's own mean.
    for k in 30..34 {
        let (a, b) = (
            (s.r_times_s[k] * RATE) as usize,
            (s.r_times_s[k + 1] * RATE) as usize,
        );
        let mean = s.pa[a..b].iter().sum::<f64>() / (b - a) as f64;
        s.pa[a..b].iter_mut().for_each(|p| *p = mean + 0.3 * (*p - mean));
    }
    let result = segment(&s.signals(), RATE, &SignalSettings::default()).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave));
    let mut expected = std::collections::BTreeMap::new();
    for beat in &result.beats {
        let k = r_index_of(&s, beat, 0.0, 3.0);
        let want = match k {
            12 => Some(RejectReason::DopplerDropout),
            // The beat the ectopic cuts short, the ectopic beat and the post-ectopic beat.
            19..=21 => Some(RejectReason::Ectopic),
            30..=33 => Some(RejectReason::PressureDamping),
            _ => None,
        };
        assert_eq!(beat.reject, want, "beat of R {k}");
        assert_eq!(beat.non_pulsatile, (40..50).contains(&k), "beat of R {k}");
        if let Some(reason) = want {
            *expected.entry(reason.key().to_owned()).or_insert(0) += 1;
        }
        if beat.non_pulsatile {
            let phases = beat_phases(&s.signals(), beat, RATE, &SignalSettings::default()).unwrap();
            // Never the notch of a pulse this small: LV pressure decides (crossover or dP/dt min).
            assert_ne!(phases.systole_end_method, SystoleEnd::DicroticNotch);
        }
    }
    assert_eq!(result.counts.rejected, expected);
    assert_eq!(result.counts.num_non_pulsatile, 10);
    let (k40, k50) = (s.r_times_s[40], s.r_times_s[50]);
    assert_eq!(
        result.non_pulsatile,
        vec![((k40 * RATE).round() as u64, (k50 * RATE).round() as u64)]
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input: no fabricated beats, a reason, never a panic.

#[test]
fn flat_lines_give_no_beats_and_say_why() {
    let flat_pa = vec![80.0; 20_000];
    let flat_ecg = vec![0.0; 20_000];
    let signals = Signals {
        ecg: Some(&flat_ecg),
        pa: Some(&flat_pa),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &SignalSettings::default()).unwrap();
    assert!(result.beats.is_empty());
    let reason = result.no_beats_reason.unwrap();
    assert!(
        reason.contains("ECG") && reason.contains("Pa") && reason.contains("flat"),
        "{reason}"
    );
}

#[test]
fn pure_noise_gives_no_beats_and_says_why() {
    let mut noise = Noise(7);
    // White noise at a console's 250 Hz, brought to the analysis rate like any channel.
    let pa: Vec<f64> = (0..7500).map(|_| 80.0 + 10.0 * noise.gauss()).collect();
    let ecg: Vec<f64> = (0..7500).map(|_| 0.3 * noise.gauss()).collect();
    let (pa, ecg) = (
        resample(&pa, 250.0, RATE).unwrap(),
        resample(&ecg, 250.0, RATE).unwrap(),
    );
    let lvp: Vec<f64> = (0..30_000).map(|_| 40.0 + 20.0 * noise.gauss()).collect();
    let signals = Signals {
        ecg: Some(&ecg),
        pa: Some(&pa),
        lvp: Some(&lvp[..pa.len()]),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &SignalSettings::default()).unwrap();
    assert!(result.beats.is_empty(), "{} beats", result.beats.len());
    let reason = result.no_beats_reason.unwrap();
    assert_eq!(reason.matches("noise").count(), 3, "{reason}");
}

#[test]
fn negative_mean_arterial_pressure_is_implausible() {
    let s = Synthetic::regular(20.0);
    let shifted: Vec<f64> = s.pa.iter().map(|p| p - 150.0).collect();
    let result = segment_pa(&shifted);
    assert!(result.beats.is_empty());
    assert!(result.no_beats_reason.unwrap().contains("implausible pressure"));
    // With a good ECG the beats stand, but the implausible pressure does not label or reject them.
    let signals = Signals {
        ecg: Some(&s.ecg),
        pa: Some(&shifted),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &SignalSettings::default()).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave));
    assert!(result.beats.iter().all(|b| b.accepted() && !b.non_pulsatile));
}

#[test]
fn tiny_and_empty_inputs_give_no_beats() {
    let settings = SignalSettings::default();
    for n in [0, 1, 2] {
        let x = vec![80.0; n];
        let signals = Signals {
            ecg: Some(&x),
            pa: Some(&x),
            lvp: Some(&x),
            ..Signals::default()
        };
        let result = segment(&signals, RATE, &settings).unwrap();
        assert!(result.beats.is_empty());
        assert!(result.no_beats_reason.unwrap().contains("too short"));
    }
    let result = segment(&Signals::default(), RATE, &settings).unwrap();
    assert!(result.no_beats_reason.unwrap().contains("no channel"));
    // A 2-sample file read and analysed end to end.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.csv");
    std::fs::write(
        &path,
        "Filter: none\r\nbeat#,Time,Pressure\r\n,,mmHg\r\n0,0,10\r\n0,0.004,11\r\n",
    )
    .unwrap();
    let recording = formats::read(&path, Format::Auto).unwrap();
    let lvp = at_analysis_rate(&recording, 1);
    let result = segment(
        &Signals {
            lvp: Some(&lvp),
            ..Signals::default()
        },
        RATE,
        &settings,
    )
    .unwrap();
    assert!(result.beats.is_empty() && result.no_beats_reason.is_some());
    // Mismatched lengths are the caller's error, not a panic.
    let (a, b) = (vec![1.0; 10], vec![1.0; 11]);
    assert!(
        segment(
            &Signals {
                ecg: Some(&a),
                pa: Some(&b),
                ..Signals::default()
            },
            RATE,
            &settings
        )
        .is_err()
    );
}

#[test]
fn nan_gaps_reject_only_the_beats_they_touch() {
    let mut s = Synthetic::regular(40.0);
    let gap = (15_000, 17_500);
    for channel in [&mut s.ecg, &mut s.pa, &mut s.ipv, &mut s.lvp, &mut s.lvv] {
        channel[gap.0..gap.1].fill(f64::NAN);
    }
    let result = segment(&s.signals(), RATE, &SignalSettings::default()).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave));
    assert!(result.channels.iter().all(|c| c.usable_as_fiducial()));
    let missing: Vec<&Beat> = result
        .beats
        .iter()
        .filter(|b| b.reject == Some(RejectReason::MissingData))
        .collect();
    assert_eq!(missing.len(), 1, "one beat spans the gap");
    assert!(missing[0].start < gap.0 as u64 && missing[0].end > gap.1 as u64);
    // After the gap, detection restarts after the lead-in; every accepted beat is a true R-R interval.
    for beat in result.beats.iter().filter(|b| b.accepted()) {
        let (k, ms) = s.nearest_r(beat.start);
        assert!(ms.abs() <= 3.0);
        assert!((beat.end as f64 / RATE - s.r_times_s[k + 1]).abs() <= 0.003);
        assert!(beat.end <= gap.0 as u64 || beat.start >= gap.1 as u64);
    }
    assert!(result.counts.num_accepted > 35);
}

// ---------------------------------------------------------------------------------------------------------------
// Online: identical beats whatever the chunking, within a beat of latency.

/// Beats from a tracker fed `chunk` samples at a time, each with the number of samples pushed when it came out.
fn tracked(signals: &Signals, fiducial: Fiducial, chunk: usize) -> Vec<(Beat, u64)> {
    let kinds: Vec<SignalKind> = signals.present().map(|(kind, _)| kind).collect();
    let mut tracker = BeatTracker::new(fiducial, &kinds, RATE, &SignalSettings::default()).unwrap();
    let n = signals.len().unwrap() as u64;
    let mut beats = Vec::new();
    let mut from = 0;
    while from < n {
        let to = (from + chunk as u64).min(n);
        let new = tracker.push(&signals.window(from, to)).unwrap();
        beats.extend(new.into_iter().map(|b| (b, to)));
        from = to;
    }
    beats.extend(tracker.finish().into_iter().map(|b| (b, n)));
    beats
}

fn assert_chunk_invariant(signals: &Signals, fiducial: Fiducial) -> Vec<(Beat, u64)> {
    let offline = detect_beats(signals, fiducial, RATE, &SignalSettings::default()).unwrap();
    assert!(offline.len() > 10);
    let n = signals.len().unwrap();
    let mut by_one = Vec::new();
    for chunk in [1, 7, 1000, n] {
        let online = tracked(signals, fiducial, chunk);
        let beats: Vec<Beat> = online.iter().map(|(b, _)| b.clone()).collect();
        assert_eq!(beats, offline, "chunks of {chunk}");
        if chunk == 1 {
            by_one = online;
        }
    }
    by_one
}

#[test]
fn online_beats_are_identical_for_any_chunking_on_synthetic_signals() {
    let mut s = Synthetic::new(
        60.0,
        |k| {
            if k == 20 {
                0.55
            } else {
                0.75 + 0.05 * (k as f64).sin()
            }
        },
        |_| 1.0,
    );
    s.ipv[20_000..20_100].fill(0.0);
    for channel in [&mut s.ecg, &mut s.pa, &mut s.ipv, &mut s.lvp, &mut s.lvv] {
        channel[30_000..30_700].fill(f64::NAN);
    }
    let by_one = assert_chunk_invariant(&s.signals(), Fiducial::RWave);
    // Latency: after the first 64 beats (the rhythm window's start-up), each beat comes out within half a second
    // of the end of the beat after next (QC looks two beats ahead: an ectopic's pause, a damped line's run).
    let num_checked = by_one
        .windows(3)
        .filter(|beats| beats[0].0.number > 64)
        .map(|beats| {
            let ((beat, at), (next, _), (after, _)) = (&beats[0], &beats[1], &beats[2]);
            assert!(
                *at - beat.end <= next.num_samples() + after.num_samples() + 500,
                "beat {} out {} ms after its end",
                beat.number,
                at - beat.end
            );
        })
        .count();
    assert!(num_checked >= 10, "{num_checked} beats after the start-up");
    let mut no_ecg = s.signals();
    no_ecg.ecg = None;
    assert_chunk_invariant(&no_ecg, Fiducial::LvEndDiastole);
    assert_chunk_invariant(
        &Signals {
            pa: Some(&s.pa),
            ipv: Some(&s.ipv),
            ..Signals::default()
        },
        Fiducial::PressureOnset,
    );
}

#[test]
fn online_beats_are_identical_for_any_chunking_on_test_icu_and_inca() {
    let abp = test_icu_abp();
    assert_chunk_invariant(
        &Signals {
            pa: Some(&abp),
            ..Signals::default()
        },
        Fiducial::PressureOnset,
    );
    let recording = formats::read(&data("inca/inca_ivc_occlusion_example.csv"), Format::Inca).unwrap();
    let (ecg, lvp, lvv) = (
        at_analysis_rate(&recording, 1),
        at_analysis_rate(&recording, 2),
        at_analysis_rate(&recording, 4),
    );
    let signals = Signals {
        ecg: Some(&ecg),
        lvp: Some(&lvp),
        lvv: Some(&lvv),
        ..Signals::default()
    };
    assert_chunk_invariant(&signals, Fiducial::RWave);
    assert_chunk_invariant(&signals, Fiducial::LvEndDiastole);
}

// ---------------------------------------------------------------------------------------------------------------
// Windows and ensembles on detected beats.

#[test]
fn steady_window_and_ensemble_on_synthetic_beats() {
    let s = Synthetic::regular(40.0);
    let settings = SignalSettings::default();
    let result = segment(&s.signals(), RATE, &settings).unwrap();
    let window = steady_window(&result.beats, RATE, &settings.window, Pick::Latest).unwrap();
    assert!(window.duration_s >= 15.0 && window.beat_numbers.len() >= 10);
    assert!(window.duration_s < 15.0 + 0.85);
    let in_window: Vec<Beat> = result
        .beats
        .iter()
        .filter(|b| window.beat_numbers.contains(&b.number))
        .cloned()
        .collect();
    let ensemble = ensemble_average(&s.pa, 0, &in_window).unwrap();
    assert_eq!(ensemble.num_beats, in_window.len());
    let shortest = in_window.iter().map(|b| b.end - b.start).min().unwrap() as usize;
    assert_eq!(ensemble.mean.len(), shortest);
    // The ensemble's pulse: foot 80 ms after R at ~70 mmHg, peak ~115 mmHg.
    let peak = ensemble.mean.iter().cloned().fold(f64::MIN, f64::max);
    assert!((peak - 115.0).abs() < 1.5, "{peak}");
    assert!((ensemble.mean[80] - 70.0).abs() < 1.5, "{}", ensemble.mean[80]);
}

#[test]
fn inca_lv_pressure_fallback_finds_every_console_beat() {
    let recording = formats::read(&data("inca/inca_ivc_occlusion_example.csv"), Format::Inca).unwrap();
    let counter = &recording.segments[0].channels[0].samples;
    let (ecg, lvp) = (at_analysis_rate(&recording, 1), at_analysis_rate(&recording, 2));
    // Without the ECG, the LV dP/dt rule times end-diastole (through the whole occlusion, as pressure falls).
    let result = segment(
        &Signals {
            lvp: Some(&lvp),
            ..Signals::default()
        },
        RATE,
        &SignalSettings::default(),
    )
    .unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::LvEndDiastole));
    let transitions: Vec<f64> = (1..counter.len())
        .filter(|&i| counter[i] != counter[i - 1])
        .map(|i| i as f64 / 250.0)
        .collect();
    let mut ends: Vec<f64> = result.beats.iter().map(|b| b.start as f64 / RATE).collect();
    ends.extend(result.beats.last().map(|b| b.end as f64 / RATE));
    let matched = match_times(&ends, &transitions, 0.1);
    let offset_ms = 1000.0 * median(matched.clone());
    println!(
        "Inca, LV dP/dt end-diastole vs the console's R-wave end-diastole: {} of {} within 100 ms, median {offset_ms:+.0} ms",
        matched.len(),
        transitions.len()
    );
    assert_eq!(matched.len(), transitions.len());
    // The first R wave (0.43 s) is in the lead-in and so is its upstroke: the beats are the console's beats.
    assert_eq!(ends.len(), transitions.len());
    // The dP/dt rule marks the start of the pressure upstroke, after the R peak (electromechanical delay).
    assert!((0.0..80.0).contains(&offset_ms), "{offset_ms}");
    // On the same data, each LV upstroke starts at its R peak of the ECG or up to 80 ms later (here 10 ms at
    // baseline, shrinking to about 0 late in the occlusion).
    let r = segment(
        &Signals {
            ecg: Some(&ecg),
            ..Signals::default()
        },
        RATE,
        &SignalSettings::default(),
    )
    .unwrap();
    assert_eq!(r.beats.len(), result.beats.len());
    let delays: Vec<i64> = result
        .beats
        .iter()
        .zip(&r.beats)
        .map(|(lv, ecg)| lv.start as i64 - ecg.start as i64)
        .collect();
    assert!(delays.iter().all(|d| (-5..80).contains(d)), "{delays:?}");
}

#[test]
fn test_icu_r_waves_pair_with_the_arterial_onsets() {
    let recording = formats::read(&data("wfdb/TestICU.hea"), Format::Wfdb).unwrap();
    let ecg = at_analysis_rate(&recording, 0);
    let result = segment(
        &Signals {
            ecg: Some(&ecg),
            ..Signals::default()
        },
        RATE,
        &SignalSettings::default(),
    )
    .unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave), "{:?}", result.notes);
    let r_s: Vec<f64> = result.beats.iter().map(|b| b.start as f64 / RATE).collect();
    // Each pulse onset follows its R wave by the pre-ejection period plus the pulse transit time: pair every
    // wabp onset with the last R wave before it.
    let onsets = wabp_onsets_s();
    let delays: Vec<f64> = onsets
        .iter()
        .filter_map(|&o| r_s.iter().rev().find(|&&r| r < o).map(|r| o - r))
        .filter(|d| *d < 1.0)
        .collect();
    let typical = median(delays.clone());
    let steady = delays.iter().filter(|d| (*d - typical).abs() < 0.04).count();
    println!(
        "TestICU: {} R waves, {} onsets; R-to-onset delay median {:.0} ms, {steady} of {} within 40 ms of it",
        r_s.len(),
        onsets.len(),
        1000.0 * typical,
        delays.len()
    );
    // The ECG is stored at 1 mV resolution (gain 1: each R wave is a 2-3 sample blip of 1) and has 11 s of
    // 17 mV artefact steps from 222 s; apart from those seconds every onset has its R wave.
    assert!((0.1..0.4).contains(&typical));
    assert!(steady as f64 >= 0.95 * onsets.len() as f64);
    assert!((r_s.len() as i64 - onsets.len() as i64).abs() <= 10);
    assert!(
        result.counts.num_accepted as f64 >= 0.9 * result.beats.len() as f64,
        "{:?}",
        result.counts
    );
}

// ---------------------------------------------------------------------------------------------------------------
// The simulated patient (its R waves are the truth).

/// `duration_s` of scenario `name` with realistic sensors: the measured channels and the true R-wave samples.
fn simulated(name: &str, duration_s: f64) -> (Vec<Vec<f64>>, Vec<u64>) {
    let mut simulator = Simulator::new(name, 11, SensorLevel::Realistic).unwrap();
    let kinds: Vec<Option<SignalKind>> = simulator
        .source_spec()
        .channels
        .iter()
        .map(|c| c.signal())
        .collect();
    let mut channels = vec![Vec::new(); kinds.len()];
    let mut r_waves = Vec::new();
    let mut last_beat = None;
    simulator.advance((duration_s * RATE) as usize, |sample| {
        for (channel, value) in channels.iter_mut().zip(sample.measured) {
            channel.push(value);
        }
        if last_beat.is_some_and(|b| b != sample.truth.beat_number) {
            r_waves.push(sample.index);
        }
        last_beat = Some(sample.truth.beat_number);
    });
    let order = [
        SignalKind::Ecg,
        SignalKind::Pa,
        SignalKind::Pd,
        SignalKind::Ipv,
        SignalKind::Lvp,
        SignalKind::Lvv,
    ];
    let channels = order
        .iter()
        .map(|kind| channels[kinds.iter().position(|k| *k == Some(*kind)).unwrap()].clone())
        .collect();
    (channels, r_waves)
}

fn simulated_signals(channels: &[Vec<f64>]) -> Signals<'_> {
    Signals {
        ecg: Some(&channels[0]),
        pa: Some(&channels[1]),
        pd: Some(&channels[2]),
        ipv: Some(&channels[3]),
        lvp: Some(&channels[4]),
        lvv: Some(&channels[5]),
        ..Signals::default()
    }
}

#[test]
fn simulated_patient_beats_follow_its_r_waves_in_every_support_state() {
    let settings = SignalSettings::default();
    for name in [
        "shock-ecmo",
        "shock-ecmo-iabp",
        "shock-ecmo-impella",
        "shock-ecmo-full-flow",
        "shock-ecmo-occlusion",
    ] {
        let (channels, r_waves) = simulated(name, 30.0);
        let result = segment(&simulated_signals(&channels), RATE, &settings).unwrap();
        assert_eq!(
            result.fiducial,
            Some(Fiducial::RWave),
            "{name}: {:?}",
            result.notes
        );
        // One beat per R wave (the balloon's diastolic upstroke is never counted: the ECG times the beats).
        let expected = r_waves
            .windows(2)
            .filter(|w| w[0] as f64 >= settings.lead_in_s * RATE)
            .count();
        assert!(
            result.beats.len() + 1 >= expected && result.beats.len() <= expected,
            "{name}: {} beats for {expected}",
            result.beats.len()
        );
        for beat in &result.beats {
            let nearest = r_waves
                .iter()
                .map(|&r| beat.start as i64 - r as i64)
                .min_by_key(|d| d.abs())
                .unwrap();
            assert!(
                nearest.abs() <= 3,
                "{name}: beat {} is {nearest} ms from its R wave",
                beat.number
            );
        }
        let non_pulsatile = result.counts.num_non_pulsatile as f64 / result.beats.len() as f64;
        println!(
            "{name}: {} beats, {} accepted, {:.0} % non-pulsatile, rejected {:?}",
            result.beats.len(),
            result.counts.num_accepted,
            100.0 * non_pulsatile,
            result.counts.rejected
        );
        match name {
            // Full ECMO flow and Impella + ECMO leave the aortic pulse nearly flat: labelled, not rejected.
            "shock-ecmo-full-flow" | "shock-ecmo-impella" => assert!(non_pulsatile > 0.5, "{name}"),
            "shock-ecmo" | "shock-ecmo-iabp" => assert_eq!(result.counts.num_non_pulsatile, 0, "{name}"),
            _ => {}
        }
        // Realistic sensors drop the Doppler signal now and then; everything else is accepted.
        assert!(
            result.counts.num_accepted as f64 >= 0.9 * result.beats.len() as f64,
            "{name}"
        );
    }
}

#[test]
fn online_beats_are_identical_for_any_chunking_on_the_simulated_patient() {
    let (channels, _) = simulated("shock-ecmo-iabp", 30.0);
    assert_chunk_invariant(&simulated_signals(&channels), Fiducial::RWave);
    let mut no_ecg = simulated_signals(&channels);
    no_ecg.ecg = None;
    assert_chunk_invariant(&no_ecg, Fiducial::LvEndDiastole);
}

// ---------------------------------------------------------------------------------------------------------------
// Dicrotic notch and damping QC on a real arterial trace (TestICU), not only on synthetic pulses.

#[test]
fn test_icu_has_no_notch_to_time_systole_and_a_damped_stretch_is_rejected() {
    let recording = formats::read(&data("wfdb/TestICU.hea"), Format::Wfdb).unwrap();
    let ecg = at_analysis_rate(&recording, 0);
    let abp = at_analysis_rate(&recording, 2);
    let settings = SignalSettings::default();
    let signals = Signals {
        ecg: Some(&ecg),
        pa: Some(&abp),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &settings).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave));
    // The undamped real trace: no beat rejected for damping.
    assert!(
        !result
            .beats
            .iter()
            .any(|b| b.reject == Some(RejectReason::PressureDamping)),
        "{:?}",
        result.counts
    );
    // Notch: this trace has no visible incisura (a smooth peripheral decay, 1 mmHg steps), so no bend of it is
    // the valve closing. Every accepted beat is left untimed for that reason (its diastolic endpoints are left
    // out, counted) instead of ending systole at the sharpest wiggle of the fall, which wandered from 60 to 380 ms
    // after the peak from beat to beat before the prominence rule.
    let mut num_accepted = 0;
    for beat in result.beats.iter().filter(|b| b.accepted()) {
        num_accepted += 1;
        assert_eq!(
            beat_phases(&signals, beat, RATE, &settings).map(|p| p.systole_end_method),
            Err(PhaseError::NoNotch),
            "beat {}",
            beat.number
        );
    }
    assert!(num_accepted > 300, "{num_accepted} accepted beats");

    // A briefly overdamped line (an air bubble flushed out after a few beats): the real trace from 100 s to
    // 104 s through a first-order low-pass at 0.5 Hz, which keeps the mean and shrinks the pulse. Those beats
    // are rejected for damping; beats away from the episode are not. (Damping that lasts longer than about
    // half the 9-beat local median becomes the local norm and is no longer flagged: see the analysis note.)
    let (from, to) = ((100.0 * RATE) as usize, (104.0 * RATE) as usize);
    let mut damped = abp.clone();
    let alpha = 1.0 - (-2.0 * std::f64::consts::PI * 0.5 / RATE).exp();
    let mut state = abp[from];
    for p in &mut damped[from..to] {
        state += alpha * (*p - state);
        *p = state;
    }
    let signals = Signals {
        ecg: Some(&ecg),
        pa: Some(&damped),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &settings).unwrap();
    let (mut inside, mut rejected_inside) = (0, 0);
    for beat in &result.beats {
        let (start_s, end_s) = (beat.start as f64 / RATE, beat.end as f64 / RATE);
        if start_s > 100.2 && end_s < 104.0 {
            inside += 1;
            rejected_inside += usize::from(beat.reject == Some(RejectReason::PressureDamping));
        } else if end_s < 99.0 || start_s > 106.0 {
            assert_ne!(
                beat.reject,
                Some(RejectReason::PressureDamping),
                "beat {}",
                beat.number
            );
        }
    }
    println!("TestICU damped 100-104 s: {rejected_inside} of {inside} beats inside rejected for damping");
    assert!(inside >= 3 && rejected_inside == inside);
}

/// Every beat of 120 s of the simulated patient (`hyperaemia` or at rest) whose diastole holds a Doppler dropout
/// of at least 60 ms (the velocity reads below 3 cm/s while blood flows at more than 10 cm/s, the sensor chain's
/// own dropouts) is rejected; no beat without one is rejected for a dropout. Returns how many dropout beats there
/// were.
fn dropouts_reject_their_beats(seed: u64, hyperaemia: bool) -> usize {
    let mut sim = Simulator::new("shock-ecmo", seed, SensorLevel::Realistic).unwrap();
    sim.control(heracles::sim::Control::Hyperaemia(hyperaemia));
    let n = 120_000;
    let (mut ecg, mut pa, mut pd, mut ipv, mut lvp, mut flowing) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    sim.advance(n, |s| {
        ecg.push(s.measured[0]);
        pa.push(s.measured[1]);
        pd.push(s.measured[2]);
        ipv.push(s.measured[3]);
        lvp.push(s.measured[4]);
        flowing.push(s.truth.coronary_peak_velocity_cm_s > 10.0);
    });
    let signals = Signals {
        first_sample: 0,
        ecg: Some(&ecg),
        pa: Some(&pa),
        pd: Some(&pd),
        ipv: Some(&ipv),
        // The protocol records LV pressure with every coronary window: it times diastole (the simulated
        // aortic pressure has no dicrotic notch).
        lvp: Some(&lvp),
        lvv: None,
    };
    let settings = SignalSettings::default();
    let result = segment(&signals, RATE, &settings).unwrap();
    let lost = |i: usize| ipv[i] < 3.0 && flowing[i];
    let mut num_dropout_beats = 0;
    for beat in &result.beats {
        let Ok(phases) = beat_phases(&signals, beat, RATE, &settings) else {
            continue;
        };
        let (from, to) = (phases.systole_end as usize, beat.end as usize);
        let (mut run, mut longest) = (0, 0);
        for i in from..to.min(ipv.len()) {
            run = if lost(i) { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        let any_lost = (beat.start as usize..(beat.end as usize).min(ipv.len())).any(lost);
        if longest >= 60 {
            num_dropout_beats += 1;
            assert!(
                beat.reject.is_some(),
                "seed {seed}, hyperaemia {hyperaemia}: beat {} holds a {longest} ms dropout in diastole and \
                 was accepted",
                beat.number
            );
        } else if !any_lost {
            assert_ne!(
                beat.reject,
                Some(RejectReason::DopplerDropout),
                "seed {seed}: beat {} has no dropout",
                beat.number
            );
        }
    }
    num_dropout_beats
}

#[test]
fn the_simulators_doppler_dropouts_reject_their_beats_at_rest_as_in_hyperaemia() {
    let mut at_rest = 0;
    for seed in [11, 12, 13] {
        at_rest += dropouts_reject_their_beats(seed, false);
    }
    let hyperaemic = dropouts_reject_their_beats(11, true);
    eprintln!("dropout beats: {at_rest} at rest, {hyperaemic} in hyperaemia");
    assert!(at_rest >= 3, "too few dropouts to test: {at_rest}");
}

/// `heracles analyze` finds the beats of a 125 Hz record at 125 Hz (not on its 1 kHz copy) and brings them to the
/// analysis rate: against PhysioNet `wabp` the beats keep their sensitivity and PPV (every beat and the accepted
/// ones), and each onset stays within two recorded samples of the one found on the 1 kHz copy (the 125 Hz grid
/// and the low-pass delay rounded to whole samples there).
#[test]
fn test_icu_beats_found_at_the_recorded_rate_match_wabp_and_the_1_khz_beats() {
    use heracles::analysis::AnalysisSettings;
    use heracles::analysis::pipeline::{AnalysisRequest, ChannelChoice, analyze_recording};
    let recording = formats::read(&data("wfdb/TestICU.hea"), Format::Wfdb).unwrap();
    let request = AnalysisRequest {
        channels: vec![ChannelChoice {
            kind: SignalKind::Pa,
            index: 2,
        }],
        ..AnalysisRequest::default()
    };
    let report = analyze_recording(&recording, &AnalysisSettings::default(), &request).unwrap();
    let abp = test_icu_abp();
    let at_1khz = segment_pa(&abp);
    let times: Vec<f64> = report.beats.iter().map(|b| b.time_s).collect();
    let accepted: Vec<f64> = report
        .beats
        .iter()
        .filter(|b| b.accepted)
        .map(|b| b.time_s)
        .collect();
    let reference = wabp_onsets_s();
    let (first, last) = (times[0], *times.last().unwrap());
    let expected: Vec<f64> = reference
        .iter()
        .copied()
        .filter(|&o| o > first - 0.05 && o < last + 0.05)
        .collect();
    let all = match_times(&times, &expected, 0.05);
    let kept = match_times(&accepted, &expected, 0.05);
    let old: Vec<f64> = at_1khz.beats.iter().map(|b| b.start as f64 / RATE).collect();
    let moved = match_times(&times, &old, 0.05);
    let largest_move_ms = 1000.0 * moved.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    println!(
        "TestICU beats at 125 Hz: {} ({} accepted; at 1 kHz {} and {}), {} wabp onsets in their span; all: \
         sensitivity {:.4} PPV {:.4}, accepted: sensitivity {:.4} PPV {:.4}; median offset to wabp {:.1} ms \
         (at 1 kHz {:.1} ms); onsets moved from the 1 kHz ones by median {:.1} ms, at most {largest_move_ms:.1} ms",
        times.len(),
        accepted.len(),
        at_1khz.beats.len(),
        at_1khz.counts.num_accepted,
        expected.len(),
        all.len() as f64 / expected.len() as f64,
        all.len() as f64 / times.len() as f64,
        kept.len() as f64 / expected.len() as f64,
        kept.len() as f64 / accepted.len() as f64,
        1000.0 * median(all.clone()),
        1000.0 * median(match_times(&old, &expected, 0.05)),
        1000.0 * median(moved.clone()),
    );
    for (matched, found) in [(&all, &times), (&kept, &accepted)] {
        assert!(matched.len() as f64 >= 0.99 * expected.len() as f64);
        assert!(matched.len() as f64 >= 0.99 * found.len() as f64);
    }
    assert!(1000.0 * median(all).abs() < 20.0);
    assert_eq!(moved.len(), old.len(), "every 1 kHz beat found at 125 Hz");
    assert_eq!(times.len(), old.len(), "and no other");
    assert!(largest_move_ms <= 16.0, "{largest_move_ms} ms");
}

/// At the analysis rate, `heracles analyze` searches arterial pulses on a 125 Hz block-mean copy and places each
/// onset on the 1 kHz samples by the detector's rule (`detect_onsets_searching`): on TestICU brought to 1 kHz and
/// on the simulated patient's aortic pressure (realistic sensors, every support state, a pulse per true beat),
/// the same pulses are found as by the detector run over every 1 kHz sample, each onset within 2 ms of that one.
#[test]
fn arterial_pulses_searched_at_125_hz_are_placed_where_the_full_rate_detector_puts_them() {
    use heracles::model::workers::Workers;
    use heracles::signal::onset::{detect_onsets, detect_onsets_searching};
    let settings = SignalSettings::default();
    let compare = |name: &str, pressure: &[f64]| -> (usize, usize, f64) {
        let full = detect_onsets(pressure, RATE, &settings.onset, settings.lead_in_s).unwrap();
        let searched = detect_onsets_searching(
            pressure,
            RATE,
            8,
            &settings.onset,
            settings.lead_in_s,
            Workers::ONE,
        )
        .unwrap();
        let to_s = |onsets: &[u64]| onsets.iter().map(|&o| o as f64 / RATE).collect::<Vec<f64>>();
        let matched = match_times(&to_s(&searched), &to_s(&full), 0.05);
        let identical = matched.iter().filter(|d| d.abs() < 0.5 / RATE).count();
        let largest_ms = 1000.0 * matched.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        println!(
            "{name}: {} onsets at full rate, {} searched at 125 Hz, {} matched, {identical} identical, largest \
             difference {largest_ms:.0} ms",
            full.len(),
            searched.len(),
            matched.len()
        );
        assert_eq!(matched.len(), full.len(), "{name}: every full-rate onset found");
        assert_eq!(searched.len(), full.len(), "{name}: and no other");
        assert!(largest_ms <= 2.0, "{name}: {largest_ms} ms");
        (full.len(), identical, largest_ms)
    };
    let (num_onsets, identical, _) = compare("TestICU at 1 kHz", &test_icu_abp());
    assert!(num_onsets > 350);
    assert!(
        identical as f64 >= 0.95 * num_onsets as f64,
        "{identical} of {num_onsets} identical"
    );
    for name in [
        "shock-ecmo",
        "shock-ecmo-iabp",
        "shock-ecmo-impella",
        "shock-ecmo-full-flow",
        "shock-ecmo-occlusion",
    ] {
        let (channels, r_waves) = simulated(name, 30.0);
        let (num_onsets, _, _) = compare(name, &channels[1]);
        // The detector's own lead-in aside, a pulse per true beat where the aortic pressure pulses at all (the
        // Impella's flow can leave it without pulses: then neither search finds any).
        assert!(
            num_onsets == 0 || num_onsets + 12 >= r_waves.len(),
            "{name}: {num_onsets} onsets, {} beats",
            r_waves.len()
        );
    }
}
