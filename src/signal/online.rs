//! Incremental beat detection for live use: push chunks of samples, get finished, judged beats back.
//!
//! [`BeatTracker`] runs the fiducial's streaming detector ([`super::ecg`], [`super::onset`] or [`super::lv`]),
//! closes a beat when the next fiducial is found, measures it on a short history of every channel, and passes
//! it through [`BeatJudge`]. Latency: a beat is reported once the two beats after it are closed (QC looks two
//! beats ahead, for an ectopic's pause and a damped line's run: at most three beats plus the detector's
//! confirmation delay of 150-200 ms); the first beats of a record wait for the detector's learning period and
//! for the rhythm window's first 64 beats. Beats are IDENTICAL whatever the chunk sizes, and
//! identical to [`super::segment::detect_beats`] on the whole record: every stage is a per-sample state machine
//! and every measurement looks only at a beat and a fixed margin around it.
//!
//! Memory is bounded: the history keeps the unfinished beat, its margins and the detectors' maximal latency.

use std::collections::VecDeque;

use super::ecg::EcgDetector;
use super::lv::LvDetector;
use super::onset::OnsetDetector;
use super::qc::BeatJudge;
use super::settings::{SignalSettings, samples_from_s};
use super::signals::{History, KINDS, SignalError, Signals};
use crate::model::{Beat, Fiducial, SignalKind};

/// The channel a fiducial is detected on.
pub fn fiducial_channel(fiducial: Fiducial) -> SignalKind {
    match fiducial {
        Fiducial::RWave => SignalKind::Ecg,
        Fiducial::PressureOnset => SignalKind::Pa,
        Fiducial::LvEndDiastole => SignalKind::Lvp,
    }
}

/// One of the streaming fiducial detectors.
#[derive(Clone, Debug)]
pub(crate) enum Detector {
    Ecg(Box<EcgDetector>),
    Onset(OnsetDetector),
    Lv(LvDetector),
}

impl Detector {
    pub(crate) fn new(
        fiducial: Fiducial,
        sample_rate_hz: f64,
        settings: &SignalSettings,
    ) -> Result<Detector, SignalError> {
        if !(sample_rate_hz.is_finite() && sample_rate_hz >= 100.0) {
            return Err(SignalError::BadRate(sample_rate_hz));
        }
        let bad = |e: String| SignalError::BadSetting(e);
        Ok(match fiducial {
            Fiducial::RWave => Detector::Ecg(Box::new(
                EcgDetector::new(&settings.ecg, sample_rate_hz, settings.lead_in_s)
                    .map_err(|e| bad(e.to_string()))?,
            )),
            Fiducial::PressureOnset => Detector::Onset(
                OnsetDetector::new(&settings.onset, sample_rate_hz, settings.lead_in_s)
                    .map_err(|e| bad(e.to_string()))?,
            ),
            Fiducial::LvEndDiastole => Detector::Lv(
                LvDetector::new(&settings.lv, &settings.savgol, sample_rate_hz, settings.lead_in_s)
                    .map_err(|e| bad(e.to_string()))?,
            ),
        })
    }

    pub(crate) fn push(&mut self, samples: &[f64], found: &mut Vec<u64>) {
        match self {
            Detector::Ecg(d) => d.push(samples, found),
            Detector::Onset(d) => d.push(samples, found),
            Detector::Lv(d) => d.push(samples, found),
        }
    }

    pub(crate) fn finish(&mut self, found: &mut Vec<u64>) {
        match self {
            Detector::Ecg(d) => d.finish(found),
            Detector::Onset(d) => d.finish(found),
            Detector::Lv(d) => d.finish(found),
        }
    }
}

/// The longest a detector may take to report a fiducial, s: its learning period plus the ECG search-back
/// (1.66 x the longest plausible RR) and confirmation delays.
fn max_latency_s(settings: &SignalSettings) -> f64 {
    let learn = settings
        .ecg
        .learn_s
        .max(settings.onset.learn_s)
        .max(settings.lv.learn_s);
    learn + settings.ecg.search_back_rr_factor * settings.qc.max_beat_s + 1.0
}

/// Incremental beat detection (see the module documentation).
#[derive(Clone, Debug)]
pub struct BeatTracker {
    fiducial: Fiducial,
    kinds: Vec<SignalKind>,
    histories: Vec<History>,
    detector: Detector,
    judge: BeatJudge,
    num_samples: u64,
    found: Vec<u64>,
    last_fiducial: Option<u64>,
    unmeasured: VecDeque<(u64, u64)>,
    keep_recent: u64,
}

