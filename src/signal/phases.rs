//! Cardiac-cycle phases of one beat (ENDPOINTS.md section 3): end-diastole, systolic peak and dicrotic notch on
//! aortic pressure, LV dP/dt max/min, aortic-valve closure, the systole/diastole boundary, the wave-free period,
//! the end-systole fallback, and balloon (IABP) inflation recognised on the waveform.
//!
//! One rule for every beat on every arm (no device, IABP, Impella, full ECMO flow), chosen per beat from what is
//! recorded and trustworthy, and recorded in [`BeatPhases::systole_end_method`]:
//! - LV and aortic pressure both recorded: systole ends at aortic-valve closure, the end of the LV-aortic pressure
//!   crossover after ejection ([`SystoleEnd::PressureCrossover`]; see [`crossover`] for transducer offsets),
//!   moved later to the kink where LV pressure leaves the aorta when the fluid-filled aortic line's delay made
//!   the crossover early ([`SystoleEnd::CrossoverKink`], [`closure_kink`]); the dicrotic notch, when one is
//!   found near it, confirms it ([`BeatPhases::notch_confirms`]). When LV pressure never reaches aortic pressure
//!   the valve does not open: systole ends at LV dP/dt min ([`SystoleEnd::LvDpdtMin`]), unless its trough is too
//!   flat for LV pressure's noise to time it within [`super::settings::PhaseSettings::dpdt_min_uncertainty_s`]
//!   ([`PhaseError::RelaxationNotIdentifiable`]: left out of diastolic endpoints and counted);
//! - aortic pressure alone: the dicrotic notch ([`SystoleEnd::DicroticNotch`]) after the first systolic peak, never
//!   after a balloon's augmentation; a beat whose pulse a balloon augments has no phases
//!   ([`PhaseError::BalloonWithoutLvPressure`]: the notch and the inflation cannot be told apart without LV
//!   pressure or the console's timing), so it is left out of diastolic endpoints and counted;
//! - LV pressure alone: LV dP/dt min, labelled as such ([`SystoleEnd::LvDpdtMinWithoutAorta`]: later than valve
//!   closure by the isovolumic relaxation);
//! - end-diastole (ED) is the beat's start when the beat is anchored on the ECG R peak or on the LV dP/dt rule;
//!   for beats anchored on the arterial onset, ED comes from the LV dP/dt rule when LV pressure exists, else it
//!   is unknown (the onset, i.e. the start of ejection, is later than ED by the pre-ejection period);
//! - diastole runs from the end of systole to the beat's end (the next fiducial);
//! - wave-free period: from 25 % into diastole to 5 ms before its end;
//! - dicrotic notch [choice]: the maximum of the Savitzky-Golay second derivative of aortic pressure (the
//!   sharpest upward bend) between 20 ms after the systolic peak and 60 % of the way from the peak to the beat's
//!   end; systolic peak = the first local maximum of the smoothed aortic pressure after the beat's start
//!   (the highest pressure of the beat is the balloon's augmentation under an IABP);
//! - balloon inflation [choice]: aortic pressure rising again in diastole, by more than
//!   [`super::settings::PhaseSettings::balloon_rise_mmhg`] above its lowest value since the systolic peak (or
//!   since valve closure, with LV pressure): a windkessel on ECMO only falls in diastole. The inflation is the
//!   sharpest upward bend before that rise.
//!
//! Every computation looks only at the beat and a fixed margin around it ([`margin_samples`]), so the online
//! tracker (recent history) and offline analysis (whole arrays) get identical phases.

use serde::{Deserialize, Serialize};

use super::lv::{LvFiducials, beat_fiducials};
use super::qc::median;
use super::savgol::SavgolFilter;
use super::settings::{SignalSettings, samples_from_s};
use super::signals::Signals;
use crate::model::{Beat, Fiducial};

/// What ends systole in a beat: the rule that was used (ENDPOINTS.md section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SystoleEnd {
    /// Aortic-valve closure at the end of the LV-aortic pressure crossover after ejection (LV and aortic
    /// pressure recorded).
    PressureCrossover,
    /// Aortic-valve closure at the kink where LV pressure leaves aortic pressure (the curvature of LV minus
    /// aortic pressure steps down when outflow stops), found after the LV-aortic pressure crossover, which a
    /// fluid-filled aortic line moves early (LV and aortic pressure recorded; docs/methods.md section 3).
    CrossoverKink,
    /// The dicrotic notch of the aortic trace (aortic pressure alone, pulse not augmented by a balloon).
    DicroticNotch,
    /// LV dP/dt min: the aortic valve does not open in the beat (LV pressure never reaches aortic pressure, or
    /// no pulse at all on the aortic trace).
    LvDpdtMin,
    /// LV dP/dt min because no aortic pressure is recorded: valve closure cannot be seen, and this is later than
    /// it by the isovolumic relaxation.
    LvDpdtMinWithoutAorta,
}

impl SystoleEnd {
    /// A short key for tables and exports.
    pub fn key(self) -> &'static str {
        match self {
            SystoleEnd::PressureCrossover => "lv_aortic_crossover",
            SystoleEnd::CrossoverKink => "lv_aortic_crossover_kink",
            SystoleEnd::DicroticNotch => "dicrotic_notch",
            SystoleEnd::LvDpdtMin => "lv_dpdt_min_no_ejection",
            SystoleEnd::LvDpdtMinWithoutAorta => "lv_dpdt_min_no_aortic_pressure",
        }
    }
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
    /// There is no LV pressure and no bend of the aortic pressure stands out as the valve's incisura (a smooth
    /// decay, a damped or peripheral line, noise): systole is not timed rather than ended at an arbitrary point.
    #[error("no dicrotic notch in the aortic pressure and no LV pressure: systole cannot be timed")]
    NoNotch,
    /// A balloon augments the aortic pulse and there is no LV pressure: the notch cannot be told from the
    /// inflation (the balloon's timing is unknown), so systole is not timed rather than guessed.
    #[error(
        "the aortic pulse rises twice (balloon augmentation or a ringing line) and there is no LV pressure: systole \
         cannot be timed"
    )]
    BalloonWithoutLvPressure,
    /// The aortic valve does not open and LV dP/dt min, which then ends systole, is too flat for the noise of LV
    /// pressure to time it: the 95 % interval of its time is wider than
    /// [`super::settings::PhaseSettings::dpdt_min_uncertainty_s`] either side (LV suction: a relaxation of a few
    /// mmHg), so systole is not timed rather than ended anywhere along the trough.
    #[error(
        "the aortic valve does not open and LV dP/dt min is too flat for the pressure noise to time it: relaxation \
         not identifiable"
    )]
    RelaxationNotIdentifiable,
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
    /// Dicrotic notch, when one is found (with LV pressure: only a notch near valve closure that confirms it).
    pub dicrotic_notch: Option<u64>,
    /// Whether a dicrotic notch was found within [`super::settings::PhaseSettings::notch_confirm_s`] of the
    /// pressure crossover (`None` when the crossover was not the rule).
    pub notch_confirms: Option<bool>,
    /// Start of a balloon inflation recognised in the beat's diastole, if any.
    pub balloon_inflation: Option<u64>,
    /// LV pressure fiducials, when LV pressure exists.
    pub lv: Option<LvFiducials>,
    /// End of systole = start of diastole.
    pub systole_end: u64,
    /// The rule that placed `systole_end`.
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

/// The Savitzky-Golay derivative of `channel` (slice of a view whose first sample is `first_sample`) at the
/// samples `[from, to)` (clipped to the channel), and the index of its first value: the outputs that the filter
/// run over `[from, to)` plus its half-width on each side (clipped to what exists) gives there, bit for bit
/// ([`derivative_around_shared`] returns that whole span), without computing the half frames around the
/// stretch, which no rule reading only `[from, to)` needs.
fn derivative_around(
    channel: &[f64],
    first_sample: u64,
    from: u64,
    to: u64,
    filter: &SavgolFilter,
) -> (Vec<f64>, u64) {
    let (a, b) = filter_span(channel, first_sample, from, to, filter);
    let lo = from.clamp(a, b);
    let hi = to.clamp(lo, b);
    let slice = &channel[(a - first_sample) as usize..(b - first_sample) as usize];
    (filter.apply_part(slice, (lo - a) as usize..(hi - a) as usize), lo)
}

/// The span `[a, b)` a filter runs over to give its outputs over `[from, to)` of `channel` (first sample
/// `first_sample`): the filter's half-width on each side, clipped to the channel.
fn filter_span(channel: &[f64], first_sample: u64, from: u64, to: u64, filter: &SavgolFilter) -> (u64, u64) {
    let half = filter.half_width() as u64;
    let end = first_sample + channel.len() as u64;
    let a = from.saturating_sub(half).max(first_sample);
    (a, (to + half).min(end).max(a))
}

/// A whole channel with the output of one of [`PhaseFilters`]' filters over all of it.
#[derive(Clone, Copy)]
struct Filtered<'a> {
    samples: &'a [f64],
    output: &'a [f64],
    first_sample: u64,
}

impl<'a> Filtered<'a> {
    /// `channel` of `signals` with `output`, when both exist and have the same length.
    fn of(signals: &Signals, channel: Option<&'a [f64]>, output: Option<&'a [f64]>) -> Option<Filtered<'a>> {
        match (channel, output) {
            (Some(samples), Some(output)) if output.len() == samples.len() => Some(Filtered {
                samples,
                output,
                first_sample: signals.first_sample,
            }),
            _ => None,
        }
    }
}

/// The Savitzky-Golay derivative of `channel` (slice of a view whose first sample is `first_sample`) over `[from,
/// to)` plus the filter's half-width on each side (clipped to what exists), and the index of its first sample;
/// read from `whole` (the same filter's output over the whole channel `channel` is part of) when given: the same
/// numbers, without filtering the beat again.
fn derivative_around_shared(
    channel: &[f64],
    first_sample: u64,
    from: u64,
    to: u64,
    filter: &SavgolFilter,
    whole: Option<Filtered>,
) -> (Vec<f64>, u64) {
    let (a, b) = filter_span(channel, first_sample, from, to, filter);
    match whole {
        Some(whole) if a >= whole.first_sample && b <= whole.first_sample + whole.samples.len() as u64 => {
            let range = (a - whole.first_sample) as usize..(b - whole.first_sample) as usize;
            (filter.apply_within(whole.samples, whole.output, range), a)
        }
        _ => {
            let slice = &channel[(a - first_sample) as usize..(b - first_sample) as usize];
            (filter.apply(slice), a)
        }
    }
}

/// LV pressure's traces computed once for a whole [`Signals`] (same indexing) by the filters of
/// [`PhaseFilters`] at the same rate and settings: the pipeline smooths LV pressure and takes its dP/dt over the
/// whole channel anyway, and [`beat_phases_shared`] reads a beat's stretch from them instead of filtering it again.
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedTraces<'a> {
    /// LV pressure smoothed by the smoothing filter (mmHg).
    pub lvp_smoothed_mmhg: Option<&'a [f64]>,
    /// LV dP/dt by the first-derivative filter (mmHg/s).
    pub lvp_dpdt_mmhg_s: Option<&'a [f64]>,
}

