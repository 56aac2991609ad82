//! The simulator as a console on a wire: turns the simulated patient into heracles stream protocol bytes (what a
//! bridge would send), with deterministic fault injection, and streams them in real time to a serial port or a
//! pseudo-terminal. This is what `heracles simulate --pty` and `--port` run, and what the end-to-end tests drive.
//!
//! Faults (seeded, so a run can be repeated exactly, and logged frame by frame so tests can check that the
//! receiver's gaps match them sample for sample):
//! - `drop=P`: each data frame is not sent with probability P;
//! - `corrupt=P`: each data frame has one bit of its samples flipped with probability P (the CRC then fails);
//! - `disconnect-after=S`: after S seconds the link goes silent for `disconnect-for` seconds (default 3) while
//!   the console keeps sampling, as when a cable is pulled and plugged back.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::model::Block;
use crate::sim::Simulator;
use crate::sim::rng::Rng;

use super::codec::frame::{DATA_HEADER_LEN, HEADER_LEN};
use super::codec::{ChannelDescriptor, Descriptor, EncodeError, SampleFormat, StreamEncoder};

/// Samples per data frame: 10 ms at the simulator's 1 kHz.
pub const SAMPLES_PER_FRAME: usize = 10;

/// Data frames between descriptors (1 s at 10 ms per frame).
const FRAMES_PER_DESCRIPTOR: u64 = 100;

/// How long a write may wait for the reader before the frame counts as not sent.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Source id the simulator's bridge uses.
pub const SIM_SOURCE_ID: u16 = 1;

/// Which faults to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Probability that a data frame is not sent.
    pub drop_probability: f64,
    /// Probability that a data frame is damaged.
    pub corrupt_probability: f64,
    /// Seconds of streaming after which the link goes silent.
    pub disconnect_after_s: Option<f64>,
    /// How long it stays silent.
    pub disconnect_for_s: f64,
    /// Seed of the fault draws.
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig {
            drop_probability: 0.0,
            corrupt_probability: 0.0,
            disconnect_after_s: None,
            disconnect_for_s: 3.0,
            seed: 1,
        }
    }
}

/// A `--faults` value that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("bad fault specification {0:?}: expected drop=P,corrupt=P,disconnect-after=S[,disconnect-for=S]")]
pub struct FaultSpecError(pub String);

impl FaultConfig {
    /// Parses `drop=0.01,corrupt=0.001,disconnect-after=30[,disconnect-for=3]` (any subset, any order), with
    /// the draws seeded by `seed`.
    pub fn parse(text: &str, seed: u64) -> Result<FaultConfig, FaultSpecError> {
        let mut config = FaultConfig {
            seed,
            ..FaultConfig::default()
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || FaultSpecError(part.to_owned());
            let (key, value) = part.split_once('=').ok_or_else(bad)?;
            let value: f64 = value.trim().parse().map_err(|_| bad())?;
            let probability = (0.0..=1.0).contains(&value);
            match key.trim() {
                "drop" if probability => config.drop_probability = value,
                "corrupt" if probability => config.corrupt_probability = value,
                "disconnect-after" if value >= 0.0 && value.is_finite() => {
                    config.disconnect_after_s = Some(value)
                }
                "disconnect-for" if value > 0.0 && value.is_finite() => config.disconnect_for_s = value,
                _ => return Err(bad()),
            }
        }
        Ok(config)
    }
}

/// What was done to one data frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Not sent.
    Drop,
    /// Sent with a flipped bit.
    Corrupt,
    /// Not sent: the link was down.
    Disconnect,
    /// Could not be written (the reader was not reading).
    Unsent,
}

/// One injected fault, as logged (one JSON object per line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    /// What happened.
    pub fault: FaultKind,
    /// The frame's sequence number.
    pub sequence: u16,
    /// The frame's first sample (the simulator's index).
    pub first_sample: u64,
    /// Samples per channel in the frame.
    pub num_samples: usize,
}

/// The next stretch of the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamChunk {
    /// Bytes to put on the wire.
    pub bytes: Vec<u8>,
    /// Faults injected in this stretch.
    pub faults: Vec<FaultRecord>,
    /// The samples the simulator produced (sent or not): the truth to compare with.
    pub block: Block,
}

