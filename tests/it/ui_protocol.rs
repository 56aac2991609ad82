//! The protocol views driven like an operator would, with egui_kittest: clicking labelled buttons, typing into
//! labelled fields and pressing the shortcut keys, on a bench that applies the views' events to the real state
//! machine with a test clock; then the real app (engine, simulated patient, case writer, case file) walked the
//! same way, at both bedside screen sizes.

use chrono::{DateTime, Utc};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use heracles::analysis::endpoints::Unit;
use heracles::analysis::format;
use heracles::model::{Beat, Fiducial, StepId, UnloadingDevice};
use heracles::protocol::{
    CaptureQuality, Criterion, CriterionKind, Effect, Event, Moment, State, WindowKind, handle,
};
use heracles::review::analysis::window_kind;
use heracles::ui::protocol::{
    Cdfr, EndpointRow, EndpointView, LiveChannels, PanelRequest, ProtocolForms, ProtocolView, StartChoice,
    WindowNumber, WindowNumbers, endpoint_panel_ui, protocol_panels_ui, shows_live_traces, start_ui,
};
use heracles::ui::upload::CaseUploads;
use heracles::upload::worker::UploadStatus;

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
    /// Whether the case is drawn as recording (the traces then stay in view on every step).
    recording: bool,
    /// Whether each saved window is given its numbers at once, as the app's analysis gives them (a unique value
    /// per number, so a test can find each one by its text).
    analyse: bool,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            t0: Utc::now(),
            state: State::new(),
            forms: ProtocolForms::default(),
            live: LiveChannels::all_live(),
            endpoints: None,
            time_s: 0.0,
            effects: Vec::new(),
            recording: false,
            analyse: false,
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
                if self.analyse {
                    for effect in &effects {
                        if let Effect::WindowSaved { step, window } = effect {
                            let view = self.endpoints.get_or_insert_with(EndpointView::default);
                            let first = 601 + view.windows.iter().map(|w| w.numbers.len()).sum::<usize>();
                            view.windows
                                .push(bench_window_numbers(*step, window.kind, first as f64));
                            // With a post-unloading resting window, the CDFR and the table exist.
                            if *step == StepId::PostCoronary && window.kind == WindowKind::CoronaryRest {
                                let full = endpoint_view();
                                view.cdfr = full.cdfr;
                                view.rows = full.rows;
                                view.baseline_loop = full.baseline_loop;
                                view.post_loop = full.post_loop;
                            }
                        }
                    }
                }
                self.effects.extend(effects);
                self.forms.message = None;
            }
            Err(refusal) => self.forms.message = Some(refusal.to_string()),
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui) {
        if self.state.case.is_none() {
            if let Some(StartChoice::NewCase(event)) = start_ui(
                ui,
                &mut self.forms.start,
                &[],
                &mut CaseUploads {
                    status: &UploadStatus::default(),
                    reason: &mut String::new(),
                    actions: Vec::new(),
                },
                self.forms.message.as_deref(),
            ) {
                self.apply(event);
            }
            return;
        }
        let view = ProtocolView {
            state: &self.state,
            live: &self.live,
            endpoints: self.endpoints.as_ref(),
            now: Utc::now(),
            recording: self.recording,
        };
        if let Some(PanelRequest::Event(event)) = protocol_panels_ui(ui, view, &mut self.forms) {
            self.apply(event);
        }
        if shows_live_traces(self.state.current, self.recording) {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label("live traces");
            });
        }
    }
}

/// What the app shows for a saved window of `kind`: the names and units of `app::endpoints`' rows for that kind
/// (as the case's endpoint table names them), valued `first`, `first + 1`, ... so that each number's text is unique.
fn bench_window_numbers(step: StepId, kind: WindowKind, first: f64) -> WindowNumbers {
    let rows: &[(&str, Unit)] = match kind {
        WindowKind::CoronaryRest => &[
            ("APV", Unit::CmPerS),
            ("Diastolic APV", Unit::CmPerS),
            ("Pd/Pa", Unit::Ratio),
            ("Heart rate (coronary)", Unit::PerMin),
            ("BMR", Unit::Resistance),
            ("WFP-MR", Unit::Resistance),
        ],
        WindowKind::CoronaryHyperaemia => &[
            ("APV", Unit::CmPerS),
            ("Pd/Pa", Unit::Ratio),
            ("BMR (HMR)", Unit::Resistance),
            (
                "BMR, back-pressure corrected (Pd - LVEDP) (HMR)",
                Unit::Resistance,
            ),
        ],
        WindowKind::CoronaryRestMinimumSupport => &[
            ("APV", Unit::CmPerS),
            ("Diastolic APV", Unit::CmPerS),
            ("Pd/Pa", Unit::Ratio),
            ("Heart rate (coronary)", Unit::PerMin),
            ("BMR", Unit::Resistance),
        ],
        WindowKind::PvSteady => &[
            ("LVEDP", Unit::Mmhg),
            ("EDV", Unit::Ml),
            ("ESV", Unit::Ml),
            ("EF", Unit::Percent),
            ("dP/dt max", Unit::MmhgPerS),
            ("tau (Weiss)", Unit::Ms),
            ("Heart rate (PV)", Unit::PerMin),
        ],
        WindowKind::PvPreloadReduction => &[
            ("Ees", Unit::MmhgPerMl),
            ("V0 (ESPVR)", Unit::Ml),
            ("ESPVR r2", Unit::Ratio),
            ("EDPVR beta", Unit::PerMl),
            ("PRSW Mw", Unit::Mmhg),
        ],
    };
    WindowNumbers {
        step,
        kind,
        numbers: rows
            .iter()
            .enumerate()
            .map(|(i, (name, unit))| WindowNumber {
                name: (*name).to_owned(),
                value: Some(first + i as f64),
                unit: *unit,
                ci95: None,
                method: "bench".to_owned(),
                note: None,
            })
            .collect(),
    }
}

/// The screen a `width`x`height` pixel screen is in points once the app has scaled the UI to it
/// ([`heracles::ui::theme::zoom_for`]; the app's zoom, which kittest does not apply to the screen's size itself).
fn points_screen(width: f32, height: f32) -> egui::Rect {
    let pixels = egui::vec2(width, height);
    egui::Rect::from_min_size(egui::Pos2::ZERO, pixels / heracles::ui::theme::zoom_for(pixels))
}

