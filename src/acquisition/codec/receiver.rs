//! From frames to what the engine records: segments (`Connected`), sample blocks with monotonic 64-bit indices,
//! and gaps with exact sample counts. Sans-IO: the caller passes the host clock in.
//!
//! Rules (`docs/stream-protocol.md`, "Receiver rules"):
//! - nothing is delivered before a descriptor; data frames that arrive first are held (bounded) and delivered
//!   once it comes, so a late descriptor loses nothing;
//! - a repeated identical descriptor changes nothing; a changed one starts a new segment;
//! - the sample counter on the wire (u32, wrapping) is unwrapped to a u64 index; a jump forward is a gap of
//!   exactly that many samples; frames entirely behind (within [`DUPLICATE_WINDOW_S`]) are duplicates and
//!   dropped, partly behind are trimmed;
//! - a new boot id (or a jump back beyond the duplicate window) means the sender restarted its counter: the
//!   receiver keeps its own index monotonic, and the missing stretch is estimated from the host clock and
//!   labelled as such.

use std::collections::VecDeque;

use crate::model::{Block, ChannelSpec, Gap, GapReason, SourceSpec};

use super::decoder::{DecodeError, Decoder, DecoderStats};
use super::frame::{DataFrame, Descriptor, Frame, Heartbeat};

/// A frame that starts this far (or less) behind the expected sample is a duplicate; farther means a restart.
pub const DUPLICATE_WINDOW_S: f64 = 1.0;

/// Most data frames held while waiting for the first descriptor (about 2 MiB at most).
pub const MAX_PENDING_FRAMES: usize = 512;

/// What the receiver reports, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A segment starts at `first_sample` with these channels (at start, after a reconnection, a restart of the
    /// sender or a change of its descriptor).
    Connected {
        /// Channels and rate.
        spec: SourceSpec,
        /// Index of the first sample of the segment.
        first_sample: u64,
    },
    /// Samples, in physical units.
    Block(Block),
    /// Samples that will never arrive.
    Gap(Gap),
}

/// Which source to follow and how to name it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiverConfig {
    /// Follow only this source id; `None` follows the first source id seen.
    pub source_id: Option<u16>,
    /// The stable id of the source in the case (e.g. `coronary`).
    pub spec_id: String,
    /// Label for the source chip; empty takes the descriptor's label.
    pub label: String,
}

/// Counters beyond the decoder's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Frames of other source ids, ignored.
    pub num_frames_other_source: u64,
    /// Data frames dropped because no descriptor came while [`MAX_PENDING_FRAMES`] were waiting.
    pub num_frames_without_descriptor: u64,
    /// Data frames whose channel count or sample format disagree with the descriptor, dropped.
    pub num_frames_mismatched: u64,
    /// Samples received twice, dropped.
    pub num_duplicate_samples: u64,
    /// Times the sender restarted its counter (new boot id, new sample rate, or a jump back).
    pub num_restarts: u64,
    /// Times the descriptor changed without a restart.
    pub num_descriptor_changes: u64,
}

/// Why the next data frame starts a new segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Break {
    /// The transport lost the link; the sender's counter went on, so the gap is exact.
    LinkLost,
    /// The channels changed; the counter went on.
    DescriptorChanged,
    /// The counter restarted; the gap can only be estimated.
    Restart,
}

#[derive(Clone, Copy, Debug)]
struct Position {
    /// The wire counter expected on the next data frame.
    wire_next: u32,
    /// Our index of that sample.
    next: u64,
    last_sequence: u16,
    /// Host time when the last data frame arrived.
    last_data_s: f64,
}

/// Turns frames of one source into [`StreamEvent`]s.
#[derive(Debug)]
pub struct StreamReceiver {
    config: ReceiverConfig,
    followed: Option<u16>,
    descriptor: Option<Descriptor>,
    spec: Option<SourceSpec>,
    pending: VecDeque<DataFrame>,
    position: Option<Position>,
    pending_break: Option<Break>,
    corrupt_since_data: bool,
    stats: ReceiverStats,
}

