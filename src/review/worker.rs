//! The review session on its own named thread, so the UI never waits for SQLite or the analysis pipeline.
//!
//! On start the worker opens the case read-only and sends the channel [`Track`]s at once (the overview is drawn
//! from them while the rest loads), then opens the session (validating and, when needed, analysing the case) and
//! sends the first [`Snapshot`]. After that it applies [`Request`]s in order and answers each one.
//!
//! Queues: requests are bounded at [`REQUEST_QUEUE_LEN`]; the UI sends an edit only while the worker is idle, and
//! a preview only when the queue has room (a dropped preview is superseded by the next drag step anyway).
//! Replies are bounded at [`REPLY_QUEUE_LEN`]; the worker waits while the UI has not taken them (no loss). Of
//! several previews waiting, only the newest is computed.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::JoinHandle;

use super::analysis::ReviewError;
use super::session::{Applied, Edit, ReviewSession, Snapshot};
use super::tracks::Track;
use super::waveforms::{Waveforms, waveforms};
use crate::analysis::pv::relations::EspvrFit;
use crate::store::CaseFile;

/// Requests waiting for the worker.
pub const REQUEST_QUEUE_LEN: usize = 8;
/// Replies waiting for the UI.
pub const REPLY_QUEUE_LEN: usize = 4;

/// What the UI asks of the worker.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Apply an edit with its reason.
    Apply(Edit, String),
    /// Take back the last undoable edit.
    Undo,
    /// Compute the ESPVR of these occlusion beats without storing it (the live preview while dragging).
    Preview {
        /// The preload-reduction window.
        window_id: i64,
        /// First and last beat.
        beats: (u32, u32),
    },
}

/// What the worker answers.
#[derive(Debug)]
pub enum Reply {
    /// The channels, read from the chunk summaries (before anything else).
    Tracks(Result<Vec<Track>, String>),
    /// The case as it stands, with its averaged waveforms, after opening or after an edit; `applied` says how
    /// the edit went (`None` after opening).
    Snapshot {
        /// The case.
        snapshot: Box<Snapshot>,
        /// Averaged waveforms for the comparison view.
        waveforms: Box<Waveforms>,
        /// The edit's outcome.
        applied: Option<Result<Applied, String>>,
    },
    /// Opening or an edit failed before a snapshot could be made.
    Failed(String),
    /// A preview's answer.
    Preview {
        /// The window.
        window_id: i64,
        /// The beats previewed.
        beats: (u32, u32),
        /// The fit, none (with the reason in the report), or an error.
        fit: Result<Option<EspvrFit>, String>,
    },
}

/// The worker thread and its queues.
pub struct ReviewWorker {
    requests: Option<SyncSender<Request>>,
    replies: Option<Receiver<Reply>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ReviewWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewWorker").finish_non_exhaustive()
    }
}

/// The tracks of every channel of the case at `path` (opened read-only, chunk summaries only).
pub fn open_tracks(path: &Path) -> Result<Vec<Track>, ReviewError> {
    let file = CaseFile::open_read_only(path)?;
    let channels = file.channels()?;
    channels
        .into_iter()
        .map(|channel| Ok(Track::open(&file, channel)?))
        .collect()
}

fn snapshot_reply(session: &ReviewSession, applied: Option<Result<Applied, String>>) -> Reply {
    let made = session
        .snapshot()
        .and_then(|snapshot| Ok((waveforms(session.file(), &snapshot.analysis)?, snapshot)));
    match made {
        Ok((waveforms, snapshot)) => Reply::Snapshot {
            snapshot: Box::new(snapshot),
            waveforms: Box::new(waveforms),
            applied,
        },
        Err(error) => Reply::Failed(error.to_string()),
    }
}

fn run(
    path: PathBuf,
    reviewer: String,
    requests: Receiver<Request>,
    replies: SyncSender<Reply>,
    wake: Box<dyn Fn() + Send>,
) {
    let send = |reply: Reply| {
        let sent = replies.send(reply).is_ok();
        wake();
        sent
    };
    if !send(Reply::Tracks(open_tracks(&path).map_err(|e| e.to_string()))) {
        return;
    }
    let mut session = match ReviewSession::open(&path, &reviewer) {
        Ok(session) => session,
        Err(error) => {
            send(Reply::Failed(error.to_string()));
            return;
        }
    };
    if !send(snapshot_reply(&session, None)) {
        return;
    }
    let mut waiting: Option<Request> = None;
    loop {
        let request = match waiting.take() {
            Some(request) => request,
            None => match requests.recv() {
                Ok(request) => request,
                Err(_) => return,
            },
        };
        let reply = match request {
            Request::Apply(edit, reason) => {
                let applied = session.apply(edit, &reason).map_err(|e| e.to_string());
                snapshot_reply(&session, Some(applied))
            }
            Request::Undo => {
                let applied = session
                    .undo()
                    .map_err(|e| e.to_string())
                    .and_then(|done| done.ok_or_else(|| "nothing to undo".to_owned()));
                snapshot_reply(&session, Some(applied))
            }
            Request::Preview {
                mut window_id,
                mut beats,
            } => {
                // Only the newest of the previews waiting matters; anything else is kept for the next turn.
                loop {
                    match requests.try_recv() {
                        Ok(Request::Preview {
                            window_id: w,
                            beats: b,
                        }) => (window_id, beats) = (w, b),
                        Ok(other) => {
                            waiting = Some(other);
                            break;
                        }
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                Reply::Preview {
                    window_id,
                    beats,
                    fit: session
                        .preview_occlusion(window_id, beats)
                        .map_err(|e| e.to_string()),
                }
            }
        };
        if !send(reply) {
            return;
        }
    }
}

impl ReviewWorker {
    /// Starts the worker on the case file at `path` for reviewer `reviewer`; `wake` is called after each reply
    /// (the UI's repaint request).
    pub fn start(path: &Path, reviewer: &str, wake: Box<dyn Fn() + Send>) -> std::io::Result<ReviewWorker> {
        let (request_tx, request_rx) = sync_channel(REQUEST_QUEUE_LEN);
        let (reply_tx, reply_rx) = sync_channel(REPLY_QUEUE_LEN);
        let (path, reviewer) = (path.to_owned(), reviewer.to_owned());
        let thread = std::thread::Builder::new()
            .name("review-worker".into())
            .spawn(move || run(path, reviewer, request_rx, reply_tx, wake))?;
        Ok(ReviewWorker {
            requests: Some(request_tx),
            replies: Some(reply_rx),
            thread: Some(thread),
        })
    }

    /// Sends `request`; `false` when the queue is full or the worker stopped (the caller says so).
    pub fn send(&self, request: Request) -> bool {
        match &self.requests {
            Some(requests) => match requests.try_send(request) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        }
    }

    /// The next reply, if one is waiting.
    pub fn try_reply(&self) -> Option<Reply> {
        self.replies.as_ref()?.try_recv().ok()
    }
}

impl Drop for ReviewWorker {
    fn drop(&mut self) {
        // Closing both queues ends the loop whether the worker waits for a request or to deliver a reply; an edit
        // in progress finishes first (it is one transaction).
        self.requests.take();
        self.replies.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
