//! The live endpoint panel's content, taken from the case's endpoint table ([`crate::review::endpoints`]): the
//! same rows, values, units, kinds and methods the review, the exports and the report show, never recomputed or
//! converted here. The panel shows a bedside selection of them (the CDFR, the resting coronary values, the
//! resistances, the main pressure-volume and supply/demand values) with the baseline and post-unloading loops.

use crate::analysis::endpoints::Group;
use crate::ui::protocol::{Cdfr, EndpointRow, EndpointView, WindowNumber, WindowNumbers};

use super::case_writer::AnalysedWindow;
use crate::model::StepId;
use crate::protocol::WindowKind;
use crate::review::endpoints::EndpointRow as TableRow;

/// The table rows the bedside panel shows, in order.
pub const BEDSIDE_KEYS: [&str; 20] = [
    "apv",
    "diastolic_apv",
    "pd_pa",
    "heart_rate_coronary",
    "minimal_mr",
    "bmr",
    "wfp_mr",
    "hmr",
    "bmr_back_pressure_corrected",
    "lvedp",
    "edv",
    "esv",
    "sv",
    "ef",
    "dpdt_max",
    "tau_weiss",
    "sw",
    "pva",
    "apv_per_pva_rate",
    "sevr",
];

/// What a saved window of each kind shows under it at the bedside, in order (the rows of the endpoint table
/// measured on that window; the resistance rows carry their kind).
fn window_keys(kind: WindowKind) -> &'static [&'static str] {
    match kind {
        WindowKind::CoronaryRest => &[
            "apv",
            "diastolic_apv",
            "pd_pa",
            "heart_rate_coronary",
            "bmr",
            "wfp_mr",
        ],
        // Its state's rows measured on it: the hyperaemic APV, the flow reserve and HMR.
        WindowKind::CoronaryHyperaemia => &["hyperaemic_apv", "cfr", "hmr"],
        // Its rows of state `min_support` (the within-session CDFR reference).
        WindowKind::CoronaryRestMinimumSupport => {
            &["apv", "diastolic_apv", "pd_pa", "heart_rate_coronary", "bmr"]
        }
        WindowKind::PvSteady => &[
            "lvedp",
            "edv",
            "esv",
            "ef",
            "dpdt_max",
            "tau_weiss",
            "heart_rate_pv",
        ],
        WindowKind::PvPreloadReduction => &["ees", "v0", "espvr_r2", "edpvr_beta", "prsw_mw"],
    }
}

/// The numbers a saved window measured: its rows in the case's current endpoint table `newest` (a flow reserve
/// appears under the hyperaemic window once the resting one is analysed), else in the table as it stood once the
/// window was analysed (a window since replaced by a newer one of its kind keeps what it measured).
fn window_numbers(window: &AnalysedWindow, newest: &[TableRow]) -> WindowNumbers {
    let numbers = window_keys(window.kind)
        .iter()
        .filter_map(|key| {
            [newest, &window.table[..]].into_iter().find_map(|table| {
                table
                    .iter()
                    .find(|row| row.key == *key && row.window_id == Some(window.window_id))
            })
        })
        .map(|row| WindowNumber {
            name: match &row.kind {
                Some(kind) if !row.label.contains(kind.as_str()) => format!("{} ({kind})", row.label),
                _ => row.label.clone(),
            },
            value: row.value,
            unit: row.unit,
            ci95: row.ci95,
            method: row.provenance(),
            note: row.note.clone(),
        })
        .collect();
    WindowNumbers {
        step: window.step,
        kind: window.kind,
        numbers,
    }
}

/// The endpoint panel's content, or `None` before any baseline window is analysed. `windows` are the analysed
/// windows, oldest first; the newest carries the case's current table.
pub fn endpoint_view(windows: &[AnalysedWindow], post_label: &str) -> Option<EndpointView> {
    let baseline = |step| windows.iter().any(|w| w.step == step);
    if !baseline(StepId::BaselineCoronary) && !baseline(StepId::BaselinePv) {
        return None;
    }
    let table = &windows.last()?.table;
    let find = |key: &str, state: &str| table.iter().find(|r| r.key == key && r.state == state);
    let mut rows = Vec::new();
    for key in BEDSIDE_KEYS {
        let (Some(baseline), Some(post)) = (find(key, "baseline"), find(key, "post")) else {
            continue;
        };
        if baseline.value.is_none() && post.value.is_none() && key != "minimal_mr" {
            continue;
        }
        let change = find(key, "change");
        let kind = baseline.kind.as_ref().or(post.kind.as_ref());
        let name = match (key, kind) {
            ("minimal_mr", Some(kind)) => format!("{} ({kind})", baseline.label),
            _ => baseline.label.clone(),
        };
        rows.push(EndpointRow {
            section: section(&baseline.group),
            name,
            unit: baseline.unit,
            baseline: baseline.value,
            post: post.value,
            change: change.and_then(|c| c.value),
            method: baseline.provenance(),
            note: [baseline, post]
                .iter()
                .zip(["baseline", "post"])
                .filter_map(|(row, state)| Some(format!("{state}: {}", row.note.as_ref()?)))
                .chain(change.and_then(|c| c.note.clone()))
                .reduce(|a, b| format!("{a}\n{b}")),
        });
    }
    let cdfr = find("cdfr", "case").and_then(|row| match (row.value, &row.note) {
        (Some(value), _) => Some(Ok(Cdfr {
            value,
            ci95: row.ci95.map(|[low, high]| (low, high)),
            flags: row.flags.iter().map(|f| f.replace('_', " ")).collect(),
            method: row.provenance(),
        })),
        (None, Some(note)) if note.starts_with("no value") => Some(Err(note.clone())),
        (None, _) => None,
    });
    let loop_of = |steps: [StepId; 2]| {
        [WindowKind::PvSteady, WindowKind::CoronaryRest]
            .into_iter()
            .find_map(|kind| {
                windows
                    .iter()
                    .rev()
                    .find(|w| steps.contains(&w.step) && w.kind == kind && !w.loop_points.is_empty())
            })
            .map(|w| w.loop_points.clone())
            .unwrap_or_default()
    };
    Some(EndpointView {
        cdfr,
        rows,
        baseline_loop: loop_of([StepId::BaselinePv, StepId::BaselineCoronary]),
        post_loop: loop_of([StepId::PostPv, StepId::PostCoronary]),
        post_label: post_label.to_owned(),
        windows: windows
            .iter()
            .map(|window| window_numbers(window, table))
            .collect(),
    })
}

/// The group's heading.
fn section(group: &str) -> String {
    Group::ALL
        .into_iter()
        .find(|g| g.key() == group)
        .map_or_else(|| group.to_owned(), |g| g.title().to_owned())
}
