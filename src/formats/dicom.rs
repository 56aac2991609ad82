//! DICOM waveform objects (Hemodynamic Waveform, 12-lead / general / ambulatory ECG), so a recording a
//! cath-lab system exported to its archive can be imported and reviewed like any other file.
//!
//! What is read, and nothing else: the Waveform Sequence (5400,0100) of each object, one item per multiplex group
//! (channels, samples, sampling frequency, 8/16/32-bit signed or unsigned interleaved samples, the padding value),
//! each channel's definition (source code and label -> the app's channel role, Channel Sensitivity with its UCUM
//! units, correction factor and baseline: value = raw x sensitivity x correction + baseline, as pydicom's
//! `multiplex_array` computes it), the Waveform Annotation Sequence (-> markers), and the time of each object
//! (Acquisition DateTime, else Content Date/Time; Multiplex Group Time Offset). Patient, study and institution
//! attributes are never read.
//!
//! Several objects of one study (a long recording split into consecutive instances, one series per protocol
//! state) are joined in time: ordered by acquisition time (instance number where times are missing or equal),
//! each group placed at its own time, so the recorder sees contiguous samples or a gap where the instances do not
//! meet. Objects of different studies, or objects that overlap in time, are refused: which one to keep is the
//! user's choice. Groups with different rates
//! keep their own rates (the importer makes one source per rate). A run of samples where every channel of a
//! group holds the padding value splits the segment (the importer records it as a gap); a padded sample in one
//! channel alone is a missing sample (`NaN`).
//!
//! Old cath-lab systems write objects that break their IOD's limits (more than 8 channels or 4 groups, rates above
//! 400 Hz, no units): those import with a warning each (an ECG lead among a hemodynamic object's pressures is
//! not one: the IOD's channel-source context group is extensible, and heracles writes it so too)
//! ([`DicomImport::warnings`]); only what cannot be read at all (not DICOM, no waveform, truncated sample data,
//! an unknown sample encoding) is a [`FormatError`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use dicom_core::Tag;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::{tags, uids};
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};

use super::FormatError;
use crate::model::{Marker, Recording, Segment, SignalKind, TimeSeries};

/// A DICOM import: the recording and what did not conform.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DicomImport {
    /// The waveforms and annotations.
    pub recording: Recording,
    /// One sentence per departure from the standard the import worked around (never a patient attribute).
    pub warnings: Vec<String>,
}

/// Whether the start of a file looks like a DICOM Part 10 file (`DICM` after the 128-byte preamble).
pub fn looks_like(head: &[u8]) -> bool {
    head.get(128..132) == Some(b"DICM".as_slice()) || head.get(..4) == Some(b"DICM".as_slice())
}

/// Reads one DICOM waveform file, or every DICOM file of a folder (the instances of one study), dropping the
/// warnings (see [`read_with_warnings`]).
pub fn read(path: &Path) -> Result<Recording, FormatError> {
    read_with_warnings(path).map(|import| import.recording)
}

/// Reads one DICOM waveform file, or every DICOM file directly inside a folder (the instances of one study).
pub fn read_with_warnings(path: &Path) -> Result<DicomImport, FormatError> {
    let files = if path.is_dir() {
        dicom_files_in(path)?
    } else {
        vec![path.to_owned()]
    };
    let mut objects = Vec::with_capacity(files.len());
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| FormatError::io(file, e))?;
        objects.push((file.clone(), bytes));
    }
    parse_many(&objects)
}

/// The DICOM files (by their `DICM` prefix) directly inside `dir`, in name order.
fn dicom_files_in(dir: &Path) -> Result<Vec<PathBuf>, FormatError> {
    let entries = std::fs::read_dir(dir).map_err(|e| FormatError::io(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| FormatError::io(dir, e))?.path();
        if path.is_file() && super::read_head(&path, 132).is_ok_and(|head| looks_like(&head)) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(FormatError::Data {
            path: dir.to_owned(),
            message: "the folder holds no DICOM file".into(),
        });
    }
    Ok(files)
}

/// Parses the bytes of DICOM files (each named by its path in errors) as the instances of one study.
pub fn parse_many(files: &[(PathBuf, Vec<u8>)]) -> Result<DicomImport, FormatError> {
    let mut warnings = Vec::new();
    let mut instances = Vec::with_capacity(files.len());
    let mut seen_uids = HashSet::new();
    for (path, bytes) in files {
        let object = open(bytes, path)?;
        if files.len() > 1 && items(&object, tags::WAVEFORM_SEQUENCE).is_empty() {
            // A study folder also holds reports, images, the case file: not waveforms, not an error.
            warnings.push(format!("{}: not a waveform object; skipped", display_name(path)));
            continue;
        }
        let instance = read_instance(&object, path, &mut warnings)?;
        if let Some(uid) = &instance.sop_instance_uid
            && !seen_uids.insert(uid.clone())
        {
            warnings.push(format!(
                "{}: the same instance as an earlier file; skipped",
                display_name(path)
            ));
            continue;
        }
        instances.push(instance);
    }
    let first_path = files.first().map(|f| f.0.clone()).unwrap_or_default();
    if instances.is_empty() {
        return Err(FormatError::Unsupported {
            path: first_path,
            message: "none of the files holds a waveform".into(),
        });
    }
    let studies: HashSet<&str> = instances.iter().filter_map(|i| i.study_uid.as_deref()).collect();
    if studies.len() > 1 {
        return Err(FormatError::Unsupported {
            path: first_path,
            message: format!(
                "the files belong to {} different studies; import one study at a time",
                studies.len()
            ),
        });
    }
    let recording = assemble(instances, &mut warnings).map_err(|message| FormatError::Unsupported {
        path: first_path,
        message,
    })?;
    Ok(DicomImport { recording, warnings })
}