/// Whether a pulse from `lowest` to `highest` (mmHg) is below the pulsatility threshold (ENDPOINTS.md section 2,
/// non-pulsatile state): the one comparison, on a beat's extremes (QC finds them in its own pass over the beat).
pub fn pulse_below(lowest: f64, highest: f64, threshold_mmhg: f64) -> bool {
    highest - lowest < threshold_mmhg
}

/// The Savitzky-Golay filters the phase rules use (smoothing, LV dP/dt and the aortic second derivative), built
/// once for many beats: building one solves its least-squares weights, which cost more than filtering a beat.
#[derive(Clone, Debug)]
pub struct PhaseFilters {
    /// Smoothing (`None` when the settings give no valid filter at this rate).
    smooth: Option<SavgolFilter>,
    /// First derivative (same).
    first: Option<SavgolFilter>,
    /// Second derivative (same).
    second: Option<SavgolFilter>,
    /// The curvature-step filter of [`closure_kink`] (`None` when its span is shorter than its fit needs).
    kink: Option<KinkFilter>,
    /// The weights of the derivative and three smoothing passes together, on raw LV pressure: the trace whose
    /// minimum ends systole without ejection, for its noise (`None` without both filters).
    relaxation_kernel: Option<Vec<f64>>,
}

/// A linear filter whose output at sample `t` is the step in the second derivative at `t` (mmHg/s^2) of the
/// least-squares fit `a + b u + c u^2 + (h / 2) max(u, 0)^2` (`u` = time from `t`) to the samples within
/// `half` either side: by the Frisch-Waugh theorem, `h` is the samples' projection on the hinge column
/// `max(u, 0)^2` with the quadratic taken out of it, scaled by that residual column's norm.
#[derive(Clone, Debug)]
struct KinkFilter {
    /// Weights of the samples `t - half ..= t + half`.
    weights: Vec<f64>,
    /// Samples either side of `t`.
    half: u64,
    /// Candidates start this many samples before the crossover.
    search_before: u64,
}

impl KinkFilter {
    fn new(settings: &super::settings::PhaseSettings, sample_rate_hz: f64) -> Option<KinkFilter> {
        let half = samples_from_s(settings.closure_kink_half_s, sample_rate_hz);
        if half < 3 {
            return None;
        }
        let u: Vec<f64> = (0..=2 * half)
            .map(|j| (j as f64 - half as f64) / sample_rate_hz)
            .collect();
        let mut residual: Vec<f64> = u.iter().map(|&x| if x > 0.0 { x * x } else { 0.0 }).collect();
        // Orthonormal basis of {1, u, u^2} (Gram-Schmidt), then the hinge column minus its projection on it.
        let mut basis: Vec<Vec<f64>> = Vec::with_capacity(3);
        for power in 0..3 {
            let mut column: Vec<f64> = u.iter().map(|&x| x.powi(power)).collect();
            for b in &basis {
                let along = dot(&column, b);
                column.iter_mut().zip(b).for_each(|(c, b)| *c -= along * b);
            }
            let norm = dot(&column, &column).sqrt();
            if norm.is_nan() || norm <= 0.0 {
                return None;
            }
            column.iter_mut().for_each(|c| *c /= norm);
            basis.push(column);
        }
        for b in &basis {
            let along = dot(&residual, b);
            residual.iter_mut().zip(b).for_each(|(r, b)| *r -= along * b);
        }
        let energy = dot(&residual, &residual);
        if energy.is_nan() || energy <= 0.0 {
            return None;
        }
        Some(KinkFilter {
            weights: residual.iter().map(|r| 2.0 * r / energy).collect(),
            half: half as u64,
            search_before: samples_from_s(settings.closure_kink_before_s, sample_rate_hz) as u64,
        })
    }

    /// The curvature step at `t` of `x` (absolute sample `i` is `x[i - first]`), `None` when the span is not
    /// all there and finite.
    fn step_at(&self, x: &[f64], first: u64, t: u64) -> Option<f64> {
        let from = t.checked_sub(self.half)?.checked_sub(first)? as usize;
        let span = x.get(from..from + self.weights.len())?;
        let step: f64 = span.iter().zip(&self.weights).map(|(v, w)| v * w).sum();
        step.is_finite().then_some(step)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl PhaseFilters {
    /// The filters of `settings` at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64, settings: &SignalSettings) -> PhaseFilters {
        let filter =
            |derivative| SavgolFilter::from_settings(&settings.savgol, derivative, sample_rate_hz).ok();
        let (smooth, first) = (filter(0), filter(1));
        let relaxation_kernel = smooth.as_ref().zip(first.as_ref()).map(|(smooth, first)| {
            let once = convolve(first.centre_weights(), smooth.centre_weights());
            let twice = convolve(&once, smooth.centre_weights());
            convolve(&twice, smooth.centre_weights())
        });
        PhaseFilters {
            smooth,
            first,
            second: filter(2),
            kink: KinkFilter::new(&settings.phases, sample_rate_hz),
            relaxation_kernel,
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

/// A channel over `[from, to)` of a view, as a function of absolute sample index.
#[derive(Clone, Copy)]
struct Trace<'a> {
    samples: &'a [f64],
    first_sample: u64,
}

impl Trace<'_> {
    fn at(&self, index: u64) -> f64 {
        self.samples[(index - self.first_sample) as usize]
    }

    fn end(&self) -> u64 {
        self.first_sample + self.samples.len() as u64
    }

    /// Maximum minus minimum over `[from, to)` (clipped to the trace; 0 when empty).
    fn range(&self, from: u64, to: u64) -> f64 {
        let (from, to) = (from.max(self.first_sample), to.min(self.end()));
        let (lo, hi) = (from..to).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), i| {
            (lo.min(self.at(i)), hi.max(self.at(i)))
        });
        if hi >= lo { hi - lo } else { 0.0 }
    }

    /// Index of the maximum over `[from, to)` (clipped to the trace).
    fn argmax(&self, from: u64, to: u64) -> Option<u64> {
        let (from, to) = (from.max(self.first_sample), to.min(self.end()));
        (from..to).max_by(|&a, &b| self.at(a).total_cmp(&self.at(b)))
    }
}

