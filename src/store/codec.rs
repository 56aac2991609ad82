//! Lossless encoding of one channel's run of `f32` samples for a sample chunk.
//!
//! Physiological signals sampled at 1 kHz change little from one sample to the next, so predicting each sample
//! from the previous one (or two) and storing the small residual saves space at little cost. The prediction works
//! on the float's bits mapped to an integer that is monotonic in the float's value (so nearby values have nearby
//! integers), with wrapping arithmetic, which makes the round trip exact for every bit pattern, NaN payloads
//! included. Residuals are zigzag-coded and bit-packed in groups of [`GROUP`], each group with the bit width of
//! its largest residual (one byte), so a rare large jump (an ECG crossing zero) costs only its own group. The
//! encoder picks whichever of raw, first- or second-order prediction is smallest, so a noisy channel never costs
//! more than raw plus one byte.

/// Why an encoded chunk could not be decoded (the file is damaged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The first byte names no known encoding.
    #[error("unknown sample encoding {0}")]
    UnknownEncoding(u8),
    /// The data ends before all samples were read, or has bytes left over, or a group's width is impossible.
    #[error("sample data of {num_bytes} bytes does not hold exactly {num_samples} samples")]
    Length {
        /// Bytes in the encoded data.
        num_bytes: usize,
        /// Samples expected.
        num_samples: usize,
    },
}

const RAW: u8 = 0;
const DELTA1: u8 = 1;
const DELTA2: u8 = 2;

/// Residuals per bit-packed group.
const GROUP: usize = 32;

/// Maps a float's bits to an integer that orders like the float (negative values below positive ones).
fn ordered_from_bits(bits: u32) -> u32 {
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

fn bits_from_ordered(ordered: u32) -> u32 {
    if ordered & 0x8000_0000 != 0 {
        ordered & 0x7FFF_FFFF
    } else {
        !ordered
    }
}

fn zigzag(value: u32) -> u32 {
    let signed = value as i32;
    ((signed << 1) ^ (signed >> 31)) as u32
}

fn unzigzag(value: u32) -> u32 {
    (value >> 1) ^ (value & 1).wrapping_neg()
}

/// The prediction of the next value from the two before it.
fn predict(order: u8, prev: u32, prev2: u32, index: usize) -> u32 {
    if order == 2 && index >= 2 {
        prev.wrapping_mul(2).wrapping_sub(prev2)
    } else {
        prev
    }
}

/// Zigzag residuals under a predictor of order 1 or 2 (wrapping, on ordered integers).
fn residuals(ordered: &[u32], order: u8) -> Vec<u32> {
    let (mut prev, mut prev2) = (0u32, 0u32);
    ordered
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let residual = zigzag(x.wrapping_sub(predict(order, prev, prev2, i)));
            prev2 = prev;
            prev = x;
            residual
        })
        .collect()
}

fn width(group: &[u32]) -> u32 {
    32 - group.iter().fold(0, |acc, &r| acc | r).leading_zeros()
}

/// Bytes the packed residuals take.
fn packed_len(residuals: &[u32]) -> usize {
    residuals
        .chunks(GROUP)
        .map(|group| 1 + (group.len() * width(group) as usize).div_ceil(8))
        .sum()
}

fn pack(residuals: &[u32], out: &mut Vec<u8>) {
    for group in residuals.chunks(GROUP) {
        let width = width(group);
        out.push(width as u8);
        let (mut accumulator, mut num_bits) = (0u64, 0u32);
        for &residual in group {
            accumulator |= u64::from(residual) << num_bits;
            num_bits += width;
            while num_bits >= 8 {
                out.push(accumulator as u8);
                accumulator >>= 8;
                num_bits -= 8;
            }
        }
        if num_bits > 0 {
            out.push(accumulator as u8);
        }
    }
}

/// Encodes `samples` losslessly; the first byte names the encoding chosen.
pub fn encode(samples: &[f32]) -> Vec<u8> {
    let ordered: Vec<u32> = samples
        .iter()
        .map(|value| ordered_from_bits(value.to_bits()))
        .collect();
    let (first, second) = (residuals(&ordered, 1), residuals(&ordered, 2));
    let (len1, len2) = (packed_len(&first), packed_len(&second));
    let raw_len = 4 * samples.len();
    if raw_len <= len1.min(len2) {
        let mut out = Vec::with_capacity(1 + raw_len);
        out.push(RAW);
        out.extend(samples.iter().flat_map(|value| value.to_le_bytes()));
        return out;
    }
    let (tag, residuals, len) = if len2 < len1 {
        (DELTA2, second, len2)
    } else {
        (DELTA1, first, len1)
    };
    let mut out = Vec::with_capacity(1 + len);
    out.push(tag);
    pack(&residuals, &mut out);
    out
}