/// The bench on a `width`x`height` pixel screen, scaled as the app scales the UI to it.
fn harness(width: f32, height: f32) -> Harness<'static, Bench> {
    let screen = points_screen(width, height);
    Harness::builder()
        .with_size(screen.size())
        .with_pixels_per_point(width / screen.width())
        .build_ui_state(
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
            irregular_rhythm: false,
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

/// Records the measurement context of the baseline coronary step: mid LAD, zeroed, equalised at 1.00.
fn record_context(harness: &mut Harness<'_, Bench>) {
    click(harness, "LAD");
    click(harness, "mid");
    click(harness, "Pressures zeroed at mid-chest level");
    click(harness, "Record measurement context");
    assert!(harness.state().state.coronary_context.is_some());
}

fn capture_and_save(harness: &mut Harness<'_, Bench>, button: &str) {
    click(harness, button);
    assert!(harness.state().state.capture.as_ref().unwrap().running());
    harness.get_by_label("Stop capture F5");
    let_capture_run(harness);
    harness.get_by_label("Steady window");
    // Steady heart rate and flow read as no drift, never "+0" or "-0.00".
    harness.get_by_label("Heart rate 75 /min, drift 0 %");
    harness.get_by_label("ECMO flow 3.50 L/min, drift 0.00 L/min");
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
    record_context(&mut harness);

    tick_checklist(&mut harness);
    capture_and_save(&mut harness, "Capture F5");
    next(&mut harness, StepId::BaselinePv);

    tick_checklist(&mut harness);
    capture_and_save(&mut harness, "Capture F5");
    capture_and_save(&mut harness, "Capture preload-reduction PV window");
    next(&mut harness, StepId::Randomisation);

    click(&mut harness, "Impella");
    type_into(&mut harness, "Randomisation reference", "RND-0012");
    // The time is typed as the wall clock shows it, and the form says which zone that is.
    harness.get_by_label_contains("local time, UTC");
    // No time is filled in for the operator: the trial system's time is typed (or Now pressed).
    click(&mut harness, "Record allocation");
    assert!(harness.state().state.allocation.is_none());
    harness.get_by_label_contains("enter the allocation time the trial system gave");
    type_into(&mut harness, "Allocation time (HH:MM)", "00:01");
    click(&mut harness, "Record allocation");
    let allocation = harness.state().state.allocation.clone().unwrap();
    assert_eq!(allocation.reference, "RND-0012");
    let local = allocation.allocated_utc.with_timezone(&chrono::Local);
    assert_eq!(local.format("%H:%M").to_string(), "00:01");
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

/// Asserts that every checklist item of the current step lies on a `width`x`height` screen above the action bar,
/// without anything scrolled to it, and that the live traces are in view beside it.
fn assert_checklist_in_view(harness: &Harness<'_, Bench>, width: f32, height: f32) {
    let step = harness.state().state.current;
    let screen = points_screen(width, height);
    let bar_top = harness.get_by_label("Next F8").rect().top();
    for item in heracles::protocol::guide(step).checklist {
        let rect = harness.get_by_label(item).rect();
        assert!(
            screen.contains_rect(rect) && rect.bottom() <= bar_top,
            "{step:?}: \"{item}\" at {rect:?} is hidden on a {width}x{height} screen (action bar at {bar_top})"
        );
    }
    // (The bench's traces are a label at the top left of the space left to them.)
    let traces = harness.get_by_label("live traces").rect();
    assert!(
        screen.contains_rect(traces) && traces.left() < screen.width() * 0.6,
        "{step:?}: traces at {traces:?}"
    );
    // No text of the step panel runs under the traces: every label that starts in it wraps or ends inside it.
    let clipped: Vec<String> = harness
        .query_all_by(|node| node.bounding_box().is_some() && node.role() != egui::accesskit::Role::Window)
        .filter(|node| {
            let rect = node.rect();
            rect.left() < traces.left() && rect.top() < bar_top && rect.right() > traces.left() + 1.0
        })
        .map(|node| {
            let text = node.accesskit_node().label().or(node.accesskit_node().value());
            format!("{:?} {text:?} at {:?}", node.accesskit_node().role(), node.rect())
        })
        .collect();
    assert!(
        clipped.is_empty(),
        "{step:?}: clipped at {}: {clipped:?}",
        traces.left()
    );
    // Words for the operator: no document references, no raw event JSON.
    for jargon in ["ENDPOINTS.md", "{\""] {
        assert!(
            harness.query_by_label_contains(jargon).is_none(),
            "{step:?}: {jargon} shown"
        );
    }
}

/// Asserts that every number of every window saved in the current step lies on a `width`x`height` screen, in the
/// step panel's view: under the step list's header, above the pinned checklist (and the action bar), found by its
/// text (each bench number's text is unique), with the step's panel as it opens (scrolled to its title: the
/// operator has not gone looking for them).
fn assert_window_numbers_in_view(harness: &mut Harness<'_, Bench>, width: f32, height: f32) {
    let step = harness.state().state.current;
    harness
        .get_by_label(&format!("{}. {}", step as usize + 1, step.title()))
        .scroll_to_me();
    harness.run();
    let bench = harness.state();
    let screen = points_screen(width, height);
    let top = harness.get_by_label("Protocol steps").rect().bottom();
    let floor = if heracles::protocol::guide(step).checklist.is_empty() {
        harness.get_by_label("Next F8").rect().top()
    } else {
        harness.get_by_label("Checklist").rect().top()
    };
    let windows = bench.endpoints.iter().flat_map(|view| &view.windows);
    for window in windows.filter(|window| window.step == step) {
        for number in &window.numbers {
            let text = format::number(number.value.unwrap(), number.unit);
            let rect = harness.get_by_label_contains(&text).rect();
            assert!(
                screen.contains_rect(rect) && rect.top() >= top && rect.bottom() <= floor,
                "{step:?}: {} {text} of the {} at {rect:?} is hidden on a {width}x{height} screen (step panel from \
                 {top} to {floor})",
                number.name,
                window.kind.label()
            );
        }
    }
}

#[test]
fn every_checklist_item_of_every_step_is_in_view_without_scrolling_while_the_traces_stay_at_both_sizes() {
    for (width, height) in [(1366.0, 768.0), (1920.0, 1080.0)] {
        let mut harness = harness(width, height);
        harness.state_mut().recording = true;
        harness.state_mut().analyse = true;
        set_up_case(&mut harness);
        let check = |harness: &mut Harness<'_, Bench>| {
            assert_checklist_in_view(harness, width, height);
            assert_window_numbers_in_view(harness, width, height);
        };
        // Eligibility: no checklist, but the patient is on the table: the traces are in view.
        check(&mut harness);
        answer_eligible(&mut harness);
        check(&mut harness);
        next(&mut harness, StepId::Preparation);
        check(&mut harness);
        tick_checklist(&mut harness);
        type_into(&mut harness, "ECMO flow (L/min)", "3.5");
        click(&mut harness, "Record ECMO settings");
        check(&mut harness);
        next(&mut harness, StepId::BaselineCoronary);
        check(&mut harness);
        record_context(&mut harness);
        tick_checklist(&mut harness);
        capture_and_save(&mut harness, "Capture F5");
        capture_and_save(&mut harness, "Capture hyperaemic coronary window");
        // Two saved windows with their numbers: the checklist has not moved out of view.
        check(&mut harness);
        next(&mut harness, StepId::BaselinePv);
        check(&mut harness);
        tick_checklist(&mut harness);
        capture_and_save(&mut harness, "Capture F5");
        capture_and_save(&mut harness, "Capture preload-reduction PV window");
        check(&mut harness);
        next(&mut harness, StepId::Randomisation);
        check(&mut harness);
        click(&mut harness, "Impella");
        type_into(&mut harness, "Randomisation reference", "RND-0012");
        type_into(&mut harness, "Allocation time (HH:MM)", "00:01");
        click(&mut harness, "Record allocation");
        check(&mut harness);
        tick_checklist(&mut harness);
        next(&mut harness, StepId::DeviceInsertion);
        check(&mut harness);
        click(&mut harness, "P-7");
        click(&mut harness, "Record device");
        check(&mut harness);
        tick_checklist(&mut harness);
        next(&mut harness, StepId::PostCoronary);
        check(&mut harness);
        tick_checklist(&mut harness);
        capture_and_save(&mut harness, "Capture F5");
        check(&mut harness);
        // Every window this step offers: the step panel is at its fullest.
        capture_and_save(&mut harness, "Capture hyperaemic coronary window");
        check(&mut harness);
        click(&mut harness, "Impella CP P-2");
        capture_and_save(&mut harness, "Capture resting coronary window at minimum support");
        check(&mut harness);
        next(&mut harness, StepId::PostPv);
        tick_checklist(&mut harness);
        capture_and_save(&mut harness, "Capture F5");
        capture_and_save(&mut harness, "Capture preload-reduction PV window");
        check(&mut harness);
        next(&mut harness, StepId::Review);
        check(&mut harness);
        tick_checklist(&mut harness);
        next(&mut harness, StepId::SignOff);
        check(&mut harness);
    }
}

#[test]
fn a_refused_step_says_why_on_the_action_bar_without_moving_anything_above_it() {
    for (width, height) in [(1366.0, 768.0), (1920.0, 1080.0)] {
        let mut harness = harness(width, height);
        harness.state_mut().recording = true;
        set_up_case(&mut harness);
        let rects = |harness: &Harness<'_, Bench>| {
            ["2. Eligibility", "live traces", "Next F8", "Back F7"]
                .map(|label| harness.get_by_label(label).rect())
        };
        let before = rects(&harness);
        // Nothing answered yet: Next is refused, with the reason.
        click(&mut harness, "Next F8");
        assert_eq!(harness.state().state.current, StepId::Eligibility);
        let message = harness.state().forms.message.clone().expect("a refusal");
        let shown = harness.get_by_label(&message).rect();
        assert!(
            points_screen(width, height).contains_rect(shown),
            "{message} at {shown:?}"
        );
        assert_eq!(
            rects(&harness),
            before,
            "the layout moved when the refusal appeared"
        );
    }
}

