//! The live endpoint panel: as soon as a baseline and a post-unloading window exist, the CDFR with its confidence
//! interval and flags, the microvascular resistance, the pressure-volume changes with the baseline (grey) and post
//! (colour) loops overlaid, and the change in supply/demand. Every number shows its method on hover; a number that
//! cannot be computed shows "no value" and the reason.
//!
//! The panel draws an [`EndpointView`], which the app fills from the case's endpoint table (the rows the review and
//! the exports show), so this view never computes or converts a number.

use egui::{RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::analysis::endpoints::Unit;
use crate::analysis::format;
use crate::model::{StepId, WindowKind};
use crate::ui::theme;

/// The primary endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Cdfr {
    /// APV post / APV baseline.
    pub value: f64,
    /// Bootstrap 95 % confidence interval over beats, when computed.
    pub ci95: Option<(f64, f64)>,
    /// Why the comparison is doubtful (ECMO flow or heart rate changed between states, ...).
    pub flags: Vec<String>,
    /// How it was computed (shown on hover).
    pub method: String,
}

/// One secondary number, at baseline and post-unloading.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointRow {
    /// The group it is shown under (`Microvascular resistance`, `Pressure-volume`, `Supply and demand`).
    pub section: String,
    /// Its name, e.g. `LVEDP`.
    pub name: String,
    /// Its unit, e.g. mmHg (shown as [`Unit::symbol`]).
    pub unit: Unit,
    /// At baseline (`None` when it could not be computed).
    pub baseline: Option<f64>,
    /// Post-unloading.
    pub post: Option<f64>,
    /// Post - baseline, from the endpoint table (absent when the two are not the same kind of value).
    pub change: Option<f64>,
    /// How it was computed (shown on hover).
    pub method: String,
    /// Why a value is missing, or a caveat (e.g. `estimate`).
    pub note: Option<String>,
}

/// What one saved window measured, shown under it in its step as soon as it is analysed: the rows of the
/// endpoint table measured on that window, at that moment.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowNumbers {
    /// The step it was captured in.
    pub step: StepId,
    /// What it measures.
    pub kind: WindowKind,
    /// Its main numbers, in display order.
    pub numbers: Vec<WindowNumber>,
}

/// One number of a saved window.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowNumber {
    /// Its name, with the resistance kind where there is one (e.g. `BMR (HMR)`).
    pub name: String,
    /// The value, or `None` with the reason in `note`.
    pub value: Option<f64>,
    /// Its unit.
    pub unit: Unit,
    /// How it was computed, beats used and excluded, flags (shown on hover).
    pub method: String,
    /// Why there is no value, or a caveat.
    pub note: Option<String>,
}

/// Everything the endpoint panel shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndpointView {
    /// The CDFR, or why there is none yet.
    pub cdfr: Option<Result<Cdfr, String>>,
    /// The secondary numbers, in display order.
    pub rows: Vec<EndpointRow>,
    /// A representative baseline loop (volume mL, pressure mmHg).
    pub baseline_loop: Vec<[f64; 2]>,
    /// A representative post-unloading loop.
    pub post_loop: Vec<[f64; 2]>,
    /// What the post state is, e.g. `Impella CP P-6`.
    pub post_label: String,
    /// What each saved window measured, oldest first.
    pub windows: Vec<WindowNumbers>,
}

/// The numbers of a saved window on one wrapped line (each with its method on hover), or that it is still being
/// analysed.
pub fn window_numbers_ui(ui: &mut Ui, numbers: Option<&WindowNumbers>) {
    let Some(numbers) = numbers else {
        ui.label(RichText::new("analysing...").color(theme::TEXT_DIM));
        return;
    };
    if numbers.numbers.is_empty() {
        ui.label(RichText::new("no numbers from this window").color(theme::TEXT_DIM));
        return;
    }
    ui.horizontal_wrapped(|ui| {
        for (index, number) in numbers.numbers.iter().enumerate() {
            if index > 0 {
                ui.label(RichText::new("·").color(theme::TEXT_DIM));
            }
            let hover = match &number.note {
                Some(note) => format!("{}\n{note}", number.method),
                None => number.method.clone(),
            };
            let text = match number.value {
                Some(value) if value.is_finite() => {
                    format!("{} {}", number.name, format::with_unit(value, number.unit))
                }
                _ => format!("{}: no value", number.name),
            };
            ui.label(RichText::new(text.trim_end()).size(theme::BODY_SIZE).strong())
                .on_hover_text(hover);
        }
    });
}

