//! `heracles validate`'s acceptance (issue 12) on short runs: one seed, 16 s per run, the cases that stand for each
//! trial arm (no device, IABP 1:1, Impella CP P-5, full flow, atrial fibrillation), clean and realistic sensors,
//! through the same harness (`cli::validate`: the app's `analyse_window`, the simulator's truth). Fails when an arm
//! breaks the acceptance anywhere not listed in [`KNOWN_FAILURES`] (the open items of docs/validation.md) or
//! excused by [`gain_dependent`], so a change that moves an endpoint, the timing or the IABP-Impella difference
//! out of bounds is caught.

use heracles::analysis::AnalysisSettings;
use heracles::analysis::pipeline::{AnalysisRequest, Report, analyze_recording};
use heracles::cli::validate::{
    Arm, Case, Group, LEVELS, WINDOW_ENDPOINTS, cases, detect_case, detection_table, failures, run_all,
    simulate_case, tables, validate_case,
};
use heracles::sim::SensorLevel;

/// Acceptance items that fail today (arm, sensor level, item as `failures` names it), with their cause in
/// docs/validation.md: the Impella arm's end-systole, where the valve opens only in some beats (on clean sensors
/// in this short run of P-5 alone, 93 % of those within 5 ms) and, on realistic sensors, the P-5 beats in which it
/// stays shut by a few tenths of a mmHg, below the noise, and looks open (the crossover then ends systole ~145 ms
/// before dP/dt min; over 8 seeds and every Impella case the arm passes: 96.4 % of the timed valve-shut beats
/// within 5 ms, P-9's too-flat relaxations refused).
const KNOWN_FAILURES: [(Arm, &str, &str); 2] = [
    (Arm::Impella, "clean", "end-systole timing"),
    (Arm::Impella, "realistic", "end-systole timing"),
];

/// Whether a failed item is a velocity endpoint's bias on realistic sensors: one seed's bias there is mostly the
/// Doppler's gain error drawn for that seed (0.95-1.05, which no analysis removes), so it is judged over seeds in
/// docs/validation.md, not here. Differences between the IABP and Impella arms (same seed, same gain) are checked.
fn gain_dependent(level: &str, item: &str) -> bool {
    level == "realistic"
        && ["APV", "diastolic APV", "BMR", "WFP-MR", "HMR"]
            .iter()
            .any(|endpoint| item.starts_with(&format!("{endpoint} (")))
}

#[test]
fn every_arm_meets_the_acceptance_against_the_simulated_truth() {
    let chosen: Vec<_> = cases()
        .into_iter()
        .filter(|case| {
            [
                "shock-ecmo",
                "IABP 1:1",
                "Impella CP P-5",
                "shock-ecmo-full-flow",
                "AF 110/min",
            ]
            .contains(&case.label)
        })
        .collect();
    assert_eq!(chosen.len(), 5);
    let groups = run_all(&chosen, 16.0, 1, |_| {}).unwrap();
    let mut unexpected = Vec::new();
    for group in &groups {
        let level = LEVELS[group.level].1;
        let failed = failures(&groups, group);
        println!("{:?} {level}: {failed:?}", group.arm);
        for item in failed {
            if !KNOWN_FAILURES.contains(&(group.arm, level, item.as_str())) && !gain_dependent(level, &item) {
                unexpected.push(format!("{:?} {level}: {item}", group.arm));
            }
        }
    }
    assert!(unexpected.is_empty(), "acceptance broken: {unexpected:?}");
}

/// Seconds simulated per case in the detection test.
const DETECTION_SECONDS: f64 = 30.0;

