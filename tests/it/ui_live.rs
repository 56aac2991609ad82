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
    harness.get_by_label_contains("PV loop ·");
    harness.get_by_label_contains("PV loop plot");
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
        from_s: None,
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
    for control in ["Impella", "hyperaemia", "IVC occlusion", "open to air"] {
        harness.get_by_label(control).click();
        harness.run_steps(2);
    }
    // Each control reached the patient (a refused one would say "Not applied").
    assert!(harness.query_by_label_contains("Not applied").is_none());
    harness.get_by_label("Impella CP");
    // The transducers open to air, the aortic pressure goes flat: what the consoles step's zero needs.
    let opened = harness.state().engine().lock().sources[0].num_samples;
    wait_for(harness.state().engine(), "a second open to air", |state| {
        state.sources[0].num_samples >= opened + 1500
    });
    let state = harness.state().engine().lock();
    let source = &state.sources[0];
    let pa = source
        .spec
        .channel_index(heracles::model::SignalKind::Pa)
        .unwrap();
    let mut newest = Vec::new();
    source.channels[pa].copy_range(source.end_sample() - 1000, source.end_sample(), &mut newest);
    let (lowest, highest) = newest
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    assert!(
        highest - lowest < 5.0,
        "Pa open to air spans {lowest}..{highest} mmHg"
    );
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

/// Physical pixels of a widget's height on the harness's screen.
fn height_px(harness: &Harness<'_, HeraclesApp>, rect: egui::Rect) -> f32 {
    rect.height() * harness.ctx.pixels_per_point()
}

#[test]
fn a_1920x1080_screen_shows_the_1366x768_layout_larger_with_numbers_readable_from_two_metres() {
    let mut harness = app_on_test_source();
    // 1366x768: nothing is scaled; the PV loop takes the height of its column, down to the controls bar.
    assert_eq!(harness.ctx.zoom_factor(), 1.0);
    let freeze_px = height_px(&harness, harness.get_by_label("Freeze").rect());
    let number_px = height_px(&harness, harness.get_all_by_label("—").next().unwrap().rect());
    let pv_loop = harness.get_by_label_contains("PV loop plot").rect();
    let controls_top = harness.get_by_label("Freeze").rect().top();
    assert!(
        pv_loop.bottom() > controls_top - 20.0 && pv_loop.height() > 500.0,
        "PV loop {pv_loop:?}, controls at {controls_top}"
    );

    crate::ui_protocol::set_window(&mut harness, [1920.0, 1080.0]);
    let zoom = harness.ctx.zoom_factor();
    assert!((1.40..1.41).contains(&zoom), "zoom {zoom}");
    // The same layout: the window is 1366x768 points, the loop still fills its column.
    let points = harness.ctx.viewport_rect().size();
    assert!(
        (points.x - 1366.0).abs() < 1.0 && (points.y - 768.0).abs() < 1.0,
        "{points:?}"
    );
    let pv_loop = harness.get_by_label_contains("PV loop plot").rect();
    assert!(pv_loop.bottom() > harness.get_by_label("Freeze").rect().top() - 20.0);
    // Text and controls are 1.4 times larger on the screen: the Freeze button ...
    let scaled_freeze_px = height_px(&harness, harness.get_by_label("Freeze").rect());
    assert!(
        scaled_freeze_px > 1.35 * freeze_px,
        "Freeze {scaled_freeze_px} px against {freeze_px} px at 1366x768"
    );
    // ... and each live number. A digit is about 0.7 of the line height: on a 24-inch 1920x1080 screen
    // (0.28 mm pixels) a 60 px line gives digits of 11.5 mm, 20 minutes of arc at two metres, where 5 is the
    // limit of normal acuity: readable with a glance, gloves on, from the foot of the table.
    let scaled_number_px = height_px(&harness, harness.get_all_by_label("—").next().unwrap().rect());
    eprintln!(
        "zoom {zoom:.4}: Freeze {freeze_px:.0} -> {scaled_freeze_px:.0} px, live number {number_px:.0} -> \
         {scaled_number_px:.0} px"
    );
    assert!(
        scaled_number_px > 1.35 * number_px && scaled_number_px >= 60.0,
        "number {scaled_number_px} px against {number_px} px at 1366x768"
    );

    // Back to 1366x768: back to no zoom.
    crate::ui_protocol::set_window(&mut harness, [1366.0, 768.0]);
    assert_eq!(harness.ctx.zoom_factor(), 1.0);
}

