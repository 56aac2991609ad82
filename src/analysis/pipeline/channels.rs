//! Picking the channels of a recording, cropping them to the requested time range and bringing them to the
//! analysis rate. Channels already at the analysis rate are borrowed, not copied (a 2-hour case is 460 MB).
//! When every channel was recorded at one lower rate (a 125 Hz monitor record), the cropped channels at that
//! rate are kept too ([`Prepared::native`]): beats are found there, not on the 8x upsampled copy.

use std::borrow::Cow;

use crate::model::{Recording, SignalKind};
use crate::signal::Signals;
use crate::signal::resample::Resampler;

use super::PipelineError;

/// An explicit choice: the channel at `index` (0-based, in the file's order) carries `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelChoice {
    /// What the channel carries.
    pub kind: SignalKind,
    /// Its position in the recording's segment, from 0.
    pub index: usize,
}

/// The signal a channel name stands for: the canonical ids (`pa`, `lvp`, ...) and the usual aliases of files and
/// consoles (`abp`, `art`, `ao` for aortic pressure; `ekg`; `plv`; `vlv`; `apv`).
pub fn signal_kind_from_alias(name: &str) -> Option<SignalKind> {
    SignalKind::from_name(name).or(match name.to_ascii_lowercase().as_str() {
        "abp" | "ap" | "art" | "ao" | "aop" | "aortic" | "arterial" => Some(SignalKind::Pa),
        "ekg" => Some(SignalKind::Ecg),
        "plv" | "lv" => Some(SignalKind::Lvp),
        "vlv" | "volume" => Some(SignalKind::Lvv),
        "apv" | "velocity" => Some(SignalKind::Ipv),
        "ecmo" => Some(SignalKind::EcmoFlow),
        _ => None,
    })
}

/// The analysed stretch of a recording: one segment's channels, cropped, at the analysis rate, equal lengths.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    /// Time of sample 0 from the start of the recording, s.
    pub start_s: f64,
    /// The channels found, each at most once.
    pub channels: Vec<(SignalKind, Cow<'a, [f64]>)>,
    /// What was chosen and why (segments skipped, duplicate channels, resampling).
    pub notes: Vec<String>,
    /// The same channels at their recorded rate, cropped alike, when all were resampled up from one rate.
    pub native: Option<Native<'a>>,
    /// Samples per channel at the analysis rate (the channels left at their rate counted as if brought to it).
    pub len: usize,
}

/// The prepared channels as recorded, at one rate below the analysis rate (see [`Prepared::native`]).
#[derive(Debug)]
pub(crate) struct Native<'a> {
    /// Their sample rate, Hz.
    pub rate_hz: f64,
    /// The channels, in the order of [`Prepared::channels`], equal lengths.
    pub channels: Vec<(SignalKind, &'a [f64])>,
    /// Whether the channels were left at this rate instead of being brought whole to the analysis rate
    /// ([`Prepared::channels`] then lacks them, except ECMO flow): when no channel needs whole-record filters at
    /// the analysis rate (no LV pressure or volume), the per-beat values read short stretches brought to it one
    /// after another (`super::blocks`), so a 2-hour 125 Hz record never has its 58 MB 1 kHz copy.
    pub deferred: bool,
}

impl Native<'_> {
    /// The channels `signal/` uses, borrowed, starting at sample 0.
    pub fn signals(&self) -> Signals<'_> {
        let mut signals = Signals::default();
        for (kind, samples) in &self.channels {
            signals.set(*kind, Some(samples));
        }
        signals
    }
}

impl Prepared<'_> {
    /// The samples of `kind`, if present.
    pub fn channel(&self, kind: SignalKind) -> Option<&[f64]> {
        self.channels
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, samples)| samples.as_ref())
    }

    /// The channels `signal/` uses, borrowed, starting at sample 0.
    pub fn signals(&self) -> Signals<'_> {
        let mut signals = Signals::default();
        for (kind, samples) in &self.channels {
            signals.set(*kind, Some(samples.as_ref()));
        }
        signals
    }
}

