//! The review screen on a 2-hour case (six channels at 1 kHz, chunked as a real-time recording is: 250 samples
//! per chunk, 172 800 chunks), measured two ways:
//!
//! - `open_to_first_overview`: what the review worker does before the first picture, plus that picture's
//!   columns: open the case file read-only, read every channel's chunk summaries into its pyramid-backed track
//!   ([`open_tracks`]), and compute the overview strip's and the traces' min/max columns over the whole case.
//!   Target: under 1 s.
//! - `frame_pan_10s` and `frame_zoom_out`: one whole frame of the review screen (`review_ui`: overview, six
//!   channels, the selected window's beats, windows, marks, the side panel with the per-beat table) run inside
//!   `egui::Context::run_ui` and tessellated, with the view moved each frame: panning a 10-s view by 0.5 s (tiles
//!   loaded, as after the loader caught up), or zooming between 10 min and 2 h (chunk level). Single-threaded,
//!   so the wall time is the frame's CPU time. Target: under 8 ms.
//!
//! Run: `cargo bench --bench review`. The 2-hour case is built once (about a minute) and kept in the system's
//! temporary folder between runs.

// A benchmark's set-up failing is a bug in the benchmark: panicking is the right report.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Pos2, RawInput, Rect, vec2};
use heracles::review::session::{ReviewSession, snapshot_of};
use heracles::review::tracks::{TILE_SAMPLES, Track, load_tile};
use heracles::review::worker::open_tracks;
use heracles::store::{CaseFile, RecorderOptions};
use heracles::ui::review::{ReviewData, ReviewUi, review_ui};
use heracles::ui::theme;

#[allow(dead_code)] // the test helper also serves the integration tests
#[path = "../tests/it/review_case.rs"]
mod review_case;

const DURATION_S: f64 = 7200.0;
const WIDTH: f32 = 1366.0;
const HEIGHT: f32 = 768.0;

/// The 2-hour synthetic case (steps, five analysed windows, a marker), built once and kept.
fn two_hour_case() -> PathBuf {
    let dir = std::env::temp_dir().join("heracles-bench-review-2h-v1");
    let path = dir.join("HER-TST-7201.heracles");
    let complete = CaseFile::open_read_only(&path)
        .and_then(|file| file.results())
        .is_ok_and(|results| !results.is_empty());
    if !complete {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let started = std::time::Instant::now();
        let options = RecorderOptions {
            max_chunk_samples: 250,
            queue_len: 4096,
            ..RecorderOptions::default()
        };
        let path = review_case::create_lasting(&dir, 7201, DURATION_S, options);
        // Opening a session analyses the windows and stores their results, as the first review does.
        drop(ReviewSession::open(&path, "bench").unwrap());
        println!(
            "built the 2-hour case in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    path
}

fn input(events: Vec<egui::Event>) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(WIDTH, HEIGHT))),
        events,
        ..RawInput::default()
    }
}

fn open_to_first_overview(c: &mut Criterion) {
    let path = two_hour_case();
    let mut group = c.benchmark_group("review_2h");
    group.sample_size(10);
    group.bench_function("open_to_first_overview", |b| {
        b.iter(|| {
            let mut tracks = open_tracks(&path).unwrap();
            for track in &mut tracks {
                black_box(track.columns(0.0, DURATION_S, WIDTH as usize));
            }
            tracks.len()
        });
    });
    group.finish();
}

fn frames(c: &mut Criterion) {
    let path = two_hour_case();
    let file = CaseFile::open_read_only(&path).unwrap();
    let snapshot = snapshot_of(&file, None).unwrap();
    let mut tracks = open_tracks(&path).unwrap();
    // The tiles of the first 10 minutes, as the loader would have delivered them while the reviewer panned there.
    for track in &mut tracks {
        for tile in 0..=(600_000 / TILE_SAMPLES) {
            track.insert_tile(load_tile(&file, &track.channel, tile).unwrap());
        }
    }
    let ctx = egui::Context::default();
    theme::apply(&ctx);
    let mut state = ReviewUi::default();
    let data = ReviewData {
        snapshot: Some(&snapshot),
        waveforms: None,
        busy: false,
        loading: false,
        message: None,
        reviewer: "bench",
        exporting: false,
        export_outcome: None,
    };
    let frame = |state: &mut ReviewUi, tracks: &mut [Track]| {
        let output = ctx.run_ui(input(Vec::new()), |ui| {
            black_box(review_ui(ui, state, tracks, data));
        });
        black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
    };
    // The first frame fits the view to the first window and selects it (its beats are drawn and listed).
    frame(&mut state, &mut tracks);
    let mut group = c.benchmark_group("review_2h");
    let mut from_s = 100.0;
    group.bench_function("frame_pan_10s", |b| {
        b.iter(|| {
            from_s = if from_s > 500.0 { 100.0 } else { from_s + 0.5 };
            state.set_view(from_s, from_s + 10.0, DURATION_S);
            frame(&mut state, &mut tracks)
        });
    });
    let mut zoomed_out = false;
    group.bench_function("frame_zoom_out", |b| {
        b.iter(|| {
            zoomed_out = !zoomed_out;
            let span = if zoomed_out { DURATION_S } else { 600.0 };
            state.set_view(0.0, span, DURATION_S);
            frame(&mut state, &mut tracks)
        });
    });
    group.finish();
}

criterion_group!(benches, open_to_first_overview, frames);
criterion_main!(benches);
