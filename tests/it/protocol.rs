//! The protocol state machine through its public API: every step against every kind of event (legal ones do what
//! ENDPOINTS.md section 8 says, illegal ones are refused with a reason), the capture life cycle, eligibility,
//! randomisation, the device step, confirmations, sign-off, and invariants over random event sequences.

use chrono::{DateTime, TimeZone, Utc};
use heracles::model::{
    Beat, EcmoSettings, Fiducial, IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, RejectReason, Site,
    StepId, UnloadingDevice,
};
use heracles::protocol::{
    Arm, CaptureQuality, CaptureStatus, ChannelZero, CoronaryContext, Criterion, CriterionKind, Effect,
    Event, FinishReason, Missing, Moment, PendingAction, Refusal, State, StepStatus, Verdict, Vessel,
    VesselSegment, Warning, WindowKind, guide, handle, required_window,
};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// `seconds` into the case, on both clocks.
fn at(seconds: f64) -> Moment {
    Moment {
        utc: t0() + chrono::Duration::milliseconds((seconds * 1000.0) as i64),
        recording_s: seconds,
    }
}

/// Applies `event` at `seconds`, which must be accepted.
fn ok(state: &State, event: Event, seconds: f64) -> (State, Vec<Effect>) {
    handle(state, event.clone(), at(seconds)).unwrap_or_else(|refusal| panic!("{event:?} refused: {refusal}"))
}

fn refused(state: &State, event: Event) -> Refusal {
    match handle(state, event.clone(), at(1000.0)) {
        Ok(_) => panic!("{event:?} accepted in {:?}", state.current),
        Err(refusal) => {
            assert!(!refusal.to_string().is_empty());
            refusal
        }
    }
}

const ECMO: EcmoSettings = EcmoSettings {
    flow_l_min: 3.5,
    rpm: Some(3200.0),
};

fn impella() -> UnloadingDevice {
    UnloadingDevice::Impella(ImpellaSettings {
        model: ImpellaModel::ImpellaCp,
        p_level: 6,
        displayed_flow_l_min: Some(2.8),
    })
}

/// The Impella of [`impella`] at `p_level`.
fn impella_at(p_level: u8) -> UnloadingDevice {
    UnloadingDevice::Impella(ImpellaSettings {
        model: ImpellaModel::ImpellaCp,
        p_level,
        displayed_flow_l_min: None,
    })
}

fn iabp() -> UnloadingDevice {
    UnloadingDevice::Iabp(IabpSettings::default())
}

