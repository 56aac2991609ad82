//! Readers: the case summary, channels with their sample counts, gaps, samples over a range, a min/max overview
//! (from the per-chunk summaries written at record time, so a 2-hour case is overviewed without decoding it), and
//! the protocol, analysis and review records.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::codec;
use super::edits::{AnalysisWindow, Annotation, Event, FollowUp, ResultRecord, SignOff, StepRecord};
use super::{Allocation, AuditEntry, CaseFile, StoreError};
use crate::model::StepId;

/// The largest number of samples one chunk row may hold (a CHECK in the schema); bounds index range scans.
pub(crate) const MAX_CHUNK_SAMPLES: u64 = 65_536;

/// Below this many samples per overview column the overview is computed exactly from the samples.
const EXACT_OVERVIEW_SAMPLES_PER_COLUMN: u64 = 512;

/// The case at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseSummary {
    /// Pseudonymous case id, e.g. `HER-STH-0007`.
    pub case_id: String,
    /// Site code, e.g. `STH`.
    pub site: String,
    /// Who set the case up.
    pub operator: String,
    /// When the file was created, UTC.
    pub created_utc: String,
    /// The randomised allocation, once recorded.
    pub allocation: Option<Allocation>,
    /// The randomisation system's reference for it.
    pub allocation_reference: Option<String>,
    /// When the allocation was recorded, UTC.
    pub allocation_utc: Option<String>,
    /// `open` or `signed_off`.
    pub status: String,
    /// Longest span of recorded samples and gaps over all sources, seconds.
    pub duration_s: f64,
    /// Case file schema version.
    pub schema_version: i32,
    /// Rows in the audit trail.
    pub num_audit_entries: i64,
    /// Where the recording came from: imported (an `import` marker), simulated (a source of the simulated
    /// patient, or the demonstration site), or recorded at the bedside.
    pub origin: crate::model::CaseOrigin,
}

/// One recorded channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelInfo {
    /// Row id, used to read samples.
    pub id: i64,
    /// Row id of its source segment.
    pub source_id: i64,
    /// The source's id, e.g. `sim`.
    pub source: String,
    /// Channel name, e.g. `pa`.
    pub name: String,
    /// Physical unit, e.g. `mmHg`.
    pub unit: String,
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// The newest calibration recorded for this channel (see [`CaseFile::set_calibration`]), as JSON.
    pub calibration: Option<serde_json::Value>,
    /// Index of the first sample of the source segment.
    pub first_sample: u64,
    /// One past the last sample stored or explained by a gap.
    pub end_sample: u64,
    /// Samples stored.
    pub num_samples: u64,
}

/// One calibration row (see [`CaseFile::set_calibration`]); who made it is in the row's JSON (as the acquisition
/// layer writes it) and in the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredCalibration {
    /// Row id (later rows replace earlier ones of the same channel from the time they give).
    pub id: i64,
    /// The source's id, e.g. `coronary`.
    pub source: String,
    /// Channel name, e.g. `pa`.
    pub channel: String,
    /// The calibration, as JSON the acquisition layer defines.
    pub calibration: serde_json::Value,
    /// When it was stored, UTC.
    pub utc: String,
}

/// A recorded gap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapRecord {
    /// Row id of the source segment.
    pub source_id: i64,
    /// The source's id.
    pub source: String,
    /// First missing sample.
    pub first_sample: u64,
    /// Number of missing samples.
    pub num_samples: u64,
    /// Why: `dropped_frames`, `corrupt_frames`, `disconnected`, `recorder_overflow` or `other`.
    pub reason: String,
    /// The description, for `other`.
    pub detail: Option<String>,
    /// How many reported gaps were merged into this one.
    pub num_events: u64,
}

/// Samples of one channel over a range; `NaN` where nothing was recorded (a gap).
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    /// Index of `values[0]`.
    pub first_sample: u64,
    /// The samples.
    pub values: Vec<f32>,
}

fn json_column(text: Option<String>) -> Result<Option<serde_json::Value>, rusqlite::Error> {
    text.map(|text| {
        serde_json::from_str(&text).map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
    })
    .transpose()
}

