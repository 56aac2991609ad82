//! DICOM waveform import: a real third-party 12-lead ECG object checked sample by sample against pydicom's
//! `waveform_array`; hemodynamic objects built here with dicom-object, conformant and not (ECG leads among the
//! pressures, 10 channels per group, 5 groups, 1 kHz, missing units, padding, several instances, 8-bit samples);
//! damaged files (truncated, mutated, not DICOM), which must give an error and never a panic; and the round trip
//! through the study writer (`export::dicom`): a recorded simulated case comes back as its decimated signal within
//! half a quantisation step, a protocol case as one timeline with its markers.

use std::path::Path;

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use heracles::formats::dicom::{self, DicomImport};
use heracles::formats::{self, Format, FormatError};
use heracles::model::Recording;

const ECG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dicom/waveform_ecg.dcm");

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("heracles-dicom")
        .tempdir()
        .unwrap()
}

#[test]
fn the_real_ecg_object_matches_pydicom_sample_by_sample() {
    let path = Path::new(ECG);
    assert_eq!(formats::detect(path).unwrap(), Format::Dicom);
    let DicomImport { recording, warnings } = dicom::read_with_warnings(path).unwrap();
    // pydicom's own reading of the same file: group 0 with sensitivity applied (microvolts).
    let script = "import json,sys,pydicom\n\
                  ds=pydicom.dcmread(sys.argv[1])\n\
                  a=ds.waveform_array(0)\n\
                  g=ds.WaveformSequence[0]\n\
                  print(json.dumps({'rate':float(g.SamplingFrequency),'values':a.T.tolist(),\n\
                  'leads':[c.ChannelSourceSequence[0].CodeMeaning for c in g.ChannelDefinitionSequence]}))";
    let reference = crate::python::run_json(script, &[std::ffi::OsStr::new(ECG)]);
    let expected: Vec<Vec<f64>> = serde_json::from_value(reference["values"].clone()).unwrap();
    assert_eq!(expected.len(), 12);
    assert_eq!(
        recording.segments.len(),
        1,
        "the DERIVED median beat is not imported"
    );
    let channels = &recording.segments[0].channels;
    assert_eq!(channels.len(), 12);
    let mut compared = 0;
    for (channel, expected) in channels.iter().zip(&expected) {
        assert_eq!(channel.sample_rate_hz, reference["rate"].as_f64().unwrap());
        assert_eq!(channel.unit, "mV");
        assert_eq!(channel.samples.len(), expected.len());
        for (&ours, &theirs) in channel.samples.iter().zip(expected) {
            // Ours in mV, pydicom's in the file's microvolts.
            assert!(
                (ours * 1000.0 - theirs).abs() < 1e-9,
                "{} {ours} vs {theirs}",
                channel.name
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 120_000);
    let names: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        &names[..4],
        ["ecg I", "ecg", "ecg III", "ecg aVR"],
        "lead II is the analysed ECG"
    );
    assert!(reference["leads"][1].as_str().unwrap().contains("II"));
    assert!(warnings.iter().any(|w| w.contains("DERIVED")), "{warnings:?}");
    // Annotations become markers: the interpretation statements and the measurements with their units.
    let texts: Vec<&str> = recording.markers.iter().map(|m| m.text.as_str()).collect();
    assert!(texts.contains(&"RITMO SINUSALE"), "{texts:?}");
    assert!(texts.contains(&"RR Interval: 982 ms"), "{texts:?}");
}

#[test]
fn import_cli_writes_the_ecg_object_into_a_case() {
    let dir = scratch();
    let data = dir.path().display().to_string();
    heracles(&["import", ECG, "--case", "HER-TST-0701", "--data-dir", &data]).unwrap();
    let path = dir.path().join("HER-TST-0701.heracles");
    let file = heracles::store::CaseFile::open_read_only(&path).unwrap();
    assert!(file.verify().unwrap().ok());
    let channels = file.channels().unwrap();
    assert_eq!(channels.len(), 12);
    let ecg = channels.iter().find(|c| c.name == "ecg").unwrap();
    assert_eq!((ecg.num_samples, ecg.sample_rate_hz), (10_000, 1000.0));
    let stored = file.read_samples(ecg.id, 0, 3).unwrap().values;
    // Lead II's first samples: 90, 85, 80 x 1.25 uV.
    assert_eq!(stored, [0.1125_f32, 0.10625, 0.1]);
    let events = file.events().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "import" && e.text.contains("import warning"))
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == "comment" && e.text == "ECG NORMALE")
    );
}

