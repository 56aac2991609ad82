//! How a case's analysis windows become stored results, and how they are recomputed after every edit. The
//! numbers come from [`crate::analysis::pipeline`] and the formula functions of [`crate::analysis`]; this module
//! only chooses what to analyse and stores the answers.
//!
//! Storage conventions (the bedside protocol and `heracles export` use the same ones):
//! - an analysis window's `method` is its kind ([`WindowKind::key`]); its `settings` are [`WindowSettings`]
//!   (the case's analysis settings, with its per-case choices, and, for a preload reduction, the occlusion beats
//!   chosen); the bedside's case writer stores a window and then calls [`recompute`], so the bedside and the
//!   review analyse through the same [`crate::analysis::window::analyse_window`];
//! - its beats are stored as [`Beat`]s numbered as the pipeline reports them, with sample indices at the
//!   analysis rate on the case's time axis (`index = time_s x rate`);
//! - result `report` of a window is the pipeline's whole [`Report`] for it (beats, per-beat metrics, summary);
//! - case results (no window): `cdfr` ([`CdfrRecord`]), `microvascular_resistance.baseline` and `.post`
//!   ([`MicrovascularRecord`]) and `clinical` (the follow-up's [`ClinicalEndpoints`]).
//!
//! The newest result of a name is the current one; older ones stay as history. V0 is kept fixed within the
//! patient (ENDPOINTS.md section 5): every window but the baseline preload reduction itself uses the V0 of the
//! baseline ESPVR when there is one (its source is named in every result), and the post state's wave intensity is
//! also computed with the baseline wave speed. The minimal microvascular resistance is chosen for both states
//! together by the case's rule, so both are one kind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::follow_up::{ClinicalEndpoints, Computed, FollowUpForm};
use super::sign_off::current_results;
use crate::acquisition::calibration::{Calibration, stored_calibrations};
use crate::analysis::coronary::{
    CdfrResult, MicrovascularResistance, MinimalResistance, ResistanceKind, cfr, microvascular_resistance,
    minimal_pair,
};
use crate::analysis::endpoints::{Unloading, WindowContext, choices_in_words};
use crate::analysis::pipeline::{PipelineError, Report, cdfr_between};
use crate::analysis::settings::CdfrReference;
pub use crate::analysis::window::WindowSettings;
use crate::analysis::window::{CaseV0, WindowInput, analyse_window_with};
use crate::analysis::{ALGORITHM_VERSION, AnalysisSettings};
pub use crate::model::WindowKind;
use crate::model::{Beat, IabpRatio, RejectReason, StepId, UnloadingDevice};
use crate::store::{Allocation, AnalysisWindow, CaseFile, ResultRecord, StoreError};

/// Result name of a window's pipeline report.
pub const REPORT: &str = "report";
/// Result name of the case's CDFR.
pub const CDFR: &str = "cdfr";
/// Result name of the clinical endpoints.
pub const CLINICAL: &str = "clinical";
/// Method stored with window reports.
const PIPELINE_METHOD: &str = "analysis::pipeline::analyze_recording";

/// Everything that can stop a review edit or an export.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The case file refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The analysis was asked for something impossible.
    #[error("analysis: {0}")]
    Pipeline(#[from] PipelineError),
    /// A stored document cannot be read by this version.
    #[error("{0}")]
    Stored(String),
    /// The edit cannot apply to this case (nothing was changed or recomputed).
    #[error("refused: {0}")]
    Refused(String),
}

/// The kind of a stored window: its `method` (see [`WindowKind::key`]), or for a method this version does not
/// know, the usual kind of its step (coronary steps: at rest; PV steps: steady).
pub fn window_kind(window: &AnalysisWindow) -> Option<WindowKind> {
    WindowKind::from_key(&window.method).or(match window.step {
        Some(StepId::BaselineCoronary | StepId::PostCoronary) => Some(WindowKind::CoronaryRest),
        Some(StepId::BaselinePv | StepId::PostPv) => Some(WindowKind::PvSteady),
        _ => None,
    })
}

/// The two states the trial compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// VA-ECMO alone, before the unloading device.
    Baseline,
    /// After the unloading device went in.
    Post,
}

impl State {
    /// Both states.
    pub const ALL: [State; 2] = [State::Baseline, State::Post];

