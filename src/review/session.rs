//! A review session on one case file: applies the reviewer's edits through the store's audited API (each with
//! its reason), recomputes the results they affect, keeps an undo history, and describes the case as a
//! [`Snapshot`] for the views. [`super::worker`] runs a session on its own thread; tests call it directly.
//!
//! Undo writes the inverse edit, audited like any other with the reason `undo: <original reason>` (the audit
//! trail is append-only: nothing is ever taken back silently). Verdicts, window moves, occlusion choices,
//! annotation texts and follow-up answers can be undone; adding a window or an annotation and signing cannot.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::analysis::{
    self, CaseAnalysis, ReviewError, Scope, State, WindowKind, WindowSettings, case_settings, case_unloading,
    window_settings,
};
use super::endpoints::{EndpointRow, endpoint_table};
use super::follow_up::FollowUpForm;
use super::sign_off::{self, SignOffStatus, SignatureMeaning, current_results};
use crate::analysis::ALGORITHM_VERSION;
use crate::analysis::coronary::check_minimal_rule;
use crate::analysis::endpoints::Unloading;
use crate::analysis::settings::{CdfrReference, MinimalResistanceChoice, Mvo2Constants};
use crate::model::{Beat, RejectReason};
use crate::store::{
    AnalysisWindow, Annotation, AuditEntry, CaseFile, CaseSummary, Event, StepRecord, StoreError, TextWarning,
};

/// How close (analysis samples) a beat found after a window move must start to a reviewed beat to inherit its
/// verdict.
const CARRY_TOLERANCE_SAMPLES: u64 = 2;
/// Audit rows kept in a snapshot (newest).
const AUDIT_TAIL: usize = 200;

/// One thing the reviewer can change.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Accept (`None`) or reject (`Some`) a beat of a window.
    SetVerdict {
        /// The window.
        window_id: i64,
        /// The beat's number.
        number: u32,
        /// The new verdict.
        verdict: Option<RejectReason>,
    },
    /// Move a window to a new time range (its beats are found again; reviewed verdicts follow their beats).
    MoveWindow {
        /// The window.
        window_id: i64,
        /// New start, s.
        start_s: f64,
        /// New end, s.
        end_s: f64,
    },
    /// Choose the occlusion beats of a preload reduction (`None` clears the choice).
    SetOcclusion {
        /// The window.
        window_id: i64,
        /// First and last beat.
        beats: Option<(u32, u32)>,
    },
    /// Change the case's analysis choices (stored with every window, audited; every result is recomputed and a
    /// sign-off no longer holds). Refused, with nothing changed, when a choice cannot apply to the case.
    SetChoices(CaseChoices),
    /// Add an analysis window (for an imported recording, or a second try).
    AddWindow {
        /// The state it measures.
        state: State,
        /// What it measures.
        kind: WindowKind,
        /// Start, s.
        start_s: f64,
        /// End, s.
        end_s: f64,
    },
    /// Add a time-anchored annotation.
    AddAnnotation {
        /// Start, s.
        start_s: f64,
        /// End, s, when it covers a stretch.
        end_s: Option<f64>,
        /// The note.
        text: String,
    },
    /// Change an annotation's text.
    EditAnnotation {
        /// The annotation.
        id: i64,
        /// The new text.
        text: String,
    },
    /// Enter or change a follow-up section.
    SetFollowUp(Box<FollowUpForm>),
    /// Sign the case off.
    SignOff {
        /// What the signature means.
        meaning: SignatureMeaning,
    },
}

impl Edit {
    /// A short description for the undo button and messages.
    pub fn describe(&self) -> String {
        match self {
            Edit::SetVerdict {
                number,
                verdict: None,
                ..
            } => format!("accept beat {number}"),
            Edit::SetVerdict { number, .. } => format!("reject beat {number}"),
            Edit::MoveWindow { window_id, .. } => format!("move window {window_id}"),
            Edit::SetOcclusion { window_id, .. } => format!("occlusion beats of window {window_id}"),
            Edit::SetChoices(_) => "analysis choices".into(),
            Edit::AddWindow { kind, .. } => format!("add a {}", kind.label()),
            Edit::AddAnnotation { .. } => "add an annotation".into(),
            Edit::EditAnnotation { id, .. } => format!("edit annotation {id}"),
            Edit::SetFollowUp(_) => "follow-up".into(),
            Edit::SignOff { .. } => "sign-off".into(),
        }
    }
}

