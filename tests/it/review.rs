//! Offline review through the public API on a synthetic case with known truth: windows analysed and stored,
//! the CDFR and the ESPVR against their analytic values, a reviewer's verdict changing the endpoint with its
//! audit row, undo, window moves carrying verdicts, sign-off invalidation, and the follow-up's clinical
//! endpoints.

use heracles::analysis::clinical::IcuStay;
use heracles::analysis::pipeline::Report;
use heracles::analysis::settings::{CdfrReference, MinimalResistanceChoice};
use heracles::model::RejectReason;
use heracles::review::analysis::{self, CaseAnalysis, ReviewError, State, WindowKind};
use heracles::review::follow_up::{Computed, EcmoOutcomeEntry, FollowUpForm};
use heracles::review::session::{CaseChoices, Edit, ReviewSession};
use heracles::review::sign_off::{SignOffState, SignatureMeaning};
use heracles::store::CaseFile;

use crate::review_case::{self, RR_S};

fn open_session(number: u16) -> (tempfile::TempDir, ReviewSession) {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), number);
    let session = ReviewSession::open(&path, "fellow").unwrap();
    (dir, session)
}

fn report(session: &ReviewSession, state: State, kind: WindowKind) -> (i64, Report) {
    let case = CaseAnalysis::read(session.file()).unwrap();
    let (window, report) = case.report(state, kind).unwrap();
    (window.id, report.clone())
}

fn apv(report: &Report) -> f64 {
    report.summary.coronary.as_ref().unwrap().apv_cm_s.unwrap()
}

#[test]
fn opening_analyses_every_window_and_the_cdfr_matches_the_truth() {
    let (_dir, session) = open_session(1);
    let (_, baseline) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    let (_, post) = report(&session, State::Post, WindowKind::CoronaryRest);
    // Beats are found on the R waves of the generator (the detector needs about half a second to settle, so the
    // first R wave of a window may only start the first beat's predecessor).
    let on_r_waves = |report: &Report| {
        let ks: Vec<u64> = report
            .beats
            .iter()
            .map(|b| ((b.time_s - 0.02) / RR_S).round() as u64)
            .collect();
        for (beat, k) in report.beats.iter().zip(&ks) {
            assert!(
                (beat.time_s - (*k as f64 * RR_S + 0.02)).abs() < 0.003,
                "beat {} at {}",
                beat.number,
                beat.time_s
            );
        }
        assert!(ks.windows(2).all(|w| w[1] == w[0] + 1), "consecutive beats");
        (ks[0], ks[ks.len() - 1] + 1)
    };
    let (first, last) = on_r_waves(&baseline);
    assert!(last - first >= 34, "{} beats", last - first);
    let truth_baseline = review_case::true_apv(first, last, false);
    let (post_first, post_last) = on_r_waves(&post);
    let truth_post = review_case::true_apv(post_first, post_last, true);
    assert!(
        (apv(&baseline) / truth_baseline - 1.0).abs() < 0.005,
        "{} vs {truth_baseline}",
        apv(&baseline)
    );
    assert!(
        (apv(&post) / truth_post - 1.0).abs() < 0.005,
        "{} vs {truth_post}",
        apv(&post)
    );
    let case = CaseAnalysis::read(session.file()).unwrap();
    let cdfr = &case.case_results[analysis::CDFR].value["cdfr"]["value"];
    let value = cdfr["cdfr"].as_f64().unwrap();
    assert!(
        (value / (truth_post / truth_baseline) - 1.0).abs() < 0.005,
        "CDFR {value}"
    );
    let ci: Vec<f64> = serde_json::from_value(cdfr["ci95"].clone()).unwrap();
    assert!(ci[0] <= value && value <= ci[1], "{ci:?} around {value}");
}

#[test]
fn dragged_occlusion_beats_give_the_true_espvr_and_fix_v0_for_the_other_windows() {
    let (_dir, mut session) = open_session(2);
    let (window_id, before) = report(&session, State::Baseline, WindowKind::PvPreloadReduction);
    // The occlusion starts at 40 s: the beats from the R wave at 40.02 s on, 13 of them with falling EDV.
    let first = before
        .beats
        .iter()
        .find(|b| (b.time_s - 40.02).abs() < 0.003)
        .unwrap()
        .number;
    // Before the fellow chooses, the falling limb of EDV is found automatically: no pre-occlusion beat in it.
    let [auto_first, auto_last] = before
        .summary
        .occlusion_beats
        .expect("occlusion found automatically");
    assert!(
        auto_first >= first && auto_last <= first + 13,
        "{auto_first}-{auto_last}, occlusion from {first}"
    );
    let auto = before.summary.espvr.as_ref().expect("an automatic ESPVR");
    assert!(auto.n >= 5);
    assert!(
        (auto.ees_mmhg_per_ml / review_case::EES - 1.0).abs() < 0.05,
        "automatic Ees {}",
        auto.ees_mmhg_per_ml
    );
    let chosen = (first, first + 12);
    let preview = session.preview_occlusion(window_id, chosen).unwrap().unwrap();
    session
        .apply(
            Edit::SetOcclusion {
                window_id,
                beats: Some(chosen),
            },
            "occlusion beats chosen on the loops",
        )
        .unwrap();
    let (_, after) = report(&session, State::Baseline, WindowKind::PvPreloadReduction);
    let espvr = after.summary.espvr.as_ref().unwrap();
    assert_eq!(
        espvr, &preview,
        "the stored fit is the one previewed while dragging"
    );
    assert_eq!(espvr.n, 13);
    assert!(
        (espvr.ees_mmhg_per_ml / review_case::EES - 1.0).abs() < 0.02,
        "Ees {}",
        espvr.ees_mmhg_per_ml
    );
    assert!(
        (espvr.v0_ml - review_case::V0_ML).abs() < 1.5,
        "V0 {}",
        espvr.v0_ml
    );
    assert!(espvr.r2 > 0.999, "r2 {}", espvr.r2);
    // Every other window now uses that V0, and says where it came from.
    let (_, steady) = report(&session, State::Post, WindowKind::PvSteady);
    let pv = steady.summary.pv.as_ref().unwrap();
    assert_eq!(pv.v0_ml, espvr.v0_ml);
    let (preload_id, _) = report(&session, State::Baseline, WindowKind::PvPreloadReduction);
    assert_eq!(
        pv.v0_source,
        heracles::analysis::pipeline::V0Source::CaseEspvr {
            window_id: preload_id
        }
    );
}

