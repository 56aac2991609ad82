//! Upload of each case to the trial's core-lab archive, as the DICOM study `export::dicom` builds, through a
//! persistent queue that survives restarts and kills.
//!
//! - The queue is a table in the data folder's `upload-queue.sqlite` ([`crate::store::UploadQueue`]): per case
//!   pending / sending / delivered / confirmed / failed, attempts, the last error and times. [`Uploader`] moves
//!   a case through it: gate (signed off, or a reason audited in the case file), build the study, send every
//!   object, then **ask the archive what it holds**: only when every object of the study is there is the case
//!   `confirmed`.
//! - No duplicates, whatever happens: the study's UIDs are derived from the case (the same case gives the same
//!   objects), so sending again after a kill or a lost answer makes the archive answer "already stored".
//! - Errors that may pass (unreachable, HTTP 5xx, an archive missing objects after the send) leave the case
//!   pending with the reason and the next attempt after an exponential backoff ([`RetryPolicy`]); errors a person
//!   must fix (wrong password, TLS, a case not signed off, a damaged case file) make it `failed` with the reason.
//!   Either way the case file is untouched and the queue row keeps the reason.
//! - [`transport`] talks to the archive (Orthanc REST, DICOMweb, C-STORE); [`settings`] holds where and as whom,
//!   and keeps the password out of files other than a private secrets file; [`worker`] runs uploads for the app
//!   on its own thread.
//!
//! Log lines and queue rows name case ids only; every free text that goes out has passed the identifier screen
//! (the study builder screens the case's texts, [`crate::store::CaseFile::record_unsigned_upload`] the reason).

mod dimse;
pub mod settings;
pub mod transport;
pub mod worker;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::export::dicom::{DicomError, DicomStudy, casefile};
use crate::review::sign_off;
use crate::store::{CaseFile, SentStudy, StoreError, UploadEntry, UploadQueue, UploadState};

pub use transport::{Archive, ArchiveKind, Credentials, InstanceRef, StoreOutcome, TransportError};

/// A process that has not touched a `sending` or `delivered` row for this long has stopped; the row is due again.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// When to try again after an error that may pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; doubled after each further one.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// How many attempts one call of [`Uploader::upload`] makes before it leaves the case pending.
    pub attempts_per_call: u32,
}

impl RetryPolicy {
    /// The command line's and the app's policy: 3 attempts 5 s and 10 s apart within a call; later automatic
    /// attempts back off to at most an hour.
    pub const STANDARD: RetryPolicy = RetryPolicy {
        first_delay: Duration::from_secs(5),
        max_delay: Duration::from_secs(3600),
        attempts_per_call: 3,
    };

    /// The wait after attempt number `attempts` (from 1) failed: `first_delay * 2^(attempts-1)`, at most
    /// `max_delay`.
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// Why a case was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The case file or the queue could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive could not be used.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The case's DICOM study could not be built (a case file that fails verification, a free text that looks
    /// like an identifier).
    #[error("{case_id}: the DICOM study could not be built: {source}")]
    Study {
        /// The case.
        case_id: String,
        /// Why.
        source: DicomError,
    },
    /// The case is not validly signed off and no reason was given.
    #[error(
        "{case_id}: {status}; it is not uploaded unless you give a reason (--unsigned-reason TEXT, audited in the \
         case file)"
    )]
    NotSignedOff {
        /// The case.
        case_id: String,
        /// Its sign-off status in words.
        status: String,
    },
    /// The archive accepted the objects but does not hold all of them when asked.
    #[error("{case_id}: not confirmed: the archive holds {num_held} of the study's {num_sent} objects")]
    NotConfirmed {
        /// The case.
        case_id: String,
        /// Objects sent.
        num_sent: usize,
        /// Of those, how many the archive holds.
        num_held: usize,
    },
    /// The archive's copy of the case file carries another SHA-256 than the one sent.
    #[error("{case_id}: not confirmed: the archive's case file has SHA-256 {held:?}, {sent} was sent")]
    CaseFileDiffers {
        /// The case.
        case_id: String,
        /// The SHA-256 sent.
        sent: String,
        /// The SHA-256 the archive's copy carries.
        held: String,
    },
}

