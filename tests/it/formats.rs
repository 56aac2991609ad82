//! File readers against the real third-party files in `tests/data` and against small files written here by
//! an encoder of our own (WFDB formats 212/80/16, several samples per frame, skew, byte offset), plus malformed
//! variants that must give an error naming the file and line.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use heracles::formats::{self, Format, FormatError};
use heracles::model::Recording;
use heracles::model::workers::Workers;

use crate::analysis_threads::Counting;

fn data(path: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/")).join(path)
}

#[test]
fn test_icu_header_and_samples() {
    let recording = formats::read(&data("wfdb/TestICU.hea"), Format::Auto).unwrap();
    assert_eq!(recording.segments.len(), 1);
    let channels = &recording.segments[0].channels;
    assert_eq!(channels.len(), 6);
    for (i, channel) in channels.iter().enumerate() {
        assert_eq!(channel.name, format!("col {}", i + 1));
        assert_eq!(channel.sample_rate_hz, 125.0);
        assert_eq!(channel.samples.len(), 37_500);
        assert_eq!(channel.unit, "");
    }
    // Signal index 2 is arterial pressure, about 39-111 mmHg (data/README.md).
    let abp = &channels[2].samples;
    let (min, max) = abp.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
        (a.min(v), b.max(v))
    });
    assert!(
        (35.0..45.0).contains(&min) && (105.0..115.0).contains(&max),
        "{min} {max}"
    );
    // The header's initial values (ADC units, gain 1, baseline 0) are the first samples.
    assert_eq!(abp[0], 42.0);
    assert_eq!(channels[3].samples[0], 33.0);
    assert_eq!(channels[5].samples[0], -1.0);
    // Reading by record name or by data file gives the same.
    assert_eq!(
        formats::read(&data("wfdb/TestICU"), Format::Wfdb).unwrap(),
        recording
    );
    assert_eq!(
        formats::read(&data("wfdb/TestICU.dat"), Format::Auto).unwrap(),
        recording
    );
}

/// Signals as ADC values; `None` is the invalid-sample code.
struct TestSignal {
    spf: usize,
    skew: usize,
    values: Vec<Option<i32>>,
}

/// Writes frames of interleaved samples in `format`, `skew` frames of padding for skewed signals (their samples
/// appear `skew` frames late in the file), after `offset` bytes of prolog.
fn encode(format: u32, signals: &[TestSignal], num_frames: usize, offset: usize) -> Vec<u8> {
    let max_skew = signals.iter().map(|s| s.skew).max().unwrap_or(0);
    let mut stream: Vec<Option<i32>> = Vec::new();
    for frame in 0..num_frames + max_skew {
        for s in signals {
            for j in 0..s.spf {
                // The file's frame `frame` holds the signal's frame `frame - skew`.
                let value = frame
                    .checked_sub(s.skew)
                    .and_then(|f| s.values.get(f * s.spf + j).copied());
                stream.push(value.unwrap_or(Some(0)));
            }
        }
    }
    let mut bytes = vec![0xAB; offset];
    match format {
        16 => {
            for v in &stream {
                bytes.extend_from_slice(&(v.unwrap_or(-32768) as i16).to_le_bytes());
            }
        }
        80 => bytes.extend(stream.iter().map(|v| (v.unwrap_or(-128) + 128) as u8)),
        212 => {
            for pair in stream.chunks(2) {
                let a = pair[0].unwrap_or(-2048) & 0xFFF;
                let b = pair.get(1).map_or(0, |v| v.unwrap_or(-2048) & 0xFFF);
                bytes.push((a & 0xFF) as u8);
                bytes.push(((a >> 8) | ((b >> 8) << 4)) as u8);
                if pair.len() == 2 {
                    bytes.push((b & 0xFF) as u8);
                }
            }
        }
        _ => unreachable!(),
    }
    bytes
}

fn write_record(dir: &Path, header: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let path = dir.join("rec.hea");
    std::fs::write(&path, header).unwrap();
    path
}

