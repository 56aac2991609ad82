//! Exports against the case file they come from: the WFDB record read back by the project's own reader equals
//! the stored samples within the export's quantisation; the endpoint CSV and JSON equal the stored results; the
//! per-beat CSV equals the stored per-beat metrics; the report is a well-formed PDF; an identifier-like free text
//! refuses the whole export; and `heracles export` does the same headless.

use std::path::Path;

use clap::Parser;
use heracles::analysis::endpoints::Unit;
use heracles::analysis::format;
use heracles::cli::Cli;
use heracles::export::{self, ExportError, ExportWhat};
use heracles::formats::{self, Format};
use heracles::model::RejectReason;
use heracles::review::analysis::{CaseAnalysis, State, WindowKind};
use heracles::review::session::{Edit, ReviewSession};
use heracles::store::CaseFile;

use crate::review_case;

/// A reviewed case: analysed, one beat rejected with a reason.
fn reviewed_case(dir: &Path, number: u16) -> std::path::PathBuf {
    let path = review_case::create(dir, number);
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    let case = CaseAnalysis::read(session.file()).unwrap();
    let window_id = case.window(State::Post, WindowKind::CoronaryRest).unwrap().id;
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number: 4,
                verdict: Some(RejectReason::Manual("catheter whip".into())),
            },
            "catheter whip",
        )
        .unwrap();
    path
}

/// Splits one CSV line (fields may be quoted, with doubled quotes inside).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

pub(crate) fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    lines
        .map(|line| header.iter().cloned().zip(csv_fields(line)).collect())
        .collect()
}

#[test]
fn a_wfdb_export_reads_back_as_the_stored_samples_within_its_quantisation() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 11);
    let out = dir.path().join("out");
    let wfdb_only = ExportWhat {
        endpoints: false,
        beats: false,
        wfdb: true,
        report: false,
        odm: false,
    };
    export::export_case(&path, &out, wfdb_only).unwrap();
    let header = std::fs::read_to_string(out.join("HER-TST-0011.hea")).unwrap();
    // The record line ends with the base time and date: the recording's start, in UTC (the export policy).
    let start = CaseFile::open_read_only(&path)
        .unwrap()
        .recording_start_utc()
        .unwrap()
        .unwrap();
    assert!(
        header.starts_with(&format!(
            "HER-TST-0011 6 1000 125000 {}\n",
            start.format("%H:%M:%S%.3f %d/%m/%Y")
        )),
        "{header}"
    );
    assert!(header.contains("/mmHg 16 0"), "units in the header: {header}");
    assert!(header.contains("/cm/s 16 0"), "{header}");
    let back = formats::read(&out.join("HER-TST-0011.hea"), Format::Wfdb).unwrap();
    let file = CaseFile::open_read_only(&path).unwrap();
    let stored = file.recording(None, None).unwrap();
    let parsed = formats::wfdb::parse_header(header.as_bytes(), Path::new("x.hea")).unwrap();
    let (back, stored) = (&back.segments[0].channels, &stored.segments[0].channels);
    assert_eq!(back.len(), stored.len());
    for ((read, original), spec) in back.iter().zip(stored).zip(&parsed.signals) {
        assert_eq!(read.name, original.name);
        assert_eq!(read.unit, original.unit);
        assert_eq!(read.sample_rate_hz, original.sample_rate_hz);
        assert_eq!(read.samples.len(), original.samples.len());
        let half_step = 0.5 / spec.gain;
        let worst = read
            .samples
            .iter()
            .zip(&original.samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= half_step * (1.0 + 1e-9),
            "{}: {worst} > {half_step}",
            read.name
        );
        // The quantisation is fine: at least 1/10000 of the range.
        let (lo, hi) = original
            .samples
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(half_step < (hi - lo) * 1e-4, "{}", read.name);
    }
}

