//! The waveforms the comparison view and the case report draw: for each state, the ensemble-averaged coronary
//! beat (Pa, Pd, Doppler velocity) of its resting window and the ensemble-averaged PV loop of its steady PV
//! window, over the accepted stored beats (ensemble averaging by [`crate::signal::ensemble`]), and the ESPVR line
//! of the preload reduction; and the review's occlusion chooser draws every beat's loop of each preload-reduction
//! window ([`BeatLoop`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::analysis::{CaseAnalysis, ReviewError, State, WindowKind};
use crate::model::{Beat, SignalKind};
use crate::signal::ensemble::ensemble_average;
use crate::signal::resample::resample;
use crate::store::{AnalysisWindow, CaseFile};

/// One ensemble-averaged trace, sampled at `sample_rate_hz` from the beats' fiducial.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trace {
    /// What it is.
    pub kind: SignalKind,
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// The averaged samples.
    pub mean: Vec<f64>,
    /// Beats averaged.
    pub num_beats: usize,
}

/// A state's averaged waveforms.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StateWaveforms {
    /// The coronary window they come from.
    pub coronary_window_id: Option<i64>,
    /// Averaged Pa, Pd and velocity (those recorded).
    pub coronary: Vec<Trace>,
    /// The PV window the loop comes from.
    pub pv_window_id: Option<i64>,
    /// The averaged loop: (volume mL, pressure mmHg) from end-diastole round to the next.
    pub pv_loop: Vec<(f64, f64)>,
    /// The ESPVR line (Ees mmHg/mL, V0 mL) of the state's preload reduction, when fitted.
    pub espvr: Option<(f64, f64)>,
}