impl StreamReceiver {
    /// A receiver that has seen nothing yet.
    pub fn new(config: ReceiverConfig) -> StreamReceiver {
        StreamReceiver {
            followed: config.source_id,
            config,
            descriptor: None,
            spec: None,
            pending: VecDeque::new(),
            position: None,
            pending_break: None,
            corrupt_since_data: false,
            stats: ReceiverStats::default(),
        }
    }

    /// The channels and rate as last described, once a descriptor has come.
    pub fn spec(&self) -> Option<&SourceSpec> {
        self.spec.as_ref()
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }

    /// Data frames held while waiting for a descriptor (at most [`MAX_PENDING_FRAMES`]).
    pub fn num_pending_frames(&self) -> usize {
        self.pending.len()
    }

    /// A damaged frame was seen: a gap found next is attributed to corruption.
    pub fn note_corrupt_frame(&mut self) {
        self.corrupt_since_data = true;
    }

    /// The transport lost the link: the next data frame starts a new segment, after a gap of exactly the samples
    /// the sender's counter says were missed.
    pub fn link_lost(&mut self) {
        if self.pending_break != Some(Break::Restart) {
            self.pending_break = Some(Break::LinkLost);
        }
    }

    /// Handles one decoded frame received at host time `now_s` (any monotonic clock, in seconds).
    pub fn handle(&mut self, frame: Frame, now_s: f64, out: &mut Vec<StreamEvent>) {
        let source_id = frame.source_id();
        if *self.followed.get_or_insert(source_id) != source_id {
            self.stats.num_frames_other_source += 1;
            return;
        }
        match frame {
            Frame::Descriptor(descriptor) => self.handle_descriptor(descriptor, now_s, out),
            Frame::Heartbeat(heartbeat) => self.handle_heartbeat(&heartbeat, out),
            Frame::Data(data) => match &self.descriptor {
                None => {
                    if self.pending.len() == MAX_PENDING_FRAMES {
                        self.pending.pop_front();
                        self.stats.num_frames_without_descriptor += 1;
                    }
                    self.pending.push_back(data);
                }
                Some(_) => self.handle_data(&data, now_s, out),
            },
        }
    }

    fn handle_descriptor(&mut self, descriptor: Descriptor, now_s: f64, out: &mut Vec<StreamEvent>) {
        if let Some(old) = &self.descriptor {
            if *old == descriptor {
                return;
            }
            if old.boot_id != descriptor.boot_id || old.sample_rate_hz != descriptor.sample_rate_hz {
                if let Some(position) = &mut self.position {
                    // Keep time = index / rate continuous across a change of rate.
                    let ratio = descriptor.sample_rate_hz / old.sample_rate_hz;
                    position.next = (position.next as f64 * ratio).ceil() as u64;
                }
                self.restart();
            } else if self.pending_break.is_none() {
                self.stats.num_descriptor_changes += 1;
                self.pending_break = Some(Break::DescriptorChanged);
            }
        }
        self.spec = Some(SourceSpec {
            id: self.config.spec_id.clone(),
            label: if self.config.label.is_empty() {
                descriptor.label.clone()
            } else {
                self.config.label.clone()
            },
            sample_rate_hz: descriptor.sample_rate_hz,
            channels: descriptor
                .channels
                .iter()
                .map(|channel| ChannelSpec {
                    name: channel.name.clone(),
                    unit: channel.unit.clone(),
                })
                .collect(),
        });
        self.descriptor = Some(descriptor);
        while let Some(data) = self.pending.pop_front() {
            self.handle_data(&data, now_s, out);
        }
    }

    fn restart(&mut self) {
        if self.pending_break != Some(Break::Restart) {
            self.stats.num_restarts += 1;
            self.pending_break = Some(Break::Restart);
        }
    }

