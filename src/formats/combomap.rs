//! Philips/Volcano ComboMap "Study Manager" text export (coronary pressure and Doppler flow velocity console).
//!
//! Layout (see `data/README.md`): a first line of `Key: value,` pairs (`Patient: , Study: , Session: Default,
//! Study date: 7/14/2017, `), a blank line, the tab-separated header `Time Pa Pd ECG IPV Pv RWave Tm`, then one row
//! per sample at 200 Hz: time in seconds, pressures in mmHg, ECG, instantaneous peak velocity in cm/s, venous
//! pressure, an R-wave marker column that is empty except at the console's detected R waves, and a clock-like
//! time stamp.
//!
//! **Nothing from the first line is kept**: `Patient:` can hold an identifier and the study date dates the
//! procedure; the line is checked for shape and dropped. Channels: `Pa` -> `pa`, `Pd` -> `pd`, `ECG` -> `ecg`
//! (the export gives no unit; the console's display unit is taken as mV), `IPV` -> `ipv`, `Pv` -> `pv` (mmHg);
//! `RWave` becomes the channel `rwave`, 1 at the console's R waves and 0 elsewhere, an independent reference for
//! beat detection like the Inca's beat counter; `Tm` repeats the time and is dropped. The rate comes from the
//! time column; a jump in time (a paused recording) starts a new segment. An empty cell in a signal column is a
//! missing sample; anything else that is not a number is an error naming the line.

use std::path::Path;

use super::{FormatError, decode_line, rate_from_times};
use crate::model::{Recording, Segment, TimeSeries};

/// Name of the channel holding the console's R-wave marks.
pub const RWAVE: &str = "rwave";

/// Whether the start of a file looks like a ComboMap Study Manager export.
pub fn looks_like(head: &[u8]) -> bool {
    let mut lines = head.split(|&b| b == b'\n').map(decode_line);
    let first = lines.next().unwrap_or_default();
    first.trim_start().starts_with("Patient:")
        && lines
            .take(3)
            .any(|line| line.split('\t').map(str::trim).take(3).eq(["Time", "Pa", "Pd"]))
}

/// Reads a ComboMap export.
pub fn read(path: &Path) -> Result<Recording, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&bytes, path)
}

/// What a header column becomes: a channel (name, unit), the R-wave marks, or nothing.
enum Column {
    Time,
    Signal(&'static str, &'static str),
    RWave,
    Ignored,
}

fn column_of(title: &str) -> Column {
    match title.trim().to_ascii_lowercase().as_str() {
        "time" => Column::Time,
        "pa" => Column::Signal("pa", "mmHg"),
        "pd" => Column::Signal("pd", "mmHg"),
        "ecg" => Column::Signal("ecg", "mV"),
        "ipv" => Column::Signal("ipv", "cm/s"),
        "pv" => Column::Signal("pv", "mmHg"),
        "rwave" => Column::RWave,
        _ => Column::Ignored,
    }
}

/// Parses the bytes of a ComboMap export (`path` only names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Recording, FormatError> {
    let syntax = |line: usize, message: String| FormatError::syntax(path, line, message);
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(decode_line)
        .enumerate()
        .map(|(i, text)| (i + 1, text));
    match lines.next() {
        Some((_, first)) if first.trim_start().starts_with("Patient:") => {}
        _ => {
            return Err(syntax(
                1,
                "expected the Study Manager line starting `Patient:`".into(),
            ));
        }
    }
    let Some((header_line, header)) = lines.by_ref().find(|(_, text)| !text.trim().is_empty()) else {
        return Err(syntax(2, "file ends before the column header".into()));
    };
    let columns: Vec<Column> = header.split('\t').map(column_of).collect();
    let Some(time_column) = columns.iter().position(|c| matches!(c, Column::Time)) else {
        return Err(syntax(header_line, "column header has no `Time` column".into()));
    };
    let kept: Vec<(usize, &str, &str)> = columns
        .iter()
        .enumerate()
        .filter_map(|(i, column)| match column {
            Column::Signal(name, unit) => Some((i, *name, *unit)),
            Column::RWave => Some((i, RWAVE, "")),
            Column::Time | Column::Ignored => None,
        })
        .collect();
    if kept.is_empty() {
        return Err(syntax(
            header_line,
            "column header names no signal (Pa, Pd, ECG, IPV, Pv)".into(),
        ));
    }
    // Runs of rows with a steady time step: (start time, times, samples per kept column).
    let mut runs: Vec<(Vec<f64>, Vec<Vec<f64>>)> = Vec::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |i: usize| cells.get(i).map_or("", |c| c.trim());
        let time_text = cell(time_column);
        let time_s: f64 = time_text
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or_else(|| syntax(number, format!("time {time_text:?} is not a number")))?;
        let mut values = Vec::with_capacity(kept.len());
        for &(i, name, _) in &kept {
            let text = cell(i);
            let value = if name == RWAVE {
                if text.is_empty() { 0.0 } else { 1.0 }
            } else if text.is_empty() {
                f64::NAN
            } else {
                text.parse()
                    .map_err(|_| syntax(number, format!("{name} value {text:?} is not a number")))?
            };
            values.push(value);
        }
        let continues = runs.last().is_some_and(|(times, _)| continues_run(times, time_s));
        if !continues {
            if let Some(&last) = runs.last().and_then(|(times, _)| times.last())
                && time_s <= last
            {
                return Err(syntax(
                    number,
                    format!("time {time_s} s does not increase (previous {last} s)"),
                ));
            }
            runs.push((Vec::new(), vec![Vec::new(); kept.len()]));
        }
        let Some((times, columns)) = runs.last_mut() else {
            continue;
        };
        times.push(time_s);
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
    }
    if runs.is_empty() {
        return Err(syntax(header_line + 1, "no data rows".into()));
    }
    let mut recording = Recording::default();
    for (times, columns) in runs {
        let (first, last) = (times[0], times[times.len() - 1]);
        // A single-row run has no step of its own: take the console's documented 200 Hz.
        let rate = rate_from_times(first, last, times.len()).unwrap_or(200.0);
        recording.segments.push(Segment {
            start_s: first,
            channels: kept
                .iter()
                .zip(columns)
                .map(|(&(_, name, unit), samples)| TimeSeries {
                    name: name.to_owned(),
                    unit: unit.to_owned(),
                    sample_rate_hz: rate,
                    samples,
                })
                .collect(),
        });
    }
    Ok(recording)
}

