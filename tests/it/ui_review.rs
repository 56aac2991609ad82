//! The real `HeraclesApp` on the review screen, driven through egui_kittest by the labels a reviewer reads: a beat
//! rejected through the table and the reason dialog changes the window's APV, the CDFR and leaves an audit row
//! with the reason; a sign-off shows VALID, and after a later edit INVALIDATED with who and when.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use heracles::app::{Command, HeraclesApp};
use heracles::store::CaseFile;
use heracles::ui::action::View;

use crate::review_case;

/// The app with the synthetic case open for review as "fellow", once the case has loaded.
fn app_reviewing(dir: &std::path::Path, number: u16) -> (Harness<'static, HeraclesApp>, std::path::PathBuf) {
    let path = review_case::create(dir, number);
    (open_review(&path, "fellow"), path)
}

/// The app at 1366x768 with the case file at `path` open for review as `reviewer`, once the case has loaded.
fn open_review(path: &std::path::Path, reviewer: &str) -> Harness<'static, HeraclesApp> {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1366.0, 768.0))
        .build_eframe(|cc| HeraclesApp::new(&cc.egui_ctx, Vec::new()).unwrap());
    harness.state_mut().handle(Command::OpenReview {
        path: path.to_owned(),
        reviewer: reviewer.into(),
    });
    assert_eq!(harness.state().view(), View::Review);
    settle(&mut harness, "the case to load");
    harness
}

/// Steps frames until the review worker has answered (the case loaded or the edit saved).
fn settle(harness: &mut Harness<'static, HeraclesApp>, what: &str) {
    let started = Instant::now();
    loop {
        harness.step();
        let screen = harness.state().review_screen().unwrap();
        if screen.snapshot().is_some() && !screen.busy() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.run_steps(3);
}

/// The text of the label that starts with `prefix` (a label's text is its accessibility value; the tree may
/// hold it on a node and its text run, so every match must agree).
fn label_starting(harness: &Harness<'static, HeraclesApp>, prefix: &str) -> String {
    let texts: Vec<String> = harness
        .get_all_by(|node| node_text(node).is_some_and(|l| l.starts_with(prefix)))
        .map(|node| node_text(&node.accesskit_node()).unwrap())
        .collect();
    assert!(texts.iter().all(|t| *t == texts[0]), "{texts:?}");
    texts[0].clone()
}

/// Rejects beat `#number` of the selected window through the table and the reason dialog.
fn reject_beat(harness: &mut Harness<'static, HeraclesApp>, number: u32, reason: &str) {
    harness.get_by_label(&format!("#{number}")).click();
    harness.run_steps(2);
    harness.get_by_label("Reject beat…").click();
    harness.run_steps(2);
    give_reason(harness, reason, "the rejection to be saved");
}

/// Answers the open reason dialog with `reason`, saves, and waits for `what` to be stored.
fn give_reason(harness: &mut Harness<'static, HeraclesApp>, reason: &str, what: &str) {
    harness.get_by_label("Reason").focus();
    harness.run_steps(1);
    harness.get_by_label("Reason").type_text(reason);
    harness.run_steps(2);
    harness.get_by_label("Save").click();
    harness.run_steps(1);
    settle(harness, what);
}

/// The case file's analysis as the review reads it.
fn analysis_of(path: &std::path::Path) -> heracles::review::analysis::CaseAnalysis {
    heracles::review::analysis::CaseAnalysis::read(&CaseFile::open_read_only(path).unwrap()).unwrap()
}

#[test]
fn rejecting_a_beat_in_the_table_changes_the_endpoint_and_audits_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 21);
    // The first window (baseline resting coronary window) is selected; its summary shows APV.
    let apv_before = label_starting(&harness, "APV ");
    let counts_before = label_starting(&harness, "35 beats");
    assert_eq!(counts_before, "35 beats, 35 accepted");
    harness.get_by_label("Comparison").click();
    harness.run_steps(2);
    let cdfr_before = label_starting(&harness, "CDFR ");
    harness.get_by_label("Traces").click();
    harness.run_steps(2);

    // The beat with the generator's largest diastolic velocity: rejecting it lowers the APV.
    let case = analysis_of(&path);
    let window = case
        .window(
            heracles::review::analysis::State::Baseline,
            heracles::review::analysis::WindowKind::CoronaryRest,
        )
        .unwrap();
    let number = review_case::velocity_beat(&case.reports[&window.id], 1.15);
    reject_beat(&mut harness, number, "Doppler envelope clipped");
    let apv_after = label_starting(&harness, "APV ");
    assert_ne!(apv_before, apv_after);
    let value = |label: &str| -> f64 { label.split_whitespace().nth(1).unwrap().parse().unwrap() };
    assert!(
        value(&apv_after) < value(&apv_before),
        "{apv_before} -> {apv_after}"
    );
    assert!(label_starting(&harness, "35 beats").starts_with("35 beats, 34 accepted"));
    harness.get_by_label(&format!(
        "Beat #{number}: rejected by reviewer: Doppler envelope clipped"
    ));
    harness.get_by_label_contains("Saved; results recomputed.");
    harness.get_by_label("Comparison").click();
    harness.run_steps(2);
    let cdfr_after = label_starting(&harness, "CDFR ");
    // CDFR pools the steady window (19 beats of the 5-beat velocity cycle: it leaves out one phase). The fast
    // beat's rejection moves the window to start after it, leaving out a fast phase, as the window before did.
    assert_eq!(
        cdfr_after, cdfr_before,
        "the steady window leaves out the same phase"
    );

    let file = CaseFile::open_read_only(&path).unwrap();
    let trail = file.audit_trail().unwrap();
    let row = trail.iter().find(|e| e.action == "reject_beat").unwrap();
    assert_eq!(row.who, "fellow");
    assert_eq!(row.reason, "Doppler envelope clipped");
    assert!(trail.iter().any(|e| e.action == "save_result" && e.seq > row.seq));
}

