//! The review screen inside the app: a [`ReviewScreen`] owns the worker that edits the case, the loader that
//! decodes tiles of samples, the channel tracks and the newest snapshot; each frame it takes what the threads
//! delivered (within a time budget), draws the review views and sends what the reviewer asked for.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::Duration;

use super::{Command, HeraclesApp};
use crate::export::{ExportWhat, Exported, export_case};
use crate::review::loader::TileLoader;
use crate::review::session::Snapshot;
use crate::review::tracks::Track;
use crate::review::waveforms::Waveforms;
use crate::review::worker::{Reply, Request, ReviewWorker};
use crate::ui::action::View;
use crate::ui::review::chooser::{ChooserAction, ChooserState, chooser_ui};
use crate::ui::review::{ReviewAction, ReviewData, ReviewUi, review_ui};

/// Time per frame spent taking loaded tiles.
const TILE_BUDGET: Duration = Duration::from_millis(3);

/// One case open for review.
pub struct ReviewScreen {
    path: PathBuf,
    reviewer: String,
    worker: ReviewWorker,
    loader: TileLoader,
    tracks: Vec<Track>,
    snapshot: Option<Box<Snapshot>>,
    waveforms: Option<Box<Waveforms>>,
    /// The view state.
    pub ui: ReviewUi,
    busy: bool,
    message: Option<(String, bool)>,
    /// The running export's answer (one message; the thread ends after sending it).
    export: Option<Receiver<Result<Exported, String>>>,
    export_outcome: Option<(String, bool)>,
    /// The folder dialog's answer, while it is open.
    folder_dialog: Option<Receiver<Option<PathBuf>>>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl ReviewScreen {
    /// Opens the case at `path` for `reviewer`: starts the worker and the tile loader; both wake the UI.
    pub fn open(
        repaint: &Arc<dyn Fn() + Send + Sync>,
        path: &Path,
        reviewer: &str,
    ) -> std::io::Result<ReviewScreen> {
        let (worker_wake, loader_wake) = (repaint.clone(), repaint.clone());
        let mut ui = ReviewUi::default();
        let stem = path
            .file_stem()
            .map_or_else(|| "case".into(), |s| s.to_string_lossy());
        ui.export.folder = path
            .with_file_name(format!("{stem}-export"))
            .display()
            .to_string();
        Ok(ReviewScreen {
            path: path.to_owned(),
            reviewer: reviewer.to_owned(),
            worker: ReviewWorker::start(path, reviewer, Box::new(move || worker_wake()))?,
            loader: TileLoader::start(path, Box::new(move || loader_wake()))?,
            tracks: Vec::new(),
            snapshot: None,
            waveforms: None,
            ui,
            busy: true,
            message: None,
            export: None,
            export_outcome: None,
            folder_dialog: None,
            repaint: repaint.clone(),
        })
    }

    /// The case file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The case as of the last edit, once read.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_deref()
    }

    /// Whether an edit (or the opening) is still being applied.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// The last message shown to the reviewer (`true`: an error).
    pub fn message(&self) -> Option<(&str, bool)> {
        self.message.as_ref().map(|(m, e)| (m.as_str(), *e))
    }

