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
    /// Its 95 % confidence interval, when its method gives one (shown under the value).
    pub ci95: Option<[f64; 2]>,
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

/// Width of a value column of the saved windows' table, points: the widest number the notation policy writes
/// (`1234.5`, `0.0012`) in body text, and a window's name in small text over at most two lines, its longest word
/// ("hyperaemia") whole.
const VALUE_COLUMN_WIDTH: f32 = 72.0;

/// One column of the saved windows' table: a saved window, with its heading, what it measured (`None` while it is
/// being analysed), whether it was steady, and its summary on hover.
pub struct SavedColumn<'a> {
    /// The window's short name, e.g. `rest`.
    pub heading: String,
    /// What it measured, once analysed.
    pub numbers: Option<&'a WindowNumbers>,
    /// Whether the window met every steadiness criterion (the heading is then green, else amber).
    pub steady: bool,
    /// Its duration, beats and verdict in words (on hover over the heading).
    pub summary: String,
}

/// The numbers of a step's saved windows as one compact table (a row per number, a column per window, the unit
/// after each name), so that every captured number is in view at once beside the pinned checklist, however many
/// windows the step saved. Each value shows its method on hover; a missing one shows [`format::MISSING`] and, under
/// the table, why in words.
pub fn saved_numbers_ui(ui: &mut Ui, columns: &[SavedColumn<'_>]) {
    if columns.is_empty() {
        return;
    }
    // The rows: every number's name in the order the windows measured them.
    let mut rows: Vec<(&str, Unit)> = Vec::new();
    for number in columns.iter().flat_map(|c| c.numbers).flat_map(|n| &n.numbers) {
        if !rows.iter().any(|(name, _)| *name == number.name) {
            rows.push((&number.name, number.unit));
        }
    }
    ui.label(RichText::new("Saved windows").strong());
    ui.spacing_mut().item_spacing = egui::vec2(4.0, 2.0);
    let spacing = ui.spacing().item_spacing.x;
    let name_width =
        (ui.available_width() - columns.len() as f32 * (VALUE_COLUMN_WIDTH + spacing) - spacing).max(60.0);
    // A row as tall as its content (`ui.horizontal` would make each at least a button high).
    let row_ui = |ui: &mut Ui, add: &mut dyn FnMut(&mut Ui)| {
        let layout = egui::Layout::left_to_right(egui::Align::Min);
        ui.allocate_ui_with_layout(egui::vec2(ui.available_width(), 0.0), layout, add);
    };
    let cell = |ui: &mut Ui, width: f32, align: egui::Align, add: &mut dyn FnMut(&mut Ui)| {
        ui.allocate_ui_with_layout(egui::vec2(width, 0.0), egui::Layout::top_down(align), |ui| {
            ui.set_width(width);
            add(ui);
        });
    };
    row_ui(ui, &mut |ui| {
        cell(ui, name_width, egui::Align::Min, &mut |_| {});
        for column in columns {
            cell(ui, VALUE_COLUMN_WIDTH, egui::Align::Max, &mut |ui| {
                let colour = if column.steady { theme::OK } else { theme::WARNING };
                ui.add(
                    egui::Label::new(RichText::new(&column.heading).small().color(colour).strong()).wrap(),
                )
                .on_hover_text(&column.summary);
            });
        }
    });
    if rows.is_empty() {
        ui.label(RichText::new("analysing...").color(theme::TEXT_DIM));
    }
    for (row, (name, unit)) in rows.iter().enumerate() {
        row_ui(ui, &mut |ui| {
            cell(ui, name_width, egui::Align::Min, &mut |ui| {
                name_and_unit(ui, name, *unit, Some(theme::SMALL_SIZE), true);
            });
            for column in columns {
                cell(ui, VALUE_COLUMN_WIDTH, egui::Align::Max, &mut |ui| {
                    let Some(numbers) = column.numbers else {
                        if row == 0 {
                            ui.label(RichText::new("...").color(theme::TEXT_DIM))
                                .on_hover_text("analysing");
                        }
                        return;
                    };
                    let Some(number) = numbers.numbers.iter().find(|n| n.name == *name) else {
                        return;
                    };
                    let hover = match &number.note {
                        Some(note) => format!("{}\n{note}", number.method),
                        None => number.method.clone(),
                    };
                    let text = format::optional(number.value, number.unit);
                    ui.label(RichText::new(text).size(theme::BODY_SIZE).strong())
                        .on_hover_text(&hover);
                    if let Some(ci) = number.ci95 {
                        let interval = RichText::new(format::interval(ci, number.unit)).small();
                        ui.add(egui::Label::new(interval.color(theme::TEXT_DIM)).wrap())
                            .on_hover_text(&hover);
                    }
                });
            }
        });
    }
    // A dash alone does not say why: each number without a value, with the reason in words, once.
    let mut reasons: Vec<String> = Vec::new();
    for number in columns.iter().flat_map(|c| c.numbers).flat_map(|n| &n.numbers) {
        if let (None, Some(note)) = (number.value, &number.note) {
            let reason = format!("{}: {note}", number.name);
            if !reasons.contains(&reason) {
                ui.add(egui::Label::new(RichText::new(&reason).small().color(theme::WARNING)).wrap());
                reasons.push(reason);
            }
        }
    }
}

/// A number's name and after it its unit, dimmed (nothing for a ratio), at `size` (body text when `None`), in the
/// width left in `ui`: the unit is a label of its own, always whole, and the name takes the rest of the width,
/// wrapped (`wrap`) or cut with an ellipsis, so that a long name never pushes its unit out of the cell and a table
/// needs no column of its own for it. Returns the name's response (for its hover text).
fn name_and_unit(ui: &mut Ui, name: &str, unit: Unit, size: Option<f32>, wrap: bool) -> egui::Response {
    let sized = |text: RichText| match size {
        Some(size) => text.size(size),
        None => text,
    };
    let width = ui.available_width();
    let layout = egui::Layout::left_to_right(egui::Align::Min);
    ui.allocate_ui_with_layout(egui::vec2(width, 0.0), layout, |ui| {
        let spacing = ui.spacing().item_spacing.x;
        let unit = Some(unit.symbol())
            .filter(|symbol| !symbol.is_empty())
            .map(|symbol| {
                egui::WidgetText::from(sized(RichText::new(symbol).color(theme::TEXT_DIM))).into_galley(
                    ui,
                    Some(egui::TextWrapMode::Extend),
                    f32::INFINITY,
                    egui::FontSelection::Default,
                )
            });
        let unit_width = unit.as_ref().map_or(0.0, |galley| galley.size().x + spacing);
        let label = egui::Label::new(sized(RichText::new(name)));
        let label = if wrap { label.wrap() } else { label.truncate() };
        let name_width = (width - unit_width).max(spacing);
        let response = ui
            .allocate_ui_with_layout(egui::vec2(name_width, 0.0), layout, |ui| {
                ui.set_max_width(name_width);
                ui.add(label)
            })
            .inner;
        if let Some(galley) = unit {
            ui.add(egui::Label::new(galley));
        }
        response
    })
    .inner
}

/// The primary endpoint alone (CDFR with its interval and flags, or why there is none): what follows the step in
/// the narrow step panel, where the whole table would not fit (it is on the review step, and each window's own
/// numbers are in the step's table of saved windows).
pub fn primary_endpoint_ui(ui: &mut Ui, view: &EndpointView) {
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
}

/// The endpoint panel. `loop_height` sizes the PV-loop overlay (0 hides it).
pub fn endpoint_panel_ui(ui: &mut Ui, view: &EndpointView, loop_height: f32) {
    primary_endpoint_ui(ui, view);
    // The names take at most two fifths of the width: the values and their changes keep the rest.
    let name_width = ui.available_width() * 0.4;
    let mut section = "";
    egui::Grid::new("endpoint-rows")
        .num_columns(4)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for row in &view.rows {
                if row.section != section {
                    section = &row.section;
                    ui.label(RichText::new(section).strong());
                    for heading in ["baseline", "post", "change"] {
                        ui.label(RichText::new(heading).color(theme::TEXT_DIM));
                    }
                    ui.end_row();
                }
                row_ui(ui, row, name_width);
                ui.end_row();
            }
        });
    if loop_height > 0.0 && (!view.baseline_loop.is_empty() || !view.post_loop.is_empty()) {
        loops_ui(ui, view, loop_height);
    }
}

