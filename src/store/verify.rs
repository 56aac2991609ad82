//! `verify`: everything that can be checked about a case file without trusting it. SQLite's full integrity
//! check; the audit hash chain; every audited record equal to its last audited value (so an edit made behind
//! the store's back shows); every chunk decodable with the stored sample count and min/max and in its channel's
//! hash chain (see `chain.rs`); and every source's
//! samples continuous from its first sample, each sample index either stored or inside a recorded gap.

use std::collections::HashMap;

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::edits::{AUDITED, entity_json};
use super::recorder::ANCHOR_ACTION;
use super::recover::RECOVER_ACTION;
use super::{CaseFile, StoreError, audit, chain, codec, file};

/// One thing `verify` found wrong, with where.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// Which check: `integrity`, `audit`, `samples` or `continuity`.
    pub check: &'static str,
    /// What and where, for the operator.
    pub message: String,
}

/// The outcome of [`CaseFile::verify`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Everything found wrong; empty when the file is sound.
    pub problems: Vec<Problem>,
    /// Audit rows checked.
    pub num_audit_entries: usize,
    /// Sample chunks decoded.
    pub num_chunks: u64,
    /// Samples decoded (all channels).
    pub num_samples: u64,
    /// Samples covered by recorded gaps (all channels).
    pub num_gap_samples: u64,
    /// Hash of the newest audit row (hex; empty without rows). Kept outside the file (a study log, the export's
    /// record), it is an external anchor: [`CaseFile::verify_head`] tells whether the trail still holds it.
    pub audit_head: String,
}

impl VerifyReport {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, check: &'static str, message: String) {
        self.problems.push(Problem { check, message });
    }
}

/// A recorder's `anchor_samples` audit row, parsed.
struct Anchor {
    seq: i64,
    /// Channel id -> (chunks, head hash in hex).
    heads: Vec<(i64, (u64, String))>,
    /// Gap rows up to this id predate gap auditing.
    legacy_gaps: i64,
}

/// The anchors in the audit trail, oldest first (a row that does not parse anchors nothing). A recovery
/// (`recover_case`) rebuilds every chain, so only anchors after the newest recovery count.
fn anchors(entries: &[audit::StoredEntry]) -> Vec<Anchor> {
    let recovered = entries
        .iter()
        .rposition(|stored| stored.entry.action == RECOVER_ACTION)
        .map_or(0, |at| at + 1);
    entries[recovered..]
        .iter()
        .filter(|stored| stored.entry.action == ANCHOR_ACTION)
        .filter_map(|stored| {
            let value: serde_json::Value = serde_json::from_str(stored.entry.new_value.as_deref()?).ok()?;
            let heads = value["channels"]
                .as_object()?
                .iter()
                .filter_map(|(id, head)| {
                    Some((
                        id.parse().ok()?,
                        (head[0].as_u64()?, head[1].as_str()?.to_owned()),
                    ))
                })
                .collect();
            Some(Anchor {
                seq: stored.entry.seq,
                heads,
                legacy_gaps: value["legacy_gaps"].as_i64().unwrap_or(0),
            })
        })
        .collect()
}

