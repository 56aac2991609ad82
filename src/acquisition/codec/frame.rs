//! The frames of the heracles stream protocol (`docs/stream-protocol.md`): their in-memory form, their exact
//! byte layout, and the encoder used by the simulator and by tests.
//!
//! Every frame is `header (8) | payload (0..=MAX_PAYLOAD_LEN) | CRC-32C (4)`, little-endian throughout:
//!
//! ```text
//! 0  sync        A5 5A
//! 2  version     u8 = 1
//! 3  kind        u8: 1 descriptor, 2 data, 3 heartbeat
//! 4  source id   u16
//! 6  payload len u16
//! 8  payload
//! .. CRC-32C     u32 over every byte from the sync word to the end of the payload
//! ```

use thiserror::Error;

use super::crc::crc32c;

/// The two bytes every frame starts with.
pub const SYNC: [u8; 2] = [0xA5, 0x5A];
/// The protocol version this code speaks.
pub const VERSION: u8 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 8;
/// Bytes of the trailing checksum.
pub const CRC_LEN: usize = 4;
/// Largest payload a frame may carry.
pub const MAX_PAYLOAD_LEN: usize = 4096;
/// Largest frame on the wire.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_PAYLOAD_LEN + CRC_LEN;
/// Most channels one source may have.
pub const MAX_CHANNELS: usize = 32;
/// Longest source label, in UTF-8 bytes.
pub const MAX_LABEL_LEN: usize = 64;
/// Longest channel name, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Longest unit, in UTF-8 bytes.
pub const MAX_UNIT_LEN: usize = 16;
/// Highest sample rate a descriptor may announce.
pub const MAX_SAMPLE_RATE_HZ: f64 = 100_000.0;
/// Bytes of the fixed part of a data payload (before the samples).
pub const DATA_HEADER_LEN: usize = 10;
/// Bytes of a heartbeat payload.
pub const HEARTBEAT_LEN: usize = 8;
/// Bytes of the fixed part of a descriptor payload (before the label).
pub const DESCRIPTOR_FIXED_LEN: usize = 14;

/// Frame kinds (byte 3 of the header).
pub(crate) const KIND_DESCRIPTOR: u8 = 1;
pub(crate) const KIND_DATA: u8 = 2;
pub(crate) const KIND_HEARTBEAT: u8 = 3;

/// How samples are coded in data frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// Signed 16-bit integer; `i16::MIN` means "no sample".
    I16,
    /// Signed 32-bit integer; `i32::MIN` means "no sample".
    I32,
    /// IEEE-754 single precision; NaN means "no sample".
    F32,
}

impl SampleFormat {
    /// The code on the wire.
    pub fn code(self) -> u8 {
        match self {
            SampleFormat::I16 => 1,
            SampleFormat::I32 => 2,
            SampleFormat::F32 => 3,
        }
    }

    /// The format whose wire code is `code`.
    pub fn from_code(code: u8) -> Option<SampleFormat> {
        match code {
            1 => Some(SampleFormat::I16),
            2 => Some(SampleFormat::I32),
            3 => Some(SampleFormat::F32),
            _ => None,
        }
    }

    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleFormat::I16 => 2,
            SampleFormat::I32 | SampleFormat::F32 => 4,
        }
    }
}

/// One channel as a descriptor announces it: `physical = raw * scale + offset`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelDescriptor {
    /// Channel id, e.g. `pa`.
    pub name: String,
    /// Physical unit after scaling, e.g. `mmHg`.
    pub unit: String,
    /// Physical units per raw count (1 for `f32` samples already in physical units).
    pub scale: f32,
    /// Physical value of raw zero.
    pub offset: f32,
}