#[test]
fn wfdb_212_with_two_samples_per_frame_skew_offset_and_invalid_codes() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 7; // odd total sample count exercises the half-filled last 212 group
    let a: Vec<Option<i32>> = (0..frames as i32 * 2).map(|i| Some(i * 100 - 700)).collect();
    let mut b: Vec<Option<i32>> = (0..frames as i32).map(|i| Some(2047 - i)).collect();
    b[3] = None;
    let c: Vec<Option<i32>> = (0..frames as i32).map(|i| Some(-2047 + 5 * i)).collect();
    let signals = [
        TestSignal {
            spf: 2,
            skew: 0,
            values: a.clone(),
        },
        TestSignal {
            spf: 1,
            skew: 2,
            values: b.clone(),
        },
        TestSignal {
            spf: 1,
            skew: 0,
            values: c.clone(),
        },
    ];
    let bytes = encode(212, &signals, frames, 6);
    let header = format!(
        "rec 3 100 {frames}\n\
         rec.dat 212x2+6 50(10)/mV 12 0 0 0 0 fast ECG\n\
         rec.dat 212:2+6 0/mmHg 12 7 0 0 0 ABP\n\
         rec.dat 212+6\n"
    );
    let path = write_record(dir.path(), &header, &[("rec.dat", bytes)]);
    let recording = formats::read(&path, Format::Auto).unwrap();
    let ch = &recording.segments[0].channels;
    assert_eq!(ch[0].name, "fast ECG");
    assert_eq!((ch[0].sample_rate_hz, ch[1].sample_rate_hz), (200.0, 100.0));
    assert_eq!(ch[0].unit, "mV");
    for (got, want) in ch[0].samples.iter().zip(&a) {
        assert_eq!(*got, (want.unwrap() - 10) as f64 / 50.0);
    }
    assert_eq!(ch[0].samples.len(), 2 * frames);
    // Gain 0 means 200; the baseline defaults to the ADC zero (7).
    for (got, want) in ch[1].samples.iter().zip(&b) {
        match want {
            Some(v) => assert_eq!(*got, (*v - 7) as f64 / 200.0),
            None => assert!(got.is_nan()),
        }
    }
    assert_eq!(ch[2].name, "signal 2");
    assert_eq!(
        ch[2].samples,
        c.iter().map(|v| v.unwrap() as f64 / 200.0).collect::<Vec<_>>()
    );
}

#[test]
fn wfdb_formats_80_and_16_in_separate_files_without_sample_count() {
    let dir = tempfile::tempdir().unwrap();
    let x: Vec<Option<i32>> = (0..50)
        .map(|i| if i == 9 { None } else { Some(i - 25) })
        .collect();
    let y: Vec<Option<i32>> = (0..50).map(|i| Some(i * 1000 - 20_000)).collect();
    let path = write_record(
        dir.path(),
        "rec 2 250\nrec_x.dat 80 10 8 0\nrec_y.dat 16x1:1 1000(-20000)/mmHg\n",
        &[
            (
                "rec_x.dat",
                encode(
                    80,
                    &[TestSignal {
                        spf: 1,
                        skew: 0,
                        values: x.clone(),
                    }],
                    50,
                    0,
                ),
            ),
            (
                "rec_y.dat",
                encode(
                    16,
                    &[TestSignal {
                        spf: 1,
                        skew: 1,
                        values: y.clone(),
                    }],
                    50,
                    0,
                ),
            ),
        ],
    );
    let recording = formats::read(&path, Format::Wfdb).unwrap();
    let ch = &recording.segments[0].channels;
    assert_eq!(ch[0].sample_rate_hz, 250.0);
    assert_eq!(ch[0].samples.len(), 50);
    assert!(ch[0].samples[9].is_nan());
    assert_eq!(ch[0].samples[0], -2.5);
    // Without a sample count, a skewed signal is as long as its file allows.
    assert_eq!(ch[1].samples.len(), 50);
    assert_eq!(ch[1].samples[0], 0.0);
    assert_eq!(ch[1].samples[49], 49.0);
}

#[test]
fn wfdb_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_record(
        dir.path(),
        "rec 1 250 100\nrec.dat 16 200 16 0\n",
        &[("rec.dat", vec![0; 20])],
    );
    let error = formats::read(&path, Format::Wfdb).unwrap_err();
    assert!(matches!(error, FormatError::Data { .. }), "{error}");
    assert!(error.to_string().contains("rec.dat"), "{error}");
    let path = write_record(dir.path(), "rec 1 250 10\nrec.dat 24 200 16 0\n", &[]);
    assert!(matches!(
        formats::read(&path, Format::Wfdb),
        Err(FormatError::Unsupported { .. })
    ));
    let path = write_record(dir.path(), "rec 1 250 10\nrec.dat 16 x200 16 0\n", &[]);
    let error = formats::read(&path, Format::Wfdb).unwrap_err();
    assert!(matches!(error, FormatError::Syntax { line: 2, .. }), "{error}");
    assert!(
        error.to_string().starts_with(&format!("{}:2:", path.display())),
        "{error}"
    );
    let missing = dir.path().join("absent.hea");
    assert!(matches!(
        formats::read(&missing, Format::Wfdb),
        Err(FormatError::Io { .. })
    ));
}

#[test]
fn inca_example_channels_rate_and_beat_counter() {
    let recording = formats::read(&data("inca/inca_ivc_occlusion_example.csv"), Format::Auto).unwrap();
    let segment = &recording.segments[0];
    let names: Vec<&str> = segment.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["beat#", "ecg", "lvp", "temperature", "lvv"]);
    let units: Vec<&str> = segment.channels.iter().map(|c| c.unit.as_str()).collect();
    assert_eq!(units, ["", "", "mmHg", "\u{b0}C", "ml"]);
    for channel in &segment.channels {
        assert_eq!(channel.sample_rate_hz, 250.0);
        assert_eq!(channel.samples.len(), 5805);
    }
    let beat = &segment.channels[0].samples;
    assert_eq!((beat[0], beat[beat.len() - 1]), (0.0, 30.0));
    assert_eq!(segment.channels[2].samples[0], 23.95);
    assert!(recording.markers[0].text.contains("25 Hz low pass"));
}

