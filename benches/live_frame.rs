//! One frame of the live screen, headless: the real `live_frame_ui` (top bar, 6 traces x 10 s at 1 kHz in five
//! strips, the PV loop of the last beats, the numbers, the demo panel) run inside `egui::Context::run_ui` on a
//! prepared `LiveState` (30 s of the simulated patient and its online analysis), then tessellated into meshes as
//! the GPU would receive them. Target: under 4 ms of CPU per frame.
//!
//! For comparison, `traces_egui_plot` draws the same decimated columns of the five strips with egui_plot instead
//! of the painter (the choice the live view made).
//!
//! Run: `cargo bench --bench live_frame`.

// A benchmark's set-up failing is a bug in the benchmark: panicking is the right report.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Pos2, RawInput, Rect, vec2};
use heracles::acquisition::engine::RecordingState;
use heracles::acquisition::online::{self, SourceWindow};
use heracles::acquisition::{LiveSource, LiveState};
use heracles::analysis::AnalysisSettings;
use heracles::app::live_frame_ui;
use heracles::model::SignalKind;
use heracles::sim::scenario::setup;
use heracles::sim::{SensorLevel, Simulator};
use heracles::ui::demo::DemoPanel;
use heracles::ui::live::LiveView;
use heracles::ui::theme;
use heracles::ui::top_bar::TopBarInfo;

const HISTORY_S: f64 = 30.0;
const SCENARIO: &str = "shock-ecmo";

/// 30 s of the simulated patient (realistic sensors) in the ring buffers, with the online analysis of its newest
/// window: what the live screen holds after half a minute.
fn prepared_state() -> LiveState {
    let mut simulator = Simulator::new(SCENARIO, 1, SensorLevel::Realistic).unwrap();
    let spec = simulator.source_spec();
    let num_samples = (HISTORY_S * spec.sample_rate_hz) as usize;
    let block = simulator.generate(num_samples);
    // A fresh simulator's first block starts at sample 0, as `holding` expects.
    let source = LiveSource::holding(spec, &block.channels);
    let windows: Vec<SourceWindow> = SourceWindow::newest(&source, online::WINDOW_S)
        .into_iter()
        .collect();
    let analysis = online::analyse(&windows, &AnalysisSettings::default());
    LiveState {
        sources: vec![source],
        recording: RecordingState::default(),
        analysis,
    }
}

fn input(width: f32, height: f32) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(width, height))),
        ..RawInput::default()
    }
}

fn live_frame(c: &mut Criterion) {
    let state = prepared_state();
    let view = LiveView::default();
    let info = TopBarInfo::default();
    let mut demo = DemoPanel::new(SCENARIO, &setup(SCENARIO).unwrap());
    for (name, width, height) in [
        ("live_frame_1366x768", 1366.0, 768.0),
        ("live_frame_1920x1080", 1920.0, 1080.0),
    ] {
        let ctx = egui::Context::default();
        theme::apply(&ctx);
        c.bench_function(name, |b| {
            b.iter(|| {
                let mut actions = Vec::new();
                let output = ctx.run_ui(input(width, height), |ui| {
                    live_frame_ui(ui, &info, &view, &state, &[], Some(&mut demo), &mut actions);
                });
                black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
            });
        });
    }
}

/// The five strips drawn with egui_plot from the same min/max columns the painter version uses.
fn traces_egui_plot(c: &mut Criterion) {
    let state = prepared_state();
    let source = &state.sources[0];
    let ctx = egui::Context::default();
    theme::apply(&ctx);
    let num_columns = 800;
    let samples_per_column = 10.0 * source.spec.sample_rate_hz / num_columns as f64;
    let end_column = (source.end_sample() as f64 / samples_per_column).ceil() as u64;
    let strips: [&[SignalKind]; 5] = [
        &[SignalKind::Ecg],
        &[SignalKind::Pa, SignalKind::Pd],
        &[SignalKind::Ipv],
        &[SignalKind::Lvp],
        &[SignalKind::Lvv],
    ];
    c.bench_function("traces_egui_plot_1366x768", |b| {
        b.iter(|| {
            let output = ctx.run_ui(input(1366.0, 768.0), |ui| {
                for (position, kinds) in strips.iter().enumerate() {
                    egui_plot::Plot::new(("strip", position))
                        .height(130.0)
                        .width(800.0)
                        .show(ui, |plot_ui| {
                            for &kind in *kinds {
                                let channel = source.spec.channel_index(kind).unwrap_or(0);
                                let columns = source.channels[channel].min_max_grid(
                                    end_column - num_columns as u64,
                                    samples_per_column,
                                    num_columns,
                                );
                                let points: Vec<[f64; 2]> = columns
                                    .iter()
                                    .enumerate()
                                    .filter_map(|(x, column)| column.map(|(lo, hi)| (x, lo, hi)))
                                    .flat_map(|(x, lo, hi)| [[x as f64, lo as f64], [x as f64, hi as f64]])
                                    .collect();
                                plot_ui.line(egui_plot::Line::new(kind.name(), points));
                            }
                        });
                }
            });
            black_box(ctx.tessellate(output.shapes, output.pixels_per_point))
        });
    });
}

criterion_group!(benches, live_frame, traces_egui_plot);
criterion_main!(benches);
