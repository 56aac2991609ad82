//! The case file: one SQLite file per case, its schema and migrations, the recorder thread and the audit trail.
//! The only module that uses rusqlite.