/// The endpoint panel. `loop_height` sizes the PV-loop overlay (0 hides it).
pub fn endpoint_panel_ui(ui: &mut Ui, view: &EndpointView, loop_height: f32) {
    match &view.cdfr {
        None => {
            ui.label(
                RichText::new("CDFR: needs a baseline and a post-unloading resting coronary window")
                    .color(theme::TEXT_DIM),
            );
        }
        Some(Err(reason)) => {
            ui.label(RichText::new(format!("CDFR: no value ({reason})")).color(theme::WARNING));
        }
        Some(Ok(cdfr)) => cdfr_ui(ui, cdfr),
    }
    let mut section = "";
    egui::Grid::new("endpoint-rows")
        .num_columns(5)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for row in &view.rows {
                if row.section != section {
                    section = &row.section;
                    ui.label(RichText::new(section).strong());
                    for heading in ["baseline", "post", "change", ""] {
                        ui.label(RichText::new(heading).color(theme::TEXT_DIM));
                    }
                    ui.end_row();
                }
                row_ui(ui, row);
                ui.end_row();
            }
        });
    if loop_height > 0.0 && (!view.baseline_loop.is_empty() || !view.post_loop.is_empty()) {
        loops_ui(ui, view, loop_height);
    }
}

fn cdfr_ui(ui: &mut Ui, cdfr: &Cdfr) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("CDFR").size(theme::BODY_SIZE + 2.0).strong());
        ui.label(
            RichText::new(format::number(cdfr.value, Unit::Ratio))
                .size(theme::NUMBER_SIZE)
                .strong(),
        )
        .on_hover_text(&cdfr.method);
        match cdfr.ci95 {
            Some((low, high)) => ui.label(
                RichText::new(format!("95 % CI {}", format::interval([low, high], Unit::Ratio)))
                    .size(theme::BODY_SIZE),
            ),
            None => ui.label(RichText::new("no confidence interval").color(theme::TEXT_DIM)),
        };
    });
    if cdfr.flags.is_empty() {
        ui.label(
            RichText::new("No flags: ECMO flow and heart rate comparable between states").color(theme::OK),
        );
    }
    for flag in &cdfr.flags {
        ui.label(RichText::new(format!("FLAG: {flag}")).color(theme::WARNING));
    }
}

fn format_value(value: Option<f64>, unit: Unit) -> String {
    match value {
        Some(value) if value.is_finite() => format::number(value, unit),
        _ => "no value".to_owned(),
    }
}

fn row_ui(ui: &mut Ui, row: &EndpointRow) {
    let hover = match &row.note {
        Some(note) => format!("{}\n{note}", row.method),
        None => row.method.clone(),
    };
    ui.label(&row.name).on_hover_text(&hover);
    ui.label(
        RichText::new(format_value(row.baseline, row.unit))
            .color(theme::LOOP_BASELINE)
            .size(theme::BODY_SIZE),
    )
    .on_hover_text(&hover);
    ui.label(
        RichText::new(format_value(row.post, row.unit))
            .color(theme::PV_LOOP)
            .size(theme::BODY_SIZE),
    )
    .on_hover_text(&hover);
    let change = match (row.change, row.baseline) {
        (Some(change), Some(baseline)) if baseline.abs() > f64::EPSILON => {
            format!(
                "{} ({})",
                format::change(change, row.unit),
                format::percent_change(change / baseline.abs())
            )
        }
        (Some(change), _) => format::change(change, row.unit),
        (None, _) => String::new(),
    };
    ui.label(RichText::new(change).size(theme::BODY_SIZE).strong())
        .on_hover_text(&hover);
    ui.label(RichText::new(row.unit.symbol()).color(theme::TEXT_DIM));
}

fn loops_ui(ui: &mut Ui, view: &EndpointView, height: f32) {
    Plot::new("baseline-post-loops")
        .height(height)
        .legend(Legend::default())
        .x_axis_label("LV volume (mL)")
        .y_axis_label("LV pressure (mmHg)")
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new("Baseline (VA-ECMO)", PlotPoints::from(view.baseline_loop.clone()))
                    .color(theme::LOOP_BASELINE)
                    .width(2.0),
            );
            plot.line(
                Line::new(
                    format!("Post ({})", view.post_label),
                    PlotPoints::from(view.post_loop.clone()),
                )
                .color(theme::PV_LOOP)
                .width(2.5),
            );
        });
}
