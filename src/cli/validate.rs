//! `heracles validate`: the analysis against the simulated patient's truth, on every arm of the trial. Every
//! scenario (and the device settings the trial meets: IABP 1:1, 1:2, 1:3, badly timed; Impella CP at several
//! P-levels; full ECMO flow) x a few seeds x `clean` and `realistic` sensors is simulated, analysed through the
//! same pipeline as the app ([`analyze_recording`] with the default settings) and compared beat by beat with
//! [`BeatTruth`]: end-systole against aortic-valve closure (or LV dP/dt min where the valve does not open), and the
//! coronary endpoints against their true values. Prints, per arm (none, IABP, Impella, full flow, rhythm
//! disorders) and sensor level, the timing errors, each endpoint's bias and 95 % limits of agreement and the beats
//! quality control excluded, by reason; `--markdown FILE` writes `docs/validation.md`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::analysis::AnalysisSettings;
use crate::analysis::pipeline::{AnalysisRequest, Report, analyze_recording};
use crate::model::{
    IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, Recording, Segment, TimeSeries, UnloadingDevice,
};
use crate::sim::rhythm::BeatKind;
use crate::sim::truth::{BeatTruth, BeatTruthTracker};
use crate::sim::{OUTPUT_RATE_HZ, Rhythm, SensorLevel, Simulator, ecg, scenario};

/// End-systole must be within this of the truth on clean sensors, ms (issue 12's acceptance) ...
pub const CLEAN_BOUND_MS: f64 = 5.0;
/// ... and this on realistic sensors, ms.
pub const REALISTIC_BOUND_MS: f64 = 15.0;
/// LV dP/dt min must be within this of the true one where the valve does not open, ms.
pub const NO_EJECTION_BOUND_MS: f64 = 5.0;
/// An analysed beat is the true beat whose R wave (a paced beat's pacing spike: [`ecg::PACING_SPIKE_LEAD_S`]
/// before it, where the R-wave detector marks a paced beat) is within this of its start, s.
const MATCH_S: f64 = 0.03;

/// Arguments of `heracles validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Simulated seconds per run.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    pub seconds: f64,
    /// Seeds per case and sensor level (seeds 1..=N).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub seeds: u64,
    /// Only the cases whose label contains this (repeatable; default: every case), e.g. `--only "IABP 1:2"`.
    #[arg(long, value_name = "TEXT")]
    pub only: Vec<String>,
    /// Write the tables, with the command that made them, to this Markdown file (e.g. docs/validation.md).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// The trial's arms, as the validation groups the cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arm {
    /// No VA-ECMO (the healthy reference and shock without support): not a trial arm, kept apart.
    NoEcmo,
    /// No unloading device (VA-ECMO at baseline flow).
    None,
    /// IABP.
    Iabp,
    /// Impella.
    Impella,
    /// VA-ECMO at full flow (flat arterial pulse, aortic valve barely opening).
    FullFlow,
    /// Any device, recorded without the LV catheter (aortic pressure alone): the notch rule, and balloon beats
    /// left untimed.
    AorticOnly,
    /// VA-ECMO at baseline flow in atrial fibrillation, with ventricular ectopics or paced (no device).
    Rhythm,
}

impl Arm {
    /// Every arm, in table order.
    pub const ALL: [Arm; 7] = [
        Arm::None,
        Arm::Iabp,
        Arm::Impella,
        Arm::FullFlow,
        Arm::NoEcmo,
        Arm::AorticOnly,
        Arm::Rhythm,
    ];

    /// Name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Arm::NoEcmo => "no ECMO (healthy, shock)",
            Arm::None => "none",
            Arm::Iabp => "IABP",
            Arm::Impella => "Impella",
            Arm::FullFlow => "full flow",
            Arm::AorticOnly => "aortic pressure only (no LV catheter)",
            Arm::Rhythm => "rhythm disorders (AF, ectopics, paced)",
        }
    }
}

/// One simulated set-up: a scenario, optionally with another device than its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Case {
    /// Name in the tables.
    pub label: &'static str,
    /// The scenario.
    pub scenario: &'static str,
    /// A device replacing the scenario's own, from the start (settled during the warm-up).
    pub device: Option<UnloadingDevice>,
    /// A rhythm replacing the scenario's own.
    pub rhythm: Option<Rhythm>,
    /// The arm it belongs to.
    pub arm: Arm,
}

