//! The endpoint table: baseline, post-unloading and their difference for every window value, then the case
//! results (CDFR with its CI and flags, microvascular resistances, clinical endpoints). Every number is read from
//! a stored result, never computed here (a difference is the one subtraction), and each row says which result and
//! where in it ([`EndpointRow::result_id`], [`EndpointRow::json_pointer`]) and by which method, so the comparison
//! view, the exports and the report show the same numbers as the case file holds.

use serde::{Deserialize, Serialize};

use super::analysis::{CDFR, CLINICAL, CaseAnalysis, State, WindowKind, microvascular_result_name};
use crate::store::ResultRecord;

/// Where a window value sits in a window's report.
struct WindowValue {
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    group: &'static str,
    kind: WindowKind,
    pointer: &'static str,
    /// Pointer to the `provenance` object that states the method.
    provenance: &'static str,
}

const fn wv(
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    group: &'static str,
    kind: WindowKind,
    pointer: &'static str,
    provenance: &'static str,
) -> WindowValue {
    WindowValue {
        key,
        label,
        unit,
        group,
        kind,
        pointer,
        provenance,
    }
}

const CORONARY: &str = "/summary/coronary/provenance";
const PV: &str = "/summary/pv/provenance";
const ESPVR: &str = "/summary/espvr/provenance";

/// The window values of the table, in display order.
const WINDOW_VALUES: [WindowValue; 27] = [
    wv(
        "apv",
        "APV",
        "cm/s",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/apv_cm_s",
        CORONARY,
    ),
    wv(
        "diastolic_apv",
        "Diastolic APV",
        "cm/s",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/diastolic_apv_cm_s",
        CORONARY,
    ),
    wv(
        "pd_pa",
        "Pd/Pa",
        "",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/pd_pa",
        CORONARY,
    ),
    wv(
        "mean_pa",
        "Mean Pa",
        "mmHg",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/mean_pa_mmhg",
        CORONARY,
    ),
    wv(
        "mean_pd",
        "Mean Pd",
        "mmHg",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/mean_pd_mmhg",
        CORONARY,
    ),
    wv(
        "heart_rate_coronary",
        "Heart rate (coronary)",
        "/min",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/heart_rate_bpm",
        CORONARY,
    ),
    wv(
        "num_beats_coronary",
        "Accepted beats (coronary)",
        "",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary/num_beats",
        CORONARY,
    ),
    wv(
        "coronary_perfusion_pressure",
        "Coronary perfusion pressure",
        "mmHg",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/coronary_perfusion_pressure_mmhg",
        CORONARY,
    ),
    wv(
        "perfusion_efficiency",
        "Wave perfusion efficiency",
        "",
        "coronary",
        WindowKind::CoronaryRest,
        "/summary/wave_intensity/perfusion_efficiency",
        "/summary/wave_intensity/provenance",
    ),
    wv(
        "heart_rate_pv",
        "Heart rate (PV)",
        "/min",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/heart_rate_bpm",
        PV,
    ),
    wv(
        "lvedp",
        "LVEDP",
        "mmHg",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/lvedp_mmhg",
        PV,
    ),
    wv(
        "edv",
        "EDV",
        "mL",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/edv_ml",
        PV,
    ),
    wv(
        "esv",
        "ESV",
        "mL",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/esv_ml",
        PV,
    ),
    wv(
        "lvesp",
        "LVESP",
        "mmHg",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/lvesp_mmhg",
        PV,
    ),
    wv(
        "lvsp",
        "LVSP",
        "mmHg",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/lvsp_mmhg",
        PV,
    ),
    wv(
        "sv",
        "SV",
        "mL",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/sv_ml",
        PV,
    ),
    wv("ef", "EF", "", "pv", WindowKind::PvSteady, "/summary/pv/ef", PV),
    wv(
        "native_co",
        "Native CO",
        "L/min",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/native_co_l_min",
        PV,
    ),
    wv(
        "dpdt_max",
        "dP/dt max",
        "mmHg/s",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/dpdt_max_mmhg_s",
        PV,
    ),
    wv(
        "dpdt_min",
        "dP/dt min",
        "mmHg/s",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/dpdt_min_mmhg_s",
        PV,
    ),
    wv(
        "ea",
        "Ea",
        "mmHg/mL",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/ea_mmhg_per_ml",
        PV,
    ),
    wv(
        "sw",
        "Stroke work",
        "mmHg.mL",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/sw_mmhg_ml",
        PV,
    ),
    wv(
        "pva",
        "PVA",
        "mmHg.mL",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/pva_mmhg_ml",
        PV,
    ),
    wv(
        "tau_weiss",
        "tau (Weiss)",
        "ms",
        "pv",
        WindowKind::PvSteady,
        "/summary/pv/tau_weiss_ms",
        PV,
    ),
    wv(
        "ees",
        "Ees (ESPVR)",
        "mmHg/mL",
        "pv",
        WindowKind::PvPreloadReduction,
        "/summary/espvr/ees_mmhg_per_ml",
        ESPVR,
    ),
    wv(
        "v0",
        "V0 (ESPVR)",
        "mL",
        "pv",
        WindowKind::PvPreloadReduction,
        "/summary/espvr/v0_ml",
        ESPVR,
    ),
    wv(
        "espvr_r2",
        "ESPVR r²",
        "",
        "pv",
        WindowKind::PvPreloadReduction,
        "/summary/espvr/r2",
        ESPVR,
    ),
];

