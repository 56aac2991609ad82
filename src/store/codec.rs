//! Lossless encoding of one channel's run of `f32` samples for a sample chunk.
//!
//! Physiological signals sampled at 1 kHz change little from one sample to the next, so predicting each sample
//! from the previous one (or two) and storing the residual as a variable-length integer saves space at almost no
//! cost. The prediction works on the float's bits mapped to an integer that is monotonic in the float's value
//! (so that nearby values have nearby integers) with wrapping arithmetic, which makes the round trip exact for
//! every bit pattern, NaN payloads included. The encoder picks whichever of raw, first- or second-order
//! prediction is smallest, so a noisy channel never costs more than raw plus one byte.

/// Why an encoded chunk could not be decoded (the file is damaged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The first byte names no known encoding.
    #[error("unknown sample encoding {0}")]
    UnknownEncoding(u8),
    /// The data ends before all samples were read, or has bytes left over.
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

fn varint_len(value: u32) -> usize {
    match value {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        0x20_0000..0x1000_0000 => 4,
        _ => 5,
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The residual of sample `i` under a predictor of order 1 or 2 (wrapping, on ordered integers).
fn residuals(ordered: &[u32], order: u8) -> impl Iterator<Item = u32> + '_ {
    (0..ordered.len()).map(move |i| {
        let x = ordered[i];
        let prev = if i >= 1 { ordered[i - 1] } else { 0 };
        let prediction = if order == 2 && i >= 2 {
            prev.wrapping_mul(2).wrapping_sub(ordered[i - 2])
        } else {
            prev
        };
        zigzag(x.wrapping_sub(prediction))
    })
}

/// Encodes `samples` losslessly; the first byte names the encoding chosen.
pub fn encode(samples: &[f32]) -> Vec<u8> {
    let ordered: Vec<u32> = samples
        .iter()
        .map(|value| ordered_from_bits(value.to_bits()))
        .collect();
    let size = |order| residuals(&ordered, order).map(varint_len).sum::<usize>();
    let (size1, size2) = (size(1), size(2));
    let raw_size = 4 * samples.len();
    if raw_size <= size1.min(size2) {
        let mut out = Vec::with_capacity(1 + raw_size);
        out.push(RAW);
        out.extend(samples.iter().flat_map(|value| value.to_le_bytes()));
        return out;
    }
    let (tag, order, len) = if size2 < size1 {
        (DELTA2, 2, size2)
    } else {
        (DELTA1, 1, size1)
    };
    let mut out = Vec::with_capacity(1 + len);
    out.push(tag);
    for residual in residuals(&ordered, order) {
        push_varint(&mut out, residual);
    }
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
            let (mut prev, mut prev2) = (0u32, 0u32);
            let mut bytes = body.iter();
            for i in 0..num_samples {
                let mut value = 0u32;
                let mut shift = 0;
                loop {
                    let &byte = bytes.next().ok_or_else(length_error)?;
                    if shift > 28 {
                        return Err(length_error());
                    }
                    value |= u32::from(byte & 0x7F) << shift;
                    if byte & 0x80 == 0 {
                        break;
                    }
                    shift += 7;
                }
                let prediction = if tag == DELTA2 && i >= 2 {
                    prev.wrapping_mul(2).wrapping_sub(prev2)
                } else {
                    prev
                };
                let x = prediction.wrapping_add(unzigzag(value));
                out.push(f32::from_bits(bits_from_ordered(x)));
                prev2 = prev;
                prev = x;
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
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), n in 0usize..40) {
            let mut out = Vec::new();
            let _ = decode(&bytes, n, &mut out);
        }
    }
}