/// [`beat_phases`] with filters built beforehand by [`PhaseFilters::new`] for the same rate and settings.
pub fn beat_phases_with(
    filters: &PhaseFilters,
    signals: &Signals,
    beat: &Beat,
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<BeatPhases, PhaseError> {
    beat_phases_shared(
        filters,
        SharedTraces::default(),
        signals,
        beat,
        sample_rate_hz,
        settings,
    )
}

/// [`beat_phases_with`] reading LV pressure's smoothed trace and dP/dt from `shared` (whole channels of
/// `signals`, made by the same filters): the same phases, bit for bit.
pub fn beat_phases_shared(
    filters: &PhaseFilters,
    shared: SharedTraces,
    signals: &Signals,
    beat: &Beat,
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<BeatPhases, PhaseError> {
    let (lvp_smoothed, lvp_dpdt) = (
        Filtered::of(signals, signals.lvp, shared.lvp_smoothed_mmhg),
        Filtered::of(signals, signals.lvp, shared.lvp_dpdt_mmhg_s),
    );
    let (start, end) = (beat.start, beat.end);
    if end <= start + 2 {
        return Err(PhaseError::TooShort);
    }
    let (left, right) = margin_samples(sample_rate_hz, settings);
    let view = signals.window(start.saturating_sub(left), end + right);
    let phases = &settings.phases;
    let ms = |s: f64| (s * sample_rate_hz).round() as u64;

    let dpdt = match view.lvp {
        Some(lvp) => {
            let filter = filters.first.as_ref().ok_or(PhaseError::TooShort)?;
            let search_from = start.saturating_sub(left - filter.half_width() as u64);
            Some((
                derivative_around_shared(
                    lvp,
                    view.first_sample,
                    start.saturating_sub(left),
                    end,
                    filter,
                    lvp_dpdt,
                ),
                search_from,
            ))
        }
        None => None,
    };
    let lv = dpdt.as_ref().and_then(|((dpdt, first), search_from)| {
        beat_fiducials(
            dpdt,
            *first,
            start,
            end,
            *search_from,
            settings.lv.ed_dpdt_fraction,
        )
    });
    // LV dP/dt min as the end of systole of a beat without ejection: the vertex of a parabola fitted to dP/dt
    // around its minimum (the minimum is broad in a failing or unloaded ventricle, and noise moves its sample).
    // The derivative is smoothed further (the same cubic, three more passes) before the fit: the minimum is flat,
    // and sample noise on dP/dt moves the vertex of a parabola through it by more than the 5 ms bound. The fit
    // starts from the minimum of that smoothed derivative, not the raw one (in LV suction dP/dt min is only some
    // -20 to -40 mmHg/s and the raw minimum may lie on a noise dip 100-300 ms away, where the fit stays), and
    // is centred on the vertex it finds ([`centred_vertex`]), not on the noisy sample of the minimum: in an
    // unloaded ventricle dP/dt stays within 5 % of its minimum for some 60 ms, the sample of the minimum wanders
    // over that plateau, and a window centred off the true minimum on an asymmetric trough biases the vertex.
    //
    // Where the trough is too flat for the pressure noise (LV suction under an Impella: dP/dt min some -20 to
    // -40 mmHg/s, within 3 % of it for 60 ms, while 0.3 mmHg of white noise on LV pressure leaves some 10 mmHg/s
    // on the smoothed derivative), the vertex is not where the relaxation is fastest but where the noise puts it:
    // its standard deviation, from the noise of raw LV pressure ([`white_noise_sd`]) carried through the filters
    // and the fit ([`vertex_sd`]), is then larger than the bound, and the beat is not timed
    // ([`PhaseError::RelaxationNotIdentifiable`]) rather than given a diastole that starts anywhere in the trough.
    let relaxation = |lv: &LvFiducials| -> Result<u64, PhaseError> {
        let ((dpdt, first), _) = dpdt.as_ref().ok_or(PhaseError::MissingSamples)?;
        let (smooth, kernel, lv_raw) = match (
            filters.smooth.as_ref(),
            filters.relaxation_kernel.as_ref(),
            view.lvp,
        ) {
            (Some(smooth), Some(kernel), Some(lv_raw)) => (smooth, kernel, lv_raw),
            _ => return Err(PhaseError::TooShort),
        };
        let values = smooth.apply(&smooth.apply(&smooth.apply(dpdt)));
        let from = beat_fiducials(&values, *first, start, end, start, settings.lv.ed_dpdt_fraction)
            .map_or(lv.dpdt_min_index, |f| f.dpdt_min_index);
        let raw = Trace {
            samples: lv_raw,
            first_sample: view.first_sample,
        };
        let (vertex, sd_samples) = trough_vertex(
            (&values, *first),
            from,
            (ms(phases.dpdt_min_fit_s), (start, end)),
            kernel,
            white_noise_sd(raw, start, end),
        );
        if Z_95 * sd_samples / sample_rate_hz <= phases.dpdt_min_uncertainty_s {
            Ok(vertex)
        } else {
            Err(PhaseError::RelaxationNotIdentifiable)
        }
    };
    let end_diastole = match beat.fiducial {
        Fiducial::RWave | Fiducial::LvEndDiastole => Some(start),
        Fiducial::PressureOnset => lv.map(|f| f.dpdt_end_diastole_index),
    };
    let pa_extremes = view.window(start, end).pa.map(extremes);
    let pa_complete = pa_extremes.as_ref().is_some_and(|pa| pa.complete);
    // Read only where the beat's aortic pressure is complete and pulsatile ([`pulse_below`] not).
    let pulsatile = pa_extremes
        .as_ref()
        .is_some_and(|pa| pa.complete && !pa.pulse_below(settings.qc.non_pulsatile_pp_mmhg));
    let smooth = filters.smooth.as_ref().ok_or(PhaseError::TooShort)?;
    let smoothed_pa = match view.pa {
        // With LV pressure the closure rules read smoothed aortic pressure around the beat too (the kink's fit
        // from before the crossover, the systolic peak from LV dP/dt max); alone, the aortic rules read it within
        // the beat only, and as far as they need it ([`aortic_alone`]).
        Some(pa) if pa_complete && view.lvp.is_some() => Some(derivative_around_shared(
            pa,
            view.first_sample,
            start,
            end,
            smooth,
            None,
        )),
        _ => None,
    };
    let pa_trace = smoothed_pa.as_ref().map(|(samples, first)| Trace {
        samples,
        first_sample: *first,
    });

    let mut systolic_peak = None;
    let mut notch = None;
    let mut notch_confirms = None;
    let mut balloon_inflation = None;
    let (systole_end, systole_end_method) = if let (Some(pa), Some(lvp)) = (pa_trace, view.lvp) {
        let lv = lv.ok_or(PhaseError::MissingSamples)?;
        let (lvp_smooth, lvp_first) =
            derivative_around_shared(lvp, view.first_sample, start, end, smooth, lvp_smoothed);
        let lvp = Trace {
            samples: &lvp_smooth,
            first_sample: lvp_first,
        };
        match crossover(lvp, pa, &lv, (start, end), settings) {
            Some(crossed) => {
                let kink = match (view.lvp, filters.kink.as_ref()) {
                    (Some(lv_raw), Some(filter)) => {
                        let raw = Trace {
                            samples: lv_raw,
                            first_sample: view.first_sample,
                        };
                        let pulse = pa.range(start, crossed);
                        let inflating =
                            balloon_rise(pa, crossed, end, balloon_threshold_mmhg(pulse, settings))
                                .map(|rise| bend_before(view.pa, view.first_sample, crossed, rise, filters));
                        closure_kink(raw, (lvp, pa), &lv, (crossed, inflating), end, filter, settings)
                    }
                    _ => None,
                };
                let (closure, method) = match kink {
                    Some(kink) if kink > crossed + ms(phases.closure_kink_min_delay_s) => {
                        (kink, SystoleEnd::CrossoverKink)
                    }
                    _ => (crossed, SystoleEnd::PressureCrossover),
                };
                let pulse = pa.range(start, closure);
                balloon_inflation = balloon_rise(pa, closure, end, balloon_threshold_mmhg(pulse, settings))
                    .map(|rise| bend_before(view.pa, view.first_sample, closure, rise, filters));
                // A notch confirms the crossover when the sharpest upward bend within the window is a peak of
                // the second derivative inside it (at the window's edge it is only the slope of a smooth curve).
                let window = ms(phases.notch_confirm_s);
                let (from, to) = (
                    closure.saturating_sub(window).max(start),
                    (closure + window + 1).min(end),
                );
                notch = sharpest_bend(view.pa, view.first_sample, from, to, filters)
                    .filter(|&n| n > from && n + 1 < to);
                notch_confirms = Some(notch.is_some());
                systolic_peak = pa.argmax(lv.dpdt_max_index, closure);
                (closure, method)
            }
            None => (relaxation(&lv)?, SystoleEnd::LvDpdtMin),
        }
    } else if let Some(pa) = view.pa.filter(|_| pa_complete) {
        // Aortic pressure alone (with LV pressure and a complete aortic trace the branch above is taken).
        if !pulsatile {
            return Err(PhaseError::NoReference);
        }
        let (peak, incisura) = aortic_alone(
            pa,
            view.first_sample,
            (start, end),
            filters,
            settings,
            sample_rate_hz,
        )?;
        systolic_peak = Some(peak);
        notch = Some(incisura);
        (incisura, SystoleEnd::DicroticNotch)
    } else if let Some(lv) = lv {
        // No aortic trace, or one with samples missing in this beat.
        (relaxation(&lv)?, SystoleEnd::LvDpdtMinWithoutAorta)
    } else if view.lvp.is_some() || view.pa.is_some() {
        return Err(PhaseError::MissingSamples);
    } else {
        return Err(PhaseError::NoReference);
    };
    let diastole = end.saturating_sub(systole_end);
    let wfp_start = systole_end + (phases.wfp_start_fraction * diastole as f64).round() as u64;
    let wfp_end = end.saturating_sub(ms(phases.wfp_end_margin_s));
    let es_offset = ms(phases.es_before_dpdt_min_s);
    Ok(BeatPhases {
        end_diastole,
        systole_start: end_diastole.unwrap_or(start),
        systolic_peak,
        dicrotic_notch: notch,
        notch_confirms,
        balloon_inflation,
        lv,
        systole_end,
        systole_end_method,
        diastole_end: end,
        wave_free: (wfp_end > wfp_start).then_some((wfp_start, wfp_end)),
        end_systole_fallback: lv.map(|f| f.dpdt_min_index.saturating_sub(es_offset).max(start)),
    })
}

/// Aortic-valve closure from smoothed LV and aortic pressure, or `None` when the valve does not open in the
/// beat.
///
/// While the valve is open, LV pressure exceeds aortic pressure by the small drop across the open valve; it
/// closes when LV pressure falls below aortic pressure again. So the valve is open in the beat when `D = LVP - Pa`
/// rises above [`super::settings::PhaseSettings::crossover_open_mmhg`] between LV dP/dt max and min, and closes
/// at the first sample after the maximum of `D` where `D` falls below zero: the end of the crossover. The
/// fluid-filled aortic line's delay is not corrected here (an estimate from the ejection's shape, the lag at
/// which Pa best follows LVP, was tried and added more error on clean traces than it removed on damped ones):
/// [`closure_kink`] moves a crossover that the line made early.
///
/// In a shocked ventricle `D` leaves zero slowly (about 50 mmHg/s at closure), so each mmHg of relative offset
/// between the two transducers moves the closure by ~15 ms: the pressures must be zeroed (ENDPOINTS.md section 8,
/// the zeroing step), and an offset left in them is the largest error of this rule.
fn crossover(
    lvp: Trace,
    pa: Trace,
    lv: &LvFiducials,
    (start, end): (u64, u64),
    settings: &SignalSettings,
) -> Option<u64> {
    let phases = &settings.phases;
    let last = end.min(lvp.end()).min(pa.end());
    let difference = |i: u64| lvp.at(i) - pa.at(i);
    let from = lv
        .dpdt_max_index
        .max(start)
        .max(pa.first_sample)
        .max(lvp.first_sample);
    let to = lv.dpdt_min_index.max(from + 1).min(last);
    let top = (from..to).max_by(|&a, &b| difference(a).total_cmp(&difference(b)))?;
    if difference(top) <= phases.crossover_open_mmhg.max(0.0) {
        return None;
    }
    (top..last).find(|&i| difference(i) < 0.0)
}

/// Aortic-valve closure refined on LV pressure's own kink, when one stands out after the crossover `crossed`.
///
/// On realistic sensors aortic pressure comes through a fluid-filled line (an underdamped second-order response
/// of 15-25 Hz) while LV pressure comes from a micromanometer: the line's delay keeps the recorded aortic
/// pressure above the true one while it falls at end-ejection, and LV and aortic pressure part slowly there
/// (10-50 mmHg/s in the simulated shocked and healthy ventricles), so noise and the delay make the crossover
/// early (median 5-7 ms on VA-ECMO, 17-41 ms without it). What the line does not move is the kink of LV
/// pressure at closure: while the valve is open the ventricle follows the aorta, and when outflow stops its fall
/// steepens abruptly (the curvature of LV pressure steps down by some 2000-5000 mmHg/s^2). Aortic pressure,
/// smooth there, is subtracted first (smoothed, `pa`: its noise would otherwise add to LV pressure's), which
/// removes the curvature the two share during ejection; LV pressure stays raw (`lv_raw`), its kink unblurred.
///
/// The kink is the most negative curvature step ([`KinkFilter`], fitted over
/// [`super::settings::PhaseSettings::closure_kink_half_s`] either side) between
/// [`super::settings::PhaseSettings::closure_kink_before_s`] before the crossover and the sample where smoothed
/// LV pressure has fallen [`super::settings::PhaseSettings::closure_kink_separation_mmhg`] below aortic
/// pressure (by then the valve has closed whatever the line did). It is taken only when that step is steeper
/// than [`super::settings::PhaseSettings::closure_kink_min_mmhg_s2`] (a valve that barely opens, as under an
/// Impella, leaves no kink) and, by the caller, only when it is later than the crossover by more than
/// [`super::settings::PhaseSettings::closure_kink_min_delay_s`]: on a faithful line the crossover is exact and
/// the fitted kink lies within a few ms of it (before it where the ventricle decouples gradually, up to 3 ms
/// after it under an Impella), so a smaller move would only add the kink's own scatter.
fn closure_kink(
    lv_raw: Trace,
    (lvp, pa): (Trace, Trace),
    lv: &LvFiducials,
    (crossed, inflating): (u64, Option<u64>),
    end: u64,
    filter: &KinkFilter,
    settings: &SignalSettings,
) -> Option<u64> {
    let phases = &settings.phases;
    let last = end.min(lvp.end()).min(pa.end());
    let separated = (crossed..last)
        .find(|&i| lvp.at(i) - pa.at(i) < -phases.closure_kink_separation_mmhg)
        .unwrap_or(crossed);
    let from = crossed
        .saturating_sub(filter.search_before)
        .max(lv.dpdt_max_index);
    let (first, last) = (
        pa.first_sample.max(lv_raw.first_sample),
        pa.end().min(lv_raw.end()),
    );
    // A balloon inflating after the crossover lifts aortic pressure while the closed valve keeps it from LV
    // pressure: that bend is the balloon's, not the ventricle's. In a beat with an inflation, aortic pressure
    // after the crossover is therefore continued by the parabola of its last `half` samples before it (the
    // recognised inflation's start comes a few ms after the balloon's first effect, too late to cut there).
    let cut = inflating.map_or(u64::MAX, |_| crossed);
    let tail = match inflating {
        Some(_) => quadratic_before(pa, crossed, filter.half)?,
        None => [0.0; 3],
    };
    let aortic = |i: u64| {
        if i <= cut {
            pa.at(i)
        } else {
            let x = (i - cut) as f64;
            tail[0] + tail[1] * x + tail[2] * x * x
        }
    };
    let difference: Vec<f64> = (first..last).map(|i| lv_raw.at(i) - aortic(i)).collect();
    let (at, step) = (from..=separated)
        .filter_map(|t| filter.step_at(&difference, first, t).map(|h| (t, h)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (step < -phases.closure_kink_min_mmhg_s2).then_some(at)
}

/// The least-squares parabola `[a, b, c]` (`a + b x + c x^2`, `x` in samples after `to`) through `trace` over the
/// `span` samples up to and including `to` (`None` when they are not all there or the fit is singular).
fn quadratic_before(trace: Trace, to: u64, span: u64) -> Option<[f64; 3]> {
    let from = to.checked_sub(span)?.max(trace.first_sample);
    if to >= trace.end() {
        return None;
    }
    Parabola::new(from, to + 1, to)?.fit(|i| trace.at(i))
}

/// The least-squares parabola `a + b x + c x^2` through the samples `[from, to)`, `x` = sample - `origin`, as the
/// weights that make its coefficients from the samples: linear in them, so the same weights carry the samples'
/// noise into the coefficients ([`vertex_sd`]).
struct Parabola {
    from: u64,
    /// `weights[k][j]`: the weight of sample `from + j` in coefficient `k` (rows of the least-squares
    /// pseudo-inverse).
    weights: [Vec<f64>; 3],
}

impl Parabola {
    /// The fit over `[from, to)` (`None` with fewer than 5 samples or a singular fit).
    fn new(from: u64, to: u64, origin: u64) -> Option<Parabola> {
        if to < from + 5 {
            return None;
        }
        let x = |i: u64| i as f64 - origin as f64;
        let mut m = [[0.0f64; 3]; 3];
        for i in from..to {
            let powers = [1.0, x(i), x(i) * x(i)];
            for (row, &p) in powers.iter().enumerate() {
                for (col, &q) in powers.iter().enumerate() {
                    m[row][col] += p * q;
                }
            }
        }
        // The inverse of the normal matrix, column by column.
        let inverse = [
            solve3(m, [1.0, 0.0, 0.0])?,
            solve3(m, [0.0, 1.0, 0.0])?,
            solve3(m, [0.0, 0.0, 1.0])?,
        ];
        let row = |k: usize| -> Vec<f64> {
            (from..to)
                .map(|i| inverse[0][k] + inverse[1][k] * x(i) + inverse[2][k] * x(i) * x(i))
                .collect()
        };
        Some(Parabola {
            from,
            weights: [row(0), row(1), row(2)],
        })
    }

    /// The fit over `index +- half` clipped to `[start, end)`, `x` from `index`.
    fn around(index: u64, half: u64, (start, end): (u64, u64)) -> Option<Parabola> {
        Parabola::new(
            index.saturating_sub(half).max(start),
            (index + half + 1).min(end),
            index,
        )
    }

    /// The coefficients `[a, b, c]` through `value` (`None` when a value is not finite).
    fn fit(&self, value: impl Fn(u64) -> f64) -> Option<[f64; 3]> {
        let values: Vec<f64> = (0..self.weights[0].len() as u64)
            .map(|j| value(self.from + j))
            .collect();
        if !values.iter().all(|v| v.is_finite()) {
            return None;
        }
        Some(self.weights.each_ref().map(|w| dot(w, &values)))
    }
}

/// The vertex of [`parabola_vertex`] refitted over a window centred on the previous vertex, from `index`, until
/// it moves by less than a sample (at most [`VERTEX_REFITS`] refits; the last vertex when it does not settle).
fn centred_vertex(value: impl Fn(u64) -> f64 + Copy, index: u64, half: u64, span: (u64, u64)) -> u64 {
    let mut centre = index;
    for _ in 0..VERTEX_REFITS {
        let vertex = parabola_vertex(value, centre, half, span);
        if vertex.abs_diff(centre) <= 1 {
            return vertex;
        }
        centre = vertex;
    }
    centre
}

/// The vertex of the trough of `values` (sample `first + j` is `values[j]`: LV dP/dt made from raw LV pressure by
/// the filter `kernel`) by [`centred_vertex`] from `from` over `half` either side within `[start, end)`, and its
/// standard deviation in samples ([`vertex_sd`]) for white noise of `noise_sd` on the raw pressure (infinite
/// without a noise estimate or when the fit has no minimum).
fn trough_vertex(
    (values, first): (&[f64], u64),
    from: u64,
    (half, (start, end)): (u64, (u64, u64)),
    kernel: &[f64],
    noise_sd: Option<f64>,
) -> (u64, f64) {
    let value = |i: u64| values[(i - first) as usize];
    let span = (start.max(first), end.min(first + values.len() as u64));
    let vertex = centred_vertex(value, from, half, span);
    let sd = match (Parabola::around(vertex, half, span), noise_sd) {
        (Some(parabola), Some(noise)) => parabola
            .fit(value)
            .map_or(f64::INFINITY, |fit| vertex_sd(&parabola, fit, kernel, noise)),
        _ => f64::INFINITY,
    };
    (vertex, sd)
}

/// The standard normal quantile of a two-sided 95 % interval.
const Z_95: f64 = 1.96;

/// Most refits of [`centred_vertex`].
const VERTEX_REFITS: usize = 8;

/// The vertex of the least-squares parabola through `value` over `index +- half` (clipped to `span`, `[start,
/// end)`), as a sample index within that span; `index` when the fit has no minimum there.
fn parabola_vertex(value: impl Fn(u64) -> f64, index: u64, half: u64, span: (u64, u64)) -> u64 {
    let Some(parabola) = Parabola::around(index, half, span) else {
        return index;
    };
    let Some([_, b, c]) = parabola.fit(value) else {
        return index;
    };
    if c <= 0.0 {
        return index;
    }
    let (lo, hi) = (parabola.from, parabola.from + parabola.weights[0].len() as u64);
    let vertex = index as f64 - b / (2.0 * c);
    if vertex.is_finite() {
        (vertex.round().max(lo as f64) as u64).min(hi - 1)
    } else {
        index
    }
}

/// The standard deviation (samples) of the vertex of `parabola`'s fit `[_, b, c]` (`x` from its origin) to a trace
/// that the linear filter `kernel` made from raw samples carrying white noise of `noise_sd`: the vertex
/// `-b / (2 c)` moves by `-(db + 2 x dc) / (2 c)` (first order), and `db`, `dc` are the fit's weights, through the
/// filter, on the raw samples' noise. Infinite when the fit has no minimum.
fn vertex_sd(parabola: &Parabola, [_, b, c]: [f64; 3], kernel: &[f64], noise_sd: f64) -> f64 {
    if c.is_nan() || c <= 0.0 {
        return f64::INFINITY;
    }
    let x = -b / (2.0 * c);
    let along: Vec<f64> = parabola.weights[1]
        .iter()
        .zip(&parabola.weights[2])
        .map(|(wb, wc)| wb + 2.0 * x * wc)
        .collect();
    let on_raw = convolve(&along, kernel);
    noise_sd * dot(&on_raw, &on_raw).sqrt() / (2.0 * c)
}

/// The full convolution of two filters' weights: the weights of applying one after the other.
fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// The standard deviation of white noise on `trace` over `[from, to)`, from the median absolute second difference
/// (a smooth pressure's second difference is tiny at the analysis rate; white noise's has variance 6 sd^2; the
/// median ignores the few samples where the pressure bends sharply). `None` with fewer than 3 samples.
fn white_noise_sd(trace: Trace, from: u64, to: u64) -> Option<f64> {
    let (from, to) = (from.max(trace.first_sample), to.min(trace.end()));
    let second = (from + 1..to.saturating_sub(1))
        .map(|i| (trace.at(i + 1) - 2.0 * trace.at(i) + trace.at(i - 1)).abs());
    median(second).map(|m| MAD_TO_SD * m / 6f64.sqrt())
}

/// The standard deviation of normal noise over its median absolute deviation.
const MAD_TO_SD: f64 = 1.4826;

/// Solves the 3x3 system `m x = r` by Cramer's rule (`None` when singular).
fn solve3(m: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let det = |a: [[f64; 3]; 3]| {
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    };
    let d = det(m);
    if d.abs() < 1e-12 {
        return None;
    }
    let mut x = [0.0; 3];
    for (col, out) in x.iter_mut().enumerate() {
        let mut a = m;
        for row in 0..3 {
            a[row][col] = r[row];
        }
        *out = det(a) / d;
    }
    Some(x)
}

/// Where aortic pressure rises again in diastole, by more than `rise` above its lowest value since `from` (the
/// systolic peak or valve closure): the sample where the rise exceeds it.
///
/// Read [`RISE_CHUNK`] samples at a time: no sample of a chunk rises more than `rise` above the lowest value so far
/// when the chunk's highest value does not rise that much above the lowest value up to the chunk's end, so only a
/// chunk that could hold the rise is read sample by sample (the same answer as reading every sample in turn, whose
/// running minimum was a chain of dependent steps).
fn balloon_rise(pa: Trace, from: u64, end: u64, rise: f64) -> Option<u64> {
    let to = end.min(pa.end());
    if from >= to {
        return None;
    }
    let samples = &pa.samples[(from - pa.first_sample) as usize..(to - pa.first_sample) as usize];
    let mut lowest = f64::INFINITY;
    for (k, chunk) in samples.chunks(RISE_CHUNK).enumerate() {
        let Extremes {
            lowest: lo,
            highest: hi,
            ..
        } = extremes(chunk);
        if hi - lowest.min(lo) > rise {
            for (j, &value) in chunk.iter().enumerate() {
                lowest = lowest.min(value);
                if value - lowest > rise {
                    return Some(from + (k * RISE_CHUNK + j) as u64);
                }
            }
        }
        lowest = lowest.min(lo);
    }
    None
}

/// Samples of one step of [`balloon_rise`].
const RISE_CHUNK: usize = 16;

/// The lowest and highest values of a stretch, and whether all of it is finite.
struct Extremes {
    /// The lowest value, NaN ignored (infinite when there is none).
    lowest: f64,
    /// The highest value, NaN ignored (minus infinity when there is none).
    highest: f64,
    /// Whether the stretch holds samples and every one is a finite number.
    complete: bool,
}

impl Extremes {
    /// Whether the pulse (highest minus lowest value) is below `threshold_mmhg` ([`pulse_below`]).
    fn pulse_below(&self, threshold_mmhg: f64) -> bool {
        pulse_below(self.lowest, self.highest, threshold_mmhg)
    }
}

/// The [`Extremes`] of `samples`, in lanes that do not wait on each other. A minimum and a maximum are exact, so
/// the order of the comparisons changes neither (only which of +0 and -0 a zero extreme is, which no difference or
/// comparison of them tells apart). A finite sample times 0 is a zero and any other gives NaN, so the sum of
/// those products is zero exactly when every sample is finite.
fn extremes(samples: &[f64]) -> Extremes {
    const LANES: usize = 4;
    let (mut lo, mut hi, mut zero) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES], [0.0; LANES]);
    let mut chunks = samples.chunks_exact(LANES);
    for chunk in &mut chunks {
        for lane in 0..LANES {
            let value = chunk[lane];
            lo[lane] = if value < lo[lane] { value } else { lo[lane] };
            hi[lane] = if value > hi[lane] { value } else { hi[lane] };
            zero[lane] += value * 0.0;
        }
    }
    for &value in chunks.remainder() {
        lo[0] = if value < lo[0] { value } else { lo[0] };
        hi[0] = if value > hi[0] { value } else { hi[0] };
        zero[0] += value * 0.0;
    }
    Extremes {
        lowest: lo.into_iter().fold(f64::INFINITY, f64::min),
        highest: hi.into_iter().fold(f64::NEG_INFINITY, f64::max),
        complete: !samples.is_empty() && zero.iter().sum::<f64>() == 0.0,
    }
}

/// The start of a balloon inflation: the sharpest upward bend of aortic pressure between `from` and the rise.
fn bend_before(pa: Option<&[f64]>, first_sample: u64, from: u64, rise: u64, filters: &PhaseFilters) -> u64 {
    sharpest_bend(pa, first_sample, from, rise + 1, filters).unwrap_or(rise)
}

/// The systolic peak: the first local maximum of smoothed aortic pressure after the foot (the lowest pressure in
/// the first [`FOOT_SEARCH_FRACTION`] of the beat) that stands at least
/// [`super::settings::PhaseSettings::peak_prominence_mmhg`] above what follows it (the balloon's augmentation comes
/// later), with the foot.
///
/// `end` is the end of the smoothed trace over the whole beat; `pa` may stop earlier (a beat's first part,
/// [`aortic_alone`]) as long as it holds the foot's search: the peak is then the one of the whole trace when one
/// is found within `pa`, and `None` does not tell whether the whole trace has one.
fn first_peak(pa: Trace, start: u64, end: u64, settings: &SignalSettings) -> Option<(u64, u64)> {
    let prominence = settings.phases.peak_prominence_mmhg;
    let start = start.max(pa.first_sample);
    let foot_end = foot_search_end(start, end);
    let (from, to) = (start - pa.first_sample, foot_end.max(start + 1) - pa.first_sample);
    let foot = start + first_lowest(&pa.samples[from as usize..to as usize])? as u64;
    let mut best = foot;
    for i in foot..end.min(pa.end()) {
        let value = pa.at(i);
        if value > pa.at(best) {
            best = i;
        } else if pa.at(best) - value > prominence {
            return Some((foot, best));
        }
    }
    None
}

/// Whether the rise from `foot` to `peak` is two rises: ejection (at least the balloon threshold), a shoulder
/// where the rise nearly stops (valve closure), then a balloon inflation lifting pressure again by more than the
/// balloon threshold. A natural upstroke
/// only slows down towards its peak. `slope` is the aortic dP/dt over the rise.
fn augmented_upstroke(pa: Trace, slope: Trace, foot: u64, peak: u64, settings: &SignalSettings) -> bool {
    let mut steepest = 0.0f64;
    for i in foot.max(slope.first_sample)..peak.min(slope.end()) {
        steepest = steepest.max(slope.at(i));
        if steepest > 0.0
            && slope.at(i) < SHOULDER_SLOPE_FRACTION * steepest
            && climbs_again(pa, foot, peak, i, settings)
        {
            return true;
        }
    }
    false
}

/// The slope of aortic pressure (`pa`, a view whose first sample is `first_sample`) from the foot of an upstroke
/// `[foot, peak]` up to `until` at least, and the index of its first value: the outputs of the slope over the whole
/// upstroke, bit for bit. The stretch is at least a frame long: one shorter than a frame, clipped at the channel's
/// start, would be fitted whole, with other weights.
fn upstroke_slope(
    pa: &[f64],
    first_sample: u64,
    (foot, until, peak): (u64, u64, u64),
    slope: &SavgolFilter,
) -> (Vec<f64>, u64) {
    let to = until.max(foot + slope.frame_len() as u64).min(peak + 1);
    derivative_around(pa, first_sample, foot, to, slope)
}

/// Whether a shoulder of the upstroke at `i` would be one of [`augmented_upstroke`] by its pressures: ejection has
/// lifted the pressure by the balloon's rise, and it climbs from there to the peak by more than the balloon's
/// threshold. (The slope is read only up to the last sample where this holds, [`aortic_alone`].)
fn climbs_again(pa: Trace, foot: u64, peak: u64, i: u64, settings: &SignalSettings) -> bool {
    let ejected = pa.at(i) - pa.at(foot);
    ejected >= settings.phases.balloon_rise_mmhg
        && pa.at(peak) - pa.at(i) > balloon_threshold_mmhg(ejected, settings)
}

/// The index of the first lowest of `values` by [`f64::total_cmp`] (what `min_by(total_cmp)` gives; `None` when
/// empty), found by comparing the integers that order as `total_cmp` does, in lanes that do not wait on each
/// other, then looking for the first one equal to the lowest.
fn first_lowest(values: &[f64]) -> Option<usize> {
    const LANES: usize = 4;
    // `total_cmp`'s key: the bits as a signed integer, the magnitude bits flipped for negative numbers.
    let key = |value: f64| {
        let bits = value.to_bits() as i64;
        bits ^ ((((bits >> 63) as u64) >> 1) as i64)
    };
    let mut lowest = [i64::MAX; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &value) in lowest.iter_mut().zip(chunk) {
            *lane = (*lane).min(key(value));
        }
    }
    for &value in chunks.remainder() {
        lowest[0] = lowest[0].min(key(value));
    }
    let lowest = lowest.into_iter().min()?;
    values.iter().position(|&value| key(value) == lowest)
}

/// One past the last sample searched for the foot of the aortic pulse of a beat `[start, end)`.
fn foot_search_end(start: u64, end: u64) -> u64 {
    start + ((end.saturating_sub(start)) as f64 * FOOT_SEARCH_FRACTION).round() as u64
}

/// The systolic peak and the dicrotic notch of a beat `[start, end)` with aortic pressure alone (`pa`, a view
/// whose first sample is `first_sample`, complete and pulsatile over the beat); the errors of the rules.
///
/// Smoothed aortic pressure is read by the systolic peak's search (from the beat's start, [`first_peak`]), the
/// upstroke's shoulder (foot to peak) and the balloon's rise (peak to the beat's end), each a scan of the smoothed
/// samples. It is computed over the foot's search first, further (by [`SMOOTHED_STEP_FRACTION`] of the beat at a
/// time) while the peak's search has not ended, and over the rest of the beat only when the raw samples do not
/// rule out a balloon's rise there ([`may_rise`]); the upstroke's slope only as far as a shoulder could be found
/// ([`climbs_again`]). The same phases, bit for bit, as from the whole beat smoothed (every smoothed sample
/// computed is the sum of the same raw samples by the same weights in both), without smoothing the diastole of
/// every beat (about 60 % of the smoothing filter's outputs per beat).
fn aortic_alone(
    pa: &[f64],
    first_sample: u64,
    (start, end): (u64, u64),
    filters: &PhaseFilters,
    settings: &SignalSettings,
    sample_rate_hz: f64,
) -> Result<(u64, u64), PhaseError> {
    let phases = &settings.phases;
    let ms = |s: f64| (s * sample_rate_hz).round() as u64;
    let smooth = filters.smooth.as_ref().ok_or(PhaseError::TooShort)?;
    fn as_trace((samples, first): &(Vec<f64>, u64)) -> Trace<'_> {
        Trace {
            samples,
            first_sample: *first,
        }
    }
    // The span the whole beat's smoothing gives (`derivative_around` clips it to the channel).
    let (a, b) = filter_span(pa, first_sample, start, end, smooth);
    let (lo, hi) = (start.clamp(a, b), end.clamp(start.clamp(a, b), b));
    let frame = smooth.frame_len() as u64;
    // The smoothed samples from the beat's start up to `to`, appended to `smoothed`: a stretch's outputs are
    // those of the whole beat's smoothing when its raw samples reach half a frame beyond it on both sides or end
    // where the whole beat's do (at the channel's end), and a stretch shorter than a frame is fitted whole (with
    // other weights), so the first part is at least a frame, and the rest is smoothed from the start again when
    // its raw samples would be shorter than a frame.
    let smoothed_to = |smoothed: &mut (Vec<f64>, u64), to: u64| {
        let done = smoothed.1 + smoothed.0.len() as u64;
        if smoothed.0.is_empty() || b - done < frame {
            *smoothed = derivative_around(pa, first_sample, start, to, smooth);
        } else if to > done {
            let (more, _) = derivative_around(pa, first_sample, done, to, smooth);
            smoothed.0.extend(more);
        }
    };
    let step = (((hi - lo) as f64 * SMOOTHED_STEP_FRACTION).round() as u64).max(frame);
    let mut smoothed = (Vec::new(), lo);
    smoothed_to(&mut smoothed, foot_search_end(lo, hi).max(lo + frame).min(hi));
    let (foot, peak) = loop {
        let read = as_trace(&smoothed).end();
        match first_peak(as_trace(&smoothed), start, hi, settings) {
            Some(found) => break found,
            None if read < hi => smoothed_to(&mut smoothed, (read + step).min(hi)),
            None => return Err(PhaseError::NoReference),
        }
    };
    let read = as_trace(&smoothed).end();
    let pulse = as_trace(&smoothed).at(peak) - as_trace(&smoothed).at(foot);
    let rise = balloon_threshold_mmhg(pulse, settings);
    let rises = match balloon_rise(as_trace(&smoothed), peak, end, rise) {
        Some(_) => true,
        None if read >= hi => false,
        None => {
            // No rise in the first part; after it only if the bounds allow one, read then on the smoothed samples.
            let lowest = extremes(&smoothed.0[(peak - smoothed.1) as usize..]).lowest;
            may_rise(pa, first_sample, (read, hi), (lowest, rise), smooth) && {
                smoothed_to(&mut smoothed, hi);
                balloon_rise(as_trace(&smoothed), peak, end, rise).is_some()
            }
        }
    };
    let pa_smoothed = as_trace(&smoothed);
    // The upstroke's slope as far as a shoulder could be found.
    let shoulder_end = (foot..peak)
        .rev()
        .find(|&i| climbs_again(pa_smoothed, foot, peak, i, settings))
        .map_or(foot, |i| i + 1);
    let slope = filters.first.as_ref().ok_or(PhaseError::TooShort)?;
    let (dpa, dpa_first) = upstroke_slope(pa, first_sample, (foot, shoulder_end, peak), slope);
    let dpa = Trace {
        samples: &dpa,
        first_sample: dpa_first,
    };
    if rises || augmented_upstroke(pa_smoothed, dpa, foot, peak, settings) {
        return Err(PhaseError::BalloonWithoutLvPressure);
    }
    let from = peak + ms(phases.notch_after_peak_s);
    let to = peak + ((end - peak) as f64 * phases.notch_search_fraction).round() as u64;
    let isolation = ms(phases.notch_isolation_s);
    let notch = incisura(
        Some(pa),
        first_sample,
        (from, to),
        filters,
        (isolation, phases.notch_prominence),
    )?;
    Ok((peak, notch))
}