/// The per-case analysis choices (ENDPOINTS.md [choice]s a fellow may need to change for one case).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CaseChoices {
    /// The state CDFR divides by.
    pub cdfr_reference: CdfrReference,
    /// The minimal microvascular resistance rule.
    pub minimal_resistance: MinimalResistanceChoice,
    /// Vessel diameter for volumetric flow and flow/PVA, cm (`None`: not entered).
    pub vessel_diameter_cm: Option<f64>,
    /// MVO2 constants (`None`: MVO2 is not estimated).
    pub mvo2: Option<Mvo2Constants>,
}

impl CaseChoices {
    /// The choices in `settings`.
    pub fn of(settings: &crate::analysis::AnalysisSettings) -> CaseChoices {
        CaseChoices {
            cdfr_reference: settings.cdfr.reference,
            minimal_resistance: settings.minimal_resistance,
            vessel_diameter_cm: settings.vessel_diameter_cm,
            mvo2: settings.mvo2.clone(),
        }
    }

    /// `settings` with these choices.
    pub fn apply(&self, settings: &mut crate::analysis::AnalysisSettings) {
        settings.cdfr.reference = self.cdfr_reference;
        settings.minimal_resistance = self.minimal_resistance;
        settings.vessel_diameter_cm = self.vessel_diameter_cm;
        settings.mvo2 = self.mvo2.clone();
    }
}

/// Everything the review views draw from, as of the last edit.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// The case at a glance.
    pub summary: CaseSummary,
    /// Protocol steps (bands on the overview).
    pub steps: Vec<StepRecord>,
    /// Markers and console events, their text in words ([`super::markers::marker_words`]).
    pub events: Vec<Event>,
    /// Reviewer annotations.
    pub annotations: Vec<Annotation>,
    /// Windows, their kinds and states.
    #[serde(skip)]
    pub analysis: CaseAnalysis,
    /// Stored beats of each window with their verdicts.
    pub beats: BTreeMap<i64, Vec<Beat>>,
    /// The follow-up form.
    pub follow_up: FollowUpForm,
    /// Every signature and whether it still holds.
    pub sign_offs: Vec<SignOffStatus>,
    /// The endpoint table.
    pub endpoints: Vec<EndpointRow>,
    /// The newest audit rows, newest last.
    pub audit_tail: Vec<AuditEntry>,
    /// What undo would take back, when anything.
    pub undo: Option<String>,
    /// Why nothing can be saved, when the case file is read-only where it is (the review shows it as a banner).
    pub read_only: Option<String>,
}

impl Snapshot {
    /// The stored window `id`.
    pub fn window(&self, id: i64) -> Option<&AnalysisWindow> {
        self.analysis
            .windows
            .iter()
            .map(|(w, _, _)| w)
            .find(|w| w.id == id)
    }
}

/// What an applied edit left to say (identifier warnings on free text, notes on carried verdicts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// Free text that looks like it holds an identifier (saved; the reviewer is asked to remove it).
    pub warnings: Vec<TextWarning>,
    /// Anything else worth telling.
    pub notes: Vec<String>,
}

/// A session on one case file.
#[derive(Debug)]
pub struct ReviewSession {
    file: CaseFile,
    who: String,
    undo: Vec<(Edit, String)>,
    /// Why nothing can be saved, when the file is read-only where it is (then every edit is refused with it).
    read_only: Option<String>,
}

/// The audited reason of the windows [`ReviewSession::analyse_whole_recording`] adds.
pub const WHOLE_RECORDING_REASON: &str =
    "no protocol windows (recorded headless or imported): the whole recording analysed as one window";

/// A window added over a whole recording.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WholeRecordingWindow {
    /// What it measures.
    pub kind: WindowKind,
    /// Start, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
}

