//! Replay: plays an imported recording as if a console were sending it, at real time, N times faster, or as
//! fast as the engine takes it. The app, the tests and training use it through the same [`Source`] interface as
//! a live console.
//!
//! A [`Source`] has one sample rate, so a recording whose channels have several rates becomes one replay source
//! per rate ([`ReplaySource::from_recording`]). Each segment of the recording starts a segment of the source
//! (`Connected` at `round(start_s x rate)`), with the time between segments recorded as a gap; pacing applies
//! within segments, and the pause between segments is not waited out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Block, ChannelSpec, Gap, GapReason, Recording, SourceSpec};

use super::source::{Source, SourceEvent, SourceSink, Stopped};

/// How fast to play.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReplaySpeed {
    /// This many times real time (1.0 = real time).
    Times(f64),
    /// As fast as the engine accepts blocks (backpressure paces it).
    AsFastAsPossible,
}

/// Samples per block handed to the engine: 20 ms of signal at real time (so the live view stays smooth).
const BLOCK_DURATION_S: f64 = 0.02;

/// One segment of a recording's channels at one rate, placed on that source's sample index line.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSegment {
    /// Index of the segment's first sample (`round(start_s x rate)`, never before the previous segment's end).
    pub first_sample: u64,
    /// The source as it is during this segment.
    pub spec: SourceSpec,
    /// One vector per channel of `spec`, all the same length.
    pub channels: Vec<Vec<f32>>,
}

impl SourceSegment {
    /// Index one past the last sample.
    pub fn end_sample(&self) -> u64 {
        self.first_sample + self.channels.first().map_or(0, Vec::len) as u64
    }
}

/// Splits a recording into sources of one rate each (ids `<id>`, or `<id>-<rate>hz` when there are several
/// rates), each a list of segments in time order. Samples become `f32`, the precision of the live path and of
/// the case file.
pub fn split_by_rate(recording: &Recording, id: &str, label: &str) -> Vec<Vec<SourceSegment>> {
    let mut rates: Vec<f64> = Vec::new();
    for channel in recording.segments.iter().flat_map(|s| &s.channels) {
        if channel.sample_rate_hz > 0.0
            && channel.sample_rate_hz.is_finite()
            && !rates.contains(&channel.sample_rate_hz)
        {
            rates.push(channel.sample_rate_hz);
        }
    }
    rates
        .iter()
        .map(|&rate| {
            let id = if rates.len() == 1 {
                id.to_owned()
            } else {
                format!("{id}-{rate}hz")
            };
            let mut segments: Vec<SourceSegment> = Vec::new();
            for segment in &recording.segments {
                let channels: Vec<_> = segment
                    .channels
                    .iter()
                    .filter(|c| c.sample_rate_hz == rate)
                    .collect();
                if channels.is_empty() {
                    continue;
                }
                let spec = SourceSpec {
                    id: id.clone(),
                    label: label.to_owned(),
                    sample_rate_hz: rate,
                    channels: channels
                        .iter()
                        .map(|c| ChannelSpec {
                            name: c.name.clone(),
                            unit: c.unit.clone(),
                        })
                        .collect(),
                };
                let start = (segment.start_s * rate).round().max(0.0) as u64;
                // Never go back in time, even if the file's segments overlap by a rounding.
                let first_sample = segments.last().map_or(start, |s| start.max(s.end_sample()));
                let length = channels.iter().map(|c| c.samples.len()).min().unwrap_or(0);
                segments.push(SourceSegment {
                    first_sample,
                    spec,
                    channels: channels
                        .iter()
                        .map(|c| c.samples[..length].iter().map(|&v| v as f32).collect())
                        .collect(),
                });
            }
            segments
        })
        .collect()
}

/// A recording (or the part of it at one sample rate) played as a source.
#[derive(Clone, Debug)]
pub struct ReplaySource {
    spec: SourceSpec,
    segments: Arc<Vec<SourceSegment>>,
    speed: ReplaySpeed,
}

impl ReplaySource {
    /// One replay source per sample rate in `recording` (see [`split_by_rate`]).
    pub fn from_recording(
        recording: &Recording,
        id: &str,
        label: &str,
        speed: ReplaySpeed,
    ) -> Vec<ReplaySource> {
        split_by_rate(recording, id, label)
            .into_iter()
            .filter_map(|segments| {
                let spec = segments.first()?.spec.clone();
                Some(ReplaySource {
                    spec,
                    segments: Arc::new(segments),
                    speed,
                })
            })
            .collect()
    }