/// Runs the command line in-process.
fn heracles(args: &[&str]) -> anyhow::Result<std::process::ExitCode> {
    use clap::Parser;
    let cli = heracles::cli::Cli::try_parse_from(std::iter::once("heracles").chain(args.iter().copied()))?;
    heracles::cli::run(cli)
}

// ---- objects built here ----

/// One channel: source code (value, scheme, meaning), label, UCUM unit, sensitivity, baseline.
struct Channel {
    code: (&'static str, &'static str, &'static str),
    label: &'static str,
    unit: Option<&'static str>,
    sensitivity: f64,
    baseline: f64,
}

fn pa() -> Channel {
    Channel {
        code: ("128444004", "SCT", "Aortic pressure"),
        label: "Pa",
        unit: Some("mm[Hg]"),
        sensitivity: 0.1,
        baseline: 0.0,
    }
}

fn lvp() -> Channel {
    Channel {
        code: ("128438003", "SCT", "Left ventricular pressure"),
        label: "LV pressure",
        unit: Some("mm[Hg]"),
        sensitivity: 0.1,
        baseline: -5.0,
    }
}

fn lead(meaning: &'static str) -> Channel {
    Channel {
        code: ("5.6.3-9-2", "SCPECG", meaning),
        label: meaning,
        unit: Some("uV"),
        sensitivity: 2.5,
        baseline: 0.0,
    }
}

fn element(tag: Tag, vr: VR, value: impl Into<PrimitiveValue>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, value.into())
}

fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

