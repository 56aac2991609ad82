//! The endpoint table: for every labelled endpoint of the case's windows ([`crate::analysis::endpoints`]),
//! baseline, post-unloading and their difference, grouped (primary, coronary, pressure-volume, relations,
//! energetics, supply/demand, wave intensity, clinical), then the case results (CDFR with its CI and flags, each
//! state's hyperaemic APV and coronary flow reserve, the minimal microvascular resistance of one kind in both
//! states, clinical endpoints), and the coronary rows of the
//! post-unloading resting window at minimum support, the within-session CDFR reference (state
//! [`MINIMUM_SUPPORT`]). Every number is read from a
//! stored result, never computed here (a difference is the one subtraction, and only between values of the same
//! kind and unit), and each row says which result and where in it ([`EndpointRow::result_id`],
//! [`EndpointRow::json_pointer`]) and by which method, so the bedside panel, the comparison view, the exports and
//! the report show the same numbers as the case file holds.
//!
//! The coronary measurement context (vessel, segment, wire position, entered at the baseline coronary step,
//! updated by each later zero or equalisation at the consoles step, and stored as a `measurement_context` marker
//! each time; the newest is in force and its row says where and when it was recorded) is a text row of each
//! state beside CDFR ([`add_measurement_context`]): CDFR is only valid in the same vessel, so when the
//! post-unloading step did not confirm the same vessel and wire position, CDFR and the post row carry the flag
//! [`NOT_SAME_VESSEL`].

use serde::{Deserialize, Serialize};

use super::analysis::{CDFR, CLINICAL, CaseAnalysis, State, WindowKind, microvascular_result_name};
use crate::analysis::clinical::{ClinicalHorizons, SixMonthStatus};
use crate::analysis::endpoints::{Endpoint, Group, Unit};
use crate::analysis::format;
use crate::model::{SAME_VESSEL_CHECK, StepId};
use crate::store::{Event, ResultRecord};

/// One row of the endpoint table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointRow {
    /// Stable key, e.g. `apv`.
    pub key: String,
    /// Name on screen.
    pub label: String,
    /// Its unit, written everywhere as [`Unit::symbol`] (empty for ratios; JSON too).
    pub unit: Unit,
    /// [`Group::key`].
    pub group: String,
    /// `baseline`, `post`, `change` (post - baseline) or `case`.
    pub state: String,
    /// The number, when there is one.
    pub value: Option<f64>,
    /// 95 % confidence interval, when the method gives one.
    pub ci95: Option<[f64; 2]>,
    /// For resistances: `HMR`, `WFP-MR` or `BMR`.
    pub kind: Option<String>,
    /// Beats the value is computed from.
    pub num_beats_used: Option<usize>,
    /// Beats of the window left out of it.
    pub num_beats_excluded: Option<usize>,
    /// Flags (keys such as `uncalibrated_volume`, `not_isovolumic`, `ecmo_flow_changed`).
    pub flags: Vec<String>,
    /// Where V0 came from, for values that depend on it.
    pub v0_source: Option<String>,
    /// How it was computed.
    pub method: String,
    /// Algorithm version of the stored result.
    pub algorithm_version: String,
    /// Hash of the analysis settings used.
    pub settings_hash: String,
    /// The stored result the number comes from.
    pub result_id: Option<i64>,
    /// The analysis window it was measured on.
    pub window_id: Option<i64>,
    /// Where the number sits in the stored result's value (RFC 6901).
    pub json_pointer: Option<String>,
    /// The value in words, for a coded endpoint whose codes are categories (the 6-month status: `alive`, `dead`,
    /// `lost to follow-up`; its code is the value): a column of its own, never the note.
    #[serde(default)]
    pub category: Option<String>,
    /// Why there is no value, or what the value means (e.g. the outcome).
    pub note: Option<String>,
}

impl EndpointRow {
    /// The hover text of a number, wherever it is shown (bedside panel, review table, comparison): its method,
    /// kind, beats, flags, V0 source, algorithm and settings, window, or why it is missing.
    pub fn provenance(&self) -> String {
        let mut text = self.method.clone();
        if let Some(kind) = &self.kind {
            text.push_str(&format!("\nkind: {kind}"));
        }
        if let Some(used) = self.num_beats_used {
            text.push_str(&format!(
                "\nbeats used {used}, excluded {}",
                self.num_beats_excluded.unwrap_or(0)
            ));
        }
        if !self.flags.is_empty() {
            text.push_str(&format!("\nflags: {}", self.flags.join(", ").replace('_', " ")));
        }
        if let Some(source) = &self.v0_source {
            text.push_str(&format!("\nV0: {source}"));
        }
        if !self.algorithm_version.is_empty() {
            text.push_str(&format!("\nalgorithm {}", self.algorithm_version));
        }
        if !self.settings_hash.is_empty() {
            text.push_str(&format!(", settings {}", self.settings_hash));
        }
        if let Some(window) = self.window_id {
            text.push_str(&format!("\nwindow w{window}"));
        }
        if let Some(note) = &self.note {
            text.push_str(&format!("\n{note}"));
        }
        text
    }

    /// The value as shown everywhere: a category in its words, a number by [`format::optional`], or
    /// [`format::MISSING`]; a change with its sign, at the precision its baseline (the row of the same key in
    /// `table`, the table this row is part of) is shown with ([`format::change_from`]: Pd/Pa 0.93 -> 0.93 changes
    /// by `0.00`, not by `-5.9e-4`).
    pub fn shown(&self, table: &[EndpointRow]) -> String {
        if let Some(category) = &self.category {
            return category.clone();
        }
        match self.value {
            Some(value) if self.state == "change" => {
                let baseline = table
                    .iter()
                    .find(|row| row.key == self.key && row.state == "baseline")
                    .and_then(|row| row.value);
                format::change_from(value, baseline, self.unit)
            }
            value => format::optional(value, self.unit),
        }
    }
}

