//! `heracles import FILE --case ID [--data-dir DIR]`: reads a recorded file (WFDB, Inca CSV, LabChart text,
//! ComboMap text, generic CSV, a DICOM waveform object or a folder of them) and writes it into a new case file
//! through the store's recorder, with the file's comments (DICOM: waveform annotations) as markers and what the
//! reader had to work around (a non-conformant DICOM object) as `import` markers and warnings on standard error. The file's name and any identifying header fields are never stored: the case records
//! only that a file of that format was imported.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::acquisition::replay::{SourceSegment, split_by_rate};
use crate::acquisition::{RecordSink, RecorderHealth};
use crate::formats::csv::{CsvColumn, CsvOptions};
use crate::formats::{self, Format};
use crate::model::{Block, CaseId, Gap, GapReason, RecordItem, Recording};
use crate::store::{self, CaseFile, Recorder, RecorderOptions};

/// Samples per block handed to the recorder.
const BLOCK_SAMPLES: usize = 4096;

/// Arguments of `heracles import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The recording: a WFDB header (`.hea`), an Inca CSV, a LabChart or ComboMap text export, a CSV, a DICOM
    /// waveform object (`.dcm`) or a folder of the DICOM instances of one series.
    pub file: PathBuf,
    /// Pseudonymous case id of the new case file, e.g. `HER-STH-0007`.
    #[arg(long, value_name = "ID")]
    pub case: CaseId,
    /// File format (`auto` decides from the name and the first lines).
    #[arg(long, default_value = "auto")]
    pub format: Format,
    /// Who imports (recorded in the audit trail).
    #[arg(long, env = "HERACLES_OPERATOR", default_value = "heracles import")]
    pub operator: String,
    /// CSV column map entry `HEADER=NAME[:UNIT[:SCALE[:OFFSET]]]`, repeatable (e.g. `AoP=pa:mmHg`).
    #[arg(long = "map", value_name = "MAP")]
    pub maps: Vec<String>,
    /// CSV: samples per second when the file has no time column.
    #[arg(long, value_name = "HZ")]
    pub rate: Option<f64>,
    /// CSV: field separator (default: whichever of `,` `;` tab splits the header most).
    #[arg(long)]
    pub delimiter: Option<char>,
}

/// What an import wrote, printed as JSON.
#[derive(Debug, Serialize)]
pub struct ImportSummary {
    /// The case.
    pub case_id: String,
    /// The case file written.
    pub path: PathBuf,
    /// The format read.
    pub format: String,
    /// Segments in the file.
    pub num_segments: usize,
    /// Sources written (one per sample rate).
    pub num_sources: usize,
    /// Samples written, summed over channels.
    pub num_samples: u64,
    /// Markers written (the file's comments).
    pub num_markers: usize,
    /// What the reader worked around (e.g. a DICOM object beyond its IOD's limits), one sentence each.
    pub warnings: Vec<String>,
}

/// Parses `HEADER=NAME[:UNIT[:SCALE[:OFFSET]]]`.
fn parse_map(text: &str) -> anyhow::Result<CsvColumn> {
    let (header, target) = text
        .split_once('=')
        .with_context(|| format!("column map {text:?} has no `=`"))?;
    let mut parts = target.split(':');
    let name = parts.next().unwrap_or_default().trim();
    if header.trim().is_empty() || name.is_empty() {
        bail!("column map {text:?} must be HEADER=NAME[:UNIT[:SCALE[:OFFSET]]]");
    }
    let number = |part: Option<&str>, default: f64, what: &str| -> anyhow::Result<f64> {
        match part.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => p
                .parse()
                .with_context(|| format!("column map {text:?}: {what} {p:?} is not a number")),
            None => Ok(default),
        }
    };
    let unit = parts.next().unwrap_or_default().trim().to_owned();
    let scale = number(parts.next(), 1.0, "scale")?;
    let offset = number(parts.next(), 0.0, "offset")?;
    Ok(CsvColumn {
        header: header.trim().to_owned(),
        name: name.to_owned(),
        unit,
        scale,
        offset,
    })
}

/// Reads the file as `args` say: the recording, its format and the reader's warnings.
fn read_recording(args: &ImportArgs) -> anyhow::Result<(Recording, Format, Vec<String>)> {
    let csv_options_given = !args.maps.is_empty() || args.rate.is_some() || args.delimiter.is_some();
    let format = match args.format {
        Format::Auto if csv_options_given => Format::Csv,
        Format::Auto => formats::detect(&args.file)?,
        format => format,
    };
    let recording = if format == Format::Csv {
        let options = CsvOptions {
            delimiter: args.delimiter,
            sample_rate_hz: args.rate,
            columns: args
                .maps
                .iter()
                .map(|m| parse_map(m))
                .collect::<anyhow::Result<_>>()?,
        };
        formats::csv::read_with(&args.file, &options)?
    } else if format == Format::Dicom {
        let import = formats::dicom::read_with_warnings(&args.file)?;
        return Ok((import.recording, format, import.warnings));
    } else {
        formats::read(&args.file, format)?
    };
    Ok((recording, format, Vec::new()))
}

