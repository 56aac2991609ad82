//! The typed edit API for the protocol and review work. Every edit runs in one transaction that also appends its
//! audit row, whose old and new values are the record as SQLite serialises it (`json_object` over all its
//! columns), so `verify` can later check that every audited record still equals its last audited value.

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::identifiers::{TextWarning, text_warnings};
use super::{CaseFile, StoreError, audit};
use crate::model::{Beat, EcmoSettings, RejectReason, StepId, UnloadingDevice};

/// The randomised allocation of the trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Intra-aortic balloon pump.
    Iabp,
    /// Impella.
    Impella,
}

impl Allocation {
    /// The stored text.
    pub fn key(self) -> &'static str {
        match self {
            Allocation::Iabp => "iabp",
            Allocation::Impella => "impella",
        }
    }

    /// The allocation stored as `key`.
    pub fn from_key(key: &str) -> Option<Allocation> {
        [Allocation::Iabp, Allocation::Impella]
            .into_iter()
            .find(|a| a.key() == key)
    }
}

/// Result of an edit that stores free text: the record's id and any identifier warnings for the UI to show.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    /// Id of the record written.
    pub id: i64,
    /// The free text looked like it holds a patient identifier (saved anyway; the UI asks to remove it).
    pub warnings: Vec<TextWarning>,
}

/// A protocol step as carried out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRecord {
    /// Row id.
    pub id: i64,
    /// Which step.
    pub step: StepId,
    /// When it started, UTC.
    pub started_utc: String,
    /// Start on the recording's time axis, seconds, when recording.
    pub start_s: Option<f64>,
    /// When it ended, UTC; `None` while it runs.
    pub ended_utc: Option<String>,
    /// End on the recording's time axis, seconds.
    pub end_s: Option<f64>,
    /// Unloading device and its settings, as recorded in this step.
    pub device: Option<UnloadingDevice>,
    /// ECMO settings, as recorded in this step.
    pub ecmo: Option<EcmoSettings>,
}

/// A marker or console event on the recording's time axis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Row id.
    pub id: i64,
    /// Seconds on the recording's time axis.
    pub time_s: f64,
    /// When it was added, UTC.
    pub created_utc: String,
    /// What kind, e.g. `marker`, `hyperaemia`, `console`.
    pub kind: String,
    /// The note.
    pub text: String,
}

/// An analysis window (a steady-state window, a preload reduction run) with how it was analysed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalysisWindow {
    /// Row id (ignored when saving a new window).
    pub id: i64,
    /// The protocol step it belongs to.
    pub step: Option<StepId>,
    /// Start on the recording's time axis, seconds.
    pub start_s: f64,
    /// End on the recording's time axis, seconds.
    pub end_s: f64,
    /// Method name, as defined by the analysis layer.
    pub method: String,
    /// Settings, as the analysis layer serialises them.
    pub settings: serde_json::Value,
    /// Version of the algorithm that produced it.
    pub algorithm_version: String,
}

/// A computed result (an endpoint value with its method), as JSON the analysis layer defines.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResultRecord {
    /// Row id (ignored when saving).
    pub id: i64,
    /// The window it was computed on, if any.
    pub window_id: Option<i64>,
    /// What it is, e.g. `cdfr`, `pva`.
    pub name: String,
    /// Method name.
    pub method: String,
    /// Settings, as the analysis layer serialises them.
    pub settings: serde_json::Value,
    /// Version of the algorithm.
    pub algorithm_version: String,
    /// The value(s), as the analysis layer serialises them (a number with its unit, or no value with the reason).
    pub value: serde_json::Value,
}

/// A reviewer's note on a stretch of the recording.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Annotation {
    /// Row id.
    pub id: i64,
    /// Start, seconds on the recording's time axis.
    pub start_s: f64,
    /// End, if it covers a stretch.
    pub end_s: Option<f64>,
    /// The note.
    pub text: String,
    /// Who wrote it.
    pub author: String,
    /// When it was written, UTC.
    pub created_utc: String,
    /// When it was last changed, UTC.
    pub updated_utc: String,
}

