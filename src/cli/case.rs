//! `heracles case ...`: list, inspect, verify and snapshot case files. Inspection and verification open files
//! read-only, so they are safe on a file being recorded and never alter a damaged one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::model::CaseId;
use crate::store::{self, CaseFile, ExternalAnchor};

/// The `heracles case` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// List the case files in the data folder.
    List,
    /// Show a case: duration, channels with sample counts, gaps, protocol steps, events.
    Info {
        /// The case file, or a case id (looked up in the data folder).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check a case file: SQLite integrity, the audit hash chain, audited records, sample continuity.
    /// Exits non-zero with the reasons on any failure.
    Verify {
        /// The case file, or a case id.
        file: PathBuf,
        /// An audit head printed by an earlier verify (kept outside the file): fail if the trail no longer
        /// holds it (newest rows removed and the head rewound).
        #[arg(long, value_name = "HEX")]
        head: Option<String>,
        /// An export's `MANIFEST.sha256` (or its folder): fail unless the file still holds the audit and
        /// sample chain heads the export noted in it (kept outside the file, they show rows removed with every
        /// head rewound, which the file alone cannot).
        #[arg(long, value_name = "MANIFEST")]
        against: Option<PathBuf>,
    },
    /// Copy every readable sample and record of a damaged case file into a new file OUT, listing what could
    /// not be read (also in the new file's audit trail). The damaged file is never written to.
    Recover {
        /// The damaged case file, or a case id.
        file: PathBuf,
        /// The new case file (must not exist).
        out: PathBuf,
    },
    /// Write a consistent copy of a case file (safe while it is being recorded).
    Snapshot {
        /// The case file, or a case id.
        file: PathBuf,
        /// Where to write the copy (must not exist).
        out: PathBuf,
    },
}

