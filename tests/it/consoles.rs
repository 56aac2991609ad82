//! Console connections end to end: the heracles protocol and text lines over real pseudo-terminals into the
//! engine and a recorder, cable pulls and re-plugs, faults, importers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heracles::acquisition::codec::{ChannelDescriptor, Descriptor, SampleFormat, StreamEncoder};
use heracles::acquisition::serial::{Framing, SerialConfig, SerialSource};
use heracles::acquisition::text_stream::{ColumnMap, TextStreamConfig};
use heracles::acquisition::{Engine, EngineConfig, RecordSink, RecorderHealth, Source};
use heracles::model::{Block, ChannelSpec, GapReason, RecordItem, SourceSpec};
use serialport::TTYPort;
use std::io::Write;

/// A recorder that keeps everything in memory.
#[derive(Clone, Default)]
struct MemoryRecorder(Arc<Mutex<Vec<RecordItem>>>);

impl RecordSink for MemoryRecorder {
    fn offer(&mut self, item: RecordItem) -> Result<(), RecordItem> {
        self.0.lock().unwrap().push(item);
        Ok(())
    }
    fn health(&self) -> RecorderHealth {
        RecorderHealth::Saving
    }
    fn finish(self: Box<Self>, _unsent: Vec<RecordItem>) -> Result<(), String> {
        Ok(())
    }
}

/// What a recorder received, folded per sample index.
#[derive(Debug, Default)]
struct Recorded {
    segments: Vec<u64>,
    samples: Vec<(u64, Vec<f32>)>,
    gaps: Vec<(u64, u64, GapReason)>,
}

fn recorded(recorder: &MemoryRecorder) -> Recorded {
    let mut out = Recorded::default();
    for item in recorder.0.lock().unwrap().iter() {
        match item {
            RecordItem::Source { first_sample, .. } => out.segments.push(*first_sample),
            RecordItem::Block { block, .. } => {
                for i in 0..block.num_samples() {
                    out.samples.push((
                        block.first_sample + i as u64,
                        block.channels.iter().map(|c| c[i]).collect(),
                    ));
                }
            }
            RecordItem::Gap { gap, .. } => {
                out.gaps
                    .push((gap.first_sample, gap.num_samples, gap.reason.clone()))
            }
        }
    }
    out
}

/// A pseudo-terminal "console" reachable at a stable symlink, like a udev `/dev/serial/by-id/...` name.
struct Pty {
    master: TTYPort,
    _slave: TTYPort,
}

fn plug(link: &Path) -> Pty {
    let (master, slave) = TTYPort::pair().unwrap();
    let target = serialport::SerialPort::name(&slave).unwrap();
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
    Pty {
        master,
        _slave: slave,
    }
}

fn bridge_descriptor(boot_id: u32) -> Descriptor {
    Descriptor {
        source_id: 3,
        boot_id,
        sample_rate_hz: 1000.0,
        sample_format: SampleFormat::I16,
        label: "test bridge".into(),
        channels: vec![
            ChannelDescriptor {
                name: "pa".into(),
                unit: "mmHg".into(),
                scale: 0.01,
                offset: 0.0,
            },
            ChannelDescriptor {
                name: "ecg".into(),
                unit: "mV".into(),
                scale: 0.001,
                offset: 0.0,
            },
        ],
    }
}

fn expected_spec() -> SourceSpec {
    SourceSpec {
        id: "bridge".into(),
        label: "Bridge".into(),
        sample_rate_hz: 1000.0,
        channels: vec![
            ChannelSpec {
                name: "pa".into(),
                unit: "mmHg".into(),
            },
            ChannelSpec {
                name: "ecg".into(),
                unit: "mV".into(),
            },
        ],
    }
}

/// Samples `start..start+n` of a test signal, exactly representable after quantisation (whole counts).
fn signal(start: u64, n: usize) -> Block {
    let pa = (0..n)
        .map(|i| ((start + i as u64) % 5000) as f32 * 0.02 + 60.0)
        .collect();
    let ecg = (0..n)
        .map(|i| ((start + i as u64) % 700) as f32 * 0.001 - 0.3)
        .collect();
    Block {
        first_sample: start,
        channels: vec![pa, ecg],
    }
}

