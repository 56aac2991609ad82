//! The case as a DICOM study (issue #17 item 1), checked against the case file it comes from and by outside
//! readers: our own IOD limits checker passes every object and finds each broken limit; `dciodvfy` reports no
//! error; pydicom (`$HERACLES_TEST_PYTHON`, which `.ci/run` provides) reads the waveforms back as the decimated
//! stored signal within quantisation, with the units and sources written; UIDs and bytes are the same on a
//! second conversion and differ between cases; an identifier planted in an annotation refuses the study naming
//! the field; the Raw Data instance carries the case file snapshot and its SHA-256; a case failing `verify` is
//! refused; a gap is padding with an annotation; a 200 Hz source is resampled and decimated, a 250 Hz one only
//! filtered; ten channels fill two multiplex groups; a long recording is cut into 10-minute instances without a
//! seam; `heracles export --dicom` writes the study.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use dicom_core::value::{DataSetSequence, PrimitiveValue, Value};
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use heracles::export::ExportError;
use heracles::export::dicom::{
    self, DicomError, DicomStudy, TrialContext, casefile, limits, study_of_case, waveform,
};
use heracles::review::session::{Edit, ReviewSession};
use heracles::signal::antialias::LowPassFir;
use heracles::store::CaseFile;

use crate::review_case;

/// The errors `dciodvfy` (dicom3tools of June 2022, Debian's) gives for standard attributes newer than its
/// dictionary, which the study uses deliberately: the Other Clinical Trial Protocol IDs Sequence (0012,0023) and its
/// Issuer of Clinical Trial Protocol ID (0012,0022) carry the IRAS id where the standard now has a place for it.
pub(crate) const DCIODVFY_NEWER_ATTRIBUTES: [&str; 2] = [
    "Attribute with an even group number is not a recognized standard attribute - (0x0012,0x0022)",
    "Attribute with an even group number is not a recognized standard attribute - (0x0012,0x0023)",
];

/// The synthetic recorded case (baseline 0-60 s, post-unloading 60-125 s, a marker at 40 s), analysed.
fn analysed_case(dir: &Path, number: u16) -> PathBuf {
    let path = review_case::create(dir, number);
    drop(ReviewSession::open(&path, "fellow").unwrap());
    path
}

fn study(path: &Path) -> DicomStudy {
    study_of_case(path, &TrialContext::heracles()).unwrap()
}

#[test]
fn a_recorded_case_becomes_one_study_of_waveforms_report_and_case_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = analysed_case(dir.path(), 701);
    let study = study(&path);
    let kinds: Vec<&str> = study.instances.iter().map(|i| i.kind()).collect();
    // Baseline (0-60 s) and post-unloading (60-125 s): one waveform instance each (under 10 min).
    assert_eq!(kinds, ["waveform", "waveform", "report", "casefile"]);
    let series: std::collections::BTreeSet<&str> = study
        .instances
        .iter()
        .map(|i| i.series_instance_uid.as_str())
        .collect();
    assert_eq!(series.len(), 4, "baseline, post-unloading, report, case file");
    for instance in &study.instances {
        // (a) Our own IOD checker passes every object.
        assert_eq!(limits::check_bytes(&instance.bytes), [], "{}", instance.kind());
        let object = dicom_object::from_reader(&instance.bytes[..]).unwrap();
        let text = |tag| {
            object
                .element(tag)
                .unwrap()
                .to_str()
                .unwrap()
                .trim_end_matches('\0')
                .to_owned()
        };
        assert_eq!(text(tags::STUDY_INSTANCE_UID), study.study_instance_uid);
        assert_eq!(text(tags::SOP_INSTANCE_UID), instance.sop_instance_uid);
        assert_eq!(text(tags::PATIENT_ID), "HER-TST-0701");
        assert_eq!(text(tags::CLINICAL_TRIAL_SUBJECT_ID), "HER-TST-0701");
        assert_eq!(text(tags::CLINICAL_TRIAL_PROTOCOL_ID), "HERACLES");
        assert_eq!(text(tags::CLINICAL_TRIAL_SITE_ID), "TST");
        assert_eq!(text(tags::PATIENT_BIRTH_DATE), "");
        let other = object
            .element(tags::OTHER_CLINICAL_TRIAL_PROTOCOL_I_DS_SEQUENCE)
            .unwrap();
        let iras = &other.items().unwrap()[0];
        assert_eq!(
            iras.element(tags::CLINICAL_TRIAL_PROTOCOL_ID)
                .unwrap()
                .to_str()
                .unwrap(),
            "300145"
        );
        assert_eq!(
            iras.element(tags::ISSUER_OF_CLINICAL_TRIAL_PROTOCOL_ID)
                .unwrap()
                .to_str()
                .unwrap(),
            "IRAS"
        );
    }
    let series_ids: Vec<String> = study
        .instances
        .iter()
        .map(|i| {
            let object = dicom_object::from_reader(&i.bytes[..]).unwrap();
            object
                .element(tags::CLINICAL_TRIAL_SERIES_ID)
                .unwrap()
                .to_str()
                .unwrap()
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(series_ids, ["BASELINE", "POST-UNLOADING", "REPORT", "CASE-FILE"]);
    // Written as files, one per object, and `dciodvfy` (b) finds no error in any.
    let out = dir.path().join("study");
    let files = dicom::write_study(&study, &out).unwrap();
    assert_eq!(files.len(), 4);
    let mut warnings = Vec::new();
    for file in &files {
        let output = Command::new("dciodvfy")
            .arg(file)
            .output()
            .expect("dciodvfy (dicom3tools) is installed by .ci/run");
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let errors: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with("Error") && !DCIODVFY_NEWER_ATTRIBUTES.iter().any(|a| l.contains(a)))
            .collect();
        assert!(errors.is_empty(), "{}:\n{report}", file.display());
        warnings.extend(
            report
                .lines()
                .filter(|l| l.starts_with("Warning"))
                .map(|l| format!("{}: {l}", file.file_name().unwrap().to_string_lossy())),
        );
    }
    eprintln!("dciodvfy warnings:\n{}", warnings.join("\n"));
    // The same folder again is refused, nothing replaced.
    assert!(dicom::write_study(&study, &out).is_err());
}

