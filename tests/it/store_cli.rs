//! `heracles record` and `heracles case` as a user runs them: crash safety under SIGKILL at random moments,
//! `case info --json`, `case verify` catching tampering, `case snapshot` while recording, `case list`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heracles::store::{COMMIT_INTERVAL, CaseFile};

fn heracles() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heracles"));
    command.env_remove("HERACLES_DATA_DIR").env("RUST_LOG", "warn");
    command
}

/// What the child's recorder reported on stderr (debug log), with when the line arrived.
#[derive(Clone, Copy, Debug)]
enum CommitLine {
    Started(Instant),
    Took(Instant, Duration),
}

/// Starts `heracles record` for `seconds` and waits for its `recording started` line; returns the child, the
/// instant the line arrived and the recorder's commit lines as they arrive.
fn start_recording(dir: &Path, case: &str, seconds: f64) -> (Child, Instant, Arc<Mutex<Vec<CommitLine>>>) {
    let mut child = heracles()
        .env("RUST_LOG", "warn,heracles::store::recorder=debug")
        .args([
            "record",
            "--source",
            "sim",
            "--case",
            case,
            "--seconds",
            &seconds.to_string(),
            "--data-dir",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let commits = Arc::new(Mutex::new(Vec::new()));
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let seen = commits.clone();
    std::thread::Builder::new()
        .name("record-stderr".into())
        .spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let now = Instant::now();
                let event = if line.ends_with("commit started") {
                    CommitLine::Started(now)
                } else if let Some(us) = line.split("commit took ").nth(1) {
                    let us: u64 = us.trim_end_matches(" us").parse().unwrap_or(0);
                    CommitLine::Took(now, Duration::from_micros(us))
                } else {
                    continue;
                };
                seen.lock().unwrap().push(event);
            }
        })
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            let status = child.wait().unwrap();
            panic!("record exited ({status}) before it started recording");
        };
        if line.starts_with("recording started") {
            let started = Instant::now();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::Builder::new()
                .name("record-stdout".into())
                .spawn(move || lines.for_each(drop))
                .unwrap();
            return (child, started, commits);
        }
    }
}

/// Time the recorder spent inside commits (disk I/O, `fsync`) from `since` to `killed`: completed commits whose
/// report arrived in that stretch, plus the commit in flight at the kill, if any.
fn committing_s(commits: &[CommitLine], since: Instant, killed: Instant) -> f64 {
    let mut total = Duration::ZERO;
    for line in commits {
        if let CommitLine::Took(at, took) = *line
            && at >= since
            && at <= killed
        {
            total += took;
        }
    }
    if let Some(CommitLine::Started(at)) = commits.iter().rev().find(|line| match line {
        CommitLine::Started(at) | CommitLine::Took(at, _) => *at <= killed,
    }) {
        total += killed.saturating_duration_since(*at);
    }
    total.as_secs_f64()
}

fn case_path(dir: &Path, case: &str) -> PathBuf {
    dir.join(format!("{case}.heracles"))
}

/// Seconds of samples stored for every channel (all channels must agree), checking the file verifies and has
/// no gaps.
fn recorded_duration_s(path: &Path) -> f64 {
    let file = CaseFile::open_read_only(path).unwrap();
    let report = file.verify().unwrap();
    assert!(report.ok(), "{}: {:?}", path.display(), report.problems);
    assert!(
        file.gaps().unwrap().is_empty(),
        "{}: unexpected gaps {:?}",
        path.display(),
        file.gaps().unwrap()
    );
    let channels = file.channels().unwrap();
    if channels.is_empty() {
        // Killed before the first commit: nothing recorded yet (the bound on what is missing still applies).
        return 0.0;
    }
    assert!(channels.len() >= 6, "{channels:?}");
    let counts: Vec<u64> = channels.iter().map(|c| c.num_samples).collect();
    assert!(
        counts.iter().all(|&n| n == counts[0]),
        "channels disagree: {counts:?}"
    );
    counts[0] as f64 / channels[0].sample_rate_hz
}

