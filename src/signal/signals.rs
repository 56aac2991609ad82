//! The channels one beat-detection run looks at, borrowed, at the analysis rate: what segmentation, phases, QC
//! and the online tracker take as input.

use crate::model::SignalKind;

/// Why the signal functions cannot run on the given input (the caller's mistake, not a property of the data:
/// bad data yields "no beats, with the reason" instead).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SignalError {
    /// Channels of one run must have the same number of samples.
    #[error("channel {kind} has {len} samples where {expected} were expected")]
    LengthMismatch {
        /// The channel's id.
        kind: &'static str,
        /// Its length.
        len: usize,
        /// The length of the first channel given.
        expected: usize,
    },
    /// A sample rate that is not positive, or too low for the detectors' filters.
    #[error("sample rate {0} Hz is not usable (need at least 100 Hz; resample to the analysis rate first)")]
    BadRate(f64),
    /// A setting out of range.
    #[error("setting out of range: {0}")]
    BadSetting(String),
}

/// Borrowed channels at one sample rate, all of the same length, starting at sample index `first_sample`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Signals<'a> {
    /// Index of the first sample of every slice (beat indices are absolute).
    pub first_sample: u64,
    /// ECG.
    pub ecg: Option<&'a [f64]>,
    /// Aortic pressure, mmHg.
    pub pa: Option<&'a [f64]>,
    /// Distal coronary pressure, mmHg.
    pub pd: Option<&'a [f64]>,
    /// Doppler instantaneous peak velocity, cm/s.
    pub ipv: Option<&'a [f64]>,
    /// LV pressure, mmHg.
    pub lvp: Option<&'a [f64]>,
    /// LV volume, mL.
    pub lvv: Option<&'a [f64]>,
}

/// The channels `signal/` uses, in the order they are reported.
pub const KINDS: [SignalKind; 6] = [
    SignalKind::Ecg,
    SignalKind::Pa,
    SignalKind::Pd,
    SignalKind::Ipv,
    SignalKind::Lvp,
    SignalKind::Lvv,
];

impl<'a> Signals<'a> {
    /// The channel of `kind`, if present (`None` for kinds `signal/` does not use, e.g. ECMO flow).
    pub fn get(&self, kind: SignalKind) -> Option<&'a [f64]> {
        match kind {
            SignalKind::Ecg => self.ecg,
            SignalKind::Pa => self.pa,
            SignalKind::Pd => self.pd,
            SignalKind::Ipv => self.ipv,
            SignalKind::Lvp => self.lvp,
            SignalKind::Lvv => self.lvv,
            SignalKind::EcmoFlow => None,
        }
    }

    /// Sets the channel of `kind` (ignored for kinds `signal/` does not use).
    pub fn set(&mut self, kind: SignalKind, samples: Option<&'a [f64]>) {
        match kind {
            SignalKind::Ecg => self.ecg = samples,
            SignalKind::Pa => self.pa = samples,
            SignalKind::Pd => self.pd = samples,
            SignalKind::Ipv => self.ipv = samples,
            SignalKind::Lvp => self.lvp = samples,
            SignalKind::Lvv => self.lvv = samples,
            SignalKind::EcmoFlow => {}
        }
    }

    /// The present channels with their kinds.
    pub fn present(&self) -> impl Iterator<Item = (SignalKind, &'a [f64])> + '_ {
        KINDS
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|s| (kind, s)))
    }

    /// Common length of the present channels (0 when none), or the first mismatch.
    pub fn len(&self) -> Result<usize, SignalError> {
        let mut expected = None;
        for (kind, samples) in self.present() {
            match expected {
                None => expected = Some(samples.len()),
                Some(n) if n != samples.len() => {
                    return Err(SignalError::LengthMismatch {
                        kind: kind.name(),
                        len: samples.len(),
                        expected: n,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(expected.unwrap_or(0))
    }

    /// Whether no channel is present or all are empty.
    pub fn is_empty(&self) -> bool {
        self.present().all(|(_, s)| s.is_empty())
    }

    /// Index one past the last sample.
    pub fn end_sample(&self) -> u64 {
        self.first_sample + self.present().map(|(_, s)| s.len()).max().unwrap_or(0) as u64
    }

    /// The samples `[from, to)` (absolute indices, clipped to what is present) of every channel.
    pub fn window(&self, from: u64, to: u64) -> Signals<'a> {
        let end = self.end_sample();
        let from = from.clamp(self.first_sample, end);
        let to = to.clamp(from, end);
        let (a, b) = (
            (from - self.first_sample) as usize,
            (to - self.first_sample) as usize,
        );
        let mut out = Signals {
            first_sample: from,
            ..Signals::default()
        };
        for kind in KINDS {
            out.set(kind, self.get(kind).map(|s| &s[a.min(s.len())..b.min(s.len())]));
        }
        out
    }
}

/// Samples of one channel kept from an absolute index on: the online tracker's memory of recent signal.
/// Appending is amortised O(1); dropping old samples moves the kept tail only when half the buffer is garbage.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct History {
    first_sample: u64,
    dead: usize,
    samples: Vec<f64>,
}

impl History {
    pub(crate) fn extend(&mut self, samples: &[f64]) {
        self.samples.extend_from_slice(samples);
    }

    /// Absolute index of the first kept sample.
    pub(crate) fn first_sample(&self) -> u64 {
        self.first_sample
    }

    /// The kept samples (starting at [`History::first_sample`]).
    pub(crate) fn samples(&self) -> &[f64] {
        &self.samples[self.dead..]
    }

    /// Forgets samples before `index`.
    pub(crate) fn drop_before(&mut self, index: u64) {
        if index <= self.first_sample {
            return;
        }
        let drop = ((index - self.first_sample) as usize).min(self.samples.len() - self.dead);
        self.dead += drop;
        self.first_sample += drop as u64;
        if self.dead > 4096 && self.dead * 2 > self.samples.len() {
            self.samples.drain(..self.dead);
            self.dead = 0;
        }
    }
}
