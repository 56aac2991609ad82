//! The tabular exports: the endpoint table as CSV and JSON, and the per-beat table as CSV. Numbers are written
//! in Rust's shortest round-trip form, so a value read back is the stored value exactly; a missing value is an
//! empty cell (CSV) or `null` (JSON) with its reason in `note`; a coded category (the 6-month status) has its
//! words in `category`. Every row (CSV) and the document (JSON) says where
//! the case came from (`case_origin`: recorded, simulated, imported); the JSON also states the export policy
//! ([`super::policy::POLICY`]) and the case's creation time in UTC.

use serde_json::json;

use crate::review::analysis::{State, WindowKind, case_settings, window_settings};
use crate::review::beat_table::{COLUMNS, rows};
use crate::review::session::Snapshot;
use crate::review::sign_off::{SignOffState, attested_sentence, statement_digest};

/// The endpoint CSV's header.
pub const ENDPOINT_COLUMNS: [&str; 22] = [
    "case_id",
    "group",
    "endpoint",
    "label",
    "state",
    "value",
    "category",
    "unit",
    "ci95_low",
    "ci95_high",
    "kind",
    "num_beats_used",
    "num_beats_excluded",
    "flags",
    "v0_source",
    "method",
    "algorithm_version",
    "settings_hash",
    "result_id",
    "json_pointer",
    "note",
    "case_origin",
];

/// One CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A number as a CSV cell: Rust's shortest round-trip form; empty when missing or not finite.
pub fn number(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// The endpoint table as CSV.
pub fn endpoints_csv(snapshot: &Snapshot) -> String {
    let mut out = csv_line(&ENDPOINT_COLUMNS.map(str::to_owned));
    for row in &snapshot.endpoints {
        out.push_str(&csv_line(&[
            snapshot.summary.case_id.clone(),
            row.group.clone(),
            row.key.clone(),
            row.label.clone(),
            row.state.clone(),
            number(row.value),
            row.category.clone().unwrap_or_default(),
            row.unit.symbol().to_owned(),
            number(row.ci95.map(|c| c[0])),
            number(row.ci95.map(|c| c[1])),
            row.kind.clone().unwrap_or_default(),
            row.num_beats_used.map(|n| n.to_string()).unwrap_or_default(),
            row.num_beats_excluded.map(|n| n.to_string()).unwrap_or_default(),
            row.flags.join(";"),
            row.v0_source.clone().unwrap_or_default(),
            row.method.clone(),
            row.algorithm_version.clone(),
            row.settings_hash.clone(),
            row.result_id.map(|id| id.to_string()).unwrap_or_default(),
            row.json_pointer.clone().unwrap_or_default(),
            row.note.clone().unwrap_or_default(),
            snapshot.summary.origin.key().to_owned(),
        ]));
    }
    out
}

/// The endpoint table and the case's context as JSON: windows with their notes, sign-offs with their validity,
/// annotations and markers, and the results digest.
pub fn endpoints_json(snapshot: &Snapshot, results_sha256: &str) -> String {
    let origin = snapshot.summary.origin;
    let windows: Vec<serde_json::Value> = snapshot
        .analysis
        .windows
        .iter()
        .map(|(window, kind, state)| {
            let report = snapshot.analysis.reports.get(&window.id);
            json!({
                "window_id": window.id,
                "state": state.map(State::key),
                "kind": kind.map(WindowKind::key),
                "step": window.step.map(|s| s.key()),
                "start_s": window.start_s,
                "end_s": window.end_s,
                "occlusion_beats": window_settings(window).occlusion_beats,
                "num_beats": report.map(|r| r.summary.num_beats),
                "num_accepted": report.map(|r| r.summary.num_accepted),
                "rejected": report.map(|r| &r.summary.rejected),
                "notes": report.map(|r| &r.summary.notes),
            })
        })
        .collect();
    let sign_offs: Vec<serde_json::Value> = snapshot
        .sign_offs
        .iter()
        .map(|status| {
            json!({
                "who": status.sign_off.who,
                "role": status.sign_off.role,
                "utc": status.sign_off.utc,
                "statement": attested_sentence(&status.sign_off.statement),
                "signed_results_sha256": statement_digest(&status.sign_off.statement),
                "valid": status.state == SignOffState::Valid,
                "state": status.state,
            })
        })
        .collect();
    let document = json!({
        "case_id": snapshot.summary.case_id,
        "case_origin": origin.key(),
        "case_origin_text": origin.text(),
        "deidentification": super::policy::POLICY,
        "case_created_utc": snapshot.summary.created_utc,
        "site": snapshot.summary.site,
        "allocation": snapshot.summary.allocation,
        "status": snapshot.summary.status,
        "algorithm_version": crate::analysis::ALGORITHM_VERSION,
        "analysis_choices": crate::analysis::endpoints::choices_in_words(&case_settings(&snapshot.analysis)),
        "results_sha256": results_sha256,
        "windows": windows,
        "endpoints": snapshot.endpoints,
        "sign_offs": sign_offs,
        "annotations": snapshot.annotations.iter().map(|a| json!({
            "start_s": a.start_s, "end_s": a.end_s, "text": a.text,
        })).collect::<Vec<_>>(),
        "markers": snapshot.events.iter().map(|e| json!({
            "time_s": e.time_s, "kind": e.kind, "text": e.text,
        })).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// The per-beat table of every analysed window as CSV.
pub fn beats_csv(snapshot: &Snapshot) -> String {
    let mut header: Vec<String> = [
        "case_id",
        "window_id",
        "state",
        "kind",
        "beat",
        "time_s",
        "duration_s",
        "fiducial",
        "accepted",
        "reject_reason",
        "reviewer_reason",
        "non_pulsatile",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(COLUMNS.iter().map(|c| c.header.to_owned()));
    header.extend(
        [
            "systole_end_rule",
            "balloon_inflation_s",
            "beat_notes",
            "case_origin",
        ]
        .map(str::to_owned),
    );
    let mut out = csv_line(&header);
    for (window, kind, state) in &snapshot.analysis.windows {
        let Some(report) = snapshot.analysis.reports.get(&window.id) else {
            continue;
        };
        let stored = snapshot
            .beats
            .get(&window.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for row in rows(report, stored) {
            let mut fields = vec![
                snapshot.summary.case_id.clone(),
                window.id.to_string(),
                state.map(State::key).unwrap_or_default().to_owned(),
                kind.map(WindowKind::key).unwrap_or_default().to_owned(),
                row.record.number.to_string(),
                row.record.time_s.to_string(),
                row.record.duration_s.to_string(),
                format!("{:?}", row.record.fiducial),
                row.record.accepted.to_string(),
                row.record.reject_reason.clone().unwrap_or_default(),
                row.reviewer_reason.clone().unwrap_or_default(),
                row.record.non_pulsatile.to_string(),
            ];
            fields.extend(COLUMNS.iter().map(|c| number((c.value)(row.metrics))));
            fields.push(row.metrics.systole_end_rule.clone().unwrap_or_default());
            fields.push(number(row.metrics.balloon_inflation_s));
            fields.push(row.metrics.notes.join("; "));
            fields.push(snapshot.summary.origin.key().to_owned());
            out.push_str(&csv_line(&fields));
        }
    }
    out
}
