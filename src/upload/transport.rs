//! The archive as the upload sees it: store one DICOM Part 10 file, and say which instances of a study it holds.
//! Three kinds behind one trait ([`Archive`]): the Orthanc REST API (`POST /instances`; `POST /tools/lookup`
//! and `/studies/{id}/instances`), DICOMweb (STOW-RS `POST {base}/studies` as `multipart/related;
//! type="application/dicom"`; QIDO-RS `GET {base}/studies/{uid}/instances`) over HTTP(S) with rustls, and DICOM
//! C-STORE/C-FIND to a hospital PACS ([`super::dimse`]).
//!
//! Errors are sorted once, here, into what may pass by itself (unreachable, a 5xx answer: retried with backoff)
//! and what a person has to fix (wrong password, TLS failure, a refused object). Credentials go into the
//! `Authorization` header only; no message ever contains the password or token.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// How long to wait for a connection before calling the archive unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest one request may take (a case file of a long recording is tens of megabytes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest answer read (JSON lists of a study's instances).
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// What kind of archive the server is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveKind {
    /// Orthanc's REST API (the core lab's archive).
    #[default]
    Orthanc,
    /// A DICOMweb server (STOW-RS to store, QIDO-RS to confirm); the URL is the DICOMweb root.
    Dicomweb,
    /// DICOM C-STORE to a PACS; the URL is `dicom://CALLED_AE@host:port`.
    Dimse,
}

impl ArchiveKind {
    /// Every kind, in menu order.
    pub const ALL: [ArchiveKind; 3] = [ArchiveKind::Orthanc, ArchiveKind::Dicomweb, ArchiveKind::Dimse];

    /// Name on menus and in messages.
    pub fn label(self) -> &'static str {
        match self {
            ArchiveKind::Orthanc => "Orthanc REST",
            ArchiveKind::Dicomweb => "DICOMweb (STOW-RS)",
            ArchiveKind::Dimse => "DICOM C-STORE (PACS)",
        }
    }
}

/// How the upload proves who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No authentication.
    None,
    /// HTTP basic authentication.
    Basic {
        /// The account.
        user: String,
        /// Its password (never printed: `Debug` masks it).
        password: String,
    },
    /// An OAuth/OpenID bearer token.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => write!(f, "None"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, ***)"),
            Credentials::Bearer(_) => write!(f, "Bearer(***)"),
        }
    }
}

impl Credentials {
    /// The account name for messages (`None` for no authentication or a token).
    pub fn user(&self) -> Option<&str> {
        match self {
            Credentials::Basic { user, .. } => Some(user),
            Credentials::None | Credentials::Bearer(_) => None,
        }
    }

    fn header(&self) -> Option<String> {
        match self {
            Credentials::None => None,
            Credentials::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            Credentials::Bearer(token) => Some(format!("Bearer {token}")),
        }
    }
}

/// What the archive said to a stored object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored now.
    Stored,
    /// The archive already held this instance (a repeated upload after an interruption).
    AlreadyStored,
}

/// Why the archive could not be used. Messages are written for the operator and never hold credentials.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No connection (refused, no route, unknown host, timeout).
    #[error("{server}: the archive cannot be reached ({detail})")]
    Unreachable {
        /// The server's URL.
        server: String,
        /// What the network said.
        detail: String,
    },
    /// The TLS handshake failed (certificate not trusted, expired, wrong host, not TLS at all).
    #[error("{server}: secure connection failed (TLS: {detail}); check the URL and the server's certificate")]
    Tls {
        /// The server's URL.
        server: String,
        /// What rustls said.
        detail: String,
    },
    /// The archive refused the credentials (HTTP 401/403, or an association rejected by the PACS).
    #[error("{server}: the archive refused the login{} (wrong user name or password?)", user.as_deref().map(|u| format!(" of user {u}")).unwrap_or_default())]
    Unauthorized {
        /// The server's URL.
        server: String,
        /// The account tried.
        user: Option<String>,
    },
    /// The archive failed (HTTP 5xx, a DIMSE failure status that may be transient).
    #[error("{server}: the archive failed: {detail}")]
    ServerError {
        /// The server's URL.
        server: String,
        /// The status and the archive's words.
        detail: String,
    },
    /// The archive refused what was sent (HTTP 4xx other than 401/403, a DIMSE refusal).
    #[error("{server}: the archive refused the object: {detail}")]
    Refused {
        /// The server's URL.
        server: String,
        /// The status and the archive's words.
        detail: String,
    },
    /// The archive's answer made no sense.
    #[error("{server}: unexpected answer: {detail}")]
    Protocol {
        /// The server's URL.
        server: String,
        /// What was wrong.
        detail: String,
    },
    /// The settings do not describe a usable archive.
    #[error("upload settings: {0}")]
    Settings(String),
}

