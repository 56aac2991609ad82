//! Writing PhysioNet WFDB records in format 16 (16-bit little-endian two's complement), the export format for
//! waveforms: any WFDB tool, and [`crate::formats::wfdb`], reads them back.
//!
//! Each signal gets its own gain and baseline, chosen from its range so that its values use about ±32 000 ADC
//! units: physical = (ADC - baseline) / gain, so the quantisation step is `1 / gain` physical units and a written
//! value differs from the original by at most half of it ([`SignalLayout::max_error`]). `NaN` is written as the
//! invalid-sample code -32768. Signals at different integer rates share one record: the frame rate is the greatest
//! common divisor of the rates and each signal has `rate / frame rate` samples per frame. The header carries units
//! and descriptions, the base time and date when given ([`WfdbWriter::set_base_time`], in UTC) and the caller's
//! comment lines (the export's case origin and de-identification policy).
//!
//! The writer streams: frames are written as they come, the header (which needs the frame count and checksums)
//! at [`WfdbWriter::finish`], so a 2-hour case is exported without holding it in memory.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::FormatError;

/// The invalid-sample code of format 16.
const INVALID: i16 = -32768;
/// ADC units the largest deviation from a signal's midpoint is scaled to (headroom below 32767 for rounding).
const FULL_SCALE_ADC: f64 = 32_000.0;

/// One signal to write.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalSpec {
    /// Description (the channel's name), e.g. `pa`. Written at the end of the signal line.
    pub description: String,
    /// Physical unit, e.g. `mmHg`; spaces become `_` (a WFDB field cannot hold them).
    pub unit: String,
    /// Samples per second; in one record all rates must be whole multiples of the frame rate.
    pub sample_rate_hz: f64,
    /// Smallest finite value the signal will take (chooses the gain).
    pub min_value: f64,
    /// Largest finite value the signal will take.
    pub max_value: f64,
}

/// How a signal is stored: samples per frame, gain and baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalLayout {
    /// Samples of this signal per frame.
    pub samples_per_frame: u32,
    /// ADC units per physical unit.
    pub gain: f64,
    /// ADC value of physical zero.
    pub baseline: i64,
}

impl SignalLayout {
    /// Largest difference between a value in the declared range and the value read back: half a quantisation
    /// step.
    pub fn max_error(&self) -> f64 {
        0.5 / self.gain
    }

    /// The ADC value of `value` (`INVALID` for `NaN`, clamped to the 16-bit range).
    fn adc(&self, value: f64) -> i16 {
        if !value.is_finite() {
            return INVALID;
        }
        let adc = (value * self.gain).round() as i64 + self.baseline;
        adc.clamp(-32767, 32767) as i16
    }
}

/// The layout of a signal with `spec`'s range: the gain that maps half the range to [`FULL_SCALE_ADC`] and the
/// baseline that puts the midpoint at ADC 0.
fn layout_of(spec: &SignalSpec, samples_per_frame: u32) -> SignalLayout {
    let (lo, hi) =
        if spec.min_value.is_finite() && spec.max_value.is_finite() && spec.min_value <= spec.max_value {
            (spec.min_value, spec.max_value)
        } else {
            (0.0, 0.0)
        };
    let mid = 0.5 * (lo + hi);
    // A constant signal still needs a usable gain: scale as if it spanned a thousandth of its magnitude.
    let half_range = (0.5 * (hi - lo)).max(1e-3 * mid.abs()).max(1e-3);
    let gain = FULL_SCALE_ADC / half_range;
    SignalLayout {
        samples_per_frame,
        gain,
        baseline: (-mid * gain).round() as i64,
    }
}

/// The frame rate of signals at `rates` (their greatest common divisor) and each one's samples per frame, or
/// `None` when a rate is not a positive whole number of Hz.
pub fn frame_layout(rates: &[f64]) -> Option<(f64, Vec<u32>)> {
    let whole: Vec<u64> = rates
        .iter()
        .map(|&rate| (rate.is_finite() && rate >= 1.0 && rate.fract() == 0.0).then_some(rate as u64))
        .collect::<Option<_>>()?;
    let gcd = whole.iter().copied().fold(0, gcd_u64);
    if gcd == 0 {
        return None;
    }
    let spf = whole
        .iter()
        .map(|&rate| u32::try_from(rate / gcd).ok())
        .collect::<Option<_>>()?;
    Some((gcd as f64, spf))
}

fn gcd_u64(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd_u64(b, a % b) }
}