/// Nanoseconds the child's data-path threads (source, engine, recorder) have spent runnable but waiting for a
/// CPU, from `/proc/PID/task/*/schedstat` (second field); 0 where the kernel does not report it.
fn run_queue_wait_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|name| {
                let name = name.trim();
                name == "engine" || name == "recorder" || name.starts_with("source-")
            })
        })
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// Samples [`run_queue_wait_ns`] of `pid` every 10 ms until `stop` is set; returns (instant, wait) pairs.
fn watch_run_queue(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(Instant, u64)>> {
    std::thread::Builder::new()
        .name("run-queue-watch".into())
        .spawn(move || {
            let mut history = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                history.push((Instant::now(), run_queue_wait_ns(pid)));
                std::thread::sleep(Duration::from_millis(10));
            }
            history
        })
        .unwrap()
}

/// Kills `heracles record` at `num_kills` pseudo-random moments in 0.3-1.5 s; returns the largest amount of
/// data missing before a kill, in seconds.
///
/// The bound is the issue's: the commit interval plus 100 ms, which assumes the machine runs the recorder and
/// the disk answers promptly. On a loaded CI runner neither holds, and data the child never acquired, or that
/// sat in a `fsync` the disk was slow to finish, is not a fault of the design. So two measured delays in the
/// last stretch before the kill are added to the allowance and printed: the time the child's data-path threads
/// waited for a CPU (kernel `schedstat`; a wait still in progress at the kill is not counted, so this errs
/// strict) and the time the recorder spent inside commits by its own debug log. On an idle machine both are a
/// few ms and the check is the bare bound.
fn kill_at_random_moments(num_kills: usize, seed: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut state = seed;
    let mut max_missing_s: f64 = 0.0;
    let mut max_starved_s: f64 = 0.0;
    let mut max_io_s: f64 = 0.0;
    let bound_s = COMMIT_INTERVAL.as_secs_f64() + 0.1;
    for k in 0..num_kills {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay_s = 0.3 + 1.2 * ((state >> 11) as f64 / (1u64 << 53) as f64);
        let case = format!("HER-TST-{:04}", k + 1);
        let (mut child, started, commits) = start_recording(dir.path(), &case, 60.0);
        let stop = Arc::new(AtomicBool::new(false));
        let watch = watch_run_queue(child.id(), stop.clone());
        std::thread::sleep(
            Duration::from_secs_f64(delay_s) - started.elapsed().min(Duration::from_secs_f64(delay_s)),
        );
        let waited_at_kill = run_queue_wait_ns(child.id());
        child.kill().unwrap(); // SIGKILL
        let killed = Instant::now();
        let recording_s = started.elapsed().as_secs_f64();
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let history = watch.join().unwrap();
        // Run-queue wait within the last `bound_s` before the kill.
        let window_start = killed
            .checked_sub(Duration::from_secs_f64(bound_s))
            .unwrap_or(started);
        let waited_before = history
            .iter()
            .rev()
            .find(|(at, _)| *at <= window_start)
            .or(history.first())
            .map_or(waited_at_kill, |(_, wait)| *wait);
        let starved_s = waited_at_kill.saturating_sub(waited_before) as f64 * 1e-9;
        let io_s = committing_s(&commits.lock().unwrap(), window_start, killed);
        let recorded_s = recorded_duration_s(&case_path(dir.path(), &case));
        let missing_s = recording_s - recorded_s;
        max_missing_s = max_missing_s.max(missing_s);
        max_starved_s = max_starved_s.max(starved_s);
        max_io_s = max_io_s.max(io_s);
        assert!(
            missing_s <= bound_s + starved_s + io_s,
            "kill {k} after {recording_s:.3} s: {recorded_s:.3} s recorded, {missing_s:.3} s missing (> {bound_s} s + {starved_s:.3} s waiting for a CPU + {io_s:.3} s committing)"
        );
    }
    println!(
        "{num_kills} kills: at most {:.0} ms of data missing before a kill (bound {:.0} ms); in the last {:.0} ms before a kill the data-path threads waited at most {:.0} ms for a CPU and the recorder spent at most {:.0} ms committing",
        max_missing_s * 1000.0,
        bound_s * 1000.0,
        bound_s * 1000.0,
        max_starved_s * 1000.0,
        max_io_s * 1000.0
    );
    max_missing_s
}

