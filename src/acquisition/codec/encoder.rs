//! The sending side: turns sample blocks into frames (what the simulator streams, and what a bridge's firmware
//! does). Keeps the frame sequence number and the wire sample counter, and quantises physical values into the
//! descriptor's sample format.

use crate::model::Block;

use super::frame::{
    DATA_HEADER_LEN, DataFrame, Descriptor, EncodeError, Frame, Heartbeat, MAX_PAYLOAD_LEN, SampleFormat,
    Samples, encode,
};

/// One data frame as put on the wire, with what it carries (so a fault injector can log exactly what it dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedFrame {
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The frame's sequence number.
    pub sequence: u16,
    /// The sender's 64-bit index of the frame's first sample (the wire carries its low 32 bits).
    pub first_sample: u64,
    /// Samples per channel.
    pub num_samples: usize,
}

/// Encodes one source's stream.
#[derive(Clone, Debug)]
pub struct StreamEncoder {
    descriptor: Descriptor,
    samples_per_frame: usize,
    sequence: u16,
    next_sample: u64,
}

impl StreamEncoder {
    /// An encoder for `descriptor`, putting at most `samples_per_frame` samples in a frame (fewer if a frame
    /// would exceed the maximum payload). The first frame carries sample `first_sample` and sequence `sequence`.
    pub fn new(
        descriptor: Descriptor,
        samples_per_frame: usize,
        first_sample: u64,
        sequence: u16,
    ) -> Result<StreamEncoder, EncodeError> {
        // Validate the descriptor once, here, rather than on every repetition.
        encode(&Frame::Descriptor(descriptor.clone()), &mut Vec::new())?;
        let bytes_per_sample = descriptor.channels.len() * descriptor.sample_format.size();
        let max_samples = ((MAX_PAYLOAD_LEN - DATA_HEADER_LEN) / bytes_per_sample).min(usize::from(u16::MAX));
        Ok(StreamEncoder {
            samples_per_frame: samples_per_frame.clamp(1, max_samples),
            descriptor,
            sequence,
            next_sample: first_sample,
        })
    }

    /// The descriptor this encoder announces.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The sender's index of the next sample to be encoded.
    pub fn next_sample(&self) -> u64 {
        self.next_sample
    }

    /// Appends the descriptor frame to `out`.
    pub fn descriptor_frame(&self, out: &mut Vec<u8>) {
        // Cannot fail: validated in `new`.
        let _ = encode(&Frame::Descriptor(self.descriptor.clone()), out);
    }

    /// Appends a heartbeat frame to `out`.
    pub fn heartbeat_frame(&self, out: &mut Vec<u8>) {
        let heartbeat = Heartbeat {
            source_id: self.descriptor.source_id,
            boot_id: self.descriptor.boot_id,
            next_sample: self.next_sample as u32,
        };
        // Cannot fail: a heartbeat has a fixed, small payload.
        let _ = encode(&Frame::Heartbeat(heartbeat), out);
    }

    /// Splits `block` into data frames. The block must continue where the previous one ended (its
    /// `first_sample` is not consulted: the encoder numbers samples itself) and have one vector per channel.
    pub fn data_frames(&mut self, block: &Block) -> Result<Vec<EncodedFrame>, EncodeError> {
        let num_channels = self.descriptor.channels.len();
        if block.channels.len() != num_channels {
            return Err(EncodeError::Invalid(format!(
                "block has {} channels, the descriptor {num_channels}",
                block.channels.len()
            )));
        }
        let num_samples = block.num_samples();
        let mut frames = Vec::with_capacity(num_samples.div_ceil(self.samples_per_frame));
        let mut start = 0;
        while start < num_samples {
            let end = (start + self.samples_per_frame).min(num_samples);
            let samples = self.quantise(block, start, end);
            let data = DataFrame {
                source_id: self.descriptor.source_id,
                sequence: self.sequence,
                // The wire counter is the low 32 bits; it wraps by design.
                first_sample: self.next_sample as u32,
                num_channels: num_channels as u8,
                samples,
            };
            let mut bytes = Vec::new();
            encode(&Frame::Data(data), &mut bytes)?;
            frames.push(EncodedFrame {
                bytes,
                sequence: self.sequence,
                first_sample: self.next_sample,
                num_samples: end - start,
            });
            self.sequence = self.sequence.wrapping_add(1);
            self.next_sample += (end - start) as u64;
            start = end;
        }
        Ok(frames)
    }

    /// Interleaves samples `start..end` of every channel, coded as the descriptor says. Non-finite values and
    /// values outside the integer range become the "no sample" code or the nearest representable value.
    fn quantise(&self, block: &Block, start: usize, end: usize) -> Samples {
        let channels = &self.descriptor.channels;
        let values = (start..end).flat_map(|i| {
            channels
                .iter()
                .zip(&block.channels)
                .map(move |(channel, samples)| {
                    (f64::from(samples[i]) - f64::from(channel.offset)) / f64::from(channel.scale)
                })
        });
        match self.descriptor.sample_format {
            SampleFormat::I16 => Samples::I16(
                values
                    .map(|raw| {
                        if raw.is_nan() {
                            i16::MIN
                        } else {
                            raw.round().clamp(-32767.0, 32767.0) as i16
                        }
                    })
                    .collect(),
            ),
            SampleFormat::I32 => Samples::I32(
                values
                    .map(|raw| {
                        if raw.is_nan() {
                            i32::MIN
                        } else {
                            raw.round().clamp(-2_147_483_647.0, 2_147_483_647.0) as i32
                        }
                    })
                    .collect(),
            ),
            SampleFormat::F32 => Samples::F32(values.map(|raw| raw as f32).collect()),
        }
    }
}