/// One follow-up form's answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FollowUp {
    /// Row id.
    pub id: i64,
    /// Which form, e.g. `decannulation`, `day_30`, `month_6`.
    pub form: String,
    /// The answers.
    pub data: serde_json::Value,
    /// Who entered them.
    pub entered_by: String,
    /// When, UTC.
    pub entered_utc: String,
}

/// A sign-off of the case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignOff {
    /// Row id.
    pub id: i64,
    /// In what role, e.g. `operator`, `reviewer`.
    pub role: String,
    /// Who signed.
    pub who: String,
    /// When, UTC.
    pub utc: String,
    /// What they attest.
    pub statement: String,
}

/// The tables whose rows are audited, by entity name.
pub(crate) const AUDITED: [(&str, &str); 11] = [
    ("case", "case_info"),
    // Written by the recorder (`record_gap`); checked only in files whose recorder audits them (see verify).
    ("gap", "gap"),
    ("calibration", "calibration"),
    ("step", "step"),
    ("event", "event"),
    ("analysis_window", "analysis_window"),
    ("beat", "beat"),
    ("result", "result"),
    ("annotation", "annotation"),
    ("follow_up", "follow_up"),
    ("sign_off", "sign_off"),
];

/// Columns that change with every audit row and so are not part of the audited record.
const UNAUDITED_COLUMNS: [&str; 2] = ["audit_count", "audit_head"];

fn table_of(entity: &str) -> Result<&'static str, StoreError> {
    AUDITED
        .iter()
        .find(|(name, _)| *name == entity)
        .map(|(_, table)| *table)
        .ok_or_else(|| StoreError::Invalid(format!("unknown record kind {entity}")))
}

/// The record `id` of `entity` as JSON over all its columns, or `None` if it does not exist.
pub(crate) fn entity_json(
    conn: &rusqlite::Connection,
    entity: &str,
    id: i64,
) -> Result<Option<String>, StoreError> {
    let table = table_of(entity)?;
    let mut statement = conn.prepare_cached(&format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    ))?;
    let columns: Vec<String> = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|column| !UNAUDITED_COLUMNS.contains(&column.as_str()))
        .collect();
    let fields: Vec<String> = columns
        .iter()
        .map(|column| format!("'{column}', \"{column}\""))
        .collect();
    let sql = format!(
        "SELECT json_object({}) FROM \"{table}\" WHERE id = ?1",
        fields.join(", ")
    );
    Ok(conn.query_row(&sql, [id], |row| row.get(0)).optional()?)
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Invalid(format!("cannot serialise: {error}")))
}

fn require_reason(reason: &str) -> Result<(), StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a change to an existing record needs a reason".into(),
        ));
    }
    Ok(())
}

/// Identifier warnings for every string inside a JSON value.
fn json_warnings(value: &serde_json::Value) -> Vec<TextWarning> {
    match value {
        serde_json::Value::String(text) => text_warnings(text),
        serde_json::Value::Array(items) => items.iter().flat_map(json_warnings).collect(),
        serde_json::Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| text_warnings(key).into_iter().chain(json_warnings(value)))
            .collect(),
        _ => Vec::new(),
    }
}

/// What an audited edit is about.
struct Target<'a> {
    who: &'a str,
    action: &'a str,
    entity: &'a str,
    /// The record changed, or `None` when the edit creates one.
    id: Option<i64>,
    reason: &'a str,
}