/// The descriptor the simulator's bridge announces: the simulator's channels as `i16`, scaled to cover each
/// signal's range (ECG 1 uV, pressures and velocity 0.01, volume 0.02 mL, ECMO flow 0.001 L/min per count).
pub fn sim_descriptor(sim: &Simulator, boot_id: u32) -> Descriptor {
    let spec = sim.source_spec();
    Descriptor {
        source_id: SIM_SOURCE_ID,
        boot_id,
        sample_rate_hz: spec.sample_rate_hz,
        sample_format: SampleFormat::I16,
        label: "heracles simulator".to_owned(),
        channels: spec
            .channels
            .iter()
            .map(|channel| ChannelDescriptor {
                scale: match channel.name.as_str() {
                    "ecg" => 0.001,
                    "lvv" => 0.02,
                    "ecmo_flow" => 0.001,
                    _ => 0.01,
                },
                offset: 0.0,
                name: channel.name.clone(),
                unit: channel.unit.clone(),
            })
            .collect(),
    }
}

/// The simulated patient as a stream of frames (sans-IO: produces bytes, does not write them).
#[derive(Debug)]
pub struct SimStream {
    sim: Simulator,
    encoder: StreamEncoder,
    faults: FaultConfig,
    rng: Rng,
    num_frames: u64,
}

impl SimStream {
    /// A stream of `sim` announcing `boot_id`, injecting `faults`.
    pub fn new(sim: Simulator, boot_id: u32, faults: FaultConfig) -> Result<SimStream, EncodeError> {
        let encoder = StreamEncoder::new(sim_descriptor(&sim, boot_id), SAMPLES_PER_FRAME, 0, 0)?;
        Ok(SimStream {
            rng: Rng::new(faults.seed),
            sim,
            encoder,
            faults,
            num_frames: 0,
        })
    }

    /// The descriptor sent.
    pub fn descriptor(&self) -> &Descriptor {
        self.encoder.descriptor()
    }

    /// Seconds of signal produced so far.
    pub fn time_s(&self) -> f64 {
        self.encoder.next_sample() as f64 / self.descriptor().sample_rate_hz
    }

    fn disconnected(&self, time_s: f64) -> bool {
        self.faults
            .disconnect_after_s
            .is_some_and(|after| time_s >= after && time_s < after + self.faults.disconnect_for_s)
    }

    /// The next `num_frames` data frames (and a descriptor once a second).
    pub fn next_frames(&mut self, num_frames: usize) -> Result<StreamChunk, EncodeError> {
        let block = self.sim.generate(num_frames * SAMPLES_PER_FRAME);
        let mut chunk = StreamChunk {
            bytes: Vec::new(),
            faults: Vec::new(),
            block,
        };
        let start_s = self.time_s();
        for frame in self.encoder.data_frames(&chunk.block)? {
            let time_s = start_s + (frame.first_sample - chunk.block.first_sample) as f64 / 1000.0;
            if self.num_frames.is_multiple_of(FRAMES_PER_DESCRIPTOR) && !self.disconnected(time_s) {
                self.encoder.descriptor_frame(&mut chunk.bytes);
            }
            self.num_frames += 1;
            // Draw both every frame, so the fault pattern does not depend on which faults are enabled.
            let (drop_draw, corrupt_draw, bit_draw) =
                (self.rng.uniform(), self.rng.uniform(), self.rng.next_u64());
            let record = |fault| FaultRecord {
                fault,
                sequence: frame.sequence,
                first_sample: frame.first_sample,
                num_samples: frame.num_samples,
            };
            if self.disconnected(time_s) {
                chunk.faults.push(record(FaultKind::Disconnect));
            } else if drop_draw < self.faults.drop_probability {
                chunk.faults.push(record(FaultKind::Drop));
            } else if corrupt_draw < self.faults.corrupt_probability {
                let mut bytes = frame.bytes.clone();
                // A bit of the samples: the header stays plausible, so the receiver sees a CRC failure.
                let body = HEADER_LEN + DATA_HEADER_LEN..bytes.len() - 4;
                let at = body.start + (bit_draw % body.len() as u64) as usize;
                bytes[at] ^= 1 << ((bit_draw >> 32) % 8);
                chunk.bytes.extend_from_slice(&bytes);
                chunk.faults.push(record(FaultKind::Corrupt));
            } else {
                chunk.bytes.extend_from_slice(&frame.bytes);
            }
        }
        Ok(chunk)
    }
}

