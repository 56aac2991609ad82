//! From a recording to one report (ENDPOINTS.md sections 2-6): channels picked and brought to the analysis rate,
//! beats found and judged by `signal/` (at the record's own rate when it is lower: `channels`), every
//! per-beat metric, the window values and the fits (ESPVR, EDPVR,
//! PRSW from the chosen occlusion beats). The same per-beat code serves the live monitor ([`live`]).
//!
//! Bad data never stops the pipeline: a flat, noisy or missing channel yields no beats or no values, with the
//! reason in the report's notes. Only a caller's mistake (a channel index past the end, an empty time range)
//! is an error.

mod beats;
mod blocks;
mod channels;
pub mod live;
mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use beats::{BeatMetrics, BeatRecord};
pub use channels::{ChannelChoice, signal_kind_from_alias};
pub use summary::{PvWindow, Summary, SupplyDemandWindow, V0Source};

use super::coronary::{CdfrResult, CoronaryBeat, CoronaryState, cdfr};
use super::endpoints::{Endpoint, WindowContext, window_endpoints};
use super::numeric::sum;
use super::pv::PvBeat;
use super::pv::relations::{
    BeatPoint, EdpvrFit, EspvrFit, LoopSamples, PrswFit, fit_edpvr, fit_espvr, fit_prsw,
};
use super::settings::{AnalysisSettings, V0Setting};
use super::{ALGORITHM_VERSION, Unavailable};
use crate::model::workers::Workers;
use crate::model::{Beat, Fiducial, Recording, RejectReason, WindowKind};
use crate::signal::lv::beat_fiducials;
use crate::signal::phases::{BeatPhases, PhaseFilters};
use crate::signal::segment::segment_searching;
use crate::signal::{Segmentation, SignalError, Signals};
use beats::{BeatContext, LvBuffers, note_phase_failures};
use blocks::{BLOCK_SAMPLES, Blocks};

/// A caller's mistake that stops the analysis (bad data never does: it is reported).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A `--signal NAME=INDEX` choice past the last channel.
    #[error(
        "channel index {index} for {kind} is out of range: the recording has {num_channels} channels (0-based)"
    )]
    BadChannelIndex {
        /// The signal asked for.
        kind: String,
        /// The index given.
        index: usize,
        /// Channels in the segment.
        num_channels: usize,
    },
    /// `from` is not before `to`.
    #[error("empty time range: from {from_s} s to {to_s} s")]
    BadTimeRange {
        /// Start, s.
        from_s: f64,
        /// End, s.
        to_s: f64,
    },
    /// The occlusion beat range is empty or reversed.
    #[error("occlusion beats {first}-{last}: the first must not be after the last")]
    BadBeatRange {
        /// First beat.
        first: u32,
        /// Last beat.
        last: u32,
    },
    /// A channel could not be resampled to the analysis rate.
    #[error("resampling {channel}: {message}")]
    Resample {
        /// The channel.
        channel: String,
        /// Why.
        message: String,
    },
    /// The analysis or derivative settings are out of range.
    #[error("settings: {0}")]
    Settings(String),
    /// `signal/` refused its input (a settings or rate problem).
    #[error(transparent)]
    Signal(#[from] SignalError),
}

/// What to analyse.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysisRequest {
    /// Explicit channel choices (the rest are matched by name).
    pub channels: Vec<ChannelChoice>,
    /// Start of the analysed range, s from the start of the recording.
    pub from_s: Option<f64>,
    /// End of the analysed range, s.
    pub to_s: Option<f64>,
    /// First and last beat (inclusive, numbers as reported) of a preload reduction, for ESPVR/EDPVR/PRSW.
    pub occlusion_beats: Option<(u32, u32)>,
    /// The baseline state's wave speed, to analyse this (post) state's wave intensity with it too.
    pub baseline_wave_speed_m_s: Option<f64>,
    /// The reviewer's verdicts by beat number, replacing quality control's (`None` accepts the beat, `Some`
    /// rejects it): every window value, fit and count then follows the reviewed beats.
    pub verdicts: BTreeMap<u32, Option<RejectReason>>,
    /// What the window measures, when known (labels its endpoints).
    pub kind: Option<WindowKind>,
    /// Calibration state and device while it was recorded (flags its endpoints).
    pub context: WindowContext,
    /// How many parts of the per-beat work may run at once (one by default; the report is the same for any
    /// number).
    pub workers: Workers,
}

