//! `heracles analyze DIR --jobs N --out-dir OUT` as a user runs it (the binary): every record of a folder is
//! analysed, each JSON report is the report `heracles analyze FILE --json` prints, the summary has one row per
//! record with its endpoints, and a record that cannot be read is a failed row with its reason while the others
//! go on.

use std::path::Path;
use std::process::Command;

fn heracles() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heracles"));
    command.env_remove("HERACLES_DATA_DIR").env("RUST_LOG", "warn");
    command
}

fn data(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

#[test]
fn a_folder_is_analysed_on_several_threads_into_one_summary_and_a_report_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir(&records).unwrap();
    // A simulated run (coronary channels, so coronary endpoints), a real WFDB record, an unreadable file and
    // a file that is not a recording at all (left out).
    let simulated = records.join("sim.csv");
    let status = heracles()
        .args([
            "simulate",
            "--scenario",
            "shock-ecmo-impella",
            "--sensors",
            "clean",
        ])
        .args(["--seconds", "12", "--seed", "1", "--out"])
        .arg(&simulated)
        .status()
        .unwrap();
    assert!(status.success());
    for file in ["TestICU.hea", "TestICU.dat"] {
        std::fs::copy(data(&format!("wfdb/{file}")), records.join(file)).unwrap();
    }
    std::fs::write(records.join("broken.csv"), "this is not,a recording\n1,2,3\n").unwrap();
    std::fs::write(records.join("notes.md"), "not a recording").unwrap();

    let out = dir.path().join("out");
    let output = heracles()
        .arg("analyze")
        .arg(&records)
        .args(["--jobs", "2", "--out-dir"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // One record failed, so the batch reports failure, after analysing the others.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Not a terminal: one progress line per record.
    let progress = stderr
        .lines()
        .filter(|line| line.starts_with('[') && line.contains("/3] "));
    assert_eq!(progress.count(), 3, "{stderr}");
    assert!(stderr.contains("3 records: 2 analysed, 1 failed"), "{stderr}");

    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[..7],
        [
            "record", "status", "reason", "json", "beats", "accepted", "excluded"
        ]
    );
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{summary}");
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|row| row[0].ends_with(name))
            .unwrap_or_else(|| panic!("no row for {name}: {summary}"))
    };
    let broken = row("broken.csv");
    assert_eq!(broken[column("status")], "failed");
    assert!(!broken[column("reason")].is_empty());
    assert_eq!(broken.len(), header.len());

    let sim = row("sim.csv");
    assert_eq!(sim[column("status")], "ok");
    let beats: usize = sim[column("beats")].parse().unwrap();
    let accepted: usize = sim[column("accepted")].parse().unwrap();
    let excluded: usize = sim[column("excluded")].parse().unwrap();
    assert!(beats >= 12, "{beats} beats in 12 s");
    assert_eq!(accepted + excluded, beats);
    let apv: f64 = sim[column("apv [cm/s]")].parse().unwrap();

    // The record's JSON is what the single-record command prints, and the summary holds its numbers.
    let batch_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(sim[column("json")])).unwrap()).unwrap();
    let single = heracles()
        .arg("analyze")
        .arg(&simulated)
        .arg("--json")
        .output()
        .unwrap();
    assert!(single.status.success());
    let single_json: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
    assert_eq!(batch_json, single_json);
    assert_eq!(batch_json["summary"]["num_beats"], beats);
    let apv_endpoint = batch_json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "apv")
        .unwrap();
    assert_eq!(apv_endpoint["value"].as_f64().unwrap(), apv);

    // TestICU's channels have no known names: analysed, with no beats (not a failure).
    let icu = row("TestICU.hea");
    assert_eq!(icu[column("status")], "ok");
    assert_eq!(icu[column("beats")], "0");
    assert!(out.join("TestICU.json").exists());
}

#[test]
fn several_files_share_the_channel_choices_and_a_batch_needs_an_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let hea = data("wfdb/TestICU.hea");
    let refused = heracles().arg("analyze").arg(&hea).arg(&hea).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--out-dir"));

    let out = dir.path().join("out");
    let output = heracles()
        .arg("analyze")
        .arg(&hea)
        .arg(&hea)
        .args(["--signal", "abp=2", "--jobs", "1", "--out-dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert_eq!(rows.len(), 2);
    // The same record twice: two reports (numbered, as they share a name), the same beats.
    assert!(out.join("TestICU-1.json").exists() && out.join("TestICU-2.json").exists());
    let beats = |row: &str| row.split(',').nth(4).unwrap().parse::<usize>().unwrap();
    assert_eq!(beats(rows[0]), beats(rows[1]));
    // TestICU holds 368 onsets by wabp; every complete beat is found.
    assert!(beats(rows[0]) >= 360, "{summary}");
}