    /// Stored and exported text.
    pub fn key(self) -> &'static str {
        match self {
            State::Baseline => "baseline",
            State::Post => "post",
        }
    }

    /// The state a protocol step measures.
    pub fn of_step(step: Option<StepId>) -> Option<State> {
        match step? {
            StepId::BaselineCoronary | StepId::BaselinePv => Some(State::Baseline),
            StepId::PostCoronary | StepId::PostPv => Some(State::Post),
            _ => None,
        }
    }

    /// The step where a window of `kind` is measured in this state.
    pub fn step(self, kind: WindowKind) -> StepId {
        match (self, kind.is_coronary()) {
            (State::Baseline, true) => StepId::BaselineCoronary,
            (State::Baseline, false) => StepId::BaselinePv,
            (State::Post, true) => StepId::PostCoronary,
            (State::Post, false) => StepId::PostPv,
        }
    }
}

/// The stored settings of `window` (the one shape the bedside writes and the review reads).
pub fn window_settings(window: &AnalysisWindow) -> WindowSettings {
    WindowSettings::from_json(&window.settings)
}

/// The case's CDFR with the windows it compares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfrRecord {
    /// The reference window: the baseline resting window, or with the within-session reference the post-unloading
    /// resting window at minimum support (absent when that window has no analysis).
    pub reference_window_id: Option<i64>,
    /// The device setting of the reference window when it was recorded at minimum support, in words (e.g.
    /// `Impella CP P-2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_support: Option<String>,
    /// The post-unloading window.
    pub post_window_id: i64,
    /// CDFR with its CI and flags, or why there is none.
    pub cdfr: Computed<CdfrResult>,
    /// The case's analysis choices it was computed with, in words.
    #[serde(default)]
    pub choices: String,
}

/// A state's microvascular resistances, from its resting and (if recorded) hyperaemic windows and its LVEDP, and
/// its coronary flow reserve when a hyperaemic window was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MicrovascularRecord {
    /// The resting coronary window.
    pub rest_window_id: i64,
    /// The hyperaemic window, when recorded.
    pub hyperaemia_window_id: Option<i64>,
    /// The PV window the LVEDP comes from, when there is one.
    pub lvedp_window_id: Option<i64>,
    /// The resistances.
    pub resistance: MicrovascularResistance,
    /// The coronary flow reserve of the state ([`cfr`]), when it has a hyperaemic window.
    #[serde(default)]
    pub cfr: Option<Computed<f64>>,
    /// The minimal microvascular resistance by the case's rule, the same kind in both states (`None`: that
    /// kind could not be computed in this state).
    #[serde(default)]
    pub minimal: Option<MinimalResistance>,
    /// The kind the case's rule chose for both states, or why the rule could not apply.
    #[serde(default)]
    pub minimal_rule: Option<Computed<ResistanceKind>>,
    /// The case's analysis choices it was computed with, in words.
    #[serde(default)]
    pub choices: String,
}

/// Result name of a state's microvascular resistances.
pub fn microvascular_result_name(state: State) -> String {
    format!("microvascular_resistance.{}", state.key())
}

/// The current window reports of a case and what each window is, read once.
#[derive(Clone, Debug, Default)]
pub struct CaseAnalysis {
    /// Every analysis window with its kind and state (`None` when neither can be told).
    pub windows: Vec<(AnalysisWindow, Option<WindowKind>, Option<State>)>,
    /// The current report of each window.
    pub reports: BTreeMap<i64, Report>,
    /// The current case results by name.
    pub case_results: BTreeMap<String, ResultRecord>,
}

impl CaseAnalysis {
    /// Reads the windows and current results of `file`.
    pub fn read(file: &CaseFile) -> Result<CaseAnalysis, ReviewError> {
        let windows = file
            .analysis_windows()?
            .into_iter()
            .map(|w| {
                let (kind, state) = (window_kind(&w), State::of_step(w.step));
                (w, kind, state)
            })
            .collect();
        let results = file.results()?;
        let mut analysis = CaseAnalysis {
            windows,
            ..CaseAnalysis::default()
        };
        for result in current_results(&results) {
            match result.window_id {
                Some(window_id) if result.name == REPORT => {
                    let report: Report = serde_json::from_value(result.value.clone()).map_err(|error| {
                        ReviewError::Stored(format!(
                            "the report of window {window_id} cannot be read: {error}"
                        ))
                    })?;
                    analysis.reports.insert(window_id, report);
                }
                Some(_) => {}
                None => {
                    analysis.case_results.insert(result.name.clone(), result.clone());
                }
            }
        }
        Ok(analysis)
    }

