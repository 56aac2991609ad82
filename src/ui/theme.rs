//! The design tokens: every colour and size the UI uses, dark by default for a darkened cath lab.

use egui::Color32;

/// Window background.
pub const BACKGROUND: Color32 = Color32::from_rgb(12, 14, 18);

/// Primary text.
pub const TEXT: Color32 = Color32::from_rgb(225, 228, 232);

/// Applies the heracles look to an egui context (dark, whatever the system preference).
pub fn apply(ctx: &egui::Context) {
    ctx.set_theme(egui::Theme::Dark);
    ctx.style_mut_of(egui::Theme::Dark, |style| {
        style.visuals.panel_fill = BACKGROUND;
        style.visuals.override_text_color = Some(TEXT);
    });
}
