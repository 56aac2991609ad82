//! Cardiac-phase timing on every arm of the trial against the simulated patient's truth (issue 12): end of
//! systole at aortic-valve closure (the LV-aortic pressure crossover) where the valve opens, at LV dP/dt min
//! where it does not; through the app's analysis pipeline (`heracles validate`'s harness), on clean and realistic
//! (zeroed) sensors. Also the rules' bad-input side: a balloon-augmented pulse without LV pressure is not timed.

use heracles::cli::validate::{Arm, BeatComparison, Case, ENDPOINTS, agreement, cases, compare_case, timing};
use heracles::model::{Beat, Fiducial};
use heracles::signal::phases::{PhaseError, SystoleEnd, beat_phases};
use heracles::signal::{SignalSettings, Signals, segment};
use heracles::sim::truth::BeatTruthTracker;
use heracles::sim::{SensorLevel, Simulator};

const SECONDS: f64 = 15.0;

/// Every case of `arm` on `level`, seed 1.
fn arm_beats(arm: Arm, level: SensorLevel) -> Vec<(Case, Vec<BeatComparison>)> {
    cases()
        .into_iter()
        .filter(|case| case.arm == arm)
        .map(|case| (case, compare_case(&case, 1, level, SECONDS).unwrap()))
        .collect()
}

/// Checks one arm: >= 95 % of ejecting beats within `bound_ms` of valve closure, >= `shut_fraction` of
/// non-ejecting beats within `shut_bound_ms` of dP/dt min, every case timed.
fn check_arm(
    arm: Arm,
    level: SensorLevel,
    bound_ms: f64,
    shut_bound_ms: f64,
    shut_fraction: f64,
) -> Vec<BeatComparison> {
    let per_case = arm_beats(arm, level);
    let all: Vec<BeatComparison> = per_case.iter().flat_map(|(_, beats)| beats.clone()).collect();
    for (case, beats) in &per_case {
        let t = timing(beats, bound_ms);
        println!(
            "{arm:?} {level:?} {}: {} beats, {} ejecting, median {:+.1} ms, |e| p50 {:.1} p95 {:.1}, within {:.3}; \
             {} shut, within 5 ms {:.3}; {} untimed",
            case.label,
            t.num_beats,
            t.num_ejecting,
            t.median_ms,
            t.median_abs_ms,
            t.p95_abs_ms,
            t.fraction_within,
            t.num_not_ejecting,
            t.fraction_not_ejecting_within,
            t.num_untimed
        );
        assert!(t.num_beats >= 10, "{}: {} beats matched", case.label, t.num_beats);
        assert_eq!(
            t.num_untimed, 0,
            "{}: beats left untimed with LV pressure",
            case.label
        );
    }
    let t = timing(&all, bound_ms);
    assert!(
        t.num_ejecting == 0 || t.fraction_within >= 0.95,
        "{arm:?} {level:?}: {:.3} of {} ejecting beats within {bound_ms} ms (p95 {:.1} ms)",
        t.fraction_within,
        t.num_ejecting,
        t.p95_abs_ms
    );
    let shut: Vec<f64> = all
        .iter()
        .filter(|b| b.truth.valve_close_s.is_none())
        .filter_map(|b| b.systole_end_error_ms)
        .collect();
    let within = shut.iter().filter(|e| e.abs() <= shut_bound_ms).count();
    assert!(
        shut.is_empty() || within as f64 >= shut_fraction * shut.len() as f64,
        "{arm:?} {level:?}: {within} of {} non-ejecting beats within {shut_bound_ms} ms of dP/dt min",
        shut.len()
    );
    all
}

#[test]
fn end_systole_is_valve_closure_on_every_arm_clean() {
    let diastolic_apv = ENDPOINTS.iter().position(|e| *e == "diastolic APV").unwrap();
    let mut bias = Vec::new();
    for arm in [Arm::None, Arm::Iabp, Arm::Impella, Arm::FullFlow, Arm::NoEcmo] {
        let beats = check_arm(arm, SensorLevel::Clean, 5.0, 5.0, 0.95);
        // Diastolic APV over the analysed diastole against the true one: the phase rule no longer biases it
        // (before issue 12: +6.8 % none, +6.6 % IABP, +4.5 % Impella, +10.9 % full flow).
        let a = agreement(&beats, diastolic_apv).unwrap();
        println!("{arm:?}: diastolic APV bias {:+.2} %", a.bias_percent);
        assert!(
            a.bias_percent.abs() <= 0.5,
            "{arm:?}: diastolic APV bias {:+.2} %",
            a.bias_percent
        );
        bias.push((arm, a.bias_percent));
    }
    let of = |arm| bias.iter().find(|(a, _)| *a == arm).unwrap().1;
    assert!((of(Arm::Iabp) - of(Arm::Impella)).abs() <= 1.0, "{bias:?}");
}

