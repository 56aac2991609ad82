//! Property and unit tests of the codec: round trip, chunking, drops, duplicates, bit flips, truncation, counter
//! wrap-around, late and repeated descriptors, restarts.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::model::{Block, Gap, GapReason};

fn descriptor(num_channels: usize, format: SampleFormat, boot_id: u32) -> Descriptor {
    Descriptor {
        source_id: 7,
        boot_id,
        sample_rate_hz: 1000.0,
        sample_format: format,
        label: "test bridge".to_owned(),
        channels: (0..num_channels)
            .map(|c| ChannelDescriptor {
                name: format!("ch{c}"),
                unit: "mmHg".to_owned(),
                scale: 0.25 * (c + 1) as f32,
                offset: -10.0 * c as f32,
            })
            .collect(),
    }
}

/// Raw value `i` of a frame, deterministic and covering negative numbers and the "no sample" code.
fn raw_value(seed: u64, i: usize) -> i64 {
    let x = (seed.wrapping_add(i as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    (x % 60_001) as i64 - 30_000
}

fn samples_of(format: SampleFormat, values: Vec<i64>) -> Samples {
    match format {
        SampleFormat::I16 => Samples::I16(values.into_iter().map(|v| v as i16).collect()),
        SampleFormat::I32 => Samples::I32(values.into_iter().map(|v| (v * 1000) as i32).collect()),
        SampleFormat::F32 => Samples::F32(values.into_iter().map(|v| v as f32 * 0.5).collect()),
    }
}

/// Data frames of `sizes` samples each, starting at wire counter `first` and sequence `sequence`.
fn data_frames(descriptor: &Descriptor, first: u32, sequence: u16, sizes: &[usize]) -> Vec<DataFrame> {
    let num_channels = descriptor.channels.len();
    let mut next = first;
    sizes
        .iter()
        .enumerate()
        .map(|(k, &size)| {
            let values = (0..size * num_channels)
                .map(|i| raw_value(u64::from(next), i))
                .collect();
            let frame = DataFrame {
                source_id: descriptor.source_id,
                sequence: sequence.wrapping_add(k as u16),
                first_sample: next,
                num_channels: num_channels as u8,
                samples: samples_of(descriptor.sample_format, values),
            };
            next = next.wrapping_add(size as u32);
            frame
        })
        .collect()
}

/// Value `i` in physical units, straight from the protocol document: `raw x scale + offset` in double
/// precision, NaN for the integer formats' most negative value.
fn physical(samples: &Samples, i: usize, scale: f32, offset: f32) -> f32 {
    let raw = match samples {
        Samples::I16(values) if values[i] == i16::MIN => return f32::NAN,
        Samples::I16(values) => f64::from(values[i]),
        Samples::I32(values) if values[i] == i32::MIN => return f32::NAN,
        Samples::I32(values) => f64::from(values[i]),
        Samples::F32(values) => f64::from(values[i]),
    };
    (raw * f64::from(scale) + f64::from(offset)) as f32
}

/// What a frame should decode to, per unwrapped index (`base` is the unwrapped index of wire counter `first`).
fn expected_of(
    descriptor: &Descriptor,
    frames: &[DataFrame],
    first: u32,
    base: u64,
) -> BTreeMap<u64, Vec<u32>> {
    let mut expected = BTreeMap::new();
    let num_channels = descriptor.channels.len();
    for frame in frames {
        let start = base + u64::from(frame.first_sample.wrapping_sub(first));
        for i in 0..frame.num_samples() {
            let values = descriptor
                .channels
                .iter()
                .enumerate()
                .map(|(c, ch)| physical(&frame.samples, i * num_channels + c, ch.scale, ch.offset).to_bits())
                .collect();
            expected.insert(start + i as u64, values);
        }
    }
    expected
}

fn encode_all(frames: impl IntoIterator<Item = Frame>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for frame in frames {
        encode(&frame, &mut bytes).unwrap();
    }
    bytes
}

fn config() -> ReceiverConfig {
    ReceiverConfig {
        source_id: None,
        spec_id: "bridge".to_owned(),
        label: String::new(),
    }
}

/// Feeds `bytes` cut at `cuts` (chunk lengths, cycled) and returns the events.
fn feed_chunked(bytes: &[u8], cuts: &[usize]) -> (Vec<StreamEvent>, StreamLink) {
    let mut link = StreamLink::new(config());
    let mut events = Vec::new();
    let mut at = 0;
    let mut k = 0;
    while at < bytes.len() {
        let len = cuts
            .get(k % cuts.len().max(1))
            .copied()
            .unwrap_or(bytes.len())
            .max(1);
        let end = (at + len).min(bytes.len());
        link.feed(&bytes[at..end], 0.0, &mut events);
        at = end;
        k += 1;
    }
    (events, link)
}

#[derive(Debug, Default)]
struct Collected {
    samples: BTreeMap<u64, Vec<u32>>,
    gaps: Vec<Gap>,
    segments: Vec<u64>,
}

fn collect(events: &[StreamEvent]) -> Collected {
    let mut collected = Collected::default();
    let mut next: Option<u64> = None;
    for event in events {
        match event {
            StreamEvent::Connected { first_sample, .. } => collected.segments.push(*first_sample),
            StreamEvent::Gap(gap) => {
                assert_eq!(
                    Some(gap.first_sample),
                    next,
                    "a gap starts where the samples stopped"
                );
                next = Some(gap.first_sample + gap.num_samples);
                collected.gaps.push(gap.clone());
            }
            StreamEvent::Block(block) => {
                if let Some(next) = next {
                    assert_eq!(block.first_sample, next, "blocks and gaps tile the index line");
                }
                for i in 0..block.num_samples() {
                    let values = block
                        .channels
                        .iter()
                        .map(|channel| channel[i].to_bits())
                        .collect();
                    assert!(
                        collected
                            .samples
                            .insert(block.first_sample + i as u64, values)
                            .is_none()
                    );
                }
                next = Some(block.end_sample());
            }
        }
    }
    collected
}

fn assert_accounting(link: &StreamLink, total: usize) {
    let stats = link.decoder_stats();
    assert_eq!(stats.num_bytes_in, total as u64);
    assert!(stats.num_bytes_accepted + stats.num_bytes_skipped <= stats.num_bytes_in);
    assert!(stats.num_bytes_in - stats.num_bytes_accepted - stats.num_bytes_skipped <= CAPACITY as u64);
}

fn format_strategy() -> impl Strategy<Value = SampleFormat> {
    prop_oneof![
        Just(SampleFormat::I16),
        Just(SampleFormat::I32),
        Just(SampleFormat::F32)
    ]
}

fn sizes_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=40, 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn frames_round_trip(
        num_channels in 1usize..=MAX_CHANNELS_TEST,
        format in format_strategy(),
        sizes in sizes_strategy(),
        first in any::<u32>(),
        sequence in any::<u16>(),
        boot_id in any::<u32>(),
    ) {
        let descriptor = descriptor(num_channels, format, boot_id);
        let data = data_frames(&descriptor, first, sequence, &sizes);
        let mut frames = vec![Frame::Descriptor(descriptor.clone())];
        frames.extend(data.into_iter().map(Frame::Data));
        frames.push(Frame::Heartbeat(Heartbeat { source_id: 7, boot_id, next_sample: first }));
        let bytes = encode_all(frames.clone());
        let mut decoder = Decoder::new();
        let mut decoded = Vec::new();
        decoder.decode(&bytes, |result| decoded.push(result.unwrap()));
        prop_assert_eq!(decoded, frames);
        let stats = decoder.stats();
        prop_assert_eq!(stats.num_bytes_accepted, bytes.len() as u64);
        prop_assert_eq!(stats.num_bytes_skipped, 0);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn any_chunking_gives_the_same_events(
        format in format_strategy(),
        sizes in sizes_strategy(),
        garbage in prop::collection::vec(any::<u8>(), 0..64),
        cuts in prop::collection::vec(1usize..200, 1..20),
    ) {
        let descriptor = descriptor(3, format, 1);
        let data = data_frames(&descriptor, 0, 0, &sizes);
        let mut bytes = garbage.clone();
        bytes.extend(encode_all(std::iter::once(Frame::Descriptor(descriptor.clone()))));
        for frame in data {
            bytes.extend(encode_all([Frame::Data(frame)]));
            bytes.extend_from_slice(&garbage[..garbage.len() / 3]);
        }
        let (whole, whole_link) = feed_chunked(&bytes, &[bytes.len()]);
        let (chunked, chunked_link) = feed_chunked(&bytes, &cuts);
        prop_assert_eq!(&whole, &chunked);
        prop_assert_eq!(whole_link.decoder_stats(), chunked_link.decoder_stats());
        assert_accounting(&chunked_link, bytes.len());
    }

    #[test]
    fn dropped_frames_become_exact_gaps(
        format in format_strategy(),
        sizes in sizes_strategy(),
        keep in prop::collection::vec(prop::bool::weighted(0.7), 30),
        first in any::<u32>(),
    ) {
        let descriptor = descriptor(2, format, 1);
        let data = data_frames(&descriptor, first, 0, &sizes);
        // The first frame always arrives (it anchors the index); a heartbeat at the end reveals trailing drops.
        let kept: Vec<DataFrame> = data
            .iter()
            .enumerate()
            .filter(|(k, _)| *k == 0 || keep[*k % keep.len()])
            .map(|(_, frame)| frame.clone())
            .collect();
        let end = data.last().map_or(first, |f| f.first_sample.wrapping_add(f.num_samples() as u32));
        let mut frames = vec![Frame::Descriptor(descriptor.clone())];
        frames.extend(kept.iter().cloned().map(Frame::Data));
        frames.push(Frame::Heartbeat(Heartbeat { source_id: 7, boot_id: 1, next_sample: end }));
        let (events, _) = feed_chunked(&encode_all(frames), &[97]);
        let collected = collect(&events);
        let base = u64::from(first);
        prop_assert_eq!(&collected.samples, &expected_of(&descriptor, &kept, first, base));
        let num_missing: u64 = collected.gaps.iter().map(|gap| gap.num_samples).sum();
        let num_sent: usize = sizes.iter().sum();
        prop_assert_eq!(collected.samples.len() as u64 + num_missing, num_sent as u64);
        // Each gap is exactly a run of dropped frames.
        let dropped: Vec<(u64, u64)> = data
            .iter()
            .filter(|frame| !kept.contains(frame))
            .map(|frame| (base + u64::from(frame.first_sample.wrapping_sub(first)), frame.num_samples() as u64))
            .collect();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (start, len) in dropped {
            match merged.last_mut() {
                Some((s, l)) if *s + *l == start => *l += len,
                _ => merged.push((start, len)),
            }
        }
        let gaps: Vec<(u64, u64)> = collected.gaps.iter().map(|gap| (gap.first_sample, gap.num_samples)).collect();
        prop_assert_eq!(gaps, merged);
        prop_assert!(collected.gaps.iter().all(|gap| gap.reason == GapReason::DroppedFrames));
        prop_assert_eq!(collected.segments, vec![base]);
    }

    #[test]
    fn duplicates_change_nothing(
        sizes in sizes_strategy(),
        repeat in prop::collection::vec(0usize..3, 30),
    ) {
        let descriptor = descriptor(2, SampleFormat::I16, 1);
        let data = data_frames(&descriptor, 100, 0, &sizes);
        let mut frames = vec![Frame::Descriptor(descriptor.clone())];
        for (k, frame) in data.iter().enumerate() {
            for _ in 0..=repeat[k % repeat.len()] {
                frames.push(Frame::Data(frame.clone()));
            }
            // Sometimes the descriptor is repeated too.
            if repeat[k % repeat.len()] == 2 {
                frames.push(Frame::Descriptor(descriptor.clone()));
            }
        }
        let (events, link) = feed_chunked(&encode_all(frames), &[333]);
        let collected = collect(&events);
        prop_assert_eq!(collected.samples, expected_of(&descriptor, &data, 100, 100));
        prop_assert!(collected.gaps.is_empty());
        prop_assert_eq!(collected.segments, vec![100]);
        let num_repeated: usize = data.iter().enumerate().map(|(k, f)| repeat[k % repeat.len()] * f.num_samples()).sum();
        prop_assert_eq!(link.receiver_stats().num_duplicate_samples, num_repeated as u64);
    }

    #[test]
    fn bit_flips_never_deliver_wrong_samples(
        format in format_strategy(),
        sizes in prop::collection::vec(1usize..=40, 5..30),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..20),
        cuts in prop::collection::vec(1usize..300, 1..5),
    ) {
        let descriptor = descriptor(2, format, 1);
        let data = data_frames(&descriptor, 0, 0, &sizes);
        let mut frames = Vec::new();
        for (k, frame) in data.iter().enumerate() {
            if k % 4 == 0 {
                frames.push(Frame::Descriptor(descriptor.clone()));
            }
            frames.push(Frame::Data(frame.clone()));
        }
        let mut bytes = encode_all(frames);
        for (at, bit) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        let (events, link) = feed_chunked(&bytes, &cuts);
        let collected = collect(&events);
        let expected = expected_of(&descriptor, &data, 0, 0);
        for (index, values) in &collected.samples {
            prop_assert_eq!(Some(values), expected.get(index), "sample {} delivered wrong", index);
        }
        assert_accounting(&link, bytes.len());
        let stats = link.decoder_stats();
        prop_assert!(stats.num_frames_ok as usize <= data.len() + data.len().div_ceil(4));
    }

    #[test]
    fn truncation_delivers_a_prefix(
        sizes in sizes_strategy(),
        cut in any::<prop::sample::Index>(),
    ) {
        let descriptor = descriptor(4, SampleFormat::I32, 9);
        let data = data_frames(&descriptor, 5, 0, &sizes);
        let mut frames = vec![Frame::Descriptor(descriptor.clone())];
        frames.extend(data.iter().cloned().map(Frame::Data));
        let bytes = encode_all(frames);
        let len = cut.index(bytes.len() + 1);
        let (events, link) = feed_chunked(&bytes[..len], &[64]);
        let collected = collect(&events);
        let expected = expected_of(&descriptor, &data, 5, 5);
        let prefix: BTreeMap<u64, Vec<u32>> =
            expected.into_iter().take(collected.samples.len()).collect();
        prop_assert_eq!(&collected.samples, &prefix);
        prop_assert!(collected.gaps.is_empty());
        // Whatever did not make a whole frame is still buffered, not lost or skipped.
        prop_assert_eq!(link.decoder_stats().num_bytes_skipped, 0);
    }

    #[test]
    fn counters_wrap_around(
        sizes in sizes_strategy(),
        before_wrap in 0u32..500,
        sequence in (u16::MAX - 20)..=u16::MAX,
        drop_at in 0usize..30,
    ) {
        let descriptor = descriptor(1, SampleFormat::I16, 1);
        let first = u32::MAX - before_wrap;
        let data = data_frames(&descriptor, first, sequence, &sizes);
        let kept: Vec<DataFrame> =
            data.iter().enumerate().filter(|(k, _)| *k == 0 || *k != drop_at).map(|(_, f)| f.clone()).collect();
        let mut frames = vec![Frame::Descriptor(descriptor.clone())];
        frames.extend(kept.iter().cloned().map(Frame::Data));
        let (events, link) = feed_chunked(&encode_all(frames), &[1000]);
        let collected = collect(&events);
        prop_assert_eq!(&collected.samples, &expected_of(&descriptor, &kept, first, u64::from(first)));
        prop_assert_eq!(collected.segments, vec![u64::from(first)]);
        prop_assert_eq!(link.receiver_stats().num_restarts, 0);
        let num_sent: usize = sizes.iter().sum();
        let last = collected.samples.keys().next_back().copied().unwrap_or(0);
        if drop_at + 1 < data.len() || drop_at == 0 {
            prop_assert_eq!(last + 1, u64::from(first) + num_sent as u64);
        }
    }
}

const MAX_CHANNELS_TEST: usize = 8;

#[test]
fn late_descriptor_loses_nothing() {
    let descriptor = descriptor(2, SampleFormat::I16, 3);
    let data = data_frames(&descriptor, 0, 0, &[10, 10, 10]);
    let mut frames: Vec<Frame> = data.iter().cloned().map(Frame::Data).collect();
    frames.insert(2, Frame::Descriptor(descriptor.clone()));
    let (events, _) = feed_chunked(&encode_all(frames), &[50]);
    let collected = collect(&events);
    assert_eq!(collected.samples, expected_of(&descriptor, &data, 0, 0));
    assert_eq!(collected.segments, vec![0]);
    assert!(
        matches!(&events[0], StreamEvent::Connected { spec, .. } if spec.channels.len() == 2 && spec.id == "bridge")
    );
}

#[test]
fn corrupt_frames_make_corrupt_gaps() {
    let descriptor = descriptor(1, SampleFormat::I16, 3);
    let data = data_frames(&descriptor, 0, 0, &[10, 10, 10]);
    let bytes = encode_all([
        Frame::Descriptor(descriptor.clone()),
        Frame::Data(data[0].clone()),
    ]);
    // A damaged sample fails the CRC; a damaged data header is already implausible and skipped.
    for (at, num_crc_failures) in [(20, 1), (15, 0)] {
        let mut bytes = bytes.clone();
        let mut damaged = encode_all([Frame::Data(data[1].clone())]);
        damaged[at] ^= 0x10;
        bytes.extend(damaged);
        bytes.extend(encode_all([Frame::Data(data[2].clone())]));
        let (events, link) = feed_chunked(&bytes, &[7]);
        let collected = collect(&events);
        assert_eq!(
            collected.gaps,
            vec![Gap {
                first_sample: 10,
                num_samples: 10,
                reason: GapReason::CorruptFrames
            }]
        );
        assert_eq!(link.decoder_stats().num_crc_failures, num_crc_failures);
        assert_eq!(link.decoder_stats().num_resyncs, 1);
        assert_eq!(link.decoder_stats().num_frames_ok, 3);
    }
}

#[test]
fn sender_side_skips_are_told_apart_from_lost_frames() {
    let descriptor = descriptor(1, SampleFormat::I16, 3);
    let mut data = data_frames(&descriptor, 0, 0, &[10, 10]);
    // Sequence contiguous, counter jumps by 5: the console itself skipped samples.
    data[1].first_sample = 15;
    let mut frames = vec![Frame::Descriptor(descriptor)];
    frames.extend(data.into_iter().map(Frame::Data));
    let (events, _) = feed_chunked(&encode_all(frames), &[1000]);
    let gaps = collect(&events).gaps;
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].first_sample, gaps[0].num_samples), (10, 5));
    assert!(matches!(gaps[0].reason, GapReason::Other(_)));
}

