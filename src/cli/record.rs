//! `heracles record`: records a case headless, through the real acquisition engine and the store's recorder,
//! exactly as the workstation does. Prints `recording started: FILE` once samples flow to the recorder, reports
//! NOT SAVING on standard error if writing fails, and finishes after `--seconds`.

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
}

/// Runs `heracles record`.
pub fn run(args: RecordArgs, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number of seconds");
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
    println!("recording started: {}", path.display());
    let mut failure: Option<String> = None;
    while started.elapsed().as_secs_f64() < args.seconds {
        let left = Duration::from_secs_f64(args.seconds).saturating_sub(started.elapsed());
        std::thread::sleep(left.min(Duration::from_millis(20)));
        let now = engine.lock().recording.failure.clone();
        if now != failure {
            match &now {
                Some(message) => eprintln!("NOT SAVING: {message}"),
                None => eprintln!("saving again"),
            }
            failure = now;
        }
    }
    let result = engine.stop_recording();
    drop(engine);
    let summary = CaseFile::open_read_only(&path).and_then(|file| file.summary())?;
    println!("recorded {:.3} s to {}", summary.duration_s, path.display());
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(message) => {
            eprintln!("heracles: recording did not finish cleanly: {message}");
            Ok(ExitCode::FAILURE)
        }
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
