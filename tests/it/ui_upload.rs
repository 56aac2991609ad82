//! The upload in the app, driven by the labels a user reads: the Upload section of Settings asks to save what
//! was typed (the password only into the secrets file) and to test the connection; each case shows its upload
//! state with "Upload now"; the status line counts the queue. Then the real app against a real Orthanc: save the
//! settings, test the connection, upload a signed case from the start screen and see it confirmed.

use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heracles::store::{UploadEntry, UploadState};
use heracles::ui::upload::{UploadAction, UploadForm, case_upload_ui, queue_line_ui, upload_settings_ui};
use heracles::upload::ArchiveKind;
use heracles::upload::worker::UploadStatus;

use crate::orthanc::{self, Orthanc};
use crate::ui_protocol::{App, app_click, app_type, run_until};
use crate::ui_settings::type_into;

struct Screen {
    form: UploadForm,
    status: UploadStatus,
    reason: String,
    actions: Vec<UploadAction>,
}

fn entry(case_id: &str, state: UploadState, last_error: Option<&str>) -> UploadEntry {
    UploadEntry {
        case_id: case_id.into(),
        case_path: PathBuf::from(format!("/cases/{case_id}.heracles")),
        server: "https://corelab.example".into(),
        state,
        attempts: 1,
        last_error: last_error.map(str::to_owned),
        unsigned_reason: None,
        queued_utc: "2026-12-07T03:00:00.000Z".into(),
        updated_utc: "2026-12-07T03:00:01.000Z".into(),
        next_attempt_utc: None,
        study_instance_uid: None,
        num_instances: None,
        case_sha256_hex: None,
    }
}

fn harness(status: UploadStatus) -> Harness<'static, Screen> {
    let screen = Screen {
        form: UploadForm::default(),
        status,
        reason: String::new(),
        actions: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 800.0))
        .build_ui_state(
            |ui, screen: &mut Screen| {
                let actions = upload_settings_ui(ui, &mut screen.form, &screen.status);
                screen.actions.extend(actions);
                for case_id in ["HER-STH-0001", "HER-STH-0002", "HER-STH-0003"] {
                    let path = PathBuf::from(format!("/cases/{case_id}.heracles"));
                    if let Some(action) =
                        case_upload_ui(ui, case_id, &path, &screen.status, &mut screen.reason)
                    {
                        screen.actions.push(action);
                    }
                }
                queue_line_ui(ui, &screen.status);
            },
            screen,
        );
    harness.run();
    harness
}

#[test]
fn the_upload_section_saves_what_was_typed_and_asks_for_a_connection_test() {
    let mut harness = harness(UploadStatus::default());
    type_into(&mut harness, "Server", "https://corelab.example/dicom-web");
    type_into(&mut harness, "User", "sth-upload");
    type_into(&mut harness, "Password", "s3cret");
    harness.get_by_label("Kind").click();
    harness.run();
    harness.get_by_label("DICOMweb (STOW-RS)").click();
    harness.run();
    harness.get_by_label("Save upload settings").click();
    harness.run();
    let [UploadAction::Save { settings, password }] = harness.state().actions.as_slice() else {
        panic!("expected one Save, got {:?}", harness.state().actions);
    };
    assert_eq!(settings.server, "https://corelab.example/dicom-web");
    assert_eq!(settings.user, "sth-upload");
    assert_eq!(settings.kind, ArchiveKind::Dicomweb);
    assert_eq!(password.as_deref(), Some("s3cret"));
    // The password field is emptied once handed over; saving again keeps the stored password.
    assert!(harness.state().form.password.is_empty());
    harness.get_by_label("Save upload settings").click();
    harness.run();
    assert!(matches!(
        harness.state().actions.last(),
        Some(UploadAction::Save { password: None, .. })
    ));
    harness.get_by_label("Test connection").click();
    harness.run();
    assert_eq!(
        harness.state().actions.last(),
        Some(&UploadAction::TestConnection)
    );
}

