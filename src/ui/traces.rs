//! The stacked scrolling traces sharing one time axis: ECG; Pa and Pd overlaid; Doppler velocity; LV pressure;
//! LV volume. Each strip draws the min and max of its samples per pixel column (read from the ring buffers on a
//! grid fixed to absolute sample indices), so the drawing cost depends on the window width, not the sample rate,
//! and a scrolling trace does not shimmer.

use egui::{Align, Align2, Color32, Layout, Mesh, Rect, RichText, Sense, Stroke, UiBuilder, pos2};

use super::action::Action;
use crate::acquisition::{LiveSource, LiveState};
use crate::model::SignalKind;

use super::live::{LiveView, find_channel};
use super::theme;

/// One horizontal strip of the trace stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strip {
    /// The ECG lead.
    Ecg,
    /// Aortic (Pa) and distal coronary (Pd) pressure, overlaid.
    Pressure,
    /// Doppler instantaneous peak velocity.
    Velocity,
    /// Left-ventricular pressure.
    LvPressure,
    /// Left-ventricular volume.
    LvVolume,
}

/// A vertical scale, in the strip's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YRange {
    /// Value at the bottom of the strip.
    pub min: f32,
    /// Value at the top of the strip.
    pub max: f32,
}

impl YRange {
    const fn new(min: f32, max: f32) -> YRange {
        YRange { min, max }
    }

    /// How the range is offered in the scale menu, e.g. `0–150`.
    pub fn label(self) -> String {
        format!("{}–{}", self.min, self.max)
    }

    /// A range with round limits that holds `[low, high]` with a little headroom (the "Auto" button).
    pub fn fitting(low: f32, high: f32) -> Option<YRange> {
        if !(low.is_finite() && high.is_finite()) || high < low {
            return None;
        }
        let span = (high - low).max(1e-3 * high.abs().max(1.0));
        let step = nice_step(span * 1.1 / 4.0);
        let min = ((low - 0.05 * span) / step).floor() * step;
        let max = ((high + 0.05 * span) / step).ceil() * step;
        Some(YRange { min, max })
    }
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `raw`.
fn nice_step(raw: f32) -> f32 {
    let magnitude = 10f32.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw)
        .unwrap_or(raw)
}

impl Strip {
    /// Every strip, top to bottom.
    pub const ALL: [Strip; 5] = [
        Strip::Ecg,
        Strip::Pressure,
        Strip::Velocity,
        Strip::LvPressure,
        Strip::LvVolume,
    ];

    /// The signals drawn in this strip (the first is drawn first, the others over it).
    pub fn signals(self) -> &'static [SignalKind] {
        match self {
            Strip::Ecg => &[SignalKind::Ecg],
            Strip::Pressure => &[SignalKind::Pa, SignalKind::Pd],
            Strip::Velocity => &[SignalKind::Ipv],
            Strip::LvPressure => &[SignalKind::Lvp],
            Strip::LvVolume => &[SignalKind::Lvv],
        }
    }

    /// The strip's title as the user reads it; for one signal its usual name.
    pub fn title(self) -> &'static str {
        match self {
            Strip::Ecg => "ECG",
            Strip::Pressure => "Pa / Pd",
            Strip::Velocity => "Doppler APV",
            Strip::LvPressure => "LV pressure",
            Strip::LvVolume => "LV volume",
        }
    }

    /// Unit of the vertical axis.
    pub fn unit(self) -> &'static str {
        self.signals()[0].unit()
    }

    /// The scales offered in the strip's menu.
    pub fn presets(self) -> &'static [YRange] {
        const ECG: [YRange; 3] = [
            YRange::new(-0.5, 1.5),
            YRange::new(-1.0, 2.0),
            YRange::new(-2.0, 4.0),
        ];
        const PRESSURE: [YRange; 4] = [
            YRange::new(0.0, 100.0),
            YRange::new(0.0, 150.0),
            YRange::new(0.0, 200.0),
            YRange::new(0.0, 250.0),
        ];
        const VELOCITY: [YRange; 4] = [
            YRange::new(0.0, 50.0),
            YRange::new(0.0, 100.0),
            YRange::new(0.0, 150.0),
            YRange::new(0.0, 200.0),
        ];
        const VOLUME: [YRange; 4] = [
            YRange::new(0.0, 150.0),
            YRange::new(50.0, 250.0),
            YRange::new(0.0, 300.0),
            YRange::new(100.0, 400.0),
        ];
        match self {
            Strip::Ecg => &ECG,
            Strip::Pressure | Strip::LvPressure => &PRESSURE,
            Strip::Velocity => &VELOCITY,
            Strip::LvVolume => &VOLUME,
        }
    }

    /// The scale a new live screen starts with.
    pub fn default_range(self) -> YRange {
        // The second preset suits most patients; the dilated shock ventricle needs the wider volume scale.
        self.presets()[if self == Strip::LvVolume { 2 } else { 1 }]
    }
}

