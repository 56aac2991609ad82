//! The recorder: the engine's [`RecordSink`]. A named thread takes [`RecordItem`]s from a bounded queue and
//! commits them in batched transactions (WAL, `synchronous=FULL`), the oldest item waiting at most
//! [`COMMIT_INTERVAL`] before its commit starts.
//!
//! Loss policy: `offer` never blocks; when the queue is full it hands the item back and the engine keeps it in
//! its backlog (>= 60 s, then recorded as a gap). When a commit fails (disk full, I/O error, the file removed)
//! the batch is kept, health becomes `Failed` (the UI shows NOT SAVING), the thread stops taking new items (so
//! the queue and then the engine's backlog hold them) and retries; once writing works again everything held is
//! written. Nothing is dropped here: samples that never arrive are recorded as gaps, and so is any jump in a
//! source's sample index that the source did not report.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior, params};

use super::{CaseFile, StoreError, chain, codec};
use crate::acquisition::{RecordSink, RecorderHealth};
use crate::model::{GapReason, RecordItem, SourceSpec};

/// The longest an item waits in the recorder before the commit that saves it starts.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(250);

/// How often a failed commit is retried.
const RETRY_INTERVAL: Duration = Duration::from_millis(200);

/// How long `finish` keeps retrying a failing disk before it gives up and reports what was not saved.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Recorder settings.
#[derive(Clone, Debug)]
pub struct RecorderOptions {
    /// The longest an item waits before its commit starts.
    pub commit_interval: Duration,
    /// Items the queue holds before `offer` hands them back to the engine.
    pub queue_len: usize,
    /// Longest chunk row, in samples (at most 65536). A real-time recording commits ~250 ms at a time, so its
    /// chunks are that long whatever this says; a faster writer (an import, a benchmark) gets chunks this long.
    pub max_chunk_samples: usize,
    /// Fault injection for tests and drills: while set, every commit fails (and is rolled back) as a full disk
    /// would fail it.
    pub fail_writes: Option<Arc<AtomicBool>>,
}

impl Default for RecorderOptions {
    fn default() -> RecorderOptions {
        RecorderOptions {
            commit_interval: COMMIT_INTERVAL,
            queue_len: 256,
            max_chunk_samples: 4096,
            fail_writes: None,
        }
    }
}

struct Shared {
    health: Mutex<RecorderHealth>,
    num_committed_samples: AtomicU64,
}

impl Shared {
    fn set_health(&self, health: RecorderHealth) {
        *self.health.lock().unwrap_or_else(PoisonError::into_inner) = health;
    }
}

/// A running recorder writing to one case file.
pub struct Recorder {
    tx: SyncSender<RecordItem>,
    shared: Arc<Shared>,
    thread: JoinHandle<Result<(), String>>,
}

impl Recorder {
    /// Starts the recorder thread writing to `file` (opened for writing).
    pub fn start(file: CaseFile, options: RecorderOptions) -> Result<Recorder, StoreError> {
        if !file.writable() {
            return Err(StoreError::ReadOnly);
        }
        let path = file.path().to_owned();
        let identity = file_identity(&path)?;
        let (tx, rx) = sync_channel(options.queue_len.max(1));
        let shared = Arc::new(Shared {
            health: Mutex::new(RecorderHealth::Saving),
            num_committed_samples: AtomicU64::new(0),
        });
        let mut worker = Worker {
            conn: file.conn,
            path,
            identity,
            rx,
            shared: shared.clone(),
            options,
            streams: Vec::new(),
            by_position: HashMap::new(),
            pending: Vec::new(),
            oldest: None,
        };
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || worker.run())
            .map_err(|source| StoreError::Io {
                path: PathBuf::from("recorder thread"),
                source,
            })?;
        Ok(Recorder { tx, shared, thread })
    }

    /// Samples (per channel, summed over sources) committed so far.
    pub fn num_committed_samples(&self) -> u64 {
        self.shared.num_committed_samples.load(Ordering::Relaxed)
    }
}

impl RecordSink for Recorder {
    fn offer(&mut self, item: RecordItem) -> Result<(), RecordItem> {
        self.tx.try_send(item).map_err(|error| match error {
            TrySendError::Full(item) | TrySendError::Disconnected(item) => item,
        })
    }