impl TransportError {
    /// Whether waiting and trying again may help (the network or the server), as opposed to something a person
    /// has to change (password, certificate, settings, the object).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            TransportError::Unreachable { .. } | TransportError::ServerError { .. }
        )
    }
}

/// An archive: stores objects and says what it holds.
pub trait Archive: Send {
    /// The server's URL (without credentials), for messages and the queue.
    fn server(&self) -> &str;
    /// Checks the connection and the login; returns what answered (e.g. `Orthanc 1.12.6`).
    fn check(&self) -> Result<String, TransportError>;
    /// Stores one DICOM Part 10 file.
    fn store(&self, part10: &[u8]) -> Result<StoreOutcome, TransportError>;
    /// The SOP Instance UIDs the archive holds in study `study_instance_uid` (empty if it holds no such study).
    fn study_instances(&self, study_instance_uid: &str) -> Result<Vec<String>, TransportError>;
    /// The case-file SHA-256 that the archive's copy of a case-file object carries in its private element
    /// ([`CASE_SHA256_ELEMENT`]; empty when that copy has none), or `None` when this kind of archive cannot be
    /// asked for a private element (C-FIND to a PACS): then the instance's UID, derived from that SHA-256, stands
    /// for it.
    fn case_file_sha256(&self, instance: &InstanceRef<'_>) -> Result<Option<String>, TransportError>;
}

/// One instance of a study, by its UIDs.
#[derive(Clone, Copy, Debug)]
pub struct InstanceRef<'a> {
    /// Study Instance UID.
    pub study: &'a str,
    /// Series Instance UID.
    pub series: &'a str,
    /// SOP Instance UID.
    pub sop: &'a str,
}

/// The private element that holds the case file's SHA-256 in the case-file object, as `group-element` hex.
const CASE_SHA256_ELEMENT: (u16, u16) = (
    crate::export::dicom::casefile::SHA256_ELEMENT.0,
    crate::export::dicom::casefile::SHA256_ELEMENT.1,
);

/// Opens the archive of `kind` at `url` with `credentials` (no connection is made yet).
pub fn connect(
    kind: ArchiveKind,
    url: &str,
    credentials: Credentials,
    calling_ae_title: &str,
) -> Result<Box<dyn Archive>, TransportError> {
    let url = url.trim().trim_end_matches('/').to_owned();
    match kind {
        ArchiveKind::Orthanc | ArchiveKind::Dicomweb => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(TransportError::Settings(format!(
                    "{url}: a {} server's URL starts with https:// (or http:// on this computer's loopback)",
                    kind.label()
                )));
            }
            if url.starts_with("http://") && !is_loopback(&url) {
                return Err(TransportError::Settings(format!(
                    "{url}: plain http would send the password unencrypted; use https:// (http:// only to this \
                     computer's loopback)"
                )));
            }
            if url.contains('@') {
                return Err(TransportError::Settings(
                    "put the user name in the user field, never in the URL".into(),
                ));
            }
            let http = Http::new(url, credentials);
            Ok(match kind {
                ArchiveKind::Orthanc => Box::new(OrthancRest { http }),
                _ => Box::new(DicomWeb { http }),
            })
        }
        ArchiveKind::Dimse => Ok(Box::new(super::dimse::Pacs::new(&url, calling_ae_title)?)),
    }
}

/// Whether an `http://` URL names this computer (127.0.0.0/8, `localhost`, `[::1]`).
fn is_loopback(url: &str) -> bool {
    let rest = url.trim_start_matches("http://");
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']').map(|(h, _)| h))
        .unwrap_or_else(|| host.split(':').next().unwrap_or_default());
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An HTTP answer: status and body text.
struct Answer {
    status: u16,
    body: String,
}

