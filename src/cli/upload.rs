//! `heracles upload CASE|--all [--server URL] [--kind KIND] [--user NAME] [--unsigned-reason TEXT]` sends cases
//! to the core lab's archive through the upload queue, and `heracles upload --status [--json]` shows the queue.
//!
//! The server, kind and user come from the upload settings (`upload.toml` in the configuration folder) unless
//! given here. The password (or token) is never an argument: it comes from `HERACLES_UPLOAD_PASSWORD`, the
//! private secrets file, or a prompt when standard input is a terminal. Exit code 0 only when the archive
//! confirmed every case named; otherwise 1 with the reason of each case that was not (the queue keeps it).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::export::dicom::{TrialContext, study_of_case};
use crate::store::{UploadQueue, list_case_files};
use crate::upload::settings::{self, AuthKind, PASSWORD_ENV, UploadSettings};
use crate::upload::{ArchiveKind, QueueCounts, RetryPolicy, Uploader, entry_words, transport};

/// Arguments of `heracles upload`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["case", "all", "status"]))]
pub struct UploadArgs {
    /// The case file (`.heracles`), or a case id such as HER-STH-0007 in the data folder.
    pub case: Option<PathBuf>,
    /// Every case in the data folder that the archive has not confirmed yet.
    #[arg(long)]
    pub all: bool,
    /// Show the queue instead of uploading.
    #[arg(long)]
    pub status: bool,
    /// With --status: the queue as JSON.
    #[arg(long, requires = "status")]
    pub json: bool,
    /// The archive's URL (default: the upload settings).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The kind of archive (default: the upload settings).
    #[arg(long, value_enum)]
    pub kind: Option<ArchiveKind>,
    /// The archive account (default: the upload settings). The password is never an argument.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Upload a case that is not validly signed off, for this reason (audited in the case file).
    #[arg(long, value_name = "TEXT")]
    pub unsigned_reason: Option<String>,
}

/// Runs `heracles upload`.
pub fn run(
    args: UploadArgs,
    data_dir: Option<PathBuf>,
    config_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let data_dir = crate::store::data_dir(data_dir.as_deref())?;
    if args.status {
        return status(&data_dir, args.json);
    }
    let config_dir = settings::config_dir(config_dir.as_deref())?;
    let mut upload_settings = UploadSettings::load(&config_dir)?;
    if let Some(server) = args.server {
        upload_settings.server = server;
    }
    if let Some(kind) = args.kind {
        upload_settings.kind = kind;
    }
    if let Some(user) = args.user {
        upload_settings.user = user;
    }
    anyhow::ensure!(
        !upload_settings.server.trim().is_empty(),
        "no archive: give --server URL or set it up in the app's Settings > Upload"
    );
    let secret = secret(&config_dir, &upload_settings)?;
    let archive = transport::connect(
        upload_settings.kind,
        &upload_settings.server,
        upload_settings.credentials(secret),
        &upload_settings.calling_ae_title,
    )?;
    let who = if upload_settings.user.trim().is_empty() {
        "upload"
    } else {
        upload_settings.user.trim()
    };
    let trial = TrialContext::heracles();
    let build = |path: &Path| study_of_case(path, &trial);
    let uploader = Uploader::new(&data_dir, archive, who, RetryPolicy::STANDARD, &build)?;
    let cases = match (&args.case, args.all) {
        (Some(case), _) => vec![super::export::case_path(case, Some(&data_dir))?],
        (None, _) => unconfirmed_cases(&data_dir)?,
    };
    let mut num_failed = 0;
    for case in &cases {
        match uploader.upload(case, args.unsigned_reason.as_deref()) {
            Ok(entry) => outln!(
                "{}: confirmed by {} ({} objects, study {})",
                entry.case_id,
                entry.server,
                entry.num_instances.unwrap_or_default(),
                entry.study_instance_uid.as_deref().unwrap_or_default()
            )?,
            Err(error) => {
                num_failed += 1;
                eprintln!("heracles: {error}");
            }
        }
    }
    if num_failed > 0 {
        eprintln!(
            "heracles: {num_failed} of {} case(s) not confirmed; they wait in the upload queue (heracles upload \
             --status)",
            cases.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The data folder's cases that the archive has not confirmed.
fn unconfirmed_cases(data_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let queue = UploadQueue::open(data_dir)?;
    let confirmed: Vec<String> = queue
        .entries()?
        .into_iter()
        .filter(|entry| entry.state == crate::store::UploadState::Confirmed)
        .map(|entry| entry.case_id)
        .collect();
    Ok(list_case_files(data_dir)?
        .into_iter()
        .filter(|path| {
            let case_id = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            !case_id.is_some_and(|id| confirmed.contains(&id))
        })
        .collect())
}

/// The password or token: environment, secrets file, or a prompt on a terminal; none for no authentication.
fn secret(config_dir: &Path, upload_settings: &UploadSettings) -> anyhow::Result<Option<String>> {
    if upload_settings.auth == AuthKind::None || upload_settings.kind == ArchiveKind::Dimse {
        return Ok(None);
    }
    if let Some(secret) = settings::stored_secret(config_dir)? {
        return Ok(Some(secret));
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "no password for the archive: set {PASSWORD_ENV}, save it in the app's Settings > Upload, or run on a \
             terminal to be asked"
        );
    }
    // The prompt goes to standard error; echo is turned off on the terminal while the answer is typed.
    eprint!(
        "password for {} at {}: ",
        upload_settings.user, upload_settings.server
    );
    std::io::stderr().flush()?;
    let echo = |on: bool| {
        std::process::Command::new("stty")
            .arg(if on { "echo" } else { "-echo" })
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|status| status.success())
    };
    let hidden = echo(false);
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if hidden {
        echo(true);
    }
    eprintln!();
    read?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok((!secret.is_empty()).then_some(secret))
}

/// Prints the queue.
fn status(data_dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let entries = UploadQueue::open(data_dir)?.entries()?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&entries)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}", QueueCounts::of(&entries).line())?;
    for entry in &entries {
        outln!(
            "{}  {}  attempts {}  updated {}",
            entry.case_id,
            entry_words(entry),
            entry.attempts,
            entry.updated_utc
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
