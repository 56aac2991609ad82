//! The design tokens: every colour and size the UI uses, dark by default for a darkened cath lab. Views name these
//! constants instead of writing colours or pixel sizes of their own, so the look can be changed in one place.
//!
//! Colour never carries meaning alone: every coloured state also has a word or an icon beside it.

use egui::{Color32, FontFamily, FontId, TextStyle};

use crate::model::SignalKind;

/// Window and panel background.
pub const BACKGROUND: Color32 = Color32::from_rgb(10, 12, 16);
/// Background of the top bar, the bottom bar and the side panels.
pub const BAR_BACKGROUND: Color32 = Color32::from_rgb(20, 23, 30);
/// Background of a trace strip and of the PV-loop plot.
pub const PLOT_BACKGROUND: Color32 = Color32::from_rgb(14, 17, 22);
/// Grid lines inside plots.
pub const GRID: Color32 = Color32::from_rgb(38, 44, 54);
/// Plot borders and separators.
pub const BORDER: Color32 = Color32::from_rgb(58, 64, 76);

/// Primary text.
pub const TEXT: Color32 = Color32::from_rgb(225, 228, 232);
/// Secondary text: units, axis labels, hints.
pub const TEXT_DIM: Color32 = Color32::from_rgb(150, 156, 166);
/// Text drawn on a strongly coloured background.
pub const TEXT_ON_ALERT: Color32 = Color32::from_rgb(255, 255, 255);
/// Text on the amber warning background.
pub const TEXT_ON_WARNING: Color32 = Color32::from_rgb(0, 0, 0);

/// Recording in progress (the conventional red "on air" light).
pub const RECORDING: Color32 = Color32::from_rgb(200, 28, 36);
/// Nothing is being saved although it should be.
pub const WARNING: Color32 = Color32::from_rgb(255, 176, 0);
/// A healthy source.
pub const OK: Color32 = Color32::from_rgb(70, 190, 110);
/// A failed source or value.
pub const ERROR: Color32 = Color32::from_rgb(235, 70, 70);
/// The banner over frozen traces.
pub const FROZEN: Color32 = Color32::from_rgb(90, 160, 255);

/// Colour of each signal's trace and of the numbers derived from it (conventional monitor colours).
pub fn signal_colour(kind: SignalKind) -> Color32 {
    match kind {
        SignalKind::Ecg => Color32::from_rgb(90, 225, 110),
        SignalKind::Pa => Color32::from_rgb(255, 90, 90),
        SignalKind::Pd => Color32::from_rgb(255, 214, 70),
        SignalKind::Ipv => Color32::from_rgb(80, 205, 255),
        SignalKind::Lvp => Color32::from_rgb(255, 150, 70),
        SignalKind::Lvv => Color32::from_rgb(180, 150, 255),
        SignalKind::EcmoFlow => Color32::from_rgb(230, 230, 230),
    }
}

/// Colour of the newest PV loop (older loops fade towards the plot background).
pub const PV_LOOP: Color32 = Color32::from_rgb(255, 170, 90);

/// Height of the top bar, points.
pub const TOP_BAR_HEIGHT: f32 = 46.0;
/// Height of the bottom bar, points.
pub const BOTTOM_BAR_HEIGHT: f32 = 44.0;
/// Width of the column of large numbers at 1366 points wide; it grows on wider screens.
pub const NUMBERS_WIDTH: f32 = 232.0;
/// Fraction of the window width given to the numbers column.
pub const NUMBERS_WIDTH_FRACTION: f32 = 0.17;
/// Width of the PV-loop column at 1366 points wide.
pub const PV_COLUMN_WIDTH: f32 = 330.0;
/// Fraction of the window width given to the PV-loop column.
pub const PV_COLUMN_WIDTH_FRACTION: f32 = 0.24;
/// The narrowest the live traces may be, points: about four beats a second wide at the 10 s sweep, with room for
/// each strip's title and scale controls. Narrower, the PV loop's column gives way.
pub const MIN_TRACES_WIDTH: f32 = 400.0;
/// Width of the y-axis labels left of each trace strip.
pub const Y_AXIS_WIDTH: f32 = 44.0;
/// Height of the time axis under the traces.
pub const TIME_AXIS_HEIGHT: f32 = 26.0;
/// Vertical gap between trace strips.
pub const STRIP_GAP: f32 = 4.0;
/// Height of a live strip's title band (title, unit, scale menu and "Auto"), above its plot.
pub const STRIP_TITLE_HEIGHT: f32 = 24.0;
/// Inner margin of panels.
pub const PANEL_MARGIN: f32 = 6.0;
/// Corner radius of chips and tiles.
pub const CORNER_RADIUS: u8 = 4;

/// Width of a trace line, points.
pub const TRACE_WIDTH: f32 = 1.5;
/// Width of the newest PV loop, points.
pub const PV_LOOP_WIDTH: f32 = 2.0;
/// How many beats the PV loop shows (older ones fade).
pub const PV_NUM_LOOPS: usize = 4;
/// Seconds of PV data shown when no beats are known yet.
pub const PV_FALLBACK_S: f64 = 3.0;

