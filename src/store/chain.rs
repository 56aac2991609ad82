//! The sample hash chain: every chunk row carries SHA-256 over its content and the previous chunk's hash of the
//! same channel, starting from a hash of the channel's identity (source, rate, first sample, channel name and
//! unit). Each channel row keeps its chunk count and newest hash, updated in the transaction that writes the
//! chunks. So `verify` sees a sample changed inside a chunk (even one that keeps the chunk decodable and its
//! min/max), a chunk removed (also the newest ones, which continuity alone cannot see), and a channel's unit or
//! rate rewritten: the samples are covered like the audited records, without an audit row per commit.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

/// A channel's place in its chain: chunks so far and the newest hash.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Head {
    /// Chunks chained so far.
    pub num_chunks: u64,
    /// Hash of the newest chunk (the identity hash before the first).
    pub hash: [u8; 32],
}

fn update_text(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

/// The hash a channel's chain starts from: its identity as stored in `source` and `channel`.
pub(crate) fn genesis(conn: &Connection, channel_id: i64) -> Result<[u8; 32], rusqlite::Error> {
    conn.query_row(
        "SELECT source.key, source.label, source.sample_rate_hz, source.first_sample, source.started_utc,
                channel.idx, channel.name, channel.unit
         FROM channel JOIN source ON source.id = channel.source_id WHERE channel.id = ?1",
        [channel_id],
        |row| {
            let mut hasher = Sha256::new();
            update_text(&mut hasher, &row.get::<_, String>(0)?);
            update_text(&mut hasher, &row.get::<_, String>(1)?);
            hasher.update(row.get::<_, f64>(2)?.to_bits().to_le_bytes());
            hasher.update(row.get::<_, i64>(3)?.to_le_bytes());
            update_text(&mut hasher, &row.get::<_, String>(4)?);
            hasher.update(row.get::<_, i64>(5)?.to_le_bytes());
            update_text(&mut hasher, &row.get::<_, String>(6)?);
            update_text(&mut hasher, &row.get::<_, String>(7)?);
            Ok(hasher.finalize().into())
        },
    )
}

/// SHA-256 over one chunk's position, length and encoded samples, then the previous hash.
pub(crate) fn chunk_hash(prev: &[u8; 32], first_sample: u64, num_samples: u64, data: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(first_sample.to_le_bytes());
    hasher.update(num_samples.to_le_bytes());
    hasher.update((data.len() as u64).to_le_bytes());
    hasher.update(data);
    hasher.update(prev);
    hasher.finalize().into()
}

/// Lower-case hex of a hash (how anchors store heads).
pub(crate) fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored head of a channel's chain: `None` if the channel row is missing; the identity hash with no chunks
/// if nothing has been chained yet.
pub(crate) fn stored_head(conn: &Connection, channel_id: i64) -> Result<Option<Head>, rusqlite::Error> {
    let row: Option<(u64, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT num_chunks, chunk_head FROM channel WHERE id = ?1",
            [channel_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((num_chunks, hash)) = row else {
        return Ok(None);
    };
    let hash = match hash.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()) {
        Some(hash) => hash,
        None => genesis(conn, channel_id)?,
    };
    Ok(Some(Head { num_chunks, hash }))
}

/// Records `head` as the channel's newest, inside the transaction that wrote its chunks.
pub(crate) fn store_head(tx: &Transaction<'_>, channel_id: i64, head: &Head) -> Result<(), rusqlite::Error> {
    tx.execute(
        "UPDATE channel SET num_chunks = ?2, chunk_head = ?3 WHERE id = ?1",
        params![channel_id, head.num_chunks, head.hash.as_slice()],
    )?;
    Ok(())
}

/// Chains every chunk of a file written before chunks were hashed (the step of schema version 2), in
/// sample order, inside the migration's transaction.
pub(crate) fn chain_existing_chunks(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    let channel_ids: Vec<i64> = tx
        .prepare("SELECT id FROM channel ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for channel_id in channel_ids {
        let mut head = Head {
            num_chunks: 0,
            hash: genesis(tx, channel_id)?,
        };
        let chunks: Vec<(i64, u64, u64, Vec<u8>)> = tx
            .prepare("SELECT id, first_sample, num_samples, data FROM chunk WHERE channel_id = ?1 ORDER BY first_sample")?
            .query_map([channel_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (id, first_sample, num_samples, data) in chunks {
            head.hash = chunk_hash(&head.hash, first_sample, num_samples, &data);
            head.num_chunks += 1;
            tx.execute(
                "UPDATE chunk SET hash = ?2 WHERE id = ?1",
                params![id, head.hash.as_slice()],
            )?;
        }
        store_head(tx, channel_id, &head)?;
    }
    Ok(())
}