/// The microvascular resistances of each state (result `microvascular_resistance.<state>`).
const RESISTANCES: [(&str, &str, &str); 5] = [
    (
        "minimal_mr",
        "Minimal microvascular resistance",
        "/resistance/minimal",
    ),
    ("bmr", "BMR", "/resistance/bmr"),
    ("wfp_mr", "WFP-MR", "/resistance/wfp_mr"),
    ("hmr", "HMR", "/resistance/hmr"),
    (
        "bmr_corrected",
        "BMR, back-pressure corrected",
        "/resistance/bmr_back_pressure_corrected",
    ),
];
const RESISTANCE_UNIT: &str = "mmHg.s/cm";

/// One row of the endpoint table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointRow {
    /// Stable key, e.g. `apv`.
    pub key: String,
    /// Name on screen.
    pub label: String,
    /// Unit (empty for ratios).
    pub unit: String,
    /// `primary`, `coronary`, `pv` or `clinical`.
    pub group: String,
    /// `baseline`, `post`, `change` (post - baseline) or `case`.
    pub state: String,
    /// The number, when there is one.
    pub value: Option<f64>,
    /// 95 % confidence interval, when the method gives one.
    pub ci95: Option<[f64; 2]>,
    /// Flags that ask for a second look (e.g. `ecmo_flow_changed`).
    pub flags: Vec<String>,
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
    /// Why there is no value, or what the value means (e.g. the outcome).
    pub note: Option<String>,
}