#[test]
fn rejecting_a_beat_changes_the_endpoint_with_an_audited_reason_and_undo_restores_it() {
    let (_dir, mut session) = open_session(3);
    let (window_id, before) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    // The beat of the generator's smallest diastolic velocity (factor 0.85): rejecting it raises the APV.
    let number = review_case::velocity_beat(&before, 0.85);
    let cdfr_before = CaseAnalysis::read(session.file()).unwrap().case_results[analysis::CDFR]
        .value
        .clone();
    let reason = "Doppler envelope clipped by the console";
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number,
                verdict: Some(RejectReason::Manual(reason.into())),
            },
            reason,
        )
        .unwrap();
    let (_, after) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    assert_eq!(after.summary.num_accepted, before.summary.num_accepted - 1);
    assert!(apv(&after) > apv(&before), "{} vs {}", apv(&after), apv(&before));
    assert_eq!(after.summary.rejected.get("manual"), Some(&1));
    let cdfr_after = CaseAnalysis::read(session.file()).unwrap().case_results[analysis::CDFR]
        .value
        .clone();
    assert!(
        cdfr_after["cdfr"]["value"]["cdfr"].as_f64() < cdfr_before["cdfr"]["value"]["cdfr"].as_f64(),
        "the baseline's steady window now starts after the slow beat and leaves out a slow phase of the 5-beat \
         cycle rather than a fast one: a higher baseline APV lowers the CDFR"
    );
    let trail = session.file().audit_trail().unwrap();
    let row = trail.iter().find(|e| e.action == "reject_beat").unwrap();
    assert_eq!((row.who.as_str(), row.reason.as_str()), ("fellow", reason));
    assert!(row.new_value.as_deref().unwrap().contains(reason));

    let applied = session.undo().unwrap();
    assert!(applied.is_some());
    let (_, undone) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    assert_eq!(apv(&undone), apv(&before));
    let trail = session.file().audit_trail().unwrap();
    let row = trail.iter().rev().find(|e| e.action == "accept_beat").unwrap();
    assert_eq!(row.reason, format!("undo: {reason}"));
    assert!(session.undo().unwrap().is_none(), "nothing left to undo");
    assert!(session.file().verify().unwrap().ok());
}

#[test]
fn a_moved_window_finds_its_beats_again_and_keeps_reviewed_verdicts() {
    let (_dir, mut session) = open_session(4);
    let (window_id, _) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number: 3,
                verdict: Some(RejectReason::Manual("ectopic".into())),
            },
            "ectopic",
        )
        .unwrap();
    let reviewed_start = session.file().beats(window_id).unwrap()[2].start;
    let rejected = |session: &ReviewSession| -> Vec<(u32, u64)> {
        let beats = session.file().beats(window_id).unwrap();
        beats
            .iter()
            .filter(|b| !b.accepted())
            .map(|b| (b.number, b.start))
            .collect()
    };
    // A second earlier: the window gains beats at its start, the reviewed beat gets a higher number.
    let applied = session
        .apply(
            Edit::MoveWindow {
                window_id,
                start_s: 1.0,
                end_s: 32.0,
            },
            "include the first clean beats",
        )
        .unwrap();
    assert!(applied.notes.is_empty(), "{:?}", applied.notes);
    let moved = rejected(&session);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].1, reviewed_start);
    assert!(moved[0].0 > 3);
    let (_, report_moved) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    assert_eq!(report_moved.summary.from_s, 1.0);
    let num_beats = session.file().beats(window_id).unwrap().len();
    assert_eq!(report_moved.summary.num_accepted, num_beats - 1);
    assert_eq!(report_moved.beats.iter().filter(|b| !b.accepted).count(), 1);
    // Undo moves it back, and the verdict follows again.
    session.undo().unwrap();
    assert_eq!(rejected(&session), vec![(3, reviewed_start)]);
    assert!(session.file().verify().unwrap().ok());
}

#[test]
fn a_later_edit_invalidates_the_sign_off_and_says_who_and_when() {
    let (_dir, mut session) = open_session(5);
    session
        .apply(
            Edit::SignOff {
                meaning: SignatureMeaning::Approval,
            },
            "",
        )
        .unwrap();
    let snapshot = session.snapshot().unwrap();
    assert_eq!(snapshot.sign_offs.len(), 1);
    assert_eq!(snapshot.sign_offs[0].state, SignOffState::Valid);
    assert_eq!(snapshot.sign_offs[0].sign_off.who, "fellow");
    assert_eq!(snapshot.summary.status, "signed_off");
    let (window_id, _) = report(&session, State::Post, WindowKind::CoronaryRest);
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number: 5,
                verdict: Some(RejectReason::Manual("artefact".into())),
            },
            "artefact",
        )
        .unwrap();
    let snapshot = session.snapshot().unwrap();
    match &snapshot.sign_offs[0].state {
        SignOffState::Invalidated {
            first_edit,
            results_changed,
            ..
        } => {
            assert_eq!(first_edit.action, "reject_beat");
            assert_eq!(first_edit.who, "fellow");
            assert_eq!(first_edit.reason, "artefact");
            assert!(!first_edit.utc.is_empty());
            assert!(results_changed);
        }
        SignOffState::Valid => panic!("the sign-off should be invalidated"),
    }
}