#[test]
fn record_survives_sigkill_at_random_moments() {
    kill_at_random_moments(20, 0x5EED);
}

#[test]
#[ignore = "stress: 200 kills, several minutes"]
fn record_survives_many_sigkills() {
    kill_at_random_moments(200, 0xC0FFEE);
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn record_then_info_verify_snapshot_and_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0100";
    let path = case_path(dir.path(), case);
    // Snapshot while recording: a consistent, verifiable copy.
    let (mut child, _, _) = start_recording(dir.path(), case, 3.0);
    std::thread::sleep(Duration::from_millis(1200));
    let snapshot = dir.path().join("snapshot.sqlite");
    let output = run(heracles().args(["case", "snapshot"]).arg(&path).arg(&snapshot));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(child.wait().unwrap().success());
    let snapshot_s = recorded_duration_s(&snapshot);
    assert!(snapshot_s > 0.5 && snapshot_s < 2.5, "{snapshot_s}");

    let output = run(heracles().args(["case", "info", "--json"]).arg(&path));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let duration_s = info["duration_s"].as_f64().unwrap();
    assert!((duration_s - 3.0).abs() < 0.3, "{duration_s}");
    let channels = info["channels"].as_array().unwrap();
    let pa = channels.iter().find(|c| c["name"] == "pa").unwrap();
    assert_eq!(
        (pa["unit"].as_str(), pa["sample_rate_hz"].as_f64()),
        (Some("mmHg"), Some(1000.0))
    );
    assert_eq!(pa["num_samples"].as_f64().unwrap(), (duration_s * 1000.0).round());
    assert!(info["gaps"].as_array().unwrap().is_empty());
    assert!(info["steps"].is_array() && info["events"].is_array());

    // `case list` finds it by the data folder, `case verify` by its id.
    let output = run(heracles().args(["case", "list", "--data-dir"]).arg(dir.path()));
    assert!(text(&output.stdout).contains(case), "{}", text(&output.stdout));
    let output = run(heracles()
        .args(["case", "verify", case, "--data-dir"])
        .arg(dir.path()));
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );

    // Tamper with the audit trail behind the store's back: verify fails and says where.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET who = 'someone else' WHERE seq = 1")
        .unwrap();
    drop(conn);
    let output = run(heracles().args(["case", "verify"]).arg(&path));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("audit row 1"),
        "{}",
        text(&output.stderr)
    );

    // Bad files: a clear error, non-zero exit.
    let random = dir.path().join("random.heracles");
    std::fs::write(&random, [0x5Au8; 4096]).unwrap();
    let output = run(heracles().args(["case", "verify"]).arg(&random));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("not a case file"),
        "{}",
        text(&output.stderr)
    );
}

