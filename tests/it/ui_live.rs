//! The real `HeraclesApp` (built as eframe builds it) on a test source with known content, driven through
//! egui_kittest by the labels a user reads: the source chip and its rate, the trace labels, the numbers panel,
//! freeze/resume, the sweep speed, and NOT SAVING when the recorder fails.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use heracles::acquisition::{LiveAnalysis, LiveNumber, LiveQuantity, Source};
use heracles::app::HeraclesApp;
use heracles::model::SignalKind;
use heracles::ui::action::View;

use crate::engine::{FakeRecorder, PacedSource, spec, wait_for};

/// The app on one paced 500 Hz source carrying every known signal, at the bedside screen's smallest size.
fn app_on_test_source() -> Harness<'static, HeraclesApp> {
    let sources: Vec<Box<dyn Source>> = vec![Box::new(PacedSource {
        spec: spec("bed", 500.0, &SignalKind::ALL),
        block_len: 10,
    })];
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1366.0, 768.0))
        .build_eframe(|cc| HeraclesApp::new(&cc.egui_ctx, sources).unwrap());
    wait_for(harness.state().engine(), "the first second of samples", |state| {
        state.sources[0].num_samples >= 500
    });
    harness.run_steps(2);
    harness
}

/// The newest time the traces show, read from their accessible summary.
fn shown_until_s(harness: &Harness<'_, HeraclesApp>) -> f64 {
    let label = harness
        .get_by_label_contains("Traces:")
        .accesskit_node()
        .label()
        .unwrap();
    let number = label.rsplit("ending at ").next().unwrap().trim_end_matches(" s");
    number.parse().unwrap_or_else(|_| panic!("no time in {label:?}"))
}

/// Lets the paced source deliver more samples, then draws a frame.
fn wait_and_step(harness: &mut Harness<'_, HeraclesApp>) {
    std::thread::sleep(Duration::from_millis(150));
    harness.step();
}

#[test]
fn shows_the_source_chip_traces_and_numbers() {
    let harness = app_on_test_source();
    harness.get_by_label("Test bed · 500 Hz · 0 dropped");
    for title in ["ECG", "Pa", "Pd", "Doppler APV", "LV pressure", "LV volume", "mV"] {
        harness.get_by_label(title);
    }
    harness.get_by_label_contains("PV loop");
    for name in ["HR", "MAP", "Pd/Pa", "APV", "LVEDP", "LVESP", "SV", "SW", "ECMO"] {
        harness.get_by_label(name);
    }
    harness.get_by_label("NOT RECORDING");
}

#[test]
fn freeze_stops_the_traces_and_resume_restarts_them() {
    let mut harness = app_on_test_source();
    let before = shown_until_s(&harness);
    wait_and_step(&mut harness);
    let live = shown_until_s(&harness);
    assert!(live > before, "live traces did not advance: {before} -> {live}");

    harness.get_by_label("Freeze").click();
    harness.run_steps(2);
    assert!(harness.state().live().frozen);
    harness.get_by_label("FROZEN");
    let frozen_at = shown_until_s(&harness);
    wait_and_step(&mut harness);
    wait_and_step(&mut harness);
    assert_eq!(shown_until_s(&harness), frozen_at, "frozen traces moved");

    harness.get_by_label("Resume").click();
    harness.run_steps(2);
    assert!(
        shown_until_s(&harness) > frozen_at + 0.2,
        "resumed traces did not catch up"
    );
}

#[test]
fn sweep_speed_buttons_change_the_window() {
    let mut harness = app_on_test_source();
    harness.get_by_label_contains("Traces: 10 s sweep");
    harness.get_by_label("20 s").click();
    harness.run_steps(2);
    assert_eq!(harness.state().live().sweep_s, 20.0);
    harness.get_by_label_contains("Traces: 20 s sweep");
    harness.get_by_label("5 s").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Traces: 5 s sweep");
}

