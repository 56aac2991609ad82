//! What a newcomer meets first: `heracles --version` and the About box say which build this is (version, commit,
//! licence), so a result or a bug report can be traced to the code.

use std::process::Command;

use egui_kittest::kittest::Queryable;

use crate::ui_protocol::{app_click, demo_app};

#[test]
fn version_names_the_version_and_the_commit() {
    let output = Command::new(env!("CARGO_BIN_EXE_heracles"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = format!("heracles {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text:?}");
    assert!(text.contains(heracles::model::about::COMMIT), "{text:?}");
}

#[test]
fn the_about_box_shows_version_commit_and_licence() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = demo_app(dir.path());
    assert!(harness.query_by_label("Licence Apache-2.0").is_none());
    app_click(&mut harness, "HERACLES");
    harness.get_by_label(&format!("Version {}", env!("CARGO_PKG_VERSION")));
    harness.get_by_label(&format!("Commit {}", heracles::model::about::COMMIT));
    harness.get_by_label("Licence Apache-2.0");
}

fn heracles(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heracles"));
    command.arg("--data-dir").arg(dir);
    command
}

#[test]
fn a_case_recorded_headless_goes_to_a_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let record = heracles(dir.path())
        .args([
            "record",
            "--source",
            "sim",
            "--case",
            "HER-TST-0151",
            "--seconds",
            "20",
        ])
        .output()
        .unwrap();
    assert!(
        record.status.success(),
        "{}",
        String::from_utf8_lossy(&record.stderr)
    );
    let case = dir.path().join("HER-TST-0151.heracles");

    let out = dir.path().join("bundle");
    let export = |analyst: &[&str]| {
        heracles(dir.path())
            .arg("export")
            .arg(&case)
            .arg("--to")
            .arg(&out)
            .args(["--what", "all"])
            .args(analyst)
            .output()
            .unwrap()
    };

    // Without a name, nothing is analysed and the message says what to do.
    let refused = export(&[]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--as NAME"), "{message}");
    assert!(!out.exists());

    let exported = export(&["--as", "Dr Analyst"]);
    let stdout = String::from_utf8_lossy(&exported.stdout);
    assert!(
        exported.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert!(stdout.contains("as one baseline"), "{stdout}");
    for suffix in [
        "_endpoints.csv",
        "_endpoints.json",
        "_beats.csv",
        ".hea",
        ".dat",
        "_report.pdf",
        "_endpoints.odm.xml",
    ] {
        let path = out.join(format!("HER-TST-0151{suffix}"));
        assert!(path.exists(), "{} missing; {stdout}", path.display());
    }
    assert!(out.join("MANIFEST.sha256").exists());
    // The simulated patient has coronary and PV channels: both kinds were analysed, with real numbers.
    let endpoints = std::fs::read_to_string(out.join("HER-TST-0151_endpoints.csv")).unwrap();
    assert!(endpoints.contains("APV"), "{endpoints}");
    assert!(endpoints.contains("LVEDP"), "{endpoints}");
    let pdf = std::fs::read(out.join("HER-TST-0151_report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    // The windows are in the case, audited under the analyst's name, and the file still verifies.
    let file = heracles::store::CaseFile::open_read_only(&case).unwrap();
    assert_eq!(file.analysis_windows().unwrap().len(), 2);
    let trail = file.audit_trail().unwrap();
    assert!(
        trail
            .iter()
            .any(|entry| entry.who == "Dr Analyst" && entry.entity == "analysis_window")
    );
    assert!(file.verify().unwrap().ok());
}
