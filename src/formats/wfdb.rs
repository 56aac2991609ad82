//! PhysioNet WFDB records: the `.hea` header (record line, one signal line per signal) and the signal files it
//! names, in formats 16, 212 and 80, with several samples per frame, skew and byte offsets (header(5), signal(5)
//! of the WFDB Applications Guide).
//!
//! Physical value = (ADC value - baseline) / gain; a gain of 0 or a missing gain means 200 ADC units per physical
//! unit; a missing baseline equals the ADC zero. The "invalid sample" codes (-32768 in format 16, -2048 in 212,
//! -128 in 80) become `NaN`. A signal with `k` samples per frame is a channel at `k` times the frame rate. Skew
//! `s` means the signal's sample for frame `t` is stored in frame `t + s`; frames that would lie beyond the end of
//! the file are `NaN`. Units are left empty when the header gives none (the WFDB default would be mV, which is
//! wrong for the many exports, TestICU among them, that store pressures with gain 1 and no unit).
//!
//! Multi-segment records are read by [`multi`]; the other storage formats are reported as
//! [`FormatError::Unsupported`]. The usual layout (format 16, one sample per signal per frame, no skew) is read
//! in contiguous runs of frames, one per worker ([`read_with`]); the samples are the same for any number.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub mod multi;

use super::FormatError;
use crate::model::workers::{MIN_SAMPLES_PER_THREAD, Workers, chunk_ranges};
use crate::model::{Recording, Segment, TimeSeries};

/// The record line of a header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Record name.
    pub record_name: String,
    /// Frames per second (the sample rate of a signal with one sample per frame); 250 when not given.
    pub frame_rate_hz: f64,
    /// Number of frames, when the header gives it.
    pub num_frames: Option<u64>,
    /// One entry per signal line, in header order.
    pub signals: Vec<SignalSpec>,
}

/// One signal specification line.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalSpec {
    /// Signal file name, relative to the header's folder.
    pub file_name: String,
    /// Storage format (16, 212 or 80 are readable).
    pub format: u32,
    /// Samples of this signal in each frame.
    pub samples_per_frame: u32,
    /// Frames by which this signal's samples are delayed in the file.
    pub skew: u32,
    /// Bytes to skip at the start of the signal file.
    pub byte_offset: u64,
    /// ADC units per physical unit (200 when given as 0 or missing).
    pub gain: f64,
    /// ADC value of physical zero.
    pub baseline: i64,
    /// Physical unit; empty when not given.
    pub units: String,
    /// ADC value at the centre of the converter's range.
    pub adc_zero: i64,
    /// Free-text description (the channel's name); `signal N` when not given.
    pub description: String,
}

/// WFDB's default gain (ADC units per physical unit) when the header gives 0 or nothing.
pub const DEFAULT_GAIN: f64 = 200.0;
/// WFDB's default frame rate when the header gives none.
pub const DEFAULT_FRAME_RATE_HZ: f64 = 250.0;

/// Reads the record whose header is `path` (`rec.hea`), or whose record name or signal file is `path`.
pub fn read(path: &Path) -> Result<Recording, FormatError> {
    read_with(path, Workers::ONE)
}

/// [`read`], the samples decoded on `workers` (contiguous runs of frames at once); the same recording for any
/// number of workers.
pub fn read_with(path: &Path, workers: Workers) -> Result<Recording, FormatError> {
    let header_path = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("hea")) {
        path.to_owned()
    } else {
        path.with_extension("hea")
    };
    let text = std::fs::read(&header_path).map_err(|e| FormatError::io(&header_path, e))?;
    if multi::is_multi_segment(&text) {
        return multi::read(&text, &header_path, workers);
    }
    let header = parse_header(&text, &header_path)?;
    let folder = header_path.parent().map(Path::to_owned).unwrap_or_default();
    decode(&header, &header_path, workers, |name| {
        let path = folder.join(name);
        let file = std::fs::File::open(&path).map_err(|e| FormatError::io(&path, e))?;
        let len = file.metadata().map_err(|e| FormatError::io(&path, e))?.len();
        Ok(SignalFile {
            path,
            len,
            reader: file,
        })
    })
}