#[test]
fn the_follow_up_gives_the_clinical_endpoints_in_the_table() {
    let (_dir, mut session) = open_session(6);
    let mut form = FollowUpForm::default();
    form.randomisation.randomised_utc = Some("2026-03-01T10:00:00Z".into());
    form.decannulation.outcome = Some(EcmoOutcomeEntry::Weaned);
    form.decannulation.decannulation_day = Some(4.5);
    form.icu.stays = vec![IcuStay {
        admission_day: 0.0,
        discharge_day: Some(9.0),
    }];
    form.month_6.last_contact_day = Some(185.0);
    session
        .apply(Edit::SetFollowUp(Box::new(form.clone())), "")
        .unwrap();
    let snapshot = session.snapshot().unwrap();
    assert_eq!(snapshot.follow_up, form);
    let row = |key: &str| snapshot.endpoints.iter().find(|r| r.key == key).unwrap().clone();
    assert_eq!(row("days_alive_out_of_icu_30").value, Some(21.0));
    // Event time and type in separate rows: a success (code 1) at day 4.5.
    assert_eq!(row("decannulation_event_time").value, Some(4.5));
    assert_eq!(row("decannulation_event_type").value, Some(1.0));
    assert_eq!(row("successful_decannulation_30").value, Some(1.0));
    // The 6-month status: its code the value, its words a column of their own, not the note.
    assert_eq!(row("six_month_status").value, Some(0.0));
    assert_eq!(row("six_month_status").category.as_deref(), Some("alive"));
    assert_eq!(row("six_month_status").note, None);
    assert_eq!(row("six_month_status").shown(&snapshot.endpoints), "alive");
    let defaults = heracles::analysis::clinical::ClinicalHorizons::default();
    assert!(matches!(form.endpoints(&defaults).days_alive_out_of_icu_30, Computed::Value(v) if v == 21.0));
    // The horizons (a trial setting) are echoed in the rows and in the stored result.
    assert_eq!(
        row("successful_decannulation_30").label,
        "Successful decannulation at 30 days (1 yes, 0 no)"
    );
    assert!(
        row("decannulation_event_type")
            .method
            .contains("48 h after decannulation")
    );
    assert_eq!(
        row("days_alive_out_of_icu_30").label,
        "Days alive and out of ICU at 30 days"
    );
    let case = CaseAnalysis::read(session.file()).unwrap();
    assert_eq!(
        case.case_results[analysis::CLINICAL].value["horizons"]["success_confirmation_days"],
        2.0
    );
    // A second change of a section asks for a reason, and is audited with it.
    form.decannulation.decannulation_day = Some(5.0);
    assert!(
        session
            .apply(Edit::SetFollowUp(Box::new(form.clone())), "")
            .is_err()
    );
    session
        .apply(
            Edit::SetFollowUp(Box::new(form)),
            "date corrected from the ICU chart",
        )
        .unwrap();
    let trail = session.file().audit_trail().unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "set_follow_up" && e.reason == "date corrected from the ICU chart")
    );
    let file = CaseFile::open_read_only(session.file().path()).unwrap();
    assert!(file.verify().unwrap().ok());

    // A trial with other horizons: 28 days for both 30-day endpoints. The ICU stay (days 0-9) then leaves 19 days
    // alive and out of ICU, and the labels say 28.
    let path = session.file().path().to_owned();
    drop((session, file));
    let mut file = CaseFile::open(&path).unwrap();
    for window in file.analysis_windows().unwrap() {
        let mut stored = analysis::window_settings(&window);
        let mut settings = stored.settings();
        settings.clinical.success_horizon_days = 28.0;
        settings.clinical.alive_out_of_icu_horizon_days = 28.0;
        stored.analysis = Some(settings);
        file.set_analysis_window_settings("fellow", window.id, &stored.json(), "trial horizons")
            .unwrap();
    }
    analysis::recompute(&mut file, "fellow", analysis::Scope::All).unwrap();
    drop(file);
    let session = ReviewSession::open(&path, "fellow").unwrap();
    let snapshot = session.snapshot().unwrap();
    let row = |key: &str| snapshot.endpoints.iter().find(|r| r.key == key).unwrap().clone();
    assert_eq!(row("days_alive_out_of_icu_30").value, Some(19.0));
    assert_eq!(
        row("days_alive_out_of_icu_30").label,
        "Days alive and out of ICU at 28 days"
    );
    assert!(row("successful_decannulation_30").label.contains("at 28 days"));
}

/// Writes the synthetic case, analysed, with an occlusion chosen and one beat rejected, into `$HERACLES_DEMO_DIR`
/// (for screenshots and trying the review screen by hand):
/// `HERACLES_DEMO_DIR=/tmp/demo cargo test --test it review::write_demo_case -- --ignored`.
#[test]
#[ignore]
fn write_demo_case() {
    let dir = std::path::PathBuf::from(std::env::var("HERACLES_DEMO_DIR").unwrap());
    let path = review_case::create(&dir, 42);
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    let (window_id, report_before) = report(&session, State::Baseline, WindowKind::PvPreloadReduction);
    let first = report_before
        .beats
        .iter()
        .find(|b| (b.time_s - 40.02).abs() < 0.003)
        .unwrap()
        .number;
    session
        .apply(
            Edit::SetOcclusion {
                window_id,
                beats: Some((first, first + 12)),
            },
            "occlusion beats",
        )
        .unwrap();
    let (window_id, _) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number: 6,
                verdict: Some(RejectReason::Manual("Doppler envelope lost".into())),
            },
            "Doppler envelope lost",
        )
        .unwrap();
    session
        .apply(
            Edit::AddAnnotation {
                start_s: 14.0,
                end_s: Some(16.5),
                text: "catheter flush".into(),
            },
            "annotation",
        )
        .unwrap();
    println!("{}", path.display());
}