/// Picks the segment overlapping `[from_s, to_s)` most, maps its channels to signals (explicit `choices` first,
/// then by name), crops them and resamples those not at `rate_hz`.
pub(crate) fn prepare<'a>(
    recording: &'a Recording,
    choices: &[ChannelChoice],
    from_s: Option<f64>,
    to_s: Option<f64>,
    rate_hz: f64,
) -> Result<Prepared<'a>, PipelineError> {
    let (from, to) = (from_s.unwrap_or(f64::NEG_INFINITY), to_s.unwrap_or(f64::INFINITY));
    if from.is_nan() || to.is_nan() || to <= from {
        return Err(PipelineError::BadTimeRange {
            from_s: from,
            to_s: to,
        });
    }
    let mut notes = Vec::new();
    let span = |segment: &crate::model::Segment| {
        let duration = segment
            .channels
            .iter()
            .map(|c| c.duration_s())
            .fold(0.0, f64::max);
        (segment.start_s, segment.start_s + duration)
    };
    let overlap = |segment: &crate::model::Segment| {
        let (start, end) = span(segment);
        (end.min(to) - start.max(from)).max(0.0)
    };
    let chosen = recording
        .segments
        .iter()
        .enumerate()
        .filter(|(_, segment)| overlap(segment) > 0.0)
        .max_by(|a, b| overlap(a.1).total_cmp(&overlap(b.1)));
    let Some((segment_index, segment)) = chosen else {
        notes.push("no samples in the requested time range".to_owned());
        return Ok(Prepared {
            start_s: from.max(0.0),
            channels: Vec::new(),
            notes,
            native: None,
            len: 0,
        });
    };
    if recording.segments.len() > 1 {
        notes.push(format!(
            "the recording has {} segments; segment {} (from {:.1} s) was analysed: choose another with --from/--to",
            recording.segments.len(),
            segment_index + 1,
            segment.start_s
        ));
    }
    for choice in choices {
        if choice.index >= segment.channels.len() {
            return Err(PipelineError::BadChannelIndex {
                kind: choice.kind.name().to_owned(),
                index: choice.index,
                num_channels: segment.channels.len(),
            });
        }
    }
    let (start, end) = span(segment);
    let (t0, t1) = (from.max(start), to.min(end));
    // The cropped channels as recorded, with their rates.
    let mut recorded: Vec<(SignalKind, &'a [f64], f64)> = Vec::new();
    // Time of the first kept sample (of the first channel kept; others agree within one of their samples).
    let mut start_s = None;
    for (index, series) in segment.channels.iter().enumerate() {
        let explicit = choices.iter().find(|c| c.index == index).map(|c| c.kind);
        let by_name =
            SignalKind::from_name(&series.name).filter(|kind| !choices.iter().any(|c| c.kind == *kind));
        let Some(kind) = explicit.or(by_name) else {
            continue;
        };
        if recorded.iter().any(|(k, _, _)| *k == kind) {
            notes.push(format!(
                "channel {index} ({:?}) ignored: {} already taken",
                series.name,
                kind.name()
            ));
            continue;
        }
        let rate = series.sample_rate_hz;
        if !(rate.is_finite() && rate > 0.0) {
            notes.push(format!(
                "channel {index} ({:?}) ignored: sample rate {rate} Hz",
                series.name
            ));
            continue;
        }
        let first = (((t0 - segment.start_s) * rate).ceil().max(0.0) as usize).min(series.samples.len());
        let last =
            (((t1 - segment.start_s) * rate).ceil().max(0.0) as usize).clamp(first, series.samples.len());
        start_s.get_or_insert(segment.start_s + first as f64 / rate);
        if (rate - rate_hz).abs() > 1e-9 * rate_hz {
            notes.push(format!(
                "{} resampled from {rate} Hz to {rate_hz} Hz",
                kind.name()
            ));
        }
        recorded.push((kind, &series.samples[first..last], rate));
    }
    let native = native_channels(&recorded, rate_hz);
    let deferred = native.as_ref().is_some_and(|native| native.deferred);
    let mut channels: Vec<(SignalKind, Cow<'a, [f64]>)> = Vec::new();
    // Lengths at the analysis rate.
    let mut lens = Vec::new();
    for &(kind, cropped, rate) in &recorded {
        if (rate - rate_hz).abs() <= 1e-9 * rate_hz {
            lens.push(cropped.len());
            channels.push((kind, Cow::Borrowed(cropped)));
            continue;
        }
        let resampler = Resampler::new(rate, rate_hz).map_err(|error| PipelineError::Resample {
            channel: kind.name().to_owned(),
            message: error.to_string(),
        })?;
        lens.push(resampler.output_len(cropped.len()));
        if !deferred || kind == SignalKind::EcmoFlow {
            channels.push((kind, Cow::Owned(resampler.apply(cropped))));
        }
    }
    // Resampled channels can differ by a sample or two in length: cut all to the shortest.
    let len = lens.iter().copied().min().unwrap_or(0);
    for (_, samples) in &mut channels {
        match samples {
            Cow::Borrowed(slice) => *slice = &slice[..len],
            Cow::Owned(vec) => vec.truncate(len),
        }
    }
    if recorded.is_empty() {
        let names: Vec<&str> = segment.channels.iter().map(|c| c.name.as_str()).collect();
        notes.push(format!(
            "no channel is named like a known signal (channels: {}); map them with --signal NAME=INDEX",
            names.join(", ")
        ));
    }
    Ok(Prepared {
        start_s: start_s.unwrap_or(t0),
        channels,
        notes,
        native,
        len,
    })
}

/// Whether channels of `kinds` recorded at `rate_hz` have their beats found at that rate rather than at the
/// analysis rate: a rate below it and at least 100 Hz (what the detectors need), and no Doppler velocity (QC
/// judges a Doppler dropout on the velocity's running median over 5 ms in diastole, which needs the analysis
/// rate). The offline analysis and the live monitor decide alike, so they find the same beats.
pub(crate) fn beats_at_recorded_rate(
    mut kinds: impl Iterator<Item = SignalKind>,
    rate_hz: f64,
    analysis_rate_hz: f64,
) -> bool {
    rate_hz >= 100.0 && rate_hz < analysis_rate_hz && !kinds.any(|kind| kind == SignalKind::Ipv)
}

/// The channels as recorded when all share one rate below `analysis_rate_hz` (at least 100 Hz, what the
/// detectors need) and none is Doppler velocity, cut to the shortest.
fn native_channels<'a>(
    recorded: &[(SignalKind, &'a [f64], f64)],
    analysis_rate_hz: f64,
) -> Option<Native<'a>> {
    let &(_, _, rate_hz) = recorded.first()?;
    let one_rate = recorded.iter().all(|&(_, _, rate)| rate == rate_hz);
    let kinds = recorded.iter().map(|&(kind, _, _)| kind);
    if !(one_rate && beats_at_recorded_rate(kinds, rate_hz, analysis_rate_hz)) {
        return None;
    }
    let len = recorded.iter().map(|(_, samples, _)| samples.len()).min()?;
    let whole_record_filters = [SignalKind::Lvp, SignalKind::Lvv];
    Some(Native {
        rate_hz,
        channels: recorded
            .iter()
            .map(|&(kind, samples, _)| (kind, &samples[..len]))
            .collect(),
        deferred: !recorded
            .iter()
            .any(|(kind, _, _)| whole_record_filters.contains(kind)),
    })
}