    fn handle_heartbeat(&mut self, heartbeat: &Heartbeat, out: &mut Vec<StreamEvent>) {
        let Some(descriptor) = &self.descriptor else {
            return;
        };
        if heartbeat.boot_id != descriptor.boot_id {
            self.restart();
            return;
        }
        let Some(position) = self.position else { return };
        if self.pending_break.is_some() {
            return;
        }
        // Frames lost at the end of a burst show up here, before the next data frame.
        let ahead = heartbeat.next_sample.wrapping_sub(position.wire_next) as i32;
        if ahead > 0 {
            let num_samples = ahead as u64;
            out.push(StreamEvent::Gap(Gap {
                first_sample: position.next,
                num_samples,
                reason: self.gap_reason(None),
            }));
            self.corrupt_since_data = false;
            self.position = Some(Position {
                wire_next: heartbeat.next_sample,
                next: position.next + num_samples,
                // The frames in the gap were numbered too: the next data frame's sequence is unknown.
                last_sequence: position.last_sequence,
                last_data_s: position.last_data_s,
            });
        }
    }

    fn gap_reason(&self, sequence_contiguous: Option<bool>) -> GapReason {
        if self.pending_break == Some(Break::LinkLost) {
            GapReason::Disconnected
        } else if self.corrupt_since_data {
            GapReason::CorruptFrames
        } else if sequence_contiguous == Some(true) {
            GapReason::Other("the console skipped samples (no frame was lost on the link)".to_owned())
        } else {
            GapReason::DroppedFrames
        }
    }

    fn handle_data(&mut self, data: &DataFrame, now_s: f64, out: &mut Vec<StreamEvent>) {
        let Some(descriptor) = &self.descriptor else {
            return;
        };
        if usize::from(data.num_channels) != descriptor.channels.len()
            || data.samples.format() != descriptor.sample_format
        {
            self.stats.num_frames_mismatched += 1;
            return;
        }
        let rate = descriptor.sample_rate_hz;
        let Some((index, skip)) = self.place(data, rate, now_s, out) else {
            return;
        };
        let Some(descriptor) = &self.descriptor else {
            return;
        };
        let num_samples = data.num_samples();
        let num_channels = descriptor.channels.len();
        // Consecutive frames handled in one go extend one block: fewer, larger blocks for the engine.
        let continues = matches!(out.last(), Some(StreamEvent::Block(block))
            if block.end_sample() == index && block.channels.len() == num_channels);
        if !continues {
            out.push(StreamEvent::Block(Block {
                first_sample: index,
                channels: vec![Vec::new(); num_channels],
            }));
        }
        let Some(StreamEvent::Block(block)) = out.last_mut() else {
            return;
        };
        for (c, (channel, samples)) in descriptor.channels.iter().zip(&mut block.channels).enumerate() {
            samples.reserve(num_samples - skip);
            data.samples
                .extend_channel(c, num_channels, skip, (channel.scale, channel.offset), samples);
        }
        self.position = Some(Position {
            wire_next: data.first_sample.wrapping_add(num_samples as u32),
            next: index + (num_samples - skip) as u64,
            last_sequence: data.sequence,
            last_data_s: now_s,
        });
        self.pending_break = None;
        self.corrupt_since_data = false;
    }

