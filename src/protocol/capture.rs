//! Steady-window captures: what kinds of window a step records, when a capture may stop by itself, and the quality
//! report the operator sees while it runs (beats accepted and rejected with reasons, heart-rate and ECMO-flow
//! stability).
//!
//! A window is steady [choice, ENDPOINTS.md section 2] when it holds at least the target number of consecutive
//! accepted beats over at least the target duration (15 s covers several ventilator cycles), the mean heart rate
//! of its second half is within 10 % of its first half, and the mean ECMO flow of its second half is within
//! 0.5 L/min of its first half (the same limits that flag a CDFR comparison between states).

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::model::WindowKind;
use crate::model::{Beat, RejectReason};
use crate::signal::settings::WindowSettings;
use crate::signal::window::accepted_runs;

/// Heart-rate drift within a window above which it is not steady, percent of the window's mean.
pub const MAX_HEART_RATE_DRIFT_PCT: f64 = 10.0;

/// ECMO-flow drift within a window above which it is not steady, L/min.
pub const MAX_ECMO_FLOW_DRIFT_L_MIN: f64 = 0.5;

/// When a capture stops by itself.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptureTarget {
    /// The capture runs at least this long.
    pub duration_s: f64,
    /// ... and until it holds at least this many consecutive accepted beats.
    pub min_consecutive_beats: u32,
    /// ... spanning at least this long (s): the steady window the analysis looks for is made of complete beats
    /// ([`crate::signal::window::steady_window`]), so the time the capture ran is not enough. Zero for a preload
    /// reduction, which is not steady by design.
    #[serde(default)]
    pub min_run_s: f64,
    /// It stops anyway after this long, reporting that the target was not reached.
    pub max_duration_s: f64,
}

impl CaptureTarget {
    /// The default target for a kind of window [choice]: the steady-window minimums of the signal settings (15 s
    /// and 10 consecutive accepted beats, ENDPOINTS.md section 2), at least 20 s for a preload reduction (an IVC
    /// occlusion takes 10-15 s to unload the ventricle), giving up after 60 s.
    pub fn default_for(kind: WindowKind) -> CaptureTarget {
        let steady = WindowSettings::default();
        let duration_s = match kind {
            WindowKind::PvPreloadReduction => steady.min_duration_s.max(20.0),
            WindowKind::CoronaryRest
            | WindowKind::CoronaryHyperaemia
            | WindowKind::CoronaryRestMinimumSupport
            | WindowKind::PvSteady => steady.min_duration_s,
        };
        let min_consecutive_beats = u32::try_from(steady.min_beats).unwrap_or(u32::MAX);
        let min_run_s = match kind {
            WindowKind::PvPreloadReduction => 0.0,
            WindowKind::CoronaryRest
            | WindowKind::CoronaryHyperaemia
            | WindowKind::CoronaryRestMinimumSupport
            | WindowKind::PvSteady => steady.min_duration_s,
        };
        CaptureTarget {
            duration_s,
            min_consecutive_beats,
            min_run_s,
            max_duration_s: 60.0,
        }
    }
}

/// How many beats were rejected for one reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectionCount {
    /// The reason.
    pub reason: RejectReason,
    /// How many beats.
    pub count: u32,
}

/// Mean of the first and second half of a window, to judge drift.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// Mean over the whole window.
    pub mean: f64,
    /// Mean over the first half.
    pub first_half: f64,
    /// Mean over the second half.
    pub second_half: f64,
}

impl Drift {
    /// Means of `values` (finite ones only) over the whole, first half and second half; `None` when either half
    /// holds no finite value.
    pub fn of(values: &[f64]) -> Option<Drift> {
        let (first, second) = values.split_at(values.len() / 2);
        Some(Drift {
            mean: finite_mean(values)?,
            first_half: finite_mean(first)?,
            second_half: finite_mean(second)?,
        })
    }

    /// Second-half mean minus first-half mean.
    pub fn change(&self) -> f64 {
        self.second_half - self.first_half
    }
}

