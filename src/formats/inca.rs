//! CD Leycom Inca CSV export (conductance-catheter pressure-volume console).
//!
//! Layout (see `data/README.md`): line 1 `Filter: ...` (the console's display filter, kept as a marker at 0 s
//! because it shapes dP/dt), line 2 the header `beat#,Time,<channel>,...`, line 3 the units (`°C` in Latin-1),
//! then one row per sample; CRLF or LF line ends; comma separated; trailing empty fields are allowed.
//!
//! Channels: `Time` sets the rate (snapped to whole Hz) and is not a channel. `beat#`, the console's own beat
//! counter (it increments at the console's end-diastole), is kept as a channel named [`BEAT_COUNTER`] so that beat
//! segmentation can be checked against it. Known titles map to the workstation's channel ids:
//! `ECG catheter` -> `ecg`, `Pressure` -> `lvp`, `Total Volume` -> `lvv`, `Temperature` -> `temperature`; other
//! titles (e.g. segmental volumes) are kept as written. An empty cell is a missing sample (`NaN`); any other
//! non-numeric cell, a wrong number of cells or a broken time axis is an error naming the line.

use std::path::Path;

use super::{FormatError, decode_line, rate_from_times};
use crate::model::{Marker, Recording, Segment, TimeSeries};

/// Name of the channel holding the console's beat counter.
pub const BEAT_COUNTER: &str = "beat#";

/// Whether the start of a file looks like an Inca export (line 1 `Filter:`, line 2 starting `beat#,`).
pub fn looks_like(head: &[u8]) -> bool {
    let mut lines = head.split(|&b| b == b'\n').map(decode_line);
    let first = lines.next().unwrap_or_default();
    let second = lines.next().unwrap_or_default();
    first.trim_start().starts_with("Filter:")
        && second.trim_start().to_ascii_lowercase().starts_with("beat#,")
}

/// Reads an Inca CSV export.
pub fn read(path: &Path) -> Result<Recording, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&bytes, path)
}

fn channel_name(title: &str) -> String {
    match title.trim().to_ascii_lowercase().as_str() {
        "ecg catheter" => "ecg".into(),
        "pressure" => "lvp".into(),
        "total volume" => "lvv".into(),
        "temperature" => "temperature".into(),
        _ => title.trim().to_owned(),
    }
}