/// The clock of the time axis: the newest sample of the source delivering the first strip's signals.
struct TimeBase {
    sample_rate_hz: f64,
    end_sample: u64,
}

/// How a source's samples map onto the drawing columns of the current sweep.
struct ColumnGrid {
    samples_per_column: f64,
    /// Absolute column index (on the grid of [`crate::acquisition::RingBuffer::min_max_grid`]) of the right edge.
    end_column: u64,
    num_columns: usize,
}

impl ColumnGrid {
    fn new(sweep_s: f64, sample_rate_hz: f64, end_sample: u64, num_columns: usize) -> ColumnGrid {
        let samples_per_column = sweep_s * sample_rate_hz / num_columns as f64;
        let end_column = (end_sample as f64 / samples_per_column).ceil() as u64;
        ColumnGrid {
            samples_per_column,
            end_column,
            num_columns,
        }
    }

    /// Min/max per column of one channel; columns before the first sample are `None`, so the newest sample is
    /// always at the right edge.
    fn columns(&self, source: &LiveSource, channel: usize) -> Vec<Option<(f32, f32)>> {
        let Some(ring) = source.channels.get(channel) else {
            return vec![None; self.num_columns];
        };
        let first = self.end_column as i64 - self.num_columns as i64;
        let num_before = (-first).max(0) as usize;
        let mut columns = vec![None; num_before.min(self.num_columns)];
        columns.extend(ring.min_max_grid(
            first.max(0) as u64,
            self.samples_per_column,
            self.num_columns - columns.len(),
        ));
        columns
    }

    /// Seconds at the left and right edges.
    fn span_s(&self, sample_rate_hz: f64) -> (f64, f64) {
        let seconds_per_column = self.samples_per_column / sample_rate_hz;
        let right = self.end_column as f64 * seconds_per_column;
        (right - self.num_columns as f64 * seconds_per_column, right)
    }
}

