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
//!
//! Finishing is bounded: `finish` hands over what the engine still holds, and the thread keeps trying for
//! [`FINISH_TIMEOUT`]; then every sample it could not save becomes a `not_saved` gap (a small write that often
//! still fits on a full disk) and `finish` reports how many samples were lost, so `heracles record` exits
//! non-zero instead of waiting for ever.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel};
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
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the recorder anchors every channel's chain head in the audit trail (and always at the end), so
/// that deleting the newest chunks and rewinding a channel's head shows (see `verify`).
pub const ANCHOR_INTERVAL: Duration = Duration::from_secs(60);

/// Who the recorder's audit rows name.
const RECORDER: &str = "recorder";

/// The stored detail of the gap recording samples the recorder had but could not write.
pub const NOT_SAVED: &str = "not saved: the case file could not be written";

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
    /// Fault injection for tests and drills: while set, every commit that stores samples fails (and is rolled
    /// back) as a full disk fails it; a commit of gap rows alone (a few hundred bytes) still goes through, as it
    /// usually does on a full disk whose write-ahead log has been reset.
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
    /// Set by `finish`: the queue is about to close, stop waiting for it.
    finishing: AtomicBool,
    /// What the engine could not hand over before `finish` (taken once the queue has closed).
    unsent: Mutex<Vec<RecordItem>>,
    /// A request to continue in another folder (see [`Relocator`]), with where to answer.
    relocate: Mutex<Option<RelocateRequest>>,
}

/// A folder to continue in, and where to answer with the new path or why not.
type RelocateRequest = (PathBuf, SyncSender<Result<PathBuf, String>>);

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
            finishing: AtomicBool::new(false),
            unsent: Mutex::new(Vec::new()),
            relocate: Mutex::new(None),
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
            last_anchor: None,
            unanchored: false,
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

    /// A handle that can move the recording to another folder while the engine owns the recorder.
    pub fn relocator(&self) -> Relocator {
        Relocator {
            shared: self.shared.clone(),
        }
    }
}

/// Moves a running recording to another folder: for when its case file cannot be written (a full disk, the file
/// removed, an I/O error). The recorder copies the case as committed (through its open connection, so a removed
/// file's content is still there) into a new file of the same name in the folder, appends a `relocate_case`
/// audit row saying from where, to where and why, and goes on there, writing everything it held in memory. The
/// old file is left as it was (the state before the failure); the new one is the case.
#[derive(Clone)]
pub struct Relocator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Relocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relocator").finish_non_exhaustive()
    }
}

/// The audit action of a recording moved to another folder.
pub const RELOCATE_ACTION: &str = "relocate_case";

/// How long [`Relocator::relocate`] waits for the recorder (which checks for a request between commits).
pub const RELOCATE_TIMEOUT: Duration = Duration::from_secs(30);

