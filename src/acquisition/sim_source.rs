//! The built-in simulated patient as a live source: [`crate::sim::Simulator`] run on its own thread, paced to
//! wall-clock time in blocks of ~16 ms as a console would deliver them, optionally steered by
//! [`crate::sim::Control`]s sent through a bounded channel (the demo panel, later the protocol and the trainer).
//! The app, `heracles record` and the tests all run the simulated patient through it.
//!
//! Controls take effect at the next block boundary, so the run stays deterministic for a given seed and sequence
//! of (sample index, control) pairs. Loss policy of the control channel: a full queue refuses the control and
//! the sender is told (it never blocks the UI); the source drains the queue before every block, so it only fills
//! if the source thread has stalled.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use crate::model::SourceSpec;
use crate::sim::{Control, Simulator};

use super::source::{Source, SourceEvent, SourceSink};

/// Controls waiting for the source thread, at most.
pub const CONTROL_QUEUE_LEN: usize = 32;

/// Seconds of signal per block (the pacing granularity and the control latency).
const BLOCK_S: f64 = 0.016;

/// A source more than this far behind wall-clock time (the machine slept, the thread was starved) resumes from
/// now instead of racing through the missed time; no sample is lost, simulated time simply did not pass.
const MAX_CATCH_UP_S: f64 = 2.0;

/// The simulated patient, ready to run on a source thread.
pub struct SimSource {
    simulator: Simulator,
    /// Where controls arrive, when the source can be steered.
    controls: Option<Receiver<Control>>,
}

/// Sends controls to a running [`SimSource`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SimControl {
    tx: SyncSender<Control>,
}

/// Why a control was not applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimControlError {
    /// The queue is full: the simulator thread has not kept up.
    #[error("the simulated patient is not taking controls now (queue full)")]
    Busy,
    /// The source has stopped.
    #[error("the simulated patient has stopped")]
    Stopped,
}

impl SimSource {
    /// The source for `simulator`, running as set up (no controls).
    pub fn new(simulator: Simulator) -> SimSource {
        SimSource {
            simulator,
            controls: None,
        }
    }

    /// The source for `simulator` and the handle that steers it.
    pub fn with_control(simulator: Simulator) -> (SimSource, SimControl) {
        let (tx, controls) = sync_channel(CONTROL_QUEUE_LEN);
        (
            SimSource {
                simulator,
                controls: Some(controls),
            },
            SimControl { tx },
        )
    }
}

impl SimControl {
    /// Queues `control` for the next block; never blocks.
    pub fn send(&self, control: Control) -> Result<(), SimControlError> {
        self.tx.try_send(control).map_err(|error| match error {
            TrySendError::Full(_) => SimControlError::Busy,
            TrySendError::Disconnected(_) => SimControlError::Stopped,
        })
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
        let max_behind = (MAX_CATCH_UP_S * rate_hz) as u64;
        let mut start = Instant::now();
        let mut num_sent: u64 = 0;
        loop {
            // A disconnected control channel (the app dropped its handle) just means no more controls.
            while let Some(control) = self
                .controls
                .as_ref()
                .and_then(|controls| controls.try_recv().ok())
            {
                self.simulator.control(control);
            }
            let due = (start.elapsed().as_secs_f64() * rate_hz) as u64;
            if due > num_sent + max_behind {
                start = Instant::now() - Duration::from_secs_f64(num_sent as f64 / rate_hz);
                log::warn!("simulated patient fell behind real time; resuming from now");
            }
            if num_sent + block_len <= due {
                let block = self.simulator.generate(block_len as usize);
                if sink.send(SourceEvent::Block(block)).is_err() {
                    return;
                }
                num_sent += block_len;
                // Controls are looked at again before the next block.
                continue;
            }
            if sink.should_stop() {
                return;
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