fn engine_on(source: impl Source) -> (Engine, MemoryRecorder) {
    let engine = Engine::start(vec![Box::new(source)], EngineConfig::default(), Arc::new(|| {})).unwrap();
    let recorder = MemoryRecorder::default();
    engine.start_recording(Box::new(recorder.clone())).unwrap();
    // The engine takes the recorder on its own thread; samples before that are live-only.
    wait_until("the recorder", Duration::from_secs(5), || {
        engine.lock().recording.active
    });
    (engine, recorder)
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn scratch_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(name).tempdir().unwrap()
}

fn serial_config(path: &Path, framing: Framing) -> SerialConfig {
    SerialConfig {
        path: path.display().to_string(),
        baud: 115_200,
        framing,
        spec: expected_spec(),
    }
}

/// Sends `num_frames` frames of 10 samples (and a descriptor every 20 frames) from `encoder`.
fn send_frames(pty: &mut Pty, encoder: &mut StreamEncoder, num_frames: usize) {
    for k in 0..num_frames {
        let mut bytes = Vec::new();
        if k % 20 == 0 {
            encoder.descriptor_frame(&mut bytes);
        }
        for frame in encoder.data_frames(&signal(encoder.next_sample(), 10)).unwrap() {
            bytes.extend(frame.bytes);
        }
        pty.master.write_all(&bytes).unwrap();
    }
    pty.master.flush().unwrap();
}

fn sample_matches(index: u64, values: &[f32]) -> bool {
    let expected = signal(index, 1);
    values
        .iter()
        .zip(&expected.channels)
        .all(|(v, e)| (v - e[0]).abs() <= 0.5e-2)
}

#[test]
fn protocol_over_a_pty_arrives_sample_for_sample() {
    let dir = scratch_dir("heracles-pty");
    let link: PathBuf = dir.path().join("bridge");
    let mut pty = plug(&link);
    let (engine, recorder) = engine_on(SerialSource::new(serial_config(
        &link,
        Framing::Heracles { source_id: None },
    )));
    let mut encoder = StreamEncoder::new(bridge_descriptor(1), 10, 0, 0).unwrap();
    send_frames(&mut pty, &mut encoder, 200);
    wait_until("2000 samples", Duration::from_secs(10), || {
        engine.lock().sources[0].num_samples >= 2000
    });
    engine.stop_recording().unwrap();
    let recorded = recorded(&recorder);
    assert_eq!(recorded.segments, vec![0]);
    assert!(recorded.gaps.is_empty());
    assert_eq!(recorded.samples.len(), 2000);
    for (k, (index, values)) in recorded.samples.iter().enumerate() {
        assert_eq!(*index, k as u64);
        assert!(sample_matches(*index, values), "sample {index}: {values:?}");
    }
    let state = engine.lock();
    assert!(state.sources[0].connected);
    assert_eq!(state.sources[0].spec.channels, expected_spec().channels);
}

#[test]
fn pulling_the_cable_and_plugging_it_back_records_the_gap() {
    let dir = scratch_dir("heracles-pull");
    let link = dir.path().join("bridge");
    let mut pty = plug(&link);
    let (engine, recorder) = engine_on(SerialSource::new(serial_config(
        &link,
        Framing::Heracles { source_id: None },
    )));
    let mut encoder = StreamEncoder::new(bridge_descriptor(1), 10, 0, 0).unwrap();
    send_frames(&mut pty, &mut encoder, 50);
    wait_until("500 samples", Duration::from_secs(10), || {
        engine.lock().sources[0].num_samples >= 500
    });

    // Pull the cable: the console side of the pseudo-terminal disappears.
    let pulled = Instant::now();
    drop(pty);
    wait_until("the disconnection", Duration::from_secs(5), || {
        !engine.lock().sources[0].connected
    });
    let detection = pulled.elapsed();
    assert!(
        detection < Duration::from_secs(1),
        "disconnect detected after {detection:?}"
    );
    assert!(engine.lock().sources[0].disconnect_reason.is_some());

    // The console keeps sampling while unplugged (3000 samples nobody receives), then the cable goes back in.
    let unplugged = encoder.data_frames(&signal(encoder.next_sample(), 3000)).unwrap();
    assert_eq!(unplugged.len(), 300);
    let mut pty = plug(&link);
    send_frames(&mut pty, &mut encoder, 50);
    wait_until("the reconnection", Duration::from_secs(10), || {
        engine.lock().sources[0].num_samples >= 1000
    });
    engine.stop_recording().unwrap();

    let recorded = recorded(&recorder);
    assert_eq!(recorded.segments, vec![0, 3500]);
    assert_eq!(recorded.gaps, vec![(500, 3000, GapReason::Disconnected)]);
    assert_eq!(recorded.samples.len(), 1000);
    assert!(
        recorded
            .samples
            .iter()
            .all(|(index, values)| sample_matches(*index, values))
    );
    // Nothing sent before the pull was lost: samples 0..500 are all there.
    assert!(
        recorded
            .samples
            .iter()
            .take(500)
            .enumerate()
            .all(|(k, (index, _))| *index == k as u64)
    );
    assert!(engine.lock().sources[0].status.num_reconnects >= 1);
}

