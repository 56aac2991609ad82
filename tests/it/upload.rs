//! The upload against a real Orthanc on 127.0.0.1 ([`crate::orthanc`]): the three transports store objects,
//! list what the archive holds and answer "already stored" to a repeat; the errors a site will meet are told
//! apart (wrong password, TLS, unreachable, HTTP 500); the queue keeps every case through a stopped archive, a
//! wrong password and a failing server, retrying with backoff; an unsigned case goes only with an audited reason.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use heracles::export::dicom::{DicomError, DicomInstance, DicomStudy};
use heracles::review::sign_off::{SignatureMeaning, sign};
use heracles::store::{CaseFile, UploadState};
use heracles::upload::{
    ArchiveKind, Credentials, RetryPolicy, StoreOutcome, TransportError, UploadError, Uploader, transport,
};

use crate::orthanc::{self, Orthanc};
use crate::review_case;

/// Secondary Capture Image Storage: the simplest object an archive takes (the transport tests need no waveform).
const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";

/// A small valid Part 10 file (Explicit VR Little Endian) with the given UIDs.
fn tiny_instance(study_uid: &str, series_uid: &str, sop_uid: &str) -> Vec<u8> {
    let text = |tag, vr, value: &str| DataElement::new(tag, vr, PrimitiveValue::from(value));
    let object = InMemDicomObject::from_element_iter([
        text(tags::SOP_CLASS_UID, VR::UI, SECONDARY_CAPTURE),
        text(tags::SOP_INSTANCE_UID, VR::UI, sop_uid),
        text(tags::STUDY_INSTANCE_UID, VR::UI, study_uid),
        text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid),
        text(tags::MODALITY, VR::CS, "OT"),
        text(tags::PATIENT_ID, VR::LO, "HER-TST-0000"),
    ]);
    let file = object
        .with_meta(
            FileMetaTableBuilder::new()
                .media_storage_sop_class_uid(SECONDARY_CAPTURE)
                .media_storage_sop_instance_uid(sop_uid)
                .transfer_syntax("1.2.840.10008.1.2.1"),
        )
        .unwrap();
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).unwrap();
    bytes
}

/// A stand-in study of `num` tiny objects with UIDs derived from `key`, for the queue tests (the real study is
/// the dicom builder's; these tests are about the queue and the transport).
fn tiny_study(key: u32, num: u32) -> DicomStudy {
    let study_uid = format!("2.25.{key}");
    let series_uid = format!("{study_uid}.1");
    DicomStudy {
        instances: (1..=num)
            .map(|n| {
                let sop_uid = format!("{series_uid}.{n}");
                DicomInstance {
                    sop_class_uid: SECONDARY_CAPTURE.into(),
                    bytes: tiny_instance(&study_uid, &series_uid, &sop_uid),
                    sop_instance_uid: sop_uid,
                    series_instance_uid: series_uid.clone(),
                }
            })
            .collect(),
        study_instance_uid: study_uid,
        case_sha256_hex: format!("{key:064x}"),
    }
}

fn basic(password: &str) -> Credentials {
    Credentials::Basic {
        user: orthanc::USER.into(),
        password: password.into(),
    }
}

/// A signed-off synthetic case in `dir`.
fn signed_case(dir: &Path, number: u16) -> std::path::PathBuf {
    let path = review_case::create(dir, number);
    sign(
        &mut CaseFile::open(&path).unwrap(),
        "Dr B",
        SignatureMeaning::Approval,
    )
    .unwrap();
    path
}

const QUICK: RetryPolicy = RetryPolicy {
    first_delay: Duration::from_millis(200),
    max_delay: Duration::from_secs(2),
    attempts_per_call: 3,
};

