//! Per-beat values a block of beats at a time: each block's stretch of the channels (brought to the analysis
//! rate from the recorded samples when the record was left at its own rate, [`super::channels::Native::deferred`])
//! and its LV traces (smoothed LV pressure and volume, dP/dt: [`LvFilters`]) are made for it, in memory the next
//! block reuses, bit for bit the samples a whole-record computation gives there: away from a record's ends a
//! Savitzky-Golay or resampling output depends only on the inputs within its reach
//! ([`crate::signal::savgol::SavgolFilter::apply_part_into`], [`Resampler::apply_range`]). So the per-beat
//! pass over a 2-hour 1 kHz record never holds three 58 MB whole-channel LV traces, nor a 125 Hz record its 58 MB
//! 1 kHz copy (making them and faulting their pages in were a third of a run), and a block stays in the cache
//! while its beats are measured. (The summary's ensemble beat makes the traces over its window's stretch: the
//! whole record when the state never became steady.)

use std::ops::Range;

use crate::analysis::settings::AnalysisSettings;
use crate::model::{Beat, SignalKind};
use crate::signal::Signals;
use crate::signal::phases::margin_samples;
use crate::signal::resample::Resampler;

use super::PipelineError;
use super::beats::{BeatContext, LvBuffers, LvFilters, PvTraces};
use super::channels::Native;

/// Samples at the analysis rate of one block (about a minute at 1 kHz: a few hundred kB per channel, so a block
/// stays in the cache while its beats are measured).
pub(crate) const BLOCK_SAMPLES: u64 = 1 << 16;

/// Arterial and distal pressure left at their recorded rate (phases and coronary values read no other channel
/// of such a record), and how to bring them to the analysis rate.
struct Deferred<'a> {
    channels: Vec<(SignalKind, &'a [f64])>,
    resampler: Resampler,
    /// Samples at the analysis rate (as the channels brought whole would have).
    len: usize,
}

/// The record's channels as the per-beat values read them: a stretch at a time.
pub(crate) struct Blocks<'a> {
    /// The channels at the analysis rate (without the deferred ones) and the settings, with no PV traces: a
    /// stretch's context has its own.
    pub whole: BeatContext<'a>,
    lv: LvFilters,
    deferred: Option<Deferred<'a>>,
    /// Samples before a beat's start and after its end its stretch holds.
    margins: (u64, u64),
    /// The longest stretch of a block of several beats.
    block_samples: u64,
}

impl<'a> Blocks<'a> {
    /// The blocks of `signals` (channels at the analysis rate) and, when it left channels at their recorded
    /// rate, `native` (whose resampled copy would have `len` samples from `signals.first_sample`), each block
    /// at most `block_samples` long ([`BLOCK_SAMPLES`]; shorter in tests) unless it is one beat.
    pub fn new(
        signals: Signals<'a>,
        native: Option<&Native<'a>>,
        len: usize,
        settings: &'a AnalysisSettings,
        block_samples: u64,
    ) -> Result<Blocks<'a>, PipelineError> {
        let rate = settings.analysis_rate_hz();
        let lv = LvFilters::new(&signals, settings)?;
        let deferred = match native.filter(|native| native.deferred) {
            Some(native) => Some(Deferred {
                channels: native
                    .channels
                    .iter()
                    .filter(|(kind, _)| matches!(kind, SignalKind::Pa | SignalKind::Pd))
                    .copied()
                    .collect(),
                resampler: Resampler::new(native.rate_hz, rate).map_err(|error| PipelineError::Resample {
                    channel: "arterial pressure".to_owned(),
                    message: error.to_string(),
                })?,
                len,
            }),
            None => None,
        };
        let (left, right) = margin_samples(rate, &settings.signal);
        // A frame more on each side: the span a beat's phase rule filters then never ends at a stretch's end
        // where the record goes on, so it reads the stretch's traces as it reads the whole channels'.
        let frame = settings.signal.savgol.frame_len(rate) as u64;
        Ok(Blocks {
            whole: BeatContext {
                signals,
                pv: PvTraces::default(),
                settings,
            },
            lv,
            deferred,
            margins: (left + frame, right + frame),
            block_samples,
        })
    }

    /// Index one past the last sample at the analysis rate.
    pub fn end_sample(&self) -> u64 {
        match &self.deferred {
            Some(deferred) => self.whole.signals.first_sample + deferred.len as u64,
            None => self.whole.signals.end_sample(),
        }
    }

    /// The stretch `[from, to)` of `beats` (sorted) with their margins, clipped to the record; empty without
    /// beats.
    fn stretch(&self, beats: &[Beat]) -> (u64, u64) {
        let (first, end) = (self.whole.signals.first_sample, self.end_sample());
        let Some(head) = beats.first() else {
            return (first, first);
        };
        let from = head.start.saturating_sub(self.margins.0).clamp(first, end);
        let to = beats
            .iter()
            .map(|beat| beat.end + self.margins.1)
            .max()
            .unwrap_or(from);
        (from, to.min(end).max(from))
    }

    /// What `f` gives with the context of the stretch of `beats` (sorted): its channels and PV traces (made in
    /// `buffers`).
    pub fn with_stretch<R>(
        &self,
        beats: &[Beat],
        buffers: &mut LvBuffers,
        f: impl FnOnce(&BeatContext<'_>) -> R,
    ) -> R {
        let (from, to) = self.stretch(beats);
        // From `from` even where the whole view has no channel (a record left at its own rate).
        let mut signals = Signals {
            first_sample: from,
            ..self.whole.signals.window(from, to)
        };
        let first = self.whole.signals.first_sample;
        let range = (from - first) as usize..(to - first) as usize;
        let resampled: Vec<(SignalKind, (Vec<f64>, usize))> =
            self.deferred
                .iter()
                .flat_map(|deferred| {
                    deferred.channels.iter().map(|&(kind, recorded)| {
                        (kind, deferred.resampler.apply_range(recorded, range.clone()))
                    })
                })
                .collect();
        for (kind, (computed, offset)) in &resampled {
            signals.set(*kind, computed.get(*offset..*offset + range.len()));
        }
        let pv = self.lv.traces(&self.whole.signals, from, to, buffers);
        f(&BeatContext {
            signals,
            pv,
            settings: self.whole.settings,
        })
    }

    /// Calls `measure` with each block of `beats[range]` (sorted): the context of its stretch, its beats
    /// (indices into `beats`) and the beats the stretch holds: the block's, and with `lookahead` the beat after
    /// its last one (whose ED may end that beat's PV span). A block is one beat, or consecutive beats whose
    /// stretch is at most the block length.
    pub fn for_each_block(
        &self,
        beats: &[Beat],
        range: Range<usize>,
        lookahead: bool,
        buffers: &mut LvBuffers,
        mut measure: impl FnMut(&BeatContext<'_>, Range<usize>, &[Beat]),
    ) {
        let held =
            |block: Range<usize>| &beats[block.start..(block.end + usize::from(lookahead)).min(beats.len())];
        let mut k = range.start;
        while k < range.end {
            let (from, _) = self.stretch(&beats[k..=k]);
            let mut next = k + 1;
            while next < range.end && self.stretch(held(k..next + 1)).1 - from <= self.block_samples {
                next += 1;
            }
            self.with_stretch(held(k..next), buffers, |context| {
                measure(context, k..next, held(k..next))
            });
            k = next;
        }
    }
}
