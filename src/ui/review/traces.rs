//! The overview strip of the whole case (protocol steps as bands, markers, windows, the part shown) above the
//! synchronised channels: min/max columns from the pyramid-backed tracks at any zoom, analysis windows as bands
//! (the selected one with edges to drag), the selected window's beats (accepted: a short green tick; rejected: a
//! red line and a cross), markers and annotations; the windows', markers' and annotations' labels in a strip of their
//! own between the overview and the first lane (an annotation's stretch a bar at the strip's foot), so that none
//! covers a trace. Scroll to zoom about the pointer, drag to pan, click a beat to
//! select it; arrow keys pan and +/- zoom. The selected window's edges carry handles with a resize cursor; an edge
//! is taken where the press began, its length shows while dragging (centred on the band, kept inside the traces), and a steady window dragged below its minimum
//! is said so, on the band and in the reason dialog, before anything is applied ([`shrink_warning`]).

use egui::{Align2, Color32, Pos2, Rect, Sense, Shape, Stroke, pos2, vec2};

use super::label_rows::{self, LabelRows, Wanted};
use super::{ReasonDialog, ReviewAction, ReviewUi, WindowDrag};
use crate::model::SignalKind;
use crate::review::analysis::{State, WindowKind, case_settings, window_kind};
use crate::review::session::{Edit, Snapshot};
use crate::review::tracks::Track;
use crate::signal::decimate::MinMax;
use crate::store::AnalysisWindow;
use crate::ui::theme;
use crate::ui::traces::{envelope_mesh, time_label_ui, title_band_and_plot};

/// How near (points) the pointer must be to a beat or a window edge to pick it.
const PICK_DISTANCE: f32 = 6.0;

/// Seconds covered by every track.
pub(super) fn duration_s(tracks: &[Track]) -> f64 {
    tracks
        .iter()
        .map(|t| t.channel.end_sample as f64 / t.channel.sample_rate_hz)
        .fold(0.0, f64::max)
}

/// A short label of a window, e.g. `baseline resting coronary window (w1)`.
pub(super) fn window_label(window: &AnalysisWindow) -> String {
    let state = State::of_step(window.step).map_or("", State::key);
    let kind = window_kind(window).map_or_else(|| window.method.clone(), |k| k.label().to_owned());
    format!("{state} {kind} (w{})", window.id)
}

/// The track the overview strip shows: aortic pressure, else LV pressure, else the first.
fn overview_track(tracks: &[Track]) -> Option<usize> {
    let position = |kind: SignalKind| {
        tracks
            .iter()
            .position(|t| t.channel.name.eq_ignore_ascii_case(kind.name()))
    };
    position(SignalKind::Pa)
        .or_else(|| position(SignalKind::Lvp))
        .or((!tracks.is_empty()).then_some(0))
}

/// The colour of a channel: its signal's colour, or plain text colour for unknown channels.
fn track_colour(track: &Track) -> Color32 {
    SignalKind::from_name(&track.channel.name).map_or(theme::TEXT, theme::signal_colour)
}

/// Min/max columns of `track` over the view, asking for the tiles that would make them exact.
fn track_columns(
    tracks: &mut [Track],
    index: usize,
    from_s: f64,
    to_s: f64,
    num_columns: usize,
    actions: &mut Vec<ReviewAction>,
) -> Vec<Option<(f32, f32)>> {
    let columns = tracks[index].columns(from_s, to_s, num_columns);
    for tile in columns.missing_tiles {
        actions.push(ReviewAction::LoadTile { track: index, tile });
    }
    columns
        .values
        .iter()
        .map(|m: &MinMax| (!m.is_empty()).then_some((m.min, m.max)))
        .collect()
}

/// Data range of `columns` with 5 % headroom.
fn y_range(columns: &[Option<(f32, f32)>]) -> (f32, f32) {
    let (lo, hi) = columns
        .iter()
        .flatten()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &(a, b)| {
            (lo.min(a), hi.max(b))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad, hi + pad)
}

/// A tick step of about one label per 110 points.
fn tick_step_s(span_s: f64, width: f32) -> f64 {
    let wanted = span_s * 110.0 / f64::from(width.max(1.0));
    [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|&step| step >= wanted)
    .unwrap_or(7200.0)
}

/// `12.5 s` for short spans, `m:ss` or `h:mm:ss` beyond a minute.
fn time_label(t: f64, step_s: f64) -> String {
    if step_s < 1.0 {
        format!("{t:.1} s")
    } else if t < 60.0 {
        format!("{t:.0} s")
    } else {
        let seconds = t.round() as u64;
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        if h > 0 {
            format!("{h}:{m:02}:{s:02}")
        } else {
            format!("{m}:{s:02}")
        }
    }
}

