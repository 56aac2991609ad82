//! Generic delimited text (CSV, semicolon- or tab-separated) with a column map.
//!
//! The first non-empty line is the header. A time column (`time`, `t`, `time_s`, `t_s` (the simulator's) or `time (s)`, any case) sets the
//! sample rate and the start; without one, [`CsvOptions::sample_rate_hz`] must be given. By default every other
//! column becomes a channel named after its header, with the unit taken from `name (unit)` or `name [unit]`;
//! known signals get their canonical id (`Pa (mmHg)` -> `pa`). A column map ([`CsvOptions::columns`]) instead picks
//! columns by header name, renames them and scales them (`value = number x scale + offset`). An empty cell or
//! `NaN` is a missing sample; anything else that is not a number, or a row with too few cells, is an error naming
//! the line.
//!
//! Time stamps set the rate from their typical spacing (the longest run of rows without a hole), never from the
//! first and last stamp alone: rows missing from the file (a hole) start a new segment at the true time, so the
//! importer records the hole as a gap at the true rate; a stamp off the sampling grid (irregular sampling) is an
//! error naming its line.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FormatError, decode_line, rate_from_times};
use crate::model::{Recording, Segment, SignalKind, TimeSeries};

/// One mapped column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CsvColumn {
    /// Header of the column in the file (case-insensitive, unit suffix ignored).
    pub header: String,
    /// Channel id to give it, e.g. `pa`.
    pub name: String,
    /// Unit after scaling; empty takes the unit from the header.
    #[serde(default)]
    pub unit: String,
    /// Multiplier.
    #[serde(default = "one")]
    pub scale: f64,
    /// Added after scaling.
    #[serde(default)]
    pub offset: f64,
}

fn one() -> f64 {
    1.0
}

/// How to read a delimited file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Field separator; `None` picks the one of `,`, `;` and tab that splits the header into the most fields.
    pub delimiter: Option<char>,
    /// Samples per second when the file has no time column (ignored when it has one).
    pub sample_rate_hz: Option<f64>,
    /// Columns to import; empty imports every column but the time.
    pub columns: Vec<CsvColumn>,
}

/// Whether the start of a file is delimited text whose header has a time column (what [`read`] needs without a
/// column map or a rate; other delimited files are imported with explicit options).
pub fn looks_like(head: &[u8]) -> bool {
    let Some(header) = head
        .split(|&b| b == b'\n')
        .map(decode_line)
        .find(|line| !line.trim().is_empty())
    else {
        return false;
    };
    let delimiter = best_delimiter(&header);
    header
        .split(delimiter)
        .map(split_unit)
        .any(|(name, _)| is_time(name))
}

/// The one of `,` `;` tab that splits `header` into the most fields.
fn best_delimiter(header: &str) -> char {
    [',', ';', '\t']
        .into_iter()
        .max_by_key(|d| header.matches(*d).count())
        .unwrap_or(',')
}

/// Reads a delimited file with default options (header names, time column).
pub fn read(path: &Path) -> Result<Recording, FormatError> {
    read_with(path, &CsvOptions::default())
}

/// Reads a delimited file with `options`.
pub fn read_with(path: &Path, options: &CsvOptions) -> Result<Recording, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&bytes, path, options)
}

/// `Pa (mmHg)` -> (`Pa`, `mmHg`); `Pa` -> (`Pa`, ``).
fn split_unit(header: &str) -> (&str, &str) {
    let header = header.trim().trim_matches('"');
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(stripped) = header.strip_suffix(close)
            && let Some(at) = stripped.rfind(open)
        {
            return (stripped[..at].trim(), stripped[at + 1..].trim());
        }
    }
    (header, "")
}

fn is_time(name: &str) -> bool {
    ["time", "t", "time_s", "t_s"]
        .iter()
        .any(|t| name.eq_ignore_ascii_case(t))
}

/// One channel to fill: column index, and how.
struct Mapped {
    column: usize,
    series: TimeSeries,
    scale: f64,
    offset: f64,
}