impl ReviewSession {
    /// Opens the case file at `path` for editing as reviewer `who`, and analyses the windows that have no results
    /// yet (so a case straight from the lab, or an imported one with windows, has numbers to review).
    pub fn open(path: &Path, who: &str) -> Result<ReviewSession, ReviewError> {
        if who.trim().is_empty() {
            return Err(StoreError::Invalid("the reviewer's name is required".into()).into());
        }
        // A case on read-only media or in a folder the reviewer cannot write opens for reading, with the reason.
        let (file, read_only) = match CaseFile::open(path) {
            Ok(file) => (file, None),
            Err(error @ StoreError::ReadOnlyPlace(_)) => {
                (CaseFile::open_read_only(path)?, Some(error.to_string()))
            }
            Err(error) => return Err(error.into()),
        };
        let mut session = ReviewSession {
            file,
            who: who.to_owned(),
            undo: Vec::new(),
            read_only,
        };
        if session.read_only.is_some() {
            return Ok(session);
        }
        let analysis = CaseAnalysis::read(&session.file)?;
        let missing = analysis
            .windows
            .iter()
            .any(|(w, _, _)| !analysis.reports.contains_key(&w.id));
        if missing {
            analysis::recompute(&mut session.file, &session.who, Scope::All)?;
        }
        Ok(session)
    }

    /// Why nothing can be saved (the file is read-only where it is), if so.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// The case file.
    pub fn file(&self) -> &CaseFile {
        &self.file
    }

    /// Applies `edit` with the reviewer's `reason`, recomputes what it affects, and remembers how to undo it.
    pub fn apply(&mut self, edit: Edit, reason: &str) -> Result<Applied, ReviewError> {
        let inverse = self.inverse(&edit)?;
        let applied = self.apply_only(&edit, reason)?;
        if let Some(inverse) = inverse {
            self.undo.push((inverse, reason.to_owned()));
        }
        Ok(applied)
    }

    /// For a case without analysis windows (recorded headless, or imported): one baseline window over the whole
    /// recording for each kind its channels allow (coronary at rest with `pd` and `ipv`, PV steady with `lvp` and
    /// `lvv`), added as audited edits and analysed through the one path. Returns the windows added (none when the
    /// case already has windows: those were chosen by a person and are kept). A recording with neither set of
    /// channels is refused with the reason.
    pub fn analyse_whole_recording(&mut self) -> Result<Vec<WholeRecordingWindow>, ReviewError> {
        if let Some(why) = &self.read_only {
            return Err(ReviewError::Refused(why.clone()));
        }
        if !self.file.analysis_windows()?.is_empty() {
            return Ok(Vec::new());
        }
        let channels = self.file.channels()?;
        let has = |name: &str| channels.iter().any(|channel| channel.name == name);
        let kinds: Vec<WindowKind> = [
            (WindowKind::CoronaryRest, has("pd") && has("ipv")),
            (WindowKind::PvSteady, has("lvp") && has("lvv")),
        ]
        .into_iter()
        .filter_map(|(kind, possible)| possible.then_some(kind))
        .collect();
        if kinds.is_empty() {
            return Err(ReviewError::Stored(
                "nothing to analyse: the recording has neither coronary (pd and ipv) nor pressure-volume (lvp and \
                 lvv) channels"
                    .into(),
            ));
        }
        let end_s = channels
            .iter()
            .map(|channel| channel.end_sample as f64 / channel.sample_rate_hz)
            .fold(0.0, f64::max);
        let start_s = channels
            .iter()
            .map(|channel| channel.first_sample as f64 / channel.sample_rate_hz)
            .fold(end_s, f64::min);
        let mut added = Vec::new();
        for kind in kinds {
            self.apply(
                Edit::AddWindow {
                    state: State::Baseline,
                    kind,
                    start_s,
                    end_s,
                },
                WHOLE_RECORDING_REASON,
            )?;
            added.push(WholeRecordingWindow { kind, start_s, end_s });
        }
        Ok(added)
    }

    /// Takes back the last undoable edit (as a new audited edit); `None` when there is nothing to undo.
    pub fn undo(&mut self) -> Result<Option<Applied>, ReviewError> {
        let Some((inverse, reason)) = self.undo.pop() else {
            return Ok(None);
        };
        match self.apply_only(&inverse, &format!("undo: {reason}")) {
            Ok(applied) => Ok(Some(applied)),
            Err(error) => {
                self.undo.push((inverse, reason));
                Err(error)
            }
        }
    }

    /// What undo would take back.
    pub fn undo_description(&self) -> Option<String> {
        self.undo
            .last()
            .map(|(edit, _)| format!("undo {}", edit.describe()))
    }

