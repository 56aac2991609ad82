//! Taking the engine's newest output into the UI's own copy of the live state, once per frame.
//!
//! The engine's [`LiveState`] is shared behind a mutex; the UI never draws while holding it. Instead each frame
//! copies what changed since the last frame (statuses, the recording state, the analysis, and only the samples
//! that arrived since), which costs what arrived in one frame, not the size of the ring buffers, and keeps the
//! lock short whatever the sample rate. When the display is frozen the samples and numbers are left alone while
//! the source chips and the recording indicator stay live.

use crate::acquisition::{LiveSource, LiveState};

/// Brings `shown` up to date with `engine`; samples and analysis only when `take_samples` (not frozen).
pub fn drain(shown: &mut LiveState, engine: &LiveState, take_samples: bool) {
    shown.recording.clone_from(&engine.recording);
    let same_sources = shown.sources.len() == engine.sources.len()
        && shown
            .sources
            .iter()
            .zip(&engine.sources)
            .all(|(a, b)| a.spec == b.spec);
    if !same_sources {
        // A source was added or changed its channels: there is no common history to keep.
        if take_samples || shown.sources.len() != engine.sources.len() {
            shown.clone_from(engine);
            return;
        }
    }
    for (shown_source, engine_source) in shown.sources.iter_mut().zip(&engine.sources) {
        copy_status(shown_source, engine_source);
        if take_samples {
            for (ring, engine_ring) in shown_source.channels.iter_mut().zip(&engine_source.channels) {
                ring.sync_from(engine_ring);
            }
        }
    }
    if take_samples {
        shown.analysis.clone_from(&engine.analysis);
    }
}

/// Everything about a source except its samples.
fn copy_status(shown: &mut LiveSource, engine: &LiveSource) {
    shown.connected = engine.connected;
    shown.disconnect_reason.clone_from(&engine.disconnect_reason);
    shown.finished = engine.finished;
    shown.status.clone_from(&engine.status);
    shown.num_samples = engine.num_samples;
    shown.num_dropped_samples = engine.num_dropped_samples;
    shown.calibrations.clone_from(&engine.calibrations);
    shown.calibrated_from.clone_from(&engine.calibrated_from);
}