/// Puts a killed recording's files into the state a SIGKILL during a WAL checkpoint leaves: SQLite copies the
/// newest committed version of each page from the log into the main file in page order (page 1, with the new
/// page count, first) and only then syncs and resets the log. Copies pages `1..num_pages - 1`, so the main file
/// ends one page short of what its header describes and the log beside it still holds everything. Returns the
/// page count the header now describes.
fn interrupt_a_checkpoint(path: &Path) -> u64 {
    let mut wal_name = path.as_os_str().to_owned();
    wal_name.push("-wal");
    let wal = std::fs::read(PathBuf::from(wal_name)).unwrap();
    assert!(wal.len() > 32, "no write-ahead log beside {}", path.display());
    let be32 = |bytes: &[u8]| u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let page_size = be32(&wal[8..12]) as usize;
    let salts = &wal[16..24];
    // Frames of committed transactions only: up to the last commit frame whose salts match the log header.
    let mut committed: Vec<(u32, usize)> = Vec::new();
    let mut candidate: Vec<(u32, usize)> = Vec::new();
    let mut num_pages = 0u32;
    let mut offset = 32;
    while offset + 24 + page_size <= wal.len() {
        let frame = &wal[offset..offset + 24];
        if &frame[8..16] != salts {
            break;
        }
        candidate.push((be32(&frame[0..4]), offset + 24));
        if be32(&frame[4..8]) != 0 {
            num_pages = be32(&frame[4..8]);
            committed.append(&mut candidate);
        }
        offset += 24 + page_size;
    }
    assert!(num_pages >= 3, "the log commits only {num_pages} pages");
    let mut newest = std::collections::BTreeMap::new();
    for (page, at) in committed {
        newest.insert(page, at);
    }
    let mut main = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    use std::io::{Seek, SeekFrom, Write};
    for (&page, &at) in newest.range(1..num_pages - 1) {
        main.seek(SeekFrom::Start(u64::from(page - 1) * page_size as u64))
            .unwrap();
        main.write_all(&wal[at..at + page_size]).unwrap();
    }
    main.sync_all().unwrap();
    let len = main.metadata().unwrap().len();
    assert!(
        len < u64::from(num_pages) * page_size as u64,
        "main file {len} bytes, {num_pages} pages of {page_size}"
    );
    u64::from(num_pages)
}

/// Issue 14: a SIGKILL during a WAL checkpoint left a main file shorter than its header with the log beside it;
/// `case verify`, `info`, `export` and the writer refused it although SQLite recovers every sample from the log.
#[test]
fn a_kill_during_a_checkpoint_loses_nothing_and_is_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0200";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 60.0);
    std::thread::sleep(Duration::from_secs(4));
    child.kill().unwrap();
    child.wait().unwrap();
    let before_s = recorded_duration_s(&path);
    assert!(before_s > 2.0, "{before_s}");
    let num_pages = interrupt_a_checkpoint(&path);
    for command in [&["case", "verify"][..], &["case", "info", "--json"][..]] {
        let output = run(heracles().args(command).arg(&path));
        assert!(
            output.status.success(),
            "{command:?} on a file with {num_pages} pages in its header: {}",
            text(&output.stderr)
        );
    }
    let output = run(heracles()
        .args(["export", case, "--what", "wfdb", "--to"])
        .arg(dir.path().join("export"))
        .arg("--data-dir")
        .arg(dir.path()));
    assert!(output.status.success(), "export: {}", text(&output.stderr));
    assert_eq!(recorded_duration_s(&path), before_s, "every sample recovered");
    // The writer opens it too (SQLite replays the log) and it still verifies afterwards.
    drop(CaseFile::open(&path).unwrap());
    assert_eq!(recorded_duration_s(&path), before_s);
}

/// A main file that is really short (no log beside it to repair it) is still refused, naming the cause.
#[test]
fn a_truncated_case_without_a_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0201";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 1.5);
    assert!(child.wait().unwrap().success());
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 16384)
        .unwrap();
    let output = run(heracles().args(["case", "verify"]).arg(&path));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("truncated"),
        "{}",
        text(&output.stderr)
    );
}

/// Issue 14: the case file removed while recording. `record` used to report NOT SAVING and then never exit;
/// now it stops after `--max-not-saving-s`, says what was not saved and exits non-zero, within a bounded time.
#[test]
fn record_stops_and_fails_when_its_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0202";
    let path = case_path(dir.path(), case);
    let mut child = heracles()
        .args(["record", "--source", "sim", "--case", case, "--seconds", "120"])
        .args(["--max-not-saving-s", "2", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("recording started"), "{first}");
    std::thread::sleep(Duration::from_millis(1000));
    std::fs::remove_file(&path).unwrap();
    let removed = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            removed.elapsed() < Duration::from_secs(30),
            "record still running 30 s after its file was removed"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("NOT SAVING"), "{stderr}");
    assert!(stderr.contains("recording stopped"), "{stderr}");
    assert!(stderr.contains("could not be saved"), "{stderr}");
    println!(
        "exited {:.1} s after the file was removed",
        removed.elapsed().as_secs_f64()
    );
}

