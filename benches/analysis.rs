//! Offline analysis of a 2-hour, 8-channel case at 1 kHz (57.6 M samples): beats plus every endpoint, on one
//! core. The case is generated before timing by a fast analytic generator (a time-varying-elastance ventricle,
//! an arterial pulse with a dicrotic notch, a coronary velocity with its diastolic predominance, an ECG, ECMO flow
//! and a venous pressure the analysis does not use), with respiratory heart-rate variation and sensor noise.
//!
//! Run: `cargo bench --bench analysis`.

// A benchmark that cannot analyse its own case should stop loudly.
#![allow(clippy::expect_used)]

use std::f64::consts::PI;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use heracles::analysis::AnalysisSettings;
use heracles::analysis::pipeline::{AnalysisRequest, analyze_recording};
use heracles::model::{Recording, Segment, TimeSeries};

const RATE_HZ: f64 = 1000.0;
const DURATION_S: f64 = 2.0 * 3600.0;

/// Uniform noise in [-1, 1) from a 64-bit LCG (cheap: 57.6 M draws).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn gauss(t: f64, centre: f64, width: f64) -> f64 {
    let x = (t - centre) / width;
    (-0.5 * x * x).exp()
}

/// One sample of every channel at time `t` into a beat of length `rr` (s).
fn sample(t: f64, rr: f64) -> [f64; 8] {
    let ecg = gauss(t, 0.0, 0.01) + gauss(t, rr, 0.01) - 0.15 * gauss(t, 0.025, 0.008)
        + 0.25 * gauss(t, 0.28, 0.04)
        + 0.1 * gauss(t, rr - 0.15, 0.025);
    let activation = if t < 0.36 {
        (PI * t / 0.36).sin().powi(2)
    } else {
        0.0
    };
    let (edv, sv, v0) = (150.0, 70.0, 5.0);
    let fill_end = (rr - 0.05).min(0.75);
    let volume = if t < 0.07 {
        edv
    } else if t < 0.30 {
        edv - sv * 0.5 * (1.0 - (PI * (t - 0.07) / 0.23).cos())
    } else if t < 0.42 {
        edv - sv
    } else if t < fill_end {
        edv - sv + sv * 0.5 * (1.0 - (PI * (t - 0.42) / (fill_end - 0.42)).cos())
    } else {
        edv
    };
    let lvp = (0.07 + 1.13 * activation) * (volume - v0);
    // Arterial pulse (fraction of the pulse pressure): the previous beat's diastolic tail, a systolic upstroke,
    // a late-systolic fall, a notch and a diastolic decay.
    let tail = |t: f64| 0.55 * (-(t - 0.32) / 0.45).exp();
    let pulse = if t < 0.07 {
        tail(t + rr)
    } else if t < 0.15 {
        let start = tail(0.07 + rr);
        start + (1.0 - start) * (0.5 * PI * (t - 0.07) / 0.08).sin().powi(2)
    } else if t < 0.32 {
        1.0 - 0.45 * (t - 0.15) / 0.17
    } else {
        tail(t) - 0.05 * gauss(t, 0.335, 0.01)
    };
    let pa = 62.0 + 40.0 * pulse;
    let systolic_flow = if (0.07..0.30).contains(&t) {
        5.0 * (PI * (t - 0.07) / 0.23).sin()
    } else {
        0.0
    };
    let diastolic_flow = if t >= 0.32 {
        25.0 * (PI * (t - 0.32) / (rr - 0.32)).sin().max(0.0).powf(0.7)
    } else {
        0.0
    };
    let ipv = 10.0 + systolic_flow + diastolic_flow;
    [
        ecg,
        pa,
        0.85 * pa,
        ipv,
        lvp,
        volume,
        3.5,
        8.0 + 2.0 * (PI * t / rr).sin(),
    ]
}

/// The 2-hour case: 8 channels at 1 kHz, heart rate 75/min with +-3 % respiratory variation, sensor noise.
fn two_hour_case() -> Recording {
    let names = ["ecg", "pa", "pd", "ipv", "lvp", "lvv", "ecmo_flow", "pv"];
    let noise_sd = [0.01, 0.3, 0.3, 0.5, 0.3, 0.3, 0.02, 0.2];
    let num = (DURATION_S * RATE_HZ) as usize;
    let mut channels: Vec<Vec<f64>> = (0..8).map(|_| Vec::with_capacity(num)).collect();
    let mut noise = Lcg(7);
    let (mut beat, mut beat_start, mut rr) = (0usize, 0usize, 0.8);
    for i in 0..num {
        let mut t = (i - beat_start) as f64 / RATE_HZ;
        if t >= rr {
            beat += 1;
            beat_start = i;
            rr = 0.8 * (1.0 + 0.03 * (2.0 * PI * beat as f64 / 4.5).sin());
            t = 0.0;
        }
        for (c, value) in sample(t, rr).into_iter().enumerate() {
            channels[c].push(value + noise_sd[c] * noise.next());
        }
    }
    Recording {
        segments: vec![Segment {
            start_s: 0.0,
            channels: names
                .iter()
                .zip(channels)
                .map(|(name, samples)| TimeSeries {
                    name: (*name).to_owned(),
                    unit: String::new(),
                    sample_rate_hz: RATE_HZ,
                    samples,
                })
                .collect(),
        }],
        markers: vec![],
    }
}

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, first field, ns); zero where the
/// file does not exist (the wall-clock benchmark above still runs).
fn thread_cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        text.split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .unwrap_or(0),
    )
}

fn offline_two_hours(c: &mut Criterion) {
    let recording = two_hour_case();
    let settings = AnalysisSettings::default();
    // Beats plus all endpoints: the fits over a chosen run of beats as well.
    let request = AnalysisRequest {
        occlusion_beats: Some((4000, 4018)),
        ..AnalysisRequest::default()
    };
    let report = analyze_recording(&recording, &settings, &request).expect("analysis runs");
    eprintln!(
        "2-hour case: {} beats, {} accepted, APV {:?} cm/s, EDV {:?} mL",
        report.summary.num_beats,
        report.summary.num_accepted,
        report.summary.coronary.as_ref().and_then(|w| w.apv_cm_s),
        report.summary.pv.as_ref().map(|w| w.edv_ml)
    );
    let mut group = c.benchmark_group("analysis");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .warm_up_time(Duration::from_secs(5));
    group.bench_function("offline_2h_8ch_1khz", |b| {
        b.iter(|| {
            black_box(analyze_recording(black_box(&recording), &settings, &request).expect("analysis runs"))
        })
    });
    // The same work timed by the CPU time of this thread (Linux scheduler statistics), so that other processes
    // on a shared machine do not inflate the figure: "on one core" means CPU time on one core.
    group.bench_function("offline_2h_8ch_1khz_thread_cpu", |b| {
        b.iter_custom(|iterations| {
            let start = thread_cpu_time();
            for _ in 0..iterations {
                black_box(
                    analyze_recording(black_box(&recording), &settings, &request).expect("analysis runs"),
                );
            }
            thread_cpu_time().saturating_sub(start)
        })
    });
    group.finish();
}

criterion_group!(benches, offline_two_hours);
criterion_main!(benches);
