//! Cardiac-cycle phases of one beat (ENDPOINTS.md section 3): end-diastole, systolic peak and dicrotic notch on
//! aortic pressure, LV dP/dt max/min, the systole/diastole boundary, the wave-free period and the end-systole
//! fallback.
//!
//! Rules:
//! - end-diastole (ED) is the beat's start when the beat is anchored on the ECG R peak or on the LV dP/dt rule;
//!   for beats anchored on the arterial onset, ED comes from the LV dP/dt rule when LV pressure exists, else it
//!   is unknown (the onset, i.e. the start of ejection, is later than ED by the pre-ejection period);
//! - systole ends at the dicrotic notch of a pulsatile aortic trace; when the beat is non-pulsatile, or there is
//!   no aortic trace, at LV dP/dt min; with neither there are no phases ([`PhaseError::NoReference`]);
//! - diastole runs from the end of systole to the beat's end (the next fiducial);
//! - wave-free period: from 25 % into diastole to 5 ms before its end;
//! - dicrotic notch [choice]: the maximum of the Savitzky-Golay second derivative of aortic pressure (the
//!   sharpest upward bend, which is also where a local minimum or the IABP inflation is) between 20 ms after the
//!   systolic peak and 60 % of the way from the peak to the beat's end; systolic peak = maximum of the first
//!   60 % of the beat.
//!
//! Every computation looks only at the beat and a fixed margin around it ([`margin_samples`]), so the online
//! tracker (recent history) and offline analysis (whole arrays) get identical phases.

use serde::{Deserialize, Serialize};

use super::lv::{LvFiducials, beat_fiducials};
use super::savgol::SavgolFilter;
use super::settings::{SignalSettings, samples_from_s};
use super::signals::Signals;
use crate::model::{Beat, Fiducial};

/// What ends systole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SystoleEnd {
    /// The dicrotic notch on a pulsatile aortic trace.
    DicroticNotch,
    /// LV dP/dt min (non-pulsatile beat or no aortic trace).
    LvDpdtMin,
}

/// Why a beat has no phases.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum PhaseError {
    /// Neither a pulsatile aortic trace nor LV pressure is available for the beat.
    #[error("no pulsatile aortic pressure and no LV pressure to time systole")]
    NoReference,
    /// Samples are missing in the channel that times systole.
    #[error("samples missing in the channel that times systole")]
    MissingSamples,
    /// The beat is too short for the rules (e.g. diastole shorter than the margins).
    #[error("beat too short to place its phases")]
    TooShort,
}

/// The phases of one beat (sample indices at the analysis rate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatPhases {
    /// End-diastole, when known (see the module rules).
    pub end_diastole: Option<u64>,
    /// Start of systole: end-diastole when known, else the beat's start (the arterial onset).
    pub systole_start: u64,
    /// Systolic peak of the aortic trace (pulsatile beats).
    pub systolic_peak: Option<u64>,
    /// Dicrotic notch (pulsatile beats).
    pub dicrotic_notch: Option<u64>,
    /// LV pressure fiducials, when LV pressure exists.
    pub lv: Option<LvFiducials>,
    /// End of systole = start of diastole.
    pub systole_end: u64,
    /// What `systole_end` is.
    pub systole_end_method: SystoleEnd,
    /// End of diastole (exclusive) = the beat's end.
    pub diastole_end: u64,
    /// Wave-free period `[start, end)`, when diastole is long enough.
    pub wave_free: Option<(u64, u64)>,
    /// End-systole fallback (dP/dt min - 20 ms), when LV pressure exists; the analysis prefers
    /// max P/(V - V0) when volume exists.
    pub end_systole_fallback: Option<u64>,
}

/// Samples of context the phase rules need before a beat's start and after its end: the derivative's half frame
/// plus the LV end-diastole search back.
pub fn margin_samples(sample_rate_hz: f64, settings: &SignalSettings) -> (u64, u64) {
    let half = (settings.savgol.frame_len(sample_rate_hz) / 2) as u64;
    let back = samples_from_s(settings.lv.max_search_back_s, sample_rate_hz) as u64;
    (half + back, half + 1)
}

/// The Savitzky-Golay derivative of `channel` (slice of `signals`) over `[from, to)` plus the filter's
/// half-width on each side (clipped to what exists); returns the derivative and the index of its first sample.
fn derivative_around(
    channel: &[f64],
    first_sample: u64,
    from: u64,
    to: u64,
    filter: &SavgolFilter,
) -> (Vec<f64>, u64) {
    let half = filter.half_width() as u64;
    let end = first_sample + channel.len() as u64;
    let a = from.saturating_sub(half).max(first_sample);
    let b = (to + half).min(end).max(a);
    let slice = &channel[(a - first_sample) as usize..(b - first_sample) as usize];
    (filter.apply(slice), a)
}

/// Whether the arterial pulse pressure over `[start, end)` is below the pulsatility threshold (`None` when
/// there is no aortic trace or samples are missing).
pub fn is_non_pulsatile(signals: &Signals, start: u64, end: u64, threshold_mmhg: f64) -> Option<bool> {
    let pa = signals.window(start, end).pa?;
    if pa.is_empty() || pa.iter().any(|v| v.is_nan()) {
        return None;
    }
    let (min, max) = pa
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    Some(max - min < threshold_mmhg)
}