#[test]
fn a_wfdb_export_starts_at_case_set_up_not_at_the_consoles_start() {
    // The console ran 9 s before the case was set up.
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::record_after_console_start(dir.path(), 31);
    let out = dir.path().join("out");
    export::export_case(&path, &out, "wfdb".parse().unwrap()).unwrap();
    let header = std::fs::read_to_string(out.join("HER-TST-0031.hea")).unwrap();
    let record = formats::read(&out.join("HER-TST-0031.hea"), Format::Wfdb).unwrap();
    let channels = &record.segments[0].channels;
    assert_eq!(channels.len(), 6);
    for channel in channels {
        // No leading invalid samples: the record is the 20 s recorded, from its first sample.
        assert_eq!(channel.samples.len(), 20_000, "{}", channel.name);
        let leading_invalid = channel.samples.iter().take_while(|v| !v.is_finite()).count();
        assert_eq!(leading_invalid, 0, "{}", channel.name);
    }
    // The first frame is the set-up sample: the ECG's R wave 20 ms into the synthetic beat there.
    let ecg = channels.iter().find(|c| c.name == "ecg").unwrap();
    let expected = f64::from(review_case::samples_at(review_case::SET_UP_SAMPLE)[0]);
    assert!(
        (ecg.samples[0] - expected).abs() < 1e-3,
        "{} vs {expected}",
        ecg.samples[0]
    );
    // The base time is the time of the first frame (the case's clock zero plus 9 s), and the header says where
    // the record starts on the case's clock (windows and markers are given on that clock).
    let zero = CaseFile::open_read_only(&path)
        .unwrap()
        .recording_start_utc()
        .unwrap()
        .unwrap();
    let first_frame = zero + chrono::Duration::milliseconds(9000);
    assert!(
        header.starts_with(&format!(
            "HER-TST-0031 6 1000 20000 {}\n",
            first_frame.format("%H:%M:%S%.3f %d/%m/%Y")
        )),
        "{header}"
    );
    assert!(
        header
            .contains("# first frame at 9.000 s of the case's clock (windows and markers are given on it)\n"),
        "{header}"
    );
}

#[test]
fn endpoint_csv_and_json_equal_the_stored_results() {
    let dir = tempfile::tempdir().unwrap();
    let path = reviewed_case(dir.path(), 12);
    let out = dir.path().join("out");
    let exported = export::export_case(&path, &out, ExportWhat::ALL).unwrap();
    assert_eq!(exported.files.len(), 8, "{:?}", exported.files);
    let file = CaseFile::open_read_only(&path).unwrap();
    let results = file.results().unwrap();
    let csv = csv_rows(&std::fs::read_to_string(out.join("HER-TST-0012_endpoints.csv")).unwrap());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("HER-TST-0012_endpoints.json")).unwrap())
            .unwrap();
    let json_rows = json["endpoints"].as_array().unwrap();
    assert_eq!(csv.len(), json_rows.len());
    let mut num_checked = 0;
    for (row, json_row) in csv.iter().zip(json_rows) {
        assert_eq!(row["endpoint"], json_row["key"].as_str().unwrap());
        let value: Option<f64> = (!row["value"].is_empty()).then(|| row["value"].parse().unwrap());
        assert_eq!(value, json_row["value"].as_f64(), "{}", row["endpoint"]);
        if row["result_id"].is_empty() || row["json_pointer"].is_empty() {
            continue;
        }
        let id: i64 = row["result_id"].parse().unwrap();
        let stored = results.iter().find(|r| r.id == id).unwrap();
        let at = stored
            .value
            .pointer(&row["json_pointer"])
            .and_then(|v| v.as_f64());
        assert_eq!(value, at, "{} {} from result {id}", row["endpoint"], row["state"]);
        // It is the newest result of its name and window.
        assert!(
            results
                .iter()
                .filter(|r| r.name == stored.name && r.window_id == stored.window_id)
                .all(|r| r.id <= id)
        );
        num_checked += usize::from(value.is_some());
    }
    assert!(num_checked >= 30, "{num_checked} values checked");
    // Differences are post - baseline of the rows above them.
    for change in csv
        .iter()
        .filter(|r| r["state"] == "change" && !r["value"].is_empty())
    {
        let of = |state: &str| -> f64 {
            let row = csv
                .iter()
                .find(|r| r["endpoint"] == change["endpoint"] && r["state"] == state)
                .unwrap();
            row["value"].parse().unwrap()
        };
        let value: f64 = change["value"].parse().unwrap();
        assert_eq!(value, of("post") - of("baseline"));
    }
    let cdfr = csv.iter().find(|r| r["endpoint"] == "cdfr").unwrap();
    assert!(!cdfr["ci95_low"].is_empty() && !cdfr["method"].is_empty());
    assert_eq!(json["case_id"], "HER-TST-0012");
    assert_eq!(json["results_sha256"].as_str().unwrap().len(), 64);

    // The per-beat CSV holds every reported beat with its stored metrics and the reviewer's reason.
    let beats = csv_rows(&std::fs::read_to_string(out.join("HER-TST-0012_beats.csv")).unwrap());
    let case = CaseAnalysis::read(&file).unwrap();
    assert_eq!(
        beats.len(),
        case.reports.values().map(|r| r.beats.len()).sum::<usize>()
    );
    let post = case.window(State::Post, WindowKind::CoronaryRest).unwrap().id;
    let report = &case.reports[&post];
    for (beat, metrics) in report.beats.iter().zip(&report.per_beat) {
        let row = beats
            .iter()
            .find(|r| r["window_id"] == post.to_string() && r["beat"] == beat.number.to_string())
            .unwrap();
        let apv: f64 = row["apv_cm_s"].parse().unwrap();
        assert_eq!(Some(apv), metrics.coronary.unwrap().apv_cm_s);
        assert_eq!(row["accepted"], beat.accepted.to_string());
        // Each beat says which rule ended its systole (issue 12).
        assert_eq!(
            Some(row["systole_end_rule"].as_str()),
            metrics.systole_end_rule.as_deref().or(Some(""))
        );
        // And why a part of it is missing (e.g. its phases not placed).
        assert_eq!(row["beat_notes"], metrics.notes.join("; "));
        if beat.number == 4 {
            assert_eq!(row["reviewer_reason"], "catheter whip");
            assert_eq!(row["reject_reason"], "manual");
        }
    }

    // The report is a PDF naming the case and its primary endpoint, with every endpoint on the pages after the
    // summary; the manifest hashes every file.
    let pdf = std::fs::read(out.join("HER-TST-0012_report.pdf")).unwrap();
    let text: String = pdf
        .iter()
        .map(|&b| if b < 128 { b as char } else { '?' })
        .collect();
    assert!(text.starts_with("%PDF-1.4") && text.trim_end().ends_with("%%EOF"));
    assert!(text.contains("(HERACLES case report  HER-TST-0012) Tj"));
    assert!(text.contains("(CDFR "));
    // Ees with its regression's 95 % interval (CDFR's notation) under its row, on the summary and the full table.
    let ees = csv
        .iter()
        .find(|r| r["endpoint"] == "ees" && r["state"] == "baseline")
        .unwrap();
    let ci = ["ci95_low", "ci95_high"].map(|bound| ees[bound].parse::<f64>().unwrap());
    let line = format!("(baseline {}) Tj", format::interval(ci, Unit::MmhgPerMl));
    assert_eq!(text.matches(&line).count(), 2, "{line}");
    assert!(text.contains("every endpoint"));
    let num_pages: usize = text
        .split("/Count ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(num_pages >= 2, "{num_pages} pages");
    assert_eq!(text.matches("/Type /Page ").count(), num_pages);
    let manifest = std::fs::read_to_string(out.join("MANIFEST.sha256")).unwrap();
    assert_eq!(manifest.lines().filter(|l| !l.starts_with('#')).count(), 7);
    // The chain heads, for `heracles case verify --against`.
    let anchor = heracles::store::ExternalAnchor::parse(&manifest).unwrap();
    assert!(
        anchor.audit_head.is_some() && !anchor.channels.is_empty(),
        "{manifest}"
    );
    assert!(
        heracles::store::CaseFile::open_read_only(&path)
            .unwrap()
            .verify_against(&anchor)
            .unwrap()
            .is_empty()
    );
    assert!(manifest.contains("  HER-TST-0012_report.pdf\n"));
    assert!(manifest.contains("  HER-TST-0012_endpoints.odm.xml\n"));
}

