//! Every [choice] of ENDPOINTS.md as one stored, versioned settings value. A case is re-analysed with the settings
//! stored beside it; [`AnalysisSettings::hash`] identifies them in every result.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the analysis algorithms. Bump it whenever a change can alter any number computed from the same
/// samples and settings, so a stored result says which code produced it.
pub const ALGORITHM_VERSION: &str = "heracles-analysis 1.0.0";

/// A Savitzky-Golay smoothing/differentiation filter: polynomial order and frame length.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavitzkyGolaySettings {
    /// Order of the local polynomial.
    pub order: usize,
    /// Frame length in ms; the frame in samples is the nearest odd number at the analysis rate (at least
    /// `order + 2`).
    pub frame_ms: f64,
}

/// Beat quality control (ENDPOINTS.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatQcSettings {
    /// Reject a beat (and the next) whose RR differs from the local median by more than this fraction.
    pub rr_tolerance_fraction: f64,
    /// Number of neighbouring beats whose median RR is the local reference.
    pub rr_median_beats: usize,
    /// Doppler dropout: velocity below this ...
    pub doppler_dropout_velocity_cm_s: f64,
    /// ... for longer than this in diastole rejects the beat.
    pub doppler_dropout_duration_ms: f64,
    /// Arterial pulse pressure below this marks a beat non-pulsatile.
    pub non_pulsatile_pulse_pressure_mmhg: f64,
}

/// Steady measurement window (ENDPOINTS.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SteadyWindowSettings {
    /// At least this many accepted consecutive beats.
    pub min_beats: usize,
    /// At least this long (one ventilator cycle or more).
    pub min_duration_s: f64,
}

/// Cardiac-cycle phase fallbacks (ENDPOINTS.md section 3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseSettings {
    /// End-systole fallback: this long before LV dP/dt min, when max P/(V - V0) cannot be found.
    pub es_fallback_before_dpdt_min_ms: f64,
    /// The wave-free period starts this fraction of the way into diastole ...
    pub wfp_start_fraction_of_diastole: f64,
    /// ... and ends this long before the end of diastole.
    pub wfp_end_margin_ms: f64,
}

/// The state CDFR divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CdfrReference {
    /// VA-ECMO alone, before the unloading device goes in (the trial's default).
    EcmoAloneBaseline,
    /// Within-session: the device at standby or minimum support (Impella P-0 is not "off": blood flows back).
    DeviceStandby,
}

/// Coronary device flow reserve (ENDPOINTS.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfrSettings {
    /// Which state is the reference (denominator).
    pub reference: CdfrReference,
    /// Bootstrap resamples for the 95 % confidence interval.
    pub bootstrap_iterations: usize,
    /// Seed of the bootstrap's random stream (the CI is reproducible).
    pub bootstrap_seed: u64,
    /// Flag the result when ECMO flow differs between the states by more than this.
    pub ecmo_flow_change_limit_l_min: f64,
    /// Flag the result when heart rate differs between the states by more than this fraction.
    pub heart_rate_change_limit_fraction: f64,
}

/// How the minimal microvascular resistance (secondary endpoint) is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinimalResistanceChoice {
    /// HMR when a hyperaemic state was recorded, else WFP-MR (the trial's default).
    HmrElseWfpMr,
    /// Always WFP-MR (resting, wave-free).
    WfpMr,
}

/// Relaxation time constant (ENDPOINTS.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TauSettings {
    /// The fit segment runs from dP/dt min until P falls to the next beat's EDP plus this.
    pub end_above_next_edp_mmhg: f64,
    /// tau is flagged invalid when volume changes by more than this fraction of SV over the fit segment.
    pub max_volume_change_fraction_of_sv: f64,
}

/// Where the volume intercept V0 used for end-systole and PVA comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum V0Setting {
    /// From the patient's ESPVR when one was fitted, else 0 mL (ENDPOINTS.md section 3).
    FromEspvrElseZero,
    /// A fixed value, e.g. the baseline ESPVR's V0 carried to the post state (V0 must stay fixed within a patient).
    Fixed {
        /// The intercept, mL.
        v0_ml: f64,
    },
}

/// ESPVR fitting (ENDPOINTS.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EspvrSettings {
    /// Stop iterating V0 when it moves by less than this.
    pub v0_tolerance_ml: f64,
    /// Give up (and say so) after this many iterations.
    pub max_iterations: usize,
}

/// Wave intensity analysis (ENDPOINTS.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WiaSettings {
    /// Derivative filter for dP/dt and dU/dt.
    pub derivative: SavitzkyGolaySettings,
    /// Largest velocity lag searched when aligning the early-systolic upstrokes.
    pub max_velocity_lag_ms: f64,
    /// Length of the early-systolic window (from the R wave) in which the upstrokes are aligned.
    pub upstroke_window_ms: f64,
}

/// Constants of a myocardial oxygen consumption estimate `MVO2 = a PVA + b` (Suga), only used when asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mvo2Constants {
    /// Slope a, mL O2 per mmHg.mL of PVA.
    pub ml_o2_per_mmhg_ml: f64,
    /// Intercept b (unloaded oxygen cost), mL O2 per beat.
    pub ml_o2_per_beat: f64,
    /// Where the constants come from (publication, species, normalisation).
    pub source: String,
}

