//! Throughput of the signal layer (criterion): arterial onset detection on TestICU (the record PhysioNet's
//! `wabp` is compared on), R-wave detection on TestICU's ECG, the Savitzky-Golay derivative, LV end-diastole
//! detection, whole-record segmentation, resampling and the min/max pyramid for a 2-hour channel.
//!
//! Run: `cargo bench --bench signal`. Throughput is reported in samples (elements) per second.

// A benchmark without its reference data or with a bad rate has nothing to measure: failing loudly is right.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heracles::formats::{self, Format};
use heracles::signal::decimate::MinMaxPyramid;
use heracles::signal::ecg::detect_r_peaks;
use heracles::signal::lv::detect_end_diastoles;
use heracles::signal::onset::detect_onsets;
use heracles::signal::resample::resample;
use heracles::signal::savgol::{self, SavgolSettings};
use heracles::signal::{SignalSettings, Signals, segment};

const RATE: f64 = 1000.0;

fn channel(path: &str, index: usize) -> (Vec<f64>, f64) {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/")).join(path);
    let recording = formats::read(&path, Format::Auto).expect("reference data");
    let series = &recording.segments[0].channels[index];
    (series.samples.clone(), series.sample_rate_hz)
}

/// `samples` repeated `times` times (TestICU's 300 s repeated gives a record long enough to time well).
fn repeated(samples: &[f64], times: usize) -> Vec<f64> {
    samples
        .iter()
        .copied()
        .cycle()
        .take(samples.len() * times)
        .collect()
}

fn detectors(c: &mut Criterion) {
    let settings = SignalSettings::default();
    let (abp_125, rate_125) = channel("wfdb/TestICU.hea", 2);
    let (ecg_125, _) = channel("wfdb/TestICU.hea", 0);
    let abp_native = repeated(&abp_125, 4);
    let abp_1k = resample(&abp_native, rate_125, RATE).expect("rates");
    let ecg_1k = resample(&repeated(&ecg_125, 4), rate_125, RATE).expect("rates");
    let (lvp_250, rate_250) = channel("inca/inca_ivc_occlusion_example.csv", 2);
    let lvp_1k = resample(&repeated(&lvp_250, 20), rate_250, RATE).expect("rates");

    let mut group = c.benchmark_group("detect");
    group.sample_size(20);
    group.throughput(Throughput::Elements(abp_native.len() as u64));
    group.bench_function("onsets_testicu_125hz", |b| {
        b.iter(|| {
            detect_onsets(
                black_box(&abp_native),
                rate_125,
                &settings.onset,
                settings.lead_in_s,
            )
        })
    });
    group.throughput(Throughput::Elements(abp_1k.len() as u64));
    group.bench_function("onsets_testicu_1khz", |b| {
        b.iter(|| detect_onsets(black_box(&abp_1k), RATE, &settings.onset, settings.lead_in_s))
    });
    group.throughput(Throughput::Elements(ecg_1k.len() as u64));
    group.bench_function("r_waves_testicu_1khz", |b| {
        b.iter(|| detect_r_peaks(black_box(&ecg_1k), RATE, &settings.ecg, settings.lead_in_s))
    });
    group.throughput(Throughput::Elements(lvp_1k.len() as u64));
    group.bench_function("lv_end_diastole_inca_1khz", |b| {
        b.iter(|| {
            detect_end_diastoles(
                black_box(&lvp_1k),
                RATE,
                &settings.lv,
                &settings.savgol,
                settings.lead_in_s,
            )
        })
    });
    group.throughput(Throughput::Elements(abp_1k.len() as u64));
    group.bench_function("segment_testicu_1khz", |b| {
        b.iter(|| {
            segment(
                &Signals {
                    pa: Some(black_box(&abp_1k)),
                    ..Signals::default()
                },
                RATE,
                &settings,
            )
        })
    });
    group.finish();
}

fn filters(c: &mut Criterion) {
    let (abp_125, rate_125) = channel("wfdb/TestICU.hea", 2);
    let abp_1k = resample(&repeated(&abp_125, 4), rate_125, RATE).expect("rates");
    let mut group = c.benchmark_group("filter");
    group.sample_size(20);
    group.throughput(Throughput::Elements(abp_1k.len() as u64));
    group.bench_function("savgol_derivative_1khz", |b| {
        b.iter(|| savgol::derivative(black_box(&abp_1k), RATE, &SavgolSettings::default(), 1))
    });
    let abp_250 = resample(&abp_1k, RATE, 250.0).expect("rates");
    group.throughput(Throughput::Elements(abp_1k.len() as u64));
    group.bench_function("resample_250_to_1000hz", |b| {
        b.iter(|| resample(black_box(&abp_250), 250.0, RATE))
    });
    group.finish();
}

fn drawing(c: &mut Criterion) {
    // One channel of a 2-hour case at 1 kHz.
    let two_hours: Vec<f64> = (0..7_200_000)
        .map(|i| ((i as f64) * 0.0063).sin() * 40.0 + 80.0)
        .collect();
    let pyramid = MinMaxPyramid::build(&two_hours);
    let mut group = c.benchmark_group("decimate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(two_hours.len() as u64));
    group.bench_function("pyramid_build_2h", |b| {
        b.iter(|| MinMaxPyramid::build(black_box(&two_hours)))
    });
    group.throughput(Throughput::Elements(1600));
    group.bench_function("pyramid_1600_columns_whole_2h", |b| {
        b.iter(|| pyramid.columns(black_box(&two_hours), 0, two_hours.len(), 1600))
    });
    group.bench_function("pyramid_1600_columns_odd_10min", |b| {
        b.iter(|| pyramid.columns(black_box(&two_hours), 1_234_567, 1_834_567, 1600))
    });
    group.finish();
}

criterion_group!(benches, detectors, filters, drawing);
criterion_main!(benches);
