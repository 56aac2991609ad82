//! Delimited-text line streams: one sample per line (`99.2\t91.0\t1.95\n`), as sent by simple bridges and
//! data loggers. A column map picks the channels and scales them; bad lines are counted (and, once samples are
//! flowing, recorded as one missing sample each), never fatal. Sans-IO, like the binary codec.

use serde::{Deserialize, Serialize};

use crate::model::{Block, ChannelSpec, Gap, GapReason, SourceSpec};

use super::codec::StreamEvent;

/// Longest line accepted; a longer one is a bad line (and bounds memory on a stream without newlines).
pub const MAX_LINE_LEN: usize = 1024;

/// One channel taken from a column: `value = number * scale + offset`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnMap {
    /// Zero-based column index in the line.
    pub column: usize,
    /// Channel id, e.g. `pa`.
    pub name: String,
    /// Unit after scaling, e.g. `mmHg`.
    pub unit: String,
    /// Multiplier applied to the number read.
    #[serde(default = "one")]
    pub scale: f64,
    /// Added after scaling.
    #[serde(default)]
    pub offset: f64,
}

fn one() -> f64 {
    1.0
}

/// How lines are split and mapped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextStreamConfig {
    /// Field separator; a space means "any run of spaces or tabs".
    pub delimiter: char,
    /// Samples per second (lines carry no time: line `n` is sample `n`).
    pub sample_rate_hz: f64,
    /// The channels, in the order they appear in blocks.
    pub columns: Vec<ColumnMap>,
}

impl TextStreamConfig {
    /// The source these lines make, named `id`.
    pub fn spec(&self, id: &str, label: &str) -> SourceSpec {
        SourceSpec {
            id: id.to_owned(),
            label: label.to_owned(),
            sample_rate_hz: self.sample_rate_hz,
            channels: self
                .columns
                .iter()
                .map(|column| ChannelSpec {
                    name: column.name.clone(),
                    unit: column.unit.clone(),
                })
                .collect(),
        }
    }
}

/// Counters of a text stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextStreamStats {
    /// Lines turned into samples.
    pub num_lines_ok: u64,
    /// Lines that could not be read (too few fields, not a number, too long, not UTF-8).
    pub num_bad_lines: u64,
    /// Bytes received.
    pub num_bytes_in: u64,
}

/// Turns bytes into samples, line by line.
#[derive(Debug)]
pub struct TextStream {
    config: TextStreamConfig,
    spec: SourceSpec,
    line: Vec<u8>,
    /// The current line has exceeded [`MAX_LINE_LEN`] and is being discarded.
    overlong: bool,
    /// Index of the next sample; `None` until the first good line.
    next: Option<u64>,
    /// Host time of the last good line, and whether the link was lost since.
    last_line_s: f64,
    link_lost: bool,
    pending: Vec<Vec<f32>>,
    pending_first: u64,
    stats: TextStreamStats,
}