/// Issue 14: `heracles analyze --json | head -c 10` panicked (exit 101, broken pipe). A reader that closes the
/// pipe early now ends the command quietly with success, whether it closes at once or after a few bytes.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inca/inca_ivc_occlusion_example.csv");
    for read_first in [0usize, 10] {
        let mut child = heracles()
            .args(["analyze", "--json"])
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut head = vec![0u8; read_first];
        std::io::Read::read_exact(&mut stdout, &mut head).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert!(
            output.status.success(),
            "after reading {read_first} bytes: {:?} {stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        if read_first > 0 {
            assert!(text(&head).starts_with('{'), "{}", text(&head));
        }
    }
}

/// Issue 14's measurement: SIGKILLs of `record` spread over the first WAL checkpoint (about 52 s into a
/// recording, when the log reaches SQLite's 1000 pages), `HERACLES_CHECKPOINT_KILLS` of them (default 12),
/// `HERACLES_CHECKPOINT_PARALLEL` at a time (default 4). Every killed file must open for `case verify` and pass;
/// prints how many were refused or failed and the worst loss (recording time at the kill minus seconds stored).
/// Runs `one(k, num_kills, dir)` for `k` in `0..num_kills` (`$HERACLES_CHECKPOINT_KILLS`, else
/// `default_kills`), `$HERACLES_CHECKPOINT_PARALLEL` (default 4) at a time on named threads, in one folder, and
/// returns what each gave, in the order they ended.
fn run_kills<T: Send + 'static>(
    default_kills: usize,
    one: impl Fn(usize, usize, &Path) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (num_kills, parallel) = (
        number("HERACLES_CHECKPOINT_KILLS", default_kills),
        number("HERACLES_CHECKPOINT_PARALLEL", 4).max(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let one = Arc::new(one);
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    for first in (0..num_kills).step_by(parallel) {
        let batch: Vec<_> = (first..(first + parallel).min(num_kills))
            .map(|k| {
                let (dir, outcomes, one) = (dir.path().to_owned(), outcomes.clone(), one.clone());
                std::thread::Builder::new()
                    .name(format!("kill-{k}"))
                    .spawn(move || {
                        let outcome = one(k, num_kills, &dir);
                        outcomes.lock().unwrap().push(outcome);
                    })
                    .unwrap()
            })
            .collect();
        for thread in batch {
            thread.join().unwrap();
        }
    }
    std::mem::take(&mut *outcomes.lock().unwrap())
}

#[test]
#[ignore = "measurement: about a minute per kill"]
fn record_survives_kills_around_the_wal_checkpoint() {
    let outcomes = run_kills(12, |k, num_kills, dir| {
        // Spread over 46-60 s: before, during and after the first checkpoint.
        let delay_s = 46.0 + 14.0 * (k as f64 + 0.5) / num_kills as f64;
        let case = format!("HER-TST-{:04}", 3000 + k);
        let (mut child, started, _) = start_recording(dir, &case, 90.0);
        std::thread::sleep(Duration::from_secs_f64(delay_s).saturating_sub(started.elapsed()));
        child.kill().unwrap();
        let recording_s = started.elapsed().as_secs_f64();
        child.wait().unwrap();
        let path = case_path(dir, &case);
        let output = run(heracles().args(["case", "verify"]).arg(&path));
        let stored_s = output.status.success().then(|| recorded_duration_s(&path));
        (k, recording_s, stored_s, text(&output.stderr))
    });
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|(.., stored, _)| stored.is_none())
        .collect();
    let worst_loss_s = outcomes
        .iter()
        .filter_map(|(_, recording_s, stored_s, _)| stored_s.map(|s| recording_s - s))
        .fold(0.0, f64::max);
    println!(
        "{} kills at 46-60 s: {} refused or failing verify; worst loss {:.3} s",
        outcomes.len(),
        failed.len(),
        worst_loss_s
    );
    assert!(failed.is_empty(), "{failed:?}");
}

