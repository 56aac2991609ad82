//! `heracles validate`'s acceptance (issue 12) on short runs: one seed, 16 s per run, the cases that stand for each
//! trial arm (no device, IABP 1:1, Impella CP P-5, full flow, atrial fibrillation), clean and realistic sensors,
//! through the same harness (`cli::validate`: the app's `analyse_window`, the simulator's truth). Fails when an arm
//! breaks the acceptance anywhere not listed in [`KNOWN_FAILURES`] (the open items of docs/validation.md) or
//! excused by [`gain_dependent`], so a change that moves an endpoint, the timing or the IABP-Impella difference
//! out of bounds is caught.

use heracles::cli::validate::{Arm, LEVELS, cases, failures, run_all};

/// Acceptance items that fail today (arm, sensor level, item as `failures` names it), with their cause in
/// docs/validation.md: the Impella arm's end-systole, where the valve opens only in some beats (on clean sensors
/// in this short run of P-5 alone, 93 % of those within 5 ms) and, on realistic sensors, LV dP/dt min of the beats
/// in which it stays shut (about 60 % within 5 ms).
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