fn blank(key: &str, label: &str, unit: Unit, group: Group, state: &str) -> EndpointRow {
    EndpointRow {
        key: key.into(),
        label: label.into(),
        unit,
        group: group.key().into(),
        state: state.into(),
        value: None,
        ci95: None,
        kind: None,
        num_beats_used: None,
        num_beats_excluded: None,
        flags: Vec::new(),
        v0_source: None,
        method: String::new(),
        algorithm_version: String::new(),
        settings_hash: String::new(),
        result_id: None,
        window_id: None,
        json_pointer: None,
        category: None,
        note: None,
    }
}

fn string_at(value: &serde_json::Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The note of a value a stored result could not give: "no value: " and the stored reason in words.
fn no_value(reason: &serde_json::Value) -> String {
    let text = serde_json::from_value::<crate::analysis::Unavailable>(reason.clone())
        .map(|u| u.to_string())
        .unwrap_or_else(|_| reason.to_string());
    format!("no value: {text}")
}

/// A row for the number at `pointer` inside a case result.
fn row_at(result: &ResultRecord, pointer: &str, provenance: Option<&str>, base: EndpointRow) -> EndpointRow {
    let value = result.value.pointer(pointer).and_then(serde_json::Value::as_f64);
    let provenance = provenance.and_then(|p| result.value.pointer(p));
    let method = provenance
        .map(|p| string_at(p, "/method"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| result.method.clone());
    EndpointRow {
        value,
        method,
        algorithm_version: provenance
            .map(|p| string_at(p, "/algorithm_version"))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| result.algorithm_version.clone()),
        settings_hash: provenance
            .map(|p| string_at(p, "/settings_hash"))
            .unwrap_or_default(),
        result_id: Some(result.id),
        window_id: result.window_id,
        json_pointer: Some(pointer.to_owned()),
        note: value
            .is_none()
            .then(|| "no value: see the analysis notes".to_owned()),
        ..base
    }
}

/// A row for a window's labelled endpoint number `index`, stored in `result` (the window's report).
fn endpoint_row(
    endpoint: &Endpoint,
    index: usize,
    result: &ResultRecord,
    hash: &str,
    state: &str,
) -> EndpointRow {
    EndpointRow {
        value: endpoint.value,
        ci95: endpoint.ci95,
        kind: endpoint.kind.map(|k| k.label().to_owned()),
        num_beats_used: endpoint.num_beats_used,
        num_beats_excluded: endpoint.num_beats_excluded,
        flags: endpoint.flags.iter().map(|f| f.key().to_owned()).collect(),
        v0_source: endpoint.v0_source.map(|s| s.text()),
        method: endpoint.method.clone(),
        algorithm_version: result.algorithm_version.clone(),
        settings_hash: hash.to_owned(),
        result_id: Some(result.id),
        window_id: result.window_id,
        json_pointer: Some(format!("/endpoints/{index}/value")),
        note: endpoint.note.clone(),
        ..blank(
            &endpoint.key,
            &endpoint.label,
            endpoint.unit,
            endpoint.group,
            state,
        )
    }
}

/// The difference row of a baseline/post pair: only between values of the same kind and unit.
fn change_row(baseline: &EndpointRow, post: &EndpointRow) -> EndpointRow {
    let mut row = EndpointRow {
        state: "change".into(),
        ..blank(&baseline.key, &baseline.label, baseline.unit, Group::Primary, "")
    };
    row.group = baseline.group.clone();
    row.kind = baseline.kind.clone();
    row.method = "post - baseline".into();
    let comparable = baseline.unit == post.unit && baseline.kind == post.kind;
    row.value = if comparable {
        baseline.value.zip(post.value).map(|(b, p)| p - b)
    } else {
        None
    };
    row.note = if !comparable {
        Some(format!(
            "not computed: baseline is {} and post is {}",
            baseline.kind.as_deref().unwrap_or(baseline.unit.symbol()),
            post.kind.as_deref().unwrap_or(post.unit.symbol())
        ))
    } else {
        row.value.is_none().then(|| "needs both states".to_owned())
    };
    row
}

/// The windows a group's values are read from, in order of preference (the PV console records beside the
/// coronary one, so the PV values of a state come from its steady PV window, else its resting coronary window).
fn preferred_kinds(group: Group, key: &str) -> &'static [WindowKind] {
    use WindowKind::*;
    match group {
        Group::Coronary | Group::WaveIntensity => &[CoronaryRest],
        Group::SupplyDemand => &[CoronaryRest, PvSteady],
        Group::Relations if key != "single_beat_ees" => &[PvPreloadReduction, PvSteady, CoronaryRest],
        _ => &[PvSteady, CoronaryRest, PvPreloadReduction],
    }
}

/// State of the rows of the post-unloading resting window at minimum support (IABP on standby, Impella at its
/// lowest level above P-0): the within-session CDFR reference, measured in the post-unloading session.
pub const MINIMUM_SUPPORT: &str = "min_support";