#[test]
fn enter_in_a_forms_text_field_submits_the_form() {
    let mut harness = harness(1366.0, 768.0);
    let enter = |harness: &mut Harness<'_, Bench>| {
        harness.key_press(egui::Key::Enter);
        harness.run();
    };
    // The case id: Enter creates the case.
    click(&mut harness, "St Thomas' Hospital");
    type_into(&mut harness, "Operator", "Dr Test");
    type_into(&mut harness, "Case id", "HER-STH-0012");
    enter(&mut harness);
    assert_eq!(harness.state().state.current, StepId::Eligibility);
    answer_eligible(&mut harness);
    next(&mut harness, StepId::Preparation);
    // The ECMO flow: Enter records the settings.
    type_into(&mut harness, "ECMO flow (L/min)", "3.5");
    enter(&mut harness);
    assert_eq!(harness.state().state.ecmo.map(|e| e.flow_l_min), Some(3.5));
    // The measurement context: Enter in the wire position records it.
    tick_checklist(&mut harness);
    next(&mut harness, StepId::BaselineCoronary);
    click(&mut harness, "LAD");
    click(&mut harness, "mid");
    click(&mut harness, "Pressures zeroed at mid-chest level");
    type_into(&mut harness, "Wire position", "past D1");
    enter(&mut harness);
    let context = harness.state().state.coronary_context.clone();
    assert_eq!(
        context.map(|c| c.wire_position),
        Some("past D1".to_owned()),
        "{:?}",
        harness.state().forms.message
    );
}

#[test]
fn the_eligibility_verdict_counts_what_is_left_in_words_one_criterion_not_one_criteria() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    harness.get_by_label(&format!("{} criteria still to answer", Criterion::ALL.len()));
    for criterion in &Criterion::ALL[1..] {
        let answer = if criterion.kind() == CriterionKind::Inclusion {
            "yes"
        } else {
            "no"
        };
        click(&mut harness, &format!("{}: {answer}", criterion.text()));
    }
    harness.get_by_label("1 criterion still to answer");
}

#[test]
fn each_eligibility_criterion_reads_on_the_line_of_its_answers() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    let pixels_per_point = harness.ctx.pixels_per_point();
    let mut checked = 0;
    for criterion in Criterion::ALL {
        let text = harness.get_by_label(criterion.text()).rect();
        // One line of body text (a long criterion wraps on below its first line).
        if text.height() > 1.5 * heracles::ui::theme::BODY_SIZE {
            continue;
        }
        for answer in ["yes", "no"] {
            let button = harness
                .get_by_label(&format!("{}: {answer}", criterion.text()))
                .rect();
            let dy = (text.center().y - button.center().y) * pixels_per_point;
            assert!(
                dy.abs() <= 1.0,
                "\"{}\" sits {dy:.1} px off the line of its {answer} button",
                criterion.text()
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} criteria checked");
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
    record_context(&mut harness);
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
        let screen = points_screen(width, height);
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
        assert!(traces.left() < screen.width() * 0.5, "{traces:?}");
    }
}

fn endpoint_view() -> EndpointView {
    let row = |section: &str, name: &str, unit: Unit, baseline: Option<f64>, post: Option<f64>| EndpointRow {
        section: section.into(),
        name: name.into(),
        unit,
        baseline,
        post,
        change: baseline.zip(post).map(|(b, p)| p - b),
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
                "Minimal MR (BMR)",
                Unit::Resistance,
                Some(2.5),
                Some(1.9),
            ),
            // The longest name the case's table has, with the widest unit.
            row(
                "Microvascular resistance",
                "BMR, back-pressure corrected (Pd - LVEDP)",
                Unit::Resistance,
                Some(2.65),
                Some(2.9),
            ),
            row("Coronary", "Pd/Pa", Unit::Ratio, Some(0.9312), Some(0.93061)),
            row("Pressure-volume", "LVEDP", Unit::Mmhg, Some(24.0), Some(14.0)),
            row("Pressure-volume", "PVA", Unit::MmhgMl, Some(5000.0), None),
        ],
        windows: Vec::new(),
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
    harness.get_by_label("-10 (-42 %)"); // LVEDP 24 -> 14, mmHg whole (the one notation policy)
    // A change at the precision of the values beside it: Pd/Pa 0.93 -> 0.93 changed by 0.00, not by -5.9e-4.
    harness.get_by_label("0.00 (0 %)");
    harness.get_by_label("no value"); // PVA post
    // Every number explains its method on hover.
    harness.get_by_label("1.42").hover();
    harness.run();
    harness.get_by_label("APV post / APV baseline");
}

#[test]
fn the_endpoints_follow_the_step_once_a_post_window_exists() {
    let mut harness = harness(1366.0, 768.0);
    set_up_case(&mut harness);
    answer_eligible(&mut harness);
    next(&mut harness, StepId::Preparation);
    assert!(harness.query_by_label("Endpoints so far").is_none());
    harness.state_mut().endpoints = Some(endpoint_view());
    harness.run();
    harness.get_by_label("Endpoints so far");
}

/// Walks the case on from where it is (a new one is set up first) to `target` the shortest way: every checklist
/// ticked, the measurement context recorded, each required window captured, an Impella at P-7.
fn walk_to(harness: &mut Harness<'_, Bench>, target: StepId) {
    if harness.state().state.case.is_none() {
        set_up_case(harness);
        answer_eligible(harness);
    }
    while harness.state().state.current != target {
        let step = harness.state().state.current;
        match step {
            StepId::Preparation => {
                type_into(harness, "ECMO flow (L/min)", "3.5");
                click(harness, "Record ECMO settings");
            }
            StepId::BaselineCoronary if harness.state().state.coronary_context.is_none() => {
                record_context(harness)
            }
            StepId::Randomisation => {
                click(harness, "Impella");
                type_into(harness, "Randomisation reference", "RND-0012");
                type_into(harness, "Allocation time (HH:MM)", "00:01");
                click(harness, "Record allocation");
            }
            StepId::DeviceInsertion => {
                click(harness, "P-7");
                click(harness, "Record device");
            }
            _ => {}
        }
        let record = harness.state().state.record(step);
        let items = heracles::protocol::guide(step).checklist.len();
        if (0..items).any(|item| !record.checklist.get(item).copied().unwrap_or(false)) {
            tick_checklist(harness);
        }
        let captured = !harness.state().state.record(step).windows.is_empty();
        if heracles::protocol::required_window(step).is_some() && !captured {
            capture_and_save(harness, "Capture F5");
        }
        next(harness, StepId::ALL[step as usize + 1]);
    }
}

/// Asserts that the current step's capture (its progress bar while it runs, its beats, `labels`) lies on a
/// `width`x`height` screen in the step panel's view, above the pinned checklist, with the step's panel as it
/// opens (scrolled to its title: the operator watching the capture has not gone looking for it).
fn assert_capture_in_view(harness: &mut Harness<'_, Bench>, width: f32, height: f32, labels: &[&str]) {
    let step = harness.state().state.current;
    harness
        .get_by_label(&format!("{}. {}", step as usize + 1, step.title()))
        .scroll_to_me();
    harness.run();
    let screen = points_screen(width, height);
    let top = harness.get_by_label("Protocol steps").rect().bottom();
    let floor = harness.get_by_label("Checklist").rect().top();
    let running = harness
        .state()
        .state
        .capture
        .as_ref()
        .is_some_and(|c| c.running());
    let mut shown: Vec<(String, egui::Rect)> = labels
        .iter()
        .map(|label| (label.to_string(), harness.get_by_label_contains(label).rect()))
        .collect();
    shown.push(("Beats: ".into(), harness.get_by_label_contains("Beats: ").rect()));
    if running {
        let progress = harness.get_by_role(egui::accesskit::Role::ProgressIndicator);
        let text = progress.accesskit_node().label().unwrap_or_default();
        assert!(text.contains(" of "), "{text}");
        shown.push((text, progress.rect()));
    }
    for (label, rect) in shown {
        assert!(
            screen.contains_rect(rect) && rect.top() >= top && rect.bottom() <= floor,
            "{step:?}: the capture's \"{label}\" at {rect:?} is out of view on a {width}x{height} screen (step \
             panel from {top} to {floor})"
        );
    }
}

