//! One analysis, shown the same everywhere: a case captured through the real app (see `ui_protocol`) read back
//! by the review and by `heracles export`. The review recomputing every window from the stored settings must find
//! nothing to change, and every number the bedside panel showed must be the number in the review's table and in
//! the exported CSV and JSON, with the same unit and kind. The settings the bedside stored are read back by the
//! review (one shape), the preload reduction's ESPVR uses occlusion beats accepted for the PV endpoints only, and every other window
//! takes its V0 from the case's ESPVR and says so.

use std::collections::HashMap;
use std::path::Path;

use heracles::analysis::pipeline::V0Source;
use heracles::export::{self, ExportWhat};
use heracles::review::analysis::{CaseAnalysis, Scope, State, WindowKind, recompute, window_settings};
use heracles::review::endpoints::EndpointRow;
use heracles::review::session::snapshot_of;
use heracles::store::CaseFile;
use heracles::ui::protocol::EndpointView;

use crate::export::csv_rows;

/// The table row the bedside row `name` shows, in `state`.
fn table_row<'a>(table: &'a [EndpointRow], name: &str, state: &str) -> &'a EndpointRow {
    table
        .iter()
        .find(|r| {
            r.state == state
                && (r.label == name
                    || name
                        .strip_prefix(r.label.as_str())
                        .is_some_and(|rest| rest.starts_with(" (")))
        })
        .unwrap_or_else(|| panic!("no table row for the bedside's {name:?} ({state})"))
}

