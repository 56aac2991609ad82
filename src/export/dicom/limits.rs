//! Our own check of the objects we write against their IODs' limits and required attributes. The usual
//! validator (`dciodvfy`) checks attribute presence and value representations but not the Hemodynamic Waveform
//! IOD's content constraints (PS3.3 A.34.6.4), which archives and viewers rely on: 1 to 4 multiplex groups, 1 to 8
//! channels per group, at most 400 Hz, 16-bit signed samples; nor the trial's own rule that no object carries a
//! patient identifier. [`super::study_of_case`] runs [`check_bytes`] on every object it makes.
//!
//! Checked for every object: the SOP Common, Patient, Clinical Trial Subject, General Study, Clinical Trial
//! Study, series and General Equipment attributes that are type 1 (present, not empty) or type 2 (present); the
//! UIDs' syntax and the file meta information's agreement with the data set; birth date and sex empty and no
//! other patient identifier present. Per SOP class:
//! - Hemodynamic Waveform: modality HD, Waveform Identification, Acquisition Context, the IOD's limits above,
//!   each group's data length equal to channels x samples x 2 bytes, a padding value when padding is used, every
//!   channel with one coded source, bits stored <= 16, sensitivity with its units, correction and baseline,
//!   a skew; every annotation with text, valid channel references and sample positions inside the group.
//! - Encapsulated PDF: modality DOC, conversion type, burned-in annotation flag, MIME type `application/pdf`, a
//!   document that is a PDF, even-length, with its length.
//! - Raw Data (the case file): content date and time, Creator-Version UID, the private creator, the payload and
//!   its SHA-256 agreeing.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};

use super::uids::is_valid_uid;
use super::{casefile, pdf, waveform};

/// One thing wrong with an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The attribute (or the part of the object) concerned, e.g. `WaveformSequence[1].SamplingFrequency`.
    pub attribute: String,
    /// What is wrong, in words.
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.attribute, self.problem)
    }
}

/// Collects violations with the path of the attribute they concern.
struct Checker {
    violations: Vec<Violation>,
}

fn name_of(tag: Tag) -> String {
    use dicom_core::dictionary::DataDictionary;
    dicom_dictionary_std::StandardDataDictionary
        .by_tag(tag)
        .map_or_else(
            || format!("({:04X},{:04X})", tag.group(), tag.element()),
            |entry| entry.alias.to_owned(),
        )
}

fn text(object: &InMemDicomObject, tag: Tag) -> Option<String> {
    object
        .get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
}

impl Checker {
    fn fail(&mut self, attribute: impl Into<String>, problem: impl Into<String>) {
        self.violations.push(Violation {
            attribute: attribute.into(),
            problem: problem.into(),
        });
    }

    /// Type 1: present and not empty.
    fn type1(&mut self, object: &InMemDicomObject, path: &str, tag: Tag) {
        match object.get(tag) {
            None => self.fail(format!("{path}{}", name_of(tag)), "required (type 1) but missing"),
            Some(element) => {
                let empty = match element.items() {
                    Some(items) => items.is_empty(),
                    None => element
                        .to_bytes()
                        .map_or(true, |b| b.iter().all(|&c| c == 0 || c == b' ')),
                };
                if empty {
                    self.fail(format!("{path}{}", name_of(tag)), "required (type 1) but empty");
                }
            }
        }
    }

    /// Type 2: present (may be empty).
    fn type2(&mut self, object: &InMemDicomObject, path: &str, tag: Tag) {
        if object.get(tag).is_none() {
            self.fail(format!("{path}{}", name_of(tag)), "required (type 2) but missing");
        }
    }

    fn uid(&mut self, object: &InMemDicomObject, tag: Tag) {
        if let Some(uid) = text(object, tag)
            && !is_valid_uid(&uid)
        {
            self.fail(name_of(tag), format!("{uid:?} is not a valid UID"));
        }
    }

    fn equals(&mut self, object: &InMemDicomObject, path: &str, tag: Tag, allowed: &[&str]) {
        if let Some(value) = text(object, tag)
            && !allowed.contains(&value.as_str())
        {
            self.fail(
                format!("{path}{}", name_of(tag)),
                format!("is {value:?}; must be {}", allowed.join(" or ")),
            );
        }
    }
}

