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
    /// The beat after an RR outlier (an RR outlier disturbs the next beat too).
    AfterRrOutlier,
    /// Part of a premature (ectopic) beat's pattern in a regular rhythm: the beat it cuts short, the ectopic
    /// beat and the post-ectopic beat.
    Ectopic,
    /// Doppler velocity dropout in diastole.
    DopplerDropout,
    /// Damped pressure waveform.
    PressureDamping,
    /// Arterial pulse pressure below the pulsatility threshold.
    NonPulsatile,
    /// Samples missing (a gap) in a channel the beat is measured on.
    MissingData,
    /// The aortic or distal pressure is flat over the beat, away from its usual level (a transducer opened to
    /// air or to the flush; see [`crate::signal::qc`]).
    FlatPressure,
    /// The aortic or distal pressure is clipped at the amplifier's rail over the beat (a run of identical samples
    /// at the beat's maximum, the upper rail, reached at speed).
    ClippedPressure,
    /// Rejected by a reviewer, with their reason.
    Manual(String),
}

impl RejectReason {
    /// Stable short key for counts, exports and JSON (`rr_outlier`, ..., `manual`).
    pub fn key(&self) -> &'static str {
        match self {
            RejectReason::RrOutlier => "rr_outlier",
            RejectReason::AfterRrOutlier => "after_rr_outlier",
            RejectReason::Ectopic => "ectopic",
            RejectReason::DopplerDropout => "doppler_dropout",
            RejectReason::PressureDamping => "pressure_damping",
            RejectReason::NonPulsatile => "non_pulsatile",
            RejectReason::MissingData => "missing_data",
            RejectReason::FlatPressure => "flat_pressure",
            RejectReason::ClippedPressure => "clipped_pressure",
            RejectReason::Manual(_) => "manual",
        }
    }

    /// The reason stored under `key` ([`key`](RejectReason::key)'s inverse; any other key is a reviewer's
    /// rejection whose words are `key` itself).
    pub fn from_key(key: &str) -> RejectReason {
        match key {
            "rr_outlier" => RejectReason::RrOutlier,
            "after_rr_outlier" => RejectReason::AfterRrOutlier,
            "ectopic" => RejectReason::Ectopic,
            "doppler_dropout" => RejectReason::DopplerDropout,
            "pressure_damping" => RejectReason::PressureDamping,
            "non_pulsatile" => RejectReason::NonPulsatile,
            "missing_data" => RejectReason::MissingData,
            "flat_pressure" => RejectReason::FlatPressure,
            "clipped_pressure" => RejectReason::ClippedPressure,
            other => RejectReason::Manual(other.to_owned()),
        }
    }

    /// Whether a beat rejected for the reason with this [`key`](RejectReason::key) (`None`: not rejected) still
    /// counts for the pressure-volume endpoints. Each family is judged on its own signals: a Doppler dropout
    /// concerns the coronary velocity only, so it does not take the beat's LV pressure and volume away. Every
    /// other reason (rhythm, missing samples, arterial pressure, a reviewer) applies to both families.
    pub fn counts_for_pv(key: Option<&str>) -> bool {
        key.is_none_or(|key| key == RejectReason::DopplerDropout.key())
    }
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
    /// The arterial pulse pressure over the beat was below the pulsatility threshold (ENDPOINTS.md section 2):
    /// aortic systolic/diastolic/notch values are not reported and phases come from LV pressure. A label, not a
    /// rejection, unless the beat was detected on that arterial trace itself. `false` when no arterial pressure
    /// was recorded.
    #[serde(default)]
    pub non_pulsatile: bool,
    /// Quality control judged the beat within an irregular rhythm (AF-like, or the regular irregularity of
    /// sustained bigeminy), where RR outlier rules do not apply and every beat is kept (see [`crate::signal::qc`]).
    #[serde(default)]
    pub irregular_rhythm: bool,
}

impl Beat {
    /// Whether quality control (or the reviewer) accepted the beat.
    pub fn accepted(&self) -> bool {
        self.reject.is_none()
    }

    /// Whether the beat counts for the pressure-volume endpoints ([`RejectReason::counts_for_pv`]).
    pub fn accepted_for_pv(&self) -> bool {
        RejectReason::counts_for_pv(self.reject.as_ref().map(RejectReason::key))
    }

    /// Length of the beat in samples.
    pub fn num_samples(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}