/// Parses the bytes of one DICOM file (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<DicomImport, FormatError> {
    parse_many(&[(path.to_owned(), bytes.to_vec())])
}

/// The file's name for warnings (never its folder, which may name a patient).
fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "the file".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// Opens a DICOM Part 10 stream, with or without the 128-byte preamble.
fn open(bytes: &[u8], path: &Path) -> Result<InMemDicomObject, FormatError> {
    let body = if bytes.get(128..132) == Some(b"DICM".as_slice()) {
        &bytes[128..]
    } else if bytes.get(..4) == Some(b"DICM".as_slice()) {
        bytes
    } else {
        return Err(data(path, "not a DICOM file (no `DICM` prefix)".into()));
    };
    check_lengths(body).map_err(|message| data(path, message))?;
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(body)
        .map_err(|e| data(path, format!("cannot be read as DICOM: {e}")))?;
    Ok(object.into_inner())
}

/// Checks, before the DICOM parser sees the stream, that no element claims more bytes than the file has left
/// (the parser would reserve and zero that much, gigabytes for one damaged length byte, before failing).
/// `body` starts at `DICM`. Walks the explicit-VR meta group, then the data set in its transfer syntax
/// (explicit or implicit VR little endian, explicit big endian); a deflated data set is left to the parser.
fn check_lengths(body: &[u8]) -> Result<(), String> {
    let mut position = 4;
    let mut syntax = String::new();
    while body.get(position..position + 2) == Some([2_u8, 0].as_slice()) {
        let (header, length) = element_header(body, position, Encoding::ExplicitLe)?;
        let end = position + header + length.unwrap_or(0);
        if (body[position + 2], body[position + 3]) == (0x10, 0) {
            syntax = String::from_utf8_lossy(&body[position + header..end])
                .trim_end_matches(['\0', ' '])
                .to_owned();
        }
        position = end;
    }
    let encoding = match syntax.as_str() {
        "1.2.840.10008.1.2" => Encoding::ImplicitLe,
        "1.2.840.10008.1.2.2" => Encoding::ExplicitBe,
        "1.2.840.10008.1.2.1.99" => return Ok(()),
        _ => Encoding::ExplicitLe,
    };
    while position < body.len() {
        let (header, length) = element_header(body, position, encoding)?;
        position += header + length.unwrap_or(0);
    }
    Ok(())
}

/// Every value representation of PS3.5, two letters each.
const KNOWN_VRS: &[u8] = b"AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";

/// How a data set's element headers are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    ExplicitLe,
    ImplicitLe,
    ExplicitBe,
}

/// The header size of the element at `position` and the value length to skip: `None` to step into it (a
/// sequence, an item or a value of undefined length, whose content is more elements); an error when the
/// length runs past the end of `body`.
fn element_header(
    body: &[u8],
    position: usize,
    encoding: Encoding,
) -> Result<(usize, Option<usize>), String> {
    let truncated = || format!("the file ends inside an element at byte {}", position + 128);
    let bytes = body.get(position..position + 8).ok_or_else(truncated)?;
    let word = |b: &[u8]| match encoding {
        Encoding::ExplicitBe => u16::from_be_bytes([b[0], b[1]]),
        _ => u16::from_le_bytes([b[0], b[1]]),
    };
    let long = |b: &[u8]| match encoding {
        Encoding::ExplicitBe => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        _ => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
    };
    let group = word(&bytes[0..2]);
    let (header, length, is_container) = if group == 0xFFFE {
        // Item and delimiters: no VR, a 4-byte length; an item's content is elements.
        (8, long(&bytes[4..8]), true)
    } else if encoding == Encoding::ImplicitLe {
        (8, long(&bytes[4..8]), false)
    } else {
        let vr = &bytes[4..6];
        if !KNOWN_VRS.chunks(2).any(|known| known == vr) {
            // The parser would read an unknown VR with a 4-byte length: a damaged byte, not a file to guess at.
            return Err(format!(
                "an element at byte {} has no valid value representation (damaged file)",
                position + 128
            ));
        }
        if matches!(
            vr,
            b"OB"
                | b"OW"
                | b"OF"
                | b"OD"
                | b"OL"
                | b"OV"
                | b"SQ"
                | b"UT"
                | b"UN"
                | b"UC"
                | b"UR"
                | b"SV"
                | b"UV"
        ) {
            let more = body.get(position + 8..position + 12).ok_or_else(truncated)?;
            (12, long(more), vr == b"SQ")
        } else {
            (8, u32::from(word(&bytes[6..8])), false)
        }
    };
    if length == u32::MAX {
        return Ok((header, None));
    }
    let length = length as usize;
    if length > body.len().saturating_sub(position + header) {
        return Err(format!(
            "an element at byte {} claims {length} bytes, more than the file holds (truncated or damaged)",
            position + 128
        ));
    }
    Ok((header, (!is_container).then_some(length)))
}

fn data(path: &Path, message: String) -> FormatError {
    FormatError::Data {
        path: path.to_owned(),
        message,
    }
}