/// `n` accepted beats of 800 ms at 1 kHz (75 beats/min).
fn steady_beats(n: usize) -> Vec<Beat> {
    (0..n as u64)
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

fn good_quality() -> CaptureQuality {
    CaptureQuality::assess(&steady_beats(20), 1000.0, &[3.5; 200])
}

/// Captures and saves a window of `kind` in the current step, starting at `start_s`.
fn capture(state: &State, kind: WindowKind, start_s: f64) -> State {
    let (state, effects) = ok(state, Event::StartCapture(kind), start_s);
    assert!(matches!(effects[..], [Effect::CaptureStarted { kind: k, .. }] if k == kind));
    let duration_s = state.target(kind).duration_s;
    let (state, effects) = ok(
        &state,
        Event::CaptureProgress(good_quality()),
        start_s + duration_s,
    );
    assert!(
        matches!(
            effects[..],
            [Effect::CaptureFinished {
                reason: FinishReason::TargetReached,
                ..
            }]
        ),
        "{effects:?}"
    );
    let (state, effects) = ok(&state, Event::SaveCapture, start_s + duration_s + 1.0);
    assert!(matches!(&effects[..], [Effect::WindowSaved { window, .. }] if window.kind == kind));
    state
}

fn tick_all(mut state: State) -> State {
    for item in 0..guide(state.current).checklist.len() {
        state = ok(&state, Event::CheckItem { item, ticked: true }, 1.0).0;
    }
    state
}

/// Does what the current step needs to be complete, with favourable answers and the allocated device.
fn complete(state: &State) -> State {
    let mut state = tick_all(state.clone());
    match state.current {
        StepId::CaseSetup | StepId::Preparation | StepId::Review => {}
        StepId::Eligibility => {
            for criterion in Criterion::ALL {
                let answer = criterion.kind() == CriterionKind::Inclusion;
                state = ok(&state, Event::AnswerCriterion { criterion, answer }, 2.0).0;
            }
        }
        StepId::BaselineCoronary | StepId::BaselinePv | StepId::PostCoronary | StepId::PostPv => {
            if state.current == StepId::BaselineCoronary {
                state = ok(&state, Event::SetCoronaryContext(context()), 5.0).0;
            }
            state = capture(&state, required_window(state.current).unwrap(), 10.0);
        }
        StepId::Randomisation => {
            let event = Event::RecordAllocation {
                arm: Arm::Impella,
                reference: "R-017".into(),
                allocated_utc: t0(),
            };
            state = ok(&state, event, 100.0).0;
        }
        StepId::DeviceInsertion => {
            state = ok(
                &state,
                Event::RecordDevice {
                    device: impella(),
                    ecmo: ECMO,
                },
                200.0,
            )
            .0
        }
        StepId::SignOff => {
            state = ok(&state, Event::SignOff { by: "Dr A".into() }, 300.0).0;
            state = ok(&state, Event::Confirm, 300.0).0;
        }
    }
    state
}

/// Mid LAD, equalised at 1.00, zeroed.
fn context() -> CoronaryContext {
    CoronaryContext {
        vessel: Vessel::Lad,
        segment: VesselSegment::Mid,
        wire_position: "past D1".into(),
        pd_pa_at_equalisation: 1.0,
        zeroed: true,
        zero: None,
        equalisation: None,
    }
}

/// The consoles step's zero: pa read 2.5 mmHg and pd -0.5 mmHg open to air.
fn zeroed() -> Event {
    Event::PressuresZeroed {
        channels: vec![
            ChannelZero {
                channel: "pa".into(),
                offset_mmhg: -2.5,
            },
            ChannelZero {
                channel: "pd".into(),
                offset_mmhg: 0.5,
            },
        ],
    }
}

fn set_up() -> State {
    let event = Event::SetUpCase {
        case_id: "HER-STH-0007".into(),
        site: Site::Sth,
        operator: "op1".into(),
    };
    ok(&State::new(), event, 0.0).0
}

/// A state just arrived in `step`, every earlier step completed (checklists ticked), nothing done in `step` yet.
fn walk_to(step: StepId) -> State {
    if step == StepId::CaseSetup {
        return State::new();
    }
    let mut state = set_up();
    while state.current < step {
        state = ok(&complete(&state), Event::Next, 5.0).0;
    }
    assert_eq!(state.current, step);
    state
}

/// One event of every kind that is legal somewhere after set-up, with valid content.
fn sample_events() -> Vec<Event> {
    vec![
        Event::AnswerCriterion {
            criterion: Criterion::OnVaEcmo,
            answer: true,
        },
        Event::CheckItem {
            item: 0,
            ticked: true,
        },
        Event::SetEcmo(ECMO),
        zeroed(),
        Event::PdEqualised { pd_pa_read: 0.96 },
        Event::SetCoronaryContext(context()),
        Event::RecordAllocation {
            arm: Arm::Iabp,
            reference: "R-1".into(),
            allocated_utc: t0(),
        },
        Event::RecordDevice {
            device: impella(),
            ecmo: ECMO,
        },
        Event::StartCapture(WindowKind::CoronaryRest),
        Event::StartCapture(WindowKind::CoronaryHyperaemia),
        Event::StartCapture(WindowKind::PvSteady),
        Event::StartCapture(WindowKind::PvPreloadReduction),
        Event::RecordMinimumSupport(impella_at(2)),
        Event::StartCapture(WindowKind::CoronaryRestMinimumSupport),
        Event::CaptureProgress(good_quality()),
        Event::StopCapture,
        Event::SaveCapture,
        Event::DiscardCapture,
        Event::Skip {
            reason: "wire could not cross".into(),
        },
        Event::Mark {
            text: "ectopic run".into(),
        },
        Event::Next,
        Event::Back,
        Event::GoTo(StepId::Preparation),
        Event::SignOff { by: "Dr A".into() },
        Event::Confirm,
        Event::Cancel,
    ]
}

/// What the protocol says about `event` on arriving fresh in `step` (nothing done there yet). `None` = accepted.
fn expected_refusal(step: StepId, event: &Event) -> Option<fn(&Refusal) -> bool> {
    let measurement = required_window(step).is_some();
    // Steps that are not complete until the operator does something there.
    let demanding = |s: StepId| {
        matches!(
            s,
            StepId::Eligibility | StepId::Randomisation | StepId::DeviceInsertion
        ) || required_window(s).is_some()
    };
    let incomplete_on_arrival = demanding(step);
    let wrong_step: fn(&Refusal) -> bool = |r| matches!(r, Refusal::WrongStep { .. });
    let no_capture: fn(&Refusal) -> bool = |r| matches!(r, Refusal::NoCapture(_));
    let nothing_to_confirm: fn(&Refusal) -> bool = |r| matches!(r, Refusal::NothingToConfirm);
    match event {
        Event::AnswerCriterion { .. } => (step != StepId::Eligibility).then_some(wrong_step),
        Event::RecordAllocation { .. } => (step != StepId::Randomisation).then_some(wrong_step),
        Event::RecordDevice { .. } => (step != StepId::DeviceInsertion).then_some(wrong_step),
        Event::RecordMinimumSupport(_) => (step != StepId::PostCoronary).then_some(wrong_step),
        Event::SetCoronaryContext(_) => (step != StepId::BaselineCoronary).then_some(wrong_step),
        Event::PressuresZeroed { .. } | Event::PdEqualised { .. } => {
            (step != StepId::Preparation).then_some(wrong_step)
        }
        Event::SignOff { .. } => (step != StepId::SignOff).then_some(wrong_step),
        Event::CheckItem { .. } => guide(step)
            .checklist
            .is_empty()
            .then_some(|r| matches!(r, Refusal::NoSuchItem { .. })),
        Event::SetEcmo(_) | Event::Mark { .. } => None,
        Event::StartCapture(kind) => {
            let coronary = matches!(step, StepId::BaselineCoronary | StepId::PostCoronary);
            let pv = matches!(step, StepId::BaselinePv | StepId::PostPv);
            let legal = match kind {
                WindowKind::CoronaryRest | WindowKind::CoronaryHyperaemia => coronary,
                WindowKind::CoronaryRestMinimumSupport => step == StepId::PostCoronary,
                WindowKind::PvSteady | WindowKind::PvPreloadReduction => pv,
            };
            if legal && *kind == WindowKind::CoronaryRestMinimumSupport {
                // Not before the operator has recorded the device's minimum setting.
                return Some(|r| matches!(r, Refusal::NoMinimumSupport));
            }
            (!legal).then_some(|r| matches!(r, Refusal::CaptureNotInStep { .. }))
        }
        Event::CaptureProgress(_) | Event::StopCapture | Event::SaveCapture | Event::DiscardCapture => {
            Some(no_capture)
        }
        Event::Skip { .. } => (!measurement).then_some(|r| matches!(r, Refusal::NothingToSkip(_))),
        Event::Next if step == StepId::SignOff => Some(|r| matches!(r, Refusal::AtLastStep)),
        Event::Next => incomplete_on_arrival.then_some(|r| matches!(r, Refusal::Incomplete { .. })),
        Event::Back => None,
        Event::GoTo(target) if *target == step => Some(|r| matches!(r, Refusal::AlreadyThere(_))),
        Event::GoTo(target)
            if StepId::ALL
                .into_iter()
                .any(|s| s >= step && s < *target && demanding(s)) =>
        {
            Some(|r| matches!(r, Refusal::Incomplete { .. }))
        }
        Event::GoTo(_) => None,
        Event::Confirm | Event::Cancel => Some(nothing_to_confirm),
        Event::SetUpCase { .. } => Some(|r| matches!(r, Refusal::CaseAlreadySetUp)),
    }
}

#[test]
fn every_event_in_every_step_is_accepted_or_refused_as_the_protocol_says() {
    for step in StepId::ALL.into_iter().skip(1) {
        let state = walk_to(step);
        let mut events = sample_events();
        events.extend(StepId::ALL.into_iter().map(Event::GoTo));
        events.push(Event::SetUpCase {
            case_id: "HER-KCH-0001".into(),
            site: Site::Kch,
            operator: "x".into(),
        });
        for event in events {
            let outcome = handle(&state, event.clone(), at(500.0));
            match (expected_refusal(step, &event), outcome) {
                (None, Ok((next, effects))) => {
                    // Every accepted event here is recorded, or waits for a confirmation.
                    assert!(
                        !effects.is_empty() || next.pending.is_some(),
                        "{step:?} {event:?} recorded nothing"
                    );
                }
                (Some(expected), Err(refusal)) => {
                    assert!(
                        expected(&refusal),
                        "{step:?} {event:?}: unexpected refusal {refusal:?}"
                    );
                    assert!(!refusal.to_string().is_empty());
                }
                (None, Err(refusal)) => panic!("{step:?}: {event:?} refused: {refusal}"),
                (Some(_), Ok(_)) => panic!("{step:?}: {event:?} accepted, should be refused"),
            }
        }
    }
}

#[test]
fn before_set_up_only_a_valid_set_up_is_accepted() {
    let state = State::new();
    for event in sample_events() {
        assert_eq!(refused(&state, event), Refusal::NoCase);
    }
    let set_up = |case_id: &str, site, operator: &str| Event::SetUpCase {
        case_id: case_id.into(),
        site,
        operator: operator.into(),
    };
    assert!(matches!(
        refused(&state, set_up("HER-STH-7", Site::Sth, "op")),
        Refusal::InvalidCaseId(_)
    ));
    assert!(matches!(
        refused(&state, set_up("HER-XYZ-0001", Site::Sth, "op")),
        Refusal::InvalidCaseId(_)
    ));
    assert!(matches!(
        refused(&state, set_up("HER-KCH-0001", Site::Sth, "op")),
        Refusal::SiteMismatch { .. }
    ));
    assert_eq!(
        refused(&state, set_up("HER-KCH-0001", Site::Kch, "  ")),
        Refusal::NoOperator
    );

    let (state, effects) = ok(&state, set_up(" HER-DEM-0001 ", Site::Dem, " trainee "), 0.0);
    let case = state.case.clone().unwrap();
    assert_eq!(
        (case.case_id.to_string(), case.operator.as_str()),
        ("HER-DEM-0001".into(), "trainee")
    );
    assert_eq!(state.current, StepId::Eligibility);
    let kinds: Vec<String> = effects
        .iter()
        .map(|e| format!("{e:?}").split([' ', '{']).next().unwrap().into())
        .collect();
    assert_eq!(kinds, ["CaseCreated", "StepStarted", "StepEnded", "StepStarted"]);
    assert_eq!(state.status(StepId::CaseSetup), StepStatus::Complete);
}

#[test]
fn next_moves_one_step_once_each_step_is_complete_and_back_always_works() {
    for (position, step) in StepId::ALL.into_iter().enumerate().skip(1) {
        let state = walk_to(step);
        // Back: always, to the step before, recording both ends.
        let (back, effects) = ok(&state, Event::Back, 50.0);
        assert_eq!(back.current, StepId::ALL[position - 1]);
        assert!(
            matches!(effects[..], [Effect::StepEnded { step: s, .. }, Effect::StepStarted { step: t, .. }]
            if s == step && t == StepId::ALL[position - 1])
        );
        // Next: once complete.
        let done = complete(&state);
        if step == StepId::SignOff {
            assert!(done.signed_off.is_some());
            assert_eq!(refused(&done, Event::Next), Refusal::SignedOff);
            continue;
        }
        let (next, effects) = ok(&done, Event::Next, 60.0);
        assert_eq!(next.current, StepId::ALL[position + 1]);
        let Effect::StepEnded {
            unticked,
            acknowledged,
            ..
        } = &effects[0]
        else {
            panic!("{effects:?}")
        };
        assert!(unticked.is_empty() && acknowledged.is_empty());
        assert_eq!(next.status(step), StepStatus::Complete);
        assert_eq!(next.status(next.current), StepStatus::Current);
    }
}

#[test]
fn going_forward_is_refused_until_every_step_on_the_way_is_complete() {
    // At post-unloading PV, go back to each earlier step: from there, every later step is reachable again.
    let state = walk_to(StepId::PostPv);
    for back_to in StepId::ALL.into_iter().filter(|s| *s < StepId::PostPv) {
        let (there, _) = ok(&state, Event::GoTo(back_to), 1.0);
        assert_eq!(there.current, back_to);
        for target in StepId::ALL
            .into_iter()
            .filter(|s| *s > back_to && *s <= StepId::PostPv)
        {
            assert_eq!(ok(&there, Event::GoTo(target), 2.0).0.current, target);
        }
        // ... but not past the first incomplete step (post-unloading PV has no window yet).
        assert!(matches!(
            refused(&there, Event::GoTo(StepId::Review)),
            Refusal::Incomplete {
                missing: Missing::Window(WindowKind::PvSteady),
                ..
            }
        ));
    }
    // A repeated step is a new visit.
    let (again, effects) = ok(&state, Event::GoTo(StepId::BaselineCoronary), 3.0);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::StepStarted {
            step: StepId::BaselineCoronary,
            visit: 2,
            ..
        }
    )));
    assert_eq!(again.record(StepId::BaselineCoronary).visits.len(), 2);
}

