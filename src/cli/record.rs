//! `heracles record`: records a case headless, through the real acquisition engine and the store's recorder,
//! exactly as the workstation does. Prints `recording started: FILE` once samples flow to the recorder, reports
//! NOT SAVING on standard error if writing fails, and finishes after `--seconds`.
//!
//! Exits non-zero when anything was not recorded: writing failed for longer than `--max-not-saving-s` (the
//! recording stops there; every sample held but not saved is recorded as a gap when the file still takes that
//! small write), or the recorder could not save everything when it finished.

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::acquisition::profile::load_profiles;
use crate::acquisition::serial::SerialSource;
use crate::acquisition::sim_source::SimSource;
use crate::acquisition::{Engine, EngineConfig, Source};
use crate::model::CaseId;
use crate::sim::{SensorLevel, Simulator};
use crate::store::{self, CaseFile, Recorder, RecorderOptions};

/// The simulator scenario recorded when `--source sim` names none.
const DEFAULT_SCENARIO: &str = "shock-ecmo";

/// Seed of the simulated patient's sensor noise.
const SIM_SEED: u64 = 1;

/// Where the samples come from. Add a variant (and a line in `from_str` and `open`) for each new kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceArg {
    /// The built-in simulated patient: `sim` or `sim:SCENARIO`.
    Sim {
        /// Scenario name (see `heracles simulate --help`).
        scenario: String,
    },
    /// A console on a serial port speaking the heracles stream protocol (the bridge profile): `serial:PATH`,
    /// e.g. `serial:/dev/ttyUSB0` or the path `heracles simulate --pty` prints.
    Serial {
        /// Device path.
        path: String,
    },
}

impl FromStr for SourceArg {
    type Err = String;

    fn from_str(text: &str) -> Result<SourceArg, String> {
        let (kind, rest) = match text.split_once(':') {
            Some((kind, rest)) => (kind, Some(rest)),
            None => (text, None),
        };
        match (kind, rest) {
            ("sim", None) => Ok(SourceArg::Sim {
                scenario: DEFAULT_SCENARIO.to_owned(),
            }),
            ("sim", Some(scenario)) if !scenario.is_empty() => Ok(SourceArg::Sim {
                scenario: scenario.to_owned(),
            }),
            ("serial", Some(path)) if !path.is_empty() => Ok(SourceArg::Serial {
                path: path.to_owned(),
            }),
            _ => Err(format!(
                "unknown source {text:?}: expected sim, sim:SCENARIO or serial:PATH"
            )),
        }
    }
}

impl SourceArg {
    /// The acquisition source this argument names.
    pub fn open(&self) -> anyhow::Result<Box<dyn Source>> {
        match self {
            SourceArg::Sim { scenario } => {
                let simulator = Simulator::new(scenario, SIM_SEED, SensorLevel::Realistic)
                    .with_context(|| format!("simulated patient {scenario:?}"))?;
                Ok(Box::new(SimSource::new(simulator)))
            }
            SourceArg::Serial { path } => {
                let (profiles, _) = load_profiles(None);
                let bridge = profiles
                    .into_iter()
                    .find(|profile| profile.id == "bridge")
                    .context("the built-in bridge profile is missing")?;
                Ok(Box::new(SerialSource::new(bridge.serial_config(path, None))))
            }
        }
    }
}

/// Arguments of `heracles record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// Where samples come from: `sim`, `sim:SCENARIO` or `serial:PATH`.
    #[arg(long, default_value = "sim")]
    pub source: SourceArg,
    /// The pseudonymous case id, e.g. HER-STH-0007; the case file must not exist yet.
    #[arg(long = "case")]
    pub case_id: CaseId,
    /// How long to record, seconds.
    #[arg(long)]
    pub seconds: f64,
    /// Who is recording (a user name, never a patient's).
    #[arg(long, default_value = "headless")]
    pub operator: String,
    /// Stop (and exit non-zero) when the case file cannot be written for this many seconds in a row.
    #[arg(long, default_value_t = 30.0)]
    pub max_not_saving_s: f64,
}

