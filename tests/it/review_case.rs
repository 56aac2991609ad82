//! A synthetic recorded case with known truth, shared by the review, export and review-UI tests: one 1 kHz
//! source with ECG, Pa, Pd, Doppler velocity, LV pressure and volume; a baseline (0-60 s, with a preload
//! reduction at 40-58 s) and a post-unloading state (60-125 s) whose diastolic velocity is higher.
//!
//! The LV follows a time-varying elastance `P = e(t) (V - V0)` with `e` peaking at `EES` at end-systole, so the
//! ESPVR of the occlusion beats is exactly `Ees = EES`, `V0 = V0_ML`. The velocity's beat integral is known in
//! closed form ([`beat_apv_cm_s`]), so the CDFR is known too.

use std::path::{Path, PathBuf};
use std::time::Duration;

use heracles::acquisition::RecordSink;
use heracles::model::{Block, CaseId, ChannelSpec, RecordItem, SignalKind, SourceSpec, StepId};
use heracles::store::{AnalysisWindow, CaseFile, Recorder, RecorderOptions};

pub const RATE_HZ: f64 = 1000.0;
pub const RR_S: f64 = 0.8;
pub const EES: f64 = 2.0;
pub const V0_ML: f64 = 10.0;
pub const DURATION_S: f64 = 125.0;
/// Diastolic velocity amplitude, cm/s, before and after unloading.
pub const BASELINE_AMPLITUDE: f64 = 25.0;
pub const POST_AMPLITUDE: f64 = 35.0;
/// The occlusion: beats starting in this range have falling EDV.
pub const OCCLUSION_S: (f64, f64) = (40.0, 58.0);

/// Beat-to-beat variation of the velocity amplitude (period 5 beats), so rejecting a beat changes APV.
pub fn amplitude_factor(beat: u64) -> f64 {
    1.0 + 0.15 * ((beat * 3 % 5) as f64 - 2.0) / 2.0
}

/// The number of the first beat of `report` that starts a generator beat with velocity factor `factor` (one of
/// [`amplitude_factor`]'s; the first five beats have them all, so the beat lies in the state's steady window and
/// rejecting it moves that window).
pub fn velocity_beat(report: &heracles::analysis::pipeline::Report, factor: f64) -> u32 {
    report
        .beats
        .iter()
        .find(|b| {
            let k = ((b.time_s - 0.02) / RR_S).round() as u64;
            (amplitude_factor(k) - factor).abs() < 1e-9
        })
        .unwrap()
        .number
}

fn velocity_amplitude(time_s: f64, beat: u64) -> f64 {
    let base = if time_s < 60.0 {
        BASELINE_AMPLITUDE
    } else {
        POST_AMPLITUDE
    };
    base * amplitude_factor(beat)
}

/// APV of a beat with diastolic amplitude `a`: the closed-form integral of [`ipv`] over one RR, divided by RR.
pub fn beat_apv_cm_s(a: f64) -> f64 {
    let systole = 20.0 * 0.35 - 5.0 * 0.35 * 2.0 / std::f64::consts::PI;
    let diastole = 20.0 * 0.45 + a * 0.45 * 2.0 / std::f64::consts::PI;
    (systole + diastole) / RR_S
}

/// The true APV of a state over whole beats `first..last` (time-weighted = mean, all RR equal).
pub fn true_apv(first_beat: u64, last_beat: u64, post: bool) -> f64 {
    let base = if post { POST_AMPLITUDE } else { BASELINE_AMPLITUDE };
    let n = last_beat - first_beat;
    (first_beat..last_beat)
        .map(|k| beat_apv_cm_s(base * amplitude_factor(k)))
        .sum::<f64>()
        / n as f64
}

fn ipv(t_in_beat: f64, a: f64) -> f64 {
    if t_in_beat < 0.35 {
        20.0 - 5.0 * (std::f64::consts::PI * t_in_beat / 0.35).sin()
    } else {
        20.0 + a * (std::f64::consts::PI * (t_in_beat - 0.35) / 0.45).sin()
    }
}