#[test]
fn a_sign_off_is_shown_invalidated_after_a_later_edit() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, _path) = app_reviewing(dir.path(), 22);
    // The top bar names the case under review (not "no case open").
    harness.get_by_label("Case: HER-TST-0022 (under review)");
    harness.get_by_label("Sign-off").click();
    harness.run_steps(2);
    harness.get_by_label("Not signed off yet.");
    harness.get_by_label("Approved").click();
    harness.run_steps(1);
    harness.get_by_label("Sign").click();
    harness.run_steps(1);
    settle(&mut harness, "the sign-off");
    harness.get_by_label("VALID");
    harness.get_by_label_contains("Signed by fellow as reviewer");
    // The statement is shown twice: in the signature, and under the meaning still chosen in the form.
    let statement = "I approve the endpoints of this case for the trial's analysis.";
    assert_eq!(harness.get_all_by_label(statement).count(), 2);
    harness.get_by_label("Status: signed off by fellow");

    harness.get_by_label("Traces").click();
    harness.run_steps(2);
    reject_beat(&mut harness, 2, "ectopic beat");
    harness.get_by_label("Sign-off").click();
    harness.run_steps(2);
    harness.get_by_label("INVALIDATED");
    assert!(harness.query_by_label("VALID").is_none());
    // The header no longer says "signed off" as if nothing had happened.
    harness.get_by_label("Status: sign-off INVALIDATED");
    assert!(harness.query_by_label("Status: signed off by fellow").is_none());
    let edited = label_starting(&harness, "Edited after signing:");
    assert!(edited.contains("reject beat by fellow at "), "{edited}");
    assert!(edited.contains("(ectopic beat)"), "{edited}");
    harness.get_by_label("The results differ from those signed: sign again after reviewing them.");
}

#[test]
fn the_export_tab_writes_the_bundle_beside_the_case_without_blocking_the_ui() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 23);
    harness.get_by_label("Export").click();
    harness.run_steps(2);
    harness.get_by_label("Endpoint table (CSV and JSON)");
    harness.get_by_label("Export to folder");
    // Enter in the folder field is the form's default answer, "Export to folder" (issue 16: keyboard-complete).
    harness.get_by_label("Folder").focus();
    harness.run_steps(1);
    harness.key_press(egui::Key::Enter);
    let started = Instant::now();
    loop {
        // Frames keep coming while the export runs on its own thread.
        harness.step();
        if harness
            .state()
            .review_screen()
            .unwrap()
            .export_outcome()
            .is_some()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the export did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.run_steps(2);
    let (message, error) = harness.state().review_screen().unwrap().export_outcome().unwrap();
    assert!(!error, "{message}");
    harness.get_by_label_contains("Exported 8 files to ");
    let folder = dir.path().join("HER-TST-0023-export");
    for name in [
        "HER-TST-0023_endpoints.csv",
        "HER-TST-0023_endpoints.json",
        "HER-TST-0023_beats.csv",
        "HER-TST-0023.hea",
        "HER-TST-0023.dat",
        "HER-TST-0023_report.pdf",
        "HER-TST-0023_endpoints.odm.xml",
        "MANIFEST.sha256",
    ] {
        assert!(folder.join(name).is_file(), "{name} missing");
    }
    assert!(path.is_file());
}

#[test]
fn an_annotation_is_added_over_the_view_and_its_text_edited_with_the_old_text_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 23);
    harness.get_by_label("Note").focus();
    harness.run_steps(1);
    harness.get_by_label("Note").type_text("wire pulled back");
    harness.run_steps(2);
    harness.get_by_label("Annotate").click();
    harness.run_steps(1);
    settle(&mut harness, "the annotation to be saved");
    let before = CaseFile::open_read_only(&path)
        .unwrap()
        .annotations()
        .unwrap()
        .len();
    // The new note is in the view; its Edit button is the last one listed.
    let edits: Vec<_> = harness.get_all_by_label("Edit").collect();
    edits.last().unwrap().click();
    harness.run_steps(2);
    // The row opens at the foot of the side panel: scroll it into view as the reviewer would.
    harness.get_by_label("Save text").scroll_to_me();
    harness.run_steps(2);
    harness.get_by_label("Annotation text").click();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_label("Annotation text")
        .type_text("wire pulled back 1 cm");
    harness.run_steps(2);
    // kittest's simulated pointer misses this button on its wrapped row; a real mouse clicks it (checked under
    // Xvfb with xdotool), so the accessibility click stands in for it.
    harness.get_by_label("Save text").click_accesskit();
    harness.run_steps(1);
    settle(&mut harness, "the edit to be saved");

    let file = CaseFile::open_read_only(&path).unwrap();
    let annotations = file.annotations().unwrap();
    assert_eq!(annotations.len(), before, "edited in place, not added");
    assert!(
        annotations
            .iter()
            .any(|a| a.text == "wire pulled back 1 cm" && a.author == "fellow"),
        "{annotations:?}"
    );
    assert!(!annotations.iter().any(|a| a.text == "wire pulled back"));
    let trail = file.audit_trail().unwrap();
    let row = trail.iter().rev().find(|e| e.entity == "annotation").unwrap();
    assert_eq!(row.who, "fellow");
    assert!(
        row.old_value
            .as_deref()
            .unwrap_or_default()
            .contains("wire pulled back"),
        "{row:?}"
    );
    assert!(
        row.new_value.as_deref().unwrap_or_default().contains("1 cm"),
        "{row:?}"
    );
}

#[test]
fn the_tabs_stay_reachable_whatever_the_length_of_the_case_status_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 24);
    let mut harness = open_review(
        &path,
        "Dr Alexandra Montgomery-Fitzwilliam, consultant interventional cardiologist",
    );
    for (tab, shows) in [
        ("Sign-off", "Not signed off yet."),
        ("Export", "Endpoint table (CSV and JSON)"),
    ] {
        let rect = harness.get_by_label(tab).rect();
        assert!(rect.right() < 1366.0 - 150.0, "{tab} at {rect:?}");
        harness.get_by_label(tab).click();
        harness.run_steps(2);
        harness.get_by_label(shows);
    }
}

#[test]
fn the_comparison_shows_the_measurement_context_and_flags_cdfr_in_an_unconfirmed_vessel() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 27);
    let mut file = CaseFile::open(&path).unwrap();
    file.add_marker(
        "operator",
        3.0,
        "measurement_context",
        "distal RCA; Pd/Pa 1.00 at equalisation; pressures zeroed",
    )
    .unwrap();
    file.add_marker(
        "operator",
        90.0,
        "checklist",
        "Post-unloading coronary left with unticked items: Same vessel and wire position as baseline (shown above)",
    )
    .unwrap();
    drop(file);
    let mut harness = open_review(&path, "fellow");
    harness.get_by_label("Comparison").click();
    harness.run_steps(2);
    harness.get_by_label("Measurement context: distal RCA; Pd/Pa 1.00 at equalisation; pressures zeroed");
    harness.get_by_label("Context in force: entered at the Baseline coronary step at 3 s");
    harness.get_by_label("Post-unloading: same vessel and wire position as baseline NOT confirmed");
    assert!(
        label_starting(&harness, "Flags: ").contains("same vessel not confirmed"),
        "CDFR is flagged"
    );
    // The context is a line above the table, not a row of dashes in it.
    assert!(
        harness
            .query_by_label("Measurement context (vessel, segment, wire)")
            .is_none()
    );
}