/// Runs a `heracles case` subcommand.
pub fn run(command: CaseCommand, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = store::data_dir(data_dir.as_deref())?;
    match command {
        CaseCommand::List => list(&dir),
        CaseCommand::Info { file, json } => info(&resolve(&dir, &file), json),
        CaseCommand::Verify { file, head, against } => {
            verify(&resolve(&dir, &file), head.as_deref(), against.as_deref())
        }
        CaseCommand::Recover { file, out } => recover(&resolve(&dir, &file), &out),
        CaseCommand::Snapshot { file, out } => {
            let file = resolve(&dir, &file);
            CaseFile::open_read_only(&file)?.snapshot(&out)?;
            outln!("{} -> {}", file.display(), out.display())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `file` as given when it exists or is a path; a bare case id means that case's file in the data folder.
fn resolve(dir: &Path, file: &Path) -> PathBuf {
    match file.to_str().and_then(|text| text.parse::<CaseId>().ok()) {
        Some(case_id) if !file.exists() => dir.join(store::file_name(case_id)),
        _ => file.to_owned(),
    }
}

fn list(dir: &Path) -> anyhow::Result<ExitCode> {
    let files = store::list_case_files(dir)?;
    if files.is_empty() {
        outln!("no case files in {}", dir.display())?;
    }
    for path in files {
        let name = path
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        match CaseFile::open_read_only(&path).and_then(|file| file.summary()) {
            Ok(summary) => outln!(
                "{name}  {}  {}  {:.1} s  allocation {}  created {}",
                summary.case_id,
                summary.status,
                summary.duration_s,
                summary.allocation.map_or("-", |allocation| allocation.key()),
                summary.created_utc
            )?,
            Err(error) => outln!("{name}  UNREADABLE: {error}")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn info(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let file = CaseFile::open_read_only(path)?;
    let summary = file.summary()?;
    let channels = file.channels()?;
    let gaps = file.gaps()?;
    let steps = file.steps()?;
    // Markers in words (a protocol event is stored as JSON for replay).
    let events: Vec<store::Event> = file
        .events()?
        .into_iter()
        .map(|event| store::Event {
            text: crate::review::markers::marker_words(&event.kind, &event.text),
            ..event
        })
        .collect();
    if json {
        let value = serde_json::json!({
            "file": path,
            "case_id": summary.case_id,
            "site": summary.site,
            "status": summary.status,
            "created_utc": summary.created_utc,
            "allocation": summary.allocation,
            "schema_version": summary.schema_version,
            "duration_s": summary.duration_s,
            "channels": channels.iter().map(|channel| serde_json::json!({
                "source": channel.source,
                "name": channel.name,
                "unit": channel.unit,
                "sample_rate_hz": channel.sample_rate_hz,
                "num_samples": channel.num_samples,
                "first_sample": channel.first_sample,
                "end_sample": channel.end_sample,
            })).collect::<Vec<_>>(),
            "gaps": gaps,
            "steps": steps,
            "events": events,
            "num_audit_entries": summary.num_audit_entries,
        });
        outln!(
            "{}",
            serde_json::to_string_pretty(&value).context("writing JSON")?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} ({}), {}, created {}",
        summary.case_id,
        summary.site,
        summary.status,
        summary.created_utc
    )?;
    outln!(
        "duration {:.3} s, schema v{}",
        summary.duration_s,
        summary.schema_version
    )?;
    for channel in &channels {
        outln!(
            "  {}/{} [{}] {} Hz: {} samples",
            channel.source,
            channel.name,
            channel.unit,
            channel.sample_rate_hz,
            channel.num_samples
        )?;
    }
    for gap in &gaps {
        outln!(
            "  gap {}: {} samples from sample {} ({})",
            gap.source,
            gap.num_samples,
            gap.first_sample,
            gap.reason
        )?;
    }
    for step in &steps {
        outln!("  step {} started {}", step.step.key(), step.started_utc)?;
    }
    for event in &events {
        outln!("  event at {:.3} s: {} {}", event.time_s, event.kind, event.text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(path: &Path, head: Option<&str>, against: Option<&Path>) -> anyhow::Result<ExitCode> {
    let anchor = match against {
        None => None,
        Some(manifest) => {
            let manifest = if manifest.is_dir() {
                manifest.join("MANIFEST.sha256")
            } else {
                manifest.to_owned()
            };
            let text = std::fs::read_to_string(&manifest)
                .with_context(|| format!("reading {}", manifest.display()))?;
            Some(ExternalAnchor::parse(&text).with_context(|| {
                format!(
                    "{} holds no heracles chain heads (an export made before they were noted, or not a \
                     heracles manifest)",
                    manifest.display()
                )
            })?)
        }
    };
    let file = CaseFile::open_read_only(path)?;
    let mut report = file.verify()?;
    if let Some(head) = head
        && let Some(problem) = file.verify_head(head)?
    {
        report.problems.push(problem);
    }
    if let Some(anchor) = &anchor {
        report.problems.extend(file.verify_against(anchor)?);
    }
    if report.ok() {
        outln!(
            "{}: ok ({} audit rows, {} chunks, {} samples, {} gap samples)",
            path.display(),
            report.num_audit_entries,
            report.num_chunks,
            report.num_samples,
            report.num_gap_samples
        )?;
        outln!(
            "audit head {} (note it to check later with --head)",
            report.audit_head
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{}: FAILED verification ({} problems)",
        path.display(),
        report.problems.len()
    );
    for problem in &report.problems {
        eprintln!("  [{}] {}", problem.check, problem.message);
    }
    Ok(ExitCode::FAILURE)
}

fn recover(path: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let report = CaseFile::recover(path, out)?;
    outln!("{} -> {}", path.display(), report.path.display())?;
    for (table, copied) in &report.copied {
        let lost = report.lost.get(table).copied().unwrap_or(0);
        if *copied > 0 || lost > 0 {
            outln!("  {table}: {copied} rows copied, {lost} unreadable")?;
        }
    }
    outln!(
        "  samples: {} kept, {} unreadable (stored as missing)",
        report.num_samples,
        report.num_lost_samples
    )?;
    if report.complete() {
        outln!("everything was readable")?;
    }
    Ok(ExitCode::SUCCESS)
}
