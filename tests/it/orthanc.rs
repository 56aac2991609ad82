//! A real Orthanc for the upload tests: `Orthanc CONFIG.json` as a plain child process on 127.0.0.1 with free
//! HTTP and DICOM ports, a temporary storage folder, authentication on with one registered user, and the
//! DICOMweb plugin. [`Orthanc::start`] waits until it answers; dropping it kills it. `.ci/run` installs Orthanc and
//! the plugin; a machine without them fails here with that said (never a silent skip).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Orthanc binary (Debian's `orthanc` package).
pub const ORTHANC: &str = "/usr/sbin/Orthanc";
/// Debian's `orthanc-dicomweb` plugin.
pub const DICOMWEB_PLUGIN: &str = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";
/// The registered user and its password.
pub const USER: &str = "corelab";
pub const PASSWORD: &str = "trial-archive-pw";
/// The archive's AE title.
pub const AE_TITLE: &str = "ORTHANC";

/// A free TCP port on the loopback (bound, then released for the child to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running Orthanc.
pub struct Orthanc {
    child: Option<Child>,
    config: PathBuf,
    log: PathBuf,
    pub http_port: u16,
    pub dicom_port: u16,
    _dir: tempfile::TempDir,
}

impl Orthanc {
    /// Starts an Orthanc with empty storage and waits until its REST API answers.
    pub fn start() -> Orthanc {
        assert!(
            Path::new(ORTHANC).exists() && Path::new(DICOMWEB_PLUGIN).exists(),
            "{ORTHANC} and {DICOMWEB_PLUGIN} are needed (Debian packages orthanc and orthanc-dicomweb; .ci/run \
             installs them)"
        );
        let dir = tempfile::tempdir().unwrap();
        let (http_port, dicom_port) = (free_port(), free_port());
        let storage = dir.path().join("storage");
        let config = serde_json::json!({
            "Name": "heracles-test-archive",
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "HttpPort": http_port,
            "DicomPort": dicom_port,
            "DicomAet": AE_TITLE,
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": true,
            "RegisteredUsers": { USER: PASSWORD },
            "DicomAlwaysAllowStore": true,
            "DicomAlwaysAllowFind": true,
            "DicomCheckCalledAet": false,
            "HttpThreadsCount": 4,
            "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": { "Enable": true, "Root": "/dicom-web/" }
        });
        let config_path = dir.path().join("orthanc.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let mut orthanc = Orthanc {
            child: None,
            config: config_path,
            log: dir.path().join("orthanc.log"),
            http_port,
            dicom_port,
            _dir: dir,
        };
        orthanc.restart();
        orthanc
    }

    /// The REST API's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The DICOMweb root.
    pub fn dicomweb_url(&self) -> String {
        format!("{}/dicom-web", self.url())
    }

    /// The DICOM port as the upload addresses a PACS.
    pub fn dimse_url(&self) -> String {
        format!("dicom://{AE_TITLE}@127.0.0.1:{}", self.dicom_port)
    }

    /// Stops the server (kill and wait); its storage stays for [`Orthanc::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same storage and ports, and waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(ORTHANC)
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.get("/system").is_some() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "Orthanc exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "Orthanc did not answer within 60 s: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// `GET path` on the REST API as the registered user: the JSON answer, or `None` on any failure.
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        let mut response = ureq::get(format!("{}{path}", self.url()))
            .header("Authorization", format!("Basic {auth}"))
            .call()
            .ok()?;
        serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()
    }

    /// The number of instances the server holds in study `study_instance_uid` (0 when it has no such study).
    pub fn num_study_instances(&self, study_instance_uid: &str) -> usize {
        let studies = self.get("/studies?expand").unwrap();
        studies
            .as_array()
            .unwrap()
            .iter()
            .find(|study| study["MainDicomTags"]["StudyInstanceUID"] == study_instance_uid)
            .map_or(0, |study| {
                let id = study["ID"].as_str().unwrap();
                self.get(&format!("/studies/{id}/instances"))
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .len()
            })
    }

    /// The total number of instances the server holds.
    pub fn num_instances(&self) -> u64 {
        self.get("/statistics").unwrap()["CountInstances"]
            .as_u64()
            .unwrap()
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        self.stop();
    }
}
