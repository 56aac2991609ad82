//! `heracles export FILE --to DIR [--what endpoints,beats,wfdb,report,odm | --odm] [--as NAME]`: the review screen's exports,
//! headless. `heracles export FILE --to DIR --dicom [--as NAME]` writes the case as a DICOM study instead
//! ([`crate::export::dicom`]: waveforms, report and the case file as `.dcm` files). FILE is a case file, or a case id looked up in the data folder. Prints what it did, then the files
//! written, one per line; an export refused because a free-text field looks like an identifier exits with code 1
//! and names the field.
//!
//! A case without analysis windows (recorded headless with `heracles record`, or imported) is first analysed as a
//! whole (one baseline window per kind its channels allow, [`ReviewSession::analyse_whole_recording`]), saved in
//! the case as audited edits by the person named with `--as`, so its numbers come from the same stored path as a
//! protocol case's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::export::{self, ExportWhat};
use crate::review::session::ReviewSession;
use crate::store::CaseFile;

/// Arguments of `heracles export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The case file (`.heracles`), or a case id such as HER-STH-0007 in the data folder.
    pub file: PathBuf,
    /// Folder to write the bundle into (created if missing; existing files are never replaced).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// What to export, comma-separated: endpoints, beats, wfdb, report, odm (or all).
    #[arg(long, default_value = "all")]
    pub what: ExportWhat,
    /// Export only the endpoints as CDISC ODM 1.3.2 for the trial database (the same as `--what odm`).
    #[arg(long, conflicts_with_all = ["what", "dicom"])]
    pub odm: bool,
    /// Write the case as a DICOM study (Hemodynamic Waveform, Encapsulated PDF report, Raw Data with the case
    /// file) into DIR instead of the bundle.
    #[arg(long, conflicts_with = "what")]
    pub dicom: bool,
    /// Who analyses a case that has no analysis windows yet (recorded headless or imported); every window added
    /// is audited under this name.
    #[arg(long = "as", value_name = "NAME")]
    pub analyst: Option<String>,
}

/// The case file named by `file`: the path itself, or `<data dir>/<case id>.heracles`.
pub(crate) fn case_path(file: &Path, data_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    if file.exists() {
        return Ok(file.to_owned());
    }
    let text = file.to_string_lossy();
    match text.parse::<crate::model::CaseId>() {
        Ok(case_id) => {
            let path = crate::store::data_dir(data_dir)?.join(crate::store::file_name(case_id));
            anyhow::ensure!(path.exists(), "{}: no such case file", path.display());
            Ok(path)
        }
        Err(_) => anyhow::bail!("{}: no such file", file.display()),
    }
}

/// Runs `heracles export`.
pub fn run(args: ExportArgs, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let path = case_path(&args.file, data_dir.as_deref())?;
    let what = if args.odm { ExportWhat::ODM } else { args.what };
    if (args.dicom || what.needs_analysis())
        && CaseFile::open_read_only(&path)?.analysis_windows()?.is_empty()
    {
        analyse_whole_recording(&path, args.analyst.as_deref())?;
    }
    if args.dicom {
        let study = export::dicom::study_of_case(&path, &export::dicom::TrialContext::heracles())?;
        let files = export::dicom::write_study(&study, &args.to)?;
        outln!(
            "DICOM study {} ({} objects; case file SHA-256 {})",
            study.study_instance_uid,
            study.instances.len(),
            study.case_sha256_hex
        )?;
        for file in files {
            outln!("{}", file.display())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    for file in export::export_case(&path, &args.to, what)?.files {
        outln!("{}", file.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Analyses a case without windows as a whole, under `analyst`'s name, and says what it did.
fn analyse_whole_recording(path: &Path, analyst: Option<&str>) -> anyhow::Result<()> {
    let Some(analyst) = analyst else {
        anyhow::bail!(
            "{}: the case has no analysis windows (recorded headless or imported): give --as NAME to analyse the \
             whole recording under your name, or choose its windows in `heracles review`",
            path.display()
        );
    };
    let added = ReviewSession::open(path, analyst)?.analyse_whole_recording()?;
    for window in added {
        outln!(
            "no analysis windows: analysed {:.1}-{:.1} s as one baseline {} (saved in the case, by {analyst})",
            window.start_s,
            window.end_s,
            window.kind.label()
        )?;
    }
    Ok(())
}