/// The share of a beat by which [`aortic_alone`] smooths aortic pressure further while the systolic peak's search
/// has not ended (it first smooths the foot's search, [`FOOT_SEARCH_FRACTION`]).
const SMOOTHED_STEP_FRACTION: f64 = 0.1;

/// Whether aortic pressure smoothed by `smooth` (its centre outputs, the sums of `pa`'s samples by its centre
/// weights; `pa` a view whose first sample is `first_sample`) may rise over `[from, to)` more than `rise` above
/// `lowest` or above its own lowest value since `from` ([`balloon_rise`]'s test, continued from a first part whose
/// lowest smoothed value is `lowest`). `false` only when no such rise is possible: for the outputs of a chunk of
/// [`RISE_BOUND_CHUNK`], whose raw samples lie within `[lo, hi]`, the weighted sum lies within
/// `[P lo - N hi, P hi - N lo]` (`P`, `N`: the sums of the positive and of the negative weights' magnitudes), widened
/// by far more than the rounding of either sum; the running lowest value is bounded below by the lowest of those
/// lower bounds. `true` also when an output of `[from, to)` would be an edge output or a raw sample is not
/// finite: the caller then reads the smoothed samples themselves.
fn may_rise(
    pa: &[f64],
    first_sample: u64,
    (from, to): (u64, u64),
    (lowest, rise): (f64, f64),
    smooth: &SavgolFilter,
) -> bool {
    let half = smooth.half_width() as u64;
    if from < first_sample + half || to + half > first_sample + pa.len() as u64 {
        return true;
    }
    let (mut positive, mut negative) = (0.0f64, 0.0f64);
    for &weight in smooth.centre_weights() {
        if weight > 0.0 {
            positive += weight;
        } else {
            negative -= weight;
        }
    }
    let mut lowest = lowest;
    let mut chunk = from;
    while chunk < to {
        let chunk_end = (chunk + RISE_BOUND_CHUNK).min(to);
        let support = &pa[(chunk - half - first_sample) as usize..(chunk_end + half - first_sample) as usize];
        let Extremes {
            lowest: lo,
            highest: hi,
            complete,
        } = extremes(support);
        if !complete {
            return true;
        }
        let slack = ROUNDING_SLACK * (positive + negative) * lo.abs().max(hi.abs());
        let upper = positive * hi - negative * lo + slack;
        lowest = lowest.min(positive * lo - negative * hi - slack);
        // Both finite (the raw samples are), so the difference is a number.
        if upper - lowest > rise {
            return true;
        }
        chunk = chunk_end;
    }
    false
}