/// A signal file opened for [`decode`]: its path (for messages), its length in bytes and its contents (opened
/// once more by each worker that reads a part of it).
pub struct SignalFile<R> {
    /// The path it was opened at.
    pub path: PathBuf,
    /// Its length, bytes.
    pub len: u64,
    /// Its bytes from the start.
    pub reader: R,
}

/// Splits off the first whitespace-separated field; returns it and the rest (left-trimmed).
fn next_field(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some((&text[..end], text[end..].trim_start()))
}

/// Parses a header's text (`path` only names it in errors).
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<Header, FormatError> {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, super::decode_line(line)))
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
    let Some((number, record_line)) = lines.next() else {
        return Err(FormatError::syntax(path, 1, "empty header: no record line"));
    };
    let err = |line: usize, message: String| FormatError::syntax(path, line, message);
    let mut fields = record_line.split_whitespace();
    let name_field = fields.next().unwrap_or_default();
    let (record_name, segments) = match name_field.split_once('/') {
        Some((name, segments)) => (name, Some(segments)),
        None => (name_field, None),
    };
    if segments.is_some() {
        return Err(FormatError::Unsupported {
            path: path.to_owned(),
            message: format!("multi-segment record {name_field:?}"),
        });
    }
    let num_signals: usize = match fields.next() {
        Some(text) => text
            .parse()
            .map_err(|_| err(number, format!("number of signals {text:?} is not a count")))?,
        None => return Err(err(number, "record line has no number of signals".into())),
    };
    let frame_rate_hz = match fields.next() {
        Some(text) => {
            // `fs[/counter_freq[(base)]]`: only the sampling frequency matters here.
            let rate_text = text.split('/').next().unwrap_or(text);
            let rate: f64 = rate_text
                .parse()
                .map_err(|_| err(number, format!("sampling frequency {text:?} is not a number")))?;
            if !(rate.is_finite() && rate > 0.0) {
                return Err(err(number, format!("sampling frequency {rate} is not positive")));
            }
            rate
        }
        None => DEFAULT_FRAME_RATE_HZ,
    };
    let num_frames = match fields.next() {
        Some(text) => Some(
            text.parse()
                .map_err(|_| err(number, format!("number of samples {text:?} is not a count")))?,
        ),
        None => None,
    };
    let mut signals = Vec::with_capacity(num_signals);
    let mut last_line = number;
    for index in 0..num_signals {
        let Some((number, line)) = lines.next() else {
            return Err(err(
                last_line + 1,
                format!("header ends after {index} of {num_signals} signal lines"),
            ));
        };
        last_line = number;
        signals.push(parse_signal_line(&line, index).map_err(|message| err(number, message))?);
    }
    Ok(Header {
        record_name: record_name.to_owned(),
        frame_rate_hz,
        num_frames,
        signals,
    })
}

fn parse_signal_line(line: &str, index: usize) -> Result<SignalSpec, String> {
    let (file_name, rest) = next_field(line).ok_or("empty signal line")?;
    let (format_field, mut rest) = next_field(rest).ok_or_else(|| format!("signal {index}: no format"))?;
    let (format, samples_per_frame, skew, byte_offset) = parse_format_field(format_field)?;
    let mut optional = || -> Option<&str> {
        let (field, remainder) = next_field(rest)?;
        rest = remainder;
        Some(field)
    };
    let gain_field = optional();
    let _resolution = optional();
    let adc_zero: i64 = match optional() {
        Some(text) => text
            .parse()
            .map_err(|_| format!("ADC zero {text:?} is not an integer"))?,
        None => 0,
    };
    let _initial_value = optional();
    let _checksum = optional();
    let _block_size = optional();
    let description = if rest.trim().is_empty() {
        format!("signal {index}")
    } else {
        rest.trim().to_owned()
    };
    let (gain, baseline, units) = match gain_field {
        Some(text) => parse_gain_field(text)?,
        None => (0.0, None, String::new()),
    };
    Ok(SignalSpec {
        file_name: file_name.to_owned(),
        format,
        samples_per_frame,
        skew,
        byte_offset,
        gain: if gain == 0.0 { DEFAULT_GAIN } else { gain },
        baseline: baseline.unwrap_or(adc_zero),
        units,
        adc_zero,
        description,
    })
}