    /// The edit that takes `edit` back, as the case stands now (`None`: not undoable).
    fn inverse(&self, edit: &Edit) -> Result<Option<Edit>, ReviewError> {
        Ok(match edit {
            Edit::SetVerdict {
                window_id, number, ..
            } => {
                let beat = self
                    .file
                    .beats(*window_id)?
                    .into_iter()
                    .find(|b| b.number == *number);
                beat.map(|b| Edit::SetVerdict {
                    window_id: *window_id,
                    number: *number,
                    verdict: b.reject,
                })
            }
            Edit::MoveWindow { window_id, .. } => self.stored_window(*window_id)?.map(|w| Edit::MoveWindow {
                window_id: w.id,
                start_s: w.start_s,
                end_s: w.end_s,
            }),
            Edit::SetOcclusion { window_id, .. } => {
                self.stored_window(*window_id)?.map(|w| Edit::SetOcclusion {
                    window_id: w.id,
                    beats: window_settings(&w).occlusion_beats,
                })
            }
            Edit::EditAnnotation { id, .. } => self
                .file
                .annotations()?
                .into_iter()
                .find(|a| a.id == *id)
                .map(|a| Edit::EditAnnotation {
                    id: a.id,
                    text: a.text,
                }),
            Edit::SetFollowUp(_) => Some(Edit::SetFollowUp(Box::new(self.follow_up()?))),
            Edit::SetChoices(_) => Some(Edit::SetChoices(CaseChoices::of(&case_settings(
                &CaseAnalysis::read(&self.file)?,
            )))),
            Edit::AddWindow { .. } | Edit::AddAnnotation { .. } | Edit::SignOff { .. } => None,
        })
    }

    fn stored_window(&self, id: i64) -> Result<Option<AnalysisWindow>, ReviewError> {
        Ok(self.file.analysis_windows()?.into_iter().find(|w| w.id == id))
    }

    fn follow_up(&self) -> Result<FollowUpForm, ReviewError> {
        FollowUpForm::from_records(&self.file.follow_ups()?).map_err(|e| ReviewError::Stored(e.to_string()))
    }

    fn apply_only(&mut self, edit: &Edit, reason: &str) -> Result<Applied, ReviewError> {
        if let Some(why) = &self.read_only {
            return Err(ReviewError::Refused(why.clone()));
        }
        let who = self.who.clone();
        let mut applied = Applied::default();
        match edit {
            Edit::SetVerdict {
                window_id,
                number,
                verdict,
            } => {
                self.file
                    .set_beat_verdict(&who, *window_id, *number, verdict.clone(), reason)?;
                analysis::recompute(&mut self.file, &who, Scope::Window(*window_id))?;
            }
            Edit::MoveWindow {
                window_id,
                start_s,
                end_s,
            } => {
                applied.notes = self.move_window(*window_id, *start_s, *end_s, reason)?;
            }
            Edit::SetOcclusion { window_id, beats } => {
                let window = self
                    .stored_window(*window_id)?
                    .ok_or_else(|| StoreError::Invalid(format!("there is no window {window_id}")))?;
                let mut settings = window_settings(&window);
                settings.occlusion_beats = *beats;
                self.file
                    .set_analysis_window_settings(&who, *window_id, &settings.json(), reason)?;
                analysis::recompute(&mut self.file, &who, Scope::Window(*window_id))?;
            }
            Edit::SetChoices(choices) => self.set_choices(choices, reason)?,
            Edit::AddWindow {
                state,
                kind,
                start_s,
                end_s,
            } => {
                if *state == State::Baseline && *kind == WindowKind::CoronaryRestMinimumSupport {
                    return Err(ReviewError::Refused(
                        "a window at minimum support is measured after unloading, not at baseline".into(),
                    ));
                }
                let settings = WindowSettings {
                    analysis: Some(case_settings(&CaseAnalysis::read(&self.file)?)),
                    ..WindowSettings::default()
                };
                let id = self.file.save_analysis_window(
                    &who,
                    &AnalysisWindow {
                        id: 0,
                        step: Some(state.step(*kind)),
                        start_s: *start_s,
                        end_s: *end_s,
                        method: kind.key().into(),
                        settings: settings.json(),
                        algorithm_version: ALGORITHM_VERSION.into(),
                    },
                )?;
                analysis::recompute(&mut self.file, &who, Scope::Window(id))?;
            }
            Edit::AddAnnotation { start_s, end_s, text } => {
                applied.warnings = self.file.add_annotation(&who, *start_s, *end_s, text)?.warnings;
            }
            Edit::EditAnnotation { id, text } => {
                applied.warnings = self.file.update_annotation(&who, *id, text, reason)?.warnings;
            }
            Edit::SetFollowUp(form) => {
                let stored = self.follow_up()?;
                for name in super::follow_up::FORMS {
                    let (new, old) = (form.section_json(name), stored.section_json(name));
                    if new != old
                        && let Some(data) = new
                    {
                        applied
                            .warnings
                            .extend(self.file.set_follow_up(&who, name, &data, reason)?.warnings);
                    }
                }
                analysis::recompute(&mut self.file, &who, Scope::CaseResults)?;
            }
            Edit::SignOff { meaning } => {
                sign_off::sign(&mut self.file, &who, *meaning)?;
            }
        }
        Ok(applied)
    }