#[test]
fn the_live_pv_loop_fits_its_axes_to_a_small_loop_of_a_failing_ventricle() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = crate::ui_protocol::demo_app(dir.path());
    crate::ui_protocol::start_demo_case(&mut harness);
    // The first measurement step (beside the eligibility form the loop gives way to the traces).
    crate::ui_protocol::app_answer_eligible(&mut harness);
    crate::ui_protocol::app_next(&mut harness, heracles::model::StepId::Preparation);
    crate::ui_protocol::run_until(&mut harness, "the PV loop's beats", 30.0, |h| {
        h.query_by_label_contains("PV loop · last").is_some()
    });
    let label = harness
        .get_by_label_contains("PV loop plot")
        .accesskit_node()
        .label()
        .unwrap();
    // "PV loop plot: LV volume A to B mL, LV pressure C to D mmHg"
    let numbers: Vec<f64> = label
        .split([' ', ':', ','])
        .filter_map(|word| word.parse().ok())
        .collect();
    let [v_min, v_max, p_min, p_max] = numbers[..] else {
        panic!("{label}")
    };
    // The shock patient's loop is about 15 mL wide at an end-diastolic volume near 200 mL: the axis spans tens
    // of mL around it, not the 0-300 mL of the volume trace, so the loop fills the plot.
    assert!(v_min > 100.0 && v_max - v_min <= 60.0, "{label}");
    assert!(p_max > p_min && p_max <= 200.0, "{label}");
}

/// The area where `a` and `b` overlap, square points (0 when they only touch).
pub(crate) fn overlap_area(a: egui::Rect, b: egui::Rect) -> f32 {
    let both = a.intersect(b);
    if both.is_positive() { both.area() } else { 0.0 }
}

#[test]
fn every_strips_title_unit_and_scale_controls_sit_above_its_plot_never_over_a_trace() {
    let harness = app_on_test_source();
    // Each strip's plot, where its samples are drawn (a trace at the top of its scale reaches the plot's top).
    let plots: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| node.label().is_some_and(|l| l.contains(" plot, ")))
        .map(|node| (node.accesskit_node().label().unwrap(), node.rect()))
        .collect();
    assert_eq!(plots.len(), 5, "{plots:?}");
    // Every title, unit and scale control of the strips' headers.
    let mut header: Vec<(String, egui::Rect)> = Vec::new();
    for label in [
        "ECG",
        "Pa",
        "Pd",
        "Doppler APV",
        "LV pressure",
        "LV volume",
        "mV",
        "mmHg",
        "cm/s",
        "mL",
        "Auto",
    ] {
        header.extend(
            harness
                .get_all_by_label(label)
                .map(|node| (label.to_owned(), node.rect())),
        );
    }
    header.extend(
        harness
            .get_all_by(|node| node.label().is_some_and(|l| l.ends_with(" scale")))
            .map(|node| (node.accesskit_node().label().unwrap(), node.rect())),
    );
    assert!(header.len() >= 5 * 3, "{header:?}");
    for (label, rect) in &header {
        for (plot, plot_rect) in &plots {
            assert_eq!(
                overlap_area(*rect, *plot_rect),
                0.0,
                "\"{label}\" at {rect:?} is drawn over the {plot} at {plot_rect:?}"
            );
        }
    }
}
