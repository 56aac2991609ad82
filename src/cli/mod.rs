//! The command line: `heracles` alone opens the workstation; the subcommands work headless. Each subcommand
//! lives in its own file with its clap arguments and a `run` function. Errors become a message on standard
//! error and exit code 1; bad arguments exit with code 2 (clap's convention).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that returns the write's error instead of panicking: a reader that closes the pipe early
/// (`heracles analyze --json | head`) ends the command quietly (see [`main`]) instead of a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}

pub mod analyze;
pub mod case;
pub mod export;
pub mod import;
pub mod record;
pub mod review;
pub mod simulate;
pub mod upload;
pub mod validate;

/// heracles: cath-lab workstation for the HERACLES trial (VA-ECMO + IABP or Impella).
///
/// Without a subcommand, opens the workstation on the simulated patient (or the configured consoles).
#[derive(Debug, Parser)]
#[command(name = "heracles", version = crate::model::about::VERSION_LINE, about, long_about = None)]
pub struct Cli {
    /// Folder holding the case files (default: the platform data folder).
    #[arg(long, global = true, env = "HERACLES_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Folder holding the settings (default: the platform configuration folder).
    #[arg(long, global = true, env = "HERACLES_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// What to do (omit to open the workstation).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the simulated patient: write a CSV, or stream the console protocol to a serial port.
    Simulate(simulate::SimulateArgs),
    /// Detect beats and compute endpoints on a recording; print JSON.
    Analyze(analyze::AnalyzeArgs),
    /// Record a case headless from the simulator or a serial console.
    Record(record::RecordArgs),
    /// List, inspect, verify and copy case files.
    #[command(subcommand)]
    Case(case::CaseCommand),
    /// Turn a recorded file (WFDB, Inca CSV, LabChart, ComboMap, CSV) into a case file.
    Import(import::ImportArgs),
    /// Export a case: endpoints, per-beat table, waveforms, report.
    Export(export::ExportArgs),
    /// Open the offline review screen on a case (or the case chooser).
    Review(review::ReviewArgs),
    /// Send cases to the core lab's archive through the upload queue, or show the queue.
    Upload(upload::UploadArgs),
    /// Check the analysis against the simulated patient's truth on every arm; print bias and limits.
    Validate(validate::ValidateArgs),
}

/// Writes one line to standard output (what [`outln!`] expands to).
pub(crate) fn write_line(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.write_all(b"\n")
}

/// Whether `error` comes from writing to a pipe whose reader has gone.
fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Entry point of the binary: parses arguments, sets up logging, runs. A reader that stopped reading standard
/// output early is not an error: the command ends quietly with success, as `head` expects.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run(cli) {
        Ok(code) => code,
        Err(error) if is_closed_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("heracles: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (data_dir, config_dir) = (cli.data_dir, cli.config_dir);
    match cli.command {
        None => crate::app::run_gui(data_dir, config_dir).map(|()| ExitCode::SUCCESS),
        Some(Command::Simulate(args)) => simulate::run(args),
        Some(Command::Analyze(args)) => analyze::run(args),
        Some(Command::Record(args)) => record::run(args, data_dir),
        Some(Command::Case(command)) => case::run(command, data_dir),
        Some(Command::Import(args)) => import::run(args, data_dir),
        Some(Command::Export(args)) => export::run(args, data_dir),
        Some(Command::Review(args)) => review::run(args, data_dir, config_dir),
        Some(Command::Upload(args)) => upload::run(args, data_dir, config_dir),
        Some(Command::Validate(args)) => validate::run(args),
    }
}
