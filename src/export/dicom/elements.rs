//! Building blocks shared by the study's objects: typed element setters, the modules every object carries
//! (SOP Common, Patient, Clinical Trial Subject, General Study, Clinical Trial Study, the series' identity,
//! Clinical Trial Series, General Equipment), DICOM date/time text, and the Part 10 encoding.

use chrono::{DateTime, Utc};
use dicom_core::value::{DataSetSequence, PrimitiveValue, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::{CaseContext, SeriesInfo, uids};

/// Explicit VR Little Endian: every object is written in it (private elements keep their VR).
pub(crate) const TRANSFER_SYNTAX_UID: &str = "1.2.840.10008.1.2.1";

/// Sets a text (or UID, or number-as-text) element.
pub(crate) fn put_str(object: &mut InMemDicomObject, tag: Tag, vr: VR, value: &str) {
    object.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
}

/// Sets a type 2 element present but empty.
pub(crate) fn put_empty(object: &mut InMemDicomObject, tag: Tag, vr: VR) {
    object.put(DataElement::new(tag, vr, PrimitiveValue::Empty));
}

/// Sets a sequence.
pub(crate) fn put_sequence(object: &mut InMemDicomObject, tag: Tag, items: Vec<InMemDicomObject>) {
    object.put(DataElement::new(
        tag,
        VR::SQ,
        Value::from(DataSetSequence::from(items)),
    ));
}

/// Sets an element of unsigned 16-bit values.
pub(crate) fn put_u16(object: &mut InMemDicomObject, tag: Tag, values: &[u16]) {
    object.put(DataElement::new(
        tag,
        VR::US,
        PrimitiveValue::U16(values.iter().copied().collect()),
    ));
}

/// Sets an element of unsigned 32-bit values.
pub(crate) fn put_u32(object: &mut InMemDicomObject, tag: Tag, vr: VR, values: &[u32]) {
    object.put(DataElement::new(
        tag,
        vr,
        PrimitiveValue::U32(values.iter().copied().collect()),
    ));
}

/// Sets an element of bytes (OB, or OW given as little-endian bytes).
pub(crate) fn put_bytes(object: &mut InMemDicomObject, tag: Tag, vr: VR, bytes: Vec<u8>) {
    object.put(DataElement::new(tag, vr, PrimitiveValue::U8(bytes.into())));
}

/// A code sequence item: Code Value, Coding Scheme Designator, Code Meaning.
pub(crate) fn code_item(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    let mut item = InMemDicomObject::new_empty();
    put_str(&mut item, tags::CODE_VALUE, VR::SH, value);
    put_str(&mut item, tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme);
    put_str(&mut item, tags::CODE_MEANING, VR::LO, meaning);
    item
}

/// DICOM date (DA), UTC.
pub(crate) fn date(time: DateTime<Utc>) -> String {
    time.format("%Y%m%d").to_string()
}

/// DICOM time (TM) to the millisecond, UTC.
pub(crate) fn time_of_day(time: DateTime<Utc>) -> String {
    time.format("%H%M%S%.3f").to_string()
}

/// DICOM date-time (DT) to the millisecond with its UTC offset.
pub(crate) fn date_time(time: DateTime<Utc>) -> String {
    time.format("%Y%m%d%H%M%S%.3f+0000").to_string()
}

/// A new object with the modules every object of the study shares, for `series` and SOP class `sop_class_uid`.
/// The SOP Instance UID is set last, by [`super::finish`].
pub(crate) fn base_object(
    context: &CaseContext<'_>,
    series: &SeriesInfo,
    sop_class_uid: &str,
    instance_number: u32,
) -> InMemDicomObject {
    let mut o = InMemDicomObject::new_empty();
    // SOP Common. Text is UTF-8 (free text may hold any character); times are UTC.
    put_str(&mut o, tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    put_str(&mut o, tags::SOP_CLASS_UID, VR::UI, sop_class_uid);
    put_str(&mut o, tags::TIMEZONE_OFFSET_FROM_UTC, VR::SH, "+0000");
    put_str(
        &mut o,
        tags::INSTANCE_NUMBER,
        VR::IS,
        &instance_number.to_string(),
    );
    // Patient: the pseudonymous case id; no birth date or sex is ever recorded (type 2, empty).
    put_str(&mut o, tags::PATIENT_NAME, VR::PN, &context.case_id);
    put_str(&mut o, tags::PATIENT_ID, VR::LO, &context.case_id);
    put_empty(&mut o, tags::PATIENT_BIRTH_DATE, VR::DA);
    put_empty(&mut o, tags::PATIENT_SEX, VR::CS);
    put_str(&mut o, tags::PATIENT_IDENTITY_REMOVED, VR::CS, "YES");
    // The export policy (`export::policy`), one value per rule (a value holds at most 64 characters).
    put_str(
        &mut o,
        tags::DEIDENTIFICATION_METHOD,
        VR::LO,
        "Pseudonymous trial case id; no identifier recorded\\Dates and times in UTC, as recorded\\Staff by role and \
         number in the case, never by name",
    );
    // Clinical Trial Subject.
    let trial = context.trial;
    put_str(
        &mut o,
        tags::CLINICAL_TRIAL_SPONSOR_NAME,
        VR::LO,
        &trial.sponsor_name,
    );
    put_str(
        &mut o,
        tags::CLINICAL_TRIAL_PROTOCOL_ID,
        VR::LO,
        &trial.protocol_id,
    );
    let mut iras = InMemDicomObject::new_empty();
    put_str(
        &mut iras,
        tags::CLINICAL_TRIAL_PROTOCOL_ID,
        VR::LO,
        &trial.iras_id,
    );
    put_str(
        &mut iras,
        tags::ISSUER_OF_CLINICAL_TRIAL_PROTOCOL_ID,
        VR::LO,
        "IRAS",
    );
    put_sequence(
        &mut o,
        tags::OTHER_CLINICAL_TRIAL_PROTOCOL_I_DS_SEQUENCE,
        vec![iras],
    );
    put_str(
        &mut o,
        tags::CLINICAL_TRIAL_PROTOCOL_NAME,
        VR::LO,
        &trial.protocol_name,
    );
    put_str(&mut o, tags::CLINICAL_TRIAL_SITE_ID, VR::LO, &context.site_code);
    put_str(&mut o, tags::CLINICAL_TRIAL_SITE_NAME, VR::LO, &context.site_name);
    put_str(&mut o, tags::CLINICAL_TRIAL_SUBJECT_ID, VR::LO, &context.case_id);
    // General Study: dated by the recording's start; no referring physician or accession number.
    put_str(&mut o, tags::STUDY_INSTANCE_UID, VR::UI, &context.study_uid);
    put_str(&mut o, tags::STUDY_DATE, VR::DA, &date(context.start));
    put_str(&mut o, tags::STUDY_TIME, VR::TM, &time_of_day(context.start));
    put_empty(&mut o, tags::REFERRING_PHYSICIAN_NAME, VR::PN);
    put_str(&mut o, tags::STUDY_ID, VR::SH, &context.case_id);
    put_empty(&mut o, tags::ACCESSION_NUMBER, VR::SH);
    put_str(
        &mut o,
        tags::STUDY_DESCRIPTION,
        VR::LO,
        &match context.origin {
            crate::model::CaseOrigin::Recorded => format!("{} catheterisation case", trial.protocol_id),
            crate::model::CaseOrigin::Simulated => {
                format!("{} DEMO case: simulated patient", trial.protocol_id)
            }
            crate::model::CaseOrigin::Imported => format!("{} case IMPORTED from a file", trial.protocol_id),
        },
    );
    // Clinical Trial Study: the case is one visit of the trial, the catheterisation.
    put_str(&mut o, tags::CLINICAL_TRIAL_TIME_POINT_ID, VR::LO, "CATH");
    put_str(
        &mut o,
        tags::CLINICAL_TRIAL_TIME_POINT_DESCRIPTION,
        VR::ST,
        "Catheterisation: baseline and post-unloading measurements",
    );
    // The series (General Series or Encapsulated Document Series) and Clinical Trial Series; a series' time
    // point (baseline / post-unloading) is its Clinical Trial Series ID, since the time point proper is per study.
    put_str(&mut o, tags::MODALITY, VR::CS, series.modality);
    put_str(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, &series.uid);
    put_str(&mut o, tags::SERIES_NUMBER, VR::IS, &series.number.to_string());
    put_str(&mut o, tags::SERIES_DESCRIPTION, VR::LO, &series.description);
    if series.modality != "DOC" {
        // General Series: the heart, an unpaired body part (so no Laterality).
        put_str(&mut o, tags::BODY_PART_EXAMINED, VR::CS, "HEART");
    }
    if trial.coordinating_centre_name.is_empty() {
        put_empty(&mut o, tags::CLINICAL_TRIAL_COORDINATING_CENTER_NAME, VR::LO);
    } else {
        put_str(
            &mut o,
            tags::CLINICAL_TRIAL_COORDINATING_CENTER_NAME,
            VR::LO,
            &trial.coordinating_centre_name,
        );
    }
    put_str(
        &mut o,
        tags::CLINICAL_TRIAL_SERIES_ID,
        VR::LO,
        &series.trial_series_id,
    );
    put_str(
        &mut o,
        tags::CLINICAL_TRIAL_SERIES_DESCRIPTION,
        VR::LO,
        &series.description,
    );
    // General Equipment: this program.
    put_str(&mut o, tags::MANUFACTURER, VR::LO, "HERACLES trial");
    put_str(&mut o, tags::MANUFACTURER_MODEL_NAME, VR::LO, "heracles");
    put_str(
        &mut o,
        tags::SOFTWARE_VERSIONS,
        VR::LO,
        crate::model::about::VERSION,
    );
    o
}

/// The object as a Part 10 file: preamble, `DICM`, file meta information (explicit VR little endian), data set.
pub(crate) fn part10_bytes(object: InMemDicomObject) -> Result<Vec<u8>, String> {
    let version_name: String = format!("HERACLES_{}", crate::model::about::VERSION)
        .chars()
        .take(16)
        .collect();
    let file = object
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(TRANSFER_SYNTAX_UID)
                .implementation_class_uid(uids::implementation_uid())
                .implementation_version_name(version_name),
        )
        .map_err(|error| error.to_string())?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).map_err(|error| error.to_string())?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_dicom_text_in_utc() {
        let time = DateTime::parse_from_rfc3339("2026-12-07T03:04:05.678Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date(time), "20261207");
        assert_eq!(time_of_day(time), "030405.678");
        assert_eq!(date_time(time), "20261207030405.678+0000");
    }
}