#[test]
fn a_restarted_sender_keeps_our_index_monotonic() {
    let before = descriptor(1, SampleFormat::I16, 1);
    let after = descriptor(1, SampleFormat::I16, 2);
    let old = data_frames(&before, 5000, 40, &[100, 100]);
    let new = data_frames(&after, 0, 0, &[100, 100]);
    let mut link = StreamLink::new(config());
    let mut events = Vec::new();
    link.feed(&encode_all([Frame::Descriptor(before)]), 0.0, &mut events);
    link.feed(&encode_all([Frame::Data(old[0].clone())]), 0.1, &mut events);
    link.feed(&encode_all([Frame::Data(old[1].clone())]), 0.2, &mut events);
    // Three seconds of silence, then the sender boots again with its counter at zero.
    link.feed(&encode_all([Frame::Descriptor(after)]), 3.1, &mut events);
    link.feed(&encode_all([Frame::Data(new[0].clone())]), 3.3, &mut events);
    link.feed(&encode_all([Frame::Data(new[1].clone())]), 3.4, &mut events);
    let collected = collect(&events);
    // 3.1 s at 1 kHz between the last old sample and the first new frame's end, minus that frame's 100.
    assert_eq!(collected.gaps.len(), 1);
    assert_eq!(
        (collected.gaps[0].first_sample, collected.gaps[0].num_samples),
        (5200, 3000)
    );
    assert_eq!(collected.segments, vec![5000, 8200]);
    assert_eq!(link.receiver_stats().num_restarts, 1);
    assert_eq!(collected.samples.len(), 400);
}

