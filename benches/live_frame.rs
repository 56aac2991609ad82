//! One frame of the live screen, headless: the real `live_frame_ui` (top bar, 6 traces x 10 s at 1 kHz in five
//! strips, the PV loop, the numbers) run inside `egui::Context::run_ui` on a prepared `LiveState`, then
//! tessellated into meshes as the GPU would receive them. Target: under 4 ms of CPU per frame.
//!
//! For comparison, `traces_egui_plot` draws the same decimated columns of the five strips with egui_plot instead
//! of the painter (the choice the live view made).
//!
//! Run: `cargo bench --bench live_frame`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Pos2, RawInput, Rect, vec2};
use heracles::acquisition::engine::RecordingState;
use heracles::acquisition::{LiveAnalysis, LiveSource, LiveState, RingBuffer, SourceStatus};
use heracles::app::live_frame_ui;
use heracles::model::{ChannelSpec, SignalKind, SourceSpec};
use heracles::ui::live::LiveView;
use heracles::ui::theme;
use heracles::ui::top_bar::TopBarInfo;

const RATE_HZ: f64 = 1000.0;
const HISTORY_S: f64 = 30.0;

/// 30 s of plausible waveforms at 1 kHz on the six displayed channels plus ECMO flow (the content does not
/// change the cost: min/max decimation reads every sample in the window and draws two points per column).
fn prepared_state() -> LiveState {
    let num_samples = (HISTORY_S * RATE_HZ) as u64;
    let kinds = SignalKind::ALL;
    let spec = SourceSpec {
        id: "sim".to_owned(),
        label: "Simulated patient".to_owned(),
        sample_rate_hz: RATE_HZ,
        channels: kinds.iter().map(|&kind| ChannelSpec::of(kind)).collect(),
    };
    let channels = kinds
        .iter()
        .map(|&kind| {
            let samples: Vec<f32> = (0..num_samples)
                .map(|i| waveform(kind, i as f64 / RATE_HZ))
                .collect();
            let mut ring = RingBuffer::new(num_samples as usize);
            ring.extend(0, &samples);
            ring
        })
        .collect();
    LiveState {
        sources: vec![LiveSource {
            spec,
            connected: true,
            disconnect_reason: None,
            finished: false,
            status: SourceStatus::default(),
            num_samples,
            num_dropped_samples: 0,
            channels,
        }],
        recording: RecordingState::default(),
        analysis: LiveAnalysis::default(),
    }
}

/// A beating signal at 90 bpm with a little high-frequency noise.
fn waveform(kind: SignalKind, t: f64) -> f32 {
    let phase = (t * 1.5).fract();
    let pulse = (std::f64::consts::PI * phase).sin().powi(3);
    let noise = ((t * 7919.0).sin() * 0.02) as f32;
    let value = match kind {
        SignalKind::Ecg => {
            if phase < 0.03 {
                1.2
            } else {
                0.05 * pulse
            }
        }
        SignalKind::Pa => 60.0 + 30.0 * pulse,
        SignalKind::Pd => 50.0 + 25.0 * pulse,
        SignalKind::Ipv => 20.0 + 15.0 * (1.0 - pulse),
        SignalKind::Lvp => 10.0 + 80.0 * pulse,
        SignalKind::Lvv => 180.0 - 40.0 * pulse,
        SignalKind::EcmoFlow => 3.5,
    };
    value as f32 + noise * value.abs().max(1.0) as f32
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
    for (name, width, height) in [
        ("live_frame_1366x768", 1366.0, 768.0),
        ("live_frame_1920x1080", 1920.0, 1080.0),
    ] {
        let ctx = egui::Context::default();
        theme::apply(&ctx);
        c.bench_function(name, |b| {
            b.iter(|| {
                let mut commands = Vec::new();
                let output = ctx.run_ui(input(width, height), |ui| {
                    live_frame_ui(ui, &info, &view, &state, &mut commands);
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
    let samples_per_column = 10.0 * RATE_HZ / num_columns as f64;
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
