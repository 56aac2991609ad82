//! `heracles simulate`: run the simulated patient headless. `--list-scenarios` prints the scenarios;
//! `--scenario NAME --seconds N --out FILE.csv` writes every channel at 1 kHz to a CSV file (which `heracles
//! analyze` reads as it is), `--truth FILE.csv` the per-beat truth beside it (`sim::truth`); `--pty` (prints the
//! port path to connect to) or `--port PATH --baud N` streams the heracles protocol in real time, with optional
//! `--faults drop=P,corrupt=P,disconnect-after=S` logged frame by frame (see `acquisition::sim_stream`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::sim::truth::{BeatTruth, BeatTruthTracker};
use crate::sim::{OUTPUT_RATE_HZ, Rhythm, SensorLevel, SimError, Simulator, scenario, scenarios};

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
    /// Simulated duration, s (required with --out; streaming runs until stopped without it).
    #[arg(long, value_name = "N")]
    pub seconds: Option<f64>,
    /// Write the channels to this CSV file (needs --seconds): header `t_s,ecg,pa,pd,ipv,lvp,lvv,ecmo_flow`, one
    /// row per sample.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Write the per-beat truth of the same run to this CSV file (needs --out): R to R, the true valve events,
    /// LV dP/dt min, end of systole, wave-free period, APV, diastolic APV, mean Pa and Pd over the beat, diastole
    /// and wave-free period, Ees and V0, the beat's kind (`rhythm`: sinus, af, ectopic, paced) and whether it
    /// ejected (times in s from the start of the run).
    #[arg(long, value_name = "FILE.csv", requires = "out")]
    pub truth: Option<PathBuf>,
    /// The heart's rhythm instead of the scenario's: `sinus`, `af[:RATE]` (atrial fibrillation, mean rate
    /// beats/min, default 110), `ectopics[:N]` (N ventricular ectopics per 100 beats, default 10), `paced[:RATE]`
    /// (default 80/min). Combines with any scenario's devices.
    #[arg(long, value_name = "RHYTHM")]
    pub rhythm: Option<Rhythm>,
    /// Seed of the sensor noise, the sensor parameters and the rhythm's RRs (same seed, same output).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Sensor fidelity.
    #[arg(long, value_enum, default_value_t = SensorArg::Realistic)]
    pub sensors: SensorArg,
    /// Streaming to a serial port or a pseudo-terminal.
    #[command(flatten)]
    pub stream: StreamArgs,
}

/// The streaming options of `heracles simulate`.
#[derive(Debug, clap::Args)]
pub struct StreamArgs {
    /// Stream the heracles protocol on a new pseudo-terminal; its path is printed on standard output.
    #[arg(long, conflicts_with_all = ["out", "port"])]
    pub pty: bool,
    /// Stream the heracles protocol to this serial port.
    #[arg(long, value_name = "PATH", conflicts_with = "out")]
    pub port: Option<String>,
    /// Baud rate of --port.
    #[arg(long, value_name = "N", default_value_t = crate::acquisition::serial::DEFAULT_BAUD, requires = "port")]
    pub baud: u32,
    /// Faults to inject while streaming, e.g. `drop=0.01,corrupt=0.001,disconnect-after=30[,disconnect-for=3]`
    /// (drawn from --seed).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Write the injected faults here, one JSON object per line (default: standard error).
    #[arg(long, value_name = "FILE")]
    pub fault_log: Option<PathBuf>,
}

impl Default for StreamArgs {
    fn default() -> StreamArgs {
        StreamArgs {
            pty: false,
            port: None,
            baud: crate::acquisition::serial::DEFAULT_BAUD,
            faults: None,
            fault_log: None,
        }
    }
}