    /// Where a data frame's samples go: our index of its first delivered sample and how many leading samples to
    /// drop as already seen; `None` for a whole duplicate. Emits the gap and new segment the frame reveals.
    fn place(
        &mut self,
        data: &DataFrame,
        rate: f64,
        now_s: f64,
        out: &mut Vec<StreamEvent>,
    ) -> Option<(u64, usize)> {
        let spec = self.spec.clone()?;
        let num_samples = data.num_samples();
        let Some(position) = self.position else {
            let index = u64::from(data.first_sample);
            out.push(StreamEvent::Connected {
                spec,
                first_sample: index,
            });
            return Some((index, 0));
        };
        let delta = i64::from(data.first_sample.wrapping_sub(position.wire_next) as i32);
        if self.pending_break != Some(Break::Restart) && delta < 0 {
            let behind = -delta;
            if behind < num_samples as i64 {
                // Partly seen already: keep only the new tail.
                self.stats.num_duplicate_samples += behind as u64;
                if self.pending_break.is_some() {
                    out.push(StreamEvent::Connected {
                        spec,
                        first_sample: position.next,
                    });
                }
                return Some((position.next, behind as usize));
            }
            let window = ((DUPLICATE_WINDOW_S * rate).ceil() as i64).max(num_samples as i64);
            if behind <= window {
                self.stats.num_duplicate_samples += num_samples as u64;
                return None;
            }
            self.restart();
        }
        if self.pending_break == Some(Break::Restart) {
            // The frame's last sample arrived now; the previous frame's last one at `last_data_s`.
            let elapsed = ((now_s - position.last_data_s).max(0.0) * rate).round() as u64;
            let num_missing = elapsed.saturating_sub(num_samples as u64);
            if num_missing > 0 {
                out.push(StreamEvent::Gap(Gap {
                    first_sample: position.next,
                    num_samples: num_missing,
                    reason: GapReason::Other(
                        "the console restarted its sample counter; length estimated from the host clock"
                            .to_owned(),
                    ),
                }));
            }
            let index = position.next + num_missing;
            out.push(StreamEvent::Connected {
                spec,
                first_sample: index,
            });
            return Some((index, 0));
        }
        let gap = delta as u64;
        if gap > 0 {
            let contiguous = data.sequence == position.last_sequence.wrapping_add(1);
            out.push(StreamEvent::Gap(Gap {
                first_sample: position.next,
                num_samples: gap,
                reason: self.gap_reason(Some(contiguous)),
            }));
        }
        let index = position.next + gap;
        if self.pending_break.is_some() {
            out.push(StreamEvent::Connected {
                spec,
                first_sample: index,
            });
        }
        Some((index, 0))
    }
}

/// A decoder and a receiver together: bytes in, [`StreamEvent`]s out. What the serial source, the tests and the
/// benchmark drive.
#[derive(Debug)]
pub struct StreamLink {
    decoder: Decoder,
    receiver: StreamReceiver,
    /// The decoder's skipped-byte count when the last frame was handled.
    num_skipped_seen: u64,
}

impl StreamLink {
    /// A link that has seen nothing yet.
    pub fn new(config: ReceiverConfig) -> StreamLink {
        StreamLink {
            decoder: Decoder::new(),
            receiver: StreamReceiver::new(config),
            num_skipped_seen: 0,
        }
    }

    /// Decodes `bytes` received at host time `now_s` and appends the resulting events to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], now_s: f64, out: &mut Vec<StreamEvent>) {
        loop {
            let num_taken = self.decoder.push(bytes);
            bytes = &bytes[num_taken..];
            while let Some(result) = self.decoder.next() {
                // Bytes skipped on the way to this frame were damaged frames (or noise): a gap found next is
                // attributed to corruption.
                let num_skipped = self.decoder.stats().num_bytes_skipped;
                if num_skipped > self.num_skipped_seen {
                    self.num_skipped_seen = num_skipped;
                    self.receiver.note_corrupt_frame();
                }
                match result {
                    Ok(frame) => self.receiver.handle(frame, now_s, out),
                    Err(DecodeError::Crc { .. }) => {}
                    Err(DecodeError::Malformed(malformed)) => log::warn!("stream: {malformed}"),
                }
            }
            if bytes.is_empty() {
                return;
            }
        }
    }

    /// The transport lost the link: any partial frame is dropped and the next data starts a new segment.
    pub fn link_lost(&mut self) {
        self.decoder.reset();
        self.num_skipped_seen = self.decoder.stats().num_bytes_skipped;
        self.receiver.link_lost();
    }

    /// The decoder's counters.
    pub fn decoder_stats(&self) -> &DecoderStats {
        self.decoder.stats()
    }

    /// The receiver's counters.
    pub fn receiver_stats(&self) -> &ReceiverStats {
        self.receiver.stats()
    }

    /// The channels and rate as last described.
    pub fn spec(&self) -> Option<&SourceSpec> {
        self.receiver.spec()
    }

    /// The decoder's buffered bytes and the receiver's held frames: the link's whole memory of the stream.
    pub fn num_held(&self) -> (usize, usize) {
        (self.decoder.buffered(), self.receiver.num_pending_frames())
    }
}
