//! The engine thread: receives every source's events, keeps the live ring buffers the UI draws from, and forwards
//! samples to the recorder through a backlog that survives a slow or failing disk for at least
//! [`MIN_BACKLOG_S`] seconds.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::analysis::AnalysisSettings;
use crate::model::{Gap, GapReason, RecordItem};

use super::live_source::LiveSource;
use super::online::{self, LiveAnalysis, SourceWindow};
use super::source::{Source, SourceEvent, SourceSink};

/// The engine keeps at least this many seconds of unrecorded samples in memory before it starts dropping the
/// oldest (and recording the loss as a gap).
pub const MIN_BACKLOG_S: f64 = 60.0;

/// Bound of the source -> engine queue, in events. Sources block when it is full (backpressure, not loss).
const SOURCE_QUEUE_LEN: usize = 256;

/// Bound of the UI -> engine command queue.
const COMMAND_QUEUE_LEN: usize = 16;

/// The UI is woken at most this often.
const REPAINT_INTERVAL: Duration = Duration::from_millis(15);

/// How long the engine waits for the recorder to take the backlog when recording stops.
const FINAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Seconds of history each live ring buffer keeps (the longest sweep the UI can show).
    pub live_window_s: f64,
    /// Seconds of unrecorded samples held in memory when the recorder falls behind (at least [`MIN_BACKLOG_S`]).
    pub backlog_s: f64,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            live_window_s: 30.0,
            backlog_s: 2.0 * MIN_BACKLOG_S,
        }
    }
}

/// Whether the recorder is durably writing.
#[derive(Clone, Debug, PartialEq)]
pub enum RecorderHealth {
    /// Committing normally.
    Saving,
    /// Writing failed (disk full, file removed, I/O error); nothing is being saved.
    Failed(String),
}

/// The recorder as the engine sees it (implemented by the store's recorder).
pub trait RecordSink: Send {
    /// Hands over one item without blocking; gives it back when the recorder cannot take it now.
    fn offer(&mut self, item: RecordItem) -> Result<(), RecordItem>;

    /// Current health of the recorder.
    fn health(&self) -> RecorderHealth;

    /// Called once recording stops, with the items the engine still held because the recorder could not take
    /// them in time (oldest first): commit everything within a bounded time, and record every sample that could
    /// not be saved as a gap. Never waits for ever; an error says what was not saved.
    fn finish(self: Box<Self>, unsent: Vec<RecordItem>) -> Result<(), String>;
}

/// State of the recording path, shown in the top bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordingState {
    /// A recorder is attached.
    pub active: bool,
    /// The recorder has reported a failure (the UI shows NOT SAVING).
    pub failure: Option<String>,
    /// Seconds of samples waiting in memory for the recorder.
    pub backlog_s: f64,
    /// Samples dropped because the backlog overflowed (each recorded as a gap).
    pub num_lost_samples: u64,
}

/// Everything the UI draws from. Shared behind a mutex that the engine holds only briefly.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// One entry per source, in engine order.
    pub sources: Vec<LiveSource>,
    /// The recording path.
    pub recording: RecordingState,
    /// The newest results of the online analysis.
    pub analysis: LiveAnalysis,
}

enum Command {
    StartRecording(Box<dyn RecordSink>),
    StopRecording(SyncSender<Result<(), String>>),
}

