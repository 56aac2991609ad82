//! The live pressure-volume loop: LV volume across, LV pressure up, the newest beats drawn over older ones that
//! fade. The axes fit the loops drawn (round limits, [`YRange::fitting`]), so a 15 mL loop of a failing
//! ventricle fills the square as a 150 mL one does; the strips' scales are used until there is a loop to fit.

use std::ops::Range;

use egui::{Align2, Color32, Rect, RichText, Shape, Stroke, pos2};

use crate::acquisition::LiveState;
use crate::model::SignalKind;

use super::live::{LiveView, find_channel};
use super::theme;
use super::traces::{Strip, YRange, format_tick};

/// Points drawn for all loops together at most, whatever the sample rate (a loop is a smooth curve; more points
/// add nothing but tessellation cost).
const MAX_POINTS: u64 = 800;

/// Number of equal pieces the fallback window is cut into when no beats are known (each fades by its age).
const NUM_FALLBACK_PIECES: u64 = 12;

/// Draws the PV loop in the whole of `ui` (under its title), with `baseline_loop` (the case's saved baseline loop,
/// volume mL and pressure mmHg; empty for none) in grey behind the live loops, on the same axes.
pub fn pv_loop_ui(ui: &mut egui::Ui, view: &LiveView, state: &LiveState, baseline_loop: &[[f64; 2]]) {
    let pieces = loop_pieces(state);
    let title = match &pieces {
        Ok((_, true)) => format!("PV loop · last {} beats", theme::PV_NUM_LOOPS),
        Ok((_, false)) => format!("PV loop · last {:.0} s (no beats yet)", theme::PV_FALLBACK_S),
        Err(reason) => format!("PV loop · {reason}"),
    };
    ui.label(RichText::new(title).heading().color(theme::PV_LOOP));
    if !baseline_loop.is_empty() {
        ui.label(RichText::new("grey: baseline loop (VA-ECMO alone)").color(theme::LOOP_BASELINE));
    }
    // The whole of what is left: the loop is fitted to its axes, so it fills a tall column as well as a square.
    let (outer, response) = ui.allocate_exact_size(ui.available_size(), egui::Sense::hover());
    let rect = Rect::from_min_max(
        pos2(outer.left() + theme::Y_AXIS_WIDTH, outer.top()),
        pos2(outer.right(), outer.bottom() - theme::TIME_AXIS_HEIGHT),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, theme::PLOT_BACKGROUND);
    let fitted = pieces
        .as_ref()
        .ok()
        .and_then(|(pieces, _)| fitted_ranges(state, pieces, baseline_loop));
    let (volume, pressure) =
        fitted.unwrap_or_else(|| (view.range(Strip::LvVolume), view.range(Strip::LvPressure)));
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::accesskit::Role::Image,
            true,
            format!(
                "PV loop plot: LV volume {} to {} mL, LV pressure {} to {} mmHg",
                format_tick(volume.min),
                format_tick(volume.max),
                format_tick(pressure.min),
                format_tick(pressure.max)
            ),
        )
    });
    let to_screen = |v: f32, p: f32| {
        pos2(
            rect.left() + (v - volume.min) / (volume.max - volume.min) * rect.width(),
            rect.bottom() - (p - pressure.min) / (pressure.max - pressure.min) * rect.height(),
        )
    };
    for quarter in 1..4 {
        let f = quarter as f32 / 4.0;
        let (x, y) = (rect.left() + f * rect.width(), rect.top() + f * rect.height());
        painter.line_segment(
            [pos2(rect.left(), y), pos2(rect.right(), y)],
            Stroke::new(1.0, theme::GRID),
        );
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(1.0, theme::GRID),
        );
    }
    if baseline_loop.len() > 1 {
        let points = baseline_loop
            .iter()
            .map(|&[v, p]| to_screen(v as f32, p as f32))
            .collect();
        painter.add(Shape::line(points, Stroke::new(2.0, theme::LOOP_BASELINE)));
    }
    if let Ok((pieces, _)) = &pieces {
        painter.extend(loop_shapes(state, pieces, to_screen));
    }
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, theme::BORDER),
        egui::StrokeKind::Inside,
    );

    let (font, colour) = (theme::small_font(), theme::TEXT_DIM);
    let outside = ui.painter();
    let x_axis_y = rect.bottom() + 3.0;
    outside.text(
        pos2(rect.left(), x_axis_y),
        Align2::LEFT_TOP,
        format_tick(volume.min),
        font.clone(),
        colour,
    );
    outside.text(
        pos2(rect.right(), x_axis_y),
        Align2::RIGHT_TOP,
        format_tick(volume.max),
        font.clone(),
        colour,
    );
    outside.text(
        pos2(rect.center().x, x_axis_y),
        Align2::CENTER_TOP,
        "LV volume, mL",
        font.clone(),
        colour,
    );
    outside.text(
        pos2(rect.left() - 4.0, rect.top()),
        Align2::RIGHT_TOP,
        format_tick(pressure.max),
        font.clone(),
        colour,
    );
    outside.text(
        pos2(rect.left() - 4.0, rect.bottom()),
        Align2::RIGHT_BOTTOM,
        format_tick(pressure.min),
        font.clone(),
        colour,
    );
    outside.text(
        pos2(rect.left() - 4.0, rect.center().y),
        Align2::RIGHT_CENTER,
        "mmHg",
        font,
        colour,
    );
}

