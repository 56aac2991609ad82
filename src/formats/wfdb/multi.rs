//! WFDB multi-segment records (header(5), "Multi-segment records"): a master header `name/num_segments
//! num_signals fs num_frames` followed by one line per segment, `segment_name num_frames`. Each segment is an
//! ordinary record in the same folder; `~` is a null segment (that many frames of nothing, a gap). A first
//! segment of length 0 is the layout header of a variable-layout record and holds no samples.
//!
//! Each non-null segment becomes a [`Segment`] starting at its frame offset / fs; the null segments are the
//! time between them. Signals keep the names, units and scaling of their own segment header.

use std::path::Path;

use super::{FormatError, next_field};
use crate::model::Recording;
use crate::model::workers::Workers;

/// One line of a master header.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentLine {
    /// Record name of the segment, or `~` for a null segment.
    pub name: String,
    /// Frames in the segment.
    pub num_frames: u64,
}

/// The record line and segment lines of a master header.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterHeader {
    /// Record name.
    pub record_name: String,
    /// Frames per second.
    pub frame_rate_hz: f64,
    /// The segments, in order.
    pub segments: Vec<SegmentLine>,
}

/// Whether a header's record line names a multi-segment record (`name/segments`).
pub fn is_multi_segment(header: &[u8]) -> bool {
    header
        .split(|&b| b == b'\n')
        .map(super::super::decode_line)
        .find(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .and_then(|line| next_field(&line).map(|(name, _)| name.contains('/')))
        .unwrap_or(false)
}

/// Parses a master header (`path` only names it in errors).
pub fn parse_master(bytes: &[u8], path: &Path) -> Result<MasterHeader, FormatError> {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, super::super::decode_line(line)))
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
    let err = |line: usize, message: String| FormatError::syntax(path, line, message);
    let Some((number, record_line)) = lines.next() else {
        return Err(err(1, "empty header: no record line".into()));
    };
    let mut fields = record_line.split_whitespace();
    let name_field = fields.next().unwrap_or_default();
    let Some((record_name, count)) = name_field.split_once('/') else {
        return Err(err(
            number,
            format!("{name_field:?} is not a multi-segment record name"),
        ));
    };
    let num_segments: usize = count
        .parse()
        .map_err(|_| err(number, format!("number of segments {count:?} is not a count")))?;
    let _num_signals = fields
        .next()
        .ok_or_else(|| err(number, "record line has no number of signals".into()))?;
    let frame_rate_hz = match fields.next() {
        Some(text) => {
            let rate: f64 = text
                .split('/')
                .next()
                .unwrap_or(text)
                .parse()
                .map_err(|_| err(number, format!("sampling frequency {text:?} is not a number")))?;
            if !(rate.is_finite() && rate > 0.0) {
                return Err(err(number, format!("sampling frequency {rate} is not positive")));
            }
            rate
        }
        None => super::DEFAULT_FRAME_RATE_HZ,
    };
    let mut segments = Vec::with_capacity(num_segments.min(10_000));
    let mut last = number;
    for index in 0..num_segments {
        let Some((number, line)) = lines.next() else {
            return Err(err(
                last + 1,
                format!("header ends after {index} of {num_segments} segment lines"),
            ));
        };
        last = number;
        let mut fields = line.split_whitespace();
        let (Some(name), Some(frames)) = (fields.next(), fields.next()) else {
            return Err(err(number, "segment line must be `NAME FRAMES`".into()));
        };
        let num_frames = frames
            .parse()
            .map_err(|_| err(number, format!("segment length {frames:?} is not a count")))?;
        if name.contains(['/', '\\']) || name == ".." {
            return Err(err(
                number,
                format!("segment name {name:?} must be a record in the same folder"),
            ));
        }
        segments.push(SegmentLine {
            name: name.to_owned(),
            num_frames,
        });
    }
    Ok(MasterHeader {
        record_name: record_name.to_owned(),
        frame_rate_hz,
        segments,
    })
}

/// Reads the multi-segment record whose master header is at `header_path`, with text `bytes`, each segment's
/// samples decoded on `workers`.
pub fn read(bytes: &[u8], header_path: &Path, workers: Workers) -> Result<Recording, FormatError> {
    let master = parse_master(bytes, header_path)?;
    let folder = header_path.parent().map(Path::to_owned).unwrap_or_default();
    let mut recording = Recording::default();
    let mut frame = 0u64;
    for (index, segment) in master.segments.iter().enumerate() {
        let start_frame = frame;
        frame += segment.num_frames;
        // Null segments are gaps; a zero-length first segment is the layout header of a variable layout.
        if segment.name == "~" || (index == 0 && segment.num_frames == 0) {
            continue;
        }
        let segment_path = folder.join(format!("{}.hea", segment.name));
        let segment_header = std::fs::read(&segment_path).map_err(|e| FormatError::io(&segment_path, e))?;
        // Segments are ordinary records; a nested multi-segment record (or one naming itself) is refused.
        if is_multi_segment(&segment_header) {
            return Err(FormatError::Data {
                path: segment_path,
                message: "a segment of a multi-segment record is itself multi-segment".into(),
            });
        }
        let part = super::read_with(&segment_path, workers)?;
        for mut piece in part.segments {
            piece.start_s += start_frame as f64 / master.frame_rate_hz;
            let frames = piece
                .channels
                .first()
                .map_or(0.0, |c| c.duration_s() * master.frame_rate_hz);
            if frames.round() as u64 > segment.num_frames {
                return Err(FormatError::Data {
                    path: segment_path,
                    message: format!(
                        "segment holds {} frames but the master header gives it {}",
                        frames.round(),
                        segment.num_frames
                    ),
                });
            }
            recording.segments.push(piece);
        }
    }
    if recording.segments.is_empty() {
        return Err(FormatError::Data {
            path: header_path.to_owned(),
            message: "multi-segment record with no signal segments".into(),
        });
    }
    Ok(recording)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_header_lines_and_errors() {
        let text = b"multi/3 2 125 300\nseg1 100\n~ 50\nseg2 150\n";
        let master = parse_master(text, Path::new("m.hea")).unwrap();
        assert_eq!(master.record_name, "multi");
        assert_eq!(master.frame_rate_hz, 125.0);
        assert_eq!(
            master.segments[1],
            SegmentLine {
                name: "~".into(),
                num_frames: 50
            }
        );
        assert!(is_multi_segment(text));
        assert!(!is_multi_segment(b"# c\nrec 2 125\n"));
        for (text, line) in [
            (&b"multi/3 2 125\nseg1 100\n"[..], 3),
            (b"multi/x 2 125\n", 1),
            (b"multi/1 2 125\nseg1 many\n", 2),
            (b"multi/1 2 125\n../etc 5\n", 2),
        ] {
            match parse_master(text, Path::new("m.hea")) {
                Err(FormatError::Syntax { line: found, .. }) => assert_eq!(found, line),
                other => panic!("expected an error at line {line}, got {other:?}"),
            }
        }
    }
}
