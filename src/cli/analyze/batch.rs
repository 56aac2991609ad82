//! `heracles analyze` on several records (files, or every `.hea`, `.csv` and `.txt` file of a folder): a core
//! lab analyses a trial's recordings in one go. Each record is analysed exactly as `heracles analyze FILE` would
//! (the same settings and channel choices for all), on `--jobs` named threads; `--out-dir` receives one JSON
//! report per record and `summary.csv` (record, status, reason, beats, accepted, excluded, every window endpoint
//! headed with its unit).
//! A record that cannot be read or analysed is a `failed` row with its reason and the others go on; the command
//! then exits with code 1. Progress goes to standard error: a bar on a terminal, one line per record otherwise.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{Context, bail};

use super::{AnalysisThreads, AnalyzeArgs, analyse_file, threads};
use crate::analysis::AnalysisSettings;
use crate::analysis::endpoints::Unit;
use crate::export::tables::{csv_field, number};
use crate::model::workers::Workers;

/// The summary's name in `--out-dir`.
pub const SUMMARY_FILE: &str = "summary.csv";

/// File extensions a folder is searched for (WFDB headers; CSV, Inca, LabChart and ComboMap text).
const RECORD_EXTENSIONS: [&str; 3] = ["hea", "csv", "txt"];

/// What the summary keeps of one analysed record.
struct Row {
    num_beats: usize,
    num_accepted: usize,
    /// Every window endpoint, by key with its unit, in the report's order.
    endpoints: Vec<(String, Unit, Option<f64>)>,
}

/// Runs the batch: every record of `args.files`, `args.jobs` at a time.
pub(super) fn run(args: &AnalyzeArgs, settings: AnalysisSettings) -> anyhow::Result<ExitCode> {
    let Some(out_dir) = &args.out_dir else {
        bail!("several files or a folder: give --out-dir DIR for summary.csv and the per-record JSON reports")
    };
    let files = records(&args.files, out_dir)?;
    if files.is_empty() {
        bail!(
            "no recordings (.hea, .csv, .txt) in {}",
            display_list(&args.files)
        );
    }
    std::fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let json_names = json_names(&files);
    let threads = threads(args);
    let jobs = threads.get().min(files.len());
    let workers = Workers::new(per_record(threads, files.len()), &AnalysisThreads);

    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Option<Result<Row, String>>> = files.iter().map(|_| None).collect();
    // Bounded: a worker waits (nothing is dropped) while the progress line is written.
    let (sender, receiver) = mpsc::sync_channel(jobs);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for k in 0..jobs {
            let sender = sender.clone();
            let (files, json_names, next, settings) = (&files, &json_names, &next, &settings);
            std::thread::Builder::new()
                .name(format!("analyze-{k}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        let json = out_dir.join(&json_names[i]);
                        let outcome = analyse_one(file, &json, args, settings.clone(), workers);
                        if sender.send((i, outcome)).is_err() {
                            break;
                        }
                    }
                })
                .context("cannot start an analysis thread")?;
        }
        drop(sender);
        let mut progress = Progress::new(files.len());
        for (i, outcome) in receiver {
            progress.record_done(&files[i], &outcome);
            outcomes[i] = Some(outcome);
        }
        progress.finish();
        Ok(())
    })?;

    let outcomes: Vec<Result<Row, String>> = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Err("not analysed (its thread stopped)".to_owned())))
        .collect();
    let summary_path = out_dir.join(SUMMARY_FILE);
    let text = summary_csv(&files, &json_names, &outcomes);
    std::fs::write(&summary_path, text)
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    let num_failed = outcomes.iter().filter(|o| o.is_err()).count();
    eprintln!(
        "{} records: {} analysed, {num_failed} failed; summary in {}",
        files.len(),
        files.len() - num_failed,
        summary_path.display()
    );
    Ok(if num_failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The analysis threads of each record when `threads` analyse `num_records` records, one record per thread: the
/// threads left over when there are fewer records than threads go to each record's beats (never more threads
/// than `threads` at once).
fn per_record(threads: NonZeroUsize, num_records: usize) -> NonZeroUsize {
    NonZeroUsize::new(threads.get() / num_records.max(1)).unwrap_or(NonZeroUsize::MIN)
}

/// The records named: files as given, folders replaced by their record files (sorted by name; not recursive;
/// hidden files and the summary of an earlier run in `out_dir` left out).
fn records(paths: &[PathBuf], out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let own_summary = out_dir.join(SUMMARY_FILE);
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|file| file.is_file())
            .filter(|file| {
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                let extension = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
                !name.starts_with('.')
                    && RECORD_EXTENSIONS
                        .iter()
                        .any(|known| known.eq_ignore_ascii_case(extension))
            })
            .filter(|file| !same_file(file, &own_summary))
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The JSON report's file name per record: `STEM.json`, or `STEM-N.json` (N its position in the batch, from 1)
/// when several records share a stem.
fn json_names(files: &[PathBuf]) -> Vec<String> {
    let stem = |file: &PathBuf| {
        file.file_stem()
            .map_or_else(|| "record".to_owned(), |s| s.to_string_lossy().into_owned())
    };
    let mut count: HashMap<String, usize> = HashMap::new();
    for file in files {
        *count.entry(stem(file)).or_default() += 1;
    }
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let stem = stem(file);
            if count[&stem] > 1 {
                format!("{stem}-{}.json", i + 1)
            } else {
                format!("{stem}.json")
            }
        })
        .collect()
}