/// The analysis of one recording (or window): what `heracles analyze --json` prints and the case file stores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Every beat found, accepted or not.
    pub beats: Vec<BeatRecord>,
    /// The metrics of every beat (same order as `beats`).
    pub per_beat: Vec<BeatMetrics>,
    /// Window values, fits and notes.
    pub summary: Summary,
    /// The settings used (stored once; results refer to them by `settings_hash`).
    pub settings: AnalysisSettings,
    /// Hash of `settings`.
    pub settings_hash: String,
    /// The algorithm version that produced the report.
    pub algorithm_version: String,
    /// Every value of the window, labelled ([`super::endpoints::window_endpoints`]): what every view and export
    /// shows.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

impl Report {
    /// The coronary values CDFR pools, in beat order, and whether they are a steady window: the consecutive
    /// accepted beats of the summary's steady window (ENDPOINTS.md section 4), or every accepted beat when the
    /// state never became steady (`false`: the CDFR is flagged `not_steady`).
    pub fn steady_coronary_beats(&self) -> (Vec<CoronaryBeat>, bool) {
        let steady = self.summary.steady_window.as_ref();
        let beats = self
            .beats
            .iter()
            .zip(&self.per_beat)
            .filter(|(beat, _)| beat.accepted)
            .filter(|(beat, _)| steady.is_none_or(|window| window.beat_numbers.contains(&beat.number)))
            .filter_map(|(_, metrics)| metrics.coronary)
            .collect();
        (beats, steady.is_some())
    }
}

/// CDFR between the reference state's report and the post-unloading state's, over each one's steady window
/// ([`Report::steady_coronary_beats`]), with the reference kind, CI and stability flags (ECMO flow from each report's `ecmo_flow` channel, when recorded).
pub fn cdfr_between(
    reference: &Report,
    post: &Report,
    settings: &AnalysisSettings,
) -> Result<CdfrResult, Unavailable> {
    let ((reference_beats, reference_steady), (post_beats, post_steady)) =
        (reference.steady_coronary_beats(), post.steady_coronary_beats());
    cdfr(
        CoronaryState {
            beats: &reference_beats,
            steady: reference_steady,
            ecmo_flow_l_min: reference.summary.ecmo_flow_l_min,
        },
        CoronaryState {
            beats: &post_beats,
            steady: post_steady,
            ecmo_flow_l_min: post.summary.ecmo_flow_l_min,
        },
        settings,
    )
}

/// Analyses `recording` as `request` asks.
pub fn analyze_recording(
    recording: &Recording,
    settings: &AnalysisSettings,
    request: &AnalysisRequest,
) -> Result<Report, PipelineError> {
    analyze_in_blocks(recording, settings, request, BLOCK_SAMPLES)
}

/// [`analyze_recording`] with the per-beat values measured in blocks of at most `block_samples` (the report is
/// the same for any length).
fn analyze_in_blocks(
    recording: &Recording,
    settings: &AnalysisSettings,
    request: &AnalysisRequest,
    block_samples: u64,
) -> Result<Report, PipelineError> {
    if let Some((first, last)) = request.occlusion_beats
        && first > last
    {
        return Err(PipelineError::BadBeatRange { first, last });
    }
    let rate = settings.analysis_rate_hz();
    let prepared = channels::prepare(recording, &request.channels, request.from_s, request.to_s, rate)?;
    let mut notes = prepared.notes.clone();
    let signals = prepared.signals();
    let blocks = Blocks::new(
        signals,
        prepared.native.as_ref(),
        prepared.len,
        settings,
        block_samples,
    )?;
    let native = prepared
        .native
        .as_ref()
        .map(|native| (native.signals(), native.rate_hz));
    let analysed = analyse(&blocks, native, None, request, &mut notes)?;
    let summary = summary::summarise(&blocks, &prepared, &analysed, request, notes);
    let context = &blocks.whole;
    let mut report = Report {
        beats: analysed
            .beats
            .iter()
            .map(|beat| context.record(beat, prepared.start_s))
            .collect(),
        per_beat: analysed.metrics,
        summary,
        settings_hash: settings.hash(),
        settings: settings.clone(),
        algorithm_version: ALGORITHM_VERSION.to_owned(),
        endpoints: Vec::new(),
    };
    report.endpoints = window_endpoints(&report, request.kind, &request.context);
    Ok(report)
}