/// `format[xspf][:skew][+offset]`.
fn parse_format_field(field: &str) -> Result<(u32, u32, u32, u64), String> {
    let bad = || format!("format field {field:?} is not of the form FORMAT[xSPF][:SKEW][+OFFSET]");
    let (head, byte_offset) = match field.split_once('+') {
        Some((head, offset)) => (head, offset.parse().map_err(|_| bad())?),
        None => (field, 0),
    };
    let (head, skew) = match head.split_once(':') {
        Some((head, skew)) => (head, skew.parse().map_err(|_| bad())?),
        None => (head, 0),
    };
    let (format, samples_per_frame) = match head.split_once('x') {
        Some((format, spf)) => (
            format.parse().map_err(|_| bad())?,
            spf.parse().map_err(|_| bad())?,
        ),
        None => (head.parse().map_err(|_| bad())?, 1),
    };
    if samples_per_frame == 0 {
        return Err(format!("format field {field:?}: zero samples per frame"));
    }
    Ok((format, samples_per_frame, skew, byte_offset))
}

/// `gain[(baseline)][/units]`.
fn parse_gain_field(field: &str) -> Result<(f64, Option<i64>, String), String> {
    let bad = || format!("gain field {field:?} is not of the form GAIN[(BASELINE)][/UNITS]");
    let (head, units) = match field.split_once('/') {
        Some((head, units)) => (head, units.to_owned()),
        None => (field, String::new()),
    };
    let (gain_text, baseline) = match head.split_once('(') {
        Some((gain, baseline)) => {
            let baseline = baseline.strip_suffix(')').ok_or_else(bad)?;
            (gain, Some(baseline.parse().map_err(|_| bad())?))
        }
        None => (head, None),
    };
    let gain: f64 = gain_text.parse().map_err(|_| bad())?;
    if !gain.is_finite() || gain < 0.0 {
        return Err(bad());
    }
    Ok((gain, baseline, units))
}

/// A raw value that stands for the format's invalid-sample code (no ADC value of any format is this low).
const INVALID_ADC: i32 = i32::MIN;

/// Samples held in `num_bytes` bytes of `format` (a 212 triplet cut after two bytes still holds its first
/// sample).
fn stored_len(format: u32, num_bytes: usize) -> usize {
    match format {
        16 => num_bytes / 2,
        212 => num_bytes / 3 * 2 + usize::from(num_bytes % 3 == 2),
        _ => num_bytes,
    }
}

/// The stored samples of one format, read in place (no decoded copy of a whole file: a 2-hour 1 kHz record of
/// 7 signals is 100 MB stored, 200 MB as `i32`).
#[derive(Clone, Copy)]
struct Stored<'a> {
    format: u32,
    bytes: &'a [u8],
}

impl Stored<'_> {
    /// Samples held.
    fn len(&self) -> usize {
        stored_len(self.format, self.bytes.len())
    }

    /// Raw ADC value of sample `index` (< [`Stored::len`]); [`INVALID_ADC`] for the invalid-sample code.
    #[inline]
    fn adc(&self, index: usize) -> i32 {
        let b = self.bytes;
        match self.format {
            16 => adc_16(i16::from_le_bytes([b[2 * index], b[2 * index + 1]])),
            212 => {
                let at = 3 * (index / 2);
                let v = if index.is_multiple_of(2) {
                    b[at] as i32 | ((b[at + 1] as i32 & 0x0F) << 8)
                } else {
                    b[at + 2] as i32 | ((b[at + 1] as i32 & 0xF0) << 4)
                };
                let v = if v & 0x800 != 0 { v - 0x1000 } else { v };
                if v == -2048 { INVALID_ADC } else { v }
            }
            _ => {
                let v = b[index] as i32 - 128;
                if v == -128 { INVALID_ADC } else { v }
            }
        }
    }
}