/// Analyses one record and writes its JSON report; any failure (a panic included) is the record's reason.
fn analyse_one(
    file: &Path,
    json: &Path,
    args: &AnalyzeArgs,
    settings: AnalysisSettings,
    workers: Workers,
) -> Result<Row, String> {
    let work = || -> anyhow::Result<Row> {
        let (report, _) = analyse_file(file, args, settings, workers)?;
        let out = File::create(json).with_context(|| format!("cannot create {}", json.display()))?;
        let mut out = BufWriter::new(out);
        super::json::write_report(&report, workers, &mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", json.display()))?;
        Ok(Row {
            num_beats: report.summary.num_beats,
            num_accepted: report.summary.num_accepted,
            endpoints: report
                .endpoints
                .into_iter()
                .map(|endpoint| (endpoint.key, endpoint.unit, endpoint.value))
                .collect(),
        })
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(Ok(row)) => Ok(row),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("internal error while analysing: {message}"))
        }
    }
}

/// The summary: one row per record in the order given; the endpoint columns are every key any record reported,
/// in order of first appearance, each headed with its unit as the endpoint table writes it (`apv [cm/s]`, a ratio
/// bare: `pd_pa`); values at full precision (an empty cell: not computed for that record, see its JSON report's
/// note).
fn summary_csv(files: &[PathBuf], json_names: &[String], outcomes: &[Result<Row, String>]) -> String {
    let mut keys: Vec<(&str, Unit)> = Vec::new();
    for row in outcomes.iter().flatten() {
        for (key, unit, _) in &row.endpoints {
            if !keys.iter().any(|(k, _)| k == key) {
                keys.push((key, *unit));
            }
        }
    }
    let mut header: Vec<String> = [
        "record", "status", "reason", "json", "beats", "accepted", "excluded",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(keys.iter().map(|(key, unit)| match unit.symbol() {
        "" => (*key).to_owned(),
        symbol => format!("{key} [{symbol}]"),
    }));
    let width = header.len();
    let mut out = String::new();
    let mut line = |fields: Vec<String>| {
        let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    };
    line(header);
    for ((file, json), outcome) in files.iter().zip(json_names).zip(outcomes) {
        let record = file.display().to_string();
        let fields = match outcome {
            Ok(row) => {
                let mut fields = vec![
                    record,
                    "ok".to_owned(),
                    String::new(),
                    json.clone(),
                    row.num_beats.to_string(),
                    row.num_accepted.to_string(),
                    (row.num_beats - row.num_accepted.min(row.num_beats)).to_string(),
                ];
                fields.extend(keys.iter().map(|(key, _)| {
                    let value = row
                        .endpoints
                        .iter()
                        .find(|(k, _, _)| k == key)
                        .and_then(|(_, _, v)| *v);
                    number(value)
                }));
                fields
            }
            Err(reason) => {
                let mut fields = vec![record, "failed".to_owned(), reason.clone()];
                fields.resize(width, String::new());
                fields
            }
        };
        line(fields);
    }
    out
}

fn display_list(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

/// Progress on standard error: a bar redrawn in place on a terminal, one line per record otherwise (a log).
struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    terminal: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            failed: 0,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn record_done(&mut self, file: &Path, outcome: &Result<Row, String>) {
        self.done += 1;
        let mut stderr = std::io::stderr().lock();
        // Progress is advisory: a standard error that cannot be written must not stop the batch.
        let _ = match outcome {
            Err(reason) => {
                self.failed += 1;
                let clear = if self.terminal { "\r\x1b[2K" } else { "" };
                writeln!(
                    stderr,
                    "{clear}[{}/{}] {}: failed: {reason}",
                    self.done,
                    self.total,
                    file.display()
                )
            }
            Ok(row) if !self.terminal => writeln!(
                stderr,
                "[{}/{}] {}: {} beats, {} accepted",
                self.done,
                self.total,
                file.display(),
                row.num_beats,
                row.num_accepted
            ),
            Ok(_) => Ok(()),
        };
        if self.terminal {
            const WIDTH: usize = 30;
            let filled = WIDTH * self.done / self.total.max(1);
            let _ = write!(
                stderr,
                "\r\x1b[2K[{}{}] {}/{} records, {} failed",
                "#".repeat(filled),
                ".".repeat(WIDTH - filled),
                self.done,
                self.total,
                self.failed
            );
            let _ = stderr.flush();
        }
    }

    fn finish(&self) {
        if self.terminal && self.done > 0 {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_left_over_by_the_records_go_to_each_records_beats() {
        let n = |k: usize| NonZeroUsize::new(k).unwrap();
        assert_eq!(per_record(n(8), 1), n(8));
        assert_eq!(per_record(n(8), 3), n(2));
        assert_eq!(per_record(n(2), 2), n(1));
        assert_eq!(per_record(n(2), 50), n(1));
        assert_eq!(per_record(n(1), 0), n(1));
    }
}
