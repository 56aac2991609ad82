//! `CaseFile::recover`: copies every readable row of a damaged case file into a new one and says what could not
//! be read. The original is only ever opened read-only. Rows are read one by one by row id, so one unreadable
//! page costs the rows on it, not the table; a chunk whose samples do not decode is dropped like an unreadable
//! one. Samples of a channel that are missing where the source has data (a lost chunk) are stored as `NaN`
//! (the readers' "not recorded"), every channel's hash chain is rebuilt over what was kept, and an audit row
//! `recover_case` records what was lost, so the new file verifies and says how it came to be.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::schema::{self, MIGRATIONS};
use super::{CaseFile, StoreError, audit, chain, codec};

/// Tables copied, in an order that keeps references valid.
const TABLES: [&str; 15] = [
    "case_info",
    "source",
    "channel",
    "calibration",
    "chunk",
    "gap",
    "step",
    "event",
    "analysis_window",
    "beat",
    "result",
    "annotation",
    "follow_up",
    "sign_off",
    "audit",
];

/// What [`CaseFile::recover`] kept and lost.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RecoveryReport {
    /// The new file.
    pub path: PathBuf,
    /// Rows copied, per table.
    pub copied: BTreeMap<String, u64>,
    /// Rows that could not be read (or, for chunks, decoded), per table.
    pub lost: BTreeMap<String, u64>,
    /// Samples kept (all channels).
    pub num_samples: u64,
    /// Samples of channels that were lost where their source has data, stored as `NaN` (all channels).
    pub num_lost_samples: u64,
}

impl RecoveryReport {
    /// Whether nothing was lost.
    pub fn complete(&self) -> bool {
        self.lost.values().all(|&n| n == 0) && self.num_lost_samples == 0
    }
}

impl CaseFile {
    /// Copies every readable row of the case file at `damaged` into a new file `out` (which must not exist),
    /// never writing to the original; see the module documentation. The new file appears complete or not at all.
    pub fn recover(damaged: &Path, out: &Path) -> Result<RecoveryReport, StoreError> {
        if out.exists() {
            return Err(StoreError::Exists(out.to_owned()));
        }
        let source = super::file::open_reader(damaged, false)
            .or_else(|_| super::file::open_reader(damaged, true))
            .map_err(|error| StoreError::Open {
                path: damaged.to_owned(),
                detail: error.to_string(),
            })?;
        let mut partial_name = out.as_os_str().to_owned();
        partial_name.push(".partial");
        let partial = PathBuf::from(partial_name);
        for suffix in ["", "-wal", "-shm"] {
            let stale = PathBuf::from(format!("{}{suffix}", partial.display()));
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(StoreError::io(&stale))?;
            }
        }
        let result = copy_readable(&source, &partial);
        let report = match result {
            Ok(report) => report,
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                return Err(error);
            }
        };
        std::fs::hard_link(&partial, out).map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::Exists(out.to_owned()),
            _ => StoreError::io(out)(error),
        })?;
        std::fs::remove_file(&partial).map_err(StoreError::io(&partial))?;
        Ok(RecoveryReport {
            path: out.to_owned(),
            ..report
        })
    }
}

/// Builds the new file at `path` from what `source` still yields.
fn copy_readable(source: &Connection, path: &Path) -> Result<RecoveryReport, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "page_size", 16384)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    schema::migrate(&mut conn, MIGRATIONS)?;
    let mut report = RecoveryReport::default();
    let tx = conn.transaction()?;
    for table in TABLES {
        let columns: Vec<String> = tx
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            ))?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let key = if table == "audit" { "seq" } else { "id" };
        let max_id: i64 = source
            .query_row(&format!("SELECT max({key}) FROM \"{table}\""), [], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .ok()
            .flatten()
            .unwrap_or(0);
        let list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let marks = vec!["?"; columns.len()].join(", ");
        let mut read = source
            .prepare(&format!("SELECT {list} FROM \"{table}\" WHERE {key} = ?1"))
            .ok();
        let mut write = tx.prepare(&format!("INSERT INTO \"{table}\" ({list}) VALUES ({marks})"))?;
        let (mut copied, mut lost) = (0u64, 0u64);
        let mut decoded = Vec::new();
        for id in 1..=max_id {
            let Some(statement) = read.as_mut() else {
                lost += 1;
                continue;
            };
            let row: Result<Option<Vec<Value>>, rusqlite::Error> = statement
                .query_row([id], |row| {
                    (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect()
                })
                .map(Some)
                .or_else(|error| match error {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    other => Err(other),
                });
            match row {
                Ok(None) => {}
                Err(_) => lost += 1,
                Ok(Some(values)) => {
                    if table == "chunk" && !chunk_decodes(&columns, &values, &mut decoded) {
                        lost += 1;
                        continue;
                    }
                    write.execute(params_from_iter(values.iter()))?;
                    copied += 1;
                }
            }
        }
        report.copied.insert(table.to_owned(), copied);
        report.lost.insert(table.to_owned(), lost);
    }
    let (num_samples, num_lost_samples) = fill_and_rechain(&tx)?;
    report.num_samples = num_samples;
    report.num_lost_samples = num_lost_samples;
    let lost: Vec<String> = report
        .lost
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(table, n)| format!("{n} {table} rows"))
        .collect();
    let summary = serde_json::json!({
        "unreadable": report.lost,
        "samples_kept": num_samples,
        "samples_lost_as_nan": num_lost_samples,
    });
    let who = "heracles case recover";
    audit::append(
        &tx,
        audit::Edit {
            who,
            action: RECOVER_ACTION,
            entity: "recording",
            entity_id: None,
            old_value: None,
            new_value: Some(summary.to_string()),
            reason: &if lost.is_empty() && num_lost_samples == 0 {
                "recovered from a damaged file; everything was readable".to_owned()
            } else {
                format!(
                    "recovered from a damaged file; not readable: {}; {num_lost_samples} samples stored as missing",
                    if lost.is_empty() {
                        "no rows".to_owned()
                    } else {
                        lost.join(", ")
                    }
                )
            },
        },
    )?;
    tx.commit()?;
    conn.close().map_err(|(_, error)| StoreError::Sqlite(error))?;
    let file = std::fs::File::open(path).map_err(StoreError::io(path))?;
    file.sync_all().map_err(StoreError::io(path))?;
    Ok(report)
}

