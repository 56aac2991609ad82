//! `heracles export FILE --to DIR [--what endpoints,beats,wfdb,report]`: the review screen's exports, headless.
//! FILE is a case file, or a case id looked up in the data folder. Prints the files written, one per line; an
//! export refused because a free-text field looks like an identifier exits with code 1 and names the field.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::upload::{self, ExportWhat};

/// Arguments of `heracles export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The case file (`.heracles`), or a case id such as HER-STH-0007 in the data folder.
    pub file: PathBuf,
    /// Folder to write the bundle into (created if missing; existing files are never replaced).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "outbox",
        conflicts_with = "outbox"
    )]
    pub to: Option<PathBuf>,
    /// Put the bundle into this upload outbox instead (as `<case>-<n>/`, complete or not at all).
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// What to export, comma-separated: endpoints, beats, wfdb, report (or all).
    #[arg(long, default_value = "all")]
    pub what: ExportWhat,
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
    let files = match (&args.to, &args.outbox) {
        (_, Some(outbox)) => upload::outbox::enqueue(&path, outbox, args.what)?.1.files,
        (Some(dir), None) => upload::export_case(&path, dir, args.what)?.files,
        (None, None) => anyhow::bail!("give --to DIR or --outbox DIR"),
    };
    for file in files {
        outln!("{}", file.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