/// Checks a Part 10 file's bytes; a file that cannot be parsed is one violation.
pub fn check_bytes(bytes: &[u8]) -> Vec<Violation> {
    match dicom_object::from_reader(bytes) {
        Ok(object) => check(&object),
        Err(error) => vec![Violation {
            attribute: "file".into(),
            problem: format!("not a readable DICOM Part 10 file: {error}"),
        }],
    }
}

/// Checks an object (see the module documentation); no violation means it passes.
pub fn check(file: &DefaultDicomObject) -> Vec<Violation> {
    let mut c = Checker {
        violations: Vec::new(),
    };
    let o: &InMemDicomObject = file;
    common(&mut c, file);
    match text(o, tags::SOP_CLASS_UID).as_deref() {
        Some(waveform::SOP_CLASS_UID) => hemodynamic(&mut c, o),
        Some(pdf::SOP_CLASS_UID) => encapsulated_pdf(&mut c, o),
        Some(casefile::SOP_CLASS_UID) => raw_data(&mut c, o),
        other => c.fail(
            "SOPClassUID",
            format!("{other:?} is not a class this program writes"),
        ),
    }
    c.violations
}

fn common(c: &mut Checker, file: &DefaultDicomObject) {
    let o: &InMemDicomObject = file;
    for tag in [
        tags::SOP_CLASS_UID,
        tags::SOP_INSTANCE_UID,
        tags::STUDY_INSTANCE_UID,
        tags::SERIES_INSTANCE_UID,
        tags::MODALITY,
        tags::PATIENT_ID,
        tags::CLINICAL_TRIAL_SPONSOR_NAME,
        tags::CLINICAL_TRIAL_PROTOCOL_ID,
        tags::CLINICAL_TRIAL_SUBJECT_ID,
    ] {
        c.type1(o, "", tag);
    }
    for tag in [
        tags::PATIENT_NAME,
        tags::PATIENT_BIRTH_DATE,
        tags::PATIENT_SEX,
        tags::STUDY_DATE,
        tags::STUDY_TIME,
        tags::REFERRING_PHYSICIAN_NAME,
        tags::STUDY_ID,
        tags::ACCESSION_NUMBER,
        tags::SERIES_NUMBER,
        tags::CLINICAL_TRIAL_PROTOCOL_NAME,
        tags::CLINICAL_TRIAL_SITE_ID,
        tags::CLINICAL_TRIAL_SITE_NAME,
        tags::CLINICAL_TRIAL_TIME_POINT_ID,
        tags::CLINICAL_TRIAL_COORDINATING_CENTER_NAME,
        tags::MANUFACTURER,
    ] {
        c.type2(o, "", tag);
    }
    for tag in [
        tags::SOP_CLASS_UID,
        tags::SOP_INSTANCE_UID,
        tags::STUDY_INSTANCE_UID,
        tags::SERIES_INSTANCE_UID,
    ] {
        c.uid(o, tag);
    }
    let meta = file.meta();
    let trim = |s: &str| s.trim_end_matches(['\0', ' ']).to_owned();
    if text(o, tags::SOP_INSTANCE_UID).as_deref()
        != Some(trim(meta.media_storage_sop_instance_uid()).as_str())
    {
        c.fail("MediaStorageSOPInstanceUID", "differs from the SOP Instance UID");
    }
    if text(o, tags::SOP_CLASS_UID).as_deref() != Some(trim(meta.media_storage_sop_class_uid()).as_str()) {
        c.fail("MediaStorageSOPClassUID", "differs from the SOP Class UID");
    }
    // No patient identifier: the case id stands for the patient; nothing else about the patient is written.
    for tag in [tags::PATIENT_BIRTH_DATE, tags::PATIENT_SEX] {
        if text(o, tag).is_some_and(|v| !v.is_empty()) {
            c.fail(
                name_of(tag),
                "must be empty (no patient identifier is ever written)",
            );
        }
    }
    let patient_id = text(o, tags::PATIENT_ID).unwrap_or_default();
    if text(o, tags::PATIENT_NAME).is_some_and(|name| !name.is_empty() && name != patient_id) {
        c.fail("PatientName", "must be empty or the pseudonymous case id");
    }
    for tag in [
        tags::OTHER_PATIENT_I_DS_SEQUENCE,
        tags::PATIENT_BIRTH_TIME,
        tags::PATIENT_BIRTH_NAME,
        tags::PATIENT_ADDRESS,
        tags::PATIENT_TELEPHONE_NUMBERS,
        tags::PATIENT_MOTHER_BIRTH_NAME,
    ] {
        if o.get(tag).is_some() {
            c.fail(name_of(tag), "a patient identifier must not be written");
        }
    }
}

