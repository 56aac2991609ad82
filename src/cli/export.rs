//! `heracles export` (being built; see the issue that owns it).

use std::process::ExitCode;

/// Arguments of `heracles export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {}

/// Runs `heracles export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let _ = args;

    anyhow::bail!("heracles export is not available yet")
}