    /// Takes what the worker and the loader delivered.
    pub fn poll(&mut self) {
        while let Some(reply) = self.worker.try_reply() {
            match reply {
                Reply::Tracks(Ok(tracks)) => self.tracks = tracks,
                Reply::Tracks(Err(error)) | Reply::Failed(error) => {
                    self.busy = false;
                    self.message = Some((error, true));
                }
                Reply::Snapshot {
                    snapshot,
                    waveforms,
                    applied,
                } => {
                    self.busy = false;
                    self.message = match applied {
                        None => Some(("Case loaded.".into(), false)),
                        Some(Ok(applied)) => {
                            let mut text = "Saved; results recomputed.".to_owned();
                            for warning in &applied.warnings {
                                text.push_str(&format!(" {warning}."));
                            }
                            for note in &applied.notes {
                                text.push_str(&format!(" {note}."));
                            }
                            Some((text, !applied.warnings.is_empty()))
                        }
                        Some(Err(error)) => Some((error, true)),
                    };
                    if let Some(choice) = &mut self.ui.occlusion {
                        choice.preview = None;
                    }
                    self.ui.keep_selected_beat(self.snapshot.as_deref(), &snapshot);
                    self.snapshot = Some(snapshot);
                    self.waveforms = Some(waveforms);
                }
                Reply::Preview {
                    window_id,
                    beats,
                    fit,
                } => {
                    if let Some(choice) = &mut self.ui.occlusion
                        && choice.window_id == window_id
                    {
                        choice.preview = Some((beats, fit));
                    }
                }
            }
        }
        self.loader.drain(&mut self.tracks, TILE_BUDGET);
        if let Some(dialog) = &self.folder_dialog {
            match dialog.try_recv() {
                Ok(chosen) => {
                    if let Some(folder) = chosen {
                        self.ui.export.folder = folder.display().to_string();
                    }
                    self.folder_dialog = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.folder_dialog = None,
            }
        }
        if let Some(export) = &self.export {
            match export.try_recv() {
                Ok(outcome) => {
                    self.export_outcome = Some(match outcome {
                        Ok(exported) => (
                            format!(
                                "Exported {} files to {}.",
                                exported.files.len(),
                                self.ui.export.folder.trim()
                            ),
                            false,
                        ),
                        Err(error) => (error, true),
                    });
                    self.export = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.export_outcome = Some(("the export stopped without an answer".into(), true));
                    self.export = None;
                }
            }
        }
    }

    /// The last export's outcome (`true`: refused or failed).
    pub fn export_outcome(&self) -> Option<(&str, bool)> {
        self.export_outcome.as_ref().map(|(m, e)| (m.as_str(), *e))
    }

    /// Whether an export is running.
    pub fn exporting(&self) -> bool {
        self.export.is_some()
    }

    /// Opens the system's folder dialog (rfd's asynchronous dialog, driven on thread `review-folder-dialog`, so
    /// the UI keeps drawing); the folder chosen replaces the export folder.
    fn choose_folder(&mut self) {
        if self.folder_dialog.is_some() {
            return;
        }
        match pick_folder("Export into folder", "review-folder-dialog", self.repaint.clone()) {
            Ok(receiver) => self.folder_dialog = Some(receiver),
            Err(error) => {
                self.export_outcome = Some((format!("could not open the folder dialog: {error}"), true))
            }
        }
    }

    /// Starts exporting `what` into `folder` on thread `review-export` (the case file is read on its own
    /// read-only connection; the UI polls for the answer).
    fn start_export(&mut self, folder: PathBuf, what: ExportWhat) {
        let (sender, receiver) = sync_channel(1);
        let (path, wake) = (self.path.clone(), self.repaint.clone());
        let started = std::thread::Builder::new()
            .name("review-export".into())
            .spawn(move || {
                let outcome = export_case(&path, &folder, what).map_err(|error| error.to_string());
                // The screen may have closed meanwhile: then nobody wants the answer.
                let _ = sender.send(outcome);
                wake();
            });
        match started {
            Ok(_) => {
                self.export = Some(receiver);
                self.export_outcome = None;
            }
            Err(error) => self.export_outcome = Some((format!("could not start the export: {error}"), true)),
        }
    }

    /// Draws the review screen; returns `true` when the reviewer asked to leave it.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) -> bool {
        self.poll();
        let data = ReviewData {
            snapshot: self.snapshot.as_deref(),
            waveforms: self.waveforms.as_deref(),
            busy: self.busy,
            loading: self.loader.busy(),
            message: self.message.as_ref().map(|(m, e)| (m.as_str(), *e)),
            reviewer: &self.reviewer,
            exporting: self.export.is_some(),
            export_outcome: self.export_outcome.as_ref().map(|(m, e)| (m.as_str(), *e)),
        };
        let actions = review_ui(ui, &mut self.ui, &mut self.tracks, data);
        let mut close = false;
        for action in actions {
            match action {
                ReviewAction::Apply(edit, reason) => self.send(Request::Apply(edit, reason)),
                ReviewAction::Undo => self.send(Request::Undo),
                ReviewAction::Preview { window_id, beats } => {
                    // A preview that does not fit in the queue is superseded by the next drag step.
                    self.worker.send(Request::Preview { window_id, beats });
                }
                ReviewAction::LoadTile { track, tile } => {
                    if let Some(track) = self.tracks.get(track) {
                        self.loader.request(&track.channel, tile);
                    }
                }
                ReviewAction::Export { folder, what } => self.start_export(folder, what),
                ReviewAction::ChooseFolder => self.choose_folder(),
                ReviewAction::Close => close = true,
            }
        }
        // Tiles left in the queue after this frame's budget, a reply or an export on its way: come back soon even
        // if no thread wakes the UI again (the loader wakes once per tile, possibly before this frame drained it).
        if self.loader.busy() || self.busy || self.export.is_some() || self.folder_dialog.is_some() {
            ui.ctx().request_repaint_after(Duration::from_millis(30));
        }
        if let Some(error) = self.loader.last_error.take() {
            self.message = Some((format!("samples could not be read: {error}"), true));
        }
        close
    }

