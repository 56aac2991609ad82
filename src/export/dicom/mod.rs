//! A recorded case as a DICOM study, for the trial's core-lab archive (issue #17 item 1).
//!
//! [`study_of_case`] turns one case file into one study (one Study Instance UID per case) of:
//! - **Hemodynamic Waveform Storage** instances (modality HD, [`waveform`]): every channel low-passed and
//!   decimated to 250 Hz, 16-bit signed samples scaled by Channel Sensitivity in UCUM units, channel sources from
//!   CID 3003, markers, protocol steps, annotations and gaps as Waveform Annotations; one series per trial time
//!   point (baseline / post-unloading, or the whole case when the protocol's steps were not recorded), each cut
//!   into instances of at most [`waveform::MAX_INSTANCE_S`];
//! - the case report as **Encapsulated PDF Storage** ([`pdf`]), when the case has analysed windows;
//! - the full-rate case file itself as **Raw Data Storage** ([`casefile`]): a consistent snapshot of the SQLite
//!   file in a private element under the private creator `HERACLES 1`, with its SHA-256 beside it.
//!
//! Every object carries the Patient module with the pseudonymous case id as Patient ID and Patient's Name and
//! empty birth date and sex (no other identifier exists in a case file), and the Clinical Trial Subject, Study
//! and Series modules ([`TrialContext`]). Every free-text value that goes into the study is screened with the
//! store's identifier checks (as [`super::export_case`] does) and the study is refused naming the field; a case
//! file that fails `verify` is refused. Every object is checked against the IOD's limits by [`limits`] before it
//! is returned.
//!
//! Determinism: nothing here reads the clock. UIDs are derived from the case ([`uids`]); dates and times are the
//! case's own (the recording's start from its source rows, offsets on its time axis), so the same case file gives
//! the same bytes, and a re-upload the same objects. An instance whose content changes (the report after a
//! re-analysis, the case file after an edit) gets a new SOP Instance UID in the same series; an archive that held
//! the earlier version keeps it too, so an uploader confirms a study by the SOP Instance UIDs it sent (and the
//! case file's SHA-256), not by counting the series' instances.

pub mod casefile;
mod elements;
pub mod limits;
pub mod pdf;
pub mod uids;
pub mod waveform;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use dicom_object::InMemDicomObject;

use super::ExportError;
use crate::review::analysis::ReviewError;
use crate::store::StoreError;

/// The trial, as the Clinical Trial modules name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialContext {
    /// Clinical Trial Sponsor Name (0012,0010).
    pub sponsor_name: String,
    /// Clinical Trial Protocol ID (0012,0020), e.g. `HERACLES`.
    pub protocol_id: String,
    /// Clinical Trial Protocol Name (0012,0021).
    pub protocol_name: String,
    /// The IRAS project id, written as an Other Clinical Trial Protocol ID (0012,0023) issued by `IRAS`.
    pub iras_id: String,
    /// Clinical Trial Coordinating Center Name (0012,0060); empty when not known.
    pub coordinating_centre_name: String,
}

impl TrialContext {
    /// The HERACLES trial: protocol `HERACLES`, IRAS 300145. The sponsor's legal name is not recorded anywhere in
    /// the project yet, so the sponsor is named as the trial.
    pub fn heracles() -> TrialContext {
        TrialContext {
            sponsor_name: "HERACLES trial".into(),
            protocol_id: "HERACLES".into(),
            protocol_name: "HERACLES (IRAS 300145): LV unloading on VA-ECMO".into(),
            iras_id: "300145".into(),
            coordinating_centre_name: String::new(),
        }
    }
}

/// A case as a DICOM study: what an uploader sends.
#[derive(Clone, Debug, PartialEq)]
pub struct DicomStudy {
    /// The study's UID (derived from the case id).
    pub study_instance_uid: String,
    /// Every object of the study: the waveforms in time order, then the report (if any), then the case file.
    pub instances: Vec<DicomInstance>,
    /// The SHA-256 (lower-case hex) of the case-file snapshot carried in the study; the archive holds it in the
    /// Raw Data instance's private element too ([`casefile::SHA256_ELEMENT`]), so an uploader can confirm it.
    pub case_sha256_hex: String,
}