/// The stored channels over the first `seconds`, low-passed and decimated to 250 Hz exactly as the export's
/// design says (1 kHz source: factor 4, Kaiser 100/125 Hz, 60 dB).
fn decimated_truth(path: &Path, seconds: f64) -> Vec<(String, Vec<f64>)> {
    let file = CaseFile::open_read_only(path).unwrap();
    let recording = file.recording(Some(0.0), Some(seconds + 1.0)).unwrap();
    let filter = LowPassFir::kaiser(
        waveform::PASS_HZ,
        waveform::STOP_HZ,
        waveform::ATTENUATION_DB,
        1000.0,
    )
    .unwrap();
    let count = (seconds * waveform::RATE_HZ) as usize;
    recording.segments[0]
        .channels
        .iter()
        .map(|c| (c.name.clone(), filter.decimate(&c.samples, 0, 4, count)))
        .collect()
}

#[test]
fn pydicom_reads_the_waveforms_back_as_the_decimated_signal_within_quantisation() {
    let dir = tempfile::tempdir().unwrap();
    let path = analysed_case(dir.path(), 702);
    let study = study(&path);
    let baseline = dir.path().join("baseline.dcm");
    std::fs::write(&baseline, &study.instances[0].bytes).unwrap();
    let script = r#"
import json, sys
import pydicom
from pydicom.multival import MultiValue
def positions(value):
    return list(value) if isinstance(value, (list, MultiValue)) else [value]
ds = pydicom.dcmread(sys.argv[1])
group = ds.WaveformSequence[0]
arr = ds.waveform_array(0)
out = {
    "modality": ds.Modality,
    "rate": float(group.SamplingFrequency),
    "samples": int(group.NumberOfWaveformSamples),
    "channels": [
        {
            "label": ch.ChannelLabel,
            "source": [ch.ChannelSourceSequence[0].CodeValue, ch.ChannelSourceSequence[0].CodingSchemeDesignator],
            "unit": ch.ChannelSensitivityUnitsSequence[0].CodeValue,
            "sensitivity": float(ch.ChannelSensitivity),
            "values": arr[:, i].tolist(),
        }
        for i, ch in enumerate(group.ChannelDefinitionSequence)
    ],
    "annotations": [
        [a.UnformattedTextValue, a.TemporalRangeType, [int(p) for p in positions(a.ReferencedSamplePositions)]]
        for a in ds.WaveformAnnotationSequence
    ],
}
json.dump(out, sys.stdout)
"#;
    let read = crate::python::run_json(script, &[baseline.as_os_str()]);
    assert_eq!(read["modality"], "HD");
    assert_eq!(read["rate"], 250.0);
    assert_eq!(read["samples"], 15_000, "the baseline series: 0-60 s at 250 Hz");
    let truth = decimated_truth(&path, 60.0);
    let expected = [
        ("ECG", "2:0", "MDC", "mV"),
        ("Pa", "128444004", "SCT", "mm[Hg]"),
        ("Pd", "128433007", "SCT", "mm[Hg]"),
        ("Doppler velocity", "128434001", "SCT", "cm/s"),
        ("LV pressure", "128438003", "SCT", "mm[Hg]"),
        ("LV volume", "128432002", "SCT", "mL"),
    ];
    let channels = read["channels"].as_array().unwrap();
    assert_eq!(channels.len(), expected.len());
    for ((channel, (label, code, scheme, unit)), (name, values)) in channels.iter().zip(expected).zip(&truth)
    {
        assert_eq!(channel["label"], label, "{name}");
        assert_eq!(channel["source"][0], code, "{name}");
        assert_eq!(channel["source"][1], scheme, "{name}");
        assert_eq!(channel["unit"], unit, "{name}");
        let sensitivity = channel["sensitivity"].as_f64().unwrap();
        let read_values = channel["values"].as_array().unwrap();
        assert_eq!(read_values.len(), values.len());
        for (k, (got, want)) in read_values.iter().zip(values).enumerate() {
            let got = got.as_f64().unwrap();
            assert!(
                (got - want).abs() <= sensitivity / 2.0 + 1e-9,
                "{name} sample {k}: read {got}, decimated {want}, step {sensitivity}"
            );
        }
    }
    // The marker at 40 s is at sample 40 * 250 + 1; the protocol steps are segments.
    let annotations = read["annotations"].as_array().unwrap();
    assert!(
        annotations
            .iter()
            .any(|a| a[0] == "IVC balloon inflated" && a[1] == "POINT" && a[2][0] == 10_001),
        "{annotations:?}"
    );
    assert!(
        annotations
            .iter()
            .any(|a| a[0] == "Protocol step: Baseline coronary" && a[1] == "SEGMENT"),
        "{annotations:?}"
    );
}