    /// Sends an edit (one at a time: the views disable edits while one is applied).
    fn send(&mut self, request: Request) {
        if self.busy {
            self.message = Some(("wait: the last edit is still being saved".into(), true));
        } else if self.worker.send(request) {
            self.busy = true;
        } else {
            self.message = Some((
                "the review worker stopped; close and reopen the case".into(),
                true,
            ));
        }
    }
}

/// Opens the system's folder dialog titled `title` (rfd's asynchronous dialog, driven on its own thread named
/// `thread`, so the UI keeps drawing); the folder chosen, or `None`, arrives on the receiver, and `wake` is called.
pub(crate) fn pick_folder(
    title: &str,
    thread: &str,
    wake: Arc<dyn Fn() + Send + Sync>,
) -> std::io::Result<Receiver<Option<PathBuf>>> {
    let (sender, receiver) = sync_channel(1);
    let title = title.to_owned();
    std::thread::Builder::new().name(thread.into()).spawn(move || {
        let dialog = rfd::AsyncFileDialog::new().set_title(title).pick_folder();
        let chosen = block_on(dialog).map(|handle| handle.path().to_owned());
        let _ = sender.send(chosen);
        wake();
    })?;
    Ok(receiver)
}

/// Runs `future` to completion on the calling thread, parking it between wake-ups (the folder dialog's thread
/// has nothing else to do).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

/// The review part of the app: choosing a case, or the case open.
pub enum ReviewState {
    /// Choosing a case.
    Choosing(ChooserState),
    /// A case is open.
    Open(Box<ReviewScreen>),
}

/// The data folder the chooser lists: `HERACLES_DATA_DIR` when set, else the platform's.
fn default_data_dir() -> Option<PathBuf> {
    let override_dir = std::env::var_os("HERACLES_DATA_DIR").map(PathBuf::from);
    crate::store::data_dir(override_dir.as_deref()).ok()
}

impl HeraclesApp {
    /// The review part, when the review screen was opened.
    pub fn review(&self) -> Option<&ReviewState> {
        self.review.as_ref()
    }

    /// The case open for review, if any.
    pub fn review_screen(&self) -> Option<&ReviewScreen> {
        match self.review.as_ref()? {
            ReviewState::Open(screen) => Some(screen),
            ReviewState::Choosing(_) => None,
        }
    }

    /// The case open for review, for tests and tools that drive the view state.
    pub fn review_screen_mut(&mut self) -> Option<&mut ReviewScreen> {
        match self.review.as_mut()? {
            ReviewState::Open(screen) => Some(screen),
            ReviewState::Choosing(_) => None,
        }
    }