fn iabp(ratio: IabpRatio, inflation_offset_ms: f64, deflation_offset_ms: f64) -> Option<UnloadingDevice> {
    Some(UnloadingDevice::Iabp(IabpSettings {
        ratio,
        inflation_offset_ms,
        deflation_offset_ms,
        ..IabpSettings::default()
    }))
}

fn impella_cp(p_level: u8) -> Option<UnloadingDevice> {
    Some(UnloadingDevice::Impella(ImpellaSettings {
        model: ImpellaModel::ImpellaCp,
        p_level,
        displayed_flow_l_min: None,
    }))
}

/// Every scenario, plus the device settings the scenarios do not cover.
pub fn cases() -> Vec<Case> {
    let case = |label, scenario, device, arm| Case {
        label,
        scenario,
        device,
        rhythm: None,
        arm,
    };
    vec![
        case("healthy", "healthy", None, Arm::NoEcmo),
        case("shock", "shock", None, Arm::NoEcmo),
        case("shock-ecmo", "shock-ecmo", None, Arm::None),
        case("shock-ecmo-occlusion", "shock-ecmo-occlusion", None, Arm::None),
        case("shock-ecmo-hyperaemia", "shock-ecmo-hyperaemia", None, Arm::None),
        case(
            "shock-ecmo-full-flow",
            "shock-ecmo-full-flow",
            None,
            Arm::FullFlow,
        ),
        case("IABP 1:1", "shock-ecmo-iabp", None, Arm::Iabp),
        case(
            "IABP 1:2",
            "shock-ecmo",
            iabp(IabpRatio::OneToTwo, 0.0, 0.0),
            Arm::Iabp,
        ),
        case(
            "IABP 1:3",
            "shock-ecmo",
            iabp(IabpRatio::OneToThree, 0.0, 0.0),
            Arm::Iabp,
        ),
        case(
            "IABP early inflation (-60 ms)",
            "shock-ecmo",
            iabp(IabpRatio::OneToOne, -60.0, 0.0),
            Arm::Iabp,
        ),
        case(
            "IABP late deflation (+120 ms)",
            "shock-ecmo-iabp-late-deflation",
            None,
            Arm::Iabp,
        ),
        case("Impella CP P-2", "shock-ecmo", impella_cp(2), Arm::Impella),
        case("Impella CP P-5", "shock-ecmo", impella_cp(5), Arm::Impella),
        case("Impella CP P-8", "shock-ecmo-impella", None, Arm::Impella),
        case(
            "Impella CP P-9 suction",
            "shock-ecmo-impella-suction",
            None,
            Arm::Impella,
        ),
        case("shock-ecmo, no LV catheter", "shock-ecmo", None, Arm::AorticOnly),
        case(
            "IABP 1:2, no LV catheter",
            "shock-ecmo",
            iabp(IabpRatio::OneToTwo, 0.0, 0.0),
            Arm::AorticOnly,
        ),
        case(
            "Impella CP P-2, no LV catheter",
            "shock-ecmo",
            impella_cp(2),
            Arm::AorticOnly,
        ),
        case("AF 110/min", "shock-ecmo-af", None, Arm::Rhythm),
        case(
            "ventricular ectopics 10/100 beats",
            "shock-ecmo-ectopics",
            None,
            Arm::Rhythm,
        ),
        case("paced 80/min", "shock-ecmo-paced", None, Arm::Rhythm),
    ]
}

