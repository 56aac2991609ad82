//! The append-only audit trail: one row per edit (who, UTC time, what, old value, new value, reason), chained by
//! SHA-256 so that changing, inserting or deleting a row breaks the chain. The number of rows and the newest hash
//! are also kept in `case_info`, so that deleting the newest rows is detected as well.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::StoreError;

/// One row of the audit trail.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Position in the trail, from 1.
    pub seq: i64,
    /// When, UTC (RFC 3339).
    pub utc: String,
    /// Who made the edit (the operator's or reviewer's pseudonymous user name).
    pub who: String,
    /// What was done, e.g. `set_allocation`, `reject_beat`.
    pub action: String,
    /// The kind of record edited (its table), e.g. `annotation`.
    pub entity: String,
    /// The record's id within its table, if it has one.
    pub entity_id: Option<i64>,
    /// The record before the edit (JSON), if it existed.
    pub old_value: Option<String>,
    /// The record after the edit (JSON), if it still exists.
    pub new_value: Option<String>,
    /// Why, in the editor's words.
    pub reason: String,
}

/// The hash of the row before the first one.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

/// SHA-256 over every field of `entry` (each length-prefixed, options tagged) followed by `prev_hash`.
pub(crate) fn entry_hash(entry: &AuditEntry, prev_hash: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut text = |value: Option<&str>| match value {
        None => hasher.update([0u8]),
        Some(text) => {
            hasher.update([1u8]);
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
    };
    text(Some(&entry.utc));
    text(Some(&entry.who));
    text(Some(&entry.action));
    text(Some(&entry.entity));
    text(entry.old_value.as_deref());
    text(entry.new_value.as_deref());
    text(Some(&entry.reason));
    hasher.update(entry.seq.to_le_bytes());
    match entry.entity_id {
        None => hasher.update([0u8]),
        Some(id) => {
            hasher.update([1u8]);
            hasher.update(id.to_le_bytes());
        }
    }
    hasher.update(prev_hash);
    hasher.finalize().into()
}

/// What an edit is, before it gets its place in the trail.
pub(crate) struct Edit<'a> {
    pub who: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: &'a str,
}

/// Appends `edit` to the trail inside `tx` (the transaction that made the edit).
pub(crate) fn append(tx: &Transaction<'_>, edit: Edit<'_>) -> Result<(), StoreError> {
    if edit.who.trim().is_empty() {
        return Err(StoreError::Invalid(
            "every edit needs the name of who made it".into(),
        ));
    }
    let (count, head): (i64, Option<Vec<u8>>) = tx.query_row(
        "SELECT audit_count, audit_head FROM case_info WHERE id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let prev_hash = head.unwrap_or_else(|| GENESIS.to_vec());
    let entry = AuditEntry {
        seq: count + 1,
        utc: super::utc_now(),
        who: edit.who.to_owned(),
        action: edit.action.to_owned(),
        entity: edit.entity.to_owned(),
        entity_id: edit.entity_id,
        old_value: edit.old_value,
        new_value: edit.new_value,
        reason: edit.reason.to_owned(),
    };
    let hash = entry_hash(&entry, &prev_hash);
    tx.execute(
        "INSERT INTO audit (seq, utc, who, action, entity, entity_id, old_value, new_value, reason, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            entry.seq,
            entry.utc,
            entry.who,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.old_value,
            entry.new_value,
            entry.reason,
            prev_hash,
            hash.to_vec()
        ],
    )?;
    tx.execute(
        "UPDATE case_info SET audit_count = ?1, audit_head = ?2 WHERE id = 1",
        params![entry.seq, hash.to_vec()],
    )?;
    Ok(())
}

/// A stored audit row with its stored hashes.
pub(crate) struct StoredEntry {
    pub entry: AuditEntry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Every audit row, oldest first.
pub(crate) fn stored_entries(conn: &Connection) -> Result<Vec<StoredEntry>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT seq, utc, who, action, entity, entity_id, old_value, new_value, reason, prev_hash, hash
         FROM audit ORDER BY seq",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(StoredEntry {
            entry: AuditEntry {
                seq: row.get(0)?,
                utc: row.get(1)?,
                who: row.get(2)?,
                action: row.get(3)?,
                entity: row.get(4)?,
                entity_id: row.get(5)?,
                old_value: row.get(6)?,
                new_value: row.get(7)?,
                reason: row.get(8)?,
            },
            prev_hash: row.get(9)?,
            hash: row.get(10)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Checks the chain; returns a description of each break, naming the row.
pub(crate) fn chain_problems(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let mut prev_hash = GENESIS.to_vec();
    let mut expected_seq = 1;
    let entries = stored_entries(conn)?;
    for stored in &entries {
        let seq = stored.entry.seq;
        if seq != expected_seq {
            problems.push(format!(
                "audit row {expected_seq} is missing (the next row is {seq})"
            ));
        }
        if stored.prev_hash != prev_hash {
            problems.push(format!(
                "audit row {seq}: does not follow the row before it (chain broken)"
            ));
        }
        if stored.hash != entry_hash(&stored.entry, &stored.prev_hash) {
            problems.push(format!(
                "audit row {seq} ({} of {} {}): content changed after it was written (hash mismatch)",
                stored.entry.action,
                stored.entry.entity,
                stored.entry.entity_id.map_or(String::new(), |id| id.to_string())
            ));
        }
        prev_hash = stored.hash.clone();
        expected_seq = seq + 1;
    }
    let head: Option<(i64, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT audit_count, audit_head FROM case_info WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match head {
        None => problems.push("case_info row is missing".into()),
        Some((count, head)) => {
            let last_seq = entries.last().map_or(0, |stored| stored.entry.seq);
            if count != last_seq || head.as_deref().unwrap_or(&GENESIS) != prev_hash.as_slice() {
                problems.push(format!(
                    "audit trail ends at row {last_seq} but the case records {count} rows: rows were removed or added"
                ));
            }
        }
    }
    let num_triggers: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('audit_no_update', 'audit_no_delete')",
        [],
        |row| row.get(0),
    )?;
    if num_triggers != 2 {
        problems.push("the audit trail's append-only triggers were removed".into());
    }
    Ok(problems)
}