/// The coronary rows of the resting window at minimum support (APV, pressures, Pd/Pa, resistances with their
/// kind, beats used and excluded, flags), state [`MINIMUM_SUPPORT`], labelled with the device setting; none when
/// the case has no such window. They stand whether or not the case's CDFR uses this reference.
fn minimum_support_rows<'a>(
    analysis: &CaseAnalysis,
    report_result: &dyn Fn(i64) -> Option<&'a ResultRecord>,
) -> Vec<EndpointRow> {
    let Some((window, report)) = analysis.report(State::Post, WindowKind::CoronaryRestMinimumSupport) else {
        return Vec::new();
    };
    let Some(result) = report_result(window.id) else {
        return Vec::new();
    };
    let support = super::analysis::window_settings(window).support.map_or_else(
        || "device setting not recorded".to_owned(),
        |device| device.describe(),
    );
    report
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| e.group == Group::Coronary && !CASE_LEVEL_KEYS.contains(&e.key.as_str()))
        .map(|(index, endpoint)| {
            let mut row = endpoint_row(endpoint, index, result, &report.settings_hash, MINIMUM_SUPPORT);
            row.label = format!("{}, at minimum support", endpoint.label);
            row.method = format!(
                "{}; post-unloading resting window at minimum support ({support}), the within-session CDFR reference",
                endpoint.method
            );
            row
        })
        .collect()
}

/// Window-level keys the case results provide instead (computed with the state's LVEDP from its PV window).
const CASE_LEVEL_KEYS: [&str; 1] = ["bmr_back_pressure_corrected"];

/// The whole table for a case's current results. `results` are the case's current result records; window
/// reports are read from `analysis`.
pub fn endpoint_table(analysis: &CaseAnalysis, results: &[&ResultRecord]) -> Vec<EndpointRow> {
    let mut rows = Vec::new();
    let case_result = |name: &str| {
        results
            .iter()
            .copied()
            .find(|r| r.window_id.is_none() && r.name == name)
    };
    let report_result = |window_id: i64| {
        results
            .iter()
            .copied()
            .find(|r| r.window_id == Some(window_id) && r.name == super::analysis::REPORT)
    };

    rows.extend(primary_rows(case_result(CDFR)));
    rows.extend(minimum_support_rows(analysis, &report_result));

    // Every labelled window endpoint, in group order, each with its baseline, post and change rows.
    let mut keys: Vec<(Group, String)> = Vec::new();
    for state in State::ALL {
        for kind in [
            WindowKind::CoronaryRest,
            WindowKind::PvSteady,
            WindowKind::PvPreloadReduction,
        ] {
            if let Some((_, report)) = analysis.report(state, kind) {
                for endpoint in &report.endpoints {
                    let entry = (endpoint.group, endpoint.key.clone());
                    if !keys.contains(&entry) && !CASE_LEVEL_KEYS.contains(&endpoint.key.as_str()) {
                        keys.push(entry);
                    }
                }
            }
        }
    }
    keys.sort_by_key(|(group, _)| *group);
    let find = |state: State, group: Group, key: &str| {
        preferred_kinds(group, key).iter().find_map(|&kind| {
            let (window, report) = analysis.report(state, kind)?;
            let index = report.endpoints.iter().position(|e| e.key == key)?;
            let result = report_result(window.id)?;
            Some((
                &report.endpoints[index],
                index,
                result,
                report.settings_hash.as_str(),
            ))
        })
    };
    // The case-level coronary rows of each state, after the coronary group: flow reserve, then resistances.
    let case_coronary_rows = || {
        let mut rows = flow_reserve_rows(analysis, &case_result, &report_result);
        rows.extend(resistance_rows(analysis, &case_result));
        rows
    };
    let mut last_group = None;
    for (group, key) in &keys {
        if last_group != Some(*group) && *group > Group::Coronary && last_group <= Some(Group::Coronary) {
            rows.extend(case_coronary_rows());
        }
        last_group = Some(*group);
        let pair: Vec<EndpointRow> = State::ALL
            .into_iter()
            .map(|state| match find(state, *group, key) {
                Some((endpoint, index, result, hash)) => {
                    endpoint_row(endpoint, index, result, hash, state.key())
                }
                None => {
                    let template = State::ALL
                        .into_iter()
                        .find_map(|s| find(s, *group, key))
                        .map(|(e, _, _, _)| e.clone());
                    let mut row = match template {
                        Some(e) => blank(&e.key, &e.label, e.unit, e.group, state.key()),
                        None => blank(key, key, Unit::Ratio, *group, state.key()),
                    };
                    row.note = Some(format!("no window with this value in the {} state", state.key()));
                    row
                }
            })
            .collect();
        let change = change_row(&pair[0], &pair[1]);
        rows.extend(pair);
        rows.push(change);
    }
    if last_group <= Some(Group::Coronary) {
        rows.extend(case_coronary_rows());
    }
    if let Some(result) = case_result(CLINICAL) {
        rows.extend(clinical_rows(result));
    }
    rows
}

/// Key of the measurement-context rows (text in [`EndpointRow::note`], no number), and the kind of the marker
/// that records the context each time it is entered or updated.
pub const MEASUREMENT_CONTEXT: &str = "measurement_context";

/// Kind of the marker of the app's zero of the pressures at the consoles step.
pub const PRESSURE_ZERO: &str = "pressure_zero";

/// Kind of the marker of the app's equalisation of Pd to Pa at the consoles step.
pub const PD_EQUALISATION: &str = "pd_equalisation";

/// Flag on CDFR and the post-unloading context row when the post-unloading step did not confirm that the wire
/// is in the same vessel and position as at baseline.
pub const NOT_SAME_VESSEL: &str = "same_vessel_not_confirmed";