#[test]
fn a_bedside_sign_off_survives_bookkeeping_and_notes_and_falls_to_a_changed_result() {
    let (_dir, session) = open_session(7);
    let path = session.file().path().to_owned();
    drop(session);
    let mut file = CaseFile::open(&path).unwrap();
    // The bedside operator signs, bound to the results digest like the reviewer.
    let signed = heracles::review::sign_off::sign_bound(
        &mut file,
        "Dr A",
        heracles::review::sign_off::OPERATOR_ROLE,
        "I confirm the protocol was carried out as recorded.",
    )
    .unwrap();
    assert!(heracles::review::sign_off::statement_digest(&signed.statement).is_some());
    // Protocol bookkeeping after the signature (a step row closed, the protocol's own marker) and a note leave it
    // valid: only a person changing a result may invalidate it.
    let step = file
        .start_step("Dr A", heracles::model::StepId::SignOff, Some(99.0), None, None)
        .unwrap();
    file.end_step("Dr A", step, Some(99.5), None, None).unwrap();
    file.add_marker(
        "Dr A",
        99.5,
        "protocol",
        "{\"event\":\"Next\",\"words\":\"Next step\"}",
    )
    .unwrap();
    file.add_annotation("Dr A", 10.0, None, "wire in mid LAD")
        .unwrap();
    let status = heracles::review::sign_off::status(&file).unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].state, SignOffState::Valid, "{:?}", status[0].state);
    assert_eq!(status[0].num_notes_since, 2);
    assert_eq!(
        heracles::review::sign_off::status_label(&status),
        "signed off by Dr A"
    );
    drop(file);
    // A reviewer's rejection changes a result: now it is invalidated, and the results are said to differ.
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    let (window_id, _) = report(&session, State::Baseline, WindowKind::CoronaryRest);
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number: 3,
                verdict: Some(RejectReason::Manual("artefact".into())),
            },
            "artefact",
        )
        .unwrap();
    let snapshot = session.snapshot().unwrap();
    match &snapshot.sign_offs[0].state {
        SignOffState::Invalidated {
            first_edit,
            results_changed,
            ..
        } => {
            assert_eq!(first_edit.action, "reject_beat");
            assert_eq!(first_edit.who, "fellow");
            assert!(results_changed);
        }
        SignOffState::Valid => panic!("a changed result must invalidate the sign-off"),
    }
    assert!(
        heracles::review::sign_off::status_label(&snapshot.sign_offs).contains("INVALIDATED"),
        "{}",
        heracles::review::sign_off::status_label(&snapshot.sign_offs)
    );
    // Markers read in words: the protocol's JSON never reaches a reader.
    assert!(
        snapshot
            .events
            .iter()
            .all(|event| !event.text.contains("{\"event\"")),
        "{:?}",
        snapshot.events
    );
    assert!(snapshot.events.iter().any(|event| event.text == "Next step"));
}

#[test]
fn a_case_choice_is_stored_audited_echoed_and_invalidates_the_sign_off_and_an_impossible_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 8);
    // An IABP case: a balloon pumps in the post state.
    heracles::store::CaseFile::open(&path)
        .unwrap()
        .set_allocation(
            "coordinator",
            heracles::store::Allocation::Iabp,
            "RND-8",
            "allocation recorded",
        )
        .unwrap();
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    session
        .apply(
            Edit::SignOff {
                meaning: SignatureMeaning::Approval,
            },
            "",
        )
        .unwrap();
    let current = |session: &ReviewSession| {
        heracles::review::analysis::case_settings(&CaseAnalysis::read(session.file()).unwrap())
    };
    let choices = CaseChoices::of(&current(&session));
    assert_eq!(choices.minimal_resistance, MinimalResistanceChoice::HmrElseBmr);
    let num_results = session.file().results().unwrap().len();
    let num_audit = session.file().audit_trail().unwrap().len();
    // Refused, with the reason, and nothing changed: the within-session reference without a resting window at
    // minimum support, a WFP-MR rule in an IABP case, the HMR rule without hyperaemic windows.
    for (refused, why) in [
        (
            CaseChoices {
                cdfr_reference: CdfrReference::DeviceStandby,
                ..choices.clone()
            },
            "minimum support",
        ),
        (
            CaseChoices {
                minimal_resistance: MinimalResistanceChoice::WfpMr,
                ..choices.clone()
            },
            "balloon",
        ),
        (
            CaseChoices {
                minimal_resistance: MinimalResistanceChoice::Hmr,
                ..choices.clone()
            },
            "hyperaemic",
        ),
    ] {
        let error = session
            .apply(Edit::SetChoices(refused), "protocol amendment")
            .unwrap_err();
        assert!(matches!(error, ReviewError::Refused(_)), "{error}");
        assert!(error.to_string().contains(why), "{error}");
        assert_eq!(session.file().results().unwrap().len(), num_results);
        assert_eq!(session.file().audit_trail().unwrap().len(), num_audit);
    }
    assert_eq!(
        session.snapshot().unwrap().sign_offs[0].state,
        SignOffState::Valid
    );
    // The minimal resistance is BMR in both states of this IABP case, and says so.
    let snapshot = session.snapshot().unwrap();
    let minimal: Vec<_> = snapshot
        .endpoints
        .iter()
        .filter(|r| r.key == "minimal_mr")
        .collect();
    assert_eq!(minimal[0].kind.as_deref(), Some("BMR"));
    assert_eq!(minimal[1].kind.as_deref(), Some("BMR"));
    // Each counts the beats of its state's resting window, as that window's APV row does.
    for (row, state) in minimal[..2].iter().zip(["baseline", "post"]) {
        let apv = snapshot
            .endpoints
            .iter()
            .find(|r| r.key == "apv" && r.state == state)
            .unwrap();
        assert!(row.num_beats_used.is_some_and(|n| n > 0), "{row:?}");
        assert_eq!(
            (row.num_beats_used, row.num_beats_excluded),
            (apv.num_beats_used, apv.num_beats_excluded)
        );
    }
    assert_eq!(
        minimal[2].value,
        minimal[0].value.zip(minimal[1].value).map(|(b, p)| p - b)
    );
    // A vessel diameter: stored with every window (audited with the reason), volumetric flow appears, the
    // choice is echoed in the case results, and the sign-off no longer holds.
    assert!(
        snapshot
            .endpoints
            .iter()
            .all(|r| r.key != "volumetric_flow" || r.value.is_none())
    );
    session
        .apply(
            Edit::SetChoices(CaseChoices {
                vessel_diameter_cm: Some(0.3),
                ..choices.clone()
            }),
            "diameter from QCA",
        )
        .unwrap();
    assert_eq!(current(&session).vessel_diameter_cm, Some(0.3));
    let snapshot = session.snapshot().unwrap();
    let flow = snapshot
        .endpoints
        .iter()
        .find(|r| r.key == "volumetric_flow" && r.state == "baseline")
        .unwrap();
    let apv = snapshot
        .endpoints
        .iter()
        .find(|r| r.key == "apv" && r.state == "baseline")
        .unwrap();
    let expected = 60.0 * 0.5 * apv.value.unwrap() * std::f64::consts::PI * 0.3 * 0.3 / 4.0;
    assert!((flow.value.unwrap() / expected - 1.0).abs() < 1e-12, "{flow:?}");
    let cdfr = snapshot.endpoints.iter().find(|r| r.key == "cdfr").unwrap();
    assert!(
        cdfr.method.contains("vessel diameter: 0.30 cm"),
        "{}",
        cdfr.method
    );
    let trail = session.file().audit_trail().unwrap();
    assert!(trail.iter().any(|e| e.reason == "diameter from QCA"));
    assert!(matches!(
        snapshot.sign_offs[0].state,
        SignOffState::Invalidated { .. }
    ));
    // Undo puts the previous choices back.
    session.undo().unwrap().unwrap();
    assert_eq!(current(&session).vessel_diameter_cm, None);
}

