//! The case file: one SQLite file per case, its schema and migrations, the recorder thread and the audit trail.
//! The only module that uses rusqlite.
//!
//! - [`CaseFile`] creates, validates and opens a file ([`CaseFile::create`], [`CaseFile::open`] for edits,
//!   [`CaseFile::open_read_only`] for viewing), offers the typed edit API (each edit writes its audit row in the
//!   same transaction) and the readers (summary, channels, samples, min/max overview).
//! - [`Recorder`] is the engine's [`crate::acquisition::RecordSink`]: a named thread with a bounded queue that
//!   commits batched transactions at most [`COMMIT_INTERVAL`] apart and reports failures as health, never panics.
//! - [`CaseFile::verify`] checks SQLite integrity, the audit hash chain and sample continuity.
//! - [`CaseFile::recover`] copies what a damaged file still yields into a new one (the original untouched).
//! - [`UploadQueue`] is the upload queue's table (one database per data folder; the logic is `crate::upload`).
//!
//! A file is validated read-only (header, `application_id`, `user_version`, integrity) before anything writes
//! to it, so a damaged, foreign or newer file is refused and left untouched.

mod audit;
mod chain;
mod codec;
mod edits;
mod file;
mod identifiers;
mod load;
mod read;
mod recorder;
mod recover;
pub mod schema;
mod upload_queue;
mod verify;

use std::path::{Path, PathBuf};

pub use audit::AuditEntry;
pub use codec::DecodeError;
pub use edits::{
    Allocation, AnalysisWindow, Annotation, Event, FollowUp, ResultRecord, Saved, SignOff, StepRecord,
};
pub use file::CaseFile;
pub use identifiers::{TextWarning, text_warnings};
pub use load::ChunkSummary;
pub use read::{CaseSummary, ChannelInfo, GapRecord, Samples, StoredCalibration};
pub use recorder::{
    COMMIT_INTERVAL, FINISH_TIMEOUT, NOT_SAVED, RECORDER_ACTIONS, RELOCATE_ACTION, Recorder, RecorderOptions,
    Relocator,
};
pub use recover::RecoveryReport;
pub use upload_queue::{QUEUE_FILE_NAME, SentStudy, UploadEntry, UploadQueue, UploadState};
pub use verify::{ExternalAnchor, Problem, VerifyReport};

/// File extension of case files.
pub const EXTENSION: &str = "heracles";

/// Everything that can go wrong with a case file. The messages are written for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// SQLite reported an error.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file is empty.
    #[error("{0}: the file is empty, not a case file")]
    Empty(PathBuf),
    /// The file is too short or shorter than its header says.
    #[error("{path}: the file is truncated ({detail})")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// The file is not an SQLite database at all.
    #[error("{0}: not a case file (not an SQLite database; damaged or some other kind of file)")]
    NotSqlite(PathBuf),
    /// The file is an SQLite database of some other application.
    #[error(
        "{path}: an SQLite database of another application (application id {application_id:#x}), not a case file"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// Its `application_id`.
        application_id: i32,
    },
    /// The file was written by a newer heracles.
    #[error(
        "{path}: written by a newer version of heracles (case file schema v{version}; this version reads up to \
         v{supported}); update heracles to open it"
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        version: i32,
        /// The newest version this build understands.
        supported: i32,
    },
    /// The file is damaged: SQLite's integrity check or the data's own checks failed.
    #[error("{path}: the case file is damaged: {detail}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What the check found.
        detail: String,
    },
    /// The file could not be opened at all (permissions, a missing folder, read-only media without its log).
    #[error("{path}: cannot be opened: {detail}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's or the system's reason.
        detail: String,
    },
    /// A case file for this case already exists.
    #[error("{0}: a case file for this case already exists")]
    Exists(PathBuf),
    /// A migration failed; the file keeps its previous version.
    #[error("migrating the case file to schema v{to_version} failed (the file was left unchanged): {error}")]
    Migration {
        /// The version the failed migration leads to.
        to_version: i32,
        /// SQLite's error.
        error: rusqlite::Error,
    },
    /// An older file opened read-only: it has to be migrated (opened for editing) first.
    #[error("{path}: case file schema v{version} must be upgraded to v{current}; open it for editing once")]
    NeedsMigration {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        version: i32,
        /// The version this build writes.
        current: i32,
    },
    /// The file cannot be written where it is (read-only media, a folder this user cannot write, a
    /// write-protected file): it opens for reading only ([`CaseFile::open_read_only`]).
    #[error(
        "{0}: read-only here (read-only media or a folder you cannot write): it can be read, verified and \
         exported, but annotations, verdicts, follow-up and sign-off cannot be saved; copy the case file to a \
         folder you can write to edit it"
    )]
    ReadOnlyPlace(PathBuf),
    /// An edit was attempted on a file opened read-only.
    #[error("the case file was opened read-only")]
    ReadOnly,
    /// Stored sample data cannot be decoded.
    #[error("sample data damaged: {0}")]
    Decode(#[from] DecodeError),
    /// An argument does not make sense (unknown id, empty reason, bad range).
    #[error("{0}")]
    Invalid(String),
    /// No data folder could be determined for this platform.
    #[error("no data folder is known for this platform; pass --data-dir")]
    NoDataDir,
}

impl StoreError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |source| StoreError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The folder holding case files: `override_dir` when given (the `--data-dir` option or `HERACLES_DATA_DIR`),
/// otherwise the platform's data folder for heracles.
pub fn data_dir(override_dir: Option<&Path>) -> Result<PathBuf, StoreError> {
    if let Some(dir) = override_dir {
        return Ok(dir.to_owned());
    }
    directories::ProjectDirs::from("org", "HERACLES trial", "heracles")
        .map(|dirs| dirs.data_dir().join("cases"))
        .ok_or(StoreError::NoDataDir)
}

/// The file name of a case's file: the case id and [`EXTENSION`], e.g. `HER-STH-0007.heracles`.
pub fn file_name(case_id: crate::model::CaseId) -> String {
    format!("{case_id}.{EXTENSION}")
}

/// The case files in `dir` (files ending in `.heracles`), sorted by name. A missing folder has none.
pub fn list_case_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(StoreError::io(dir)(error)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(StoreError::io(dir))?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == EXTENSION) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Current UTC time as stored in case files (RFC 3339, milliseconds, `Z`).
fn utc_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
