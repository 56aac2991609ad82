//! Every threshold and window of `signal/` in one serde struct, with the defaults of ENDPOINTS.md sections 1-3.
//! The analysis stores these beside its results, so a re-analysis can reproduce (or explain) every beat.

use serde::{Deserialize, Serialize};

use super::savgol::SavgolSettings;

/// All settings of beat detection, quality control, phases and windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignalSettings {
    /// The common analysis rate, Hz (ENDPOINTS.md section 1).
    pub analysis_rate_hz: f64,
    /// The one derivative method (Savitzky-Golay order and frame).
    pub savgol: SavgolSettings,
    /// Signal needed before a fiducial can start a beat, after the start of a record or a gap, s: the
    /// detectors' filters and thresholds settle, and the beat's preceding diastole is in the record.
    pub lead_in_s: f64,
    /// ECG R-wave detector.
    pub ecg: EcgSettings,
    /// Arterial pulse-onset detector.
    pub onset: OnsetSettings,
    /// LV-pressure end-diastole detector and fiducials.
    pub lv: LvSettings,
    /// Beat quality control.
    pub qc: QcSettings,
    /// Channel usability checks.
    pub usability: UsabilitySettings,
    /// Cardiac-cycle phases.
    pub phases: PhaseSettings,
    /// Steady windows.
    pub window: WindowSettings,
}

impl Default for SignalSettings {
    fn default() -> SignalSettings {
        SignalSettings {
            analysis_rate_hz: 1000.0,
            savgol: SavgolSettings::default(),
            lead_in_s: 0.5,
            ecg: EcgSettings::default(),
            onset: OnsetSettings::default(),
            lv: LvSettings::default(),
            qc: QcSettings::default(),
            usability: UsabilitySettings::default(),
            phases: PhaseSettings::default(),
            window: WindowSettings::default(),
        }
    }
}

/// Pan-Tompkins-type R-wave detection (band-pass, derivative, squaring, moving-window integration, adaptive
/// thresholds, refractory period, T-wave discrimination, search-back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EcgSettings {
    /// Display/conditioning band-pass of the ECG, Hz (ENDPOINTS.md: ~0.5-45 Hz).
    pub display_band_hz: (f64, f64),
    /// QRS-emphasis band used by the detector, Hz (Pan and Tompkins 1985: 5-15 Hz).
    pub qrs_band_hz: (f64, f64),
    /// Moving-window integration length, s.
    pub integration_window_s: f64,
    /// No second QRS within this time, s.
    pub refractory_s: f64,
    /// A peak this soon after a QRS with less than half its slope is a T wave, s.
    pub t_wave_window_s: f64,
    /// Search back for a missed beat when no QRS is found within this multiple of the mean RR.
    pub search_back_rr_factor: f64,
    /// Signal used to initialise the thresholds, s.
    pub learn_s: f64,
    /// Window before the integrator's peak in which the R peak is located on the raw ECG, s.
    pub r_search_window_s: f64,
}

impl Default for EcgSettings {
    fn default() -> EcgSettings {
        EcgSettings {
            display_band_hz: (0.5, 45.0),
            qrs_band_hz: (5.0, 15.0),
            integration_window_s: 0.15,
            refractory_s: 0.2,
            t_wave_window_s: 0.36,
            search_back_rr_factor: 1.66,
            learn_s: 2.0,
            r_search_window_s: 0.25,
        }
    }
}

/// Slope-sum-function pulse-onset detection in the manner of Zong et al. 2003.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnsetSettings {
    /// Low-pass corner applied before the slope sum, Hz.
    pub low_pass_hz: f64,
    /// Slope-sum window, s (Zong: 128 ms; ENDPOINTS.md: 130 ms).
    pub window_s: f64,
    /// No second pulse within this time after a detection, s.
    pub refractory_s: f64,
    /// Signal used to initialise the threshold (3 x mean slope sum), s.
    pub learn_s: f64,
    /// Detection threshold as a fraction of the threshold base (the running slope-sum pulse height).
    pub threshold_fraction: f64,
    /// Weight of each new pulse's slope-sum peak in the threshold base.
    pub base_update_weight: f64,
    /// Window after the threshold crossing in which the slope-sum peak is found, s.
    pub peak_window_s: f64,
    /// Onset: the first sample of the run before the crossing where the slope sum exceeds this fraction of
    /// the pulse's peak.
    pub onset_fraction: f64,
    /// Longest search back from the crossing to the onset, s.
    pub max_search_back_s: f64,
    /// Without a pulse for this long, the threshold base starts to halve every second, s.
    pub decay_after_s: f64,
    /// The threshold never falls below this slope sum, mmHg (so a flat line yields no pulses).
    pub min_threshold_mmhg: f64,
}