/// The HTTP client of one server.
struct Http {
    agent: ureq::Agent,
    base: String,
    credentials: Credentials,
}

impl Http {
    fn new(base: String, credentials: Credentials) -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        Http {
            agent: ureq::Agent::new_with_config(config),
            base,
            credentials,
        }
    }

    fn transport_error(&self, error: ureq::Error) -> TransportError {
        let server = self.base.clone();
        match error {
            ureq::Error::Tls(detail) => TransportError::Tls {
                server,
                detail: detail.to_owned(),
            },
            ureq::Error::Rustls(error) => TransportError::Tls {
                server,
                detail: error.to_string(),
            },
            ureq::Error::Protocol(error) if self.base.starts_with("https://") => TransportError::Tls {
                server,
                detail: format!("the server did not answer as HTTPS ({error})"),
            },
            ureq::Error::Io(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                TransportError::Tls {
                    server,
                    detail: error.to_string(),
                }
            }
            ureq::Error::HostNotFound => TransportError::Unreachable {
                server,
                detail: "unknown host".into(),
            },
            ureq::Error::ConnectionFailed => TransportError::Unreachable {
                server,
                detail: "connection failed".into(),
            },
            ureq::Error::Timeout(what) => TransportError::Unreachable {
                server,
                detail: format!("no answer in time ({what})"),
            },
            ureq::Error::Io(error) => TransportError::Unreachable {
                server,
                detail: error.to_string(),
            },
            other => TransportError::Protocol {
                server,
                detail: other.to_string(),
            },
        }
    }

    /// Sends a request and reads the answer; 401/403 and 5xx become errors here.
    fn call(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        accept: &str,
        body: Option<&[u8]>,
    ) -> Result<Answer, TransportError> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", accept);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        if let Some(header) = self.credentials.header() {
            request = request.header("Authorization", header);
        }
        let request = request
            .body(body.unwrap_or_default().to_vec())
            .map_err(|error| TransportError::Settings(format!("{url}: {error}")))?;
        let response = self
            .agent
            .run(request)
            .map_err(|error| self.transport_error(error))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|error| self.transport_error(error))?;
        match status {
            401 | 403 => Err(TransportError::Unauthorized {
                server: self.base.clone(),
                user: self.credentials.user().map(str::to_owned),
            }),
            500..=599 => Err(TransportError::ServerError {
                server: self.base.clone(),
                detail: format!("HTTP {status} {}", first_line(&body)),
            }),
            _ => Ok(Answer { status, body }),
        }
    }

    fn refused(&self, answer: &Answer) -> TransportError {
        TransportError::Refused {
            server: self.base.clone(),
            detail: format!("HTTP {} {}", answer.status, first_line(&answer.body)),
        }
    }

    fn protocol(&self, detail: impl Into<String>) -> TransportError {
        TransportError::Protocol {
            server: self.base.clone(),
            detail: detail.into(),
        }
    }

    fn json(&self, answer: &Answer) -> Result<serde_json::Value, TransportError> {
        serde_json::from_str(&answer.body).map_err(|error| self.protocol(format!("not JSON ({error})")))
    }
}