#[test]
fn an_ineligible_patient_cannot_reach_randomisation_and_the_reason_is_recorded() {
    let mut state = walk_to(StepId::Eligibility);
    for criterion in Criterion::ALL {
        let answer = match criterion {
            Criterion::LvThrombus => true,
            other => other.kind() == CriterionKind::Inclusion,
        };
        let (next, effects) = ok(&state, Event::AnswerCriterion { criterion, answer }, 1.0);
        let Effect::CriterionAnswered { verdict, .. } = &effects[0] else {
            panic!()
        };
        if criterion == Criterion::LvThrombus {
            assert_eq!(verdict, &Verdict::Ineligible(vec![Criterion::LvThrombus]));
        }
        state = next;
    }
    let Refusal::Incomplete {
        missing: Missing::Eligible(reasons),
        ..
    } = refused(&state, Event::Next)
    else {
        panic!()
    };
    assert_eq!(reasons, [Criterion::LvThrombus.text()]);
    assert!(
        refused(&state, Event::Next)
            .to_string()
            .contains("cannot go on to randomisation")
    );
    assert!(matches!(
        refused(&state, Event::GoTo(StepId::Randomisation)),
        Refusal::Incomplete { .. }
    ));

    // Eligibility found wrong after randomisation blocks the way forward again.
    let later = walk_to(StepId::DeviceInsertion);
    let (back, _) = ok(&later, Event::GoTo(StepId::Eligibility), 1.0);
    let (changed, _) = ok(
        &back,
        Event::AnswerCriterion {
            criterion: Criterion::MechanicalAorticValve,
            answer: true,
        },
        2.0,
    );
    assert!(matches!(
        refused(&changed, Event::GoTo(StepId::DeviceInsertion)),
        Refusal::Incomplete { .. }
    ));
}