/// Raw ADC value of a format-16 sample ([`INVALID_ADC`] for the invalid-sample code, -32768).
#[inline]
fn adc_16(v: i16) -> i32 {
    if v == i16::MIN { INVALID_ADC } else { v as i32 }
}

/// Builds the recording from a parsed header and a way to open signal files by name, the samples decoded on
/// `workers` where the layout allows ([`read_frames_16`]).
pub fn decode<R: Read + Seek>(
    header: &Header,
    header_path: &Path,
    workers: Workers,
    open: impl Fn(&str) -> Result<SignalFile<R>, FormatError> + Sync,
) -> Result<Recording, FormatError> {
    let mut channels: Vec<TimeSeries> = Vec::with_capacity(header.signals.len());
    let mut start = 0;
    while start < header.signals.len() {
        // Signals stored in one file are consecutive in the header and share its format and byte offset.
        let file_name = &header.signals[start].file_name;
        let end = start
            + header.signals[start..]
                .iter()
                .take_while(|s| &s.file_name == file_name)
                .count();
        let group = &header.signals[start..end];
        if file_name == "~" || file_name == "-" {
            return Err(FormatError::Unsupported {
                path: header_path.to_owned(),
                message: format!("signal file {file_name:?} (null or standard-input signals)"),
            });
        }
        let format = group[0].format;
        if group
            .iter()
            .any(|s| s.format != format || s.byte_offset != group[0].byte_offset)
        {
            return Err(FormatError::Data {
                path: header_path.to_owned(),
                message: format!("signals in {file_name:?} disagree on format or byte offset"),
            });
        }
        if !matches!(format, 16 | 212 | 80) {
            return Err(FormatError::Unsupported {
                path: header_path.to_owned(),
                message: format!("storage format {format} (readable: 16, 212, 80)"),
            });
        }
        let SignalFile {
            path: data_path,
            len,
            mut reader,
        } = open(file_name)?;
        let offset = group[0].byte_offset.min(len);
        let available = usize::try_from(len - offset).unwrap_or(usize::MAX);
        let frame_len: usize = group.iter().map(|s| s.samples_per_frame as usize).sum();
        let max_skew = group.iter().map(|s| s.skew as usize).max().unwrap_or(0);
        let max_samples = match header.num_frames {
            Some(frames) => (frames as usize)
                .saturating_add(max_skew)
                .saturating_mul(frame_len),
            None => usize::MAX,
        };
        let num_stored = stored_len(format, available).min(max_samples);
        let frames_in_file = num_stored / frame_len;
        let num_frames = match header.num_frames {
            Some(frames) => {
                if (frames_in_file as u64) < frames {
                    return Err(FormatError::Data {
                        path: data_path,
                        message: format!("holds {frames_in_file} frames but the header says {frames}"),
                    });
                }
                frames as usize
            }
            None => frames_in_file.saturating_sub(max_skew),
        };
        let simple = format == 16
            && frame_len > 0
            && group.iter().all(|s| s.samples_per_frame == 1 && s.skew == 0)
            && num_frames * frame_len <= num_stored;
        let samples = if simple {
            // The usual layout (16-bit samples, one per signal per frame, no skew): runs of frames on the
            // workers, each read a block at a time (no copy of the whole file), the same values.
            drop(reader);
            // Each run opens the file again: one of another length was changed while being read.
            let reopen = || {
                open(file_name).and_then(|file| match file.len == len {
                    true => Ok(file),
                    false => Err(FormatError::Data {
                        message: format!("changed while being read ({len} bytes, then {})", file.len),
                        path: file.path,
                    }),
                })
            };
            read_frames_16(reopen, offset, group, num_frames, workers)?
        } else {
            let io_error = |e| FormatError::io(&data_path, e);
            reader.seek(SeekFrom::Start(offset)).map_err(io_error)?;
            let mut bytes = Vec::with_capacity(available.min(1 << 30));
            reader.read_to_end(&mut bytes).map_err(io_error)?;
            let stored = Stored {
                format,
                bytes: &bytes,
            };
            let mut samples: Vec<Vec<f64>> = group
                .iter()
                .map(|spec| Vec::with_capacity(num_frames * spec.samples_per_frame as usize))
                .collect();
            decode_frames(
                stored,
                group,
                num_frames,
                num_stored.min(stored.len()),
                &mut samples,
            );
            samples
        };
        for (spec, samples) in group.iter().zip(samples) {
            channels.push(TimeSeries {
                name: spec.description.clone(),
                unit: spec.units.clone(),
                sample_rate_hz: header.frame_rate_hz * spec.samples_per_frame as f64,
                samples,
            });
        }
        start = end;
    }
    Ok(Recording {
        segments: vec![Segment {
            start_s: 0.0,
            channels,
        }],
        markers: Vec::new(),
    })
}