#[test]
fn the_three_transports_store_list_and_answer_already_stored() {
    let server = Orthanc::start();
    let kinds = [
        (ArchiveKind::Orthanc, server.url()),
        (ArchiveKind::Dicomweb, server.dicomweb_url()),
        (ArchiveKind::Dimse, server.dimse_url()),
    ];
    for (k, (kind, url)) in kinds.into_iter().enumerate() {
        let credentials = if kind == ArchiveKind::Dimse {
            Credentials::None
        } else {
            basic(orthanc::PASSWORD)
        };
        let archive = transport::connect(kind, &url, credentials, "HERACLES").unwrap();
        let answer = archive.check().unwrap();
        assert!(!answer.is_empty(), "{kind:?}");
        let study = tiny_study(1000 + k as u32, 2);
        assert!(
            archive
                .study_instances(&study.study_instance_uid)
                .unwrap()
                .is_empty()
        );
        for instance in &study.instances {
            assert_eq!(
                archive.store(&instance.bytes).unwrap(),
                StoreOutcome::Stored,
                "{kind:?}"
            );
        }
        // Sent again (an interrupted upload resumed): no duplicate. Orthanc's REST API says so; DICOMweb and
        // C-STORE report success, and the archive still holds one copy.
        let again = archive.store(&study.instances[0].bytes).unwrap();
        if kind == ArchiveKind::Orthanc {
            assert_eq!(again, StoreOutcome::AlreadyStored);
        }
        let mut held = archive.study_instances(&study.study_instance_uid).unwrap();
        held.sort();
        let sent: Vec<String> = study
            .instances
            .iter()
            .map(|i| i.sop_instance_uid.clone())
            .collect();
        assert_eq!(held, sent, "{kind:?}");
        assert_eq!(server.num_study_instances(&study.study_instance_uid), 2);
    }
    assert_eq!(server.num_instances(), 6);
}