/// Body text size.
pub const BODY_SIZE: f32 = 15.0;
/// Small text (axis labels, units, hints).
pub const SMALL_SIZE: f32 = 12.5;
/// Button text size (large enough for gloved hands).
pub const BUTTON_SIZE: f32 = 16.0;
/// Trace and panel headings.
pub const HEADING_SIZE: f32 = 17.0;
/// The recording indicator.
pub const INDICATOR_SIZE: f32 = 20.0;
/// The large live numbers at 1366x768 (legible from two metres); scaled up with the window.
pub const NUMBER_SIZE: f32 = 38.0;
/// Name and unit of a live number.
pub const NUMBER_LABEL_SIZE: f32 = 15.0;
/// Minimum size of a clickable button, points.
pub const BUTTON_MIN_SIZE: egui::Vec2 = egui::vec2(36.0, 30.0);

/// The screen the layout is drawn for, logical points: the smallest bedside screen, 1366x768, where nothing is
/// scaled.
pub const REFERENCE_SCREEN: egui::Vec2 = egui::vec2(1366.0, 768.0);

/// The largest zoom (a 4K screen at 100 % is drawn as a 1920x1080 one at 200 %).
const MAX_ZOOM: f32 = 2.5;

/// The one scale factor of the whole UI on a window of `size` logical points: the layout is the reference
/// screen's, magnified until it fills the window's narrower dimension, never shrunk (1366x768: 1; 1920x1080:
/// 1.41, so every text, control and number is 41 % larger and no area is left empty).
pub fn zoom_for(size: egui::Vec2) -> f32 {
    let zoom = (size.x / REFERENCE_SCREEN.x).min(size.y / REFERENCE_SCREEN.y);
    if zoom.is_finite() {
        zoom.clamp(1.0, MAX_ZOOM)
    } else {
        1.0
    }
}

/// Font for text drawn with the painter (axis labels).
pub fn small_font() -> FontId {
    FontId::new(SMALL_SIZE, FontFamily::Proportional)
}

/// Font of the large live numbers, scaled with the height available per number.
pub fn number_font(size: f32) -> FontId {
    FontId::new(size, FontFamily::Proportional)
}

/// Applies the heracles look to an egui context (dark, whatever the system preference).
pub fn apply(ctx: &egui::Context) {
    ctx.set_theme(egui::Theme::Dark);
    ctx.style_mut_of(egui::Theme::Dark, |style| {
        style.visuals.panel_fill = BACKGROUND;
        style.visuals.window_fill = BAR_BACKGROUND;
        style.visuals.extreme_bg_color = PLOT_BACKGROUND;
        style.visuals.override_text_color = Some(TEXT);
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(SMALL_SIZE, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(BODY_SIZE, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(BUTTON_SIZE, FontFamily::Proportional),
            ),
            (
                TextStyle::Heading,
                FontId::new(HEADING_SIZE, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(BODY_SIZE, FontFamily::Monospace),
            ),
        ]
        .into();
        style.spacing.interact_size.y = BUTTON_MIN_SIZE.y;
        style.spacing.button_padding = egui::vec2(10.0, 4.0);
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
    });
}

// Protocol views (step list, step panel, capture quality, endpoint panel). Meaning never rests on colour alone:
// every coloured status also says it in words. They reuse OK, WARNING, ERROR, TEXT_DIM and PV_LOOP (post-unloading
// loops are drawn in the live loop's colour).

/// The current step and the primary action.
pub const ACCENT: Color32 = Color32::from_rgb(86, 156, 255);

/// Baseline (VA-ECMO alone) in baseline/post overlays: grey, so the post state stands out in colour.
pub const LOOP_BASELINE: Color32 = Color32::from_rgb(140, 140, 140);

/// Step titles.
pub const TITLE_SIZE: f32 = 24.0;

/// Offline review: the baseline state in comparisons (drawn dashed as well, so colour is not the only cue).
pub const REVIEW_BASELINE: Color32 = Color32::from_rgb(160, 164, 172);
/// Offline review: the post-unloading state in comparisons (drawn solid).
pub const REVIEW_POST: Color32 = Color32::from_rgb(255, 150, 50);
/// Offline review: an accepted beat's marker.
pub const REVIEW_BEAT: Color32 = Color32::from_rgb(120, 200, 140);
/// Offline review: a rejected beat's marker (also drawn with a cross).
pub const REVIEW_REJECTED: Color32 = Color32::from_rgb(235, 70, 70);
/// Offline review: the band of an analysis window (translucent) and of the selected one.
pub const REVIEW_WINDOW: Color32 = Color32::from_rgba_unmultiplied_const(90, 140, 230, 28);
/// Offline review: the selected analysis window's band.
pub const REVIEW_WINDOW_SELECTED: Color32 = Color32::from_rgba_unmultiplied_const(90, 150, 255, 48);
/// Offline review: protocol-step bands on the overview strip, alternating.
pub const REVIEW_STEP_BANDS: [Color32; 2] = [Color32::from_rgb(28, 34, 44), Color32::from_rgb(36, 44, 56)];
/// Offline review: markers and annotations.
pub const REVIEW_MARK: Color32 = Color32::from_rgb(230, 200, 90);
/// Offline review: height of the overview strip, points.
pub const REVIEW_OVERVIEW_HEIGHT: f32 = 64.0;
/// Offline review: width of the side panel (per-beat table, window tools), points.
pub const REVIEW_SIDE_WIDTH: f32 = 430.0;