/// The overview strip: the whole case, what is shown, and click or drag to go there.
fn overview_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    state: &mut ReviewUi,
    tracks: &mut [Track],
    snapshot: Option<&Snapshot>,
    actions: &mut Vec<ReviewAction>,
) {
    let duration = duration_s(tracks).max(1.0);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, theme::PLOT_BACKGROUND);
    let x_of = |t: f64| rect.left() + (t / duration) as f32 * rect.width();
    if let Some(snapshot) = snapshot {
        let mut bands = Vec::with_capacity(snapshot.steps.len());
        for (i, step) in snapshot.steps.iter().enumerate() {
            let (Some(start), end) = (step.start_s, step.end_s.unwrap_or(duration)) else {
                continue;
            };
            let band = Rect::from_x_y_ranges(x_of(start)..=x_of(end), rect.y_range());
            painter.rect_filled(band, 0.0, theme::REVIEW_STEP_BANDS[i % 2]);
            bands.push((band, step));
        }
        step_labels_ui(ui, &painter, rect, bands);
        for (window, _, _) in &snapshot.analysis.windows {
            let band = Rect::from_x_y_ranges(
                x_of(window.start_s)..=x_of(window.end_s).max(x_of(window.start_s) + 2.0),
                rect.bottom() - 10.0..=rect.bottom(),
            );
            let colour = if state.selected_window == Some(window.id) {
                theme::REVIEW_WINDOW_SELECTED
            } else {
                theme::REVIEW_WINDOW
            };
            painter.rect_filled(band, 0.0, colour.to_opaque());
        }
        for event in &snapshot.events {
            let x = x_of(event.time_s);
            painter.line_segment(
                [pos2(x, rect.top()), pos2(x, rect.bottom())],
                Stroke::new(1.0, theme::REVIEW_MARK),
            );
        }
    }
    if let Some(index) = overview_track(tracks) {
        let num_columns = (rect.width() as usize).max(1);
        let columns = track_columns(tracks, index, 0.0, duration, num_columns, actions);
        let (lo, hi) = y_range(&columns);
        let y_of = |v: f32| rect.bottom() - 12.0 - (v - lo) / (hi - lo) * (rect.height() - 26.0);
        let x_of_column = |c: usize| rect.left() + c as f32 + 0.5;
        painter.add(envelope_mesh(
            &columns,
            x_of_column,
            1.0,
            y_of,
            track_colour(&tracks[index]).gamma_multiply(0.8),
        ));
    }
    let shown = Rect::from_x_y_ranges(
        x_of(state.from_s)..=x_of(state.to_s).max(x_of(state.from_s) + 2.0),
        rect.y_range(),
    );
    painter.rect_stroke(
        shown,
        0.0,
        Stroke::new(1.5, theme::TEXT),
        egui::StrokeKind::Inside,
    );
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, theme::BORDER),
        egui::StrokeKind::Inside,
    );
    let response = ui.interact(
        rect,
        ui.scope_id().with("review-overview"),
        Sense::click_and_drag(),
    );
    if let Some(pointer) = response.interact_pointer_pos()
        && (response.clicked() || response.dragged())
    {
        let t = f64::from((pointer.x - rect.left()) / rect.width()) * duration;
        let half = (state.to_s - state.from_s) / 2.0;
        state.set_view(t - half, t + half, duration);
    }
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!(
                "Overview: {:.0} s case, showing {:.1} s to {:.1} s",
                duration, state.from_s, state.to_s
            ),
        )
    });
}

/// Narrowest room (points) a step's name is drawn in on the overview, cut with an ellipsis to fit.
const MIN_STEP_LABEL_WIDTH: f32 = 14.0;

/// The protocol steps' names on their bands of the overview, each cut to the room before the next step begins
/// (short steps lie side by side; a step visited twice has two bands), so that no name runs over another; the
/// whole name, with when, as its accessible label.
fn step_labels_ui(
    ui: &egui::Ui,
    painter: &egui::Painter,
    overview: Rect,
    mut bands: Vec<(Rect, &crate::store::StepRecord)>,
) {
    bands.sort_by(|a, b| a.0.left().total_cmp(&b.0.left()));
    for (position, (band, step)) in bands.iter().enumerate() {
        let left = band.left() + 3.0;
        let next = bands
            .get(position + 1)
            .map_or(overview.right(), |(next, _)| next.left());
        let width = band.right().min(next).min(overview.right()) - left - 3.0;
        if width < MIN_STEP_LABEL_WIDTH {
            continue;
        }
        let mut job = egui::text::LayoutJob::simple_singleline(
            step.step.title().to_owned(),
            theme::small_font(),
            theme::TEXT_DIM,
        );
        job.wrap = egui::text::TextWrapping::truncate_at_width(width);
        let galley = painter.layout_job(job);
        let label = Rect::from_min_size(pos2(left, band.top() + 2.0), galley.size());
        painter.galley(label.min, galley, theme::TEXT_DIM);
        let until = step
            .end_s
            .map_or_else(|| "the end of the case".to_owned(), |end| format!("{end:.0} s"));
        let name = format!(
            "Protocol step {}: {:.0} s to {until}",
            step.step.title(),
            step.start_s.unwrap_or_default(),
        );
        ui.interact(
            label,
            ui.scope_id().with(("overview-step", position)),
            Sense::hover(),
        )
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &name));
    }
}

