//! The protocol views driven like an operator would, with egui_kittest: clicking labelled buttons, typing into
//! labelled fields and pressing the shortcut keys, on a bench that applies the views' events to the real state
//! machine with a test clock. The whole-case walk through the real app (engine, simulator, case file) is in
//! `demo_case.rs`; these tests pin the views themselves.

use chrono::{DateTime, Utc};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heracles::model::{Beat, Fiducial, StepId, UnloadingDevice};
use heracles::protocol::{CaptureQuality, Criterion, CriterionKind, Effect, Event, Moment, State, handle};
use heracles::ui::protocol::{
    Cdfr, EndpointRow, EndpointView, LiveChannels, PanelRequest, ProtocolForms, ProtocolView, StartChoice,
    endpoint_panel_ui, protocol_panels_ui, shows_live_traces, start_ui,
};

/// The protocol views on the real state machine, with a clock the test moves.
struct Bench {
    /// The wall-clock time at recording time 0.
    t0: DateTime<Utc>,
    state: State,
    forms: ProtocolForms,
    live: LiveChannels,
    endpoints: Option<EndpointView>,
    time_s: f64,
    effects: Vec<Effect>,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            t0: Utc::now(),
            state: State::new(),
            forms: ProtocolForms::new(Utc::now()),
            live: LiveChannels::all_live(),
            endpoints: None,
            time_s: 0.0,
            effects: Vec::new(),
        }
    }

    fn now(&self) -> Moment {
        Moment {
            utc: self.t0 + chrono::Duration::milliseconds((self.time_s * 1000.0) as i64),
            recording_s: self.time_s,
        }
    }

    fn apply(&mut self, event: Event) {
        match handle(&self.state, event, self.now()) {
            Ok((state, effects)) => {
                self.state = state;
                self.effects.extend(effects);
                self.forms.message = None;
            }
            Err(refusal) => self.forms.message = Some(refusal.to_string()),
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui) {
        if self.state.case.is_none() {
            if let Some(StartChoice::NewCase(event)) =
                start_ui(ui, &mut self.forms.start, &[], self.forms.message.as_deref())
            {
                self.apply(event);
            }
            return;
        }
        let view = ProtocolView {
            state: &self.state,
            live: &self.live,
            endpoints: self.endpoints.as_ref(),
            now: Utc::now(),
        };
        if let Some(PanelRequest::Event(event)) = protocol_panels_ui(ui, view, &mut self.forms) {
            self.apply(event);
        }
        if shows_live_traces(self.state.current) {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label("live traces");
            });
        }
    }
}

fn harness(width: f32, height: f32) -> Harness<'static, Bench> {
    Harness::builder().with_size([width, height]).build_ui_state(
        |ui, bench: &mut Bench| {
            heracles::ui::theme::apply(ui.ctx());
            bench.ui(ui);
        },
        Bench::new(),
    )
}

/// Scrolls to the widget labelled `label` (as the operator would) and clicks it.
fn click(harness: &mut Harness<'_, Bench>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run();
    harness.get_by_label(label).click();
    harness.run();
}

fn type_into(harness: &mut Harness<'_, Bench>, label: &str, text: &str) {
    click(harness, label);
    harness.get_by_label(label).type_text(text);
    harness.run();
}

fn tick_checklist(harness: &mut Harness<'_, Bench>) {
    for item in heracles::protocol::guide(harness.state().state.current).checklist {
        click(harness, item);
    }
}

fn steady_beats(n: u64) -> Vec<Beat> {
    (0..n)
        .map(|i| Beat {
            number: i as u32 + 1,
            start: i * 800,
            end: (i + 1) * 800,
            fiducial: Fiducial::RWave,
            reject: None,
            non_pulsatile: false,
        })
        .collect()
}

/// Lets a running capture reach its target: the test plays the app's part of feeding quality reports.
fn let_capture_run(harness: &mut Harness<'_, Bench>) {
    let bench = harness.state_mut();
    let target = bench.state.capture.as_ref().unwrap().target;
    bench.time_s += target.duration_s;
    bench.apply(Event::CaptureProgress(CaptureQuality::assess(
        &steady_beats(20),
        1000.0,
        &[3.5; 100],
    )));
    harness.run();
}

fn set_up_case(harness: &mut Harness<'_, Bench>) {
    click(harness, "St Thomas' Hospital");
    type_into(harness, "Case id", "HER-STH-0012");
    type_into(harness, "Operator", "Dr Test");
    harness.get_by_label("Case id valid.");
    click(harness, "Create case");
    assert_eq!(
        harness.state().state.current,
        StepId::Eligibility,
        "{:?}",
        harness.state().forms.message
    );
}

fn answer_eligible(harness: &mut Harness<'_, Bench>) {
    for criterion in Criterion::ALL {
        let answer = if criterion.kind() == CriterionKind::Inclusion {
            "yes"
        } else {
            "no"
        };
        click(harness, &format!("{}: {answer}", criterion.text()));
    }
    harness.get_by_label("ELIGIBLE: every criterion met");
}

