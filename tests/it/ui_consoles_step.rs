//! The consoles step's pressure actions through the real app, by label, on the simulated patient: "Zero pressures"
//! zeroes every pressure channel against atmosphere (refused in words while the transducers are on the patient),
//! "Equalise Pd to Pa" reads the live Pd/Pa and puts the gain on Pd that makes it read 1.00 (refused in words
//! without a live Pd/Pa). Each goes through the calibration path (in force on the live channel, stored in the case
//! with its method), ticks its checklist item and is carried into the measurement context of the baseline
//! coronary step, and into the case file's markers.

use egui_kittest::kittest::Queryable;
use heracles::acquisition::calibration::{self, Calibration, stored_calibrations};
use heracles::acquisition::online::LiveQuantity;
use heracles::analysis::endpoints::Unit;
use heracles::analysis::format;
use heracles::model::StepId;
use heracles::protocol::{EQUALISED_CHECK, ZEROED_CHECK, guide};
use heracles::sim::{Control, SensorLevel, Simulator};

use crate::ui_protocol::{
    App, app_answer_eligible, app_click, app_close_case, app_next, app_on_screen, app_type, app_wait,
    demo_app_with_patient, run_until, session, start_demo_case, wait_for_the_writer,
};

/// The live Pd/Pa of the online analysis, when it has a value.
fn live_pd_pa(harness: &App) -> Option<f64> {
    let state = harness.state().engine().lock();
    state.analysis.number(LiveQuantity::PdPa)?.value.clone().ok()
}

/// The calibration in force on the live channel `name`.
fn in_force(harness: &App, name: &str) -> Calibration {
    let state = harness.state().engine().lock();
    let source = &state.sources[0];
    let index = source.spec.channels.iter().position(|c| c.name == name).unwrap();
    source.calibrations[index]
}

/// Whether the preparation step's checklist item `text` is ticked.
fn ticked(harness: &App, text: &str) -> bool {
    let item = guide(StepId::Preparation)
        .checklist
        .iter()
        .position(|item| *item == text)
        .unwrap();
    session(harness).state.record(StepId::Preparation).checklist[item]
}