/// Runs `write` and appends its audit row inside `tx`. `write` returns the id of the record it wrote.
fn audited_in(
    tx: &Transaction<'_>,
    target: Target<'_>,
    write: impl FnOnce(&Transaction<'_>) -> Result<i64, StoreError>,
) -> Result<i64, StoreError> {
    let old_value = match target.id {
        Some(id) => Some(
            entity_json(tx, target.entity, id)?
                .ok_or_else(|| StoreError::Invalid(format!("there is no {} with id {id}", target.entity)))?,
        ),
        None => None,
    };
    let id = write(tx)?;
    let new_value = entity_json(tx, target.entity, id)?;
    audit::append(
        tx,
        audit::Edit {
            who: target.who,
            action: target.action,
            entity: target.entity,
            entity_id: Some(id),
            old_value,
            new_value,
            reason: target.reason,
        },
    )?;
    Ok(id)
}

impl CaseFile {
    /// Runs `write` and appends its audit row in one transaction.
    fn audited(
        &mut self,
        target: Target<'_>,
        write: impl FnOnce(&Transaction<'_>) -> Result<i64, StoreError>,
    ) -> Result<i64, StoreError> {
        let tx = self
            .writable_conn()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = audited_in(&tx, target, write)?;
        tx.commit()?;
        Ok(id)
    }

    /// Records the randomised allocation, the randomisation system's reference and the time it was received.
    pub fn set_allocation(
        &mut self,
        who: &str,
        allocation: Allocation,
        reference: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        require_reason(reason)?;
        let target = Target {
            who,
            action: "set_allocation",
            entity: "case",
            id: Some(1),
            reason,
        };
        self.audited(target, |tx| {
            tx.execute(
                "UPDATE case_info SET allocation = ?1, allocation_reference = ?2, allocation_utc = ?3 WHERE id = 1",
                params![allocation.key(), reference, super::utc_now()],
            )?;
            Ok(1)
        })?;
        Ok(())
    }

    /// Records the calibration of channel `channel` of source `source` (as JSON the acquisition layer defines);
    /// it applies from now on and replaces any earlier one for that channel.
    pub fn set_calibration(
        &mut self,
        who: &str,
        source: &str,
        channel: &str,
        calibration: &serde_json::Value,
        reason: &str,
    ) -> Result<i64, StoreError> {
        let calibration = to_json(calibration)?;
        let reason = if reason.trim().is_empty() {
            "calibration"
        } else {
            reason
        };
        let target = Target {
            who,
            action: "set_calibration",
            entity: "calibration",
            id: None,
            reason,
        };
        self.audited(target, |tx| {
            tx.execute(
                "INSERT INTO calibration (source, channel, calibration_json, utc) VALUES (?1, ?2, ?3, ?4)",
                params![source, channel, calibration, super::utc_now()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Records that a protocol step started, with the device and ECMO settings known then. Returns its id.
    pub fn start_step(
        &mut self,
        who: &str,
        step: StepId,
        start_s: Option<f64>,
        device: Option<&UnloadingDevice>,
        ecmo: Option<&EcmoSettings>,
    ) -> Result<i64, StoreError> {
        let device = device.map(to_json).transpose()?;
        let ecmo = ecmo.map(to_json).transpose()?;
        let target = Target {
            who,
            action: "start_step",
            entity: "step",
            id: None,
            reason: "protocol",
        };
        self.audited(target, |tx| {
            tx.execute(
                "INSERT INTO step (step_key, started_utc, start_s, device_json, ecmo_json) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![step.key(), super::utc_now(), start_s, device, ecmo],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Records that step `id` ended; settings given here replace those recorded at its start.
    pub fn end_step(
        &mut self,
        who: &str,
        id: i64,
        end_s: Option<f64>,
        device: Option<&UnloadingDevice>,
        ecmo: Option<&EcmoSettings>,
    ) -> Result<(), StoreError> {
        let device = device.map(to_json).transpose()?;
        let ecmo = ecmo.map(to_json).transpose()?;
        let target = Target {
            who,
            action: "end_step",
            entity: "step",
            id: Some(id),
            reason: "protocol",
        };
        self.audited(target, |tx| {
            tx.execute(
                "UPDATE step SET ended_utc = ?1, end_s = ?2, device_json = coalesce(?3, device_json),
                 ecmo_json = coalesce(?4, ecmo_json) WHERE id = ?5",
                params![super::utc_now(), end_s, device, ecmo, id],
            )?;
            Ok(id)
        })?;
        Ok(())
    }

    /// Adds a marker (or any event kind) at `time_s` on the recording's time axis.
    pub fn add_marker(
        &mut self,
        who: &str,
        time_s: f64,
        kind: &str,
        text: &str,
    ) -> Result<Saved, StoreError> {
        let target = Target {
            who,
            action: "add_marker",
            entity: "event",
            id: None,
            reason: "marker",
        };
        let id = self.audited(target, |tx| {
            tx.execute(
                "INSERT INTO event (time_s, created_utc, kind, text) VALUES (?1, ?2, ?3, ?4)",
                params![time_s, super::utc_now(), kind, text],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        Ok(Saved {
            id,
            warnings: text_warnings(text),
        })
    }

    /// Adds a reviewer's annotation.
    pub fn add_annotation(
        &mut self,
        who: &str,
        start_s: f64,
        end_s: Option<f64>,
        text: &str,
    ) -> Result<Saved, StoreError> {
        let target = Target {
            who,
            action: "add_annotation",
            entity: "annotation",
            id: None,
            reason: "annotation",
        };
        let id = self.audited(target, |tx| {
            let now = super::utc_now();
            tx.execute(
                "INSERT INTO annotation (start_s, end_s, text, author, created_utc, updated_utc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![start_s, end_s, text, who, now],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        Ok(Saved {
            id,
            warnings: text_warnings(text),
        })
    }

    /// Changes the text of annotation `id`.
    pub fn update_annotation(
        &mut self,
        who: &str,
        id: i64,
        text: &str,
        reason: &str,
    ) -> Result<Saved, StoreError> {
        require_reason(reason)?;
        let target = Target {
            who,
            action: "update_annotation",
            entity: "annotation",
            id: Some(id),
            reason,
        };
        self.audited(target, |tx| {
            tx.execute(
                "UPDATE annotation SET text = ?1, updated_utc = ?2 WHERE id = ?3",
                params![text, super::utc_now(), id],
            )?;
            Ok(id)
        })?;
        Ok(Saved {
            id,
            warnings: text_warnings(text),
        })
    }

    /// Saves an analysis window; returns its id.
    pub fn save_analysis_window(&mut self, who: &str, window: &AnalysisWindow) -> Result<i64, StoreError> {
        if !(window.start_s.is_finite() && window.end_s.is_finite() && window.start_s < window.end_s) {
            return Err(StoreError::Invalid(format!(
                "analysis window {}..{} s is not a valid range",
                window.start_s, window.end_s
            )));
        }
        let settings = to_json(&window.settings)?;
        let target = Target {
            who,
            action: "save_analysis_window",
            entity: "analysis_window",
            id: None,
            reason: "analysis",
        };
        self.audited(target, |tx| {
            tx.execute(
                "INSERT INTO analysis_window (step_key, start_s, end_s, method, settings_json, algorithm_version,
                 created_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    window.step.map(StepId::key),
                    window.start_s,
                    window.end_s,
                    window.method,
                    settings,
                    window.algorithm_version,
                    super::utc_now()
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Saves the beats detected in window `window_id` (one audit row each, all in one transaction).
    pub fn save_beats(&mut self, who: &str, window_id: i64, beats: &[Beat]) -> Result<(), StoreError> {
        let tx = self
            .writable_conn()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for beat in beats {
            let beat_json = to_json(beat)?;
            let target = Target {
                who,
                action: "save_beat",
                entity: "beat",
                id: None,
                reason: "analysis",
            };
            audited_in(&tx, target, |tx| {
                tx.execute(
                    "INSERT INTO beat (window_id, number, beat_json) VALUES (?1, ?2, ?3)",
                    params![window_id, beat.number, beat_json],
                )?;
                Ok(tx.last_insert_rowid())
            })?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Rejects (`reject` = `Some`) or accepts (`None`) beat `number` of window `window_id`, with the reviewer's
    /// reason.
    pub fn set_beat_verdict(
        &mut self,
        who: &str,
        window_id: i64,
        number: u32,
        reject: Option<RejectReason>,
        reason: &str,
    ) -> Result<(), StoreError> {
        require_reason(reason)?;
        let found: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, beat_json FROM beat WHERE window_id = ?1 AND number = ?2",
                params![window_id, number],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let (id, beat_json) =
            found.ok_or_else(|| StoreError::Invalid(format!("window {window_id} has no beat {number}")))?;
        let mut beat: Beat = serde_json::from_str(&beat_json)
            .map_err(|error| StoreError::Invalid(format!("beat {number} cannot be read: {error}")))?;
        let action = if reject.is_some() {
            "reject_beat"
        } else {
            "accept_beat"
        };
        beat.reject = reject;
        let beat_json = to_json(&beat)?;
        self.audited(
            Target {
                who,
                action,
                entity: "beat",
                id: Some(id),
                reason,
            },
            |tx| {
                tx.execute(
                    "UPDATE beat SET beat_json = ?1 WHERE id = ?2",
                    params![beat_json, id],
                )?;
                Ok(id)
            },
        )?;
        Ok(())
    }

    /// Saves a computed result with its method, settings and algorithm version; returns its id.
    pub fn save_result(&mut self, who: &str, result: &ResultRecord) -> Result<i64, StoreError> {
        let settings = to_json(&result.settings)?;
        let value = to_json(&result.value)?;
        let target = Target {
            who,
            action: "save_result",
            entity: "result",
            id: None,
            reason: "analysis",
        };
        self.audited(target, |tx| {
            tx.execute(
                "INSERT INTO result (window_id, name, method, settings_json, algorithm_version, value_json, created_utc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    result.window_id,
                    result.name,
                    result.method,
                    settings,
                    result.algorithm_version,
                    value,
                    super::utc_now()
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Enters or replaces the answers of follow-up form `form`.
    pub fn set_follow_up(
        &mut self,
        who: &str,
        form: &str,
        data: &serde_json::Value,
        reason: &str,
    ) -> Result<Saved, StoreError> {
        let existing: Option<i64> = self
            .conn
            .query_row("SELECT id FROM follow_up WHERE form = ?1", [form], |row| {
                row.get(0)
            })
            .optional()?;
        if existing.is_some() {
            require_reason(reason)?;
        }
        let data_json = to_json(data)?;
        let reason = if reason.trim().is_empty() {
            "follow-up entered"
        } else {
            reason
        };
        let target = Target {
            who,
            action: "set_follow_up",
            entity: "follow_up",
            id: existing,
            reason,
        };
        let id = self.audited(target, |tx| {
            match existing {
                Some(id) => tx.execute(
                    "UPDATE follow_up SET data_json = ?1, entered_by = ?2, entered_utc = ?3 WHERE id = ?4",
                    params![data_json, who, super::utc_now(), id],
                )?,
                None => tx.execute(
                    "INSERT INTO follow_up (form, data_json, entered_by, entered_utc) VALUES (?1, ?2, ?3, ?4)",
                    params![form, data_json, who, super::utc_now()],
                )?,
            };
            Ok(existing.unwrap_or_else(|| tx.last_insert_rowid()))
        })?;
        Ok(Saved {
            id,
            warnings: json_warnings(data),
        })
    }

    /// Signs the case off in `role`; the case's status becomes `signed_off`.
    pub fn sign_off(&mut self, who: &str, role: &str, statement: &str) -> Result<Saved, StoreError> {
        let tx = self
            .writable_conn()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let target = Target {
            who,
            action: "sign_off",
            entity: "sign_off",
            id: None,
            reason: statement,
        };
        let id = audited_in(&tx, target, |tx| {
            tx.execute(
                "INSERT INTO sign_off (role, who, utc, statement) VALUES (?1, ?2, ?3, ?4)",
                params![role, who, super::utc_now(), statement],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        let target = Target {
            who,
            action: "set_status",
            entity: "case",
            id: Some(1),
            reason: "signed off",
        };
        audited_in(&tx, target, |tx| {
            tx.execute("UPDATE case_info SET status = 'signed_off' WHERE id = 1", [])?;
            Ok(1)
        })?;
        tx.commit()?;
        Ok(Saved {
            id,
            warnings: text_warnings(statement),
        })
    }
}

impl CaseFile {
    /// Records that the case is uploaded although it is not validly signed off, with `who`'s reason: an audit
    /// row (`upload_unsigned`) and nothing else changed, so the reason travels in the case file's trail. A
    /// reason that is empty or looks like a patient identifier is refused.
    pub fn record_unsigned_upload(&mut self, who: &str, reason: &str) -> Result<(), StoreError> {
        require_reason(reason)?;
        if let Some(warning) = text_warnings(reason).into_iter().next() {
            return Err(StoreError::Invalid(format!(
                "the reason looks like it holds a patient identifier ({warning}); reword it"
            )));
        }
        let target = Target {
            who,
            action: "upload_unsigned",
            entity: "case",
            id: Some(1),
            reason,
        };
        self.audited(target, |_| Ok(1))?;
        Ok(())
    }
}

impl CaseFile {
    /// Moves analysis window `id` to `[start_s, end_s)` and replaces its beats with `beats` (found again over the
    /// new range, reviewer verdicts carried over by the caller), in one transaction: one audit row for the move,
    /// with the reviewer's reason, and one per beat removed and added. Results computed on the old range stay in
    /// the file as history; the caller saves the new ones.
    pub fn move_analysis_window(
        &mut self,
        who: &str,
        id: i64,
        start_s: f64,
        end_s: f64,
        beats: &[Beat],
        reason: &str,
    ) -> Result<(), StoreError> {
        require_reason(reason)?;
        if !(start_s.is_finite() && end_s.is_finite() && start_s >= 0.0 && end_s > start_s) {
            return Err(StoreError::Invalid(format!(
                "analysis window {start_s}..{end_s} s is not a valid range"
            )));
        }
        let tx = self
            .writable_conn()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let target = Target {
            who,
            action: "move_analysis_window",
            entity: "analysis_window",
            id: Some(id),
            reason,
        };
        audited_in(&tx, target, |tx| {
            tx.execute(
                "UPDATE analysis_window SET start_s = ?1, end_s = ?2 WHERE id = ?3",
                params![start_s, end_s, id],
            )?;
            Ok(id)
        })?;
        let old_ids: Vec<i64> = tx
            .prepare("SELECT id FROM beat WHERE window_id = ?1 ORDER BY number")?
            .query_map([id], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for beat_id in old_ids {
            let old_value = entity_json(&tx, "beat", beat_id)?;
            tx.execute("DELETE FROM beat WHERE id = ?1", [beat_id])?;
            audit::append(
                &tx,
                audit::Edit {
                    who,
                    action: "remove_beat",
                    entity: "beat",
                    entity_id: Some(beat_id),
                    old_value,
                    new_value: None,
                    reason,
                },
            )?;
        }
        for beat in beats {
            let beat_json = to_json(beat)?;
            let target = Target {
                who,
                action: "save_beat",
                entity: "beat",
                id: None,
                reason,
            };
            audited_in(&tx, target, |tx| {
                tx.execute(
                    "INSERT INTO beat (window_id, number, beat_json) VALUES (?1, ?2, ?3)",
                    params![id, beat.number, beat_json],
                )?;
                Ok(tx.last_insert_rowid())
            })?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl CaseFile {
    /// Replaces the settings of analysis window `id` (e.g. the occlusion beats chosen for its ESPVR), with the
    /// reviewer's reason.
    pub fn set_analysis_window_settings(
        &mut self,
        who: &str,
        id: i64,
        settings: &serde_json::Value,
        reason: &str,
    ) -> Result<(), StoreError> {
        require_reason(reason)?;
        let settings = to_json(settings)?;
        let target = Target {
            who,
            action: "set_window_settings",
            entity: "analysis_window",
            id: Some(id),
            reason,
        };
        self.audited(target, |tx| {
            tx.execute(
                "UPDATE analysis_window SET settings_json = ?1 WHERE id = ?2",
                params![settings, id],
            )?;
            Ok(id)
        })?;
        Ok(())
    }
}