/// Before the case's records have loaded: the overview and the channels alone.
pub(super) fn overview_only_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    tracks: &mut [Track],
    actions: &mut Vec<ReviewAction>,
) {
    let area = ui.available_rect_before_wrap();
    let overview = Rect::from_min_size(area.min, vec2(area.width(), theme::REVIEW_OVERVIEW_HEIGHT));
    overview_ui(ui, overview, state, tracks, None, actions);
    ui.advance_cursor_after_rect(area);
}

/// Where the traces are drawn and how times map to x.
#[derive(Clone, Copy)]
struct Layout {
    plot: Rect,
    from_s: f64,
    to_s: f64,
}

impl Layout {
    fn x_of(&self, t: f64) -> f32 {
        self.plot.left() + ((t - self.from_s) / (self.to_s - self.from_s)) as f32 * self.plot.width()
    }

    fn t_of(&self, x: f32) -> f64 {
        self.from_s + f64::from((x - self.plot.left()) / self.plot.width()) * (self.to_s - self.from_s)
    }
}

/// The review screen's centre: overview, channels with beats, windows, marks.
pub(super) fn traces_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    tracks: &mut [Track],
    snapshot: &Snapshot,
    actions: &mut Vec<ReviewAction>,
) {
    let area = ui.available_rect_before_wrap();
    let duration = duration_s(tracks).max(snapshot.summary.duration_s).max(1.0);
    if !state.fitted {
        state.fitted = true;
        let first = snapshot.analysis.windows.first().map(|(w, _, _)| w);
        match first {
            Some(window) => {
                state.selected_window.get_or_insert(window.id);
                let margin = (window.end_s - window.start_s) * 0.05;
                state.set_view(window.start_s - margin, window.end_s + margin, duration);
            }
            None => state.set_view(0.0, duration.min(60.0), duration),
        }
    }
    let overview = Rect::from_min_size(area.min, vec2(area.width(), theme::REVIEW_OVERVIEW_HEIGHT));
    overview_ui(ui, overview, state, tracks, Some(snapshot), actions);

    // The traces: the label strip, then the lanes. Windows' bands and markers' lines run through both.
    let traces = Rect::from_min_max(
        pos2(area.left() + theme::Y_AXIS_WIDTH, overview.bottom() + 8.0),
        pos2(area.right(), area.bottom() - theme::TIME_AXIS_HEIGHT),
    );
    let layout = Layout {
        plot: traces,
        from_s: state.from_s,
        to_s: state.to_s,
    };
    interact(ui, state, snapshot, layout, duration);
    let layout = Layout {
        plot: traces,
        from_s: state.from_s,
        to_s: state.to_s,
    };

    // Window and marker labels share the rows of a strip of their own above the lanes, none over another and none
    // over a trace (or a rejected beat's cross): at least LABEL_STRIP_ROWS rows, more when the windows in view need
    // them, the last one kept for the markers' count chips.
    let row_height = ui
        .painter()
        .layout_no_wrap("Ag".to_owned(), theme::small_font(), theme::TEXT)
        .size()
        .y
        + 1.0;
    let mut label_rows = LabelRows::new(traces.top(), row_height);
    let window_labels = windows_ui(ui, snapshot, state, layout, &mut label_rows);
    let strip_rows = (label_rows.len() + 1).max(LABEL_STRIP_ROWS);
    let plot = Rect::from_min_max(pos2(traces.left(), label_rows.y_of(strip_rows) + 2.0), traces.max);
    let num_tracks = tracks.len().max(1);
    let strip_height = (plot.height() - theme::STRIP_GAP * (num_tracks as f32 - 1.0)) / num_tracks as f32;
    let num_columns = (plot.width() as usize).max(1);
    let step = tick_step_s(state.to_s - state.from_s, plot.width());
    let first_tick = (state.from_s / step).ceil() as i64;
    let ticks: Vec<f64> = (first_tick..)
        .map(|k| k as f64 * step)
        .take_while(|&t| t <= state.to_s)
        .collect();
    // Each lane's title has a band of its own above the lane's trace.
    let title_height = row_height + 2.0;
    // The lanes' titles, drawn last on a backing of their own: no marker line or window edge crosses them.
    let mut titles = Vec::with_capacity(tracks.len());
    for index in 0..tracks.len() {
        let top = plot.top() + index as f32 * (strip_height + theme::STRIP_GAP);
        let lane = Rect::from_min_max(pos2(plot.left(), top), pos2(plot.right(), top + strip_height));
        let (band, rect) = title_band_and_plot(lane, title_height);
        let painter = ui.painter_at(lane.expand2(vec2(theme::Y_AXIS_WIDTH, 0.0)));
        painter.rect_stroke(
            rect,
            0.0,
            Stroke::new(1.0, theme::BORDER),
            egui::StrokeKind::Inside,
        );
        for &t in &ticks {
            let x = layout.x_of(t);
            painter.line_segment(
                [pos2(x, rect.top()), pos2(x, rect.bottom())],
                Stroke::new(1.0, theme::GRID),
            );
        }
        let columns = track_columns(tracks, index, state.from_s, state.to_s, num_columns, actions);
        let (lo, hi) = y_range(&columns);
        let y_of = |v: f32| rect.bottom() - (v - lo) / (hi - lo) * rect.height();
        let x_of_column = |c: usize| rect.left() + c as f32 + 0.5;
        painter.add(envelope_mesh(
            &columns,
            x_of_column,
            1.0,
            y_of,
            track_colour(&tracks[index]),
        ));
        let channel = &tracks[index].channel;
        let name = SignalKind::from_name(&channel.name)
            .map_or_else(|| channel.name.clone(), |kind| kind.title().to_owned());
        let title = format!("{name} ({})", channel.unit);
        let galley = painter.layout_no_wrap(title.clone(), theme::small_font(), track_colour(&tracks[index]));
        let title_rect = Rect::from_min_size(band.left_top() + vec2(4.0, 1.0), galley.size());
        titles.push((title_rect, galley));
        // The lane's name as a reader (and a screen reader) sees it: the signal in words, never its stored id.
        ui.interact(
            title_rect,
            ui.scope_id().with(("lane-title", index)),
            Sense::hover(),
        )
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &title));
        ui.interact(rect, ui.scope_id().with(("lane-plot", index)), Sense::hover())
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, format!("{title} trace")));
        for (value, align, y) in [
            (hi, Align2::RIGHT_TOP, rect.top()),
            (lo, Align2::RIGHT_BOTTOM, rect.bottom()),
        ] {
            painter.text(
                pos2(rect.left() - 4.0, y),
                align,
                crate::analysis::format::tick(f64::from(value)),
                theme::small_font(),
                theme::TEXT_DIM,
            );
        }
    }
    beats_ui(ui, snapshot, state, layout, plot.top() + title_height);
    marks_ui(ui, snapshot, layout, &mut label_rows, strip_rows - 1);
    // The windows' labels over the markers' lines, on a backing of their own (a line through a name hides it).
    let painter = ui.painter_at(traces);
    for (rect, galley, colour) in window_labels {
        painter.rect_filled(rect.expand(1.0), 2.0, theme::BACKGROUND);
        painter.galley(rect.min, galley, colour);
    }
    let painter = ui.painter_at(plot);
    for (rect, galley) in titles {
        painter.rect_filled(rect.expand(2.0), 2.0, theme::BACKGROUND);
        painter.galley(rect.min, galley, theme::TEXT);
    }
    let axis = ui.painter_at(Rect::from_min_max(pos2(area.left(), plot.bottom()), area.max));
    for &t in &ticks {
        let x = layout.x_of(t);
        time_label_ui(ui, &axis, pos2(x, plot.bottom() + 4.0), time_label(t, step));
    }
    ui.advance_cursor_after_rect(area);
}