    fn health(&self) -> RecorderHealth {
        self.shared
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn finish(self: Box<Self>) -> Result<(), String> {
        let Recorder { tx, thread, .. } = *self;
        drop(tx);
        thread
            .join()
            .unwrap_or_else(|_| Err("the recorder thread panicked".into()))
    }
}

/// Identifies the file on disk, to notice it being removed or replaced while the connection still writes to the
/// old inode (which would lose everything at exit).
#[cfg(unix)]
fn file_identity(path: &std::path::Path) -> Result<(u64, u64), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).map_err(StoreError::io(path))?;
    Ok((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &std::path::Path) -> Result<(u64, u64), StoreError> {
    std::fs::metadata(path)
        .map(|_| (0, 0))
        .map_err(StoreError::io(path))
}

/// A source's contiguous sample-index space, one `source` row.
struct Stream {
    /// The `source` row and its channel rows, once committed.
    row: Option<(i64, Vec<i64>)>,
    position: usize,
    spec: SourceSpec,
    first_sample: u64,
    next_sample: u64,
    started_utc: String,
}

/// Work waiting for the next commit.
enum Pending {
    Run {
        stream: usize,
        first_sample: u64,
        channels: Vec<Vec<f32>>,
    },
    Gap {
        stream: usize,
        first_sample: u64,
        num_samples: u64,
        reason: GapReason,
        num_events: u64,
    },
}

/// The stored text of a gap reason and its free-text detail.
fn gap_reason_text(reason: &GapReason) -> (&'static str, Option<&str>) {
    match reason {
        GapReason::DroppedFrames => ("dropped_frames", None),
        GapReason::CorruptFrames => ("corrupt_frames", None),
        GapReason::Disconnected => ("disconnected", None),
        GapReason::RecorderOverflow => ("recorder_overflow", None),
        GapReason::Other(detail) => ("other", Some(detail)),
    }
}

struct Worker {
    conn: Connection,
    path: PathBuf,
    identity: (u64, u64),
    rx: Receiver<RecordItem>,
    shared: Arc<Shared>,
    options: RecorderOptions,
    streams: Vec<Stream>,
    /// Engine source position -> its current stream.
    by_position: HashMap<usize, usize>,
    pending: Vec<Pending>,
    /// When the oldest pending item arrived.
    oldest: Option<Instant>,
}

impl Worker {
    fn run(&mut self) -> Result<(), String> {
        let mut failure: Option<String> = None;
        let mut disconnected = false;
        let mut finish_deadline: Option<Instant> = None;
        loop {
            if failure.is_some() {
                std::thread::sleep(RETRY_INTERVAL);
            } else if !disconnected {
                disconnected = self.receive();
            }
            let due = self
                .oldest
                .is_some_and(|t| t.elapsed() >= self.options.commit_interval);
            if !self.pending.is_empty() && (due || disconnected || failure.is_some()) {
                match self.commit() {
                    Ok(()) => {
                        if failure.take().is_some() {
                            log::info!("the recorder is saving again");
                        }
                        self.shared.set_health(RecorderHealth::Saving);
                    }
                    Err(message) => {
                        if failure.is_none() {
                            log::error!("NOT SAVING: {message}");
                        }
                        self.shared.set_health(RecorderHealth::Failed(message.clone()));
                        failure = Some(message);
                    }
                }
            }
            if disconnected {
                if self.pending.is_empty() {
                    return Ok(());
                }
                let deadline = *finish_deadline.get_or_insert_with(|| Instant::now() + FINISH_TIMEOUT);
                if Instant::now() >= deadline {
                    let num_unsaved: usize = self
                        .pending
                        .iter()
                        .map(|p| match p {
                            Pending::Run { channels, .. } => channels.first().map_or(0, Vec::len),
                            Pending::Gap { .. } => 0,
                        })
                        .sum();
                    return Err(format!(
                        "{num_unsaved} samples could not be saved: {}",
                        failure.as_deref().unwrap_or("writing kept failing")
                    ));
                }
            }
        }
    }

    /// Takes items until the oldest pending one is due for commit. Returns whether the queue has closed.
    fn receive(&mut self) -> bool {
        loop {
            let wait = match self.oldest {
                Some(oldest) => {
                    (oldest + self.options.commit_interval).saturating_duration_since(Instant::now())
                }
                // Nothing pending: wait for the next item (a closed queue wakes the thread at once).
                None => Duration::from_secs(1),
            };
            if self.oldest.is_some() && wait.is_zero() {
                return false;
            }
            match self.rx.recv_timeout(wait) {
                Ok(item) => {
                    let arrived = Instant::now();
                    self.apply(item);
                    // Only items that left something to write start the commit clock (an announcement alone
                    // writes nothing until its samples come).
                    if !self.pending.is_empty() {
                        self.oldest.get_or_insert(arrived);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => return true,
            }
        }
    }

    fn push_gap(&mut self, stream: usize, first_sample: u64, num_samples: u64, reason: GapReason) {
        if num_samples == 0 {
            return;
        }
        if let Some(Pending::Gap {
            stream: s,
            first_sample: f,
            num_samples: n,
            reason: r,
            num_events,
        }) = self.pending.last_mut()
            && *s == stream
            && *f + *n == first_sample
            && *r == reason
        {
            *n += num_samples;
            *num_events += 1;
            return;
        }
        self.pending.push(Pending::Gap {
            stream,
            first_sample,
            num_samples,
            reason,
            num_events: 1,
        });
    }

    fn apply(&mut self, item: RecordItem) {
        match item {
            RecordItem::Source {
                source,
                spec,
                first_sample,
            } => {
                let current = self.by_position.get(&source).copied();
                match current
                    .filter(|&s| self.streams[s].spec == spec && first_sample >= self.streams[s].next_sample)
                {
                    Some(stream) => {
                        // Reconnected with the same channels: the samples in between are a disconnection.
                        let next = self.streams[stream].next_sample;
                        self.push_gap(stream, next, first_sample - next, GapReason::Disconnected);
                        self.streams[stream].next_sample = first_sample;
                    }
                    None => {
                        self.streams.push(Stream {
                            row: None,
                            position: source,
                            spec,
                            first_sample,
                            next_sample: first_sample,
                            started_utc: super::utc_now(),
                        });
                        self.by_position.insert(source, self.streams.len() - 1);
                    }
                }
            }
            RecordItem::Block { source, mut block } => {
                let Some(&stream) = self.by_position.get(&source) else {
                    log::error!(
                        "recorder: block from source {source}, which was never announced; not recorded"
                    );
                    return;
                };
                if block.channels.len() != self.streams[stream].spec.channels.len() {
                    log::error!(
                        "recorder: block with the wrong number of channels from source {source}; not recorded"
                    );
                    return;
                }
                let next = self.streams[stream].next_sample;
                if block.first_sample < next {
                    // A source never goes back in time; keep what is new.
                    let skip = ((next - block.first_sample) as usize).min(block.num_samples());
                    block
                        .channels
                        .iter_mut()
                        .for_each(|samples| drop(samples.drain(..skip)));
                    block.first_sample = next;
                }
                if block.num_samples() == 0 {
                    return;
                }
                let unreported = GapReason::Other("samples skipped without a reported gap".into());
                self.push_gap(stream, next, block.first_sample - next, unreported);
                self.streams[stream].next_sample = block.end_sample();
                // Extend this stream's open run (runs of different sources interleave in `pending`).
                for pending in self.pending.iter_mut().rev() {
                    match pending {
                        Pending::Run {
                            stream: s,
                            first_sample,
                            channels,
                        } if *s == stream => {
                            let run_end = *first_sample + channels.first().map_or(0, Vec::len) as u64;
                            if run_end == block.first_sample {
                                for (run, samples) in channels.iter_mut().zip(block.channels) {
                                    run.extend(samples);
                                }
                                return;
                            }
                            break;
                        }
                        Pending::Gap { stream: s, .. } if *s == stream => break,
                        _ => {}
                    }
                }
                self.pending.push(Pending::Run {
                    stream,
                    first_sample: block.first_sample,
                    channels: block.channels,
                });
            }
            RecordItem::Gap { source, gap } => {
                let Some(&stream) = self.by_position.get(&source) else {
                    log::error!(
                        "recorder: gap from source {source}, which was never announced; not recorded"
                    );
                    return;
                };
                let next = self.streams[stream].next_sample;
                let end = gap.first_sample + gap.num_samples;
                if end <= next {
                    return;
                }
                // A reported gap also explains any unreported jump just before it.
                self.push_gap(stream, next, end - next, gap.reason);
                self.streams[stream].next_sample = end;
            }
        }
    }

    /// Writes everything pending in one transaction. On failure nothing is committed and everything stays
    /// pending.
    fn commit(&mut self) -> Result<(), String> {
        match file_identity(&self.path) {
            Ok(identity) if identity == self.identity => {}
            _ => {
                return Err(format!(
                    "the case file {} was removed or replaced; samples are held in memory only",
                    self.path.display()
                ));
            }
        }
        // Commit start and duration at debug level: the crash test tells slow disk I/O from the design's delay.
        let started = Instant::now();
        log::debug!("commit started");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|error| format!("writing the case file failed: {error}"))?;
        let mut new_rows: Vec<(usize, i64, Vec<i64>)> = Vec::new();
        let mut num_samples = 0u64;
        for pending in &self.pending {
            let stream_index = match pending {
                Pending::Run { stream, .. } | Pending::Gap { stream, .. } => *stream,
            };
            let stream = &self.streams[stream_index];
            let (source_id, channel_ids) = match &stream.row {
                Some((id, channels)) => (*id, channels.clone()),
                None => match new_rows.iter().find(|(s, _, _)| *s == stream_index) {
                    Some((_, id, channels)) => (*id, channels.clone()),
                    None => {
                        let (id, channels) = insert_source(&tx, stream).map_err(write_error)?;
                        new_rows.push((stream_index, id, channels.clone()));
                        (id, channels)
                    }
                },
            };
            match pending {
                Pending::Run {
                    first_sample,
                    channels,
                    ..
                } => {
                    insert_run(
                        &tx,
                        &channel_ids,
                        *first_sample,
                        channels,
                        self.options.max_chunk_samples,
                    )
                    .map_err(write_error)?;
                    num_samples += channels.first().map_or(0, Vec::len) as u64;
                }
                Pending::Gap {
                    first_sample,
                    num_samples,
                    reason,
                    num_events,
                    ..
                } => {
                    let (reason, detail) = gap_reason_text(reason);
                    tx.prepare_cached(
                        "INSERT INTO gap (source_id, first_sample, num_samples, reason, detail, num_events)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .and_then(|mut statement| {
                        statement.execute(params![
                            source_id,
                            first_sample,
                            num_samples,
                            reason,
                            detail,
                            num_events
                        ])
                    })
                    .map_err(write_error)?;
                }
            }
        }
        if self
            .options
            .fail_writes
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            // Dropping the transaction rolls it back, as a failed write would.
            return Err("writing the case file failed: injected write failure (test)".into());
        }
        tx.commit().map_err(write_error)?;
        for (stream, id, channels) in new_rows {
            self.streams[stream].row = Some((id, channels));
        }
        self.pending.clear();
        self.oldest = None;
        self.shared
            .num_committed_samples
            .fetch_add(num_samples, Ordering::Relaxed);
        log::debug!("commit took {} us", started.elapsed().as_micros());
        Ok(())
    }
}