#[test]
fn unanswered_criteria_hold_the_eligibility_step() {
    let state = walk_to(StepId::Eligibility);
    let (state, _) = ok(
        &state,
        Event::AnswerCriterion {
            criterion: Criterion::OnVaEcmo,
            answer: true,
        },
        1.0,
    );
    assert!(matches!(
        refused(&state, Event::Next),
        Refusal::Incomplete {
            missing: Missing::Answers(8),
            ..
        }
    ));
}

#[test]
fn a_capture_stops_by_itself_at_its_target_and_reports_its_quality() {
    let state = walk_to(StepId::BaselineCoronary);
    let target = state.target(WindowKind::CoronaryRest);
    assert_eq!((target.duration_s, target.min_consecutive_beats), (15.0, 10));
    let (state, _) = ok(&state, Event::StartCapture(WindowKind::CoronaryRest), 100.0);
    assert_eq!(
        refused(&state, Event::StartCapture(WindowKind::CoronaryRest)),
        Refusal::CaptureRunning
    );
    assert_eq!(refused(&state, Event::SaveCapture), Refusal::CaptureRunning);

    // Long enough but too few consecutive accepted beats: keeps running, records nothing.
    let mut beats = steady_beats(18);
    for i in [4, 9, 14] {
        beats[i].reject = Some(RejectReason::RrOutlier);
    }
    let choppy = CaptureQuality::assess(&beats, 1000.0, &[]);
    assert_eq!(choppy.longest_accepted_run, 4);
    let (state, effects) = ok(&state, Event::CaptureProgress(choppy), 120.0);
    assert!(effects.is_empty());
    assert!(state.capture.as_ref().unwrap().running());
    // Enough beats but too short: keeps running.
    let (state, effects) = ok(&state, Event::CaptureProgress(good_quality()), 110.0);
    assert!(effects.is_empty() && state.capture.as_ref().unwrap().running());
    // Both: stops by itself.
    let (state, effects) = ok(&state, Event::CaptureProgress(good_quality()), 115.0);
    let [
        Effect::CaptureFinished {
            start,
            end,
            reason: FinishReason::TargetReached,
            quality,
            ..
        },
    ] = &effects[..]
    else {
        panic!("{effects:?}")
    };
    assert_eq!((start.recording_s, end.recording_s), (100.0, 115.0));
    assert_eq!(quality.num_beats_accepted, 20);
    assert_eq!(refused(&state, Event::StopCapture), Refusal::NoCapture("stop"));
    assert_eq!(
        refused(&state, Event::CaptureProgress(good_quality())),
        Refusal::NoCapture("update")
    );
    let (saved, effects) = ok(&state, Event::SaveCapture, 116.0);
    let [
        Effect::WindowSaved {
            step: StepId::BaselineCoronary,
            window,
        },
    ] = &effects[..]
    else {
        panic!()
    };
    assert_eq!((window.start.recording_s, window.end.recording_s), (100.0, 115.0));
    assert_eq!(
        saved.latest_window(StepId::BaselineCoronary, WindowKind::CoronaryRest),
        Some(window)
    );
    // The window alone does not complete the baseline: CDFR needs to know which vessel it measured.
    assert_eq!(
        saved.missing(StepId::BaselineCoronary),
        Some(Missing::CoronaryContext)
    );
    assert!(matches!(
        refused(&saved, Event::Next),
        Refusal::Incomplete {
            missing: Missing::CoronaryContext,
            ..
        }
    ));
    // An implausible equalisation is refused with its reason; a plausible one completes the step.
    let mut off = context();
    off.pd_pa_at_equalisation = 0.5;
    assert!(matches!(
        refused(&saved, Event::SetCoronaryContext(off)),
        Refusal::InvalidSetting { .. }
    ));
    let (with_context, effects) = ok(&saved, Event::SetCoronaryContext(context()), 117.0);
    assert!(matches!(
        &effects[..],
        [Effect::CoronaryContextRecorded { context: c, .. }] if *c == context()
    ));
    assert_eq!(with_context.missing(StepId::BaselineCoronary), None);
    assert_eq!(
        Event::SetCoronaryContext(context()).describe(),
        "Measurement context recorded: mid LAD, wire past D1; Pd/Pa 1.00 at equalisation; pressures zeroed"
    );
}