/// A running engine and its source threads. Dropping it stops them all.
pub struct Engine {
    state: Arc<Mutex<LiveState>>,
    commands: SyncSender<Command>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Starts one named thread per source and the engine thread. `repaint` is called (at most every ~15 ms)
    /// when there is something new to draw.
    pub fn start(
        sources: Vec<Box<dyn Source>>,
        config: EngineConfig,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Engine> {
        let stop = Arc::new(AtomicBool::new(false));
        let (event_tx, event_rx) = sync_channel(SOURCE_QUEUE_LEN);
        let (command_tx, command_rx) = sync_channel(COMMAND_QUEUE_LEN);
        let state = Arc::new(Mutex::new(LiveState {
            sources: sources
                .iter()
                .map(|source| LiveSource::new(source.spec(), config.live_window_s))
                .collect(),
            recording: RecordingState::default(),
            analysis: LiveAnalysis::default(),
        }));
        let mut threads = Vec::with_capacity(sources.len() + 1);
        for (index, source) in sources.into_iter().enumerate() {
            let sink = SourceSink::new(index, event_tx.clone(), stop.clone());
            let thread = std::thread::Builder::new()
                .name(source.thread_name())
                .spawn(move || source.run(sink))?;
            threads.push(thread);
        }
        drop(event_tx);
        // Newest wins: while the analysis thread is busy, the engine's next window replaces the one it skipped.
        let (analysis_tx, analysis_rx) = sync_channel::<Vec<SourceWindow>>(1);
        let mut worker = Worker {
            state: state.clone(),
            config,
            events: event_rx,
            commands: command_rx,
            repaint,
            stop: stop.clone(),
            recorder: None,
            backlog: VecDeque::new(),
            backlog_samples: Vec::new(),
            last_repaint: Instant::now(),
            dirty: false,
            analysis: analysis_tx,
            last_analysis: Instant::now(),
            analysed_end: 0,
            scratch: Vec::new(),
            last_block_at: Vec::new(),
            lost: Vec::new(),
        };
        let (analysis_state, analysis_repaint) = (state.clone(), worker.repaint.clone());
        threads.push(
            std::thread::Builder::new()
                .name("engine".into())
                .spawn(move || worker.run())?,
        );
        // Ends when the engine thread drops its sender.
        threads.push(
            std::thread::Builder::new()
                .name("analysis".into())
                .spawn(move || {
                    let settings = AnalysisSettings::default();
                    for windows in analysis_rx {
                        let analysis = online::analyse(&windows, &settings);
                        lock(&analysis_state).analysis = analysis;
                        analysis_repaint();
                    }
                })?,
        );
        Ok(Engine {
            state,
            commands: command_tx,
            stop,
            threads,
        })
    }

    /// The shared live state. Lock it briefly (to draw one frame), never across I/O.
    pub fn state(&self) -> &Arc<Mutex<LiveState>> {
        &self.state
    }

    /// Locks the live state (recovering it if a thread panicked while holding it).
    pub fn lock(&self) -> MutexGuard<'_, LiveState> {
        lock(&self.state)
    }

    /// Starts sending every source's samples to `sink`, from the next sample on.
    pub fn start_recording(&self, sink: Box<dyn RecordSink>) -> Result<(), String> {
        self.commands
            .send(Command::StartRecording(sink))
            .map_err(|_| "the engine has stopped".to_owned())
    }

    /// Stops recording: hands the whole backlog to the recorder, lets it commit, and reports how that went.
    /// Blocks until then (at most ~30 s); call it from a worker, not the UI thread.
    pub fn stop_recording(&self) -> Result<(), String> {
        let (reply_tx, reply_rx) = sync_channel(1);
        self.commands
            .send(Command::StopRecording(reply_tx))
            .map_err(|_| "the engine has stopped".to_owned())?;
        reply_rx
            .recv()
            .map_err(|_| "the engine stopped while finishing the recording".to_owned())?
    }

    /// Whether every source has finished (replays only; live sources never finish).
    pub fn all_finished(&self) -> bool {
        self.lock().sources.iter().all(|source| source.finished)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                log::error!("an acquisition thread panicked");
            }
        }
    }
}

/// The gap of source `source`, silent since `since`, from its end sample `end`: the samples it would have delivered at
/// `rate_hz` until now.
fn silent_gap(source: usize, since: Instant, end: u64, rate_hz: f64) -> Option<RecordItem> {
    let num_samples = (since.elapsed().as_secs_f64() * rate_hz).round() as u64;
    (num_samples > 0).then_some(RecordItem::Gap {
        source,
        gap: Gap {
            first_sample: end,
            num_samples,
            reason: GapReason::Disconnected,
        },
    })
}

