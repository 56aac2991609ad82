//! Signal processing: resampling, Savitzky-Golay filters, beat detection (ECG R waves, arterial onsets, LV
//! pressure fiducials), beat quality control, cardiac-cycle phases, steady windows, ensemble averaging and
//! min/max decimation. Pure: no I/O, no threads; the same input gives the same output whatever its chunking.
//!
//! # API for the analysis (ENDPOINTS.md sections 1-3)
//!
//! All beat indices are absolute sample indices at the rate of the signals given: the analysis rate
//! ([`SignalSettings::analysis_rate_hz`], 1 kHz) for phases and every per-beat measurement; segmentation also
//! runs at a record's own rate (at least 100 Hz), and the analysis pipeline does so for records below 1 kHz
//! (detection and QC need no more than the recorded samples) before bringing the beats to 1 kHz. Every
//! threshold is in [`SignalSettings`] (serde, with defaults): store it beside the results.
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
//! - [`antialias::LowPassFir`]: a Kaiser-windowed-sinc low-pass designed from a pass band, stop band and
//!   attenuation (Kaiser 1974), and integer-factor decimation through it (the DICOM export's 250 Hz).
//! - [`decimate`]: min/max columns and the pyramid for drawing long recordings.
//! - [`filter`]: the ECG band-pass (0.5-45 Hz) and the Butterworth sections the detectors use. No spectral
//!   (FFT) method was needed: every filter here runs sample by sample, and the noise test of [`usability`] needs
//!   one band, which a time-domain low-pass measures directly.
//!
//! # Validation (`tests/it/signal.rs`)
//!
//! - Arterial onsets on PhysioNet's TestICU (signal index 2, 125 Hz, resampled to 1 kHz) against `wabp`:
//!   367 of 368 reference onsets matched within 50 ms (sensitivity 0.997: the one missed, at 0.128 s, lies in the
//!   0.5 s lead-in), positive predictive value 1.000, median offset +4 ms. Found at the recorded 125 Hz (as
//!   `heracles analyze` does): the same 366 beats, every wabp onset in their span matched (sensitivity and PPV
//!   1.000; 363 accepted, as at 1 kHz: 0.992 and 1.000), median offset +8 ms (one 125 Hz sample, wabp's own
//!   grid), each onset within 5 ms of the 1 kHz one (median 1 ms).
//! - Inca example: the console's `beat#` increments exactly at the maximum of its `ECG catheter` signal for 30 of
//!   30 transitions, i.e. the console's end-diastole is the R peak (ENDPOINTS.md's primary ED). Our R peak lands
//!   on the same 250 Hz sample for 30 of 30. The console does not count the R wave at 0.43 s, 0.3 s after its
//!   data start; the 0.5 s lead-in does the same, so our beat numbers equal the console's `beat#`.
//! - Synthetic signals with known R, foot, notch and dP/dt times; ectopy, Doppler dropout, damping,
//!   non-pulsatile runs, `NaN` gaps, flat lines, noise, implausible pressure, empty and 2-sample inputs; the
//!   online tracker fed in chunks of 1, 7, 1000 samples and whole gives the offline beats exactly.

pub mod antialias;
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