#[test]
fn wrong_password_tls_and_unreachable_are_told_apart() {
    let server = Orthanc::start();
    let study = tiny_study(2000, 1);
    for kind in [ArchiveKind::Orthanc, ArchiveKind::Dicomweb] {
        let url = if kind == ArchiveKind::Orthanc {
            server.url()
        } else {
            server.dicomweb_url()
        };
        let archive = transport::connect(kind, &url, basic("guess-1234"), "HERACLES").unwrap();
        let error = archive.store(&study.instances[0].bytes).unwrap_err();
        assert!(matches!(error, TransportError::Unauthorized { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains("refused the login of user corelab"), "{message}");
        assert!(
            !message.contains("guess-1234"),
            "the password never shows: {message}"
        );
        assert!(!error.retryable());
    }
    // HTTPS to a plain-HTTP port: a TLS failure, not retried.
    let https = format!("https://127.0.0.1:{}", server.http_port);
    let error = transport::connect(ArchiveKind::Orthanc, &https, basic(orthanc::PASSWORD), "HERACLES")
        .unwrap()
        .check()
        .unwrap_err();
    assert!(matches!(error, TransportError::Tls { .. }), "{error}");
    assert!(!error.retryable());
    // Nobody listening: unreachable, retried.
    let closed = format!("http://127.0.0.1:{}", orthanc::free_port());
    for (kind, url) in [
        (ArchiveKind::Orthanc, closed.clone()),
        (
            ArchiveKind::Dimse,
            format!("dicom://X@127.0.0.1:{}", orthanc::free_port()),
        ),
    ] {
        let error = transport::connect(kind, &url, Credentials::None, "HERACLES")
            .unwrap()
            .check()
            .unwrap_err();
        assert!(matches!(error, TransportError::Unreachable { .. }), "{error}");
        assert!(error.retryable());
    }
    assert_eq!(server.num_instances(), 0);
}

#[test]
fn an_unsigned_case_is_refused_without_a_reason_and_uploaded_with_an_audited_one() {
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let case = review_case::create(dir.path(), 31);
    let build = |_: &Path| -> Result<DicomStudy, DicomError> { Ok(tiny_study(3100, 3)) };
    let archive =
        transport::connect(ArchiveKind::Orthanc, &server.url(), basic(orthanc::PASSWORD), "").unwrap();
    let uploader = Uploader::new(dir.path(), archive, "fellow", QUICK, &build).unwrap();
    let audit_before = CaseFile::open_read_only(&case)
        .unwrap()
        .audit_trail()
        .unwrap()
        .len();
    let error = uploader.upload(&case, None).unwrap_err();
    assert!(matches!(error, UploadError::NotSignedOff { .. }), "{error}");
    assert!(error.to_string().contains("not signed off"), "{error}");
    let entry = uploader.queue().entry("HER-TST-0031").unwrap().unwrap();
    assert_eq!(entry.state, UploadState::Failed);
    assert_eq!(entry.attempts, 1, "refused at once, not retried");
    assert_eq!(server.num_instances(), 0);
    // A reason that looks like an identifier is refused; nothing is audited or sent.
    assert!(uploader.upload(&case, Some("pt DOB 12/03/1956")).is_err());
    let trail = CaseFile::open_read_only(&case).unwrap().audit_trail().unwrap();
    assert_eq!(trail.len(), audit_before);
    // With a reason: audited in the case file, then uploaded and confirmed.
    let entry = uploader
        .upload(&case, Some("core lab asked for the raw data before review"))
        .unwrap();
    assert_eq!(entry.state, UploadState::Confirmed);
    let trail = CaseFile::open_read_only(&case).unwrap().audit_trail().unwrap();
    let audited = trail.last().unwrap();
    assert_eq!(
        (
            audited.action.as_str(),
            audited.who.as_str(),
            audited.reason.as_str()
        ),
        (
            "upload_unsigned",
            "fellow",
            "core lab asked for the raw data before review"
        )
    );
    let report = CaseFile::open_read_only(&case).unwrap().verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(server.num_study_instances("2.25.3100"), 3);
    // A signed case needs no reason and none is audited.
    let signed = signed_case(dir.path(), 32);
    let before = CaseFile::open_read_only(&signed)
        .unwrap()
        .audit_trail()
        .unwrap()
        .len();
    assert_eq!(
        uploader.upload(&signed, None).unwrap().state,
        UploadState::Confirmed
    );
    assert_eq!(
        CaseFile::open_read_only(&signed)
            .unwrap()
            .audit_trail()
            .unwrap()
            .len(),
        before
    );
}

#[test]
fn a_stopped_archive_leaves_the_case_pending_and_it_goes_when_the_archive_is_back() {
    let mut server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let case = signed_case(dir.path(), 33);
    let build = |_: &Path| -> Result<DicomStudy, DicomError> { Ok(tiny_study(3300, 4)) };
    server.stop();
    let archive = transport::connect(
        ArchiveKind::Dicomweb,
        &server.dicomweb_url(),
        basic(orthanc::PASSWORD),
        "",
    )
    .unwrap();
    let uploader = Uploader::new(dir.path(), archive, "fellow", QUICK, &build).unwrap();
    let error = uploader.upload(&case, None).unwrap_err();
    assert!(error.to_string().contains("cannot be reached"), "{error}");
    let entry = uploader.queue().entry("HER-TST-0033").unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (UploadState::Pending, 3));
    assert!(entry.last_error.unwrap().contains("cannot be reached"));
    assert!(entry.next_attempt_utc.is_some());
    // Nothing is due before its backoff has passed; after it (and the archive back), the due run delivers it.
    assert!(uploader.due().unwrap().is_empty());
    server.restart();
    std::thread::sleep(QUICK.delay_after(3) + Duration::from_millis(100));
    let due = uploader.due().unwrap();
    assert_eq!(due.len(), 1);
    let entry = uploader.attempt(&due[0].case_id, &due[0].case_path).unwrap();
    assert_eq!((entry.state, entry.attempts), (UploadState::Confirmed, 4));
    assert_eq!(entry.num_instances, Some(4));
    assert_eq!(server.num_study_instances("2.25.3300"), 4);
}

#[test]
fn a_wrong_password_fails_clearly_and_loses_nothing() {
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let case = signed_case(dir.path(), 34);
    let before = std::fs::read(&case).unwrap();
    let build = |_: &Path| -> Result<DicomStudy, DicomError> { Ok(tiny_study(3400, 2)) };
    let wrong = transport::connect(ArchiveKind::Orthanc, &server.url(), basic("guess"), "").unwrap();
    let uploader = Uploader::new(dir.path(), wrong, "fellow", QUICK, &build).unwrap();
    let error = uploader.upload(&case, None).unwrap_err();
    assert!(error.to_string().contains("refused the login"), "{error}");
    let entry = uploader.queue().entry("HER-TST-0034").unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (UploadState::Failed, 1));
    assert!(entry.last_error.unwrap().contains("wrong user name or password"));
    assert_eq!(
        std::fs::read(&case).unwrap(),
        before,
        "the case file is untouched"
    );
    drop(uploader);
    // The right password: the same queue row goes through.
    let right =
        transport::connect(ArchiveKind::Orthanc, &server.url(), basic(orthanc::PASSWORD), "").unwrap();
    let uploader = Uploader::new(dir.path(), right, "fellow", QUICK, &build).unwrap();
    let entry = uploader.upload(&case, None).unwrap();
    assert_eq!((entry.state, entry.attempts), (UploadState::Confirmed, 2));
}