    /// Checks that `choices` can apply to this case (refused with the reason, nothing changed, when not), then
    /// stores them with every window (audited with `reason`) and recomputes every result.
    fn set_choices(&mut self, choices: &CaseChoices, reason: &str) -> Result<(), ReviewError> {
        let who = self.who.clone();
        let case = CaseAnalysis::read(&self.file)?;
        let unloading = case_unloading(&self.file)?;
        // The within-session reference (IABP on standby or Impella at minimum support) needs its window; an
        // IABP case may use it: a balloon on standby moves no blood (docs/methods.md, CDFR).
        if choices.cdfr_reference == CdfrReference::DeviceStandby
            && case
                .report(State::Post, WindowKind::CoronaryRestMinimumSupport)
                .is_none()
        {
            return Err(ReviewError::Refused(match unloading {
                Unloading::None => {
                    "the within-session CDFR reference needs an unloading device, and this case \
                                    has none recorded"
                        .into()
                }
                _ => format!(
                    "the within-session CDFR reference needs an analysed {} after unloading (IABP on standby, \
                     Impella at its lowest level above P-0), and this case has none",
                    WindowKind::CoronaryRestMinimumSupport.label()
                ),
            }));
        }
        let hyperaemia = State::ALL.map(|state| case.report(state, WindowKind::CoronaryHyperaemia).is_some());
        check_minimal_rule(
            choices.minimal_resistance,
            hyperaemia,
            unloading == Unloading::Iabp,
        )
        .map_err(|refused| ReviewError::Refused(refused.to_string()))?;
        if let Some(diameter) = choices.vessel_diameter_cm
            && !(diameter.is_finite() && diameter > 0.05 && diameter < 1.0)
        {
            return Err(ReviewError::Refused(format!(
                "a coronary vessel diameter of {diameter} cm is not plausible (expected 0.05-1 cm)"
            )));
        }
        if let Some(mvo2) = &choices.mvo2
            && (mvo2.source.trim().is_empty()
                || !(mvo2.ml_o2_per_mmhg_ml.is_finite() && mvo2.ml_o2_per_mmhg_ml > 0.0)
                || !(mvo2.ml_o2_per_beat.is_finite() && mvo2.ml_o2_per_beat >= 0.0))
        {
            return Err(ReviewError::Refused(
                "MVO2 constants need a slope a > 0, an intercept b >= 0 and their source".into(),
            ));
        }
        for (window, _, _) in &case.windows {
            let mut stored = window_settings(window);
            let mut settings = stored.settings();
            choices.apply(&mut settings);
            stored.analysis = Some(settings);
            let json = stored.json();
            if json != window.settings {
                self.file
                    .set_analysis_window_settings(&who, window.id, &json, reason)?;
            }
        }
        analysis::recompute(&mut self.file, &who, Scope::All)?;
        Ok(())
    }