    fn play(&self, sink: &SourceSink) -> Result<(), Stopped> {
        let rate = self.spec.sample_rate_hz;
        let block_len = ((BLOCK_DURATION_S * rate).ceil() as usize).max(1);
        let mut previous_end: Option<u64> = None;
        for segment in self.segments.iter() {
            if let Some(end) = previous_end
                && segment.first_sample > end
            {
                sink.send(SourceEvent::Gap(Gap {
                    first_sample: end,
                    num_samples: segment.first_sample - end,
                    reason: GapReason::Other("between segments of the replayed file".into()),
                }))?;
            }
            sink.send(SourceEvent::Connected {
                spec: segment.spec.clone(),
                first_sample: segment.first_sample,
            })?;
            let started = Instant::now();
            let length = segment.channels.first().map_or(0, Vec::len);
            let mut start = 0;
            while start < length {
                let end = (start + block_len).min(length);
                if let ReplaySpeed::Times(factor) = self.speed {
                    // Hand each block over when its last sample would have arrived.
                    let due_s = end as f64 / rate / factor.max(1e-6);
                    wait_until(sink, started + Duration::from_secs_f64(due_s))?;
                }
                sink.send(SourceEvent::Block(Block {
                    first_sample: segment.first_sample + start as u64,
                    channels: segment.channels.iter().map(|c| c[start..end].to_vec()).collect(),
                }))?;
                start = end;
            }
            previous_end = Some(segment.end_sample());
        }
        sink.send(SourceEvent::Finished)
    }
}

fn wait_until(sink: &SourceSink, deadline: Instant) -> Result<(), Stopped> {
    loop {
        if sink.should_stop() {
            return Err(Stopped);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

impl Source for ReplaySource {
    fn spec(&self) -> SourceSpec {
        self.spec.clone()
    }

    fn run(self: Box<Self>, sink: SourceSink) {
        // `Err(Stopped)` is the normal way out when the engine stops before the end.
        let _ = self.play(&sink);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc::sync_channel;

    use super::*;
    use crate::model::{Segment, TimeSeries};

    fn series(name: &str, rate: f64, samples: Vec<f64>) -> TimeSeries {
        TimeSeries {
            name: name.into(),
            unit: "mmHg".into(),
            sample_rate_hz: rate,
            samples,
        }
    }

    #[test]
    fn plays_segments_with_gaps_and_splits_rates() {
        let recording = Recording {
            segments: vec![
                Segment {
                    start_s: 0.0,
                    channels: vec![
                        series("pa", 100.0, (0..250).map(f64::from).collect()),
                        series("slow", 1.0, vec![1.0, 2.0]),
                    ],
                },
                Segment {
                    start_s: 10.0,
                    channels: vec![series("pa", 100.0, vec![7.0; 30])],
                },
            ],
            markers: Vec::new(),
        };
        let sources = ReplaySource::from_recording(&recording, "file", "File", ReplaySpeed::AsFastAsPossible);
        assert_eq!(sources.len(), 2);
        assert_eq!(
            (sources[0].spec.id.as_str(), sources[1].spec.id.as_str()),
            ("file-100hz", "file-1hz")
        );
        let (tx, rx) = sync_channel(1024);
        let sink = SourceSink::new(0, tx, Arc::new(AtomicBool::new(false)));
        Box::new(sources[0].clone()).run(sink);
        let events: Vec<SourceEvent> = rx.try_iter().map(|(_, e)| e).collect();
        assert!(matches!(
            &events[0],
            SourceEvent::Connected { first_sample: 0, .. }
        ));
        let samples: Vec<f32> = events
            .iter()
            .filter_map(|e| {
                if let SourceEvent::Block(b) = e {
                    Some(b.channels[0].clone())
                } else {
                    None
                }
            })
            .flatten()
            .collect();
        assert_eq!(samples.len(), 280);
        assert_eq!(samples[249], 249.0);
        let gap = events.iter().find_map(|e| {
            if let SourceEvent::Gap(g) = e {
                Some(g.clone())
            } else {
                None
            }
        });
        assert_eq!(gap.map(|g| (g.first_sample, g.num_samples)), Some((250, 750)));
        assert!(events.iter().any(|e| matches!(
            e,
            SourceEvent::Connected {
                first_sample: 1000,
                ..
            }
        )));
        assert_eq!(events.last(), Some(&SourceEvent::Finished));
    }

    #[test]
    fn real_time_pacing_takes_the_recording_duration() {
        let recording = Recording {
            segments: vec![Segment {
                start_s: 0.0,
                channels: vec![series("pa", 1000.0, vec![0.0; 300])],
            }],
            markers: Vec::new(),
        };
        let source = ReplaySource::from_recording(&recording, "f", "F", ReplaySpeed::Times(2.0)).remove(0);
        let (tx, _rx) = sync_channel(1024);
        let sink = SourceSink::new(0, tx, Arc::new(AtomicBool::new(false)));
        let started = Instant::now();
        Box::new(source).run(sink);
        // 0.3 s of signal at twice real time: 0.15 s (and not much more).
        let elapsed = started.elapsed().as_secs_f64();
        assert!((0.14..2.0).contains(&elapsed), "{elapsed}");
    }
}