/// Draws the strips and the time axis into the whole of `ui`'s available rectangle.
pub fn traces_ui(ui: &mut egui::Ui, view: &LiveView, state: &LiveState, actions: &mut Vec<Action>) {
    let area = ui.available_rect_before_wrap();
    let summary_response = ui.interact(area, ui.scope_id().with("traces"), Sense::hover());
    let plot_left = area.left() + theme::Y_AXIS_WIDTH;
    let pixels_per_point = ui.pixels_per_point();
    let num_columns = (((area.right() - plot_left) * pixels_per_point).floor() as usize).max(1);
    let column_width = 1.0 / pixels_per_point;
    let num_strips = Strip::ALL.len() as f32;
    let strip_height =
        (area.height() - theme::TIME_AXIS_HEIGHT - theme::STRIP_GAP * (num_strips - 1.0)) / num_strips;
    let time_base = Strip::ALL
        .iter()
        .flat_map(|strip| strip.signals())
        .find_map(|&kind| {
            let (source, _) = find_channel(state, kind)?;
            let live = &state.sources[source];
            Some(TimeBase {
                sample_rate_hz: live.spec.sample_rate_hz,
                end_sample: live.end_sample(),
            })
        });
    let time_grid = time_base.as_ref().map(|base| {
        let grid = ColumnGrid::new(view.sweep_s, base.sample_rate_hz, base.end_sample, num_columns);
        (grid.span_s(base.sample_rate_hz), tick_step_s(view.sweep_s))
    });
    let x_of_time = |t: f64, (left_s, right_s): (f64, f64)| {
        plot_left + ((t - left_s) / (right_s - left_s)) as f32 * num_columns as f32 * column_width
    };

    for (position, &strip) in Strip::ALL.iter().enumerate() {
        let top = area.top() + position as f32 * (strip_height + theme::STRIP_GAP);
        let (header, rect) = title_band_and_plot(
            Rect::from_min_max(pos2(plot_left, top), pos2(area.right(), top + strip_height)),
            theme::STRIP_TITLE_HEIGHT,
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, theme::PLOT_BACKGROUND);
        let range = view.range(strip);
        let y_of = |value: f32| rect.bottom() - (value - range.min) / (range.max - range.min) * rect.height();
        for quarter in 1..4 {
            let y = rect.top() + rect.height() * quarter as f32 / 4.0;
            painter.line_segment(
                [pos2(rect.left(), y), pos2(rect.right(), y)],
                Stroke::new(1.0, theme::GRID),
            );
        }
        if let Some((span, step_s)) = time_grid {
            for t in ticks(span, step_s) {
                let x = x_of_time(t, span);
                painter.line_segment(
                    [pos2(x, rect.top()), pos2(x, rect.bottom())],
                    Stroke::new(1.0, theme::GRID),
                );
            }
        }
        let mut visible: Option<(f32, f32)> = None;
        let mut num_missing = 0;
        for &kind in strip.signals() {
            let Some((source, channel)) = find_channel(state, kind) else {
                num_missing += 1;
                continue;
            };
            let live = &state.sources[source];
            let grid = ColumnGrid::new(
                view.sweep_s,
                live.spec.sample_rate_hz,
                live.end_sample(),
                num_columns,
            );
            let columns = grid.columns(live, channel);
            for &(low, high) in columns.iter().flatten() {
                visible = Some(visible.map_or((low, high), |(lo, hi)| (lo.min(low), hi.max(high))));
            }
            let x_of_column = |column: usize| plot_left + (column as f32 + 0.5) * column_width;
            let colour = theme::signal_colour(kind);
            painter.add(envelope_mesh(&columns, x_of_column, column_width, y_of, colour));
        }
        if num_missing == strip.signals().len() {
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                format!("no {} channel", strip.title()),
                theme::small_font(),
                theme::TEXT_DIM,
            );
        }
        let border = if view.frozen { theme::FROZEN } else { theme::BORDER };
        painter.rect_stroke(rect, 0.0, Stroke::new(1.0, border), egui::StrokeKind::Inside);
        y_axis_ui(ui, rect, range);
        // The plot as a reader (and a screen reader) finds it: the strip, its scale and unit.
        ui.interact(rect, ui.scope_id().with(("strip-plot", strip)), Sense::hover())
            .widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::Image,
                    true,
                    format!("{} plot, {} {}", strip.title(), range.label(), strip.unit()),
                )
            });
        strip_header_ui(ui, strip, header, range, visible, actions);
    }

    let axis_rect = Rect::from_min_max(
        pos2(plot_left, area.bottom() - theme::TIME_AXIS_HEIGHT),
        pos2(area.right(), area.bottom()),
    );
    if let Some((span, step_s)) = time_grid {
        let painter = ui.painter_at(axis_rect.expand2(egui::vec2(theme::Y_AXIS_WIDTH, 0.0)));
        for t in ticks(span, step_s) {
            let x = x_of_time(t, span);
            painter.line_segment(
                [pos2(x, axis_rect.top()), pos2(x, axis_rect.top() + 4.0)],
                Stroke::new(1.0, theme::BORDER),
            );
            time_label_ui(ui, &painter, pos2(x, axis_rect.top() + 5.0), clock_label(t));
        }
    }
    let newest_s = time_base
        .as_ref()
        .map(|base| base.end_sample as f64 / base.sample_rate_hz);
    summary_response.widget_info(|| {
        let label = match newest_s {
            Some(t) => format!("Traces: {:.0} s sweep ending at {t:.2} s", view.sweep_s),
            None => format!("Traces: {:.0} s sweep, no signal", view.sweep_s),
        };
        egui::WidgetInfo::labeled(egui::Role::Image, true, label)
    });
    ui.advance_cursor_after_rect(area);
}