/// Zoom, pan, window-edge drags and clicks on beats and windows.
fn interact(ui: &mut egui::Ui, state: &mut ReviewUi, snapshot: &Snapshot, layout: Layout, duration: f64) {
    let response = ui.interact(
        layout.plot,
        ui.scope_id().with("review-traces"),
        Sense::click_and_drag(),
    );
    let span = state.to_s - state.from_s;
    let selected = state.selected_window.and_then(|id| snapshot.window(id)).cloned();
    if response.hovered() {
        let (scroll, pointer) = ui.input(|i| {
            (
                i.smooth_scroll_delta.y + i.smooth_scroll_delta.x,
                i.pointer.hover_pos(),
            )
        });
        if scroll != 0.0
            && let Some(pointer) = pointer
        {
            let factor = (-f64::from(scroll) * 0.003).exp();
            let t = layout.t_of(pointer.x);
            state.set_view(
                t - (t - state.from_s) * factor,
                t + (state.to_s - t) * factor,
                duration,
            );
        }
    }
    {
        use crate::ui::keys::single_key_pressed;
        let (left, right, zoom_in, zoom_out) = (
            single_key_pressed(ui, egui::Key::ArrowLeft),
            single_key_pressed(ui, egui::Key::ArrowRight),
            single_key_pressed(ui, egui::Key::Plus) || single_key_pressed(ui, egui::Key::Equals),
            single_key_pressed(ui, egui::Key::Minus),
        );
        let shift = if left {
            -0.2 * span
        } else if right {
            0.2 * span
        } else {
            0.0
        };
        if shift != 0.0 {
            state.set_view(state.from_s + shift, state.to_s + shift, duration);
        }
        let centre = (state.from_s + state.to_s) / 2.0;
        if zoom_in {
            state.set_view(centre - span / 4.0, centre + span / 4.0, duration);
        } else if zoom_out {
            state.set_view(centre - span, centre + span, duration);
        }
    }
    // An edge is taken where the press began (a drag starts only once the pointer has moved, by then maybe past
    // the edge's reach), so grabbing a handle and moving at once moves the edge rather than panning.
    let on_edge = |pointer: Pos2| {
        selected
            .as_ref()
            .is_some_and(|window| near_edge(layout, window, pointer))
    };
    let hover = ui.input(|i| i.pointer.hover_pos());
    if state.window_drag.is_some() || (response.hovered() && hover.is_some_and(on_edge)) {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }
    if response.drag_started()
        && let (Some(pointer), Some(window)) = (
            ui.input(|i| i.pointer.press_origin())
                .or(response.interact_pointer_pos()),
            &selected,
        )
        && near_edge(layout, window, pointer)
    {
        let distance = |t: f64| (layout.x_of(t) - pointer.x).abs();
        state.window_drag = Some(WindowDrag {
            window_id: window.id,
            start_s: window.start_s,
            end_s: window.end_s,
            moving_start: distance(window.start_s) <= distance(window.end_s),
        });
    }
    if response.dragged() {
        match (&mut state.window_drag, response.interact_pointer_pos(), &selected) {
            (Some(drag), Some(pointer), Some(_)) => {
                let t = layout.t_of(pointer.x).clamp(0.0, duration);
                // The edge taken follows the pointer, past the middle too; a window keeps at least one second.
                if drag.moving_start {
                    drag.start_s = t.min(drag.end_s - 1.0).max(0.0);
                } else {
                    drag.end_s = t.max(drag.start_s + 1.0).min(duration);
                }
            }
            _ => {
                let dt = -f64::from(response.drag_delta().x / layout.plot.width()) * span;
                state.set_view(state.from_s + dt, state.to_s + dt, duration);
            }
        }
    }
    if response.drag_stopped()
        && let Some(drag) = state.window_drag.take()
        && let Some(window) = &selected
        && (drag.start_s != window.start_s || drag.end_s != window.end_s)
    {
        state.dialog = Some(ReasonDialog {
            edit: Edit::MoveWindow {
                window_id: drag.window_id,
                start_s: drag.start_s,
                end_s: drag.end_s,
            },
            title: format!(
                "Move {} to {:.2} – {:.2} s",
                window_label(window),
                drag.start_s,
                drag.end_s
            ),
            reason: String::new(),
            warning: shrink_warning(snapshot, window, drag.start_s, drag.end_s),
        });
    }
    if response.double_clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        let t = layout.t_of(pointer.x);
        state.set_view(t - span / 4.0, t + span / 4.0, duration);
    } else if response.clicked()
        && let Some(pointer) = response.interact_pointer_pos()
    {
        click(state, snapshot, layout, pointer);
    }
    // The edge being dragged, in words too (what the band shows).
    let moving = state
        .window_drag
        .zip(selected.as_ref())
        .map(|(drag, window)| {
            let warning = shrink_warning(snapshot, window, drag.start_s, drag.end_s);
            format!(
                "; moving the window to {:.2} – {:.2} s: {}",
                drag.start_s,
                drag.end_s,
                drag_text(&drag, warning.is_some())
            )
        })
        .unwrap_or_default();
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!(
                "Review traces: {:.2} s to {:.2} s{moving}",
                state.from_s, state.to_s
            ),
        )
    });
}

