//! ADInstruments LabChart "export as text" files.
//!
//! Layout (see `data/README.md`): tab-separated, CRLF or LF. Each block starts with header lines `Key=<TAB>...`:
//! `Interval=` (sample interval with its unit, `0.01 s`), `ExcelDateTime=` (block start as an Excel serial day,
//! then a readable date), `TimeFormat=` (`StartOfBlock` or `StartOfFile`), `DateFormat=`, `ChannelTitle=`,
//! `Range=`, `UnitName=` (`*` means none), `TopValue=`, `BottomValue=`; other `Key=` lines are accepted and
//! ignored. Then one row per sample: the time (when exported) and one value per channel. A LabChart comment sits
//! at the end of a row as `#* TEXT` (all channels) or `#N TEXT` (channel N); each becomes a marker.
//!
//! Each block becomes a segment. Time zero of the recording is the first block's start; later blocks start at
//! their own `ExcelDateTime` (so the real pause between blocks is kept), or straight after the previous block when
//! the export has no dates. A row's time must agree with its position (start + n x interval) within half an
//! interval: LabChart blocks have no gaps, so a disagreement means a damaged file. `NaN` or an empty cell is a
//! missing sample; anything else that is not a number is an error naming the line.

use std::path::Path;

use super::{FormatError, decode_line};
use crate::model::{Marker, Recording, Segment, SignalKind, TimeSeries};

/// Seconds per Excel serial day.
const SECONDS_PER_DAY: f64 = 86_400.0;

/// Whether the start of a file looks like a LabChart text export.
pub fn looks_like(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .map(decode_line)
        .take(12)
        .any(|line| line.starts_with("Interval=") || line.starts_with("ChannelTitle="))
}

/// Reads a LabChart text export.
pub fn read(path: &Path) -> Result<Recording, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&bytes, path)
}

/// The header of one block, as far as it has been read.
#[derive(Debug, Default)]
struct BlockHeader {
    interval_s: Option<f64>,
    start_day: Option<f64>,
    /// `TimeFormat=StartOfFile`: the time column counts from the start of the file, not of the block.
    time_from_file_start: bool,
    titles: Vec<String>,
    units: Vec<String>,
    /// Line of the first header line, for errors about the block as a whole.
    line: usize,
}

/// A block being read.
#[derive(Debug)]
struct Block {
    interval_s: f64,
    start_day: Option<f64>,
    time_from_file_start: bool,
    has_time: bool,
    /// Time column value of the first row.
    first_time_s: Option<f64>,
    channels: Vec<TimeSeries>,
    /// Comments: (sample position in the block, text).
    comments: Vec<(usize, String)>,
}

/// Channel id for a LabChart title: a known signal's canonical id when the title is one (`Pa` -> `pa`), else the
/// title as written.
fn channel_name(title: &str) -> String {
    SignalKind::from_name(title.trim()).map_or_else(|| title.trim().to_owned(), |kind| kind.name().to_owned())
}

/// `0.01 s`, `1 ms`, `500 us` -> seconds.
fn parse_interval(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let value: f64 = parts.next()?.parse().ok()?;
    let factor = match parts.next().unwrap_or("s") {
        "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        _ => return None,
    };
    let seconds = value * factor;
    (seconds.is_finite() && seconds > 0.0).then_some(seconds)
}

/// A cell as a sample: a number, or `NaN` for an empty or `NaN` cell.
fn parse_value(cell: &str) -> Option<f64> {
    let cell = cell.trim();
    if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    cell.parse().ok()
}

