//! `heracles record` (being built; see the issue that owns it).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `heracles record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {}

/// Runs `heracles record`.
pub fn run(args: RecordArgs, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let _ = (args, data_dir);
    anyhow::bail!("heracles record is not available yet")
}