/// What a finished stream did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamReport {
    /// Data frames produced.
    pub num_frames: u64,
    /// Faults injected (including frames that could not be written).
    pub num_faults: u64,
}

/// Streams `stream` to `port` in real time (10 ms per write) for `duration_s` seconds (for ever when `None`),
/// logging every fault with `log_fault`. Returns when the duration is reached or `keep_going` says stop. A write
/// the reader does not take within 2 s is logged as [`FaultKind::Unsent`] and streaming goes on.
pub fn stream_real_time(
    stream: &mut SimStream,
    port: &mut dyn Write,
    duration_s: Option<f64>,
    keep_going: &dyn Fn() -> bool,
    log_fault: &mut dyn FnMut(&FaultRecord),
) -> Result<StreamReport, EncodeError> {
    let started = Instant::now();
    let frame_s = SAMPLES_PER_FRAME as f64 / stream.descriptor().sample_rate_hz;
    let mut report = StreamReport::default();
    while keep_going() && duration_s.is_none_or(|d| stream.time_s() < d) {
        let due = started + Duration::from_secs_f64(stream.time_s() + frame_s);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let chunk = stream.next_frames(1)?;
        report.num_frames += 1;
        for fault in &chunk.faults {
            report.num_faults += 1;
            log_fault(fault);
        }
        if !chunk.bytes.is_empty() && write_with_deadline(port, &chunk.bytes).is_err() {
            // The frame (if not already faulted) was lost to a reader that is not reading: say so.
            let first_sample = chunk.block.first_sample;
            if !chunk.faults.iter().any(|f| f.first_sample == first_sample) {
                report.num_faults += 1;
                log_fault(&FaultRecord {
                    fault: FaultKind::Unsent,
                    sequence: (report.num_frames - 1) as u16,
                    first_sample,
                    num_samples: chunk.block.num_samples(),
                });
            }
        }
    }
    Ok(report)
}

/// Writes all of `bytes`, giving up after [`WRITE_TIMEOUT`].
fn write_with_deadline(port: &mut dyn Write, mut bytes: &[u8]) -> std::io::Result<()> {
    let deadline = Instant::now() + WRITE_TIMEOUT;
    while !bytes.is_empty() {
        match port.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error),
        }
        if Instant::now() >= deadline && !bytes.is_empty() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
    }
    port.flush()
}

/// Where a stream goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamTarget {
    /// A new pseudo-terminal pair; the receiver opens [`StreamOutput::path`].
    Pty,
    /// A serial port.
    Port {
        /// Device path.
        path: String,
        /// Baud rate.
        baud: u32,
    },
}

/// An open stream target: write the stream into it. For a pseudo-terminal, the port end is held open too, so the
/// terminal lives (and the receiver may come and go) until this is dropped.
pub struct StreamOutput {
    writer: Box<dyn serialport::SerialPort>,
    _port_end: Option<serialport::TTYPort>,
    /// Path the receiver opens (the port end of a pseudo-terminal, or the port itself).
    pub path: String,
}