#[test]
fn the_same_case_gives_the_same_objects_and_another_case_other_uids() {
    let dir = tempfile::tempdir().unwrap();
    let first = analysed_case(dir.path(), 703);
    let second = analysed_case(dir.path(), 704);
    let (a, again, other) = (study(&first), study(&first), study(&second));
    assert_eq!(a.study_instance_uid, again.study_instance_uid);
    assert_eq!(a.case_sha256_hex, again.case_sha256_hex);
    assert_eq!(a.instances.len(), again.instances.len());
    for (x, y) in a.instances.iter().zip(&again.instances) {
        assert_eq!(x.sop_instance_uid, y.sop_instance_uid);
        assert_eq!(x.series_instance_uid, y.series_instance_uid);
        assert!(x.bytes == y.bytes, "{} differs byte for byte", x.kind());
    }
    assert_ne!(a.study_instance_uid, other.study_instance_uid);
    let uids = |s: &DicomStudy| -> Vec<String> {
        s.instances
            .iter()
            .flat_map(|i| [i.sop_instance_uid.clone(), i.series_instance_uid.clone()])
            .collect()
    };
    let theirs = uids(&other);
    assert!(uids(&a).iter().all(|uid| !theirs.contains(uid)));
    // An edit changes the report's content: a new report instance in the same series; the waveforms stay.
    let mut session = ReviewSession::open(&first, "fellow").unwrap();
    session
        .apply(
            Edit::AddAnnotation {
                start_s: 70.0,
                end_s: None,
                text: "wire repositioned".into(),
            },
            "",
        )
        .unwrap();
    drop(session);
    let edited = study(&first);
    assert_eq!(
        edited.instances[0].sop_instance_uid, a.instances[0].sop_instance_uid,
        "baseline untouched"
    );
    assert_ne!(
        edited.instances[1].sop_instance_uid, a.instances[1].sop_instance_uid,
        "annotation at 70 s"
    );
    assert_eq!(
        edited.instances[1].series_instance_uid,
        a.instances[1].series_instance_uid
    );
    assert_ne!(edited.case_sha256_hex, a.case_sha256_hex);
}

#[test]
fn an_identifier_in_an_annotation_refuses_the_study_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = analysed_case(dir.path(), 705);
    let mut session = ReviewSession::open(&path, "fellow").unwrap();
    session
        .apply(
            Edit::AddAnnotation {
                start_s: 12.0,
                end_s: None,
                text: "seen by Mrs Jane Hargreaves".into(),
            },
            "",
        )
        .unwrap();
    drop(session);
    match study_of_case(&path, &TrialContext::heracles()) {
        Err(DicomError::Export(ExportError::Identifier { field, .. })) => {
            assert_eq!(field, "annotation at 12.0 s")
        }
        other => panic!("expected a refusal naming the annotation, got {other:?}"),
    }
}

#[test]
fn the_raw_data_instance_carries_the_case_file_snapshot_and_its_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let path = analysed_case(dir.path(), 706);
    let study = study(&path);
    let raw = study.instances.last().unwrap();
    assert_eq!(raw.sop_class_uid, casefile::SOP_CLASS_UID);
    let object = dicom_object::from_reader(&raw.bytes[..]).unwrap();
    let creator = object
        .element(casefile::CREATOR_ELEMENT)
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(creator.trim(), casefile::PRIVATE_CREATOR);
    let length = object
        .element(casefile::LENGTH_ELEMENT)
        .unwrap()
        .to_int::<usize>()
        .unwrap();
    let payload = object
        .element(casefile::PAYLOAD_ELEMENT)
        .unwrap()
        .to_bytes()
        .unwrap();
    let payload = &payload[..length];
    let snapshot = dir.path().join("independent.heracles");
    CaseFile::open_read_only(&path)
        .unwrap()
        .snapshot(&snapshot)
        .unwrap();
    let expected = std::fs::read(&snapshot).unwrap();
    assert!(
        payload == expected.as_slice(),
        "the payload is the snapshot, byte for byte"
    );
    let sha = object
        .element(casefile::SHA256_ELEMENT)
        .unwrap()
        .to_str()
        .unwrap()
        .trim()
        .to_owned();
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&expected)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sha, digest);
    assert_eq!(study.case_sha256_hex, digest);
    // The payload opens as the case it came from.
    let copy = dir.path().join("carried.heracles");
    std::fs::write(&copy, payload).unwrap();
    let carried = CaseFile::open_read_only(&copy).unwrap();
    assert!(carried.verify().unwrap().ok());
    assert_eq!(carried.summary().unwrap().case_id, "HER-TST-0706");
}