fn step_of(key: String) -> Result<StepId, rusqlite::Error> {
    StepId::from_key(&key).ok_or_else(|| {
        rusqlite::Error::ToSqlConversionFailure(format!("unknown protocol step {key:?}").into())
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Option<T>, rusqlite::Error> {
    text.map(|text| {
        serde_json::from_str(&text).map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
    })
    .transpose()
}

impl CaseFile {
    fn all<T>(
        &self,
        sql: &str,
        map: impl FnMut(&Row<'_>) -> Result<T, rusqlite::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.conn.prepare(sql)?;
        let rows = statement.query_map([], map)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The case at a glance.
    pub fn summary(&self) -> Result<CaseSummary, StoreError> {
        let channels = self.channels()?;
        let imported: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM event WHERE kind = 'import')",
            [],
            |row| row.get(0),
        )?;
        let simulated = channels
            .iter()
            .any(|channel| channel.source == crate::sim::SOURCE_ID);
        let duration_s = channels
            .iter()
            .map(|channel| (channel.end_sample - channel.first_sample) as f64 / channel.sample_rate_hz)
            .fold(0.0, f64::max);
        let schema_version: i32 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        Ok(self.conn.query_row(
            "SELECT case_id, site, operator, created_utc, allocation, allocation_reference, allocation_utc, status,
             audit_count FROM case_info WHERE id = 1",
            [],
            |row| {
                Ok(CaseSummary {
                    case_id: row.get(0)?,
                    site: row.get(1)?,
                    operator: row.get(2)?,
                    created_utc: row.get(3)?,
                    allocation: row.get::<_, Option<String>>(4)?.as_deref().and_then(Allocation::from_key),
                    allocation_reference: row.get(5)?,
                    allocation_utc: row.get(6)?,
                    status: row.get(7)?,
                    duration_s,
                    schema_version,
                    num_audit_entries: row.get(8)?,
                    origin: match row.get::<_, String>(1)?.as_str() {
                        _ if imported => crate::model::CaseOrigin::Imported,
                        "DEM" => crate::model::CaseOrigin::Simulated,
                        _ if simulated => crate::model::CaseOrigin::Simulated,
                        _ => crate::model::CaseOrigin::Recorded,
                    },
                })
            },
        )?)
    }

    /// Every calibration row, oldest first.
    pub fn calibrations(&self) -> Result<Vec<StoredCalibration>, StoreError> {
        self.all(
            "SELECT id, source, channel, calibration_json, utc FROM calibration ORDER BY id",
            |row| {
                Ok(StoredCalibration {
                    id: row.get(0)?,
                    source: row.get(1)?,
                    channel: row.get(2)?,
                    calibration: json_column(row.get(3)?)?.unwrap_or_default(),
                    utc: row.get(4)?,
                })
            },
        )
    }

    /// Every recorded channel with its sample counts, in the engine's source order then channel order.
    pub fn channels(&self) -> Result<Vec<ChannelInfo>, StoreError> {
        let mut channels = self.all(
            "SELECT channel.id, source.id, source.key, channel.name, channel.unit, source.sample_rate_hz,
             (SELECT calibration_json FROM calibration WHERE calibration.source = source.key
              AND calibration.channel = channel.name ORDER BY calibration.id DESC LIMIT 1), source.first_sample,
             coalesce((SELECT sum(num_samples) FROM chunk WHERE chunk.channel_id = channel.id), 0)
             FROM channel JOIN source ON source.id = channel.source_id ORDER BY source.position, source.id, channel.idx",
            |row| {
                Ok(ChannelInfo {
                    id: row.get(0)?,
                    source_id: row.get(1)?,
                    source: row.get(2)?,
                    name: row.get(3)?,
                    unit: row.get(4)?,
                    sample_rate_hz: row.get(5)?,
                    calibration: json_column(row.get(6)?)?,
                    first_sample: row.get(7)?,
                    end_sample: 0,
                    num_samples: row.get(8)?,
                })
            },
        )?;
        let mut last_chunk = self.conn.prepare_cached(
            "SELECT first_sample + num_samples FROM chunk WHERE channel_id = ?1 ORDER BY first_sample DESC LIMIT 1",
        )?;
        let mut last_gap = self
            .conn
            .prepare_cached("SELECT max(first_sample + num_samples) FROM gap WHERE source_id = ?1")?;
        for channel in &mut channels {
            let chunk_end: Option<u64> = last_chunk.query_row([channel.id], |row| row.get(0)).optional()?;
            let gap_end: Option<u64> = last_gap.query_row([channel.source_id], |row| row.get(0))?;
            channel.end_sample = channel
                .first_sample
                .max(chunk_end.unwrap_or(0))
                .max(gap_end.unwrap_or(0));
        }
        Ok(channels)
    }

    /// Every recorded gap, in source then time order.
    pub fn gaps(&self) -> Result<Vec<GapRecord>, StoreError> {
        self.all(
            "SELECT gap.source_id, source.key, gap.first_sample, gap.num_samples, gap.reason, gap.detail,
             gap.num_events FROM gap JOIN source ON source.id = gap.source_id ORDER BY source.position, gap.source_id, gap.first_sample",
            |row| {
                Ok(GapRecord {
                    source_id: row.get(0)?,
                    source: row.get(1)?,
                    first_sample: row.get(2)?,
                    num_samples: row.get(3)?,
                    reason: row.get(4)?,
                    detail: row.get(5)?,
                    num_events: row.get(6)?,
                })
            },
        )
    }

    /// When sample 0 of the recording's time axis was taken, UTC: the earliest source segment's start time less
    /// its first sample's offset (`None` when nothing was recorded or a stored time cannot be read). Exports that
    /// must date their content (DICOM acquisition times) take the case's own time from here, never "now".
    pub fn recording_start_utc(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let sources = self.all(
            "SELECT started_utc, first_sample, sample_rate_hz FROM source ORDER BY position, id",
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, u64>(1)?,
                    row.get::<_, f64>(2)?,
                ))
            },
        )?;
        Ok(sources
            .into_iter()
            .filter_map(|(started, first_sample, rate_hz)| {
                let started = chrono::DateTime::parse_from_rfc3339(&started).ok()?;
                let offset_ms = (first_sample as f64 / rate_hz * 1000.0).round() as i64;
                Some(started.with_timezone(&chrono::Utc) - chrono::Duration::milliseconds(offset_ms))
            })
            .min())
    }

    /// The samples of channel `channel_id` in `[from, to)`; `NaN` where none were recorded.
    pub fn read_samples(&self, channel_id: i64, from: u64, to: u64) -> Result<Samples, StoreError> {
        let to = to.max(from);
        let mut values = vec![f32::NAN; (to - from) as usize];
        let mut statement = self.conn.prepare_cached(
            "SELECT first_sample, num_samples, data FROM chunk
             WHERE channel_id = ?1 AND first_sample < ?2 AND first_sample > ?3 ORDER BY first_sample",
        )?;
        let lowest = from as i64 - MAX_CHUNK_SAMPLES as i64;
        let mut rows = statement.query(params![channel_id, to, lowest])?;
        let mut decoded = Vec::new();
        while let Some(row) = rows.next()? {
            let (first, num): (u64, u64) = (row.get(0)?, row.get(1)?);
            if first + num <= from {
                continue;
            }
            decoded.clear();
            codec::decode(
                row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?,
                num as usize,
                &mut decoded,
            )?;
            let lo = first.max(from);
            let hi = (first + num).min(to);
            values[(lo - from) as usize..(hi - from) as usize]
                .copy_from_slice(&decoded[(lo - first) as usize..(hi - first) as usize]);
        }
        Ok(Samples {
            first_sample: from,
            values,
        })
    }

    /// Min and max of channel `channel_id` in each of `num_columns` equal slices of `[from, to)`, for drawing
    /// (`None` where nothing was recorded). When a column spans many chunks it is built from the chunks'
    /// stored min/max, a chunk straddling two columns counting in both (the envelope never misses a peak and is
    /// at most one chunk wider at a column's edges); when zoomed in it is exact.
    pub fn overview(
        &self,
        channel_id: i64,
        from: u64,
        to: u64,
        num_columns: usize,
    ) -> Result<Vec<Option<(f32, f32)>>, StoreError> {
        let mut columns: Vec<Option<(f32, f32)>> = vec![None; num_columns];
        if to <= from || num_columns == 0 {
            return Ok(columns);
        }
        let span = to - from;
        let column_of = |sample: u64| ((sample - from) as u128 * num_columns as u128 / span as u128) as usize;
        let mut merge = |column: usize, min: f32, max: f32| {
            if let Some(slot) = columns.get_mut(column) {
                *slot = Some(match *slot {
                    None => (min, max),
                    Some((lo, hi)) => (lo.min(min), hi.max(max)),
                });
            }
        };
        if span <= num_columns as u64 * EXACT_OVERVIEW_SAMPLES_PER_COLUMN {
            let samples = self.read_samples(channel_id, from, to)?;
            for (i, value) in samples.values.iter().enumerate() {
                if value.is_finite() {
                    merge(column_of(from + i as u64), *value, *value);
                }
            }
            return Ok(columns);
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT first_sample, num_samples, min_value, max_value FROM chunk
             WHERE channel_id = ?1 AND first_sample < ?2 AND first_sample > ?3 ORDER BY first_sample",
        )?;
        let lowest = from as i64 - MAX_CHUNK_SAMPLES as i64;
        let mut rows = statement.query(params![channel_id, to, lowest])?;
        while let Some(row) = rows.next()? {
            let (first, num): (u64, u64) = (row.get(0)?, row.get(1)?);
            let (Some(min), Some(max)) = (row.get::<_, Option<f64>>(2)?, row.get::<_, Option<f64>>(3)?)
            else {
                continue;
            };
            let (lo, hi) = (first.max(from), (first + num).min(to));
            if lo >= hi {
                continue;
            }
            for column in column_of(lo)..=column_of(hi - 1) {
                merge(column, min as f32, max as f32);
            }
        }
        Ok(columns)
    }

    /// The protocol steps, in the order they started.
    pub fn steps(&self) -> Result<Vec<StepRecord>, StoreError> {
        self.all(
            "SELECT id, step_key, started_utc, start_s, ended_utc, end_s, device_json, ecmo_json FROM step ORDER BY id",
            |row| {
                Ok(StepRecord {
                    id: row.get(0)?,
                    step: step_of(row.get(1)?)?,
                    started_utc: row.get(2)?,
                    start_s: row.get(3)?,
                    ended_utc: row.get(4)?,
                    end_s: row.get(5)?,
                    device: parse_json(row.get(6)?)?,
                    ecmo: parse_json(row.get(7)?)?,
                })
            },
        )
    }

    /// Markers and events, in time order.
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        self.all(
            "SELECT id, time_s, created_utc, kind, text FROM event ORDER BY time_s, id",
            |row| {
                Ok(Event {
                    id: row.get(0)?,
                    time_s: row.get(1)?,
                    created_utc: row.get(2)?,
                    kind: row.get(3)?,
                    text: row.get(4)?,
                })
            },
        )
    }

    /// Analysis windows, in the order they were saved.
    pub fn analysis_windows(&self) -> Result<Vec<AnalysisWindow>, StoreError> {
        self.all(
            "SELECT id, step_key, start_s, end_s, method, settings_json, algorithm_version FROM analysis_window
             ORDER BY id",
            |row| {
                Ok(AnalysisWindow {
                    id: row.get(0)?,
                    step: row.get::<_, Option<String>>(1)?.map(step_of).transpose()?,
                    start_s: row.get(2)?,
                    end_s: row.get(3)?,
                    method: row.get(4)?,
                    settings: json_column(row.get(5)?)?.unwrap_or_default(),
                    algorithm_version: row.get(6)?,
                })
            },
        )
    }

    /// The beats of window `window_id`, by number, with their current verdicts.
    pub fn beats(&self, window_id: i64) -> Result<Vec<crate::model::Beat>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT beat_json FROM beat WHERE window_id = ?1 ORDER BY number")?;
        let rows = statement.query_map([window_id], |row| {
            parse_json(Some(row.get::<_, String>(0)?)).map(|beat: Option<crate::model::Beat>| beat)
        })?;
        let mut beats = Vec::new();
        for beat in rows {
            beats.extend(beat?);
        }
        Ok(beats)
    }

    /// Saved results, in the order they were saved.
    pub fn results(&self) -> Result<Vec<ResultRecord>, StoreError> {
        self.all(
            "SELECT id, window_id, name, method, settings_json, algorithm_version, value_json FROM result ORDER BY id",
            |row| {
                Ok(ResultRecord {
                    id: row.get(0)?,
                    window_id: row.get(1)?,
                    name: row.get(2)?,
                    method: row.get(3)?,
                    settings: json_column(row.get(4)?)?.unwrap_or_default(),
                    algorithm_version: row.get(5)?,
                    value: json_column(row.get(6)?)?.unwrap_or_default(),
                })
            },
        )
    }

    /// Annotations, in time order.
    pub fn annotations(&self) -> Result<Vec<Annotation>, StoreError> {
        self.all(
            "SELECT id, start_s, end_s, text, author, created_utc, updated_utc FROM annotation ORDER BY start_s, id",
            |row| {
                Ok(Annotation {
                    id: row.get(0)?,
                    start_s: row.get(1)?,
                    end_s: row.get(2)?,
                    text: row.get(3)?,
                    author: row.get(4)?,
                    created_utc: row.get(5)?,
                    updated_utc: row.get(6)?,
                })
            },
        )
    }

    /// Follow-up forms entered.
    pub fn follow_ups(&self) -> Result<Vec<FollowUp>, StoreError> {
        self.all(
            "SELECT id, form, data_json, entered_by, entered_utc FROM follow_up ORDER BY id",
            |row| {
                Ok(FollowUp {
                    id: row.get(0)?,
                    form: row.get(1)?,
                    data: json_column(row.get(2)?)?.unwrap_or_default(),
                    entered_by: row.get(3)?,
                    entered_utc: row.get(4)?,
                })
            },
        )
    }

    /// Sign-offs, oldest first.
    pub fn sign_offs(&self) -> Result<Vec<SignOff>, StoreError> {
        self.all(
            "SELECT id, role, who, utc, statement FROM sign_off ORDER BY id",
            |row| {
                Ok(SignOff {
                    id: row.get(0)?,
                    role: row.get(1)?,
                    who: row.get(2)?,
                    utc: row.get(3)?,
                    statement: row.get(4)?,
                })
            },
        )
    }

    /// The whole audit trail, oldest first.
    pub fn audit_trail(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(super::audit::stored_entries(&self.conn)?
            .into_iter()
            .map(|stored| stored.entry)
            .collect())
    }
}