/// The length of a window being dragged, and whether that is too short for a steady window.
fn drag_text(drag: &WindowDrag, too_short: bool) -> String {
    let duration_s = drag.end_s - drag.start_s;
    if too_short {
        format!("{duration_s:.1} s, shorter than a steady window")
    } else {
        format!("{duration_s:.1} s")
    }
}

/// Whether `pointer` is within reach of an edge of `window` (its handle).
fn near_edge(layout: Layout, window: &AnalysisWindow, pointer: Pos2) -> bool {
    let reach = PICK_DISTANCE.max(HANDLE_WIDTH);
    [window.start_s, window.end_s]
        .iter()
        .any(|&t| (layout.x_of(t) - pointer.x).abs() <= reach)
}

/// Width of a window edge's handle, points.
const HANDLE_WIDTH: f32 = 8.0;

/// The warning a move of `window` to `start_s`-`end_s` needs before it is applied: a steady window (every kind
/// but a preload reduction) made shorter than the case's steady-window minimum has no steady stretch left, so its
/// values come from all its accepted beats and are flagged not steady; `None` otherwise.
pub(super) fn shrink_warning(
    snapshot: &Snapshot,
    window: &AnalysisWindow,
    start_s: f64,
    end_s: f64,
) -> Option<String> {
    if window_kind(window) == Some(WindowKind::PvPreloadReduction) {
        return None;
    }
    let minimum_s = case_settings(&snapshot.analysis).signal.window.min_duration_s;
    let duration_s = end_s - start_s;
    (duration_s < minimum_s && duration_s < window.end_s - window.start_s).then(|| {
        format!(
            "The window would last {duration_s:.1} s, under the {minimum_s:.0} s a steady window needs: it would \
             have no steady stretch, its values would be over all its accepted beats (flagged not steady) and its \
             beats renumbered."
        )
    })
}