/// Beats, phases and metrics of one stretch of signal, with the fits when occlusion beats were chosen.
pub(crate) struct Analysed {
    pub segmentation: Segmentation,
    /// The beats whose metrics were computed (all, or the newest in live use).
    pub beats: Vec<Beat>,
    pub phases: Vec<Option<BeatPhases>>,
    pub metrics: Vec<BeatMetrics>,
    pub v0_ml: f64,
    pub v0_source: V0Source,
    pub espvr: Option<EspvrFit>,
    pub edpvr: Option<EdpvrFit>,
    pub prsw: Option<PrswFit>,
}

/// Offset of the beat's own dP/dt min in its derivative: the minimum after its dP/dt max, as
/// [`beat_fiducials`] places it for the phases. A beat that starts early (AF, an ectopic) begins while the previous
/// beat still relaxes, whose dP/dt min is not this beat's (the ES search would end at the beat's first samples).
/// A derivative with a gap or no upstroke: its lowest value.
fn dpdt_min_offset(dpdt: &[f64]) -> usize {
    match beat_fiducials(dpdt, 0, 0, dpdt.len() as u64, 0, 1.0) {
        Some(fiducials) => fiducials.dpdt_min_index as usize,
        None => {
            dpdt.iter()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |best, (i, &x)| if x < best.1 { (i, x) } else { best },
                )
                .0
        }
    }
}

/// Fewest beats worth a thread of their own. Placing one beat's phases and coronary values takes about 7.5 us
/// (a 125 Hz arterial record, perf; more with LV channels), its PV values about 6 us, and starting and joining a
/// thread 20-130 us (measured on the 2-core test machine, idle to loaded), so a chunk this long spends at most a
/// few percent of its time on its thread; a shorter analysis (a short protocol window) runs on the caller's
/// thread.
const MIN_BEATS_PER_THREAD: usize = 256;

