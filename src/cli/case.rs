//! `heracles case ...` (being built; see the issue that owns it).

use std::path::PathBuf;
use std::process::ExitCode;

/// The `heracles case` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// List the case files in the data folder.
    List,
}

/// Runs a `heracles case` subcommand.
pub fn run(command: CaseCommand, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let _ = (command, data_dir);
    anyhow::bail!("heracles case is not available yet")
}