#[test]
fn the_comparison_shows_the_context_in_force_and_says_a_later_zero_updated_it() {
    // As the case writer records them: the context entered at the baseline coronary step at 30 s, then, back at
    // the consoles step, a new zero at 47 s, and with it the context again, carrying the new zero.
    let entered = "mid LAD; Pd/Pa 1.00 at equalisation; pressures zeroed at 12 s (offsets pa -2.0 mmHg)";
    let updated = "mid LAD; Pd/Pa 1.00 at equalisation; pressures zeroed at 47 s (offsets pa +0.5 mmHg)";
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 28);
    let mut file = CaseFile::open(&path).unwrap();
    for (at, kind, text) in [
        (30.0, "measurement_context", entered),
        (
            47.0,
            "pressure_zero",
            "Consoles, zero and calibration: pressures zeroed at 47 s (offsets pa +0.5 mmHg)",
        ),
        (47.0, "measurement_context", updated),
    ] {
        file.add_marker("operator", at, kind, text).unwrap();
    }
    drop(file);
    let mut harness = open_review(&path, "fellow");
    harness.get_by_label("Comparison").click();
    harness.run_steps(2);
    harness.get_by_label(&format!("Measurement context: {updated}"));
    harness
        .get_by_label("Context in force: updated by the zero at 47 s (Consoles, zero and calibration step)");
    assert!(
        harness.query_by_label_contains("entered at the").is_none(),
        "the context is said to be as entered, though a later zero updated it"
    );
    assert!(harness.query_by_label_contains(entered).is_none());
}

#[test]
fn every_change_in_the_comparison_is_shown_at_the_precision_of_its_baseline() {
    use heracles::analysis::format;
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, _) = app_reviewing(dir.path(), 29);
    harness.get_by_label("Comparison").click();
    harness.run_steps(2);
    let rows = harness
        .state()
        .review_screen()
        .unwrap()
        .snapshot()
        .unwrap()
        .endpoints
        .clone();
    // (A label's text is its accessibility value, as in `label_starting`.)
    let shown = |harness: &Harness<'static, HeraclesApp>, text: &str| {
        harness
            .query_all_by(|node| {
                node.value()
                    .or(node.label())
                    .is_some_and(|l| l == text || l == format!("{text} !"))
            })
            .count()
    };
    let mut differing = Vec::new();
    for change in rows.iter().filter(|row| row.state == "change") {
        let baseline = rows
            .iter()
            .find(|row| row.key == change.key && row.state == "baseline");
        let (Some(value), Some(baseline)) = (change.value, baseline.and_then(|row| row.value)) else {
            continue;
        };
        let beside = format::change_from(value, Some(baseline), change.unit);
        let plain = format::change(value, change.unit);
        if beside != plain {
            assert!(shown(&harness, &beside) > 0, "{}: {beside} not shown", change.key);
            assert_eq!(shown(&harness, &plain), 0, "{}: {plain} shown", change.key);
            differing.push(format!("{} {plain} -> {beside}", change.key));
        }
    }
    // The case's pressures are the same in both states: their changes are float noise, which a plain change
    // writes as `+1.1e-13`.
    assert!(!differing.is_empty(), "no change whose precision matters");
    eprintln!("{differing:?}");
}

/// The labels of the occlusion chooser's loops, and which of them are chosen.
fn loops_shown(harness: &Harness<'static, HeraclesApp>) -> Vec<(String, bool)> {
    harness
        .get_all_by(|node| node.label().is_some_and(|l| l.starts_with("Loop of beat ")))
        .map(|node| {
            let node = node.accesskit_node();
            (
                node.label().unwrap(),
                node.toggled() == Some(egui::accesskit::Toggled::True),
            )
        })
        .collect()
}

#[test]
fn the_espvr_chooser_draws_the_occlusion_loops_and_a_loop_toggles_its_beat() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 28);
    let case = analysis_of(&path);
    let (window, report) = case
        .report(
            heracles::review::analysis::State::Baseline,
            heracles::review::analysis::WindowKind::PvPreloadReduction,
        )
        .unwrap();
    harness.get_by_role(egui::accesskit::Role::ComboBox).click();
    harness.run_steps(2);
    harness
        .get_by_label(&format!("baseline preload-reduction PV window (w{})", window.id))
        .click();
    harness.run_steps(3);

    // One loop per beat of the window; the chosen run's loops are the chosen ones.
    let numbers: Vec<u32> = report.beats.iter().map(|b| b.number).collect();
    let run = window_run(&harness);
    let shown = loops_shown(&harness);
    assert_eq!(shown.len(), numbers.len(), "{shown:?}");
    for number in &numbers {
        let chosen = shown
            .iter()
            .find(|(label, _)| *label == format!("Loop of beat {number}"))
            .unwrap_or_else(|| panic!("no loop of beat {number}"))
            .1;
        assert_eq!(chosen, (run.0..=run.1).contains(number), "beat {number}");
    }
    // The fit of the chosen beats is written beside the loops, Ees with its regression interval.
    let fit = fit_shown(&harness).expect("no fit for the chosen beats");
    assert!(
        fit.contains(" mmHg/mL (95 % CI ") && fit.contains(") · V0 "),
        "{fit}"
    );

    // The run's first loop, clicked, leaves the run: the fit follows for the rest.
    harness
        .get_by_label(&format!("Loop of beat {}", run.0))
        .click_accesskit();
    harness.run_steps(3);
    let after = window_run(&harness);
    let next = *numbers.iter().find(|&&n| n > run.0).unwrap();
    assert_eq!(after, (next, run.1));
    assert!(
        !loops_shown(&harness)
            .iter()
            .any(|(label, chosen)| *label == format!("Loop of beat {}", run.0) && *chosen)
    );
    let started = Instant::now();
    while fit_shown(&harness).is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "no preview fit");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    let fit = fit_shown(&harness).unwrap();
    let n: usize = fit.rsplit("n ").next().unwrap().trim().parse().unwrap();
    assert!(n <= (run.1 - next + 1) as usize, "{fit}");
    // A loop outside the run, clicked, brings it back.
    harness
        .get_by_label(&format!("Loop of beat {}", run.0))
        .click_accesskit();
    harness.run_steps(3);
    assert_eq!(window_run(&harness), run);
}

