//! The one path from a stored analysis window to its numbers: the bedside (the case writer), the review, the
//! exports and the report all analyse a window through [`analyse_window`], with the settings stored beside the
//! window ([`WindowSettings`], the one shape both write and read) and what the case adds (V0 from the case's
//! ESPVR, the baseline wave speed, calibration state, device). Nothing else analyses a window, so a number the
//! bedside showed is the number the review and the exports show.
//!
//! Rules applied here, once:
//! - V0 for end-systole and PVA of every window is the case's ESPVR V0 (the baseline preload reduction), except
//!   in the window that fits it; without one it is 0 mL; the source is stated in every result.
//! - A preload reduction's ESPVR, EDPVR and PRSW use the accepted beats of the occlusion only: the beats the
//!   reviewer chose, or, until then, the falling limb of end-diastolic volume found automatically
//!   ([`occlusion_from_edv`]), never the pre-occlusion or rejected beats. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::endpoints::WindowContext;
use super::pipeline::{AnalysisRequest, ChannelChoice, PipelineError, Report, analyze_recording};
use super::settings::{AnalysisSettings, V0Setting};
use crate::model::workers::Workers;
use crate::model::{Recording, RejectReason, WindowKind};

/// Fewest occlusion beats the automatic choice accepts (fewer: no ESPVR until the reviewer chooses).
pub const MIN_AUTO_OCCLUSION_BEATS: usize = 5;

/// The settings stored with an analysis window: the case's analysis settings and, for a preload reduction, the
/// occlusion beats chosen. The bedside writes this shape and the review reads it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowSettings {
    /// The analysis settings (the defaults of this version when absent).
    #[serde(default)]
    pub analysis: Option<AnalysisSettings>,
    /// First and last occlusion beat chosen for the ESPVR (preload reductions; `None`: chosen automatically).
    #[serde(default)]
    pub occlusion_beats: Option<(u32, u32)>,
    /// The device setting the operator recorded for a resting window at minimum support (IABP on standby,
    /// Impella at its lowest P-level): the within-session CDFR reference names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<crate::model::UnloadingDevice>,
}

impl WindowSettings {
    /// Reads stored window settings. Cases written before the shapes were unified stored the bare
    /// [`AnalysisSettings`]; those are read as the analysis settings, so no stored choice falls back to defaults.
    pub fn from_json(value: &serde_json::Value) -> WindowSettings {
        let is_bare = value
            .as_object()
            .is_some_and(|object| object.contains_key("signal") && !object.contains_key("analysis"));
        if is_bare {
            return WindowSettings {
                analysis: serde_json::from_value(value.clone()).ok(),
                ..WindowSettings::default()
            };
        }
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    /// As stored.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The analysis settings (this version's defaults when none are stored).
    pub fn settings(&self) -> AnalysisSettings {
        self.analysis.clone().unwrap_or_default()
    }
}

/// The case's ESPVR V0, carried to every other window of the case.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseV0 {
    /// The intercept, mL.
    pub v0_ml: f64,
    /// The window whose ESPVR gave it.
    pub window_id: i64,
}

/// Everything [`analyse_window`] needs besides the samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowInput {
    /// What the window measures (`None`: not known, analysed as a steady window).
    pub kind: Option<WindowKind>,
    /// Start of the window, s on the recording's time axis (`None`: from the start).
    pub from_s: Option<f64>,
    /// End, s (`None`: to the end).
    pub to_s: Option<f64>,
    /// Explicit channel choices (the rest are matched by name).
    pub channels: Vec<ChannelChoice>,
    /// The settings stored with the window.
    pub stored: WindowSettings,
    /// The case's ESPVR V0 (`None` for the window that fits it, or when the case has none).
    pub case_v0: Option<CaseV0>,
    /// The baseline wave speed, for the post state's resting coronary window.
    pub baseline_wave_speed_m_s: Option<f64>,
    /// Calibration state and device while the window was recorded.
    pub context: WindowContext,
    /// The reviewer's verdicts by beat number.
    pub verdicts: BTreeMap<u32, Option<RejectReason>>,
    /// How many parts of the per-beat work may run at once (one by default; the numbers do not depend on it).
    pub workers: Workers,
}

impl WindowInput {
    /// The analysis settings the window is analysed with: the stored ones, with V0 from the case.
    pub fn settings(&self) -> AnalysisSettings {
        let mut settings = self.stored.settings();
        if let Some(case) = self.case_v0 {
            settings.v0 = V0Setting::CaseEspvr {
                v0_ml: case.v0_ml,
                window_id: case.window_id,
            };
        }
        settings
    }

