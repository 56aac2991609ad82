//! Serial consoles: port discovery, and the serial [`Source`] that reads a port on its own thread, decodes the
//! heracles protocol or a text line stream, detects a lost link within [`LINK_TIMEOUT`] and reopens the port with
//! backoff. Only this module (in all of heracles) talks to the serialport crate.

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::SourceSpec;

use super::codec::{ReceiverConfig, StreamEvent, StreamLink};
use super::source::{Source, SourceEvent, SourceSink, SourceStatus, Stopped};
use super::text_stream::{TextStream, TextStreamConfig};

/// With no valid frame (or line) for this long, the link is declared lost and the port reopened.
pub const LINK_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one read waits for bytes (bounds how quickly the thread notices a stop request).
const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// First wait before reopening a port, doubled after each failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between attempts to reopen a port.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How often the source reports its counters.
const STATUS_INTERVAL: Duration = Duration::from_millis(250);

/// Default baud rate of the heracles bridge.
pub const DEFAULT_BAUD: u32 = 921_600;

/// A serial port the operator can choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// Device path, e.g. `/dev/ttyUSB0` or `COM3`.
    pub path: String,
    /// What the system says it is (USB vendor/product when known).
    pub description: String,
}

/// The serial ports the system reports (pseudo-terminals such as `/dev/pts/3` are not listed; type them in).
pub fn available_ports() -> Vec<PortInfo> {
    let ports = match serialport::available_ports() {
        Ok(ports) => ports,
        Err(error) => {
            log::warn!("listing serial ports failed: {error}");
            return Vec::new();
        }
    };
    let mut ports: Vec<PortInfo> = ports
        .into_iter()
        .map(|port| {
            let description = match port.port_type {
                serialport::SerialPortType::UsbPort(usb) => format!(
                    "USB {:04x}:{:04x} {}",
                    usb.vid,
                    usb.pid,
                    usb.product.or(usb.manufacturer).unwrap_or_default()
                ),
                serialport::SerialPortType::PciPort => "PCI serial port".to_owned(),
                serialport::SerialPortType::BluetoothPort => "Bluetooth serial port".to_owned(),
                serialport::SerialPortType::Unknown => "serial port".to_owned(),
            };
            PortInfo {
                path: port.port_name,
                description: description.trim().to_owned(),
            }
        })
        .collect();
    ports.sort_by(|a, b| a.path.cmp(&b.path));
    ports
}

/// How bytes on the port are framed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Framing {
    /// The heracles stream protocol (`docs/stream-protocol.md`).
    Heracles {
        /// Follow only this source id; `None` follows the first one seen.
        source_id: Option<u16>,
    },
    /// One sample per text line.
    Text(TextStreamConfig),
}

/// Everything needed to read one console from one port.
#[derive(Clone, Debug, PartialEq)]
pub struct SerialConfig {
    /// Device path, e.g. `/dev/ttyUSB0`, `/dev/pts/3` or a stable symlink to one.
    pub path: String,
    /// Baud rate (ignored by pseudo-terminals).
    pub baud: u32,
    /// Protocol on the wire.
    pub framing: Framing,
    /// What the source is expected to deliver (id and label are kept; the heracles protocol's descriptor
    /// supplies the actual channels and rate).
    pub spec: SourceSpec,
}

/// The decoder for either framing.
#[derive(Debug)]
enum Decoding {
    Heracles(Box<StreamLink>),
    Text(Box<TextStream>),
}

impl Decoding {
    fn new(config: &SerialConfig) -> Decoding {
        match &config.framing {
            Framing::Heracles { source_id } => {
                Decoding::Heracles(Box::new(StreamLink::new(ReceiverConfig {
                    source_id: *source_id,
                    spec_id: config.spec.id.clone(),
                    label: config.spec.label.clone(),
                })))
            }
            Framing::Text(text) => {
                Decoding::Text(Box::new(TextStream::new(text.clone(), config.spec.clone())))
            }
        }
    }

    fn feed(&mut self, bytes: &[u8], now_s: f64, out: &mut Vec<StreamEvent>) {
        match self {
            Decoding::Heracles(link) => link.feed(bytes, now_s, out),
            Decoding::Text(text) => text.feed(bytes, now_s, out),
        }
    }

