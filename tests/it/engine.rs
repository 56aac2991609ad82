//! The acquisition engine through its public API: blocks from several sources land in the live ring buffers at
//! their sample indices, gaps are counted, a refusing recorder's backlog overflows into recorded gaps, and the
//! UI's repaint requests are coalesced. Sources here are scripted test sources with known content.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heracles::acquisition::{
    Engine, EngineConfig, LiveState, RecordSink, RecorderHealth, Source, SourceEvent, SourceSink,
};
use heracles::model::{Block, ChannelSpec, Gap, GapReason, RecordItem, SignalKind, SourceSpec};

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

    fn finish(self: Box<Self>) -> Result<(), String> {
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