#[test]
fn link_loss_gives_an_exact_disconnected_gap_and_a_new_segment() {
    let descriptor = descriptor(1, SampleFormat::F32, 1);
    let data = data_frames(&descriptor, 0, 0, &[10, 10, 10, 10]);
    let mut link = StreamLink::new(config());
    let mut events = Vec::new();
    link.feed(
        &encode_all([Frame::Descriptor(descriptor), Frame::Data(data[0].clone())]),
        0.0,
        &mut events,
    );
    // Half a frame, then the cable is pulled.
    let second = encode_all([Frame::Data(data[1].clone())]);
    link.feed(&second[..20], 0.0, &mut events);
    link.link_lost();
    link.feed(&encode_all([Frame::Data(data[3].clone())]), 5.0, &mut events);
    let collected = collect(&events);
    assert_eq!(
        collected.gaps,
        vec![Gap {
            first_sample: 10,
            num_samples: 20,
            reason: GapReason::Disconnected
        }]
    );
    assert_eq!(collected.segments, vec![0, 30]);
    assert_eq!(link.decoder_stats().num_bytes_skipped, 20);
}

#[test]
fn frames_of_other_sources_are_ignored() {
    let mut ours = descriptor(1, SampleFormat::I16, 1);
    let mut theirs = descriptor(1, SampleFormat::I16, 1);
    ours.source_id = 1;
    theirs.source_id = 2;
    let mut link = StreamLink::new(ReceiverConfig {
        source_id: Some(1),
        ..config()
    });
    let mut events = Vec::new();
    let mut frames = vec![Frame::Descriptor(theirs.clone()), Frame::Descriptor(ours.clone())];
    frames.extend(data_frames(&theirs, 0, 0, &[5]).into_iter().map(Frame::Data));
    frames.extend(data_frames(&ours, 0, 0, &[5]).into_iter().map(Frame::Data));
    link.feed(&encode_all(frames), 0.0, &mut events);
    assert_eq!(collect(&events).samples.len(), 5);
    assert_eq!(link.receiver_stats().num_frames_other_source, 2);
}