/// What the IOD of a SOP class allows; exceeding it is imported with a warning.
#[derive(Clone, Copy, Debug)]
struct Limits {
    name: &'static str,
    max_groups: usize,
    max_channels: usize,
    max_rate_hz: f64,
}

/// The limits of the waveform IODs this reader knows (PS3.3 A.34 and A.35).
fn limits(sop_class: &str) -> Option<Limits> {
    let limits = |name, max_groups, max_channels, max_rate_hz| Limits {
        name,
        max_groups,
        max_channels,
        max_rate_hz,
    };
    match sop_class {
        uids::HEMODYNAMIC_WAVEFORM_STORAGE => Some(limits("Hemodynamic Waveform", 4, 8, 400.0)),
        uids::TWELVE_LEAD_ECG_WAVEFORM_STORAGE => Some(limits("12-lead ECG", 5, 13, 1000.0)),
        uids::GENERAL_ECG_WAVEFORM_STORAGE => Some(limits("General ECG", 4, 24, 1000.0)),
        uids::AMBULATORY_ECG_WAVEFORM_STORAGE => Some(limits("Ambulatory ECG", 1, 12, 1000.0)),
        _ => None,
    }
}

/// One multiplex group, decoded.
#[derive(Debug)]
struct Group {
    /// Seconds from the instance's time to the group's first sample.
    offset_s: f64,
    rate_hz: f64,
    derived: bool,
    channels: Vec<TimeSeries>,
    /// Sample ranges (start, end) where every channel was padding.
    padded_runs: Vec<(usize, usize)>,
}

/// One object, decoded.
#[derive(Debug)]
struct Instance {
    sop_instance_uid: Option<String>,
    study_uid: Option<String>,
    number: Option<i64>,
    /// Seconds since a fixed epoch, when the object says when it was acquired.
    start_s: Option<f64>,
    groups: Vec<Group>,
    /// Annotations: (seconds from the instance's time, text).
    annotations: Vec<(f64, String)>,
}

fn text(object: &InMemDicomObject, tag: Tag) -> Option<String> {
    let text = object.get(tag)?.to_str().ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!text.is_empty()).then(|| text.to_owned())
}

fn decimal(object: &InMemDicomObject, tag: Tag) -> Option<f64> {
    object
        .get(tag)?
        .to_float64()
        .ok()
        .filter(|value| value.is_finite())
}

fn integer(object: &InMemDicomObject, tag: Tag) -> Option<i64> {
    object.get(tag)?.to_int::<i64>().ok()
}

fn items(object: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    object.get(tag).and_then(|e| e.items()).unwrap_or_default()
}

/// The first item's Code Value, Coding Scheme Designator and Code Meaning of a code sequence.
fn code(object: &InMemDicomObject, tag: Tag) -> Option<(String, String, String)> {
    let item = items(object, tag).first()?;
    Some((
        text(item, tags::CODE_VALUE).unwrap_or_default(),
        text(item, tags::CODING_SCHEME_DESIGNATOR).unwrap_or_default(),
        text(item, tags::CODE_MEANING).unwrap_or_default(),
    ))
}