fn finite_mean(values: &[f64]) -> Option<f64> {
    let (sum, count) = values
        .iter()
        .filter(|value| value.is_finite())
        .fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// The quality of a capture so far: shown while it runs and stored with the saved window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureQuality {
    /// Beats accepted by quality control.
    pub num_beats_accepted: u32,
    /// Beats rejected by quality control.
    pub num_beats_rejected: u32,
    /// Rejections by reason, most frequent first.
    pub rejections: Vec<RejectionCount>,
    /// The longest run of consecutive accepted beats (adjacent beats, no gap between them:
    /// [`crate::signal::window::accepted_runs`]).
    pub longest_accepted_run: u32,
    /// How long the longest-lasting run of consecutive accepted beats spans, s (first beat's start to last beat's
    /// end).
    #[serde(default)]
    pub longest_accepted_run_s: f64,
    /// Heart rate of the accepted beats (beats/min), when there are enough of them to judge.
    pub heart_rate_bpm: Option<Drift>,
    /// ECMO flow over the window (L/min), when the channel is recorded.
    pub ecmo_flow_l_min: Option<Drift>,
    /// Why beat detection found no beats (a flat or missing channel), when it found none.
    pub no_beats_reason: Option<String>,
}

/// Why a window is not steady.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QualityIssue {
    /// Fewer consecutive accepted beats than the target.
    TooFewBeats {
        /// The longest run of accepted beats.
        longest_run: u32,
        /// The target.
        needed: u32,
    },
    /// The consecutive accepted beats span less than the target.
    RunTooShort {
        /// The longest span of consecutive accepted beats, s.
        run_s: f64,
        /// The target, s.
        needed_s: f64,
    },
    /// No accepted beats at all, so no heart rate.
    NoHeartRate,
    /// The heart rate drifted more than [`MAX_HEART_RATE_DRIFT_PCT`].
    HeartRateDrift {
        /// Change from the first to the second half, percent of the mean.
        change_pct: f64,
    },
    /// The ECMO flow drifted more than [`MAX_ECMO_FLOW_DRIFT_L_MIN`].
    EcmoFlowDrift {
        /// Change from the first to the second half, L/min.
        change_l_min: f64,
    },
}

impl fmt::Display for QualityIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QualityIssue::TooFewBeats { longest_run, needed } => {
                write!(
                    f,
                    "only {longest_run} consecutive accepted beats (at least {needed} needed)"
                )
            }
            QualityIssue::RunTooShort { run_s, needed_s } => write!(
                f,
                "the consecutive accepted beats span {run_s:.1} s of the {needed_s:.0} s needed"
            ),
            QualityIssue::NoHeartRate => write!(f, "no accepted beats, so no heart rate"),
            QualityIssue::HeartRateDrift { change_pct } => {
                write!(
                    f,
                    "heart rate changed {change_pct:+.0} % within the window (limit {MAX_HEART_RATE_DRIFT_PCT} %)"
                )
            }
            QualityIssue::EcmoFlowDrift { change_l_min } => write!(
                f,
                "ECMO flow changed {change_l_min:+.2} L/min within the window (limit {MAX_ECMO_FLOW_DRIFT_L_MIN} L/min)"
            ),
        }
    }
}

