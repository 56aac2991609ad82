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
    let num_samples = (seconds * OUTPUT_RATE_HZ).round() as usize;
    let truth_writer = truth_out.as_mut().map(|(writer, _)| writer as &mut dyn Write);
    let written = write_rows(sim, num_samples, &mut writer, truth_writer).and_then(|()| {
        writer.flush().map_err(CsvError::Rows)?;
        match &mut truth_out {
            Some((writer, _)) => writer.flush().map_err(CsvError::Truth),
            None => Ok(()),
        }
    });
    match (written, truth_out) {
        (Ok(()), _) => Ok(()),
        (Err(CsvError::Rows(error)), _) => {
            Err(error).with_context(|| format!("cannot write {}", out.display()))
        }
        (Err(CsvError::Truth(error)), truth_out) => {
            let path = truth_out.map_or_else(PathBuf::new, |(_, path)| path.to_path_buf());
            Err(error).with_context(|| format!("cannot write {}", path.display()))
        }
    }
}

/// A write of [`write_rows`] failed: to the channels' CSV or to the truth's.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Writing the channels' rows failed.
    #[error("writing the channels: {0}")]
    Rows(std::io::Error),
    /// Writing the per-beat truth failed.
    #[error("writing the truth: {0}")]
    Truth(std::io::Error),
}

/// The rows (no header) of the next `num_samples` samples of `sim` to `out`, a second at a time, and each
/// finished beat's truth row to `truth` when given (the beats are followed only then). What `heracles simulate
/// --out` does per simulated second, and what the `sim` bench times.
pub fn write_rows(
    sim: &mut Simulator,
    num_samples: usize,
    out: &mut dyn Write,
    mut truth: Option<&mut dyn Write>,
) -> Result<(), CsvError> {
    let phases = crate::signal::SignalSettings::default().phases;
    let mut tracker = truth
        .is_some()
        .then(|| BeatTruthTracker::new(phases.wfp_start_fraction, phases.wfp_end_margin_s));
    let mut remaining = num_samples;
    let mut rows = Vec::new();
    let mut truth_rows = String::new();
    while remaining > 0 {
        let chunk = remaining.min(OUTPUT_RATE_HZ as usize);
        rows.clear();
        sim.advance(chunk, |sample| {
            let t_s = sample.index as f64 / OUTPUT_RATE_HZ;
            let [ecg, pa, pd, ipv, lvp, lvv, ecmo] = sample.measured;
            // The row `{t_s:.3},{ecg:.4},{pa:.3},{pd:.3},{ipv:.3},{lvp:.3},{lvv:.3},{ecmo:.4}`, each number by
            // its own call so that its decimals are a constant there.
            push_fixed(&mut rows, t_s, 3, b',');
            push_fixed(&mut rows, ecg, 4, b',');
            push_fixed(&mut rows, pa, 3, b',');
            push_fixed(&mut rows, pd, 3, b',');
            push_fixed(&mut rows, ipv, 3, b',');
            push_fixed(&mut rows, lvp, 3, b',');
            push_fixed(&mut rows, lvv, 3, b',');
            push_fixed(&mut rows, ecmo, 4, b'\n');
            if let Some(beat) = tracker.as_mut().and_then(|tracker| tracker.push(&sample.truth)) {
                use std::fmt::Write as _;
                // Writing to a String cannot fail.
                let _ = writeln!(truth_rows, "{}", truth_row(&beat));
            }
        });
        if let Some(truth) = truth.as_mut() {
            truth.write_all(truth_rows.as_bytes()).map_err(CsvError::Truth)?;
        }
        truth_rows.clear();
        out.write_all(&rows).map_err(CsvError::Rows)?;
        remaining -= chunk;
    }
    Ok(())
}