#[test]
fn silence_is_a_lost_link_and_text_lines_are_read() {
    let dir = scratch_dir("heracles-text");
    let link = dir.path().join("logger");
    let mut pty = plug(&link);
    let text = TextStreamConfig {
        delimiter: ',',
        sample_rate_hz: 1000.0,
        columns: vec![
            ColumnMap {
                column: 0,
                name: "pa".into(),
                unit: "mmHg".into(),
                scale: 1.0,
                offset: 0.0,
            },
            ColumnMap {
                column: 1,
                name: "ecg".into(),
                unit: "mV".into(),
                scale: 0.001,
                offset: 0.0,
            },
        ],
    };
    let (engine, recorder) = engine_on(SerialSource::new(serial_config(&link, Framing::Text(text))));
    pty.master
        .write_all(b"pa,ecg_uv\n80.5,120\n81.0,-40\nnot,a number\n82.5,7\n")
        .unwrap();
    wait_until("3 lines", Duration::from_secs(5), || {
        engine.lock().sources[0].num_samples >= 3
    });
    // The logger stops talking: within about a second the source is shown disconnected.
    let quiet = Instant::now();
    wait_until("the silence to be noticed", Duration::from_secs(5), || {
        !engine.lock().sources[0].connected
    });
    assert!(quiet.elapsed() < Duration::from_millis(1500));
    engine.stop_recording().unwrap();
    let recorded = recorded(&recorder);
    assert_eq!(
        recorded.samples,
        vec![
            (0, vec![80.5, 0.12]),
            (1, vec![81.0, -0.04]),
            (3, vec![82.5, 0.007])
        ]
    );
    // The corrupt line, then the silence up to the end of the recording (the logger never came back).
    assert_eq!(recorded.gaps[0], (2, 1, GapReason::CorruptFrames));
    assert!(
        matches!(recorded.gaps[1..], [(4, n, GapReason::Disconnected)] if n >= 1000),
        "{:?}",
        recorded.gaps
    );
    assert_eq!(engine.lock().sources[0].status.num_rejected, 2);
}

mod end_to_end {
    //! Simulator -> pseudo-terminal -> serial source -> engine -> the store's recorder -> case file.

    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use heracles::acquisition::serial::{Framing, SerialConfig, SerialSource};
    use heracles::acquisition::sim_stream::{
        FaultConfig, FaultRecord, SimStream, StreamTarget, open_output, sim_descriptor, stream_real_time,
    };
    use heracles::acquisition::{Engine, EngineConfig};
    use heracles::model::CaseId;
    use heracles::sim::{SensorLevel, Simulator};
    use heracles::store::{CaseFile, Recorder, RecorderOptions};

    use super::{scratch_dir, wait_until};

    const SCENARIO: &str = "shock-ecmo";
    const SEED: u64 = 3;