#[test]
fn a_running_capture_and_its_progress_stay_in_view_without_scrolling_at_both_sizes() {
    for (width, height) in [(1366.0, 768.0), (1920.0, 1080.0)] {
        let mut harness = harness(width, height);
        harness.state_mut().recording = true;
        harness.state_mut().analyse = true;
        walk_to(&mut harness, StepId::BaselineCoronary);
        // The context form still open (the longest step panel): the capture is started from the action bar.
        tick_checklist(&mut harness);
        click(&mut harness, "Capture F5");
        assert_capture_in_view(
            &mut harness,
            width,
            height,
            &["Capturing the resting coronary window"],
        );
        let_capture_run(&mut harness);
        assert_capture_in_view(&mut harness, width, height, &["Save window", "Steady window"]);
        click(&mut harness, "Save window");
        walk_to(&mut harness, StepId::PostCoronary);
        tick_checklist(&mut harness);
        capture_and_save(&mut harness, "Capture F5");
        capture_and_save(&mut harness, "Capture hyperaemic coronary window");
        // Two saved windows' numbers pinned already, and the minimum-support line: the capture still in view.
        click(&mut harness, "Impella CP P-2");
        click(&mut harness, "Capture resting coronary window at minimum support");
        assert_capture_in_view(
            &mut harness,
            width,
            height,
            &["Capturing the resting coronary window at minimum"],
        );
        let_capture_run(&mut harness);
        assert_capture_in_view(&mut harness, width, height, &["Save window", "Discard"]);
    }
}

#[test]
fn a_long_endpoint_name_is_cut_before_its_unit_and_the_unit_stays_in_view() {
    let (width, height) = (1366.0, 768.0);
    let mut harness = harness(width, height);
    harness.state_mut().recording = true;
    walk_to(&mut harness, StepId::Review);
    harness.state_mut().endpoints = Some(endpoint_view());
    harness.run();
    // The longest name of the case's table, with the widest unit: its name is one label, its unit another.
    let name = harness
        .query_by_label("BMR, back-pressure corrected (Pd - LVEDP)")
        .expect("the name is a label of its own, its unit beside it")
        .rect();
    let baseline = harness.get_by_label("2.65").rect();
    let traces = harness.get_by_label("live traces").rect();
    let unit = harness
        .query_all_by_label("mmHg.s/cm")
        .map(|node| node.rect())
        .find(|rect| rect.top() < name.bottom() && rect.bottom() > name.top())
        .expect("the unit on the long name's row");
    assert!(
        points_screen(width, height).contains_rect(unit)
            && unit.left() >= name.left()
            && unit.right() <= baseline.left()
            && unit.right() <= traces.left(),
        "the unit at {unit:?} is cut off or out of its cell (name at {name:?}, baseline value at {baseline:?}, \
         traces from {})",
        traces.left()
    );
}

// ---------------------------------------------------------------------------------------------------------------
// The whole demo case through the real app: engine, simulated patient, case writer, recorder, analysis.

/// The simulated patient as a source running `SPEED` times faster than real time, steered like the real one.
struct FastPatient {
    simulator: heracles::sim::Simulator,
    controls: std::sync::mpsc::Receiver<heracles::sim::Control>,
}

/// How much faster than real time the test patient runs.
const SPEED: f64 = 8.0;

impl heracles::acquisition::Source for FastPatient {
    fn spec(&self) -> heracles::model::SourceSpec {
        self.simulator.source_spec()
    }

    fn run(mut self: Box<Self>, sink: heracles::acquisition::SourceSink) {
        use heracles::acquisition::SourceEvent;
        let spec = self.simulator.source_spec();
        let rate_hz = spec.sample_rate_hz;
        if sink
            .send(SourceEvent::Connected {
                spec,
                first_sample: 0,
            })
            .is_err()
        {
            return;
        }
        let start = std::time::Instant::now();
        let mut num_sent = 0u64;
        while !sink.should_stop() {
            while let Ok(control) = self.controls.try_recv() {
                self.simulator.control(control);
            }
            let due = (start.elapsed().as_secs_f64() * rate_hz * SPEED) as u64;
            if num_sent + 16 <= due {
                if sink
                    .send(SourceEvent::Block(self.simulator.generate(16)))
                    .is_err()
                {
                    return;
                }
                num_sent += 16;
            } else {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}

/// The real app on the fast simulated patient, keeping its case files in `dir`, on the start screen, 1366x768.
pub(crate) fn demo_app(dir: &std::path::Path) -> Harness<'static, heracles::app::HeraclesApp> {
    demo_app_sized(dir, [1366.0, 768.0])
}

/// The real app as [`demo_app`], on a screen of `size` points.
pub(crate) fn demo_app_sized(
    dir: &std::path::Path,
    size: [f32; 2],
) -> Harness<'static, heracles::app::HeraclesApp> {
    demo_app_with_patient(dir, size).0
}

/// The real app as [`demo_app_sized`], with a line to its simulated patient (what the demo panel sends, e.g.
/// the pressure transducers open to air).
pub(crate) fn demo_app_with_patient(
    dir: &std::path::Path,
    size: [f32; 2],
) -> (
    Harness<'static, heracles::app::HeraclesApp>,
    std::sync::mpsc::SyncSender<heracles::sim::Control>,
) {
    let simulator =
        heracles::sim::Simulator::new("shock-ecmo", 7, heracles::sim::SensorLevel::Realistic).unwrap();
    let (tx, controls) = std::sync::mpsc::sync_channel(32);
    let patient = tx.clone();
    let sources: Vec<Box<dyn heracles::acquisition::Source>> =
        vec![Box::new(FastPatient { simulator, controls })];
    let dir = dir.to_owned();
    let mut harness = Harness::builder().with_size(size).build_eframe(move |cc| {
        let mut app = heracles::app::HeraclesApp::new(&cc.egui_ctx, sources).unwrap();
        app.set_data_dir(Some(dir));
        app.set_patient_control(Box::new(move |control| {
            tx.try_send(control).map_err(|error| error.to_string())
        }));
        app.handle(heracles::app::Command::ShowStart);
        app
    });
    set_window(&mut harness, size);
    (harness, patient)
}

/// Makes the harness a window of `pixels` as eframe would: the app chooses its zoom for the window, and the window
/// then measures `pixels / zoom` points (kittest keeps the size in points it was given; this applies the zoom).
pub(crate) fn set_window<State>(harness: &mut Harness<'_, State>, pixels: [f32; 2]) {
    let pixels = egui::vec2(pixels[0], pixels[1]);
    for _ in 0..4 {
        let zoom = harness.ctx.zoom_factor();
        harness.set_size(pixels / zoom);
        harness.run_steps(2);
        if harness.ctx.zoom_factor() == zoom {
            return;
        }
    }
    panic!("the zoom did not settle on a {pixels:?} window");
}

pub(crate) type App = Harness<'static, heracles::app::HeraclesApp>;

pub(crate) fn session(harness: &App) -> &heracles::app::protocol::ProtocolSession {
    harness.state().protocol().expect("a case is open")
}

/// Steps the app (the source keeps running) until `done` holds; fails after `timeout_s` of wall time.
pub(crate) fn run_until(harness: &mut App, what: &str, timeout_s: f64, done: impl Fn(&App) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(timeout_s);
    while !done(harness) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(15));
        harness.step();
    }
    harness.run_steps(2);
}

pub(crate) fn app_click(harness: &mut App, label: &str) {
    // A dialog that has just opened needs a few frames before its buttons take clicks.
    harness.run_steps(3);
    harness.get_by_label(label).scroll_to_me();
    // The live engine keeps repainting, so the UI never settles: give the scroll animation its frames.
    harness.run_steps(10);
    harness.get_by_label(label).click();
    harness.run_steps(2);
}

/// Clicks "Close case", unfolding the step list first when the traces keep it folded.
pub(crate) fn app_close_case(harness: &mut App) {
    if harness.query_by_label("Close case").is_none() {
        app_click(harness, "Protocol steps");
    }
    app_click(harness, "Close case");
}

pub(crate) fn app_type(harness: &mut App, label: &str, text: &str) {
    app_click(harness, label);
    harness.get_by_label(label).type_text(text);
    harness.run_steps(2);
}

pub(crate) fn app_tick_checklist(harness: &mut App) {
    for item in heracles::protocol::guide(session(harness).state.current).checklist {
        app_click(harness, item);
    }
}

pub(crate) fn app_next(harness: &mut App, expected: StepId) {
    app_click(harness, "Next F8");
    let message = session(harness).forms.message.clone();
    assert_eq!(session(harness).state.current, expected, "{message:?}");
}

/// Records the measurement context of the baseline coronary step: mid LAD past D1, zeroed, equalised at 1.00.
pub(crate) fn app_record_context(harness: &mut App) {
    app_click(harness, "LAD");
    app_click(harness, "mid");
    app_type(harness, "Wire position", "past D1");
    app_click(harness, "Pressures zeroed at mid-chest level");
    app_click(harness, "Record measurement context");
    let message = session(harness).forms.message.clone();
    assert!(session(harness).state.coronary_context.is_some(), "{message:?}");
}

