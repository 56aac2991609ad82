//! The locks SQLite holds on a case file while this process records it. On Linux, closing any descriptor of a
//! file drops every POSIX lock the process holds on it, SQLite's too: a file opened and closed beside SQLite
//! (reading a header, say) would let another process take the file from under the recorder (switch it out of
//! WAL mode, or checkpoint and delete the log the recorder is still writing). Checked from a child process,
//! since a process never conflicts with its own locks.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use heracles::store::CaseFile;

use super::store::{begin_recording, case_id, commit_block};

/// The child process of [`a_recording_file_stays_locked_while_this_process_opens_it_again`]: another SQLite
/// user of the case file named by `HERACLES_LOCK_CHILD` tries, without waiting, to read it in exclusive locking
/// mode, which needs the exclusive lock on the file no other connection may hold, and says what happened. Had it
/// the lock, it would checkpoint the log on closing and delete it, with the recorder still writing into it.
#[test]
#[ignore = "run as a child process by a_recording_file_stays_locked_while_this_process_opens_it_again"]
fn lock_child() {
    let Ok(path) = std::env::var("HERACLES_LOCK_CHILD") else {
        return;
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE").unwrap();
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(n) => println!("outcome: read {n} tables"),
        Err(error) => println!("outcome: refused: {error}"),
    }
}

/// What another process gets when it tries to take the case file at `path` for itself.
fn another_process_tries_to_take(path: &Path) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "store_locks::lock_child", "--nocapture"])
        .env("HERACLES_LOCK_CHILD", path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("outcome: "))
        .unwrap_or_else(|| panic!("{output:?}"))
        .to_owned()
}

#[test]
fn a_recording_file_stays_locked_while_this_process_opens_it_again() {
    let dir = tempfile::tempdir().unwrap();
    // As the app opens a case: the file for the protocol's records, and a recorder on a second connection.
    let file = CaseFile::create(dir.path(), case_id(61), "tester").unwrap();
    let path = file.path().to_owned();
    let mut recorder = begin_recording(CaseFile::open(&path).unwrap());
    let mut log = path.as_os_str().to_owned();
    log.push("-wal");
    let refused = |when: &str| {
        let outcome = another_process_tries_to_take(&path);
        assert!(
            outcome.starts_with("refused") && outcome.contains("locked"),
            "{when}: another process could take the recording file: {outcome}; the log the recorder writes {}",
            if Path::new(&log).exists() {
                "is still there"
            } else {
                "was deleted"
            }
        );
    };
    refused("recording");
    // What else opens the recording file in this process: the case list and review read it, review edits it.
    CaseFile::open_read_only(&path).unwrap().summary().unwrap();
    refused("after reading it");
    drop(CaseFile::open(&path).unwrap());
    refused("after opening it for edits");
    drop(file);
    commit_block(&mut recorder, 20);
    refused("the recorder alone");
}
