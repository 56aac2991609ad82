//! Per-beat values of a record left at its own rate ([`super::channels::Native::deferred`]): the stretch of a
//! block of beats is brought to the analysis rate, its phases and coronary values measured, and the next block
//! reuses nothing but the settings. The samples are bit for bit those of a whole-record resampling
//! ([`Resampler::apply_range`]), so the report is the same, while a 2-hour 125 Hz record never holds its 58 MB
//! 1 kHz copy (resampling it and faulting its pages in were a third of the run).

use crate::analysis::coronary::CoronaryBeat;
use crate::analysis::settings::AnalysisSettings;
use crate::model::{Beat, SignalKind};
use crate::signal::Signals;
use crate::signal::phases::{BeatPhases, PhaseError, PhaseFilters, margin_samples};
use crate::signal::resample::Resampler;

use super::PipelineError;
use super::beats::{BeatContext, PvTraces};
use super::channels::Native;

/// Samples at the analysis rate of one block (about a minute at 1 kHz: a few hundred kB per channel, so a block
/// stays in the cache while its beats are measured).
const BLOCK_SAMPLES: u64 = 1 << 16;

/// The channels the per-beat values read, at their recorded rate, and how to bring them to the analysis rate.
pub(crate) struct Deferred<'a> {
    /// Arterial and distal pressure as recorded (phases and coronary values read no other channel).
    channels: Vec<(SignalKind, &'a [f64])>,
    resampler: Resampler,
    /// Index at the analysis rate of recorded sample 0.
    first_sample: u64,
    /// Samples at the analysis rate (as the channels brought whole would have).
    len: usize,
}

impl<'a> Deferred<'a> {
    /// The deferred channels of `native` (`None` when it was brought whole to the analysis rate), whose
    /// resampled copy would start at `first_sample` with `len` samples.
    pub fn new(
        native: &Native<'a>,
        first_sample: u64,
        len: usize,
        settings: &AnalysisSettings,
    ) -> Result<Option<Deferred<'a>>, PipelineError> {
        if !native.deferred {
            return Ok(None);
        }
        let resampler = Resampler::new(native.rate_hz, settings.analysis_rate_hz()).map_err(|error| {
            PipelineError::Resample {
                channel: "arterial pressure".to_owned(),
                message: error.to_string(),
            }
        })?;
        Ok(Some(Deferred {
            channels: native
                .channels
                .iter()
                .filter(|(kind, _)| matches!(kind, SignalKind::Pa | SignalKind::Pd))
                .copied()
                .collect(),
            resampler,
            first_sample,
            len,
        }))
    }

    /// Index one past the last sample at the analysis rate.
    pub fn end_sample(&self) -> u64 {
        self.first_sample + self.len as u64
    }

    /// The phases and coronary values of `beats` (sorted, indices at the analysis rate), as
    /// [`BeatContext::phases`] and [`BeatContext::coronary`] give them on the whole channels.
    pub fn phases_and_coronary(
        &self,
        settings: &AnalysisSettings,
        beats: &[Beat],
    ) -> (Vec<Result<BeatPhases, PhaseError>>, Vec<Option<CoronaryBeat>>) {
        let rate = settings.analysis_rate_hz();
        let filters = PhaseFilters::new(rate, &settings.signal);
        let (left, right) = margin_samples(rate, &settings.signal);
        let (mut phases, mut coronary) = (Vec::with_capacity(beats.len()), Vec::with_capacity(beats.len()));
        let end = self.end_sample();
        let mut k = 0;
        while k < beats.len() {
            // Beats are sorted, so the block's stretch runs from the first one's context to the last one's.
            let from = beats[k].start.saturating_sub(left).clamp(self.first_sample, end);
            let mut to = (beats[k].end + right).min(end);
            let mut next = k + 1;
            while let Some(beat) = beats.get(next) {
                let beat_to = (beat.end + right).min(end);
                if beat_to.saturating_sub(from) > BLOCK_SAMPLES {
                    break;
                }
                to = to.max(beat_to);
                next += 1;
            }
            let to = to.max(from);
            let range = (from - self.first_sample) as usize..(to - self.first_sample) as usize;
            let samples: Vec<(SignalKind, (Vec<f64>, usize))> = self
                .channels
                .iter()
                .map(|&(kind, recorded)| (kind, self.resampler.apply_range(recorded, range.clone())))
                .collect();
            let mut signals = Signals {
                first_sample: from,
                ..Signals::default()
            };
            for (kind, (computed, offset)) in &samples {
                signals.set(*kind, computed.get(*offset..*offset + range.len()));
            }
            let context = BeatContext {
                signals,
                pv: PvTraces::default(),
                settings,
            };
            for beat in &beats[k..next] {
                let beat_phases = context.beat_phases(&filters, beat);
                coronary.push(context.coronary(beat, beat_phases.as_ref().ok()));
                phases.push(beat_phases);
            }
            k = next;
        }
        (phases, coronary)
    }
}
