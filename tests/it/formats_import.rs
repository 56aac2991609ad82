//! The consoles' importers on real or faithfully reconstructed files, and on malformed variants of them:
//! LabChart text (a real export), ComboMap Study Manager text (built from its documented layout), generic CSV,
//! WFDB multi-segment records (built from the real TestICU record).

use std::path::{Path, PathBuf};

use heracles::formats::{self, Format, FormatError};

const LABCHART: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/labchart/labchart_export_two_blocks.txt"
);
const TEST_ICU: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/wfdb/TestICU");

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("heracles-import")
        .tempdir()
        .unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn syntax_line(result: Result<heracles::model::Recording, FormatError>) -> usize {
    match result {
        Err(FormatError::Syntax { line, .. }) => line,
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn labchart_export_two_blocks_become_two_segments_with_markers() {
    let path = Path::new(LABCHART);
    assert_eq!(formats::detect(path).unwrap(), Format::LabChart);
    let recording = formats::read(path, Format::Auto).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(recording.segments.len(), 2);
    for segment in &recording.segments {
        assert_eq!(segment.channels.len(), 9);
        assert!(
            segment
                .channels
                .iter()
                .all(|c| c.samples.len() == 1000 && c.sample_rate_hz == 100.0)
        );
    }
    let first = &recording.segments[0];
    let titles: Vec<&str> = first.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(titles[..4], ["PushSWE", "Flow", "EMG", "Pressure"]);
    assert_eq!(
        (first.channels[3].unit.as_str(), first.channels[0].unit.as_str()),
        ("cmH2O", "")
    );
    // The first row, `0.5 3.202508 -42.38833 ...`, and the last row of block 2 `10.49 3.202305 -15.3571 ...`.
    assert_eq!(first.channels[0].samples[0], 3.202508);
    assert_eq!(first.channels[1].samples[0], -42.38833);
    assert_eq!(recording.segments[1].channels[1].samples[999], -15.3571);
    // Block starts from ExcelDateTime (days): 45855.649139942347 and 45855.665082473875, first rows at 0.5 s.
    assert!((first.start_s - 0.5).abs() < 1e-9);
    let (day_1, day_2): (f64, f64) = (
        "45855.649139942347".parse().unwrap(),
        "45855.665082473875".parse().unwrap(),
    );
    let expected = (day_2 - day_1) * 86_400.0 + 0.5;
    assert!(
        (recording.segments[1].start_s - expected).abs() < 1e-3,
        "{}",
        recording.segments[1].start_s
    );
    // Every `#*` comment is a marker, at its row's time.
    assert_eq!(recording.markers.len(), text.matches("#*").count());
    assert_eq!(recording.markers[0].text, "INSPI");
    assert!((recording.markers[0].time_s - 2.43).abs() < 1e-9);
    assert!(
        recording
            .markers
            .iter()
            .any(|m| m.text == "OBE" && (m.time_s - (expected - 0.5 + 2.75)).abs() < 1e-3)
    );
}

#[test]
fn labchart_malformed_variants_name_their_line() {
    let dir = scratch();
    let text = std::fs::read_to_string(LABCHART).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    let variant = |edit: &dyn Fn(&mut Vec<String>)| {
        let mut lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        edit(&mut lines);
        write(dir.path(), "variant.txt", lines.join("\n").as_bytes())
    };
    // A damaged value on line 500.
    let path = variant(&|lines| lines[499] = lines[499].replacen('\t', "\tx", 2));
    assert_eq!(syntax_line(formats::read(&path, Format::LabChart)), 500);
    // A row missing from the middle of block 1 (line 300): the time jumps at what is now line 300.
    let path = variant(&|lines| drop(lines.remove(299)));
    assert_eq!(syntax_line(formats::read(&path, Format::LabChart)), 300);
    // Truncated in the middle of a row (the last line loses its last cells).
    let path = variant(&|lines| {
        let last = lines.len() - 2;
        lines[last] = lines[last].split('\t').take(4).collect::<Vec<_>>().join("\t");
        lines.truncate(last + 1);
    });
    assert_eq!(
        syntax_line(formats::read(&path, Format::LabChart)),
        lines.len() - 1
    );
    // No Interval line: rows before any sample interval.
    let path = variant(&|lines| drop(lines.remove(0)));
    assert_eq!(syntax_line(formats::read(&path, Format::LabChart)), 9);
}

/// A ComboMap Study Manager export built from the documented layout: 200 Hz, R waves marked once a second.
fn combomap_export(patient: &str) -> String {
    let mut text = format!("Patient: {patient}, Study: , Session: Default, Study date: 7/14/2017, \r\n\r\n");
    text.push_str("Time\tPa\tPd\tECG\tIPV\tPv\tRWave\tTm\r\n");
    for i in 0..2000 {
        let t = 139.89 + i as f64 * 0.005;
        let phase = (i % 200) as f64 / 200.0;
        let pa = 80.0 + 40.0 * (std::f64::consts::PI * phase).sin();
        let rwave = if i % 200 == 0 { "1" } else { "" };
        let tm = format!("{}:{:02}:{:03}", (t as u64) / 60, (t as u64) % 60, i % 1000);
        text.push_str(&format!(
            "{t:.3}\t{pa:.3}\t{:.3}\t{:.3}\t{:.3}\t0.500\t{rwave}\t{tm}\r\n",
            pa * 0.9,
            phase,
            20.0 * phase
        ));
    }
    text
}

#[test]
fn combomap_export_reads_and_drops_the_patient_line() {
    let dir = scratch();
    let path = write(
        dir.path(),
        "study.txt",
        combomap_export("DOE^JOHN 1234567").as_bytes(),
    );
    assert_eq!(formats::detect(&path).unwrap(), Format::ComboMap);
    let recording = formats::read(&path, Format::Auto).unwrap();
    assert_eq!(recording.segments.len(), 1);
    let segment = &recording.segments[0];
    assert!((segment.start_s - 139.89).abs() < 1e-9);
    let pa = segment.channel("pa").unwrap();
    assert_eq!(
        (pa.sample_rate_hz, pa.samples.len(), pa.unit.as_str()),
        (200.0, 2000, "mmHg")
    );
    assert!((pa.samples[50] - (80.0 + 40.0 * (std::f64::consts::PI * 0.25).sin())).abs() < 1e-3);
    let rwave = segment.channel("rwave").unwrap();
    assert_eq!(rwave.samples.iter().filter(|&&v| v == 1.0).count(), 10);
    assert!(!format!("{recording:?}").contains("DOE") && !format!("{recording:?}").contains("1234567"));
}

#[test]
fn combomap_malformed_variants_name_their_line() {
    let dir = scratch();
    let good = combomap_export("");
    let cases = [
        (good.replacen("Patient:", "Subject:", 1), 1),
        (good.replacen("140.390", "140.39x", 1), 104),
        (
            good.replacen("\tPd\t", "\tPd\t\t", 1).replacen("Time", "Zeit", 1),
            3,
        ),
    ];
    for (text, line) in cases {
        let path = write(dir.path(), "bad.txt", text.as_bytes());
        assert_eq!(syntax_line(formats::read(&path, Format::ComboMap)), line);
    }
}

#[test]
fn csv_with_and_without_a_column_map() {
    let dir = scratch();
    let mut text = String::from("time_s,AoP (mmHg),LV volume [mL]\n");
    for i in 0..500 {
        text.push_str(&format!(
            "{:.3},{},{}\n",
            i as f64 / 250.0,
            80 + i % 40,
            120 - i % 50
        ));
    }
    let path = write(dir.path(), "run.csv", text.as_bytes());
    assert_eq!(formats::detect(&path).unwrap(), Format::Csv);
    let recording = formats::read(&path, Format::Auto).unwrap();
    let channels = &recording.segments[0].channels;
    assert_eq!(channels[0].name, "AoP");
    assert_eq!(
        (channels[1].unit.as_str(), channels[1].sample_rate_hz),
        ("mL", 250.0)
    );
    let options = formats::csv::CsvOptions {
        columns: vec![formats::csv::CsvColumn {
            header: "LV volume".into(),
            name: "lvv".into(),
            unit: String::new(),
            scale: 2.0,
            offset: 1.0,
        }],
        ..Default::default()
    };
    let mapped = formats::csv::read_with(&path, &options).unwrap();
    let lvv = &mapped.segments[0].channels[0];
    assert_eq!(
        (lvv.name.as_str(), lvv.unit.as_str(), lvv.samples[3]),
        ("lvv", "mL", 235.0)
    );
}

#[test]
fn wfdb_multi_segment_record_rebuilt_from_test_icu() {
    let dir = scratch();
    for extension in ["hea", "dat"] {
        std::fs::copy(
            format!("{TEST_ICU}.{extension}"),
            dir.path().join(format!("TestICU.{extension}")),
        )
        .unwrap();
    }
    let single = formats::read(Path::new(&format!("{TEST_ICU}.hea")), Format::Wfdb).unwrap();
    let frames = single.segments[0].channels[0].samples.len();
    assert_eq!(frames, 37_500);
    // Two copies of the record with a 10 s null segment between them.
    let master = format!(
        "icu2/3 6 125 {}\nTestICU {frames}\n~ 1250\nTestICU {frames}\n",
        2 * frames + 1250
    );
    let path = write(dir.path(), "icu2.hea", master.as_bytes());
    let recording = formats::read(&path, Format::Auto).unwrap();
    assert_eq!(recording.segments.len(), 2);
    assert_eq!(recording.segments[0].start_s, 0.0);
    assert_eq!(recording.segments[1].start_s, (frames + 1250) as f64 / 125.0);
    for segment in &recording.segments {
        assert_eq!(segment.channels, single.segments[0].channels);
    }
    // Malformed: a segment line without a length, a missing segment file, a segment longer than announced.
    let bad = write(dir.path(), "bad1.hea", b"icu2/2 6 125\nTestICU\n~ 10\n");
    assert_eq!(syntax_line(formats::read(&bad, Format::Wfdb)), 2);
    let missing = write(dir.path(), "bad2.hea", b"icu2/1 6 125\nNoSuchRecord 100\n");
    assert!(matches!(
        formats::read(&missing, Format::Wfdb),
        Err(FormatError::Io { .. })
    ));
    let short = write(dir.path(), "bad3.hea", b"icu2/1 6 125\nTestICU 100\n");
    assert!(matches!(
        formats::read(&short, Format::Wfdb),
        Err(FormatError::Data { .. })
    ));
    let nested = write(dir.path(), "bad4.hea", b"bad4/1 6 125\nbad4 100\n");
    assert!(matches!(
        formats::read(&nested, Format::Wfdb),
        Err(FormatError::Data { .. })
    ));
}

/// Runs the command line in-process (the CLI as `main` runs it, without depending on a built binary).
fn heracles(args: &[&str]) -> anyhow::Result<std::process::ExitCode> {
    use clap::Parser;
    let cli = heracles::cli::Cli::try_parse_from(std::iter::once("heracles").chain(args.iter().copied()))?;
    heracles::cli::run(cli)
}

#[test]
fn import_cli_writes_the_labchart_file_into_a_case() {
    let dir = scratch();
    let data = dir.path().display().to_string();
    heracles(&["import", LABCHART, "--case", "HER-TST-0601", "--data-dir", &data]).unwrap();
    let path = dir.path().join("HER-TST-0601.heracles");
    let file = heracles::store::CaseFile::open_read_only(&path).unwrap();
    assert!(file.verify().unwrap().ok());
    let recording = formats::read(Path::new(LABCHART), Format::LabChart).unwrap();
    let channels = file.channels().unwrap();
    assert_eq!(
        channels.len(),
        9,
        "both blocks continue one source (same channels, one rate)"
    );
    assert!(
        channels
            .iter()
            .all(|c| c.num_samples == 2000 && c.sample_rate_hz == 100.0)
    );
    let flow = channels.iter().find(|c| c.name == "Flow").unwrap();
    let second_start = (recording.segments[1].start_s * 100.0).round() as u64;
    let stored = file
        .read_samples(flow.id, 50, second_start + 1000)
        .unwrap()
        .values;
    for (i, &expected) in recording.segments[0].channels[1].samples.iter().enumerate() {
        assert_eq!(stored[i], expected as f32);
    }
    let tail = &stored[(second_start - 50) as usize..];
    for (i, &expected) in recording.segments[1].channels[1].samples.iter().enumerate() {
        assert_eq!(tail[i], expected as f32);
    }
    let gaps = file.gaps().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0].first_sample, gaps[0].num_samples),
        (1050, second_start - 1050)
    );
    let comments: Vec<_> = file
        .events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "comment")
        .collect();
    assert_eq!(comments.len(), recording.markers.len());
    assert!(
        comments
            .iter()
            .zip(&recording.markers)
            .all(|(e, m)| e.text == m.text && (e.time_s - m.time_s).abs() < 1e-9)
    );
    // Importing again into the same case is refused, and the first file is left as it was.
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(heracles(&["import", LABCHART, "--case", "HER-TST-0601", "--data-dir", &data]).is_err());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
}