    /// Moves a window: finds its beats over the new range, carries the reviewer's verdicts to the beats that
    /// start at the same sample, stores the move and the beats in one transaction, then re-applies the carried
    /// verdicts (audited) and recomputes. Returns notes on verdicts that could not be carried.
    fn move_window(
        &mut self,
        window_id: i64,
        start_s: f64,
        end_s: f64,
        reason: &str,
    ) -> Result<Vec<String>, ReviewError> {
        let who = self.who.clone();
        let case = CaseAnalysis::read(&self.file)?;
        let window = self
            .stored_window(window_id)?
            .ok_or_else(|| StoreError::Invalid(format!("there is no window {window_id}")))?;
        let reviewed = analysis::reviewer_verdicts(&self.file, window_id)?;
        let old_beats = self.file.beats(window_id)?;
        let moved = AnalysisWindow {
            start_s,
            end_s,
            ..window.clone()
        };
        let mut input = case.input(&self.file, &moved)?;
        input.verdicts = BTreeMap::new();
        let report = analysis::analyse_input(&self.file, &input, None)?;
        let new_beats = analysis::stored_beats(&report);
        let mut carried = Vec::new();
        let mut notes = Vec::new();
        for (number, verdict) in &reviewed {
            let Some(old) = old_beats.iter().find(|b| b.number == *number) else {
                continue;
            };
            match new_beats
                .iter()
                .find(|b| b.start.abs_diff(old.start) <= CARRY_TOLERANCE_SAMPLES)
            {
                Some(new) => carried.push((new.number, verdict.clone())),
                None => notes.push(format!(
                    "beat {number} (reviewed) is outside the moved window; its verdict no longer applies"
                )),
            }
        }
        self.file
            .move_analysis_window(&who, window_id, start_s, end_s, &new_beats, reason)?;
        for (number, verdict) in carried {
            self.file.set_beat_verdict(
                &who,
                window_id,
                number,
                verdict,
                &format!("carried over when the window moved: {reason}"),
            )?;
        }
        analysis::recompute(&mut self.file, &who, Scope::Window(window_id))?;
        Ok(notes)
    }

    /// The ESPVR the pipeline gives for `window_id` with `occlusion` chosen, without storing anything (the live
    /// preview while the reviewer drags).
    pub fn preview_occlusion(
        &self,
        window_id: i64,
        occlusion: (u32, u32),
    ) -> Result<Option<crate::analysis::pv::relations::EspvrFit>, ReviewError> {
        let case = CaseAnalysis::read(&self.file)?;
        let window = self
            .stored_window(window_id)?
            .ok_or_else(|| StoreError::Invalid(format!("there is no window {window_id}")))?;
        let input = case.input(&self.file, &window)?;
        Ok(analysis::analyse_input(&self.file, &input, Some(occlusion))?
            .summary
            .espvr)
    }

    /// The case as it stands.
    pub fn snapshot(&self) -> Result<Snapshot, ReviewError> {
        let mut snapshot = snapshot_of(&self.file, self.undo_description())?;
        snapshot.read_only = self.read_only.clone();
        Ok(snapshot)
    }
}

/// The case in `file` as it stands (any file, read-only or not); `undo` describes what undo would take back.
pub fn snapshot_of(file: &CaseFile, undo: Option<String>) -> Result<Snapshot, ReviewError> {
    let analysis = CaseAnalysis::read(file)?;
    let mut beats = BTreeMap::new();
    for (window, _, _) in &analysis.windows {
        beats.insert(window.id, file.beats(window.id)?);
    }
    let results = file.results()?;
    let current = current_results(&results);
    let mut endpoints = endpoint_table(&analysis, &current);
    let steps = file.steps()?;
    let stored_events = file.events()?;
    super::endpoints::add_measurement_context(&mut endpoints, &stored_events);
    let mut audit_tail = file.audit_trail()?;
    let skip = audit_tail.len().saturating_sub(AUDIT_TAIL);
    audit_tail.drain(..skip);
    Ok(Snapshot {
        summary: file.summary()?,
        steps,
        // Markers in words (a protocol event is stored as JSON for replay): the lane and the exports read these.
        events: stored_events
            .into_iter()
            .map(|event| Event {
                text: super::markers::marker_words(&event.kind, &event.text),
                ..event
            })
            .collect(),
        annotations: file.annotations()?,
        beats,
        follow_up: FollowUpForm::from_records(&file.follow_ups()?)
            .map_err(|e| ReviewError::Stored(e.to_string()))?,
        sign_offs: sign_off::status(file)?,
        endpoints,
        audit_tail,
        undo,
        read_only: None,
        analysis,
    })
}