    #[test]
    fn simulator_to_case_file_with_faults_matches_sample_for_sample() {
        let duration_s = 5.0;
        let faults = FaultConfig {
            drop_probability: 0.02,
            corrupt_probability: 0.01,
            disconnect_after_s: Some(2.0),
            disconnect_for_s: 1.5,
            seed: 21,
        };
        let sim = Simulator::new(SCENARIO, SEED, SensorLevel::Realistic).unwrap();
        let mut spec = sim.source_spec();
        spec.id = "bridge".into();
        let descriptor = sim_descriptor(&sim, 77);
        let mut stream = SimStream::new(sim, 77, faults).unwrap();
        let mut output = open_output(&StreamTarget::Pty).unwrap();

        let dir = scratch_dir("heracles-e2e");
        let case =
            CaseFile::create(dir.path(), "HER-TST-0610".parse::<CaseId>().unwrap(), "e2e test").unwrap();
        let path = case.path().to_owned();
        let recorder = Recorder::start(case, RecorderOptions::default()).unwrap();
        let config = SerialConfig {
            path: output.path.clone(),
            baud: 921_600,
            framing: Framing::Heracles { source_id: None },
            spec: spec.clone(),
        };
        let engine = Engine::start(
            vec![Box::new(SerialSource::new(config))],
            EngineConfig::default(),
            Arc::new(|| {}),
        )
        .unwrap();
        engine.start_recording(Box::new(recorder)).unwrap();
        wait_until("the recorder", Duration::from_secs(5), || {
            engine.lock().recording.active
        });

        let log: Arc<Mutex<Vec<FaultRecord>>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let streamer = {
            let (log, done) = (log.clone(), done.clone());
            std::thread::Builder::new()
                .name("test-sim-stream".into())
                .spawn(move || {
                    let report =
                        stream_real_time(&mut stream, &mut output, Some(duration_s), &|| true, &mut |f| {
                            log.lock().unwrap().push(*f)
                        });
                    done.store(true, Ordering::SeqCst);
                    // Keep the terminal open until the receiver has read everything.
                    std::thread::sleep(Duration::from_millis(500));
                    report
                })
                .unwrap()
        };
        wait_until("the stream to end", Duration::from_secs(30), || {
            done.load(Ordering::SeqCst)
        });
        let last_sent = (duration_s * 1000.0) as u64;
        wait_until("the last samples", Duration::from_secs(10), || {
            engine.lock().sources[0].end_sample() >= last_sent
        });
        let report = streamer.join().unwrap().unwrap();
        let state = engine.lock().sources[0].clone();
        engine.stop_recording().unwrap();
        drop(engine);
        assert_eq!(report.num_frames, 500);
        assert!(
            state.status.num_reconnects >= 1,
            "the silence was a lost link: {:?}",
            state.status
        );

        // What the simulator sent: the same scenario and seed, regenerated.
        let truth = Simulator::new(SCENARIO, SEED, SensorLevel::Realistic)
            .unwrap()
            .generate(last_sent as usize);
        let file = CaseFile::open_read_only(&path).unwrap();
        assert!(file.verify().unwrap().ok());
        let channels = file.channels().unwrap();
        assert_eq!(
            channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["ecg", "pa", "pd", "ipv", "lvp", "lvv", "ecmo_flow"]
        );
        let log = log.lock().unwrap().clone();
        let injected: BTreeSet<u64> = log
            .iter()
            .flat_map(|f| f.first_sample..f.first_sample + f.num_samples as u64)
            .collect();
        // The console stopped sending before the recording stopped: that silence is one trailing gap.
        let (trailing, gaps): (Vec<_>, Vec<_>) = file
            .gaps()
            .unwrap()
            .into_iter()
            .partition(|g| g.first_sample >= last_sent);
        assert!(
            trailing.len() <= 1
                && trailing
                    .iter()
                    .all(|g| g.reason == "disconnected" && g.first_sample == last_sent),
            "{trailing:?}"
        );
        let recorded_gaps: BTreeSet<u64> = gaps
            .iter()
            .flat_map(|g| g.first_sample..g.first_sample + g.num_samples)
            .collect();
        assert_eq!(recorded_gaps, injected, "gaps {gaps:?}\nfaults {log:?}");
        assert!(
            gaps.iter()
                .any(|g| g.reason == "disconnected" && g.num_samples == 1500)
        );
        for (c, channel) in channels.iter().enumerate() {
            assert_eq!(channel.first_sample, 0);
            let stored = file.read_samples(channel.id, 0, last_sent).unwrap().values;
            let half_count = descriptor.channels[c].scale / 2.0 + 1e-4;
            for (i, (&value, &sent)) in stored.iter().zip(&truth.channels[c]).enumerate() {
                if injected.contains(&(i as u64)) {
                    assert!(value.is_nan(), "{} sample {i} should be missing", channel.name);
                } else {
                    assert!(
                        (value - sent).abs() <= half_count,
                        "{} sample {i}: stored {value}, sent {sent}",
                        channel.name
                    );
                }
            }
        }
    }
}