/// Smoothed outputs bounded together by [`may_rise`].
const RISE_BOUND_CHUNK: u64 = 32;

/// Relative widening of [`may_rise`]'s bounds: a sum of a few dozen products is rounded by some 1e-14 of the sum
/// of their magnitudes, far less than this.
const ROUNDING_SLACK: f64 = 1e-9;

/// A rise that slows below this fraction of its steepest slope and then climbs again is a shoulder.
const SHOULDER_SLOPE_FRACTION: f64 = 0.3;

/// The share of a beat searched for the foot of the aortic pulse.
const FOOT_SEARCH_FRACTION: f64 = 0.3;

/// The smallest rise of aortic pressure in diastole taken for a balloon inflation: the set threshold, and half
/// the systolic pulse (the dicrotic wave of a peripheral trace rises a few mmHg after the notch; a balloon
/// augments diastole by about the pulse or more).
fn balloon_threshold_mmhg(pulse_mmhg: f64, settings: &SignalSettings) -> f64 {
    settings.phases.balloon_rise_mmhg.max(0.5 * pulse_mmhg)
}

/// The maximum of the second derivative of aortic pressure over `[from, to)`: the sharpest upward bend.
fn sharpest_bend(
    pa: Option<&[f64]>,
    first_sample: u64,
    from: u64,
    to: u64,
    filters: &PhaseFilters,
) -> Option<u64> {
    bends(pa, first_sample, (from, to), filters)?
        .sharpest()
        .map(|(i, _)| i)
}