fn hemodynamic(c: &mut Checker, o: &InMemDicomObject) {
    c.equals(o, "", tags::MODALITY, &["HD"]);
    for tag in [
        tags::INSTANCE_NUMBER,
        tags::CONTENT_DATE,
        tags::CONTENT_TIME,
        tags::ACQUISITION_DATE_TIME,
        tags::WAVEFORM_SEQUENCE,
    ] {
        c.type1(o, "", tag);
    }
    c.type2(o, "", tags::ACQUISITION_CONTEXT_SEQUENCE);
    let groups = o
        .get(tags::WAVEFORM_SEQUENCE)
        .and_then(|e| e.items())
        .unwrap_or(&[]);
    if !(1..=waveform::MAX_GROUPS).contains(&groups.len()) {
        c.fail(
            "WaveformSequence",
            format!(
                "{} multiplex groups; the IOD allows 1 to {}",
                groups.len(),
                waveform::MAX_GROUPS
            ),
        );
    }
    // (channels, samples) per group, for the annotation references.
    let mut shapes = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        let path = format!("WaveformSequence[{}].", index + 1);
        for tag in [
            tags::WAVEFORM_ORIGINALITY,
            tags::NUMBER_OF_WAVEFORM_CHANNELS,
            tags::NUMBER_OF_WAVEFORM_SAMPLES,
            tags::SAMPLING_FREQUENCY,
            tags::CHANNEL_DEFINITION_SEQUENCE,
            tags::WAVEFORM_BITS_ALLOCATED,
            tags::WAVEFORM_SAMPLE_INTERPRETATION,
            tags::WAVEFORM_DATA,
        ] {
            c.type1(group, &path, tag);
        }
        c.equals(group, &path, tags::WAVEFORM_ORIGINALITY, &["ORIGINAL", "DERIVED"]);
        c.equals(group, &path, tags::WAVEFORM_SAMPLE_INTERPRETATION, &["SS"]);
        let int = |tag: Tag| group.get(tag).and_then(|e| e.to_int::<u32>().ok());
        let bits = int(tags::WAVEFORM_BITS_ALLOCATED);
        if bits.is_some_and(|b| b != 16) {
            c.fail(
                format!("{path}WaveformBitsAllocated"),
                format!("is {bits:?}; must be 16"),
            );
        }
        let channels = int(tags::NUMBER_OF_WAVEFORM_CHANNELS).unwrap_or(0) as usize;
        if !(1..=waveform::MAX_CHANNELS_PER_GROUP).contains(&channels) {
            c.fail(
                format!("{path}NumberOfWaveformChannels"),
                format!(
                    "is {channels}; the IOD allows 1 to {}",
                    waveform::MAX_CHANNELS_PER_GROUP
                ),
            );
        }
        let samples = int(tags::NUMBER_OF_WAVEFORM_SAMPLES).unwrap_or(0) as usize;
        let rate = group
            .get(tags::SAMPLING_FREQUENCY)
            .and_then(|e| e.to_float64().ok());
        if !rate.is_some_and(|r| r > 0.0 && r <= 400.0) {
            c.fail(
                format!("{path}SamplingFrequency"),
                format!("is {rate:?} Hz; the IOD allows at most 400 Hz"),
            );
        }
        let definitions = group
            .get(tags::CHANNEL_DEFINITION_SEQUENCE)
            .and_then(|e| e.items())
            .unwrap_or(&[]);
        if definitions.len() != channels {
            c.fail(
                format!("{path}ChannelDefinitionSequence"),
                format!(
                    "{} channel definitions for {channels} channels",
                    definitions.len()
                ),
            );
        }
        for (number, definition) in definitions.iter().enumerate() {
            channel_definition(
                c,
                definition,
                &format!("{path}ChannelDefinitionSequence[{}].", number + 1),
            );
        }
        let data = group
            .get(tags::WAVEFORM_DATA)
            .and_then(|e| e.to_bytes().ok().map(|b| b.into_owned()));
        let data = data.unwrap_or_default();
        if data.len() != channels * samples * 2 {
            c.fail(
                format!("{path}WaveformData"),
                format!(
                    "{} bytes for {channels} channels x {samples} samples x 2 bytes",
                    data.len()
                ),
            );
        }
        let padded = data
            .chunks_exact(2)
            .any(|pair| i16::from_le_bytes([pair[0], pair[1]]) == waveform::PADDING);
        if padded && group.get(tags::WAVEFORM_PADDING_VALUE).is_none() {
            c.fail(
                format!("{path}WaveformPaddingValue"),
                "the data holds the padding value but no Waveform Padding Value says so",
            );
        }
        shapes.push((channels, samples));
    }
    let annotations = o
        .get(tags::WAVEFORM_ANNOTATION_SEQUENCE)
        .and_then(|e| e.items())
        .unwrap_or(&[]);
    for (index, annotation) in annotations.iter().enumerate() {
        let path = format!("WaveformAnnotationSequence[{}].", index + 1);
        if text(annotation, tags::UNFORMATTED_TEXT_VALUE).is_none_or(|t| t.is_empty())
            && annotation.get(tags::CONCEPT_NAME_CODE_SEQUENCE).is_none()
        {
            c.fail(
                format!("{path}UnformattedTextValue"),
                "an annotation without text or code",
            );
        }
        let references: Vec<u32> = annotation
            .get(tags::REFERENCED_WAVEFORM_CHANNELS)
            .and_then(|e| e.to_multi_int::<u32>().ok())
            .unwrap_or_default();
        if references.is_empty() || !references.len().is_multiple_of(2) {
            c.fail(
                format!("{path}ReferencedWaveformChannels"),
                "must be (group, channel) pairs",
            );
        }
        let mut samples_of_groups = Vec::new();
        for pair in references.chunks_exact(2) {
            let (group, channel) = (pair[0] as usize, pair[1] as usize);
            match shapes.get(group.wrapping_sub(1)) {
                Some(&(channels, samples)) if channel <= channels => samples_of_groups.push(samples),
                _ => c.fail(
                    format!("{path}ReferencedWaveformChannels"),
                    format!("group {group} channel {channel} does not exist"),
                ),
            }
        }
        let range = text(annotation, tags::TEMPORAL_RANGE_TYPE).unwrap_or_default();
        let positions: Vec<u32> = annotation
            .get(tags::REFERENCED_SAMPLE_POSITIONS)
            .and_then(|e| e.to_multi_int::<u32>().ok())
            .unwrap_or_default();
        let count_ok = match range.as_str() {
            "POINT" | "BEGIN" | "END" => positions.len() == 1,
            "SEGMENT" => positions.len() == 2 && positions[0] <= positions[1],
            "MULTIPOINT" => !positions.is_empty(),
            "MULTISEGMENT" => !positions.is_empty() && positions.len().is_multiple_of(2),
            _ => false,
        };
        if !count_ok {
            c.fail(
                format!("{path}ReferencedSamplePositions"),
                format!(
                    "{} positions {positions:?} do not make a {range:?} range",
                    positions.len()
                ),
            );
        }
        let within = samples_of_groups.iter().copied().min().unwrap_or(0) as u32;
        if let Some(bad) = positions.iter().find(|&&p| p == 0 || p > within) {
            c.fail(
                format!("{path}ReferencedSamplePositions"),
                format!("position {bad} is outside samples 1..={within}"),
            );
        }
    }
}

