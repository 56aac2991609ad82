//! Small status icons painted as shapes (the bundled fonts have no symbol glyphs), always shown beside words so
//! colour and shape are never the only carriers of meaning.

use egui::{Color32, Pos2, Sense, Shape, Stroke, pos2, vec2};

/// The status icons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    /// A filled dot: recording.
    Dot,
    /// An open ring: idle, not recording.
    Ring,
    /// A triangle with an exclamation mark: a failure needing attention.
    Warning,
    /// A tick: connected and healthy.
    Tick,
    /// A cross: disconnected.
    Cross,
    /// A filled square: finished (end of a replay).
    Square,
}

/// Paints `icon` in a square of `size` points at the current position.
pub fn icon_ui(ui: &mut egui::Ui, icon: Icon, colour: Color32, size: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(size, size), Sense::hover());
    let painter = ui.painter();
    let (c, r) = (rect.center(), size * 0.38);
    let stroke = Stroke::new((size * 0.14).max(1.5), colour);
    let at = |x: f32, y: f32| pos2(c.x + x * r, c.y + y * r);
    match icon {
        Icon::Dot => _ = painter.circle_filled(c, r, colour),
        Icon::Ring => _ = painter.circle_stroke(c, r * 0.9, stroke),
        Icon::Warning => {
            let triangle: Vec<Pos2> = vec![at(0.0, -1.1), at(1.15, 0.95), at(-1.15, 0.95)];
            painter.add(Shape::convex_polygon(triangle, colour, Stroke::NONE));
            // The mark contrasts with the triangle: black on a light one, white on a dark one.
            let mark_colour = if colour.intensity() > 0.5 {
                Color32::BLACK
            } else {
                Color32::WHITE
            };
            let mark = Stroke::new(stroke.width, mark_colour);
            painter.line_segment([at(0.0, -0.45), at(0.0, 0.25)], mark);
            painter.circle_filled(at(0.0, 0.6), stroke.width * 0.6, mark_colour);
        }
        Icon::Tick => _ = painter.line(vec![at(-0.9, 0.0), at(-0.25, 0.7), at(0.95, -0.7)], stroke),
        Icon::Cross => {
            painter.line_segment([at(-0.75, -0.75), at(0.75, 0.75)], stroke);
            painter.line_segment([at(-0.75, 0.75), at(0.75, -0.75)], stroke);
        }
        Icon::Square => {
            _ = painter.rect_filled(egui::Rect::from_center_size(c, vec2(r, r) * 1.5), 1.0, colour)
        }
    }
}