/// Simulates `case` for `seconds`: the recording as the sensors report it (pressures zeroed at the start), and the
/// true beats.
pub fn simulate_case(
    case: &Case,
    seed: u64,
    sensors: SensorLevel,
    seconds: f64,
) -> anyhow::Result<(Recording, Vec<BeatTruth>)> {
    let mut setup =
        scenario::setup(case.scenario).with_context(|| format!("unknown scenario `{}`", case.scenario))?;
    if let Some(device) = case.device {
        setup.device = device;
    }
    if let Some(rhythm) = case.rhythm {
        setup.rhythm = rhythm;
    }
    let mut sim = Simulator::from_setup(setup, seed, sensors);
    let lv_catheter = case.arm != Arm::AorticOnly;
    // The protocol zeroes the transducers before measuring: the offsets at the start are removed, their drift
    // over the run is not.
    let [pa_zero, pd_zero, lvp_zero] = sim.calibration().pressure_offsets_mmhg;
    let spec = sim.source_spec();
    let num_samples = (seconds * OUTPUT_RATE_HZ).round() as usize;
    let mut channels: Vec<TimeSeries> = spec
        .channels
        .iter()
        .map(|channel| TimeSeries {
            name: channel.name.clone(),
            unit: channel.unit.clone(),
            sample_rate_hz: OUTPUT_RATE_HZ,
            samples: Vec::with_capacity(num_samples),
        })
        .collect();
    let phases = AnalysisSettings::default().signal.phases;
    let mut tracker = BeatTruthTracker::new(phases.wfp_start_fraction, phases.wfp_end_margin_s);
    let mut truths = Vec::new();
    sim.advance(num_samples, |sample| {
        for (series, value) in channels.iter_mut().zip(sample.measured) {
            let zero = match series.name.as_str() {
                "pa" => pa_zero,
                "pd" => pd_zero,
                "lvp" => lvp_zero,
                _ => 0.0,
            };
            series.samples.push(value - zero);
        }
        truths.extend(tracker.push(&sample.truth));
    });
    if !lv_catheter {
        channels.retain(|series| series.name != "lvp" && series.name != "lvv");
    }
    Ok((
        Recording {
            segments: vec![Segment {
                start_s: 0.0,
                channels,
            }],
            markers: Vec::new(),
        },
        truths,
    ))
}

/// One analysed beat beside its truth.
#[derive(Clone, Debug, PartialEq)]
pub struct BeatComparison {
    /// The truth.
    pub truth: BeatTruth,
    /// Accepted by quality control.
    pub accepted: bool,
    /// Why quality control (or a reviewer) rejected it ([`crate::model::RejectReason::key`]), when it did.
    pub reject_reason: Option<String>,
    /// End of systole found by the analysis minus the true one (valve closure, or dP/dt min without ejection),
    /// ms; `None` when the analysis placed no diastole in the beat.
    pub systole_end_error_ms: Option<f64>,
    /// Analysed minus true value, as a percentage of the true value, per endpoint (`None` when not computed).
    pub errors_percent: [Option<f64>; NUM_ENDPOINTS],
}

/// Number of endpoints compared beat by beat.
pub const NUM_ENDPOINTS: usize = 7;
/// Their names, in [`BeatComparison::errors_percent`] order.
pub const ENDPOINTS: [&str; NUM_ENDPOINTS] = [
    "APV",
    "diastolic APV",
    "mean Pa",
    "mean Pd",
    "diastolic Pa",
    "WFP mean Pd",
    "WFP mean ipv",
];

/// Matches the report's beats with the true beats and compares them.
pub fn compare(report: &Report, truths: &[BeatTruth]) -> Vec<BeatComparison> {
    let percent = |measured: Option<f64>, truth: f64| {
        measured
            .filter(|m| m.is_finite() && truth.abs() > 1e-9)
            .map(|m| 100.0 * (m - truth) / truth)
    };
    report
        .beats
        .iter()
        .zip(&report.per_beat)
        .filter_map(|(beat, metrics)| {
            let truth = truths.iter().find(|truth| {
                let spike_s = if truth.kind == BeatKind::Paced {
                    ecg::PACING_SPIKE_LEAD_S
                } else {
                    0.0
                };
                (truth.start_s - spike_s - beat.time_s).abs() <= MATCH_S
            })?;
            let coronary = metrics.coronary.as_ref();
            let diastole_s = coronary.and_then(|c| c.diastole_s);
            let systole_end_error_ms =
                diastole_s.map(|d| 1000.0 * (beat.time_s + beat.duration_s - d - truth.systole_end_s));
            let mean_over = |integral: Option<f64>, length: Option<f64>| match (integral, length) {
                (Some(i), Some(l)) if l > 0.0 => Some(i / l),
                _ => None,
            };
            let errors_percent = [
                percent(coronary.and_then(|c| c.apv_cm_s), truth.apv_cm_s),
                percent(
                    coronary.and_then(|c| c.diastolic_apv_cm_s),
                    truth.diastolic_apv_cm_s,
                ),
                percent(coronary.and_then(|c| c.mean_pa_mmhg), truth.mean_pa_mmhg),
                percent(coronary.and_then(|c| c.mean_pd_mmhg), truth.mean_pd_mmhg),
                percent(
                    coronary.and_then(|c| c.mean_diastolic_pa_mmhg),
                    truth.diastolic_pa_mmhg,
                ),
                percent(
                    coronary.and_then(|c| mean_over(c.wfp_pd_integral_mmhg_s, c.wfp_s)),
                    truth.wfp_pd_mmhg,
                ),
                percent(
                    coronary.and_then(|c| mean_over(c.wfp_ipv_integral_cm, c.wfp_s)),
                    truth.wfp_ipv_cm_s,
                ),
            ];
            Some(BeatComparison {
                truth: *truth,
                accepted: beat.accepted,
                reject_reason: beat.reject_reason.clone(),
                systole_end_error_ms,
                errors_percent,
            })
        })
        .collect()
}