#[test]
fn an_identifier_in_a_free_text_field_refuses_the_export_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = reviewed_case(dir.path(), 13);
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    // 943 476 5919 passes the NHS number check digit; the store saves it with a warning, exports refuse it.
    let applied = session
        .apply(
            Edit::AddAnnotation {
                start_s: 12.0,
                end_s: None,
                text: "transferred from ward, NHS 943 476 5919".into(),
            },
            "",
        )
        .unwrap();
    assert_eq!(applied.warnings.len(), 1);
    drop(session);
    let out = dir.path().join("out");
    let error = export::export_case(&path, &out, ExportWhat::ALL).unwrap_err();
    match &error {
        ExportError::Identifier { field, .. } => assert_eq!(field, "annotation at 12.0 s"),
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(error.to_string().contains("*******919"), "{error}");
    assert!(!error.to_string().contains("9434765919") && !error.to_string().contains("943 476"));
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
    // The waveforms alone carry no annotation, so they may still be exported.
    let wfdb_only: ExportWhat = "wfdb".parse().unwrap();
    export::export_case(&path, &out, wfdb_only).unwrap();
}

#[test]
fn heracles_export_writes_the_bundle_headless_and_refuses_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    let path = reviewed_case(dir.path(), 14);
    let out = dir.path().join("bundle");
    let run = |args: &[&str]| heracles::cli::run(Cli::try_parse_from(args).unwrap());
    let code = run(&[
        "heracles",
        "export",
        path.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
        "--what",
        "endpoints,report",
    ])
    .unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "HER-TST-0014_endpoints.csv",
            "HER-TST-0014_endpoints.json",
            "HER-TST-0014_report.pdf",
            "MANIFEST.sha256"
        ]
    );
    // The manifest's chain heads check the case file from outside it; the newest audit row removed with the
    // trail's head rewound (and the trigger put back) fails it.
    let against = |case: &Path| {
        run(&[
            "heracles",
            "case",
            "verify",
            case.to_str().unwrap(),
            "--against",
            out.to_str().unwrap(),
        ])
        .unwrap()
    };
    assert_eq!(against(&path), std::process::ExitCode::SUCCESS);
    let rewound = dir.path().join("rewound.heracles");
    std::fs::copy(&path, &rewound).unwrap();
    let conn = rusqlite::Connection::open(&rewound).unwrap();
    let trigger: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'audit_no_delete'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);
         UPDATE case_info SET audit_count = (SELECT max(seq) FROM audit),
           audit_head = (SELECT hash FROM audit WHERE seq = (SELECT max(seq) FROM audit)); {trigger}"
    ))
    .unwrap();
    drop(conn);
    assert_eq!(against(&rewound), std::process::ExitCode::FAILURE);
    // The same again refuses to overwrite; by case id through the data folder it works.
    assert!(
        run(&[
            "heracles",
            "export",
            path.to_str().unwrap(),
            "--to",
            out.to_str().unwrap()
        ])
        .is_err()
    );
    let by_id = dir.path().join("by-id");
    run(&[
        "heracles",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "export",
        "HER-TST-0014",
        "--to",
        by_id.to_str().unwrap(),
        "--what",
        "beats",
    ])
    .unwrap();
    assert!(by_id.join("HER-TST-0014_beats.csv").exists());
    assert!(Cli::try_parse_from(["heracles", "export", "x", "--to", "y", "--what", "loops"]).is_err());
    // A date of birth in a reviewer's reason refuses the per-beat export.
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    let window_id = CaseAnalysis::read(session.file())
        .unwrap()
        .window(State::Baseline, WindowKind::CoronaryRest)
        .unwrap()
        .id;
    session
        .apply(
            Edit::SetVerdict {
                window_id,
                number: 2,
                verdict: Some(RejectReason::Manual("pt DOB 12/03/1956".into())),
            },
            "ectopic",
        )
        .unwrap();
    drop(session);
    let error = run(&[
        "heracles",
        "export",
        path.to_str().unwrap(),
        "--to",
        dir.path().join("b2").to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("date of birth"), "{error}");
}