#[test]
fn encoder_quantises_within_half_a_count() {
    let descriptor = descriptor(2, SampleFormat::I16, 1);
    let mut encoder = StreamEncoder::new(descriptor.clone(), 25, 0, 0).unwrap();
    let block = Block {
        first_sample: 0,
        channels: vec![
            (0..100).map(|i| (i as f32 * 0.37).sin() * 100.0).collect(),
            (0..100)
                .map(|i| if i == 50 { f32::NAN } else { i as f32 * 1.3 - 40.0 })
                .collect(),
        ],
    };
    let frames = encoder.data_frames(&block).unwrap();
    assert_eq!(frames.len(), 4);
    let mut bytes = Vec::new();
    encoder.descriptor_frame(&mut bytes);
    for frame in &frames {
        bytes.extend_from_slice(&frame.bytes);
    }
    let (events, _) = feed_chunked(&bytes, &[4096]);
    let mut decoded: Vec<Block> = events
        .into_iter()
        .filter_map(|e| {
            if let StreamEvent::Block(b) = e {
                Some(b)
            } else {
                None
            }
        })
        .collect();
    let first = decoded.remove(0);
    let mut channels = first.channels;
    for block in decoded {
        for (all, part) in channels.iter_mut().zip(block.channels) {
            all.extend(part);
        }
    }
    for (c, (sent, received)) in block.channels.iter().zip(&channels).enumerate() {
        let half_count = descriptor.channels[c].scale / 2.0 + 1e-4;
        for (a, b) in sent.iter().zip(received) {
            if a.is_nan() {
                assert!(b.is_nan());
            } else {
                assert!((a - b).abs() <= half_count, "{a} vs {b}");
            }
        }
    }
}

