//! Baseline against post-unloading: the averaged PV loops overlaid with their ESPVR lines, the ensemble coronary
//! beats overlaid, and the endpoint table with differences, CI and flags. Baseline is grey and dashed, post is
//! orange and solid (never colour alone); every number shows its method, algorithm version and settings on hover.

use egui::{Align2, Pos2, Rect, RichText, Shape, Stroke, pos2, vec2};

use crate::analysis::format;
use crate::model::SignalKind;
use crate::review::endpoints::{EndpointRow, MEASUREMENT_CONTEXT, MINIMUM_SUPPORT, measurement_context_text};
use crate::review::session::Snapshot;
use crate::review::waveforms::{Waveforms, padded_range};
use crate::ui::theme;

/// Draws one curve: baseline dashed grey, post solid orange.
fn curve(painter: &egui::Painter, points: Vec<Pos2>, baseline: bool) {
    if points.len() < 2 {
        return;
    }
    if baseline {
        painter.extend(Shape::dashed_line(
            &points,
            Stroke::new(1.5, theme::REVIEW_BASELINE),
            6.0,
            4.0,
        ));
    } else {
        painter.add(Shape::line(points, Stroke::new(2.0, theme::REVIEW_POST)));
    }
}

/// A plot frame with its title, axis limits and a mapping from data to points.
struct Plot {
    rect: Rect,
    x: (f64, f64),
    y: (f64, f64),
}

impl Plot {
    fn new(
        ui: &egui::Ui,
        rect: Rect,
        title: &str,
        x: (f64, f64),
        y: (f64, f64),
        units: (&str, &str),
    ) -> Plot {
        let painter = ui.painter();
        painter.rect_filled(rect, 0.0, theme::PLOT_BACKGROUND);
        painter.rect_stroke(
            rect,
            0.0,
            Stroke::new(1.0, theme::BORDER),
            egui::StrokeKind::Inside,
        );
        painter.text(
            rect.left_top() - vec2(0.0, 4.0),
            Align2::LEFT_BOTTOM,
            title,
            theme::small_font(),
            theme::TEXT,
        );
        let font = theme::small_font();
        painter.text(
            rect.left_bottom() + vec2(0.0, 3.0),
            Align2::LEFT_TOP,
            format::tick(x.0),
            font.clone(),
            theme::TEXT_DIM,
        );
        painter.text(
            rect.right_bottom() + vec2(0.0, 3.0),
            Align2::RIGHT_TOP,
            format!("{} {}", format::tick(x.1), units.0),
            font.clone(),
            theme::TEXT_DIM,
        );
        painter.text(
            rect.left_bottom() - vec2(4.0, 0.0),
            Align2::RIGHT_BOTTOM,
            format::tick(y.0),
            font.clone(),
            theme::TEXT_DIM,
        );
        painter.text(
            rect.left_top() - vec2(4.0, 0.0),
            Align2::RIGHT_TOP,
            format!("{}\n{}", format::tick(y.1), units.1),
            font,
            theme::TEXT_DIM,
        );
        Plot { rect, x, y }
    }

    fn point(&self, x: f64, y: f64) -> Pos2 {
        pos2(
            self.rect.left() + ((x - self.x.0) / (self.x.1 - self.x.0)) as f32 * self.rect.width(),
            self.rect.bottom() - ((y - self.y.0) / (self.y.1 - self.y.0)) as f32 * self.rect.height(),
        )
    }

    fn points(&self, data: &[(f64, f64)]) -> Vec<Pos2> {
        data.iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| self.point(x, y))
            .filter(|p| self.rect.expand(1.0).contains(*p))
            .collect()
    }
}