/// Issue 14: a case on read-only media (or in a folder the reviewer cannot write) could not be verified, read or
/// exported: a write-ahead-log file needs its shared-memory file, which cannot be made there. Tests run as root,
/// for whom no folder is read-only, so the shared-memory file is made impossible to create another way (a
/// dangling link in its place). The case opens read-only (immutable), verifies and exports.
#[test]
fn a_case_whose_shared_memory_file_cannot_be_made_opens_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0203";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 1.5);
    assert!(child.wait().unwrap().success());
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    let shm = PathBuf::from(shm);
    // A reader may have left the shared-memory file; a link into a folder that does not exist takes its place,
    // so SQLite can neither open nor create it (as on read-only media). Plain SQLite then says "unable to open
    // database file".
    if shm.exists() {
        std::fs::remove_file(&shm).unwrap();
    }
    std::os::unix::fs::symlink(dir.path().join("no-such-folder/shm"), &shm).unwrap();
    for command in [&["case", "verify"][..], &["case", "info"][..]] {
        let output = run(heracles().args(command).arg(&path));
        assert!(output.status.success(), "{command:?}: {}", text(&output.stderr));
    }
    let output = run(heracles()
        .args(["export", "--what", "wfdb", "--to"])
        .arg(dir.path().join("out"))
        .arg(&path));
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// Issue 14: a case file really damaged in the middle (a page overwritten) fails verify; `case recover` copies
/// every readable sample into a new file that verifies, says what was lost, and never writes to the original.
#[test]
fn case_recover_keeps_every_readable_sample_and_leaves_the_original_alone() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0204";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 4.0);
    assert!(child.wait().unwrap().success());
    let intact_s = recorded_duration_s(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 16384;
    let victim = (bytes.len() / page) * 6 / 10;
    for (i, byte) in bytes[victim * page..(victim + 1) * page].iter_mut().enumerate() {
        *byte = (i * 7919 % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let output = run(heracles().args(["case", "verify"]).arg(&path));
    assert!(!output.status.success(), "the damage is seen");
    let out = dir.path().join("recovered.heracles");
    let output = run(heracles().args(["case", "recover"]).arg(&path).arg(&out));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    assert!(printed.contains("unreadable"), "{printed}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the original is untouched");
    let output = run(heracles().args(["case", "verify"]).arg(&out));
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let file = CaseFile::open_read_only(&out).unwrap();
    let channels = file.channels().unwrap();
    let kept: u64 = channels.iter().map(|c| c.num_samples).sum();
    assert!(kept > 0, "{printed}");
    assert!(
        channels
            .iter()
            .all(|c| c.num_samples as f64 / c.sample_rate_hz <= intact_s + 1e-9),
        "{channels:?}"
    );
    let trail = file.audit_trail().unwrap();
    assert_eq!(trail.last().unwrap().action, "recover_case");
    println!("{printed}");
}

/// Issue 14: `export_case` opened without verifying, so a tampered case was exported without complaint. Now it
/// is refused, naming verification, and nothing appears.
#[test]
fn export_refuses_a_case_that_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0205";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 1.5);
    assert!(child.wait().unwrap().success());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE chunk SET min_value = min_value - 1 WHERE id = (SELECT min(id) FROM chunk)")
        .unwrap();
    let out = dir.path().join("bundle");
    let output = run(heracles()
        .args(["export", "--what", "wfdb", "--to"])
        .arg(&out)
        .arg(&path));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("fails verification"),
        "{}",
        text(&output.stderr)
    );
    assert!(!out.exists(), "nothing exported");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Issue 14: a killed import left an empty case that passed verify and blocked importing again. Imports are
/// killed at moments spread over their run; afterwards either no case exists (and importing again works) or
/// the complete case does.
#[test]
fn a_killed_import_leaves_no_case_that_blocks_importing_again() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/labchart/labchart_export_two_blocks.txt");
    let dir = tempfile::tempdir().unwrap();
    let import = |case: &str| {
        heracles()
            .args(["import", "--case", case, "--data-dir"])
            .arg(dir.path())
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    assert!(import("HER-TST-0700").wait().unwrap().success());
    let full = started.elapsed();
    let (mut num_absent, mut num_complete) = (0, 0);
    for k in 0..8u32 {
        let case = format!("HER-TST-{:04}", 701 + k);
        let mut child = import(&case);
        std::thread::sleep(full * k / 8);
        child.kill().unwrap();
        child.wait().unwrap();
        let path = case_path(dir.path(), &case);
        if path.exists() {
            num_complete += 1;
            assert!(complete_case(&path), "kill {k}: an empty or failing case");
        } else {
            num_absent += 1;
            let output = run(heracles()
                .args(["import", "--case", &case, "--data-dir"])
                .arg(dir.path())
                .arg(&file));
            assert!(output.status.success(), "kill {k}: {}", text(&output.stderr));
            assert!(complete_case(&path));
        }
    }
    let output = run(heracles().args(["case", "list", "--data-dir"]).arg(dir.path()));
    assert!(
        !text(&output.stdout).contains("UNREADABLE"),
        "{}",
        text(&output.stdout)
    );
    println!("import {full:?}; killed 8: {num_absent} left nothing, {num_complete} complete");
}

/// Whether the case file verifies and holds samples.
fn complete_case(path: &Path) -> bool {
    let file = CaseFile::open_read_only(path).unwrap();
    file.verify().unwrap().ok() && file.channels().unwrap().iter().all(|c| c.num_samples > 0)
}

/// Issue 14: identifiers in an imported file's channel names got into the case (and the exported `.hea`). The
/// import is refused, naming the field without repeating the identifier, and no case appears.
#[test]
fn import_refuses_identifiers_in_channel_names() {
    let dir = tempfile::tempdir().unwrap();
    for (number, header) in ["Pa 943/476/5919", "John Smith", "MRN 12345678", "DOB 12.03.56"]
        .into_iter()
        .enumerate()
    {
        let csv = dir.path().join(format!("planted{number}.csv"));
        let mut rows = format!("time,{header}\n");
        for i in 0..100 {
            rows.push_str(&format!("{},{}\n", f64::from(i) / 100.0, i));
        }
        std::fs::write(&csv, rows).unwrap();
        let case = format!("HER-TST-{:04}", 800 + number);
        let output = run(heracles()
            .args(["import", "--case", &case, "--data-dir"])
            .arg(dir.path())
            .arg(&csv));
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{header}");
        assert!(
            stderr.contains("import refused: a channel name"),
            "{header}: {stderr}"
        );
        assert!(!stderr.contains("5919") && !stderr.contains("Smith"), "{stderr}");
        assert!(!case_path(dir.path(), &case).exists());
    }
}

/// Issue 14: killed exports left partial bundles marked only by a missing manifest. Exports are killed at
/// moments spread over their run: the bundle folder is then absent or complete with its `MANIFEST.sha256`.
#[test]
fn a_killed_export_leaves_no_partial_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0206";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 3.0);
    assert!(child.wait().unwrap().success());
    let export = |out: &Path| {
        heracles()
            .args(["export", "--what", "wfdb", "--to"])
            .arg(out)
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    assert!(export(&dir.path().join("full")).wait().unwrap().success());
    let full = started.elapsed();
    let (mut num_absent, mut num_complete) = (0, 0);
    for k in 0..8u32 {
        let out = dir.path().join(format!("bundle-{k}"));
        let mut child = export(&out);
        std::thread::sleep(full * k / 8);
        child.kill().unwrap();
        child.wait().unwrap();
        if out.exists() {
            let names: Vec<String> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                names.contains(&"MANIFEST.sha256".to_owned()),
                "kill {k}: {names:?}"
            );
            num_complete += 1;
        } else {
            num_absent += 1;
        }
    }
    println!("export {full:?}; killed 8: {num_absent} left nothing, {num_complete} complete");
}