#[test]
fn the_within_session_reference_divides_by_the_resting_window_at_minimum_support() {
    use heracles::model::{IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, StepId, UnloadingDevice};
    use heracles::store::AnalysisWindow;
    let impella = |p_level| {
        UnloadingDevice::Impella(ImpellaSettings {
            model: ImpellaModel::ImpellaCp,
            p_level,
            displayed_flow_l_min: None,
        })
    };
    let iabp = |ratio| {
        UnloadingDevice::Iabp(IabpSettings {
            ratio,
            ..IabpSettings::default()
        })
    };
    for (number, target, minimum, words) in [
        (31, impella(6), impella(2), "Impella CP P-2"),
        (
            32,
            iabp(IabpRatio::OneToOne),
            iabp(IabpRatio::Standby),
            "IABP standby, 40 mL",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = review_case::create(dir.path(), number);
        let mut file = CaseFile::open(&path).unwrap();
        let step = file
            .start_step(
                "operator",
                StepId::DeviceInsertion,
                Some(59.0),
                Some(&target),
                None,
            )
            .unwrap();
        file.end_step("operator", step, Some(60.0), None, None).unwrap();
        drop(file);
        let mut session = ReviewSession::open(&path, "fellow").unwrap();
        let current =
            |session: &ReviewSession| analysis::case_settings(&CaseAnalysis::read(session.file()).unwrap());
        let choices = CaseChoices::of(&current(&session));
        let within = CaseChoices {
            cdfr_reference: CdfrReference::DeviceStandby,
            ..choices.clone()
        };
        // Without the window at minimum support the reference is refused with the reason, nothing changed.
        let num_audit = session.file().audit_trail().unwrap().len();
        let error = session
            .apply(Edit::SetChoices(within.clone()), "within-session reference")
            .unwrap_err();
        assert!(matches!(error, ReviewError::Refused(_)), "{error}");
        assert!(error.to_string().contains("minimum support"), "{error}");
        assert_eq!(session.file().audit_trail().unwrap().len(), num_audit);
        assert_eq!(current(&session).cdfr.reference, CdfrReference::EcmoAloneBaseline);
        drop(session);
        // The bedside stores the window at minimum support with the device setting the operator recorded.
        let mut file = CaseFile::open(&path).unwrap();
        file.save_analysis_window(
            "operator",
            &AnalysisWindow {
                id: 0,
                step: Some(StepId::PostCoronary),
                start_s: 95.0,
                end_s: 124.0,
                method: WindowKind::CoronaryRestMinimumSupport.key().into(),
                settings: serde_json::json!({ "support": minimum }),
                algorithm_version: heracles::analysis::ALGORITHM_VERSION.into(),
            },
        )
        .unwrap();
        drop(file);
        let mut session = ReviewSession::open(&path, "fellow").unwrap();
        let baseline_cdfr = |session: &ReviewSession| {
            let case = CaseAnalysis::read(session.file()).unwrap();
            case.case_results[analysis::CDFR].value["cdfr"]["value"]["cdfr"]
                .as_f64()
                .unwrap()
        };
        let by_baseline = baseline_cdfr(&session);
        session
            .apply(Edit::SetChoices(within.clone()), "within-session reference")
            .unwrap();
        assert_eq!(current(&session).cdfr.reference, CdfrReference::DeviceStandby);
        let (minimum_id, minimum_report) =
            report(&session, State::Post, WindowKind::CoronaryRestMinimumSupport);
        let (_, post_report) = report(&session, State::Post, WindowKind::CoronaryRest);
        let case = CaseAnalysis::read(session.file()).unwrap();
        let record = &case.case_results[analysis::CDFR].value;
        assert_eq!(record["reference_window_id"].as_i64(), Some(minimum_id));
        assert_eq!(record["reference_support"].as_str(), Some(words));
        let cdfr = &record["cdfr"]["value"];
        assert_eq!(cdfr["reference"].as_str(), Some("device_standby"));
        let value = cdfr["cdfr"].as_f64().unwrap();
        // Each window's APV, time-weighted over the steady beats of its stored report (the CDFR's rule).
        let steady_apv = |report: &Report| {
            let (beats, steady) = report.steady_coronary_beats();
            assert!(steady && beats.len() >= 10, "{} steady beats", beats.len());
            let (vti, rr) = beats
                .iter()
                .fold((0.0, 0.0), |(v, r), b| (v + b.vti_cm.unwrap(), r + b.rr_s));
            vti / rr
        };
        let expected = steady_apv(&post_report) / steady_apv(&minimum_report);
        assert!(
            (value / expected - 1.0).abs() < 1e-9,
            "CDFR {value} vs {expected}"
        );
        // The windows' own APVs agree (the synthetic post state is the same at both settings).
        assert!((expected / (apv(&post_report) / apv(&minimum_report)) - 1.0).abs() < 0.01);
        assert!(
            (value - by_baseline).abs() > 0.05,
            "{value} is the baseline reference's {by_baseline}"
        );
        // The endpoint table's row says which reference it divides by.
        let row = session
            .snapshot()
            .unwrap()
            .endpoints
            .into_iter()
            .find(|r| r.key == "cdfr")
            .unwrap();
        assert_eq!(row.value, Some(value));
        assert!(
            row.method
                .contains(&format!("minimum support in the same session ({words})")),
            "{}",
            row.method
        );
        // Back to the baseline reference: the same function, the other denominator.
        session
            .apply(Edit::SetChoices(choices.clone()), "back to the trial's default")
            .unwrap();
        assert_eq!(baseline_cdfr(&session), by_baseline);
    }
}

#[test]
fn mvo2_constants_are_a_case_choice_echoed_in_the_energetics_rows() {
    use heracles::analysis::settings::Mvo2Constants;
    let (_dir, mut session) = open_session(34);
    let current =
        |session: &ReviewSession| analysis::case_settings(&CaseAnalysis::read(session.file()).unwrap());
    let choices = CaseChoices::of(&current(&session));
    assert_eq!(choices.mvo2, None);
    let row = |session: &ReviewSession, state: &str| {
        session
            .snapshot()
            .unwrap()
            .endpoints
            .into_iter()
            .find(|r| r.key == "mvo2" && r.state == state)
            .unwrap()
    };
    assert_eq!(row(&session, "post").value, None);
    let constants = Mvo2Constants {
        ml_o2_per_mmhg_ml: 1.8e-5,
        ml_o2_per_beat: 2.4e-3,
        source: "Suga 1981, dog".into(),
    };
    // Refused with the reason, nothing stored: no slope, a negative intercept, no source.
    let num_audit = session.file().audit_trail().unwrap().len();
    for wrong in [
        Mvo2Constants {
            ml_o2_per_mmhg_ml: 0.0,
            ..constants.clone()
        },
        Mvo2Constants {
            ml_o2_per_beat: -1e-3,
            ..constants.clone()
        },
        Mvo2Constants {
            source: " ".into(),
            ..constants.clone()
        },
    ] {
        let error = session
            .apply(
                Edit::SetChoices(CaseChoices {
                    mvo2: Some(wrong),
                    ..choices.clone()
                }),
                "constants from the literature",
            )
            .unwrap_err();
        assert!(matches!(error, ReviewError::Refused(_)), "{error}");
        assert!(error.to_string().contains("MVO2"), "{error}");
    }
    assert_eq!(session.file().audit_trail().unwrap().len(), num_audit);
    session
        .apply(
            Edit::SetChoices(CaseChoices {
                mvo2: Some(constants.clone()),
                ..choices.clone()
            }),
            "constants from the literature",
        )
        .unwrap();
    assert_eq!(current(&session).mvo2, Some(constants.clone()));
    assert!(
        session
            .file()
            .audit_trail()
            .unwrap()
            .iter()
            .any(|e| e.reason == "constants from the literature")
    );
    for state in [State::Baseline, State::Post] {
        let (_, pv) = report(&session, state, WindowKind::PvSteady);
        let window = pv.summary.pv.as_ref().unwrap();
        let expected = (constants.ml_o2_per_mmhg_ml * window.pva_mmhg_ml.unwrap() + constants.ml_o2_per_beat)
            * window.heart_rate_bpm;
        let row = row(&session, state.key());
        assert!(
            (row.value.unwrap() / expected - 1.0).abs() < 1e-12,
            "{:?} vs {expected}",
            row.value
        );
        assert!(row.flags.iter().any(|f| f == "estimate"), "{:?}", row.flags);
        for words in [
            "a = 0.000018 mL O2/(mmHg.mL)",
            "b = 0.0024 mL O2/beat",
            "Suga 1981, dog",
        ] {
            assert!(row.method.contains(words), "{words} not in {}", row.method);
        }
    }
    // Undo takes the constants away again, and the estimate with them.
    session.undo().unwrap().unwrap();
    assert_eq!(current(&session).mvo2, None);
    assert_eq!(row(&session, "post").value, None);
}

/// The simulated patient on VA-ECMO alone (0-40 s), with `target` from 40 s and at `minimum` from 100 s to 140 s,
/// recorded into a case file with its steps and windows as the bedside stores them (the window at minimum support
/// with its device setting). Returns the path and the true peak velocity at every sample.
fn simulated_case(
    dir: &std::path::Path,
    number: u16,
    target: heracles::model::UnloadingDevice,
    minimum: heracles::model::UnloadingDevice,
) -> (std::path::PathBuf, Vec<f64>) {
    use heracles::acquisition::RecordSink;
    use heracles::model::{Block, CaseId, RecordItem, StepId, UnloadingDevice};
    use heracles::sim::{Control, SensorLevel, Simulator};
    use heracles::store::{AnalysisWindow, Recorder, RecorderOptions};
    let case_id: CaseId = format!("HER-TST-{number:04}").parse().unwrap();
    let file = CaseFile::create(dir, case_id, "operator").unwrap();
    let path = file.path().to_owned();
    let mut recorder: Box<dyn RecordSink> =
        Box::new(Recorder::start(file, RecorderOptions::default()).unwrap());
    let mut simulator = Simulator::new("shock-ecmo", 7, SensorLevel::Clean).unwrap();
    let mut items = vec![RecordItem::Source {
        source: 0,
        spec: simulator.source_spec(),
        first_sample: 0,
    }];
    let mut truth = Vec::new();
    for (device, seconds) in [(UnloadingDevice::None, 40), (target, 60), (minimum, 40)] {
        simulator.control(Control::Device(device));
        for _ in 0..seconds {
            let first_sample = truth.len() as u64;
            let mut channels: Vec<Vec<f32>> = (0..7).map(|_| Vec::with_capacity(1000)).collect();
            simulator.advance(1000, |sample| {
                for (channel, value) in channels.iter_mut().zip(sample.measured) {
                    channel.push(value as f32);
                }
                truth.push(sample.truth.coronary_peak_velocity_cm_s);
            });
            items.push(RecordItem::Block {
                source: 0,
                block: Block {
                    first_sample,
                    channels,
                },
            });
        }
    }
    for mut item in items {
        while let Err(back) = recorder.offer(item) {
            item = back;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    recorder.finish(Vec::new()).unwrap();
    let mut file = CaseFile::open(&path).unwrap();
    for (step, from, to, device) in [
        (StepId::BaselineCoronary, 0.0, 40.0, None),
        (StepId::DeviceInsertion, 40.0, 60.0, Some(&target)),
        (StepId::PostCoronary, 60.0, 140.0, None),
    ] {
        let id = file
            .start_step("operator", step, Some(from), device, None)
            .unwrap();
        file.end_step("operator", id, Some(to), None, None).unwrap();
    }
    for (step, kind, start_s, end_s, settings) in [
        (
            StepId::BaselineCoronary,
            WindowKind::CoronaryRest,
            10.0,
            38.0,
            serde_json::json!({}),
        ),
        (
            StepId::PostCoronary,
            WindowKind::CoronaryRest,
            70.0,
            98.0,
            serde_json::json!({}),
        ),
        (
            StepId::PostCoronary,
            WindowKind::CoronaryRestMinimumSupport,
            110.0,
            138.0,
            serde_json::json!({ "support": minimum }),
        ),
    ] {
        file.save_analysis_window(
            "operator",
            &AnalysisWindow {
                id: 0,
                step: Some(step),
                start_s,
                end_s,
                method: kind.key().into(),
                settings,
                algorithm_version: heracles::analysis::ALGORITHM_VERSION.into(),
            },
        )
        .unwrap();
    }
    (path, truth)
}

#[test]
fn on_the_simulated_patient_the_within_session_cdfr_is_the_true_velocity_ratio_of_the_two_supports() {
    use heracles::model::{IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, UnloadingDevice};
    let impella = |p_level| {
        UnloadingDevice::Impella(ImpellaSettings {
            model: ImpellaModel::ImpellaCp,
            p_level,
            displayed_flow_l_min: None,
        })
    };
    let iabp = |ratio| {
        UnloadingDevice::Iabp(IabpSettings {
            ratio,
            ..IabpSettings::default()
        })
    };
    for (number, target, minimum) in [
        (41, impella(6), impella(2)),
        (42, iabp(IabpRatio::OneToOne), iabp(IabpRatio::Standby)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (path, truth) = simulated_case(dir.path(), number, target, minimum);
        let mut session = ReviewSession::open(&path, "fellow").unwrap();
        let choices = CaseChoices::of(&analysis::case_settings(
            &CaseAnalysis::read(session.file()).unwrap(),
        ));
        session
            .apply(
                Edit::SetChoices(CaseChoices {
                    cdfr_reference: CdfrReference::DeviceStandby,
                    ..choices
                }),
                "within-session reference",
            )
            .unwrap();
        let case = CaseAnalysis::read(session.file()).unwrap();
        let cdfr: heracles::analysis::coronary::CdfrResult =
            serde_json::from_value(case.case_results[analysis::CDFR].value["cdfr"]["value"].clone()).unwrap();
        // The true time-weighted peak velocity over the beats each state pooled.
        let true_apv = |state: State, kind: WindowKind| {
            let (_, report) = report(&session, state, kind);
            let steady: Vec<u32> = report
                .summary
                .steady_window
                .as_ref()
                .unwrap()
                .beat_numbers
                .clone();
            let (mut sum, mut count) = (0.0, 0usize);
            for beat in report
                .beats
                .iter()
                .filter(|b| b.accepted && steady.contains(&b.number))
            {
                let from = (beat.time_s * 1000.0).round() as usize;
                let to = from + (beat.duration_s * 1000.0).round() as usize;
                sum += truth[from..to].iter().sum::<f64>();
                count += to - from;
            }
            sum / count as f64
        };
        let expected = true_apv(State::Post, WindowKind::CoronaryRest)
            / true_apv(State::Post, WindowKind::CoronaryRestMinimumSupport);
        println!(
            "{}: CDFR {:.4} [{:.4}, {:.4}] vs true {expected:.4} ({} / {} beats)",
            minimum.describe(),
            cdfr.cdfr,
            cdfr.ci95[0],
            cdfr.ci95[1],
            cdfr.num_post_beats,
            cdfr.num_reference_beats
        );
        assert_eq!(cdfr.reference, CdfrReference::DeviceStandby);
        assert!(
            (cdfr.cdfr / expected - 1.0).abs() < 0.005,
            "{} vs {expected}",
            cdfr.cdfr
        );
    }
}

#[test]
fn the_window_at_minimum_support_has_its_own_rows_in_the_table_and_every_export() {
    use heracles::export::{self, ExportWhat};
    use heracles::model::{IabpRatio, IabpSettings, UnloadingDevice};
    let iabp = |ratio| {
        UnloadingDevice::Iabp(IabpSettings {
            ratio,
            ..IabpSettings::default()
        })
    };
    let minimum = iabp(IabpRatio::Standby);
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = simulated_case(dir.path(), 43, iabp(IabpRatio::OneToOne), minimum);
    let session = ReviewSession::open(&path, "fellow").unwrap();
    let (minimum_id, minimum_report) = report(&session, State::Post, WindowKind::CoronaryRestMinimumSupport);
    let table = session.snapshot().unwrap().endpoints;
    let at_minimum = |key: &str| {
        table
            .iter()
            .find(|r| r.key == key && r.state == "min_support")
            .unwrap_or_else(|| panic!("no {key} row at minimum support"))
    };
    // The window's own APV, Pd/Pa and resistances with their kind, each with its beats, labelled and sourced.
    let apv_row = at_minimum("apv");
    assert_eq!(apv_row.value, Some(apv(&minimum_report)));
    assert_eq!(apv_row.window_id, Some(minimum_id));
    assert_eq!(apv_row.unit.symbol(), "cm/s");
    assert!(apv_row.label.contains("at minimum support"), "{}", apv_row.label);
    assert!(apv_row.method.contains(&minimum.describe()), "{}", apv_row.method);
    for (key, kind) in [
        ("apv", None),
        ("pd_pa", None),
        ("bmr", Some("BMR")),
        ("wfp_mr", Some("WFP-MR")),
    ] {
        let row = at_minimum(key);
        assert!(row.value.is_some(), "{key}: {:?}", row.note);
        assert_eq!(row.kind.as_deref(), kind, "{key}");
        assert!(row.num_beats_used.is_some_and(|n| n >= 10), "{key}");
        assert!(row.num_beats_excluded.is_some(), "{key}");
    }
    // A balloon on standby does not pump: the flag is on the post rows at 1:1, not on the window at standby.
    let flags = |state: &str| {
        table
            .iter()
            .find(|r| r.key == "diastolic_apv" && r.state == state)
            .unwrap()
            .flags
            .clone()
    };
    assert!(flags("post").iter().any(|f| f == "balloon_pumping"));
    assert!(!flags("min_support").iter().any(|f| f == "balloon_pumping"));
    drop(session);

    let out = dir.path().join("out");
    let what = ExportWhat {
        endpoints: true,
        report: true,
        odm: true,
        ..ExportWhat::ODM
    };
    export::export_case(&path, &out, what).unwrap();
    let read = |suffix: &str| std::fs::read_to_string(out.join(format!("HER-TST-0043{suffix}"))).unwrap();
    let text = read("_endpoints.csv");
    // The rows as exported (shown with --nocapture): unit, kind, beats, flags and method of each.
    for line in text
        .lines()
        .take(1)
        .chain(text.lines().filter(|l| l.contains(",min_support,")))
    {
        println!("{line}");
    }
    let csv = crate::export::csv_rows(&text);
    let exported: Vec<_> = csv.iter().filter(|r| r["state"] == "min_support").collect();
    assert_eq!(
        exported.len(),
        table.iter().filter(|r| r.state == "min_support").count()
    );
    let apv_csv = exported.iter().find(|r| r["endpoint"] == "apv").unwrap();
    assert_eq!(apv_csv["value"].parse::<f64>().unwrap(), apv(&minimum_report));
    assert_eq!(apv_csv["unit"], "cm/s");
    assert_eq!(
        exported.iter().find(|r| r["endpoint"] == "wfp_mr").unwrap()["kind"],
        "WFP-MR"
    );
    let json: serde_json::Value = serde_json::from_str(&read("_endpoints.json")).unwrap();
    assert!(
        json["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "apv" && r["state"] == "min_support" && r["unit"] == "cm/s")
    );
    let odm = read("_endpoints.odm.xml");
    let post = odm.rsplit("StudyEventOID=\"SE.POST_UNLOADING\">").next().unwrap();
    assert!(post.contains(&format!(
        r#"<ItemData ItemOID="IT.APV.MIN_SUPPORT" Value="{}"/>"#,
        apv(&minimum_report)
    )));
    assert!(post.contains(r#"<ItemData ItemOID="IT.BMR.MIN_SUPPORT.KIND" Value="BMR"/>"#));
    let pdf: String = std::fs::read(out.join("HER-TST-0043_report.pdf"))
        .unwrap()
        .iter()
        .map(|&b| if b < 128 { b as char } else { '?' })
        .collect();
    assert!(
        pdf.contains("(APV, at minimum support) Tj"),
        "no minimum-support rows in the PDF"
    );
    assert!(pdf.contains("within-session CDFR reference"));
}
