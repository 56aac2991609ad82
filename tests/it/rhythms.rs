//! Beats on any rhythm (issue 18 item 1, with issue 12's rhythm disorders): the beats quality control accepts,
//! against the simulated patient's true beats in atrial fibrillation, with ventricular ectopics, paced, under an
//! IABP 1:1..1:3, an Impella and full ECMO flow; against PhysioNet `wabp` on the real arterial record; and the
//! time-weighted APV of an AF window against the truth, where the sinus-rhythm RR-outlier rule fails.

use std::path::{Path, PathBuf};

use heracles::analysis::AnalysisSettings;
use heracles::analysis::endpoints::Flag;
use heracles::analysis::pipeline::{AnalysisRequest, Report, analyze_recording};
use heracles::cli::validate::{Arm, Case, cases, simulate_case};
use heracles::formats::{self, Format};
use heracles::model::{Fiducial, IabpSettings, RejectReason, UnloadingDevice};
use heracles::signal::resample::resample;
use heracles::signal::{Segmentation, SignalSettings, Signals, segment};
use heracles::sim::rhythm::BeatKind;
use heracles::sim::truth::BeatTruth;
use heracles::sim::{Rhythm, SensorLevel};

/// An analysed beat is a true beat when its start is within this of the true R wave, s. The fiducials sit on the
/// R wave (ECG), at LV end-diastole (within ~20 ms of it) or at the pulse onset (after the R wave by the
/// pre-ejection period and the transit time, ~60-90 ms in this shocked, ECMO-supported patient); 100 ms is under
/// half the shortest RR of these runs (AF's 300 ms refractory floor), so one beat can never match two.
const SIM_TOLERANCE_S: f64 = 0.1;

/// Seconds simulated per case.
const SECONDS: f64 = 60.0;

/// Beats at the edges of a run (the detectors' lead-in, the unfinished last beat) are not counted, s.
const EDGE_S: f64 = 2.0;

struct Agreement {
    reference: usize,
    accepted: usize,
    matched: usize,
}

impl Agreement {
    fn sensitivity(&self) -> f64 {
        self.matched as f64 / self.reference.max(1) as f64
    }

    fn ppv(&self) -> f64 {
        self.matched as f64 / self.accepted.max(1) as f64
    }
}

/// The true beats quality control should keep: all but an ectopic pattern's three (the beat the ectopic cuts
/// short, the ectopic, the post-ectopic beat), which must be excluded as `ectopic`.
fn expected_accepted(truths: &[BeatTruth]) -> Vec<bool> {
    let ectopic = |i: usize| truths.get(i).is_some_and(|t| t.kind == BeatKind::Ectopic);
    (0..truths.len())
        .map(|i| !(ectopic(i) || ectopic(i + 1) || (i > 0 && ectopic(i - 1))))
        .collect()
}

/// Reasons that are the realistic sensors' own artefacts (the simulator drops the Doppler signal and damps the
/// aortic line now and then): a beat rejected for one of them is kept by the rhythm rules.
const SENSOR_ARTEFACTS: [&str; 3] = ["doppler_dropout", "pressure_damping", "missing_data"];

/// Accepted beats of `report` (with `sensor_artefacts`, also those rejected only for a sensor artefact) against
/// the true beats expected to be accepted, inside the run's edges.
fn accepted_agreement(
    report: &Report,
    truths: &[BeatTruth],
    seconds: f64,
    sensor_artefacts: bool,
) -> Agreement {
    let inside = |t: f64| (EDGE_S..seconds - EDGE_S).contains(&t);
    let keep = expected_accepted(truths);
    let reference: Vec<f64> = truths
        .iter()
        .zip(&keep)
        .filter(|(t, keep)| **keep && inside(t.start_s))
        .map(|(t, _)| t.start_s)
        .collect();
    let accepted: Vec<f64> = report
        .beats
        .iter()
        .filter(|b| {
            let artefact = b
                .reject_reason
                .as_deref()
                .is_some_and(|r| SENSOR_ARTEFACTS.contains(&r));
            (b.accepted || (sensor_artefacts && artefact)) && inside(b.time_s)
        })
        .map(|b| b.time_s)
        .collect();
    Agreement {
        reference: reference.len(),
        accepted: accepted.len(),
        matched: match_times(&accepted, &reference, SIM_TOLERANCE_S),
    }
}