/// Runs `heracles import`.
pub fn run(args: ImportArgs, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (recording, format, warnings) = read_recording(&args)?;
    let dir = store::data_dir(data_dir.as_deref())?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let summary = import_recording(&recording, &warnings, format, args.case, &args.operator, &dir)?;
    outln!("{}", serde_json::to_string_pretty(&summary)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `recording` (read from a `format` file, with the reader's `warnings`) into a new case file `case_id`
/// in `dir`.
pub fn import_recording(
    recording: &Recording,
    warnings: &[String],
    format: Format,
    case_id: CaseId,
    operator: &str,
    dir: &Path,
) -> anyhow::Result<ImportSummary> {
    screen_recording(recording, warnings)?;
    let sources = split_by_rate(recording, format.name(), &format!("Imported {format} file"));
    if sources.iter().all(Vec::is_empty) {
        bail!("the file holds no samples");
    }
    // Built in a staging folder and published when complete: a killed import leaves no case behind that would
    // block importing again.
    let published = dir.join(store::file_name(case_id));
    if published.exists() {
        return Err(store::StoreError::Exists(published).into());
    }
    let staging = CaseFile::staging_dir(dir, case_id)?;
    let result = build_case(recording, warnings, format, case_id, operator, &sources, &staging).and_then(
        |(staged, summary)| {
            let path = CaseFile::publish(&staged, dir)?;
            Ok(ImportSummary { path, ..summary })
        },
    );
    if result.is_err() && staging.exists() {
        // Nothing half-built stays behind.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Refuses a recording whose channel names, units or comments look like they hold a patient identifier, naming
/// the field (the identifier itself is not repeated): the operator fixes it now (`--map` renames a CSV column),
/// not at export time. The reader's warnings are screened too (they may quote a channel label).
fn screen_recording(recording: &Recording, warnings: &[String]) -> anyhow::Result<()> {
    let channels = recording.segments.iter().flat_map(|segment| &segment.channels);
    let fields = channels
        .flat_map(|channel| {
            [
                ("channel name", channel.name.as_str()),
                ("channel unit", channel.unit.as_str()),
            ]
        })
        .chain(
            recording
                .markers
                .iter()
                .map(|marker| ("comment", marker.text.as_str())),
        )
        .chain(warnings.iter().map(|warning| ("label", warning.as_str())));
    for (field, text) in fields {
        if let Some(warning) = store::text_warnings(text).into_iter().next() {
            bail!("import refused: a {field} in the file: {warning}");
        }
    }
    Ok(())
}

/// Writes the case file into `staging`; returns its path there and the summary.
fn build_case(
    recording: &Recording,
    warnings: &[String],
    format: Format,
    case_id: CaseId,
    operator: &str,
    sources: &[Vec<SourceSegment>],
    staging: &Path,
) -> anyhow::Result<(PathBuf, ImportSummary)> {
    let mut file = CaseFile::create(staging, case_id, operator)?;
    let path = file.path().to_owned();
    let note = format!(
        "imported from a {format} file: {} segment(s), {} source(s)",
        recording.segments.len(),
        sources.len()
    );
    file.add_marker(operator, 0.0, "import", &note)?;
    for warning in warnings {
        file.add_marker(operator, 0.0, "import", &format!("import warning: {warning}"))?;
    }
    for marker in &recording.markers {
        file.add_marker(operator, marker.time_s, "comment", &marker.text)?;
    }
    let mut recorder = Recorder::start(file, RecorderOptions::default())?;
    let mut num_samples = 0;
    for (position, segments) in sources.iter().enumerate() {
        for item in record_items(position, segments) {
            if let RecordItem::Block { block, .. } = &item {
                num_samples += (block.num_samples() * block.channels.len()) as u64;
            }
            offer(&mut recorder, item)?;
        }
    }
    Box::new(recorder)
        .finish(Vec::new())
        .map_err(anyhow::Error::msg)
        .context("saving the case file")?;
    let summary = ImportSummary {
        case_id: case_id.to_string(),
        path: path.clone(),
        format: format.name().to_owned(),
        num_segments: recording.segments.len(),
        num_sources: sources.len(),
        num_samples,
        num_markers: recording.markers.len(),
        warnings: warnings.to_vec(),
    };
    Ok((path, summary))
}

/// The recorder items for one source: each segment announced, the time between segments recorded as a gap,
/// samples in blocks.
fn record_items(position: usize, segments: &[SourceSegment]) -> impl Iterator<Item = RecordItem> + '_ {
    let mut previous_end: Option<u64> = None;
    segments.iter().flat_map(move |segment| {
        let mut items = Vec::new();
        if let Some(end) = previous_end
            && segment.first_sample > end
        {
            let gap = Gap {
                first_sample: end,
                num_samples: segment.first_sample - end,
                reason: GapReason::Other("between segments of the imported file".into()),
            };
            items.push(RecordItem::Gap {
                source: position,
                gap,
            });
        }
        items.push(RecordItem::Source {
            source: position,
            spec: segment.spec.clone(),
            first_sample: segment.first_sample,
        });
        let length = segment.channels.first().map_or(0, Vec::len);
        for start in (0..length).step_by(BLOCK_SAMPLES) {
            let end = (start + BLOCK_SAMPLES).min(length);
            let block = Block {
                first_sample: segment.first_sample + start as u64,
                channels: segment.channels.iter().map(|c| c[start..end].to_vec()).collect(),
            };
            items.push(RecordItem::Block {
                source: position,
                block,
            });
        }
        previous_end = Some(segment.end_sample());
        items
    })
}

/// Hands `item` to the recorder, waiting while its queue is full (an import may wait; it must not lose).
fn offer(recorder: &mut Recorder, mut item: RecordItem) -> anyhow::Result<()> {
    loop {
        match recorder.offer(item) {
            Ok(()) => return Ok(()),
            Err(back) => {
                if let RecorderHealth::Failed(message) = recorder.health() {
                    bail!("the case file cannot be written: {message}");
                }
                item = back;
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}