fn cdfr_ui(ui: &mut Ui, cdfr: &Cdfr) {
    ui.horizontal(|ui| {
        // The row as high as its large number from the start, so that the name and the interval are centred on
        // the number's line (a row grows only after its first items are placed).
        let number_height = ui
            .painter()
            .layout_no_wrap(
                "0".to_owned(),
                theme::number_font(theme::NUMBER_SIZE),
                theme::TEXT,
            )
            .size()
            .y;
        ui.set_min_height(number_height);
        ui.label(RichText::new("CDFR").size(theme::BODY_SIZE + 2.0).strong());
        ui.label(
            RichText::new(format::number(cdfr.value, Unit::Ratio))
                .size(theme::NUMBER_SIZE)
                .strong(),
        )
        .on_hover_text(&cdfr.method);
        match cdfr.ci95 {
            Some((low, high)) => {
                ui.label(RichText::new(format::interval([low, high], Unit::Ratio)).size(theme::BODY_SIZE))
            }
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

/// One row of the endpoint table, its name (with the unit) within `name_width`.
fn row_ui(ui: &mut Ui, row: &EndpointRow, name_width: f32) {
    let hover = match &row.note {
        Some(note) => format!("{}\n{note}", row.method),
        None => row.method.clone(),
    };
    // Cut to its width before its unit, whole on hover (a wrapped cell would overlap the next row: the grid sizes a
    // row by its first line). A line of body text high, its content from its top, so that the grid centres it on
    // the row as it centres the values beside it (a cell asked for with no height, or content of no height in a
    // centred layout, is laid out from the middle of its row, half a line low).
    let line_height = ui.text_style_height(&egui::TextStyle::Body);
    let top = egui::Layout::left_to_right(egui::Align::Min);
    ui.allocate_ui_with_layout(egui::vec2(name_width, line_height), top, |ui| {
        ui.set_max_width(name_width);
        name_and_unit(ui, &row.name, row.unit, None, false).on_hover_text(format!("{}\n{hover}", row.name));
    });
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
                format::change_from(change, Some(baseline), row.unit),
                format::percent_change(change / baseline.abs())
            )
        }
        (Some(change), baseline) => format::change_from(change, baseline, row.unit),
        (None, _) => String::new(),
    };
    ui.label(RichText::new(change).size(theme::BODY_SIZE).strong())
        .on_hover_text(&hover);
}

/// Accessible label of the review step's loops plot (what a screen reader and the screenshot walk find it by).
pub const LOOPS_LABEL: &str = "PV loops, baseline and post-unloading";

fn loops_ui(ui: &mut Ui, view: &EndpointView, height: f32) {
    ui.label(RichText::new(LOOPS_LABEL).strong());
    let loops = Plot::new("baseline-post-loops")
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
    loops
        .response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, format!("{LOOPS_LABEL}: plot")));
}