/// What a finished record holds.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenRecord {
    /// The header file.
    pub header_path: PathBuf,
    /// The signal file.
    pub data_path: PathBuf,
    /// Frames written.
    pub num_frames: u64,
    /// Frames per second.
    pub frame_rate_hz: f64,
    /// Each signal's storage, in header order.
    pub layouts: Vec<SignalLayout>,
}

/// A format-16 record being written (see the module documentation).
pub struct WfdbWriter {
    record_name: String,
    header_path: PathBuf,
    data_path: PathBuf,
    data: std::io::BufWriter<std::fs::File>,
    specs: Vec<SignalSpec>,
    layouts: Vec<SignalLayout>,
    frame_rate_hz: f64,
    num_frames: u64,
    /// First ADC value of each signal (the header's "initial value").
    initial: Vec<Option<i16>>,
    /// Running 16-bit checksum of each signal's ADC values.
    checksums: Vec<u16>,
    /// The record's base time and date (UTC), when given.
    base_utc: Option<chrono::DateTime<chrono::Utc>>,
    /// Comment lines of the header (without `#`).
    comments: Vec<String>,
    buffer: Vec<u8>,
}

impl WfdbWriter {
    /// Gives the record its base time and date, the time of its first frame (written in UTC).
    pub fn set_base_time(&mut self, utc: chrono::DateTime<chrono::Utc>) {
        self.base_utc = Some(utc);
    }

    /// Adds a comment line to the header.
    pub fn add_comment(&mut self, text: &str) {
        self.comments.push(text.to_owned());
    }