/// Selects the beat of the selected window nearest the click (within reach), else the window clicked in.
fn click(state: &mut ReviewUi, snapshot: &Snapshot, layout: Layout, pointer: Pos2) {
    if let Some(window_id) = state.selected_window
        && let Some(beats) = snapshot.beats.get(&window_id)
    {
        let rate = beat_rate(snapshot, window_id);
        let nearest = beats
            .iter()
            .map(|b| (b.number, (layout.x_of(b.start as f64 / rate) - pointer.x).abs()))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((number, distance)) = nearest
            && distance <= PICK_DISTANCE
        {
            state.selected_beat = Some(number);
            return;
        }
    }
    let t = layout.t_of(pointer.x);
    let inside = snapshot
        .analysis
        .windows
        .iter()
        .map(|(w, _, _)| w)
        .filter(|w| (w.start_s..w.end_s).contains(&t))
        .min_by(|a, b| (a.end_s - a.start_s).total_cmp(&(b.end_s - b.start_s)));
    if let Some(window) = inside
        && state.selected_window != Some(window.id)
    {
        state.selected_window = Some(window.id);
        state.selected_beat = None;
        state.occlusion = None;
    }
}

/// The analysis rate the beats of `window_id` are indexed at.
pub(super) fn beat_rate(snapshot: &Snapshot, window_id: i64) -> f64 {
    snapshot
        .analysis
        .reports
        .get(&window_id)
        .map_or(1000.0, |r| r.settings.analysis_rate_hz())
}

/// The windows' bands (the selected one with its edges' handles) and their labels' places in the label strip;
/// returns the labels (and last the length of a window being dragged), to be drawn over the markers' lines.
fn windows_ui(
    ui: &egui::Ui,
    snapshot: &Snapshot,
    state: &ReviewUi,
    layout: Layout,
    label_rows: &mut LabelRows,
) -> Vec<(Rect, std::sync::Arc<egui::Galley>, Color32)> {
    let painter = ui.painter_at(layout.plot);
    let mut labels = Vec::new();
    let mut dragged = None;
    for (window, _, _) in &snapshot.analysis.windows {
        let selected = state.selected_window == Some(window.id);
        let (start, end) = match state.window_drag {
            Some(drag) if drag.window_id == window.id => (drag.start_s, drag.end_s),
            _ => (window.start_s, window.end_s),
        };
        if end < state.from_s || start > state.to_s {
            continue;
        }
        let band = Rect::from_x_y_ranges(layout.x_of(start)..=layout.x_of(end), layout.plot.y_range());
        let fill = if selected {
            theme::REVIEW_WINDOW_SELECTED
        } else {
            theme::REVIEW_WINDOW
        };
        painter.rect_filled(band, 0.0, fill);
        // Windows over the same stretch (coronary and PV of one state) get their labels on separate rows.
        let colour = if selected { theme::TEXT } else { theme::TEXT_DIM };
        let label = window_label(window);
        let (x, galley) = strip_label(&painter, label.clone(), colour, band.left() + 14.0, layout.plot);
        let row = label_rows.take_any(x, galley.size().x);
        let rect = Rect::from_min_size(pos2(x, label_rows.y_of(row)), galley.size());
        let elided = galley.elided;
        labels.push((rect, galley, colour));
        let response = ui.interact(
            rect,
            ui.scope_id().with(("window-label", window.id)),
            Sense::hover(),
        );
        let response = if elided {
            response.on_hover_text(&label)
        } else {
            response
        };
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Window label: {label}"))
        });
        if selected {
            for x in [band.left(), band.right()] {
                painter.line_segment(
                    [pos2(x, band.top()), pos2(x, band.bottom())],
                    Stroke::new(3.0, theme::FROZEN),
                );
                // The handle: a grip at mid-height to take the edge by.
                let handle = Rect::from_center_size(pos2(x, band.center().y), vec2(HANDLE_WIDTH, 36.0));
                painter.rect_filled(handle, 2.0, theme::FROZEN);
                for dy in [-6.0, 0.0, 6.0] {
                    let y = handle.center().y + dy;
                    painter.line_segment(
                        [pos2(handle.left() + 2.0, y), pos2(handle.right() - 2.0, y)],
                        Stroke::new(1.0, theme::BACKGROUND),
                    );
                }
            }
            if let Some(drag) = state.window_drag.filter(|d| d.window_id == window.id) {
                let warning = shrink_warning(snapshot, window, drag.start_s, drag.end_s);
                let colour = if warning.is_some() {
                    theme::WARNING
                } else {
                    theme::TEXT
                };
                // Drawn last, over the labels it may meet while the edge moves.
                // Centred on the band where it can be, kept within the traces' width by the strip's own fit.
                let text = drag_text(&drag, warning.is_some());
                let galley = painter.layout_no_wrap(text.clone(), theme::small_font(), colour);
                let width = galley.size().x;
                let (x, _) = label_rows::fit(
                    band.center().x - width / 2.0,
                    width,
                    layout.plot.left(),
                    layout.plot.right(),
                );
                let rect = Rect::from_min_size(pos2(x, band.top() + 2.0), galley.size());
                ui.interact(rect, ui.scope_id().with("window-length"), Sense::hover())
                    .widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Window length: {text}"))
                    });
                dragged = Some((rect, galley, colour));
            }
        }
    }
    labels.extend(dragged);
    labels
}