/// Decodes exactly `num_samples` samples from `data`, appending them to `out`.
pub fn decode(data: &[u8], num_samples: usize, out: &mut Vec<f32>) -> Result<(), DecodeError> {
    let length_error = || DecodeError::Length {
        num_bytes: data.len(),
        num_samples,
    };
    let Some((&tag, body)) = data.split_first() else {
        return Err(length_error());
    };
    out.reserve(num_samples);
    match tag {
        RAW => {
            if body.len() != 4 * num_samples {
                return Err(length_error());
            }
            out.extend(
                body.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
        }
        DELTA1 | DELTA2 => {
            let order = tag;
            let (mut prev, mut prev2) = (0u32, 0u32);
            let mut bytes = body.iter();
            let mut index = 0;
            while index < num_samples {
                let width = u32::from(*bytes.next().ok_or_else(length_error)?);
                if width > 32 {
                    return Err(length_error());
                }
                let mask = if width == 32 {
                    u32::MAX
                } else {
                    (1u32 << width) - 1
                };
                let (mut accumulator, mut num_bits) = (0u64, 0u32);
                for _ in 0..GROUP.min(num_samples - index) {
                    while num_bits < width {
                        accumulator |= u64::from(*bytes.next().ok_or_else(length_error)?) << num_bits;
                        num_bits += 8;
                    }
                    let residual = (accumulator as u32) & mask;
                    accumulator = if width == 0 {
                        accumulator
                    } else {
                        accumulator >> width
                    };
                    num_bits -= width;
                    let x = predict(order, prev, prev2, index).wrapping_add(unzigzag(residual));
                    out.push(f32::from_bits(bits_from_ordered(x)));
                    prev2 = prev;
                    prev = x;
                    index += 1;
                }
            }
            if bytes.next().is_some() {
                return Err(length_error());
            }
        }
        other => return Err(DecodeError::UnknownEncoding(other)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(samples: &[f32]) -> Vec<u8> {
        let data = encode(samples);
        let mut out = Vec::new();
        decode(&data, samples.len(), &mut out).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(samples));
        data
    }

    #[test]
    fn ordered_mapping_is_a_monotonic_bijection() {
        let values = [
            f32::NEG_INFINITY,
            -1e30,
            -2.5,
            -1e-30,
            -0.0,
            0.0,
            1e-30,
            2.5,
            1e30,
            f32::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(
                ordered_from_bits(pair[0].to_bits()) < ordered_from_bits(pair[1].to_bits()),
                "{pair:?}"
            );
        }
        for bits in [0u32, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x7FC0_0001] {
            assert_eq!(bits_from_ordered(ordered_from_bits(bits)), bits);
        }
    }

    #[test]
    fn smooth_signal_compresses_and_noise_stays_raw() {
        let smooth: Vec<f32> = (0..1000)
            .map(|i| 80.0 + 40.0 * (i as f32 * std::f32::consts::TAU / 1000.0).sin())
            .collect();
        let data = round_trip(&smooth);
        assert!(
            data.len() < 3 * smooth.len(),
            "{} bytes for {} samples",
            data.len(),
            smooth.len()
        );
        let mut state = 12345u32;
        let noise: Vec<f32> = (0..1000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                f32::from_bits(state)
            })
            .collect();
        let data = round_trip(&noise);
        assert_eq!(data.len(), 1 + 4 * noise.len());
    }

    #[test]
    fn empty_and_special_values() {
        round_trip(&[]);
        round_trip(&[
            f32::NAN,
            -0.0,
            0.0,
            f32::INFINITY,
            f32::MIN_POSITIVE,
            -f32::MAX,
            f32::from_bits(0x7FC0_1234),
        ]);
    }

    #[test]
    fn damaged_data_is_an_error_not_a_panic() {
        let data = encode(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let mut out = Vec::new();
        assert!(decode(&data[..data.len() - 1], 5, &mut out).is_err());
        assert!(decode(&data, 6, &mut out).is_err());
        assert!(decode(&data, 4, &mut out).is_err());
        assert!(decode(&[], 0, &mut out).is_err());
        assert_eq!(decode(&[9, 0], 1, &mut out), Err(DecodeError::UnknownEncoding(9)));
        assert!(decode(&[1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], 1, &mut out).is_err());
    }

    proptest! {
        #[test]
        fn any_bits_round_trip(bits in proptest::collection::vec(any::<u32>(), 0..300)) {
            let samples: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
            round_trip(&samples);
        }

        #[test]
        fn random_walks_round_trip(steps in proptest::collection::vec(-3000i32..3000, 0..300), start in -1e4f32..1e4) {
            let mut value = start;
            let samples: Vec<f32> = steps.iter().map(|&step| { value += step as f32 * 1e-3; value }).collect();
            round_trip(&samples);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), n in 0usize..40) {
            let mut out = Vec::new();
            let _ = decode(&bytes, n, &mut out);
        }
    }
}
