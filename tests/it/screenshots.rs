//! Every image the README shows, made by one command from the real app on the simulated patient, at the two
//! bedside screen sizes (1366x768 and 1920x1080), so the pictures can be retaken whenever the UI changes:
//!
//! ```sh
//! WGPU_BACKEND=gl HERACLES_SCREENSHOTS=docs/screenshots cargo test --features screenshots --test it screenshots
//! ```
//!
//! The app is driven as the other UI tests drive it (kittest, by label) through a whole demo case, then the
//! review; each picture is the frame kittest renders with wgpu (OpenGL through Mesa where there is no GPU).
//! Without `HERACLES_SCREENSHOTS` the walk runs and renders but writes nothing.

use std::path::PathBuf;

use egui_kittest::kittest::Queryable;
use heracles::app::{Command, HeraclesApp};
use heracles::model::StepId;

use crate::ui_protocol::{
    App, app_allocate_impella, app_answer_eligible, app_capture, app_click, app_finish_capture,
    app_insert_impella_p8, app_next, app_record_context, app_record_ecmo, app_tick_checklist, app_type,
    app_wait, demo_app_sized, run_until, session, set_window, wait_for_the_writer,
};

const SMALL: [f32; 2] = [1366.0, 768.0];
const LARGE: [f32; 2] = [1920.0, 1080.0];

/// Renders the current frame at `size` and writes it as `<name>.png` into `$HERACLES_SCREENSHOTS`.
fn shoot(harness: &mut App, size: [f32; 2], name: &str) {
    set_window(harness, size);
    harness.run_steps(6);
    let image = harness.render().expect("kittest renders the frame");
    assert_eq!((image.width(), image.height()), (size[0] as u32, size[1] as u32));
    if let Some(dir) = std::env::var_os("HERACLES_SCREENSHOTS") {
        let path = PathBuf::from(dir).join(format!("{name}.png"));
        image.save(&path).unwrap();
        eprintln!("screenshots: wrote {}", path.display());
    }
    set_window(harness, SMALL);
}

/// Clicks Capture and waits until the capture has run for a few seconds, so its quality lines show.
fn start_capture(harness: &mut App) {
    app_click(harness, "Capture F5");
    run_until(harness, "the capture to run", 10.0, |h| {
        session(h).state.capture.as_ref().is_some_and(|c| c.running())
    });
    app_wait(harness, 5.0);
}