/// A window's or marker's label for the label strip, wanted at `x`, and where it goes: kept within `plot`'s width
/// by [`label_rows::fit`], shortened with "…" to the room it has there when it is still too wide
/// ([`egui::Galley::elided`]), so that it reads either whole or visibly shortened, never cut mid-word by the edge.
fn strip_label(
    painter: &egui::Painter,
    text: String,
    colour: Color32,
    x: f32,
    plot: Rect,
) -> (f32, std::sync::Arc<egui::Galley>) {
    let whole = painter.layout_no_wrap(text.clone(), theme::small_font(), colour);
    let (x, room) = label_rows::fit(x, whole.size().x, plot.left(), plot.right());
    // Within half a point of its room it fits (the shift to the edge rounds).
    if whole.size().x <= room + 0.5 {
        return (x, whole);
    }
    let mut job = egui::text::LayoutJob::simple_singleline(text, theme::small_font(), colour);
    job.wrap = egui::text::TextWrapping::truncate_at_width(room);
    (x, painter.layout_job(job))
}

/// The selected window's beats: ticks and crosses from `marks_top` (under the first lane's title band).
fn beats_ui(ui: &egui::Ui, snapshot: &Snapshot, state: &ReviewUi, layout: Layout, marks_top: f32) {
    let Some(window_id) = state.selected_window else {
        return;
    };
    let Some(beats) = snapshot.beats.get(&window_id) else {
        return;
    };
    let painter = ui.painter_at(layout.plot);
    let rate = beat_rate(snapshot, window_id);
    let occlusion = state
        .occlusion
        .as_ref()
        .filter(|o| o.window_id == window_id)
        .map(|o| o.beats);
    let (top, bottom) = (marks_top, layout.plot.bottom());
    for beat in beats {
        let t = beat.start as f64 / rate;
        if t < state.from_s || t > state.to_s {
            continue;
        }
        let x = layout.x_of(t);
        let selected = state.selected_beat == Some(beat.number);
        if let Some((first, last)) = occlusion
            && (first..=last).contains(&beat.number)
        {
            let end = layout.x_of(beat.end as f64 / rate);
            painter.rect_filled(
                Rect::from_x_y_ranges(x..=end, top..=top + 8.0),
                0.0,
                theme::REVIEW_POST,
            );
        }
        if beat.accepted() {
            painter.line_segment(
                [pos2(x, top), pos2(x, top + 12.0)],
                Stroke::new(1.5, theme::REVIEW_BEAT),
            );
        } else {
            painter.add(Shape::dashed_line(
                &[pos2(x, top), pos2(x, bottom)],
                Stroke::new(1.5, theme::REVIEW_REJECTED),
                4.0,
                3.0,
            ));
            let c = pos2(x + 7.0, top + 7.0);
            let stroke = Stroke::new(2.0, theme::REVIEW_REJECTED);
            painter.line_segment([c - vec2(4.0, 4.0), c + vec2(4.0, 4.0)], stroke);
            painter.line_segment([c + vec2(-4.0, 4.0), c + vec2(4.0, -4.0)], stroke);
        }
        if selected {
            painter.line_segment([pos2(x, top), pos2(x, bottom)], Stroke::new(2.0, theme::TEXT));
            painter.text(
                pos2(x + 3.0, bottom - 2.0),
                Align2::LEFT_BOTTOM,
                format!("#{}", beat.number),
                theme::small_font(),
                theme::TEXT,
            );
        }
    }
}

/// Rows of the label strip above the lanes at the least: two for window and marker labels, one for the markers'
/// count chips ([`label_rows::place_markers`]).
const LABEL_STRIP_ROWS: usize = 3;
/// Longest marker label drawn, characters (the whole text is on hover, in the case file and the exports).
const MARK_LABEL_CHARS: usize = 60;
/// How close (s) a worded marker must be to a protocol event for the event's label to be left out (the marker
/// already says what happened, e.g. "checklist item ticked" beside "Baseline: wire in place: ticked").
const MARK_DUPLICATE_S: f64 = 1.0;
/// Inner margin of a count chip, points each side.
const CHIP_MARGIN: f32 = 4.0;

/// A marker as a reader (and a screen reader) names it: its time and its words.
fn marker_name(event: &crate::store::Event) -> String {
    format!("Marker at {:.1} s: {}", event.time_s, event.text)
}

/// An annotation as a reader (and a screen reader) names it: its time or stretch and its words.
fn annotation_name(annotation: &crate::store::Annotation) -> String {
    match annotation.end_s {
        Some(end_s) => format!(
            "Annotation at {:.1} – {end_s:.1} s: {}",
            annotation.start_s, annotation.text
        ),
        None => format!("Annotation at {:.1} s: {}", annotation.start_s, annotation.text),
    }
}

/// A marker or an annotation with a label in the strip.
struct StripMark<'a> {
    /// Where its label is wanted (a marker's time, an annotation's start), s.
    time_s: f64,
    /// Its words, whole (the hover).
    text: &'a str,
    /// Its accessible name ([`marker_name`], [`annotation_name`]).
    name: String,
    /// Its label's widget id.
    key: (&'static str, i64),
    /// An annotation's end (its start when it marks an instant); `None` for a marker.
    end_s: Option<f64>,
}