impl BeatTracker {
    /// A tracker anchoring beats on `fiducial`, for chunks carrying exactly the channels `kinds` (which must
    /// include the fiducial's channel) at `sample_rate_hz`.
    pub fn new(
        fiducial: Fiducial,
        kinds: &[SignalKind],
        sample_rate_hz: f64,
        settings: &SignalSettings,
    ) -> Result<BeatTracker, SignalError> {
        let kinds: Vec<SignalKind> = KINDS.into_iter().filter(|k| kinds.contains(k)).collect();
        if !kinds.contains(&fiducial_channel(fiducial)) {
            return Err(SignalError::BadSetting(format!(
                "beats on {fiducial:?} need the {} channel",
                fiducial_channel(fiducial).name()
            )));
        }
        Ok(BeatTracker {
            fiducial,
            histories: vec![History::default(); kinds.len()],
            kinds,
            detector: Detector::new(fiducial, sample_rate_hz, settings)?,
            judge: BeatJudge::new(fiducial, sample_rate_hz, settings),
            num_samples: 0,
            found: Vec::new(),
            last_fiducial: None,
            unmeasured: VecDeque::new(),
            keep_recent: samples_from_s(max_latency_s(settings), sample_rate_hz) as u64,
        })
    }

    /// The fiducial beats are anchored on.
    pub fn fiducial(&self) -> Fiducial {
        self.fiducial
    }

    /// Samples pushed so far.
    pub fn num_samples(&self) -> u64 {
        self.num_samples
    }

    /// Feeds the next samples of every channel (`chunk.first_sample` is ignored: chunks are consecutive).
    /// Returns the beats finished and judged by this chunk, in order.
    pub fn push(&mut self, chunk: &Signals) -> Result<Vec<Beat>, SignalError> {
        let len = chunk.len()?;
        for kind in KINDS {
            if chunk.get(kind).is_some() != self.kinds.contains(&kind) {
                return Err(SignalError::BadSetting(format!(
                    "chunk channels differ from the tracker's (channel {})",
                    kind.name()
                )));
            }
        }
        for (kind, history) in self.kinds.iter().zip(&mut self.histories) {
            history.extend(chunk.get(*kind).unwrap_or_default());
        }
        let fiducial_samples = chunk.get(fiducial_channel(self.fiducial)).unwrap_or_default();
        self.detector.push(fiducial_samples, &mut self.found);
        self.num_samples += len as u64;
        let mut beats = Vec::new();
        self.advance(false, &mut beats);
        Ok(beats)
    }

    /// Ends the record: reports the beats still waiting (their verdicts use the beats there are).
    pub fn finish(&mut self) -> Vec<Beat> {
        self.detector.finish(&mut self.found);
        let mut beats = Vec::new();
        self.advance(true, &mut beats);
        self.judge.finish(&mut beats);
        beats
    }

    fn advance(&mut self, finished: bool, beats: &mut Vec<Beat>) {
        for f in self.found.drain(..) {
            if let Some(previous) = self.last_fiducial {
                self.unmeasured.push_back((previous, f));
            }
            self.last_fiducial = Some(f);
        }
        let (left, right) = self.judge.margins();
        while let Some(&(start, end)) = self.unmeasured.front() {
            if !finished && end + right > self.num_samples {
                break;
            }
            self.unmeasured.pop_front();
            self.judge
                .add(&view_of(&self.kinds, &self.histories), start, end, beats);
        }
        let oldest_needed = match (self.unmeasured.front(), self.last_fiducial) {
            (Some(&(start, _)), _) => start,
            (None, Some(last)) => last,
            (None, None) => self.num_samples.saturating_sub(self.keep_recent),
        };
        let keep_from = oldest_needed.saturating_sub(left);
        for history in &mut self.histories {
            history.drop_before(keep_from);
        }
    }
}

/// The kept history of every channel as one view (all histories are trimmed alike, so they share a start).
fn view_of<'a>(kinds: &[SignalKind], histories: &'a [History]) -> Signals<'a> {
    let mut view = Signals {
        first_sample: histories.first().map_or(0, History::first_sample),
        ..Signals::default()
    };
    for (kind, history) in kinds.iter().zip(histories) {
        view.set(*kind, Some(history.samples()));
    }
    view
}