impl Default for OnsetSettings {
    fn default() -> OnsetSettings {
        OnsetSettings {
            low_pass_hz: 16.0,
            window_s: 0.13,
            refractory_s: 0.25,
            learn_s: 8.0,
            threshold_fraction: 0.6,
            base_update_weight: 0.25,
            peak_window_s: 0.15,
            onset_fraction: 0.1,
            max_search_back_s: 0.3,
            decay_after_s: 2.0,
            min_threshold_mmhg: 3.0,
        }
    }
}

/// LV-pressure fiducials (ENDPOINTS.md sections 2-3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LvSettings {
    /// End-diastole fallback: the first sample before dP/dt max where dP/dt exceeds this fraction of dP/dt max.
    pub ed_dpdt_fraction: f64,
    /// Upstroke detection threshold as a fraction of the running dP/dt max.
    pub threshold_fraction: f64,
    /// Weight of each new beat's dP/dt max in the running value.
    pub base_update_weight: f64,
    /// Signal used to initialise the running dP/dt max, s.
    pub learn_s: f64,
    /// No second upstroke within this time, s.
    pub refractory_s: f64,
    /// Window after the threshold crossing in which dP/dt max is found, s.
    pub peak_window_s: f64,
    /// Longest search back from dP/dt max to end-diastole, s.
    pub max_search_back_s: f64,
    /// Without an upstroke for this long, the running dP/dt max starts to halve every second, s.
    pub decay_after_s: f64,
    /// The detection threshold never falls below this dP/dt, mmHg/s.
    pub min_threshold_mmhg_s: f64,
}

impl Default for LvSettings {
    fn default() -> LvSettings {
        LvSettings {
            ed_dpdt_fraction: 0.10,
            threshold_fraction: 0.4,
            base_update_weight: 0.25,
            learn_s: 3.0,
            refractory_s: 0.25,
            peak_window_s: 0.15,
            max_search_back_s: 0.3,
            decay_after_s: 2.0,
            min_threshold_mmhg_s: 50.0,
        }
    }
}

/// Beat quality control (ENDPOINTS.md section 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QcSettings {
    /// In a regular rhythm, reject a beat (and the next) whose RR differs from the local median by more than
    /// this fraction (a premature beat followed by a pause: the ectopic pattern, see [`super::qc`]).
    pub rr_tolerance: f64,
    /// Beats in the local median (the beat and the ones before it; the first beats of a record use the first
    /// this many).
    pub rr_median_beats: usize,
    /// Doppler dropout: velocity below this, cm/s ...
    pub dropout_velocity_cm_s: f64,
    /// ... for longer than this in diastole, s.
    pub dropout_duration_s: f64,
    /// Non-pulsatile: arterial pulse pressure over the beat below this, mmHg.
    pub non_pulsatile_pp_mmhg: f64,
    /// Damping: pulse pressure below this fraction of the local median ...
    pub damping_pp_fraction: f64,
    /// ... while the mean pressure stays within this fraction of the local median mean.
    pub damping_mean_tolerance: f64,
    /// Longest plausible beat, s (HR 20/min); a longer beat is an RR outlier whatever the median or rhythm.
    pub max_beat_s: f64,
    /// Shortest plausible beat, s (HR 240/min); a shorter one is an artefact (an RR outlier) in any rhythm.
    pub min_beat_s: f64,
    /// Beats over which the rhythm's irregularity is measured (the beat and the ones before it; the first beats
    /// of a record use the first this many).
    pub rhythm_window_beats: usize,
    /// The rhythm is irregular (AF-like) when the median absolute successive RR difference over the rhythm
    /// window exceeds this fraction of the median RR.
    pub irregular_rr_fraction: f64,
    /// Flat pressure: the range of a pressure channel over the beat, after a moving mean over `flat_smooth_s`
    /// (which takes most of the noise away), below this, mmHg, at a mean more than `damping_mean_tolerance`
    /// from the local median mean: a transducer opened to air or to the flush. (An Impella with ECMO can leave
    /// the aortic pulse at 0.4 mmHg: physiology, at the patient's mean pressure.)
    pub flat_range_mmhg: f64,
    /// See `flat_range_mmhg`, s.
    pub flat_smooth_s: f64,
    /// Clipped pressure: a run of identical samples at the beat's maximum (the upper rail) at least this long, s ...
    pub clip_run_s: f64,
    /// ... entered or left by a step at least this many times the beat's smallest non-zero sample step (a
    /// signal cut at a rail arrives at speed; a quantised peak rounds over it one step at a time).
    pub clip_edge_steps: f64,
    /// A beat shorter than `min_beat_s` counts as a beat only when a new pressure pulse starts within this
    /// after its end (a fall, then a rise, each at least `pulse_rise_fraction` of the pressure's range);
    /// otherwise it is a double detection and merged with the next beat, s.
    pub pulse_check_s: f64,
    /// See `pulse_check_s`.
    pub pulse_rise_fraction: f64,
}