#[test]
fn a_capture_times_out_or_is_stopped_and_can_be_repeated() {
    let state = walk_to(StepId::BaselinePv);
    let (running, _) = ok(&state, Event::StartCapture(WindowKind::PvSteady), 0.0);
    let (timed_out, effects) = ok(&running, Event::CaptureProgress(CaptureQuality::default()), 60.0);
    assert!(matches!(
        effects[..],
        [Effect::CaptureFinished {
            reason: FinishReason::TimedOut,
            ..
        }]
    ));
    assert!(matches!(
        timed_out.capture.as_ref().unwrap().status,
        CaptureStatus::Finished { .. }
    ));

    let (stopped, effects) = ok(&running, Event::StopCapture, 7.5);
    assert!(matches!(
        effects[..],
        [Effect::CaptureFinished {
            reason: FinishReason::StoppedByOperator,
            ..
        }]
    ));
    assert_eq!(stopped.capture.as_ref().unwrap().elapsed_s(), 7.5);

    // Repeat: a new capture replaces the unsaved one, and says so.
    let (repeated, effects) = ok(&stopped, Event::StartCapture(WindowKind::PvPreloadReduction), 9.0);
    assert!(matches!(
        effects[..],
        [
            Effect::CaptureDiscarded {
                kind: WindowKind::PvSteady,
                ..
            },
            Effect::CaptureStarted {
                kind: WindowKind::PvPreloadReduction,
                ..
            }
        ]
    ));
    assert_eq!(repeated.target(WindowKind::PvPreloadReduction).duration_s, 20.0);
    let (discarded, effects) = ok(&repeated, Event::DiscardCapture, 10.0);
    assert!(matches!(effects[..], [Effect::CaptureDiscarded { .. }]) && discarded.capture.is_none());
    // An optional window does not complete the step.
    let with_occlusion = capture(&state, WindowKind::PvPreloadReduction, 0.0);
    assert_eq!(
        with_occlusion.missing(StepId::BaselinePv),
        Some(Missing::Window(WindowKind::PvSteady))
    );
}

#[test]
fn leaving_with_an_unsaved_or_running_capture_or_unticked_items_asks_first() {
    let state = tick_all(walk_to(StepId::BaselineCoronary));
    let state = ok(&state, Event::SetCoronaryContext(context()), 0.0).0;
    let state = capture(&state, WindowKind::CoronaryRest, 0.0);
    let (running, _) = ok(&state, Event::StartCapture(WindowKind::CoronaryHyperaemia), 30.0);
    let (stopped, _) = ok(&running, Event::StopCapture, 40.0);
    for (with_capture, warning) in [
        (&running, Warning::CaptureRunning(WindowKind::CoronaryHyperaemia)),
        (&stopped, Warning::UnsavedCapture(WindowKind::CoronaryHyperaemia)),
    ] {
        for event in [Event::Next, Event::Back, Event::GoTo(StepId::Eligibility)] {
            let (asking, effects) = ok(with_capture, event.clone(), 41.0);
            assert!(effects.is_empty(), "nothing happens before the confirmation");
            assert_eq!(asking.current, StepId::BaselineCoronary);
            assert_eq!(
                asking.pending.as_ref().unwrap().warnings,
                std::slice::from_ref(&warning)
            );
            // Everything but the answer (and marks and capture progress) waits.
            assert_eq!(
                refused(&asking, Event::StartCapture(WindowKind::CoronaryRest)),
                Refusal::AwaitingConfirmation
            );
            assert_eq!(refused(&asking, Event::Next), Refusal::AwaitingConfirmation);
            ok(&asking, Event::Mark { text: "note".into() }, 42.0);
            // Cancel: still here, capture kept.
            let (cancelled, effects) = ok(&asking, Event::Cancel, 42.0);
            assert!(effects.is_empty());
            assert_eq!(cancelled, *with_capture);
            // Confirm: capture discarded, step left, the warning recorded with it.
            let (moved, effects) = ok(&asking, Event::Confirm, 43.0);
            assert!(moved.capture.is_none() && moved.current != StepId::BaselineCoronary);
            assert!(matches!(effects[0], Effect::CaptureDiscarded { .. }));
            let Effect::StepEnded { acknowledged, .. } = &effects[1] else {
                panic!()
            };
            assert_eq!(acknowledged, std::slice::from_ref(&warning));
        }
    }

    // Unticked items ask before going forward, not back.
    let (unticked, _) = ok(
        &state,
        Event::CheckItem {
            item: 0,
            ticked: false,
        },
        50.0,
    );
    let (asking, _) = ok(&unticked, Event::Next, 51.0);
    assert_eq!(
        asking.pending.unwrap().warnings,
        [Warning::UncheckedItems(vec!["Stable Doppler envelope".into()])]
    );
    assert_eq!(ok(&unticked, Event::Back, 51.0).0.current, StepId::Preparation);
}

#[test]
fn a_measurement_can_be_skipped_only_with_a_reason_and_only_when_it_has_no_window() {
    let state = tick_all(walk_to(StepId::BaselinePv));
    assert_eq!(
        refused(&state, Event::Skip { reason: "  ".into() }),
        Refusal::EmptyText("reason for skipping")
    );
    let (skipped, effects) = ok(
        &state,
        Event::Skip {
            reason: "catheter would not cross the valve".into(),
        },
        1.0,
    );
    assert!(
        matches!(&effects[..], [Effect::StepSkipped { step: StepId::BaselinePv, reason, .. }] if reason.contains("valve"))
    );
    let (moved, _) = ok(&skipped, Event::Next, 2.0);
    assert_eq!(moved.status(StepId::BaselinePv), StepStatus::Skipped);
    // Saving a window afterwards undoes the skip.
    let measured = capture(&skipped, WindowKind::PvSteady, 3.0);
    assert_eq!(measured.record(StepId::BaselinePv).skipped, None);
    assert_eq!(
        refused(&measured, Event::Skip { reason: "x".into() }),
        Refusal::AlreadyMeasured(StepId::BaselinePv.title())
    );
}