fn channel_definition(c: &mut Checker, d: &InMemDicomObject, path: &str) {
    c.type1(d, path, tags::CHANNEL_SOURCE_SEQUENCE);
    c.type1(d, path, tags::WAVEFORM_BITS_STORED);
    let sources = d
        .get(tags::CHANNEL_SOURCE_SEQUENCE)
        .and_then(|e| e.items())
        .unwrap_or(&[]);
    if sources.len() != 1 {
        c.fail(
            format!("{path}ChannelSourceSequence"),
            format!("{} items; must be one", sources.len()),
        );
    }
    for source in sources {
        for tag in [
            tags::CODE_VALUE,
            tags::CODING_SCHEME_DESIGNATOR,
            tags::CODE_MEANING,
        ] {
            c.type1(source, &format!("{path}ChannelSourceSequence."), tag);
        }
    }
    let bits = d
        .get(tags::WAVEFORM_BITS_STORED)
        .and_then(|e| e.to_int::<u32>().ok());
    if bits.is_some_and(|b| b > 16) {
        c.fail(
            format!("{path}WaveformBitsStored"),
            format!("is {bits:?}; at most the 16 allocated"),
        );
    }
    if d.get(tags::CHANNEL_SENSITIVITY).is_some() {
        for tag in [
            tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE,
            tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR,
            tags::CHANNEL_BASELINE,
        ] {
            c.type1(d, path, tag);
        }
        let units = d
            .get(tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE)
            .and_then(|e| e.items())
            .unwrap_or(&[]);
        if units.len() != 1 {
            c.fail(
                format!("{path}ChannelSensitivityUnitsSequence"),
                "must hold one unit",
            );
        }
        for unit in units {
            c.equals(
                unit,
                &format!("{path}ChannelSensitivityUnitsSequence."),
                tags::CODING_SCHEME_DESIGNATOR,
                &["UCUM"],
            );
        }
    }
    if d.get(tags::CHANNEL_SAMPLE_SKEW).is_none() && d.get(tags::CHANNEL_TIME_SKEW).is_none() {
        c.fail(
            format!("{path}ChannelSampleSkew"),
            "one of Channel Sample Skew or Channel Time Skew is required",
        );
    }
}

