//! The app's uploads on their own thread (`upload`), so a slow or absent archive never blocks the UI. The UI
//! sends [`UploadRequest`]s through a bounded channel (8; a request that does not fit is refused and the view
//! says so) and reads the newest [`UploadStatus`] (shared, newest wins). Every minute without a request the
//! thread sends whatever the queue says is due, so a case that waited for the network goes out by itself.
//! Settings and the secret are read again for each request, so a change in Settings applies at once.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::settings::{UploadSettings, stored_secret};
use super::{BuildStudy, RetryPolicy, UploadError, Uploader, transport};
use crate::export::dicom::{DicomError, DicomStudy};
use crate::store::{UploadEntry, UploadQueue};

/// How often the thread looks for due cases when nobody asks.
const POLL_INTERVAL: Duration = Duration::from_secs(60);
/// Requests waiting for the thread.
const REQUEST_BOUND: usize = 8;

/// What the UI asks of the upload thread.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadRequest {
    /// Queue this case and send it now (with the reason for a case that is not validly signed off).
    UploadNow {
        /// The case file.
        case_path: PathBuf,
        /// Why it goes although not validly signed off (audited), if it is not.
        unsigned_reason: Option<String>,
    },
    /// Check the connection and the login with the saved settings.
    TestConnection,
    /// Read the queue again (e.g. after another program changed it).
    Refresh,
}

/// What the UI shows of the uploads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UploadStatus {
    /// Every queued case.
    pub entries: Vec<UploadEntry>,
    /// The case being sent now.
    pub sending: Option<String>,
    /// The newest connection test: what answered, or why not.
    pub connection: Option<Result<String, String>>,
    /// A problem with the queue or the settings themselves.
    pub problem: Option<String>,
}

impl UploadStatus {
    /// The row of `case_id`, if it is queued.
    pub fn entry(&self, case_id: &str) -> Option<&UploadEntry> {
        self.entries.iter().find(|entry| entry.case_id == case_id)
    }
}

/// The upload thread and its shared status.
pub struct UploadWorker {
    requests: SyncSender<UploadRequest>,
    status: Arc<Mutex<UploadStatus>>,
}

/// The builder of a case's study, owned by the thread.
pub type OwnedBuildStudy = Box<dyn Fn(&Path) -> Result<DicomStudy, DicomError> + Send>;

/// Everything the thread needs.
struct Context {
    data_dir: PathBuf,
    config_dir: PathBuf,
    build: OwnedBuildStudy,
    status: Arc<Mutex<UploadStatus>>,
    changed: Box<dyn Fn() + Send>,
}

impl UploadWorker {
    /// Starts thread `upload` for the queue of `data_dir`, with the settings of `config_dir`; `changed` is called
    /// after every change of the status (the app asks for a repaint).
    pub fn start(
        data_dir: PathBuf,
        config_dir: PathBuf,
        build: OwnedBuildStudy,
        changed: Box<dyn Fn() + Send>,
    ) -> std::io::Result<UploadWorker> {
        let (requests, receiver) = sync_channel(REQUEST_BOUND);
        let status = Arc::new(Mutex::new(UploadStatus::default()));
        let context = Context {
            data_dir,
            config_dir,
            build,
            status: Arc::clone(&status),
            changed,
        };
        std::thread::Builder::new()
            .name("upload".into())
            .spawn(move || run(&context, &receiver))?;
        let worker = UploadWorker { requests, status };
        worker.request(UploadRequest::Refresh);
        Ok(worker)
    }

    /// Asks the thread; false when its queue is full or it has stopped (the view says "busy, try again").
    pub fn request(&self, request: UploadRequest) -> bool {
        match self.requests.try_send(request) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// The newest status.
    pub fn status(&self) -> UploadStatus {
        self.status.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

fn run(context: &Context, requests: &Receiver<UploadRequest>) {
    loop {
        let request = match requests.recv_timeout(POLL_INTERVAL) {
            Ok(request) => Some(request),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        handle(context, request);
        refresh(context);
    }
}

fn update(context: &Context, change: impl FnOnce(&mut UploadStatus)) {
    change(&mut context.status.lock().unwrap_or_else(PoisonError::into_inner));
    (context.changed)();
}

fn refresh(context: &Context) {
    let entries = UploadQueue::open(&context.data_dir).and_then(|queue| queue.entries());
    update(context, |status| match entries {
        Ok(entries) => status.entries = entries,
        Err(error) => status.problem = Some(error.to_string()),
    });
}

/// An uploader with the saved settings, or why there is none.
fn uploader<'a>(
    data_dir: &Path,
    config_dir: &Path,
    build: &'a BuildStudy<'a>,
) -> Result<Uploader<'a>, String> {
    let settings = UploadSettings::load(config_dir).map_err(|e| e.to_string())?;
    if settings.server.trim().is_empty() {
        return Err("no archive is set up: enter its URL in Settings > Upload".into());
    }
    let secret = stored_secret(config_dir).map_err(|e| e.to_string())?;
    let archive = transport::connect(
        settings.kind,
        &settings.server,
        settings.credentials(secret),
        &settings.calling_ae_title,
    )
    .map_err(|e| e.to_string())?;
    let who = if settings.user.trim().is_empty() {
        "upload".to_owned()
    } else {
        settings.user.clone()
    };
    Uploader::new(data_dir, archive, &who, RetryPolicy::STANDARD, build).map_err(|e| e.to_string())
}

fn handle(context: &Context, request: Option<UploadRequest>) {
    let uploader = match uploader(&context.data_dir, &context.config_dir, context.build.as_ref()) {
        Ok(uploader) => uploader,
        Err(problem) => {
            update(context, |status| match request {
                Some(UploadRequest::TestConnection) => status.connection = Some(Err(problem)),
                Some(UploadRequest::UploadNow { .. }) => status.problem = Some(problem),
                _ => {}
            });
            return;
        }
    };
    update(context, |status| status.problem = None);
    match request {
        Some(UploadRequest::TestConnection) => {
            let answer = uploader.check().map_err(|error| error.to_string());
            update(context, |status| status.connection = Some(answer));
        }
        Some(UploadRequest::UploadNow {
            case_path,
            unsigned_reason,
        }) => {
            let queued = uploader.enqueue(&case_path, unsigned_reason.as_deref());
            match queued {
                Ok(entry) => {
                    refresh(context);
                    send(context, &uploader, &entry.case_id, &case_path);
                }
                Err(error) => update(context, |status| status.problem = Some(error.to_string())),
            }
        }
        Some(UploadRequest::Refresh) => {}
        None => {
            if let Err(error) = send_due(context, &uploader) {
                update(context, |status| status.problem = Some(error.to_string()));
            }
        }
    }
}

fn send(context: &Context, uploader: &Uploader<'_>, case_id: &str, case_path: &Path) {
    update(context, |status| status.sending = Some(case_id.to_owned()));
    // The outcome is in the queue row (confirmed, or pending/failed with the reason); the view reads it there.
    let _ = uploader.attempt(case_id, case_path);
    update(context, |status| status.sending = None);
}

fn send_due(context: &Context, uploader: &Uploader<'_>) -> Result<(), UploadError> {
    for entry in uploader.due()? {
        send(context, uploader, &entry.case_id, &entry.case_path);
        refresh(context);
    }
    Ok(())
}
