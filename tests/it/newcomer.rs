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
