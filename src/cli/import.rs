//! `heracles import` (being built; see the issue that owns it).

use std::process::ExitCode;

/// Arguments of `heracles import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {}

/// Runs `heracles import`.
pub fn run(args: ImportArgs, data_dir: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    let _ = args;
    let _ = data_dir;
    anyhow::bail!("heracles import is not available yet")
}