/// Parses delimited text (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path, options: &CsvOptions) -> Result<Recording, FormatError> {
    let syntax = |line: usize, message: String| FormatError::syntax(path, line, message);
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(decode_line)
        .enumerate()
        .map(|(i, text)| (i + 1, text))
        .filter(|(_, text)| !text.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(syntax(1, "empty file".into()));
    };
    let delimiter = options.delimiter.unwrap_or_else(|| best_delimiter(&header));
    let headers: Vec<(&str, &str)> = header.split(delimiter).map(split_unit).collect();
    let time_column = headers.iter().position(|(name, _)| is_time(name));
    let rate_given = match (time_column, options.sample_rate_hz) {
        (Some(_), _) => None,
        (None, Some(rate)) if rate.is_finite() && rate > 0.0 => Some(rate),
        (None, _) => {
            return Err(syntax(header_line, "no time column: give the sample rate".into()));
        }
    };
    let mut mapped = Vec::new();
    if options.columns.is_empty() {
        for (column, (name, unit)) in headers.iter().enumerate() {
            if Some(column) == time_column || name.is_empty() {
                continue;
            }
            let name =
                SignalKind::from_name(name).map_or_else(|| (*name).to_owned(), |k| k.name().to_owned());
            mapped.push(Mapped {
                column,
                series: series(&name, unit),
                scale: 1.0,
                offset: 0.0,
            });
        }
    } else {
        for map in &options.columns {
            let wanted = split_unit(&map.header).0;
            let Some(column) = headers
                .iter()
                .position(|(name, _)| name.eq_ignore_ascii_case(wanted))
            else {
                return Err(syntax(
                    header_line,
                    format!("no column {:?} in the header", map.header),
                ));
            };
            let unit = if map.unit.is_empty() {
                headers[column].1
            } else {
                map.unit.as_str()
            };
            mapped.push(Mapped {
                column,
                series: series(&map.name, unit),
                scale: map.scale,
                offset: map.offset,
            });
        }
    }
    if mapped.is_empty() {
        return Err(syntax(header_line, "no channel columns".into()));
    }
    let mut times: Vec<(usize, f64)> = Vec::new();
    for (number, line) in lines {
        let cells: Vec<&str> = line
            .split(delimiter)
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if cells.len() < headers.len() {
            return Err(syntax(
                number,
                format!("{} cells, the header has {}", cells.len(), headers.len()),
            ));
        }
        if let Some(column) = time_column {
            let text = cells[column];
            let time_s: f64 = text
                .parse()
                .map_err(|_| syntax(number, format!("time {:?} is not a number", excerpt(text))))?;
            if times.last().is_some_and(|&(_, last)| time_s <= last) || !time_s.is_finite() {
                return Err(syntax(
                    number,
                    format!("time {} does not increase", excerpt(text)),
                ));
            }
            times.push((number, time_s));
        }
        for channel in &mut mapped {
            let text = cells[channel.column];
            let value = if text.is_empty() || text.eq_ignore_ascii_case("nan") {
                f64::NAN
            } else {
                let number: f64 = text
                    .parse()
                    .map_err(|_| syntax(number, format!("value {:?} is not a number", excerpt(text))))?;
                number * channel.scale + channel.offset
            };
            channel.series.samples.push(value);
        }
    }
    let num_samples = mapped[0].series.samples.len();
    if num_samples == 0 {
        return Err(syntax(header_line + 1, "no data rows".into()));
    }
    let (rate, segments) = match rate_given {
        Some(rate) => (rate, vec![(0, 0.0)]),
        None => time_grid(&times).map_err(|(line, message)| syntax(line, message))?,
    };
    let channels: Vec<TimeSeries> = mapped
        .into_iter()
        .map(|mut channel| {
            channel.series.sample_rate_hz = rate;
            channel.series
        })
        .collect();
    let segments = segments
        .iter()
        .enumerate()
        .map(|(index, &(first_row, start_s))| {
            let end_row = segments.get(index + 1).map_or(num_samples, |&(row, _)| row);
            Segment {
                start_s,
                channels: channels
                    .iter()
                    .map(|series| TimeSeries {
                        samples: series.samples[first_row..end_row].to_vec(),
                        ..series.clone()
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Recording {
        segments,
        markers: Vec::new(),
    })
}

/// A sample rate and the segments of the rows, each as (first row, start time in seconds).
type TimeGrid = (f64, Vec<(usize, f64)>);

/// The sample rate and the segments (first row, start time) of rows with these time stamps (line, seconds):
/// the rate from the longest run of rows spaced no more than 1.5 typical intervals apart, a new segment after
/// every hole, and an error naming the line of a stamp more than a quarter interval off the grid.
fn time_grid(times: &[(usize, f64)]) -> Result<TimeGrid, (usize, String)> {
    let too_short = || {
        (
            times.first().map_or(1, |&(line, _)| line),
            "one row is not enough to know the sample rate".to_owned(),
        )
    };
    if times.len() < 2 {
        return Err(too_short());
    }
    let mut intervals: Vec<f64> = times.windows(2).map(|pair| pair[1].1 - pair[0].1).collect();
    intervals.sort_by(f64::total_cmp);
    let typical_s = intervals[intervals.len() / 2];
    // The longest run without a hole gives the rate (its stamps' rounding averages out over its length).
    let (mut best, mut run_start) = ((0, 0), 0);
    for row in 1..=times.len() {
        let hole = row == times.len() || times[row].1 - times[row - 1].1 > 1.5 * typical_s;
        if hole {
            if row - 1 - run_start > best.1 - best.0 {
                best = (run_start, row - 1);
            }
            run_start = row;
        }
    }
    let rate = if best.1 > best.0 {
        rate_from_times(times[best.0].1, times[best.1].1, best.1 - best.0 + 1)
    } else {
        rate_from_times(0.0, typical_s, 2)
    }
    .ok_or_else(too_short)?;
    let first_s = times[0].1;
    let mut segments = vec![(0, first_s)];
    let mut previous = 0i64;
    for (row, &(line, time_s)) in times.iter().enumerate().skip(1) {
        let position = (time_s - first_s) * rate;
        let index = position.round();
        if (position - index).abs() > 0.25 {
            return Err((
                line,
                format!(
                    "time {time_s} is off the {rate} Hz sampling grid of the rows before it (irregular time \
                     stamps cannot be imported as samples)"
                ),
            ));
        }
        let index = index as i64;
        if index == previous {
            return Err((
                line,
                format!("time {time_s} falls on the same sample as the row before it"),
            ));
        }
        if index > previous + 1 {
            segments.push((row, first_s + index as f64 / rate));
        }
        previous = index;
    }
    Ok((rate, segments))
}

/// At most the first 16 characters of a bad cell, for an error message: a cell can hold anything (even an
/// identifier typed into the wrong column), and the line number says where the rest is.
fn excerpt(cell: &str) -> String {
    match cell.char_indices().nth(16) {
        Some((end, _)) => format!("{}...", &cell[..end]),
        None => cell.to_owned(),
    }
}

fn series(name: &str, unit: &str) -> TimeSeries {
    TimeSeries {
        name: name.to_owned(),
        unit: unit.to_owned(),
        sample_rate_hz: 0.0,
        samples: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mapping_takes_names_units_and_rate() {
        let text = "Time (s);Pa (mmHg);Flow [L/min]\n0.000;80;1.5\n0.004;81;\n0.008;82;1.7\n";
        let recording = parse(text.as_bytes(), Path::new("a.csv"), &CsvOptions::default()).unwrap();
        let segment = &recording.segments[0];
        assert_eq!(segment.channels.len(), 2);
        assert_eq!(
            (
                segment.channels[0].name.as_str(),
                segment.channels[0].unit.as_str()
            ),
            ("pa", "mmHg")
        );
        assert_eq!(
            (
                segment.channels[1].name.as_str(),
                segment.channels[1].unit.as_str()
            ),
            ("Flow", "L/min")
        );
        assert_eq!(segment.channels[0].sample_rate_hz, 250.0);
        assert!(segment.channels[1].samples[1].is_nan());
    }

    #[test]
    fn column_map_picks_renames_and_scales() {
        let text = "aop_mv,ecg,junk\n100,1,x\n200,2,y\n";
        let options = CsvOptions {
            delimiter: None,
            sample_rate_hz: Some(500.0),
            columns: vec![CsvColumn {
                header: "AoP_mV".into(),
                name: "pa".into(),
                unit: "mmHg".into(),
                scale: 0.1,
                offset: -5.0,
            }],
        };
        let recording = parse(text.as_bytes(), Path::new("b.csv"), &options).unwrap();
        let pa = &recording.segments[0].channels[0];
        assert_eq!(
            (pa.name.as_str(), pa.unit.as_str(), pa.sample_rate_hz),
            ("pa", "mmHg", 500.0)
        );
        assert_eq!(pa.samples, vec![5.0, 15.0]);
    }

    /// Issue 14: 1 s of rows missing from a 1000 Hz file used to make it 833 Hz silently.
    #[test]
    fn a_hole_in_the_time_stamps_is_a_new_segment_at_the_true_rate() {
        let mut text = String::from("time,pa\n");
        for i in (0..6000).filter(|i| !(2000..3000).contains(i)) {
            text.push_str(&format!("{:.3},{}\n", f64::from(i) / 1000.0, i));
        }
        let recording = parse(text.as_bytes(), Path::new("hole.csv"), &CsvOptions::default()).unwrap();
        assert_eq!(recording.segments.len(), 2);
        let (first, second) = (&recording.segments[0], &recording.segments[1]);
        assert_eq!(first.channels[0].sample_rate_hz, 1000.0);
        assert_eq!(second.channels[0].sample_rate_hz, 1000.0);
        assert_eq!(first.channels[0].samples.len(), 2000);
        assert_eq!(second.channels[0].samples.len(), 3000);
        assert!((second.start_s - 3.0).abs() < 1e-9, "{}", second.start_s);
        assert_eq!(second.channels[0].samples[0], 3000.0);
    }

    #[test]
    fn irregular_time_stamps_are_refused_with_their_line() {
        // 250 Hz, then one row 1.5 ms late (a third of an interval off the grid) on line 7.
        let mut text = String::from("time,pa\n");
        for i in 0..20 {
            let late = if i == 5 { 0.0015 } else { 0.0 };
            text.push_str(&format!("{},{}\n", f64::from(i) * 0.004 + late, i));
        }
        match parse(text.as_bytes(), Path::new("jitter.csv"), &CsvOptions::default()) {
            Err(FormatError::Syntax { line, message, .. }) => {
                assert_eq!(line, 7, "{message}");
                assert!(message.contains("grid"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Stamps rounded to the millisecond at 300 Hz stay on the grid: accepted at 300 Hz.
        let mut text = String::from("time,pa\n");
        for i in 0..3000 {
            text.push_str(&format!("{:.3},{}\n", f64::from(i) / 300.0, i));
        }
        let recording = parse(text.as_bytes(), Path::new("r.csv"), &CsvOptions::default()).unwrap();
        assert_eq!(recording.segments.len(), 1);
        assert!((recording.segments[0].channels[0].sample_rate_hz - 300.0).abs() < 0.01);
    }

    #[test]
    fn a_bad_cell_is_quoted_only_in_part() {
        let text = "time,pa\n0,1\n0.01,Mr John Smith 943 476 5919 seen today\n";
        let error = parse(text.as_bytes(), Path::new("x.csv"), &CsvOptions::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("x.csv:3"), "{message}");
        assert!(message.contains("...") && !message.contains("5919"), "{message}");
    }

    #[test]
    fn malformed_variants_name_their_line() {
        let good = "time,pa\n0,1\n0.01,2\n0.02,3\n";
        let cases = [
            (good.replace("0.01,2", "0.01,two"), 3),
            (good.replace("0.02,3", "0.005,3"), 4),
            (good.replace("0.01,2", "0.01"), 3),
            (good.replace("time,pa", "clock,pa"), 1),
            ("time,pa\n".to_owned(), 2),
            (String::new(), 1),
        ];
        for (text, line) in cases {
            match parse(text.as_bytes(), Path::new("bad.csv"), &CsvOptions::default()) {
                Err(FormatError::Syntax { line: found, .. }) => assert_eq!(found, line, "{text:?}"),
                other => panic!("expected a syntax error at line {line}, got {other:?}"),
            }
        }
        let options = CsvOptions {
            columns: vec![CsvColumn {
                header: "lvp".into(),
                name: "lvp".into(),
                unit: String::new(),
                scale: 1.0,
                offset: 0.0,
            }],
            ..CsvOptions::default()
        };
        assert!(matches!(
            parse(good.as_bytes(), Path::new("m.csv"), &options),
            Err(FormatError::Syntax { line: 1, .. })
        ));
    }
}