/// Every analysis choice, stored with each case and identified in each result by its hash.
///
/// Missing fields take their defaults when stored settings are read back (`#[serde(default)]`), so settings
/// written by an older version remain readable; the algorithm version still tells the two apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisSettings {
    /// Common analysis rate; channels are resampled to it.
    pub analysis_rate_hz: f64,
    /// Blood density, kg/m^3.
    pub blood_density_kg_m3: f64,
    /// Derivative filter for LV dP/dt (pressure-volume indices, tau, fiducials).
    pub pressure_derivative: SavitzkyGolaySettings,
    /// Beat quality control.
    pub qc: BeatQcSettings,
    /// Steady window defaults.
    pub steady_window: SteadyWindowSettings,
    /// Cardiac-cycle phase fallbacks and the wave-free period.
    pub phases: PhaseSettings,
    /// CDFR reference state, bootstrap and stability flags.
    pub cdfr: CdfrSettings,
    /// Choice of the minimal microvascular resistance.
    pub minimal_resistance: MinimalResistanceChoice,
    /// tau segment end and validity.
    pub tau: TauSettings,
    /// V0 used for end-systole and PVA.
    pub v0: V0Setting,
    /// ESPVR iteration.
    pub espvr: EspvrSettings,
    /// Wave intensity.
    pub wia: WiaSettings,
    /// Vessel diameter for volumetric coronary flow, cm (`None`: flow in mL/min is not reported).
    pub vessel_diameter_cm: Option<f64>,
    /// MVO2 from PVA, only when constants are given (`None`: not estimated).
    pub mvo2: Option<Mvo2Constants>,
}

impl Default for AnalysisSettings {
    fn default() -> AnalysisSettings {
        AnalysisSettings {
            analysis_rate_hz: 1000.0,
            blood_density_kg_m3: crate::model::units::BLOOD_DENSITY_KG_M3,
            pressure_derivative: SavitzkyGolaySettings {
                order: 3,
                frame_ms: 20.0,
            },
            qc: BeatQcSettings {
                rr_tolerance_fraction: 0.20,
                rr_median_beats: 9,
                doppler_dropout_velocity_cm_s: 2.0,
                doppler_dropout_duration_ms: 50.0,
                non_pulsatile_pulse_pressure_mmhg: 10.0,
            },
            steady_window: SteadyWindowSettings {
                min_beats: 10,
                min_duration_s: 15.0,
            },
            phases: PhaseSettings {
                es_fallback_before_dpdt_min_ms: 20.0,
                wfp_start_fraction_of_diastole: 0.25,
                wfp_end_margin_ms: 5.0,
            },
            cdfr: CdfrSettings {
                reference: CdfrReference::EcmoAloneBaseline,
                bootstrap_iterations: 2000,
                bootstrap_seed: 0x4845_5241_434c_4553, // "HERACLES"
                ecmo_flow_change_limit_l_min: 0.5,
                heart_rate_change_limit_fraction: 0.10,
            },
            minimal_resistance: MinimalResistanceChoice::HmrElseWfpMr,
            tau: TauSettings {
                end_above_next_edp_mmhg: 5.0,
                max_volume_change_fraction_of_sv: 0.05,
            },
            v0: V0Setting::FromEspvrElseZero,
            espvr: EspvrSettings {
                v0_tolerance_ml: 0.01,
                max_iterations: 100,
            },
            wia: WiaSettings {
                derivative: SavitzkyGolaySettings {
                    order: 3,
                    frame_ms: 21.0,
                },
                max_velocity_lag_ms: 60.0,
                upstroke_window_ms: 200.0,
            },
            vessel_diameter_cm: None,
            mvo2: None,
        }
    }
}

impl AnalysisSettings {
    /// A short, stable fingerprint of these settings (SHA-256 of their JSON form, first 16 hex digits).
    pub fn hash(&self) -> String {
        // Serialising plain numbers, strings and enums cannot fail; an empty body would still hash consistently.
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&json);
        digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect()
    }

    /// Samples per second as an interval, s.
    pub fn sample_interval_s(&self) -> f64 {
        1.0 / self.analysis_rate_hz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_hash_tracks_changes() {
        let settings = AnalysisSettings::default();
        let json = serde_json::to_string(&settings).unwrap();
        let back: AnalysisSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, settings);
        assert_eq!(back.hash(), settings.hash());
        assert_eq!(settings.hash().len(), 16);
        let mut changed = settings.clone();
        changed.tau.end_above_next_edp_mmhg = 4.0;
        assert_ne!(changed.hash(), settings.hash());
    }

    #[test]
    fn missing_fields_take_defaults() {
        let partial: AnalysisSettings = serde_json::from_str(r#"{"blood_density_kg_m3": 1060.0}"#).unwrap();
        assert_eq!(partial.blood_density_kg_m3, 1060.0);
        assert_eq!(partial.cdfr, AnalysisSettings::default().cdfr);
    }
}
