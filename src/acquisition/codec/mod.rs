//! The heracles stream protocol (`docs/stream-protocol.md`), sans-IO: bytes in any chunking become frames
//! ([`Decoder`]), frames become segments, blocks and exact gaps ([`StreamReceiver`]); [`StreamLink`] does both.
//! [`StreamEncoder`] is the sending side (the simulator, a bridge). Nothing here reads a port, a clock or a file.

pub mod crc;
pub mod decoder;
pub mod encoder;
pub mod frame;
pub mod receiver;

pub use crc::crc32c;
pub use decoder::{CAPACITY, DecodeError, Decoder, DecoderStats};
pub use encoder::{EncodedFrame, StreamEncoder};
pub use frame::{
    ChannelDescriptor, DataFrame, Descriptor, EncodeError, Frame, Heartbeat, MAX_FRAME_LEN, MAX_PAYLOAD_LEN,
    MalformedFrame, SampleFormat, Samples, encode,
};
pub use receiver::{ReceiverConfig, ReceiverStats, StreamEvent, StreamLink, StreamReceiver};

#[cfg(test)]
mod tests;
