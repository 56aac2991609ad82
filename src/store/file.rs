//! Creating, validating and opening case files. A file is checked read-only (size, SQLite header,
//! `application_id`, `user_version`, and for editing SQLite's quick integrity check) before anything may write
//! to it; only then is it migrated and opened for writing. Every check reads the file through SQLite, never
//! through a descriptor of its own (see [`check_header`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::schema::{self, APPLICATION_ID, CURRENT_VERSION, MIGRATIONS};
use super::{StoreError, audit};
use crate::model::CaseId;

/// How long a writer waits for another connection's write lock (the recorder and an edit in the same file).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page size of new case files, bytes.
const PAGE_SIZE: i64 = 16384;

/// An open case file.
pub struct CaseFile {
    pub(crate) conn: Connection,
    path: PathBuf,
    writable: bool,
}

impl std::fmt::Debug for CaseFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseFile")
            .field("path", &self.path)
            .field("writable", &self.writable)
            .finish()
    }
}

/// What [`check_header`] could not settle from the main file alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderCheck {
    /// The main file is complete as its header describes.
    Complete,
    /// The main file is shorter than its header says, but a write-ahead log lies beside it: a checkpoint was
    /// interrupted (the header page is copied first) and SQLite rebuilds the file's pages from the log. Only a
    /// check after SQLite has opened the file can tell whether anything is really missing.
    NeedsLog,
}

/// The write-ahead log beside a case file (`FILE-wal`).
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Whether a write-ahead log with at least its header lies beside `path`.
fn has_wal(path: &Path) -> bool {
    std::fs::metadata(wal_path(path)).is_ok_and(|metadata| metadata.len() >= 32)
}

/// Checks the main file before a connection that may write to it or its log opens it: not empty, an SQLite
/// database of heracles (`application_id`), and not shorter than its header says unless a write-ahead log beside
/// it holds the rest.
///
/// Read by SQLite, never through a descriptor of our own: on Linux, closing any descriptor of a file drops every
/// POSIX lock this process holds on it, SQLite's included, and another process could then take a file this
/// process is recording (take it out of WAL mode, or checkpoint and delete the log the recorder still writes).
/// SQLite keeps its own descriptors of a file this process holds locks on open until those locks go. `metadata`
/// opens nothing.
fn check_header(path: &Path) -> Result<HeaderCheck, StoreError> {
    let metadata = std::fs::metadata(path).map_err(StoreError::io(path))?;
    if !metadata.is_file() {
        return Err(StoreError::Invalid(format!("{}: not a file", path.display())));
    }
    let len = metadata.len();
    if len == 0 {
        return Err(StoreError::Empty(path.to_owned()));
    }
    let code = |result: &Result<(u64, i32), rusqlite::Error>| {
        result.as_ref().err().and_then(rusqlite::Error::sqlite_error_code)
    };
    let mut header = main_header(path, false);
    // SQLite calls a main file shorter than its header says corrupt; opened again without that check, it tells
    // a short file from one damaged some other way.
    let mut short = false;
    if code(&header) == Some(rusqlite::ErrorCode::DatabaseCorrupt) {
        let again = main_header(path, true);
        if again.is_ok() {
            (header, short) = (again, true);
        }
    }
    if code(&header) == Some(rusqlite::ErrorCode::NotADatabase) {
        return Err(StoreError::NotSqlite(path.to_owned()));
    }
    if len < 100 {
        return Err(StoreError::Truncated {
            path: path.to_owned(),
            detail: format!("{len} bytes, shorter than the header"),
        });
    }
    let (page_size, application_id) = header.map_err(|error| match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => damaged(path)(error),
        _ => StoreError::Open {
            path: path.to_owned(),
            detail: error.to_string(),
        },
    })?;
    if application_id != APPLICATION_ID {
        return Err(StoreError::Foreign {
            path: path.to_owned(),
            application_id,
        });
    }
    if short || len % page_size != 0 {
        if has_wal(path) {
            return Ok(HeaderCheck::NeedsLog);
        }
        return Err(StoreError::Truncated {
            path: path.to_owned(),
            detail: if short {
                format!("{len} bytes, shorter than its header says")
            } else {
                format!("{len} bytes, not a whole number of {page_size}-byte pages")
            },
        });
    }
    Ok(HeaderCheck::Complete)
}

/// The page size and `application_id` the main file's header states, read by SQLite from the main file alone
/// (an `immutable` reader: without its log, taking no locks) and without reading its schema. `allow_short` lets
/// SQLite open a main file shorter than its header says (`writable_schema`), which it otherwise calls corrupt.
fn main_header(path: &Path, allow_short: bool) -> Result<(u64, i32), rusqlite::Error> {
    let conn = connect_reader(path, true)?;
    if allow_short {
        conn.pragma_update(None, "writable_schema", true)?;
    }
    // Reading `application_id` has SQLite read the header; the page size is then the one it read.
    let application_id = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let page_size = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
    Ok((page_size, application_id))
}

