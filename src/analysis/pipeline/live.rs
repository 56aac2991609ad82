//! Live use: the same per-beat code as offline analysis, run on the newest window of the ring buffers.
//!
//! The caller hands over plain channels (e.g. the last 20 s) at one rate; beats are found on the whole window
//! (detectors need a few seconds to settle: keep the window at least ~10 s, or ~15 s when only arterial pressure
//! times the beats) and metrics are computed for the newest beats only, which keeps a call well under a
//! millisecond per beat. Sample indices are absolute, so successive calls can be matched beat by beat.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::beats::{BeatMetrics, BeatRecord};
use super::blocks::{BLOCK_SAMPLES, Blocks};
use super::channels::beats_at_recorded_rate;
use super::{PipelineError, analyse};
use crate::analysis::settings::AnalysisSettings;
use crate::model::{Beat, Fiducial, SignalKind};
use crate::signal::Signals;
use crate::signal::resample::resample;

/// The newest window of the live channels, all of one rate and length, starting at absolute `first_sample`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveWindow<'a> {
    /// Absolute index (at `sample_rate_hz`) of sample 0 of every slice.
    pub first_sample: u64,
    /// Sample rate of the slices, Hz (resampled to the analysis rate when different).
    pub sample_rate_hz: f64,
    /// ECG.
    pub ecg: Option<&'a [f64]>,
    /// Aortic pressure, mmHg.
    pub pa: Option<&'a [f64]>,
    /// Distal coronary pressure, mmHg.
    pub pd: Option<&'a [f64]>,
    /// Doppler velocity, cm/s.
    pub ipv: Option<&'a [f64]>,
    /// LV pressure, mmHg.
    pub lvp: Option<&'a [f64]>,
    /// LV volume, mL.
    pub lvv: Option<&'a [f64]>,
}

/// The newest beats of a window and their metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatestBeats {
    /// What the beats are anchored on.
    pub fiducial: Option<Fiducial>,
    /// The beats, with absolute sample indices at the analysis rate (numbers count within the window only).
    pub beats: Vec<Beat>,
    /// The same beats as reported (times in s from absolute sample 0).
    pub records: Vec<BeatRecord>,
    /// Their metrics.
    pub per_beat: Vec<BeatMetrics>,
    /// Why values or beats are missing.
    pub notes: Vec<String>,
}

/// `samples` at `to_hz`: borrowed when already there, resampled otherwise.
fn at_rate(
    kind: SignalKind,
    samples: Option<&[f64]>,
    from_hz: f64,
    to_hz: f64,
) -> Result<Option<Cow<'_, [f64]>>, PipelineError> {
    let Some(samples) = samples else { return Ok(None) };
    if (from_hz - to_hz).abs() <= 1e-9 * to_hz {
        return Ok(Some(Cow::Borrowed(samples)));
    }
    resample(samples, from_hz, to_hz)
        .map(|resampled| Some(Cow::Owned(resampled)))
        .map_err(|error| PipelineError::Resample {
            channel: kind.name().to_owned(),
            message: error.to_string(),
        })
}

/// Beats and per-beat metrics of the `num_newest` newest complete beats of `window`. V0 comes from the settings
/// (fixed, else 0 mL: live monitoring fits no ESPVR).
pub fn latest_beats(
    window: &LiveWindow<'_>,
    settings: &AnalysisSettings,
    num_newest: usize,
) -> Result<LatestBeats, PipelineError> {
    let rate = settings.analysis_rate_hz();
    let same_rate = (window.sample_rate_hz - rate).abs() <= 1e-9 * rate;
    let convert = |kind, samples| at_rate(kind, samples, window.sample_rate_hz, rate);
    let channels = [
        (SignalKind::Ecg, convert(SignalKind::Ecg, window.ecg)?),
        (SignalKind::Pa, convert(SignalKind::Pa, window.pa)?),
        (SignalKind::Pd, convert(SignalKind::Pd, window.pd)?),
        (SignalKind::Ipv, convert(SignalKind::Ipv, window.ipv)?),
        (SignalKind::Lvp, convert(SignalKind::Lvp, window.lvp)?),
        (SignalKind::Lvv, convert(SignalKind::Lvv, window.lvv)?),
    ];
    let len = channels
        .iter()
        .filter_map(|(_, c)| c.as_ref().map(|c| c.len()))
        .min()
        .unwrap_or(0);
    let first_sample = if same_rate {
        window.first_sample
    } else {
        (window.first_sample as f64 * rate / window.sample_rate_hz).round() as u64
    };
    let mut signals = Signals {
        first_sample,
        ..Signals::default()
    };
    for (kind, samples) in &channels {
        signals.set(*kind, samples.as_ref().map(|s| &s[..len]));
    }
    let blocks = Blocks::new(signals, None, len, settings, BLOCK_SAMPLES)?;
    // Beats found at the window's own rate when the offline analysis would (same beats live and offline).
    let recorded = [
        (SignalKind::Ecg, window.ecg),
        (SignalKind::Pa, window.pa),
        (SignalKind::Pd, window.pd),
        (SignalKind::Ipv, window.ipv),
        (SignalKind::Lvp, window.lvp),
        (SignalKind::Lvv, window.lvv),
    ];
    let present = recorded.iter().filter_map(|(kind, s)| s.map(|s| (*kind, s)));
    let native_len = present.clone().map(|(_, s)| s.len()).min().unwrap_or(0);
    let native = (!same_rate
        && beats_at_recorded_rate(present.clone().map(|(kind, _)| kind), window.sample_rate_hz, rate))
    .then(|| {
        let mut native = Signals {
            first_sample: window.first_sample,
            ..Signals::default()
        };
        for (kind, samples) in present {
            native.set(kind, Some(&samples[..native_len]));
        }
        (native, window.sample_rate_hz)
    });
    let mut notes = Vec::new();
    let analysed = analyse(
        &blocks,
        native,
        Some(num_newest),
        &super::AnalysisRequest::default(),
        &mut notes,
    )?;
    let start_s = first_sample as f64 / rate;
    Ok(LatestBeats {
        fiducial: analysed.segmentation.fiducial,
        records: analysed
            .beats
            .iter()
            .map(|beat| blocks.whole.record(beat, start_s))
            .collect(),
        beats: analysed.beats,
        per_beat: analysed.metrics,
        notes,
    })
}
