//! Steady windows (ENDPOINTS.md section 2): each protocol state is measured over at least 10 accepted
//! consecutive beats covering at least one ventilator cycle (default 15 s). The window's start, end and beat list
//! are what the analysis stores.
//!
//! "Consecutive" means each beat starts where the previous one ended and all are accepted; a rejected beat or a
//! gap between beats breaks the run. The window chosen is the shortest run of beats meeting both minimums, at
//! the earliest or the latest possible place ([`Pick`]); live monitoring uses the latest.

use serde::{Deserialize, Serialize};

use super::settings::WindowSettings;
use crate::model::Beat;

/// Where to take the window when several qualify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pick {
    /// The first qualifying window.
    Earliest,
    /// The last qualifying window (live: the newest).
    Latest,
}

/// A steady window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SteadyWindow {
    /// First sample (the first beat's start).
    pub start: u64,
    /// One past the last sample (the last beat's end).
    pub end: u64,
    /// Numbers of the beats in the window, in order.
    pub beat_numbers: Vec<u32>,
    /// Duration, s.
    pub duration_s: f64,
}

/// Maximal runs of consecutive accepted beats, as index ranges into `beats`.
pub fn accepted_runs(beats: &[Beat]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, beat) in beats.iter().enumerate() {
        let continues = i > 0 && beats[i - 1].end == beat.start && beats[i - 1].accepted();
        match (beat.accepted(), start) {
            (true, Some(_)) if continues => {}
            (true, _) => {
                if let Some(s) = start {
                    runs.push(s..i);
                }
                start = Some(i);
            }
            (false, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            (false, None) => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..beats.len());
    }
    runs
}

/// The shortest steady window at the earliest or latest place, or `None` when no run of beats qualifies.
pub fn steady_window(
    beats: &[Beat],
    sample_rate_hz: f64,
    settings: &WindowSettings,
    pick: Pick,
) -> Option<SteadyWindow> {
    let min_samples = settings.min_duration_s * sample_rate_hz;
    let qualifies = |first: &Beat, last: &Beat, n: usize| {
        n >= settings.min_beats.max(1) && (last.end - first.start) as f64 >= min_samples
    };
    let runs = accepted_runs(beats);
    let window = |range: std::ops::Range<usize>| {
        let chosen = &beats[range];
        let (first, last) = (chosen.first()?, chosen.last()?);
        Some(SteadyWindow {
            start: first.start,
            end: last.end,
            beat_numbers: chosen.iter().map(|b| b.number).collect(),
            duration_s: (last.end - first.start) as f64 / sample_rate_hz,
        })
    };
    match pick {
        Pick::Earliest => runs.into_iter().find_map(|run| {
            (run.start..run.end)
                .find(|&last| qualifies(&beats[run.start], &beats[last], last + 1 - run.start))
                .and_then(|last| window(run.start..last + 1))
        }),
        Pick::Latest => runs.into_iter().rev().find_map(|run| {
            (run.start..run.end)
                .rev()
                .find(|&first| qualifies(&beats[first], &beats[run.end - 1], run.end - first))
                .and_then(|first| window(first..run.end))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fiducial, RejectReason};

    fn beats(rr: u64, n: usize, rejected: &[usize]) -> Vec<Beat> {
        (0..n)
            .map(|i| Beat {
                number: i as u32 + 1,
                start: i as u64 * rr,
                end: (i as u64 + 1) * rr,
                fiducial: Fiducial::RWave,
                reject: rejected.contains(&i).then_some(RejectReason::RrOutlier),
                non_pulsatile: false,
                irregular_rhythm: false,
            })
            .collect()
    }

    #[test]
    fn needs_both_ten_beats_and_fifteen_seconds() {
        let settings = WindowSettings::default();
        // 1 s beats: 15 beats needed for 15 s.
        let b = beats(1000, 40, &[]);
        let w = steady_window(&b, 1000.0, &settings, Pick::Earliest).unwrap();
        assert_eq!((w.start, w.end, w.beat_numbers.len()), (0, 15_000, 15));
        let w = steady_window(&b, 1000.0, &settings, Pick::Latest).unwrap();
        assert_eq!((w.start, w.end), (25_000, 40_000));
        // 2 s beats: 10 beats (20 s) needed although 8 would cover 15 s.
        let w = steady_window(&beats(2000, 12, &[]), 1000.0, &settings, Pick::Earliest).unwrap();
        assert_eq!(w.beat_numbers, (1..=10).collect::<Vec<u32>>());
    }

    #[test]
    fn rejected_beats_break_runs() {
        let settings = WindowSettings::default();
        let b = beats(1000, 40, &[14, 30]);
        let w = steady_window(&b, 1000.0, &settings, Pick::Earliest).unwrap();
        assert_eq!(w.beat_numbers.first(), Some(&16));
        assert_eq!(w.beat_numbers.len(), 15);
        assert!(
            steady_window(&b, 1000.0, &settings, Pick::Latest)
                .unwrap()
                .beat_numbers
                .contains(&16)
        );
        assert!(steady_window(&beats(1000, 40, &[10, 20, 30]), 1000.0, &settings, Pick::Latest).is_none());
        assert_eq!(accepted_runs(&b), vec![0..14, 15..30, 31..40]);
    }
}