/// Reads one object's groups and annotations.
fn read_instance(
    object: &InMemDicomObject,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Instance, FormatError> {
    let name = display_name(path);
    let sop_class = text(object, tags::SOP_CLASS_UID).unwrap_or_default();
    let limits = limits(&sop_class);
    let groups = items(object, tags::WAVEFORM_SEQUENCE);
    if groups.is_empty() {
        let what = if sop_class.is_empty() {
            "no SOP class".to_owned()
        } else {
            format!("SOP class {sop_class}")
        };
        return Err(FormatError::Unsupported {
            path: path.to_owned(),
            message: format!(
                "the object holds no waveform ({what}); heracles reads Hemodynamic and ECG waveforms"
            ),
        });
    }
    match limits {
        None => warnings.push(format!(
            "{name}: SOP class {sop_class:?} is not a hemodynamic or ECG waveform; its waveforms were read anyway"
        )),
        Some(limits) if groups.len() > limits.max_groups => warnings.push(format!(
            "{name}: {} multiplex groups, more than a {} object may hold ({})",
            groups.len(),
            limits.name,
            limits.max_groups
        )),
        Some(_) => {}
    }
    let mut decoded = Vec::with_capacity(groups.len());
    for (index, item) in groups.iter().enumerate() {
        decoded.push(read_group(item, index + 1, limits, &name, path, warnings)?);
    }
    let annotations = read_annotations(object, &decoded);
    Ok(Instance {
        sop_instance_uid: text(object, tags::SOP_INSTANCE_UID),
        study_uid: text(object, tags::STUDY_INSTANCE_UID),
        number: integer(object, tags::INSTANCE_NUMBER),
        start_s: acquisition_time_s(object),
        groups: decoded,
        annotations,
    })
}

/// Reads multiplex group `number` (1-based).
fn read_group(
    item: &InMemDicomObject,
    number: usize,
    limits: Option<Limits>,
    name: &str,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Group, FormatError> {
    let where_ = format!("multiplex group {number}");
    let bad = |message: String| data(path, format!("{where_}: {message}"));
    let num_channels = integer(item, tags::NUMBER_OF_WAVEFORM_CHANNELS)
        .filter(|&n| n > 0)
        .ok_or_else(|| bad("no Number of Waveform Channels".into()))? as usize;
    let num_samples = integer(item, tags::NUMBER_OF_WAVEFORM_SAMPLES)
        .filter(|&n| n >= 0)
        .ok_or_else(|| bad("no Number of Waveform Samples".into()))? as usize;
    let rate_hz = decimal(item, tags::SAMPLING_FREQUENCY)
        .filter(|&rate| rate > 0.0)
        .ok_or_else(|| bad("no valid Sampling Frequency".into()))?;
    let bits = integer(item, tags::WAVEFORM_BITS_ALLOCATED).unwrap_or(16);
    let interpretation = text(item, tags::WAVEFORM_SAMPLE_INTERPRETATION).unwrap_or_else(|| {
        warnings.push(format!(
            "{name}: {where_} has no Waveform Sample Interpretation; read as signed"
        ));
        if bits == 8 { "SB" } else { "SS" }.to_owned()
    });
    let encoding = SampleEncoding::of(bits, &interpretation).ok_or_else(|| FormatError::Unsupported {
        path: path.to_owned(),
        message: format!(
            "{where_}: {bits}-bit samples interpreted as {interpretation:?} (heracles reads SB/UB, SS/US, SL/UL)"
        ),
    })?;
    if let Some(limits) = limits {
        if num_channels > limits.max_channels {
            warnings.push(format!(
                "{name}: {where_} has {num_channels} channels, more than a {} object may hold ({})",
                limits.name, limits.max_channels
            ));
        }
        if rate_hz > limits.max_rate_hz {
            warnings.push(format!(
                "{name}: {where_} is sampled at {rate_hz} Hz, above the {} Hz a {} object allows",
                limits.max_rate_hz, limits.name
            ));
        }
    }
    let raw = sample_values(item, encoding).ok_or_else(|| bad("no Waveform Data".into()))?;
    let needed = num_channels * num_samples;
    if raw.len() < needed {
        return Err(bad(format!(
            "Waveform Data holds {} samples, fewer than {num_channels} channels x {num_samples} samples",
            raw.len()
        )));
    }
    let padding = item
        .get(tags::WAVEFORM_PADDING_VALUE)
        .and_then(|element| padding_value(element.value(), encoding));
    let definitions = items(item, tags::CHANNEL_DEFINITION_SEQUENCE);
    if definitions.len() != num_channels {
        warnings.push(format!(
            "{name}: {where_} defines {} channels but holds {num_channels}; channels without a definition are \
             kept as raw numbers",
            definitions.len()
        ));
    }
    let mut channels = Vec::with_capacity(num_channels);
    for index in 0..num_channels {
        let definition = definitions.get(index);
        let channel = describe_channel(definition, name, &where_, index + 1, warnings);
        let samples = (0..num_samples)
            .map(|s| {
                let value = raw[s * num_channels + index];
                if padding == Some(value) {
                    f64::NAN
                } else {
                    value as f64 * channel.scale + channel.offset
                }
            })
            .collect();
        channels.push(TimeSeries {
            name: channel.name,
            unit: channel.unit,
            sample_rate_hz: rate_hz,
            samples,
        });
    }
    let padded_runs = padding.map_or_else(Vec::new, |padding| {
        padded_runs(num_samples, |s| {
            (0..num_channels).all(|c| raw[s * num_channels + c] == padding)
        })
    });
    let originality = text(item, tags::WAVEFORM_ORIGINALITY).unwrap_or_default();
    Ok(Group {
        offset_s: decimal(item, tags::MULTIPLEX_GROUP_TIME_OFFSET).unwrap_or(0.0) / 1000.0,
        rate_hz,
        derived: originality.eq_ignore_ascii_case("DERIVED"),
        channels,
        padded_runs,
    })
}

/// The runs `[start, end)` of samples for which `padded(sample)` holds.
fn padded_runs(num_samples: usize, padded: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for sample in 0..=num_samples {
        let is_padded = sample < num_samples && padded(sample);
        match (start, is_padded) {
            (None, true) => start = Some(sample),
            (Some(first), false) => {
                runs.push((first, sample));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// How a group's samples are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SampleEncoding {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
}

impl SampleEncoding {
    fn of(bits: i64, interpretation: &str) -> Option<SampleEncoding> {
        Some(match (bits, interpretation.trim()) {
            (8, "SB") => SampleEncoding::I8,
            (8, "UB" | "MB" | "AB") => SampleEncoding::U8,
            (16, "SS") => SampleEncoding::I16,
            (16, "US") => SampleEncoding::U16,
            (32, "SL") => SampleEncoding::I32,
            (32, "UL") => SampleEncoding::U32,
            _ => return None,
        })
    }

    fn bytes(self) -> usize {
        match self {
            SampleEncoding::I8 | SampleEncoding::U8 => 1,
            SampleEncoding::I16 | SampleEncoding::U16 => 2,
            SampleEncoding::I32 | SampleEncoding::U32 => 4,
        }
    }

    /// The sample whose little-endian bytes are `bytes` (exactly [`SampleEncoding::bytes`] long).
    fn decode(self, bytes: &[u8]) -> i64 {
        let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
        match self {
            SampleEncoding::I8 => i64::from(byte(0) as i8),
            SampleEncoding::U8 => i64::from(byte(0)),
            SampleEncoding::I16 => i64::from(i16::from_le_bytes([byte(0), byte(1)])),
            SampleEncoding::U16 => i64::from(u16::from_le_bytes([byte(0), byte(1)])),
            SampleEncoding::I32 => i64::from(i32::from_le_bytes([byte(0), byte(1), byte(2), byte(3)])),
            SampleEncoding::U32 => i64::from(u32::from_le_bytes([byte(0), byte(1), byte(2), byte(3)])),
        }
    }

    /// A 16-bit word read by the DICOM parser (OW) as this encoding's sample.
    fn word_sample(self, word: u16) -> i64 {
        match self {
            SampleEncoding::I16 => i64::from(word as i16),
            _ => i64::from(word),
        }
    }
}

/// The interleaved samples of a group's Waveform Data, as integers.
fn sample_values(item: &InMemDicomObject, encoding: SampleEncoding) -> Option<Vec<i64>> {
    let value = item.get(tags::WAVEFORM_DATA)?.value();
    let Value::Primitive(primitive) = value else {
        return None;
    };
    Some(match primitive {
        // OW decoded into host words by the parser: take them as words, not as host-order bytes.
        PrimitiveValue::U16(words) if encoding.bytes() == 2 => {
            words.iter().map(|&w| encoding.word_sample(w)).collect()
        }
        PrimitiveValue::I16(words) if encoding.bytes() == 2 => words.iter().map(|&w| i64::from(w)).collect(),
        PrimitiveValue::U16(words) => {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            bytes
                .chunks_exact(encoding.bytes())
                .map(|b| encoding.decode(b))
                .collect()
        }
        PrimitiveValue::U8(bytes) => bytes
            .chunks_exact(encoding.bytes())
            .map(|b| encoding.decode(b))
            .collect(),
        _ => return None,
    })
}

/// The Waveform Padding Value (OB or OW, one sample) as this encoding's integer.
fn padding_value(
    value: &Value<InMemDicomObject, dicom_object::mem::InMemFragment>,
    encoding: SampleEncoding,
) -> Option<i64> {
    let Value::Primitive(primitive) = value else {
        return None;
    };
    match primitive {
        PrimitiveValue::U16(words) => words.first().map(|&w| encoding.word_sample(w)),
        PrimitiveValue::I16(words) => words.first().map(|&w| i64::from(w)),
        PrimitiveValue::U8(bytes) if bytes.len() >= encoding.bytes() => {
            Some(encoding.decode(&bytes[..encoding.bytes()]))
        }
        _ => None,
    }
}

/// A channel's name, unit and the linear map from stored integers to that unit.
#[derive(Debug)]
struct ChannelDescription {
    name: String,
    unit: String,
    scale: f64,
    offset: f64,
}

/// Names a channel from its definition: the app's signal (`pa`, `lvp`, `pd`, `ipv`, `ecmo_flow`, `lvv`, `ecg`)
/// when its source code, label and unit say which, converted to that signal's unit; else its own label and unit.
fn describe_channel(
    definition: Option<&InMemDicomObject>,
    name: &str,
    group: &str,
    number: usize,
    warnings: &mut Vec<String>,
) -> ChannelDescription {
    let Some(definition) = definition else {
        return ChannelDescription {
            name: format!("channel {number}"),
            unit: String::new(),
            scale: 1.0,
            offset: 0.0,
        };
    };
    let source = code(definition, tags::CHANNEL_SOURCE_SEQUENCE).unwrap_or_default();
    let label = text(definition, tags::CHANNEL_LABEL);
    let ucum = code(definition, tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE)
        .map(|(value, _, meaning)| if value.is_empty() { meaning } else { value })
        .filter(|unit| !unit.is_empty());
    let title = label
        .clone()
        .or_else(|| (!source.2.is_empty()).then(|| source.2.clone()))
        .unwrap_or_else(|| format!("channel {number}"));
    let sensitivity = decimal(definition, tags::CHANNEL_SENSITIVITY);
    let correction = decimal(definition, tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR).unwrap_or(1.0);
    let baseline = decimal(definition, tags::CHANNEL_BASELINE).unwrap_or(0.0);
    if sensitivity.is_none() {
        warnings.push(format!(
            "{name}: {group}, channel {number} ({title}) has no Channel Sensitivity; its samples are raw numbers"
        ));
    }
    // An ECG lead beside the pressures of a Hemodynamic object is not a departure: the IOD's channel sources
    // (CID 3003) are a Defined, extensible context group, and cath-lab systems time pressures by that ECG.
    let role = channel_role(&source, label.as_deref(), ucum.as_deref());
    let (unit, factor) = match (role, ucum.as_deref()) {
        (Some(kind), Some(unit)) => match factor_to(kind, unit) {
            Some(factor) => (kind.unit().to_owned(), factor),
            None => {
                warnings.push(format!(
                    "{name}: {group}, channel {number} ({title}) is in {unit:?}, which heracles cannot convert to \
                     {}; kept under its own name",
                    kind.unit()
                ));
                return ChannelDescription {
                    name: title,
                    unit: display_unit(unit),
                    scale: sensitivity.unwrap_or(1.0) * correction,
                    offset: baseline,
                };
            }
        },
        (Some(kind), None) => {
            warnings.push(format!(
                "{name}: {group}, channel {number} ({title}) has no units; taken as {}",
                kind.unit()
            ));
            (kind.unit().to_owned(), 1.0)
        }
        (None, unit) => {
            if unit.is_none() && sensitivity.is_some() {
                warnings.push(format!(
                    "{name}: {group}, channel {number} ({title}) has no units"
                ));
            }
            (unit.map(display_unit).unwrap_or_default(), 1.0)
        }
    };
    let name = match role {
        Some(SignalKind::Ecg) => ecg_name(&source.2, label.as_deref()),
        Some(kind) => kind.name().to_owned(),
        None => title,
    };
    ChannelDescription {
        name,
        unit,
        scale: sensitivity.unwrap_or(1.0) * correction * factor,
        offset: baseline * factor,
    }
}

/// An ECG lead's channel name: `ecg` and the lead (`ecg II`, `ecg aVR`, `ecg V1`); the importer renames the
/// preferred lead to plain `ecg` (see [`name_leads`]).
fn ecg_name(meaning: &str, label: Option<&str>) -> String {
    let lead = if meaning.is_empty() {
        label.unwrap_or("")
    } else {
        meaning
    };
    let lead = lead.split('(').next().unwrap_or(lead).trim();
    let lead = lead
        .strip_prefix("Lead ")
        .or_else(|| lead.strip_prefix("lead "))
        .unwrap_or(lead)
        .trim();
    if lead.is_empty() || lead.eq_ignore_ascii_case("ecg") {
        "ecg".to_owned()
    } else {
        format!("ecg {lead}")
    }
}

/// The app's signal a channel carries, from its source code (CID 3001 ECG leads, CID 3003 hemodynamic
/// sources), its label and its unit.
fn channel_role(
    source: &(String, String, String),
    label: Option<&str>,
    unit: Option<&str>,
) -> Option<SignalKind> {
    let (value, scheme, meaning) = source;
    let meaning = meaning.to_ascii_lowercase();
    let label_lower = label.map(str::to_ascii_lowercase).unwrap_or_default();
    let is_velocity = unit.is_some_and(|u| matches!(u, "cm/s" | "m/s" | "mm/s"));
    let from_label = label.and_then(|l| SignalKind::from_name(l.trim()).or_else(|| title_kind(l)));
    let is_lead = scheme.eq_ignore_ascii_case("SCPECG")
        || (scheme.eq_ignore_ascii_case("MDC") && value.starts_with("2:"))
        || meaning.starts_with("lead ")
        || meaning.contains("ecg");
    match value.as_str() {
        "128444004" => Some(SignalKind::Pa),
        "128438003" => Some(SignalKind::Lvp),
        "128433007" => from_label.filter(|k| matches!(k, SignalKind::Pd | SignalKind::Pa | SignalKind::Lvp)),
        "128434001" => Some(
            if is_velocity || label_lower.contains("veloc") || label_lower.contains("doppler") {
                SignalKind::Ipv
            } else {
                SignalKind::EcmoFlow
            },
        ),
        "128432002" => (label_lower.contains("volume"))
            .then_some(SignalKind::Lvv)
            .or(from_label),
        _ if is_lead => Some(SignalKind::Ecg),
        _ if meaning.contains("aortic") && meaning.contains("pressure") => Some(SignalKind::Pa),
        _ if meaning.contains("left ventric") && meaning.contains("pressure") => Some(SignalKind::Lvp),
        _ => from_label,
    }
}

/// The signal whose title (`LV pressure`, `Doppler velocity`, ...) is `label`.
fn title_kind(label: &str) -> Option<SignalKind> {
    SignalKind::ALL
        .into_iter()
        .find(|kind| kind.title().eq_ignore_ascii_case(label.trim()))
}

/// The factor from UCUM `unit` to `kind`'s unit, when heracles knows it.
fn factor_to(kind: SignalKind, unit: &str) -> Option<f64> {
    let unit = unit.trim();
    match kind {
        SignalKind::Pa | SignalKind::Pd | SignalKind::Lvp => match unit {
            "mm[Hg]" | "mmHg" | "mm Hg" => Some(1.0),
            "kPa" => Some(1000.0 / crate::model::units::PA_PER_MMHG),
            "Pa" => Some(1.0 / crate::model::units::PA_PER_MMHG),
            "cm[H2O]" | "cmH2O" => Some(98.0665 / crate::model::units::PA_PER_MMHG),
            _ => None,
        },
        SignalKind::Ecg => match unit {
            "mV" => Some(1.0),
            "uV" | "µV" => Some(1e-3),
            "V" => Some(1e3),
            _ => None,
        },
        SignalKind::Ipv => match unit {
            "cm/s" => Some(1.0),
            "m/s" => Some(100.0),
            "mm/s" => Some(0.1),
            _ => None,
        },
        SignalKind::EcmoFlow => match unit {
            "L/min" | "l/min" => Some(1.0),
            "mL/min" | "ml/min" => Some(1e-3),
            "mL/s" | "ml/s" => Some(0.06),
            "L/s" | "l/s" => Some(60.0),
            _ => None,
        },
        SignalKind::Lvv => match unit {
            "mL" | "ml" | "cm3" => Some(1.0),
            "L" | "l" => Some(1000.0),
            _ => None,
        },
    }
}

/// A UCUM unit as the app writes units (`mm[Hg]` -> `mmHg`).
fn display_unit(unit: &str) -> String {
    unit.replace("[Hg]", "Hg").replace("[H2O]", "H2O")
}

/// The Waveform Annotation Sequence as (seconds from the instance's time, text); an annotation without a
/// sample position or time offset is placed at the start of its group (or of the instance).
fn read_annotations(object: &InMemDicomObject, groups: &[Group]) -> Vec<(f64, String)> {
    let mut annotations = Vec::new();
    for item in items(object, tags::WAVEFORM_ANNOTATION_SEQUENCE) {
        let Some(words) = annotation_text(item) else {
            continue;
        };
        let group = item
            .get(tags::REFERENCED_WAVEFORM_CHANNELS)
            .and_then(|e| e.to_multi_int::<i64>().ok())
            .and_then(|pairs| pairs.first().copied())
            .and_then(|m| usize::try_from(m).ok())
            .and_then(|m| m.checked_sub(1))
            .and_then(|m| groups.get(m));
        let group_offset_s = group.map_or(0.0, |g| g.offset_s);
        let position_s = if let Some(position) = item
            .get(tags::REFERENCED_SAMPLE_POSITIONS)
            .and_then(|e| e.to_multi_int::<i64>().ok())
            .and_then(|positions| positions.first().copied())
            && let Some(group) = group
        {
            (position.max(1) - 1) as f64 / group.rate_hz
        } else {
            decimal(item, tags::REFERENCED_TIME_OFFSETS).unwrap_or(0.0)
        };
        annotations.push((group_offset_s + position_s, words));
    }
    annotations
}

/// An annotation's words: its free text, or its concept name with its coded or numeric value and unit.
fn annotation_text(item: &InMemDicomObject) -> Option<String> {
    if let Some(words) = text(item, tags::UNFORMATTED_TEXT_VALUE) {
        return Some(words);
    }
    let concept = code(item, tags::CONCEPT_NAME_CODE_SEQUENCE).map(|c| c.2);
    let coded = code(item, tags::CONCEPT_CODE_SEQUENCE).map(|c| c.2);
    let numeric = text(item, tags::NUMERIC_VALUE);
    let unit = code(item, tags::MEASUREMENT_UNITS_CODE_SEQUENCE).map(|c| c.0);
    let value = match (coded, numeric) {
        (Some(coded), _) => Some(coded),
        (None, Some(numeric)) => Some(match unit {
            Some(unit) if !unit.is_empty() => format!("{numeric} {}", display_unit(&unit)),
            _ => numeric,
        }),
        (None, None) => None,
    };
    match (concept.filter(|c| !c.is_empty()), value) {
        (Some(concept), Some(value)) => Some(format!("{concept}: {value}")),
        (Some(concept), None) => Some(concept),
        (None, Some(value)) => Some(value),
        (None, None) => None,
    }
}

/// The object's acquisition time as seconds since 0000-03-01 (only differences are used): Acquisition DateTime,
/// else Content Date + Content Time, else Acquisition Date/Time.
fn acquisition_time_s(object: &InMemDicomObject) -> Option<f64> {
    if let Some(datetime) = text(object, tags::ACQUISITION_DATE_TIME) {
        return parse_datetime(&datetime);
    }
    for (date, time) in [
        (tags::CONTENT_DATE, tags::CONTENT_TIME),
        (tags::ACQUISITION_DATE, tags::ACQUISITION_TIME),
    ] {
        if let (Some(date), Some(time)) = (text(object, date), text(object, time)) {
            return parse_datetime(&format!("{date}{time}"));
        }
    }
    None
}

/// `YYYYMMDDHHMMSS.FFFFFF` (trailing parts optional, a `+ZZZZ` offset ignored: the instances of one study share
/// it) as seconds since 0000-03-01.
fn parse_datetime(text: &str) -> Option<f64> {
    let text = text.split(['+', '-']).next()?.trim();
    let digits = |from: usize, to: usize| -> Option<i64> {
        match text.get(from..to) {
            Some(part) if !part.is_empty() => part.parse().ok(),
            _ => None,
        }
    };
    let year = digits(0, 4)?;
    let month = digits(4, 6).unwrap_or(1);
    let day = digits(6, 8).unwrap_or(1);
    let hour = digits(8, 10).unwrap_or(0);
    let minute = digits(10, 12).unwrap_or(0);
    let second: f64 = text
        .get(12..)
        .filter(|s| !s.is_empty())
        .map_or(Some(0.0), |s| s.parse().ok())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), counted from 0000-03-01.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let days =
        365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) + (153 * m + 2) / 5 + day - 1;
    Some(days as f64 * 86_400.0 + (hour * 3600 + minute * 60) as f64 + second)
}

/// Joins the instances in time into one recording; an error when two of them overlap at the same rate.
fn assemble(mut instances: Vec<Instance>, warnings: &mut Vec<String>) -> Result<Recording, String> {
    let any_original = instances.iter().flat_map(|i| &i.groups).any(|g| !g.derived);
    if any_original {
        let mut skipped = 0;
        for instance in &mut instances {
            let before = instance.groups.len();
            instance.groups.retain(|g| !g.derived);
            skipped += before - instance.groups.len();
        }
        if skipped > 0 {
            warnings.push(format!(
                "{skipped} DERIVED multiplex group(s) (e.g. a median beat) not imported: only the ORIGINAL \
                 recording is"
            ));
        }
    }
    let all_timed = instances.iter().all(|i| i.start_s.is_some());
    if !all_timed && instances.len() > 1 {
        warnings.push(
            "some objects have no acquisition time: the objects are joined end to end in instance-number order"
                .into(),
        );
    }
    instances.sort_by(|a, b| {
        let time = |i: &Instance| if all_timed { i.start_s } else { None };
        time(a)
            .partial_cmp(&time(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.number.cmp(&b.number))
    });
    let origin_s = if all_timed {
        instances.first().and_then(|i| i.start_s).unwrap_or(0.0)
    } else {
        0.0
    };
    let mut recording = Recording::default();
    let mut end_of_previous_s = 0.0_f64;
    for instance in instances {
        let start_s = match (all_timed, instance.start_s) {
            (true, Some(start)) => start - origin_s,
            _ => end_of_previous_s,
        };
        let mut instance_end_s = start_s;
        // Groups that start together form one segment (their channels may have different rates).
        let mut by_offset: Vec<(f64, Vec<Group>)> = Vec::new();
        for group in instance.groups {
            match by_offset
                .iter_mut()
                .find(|(offset, _)| (*offset - group.offset_s).abs() < 1e-9)
            {
                Some((_, groups)) => groups.push(group),
                None => by_offset.push((group.offset_s, vec![group])),
            }
        }
        by_offset.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (offset_s, groups) in by_offset {
            for segment in group_segments(start_s + offset_s, groups) {
                let end = segment.start_s
                    + segment
                        .channels
                        .iter()
                        .map(TimeSeries::duration_s)
                        .fold(0.0, f64::max);
                instance_end_s = instance_end_s.max(end);
                recording.segments.push(segment);
            }
        }
        end_of_previous_s = end_of_previous_s.max(instance_end_s);
        recording
            .markers
            .extend(instance.annotations.into_iter().map(|(time_s, text)| Marker {
                time_s: start_s + time_s,
                text,
            }));
    }
    recording.segments.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    recording.markers.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    for segment in &mut recording.segments {
        name_leads(&mut segment.channels);
    }
    check_no_overlap(&recording)?;
    Ok(recording)
}

/// Refuses segments (in time order) whose channels of one rate start before that rate's previous samples end
/// (by more than half a sample: rounding of the objects' times).
fn check_no_overlap(recording: &Recording) -> Result<(), String> {
    let mut ends: Vec<(f64, f64)> = Vec::new();
    for segment in &recording.segments {
        let mut seen: Vec<f64> = Vec::new();
        for channel in &segment.channels {
            let rate = channel.sample_rate_hz;
            if seen.contains(&rate) {
                continue;
            }
            seen.push(rate);
            let end = segment.start_s + channel.duration_s();
            match ends.iter_mut().find(|(r, _)| *r == rate) {
                Some((_, previous_end)) => {
                    if segment.start_s < *previous_end - 0.5 / rate {
                        return Err(format!(
                            "objects overlap in time at {rate} Hz ({:.3} s starts before {:.3} s ends); import them \
                             one at a time",
                            segment.start_s, previous_end
                        ));
                    }
                    *previous_end = previous_end.max(end);
                }
                None => ends.push((rate, end)),
            }
        }
    }
    Ok(())
}

/// The segments of groups that start together at `start_s`: one segment, split where a group of one rate
/// holds nothing but padding (only when it is the only rate, so the other rates are not cut).
fn group_segments(start_s: f64, groups: Vec<Group>) -> Vec<Segment> {
    let single_group = groups.len() == 1;
    let channels: Vec<TimeSeries> = groups.iter().flat_map(|g| g.channels.iter().cloned()).collect();
    let runs = match groups.first() {
        Some(group) if single_group && !group.padded_runs.is_empty() => group.padded_runs.clone(),
        _ => return vec![Segment { start_s, channels }],
    };
    let rate_hz = groups.first().map_or(1.0, |g| g.rate_hz);
    let length = channels.first().map_or(0, |c| c.samples.len());
    let mut segments = Vec::new();
    let mut from = 0;
    for (run_start, run_end) in runs.into_iter().chain([(length, length)]) {
        if run_start > from {
            segments.push(Segment {
                start_s: start_s + from as f64 / rate_hz,
                channels: channels
                    .iter()
                    .map(|c| TimeSeries {
                        samples: c.samples[from..run_start].to_vec(),
                        ..c.clone()
                    })
                    .collect(),
            });
        }
        from = run_end;
    }
    segments
}

/// Names of one segment's channels made unique per rate, with the preferred ECG lead (II, else the first) called
/// `ecg`, the name the analysis looks for.
fn name_leads(channels: &mut [TimeSeries]) {
    let leads: Vec<usize> = (0..channels.len())
        .filter(|&i| channels[i].name == "ecg" || channels[i].name.starts_with("ecg "))
        .collect();
    let has_plain = leads.iter().any(|&i| channels[i].name == "ecg");
    if !has_plain
        && let Some(&preferred) = leads
            .iter()
            .find(|&&i| channels[i].name == "ecg II")
            .or(leads.first())
    {
        channels[preferred].name = "ecg".to_owned();
    }
    for index in 1..channels.len() {
        let (before, rest) = channels.split_at_mut(index);
        let channel = &mut rest[0];
        let rate_hz = channel.sample_rate_hz;
        let taken = |name: &str| {
            before
                .iter()
                .any(|c| c.sample_rate_hz == rate_hz && c.name == name)
        };
        if taken(&channel.name) {
            let mut n = 2;
            while taken(&format!("{} {n}", channel.name)) {
                n += 1;
            }
            channel.name = format!("{} {n}", channel.name);
        }
    }
}