fn code_item(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        element(tags::CODE_VALUE, VR::SH, value),
        element(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
        element(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

/// A multiplex group of 16-bit signed samples: `samples[channel][i]`, padding value if any, time offset in ms.
struct GroupSpec {
    rate_hz: f64,
    channels: Vec<Channel>,
    samples: Vec<Vec<i16>>,
    padding: Option<i16>,
    offset_ms: f64,
}

fn group_item(group: &GroupSpec) -> InMemDicomObject {
    let n = group.samples[0].len();
    let interleaved: Vec<u16> = (0..n)
        .flat_map(|i| group.samples.iter().map(move |c| c[i] as u16))
        .collect();
    let definitions = group
        .channels
        .iter()
        .map(|c| {
            let mut item = InMemDicomObject::from_element_iter([
                sequence(
                    tags::CHANNEL_SOURCE_SEQUENCE,
                    vec![code_item(c.code.0, c.code.1, c.code.2)],
                ),
                element(tags::CHANNEL_LABEL, VR::SH, c.label),
                element(tags::CHANNEL_SENSITIVITY, VR::DS, c.sensitivity.to_string()),
                element(tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR, VR::DS, "1"),
                element(tags::CHANNEL_BASELINE, VR::DS, c.baseline.to_string()),
                element(tags::WAVEFORM_BITS_STORED, VR::US, 16_u16),
            ]);
            if let Some(unit) = c.unit {
                item.put(sequence(
                    tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE,
                    vec![code_item(unit, "UCUM", unit)],
                ));
            }
            item
        })
        .collect();
    let mut item = InMemDicomObject::from_element_iter([
        element(
            tags::MULTIPLEX_GROUP_TIME_OFFSET,
            VR::DS,
            group.offset_ms.to_string(),
        ),
        element(tags::WAVEFORM_ORIGINALITY, VR::CS, "ORIGINAL"),
        element(
            tags::NUMBER_OF_WAVEFORM_CHANNELS,
            VR::US,
            group.channels.len() as u16,
        ),
        element(tags::NUMBER_OF_WAVEFORM_SAMPLES, VR::UL, n as u32),
        element(tags::SAMPLING_FREQUENCY, VR::DS, group.rate_hz.to_string()),
        sequence(tags::CHANNEL_DEFINITION_SEQUENCE, definitions),
        element(tags::WAVEFORM_BITS_ALLOCATED, VR::US, 16_u16),
        element(tags::WAVEFORM_SAMPLE_INTERPRETATION, VR::CS, "SS"),
        element(
            tags::WAVEFORM_DATA,
            VR::OW,
            PrimitiveValue::U16(interleaved.into()),
        ),
    ]);
    if let Some(padding) = group.padding {
        item.put(element(
            tags::WAVEFORM_PADDING_VALUE,
            VR::OW,
            PrimitiveValue::U16(vec![padding as u16].into()),
        ));
    }
    item
}

/// A Hemodynamic Waveform object of `groups`, instance `number` of series `series`, acquired at `datetime`,
/// with `annotations` as (group, 1-based sample position, text).
fn hd_object(
    groups: &[GroupSpec],
    series: &str,
    number: u32,
    datetime: Option<&str>,
    annotations: &[(u16, u32, &str)],
) -> Vec<u8> {
    let mut object = InMemDicomObject::from_element_iter([
        element(tags::SOP_CLASS_UID, VR::UI, uids::HEMODYNAMIC_WAVEFORM_STORAGE),
        element(tags::SOP_INSTANCE_UID, VR::UI, format!("{series}.{number}")),
        element(tags::SERIES_INSTANCE_UID, VR::UI, series),
        element(tags::STUDY_INSTANCE_UID, VR::UI, format!("{series}.0")),
        element(tags::INSTANCE_NUMBER, VR::IS, number.to_string()),
        element(tags::MODALITY, VR::CS, "HD"),
        sequence(tags::WAVEFORM_SEQUENCE, groups.iter().map(group_item).collect()),
    ]);
    if let Some(datetime) = datetime {
        object.put(element(tags::ACQUISITION_DATE_TIME, VR::DT, datetime));
    }
    if !annotations.is_empty() {
        let items = annotations
            .iter()
            .map(|&(group, position, text)| {
                InMemDicomObject::from_element_iter([
                    element(tags::UNFORMATTED_TEXT_VALUE, VR::ST, text),
                    element(
                        tags::REFERENCED_WAVEFORM_CHANNELS,
                        VR::US,
                        PrimitiveValue::U16([group, 0].into()),
                    ),
                    element(
                        tags::REFERENCED_SAMPLE_POSITIONS,
                        VR::UL,
                        PrimitiveValue::U32(vec![position].into()),
                    ),
                ])
            })
            .collect();
        object.put(sequence(tags::WAVEFORM_ANNOTATION_SEQUENCE, items));
    }
    let file = object
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .unwrap();
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).unwrap();
    bytes
}

fn ramp(n: usize, from: i16, step: i16) -> Vec<i16> {
    (0..n).map(|i| from + step * (i % 500) as i16).collect()
}

fn parse(bytes: &[u8]) -> Result<DicomImport, FormatError> {
    dicom::parse(bytes, Path::new("built.dcm"))
}

fn channel<'a>(recording: &'a Recording, name: &str) -> &'a heracles::model::TimeSeries {
    recording.segments[0]
        .channel(name)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn a_conformant_hemodynamic_object_imports_without_warnings() {
    let group = GroupSpec {
        rate_hz: 250.0,
        channels: vec![pa(), lvp()],
        samples: vec![ramp(1000, 600, 1), ramp(1000, 50, 2)],
        padding: None,
        offset_ms: 0.0,
    };
    let bytes = hd_object(
        &[group],
        "1.2.3.4",
        1,
        Some("20261207101500"),
        &[(1, 251, "Baseline start")],
    );
    let import = parse(&bytes).unwrap();
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
    let pa = channel(&import.recording, "pa");
    assert_eq!(
        (pa.unit.as_str(), pa.sample_rate_hz, pa.samples.len()),
        ("mmHg", 250.0, 1000)
    );
    assert!((pa.samples[0] - 60.0).abs() < 1e-12 && (pa.samples[10] - 61.0).abs() < 1e-12);
    let lvp = channel(&import.recording, "lvp");
    assert!(
        (lvp.samples[1] - (52.0 * 0.1 - 5.0)).abs() < 1e-12,
        "sensitivity then baseline"
    );
    assert_eq!(import.recording.markers.len(), 1);
    assert!(
        (import.recording.markers[0].time_s - 1.0).abs() < 1e-12,
        "sample 251 at 250 Hz is 1 s"
    );
}

#[test]
fn a_non_conformant_cath_lab_object_imports_with_warnings() {
    // 10 channels in one group (ECG leads among the pressures), 1 kHz, a pressure without units, and 5 groups.
    let mut channels = vec![pa(), lvp()];
    channels.push(Channel {
        unit: None,
        ..Channel {
            code: ("128433007", "SCT", "Hemodynamic pressure"),
            label: "Pd",
            unit: None,
            sensitivity: 0.1,
            baseline: 0.0,
        }
    });
    for meaning in [
        "Lead I", "Lead II", "Lead III", "Lead V1", "Lead V2", "Lead V3", "Lead V4",
    ] {
        channels.push(lead(meaning));
    }
    let samples = (0..10).map(|c| ramp(2000, 100 * c as i16, 1)).collect();
    let mut groups = vec![GroupSpec {
        rate_hz: 1000.0,
        channels,
        samples,
        padding: None,
        offset_ms: 0.0,
    }];
    for _ in 0..4 {
        groups.push(GroupSpec {
            rate_hz: 100.0,
            channels: vec![Channel {
                code: ("128434001", "SCT", "Hemodynamic flow"),
                label: "ECMO flow",
                unit: Some("L/min"),
                sensitivity: 0.01,
                baseline: 0.0,
            }],
            samples: vec![ramp(200, 400, 0)],
            padding: None,
            offset_ms: 0.0,
        });
    }
    let import = parse(&hd_object(&groups, "1.2.3.5", 1, None, &[])).unwrap();
    let warnings = import.warnings.join("\n");
    for expected in [
        "5 multiplex groups",
        "10 channels",
        "1000 Hz",
        "no units; taken as mmHg",
    ] {
        assert!(warnings.contains(expected), "missing {expected:?} in\n{warnings}");
    }
    let recording = &import.recording;
    let pd = channel(recording, "pd");
    assert_eq!((pd.unit.as_str(), pd.sample_rate_hz), ("mmHg", 1000.0));
    assert!((pd.samples[3] - 20.3).abs() < 1e-9);
    let ecg = channel(recording, "ecg");
    assert!((ecg.samples[0] - 400.0 * 2.5e-3).abs() < 1e-12, "lead II in mV");
    // Each rate keeps its own: the flows at 100 Hz, named apart.
    let flows: Vec<_> = recording.segments[0]
        .channels
        .iter()
        .filter(|c| c.sample_rate_hz == 100.0)
        .collect();
    assert_eq!(flows.len(), 4);
    assert_eq!(flows[0].name, "ecmo_flow");
    assert_eq!(flows[1].name, "ecmo_flow 2");
    assert!((flows[0].samples[0] - 4.0).abs() < 1e-12 && flows[0].unit == "L/min");
    // And it goes all the way into a case file (one source per rate).
    let dir = scratch();
    let summary = heracles::cli::import::import_recording(
        recording,
        &import.warnings,
        Format::Dicom,
        "HER-TST-0702".parse().unwrap(),
        "test",
        dir.path(),
    )
    .unwrap();
    assert_eq!(summary.num_sources, 2);
    assert_eq!(summary.warnings, import.warnings);
}

#[test]
fn instances_of_a_series_join_in_time_and_padding_becomes_a_gap() {
    let dir = scratch();
    let group = |first: i16, padding: Option<(usize, usize)>| {
        let mut samples = ramp(500, first, 1);
        if let Some((from, to)) = padding {
            samples[from..to].fill(i16::MIN);
        }
        GroupSpec {
            rate_hz: 250.0,
            channels: vec![pa()],
            samples: vec![samples],
            padding: Some(i16::MIN),
            offset_ms: 0.0,
        }
    };
    // Instance 2 starts 2 s after instance 1 (= its 500 samples at 250 Hz): contiguous. Written out of order.
    let first = hd_object(
        &[group(700, Some((100, 150)))],
        "1.2.3.6",
        1,
        Some("20261207101500"),
        &[],
    );
    let second = hd_object(
        &[group(800, None)],
        "1.2.3.6",
        2,
        Some("20261207101502"),
        &[(1, 1, "Occlusion")],
    );
    std::fs::write(dir.path().join("b.dcm"), &first).unwrap();
    std::fs::write(dir.path().join("a.dcm"), &second).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not dicom").unwrap();
    let import = dicom::read_with_warnings(dir.path()).unwrap();
    let segments = &import.recording.segments;
    let spans: Vec<(f64, usize)> = segments
        .iter()
        .map(|s| (s.start_s, s.channels[0].samples.len()))
        .collect();
    assert_eq!(spans, [(0.0, 100), (0.6, 350), (2.0, 500)]);
    assert!((segments[2].channels[0].samples[0] - 80.0).abs() < 1e-12);
    assert_eq!(import.recording.markers[0].time_s, 2.0);
    // Another study's object is refused.
    std::fs::write(
        dir.path().join("c.dcm"),
        hd_object(&[group(0, None)], "9.9.9", 1, None, &[]),
    )
    .unwrap();
    let error = dicom::read_with_warnings(dir.path()).unwrap_err().to_string();
    assert!(error.contains("2 different studies"), "{error}");
    std::fs::remove_file(dir.path().join("c.dcm")).unwrap();
    // So is an object overlapping another in time.
    let overlapping = hd_object(&[group(0, None)], "1.2.3.6", 3, Some("20261207101501"), &[]);
    std::fs::write(dir.path().join("d.dcm"), overlapping).unwrap();
    let error = dicom::read_with_warnings(dir.path()).unwrap_err().to_string();
    assert!(error.contains("overlap in time"), "{error}");
}

#[test]
fn eight_bit_samples_and_a_single_padded_sample() {
    let mut object = hd_object(
        &[GroupSpec {
            rate_hz: 200.0,
            channels: vec![pa(), lvp()],
            samples: vec![vec![0; 4], vec![0; 4]],
            padding: None,
            offset_ms: 0.0,
        }],
        "1.2.3.7",
        1,
        None,
        &[],
    );
    // Re-encode the group as 8-bit SB with a padded sample, through dicom-object.
    let mut file = dicom_object::from_reader(&object[128..]).unwrap();
    let groups = file
        .element(tags::WAVEFORM_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()
        .to_vec();
    let mut group = groups[0].clone();
    group.put(element(tags::WAVEFORM_BITS_ALLOCATED, VR::US, 8_u16));
    group.put(element(tags::WAVEFORM_SAMPLE_INTERPRETATION, VR::CS, "SB"));
    group.put(element(
        tags::WAVEFORM_DATA,
        VR::OB,
        PrimitiveValue::U8(vec![10, 100, 0xF6, 100, 0x80, 100, 20, 100].into()),
    ));
    group.put(element(
        tags::WAVEFORM_PADDING_VALUE,
        VR::OB,
        PrimitiveValue::U8([0x80, 0].into()),
    ));
    file.put(sequence(tags::WAVEFORM_SEQUENCE, vec![group]));
    object.clear();
    file.write_all(&mut object).unwrap();
    let import = parse(&object).unwrap();
    let samples = &channel(&import.recording, "pa").samples;
    assert!((samples[0] - 1.0).abs() < 1e-12 && (samples[1] + 1.0).abs() < 1e-12);
    assert!(
        samples[2].is_nan(),
        "a padded sample in one channel is a missing sample"
    );
    assert!((samples[3] - 2.0).abs() < 1e-12);
    assert!((channel(&import.recording, "lvp").samples[2] - 5.0).abs() < 1e-12);
}

#[test]
fn damaged_files_give_a_clear_error_and_never_panic() {
    let bytes = std::fs::read(ECG).unwrap();
    // Truncated anywhere: inside the meta group, the data set, the sample data.
    for cut in [
        0,
        100,
        131,
        140,
        300,
        2_000,
        20_000,
        100_000,
        bytes.len() - 1000,
        bytes.len() - 1,
    ] {
        let result = parse(&bytes[..cut]);
        let error = result.expect_err(&format!("cut at {cut} must not import"));
        assert!(error.to_string().contains("built.dcm"), "{error}");
    }
    // Mutated: a byte changed every 23 bytes in the header region, one at a time: an error or an import, never a
    // panic. (A damaged length once made the parser zero gigabytes for a minute or more; lengths are now checked
    // against the file before parsing, so no timing is asserted here: speed lives in the benchmarks.)
    let mut errors = 0;
    for position in (132..6000).step_by(23) {
        let mut mutated = bytes.clone();
        mutated[position] ^= 0xA5;
        if parse(&mutated).is_err() {
            errors += 1;
        }
    }
    assert!(errors >= 5, "{errors}");
    // Not DICOM at all.
    let error = parse(b"hello, this is a text file").unwrap_err().to_string();
    assert!(error.contains("not a DICOM file"), "{error}");
    // DICOM without a waveform.
    let object = InMemDicomObject::from_element_iter([
        element(tags::SOP_CLASS_UID, VR::UI, uids::SECONDARY_CAPTURE_IMAGE_STORAGE),
        element(tags::SOP_INSTANCE_UID, VR::UI, "1.2.3.8"),
    ])
    .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
    .unwrap();
    let mut image = Vec::new();
    object.write_all(&mut image).unwrap();
    let error = parse(&image).unwrap_err().to_string();
    assert!(error.contains("holds no waveform"), "{error}");
    // Sample data shorter than the group says.
    let short = hd_object(
        &[GroupSpec {
            rate_hz: 250.0,
            channels: vec![pa()],
            samples: vec![vec![1; 10]],
            padding: None,
            offset_ms: 0.0,
        }],
        "1.2.3.9",
        1,
        None,
        &[],
    );
    let mut file = dicom_object::from_reader(&short[128..]).unwrap();
    let mut group = file.element(tags::WAVEFORM_SEQUENCE).unwrap().items().unwrap()[0].clone();
    group.put(element(tags::NUMBER_OF_WAVEFORM_SAMPLES, VR::UL, 20_u32));
    file.put(sequence(tags::WAVEFORM_SEQUENCE, vec![group]));
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).unwrap();
    let error = parse(&bytes).unwrap_err().to_string();
    assert!(error.contains("fewer than 1 channels x 20 samples"), "{error}");
}

/// The sensitivity of every channel of every multiplex group of a DICOM file, in order.
fn sensitivities(bytes: &[u8]) -> Vec<f64> {
    let object = dicom_object::from_reader(&bytes[128..]).unwrap();
    let groups = object
        .element(tags::WAVEFORM_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()
        .to_vec();
    groups
        .iter()
        .flat_map(|group| {
            group
                .element(tags::CHANNEL_DEFINITION_SEQUENCE)
                .unwrap()
                .items()
                .unwrap()
                .to_vec()
        })
        .map(|channel| {
            channel
                .element(tags::CHANNEL_SENSITIVITY)
                .unwrap()
                .to_float64()
                .unwrap()
        })
        .collect()
}

#[test]
fn a_recorded_simulated_case_exported_as_dicom_imports_as_its_decimated_signal() {
    use heracles::export::dicom::waveform;
    use heracles::signal::antialias::LowPassFir;
    let dir = scratch();
    let data = dir.path().display().to_string();
    let seconds = 12.0;
    heracles(&[
        "record",
        "--source",
        "sim",
        "--case",
        "HER-TST-0703",
        "--seconds",
        "12",
        "--data-dir",
        &data,
    ])
    .unwrap();
    let case = dir.path().join("HER-TST-0703.heracles");
    let study_dir = dir.path().join("study");
    heracles(&[
        "export",
        case.to_str().unwrap(),
        "--to",
        study_dir.to_str().unwrap(),
        "--dicom",
        "--as",
        "tester",
    ])
    .unwrap();
    // The whole study folder: its report and case-file objects are skipped, its waveforms joined.
    let import = dicom::read_with_warnings(&study_dir).unwrap();
    assert!(
        import
            .warnings
            .iter()
            .any(|w| w.contains("not a waveform object")),
        "{:?}",
        import.warnings
    );
    // Nothing else: the reference ECG beside the pressures is within the HD object's (extensible) channel sources.
    assert!(
        import
            .warnings
            .iter()
            .all(|w| w.contains("not a waveform object")),
        "{:?}",
        import.warnings
    );
    let waveform_files: Vec<_> = {
        let mut files: Vec<_> = std::fs::read_dir(&study_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with("-waveform.dcm"))
            .collect();
        files.sort();
        files
    };
    assert_eq!(waveform_files.len(), 1, "12 s is one instance");
    let steps = sensitivities(&std::fs::read(&waveform_files[0]).unwrap());
    // The stored signal, low-passed and decimated to 250 Hz as the writer does.
    let file = heracles::store::CaseFile::open_read_only(&case).unwrap();
    let stored = file.recording(Some(0.0), Some(seconds + 1.0)).unwrap();
    let stored: Vec<&heracles::model::TimeSeries> =
        stored.segments.iter().flat_map(|s| &s.channels).collect();
    let filter = LowPassFir::kaiser(
        waveform::PASS_HZ,
        waveform::STOP_HZ,
        waveform::ATTENUATION_DB,
        1000.0,
    )
    .unwrap();
    let segments = &import.recording.segments;
    assert_eq!(segments.len(), 1);
    let imported = &segments[0].channels;
    assert_eq!(imported.len(), steps.len());
    let mut names: Vec<&str> = imported.iter().map(|c| c.name.as_str()).collect();
    let mut stored_names: Vec<&str> = stored.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    stored_names.sort();
    assert_eq!(names, stored_names, "every channel comes back in its role");
    let mut worst_lsb: f64 = 0.0;
    for (channel, step) in imported.iter().zip(&steps) {
        let source = stored.iter().find(|c| c.name == channel.name).unwrap();
        assert_eq!(channel.unit, source.unit, "{}", channel.name);
        assert_eq!(channel.sample_rate_hz, waveform::RATE_HZ);
        assert_eq!(source.sample_rate_hz, 1000.0);
        // All but the last second, where the writer holds the last samples for its filter.
        let count = ((seconds - 1.0) * waveform::RATE_HZ) as usize;
        let truth = filter.decimate(&source.samples, 0, 4, count);
        for (k, (&got, &want)) in channel.samples.iter().zip(&truth).enumerate() {
            let error_lsb = (got - want).abs() / step;
            worst_lsb = worst_lsb.max(error_lsb);
            assert!(
                error_lsb <= 0.5 + 1e-6,
                "{} sample {k}: imported {got}, decimated {want}, step {step}",
                channel.name
            );
        }
    }
    eprintln!(
        "round trip: worst error {worst_lsb:.3} LSB over {} channels",
        imported.len()
    );
    // And into a case file, which the review opens like any other.
    heracles(&[
        "import",
        study_dir.to_str().unwrap(),
        "--case",
        "HER-TST-0704",
        "--data-dir",
        &data,
    ])
    .unwrap();
    let back = heracles::store::CaseFile::open_read_only(&dir.path().join("HER-TST-0704.heracles")).unwrap();
    assert!(back.verify().unwrap().ok());
    assert_eq!(back.channels().unwrap().len(), imported.len());
}

#[test]
fn a_protocol_case_study_comes_back_as_one_timeline_with_its_markers() {
    let dir = scratch();
    let path = crate::review_case::create(dir.path(), 705);
    drop(heracles::review::session::ReviewSession::open(&path, "fellow").unwrap());
    let study =
        heracles::export::dicom::study_of_case(&path, &heracles::export::dicom::TrialContext::heracles())
            .unwrap();
    let out = dir.path().join("study");
    heracles::export::dicom::write_study(&study, &out).unwrap();
    let import = dicom::read_with_warnings(&out).unwrap();
    let recording = &import.recording;
    // Baseline (0-60 s) and post-unloading (60-125 s) series meet without a hole.
    let mut end_s = 0.0;
    for segment in &recording.segments {
        assert!(
            (segment.start_s - end_s).abs() < 1.0 / 250.0,
            "{} after {end_s}",
            segment.start_s
        );
        end_s = segment.start_s + segment.channels[0].duration_s();
    }
    assert!((end_s - crate::review_case::DURATION_S).abs() < 0.01, "{end_s}");
    // The marker at 40 s and the protocol steps come back as markers at their times.
    let balloon = recording
        .markers
        .iter()
        .find(|m| m.text == "IVC balloon inflated")
        .unwrap_or_else(|| panic!("{:?}", recording.markers));
    assert!((balloon.time_s - 40.0).abs() < 1.0 / 250.0, "{}", balloon.time_s);
    assert!(
        recording
            .markers
            .iter()
            .any(|m| m.text.starts_with("Protocol step:"))
    );
}