fn encapsulated_pdf(c: &mut Checker, o: &InMemDicomObject) {
    c.equals(o, "", tags::MODALITY, &["DOC"]);
    for tag in [
        tags::INSTANCE_NUMBER,
        tags::CONVERSION_TYPE,
        tags::BURNED_IN_ANNOTATION,
        tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
        tags::ENCAPSULATED_DOCUMENT,
    ] {
        c.type1(o, "", tag);
    }
    for tag in [
        tags::CONTENT_DATE,
        tags::CONTENT_TIME,
        tags::ACQUISITION_DATE_TIME,
        tags::DOCUMENT_TITLE,
        tags::CONCEPT_NAME_CODE_SEQUENCE,
    ] {
        c.type2(o, "", tag);
    }
    c.equals(
        o,
        "",
        tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
        &["application/pdf"],
    );
    let document = o
        .get(tags::ENCAPSULATED_DOCUMENT)
        .and_then(|e| e.to_bytes().ok().map(|b| b.into_owned()))
        .unwrap_or_default();
    if !document.starts_with(b"%PDF-") {
        c.fail("EncapsulatedDocument", "is not a PDF");
    }
    if document.len() % 2 != 0 {
        c.fail("EncapsulatedDocument", "has an odd length");
    }
    let length = o
        .get(tags::ENCAPSULATED_DOCUMENT_LENGTH)
        .and_then(|e| e.to_int::<u64>().ok());
    if !length.is_some_and(|n| n as usize == document.len() || n as usize + 1 == document.len()) {
        c.fail(
            "EncapsulatedDocumentLength",
            format!(
                "{length:?} does not match the document's {} bytes",
                document.len()
            ),
        );
    }
}

fn raw_data(c: &mut Checker, o: &InMemDicomObject) {
    for tag in [tags::CONTENT_DATE, tags::CONTENT_TIME, tags::CREATOR_VERSION_UID] {
        c.type1(o, "", tag);
    }
    c.type2(o, "", tags::ACQUISITION_CONTEXT_SEQUENCE);
    c.type2(o, "", tags::INSTANCE_NUMBER);
    c.uid(o, tags::CREATOR_VERSION_UID);
    if text(o, casefile::CREATOR_ELEMENT).as_deref() != Some(casefile::PRIVATE_CREATOR) {
        c.fail(
            "(0011,0010)",
            format!("the private creator must be {:?}", casefile::PRIVATE_CREATOR),
        );
    }
    let payload = o
        .get(casefile::PAYLOAD_ELEMENT)
        .and_then(|e| e.to_bytes().ok().map(|b| b.into_owned()))
        .unwrap_or_default();
    let length = o
        .get(casefile::LENGTH_ELEMENT)
        .and_then(|e| e.to_int::<u64>().ok())
        .map_or(payload.len(), |n| n as usize);
    if payload.is_empty() || length > payload.len() || payload.len() > length + 1 {
        c.fail(
            "(0011,1001)",
            format!(
                "the case file payload ({} bytes, length {length}) is missing or cut",
                payload.len()
            ),
        );
        return;
    }
    let sha256 = text(o, casefile::SHA256_ELEMENT).unwrap_or_default();
    if super::sha256_hex(&payload[..length]) != sha256 {
        c.fail("(0011,1002)", "the SHA-256 does not match the case file payload");
    }
}