/// Appends `x` with `decimals` decimals exactly as `format!("{x:.decimals$}")` writes it, then `separator`.
/// The CSV writer's hot path (8 numbers per sample): the general formatter's exact decimal expansion is needed
/// only near a tie, and with 1 to 4 decimals the digits of a whole number below 10^8 are made in a register and
/// stored, with the separator, in one 16-byte write (inlined: `decimals` is a constant at each call).
#[inline(always)]
fn push_fixed(out: &mut Vec<u8>, x: f64, decimals: usize, separator: u8) {
    const SCALE: [f64; 5] = [1.0, 10.0, 100.0, 1e3, 1e4];
    const LIMIT: u32 = 100_000_000;
    let scaled = x.abs() * SCALE.get(decimals).copied().unwrap_or(f64::NAN);
    // Below 1e9 the product is within 6e-8 of the exact decimal value |x| * 10^decimals, so unless its fraction
    // is within 1e-6 of one half both round to the same whole number (NaN, infinities, 10^8 and above, no
    // decimals: the general formatter). The whole part and the fraction by a cast, exact here: `trunc`,
    // `fract` and `round` are library calls on the baseline x86-64 target.
    let whole = if scaled < f64::from(LIMIT) {
        scaled as u32
    } else {
        LIMIT
    };
    let fraction = scaled - f64::from(whole);
    let n = whole + u32::from(fraction > 0.5);
    if !(n < LIMIT && (fraction - 0.5).abs() > 1e-6 && decimals > 0) {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{x:.decimals$}");
        out.push(separator);
        return;
    }
    // The eight digits of `n`, the first in the lowest byte: the last `decimals` are the fraction, the
    // `8 - decimals` before them the whole part with its leading zeros.
    let digits = eight_digits(n);
    let whole_bytes = 8 - decimals;
    // The head: the sign and the whole part's significant digits (at least one), at most 8 bytes, zeros above.
    // Its length comes from `n` alone, so the next number's place does not wait for the digits.
    let whole_digits = ((n / 10_u32.pow(decimals as u32)) | 1).ilog10() as usize + 1;
    let negative = usize::from(x.is_sign_negative());
    let whole_part = digits & (u64::MAX >> (8 * decimals));
    let head = ((whole_part >> (8 * (whole_bytes - whole_digits))) << (8 * negative))
        | (negative as u64 * u64::from(b'-'));
    let head_len = whole_digits + negative;
    // The tail: the point, the fraction's digits and the separator, at most 6 bytes.
    let tail = u64::from(b'.')
        | ((digits >> (8 * whole_bytes)) << 8)
        | (u64::from(separator) << (8 * (decimals + 1)));
    let text = u128::from(head) | (u128::from(tail) << (8 * head_len));
    let end = out.len() + head_len + decimals + 2;
    out.extend_from_slice(&text.to_le_bytes());
    out.truncate(end);
}

/// `b'0'` in every byte of a `u64`.
const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// The eight decimal digits of `n < 10^8` (leading zeros included) as ASCII in a `u64`, the first digit in the
/// lowest byte (so its little-endian bytes read as the number). Each step splits every lane of the one before
/// in two, the quotient by a multiply and a shift (exact for the lanes' ranges), all lanes at once: 4 + 4
/// digits, then 2 + 2, then 1 + 1.
fn eight_digits(n: u32) -> u64 {
    let n = u64::from(n);
    // Lanes of 32 bits, each below 10^4; then of 16 bits, each below 100; then of 8 bits, each a digit.
    let fours = (n / 10_000) | ((n % 10_000) << 32);
    let hundreds = ((fours * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let twos = hundreds | ((fours - 100 * hundreds) << 16);
    let tens = ((twos * 103) >> 10) & 0x000f_000f_000f_000f;
    let ones = tens | ((twos - 10 * tens) << 8);
    ones | ASCII_ZEROS
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
    use super::{eight_digits, push_fixed};

    #[test]
    fn eight_digits_are_the_number_zero_padded() {
        // Every number below 10^6 (all lanes' low values and carries), every 997th above, and the top.
        let check = |n: u32| {
            assert_eq!(
                String::from_utf8_lossy(&eight_digits(n).to_le_bytes()),
                format!("{n:08}"),
                "{n}"
            );
        };
        (0..1_000_000).for_each(check);
        (1_000_000..100_000_000).step_by(997).for_each(check);
        check(99_999_999);
    }

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
                push_fixed(&mut fast, value, decimals, b',');
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    format!("{value:.decimals$},"),
                    "{value:e} with {decimals} decimals"
                );
            }
        }
    }
}