/// Replaces the item `index` of sequence `tag` in `object` after `change`.
fn change_group(
    object: &mut dicom_object::DefaultDicomObject,
    change: impl FnOnce(&mut Vec<dicom_object::InMemDicomObject>),
) {
    let mut groups = object
        .element(tags::WAVEFORM_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()
        .to_vec();
    change(&mut groups);
    object.put(DataElement::new(
        tags::WAVEFORM_SEQUENCE,
        VR::SQ,
        Value::from(DataSetSequence::from(groups)),
    ));
}

#[test]
fn the_limits_checker_finds_each_broken_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = analysed_case(dir.path(), 707);
    let study = study(&path);
    let valid = dicom_object::from_reader(&study.instances[0].bytes[..]).unwrap();
    assert_eq!(limits::check(&valid), []);
    let breaks = |change: &dyn Fn(&mut dicom_object::DefaultDicomObject), expected: &str| {
        let mut broken = valid.clone();
        change(&mut broken);
        let violations = limits::check(&broken);
        assert!(
            violations.iter().any(|v| v.to_string().contains(expected)),
            "expected {expected:?} in {violations:?}"
        );
    };
    let set = |tag, vr, value: PrimitiveValue| {
        move |group: &mut dicom_object::InMemDicomObject| {
            group.put(DataElement::new(tag, vr, value.clone()));
        }
    };
    // Five multiplex groups.
    breaks(
        &|o| change_group(o, |g| g.extend(std::iter::repeat_n(g[0].clone(), 4))),
        "5 multiplex groups",
    );
    // More than 400 Hz.
    breaks(
        &|o| {
            change_group(o, |g| {
                set(tags::SAMPLING_FREQUENCY, VR::DS, "500".into())(&mut g[0])
            })
        },
        "at most 400 Hz",
    );
    // Nine channels.
    breaks(
        &|o| {
            change_group(o, |g| {
                set(
                    tags::NUMBER_OF_WAVEFORM_CHANNELS,
                    VR::US,
                    PrimitiveValue::from(9_u16),
                )(&mut g[0])
            })
        },
        "is 9; the IOD allows 1 to 8",
    );
    // Eight-bit samples, and another sample interpretation.
    breaks(
        &|o| {
            change_group(o, |g| {
                set(tags::WAVEFORM_BITS_ALLOCATED, VR::US, PrimitiveValue::from(8_u16))(&mut g[0])
            })
        },
        "must be 16",
    );
    breaks(
        &|o| {
            change_group(o, |g| {
                set(tags::WAVEFORM_SAMPLE_INTERPRETATION, VR::CS, "SB".into())(&mut g[0])
            })
        },
        "must be SS",
    );
    // Data that does not match channels x samples.
    breaks(
        &|o| {
            change_group(o, |g| {
                set(
                    tags::WAVEFORM_DATA,
                    VR::OW,
                    PrimitiveValue::U8(vec![0u8; 10].into()),
                )(&mut g[0])
            })
        },
        "10 bytes for 6 channels",
    );
    // A required attribute missing, and a type 2 one.
    breaks(
        &|o| {
            o.remove_element(tags::STUDY_INSTANCE_UID);
        },
        "StudyInstanceUID: required (type 1) but missing",
    );
    breaks(
        &|o| {
            o.remove_element(tags::PATIENT_BIRTH_DATE);
        },
        "PatientBirthDate: required (type 2) but missing",
    );
    // A patient identifier.
    breaks(
        &|o| {
            o.put(DataElement::new(
                tags::PATIENT_BIRTH_DATE,
                VR::DA,
                PrimitiveValue::from("19500101"),
            ));
        },
        "must be empty",
    );
    breaks(
        &|o| {
            o.put(DataElement::new(
                tags::PATIENT_NAME,
                VR::PN,
                PrimitiveValue::from("Smith^Jane"),
            ));
        },
        "pseudonymous case id",
    );
    // A channel without its source.
    breaks(
        &|o| {
            change_group(o, |g| {
                let mut definitions = g[0]
                    .element(tags::CHANNEL_DEFINITION_SEQUENCE)
                    .unwrap()
                    .items()
                    .unwrap()
                    .to_vec();
                definitions[0].remove_element(tags::CHANNEL_SOURCE_SEQUENCE);
                g[0].put(DataElement::new(
                    tags::CHANNEL_DEFINITION_SEQUENCE,
                    VR::SQ,
                    Value::from(DataSetSequence::from(definitions)),
                ));
            })
        },
        "ChannelSourceSequence: required (type 1) but missing",
    );
    // An annotation beyond the samples.
    breaks(
        &|o| {
            let mut notes = o
                .element(tags::WAVEFORM_ANNOTATION_SEQUENCE)
                .unwrap()
                .items()
                .unwrap()
                .to_vec();
            notes[0].put(DataElement::new(
                tags::REFERENCED_SAMPLE_POSITIONS,
                VR::UL,
                PrimitiveValue::from(1_000_000_u32),
            ));
            notes[0].put(DataElement::new(
                tags::TEMPORAL_RANGE_TYPE,
                VR::CS,
                PrimitiveValue::from("POINT"),
            ));
            o.put(DataElement::new(
                tags::WAVEFORM_ANNOTATION_SEQUENCE,
                VR::SQ,
                Value::from(DataSetSequence::from(notes)),
            ));
        },
        "outside samples",
    );
    // The raw data's hash and the report's MIME type.
    let mut raw = dicom_object::from_reader(&study.instances[3].bytes[..]).unwrap();
    assert_eq!(limits::check(&raw), []);
    raw.put(DataElement::new(
        casefile::SHA256_ELEMENT,
        VR::LO,
        PrimitiveValue::from("0".repeat(64)),
    ));
    assert!(
        limits::check(&raw)
            .iter()
            .any(|v| v.to_string().contains("SHA-256 does not match"))
    );
    let mut report = dicom_object::from_reader(&study.instances[2].bytes[..]).unwrap();
    report.put(DataElement::new(
        tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
        VR::LO,
        PrimitiveValue::from("text/plain"),
    ));
    assert!(
        limits::check(&report)
            .iter()
            .any(|v| v.to_string().contains("application/pdf"))
    );
}