#[test]
fn inca_malformed_variants_give_line_numbered_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        "Filter: 25 Hz low pass,,\r\nbeat#,Time,Pressure\r\n,,mmHg\r\n0,0,10\r\n0,0.004,11\r\n0,0.008,12\r\n";
    let rows: String = (0..10)
        .map(|i| format!("0,{},{i}\r\n", i as f64 * 0.004))
        .collect();
    let long = format!("Filter: none\r\nbeat#,Time,Pressure\r\n,,mmHg\r\n{rows}");
    let cases: [(&str, String, usize); 6] = [
        ("empty", String::new(), 1),
        (
            "truncated header",
            "Filter: 25 Hz low pass,,\r\nbeat#,Ti".to_owned(),
            2,
        ),
        ("no units", "Filter: x\r\nbeat#,Time,Pressure\r\n".to_owned(), 3),
        ("non-numeric cell", good.replace("0,0.004,11", "0,0.004,1x1"), 5),
        (
            "wrong column count",
            good.replace("0,0.008,12", "0,0.008,12,13"),
            6,
        ),
        ("time off the grid", long.replace("0,0.02,5", "0,0.03,5"), 9),
    ];
    for (what, text, line) in cases {
        let path = dir.path().join(format!("{}.csv", what.replace(' ', "_")));
        std::fs::write(&path, text).unwrap();
        match formats::read(&path, Format::Inca) {
            Err(FormatError::Syntax {
                line: got, path: p, ..
            }) => {
                assert_eq!(got, line, "{what}");
                assert_eq!(p, path);
            }
            other => panic!("{what}: expected a syntax error, got {other:?}"),
        }
    }
    let path = dir.path().join("good.csv");
    std::fs::write(&path, good).unwrap();
    assert_eq!(formats::detect(&path).unwrap(), Format::Inca);
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    assert!(matches!(
        formats::read(&other, Format::Auto),
        Err(FormatError::Unrecognised { .. })
    ));
    assert_eq!("WFDB".parse::<Format>(), Ok(Format::Wfdb));
}

/// Every sample's bits, channel by channel (`NaN` compared too), with the channels' names and rates.
fn sample_bits(recording: &Recording) -> Vec<(String, f64, Vec<u64>)> {
    let segment = &recording.segments[0];
    segment
        .channels
        .iter()
        .map(|c| {
            let bits = c.samples.iter().map(|v| v.to_bits()).collect();
            (c.name.clone(), c.sample_rate_hz, bits)
        })
        .collect()
}

#[test]
fn wfdb_read_on_several_threads_is_one_threads_recording() {
    static RUNNER: Counting = Counting {
        parts: AtomicUsize::new(0),
    };
    let dir = tempfile::tempdir().unwrap();
    // An odd number of frames of three 16-bit signals (the invalid code among them) after a prolog, and a file
    // whose skew and two samples per frame take the general decoding.
    let frames = 70_001;
    let signal = |seed: i32, skew, spf| TestSignal {
        spf,
        skew,
        values: (0..(frames * spf) as i32)
            .map(|i| (i % 997 != 5).then_some((i * seed) % 30_000))
            .collect(),
    };
    let simple = encode(
        16,
        &[signal(7, 0, 1), signal(-13, 0, 1), signal(29, 0, 1)],
        frames,
        6,
    );
    let skewed = encode(16, &[signal(3, 1, 2), signal(5, 0, 1)], frames, 0);
    let header = format!(
        "rec 5 500 {frames}\n\
         rec.dat 16+6 40511.45689702854(-17622)/NU 16 0 0 0 0 ecg\n\
         rec.dat 16+6 877.4575470589193(-59362)/mmHg 16 0 0 0 0 pa\n\
         rec.dat 16+6 8/mmHg 16 0 0 0 0 pd\n\
         rec_s.dat 16x2:1 200(3)/mV 16 0 0 0 0 fast\n\
         rec_s.dat 16 3/mmHg 16 0 0 0 0 slow\n"
    );
    let written = write_record(dir.path(), &header, &[("rec.dat", simple), ("rec_s.dat", skewed)]);
    for path in [written, data("wfdb/TestICU.hea")] {
        let one = sample_bits(&formats::read(&path, Format::Wfdb).unwrap());
        for count in [2, 3, 4] {
            let before = RUNNER.parts.load(Ordering::Relaxed);
            let workers = Workers::new(NonZeroUsize::new(count).unwrap(), &RUNNER);
            let many = sample_bits(&formats::read_with(&path, Format::Wfdb, workers).unwrap());
            assert!(one == many, "{}: {count} threads", path.display());
            let parts = RUNNER.parts.load(Ordering::Relaxed) - before;
            assert!(parts >= 2, "{}: {count} threads, {parts} parts", path.display());
        }
    }
}