/// A time axis's label centred under its tick at `at` (its top centre), drawn only when it fits wholly in the
/// painter's clip (a label cut by the edge reads as another time: "1:3" for 1:30), named as its accessible label
/// ("Time axis 1:30"). Every time axis, live and in review, labels its ticks through this.
pub fn time_label_ui(ui: &egui::Ui, painter: &egui::Painter, at: egui::Pos2, text: String) {
    let galley = painter.layout_no_wrap(text, theme::small_font(), theme::TEXT_DIM);
    let rect = Align2::CENTER_TOP.anchor_size(at, galley.size());
    let clip = painter.clip_rect();
    if rect.left() < clip.left() || rect.right() > clip.right() {
        return;
    }
    let name = format!("Time axis {}", galley.text());
    painter.galley(rect.min, galley, theme::TEXT_DIM);
    ui.interact(
        rect,
        ui.scope_id().with(("time-label", name.clone())),
        Sense::hover(),
    )
    .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &name));
}

/// Seconds between labelled ticks for a sweep.
fn tick_step_s(sweep_s: f64) -> f64 {
    if sweep_s > 12.0 { 2.0 } else { 1.0 }
}

/// Multiples of `step_s` within `[left_s, right_s]`.
fn ticks((left_s, right_s): (f64, f64), step_s: f64) -> impl Iterator<Item = f64> {
    let first = (left_s / step_s).ceil() as i64;
    let last = (right_s / step_s).floor() as i64;
    (first..=last)
        .map(move |k| k as f64 * step_s)
        .filter(|&t| t >= 0.0)
}