/// Checks the case at `path` (closed by the app) against what its bedside panel showed.
pub(crate) fn bedside_matches_review_and_export(path: &Path, bedside: &EndpointView) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(path.file_name().unwrap());
    std::fs::copy(path, &copy).unwrap();
    // `HERACLES_KEEP_CASE=/some/dir` keeps the app's case there, e.g. for `heracles export` by hand.
    if let Ok(keep) = std::env::var("HERACLES_KEEP_CASE") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(path, Path::new(&keep).join(path.file_name().unwrap())).unwrap();
    }

    // The review reads the settings the bedside stored (one shape), and recomputing changes nothing.
    let mut file = CaseFile::open(&copy).unwrap();
    let before = file.results().unwrap().len();
    for window in file.analysis_windows().unwrap() {
        assert!(
            window_settings(&window).analysis.is_some(),
            "window {} settings not in the review's shape: {}",
            window.id,
            window.settings
        );
    }
    recompute(&mut file, "statistician", Scope::All).unwrap();
    assert_eq!(
        file.results().unwrap().len(),
        before,
        "the review's recomputation differs from what the bedside stored"
    );

    // ESPVR of the preload reduction: accepted occlusion beats only, not the pre-occlusion beats; V0 of every
    // other window from it, with its source.
    let case = CaseAnalysis::read(&file).unwrap();
    let (preload, preload_report) = case
        .report(State::Baseline, WindowKind::PvPreloadReduction)
        .expect("a baseline preload reduction");
    let espvr = preload_report.summary.espvr.as_ref().expect("an ESPVR");
    let [first, last] = preload_report.summary.occlusion_beats.unwrap();
    let first_beat = preload_report.beats.first().unwrap().number;
    assert!(
        first > first_beat,
        "the occlusion starts at the window's first beat"
    );
    for number in &espvr.beats {
        let beat = preload_report.beats.iter().find(|b| b.number == *number).unwrap();
        // Accepted for the PV endpoints: a Doppler dropout takes a beat from the coronary values only.
        let accepted_for_pv = heracles::model::RejectReason::counts_for_pv(beat.reject_reason.as_deref());
        assert!(
            accepted_for_pv && (first..=last).contains(number),
            "beat {number}: {:?}",
            beat.reject_reason
        );
    }
    for (window, _, _) in &case.windows {
        let report = &case.reports[&window.id];
        let Some(pv) = &report.summary.pv else {
            continue;
        };
        let expected = if window.id == preload.id {
            V0Source::Espvr
        } else {
            V0Source::CaseEspvr {
                window_id: preload.id,
            }
        };
        assert_eq!(pv.v0_source, expected, "window {}", window.id);
        assert_eq!(pv.v0_ml, espvr.v0_ml);
    }

    // Every number the bedside showed is the review's and the export's.
    let table = snapshot_of(&file, None).unwrap().endpoints;
    let out = dir.path().join("export");
    export::export_case(&copy, &out, ExportWhat::ALL).unwrap();
    let stem = copy.file_stem().unwrap().to_str().unwrap();
    let csv = csv_rows(&std::fs::read_to_string(out.join(format!("{stem}_endpoints.csv"))).unwrap());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{stem}_endpoints.json"))).unwrap())
            .unwrap();
    let json_rows = json["endpoints"].as_array().unwrap();
    let exported = |key: &str, state: &str| -> (HashMap<String, String>, &serde_json::Value) {
        let csv_row = csv
            .iter()
            .find(|r| r["endpoint"] == key && r["state"] == state)
            .unwrap_or_else(|| panic!("{key} {state} not in the CSV"))
            .clone();
        let json_row = json_rows
            .iter()
            .find(|r| r["key"] == key && r["state"] == state)
            .unwrap_or_else(|| panic!("{key} {state} not in the JSON"));
        (csv_row, json_row)
    };
    let mut num_checked = 0;
    for row in &bedside.rows {
        for (state, shown) in [
            ("baseline", row.baseline),
            ("post", row.post),
            ("change", row.change),
        ] {
            let reviewed = table_row(&table, &row.name, state);
            assert_eq!(shown, reviewed.value, "{} {state}: bedside vs review", row.name);
            assert_eq!(row.unit, reviewed.unit, "{}", row.name);
            let (csv_row, json_row) = exported(&reviewed.key, state);
            let in_csv: Option<f64> =
                (!csv_row["value"].is_empty()).then(|| csv_row["value"].parse().unwrap());
            assert_eq!(shown, in_csv, "{} {state}: bedside vs CSV", row.name);
            assert_eq!(
                shown,
                json_row["value"].as_f64(),
                "{} {state}: bedside vs JSON",
                row.name
            );
            assert_eq!(csv_row["unit"], row.unit.symbol());
            if let Some(kind) = &reviewed.kind {
                assert_eq!(&csv_row["kind"], kind);
                assert!(row.name.contains(kind.as_str()) || row.method.contains(kind.as_str()));
            }
            num_checked += usize::from(shown.is_some());
        }
    }
    assert!(num_checked >= 30, "only {num_checked} bedside numbers checked");
    let Some(Ok(cdfr)) = &bedside.cdfr else {
        panic!("the bedside showed no CDFR: {:?}", bedside.cdfr)
    };
    let reviewed = table.iter().find(|r| r.key == "cdfr").unwrap();
    assert_eq!(Some(cdfr.value), reviewed.value);
    assert_eq!(cdfr.ci95.map(|(a, b)| [a, b]), reviewed.ci95);
    let (csv_row, _) = exported("cdfr", "case");
    assert_eq!(csv_row["value"].parse::<f64>().unwrap(), cdfr.value);

    // The Impella empties the LV through the pump: the post state's SV says so, the baseline's does not; the
    // volumes were never calibrated in this case, and every volume says that too.
    let flags = |key: &str, state: &str| {
        &table
            .iter()
            .find(|r| r.key == key && r.state == state)
            .unwrap()
            .flags
    };
    assert!(flags("sv", "post").iter().any(|f| f == "includes_pump_outflow"));
    assert!(
        !flags("sv", "baseline")
            .iter()
            .any(|f| f == "includes_pump_outflow")
    );
    assert!(
        flags("edv", "baseline")
            .iter()
            .any(|f| f == "uncalibrated_volume")
    );
    // tau leaves out the non-isovolumic beats and counts them: it excludes more beats than the other PV values
    // exactly when it carries the flag.
    for state in ["baseline", "post"] {
        let of = |key: &str| table.iter().find(|r| r.key == key && r.state == state).unwrap();
        let (tau, lvedp) = (of("tau_weiss"), of("lvedp"));
        assert_eq!(
            tau.num_beats_used.unwrap() + tau.num_beats_excluded.unwrap(),
            lvedp.num_beats_used.unwrap() + lvedp.num_beats_excluded.unwrap()
        );
        let flagged = tau.flags.iter().any(|f| f == "not_isovolumic");
        assert_eq!(
            flagged,
            tau.num_beats_excluded > lvedp.num_beats_excluded,
            "{state}: {tau:?}"
        );
    }

    // One spelling per unit, EF in %, and the minimal resistance of one kind in both states.
    assert!(table.iter().all(|r| r.unit.symbol() != "mmHg.cm-1.s"));
    assert!(
        table
            .iter()
            .filter(|r| r.key == "ef")
            .all(|r| r.unit.symbol() == "%")
    );
    let minimal: Vec<&EndpointRow> = table
        .iter()
        .filter(|r| r.key == "minimal_mr" && r.state != "change")
        .collect();
    assert_eq!(minimal.len(), 2);
    assert_eq!(minimal[0].kind, minimal[1].kind, "{minimal:?}");
    assert!(minimal[0].kind.is_some());
}