impl std::fmt::Debug for StreamOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOutput")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Write for StreamOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.writer.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// Opens `target` for streaming.
pub fn open_output(target: &StreamTarget) -> Result<StreamOutput, serialport::Error> {
    match target {
        StreamTarget::Pty => {
            let (mut console, port_end) = serialport::TTYPort::pair()?;
            let path = serialport::SerialPort::name(&port_end).ok_or_else(|| {
                serialport::Error::new(serialport::ErrorKind::Unknown, "the pseudo-terminal has no name")
            })?;
            serialport::SerialPort::set_timeout(&mut console, Duration::from_millis(100))?;
            Ok(StreamOutput {
                writer: Box::new(console),
                _port_end: Some(port_end),
                path,
            })
        }
        StreamTarget::Port { path, baud } => Ok(StreamOutput {
            writer: serialport::new(path, *baud)
                .timeout(Duration::from_millis(100))
                .open()?,
            _port_end: None,
            path: path.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::acquisition::codec::{ReceiverConfig, StreamEvent, StreamLink};
    use crate::model::GapReason;
    use crate::sim::SensorLevel;

    fn stream(faults: FaultConfig) -> SimStream {
        SimStream::new(
            Simulator::new("shock-ecmo", 7, SensorLevel::Realistic).unwrap(),
            42,
            faults,
        )
        .unwrap()
    }

    #[test]
    fn faults_parse() {
        let faults = FaultConfig::parse("drop=0.01, corrupt=0.001,disconnect-after=30", 9).unwrap();
        assert_eq!(
            faults,
            FaultConfig {
                drop_probability: 0.01,
                corrupt_probability: 0.001,
                disconnect_after_s: Some(30.0),
                disconnect_for_s: 3.0,
                seed: 9
            }
        );
        for bad in ["drop", "drop=2", "lose=0.1", "disconnect-after=-1", "corrupt=x"] {
            assert!(FaultConfig::parse(bad, 1).is_err(), "{bad}");
        }
        assert_eq!(FaultConfig::parse("", 3).unwrap().drop_probability, 0.0);
    }

    #[test]
    fn receiver_gaps_match_injected_faults_sample_for_sample() {
        let faults = FaultConfig {
            drop_probability: 0.05,
            corrupt_probability: 0.05,
            disconnect_after_s: Some(2.0),
            disconnect_for_s: 1.5,
            seed: 11,
        };
        let mut sim = stream(faults);
        let mut link = StreamLink::new(ReceiverConfig {
            source_id: None,
            spec_id: "sim".into(),
            label: String::new(),
        });
        let mut events = Vec::new();
        let mut missing = BTreeSet::new();
        let mut truth = Vec::new();
        let mut was_down = false;
        // 5 s in 10 ms writes; the receiver notices the silence (its transport would after 1 s of nothing).
        for _ in 0..500 {
            let chunk = sim.next_frames(1).unwrap();
            let down = chunk.faults.iter().any(|f| f.fault == FaultKind::Disconnect);
            if was_down && !down {
                link.link_lost();
            }
            was_down = down;
            for fault in &chunk.faults {
                missing.extend(fault.first_sample..fault.first_sample + fault.num_samples as u64);
            }
            link.feed(&chunk.bytes, sim.time_s(), &mut events);
            truth.push(chunk.block);
        }
        let gaps: Vec<_> = events
            .iter()
            .filter_map(|e| {
                if let StreamEvent::Gap(g) = e {
                    Some(g.clone())
                } else {
                    None
                }
            })
            .collect();
        let gapped: BTreeSet<u64> = gaps
            .iter()
            .flat_map(|g| g.first_sample..g.first_sample + g.num_samples)
            .collect();
        // Faults at the very end show up only with the next frame; compare up to the last sample received.
        let last = events
            .iter()
            .rev()
            .find_map(|e| {
                if let StreamEvent::Block(b) = e {
                    Some(b.end_sample())
                } else {
                    None
                }
            })
            .unwrap();
        let missing: BTreeSet<u64> = missing.into_iter().filter(|&i| i < last).collect();
        assert!(!missing.is_empty());
        assert_eq!(gapped, missing);
        assert!(
            gaps.iter()
                .any(|g| g.reason == GapReason::Disconnected && g.num_samples == 1500)
        );
        assert!(gaps.iter().any(|g| g.reason == GapReason::CorruptFrames));
        assert!(gaps.iter().any(|g| g.reason == GapReason::DroppedFrames));
        // Every delivered sample is the simulator's, within half a count of its channel's scale.
        let scales: Vec<f32> = sim.descriptor().channels.iter().map(|c| c.scale).collect();
        for event in &events {
            let StreamEvent::Block(block) = event else {
                continue;
            };
            for (c, channel) in block.channels.iter().enumerate() {
                for (i, value) in channel.iter().enumerate() {
                    let index = block.first_sample as usize + i;
                    let sent = truth[index / SAMPLES_PER_FRAME].channels[c][index % SAMPLES_PER_FRAME];
                    assert!(
                        (value - sent).abs() <= scales[c] / 2.0 + 1e-4,
                        "channel {c} sample {index}: {value} vs {sent}"
                    );
                }
            }
        }
    }

    #[test]
    fn same_seed_same_faults() {
        let faults = FaultConfig {
            drop_probability: 0.1,
            corrupt_probability: 0.1,
            seed: 5,
            ..FaultConfig::default()
        };
        let run = || {
            let mut s = stream(faults.clone());
            (0..50)
                .flat_map(|_| s.next_frames(1).unwrap().faults)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(!run().is_empty());
    }
}
