//! Offline beat segmentation: whatever channels exist in, numbered and judged beats out, with the fiducial used,
//! or no beats and the reason (ENDPOINTS.md section 2).
//!
//! Fiducial priority: the ECG R wave; LV pressure end-diastole when there is no usable ECG (pressure-volume
//! data; on VA-ECMO the aortic trace may be flat); the arterial onset when only arterial pressure exists. A
//! channel is tried only when [`super::usability`] finds it usable; its beats are kept when at least half are
//! accepted by QC (beats excluded as part of an ectopic pattern count as found: they are a rhythm, not a failure
//! of the channel), otherwise the next channel is tried (and the notes say why). When no channel gives
//! acceptable beats, the best attempt is returned with its rejections, or no beats when nothing could be
//! detected at all. Beats are numbered from 1; the first beat starts at the first fiducial after the lead-in
//! (so beat 1 is the first complete beat). Indices are at the analysis rate.

use serde::{Deserialize, Serialize};

use super::online::{Detector, fiducial_channel};
use super::onset::detect_onsets_searching;
use super::qc::{BeatJudge, QcCounts, counts};
use super::settings::SignalSettings;
use super::signals::{KINDS, SignalError, Signals};
use super::usability::{ChannelReport, assess};
use crate::model::workers::{MIN_SAMPLES_PER_THREAD, Workers};
use crate::model::{Beat, Fiducial, RejectReason, SignalKind};

/// The result of segmenting a record into beats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segmentation {
    /// The fiducial the beats are anchored on (`None` when there are no beats).
    pub fiducial: Option<Fiducial>,
    /// The beats, numbered from 1, with their QC verdicts.
    pub beats: Vec<Beat>,
    /// The verdict on every channel given.
    pub channels: Vec<ChannelReport>,
    /// How the fiducial was chosen (channels skipped and why).
    pub notes: Vec<String>,
    /// Why there are no beats, when there are none.
    pub no_beats_reason: Option<String>,
    /// Runs of consecutive non-pulsatile beats, `[start, end)` sample ranges.
    pub non_pulsatile: Vec<(u64, u64)>,
    /// Beats per verdict.
    pub counts: QcCounts,
}