    /// Shows the review chooser over the app's data folder, with `path` filled in when given. A case already
    /// open for review stays open (the Review tab returns to it) unless another file is chosen.
    pub(super) fn choose_review_case(&mut self, path: Option<PathBuf>) {
        self.view = View::Review;
        if path.is_none() && matches!(self.review, Some(ReviewState::Open(_))) {
            return;
        }
        let data_dir = self.data_dir.clone().or_else(default_data_dir);
        let mut chooser = ChooserState::new(data_dir);
        if let Some(path) = path {
            chooser.path = path.display().to_string();
        }
        chooser.reviewer = self.operator().unwrap_or_default();
        self.review = Some(ReviewState::Choosing(chooser));
    }

    /// Who is working at this workstation: the open case's operator, else the name entered on the start screen.
    /// The review chooser starts with it, so a review carries the same name as the case it follows.
    pub fn operator(&self) -> Option<String> {
        let from_case = self
            .protocol
            .as_ref()
            .and_then(|session| session.state.case.as_ref())
            .map(|case| case.operator.clone());
        let typed = Some(self.start.form.operator.trim().to_owned()).filter(|name| !name.is_empty());
        from_case.or(typed)
    }

    /// Applies a review command.
    pub(super) fn handle_review(&mut self, command: Command) {
        match command {
            Command::ChooseReviewCase => self.choose_review_case(None),
            Command::OpenReview { path, reviewer } => {
                match ReviewScreen::open(&self.repaint, &path, &reviewer) {
                    Ok(screen) => self.review = Some(ReviewState::Open(Box::new(screen))),
                    Err(error) => {
                        let mut chooser = ChooserState::new(self.data_dir.clone().or_else(default_data_dir));
                        chooser.error = Some(format!("could not start the review: {error}"));
                        self.review = Some(ReviewState::Choosing(chooser));
                    }
                }
                self.view = View::Review;
            }
            Command::CloseReview => {
                self.review = None;
                self.view = View::Live;
            }
            _ => {}
        }
    }

    /// Draws the review view (the chooser or the open case) and queues what it asks for.
    pub(super) fn review_frame_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        match &mut self.review {
            None => commands.push(Command::ChooseReviewCase),
            Some(ReviewState::Choosing(chooser)) => match chooser_ui(ui, chooser) {
                Some(ChooserAction::Open(path, reviewer)) => {
                    commands.push(Command::OpenReview { path, reviewer })
                }
                Some(ChooserAction::Close) => commands.push(Command::CloseReview),
                None => {}
            },
            Some(ReviewState::Open(screen)) => {
                if screen.frame_ui(ui) {
                    commands.push(Command::CloseReview);
                }
            }
        }
    }
}

/// Opens the workstation on the review screen: on `path` as `reviewer` when both are given, otherwise on the case
/// chooser listing `data_dir` (the platform's data folder when `None`). Uploads run with the settings of
/// `config_dir` (the platform's configuration folder when `None`).
pub fn run_review_gui(
    path: Option<PathBuf>,
    reviewer: Option<String>,
    data_dir: Option<PathBuf>,
    config_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("heracles review")
            .with_inner_size([1366.0, 768.0]),
        ..Default::default()
    };
    eframe::run_native(
        "heracles",
        options,
        Box::new(move |cc| {
            let mut app = HeraclesApp::new(&cc.egui_ctx, Vec::new())?;
            app.set_data_dir(data_dir.clone());
            app.start_uploads(config_dir);
            match (path, reviewer) {
                (Some(path), Some(reviewer)) => app.handle(Command::OpenReview { path, reviewer }),
                (path, reviewer) => {
                    let data_dir = data_dir.or_else(default_data_dir);
                    let mut chooser = ChooserState::new(data_dir);
                    chooser.path = path.map(|p| p.display().to_string()).unwrap_or_default();
                    chooser.reviewer = reviewer.unwrap_or_default();
                    app.review = Some(ReviewState::Choosing(chooser));
                    app.view = View::Review;
                }
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|error| anyhow::anyhow!("could not open the window: {error}"))
}