/// The occlusion run the chooser's strip states ("Occlusion beats A to B").
fn window_run(harness: &Harness<'static, HeraclesApp>) -> (u32, u32) {
    let text = label_starting(harness, "Occlusion beats ");
    let numbers: Vec<u32> = text
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

/// The chooser's fit line ("Ees … mmHg/mL · V0 … mL · r² … · n …"), when shown.
fn fit_shown(harness: &Harness<'static, HeraclesApp>) -> Option<String> {
    let text = |node: &egui_kittest::kittest::AccessKitNode<'_>| node.value().or(node.label());
    harness
        .query_all_by(|node| text(node).is_some_and(|l| l.starts_with("Ees ") && l.contains(" · V0 ")))
        .map(|node| text(&node.accesskit_node()).unwrap())
        .next()
}

#[test]
fn a_window_edge_shows_a_resize_cursor_and_a_drag_below_the_steady_minimum_warns_before_it_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 29);
    // The first window is selected: the baseline resting coronary window, 2-32 s.
    let window = analysis_of(&path).windows[0].0.clone();
    assert_eq!((window.start_s, window.end_s), (2.0, 32.0));
    let traces = harness.get_by_label_contains("Review traces: ");
    let plot = traces.rect();
    let label = traces.accesskit_node().label().unwrap();
    let span: Vec<f64> = label
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    let x_of = |t: f64| plot.left() + ((t - span[0]) / (span[1] - span[0])) as f32 * plot.width();
    let y = plot.center().y;
    let cursor = |harness: &Harness<'static, HeraclesApp>| harness.output().platform_output.cursor_icon;

    // Over the trace, the ordinary cursor; over the end edge's handle, the resize cursor.
    harness.hover_at(egui::pos2(x_of(20.0), y));
    harness.run_steps(2);
    assert_ne!(cursor(&harness), egui::CursorIcon::ResizeHorizontal);
    harness.hover_at(egui::pos2(x_of(32.0) + 2.0, y));
    harness.run_steps(2);
    assert_eq!(cursor(&harness), egui::CursorIcon::ResizeHorizontal);

    // Taking the end edge and moving at once (no holding still) drags the edge, not the view: to 12 s.
    harness.drag_at(egui::pos2(x_of(32.0) + 2.0, y));
    harness.run_steps(1);
    for k in 1..=10 {
        let t = 32.0 - 2.0 * f64::from(k);
        harness.hover_at(egui::pos2(x_of(t), y));
        harness.run_steps(1);
    }
    // Said over the band and in the traces' own label.
    assert_eq!(
        harness
            .get_all_by_label_contains("shorter than a steady window")
            .count(),
        2
    );
    harness.drop_at(egui::pos2(x_of(12.0), y));
    harness.run_steps(3);
    assert_eq!(
        harness
            .get_by_label_contains("Review traces: ")
            .accesskit_node()
            .label()
            .unwrap(),
        label,
        "the view panned"
    );
    // The reason dialog says what the shrink will do before anything is applied.
    harness.run_steps(3);
    // (The heading's node and its text run: the longer is the whole title.)
    let text = |node: &egui_kittest::kittest::AccessKitNode<'_>| node.value().or(node.label());
    let title = harness
        .get_all_by(|node| text(node).is_some_and(|l| l.starts_with("Move baseline resting coronary window")))
        .map(|node| text(&node.accesskit_node()).unwrap())
        .max_by_key(String::len)
        .unwrap();
    let end_s: f64 = title
        .rsplit("– ")
        .next()
        .unwrap()
        .trim_end_matches(" s")
        .parse()
        .unwrap();
    assert!(
        title.contains(" to 2.00 – ") && (end_s - 12.0).abs() < 0.2,
        "{title}"
    );
    harness.get_by_label_contains("under the 15 s a steady window needs");
    let file = CaseFile::open_read_only(&path).unwrap();
    let stored = file.analysis_windows().unwrap();
    assert_eq!(
        (stored[0].start_s, stored[0].end_s),
        (2.0, 32.0),
        "applied before the reason"
    );
}

/// Issue 14: a case on read-only media or in a folder the reviewer cannot write opens for review with a banner
/// saying so, and an edit is refused with that reason (never an internal temp-file error); nothing is written.
/// Tests run as root, for whom no folder is read-only, so the condition SQLite meets there is made another way:
/// the shared-memory file cannot be created (a dangling link in its place), exactly as on read-only media.
#[test]
fn a_read_only_case_shows_a_banner_and_refuses_edits_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 27);
    // Analysed where it was made (a read-only case cannot store results), then read-only.
    drop(heracles::review::session::ReviewSession::open(&path, "fellow").unwrap());
    let trail_before = CaseFile::open_read_only(&path)
        .unwrap()
        .audit_trail()
        .unwrap()
        .len();
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    let shm = std::path::PathBuf::from(shm);
    if shm.exists() {
        std::fs::remove_file(&shm).unwrap();
    }
    std::os::unix::fs::symlink(dir.path().join("no-such-folder/shm"), &shm).unwrap();
    let bytes_before = std::fs::read(&path).unwrap();

    let mut harness = open_review(&path, "fellow");
    // A wrapped label: its node holds the whole text, its text runs a line each.
    let longest = |harness: &Harness<'static, HeraclesApp>, prefix: &str| -> String {
        let text = |node: &egui_kittest::kittest::AccessKitNode<'_>| node.value().or(node.label());
        harness
            .get_all_by(|node| text(node).is_some_and(|l| l.starts_with(prefix)))
            .map(|node| text(&node.accesskit_node()).unwrap())
            .max_by_key(String::len)
            .unwrap_or_else(|| panic!("no label starting {prefix:?}"))
    };
    let banner = longest(&harness, "READ-ONLY: ");
    assert!(
        banner.contains("annotations, verdicts, follow-up and sign-off cannot be saved")
            && banner.contains("copy the case file"),
        "{banner}"
    );
    // The numbers are there to read.
    label_starting(&harness, "APV ");
    reject_beat(&mut harness, 3, "catheter whip");
    let refusal = longest(&harness, "refused: ");
    assert!(refusal.contains("read-only here"), "{refusal}");
    assert!(
        !refusal.contains("-shm") && !refusal.contains("-wal"),
        "{refusal}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes_before, "nothing was written");
    assert_eq!(
        CaseFile::open_read_only(&path)
            .unwrap()
            .audit_trail()
            .unwrap()
            .len(),
        trail_before
    );
}