    fn link_lost(&mut self) {
        match self {
            Decoding::Heracles(link) => link.link_lost(),
            Decoding::Text(text) => text.link_lost(),
        }
    }

    /// Frames (or lines) accepted so far: the liveness signal.
    fn num_accepted(&self) -> u64 {
        match self {
            Decoding::Heracles(link) => link.decoder_stats().num_frames_ok,
            Decoding::Text(text) => text.stats().num_lines_ok,
        }
    }

    fn status(&self, num_reconnects: u64) -> SourceStatus {
        match self {
            Decoding::Heracles(link) => {
                let decoder = link.decoder_stats();
                let receiver = link.receiver_stats();
                SourceStatus {
                    num_frames_ok: decoder.num_frames_ok,
                    num_crc_failures: decoder.num_crc_failures,
                    num_bytes_skipped: decoder.num_bytes_skipped,
                    num_resyncs: decoder.num_resyncs,
                    num_reconnects,
                    num_rejected: decoder.num_malformed
                        + receiver.num_frames_mismatched
                        + receiver.num_frames_without_descriptor
                        + receiver.num_frames_other_source,
                }
            }
            Decoding::Text(text) => SourceStatus {
                num_frames_ok: text.stats().num_lines_ok,
                num_reconnects,
                num_rejected: text.stats().num_bad_lines,
                ..SourceStatus::default()
            },
        }
    }
}

/// A console on a serial port.
#[derive(Debug)]
pub struct SerialSource {
    config: SerialConfig,
}

impl SerialSource {
    /// A source reading `config.path`; nothing is opened until the engine runs it.
    pub fn new(config: SerialConfig) -> SerialSource {
        SerialSource { config }
    }
}

/// Why a connection ended.
enum Ended {
    Lost(String),
    Stopped,
}

impl From<Stopped> for Ended {
    fn from(_: Stopped) -> Ended {
        Ended::Stopped
    }
}

/// The wait before the next attempt to reopen a port after one of `backoff` failed: doubled, at most
/// [`MAX_BACKOFF`] (a re-plugged cable is found within that, a missing port is not polled hard).
fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

/// The running state of one serial source thread.
struct Session {
    config: SerialConfig,
    sink: SourceSink,
    decoding: Decoding,
    clock: Instant,
    num_reconnects: u64,
    /// A segment is running (the engine was told `Connected` and not yet `Disconnected`).
    delivering: bool,
    /// Samples have flowed at some point (so a later `Connected` is a reconnection).
    ever_delivered: bool,
    last_status: SourceStatus,
    /// The last reason the operator was told the port gives nothing.
    last_reason: Option<String>,
    events: Vec<StreamEvent>,
}

impl Session {
    fn run(&mut self) -> Result<(), Stopped> {
        let mut backoff = MIN_BACKOFF;
        loop {
            let opened = serialport::new(&self.config.path, self.config.baud)
                .timeout(READ_TIMEOUT)
                .open();
            let reason = match opened {
                Ok(port) => {
                    backoff = MIN_BACKOFF;
                    match self.read_until_lost(port) {
                        Ended::Stopped => return Err(Stopped),
                        Ended::Lost(reason) => reason,
                    }
                }
                Err(error) => format!("cannot open {}: {error}", self.config.path),
            };
            self.decoding.link_lost();
            // The operator sees why the port gives nothing, also when it never opened; the log keeps only the
            // loss of a running segment (a port that cannot be opened is retried every few seconds).
            if self.delivering {
                log::warn!("{}: {reason}", self.config.spec.id);
            }
            if self.delivering || self.last_reason.as_deref() != Some(reason.as_str()) {
                self.delivering = false;
                self.last_reason = Some(reason.clone());
                self.sink.send(SourceEvent::Disconnected { reason })?;
            }
            self.send_status()?;
            self.sleep(backoff)?;
            backoff = next_backoff(backoff);
        }
    }