#[test]
fn end_systole_is_valve_closure_on_every_trial_arm_realistic() {
    // Realistic sensors: 15 ms at valve closure (issue 12). Without ejection (Impella P-5 to P-9) the dP/dt min
    // of a noisy, broad relaxation does NOT meet the 5 ms: 70 % of those beats are within 15 ms (worst
    // under suction; 55 % within 5 ms over two seeds), held here so that it cannot get worse unnoticed (see
    // docs/validation.md).
    for arm in [Arm::None, Arm::Iabp, Arm::Impella, Arm::FullFlow] {
        check_arm(arm, SensorLevel::Realistic, 15.0, 15.0, 0.65);
    }
}

/// The channels of a run of `scenario` (clean), and its true beats.
fn channels(scenario: &str, seconds: f64) -> (Vec<Vec<f64>>, Vec<heracles::sim::truth::BeatTruth>) {
    let mut sim = Simulator::new(scenario, 1, SensorLevel::Clean).unwrap();
    let mut channels = vec![Vec::new(); 7];
    let mut tracker = BeatTruthTracker::new(0.25, 0.005);
    let mut truths = Vec::new();
    sim.advance((seconds * 1000.0) as usize, |sample| {
        for (channel, value) in channels.iter_mut().zip(sample.measured) {
            channel.push(value);
        }
        truths.extend(tracker.push(&sample.truth));
    });
    (channels, truths)
}

#[test]
fn balloon_is_recognised_and_never_taken_for_systole() {
    let (ch, truths) = channels("shock-ecmo-iabp", 10.0);
    let settings = SignalSettings::default();
    let all = Signals {
        ecg: Some(&ch[0]),
        pa: Some(&ch[1]),
        lvp: Some(&ch[4]),
        ..Signals::default()
    };
    let beats = segment(&all, 1000.0, &settings).unwrap().beats;
    assert!(beats.len() >= 10);
    let aortic_only = Signals { lvp: None, ..all };
    for beat in &beats {
        let truth = truths
            .iter()
            .find(|t| (t.start_s - beat.start as f64 / 1000.0).abs() < 0.03)
            .unwrap();
        let phases = beat_phases(&all, beat, 1000.0, &settings).unwrap();
        assert_eq!(phases.systole_end_method, SystoleEnd::PressureCrossover);
        // Inflation recognised on the waveform, after valve closure, within the 60 ms the balloon takes to fill.
        let inflation = phases.balloon_inflation.expect("balloon inflation recognised");
        let closure = truth.valve_close_s.unwrap();
        let after_ms = inflation as f64 - 1000.0 * closure;
        assert!(
            (-5.0..=60.0).contains(&after_ms),
            "inflation {after_ms} ms after closure"
        );
        // Without LV pressure the augmented beat is not timed: never a guess.
        assert_eq!(
            beat_phases(&aortic_only, beat, 1000.0, &settings),
            Err(PhaseError::BalloonWithoutLvPressure)
        );
    }
    // No balloon, no inflation found.
    let (ch, _) = channels("shock-ecmo", 10.0);
    let none = Signals {
        ecg: Some(&ch[0]),
        pa: Some(&ch[1]),
        lvp: Some(&ch[4]),
        ..Signals::default()
    };
    for beat in &segment(&none, 1000.0, &settings).unwrap().beats {
        assert_eq!(
            beat_phases(&none, beat, 1000.0, &settings)
                .unwrap()
                .balloon_inflation,
            None
        );
    }
}

#[test]
fn systole_end_rule_is_recorded_per_beat() {
    let (ch, _) = channels("shock-ecmo-impella", 5.0);
    let settings = SignalSettings::default();
    let beat = Beat {
        number: 1,
        start: 1000,
        end: 1600,
        fiducial: Fiducial::RWave,
        reject: None,
        non_pulsatile: false,
        irregular_rhythm: false,
    };
    let lv_only = Signals {
        lvp: Some(&ch[4]),
        ..Signals::default()
    };
    assert_eq!(
        beat_phases(&lv_only, &beat, 1000.0, &settings)
            .unwrap()
            .systole_end_method,
        SystoleEnd::LvDpdtMinWithoutAorta
    );
    assert_eq!(SystoleEnd::LvDpdtMin.key(), "lv_dpdt_min_no_ejection");
}
