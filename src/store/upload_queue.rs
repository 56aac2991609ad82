//! The upload queue's table: one SQLite database per data folder (`upload-queue.sqlite` beside the case files),
//! one row per case with its state, attempts, last error and times. Only the rows live here; what a state means
//! and when to retry is `crate::upload`'s business. Every change is one transaction with `synchronous=FULL`, so a
//! kill at any moment leaves the row as it was before or after the change, never between.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;

/// The queue database's file name in the data folder.
pub const QUEUE_FILE_NAME: &str = "upload-queue.sqlite";

/// The schema version this build writes (SQLite's `user_version`).
const QUEUE_VERSION: i32 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS upload (
    case_id TEXT PRIMARY KEY NOT NULL,
    case_path TEXT NOT NULL,
    server TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    unsigned_reason TEXT,
    queued_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    next_attempt_utc TEXT,
    study_instance_uid TEXT,
    num_instances INTEGER,
    case_sha256_hex TEXT
);";

/// Where a case's upload stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Waiting to be sent (new, or a retry after an error that may pass, at `next_attempt_utc`).
    Pending,
    /// Being sent now (or the process sending it was stopped; it is sent again, and the server answers "already
    /// stored" for what it holds).
    Sending,
    /// Every object was accepted by the server, not yet confirmed.
    Delivered,
    /// The server was asked what it holds and holds the whole study.
    Confirmed,
    /// Stopped until a person acts (wrong password, a case not signed off, a damaged case file).
    Failed,
}

impl UploadState {
    /// The stored spelling.
    pub fn key(self) -> &'static str {
        match self {
            UploadState::Pending => "pending",
            UploadState::Sending => "sending",
            UploadState::Delivered => "delivered",
            UploadState::Confirmed => "confirmed",
            UploadState::Failed => "failed",
        }
    }

    fn from_key(key: &str) -> Option<UploadState> {
        [
            UploadState::Pending,
            UploadState::Sending,
            UploadState::Delivered,
            UploadState::Confirmed,
            UploadState::Failed,
        ]
        .into_iter()
        .find(|state| state.key() == key)
    }
}

/// One case's row in the queue.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UploadEntry {
    /// The pseudonymous case id.
    pub case_id: String,
    /// The case file.
    pub case_path: PathBuf,
    /// The archive it goes to (its URL, never with credentials).
    pub server: String,
    /// Where it stands.
    pub state: UploadState,
    /// How many attempts were started.
    pub attempts: u32,
    /// Why the newest attempt failed.
    pub last_error: Option<String>,
    /// Why a case that is not validly signed off is uploaded anyway (audited in the case file).
    pub unsigned_reason: Option<String>,
    /// When it was queued, UTC.
    pub queued_utc: String,
    /// When the row last changed, UTC.
    pub updated_utc: String,
    /// When the next automatic attempt is due, UTC (pending entries only).
    pub next_attempt_utc: Option<String>,
    /// The study's instance UID, once built.
    pub study_instance_uid: Option<String>,
    /// How many objects the study has, once built.
    pub num_instances: Option<u32>,
    /// The SHA-256 of the case file that was sent, once built.
    pub case_sha256_hex: Option<String>,
}

/// What an attempt sent, recorded when the server has accepted every object.
#[derive(Clone, Debug, PartialEq)]
pub struct SentStudy<'a> {
    /// The study's instance UID.
    pub study_instance_uid: &'a str,
    /// How many objects it has.
    pub num_instances: u32,
    /// The SHA-256 of the case file it carries.
    pub case_sha256_hex: &'a str,
}

/// The queue database.
pub struct UploadQueue {
    conn: Connection,
}

