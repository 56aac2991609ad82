//! File importers and exporters (WFDB, CD Leycom Inca CSV, LabChart text, ComboMap text, generic CSV, DICOM
//! waveforms),
//! each producing a [`crate::model::Recording`] and reporting malformed input with file and line.
//!
//! Entry point: [`read`]`(path, format)`, with [`Format::Auto`] choosing the reader from the file name and its
//! first lines ([`detect`]). Readers never panic on bad input: every problem is a [`FormatError`] that names the
//! file and, for text formats, the 1-based line.
//!
//! Adding a format: a module with `pub fn read(path) -> Result<Recording, FormatError>` (or a `parse` on bytes
//! for tests), a [`Format`] variant, a line in [`Format::ALL`]/[`Format::name`], and a rule in [`detect`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::Recording;
use crate::model::workers::Workers;

pub mod combomap;
pub mod csv;
pub mod dicom;
pub mod inca;
pub mod labchart;
pub mod wfdb;
pub mod wfdb_write;

/// What went wrong reading a file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A text line that does not parse.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, in words.
        message: String,
    },
    /// Binary content that does not fit its description (e.g. a WFDB data file shorter than its header says).
    #[error("{}: {message}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A valid file using a feature this reader does not support (yet).
    #[error("{}: not supported: {message}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The feature.
        message: String,
    },
    /// [`Format::Auto`] could not tell what the file is.
    #[error("{}: unrecognised file format (try --format {})", path.display(), Format::names())]
    Unrecognised {
        /// The file.
        path: PathBuf,
    },
}

impl FormatError {
    /// A syntax error at `line` (1-based) of `path`.
    pub fn syntax(path: &Path, line: usize, message: impl Into<String>) -> FormatError {
        FormatError::Syntax {
            path: path.to_owned(),
            line,
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> FormatError {
        FormatError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The file formats the workstation reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Decide from the file name and content ([`detect`]).
    Auto,
    /// PhysioNet WFDB record (`.hea` header + signal files).
    Wfdb,
    /// CD Leycom Inca CSV export.
    Inca,
    /// ADInstruments LabChart text export.
    LabChart,
    /// Philips/Volcano ComboMap Study Manager text export.
    ComboMap,
    /// Generic delimited text with a header row (see [`csv`] for the column map).
    Csv,
    /// DICOM Hemodynamic or ECG waveform object (`.dcm`), or a folder of the instances of one series.
    Dicom,
}

impl Format {
    /// Every format, `Auto` first.
    pub const ALL: [Format; 7] = [
        Format::Auto,
        Format::Wfdb,
        Format::Inca,
        Format::LabChart,
        Format::ComboMap,
        Format::Csv,
        Format::Dicom,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Wfdb => "wfdb",
            Format::Inca => "inca",
            Format::LabChart => "labchart",
            Format::ComboMap => "combomap",
            Format::Csv => "csv",
            Format::Dicom => "dicom",
        }
    }

    /// The format called `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(name))
    }

    fn names() -> String {
        Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join("|")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        Format::from_name(name)
            .ok_or_else(|| format!("unknown format {name:?}: expected one of {}", Format::names()))
    }
}

/// The format of the file at `path`, from its extension and, for text files, its first lines.
pub fn detect(path: &Path) -> Result<Format, FormatError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("hea") => return Ok(Format::Wfdb),
        Some("dat") if path.with_extension("hea").exists() => return Ok(Format::Wfdb),
        None if path.with_extension("hea").exists() => return Ok(Format::Wfdb),
        _ => {}
    }
    if path.is_dir() {
        // A folder of DICOM instances; the reader says so if it holds none.
        return Ok(Format::Dicom);
    }
    let head = read_head(path, 4096)?;
    if dicom::looks_like(&head) {
        return Ok(Format::Dicom);
    }
    if inca::looks_like(&head) {
        return Ok(Format::Inca);
    }
    if combomap::looks_like(&head) {
        return Ok(Format::ComboMap);
    }
    if labchart::looks_like(&head) {
        return Ok(Format::LabChart);
    }
    if extension.as_deref() == Some("csv") && csv::looks_like(&head) {
        return Ok(Format::Csv);
    }
    Err(FormatError::Unrecognised {
        path: path.to_owned(),
    })
}

/// Reads the recording at `path` in `format` (detecting it when `Auto`).
pub fn read(path: &Path, format: Format) -> Result<Recording, FormatError> {
    read_with(path, format, Workers::ONE)
}

/// [`read`], decoding on `workers` where the format allows (WFDB: runs of frames at once); the same recording
/// for any number of workers.
pub fn read_with(path: &Path, format: Format, workers: Workers) -> Result<Recording, FormatError> {
    let format = if format == Format::Auto {
        detect(path)?
    } else {
        format
    };
    match format {
        Format::Wfdb => wfdb::read_with(path, workers),
        Format::Inca => inca::read(path),
        Format::LabChart => labchart::read(path),
        Format::ComboMap => combomap::read(path),
        Format::Csv => csv::read(path),
        Format::Dicom => dicom::read(path),
        Format::Auto => Err(FormatError::Unrecognised {
            path: path.to_owned(),
        }),
    }
}

/// The first `max_bytes` of a file.
fn read_head(path: &Path, max_bytes: u64) -> Result<Vec<u8>, FormatError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut head = Vec::new();
    file.take(max_bytes)
        .read_to_end(&mut head)
        .map_err(|e| FormatError::io(path, e))?;
    Ok(head)
}

/// Text of one line of a file: UTF-8 when valid, else Latin-1 (consoles such as the Inca write `°C` in Latin-1).
/// A trailing carriage return (CRLF files) is removed.
pub fn decode_line(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A sample rate derived from a time column's span: snapped to a whole number of Hz when within 0.1 % of one
/// (a `0.004` s step printed to 3 decimals is 250 Hz, not 249.99).
pub fn rate_from_times(first_s: f64, last_s: f64, num_samples: usize) -> Option<f64> {
    if num_samples < 2 {
        return None;
    }
    let rate = (num_samples - 1) as f64 / (last_s - first_s);
    if !(rate.is_finite() && rate > 0.0) {
        return None;
    }
    let whole = rate.round();
    Some(if whole > 0.0 && (rate - whole).abs() <= 1e-3 * whole {
        whole
    } else {
        rate
    })
}
