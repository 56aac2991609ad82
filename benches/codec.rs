//! Stream decoding throughput (target: at least 100 MB/s, DESIGN.md "Performance") and the latency from bytes
//! written on a pseudo-terminal to samples in the engine's live buffer (target: p99 under 20 ms).
//!
//! Run: `cargo bench --bench codec`. The latency group prints its p50/p99 over every measured frame.

// A benchmark whose set-up fails should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heracles::acquisition::codec::{
    ChannelDescriptor, Decoder, Descriptor, ReceiverConfig, SampleFormat, StreamEncoder, StreamLink,
};
use heracles::acquisition::serial::{Framing, SerialConfig, SerialSource};
use heracles::acquisition::{Engine, EngineConfig};
use heracles::model::{Block, ChannelSpec, SourceSpec};

const NUM_CHANNELS: usize = 7;
const RATE_HZ: f64 = 1000.0;

fn descriptor() -> Descriptor {
    Descriptor {
        source_id: 1,
        boot_id: 1,
        sample_rate_hz: RATE_HZ,
        sample_format: SampleFormat::I16,
        label: "bench".into(),
        channels: (0..NUM_CHANNELS)
            .map(|c| ChannelDescriptor {
                name: format!("ch{c}"),
                unit: "mmHg".into(),
                scale: 0.01,
                offset: 0.0,
            })
            .collect(),
    }
}

fn signal(first_sample: u64, num_samples: usize) -> Block {
    Block {
        first_sample,
        channels: (0..NUM_CHANNELS)
            .map(|c| {
                (0..num_samples)
                    .map(|i| (((first_sample as usize + i) * (c + 3)) % 20_000) as f32 * 0.01 - 50.0)
                    .collect()
            })
            .collect(),
    }
}

/// `seconds` of the 7-channel, 1 kHz stream as the bridge sends it, with `samples_per_frame` per frame.
fn stream_bytes(seconds: usize, samples_per_frame: usize) -> Vec<u8> {
    let mut encoder = StreamEncoder::new(descriptor(), samples_per_frame, 0, 0).unwrap();
    let mut bytes = Vec::new();
    for second in 0..seconds {
        encoder.descriptor_frame(&mut bytes);
        for frame in encoder.data_frames(&signal(second as u64 * 1000, 1000)).unwrap() {
            bytes.extend(frame.bytes);
        }
    }
    bytes
}

fn decoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for samples_per_frame in [10, 100] {
        let bytes = stream_bytes(60, samples_per_frame);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("frames, {samples_per_frame} samples per frame"), |b| {
            b.iter(|| {
                let mut decoder = Decoder::new();
                let mut num_frames = 0usize;
                decoder.decode(black_box(&bytes), |frame| {
                    num_frames += usize::from(frame.is_ok())
                });
                black_box(num_frames)
            })
        });
        group.bench_function(format!("to blocks, {samples_per_frame} samples per frame"), |b| {
            b.iter(|| {
                let mut link = StreamLink::new(ReceiverConfig {
                    source_id: None,
                    spec_id: "b".into(),
                    label: String::new(),
                });
                let mut events = Vec::new();
                let mut num_events = 0;
                // 4 KiB reads, as the serial source does.
                for chunk in black_box(&bytes).chunks(4096) {
                    link.feed(chunk, 0.0, &mut events);
                    num_events += events.len();
                    events.clear();
                }
                black_box(num_events)
            })
        });
    }
    group.finish();
}

/// Writes one 10-sample frame on the console side of a pseudo-terminal and times how long until its samples
/// are in the engine's live ring buffer.
fn latency(c: &mut Criterion) {
    let (mut console, port) = serialport::TTYPort::pair().unwrap();
    let path = serialport::SerialPort::name(&port).unwrap();
    let spec = SourceSpec {
        id: "bridge".into(),
        label: "Bridge".into(),
        sample_rate_hz: RATE_HZ,
        channels: (0..NUM_CHANNELS)
            .map(|c| ChannelSpec {
                name: format!("ch{c}"),
                unit: "mmHg".into(),
            })
            .collect(),
    };
    let config = SerialConfig {
        path,
        baud: 921_600,
        framing: Framing::Heracles { source_id: None },
        spec,
    };
    let engine = Engine::start(
        vec![Box::new(SerialSource::new(config))],
        EngineConfig::default(),
        Arc::new(|| {}),
    )
    .unwrap();
    let mut encoder = StreamEncoder::new(descriptor(), 10, 0, 0).unwrap();
    let mut first = Vec::new();
    encoder.descriptor_frame(&mut first);
    console.write_all(&first).unwrap();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let recorded = latencies.clone();
    c.bench_function("pty to live buffer, one 10 ms frame", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let frame = encoder
                    .data_frames(&signal(encoder.next_sample(), 10))
                    .unwrap()
                    .remove(0);
                let target = frame.first_sample + 10;
                let sent = Instant::now();
                console.write_all(&frame.bytes).unwrap();
                while engine.lock().sources[0].end_sample() < target {
                    std::thread::sleep(Duration::from_micros(50));
                    assert!(sent.elapsed() < Duration::from_secs(5), "samples never arrived");
                }
                let latency = sent.elapsed();
                recorded.lock().unwrap().push(latency);
                total += latency;
                // The bridge's pace: one frame per 10 ms.
                std::thread::sleep(Duration::from_millis(10).saturating_sub(latency));
            }
            total
        })
    });
    let mut all = latencies.lock().unwrap().clone();
    all.sort();
    if !all.is_empty() {
        let at = |q: f64| all[((all.len() - 1) as f64 * q).round() as usize];
        println!(
            "pty -> live buffer latency over {} frames: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            all.len(),
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            all[all.len() - 1].as_secs_f64() * 1e3
        );
    }
    drop(port);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(50);
    targets = decoding, latency
}
criterion_main!(benches);