    /// The newest window of `kind` in `state`.
    pub fn window(&self, state: State, kind: WindowKind) -> Option<&AnalysisWindow> {
        self.windows
            .iter()
            .filter(|(_, k, s)| *k == Some(kind) && *s == Some(state))
            .map(|(w, _, _)| w)
            .max_by_key(|w| w.id)
    }

    /// The current report of the newest window of `kind` in `state`, with the window.
    pub fn report(&self, state: State, kind: WindowKind) -> Option<(&AnalysisWindow, &Report)> {
        let window = self.window(state, kind)?;
        Some((window, self.reports.get(&window.id)?))
    }

    /// The case's ESPVR V0: the baseline preload reduction's fit, when there is one.
    pub fn case_v0(&self) -> Option<CaseV0> {
        let (window, report) = self.report(State::Baseline, WindowKind::PvPreloadReduction)?;
        Some(CaseV0 {
            v0_ml: report.summary.espvr.as_ref()?.v0_ml,
            window_id: window.id,
        })
    }

    /// The wave speed of the baseline resting coronary window.
    fn baseline_wave_speed_m_s(&self) -> Option<f64> {
        let (_, report) = self.report(State::Baseline, WindowKind::CoronaryRest)?;
        Some(report.summary.wave_intensity.as_ref()?.c_used_m_s)
    }

    /// Everything [`crate::analysis::window::analyse_window`] needs for `window` as the case stands: its stored
    /// settings, the case's V0 (except in the window that fits it), the baseline wave speed for the post resting
    /// window, calibration state and device, and the reviewer's verdicts.
    pub fn input(&self, file: &CaseFile, window: &AnalysisWindow) -> Result<WindowInput, ReviewError> {
        let (kind, state) = (window_kind(window), State::of_step(window.step));
        let is_baseline_preload =
            kind == Some(WindowKind::PvPreloadReduction) && state == Some(State::Baseline);
        let baseline_wave_speed_m_s = match (state, kind) {
            (Some(State::Post), Some(WindowKind::CoronaryRest)) => self.baseline_wave_speed_m_s(),
            _ => None,
        };
        Ok(WindowInput {
            kind,
            from_s: Some(window.start_s),
            to_s: Some(window.end_s),
            channels: Vec::new(),
            stored: window_settings(window),
            case_v0: if is_baseline_preload { None } else { self.case_v0() },
            baseline_wave_speed_m_s,
            context: window_context(file, window, state)?,
            verdicts: reviewer_verdicts(file, window.id)?,
            ..WindowInput::default()
        })
    }
}

/// Whether the conductance volume was calibrated by the end of `window`, and the device in its state.
pub fn window_context(
    file: &CaseFile,
    window: &AnalysisWindow,
    state: Option<State>,
) -> Result<WindowContext, ReviewError> {
    let volume_calibrated = stored_calibrations(file)?.iter().any(|(_, record)| {
        record.channel == "lvv"
            && record.time_s <= window.end_s
            && matches!(record.calibration, Calibration::Volume { .. })
    });
    let unloading = match (state, window_settings(window).support) {
        // A balloon on standby does not pump: the window at minimum support is not measured under one.
        (Some(State::Post), Some(UnloadingDevice::Iabp(iabp))) if iabp.ratio == IabpRatio::Standby => {
            Unloading::None
        }
        (Some(State::Post), _) => case_unloading(file)?,
        _ => Unloading::None,
    };
    Ok(WindowContext {
        volume_calibrated,
        unloading,
    })
}