/// The Savitzky-Golay filters the phase rules use (LV dP/dt and the aortic second derivative), built once for
/// many beats: building one solves its least-squares weights, which cost more than filtering a beat.
#[derive(Clone, Debug)]
pub struct PhaseFilters {
    /// First derivative (`None` when the settings give no valid filter at this rate).
    first: Option<SavgolFilter>,
    /// Second derivative (same).
    second: Option<SavgolFilter>,
}

impl PhaseFilters {
    /// The filters of `settings` at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64, settings: &SignalSettings) -> PhaseFilters {
        let filter =
            |derivative| SavgolFilter::from_settings(&settings.savgol, derivative, sample_rate_hz).ok();
        PhaseFilters {
            first: filter(1),
            second: filter(2),
        }
    }
}

/// The phases of `beat`, from whatever of `signals` exists (see the module rules).
pub fn beat_phases(
    signals: &Signals,
    beat: &Beat,
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<BeatPhases, PhaseError> {
    beat_phases_with(
        &PhaseFilters::new(sample_rate_hz, settings),
        signals,
        beat,
        sample_rate_hz,
        settings,
    )
}

/// [`beat_phases`] with filters built beforehand by [`PhaseFilters::new`] for the same rate and settings.
pub fn beat_phases_with(
    filters: &PhaseFilters,
    signals: &Signals,
    beat: &Beat,
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<BeatPhases, PhaseError> {
    let (start, end) = (beat.start, beat.end);
    if end <= start + 2 {
        return Err(PhaseError::TooShort);
    }
    let (left, right) = margin_samples(sample_rate_hz, settings);
    let view = signals.window(start.saturating_sub(left), end + right);
    let phases = &settings.phases;

    let lv = match view.lvp {
        Some(lvp) => {
            let filter = filters.first.as_ref().ok_or(PhaseError::TooShort)?;
            let (dpdt, first) =
                derivative_around(lvp, view.first_sample, start.saturating_sub(left), end, filter);
            let search_from = start.saturating_sub(left - filter.half_width() as u64);
            beat_fiducials(
                &dpdt,
                first,
                start,
                end,
                search_from,
                settings.lv.ed_dpdt_fraction,
            )
        }
        None => None,
    };
    let end_diastole = match beat.fiducial {
        Fiducial::RWave | Fiducial::LvEndDiastole => Some(start),
        Fiducial::PressureOnset => lv.map(|f| f.dpdt_end_diastole_index),
    };
    let pulsatile = is_non_pulsatile(&view, start, end, settings.qc.non_pulsatile_pp_mmhg) == Some(false);
    let (systolic_peak, notch) = if pulsatile {
        match view.pa {
            Some(pa) => aortic_points(
                pa,
                view.first_sample,
                start,
                end,
                sample_rate_hz,
                settings,
                filters.second.as_ref(),
            )?,
            None => (None, None),
        }
    } else {
        (None, None)
    };
    let (systole_end, systole_end_method) = match (notch, lv) {
        (Some(notch), _) => (notch, SystoleEnd::DicroticNotch),
        (None, Some(lv)) => (lv.dpdt_min_index, SystoleEnd::LvDpdtMin),
        (None, None) if view.lvp.is_some() || (pulsatile && view.pa.is_some()) => {
            return Err(PhaseError::MissingSamples);
        }
        (None, None) => return Err(PhaseError::NoReference),
    };
    let diastole = end.saturating_sub(systole_end);
    let wfp_start = systole_end + (phases.wfp_start_fraction * diastole as f64).round() as u64;
    let wfp_end = end.saturating_sub((phases.wfp_end_margin_s * sample_rate_hz).round() as u64);
    let es_offset = (phases.es_before_dpdt_min_s * sample_rate_hz).round() as u64;
    Ok(BeatPhases {
        end_diastole,
        systole_start: end_diastole.unwrap_or(start),
        systolic_peak,
        dicrotic_notch: notch,
        lv,
        systole_end,
        systole_end_method,
        diastole_end: end,
        wave_free: (wfp_end > wfp_start).then_some((wfp_start, wfp_end)),
        end_systole_fallback: lv.map(|f| f.dpdt_min_index.saturating_sub(es_offset).max(start)),
    })
}

/// Systolic peak and dicrotic notch of a pulsatile aortic beat.
fn aortic_points(
    pa: &[f64],
    first_sample: u64,
    start: u64,
    end: u64,
    sample_rate_hz: f64,
    settings: &SignalSettings,
    second_derivative: Option<&SavgolFilter>,
) -> Result<(Option<u64>, Option<u64>), PhaseError> {
    let at = |i: u64| pa[(i - first_sample) as usize];
    let peak_search_end = start + ((end - start) as f64 * 0.6).round() as u64;
    let peak = (start..peak_search_end.max(start + 1))
        .max_by(|&a, &b| at(a).total_cmp(&at(b)))
        .unwrap_or(start);
    let from = peak + (settings.phases.notch_after_peak_s * sample_rate_hz).round() as u64;
    let to = peak + ((end - peak) as f64 * settings.phases.notch_search_fraction).round() as u64;
    if to <= from + 2 {
        return Ok((Some(peak), None));
    }
    let filter = second_derivative.ok_or(PhaseError::TooShort)?;
    let (second, first) = derivative_around(pa, first_sample, from, to, filter);
    let notch = (from..to)
        .filter_map(|i| second.get((i - first) as usize).map(|v| (i, *v)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    Ok((Some(peak), notch))
}