/// Issue 14's measurement, aimed: the main file changes only when SQLite checkpoints the log into it, so each
/// `record` is watched (its file's modification time every 0.5 ms) and killed 0-40 ms after the first change,
/// inside the checkpoint. `HERACLES_CHECKPOINT_KILLS` (default 8), `HERACLES_CHECKPOINT_PARALLEL` (default 4).
#[test]
#[ignore = "measurement: about a minute per kill"]
fn record_survives_kills_inside_the_wal_checkpoint() {
    let outcomes = run_kills(8, |k, num_kills, dir| {
        let delay = Duration::from_millis((40 * k / num_kills.max(1)) as u64);
        let case = format!("HER-TST-{:04}", 4000 + k);
        let (mut child, started, _) = start_recording(dir, &case, 120.0);
        let path = case_path(dir, &case);
        let modified = || std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let before = modified();
        while modified() == before && started.elapsed() < Duration::from_secs(110) {
            std::thread::sleep(Duration::from_micros(500));
        }
        let changed_s = started.elapsed().as_secs_f64();
        std::thread::sleep(delay);
        child.kill().unwrap();
        let recording_s = started.elapsed().as_secs_f64();
        child.wait().unwrap();
        let short = shorter_than_its_header(&path);
        let output = run(heracles().args(["case", "verify"]).arg(&path));
        let stored_s = output.status.success().then(|| recorded_duration_s(&path));
        (k, short, changed_s, recording_s, stored_s, text(&output.stderr))
    });
    let failed: Vec<_> = outcomes.iter().filter(|o| o.4.is_none()).collect();
    let worst_loss_s = outcomes
        .iter()
        .filter_map(|o| o.4.map(|stored_s| o.3 - stored_s))
        .fold(0.0, f64::max);
    let changed: Vec<String> = outcomes.iter().map(|o| format!("{:.1}", o.2)).collect();
    let num_short = outcomes.iter().filter(|o| o.1).count();
    println!(
        "{} kills 0-40 ms into a checkpoint (main file first changed at {} s): {num_short} left the main file shorter than its header with the log beside it (refused before issue 14); {} refused or failing verify now; worst loss {worst_loss_s:.3} s",
        outcomes.len(),
        changed.join(", "),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:?}");
}

