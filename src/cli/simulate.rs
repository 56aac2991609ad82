//! `heracles simulate` (being built; see the issue that owns it).

use std::process::ExitCode;

/// Arguments of `heracles simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {}

/// Runs `heracles simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let _ = args;

    anyhow::bail!("heracles simulate is not available yet")
}