impl UploadError {
    /// Whether trying again later may succeed without anyone changing anything.
    pub fn retryable(&self) -> bool {
        match self {
            UploadError::Transport(error) => error.retryable(),
            UploadError::NotConfirmed { .. } | UploadError::CaseFileDiffers { .. } => true,
            UploadError::Store(_) | UploadError::Study { .. } | UploadError::NotSignedOff { .. } => false,
        }
    }
}

/// Builds the DICOM study of a case file (production: `export::dicom::study_of_case` with the trial's context).
pub type BuildStudy<'a> = dyn Fn(&Path) -> Result<DicomStudy, DicomError> + 'a;

/// Uploads cases from one data folder's queue to one archive.
pub struct Uploader<'a> {
    queue: UploadQueue,
    archive: Box<dyn Archive>,
    who: String,
    policy: RetryPolicy,
    build: &'a BuildStudy<'a>,
}

/// The sign-off status of a case in words, and whether it allows the upload without a reason.
pub fn sign_off_gate(case_path: &Path) -> Result<(bool, String), StoreError> {
    let file = CaseFile::open_read_only(case_path)?;
    let statuses = sign_off::status(&file)?;
    let valid = statuses.last().is_some_and(sign_off::SignOffStatus::valid);
    Ok((valid, sign_off::status_label(&statuses)))
}