impl Default for QcSettings {
    fn default() -> QcSettings {
        QcSettings {
            rr_tolerance: 0.2,
            rr_median_beats: 9,
            dropout_velocity_cm_s: 2.0,
            dropout_duration_s: 0.05,
            non_pulsatile_pp_mmhg: 10.0,
            damping_pp_fraction: 0.5,
            damping_mean_tolerance: 0.15,
            max_beat_s: 3.0,
            min_beat_s: 0.25,
            rhythm_window_beats: 64,
            irregular_rr_fraction: 0.067,
            flat_range_mmhg: 1.0,
            flat_smooth_s: 0.02,
            clip_run_s: 0.03,
            clip_edge_steps: 3.0,
            pulse_check_s: 0.3,
            pulse_rise_fraction: 0.3,
        }
    }
}

/// Channel usability checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsabilitySettings {
    /// Shortest record that can hold beats, s.
    pub min_duration_s: f64,
    /// A channel whose standard deviation is below this is flat (mmHg for pressures).
    pub flat_pressure_mmhg: f64,
    /// Flat ECG (standard deviation, in the channel's units).
    pub flat_ecg: f64,
    /// Flat Doppler velocity, cm/s.
    pub flat_velocity_cm_s: f64,
    /// Flat volume, mL.
    pub flat_volume_ml: f64,
    /// Band edge of the noise test, Hz.
    pub noise_band_hz: f64,
    /// A channel with less than this fraction of its power below `noise_band_hz` is noise.
    pub min_low_band_fraction: f64,
    /// A pressure channel whose mean is below this is implausible (negative mean arterial pressure), mmHg.
    pub min_mean_pressure_mmhg: f64,
    /// ... or above this, mmHg.
    pub max_mean_pressure_mmhg: f64,
    /// A channel missing more than this fraction of its samples is unusable.
    pub max_missing_fraction: f64,
    /// Fraction of accepted beats below which a fiducial channel's detections are not trusted, and the next
    /// channel in priority is tried.
    pub min_accepted_fraction: f64,
}

impl Default for UsabilitySettings {
    fn default() -> UsabilitySettings {
        UsabilitySettings {
            min_duration_s: 1.5,
            flat_pressure_mmhg: 0.5,
            flat_ecg: 1e-3,
            flat_velocity_cm_s: 0.5,
            flat_volume_ml: 0.5,
            noise_band_hz: 20.0,
            min_low_band_fraction: 0.6,
            min_mean_pressure_mmhg: 0.0,
            max_mean_pressure_mmhg: 250.0,
            max_missing_fraction: 0.5,
            min_accepted_fraction: 0.5,
        }
    }
}