/// What a source delivers; sent at start, at least once a second, and whenever it changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Descriptor {
    /// The source this describes.
    pub source_id: u16,
    /// Chosen afresh each time the sender starts; a new value tells the receiver the sample counter restarted.
    pub boot_id: u32,
    /// Samples per second per channel.
    pub sample_rate_hz: f64,
    /// How data frames code samples.
    pub sample_format: SampleFormat,
    /// Human-readable name of the source.
    pub label: String,
    /// The channels, in the order their samples are interleaved in data frames.
    pub channels: Vec<ChannelDescriptor>,
}

/// Raw samples of a data frame, interleaved sample-major: `[s0c0, s0c1, .., s1c0, ..]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// 16-bit integers.
    I16(Vec<i16>),
    /// 32-bit integers.
    I32(Vec<i32>),
    /// Floats.
    F32(Vec<f32>),
}

impl Samples {
    /// The format of these samples.
    pub fn format(&self) -> SampleFormat {
        match self {
            Samples::I16(_) => SampleFormat::I16,
            Samples::I32(_) => SampleFormat::I32,
            Samples::F32(_) => SampleFormat::F32,
        }
    }

    /// Number of values (samples x channels).
    pub fn len(&self) -> usize {
        match self {
            Samples::I16(values) => values.len(),
            Samples::I32(values) => values.len(),
            Samples::F32(values) => values.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends channel `channel` of samples `skip..` (values interleaved over `num_channels`) to `out`, in
    /// physical units. One pass per channel, the format matched once: the decoder's hot loop.
    pub fn extend_channel(
        &self,
        channel: usize,
        num_channels: usize,
        skip: usize,
        (scale, offset): (f32, f32),
        out: &mut Vec<f32>,
    ) {
        let (scale, offset) = (f64::from(scale), f64::from(offset));
        let start = skip * num_channels + channel;
        let step = num_channels.max(1);
        let convert = |raw: f64| (raw * scale + offset) as f32;
        match self {
            Samples::I16(values) => out.extend(values.iter().skip(start).step_by(step).map(|&v| {
                if v == i16::MIN {
                    f32::NAN
                } else {
                    convert(f64::from(v))
                }
            })),
            Samples::I32(values) => out.extend(values.iter().skip(start).step_by(step).map(|&v| {
                if v == i32::MIN {
                    f32::NAN
                } else {
                    convert(f64::from(v))
                }
            })),
            Samples::F32(values) => out.extend(
                values
                    .iter()
                    .skip(start)
                    .step_by(step)
                    .map(|&v| convert(f64::from(v))),
            ),
        }
    }
}

/// Consecutive samples of every channel of one source.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFrame {
    /// The source.
    pub source_id: u16,
    /// Frame counter, +1 per data frame, wrapping at 65536.
    pub sequence: u16,
    /// The source's sample counter at the first sample of this frame, wrapping at 2^32.
    pub first_sample: u32,
    /// Channels per sample.
    pub num_channels: u8,
    /// The samples, `num_samples * num_channels` values.
    pub samples: Samples,
}

impl DataFrame {
    /// Samples per channel.
    pub fn num_samples(&self) -> usize {
        self.samples.len() / usize::from(self.num_channels.max(1))
    }
}

/// "Still here": sent when no other frame has gone out for 250 ms.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    /// The source.
    pub source_id: u16,
    /// As in the descriptor.
    pub boot_id: u32,
    /// The `first_sample` the next data frame will carry.
    pub next_sample: u32,
}

/// One decoded frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// What the source delivers.
    Descriptor(Descriptor),
    /// Samples.
    Data(DataFrame),
    /// Liveness.
    Heartbeat(Heartbeat),
}

impl Frame {
    /// The source the frame belongs to.
    pub fn source_id(&self) -> u16 {
        match self {
            Frame::Descriptor(frame) => frame.source_id,
            Frame::Data(frame) => frame.source_id,
            Frame::Heartbeat(frame) => frame.source_id,
        }
    }
}