fn next(harness: &mut Harness<'_, Bench>, expected: StepId) {
    harness.state_mut().time_s += 5.0;
    click(harness, "Next F8");
    assert_eq!(
        harness.state().state.current,
        expected,
        "{:?}",
        harness.state().forms.message
    );
}

fn capture_and_save(harness: &mut Harness<'_, Bench>, button: &str) {
    click(harness, button);
    assert!(harness.state().state.capture.as_ref().unwrap().running());
    harness.get_by_label("Stop capture F5");
    let_capture_run(harness);
    harness.get_by_label("Steady window");
    click(harness, "Save window");
    assert!(harness.state().state.capture.is_none());
}

#[test]
fn a_whole_case_can_be_walked_by_clicking_labelled_buttons() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    answer_eligible(&mut harness);
    next(&mut harness, StepId::Preparation);

    tick_checklist(&mut harness);
    type_into(&mut harness, "ECMO flow (L/min)", "3.5");
    type_into(&mut harness, "ECMO pump speed (rpm)", "3200");
    click(&mut harness, "Record ECMO settings");
    assert_eq!(harness.state().state.ecmo.unwrap().rpm, Some(3200.0));
    next(&mut harness, StepId::BaselineCoronary);

    tick_checklist(&mut harness);
    capture_and_save(&mut harness, "Capture F5");
    next(&mut harness, StepId::BaselinePv);

    tick_checklist(&mut harness);
    capture_and_save(&mut harness, "Capture F5");
    capture_and_save(&mut harness, "Capture preload-reduction PV window");
    next(&mut harness, StepId::Randomisation);

    click(&mut harness, "Impella");
    type_into(&mut harness, "Randomisation reference", "RND-0012");
    click(&mut harness, "Record allocation");
    assert_eq!(
        harness.state().state.allocation.as_ref().unwrap().reference,
        "RND-0012"
    );
    tick_checklist(&mut harness);
    next(&mut harness, StepId::DeviceInsertion);

    // The allocated arm is preselected; the ECMO flow is carried over from preparation.
    click(&mut harness, "P-7");
    type_into(&mut harness, "Impella flow (L/min)", "2.9");
    click(&mut harness, "Record device");
    let UnloadingDevice::Impella(impella) = harness.state().state.device else {
        panic!(
            "{:?} {:?}",
            harness.state().state.device,
            harness.state().forms.message
        )
    };
    assert_eq!((impella.p_level, impella.displayed_flow_l_min), (7, Some(2.9)));
    assert_eq!(harness.state().state.ecmo.unwrap().flow_l_min, 3.5);
    tick_checklist(&mut harness);
    next(&mut harness, StepId::PostCoronary);

    tick_checklist(&mut harness);
    capture_and_save(&mut harness, "Capture F5");
    next(&mut harness, StepId::PostPv);
    tick_checklist(&mut harness);
    capture_and_save(&mut harness, "Capture F5");
    next(&mut harness, StepId::Review);
    tick_checklist(&mut harness);
    next(&mut harness, StepId::SignOff);

    click(&mut harness, "Sign off case");
    harness.get_by_label_contains("Signing off ends the protocol");
    click(&mut harness, "Confirm sign-off");
    let bench = harness.state();
    assert_eq!(bench.state.signed_off.as_ref().unwrap().by, "Dr Test");
    let num_windows = bench
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::WindowSaved { .. }))
        .count();
    assert_eq!(num_windows, 5);
    let started: Vec<StepId> = bench
        .effects
        .iter()
        .filter_map(|e| {
            if let Effect::StepStarted { step, .. } = e {
                Some(*step)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(started, StepId::ALL);
    harness.get_by_label_contains("Signed off by Dr Test");
}

#[test]
fn an_ineligible_patient_is_stopped_with_the_reason_shown() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    click(&mut harness, "Left-ventricular thrombus: yes");
    harness.get_by_label("NOT ELIGIBLE: Left-ventricular thrombus");
    click(&mut harness, "Next F8");
    assert_eq!(harness.state().state.current, StepId::Eligibility);
    harness.get_by_label_contains("Eligibility is not complete: the patient is not eligible");
    // Clicking a later step in the list is refused the same way.
    click(&mut harness, "6. Randomisation to do");
    assert_eq!(harness.state().state.current, StepId::Eligibility);
}

#[test]
fn shortcuts_capture_mark_and_move_on_with_a_confirmation_for_an_unsaved_capture() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    answer_eligible(&mut harness);
    next(&mut harness, StepId::Preparation);
    tick_checklist(&mut harness);
    next(&mut harness, StepId::BaselineCoronary);
    tick_checklist(&mut harness);

    // F5 captures; the window is saved; F5 again repeats (a second window), F5 stops it early.
    harness.key_press(egui::Key::F5);
    harness.run();
    assert!(harness.state().state.capture.as_ref().unwrap().running());
    let_capture_run(&mut harness);
    click(&mut harness, "Save window");
    harness.key_press(egui::Key::F5);
    harness.run();
    assert!(harness.state().state.capture.as_ref().unwrap().running());
    harness.state_mut().time_s += 4.0;
    harness.key_press(egui::Key::F5);
    harness.run();
    assert!(!harness.state().state.capture.as_ref().unwrap().running());
    harness.get_by_label("Repeat capture F5");

    type_into(&mut harness, "Note", "ventricular ectopy");
    harness.key_press(egui::Key::F6);
    harness.run();
    assert!(
        harness
            .state()
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Marked { text, .. } if text == "ventricular ectopy"))
    );

    harness.key_press(egui::Key::F8);
    harness.run();
    assert!(harness.state().state.pending.is_some());
    harness.get_by_label_contains("is not saved and will be discarded");
    click(&mut harness, "Stay");
    assert!(harness.state().state.pending.is_none() && harness.state().state.capture.is_some());
    harness.key_press(egui::Key::F8);
    harness.run();
    click(&mut harness, "Leave step");
    assert_eq!(harness.state().state.current, StepId::BaselinePv);
    assert!(harness.state().state.capture.is_none());
    harness.key_press(egui::Key::F7);
    harness.run();
    assert_eq!(harness.state().state.current, StepId::BaselineCoronary);
}