/// The case's unloading device: the device recorded at insertion, else the allocation.
pub fn case_unloading(file: &CaseFile) -> Result<Unloading, ReviewError> {
    let recorded = file
        .steps()?
        .into_iter()
        .filter(|s| s.step == StepId::DeviceInsertion)
        .find_map(|s| s.device);
    Ok(match recorded {
        Some(UnloadingDevice::Iabp(_)) => Unloading::Iabp,
        Some(UnloadingDevice::Impella(_)) => Unloading::Impella,
        Some(UnloadingDevice::None) | None => match file.summary()?.allocation {
            Some(Allocation::Iabp) => Unloading::Iabp,
            Some(Allocation::Impella) => Unloading::Impella,
            _ => Unloading::None,
        },
    })
}

/// The verdicts a reviewer set on the beats of window `window_id` (beats whose verdict was changed by an audited
/// `reject_beat` or `accept_beat`), by beat number, as they stand now.
pub fn reviewer_verdicts(
    file: &CaseFile,
    window_id: i64,
) -> Result<BTreeMap<u32, Option<RejectReason>>, ReviewError> {
    let reviewed: std::collections::BTreeSet<i64> = file
        .audit_trail()?
        .into_iter()
        .filter(|e| e.entity == "beat" && matches!(e.action.as_str(), "reject_beat" | "accept_beat"))
        .filter_map(|e| e.entity_id)
        .collect();
    if reviewed.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = file.beat_rows(window_id)?;
    Ok(rows
        .into_iter()
        .filter(|(id, _)| reviewed.contains(id))
        .map(|(_, beat)| (beat.number, beat.reject))
        .collect())
}

/// The beats of a report as stored: sample indices at the analysis rate on the case's time axis.
pub fn stored_beats(report: &Report) -> Vec<Beat> {
    let rate = report.settings.analysis_rate_hz();
    report
        .beats
        .iter()
        .map(|record| {
            let start = (record.time_s * rate).round().max(0.0) as u64;
            Beat {
                number: record.number,
                start,
                end: start + (record.duration_s * rate).round().max(0.0) as u64,
                fiducial: record.fiducial,
                reject: record.reject_reason.as_deref().map(RejectReason::from_key),
                non_pulsatile: record.non_pulsatile,
                irregular_rhythm: record.irregular_rhythm,
            }
        })
        .collect()
}

/// Analyses `window` as the case stands (reviewer verdicts, chosen occlusion beats, the case's V0), through the
/// one path every view uses.
pub fn analyse_window(
    file: &CaseFile,
    analysis: &CaseAnalysis,
    window: &AnalysisWindow,
) -> Result<Report, ReviewError> {
    analyse_input(file, &analysis.input(file, window)?, None)
}

/// Analyses a window described by `input` from the case's samples (`occlusion` overrides the stored choice).
pub fn analyse_input(
    file: &CaseFile,
    input: &WindowInput,
    occlusion: Option<(u32, u32)>,
) -> Result<Report, ReviewError> {
    let recording = file.recording(input.from_s, input.to_s)?;
    Ok(analyse_window_with(&recording, input, occlusion)?)
}

/// Saves `report` as window `window_id`'s current result when it differs from the stored one.
fn store_report(
    file: &mut CaseFile,
    who: &str,
    window_id: i64,
    report: &Report,
    previous: Option<&Report>,
) -> Result<bool, ReviewError> {
    if previous == Some(report) {
        return Ok(false);
    }
    file.save_result(
        who,
        &ResultRecord {
            id: 0,
            window_id: Some(window_id),
            name: REPORT.into(),
            method: PIPELINE_METHOD.into(),
            settings: serde_json::to_value(&report.settings).unwrap_or_default(),
            algorithm_version: report.algorithm_version.clone(),
            value: serde_json::to_value(report).map_err(|e| ReviewError::Stored(e.to_string()))?,
        },
    )?;
    Ok(true)
}

/// Saves a case result when it differs from the current one.
fn store_case_result<T: Serialize>(
    file: &mut CaseFile,
    who: &str,
    analysis: &CaseAnalysis,
    name: &str,
    method: &str,
    value: &T,
) -> Result<(), ReviewError> {
    let value = serde_json::to_value(value).map_err(|e| ReviewError::Stored(e.to_string()))?;
    if analysis.case_results.get(name).is_some_and(|r| r.value == value) {
        return Ok(());
    }
    file.save_result(
        who,
        &ResultRecord {
            id: 0,
            window_id: None,
            name: name.into(),
            method: method.into(),
            settings: serde_json::Value::Null,
            algorithm_version: ALGORITHM_VERSION.into(),
            value,
        },
    )?;
    Ok(())
}