impl CaseFile {
    /// Runs every check (reads the whole file; seconds for a long case).
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        for line in file::integrity_problems(&self.conn, true)? {
            report.problem("integrity", format!("SQLite integrity check: {line}"));
        }
        if !report.ok() {
            // The rest reads through damaged structures; stop at SQLite's own findings.
            return Ok(report);
        }
        for message in audit::chain_problems(&self.conn)? {
            report.problem("audit", message);
        }
        self.check_audited_records(&mut report)?;
        self.check_samples(&mut report)?;
        report.audit_head = audit::stored_entries(&self.conn)?
            .last()
            .map_or_else(String::new, |stored| {
                stored.hash.iter().map(|b| format!("{b:02x}")).collect()
            });
        Ok(report)
    }

    /// A problem when no audit row of this file has the hash `head_hex` (an audit head noted earlier, e.g. from
    /// `heracles case verify`): the trail was cut back below it or rewritten, even if it is consistent in itself.
    pub fn verify_head(&self, head_hex: &str) -> Result<Option<Problem>, StoreError> {
        let found = audit::stored_entries(&self.conn)?.iter().any(|stored| {
            let hex: String = stored.hash.iter().map(|b| format!("{b:02x}")).collect();
            hex.eq_ignore_ascii_case(head_hex.trim())
        });
        Ok((!found).then(|| Problem {
            check: "audit",
            message: format!(
                "the audit trail no longer holds the head {} noted earlier: rows were removed or rewritten",
                head_hex.trim()
            ),
        }))
    }

    fn check_audited_records(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let entries = audit::stored_entries(&self.conn)?;
        report.num_audit_entries = entries.len();
        // Gaps are audited by recorders that anchor their chain heads; older files' gaps are not checked, nor
        // the gaps a case held before its first anchor.
        let legacy_gaps = anchors(&entries).first().map(|anchor| anchor.legacy_gaps);
        // The newest audited value of each record.
        let mut latest: HashMap<(&str, i64), (i64, Option<&str>)> = HashMap::new();
        for stored in &entries {
            if let Some(id) = stored.entry.entity_id {
                latest.insert(
                    (stored.entry.entity.as_str(), id),
                    (stored.entry.seq, stored.entry.new_value.as_deref()),
                );
            }
        }
        for (entity, table) in AUDITED {
            let mut statement = self
                .conn
                .prepare(&format!("SELECT id FROM \"{table}\" ORDER BY id"))?;
            let ids = statement
                .query_map([], |row| row.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            for &id in &ids {
                if entity == "gap" && legacy_gaps.is_none_or(|legacy| id <= legacy) {
                    continue;
                }
                let current = entity_json(&self.conn, entity, id)?;
                match latest.get(&(entity, id)) {
                    None => report.problem(
                        "audit",
                        format!("{entity} {id} was written without an audit row (added behind the store's back)"),
                    ),
                    Some((seq, audited)) if *audited != current.as_deref() => report.problem(
                        "audit",
                        format!(
                            "{entity} {id} differs from its last audited value (audit row {seq}): changed behind the \
                             store's back"
                        ),
                    ),
                    Some(_) => {}
                }
            }
            for (&(audited_entity, id), &(seq, value)) in &latest {
                if audited_entity == entity && value.is_some() && !ids.contains(&id) {
                    report.problem(
                        "audit",
                        format!(
                            "{entity} {id} (last audited in row {seq}) was deleted behind the store's back"
                        ),
                    );
                }
            }
        }
        report.problems.sort_by(|a, b| a.message.cmp(&b.message));
        Ok(())
    }

    fn check_samples(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let channels = self.channels()?;
        // The newest anchored head of each channel: (audit row, chunks, hash).
        let mut anchored: HashMap<i64, (i64, u64, String)> = HashMap::new();
        for anchor in anchors(&audit::stored_entries(&self.conn)?) {
            for (channel_id, (num_chunks, hash)) in anchor.heads {
                anchored.insert(channel_id, (anchor.seq, num_chunks, hash));
            }
        }
        let mut gaps_of = self.conn.prepare(
            "SELECT first_sample, num_samples FROM gap WHERE source_id = ?1 ORDER BY first_sample",
        )?;
        let mut chunks_of = self.conn.prepare(
            "SELECT first_sample, num_samples, min_value, max_value, data, hash FROM chunk WHERE channel_id = ?1
             ORDER BY first_sample",
        )?;
        let mut decoded = Vec::new();
        for channel in &channels {
            let place = |sample: u64| {
                format!(
                    "sample {sample} ({:.3} s)",
                    (sample - channel.first_sample) as f64 / channel.sample_rate_hz
                )
            };
            let label = format!("source {} channel {}", channel.source, channel.name);
            // Runs that must tile [first_sample, end): (first, count, is_gap).
            let mut runs: Vec<(u64, u64, bool)> = gaps_of
                .query_map([channel.source_id], |row| Ok((row.get(0)?, row.get(1)?, true)))?
                .collect::<Result<_, _>>()?;
            let committed = chain::stored_head(&self.conn, channel.id)?;
            let mut chained = chain::Head {
                num_chunks: 0,
                hash: chain::genesis(&self.conn, channel.id)?,
            };
            let mut chain_broken = false;
            let mut rows = chunks_of.query([channel.id])?;
            while let Some(row) = rows.next()? {
                let (first, num): (u64, u64) = (row.get(0)?, row.get(1)?);
                let stored = (row.get::<_, Option<f64>>(2)?, row.get::<_, Option<f64>>(3)?);
                let data = row.get_ref(4)?.as_blob().map_err(rusqlite::Error::from)?;
                decoded.clear();
                report.num_chunks += 1;
                chained.hash = chain::chunk_hash(&chained.hash, first, num, data);
                chained.num_chunks += 1;
                if let Some((seq, num_chunks, hash)) = anchored.get(&channel.id)
                    && *num_chunks == chained.num_chunks
                    && *hash != chain::hex(&chained.hash)
                {
                    report.problem(
                        "samples",
                        format!(
                            "{label}, chunk at {}: differs from the head anchored in audit row {seq} (chunks \
                             replaced behind the store's back)",
                            place(first)
                        ),
                    );
                }
                if !chain_broken
                    && row.get::<_, Option<Vec<u8>>>(5)?.as_deref() != Some(chained.hash.as_slice())
                {
                    // Report the first break only: every later hash follows from it.
                    chain_broken = true;
                    report.problem(
                        "samples",
                        format!(
                            "{label}, chunk at {}: hash chain broken (samples, position or channel identity changed, or an earlier chunk removed)",
                            place(first)
                        ),
                    );
                }
                match codec::decode(data, num as usize, &mut decoded) {
                    Err(error) => {
                        report.problem("samples", format!("{label}, chunk at {}: {error}", place(first)))
                    }
                    Ok(()) => {
                        report.num_samples += num;
                        let finite = decoded.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v));
                        let actual = finite.fold(None, |range: Option<(f64, f64)>, v| {
                            Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
                        });
                        if actual != stored.0.zip(stored.1) {
                            report.problem(
                                "samples",
                                format!(
                                    "{label}, chunk at {}: samples do not match their stored min/max",
                                    place(first)
                                ),
                            );
                        }
                    }
                }
                runs.push((first, num, false));
            }
            if let Some((seq, num_chunks, _)) = anchored.get(&channel.id)
                && chained.num_chunks < *num_chunks
            {
                report.problem(
                    "samples",
                    format!(
                        "{label}: {} chunks stored but audit row {seq} anchored {num_chunks}: the newest chunks were \
                         removed (and the channel's head rewound) behind the store's back",
                        chained.num_chunks
                    ),
                );
            }
            if !chain_broken && committed != Some(chained) {
                report.problem(
                    "samples",
                    format!(
                        "{label}: {} chunks stored but the channel's hash chain records {}: chunks removed or added behind the store's back",
                        chained.num_chunks,
                        committed.map_or(0, |head| head.num_chunks)
                    ),
                );
            }
            runs.sort_unstable();
            let mut expected = channel.first_sample;
            for (first, num, is_gap) in runs {
                if is_gap {
                    report.num_gap_samples += num;
                }
                if first > expected {
                    report.problem(
                        "continuity",
                        format!(
                            "{label}: {} samples missing from {} to {} with no recorded gap",
                            first - expected,
                            place(expected),
                            place(first)
                        ),
                    );
                } else if first < expected {
                    report.problem(
                        "continuity",
                        format!(
                            "{label}: overlapping data at {} ({} samples)",
                            place(first),
                            expected - first
                        ),
                    );
                }
                expected = expected.max(first + num);
            }
        }
        Ok(())
    }
}

