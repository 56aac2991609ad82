//! Every [choice] of ENDPOINTS.md as one stored, versioned settings value. A case is re-analysed with the settings
//! stored beside it; [`AnalysisSettings::hash`] identifies them in every result.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::signal::SignalSettings;
use crate::signal::savgol::SavgolSettings;

/// Version of the analysis algorithms. Bump it whenever a change can alter any number computed from the same
/// samples and settings, so a stored result says which code produced it.
pub const ALGORITHM_VERSION: &str = "heracles-analysis 1.7.1";

/// The state CDFR divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CdfrReference {
    /// VA-ECMO alone, before the unloading device goes in (the trial's default).
    EcmoAloneBaseline,
    /// Within-session: the device at minimum support after unloading, the post-unloading coronary step's resting
    /// window at minimum support (IABP on standby; Impella at its lowest level above P-0, since at P-0 blood
    /// flows back through the pump).
    DeviceStandby,
}

impl CdfrReference {
    /// The reference in words, as the review's chooser and every CDFR result say it.
    pub fn label(self) -> &'static str {
        match self {
            CdfrReference::EcmoAloneBaseline => "baseline (VA-ECMO alone)",
            CdfrReference::DeviceStandby => {
                "within the session: device at minimum support (IABP standby, Impella lowest level above P-0)"
            }
        }
    }
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
    /// [choice] Length of the bootstrap's blocks of consecutive beats, s (about one ventilator cycle: 60/14 s at
    /// 14 breaths/min, so 5 s by default); turned into beats by each state's median RR. Consecutive beats of a
    /// ventilated patient are correlated, and resampling single beats gives too narrow an interval.
    #[serde(default = "default_bootstrap_block_s")]
    pub bootstrap_block_s: f64,
    /// Flag the result when ECMO flow differs between the states by more than this.
    pub ecmo_flow_change_limit_l_min: f64,
    /// Flag the result when heart rate differs between the states by more than this fraction.
    pub heart_rate_change_limit_fraction: f64,
}

/// The default bootstrap block, s (settings stored before the block bootstrap read back with it).
fn default_bootstrap_block_s() -> f64 {
    5.0
}

/// How the minimal microvascular resistance (secondary endpoint) is chosen. The rule is applied to both states
/// of a case together, so that baseline and post-unloading are always the same kind of resistance (ENDPOINTS.md
/// section 4: under a pumping balloon the wave-free period is not wave-free, so WFP-MR on the IABP arm is not the
/// quantity it is on the Impella arm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinimalResistanceChoice {
    /// HMR when both states have a hyperaemic window, else BMR in both (the trial's default: BMR averages whole
    /// beats, so it means the same with and without a balloon).
    HmrElseBmr,
    /// HMR when both states have a hyperaemic window, else WFP-MR in both (refused when a balloon pumps).
    HmrElseWfpMr,
    /// Always HMR (refused when a state has no hyperaemic window).
    Hmr,
    /// Always BMR.
    Bmr,
    /// Always WFP-MR (refused when a balloon pumps).
    WfpMr,
}

impl MinimalResistanceChoice {
    /// Every rule.
    pub const ALL: [MinimalResistanceChoice; 5] = [
        MinimalResistanceChoice::HmrElseBmr,
        MinimalResistanceChoice::HmrElseWfpMr,
        MinimalResistanceChoice::Hmr,
        MinimalResistanceChoice::Bmr,
        MinimalResistanceChoice::WfpMr,
    ];

    /// The rule in words.
    pub fn label(self) -> &'static str {
        match self {
            MinimalResistanceChoice::HmrElseBmr => "HMR where both states have hyperaemia, else BMR in both",
            MinimalResistanceChoice::HmrElseWfpMr => {
                "HMR where both states have hyperaemia, else WFP-MR in both"
            }
            MinimalResistanceChoice::Hmr => "HMR in both states",
            MinimalResistanceChoice::Bmr => "BMR in both states",
            MinimalResistanceChoice::WfpMr => "WFP-MR in both states",
        }
    }

    /// Whether the rule can use the wave-free period (not valid under a pumping balloon).
    pub fn uses_wave_free_period(self) -> bool {
        matches!(
            self,
            MinimalResistanceChoice::HmrElseWfpMr | MinimalResistanceChoice::WfpMr
        )
    }
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
    /// A fixed value entered by hand.
    Fixed {
        /// The intercept, mL.
        v0_ml: f64,
    },
    /// The V0 of the case's ESPVR (the baseline preload reduction), kept for every other window of the case
    /// (V0 must stay fixed within a patient).
    CaseEspvr {
        /// The intercept, mL.
        v0_ml: f64,
        /// The analysis window whose ESPVR gave it.
        window_id: i64,
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
    pub derivative: SavgolSettings,
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

impl Mvo2Constants {
    /// The constants in words with their units and source, as every MVO2 result and the case's choices echo them.
    pub fn describe(&self) -> String {
        format!(
            "a = {} mL O2/(mmHg.mL), b = {} mL O2/beat ({})",
            self.ml_o2_per_mmhg_ml, self.ml_o2_per_beat, self.source
        )
    }
}

/// Every analysis choice, stored with each case and identified in each result by its hash.
///
/// Missing fields take their defaults when stored settings are read back (`#[serde(default)]`), so settings
/// written by an older version remain readable; the algorithm version still tells the two apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisSettings {
    /// Beat detection, quality control, phases, steady windows and the dP/dt method (`signal/`), including the
    /// common analysis rate.
    pub signal: SignalSettings,
    /// Blood density, kg/m^3.
    pub blood_density_kg_m3: f64,
    /// Smooth LV pressure and volume with the stored Savitzky-Golay filter (the local cubic whose slope is
    /// dP/dt) before the per-beat pressure-volume indices: sample noise in volume otherwise biases the maximum
    /// of P/(V - V0) when V0 lies close to ESV.
    pub smooth_pressure_volume: bool,
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
    /// The horizons of the clinical endpoints (48 h, 30 days, 30 days by default), a trial setting.
    pub clinical: super::clinical::ClinicalHorizons,
}

impl Default for AnalysisSettings {
    fn default() -> AnalysisSettings {
        AnalysisSettings {
            signal: SignalSettings::default(),
            blood_density_kg_m3: crate::model::units::BLOOD_DENSITY_KG_M3,
            smooth_pressure_volume: true,
            cdfr: CdfrSettings {
                reference: CdfrReference::EcmoAloneBaseline,
                bootstrap_iterations: 2000,
                bootstrap_seed: 0x4845_5241_434c_4553, // "HERACLES"
                bootstrap_block_s: default_bootstrap_block_s(),
                ecmo_flow_change_limit_l_min: 0.5,
                heart_rate_change_limit_fraction: 0.10,
            },
            minimal_resistance: MinimalResistanceChoice::HmrElseBmr,
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
                derivative: SavgolSettings {
                    order: 3,
                    frame_ms: 21.0,
                },
                max_velocity_lag_ms: 60.0,
                upstroke_window_ms: 200.0,
            },
            vessel_diameter_cm: None,
            mvo2: None,
            clinical: super::clinical::ClinicalHorizons::default(),
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

    /// The common analysis rate, Hz.
    pub fn analysis_rate_hz(&self) -> f64 {
        self.signal.analysis_rate_hz
    }

    /// The analysis sample interval, s.
    pub fn sample_interval_s(&self) -> f64 {
        1.0 / self.signal.analysis_rate_hz
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
