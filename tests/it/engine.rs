//! The acquisition engine through its public API: blocks from several sources land in the live ring buffers at
//! their sample indices, gaps are counted, a refusing recorder's backlog overflows into recorded gaps, and the
//! UI's repaint requests are coalesced. Sources here are scripted test sources with known content.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heracles::acquisition::online::{self, SourceWindow};
use heracles::acquisition::{
    Engine, EngineConfig, LiveAnalysis, LiveQuantity, LiveSource, LiveState, RecordSink, RecorderHealth,
    RingBuffer, SimControlError, SimSource, Source, SourceEvent, SourceSink,
};
use heracles::analysis::AnalysisSettings;
use heracles::model::{Block, ChannelSpec, Gap, GapReason, RecordItem, SignalKind, SourceSpec};
use heracles::sim::{Control, SensorLevel, Simulator, Truth};

/// A source spec with the given known channels.
pub fn spec(id: &str, sample_rate_hz: f64, kinds: &[SignalKind]) -> SourceSpec {
    SourceSpec {
        id: id.to_owned(),
        label: format!("Test {id}"),
        sample_rate_hz,
        channels: kinds.iter().map(|&kind| ChannelSpec::of(kind)).collect(),
    }
}

/// The known content of channel `channel` at sample `index`: the scripted sources' samples.
pub fn known_value(channel: usize, index: u64) -> f32 {
    (channel * 1000) as f32 + (index % 997) as f32
}

/// A block of known content.
pub fn known_block(num_channels: usize, first_sample: u64, num_samples: u64) -> Block {
    Block {
        first_sample,
        channels: (0..num_channels)
            .map(|channel| {
                (first_sample..first_sample + num_samples)
                    .map(|i| known_value(channel, i))
                    .collect()
            })
            .collect(),
    }
}

/// Sends its script (after `gate` opens, if any), then idles until stopped.
pub struct ScriptedSource {
    pub spec: SourceSpec,
    pub events: Vec<SourceEvent>,
    pub gate: Option<Arc<AtomicBool>>,
}

impl Source for ScriptedSource {
    fn spec(&self) -> SourceSpec {
        self.spec.clone()
    }