/// Validates an ODM file against the ODM 1.3.2 schema shipped in odmlib and lists its ItemData as JSON:
/// `{"errors": [...], "items": [[event, group, item, value or null, is_null]], "comments": [...]}`.
const ODM_CHECK: &str = r#"
import json, os, sys
import odmlib
from lxml import etree
xsd = os.path.join(os.path.dirname(odmlib.__file__), "schemas", "odm", "1.3.2", "ODM1-3-2.xsd")
schema = etree.XMLSchema(etree.parse(xsd))
doc = etree.parse(sys.argv[1])
schema.validate(doc)
ns = {"o": "http://www.cdisc.org/ns/odm/v1.3"}
items = []
for event in doc.iterfind(".//o:StudyEventData", ns):
    for group in event.iterfind(".//o:ItemGroupData", ns):
        for item in group.iterfind("o:ItemData", ns):
            items.append([event.get("StudyEventOID"), group.get("ItemGroupOID"), item.get("ItemOID"),
                          item.get("Value"), item.get("IsNull") == "Yes"])
comments = [c.text for c in doc.iterfind(".//o:Annotation/o:Comment", ns)]
defs = [d.get("OID") for d in doc.iterfind(".//o:ItemDef", ns)]
print(json.dumps({"errors": [str(e) for e in schema.error_log], "items": items, "comments": comments,
                  "item_defs": defs}))
"#;

