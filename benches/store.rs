//! Case file benchmarks: recorder throughput with durable commits (8 channels at 1 kHz), bytes per hour of such a
//! recording, and opening a 2-hour case plus a 2000-column min/max overview of every channel.
//!
//! Run with `cargo bench --bench store`. The 2-hour case is built once (about a minute) and kept in the system's
//! temporary folder between runs.

#![allow(clippy::expect_used)] // a benchmark stops at the first failure

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heracles::acquisition::RecordSink;
use heracles::model::{Block, CaseId, ChannelSpec, RecordItem, SourceSpec};
use heracles::sim::{SensorLevel, Simulator};
use heracles::store::{CaseFile, Recorder, RecorderOptions};

const NUM_CHANNELS: usize = 8;
const RATE_HZ: f64 = 1000.0;
/// Samples per block, as a console delivers them (20 ms).
const BLOCK_SAMPLES: usize = 20;

fn spec() -> SourceSpec {
    SourceSpec {
        id: "bench".into(),
        label: "8 channels at 1 kHz".into(),
        sample_rate_hz: RATE_HZ,
        channels: (0..NUM_CHANNELS)
            .map(|c| ChannelSpec {
                name: format!("ch{c}"),
                unit: "mmHg".into(),
            })
            .collect(),
    }
}

/// Pulsatile waveforms with sensor noise, like the consoles' analog outputs digitised by a 16-bit converter:
/// the noise makes the low bits random, so compression is not flattered.
struct Signals {
    state: u64,
}

impl Signals {
    fn noise(&mut self) -> f32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        // Sum of 4 uniforms: roughly Gaussian, sd ~ 0.58 * scale.
        (0..4)
            .map(|k| ((self.state >> (16 * k)) & 0xFFFF) as f32 / 65536.0 - 0.5)
            .sum::<f32>()
    }

    fn block(&mut self, first_sample: u64, num_samples: usize) -> Block {
        let channels = (0..NUM_CHANNELS)
            .map(|c| {
                (first_sample..first_sample + num_samples as u64)
                    .map(|i| {
                        let phase = (i as f32 / RATE_HZ as f32 * 1.3 + c as f32 * 0.1).fract();
                        let pulse = if phase < 0.35 {
                            (phase / 0.35 * std::f32::consts::PI).sin()
                        } else {
                            0.0
                        };
                        let value = 60.0 + 50.0 * pulse + 0.5 * self.noise();
                        // 16-bit converter over 0-300 mmHg.
                        (value / 300.0 * 65535.0).round() * (300.0 / 65535.0)
                    })
                    .collect()
            })
            .collect();
        Block {
            first_sample,
            channels,
        }
    }
}

/// Records `duration_s` of 8 x 1 kHz in blocks of `block_samples` into a new case in `dir`, as fast as the
/// recorder takes it (offering again when its queue is full, as the engine does). Returns the file.
fn record(dir: &Path, case: u16, duration_s: f64, block_samples: usize, options: RecorderOptions) -> PathBuf {
    let case_id: CaseId = format!("HER-TST-{case:04}").parse().expect("valid case id");
    let file = CaseFile::create(dir, case_id, "bench").expect("case created");
    let path = file.path().to_owned();
    let mut recorder: Box<dyn RecordSink> = Box::new(Recorder::start(file, options).expect("recorder"));
    let mut signals = Signals {
        state: 0x9E37_79B9_7F4A_7C15,
    };
    let mut offer = |mut item: RecordItem| {
        while let Err(back) = recorder.offer(item) {
            item = back;
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    offer(RecordItem::Source {
        source: 0,
        spec: spec(),
        first_sample: 0,
    });
    let num_blocks = (duration_s * RATE_HZ) as u64 / block_samples as u64;
    for k in 0..num_blocks {
        offer(RecordItem::Block {
            source: 0,
            block: signals.block(k * block_samples as u64, block_samples),
        });
    }
    recorder.finish(Vec::new()).expect("recording finished");
    path
}

const DURATION_S: f64 = 60.0;

/// Total time of `iterations` recordings of [`DURATION_S`], each into a new case file (creating the file, a few fsyncs, is included).
fn timed(iterations: u64, block_samples: usize, options: RecorderOptions) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        let dir = tempfile::tempdir().expect("temp dir");
        let start = Instant::now();
        black_box(record(dir.path(), 1, DURATION_S, block_samples, options.clone()));
        total += start.elapsed();
    }
    total
}