/// A read-only connection that has read nothing yet; `immutable` reads the file as it is on disk, without the
/// shared-memory and log files and without locks (for read-only media).
fn connect_reader(path: &Path, immutable: bool) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if immutable {
        // A URI: the characters URIs reserve are escaped in the path.
        let escaped = path
            .to_string_lossy()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        Connection::open_with_flags(
            format!("file:{escaped}?immutable=1"),
            flags | OpenFlags::SQLITE_OPEN_URI,
        )
    } else {
        Connection::open_with_flags(path, flags)
    }
}

/// A read-only connection (see [`connect_reader`]) that has answered one query.
pub(crate) fn open_reader(path: &Path, immutable: bool) -> Result<Connection, rusqlite::Error> {
    let conn = connect_reader(path, immutable)?;
    conn.pragma_query_value(None, "schema_version", |row| row.get::<_, i64>(0))?;
    Ok(conn)
}

/// Turns SQLite's "not a database" and "malformed" answers into the errors operators understand.
fn damaged(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotSqlite(path.to_owned()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::Damaged {
            path: path.to_owned(),
            detail: error.to_string(),
        },
        _ => StoreError::Sqlite(error),
    }
}

/// Opens `path` read-only and checks `application_id` and `user_version`; returns the connection and version.
///
/// A file whose main part is short but whose write-ahead log holds the rest (a crash during a checkpoint) is
/// opened as SQLite recovers it and then given SQLite's quick check: it is refused only if pages are really
/// missing.
fn open_checked(path: &Path) -> Result<(Connection, i32, bool), StoreError> {
    let header = check_header(path)?;
    let mut immutable = false;
    let conn = match open_reader(path, false) {
        Ok(conn) => conn,
        // Read-only media, or a folder this user cannot write: SQLite cannot make the shared-memory file a
        // write-ahead-log reader needs. A file nobody can be writing is read as it is (`immutable`).
        Err(error)
            if matches!(
                error.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::PermissionDenied
                )
            ) =>
        {
            let conn = open_reader(path, true).map_err(|_| StoreError::Open {
                path: path.to_owned(),
                detail: error.to_string(),
            })?;
            immutable = true;
            if has_wal(path) {
                log::warn!(
                    "{}: opened read-only as it is on disk; its write-ahead log cannot be read here, so the \
                     newest samples of an unfinished recording may be missing",
                    path.display()
                );
            } else {
                log::info!(
                    "{}: opened read-only (the folder cannot be written)",
                    path.display()
                );
            }
            conn
        }
        Err(error) => {
            return Err(match error.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                    damaged(path)(error)
                }
                _ => StoreError::Open {
                    path: path.to_owned(),
                    detail: error.to_string(),
                },
            });
        }
    };
    if header == HeaderCheck::NeedsLog {
        let problems = integrity_problems(&conn, false).map_err(damaged(path))?;
        if let Some(first) = problems.first() {
            return Err(StoreError::Damaged {
                path: path.to_owned(),
                detail: format!(
                    "interrupted while writing, and its write-ahead log does not repair it: {first}"
                ),
            });
        }
    }
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(damaged(path))?;
    if application_id != APPLICATION_ID {
        return Err(StoreError::Foreign {
            path: path.to_owned(),
            application_id,
        });
    }
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(damaged(path))?;
    if version > CURRENT_VERSION {
        return Err(StoreError::Newer {
            path: path.to_owned(),
            version,
            supported: CURRENT_VERSION,
        });
    }
    if version < 1 {
        return Err(StoreError::Damaged {
            path: path.to_owned(),
            detail: "it has no schema (version 0)".into(),
        });
    }
    Ok((conn, version, immutable))
}

/// SQLite's quick integrity check; an error naming the first problem when it fails.
pub(crate) fn integrity_problems(conn: &Connection, full: bool) -> Result<Vec<String>, rusqlite::Error> {
    let pragma = if full {
        "PRAGMA integrity_check(20)"
    } else {
        "PRAGMA quick_check(20)"
    };
    let mut statement = conn.prepare(pragma)?;
    let lines = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if lines == ["ok"] { Vec::new() } else { lines })
}

fn set_writer_pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(BUSY_TIMEOUT)
}

/// Whether a process with this id is running (Linux: `/proc/PID`; elsewhere assumed running, so nothing is
/// removed that might still be in use).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Makes a rename or creation in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(dir))
}

