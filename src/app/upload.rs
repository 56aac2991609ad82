//! The app's side of the upload: starts the upload thread ([`crate::upload::worker`]) for the data folder,
//! keeps the Upload section's form and the newest status, and carries out the views' [`UploadAction`]s (saving
//! the settings and the private secret here, everything that talks to the archive on the thread).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::export::dicom::{TrialContext, study_of_case};
use crate::store;
use crate::ui::upload::{UploadAction, UploadForm};
use crate::upload::settings::{UploadSettings, config_dir, save_secret};
use crate::upload::worker::{UploadRequest, UploadStatus, UploadWorker};

/// The uploads as the app holds them.
#[derive(Default)]
pub struct Uploads {
    worker: Option<UploadWorker>,
    config_dir: Option<PathBuf>,
    /// The Upload section's fields.
    pub form: UploadForm,
    /// The newest status of the upload thread (empty until it is started).
    pub status: UploadStatus,
    /// The reason typed for uploading a case that is not validly signed off.
    pub reason: String,
}

impl Uploads {
    /// Starts the upload thread for the queue of `data_dir` with the settings of `config_dir` (the platform's
    /// folders when `None`); `repaint` wakes the UI when the status changes.
    pub fn start(
        &mut self,
        data_dir: Option<&Path>,
        config_dir_override: Option<&Path>,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) {
        let dirs = store::data_dir(data_dir)
            .map_err(|error| error.to_string())
            .and_then(|data| Ok((data, config_dir(config_dir_override).map_err(|e| e.to_string())?)));
        let (data_dir, config_dir) = match dirs {
            Ok(dirs) => dirs,
            Err(problem) => {
                self.status.problem = Some(problem);
                return;
            }
        };
        match UploadSettings::load(&config_dir) {
            Ok(settings) => self.form.settings = settings,
            Err(error) => self.form.message = Some(Err(error.to_string())),
        }
        let trial = TrialContext::heracles();
        let started = UploadWorker::start(
            data_dir,
            config_dir.clone(),
            Box::new(move |path| study_of_case(path, &trial)),
            Box::new(move || repaint()),
        );
        match started {
            Ok(worker) => {
                self.worker = Some(worker);
                self.config_dir = Some(config_dir);
            }
            Err(error) => self.status.problem = Some(format!("the upload thread could not start: {error}")),
        }
    }

    /// Takes the upload thread's newest status.
    pub fn poll(&mut self) {
        if let Some(worker) = &self.worker {
            self.status = worker.status();
        }
    }

    /// Carries out what a view asked for.
    pub fn handle(&mut self, action: UploadAction) {
        let (Some(worker), Some(config_dir)) = (&self.worker, &self.config_dir) else {
            self.form.message = Some(Err("uploads are not available in this session".into()));
            return;
        };
        let request = match action {
            UploadAction::Save { settings, password } => {
                let saved = settings
                    .save(config_dir)
                    .and_then(|()| password.map_or(Ok(()), |p| save_secret(config_dir, &p)));
                self.form.message = Some(match saved {
                    Ok(()) => Ok("Upload settings saved.".to_owned()),
                    Err(error) => Err(error.to_string()),
                });
                return;
            }
            UploadAction::TestConnection => UploadRequest::TestConnection,
            UploadAction::UploadNow {
                case_path,
                unsigned_reason,
            } => UploadRequest::UploadNow {
                case_path,
                unsigned_reason,
            },
        };
        if !worker.request(request) {
            self.status.problem = Some("the upload thread is busy; try again in a moment".into());
        }
    }
}