    fn request(&self, occlusion_beats: Option<(u32, u32)>) -> AnalysisRequest {
        AnalysisRequest {
            channels: self.channels.clone(),
            from_s: self.from_s,
            to_s: self.to_s,
            occlusion_beats,
            baseline_wave_speed_m_s: self.baseline_wave_speed_m_s,
            verdicts: self.verdicts.clone(),
            kind: self.kind,
            context: self.context,
            workers: self.workers,
        }
    }
}

/// Analyses one window of `recording` (which must cover it) as the case stands: the one function every view and
/// export gets a window's numbers from. The report carries the window's labelled endpoint set
/// ([`Report::endpoints`]).
pub fn analyse_window(recording: &Recording, input: &WindowInput) -> Result<Report, PipelineError> {
    analyse_window_with(recording, input, None)
}

/// As [`analyse_window`], with the occlusion beats overridden (the review's live preview while dragging).
pub fn analyse_window_with(
    recording: &Recording,
    input: &WindowInput,
    occlusion_override: Option<(u32, u32)>,
) -> Result<Report, PipelineError> {
    let settings = input.settings();
    let chosen = occlusion_override.or(input.stored.occlusion_beats);
    if input.kind != Some(WindowKind::PvPreloadReduction) || chosen.is_some() {
        return analyze_recording(recording, &settings, &input.request(chosen));
    }
    // A preload reduction without a reviewer's choice: find the occlusion on a first pass.
    let first = analyze_recording(recording, &settings, &input.request(None))?;
    let Some((from, to)) = occlusion_from_edv(&first) else {
        let mut report = first;
        report.summary.notes.push(format!(
            "ESPVR: no occlusion found automatically (needs >= {MIN_AUTO_OCCLUSION_BEATS} accepted beats with \
             falling EDV); choose the occlusion beats in review"
        ));
        return Ok(report);
    };
    let mut report = analyze_recording(recording, &settings, &input.request(Some((from, to))))?;
    report.summary.notes.push(format!(
        "occlusion beats {from}-{to} chosen automatically (falling limb of EDV over the accepted beats); the \
         reviewer can choose others"
    ));
    Ok(report)
}

/// The occlusion of a preload reduction found from the beats' end-diastolic volumes: the accepted beats from the
/// first whose EDV falls below the pre-occlusion maximum to the EDV minimum (the beats of the falling limb).
/// `None` when fewer than [`MIN_AUTO_OCCLUSION_BEATS`] such beats exist.
pub fn occlusion_from_edv(report: &Report) -> Option<(u32, u32)> {
    let points: Vec<(u32, f64)> = report
        .beats
        .iter()
        .zip(&report.per_beat)
        .filter(|(beat, _)| crate::model::RejectReason::counts_for_pv(beat.reject_reason.as_deref()))
        .filter_map(|(beat, metrics)| Some((beat.number, metrics.pv.as_ref()?.edv_ml)))
        .filter(|(_, edv)| edv.is_finite())
        .collect();
    let lowest = points
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
        .map(|(k, _)| k)?;
    // The pre-occlusion maximum: the highest EDV before the minimum.
    let highest = points[..=lowest]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
        .map(|(k, _)| k)?;
    let first = highest + 1;
    if lowest < first || lowest + 1 - first < MIN_AUTO_OCCLUSION_BEATS {
        return None;
    }
    Some((points[first].0, points[lowest].0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_analysis_settings_written_by_older_bedside_cases_are_read_not_dropped() {
        let settings = AnalysisSettings {
            vessel_diameter_cm: Some(0.31),
            ..AnalysisSettings::default()
        };
        let bare = serde_json::to_value(&settings).unwrap();
        let read = WindowSettings::from_json(&bare);
        assert_eq!(read.analysis, Some(settings.clone()));
        let wrapped = WindowSettings {
            analysis: Some(settings),
            occlusion_beats: Some((3, 9)),
            support: None,
        };
        assert_eq!(WindowSettings::from_json(&wrapped.json()), wrapped);
        assert_eq!(
            WindowSettings::from_json(&serde_json::json!({})),
            WindowSettings::default()
        );
    }

    #[test]
    fn the_case_v0_replaces_the_stored_v0_and_names_its_window() {
        let input = WindowInput {
            case_v0: Some(CaseV0 {
                v0_ml: -12.5,
                window_id: 4,
            }),
            ..WindowInput::default()
        };
        assert_eq!(
            input.settings().v0,
            V0Setting::CaseEspvr {
                v0_ml: -12.5,
                window_id: 4
            }
        );
        assert_eq!(WindowInput::default().settings().v0, V0Setting::FromEspvrElseZero);
    }
}
