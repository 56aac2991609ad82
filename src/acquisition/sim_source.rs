//! The built-in simulated patient as a live source: [`crate::sim::Simulator`] run on its own thread and paced to
//! wall-clock time in 20 ms blocks, as a console would deliver them. The app, `heracles record` and the tests all
//! record the simulated patient through it.

use std::time::{Duration, Instant};

use crate::model::SourceSpec;
use crate::sim::Simulator;

use super::source::{Source, SourceEvent, SourceSink};

/// Seconds of signal per block.
const BLOCK_S: f64 = 0.020;

/// A source more than this far behind wall-clock time (the machine slept, the thread was starved) resumes from
/// now instead of racing through the missed time: no sample is lost, simulated time simply did not pass.
const MAX_CATCH_UP_S: f64 = 2.0;

/// The simulated patient, ready to run on a source thread.
pub struct SimSource {
    simulator: Simulator,
}

impl SimSource {
    /// The source for `simulator`.
    pub fn new(simulator: Simulator) -> SimSource {
        SimSource { simulator }
    }
}

impl Source for SimSource {
    fn spec(&self) -> SourceSpec {
        self.simulator.source_spec()
    }

    fn run(mut self: Box<Self>, sink: SourceSink) {
        let spec = self.simulator.source_spec();
        let rate_hz = spec.sample_rate_hz;
        let first_sample = (self.simulator.time_s() * rate_hz).round() as u64;
        if sink.send(SourceEvent::Connected { spec, first_sample }).is_err() {
            return;
        }
        let block_len = ((BLOCK_S * rate_hz).round() as u64).max(1);
        let mut start = Instant::now();
        let mut num_sent: u64 = 0;
        while !sink.should_stop() {
            let due = (start.elapsed().as_secs_f64() * rate_hz) as u64;
            if due > num_sent + (MAX_CATCH_UP_S * rate_hz) as u64 {
                log::warn!("the simulated patient fell behind real time; resuming from now");
                start = Instant::now() - Duration::from_secs_f64(num_sent as f64 / rate_hz);
                continue;
            }
            if num_sent + block_len <= due {
                let block = self.simulator.generate(block_len as usize);
                if sink.send(SourceEvent::Block(block)).is_err() {
                    return;
                }
                num_sent += block_len;
                continue;
            }
            let next_due = start + Duration::from_secs_f64((num_sent + block_len) as f64 / rate_hz);
            std::thread::sleep(
                next_due
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::sync_channel;

    use super::*;
    use crate::sim::SensorLevel;

    #[test]
    fn delivers_contiguous_blocks_in_real_time_and_stops() {
        let simulator = Simulator::new("healthy", 1, SensorLevel::Clean).unwrap();
        let source = Box::new(SimSource::new(simulator));
        let spec = source.spec();
        let (tx, rx) = sync_channel(64);
        let stop = Arc::new(AtomicBool::new(false));
        let sink = SourceSink::new(0, tx, stop.clone());
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("test-sim".into())
            .spawn(move || source.run(sink))
            .unwrap();
        let (_, first) = rx.recv().unwrap();
        assert_eq!(
            first,
            SourceEvent::Connected {
                spec: spec.clone(),
                first_sample: 0
            }
        );
        let mut next = 0;
        while next < 300 {
            let (_, SourceEvent::Block(block)) = rx.recv().unwrap() else {
                panic!("expected a block")
            };
            assert_eq!(
                (block.first_sample, block.channels.len()),
                (next, spec.channels.len())
            );
            next = block.end_sample();
        }
        // 300 samples at 1 kHz cannot come sooner than 0.3 s.
        assert!(
            started.elapsed() >= Duration::from_millis(290),
            "{:?}",
            started.elapsed()
        );
        stop.store(true, Ordering::Relaxed);
        while rx.recv_timeout(Duration::from_millis(100)).is_ok() {}
        thread.join().unwrap();
    }
}