#[test]
fn each_case_shows_its_upload_state_and_the_status_line_counts_the_queue() {
    let status = UploadStatus {
        entries: vec![
            entry("HER-STH-0001", UploadState::Confirmed, None),
            entry(
                "HER-STH-0002",
                UploadState::Failed,
                Some("HER-STH-0002: not signed off; it is not uploaded unless you give a reason"),
            ),
        ],
        sending: None,
        connection: Some(Err(
            "https://corelab.example: the archive cannot be reached".into()
        )),
        problem: None,
    };
    let mut harness = harness(status);
    harness.get_by_label("HER-STH-0001: uploaded");
    harness.get_by_label_contains("HER-STH-0002: upload failed: HER-STH-0002: not signed off");
    harness.get_by_label("HER-STH-0003: not uploaded");
    harness.get_by_label("Upload queue: 1 failed, 1 confirmed");
    harness
        .get_by_label_contains("Connection failed: https://corelab.example: the archive cannot be reached");
    // The failed case offers the reason field; Upload now sends it along.
    type_into(
        &mut harness,
        "Reason to upload without a valid sign-off (audited)",
        "core lab needs the raw data",
    );
    let buttons: Vec<_> = harness.get_all_by_label("Upload now").collect();
    assert_eq!(buttons.len(), 3);
    buttons[1].click();
    harness.run();
    let sent = Some(UploadAction::UploadNow {
        case_path: PathBuf::from("/cases/HER-STH-0002.heracles"),
        unsigned_reason: Some("core lab needs the raw data".into()),
    });
    assert_eq!(harness.state().actions.last(), sent.as_ref());
    // Enter in the reason is Upload now too (the form's default answer).
    let before = harness.state().actions.len();
    harness
        .get_by_label("Reason to upload without a valid sign-off (audited)")
        .focus();
    harness.run_steps(1);
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert_eq!(harness.state().actions.len(), before + 1);
    assert_eq!(harness.state().actions.last(), sent.as_ref());
}

/// The real app with no console, case files in `data_dir`, settings in `config_dir`, uploads started.
fn upload_app(data_dir: &Path, config_dir: &Path) -> App {
    let (data_dir, config_dir) = (data_dir.to_owned(), config_dir.to_owned());
    Harness::builder()
        .with_size([1366.0, 768.0])
        .build_eframe(move |cc| {
            let mut app = heracles::app::HeraclesApp::new(&cc.egui_ctx, Vec::new()).unwrap();
            app.set_data_dir(Some(data_dir));
            app.start_uploads(Some(config_dir));
            app.handle(heracles::app::Command::Ui(
                heracles::ui::action::Action::ShowView(heracles::ui::action::View::Settings),
            ));
            app
        })
}

#[test]
fn the_app_saves_the_settings_tests_the_connection_and_uploads_a_case_from_the_start_screen() {
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    let case = crate::review_case::create(dir.path(), 51);
    heracles::review::sign_off::sign(
        &mut heracles::store::CaseFile::open(&case).unwrap(),
        "Dr B",
        heracles::review::sign_off::SignatureMeaning::Approval,
    )
    .unwrap();
    let mut harness = upload_app(dir.path(), &config_dir);
    harness.run_steps(3);
    harness.get_by_label("Upload queue: empty");
    app_type(&mut harness, "Server", &server.url());
    app_type(&mut harness, "User", orthanc::USER);
    app_type(&mut harness, "Password", orthanc::PASSWORD);
    app_click(&mut harness, "Save upload settings");
    harness.get_by_label("Upload settings saved.");
    // The settings file holds no password; the secrets file is private.
    let settings = std::fs::read_to_string(config_dir.join("upload.toml")).unwrap();
    assert!(!settings.contains(orthanc::PASSWORD), "{settings}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(config_dir.join("upload-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    app_click(&mut harness, "Test connection");
    run_until(&mut harness, "the connection test", 30.0, |h| {
        h.query_by_label_contains("Connected: Orthanc").is_some()
    });
    harness.state_mut().handle(heracles::app::Command::ShowStart);
    run_until(&mut harness, "the case list", 30.0, |h| {
        h.query_by_label("HER-TST-0051: not uploaded").is_some()
    });
    app_click(&mut harness, "Upload now");
    run_until(&mut harness, "the upload", 120.0, |h| {
        h.query_by_label("HER-TST-0051: uploaded").is_some()
    });
    harness.get_by_label("Upload queue: 1 confirmed");
    assert!(server.num_instances() >= 3);
}

#[test]
fn the_review_screen_shows_the_case_upload_and_says_when_no_archive_is_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let case = crate::review_case::create(dir.path(), 52);
    let mut harness = upload_app(dir.path(), &dir.path().join("config"));
    harness.state_mut().handle(heracles::app::Command::OpenReview {
        path: case,
        reviewer: "fellow".into(),
    });
    run_until(&mut harness, "the review screen", 60.0, |h| {
        h.query_by_label("HER-TST-0052: not uploaded").is_some()
    });
    app_click(&mut harness, "Upload now");
    run_until(&mut harness, "the upload thread's answer", 30.0, |h| {
        h.query_by_label_contains("no archive is set up").is_some()
    });
    harness.get_by_label("Upload queue: empty");
}