/// Whether the post-unloading coronary step confirmed the baseline's vessel and wire position: its checklist
/// item's last state in the stored checklist markers, the case writer's `<step>: <item>: ticked|unticked` and
/// `<step> left with unticked items: <item>; ...`. `None` when no checklist marker speaks of the item (a case not
/// run through the protocol, or still before that step).
pub fn same_vessel_confirmed(events: &[Event]) -> Option<bool> {
    let item = SAME_VESSEL_CHECK;
    let title = StepId::PostCoronary.title();
    let changed = format!("{title}: {item}: ");
    let left = format!("{title} left with unticked items: ");
    let mut confirmed = None;
    let mut ordered: Vec<&Event> = events.iter().filter(|e| e.kind == "checklist").collect();
    ordered.sort_by(|a, b| a.time_s.total_cmp(&b.time_s).then(a.id.cmp(&b.id)));
    for event in ordered {
        if let Some(state) = event.text.strip_prefix(&changed) {
            confirmed = Some(state == "ticked");
        } else if let Some(items) = event.text.strip_prefix(&left)
            && items.split("; ").any(|unticked| unticked == item)
        {
            confirmed = Some(false);
        }
    }
    confirmed
}

/// Adds the measurement-context rows after CDFR (the baseline's vessel, segment and wire position; at
/// post-unloading whether the same vessel was confirmed) and flags CDFR when it was not. The baseline row is the
/// newest context recorded (the one in force), its method where and when it was recorded. Nothing is added for a
/// case with neither a recorded context nor a checklist record of the post-unloading check.
pub fn add_measurement_context(rows: &mut Vec<EndpointRow>, events: &[Event]) {
    let context = events
        .iter()
        .filter(|e| e.kind == MEASUREMENT_CONTEXT)
        .max_by(|a, b| a.time_s.total_cmp(&b.time_s).then(a.id.cmp(&b.id)));
    let confirmed = same_vessel_confirmed(events);
    if context.is_none() && confirmed.is_none() {
        return;
    }
    let label = "Measurement context (vessel, segment, wire)";
    let mut context_rows = Vec::new();
    let mut baseline = blank(
        MEASUREMENT_CONTEXT,
        label,
        Unit::Ratio,
        Group::Primary,
        "baseline",
    );
    baseline.method = context.map_or_else(String::new, |event| context_recorded_by(event, events));
    baseline.note = Some(context.map_or_else(
        || "not recorded (the baseline coronary step was skipped)".to_owned(),
        |event| event.text.clone(),
    ));
    context_rows.push(baseline);
    if let Some(confirmed) = confirmed {
        let mut post = blank(MEASUREMENT_CONTEXT, label, Unit::Ratio, Group::Primary, "post");
        post.method = "checked at the post-unloading coronary step".into();
        post.note = Some(if confirmed {
            "same vessel and wire position as baseline".to_owned()
        } else {
            "same vessel and wire position as baseline NOT confirmed".to_owned()
        });
        if !confirmed {
            post.flags.push(NOT_SAME_VESSEL.into());
            for row in rows.iter_mut().filter(|row| row.key == "cdfr") {
                row.flags.push(NOT_SAME_VESSEL.into());
            }
        }
        context_rows.push(post);
    }
    let at = rows
        .iter()
        .rposition(|row| row.group == Group::Primary.key())
        .map_or(0, |i| i + 1);
    rows.splice(at..at, context_rows);
}

/// Where and when the context in force (the marker `context`) was last recorded: entered at the baseline
/// coronary step, or updated by a zero or an equalisation at the consoles step (the app records the context again
/// at the very moment of that action, so its marker is the one at the same time).
fn context_recorded_by(context: &Event, events: &[Event]) -> String {
    let at = crate::analysis::format::recording_time(context.time_s);
    let by = events
        .iter()
        .filter(|e| e.time_s == context.time_s)
        .find_map(|e| match e.kind.as_str() {
            PRESSURE_ZERO => Some("zero"),
            PD_EQUALISATION => Some("equalisation"),
            _ => None,
        });
    match by {
        Some(action) => format!(
            "updated by the {action} at {at} ({} step)",
            StepId::Preparation.title()
        ),
        None => format!("entered at the {} step at {at}", StepId::BaselineCoronary.title()),
    }
}

/// The measurement context as every reader shows it, one to three lines ("Measurement context: mid LAD, ...",
/// "Context in force: updated by the zero at 47 s (Consoles, zero and calibration step)", "Post-unloading: same
/// vessel ..."), and whether it flags CDFR; `None` when the table has no context rows.
pub fn measurement_context_text(rows: &[EndpointRow]) -> Option<(Vec<String>, bool)> {
    let of = |state: &str| {
        rows.iter()
            .find(|row| row.key == MEASUREMENT_CONTEXT && row.state == state)
    };
    let baseline = of("baseline")?;
    let mut lines = vec![format!(
        "Measurement context: {}",
        baseline.note.as_deref().unwrap_or_default()
    )];
    if !baseline.method.is_empty() {
        lines.push(format!("Context in force: {}", baseline.method));
    }
    let post = of("post");
    if let Some(note) = post.and_then(|row| row.note.as_deref()) {
        lines.push(format!("Post-unloading: {note}"));
    }
    let flagged = post.is_some_and(|row| row.flags.iter().any(|f| f == NOT_SAME_VESSEL));
    Some((lines, flagged))
}