/// Simulates and analyses `case` and compares it with the truth.
pub fn validate_case(
    case: &Case,
    seed: u64,
    sensors: SensorLevel,
    seconds: f64,
) -> anyhow::Result<Vec<BeatComparison>> {
    let (recording, truths) = simulate_case(case, seed, sensors, seconds)?;
    let report = analyze_recording(
        &recording,
        &AnalysisSettings::default(),
        &AnalysisRequest::default(),
    )
    .with_context(|| format!("{} (seed {seed})", case.label))?;
    Ok(compare(&report, &truths))
}

/// Timing figures of a set of beats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimingSummary {
    /// Beats (matched with a true beat).
    pub num_beats: usize,
    /// Beats in which the valve opens and the analysis placed a diastole.
    pub num_ejecting: usize,
    /// Median and 95th percentile of |end-systole error| over those, ms.
    pub median_abs_ms: f64,
    /// 95th percentile of |error|, ms.
    pub p95_abs_ms: f64,
    /// Median signed error, ms (positive: late).
    pub median_ms: f64,
    /// Fraction of ejecting beats within the bound.
    pub fraction_within: f64,
    /// Beats in which the valve does not open and the analysis placed a diastole.
    pub num_not_ejecting: usize,
    /// Fraction of those within [`NO_EJECTION_BOUND_MS`] of LV dP/dt min.
    pub fraction_not_ejecting_within: f64,
    /// Beats left without a diastole (phases not trusted or not placed).
    pub num_untimed: usize,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The timing figures of `beats` against `bound_ms`.
pub fn timing(beats: &[BeatComparison], bound_ms: f64) -> TimingSummary {
    let mut ejecting = Vec::new();
    let mut not_ejecting = Vec::new();
    let mut num_untimed = 0;
    for beat in beats {
        match (beat.systole_end_error_ms, beat.truth.valve_close_s.is_some()) {
            (None, _) => num_untimed += 1,
            (Some(error), true) => ejecting.push(error),
            (Some(error), false) => not_ejecting.push(error),
        }
    }
    let mut abs: Vec<f64> = ejecting.iter().map(|e| e.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let mut signed = ejecting.clone();
    signed.sort_by(f64::total_cmp);
    let within = |errors: &[f64], bound: f64| {
        if errors.is_empty() {
            f64::NAN
        } else {
            errors.iter().filter(|e| e.abs() <= bound).count() as f64 / errors.len() as f64
        }
    };
    TimingSummary {
        num_beats: beats.len(),
        num_ejecting: ejecting.len(),
        median_abs_ms: quantile(&abs, 0.5),
        p95_abs_ms: quantile(&abs, 0.95),
        median_ms: quantile(&signed, 0.5),
        fraction_within: within(&ejecting, bound_ms),
        num_not_ejecting: not_ejecting.len(),
        fraction_not_ejecting_within: within(&not_ejecting, NO_EJECTION_BOUND_MS),
        num_untimed,
    }
}

/// Bias and 95 % limits of agreement of one endpoint over the accepted beats, in percent of the truth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Agreement {
    /// Beats compared.
    pub n: usize,
    /// Mean error, %.
    pub bias_percent: f64,
    /// Bias - 1.96 SD, %.
    pub lower_percent: f64,
    /// Bias + 1.96 SD, %.
    pub upper_percent: f64,
}

