//! The whole protocol without a mouse: the real app on the fast simulated patient, walked from the start screen
//! to sign-off with Tab (focus), Space/Enter (a focused button, tick box or choice), typed text and the
//! protocol's function keys (F5 capture, F8 next) alone. Every widget used is reached by Tab from wherever the
//! focus is, so each step's form can be filled and submitted from the keyboard.

use egui::Key;
use egui_kittest::kittest::{NodeT, Queryable};
use heracles::model::StepId;
use heracles::protocol::{Criterion, CriterionKind};

use crate::ui_protocol::{App, demo_app, run_until, session};

/// Most Tab presses to reach a widget (a full cycle through the busiest step's widgets is fewer).
const MAX_TABS: usize = 150;

/// Tab presses of the walk, for its report.
static TABS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a widget labelled `label` has keyboard focus.
fn focused(harness: &App, label: &str) -> bool {
    harness
        .query_all_by_label(label)
        .any(|node| node.accesskit_node().is_focused())
}

/// Presses Tab until the widget labelled `label` has the focus; returns how many presses it took.
fn tab_to(harness: &mut App, label: &str) -> usize {
    harness.run_steps(2);
    for presses in 0..MAX_TABS {
        if focused(harness, label) {
            TABS.fetch_add(presses, std::sync::atomic::Ordering::Relaxed);
            if presses > 15 {
                eprintln!("keyboard walk: {presses} Tab presses to {label}");
            }
            return presses;
        }
        harness.key_press(Key::Tab);
        harness.run_steps(2);
    }
    panic!("{label}: not reached by {MAX_TABS} Tab presses");
}

/// Tabs to the widget labelled `label` and presses `key` on it (Space or Enter).
fn activate(harness: &mut App, label: &str, key: Key) {
    tab_to(harness, label);
    harness.key_press(key);
    harness.run_steps(3);
}

/// Tabs to the text field labelled `label` and types `text` into it.
fn type_into(harness: &mut App, label: &str, text: &str) {
    tab_to(harness, label);
    for c in text.chars() {
        harness.event(egui::Event::Text(c.to_string()));
        harness.run_steps(1);
    }
    harness.run_steps(2);
}

/// Presses a key with nothing in particular focused (a function key acts whatever has focus).
fn press(harness: &mut App, key: Key) {
    harness.run_steps(3);
    harness.key_press(key);
    harness.run_steps(3);
}

/// Ticks the current step's checklist with Tab and Space.
fn tick_checklist(harness: &mut App) {
    for item in heracles::protocol::guide(session(harness).state.current).checklist {
        activate(harness, item, Key::Space);
    }
    let step = session(harness).state.current;
    assert!(session(harness).state.unticked(step).is_empty(), "{step:?}");
}

/// F8, and the step that follows.
fn next(harness: &mut App, expected: StepId) {
    press(harness, Key::F8);
    let message = session(harness).forms.message.clone();
    assert_eq!(session(harness).state.current, expected, "{message:?}");
}

/// F5 (the step's first capture), or Tab + Enter on `button`; waits for the capture to stop by itself, then
/// saves it with Tab + Enter.
fn capture(harness: &mut App, button: Option<&str>) {
    let num_windows = session(harness).windows().len();
    match button {
        None => press(harness, Key::F5),
        Some(button) => activate(harness, button, Key::Enter),
    }
    assert!(session(harness).state.capture.is_some(), "no capture started");
    run_until(harness, "the capture to stop by itself", 60.0, |h| {
        session(h)
            .state
            .capture
            .as_ref()
            .is_some_and(|capture| !capture.running())
    });
    activate(harness, "Save window", Key::Enter);
    run_until(harness, "the window's analysis", 60.0, |h| {
        session(h).windows().len() > num_windows
    });
}