/// One object of a [`DicomStudy`].
#[derive(Clone, Debug, PartialEq)]
pub struct DicomInstance {
    /// SOP Class UID, e.g. Hemodynamic Waveform Storage.
    pub sop_class_uid: String,
    /// SOP Instance UID (derived from the case, the role, the index and the content).
    pub sop_instance_uid: String,
    /// Series Instance UID.
    pub series_instance_uid: String,
    /// The object as a DICOM Part 10 file (preamble, `DICM`, file meta information, data set in explicit VR
    /// little endian).
    pub bytes: Vec<u8>,
}

impl DicomInstance {
    /// A short name of the object's kind for file names: `waveform`, `report`, `casefile` or `object`.
    pub fn kind(&self) -> &'static str {
        match self.sop_class_uid.as_str() {
            waveform::SOP_CLASS_UID => "waveform",
            pdf::SOP_CLASS_UID => "report",
            casefile::SOP_CLASS_UID => "casefile",
            _ => "object",
        }
    }
}

/// Why a study could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DicomError {
    /// Refused or failed as an export would be: a case that fails `verify`, a free-text field that looks like an
    /// identifier (naming the field), a file that cannot be written.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The case file could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored results could not be read.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// A channel cannot be put into a Hemodynamic Waveform object.
    #[error("channel {channel:?}: {reason}")]
    Channel {
        /// The channel's name.
        channel: String,
        /// Why not.
        reason: String,
    },
    /// The object could not be encoded (a fault of this program, not of the case).
    #[error("the {what} object could not be encoded: {detail}")]
    Encode {
        /// Which object.
        what: String,
        /// The encoder's message.
        detail: String,
    },
    /// A written object breaks its IOD's limits (a fault of this program, caught before anything leaves).
    #[error("the {what} object breaks its IOD: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Limits {
        /// Which object.
        what: String,
        /// What is wrong.
        violations: Vec<limits::Violation>,
    },
}

/// What every object of a case's study shares: the case, the trial, the study and the recording's start.
pub(crate) struct CaseContext<'a> {
    /// Pseudonymous case id.
    pub case_id: String,
    /// Site code from the case id, e.g. `STH`.
    pub site_code: String,
    /// The site's name.
    pub site_name: String,
    /// The study's UID.
    pub study_uid: String,
    /// When sample 0 of the recording was taken (the case's creation when nothing was recorded).
    pub start: DateTime<Utc>,
    /// Where the recording came from (a demo or imported case says so in its study description).
    pub origin: crate::model::CaseOrigin,
    /// The trial.
    pub trial: &'a TrialContext,
}

/// One series of the study.
pub(crate) struct SeriesInfo {
    /// Series Instance UID.
    pub uid: String,
    /// Series Number.
    pub number: u32,
    /// Modality.
    pub modality: &'static str,
    /// Series Description, also the Clinical Trial Series Description.
    pub description: String,
    /// Clinical Trial Series ID: the trial time point the series covers (`BASELINE`, `POST-UNLOADING`, `CASE`)
    /// or the kind of object (`REPORT`, `CASE-FILE`).
    pub trial_series_id: String,
}