fn write_error(error: rusqlite::Error) -> String {
    format!("writing the case file failed: {error}")
}

fn insert_source(
    tx: &rusqlite::Transaction<'_>,
    stream: &Stream,
) -> Result<(i64, Vec<i64>), rusqlite::Error> {
    tx.execute(
        "INSERT INTO source (position, key, label, sample_rate_hz, first_sample, started_utc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            stream.position,
            stream.spec.id,
            stream.spec.label,
            stream.spec.sample_rate_hz,
            stream.first_sample,
            stream.started_utc
        ],
    )?;
    let source_id = tx.last_insert_rowid();
    let mut channel_ids = Vec::with_capacity(stream.spec.channels.len());
    for (index, channel) in stream.spec.channels.iter().enumerate() {
        tx.execute(
            "INSERT INTO channel (source_id, idx, name, unit) VALUES (?1, ?2, ?3, ?4)",
            params![source_id, index, channel.name, channel.unit],
        )?;
        channel_ids.push(tx.last_insert_rowid());
    }
    Ok((source_id, channel_ids))
}

/// Min and max of the finite samples, if any.
fn min_max(samples: &[f32]) -> Option<(f32, f32)> {
    samples
        .iter()
        .filter(|value| value.is_finite())
        .fold(None, |range, &value| {
            Some(match range {
                None => (value, value),
                Some((lo, hi)) => (value.min(lo), value.max(hi)),
            })
        })
}