/// Whether a row at `time_s` continues a run: the step matches the run's own step (or, for the second row, is a
/// plausible one) within a third of a step.
fn continues_run(times: &[f64], time_s: f64) -> bool {
    let Some(&last) = times.last() else { return false };
    let step = time_s - last;
    if times.len() < 2 {
        return step > 0.0 && step <= 0.1;
    }
    let run_step = (last - times[0]) / (times.len() - 1) as f64;
    (step - run_step).abs() <= run_step / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = "Patient: Jane Q Example, Study: S-7731, Session: Default, Study date: 7/14/2017, \r\n\r\n\
        Time\tPa\tPd\tECG\tIPV\tPv\tRWave\tTm\r\n\
        139.890\t99.250\t91.000\t1.958\t26.285\t0.500\t\t2:19:178\r\n\
        139.895\t99.500\t91.250\t2.100\t27.000\t0.500\t1\t2:19:183\r\n\
        139.900\t99.750\t\t2.000\t27.500\t0.500\t\t2:19:188\r\n\
        150.000\t80.000\t70.000\t0.100\t10.000\t0.500\t\t2:30:000\r\n\
        150.005\t80.500\t70.500\t0.200\t11.000\t0.500\t\t2:30:005\r\n";

    #[test]
    fn reads_signals_and_never_keeps_the_patient_line() {
        let recording = parse(EXPORT.as_bytes(), Path::new("cm.txt")).unwrap();
        assert_eq!(
            recording.segments.len(),
            2,
            "the pause at 140 s starts a new segment"
        );
        let first = &recording.segments[0];
        assert_eq!(first.start_s, 139.89);
        let names: Vec<&str> = first.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["pa", "pd", "ecg", "ipv", "pv", RWAVE]);
        assert_eq!(first.channels[0].sample_rate_hz, 200.0);
        assert_eq!(first.channels[0].samples, vec![99.25, 99.5, 99.75]);
        assert!(first.channels[1].samples[2].is_nan());
        assert_eq!(first.channels[5].samples, vec![0.0, 1.0, 0.0]);
        assert_eq!(recording.segments[1].start_s, 150.0);
        let everything = format!("{recording:?}");
        assert!(!everything.contains("Jane") && !everything.contains("2017") && !everything.contains("7731"));
        assert!(recording.markers.is_empty());
    }

    #[test]
    fn malformed_variants_name_their_line() {
        let cases = [
            (EXPORT.replace("Patient:", "Name:"), 1),
            (EXPORT.replace("99.500", "9x.5"), 5),
            (EXPORT.replace("139.900", "abc"), 6),
            (EXPORT.replace("Time\tPa", "Clock\tPa"), 3),
            (EXPORT.replace("150.000", "100.000"), 7),
        ];
        for (text, line) in cases {
            match parse(text.as_bytes(), Path::new("bad.txt")) {
                Err(FormatError::Syntax { line: found, .. }) => assert_eq!(found, line, "{text:?}"),
                other => panic!("expected a syntax error at line {line}, got {other:?}"),
            }
        }
        let header_only = "Patient: , Study: ,\n\nTime\tPa\tPd\n";
        assert!(matches!(
            parse(header_only.as_bytes(), Path::new("h.txt")),
            Err(FormatError::Syntax { line: 4, .. })
        ));
    }
}