#[test]
fn the_consoles_step_zeroes_the_pressures_and_equalises_pd_to_pa_through_the_calibration_path() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, patient) = demo_app_with_patient(dir.path(), [1366.0, 768.0]);
    start_demo_case(&mut harness);
    app_answer_eligible(&mut harness);
    app_next(&mut harness, StepId::Preparation);
    // Both actions and the whole checklist in view at 1366x768, without scrolling.
    let mut in_view = vec!["Zero pressures", "Equalise Pd to Pa"];
    in_view.extend(guide(StepId::Preparation).checklist);
    harness.run_steps(5);
    app_on_screen(&harness, [1366.0, 768.0], &in_view);

    // On the patient, the pressures are pulsatile: no zero, said in words, nothing put in force.
    app_click(&mut harness, "Zero pressures");
    harness.get_by_label_contains("Not zeroed: pa: the signal varies too much to zero");
    assert!(session(&harness).state.zero.is_none());
    assert!(!ticked(&harness, ZEROED_CHECK));
    assert!(in_force(&harness, "pa").is_identity());

    // The transducers open to air: the live Pd/Pa goes (flat pressures), so equalising is refused in words.
    patient.try_send(Control::OpenToAir(true)).unwrap();
    run_until(&mut harness, "Pd/Pa to lose its value open to air", 60.0, |h| {
        live_pd_pa(h).is_none()
    });
    app_wait(&mut harness, 3.0);
    app_click(&mut harness, "Equalise Pd to Pa");
    harness.get_by_label_contains("Not equalised: Pd/Pa cannot be read now");
    assert!(session(&harness).state.equalisation.is_none());

    // Now the zero is taken, on every pressure channel, and its offsets shown.
    app_click(&mut harness, "Zero pressures");
    let zero = session(&harness).state.zero.clone().expect("zeroed");
    let channels: Vec<&str> = zero.channels.iter().map(|c| c.channel.as_str()).collect();
    assert_eq!(channels, ["pa", "pd", "lvp"]);
    assert!(ticked(&harness, ZEROED_CHECK));
    harness.get_by_label_contains(&format!("Recorded: {zero}"));
    // The offsets are what the simulated transducers read open to air (seed 7; they drift < 1 mmHg here).
    let truth = Simulator::new("shock-ecmo", 7, SensorLevel::Realistic)
        .unwrap()
        .calibration();
    for (channel, true_offset) in zero.channels.iter().zip(truth.pressure_offsets_mmhg) {
        assert!(
            (channel.offset_mmhg + true_offset).abs() < 1.0,
            "{}: offset {} for a transducer reading {true_offset}",
            channel.channel,
            channel.offset_mmhg
        );
    }
    for (index, channel) in zero.channels.iter().enumerate() {
        assert_eq!(in_force(&harness, &channel.channel), in_force_zero(&zero, index));
    }

    // Back on the patient: once the newest beats are all after the zero, Pd/Pa is read and Pd equalised.
    patient.try_send(Control::OpenToAir(false)).unwrap();
    run_until(&mut harness, "Pd/Pa back on the patient", 60.0, |h| {
        live_pd_pa(h).is_some()
    });
    app_wait(&mut harness, 8.0);
    app_click(&mut harness, "Equalise Pd to Pa");
    let equalisation = session(&harness).state.equalisation.clone().expect("equalised");
    let read = equalisation.pd_pa_read;
    assert!((0.8..=1.2).contains(&read) && read != 1.0, "{read}");
    assert!((equalisation.pd_gain * read - 1.0).abs() < 1e-12);
    assert!(ticked(&harness, EQUALISED_CHECK));
    harness.get_by_label_contains(&format!("Recorded: {equalisation}"));
    // Pressed again at once, the live Pd/Pa still averages beats from before the gain: refused, no second gain.
    let pd_in_force = in_force(&harness, "pd");
    app_click(&mut harness, "Equalise Pd to Pa");
    harness.get_by_label_contains("Not equalised: Pd/Pa still averages beats from before the last zero");
    assert_eq!(session(&harness).state.equalisation.as_ref(), Some(&equalisation));
    assert_eq!(in_force(&harness, "pd"), pd_in_force);
    let pd_zeroed = in_force_zero(&zero, 1);
    let pd_equalised = calibration::scaled(pd_zeroed, equalisation.pd_gain).unwrap();
    assert_eq!(in_force(&harness, "pd"), pd_equalised);
    // The beats after it read Pd/Pa 1.00.
    run_until(&mut harness, "Pd/Pa to read 1.00", 60.0, |h| {
        live_pd_pa(h).is_some_and(|ratio| (ratio - 1.0).abs() < 0.01)
    });

    // The rest of the step, then the baseline coronary step: the context carries both, the ratio in its field.
    finish_the_consoles_step(&mut harness);
    let field = harness.get_by_label("Pd/Pa at equalisation");
    assert_eq!(
        field.value().as_deref(),
        Some(format::number(read, Unit::Ratio).as_str())
    );
    harness.get_by_label_contains(&format!("Zero: {zero}"));
    assert!(
        harness
            .query_by_label("Pressures zeroed at mid-chest level")
            .is_none(),
        "zeroed by the app: nothing to tick"
    );
    app_click(&mut harness, "LAD");
    app_click(&mut harness, "mid");
    app_click(&mut harness, "Record measurement context");
    let context = session(&harness)
        .state
        .coronary_context
        .clone()
        .expect("context recorded");
    assert!(context.zeroed);
    assert_eq!(context.pd_pa_at_equalisation, read);
    assert_eq!(context.zero.as_ref(), Some(&zero));
    assert_eq!(context.equalisation.as_ref(), Some(&equalisation));
    let shown = format!("mid LAD; {equalisation}; {zero}");
    assert_eq!(context.to_string(), shown);
    // The words leave the machine in every export: nothing in them looks like a patient identifier.
    assert_eq!(heracles::store::text_warnings(&shown), []);
    harness.get_by_label_contains(&format!("Recorded: {shown}"));

    // In the case file: the calibrations with their methods, and the step's records in words.
    let file = close_and_read(&mut harness);
    let stored: Vec<_> = stored_calibrations(&file)
        .unwrap()
        .into_iter()
        .map(|(_, record)| record)
        .collect();
    let summary: Vec<(&str, Calibration)> = stored
        .iter()
        .map(|record| (record.channel.as_str(), record.calibration))
        .collect();
    assert_eq!(
        summary,
        [
            ("pa", in_force_zero(&zero, 0)),
            ("pd", pd_zeroed),
            ("lvp", in_force_zero(&zero, 2)),
            ("pd", pd_equalised),
        ]
    );
    assert!(
        stored[..3]
            .iter()
            .all(|r| r.method.starts_with("zero against atmosphere"))
    );
    assert!(stored[3].method.starts_with(&format!(
        "equalise Pd to Pa: Pd/Pa read {}",
        format::number(read, Unit::Ratio)
    )));
    assert!(stored.iter().all(|r| r.who == "trainee A"));
    let markers = file.events().unwrap();
    let marker = |kind: &str| {
        markers
            .iter()
            .find(|m| m.kind == kind)
            .map(|m| m.text.clone())
            .unwrap_or_else(|| panic!("no {kind} marker"))
    };
    assert_eq!(
        marker("pressure_zero"),
        format!("{}: {zero}", StepId::Preparation.title())
    );
    assert_eq!(
        marker("pd_equalisation"),
        format!("{}: {equalisation}", StepId::Preparation.title())
    );
    assert_eq!(marker("measurement_context"), shown);
}