/// Physical value of a raw ADC value of `spec` ([`INVALID_ADC`]: `NaN`).
#[inline]
fn physical(spec: &SignalSpec, adc: i32) -> f64 {
    if adc == INVALID_ADC {
        f64::NAN
    } else {
        (adc as i64 - spec.baseline) as f64 / spec.gain
    }
}

/// Any layout, frame by frame (the file's order), every signal of the file at once: `num_frames` frames of the
/// signals `group` from the first `num_stored` samples of `stored` (those beyond: `NaN`) onto `samples`.
fn decode_frames(
    stored: Stored,
    group: &[SignalSpec],
    num_frames: usize,
    num_stored: usize,
    samples: &mut [Vec<f64>],
) {
    let frame_len: usize = group.iter().map(|s| s.samples_per_frame as usize).sum();
    for frame in 0..num_frames {
        let mut position_in_frame = 0;
        for (spec, samples) in group.iter().zip(samples.iter_mut()) {
            let spf = spec.samples_per_frame as usize;
            let first = (frame + spec.skew as usize) * frame_len + position_in_frame;
            for index in first..first + spf {
                let adc = if index < num_stored {
                    stored.adc(index)
                } else {
                    INVALID_ADC
                };
                samples.push(physical(spec, adc));
            }
            position_in_frame += spf;
        }
    }
}

/// Bytes read at a time by [`read_frames_16`] (whole frames; at least one).
const BLOCK_BYTES: usize = 1 << 18;

/// Fewest samples of a format-16 signal worth a table of the physical value of every code (65 536 divisions
/// instead of one per sample).
const MIN_SAMPLES_FOR_TABLE: usize = 1 << 18;

/// The physical values of one format-16 signal's codes: looked up in a table of every code for a long signal,
/// else computed per sample; both are [`physical`]'s value, bit for bit.
enum Scale16<'a> {
    /// `table[code as u16]` is the value of `code`.
    Table(Vec<f64>),
    /// [`physical`] of the signal, per sample.
    Divide(&'a SignalSpec),
}

impl Scale16<'_> {
    fn new(spec: &SignalSpec, num_samples: usize) -> Scale16<'_> {
        if num_samples >= MIN_SAMPLES_FOR_TABLE {
            Scale16::Table(
                (0..=u16::MAX)
                    .map(|code| physical(spec, adc_16(code as i16)))
                    .collect(),
            )
        } else {
            Scale16::Divide(spec)
        }
    }

    /// Decodes signal `k` of the frames of `frame_bytes` bytes in `block` into `out` (one value per frame).
    fn decode(&self, block: &[u8], frame_bytes: usize, k: usize, out: &mut [f64]) {
        let codes = block
            .chunks_exact(frame_bytes)
            .map(|frame| i16::from_le_bytes([frame[2 * k], frame[2 * k + 1]]));
        match self {
            Scale16::Table(table) => {
                for (value, code) in out.iter_mut().zip(codes) {
                    *value = table[code as u16 as usize];
                }
            }
            Scale16::Divide(spec) => {
                for (value, code) in out.iter_mut().zip(codes) {
                    *value = physical(spec, adc_16(code));
                }
            }
        }
    }
}