impl CaseFile {
    /// Creates the file of a new case in `dir` (created if missing), named after the case id, and opens it for
    /// editing. Fails if the case already has a file. The file appears complete or not at all: it is built
    /// under a temporary name and linked into place.
    pub fn create(dir: &Path, case_id: CaseId, operator: &str) -> Result<CaseFile, StoreError> {
        if operator.trim().is_empty() {
            return Err(StoreError::Invalid("the operator is required".into()));
        }
        std::fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
        let path = dir.join(super::file_name(case_id));
        if path.exists() {
            return Err(StoreError::Exists(path));
        }
        let partial = dir.join(format!(
            ".{}.partial-{}",
            super::file_name(case_id),
            std::process::id()
        ));
        for suffix in ["", "-wal", "-shm"] {
            let stale = PathBuf::from(format!("{}{suffix}", partial.display()));
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(StoreError::io(&stale))?;
            }
        }
        let result = Self::initialise(&partial, case_id, operator).and_then(|()| {
            // A hard link never replaces an existing file, unlike a rename: two creators cannot clobber each other.
            std::fs::hard_link(&partial, &path).map_err(|error| match error.kind() {
                std::io::ErrorKind::AlreadyExists => StoreError::Exists(path.clone()),
                _ => StoreError::io(&path)(error),
            })
        });
        let removed = std::fs::remove_file(&partial);
        result?;
        removed.map_err(StoreError::io(&partial))?;
        sync_dir(dir)?;
        CaseFile::open(&path)
    }

    fn initialise(path: &Path, case_id: CaseId, operator: &str) -> Result<(), StoreError> {
        let mut conn = Connection::open(path)?;
        // Chunk rows are ~0.5-1 kB: large pages hold many, so little of each page is left empty.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        set_writer_pragmas(&conn)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO case_info (id, case_id, site, operator, created_utc, status) VALUES (1, ?1, ?2, ?3, ?4, 'open')",
            params![case_id.to_string(), case_id.site().code(), operator, super::utc_now()],
        )?;
        let new_value = super::edits::entity_json(&tx, "case", 1)?;
        audit::append(
            &tx,
            audit::Edit {
                who: operator,
                action: "create_case",
                entity: "case",
                entity_id: Some(1),
                old_value: None,
                new_value,
                reason: "new case",
            },
        )?;
        tx.commit()?;
        // Closing checkpoints the WAL into the file and removes it, so the linked file stands alone.
        conn.close().map_err(|(_, error)| StoreError::Sqlite(error))?;
        let file = std::fs::File::open(path).map_err(StoreError::io(path))?;
        file.sync_all().map_err(StoreError::io(path))
    }

    /// Where a case file is built before it appears in `dir` (see [`CaseFile::publish`]): a hidden folder named
    /// after the case and this process, which [`crate::store::list_case_files`] never lists. Folders left by
    /// builders that died are removed first (they hold nothing that was ever a case).
    pub fn staging_dir(dir: &Path, case_id: CaseId) -> Result<PathBuf, StoreError> {
        let prefix = format!(".building-{case_id}-");
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok())
                    && pid != std::process::id()
                    && !process_alive(pid)
                {
                    let stale = entry.path();
                    std::fs::remove_dir_all(&stale).map_err(StoreError::io(&stale))?;
                }
            }
        }
        Ok(dir.join(format!("{prefix}{}", std::process::id())))
    }

    /// Makes a case file built in a staging folder appear in `dir` under its own name, complete or not at all:
    /// checks it is closed (no write-ahead log left) and verifies, links it into place (never replacing an
    /// existing case), makes that durable and removes the staging folder. Returns the published path.
    pub fn publish(staged: &Path, dir: &Path) -> Result<PathBuf, StoreError> {
        let name = staged
            .file_name()
            .ok_or_else(|| StoreError::Invalid(format!("{}: not a file", staged.display())))?;
        if has_wal(staged) {
            return Err(StoreError::Invalid(format!(
                "{}: still open (its write-ahead log is not yet merged)",
                staged.display()
            )));
        }
        let report = CaseFile::open_read_only(staged)?.verify()?;
        if let Some(problem) = report.problems.first() {
            return Err(StoreError::Damaged {
                path: staged.to_owned(),
                detail: problem.message.clone(),
            });
        }
        let path = dir.join(name);
        std::fs::hard_link(staged, &path).map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::Exists(path.clone()),
            _ => StoreError::io(&path)(error),
        })?;
        sync_dir(dir)?;
        if let Some(staging) = staged.parent() {
            std::fs::remove_dir_all(staging).map_err(StoreError::io(staging))?;
        }
        Ok(path)
    }

    /// Opens a case file for editing and recording: validates it read-only (header, application id, version,
    /// SQLite quick check), then migrates it to the current schema if it is older.
    pub fn open(path: &Path) -> Result<CaseFile, StoreError> {
        Self::open_with_migrations(path, MIGRATIONS)
    }

    pub(crate) fn open_with_migrations(path: &Path, migrations: &[&str]) -> Result<CaseFile, StoreError> {
        let (checker, _, immutable) = open_checked(path)?;
        if immutable {
            return Err(StoreError::ReadOnlyPlace(path.to_owned()));
        }
        let problems = integrity_problems(&checker, false).map_err(damaged(path))?;
        if let Some(first) = problems.first() {
            return Err(StoreError::Damaged {
                path: path.to_owned(),
                detail: first.clone(),
            });
        }
        drop(checker);
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A file SQLite opened for reading only (write-protected), or whose log and shared-memory files cannot be
        // written (read-only media, a folder this user cannot write): said so before anything tries to write.
        // (A writer holding the lock for longer than the busy timeout is no reason to refuse.)
        let probe = set_writer_pragmas(&conn).and_then(|()| {
            conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK")
                .or_else(|error| match error.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::DatabaseBusy) => Ok(()),
                    _ => Err(error),
                })
        });
        let read_only_code = |error: &rusqlite::Error| {
            matches!(
                error.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::PermissionDenied
                )
            )
        };
        if conn.is_readonly(rusqlite::MAIN_DB)? || probe.as_ref().is_err_and(read_only_code) {
            return Err(StoreError::ReadOnlyPlace(path.to_owned()));
        }
        probe?;
        schema::migrate(&mut conn, migrations)?;
        Ok(CaseFile {
            conn,
            path: path.to_owned(),
            writable: true,
        })
    }

    /// Opens a case file for viewing only (review, `case info`, `case verify`): validates header, application id
    /// and version but skips the integrity scan, so even a 2-hour case opens at once. Nothing is ever written.
    pub fn open_read_only(path: &Path) -> Result<CaseFile, StoreError> {
        let (conn, version, _) = open_checked(path)?;
        if version < CURRENT_VERSION {
            return Err(StoreError::NeedsMigration {
                path: path.to_owned(),
                version,
                current: CURRENT_VERSION,
            });
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(CaseFile {
            conn,
            path: path.to_owned(),
            writable: false,
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether edits are allowed (opened with [`CaseFile::open`] or [`CaseFile::create`]).
    pub fn writable(&self) -> bool {
        self.writable
    }

    pub(crate) fn writable_conn(&mut self) -> Result<&mut Connection, StoreError> {
        if self.writable {
            Ok(&mut self.conn)
        } else {
            Err(StoreError::ReadOnly)
        }
    }

    /// A consistent copy of the file at `out` (`VACUUM INTO`), safe while a recorder keeps writing: the copy
    /// holds everything committed when it started. Refuses to overwrite an existing file.
    pub fn snapshot(&self, out: &Path) -> Result<(), StoreError> {
        if out.exists() {
            return Err(StoreError::Exists(out.to_owned()));
        }
        let target = out
            .to_str()
            .ok_or_else(|| StoreError::Invalid(format!("{}: path is not UTF-8", out.display())))?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_id() -> CaseId {
        "HER-TST-0001".parse().unwrap()
    }

    #[test]
    fn a_failing_migration_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = CaseFile::create(dir.path(), case_id(), "op")
            .unwrap()
            .path()
            .to_owned();
        // A next version whose second statement fails after its first has created a table.
        let broken_next = "CREATE TABLE added_in_next (x INTEGER); INSERT INTO no_such_table VALUES (1);";
        let migrations = [MIGRATIONS, &[broken_next]].concat();
        let error = CaseFile::open_with_migrations(&path, &migrations).unwrap_err();
        assert!(
            matches!(error, StoreError::Migration { to_version, .. } if to_version == CURRENT_VERSION + 1),
            "{error}"
        );
        let file = CaseFile::open_read_only(&path).unwrap();
        let version: i32 = file
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, CURRENT_VERSION);
        let num_tables: i64 = file
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'added_in_next'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            num_tables, 0,
            "the failed migration's first statement was rolled back"
        );
        assert!(file.verify().unwrap().ok());
        // A working next version then applies, once.
        let good_next = "CREATE TABLE added_in_next (x INTEGER);";
        let file = CaseFile::open_with_migrations(&path, &[MIGRATIONS, &[good_next]].concat()).unwrap();
        let version: i32 = file
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, CURRENT_VERSION + 1);
    }

    #[test]
    fn create_refuses_an_existing_case_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        CaseFile::create(dir.path(), case_id(), "op").unwrap();
        assert!(matches!(
            CaseFile::create(dir.path(), case_id(), "op"),
            Err(StoreError::Exists(_))
        ));
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|name| name.starts_with("HER-TST-0001.heracles")),
            "{names:?}"
        );
    }
}