#[test]
fn the_action_bar_and_step_panel_fit_on_the_smallest_supported_screen() {
    for (width, height) in [(1366.0, 768.0), (1920.0, 1080.0)] {
        let mut harness = harness(width, height);
        set_up_case(&mut harness);
        answer_eligible(&mut harness);
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(width, height));
        let on_screen = |harness: &Harness<'_, Bench>, labels: &[&str]| {
            for label in labels {
                let rect = harness.get_by_label(label).rect();
                assert!(
                    screen.contains_rect(rect),
                    "{label} at {rect:?} is off a {width}x{height} screen"
                );
            }
        };
        // Eligibility takes the centre: every answer and the verdict are visible without scrolling.
        let last = format!("{}: no", Criterion::MechanicalAorticValve.text());
        on_screen(
            &harness,
            &[
                "Next F8",
                "Back F7",
                "Mark event F6",
                "ELIGIBLE: every criterion met",
                &last,
            ],
        );
        next(&mut harness, StepId::Preparation);
        // Preparation keeps the traces in view, with more than half of the width.
        on_screen(&harness, &["Next F8", "Record ECMO settings", "live traces"]);
        let traces = harness.get_by_label("live traces").rect();
        assert!(traces.left() < width * 0.5, "{traces:?}");
    }
}

fn endpoint_view() -> EndpointView {
    let row = |section: &str, name: &str, unit: &str, baseline, post| EndpointRow {
        section: section.into(),
        name: name.into(),
        unit: unit.into(),
        baseline,
        post,
        decimals: 1,
        method: format!("{name}: method"),
        note: None,
    };
    EndpointView {
        cdfr: Some(Ok(Cdfr {
            value: 1.42,
            ci95: Some((1.21, 1.65)),
            flags: vec!["ECMO flow changed by 0.8 L/min between states".into()],
            method: "APV post / APV baseline".into(),
        })),
        rows: vec![
            row(
                "Microvascular resistance",
                "Minimal MR",
                "mmHg.cm-1.s",
                Some(2.5),
                Some(1.9),
            ),
            row("Pressure-volume", "LVEDP", "mmHg", Some(24.0), Some(14.0)),
            row("Pressure-volume", "PVA", "mmHg.mL", Some(5000.0), None),
        ],
        baseline_loop: vec![
            [120.0, 20.0],
            [120.0, 90.0],
            [80.0, 90.0],
            [80.0, 15.0],
            [120.0, 20.0],
        ],
        post_loop: vec![
            [100.0, 12.0],
            [100.0, 70.0],
            [70.0, 70.0],
            [70.0, 10.0],
            [100.0, 12.0],
        ],
        post_label: "Impella CP P-6".into(),
    }
}

#[test]
fn the_endpoint_panel_shows_cdfr_with_ci_flags_changes_and_missing_values() {
    let view = endpoint_view();
    let mut harness = Harness::builder()
        .with_size([480.0, 600.0])
        .build_ui(|ui| endpoint_panel_ui(ui, &view, 160.0));
    harness.run();
    harness.get_by_label("1.42");
    harness.get_by_label("95 % CI 1.21 to 1.65");
    harness.get_by_label("FLAG: ECMO flow changed by 0.8 L/min between states");
    harness.get_by_label("-10.0 (-42 %)"); // LVEDP 24 -> 14
    harness.get_by_label("no value"); // PVA post
    // Every number explains its method on hover.
    harness.get_by_label("1.42").hover();
    harness.run();
    harness.get_by_label("APV post / APV baseline");
}

#[test]
fn the_endpoints_appear_beside_the_live_traces_once_a_post_window_exists() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    answer_eligible(&mut harness);
    next(&mut harness, StepId::Preparation);
    assert!(harness.query_by_label("Endpoints so far").is_none());
    harness.state_mut().endpoints = Some(endpoint_view());
    harness.run();
    harness.get_by_label("Endpoints so far");
}