/// The first line of an answer, shortened, for a message.
fn first_line(body: &str) -> String {
    body.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// Orthanc's own REST API.
struct OrthancRest {
    http: Http,
}

impl OrthancRest {
    /// Orthanc's id of the resource of `kind` (`Study`, `Instance`) with DICOM UID `uid`, if it holds one.
    fn lookup(&self, uid: &str, kind: &str) -> Result<Option<String>, TransportError> {
        let answer = self.http.call(
            "POST",
            "/tools/lookup",
            Some("text/plain"),
            "application/json",
            Some(uid.as_bytes()),
        )?;
        if answer.status != 200 {
            return Err(self.http.refused(&answer));
        }
        let found = self.http.json(&answer)?;
        Ok(found
            .as_array()
            .into_iter()
            .flatten()
            .find(|item| item["Type"] == kind)
            .and_then(|item| item["ID"].as_str())
            .map(str::to_owned))
    }
}

impl Archive for OrthancRest {
    fn server(&self) -> &str {
        &self.http.base
    }

    fn check(&self) -> Result<String, TransportError> {
        let answer = self.http.call("GET", "/system", None, "application/json", None)?;
        if answer.status != 200 {
            return Err(self.http.refused(&answer));
        }
        let system = self.http.json(&answer)?;
        Ok(format!(
            "Orthanc {} ({})",
            system["Version"].as_str().unwrap_or("?"),
            system["Name"].as_str().unwrap_or("unnamed")
        ))
    }

    fn store(&self, part10: &[u8]) -> Result<StoreOutcome, TransportError> {
        let answer = self.http.call(
            "POST",
            "/instances",
            Some("application/dicom"),
            "application/json",
            Some(part10),
        )?;
        if answer.status != 200 {
            return Err(self.http.refused(&answer));
        }
        match self.http.json(&answer)?["Status"].as_str() {
            Some("Success") => Ok(StoreOutcome::Stored),
            Some("AlreadyStored") => Ok(StoreOutcome::AlreadyStored),
            other => Err(self.http.protocol(format!("store status {other:?}"))),
        }
    }

    fn study_instances(&self, study_instance_uid: &str) -> Result<Vec<String>, TransportError> {
        let Some(study_id) = self.lookup(study_instance_uid, "Study")? else {
            return Ok(Vec::new());
        };
        let answer = self.http.call(
            "GET",
            &format!("/studies/{study_id}/instances"),
            None,
            "application/json",
            None,
        )?;
        if answer.status != 200 {
            return Err(self.http.refused(&answer));
        }
        let instances = self.http.json(&answer)?;
        instances
            .as_array()
            .ok_or_else(|| self.http.protocol("the study's instances are not a list"))?
            .iter()
            .map(|instance| {
                instance["MainDicomTags"]["SOPInstanceUID"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.http.protocol("an instance without SOPInstanceUID"))
            })
            .collect()
    }

    fn case_file_sha256(&self, instance: &InstanceRef<'_>) -> Result<Option<String>, TransportError> {
        let Some(id) = self.lookup(instance.sop, "Instance")? else {
            return Ok(Some(String::new()));
        };
        let (group, element) = CASE_SHA256_ELEMENT;
        let answer = self.http.call(
            "GET",
            &format!("/instances/{id}/content/{group:04x}-{element:04x}"),
            None,
            "*/*",
            None,
        )?;
        Ok(Some(match answer.status {
            200 => answer.body.trim_end_matches(['\0', ' ']).to_owned(),
            _ => String::new(),
        }))
    }
}

/// A DICOMweb server (the URL is its root, e.g. `https://archive/dicom-web`).
struct DicomWeb {
    http: Http,
}

/// DICOM JSON tags used in STOW-RS answers and QIDO-RS results.
const FAILED_SOP_SEQUENCE: &str = "00081198";
const FAILURE_REASON: &str = "00081197";
const SOP_INSTANCE_UID: &str = "00080018";
/// STOW-RS failure reason for an instance the server already holds (PS3.18 "Duplicate SOP Instance").
const DUPLICATE_SOP_INSTANCE: u64 = 0x0111;

impl Archive for DicomWeb {
    fn server(&self) -> &str {
        &self.http.base
    }

    fn check(&self) -> Result<String, TransportError> {
        let answer = self
            .http
            .call("GET", "/studies?limit=1", None, "application/dicom+json", None)?;
        match answer.status {
            200 | 204 => Ok("DICOMweb (QIDO-RS answers)".into()),
            _ => Err(self.http.refused(&answer)),
        }
    }

    fn store(&self, part10: &[u8]) -> Result<StoreOutcome, TransportError> {
        // The boundary must not occur in the body; a random-looking fixed token plus the length is enough for
        // a binary DICOM file in practice, and is checked.
        let boundary = format!(
            "heracles-stow-{:016x}",
            part10.len() as u64 ^ 0x9e37_79b9_7f4a_7c15
        );
        if part10
            .windows(boundary.len())
            .any(|window| window == boundary.as_bytes())
        {
            return Err(self.http.protocol("the object contains the multipart boundary"));
        }
        let mut body = Vec::with_capacity(part10.len() + 200);
        body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
        body.extend_from_slice(part10);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
        let answer = self.http.call(
            "POST",
            "/studies",
            Some(&content_type),
            "application/dicom+json",
            Some(&body),
        )?;
        if !matches!(answer.status, 200 | 202 | 409) {
            return Err(self.http.refused(&answer));
        }
        let result = self.http.json(&answer)?;
        let failures: Vec<u64> = result[FAILED_SOP_SEQUENCE]["Value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| item[FAILURE_REASON]["Value"][0].as_u64().unwrap_or(0))
            .collect();
        match failures.as_slice() {
            [] if answer.status != 409 => Ok(StoreOutcome::Stored),
            [DUPLICATE_SOP_INSTANCE] => Ok(StoreOutcome::AlreadyStored),
            _ => Err(TransportError::Refused {
                server: self.http.base.clone(),
                detail: format!(
                    "HTTP {} failure reasons {:?}",
                    answer.status,
                    failures.iter().map(|c| format!("{c:#06x}")).collect::<Vec<_>>()
                ),
            }),
        }
    }

    fn study_instances(&self, study_instance_uid: &str) -> Result<Vec<String>, TransportError> {
        let answer = self.http.call(
            "GET",
            &format!("/studies/{study_instance_uid}/instances"),
            None,
            "application/dicom+json",
            None,
        )?;
        match answer.status {
            204 | 404 => return Ok(Vec::new()),
            200 => {}
            _ => return Err(self.http.refused(&answer)),
        }
        if answer.body.trim().is_empty() {
            return Ok(Vec::new());
        }
        let instances = self.http.json(&answer)?;
        instances
            .as_array()
            .ok_or_else(|| self.http.protocol("QIDO-RS did not answer a list"))?
            .iter()
            .map(|instance| {
                instance[SOP_INSTANCE_UID]["Value"][0]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.http.protocol("an instance without SOPInstanceUID"))
            })
            .collect()
    }

    fn case_file_sha256(&self, instance: &InstanceRef<'_>) -> Result<Option<String>, TransportError> {
        let answer = self.http.call(
            "GET",
            &format!(
                "/studies/{}/series/{}/instances/{}/metadata",
                instance.study, instance.series, instance.sop
            ),
            None,
            "application/dicom+json",
            None,
        )?;
        if answer.status != 200 {
            return Ok(Some(String::new()));
        }
        let (group, element) = CASE_SHA256_ELEMENT;
        let key = format!("{group:04X}{element:04X}");
        let metadata = self.http.json(&answer)?;
        Ok(Some(
            metadata[0][key.as_str()]["Value"][0]
                .as_str()
                .unwrap_or_default()
                .trim_end()
                .to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_debug_output() {
        let basic = Credentials::Basic {
            user: "corelab".into(),
            password: "s3cret".into(),
        };
        assert_eq!(format!("{basic:?}"), "Basic(corelab, ***)");
        assert_eq!(format!("{:?}", Credentials::Bearer("tok".into())), "Bearer(***)");
        // RFC 7617's example.
        let header = Credentials::Basic {
            user: "Aladdin".into(),
            password: "open sesame".into(),
        }
        .header();
        assert_eq!(header.as_deref(), Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    }

    #[test]
    fn urls_with_credentials_without_a_scheme_or_plain_http_off_this_computer_are_refused() {
        for url in [
            "archive.example/orthanc",
            "https://user:pw@archive.example",
            "http://archive.example/orthanc",
            "http://10.0.0.5:8042",
        ] {
            assert!(matches!(
                connect(ArchiveKind::Orthanc, url, Credentials::None, "HERACLES"),
                Err(TransportError::Settings(_))
            ));
        }
        for url in [
            "http://127.0.0.1:8042",
            "http://localhost:8042/orthanc",
            "http://[::1]:8042",
            "https://archive.example",
        ] {
            assert!(
                connect(ArchiveKind::Orthanc, url, Credentials::None, "HERACLES").is_ok(),
                "{url}"
            );
        }
    }

    #[test]
    fn only_network_and_server_failures_are_retried() {
        let server = || "http://x".to_owned();
        assert!(
            TransportError::ServerError {
                server: server(),
                detail: "HTTP 500".into()
            }
            .retryable()
        );
        assert!(
            !TransportError::Unauthorized {
                server: server(),
                user: None
            }
            .retryable()
        );
        assert!(
            !TransportError::Tls {
                server: server(),
                detail: String::new()
            }
            .retryable()
        );
    }
}
