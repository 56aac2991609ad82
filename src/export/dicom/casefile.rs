//! The full-rate case file itself in the study, for the core lab to open in heracles: a Raw Data Storage object
//! (PS3.3 A.37) whose payload is a consistent snapshot of the SQLite case file ([`CaseFile::snapshot`],
//! `VACUUM INTO`: everything committed when it started, never a half-written page), in private elements under
//! the private creator [`PRIVATE_CREATOR`] in group 0011:
//!
//! | element | VR | value |
//! |---|---|---|
//! | (0011,0010) | LO | `HERACLES 1` (the private creator) |
//! | (0011,1001) | OB | the case file's bytes ([`PAYLOAD_ELEMENT`]) |
//! | (0011,1002) | LO | their SHA-256, 64 lower-case hex digits ([`SHA256_ELEMENT`]) |
//! | (0011,1003) | LO | the file's name, e.g. `HER-STH-0007.heracles` |
//! | (0011,1004) | LO | its media type, `application/vnd.sqlite3` |
//! | (0011,1005) | UL | its length in bytes |
//!
//! An archive reports the private elements as they are (Orthanc: `GET /instances/{id}/content/0011-1002` answers
//! the SHA-256 as text), so an uploader can confirm that the server holds the case file it sent.

use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;

use super::elements::{base_object, date, put_bytes, put_sequence, put_str, put_u32, time_of_day};
use super::{CaseContext, DicomError, DicomInstance, SeriesInfo, uids};
use crate::export::ExportError;
use crate::store::CaseFile;

/// Raw Data Storage.
pub const SOP_CLASS_UID: &str = "1.2.840.10008.5.1.4.1.1.66";
/// The private creator of the case-file elements.
pub const PRIVATE_CREATOR: &str = "HERACLES 1";
/// Where the private creator is reserved: block 0x10 of group 0x0011.
pub const CREATOR_ELEMENT: Tag = Tag(0x0011, 0x0010);
/// The case file's bytes.
pub const PAYLOAD_ELEMENT: Tag = Tag(0x0011, 0x1001);
/// The SHA-256 of the payload, hex.
pub const SHA256_ELEMENT: Tag = Tag(0x0011, 0x1002);
/// The payload's file name.
pub const NAME_ELEMENT: Tag = Tag(0x0011, 0x1003);
/// The payload's media type.
pub const MEDIA_TYPE_ELEMENT: Tag = Tag(0x0011, 0x1004);
/// The payload's length in bytes.
pub const LENGTH_ELEMENT: Tag = Tag(0x0011, 0x1005);
/// The series role (names its UIDs).
const ROLE: &str = "case file";

/// Removes the temporary snapshot however the conversion ends.
struct TemporaryFile(std::path::PathBuf);

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A consistent snapshot of `file`'s bytes, taken through a temporary file in the system's temporary folder that
/// is removed again.
pub fn snapshot_bytes(file: &CaseFile) -> Result<Vec<u8>, DicomError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = TemporaryFile(std::env::temp_dir().join(format!(
        "heracles-dicom-snapshot-{}-{number}.heracles",
        std::process::id()
    )));
    if temporary.0.exists() {
        std::fs::remove_file(&temporary.0).map_err(ExportError::io(&temporary.0))?;
    }
    file.snapshot(&temporary.0)?;
    Ok(std::fs::read(&temporary.0).map_err(ExportError::io(&temporary.0))?)
}

/// The case file as one object in its own series, and the payload's SHA-256.
pub(crate) fn case_file_instance(
    file: &CaseFile,
    context: &CaseContext<'_>,
) -> Result<(DicomInstance, String), DicomError> {
    let payload = snapshot_bytes(file)?;
    let sha256 = super::sha256_hex(&payload);
    let series = SeriesInfo {
        uid: uids::series_uid(&context.case_id, ROLE),
        number: 20,
        modality: "HD",
        description: "Case file (full rate, heracles)".into(),
        trial_series_id: "CASE-FILE".into(),
    };
    let mut o = base_object(context, &series, SOP_CLASS_UID, 1);
    // Acquisition Context (type 2, empty) and Raw Data.
    put_sequence(&mut o, tags::ACQUISITION_CONTEXT_SEQUENCE, Vec::new());
    put_str(&mut o, tags::CONTENT_DATE, VR::DA, &date(context.start));
    put_str(&mut o, tags::CONTENT_TIME, VR::TM, &time_of_day(context.start));
    put_str(
        &mut o,
        tags::CREATOR_VERSION_UID,
        VR::UI,
        &uids::implementation_uid(),
    );
    put_str(&mut o, CREATOR_ELEMENT, VR::LO, PRIVATE_CREATOR);
    put_str(&mut o, SHA256_ELEMENT, VR::LO, &sha256);
    put_str(
        &mut o,
        NAME_ELEMENT,
        VR::LO,
        &format!("{}.{}", context.case_id, crate::store::EXTENSION),
    );
    put_str(&mut o, MEDIA_TYPE_ELEMENT, VR::LO, "application/vnd.sqlite3");
    put_u32(&mut o, LENGTH_ELEMENT, VR::UL, &[payload.len() as u32]);
    let mut padded = payload;
    if padded.len() % 2 == 1 {
        padded.push(0);
    }
    put_bytes(&mut o, PAYLOAD_ELEMENT, VR::OB, padded);
    let instance = super::finish(o, context, &series, ROLE, 1, &sha256)?;
    Ok((instance, sha256))
}
