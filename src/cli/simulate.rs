//! `heracles simulate`: run the simulated patient headless. `--list-scenarios` prints the scenarios;
//! `--scenario NAME --seconds N --out FILE.csv` writes every channel at 1 kHz to a CSV file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::sim::{OUTPUT_RATE_HZ, SensorLevel, Simulator, scenarios};

/// Longest run the CSV mode accepts, s (a day at 1 kHz is about 5 GB of text).
const MAX_SECONDS: f64 = 86_400.0;

/// Sensor fidelity on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SensorArg {
    /// The exact truth on every channel.
    Clean,
    /// Offsets, drift, damping, noise, uncalibrated volume, Doppler dropouts.
    Realistic,
}

impl From<SensorArg> for SensorLevel {
    fn from(arg: SensorArg) -> SensorLevel {
        match arg {
            SensorArg::Clean => SensorLevel::Clean,
            SensorArg::Realistic => SensorLevel::Realistic,
        }
    }
}

/// Arguments of `heracles simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Print the scenarios (name and description) and exit.
    #[arg(long)]
    pub list_scenarios: bool,
    /// Scenario to run (see --list-scenarios).
    #[arg(long, value_name = "NAME", required_unless_present = "list_scenarios")]
    pub scenario: Option<String>,
    /// Simulated duration, s.
    #[arg(long, value_name = "N")]
    pub seconds: Option<f64>,
    /// Write the channels to this CSV file (needs --seconds): header `t_s,ecg,pa,pd,ipv,lvp,lvv,ecmo_flow`, one
    /// row per sample.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Seed of the sensor noise and sensor parameters (same seed, same output).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Sensor fidelity.
    #[arg(long, value_enum, default_value_t = SensorArg::Realistic)]
    pub sensors: SensorArg,
}

/// Runs `heracles simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if args.list_scenarios {
        let width = scenarios().iter().map(|info| info.name.len()).max().unwrap_or(0);
        for info in scenarios() {
            println!("{:width$}  {}", info.name, info.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = args.scenario.as_deref() else {
        bail!("give --scenario NAME (see --list-scenarios)")
    };
    let mut sim = Simulator::new(name, args.seed, args.sensors.into())?;
    if let Some(out) = &args.out {
        let Some(seconds) = args.seconds else {
            bail!("--out needs --seconds N")
        };
        write_csv(&mut sim, seconds, out)?;
        return Ok(ExitCode::SUCCESS);
    }
    bail!("nothing to do: give --seconds N --out FILE.csv")
}

/// Writes `seconds` of `sim` to `out` as CSV.
fn write_csv(sim: &mut Simulator, seconds: f64, out: &PathBuf) -> anyhow::Result<()> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS) {
        bail!("--seconds must be a number above 0 and at most {MAX_SECONDS}, not {seconds}");
    }
    let file = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let spec = sim.source_spec();
    let header: Vec<&str> = spec
        .channels
        .iter()
        .map(|channel| channel.name.as_str())
        .collect();
    writeln!(writer, "t_s,{}", header.join(","))?;
    let mut remaining = (seconds * OUTPUT_RATE_HZ).round() as usize;
    let mut rows = String::new();
    while remaining > 0 {
        let chunk = remaining.min(OUTPUT_RATE_HZ as usize);
        rows.clear();
        sim.advance(chunk, |sample| {
            use std::fmt::Write as _;
            let t_s = sample.index as f64 / OUTPUT_RATE_HZ;
            let [ecg, pa, pd, ipv, lvp, lvv, ecmo] = sample.measured;
            // Writing to a String cannot fail.
            let _ = writeln!(
                rows,
                "{t_s:.3},{ecg:.4},{pa:.3},{pd:.3},{ipv:.3},{lvp:.3},{lvv:.3},{ecmo:.4}"
            );
        });
        writer
            .write_all(rows.as_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?;
        remaining -= chunk;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
