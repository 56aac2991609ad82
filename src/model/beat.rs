//! One cardiac cycle as found by beat detection, with its quality-control verdict.

use serde::{Deserialize, Serialize};

/// The event a beat is anchored on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fiducial {
    /// ECG R wave (the primary fiducial).
    RWave,
    /// Arterial pressure pulse onset (foot), slope-sum-function detector.
    PressureOnset,
    /// LV end-diastole derived from the LV pressure upstroke (dP/dt).
    LvEndDiastole,
}

/// Why quality control rejected a beat (ENDPOINTS.md section 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    /// RR interval more than the allowed fraction from the local median.
    RrOutlier,
    /// The beat after an RR outlier (ectopy disturbs the next beat too).
    AfterRrOutlier,
    /// Doppler velocity dropout in diastole.
    DopplerDropout,
    /// Damped pressure waveform.
    PressureDamping,
    /// Arterial pulse pressure below the pulsatility threshold.
    NonPulsatile,
    /// Rejected by a reviewer, with their reason.
    Manual(String),
}

/// One beat: from its fiducial to the next beat's fiducial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Beat {
    /// 1-based beat number within the analysed record.
    pub number: u32,
    /// Sample index (at the analysis rate) of the fiducial that starts the beat.
    pub start: u64,
    /// Sample index of the next beat's fiducial (exclusive end of this beat).
    pub end: u64,
    /// What `start` marks.
    pub fiducial: Fiducial,
    /// `None` when accepted; the reason otherwise.
    pub reject: Option<RejectReason>,
}

impl Beat {
    /// Whether quality control (or the reviewer) accepted the beat.
    pub fn accepted(&self) -> bool {
        self.reject.is_none()
    }

    /// Length of the beat in samples.
    pub fn num_samples(&self) -> u64 {
        self.end - self.start
    }
}