#[test]
fn garbage_is_bounded_and_accounted() {
    let mut decoder = Decoder::new();
    let mut noise = Vec::new();
    // Worst case: sync words everywhere, each announcing a maximal frame that never completes.
    for i in 0..100_000u32 {
        noise.extend_from_slice(&[0xA5, 0x5A, 1, 1, 0, 0, 0x00, 0x10, (i % 251) as u8]);
    }
    let mut num_results = 0;
    decoder.decode(&noise, |_| num_results += 1);
    assert!(decoder.buffered() <= CAPACITY);
    let stats = decoder.stats();
    assert_eq!(stats.num_bytes_in, noise.len() as u64);
    assert_eq!(
        stats.num_bytes_in,
        stats.num_bytes_accepted + stats.num_bytes_skipped + decoder.buffered() as u64
    );
    assert_eq!(stats.num_frames_ok, 0);
}

#[test]
fn encoder_rejects_what_the_protocol_forbids() {
    let mut bad = descriptor(1, SampleFormat::I16, 1);
    bad.sample_rate_hz = f64::NAN;
    assert!(matches!(
        encode(&Frame::Descriptor(bad), &mut Vec::new()),
        Err(EncodeError::Invalid(_))
    ));
    let mut long = descriptor(1, SampleFormat::I16, 1);
    long.channels[0].name = "x".repeat(33);
    assert!(encode(&Frame::Descriptor(long), &mut Vec::new()).is_err());
    let big = DataFrame {
        source_id: 1,
        sequence: 0,
        first_sample: 0,
        num_channels: 1,
        samples: Samples::I32(vec![0; 2000]),
    };
    assert!(matches!(
        encode(&Frame::Data(big), &mut Vec::new()),
        Err(EncodeError::TooLarge(_))
    ));
}