#[test]
fn import_never_stores_the_combomap_patient_field() {
    let dir = scratch();
    let patient = "SMITH^ALICE 9434765919";
    let path = write(dir.path(), "export.txt", combomap_export(patient).as_bytes());
    let data = dir.path().join("cases");
    heracles(&[
        "import",
        &path.display().to_string(),
        "--case",
        "HER-TST-0602",
        "--data-dir",
        &data.display().to_string(),
    ])
    .unwrap();
    let mut found = Vec::new();
    let mut num_files = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        num_files += 1;
        for needle in ["SMITH", "ALICE", "9434765919", "export.txt", "7/14/2017"] {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(needle);
            }
        }
    }
    assert!(num_files >= 1);
    assert!(found.is_empty(), "identifying text stored: {found:?}");
    let file = heracles::store::CaseFile::open_read_only(&data.join("HER-TST-0602.heracles")).unwrap();
    let names: Vec<String> = file.channels().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["pa", "pd", "ecg", "ipv", "pv", "rwave"]);
}

#[test]
fn import_cli_reports_malformed_files_with_their_line() {
    let dir = scratch();
    let text = combomap_export("").replacen("140.390", "140.39x", 1);
    let path = write(dir.path(), "bad.txt", text.as_bytes());
    let error = heracles(&[
        "import",
        &path.display().to_string(),
        "--case",
        "HER-TST-0603",
        "--data-dir",
        &dir.path().display().to_string(),
    ])
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("bad.txt:104:"), "{message}");
    assert!(
        !dir.path().join("HER-TST-0603.heracles").exists(),
        "no case file for a file that cannot be read"
    );
    assert!(heracles(&["import", LABCHART, "--case", "not-a-case", "--data-dir", "/tmp"]).is_err());
}