fn lock(state: &Mutex<LiveState>) -> MutexGuard<'_, LiveState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Worker {
    state: Arc<Mutex<LiveState>>,
    config: EngineConfig,
    events: Receiver<(usize, SourceEvent)>,
    commands: Receiver<Command>,
    repaint: Arc<dyn Fn() + Send + Sync>,
    stop: Arc<AtomicBool>,
    recorder: Option<Box<dyn RecordSink>>,
    /// Items not yet taken by the recorder, oldest first.
    backlog: VecDeque<RecordItem>,
    /// Samples per source in `backlog`.
    backlog_samples: Vec<u64>,
    last_repaint: Instant,
    dirty: bool,
    /// The analysis thread's queue (one window set; newest wins).
    analysis: SyncSender<Vec<SourceWindow>>,
    last_analysis: Instant,
    /// Sum of the sources' end samples at the last analysis (nothing new, nothing to analyse).
    analysed_end: u64,
    /// A block's channel being calibrated for the ring buffers.
    scratch: Vec<f32>,
    /// Per source: when its newest block arrived.
    last_block_at: Vec<Option<Instant>>,
    /// Per source that was delivering and lost its link: since when nothing arrived, and its end sample then.
    lost: Vec<Option<(Instant, u64)>>,
}

impl Worker {
    fn run(&mut self) {
        while !self.stop.load(Ordering::Relaxed) {
            match self.events.recv_timeout(Duration::from_millis(10)) {
                Ok((source, event)) => {
                    self.handle_event(source, event);
                    // Take whatever else is queued before doing the per-wakeup work.
                    for _ in 0..SOURCE_QUEUE_LEN {
                        match self.events.try_recv() {
                            Ok((source, event)) => self.handle_event(source, event),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // Every source has returned; keep serving commands until stopped.
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            self.handle_commands();
            self.drain_backlog();
            self.update_recording_state();
            self.offer_analysis();
            if self.dirty && self.last_repaint.elapsed() >= REPAINT_INTERVAL {
                (self.repaint)();
                self.dirty = false;
                self.last_repaint = Instant::now();
            }
        }
        if self.recorder.is_some()
            && let Err(message) = self.finish_recording()
        {
            log::error!("recording did not finish cleanly: {message}");
        }
    }

    /// Every [`online::INTERVAL`], hands the newest window of every source to the analysis thread, unless nothing
    /// arrived since the last one. A window the busy thread cannot take is dropped: the next one is fresher.
    fn offer_analysis(&mut self) {
        if self.last_analysis.elapsed() < online::INTERVAL {
            return;
        }
        self.last_analysis = Instant::now();
        let windows: Vec<SourceWindow> = {
            let state = lock(&self.state);
            let end: u64 = state.sources.iter().map(LiveSource::end_sample).sum();
            if end == self.analysed_end {
                return;
            }
            self.analysed_end = end;
            state
                .sources
                .iter()
                .filter_map(|source| SourceWindow::newest(source, online::WINDOW_S))
                .collect()
        };
        match self.analysis.try_send(windows) {
            Ok(()) | Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => log::error!("the analysis thread has stopped"),
        }
    }

    fn handle_event(&mut self, index: usize, event: SourceEvent) {
        self.dirty = true;
        let mut state = lock(&self.state);
        let Some(source) = state.sources.get_mut(index) else {
            log::error!("event from unknown source {index}");
            return;
        };
        if self.lost.len() <= index {
            self.lost.resize(index + 1, None);
            self.last_block_at.resize(index + 1, None);
        }
        // A source that comes back counting from an earlier sample (a restarted console) starts a new stream:
        // the old one's silence until now is recorded as its gap, at the old stream's rate.
        let mut lost_gap = None;
        let item = match event {
            SourceEvent::Connected { spec, first_sample } => {
                if let Some((since, end)) = self.lost[index].take()
                    && (spec != source.spec || first_sample < end)
                {
                    lost_gap = silent_gap(index, since, end, source.spec.sample_rate_hz);
                }
                if spec != source.spec || first_sample < source.end_sample() {
                    let mut fresh = LiveSource {
                        finished: source.finished,
                        ..LiveSource::new(spec.clone(), self.config.live_window_s)
                    };
                    fresh.carry_calibrations(source, first_sample);
                    *source = fresh;
                    for ring in &mut source.channels {
                        ring.reset(first_sample);
                    }
                }
                source.connected = true;
                source.disconnect_reason = None;
                Some(RecordItem::Source {
                    source: index,
                    spec,
                    first_sample,
                })
            }
            SourceEvent::Block(block) => {
                if block.channels.len() != source.channels.len() {
                    log::error!(
                        "source {} sent {} channels, expected {}; block ignored",
                        source.spec.id,
                        block.channels.len(),
                        source.channels.len()
                    );
                    return;
                }
                let calibrated = source.channels.iter_mut().zip(&source.calibrations);
                for ((ring, calibration), samples) in calibrated.zip(&block.channels) {
                    if calibration.is_identity() {
                        ring.extend(block.first_sample, samples);
                    } else {
                        self.scratch.clear();
                        self.scratch.extend_from_slice(samples);
                        calibration.apply_all(&mut self.scratch);
                        ring.extend(block.first_sample, &self.scratch);
                    }
                }
                source.num_samples += block.num_samples() as u64;
                self.last_block_at[index] = Some(Instant::now());
                Some(RecordItem::Block { source: index, block })
            }
            SourceEvent::Gap(gap) => {
                source.num_dropped_samples += gap.num_samples;
                Some(RecordItem::Gap { source: index, gap })
            }
            SourceEvent::Disconnected { reason } => {
                if source.connected
                    && let Some(since) = self.last_block_at[index]
                {
                    self.lost[index] = Some((since, source.end_sample()));
                }
                source.connected = false;
                source.disconnect_reason = Some(reason);
                None
            }
            SourceEvent::Status(status) => {
                source.status = status;
                None
            }
            SourceEvent::Finished => {
                source.finished = true;
                source.connected = false;
                None
            }
        };
        drop(state);
        if self.recorder.is_some() {
            for item in [lost_gap, item].into_iter().flatten() {
                self.push_backlog(item);
            }
        }
    }

    fn handle_commands(&mut self) {
        loop {
            match self.commands.try_recv() {
                Ok(Command::StartRecording(sink)) => {
                    if self.recorder.is_some() {
                        log::warn!("recording already active; second recorder ignored");
                        continue;
                    }
                    self.recorder = Some(sink);
                    self.backlog.clear();
                    // Silence before this recording is not this recording's gap.
                    self.lost.iter_mut().for_each(|lost| *lost = None);
                    let state = lock(&self.state);
                    self.backlog_samples = vec![0; state.sources.len()];
                    // The recorder learns every source that is already delivering.
                    let announcements: Vec<RecordItem> = state
                        .sources
                        .iter()
                        .enumerate()
                        .filter(|(_, source)| source.connected)
                        .map(|(index, source)| RecordItem::Source {
                            source: index,
                            spec: source.spec.clone(),
                            first_sample: source.end_sample(),
                        })
                        .collect();
                    drop(state);
                    self.backlog.extend(announcements);
                }
                Ok(Command::StopRecording(reply)) => {
                    let result = self.finish_recording();
                    // The caller may have given up waiting; nothing to do then.
                    let _ = reply.send(result);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }

    fn push_backlog(&mut self, item: RecordItem) {
        if let RecordItem::Block { source, block } = &item
            && let Some(count) = self.backlog_samples.get_mut(*source)
        {
            *count += block.num_samples() as u64;
        }
        self.backlog.push_back(item);
        self.enforce_backlog_limit();
    }

    /// Drops the oldest blocks of any source whose backlog exceeds the limit, recording each loss as a gap.
    fn enforce_backlog_limit(&mut self) {
        let limit_s = self.config.backlog_s.max(MIN_BACKLOG_S);
        let rates: Vec<f64> = lock(&self.state)
            .sources
            .iter()
            .map(|s| s.spec.sample_rate_hz)
            .collect();
        for (source, rate) in rates.into_iter().enumerate() {
            while self
                .backlog_samples
                .get(source)
                .is_some_and(|&n| n as f64 / rate > limit_s)
            {
                let Some(position) = self
                    .backlog
                    .iter()
                    .position(|item| matches!(item, RecordItem::Block { source: s, .. } if *s == source))
                else {
                    break;
                };
                let RecordItem::Block { block, .. } = &self.backlog[position] else {
                    break;
                };
                let gap = Gap {
                    first_sample: block.first_sample,
                    num_samples: block.num_samples() as u64,
                    reason: GapReason::RecorderOverflow,
                };
                self.backlog_samples[source] -= gap.num_samples;
                lock(&self.state).recording.num_lost_samples += gap.num_samples;
                self.backlog[position] = RecordItem::Gap { source, gap };
            }
        }
    }

    fn drain_backlog(&mut self) {
        let Some(recorder) = self.recorder.as_mut() else {
            return;
        };
        while let Some(item) = self.backlog.pop_front() {
            let num_samples = item.num_samples() as u64;
            let source = match &item {
                RecordItem::Block { source, .. } => Some(*source),
                _ => None,
            };
            match recorder.offer(item) {
                Ok(()) => {
                    if let Some(count) = source.and_then(|s| self.backlog_samples.get_mut(s)) {
                        *count -= num_samples;
                    }
                }
                Err(item) => {
                    self.backlog.push_front(item);
                    break;
                }
            }
        }
    }

    fn update_recording_state(&mut self) {
        let health = self.recorder.as_ref().map(|recorder| recorder.health());
        let mut state = lock(&self.state);
        let backlog_s = state
            .sources
            .iter()
            .zip(&self.backlog_samples)
            .map(|(source, &n)| n as f64 / source.spec.sample_rate_hz)
            .fold(0.0, f64::max);
        let recording = &mut state.recording;
        let failure = match health {
            Some(RecorderHealth::Failed(message)) => Some(message),
            _ => None,
        };
        if recording.failure != failure {
            self.dirty = true;
        }
        recording.active = self.recorder.is_some();
        recording.failure = failure;
        recording.backlog_s = backlog_s;
    }

    fn finish_recording(&mut self) -> Result<(), String> {
        // A source still lost when recording stops: its silence up to now is a gap.
        let rates: Vec<f64> = lock(&self.state)
            .sources
            .iter()
            .map(|source| source.spec.sample_rate_hz)
            .collect();
        let still_lost: Vec<RecordItem> = self
            .lost
            .iter()
            .zip(&rates)
            .enumerate()
            .filter_map(|(index, (lost, &rate))| {
                let (since, end) = (*lost)?;
                silent_gap(index, since, end, rate)
            })
            .collect();
        for item in still_lost {
            self.push_backlog(item);
        }
        let deadline = Instant::now() + FINAL_FLUSH_TIMEOUT;
        while !self.backlog.is_empty() && Instant::now() < deadline {
            self.drain_backlog();
            if self
                .recorder
                .as_ref()
                .is_some_and(|r| matches!(r.health(), RecorderHealth::Failed(_)))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // Whatever the recorder could not take goes with the finish: saved if writing works, a gap if not.
        let unsent: Vec<RecordItem> = self.backlog.drain(..).collect();
        self.backlog_samples.iter_mut().for_each(|n| *n = 0);
        let result = match self.recorder.take() {
            Some(recorder) => recorder.finish(unsent),
            None => Ok(()),
        };
        self.update_recording_state();
        self.dirty = true;
        result
    }
}