/// A server that answers every request with HTTP 500 after reading it whole; returns its URL and the times of
/// the requests.
fn failing_server() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let times = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&times);
    std::thread::Builder::new()
        .name("failing-server".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Read the head, then as many body bytes as Content-Length says.
                let head_end = loop {
                    let n = stream.read(&mut buffer).unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(end + 4);
                    }
                };
                let Some(head_end) = head_end else { continue };
                let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                while request.len() < head_end + length {
                    let n = stream.read(&mut buffer).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..n]);
                }
                seen.lock().unwrap().push(Instant::now());
                let _ = stream.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 13\r\nConnection: close\r\n\r\ndatabase busy",
                );
            }
        })
        .unwrap();
    (url, times)
}

#[test]
fn an_archive_answering_500_is_retried_with_backoff_and_the_case_waits() {
    let (url, times) = failing_server();
    let dir = tempfile::tempdir().unwrap();
    let case = signed_case(dir.path(), 35);
    let build = |_: &Path| -> Result<DicomStudy, DicomError> { Ok(tiny_study(3500, 2)) };
    let archive = transport::connect(ArchiveKind::Orthanc, &url, basic("x"), "").unwrap();
    let uploader = Uploader::new(dir.path(), archive, "fellow", QUICK, &build).unwrap();
    let error = uploader.upload(&case, None).unwrap_err();
    assert!(error.to_string().contains("HTTP 500 database busy"), "{error}");
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 3, "three attempts, each stopped at its first object");
    // The waits double: 200 ms, then 400 ms.
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= QUICK.delay_after(1), "{gaps:?}");
    assert!(gaps[1] >= QUICK.delay_after(2), "{gaps:?}");
    assert!(gaps[1] > gaps[0], "{gaps:?}");
    let entry = uploader.queue().entry("HER-TST-0035").unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (UploadState::Pending, 3));
    assert!(entry.last_error.unwrap().contains("HTTP 500"));
    assert!(entry.next_attempt_utc.is_some());
}

/// The binary the tests run: the one `cargo test` built, or for the measurement a release build named by
/// `HERACLES_MEASURE_BIN` (docs/performance.md).
fn heracles_bin() -> std::path::PathBuf {
    std::env::var_os("HERACLES_MEASURE_BIN").map_or_else(|| env!("CARGO_BIN_EXE_heracles").into(), Into::into)
}

/// `heracles upload ARGS` with its own data and configuration folders and the password in the environment.
fn upload_command(data_dir: &Path, password: &str, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(heracles_bin());
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--config-dir")
        .arg(data_dir.join("config"))
        .arg("upload")
        .args(args)
        .env(heracles::upload::settings::PASSWORD_ENV, password)
        .env("RUST_LOG", "info");
    command
}

fn run_upload(data_dir: &Path, password: &str, args: &[&str]) -> std::process::Output {
    upload_command(data_dir, password, args).output().unwrap()
}