fn recorder_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("recorder");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(
        (DURATION_S * RATE_HZ) as u64 * NUM_CHANNELS as u64,
    ));
    // As the recorder runs when it catches up: 20 ms blocks, a durable commit every 250 ms of wall time.
    group.bench_function("record_60s_8ch_1kHz", |b| {
        b.iter_custom(|iterations| timed(iterations, BLOCK_SAMPLES, RecorderOptions::default()))
    });
    // The worst case: one durable commit (fsync) for every 250 ms of data, as in real time.
    group.bench_function("record_60s_8ch_1kHz_commit_every_250_samples", |b| {
        let options = RecorderOptions {
            commit_interval: Duration::ZERO,
            ..RecorderOptions::default()
        };
        b.iter_custom(|iterations| timed(iterations, 250, options.clone()))
    });
    group.finish();

    // Bytes per hour: a 10-minute recording committed as in real time (250-sample chunks), scaled to an hour.
    let dir = tempfile::tempdir().expect("temp dir");
    let options = RecorderOptions {
        max_chunk_samples: 250,
        ..RecorderOptions::default()
    };
    let path = record(dir.path(), 2, 600.0, BLOCK_SAMPLES, options);
    let bytes = std::fs::metadata(&path).expect("file").len();
    let raw = 600.0 * RATE_HZ * NUM_CHANNELS as f64 * 4.0;
    println!(
        "bytes per hour (8 ch x 1 kHz, 250-sample chunks): {:.1} MB/h ({:.1}% of raw f32, {:.2} bytes/sample)",
        bytes as f64 * 6.0 / 1e6,
        100.0 * bytes as f64 / raw,
        bytes as f64 / (raw / 4.0)
    );
    simulated_patient_bytes_per_hour();
}

/// Bytes per hour of the simulated patient (7 channels at 1 kHz, realistic sensors), 10 minutes recorded with
/// real-time chunking.
fn simulated_patient_bytes_per_hour() {
    let dir = tempfile::tempdir().expect("temp dir");
    let case_id: CaseId = "HER-TST-0003".parse().expect("valid case id");
    let file = CaseFile::create(dir.path(), case_id, "bench").expect("case created");
    let path = file.path().to_owned();
    let options = RecorderOptions {
        max_chunk_samples: 250,
        ..RecorderOptions::default()
    };
    let mut recorder: Box<dyn RecordSink> = Box::new(Recorder::start(file, options).expect("recorder"));
    let mut simulator = Simulator::new("shock-ecmo", 1, SensorLevel::Realistic).expect("scenario");
    let spec = simulator.source_spec();
    let num_channels = spec.channels.len();
    let mut offer = |mut item: RecordItem| {
        while let Err(back) = recorder.offer(item) {
            item = back;
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    offer(RecordItem::Source {
        source: 0,
        spec,
        first_sample: 0,
    });
    for _ in 0..(600.0 * RATE_HZ) as usize / BLOCK_SAMPLES {
        offer(RecordItem::Block {
            source: 0,
            block: simulator.generate(BLOCK_SAMPLES),
        });
    }
    recorder.finish(Vec::new()).expect("recording finished");
    let bytes = std::fs::metadata(&path).expect("file").len() as f64;
    let num_samples = 600.0 * RATE_HZ * num_channels as f64;
    println!(
        "bytes per hour (simulated patient, {num_channels} ch x 1 kHz): {:.1} MB/h ({:.2} bytes/sample; {:.1} MB/h \
         for 8 channels)",
        bytes * 6.0 / 1e6,
        bytes / num_samples,
        bytes / num_samples * 8.0 * RATE_HZ * 3600.0 / 1e6
    );
}

/// A 2-hour case with real-time chunking, built once and kept.
fn two_hour_case() -> PathBuf {
    let dir = std::env::temp_dir().join("heracles-bench-2h-v3");
    let path = dir.join("HER-TST-7200.heracles");
    let complete = CaseFile::open_read_only(&path)
        .and_then(|file| file.summary())
        .is_ok_and(|summary| summary.duration_s >= 7200.0);
    if !complete {
        let _ = std::fs::remove_dir_all(&dir);
        let start = Instant::now();
        let options = RecorderOptions {
            max_chunk_samples: 250,
            queue_len: 4096,
            ..RecorderOptions::default()
        };
        record(&dir, 7200, 7200.0, BLOCK_SAMPLES, options);
        println!("built the 2-hour case in {:.1} s", start.elapsed().as_secs_f64());
    }
    path
}

fn open_and_overview(c: &mut Criterion) {
    let path = two_hour_case();
    let mut group = c.benchmark_group("case_2h");
    group.sample_size(10);
    group.bench_function("open_and_overview_2000_columns_8_channels", |b| {
        b.iter(|| {
            let file = CaseFile::open_read_only(&path).expect("open");
            let channels = file.channels().expect("channels");
            for channel in &channels {
                let columns = file
                    .overview(channel.id, channel.first_sample, channel.end_sample, 2000)
                    .expect("overview");
                black_box(columns);
            }
            channels.len()
        });
    });
    group.finish();
}

criterion_group!(benches, recorder_throughput, open_and_overview);
criterion_main!(benches);