/// What an edit touched, so [`recompute`] analyses only what it must.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every window (a case opened for the first time, settings changed).
    All,
    /// One window and the windows that depend on it.
    Window(i64),
    /// No window, only the case results (the follow-up changed).
    CaseResults,
}

/// Analyses windows again and stores what changed: every window, one window and the windows that depend on it (the baseline preload reduction gives every window its V0; the baseline
/// resting coronary window gives the post one its wave speed). Baseline windows go first. Windows without stored
/// beats get them; reports and case results (CDFR, resistances, clinical endpoints) are stored only when they
/// changed. Returns the case's analysis as it now stands.
pub fn recompute(file: &mut CaseFile, who: &str, scope: Scope) -> Result<CaseAnalysis, ReviewError> {
    let mut analysis = CaseAnalysis::read(file)?;
    let changed = match scope {
        Scope::All => None,
        Scope::Window(id) => Some(id),
        Scope::CaseResults => Some(i64::MIN),
    };
    let role = |w: &AnalysisWindow| (State::of_step(w.step), window_kind(w));
    let changed_role = changed
        .and_then(|id| analysis.windows.iter().find(|(w, _, _)| w.id == id))
        .map(|(_, k, s)| (*s, *k));
    let affected = |w: &AnalysisWindow| match (changed, changed_role) {
        (None, _) => true,
        (Some(id), _) if w.id == id => true,
        // The baseline preload reduction gives every window the case's V0.
        (Some(_), Some((Some(State::Baseline), Some(WindowKind::PvPreloadReduction)))) => true,
        (Some(_), Some((Some(State::Baseline), Some(WindowKind::CoronaryRest)))) => {
            role(w) == (Some(State::Post), Some(WindowKind::CoronaryRest))
        }
        _ => false,
    };
    let mut order: Vec<AnalysisWindow> = analysis
        .windows
        .iter()
        .map(|(w, _, _)| w.clone())
        .filter(|w| affected(w))
        .collect();
    order.sort_by_key(|w| {
        let rank = match role(w) {
            (Some(State::Baseline), Some(WindowKind::PvPreloadReduction)) => 0,
            (Some(State::Baseline), _) => 1,
            _ => 2,
        };
        (rank, w.id)
    });
    for window in &order {
        let report = analyse_window(file, &analysis, window)?;
        if file.beats(window.id)?.is_empty() && !report.beats.is_empty() {
            file.save_beats(who, window.id, &stored_beats(&report))?;
        }
        store_report(file, who, window.id, &report, analysis.reports.get(&window.id))?;
        analysis.reports.insert(window.id, report);
    }
    store_case_results(file, who, &analysis)?;
    CaseAnalysis::read(file)
}

/// The analysis settings of the case: those stored with its newest window (every window of a case carries the
/// same choices; an edit of a choice rewrites them all), else this version's defaults.
pub fn case_settings(analysis: &CaseAnalysis) -> AnalysisSettings {
    analysis
        .windows
        .iter()
        .map(|(w, _, _)| w)
        .max_by_key(|w| w.id)
        .map(|w| window_settings(w).settings())
        .unwrap_or_default()
}