/// End-diastolic volume of beat `beat` starting at `start_s`.
fn edv_ml(start_s: f64, post: bool) -> f64 {
    let normal = if post { 110.0 } else { 120.0 };
    if (OCCLUSION_S.0..OCCLUSION_S.1).contains(&start_s) {
        // Falls by 3 mL per beat from the start of the occlusion.
        normal - 3.0 * ((start_s - OCCLUSION_S.0) / RR_S).floor().min(12.0)
    } else {
        normal
    }
}

/// Elastance over the beat (time from end-diastole): rises to EES at 0.30 s, relaxes by 0.45 s.
fn elastance(t: f64) -> f64 {
    let e_min = 0.06;
    if t < 0.30 {
        e_min + (EES - e_min) * (std::f64::consts::FRAC_PI_2 * t / 0.30).sin().powi(2)
    } else if t < 0.45 {
        e_min + (EES - e_min) * (std::f64::consts::FRAC_PI_2 * (0.45 - t) / 0.15).sin().powi(2)
    } else {
        e_min
    }
}

/// LV volume over the beat: isovolumic to 0.05 s, ejects to ESV by 0.30 s, isovolumic to 0.38 s, fills by 0.75 s.
fn volume(t: f64, edv: f64, esv: f64) -> f64 {
    let cosine = |x: f64| 0.5 - 0.5 * (std::f64::consts::PI * x.clamp(0.0, 1.0)).cos();
    if t < 0.05 {
        edv
    } else if t < 0.30 {
        edv - (edv - esv) * cosine((t - 0.05) / 0.25)
    } else if t < 0.38 {
        esv
    } else {
        esv + (edv - esv) * cosine((t - 0.38) / 0.37)
    }
}

/// All six channels at sample `i`: ecg, pa, pd, ipv, lvp, lvv.
pub fn samples_at(i: u64) -> [f32; 6] {
    let time_s = i as f64 / RATE_HZ;
    let beat = (time_s / RR_S).floor() as u64;
    let start_s = beat as f64 * RR_S;
    let t = time_s - start_s;
    let post = time_s >= 60.0;
    // R peak 20 ms after the beat start; the LV's end-diastole at the R peak.
    let ecg =
        1.2 * (-((t - 0.02) / 0.008).powi(2) / 2.0).exp() + 0.25 * (-((t - 0.32) / 0.04).powi(2) / 2.0).exp();
    let t_lv = (t - 0.02).rem_euclid(RR_S);
    let edv = edv_ml(start_s, post);
    let esv = if post { 0.55 * edv } else { 0.5 * edv };
    let lvv = volume(t_lv, edv, esv);
    let lvp = elastance(t_lv) * (lvv - V0_ML);
    let pa_sys = (std::f64::consts::PI * ((t_lv - 0.04) / 0.30).clamp(0.0, 1.0)).sin();
    let pa =
        65.0 + 45.0 * pa_sys.max(0.0) + 10.0 * (-(t_lv - 0.34).max(0.0) / 0.3).exp() * f64::from(t_lv > 0.34);
    let pd = 0.85 * pa;
    let v = ipv(t, velocity_amplitude(time_s, beat));
    [ecg as f32, pa as f32, pd as f32, v as f32, lvp as f32, lvv as f32]
}

pub fn source_spec() -> SourceSpec {
    SourceSpec {
        id: "sim".into(),
        label: "synthetic patient".into(),
        sample_rate_hz: RATE_HZ,
        channels: [
            SignalKind::Ecg,
            SignalKind::Pa,
            SignalKind::Pd,
            SignalKind::Ipv,
            SignalKind::Lvp,
            SignalKind::Lvv,
        ]
        .into_iter()
        .map(ChannelSpec::of)
        .collect(),
    }
}

/// The windows of the protocol: (step, kind key, start, end).
pub const WINDOWS: [(StepId, &str, f64, f64); 5] = [
    (StepId::BaselineCoronary, "coronary_rest", 2.0, 32.0),
    (StepId::BaselinePv, "pv_steady", 2.0, 32.0),
    (StepId::BaselinePv, "pv_preload_reduction", 39.0, 58.0),
    (StepId::PostCoronary, "coronary_rest", 62.0, 92.0),
    (StepId::PostPv, "pv_steady", 62.0, 92.0),
];