/// Segments, places phases and computes per-beat metrics and fits. `native` is the same stretch at the rate it
/// was recorded (below the analysis rate): beats are found and judged there ([`segment_at`]); `blocks` makes
/// the channels and LV traces of each block of beats the per-beat values read ([`blocks`]). `newest` limits
/// the metrics to the last beats (live use); `request` names the beats of a preload reduction, the reviewer's
/// verdicts and the workers the per-beat values are split over (contiguous chunks of beats, joined in order:
/// each beat's values are the same for any number of workers and any blocks).
pub(crate) fn analyse(
    blocks: &Blocks<'_>,
    native: Option<(Signals<'_>, f64)>,
    newest: Option<usize>,
    request: &AnalysisRequest,
    notes: &mut Vec<String>,
) -> Result<Analysed, PipelineError> {
    let (verdicts, workers) = (&request.verdicts, request.workers);
    let settings = blocks.whole.settings;
    let mut segmentation = segment_at(&blocks.whole, native, blocks.end_sample(), workers)?;
    if !verdicts.is_empty() {
        let mut num_applied = 0;
        for beat in &mut segmentation.beats {
            if let Some(verdict) = verdicts.get(&beat.number) {
                beat.reject = verdict.clone();
                num_applied += 1;
            }
        }
        segmentation.counts = crate::signal::qc::counts(&segmentation.beats);
        if num_applied < verdicts.len() {
            notes.push(format!(
                "{} reviewer verdict(s) name beats not found in the analysed range",
                verdicts.len() - num_applied
            ));
        }
    }
    notes.extend(segmentation.notes.iter().cloned());
    if let Some(reason) = &segmentation.no_beats_reason
        && segmentation.notes.is_empty()
    {
        notes.push(format!("no beats: {reason}"));
    }
    let skip = newest.map_or(0, |n| segmentation.beats.len().saturating_sub(n));
    let beats: Vec<Beat> = segmentation.beats[skip..].to_vec();
    let filters = PhaseFilters::new(settings.analysis_rate_hz(), &settings.signal);
    // The relations first (V0 and the EDPVR enter every beat's values), on the stretch of the chosen beats; their
    // notes follow the phases' in the report.
    let relations = match request.occlusion_beats {
        Some(occlusion) => occlusion_relations(blocks, &filters, &beats, occlusion),
        None => Relations::without_occlusion(settings),
    };
    let (v0_ml, edpvr) = (relations.v0_ml, relations.edpvr.as_ref());
    // A beat on the arterial onset with LV pressure has its PV span end at the next beat's ED.
    let lookahead =
        segmentation.fiducial == Some(Fiducial::PressureOnset) && blocks.whole.signals.lvp.is_some();
    let (placed, metrics): (Vec<_>, Vec<_>) = workers
        .map_chunks(beats.len(), MIN_BEATS_PER_THREAD, |range| {
            let mut measured = Vec::with_capacity(range.len());
            let mut buffers = LvBuffers::default();
            blocks.for_each_block(&beats, range, lookahead, &mut buffers, |context, block, held| {
                let mut placed: Vec<_> = held
                    .iter()
                    .map(|beat| context.beat_phases(&filters, beat))
                    .collect();
                let metrics: Vec<BeatMetrics> = (0..block.len())
                    .map(|i| {
                        let next = held.get(i + 1).map(|next| (next, placed[i + 1].as_ref().ok()));
                        context.beat_metrics(&held[i], &placed[i], next, v0_ml, edpvr)
                    })
                    .collect();
                placed.truncate(block.len());
                measured.extend(placed.into_iter().zip(metrics));
            });
            measured
        })
        .into_iter()
        .unzip();
    note_phase_failures(&placed, notes);
    notes.extend(relations.notes);
    let phases = placed.into_iter().map(Result::ok).collect();
    Ok(Analysed {
        segmentation,
        beats,
        phases,
        metrics,
        v0_ml,
        v0_source: relations.v0_source,
        espvr: relations.espvr,
        edpvr: relations.edpvr,
        prsw: relations.prsw,
    })
}

/// V0 and the fits of a preload reduction, with their notes.
struct Relations {
    v0_ml: f64,
    v0_source: V0Source,
    espvr: Option<EspvrFit>,
    edpvr: Option<EdpvrFit>,
    prsw: Option<PrswFit>,
    notes: Vec<String>,
}

impl Relations {
    /// No occlusion chosen: V0 as the settings give it without an ESPVR, no fits.
    fn without_occlusion(settings: &AnalysisSettings) -> Relations {
        let (v0_ml, v0_source) = v0(settings, None);
        Relations {
            v0_ml,
            v0_source,
            espvr: None,
            edpvr: None,
            prsw: None,
            notes: Vec::new(),
        }
    }
}

/// V0 from the settings, or the ESPVR's when the settings take it from there.
fn v0(settings: &AnalysisSettings, espvr: Option<&EspvrFit>) -> (f64, V0Source) {
    match (settings.v0, espvr) {
        (V0Setting::Fixed { v0_ml }, _) => (v0_ml, V0Source::Fixed),
        (V0Setting::CaseEspvr { v0_ml, window_id }, _) => (v0_ml, V0Source::CaseEspvr { window_id }),
        (V0Setting::FromEspvrElseZero, Some(fit)) => (fit.v0_ml, V0Source::Espvr),
        (V0Setting::FromEspvrElseZero, None) => (0.0, V0Source::Zero),
    }
}

/// ESPVR, V0, EDPVR and PRSW from the accepted beats numbered `first..=last` (a beat rejected by quality control
/// or by the reviewer is left out and named in the notes), measured on their own stretch.
fn occlusion_relations(
    blocks: &Blocks<'_>,
    filters: &PhaseFilters,
    beats: &[Beat],
    (first, last): (u32, u32),
) -> Relations {
    let settings = blocks.whole.settings;
    let mut notes = Vec::new();
    let in_range: Vec<usize> = (0..beats.len())
        .filter(|&k| (first..=last).contains(&beats[k].number))
        .collect();
    let chosen: Vec<usize> = in_range
        .iter()
        .copied()
        .filter(|&k| beats[k].accepted_for_pv())
        .collect();
    let missing = (u64::from(last) - u64::from(first) + 1).saturating_sub(in_range.len() as u64);
    if missing > 0 {
        notes.push(format!(
            "occlusion beats {first}-{last}: {missing} of them not found in the analysed range"
        ));
    }
    let rejected: Vec<String> = in_range
        .iter()
        .filter(|&&k| !beats[k].accepted_for_pv())
        .filter_map(|&k| {
            beats[k]
                .reject
                .as_ref()
                .map(|r| format!("{} ({})", beats[k].number, r.key()))
        })
        .collect();
    if !rejected.is_empty() {
        notes.push(format!(
            "occlusion beats rejected and left out of ESPVR/EDPVR/PRSW: {}",
            rejected.join(", ")
        ));
    }
    // The chosen beats and the one after the last (whose ED may end its PV span): beat numbers rise with the
    // index, so the beats in range are consecutive.
    let held = match (in_range.first(), in_range.last()) {
        (Some(&a), Some(&b)) => a..(b + 2).min(beats.len()),
        _ => 0..0,
    };
    let mut buffers = LvBuffers::default();
    let (espvr, (v0_ml, v0_source), pvs) =
        blocks.with_stretch(&beats[held.clone()], &mut buffers, |context| {
            let placed: Vec<Option<BeatPhases>> = beats[held.clone()]
                .iter()
                .map(|beat| context.beat_phases(filters, beat).ok())
                .collect();
            let spans: Vec<(usize, Option<(u64, u64)>)> = chosen
                .iter()
                .map(|&k| {
                    let i = k - held.start;
                    let next = beats
                        .get(k + 1)
                        .map(|next| (next, placed.get(i + 1).and_then(Option::as_ref)));
                    (k, BeatContext::pv_span(&beats[k], placed[i].as_ref(), next))
                })
                .collect();
            let espvr = occlusion_espvr(context, beats, &spans)
                .map_err(|reason| notes.push(format!("ESPVR: {reason}")))
                .ok();
            let v0 = v0(settings, espvr.as_ref());
            let pvs: Vec<(usize, Option<PvBeat>)> = spans
                .iter()
                .map(|&(k, span)| (k, context.pv(span, v0.0, &mut Vec::new())))
                .collect();
            (espvr, v0, pvs)
        });
    let points = |value: fn(&PvBeat) -> f64| -> Vec<BeatPoint> {
        pvs.iter()
            .filter_map(|(k, pv)| {
                let pv = pv.as_ref()?;
                Some(BeatPoint {
                    beat: beats[*k].number,
                    edv_ml: pv.edv_ml,
                    value: value(pv),
                })
            })
            .collect()
    };
    let edpvr = fit_edpvr(&points(|pv| pv.lvedp_mmhg), settings)
        .map_err(|reason| notes.push(format!("EDPVR: {reason}")))
        .ok();
    let prsw = fit_prsw(&points(|pv| pv.sw_mmhg_ml), settings)
        .map_err(|reason| notes.push(format!("PRSW: {reason}")))
        .ok();
    Relations {
        v0_ml,
        v0_source,
        espvr,
        edpvr,
        prsw,
        notes,
    }
}

/// The lowest rate arterial pulses are searched at: at the analysis rate they are searched on a copy at this rate
/// (or the next whole fraction of the rate above it) and each onset placed on the full-rate samples
/// ([`crate::signal::onset::detect_onsets_searching`]); PhysioNet's `wabp` works at 125 Hz.
const PULSE_SEARCH_RATE_HZ: f64 = 125.0;

/// The beats of `context`, found and judged at the rate of `native` when given (the record's own rate), with
/// their sample indices then brought to the analysis rate: detection and quality control need no more than the
/// recorded samples (PhysioNet's `wabp` works at 125 Hz), and an 8x upsampled copy costs them 8x the work. An
/// onset moves by less than one recorded sample (8 ms at 125 Hz); the phases and every per-beat value are still
/// measured at the analysis rate. The channel checks and the beats' QC measures run on `workers`.
fn segment_at(
    context: &BeatContext<'_>,
    native: Option<(Signals<'_>, f64)>,
    end: u64,
    workers: Workers,
) -> Result<Segmentation, PipelineError> {
    let settings = context.settings;
    let rate = settings.analysis_rate_hz();
    let Some((signals, native_rate)) = native else {
        let factor = (rate / PULSE_SEARCH_RATE_HZ).floor().max(1.0) as usize;
        return Ok(segment_searching(
            &context.signals,
            rate,
            factor,
            &settings.signal,
            workers,
        )?);
    };
    let mut segmentation = segment_searching(&signals, native_rate, 1, &settings.signal, workers)?;
    let first = context.signals.first_sample;
    let to_analysis = |index: u64| {
        let offset = (index - signals.first_sample) as f64 * rate / native_rate;
        (first + offset.round() as u64).min(end)
    };
    for beat in &mut segmentation.beats {
        (beat.start, beat.end) = (to_analysis(beat.start), to_analysis(beat.end));
    }
    for run in &mut segmentation.non_pulsatile {
        *run = (to_analysis(run.0), to_analysis(run.1));
    }
    Ok(segmentation)
}

/// The ESPVR over the chosen beats with their PV spans (ES searched from ED up to dP/dt min), on `context`'s
/// stretch.
fn occlusion_espvr(
    context: &BeatContext<'_>,
    beats: &[Beat],
    spans: &[(usize, Option<(u64, u64)>)],
) -> Result<EspvrFit, Unavailable> {
    let (Some(lvp), Some(lvv), Some(dpdt)) = (context.pv.lvp_mmhg, context.pv.lvv_ml, context.pv.dpdt_mmhg_s)
    else {
        return Err(Unavailable::MissingChannel("LV pressure and volume".into()));
    };
    let first = context.signals.first_sample;
    let loops: Vec<LoopSamples<'_>> = spans
        .iter()
        .filter_map(|&(k, span)| {
            let (start, end) = span?;
            let (start, end) = ((start - first) as usize, (end - first) as usize);
            let (p, v, d) = (lvp.get(start..end)?, lvv.get(start..end)?, dpdt.get(start..end)?);
            let finite = (sum(p) + sum(v)).is_finite();
            finite.then(|| LoopSamples {
                number: beats[k].number,
                lvp_mmhg: p,
                lvv_ml: v,
                search_len: dpdt_min_offset(d) + 1,
            })
        })
        .collect();
    fit_espvr(&loops, context.settings)
}

#[cfg(test)]
mod tests {
    use super::{AnalysisRequest, analyze_in_blocks, dpdt_min_offset, signal_kind_from_alias};
    use crate::analysis::settings::AnalysisSettings;
    use crate::model::{Recording, Segment, SignalKind, TimeSeries};
    use crate::sim::{SensorLevel, Simulator};

    /// A minute of a simulated pressure-volume patient at 1 kHz (ECG, arterial, distal, Doppler, LV pressure and
    /// volume), with 150 ms of every channel missing at 30 s.
    fn pressure_volume_minute() -> Recording {
        let mut simulator = Simulator::new("shock-ecmo-occlusion", 5, SensorLevel::Realistic).unwrap();
        let spec = simulator.source_spec();
        let mut samples = vec![Vec::new(); spec.channels.len()];
        simulator.advance((60.0 * spec.sample_rate_hz) as usize, |sample| {
            for (channel, value) in samples.iter_mut().zip(&sample.measured) {
                channel.push(*value);
            }
        });
        let mut segment = Segment {
            start_s: 0.0,
            channels: Vec::new(),
        };
        for (channel, mut samples) in spec.channels.iter().zip(samples) {
            samples[30_000..30_150].fill(f64::NAN);
            let (name, unit) = (channel.name.clone(), channel.unit.clone());
            let sample_rate_hz = spec.sample_rate_hz;
            segment.channels.push(TimeSeries {
                name,
                unit,
                sample_rate_hz,
                samples,
            });
        }
        Recording {
            segments: vec![segment],
            markers: vec![],
        }
    }

    #[test]
    fn the_report_is_the_same_for_any_length_of_block() {
        // One block of every beat (the LV traces of the whole stretch, as whole-channel filters give them) against
        // blocks of one beat (shorter than a beat's stretch), of a few beats and of a dozen: every stretch ends
        // inside a neighbouring beat, the first and last beats meet the record's ends, and blocks fall on the
        // gap. With ECG (beats on the R wave) and without (on LV end-diastole), with and without a preload
        // reduction (the relations on their own stretch, V0 from the ESPVR in every beat's values); and a record
        // left at its own rate.
        let settings = AnalysisSettings::default();
        let with_ecg = pressure_volume_minute();
        let mut without_ecg = with_ecg.clone();
        without_ecg.segments[0]
            .channels
            .retain(|channel| signal_kind_from_alias(&channel.name) != Some(SignalKind::Ecg));
        // Arterial pressure alone at 125 Hz: left at its rate, each block's stretch brought to 1 kHz.
        let mut arterial = with_ecg.clone();
        arterial.segments[0]
            .channels
            .retain(|channel| signal_kind_from_alias(&channel.name) == Some(SignalKind::Pa));
        let pa = &mut arterial.segments[0].channels[0];
        pa.samples = pa.samples.iter().step_by(8).copied().collect();
        pa.sample_rate_hz = 125.0;
        let occlusion = AnalysisRequest {
            occlusion_beats: Some((20, 34)),
            ..AnalysisRequest::default()
        };
        for recording in [&with_ecg, &without_ecg, &arterial] {
            for request in [&AnalysisRequest::default(), &occlusion] {
                let report = |block_samples| {
                    let report = analyze_in_blocks(recording, &settings, request, block_samples).unwrap();
                    serde_json::to_string(&report).unwrap()
                };
                let whole = report(u64::MAX);
                let parsed: serde_json::Value = serde_json::from_str(&whole).unwrap();
                let per_beat = parsed["per_beat"].as_array().unwrap();
                assert!(per_beat.len() > 40, "{} beats", per_beat.len());
                let measured = |part: &str| per_beat.iter().filter(|beat| !beat[part].is_null()).count();
                let part = if std::ptr::eq(recording, &arterial) {
                    "coronary"
                } else {
                    "pv"
                };
                assert!(
                    measured(part) > per_beat.len() / 2,
                    "{} of {} beats with {part}",
                    measured(part),
                    per_beat.len()
                );
                for block_samples in [1, 2_500, 9_000] {
                    assert!(
                        report(block_samples) == whole,
                        "blocks of {block_samples} samples"
                    );
                }
            }
        }
    }

    #[test]
    fn dpdt_min_is_the_beats_own_after_its_contraction() {
        // A beat that starts while the previous one still relaxes (-1500 mmHg/s), then contracts (+900) and relaxes
        // (-1000): its own dP/dt min is the -1000 after the contraction, not the inherited -1500.
        let dpdt = [-1500.0, -800.0, 0.0, 900.0, 400.0, 0.0, -1000.0, -300.0];
        assert_eq!(dpdt_min_offset(&dpdt), 6);
        // A beat that starts at rest: the same as the plain minimum.
        assert_eq!(dpdt_min_offset(&[0.0, 900.0, 0.0, -1000.0, -200.0]), 3);
    }
}