/// The vessel and segment measured at baseline, short ("mid LAD": the context's words up to its first comma or
/// semicolon), for labels such as the DICOM series description; `None` without a recorded context.
pub fn measured_vessel(rows: &[EndpointRow]) -> Option<String> {
    let row = rows
        .iter()
        .find(|row| row.key == MEASUREMENT_CONTEXT && row.state == "baseline")?;
    let note = row.note.as_deref()?;
    if note.starts_with("not recorded") {
        return None;
    }
    let short = note.split([',', ';']).next().unwrap_or_default().trim();
    (!short.is_empty()).then(|| short.to_owned())
}

/// CDFR and the diastolic-APV ratio, with CI, flags and the reference.
fn primary_rows(result: Option<&ResultRecord>) -> Vec<EndpointRow> {
    let mut cdfr = blank(
        "cdfr",
        "CDFR (coronary device flow reserve)",
        Unit::Ratio,
        Group::Primary,
        "case",
    );
    let mut ratio = blank(
        "diastolic_apv_ratio",
        "Diastolic APV ratio",
        Unit::Ratio,
        Group::Primary,
        "case",
    );
    match result {
        Some(result) => {
            cdfr = row_at(result, "/cdfr/value/cdfr", Some("/cdfr/value/provenance"), cdfr);
            ratio = row_at(
                result,
                "/cdfr/value/diastolic_apv_ratio",
                Some("/cdfr/value/provenance"),
                ratio,
            );
            cdfr.ci95 = result
                .value
                .pointer("/cdfr/value/ci95")
                .and_then(|v| serde_json::from_value::<[f64; 2]>(v.clone()).ok());
            cdfr.flags = result
                .value
                .pointer("/cdfr/value/flags")
                .and_then(serde_json::Value::as_array)
                .map(|flags| flags.iter().map(|f| string_at(f, "/flag")).collect())
                .unwrap_or_default();
            for (key, n) in [
                ("reference", "/cdfr/value/num_reference_beats"),
                ("post", "/cdfr/value/num_post_beats"),
            ] {
                if let Some(n) = result.value.pointer(n).and_then(serde_json::Value::as_u64) {
                    cdfr.num_beats_used = Some(cdfr.num_beats_used.unwrap_or(0) + n as usize);
                    cdfr.method.push_str(&format!("; {n} {key} beats"));
                }
            }
            let reference = match result.value.pointer("/cdfr/value/reference").and_then(|r| {
                serde_json::from_value::<crate::analysis::settings::CdfrReference>(r.clone()).ok()
            }) {
                Some(crate::analysis::settings::CdfrReference::EcmoAloneBaseline) => {
                    "baseline, VA-ECMO alone".to_owned()
                }
                Some(crate::analysis::settings::CdfrReference::DeviceStandby) => format!(
                    "resting window at minimum support in the same session ({})",
                    result
                        .value
                        .pointer("/reference_support")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("device setting not recorded")
                ),
                None => String::new(),
            };
            let choices = string_at(&result.value, "/choices");
            for row in [&mut cdfr, &mut ratio] {
                if !reference.is_empty() {
                    row.method.push_str(&format!("; reference: {reference}"));
                }
                if !choices.is_empty() {
                    row.method.push_str(&format!(" [{choices}]"));
                }
            }
            if let Some(reason) = result.value.pointer("/cdfr/unavailable") {
                cdfr.note = Some(no_value(reason));
                ratio.note = cdfr.note.clone();
            }
        }
        None => {
            let note = Some("needs a baseline and a post-unloading resting coronary window".to_owned());
            cdfr.note = note.clone();
            ratio.note = note;
        }
    }
    vec![cdfr, ratio]
}

/// Why a state's case-level coronary value (resistance, flow reserve) is missing when it has no resting window.
const NO_RESTING_WINDOW: &str = "no value: no resting coronary window in this state";

/// Why a state's hyperaemic value (APV in hyperaemia, CFR, HMR) is missing when it has no adenosine window.
const NO_HYPERAEMIC_WINDOW: &str = "no value: no hyperaemic coronary window in this state";

/// How the flow reserve is computed (its rows' method).
const CFR_METHOD: &str = "coronary flow reserve: APV in hyperaemia / APV at rest, each time-weighted over its \
                          window, same vessel (analysis::coronary::cfr)";

