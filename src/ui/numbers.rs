//! The column of large live numbers, legible from two metres: one tile per quantity with its name, unit and
//! value; the method on hover; "—" with the reason when the analysis has no value.

use egui::{Align, Layout, RichText};

use crate::acquisition::{LiveAnalysis, LiveQuantity};

use super::theme;

/// Height of a tile at which the numbers have their base size; taller tiles get larger numbers.
const BASE_TILE_HEIGHT: f32 = 70.0;

/// Draws one tile per [`LiveQuantity`] down the whole of `ui`.
pub fn numbers_ui(ui: &mut egui::Ui, analysis: &LiveAnalysis) {
    if let Some(status) = &analysis.status {
        ui.label(RichText::new(status).color(theme::TEXT_DIM));
    }
    let num_tiles = LiveQuantity::ALL.len() as f32;
    let spacing = ui.spacing().item_spacing.y;
    let tile_height = ((ui.available_height() - spacing * (num_tiles - 1.0)) / num_tiles).max(40.0);
    let number_size = theme::NUMBER_SIZE * (tile_height / BASE_TILE_HEIGHT).clamp(0.7, 1.8);
    for quantity in LiveQuantity::ALL {
        let width = ui.available_width();
        ui.allocate_ui_with_layout(
            egui::vec2(width, tile_height),
            Layout::top_down(Align::Min),
            |ui| {
                ui.set_min_size(egui::vec2(width, tile_height));
                tile_ui(ui, analysis, quantity, number_size);
            },
        );
    }
}

fn tile_ui(ui: &mut egui::Ui, analysis: &LiveAnalysis, quantity: LiveQuantity, number_size: f32) {
    let colour = theme::signal_colour(quantity.signal());
    let label_size = theme::NUMBER_LABEL_SIZE;
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(quantity.label())
                .size(label_size)
                .strong()
                .color(colour),
        );
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(
                RichText::new(quantity.unit())
                    .size(label_size)
                    .color(theme::TEXT_DIM),
            );
        });
    });
    let number = analysis.number(quantity);
    let (text, hover) = match number {
        Some(number) => match &number.value {
            Ok(value) => (format!("{value:.*}", quantity.decimals()), number.method.clone()),
            Err(_) => ("—".to_owned(), number.method.clone()),
        },
        None => ("—".to_owned(), "not computed yet".to_owned()),
    };
    let value_colour = if matches!(number, Some(n) if n.value.is_ok()) {
        colour
    } else {
        theme::TEXT_DIM
    };
    ui.with_layout(Layout::right_to_left(Align::Min), |ui| {
        ui.label(
            RichText::new(text)
                .font(theme::number_font(number_size))
                .color(value_colour),
        )
        .on_hover_text(hover);
    });
    if let Some(Err(reason)) = number.map(|n| &n.value) {
        ui.label(
            RichText::new(format!("signal unusable: {reason}"))
                .small()
                .color(theme::ERROR),
        );
    }
}