/// Types `text` into the field labelled `label` (replacing what it held).
fn type_into(harness: &mut Harness<'static, HeraclesApp>, label: &str, text: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run_steps(2);
    harness.get_by_label(label).focus();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run_steps(1);
    harness.get_by_label(label).type_text(text);
    harness.run_steps(1);
}

/// Sets the MVO2 constants through the choices' fields and the reason dialog.
fn set_mvo2(harness: &mut Harness<'static, HeraclesApp>, a: &str, b: &str, source: &str, reason: &str) {
    type_into(harness, "MVO2 slope a, mL O2/(mmHg.mL)", a);
    type_into(harness, "MVO2 intercept b, mL O2/beat", b);
    type_into(harness, "MVO2 constants source", source);
    harness.get_by_label("Set MVO2 constants…").scroll_to_me();
    harness.run_steps(2);
    // Below the fold of the side panel at 1366x768: pressed as assistive technology presses it.
    harness.get_by_label("Set MVO2 constants…").click_accesskit();
    harness.run_steps(2);
    give_reason(harness, reason, "the MVO2 constants");
}

#[test]
fn the_mvo2_constants_are_edited_in_review_with_a_reason_refused_when_not_physical_and_void_a_sign_off() {
    use heracles::review::analysis::{CaseAnalysis, case_settings};
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 26);
    harness.get_by_label("Sign-off").click();
    harness.run_steps(2);
    harness.get_by_label("Approved").click();
    harness.run_steps(1);
    harness.get_by_label("Sign").click();
    harness.run_steps(1);
    settle(&mut harness, "the sign-off");
    harness.get_by_label("VALID");
    harness.get_by_label("Traces").click();
    harness.run_steps(2);
    harness.get_by_label("Analysis choices of this case").click();
    harness.run_steps(2);
    let settings = || case_settings(&analysis_of(&path));
    let audit_rows = || {
        CaseFile::open_read_only(&path)
            .unwrap()
            .audit_trail()
            .unwrap()
            .len()
    };

    // A negative slope is not physical: refused with the reason, nothing stored or audited.
    let before = audit_rows();
    set_mvo2(
        &mut harness,
        "-1.8e-5",
        "0.0024",
        "Suga 1981, dog",
        "constants from the literature",
    );
    harness.get_by_label_contains("MVO2 constants need a slope a > 0");
    assert_eq!(settings().mvo2, None);
    assert_eq!(audit_rows(), before);

    // Physical constants: stored with the reason, every result recomputed, the sign-off void.
    set_mvo2(
        &mut harness,
        "1.8e-5",
        "0.0024",
        "Suga 1981, dog",
        "constants from the literature",
    );
    harness.get_by_label_contains("Saved; results recomputed.");
    let constants = settings().mvo2.expect("the constants are stored");
    assert_eq!(constants.ml_o2_per_mmhg_ml, 1.8e-5);
    assert_eq!(constants.ml_o2_per_beat, 0.0024);
    assert_eq!(constants.source, "Suga 1981, dog");
    let file = CaseFile::open_read_only(&path).unwrap();
    assert!(
        file.audit_trail()
            .unwrap()
            .iter()
            .any(|e| e.reason == "constants from the literature")
    );
    let case = CaseAnalysis::read(&file).unwrap();
    let (_, post) = case
        .report(
            heracles::review::analysis::State::Post,
            heracles::review::analysis::WindowKind::PvSteady,
        )
        .or_else(|| {
            case.report(
                heracles::review::analysis::State::Post,
                heracles::review::analysis::WindowKind::CoronaryRest,
            )
        })
        .unwrap();
    assert_eq!(post.settings.mvo2.as_ref(), Some(&constants));
    harness.get_by_label("Sign-off").click();
    harness.run_steps(2);
    harness.get_by_label("INVALIDATED");
}

/// The traces' plot rectangle and the time at its left and right edges (from the traces' label).
fn traces_span(harness: &Harness<'static, HeraclesApp>) -> (egui::Rect, f64, f64) {
    let traces = harness.get_by_label_contains("Review traces: ");
    let label = traces.accesskit_node().label().unwrap();
    let span: Vec<f64> = label
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (traces.rect(), span[0], span[1])
}

/// Takes an edge of the selected window at `from_s` and moves it to `to_s` in small steps, still held; returns
/// where the pointer is.
fn hold_edge_at(harness: &mut Harness<'static, HeraclesApp>, from_s: f64, to_s: f64) -> egui::Pos2 {
    let (plot, left_s, right_s) = traces_span(harness);
    let x_of = |t: f64| plot.left() + ((t - left_s) / (right_s - left_s)) as f32 * plot.width();
    let y = plot.center().y;
    let nudge = if to_s > from_s { 2.0 } else { -2.0 };
    harness.drag_at(egui::pos2(x_of(from_s) + nudge, y));
    harness.run_steps(1);
    for k in 1..=10 {
        let t = from_s + (to_s - from_s) * f64::from(k) / 10.0;
        harness.hover_at(egui::pos2(x_of(t), y));
        harness.run_steps(1);
    }
    egui::pos2(x_of(to_s), y)
}

/// Drags an edge of the selected window from `from_s` to `to_s` in small steps.
fn drag_edge(harness: &mut Harness<'static, HeraclesApp>, from_s: f64, to_s: f64) {
    let at = hold_edge_at(harness, from_s, to_s);
    harness.drop_at(at);
    harness.run_steps(3);
}