/// Markers' lines and annotations' stretches (a bar at the strip's foot), and their labels laid out together in
/// the label strip so that none overlaps another or a window's label: staggered on the strip's first
/// `label_rows_for_markers` rows, the rest gathered into "+N" chips (on the row below) whose hover lists each in
/// full. Each label and chip carries its marks' full text as its accessible label ([`marker_name`],
/// [`annotation_name`]).
fn marks_ui(
    ui: &egui::Ui,
    snapshot: &Snapshot,
    layout: Layout,
    label_rows: &mut LabelRows,
    label_rows_for_markers: usize,
) {
    let painter = ui.painter_at(layout.plot);
    let in_view = |t: f64| (layout.from_s..=layout.to_s).contains(&t);
    let protocol = crate::review::markers::PROTOCOL_MARKER_KIND;
    let said_by_marker = |event: &crate::store::Event| {
        event.kind == protocol
            && snapshot
                .events
                .iter()
                .any(|other| other.kind != protocol && (other.time_s - event.time_s).abs() < MARK_DUPLICATE_S)
    };
    let annotations = snapshot.annotations.iter().filter(|a| {
        let end = a.end_s.unwrap_or(a.start_s);
        end >= layout.from_s && a.start_s <= layout.to_s
    });
    let mut shown: Vec<StripMark> = snapshot
        .events
        .iter()
        .filter(|e| in_view(e.time_s) && !said_by_marker(e))
        .map(|e| StripMark {
            time_s: e.time_s,
            text: &e.text,
            name: marker_name(e),
            key: ("marker-label", e.id),
            end_s: None,
        })
        .chain(annotations.map(|a| StripMark {
            time_s: a.start_s,
            text: &a.text,
            name: annotation_name(a),
            key: ("annotation-label", a.id),
            end_s: Some(a.end_s.unwrap_or(a.start_s)),
        }))
        .collect();
    shown.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    let mut galleys = Vec::with_capacity(shown.len());
    let mut wanted = Vec::with_capacity(shown.len());
    for mark in &shown {
        let x = layout.x_of(mark.time_s);
        match mark.end_s {
            // A marker's line runs through the lanes; an annotation's stretch is a bar at the foot of the strip.
            None => {
                painter.add(Shape::dashed_line(
                    &[pos2(x, layout.plot.top()), pos2(x, layout.plot.bottom())],
                    Stroke::new(1.0, theme::REVIEW_MARK),
                    6.0,
                    4.0,
                ));
            }
            Some(end_s) => {
                let bar_y = label_rows.y_of(label_rows_for_markers + 1);
                painter.rect_filled(
                    Rect::from_x_y_ranges(x..=layout.x_of(end_s).max(x + 3.0), bar_y - 1.0..=bar_y + 1.5),
                    0.0,
                    theme::REVIEW_MARK,
                );
            }
        }
        let text = if mark.text.chars().count() > MARK_LABEL_CHARS {
            let short: String = mark.text.chars().take(MARK_LABEL_CHARS - 1).collect();
            format!("{short}…")
        } else {
            mark.text.to_owned()
        };
        let (x, galley) = strip_label(&painter, text, theme::REVIEW_MARK, x + 3.0, layout.plot);
        wanted.push(Wanted {
            x,
            width: galley.size().x,
        });
        galleys.push(galley);
    }
    let chip_text = |n: usize| format!("+{n}");
    let chip_width = |n: usize| {
        painter
            .layout_no_wrap(chip_text(n), theme::small_font(), theme::TEXT)
            .size()
            .x
            + 2.0 * CHIP_MARGIN
    };
    let placed = label_rows::place_markers(label_rows, &wanted, label_rows_for_markers, chip_width);
    for ((mark, galley), (label, row)) in shown.iter().zip(galleys).zip(wanted.iter().zip(&placed.rows)) {
        let Some(row) = *row else {
            continue;
        };
        let rect = Rect::from_min_size(pos2(label.x, label_rows.y_of(row)), galley.size());
        painter.rect_filled(rect.expand(1.0), 2.0, theme::BACKGROUND);
        painter.galley(rect.min, galley, theme::REVIEW_MARK);
        ui.interact(rect, ui.scope_id().with(mark.key), Sense::hover())
            .on_hover_text(mark.text)
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &mark.name));
    }
    for chip in &placed.chips {
        let rect = Rect::from_min_size(
            pos2(chip.x, label_rows.y_of(chip.row)),
            vec2(
                chip.width,
                label_rows.y_of(chip.row + 1) - label_rows.y_of(chip.row) - 1.0,
            ),
        );
        painter.rect_filled(rect, 3.0, theme::REVIEW_MARK);
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            chip_text(chip.markers.len()),
            theme::small_font(),
            theme::BACKGROUND,
        );
        let names: Vec<&str> = chip.markers.iter().map(|&i| shown[i].name.as_str()).collect();
        let name = match names.len() {
            1 => format!("1 more label: {}", names[0]),
            n => format!("{n} more labels: {}", names.join("; ")),
        };
        let first = shown[chip.markers[0]].key;
        ui.interact(rect, ui.scope_id().with(("marker-chip", first)), Sense::hover())
            .on_hover_text(names.join("\n"))
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &name));
    }
}