/// The Inca example (an IVC occlusion recorded by the console) imported with `heracles import`, given a baseline
/// preload-reduction window and a steady window in review, and exported: the review's table and the export hold
/// the same labelled values, the occlusion is found automatically from accepted beats, and the steady window's
/// end-systolic values take V0 from that ESPVR and say so.
#[test]
fn the_inca_example_imported_reviewed_and_exported_shows_one_labelled_analysis() {
    use clap::Parser;
    use heracles::review::session::{Edit, ReviewSession};
    let dir = tempfile::tempdir().unwrap();
    let inca = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/inca/inca_ivc_occlusion_example.csv"
    );
    let data = dir.path().display().to_string();
    let cli = heracles::cli::Cli::try_parse_from([
        "heracles",
        "import",
        inca,
        "--format",
        "inca",
        "--case",
        "HER-TST-0701",
        "--data-dir",
        &data,
    ])
    .unwrap();
    heracles::cli::run(cli).unwrap();
    let path = dir.path().join("HER-TST-0701.heracles");
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    let duration_s = session.snapshot().unwrap().summary.duration_s;
    for kind in [WindowKind::PvPreloadReduction, WindowKind::PvSteady] {
        session
            .apply(
                Edit::AddWindow {
                    state: State::Baseline,
                    kind,
                    start_s: 0.0,
                    end_s: duration_s,
                },
                "windows over the Inca example",
            )
            .unwrap();
    }
    let case = CaseAnalysis::read(session.file()).unwrap();
    let (preload, report) = case
        .report(State::Baseline, WindowKind::PvPreloadReduction)
        .unwrap();
    let espvr = report
        .summary
        .espvr
        .as_ref()
        .expect("an automatic ESPVR on the Inca occlusion");
    let [first, last] = report.summary.occlusion_beats.unwrap();
    for number in &espvr.beats {
        let beat = report.beats.iter().find(|b| b.number == *number).unwrap();
        let accepted_for_pv = heracles::model::RejectReason::counts_for_pv(beat.reject_reason.as_deref());
        assert!(accepted_for_pv && (first..=last).contains(number));
    }
    println!(
        "Inca example: occlusion beats {first}-{last}, Ees {:.3} mmHg/mL, V0 {:.1} mL, r2 {:.3}, n {}",
        espvr.ees_mmhg_per_ml, espvr.v0_ml, espvr.r2, espvr.n
    );
    let (_, steady) = case.report(State::Baseline, WindowKind::PvSteady).unwrap();
    let esv = steady.endpoints.iter().find(|e| e.key == "esv").unwrap();
    assert_eq!(
        esv.v0_source,
        Some(V0Source::CaseEspvr {
            window_id: preload.id
        })
    );
    assert!(esv.flags.iter().any(|f| f.key() == "uncalibrated_volume"));

    let table = session.snapshot().unwrap().endpoints;
    let out = dir.path().join("export");
    export::export_case(&path, &out, ExportWhat::ALL).unwrap();
    let csv = csv_rows(&std::fs::read_to_string(out.join("HER-TST-0701_endpoints.csv")).unwrap());
    assert_eq!(csv.len(), table.len());
    for (row, exported) in table.iter().zip(&csv) {
        assert_eq!(exported["endpoint"], row.key);
        assert_eq!(exported["state"], row.state);
        let value: Option<f64> = (!exported["value"].is_empty()).then(|| exported["value"].parse().unwrap());
        assert_eq!(value, row.value, "{} {}", row.key, row.state);
        assert_eq!(exported["unit"], row.unit.symbol());
        assert_eq!(exported["kind"], row.kind.clone().unwrap_or_default());
        assert_eq!(exported["flags"], row.flags.join(";"));
        assert_eq!(exported["v0_source"], row.v0_source.clone().unwrap_or_default());
    }
    let ees = table
        .iter()
        .find(|r| r.key == "ees" && r.state == "baseline")
        .unwrap();
    assert_eq!(ees.value, Some(espvr.ees_mmhg_per_ml));
    // Ees's regression interval reaches the table and the exported row.
    assert_eq!(ees.ci95, espvr.ees_ci95_mmhg_per_ml);
    let [low, high] = ees.ci95.expect("Ees carries its 95 % interval");
    let exported = table
        .iter()
        .zip(&csv)
        .find_map(|(row, exported)| std::ptr::eq(row, ees).then_some(exported))
        .unwrap();
    let parsed = |column: &str| exported[column].parse::<f64>().unwrap();
    assert_eq!((parsed("ci95_low"), parsed("ci95_high")), (low, high));
}