fn string_at(value: &serde_json::Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A row for the number at `pointer` inside `result`.
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

fn blank(key: &str, label: &str, unit: &str, group: &str, state: &str) -> EndpointRow {
    EndpointRow {
        key: key.into(),
        label: label.into(),
        unit: unit.into(),
        group: group.into(),
        state: state.into(),
        value: None,
        ci95: None,
        flags: Vec::new(),
        method: String::new(),
        algorithm_version: String::new(),
        settings_hash: String::new(),
        result_id: None,
        window_id: None,
        json_pointer: None,
        note: None,
    }
}

/// The difference row of a baseline/post pair.
fn change_row(baseline: &EndpointRow, post: &EndpointRow) -> EndpointRow {
    let mut row = blank(
        &baseline.key,
        &baseline.label,
        &baseline.unit,
        &baseline.group,
        "change",
    );
    row.value = baseline.value.zip(post.value).map(|(b, p)| p - b);
    row.method = "post - baseline".into();
    row.note = row.value.is_none().then(|| "needs both states".to_owned());
    row
}

/// The whole table for a case's current results. `results` are the case's current result records (for the ids
/// and methods of the case results); window reports are read from `analysis`.
pub fn endpoint_table(analysis: &CaseAnalysis, results: &[&ResultRecord]) -> Vec<EndpointRow> {
    let mut rows = Vec::new();
    let case_result = |name: &str| {
        results
            .iter()
            .copied()
            .find(|r| r.window_id.is_none() && r.name == name)
    };
    let report_result = |state: State, kind: WindowKind| {
        let window = analysis.window(state, kind)?;
        results
            .iter()
            .copied()
            .find(|r| r.window_id == Some(window.id) && r.name == super::analysis::REPORT)
    };

    // Primary endpoint first.
    let mut cdfr = blank(
        "cdfr",
        "CDFR (coronary device flow reserve)",
        "",
        "primary",
        "case",
    );
    let mut ratio = blank(
        "diastolic_apv_ratio",
        "Diastolic APV ratio",
        "",
        "primary",
        "case",
    );
    match case_result(CDFR) {
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
            if let Some(reason) = result.value.pointer("/cdfr/unavailable") {
                let text = serde_json::from_value::<crate::analysis::Unavailable>(reason.clone())
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| reason.to_string());
                cdfr.note = Some(format!("no value: {text}"));
                ratio.note = cdfr.note.clone();
            }
        }
        None => {
            let note = Some("needs a baseline and a post-unloading resting coronary window".to_owned());
            cdfr.note = note.clone();
            ratio.note = note;
        }
    }
    rows.push(cdfr);
    rows.push(ratio);

    for def in &WINDOW_VALUES {
        let pair: Vec<EndpointRow> = State::ALL
            .into_iter()
            .map(|state| {
                let base = blank(def.key, def.label, def.unit, def.group, state.key());
                match report_result(state, def.kind) {
                    Some(result) => row_at(result, def.pointer, Some(def.provenance), base),
                    None => EndpointRow {
                        note: Some(format!("no {}", def.kind.label())),
                        ..base
                    },
                }
            })
            .collect();
        let change = change_row(&pair[0], &pair[1]);
        rows.extend(pair);
        rows.push(change);
    }

    for (key, label, pointer) in RESISTANCES {
        let pair: Vec<EndpointRow> = State::ALL
            .into_iter()
            .map(|state| {
                let base = blank(key, label, RESISTANCE_UNIT, "coronary", state.key());
                match case_result(&microvascular_result_name(state)) {
                    Some(result) => {
                        let mut row = row_at(result, pointer, Some("/resistance/provenance"), base);
                        if row.value.is_none() {
                            let notes = result
                                .value
                                .pointer("/resistance/notes")
                                .and_then(|n| n.as_array());
                            let text: Vec<&str> = notes
                                .into_iter()
                                .flatten()
                                .filter_map(serde_json::Value::as_str)
                                .collect();
                            row.note = Some(if text.is_empty() {
                                "no value".into()
                            } else {
                                format!("no value: {}", text.join("; "))
                            });
                        }
                        row
                    }
                    None => EndpointRow {
                        note: Some("no resting coronary window".into()),
                        ..base
                    },
                }
            })
            .collect();
        let change = change_row(&pair[0], &pair[1]);
        rows.extend(pair);
        rows.push(change);
    }

    if let Some(result) = case_result(CLINICAL) {
        let outcome = string_at(&result.value, "/decannulation/value/outcome");
        let mut decannulation = row_at(
            result,
            "/decannulation/value/days",
            None,
            blank(
                "time_to_decannulation",
                "Time to ECMO decannulation",
                "days",
                "clinical",
                "case",
            ),
        );
        decannulation.note = Some(match result.value.pointer("/decannulation/unavailable") {
            Some(reason) => format!("no value: {reason}"),
            None if outcome == "decannulated" => "decannulated".into(),
            None => format!("competing outcome: {}", outcome.replace('_', " ")),
        });
        rows.push(decannulation);
        rows.push(row_at(
            result,
            "/days_alive_out_of_icu_30/value",
            None,
            blank(
                "days_alive_out_of_icu_30",
                "Days alive and out of ICU at 30 days",
                "days",
                "clinical",
                "case",
            ),
        ));
        let mut six_month = blank("six_month_status", "6-month status", "", "clinical", "case");
        six_month.result_id = Some(result.id);
        six_month.method = result.method.clone();
        six_month.algorithm_version = result.algorithm_version.clone();
        six_month.note = Some(match result.value.pointer("/six_month_status/value/status") {
            Some(status) => status.as_str().unwrap_or_default().replace('_', " "),
            None => "not entered".into(),
        });
        rows.push(six_month);
    }
    rows
}