/// Converts the case file at `case_path` into its DICOM study (see the module documentation). Nothing is
/// written to disk except a temporary snapshot of the case file, removed before returning.
pub fn study_of_case(case_path: &Path, trial: &TrialContext) -> Result<DicomStudy, DicomError> {
    let file = super::open_verified(case_path)?;
    let mut snapshot = crate::review::session::snapshot_of(&file, None)?;
    let staff = super::policy::Staff::of(&snapshot);
    super::policy::deidentify(&mut snapshot);
    let summary = &snapshot.summary;
    let site = crate::model::Site::from_code(&summary.site);
    let start = match file.recording_start_utc()? {
        Some(start) => start,
        None => DateTime::parse_from_rfc3339(&summary.created_utc)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|error| {
                StoreError::Invalid(format!("the case's creation time cannot be read: {error}"))
            })?,
    };
    let context = CaseContext {
        case_id: summary.case_id.clone(),
        site_code: summary.site.clone(),
        site_name: site.map_or_else(|| summary.site.clone(), |s| s.label().to_owned()),
        study_uid: uids::study_uid(&summary.case_id),
        start,
        origin: summary.origin,
        trial,
    };
    let mut waveforms = waveform::plan(&file)?;
    waveforms.scrub_names(&staff);
    let flagged = crate::review::endpoints::measurement_context_text(&snapshot.endpoints)
        .is_some_and(|(_, flagged)| flagged);
    waveforms.describe_vessel(
        crate::review::endpoints::measured_vessel(&snapshot.endpoints).as_deref(),
        !flagged,
    );
    // Every free text the study carries, screened before anything is built.
    let mut fields = super::exported_text(&file, &snapshot, super::ExportWhat::ALL)?;
    fields.extend(waveforms.screened_text());
    fields.extend([
        ("sponsor name".to_owned(), trial.sponsor_name.clone()),
        ("protocol id".to_owned(), trial.protocol_id.clone()),
        ("protocol name".to_owned(), trial.protocol_name.clone()),
        (
            "coordinating centre name".to_owned(),
            trial.coordinating_centre_name.clone(),
        ),
        ("site name".to_owned(), context.site_name.clone()),
    ]);
    super::screen(&fields)?;

    let mut instances = waveforms.instances(&file, &context)?;
    if !snapshot.analysis.reports.is_empty() {
        instances.push(pdf::report_instance(&file, &snapshot, &context)?);
    }
    let (case_instance, case_sha256_hex) = casefile::case_file_instance(&file, &context)?;
    instances.push(case_instance);
    Ok(DicomStudy {
        study_instance_uid: context.study_uid.clone(),
        instances,
        case_sha256_hex,
    })
}

/// Writes every instance of `study` into `dir` (created if missing) as `NNN-<kind>.dcm` in study order, refusing
/// to replace an existing file; returns the files written.
pub fn write_study(study: &DicomStudy, dir: &Path) -> Result<Vec<PathBuf>, DicomError> {
    std::fs::create_dir_all(dir).map_err(ExportError::io(dir))?;
    let mut written = Vec::with_capacity(study.instances.len());
    for (index, instance) in study.instances.iter().enumerate() {
        let path = dir.join(format!("{:03}-{}.dcm", index + 1, instance.kind()));
        super::write_new(&path, &instance.bytes)?;
        written.push(path);
    }
    super::sync_dir(dir)?;
    Ok(written)
}

/// Finishes an object: its SOP Instance UID from the case, `role`, `index` and `content_sha256`, the file meta
/// information, the Part 10 bytes, and the IOD check of those bytes.
pub(crate) fn finish(
    mut object: InMemDicomObject,
    context: &CaseContext<'_>,
    series: &SeriesInfo,
    role: &str,
    index: usize,
    content_sha256: &str,
) -> Result<DicomInstance, DicomError> {
    let what = format!("{role} {index}");
    let sop_class_uid = object
        .get(dicom_dictionary_std::tags::SOP_CLASS_UID)
        .and_then(|e| e.value().to_str().ok())
        .map(|uid| uid.trim_end_matches('\0').to_owned())
        .unwrap_or_default();
    let sop_instance_uid = uids::instance_uid(&context.case_id, role, index, content_sha256);
    elements::put_str(
        &mut object,
        dicom_dictionary_std::tags::SOP_INSTANCE_UID,
        dicom_core::VR::UI,
        &sop_instance_uid,
    );
    let bytes = elements::part10_bytes(object).map_err(|detail| DicomError::Encode {
        what: what.clone(),
        detail,
    })?;
    let violations = limits::check_bytes(&bytes);
    if !violations.is_empty() {
        return Err(DicomError::Limits { what, violations });
    }
    Ok(DicomInstance {
        sop_class_uid,
        sop_instance_uid,
        series_instance_uid: series.uid.clone(),
        bytes,
    })
}

/// The hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
