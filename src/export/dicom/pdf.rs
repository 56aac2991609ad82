//! The case report (the same PDF as the export bundle's, [`crate::export::report`]) as Encapsulated PDF Storage
//! (PS3.3 A.45.1): Encapsulated Document Series (modality DOC), SC Equipment (conversion type WSD, a
//! workstation), Encapsulated Document (MIME type `application/pdf`, no burned-in identifying annotation: the
//! report names the case by its pseudonymous id only).

use dicom_core::VR;
use dicom_dictionary_std::tags;

use super::elements::{base_object, put_bytes, put_empty, put_sequence, put_str, put_u32};
use super::{CaseContext, DicomError, DicomInstance, SeriesInfo, uids};
use crate::review::session::Snapshot;
use crate::store::CaseFile;

/// Encapsulated PDF Storage.
pub const SOP_CLASS_UID: &str = "1.2.840.10008.5.1.4.1.1.104.1";
/// The report's series role (names its UIDs).
const ROLE: &str = "report";

/// The report of the case as one object in its own series.
pub(crate) fn report_instance(
    file: &CaseFile,
    snapshot: &Snapshot,
    context: &CaseContext<'_>,
) -> Result<DicomInstance, DicomError> {
    let digest = crate::review::sign_off::results_digest(file)?;
    let waves = crate::review::waveforms::waveforms(file, &snapshot.analysis)?;
    let pages = crate::export::report::case_report(snapshot, &waves, &digest);
    let document = crate::export::pdf::document_pdf(&pages);
    let series = SeriesInfo {
        uid: uids::series_uid(&context.case_id, ROLE),
        number: 10,
        modality: "DOC",
        description: "Case report".into(),
        trial_series_id: "REPORT".into(),
    };
    let mut o = base_object(context, &series, SOP_CLASS_UID, 1);
    // SC Equipment.
    put_str(&mut o, tags::CONVERSION_TYPE, VR::CS, "WSD");
    // Encapsulated Document: the content is dated by the recording (type 2 values kept deterministic).
    put_empty(&mut o, tags::CONTENT_DATE, VR::DA);
    put_empty(&mut o, tags::CONTENT_TIME, VR::TM);
    put_empty(&mut o, tags::ACQUISITION_DATE_TIME, VR::DT);
    put_str(&mut o, tags::BURNED_IN_ANNOTATION, VR::CS, "NO");
    put_str(
        &mut o,
        tags::DOCUMENT_TITLE,
        VR::ST,
        &format!("{} case report {}", context.trial.protocol_id, context.case_id),
    );
    put_sequence(&mut o, tags::CONCEPT_NAME_CODE_SEQUENCE, Vec::new());
    put_str(
        &mut o,
        tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
        VR::LO,
        "application/pdf",
    );
    put_u32(
        &mut o,
        tags::ENCAPSULATED_DOCUMENT_LENGTH,
        VR::UL,
        &[document.len() as u32],
    );
    let content_sha256 = super::sha256_hex(&document);
    let mut padded = document;
    if padded.len() % 2 == 1 {
        padded.push(0);
    }
    put_bytes(&mut o, tags::ENCAPSULATED_DOCUMENT, VR::OB, padded);
    super::finish(o, context, &series, ROLE, 1, &content_sha256)
}