/// A frame that cannot be put on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The payload would exceed [`MAX_PAYLOAD_LEN`].
    #[error("payload of {0} bytes exceeds the maximum of {MAX_PAYLOAD_LEN}")]
    TooLarge(usize),
    /// A field is out of its documented range.
    #[error("{0}")]
    Invalid(String),
}

/// A frame whose checksum was right but whose contents break the protocol's rules.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("malformed {kind} frame: {reason}")]
pub struct MalformedFrame {
    /// Which kind of frame.
    pub kind: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Appends the wire bytes of `frame` to `out`.
pub fn encode(frame: &Frame, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let mut payload = Vec::new();
    let kind = match frame {
        Frame::Descriptor(descriptor) => {
            encode_descriptor(descriptor, &mut payload)?;
            KIND_DESCRIPTOR
        }
        Frame::Data(data) => {
            encode_data(data, &mut payload)?;
            KIND_DATA
        }
        Frame::Heartbeat(heartbeat) => {
            payload.extend_from_slice(&heartbeat.boot_id.to_le_bytes());
            payload.extend_from_slice(&heartbeat.next_sample.to_le_bytes());
            KIND_HEARTBEAT
        }
    };
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(EncodeError::TooLarge(payload.len()));
    }
    let start = out.len();
    out.extend_from_slice(&SYNC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(&frame.source_id().to_le_bytes());
    // Cannot truncate: checked against MAX_PAYLOAD_LEN (4096) above.
    out.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    out.extend_from_slice(&payload);
    let crc = crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn push_text(text: &str, max_len: usize, what: &str, payload: &mut Vec<u8>) -> Result<(), EncodeError> {
    if text.len() > max_len {
        return Err(EncodeError::Invalid(format!(
            "{what} `{text}` is longer than {max_len} bytes"
        )));
    }
    payload.push(text.len() as u8);
    payload.extend_from_slice(text.as_bytes());
    Ok(())
}

fn encode_descriptor(descriptor: &Descriptor, payload: &mut Vec<u8>) -> Result<(), EncodeError> {
    if let Some(reason) = descriptor_problem(descriptor) {
        return Err(EncodeError::Invalid(reason));
    }
    payload.extend_from_slice(&descriptor.boot_id.to_le_bytes());
    payload.extend_from_slice(&descriptor.sample_rate_hz.to_le_bytes());
    payload.push(descriptor.sample_format.code());
    payload.push(descriptor.channels.len() as u8);
    push_text(&descriptor.label, MAX_LABEL_LEN, "label", payload)?;
    for channel in &descriptor.channels {
        push_text(&channel.name, MAX_NAME_LEN, "channel name", payload)?;
        push_text(&channel.unit, MAX_UNIT_LEN, "unit", payload)?;
        payload.extend_from_slice(&channel.scale.to_le_bytes());
        payload.extend_from_slice(&channel.offset.to_le_bytes());
    }
    Ok(())
}

/// Why a descriptor breaks the rules, if it does (shared by encoder and decoder).
fn descriptor_problem(descriptor: &Descriptor) -> Option<String> {
    let rate = descriptor.sample_rate_hz;
    if !(rate.is_finite() && rate > 0.0 && rate <= MAX_SAMPLE_RATE_HZ) {
        return Some(format!(
            "sample rate {rate} Hz is outside (0, {MAX_SAMPLE_RATE_HZ}]"
        ));
    }
    if descriptor.channels.is_empty() || descriptor.channels.len() > MAX_CHANNELS {
        return Some(format!(
            "{} channels (allowed 1..={MAX_CHANNELS})",
            descriptor.channels.len()
        ));
    }
    if descriptor.label.len() > MAX_LABEL_LEN {
        return Some(format!("label longer than {MAX_LABEL_LEN} bytes"));
    }
    for channel in &descriptor.channels {
        if channel.name.is_empty() || channel.name.len() > MAX_NAME_LEN {
            return Some(format!(
                "channel name `{}` must have 1..={MAX_NAME_LEN} bytes",
                channel.name
            ));
        }
        if channel.unit.len() > MAX_UNIT_LEN {
            return Some(format!(
                "unit `{}` longer than {MAX_UNIT_LEN} bytes",
                channel.unit
            ));
        }
        if !(channel.scale.is_finite() && channel.scale != 0.0 && channel.offset.is_finite()) {
            return Some(format!(
                "channel `{}` has a non-finite or zero scale, or a non-finite offset",
                channel.name
            ));
        }
    }
    None
}

fn encode_data(data: &DataFrame, payload: &mut Vec<u8>) -> Result<(), EncodeError> {
    let num_channels = usize::from(data.num_channels);
    if num_channels == 0 || num_channels > MAX_CHANNELS {
        return Err(EncodeError::Invalid(format!(
            "{num_channels} channels (allowed 1..={MAX_CHANNELS})"
        )));
    }
    if data.samples.is_empty() || !data.samples.len().is_multiple_of(num_channels) {
        return Err(EncodeError::Invalid(format!(
            "{} values do not make whole samples of {num_channels} channels",
            data.samples.len()
        )));
    }
    let len = DATA_HEADER_LEN + data.samples.len() * data.samples.format().size();
    if len > MAX_PAYLOAD_LEN {
        return Err(EncodeError::TooLarge(len));
    }
    payload.reserve(len);
    payload.extend_from_slice(&data.sequence.to_le_bytes());
    payload.extend_from_slice(&data.first_sample.to_le_bytes());
    payload.push(data.num_channels);
    payload.push(data.samples.format().code());
    // Cannot truncate: at most (4096 - 10) / 2 values.
    payload.extend_from_slice(&((data.samples.len() / num_channels) as u16).to_le_bytes());
    match &data.samples {
        Samples::I16(values) => values
            .iter()
            .for_each(|v| payload.extend_from_slice(&v.to_le_bytes())),
        Samples::I32(values) => values
            .iter()
            .for_each(|v| payload.extend_from_slice(&v.to_le_bytes())),
        Samples::F32(values) => values
            .iter()
            .for_each(|v| payload.extend_from_slice(&v.to_le_bytes())),
    }
    Ok(())
}

/// The fixed header fields, as read from the first [`HEADER_LEN`] bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub kind: u8,
    pub source_id: u16,
    pub payload_len: usize,
}

/// Reads a header if `bytes` starts with a plausible one (sync, version, known kind, a length allowed for the
/// kind). `bytes` must hold at least [`HEADER_LEN`] bytes.
pub(crate) fn parse_header(bytes: &[u8]) -> Option<Header> {
    if bytes[0..2] != SYNC || bytes[2] != VERSION {
        return None;
    }
    let kind = bytes[3];
    let source_id = u16::from_le_bytes([bytes[4], bytes[5]]);
    let payload_len = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    let plausible = match kind {
        KIND_DESCRIPTOR => (DESCRIPTOR_FIXED_LEN + 1..=MAX_PAYLOAD_LEN).contains(&payload_len),
        KIND_DATA => (DATA_HEADER_LEN + 2..=MAX_PAYLOAD_LEN).contains(&payload_len),
        KIND_HEARTBEAT => payload_len == HEARTBEAT_LEN,
        _ => false,
    };
    plausible.then_some(Header {
        kind,
        source_id,
        payload_len,
    })
}

/// Whether the fixed part of a data payload is consistent with its length (checked as soon as the first
/// [`DATA_HEADER_LEN`] payload bytes are in, so a damaged length is caught without waiting for the body).
pub(crate) fn data_header_consistent(payload_len: usize, data_header: &[u8]) -> bool {
    let num_channels = usize::from(data_header[6]);
    let Some(format) = SampleFormat::from_code(data_header[7]) else {
        return false;
    };
    let num_samples = usize::from(u16::from_le_bytes([data_header[8], data_header[9]]));
    (1..=MAX_CHANNELS).contains(&num_channels)
        && num_samples > 0
        && payload_len == DATA_HEADER_LEN + num_samples * num_channels * format.size()
}

/// Builds the frame from a checksum-verified payload.
pub(crate) fn parse_payload(header: Header, payload: &[u8]) -> Result<Frame, MalformedFrame> {
    match header.kind {
        KIND_DATA => Ok(Frame::Data(parse_data(header.source_id, payload))),
        KIND_HEARTBEAT => Ok(Frame::Heartbeat(Heartbeat {
            source_id: header.source_id,
            boot_id: read_u32(payload, 0),
            next_sample: read_u32(payload, 4),
        })),
        _ => parse_descriptor(header.source_id, payload).map(Frame::Descriptor),
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// `payload` has passed [`data_header_consistent`], so every index below is in range.
fn parse_data(source_id: u16, payload: &[u8]) -> DataFrame {
    let sequence = u16::from_le_bytes([payload[0], payload[1]]);
    let first_sample = read_u32(payload, 2);
    let num_channels = payload[6];
    let body = &payload[DATA_HEADER_LEN..];
    let samples = match SampleFormat::from_code(payload[7]) {
        Some(SampleFormat::I16) => Samples::I16(
            body.chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ),
        Some(SampleFormat::I32) => Samples::I32(
            body.chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        Some(SampleFormat::F32) | None => Samples::F32(
            body.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
    };
    DataFrame {
        source_id,
        sequence,
        first_sample,
        num_channels,
        samples,
    }
}

/// A cursor over a descriptor payload that reports running off the end as a malformed frame.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], MalformedFrame> {
        let end = self.at + len;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| malformed_descriptor("payload ends early"))?;
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, MalformedFrame> {
        Ok(self.take(1)?[0])
    }

    fn f32(&mut self) -> Result<f32, MalformedFrame> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn text(&mut self, what: &str) -> Result<String, MalformedFrame> {
        let len = usize::from(self.u8()?);
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| malformed_descriptor(&format!("{what} is not UTF-8")))
    }
}

fn malformed_descriptor(reason: &str) -> MalformedFrame {
    MalformedFrame {
        kind: "descriptor",
        reason: reason.to_owned(),
    }
}

fn parse_descriptor(source_id: u16, payload: &[u8]) -> Result<Descriptor, MalformedFrame> {
    let mut reader = Reader {
        bytes: payload,
        at: 0,
    };
    let fixed = reader.take(DESCRIPTOR_FIXED_LEN)?;
    let boot_id = read_u32(fixed, 0);
    let mut rate = [0u8; 8];
    rate.copy_from_slice(&fixed[4..12]);
    let sample_rate_hz = f64::from_le_bytes(rate);
    let sample_format = SampleFormat::from_code(fixed[12])
        .ok_or_else(|| malformed_descriptor(&format!("unknown sample format {}", fixed[12])))?;
    let num_channels = usize::from(fixed[13]);
    let label = reader.text("label")?;
    let mut channels = Vec::with_capacity(num_channels.min(MAX_CHANNELS));
    for _ in 0..num_channels {
        let name = reader.text("channel name")?;
        let unit = reader.text("unit")?;
        let scale = reader.f32()?;
        let offset = reader.f32()?;
        channels.push(ChannelDescriptor {
            name,
            unit,
            scale,
            offset,
        });
    }
    if reader.at != payload.len() {
        return Err(malformed_descriptor(&format!(
            "{} bytes left over",
            payload.len() - reader.at
        )));
    }
    let descriptor = Descriptor {
        source_id,
        boot_id,
        sample_rate_hz,
        sample_format,
        label,
        channels,
    };
    match descriptor_problem(&descriptor) {
        Some(reason) => Err(malformed_descriptor(&reason)),
        None => Ok(descriptor),
    }
}