    fn run(self: Box<Self>, sink: SourceSink) {
        while self
            .gate
            .as_ref()
            .is_some_and(|gate| !gate.load(Ordering::Relaxed))
        {
            if sink.should_stop() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        for event in self.events {
            if sink.send(event).is_err() {
                return;
            }
        }
        while !sink.should_stop() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Delivers known content paced to wall-clock time, in blocks of `block_len` samples, until stopped.
pub struct PacedSource {
    pub spec: SourceSpec,
    pub block_len: u64,
}

impl Source for PacedSource {
    fn spec(&self) -> SourceSpec {
        self.spec.clone()
    }

    fn run(self: Box<Self>, sink: SourceSink) {
        let start = Instant::now();
        if sink
            .send(SourceEvent::Connected {
                spec: self.spec.clone(),
                first_sample: 0,
            })
            .is_err()
        {
            return;
        }
        let mut next = 0;
        loop {
            let due = (start.elapsed().as_secs_f64() * self.spec.sample_rate_hz) as u64;
            while next + self.block_len <= due {
                let block = known_block(self.spec.channels.len(), next, self.block_len);
                if sink.send(SourceEvent::Block(block)).is_err() {
                    return;
                }
                next += self.block_len;
            }
            if sink.should_stop() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// A recorder that refuses everything (and reports a full disk) until `accepting` is set, then keeps what it is
/// given.
pub struct FakeRecorder {
    pub accepting: Arc<AtomicBool>,
    pub received: Arc<Mutex<Vec<RecordItem>>>,
}

impl RecordSink for FakeRecorder {
    fn offer(&mut self, item: RecordItem) -> Result<(), RecordItem> {
        if !self.accepting.load(Ordering::Relaxed) {
            return Err(item);
        }
        self.received.lock().unwrap().push(item);
        Ok(())
    }

    fn health(&self) -> RecorderHealth {
        if self.accepting.load(Ordering::Relaxed) {
            RecorderHealth::Saving
        } else {
            RecorderHealth::Failed("disk full".to_owned())
        }
    }

    fn finish(self: Box<Self>, _unsent: Vec<RecordItem>) -> Result<(), String> {
        Ok(())
    }
}

/// Polls the engine's state until `done` holds, failing after a few seconds.
pub fn wait_for(engine: &Engine, what: &str, done: impl Fn(&LiveState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&engine.lock()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn no_repaint() -> Arc<dyn Fn() + Send + Sync> {
    Arc::new(|| {})
}

#[test]
fn blocks_from_two_sources_land_at_their_indices_and_gaps_are_counted() {
    let coronary = spec("coronary", 100.0, &[SignalKind::Pa]);
    let pv = spec("pv", 250.0, &[SignalKind::Lvp, SignalKind::Lvv]);
    let sources: Vec<Box<dyn Source>> = vec![
        Box::new(ScriptedSource {
            spec: coronary.clone(),
            events: vec![
                SourceEvent::Connected {
                    spec: coronary,
                    first_sample: 0,
                },
                SourceEvent::Block(known_block(1, 0, 50)),
                SourceEvent::Block(known_block(1, 50, 50)),
            ],
            gate: None,
        }),
        Box::new(ScriptedSource {
            spec: pv.clone(),
            events: vec![
                SourceEvent::Connected {
                    spec: pv,
                    first_sample: 1000,
                },
                SourceEvent::Block(known_block(2, 1000, 100)),
                SourceEvent::Gap(Gap {
                    first_sample: 1100,
                    num_samples: 20,
                    reason: GapReason::DroppedFrames,
                }),
                SourceEvent::Block(known_block(2, 1120, 80)),
            ],
            gate: None,
        }),
    ];
    let engine = Engine::start(sources, EngineConfig::default(), no_repaint()).unwrap();
    wait_for(&engine, "both sources' samples", |state| {
        state.sources[0].num_samples == 100 && state.sources[1].num_samples == 180
    });
    let state = engine.lock();
    let (coronary, pv) = (&state.sources[0], &state.sources[1]);
    assert!(coronary.connected && pv.connected);
    assert_eq!((coronary.end_sample(), pv.end_sample()), (100, 1200));
    for index in [0, 49, 50, 99] {
        assert_eq!(coronary.channels[0].at(index), Some(known_value(0, index)));
    }
    for index in [1000, 1099, 1120, 1199] {
        assert_eq!(pv.channels[0].at(index), Some(known_value(0, index)));
        assert_eq!(pv.channels[1].at(index), Some(known_value(1, index)));
    }
    // The gap shows as a break in the trace and is counted on the chip.
    assert!(pv.channels[0].at(1100).unwrap().is_nan() && pv.channels[1].at(1119).unwrap().is_nan());
    assert_eq!((coronary.num_dropped_samples, pv.num_dropped_samples), (0, 20));
}

#[test]
fn backlog_overflow_is_recorded_as_gaps_and_counted() {
    // 70 s at 1 kHz while the recorder refuses: the engine keeps 60 s and turns the oldest 10 s into gaps.
    let rate_hz = 1000.0;
    let source_spec = spec("sim", rate_hz, &[SignalKind::Pa]);
    let mut events = vec![SourceEvent::Connected {
        spec: source_spec.clone(),
        first_sample: 0,
    }];
    events.extend((0..70).map(|second| SourceEvent::Block(known_block(1, second * 1000, 1000))));
    let gate = Arc::new(AtomicBool::new(false));
    let sources: Vec<Box<dyn Source>> = vec![Box::new(ScriptedSource {
        spec: source_spec,
        events,
        gate: Some(gate.clone()),
    })];
    let config = EngineConfig {
        live_window_s: 5.0,
        backlog_s: 60.0,
    };
    let engine = Engine::start(sources, config, no_repaint()).unwrap();

    let accepting = Arc::new(AtomicBool::new(false));
    let received = Arc::new(Mutex::new(Vec::new()));
    let recorder = FakeRecorder {
        accepting: accepting.clone(),
        received: received.clone(),
    };
    engine.start_recording(Box::new(recorder)).unwrap();
    wait_for(&engine, "the recorder to be attached", |state| {
        state.recording.active
    });
    gate.store(true, Ordering::Relaxed);
    wait_for(&engine, "all samples", |state| {
        state.sources[0].num_samples == 70_000
    });
    wait_for(&engine, "the failure to show", |state| {
        state.recording.failure.is_some()
    });
    {
        let state = engine.lock();
        assert_eq!(state.recording.num_lost_samples, 10_000);
        assert!(
            (state.recording.backlog_s - 60.0).abs() < 1e-9,
            "{}",
            state.recording.backlog_s
        );
        assert_eq!(state.recording.failure.as_deref(), Some("disk full"));
    }

    accepting.store(true, Ordering::Relaxed);
    engine.stop_recording().unwrap();
    let received = received.lock().unwrap();
    let gaps: Vec<&Gap> = received
        .iter()
        .filter_map(|item| match item {
            RecordItem::Gap { gap, .. } => Some(gap),
            _ => None,
        })
        .collect();
    assert_eq!(gaps.len(), 10);
    for (second, gap) in gaps.iter().enumerate() {
        assert_eq!(
            **gap,
            Gap {
                first_sample: second as u64 * 1000,
                num_samples: 1000,
                reason: GapReason::RecorderOverflow
            }
        );
    }
    let num_recorded: usize = received.iter().map(RecordItem::num_samples).sum();
    assert_eq!(num_recorded, 60_000);
    assert!(
        matches!(received[0], RecordItem::Source { first_sample: 0, .. }),
        "{:?}",
        received[0]
    );
    assert!(!engine.lock().recording.active);
}

#[test]
fn repaint_requests_are_coalesced() {
    // 2000 blocks of one sample, as fast as the engine takes them.
    let source_spec = spec("fast", 1000.0, &[SignalKind::Ecg]);
    let mut events = vec![SourceEvent::Connected {
        spec: source_spec.clone(),
        first_sample: 0,
    }];
    events.extend((0..2000).map(|i| SourceEvent::Block(known_block(1, i, 1))));
    let sources: Vec<Box<dyn Source>> = vec![Box::new(ScriptedSource {
        spec: source_spec,
        events,
        gate: None,
    })];
    let num_repaints = Arc::new(AtomicUsize::new(0));
    let counter = num_repaints.clone();
    let start = Instant::now();
    let engine = Engine::start(
        sources,
        EngineConfig::default(),
        Arc::new(move || _ = counter.fetch_add(1, Ordering::Relaxed)),
    )
    .unwrap();
    wait_for(&engine, "all samples", |state| {
        state.sources[0].num_samples == 2000
    });
    // The last batch's repaint comes at most one interval later.
    std::thread::sleep(Duration::from_millis(60));
    let elapsed_ms = start.elapsed().as_millis() as usize;
    drop(engine);
    let repaints = num_repaints.load(Ordering::Relaxed);
    assert!(repaints >= 1, "the UI was never woken");
    assert!(
        repaints <= elapsed_ms / 15 + 1,
        "{repaints} repaints in {elapsed_ms} ms for 2001 events"
    );
}

/// Runs a source on its own thread with a sink of our own; returns the event receiver, the stop flag and the
/// thread.
fn run_alone(
    source: SimSource,
) -> (
    std::sync::mpsc::Receiver<(usize, SourceEvent)>,
    Arc<AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::sync_channel(256);
    let stop = Arc::new(AtomicBool::new(false));
    let sink = SourceSink::new(0, tx, stop.clone());
    let thread = std::thread::Builder::new()
        .name("test-sim".into())
        .spawn(move || Box::new(source).run(sink))
        .unwrap();
    (rx, stop, thread)
}

/// Appends the samples of a block event to per-channel vectors; returns whether it was a block.
fn collect(event: SourceEvent, channels: &mut Vec<Vec<f32>>) {
    match event {
        SourceEvent::Block(block) => {
            channels.resize(block.channels.len(), Vec::new());
            assert_eq!(
                block.first_sample as usize,
                channels[0].len(),
                "blocks must be consecutive"
            );
            for (all, new) in channels.iter_mut().zip(block.channels) {
                all.extend(new);
            }
        }
        SourceEvent::Connected { first_sample, spec } => {
            assert_eq!((first_sample, spec.sample_rate_hz), (0, 1000.0));
        }
        other => panic!("unexpected event {other:?}"),
    }
}

#[test]
fn sim_source_delivers_real_time_sample_counts() {
    let simulator = Simulator::new("shock-ecmo", 3, SensorLevel::Realistic).unwrap();
    let (source, _control) = SimSource::with_control(simulator);
    let start = Instant::now();
    let (events, stop, thread) = run_alone(source);
    let mut channels = Vec::new();
    while start.elapsed() < Duration::from_millis(1500) {
        if let Ok((_, event)) = events.recv_timeout(Duration::from_millis(5)) {
            collect(event, &mut channels);
        }
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    while let Ok((_, event)) = events.try_recv() {
        collect(event, &mut channels);
    }
    thread.join().unwrap();
    let num_samples = channels[0].len() as f64;
    // Never ahead of the wall clock (one 16-sample block of rounding), and not far behind it even on a busy
    // machine.
    assert!(
        num_samples <= elapsed_s * 1000.0 + 16.0,
        "{num_samples} samples in {elapsed_s:.3} s: running ahead"
    );
    assert!(
        num_samples >= (elapsed_s - 0.4) * 1000.0,
        "{num_samples} samples in {elapsed_s:.3} s: too slow"
    );
    assert_eq!(channels.len(), 7);
}

#[test]
fn sim_source_applies_controls_at_the_next_block_boundary() {
    let (scenario, seed) = ("shock-ecmo", 7);
    let (source, control) =
        SimSource::with_control(Simulator::new(scenario, seed, SensorLevel::Realistic).unwrap());
    let (events, stop, thread) = run_alone(source);
    let mut channels = Vec::new();
    while channels.first().is_none_or(|c: &Vec<f32>| c.len() < 300) {
        collect(events.recv().unwrap().1, &mut channels);
    }
    let num_before_control = channels[0].len();
    let new_flow = Control::EcmoFlow { target_l_min: 1.0 };
    control.send(new_flow).unwrap();
    while channels[0].len() < 1800 {
        collect(events.recv().unwrap().1, &mut channels);
    }
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
    assert_eq!(control.send(new_flow), Err(SimControlError::Stopped));

    // The same patient run offline without the control: the live run departs from it where the control landed.
    let total = channels[0].len();
    let mut reference = Simulator::new(scenario, seed, SensorLevel::Realistic).unwrap();
    let untouched = reference.generate(total);
    let departs = (0..total)
        .find(|&i| {
            channels
                .iter()
                .zip(&untouched.channels)
                .any(|(live, offline)| live[i] != offline[i])
        })
        .expect("the control changed nothing");
    // The control landed at the start of the block in which the run departs (its effect on the first sample of
    // that block may be too small to see).
    let applied_at = departs - departs % 16;
    let first_possible = num_before_control - num_before_control % 16;
    assert!(
        applied_at >= first_possible,
        "applied at {applied_at}, before it was sent"
    );
    assert!(
        applied_at < num_before_control + 200,
        "applied at {applied_at}, long after it was sent"
    );
    // Offline, the control applied at that sample gives exactly the live samples.
    let mut twin = Simulator::new(scenario, seed, SensorLevel::Realistic).unwrap();
    let before = twin.generate(applied_at);
    twin.control(new_flow);
    let after = twin.generate(total - applied_at);
    for (c, live) in channels.iter().enumerate() {
        assert_eq!(&live[..applied_at], &before.channels[c][..]);
        assert_eq!(&live[applied_at..], &after.channels[c][..]);
    }
    // And the pump flow is falling towards the new target.
    let flow = &channels[6];
    let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
    assert!(
        mean(&flow[total - 200..]) < mean(&flow[..200]) - 0.5,
        "ECMO flow did not fall"
    );
}

/// `seconds` of the simulated patient (clean sensors) as the engine would hold it, and the truth per sample.
fn simulated_source(scenario: &str, seconds: f64) -> (LiveSource, Vec<Truth>) {
    let mut simulator = Simulator::new(scenario, 11, SensorLevel::Clean).unwrap();
    let spec = simulator.source_spec();
    let num_samples = (seconds * spec.sample_rate_hz) as usize;
    let mut channels = vec![Vec::with_capacity(num_samples); spec.channels.len()];
    let mut truth = Vec::with_capacity(num_samples);
    simulator.advance(num_samples, |sample| {
        for (channel, &value) in channels.iter_mut().zip(&sample.measured) {
            channel.push(value as f32);
        }
        truth.push(sample.truth);
    });
    (LiveSource::holding(spec, &channels), truth)
}

fn value(analysis: &LiveAnalysis, quantity: LiveQuantity) -> f64 {
    let number = analysis
        .number(quantity)
        .unwrap_or_else(|| panic!("no {quantity:?}"));
    assert!(
        number.method.contains(quantity.label()),
        "{:?} has no method: {}",
        quantity,
        number.method
    );
    number
        .value
        .clone()
        .unwrap_or_else(|reason| panic!("{quantity:?} unusable: {reason}"))
}

#[test]
fn online_numbers_match_the_simulated_truth() {
    let (source, truth) = simulated_source("shock-ecmo", 20.0);
    let windows: Vec<SourceWindow> = SourceWindow::newest(&source, online::WINDOW_S)
        .into_iter()
        .collect();
    assert_eq!(windows[0].first_sample, 5000);
    let analysis = online::analyse(&windows, &AnalysisSettings::default());
    assert_eq!(analysis.status, None);
    // The PV loop gets the newest beats, in the source's sample indices.
    assert_eq!(analysis.lv_beats.len(), online::NUM_NEWEST_BEATS);
    let (from, to) = (
        analysis.lv_beats[0].start as usize,
        analysis.lv_beats.last().unwrap().end as usize,
    );
    assert!(to <= 20_000 && to > 18_000 && from > 10_000, "beats {from}..{to}");

    let span = &truth[from..to];
    let mean = |f: &dyn Fn(&Truth) -> f64| span.iter().map(f).sum::<f64>() / span.len() as f64;
    let heart_rate = mean(&|t| t.heart_rate_bpm);
    let hr = value(&analysis, LiveQuantity::HeartRate);
    assert!(
        (hr - heart_rate).abs() < 0.03 * heart_rate,
        "HR {hr} vs truth {heart_rate}"
    );
    let aortic = mean(&|t| t.aortic_pressure_mmhg);
    let map = value(&analysis, LiveQuantity::MeanArterialPressure);
    assert!((map - aortic).abs() < 1.5, "MAP {map} vs truth {aortic}");
    let ratio = mean(&|t| t.distal_pressure_mmhg) / aortic;
    let pd_pa = value(&analysis, LiveQuantity::PdPa);
    assert!((pd_pa - ratio).abs() < 0.02, "Pd/Pa {pd_pa} vs truth {ratio}");
    // It says from when its beats are (a reader checks them against a calibration's time), a plain mean not.
    let from_s = analysis.number(LiveQuantity::PdPa).unwrap().from_s.unwrap();
    assert!(
        from_s >= from as f64 / 1000.0 - 0.05 && from_s < to as f64 / 1000.0,
        "Pd/Pa from {from_s} s, beats {from}..{to}"
    );
    assert_eq!(analysis.number(LiveQuantity::EcmoFlow).unwrap().from_s, None);
    // Stroke volume: the swing of the true LV volume over each beat.
    let swings: Vec<f64> = analysis
        .lv_beats
        .iter()
        .map(|beat| {
            let volumes = truth[beat.start as usize..beat.end as usize]
                .iter()
                .map(|t| t.lv_volume_ml);
            volumes.clone().fold(f64::MIN, f64::max) - volumes.fold(f64::MAX, f64::min)
        })
        .collect();
    let swing = swings.iter().sum::<f64>() / swings.len() as f64;
    let sv = value(&analysis, LiveQuantity::StrokeVolume);
    assert!(
        (sv - swing).abs() < 0.1 * swing,
        "SV {sv} vs true volume swing {swing}"
    );
    let flow = truth[15_000..].iter().map(|t| t.ecmo_flow_l_min).sum::<f64>() / 5000.0;
    let ecmo = value(&analysis, LiveQuantity::EcmoFlow);
    assert!((ecmo - flow).abs() < 0.05, "ECMO {ecmo} vs truth {flow}");
    for quantity in [
        LiveQuantity::Apv,
        LiveQuantity::Lvedp,
        LiveQuantity::Lvesp,
        LiveQuantity::StrokeWork,
    ] {
        assert!(value(&analysis, quantity).is_finite());
    }
}

#[test]
fn online_numbers_say_why_a_signal_is_unusable() {
    let (mut source, _) = simulated_source("shock-ecmo", 16.0);
    // Aortic pressure replaced by white noise around 80 mmHg: MAP and Pd/Pa must not be shown as numbers.
    let pa = source.spec.channel_index(SignalKind::Pa).unwrap();
    let mut state: u64 = 12345;
    let noise: Vec<f32> = (0..16_000)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            80.0 + 20.0 * ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
        })
        .collect();
    source.channels[pa] = RingBuffer::new(16_000);
    source.channels[pa].extend(0, &noise);
    let windows: Vec<SourceWindow> = SourceWindow::newest(&source, online::WINDOW_S)
        .into_iter()
        .collect();
    let analysis = online::analyse(&windows, &AnalysisSettings::default());
    for quantity in [LiveQuantity::MeanArterialPressure, LiveQuantity::PdPa] {
        let reason = analysis.number(quantity).unwrap().value.clone().unwrap_err();
        assert!(reason.starts_with("pa: noise"), "{quantity:?}: {reason}");
    }
    // The other channels still give their numbers.
    assert!(value(&analysis, LiveQuantity::HeartRate) > 30.0);
    assert!(value(&analysis, LiveQuantity::StrokeVolume) > 0.0);
}

#[test]
fn online_analysis_waits_for_a_full_window_before_judging() {
    let (source, _) = simulated_source("shock-ecmo", 1.0);
    let windows: Vec<SourceWindow> = SourceWindow::newest(&source, online::WINDOW_S)
        .into_iter()
        .collect();
    let analysis = online::analyse(&windows, &AnalysisSettings::default());
    assert_eq!(
        (analysis.numbers.len(), analysis.status.as_deref()),
        (0, Some("no beats yet"))
    );
}
