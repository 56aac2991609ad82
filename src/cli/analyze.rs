//! `heracles analyze FILE`: reads a recording, finds and judges the beats, computes every endpoint the channels
//! allow and prints the report (`--json`: one compact JSON document ([`json`]) with `beats`, `per_beat`,
//! `summary`, `settings` and the labelled `endpoints`; every per-beat and summary field name ends in its unit (`_ms`, `_mmhg`, `_cm_s`,
//! `_mmhg_per_s`, `_fraction`, ...; a bare name is a dimensionless ratio such as `pd_pa`), and every endpoint carries
//! its `unit` in the endpoint table's spelling, [`crate::analysis::endpoints::Unit::symbol`]). The text summary
//! shows the labelled endpoints in the one notation policy ([`crate::analysis::format`]).
//! Unreadable input is an error naming the file (and line): exit code 1. Bad arguments exit with code 2.
//! Several files or a folder: the batch mode of [`batch`] (all cores, a summary CSV, one JSON per record).
//! One record is analysed on every core ([`AnalysisThreads`], `--jobs` at most): its per-beat values are split
//! into contiguous chunks of beats, joined in order, so the report is byte for byte that of one thread.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};

use anyhow::Context;

use crate::analysis::AnalysisSettings;
use crate::analysis::pipeline::{ChannelChoice, Report, signal_kind_from_alias};
use crate::analysis::window::{WindowInput, WindowSettings, analyse_window};
use crate::formats::{self, Format};
use crate::model::workers::{Runner, Workers};
use crate::model::{Recording, WindowKind};

mod batch;
pub mod json;

/// Arguments of `heracles analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The recording: a WFDB record (`.hea` or `.dat`), an Inca CSV export, ... Several recordings, or a folder
    /// (its `.hea`, `.csv` and `.txt` files), are analysed as a batch into `--out-dir`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// File format (`auto` decides from the name and the first lines).
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub format: Format,
    /// Which channel carries which signal, e.g. `--signal abp=2` (0-based index in the file; names: ecg, pa
    /// (abp, art, ao), pd, ipv, lvp, lvv, ecmo_flow). Repeatable; other channels are matched by name.
    #[arg(long = "signal", value_name = "NAME=INDEX", value_parser = parse_channel_choice)]
    pub signals: Vec<ChannelChoice>,
    /// Analyse from this time, s from the start of the recording.
    #[arg(long, value_name = "S")]
    pub from: Option<f64>,
    /// Analyse up to this time, s.
    #[arg(long, value_name = "S")]
    pub to: Option<f64>,
    /// Beats of a preload reduction (IVC occlusion) for ESPVR, EDPVR and PRSW, e.g. `11-29` (inclusive).
    #[arg(long, value_name = "FIRST-LAST", value_parser = parse_beat_range)]
    pub occlusion_beats: Option<(u32, u32)>,
    /// Analysis settings as JSON (missing fields take their defaults); default: the built-in settings.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Print the whole report as one JSON document (compact, on one line).
    #[arg(long)]
    pub json: bool,
    /// Threads: one record's beats are analysed on N threads, a batch's records N at a time (default: one per
    /// core; the report is the same for any N).
    #[arg(long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Batch: the folder that receives `summary.csv` and one `RECORD.json` report per record (created if needed;
    /// needed when several files or a folder are given).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

fn parse_channel_choice(text: &str) -> Result<ChannelChoice, String> {
    let (name, index) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=INDEX, e.g. abp=2"))?;
    let kind = signal_kind_from_alias(name.trim())
        .ok_or_else(|| format!("{name:?}: unknown signal (ecg, pa/abp, pd, ipv, lvp, lvv, ecmo_flow)"))?;
    let index = index
        .trim()
        .parse()
        .map_err(|_| format!("{index:?}: not a channel index (0, 1, 2, ...)"))?;
    Ok(ChannelChoice { kind, index })
}

fn parse_beat_range(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?}: expected FIRST-LAST beat numbers, e.g. 11-29");
    let (first, last) = text.split_once('-').ok_or_else(bad)?;
    let (first, last): (u32, u32) = (
        first.trim().parse().map_err(|_| bad())?,
        last.trim().parse().map_err(|_| bad())?,
    );
    if first == 0 || first > last {
        return Err(format!(
            "{text:?}: beats are numbered from 1 and FIRST must not be after LAST"
        ));
    }
    Ok((first, last))
}

/// Runs `heracles analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let settings = match &args.settings {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
            serde_json::from_str::<AnalysisSettings>(&text)
                .with_context(|| format!("{}: not valid settings", path.display()))?
        }
        None => AnalysisSettings::default(),
    };
    let single = match args.files.as_slice() {
        [file] if !file.is_dir() => Some(file.clone()),
        _ => None,
    };
    let Some(file) = single else {
        return batch::run(&args, settings);
    };
    if args.out_dir.is_some() {
        anyhow::bail!("--out-dir applies to several files or a folder");
    }
    let workers = Workers::new(threads(&args), &AnalysisThreads);
    let (report, recording) = analyse_file(&file, &args, settings, workers)?;
    if args.json {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        // (an error writing is an I/O error, so a closed pipe ends the command quietly)
        json::write_report(&report, workers, &mut out)?;
        std::io::Write::flush(&mut out)?;
    } else {
        print_summary(&file, &report)?;
    }
    // The process ends here and the system takes its memory back at once: freeing the samples first would hand
    // them back page by page (a 2-hour 7-channel record is 400 MB of samples, about 20 ms of unmapping).
    std::mem::forget(recording);
    Ok(ExitCode::SUCCESS)
}