    /// Creates `dir/record_name.dat` for `signals` (the header follows at [`WfdbWriter::finish`]). The record
    /// name may hold letters, digits, `_` and `-` only.
    pub fn create(dir: &Path, record_name: &str, signals: &[SignalSpec]) -> Result<WfdbWriter, FormatError> {
        let header_path = dir.join(format!("{record_name}.hea"));
        let invalid = |message: String| FormatError::Unsupported {
            path: header_path.clone(),
            message,
        };
        if record_name.is_empty()
            || !record_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(format!(
                "record name {record_name:?}: only letters, digits, '_' and '-' are allowed"
            )));
        }
        if signals.is_empty() {
            return Err(invalid("a record needs at least one signal".into()));
        }
        let rates: Vec<f64> = signals.iter().map(|s| s.sample_rate_hz).collect();
        let (frame_rate_hz, spf) = frame_layout(&rates).ok_or_else(|| {
            invalid(format!(
                "sample rates {rates:?} Hz are not whole numbers of Hz; write one record per rate"
            ))
        })?;
        let data_path = dir.join(format!("{record_name}.dat"));
        let file = std::fs::File::create(&data_path).map_err(|e| FormatError::io(&data_path, e))?;
        Ok(WfdbWriter {
            record_name: record_name.to_owned(),
            header_path,
            data_path,
            data: std::io::BufWriter::new(file),
            layouts: signals
                .iter()
                .zip(spf)
                .map(|(spec, spf)| layout_of(spec, spf))
                .collect(),
            specs: signals.to_vec(),
            frame_rate_hz,
            num_frames: 0,
            initial: vec![None; signals.len()],
            checksums: vec![0; signals.len()],
            base_utc: None,
            comments: Vec::new(),
            buffer: Vec::new(),
        })
    }

    /// The storage chosen for each signal.
    pub fn layouts(&self) -> &[SignalLayout] {
        &self.layouts
    }

    /// Frames per second.
    pub fn frame_rate_hz(&self) -> f64 {
        self.frame_rate_hz
    }

    /// Appends `num_frames` frames: `signals[k]` holds signal `k`'s next `num_frames * samples_per_frame` values
    /// (a shorter slice is padded with invalid samples, so signals may end at different times).
    pub fn write_frames(&mut self, signals: &[&[f64]], num_frames: usize) -> Result<(), FormatError> {
        if signals.len() != self.layouts.len() {
            return Err(FormatError::Data {
                path: self.data_path.clone(),
                message: format!(
                    "{} signals given, the record has {}",
                    signals.len(),
                    self.layouts.len()
                ),
            });
        }
        let frame_len: usize = self.layouts.iter().map(|l| l.samples_per_frame as usize).sum();
        self.buffer.clear();
        self.buffer.reserve(num_frames * frame_len * 2);
        for frame in 0..num_frames {
            for (k, layout) in self.layouts.iter().enumerate() {
                let spf = layout.samples_per_frame as usize;
                for j in 0..spf {
                    let value = signals[k].get(frame * spf + j).copied().unwrap_or(f64::NAN);
                    let adc = layout.adc(value);
                    self.initial[k].get_or_insert(adc);
                    self.checksums[k] = self.checksums[k].wrapping_add(adc as u16);
                    self.buffer.extend_from_slice(&adc.to_le_bytes());
                }
            }
        }
        self.data
            .write_all(&self.buffer)
            .map_err(|e| FormatError::io(&self.data_path, e))?;
        self.num_frames += num_frames as u64;
        Ok(())
    }

    /// Flushes the signal file and writes the header; returns what was written.
    pub fn finish(mut self) -> Result<WrittenRecord, FormatError> {
        self.data
            .flush()
            .map_err(|e| FormatError::io(&self.data_path, e))?;
        self.data
            .get_ref()
            .sync_all()
            .map_err(|e| FormatError::io(&self.data_path, e))?;
        let data_name = format!("{}.dat", self.record_name);
        // WFDB's base time is `HH:MM:SS[.sss]` and its base date `DD/MM/YYYY`.
        let base = self.base_utc.map_or_else(String::new, |utc| {
            format!(" {}", utc.format("%H:%M:%S%.3f %d/%m/%Y"))
        });
        let mut header = format!(
            "{} {} {} {}{base}\n",
            self.record_name,
            self.layouts.len(),
            self.frame_rate_hz,
            self.num_frames
        );
        for (k, (spec, layout)) in self.specs.iter().zip(&self.layouts).enumerate() {
            let format = match layout.samples_per_frame {
                1 => "16".to_owned(),
                spf => format!("16x{spf}"),
            };
            let unit: String = spec
                .unit
                .chars()
                .map(|c| if c.is_whitespace() { '_' } else { c })
                .collect();
            let unit = if unit.is_empty() { "NU".to_owned() } else { unit };
            let description = spec.description.replace(['\n', '\r'], " ");
            header.push_str(&format!(
                "{data_name} {format} {}({})/{unit} 16 0 {} {} 0 {description}\n",
                layout.gain,
                layout.baseline,
                self.initial[k].unwrap_or(INVALID),
                self.checksums[k] as i16,
            ));
        }
        header.push_str("# written by heracles\n");
        if self.base_utc.is_some() {
            header.push_str("# base time and date: UTC\n");
        }
        for comment in &self.comments {
            header.push_str(&format!("# {}\n", comment.replace(['\n', '\r'], " ")));
        }
        std::fs::write(&self.header_path, header).map_err(|e| FormatError::io(&self.header_path, e))?;
        Ok(WrittenRecord {
            header_path: self.header_path,
            data_path: self.data_path,
            num_frames: self.num_frames,
            frame_rate_hz: self.frame_rate_hz,
            layouts: self.layouts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rate_is_the_gcd_of_whole_rates() {
        assert_eq!(frame_layout(&[1000.0]), Some((1000.0, vec![1])));
        assert_eq!(frame_layout(&[200.0, 250.0]), Some((50.0, vec![4, 5])));
        assert_eq!(frame_layout(&[1000.0, 250.0]), Some((250.0, vec![4, 1])));
        assert_eq!(frame_layout(&[333.3]), None);
        assert_eq!(frame_layout(&[0.5]), None);
    }

    #[test]
    fn gain_maps_the_range_to_full_scale_and_nan_to_invalid() {
        let spec = SignalSpec {
            description: "pa".into(),
            unit: "mmHg".into(),
            sample_rate_hz: 1000.0,
            min_value: 40.0,
            max_value: 120.0,
        };
        let layout = layout_of(&spec, 1);
        assert_eq!(layout.gain, 800.0);
        assert_eq!(layout.baseline, -64_000);
        assert_eq!(layout.adc(120.0), 32_000);
        assert_eq!(layout.adc(40.0), -32_000);
        assert_eq!(layout.adc(f64::NAN), INVALID);
        assert_eq!(layout.adc(1e9), 32_767);
        // A constant signal gets a finite gain and reads back within half a step.
        let flat = layout_of(
            &SignalSpec {
                min_value: 5.0,
                max_value: 5.0,
                ..spec
            },
            1,
        );
        let back = (flat.adc(5.0) as i64 - flat.baseline) as f64 / flat.gain;
        assert!((back - 5.0).abs() <= flat.max_error());
    }
}