#[test]
fn a_demo_case_walks_from_the_start_screen_to_sign_off_with_the_keyboard_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());

    type_into(&mut harness, "Operator", "trainee K");
    activate(&mut harness, "Start demo case", Key::Enter);
    run_until(&mut harness, "the recording case", 10.0, |h| {
        h.query_by_label("RECORDING").is_some() && h.state().protocol().is_some_and(|p| p.path().is_some())
    });

    for criterion in Criterion::ALL {
        let answer = if criterion.kind() == CriterionKind::Inclusion {
            "yes"
        } else {
            "no"
        };
        activate(
            &mut harness,
            &format!("{}: {answer}", criterion.text()),
            Key::Space,
        );
    }
    next(&mut harness, StepId::Preparation);

    tick_checklist(&mut harness);
    type_into(&mut harness, "ECMO flow (L/min)", "3.5");
    type_into(&mut harness, "ECMO pump speed (rpm)", "3400");
    activate(&mut harness, "Record ECMO settings", Key::Enter);
    next(&mut harness, StepId::BaselineCoronary);

    activate(&mut harness, "LAD", Key::Space);
    activate(&mut harness, "mid", Key::Space);
    type_into(&mut harness, "Wire position", "past D1");
    activate(&mut harness, "Pressures zeroed at mid-chest level", Key::Space);
    activate(&mut harness, "Record measurement context", Key::Enter);
    let message = session(&harness).forms.message.clone();
    assert!(session(&harness).state.coronary_context.is_some(), "{message:?}");
    tick_checklist(&mut harness);
    capture(&mut harness, None);
    next(&mut harness, StepId::BaselinePv);

    tick_checklist(&mut harness);
    capture(&mut harness, None);
    capture(&mut harness, Some("Capture preload-reduction PV window"));
    next(&mut harness, StepId::Randomisation);

    activate(&mut harness, "Impella", Key::Space);
    type_into(&mut harness, "Randomisation reference", "DEMO-RND-7");
    activate(&mut harness, "Now", Key::Enter);
    activate(&mut harness, "Record allocation", Key::Enter);
    tick_checklist(&mut harness);
    next(&mut harness, StepId::DeviceInsertion);

    activate(&mut harness, "P-8", Key::Space);
    type_into(&mut harness, "Impella flow (L/min)", "3.1");
    activate(&mut harness, "Record device", Key::Enter);
    tick_checklist(&mut harness);
    next(&mut harness, StepId::PostCoronary);

    tick_checklist(&mut harness);
    capture(&mut harness, None);
    next(&mut harness, StepId::PostPv);

    tick_checklist(&mut harness);
    capture(&mut harness, None);
    next(&mut harness, StepId::Review);
    tick_checklist(&mut harness);
    next(&mut harness, StepId::SignOff);

    activate(&mut harness, "Sign off case", Key::Enter);
    assert!(session(&harness).state.pending.is_some());
    // The confirmation's default answer is Enter.
    press(&mut harness, Key::Enter);
    assert!(session(&harness).state.signed_off.is_some(), "not signed off");
    assert_eq!(
        session(&harness).state.case.as_ref().unwrap().operator,
        "trainee K"
    );
    eprintln!(
        "keyboard walk: {} Tab presses in all",
        TABS.load(std::sync::atomic::Ordering::Relaxed)
    );

    // Closed from the keyboard too (not recording after sign-off: nothing to confirm). The case writer's records
    // give the review the measurement context, the same vessel confirmed, and CDFR unflagged.
    let path = session(&harness).path().unwrap().to_owned();
    run_until(&mut harness, "the records to be handed over", 10.0, |h| {
        session(h).num_unwritten() == 0
    });
    activate(&mut harness, "Close case", Key::Enter);
    assert!(harness.state().protocol().is_none(), "the case is still open");
    crate::ui_protocol::wait_for_the_writer(&path);
    let file = heracles::store::CaseFile::open_read_only(&path).unwrap();
    let snapshot = heracles::review::session::snapshot_of(&file, None).unwrap();
    let (lines, flagged) =
        heracles::review::endpoints::measurement_context_text(&snapshot.endpoints).unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0],
        "Measurement context: mid LAD, wire past D1; Pd/Pa 1.00 at equalisation; pressures zeroed"
    );
    assert!(
        lines[1].starts_with("Context in force: entered at the Baseline coronary step at "),
        "{lines:?}"
    );
    assert_eq!(
        lines[2],
        "Post-unloading: same vessel and wire position as baseline"
    );
    assert!(!flagged);
    let cdfr = snapshot.endpoints.iter().find(|row| row.key == "cdfr").unwrap();
    assert!(cdfr.value.is_some() && !cdfr.flags.iter().any(|f| f == "same_vessel_not_confirmed"));
}