impl Relocator {
    /// Asks the recorder to continue in `folder`; returns the new case file's path, or why not (the recording
    /// then goes on where it was). Waits at most [`RELOCATE_TIMEOUT`].
    pub fn relocate(&self, folder: &std::path::Path) -> Result<PathBuf, String> {
        let (answer, answered) = sync_channel(1);
        *self
            .shared
            .relocate
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((folder.to_owned(), answer));
        answered
            .recv_timeout(RELOCATE_TIMEOUT)
            .map_err(|_| "the recorder did not answer (the recording has ended?)".to_owned())?
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

    fn finish(self: Box<Self>, unsent: Vec<RecordItem>) -> Result<(), String> {
        let Recorder { tx, thread, shared } = *self;
        *shared.unsent.lock().unwrap_or_else(PoisonError::into_inner) = unsent;
        shared.finishing.store(true, Ordering::Relaxed);
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
    /// When the chain heads were last anchored in the audit trail.
    last_anchor: Option<Instant>,
    /// Whether samples were committed since the last anchor.
    unanchored: bool,
}

impl Worker {
    fn run(&mut self) -> Result<(), String> {
        let mut failure: Option<String> = None;
        let mut disconnected = false;
        let mut finish_deadline: Option<Instant> = None;
        loop {
            let request = self
                .shared
                .relocate
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some((folder, answer)) = request {
                let moved = self.relocate(&folder, failure.as_deref());
                match &moved {
                    Ok(path) => log::warn!("recording continues in {}", path.display()),
                    Err(message) => log::error!("the recording could not be moved: {message}"),
                }
                // The asker may have given up waiting; the outcome is in the log and the audit trail.
                let _ = answer.try_send(moved);
            }
            if failure.is_some() && !disconnected && self.shared.finishing.load(Ordering::Relaxed) {
                // Finishing while failing: take what is left in the queue now (it will not be retried forever).
                disconnected = self.take_rest();
            } else if failure.is_some() {
                std::thread::sleep(RETRY_INTERVAL);
            } else if !disconnected {
                disconnected = self.receive();
                if disconnected {
                    self.take_unsent();
                }
            }
            let due = self
                .oldest
                .is_some_and(|t| t.elapsed() >= self.options.commit_interval);
            if !self.pending.is_empty() && (due || disconnected || failure.is_some()) {
                match self.commit(disconnected) {
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
                    // The end of the recording: anchor the final heads unless the last commit did.
                    if self.unanchored
                        && let Err(message) = self.commit(true)
                    {
                        log::warn!("the final chain heads could not be anchored: {message}");
                    }
                    return Ok(());
                }
                let deadline = *finish_deadline.get_or_insert_with(|| Instant::now() + FINISH_TIMEOUT);
                if Instant::now() >= deadline {
                    return Err(self.give_up(failure.as_deref().unwrap_or("writing kept failing")));
                }
            }
        }
    }

    /// Copies the case as committed into `folder` (a new file of the same name, made under a temporary name and
    /// renamed into place), records the move in its audit trail and continues there. `failure` is why.
    fn relocate(&mut self, folder: &std::path::Path, failure: Option<&str>) -> Result<PathBuf, String> {
        let name = self
            .path
            .file_name()
            .ok_or_else(|| "the case file has no name".to_owned())?;
        let target = folder.join(name);
        if target.exists() {
            return Err(format!("{} already exists", target.display()));
        }
        if !folder.is_dir() {
            return Err(format!("{} is not a folder", folder.display()));
        }
        let mut staging_name = std::ffi::OsString::from(".");
        staging_name.push(name);
        staging_name.push(format!(".relocating-{}", std::process::id()));
        let staging = folder.join(staging_name);
        let _ = std::fs::remove_file(&staging);
        let copied = self
            .conn
            .execute("VACUUM INTO ?1", [staging.to_string_lossy()])
            .map_err(|error| format!("copying the case into {} failed: {error}", folder.display()));
        if let Err(message) = copied {
            let _ = std::fs::remove_file(&staging);
            return Err(message);
        }
        std::fs::rename(&staging, &target).map_err(|error| {
            let _ = std::fs::remove_file(&staging);
            format!("{}: {error}", target.display())
        })?;
        let mut file = CaseFile::open(&target).map_err(|error| error.to_string())?;
        let why = failure.unwrap_or("moved by the operator");
        let record = serde_json::json!({
            "from": self.path.display().to_string(),
            "to": target.display().to_string(),
            "failure": why,
        });
        let noted = file
            .writable_conn()
            .map_err(|error| error.to_string())
            .and_then(|conn| {
                let tx = conn.transaction().map_err(|error| error.to_string())?;
                super::audit::append(
                    &tx,
                    super::audit::Edit {
                        who: RECORDER,
                        action: RELOCATE_ACTION,
                        entity: "case_file",
                        entity_id: None,
                        old_value: None,
                        new_value: Some(record.to_string()),
                        reason: &format!(
                            "the case file {} could not be written ({why}); the recording continues in {}, with \
                             everything held in memory",
                            self.path.display(),
                            target.display()
                        ),
                    },
                )
                .map_err(|error| error.to_string())?;
                tx.commit().map_err(|error| error.to_string())
            });
        if let Err(message) = noted {
            drop(file);
            let _ = std::fs::remove_file(&target);
            return Err(format!("{}: {message}", target.display()));
        }
        self.identity = file_identity(&target).map_err(|error| error.to_string())?;
        self.conn = file.conn;
        self.path = target.clone();
        // Commit what is held at once.
        if !self.pending.is_empty() {
            self.oldest.get_or_insert_with(Instant::now);
        }
        Ok(target)
    }

    /// Takes every item still queued without waiting; once the queue has closed, also what the engine handed to
    /// `finish`. Returns whether the queue has closed.
    fn take_rest(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(item) => self.apply(item),
                Err(TryRecvError::Empty) => {
                    std::thread::sleep(Duration::from_millis(5));
                    return false;
                }
                Err(TryRecvError::Disconnected) => {
                    self.take_unsent();
                    return true;
                }
            }
        }
    }

    /// Applies what the engine handed to `finish` (after everything that came through the queue).
    fn take_unsent(&mut self) {
        let unsent = std::mem::take(&mut *self.shared.unsent.lock().unwrap_or_else(PoisonError::into_inner));
        if !unsent.is_empty() {
            self.oldest.get_or_insert_with(Instant::now);
        }
        for item in unsent {
            self.apply(item);
        }
    }