impl<'a> Uploader<'a> {
    /// An uploader for the queue of data folder `data_dir`; `who` names the person (or account) in audit rows.
    pub fn new(
        data_dir: &Path,
        archive: Box<dyn Archive>,
        who: &str,
        policy: RetryPolicy,
        build: &'a BuildStudy<'a>,
    ) -> Result<Uploader<'a>, UploadError> {
        Ok(Uploader {
            queue: UploadQueue::open(data_dir)?,
            archive,
            who: who.to_owned(),
            policy,
            build,
        })
    }

    /// The queue.
    pub fn queue(&self) -> &UploadQueue {
        &self.queue
    }

    /// Queues `case_path` (with `unsigned_reason`, audited in the case file if the case is not validly signed
    /// off) and makes up to the policy's attempts now, waiting the backoff between them. Returns the confirmed
    /// row, or the last error (the row keeps it, pending or failed).
    pub fn upload(
        &self,
        case_path: &Path,
        unsigned_reason: Option<&str>,
    ) -> Result<UploadEntry, UploadError> {
        let entry = self.enqueue(case_path, unsigned_reason)?;
        let mut attempt = 1;
        loop {
            match self.attempt(&entry.case_id, case_path) {
                Ok(entry) => return Ok(entry),
                Err(error) if error.retryable() && attempt < self.policy.attempts_per_call => {
                    let attempts = self.queue.entry(&entry.case_id)?.map_or(attempt, |e| e.attempts);
                    std::thread::sleep(self.policy.delay_after(attempts));
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Queues a case without sending it: the row made pending (due now), the reason audited when the case is not
    /// validly signed off.
    pub fn enqueue(
        &self,
        case_path: &Path,
        unsigned_reason: Option<&str>,
    ) -> Result<UploadEntry, UploadError> {
        let case_id = CaseFile::open_read_only(case_path)?.summary()?.case_id;
        let reason = unsigned_reason.map(str::trim).filter(|r| !r.is_empty());
        let mut audited = None;
        if let Some(reason) = reason
            && !sign_off_gate(case_path)?.0
        {
            CaseFile::open(case_path)?.record_unsigned_upload(&self.who, reason)?;
            log::info!(
                "{case_id}: queued for upload without a valid sign-off (reason audited in the case file)"
            );
            audited = Some(reason);
        }
        Ok(self
            .queue
            .enqueue(&case_id, case_path, self.archive.server(), audited)?)
    }

    /// The cases an automatic run should send now: pending and due, or left sending by a process that stopped
    /// ([`STALE_AFTER`]).
    pub fn due(&self) -> Result<Vec<UploadEntry>, UploadError> {
        let now = chrono::Utc::now();
        Ok(self.queue.due(now, shifted(now, STALE_AFTER, false))?)
    }

    /// Checks the connection and the login; what answered.
    pub fn check(&self) -> Result<String, TransportError> {
        self.archive.check()
    }

    /// One attempt for a queued case: the outcome is recorded in the queue before it is returned.
    pub fn attempt(&self, case_id: &str, case_path: &Path) -> Result<UploadEntry, UploadError> {
        let entry = self.queue.start_attempt(case_id)?;
        log::info!(
            "{case_id}: upload attempt {} to {}",
            entry.attempts,
            self.archive.server()
        );
        match self.send_and_confirm(&entry, case_path) {
            Ok(()) => {
                log::info!("{case_id}: confirmed by the archive");
                Ok(self.queue.confirmed(case_id)?)
            }
            Err(error) => {
                let message = error.to_string();
                if error.retryable() {
                    let delay = self.policy.delay_after(entry.attempts);
                    let next = shifted(chrono::Utc::now(), delay, true);
                    log::warn!(
                        "{case_id}: upload attempt {} failed, retried in {delay:?}: {message}",
                        entry.attempts
                    );
                    self.queue.retry_later(case_id, &message, next)?;
                } else {
                    log::warn!("{case_id}: upload failed: {message}");
                    self.queue.failed(case_id, &message)?;
                }
                Err(error)
            }
        }
    }

    fn send_and_confirm(&self, entry: &UploadEntry, case_path: &Path) -> Result<(), UploadError> {
        let case_id = &entry.case_id;
        let (signed, status) = sign_off_gate(case_path)?;
        if !signed && entry.unsigned_reason.is_none() {
            return Err(UploadError::NotSignedOff {
                case_id: case_id.clone(),
                status,
            });
        }
        let started = Instant::now();
        let study = (self.build)(case_path).map_err(|source| UploadError::Study {
            case_id: case_id.clone(),
            source,
        })?;
        let num_sent = study.instances.len();
        let num_bytes: usize = study.instances.iter().map(|i| i.bytes.len()).sum();
        log::info!(
            "{case_id}: DICOM study built in {:.1} s ({num_sent} objects, {:.1} MB)",
            started.elapsed().as_secs_f64(),
            num_bytes as f64 / 1e6
        );
        let started = Instant::now();
        let mut num_already = 0;
        for instance in &study.instances {
            if self.archive.store(&instance.bytes)? == StoreOutcome::AlreadyStored {
                num_already += 1;
            }
        }
        log::info!(
            "{case_id}: sent in {:.1} s (the archive already held {num_already} of {num_sent} objects)",
            started.elapsed().as_secs_f64()
        );
        self.queue.delivered(
            case_id,
            &SentStudy {
                study_instance_uid: &study.study_instance_uid,
                num_instances: u32::try_from(num_sent).unwrap_or(u32::MAX),
                case_sha256_hex: &study.case_sha256_hex,
            },
        )?;
        let started = Instant::now();
        confirm(self.archive.as_ref(), case_id, &study)?;
        log::info!(
            "{case_id}: the archive's holdings checked in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// `time` moved `by` later (`later`) or earlier, saturating at the ends of the representable range.
fn shifted(time: chrono::DateTime<chrono::Utc>, by: Duration, later: bool) -> chrono::DateTime<chrono::Utc> {
    let by = chrono::TimeDelta::from_std(by).unwrap_or(chrono::TimeDelta::MAX);
    let moved = if later {
        time.checked_add_signed(by)
    } else {
        time.checked_sub_signed(by)
    };
    moved.unwrap_or(if later {
        chrono::DateTime::<chrono::Utc>::MAX_UTC
    } else {
        chrono::DateTime::<chrono::Utc>::MIN_UTC
    })
}

/// Asks the archive which instances of the study it holds, and which SHA-256 its copy of the case file carries;
/// fine when it holds every object sent and the case file sent.
fn confirm(archive: &dyn Archive, case_id: &str, study: &DicomStudy) -> Result<(), UploadError> {
    let held: BTreeSet<String> = archive
        .study_instances(&study.study_instance_uid)?
        .into_iter()
        .collect();
    let sent: BTreeSet<&str> = study
        .instances
        .iter()
        .map(|instance| instance.sop_instance_uid.as_str())
        .collect();
    let num_held = sent.iter().filter(|uid| held.contains(**uid)).count();
    if num_held < sent.len() {
        return Err(UploadError::NotConfirmed {
            case_id: case_id.to_owned(),
            num_sent: sent.len(),
            num_held,
        });
    }
    if held.len() > sent.len() {
        log::info!(
            "{case_id}: the archive also holds {} objects of an earlier version of the study",
            held.len() - sent.len()
        );
    }
    let case_files = study
        .instances
        .iter()
        .filter(|instance| instance.sop_class_uid == casefile::SOP_CLASS_UID);
    for instance in case_files {
        let reference = InstanceRef {
            study: &study.study_instance_uid,
            series: &instance.series_instance_uid,
            sop: &instance.sop_instance_uid,
        };
        if let Some(held) = archive.case_file_sha256(&reference)?
            && held != study.case_sha256_hex
        {
            return Err(UploadError::CaseFileDiffers {
                case_id: case_id.to_owned(),
                sent: study.case_sha256_hex.clone(),
                held,
            });
        }
    }
    Ok(())
}

/// Counts of the queue's rows by state, for a status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueCounts {
    /// Waiting (new or retrying).
    pub pending: usize,
    /// Being sent, or sent and not yet confirmed.
    pub sending: usize,
    /// Confirmed by the archive.
    pub confirmed: usize,
    /// Waiting for a person.
    pub failed: usize,
}

impl QueueCounts {
    /// Counts `entries` by state.
    pub fn of(entries: &[UploadEntry]) -> QueueCounts {
        let mut counts = QueueCounts::default();
        for entry in entries {
            match entry.state {
                UploadState::Pending => counts.pending += 1,
                UploadState::Sending | UploadState::Delivered => counts.sending += 1,
                UploadState::Confirmed => counts.confirmed += 1,
                UploadState::Failed => counts.failed += 1,
            }
        }
        counts
    }

    /// The status line: e.g. `Upload queue: 2 pending, 1 failed, 5 confirmed`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = [
            (self.sending, "sending"),
            (self.pending, "pending"),
            (self.failed, "failed"),
            (self.confirmed, "confirmed"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "Upload queue: empty".to_owned()
        } else {
            format!("Upload queue: {}", parts.join(", "))
        }
    }
}

/// A case's upload state in a few words for the case lists: `uploaded`, `pending (reason)`, `failed: reason`.
pub fn entry_words(entry: &UploadEntry) -> String {
    let reason = entry.last_error.as_deref().unwrap_or_default();
    match entry.state {
        UploadState::Confirmed => "uploaded".to_owned(),
        UploadState::Sending | UploadState::Delivered => "uploading".to_owned(),
        UploadState::Pending if reason.is_empty() => "upload pending".to_owned(),
        UploadState::Pending => format!("upload pending (retrying: {reason})"),
        UploadState::Failed => format!("upload failed: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let policy = RetryPolicy {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            attempts_per_call: 3,
        };
        let delays: Vec<u64> = (1..=6).map(|n| policy.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
        assert_eq!(policy.delay_after(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn times_shift_without_overflow() {
        let now = chrono::Utc::now();
        assert_eq!(
            shifted(now, Duration::from_secs(5), true) - now,
            chrono::TimeDelta::seconds(5)
        );
        assert_eq!(
            now - shifted(now, Duration::from_secs(5), false),
            chrono::TimeDelta::seconds(5)
        );
        assert_eq!(
            shifted(now, Duration::MAX, true),
            chrono::DateTime::<chrono::Utc>::MAX_UTC
        );
    }

    #[test]
    fn the_status_line_counts_each_state() {
        assert_eq!(QueueCounts::default().line(), "Upload queue: empty");
        let counts = QueueCounts {
            pending: 2,
            sending: 0,
            confirmed: 5,
            failed: 1,
        };
        assert_eq!(counts.line(), "Upload queue: 2 pending, 1 failed, 5 confirmed");
    }
}