impl CaptureQuality {
    /// Assesses a window from its beats (sample indices at `sample_rate_hz`) and the ECMO-flow samples over it
    /// (empty when the channel is not recorded). Non-finite flow samples are ignored.
    pub fn assess(beats: &[Beat], sample_rate_hz: f64, ecmo_flow_l_min: &[f64]) -> CaptureQuality {
        let mut quality = CaptureQuality::default();
        let runs = accepted_runs(beats);
        let longest_run = runs.iter().map(|run| run.len()).max().unwrap_or(0);
        quality.longest_accepted_run = u32::try_from(longest_run).unwrap_or(u32::MAX);
        quality.longest_accepted_run_s = runs
            .iter()
            .filter_map(|run| {
                let (first, last) = (beats.get(run.start)?, beats.get(run.end.checked_sub(1)?)?);
                Some(last.end.saturating_sub(first.start) as f64 / sample_rate_hz)
            })
            .filter(|span_s| span_s.is_finite())
            .fold(0.0, f64::max);
        let mut heart_rates_bpm = Vec::new();
        for beat in beats {
            match &beat.reject {
                None => {
                    quality.num_beats_accepted += 1;
                    let duration_s = beat.end.saturating_sub(beat.start) as f64 / sample_rate_hz;
                    if duration_s > 0.0 && duration_s.is_finite() {
                        heart_rates_bpm.push(60.0 / duration_s);
                    }
                }
                Some(reason) => {
                    quality.num_beats_rejected += 1;
                    match quality
                        .rejections
                        .iter_mut()
                        .find(|counted| counted.reason == *reason)
                    {
                        Some(counted) => counted.count += 1,
                        None => quality.rejections.push(RejectionCount {
                            reason: reason.clone(),
                            count: 1,
                        }),
                    }
                }
            }
        }
        quality
            .rejections
            .sort_by_key(|counted| std::cmp::Reverse(counted.count));
        // Two beats are the least that give each half a heart rate.
        quality.heart_rate_bpm = if heart_rates_bpm.len() >= 2 {
            Drift::of(&heart_rates_bpm)
        } else {
            None
        };
        quality.ecmo_flow_l_min = Drift::of(ecmo_flow_l_min);
        quality
    }