#[test]
fn screenshots_of_a_demo_case_and_its_review() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app_sized(dir.path(), SMALL);
    shoot(&mut harness, SMALL, "protocol-start");
    app_type(&mut harness, "Operator", "Dr Demo");
    app_click(&mut harness, "Start demo case");
    run_until(&mut harness, "the recording indicator", 10.0, |h| {
        h.query_by_label("RECORDING").is_some() && h.state().protocol().is_some_and(|p| p.path().is_some())
    });

    app_answer_eligible(&mut harness);
    shoot(&mut harness, SMALL, "protocol-eligibility");
    shoot(&mut harness, LARGE, "protocol-eligibility-1920");
    app_next(&mut harness, StepId::Preparation);

    app_record_ecmo(&mut harness);
    shoot(&mut harness, SMALL, "protocol-preparation");
    app_next(&mut harness, StepId::BaselineCoronary);
    app_record_context(&mut harness);

    app_tick_checklist(&mut harness);
    start_capture(&mut harness);
    shoot(&mut harness, LARGE, "protocol-capture-1920");
    // Leaving a step while a capture runs asks first.
    app_click(&mut harness, "Back F7");
    run_until(&mut harness, "the confirmation", 5.0, |h| {
        session(h).state.pending.is_some()
    });
    shoot(&mut harness, LARGE, "protocol-confirm-1920");
    app_click(&mut harness, "Stay");
    app_finish_capture(&mut harness);
    app_next(&mut harness, StepId::BaselinePv);
    app_tick_checklist(&mut harness);
    start_capture(&mut harness);
    shoot(&mut harness, SMALL, "protocol-baseline-pv");
    app_finish_capture(&mut harness);
    app_capture(&mut harness, "Capture preload-reduction PV window");
    app_wait(&mut harness, 5.0);
    app_next(&mut harness, StepId::Randomisation);

    app_allocate_impella(&mut harness);
    shoot(&mut harness, SMALL, "protocol-randomisation");
    app_next(&mut harness, StepId::DeviceInsertion);

    app_insert_impella_p8(&mut harness);
    app_wait(&mut harness, 20.0);
    shoot(&mut harness, SMALL, "protocol-device");
    app_next(&mut harness, StepId::PostCoronary);

    app_tick_checklist(&mut harness);
    app_capture(&mut harness, "Capture F5");
    run_until(&mut harness, "the CDFR", 30.0, |h| {
        session(h)
            .endpoints()
            .is_some_and(|endpoints| endpoints.cdfr.is_some())
    });
    // Adenosine: the hyperaemic window's APV, CFR and HMR beside the resting window's numbers.
    app_capture(&mut harness, "Capture hyperaemic coronary window");
    shoot(&mut harness, SMALL, "protocol-post-coronary");
    app_next(&mut harness, StepId::PostPv);
    app_tick_checklist(&mut harness);
    app_capture(&mut harness, "Capture F5");
    shoot(&mut harness, SMALL, "protocol-post-pv");
    app_next(&mut harness, StepId::Review);
    shoot(&mut harness, SMALL, "protocol-review");
    // The baseline and post-unloading loops overlaid, scrolled into view in the step's panel (above its pinned
    // checklist, under the top bar).
    let loops = format!("{}: plot", heracles::ui::protocol::LOOPS_LABEL);
    harness.get_by_label(&loops).scroll_to_me();
    harness.run_steps(10);
    let plot = harness.get_by_label(&loops).rect();
    let top = harness.get_by_label("HERACLES").rect().bottom();
    let checklist = harness.get_by_label("Checklist").rect().top();
    assert!(
        plot.top() >= top && plot.bottom() <= checklist && plot.height() > 100.0,
        "the loops at {plot:?} are not in view between the top bar ({top}) and the checklist ({checklist})"
    );
    shoot(&mut harness, SMALL, "protocol-review-loops");
    app_tick_checklist(&mut harness);
    app_next(&mut harness, StepId::SignOff);
    app_click(&mut harness, "Sign off case");
    shoot(&mut harness, SMALL, "protocol-sign-off");
    app_click(&mut harness, "Confirm sign-off");

    // The case closed, the live monitor on its own: traces, the PV loop and the numbers across the screen.
    let path = session(&harness).path().unwrap().to_owned();
    run_until(&mut harness, "the case writer", 10.0, |h| {
        session(h).num_unwritten() == 0
    });
    app_click(&mut harness, "Close case");
    wait_for_the_writer(&path);
    app_click(&mut harness, "Live");
    harness.run_steps(20);
    shoot(&mut harness, SMALL, "live");

    // The recorded case in review (under the operator's name), and its comparison view.
    harness.state_mut().handle(Command::ChooseReviewCase);
    harness.run_steps(3);
    app_click(&mut harness, "HER-DEM-0001");
    settle_review(&mut harness);
    shoot(&mut harness, SMALL, "review");
    app_click(&mut harness, "Comparison");
    settle_review(&mut harness);
    shoot(&mut harness, SMALL, "comparison");
}

/// Steps frames until the review has loaded and answered.
fn settle_review(harness: &mut App) {
    run_until(harness, "the review", 60.0, |h| {
        let app: &HeraclesApp = h.state();
        app.review_screen()
            .is_some_and(|screen| screen.snapshot().is_some() && !screen.busy())
    });
    harness.run_steps(10);
}