/// Runs `heracles record`.
pub fn run(args: RecordArgs, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number of seconds");
    }
    if !(args.max_not_saving_s.is_finite() && args.max_not_saving_s > 0.0) {
        anyhow::bail!("--max-not-saving-s must be a positive number of seconds");
    }
    let dir = store::data_dir(data_dir.as_deref())?;
    let source = args.source.open()?;
    let file = CaseFile::create(&dir, args.case_id, &args.operator)?;
    let path = file.path().to_owned();
    let recorder = Recorder::start(file, RecorderOptions::default())?;
    let engine = Engine::start(vec![source], EngineConfig::default(), Arc::new(|| {}))
        .context("starting the acquisition engine")?;
    engine
        .start_recording(Box::new(recorder))
        .map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    // A reader that went away does not stop the recording: the case file is what matters.
    if let Err(error) = outln!("recording started: {}", path.display()) {
        log::warn!("standard output: {error}");
    }
    let mut failure: Option<String> = None;
    let mut failing_since: Option<Instant> = None;
    let mut gave_up = false;
    let mut connected: Vec<Option<bool>> = Vec::new();
    while started.elapsed().as_secs_f64() < args.seconds {
        let left = Duration::from_secs_f64(args.seconds).saturating_sub(started.elapsed());
        std::thread::sleep(left.min(Duration::from_millis(20)));
        report_sources(&engine, &mut connected, started);
        let now = engine.lock().recording.failure.clone();
        if now != failure {
            match &now {
                Some(message) => eprintln!("NOT SAVING: {message}"),
                None => eprintln!("saving again"),
            }
            failing_since = now.as_ref().map(|_| Instant::now());
            failure = now;
        }
        if failing_since.is_some_and(|since| since.elapsed().as_secs_f64() >= args.max_not_saving_s) {
            eprintln!(
                "heracles: NOT SAVING for {:.0} s: recording stopped after {:.1} s",
                args.max_not_saving_s,
                started.elapsed().as_secs_f64()
            );
            gave_up = true;
            break;
        }
    }
    let lost: Vec<String> = engine
        .lock()
        .sources
        .iter()
        .filter(|source| !source.connected)
        .map(|source| source.spec.id.clone())
        .collect();
    let result = engine.stop_recording();
    drop(engine);
    match CaseFile::open_read_only(&path).and_then(|file| file.summary()) {
        Ok(summary) => {
            if let Err(error) = outln!("recorded {:.3} s to {}", summary.duration_s, path.display()) {
                log::warn!("standard output: {error}");
            }
        }
        Err(error) => eprintln!("heracles: the case file cannot be read back: {error}"),
    }
    if !lost.is_empty() {
        eprintln!(
            "heracles: no data from {} at the end of the recording (the time without it is recorded as a gap)",
            lost.join(", ")
        );
    }
    match result {
        Ok(()) if !gave_up && lost.is_empty() => Ok(ExitCode::SUCCESS),
        Ok(()) => Ok(ExitCode::FAILURE),
        Err(message) => {
            eprintln!("heracles: recording did not finish cleanly: {message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Prints on standard error when a source stops delivering (a pulled cable, a console switched off) and when
/// it comes back; `connected` remembers each source's state (`None` until it first delivers).
fn report_sources(engine: &Engine, connected: &mut Vec<Option<bool>>, started: Instant) {
    let state = engine.lock();
    connected.resize(state.sources.len(), None);
    for (source, was) in state.sources.iter().zip(connected.iter_mut()) {
        let at_s = started.elapsed().as_secs_f64();
        match (*was, source.connected) {
            (Some(true), false) => eprintln!(
                "SOURCE LOST: {}: {} ({at_s:.1} s); recording the gap",
                source.spec.id,
                source.disconnect_reason.as_deref().unwrap_or("no data")
            ),
            (Some(false), true) => eprintln!("{}: receiving data again ({at_s:.1} s)", source.spec.id),
            (None, false) => continue,
            _ => {}
        }
        *was = Some(source.connected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            "sim".parse(),
            Ok(SourceArg::Sim {
                scenario: DEFAULT_SCENARIO.into()
            })
        );
        assert_eq!(
            "sim:healthy".parse(),
            Ok(SourceArg::Sim {
                scenario: "healthy".into()
            })
        );
        assert_eq!(
            "serial:/dev/pts/3".parse(),
            Ok(SourceArg::Serial {
                path: "/dev/pts/3".into()
            })
        );
        for bad in ["", "sim:", "simulator", "serial", "serial:", "foo:bar"] {
            assert!(bad.parse::<SourceArg>().is_err(), "{bad}");
        }
    }
}