    /// Why the window is not steady against `target` (empty when it is).
    pub fn issues(&self, target: &CaptureTarget) -> Vec<QualityIssue> {
        let mut issues = Vec::new();
        if self.longest_accepted_run < target.min_consecutive_beats {
            issues.push(QualityIssue::TooFewBeats {
                longest_run: self.longest_accepted_run,
                needed: target.min_consecutive_beats,
            });
        }
        if self.longest_accepted_run_s < target.min_run_s {
            issues.push(QualityIssue::RunTooShort {
                run_s: self.longest_accepted_run_s,
                needed_s: target.min_run_s,
            });
        }
        match self.heart_rate_bpm {
            None => issues.push(QualityIssue::NoHeartRate),
            Some(hr) => {
                let change_pct = 100.0 * hr.change() / hr.mean;
                if change_pct.abs() > MAX_HEART_RATE_DRIFT_PCT {
                    issues.push(QualityIssue::HeartRateDrift { change_pct });
                }
            }
        }
        if let Some(flow) = self.ecmo_flow_l_min
            && flow.change().abs() > MAX_ECMO_FLOW_DRIFT_L_MIN
        {
            issues.push(QualityIssue::EcmoFlowDrift {
                change_l_min: flow.change(),
            });
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Fiducial;

    /// Beats of `rr_samples` each, starting at 0; `rejected` lists (position, reason).
    fn beats(rr_samples: &[u64], rejected: &[(usize, RejectReason)]) -> Vec<Beat> {
        let mut start = 0;
        rr_samples
            .iter()
            .enumerate()
            .map(|(i, rr)| {
                let beat = Beat {
                    number: i as u32 + 1,
                    start,
                    end: start + rr,
                    fiducial: Fiducial::RWave,
                    reject: rejected
                        .iter()
                        .find(|(at, _)| *at == i)
                        .map(|(_, reason)| reason.clone()),
                    non_pulsatile: false,
                    irregular_rhythm: false,
                };
                start += rr;
                beat
            })
            .collect()
    }

    #[test]
    fn steady_sinus_rhythm_is_steady() {
        // 21 beats of 750 ms at 1 kHz: 80 beats/min exactly, 15.75 s.
        let quality = CaptureQuality::assess(&beats(&[750; 21], &[]), 1000.0, &[3.5; 100]);
        assert_eq!(quality.num_beats_accepted, 21);
        assert_eq!(quality.longest_accepted_run, 21);
        assert!((quality.longest_accepted_run_s - 15.75).abs() < 1e-12);
        let hr = quality.heart_rate_bpm.unwrap();
        assert!((hr.mean - 80.0).abs() < 1e-9);
        assert!((quality.ecmo_flow_l_min.unwrap().mean - 3.5).abs() < 1e-12);
        assert!(
            quality
                .issues(&CaptureTarget::default_for(WindowKind::CoronaryRest))
                .is_empty()
        );
    }

    #[test]
    fn rejections_are_counted_by_reason_and_break_the_run() {
        let rejected = [
            (3, RejectReason::RrOutlier),
            (4, RejectReason::AfterRrOutlier),
            (8, RejectReason::RrOutlier),
            (9, RejectReason::AfterRrOutlier),
        ];
        let quality = CaptureQuality::assess(&beats(&[800; 20], &rejected), 1000.0, &[]);
        assert_eq!((quality.num_beats_accepted, quality.num_beats_rejected), (16, 4));
        assert_eq!(quality.longest_accepted_run, 10); // beats 10..=19
        assert_eq!(quality.rejections.len(), 2);
        assert!(quality.rejections.iter().all(|counted| counted.count == 2));
        assert_eq!(quality.ecmo_flow_l_min, None);
        let target = CaptureTarget {
            min_consecutive_beats: 11,
            min_run_s: 0.0,
            ..CaptureTarget::default_for(WindowKind::PvSteady)
        };
        assert_eq!(
            quality.issues(&target),
            vec![QualityIssue::TooFewBeats {
                longest_run: 10,
                needed: 11
            }]
        );
    }

    #[test]
    fn a_capture_is_steady_only_when_its_complete_beats_span_the_steady_minimum() {
        // 15 s of capture holding 20 complete beats of 700 ms: 14 s of beats, short of the 15 s the analysis's
        // steady window needs (the capture's first and last partial beats do not count).
        let quality = CaptureQuality::assess(&beats(&[700; 20], &[]), 1000.0, &[]);
        let target = CaptureTarget::default_for(WindowKind::CoronaryRest);
        assert_eq!(
            quality.issues(&target),
            vec![QualityIssue::RunTooShort {
                run_s: 14.0,
                needed_s: 15.0
            }]
        );
        // A preload reduction is not steady by design: no span is asked of it.
        assert_eq!(
            CaptureTarget::default_for(WindowKind::PvPreloadReduction).min_run_s,
            0.0
        );
    }

    #[test]
    fn drifting_heart_rate_and_flow_are_reported() {
        // First half at 60 beats/min, second half at 75: +22 % of the mean of 67.5.
        let mut rr = vec![1000; 6];
        rr.extend([800; 6]);
        let mut flow = vec![3.0; 50];
        flow.extend([3.8; 50]);
        let quality = CaptureQuality::assess(&beats(&rr, &[]), 1000.0, &flow);
        let target = CaptureTarget {
            min_run_s: 0.0,
            ..CaptureTarget::default_for(WindowKind::CoronaryRest)
        };
        let issues = quality.issues(&target);
        assert_eq!(issues.len(), 2, "{issues:?}");
        let QualityIssue::HeartRateDrift { change_pct } = issues[0] else {
            panic!("{issues:?}")
        };
        assert!((change_pct - 100.0 * 15.0 / 67.5).abs() < 1e-9);
        let QualityIssue::EcmoFlowDrift { change_l_min } = issues[1] else {
            panic!("{issues:?}")
        };
        assert!((change_l_min - 0.8).abs() < 1e-9);
    }

    #[test]
    fn empty_and_non_finite_input_gives_no_numbers_not_a_panic() {
        let quality = CaptureQuality::assess(&[], 1000.0, &[f64::NAN, f64::INFINITY]);
        assert_eq!(quality, CaptureQuality::default());
        let issues = quality.issues(&CaptureTarget::default_for(WindowKind::CoronaryRest));
        assert!(issues.contains(&QualityIssue::NoHeartRate));
        // A zero-length beat has no heart rate; it does not divide by zero.
        let zero = CaptureQuality::assess(&beats(&[0, 0, 0], &[]), 1000.0, &[]);
        assert_eq!(zero.heart_rate_bpm, None);
    }
}