/// Runs `heracles simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if args.list_scenarios {
        let width = scenarios().iter().map(|info| info.name.len()).max().unwrap_or(0);
        for info in scenarios() {
            outln!("{:width$}  {}", info.name, info.description)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = args.scenario.as_deref() else {
        bail!("give --scenario NAME (see --list-scenarios)")
    };
    let mut setup = scenario::setup(name).ok_or_else(|| SimError::UnknownScenario(name.to_owned()))?;
    if let Some(rhythm) = args.rhythm {
        setup.rhythm = rhythm;
    }
    let mut sim = Simulator::from_setup(setup, args.seed, args.sensors.into());
    if args.stream.pty || args.stream.port.is_some() {
        return stream(sim, &args);
    }
    if args.stream.faults.is_some() || args.stream.fault_log.is_some() {
        bail!("--faults and --fault-log apply to streaming (--pty or --port)");
    }
    if let Some(out) = &args.out {
        let Some(seconds) = args.seconds else {
            bail!("--out needs --seconds N")
        };
        write_csv(&mut sim, seconds, out, args.truth.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    bail!("nothing to do: give --seconds N --out FILE.csv, --pty, or --port PATH")
}

/// The header of `--truth`.
const TRUTH_HEADER: &str = "beat,start_s,end_s,valve_open_s,valve_close_s,dpdt_min_s,systole_end_s,\
wfp_start_s,wfp_end_s,apv_cm_s,diastolic_apv_cm_s,wfp_ipv_cm_s,mean_pa_mmhg,mean_pd_mmhg,diastolic_pa_mmhg,\
diastolic_pd_mmhg,wfp_pd_mmhg,ees_mmhg_per_ml,v0_ml,balloon_inflated,rhythm,ejected";

/// One row of `--truth` (an empty cell where the valve does not open).
fn truth_row(beat: &BeatTruth) -> String {
    let time = |t: Option<f64>| t.map_or(String::new(), |t| format!("{t:.3}"));
    format!(
        "{},{:.3},{:.3},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.5},{:.3},{},{},{}",
        beat.number,
        beat.start_s,
        beat.end_s,
        time(beat.valve_open_s),
        time(beat.valve_close_s),
        beat.dpdt_min_s,
        beat.systole_end_s,
        beat.wave_free_s.0,
        beat.wave_free_s.1,
        beat.apv_cm_s,
        beat.diastolic_apv_cm_s,
        beat.wfp_ipv_cm_s,
        beat.mean_pa_mmhg,
        beat.mean_pd_mmhg,
        beat.diastolic_pa_mmhg,
        beat.diastolic_pd_mmhg,
        beat.wfp_pd_mmhg,
        beat.ees_mmhg_per_ml,
        beat.v0_ml,
        u8::from(beat.balloon_inflated),
        beat.kind.key(),
        u8::from(beat.ejected()),
    )
}

/// Writes `seconds` of `sim` to `out` as CSV, and its per-beat truth to `truth` when given.
fn write_csv(sim: &mut Simulator, seconds: f64, out: &PathBuf, truth: Option<&Path>) -> anyhow::Result<()> {
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
    let mut truth_out = match truth {
        Some(path) => {
            let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut writer = BufWriter::new(file);
            writeln!(writer, "{TRUTH_HEADER}")?;
            Some((writer, path))
        }
        None => None,
    };
    // The per-beat truth is followed only when asked for.
    let phases = crate::signal::SignalSettings::default().phases;
    let mut tracker = truth_out
        .is_some()
        .then(|| BeatTruthTracker::new(phases.wfp_start_fraction, phases.wfp_end_margin_s));
    let mut remaining = (seconds * OUTPUT_RATE_HZ).round() as usize;
    let mut rows = Vec::new();
    let mut truth_rows = String::new();
    while remaining > 0 {
        let chunk = remaining.min(OUTPUT_RATE_HZ as usize);
        rows.clear();
        sim.advance(chunk, |sample| {
            let t_s = sample.index as f64 / OUTPUT_RATE_HZ;
            let [ecg, pa, pd, ipv, lvp, lvv, ecmo] = sample.measured;
            // The row `{t_s:.3},{ecg:.4},{pa:.3},{pd:.3},{ipv:.3},{lvp:.3},{lvv:.3},{ecmo:.4}`.
            for (k, (value, decimals)) in [
                (t_s, 3),
                (ecg, 4),
                (pa, 3),
                (pd, 3),
                (ipv, 3),
                (lvp, 3),
                (lvv, 3),
                (ecmo, 4),
            ]
            .into_iter()
            .enumerate()
            {
                if k > 0 {
                    rows.push(b',');
                }
                push_fixed(&mut rows, value, decimals);
            }
            rows.push(b'\n');
            if let Some(beat) = tracker.as_mut().and_then(|tracker| tracker.push(&sample.truth)) {
                use std::fmt::Write as _;
                // Writing to a String cannot fail.
                let _ = writeln!(truth_rows, "{}", truth_row(&beat));
            }
        });
        if let Some((writer, path)) = &mut truth_out {
            writer
                .write_all(truth_rows.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        truth_rows.clear();
        writer
            .write_all(&rows)
            .with_context(|| format!("cannot write {}", out.display()))?;
        remaining -= chunk;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", out.display()))?;
    if let Some((mut writer, path)) = truth_out {
        writer
            .flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Appends `x` with `decimals` decimals exactly as `format!("{x:.decimals$}")` writes it. The CSV writer's hot
/// path (8 numbers per sample): the general formatter's exact decimal expansion is needed only near a tie.
fn push_fixed(out: &mut Vec<u8>, x: f64, decimals: usize) {
    const SCALE: [f64; 5] = [1.0, 10.0, 100.0, 1e3, 1e4];
    let scaled = x.abs() * SCALE.get(decimals).copied().unwrap_or(f64::NAN);
    // Below 1e9 the product is within 6e-8 of the exact decimal value |x| * 10^decimals, so unless its fraction
    // is within 1e-6 of one half both round to the same whole number (NaN, infinities and the rest: the general
    // formatter). The whole part and the fraction by a cast, exact below 2^53: `trunc`, `fract` and `round` are
    // library calls on the baseline x86-64 target.
    let whole = scaled as u64;
    let fraction = scaled - whole as f64;
    if !(scaled < 1e9 && (fraction - 0.5).abs() > 1e-6) {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{x:.decimals$}");
        return;
    }
    let mut n = whole + u64::from(fraction > 0.5);
    if x.is_sign_negative() {
        out.push(b'-');
    }
    // The digits of `n` from the last, two at a time while two remain (so no pair starts with a zero that is
    // not a digit), in a field of zeros: at least `decimals + 1` of them are written (a whole part of at least
    // one digit), the point before the last `decimals`.
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    let mut digits = [b'0'; 24];
    let mut at = digits.len();
    while n >= 10 {
        let pair = 2 * (n % 100) as usize;
        n /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n > 0 {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    let start = at.min(digits.len() - decimals - 1);
    let point = digits.len() - decimals;
    out.extend_from_slice(&digits[start..point]);
    if decimals > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[point..]);
    }
}

/// Streams the protocol to a new pseudo-terminal or to `--port`, in real time.
fn stream(sim: Simulator, args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    use crate::acquisition::sim_stream::{
        FaultConfig, SimStream, StreamTarget, open_output, stream_real_time,
    };
    if let Some(seconds) = args.seconds
        && !(seconds.is_finite() && seconds > 0.0)
    {
        bail!("--seconds must be a number above 0, not {seconds}");
    }
    let faults = FaultConfig::parse(args.stream.faults.as_deref().unwrap_or(""), args.seed)?;
    let mut log: Box<dyn Write> = match &args.stream.fault_log {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::stderr()),
    };
    // A new boot id per run, as a real bridge picks one at power-up.
    let boot_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() ^ d.as_secs() as u32);
    let mut stream = SimStream::new(sim, boot_id, faults)?;
    let target = match &args.stream.port {
        Some(path) => StreamTarget::Port {
            path: path.clone(),
            baud: args.stream.baud,
        },
        None => StreamTarget::Pty,
    };
    let mut output = open_output(&target).with_context(|| format!("cannot open {target:?}"))?;
    if target == StreamTarget::Pty {
        // The one line a caller waits for: where to connect.
        outln!("{}", output.path)?;
        std::io::stdout().flush()?;
    }
    let mut log_error = None;
    let report = stream_real_time(&mut stream, &mut output, args.seconds, &|| true, &mut |fault| {
        let line = serde_json::to_string(fault).unwrap_or_default();
        if let Err(error) = writeln!(log, "{line}").and_then(|()| log.flush()) {
            log_error.get_or_insert(error);
        }
    })?;
    if let Some(error) = log_error {
        bail!("cannot write the fault log: {error}");
    }
    eprintln!(
        "streamed {} frames, {} faults injected",
        report.num_frames, report.num_faults
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::push_fixed;

    #[test]
    fn fixed_decimals_are_written_exactly_as_the_general_formatter_writes_them() {
        // Exact ties (multiples of 1/16000 and 1/160000), values just around them, both signs, negative zero,
        // the limits of the fast path, and non-finite values; plus a spread of pseudo-random magnitudes.
        let mut values = vec![
            0.0,
            -0.0,
            0.0625,
            -0.0625,
            2.5,
            0.5,
            1e9,
            1e12,
            1e-9,
            -1e-9,
            999_999.999_5,
        ];
        values.extend([
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
        ]);
        for k in -20_000..20_000 {
            let tie = f64::from(k) / 16_000.0;
            values.extend([tie, f64::from(k) / 160_000.0, tie.next_up(), tie.next_down()]);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let unit = (state >> 11) as f64 / (1_u64 << 53) as f64;
            let exponent = f64::from((state % 17) as u8) - 6.0;
            values.push((unit - 0.3) * 10_f64.powf(exponent));
        }
        for value in values {
            for decimals in 0..=4 {
                let mut fast = Vec::new();
                push_fixed(&mut fast, value, decimals);
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    format!("{value:.decimals$}"),
                    "{value:e} with {decimals} decimals"
                );
            }
        }
    }
}