/// The heads of a case file's chains at one moment, to keep outside the file (the export's `MANIFEST.sha256`
/// carries them as `# heracles` comment lines, which `sha256sum -c` ignores). Nothing inside a file can prove
/// that its newest rows were not removed with every head rewound to match (anybody can recompute unkeyed
/// hashes); a head kept elsewhere can: [`CaseFile::verify_against`] fails when the file no longer holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExternalAnchor {
    /// Hash of the newest audit row (hex) and its row number.
    pub audit_head: Option<(String, i64)>,
    /// Per channel row id: label (`source/name`), chunks chained, the newest chunk's hash (hex).
    pub channels: Vec<(i64, String, u64, String)>,
}

/// What starts an anchor line in a manifest.
const ANCHOR_PREFIX: &str = "# heracles ";

impl ExternalAnchor {
    /// The anchor as manifest comment lines (each ending in a newline).
    pub fn manifest_lines(&self) -> String {
        let mut text = String::new();
        if let Some((head, seq)) = &self.audit_head {
            text.push_str(&format!("{ANCHOR_PREFIX}audit {seq} {head}\n"));
        }
        for (id, label, num_chunks, head) in &self.channels {
            text.push_str(&format!(
                "{ANCHOR_PREFIX}channel {id} {num_chunks} {head} {label}\n"
            ));
        }
        text
    }