/// Ticks what is left of the consoles step's checklist, records the ECMO settings and goes on to the baseline
/// coronary step.
fn finish_the_consoles_step(harness: &mut App) {
    for item in guide(StepId::Preparation).checklist {
        if !ticked(harness, item) {
            app_click(harness, item);
        }
    }
    app_type(harness, "ECMO flow (L/min)", "3.5");
    app_click(harness, "Record ECMO settings");
    app_next(harness, StepId::BaselineCoronary);
}

/// Closes the case (stopping the recording) once its records are handed over, and opens its file to read.
fn close_and_read(harness: &mut App) -> heracles::store::CaseFile {
    let path = session(harness).path().unwrap().to_owned();
    run_until(harness, "the records to be handed over", 10.0, |h| {
        session(h).num_unwritten() == 0
    });
    app_close_case(harness);
    app_click(harness, "Close case and stop recording");
    wait_for_the_writer(&path);
    heracles::store::CaseFile::open_read_only(&path).unwrap()
}

/// The zero of channel `index` of `zero` as a calibration.
fn in_force_zero(zero: &heracles::protocol::PressureZero, index: usize) -> Calibration {
    Calibration::Linear {
        gain: 1.0,
        offset: zero.channels[index].offset_mmhg,
    }
}

/// Opens the transducers to air, zeroes the pressures once they are flat, and puts them back on the patient;
/// returns the zero recorded.
fn zero_open_to_air(
    harness: &mut App,
    patient: &std::sync::mpsc::SyncSender<Control>,
) -> heracles::protocol::PressureZero {
    let before = session(harness).state.zero.clone();
    patient.try_send(Control::OpenToAir(true)).unwrap();
    run_until(harness, "Pd/Pa to lose its value open to air", 60.0, |h| {
        live_pd_pa(h).is_none()
    });
    app_wait(harness, 3.0);
    app_click(harness, "Zero pressures");
    let zero = session(harness).state.zero.clone().expect("zeroed");
    assert_ne!(Some(&zero), before.as_ref(), "a new zero");
    patient.try_send(Control::OpenToAir(false)).unwrap();
    zero
}

#[test]
fn zeroing_again_after_the_context_was_recorded_carries_the_new_zero_into_it_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, patient) = demo_app_with_patient(dir.path(), [1366.0, 768.0]);
    start_demo_case(&mut harness);
    app_answer_eligible(&mut harness);
    app_next(&mut harness, StepId::Preparation);
    let first = zero_open_to_air(&mut harness, &patient);
    finish_the_consoles_step(&mut harness);
    app_click(&mut harness, "LAD");
    app_click(&mut harness, "mid");
    app_click(&mut harness, "Record measurement context");
    let context = |h: &App| {
        session(h)
            .state
            .coronary_context
            .clone()
            .expect("context recorded")
    };
    assert_eq!(context(&harness).zero.as_ref(), Some(&first));

    // Back at the consoles, the transducers zeroed again: the recorded context now carries the new zero, and
    // the step says so beside the zero.
    app_click(&mut harness, "Back F7");
    assert_eq!(session(&harness).state.current, StepId::Preparation);
    let second = zero_open_to_air(&mut harness, &patient);
    assert_eq!(context(&harness).zero.as_ref(), Some(&second));
    harness.get_by_label_contains(&format!(
        "Measurement context, kept in step with each zero and equalisation: {}",
        context(&harness)
    ));
    app_next(&mut harness, StepId::BaselineCoronary);
    harness.get_by_label_contains(&format!("Recorded: {}", context(&harness)));
    assert!(context(&harness).to_string().contains(&second.to_string()));

    // In the case file, the newest measurement context is the one with the new zero.
    let file = close_and_read(&mut harness);
    let contexts: Vec<String> = file
        .events()
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "measurement_context")
        .map(|m| m.text)
        .collect();
    assert_eq!(contexts.len(), 2, "{contexts:?}");
    assert!(contexts[0].contains(&first.to_string()), "{contexts:?}");
    assert!(contexts[1].contains(&second.to_string()), "{contexts:?}");

    // The review (and every export) shows that context, said to be updated by the zero, never "entered".
    let snapshot = heracles::review::session::snapshot_of(&file, None).unwrap();
    let (lines, _) = heracles::review::endpoints::measurement_context_text(&snapshot.endpoints).unwrap();
    assert_eq!(lines[0], format!("Measurement context: {}", contexts[1]));
    assert_eq!(
        lines[1],
        format!(
            "Context in force: updated by the zero at {} (Consoles, zero and calibration step)",
            heracles::analysis::format::recording_time(second.at.recording_s)
        )
    );
}