#[test]
fn the_allocation_is_recorded_with_its_reference_and_time_never_invented() {
    let state = walk_to(StepId::Randomisation);
    let allocate = |reference: &str, allocated_utc| Event::RecordAllocation {
        arm: Arm::Iabp,
        reference: reference.into(),
        allocated_utc,
    };
    assert_eq!(
        refused(&state, allocate(" ", t0())),
        Refusal::EmptyText("randomisation reference")
    );
    assert!(matches!(
        refused(&state, allocate(&"x".repeat(65), t0())),
        Refusal::InvalidSetting { .. }
    ));
    assert_eq!(
        refused(&state, allocate("R-1", t0() + chrono::Duration::hours(1))),
        Refusal::AllocationInFuture
    );
    let (state, effects) = ok(&state, allocate(" R-0042 ", t0()), 30.0);
    let [Effect::AllocationRecorded(allocation)] = &effects[..] else {
        panic!()
    };
    assert_eq!(
        (
            allocation.arm,
            allocation.reference.as_str(),
            allocation.allocated_utc
        ),
        (Arm::Iabp, "R-0042", t0())
    );
    assert_eq!(allocation.recorded, at(30.0));
    assert_eq!(state.allocation.as_ref(), Some(allocation));
}

#[test]
fn the_device_step_records_device_and_ecmo_and_flags_a_deviation() {
    let state = walk_to(StepId::DeviceInsertion); // allocated Impella
    assert_eq!(state.missing(StepId::DeviceInsertion), Some(Missing::Device));
    for bad in [
        UnloadingDevice::None,
        UnloadingDevice::Iabp(IabpSettings {
            balloon_volume_ml: 100.0,
            ..IabpSettings::default()
        }),
        UnloadingDevice::Iabp(IabpSettings {
            deflation_offset_ms: f64::NAN,
            ..IabpSettings::default()
        }),
        UnloadingDevice::Impella(ImpellaSettings {
            model: ImpellaModel::Impella25,
            p_level: 9,
            displayed_flow_l_min: None,
        }),
        UnloadingDevice::Impella(ImpellaSettings {
            model: ImpellaModel::ImpellaCp,
            p_level: 4,
            displayed_flow_l_min: Some(-1.0),
        }),
    ] {
        let refusal = refused(
            &state,
            Event::RecordDevice {
                device: bad,
                ecmo: ECMO,
            },
        );
        assert!(
            matches!(refusal, Refusal::InvalidSetting { .. }),
            "{bad:?}: {refusal:?}"
        );
    }
    for ecmo in [
        EcmoSettings {
            flow_l_min: f64::NAN,
            rpm: None,
        },
        EcmoSettings {
            flow_l_min: 3.0,
            rpm: Some(-5.0),
        },
    ] {
        assert!(matches!(
            refused(
                &state,
                Event::RecordDevice {
                    device: impella(),
                    ecmo
                }
            ),
            Refusal::InvalidSetting { .. }
        ));
        assert!(matches!(
            refused(&state, Event::SetEcmo(ecmo)),
            Refusal::InvalidSetting { .. }
        ));
    }

    let (recorded, effects) = ok(
        &state,
        Event::RecordDevice {
            device: impella(),
            ecmo: ECMO,
        },
        10.0,
    );
    assert_eq!(
        effects,
        [Effect::DeviceRecorded {
            device: impella(),
            ecmo: ECMO,
            deviation: None,
            at: at(10.0)
        }]
    );
    assert_eq!((recorded.device, recorded.ecmo), (impella(), Some(ECMO)));

    // An IABP when Impella was allocated: recorded only once confirmed, as a deviation.
    let (asking, effects) = ok(
        &state,
        Event::RecordDevice {
            device: iabp(),
            ecmo: ECMO,
        },
        11.0,
    );
    assert!(effects.is_empty());
    assert!(matches!(
        asking.pending.as_ref().unwrap().action,
        PendingAction::RecordDevice { .. }
    ));
    let (deviated, effects) = ok(&asking, Event::Confirm, 12.0);
    let deviation = Warning::DeviceDiffersFromAllocation {
        allocated: Arm::Impella,
        inserted: Arm::Iabp,
    };
    assert_eq!(
        effects,
        [Effect::DeviceRecorded {
            device: iabp(),
            ecmo: ECMO,
            deviation: Some(deviation),
            at: at(12.0)
        }]
    );
    assert_eq!(deviated.device, iabp());

    // Later steps record the device and ECMO settings in force.
    let (post, effects) = ok(&tick_all(recorded), Event::Next, 20.0);
    assert_eq!(post.current, StepId::PostCoronary);
    assert!(
        matches!(effects[1], Effect::StepStarted { step: StepId::PostCoronary, device, ecmo: Some(ECMO), .. } if device == impella())
    );
}

#[test]
fn sign_off_asks_lists_skips_and_then_closes_the_case() {
    let mut state = set_up();
    while state.current < StepId::SignOff {
        state = if state.current == StepId::PostPv {
            tick_all(
                ok(
                    &state,
                    Event::Skip {
                        reason: "loops unstable".into(),
                    },
                    1.0,
                )
                .0,
            )
        } else {
            complete(&state)
        };
        state = ok(&state, Event::Next, 2.0).0;
    }
    assert_eq!(
        refused(&state, Event::SignOff { by: "".into() }),
        Refusal::EmptyText("name of the person signing off")
    );
    let (asking, effects) = ok(&state, Event::SignOff { by: "Dr B".into() }, 400.0);
    assert!(effects.is_empty());
    let warnings = &asking.pending.as_ref().unwrap().warnings;
    assert_eq!(warnings[0], Warning::SignOffIsFinal);
    assert!(
        warnings[1]
            .to_string()
            .contains("Post-unloading PV loops (loops unstable)")
    );
    let (signed, effects) = ok(&asking, Event::Confirm, 401.0);
    assert!(
        matches!(&effects[..], [Effect::StepEnded { step: StepId::SignOff, .. }, Effect::SignedOff { by, .. }] if by == "Dr B")
    );
    assert_eq!(signed.signed_off.as_ref().unwrap().at, at(401.0));
    for event in sample_events() {
        assert_eq!(refused(&signed, event), Refusal::SignedOff);
    }
}