#[test]
fn the_odm_export_is_valid_odm_1_3_2_and_carries_the_json_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = reviewed_case(dir.path(), 15);
    // A reviewer's note with every character XML must escape.
    let tricky = "Pd drift <0.9> & \"re-zeroed\" at the 'wire' tip";
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    session
        .apply(
            Edit::AddAnnotation {
                start_s: 12.0,
                end_s: None,
                text: tricky.into(),
            },
            "",
        )
        .unwrap();
    drop(session);
    let out = dir.path().join("out");
    let what = ExportWhat {
        endpoints: true,
        odm: true,
        ..ExportWhat::ODM
    };
    export::export_case(&path, &out, what).unwrap();
    let odm_path = out.join("HER-TST-0015_endpoints.odm.xml");
    let checked = crate::python::run_json(ODM_CHECK, &[odm_path.as_os_str()]);
    assert_eq!(checked["errors"], serde_json::json!([]), "schema errors");
    // The annotation came through the escaping intact.
    // (The first comment states the case's origin and the export policy.)
    let comments = checked["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert!(
        comments[0]
            .as_str()
            .unwrap()
            .starts_with("case origin: simulated"),
        "{comments:?}"
    );
    assert!(comments[1].as_str().unwrap().ends_with(tricky), "{comments:?}");
    // Every endpoint row of the JSON export is in ClinicalData, in its event and group, with the same value (or
    // flagged null where the JSON has none), and nothing else is.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("HER-TST-0015_endpoints.json")).unwrap())
            .unwrap();
    let rows: Vec<heracles::review::endpoints::EndpointRow> =
        serde_json::from_value(json["endpoints"].clone()).unwrap();
    assert!(rows.len() > 40, "{} rows", rows.len());
    let items = checked["items"].as_array().unwrap();
    let value_items: Vec<_> = items
        .iter()
        .filter(|i| {
            let oid = i[2].as_str().unwrap();
            oid.split('.').count() == 2 || oid.ends_with(".CHANGE")
        })
        .collect();
    assert_eq!(value_items.len(), rows.len());
    let mut with_values = 0;
    for row in &rows {
        let event = heracles::export::odm::study_event_oid(row);
        let group = heracles::export::odm::item_group_oid(&row.group);
        let oid = heracles::export::odm::item_oid(row);
        let found: Vec<_> = value_items
            .iter()
            .filter(|i| i[0] == event.as_str() && i[1] == group.as_str() && i[2] == oid.as_str())
            .collect();
        assert_eq!(found.len(), 1, "{event} {group} {oid}");
        match row.value {
            Some(value) => {
                let written: f64 = found[0][3].as_str().unwrap().parse().unwrap();
                assert_eq!(written, value, "{oid} in {event}");
                with_values += 1;
            }
            None => {
                assert_eq!(
                    found[0][4], true,
                    "{oid} in {event}: a missing value is flagged, not a number"
                );
                assert!(found[0][3].is_null());
                if let Some(note) = &row.note {
                    let note_item = items
                        .iter()
                        .find(|i| i[0] == event.as_str() && i[2] == format!("{oid}.NOTE").as_str())
                        .unwrap_or_else(|| panic!("{oid}: no note"));
                    assert_eq!(note_item[3].as_str().unwrap(), note);
                }
            }
        }
        if let Some(used) = row.num_beats_used {
            let beats = items
                .iter()
                .find(|i| i[0] == event.as_str() && i[2] == format!("{oid}.BEATS_USED").as_str())
                .unwrap();
            assert_eq!(beats[3].as_str().unwrap(), used.to_string());
        }
    }
    assert!(with_values > 20, "{with_values} values");
    // Every ItemData has its ItemDef.
    let defs: std::collections::HashSet<&str> = checked["item_defs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(items.iter().all(|i| defs.contains(i[2].as_str().unwrap())));
    // The same case exported again gives the same document, byte for byte.
    let again = dir.path().join("again");
    export::export_case(&path, &again, ExportWhat::ODM).unwrap();
    assert_eq!(
        std::fs::read(&odm_path).unwrap(),
        std::fs::read(again.join("HER-TST-0015_endpoints.odm.xml")).unwrap()
    );
    let manifest = std::fs::read_to_string(again.join("MANIFEST.sha256")).unwrap();
    assert!(manifest.contains("HER-TST-0015_endpoints.odm.xml"), "{manifest}");
}

/// The context the bedside records at the baseline coronary step (the `measurement_context` marker's text).
const CONTEXT: &str = "mid LAD, wire past D1; Pd/Pa 1.00 at equalisation; pressures zeroed";

/// A reviewed case whose bedside recorded the measurement context at baseline and, at the post-unloading
/// coronary step, ticked "same vessel" or left it unticked (the case writer's checklist markers).
fn case_with_context(dir: &Path, number: u16, same_vessel: bool) -> std::path::PathBuf {
    let path = reviewed_case(dir, number);
    let mut file = CaseFile::open(&path).unwrap();
    file.add_marker("operator", 3.0, "measurement_context", CONTEXT)
        .unwrap();
    let item = "Same vessel and wire position as baseline (shown above)";
    let text = if same_vessel {
        format!("Post-unloading coronary: {item}: ticked")
    } else {
        format!("Post-unloading coronary left with unticked items: {item}; Stable Doppler envelope")
    };
    file.add_marker("operator", 90.0, "checklist", &text).unwrap();
    path
}