/// The agreement of endpoint `k` over the accepted beats of `beats` (`None` with fewer than 2 values).
pub fn agreement(beats: &[BeatComparison], k: usize) -> Option<Agreement> {
    let errors: Vec<f64> = beats
        .iter()
        .filter(|b| b.accepted)
        .filter_map(|b| b.errors_percent[k])
        .collect();
    let n = errors.len();
    if n < 2 {
        return None;
    }
    let mean = errors.iter().sum::<f64>() / n as f64;
    let sd = (errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    Some(Agreement {
        n,
        bias_percent: mean,
        lower_percent: mean - 1.96 * sd,
        upper_percent: mean + 1.96 * sd,
    })
}

/// The sensor levels, with their names and end-systole bounds.
pub const LEVELS: [(SensorLevel, &str, f64); 2] = [
    (SensorLevel::Clean, "clean", CLEAN_BOUND_MS),
    (SensorLevel::Realistic, "realistic", REALISTIC_BOUND_MS),
];

/// Runs `cases` x seeds 1..=`num_seeds` x both sensor levels; the comparisons per (arm, level index), for the
/// arms that have cases.
pub fn run_all(
    cases: &[Case],
    seconds: f64,
    num_seeds: u64,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<Vec<(Arm, usize, Vec<BeatComparison>)>> {
    let mut groups: Vec<(Arm, usize, Vec<BeatComparison>)> = Vec::new();
    for arm in Arm::ALL
        .into_iter()
        .filter(|arm| cases.iter().any(|case| case.arm == *arm))
    {
        for level in 0..LEVELS.len() {
            groups.push((arm, level, Vec::new()));
        }
    }
    for case in cases {
        for (level_index, (level, level_name, _)) in LEVELS.iter().enumerate() {
            for seed in 1..=num_seeds {
                progress(&format!("{} / {level_name} / seed {seed}", case.label));
                let beats = validate_case(case, seed, *level, seconds)?;
                if let Some(group) = groups
                    .iter_mut()
                    .find(|(arm, level, _)| *arm == case.arm && *level == level_index)
                {
                    group.2.extend(beats);
                }
            }
        }
    }
    Ok(groups)
}

/// The tables (Markdown) of `groups`.
pub fn tables(groups: &[(Arm, usize, Vec<BeatComparison>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### End of systole against the true aortic-valve closure\n\n\
         | arm | sensors | beats | valve opens | median error (ms) | median / 95th pct. abs. error (ms) | within bound | \
         valve shut: within 5 ms of dP/dt min | untimed beats |\n|---|---|---|---|---|---|---|---|---|"
    );
    for (arm, level, beats) in groups {
        let (_, level_name, bound) = LEVELS[*level];
        let t = timing(beats, bound);
        let _ = writeln!(
            out,
            "| {} | {level_name} | {} | {} | {:+.1} | {:.1} / {:.1} | {:.1} % (<= {bound} ms) | {} | {} |",
            arm.label(),
            t.num_beats,
            t.num_ejecting,
            t.median_ms,
            t.median_abs_ms,
            t.p95_abs_ms,
            100.0 * t.fraction_within,
            if t.num_not_ejecting == 0 {
                "-".to_owned()
            } else {
                format!(
                    "{:.1} % of {}",
                    100.0 * t.fraction_not_ejecting_within,
                    t.num_not_ejecting
                )
            },
            t.num_untimed,
        );
    }
    let _ = writeln!(
        out,
        "\n### Coronary endpoints per beat (accepted beats): bias and 95 % limits of agreement, % of the truth\n\n\
         | endpoint | arm | sensors | n | bias (%) | 95 % limits (%) |\n|---|---|---|---|---|---|"
    );
    for (k, endpoint) in ENDPOINTS.iter().enumerate() {
        for (arm, level, beats) in groups {
            let (_, level_name, _) = LEVELS[*level];
            match agreement(beats, k) {
                Some(a) => {
                    let _ = writeln!(
                        out,
                        "| {endpoint} | {} | {level_name} | {} | {:+.2} | {:+.2} .. {:+.2} |",
                        arm.label(),
                        a.n,
                        a.bias_percent,
                        a.lower_percent,
                        a.upper_percent
                    );
                }
                None => {
                    let _ = writeln!(out, "| {endpoint} | {} | {level_name} | 0 | - | - |", arm.label());
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n### Beat quality control: beats matched with a true beat, accepted, and excluded by reason\n\n\
         | arm | sensors | beats | accepted | excluded (by reason) |\n|---|---|---|---|---|"
    );
    for (arm, level, beats) in groups {
        let (_, level_name, _) = LEVELS[*level];
        let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for reason in beats.iter().filter_map(|b| b.reject_reason.as_deref()) {
            *reasons.entry(reason).or_default() += 1;
        }
        let excluded: Vec<String> = reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {level_name} | {} | {} | {} |",
            arm.label(),
            beats.len(),
            beats.iter().filter(|b| b.accepted).count(),
            if excluded.is_empty() {
                "-".to_owned()
            } else {
                excluded.join(", ")
            },
        );
    }
    out
}

/// Runs `heracles validate`.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    if !(args.seconds.is_finite() && (5.0..=600.0).contains(&args.seconds)) {
        bail!("--seconds must be between 5 and 600, not {}", args.seconds);
    }
    if !(1..=20).contains(&args.seeds) {
        bail!("--seeds must be between 1 and 20, not {}", args.seeds);
    }
    let chosen: Vec<Case> = cases()
        .into_iter()
        .filter(|case| {
            args.only.is_empty() || args.only.iter().any(|only| case.label.contains(only.as_str()))
        })
        .collect();
    if chosen.is_empty() {
        bail!("no case matches --only {:?}", args.only);
    }
    let groups = run_all(&chosen, args.seconds, args.seeds, |what| {
        eprintln!("validate: {what}")
    })?;
    let tables = tables(&groups);
    if let Some(path) = &args.markdown {
        let only: String = args.only.iter().map(|only| format!(" --only {only:?}")).collect();
        let command = format!(
            "heracles validate --seconds {} --seeds {}{only} --markdown {}",
            args.seconds,
            args.seeds,
            path.display()
        );
        let text = format!("{}{tables}", doc_header(&command, &chosen));
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    outln!("{tables}")?;
    Ok(ExitCode::SUCCESS)
}

/// The document's text before the tables.
fn doc_header(command: &str, cases: &[Case]) -> String {
    let cases: Vec<String> = cases
        .iter()
        .map(|case| format!("{} ({})", case.label, case.arm.label()))
        .collect();
    format!(
        "# Validation against the simulated patient's truth\n\n\
         Generated by `{command}` (release build: `cargo run --release -- validate ...`); do not edit by hand.\n\n\
         Each case below is simulated with seeds 1..N on `clean` and `realistic` sensors, analysed through the\n\
         app's pipeline (`analysis::pipeline::analyze_recording`, default settings) and compared beat by beat with\n\
         the simulator's per-beat truth (`sim::truth::BeatTruth`). End of systole is compared with the true\n\
         aortic-valve closure (LV pressure falling below ascending-aortic pressure) where the valve opens, and with\n\
         the true LV dP/dt min where it does not (docs/methods.md section 3). Acceptance (issue 12): within 5 ms\n\
         (clean) / 15 ms (realistic) for at least 95 % of the beats in which the valve opens; dP/dt min within 5 ms.\n\
         \"Untimed\" beats are those whose phases the analysis refused to place (a balloon-augmented pulse, or an\n\
         ECMO pulse under 10 mmHg, without LV pressure) and left out of the diastolic endpoints. Endpoint errors are per accepted beat, in\n\
         percent of the true value. Realistic pressures are zeroed at the start of each run (the protocol's zeroing\n\
         step: each mmHg of offset left between LV and aortic transducers moves the crossover by ~15 ms in the\n\
         shocked ventricle); their drift, noise and the aortic line's damping remain, as do the Doppler's gain\n\
         error (0.95-1.05, per seed), tracking filter and dropouts.\n\n\
         The rhythm cases (AF at a mean 110/min, ventricular ectopics about 10 per 100 beats, paced at 80/min; the\n\
         seed fixes every RR) are matched on the R wave, a paced beat on its pacing spike (45 ms before it, where the\n\
         R-wave detector marks a paced beat: its analysed diastole ends there, hence the small diastolic biases on\n\
         clean sensors). The last table counts the beats quality control excluded, by reason: none in AF for its\n\
         RR; each ectopic excludes three beats as `ectopic` (the beat it cuts short, the ectopic, the post-ectopic).\n\n\
         Cases: {}.\n\n",
        cases.join(", ")
    )
}