/// The audit action of a recovery (anchors before it describe the damaged original).
pub(crate) const RECOVER_ACTION: &str = "recover_case";

/// Whether a chunk row's samples decode.
fn chunk_decodes(columns: &[String], values: &[Value], decoded: &mut Vec<f32>) -> bool {
    let field = |name: &str| columns.iter().position(|c| c == name).and_then(|i| values.get(i));
    match (field("num_samples"), field("data")) {
        (Some(Value::Integer(num)), Some(Value::Blob(data))) => {
            decoded.clear();
            codec::decode(data, *num as usize, decoded).is_ok()
        }
        _ => false,
    }
}

/// Per channel: stores `NaN` chunks over the indices its source has data (or a gap) for but it lost, then
/// rebuilds its hash chain over what it holds. Returns (samples kept, samples stored as NaN).
fn fill_and_rechain(tx: &rusqlite::Transaction<'_>) -> Result<(u64, u64), StoreError> {
    let channels: Vec<(i64, i64)> = tx
        .prepare("SELECT id, source_id FROM channel ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let (mut num_samples, mut num_lost) = (0u64, 0u64);
    for &(channel_id, source_id) in &channels {
        // Everything the source accounts for: its first sample to the end of its furthest chunk or gap.
        let (first, end): (i64, i64) = tx.query_row(
            "SELECT source.first_sample, max(source.first_sample,
                    coalesce((SELECT max(chunk.first_sample + chunk.num_samples) FROM chunk
                              JOIN channel ON channel.id = chunk.channel_id WHERE channel.source_id = ?1), 0),
                    coalesce((SELECT max(first_sample + num_samples) FROM gap WHERE source_id = ?1), 0))
             FROM source WHERE id = ?1",
            [source_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let mut covered: Vec<(i64, i64)> = tx
            .prepare(
                "SELECT first_sample, num_samples FROM chunk WHERE channel_id = ?1
                 UNION ALL SELECT first_sample, num_samples FROM gap WHERE source_id = ?2",
            )?
            .query_map([channel_id, source_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        covered.sort_unstable();
        let mut holes = Vec::new();
        let mut expected = first;
        for (start, count) in covered {
            if start > expected {
                holes.push((expected, start - expected));
            }
            expected = expected.max(start + count);
        }
        if end > expected {
            holes.push((expected, end - expected));
        }
        for (start, count) in holes {
            let mut at = start;
            while at < start + count {
                let n = (start + count - at).min(super::read::MAX_CHUNK_SAMPLES as i64);
                let data = codec::encode(&vec![f32::NAN; n as usize]);
                tx.execute(
                    "INSERT INTO chunk (channel_id, first_sample, num_samples, min_value, max_value, data)
                     VALUES (?1, ?2, ?3, NULL, NULL, ?4)",
                    rusqlite::params![channel_id, at, n, data],
                )?;
                num_lost += n as u64;
                at += n;
            }
        }
        let mut head = chain::Head {
            num_chunks: 0,
            hash: chain::genesis(tx, channel_id)?,
        };
        let chunks: Vec<(i64, u64, u64, Vec<u8>)> = tx
            .prepare("SELECT id, first_sample, num_samples, data FROM chunk WHERE channel_id = ?1 ORDER BY first_sample")?
            .query_map([channel_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (id, first_sample, count, data) in chunks {
            head.hash = chain::chunk_hash(&head.hash, first_sample, count, &data);
            head.num_chunks += 1;
            num_samples += count;
            tx.execute(
                "UPDATE chunk SET hash = ?2 WHERE id = ?1",
                rusqlite::params![id, head.hash.as_slice()],
            )?;
        }
        chain::store_head(tx, channel_id, &head)?;
    }
    Ok((num_samples - num_lost, num_lost))
}