#[test]
fn the_consoles_zero_and_equalisation_tick_their_items_and_become_the_measurement_context() {
    let state = walk_to(StepId::Preparation);
    let (state, effects) = ok(&state, zeroed(), 10.0);
    let zero = state.zero.clone().unwrap();
    assert_eq!(zero.at.recording_s, 10.0);
    assert!(
        matches!(&effects[..], [Effect::PressuresZeroed(z), Effect::ChecklistChanged { item, ticked: true, .. }]
            if *z == zero && item == heracles::protocol::ZEROED_CHECK)
    );
    // A ratio no sensor at the catheter tip reads is refused, and changes nothing.
    assert!(matches!(
        refused(&state, Event::PdEqualised { pd_pa_read: 0.6 }),
        Refusal::InvalidSetting { .. }
    ));
    let (state, effects) = ok(&state, Event::PdEqualised { pd_pa_read: 0.96 }, 20.0);
    let equalisation = state.equalisation.clone().unwrap();
    assert!((equalisation.pd_gain - 1.0 / 0.96).abs() < 1e-12);
    assert!(
        matches!(&effects[..], [Effect::PdEqualised(e), Effect::ChecklistChanged { item, ticked: true, .. }]
            if *e == equalisation && item == heracles::protocol::EQUALISED_CHECK)
    );
    let checklist = &state.record(StepId::Preparation).checklist;
    assert_eq!(checklist.iter().filter(|ticked| **ticked).count(), 2);
    // Zeroing again replaces the record; the item is ticked already, so only the zero is recorded.
    let (state, effects) = ok(&state, zeroed(), 30.0);
    assert!(matches!(&effects[..], [Effect::PressuresZeroed(_)]));
    // At the baseline coronary step the context carries them, whatever was typed or ticked.
    let mut state = state;
    while state.current < StepId::BaselineCoronary {
        state = ok(&complete(&state), Event::Next, 40.0).0;
    }
    let typed = CoronaryContext {
        zeroed: false,
        ..context()
    };
    let (state, _) = ok(&state, Event::SetCoronaryContext(typed), 50.0);
    let recorded = state.coronary_context.unwrap();
    assert!(recorded.zeroed);
    assert_eq!(recorded.pd_pa_at_equalisation, 0.96);
    assert_eq!(recorded.zero.unwrap().at.recording_s, 30.0);
    assert_eq!(recorded.equalisation, Some(equalisation));
}

#[test]
fn a_zero_or_equalisation_after_the_context_was_recorded_is_carried_into_it_at_once() {
    // The context recorded at the baseline coronary step, with the consoles step's zero of 10 s.
    let state = walk_to(StepId::Preparation);
    let state = ok(&state, zeroed(), 10.0).0;
    let mut state = state;
    while state.current < StepId::BaselineCoronary {
        state = ok(&complete(&state), Event::Next, 20.0).0;
    }
    let state = ok(&state, Event::SetCoronaryContext(context()), 30.0).0;
    assert_eq!(
        state
            .coronary_context
            .as_ref()
            .unwrap()
            .zero
            .as_ref()
            .unwrap()
            .at
            .recording_s,
        10.0
    );
    // Back at the consoles, zeroed again: the context follows, and the new context is recorded.
    let state = ok(&state, Event::Back, 40.0).0;
    let (state, effects) = ok(&state, zeroed(), 50.0);
    let recorded = state.coronary_context.clone().unwrap();
    assert_eq!(recorded.zero, state.zero);
    assert_eq!(recorded.zero.as_ref().unwrap().at.recording_s, 50.0);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CoronaryContextRecorded { context, .. } if *context == recorded)),
        "{effects:?}"
    );
    // Equalised: the ratio read is the context's, with the equalisation; vessel and wire stay as entered.
    let (state, effects) = ok(&state, Event::PdEqualised { pd_pa_read: 0.96 }, 60.0);
    let recorded = state.coronary_context.clone().unwrap();
    assert_eq!(recorded.pd_pa_at_equalisation, 0.96);
    assert_eq!(recorded.equalisation, state.equalisation);
    assert_eq!(
        (recorded.vessel, recorded.segment),
        (Vessel::Lad, VesselSegment::Mid)
    );
    assert_eq!(recorded.wire_position, "past D1");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CoronaryContextRecorded { context, .. } if *context == recorded))
    );
}

#[test]
fn checklist_items_are_recorded_and_unknown_ones_refused() {
    let state = walk_to(StepId::Preparation);
    let (state, effects) = ok(
        &state,
        Event::CheckItem {
            item: 2,
            ticked: true,
        },
        1.0,
    );
    assert!(
        matches!(&effects[..], [Effect::ChecklistChanged { item, ticked: true, .. }] if item == "Pressures zeroed at mid-chest level")
    );
    assert!(state.record(StepId::Preparation).checklist[2]);
    let num_items = guide(StepId::Preparation).checklist.len();
    assert!(matches!(
        refused(
            &state,
            Event::CheckItem {
                item: num_items,
                ticked: true
            }
        ),
        Refusal::NoSuchItem { .. }
    ));
}

#[test]
fn the_state_survives_a_round_trip_through_json() {
    let state = capture(&walk_to(StepId::BaselineCoronary), WindowKind::CoronaryRest, 3.0);
    let text = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<State>(&text).unwrap(), state);
}