/// The queue row of `case_id` as `heracles upload --status --json` shows it.
fn status_of(data_dir: &Path, case_id: &str) -> serde_json::Value {
    let output = run_upload(data_dir, "", &["--status", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|row| row["case_id"] == case_id)
        .cloned()
        .unwrap_or_default()
}

#[test]
fn heracles_upload_sends_a_recorded_case_as_its_dicom_study_and_orthanc_confirms_it() {
    use heracles::export::dicom::{TrialContext, casefile, study_of_case};
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let case = signed_case(dir.path(), 41);
    let study = study_of_case(&case, &TrialContext::heracles()).unwrap();
    let url = server.url();
    // Without a password nothing can log in: a clear error and exit 1, before anything is queued or sent.
    let output = run_upload(
        dir.path(),
        "",
        &["HER-TST-0041", "--server", &url, "--user", orthanc::USER],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no password"), "{stderr}");
    assert_eq!(status_of(dir.path(), "HER-TST-0041"), serde_json::Value::Null);
    let output = run_upload(
        dir.path(),
        orthanc::PASSWORD,
        &["HER-TST-0041", "--server", &url, "--user", orthanc::USER],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains(orthanc::PASSWORD),
        "the password never shows in the log: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "HER-TST-0041: confirmed by {url} ({} objects",
            study.instances.len()
        )),
        "{stdout}"
    );
    assert_eq!(
        server.num_study_instances(&study.study_instance_uid),
        study.instances.len()
    );
    // The archive's copy of the case file carries the SHA-256 of the case file sent.
    let raw = study
        .instances
        .iter()
        .find(|i| i.sop_class_uid == casefile::SOP_CLASS_UID)
        .unwrap();
    let archive = transport::connect(
        ArchiveKind::Dicomweb,
        &server.dicomweb_url(),
        basic(orthanc::PASSWORD),
        "",
    )
    .unwrap();
    let reference = heracles::upload::InstanceRef {
        study: &study.study_instance_uid,
        series: &raw.series_instance_uid,
        sop: &raw.sop_instance_uid,
    };
    assert_eq!(
        archive.case_file_sha256(&reference).unwrap().as_deref(),
        Some(study.case_sha256_hex.as_str())
    );
    let row = status_of(dir.path(), "HER-TST-0041");
    assert_eq!(row["state"], "confirmed");
    assert_eq!(row["num_instances"], study.instances.len());
    assert_eq!(row["case_sha256_hex"], study.case_sha256_hex.as_str());
    // The human status line.
    let output = run_upload(dir.path(), "", &["--status"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("Upload queue: 1 confirmed\nHER-TST-0041  uploaded  attempts 1"),
        "{text}"
    );
    // --all sends what is not confirmed yet: nothing here, so nothing is sent again.
    let before = server.num_instances();
    let output = run_upload(
        dir.path(),
        orthanc::PASSWORD,
        &["--all", "--server", &url, "--user", orthanc::USER],
    );
    assert!(output.status.success());
    assert_eq!(server.num_instances(), before);
}

#[test]
fn a_kill_during_heracles_upload_then_a_rerun_delivers_the_study_once() {
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    // A quarter of an hour of recording: several waveform objects and a large case file, so the upload takes a
    // while.
    let case =
        review_case::create_lasting(dir.path(), 42, 900.0, heracles::store::RecorderOptions::default());
    sign(
        &mut CaseFile::open(&case).unwrap(),
        "Dr B",
        SignatureMeaning::Approval,
    )
    .unwrap();
    let url = server.url();
    let args = ["HER-TST-0042", "--server", url.as_str(), "--user", orthanc::USER];
    let mut child = upload_command(dir.path(), orthanc::PASSWORD, &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill -9 as soon as the archive holds the first object.
    let deadline = Instant::now() + Duration::from_secs(300);
    while server.num_instances() == 0 {
        assert!(Instant::now() < deadline, "the upload never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let row = status_of(dir.path(), "HER-TST-0042");
    assert!(
        row["state"] == "sending" || row["state"] == "delivered",
        "killed during the upload, not confirmed: {row}"
    );
    let output = run_upload(dir.path(), orthanc::PASSWORD, &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = status_of(dir.path(), "HER-TST-0042");
    assert_eq!(row["state"], "confirmed");
    assert_eq!(row["attempts"], 2);
    let num = row["num_instances"].as_u64().unwrap();
    assert!(num >= 4, "{row}");
    // Delivered once: the archive holds exactly the study's objects, none twice.
    let study_uid = row["study_instance_uid"].as_str().unwrap();
    assert_eq!(server.num_study_instances(study_uid) as u64, num);
    assert_eq!(server.num_instances(), num);
}

#[test]
#[ignore = "measurement: a 2-hour case converted and uploaded by the CLI (several minutes in a debug build)"]
fn measure_a_two_hour_case_converted_and_uploaded_to_orthanc() {
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let made = Instant::now();
    let case = review_case::create_lasting(
        dir.path(),
        7200,
        7200.0,
        heracles::store::RecorderOptions::default(),
    );
    sign(
        &mut CaseFile::open(&case).unwrap(),
        "Dr B",
        SignatureMeaning::Approval,
    )
    .unwrap();
    println!("2-hour case made in {:.1} s", made.elapsed().as_secs_f64());
    let case_bytes = std::fs::metadata(&case).unwrap().len();
    // Conversion alone: `heracles export --dicom`.
    let out = dir.path().join("study");
    let started = Instant::now();
    let output = std::process::Command::new(heracles_bin())
        .arg("export")
        .arg(&case)
        .arg("--to")
        .arg(&out)
        .arg("--dicom")
        .output()
        .unwrap();
    let convert_s = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let study_bytes: u64 = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    // Conversion, upload and confirmation: `heracles upload`.
    let url = server.url();
    let started = Instant::now();
    let output = run_upload(
        dir.path(),
        orthanc::PASSWORD,
        &["HER-TST-7200", "--server", &url, "--user", orthanc::USER],
    );
    let upload_s = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    for line in log.lines().filter(|l| l.contains("HER-TST-7200")) {
        println!("{line}");
    }
    let row = status_of(dir.path(), "HER-TST-7200");
    assert_eq!(row["state"], "confirmed");
    println!(
        "case file {:.1} MB; DICOM study {} objects, {:.1} MB ({:.2} x the case file); export --dicom {convert_s:.1} s; \
         upload (convert + send + confirm) {upload_s:.1} s",
        case_bytes as f64 / 1e6,
        row["num_instances"],
        study_bytes as f64 / 1e6,
        study_bytes as f64 / case_bytes as f64
    );
}

#[test]
fn a_case_that_fails_verify_is_refused_untouched_and_its_reason_kept_in_the_queue() {
    use heracles::export::dicom::{TrialContext, study_of_case};
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let case = signed_case(dir.path(), 36);
    rusqlite::Connection::open(&case)
        .unwrap()
        .execute_batch("UPDATE chunk SET min_value = min_value - 1 WHERE id = (SELECT min(id) FROM chunk)")
        .unwrap();
    let before = std::fs::read(&case).unwrap();
    let build = |path: &Path| study_of_case(path, &TrialContext::heracles());
    let archive =
        transport::connect(ArchiveKind::Orthanc, &server.url(), basic(orthanc::PASSWORD), "").unwrap();
    let uploader = Uploader::new(dir.path(), archive, "fellow", QUICK, &build).unwrap();
    let error = uploader.upload(&case, None).unwrap_err();
    assert!(matches!(error, UploadError::Study { .. }), "{error}");
    assert!(error.to_string().contains("verif"), "{error}");
    let entry = uploader.queue().entry("HER-TST-0036").unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (UploadState::Failed, 1));
    assert!(entry.last_error.unwrap().contains("verif"));
    assert_eq!(
        std::fs::read(&case).unwrap(),
        before,
        "the case file is untouched"
    );
    assert_eq!(server.num_instances(), 0);
}

#[test]
fn a_study_that_cannot_be_staged_leaves_the_case_untouched_and_the_reason_in_the_queue() {
    // The case file's snapshot is staged in the temporary folder. One that cannot take it (here a path under a
    // plain file, so the write fails as it would on a full disk) must fail with the reason, touch nothing and
    // keep the case in the queue; with room again, the same command delivers it.
    let server = Orthanc::start();
    let dir = tempfile::tempdir().unwrap();
    let case = signed_case(dir.path(), 37);
    let before = std::fs::read(&case).unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let url = server.url();
    let args = ["HER-TST-0037", "--server", &url, "--user", orthanc::USER];
    let output = upload_command(dir.path(), orthanc::PASSWORD, &args)
        .env("TMPDIR", blocker.join("tmp"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("HER-TST-0037") && log.contains("not-a-folder"),
        "{log}"
    );
    assert_eq!(
        std::fs::read(&case).unwrap(),
        before,
        "the case file is untouched"
    );
    let row = status_of(dir.path(), "HER-TST-0037");
    assert_ne!(row["state"], "confirmed", "{row}");
    assert!(
        row["last_error"].as_str().unwrap().contains("not-a-folder"),
        "{row}"
    );
    assert_eq!(server.num_instances(), 0);

    let output = run_upload(dir.path(), orthanc::PASSWORD, &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(status_of(dir.path(), "HER-TST-0037")["state"], "confirmed");
}