#[test]
fn the_measurement_context_is_in_every_export_and_cdfr_in_another_vessel_is_flagged() {
    for (number, same_vessel) in [(31, false), (32, true)] {
        let dir = tempfile::tempdir().unwrap();
        let path = case_with_context(dir.path(), number, same_vessel);
        let out = dir.path().join("out");
        let what = ExportWhat {
            endpoints: true,
            report: true,
            odm: true,
            ..ExportWhat::ODM
        };
        export::export_case(&path, &out, what).unwrap();
        let case_id = format!("HER-TST-{number:04}");
        let read = |suffix: &str| std::fs::read_to_string(out.join(format!("{case_id}{suffix}"))).unwrap();
        let flag = "same_vessel_not_confirmed";

        // CSV: a baseline and a post row of the primary group beside CDFR; CDFR flagged in another vessel.
        let rows = csv_rows(&read("_endpoints.csv"));
        let context = |state: &str| {
            rows.iter()
                .find(|r| r["endpoint"] == "measurement_context" && r["state"] == state)
                .unwrap_or_else(|| panic!("no {state} context row"))
        };
        assert_eq!(context("baseline")["note"], CONTEXT);
        assert_eq!(context("baseline")["group"], "primary");
        assert_eq!(context("post")["flags"] == flag, !same_vessel);
        let cdfr = rows.iter().find(|r| r["endpoint"] == "cdfr").unwrap();
        assert_eq!(cdfr["flags"].contains(flag), !same_vessel, "{cdfr:?}");

        // JSON: the same rows.
        let json: serde_json::Value = serde_json::from_str(&read("_endpoints.json")).unwrap();
        let endpoints = json["endpoints"].as_array().unwrap();
        assert!(
            endpoints
                .iter()
                .any(|r| r["key"] == "measurement_context" && r["note"] == CONTEXT)
        );
        let cdfr = endpoints.iter().find(|r| r["key"] == "cdfr").unwrap();
        assert_eq!(
            cdfr["flags"].as_array().unwrap().iter().any(|f| f == flag),
            !same_vessel
        );

        // PDF: the context in words on the summary page and the endpoint pages.
        let pdf: String = std::fs::read(out.join(format!("{case_id}_report.pdf")))
            .unwrap()
            .iter()
            .map(|&b| if b < 128 { b as char } else { '?' })
            .collect();
        let line = format!("(Measurement context: {CONTEXT}) Tj");
        assert_eq!(pdf.matches(&line).count(), 2, "summary and table pages");
        let post = if same_vessel {
            "(Post-unloading: same vessel and wire position as baseline) Tj"
        } else {
            "(Post-unloading: same vessel and wire position as baseline NOT confirmed) Tj"
        };
        assert_eq!(pdf.matches(post).count(), 2, "{post}");

        // ODM: a text item on the baseline and on the post-unloading event.
        let odm = read("_endpoints.odm.xml");
        assert!(odm.contains(r#"<ItemDef OID="IT.MEASUREMENT_CONTEXT" Name="Measurement context (vessel, segment, wire)" DataType="text">"#), "{odm}");
        let baseline = odm.split("SE.POST_UNLOADING\">").next().unwrap();
        assert!(baseline.contains(&format!(
            r#"<ItemData ItemOID="IT.MEASUREMENT_CONTEXT" Value="{CONTEXT}"/>"#
        )));
        let post = odm.rsplit("StudyEventOID=\"SE.POST_UNLOADING\">").next().unwrap();
        assert!(post.contains(
            r#"<ItemData ItemOID="IT.MEASUREMENT_CONTEXT" Value="same vessel and wire position as baseline"#
        ));
        assert_eq!(
            post.contains(&format!(
                r#"<ItemData ItemOID="IT.MEASUREMENT_CONTEXT.FLAGS" Value="{flag}"/>"#
            )),
            !same_vessel
        );
    }
}

/// The bytes of `path` as text (non-ASCII bytes as `?`), for searching any exported file.
fn file_text(path: &Path) -> String {
    std::fs::read(path)
        .unwrap()
        .iter()
        .map(|&b| if b < 128 { b as char } else { '?' })
        .collect()
}

#[test]
fn every_export_follows_the_one_deidentification_policy_and_says_where_the_case_came_from() {
    use heracles::export::policy::POLICY;
    let dir = tempfile::tempdir().unwrap();
    // The synthetic case is recorded from the simulated patient's source: a demo case. A reviewer named
    // "Ann Lee" annotates, signs it off, and appears by name in a marker's text.
    let path = reviewed_case(dir.path(), 41);
    let reviewer = "Ann Lee";
    {
        let mut session = ReviewSession::open(&path, reviewer).unwrap();
        session
            .apply(
                Edit::AddAnnotation {
                    start_s: 10.0,
                    end_s: None,
                    text: "wire checked".into(),
                },
                "annotation",
            )
            .unwrap();
    }
    let mut file = CaseFile::open(&path).unwrap();
    file.add_marker(
        "operator",
        45.0,
        "marker",
        &format!("balloon checked by {reviewer}"),
    )
    .unwrap();
    heracles::review::sign_off::sign(
        &mut file,
        reviewer,
        heracles::review::sign_off::SignatureMeaning::Review,
    )
    .unwrap();
    let start_utc = file.recording_start_utc().unwrap().unwrap();
    assert_eq!(
        file.summary().unwrap().origin,
        heracles::model::CaseOrigin::Simulated
    );
    drop(file);

    let out = dir.path().join("bundle");
    let exported = export::export_case(&path, &out, ExportWhat::ALL).unwrap();
    // No name of a person in any file of the bundle.
    for path in &exported.files {
        let text = file_text(path);
        assert!(!text.contains(reviewer), "{} names the reviewer", path.display());
    }
    let name = |suffix: &str| out.join(format!("HER-TST-0041{suffix}"));

    // CSV: every row of both tables says the case is simulated.
    for table in ["_endpoints.csv", "_beats.csv"] {
        let rows = csv_rows(&std::fs::read_to_string(name(table)).unwrap());
        assert!(!rows.is_empty());
        assert!(
            rows.iter().all(|row| row["case_origin"] == "simulated"),
            "{table}"
        );
    }
    // JSON: the origin, the policy, people by role, times in UTC.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(name("_endpoints.json")).unwrap()).unwrap();
    assert_eq!(json["case_origin"], "simulated");
    assert!(
        json["case_origin_text"]
            .as_str()
            .unwrap()
            .starts_with("DEMO CASE")
    );
    assert_eq!(json["deidentification"], POLICY);
    let sign_off = &json["sign_offs"][0];
    assert_eq!(sign_off["who"], "reviewer 1");
    for time in [&sign_off["utc"], &json["case_created_utc"]] {
        let time = chrono::DateTime::parse_from_rfc3339(time.as_str().unwrap()).unwrap();
        assert_eq!(time.offset().local_minus_utc(), 0, "{time}");
    }
    let markers = json["markers"].as_array().unwrap();
    assert!(
        markers
            .iter()
            .any(|m| m["text"] == "balloon checked by reviewer 1"),
        "{markers:?}"
    );
    // WFDB: the base time and date are the recording's start in UTC (no claim of no dates), with the origin and
    // the policy as comments.
    let header = std::fs::read_to_string(name(".hea")).unwrap();
    let record_line: Vec<&str> = header.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        record_line[4..],
        [
            start_utc.format("%H:%M:%S%.3f").to_string(),
            start_utc.format("%d/%m/%Y").to_string()
        ]
    );
    assert!(header.contains("# base time and date: UTC\n"));
    assert!(header.contains("# case origin: DEMO CASE: simulated patient"));
    assert!(header.contains(&format!("# {POLICY}\n")));
    assert!(!header.contains("no dates"));
    let record = formats::read(&name(".hea"), Format::Wfdb).unwrap();
    assert!(!record.segments.is_empty());
    // PDF: the origin in red on the summary page, the policy, the signer by role.
    let pdf = file_text(&name("_report.pdf"));
    assert!(
        pdf.contains("(Case origin: DEMO CASE: simulated patient"),
        "origin"
    );
    assert!(pdf.contains("(HERACLES export policy:"), "policy");
    assert!(pdf.contains("(Signed by reviewer 1, "), "signer");
    // ODM: the first subject annotation states the origin and the policy.
    let odm = std::fs::read_to_string(name("_endpoints.odm.xml")).unwrap();
    let first = odm.split("<Annotation SeqNum=\"1\">").nth(1).unwrap();
    let comment = first.split("</Comment>").next().unwrap();
    assert!(comment.contains("case origin: simulated (DEMO CASE"), "{comment}");
    assert!(comment.contains(POLICY), "{comment}");

    // DICOM: the study says it is a demo, states the policy, is dated by the recording's start in UTC, and
    // names nobody outside the case file itself (the audited source record).
    let study =
        heracles::export::dicom::study_of_case(&path, &heracles::export::dicom::TrialContext::heracles())
            .unwrap();
    for instance in &study.instances {
        let object = dicom_object::from_reader(&instance.bytes[..]).unwrap();
        let text = |tag| {
            object
                .element(tag)
                .unwrap()
                .to_str()
                .unwrap()
                .trim_end_matches(['\0', ' '])
                .to_owned()
        };
        assert_eq!(
            text(dicom_dictionary_std::tags::STUDY_DESCRIPTION),
            "HERACLES DEMO case: simulated patient"
        );
        assert!(text(dicom_dictionary_std::tags::DEIDENTIFICATION_METHOD).contains("UTC"));
        assert_eq!(
            text(dicom_dictionary_std::tags::STUDY_DATE),
            start_utc.format("%Y%m%d").to_string()
        );
        let bytes: String = instance
            .bytes
            .iter()
            .map(|&b| if b < 128 { b as char } else { '?' })
            .collect();
        if instance.kind() != "casefile" {
            assert!(
                !bytes.contains(reviewer),
                "{} names the reviewer",
                instance.kind()
            );
        }
    }

    // An imported case says so.
    let mut file = CaseFile::open(&path).unwrap();
    file.add_marker(
        "operator",
        0.0,
        "import",
        "imported from a wfdb file: 1 segment(s)",
    )
    .unwrap();
    assert_eq!(
        file.summary().unwrap().origin,
        heracles::model::CaseOrigin::Imported
    );
    drop(file);
    let out = dir.path().join("imported");
    export::export_case(&path, &out, ExportWhat::ALL).unwrap();
    let rows = csv_rows(&std::fs::read_to_string(out.join("HER-TST-0041_endpoints.csv")).unwrap());
    assert!(rows.iter().all(|row| row["case_origin"] == "imported"));
    assert!(file_text(&out.join("HER-TST-0041_report.pdf")).contains("(Case origin: IMPORTED CASE"));
}

#[test]
fn the_six_month_status_has_its_own_column_in_every_export_never_the_note() {
    use heracles::review::follow_up::FollowUpForm;
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create(dir.path(), 33);
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    let mut form = FollowUpForm::default();
    form.randomisation.randomised_utc = Some("2026-03-01T10:00:00Z".into());
    form.death.death_day = Some(100.0);
    form.month_6.last_contact_day = Some(100.0);
    session
        .apply(Edit::SetFollowUp(Box::new(form)), "follow-up entered")
        .unwrap();
    drop(session);
    let out = dir.path().join("out");
    export::export_case(&path, &out, ExportWhat::ALL).unwrap();
    let name = |suffix: &str| out.join(format!("HER-TST-0033{suffix}"));

    // CSV: the code in `value`, the words in `category`, the day behind it in `note`.
    let csv = csv_rows(&std::fs::read_to_string(name("_endpoints.csv")).unwrap());
    let row = csv.iter().find(|r| r["endpoint"] == "six_month_status").unwrap();
    assert_eq!(
        row["label"],
        "6-month status (0 alive, 1 dead, 2 lost to follow-up)"
    );
    assert_eq!(row["value"], "1");
    assert_eq!(row["category"], "dead");
    assert_eq!(row["note"], "died on day 100");
    // JSON: the same fields.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(name("_endpoints.json")).unwrap()).unwrap();
    let row = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "six_month_status")
        .unwrap();
    assert_eq!(row["value"], 1.0);
    assert_eq!(row["category"], "dead");
    assert_eq!(row["note"], "died on day 100");
    // ODM: an integer item with its words as the companion `.CATEGORY`, declared in the metadata.
    let odm = std::fs::read_to_string(name("_endpoints.odm.xml")).unwrap();
    assert!(
        odm.contains(r#"<ItemData ItemOID="IT.SIX_MONTH_STATUS" Value="1"/>"#),
        "{odm}"
    );
    assert!(odm.contains(r#"<ItemData ItemOID="IT.SIX_MONTH_STATUS.CATEGORY" Value="dead"/>"#));
    assert!(odm.contains(r#"<ItemData ItemOID="IT.SIX_MONTH_STATUS.NOTE" Value="died on day 100"/>"#));
    assert!(odm.contains(r#"<ItemDef OID="IT.SIX_MONTH_STATUS.CATEGORY""#));
    // PDF: the status in the value column, the day in the last.
    let pdf = file_text(&name("_report.pdf"));
    assert!(pdf.contains("(dead)"), "no status in the PDF's value column");
    assert!(pdf.contains("(died on day 100)"), "no day in the PDF");
}