/// Parses the bytes of a LabChart text export (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Recording, FormatError> {
    let mut header = BlockHeader::default();
    let mut blocks: Vec<Block> = Vec::new();
    let mut current: Option<Block> = None;
    let syntax = |line: usize, message: String| FormatError::syntax(path, line, message);
    let mut num_lines = 0;
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        num_lines = number;
        let line = decode_line(raw);
        if line.trim().is_empty() {
            continue;
        }
        if let Some((key, rest)) = header_line(&line) {
            if let Some(block) = current.take() {
                blocks.push(block);
                header = BlockHeader::default();
            }
            if header.line == 0 {
                header.line = number;
            }
            let values: Vec<&str> = rest.split('\t').collect();
            match key {
                "Interval" => {
                    let text = values.first().copied().unwrap_or_default();
                    header.interval_s = Some(parse_interval(text).ok_or_else(|| {
                        syntax(number, format!("sample interval {text:?} is not understood"))
                    })?);
                }
                "ExcelDateTime" => {
                    let text = values.first().copied().unwrap_or_default().trim();
                    let day: f64 = text
                        .parse()
                        .map_err(|_| syntax(number, format!("block date {text:?} is not a number")))?;
                    header.start_day = day.is_finite().then_some(day);
                }
                "TimeFormat" => {
                    let format = values.first().copied().unwrap_or_default().trim();
                    header.time_from_file_start = format == "StartOfFile";
                    if !matches!(format, "" | "StartOfBlock" | "StartOfFile") {
                        return Err(FormatError::Unsupported {
                            path: path.to_owned(),
                            message: format!(
                                "line {number}: time format {format:?} (export with time from the start of the block)"
                            ),
                        });
                    }
                }
                "ChannelTitle" => header.titles = values.iter().map(|t| t.trim().to_owned()).collect(),
                "UnitName" => {
                    header.units = values
                        .iter()
                        .map(|u| {
                            if u.trim() == "*" {
                                String::new()
                            } else {
                                u.trim().to_owned()
                            }
                        })
                        .collect()
                }
                _ => {}
            }
            continue;
        }
        if current.is_none() {
            let layout = blocks.last().map(|b: &Block| b.has_time);
            current = Some(start_block(&header, layout, &line, number, path)?);
        }
        let Some(block) = current.as_mut() else { continue };
        read_row(block, &line, number, path)?;
    }
    if let Some(block) = current.take() {
        blocks.push(block);
    } else if blocks.is_empty() {
        let line = if header.line == 0 { 1 } else { num_lines };
        return Err(syntax(
            line,
            "no data rows: not a LabChart text export, or an empty one".into(),
        ));
    }
    Ok(assemble(blocks))
}

/// `Key=<TAB>rest` -> (key, rest) for a header line.
fn header_line(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once('=')?;
    let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric());
    is_key.then(|| (key, rest.strip_prefix('\t').unwrap_or(rest)))
}

/// Starts a block at its first row. Whether rows carry a time is read from the first block's cell count (one
/// more cell than titles); later blocks of the file must keep that layout.
fn start_block(
    header: &BlockHeader,
    earlier_has_time: Option<bool>,
    first_row: &str,
    number: usize,
    path: &Path,
) -> Result<Block, FormatError> {
    let syntax = |message: String| FormatError::syntax(path, number, message);
    let Some(interval_s) = header.interval_s else {
        return Err(syntax("data row before any `Interval=` line".into()));
    };
    // Trailing empty titles are padding, not channels.
    let num_titles = header
        .titles
        .iter()
        .rposition(|t| !t.is_empty())
        .map_or(0, |p| p + 1);
    let num_cells = strip_comment(first_row).0.split('\t').count();
    let (has_time, num_channels) = if num_titles == 0 {
        (true, num_cells.saturating_sub(1))
    } else if let Some(has_time) = earlier_has_time {
        if num_cells != num_titles + usize::from(has_time) {
            return Err(syntax(format!(
                "{num_cells} cells but {num_titles} channel titles"
            )));
        }
        (has_time, num_titles)
    } else if num_cells == num_titles + 1 {
        (true, num_titles)
    } else if num_cells == num_titles {
        (false, num_titles)
    } else {
        return Err(syntax(format!(
            "{num_cells} cells but {num_titles} channel titles"
        )));
    };
    if num_channels == 0 {
        return Err(syntax("a row without channel values".into()));
    }
    let channels = (0..num_channels)
        .map(|c| TimeSeries {
            name: header
                .titles
                .get(c)
                .map_or_else(|| format!("channel {}", c + 1), |t| channel_name(t)),
            unit: header.units.get(c).cloned().unwrap_or_default(),
            sample_rate_hz: 1.0 / interval_s,
            samples: Vec::new(),
        })
        .collect();
    Ok(Block {
        interval_s,
        start_day: header.start_day,
        time_from_file_start: header.time_from_file_start,
        has_time,
        first_time_s: None,
        channels,
        comments: Vec::new(),
    })
}

/// Splits a row into its cells and its comment (`#* text` or `#N text`), if any.
fn strip_comment(row: &str) -> (&str, Option<&str>) {
    let mut search = 0;
    while let Some(at) = row[search..].find('#').map(|p| p + search) {
        let after = &row[at + 1..];
        if after.starts_with('*') || after.starts_with(|c: char| c.is_ascii_digit()) {
            let cells = row[..at].trim_end_matches(['\t', ' ']);
            return (cells, Some(after));
        }
        search = at + 1;
    }
    (row, None)
}