    /// The anchor lines of a manifest (other lines are ignored); `None` when it holds none.
    pub fn parse(manifest: &str) -> Option<ExternalAnchor> {
        let mut anchor = ExternalAnchor::default();
        let mut found = false;
        for line in manifest.lines() {
            let Some(rest) = line.strip_prefix(ANCHOR_PREFIX) else {
                continue;
            };
            let words: Vec<&str> = rest.splitn(5, ' ').collect();
            match words.as_slice() {
                ["audit", seq, head] => {
                    anchor.audit_head = Some(((*head).to_owned(), seq.parse().ok()?));
                }
                ["channel", id, num_chunks, head, label] => anchor.channels.push((
                    id.parse().ok()?,
                    (*label).to_owned(),
                    num_chunks.parse().ok()?,
                    (*head).to_owned(),
                )),
                _ => return None,
            }
            found = true;
        }
        found.then_some(anchor)
    }
}

impl CaseFile {
    /// The heads of the audit trail and of every channel's sample chain as they are now.
    pub fn external_anchor(&self) -> Result<ExternalAnchor, StoreError> {
        let audit_head = audit::stored_entries(&self.conn)?.last().map(|stored| {
            (
                stored.hash.iter().map(|b| format!("{b:02x}")).collect(),
                stored.entry.seq,
            )
        });
        let mut channels = Vec::new();
        for channel in self.channels()? {
            if let Some(head) = chain::stored_head(&self.conn, channel.id)? {
                channels.push((
                    channel.id,
                    format!("{}/{}", channel.source, channel.name),
                    head.num_chunks,
                    chain::hex(&head.hash),
                ));
            }
        }
        Ok(ExternalAnchor { audit_head, channels })
    }

    /// What of `anchor` (heads noted earlier, outside the file) this file no longer holds: an audit row with the
    /// noted hash, and per channel a chunk with the noted hash at the noted place in its chain. Together with
    /// [`CaseFile::verify`] (which checks every stored hash against the content) this catches rows removed with
    /// every head rewound, which the file alone cannot show.
    pub fn verify_against(&self, anchor: &ExternalAnchor) -> Result<Vec<Problem>, StoreError> {
        let mut problems = Vec::new();
        if let Some((head, seq)) = &anchor.audit_head
            && let Some(mut problem) = self.verify_head(head)?
        {
            problem.message = format!(
                "the audit trail no longer holds row {seq} as it was noted outside the file ({head}): rows were \
                 removed or rewritten"
            );
            problems.push(problem);
        }
        for (id, label, num_chunks, head) in &anchor.channels {
            let held: Option<Vec<u8>> = if *num_chunks == 0 {
                None
            } else {
                self.conn
                    .query_row(
                        "SELECT hash FROM chunk WHERE channel_id = ?1 ORDER BY first_sample LIMIT 1 OFFSET ?2",
                        rusqlite::params![id, num_chunks - 1],
                        |row| row.get(0),
                    )
                    .optional()?
                    .flatten()
            };
            let matches = match held {
                None => *num_chunks == 0,
                Some(bytes) => <[u8; 32]>::try_from(bytes).is_ok_and(|hash| chain::hex(&hash) == *head),
            };
            if !matches {
                problems.push(Problem {
                    check: "samples",
                    message: format!(
                        "channel {label}: chunk {num_chunks} is no longer the one noted outside the file ({head}): \
                         the newest chunks were removed or replaced"
                    ),
                });
            }
        }
        Ok(problems)
    }
}