/// Format 16, one sample per signal per frame and no skew: `num_frames` frames of the signals `group`, stored
/// from byte `offset` of the file `open` opens, one vector per signal. The frames are cut into contiguous runs,
/// one per worker ([`chunk_ranges`]); each run opens the file, reads its frames a block at a time (the file is
/// never held whole) and writes each value once into its part of the signals' vectors. The values of
/// [`decode_frames`], for any number of workers.
fn read_frames_16<R: Read + Seek>(
    open: impl Fn() -> Result<SignalFile<R>, FormatError> + Sync,
    offset: u64,
    group: &[SignalSpec],
    num_frames: usize,
    workers: Workers,
) -> Result<Vec<Vec<f64>>, FormatError> {
    let frame_bytes = 2 * group.len();
    let scales: Vec<Scale16> = group.iter().map(|spec| Scale16::new(spec, num_frames)).collect();
    let runs = chunk_ranges(
        num_frames,
        workers.count().get(),
        MIN_SAMPLES_PER_THREAD.div_ceil(group.len()),
    );
    let mut samples: Vec<Vec<f64>> = group.iter().map(|_| vec![0.0; num_frames]).collect();
    // Each run's part of every signal.
    let mut parts: Vec<Vec<&mut [f64]>> = runs.iter().map(|_| Vec::with_capacity(group.len())).collect();
    for signal in &mut samples {
        let mut rest = signal.as_mut_slice();
        for (part, run) in parts.iter_mut().zip(&runs) {
            let (head, tail) = rest.split_at_mut(run.len());
            part.push(head);
            rest = tail;
        }
    }
    let mut outcomes: Vec<Result<(), FormatError>> = runs.iter().map(|_| Ok(())).collect();
    let (open, scales) = (&open, scales.as_slice());
    let tasks: Vec<Box<dyn FnOnce() + Send + '_>> = parts
        .into_iter()
        .zip(&runs)
        .zip(outcomes.iter_mut())
        .map(|((mut part, run), outcome)| {
            Box::new(move || {
                *outcome = open().and_then(|file| {
                    let mut reader = file.reader;
                    reader
                        .seek(SeekFrom::Start(offset + (run.start * frame_bytes) as u64))
                        .and_then(|_| read_run_16(&mut reader, scales, &mut part))
                        .map_err(|e| FormatError::io(&file.path, e))
                });
            }) as Box<dyn FnOnce() + Send + '_>
        })
        .collect();
    workers.run_all(tasks);
    outcomes.into_iter().collect::<Result<(), _>>()?;
    Ok(samples)
}