/// Answers every eligibility criterion so that the patient is eligible.
pub(crate) fn app_answer_eligible(harness: &mut App) {
    for criterion in Criterion::ALL {
        let answer = if criterion.kind() == CriterionKind::Inclusion {
            "yes"
        } else {
            "no"
        };
        app_click(harness, &format!("{}: {answer}", criterion.text()));
    }
}

/// Ticks the preparation checklist and records the ECMO settings (3.5 L/min, 3400 rpm).
pub(crate) fn app_record_ecmo(harness: &mut App) {
    app_tick_checklist(harness);
    app_type(harness, "ECMO flow (L/min)", "3.5");
    app_type(harness, "ECMO pump speed (rpm)", "3400");
    app_click(harness, "Record ECMO settings");
}

/// Records an allocation to the Impella (reference DEMO-RND-1) and ticks the randomisation checklist.
pub(crate) fn app_allocate_impella(harness: &mut App) {
    app_click(harness, "Impella");
    app_type(harness, "Randomisation reference", "DEMO-RND-1");
    app_click(harness, "Now");
    app_click(harness, "Record allocation");
    app_tick_checklist(harness);
}

/// Records an Impella CP at P-8 (displayed flow 3.1 L/min) and ticks the device checklist.
pub(crate) fn app_insert_impella_p8(harness: &mut App) {
    app_click(harness, "P-8");
    app_type(harness, "Impella flow (L/min)", "3.1");
    app_click(harness, "Record device");
    app_tick_checklist(harness);
}

/// Captures a window with `button`, waits for it to stop by itself, saves it and waits for its analysis.
pub(crate) fn app_capture(harness: &mut App, button: &str) {
    app_click(harness, button);
    app_finish_capture(harness);
}

/// Waits for a running capture to stop by itself, saves it and waits for its analysis.
pub(crate) fn app_finish_capture(harness: &mut App) {
    let num_windows = session(harness).windows().len();
    run_until(harness, "the capture to stop by itself", 60.0, |h| {
        session(h)
            .state
            .capture
            .as_ref()
            .is_some_and(|capture| !capture.running())
    });
    let capture = session(harness).state.capture.clone().unwrap();
    let target_reached = heracles::protocol::FinishReason::TargetReached;
    assert!(
        matches!(capture.status, heracles::protocol::CaptureStatus::Finished { reason, .. } if reason == target_reached),
        "{:?}",
        capture.quality
    );
    app_click(harness, "Save window");
    run_until(harness, "the window's analysis", 60.0, |h| {
        session(h).windows().len() > num_windows
    });
}

/// The value of `name` of the newest window saved in `step`, once it is on screen in the step's table of saved
/// windows (its name, its unit, its value as the notation policy writes it).
fn app_window_number(harness: &mut App, step: StepId, name: &str) -> f64 {
    harness.run_steps(2);
    let endpoints = session(harness).endpoints().cloned().unwrap();
    let window = endpoints.windows.iter().rev().find(|w| w.step == step).unwrap();
    let number = window.numbers.iter().find(|n| n.name.starts_with(name));
    let Some((number, value)) = number.and_then(|n| Some((n, n.value?))) else {
        panic!("no {name} under the window: {:?}", window.numbers);
    };
    // The name and its unit beside it, each a label of its own (a long name is cut, never its unit).
    for text in [number.name.as_str(), number.unit.symbol()]
        .into_iter()
        .filter(|t| !t.is_empty())
    {
        assert!(harness.query_all_by_label(text).count() > 0, "{text} not shown");
    }
    let shown = format::number(value, number.unit);
    assert!(
        harness.query_all_by_label(&shown).count() > 0,
        "{shown} not shown"
    );
    value
}

/// Lets the simulated patient run for `seconds` of its time.
pub(crate) fn app_wait(harness: &mut App, seconds: f64) {
    let until = heracles::app::protocol::moment_now(&harness.state().engine().lock()).recording_s + seconds;
    run_until(
        harness,
        "the patient to settle",
        seconds / SPEED * 3.0 + 5.0,
        |h| heracles::app::protocol::moment_now(&h.state().engine().lock()).recording_s >= until,
    );
}