#[test]
fn record_cli_records_a_serial_console() {
    use clap::Parser;
    use heracles::acquisition::sim_stream::{
        FaultConfig, SimStream, StreamTarget, open_output, stream_real_time,
    };
    use heracles::sim::{SensorLevel, Simulator};
    use std::sync::atomic::{AtomicBool, Ordering};

    let sim = Simulator::new("shock-ecmo-iabp", 5, SensorLevel::Clean).unwrap();
    let mut stream = SimStream::new(sim, 9, FaultConfig::default()).unwrap();
    let mut output = open_output(&StreamTarget::Pty).unwrap();
    let path = output.path.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let streamer = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("test-sim-stream".into())
            .spawn(move || {
                stream_real_time(
                    &mut stream,
                    &mut output,
                    None,
                    &|| !stop.load(Ordering::SeqCst),
                    &mut |_| {},
                )
            })
            .unwrap()
    };
    let dir = scratch_dir("heracles-record");
    let data = dir.path().display().to_string();
    let source = format!("serial:{path}");
    let args = [
        "heracles",
        "record",
        "--source",
        &source,
        "--case",
        "HER-TST-0620",
        "--seconds",
        "2",
        "--data-dir",
        &data,
    ];
    let code = heracles::cli::run(heracles::cli::Cli::try_parse_from(args).unwrap()).unwrap();
    stop.store(true, Ordering::SeqCst);
    let report = streamer.join().unwrap().unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    assert!(report.num_frames >= 150);
    let file = heracles::store::CaseFile::open_read_only(&dir.path().join("HER-TST-0620.heracles")).unwrap();
    let channels = file.channels().unwrap();
    let names: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["ecg", "pa", "pd", "ipv", "lvp", "lvv", "ecmo_flow"]);
    assert!(
        channels
            .iter()
            .all(|c| c.source == "bridge" && c.sample_rate_hz == 1000.0)
    );
    // About two seconds recorded (the console started before the recording did).
    assert!(
        channels.iter().all(|c| (1500..=2500).contains(&c.num_samples)),
        "{channels:?}"
    );
    assert!(file.gaps().unwrap().is_empty());
}

#[test]
fn a_yanked_cable_loses_nothing_the_case_file_had_received() {
    use heracles::store::{CaseFile, Recorder, RecorderOptions};
    let dir = scratch_dir("heracles-yank");
    let link = dir.path().join("bridge");
    let case = CaseFile::create(
        dir.path(),
        "HER-TST-0630".parse::<heracles::model::CaseId>().unwrap(),
        "yank test",
    )
    .unwrap();
    let path = case.path().to_owned();
    let mut pty = plug(&link);
    let engine = Engine::start(
        vec![Box::new(SerialSource::new(serial_config(
            &link,
            Framing::Heracles { source_id: None },
        )))],
        EngineConfig::default(),
        Arc::new(|| {}),
    )
    .unwrap();
    engine
        .start_recording(Box::new(
            Recorder::start(case, RecorderOptions::default()).unwrap(),
        ))
        .unwrap();
    wait_until("the recorder", Duration::from_secs(5), || {
        engine.lock().recording.active
    });
    let mut encoder = StreamEncoder::new(bridge_descriptor(1), 10, 0, 0).unwrap();
    send_frames(&mut pty, &mut encoder, 50);
    wait_until("500 samples", Duration::from_secs(10), || {
        engine.lock().sources[0].end_sample() >= 500
    });
    // The cable comes out in the middle of a frame: half of samples 500..510 are on the wire.
    let torn = encoder.data_frames(&signal(500, 10)).unwrap().remove(0);
    pty.master.write_all(&torn.bytes[..torn.bytes.len() / 2]).unwrap();
    let pulled = Instant::now();
    drop(pty);
    wait_until("the disconnection", Duration::from_secs(5), || {
        !engine.lock().sources[0].connected
    });
    assert!(
        pulled.elapsed() < Duration::from_secs(1),
        "{:?}",
        pulled.elapsed()
    );
    // Unplugged for 3000 samples, then plugged back in.
    encoder.data_frames(&signal(encoder.next_sample(), 3000)).unwrap();
    let mut pty = plug(&link);
    send_frames(&mut pty, &mut encoder, 50);
    wait_until(
        "the samples after the reconnection",
        Duration::from_secs(10),
        || engine.lock().sources[0].end_sample() >= 4010,
    );
    engine.stop_recording().unwrap();
    drop(engine);

    let file = CaseFile::open_read_only(&path).unwrap();
    assert!(
        file.verify().unwrap().ok(),
        "every index stored or in a recorded gap"
    );
    let channels = file.channels().unwrap();
    // The console came back with the same channels and a later sample index: the case file continues the source
    // (its `source` row) after a gap; a console that comes back different (channels, rate, or an index that went
    // back) gets a source row of its own.
    let stored: Vec<(&str, u64, u64, u64)> = channels
        .iter()
        .map(|c| (c.name.as_str(), c.first_sample, c.end_sample, c.num_samples))
        .collect();
    assert_eq!(stored, [("pa", 0, 4010, 1000), ("ecg", 0, 4010, 1000)]);
    let gaps: Vec<(u64, u64, String)> = file
        .gaps()
        .unwrap()
        .into_iter()
        .map(|g| (g.first_sample, g.num_samples, g.reason))
        .collect();
    assert_eq!(
        gaps,
        [(500, 3010, "disconnected".to_owned())],
        "the torn frame is part of the gap"
    );
    // Every sample received before the pull and after the re-plug is stored, sample for sample.
    for (column, channel) in channels.iter().enumerate() {
        for first in [0, 3510] {
            let samples = file.read_samples(channel.id, first, first + 500).unwrap();
            assert_eq!(samples.values.len(), 500);
            let truth = signal(first, 500);
            for (i, (&stored, &sent)) in samples.values.iter().zip(&truth.channels[column]).enumerate() {
                assert!(
                    (stored - sent).abs() <= 0.5e-2,
                    "{} sample {}: {stored} vs {sent}",
                    channel.name,
                    first + i as u64
                );
            }
        }
    }
}

