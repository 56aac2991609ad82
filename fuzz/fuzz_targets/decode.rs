//! Fuzzes the heracles stream decoder and receiver: any bytes, in any chunking, must be decoded without a panic,
//! with every byte accounted for and memory bounded.
#![no_main]

use heracles::acquisition::codec::{CAPACITY, ReceiverConfig, StreamLink};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the chunk size, so the fuzzer explores chunk boundaries too.
    let Some((&chunk, bytes)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut link = StreamLink::new(ReceiverConfig { source_id: None, spec_id: "fuzz".into(), label: String::new() });
    let mut events = Vec::new();
    for (k, piece) in bytes.chunks(chunk).enumerate() {
        link.feed(piece, k as f64 * 0.01, &mut events);
        if k % 7 == 6 {
            link.link_lost();
        }
        events.clear();
    }
    let stats = link.decoder_stats();
    assert!(stats.num_bytes_in == bytes.len() as u64);
    assert!(stats.num_bytes_accepted + stats.num_bytes_skipped <= stats.num_bytes_in);
    assert!(stats.num_bytes_in - stats.num_bytes_accepted - stats.num_bytes_skipped <= CAPACITY as u64);
});