/// Asserts that in the review step's endpoint table each of the first rows' name sits on the line of its
/// baseline value: their centres within 1 px (a name laid out from the middle of its row sat half a row low).
fn assert_endpoint_rows_aligned(harness: &App) {
    let rows = session(harness).endpoints().unwrap().rows.clone();
    let pixels_per_point = harness.ctx.pixels_per_point();
    let traces_left = harness.get_by_label_contains("Traces:").rect().left();
    let mut checked = 0;
    for row in rows.iter().filter(|row| row.baseline.is_some()).take(4) {
        let value = format::number(row.baseline.unwrap(), row.unit);
        let names: Vec<egui::Rect> = harness
            .get_all_by_label(&row.name)
            .map(|node| node.rect())
            .filter(|rect| rect.right() < traces_left)
            .collect();
        assert!(!names.is_empty(), "no row named {}", row.name);
        for name in names {
            let nearest_dy = harness
                .get_all_by_label(&value)
                .map(|node| node.rect())
                .filter(|rect| rect.left() > name.right() && rect.right() < traces_left)
                .map(|rect| (rect.center().y - name.center().y) * pixels_per_point)
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap_or_else(|| panic!("no baseline value {value} beside {}", row.name));
            assert!(
                nearest_dy.abs() <= 1.0,
                "{}: its baseline value {value} sits {nearest_dy:.1} px off its name's line",
                row.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} rows checked");
    // The CDFR's name and its interval on the line of its large number.
    let Some(Ok(cdfr)) = session(harness).endpoints().unwrap().cdfr.clone() else {
        panic!("no CDFR")
    };
    let number = harness
        .get_all_by_label(&format::number(cdfr.value, Unit::Ratio))
        .map(|node| node.rect())
        .find(|rect| rect.right() < traces_left)
        .expect("the CDFR's number");
    let name = harness
        .get_all_by_label("CDFR")
        .map(|node| node.rect())
        .find(|rect| rect.right() <= number.left())
        .expect("CDFR before its number");
    let interval = harness
        .get_by_label(&format::interval(
            cdfr.ci95.map(|(low, high)| [low, high]).unwrap(),
            Unit::Ratio,
        ))
        .rect();
    for (what, rect) in [("CDFR", name), ("its interval", interval)] {
        let dy = (rect.center().y - number.center().y) * pixels_per_point;
        assert!(
            dy.abs() <= 1.0,
            "{what} sits {dy:.1} px off the CDFR number's line"
        );
    }
}

#[test]
fn a_whole_demo_case_walks_from_the_start_screen_to_sign_off_and_lands_in_the_case_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());
    app_type(&mut harness, "Operator", "trainee A");
    app_click(&mut harness, "Start demo case");
    run_until(&mut harness, "the case file", 10.0, |h| {
        h.state().protocol().is_some_and(|p| p.path().is_some())
    });
    assert_eq!(
        session(&harness).state.case.as_ref().unwrap().case_id.to_string(),
        "HER-DEM-0001"
    );
    run_until(&mut harness, "the recording indicator", 10.0, |h| {
        h.query_by_label("RECORDING").is_some()
    });

    app_answer_eligible(&mut harness);
    app_next(&mut harness, StepId::Preparation);

    app_record_ecmo(&mut harness);
    app_next(&mut harness, StepId::BaselineCoronary);
    app_record_context(&mut harness);
    // Recorded, the context folds to one line: the step's checklist stays in view at 1366x768.
    harness.get_by_label_contains("Recorded: mid LAD, wire past D1");
    app_on_screen(
        &harness,
        [1366.0, 768.0],
        heracles::protocol::guide(StepId::BaselineCoronary).checklist,
    );

    app_tick_checklist(&mut harness);
    app_capture(&mut harness, "Capture F5");
    // What the window measured shows under it at once: the endpoint table's number, with its unit.
    let apv = app_window_number(&mut harness, StepId::BaselineCoronary, "APV");
    let table_apv = session(&harness)
        .endpoints()
        .unwrap()
        .rows
        .iter()
        .find(|r| r.name == "APV")
        .unwrap()
        .baseline;
    assert_eq!(Some(apv), table_apv);
    app_next(&mut harness, StepId::BaselinePv);
    app_tick_checklist(&mut harness);
    app_capture(&mut harness, "Capture F5");
    app_window_number(&mut harness, StepId::BaselinePv, "LVEDP");
    // A preload reduction (the simulated patient's IVC occlusion): the case's ESPVR and V0.
    app_capture(&mut harness, "Capture preload-reduction PV window");
    let ees = app_window_number(&mut harness, StepId::BaselinePv, "Ees");
    assert!(ees > 0.0, "{ees}");
    // Under it its regression's 95 % interval, as CDFR's is written.
    let endpoints = session(&harness).endpoints().cloned().unwrap();
    let ees_ci = endpoints
        .windows
        .iter()
        .rev()
        .find(|w| w.step == StepId::BaselinePv)
        .and_then(|w| w.numbers.iter().find(|n| n.name.starts_with("Ees")))
        .and_then(|n| n.ci95)
        .unwrap_or_else(|| panic!("Ees has no 95 % interval: {:?}", endpoints.windows));
    let shown = format::interval(ees_ci, Unit::MmhgPerMl);
    assert!(
        harness.query_all_by_label(&shown).count() > 0,
        "{shown} not shown"
    );
    app_wait(&mut harness, 5.0);
    app_next(&mut harness, StepId::Randomisation);

    app_allocate_impella(&mut harness);
    app_next(&mut harness, StepId::DeviceInsertion);

    app_insert_impella_p8(&mut harness);
    // The simulated patient now has the Impella; let it reach its new steady state.
    app_wait(&mut harness, 20.0);
    app_next(&mut harness, StepId::PostCoronary);
    // The baseline's vessel is shown where the post-unloading capture must match it.
    harness.get_by_label("Same vessel as baseline?");
    harness.get_by_label("Baseline: mid LAD, wire past D1; Pd/Pa 1.00 at equalisation; pressures zeroed");

    app_tick_checklist(&mut harness);
    app_capture(&mut harness, "Capture F5");
    run_until(&mut harness, "the CDFR", 30.0, |h| {
        session(h)
            .endpoints()
            .is_some_and(|endpoints| endpoints.cdfr.is_some())
    });
    app_next(&mut harness, StepId::PostPv);
    // The baseline loop stays on screen, grey behind the live loops, to compare against.
    harness.get_by_label("grey: baseline loop (VA-ECMO alone)");
    assert!(!session(&harness).endpoints().unwrap().baseline_loop.is_empty());
    app_tick_checklist(&mut harness);
    app_capture(&mut harness, "Capture F5");
    app_next(&mut harness, StepId::Review);
    assert!(harness.query_all_by_label("CDFR").count() > 0);
    assert_endpoint_rows_aligned(&harness);
    app_tick_checklist(&mut harness);
    app_next(&mut harness, StepId::SignOff);

    app_click(&mut harness, "Sign off case");
    let message = session(&harness).forms.message.clone();
    assert!(session(&harness).state.pending.is_some(), "{message:?}");
    harness.run_steps(3);
    harness.get_by_label("Signing off stops the recording of this case.");
    app_click(&mut harness, "Confirm sign-off");
    assert!(session(&harness).state.signed_off.is_some());
    // The signature ends the recording (nothing more is saved in a signed-off case).
    assert!(!harness.state().engine().lock().recording.active);
    let path = session(&harness).path().unwrap().to_owned();
    let endpoints = session(&harness).endpoints().cloned().unwrap();
    run_until(
        &mut harness,
        "the protocol records to be handed over",
        10.0,
        |h| session(h).num_unwritten() == 0,
    );
    // Not recording any more: closing asks nothing.
    app_click(&mut harness, "Close case");
    assert!(harness.state().protocol().is_none());

    // The review, under the operator's name, finds the bedside signature valid: the protocol's own end-of-step
    // record came before it, and nothing since changed a result.
    wait_for_the_writer(&path);
    harness
        .state_mut()
        .handle(heracles::app::Command::ChooseReviewCase);
    harness.run_steps(3);
    app_click(&mut harness, "HER-DEM-0001");
    run_until(&mut harness, "the review to load", 60.0, |h| {
        h.state()
            .review_screen()
            .is_some_and(|screen| screen.snapshot().is_some() && !screen.busy())
    });
    harness.get_by_label("Reviewer: trainee A");
    harness.get_by_label("Status: signed off by trainee A");
    app_click(&mut harness, "Sign-off");
    harness.get_by_label("VALID");
    assert!(harness.query_by_label("INVALIDATED").is_none());
    harness.get_by_label_contains("Signed by trainee A as operator");
    let snapshot = harness.state().review_screen().unwrap().snapshot().unwrap();
    assert!(
        snapshot.events.iter().all(|event| !event.text.contains("{\"")),
        "raw JSON among the markers"
    );
    assert!(
        snapshot
            .events
            .iter()
            .any(|event| event.text == "Case HER-DEM-0001 set up by trainee A"),
        "{:?}",
        snapshot.events.iter().map(|e| &e.text).collect::<Vec<_>>()
    );
    let trail = heracles::store::CaseFile::open_read_only(&path)
        .unwrap()
        .audit_trail()
        .unwrap();
    // Every action by a person carries the operator's name; the recorder's own rows (gaps, chain anchors) say
    // they are the recorder's.
    assert!(
        trail.iter().all(|entry| entry.who == "trainee A"
            || (entry.who == "recorder"
                && heracles::store::RECORDER_ACTIONS.contains(&entry.action.as_str()))),
        "every action carries the operator's name: {:?}",
        trail
            .iter()
            .map(|e| &e.who)
            .collect::<std::collections::BTreeSet<_>>()
    );
    harness.state_mut().handle(heracles::app::Command::CloseReview);

    // The case file holds what was done.
    let file = heracles::store::CaseFile::open_read_only(&path).unwrap();
    let summary = file.summary().unwrap();
    assert_eq!(summary.allocation, Some(heracles::store::Allocation::Impella));
    assert_eq!(summary.allocation_reference.as_deref(), Some("DEMO-RND-1"));
    assert_eq!(summary.status, "signed_off");
    // The allocation time is the follow-up's day 0: the review does not ask for it again.
    let follow_up =
        heracles::review::follow_up::FollowUpForm::from_records(&file.follow_ups().unwrap()).unwrap();
    let randomised = follow_up
        .randomised()
        .expect("the randomisation time from the allocation");
    assert!(
        (chrono::Utc::now() - randomised).num_minutes().abs() < 10,
        "{randomised}"
    );
    let steps = file.steps().unwrap();
    let recorded: Vec<StepId> = steps.iter().map(|step| step.step).collect();
    assert_eq!(recorded, StepId::ALL, "every step, once, in order");
    assert!(
        steps.iter().all(|step| step.ended_utc.is_some()),
        "every step ended"
    );
    let device_step = steps
        .iter()
        .find(|step| step.step == StepId::DeviceInsertion)
        .unwrap();
    let Some(UnloadingDevice::Impella(impella)) = device_step.device else {
        panic!("{device_step:?}")
    };
    assert_eq!((impella.p_level, impella.displayed_flow_l_min), (8, Some(3.1)));
    assert_eq!(device_step.ecmo.unwrap().rpm, Some(3400.0));
    let windows = file.analysis_windows().unwrap();
    let window_steps: Vec<Option<StepId>> = windows.iter().map(|window| window.step).collect();
    assert_eq!(
        window_steps,
        [
            StepId::BaselineCoronary,
            StepId::BaselinePv,
            StepId::BaselinePv,
            StepId::PostCoronary,
            StepId::PostPv
        ]
        .map(Some)
    );
    // The protocol stores each window's kind as review reads it (the same `WindowKind` key).
    let kinds: Vec<Option<WindowKind>> = windows.iter().map(window_kind).collect();
    assert_eq!(
        kinds,
        [
            WindowKind::CoronaryRest,
            WindowKind::PvSteady,
            WindowKind::PvPreloadReduction,
            WindowKind::CoronaryRest,
            WindowKind::PvSteady
        ]
        .map(Some)
    );
    assert!(
        windows
            .iter()
            .all(|window| WindowKind::from_key(&window.method).is_some())
    );
    for window in &windows {
        assert!(window.end_s - window.start_s >= 15.0, "{window:?}");
        assert!(
            file.beats(window.id)
                .unwrap()
                .iter()
                .filter(|beat| beat.accepted())
                .count()
                >= 10
        );
    }
    let results = file.results().unwrap();
    let cdfr = results.iter().find(|result| result.name == "cdfr").unwrap();
    let cdfr = &cdfr.value["cdfr"]["value"];
    let value = cdfr["cdfr"].as_f64().unwrap();
    let ci = [
        cdfr["ci95"][0].as_f64().unwrap(),
        cdfr["ci95"][1].as_f64().unwrap(),
    ];
    assert!(ci[0] <= value && value <= ci[1], "{value} outside {ci:?}");
    let events = file.events().unwrap();
    for kind in [
        "measurement_context",
        "eligibility",
        "checklist",
        "allocation",
        "device",
        "capture",
        "protocol",
    ] {
        assert!(events.iter().any(|event| event.kind == kind), "no {kind} event");
    }
    assert_eq!(file.sign_offs().unwrap().len(), 1);
    let report = file.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);

    // The physiology responds to the Impella as it should: the LV is unloaded.
    let row = |name: &str| {
        endpoints
            .rows
            .iter()
            .find(|row| row.name == name)
            .unwrap()
            .clone()
    };
    let lvedp = row("LVEDP");
    assert!(lvedp.post.unwrap() < lvedp.baseline.unwrap(), "{lvedp:?}");
    assert!(!endpoints.baseline_loop.is_empty() && !endpoints.post_loop.is_empty());
    eprintln!(
        "demo case: CDFR {value:.2} (95 % CI {:.2}-{:.2}); {lvedp:?}",
        ci[0], ci[1]
    );

    // Every number the bedside showed is the review's and the export's (issue 13).
    crate::one_path::bedside_matches_review_and_export(&path, &endpoints);

    // Reopening the case rebuilds its protocol from the file.
    let mut reopened = demo_app(dir.path());
    reopened.run_steps(4);
    // The closed case's writer may still be finishing the file on a loaded machine: the start screen lists the
    // case once it reads as a valid case file, so look again (as the operator would) until it does.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while reopened.query_by_label("Open HER-DEM-0001").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the closed case is not listed"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        reopened.state_mut().handle(heracles::app::Command::ShowStart);
        reopened.run_steps(2);
    }
    app_click(&mut reopened, "Open HER-DEM-0001");
    run_until(&mut reopened, "the reopened case", 10.0, |h| {
        h.state().protocol().is_some_and(|p| p.state.signed_off.is_some())
    });
    assert_eq!(session(&reopened).windows().len(), 5);
}