#[test]
fn shrinking_a_window_keeps_the_selected_beat_by_its_time_though_the_beats_are_renumbered() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 31);
    // The first window is selected: the baseline resting coronary window, 2-32 s. Beat #6 is chosen (a row of
    // the table in view).
    let window_id = analysis_of(&path).windows[0].0.id;
    let start_of = |number: u32| -> Option<u64> {
        let file = CaseFile::open_read_only(&path).unwrap();
        let beats = file.beats(window_id).unwrap();
        beats.iter().find(|b| b.number == number).map(|b| b.start)
    };
    let chosen = 6;
    let start = start_of(chosen).unwrap();
    harness.get_by_label(&format!("#{chosen}")).click_accesskit();
    harness.run_steps(2);
    harness.get_by_label(&format!("Beat #{chosen}: accepted"));

    // The start edge moves from 2 s to 4.5 s: the beats before go, the rest are numbered again from 1.
    drag_edge(&mut harness, 2.0, 4.5);
    harness
        .get_by_label("Reason")
        .type_text("catheter settling at the start");
    harness.run_steps(2);
    harness.get_by_label("Save").click();
    harness.run_steps(1);
    settle(&mut harness, "the shrunk window to be recomputed");
    let file = CaseFile::open_read_only(&path).unwrap();
    let window = &file.analysis_windows().unwrap()[0];
    assert!((window.start_s - 4.5).abs() < 0.3, "{}", window.start_s);
    let renumbered = file
        .beats(window_id)
        .unwrap()
        .iter()
        .find(|b| b.start == start)
        .map(|b| b.number)
        .unwrap();
    assert!(renumbered < chosen, "beat {chosen} kept its number {renumbered}");
    // The same beat (the same moment) is still the selected one, under its new number.
    harness.get_by_label(&format!("Beat #{renumbered}: accepted"));
    assert!(
        harness
            .query_by_label(&format!("Beat #{chosen}: accepted"))
            .is_none()
    );
}

/// Presses `key` with a frame before and after, as a hand on the keyboard does.
fn press(harness: &mut Harness<'static, HeraclesApp>, key: egui::Key) {
    harness.run_steps(2);
    harness.key_press(key);
    harness.run_steps(2);
}

#[test]
fn every_review_dialog_takes_enter_and_escape_from_its_text_field() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, path) = app_reviewing(dir.path(), 33);
    let audit_rows = || {
        CaseFile::open_read_only(&path)
            .unwrap()
            .audit_trail()
            .unwrap()
            .len()
    };

    // The reason dialog: the cursor is in the reason; Escape there cancels, nothing is saved.
    harness.get_by_label("#2").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Reject beat…").click();
    harness.run_steps(2);
    assert!(harness.get_by_label("Reason").is_focused());
    harness.get_by_label("Reason").type_text("ectopic");
    press(&mut harness, egui::Key::Escape);
    assert!(
        harness.query_by_label("Reason").is_none(),
        "Escape left the dialog open"
    );
    harness.get_by_label("Beat #2: accepted");
    let rows = audit_rows();
    // Enter in the reason saves, as the dialog's default answer.
    harness.get_by_label("Reject beat…").click();
    harness.run_steps(2);
    harness.get_by_label("Reason").type_text("ectopic beat");
    press(&mut harness, egui::Key::Enter);
    settle(&mut harness, "the rejection to be saved");
    harness.get_by_label("Beat #2: rejected by reviewer: ectopic beat");
    assert!(audit_rows() > rows);

    // The annotation: Enter in the note adds it.
    harness.get_by_label("Note").focus();
    harness.run_steps(1);
    harness.get_by_label("Note").type_text("wire pulled back");
    press(&mut harness, egui::Key::Enter);
    settle(&mut harness, "the annotation to be saved");
    let texts = || -> Vec<String> {
        let file = CaseFile::open_read_only(&path).unwrap();
        file.annotations().unwrap().into_iter().map(|a| a.text).collect()
    };
    assert_eq!(texts(), ["wire pulled back"]);
    // Its text edited: Escape in the field cancels, Enter saves.
    harness.get_all_by_label("Edit").last().unwrap().click();
    harness.run_steps(2);
    harness.get_by_label("Annotation text").focus();
    harness.run_steps(1);
    harness.get_by_label("Annotation text").type_text(" 1 cm");
    press(&mut harness, egui::Key::Escape);
    assert!(
        harness.query_by_label("Annotation text").is_none(),
        "Escape left the edit open"
    );
    assert_eq!(texts(), ["wire pulled back"]);
    harness.get_all_by_label("Edit").last().unwrap().click();
    harness.run_steps(2);
    harness.get_by_label("Annotation text").focus();
    harness.run_steps(1);
    harness.get_by_label("Annotation text").type_text(" 1 cm");
    press(&mut harness, egui::Key::Enter);
    settle(&mut harness, "the annotation text to be saved");
    assert_eq!(texts(), ["wire pulled back 1 cm"]);
}

#[test]
fn the_review_lanes_are_named_in_words_with_their_units_never_by_stored_id() {
    let dir = tempfile::tempdir().unwrap();
    let (harness, _path) = app_reviewing(dir.path(), 41);
    for lane in [
        "ECG (mV)",
        "Pa (mmHg)",
        "Pd (mmHg)",
        "Doppler velocity (cm/s)",
        "LV pressure (mmHg)",
        "LV volume (mL)",
    ] {
        harness.get_by_label(lane);
    }
    for id in ["ecg", "pa", "pd", "ipv", "lvp", "lvv"] {
        assert!(
            harness.query_by_label_contains(&format!("{id} (")).is_none(),
            "a lane is named by its id {id}"
        );
    }
}

#[test]
fn every_lanes_title_sits_above_its_trace_never_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let (harness, _path) = app_reviewing(dir.path(), 42);
    let lanes: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| node.label().is_some_and(|l| l.ends_with(") trace")))
        .map(|node| (node.accesskit_node().label().unwrap(), node.rect()))
        .collect();
    assert_eq!(lanes.len(), 6, "{lanes:?}");
    for (lane, _) in &lanes {
        let title = lane.trim_end_matches(" trace");
        let title_rect = harness.get_by_label(title).rect();
        for (other, trace) in &lanes {
            assert_eq!(
                crate::ui_live::overlap_area(title_rect, *trace),
                0.0,
                "the title \"{title}\" at {title_rect:?} is drawn over the {other} at {trace:?}"
            );
        }
    }
}

/// A minute of recording whose first steps lasted a second or so each (eligibility and preparation done while
/// recording), so that their names are wider than their bands, open for review (the whole minute in view).
fn short_steps_review(dir: &std::path::Path, number: u16) -> Harness<'static, HeraclesApp> {
    use heracles::model::StepId;
    let path = review_case::record(
        dir,
        number,
        0..60_000,
        heracles::store::RecorderOptions::default(),
    );
    review_case::add_steps(
        &path,
        &[
            (StepId::Eligibility, (0.0, 1.0)),
            (StepId::Preparation, (1.0, 2.5)),
            (StepId::BaselineCoronary, (2.5, 4.0)),
            (StepId::BaselinePv, (4.0, 60.0)),
        ],
    );
    open_review(&path, "fellow")
}