impl StateWaveforms {
    /// The averaged beat of coronary channel `kind` as (seconds from the beat's start, value) points; empty when
    /// the channel was not recorded.
    pub fn coronary_points(&self, kind: SignalKind) -> Vec<(f64, f64)> {
        self.coronary
            .iter()
            .find(|t| t.kind == kind)
            .map(|t| {
                t.mean
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (i as f64 / t.sample_rate_hz, v))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A plotting range holding every finite value with 5 % headroom (`(0, 1)` when there is none): the comparison
/// view and the PDF report scale their loops and ensembles alike.
pub fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Both states' waveforms.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Waveforms {
    /// VA-ECMO alone.
    pub baseline: StateWaveforms,
    /// After unloading.
    pub post: StateWaveforms,
    /// Every beat's loop of each preload-reduction window, by window id.
    pub occlusion_loops: BTreeMap<i64, Vec<BeatLoop>>,
}

/// One beat's pressure-volume loop, as drawn by the occlusion chooser.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BeatLoop {
    /// The beat's number in its window.
    pub number: u32,
    /// Whether QC (or the reviewer) accepted it.
    pub accepted: bool,
    /// (volume mL, pressure mmHg) from the beat's fiducial to the next, at most [`MAX_LOOP_POINTS`] of them.
    pub points: Vec<(f64, f64)>,
}

/// Most points kept of one loop (every n-th sample): enough for the eye, little to draw per frame.
pub const MAX_LOOP_POINTS: usize = 120;

/// Every stored beat's loop of each preload-reduction window with a report (beats outside the samples, and
/// samples not finite, left out).
fn occlusion_loops(
    file: &CaseFile,
    analysis: &CaseAnalysis,
) -> Result<BTreeMap<i64, Vec<BeatLoop>>, ReviewError> {
    let mut out = BTreeMap::new();
    for (window, kind, _) in &analysis.windows {
        if *kind != Some(WindowKind::PvPreloadReduction) {
            continue;
        }
        let Some(report) = analysis.reports.get(&window.id) else {
            continue;
        };
        let rate = report.settings.analysis_rate_hz();
        let (first, channels) = channels_at_rate(file, window, rate, &[SignalKind::Lvp, SignalKind::Lvv])?;
        let samples = |kind| channels.iter().find(|(k, _)| *k == kind).map(|(_, s)| s);
        let (Some(pressure), Some(volume)) = (samples(SignalKind::Lvp), samples(SignalKind::Lvv)) else {
            continue;
        };
        let len = pressure.len().min(volume.len()) as u64;
        let loops = file
            .beats(window.id)?
            .into_iter()
            .filter(|beat| beat.start >= first && beat.end <= first + len && beat.end > beat.start)
            .map(|beat| {
                let (from, to) = ((beat.start - first) as usize, (beat.end - first) as usize);
                let step = (to - from).div_ceil(MAX_LOOP_POINTS).max(1);
                BeatLoop {
                    number: beat.number,
                    accepted: beat.accepted(),
                    points: (from..to)
                        .step_by(step)
                        .map(|i| (volume[i], pressure[i]))
                        .filter(|(v, p)| v.is_finite() && p.is_finite())
                        .collect(),
                }
            })
            .collect();
        out.insert(window.id, loops);
    }
    Ok(out)
}

impl Waveforms {
    /// The waveforms of `state`.
    pub fn state(&self, state: State) -> &StateWaveforms {
        match state {
            State::Baseline => &self.baseline,
            State::Post => &self.post,
        }
    }
}

/// A channel's samples at the analysis rate.
type Channel = (SignalKind, Vec<f64>);

/// The channels of `kinds` over `window`, at the analysis rate of its report, with the absolute index of their
/// first sample; a channel missing from the case is left out.
fn channels_at_rate(
    file: &CaseFile,
    window: &AnalysisWindow,
    rate_hz: f64,
    kinds: &[SignalKind],
) -> Result<(u64, Vec<Channel>), ReviewError> {
    let recording = file.recording(Some(window.start_s), Some(window.end_s))?;
    let first = (window.start_s * rate_hz).round() as u64;
    let mut out = Vec::new();
    let Some(segment) = recording.segments.first() else {
        return Ok((first, out));
    };
    for &kind in kinds {
        let Some(series) = segment.channel(kind.name()) else {
            continue;
        };
        let samples = if series.sample_rate_hz == rate_hz {
            series.samples.clone()
        } else {
            resample(&series.samples, series.sample_rate_hz, rate_hz)
                .map_err(|error| ReviewError::Stored(format!("resampling {}: {error}", kind.name())))?
        };
        out.push((kind, samples));
    }
    Ok((first, out))
}

/// The averaged waveforms of one state.
fn state_waveforms(
    file: &CaseFile,
    analysis: &CaseAnalysis,
    state: State,
) -> Result<StateWaveforms, ReviewError> {
    let mut waveforms = StateWaveforms::default();
    if let Some((window, report)) = analysis.report(state, WindowKind::CoronaryRest) {
        let rate = report.settings.analysis_rate_hz();
        let beats: Vec<Beat> = file.beats(window.id)?;
        let (first, channels) = channels_at_rate(
            file,
            window,
            rate,
            &[SignalKind::Pa, SignalKind::Pd, SignalKind::Ipv],
        )?;
        waveforms.coronary_window_id = Some(window.id);
        for (kind, samples) in channels {
            if let Some(ensemble) = ensemble_average(&samples, first, &beats) {
                waveforms.coronary.push(Trace {
                    kind,
                    sample_rate_hz: rate,
                    mean: ensemble.mean,
                    num_beats: ensemble.num_beats,
                });
            }
        }
    }
    if let Some((window, report)) = analysis.report(state, WindowKind::PvSteady) {
        let rate = report.settings.analysis_rate_hz();
        let beats: Vec<Beat> = file.beats(window.id)?;
        let (first, channels) = channels_at_rate(file, window, rate, &[SignalKind::Lvp, SignalKind::Lvv])?;
        waveforms.pv_window_id = Some(window.id);
        let ensemble_of = |kind| {
            channels
                .iter()
                .find(|(k, _)| *k == kind)
                .and_then(|(_, samples)| ensemble_average(samples, first, &beats))
        };
        if let (Some(p), Some(v)) = (ensemble_of(SignalKind::Lvp), ensemble_of(SignalKind::Lvv)) {
            waveforms.pv_loop = v.mean.into_iter().zip(p.mean).collect();
        }
    }
    if let Some((_, report)) = analysis.report(state, WindowKind::PvPreloadReduction) {
        waveforms.espvr = report
            .summary
            .espvr
            .as_ref()
            .map(|fit| (fit.ees_mmhg_per_ml, fit.v0_ml));
    }
    Ok(waveforms)
}

/// The averaged waveforms of both states.
pub fn waveforms(file: &CaseFile, analysis: &CaseAnalysis) -> Result<Waveforms, ReviewError> {
    Ok(Waveforms {
        baseline: state_waveforms(file, analysis, State::Baseline)?,
        post: state_waveforms(file, analysis, State::Post)?,
        occlusion_loops: occlusion_loops(file, analysis)?,
    })
}
