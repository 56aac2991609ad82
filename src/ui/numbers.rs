//! The column of large live numbers, legible from two metres: one tile per quantity with its name and unit on the
//! left and the value large on the right; the method on hover; "—" with the reason when the analysis has no
//! value. Values follow the one notation policy ([`format`]). The tiles share the column's height equally, and the numbers grow with them.

use egui::{Align, Layout, Rect, RichText, Stroke, UiBuilder, pos2, vec2};

use crate::acquisition::{LiveAnalysis, LiveNumber, LiveQuantity};
use crate::analysis::format;

use super::theme;

/// Fraction of a tile's height the value's font takes.
const NUMBER_HEIGHT_FRACTION: f32 = 0.62;

/// Draws one tile per [`LiveQuantity`] down the whole of `ui`.
pub fn numbers_ui(ui: &mut egui::Ui, analysis: &LiveAnalysis) {
    if let Some(status) = &analysis.status {
        ui.label(RichText::new(status).color(theme::TEXT_DIM));
    }
    let area = ui.available_rect_before_wrap();
    let tile_height = area.height() / LiveQuantity::ALL.len() as f32;
    let number_size =
        (tile_height * NUMBER_HEIGHT_FRACTION).clamp(theme::NUMBER_SIZE * 0.6, theme::NUMBER_SIZE * 2.0);
    for (position, quantity) in LiveQuantity::ALL.into_iter().enumerate() {
        let top = area.top() + position as f32 * tile_height;
        let rect = Rect::from_min_size(pos2(area.left(), top), vec2(area.width(), tile_height));
        if position > 0 {
            ui.painter()
                .line_segment([rect.left_top(), rect.right_top()], Stroke::new(1.0, theme::GRID));
        }
        tile_ui(ui, rect, analysis.number(quantity), quantity, number_size);
    }
    ui.advance_cursor_after_rect(area);
}

/// One tile: name over unit at the left, the value (or a dash) at the right, the reason under it when unusable.
fn tile_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    number: Option<&LiveNumber>,
    quantity: LiveQuantity,
    number_size: f32,
) {
    let colour = theme::signal_colour(quantity.signal());
    let label_size = theme::NUMBER_LABEL_SIZE;
    let inner = rect.shrink2(vec2(2.0, 3.0));
    let left = Rect::from_min_size(inner.min, vec2(inner.width() * 0.4, inner.height()));
    place(ui, left, Layout::top_down(Align::Min), |ui| {
        ui.spacing_mut().item_spacing.y = 0.0;
        ui.label(
            RichText::new(quantity.label())
                .size(label_size)
                .strong()
                .color(colour),
        );
        ui.label(
            RichText::new(quantity.unit().symbol())
                .size(label_size * 0.9)
                .color(theme::TEXT_DIM),
        );
    });
    let (text, hover, value_colour) = match number {
        Some(LiveNumber {
            value: Ok(value),
            method,
            ..
        }) => (format::number(*value, quantity.unit()), method.clone(), colour),
        Some(LiveNumber {
            value: Err(reason),
            method,
            ..
        }) => (
            "—".to_owned(),
            format!("signal unusable: {reason}\n{method}"),
            theme::TEXT_DIM,
        ),
        None => ("—".to_owned(), "not computed yet".to_owned(), theme::TEXT_DIM),
    };
    let value = RichText::new(text)
        .font(theme::number_font(number_size))
        .color(value_colour);
    place(ui, inner, Layout::right_to_left(Align::Center), |ui| {
        ui.label(value).on_hover_text(hover);
    });
    if let Some(Err(reason)) = number.map(|n| &n.value) {
        let reason_rect = Rect::from_min_max(pos2(inner.left(), inner.bottom() - label_size), inner.max);
        let text = RichText::new(format!("signal unusable: {reason}"))
            .small()
            .color(theme::ERROR);
        place(ui, reason_rect, Layout::left_to_right(Align::Max), |ui| {
            ui.add(egui::Label::new(text).truncate());
        });
    }
}

/// Runs `add_contents` in a child ui confined to `rect` with `layout`.
fn place(ui: &mut egui::Ui, rect: Rect, layout: Layout, add_contents: impl FnOnce(&mut egui::Ui)) {
    ui.scope_builder(UiBuilder::new().max_rect(rect).layout(layout), add_contents);
}