/// Beats anchored on `fiducial`: the streaming detector run over the whole fiducial channel, then QC on every
/// channel given. Identical to a [`super::online::BeatTracker`] fed the same samples in any chunks.
pub fn detect_beats(
    signals: &Signals,
    fiducial: Fiducial,
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<Vec<Beat>, SignalError> {
    detect_beats_searching(signals, fiducial, sample_rate_hz, 1, &[], settings, Workers::ONE)
}

/// [`detect_beats`] with arterial pulses searched at 1/`factor` of the rate and placed at the full rate
/// ([`detect_onsets_searching`]); the other fiducials, and QC, as [`detect_beats`]. `complete`: channels of
/// `signals` known to miss no sample ([`BeatJudge::with_complete`]). On `workers`: the pulses' searches
/// ([`detect_onsets_searching`]) and the beats' QC measures and contexts ([`BeatJudge::judge_all`]).
pub fn detect_beats_searching(
    signals: &Signals,
    fiducial: Fiducial,
    sample_rate_hz: f64,
    factor: usize,
    complete: &[SignalKind],
    settings: &SignalSettings,
    workers: Workers,
) -> Result<Vec<Beat>, SignalError> {
    signals.len()?;
    let Some(channel) = signals.get(fiducial_channel(fiducial)) else {
        return Err(SignalError::BadSetting(format!(
            "beats on {fiducial:?} need the {} channel",
            fiducial_channel(fiducial).name()
        )));
    };
    let mut detector = Detector::new(fiducial, sample_rate_hz, settings)?;
    let mut found = Vec::new();
    if fiducial == Fiducial::PressureOnset && factor > 1 {
        found = detect_onsets_searching(
            channel,
            sample_rate_hz,
            factor,
            &settings.onset,
            settings.lead_in_s,
            workers,
        )
        .map_err(|error| SignalError::BadSetting(error.to_string()))?;
    } else {
        detector.push(channel, &mut found);
        detector.finish(&mut found);
    }
    let base = signals.first_sample;
    let fiducials: Vec<u64> = found.iter().map(|&at| base + at).collect();
    Ok(BeatJudge::new(fiducial, sample_rate_hz, settings)
        .with_complete(complete.to_vec())
        .judge_all(signals, &fiducials, workers))
}

/// Segments a record: checks every channel, picks the fiducial by priority, detects and judges the beats.
pub fn segment(
    signals: &Signals,
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<Segmentation, SignalError> {
    segment_with(signals, &PRIORITY, sample_rate_hz, settings)
}

/// The fiducials [`segment`] tries, in order.
const PRIORITY: [Fiducial; 3] = [Fiducial::RWave, Fiducial::LvEndDiastole, Fiducial::PressureOnset];

/// [`segment`] with arterial pulses searched at 1/`factor` of the rate ([`detect_beats_searching`]; 1: at the
/// rate, as [`segment`]) and the per-channel checks and per-beat QC measures on `workers`: what the offline
/// analysis of a record does (a pulse needs no more than 125 Hz to be found; at 250 Hz or more its onset is then
/// placed on the full-rate samples). The result is the same for any number of workers.
pub fn segment_searching(
    signals: &Signals,
    sample_rate_hz: f64,
    factor: usize,
    settings: &SignalSettings,
    workers: Workers,
) -> Result<Segmentation, SignalError> {
    segment_inner(signals, &PRIORITY, sample_rate_hz, factor, settings, workers)
}

/// [`segment`] trying only the fiducials in `priority`, in that order.
pub fn segment_with(
    signals: &Signals,
    priority: &[Fiducial],
    sample_rate_hz: f64,
    settings: &SignalSettings,
) -> Result<Segmentation, SignalError> {
    segment_inner(signals, priority, sample_rate_hz, 1, settings, Workers::ONE)
}

fn segment_inner(
    signals: &Signals,
    priority: &[Fiducial],
    sample_rate_hz: f64,
    factor: usize,
    settings: &SignalSettings,
    workers: Workers,
) -> Result<Segmentation, SignalError> {
    let len = signals.len()?;
    if !(sample_rate_hz.is_finite() && sample_rate_hz >= 100.0) {
        return Err(SignalError::BadRate(sample_rate_hz));
    }
    let present: Vec<(SignalKind, &[f64])> = signals.present().collect();
    // Each channel checked on its own (one per thread when they are long).
    let per_thread = if len >= MIN_SAMPLES_PER_THREAD {
        1
    } else {
        present.len()
    };
    let channels: Vec<ChannelReport> = workers.map_chunks(present.len(), per_thread, |range| {
        present[range]
            .iter()
            .map(|&(kind, samples)| assess(kind, samples, sample_rate_hz, &settings.usability))
            .collect()
    });
    let report = |kind| channels.iter().find(|r| r.kind == kind);
    // Channels whose values would mislead QC (noise, implausible, mostly missing) are left out of it.
    let mut measured = Signals {
        first_sample: signals.first_sample,
        ..Signals::default()
    };
    for kind in KINDS {
        if report(kind).is_some_and(ChannelReport::usable_for_measures) {
            measured.set(kind, signals.get(kind));
        }
    }
    // Channels the checks found without a missing sample: QC need not look for one beat by beat.
    let complete: Vec<SignalKind> = channels
        .iter()
        .filter(|report| report.complete())
        .map(|report| report.kind)
        .collect();
    let mut notes = Vec::new();
    let mut best: Option<(Fiducial, Vec<Beat>)> = None;
    for &fiducial in priority {
        let kind = fiducial_channel(fiducial);
        let Some(report) = report(kind) else { continue };
        if !report.usable_as_fiducial() {
            notes.push(format!(
                "{} not used to find beats: {}",
                kind.title(),
                report.reason()
            ));
            continue;
        }
        // The fiducial channel itself is always given to QC (its gaps must reject beats).
        let mut input = measured;
        input.set(kind, signals.get(kind));
        let beats = detect_beats_searching(
            &input,
            fiducial,
            sample_rate_hz,
            factor,
            &complete,
            settings,
            workers,
        )?;
        let num_accepted = beats.iter().filter(|b| b.accepted()).count();
        let num_rhythm = beats
            .iter()
            .filter(|b| b.reject == Some(RejectReason::Ectopic))
            .count();
        let good = beats.len() >= 2
            && (num_accepted + num_rhythm) as f64
                >= settings.usability.min_accepted_fraction * beats.len() as f64;
        if good {
            best = Some((fiducial, beats));
            break;
        }
        notes.push(format!(
            "{}: {} beats detected, {num_accepted} accepted: not trusted as the fiducial",
            kind.name(),
            beats.len()
        ));
        let better = best
            .as_ref()
            .is_none_or(|(_, b)| b.iter().filter(|x| x.accepted()).count() < num_accepted);
        if !beats.is_empty() && better {
            best = Some((fiducial, beats));
        }
    }
    let (fiducial, beats) = match best {
        Some((fiducial, beats)) => (Some(fiducial), beats),
        None => (None, Vec::new()),
    };
    let no_beats_reason = beats.is_empty().then(|| {
        if priority.iter().all(|f| report(fiducial_channel(*f)).is_none()) {
            let names: Vec<&str> = priority.iter().map(|f| fiducial_channel(*f).name()).collect();
            format!(
                "no channel to detect beats on (need one of: {})",
                names.join(", ")
            )
        } else if notes.is_empty() {
            "no beats detected".to_owned()
        } else {
            notes.join("; ")
        }
    });
    Ok(Segmentation {
        fiducial,
        non_pulsatile: non_pulsatile_runs(&beats),
        counts: counts(&beats),
        beats,
        channels,
        notes,
        no_beats_reason,
    })
}

/// Merges consecutive non-pulsatile beats into `[start, end)` runs.
pub fn non_pulsatile_runs(beats: &[Beat]) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for beat in beats.iter().filter(|b| b.non_pulsatile) {
        match runs.last_mut() {
            Some(run) if run.1 == beat.start => run.1 = beat.end,
            _ => runs.push((beat.start, beat.end)),
        }
    }
    runs
}