/// Records the synthetic case into `dir` as `HER-TST-<number>` with its steps and analysis windows; returns the
/// path of the case file.
pub fn create(dir: &Path, number: u16) -> PathBuf {
    create_lasting(dir, number, DURATION_S, RecorderOptions::default())
}

/// [`create`] for `duration_s` (at least [`DURATION_S`]; the post-unloading state goes on to the end), recorded
/// with `options` (the review benchmark's 2-hour case uses the recorder's real-time chunking).
pub fn create_lasting(dir: &Path, number: u16, duration_s: f64, options: RecorderOptions) -> PathBuf {
    let total = (duration_s.max(DURATION_S) * RATE_HZ) as u64;
    let path = record(dir, number, 0..total, options);
    add_steps(
        &path,
        &[
            (StepId::BaselineCoronary, (0.0, 35.0)),
            (StepId::BaselinePv, (35.0, 60.0)),
            (StepId::PostCoronary, (60.0, 95.0)),
            (StepId::PostPv, (95.0, 125.0)),
        ],
    );
    let mut file = CaseFile::open(&path).unwrap();
    for (step, method, start_s, end_s) in WINDOWS {
        file.save_analysis_window(
            "operator",
            &AnalysisWindow {
                id: 0,
                step: Some(step),
                start_s,
                end_s,
                method: method.into(),
                settings: serde_json::json!({}),
                algorithm_version: heracles::analysis::ALGORITHM_VERSION.into(),
            },
        )
        .unwrap();
    }
    file.add_marker("operator", 40.0, "marker", "IVC balloon inflated")
        .unwrap();
    path
}

/// Records each protocol step of `steps` (from and to, s) in the case file at `path`, by "operator".
pub fn add_steps(path: &Path, steps: &[(StepId, (f64, f64))]) {
    let mut file = CaseFile::open(path).unwrap();
    for &(step, (from, to)) in steps {
        let id = file.start_step("operator", step, Some(from), None, None).unwrap();
        file.end_step("operator", id, Some(to), None, None).unwrap();
    }
}

/// The sample of the console's clock at which [`record_after_console_start`]'s case was set up: the console ran
/// 9 s before, so the case's clock starts at the console's sample 0 and its first stored sample is this one.
pub const SET_UP_SAMPLE: u64 = 9000;

/// 20 s of the synthetic patient recorded from [`SET_UP_SAMPLE`] as `HER-TST-<number>`, no steps or windows.
pub fn record_after_console_start(dir: &Path, number: u16) -> PathBuf {
    record(
        dir,
        number,
        SET_UP_SAMPLE..SET_UP_SAMPLE + 20_000,
        RecorderOptions::default(),
    )
}

/// Records the samples `samples` (indices of the source's clock: a case set up after the console started
/// begins above 0) of the synthetic patient into `dir` as `HER-TST-<number>`, with no steps or windows; returns
/// the path of the case file.
pub fn record(dir: &Path, number: u16, samples: std::ops::Range<u64>, options: RecorderOptions) -> PathBuf {
    let case_id: CaseId = format!("HER-TST-{number:04}").parse().unwrap();
    let file = CaseFile::create(dir, case_id, "operator").unwrap();
    let path = file.path().to_owned();
    let mut recorder: Box<dyn RecordSink> = Box::new(Recorder::start(file, options).unwrap());
    let mut items = vec![RecordItem::Source {
        source: 0,
        spec: source_spec(),
        first_sample: samples.start,
    }];
    let total = samples.end;
    for first in samples.step_by(1000) {
        let mut channels: Vec<Vec<f32>> = (0..6).map(|_| Vec::with_capacity(1000)).collect();
        for i in first..(first + 1000).min(total) {
            for (c, value) in samples_at(i).into_iter().enumerate() {
                channels[c].push(value);
            }
        }
        items.push(RecordItem::Block {
            source: 0,
            block: Block {
                first_sample: first,
                channels,
            },
        });
    }
    for mut item in items {
        loop {
            match recorder.offer(item) {
                Ok(()) => break,
                Err(back) => {
                    item = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    recorder.finish(Vec::new()).unwrap();
    path
}