/// A label's text: its accessibility value (the tree may hold it as its label).
fn node_text(node: &egui_kittest::kittest::AccessKitNode<'_>) -> Option<String> {
    node.value().or(node.label())
}

#[test]
fn a_time_axis_label_is_drawn_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let harness = short_steps_review(dir.path(), 44);
    // 0 to 60 s in view: a tick at each edge.
    harness.get_by_label("Review traces: 0.00 s to 60.00 s");
    let area = harness.get_by_label_contains("Overview:").rect();
    let labels: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| node_text(node).is_some_and(|l| l.starts_with("Time axis ")))
        .map(|node| (node_text(&node.accesskit_node()).unwrap(), node.rect()))
        .collect();
    assert!(labels.len() >= 5, "{labels:?}");
    for (label, rect) in &labels {
        assert!(
            rect.left() >= area.left() && rect.right() <= area.right(),
            "{label} at {rect:?} is cut by the edge of the traces ({} to {})",
            area.left(),
            area.right()
        );
    }
}

#[test]
fn the_overviews_step_names_never_run_over_each_other_however_short_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let harness = short_steps_review(dir.path(), 43);
    let overview = harness.get_by_label_contains("Overview:").rect();
    let labels: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| node_text(node).is_some_and(|l| l.starts_with("Protocol step ")))
        .map(|node| (node_text(&node.accesskit_node()).unwrap(), node.rect()))
        .collect();
    // The long step's name is there in full; the short ones as far as they fit.
    assert!(
        labels
            .iter()
            .any(|(l, _)| l == "Protocol step Baseline PV loops: 4 s to 60 s"),
        "{labels:?}"
    );
    for (label, rect) in &labels {
        assert!(
            overview.contains_rect(*rect),
            "{label} at {rect:?} outside the overview {overview:?}"
        );
    }
    assert_none_runs_over_another(&labels);
}

/// No two of `labels` (text, drawn rectangle) overlap.
fn assert_none_runs_over_another(labels: &[(String, egui::Rect)]) {
    for (position, (label, rect)) in labels.iter().enumerate() {
        for (other, other_rect) in &labels[position + 1..] {
            assert_eq!(
                crate::ui_live::overlap_area(*rect, *other_rect),
                0.0,
                "\"{label}\" at {rect:?} runs over \"{other}\" at {other_rect:?}"
            );
        }
    }
}

#[test]
fn marker_labels_close_in_time_never_overlap_and_each_is_found_in_full() {
    // Eight markers within 1.4 s of each other (a protocol step's events come in bursts), in the first view.
    let texts = [
        "Baseline coronary: wire in place: ticked",
        "Baseline coronary: Pd/Pa equalised at 1.00",
        "Adenosine 140 mcg/kg/min started",
        "ECMO flow 3.5 L/min, sweep 2 L/min",
        "IABP 1:1, augmentation full",
        "Rest window saved",
        "Catheter flushed",
        "Baseline coronary: a note that is long enough to be cut short on the lane, so its full text is on hover",
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 43);
    let mut file = CaseFile::open(&path).unwrap();
    for (i, text) in texts.iter().enumerate() {
        file.add_marker("operator", 10.0 + 0.2 * i as f64, "marker", text)
            .unwrap();
    }
    drop(file);
    let harness = open_review(&path, "fellow");

    // Each marker is named in full, by its own label or by the count chip that gathers it.
    let text = |node: &egui_kittest::kittest::AccessKitNode<'_>| node.value().or(node.label());
    let shown: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| {
            text(node).is_some_and(|l| {
                l.starts_with("Marker at ") || l.contains(" more label: ") || l.contains(" more labels: ")
            })
        })
        .map(|node| (text(&node.accesskit_node()).unwrap(), node.rect()))
        .collect();
    for (i, text) in texts.iter().enumerate() {
        let name = format!("Marker at {:.1} s: {text}", 10.0 + 0.2 * i as f64);
        let found = shown
            .iter()
            .filter(|(label, _)| {
                *label == name || label.contains(&format!("{name};")) || label.ends_with(&name)
            })
            .count();
        assert_eq!(found, 1, "{name} in {shown:?}");
    }
    // Some labels are written out, the rest gathered, and no two of them overlap.
    assert!(
        shown.iter().any(|(l, _)| l.starts_with("Marker at ")),
        "{shown:?}"
    );
    for (i, (a, rect_a)) in shown.iter().enumerate() {
        for (b, rect_b) in &shown[i + 1..] {
            assert!(
                !rect_a.intersects(*rect_b) || rect_a.intersect(*rect_b).area() < 1e-3,
                "{a} at {rect_a:?} overlaps {b} at {rect_b:?}"
            );
        }
        // In the label strip: under the overview, above the first lane's title.
        let overview = harness.get_by_label_contains("Overview:").rect();
        let ecg = harness.get_by_label("ECG (mV)").rect();
        assert!(
            rect_a.top() >= overview.bottom() && rect_a.bottom() <= ecg.top(),
            "{a} at {rect_a:?}, overview {overview:?}, ECG title {ecg:?}"
        );
    }
}

#[test]
fn the_comparison_shows_the_six_month_status_under_value_and_its_day_under_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 44);
    let mut session = heracles::review::session::ReviewSession::open(&path, "fellow").unwrap();
    let mut form = heracles::review::follow_up::FollowUpForm::default();
    form.randomisation.randomised_utc = Some("2026-03-01T10:00:00Z".into());
    form.death.death_day = Some(100.0);
    form.month_6.last_contact_day = Some(100.0);
    session
        .apply(
            heracles::review::session::Edit::SetFollowUp(Box::new(form)),
            "follow-up entered",
        )
        .unwrap();
    drop(session);
    let mut harness = open_review(&path, "fellow");
    harness.get_by_label("Comparison").click();
    harness.run_steps(2);
    // The case's endpoints have headers of their own; the status is under Value, the day under Note.
    let left = |text: &str| harness.get_by_label(text).rect().left();
    harness.get_by_label("Case endpoint");
    harness.get_by_label("6-month status (0 alive, 1 dead, 2 lost to follow-up)");
    assert_eq!(left("dead"), left("Value"));
    assert_eq!(left("died on day 100"), left("Note"));
}

