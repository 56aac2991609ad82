//! Ensemble averaging (ENDPOINTS.md section 4, wave intensity): the accepted beats of a window aligned on their
//! fiducial and trimmed to the shortest beat, averaged sample by sample.
//!
//! Beats with a missing sample, or outside the signal, are left out and counted; the standard deviation is
//! returned beside the mean so the spread can be shown.

use serde::{Deserialize, Serialize};

use crate::model::Beat;

/// An ensemble-averaged beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// Mean over the beats, from the fiducial on (length = the shortest beat).
    pub mean: Vec<f64>,
    /// Sample standard deviation over the beats (0 with one beat).
    pub std: Vec<f64>,
    /// Beats averaged.
    pub num_beats: usize,
    /// Accepted beats left out (missing samples or outside the signal).
    pub num_excluded: usize,
}

/// Averages `signal` (whose sample 0 is absolute index `first_sample`) over the accepted `beats`, aligned on
/// their start and trimmed to the shortest of them. `None` when no beat can be used.
pub fn ensemble_average(signal: &[f64], first_sample: u64, beats: &[Beat]) -> Option<Ensemble> {
    let end_sample = first_sample + signal.len() as u64;
    let slice = |beat: &Beat| -> Option<&[f64]> {
        if beat.start < first_sample || beat.end > end_sample || beat.end <= beat.start {
            return None;
        }
        let s = &signal[(beat.start - first_sample) as usize..(beat.end - first_sample) as usize];
        (!s.iter().any(|v| v.is_nan())).then_some(s)
    };
    let accepted: Vec<&Beat> = beats.iter().filter(|b| b.accepted()).collect();
    let usable: Vec<&[f64]> = accepted.iter().filter_map(|b| slice(b)).collect();
    let len = usable.iter().map(|s| s.len()).min()?;
    let n = usable.len() as f64;
    let mut mean = vec![0.0; len];
    for s in &usable {
        for (m, v) in mean.iter_mut().zip(&s[..len]) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut std = vec![0.0; len];
    if usable.len() > 1 {
        for s in &usable {
            for ((d, v), m) in std.iter_mut().zip(&s[..len]).zip(&mean) {
                *d += (v - m) * (v - m);
            }
        }
        std.iter_mut().for_each(|d| *d = (*d / (n - 1.0)).sqrt());
    }
    Some(Ensemble {
        mean,
        std,
        num_beats: usable.len(),
        num_excluded: accepted.len() - usable.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fiducial, RejectReason};

    fn beat(start: u64, end: u64, reject: Option<RejectReason>) -> Beat {
        Beat {
            number: 1,
            start,
            end,
            fiducial: Fiducial::RWave,
            reject,
            non_pulsatile: false,
            irregular_rhythm: false,
        }
    }

    #[test]
    fn averages_aligned_beats_trimmed_to_the_shortest() {
        // Beat shape s(t) = t, plus a per-beat offset that averages out.
        let mut signal = Vec::new();
        let lengths = [10u64, 8, 12];
        let offsets = [1.0, -1.0, 0.0];
        let mut beats = Vec::new();
        for (len, offset) in lengths.iter().zip(offsets) {
            let start = signal.len() as u64;
            signal.extend((0..*len).map(|t| t as f64 + offset));
            beats.push(beat(start, start + len, None));
        }
        signal.push(f64::NAN);
        beats.push(beat(30, 31, Some(RejectReason::RrOutlier)));
        let e = ensemble_average(&signal, 0, &beats).unwrap();
        assert_eq!(e.num_beats, 3);
        assert_eq!(e.mean.len(), 8);
        for (t, m) in e.mean.iter().enumerate() {
            assert!((m - t as f64).abs() < 1e-12);
        }
        assert!((e.std[0] - 1.0).abs() < 1e-12);
        let mut with_gap = beats.clone();
        with_gap[3].reject = None;
        assert_eq!(ensemble_average(&signal, 0, &with_gap).unwrap().num_excluded, 1);
        assert!(ensemble_average(&signal, 0, &beats[3..]).is_none());
    }
}