/// The hyperaemic APV of each state's adenosine window and the state's coronary flow reserve (hyperaemic over
/// resting APV, [`crate::analysis::coronary::cfr`], stored with the state's resistances), each with its change;
/// none when no state has a hyperaemic window. Both rows of a state name the hyperaemic window they were measured
/// on, so the bedside shows them under it.
fn flow_reserve_rows<'a>(
    analysis: &CaseAnalysis,
    case_result: &dyn Fn(&str) -> Option<&'a ResultRecord>,
    report_result: &dyn Fn(i64) -> Option<&'a ResultRecord>,
) -> Vec<EndpointRow> {
    let hyperaemia = State::ALL.map(|state| analysis.report(state, WindowKind::CoronaryHyperaemia));
    if hyperaemia.iter().all(Option::is_none) {
        return Vec::new();
    }
    let (apv_key, apv_label) = ("hyperaemic_apv", "APV in hyperaemia");
    let apv: Vec<EndpointRow> = State::ALL
        .into_iter()
        .zip(hyperaemia)
        .map(|(state, hyperaemia)| {
            let measured = hyperaemia.and_then(|(window, report)| {
                let index = report.endpoints.iter().position(|e| e.key == "apv")?;
                let result = report_result(window.id)?;
                Some((&report.endpoints[index], index, result, &report.settings_hash))
            });
            match measured {
                Some((endpoint, index, result, hash)) => EndpointRow {
                    key: apv_key.into(),
                    label: apv_label.into(),
                    method: format!("{}; adenosine hyperaemia window", endpoint.method),
                    ..endpoint_row(endpoint, index, result, hash, state.key())
                },
                None => EndpointRow {
                    note: Some(NO_HYPERAEMIC_WINDOW.into()),
                    ..blank(apv_key, apv_label, Unit::CmPerS, Group::Coronary, state.key())
                },
            }
        })
        .collect();
    let cfr: Vec<EndpointRow> = State::ALL
        .into_iter()
        .zip(hyperaemia)
        .map(|(state, hyperaemia)| {
            let base = EndpointRow {
                window_id: hyperaemia.map(|(window, _)| window.id),
                ..blank("cfr", "CFR", Unit::Ratio, Group::Coronary, state.key())
            };
            let Some(result) = case_result(&microvascular_result_name(state)) else {
                return EndpointRow {
                    note: Some(NO_RESTING_WINDOW.into()),
                    ..base
                };
            };
            let mut row = row_at(result, "/cfr/value", Some("/resistance/provenance"), base);
            row.method = CFR_METHOD.into();
            row.window_id = result
                .value
                .pointer("/hyperaemia_window_id")
                .and_then(serde_json::Value::as_i64);
            if row.value.is_none() {
                row.note = Some(match result.value.pointer("/cfr/unavailable") {
                    Some(reason) => no_value(reason),
                    None => NO_HYPERAEMIC_WINDOW.into(),
                });
            }
            row
        })
        .collect();
    let mut rows = Vec::new();
    for pair in [apv, cfr] {
        let change = change_row(&pair[0], &pair[1]);
        rows.extend(pair);
        rows.push(change);
    }
    rows
}

/// The case-level resistances of each state: the minimal one by the case's rule (one kind in both states), HMR
/// and the back-pressure-corrected variants. Each row counts the beats of the window its value comes from (the
/// hyperaemic window for an HMR, the resting window otherwise), as that window's APV row counts them.
fn resistance_rows<'a>(
    analysis: &CaseAnalysis,
    case_result: &dyn Fn(&str) -> Option<&'a ResultRecord>,
) -> Vec<EndpointRow> {
    let hyperaemic_window = |state| {
        analysis
            .window(state, WindowKind::CoronaryHyperaemia)
            .map(|w| w.id)
    };
    let window_counts = |window_id: Option<i64>| {
        let report = analysis.reports.get(&window_id?)?;
        let apv = report.endpoints.iter().find(|e| e.key == "apv")?;
        Some((apv.num_beats_used, apv.num_beats_excluded))
    };
    let defs: [(&str, &str, &str, Option<&str>); 4] = [
        (
            "minimal_mr",
            "Minimal microvascular resistance",
            "/minimal/value",
            None,
        ),
        ("hmr", "HMR", "/resistance/hmr", Some("HMR")),
        (
            "bmr_back_pressure_corrected",
            "BMR, back-pressure corrected (Pd - LVEDP)",
            "/resistance/bmr_back_pressure_corrected",
            Some("BMR"),
        ),
        (
            "hmr_back_pressure_corrected",
            "HMR, back-pressure corrected (Pd - LVEDP)",
            "/resistance/hmr_back_pressure_corrected",
            Some("HMR"),
        ),
    ];
    let mut rows = Vec::new();
    for (key, label, pointer, kind) in defs {
        let pair: Vec<EndpointRow> = State::ALL
            .into_iter()
            .map(|state| {
                let base = blank(key, label, Unit::Resistance, Group::Coronary, state.key());
                let Some(result) = case_result(&microvascular_result_name(state)) else {
                    return EndpointRow {
                        note: Some(NO_RESTING_WINDOW.into()),
                        // A hyperaemic value of a state without a resting window: under its window, with why not.
                        window_id: hyperaemic_window(state).filter(|_| kind == Some("HMR")),
                        ..base
                    };
                };
                let mut row = row_at(result, pointer, Some("/resistance/provenance"), base);
                row.kind = match kind {
                    Some(kind) => Some(kind.to_owned()),
                    None => result
                        .value
                        .pointer("/minimal/kind")
                        .and_then(|k| {
                            serde_json::from_value::<crate::analysis::coronary::ResistanceKind>(k.clone())
                                .ok()
                        })
                        .map(|k| k.label().to_owned()),
                };
                let from_window = if row.kind.as_deref() == Some("HMR") {
                    "/hyperaemia_window_id"
                } else {
                    "/rest_window_id"
                };
                // Measured on the resting or the hyperaemic window (the case result has no window of its own).
                row.window_id = result
                    .value
                    .pointer(from_window)
                    .and_then(serde_json::Value::as_i64);
                if let Some((used, excluded)) = window_counts(row.window_id) {
                    row.num_beats_used = row.num_beats_used.or(used);
                    row.num_beats_excluded = row.num_beats_excluded.or(excluded);
                }
                let choices = string_at(&result.value, "/choices");
                if key == "minimal_mr" {
                    row.method =
                        format!("the case's minimal-MR rule applied to both states together [{choices}]");
                    if let Some(reason) = result.value.pointer("/minimal_rule/unavailable") {
                        row.note = Some(no_value(reason));
                    }
                }
                let no_hyperaemia = result
                    .value
                    .pointer("/hyperaemia_window_id")
                    .is_some_and(serde_json::Value::is_null);
                if row.value.is_none() && kind == Some("HMR") && no_hyperaemia {
                    row.note = Some(NO_HYPERAEMIC_WINDOW.into());
                }
                if row.value.is_none() && row.note.as_deref() == Some("no value: see the analysis notes") {
                    let text: Vec<&str> = result
                        .value
                        .pointer("/resistance/notes")
                        .and_then(|n| n.as_array())
                        .into_iter()
                        .flatten()
                        .filter_map(serde_json::Value::as_str)
                        .collect();
                    if !text.is_empty() {
                        row.note = Some(format!("no value: {}", text.join("; ")));
                    }
                }
                row
            })
            .collect();
        let change = change_row(&pair[0], &pair[1]);
        rows.extend(pair);
        rows.push(change);
    }
    rows
}