#[test]
fn heracles_export_dicom_writes_the_study_headless() {
    let dir = tempfile::tempdir().unwrap();
    let path = analysed_case(dir.path(), 708);
    let out = dir.path().join("dicom");
    let args = [
        "heracles",
        "export",
        path.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
        "--dicom",
    ];
    let code = heracles::cli::run(heracles::cli::Cli::try_parse_from(args).unwrap()).unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "001-waveform.dcm",
            "002-waveform.dcm",
            "003-report.dcm",
            "004-casefile.dcm"
        ]
    );
}

/// A 20 s case from two sources: `coronary` at 1 kHz (Pa, 80 + 20 sin(2 pi 1.2 t) mmHg) that lost 10-12 s
/// (disconnected), and `ecmo` at 200 Hz, a rate that is no multiple of 250 Hz (flow 3 + 0.5 sin(2 pi t) L/min).
fn gapped_case(dir: &Path) -> PathBuf {
    use heracles::acquisition::RecordSink;
    use heracles::model::{Block, ChannelSpec, Gap, GapReason, RecordItem, SignalKind, SourceSpec};
    use heracles::store::{Recorder, RecorderOptions};
    let file = CaseFile::create(dir, "HER-TST-0710".parse().unwrap(), "operator").unwrap();
    let path = file.path().to_owned();
    let mut recorder: Box<dyn RecordSink> =
        Box::new(Recorder::start(file, RecorderOptions::default()).unwrap());
    let spec = |id: &str, rate: f64, kind| SourceSpec {
        id: id.into(),
        label: id.into(),
        sample_rate_hz: rate,
        channels: vec![ChannelSpec::of(kind)],
    };
    let pa = |i: u64| (80.0 + 20.0 * (2.0 * std::f64::consts::PI * 1.2 * i as f64 / 1000.0).sin()) as f32;
    let flow = |i: u64| (3.0 + 0.5 * (2.0 * std::f64::consts::PI * i as f64 / 200.0).sin()) as f32;
    let block = |source, first: u64, end: u64, f: &dyn Fn(u64) -> f32| RecordItem::Block {
        source,
        block: Block {
            first_sample: first,
            channels: vec![(first..end).map(f).collect()],
        },
    };
    let items = vec![
        RecordItem::Source {
            source: 0,
            spec: spec("coronary", 1000.0, SignalKind::Pa),
            first_sample: 0,
        },
        RecordItem::Source {
            source: 1,
            spec: spec("ecmo", 200.0, SignalKind::EcmoFlow),
            first_sample: 0,
        },
        block(0, 0, 10_000, &pa),
        RecordItem::Gap {
            source: 0,
            gap: Gap {
                first_sample: 10_000,
                num_samples: 2_000,
                reason: GapReason::Disconnected,
            },
        },
        block(0, 12_000, 20_000, &pa),
        block(1, 0, 4_000, &flow),
    ];
    for mut item in items {
        while let Err(back) = recorder.offer(item) {
            item = back;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    recorder.finish(Vec::new()).unwrap();
    path
}

#[test]
fn a_gap_is_padding_with_an_annotation_and_a_200_hz_channel_joins_at_250_hz() {
    let dir = tempfile::tempdir().unwrap();
    let path = gapped_case(dir.path());
    let study = study(&path);
    let kinds: Vec<&str> = study.instances.iter().map(|i| i.kind()).collect();
    // No analysed window, so no report; no protocol steps, so one whole-case series.
    assert_eq!(kinds, ["waveform", "casefile"]);
    let object = dicom_object::from_reader(&study.instances[0].bytes[..]).unwrap();
    assert_eq!(
        object
            .element(tags::CLINICAL_TRIAL_SERIES_ID)
            .unwrap()
            .to_str()
            .unwrap()
            .trim(),
        "CASE"
    );
    let group = &object.element(tags::WAVEFORM_SEQUENCE).unwrap().items().unwrap()[0];
    assert_eq!(
        group
            .element(tags::NUMBER_OF_WAVEFORM_SAMPLES)
            .unwrap()
            .to_int::<usize>()
            .unwrap(),
        5_000
    );
    let padding = group
        .element(tags::WAVEFORM_PADDING_VALUE)
        .unwrap()
        .to_bytes()
        .unwrap();
    assert_eq!(i16::from_le_bytes([padding[0], padding[1]]), i16::MIN);
    let definitions = group
        .element(tags::CHANNEL_DEFINITION_SEQUENCE)
        .unwrap()
        .items()
        .unwrap();
    let sensitivity = |c: usize| {
        definitions[c]
            .element(tags::CHANNEL_SENSITIVITY)
            .unwrap()
            .to_float64()
            .unwrap()
    };
    let data = group.element(tags::WAVEFORM_DATA).unwrap().to_bytes().unwrap();
    let code = |k: usize, c: usize| i16::from_le_bytes([data[(k * 2 + c) * 2], data[(k * 2 + c) * 2 + 1]]);
    // The 1 kHz filter reaches this many input samples either side of an output.
    let reach = LowPassFir::kaiser(
        waveform::PASS_HZ,
        waveform::STOP_HZ,
        waveform::ATTENUATION_DB,
        1000.0,
    )
    .unwrap()
    .half_length();
    for k in 0..5_000 {
        let t = k as f64 / 250.0;
        let pa = 80.0 + 20.0 * (2.0 * std::f64::consts::PI * 1.2 * t).sin();
        if 4 * k + reach >= 10_000 && 4 * k <= 11_999 + reach {
            assert_eq!(code(k, 0), i16::MIN, "Pa at {t} s is in the gap");
        } else if (0.2..19.8).contains(&t) {
            // Away from the recording's ends, where the held end sample is not the sine's continuation.
            let got = f64::from(code(k, 0)) * sensitivity(0);
            assert!((got - pa).abs() < 0.05, "Pa at {t} s: {got} vs {pa}");
        }
        // The 200 Hz flow, resampled to 1 kHz then decimated, away from the ends (held samples there).
        if (0.2..19.8).contains(&t) {
            let flow = 3.0 + 0.5 * (2.0 * std::f64::consts::PI * t).sin();
            let got = f64::from(code(k, 1)) * sensitivity(1);
            assert!((got - flow).abs() < 0.005, "flow at {t} s: {got} vs {flow}");
        }
    }
    let notes = object
        .element(tags::WAVEFORM_ANNOTATION_SEQUENCE)
        .unwrap()
        .items()
        .unwrap();
    let gap = notes
        .iter()
        .find(|n| {
            n.element(tags::ANNOTATION_GROUP_NUMBER)
                .unwrap()
                .to_int::<u16>()
                .unwrap()
                == 4
        })
        .unwrap();
    assert_eq!(
        gap.element(tags::UNFORMATTED_TEXT_VALUE)
            .unwrap()
            .to_str()
            .unwrap()
            .trim(),
        "Not recorded (source coronary): disconnected"
    );
    assert_eq!(
        gap.element(tags::REFERENCED_SAMPLE_POSITIONS)
            .unwrap()
            .to_multi_int::<u32>()
            .unwrap(),
        [2_501, 3_000]
    );
    assert_eq!(limits::check(&object), []);
}

#[test]
fn a_case_that_fails_verify_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = gapped_case(dir.path());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE chunk SET min_value = min_value - 1 WHERE id = (SELECT min(id) FROM chunk)")
        .unwrap();
    match study_of_case(&path, &TrialContext::heracles()) {
        Err(DicomError::Export(ExportError::FailsVerify { .. })) => {}
        other => panic!("expected a refusal for failing verification, got {other:?}"),
    }
}

/// Channel `channel` of the first multiplex group of a waveform object: physical values, the step, and the
/// Acquisition DateTime.
fn decoded(bytes: &[u8], channel: usize) -> (Vec<f64>, f64, String) {
    let object = dicom_object::from_reader(bytes).unwrap();
    let group = &object.element(tags::WAVEFORM_SEQUENCE).unwrap().items().unwrap()[0];
    let channels = group
        .element(tags::NUMBER_OF_WAVEFORM_CHANNELS)
        .unwrap()
        .to_int::<usize>()
        .unwrap();
    let definition = &group
        .element(tags::CHANNEL_DEFINITION_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()[channel];
    let sensitivity = definition
        .element(tags::CHANNEL_SENSITIVITY)
        .unwrap()
        .to_float64()
        .unwrap();
    let data = group.element(tags::WAVEFORM_DATA).unwrap().to_bytes().unwrap();
    let values = data
        .chunks_exact(2 * channels)
        .map(|frame| {
            f64::from(i16::from_le_bytes([frame[2 * channel], frame[2 * channel + 1]])) * sensitivity
        })
        .collect();
    let acquired = object
        .element(tags::ACQUISITION_DATE_TIME)
        .unwrap()
        .to_str()
        .unwrap()
        .trim()
        .to_owned();
    (values, sensitivity, acquired)
}

#[test]
fn a_long_recording_is_cut_into_10_minute_instances_without_a_seam() {
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::create_lasting(
        dir.path(),
        709,
        700.0,
        heracles::store::RecorderOptions::default(),
    );
    let study = study(&path);
    let kinds: Vec<&str> = study.instances.iter().map(|i| i.kind()).collect();
    // Baseline 0-60 s; post-unloading 60-660 s and 660-700 s; no analysed window, so no report.
    assert_eq!(kinds, ["waveform", "waveform", "waveform", "casefile"]);
    assert_eq!(
        study.instances[1].series_instance_uid,
        study.instances[2].series_instance_uid
    );
    let pa = 1;
    let (first, step_first, first_time) = decoded(&study.instances[1].bytes, pa);
    let (second, step_second, second_time) = decoded(&study.instances[2].bytes, pa);
    assert_eq!((first.len(), second.len()), (150_000, 10_000));
    let parse = |dt: &str| chrono::NaiveDateTime::parse_from_str(&dt[..18], "%Y%m%d%H%M%S%.3f").unwrap();
    assert_eq!(
        (parse(&second_time) - parse(&first_time)).num_milliseconds(),
        600_000
    );
    // Across the seam at 660 s the samples are those of one continuous filtered signal.
    let file = CaseFile::open_read_only(&path).unwrap();
    let recording = file.recording(Some(655.0), Some(666.0)).unwrap();
    let samples = &recording.segments[0].channels[pa].samples;
    let filter = LowPassFir::kaiser(
        waveform::PASS_HZ,
        waveform::STOP_HZ,
        waveform::ATTENUATION_DB,
        1000.0,
    )
    .unwrap();
    let truth = filter.decimate(samples, 4_000, 4, 500); // 659-661 s
    let read: Vec<(f64, f64)> = first[149_750..]
        .iter()
        .map(|&v| (v, step_first))
        .chain(second[..250].iter().map(|&v| (v, step_second)))
        .collect();
    for (k, ((got, step), want)) in read.iter().zip(&truth).enumerate() {
        assert!(
            (got - want).abs() <= step / 2.0 + 1e-9,
            "sample {k} from 659 s: {got} vs {want}"
        );
    }
}

#[test]
fn the_waveforms_start_at_case_set_up_not_at_the_consoles_start() {
    // The console ran 9 s before the case was set up (as in the WFDB export's test).
    let dir = tempfile::tempdir().unwrap();
    let path = review_case::record_after_console_start(dir.path(), 711);
    let study = study(&path);
    let first = study
        .instances
        .iter()
        .find(|i| i.kind() == "waveform")
        .expect("a waveform object");
    // No leading padding: the object is the 20 s recorded, every channel valid from its first sample.
    for channel in 0..6 {
        let (values, step, _) = decoded(&first.bytes, channel);
        assert_eq!(values.len(), 5_000, "channel {channel}");
        let padding = f64::from(waveform::PADDING) * step;
        let leading = values.iter().take_while(|&&v| v == padding).count();
        assert_eq!(
            leading, 0,
            "channel {channel} starts with {leading} padding samples"
        );
        assert!(
            values.iter().all(|&v| v != padding),
            "channel {channel} has padding"
        );
    }
    // Its acquisition time is the set-up sample's: the case's clock zero plus 9 s.
    let (_, _, acquired) = decoded(&first.bytes, 0);
    let zero = CaseFile::open_read_only(&path)
        .unwrap()
        .recording_start_utc()
        .unwrap()
        .unwrap();
    let parse = |dt: &str| chrono::NaiveDateTime::parse_from_str(&dt[..18], "%Y%m%d%H%M%S%.3f").unwrap();
    let late = parse(&acquired) - (zero + chrono::Duration::milliseconds(9000)).naive_utc();
    assert!(
        late.num_microseconds().unwrap().abs() < 1000,
        "acquired at {acquired}, {late} after set-up"
    );
}

/// Ten channels at 250 Hz (so two multiplex groups, and no decimation: the filter alone), channel `c` a constant
/// `10 c` mmHg plus a 2 Hz sine of 1 mmHg, 10 s.
fn ten_channel_case(dir: &Path) -> PathBuf {
    use heracles::acquisition::RecordSink;
    use heracles::model::{Block, ChannelSpec, RecordItem, SourceSpec};
    use heracles::store::{Recorder, RecorderOptions};
    let file = CaseFile::create(dir, "HER-TST-0711".parse().unwrap(), "operator").unwrap();
    let path = file.path().to_owned();
    let mut recorder: Box<dyn RecordSink> =
        Box::new(Recorder::start(file, RecorderOptions::default()).unwrap());
    let channels: Vec<ChannelSpec> = (0..10)
        .map(|c| ChannelSpec {
            name: format!("p{c}"),
            unit: "mmHg".into(),
        })
        .collect();
    let value = |c: usize, i: u64| {
        (10.0 * c as f64 + (2.0 * std::f64::consts::PI * 2.0 * i as f64 / 250.0).sin()) as f32
    };
    let items = vec![
        RecordItem::Source {
            source: 0,
            spec: SourceSpec {
                id: "lab".into(),
                label: "lab".into(),
                sample_rate_hz: 250.0,
                channels,
            },
            first_sample: 0,
        },
        RecordItem::Block {
            source: 0,
            block: Block {
                first_sample: 0,
                channels: (0..10)
                    .map(|c| (0..2_500).map(|i| value(c, i)).collect())
                    .collect(),
            },
        },
    ];
    for mut item in items {
        while let Err(back) = recorder.offer(item) {
            item = back;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    recorder.finish(Vec::new()).unwrap();
    path
}

#[test]
fn more_than_eight_channels_fill_a_second_multiplex_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = ten_channel_case(dir.path());
    let study = study(&path);
    let waveform = &study.instances[0];
    assert_eq!(limits::check_bytes(&waveform.bytes), []);
    let object = dicom_object::from_reader(&waveform.bytes[..]).unwrap();
    let groups = object.element(tags::WAVEFORM_SEQUENCE).unwrap().items().unwrap();
    let counts: Vec<usize> = groups
        .iter()
        .map(|g| {
            g.element(tags::NUMBER_OF_WAVEFORM_CHANNELS)
                .unwrap()
                .to_int()
                .unwrap()
        })
        .collect();
    assert_eq!(counts, [8, 2]);
    let file = dir.path().join("ten.dcm");
    std::fs::write(&file, &waveform.bytes).unwrap();
    let output = Command::new("dciodvfy").arg(&file).output().unwrap();
    let report =
        String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout);
    let errors: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("Error") && !DCIODVFY_NEWER_ATTRIBUTES.iter().any(|a| l.contains(a)))
        .collect();
    assert!(errors.is_empty(), "{report}");
    // Channel p9 is the second channel of group 2: 90 mmHg plus the 2 Hz sine (in the pass band: unchanged).
    let group = &groups[1];
    let definitions = group
        .element(tags::CHANNEL_DEFINITION_SEQUENCE)
        .unwrap()
        .items()
        .unwrap();
    assert_eq!(
        definitions[1]
            .element(tags::CHANNEL_LABEL)
            .unwrap()
            .to_str()
            .unwrap()
            .trim(),
        "p9"
    );
    let source = &definitions[1]
        .element(tags::CHANNEL_SOURCE_SEQUENCE)
        .unwrap()
        .items()
        .unwrap()[0];
    assert_eq!(
        source.element(tags::CODE_VALUE).unwrap().to_str().unwrap().trim(),
        "128433007"
    );
    let sensitivity = definitions[1]
        .element(tags::CHANNEL_SENSITIVITY)
        .unwrap()
        .to_float64()
        .unwrap();
    let data = group.element(tags::WAVEFORM_DATA).unwrap().to_bytes().unwrap();
    for k in 50..2_450 {
        let code = i16::from_le_bytes([data[(k * 2 + 1) * 2], data[(k * 2 + 1) * 2 + 1]]);
        let want = 90.0 + (2.0 * std::f64::consts::PI * 2.0 * k as f64 / 250.0).sin();
        let got = f64::from(code) * sensitivity;
        // DC passes exactly (unit DC gain); the 1 mmHg sine within the pass-band ripple; plus half a step.
        assert!(
            (got - want).abs() <= 1.5e-3 + sensitivity / 2.0,
            "sample {k}: {got} vs {want}"
        );
    }
}

#[test]
fn the_waveform_series_name_the_vessel_measured_and_an_unconfirmed_post_vessel() {
    for (number, same_vessel) in [(731, true), (732, false)] {
        let dir = tempfile::tempdir().unwrap();
        let path = review_case::create(dir.path(), number);
        let mut file = CaseFile::open(&path).unwrap();
        file.add_marker(
            "operator",
            3.0,
            "measurement_context",
            "proximal LCx, wire past OM1; Pd/Pa 0.99 at equalisation; pressures zeroed",
        )
        .unwrap();
        let item = "Same vessel and wire position as baseline (shown above)";
        let state = if same_vessel { "ticked" } else { "unticked" };
        file.add_marker(
            "operator",
            90.0,
            "checklist",
            &format!("Post-unloading coronary: {item}: {state}"),
        )
        .unwrap();
        drop(file);
        drop(ReviewSession::open(&path, "fellow").unwrap());
        let descriptions: Vec<String> = study(&path)
            .instances
            .iter()
            .filter(|i| i.kind() == "waveform")
            .map(|instance| {
                assert_eq!(limits::check_bytes(&instance.bytes), [], "{}", instance.kind());
                let object = dicom_object::from_reader(&instance.bytes[..]).unwrap();
                let text = |tag| object.element(tag).unwrap().to_str().unwrap().trim().to_owned();
                assert_eq!(
                    text(tags::SERIES_DESCRIPTION),
                    text(tags::CLINICAL_TRIAL_SERIES_DESCRIPTION)
                );
                text(tags::SERIES_DESCRIPTION)
            })
            .collect();
        let post = if same_vessel {
            "Hemodynamic waveforms, post-unloading, proximal LCx"
        } else {
            "Hemodynamic waveforms, post-unloading, vessel not confirmed"
        };
        assert_eq!(
            descriptions,
            ["Hemodynamic waveforms, baseline, proximal LCx", post]
        );
    }
}