/// The label strip's window labels, marker labels and count chips, each by its text and where it is drawn.
fn strip_labels(harness: &Harness<'static, HeraclesApp>) -> Vec<(String, egui::Rect)> {
    harness
        .get_all_by(|node| {
            node_text(node).is_some_and(|l| {
                l.starts_with("Window label: ")
                    || l.starts_with("Marker at ")
                    || l.contains(" more label: ")
                    || l.contains(" more labels: ")
            })
        })
        .map(|node| (node_text(&node.accesskit_node()).unwrap(), node.rect()))
        .collect()
}

/// A label inside the traces' width, left to right (not cut by either edge).
fn assert_within_the_traces(label: &str, rect: egui::Rect, traces: egui::Rect) {
    assert!(
        rect.left() >= traces.left() - 0.5 && rect.right() <= traces.right() + 0.5,
        "\"{label}\" at {rect:?} is cut by the edge of the traces {traces:?}"
    );
}

/// No label over any lane's plot.
fn assert_none_covers_a_trace(labels: &[(String, egui::Rect)], plots: &[(String, egui::Rect)]) {
    for (label, rect) in labels {
        for (plot, plot_rect) in plots {
            assert_eq!(
                crate::ui_live::overlap_area(*rect, *plot_rect),
                0.0,
                "\"{label}\" at {rect:?} covers the {plot} at {plot_rect:?}"
            );
        }
    }
}

/// The six lanes' plots, each by its name and where it is drawn.
fn lane_plots(harness: &Harness<'static, HeraclesApp>) -> Vec<(String, egui::Rect)> {
    let plots: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| node.label().is_some_and(|l| l.ends_with(") trace")))
        .map(|node| (node.accesskit_node().label().unwrap(), node.rect()))
        .collect();
    assert_eq!(plots.len(), 6, "{plots:?}");
    plots
}

#[test]
fn window_and_marker_labels_have_a_strip_of_their_own_and_never_cover_a_trace() {
    // Markers close together within the first window, so that labels stagger and gather into a chip.
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 45);
    let mut file = CaseFile::open(&path).unwrap();
    for i in 0..6 {
        let text = format!("Marker number {i} with words enough to need a row of its own");
        file.add_marker("operator", 10.0 + 0.3 * f64::from(i), "marker", &text)
            .unwrap();
    }
    drop(file);
    let harness = open_review(&path, "fellow");
    let plots = lane_plots(&harness);
    let labels = strip_labels(&harness);
    assert!(
        labels.iter().any(|(l, _)| l.starts_with("Window label: ")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|(l, _)| l.starts_with("Marker at ")),
        "{labels:?}"
    );
    assert_none_covers_a_trace(&labels, &plots);
}

#[test]
fn a_strip_label_meeting_the_traces_right_edge_is_shifted_to_end_there_never_cut_mid_word() {
    // Two long-worded markers just before the right edge of the first view, where their labels would run out.
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 46);
    let (_, _, right_s) = traces_span(&open_review(&path, "fellow"));
    let mut file = CaseFile::open(&path).unwrap();
    for (dt, text) in [
        (0.6, "Capture progress: 21 beats accepted, 0 rejected"),
        (0.2, "Capture progress: 27 beats accepted, 0 rejected"),
    ] {
        file.add_marker("operator", right_s - dt, "marker", text).unwrap();
    }
    drop(file);
    let harness = open_review(&path, "fellow");
    let traces = harness.get_by_label_contains("Review traces: ").rect();
    let labels = strip_labels(&harness);
    // Both markers' labels are drawn, each inside the traces, and none runs over another.
    let near_edge = labels
        .iter()
        .filter(|(l, _)| l.starts_with("Marker at ") && l.contains("Capture progress"))
        .count();
    assert_eq!(near_edge, 2, "{labels:?}");
    for (label, rect) in &labels {
        assert_within_the_traces(label, *rect, traces);
    }
    assert_none_runs_over_another(&labels);
}

#[test]
fn the_length_of_a_window_being_dragged_stays_inside_the_traces() {
    // The first window (2-32 s) shrunk from its start to 31 s: a narrow band near the right edge, whose length
    // label ("1.0 s, shorter than a steady window") is wider than the room right of the band's centre.
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, _) = app_reviewing(dir.path(), 47);
    let traces = harness.get_by_label_contains("Review traces: ").rect();
    let at = hold_edge_at(&mut harness, 2.0, 31.0);
    let length = harness.get_by_label_contains("Window length: ");
    let (label, rect) = (node_text(&length.accesskit_node()).unwrap(), length.rect());
    assert!(label.contains("shorter than a steady window"), "{label}");
    assert_within_the_traces(&label, rect, traces);
    harness.drop_at(at);
    harness.run_steps(3);
}

#[test]
fn an_annotation_has_its_label_in_the_strip_never_over_a_trace_and_found_in_full() {
    let long =
        "Wire pulled back about one centimetre before the second baseline run; Pd/Pa re-equalised after it";
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 48);
    let mut file = CaseFile::open(&path).unwrap();
    file.add_annotation("fellow", 12.0, Some(16.0), "damped aortic trace")
        .unwrap();
    file.add_annotation("fellow", 20.0, None, long).unwrap();
    drop(file);
    let harness = open_review(&path, "fellow");
    let plots = lane_plots(&harness);
    let traces = harness.get_by_label_contains("Review traces: ").rect();
    let shown: Vec<(String, egui::Rect)> = harness
        .get_all_by(|node| node_text(node).is_some_and(|l| l.starts_with("Annotation at ")))
        .map(|node| (node_text(&node.accesskit_node()).unwrap(), node.rect()))
        .collect();
    // Each is named in full (the long one shortened on screen only), once.
    for name in [
        "Annotation at 12.0 – 16.0 s: damped aortic trace".to_owned(),
        format!("Annotation at 20.0 s: {long}"),
    ] {
        assert_eq!(
            shown.iter().filter(|(l, _)| *l == name).count(),
            1,
            "{name} in {shown:?}"
        );
    }
    for (label, rect) in &shown {
        assert_within_the_traces(label, *rect, traces);
    }
    assert_none_covers_a_trace(&shown, &plots);
    let mut all = strip_labels(&harness);
    all.extend(shown);
    assert_none_runs_over_another(&all);
}
