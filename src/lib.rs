//! heracles: a cath-lab workstation for the HERACLES trial (VA-ECMO patients in cardiogenic shock, randomised to
//! left-ventricular unloading with an IABP or an Impella).
//!
//! # Layer map
//!
//! Three rings (see `ARCHITECTURE.md` for the full codemap):
//!
//! - **Pure core**, deterministic, no I/O, no threads, no egui/SQLite/serial:
//!   [`model`] (plain data), [`sim`] (the simulated patient), [`signal`] (filters, beat detection, QC),
//!   [`analysis`] (the trial's endpoints), [`protocol`] (the measurement protocol as a state machine).
//! - **I/O edges**: [`acquisition`] (sources, serial ports, the engine thread), [`formats`] (file importers and
//!   exporters), [`store`] (the SQLite case file, the only user of rusqlite), [`export`] (export bundles),
//!   [`upload`] (the upload queue and the transport to the core lab's archive), [`review`] (offline review:
//!   lazily loaded channels, follow-up, sign-off), [`cli`] (the headless
//!   subcommands).
//! - **UI**: [`app`] (the eframe shell, commands, draining engine output) and [`ui`] (egui views, widgets and the
//!   theme). Only these two touch egui.
//!
//! The rules are checked by `tests/it/layering.rs`, which reads every source file's `use` lines.

pub mod acquisition;
pub mod analysis;
pub mod app;
pub mod cli;
pub mod export;
pub mod formats;
pub mod model;
pub mod protocol;
pub mod review;
pub mod signal;
pub mod sim;
pub mod store;
pub mod ui;
pub mod upload;