/// Issue 14: a console that goes away for good during `record` (the streamer stops and its pty closes: a pulled
/// cable). The received data is kept, the silence up to the end of the recording is a `disconnected` gap, and
/// `record` exits non-zero.
#[test]
fn record_cli_records_a_lost_console_as_a_gap_and_fails() {
    use clap::Parser;
    use heracles::acquisition::sim_stream::{
        FaultConfig, SimStream, StreamTarget, open_output, stream_real_time,
    };
    use heracles::sim::{SensorLevel, Simulator};
    use std::sync::atomic::{AtomicBool, Ordering};

    let sim = Simulator::new("shock-ecmo-iabp", 5, SensorLevel::Clean).unwrap();
    let mut stream = SimStream::new(sim, 9, FaultConfig::default()).unwrap();
    let mut output = open_output(&StreamTarget::Pty).unwrap();
    let path = output.path.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let streamer = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("test-sim-stream".into())
            .spawn(move || {
                let report = stream_real_time(
                    &mut stream,
                    &mut output,
                    None,
                    &|| !stop.load(Ordering::SeqCst),
                    &mut |_| {},
                );
                drop(output); // the cable is pulled: the pty closes
                report
            })
            .unwrap()
    };
    let puller = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("test-cable-puller".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(1500));
                stop.store(true, Ordering::SeqCst);
            })
            .unwrap()
    };
    let dir = scratch_dir("heracles-record-lost");
    let data = dir.path().display().to_string();
    let source = format!("serial:{path}");
    let args = [
        "heracles",
        "record",
        "--source",
        &source,
        "--case",
        "HER-TST-0621",
        "--seconds",
        "4",
        "--data-dir",
        &data,
    ];
    let code = heracles::cli::run(heracles::cli::Cli::try_parse_from(args).unwrap()).unwrap();
    puller.join().unwrap();
    streamer.join().unwrap().unwrap();
    assert_eq!(code, std::process::ExitCode::FAILURE);
    let file = heracles::store::CaseFile::open_read_only(&dir.path().join("HER-TST-0621.heracles")).unwrap();
    let report = file.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let channel = &file.channels().unwrap()[0];
    assert!(
        (800..=2000).contains(&channel.num_samples),
        "about 1.5 s received: {channel:?}"
    );
    let gaps = file.gaps().unwrap();
    let lost: u64 = gaps
        .iter()
        .filter(|gap| gap.reason == "disconnected")
        .map(|gap| gap.num_samples)
        .sum();
    assert!(
        (1500..=3500).contains(&lost),
        "the silence to the end (about 2.5 s) is a gap: {gaps:?}"
    );
    assert_eq!(
        gaps.iter().map(|g| g.first_sample).min(),
        Some(channel.first_sample + channel.num_samples),
        "the gap starts where the data stopped: {gaps:?}"
    );
}
