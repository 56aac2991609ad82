//! The bedside live screen: stacked scrolling traces, the live PV loop, the large numbers and the freeze/sweep
//! controls. It draws from a [`LiveState`] (the app's per-frame copy of the engine's state) and reports what
//! the user asked for as [`Action`]s; it owns no data of its own besides what [`LiveView`] holds.

use egui::{Key, RichText};

use super::action::Action;
use crate::acquisition::LiveState;
use crate::model::SignalKind;

use super::demo::{self, DemoPanel};
use super::traces::{Strip, YRange};
use super::{numbers, pv_loop, theme, traces};

/// The sweep speeds offered, seconds of signal across the traces.
pub const SWEEP_CHOICES_S: [f64; 3] = [5.0, 10.0, 20.0];

/// What the user has chosen on the live screen.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveView {
    /// Seconds of signal shown across the traces.
    pub sweep_s: f64,
    /// Whether the traces, PV loop and numbers are frozen (the source chips and recording state stay live).
    pub frozen: bool,
    /// Vertical range of each strip, in the order of [`Strip::ALL`].
    pub ranges: [YRange; Strip::ALL.len()],
}

impl Default for LiveView {
    fn default() -> LiveView {
        LiveView {
            sweep_s: 10.0,
            frozen: false,
            ranges: Strip::ALL.map(Strip::default_range),
        }
    }
}

impl LiveView {
    /// Vertical range of `strip`.
    pub fn range(&self, strip: Strip) -> YRange {
        self.ranges[strip as usize]
    }
}

/// Where a signal is found: (source position, channel position). The first source delivering it wins.
pub fn find_channel(state: &LiveState, kind: SignalKind) -> Option<(usize, usize)> {
    state
        .sources
        .iter()
        .enumerate()
        .find_map(|(source, live)| live.spec.channel_index(kind).map(|channel| (source, channel)))
}

/// Draws the live screen into `ui` (everything below the top bar); `demo` is the simulated patient's control
/// panel, when the simulator is the source; `baseline_loop` (volume mL, pressure mmHg; empty for none) is the
/// case's saved baseline loop, drawn grey behind the live loops. The PV loop's column (with the demo panel) is left
/// out when the traces would be narrower than [`theme::MIN_TRACES_WIDTH`] beside it.
pub fn live_ui(
    ui: &mut egui::Ui,
    view: &LiveView,
    state: &LiveState,
    baseline_loop: &[[f64; 2]],
    demo: Option<&mut DemoPanel>,
    actions: &mut Vec<Action>,
) {
    if super::keys::single_key_pressed(ui, Key::Space) {
        actions.push(Action::SetFrozen(!view.frozen));
    }
    let width = ui.available_width();
    let numbers_width = theme::NUMBERS_WIDTH.max(width * theme::NUMBERS_WIDTH_FRACTION);
    let pv_width = theme::PV_COLUMN_WIDTH.max(width * theme::PV_COLUMN_WIDTH_FRACTION);
    // Beside a wide form (eligibility, randomisation, sign-off) there is no room for both: the traces keep their
    // width, the loop (and the demo panel under it) comes back with the measurement steps.
    let pv_shown = width - numbers_width - pv_width >= theme::MIN_TRACES_WIDTH;
    egui::Panel::bottom("live-controls")
        .exact_size(theme::BOTTOM_BAR_HEIGHT)
        .frame(bar_frame())
        .show(ui, |ui| controls_ui(ui, view, actions));
    egui::Panel::right("live-numbers")
        .exact_size(numbers_width)
        .resizable(false)
        .frame(bar_frame())
        .show(ui, |ui| numbers::numbers_ui(ui, &state.analysis));
    if pv_shown {
        egui::Panel::right("live-pv")
            .exact_size(pv_width)
            .resizable(false)
            .frame(plot_frame())
            .show(ui, |ui| {
                // The demo panel at the column's foot, the loop in all the height above it.
                if let Some(demo) = demo {
                    egui::Panel::bottom("live-demo")
                        .frame(egui::Frame::NONE.inner_margin(egui::Margin {
                            top: theme::PANEL_MARGIN as i8,
                            ..Default::default()
                        }))
                        .show(ui, |ui| demo::demo_panel_ui(ui, demo, actions));
                }
                pv_loop::pv_loop_ui(ui, view, state, baseline_loop);
            });
    }
    egui::CentralPanel::default()
        .frame(plot_frame())
        .show(ui, |ui| traces::traces_ui(ui, view, state, actions));
}

/// The frame of the traces and the PV loop's column: the window's background (painted, so that a rendering without
/// the window's clear colour, the screenshots', looks as the screen does).
fn plot_frame() -> egui::Frame {
    egui::Frame::NONE
        .fill(theme::BACKGROUND)
        .inner_margin(theme::PANEL_MARGIN)
}

/// The frame of the bars and side panels.
pub fn bar_frame() -> egui::Frame {
    egui::Frame::NONE
        .fill(theme::BAR_BACKGROUND)
        .inner_margin(theme::PANEL_MARGIN)
}

/// Freeze/resume and the sweep speed.
fn controls_ui(ui: &mut egui::Ui, view: &LiveView, actions: &mut Vec<Action>) {
    ui.horizontal_centered(|ui| {
        let (text, hint) = if view.frozen {
            ("Resume", "Traces are frozen; resume the live display (Space, when no field is being typed in)")
        } else {
            (
                "Freeze",
                "Freeze the traces, PV loop and numbers (Space, when no field is being typed in); acquisition and \
                 recording go on",
            )
        };
        let button = egui::Button::new(RichText::new(text).strong()).min_size(theme::BUTTON_MIN_SIZE);
        if ui.add(button).on_hover_text(hint).clicked() {
            actions.push(Action::SetFrozen(!view.frozen));
        }
        if view.frozen {
            ui.label(RichText::new("FROZEN").strong().color(theme::FROZEN));
        }
        ui.separator();
        ui.label("Sweep");
        for sweep_s in SWEEP_CHOICES_S {
            let selected = (view.sweep_s - sweep_s).abs() < 1e-9;
            let button = egui::Button::selectable(selected, format!("{sweep_s:.0} s"))
                .min_size(theme::BUTTON_MIN_SIZE);
            if ui.add(button).clicked() && !selected {
                actions.push(Action::SetSweep(sweep_s));
            }
        }
    });
}