#[test]
fn not_saving_shows_when_the_recorder_fails() {
    let mut harness = app_on_test_source();
    harness.get_by_label("NOT RECORDING");
    let recorder = FakeRecorder {
        accepting: Arc::new(AtomicBool::new(false)),
        received: Arc::new(Mutex::new(Vec::new())),
    };
    harness
        .state()
        .engine()
        .start_recording(Box::new(recorder))
        .unwrap();
    wait_for(harness.state().engine(), "the recorder failure", |state| {
        state.recording.failure.is_some()
    });
    harness.run_steps(2);
    harness.get_by_label("NOT SAVING");
    assert!(harness.query_by_label("NOT RECORDING").is_none());
}

#[test]
fn numbers_show_values_reasons_and_dashes_never_invented_numbers() {
    let number = |quantity, value| LiveNumber {
        quantity,
        value,
        method: format!("method of {quantity:?}"),
    };
    let analysis = LiveAnalysis {
        numbers: vec![
            number(LiveQuantity::HeartRate, Ok(72.4)),
            number(LiveQuantity::PdPa, Ok(0.8649)),
            number(
                LiveQuantity::MeanArterialPressure,
                Err("pa: flat (standard deviation 0.010)".to_owned()),
            ),
        ],
        lv_beats: Vec::new(),
        status: None,
    };
    let harness = Harness::builder()
        .with_size(egui::vec2(240.0, 700.0))
        .build_ui(|ui| heracles::ui::numbers::numbers_ui(ui, &analysis));
    harness.get_by_label("72");
    harness.get_by_label("0.86");
    harness.get_by_label("signal unusable: pa: flat (standard deviation 0.010)");
    // MAP (unusable) and the six quantities the analysis did not give are dashes.
    assert_eq!(harness.get_all_by_label("—").count(), 7);

    let waiting = LiveAnalysis::default();
    let harness = Harness::builder()
        .with_size(egui::vec2(240.0, 700.0))
        .build_ui(|ui| heracles::ui::numbers::numbers_ui(ui, &waiting));
    harness.get_by_label("no beats yet");
    assert_eq!(harness.get_all_by_label("—").count(), 9);
}

#[test]
fn the_real_app_runs_on_the_simulated_patient_and_its_demo_panel() {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1366.0, 768.0))
        .build_eframe(|cc| HeraclesApp::on_simulator(&cc.egui_ctx, "shock-ecmo", 5).unwrap());
    wait_for(harness.state().engine(), "a second of the patient", |state| {
        state.sources[0].num_samples >= 1000
    });
    harness.run_steps(2);
    harness.get_by_label("Simulated patient · 1000 Hz · 0 dropped");
    harness.get_by_label_contains("Simulated patient controls · shock-ecmo");
    for control in ["Impella", "hyperaemia", "IVC occlusion"] {
        harness.get_by_label(control).click();
        harness.run_steps(2);
    }
    // Each control reached the patient (a refused one would say "Not applied").
    assert!(harness.query_by_label_contains("Not applied").is_none());
    harness.get_by_label("Impella CP");
}

#[test]
fn settings_tab_connects_a_console_in_place_of_the_simulated_patient() {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1366.0, 768.0))
        .build_eframe(|cc| HeraclesApp::on_simulator(&cc.egui_ctx, "shock-ecmo", 5).unwrap());
    harness.run_steps(2);
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view(), View::Settings);
    harness.get_by_label("Console connection");
    harness.get_by_label("Refresh ports").click();
    harness.run_steps(2);
    harness.get_by_label_contains("port(s) found");

    let path = "/nonexistent/heracles-test-tty";
    harness.get_by_label("Port path").click();
    harness.run_steps(1);
    // Replace whatever port was found first.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.get_by_label("Port path").type_text(path);
    harness.run_steps(2);
    harness.get_by_label("Connect").click();
    harness.run_steps(2);
    let confirmations = harness.query_all_by(|node| {
        node.value()
            .is_some_and(|text| text.contains("OK: reading /nonexistent/heracles"))
    });
    assert!(
        confirmations.count() > 0,
        "the settings view confirms the connection"
    );
    harness.get_by_label("Live").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view(), View::Live);
    // The simulated patient is gone; the console's chip says it cannot be read, in words.
    wait_for(harness.state().engine(), "the port to fail", |state| {
        state.sources[0].disconnect_reason.is_some()
    });
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Simulated patient").is_none());
    harness.get_by_label_contains("DISCONNECTED");
}