fn any_event() -> impl Strategy<Value = Event> {
    let step = (0..StepId::ALL.len()).prop_map(|i| StepId::ALL[i]);
    let kind = (0..4usize).prop_map(|i| WindowKind::ALL[i]);
    let criterion = (0..Criterion::ALL.len()).prop_map(|i| Criterion::ALL[i]);
    prop_oneof![
        (criterion, any::<bool>())
            .prop_map(|(criterion, answer)| Event::AnswerCriterion { criterion, answer }),
        (0..8usize, any::<bool>()).prop_map(|(item, ticked)| Event::CheckItem { item, ticked }),
        (-1.0..9.0f64).prop_map(|flow_l_min| Event::SetEcmo(EcmoSettings {
            flow_l_min,
            rpm: None
        })),
        Just(Event::RecordAllocation {
            arm: Arm::Impella,
            reference: "R".into(),
            allocated_utc: t0()
        }),
        Just(Event::RecordDevice {
            device: impella(),
            ecmo: ECMO
        }),
        Just(Event::RecordDevice {
            device: iabp(),
            ecmo: ECMO
        }),
        kind.prop_map(Event::StartCapture),
        (0..30usize).prop_map(|n| Event::CaptureProgress(CaptureQuality::assess(
            &steady_beats(n),
            1000.0,
            &[]
        ))),
        Just(Event::StopCapture),
        Just(Event::SaveCapture),
        Just(Event::DiscardCapture),
        Just(Event::Skip { reason: "r".into() }),
        Just(Event::Mark { text: "m".into() }),
        Just(Event::Next),
        Just(Event::Next),
        Just(Event::Next),
        Just(Event::Back),
        step.prop_map(Event::GoTo),
        Just(Event::SignOff { by: "s".into() }),
        Just(Event::Confirm),
        Just(Event::Confirm),
        Just(Event::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the operator does: no panic; a refusal changes nothing; every step before the current one is
    /// complete; at most one visit of any step is open; and every change other than a pending confirmation or a
    /// capture's progress is recorded by an effect.
    #[test]
    fn invariants_hold_over_random_sessions(events in proptest::collection::vec(any_event(), 1..120)) {
        let mut state = set_up();
        let mut time_s = 0.0;
        for event in events {
            time_s += 2.5;
            let Ok((next, effects)) = handle(&state, event.clone(), at(time_s)) else { continue };
            for earlier in StepId::ALL.into_iter().filter(|s| *s < next.current) {
                prop_assert_eq!(next.missing(earlier), None, "{:?} before {:?}", earlier, next.current);
            }
            let open: usize = next.steps.iter().filter(|r| r.visits.last().is_some_and(|v| v.ended.is_none())).count();
            prop_assert!(open <= 1);
            let mut quiet = next.clone();
            quiet.pending = state.pending.clone();
            if let (Some(now), Some(before)) = (quiet.capture.as_mut(), state.capture.as_ref()) {
                now.quality = before.quality.clone();
                now.latest = before.latest;
            }
            if quiet != state {
                prop_assert!(!effects.is_empty(), "{:?} changed the state without an effect", event);
            }
            state = next;
        }
    }
}

/// Walks a case with `device` inserted to the post-unloading coronary step.
fn walk_with_device(device: UnloadingDevice) -> State {
    let mut state = walk_to(StepId::DeviceInsertion);
    state = ok(&state, Event::RecordDevice { device, ecmo: ECMO }, 200.0).0;
    if state.pending.is_some() {
        state = ok(&state, Event::Confirm, 200.0).0;
    }
    state = ok(&tick_all(state), Event::Next, 210.0).0;
    assert_eq!(state.current, StepId::PostCoronary);
    state
}

#[test]
fn the_resting_window_at_minimum_support_records_the_device_setting_and_returns_to_target_support() {
    let standby = UnloadingDevice::Iabp(IabpSettings {
        ratio: IabpRatio::Standby,
        ..IabpSettings::default()
    });
    for (target, minimum, wrong) in [
        (
            impella(),
            impella_at(2),
            vec![impella_at(0), impella_at(6), iabp(), standby],
        ),
        (iabp(), standby, vec![iabp(), impella_at(2)]),
    ] {
        let state = walk_with_device(target);
        // Not before the minimum setting is recorded, and never "off" (P-0), the target itself or another device.
        assert_eq!(
            refused(
                &state,
                Event::StartCapture(WindowKind::CoronaryRestMinimumSupport)
            ),
            Refusal::NoMinimumSupport
        );
        for device in wrong {
            assert!(
                matches!(
                    refused(&state, Event::RecordMinimumSupport(device)),
                    Refusal::InvalidSetting {
                        what: "minimum support",
                        ..
                    }
                ),
                "{device:?} accepted as the minimum support of {target:?}"
            );
        }
        let (state, effects) = ok(&state, Event::RecordMinimumSupport(minimum), 300.0);
        assert!(matches!(effects[..], [Effect::MinimumSupportRecorded { device, .. }] if device == minimum));
        assert_eq!(state.device, target, "the device step's setting stays the target");
        // At minimum support, only the window at minimum support is captured.
        assert_eq!(
            refused(&state, Event::StartCapture(WindowKind::CoronaryRest)),
            Refusal::AtMinimumSupport
        );
        let kind = WindowKind::CoronaryRestMinimumSupport;
        let (state, _) = ok(&state, Event::StartCapture(kind), 310.0);
        let duration_s = state.target(kind).duration_s;
        let (state, _) = ok(&state, Event::CaptureProgress(good_quality()), 310.0 + duration_s);
        let (state, effects) = ok(&state, Event::SaveCapture, 311.0 + duration_s);
        match &effects[..] {
            [
                Effect::WindowSaved { step, window },
                Effect::TargetSupportRestored { device, .. },
            ] => {
                assert_eq!(*step, StepId::PostCoronary);
                assert_eq!(window.kind, kind);
                assert_eq!(window.support, Some(minimum));
                assert_eq!(*device, target);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(state.minimum_support, None);
        // Back at target support: the required resting window can be captured, and a second window at minimum
        // support needs the setting recorded again.
        assert_eq!(
            refused(&state, Event::StartCapture(kind)),
            Refusal::NoMinimumSupport
        );
        let state = capture(&state, WindowKind::CoronaryRest, 400.0);
        assert!(state.latest_window(StepId::PostCoronary, kind).is_some());
        // Leaving the step at minimum support puts the device back too.
        let (state, _) = ok(&state, Event::RecordMinimumSupport(minimum), 500.0);
        let (_, effects) = ok(&tick_all(state), Event::Next, 510.0);
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::TargetSupportRestored { device, .. } if *device == target)),
            "{effects:?}"
        );
    }
}
