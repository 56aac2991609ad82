//! `heracles analyze` (being built; see the issue that owns it).

use std::process::ExitCode;

/// Arguments of `heracles analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {}

/// Runs `heracles analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let _ = args;

    anyhow::bail!("heracles analyze is not available yet")
}
