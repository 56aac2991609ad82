//! Readers for offline review and export: every chunk's stored min/max (the coarsest level of the review
//! screen's overview, read without decoding a sample) and a stretch of the case as a [`Recording`] for the
//! analysis pipeline and the exporters, calibrated as it was live (samples are stored raw; each channel's stored
//! calibrations apply from the sample they took effect at).
//!
//! Time axis: sample `i` of a source is at `i / sample_rate_hz` seconds, the same axis the protocol steps,
//! events and analysis windows use.

use super::{CaseFile, ChannelInfo, StoreError};
use crate::model::{Recording, Segment, TimeSeries};

/// The stored summary of one chunk of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChunkSummary {
    /// Index of the chunk's first sample.
    pub first_sample: u64,
    /// Samples in the chunk.
    pub num_samples: u64,
    /// Smallest finite sample (`NaN` when the chunk holds none).
    pub min: f32,
    /// Largest finite sample (`NaN` when the chunk holds none).
    pub max: f32,
}

impl CaseFile {
    /// Every chunk summary of channel `channel_id`, in sample order (one index scan; no sample is decoded).
    pub fn chunk_summaries(&self, channel_id: i64) -> Result<Vec<ChunkSummary>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT first_sample, num_samples, min_value, max_value FROM chunk WHERE channel_id = ?1
             ORDER BY first_sample",
        )?;
        let rows = statement.query_map([channel_id], |row| {
            let value = |v: Option<f64>| v.map_or(f32::NAN, |v| v as f32);
            Ok(ChunkSummary {
                first_sample: row.get(0)?,
                num_samples: row.get(1)?,
                min: value(row.get(2)?),
                max: value(row.get(3)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The beats of window `window_id` with their row ids (the audit trail names beats by row id), by number.
    pub fn beat_rows(&self, window_id: i64) -> Result<Vec<(i64, crate::model::Beat)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, beat_json FROM beat WHERE window_id = ?1 ORDER BY number")?;
        let rows = statement.query_map([window_id], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut beats = Vec::new();
        for row in rows {
            let (id, json) = row?;
            let beat = serde_json::from_str(&json)
                .map_err(|error| StoreError::Invalid(format!("beat {id} cannot be read: {error}")))?;
            beats.push((id, beat));
        }
        Ok(beats)
    }

    /// The case's channels over `[from_s, to_s)` (the whole case when `None`) as one segment starting at `from_s`,
    /// each channel at its own rate, `NaN` where nothing was recorded. Channels of the same name, unit and rate
    /// recorded in several source segments (a console that reconnected) are joined into one series.
    pub fn recording(&self, from_s: Option<f64>, to_s: Option<f64>) -> Result<Recording, StoreError> {
        let channels = self.channels()?;
        let from_s = from_s.unwrap_or(0.0).max(0.0);
        let to_s = match to_s {
            Some(to_s) => to_s,
            None => channels
                .iter()
                .map(|c| c.end_sample as f64 / c.sample_rate_hz)
                .fold(from_s, f64::max),
        };
        if !(from_s.is_finite() && to_s.is_finite() && to_s >= from_s) {
            return Err(StoreError::Invalid(format!(
                "time range {from_s} s to {to_s} s is not a valid range"
            )));
        }
        let mut groups: Vec<(TimeSeries, Vec<&ChannelInfo>)> = Vec::new();
        for channel in &channels {
            let same = |series: &TimeSeries| {
                series.name == channel.name
                    && series.unit == channel.unit
                    && series.sample_rate_hz == channel.sample_rate_hz
            };
            match groups.iter_mut().find(|(series, _)| same(series)) {
                Some((_, members)) => members.push(channel),
                None => groups.push((
                    TimeSeries {
                        name: channel.name.clone(),
                        unit: channel.unit.clone(),
                        sample_rate_hz: channel.sample_rate_hz,
                        samples: Vec::new(),
                    },
                    vec![channel],
                )),
            }
        }
        // Stored raw, read calibrated: each channel's calibrations from the sample they took effect at.
        let calibrations = crate::acquisition::calibration::stored_calibrations(self)?;
        let mut series_out = Vec::with_capacity(groups.len());
        for (mut series, members) in groups {
            let rate = series.sample_rate_hz;
            let first = (from_s * rate).round() as u64;
            let end = ((to_s * rate).round() as u64).max(first);
            let mut values = vec![f64::NAN; (end - first) as usize];
            for member in members {
                let (lo, hi) = (first.max(member.first_sample), end.min(member.end_sample));
                if lo >= hi {
                    continue;
                }
                let samples = self.read_samples(member.id, lo, hi)?;
                let mut member_values: Vec<f64> = samples.values.iter().map(|&v| f64::from(v)).collect();
                let records: Vec<_> = calibrations
                    .iter()
                    .map(|(_, record)| record)
                    .filter(|record| record.source == member.source && record.channel == member.name)
                    .collect();
                crate::acquisition::calibration::calibrate_series(&mut member_values, lo, rate, &records);
                for (slot, &value) in values[(lo - first) as usize..].iter_mut().zip(&member_values) {
                    if value.is_finite() {
                        *slot = value;
                    }
                }
            }
            series.samples = values;
            series_out.push(series);
        }
        Ok(Recording {
            segments: vec![Segment {
                start_s: from_s,
                channels: series_out,
            }],
            markers: self
                .events()?
                .into_iter()
                .filter(|event| (from_s..to_s).contains(&event.time_s))
                .map(|event| crate::model::Marker {
                    time_s: event.time_s,
                    text: event.text,
                })
                .collect(),
        })
    }
}