/// Issue 14: the newest audit row deleted, the head in `case_info` rewound and the trigger re-created leaves a
/// trail consistent in itself. The head printed by an earlier `case verify`, kept outside the file, catches it.
#[test]
fn an_audit_head_noted_earlier_catches_a_rewound_trail() {
    let dir = tempfile::tempdir().unwrap();
    let case = "HER-TST-0207";
    let path = case_path(dir.path(), case);
    let (mut child, _, _) = start_recording(dir.path(), case, 1.5);
    assert!(child.wait().unwrap().success());
    let output = run(heracles().args(["case", "verify"]).arg(&path));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    let head = printed
        .split("audit head ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_eq!(head.len(), 64, "{printed}");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TRIGGER audit_no_delete;
             DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);
             UPDATE case_info SET audit_count = audit_count - 1,
               audit_head = (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1);
             CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
               BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
        )
        .unwrap();
    let output = run(heracles().args(["case", "verify", "--head", &head]).arg(&path));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("no longer holds the head"),
        "{}",
        text(&output.stderr)
    );
}

/// Whether the main file is shorter than the page count its header states (valid-for matching) while a
/// write-ahead log lies beside it: the state a kill during a checkpoint leaves.
fn shorter_than_its_header(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    if bytes.len() < 100 {
        return false;
    }
    let be32 = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes[92..96] == bytes[24..28]
        && (bytes.len() as u64) < u64::from(be32(28)) * page_size
        && std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 32)
}