/// One run of [`read_frames_16`]: as many frames as `part` (one slice per signal, all of a length) read from
/// `reader` a block at a time, each signal of a block decoded in one loop by its `scales`.
fn read_run_16(reader: &mut impl Read, scales: &[Scale16], part: &mut [&mut [f64]]) -> std::io::Result<()> {
    let frame_bytes = 2 * scales.len();
    let num_frames = part.first().map_or(0, |signal| signal.len());
    let block_frames = (BLOCK_BYTES / frame_bytes).max(1);
    let mut buffer = vec![0; block_frames.min(num_frames) * frame_bytes];
    let mut done = 0;
    while done < num_frames {
        let frames = (num_frames - done).min(block_frames);
        let block = &mut buffer[..frames * frame_bytes];
        reader.read_exact(block)?;
        for (k, (scale, signal)) in scales.iter().zip(part.iter_mut()).enumerate() {
            scale.decode(block, frame_bytes, k, &mut signal[done..done + frames]);
        }
        done += frames;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_minimal_signal_lines() {
        let header = parse_header(
            b"# comment\r\nrec 3 360/2(0) 1000 12:00:00\r\nrec.dat 212x2:3+512 200(500)/uV 12 1024 0 0 0 Lead II\n\
              rec.dat 212\nother.dat 16 0/mmHg 16 7 0 0 0 ABP\n",
            Path::new("rec.hea"),
        )
        .unwrap();
        assert_eq!(header.record_name, "rec");
        assert_eq!(header.frame_rate_hz, 360.0);
        assert_eq!(header.num_frames, Some(1000));
        let a = &header.signals[0];
        assert_eq!(
            (a.format, a.samples_per_frame, a.skew, a.byte_offset),
            (212, 2, 3, 512)
        );
        assert_eq!(
            (a.gain, a.baseline, a.units.as_str(), a.adc_zero),
            (200.0, 500, "uV", 1024)
        );
        assert_eq!(a.description, "Lead II");
        let b = &header.signals[1];
        assert_eq!(
            (b.gain, b.baseline, b.description.as_str()),
            (DEFAULT_GAIN, 0, "signal 1")
        );
        let c = &header.signals[2];
        assert_eq!((c.gain, c.baseline, c.units.as_str()), (DEFAULT_GAIN, 7, "mmHg"));
    }

    #[test]
    fn header_errors_name_the_line() {
        let path = Path::new("bad.hea");
        let cases: [(&[u8], usize); 5] = [
            (b"", 1),
            (b"rec x 250\n", 1),
            (b"rec 2 250 10\nrec.dat 16\n", 3),
            (b"rec 1 250\n\nrec.dat 16x:3\n", 3),
            (b"rec 1 250\nrec.dat 16 abc\n", 2),
        ];
        for (text, line) in cases {
            match parse_header(text, path) {
                Err(FormatError::Syntax { line: got, .. }) => {
                    assert_eq!(got, line, "{:?}", String::from_utf8_lossy(text))
                }
                other => panic!(
                    "expected a syntax error for {:?}, got {other:?}",
                    String::from_utf8_lossy(text)
                ),
            }
        }
        assert!(matches!(
            parse_header(b"rec/3 2 250\n", path),
            Err(FormatError::Unsupported { .. })
        ));
    }

    #[test]
    fn decodes_212_pairs_and_invalid_codes() {
        // Samples 1, -1 packed as 0x001, 0xFFF; then 0x800 (invalid), 2047.
        let bytes = [0x01, 0xF0, 0xFF, 0x00, 0x78, 0xFF];
        let all = |format, bytes: &[u8]| {
            let stored = Stored { format, bytes };
            (0..stored.len()).map(|i| stored.adc(i)).collect::<Vec<_>>()
        };
        assert_eq!(all(212, &bytes), vec![1, -1, INVALID_ADC, 2047]);
        // A triplet cut after two bytes holds its first sample; after one, none.
        assert_eq!(all(212, &bytes[..5]), vec![1, -1, INVALID_ADC]);
        assert_eq!(all(212, &bytes[..4]), vec![1, -1]);
        assert_eq!(all(80, &[128, 0, 255]), vec![0, INVALID_ADC, 127]);
        assert_eq!(all(16, &[0x00, 0x80, 0xFF, 0x7F, 0x01]), vec![INVALID_ADC, 32767]);
    }

    /// A reader that hands out at most 1000 bytes per call, as a pipe or a slow disk may.
    struct Trickle<'a>(std::io::Cursor<&'a [u8]>);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(1000);
            self.0.read(&mut out[..n])
        }
    }

    impl Seek for Trickle<'_> {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.0.seek(to)
        }
    }

    /// Runs the parts last first, so a part written out of place would show.
    struct Backwards;

    impl crate::model::workers::Runner for Backwards {
        fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
            for task in tasks.into_iter().rev() {
                task();
            }
        }
    }

    /// The bits of every sample, signal by signal (`NaN`s compared too).
    fn bits(samples: &[Vec<f64>]) -> Vec<Vec<u64>> {
        samples
            .iter()
            .map(|s| s.iter().map(|v| v.to_bits()).collect())
            .collect()
    }

    /// The signals of a header's signal lines (`r.dat`, 1 kHz).
    fn signals(lines: &str) -> Vec<SignalSpec> {
        let header = format!("r {} 1000\n{lines}", lines.lines().count());
        parse_header(header.as_bytes(), Path::new("r.hea"))
            .unwrap()
            .signals
    }

    /// [`read_frames_16`] of the frames of `group` from byte `offset` of `bytes` (read in trickles), on `count`
    /// workers that run their parts last first.
    fn read_16_on(
        bytes: &[u8],
        offset: usize,
        group: &[SignalSpec],
        num_frames: usize,
        count: usize,
    ) -> Result<Vec<Vec<f64>>, FormatError> {
        let workers = Workers::new(std::num::NonZeroUsize::new(count).unwrap(), &Backwards);
        let open = || {
            Ok(SignalFile {
                path: PathBuf::from("r.dat"),
                len: bytes.len() as u64,
                reader: Trickle(std::io::Cursor::new(bytes)),
            })
        };
        read_frames_16(open, offset as u64, group, num_frames, workers)
    }

    #[test]
    fn format_16_frames_on_any_workers_are_bit_for_bit_the_general_decoding() {
        // The 7-channel record's scaling among them.
        let group = signals("r.dat 16 1(0)\nr.dat 16 40511.45689702854(-17622)\nr.dat 16 3(1024)\n");
        let mut rng = crate::sim::rng::Rng::new(5);
        // Long enough for tables of every code, and short (a division per sample); odd numbers of frames over
        // several blocks and a part block, after an odd prolog. The first signal walks every code (the invalid
        // one among them), the others are random; the last frame is all invalid codes.
        for (num_frames, offset) in [(MIN_SAMPLES_FOR_TABLE + 12345, 0), (3 * BLOCK_BYTES / 6 + 7, 5)] {
            let bytes: Vec<u8> = std::iter::repeat_n(0xAB, offset)
                .chain((0..num_frames - 1).flat_map(|frame| {
                    let (code, random) = ((frame as u16).to_le_bytes(), rng.next_u64().to_le_bytes());
                    [code[0], code[1], random[0], random[1], random[2], random[3]]
                }))
                .chain([0x00, 0x80].repeat(3))
                .collect();
            let stored = Stored {
                format: 16,
                bytes: &bytes[offset..],
            };
            let mut general = vec![Vec::new(); 3];
            decode_frames(stored, &group, num_frames, stored.len(), &mut general);
            assert!(
                general
                    .iter()
                    .all(|s| s.len() == num_frames && s[num_frames - 1].is_nan())
            );
            for count in 1..=5 {
                let samples = read_16_on(&bytes, offset, &group, num_frames, count).unwrap();
                assert_eq!(
                    bits(&samples),
                    bits(&general),
                    "{num_frames} frames, {count} workers"
                );
            }
        }
    }

    #[test]
    fn a_table_holds_the_value_of_every_code() {
        let spec = &signals("r.dat 16 877.4575470589193(-59362)\n")[0];
        let Scale16::Table(table) = Scale16::new(spec, MIN_SAMPLES_FOR_TABLE) else {
            panic!("a long signal gets a table");
        };
        for code in i16::MIN..=i16::MAX {
            assert_eq!(
                table[code as u16 as usize].to_bits(),
                physical(spec, adc_16(code)).to_bits()
            );
        }
        assert!(table[0x8000].is_nan());
        assert!(matches!(
            Scale16::new(spec, MIN_SAMPLES_FOR_TABLE - 1),
            Scale16::Divide(_)
        ));
    }

    #[test]
    fn a_file_whose_length_changes_between_its_runs_is_an_error() {
        let header = parse_header(b"r 1 1000 70000\nr.dat 16\n", Path::new("r.hea")).unwrap();
        let bytes = vec![0u8; 140_000];
        let opened = std::sync::atomic::AtomicUsize::new(0);
        // The first open (the checks) sees the whole file, every later one (the runs) a file cut short.
        let open = |_: &str| {
            let len = match opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
                0 => bytes.len(),
                _ => bytes.len() - 2,
            };
            Ok(SignalFile {
                path: PathBuf::from("r.dat"),
                len: len as u64,
                reader: std::io::Cursor::new(&bytes[..len]),
            })
        };
        let error = decode(&header, Path::new("r.hea"), Workers::ONE, open).unwrap_err();
        assert!(
            matches!(&error, FormatError::Data { message, .. } if message.contains("changed while being read")),
            "{error}"
        );
    }

    #[test]
    fn a_file_shorter_than_its_frames_is_an_error_on_any_workers() {
        let group = signals("r.dat 16\nr.dat 16\n");
        for count in [1, 3] {
            let error = read_16_on(&[0; 600], 0, &group, MIN_SAMPLES_PER_THREAD, count).unwrap_err();
            assert!(matches!(error, FormatError::Io { .. }), "{error}");
        }
    }
}