/// The hex blocks of section 7 of `docs/stream-protocol.md`, in order.
fn document_examples() -> Vec<Vec<u8>> {
    let text = include_str!("../../../docs/stream-protocol.md");
    let section = &text[text.find("## 7. Worked example").unwrap()..text.find("## 8.").unwrap()];
    section
        .split("```text")
        .skip(1)
        .map(|block| {
            let hex = &block[..block.find("```").unwrap()];
            hex.split_whitespace()
                .map(|byte| u8::from_str_radix(byte, 16).unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn worked_example_in_the_protocol_document_decodes() {
    let examples = document_examples();
    assert_eq!(
        examples.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![65, 34, 20]
    );
    let mut decoder = Decoder::new();
    let mut frames = Vec::new();
    decoder.decode(&examples.concat(), |result| frames.push(result.unwrap()));
    let expected_descriptor = Descriptor {
        source_id: 1,
        boot_id: 0x1234_5678,
        sample_rate_hz: 1000.0,
        sample_format: SampleFormat::I16,
        label: "bridge".to_owned(),
        channels: ["pa", "pd"]
            .map(|name| ChannelDescriptor {
                name: name.to_owned(),
                unit: "mmHg".to_owned(),
                scale: 0.01,
                offset: 0.0,
            })
            .to_vec(),
    };
    let expected_data = DataFrame {
        source_id: 1,
        sequence: 0,
        first_sample: 0,
        num_channels: 2,
        samples: Samples::I16(vec![10000, 9500, 10012, 9511, i16::MIN, 9523]),
    };
    let expected_heartbeat = Heartbeat {
        source_id: 1,
        boot_id: 0x1234_5678,
        next_sample: 3,
    };
    assert_eq!(
        frames,
        vec![
            Frame::Descriptor(expected_descriptor.clone()),
            Frame::Data(expected_data.clone()),
            Frame::Heartbeat(expected_heartbeat.clone())
        ]
    );
    // And our encoder produces the same bytes.
    let ours = encode_all([
        Frame::Descriptor(expected_descriptor),
        Frame::Data(expected_data),
        Frame::Heartbeat(expected_heartbeat),
    ]);
    assert_eq!(ours, examples.concat());
    // The physical values the document states.
    let (events, _) = feed_chunked(&examples.concat(), &[5]);
    let StreamEvent::Block(block) = &events[1] else {
        panic!("expected a block, got {:?}", events[1])
    };
    assert!((block.channels[0][0] - 100.0).abs() < 1e-4 && (block.channels[1][1] - 95.11).abs() < 1e-4);
    assert!(block.channels[0][2].is_nan());
}

/// At least a million random inputs: pure noise, and valid streams damaged by bit flips, byte drops, insertions,
/// duplications and truncation, each in random chunks. Nothing may panic; every byte is accounted for; memory
/// stays within the decoder's capacity and the receiver's pending bound. Run with `cargo test --release -- --ignored`.
#[test]
#[ignore = "stress test: about 35 s in a debug build, 3 s with --release"]
fn a_million_random_inputs_neither_panic_nor_grow() {
    use crate::sim::rng::Rng;
    let mut rng = Rng::new(2024);
    let descriptor = descriptor(3, SampleFormat::I16, 1);
    let valid = {
        let mut frames = vec![Frame::Descriptor(descriptor.clone())];
        frames.extend(
            data_frames(&descriptor, u32::MAX - 40, 0, &[7, 13, 1, 20, 5])
                .into_iter()
                .map(Frame::Data),
        );
        frames.push(Frame::Heartbeat(Heartbeat {
            source_id: 7,
            boot_id: 2,
            next_sample: 9,
        }));
        encode_all(frames)
    };
    let mut events = Vec::new();
    let num_inputs = 1_000_000;
    let mut num_frames_seen = 0;
    for n in 0..num_inputs {
        let mut input: Vec<u8> = if n % 2 == 0 {
            let len = (rng.next_u64() % 300) as usize;
            (0..len).map(|_| rng.next_u64() as u8).collect()
        } else {
            let mut bytes = valid.clone();
            for _ in 0..(rng.next_u64() % 4) {
                let at = (rng.next_u64() as usize) % bytes.len().max(1);
                match rng.next_u64() % 4 {
                    0 => bytes[at] ^= 1 << (rng.next_u64() % 8),
                    1 => drop(bytes.remove(at)),
                    2 => bytes.insert(at, rng.next_u64() as u8),
                    _ => {
                        let end = (at + 40).min(bytes.len());
                        let copy = bytes[at..end].to_vec();
                        bytes.splice(at..at, copy);
                    }
                }
            }
            bytes
        };
        if rng.next_u64().is_multiple_of(5) {
            input.truncate((rng.next_u64() as usize) % (input.len() + 1));
        }
        let mut link = StreamLink::new(config());
        let chunk = 1 + (rng.next_u64() % 64) as usize;
        for (k, piece) in input.chunks(chunk).enumerate() {
            link.feed(piece, k as f64 * 0.01, &mut events);
            let (buffered, pending) = link.num_held();
            assert!(buffered <= CAPACITY && pending <= receiver::MAX_PENDING_FRAMES);
            num_frames_seen += events.len();
            events.clear();
        }
        let stats = link.decoder_stats();
        assert_eq!(stats.num_bytes_in, input.len() as u64);
        assert_eq!(
            stats.num_bytes_in,
            stats.num_bytes_accepted + stats.num_bytes_skipped + link.num_held().0 as u64
        );
    }
    // The damaged valid streams still deliver most of their content.
    assert!(num_frames_seen > num_inputs / 2, "{num_frames_seen}");
}