/// The threads `args` allow: `--jobs`, else one per core.
fn threads(args: &AnalyzeArgs) -> NonZeroUsize {
    args.jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .unwrap_or(NonZeroUsize::MIN)
}

/// Runs the parts of one record's analysis at once: the first on the calling thread, each other one on a named
/// thread (`analysis-1`, `analysis-2`, ...). A part whose thread cannot be started runs on the calling thread
/// once the others are done.
pub struct AnalysisThreads;

/// A part of the analysis waiting for its thread.
type Part<'a> = Mutex<Option<Box<dyn FnOnce() + Send + 'a>>>;

impl Runner for AnalysisThreads {
    fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
        let mut tasks = tasks.into_iter();
        let Some(first) = tasks.next() else { return };
        let rest: Vec<Part<'a>> = tasks.map(|task| Mutex::new(Some(task))).collect();
        let run = |part: &Part<'a>| {
            let task = part.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(task) = task {
                task();
            }
        };
        std::thread::scope(|scope| {
            for (k, part) in rest.iter().enumerate() {
                // Not started: the part stays in its place and runs below.
                let _started = std::thread::Builder::new()
                    .name(format!("analysis-{}", k + 1))
                    .spawn_scoped(scope, move || run(part));
            }
            first();
        });
        rest.iter().for_each(run);
    }
}

/// Reads `file` and analyses it as `args` ask, its beats on `workers`: the one analysis of a single record and
/// of every batch record. Returns the report and the recording it was made from.
fn analyse_file(
    file: &std::path::Path,
    args: &AnalyzeArgs,
    settings: AnalysisSettings,
    workers: Workers,
) -> anyhow::Result<(Report, Recording)> {
    let recording = formats::read_with(file, args.format, workers)?;
    // The same function the bedside, the review and the exports get a window's numbers from.
    let input = WindowInput {
        kind: args.occlusion_beats.map(|_| WindowKind::PvPreloadReduction),
        from_s: args.from,
        to_s: args.to,
        channels: args.signals.clone(),
        stored: WindowSettings {
            analysis: Some(settings),
            occlusion_beats: args.occlusion_beats,
            ..WindowSettings::default()
        },
        workers,
        ..WindowInput::default()
    };
    let report = analyse_window(&recording, &input).with_context(|| format!("{}", file.display()))?;
    Ok((report, recording))
}

/// A few lines for a human at a terminal; the JSON report has everything.
fn print_summary(file: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let summary = &report.summary;
    outln!("{}: {:.1}-{:.1} s", file.display(), summary.from_s, summary.to_s)?;
    match &summary.no_beats_reason {
        Some(reason) => outln!("no beats: {reason}")?,
        None => outln!(
            "{} beats on {:?}, {} accepted, rejected {:?}",
            summary.num_beats,
            summary.fiducial,
            summary.num_accepted,
            summary.rejected
        )?,
    }
    let mut group = None;
    for endpoint in &report.endpoints {
        if group != Some(endpoint.group) {
            group = Some(endpoint.group);
            outln!("{}:", endpoint.group.title())?;
        }
        let flags: Vec<String> = endpoint.flags.iter().map(|f| f.text()).collect();
        let beats = endpoint
            .num_beats_used
            .map(|n| {
                format!(
                    " [{n} beats, {} excluded]",
                    endpoint.num_beats_excluded.unwrap_or(0)
                )
            })
            .unwrap_or_default();
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", flags.join("; "))
        };
        outln!("  {}: {}{beats}{flags}", endpoint.label, endpoint.display())?;
    }
    for note in &summary.notes {
        outln!("note: {note}")?;
    }
    outln!("(use --json for every beat and value at full precision, with units, methods and V0 sources)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_threads_run_every_part_once_on_named_threads() {
        let names: Vec<Mutex<Option<String>>> = (0..4).map(|_| Mutex::new(None)).collect();
        let tasks: Vec<Box<dyn FnOnce() + Send + '_>> = names
            .iter()
            .map(|name| {
                Box::new(move || {
                    let mut name = name.lock().unwrap();
                    assert!(name.is_none(), "a part ran twice");
                    *name = Some(std::thread::current().name().unwrap_or("").to_owned());
                }) as Box<dyn FnOnce() + Send + '_>
            })
            .collect();
        let caller = std::thread::current().name().map(str::to_owned);
        AnalysisThreads.run_all(tasks);
        let names: Vec<Option<String>> = names.into_iter().map(|name| name.into_inner().unwrap()).collect();
        assert_eq!(
            names,
            [
                caller,
                Some("analysis-1".to_owned()),
                Some("analysis-2".to_owned()),
                Some("analysis-3".to_owned())
            ]
        );
        AnalysisThreads.run_all(Vec::new());
    }
}
