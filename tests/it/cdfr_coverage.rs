//! CDFR's 95 % interval against the simulated patient's truth (issue 12, item 5): a baseline (`shock-ecmo`, VA-ECMO
//! alone) and a post-unloading state (the same patient with an Impella CP at P-5, or an IABP 1:1, from the start:
//! `heracles validate`'s cases), on `realistic` sensors, through the app's pipeline (`analyze_recording`, default settings)
//! and `cdfr_between` (steady windows, moving-block bootstrap).
//!
//! The seed draws the sensors (noise, drift, calibration, Doppler dropouts) and where in the ventilator cycle the
//! post state's capture starts (its analysed range starts `offset` s later, uniform over one 60/14 s breath): the
//! simulated patient's rhythm and ventilation are otherwise the same in every run, and with both captures starting
//! at the same phase the ventilator's effect would cancel in the ratio.
//!
//! The true ratio, two definitions (both printed; the tests assert the first, report the second):
//! - long run: the simulator's per-beat true APV (`sim::truth::BeatTruth::apv_cm_s`, from the true coronary
//!   velocity), time-weighted by the true beat lengths over every beat after the first 3 s of each state's run
//!   (the physiology's mean: what a 15 s window estimates, with the ventilator's beat-to-beat correlation);
//! - same beats: the same true APV over only the beats the CDFR pooled (matched by start time), which leaves out
//!   the window's sampling variation and tests the measurement alone.
//!
//! Beside the block bootstrap's interval, each run also computes the single-beat bootstrap's (block of 0 s), so the
//! measurement shows what the blocks buy.

use heracles::analysis::AnalysisSettings;
use heracles::analysis::pipeline::{AnalysisRequest, Report, analyze_recording, cdfr_between};
use heracles::cli::validate::{Case, cases, simulate_case};
use heracles::sim::SensorLevel;
use heracles::sim::truth::BeatTruth;

/// Seconds simulated per state: a 15 s steady window and room for the first beats to settle.
const SECONDS: f64 = 40.0;

fn case(label: &str) -> Case {
    cases().into_iter().find(|c| c.label == label).unwrap()
}

/// Time-weighted true APV over the true beats starting within 30 ms of the beats CDFR pooled (the steady window's,
/// or every accepted beat when the state never became steady).
fn true_window_apv(report: &Report, truths: &[BeatTruth]) -> f64 {
    let window = report.summary.steady_window.as_ref();
    let (vti, rr) = report
        .beats
        .iter()
        .filter(|beat| beat.accepted && window.is_none_or(|w| w.beat_numbers.contains(&beat.number)))
        .map(|beat| {
            let truth = truths
                .iter()
                .find(|t| (t.start_s - beat.time_s).abs() <= 0.03)
                .expect("a true beat for every analysed beat");
            let rr = truth.end_s - truth.start_s;
            (truth.apv_cm_s * rr, rr)
        })
        .fold((0.0, 0.0), |(v, r), (vi, ri)| (v + vi, r + ri));
    vti / rr
}

/// Time-weighted true APV over every true beat of the run after the first 3 s (the long-run truth).
fn true_long_run_apv(truths: &[BeatTruth]) -> f64 {
    let (vti, rr) = truths
        .iter()
        .filter(|t| t.start_s >= 3.0)
        .map(|t| (t.apv_cm_s * (t.end_s - t.start_s), t.end_s - t.start_s))
        .fold((0.0, 0.0), |(v, r), (vi, ri)| (v + vi, r + ri));
    vti / rr
}

/// One run's outcome.
struct Run {
    cdfr: f64,
    block_ci: [f64; 2],
    single_ci: [f64; 2],
    same_beats: f64,
    long_run: f64,
}

/// One breath of the simulated ventilator (14/min), s.
const BREATH_S: f64 = 60.0 / 14.0;

fn run(post_label: &str, seed: u64) -> Run {
    let settings = AnalysisSettings::default();
    // The post capture's start within a breath: a golden-ratio sequence over the seeds (even, reproducible).
    let offset_s = BREATH_S * (seed as f64 * 0.618_033_988_749_895).fract();
    let analyse = |label: &str, from_s: f64| {
        let (recording, truths) =
            simulate_case(&case(label), seed, SensorLevel::Realistic, SECONDS + from_s).unwrap();
        let request = AnalysisRequest {
            from_s: Some(from_s),
            ..AnalysisRequest::default()
        };
        let report = analyze_recording(&recording, &settings, &request).unwrap();
        (report, truths)
    };
    let (reference, reference_truths) = analyse("shock-ecmo", 0.0);
    let (post, post_truths) = analyse(post_label, offset_s);
    let result = cdfr_between(&reference, &post, &settings).unwrap();
    let mut single = settings.clone();
    single.cdfr.bootstrap_block_s = 0.0;
    let single_ci = cdfr_between(&reference, &post, &single).unwrap().ci95;
    println!(
        "seed {seed} (post from {offset_s:.2} s): rejected {:?} / {:?}; flags {:?}; beats pooled {} / {}; blocks {:?}",
        reference.summary.rejected,
        post.summary.rejected,
        result.flags,
        result.num_reference_beats,
        result.num_post_beats,
        result.bootstrap_block_beats
    );
    Run {
        cdfr: result.cdfr,
        block_ci: result.ci95,
        single_ci,
        same_beats: true_window_apv(&post, &post_truths) / true_window_apv(&reference, &reference_truths),
        long_run: true_long_run_apv(&post_truths) / true_long_run_apv(&reference_truths),
    }
}

/// Coverage over `seeds` with `post_label`'s case as the post state: prints every run and the coverages, returns
/// the block interval's coverage of the long-run true ratio.
fn coverage(post_label: &str, seeds: std::ops::Range<u64>) -> f64 {
    let num_runs = seeds.end - seeds.start;
    let covers = |ci: [f64; 2], truth: f64| usize::from(ci[0] <= truth && truth <= ci[1]);
    let (mut block_long, mut block_same, mut single_long) = (0, 0, 0);
    for seed in seeds {
        let run = run(post_label, seed);
        println!(
            "seed {seed}: CDFR {:.4} block CI [{:.4}, {:.4}] single-beat CI [{:.4}, {:.4}] true: long run {:.4}, \
             same beats {:.4}",
            run.cdfr,
            run.block_ci[0],
            run.block_ci[1],
            run.single_ci[0],
            run.single_ci[1],
            run.long_run,
            run.same_beats
        );
        block_long += covers(run.block_ci, run.long_run);
        block_same += covers(run.block_ci, run.same_beats);
        single_long += covers(run.single_ci, run.long_run);
    }
    println!(
        "{post_label}: block bootstrap covers the long-run true ratio in {block_long}/{num_runs} runs, the same-beat \
         one in {block_same}/{num_runs}; the single-beat bootstrap covers the long-run one in {single_long}/{num_runs}"
    );
    block_long as f64 / num_runs as f64
}

#[test]
fn the_cdfr_interval_covers_the_true_ratio_on_realistic_sensors() {
    assert!(coverage("Impella CP P-5", 1..4) >= 2.0 / 3.0);
}

/// The measurement: `cargo test --test it cdfr_coverage -- --ignored --nocapture`.
#[test]
#[ignore = "slow in a debug build (2 x 40 s of simulation per seed and arm); the measurement in docs/methods.md"]
fn the_cdfr_interval_covers_the_true_ratio_in_90_percent_of_runs() {
    let impella = coverage("Impella CP P-5", 1..41);
    let iabp = coverage("IABP 1:1", 1..41);
    assert!(impella >= 0.9 && iabp >= 0.9, "Impella {impella}, IABP {iabp}");
}
