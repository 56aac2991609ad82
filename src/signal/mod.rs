//! Signal processing: resampling, Savitzky-Golay filters, beat detection (ECG R waves, arterial onsets, LV
//! pressure fiducials), beat quality control, cardiac-cycle phases, steady windows, ensemble averaging and
//! min/max decimation. Pure: no I/O, no threads; the same input gives the same output whatever its chunking.
//!
//! # API for the analysis (ENDPOINTS.md sections 1-3)
//!
//! All beat indices are absolute sample indices at the analysis rate ([`SignalSettings::analysis_rate_hz`],
//! 1 kHz). Every threshold is in [`SignalSettings`] (serde, with defaults): store it beside the results.
//!
//! - [`resample::resample`]: a channel from its source rate to the analysis rate (windowed-sinc).
//! - [`savgol::derivative`] / [`savgol::smooth`] with [`savgol::SavgolSettings`] (order 3, 21 ms): the one
//!   derivative method (dP/dt, dU/dt).
//! - [`segment::segment`]`(&Signals, rate, &settings)` -> [`segment::Segmentation`]: channels checked
//!   ([`usability`]), fiducial chosen (ECG R wave, else LV end-diastole, else arterial onset), beats numbered
//!   from 1 with QC verdicts ([`qc`]), non-pulsatile runs, counts per reason, or no beats and the reason.
//!   [`segment::detect_beats`] forces a fiducial.
//! - [`phases::beat_phases`]: ED, systolic peak, dicrotic notch, LV dP/dt max/min, systole end, diastole,
//!   wave-free period, end-systole fallback of one beat.
//! - [`window::steady_window`]: >= 10 accepted consecutive beats and >= 15 s.
//! - [`ensemble::ensemble_average`]: aligned on the fiducial, trimmed to the shortest beat.
//! - [`online::BeatTracker`]: live, chunk by chunk, the same beats as [`segment::detect_beats`].
//! - [`decimate`]: min/max columns and the pyramid for drawing long recordings.
//! - [`filter`]: the ECG band-pass (0.5-45 Hz) and the Butterworth sections the detectors use.

pub mod decimate;
pub mod ecg;
pub mod ensemble;
pub mod filter;
mod lookback;
pub mod lv;
pub mod online;
pub mod onset;
pub mod phases;
pub mod qc;
pub mod resample;
pub mod savgol;
pub mod segment;
pub mod settings;
pub mod signals;
pub mod usability;
pub mod window;

pub use online::BeatTracker;
pub use segment::{Segmentation, detect_beats, segment};
pub use settings::SignalSettings;
pub use signals::{SignalError, Signals};