    fn read_until_lost(&mut self, mut port: Box<dyn serialport::SerialPort>) -> Ended {
        let mut buf = vec![0u8; 4096];
        let mut last_alive = Instant::now();
        let mut num_accepted = self.decoding.num_accepted();
        let mut last_status = Instant::now();
        loop {
            if self.sink.should_stop() {
                return Ended::Stopped;
            }
            // Never wait past the link timeout, so a silent link is declared lost at 1 s, not 1 s + a read.
            let wait = READ_TIMEOUT
                .min(LINK_TIMEOUT.saturating_sub(last_alive.elapsed()))
                .max(Duration::from_millis(1));
            if port.timeout() != wait
                && let Err(error) = port.set_timeout(wait)
            {
                return Ended::Lost(format!("cannot set the read timeout: {error}"));
            }
            match port.read(&mut buf) {
                Ok(0) => return Ended::Lost("the port closed (end of file)".to_owned()),
                Ok(n) => {
                    let now_s = self.clock.elapsed().as_secs_f64();
                    self.decoding.feed(&buf[..n], now_s, &mut self.events);
                    if let Err(stopped) = self.forward_events() {
                        return stopped.into();
                    }
                }
                Err(error)
                    if error.kind() == ErrorKind::TimedOut || error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Ended::Lost(format!("read error: {error}")),
            }
            let accepted = self.decoding.num_accepted();
            if accepted > num_accepted {
                num_accepted = accepted;
                last_alive = Instant::now();
            } else if last_alive.elapsed() >= LINK_TIMEOUT {
                return Ended::Lost(format!("no valid data for {} s", LINK_TIMEOUT.as_secs_f64()));
            }
            if last_status.elapsed() >= STATUS_INTERVAL {
                last_status = Instant::now();
                if let Err(stopped) = self.send_status() {
                    return stopped.into();
                }
            }
        }
    }

    fn forward_events(&mut self) -> Result<(), Stopped> {
        for event in self.events.drain(..) {
            let event = match event {
                StreamEvent::Connected { spec, first_sample } => {
                    if !self.delivering && self.ever_delivered {
                        self.num_reconnects += 1;
                    }
                    self.delivering = true;
                    self.last_reason = None;
                    self.ever_delivered = true;
                    SourceEvent::Connected { spec, first_sample }
                }
                StreamEvent::Block(block) => SourceEvent::Block(block),
                StreamEvent::Gap(gap) => SourceEvent::Gap(gap),
            };
            self.sink.send(event)?;
        }
        // Counters change with every batch; the chip must show a reconnection at once, the rest can wait.
        if self.last_status.num_reconnects != self.num_reconnects {
            self.send_status()?;
        }
        Ok(())
    }

    fn send_status(&mut self) -> Result<(), Stopped> {
        let status = self.decoding.status(self.num_reconnects);
        if status != self.last_status {
            self.last_status = status.clone();
            self.sink.send(SourceEvent::Status(status))?;
        }
        Ok(())
    }

    /// Waits `duration`, returning early if the engine asks the source to stop.
    fn sleep(&self, duration: Duration) -> Result<(), Stopped> {
        let deadline = Instant::now() + duration;
        while Instant::now() < deadline {
            if self.sink.should_stop() {
                return Err(Stopped);
            }
            std::thread::sleep(Duration::from_millis(10).min(deadline - Instant::now()));
        }
        Ok(())
    }
}

impl Source for SerialSource {
    fn spec(&self) -> SourceSpec {
        self.config.spec.clone()
    }

    fn run(self: Box<Self>, sink: SourceSink) {
        let decoding = Decoding::new(&self.config);
        let mut session = Session {
            config: self.config,
            sink,
            decoding,
            clock: Instant::now(),
            num_reconnects: 0,
            delivering: false,
            ever_delivered: false,
            last_status: SourceStatus::default(),
            last_reason: None,
            events: Vec::new(),
        };
        // `Err(Stopped)` is the normal way out: the engine asked us to stop.
        let _ = session.run();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_backs_off_100_ms_doubling_to_2_s() {
        let mut waits = vec![MIN_BACKOFF];
        for _ in 0..6 {
            waits.push(next_backoff(waits[waits.len() - 1]));
        }
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);
    }
}