fn insert_run(
    tx: &rusqlite::Transaction<'_>,
    channel_ids: &[i64],
    first_sample: u64,
    channels: &[Vec<f32>],
    max_chunk_samples: usize,
) -> Result<(), rusqlite::Error> {
    let chunk_samples = max_chunk_samples.clamp(1, super::read::MAX_CHUNK_SAMPLES as usize);
    let mut statement = tx.prepare_cached(
        "INSERT INTO chunk (channel_id, first_sample, num_samples, min_value, max_value, data, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (&channel_id, samples) in channel_ids.iter().zip(channels) {
        let mut head = chain::stored_head(tx, channel_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        for (index, chunk) in samples.chunks(chunk_samples).enumerate() {
            let range = min_max(chunk);
            let first = first_sample + (index * chunk_samples) as u64;
            let data = codec::encode(chunk);
            head.hash = chain::chunk_hash(&head.hash, first, chunk.len() as u64, &data);
            head.num_chunks += 1;
            statement.execute(params![
                channel_id,
                first,
                chunk.len(),
                range.map(|r| f64::from(r.0)),
                range.map(|r| f64::from(r.1)),
                data,
                head.hash.as_slice()
            ])?;
        }
        chain::store_head(tx, channel_id, &head)?;
    }
    Ok(())
}