/// The clinical endpoints of the follow-up: the decannulation event's time and type in separate rows (columns
/// of a competing-risks data set), success at 30 days, days alive and out of ICU, 6-month status.
fn clinical_rows(result: &ResultRecord) -> Vec<EndpointRow> {
    let mut rows = Vec::new();
    let outcome = string_at(&result.value, "/decannulation/value/outcome").replace('_', " ");
    let unavailable = |pointer: &str| result.value.pointer(pointer).map(no_value);
    // The horizons the result was computed over (the trial setting), echoed in the labels and methods.
    let horizons: ClinicalHorizons = result
        .value
        .pointer("/horizons")
        .and_then(|h| serde_json::from_value(h.clone()).ok())
        .unwrap_or_default();
    let method = format!(
        "success = alive and free of re-cannulation and other mechanical support {:.0} h after decannulation; \
         still on ECMO or unconfirmed = censored; death, bridge or failed attempt = competing [{}]",
        horizons.confirmation_hours(),
        horizons.describe()
    );
    let mut time = row_at(
        result,
        "/decannulation_event/time_days",
        None,
        blank(
            "decannulation_event_time",
            "Time to successful decannulation or competing event / censoring",
            Unit::Days,
            Group::Clinical,
            "case",
        ),
    );
    time.method = method.clone();
    time.note = unavailable("/decannulation/unavailable").or_else(|| Some(format!("outcome: {outcome}")));
    rows.push(time);
    let mut event = row_at(
        result,
        "/decannulation_event/code",
        None,
        blank(
            "decannulation_event_type",
            "Decannulation event type (0 censored, 1 success, 2 competing)",
            Unit::Code,
            Group::Clinical,
            "case",
        ),
    );
    event.method = method;
    event.note = unavailable("/decannulation/unavailable")
        .or_else(|| Some(string_at(&result.value, "/decannulation_event/event_type").replace('_', " ")));
    rows.push(event);
    let success_label = format!(
        "Successful decannulation at {:.0} days (1 yes, 0 no)",
        horizons.success_horizon_days
    );
    let mut success_30 = blank(
        "successful_decannulation_30",
        &success_label,
        Unit::Code,
        Group::Clinical,
        "case",
    );
    success_30.result_id = Some(result.id);
    success_30.method = format!(
        "decannulated, and on day {:.0} alive and free of re-cannulation and other support [{}]",
        horizons.success_horizon_days,
        horizons.describe()
    );
    success_30.json_pointer = Some("/successful_decannulation_30/value".into());
    success_30.value = result
        .value
        .pointer("/successful_decannulation_30/value")
        .and_then(serde_json::Value::as_bool)
        .map(|b| if b { 1.0 } else { 0.0 });
    success_30.note = unavailable("/successful_decannulation_30/unavailable");
    rows.push(success_30);
    let alive_label = format!(
        "Days alive and out of ICU at {:.0} days",
        horizons.alive_out_of_icu_horizon_days
    );
    let mut alive = row_at(
        result,
        "/days_alive_out_of_icu_30/value",
        None,
        blank(
            "days_alive_out_of_icu_30",
            &alive_label,
            Unit::Days,
            Group::Clinical,
            "case",
        ),
    );
    alive.method = format!(
        "H - ICU days within days 0-H, 0 after death by day H, H = {:.0} days [{}]",
        horizons.alive_out_of_icu_horizon_days,
        horizons.describe()
    );
    if let Some(note) = unavailable("/days_alive_out_of_icu_30/unavailable") {
        alive.note = Some(note);
    }
    rows.push(alive);
    // The 6-month status: its code the value, its words the category, the day behind it the note.
    let mut six_month = blank(
        "six_month_status",
        &format!("6-month status ({})", SixMonthStatus::CODES),
        Unit::Code,
        Group::Clinical,
        "case",
    );
    six_month.result_id = Some(result.id);
    six_month.method = result.method.clone();
    six_month.algorithm_version = result.algorithm_version.clone();
    let status = result
        .value
        .pointer("/six_month_status/value")
        .and_then(|v| serde_json::from_value::<SixMonthStatus>(v.clone()).ok());
    match status {
        Some(status) => {
            six_month.value = Some(f64::from(status.code()));
            six_month.category = Some(status.words().to_owned());
            six_month.note = status.day_words();
        }
        None => {
            six_month.note =
                Some(unavailable("/six_month_status/unavailable").unwrap_or_else(|| "not entered".into()));
        }
    }
    rows.push(six_month);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(id: i64, time_s: f64, kind: &str, text: &str) -> Event {
        Event {
            id,
            time_s,
            created_utc: String::new(),
            kind: kind.into(),
            text: text.into(),
        }
    }

    fn cdfr_row() -> EndpointRow {
        blank("cdfr", "CDFR", Unit::Ratio, Group::Primary, "case")
    }

    #[test]
    fn the_same_vessel_check_is_the_items_last_state() {
        let item = SAME_VESSEL_CHECK;
        let ticked = marker(
            1,
            10.0,
            "checklist",
            &format!("Post-unloading coronary: {item}: ticked"),
        );
        let left = marker(
            2,
            20.0,
            "checklist",
            &format!("Post-unloading coronary left with unticked items: Stable Doppler envelope; {item}"),
        );
        let untick = marker(
            3,
            15.0,
            "checklist",
            &format!("Post-unloading coronary: {item}: unticked"),
        );
        let other = marker(
            4,
            5.0,
            "checklist",
            "Baseline coronary: Wire position recorded: ticked",
        );
        assert_eq!(same_vessel_confirmed(std::slice::from_ref(&other)), None);
        assert_eq!(same_vessel_confirmed(&[ticked.clone(), other]), Some(true));
        assert_eq!(same_vessel_confirmed(&[left, ticked.clone()]), Some(false));
        assert_eq!(
            same_vessel_confirmed(&[untick.clone(), ticked.clone()]),
            Some(false)
        );
        assert_eq!(
            same_vessel_confirmed(&[
                marker(
                    5,
                    16.0,
                    "checklist",
                    &format!("Post-unloading coronary: {item}: ticked")
                ),
                untick
            ]),
            Some(true)
        );
    }

    #[test]
    fn the_context_rows_follow_the_primary_rows_and_flag_cdfr_in_another_vessel() {
        let item = SAME_VESSEL_CHECK;
        let context = marker(
            1,
            3.0,
            "measurement_context",
            "mid RCA; Pd/Pa 1.00 at equalisation; pressures zeroed",
        );
        let unticked = marker(
            2,
            90.0,
            "checklist",
            &format!("Post-unloading coronary: {item}: unticked"),
        );
        let later = blank("apv", "APV", Unit::CmPerS, Group::Coronary, "baseline");
        let mut rows = vec![cdfr_row(), later.clone()];
        add_measurement_context(&mut rows, &[context.clone(), unticked]);
        let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r.key.as_str(), r.state.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("cdfr", "case"),
                (MEASUREMENT_CONTEXT, "baseline"),
                (MEASUREMENT_CONTEXT, "post"),
                ("apv", "baseline")
            ]
        );
        assert_eq!(rows[0].flags, [NOT_SAME_VESSEL]);
        assert_eq!(measured_vessel(&rows).as_deref(), Some("mid RCA"));
        let (lines, flagged) = measurement_context_text(&rows).unwrap();
        assert!(flagged);
        assert_eq!(
            lines,
            [
                "Measurement context: mid RCA; Pd/Pa 1.00 at equalisation; pressures zeroed",
                "Context in force: entered at the Baseline coronary step at 3 s",
                "Post-unloading: same vessel and wire position as baseline NOT confirmed"
            ]
        );

        // Without any record: nothing added, nothing flagged.
        let mut rows = vec![cdfr_row(), later];
        add_measurement_context(&mut rows, &[]);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].flags.is_empty() && measurement_context_text(&rows).is_none());

        // A context without the post step yet: the baseline row alone, CDFR not flagged.
        let mut rows = vec![cdfr_row()];
        add_measurement_context(&mut rows, std::slice::from_ref(&context));
        assert_eq!(rows.len(), 2);
        assert!(rows[0].flags.is_empty());
        assert!(!measurement_context_text(&rows).unwrap().1);

        // Equalised again at the consoles step after it was entered: the context recorded with that equalisation
        // is the one in force, and it says so.
        let updated = "mid RCA; Pd/Pa 0.97 at equalisation (Pd gain 1.031 applied at 50 s); pressures zeroed";
        let events = [
            context,
            marker(
                3,
                50.0,
                PD_EQUALISATION,
                "Consoles, zero and calibration: Pd/Pa 0.97",
            ),
            marker(4, 50.0, MEASUREMENT_CONTEXT, updated),
        ];
        let mut rows = vec![cdfr_row()];
        add_measurement_context(&mut rows, &events);
        assert_eq!(
            measurement_context_text(&rows).unwrap().0,
            [
                format!("Measurement context: {updated}"),
                "Context in force: updated by the equalisation at 50 s (Consoles, zero and calibration step)"
                    .to_owned()
            ]
        );
    }

    fn row(state: &str, value: f64, kind: &str) -> EndpointRow {
        EndpointRow {
            value: Some(value),
            kind: Some(kind.to_owned()),
            ..blank(
                "minimal_mr",
                "Minimal MR",
                Unit::Resistance,
                Group::Coronary,
                state,
            )
        }
    }

    #[test]
    fn a_change_is_only_computed_between_values_of_one_kind() {
        let same = change_row(&row("baseline", 3.0, "BMR"), &row("post", 2.5, "BMR"));
        assert_eq!(same.value, Some(-0.5));
        assert_eq!(same.kind.as_deref(), Some("BMR"));
        let unlike = change_row(&row("baseline", 3.0, "WFP-MR"), &row("post", 1.5, "HMR"));
        assert_eq!(unlike.value, None);
        let note = unlike.note.unwrap();
        assert!(note.contains("WFP-MR") && note.contains("HMR"), "{note}");
        let mut missing = row("post", 1.0, "BMR");
        missing.value = None;
        assert_eq!(
            change_row(&row("baseline", 3.0, "BMR"), &missing).note.as_deref(),
            Some("needs both states")
        );
    }
}