/// Cardiac-cycle phases (ENDPOINTS.md section 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhaseSettings {
    /// The wave-free period starts this fraction into diastole ...
    pub wfp_start_fraction: f64,
    /// ... and ends this long before the end of diastole, s.
    pub wfp_end_margin_s: f64,
    /// End-systole fallback: dP/dt min minus this, s.
    pub es_before_dpdt_min_s: f64,
    /// The dicrotic notch is searched from this long after the systolic peak ...
    pub notch_after_peak_s: f64,
    /// ... to this fraction of the time from the systolic peak to the end of the beat.
    pub notch_search_fraction: f64,
    /// With aortic pressure alone, the sharpest upward bend of the notch search is a dicrotic notch (the valve's
    /// incisura) only if its curvature is at least this many times the sharpest bend anywhere else in the search
    /// (further than `notch_isolation_s` from it). A smooth decay, a damped or peripheral line and sensor noise
    /// have no such bend: their beats are left untimed rather than ended at a point that is not the valve.
    pub notch_prominence: f64,
    /// See `notch_prominence`, s.
    pub notch_isolation_s: f64,
    /// A notch within this of the LV-aortic pressure crossover confirms it, s.
    pub notch_confirm_s: f64,
    /// The aortic valve counts as open in a beat when LV minus aortic pressure (smoothed) exceeds this, mmHg.
    pub crossover_open_mmhg: f64,
    /// LV dP/dt min ending systole without ejection is the vertex of a parabola fitted to dP/dt over this either
    /// side of its minimum, s.
    pub dpdt_min_fit_s: f64,
    /// ... and is taken only when the pressure noise leaves the 95 % interval of its time within this either side
    /// (else the beat's relaxation is not identifiable and it is not timed), s.
    pub dpdt_min_uncertainty_s: f64,
    /// Valve closure after the LV-aortic crossover: the step of the curvature of LV minus aortic pressure is
    /// fitted over this either side of each candidate sample, s ...
    pub closure_kink_half_s: f64,
    /// ... candidates from this long before the crossover ...
    pub closure_kink_before_s: f64,
    /// ... to where smoothed LV pressure has fallen this far below aortic pressure, mmHg ...
    pub closure_kink_separation_mmhg: f64,
    /// ... and the step must be steeper than this downwards, mmHg/s^2, and later than the crossover by more than
    /// `closure_kink_min_delay_s` (else the crossover stands).
    pub closure_kink_min_mmhg_s2: f64,
    /// See `closure_kink_min_mmhg_s2`, s.
    pub closure_kink_min_delay_s: f64,
    /// Aortic pressure rising this much in diastole above its lowest value since systole is a balloon
    /// inflation, mmHg.
    pub balloon_rise_mmhg: f64,
    /// The systolic peak is the first local maximum of aortic pressure that stands this far above what follows,
    /// mmHg.
    pub peak_prominence_mmhg: f64,
}

impl Default for PhaseSettings {
    fn default() -> PhaseSettings {
        PhaseSettings {
            wfp_start_fraction: 0.25,
            wfp_end_margin_s: 0.005,
            es_before_dpdt_min_s: 0.020,
            notch_after_peak_s: 0.02,
            notch_search_fraction: 0.6,
            notch_prominence: 3.0,
            notch_isolation_s: 0.03,
            notch_confirm_s: 0.02,
            crossover_open_mmhg: 0.0,
            dpdt_min_fit_s: 0.06,
            dpdt_min_uncertainty_s: 0.005,
            closure_kink_half_s: 0.04,
            closure_kink_before_s: 0.005,
            closure_kink_separation_mmhg: 1.0,
            closure_kink_min_mmhg_s2: 3000.0,
            closure_kink_min_delay_s: 0.004,
            balloon_rise_mmhg: 4.0,
            peak_prominence_mmhg: 1.0,
        }
    }
}

/// Steady windows (ENDPOINTS.md section 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WindowSettings {
    /// At least this many accepted consecutive beats ...
    pub min_beats: usize,
    /// ... covering at least this long (one ventilator cycle), s.
    pub min_duration_s: f64,
}

impl Default for WindowSettings {
    fn default() -> WindowSettings {
        WindowSettings {
            min_beats: 10,
            min_duration_s: 15.0,
        }
    }
}

/// Samples in `seconds` at `sample_rate_hz` (rounded, at least 1).
pub(crate) fn samples_from_s(seconds: f64, sample_rate_hz: f64) -> usize {
    let n = (seconds * sample_rate_hz).round();
    if n.is_finite() && n >= 1.0 { n as usize } else { 1 }
}
