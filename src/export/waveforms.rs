//! The case's waveforms as one WFDB format-16 record, written a minute at a time so a 2-hour case never sits in
//! memory. Each channel's gain comes from its stored chunk minima and maxima (no sample decoded to choose it), so
//! every sample is within half a quantisation step of the stored value. The record starts at the first recorded
//! sample (the case's set-up), and its header says where that is on the case's clock.

use std::path::Path;

use super::ExportError;
use crate::formats::wfdb_write::{SignalSpec, WfdbWriter, WrittenRecord, frame_layout};
use crate::store::{CaseFile, StoreError};

/// Seconds of samples read and written per step.
const BLOCK_S: f64 = 60.0;

/// Writes every channel of `file` as the record `record_name` in `dir`. Channels of one name recorded in several
/// source segments are joined (as [`CaseFile::recording`] joins them); gaps are written as invalid samples.
pub fn write_wfdb(file: &CaseFile, dir: &Path, record_name: &str) -> Result<WrittenRecord, ExportError> {
    let channels = file.channels()?;
    // The same grouping as `CaseFile::recording`: one signal per name, unit and rate.
    let mut specs: Vec<SignalSpec> = Vec::new();
    for channel in &channels {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for chunk in file.chunk_summaries(channel.id)? {
            if chunk.min.is_finite() {
                lo = lo.min(f64::from(chunk.min));
                hi = hi.max(f64::from(chunk.max));
            }
        }
        match specs.iter_mut().find(|s| {
            s.description == channel.name
                && s.unit == channel.unit
                && s.sample_rate_hz == channel.sample_rate_hz
        }) {
            Some(spec) => {
                spec.min_value = spec.min_value.min(lo);
                spec.max_value = spec.max_value.max(hi);
            }
            None => specs.push(SignalSpec {
                description: channel.name.clone(),
                unit: channel.unit.clone(),
                sample_rate_hz: channel.sample_rate_hz,
                min_value: lo,
                max_value: hi,
            }),
        }
    }
    if specs.is_empty() {
        return Err(StoreError::Invalid("the case has no recorded channels".into()).into());
    }
    let rates: Vec<f64> = specs.iter().map(|s| s.sample_rate_hz).collect();
    let (frame_rate_hz, _) = frame_layout(&rates).ok_or_else(|| {
        StoreError::Invalid(format!(
            "the channels' sample rates {rates:?} Hz are not whole numbers of Hz and cannot share a WFDB record"
        ))
    })?;
    let duration_s = channels
        .iter()
        .map(|c| c.end_sample as f64 / c.sample_rate_hz)
        .fold(0.0, f64::max);
    // The record starts at the first recorded sample (the case's set-up), not at the console's sample 0 on the
    // case's clock: a console that ran before set-up would otherwise lead the record with invalid samples.
    let first_frame = first_recorded_s(&channels).map_or(0, |t| (t * frame_rate_hz).floor() as u64);
    let end_frame = ((duration_s * frame_rate_hz).ceil() as u64).max(first_frame);
    let frames_per_block = (BLOCK_S * frame_rate_hz) as u64;
    let mut writer = WfdbWriter::create(dir, record_name, &specs)?;
    // The export policy: the first frame's time in UTC as the record's base time, the case's origin, the policy.
    let first_frame_s = first_frame as f64 / frame_rate_hz;
    if let Some(zero) = file.recording_start_utc()? {
        writer.set_base_time(zero + chrono::Duration::microseconds((first_frame_s * 1e6).round() as i64));
    }
    writer.add_comment(&format!(
        "first frame at {first_frame_s:.3} s of the case's clock (windows and markers are given on it)"
    ));
    writer.add_comment(&format!("case origin: {}", file.summary()?.origin.text()));
    writer.add_comment(super::policy::POLICY);
    let mut frame = first_frame;
    while frame < end_frame {
        let block = frames_per_block.min(end_frame - frame);
        let (from_s, to_s) = (
            frame as f64 / frame_rate_hz,
            (frame + block) as f64 / frame_rate_hz,
        );
        let recording = file.recording(Some(from_s), Some(to_s))?;
        let segment = recording.segments.first();
        let signals: Vec<&[f64]> = specs
            .iter()
            .map(|spec| {
                segment
                    .and_then(|s| {
                        s.channels.iter().find(|c| {
                            c.name == spec.description
                                && c.unit == spec.unit
                                && c.sample_rate_hz == spec.sample_rate_hz
                        })
                    })
                    .map_or(&[][..], |c| c.samples.as_slice())
            })
            .collect();
        writer.write_frames(&signals, block as usize)?;
        frame += block;
    }
    Ok(writer.finish()?)
}

/// When the case's first recorded sample is on the case's clock (the case's set-up: a console that ran before it
/// numbers its samples from its own start), `None` when nothing was recorded. Every waveform export (this WFDB
/// record, the DICOM waveforms) starts there, so none leads with samples from before the case.
pub(crate) fn first_recorded_s(channels: &[crate::store::ChannelInfo]) -> Option<f64> {
    channels
        .iter()
        .filter(|c| c.num_samples > 0)
        .map(|c| c.first_sample as f64 / c.sample_rate_hz)
        .min_by(f64::total_cmp)
}