/// What the newest saved window of `kind` in `step` measured, as the step's table of saved windows shows it.
fn app_numbers_of(harness: &App, step: StepId, kind: WindowKind) -> Vec<WindowNumber> {
    let endpoints = session(harness).endpoints().cloned().unwrap();
    let window = endpoints
        .windows
        .iter()
        .rev()
        .find(|w| w.step == step && w.kind == kind);
    window.map(|w| w.numbers.clone()).unwrap_or_default()
}

#[test]
fn a_hyperaemic_window_shows_its_apv_cfr_and_hmr_at_once_and_says_in_words_when_the_resting_one_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());
    start_demo_case(&mut harness);
    app_answer_eligible(&mut harness);
    app_next(&mut harness, StepId::Preparation);
    app_record_ecmo(&mut harness);
    app_next(&mut harness, StepId::BaselineCoronary);
    app_record_context(&mut harness);
    app_tick_checklist(&mut harness);
    let (step, hyperaemia) = (StepId::BaselineCoronary, WindowKind::CoronaryHyperaemia);
    // Hyperaemia first: there is no resting window to take the reserve against yet, and the table says so.
    app_capture(&mut harness, "Capture hyperaemic coronary window");
    let numbers = app_numbers_of(&harness, step, hyperaemia);
    let number = |numbers: &[WindowNumber], name: &str| {
        numbers
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no {name} under the hyperaemic window: {numbers:?}"))
            .clone()
    };
    let apv = number(&numbers, "APV in hyperaemia");
    assert!(apv.value.is_some_and(|v| v > 0.0), "{apv:?}");
    let cfr = number(&numbers, "CFR");
    assert_eq!(cfr.value, None);
    let words = harness.get_by_label_contains("CFR: no value: no resting coronary window");
    let screen = points_screen(1366.0, 768.0);
    assert!(screen.contains_rect(words.rect()), "{:?}", words.rect());
    // Adenosine wears off; then the resting window: CFR and HMR under the hyperaemic window at once.
    app_wait(&mut harness, 20.0);
    app_capture(&mut harness, "Capture F5");
    run_until(&mut harness, "the CFR under the hyperaemic window", 10.0, |h| {
        app_numbers_of(h, step, hyperaemia)
            .iter()
            .any(|n| n.name == "CFR" && n.value.is_some())
    });
    let numbers = app_numbers_of(&harness, step, hyperaemia);
    for name in ["APV in hyperaemia", "CFR", "HMR"] {
        let shown = number(&numbers, name);
        let text = format::number(shown.value.unwrap(), shown.unit);
        harness.get_by_label(name);
        let rect = harness
            .query_all_by_label(&text)
            .map(|node| node.rect())
            .find(|rect| screen.contains_rect(*rect))
            .unwrap_or_else(|| panic!("{name} {text} not on screen"));
        assert!(rect.width() > 0.0);
    }
    assert!(
        harness
            .query_by_label_contains("no resting coronary window")
            .is_none()
    );
    // The columns' headings are whole words on one line ("hyperaemia" was cut into "hyperaemi" / "a").
    let heading_height = |label: &str| {
        harness
            .query_all_by_label(label)
            .map(|node| node.rect())
            .find(|rect| screen.contains_rect(*rect))
            .unwrap_or_else(|| panic!("no heading {label} on screen"))
            .height()
    };
    let (rest, hyperaemic) = (heading_height("rest"), heading_height("hyperaemia"));
    assert!(
        hyperaemic < 1.5 * rest,
        "hyperaemia {hyperaemic} pt high, rest {rest}"
    );
    // The endpoint table's CFR of this state: the resting and hyperaemic windows' APV, both as the table has them.
    let endpoints = session(&harness).endpoints().cloned().unwrap();
    let rest_apv = number(&app_numbers_of(&harness, step, WindowKind::CoronaryRest), "APV");
    let (cfr, apv) = (number(&numbers, "CFR").value.unwrap(), apv.value.unwrap());
    assert!(
        (cfr - apv / rest_apv.value.unwrap()).abs() < 1e-9,
        "{cfr} {apv} {rest_apv:?}"
    );
    assert!(cfr > 1.1, "adenosine raised the flow: CFR {cfr}");
    assert!(endpoints.windows.len() == 2);
}

/// Waits until the case writer of a closed case has let go of its file (it reads as a valid case file).
pub(crate) fn wait_for_the_writer(path: &std::path::Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while heracles::store::CaseFile::open_read_only(path).is_err() {
        assert!(std::time::Instant::now() < deadline, "the case file stays busy");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Starts a demo case by the start screen's button and waits until it records.
pub(crate) fn start_demo_case(harness: &mut App) {
    app_type(harness, "Operator", "trainee A");
    app_click(harness, "Start demo case");
    run_until(harness, "the recording indicator", 10.0, |h| {
        h.query_by_label("RECORDING").is_some() && h.state().protocol().is_some_and(|p| p.path().is_some())
    });
}

/// Asserts that every widget labelled as in `labels` lies wholly on a `size` screen.
pub(crate) fn app_on_screen(harness: &App, size: [f32; 2], labels: &[&str]) {
    let screen = points_screen(size[0], size[1]);
    for label in labels {
        let rect = harness.get_by_label(label).rect();
        assert!(
            screen.contains_rect(rect),
            "{label} at {rect:?} is off a {}x{} screen",
            size[0],
            size[1]
        );
    }
}

#[test]
fn an_ineligible_demo_patient_is_stopped_and_the_reason_lands_in_the_case_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());
    start_demo_case(&mut harness);
    app_click(&mut harness, "Left-ventricular thrombus: yes");
    harness.get_by_label("NOT ELIGIBLE: Left-ventricular thrombus");
    app_click(&mut harness, "Next F8");
    assert_eq!(session(&harness).state.current, StepId::Eligibility);
    let message = session(&harness).forms.message.clone().unwrap_or_default();
    assert!(message.contains("not eligible"), "{message}");
    // Going straight to randomisation from the step list (folded while the traces are in view) is refused the
    // same way.
    app_click(&mut harness, "Protocol steps");
    app_click(&mut harness, "6. Randomisation to do");
    assert_eq!(session(&harness).state.current, StepId::Eligibility);
    let path = session(&harness).path().unwrap().to_owned();
    run_until(&mut harness, "the protocol records", 10.0, |h| {
        session(h).num_unwritten() == 0
    });
    // The case is recording: closing it asks first.
    app_close_case(&mut harness);
    assert!(harness.state().protocol().is_some());
    app_click(&mut harness, "Close case and stop recording");
    assert!(harness.state().protocol().is_none());

    let file = heracles::store::CaseFile::open_read_only(&path).unwrap();
    let events = file.events().unwrap();
    let answer = events
        .iter()
        .find(|event| event.kind == "eligibility")
        .expect("the answer is recorded");
    assert!(
        answer.text.contains("NOT ELIGIBLE: Left-ventricular thrombus"),
        "{answer:?}"
    );
    // Every accepted transition is in the file as an event (set-up, the answer), and nothing got further.
    let transitions = events
        .iter()
        .filter(|event| event.kind == heracles::app::case_writer::PROTOCOL_EVENT_KIND)
        .count();
    assert_eq!(transitions, 2, "{events:?}");
    let steps: Vec<StepId> = file.steps().unwrap().iter().map(|step| step.step).collect();
    assert_eq!(steps, [StepId::CaseSetup, StepId::Eligibility]);
    assert_eq!(file.summary().unwrap().allocation, None);
}