/// One-to-one matches of sorted times within `tolerance_s`.
fn match_times(found: &[f64], reference: &[f64], tolerance_s: f64) -> usize {
    let (mut j, mut matched) = (0, 0);
    for &r in reference {
        while j < found.len() && found[j] < r - tolerance_s {
            j += 1;
        }
        if j < found.len() && (found[j] - r).abs() <= tolerance_s {
            matched += 1;
            j += 1;
        }
    }
    matched
}

fn case(
    label: &'static str,
    scenario: &'static str,
    device: Option<UnloadingDevice>,
    rhythm: Option<Rhythm>,
) -> Case {
    Case {
        label,
        scenario,
        device,
        rhythm,
        arm: Arm::Rhythm,
    }
}

fn analyse(
    case: &Case,
    seed: u64,
    level: SensorLevel,
    settings: &AnalysisSettings,
) -> (Report, Vec<BeatTruth>, f64) {
    let (recording, truths) = simulate_case(case, seed, level, SECONDS).unwrap();
    let report = analyze_recording(&recording, settings, &AnalysisRequest::default()).unwrap();
    // Median arterial pulse pressure over the true beats, mmHg.
    let pa = &recording.segments[0]
        .channels
        .iter()
        .find(|c| c.name == "pa")
        .unwrap()
        .samples;
    let mut pulse: Vec<f64> = truths
        .iter()
        .map(|t| {
            let beat = &pa[(t.start_s * 1000.0) as usize..((t.end_s * 1000.0) as usize).min(pa.len())];
            beat.iter().copied().fold(f64::MIN, f64::max) - beat.iter().copied().fold(f64::MAX, f64::min)
        })
        .collect();
    pulse.sort_by(f64::total_cmp);
    (report, truths, pulse[pulse.len() / 2])
}