fn pv_loops_ui(ui: &egui::Ui, rect: Rect, waves: &Waveforms) {
    let states = [(&waves.baseline, true), (&waves.post, false)];
    let all = || states.iter().flat_map(|(w, _)| w.pv_loop.iter());
    let x = padded_range(all().map(|p| p.0));
    let y = padded_range(all().map(|p| p.1).chain(std::iter::once(0.0)));
    let plot = Plot::new(
        ui,
        rect,
        "PV loops (averaged steady beat) and ESPVR",
        x,
        y,
        ("mL", "mmHg"),
    );
    let painter = ui.painter_at(rect);
    for (state, baseline) in states {
        curve(&painter, plot.points(&state.pv_loop), baseline);
        if let Some((ees, v0)) = state.espvr {
            let line: Vec<(f64, f64)> = (0..=20)
                .map(|i| x.0 + (x.1 - x.0) * f64::from(i) / 20.0)
                .map(|v| (v, ees * (v - v0)))
                .collect();
            curve(&painter, plot.points(&line), baseline);
        }
    }
    if all().next().is_none() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "no steady PV window analysed",
            theme::small_font(),
            theme::TEXT_DIM,
        );
    }
}

fn ensemble_ui(ui: &egui::Ui, rect: Rect, waves: &Waveforms, kind: SignalKind, title: &str, unit: &str) {
    let (baseline, post) = (
        waves.baseline.coronary_points(kind),
        waves.post.coronary_points(kind),
    );
    let both = || baseline.iter().chain(&post);
    let x = (0.0, both().map(|p| p.0).fold(0.1, f64::max));
    let plot = Plot::new(ui, rect, title, x, padded_range(both().map(|p| p.1)), ("s", unit));
    let painter = ui.painter_at(rect);
    curve(&painter, plot.points(&baseline), true);
    curve(&painter, plot.points(&post), false);
    if baseline.is_empty() && post.is_empty() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "not recorded",
            theme::small_font(),
            theme::TEXT_DIM,
        );
    }
}

/// A row's value in a cell of the table `rows`, marked `!` when it carries flags.
fn cell(ui: &mut egui::Ui, row: Option<&EndpointRow>, rows: &[EndpointRow]) {
    match row {
        Some(row) => {
            let text = if row.flags.is_empty() {
                row.shown(rows)
            } else {
                format!("{} !", row.shown(rows))
            };
            ui.label(text).on_hover_text(row.provenance());
        }
        None => {
            ui.label("");
        }
    }
}

fn table_ui(ui: &mut egui::Ui, rows: &[EndpointRow]) {
    if let Some(cdfr) = rows.iter().find(|r| r.key == "cdfr") {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("CDFR {}", cdfr.shown(rows)))
                    .size(theme::HEADING_SIZE + 4.0)
                    .strong(),
            )
            .on_hover_text(cdfr.provenance());
            if let Some(ci) = cdfr.ci95 {
                ui.label(format::interval(ci, cdfr.unit));
            }
            if let Some(note) = &cdfr.note {
                ui.label(RichText::new(note).color(theme::TEXT_DIM));
            }
        });
        if !cdfr.flags.is_empty() {
            ui.label(
                RichText::new(format!("Flags: {}", cdfr.flags.join(", ").replace('_', " ")))
                    .color(theme::WARNING),
            );
        }
    }
    if let Some((lines, flagged)) = measurement_context_text(rows) {
        let color = if flagged { theme::WARNING } else { theme::TEXT };
        for line in lines {
            ui.label(RichText::new(line).color(color));
        }
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("review-endpoints")
                .striped(true)
                .min_col_width(60.0)
                .show(ui, |ui| {
                    for header in ["Endpoint", "Baseline", "Post", "Change", "Unit", "Method"] {
                        ui.label(RichText::new(header).strong());
                    }
                    ui.end_row();
                    let mut seen = Vec::new();
                    let table_rows = rows.iter().filter(|r| r.key != MEASUREMENT_CONTEXT);
                    for row in table_rows.filter(|r| r.state == "baseline") {
                        if seen.contains(&row.key) {
                            continue;
                        }
                        seen.push(row.key.clone());
                        let find = |state: &str| rows.iter().find(|r| r.key == row.key && r.state == state);
                        ui.label(kind_label(row));
                        cell(ui, Some(row), rows);
                        cell(ui, find("post"), rows);
                        cell(ui, find("change"), rows);
                        ui.label(RichText::new(row.unit.symbol()).color(theme::TEXT_DIM));
                        method_ui(ui, row);
                        ui.end_row();
                    }
                    // The resting window at minimum support (the within-session CDFR reference): its own rows.
                    for row in rows.iter().filter(|r| r.state == MINIMUM_SUPPORT) {
                        ui.label(kind_label(row));
                        ui.label("");
                        cell(ui, Some(row), rows);
                        ui.label("");
                        ui.label(RichText::new(row.unit.symbol()).color(theme::TEXT_DIM));
                        method_ui(ui, row);
                        ui.end_row();
                    }
                    // The case's own endpoints (follow-up) under headers of their own: a value, and its note.
                    let case_rows: Vec<&EndpointRow> = rows
                        .iter()
                        .filter(|r| r.state == "case" && r.group != "primary")
                        .collect();
                    if !case_rows.is_empty() {
                        for header in ["Case endpoint", "Value", "Note"] {
                            ui.label(RichText::new(header).strong());
                        }
                        ui.end_row();
                    }
                    for row in case_rows {
                        ui.label(&row.label);
                        cell(ui, Some(row), rows);
                        ui.label(row.note.clone().unwrap_or_default());
                        ui.label("");
                        ui.label(RichText::new(row.unit.symbol()).color(theme::TEXT_DIM));
                        method_ui(ui, row);
                        ui.end_row();
                    }
                });
        });
}