fn read_row(block: &mut Block, line: &str, number: usize, path: &Path) -> Result<(), FormatError> {
    let syntax = |message: String| FormatError::syntax(path, number, message);
    let (cells, comment) = strip_comment(line);
    let mut cells = cells.split('\t');
    let position = block.channels.first().map_or(0, |c| c.samples.len());
    if block.has_time {
        let text = cells.next().unwrap_or_default().trim();
        let time_s: f64 = text
            .parse()
            .map_err(|_| syntax(format!("time {text:?} is not a number")))?;
        let first = *block.first_time_s.get_or_insert(time_s);
        let expected = first + position as f64 * block.interval_s;
        let within = (time_s - expected).abs() <= 0.5 * block.interval_s;
        if !within {
            return Err(syntax(format!(
                "time {time_s} s breaks the block's sample interval (expected {expected:.6} s)"
            )));
        }
    }
    let num_channels = block.channels.len();
    let mut num_read = 0;
    for (channel, cell) in block.channels.iter_mut().zip(cells.by_ref()) {
        let value =
            parse_value(cell).ok_or_else(|| syntax(format!("value {:?} is not a number", cell.trim())))?;
        channel.samples.push(value);
        num_read += 1;
    }
    if num_read < num_channels || cells.next().is_some() {
        return Err(syntax(format!("expected {num_channels} channel values")));
    }
    if let Some(comment) = comment {
        let text = comment
            .trim_start_matches(|c: char| c == '*' || c.is_ascii_digit())
            .trim();
        block.comments.push((position, text.to_owned()));
    }
    Ok(())
}

fn assemble(blocks: Vec<Block>) -> Recording {
    let first_day = blocks.first().and_then(|b| b.start_day);
    let mut recording = Recording::default();
    let mut previous_end_s = 0.0;
    for block in blocks {
        let block_start_s = match (block.start_day, first_day) {
            _ if block.time_from_file_start => 0.0,
            (Some(day), Some(first)) => (day - first) * SECONDS_PER_DAY,
            _ => previous_end_s,
        };
        let start_s = block_start_s + block.first_time_s.unwrap_or(0.0);
        let num_samples = block.channels.first().map_or(0, |c| c.samples.len());
        previous_end_s = start_s + num_samples as f64 * block.interval_s;
        for (position, text) in block.comments {
            recording.markers.push(Marker {
                time_s: start_s + position as f64 * block.interval_s,
                text,
            });
        }
        recording.segments.push(Segment {
            start_s,
            channels: block.channels,
        });
    }
    recording.markers.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    recording
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_BLOCKS: &str = "Interval=\t0.5 s\r\nExcelDateTime=\t1.0\t01/01/00\r\nTimeFormat=\tStartOfBlock\r\n\
        ChannelTitle=\tPa\tFlow\r\nUnitName=\tmmHg\t*\r\n0\t1\t2\r\n0.5\t3\tNaN\t#* start run\r\n\
        Interval=\t0.5 s\r\nExcelDateTime=\t1.0005\t01/01/00\r\nChannelTitle=\tPa\tFlow\r\nUnitName=\tmmHg\t*\r\n\
        1\t5\t6\r\n";

    #[test]
    fn blocks_become_segments_with_markers() {
        let recording = parse(TWO_BLOCKS.as_bytes(), Path::new("t.txt")).unwrap();
        assert_eq!(recording.segments.len(), 2);
        let first = &recording.segments[0];
        assert_eq!(first.start_s, 0.0);
        assert_eq!(
            (first.channels[0].name.as_str(), first.channels[0].unit.as_str()),
            ("pa", "mmHg")
        );
        assert_eq!(
            (first.channels[1].name.as_str(), first.channels[1].unit.as_str()),
            ("Flow", "")
        );
        assert_eq!(first.channels[0].samples, vec![1.0, 3.0]);
        assert!(first.channels[1].samples[1].is_nan());
        assert_eq!(first.channels[0].sample_rate_hz, 2.0);
        // 0.0005 day = 43.2 s later, and that block's first row is at 1 s.
        assert!((recording.segments[1].start_s - 44.2).abs() < 1e-6);
        assert_eq!(
            recording.markers,
            vec![Marker {
                time_s: 0.5,
                text: "start run".into()
            }]
        );
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let cases = [
            (TWO_BLOCKS.replace("0.5\t3\tNaN", "0.5\t3\tabc"), 7),
            (TWO_BLOCKS.replace("0.5\t3\tNaN", "0.9\t3\t4"), 7),
            (TWO_BLOCKS.replace("1\t5\t6", "1\t5"), 12),
            (
                TWO_BLOCKS.replace(
                    "Interval=\t0.5 s\r\nExcelDateTime=\t1.0\t",
                    "Interval=\tfast\r\nExcelDateTime=\t1.0\t",
                ),
                1,
            ),
            ("0\t1\t2\n".to_owned(), 1),
        ];
        for (text, line) in cases {
            match parse(text.as_bytes(), Path::new("bad.txt")) {
                Err(FormatError::Syntax { line: found, .. }) => assert_eq!(found, line, "{text:?}"),
                other => panic!("expected a syntax error at line {line}, got {other:?}"),
            }
        }
        assert!(matches!(
            parse(b"", Path::new("empty.txt")),
            Err(FormatError::Syntax { line: 1, .. })
        ));
    }
}