#[test]
fn accepted_beats_match_the_true_beats_on_every_rhythm_and_device() {
    let named = |label: &str| cases().into_iter().find(|c| c.label == label).unwrap();
    let runs = [
        named("AF 110/min"),
        named("ventricular ectopics 10/100 beats"),
        named("paced 80/min"),
        named("IABP 1:1"),
        named("IABP 1:2"),
        named("IABP 1:3"),
        named("Impella CP P-8"),
        named("shock-ecmo-full-flow"),
        case(
            "AF 110/min with IABP 1:1",
            "shock-ecmo",
            Some(UnloadingDevice::Iabp(IabpSettings::default())),
            Some(Rhythm::AtrialFibrillation { mean_rate_bpm: 110.0 }),
        ),
        case(
            "ectopics 15/100 on full flow",
            "shock-ecmo-full-flow",
            None,
            Some(Rhythm::VentricularEctopics { per_100_beats: 15.0 }),
        ),
    ];
    let settings = AnalysisSettings::default();
    let mut failures = Vec::new();
    // Clean sensors: accepted beats. Realistic sensors: beats kept by the rhythm rules (accepted, or rejected only
    // for the sensors' own artefacts).
    for (run, seed, level) in runs.iter().flat_map(|run| {
        [
            (run, 1, SensorLevel::Clean),
            (run, 2, SensorLevel::Clean),
            (run, 1, SensorLevel::Realistic),
        ]
    }) {
        {
            let (report, truths, pulse_pressure) = analyse(run, seed, level, &settings);
            let a = accepted_agreement(&report, &truths, SECONDS, level == SensorLevel::Realistic);
            let summary = &report.summary;
            println!(
                "{} {level:?} seed {seed}: fiducial {:?}, {} beats, {} accepted, excluded {:?}, {} irregular; \
                 sensitivity {:.4}, PPV {:.4} ({} of {} true beats); median pulse pressure {pulse_pressure:.1} mmHg",
                run.label,
                summary.fiducial,
                summary.num_beats,
                summary.num_accepted,
                summary.rejected,
                summary.num_irregular_rhythm,
                a.sensitivity(),
                a.ppv(),
                a.matched,
                a.reference
            );
            if a.sensitivity() < 0.995 || a.ppv() < 0.995 {
                failures.push(format!(
                    "{} {level:?} seed {seed}: sensitivity {:.4}, PPV {:.4}",
                    run.label,
                    a.sensitivity(),
                    a.ppv()
                ));
            }
            // The rhythm is reported: AF irregular, everything else regular.
            let af = run.label.starts_with("AF");
            assert_eq!(summary.irregular_rhythm, af, "{}: rhythm", run.label);
            // Every true ectopic inside the run is excluded as ectopic, never as an RR outlier.
            for truth in truths
                .iter()
                .filter(|t| t.kind == BeatKind::Ectopic && t.start_s > EDGE_S)
            {
                if let Some(beat) = report
                    .beats
                    .iter()
                    .find(|b| (b.time_s - truth.start_s).abs() <= SIM_TOLERANCE_S)
                {
                    assert_eq!(
                        beat.reject_reason.as_deref(),
                        Some(RejectReason::Ectopic.key()),
                        "{}: ectopic at {:.2} s",
                        run.label,
                        truth.start_s
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Time-weighted APV over the true beats in `[from_s, to_s)`.
fn true_window_apv(truths: &[BeatTruth], from_s: f64, to_s: f64) -> f64 {
    let inside = truths
        .iter()
        .filter(|t| t.start_s >= from_s - SIM_TOLERANCE_S && t.end_s <= to_s + SIM_TOLERANCE_S);
    let (integral, duration) = inside.fold((0.0, 0.0), |(i, d), t| (i + t.apv_cm_s * t.rr_s(), d + t.rr_s()));
    integral / duration
}

/// The window APV of an AF run must be this close to the truth, % (clean sensors: a beat's APV is exact to
/// 0.02 %, so what remains is which beats are averaged).
const APV_TOLERANCE_PERCENT: f64 = 0.1;

#[test]
fn af_window_apv_matches_the_truth_where_the_sinus_rule_does_not() {
    let af = cases().into_iter().find(|c| c.label == "AF 110/min").unwrap();
    let settings = AnalysisSettings::default();
    // The sinus-rhythm rule: never irregular, so every beat 20 % from the 9-beat median goes.
    let mut sinus_rule = AnalysisSettings::default();
    sinus_rule.signal.qc.irregular_rr_fraction = f64::INFINITY;
    for seed in [1, 2, 3] {
        let (report, truths, _) = analyse(&af, seed, SensorLevel::Clean, &settings);
        let (old, _, _) = analyse(&af, seed, SensorLevel::Clean, &sinus_rule);
        let first = report.beats.first().unwrap();
        let last = report.beats.last().unwrap();
        let truth = true_window_apv(&truths, first.time_s, last.time_s + last.duration_s);
        let apv = report.summary.coronary.as_ref().unwrap().apv_cm_s.unwrap();
        let old_apv = old.summary.coronary.as_ref().unwrap().apv_cm_s.unwrap();
        let error = 100.0 * (apv - truth) / truth;
        let old_error = 100.0 * (old_apv - truth) / truth;
        let old_kept = old.summary.num_accepted as f64 / old.summary.num_beats as f64;
        println!(
            "AF seed {seed}: true APV {truth:.3} cm/s; AF-aware QC {apv:.3} ({error:+.2} %, {} of {} beats); \
             sinus rule {old_apv:.3} ({old_error:+.2} %, {} of {} beats, rejected {:?})",
            report.summary.num_accepted,
            report.summary.num_beats,
            old.summary.num_accepted,
            old.summary.num_beats,
            old.summary.rejected
        );
        assert!(
            error.abs() <= APV_TOLERANCE_PERCENT,
            "seed {seed}: APV {error:+.2} % from the truth"
        );
        // The window says what it measured: an irregular rhythm, on its endpoint rows.
        assert!(report.summary.irregular_rhythm);
        let apv_row = report.endpoints.iter().find(|e| e.key == "apv").unwrap();
        assert!(
            apv_row.flags.contains(&Flag::IrregularRhythm),
            "{:?}",
            apv_row.flags
        );
        assert_eq!(apv_row.num_beats_excluded, Some(0));
        assert!(!old.summary.irregular_rhythm);
        // The sinus rule throws most AF beats away. (Whether its APV over the beats of middling RR then misses the
        // truth depends on how much the velocity depends on RR in the simulated patient; since the coronary model
        // of session 5 it often does not, so only the loss of beats is asserted; the error is printed above.)
        assert!(
            old_kept < 0.5,
            "seed {seed}: the sinus rule kept {old_kept:.2} of AF beats"
        );
    }
}

fn data(path: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/")).join(path)
}

/// Every real arterial record in `tests/data`: the record, its arterial signal's index, `wabp`'s onsets on it.
const REAL_ARTERIAL_RECORDS: [(&str, usize, &str); 1] =
    [("wfdb/TestICU.hea", 2, "wfdb/TestICU_wabp_onsets.csv")];

/// Accepted beats on every real arterial record in `tests/data` against PhysioNet `wabp`'s onsets (the reference
/// files and how they were made: tests/data/README.md). Tolerance 50 ms: both detectors mark the same onset
/// (the foot of the upstroke), their median offset is a few ms, and 50 ms is well under half of any RR here.
#[test]
fn accepted_beats_on_real_arterial_records_match_wabp() {
    for &(record, signal, reference) in REAL_ARTERIAL_RECORDS.iter() {
        let recording = formats::read(&data(record), Format::Wfdb).unwrap();
        let channel = &recording.segments[0].channels[signal];
        let rate = 1000.0;
        let abp = resample(&channel.samples, channel.sample_rate_hz, rate).unwrap();
        let signals = Signals {
            pa: Some(&abp),
            ..Signals::default()
        };
        let result = segment(&signals, rate, &SignalSettings::default()).unwrap();
        assert_eq!(result.fiducial, Some(Fiducial::PressureOnset));
        let onsets: Vec<f64> = std::fs::read_to_string(data(reference))
            .unwrap()
            .lines()
            .skip(1)
            .map(|line| line.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        let accepted: Vec<f64> = result
            .beats
            .iter()
            .filter(|b| b.accepted())
            .map(|b| b.start as f64 / rate)
            .collect();
        // Every wabp onset that starts a complete beat (all but those before the first and after the last beat).
        let (first, last) = (
            result.beats[0].start as f64 / rate,
            result.beats.last().unwrap().start as f64 / rate,
        );
        let expected: Vec<f64> = onsets
            .iter()
            .copied()
            .filter(|&o| o > first - 0.05 && o < last + 0.05)
            .collect();
        let matched = match_times(&accepted, &expected, 0.05);
        let sensitivity = matched as f64 / expected.len() as f64;
        let ppv = matched as f64 / accepted.len() as f64;
        println!(
            "{record} signal {signal}: {} beats, {} accepted ({:?}, {} irregular), {} wabp onsets; \
             accepted vs wabp: sensitivity {sensitivity:.4}, PPV {ppv:.4}",
            result.beats.len(),
            accepted.len(),
            result.counts.rejected,
            result.counts.num_irregular_rhythm,
            expected.len()
        );
        assert!(
            sensitivity >= 0.99 && ppv >= 0.99,
            "{record}: sensitivity {sensitivity}, PPV {ppv}"
        );
    }
}

#[test]
fn simulate_rhythm_option_writes_every_true_beat_with_its_kind_and_ejection() {
    use heracles::cli::simulate::{SensorArg, SimulateArgs, run};
    let dir = tempfile::tempdir().unwrap();
    let (out, truth) = (dir.path().join("run.csv"), dir.path().join("truth.csv"));
    let args = |rhythm: &str, seed| SimulateArgs {
        list_scenarios: false,
        scenario: Some("shock-ecmo-iabp".to_owned()),
        seconds: Some(20.0),
        out: Some(out.clone()),
        truth: Some(truth.clone()),
        rhythm: Some(rhythm.parse().unwrap()),
        seed,
        sensors: SensorArg::Clean,
        stream: Default::default(),
    };
    let rows = |args: SimulateArgs| {
        run(args).unwrap();
        let text = std::fs::read_to_string(&truth).unwrap();
        let header: Vec<String> = text
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (kind, ejected, start) = (column("rhythm"), column("ejected"), column("start_s"));
        text.lines()
            .skip(1)
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                (
                    cells[kind].to_owned(),
                    cells[ejected] == "1",
                    cells[start].parse::<f64>().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    // AF on the balloon's scenario: every beat AF, RRs irregular, deterministic by seed, different across seeds.
    let af = rows(args("af:100", 4));
    assert!(
        af.len() >= 30 && af.iter().all(|(kind, _, _)| kind == "af"),
        "{af:?}"
    );
    let rrs: Vec<f64> = af.windows(2).map(|w| w[1].2 - w[0].2).collect();
    let (lo, hi) = rrs
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    assert!(hi - lo > 0.2, "RR {lo:.3}..{hi:.3} s");
    assert_eq!(rows(args("af:100", 4)), af);
    assert_ne!(rows(args("af:100", 5)), af);
    // Ectopics: listed, and the frequent ones do not eject (little filling on VA-ECMO).
    let ectopics = rows(args("ectopics:20", 4));
    let ectopic: Vec<bool> = ectopics
        .iter()
        .filter(|r| r.0 == "ectopic")
        .map(|r| r.1)
        .collect();
    assert!(ectopic.len() >= 3, "{ectopics:?}");
    assert!(ectopics.iter().filter(|r| r.0 == "sinus").all(|r| r.1));
    let paced = rows(args("paced:70", 4));
    assert!(paced.iter().all(|(kind, ejected, _)| kind == "paced" && *ejected));
    let rr = paced.windows(2).map(|w| w[1].2 - w[0].2);
    assert!(
        rr.clone().all(|r| (r - 60.0 / 70.0).abs() < 0.0015),
        "{:?}",
        rr.collect::<Vec<_>>()
    );
}

/// Arterial pressure alone (the pulse onset as the fiducial) in AF under a balloon: the beats that eject are found
/// and kept, each onset within 100 ms of its true aortic-valve opening; a beat that does not eject has no pulse and
/// is part of the next one (the truth says which).
#[test]
fn arterial_pressure_alone_keeps_the_ejecting_beats_of_af() {
    let run = case(
        "AF 110/min with IABP 1:1",
        "shock-ecmo",
        Some(UnloadingDevice::Iabp(IabpSettings::default())),
        Some(Rhythm::AtrialFibrillation { mean_rate_bpm: 110.0 }),
    );
    for seed in [1, 2] {
        let (mut recording, truths) = simulate_case(&run, seed, SensorLevel::Clean, SECONDS).unwrap();
        recording.segments[0].channels.retain(|c| c.name == "pa");
        let report = analyze_recording(
            &recording,
            &AnalysisSettings::default(),
            &AnalysisRequest::default(),
        )
        .unwrap();
        let inside = |t: f64| (EDGE_S..SECONDS - EDGE_S).contains(&t);
        // The pulse onset is the aortic valve's opening.
        let ejected: Vec<f64> = truths
            .iter()
            .filter_map(|t| t.valve_open_s)
            .filter(|&t| inside(t))
            .collect();
        let accepted: Vec<f64> = report
            .beats
            .iter()
            .filter(|b| b.accepted && inside(b.time_s))
            .map(|b| b.time_s)
            .collect();
        let matched = match_times(&accepted, &ejected, SIM_TOLERANCE_S);
        let (sensitivity, ppv) = (
            matched as f64 / ejected.len() as f64,
            matched as f64 / accepted.len() as f64,
        );
        println!(
            "AF + IABP, arterial pressure alone, seed {seed}: fiducial {:?}, {} beats, {} accepted, excluded {:?}, {} \
             irregular; {} ejecting true beats of {}; sensitivity {sensitivity:.4}, PPV {ppv:.4}",
            report.summary.fiducial,
            report.summary.num_beats,
            report.summary.num_accepted,
            report.summary.rejected,
            report.summary.num_irregular_rhythm,
            ejected.len(),
            truths.len()
        );
        assert!(report.summary.irregular_rhythm);
        assert!(
            sensitivity >= 0.995 && ppv >= 0.995,
            "seed {seed}: sensitivity {sensitivity}, PPV {ppv}"
        );
    }
}

/// The beats of a synthetic ECG (a 1 mV Gaussian R wave, 8 ms wide, at each time in `r_waves`) and aortic pressure
/// (60 mmHg with a 30 mmHg sin^2 pulse over 250 ms starting 80 ms after each R wave in `pulses`), at 1 kHz until
/// 1.5 s after the last R wave.
fn segment_synthetic(r_waves: &[u64], pulses: &[u64]) -> Segmentation {
    let len = *r_waves.last().unwrap() as usize + 1500;
    let (ecg, pa) = synthetic(r_waves, pulses, len);
    let signals = Signals {
        ecg: Some(&ecg),
        pa: Some(&pa),
        ..Signals::default()
    };
    segment(&signals, 1000.0, &SignalSettings::default()).unwrap()
}

/// The channels of [`segment_synthetic`], `len` samples.
fn synthetic(r_waves: &[u64], pulses: &[u64], len: usize) -> (Vec<f64>, Vec<f64>) {
    let ecg = (0..len)
        .map(|t| {
            r_waves
                .iter()
                .map(|&r| (-0.5 * ((t as f64 - r as f64) / 8.0).powi(2)).exp())
                .sum()
        })
        .collect();
    let pa = (0..len)
        .map(|t| {
            let pulse = |r: &u64| {
                let x = (t as f64 - *r as f64 - 80.0) / 250.0;
                if (0.0..=1.0).contains(&x) {
                    30.0 * (std::f64::consts::PI * x).sin().powi(2)
                } else {
                    0.0
                }
            };
            60.0 + pulses.iter().map(pulse).sum::<f64>()
        })
        .collect();
    (ecg, pa)
}

/// Ventricular bigeminy (issue 18): alternating short-long RR is a rhythm, not an artefact. Inside the run every
/// beat is kept (the sinus beat cut short and the ectopic beat with its compensatory pause), labelled as judged
/// within an irregular rhythm, so the time-weighted APV covers whole cycles. Before the bigeminy rule the local
/// median flipped between the two RRs and every beat was excluded.
#[test]
fn bigeminy_is_a_rhythm_whose_every_beat_is_kept() {
    // 10 sinus beats at 800 ms, 30 couplets (sinus cut short at 480 ms, compensatory 1120 ms), 10 sinus beats.
    let mut rrs = vec![800u64; 10];
    rrs.extend((0..60).map(|i| if i % 2 == 0 { 480 } else { 1120 }));
    rrs.extend([800; 10]);
    let r_waves: Vec<u64> = std::iter::once(1000)
        .chain(rrs.iter().scan(1000, |r, rr| {
            *r += rr;
            Some(*r)
        }))
        .collect();
    let result = segment_synthetic(&r_waves, &r_waves);
    assert_eq!(result.fiducial, Some(Fiducial::RWave));
    // Inside the run (its first and last couplets follow the single-ectopic rule): every beat kept, whole cycles.
    let run = (r_waves[14], r_waves[66]);
    let inside: Vec<_> = result
        .beats
        .iter()
        .filter(|b| (run.0..run.1).contains(&b.start))
        .collect();
    assert_eq!(inside.len(), 52);
    for beat in &inside {
        assert!(
            beat.accepted() && beat.irregular_rhythm,
            "beat at {}: {beat:?}",
            beat.start
        );
    }
    let kept_ms: u64 = inside.iter().map(|b| b.end - b.start).sum();
    assert_eq!(kept_ms, run.1 - run.0, "the kept beats cover the whole run");
    assert!(result.counts.num_irregular_rhythm >= 52);
    // The sinus rhythm on either side is kept.
    let sinus_edges = result
        .beats
        .iter()
        .filter(|b| b.start < r_waves[9] || b.start >= r_waves[73]);
    assert!(sinus_edges.clone().count() >= 12);
    assert!(
        sinus_edges.clone().all(|b| b.accepted()),
        "{:?}",
        sinus_edges.collect::<Vec<_>>()
    );
}

/// A second detection behind an RR under 250 ms (issue 18): checked for a pulse of its own before it counts. A
/// pacing-like spike 220 ms after some R waves, inside their pressure pulse, is a double detection: merged, so
/// the record keeps one accepted beat per true beat. Before, each made a 220 ms RR outlier and a rejected beat
/// after it.
#[test]
fn a_double_detection_without_a_pulse_is_merged_into_its_beat() {
    let r_waves: Vec<u64> = (0..60).map(|k| 1000 + 800 * k).collect();
    let extra: Vec<u64> = r_waves[10..50].iter().step_by(8).map(|r| r + 220).collect();
    let mut spikes = r_waves.clone();
    spikes.extend(&extra);
    spikes.sort_unstable();
    let result = segment_synthetic(&spikes, &r_waves);
    assert_eq!(result.fiducial, Some(Fiducial::RWave));
    // Every beat starts at a true R wave, none at an extra spike, and all are accepted.
    for beat in &result.beats {
        assert!(
            r_waves.iter().any(|r| r.abs_diff(beat.start) <= 10),
            "a beat at {} (extra spikes at {extra:?})",
            beat.start
        );
    }
    assert!(
        result.beats.len() >= r_waves.len() - 4,
        "{} beats",
        result.beats.len()
    );
    assert_eq!(
        result.counts.num_accepted,
        result.beats.len(),
        "{:?}",
        result.counts
    );
    // With a pulse of its own behind each extra spike, they are beats (too short to measure: RR outliers).
    let result = segment_synthetic(&spikes, &spikes);
    let short = result.beats.iter().filter(|b| b.num_samples() < 250).count();
    assert_eq!(short, extra.len());
}
