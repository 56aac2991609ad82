//! The sans-IO frame decoder: bytes in (any chunking), frames out, "need more bytes" as the normal answer, every
//! byte accounted for, and never more than [`CAPACITY`] bytes held whatever arrives.
//!
//! Resynchronisation (`docs/stream-protocol.md`, "Resynchronisation"): a frame is accepted only when the sync word,
//! a plausible header and the CRC all check. Otherwise the decoder drops exactly one byte and searches again from
//! the next `A5`, so a good frame hidden inside a damaged one's claimed length is never lost.

use thiserror::Error;

use super::crc::crc32c;
use super::frame::{
    CRC_LEN, DATA_HEADER_LEN, Frame, HEADER_LEN, KIND_DATA, MAX_FRAME_LEN, MalformedFrame, SYNC,
    data_header_consistent, parse_header, parse_payload,
};

/// Most bytes the decoder ever holds: two whole frames.
pub const CAPACITY: usize = 2 * MAX_FRAME_LEN;

/// A candidate frame that was rejected after it had been read whole.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The checksum did not match: the frame was damaged on the way.
    #[error(
        "CRC mismatch on a frame from source {source_id} (expected {expected:#010x}, found {found:#010x})"
    )]
    Crc {
        /// Source id as read from the (possibly damaged) header.
        source_id: u16,
        /// CRC computed over the received bytes.
        expected: u32,
        /// CRC carried by the frame.
        found: u32,
    },
    /// The checksum matched but the contents break the protocol's rules (a sender bug).
    #[error(transparent)]
    Malformed(#[from] MalformedFrame),
}

/// Counters over everything the decoder has been given. Invariant:
/// `num_bytes_in == num_bytes_accepted + num_bytes_skipped + buffered()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Bytes taken by [`Decoder::push`].
    pub num_bytes_in: u64,
    /// Frames accepted.
    pub num_frames_ok: u64,
    /// Bytes of accepted frames.
    pub num_bytes_accepted: u64,
    /// Candidate frames whose CRC failed.
    pub num_crc_failures: u64,
    /// Frames with a good CRC but malformed contents (their bytes count as skipped).
    pub num_malformed: u64,
    /// Bytes dropped while searching for a frame (noise, damaged frames, malformed frames).
    pub num_bytes_skipped: u64,
    /// Times a frame was found again after bytes had to be skipped.
    pub num_resyncs: u64,
}

/// The frame decoder. Feed it with [`Decoder::push`], drain it with [`Decoder::next`].
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    /// Bytes have been skipped since the last accepted frame.
    lost_sync: bool,
    stats: DecoderStats,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Decoder {
        Decoder {
            buf: Vec::with_capacity(CAPACITY),
            ..Decoder::default()
        }
    }

    /// Takes as many of `bytes` as fit (at most [`CAPACITY`] buffered) and returns how many it took. Drain
    /// [`Decoder::next`] until `None` before pushing the rest; [`Decoder::decode`] does both.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let num_taken = bytes.len().min(CAPACITY - self.buf.len());
        self.buf.extend_from_slice(&bytes[..num_taken]);
        self.stats.num_bytes_in += num_taken as u64;
        num_taken
    }

    /// Pushes all of `bytes`, calling `on_frame` for every frame or rejected candidate found.
    pub fn decode(&mut self, mut bytes: &[u8], mut on_frame: impl FnMut(Result<Frame, DecodeError>)) {
        loop {
            let num_taken = self.push(bytes);
            bytes = &bytes[num_taken..];
            while let Some(result) = self.next() {
                on_frame(result);
            }
            if bytes.is_empty() {
                return;
            }
        }
    }

    /// The next frame, a rejected candidate, or `None` when more bytes are needed.
    #[allow(clippy::should_implement_trait)] // reason: not an Iterator: `None` means "not yet", not "never".
    pub fn next(&mut self) -> Option<Result<Frame, DecodeError>> {
        loop {
            let available = &self.buf[self.start..];
            if available.len() < SYNC.len() {
                if available.first().is_some_and(|&b| b != SYNC[0]) {
                    self.skip(1);
                }
                return None;
            }
            if available[..2] != SYNC {
                // Jump to the next possible start of a sync word.
                let next = available[1..]
                    .iter()
                    .position(|&b| b == SYNC[0])
                    .map_or(available.len(), |p| p + 1);
                self.skip(next);
                continue;
            }
            if available.len() < HEADER_LEN {
                return None;
            }
            let Some(header) = parse_header(available) else {
                self.skip(1);
                continue;
            };
            if header.kind == KIND_DATA {
                if available.len() < HEADER_LEN + DATA_HEADER_LEN {
                    return None;
                }
                if !data_header_consistent(
                    header.payload_len,
                    &available[HEADER_LEN..HEADER_LEN + DATA_HEADER_LEN],
                ) {
                    self.skip(1);
                    continue;
                }
            }
            let frame_len = HEADER_LEN + header.payload_len + CRC_LEN;
            if available.len() < frame_len {
                return None;
            }
            let body_end = HEADER_LEN + header.payload_len;
            let expected = crc32c(&available[..body_end]);
            let crc = &available[body_end..frame_len];
            let found = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
            if expected != found {
                self.stats.num_crc_failures += 1;
                self.skip(1);
                return Some(Err(DecodeError::Crc {
                    source_id: header.source_id,
                    expected,
                    found,
                }));
            }
            let result = parse_payload(header, &available[HEADER_LEN..body_end]);
            return Some(match result {
                Ok(frame) => {
                    self.start += frame_len;
                    self.stats.num_frames_ok += 1;
                    self.stats.num_bytes_accepted += frame_len as u64;
                    if self.lost_sync {
                        self.stats.num_resyncs += 1;
                        self.lost_sync = false;
                    }
                    Ok(frame)
                }
                Err(malformed) => {
                    self.stats.num_malformed += 1;
                    self.skip(frame_len);
                    Err(malformed.into())
                }
            });
        }
    }

    fn skip(&mut self, num_bytes: usize) {
        self.start += num_bytes;
        self.stats.num_bytes_skipped += num_bytes as u64;
        self.lost_sync = true;
    }

    /// Bytes held that are not yet part of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Counters so far.
    pub fn stats(&self) -> &DecoderStats {
        &self.stats
    }

    /// Forgets any partial frame (after the link was lost, its remainder will never come); the held bytes count
    /// as skipped.
    pub fn reset(&mut self) {
        let num_held = self.buffered();
        if num_held > 0 {
            self.skip(num_held);
        }
        self.buf.clear();
        self.start = 0;
    }
}