/// The sample ranges to draw, oldest first, and the position of the source carrying LV pressure and volume.
type Pieces = (Vec<Range<u64>>, usize);

/// What to draw: the newest beats when the analysis knows them, else the last few seconds in pieces; or why
/// nothing can be drawn.
fn loop_pieces(state: &LiveState) -> Result<(Pieces, bool), String> {
    let (Some((source, _)), Some((volume_source, _))) = (
        find_channel(state, SignalKind::Lvp),
        find_channel(state, SignalKind::Lvv),
    ) else {
        return Err("no LV pressure and volume".to_owned());
    };
    if source != volume_source {
        return Err("LV pressure and volume come from different sources".to_owned());
    }
    let live = &state.sources[source];
    let beats = &state.analysis.lv_beats;
    if !beats.is_empty() {
        let newest = beats[beats.len().saturating_sub(theme::PV_NUM_LOOPS)..].to_vec();
        return Ok(((newest, source), true));
    }
    let end = live.end_sample();
    let window = (theme::PV_FALLBACK_S * live.spec.sample_rate_hz) as u64;
    let start = end.saturating_sub(window);
    let piece = (window / NUM_FALLBACK_PIECES).max(1);
    let pieces = (start..end)
        .step_by(piece as usize)
        .map(|from| from..(from + piece + 1).min(end))
        .collect();
    Ok(((pieces, source), false))
}

/// Volume and pressure ranges that hold every sample of the pieces and every point of the baseline loop, with round
/// limits (`None` without samples).
fn fitted_ranges(
    state: &LiveState,
    (pieces, source): &Pieces,
    baseline_loop: &[[f64; 2]],
) -> Option<(YRange, YRange)> {
    let live = state.sources.get(*source)?;
    let pressure = live.channels.get(live.spec.channel_index(SignalKind::Lvp)?)?;
    let volume = live.channels.get(live.spec.channel_index(SignalKind::Lvv)?)?;
    let (mut v_lo, mut v_hi, mut p_lo, mut p_hi) =
        (f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY);
    for range in pieces {
        for index in range.clone() {
            if let (Some(v), Some(p)) = (volume.at(index), pressure.at(index))
                && v.is_finite()
                && p.is_finite()
            {
                (v_lo, v_hi, p_lo, p_hi) = (v_lo.min(v), v_hi.max(v), p_lo.min(p), p_hi.max(p));
            }
        }
    }
    for &[v, p] in baseline_loop
        .iter()
        .filter(|[v, p]| v.is_finite() && p.is_finite())
    {
        let (v, p) = (v as f32, p as f32);
        (v_lo, v_hi, p_lo, p_hi) = (v_lo.min(v), v_hi.max(v), p_lo.min(p), p_hi.max(p));
    }
    Some((YRange::fitting(v_lo, v_hi)?, YRange::fitting(p_lo, p_hi)?))
}

/// One faded polyline per piece, the newest brightest and thickest.
fn loop_shapes(
    state: &LiveState,
    (pieces, source): &Pieces,
    to_screen: impl Fn(f32, f32) -> egui::Pos2,
) -> Vec<Shape> {
    let live = &state.sources[*source];
    let (Some(pressure_channel), Some(volume_channel)) = (
        live.spec.channel_index(SignalKind::Lvp),
        live.spec.channel_index(SignalKind::Lvv),
    ) else {
        return Vec::new();
    };
    let (pressure, volume) = (&live.channels[pressure_channel], &live.channels[volume_channel]);
    let num_pieces = pieces.len();
    let num_samples: u64 = pieces
        .iter()
        .map(|range| range.end.saturating_sub(range.start))
        .sum();
    pieces
        .iter()
        .enumerate()
        .filter_map(|(age_rank, range)| {
            let stride = (num_samples / MAX_POINTS).max(1);
            let points: Vec<egui::Pos2> = (range.start..range.end)
                .step_by(stride as usize)
                .chain(std::iter::once(range.end.saturating_sub(1)))
                .filter_map(|index| Some((volume.at(index)?, pressure.at(index)?)))
                .filter(|(v, p)| v.is_finite() && p.is_finite())
                .map(|(v, p)| to_screen(v, p))
                .collect();
            let freshness = (age_rank + 1) as f32 / num_pieces as f32;
            let newest = age_rank + 1 == num_pieces;
            let width = if newest {
                theme::PV_LOOP_WIDTH
            } else {
                theme::PV_LOOP_WIDTH * 0.6
            };
            let colour = fade(theme::PV_LOOP, freshness);
            (points.len() > 1).then(|| Shape::line(points, Stroke::new(width, colour)))
        })
        .collect()
}

/// `colour` faded towards the plot background; `freshness` 1 is full colour.
fn fade(colour: Color32, freshness: f32) -> Color32 {
    theme::PLOT_BACKGROUND.lerp_to_gamma(colour, 0.15 + 0.85 * freshness * freshness)
}
