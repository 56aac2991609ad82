//! The report as `heracles analyze --json` writes it (and a batch's `RECORD.json`): compact JSON, the bytes
//! `serde_json::to_writer` gives, followed by a newline. A 2-hour record has about 9,000 beats and their arrays
//! are nearly all of the document, so with several workers each array is serialised in contiguous chunks at once
//! and the chunks written in order (the array held serialised meanwhile: 1-20 MB); with one worker (`--jobs 1`, a
//! batch's records) each element is written as it is serialised. The same bytes for any number of threads.

use std::io::Write;

use serde::Serialize;

use crate::analysis::pipeline::Report;
use crate::model::workers::{Workers, chunk_ranges};

/// Fewest beats in a chunk of their own (a beat serialises in about a microsecond; a thread costs 20-130 us).
const MIN_BEATS_PER_CHUNK: usize = 1024;

/// Writes `report` onto `out` as one line of JSON, its per-beat arrays serialised on `workers`.
pub fn write_report(report: &Report, workers: Workers, out: &mut impl Write) -> std::io::Result<()> {
    // Every field by name, in the order of the struct's declaration (serde's order): a new field is a compile
    // error here until it is written.
    let Report {
        beats,
        per_beat,
        summary,
        settings,
        settings_hash,
        algorithm_version,
        endpoints,
    } = report;
    out.write_all(b"{\"beats\":")?;
    write_array(beats, workers, MIN_BEATS_PER_CHUNK, out)?;
    out.write_all(b",\"per_beat\":")?;
    write_array(per_beat, workers, MIN_BEATS_PER_CHUNK, out)?;
    write_field(out, "summary", summary)?;
    write_field(out, "settings", settings)?;
    write_field(out, "settings_hash", settings_hash)?;
    write_field(out, "algorithm_version", algorithm_version)?;
    write_field(out, "endpoints", endpoints)?;
    out.write_all(b"}\n")
}

/// `,"name":value`.
fn write_field(out: &mut impl Write, name: &str, value: &impl Serialize) -> std::io::Result<()> {
    out.write_all(b",")?;
    serde_json::to_writer(&mut *out, name)?;
    out.write_all(b":")?;
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)
}

/// `items` as a JSON array, chunks of at least `min_chunk` items serialised at once on `workers`.
fn write_array<T: Serialize + Sync>(
    items: &[T],
    workers: Workers,
    min_chunk: usize,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if chunk_ranges(items.len(), workers.count().get(), min_chunk).len() <= 1 {
        // One chunk: straight onto `out`, no copy of the array.
        out.write_all(b"[")?;
        for (k, item) in items.iter().enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, item)?;
        }
        return out.write_all(b"]");
    }
    let chunks = workers.map_chunks(items.len(), min_chunk, |range| {
        vec![serialise_elements(&items[range])]
    });
    out.write_all(b"[")?;
    for (k, chunk) in chunks.into_iter().enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        out.write_all(&chunk?)?;
    }
    out.write_all(b"]")
}

/// The elements of `items` separated by commas (no brackets).
fn serialise_elements<T: Serialize>(items: &[T]) -> serde_json::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(items.len() * 256);
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            bytes.push(b',');
        }
        serde_json::to_writer(&mut bytes, item)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::model::workers::InOrder;

    #[test]
    fn an_array_in_chunks_is_serde_jsons_array_for_every_count_and_length() {
        let items: Vec<(String, Option<f64>)> = (0..50)
            .map(|k| (format!("beat \"{k}\""), (k % 3 != 0).then_some(k as f64 / 7.0)))
            .collect();
        for len in [0, 1, 2, 7, 50] {
            let expected = serde_json::to_vec(&items[..len]).unwrap();
            for count in 1..5 {
                let workers = Workers::new(NonZeroUsize::new(count).unwrap(), &InOrder);
                let mut written = Vec::new();
                write_array(&items[..len], workers, 2, &mut written).unwrap();
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(expected.clone()).unwrap(),
                    "{len} items on {count} workers"
                );
            }
        }
    }
}