    /// Writing never worked again before the deadline: turns every pending run into a [`NOT_SAVED`] gap, tries
    /// once more to commit (gap rows alone), and returns the message `finish` reports.
    fn give_up(&mut self, failure: &str) -> String {
        let mut num_unsaved = 0u64;
        let pending = std::mem::take(&mut self.pending);
        for item in pending {
            match item {
                Pending::Run {
                    stream,
                    first_sample,
                    channels,
                } => {
                    let num_samples = channels.first().map_or(0, Vec::len) as u64;
                    num_unsaved += num_samples;
                    self.push_gap(
                        stream,
                        first_sample,
                        num_samples,
                        GapReason::Other(NOT_SAVED.into()),
                    );
                }
                gap => self.pending.push(gap),
            }
        }
        let gap_note = match self.commit(true) {
            Ok(()) => "recorded as a gap".to_owned(),
            Err(error) => format!("the gap could not be recorded either: {error}"),
        };
        format!("{num_unsaved} samples per channel could not be saved ({failure}); {gap_note}")
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

    /// Writes everything pending in one transaction, each gap with its audit row, and every
    /// [`ANCHOR_INTERVAL`] (or when `anchor` is set: the last commit) the chain heads of every channel as an
    /// audit row. On failure nothing is committed and everything stays pending.
    fn commit(&mut self, anchor: bool) -> Result<(), String> {
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
                    // Audited like an edit: a gap's count, reason or detail changed later shows in `verify`.
                    let gap_id = tx.last_insert_rowid();
                    let new_value =
                        super::edits::entity_json(&tx, "gap", gap_id).map_err(|e| e.to_string())?;
                    super::audit::append(
                        &tx,
                        super::audit::Edit {
                            who: RECORDER,
                            action: "record_gap",
                            entity: "gap",
                            entity_id: Some(gap_id),
                            old_value: None,
                            new_value,
                            reason: "samples that were not recorded",
                        },
                    )
                    .map_err(|e| format!("writing the case file failed: {e}"))?;
                }
            }
        }
        let anchor_due = self.last_anchor.is_none_or(|at| at.elapsed() >= ANCHOR_INTERVAL);
        if anchor || anchor_due {
            anchor_heads(&tx).map_err(|e| format!("writing the case file failed: {e}"))?;
        }
        if num_samples > 0
            && self
                .options
                .fail_writes
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            // Dropping the transaction rolls it back, as a failed write would.
            return Err("writing the case file failed: injected write failure (test)".into());
        }
        tx.commit().map_err(write_error)?;
        if anchor || anchor_due {
            self.last_anchor = Some(Instant::now());
            self.unanchored = false;
        } else {
            self.unanchored = true;
        }
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

/// Appends an `anchor_samples` audit row holding every channel's chunk count and chain head (hex), so a head
/// rewound later to hide removed chunks disagrees with the audit trail.
fn anchor_heads(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let channel_ids: Vec<i64> = tx
        .prepare_cached("SELECT id FROM channel ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut heads = serde_json::Map::new();
    for channel_id in channel_ids {
        if let Some(head) = chain::stored_head(tx, channel_id)? {
            heads.insert(
                channel_id.to_string(),
                serde_json::json!([head.num_chunks, chain::hex(&head.hash)]),
            );
        }
    }
    // Gap rows written before gaps were audited (a case begun by an older heracles) are not expected to have
    // audit rows; every later one is.
    let legacy_gaps: Option<i64> = tx.query_row(
        "SELECT max(id) FROM gap WHERE id NOT IN
           (SELECT entity_id FROM audit WHERE action = 'record_gap' AND entity_id IS NOT NULL)",
        [],
        |row| row.get(0),
    )?;
    let anchor = serde_json::json!({ "channels": heads, "legacy_gaps": legacy_gaps.unwrap_or(0) });
    super::audit::append(
        tx,
        super::audit::Edit {
            who: RECORDER,
            action: ANCHOR_ACTION,
            entity: "recording",
            entity_id: None,
            old_value: None,
            new_value: Some(anchor.to_string()),
            reason: "chain heads of the samples so far",
        },
    )
}

/// The audit action of the recorder's chain-head anchors.
pub(crate) const ANCHOR_ACTION: &str = "anchor_samples";

/// The audit actions the recorder writes (gaps, chain-head anchors, a move to another folder): they record how the samples were
/// stored and change no result, so a signature given while recording goes on stays valid.
pub const RECORDER_ACTIONS: [&str; 3] = ["record_gap", ANCHOR_ACTION, RELOCATE_ACTION];

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