/// The second derivative of aortic pressure (mmHg/s^2) over `[from, to)` (clipped to the channel).
struct Bends {
    second: Vec<f64>,
    /// Index of `second[0]`.
    first: u64,
}

impl Bends {
    /// The sample of the largest finite second derivative (by [`f64::total_cmp`], the last of equal ones: what
    /// `max_by` gives), with its value; `None` when none is finite.
    ///
    /// The largest value is found first by comparisons in lanes (a maximum is exact), then its last sample from
    /// the end; only when it is zero do +0 and -0 differ in the total order (+0 is larger).
    fn sharpest(&self) -> Option<(u64, f64)> {
        let highest = highest_finite(&self.second, f64::NEG_INFINITY);
        if highest == f64::NEG_INFINITY {
            return None;
        }
        let wanted = match highest == 0.0 && self.second.iter().any(|v| v.to_bits() == 0) {
            true => 0.0f64.to_bits(),
            false => highest.to_bits(),
        };
        let j = self.second.iter().rposition(|v| v.to_bits() == wanted)?;
        Some((self.first + j as u64, self.second[j]))
    }

    /// The largest finite second derivative (at least 0) more than `isolation` samples from `at`.
    fn highest_beyond(&self, at: u64, isolation: u64) -> f64 {
        let end = self.first + self.second.len() as u64;
        let before = at.saturating_sub(isolation).clamp(self.first, end);
        let after = at.saturating_add(isolation).saturating_add(1).clamp(before, end);
        let (head, tail) = (
            &self.second[..(before - self.first) as usize],
            &self.second[(after - self.first) as usize..],
        );
        highest_finite(tail, highest_finite(head, 0.0))
    }
}

/// The largest finite value of `values` and `floor`, by comparisons in lanes that do not wait on each other (NaN
/// and infinities are passed over; a maximum is exact, so the order of the comparisons does not change it, except
/// which of +0 and -0 a zero maximum is).
fn highest_finite(values: &[f64], floor: f64) -> f64 {
    const LANES: usize = 4;
    let mut highest = [floor; LANES];
    let mut step = |lane: usize, value: f64| {
        if value > highest[lane] && value < f64::INFINITY {
            highest[lane] = value;
        }
    };
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &value) in chunk.iter().enumerate() {
            step(lane, value);
        }
    }
    for &value in chunks.remainder() {
        step(0, value);
    }
    highest.into_iter().fold(floor, f64::max)
}

/// The second derivative of aortic pressure over `[from, to)` (`None` without the channel or the filter, or when
/// the span is shorter than 3 samples).
fn bends(
    pa: Option<&[f64]>,
    first_sample: u64,
    (from, to): (u64, u64),
    filters: &PhaseFilters,
) -> Option<Bends> {
    let pa = pa?;
    if to <= from + 2 {
        return None;
    }
    let filter = filters.second.as_ref()?;
    let (second, first) = derivative_around(pa, first_sample, from, to, filter);
    Some(Bends { second, first })
}

