//! Loads tiles of samples for the review screen on a named thread with its own read-only connection, so the UI
//! never waits for SQLite.
//!
//! Requests go through a bounded queue of [`REQUEST_QUEUE_LEN`]; when it is full a request is dropped and
//! forgotten (the view asks again on its next frame while the tile is still missing). Loaded tiles come back
//! through a bounded queue of [`RESULT_QUEUE_LEN`]; the loader waits while it is full (no loss), and the UI
//! drains it each frame within a time budget.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::tracks::{TileData, Track, load_tile};
use crate::store::{CaseFile, ChannelInfo};

/// Requests waiting for the loader.
pub const REQUEST_QUEUE_LEN: usize = 64;
/// Loaded tiles waiting for the UI.
pub const RESULT_QUEUE_LEN: usize = 16;

/// What the loader sends back.
type Loaded = Result<TileData, String>;

/// The loader thread and its queues.
pub struct TileLoader {
    requests: Option<SyncSender<(ChannelInfo, u64)>>,
    results: Option<Receiver<Loaded>>,
    pending: HashSet<(i64, u64)>,
    thread: Option<JoinHandle<()>>,
    /// The last load error, for the status line.
    pub last_error: Option<String>,
}

impl std::fmt::Debug for TileLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileLoader")
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl TileLoader {
    /// Starts the loader on the case file at `path`; `wake` is called after each tile is sent (the UI's repaint
    /// request).
    pub fn start(path: &Path, wake: Box<dyn Fn() + Send>) -> std::io::Result<TileLoader> {
        let (request_tx, request_rx) = sync_channel::<(ChannelInfo, u64)>(REQUEST_QUEUE_LEN);
        let (result_tx, result_rx) = sync_channel::<Loaded>(RESULT_QUEUE_LEN);
        let path = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("review-loader".into())
            .spawn(move || {
                let file = match CaseFile::open_read_only(&path) {
                    Ok(file) => file,
                    Err(error) => {
                        let _ = result_tx.send(Err(error.to_string()));
                        wake();
                        return;
                    }
                };
                while let Ok((channel, tile)) = request_rx.recv() {
                    let loaded = load_tile(&file, &channel, tile).map_err(|error| error.to_string());
                    if result_tx.send(loaded).is_err() {
                        return;
                    }
                    wake();
                }
            })?;
        Ok(TileLoader {
            requests: Some(request_tx),
            results: Some(result_rx),
            pending: HashSet::new(),
            thread: Some(thread),
            last_error: None,
        })
    }

    /// Asks for tile `tile` of `channel` unless it is already on its way.
    pub fn request(&mut self, channel: &ChannelInfo, tile: u64) {
        let key = (channel.id, tile);
        if self.pending.contains(&key) {
            return;
        }
        let Some(requests) = &self.requests else { return };
        match requests.try_send((channel.clone(), tile)) {
            Ok(()) => {
                self.pending.insert(key);
            }
            // Full: forget it; the view asks again next frame. Disconnected: the loader stopped (error shown).
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    /// Whether tiles are on their way.
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Moves loaded tiles into `tracks` for at most `budget`; returns how many arrived.
    pub fn drain(&mut self, tracks: &mut [Track], budget: Duration) -> usize {
        let started = Instant::now();
        let mut num_arrived = 0;
        let Some(results) = &self.results else { return 0 };
        while started.elapsed() < budget {
            let Ok(loaded) = results.try_recv() else { break };
            match loaded {
                Ok(data) => {
                    self.pending.remove(&(data.channel_id, data.tile));
                    if let Some(track) = tracks.iter_mut().find(|t| t.channel.id == data.channel_id) {
                        track.insert_tile(data);
                    }
                    num_arrived += 1;
                }
                Err(error) => {
                    self.pending.clear();
                    self.last_error = Some(error);
                }
            }
        }
        num_arrived
    }
}

impl Drop for TileLoader {
    fn drop(&mut self) {
        // Closing both queues ends the loop whether the thread waits for a request or to deliver a tile.
        self.requests.take();
        self.results.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