/// Parses the bytes of an Inca export (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Recording, FormatError> {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(decode_line)
        .enumerate()
        .map(|(i, text)| (i + 1, text));
    let syntax = |line: usize, message: String| FormatError::syntax(path, line, message);

    let filter = match lines.next() {
        Some((_, text)) if text.trim_start().starts_with("Filter:") => {
            text.trim().trim_end_matches(',').trim().to_owned()
        }
        Some((_, text)) if text.trim().is_empty() && bytes.iter().all(u8::is_ascii_whitespace) => {
            return Err(syntax(1, "empty file".into()));
        }
        None => return Err(syntax(1, "empty file".into())),
        Some(_) => return Err(syntax(1, "expected the Inca `Filter: ...` line".into())),
    };
    let Some((header_line, header)) = lines.next() else {
        return Err(syntax(2, "file ends before the column header".into()));
    };
    let titles: Vec<&str> = header.split(',').map(str::trim).collect();
    // Trailing empty titles (a row padded with commas) are not columns.
    let num_columns = titles.iter().rposition(|t| !t.is_empty()).map_or(0, |p| p + 1);
    let titles = &titles[..num_columns];
    let position = |name: &str| titles.iter().position(|t| t.eq_ignore_ascii_case(name));
    let (Some(beat_column), Some(time_column)) = (position(BEAT_COUNTER), position("Time")) else {
        return Err(syntax(
            header_line,
            "column header must contain `beat#` and `Time`".into(),
        ));
    };
    let Some((units_line, units_text)) = lines.next() else {
        return Err(syntax(3, "file ends before the units line".into()));
    };
    let units: Vec<String> = units_text.split(',').map(|u| u.trim().to_owned()).collect();
    if units.len() < num_columns {
        return Err(syntax(
            units_line,
            format!("units line has {} fields, the header {num_columns}", units.len()),
        ));
    }

    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); num_columns];
    for (number, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = text.split(',').collect();
        let used = cells
            .iter()
            .rposition(|c| !c.trim().is_empty())
            .map_or(0, |p| p + 1);
        if used > num_columns || cells.len() < num_columns {
            return Err(syntax(
                number,
                format!(
                    "{} fields where the header has {num_columns}",
                    cells.len().max(used)
                ),
            ));
        }
        for (column, cell) in columns.iter_mut().zip(&cells) {
            let cell = cell.trim();
            let value = if cell.is_empty() {
                f64::NAN
            } else {
                cell.parse::<f64>()
                    .map_err(|_| syntax(number, format!("{cell:?} is not a number")))?
            };
            column.push(value);
        }
        let time = columns[time_column][columns[time_column].len() - 1];
        if !time.is_finite() {
            return Err(syntax(number, "missing time".into()));
        }
    }
    let times = &columns[time_column];
    let num_samples = times.len();
    if num_samples == 0 {
        return Err(syntax(units_line + 1, "no samples after the units line".into()));
    }
    let first_s = times[0];
    let sample_rate_hz = match rate_from_times(first_s, times[num_samples - 1], num_samples) {
        Some(rate) => rate,
        None if num_samples == 1 => {
            return Err(syntax(
                units_line + 1,
                "a single sample has no sample rate".into(),
            ));
        }
        None => return Err(syntax(units_line + 2, "time does not increase".into())),
    };
    // Every row must sit on the uniform grid (within half a sample).
    for (i, &t) in times.iter().enumerate() {
        if ((t - first_s) * sample_rate_hz - i as f64).abs() > 0.5 {
            return Err(syntax(
                units_line + 1 + i,
                format!("time {t} s is off the {sample_rate_hz} Hz grid"),
            ));
        }
    }

    let channels = titles
        .iter()
        .zip(units)
        .zip(columns)
        .enumerate()
        .filter(|(i, _)| *i != time_column)
        .map(|(i, ((title, unit), samples))| TimeSeries {
            name: if i == beat_column {
                BEAT_COUNTER.to_owned()
            } else {
                channel_name(title)
            },
            unit,
            sample_rate_hz,
            samples,
        })
        .collect();
    Ok(Recording {
        segments: vec![Segment {
            start_s: first_s,
            channels,
        }],
        markers: vec![Marker {
            time_s: first_s,
            text: format!("Inca export {filter}"),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = b"Filter: 25 Hz low pass,,,\r\nbeat#,Time,ECG catheter,Pressure\r\n,,,mmHg\r\n\
        0,0,1.5,10\r\n0,0.004,1.6,11\r\n1,0.008,,12\r\n";

    #[test]
    fn parses_channels_units_rate_and_marker() {
        let recording = parse(GOOD, Path::new("x.csv")).unwrap();
        let segment = &recording.segments[0];
        let names: Vec<&str> = segment.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["beat#", "ecg", "lvp"]);
        assert_eq!(segment.channels[2].unit, "mmHg");
        assert_eq!(segment.channels[0].samples, [0.0, 0.0, 1.0]);
        assert!(segment.channels[1].samples[2].is_nan());
        assert_eq!(segment.channels[1].sample_rate_hz, 250.0);
        assert_eq!(recording.markers[0].text, "Inca export Filter: 25 Hz low pass");
        assert!(looks_like(GOOD));
    }

    #[test]
    fn latin1_units_are_decoded() {
        let text = b"Filter: none\nbeat#,Time,Temperature\n,,\xb0C\n0,0,37\n0,0.004,37\n";
        let recording = parse(text, Path::new("x.csv")).unwrap();
        assert_eq!(recording.segments[0].channels[1].unit, "\u{b0}C");
    }
}