impl TextStream {
    /// A stream with `config`, reporting as source `spec`.
    pub fn new(config: TextStreamConfig, spec: SourceSpec) -> TextStream {
        let num_channels = config.columns.len();
        TextStream {
            config,
            spec,
            line: Vec::new(),
            overlong: false,
            next: None,
            last_line_s: 0.0,
            link_lost: false,
            pending: vec![Vec::new(); num_channels],
            pending_first: 0,
            stats: TextStreamStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &TextStreamStats {
        &self.stats
    }

    /// The transport lost the link: a partial line is dropped, and the next good line starts a new segment
    /// after a gap estimated from the host clock (lines carry no counter).
    pub fn link_lost(&mut self) {
        if !self.line.is_empty() || self.overlong {
            self.stats.num_bad_lines += 1;
        }
        self.line.clear();
        self.overlong = false;
        self.link_lost = true;
    }

    /// Reads `bytes` received at host time `now_s`, appending events to `out`.
    pub fn feed(&mut self, bytes: &[u8], now_s: f64, out: &mut Vec<StreamEvent>) {
        self.stats.num_bytes_in += bytes.len() as u64;
        for &byte in bytes {
            if byte == b'\n' {
                let line = std::mem::take(&mut self.line);
                let overlong = std::mem::replace(&mut self.overlong, false);
                self.line_ended(&line, overlong, now_s, out);
                self.line = line;
                self.line.clear();
            } else if self.line.len() < MAX_LINE_LEN {
                self.line.push(byte);
            } else {
                self.overlong = true;
            }
        }
        self.flush(out);
    }

    fn line_ended(&mut self, line: &[u8], overlong: bool, now_s: f64, out: &mut Vec<StreamEvent>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) && !overlong {
            return;
        }
        let values = if overlong { None } else { self.parse(line) };
        let Some(values) = values else {
            self.stats.num_bad_lines += 1;
            // Once samples flow, a garbled line is a lost sample (one per line: the best a text stream can say).
            if let Some(next) = self.next.filter(|_| !self.link_lost) {
                self.flush(out);
                out.push(StreamEvent::Gap(Gap {
                    first_sample: next,
                    num_samples: 1,
                    reason: GapReason::CorruptFrames,
                }));
                self.next = Some(next + 1);
            }
            return;
        };
        let index = match self.next {
            None => {
                out.push(StreamEvent::Connected {
                    spec: self.spec.clone(),
                    first_sample: 0,
                });
                0
            }
            Some(next) if self.link_lost => {
                self.flush(out);
                let elapsed =
                    ((now_s - self.last_line_s).max(0.0) * self.config.sample_rate_hz).round() as u64;
                let num_missing = elapsed.saturating_sub(1);
                if num_missing > 0 {
                    out.push(StreamEvent::Gap(Gap {
                        first_sample: next,
                        num_samples: num_missing,
                        reason: GapReason::Other(
                            "text stream disconnected; length estimated from the host clock".to_owned(),
                        ),
                    }));
                }
                out.push(StreamEvent::Connected {
                    spec: self.spec.clone(),
                    first_sample: next + num_missing,
                });
                next + num_missing
            }
            Some(next) => next,
        };
        self.link_lost = false;
        if self.pending[0].is_empty() {
            self.pending_first = index;
        }
        for (channel, value) in self.pending.iter_mut().zip(values) {
            channel.push(value);
        }
        self.next = Some(index + 1);
        self.last_line_s = now_s;
        self.stats.num_lines_ok += 1;
    }

    /// The mapped values of a line, or `None` if any mapped column is missing or not a number.
    fn parse(&self, line: &[u8]) -> Option<Vec<f32>> {
        let line = std::str::from_utf8(line).ok()?;
        let fields: Vec<&str> = if self.config.delimiter == ' ' {
            line.split_whitespace().collect()
        } else {
            line.split(self.config.delimiter).map(str::trim).collect()
        };
        self.config
            .columns
            .iter()
            .map(|column| {
                let number: f64 = fields.get(column.column)?.parse().ok()?;
                number
                    .is_finite()
                    .then_some((number * column.scale + column.offset) as f32)
            })
            .collect()
    }

    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        if self.pending.first().is_some_and(|channel| !channel.is_empty()) {
            let channels = self.pending.iter_mut().map(std::mem::take).collect();
            out.push(StreamEvent::Block(Block {
                first_sample: self.pending_first,
                channels,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(delimiter: char) -> TextStreamConfig {
        TextStreamConfig {
            delimiter,
            sample_rate_hz: 100.0,
            columns: vec![
                ColumnMap {
                    column: 2,
                    name: "pa".into(),
                    unit: "mmHg".into(),
                    scale: 100.0,
                    offset: -1.0,
                },
                ColumnMap {
                    column: 0,
                    name: "ecg".into(),
                    unit: "mV".into(),
                    scale: 1.0,
                    offset: 0.0,
                },
            ],
        }
    }

    fn run(stream: &mut TextStream, chunks: &[&[u8]]) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        for chunk in chunks {
            stream.feed(chunk, 0.0, &mut out);
        }
        out
    }

    fn samples(events: &[StreamEvent]) -> Vec<(u64, Vec<f32>)> {
        let mut all = Vec::new();
        for event in events {
            if let StreamEvent::Block(block) = event {
                for i in 0..block.num_samples() {
                    all.push((
                        block.first_sample + i as u64,
                        block.channels.iter().map(|c| c[i]).collect(),
                    ));
                }
            }
        }
        all
    }

    #[test]
    fn maps_scales_and_survives_any_chunking() {
        let text = b"ecg,x,pa\r\n0.5,9,1.0\r\n0.25,9,0.5\r\n\r\n-1,9,2\r\n";
        let spec = config(',').spec("text", "Text");
        let whole = run(&mut TextStream::new(config(','), spec.clone()), &[text]);
        let split: Vec<&[u8]> = text.chunks(3).collect();
        let mut stream = TextStream::new(config(','), spec);
        let chunked = run(&mut stream, &split);
        assert_eq!(samples(&whole), samples(&chunked));
        assert_eq!(
            samples(&whole),
            vec![
                (0, vec![99.0, 0.5]),
                (1, vec![49.0, 0.25]),
                (2, vec![199.0, -1.0])
            ]
        );
        // The header line is bad but not a lost sample: nothing had been received yet.
        assert_eq!(stream.stats().num_bad_lines, 1);
        assert_eq!(stream.stats().num_lines_ok, 3);
        assert!(matches!(
            chunked[0],
            StreamEvent::Connected { first_sample: 0, .. }
        ));
    }

    #[test]
    fn bad_lines_are_counted_and_become_one_sample_gaps() {
        let mut stream = TextStream::new(config(' '), config(' ').spec("text", "Text"));
        let long = vec![b'7'; MAX_LINE_LEN + 10];
        let events = run(
            &mut stream,
            &[
                b"1  2 3\n",
                b"1 2 x\n",
                b"1 2\n",
                &long,
                b"\n",
                b"\xff\xfe 1 2\n",
                b"4\t5\t6\n",
            ],
        );
        assert_eq!(stream.stats().num_bad_lines, 4);
        let gaps: Vec<u64> = events
            .iter()
            .filter_map(|e| {
                if let StreamEvent::Gap(g) = e {
                    Some(g.first_sample)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(gaps, vec![1, 2, 3, 4]);
        assert_eq!(
            samples(&events),
            vec![(0, vec![299.0, 1.0]), (5, vec![599.0, 4.0])]
        );
    }

    #[test]
    fn reconnection_gap_is_estimated_from_the_clock() {
        let mut stream = TextStream::new(config('\t'), config('\t').spec("text", "Text"));
        let mut out = Vec::new();
        stream.feed(b"1\t0\t1\n", 10.0, &mut out);
        stream.feed(b"1\t0\t", 10.0, &mut out);
        stream.link_lost();
        stream.feed(b"2\t0\t2\n", 12.0, &mut out);
        // 2 s at 100 Hz between the two good lines: 199 samples missing in between.
        let gap = out
            .iter()
            .find_map(|e| {
                if let StreamEvent::Gap(g) = e {
                    Some(g.clone())
                } else {
                    None
                }
            })
            .unwrap();
        assert_eq!((gap.first_sample, gap.num_samples), (1, 199));
        assert!(matches!(out.last(), Some(StreamEvent::Block(b)) if b.first_sample == 200));
        assert_eq!(stream.stats().num_bad_lines, 1);
    }
}