/// Issue 18: on every case of `heracles validate` (every arm, IABP 1:1 to 1:3, full ECMO flow with its ~5 mmHg
/// arterial pulse, AF, ventricular ectopics, paced), clean and realistic sensors, the beats detected and the
/// beats quality control keeps match the simulator's true beats with sensitivity and PPV >= 0.995 (the table
/// of `heracles validate`, [`detection_table`]).
#[test]
fn every_arm_detects_and_keeps_the_true_beats() {
    let mut groups: Vec<Group> = Vec::new();
    let mut failed = Vec::new();
    for (level, (sensors, level_name, _)) in LEVELS.iter().enumerate() {
        for case in cases() {
            let d = detect_case(&case, 1, *sensors, DETECTION_SECONDS).unwrap();
            if !d.passes() {
                failed.push(format!(
                    "{} {level_name}: sensitivity {:.4}, PPV {:.4}, kept: sensitivity {:.4}, PPV {:.4}",
                    case.label,
                    d.sensitivity(),
                    d.ppv(),
                    d.kept_sensitivity(),
                    d.kept_ppv()
                ));
            }
            match groups.iter_mut().find(|g| g.arm == case.arm && g.level == level) {
                Some(group) => group.detection.add(&d),
                None => groups.push(Group {
                    arm: case.arm,
                    level,
                    beats: Vec::new(),
                    windows: Vec::new(),
                    detection: d,
                }),
            }
        }
    }
    println!("{}", detection_table(&groups));
    // The low-pulsatility arm is low: full flow's median aortic pulse pressure is under 10 mmHg.
    let full_flow = groups.iter().find(|g| g.arm == Arm::FullFlow).unwrap();
    let mut pulse = full_flow.detection.pulse_pressures_mmhg.clone();
    pulse.sort_by(f64::total_cmp);
    assert!(
        pulse[pulse.len() / 2] < 10.0,
        "full flow pulse {:?}",
        pulse[pulse.len() / 2]
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

/// `case` simulated on clean sensors for `seconds` (seed 1) and analysed with the default settings.
fn analysed_clean(case: &Case, seconds: f64) -> Report {
    let (recording, _) = simulate_case(case, 1, SensorLevel::Clean, seconds).unwrap();
    analyze_recording(
        &recording,
        &AnalysisSettings::default(),
        &AnalysisRequest::default(),
    )
    .unwrap()
}

/// Issue 12: a balloon pumping 1:2 or 1:3 shrinks the pulse of every second or third beat (its deflation's
/// presystolic dip, the unassisted beats' small pulse on VA-ECMO); that is the device, not a damped line, so no
/// beat of any IABP case is excluded for `pressure_damping` on clean sensors, where the line is faithful. Before
/// the damping rule asked for three damped beats in a row, IABP 1:3 lost 4 of 31 beats per run this way, which no
/// other arm did.
#[test]
fn a_balloon_pumping_at_any_ratio_is_never_taken_for_a_damped_line() {
    for case in cases().into_iter().filter(|case| case.arm == Arm::Iabp) {
        let report = analysed_clean(&case, 20.0);
        let damped = report
            .beats
            .iter()
            .filter(|b| b.reject_reason.as_deref() == Some("pressure_damping"))
            .count();
        assert_eq!(
            damped, 0,
            "{}: {damped} beats taken for a damped line",
            case.label
        );
    }
}

/// Issue 12: every beat says which rule ended its systole and, where one was recognised, when the balloon
/// inflated, in the report the app stores and `analyze --json` prints; the balloon only where there is one.
#[test]
fn every_beat_reports_its_end_systole_rule_and_a_balloon_only_where_there_is_one() {
    for label in ["IABP 1:1", "shock-ecmo", "Impella CP P-8"] {
        let case = cases().into_iter().find(|c| c.label == label).unwrap();
        let report = analysed_clean(&case, 12.0);
        let timed: Vec<_> = report
            .per_beat
            .iter()
            .filter(|m| m.coronary.is_some_and(|c| c.diastole_s.is_some()))
            .collect();
        assert!(timed.len() >= 10, "{label}: {} beats timed", timed.len());
        for m in &timed {
            let rule = m.systole_end_rule.as_deref().unwrap_or_default();
            assert!(
                [
                    "lv_aortic_crossover",
                    "lv_aortic_crossover_kink",
                    "lv_dpdt_min_no_ejection"
                ]
                .contains(&rule),
                "{label} beat {}: rule {rule:?}",
                m.number
            );
        }
        let inflated = timed.iter().filter(|m| m.balloon_inflation_s.is_some()).count();
        if case.arm == Arm::Iabp {
            assert_eq!(inflated, timed.len(), "{label}: every beat of 1:1 inflates");
            assert!(
                timed
                    .iter()
                    .all(|m| m.balloon_inflation_s.unwrap() < m.coronary.unwrap().rr_s)
            );
        } else {
            assert_eq!(inflated, 0, "{label}: a balloon found without one");
        }
        let json = serde_json::to_string(&report.per_beat[timed.len() / 2]).unwrap();
        assert!(json.contains("\"systole_end_rule\""), "{json}");
    }
}

/// The validation case labelled `label`.
fn case(label: &str) -> Case {
    cases().into_iter().find(|case| case.label == label).unwrap()
}

/// The ESPVR of a ventricle that does not eject (Impella CP P-9 with suction): its occlusion, recorded during the
/// protocol's end-expiratory ventilator hold, gives Ees within the 5 % acceptance on clean sensors. Under
/// ventilation the ventilator's 5 mmHg swing was as large as the end-systolic pressure range and Ees was -12.9 %
/// on every seed (docs/methods.md, "ESPVR Ees on the Impella arm").
#[test]
fn the_espvr_of_a_ventricle_that_does_not_eject_is_measured_during_the_ventilator_hold() {
    let case = case("Impella CP P-9 suction");
    let comparison = validate_case(&case, 1, SensorLevel::Clean, 16.0, None).unwrap();
    let ees = WINDOW_ENDPOINTS
        .iter()
        .position(|name| *name == "ESPVR Ees")
        .unwrap();
    let error_percent = comparison.window.errors[ees].expect("an ESPVR from the occlusion");
    assert!(error_percent.abs() <= 5.0, "Ees error {error_percent:.2} %");
}

/// Ees's regression interval is checked against the true slope in every run with an ESPVR, and `heracles
/// validate` tables its coverage per arm and sensor level, marked informative (no acceptance).
#[test]
fn the_coverage_of_ees_regression_interval_is_tabled_per_arm_and_sensor_level() {
    let case = case("shock-ecmo");
    let groups = run_all(std::slice::from_ref(&case), 16.0, 1, |_| {}).unwrap();
    assert_eq!(groups.len(), 2);
    for group in &groups {
        assert!(
            group.windows.iter().all(|w| w.ees_covered.is_some()),
            "a run with an ESPVR and no coverage"
        );
    }
    let markdown = tables(&groups);
    let section = markdown
        .split("\n### ")
        .find(|s| s.starts_with("ESPVR Ees's 95 % interval"))
        .expect("no Ees coverage table");
    assert!(section.contains("informative, no acceptance"), "{section}");
    for level in ["clean", "realistic"] {
        assert!(
            section.contains(&format!("| {} | {level} | 1 | ", case.arm.label()))
                && section.contains(&format!("| every arm | {level} | 1 | ")),
            "{section}"
        );
    }
}