/// The dicrotic notch of aortic pressure alone within `[from, to)`: the sharpest upward bend, if it bends at least
/// [`super::settings::PhaseSettings::notch_prominence`] times more sharply than the pressure does anywhere else in
/// the search (beyond `notch_isolation_s` from it, in samples here). Noise and a smooth decay bend alike everywhere.
fn incisura(
    pa: Option<&[f64]>,
    first_sample: u64,
    span: (u64, u64),
    filters: &PhaseFilters,
    (isolation, prominence): (u64, f64),
) -> Result<u64, PhaseError> {
    let bends = bends(pa, first_sample, span, filters).ok_or(PhaseError::TooShort)?;
    let (notch, curvature) = bends.sharpest().ok_or(PhaseError::TooShort)?;
    let elsewhere = bends.highest_beyond(notch, isolation);
    if curvature > 0.0 && curvature >= prominence * elsewhere {
        Ok(notch)
    } else {
        Err(PhaseError::NoNotch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::segment;
    use crate::sim::truth::{BeatTruth, BeatTruthTracker};
    use crate::sim::{SensorLevel, Simulator};

    /// ECG, aortic and LV pressure of `seconds` of `scenario` on `sensors` with `seed`, and the true beats.
    fn run(scenario: &str, seed: u64, sensors: SensorLevel, seconds: f64) -> ([Vec<f64>; 3], Vec<BeatTruth>) {
        let mut sim = Simulator::new(scenario, seed, sensors).unwrap();
        let mut channels: [Vec<f64>; 3] = Default::default();
        let mut tracker = BeatTruthTracker::new(0.25, 0.005);
        let mut truths = Vec::new();
        sim.advance((seconds * 1000.0) as usize, |sample| {
            for (channel, index) in channels.iter_mut().zip([0, 1, 4]) {
                channel.push(sample.measured[index]);
            }
            truths.extend(tracker.push(&sample.truth));
        });
        (channels, truths)
    }

    #[test]
    fn a_suction_relaxation_too_flat_for_the_noise_is_refused_and_timed_without_noise() {
        // Impella CP P-9 (suction), valve shut: LV dP/dt min is -27 to -37 mmHg/s and within 3 % of it for some
        // 60 ms. With realistic sensors (0.3 mmHg of white noise on LV pressure) the vertex of the fit has a
        // standard deviation of 3-30 ms: before, every such beat was timed anyway, 17 % of them within 5 ms of the
        // true dP/dt min (8 seeds x 20 s, `heracles validate`). Now each is refused as not identifiable. Without
        // noise the same beats are timed, within 5 ms: the refusal follows the noise, not the scenario.
        let settings = SignalSettings::default();
        for sensors in [SensorLevel::Realistic, SensorLevel::Clean] {
            let ([ecg, pa, lvp], truths) = run("shock-ecmo-impella-suction", 3, sensors, 8.0);
            let signals = Signals {
                ecg: Some(&ecg),
                pa: Some(&pa),
                lvp: Some(&lvp),
                ..Signals::default()
            };
            let beats = segment(&signals, 1000.0, &settings).unwrap().beats;
            let mut shut = 0;
            for beat in &beats {
                let Some(truth) = truths
                    .iter()
                    .find(|t| (1000.0 * t.start_s - beat.start as f64).abs() < 30.0)
                else {
                    continue;
                };
                assert!(!truth.ejected(), "the valve opened at {} s", truth.start_s);
                shut += 1;
                let phases = beat_phases(&signals, beat, 1000.0, &settings);
                match sensors {
                    SensorLevel::Realistic => {
                        assert_eq!(
                            phases,
                            Err(PhaseError::RelaxationNotIdentifiable),
                            "{}",
                            truth.start_s
                        )
                    }
                    SensorLevel::Clean => {
                        let phases = phases.unwrap();
                        assert_eq!(phases.systole_end_method, SystoleEnd::LvDpdtMin);
                        let error_ms = phases.systole_end as f64 - 1000.0 * truth.dpdt_min_s;
                        assert!(error_ms.abs() <= 5.0, "{} s: {error_ms} ms", truth.start_s);
                    }
                }
            }
            assert!(shut >= 10, "{sensors:?}: {shut} valve-shut beats");
        }
    }

    #[test]
    fn the_vertex_sd_is_the_spread_of_the_vertex_over_noise() {
        // A relaxation whose dP/dt trough (-300 mmHg/s at 400 ms, rising by 12000 mmHg/s^3 away from it: within
        // 4 % of its minimum for +-30 ms, as in the unloaded ventricle) is timed 400 times under different white
        // noise of 0.3 mmHg: the standard deviation that `trough_vertex` predicts is the spread of its vertices.
        let settings = SignalSettings::default();
        let filters = PhaseFilters::new(1000.0, &settings);
        let (first, smooth) = (filters.first.unwrap(), filters.smooth.unwrap());
        let kernel = filters.relaxation_kernel.unwrap();
        let clean: Vec<f64> = (0..800)
            .map(|i| {
                let u = (i as f64 - 400.0) / 1000.0;
                40.0 - 300.0 * u + 4000.0 * u.powi(3)
            })
            .collect();
        let mut rng = crate::sim::rng::Rng::new(11);
        let (mut vertices, mut predicted) = (Vec::new(), Vec::new());
        for _ in 0..400 {
            let noisy: Vec<f64> = clean.iter().map(|p| p + 0.3 * rng.normal()).collect();
            let values = smooth.apply(&smooth.apply(&smooth.apply(&first.apply(&noisy))));
            let (vertex, sd) = trough_vertex((&values, 0), 400, (60, (100, 700)), &kernel, Some(0.3));
            vertices.push(vertex as f64);
            predicted.push(sd);
        }
        let mean = vertices.iter().sum::<f64>() / 400.0;
        let spread = (vertices.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        let predicted = predicted.iter().sum::<f64>() / 400.0;
        println!("vertex mean {mean:.2}, spread {spread:.2} samples, predicted {predicted:.2}");
        assert!((mean - 400.0).abs() < 1.0, "mean vertex {mean}");
        assert!(
            (spread / predicted - 1.0).abs() < 0.2,
            "vertices spread {spread:.2} samples, predicted {predicted:.2}"
        );
    }

    /// A noisy pulse-like trace of `n` samples with a few exact zeros of both signs and repeated values.
    fn rough_trace(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = crate::sim::rng::Rng::new(seed);
        (0..n)
            .map(|i| match i % 97 {
                13 => 0.0,
                14 => -0.0,
                40 | 41 => 7.0,
                _ => 20.0 * (i as f64 * 0.013).sin() + 3.0 * rng.normal(),
            })
            .collect()
    }

    #[test]
    fn a_derivative_over_its_stretch_is_bit_for_bit_that_stretch_of_the_span_filtered_around_it() {
        // `derivative_around` computes only the outputs over `[from, to)`; they must be those of the filter run
        // over the stretch and its half frames (as `derivative_around_shared` still gives them), including
        // stretches clipped at either end of the channel, shorter than a frame, or before it.
        let filters = PhaseFilters::new(1000.0, &SignalSettings::default());
        let channel = rough_trace(5, 400);
        let first_sample = 1000;
        let bits = |v: &[f64]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        for filter in [&filters.smooth, &filters.first, &filters.second] {
            let filter = filter.as_ref().unwrap();
            for (from, to) in [
                (1000, 1400),
                (990, 1050),
                (1100, 1300),
                (1380, 1420),
                (1200, 1203),
                (1395, 1400),
                (900, 995),
                (1250, 1250),
            ] {
                let (part, part_first) = derivative_around(&channel, first_sample, from, to, filter);
                let (span, span_first) =
                    derivative_around_shared(&channel, first_sample, from, to, filter, None);
                let span_end = span_first + span.len() as u64;
                let (lo, hi) = (
                    from.clamp(span_first, span_end),
                    to.clamp(span_first, span_end)
                        .max(from.clamp(span_first, span_end)),
                );
                assert_eq!(part_first, lo, "{from}..{to}");
                let want = &span[(lo - span_first) as usize..(hi - span_first) as usize];
                assert_eq!(bits(&part), bits(want), "{from}..{to}");
            }
        }
    }

    /// The aortic-alone rules as they ran on the whole beat smoothed (before [`aortic_alone`] smoothed only what
    /// they read): the smoothed beat, the upstroke's slope from the foot to the peak.
    fn aortic_alone_whole_beat(
        pa: &[f64],
        first_sample: u64,
        (start, end): (u64, u64),
        filters: &PhaseFilters,
        settings: &SignalSettings,
    ) -> Result<(u64, u64), PhaseError> {
        let smooth = filters.smooth.as_ref().unwrap();
        let (samples, first) = derivative_around(pa, first_sample, start, end, smooth);
        let trace = Trace {
            samples: &samples,
            first_sample: first,
        };
        let (foot, peak) = first_peak(trace, start, trace.end(), settings).ok_or(PhaseError::NoReference)?;
        let pulse = trace.at(peak) - trace.at(foot);
        let (dpa, dpa_first) =
            derivative_around(pa, first_sample, foot, peak + 1, filters.first.as_ref().unwrap());
        let dpa = Trace {
            samples: &dpa,
            first_sample: dpa_first,
        };
        if balloon_rise(trace, peak, end, balloon_threshold_mmhg(pulse, settings)).is_some()
            || augmented_upstroke(trace, dpa, foot, peak, settings)
        {
            return Err(PhaseError::BalloonWithoutLvPressure);
        }
        let phases = &settings.phases;
        let ms = |s: f64| (s * 1000.0).round() as u64;
        let from = peak + ms(phases.notch_after_peak_s);
        let to = peak + ((end - peak) as f64 * phases.notch_search_fraction).round() as u64;
        let isolation = (ms(phases.notch_isolation_s), phases.notch_prominence);
        incisura(Some(pa), first_sample, (from, to), filters, isolation).map(|notch| (peak, notch))
    }

    /// A train of aortic pulses with an incisura (a 6 mmHg dip, 8 ms standard deviation) 300 ms after each foot
    /// and a rise of `late_rise_mmhg` late in diastole (a balloon inflating late), at 1 kHz, or sampled at 125 Hz,
    /// rounded to whole mmHg (as TestICU's) and brought to 1 kHz.
    fn notched_train(seconds: f64, recorded_at_125_hz: bool, late_rise_mmhg: f64) -> Vec<f64> {
        let pressure = |t: f64| {
            let tau = t % 0.8;
            let bump = |at: f64, width: f64| (-0.5 * ((tau - at) / width).powi(2)).exp();
            70.0 + 45.0 * bump(0.15, 0.06) + 15.0 * bump(0.35, 0.15) - 6.0 * bump(0.3, 0.008)
                + late_rise_mmhg * bump(0.65, 0.03)
        };
        if recorded_at_125_hz {
            let recorded: Vec<f64> = (0..(seconds * 125.0) as usize)
                .map(|i| pressure(i as f64 / 125.0).round())
                .collect();
            crate::signal::resample::resample(&recorded, 125.0, 1000.0).unwrap()
        } else {
            (0..(seconds * 1000.0) as usize)
                .map(|i| pressure(i as f64 / 1000.0))
                .collect()
        }
    }

    #[test]
    fn the_aortic_rules_on_the_smoothed_part_they_read_are_those_on_the_whole_beat_smoothed() {
        // `aortic_alone` smooths a beat's aortic pressure as far as the systolic peak's search reads it, the rest
        // only when the raw samples allow a balloon's rise there, and the upstroke's slope as far as a shoulder
        // could be found: the outcome must be that of the whole beat smoothed, on beats with and without a notch,
        // with a balloon, with sensor noise, NaN before the beat, and views clipped at the beat's ends.
        let settings = SignalSettings::default();
        let filters = PhaseFilters::new(1000.0, &settings);
        let mut channels = vec![
            notched_train(8.0, false, 0.0),
            notched_train(8.0, true, 0.0),
            notched_train(8.0, false, 30.0),
        ];
        for scenario in ["healthy", "shock-ecmo", "shock-ecmo-iabp", "shock-ecmo-af"] {
            for sensors in [SensorLevel::Clean, SensorLevel::Realistic] {
                channels.push(run(scenario, 2, sensors, 8.0).0[1].clone());
            }
        }
        let (mut notches, mut no_notch, mut balloon, mut compared) = (0, 0, 0, 0);
        for pa in &channels {
            let signals = Signals {
                pa: Some(pa),
                ..Signals::default()
            };
            let beats = segment(&signals, 1000.0, &settings).unwrap().beats;
            assert!(beats.len() >= 5, "{} beats", beats.len());
            for beat in &beats {
                let (start, end) = (beat.start, beat.end);
                let mut with_gap = pa.clone();
                with_gap[start.saturating_sub(15) as usize..start.saturating_sub(5) as usize].fill(f64::NAN);
                // The beat in the whole channel, in views ending at its end or starting at its start, and with
                // samples missing just before it.
                for (channel, from, to) in [
                    (pa, 0, pa.len() as u64),
                    (pa, start.saturating_sub(40), end),
                    (pa, start, (end + 40).min(pa.len() as u64)),
                    (&with_gap, 0, pa.len() as u64),
                ] {
                    let view = &channel[from as usize..to as usize];
                    let want = aortic_alone_whole_beat(view, from, (start, end), &filters, &settings);
                    let got = aortic_alone(view, from, (start, end), &filters, &settings, 1000.0);
                    assert_eq!(got, want, "beat {start}..{end}, view {from}..{to}");
                    compared += 1;
                    match want {
                        Ok(_) => notches += 1,
                        Err(PhaseError::NoNotch) => no_notch += 1,
                        Err(PhaseError::BalloonWithoutLvPressure) => balloon += 1,
                        Err(_) => {}
                    }
                }
            }
        }
        assert!(
            notches >= 20 && no_notch >= 20 && balloon >= 20,
            "{notches} {no_notch} {balloon} of {compared}"
        );
        // Short and odd stretches of a rough trace, and a ramp that turns only near the stretch's end (the
        // smoothing is extended up to the channel's end there), in views clipped at the stretch's ends.
        let ramp: Vec<f64> = (0..600)
            .map(|i| match i {
                0..560 => 50.0 + 0.2 * i as f64,
                _ => 162.0 - 2.0 * (i - 560) as f64,
            })
            .collect();
        let mut traces: Vec<Vec<f64>> = (11..31).map(|seed| rough_trace(seed, 600)).collect();
        traces.push(ramp);
        for trace in traces {
            for (start, end) in [
                (100, 125),
                (100, 130),
                (100, 140),
                (100, 160),
                (100, 220),
                (60, 575),
                (100, 590),
            ] {
                for (from, to) in [(0, 600), (start, end), (start - 40, end), (start, end + 10)] {
                    let view = &trace[from as usize..to as usize];
                    let want = aortic_alone_whole_beat(view, from, (start, end), &filters, &settings);
                    let got = aortic_alone(view, from, (start, end), &filters, &settings, 1000.0);
                    assert_eq!(got, want, "stretch {start}..{end}, view {from}..{to}");
                }
            }
        }
    }

    #[test]
    fn the_upstroke_slope_up_to_a_shoulder_is_bit_for_bit_that_of_the_whole_upstroke() {
        // The slope is read from the foot as far as a shoulder could be found, which may be a few samples; in a
        // view starting near the foot, a stretch shorter than a frame would be fitted whole (other numbers).
        let slope = SavgolFilter::from_settings(&SignalSettings::default().savgol, 1, 1000.0).unwrap();
        let channel = rough_trace(3, 400);
        let bits = |v: &[f64]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        for view_start in [0u64, 95, 100, 105] {
            let view = &channel[view_start as usize..];
            for foot in [100u64, 103, 110] {
                for until in [foot, foot + 1, foot + 5, foot + 30, foot + 200] {
                    for peak in [foot + 3, foot + 40, foot + 150] {
                        let (part, first) = upstroke_slope(view, view_start, (foot, until, peak), &slope);
                        let (whole, whole_first) =
                            derivative_around(view, view_start, foot, peak + 1, &slope);
                        assert_eq!(first, whole_first);
                        assert!(first + part.len() as u64 >= until.min(peak + 1));
                        assert_eq!(
                            bits(&part),
                            bits(&whole[..part.len()]),
                            "{view_start} {foot} {until} {peak}"
                        );
                    }
                }
            }
        }
    }

    /// `n` values for searches of extremes: about 30 % drawn from `specials`, 20 % small whole numbers (ties),
    /// the rest normal draws of standard deviation `scale`.
    fn awkward_values(rng: &mut crate::sim::rng::Rng, n: usize, specials: &[f64], scale: f64) -> Vec<f64> {
        (0..n)
            .map(|_| match rng.uniform() {
                u if u < 0.3 => specials[(rng.uniform() * specials.len() as f64) as usize % specials.len()],
                u if u < 0.5 => (rng.uniform() * 4.0).floor(),
                _ => scale * rng.normal(),
            })
            .collect()
    }

    #[test]
    fn the_first_lowest_in_lanes_is_that_of_min_by_total_cmp() {
        // The foot of the pulse: `min_by(total_cmp)` over the smoothed samples (the first of equal lowest ones,
        // -0 below +0, NaN of either sign at the ends of the order), now found in lanes.
        let mut rng = crate::sim::rng::Rng::new(9);
        let specials = [
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0,
            -1.0,
        ];
        for case in 0..2000 {
            let len = case % 23;
            let values = awkward_values(&mut rng, len, &specials, 1.0);
            let want = (0..len).min_by(|&a, &b| values[a].total_cmp(&values[b]));
            assert_eq!(first_lowest(&values), want, "{values:?}");
        }
    }

    #[test]
    fn a_rise_of_the_smoothed_pressure_is_never_ruled_out_by_the_bound_from_its_raw_samples() {
        // `may_rise` bounds the smoothed samples of a stretch from the lowest and highest raw samples around each
        // chunk: where the smoothed samples rise above their running lowest value (from `lowest`) by more than
        // `rise`, it must say so, also for a threshold just below the largest rise (a bound too tight, e.g.
        // without the negative weights' overshoot, fails here); and it rules out rises on a falling diastole.
        let smooth = SavgolFilter::from_settings(&SignalSettings::default().savgol, 0, 1000.0).unwrap();
        let half = smooth.half_width() as u64;
        let (mut ruled_out, mut cases) = (0, 0);
        for seed in 0..40 {
            let mut channel = rough_trace(seed, 700);
            if seed % 5 == 0 {
                channel[350] = f64::NAN;
            }
            if seed % 7 == 3 {
                // A step: the smoothing overshoots above its highest and below its lowest raw sample.
                for (i, v) in channel.iter_mut().enumerate() {
                    *v = if i < 450 { 60.0 } else { 75.0 };
                }
            }
            if seed % 7 == 0 {
                // A decay with a narrow bump: the smoothing's overshoot is what a bound without the negative
                // weights misses.
                for (i, v) in channel.iter_mut().enumerate() {
                    *v = 90.0 * (-(i as f64) / 300.0).exp() + if i == 400 { 6.0 } else { 0.0 };
                }
            }
            let first_sample = 500;
            for (from, to) in [(520, 1190), (600, 900), (530, 531), (700, 1150), (1100, 1100)] {
                let (smoothed, first) = derivative_around(&channel, first_sample, from, to, &smooth);
                assert_eq!(first, from);
                for lowest in [f64::INFINITY, 0.0, -30.0] {
                    let mut running = lowest;
                    let largest = smoothed.iter().fold(f64::NEG_INFINITY, |largest, &value| {
                        running = running.min(value);
                        largest.max(value - running)
                    });
                    for rise in [largest - 1e-6, largest + 1e-6, largest + 2.0, largest + 20.0, 4.0] {
                        let possible = may_rise(&channel, first_sample, (from, to), (lowest, rise), &smooth);
                        let rises = largest > rise;
                        assert!(
                            possible || !rises,
                            "seed {seed} {from}..{to} lowest {lowest} rise {rise}"
                        );
                        cases += 1;
                        ruled_out += usize::from(!possible);
                    }
                }
            }
            // Near the channel's ends the outputs are not all centre outputs: never ruled out.
            assert!(may_rise(
                &channel,
                first_sample,
                (first_sample + half - 1, 800),
                (0.0, 1e9),
                &smooth
            ));
        }
        assert!(ruled_out * 4 > cases, "{ruled_out} of {cases} ruled out");
        // A smooth falling diastole is ruled out with a realistic threshold.
        let diastole: Vec<f64> = (0..900)
            .map(|i| 60.0 + 30.0 * (-(i as f64) / 400.0).exp())
            .collect();
        assert!(!may_rise(&diastole, 0, (100, 880), (85.0, 10.0), &smooth));
    }

    #[test]
    fn the_balloon_rise_read_by_chunks_is_the_first_sample_that_rises_read_one_by_one() {
        // The rule as it was: a running minimum, sample by sample.
        fn one_by_one(pa: Trace, from: u64, end: u64, rise: f64) -> Option<u64> {
            let mut lowest = f64::INFINITY;
            for i in from..end.min(pa.end()) {
                let value = pa.at(i);
                lowest = lowest.min(value);
                if value - lowest > rise {
                    return Some(i);
                }
            }
            None
        }
        let mut found = 0;
        for seed in 0..40 {
            let mut samples = rough_trace(seed, 300);
            if seed % 5 == 0 {
                samples[seed as usize * 7] = f64::NAN;
            }
            if seed % 7 == 0 {
                samples[150] = f64::INFINITY;
            }
            let pa = Trace {
                samples: &samples,
                first_sample: 50,
            };
            for (from, end) in [
                (50, 350),
                (51, 400),
                (90, 107),
                (200, 216),
                (349, 350),
                (120, 110),
            ] {
                for rise in [0.5, 4.0, 9.0, 30.0, 60.0] {
                    let want = one_by_one(pa, from, end, rise);
                    found += usize::from(want.is_some());
                    assert_eq!(
                        balloon_rise(pa, from, end, rise),
                        want,
                        "seed {seed}, {from}..{end}, rise {rise}"
                    );
                }
            }
        }
        assert!(found > 100, "{found} rises found");
    }

    #[test]
    fn the_sharpest_bend_and_the_bends_elsewhere_are_those_of_the_plain_searches() {
        // The searches as they were: over the finite values in order, `max_by(total_cmp)` (the last of equal
        // maxima) and a fold of `f64::max` from 0 beyond the isolation.
        let mut rng = crate::sim::rng::Rng::new(3);
        let specials = [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 5.0, -5.0];
        for case in 0..400 {
            let n = case % 37;
            let second: Vec<f64> = awkward_values(&mut rng, n, &specials, 10.0)
                .into_iter()
                // Half the cases below zero but for zeros of both signs: a zero maximum.
                .map(|v| if case % 2 == 1 && v > 0.0 { -v } else { v })
                .collect();
            let bends = Bends { second, first: 500 };
            let finite = || {
                (500u64..)
                    .zip(bends.second.iter().copied())
                    .filter(|(_, v)| v.is_finite())
            };
            let want = finite().max_by(|a, b| a.1.total_cmp(&b.1));
            let got = bends.sharpest();
            assert_eq!(
                got.map(|(i, v)| (i, v.to_bits())),
                want.map(|(i, v)| (i, v.to_bits())),
                "{:?}",
                bends.second
            );
            for at in [495, 500, 503, 510, 536, 560] {
                for isolation in [0, 2, 7, 40] {
                    let want = finite()
                        .filter(|(i, _)| i.abs_diff(at) > isolation)
                        .map(|(_, v)| v)
                        .fold(0.0f64, f64::max);
                    // Equal as numbers (+0 and -0 alike).
                    assert!(
                        bends.highest_beyond(at, isolation) == want,
                        "{:?}, at {at}, isolation {isolation}",
                        bends.second
                    );
                }
            }
        }
    }

    #[test]
    fn the_extremes_in_lanes_are_those_of_a_plain_fold() {
        for seed in 0..20 {
            for n in [0, 1, 3, 4, 5, 17, 64, 203] {
                let mut samples = rough_trace(seed, n);
                if seed % 3 == 0 && n > 2 {
                    samples[n / 2] = f64::NAN;
                }
                if seed % 4 == 1 && n > 2 {
                    samples[n - 1] = f64::NEG_INFINITY;
                }
                if seed % 5 == 2 && n > 3 {
                    samples[1] = f64::INFINITY;
                }
                let got = extremes(&samples);
                let (lowest, highest) = samples
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    });
                // Equal as numbers (+0 and -0 alike).
                assert!(
                    got.lowest == lowest && got.highest == highest,
                    "seed {seed}, n {n}"
                );
                assert_eq!(got.complete, n > 0 && samples.iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn white_noise_sd_is_recovered_on_a_smooth_pressure() {
        let mut rng = crate::sim::rng::Rng::new(7);
        let samples: Vec<f64> = (0..2000)
            .map(|i| {
                let t = i as f64 / 1000.0;
                60.0 + 20.0 * (std::f64::consts::TAU * 1.5 * t).sin() + 0.3 * rng.normal()
            })
            .collect();
        let trace = Trace {
            samples: &samples,
            first_sample: 100,
        };
        let sd = white_noise_sd(trace, 100, 2100).unwrap();
        assert!((sd - 0.3).abs() < 0.03, "{sd}");
    }
}