#[test]
fn the_real_app_keeps_its_controls_and_the_recording_indicator_on_both_bedside_screens() {
    for size in [[1366.0, 768.0], [1920.0, 1080.0]] {
        let dir = tempfile::tempdir().unwrap();
        let mut harness = demo_app_sized(dir.path(), size);
        app_on_screen(&harness, size, &["Operator", "Start demo case"]);
        start_demo_case(&mut harness);
        app_on_screen(
            &harness,
            size,
            &["RECORDING", "Next F8", "Back F7", "Mark event F6"],
        );
        // Beside the eligibility form the traces keep a readable width (the PV loop gives way, not they).
        let traces = harness.get_by_label_contains("Traces:").rect();
        assert!(
            traces.width() >= heracles::ui::theme::MIN_TRACES_WIDTH - 20.0,
            "traces {traces:?} beside the form on {size:?}"
        );
        for criterion in Criterion::ALL {
            let answer = if criterion.kind() == CriterionKind::Inclusion {
                "yes"
            } else {
                "no"
            };
            let label = format!("{}: {answer}", criterion.text());
            app_on_screen(&harness, size, &[&label]);
            app_click(&mut harness, &label);
        }
        app_on_screen(&harness, size, &["ELIGIBLE: every criterion met"]);
        app_next(&mut harness, StepId::Preparation);
        app_tick_checklist(&mut harness);
        app_next(&mut harness, StepId::BaselineCoronary);
        app_tick_checklist(&mut harness);
        // A running capture: its stop button, the action bar, the traces and the indicator are all in view.
        app_click(&mut harness, "Capture F5");
        run_until(&mut harness, "the capture to run", 10.0, |h| {
            session(h).state.capture.as_ref().is_some_and(|c| c.running())
        });
        app_on_screen(
            &harness,
            size,
            &["RECORDING", "Next F8", "Mark event F6", "Freeze"],
        );
        // The live monitor (its controls at its top left) keeps more than 60 % of the width.
        let live = harness.get_by_label("Freeze").rect();
        assert!(
            live.left() < points_screen(size[0], size[1]).width() * 0.4,
            "{live:?} on {size:?}"
        );
        // Leaving with the capture running asks first; staying keeps it.
        app_click(&mut harness, "Back F7");
        run_until(&mut harness, "the confirmation", 5.0, |h| {
            h.query_by_label_contains("Leave this step").is_some()
        });
        assert!(session(&harness).state.pending.is_some());
        app_on_screen(&harness, size, &["Leave step", "Stay"]);
        app_click(&mut harness, "Stay");
        assert_eq!(session(&harness).state.current, StepId::BaselineCoronary);
        assert!(session(&harness).state.capture.is_some());
    }
}

/// Types `text` as a keyboard does: a key press for every space as well as the character (kittest's
/// `type_text` sends the characters alone, which no single-key shortcut would ever see).
fn type_keys(harness: &mut App, text: &str) {
    for c in text.chars() {
        if c == ' ' {
            harness.key_down(egui::Key::Space);
        }
        harness.event(egui::Event::Text(c.to_string()));
        if c == ' ' {
            harness.key_up(egui::Key::Space);
        }
        harness.run_steps(1);
    }
    harness.run_steps(2);
}

/// Presses `key` once and lets the app draw the answer.
fn press(harness: &mut App, key: egui::Key) {
    harness.run_steps(3);
    harness.key_press(key);
    harness.run_steps(3);
}

#[test]
fn typing_a_note_never_freezes_the_traces_and_every_dialog_answers_enter_escape_and_its_function_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());
    start_demo_case(&mut harness);

    // Closing a recording case asks first; Escape keeps it open and recording.
    app_close_case(&mut harness);
    harness.get_by_label_contains("while it is recording?");
    press(&mut harness, egui::Key::Escape);
    assert!(harness.state().protocol().is_some());
    assert!(harness.state().engine().lock().recording.active);
    assert!(
        harness
            .query_by_label_contains("while it is recording?")
            .is_none()
    );

    app_answer_eligible(&mut harness);
    app_next(&mut harness, StepId::Preparation);
    assert!(!harness.state().live().frozen);

    // A note typed with its spaces leaves the traces running; Enter marks it.
    app_click(&mut harness, "Note");
    type_keys(&mut harness, "wire in mid LAD");
    assert!(!harness.state().live().frozen, "typing a note froze the traces");
    assert_eq!(session(&harness).forms.mark_text, "wire in mid LAD");
    press(&mut harness, egui::Key::Enter);
    let notes: Vec<String> = session(&harness)
        .state
        .notes
        .iter()
        .map(|note| note.text.clone())
        .collect();
    assert_eq!(notes, ["wire in mid LAD"]);
    assert!(!harness.state().live().frozen);
    // With nothing focused, Space still freezes and resumes.
    press(&mut harness, egui::Key::Space);
    assert!(harness.state().live().frozen);
    press(&mut harness, egui::Key::Space);
    assert!(!harness.state().live().frozen);

    // F8 with unticked items asks; Escape stays.
    press(&mut harness, egui::Key::F8);
    assert!(session(&harness).state.pending.is_some());
    harness.get_by_label_contains("Enter or F8: Leave step.");
    press(&mut harness, egui::Key::Escape);
    assert!(session(&harness).state.pending.is_none());
    assert_eq!(session(&harness).state.current, StepId::Preparation);
    // F8 again asks again, and F8 in the dialog confirms as advertised.
    press(&mut harness, egui::Key::F8);
    assert!(session(&harness).state.pending.is_some());
    press(&mut harness, egui::Key::F8);
    assert!(session(&harness).state.pending.is_none());
    assert_eq!(session(&harness).state.current, StepId::BaselineCoronary);
    // Back (F7) leaves at once; F8 asks (the preparation checklist is still unticked) and Enter confirms.
    press(&mut harness, egui::Key::F7);
    assert_eq!(session(&harness).state.current, StepId::Preparation);
    press(&mut harness, egui::Key::F8);
    assert!(session(&harness).state.pending.is_some());
    press(&mut harness, egui::Key::Enter);
    assert_eq!(session(&harness).state.current, StepId::BaselineCoronary);

    // Closing while recording, answered with Enter, closes the case and stops the recording.
    app_close_case(&mut harness);
    harness.get_by_label_contains("while it is recording?");
    press(&mut harness, egui::Key::Enter);
    assert!(harness.state().protocol().is_none());
    assert!(!harness.state().engine().lock().recording.active);
}

#[test]
fn a_demo_case_needs_the_operators_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());
    harness.run_steps(3);
    harness.get_by_label("Enter the operator first.");
    app_click(&mut harness, "Start demo case");
    assert!(harness.state().protocol().is_none(), "started without a name");
    app_type(&mut harness, "Operator", "Dr B");
    assert!(harness.query_by_label("Enter the operator first.").is_none());
    app_click(&mut harness, "Start demo case");
    run_until(&mut harness, "the case", 10.0, |h| h.state().protocol().is_some());
    assert_eq!(session(&harness).state.case.as_ref().unwrap().operator, "Dr B");
}