fn utc_text(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn entry_of(row: &Row<'_>) -> rusqlite::Result<UploadEntry> {
    let state: String = row.get("state")?;
    Ok(UploadEntry {
        case_id: row.get("case_id")?,
        case_path: PathBuf::from(row.get::<_, String>("case_path")?),
        server: row.get("server")?,
        state: UploadState::from_key(&state).unwrap_or(UploadState::Pending),
        attempts: row.get("attempts")?,
        last_error: row.get("last_error")?,
        unsigned_reason: row.get("unsigned_reason")?,
        queued_utc: row.get("queued_utc")?,
        updated_utc: row.get("updated_utc")?,
        next_attempt_utc: row.get("next_attempt_utc")?,
        study_instance_uid: row.get("study_instance_uid")?,
        num_instances: row.get("num_instances")?,
        case_sha256_hex: row.get("case_sha256_hex")?,
    })
}

impl UploadQueue {
    /// Opens the queue of data folder `dir` (created with its folder if missing).
    pub fn open(dir: &Path) -> Result<UploadQueue, StoreError> {
        std::fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
        let path = dir.join(QUEUE_FILE_NAME);
        let open_error = |error: rusqlite::Error| StoreError::Open {
            path: path.clone(),
            detail: error.to_string(),
        };
        let conn = Connection::open(&path).map_err(open_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version > QUEUE_VERSION {
            return Err(StoreError::Newer {
                path,
                version,
                supported: QUEUE_VERSION,
            });
        }
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", QUEUE_VERSION)?;
        Ok(UploadQueue { conn })
    }

    /// Queues `case_id` for `server` (due now): a new row, or the existing one made pending again with its
    /// attempts kept. `unsigned_reason` replaces the stored one when given.
    pub fn enqueue(
        &self,
        case_id: &str,
        case_path: &Path,
        server: &str,
        unsigned_reason: Option<&str>,
    ) -> Result<UploadEntry, StoreError> {
        let now = super::utc_now();
        self.conn.execute(
            "INSERT INTO upload (case_id, case_path, server, state, unsigned_reason, queued_utc, updated_utc,
                                 next_attempt_utc)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5, ?5)
             ON CONFLICT (case_id) DO UPDATE SET
                 case_path = excluded.case_path, server = excluded.server, state = 'pending',
                 unsigned_reason = COALESCE(excluded.unsigned_reason, unsigned_reason),
                 updated_utc = excluded.updated_utc, next_attempt_utc = excluded.next_attempt_utc",
            params![case_id, case_path.to_string_lossy(), server, unsigned_reason, now],
        )?;
        self.require(case_id)
    }

    /// The row of `case_id`, if it is queued.
    pub fn entry(&self, case_id: &str) -> Result<Option<UploadEntry>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT * FROM upload WHERE case_id = ?1", [case_id], entry_of)
            .optional()?)
    }

    fn require(&self, case_id: &str) -> Result<UploadEntry, StoreError> {
        self.entry(case_id)?
            .ok_or_else(|| StoreError::Invalid(format!("{case_id} is not in the upload queue")))
    }

    /// Every row, by case id.
    pub fn entries(&self) -> Result<Vec<UploadEntry>, StoreError> {
        let mut statement = self.conn.prepare("SELECT * FROM upload ORDER BY case_id")?;
        let rows = statement.query_map([], entry_of)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The rows an automatic run should send now: pending and due, or left `sending` or `delivered` by a process
    /// that stopped (older than `stale_before`).
    pub fn due(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        stale_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<UploadEntry>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT * FROM upload
             WHERE (state = 'pending' AND (next_attempt_utc IS NULL OR next_attempt_utc <= ?1))
                OR (state IN ('sending', 'delivered') AND updated_utc <= ?2)
             ORDER BY case_id",
        )?;
        let rows = statement.query_map(params![utc_text(now), utc_text(stale_before)], entry_of)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn update(
        &self,
        case_id: &str,
        sql: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<UploadEntry, StoreError> {
        let now = super::utc_now();
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&case_id, &now];
        all.extend_from_slice(values);
        let changed = self.conn.execute(
            &format!("UPDATE upload SET updated_utc = ?2, {sql} WHERE case_id = ?1"),
            all.as_slice(),
        )?;
        if changed == 0 {
            return Err(StoreError::Invalid(format!(
                "{case_id} is not in the upload queue"
            )));
        }
        self.require(case_id)
    }

    /// An attempt starts: `sending`, one more attempt.
    pub fn start_attempt(&self, case_id: &str) -> Result<UploadEntry, StoreError> {
        self.update(
            case_id,
            "state = 'sending', attempts = attempts + 1, next_attempt_utc = NULL",
            &[],
        )
    }

    /// The server accepted every object of `study`.
    pub fn delivered(&self, case_id: &str, study: &SentStudy<'_>) -> Result<UploadEntry, StoreError> {
        self.update(
            case_id,
            "state = 'delivered', last_error = NULL, study_instance_uid = ?3, num_instances = ?4,
             case_sha256_hex = ?5",
            &[
                &study.study_instance_uid,
                &study.num_instances,
                &study.case_sha256_hex,
            ],
        )
    }

    /// The server holds the whole study.
    pub fn confirmed(&self, case_id: &str) -> Result<UploadEntry, StoreError> {
        self.update(
            case_id,
            "state = 'confirmed', last_error = NULL, next_attempt_utc = NULL",
            &[],
        )
    }

    /// The attempt failed with an error that may pass: pending again, next attempt at `next_attempt`.
    pub fn retry_later(
        &self,
        case_id: &str,
        error: &str,
        next_attempt: chrono::DateTime<chrono::Utc>,
    ) -> Result<UploadEntry, StoreError> {
        self.update(
            case_id,
            "state = 'pending', last_error = ?3, next_attempt_utc = ?4",
            &[&error, &utc_text(next_attempt)],
        )
    }

    /// The attempt failed with an error a person has to fix: failed, no automatic retry.
    pub fn failed(&self, case_id: &str, error: &str) -> Result<UploadEntry, StoreError> {
        self.update(
            case_id,
            "state = 'failed', last_error = ?3, next_attempt_utc = NULL",
            &[&error],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_reopening_and_move_through_the_states() {
        let dir = tempfile::tempdir().unwrap();
        let case = dir.path().join("HER-TST-0001.heracles");
        {
            let queue = UploadQueue::open(dir.path()).unwrap();
            let entry = queue
                .enqueue("HER-TST-0001", &case, "http://archive", None)
                .unwrap();
            assert_eq!((entry.state, entry.attempts), (UploadState::Pending, 0));
            let entry = queue.start_attempt("HER-TST-0001").unwrap();
            assert_eq!((entry.state, entry.attempts), (UploadState::Sending, 1));
        }
        // Reopened after the process stopped mid-attempt: the row is still sending, and stale rows are due.
        let queue = UploadQueue::open(dir.path()).unwrap();
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::hours(1);
        assert!(
            queue
                .due(now, now - chrono::Duration::hours(1))
                .unwrap()
                .is_empty()
        );
        assert_eq!(queue.due(later, later).unwrap().len(), 1);
        let entry = queue
            .retry_later("HER-TST-0001", "archive unreachable", later)
            .unwrap();
        assert_eq!(entry.state, UploadState::Pending);
        assert_eq!(entry.last_error.as_deref(), Some("archive unreachable"));
        assert!(queue.due(now, now).unwrap().is_empty(), "not due before its time");
        assert_eq!(queue.due(later, now).unwrap().len(), 1);
        // A reason given once is kept when the case is queued again without one.
        queue
            .enqueue("HER-TST-0001", &case, "http://archive", Some("core lab asked"))
            .unwrap();
        let entry = queue
            .enqueue("HER-TST-0001", &case, "http://archive", None)
            .unwrap();
        assert_eq!(entry.unsigned_reason.as_deref(), Some("core lab asked"));
        assert_eq!(entry.attempts, 1);
        queue.start_attempt("HER-TST-0001").unwrap();
        let sent = SentStudy {
            study_instance_uid: "1.2.3",
            num_instances: 4,
            case_sha256_hex: "ab",
        };
        assert_eq!(
            queue.delivered("HER-TST-0001", &sent).unwrap().num_instances,
            Some(4)
        );
        let entry = queue.confirmed("HER-TST-0001").unwrap();
        assert_eq!((entry.state, entry.attempts), (UploadState::Confirmed, 2));
        assert_eq!(
            queue.failed("HER-TST-0001", "x").unwrap().state,
            UploadState::Failed
        );
        assert!(queue.failed("HER-TST-0002", "x").is_err());
        assert_eq!(queue.entries().unwrap().len(), 1);
    }
}