/// A row's label with its resistance kind, when the label does not name it.
fn kind_label(row: &EndpointRow) -> String {
    match &row.kind {
        Some(kind) if !row.label.contains(kind.as_str()) => format!("{} [{kind}]", row.label),
        _ => row.label.clone(),
    }
}

/// The method of a row, shortened to fit the column; the whole method, algorithm and settings on hover.
fn method_ui(ui: &mut egui::Ui, row: &EndpointRow) {
    const SHOWN_CHARS: usize = 13;
    let short: String = row.method.chars().take(SHOWN_CHARS).collect();
    let ellipsis = if row.method.chars().count() > SHOWN_CHARS {
        "…"
    } else {
        ""
    };
    ui.label(RichText::new(format!("{short}{ellipsis}")).color(theme::TEXT_DIM))
        .on_hover_text(format!(
            "{}\nalgorithm {}, settings {}",
            row.method, row.algorithm_version, row.settings_hash
        ));
}

pub(super) fn comparison_ui(ui: &mut egui::Ui, snapshot: &Snapshot, waveforms: Option<&Waveforms>) {
    let area = ui.available_rect_before_wrap();
    let left = Rect::from_min_max(area.min, pos2(area.left() + area.width() * 0.5, area.bottom()));
    let right = Rect::from_min_max(pos2(left.right() + 12.0, area.top()), area.max);
    ui.painter().text(
        left.left_top(),
        Align2::LEFT_TOP,
        "Baseline (VA-ECMO alone): grey, dashed.   Post-unloading: orange, solid.",
        theme::small_font(),
        theme::TEXT,
    );
    if let Some(waves) = waveforms {
        let margin = 48.0;
        let top = left.top() + 34.0;
        let loops = Rect::from_min_max(
            pos2(left.left() + margin, top),
            pos2(left.right() - 10.0, top + left.height() * 0.48),
        );
        pv_loops_ui(ui, loops, waves);
        let rest = left.bottom() - loops.bottom() - 40.0;
        let pd = Rect::from_min_size(
            pos2(loops.left(), loops.bottom() + 34.0),
            vec2(loops.width(), rest / 2.0 - 16.0),
        );
        ensemble_ui(
            ui,
            pd,
            waves,
            SignalKind::Pd,
            "Distal coronary pressure, ensemble beat",
            "mmHg",
        );
        let ipv = Rect::from_min_size(
            pos2(loops.left(), pd.bottom() + 30.0),
            vec2(loops.width(), rest / 2.0 - 16.0),
        );
        ensemble_ui(
            ui,
            ipv,
            waves,
            SignalKind::Ipv,
            "Doppler velocity, ensemble beat",
            "cm/s",
        );
    }
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(right));
    table_ui(&mut child, &snapshot.endpoints);
    ui.advance_cursor_after_rect(area);
}
