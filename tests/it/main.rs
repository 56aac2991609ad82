//! The one integration-test binary: each file is a module testing one capability through the public API.

// Test helpers outside `#[test]` functions fail by panicking too (clippy's allow-unwrap-in-tests covers only
// the test functions themselves).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analysis;
mod analysis_threads;
mod analyze_batch;
mod cdfr_coverage;
mod consoles;
mod dicom_export;
mod dicom_import;
mod engine;
mod export;
mod formats;
mod formats_import;
mod layering;
mod newcomer;
mod one_path;
mod orthanc;
mod phases;
mod protocol;
mod python;
mod review;
mod review_case;
mod rhythms;
#[cfg(feature = "screenshots")]
mod screenshots;
mod signal;
mod sim;
mod simulate_cli;
mod store;
mod store_cli;
mod store_locks;
mod ui_consoles_step;
mod ui_keyboard;
mod ui_live;
mod ui_protocol;
mod ui_review;
mod ui_settings;
mod ui_upload;
mod upload;
mod validation;
