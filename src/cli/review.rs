//! `heracles review [FILE] [--as NAME]`: opens the workstation on the offline review screen, on FILE (a case file
//! or a case id in the data folder) as reviewer NAME, or on the case chooser when either is missing.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `heracles review`.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// The case file (`.heracles`), or a case id such as HER-STH-0007 in the data folder.
    pub file: Option<PathBuf>,
    /// The reviewer's name, as every edit and the sign-off will carry it.
    #[arg(long = "as", value_name = "NAME")]
    pub reviewer: Option<String>,
}

/// Runs `heracles review`.
pub fn run(
    args: ReviewArgs,
    data_dir: Option<PathBuf>,
    config_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let path = args
        .file
        .map(|file| super::export::case_path(&file, data_dir.as_deref()))
        .transpose()?;
    crate::app::review::run_review_gui(path, args.reviewer, data_dir, config_dir)?;
    Ok(ExitCode::SUCCESS)
}
