//! The case file's schema as a list of forward-only migrations, and the code that applies them.
//!
//! `MIGRATIONS[i]` takes a file from schema version `i` to `i + 1`; `PRAGMA user_version` holds the version and
//! `PRAGMA application_id` marks the file as a heracles case. Each migration runs in one transaction together
//! with its `user_version` update, so a crash or an error part-way leaves the file at the version it had.
//! To change the schema, append a migration (never edit a released one) and add a fixture test for the old
//! version in `tests/it/store.rs`.

use rusqlite::Connection;

use super::StoreError;

/// `PRAGMA application_id` of every case file: "HRCL" in ASCII.
pub const APPLICATION_ID: i32 = 0x4852_434C;

/// Schema version 1: the first release.
pub const V1: &str = r#"
-- The case itself: exactly one row. No field for a name, date of birth, hospital or NHS number, by design.
CREATE TABLE case_info (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    case_id              TEXT NOT NULL,
    site                 TEXT NOT NULL,
    operator             TEXT NOT NULL,
    created_utc          TEXT NOT NULL,
    allocation           TEXT,
    allocation_reference TEXT,
    allocation_utc       TEXT,
    status               TEXT NOT NULL,
    -- Number of audit rows and the hash of the newest, updated in the same transaction as every audit row, so
    -- that deleting the newest audit rows is detected too.
    audit_count          INTEGER NOT NULL DEFAULT 0,
    audit_head           BLOB
);

-- One row per source per contiguous sample-index space (a source that reconnects with the same channels and a
-- later index continues its row; one that changes channels or restarts its counter gets a new row).
CREATE TABLE source (
    id             INTEGER PRIMARY KEY,
    position       INTEGER NOT NULL,
    key            TEXT NOT NULL,
    label          TEXT NOT NULL,
    sample_rate_hz REAL NOT NULL,
    first_sample   INTEGER NOT NULL,
    started_utc    TEXT NOT NULL
);

CREATE TABLE channel (
    id        INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES source(id),
    idx       INTEGER NOT NULL,
    name      TEXT NOT NULL,
    unit      TEXT NOT NULL,
    UNIQUE (source_id, idx)
);

-- Calibrations (zero offsets, gains, volume calibration) by source and channel name, so that one set during
-- preparation applies before the recorder has written the channel. The newest row of a channel applies; raw
-- samples are never rewritten.
CREATE TABLE calibration (
    id               INTEGER PRIMARY KEY,
    source           TEXT NOT NULL,
    channel          TEXT NOT NULL,
    calibration_json TEXT NOT NULL,
    utc              TEXT NOT NULL
);

-- Lossless runs of one channel's samples (see store/codec.rs), with their min and max for fast overviews.
CREATE TABLE chunk (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL REFERENCES channel(id),
    first_sample INTEGER NOT NULL,
    num_samples  INTEGER NOT NULL CHECK (num_samples BETWEEN 1 AND 65536),
    min_value    REAL,
    max_value    REAL,
    data         BLOB NOT NULL
);
-- Covers the overview query, so it never touches the sample data.
CREATE UNIQUE INDEX chunk_by_channel ON chunk (channel_id, first_sample, num_samples, min_value, max_value);

-- Samples that never arrived, recorded explicitly.
CREATE TABLE gap (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL REFERENCES source(id),
    first_sample INTEGER NOT NULL,
    num_samples  INTEGER NOT NULL CHECK (num_samples > 0),
    reason       TEXT NOT NULL,
    detail       TEXT,
    -- How many reported gaps were merged into this row (consecutive gaps with the same reason).
    num_events   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX gap_by_source ON gap (source_id, first_sample);

-- Protocol steps as they were carried out; settings are JSON of the model's device types.
CREATE TABLE step (
    id           INTEGER PRIMARY KEY,
    step_key     TEXT NOT NULL,
    started_utc  TEXT NOT NULL,
    start_s      REAL,
    ended_utc    TEXT,
    end_s        REAL,
    device_json  TEXT,
    ecmo_json    TEXT
);

-- Operator markers and console events on the recording's time axis.
CREATE TABLE event (
    id          INTEGER PRIMARY KEY,
    time_s      REAL NOT NULL,
    created_utc TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL
);

-- Analysis: JSON documents defined by the analysis layer, stored with method, settings and algorithm version.
CREATE TABLE analysis_window (
    id                INTEGER PRIMARY KEY,
    step_key          TEXT,
    start_s           REAL NOT NULL,
    end_s             REAL NOT NULL,
    method            TEXT NOT NULL,
    settings_json     TEXT NOT NULL,
    algorithm_version TEXT NOT NULL,
    created_utc       TEXT NOT NULL
);

CREATE TABLE beat (
    id          INTEGER PRIMARY KEY,
    window_id   INTEGER NOT NULL REFERENCES analysis_window(id),
    number      INTEGER NOT NULL,
    beat_json   TEXT NOT NULL,
    UNIQUE (window_id, number)
);

CREATE TABLE result (
    id                INTEGER PRIMARY KEY,
    window_id         INTEGER REFERENCES analysis_window(id),
    name              TEXT NOT NULL,
    method            TEXT NOT NULL,
    settings_json     TEXT NOT NULL,
    algorithm_version TEXT NOT NULL,
    value_json        TEXT NOT NULL,
    created_utc       TEXT NOT NULL
);

CREATE TABLE annotation (
    id          INTEGER PRIMARY KEY,
    start_s     REAL NOT NULL,
    end_s       REAL,
    text        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);

-- One row per follow-up form (e.g. `decannulation`, `day_30`, `month_6`), its answers as JSON.
CREATE TABLE follow_up (
    id          INTEGER PRIMARY KEY,
    form        TEXT NOT NULL UNIQUE,
    data_json   TEXT NOT NULL,
    entered_by  TEXT NOT NULL,
    entered_utc TEXT NOT NULL
);

CREATE TABLE sign_off (
    id        INTEGER PRIMARY KEY,
    role      TEXT NOT NULL,
    who       TEXT NOT NULL,
    utc       TEXT NOT NULL,
    statement TEXT NOT NULL
);

-- Append-only: every edit, in order. `hash` = SHA-256 over the row's content and `prev_hash`.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    utc        TEXT NOT NULL,
    who        TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  INTEGER,
    old_value  TEXT,
    new_value  TEXT,
    reason     TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#;

/// Schema version 2: the sample hash chain (see `store/chain.rs`). Each chunk carries its chained hash, each
/// channel its chunk count and newest hash; the migration chains the chunks a version-1 file already holds.
pub const V2: &str = r#"
ALTER TABLE chunk ADD COLUMN hash BLOB;
ALTER TABLE channel ADD COLUMN num_chunks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channel ADD COLUMN chunk_head BLOB;
"#;

/// Every migration in order; the current schema version is `MIGRATIONS.len()`.
pub const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build writes.
pub const CURRENT_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings `conn` from its `user_version` to `migrations.len()`, one transaction per migration.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), StoreError> {
    let mut version: i32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let target = migrations.len() as i32;
    while version < target {
        let tx = conn.transaction()?;
        let sql = migrations.get(version as usize).copied().unwrap_or_default();
        let migration_error = |error| StoreError::Migration {
            to_version: version + 1,
            error,
        };
        tx.execute_batch(sql).map_err(migration_error)?;
        if version + 1 == 2 {
            // Data step of version 2, in the same transaction: chain the chunks already stored.
            super::chain::chain_existing_chunks(&tx).map_err(migration_error)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        version += 1;
    }
    Ok(())
}