/// `m:ss` of a time since the source started.
fn clock_label(t: f64) -> String {
    let seconds = t.round() as u64;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The mesh of one trace (also drawn by the review screen): one opaque quad per pixel column spanning the column's min to max, stretched to meet the
/// previous column so the trace stays connected, thickened by the trace width; a gap (a `None` column) breaks it.
/// Built directly as a mesh (four vertices per column, no path tessellation), the cheapest way to draw a min/max
/// envelope.
pub fn envelope_mesh(
    columns: &[Option<(f32, f32)>],
    x_of_column: impl Fn(usize) -> f32,
    column_width: f32,
    y_of: impl Fn(f32) -> f32,
    colour: Color32,
) -> Mesh {
    let half_thickness = theme::TRACE_WIDTH / 2.0;
    // Columns overlap sideways by the trace width, so flat and steep parts look equally thick.
    let half_width = column_width.max(theme::TRACE_WIDTH) / 2.0;
    let mut mesh = Mesh::default();
    mesh.reserve_vertices(4 * columns.len());
    mesh.reserve_triangles(2 * columns.len());
    let mut previous: Option<(f32, f32)> = None;
    for (column, value) in columns.iter().enumerate() {
        let Some((low, high)) = *value else {
            previous = None;
            continue;
        };
        let (y_low, y_high) = (y_of(low), y_of(high));
        let (mut top, mut bottom) = (y_low.min(y_high), y_low.max(y_high));
        if let Some((previous_top, previous_bottom)) = previous {
            top = top.min(previous_bottom);
            bottom = bottom.max(previous_top);
        }
        previous = Some((y_low.min(y_high), y_low.max(y_high)));
        let x = x_of_column(column);
        let rect = Rect::from_min_max(
            pos2(x - half_width, top - half_thickness),
            pos2(x + half_width, bottom + half_thickness),
        );
        mesh.add_colored_rect(rect, colour);
    }
    mesh
}

/// The scale limits left of a strip.
fn y_axis_ui(ui: &egui::Ui, rect: Rect, range: YRange) {
    let painter = ui.painter();
    let x = rect.left() - 4.0;
    let font = theme::small_font();
    painter.text(
        pos2(x, rect.top()),
        Align2::RIGHT_TOP,
        format_tick(range.max),
        font.clone(),
        theme::TEXT_DIM,
    );
    painter.text(
        pos2(x, rect.center().y),
        Align2::RIGHT_CENTER,
        format_tick((range.min + range.max) / 2.0),
        font.clone(),
        theme::TEXT_DIM,
    );
    painter.text(
        pos2(x, rect.bottom()),
        Align2::RIGHT_BOTTOM,
        format_tick(range.min),
        font,
        theme::TEXT_DIM,
    );
}

/// An axis limit or tick as printed ([`crate::analysis::format::tick`]).
pub fn format_tick(value: f32) -> String {
    crate::analysis::format::tick(f64::from(value))
}

/// A strip's band for its title (`title_height` high, at the top) and its plot under it: every strip, live and in
/// review, is laid out by this, so a trace at the top of its scale never runs under its title.
pub fn title_band_and_plot(strip: Rect, title_height: f32) -> (Rect, Rect) {
    let title_height = title_height.clamp(0.0, strip.height());
    let split = strip.top() + title_height;
    (
        Rect::from_x_y_ranges(strip.x_range(), strip.top()..=split),
        Rect::from_x_y_ranges(strip.x_range(), split..=strip.bottom()),
    )
}

/// The strip's title (each signal in its colour) and its scale menu with an "Auto" button, in the strip's title
/// band (`band`, above its plot).
fn strip_header_ui(
    ui: &mut egui::Ui,
    strip: Strip,
    band: Rect,
    range: YRange,
    visible: Option<(f32, f32)>,
    actions: &mut Vec<Action>,
) {
    let header = band.shrink2(egui::vec2(6.0, 0.0));
    let title_rect = Rect::from_min_size(header.min, egui::vec2(header.width() * 0.5, header.height()));
    ui.scope_builder(
        UiBuilder::new()
            .max_rect(title_rect)
            .layout(Layout::left_to_right(Align::Center)),
        |ui| {
            ui.spacing_mut().item_spacing.x = 4.0;
            for (position, &kind) in strip.signals().iter().enumerate() {
                if position > 0 {
                    ui.label(RichText::new("/").heading().color(theme::TEXT_DIM));
                }
                let name = if strip.signals().len() > 1 {
                    kind_label(kind)
                } else {
                    strip.title()
                };
                ui.label(RichText::new(name).heading().color(theme::signal_colour(kind)));
            }
            ui.label(RichText::new(strip.unit()).small().color(theme::TEXT_DIM));
        },
    );
    ui.scope_builder(
        UiBuilder::new()
            .max_rect(header)
            .layout(Layout::right_to_left(Align::Center)),
        |ui| {
            ui.spacing_mut().interact_size.y = 22.0;
            let auto = ui
                .small_button("Auto")
                .on_hover_text(format!("Fit the {} scale to what is shown", strip.title()));
            if auto.clicked()
                && let Some(fitted) = visible.and_then(|(low, high)| YRange::fitting(low, high))
            {
                actions.push(Action::SetRange(strip, fitted));
            }
            egui::ComboBox::new(
                ("scale", strip),
                RichText::new(format!("{} scale", strip.title())).small(),
            )
            .selected_text(RichText::new(range.label()).small())
            .width(84.0)
            .show_ui(ui, |ui| {
                for &preset in strip.presets() {
                    if ui.selectable_label(preset == range, preset.label()).clicked() && preset != range {
                        actions.push(Action::SetRange(strip, preset));
                    }
                }
            });
        },
    );
}

/// Short name of a signal in an overlaid strip.
fn kind_label(kind: SignalKind) -> &'static str {
    match kind {
        SignalKind::Ecg => "ECG",
        SignalKind::Pa => "Pa",
        SignalKind::Pd => "Pd",
        SignalKind::Ipv => "APV",
        SignalKind::Lvp => "LVP",
        SignalKind::Lvv => "LVV",
        SignalKind::EcmoFlow => "ECMO flow",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_ranges_are_round_and_hold_the_data() {
        for (low, high) in [(62.3, 118.9), (-0.31, 1.27), (0.0, 4000.0), (151.0, 152.0)] {
            let range = YRange::fitting(low, high).unwrap();
            assert!(
                range.min <= low && range.max >= high,
                "{range:?} for {low}..{high}"
            );
            // The data fill at least half of the strip.
            assert!(
                (high - low) / (range.max - range.min) >= 0.5,
                "{range:?} for {low}..{high}"
            );
            // Round limits: whole multiples of a tenth of the range's order of magnitude.
            let unit = 10f32.powf((range.max - range.min).log10().floor() - 1.0);
            for limit in [range.min, range.max] {
                assert!(
                    ((limit / unit).round() - limit / unit).abs() < 1e-3,
                    "{range:?} not round"
                );
            }
        }
        let flat = YRange::fitting(80.0, 80.0).unwrap();
        assert!(flat.min < 80.0 && flat.max > 80.0, "{flat:?}");
        assert_eq!(YRange::fitting(f32::NAN, 1.0), None);
    }

    #[test]
    fn envelope_breaks_at_gaps_and_joins_columns_continuously() {
        let columns = [
            Some((0.0, 1.0)),
            Some((10.0, 12.0)),
            None,
            Some((5.0, 5.0)),
            Some((4.0, 4.5)),
        ];
        let mesh = envelope_mesh(&columns, |c| c as f32 * 10.0, 1.0, |v| v, Color32::WHITE);
        // One quad per column with samples.
        assert_eq!((mesh.vertices.len(), mesh.indices.len()), (16, 24));
        let spans: Vec<(f32, f32)> = mesh
            .vertices
            .chunks(4)
            .map(|quad| {
                let ys = quad.iter().map(|v| v.pos.y);
                (
                    ys.clone().fold(f32::INFINITY, f32::min),
                    ys.fold(f32::NEG_INFINITY, f32::max),
                )
            })
            .collect();
        let h = theme::TRACE_WIDTH / 2.0;
        // Column 1 reaches down to column 0's top (1.0) so the jump is drawn; after the gap, column 3 does not
        // reach back; column 4 reaches up to column 3 (5.0).
        assert_eq!(
            spans,
            vec![
                (0.0 - h, 1.0 + h),
                (1.0 - h, 12.0 + h),
                (5.0 - h, 5.0 + h),
                (4.0 - h, 5.0 + h)
            ]
        );
    }

    #[test]
    fn ticks_fall_on_whole_steps_inside_the_span() {
        assert_eq!(
            ticks((8.3, 12.3), 1.0).collect::<Vec<_>>(),
            vec![9.0, 10.0, 11.0, 12.0]
        );
        assert_eq!(ticks((-3.0, 3.0), 2.0).collect::<Vec<_>>(), vec![0.0, 2.0]);
        assert_eq!(clock_label(75.0), "1:15");
    }
}