/// Recomputes and stores the case results (CDFR, resistances, clinical endpoints) from the current reports.
fn store_case_results(file: &mut CaseFile, who: &str, analysis: &CaseAnalysis) -> Result<(), ReviewError> {
    let settings = case_settings(analysis);
    let choices = choices_in_words(&settings);
    // The one CDFR function for both references: post-unloading at target support over the reference state.
    let reference = match settings.cdfr.reference {
        CdfrReference::EcmoAloneBaseline => analysis.report(State::Baseline, WindowKind::CoronaryRest),
        CdfrReference::DeviceStandby => analysis.report(State::Post, WindowKind::CoronaryRestMinimumSupport),
    };
    let baseline_exists = analysis
        .report(State::Baseline, WindowKind::CoronaryRest)
        .is_some();
    if let Some((post, post_report)) = analysis.report(State::Post, WindowKind::CoronaryRest)
        && (reference.is_some() || baseline_exists)
    {
        let cdfr = match reference {
            Some((_, reference_report)) => cdfr_between(reference_report, post_report, &settings),
            None => Err(crate::analysis::Unavailable::NotApplicable(format!(
                "the within-session reference needs an analysed {} after unloading, which this case does not \
                 have",
                WindowKind::CoronaryRestMinimumSupport.label()
            ))),
        };
        let record = CdfrRecord {
            reference_window_id: reference.map(|(w, _)| w.id),
            reference_support: reference
                .and_then(|(w, _)| window_settings(w).support)
                .map(|device| device.describe()),
            post_window_id: post.id,
            cdfr: cdfr.into(),
            choices: choices.clone(),
        };
        store_case_result(
            file,
            who,
            analysis,
            CDFR,
            "analysis::pipeline::cdfr_between",
            &record,
        )?;
    }
    let balloon = case_unloading(file)? == Unloading::Iabp;
    let mut records: Vec<(State, MicrovascularRecord, bool)> = Vec::new();
    for state in State::ALL {
        let Some((rest, rest_report)) = analysis.report(state, WindowKind::CoronaryRest) else {
            continue;
        };
        let Some(rest_window) = rest_report.summary.coronary.as_ref() else {
            continue;
        };
        let hyperaemia = analysis.report(state, WindowKind::CoronaryHyperaemia);
        let hyperaemic_window = hyperaemia.and_then(|(_, r)| r.summary.coronary.as_ref());
        let lvedp = analysis
            .report(state, WindowKind::PvSteady)
            .or(Some((rest, rest_report)))
            .and_then(|(w, r)| Some((w.id, r.summary.pv.as_ref()?.lvedp_mmhg)));
        let record = MicrovascularRecord {
            rest_window_id: rest.id,
            hyperaemia_window_id: hyperaemia.map(|(w, _)| w.id),
            lvedp_window_id: lvedp.map(|(id, _)| id),
            resistance: microvascular_resistance(
                rest_window,
                hyperaemic_window,
                lvedp.map(|(_, p)| p),
                &settings,
            ),
            cfr: hyperaemia.map(|_| match hyperaemic_window {
                Some(hyperaemic) => cfr(rest_window, hyperaemic).into(),
                None => Computed::Unavailable(crate::analysis::Unavailable::NotApplicable(
                    "the hyperaemic window has no coronary values".into(),
                )),
            }),
            minimal: None,
            minimal_rule: None,
            choices: choices.clone(),
        };
        records.push((state, record, hyperaemic_window.is_some()));
    }
    // The minimal resistance is chosen for both states together: one kind in both.
    if let [(_, baseline, baseline_hyperaemia), (_, post, post_hyperaemia)] = records.as_mut_slice() {
        match minimal_pair(
            [&baseline.resistance, &post.resistance],
            [*baseline_hyperaemia, *post_hyperaemia],
            balloon,
            settings.minimal_resistance,
        ) {
            Ok((kind, [b, p])) => {
                baseline.minimal = b;
                post.minimal = p;
                baseline.minimal_rule = Some(Computed::Value(kind));
                post.minimal_rule = Some(Computed::Value(kind));
            }
            Err(refused) => {
                let reason =
                    Computed::Unavailable(crate::analysis::Unavailable::NotApplicable(refused.to_string()));
                baseline.minimal_rule = Some(reason.clone());
                post.minimal_rule = Some(reason);
            }
        }
    } else {
        for (_, record, _) in &mut records {
            record.minimal_rule = Some(Computed::Unavailable(crate::analysis::Unavailable::NotApplicable(
                "the minimal resistance is chosen for both states together; one state has no resting coronary \
                 window"
                    .into(),
            )));
        }
    }
    for (state, record, _) in &records {
        let name = microvascular_result_name(*state);
        store_case_result(
            file,
            who,
            analysis,
            &name,
            "analysis::coronary::microvascular_resistance + minimal_pair",
            record,
        )?;
    }
    let form =
        FollowUpForm::from_records(&file.follow_ups()?).map_err(|e| ReviewError::Stored(e.to_string()))?;
    if form != FollowUpForm::default() {
        let endpoints: ClinicalEndpoints = form.endpoints(&settings.clinical);
        store_case_result(file, who, analysis, CLINICAL, "analysis::clinical", &endpoints)?;
    }
    Ok(())
}
