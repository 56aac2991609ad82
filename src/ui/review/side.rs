//! The side panel of the review screen: which window is analysed and its key values, the per-beat table (as
//! LabChart users expect beside the traces), the selected beat's verdict, moving or adding a window, the
//! occlusion beats of a preload reduction chosen by dragging across them or by clicking their loops (the loop
//! family with the chosen end-systolic points and the fitted ESPVR; Ees with its 95 % interval, V0, r² and n
//! follow live), and annotations at the view.

use egui::{Color32, RichText, Sense, Stroke, pos2, vec2};

use super::traces::window_label;
use super::{OcclusionChoice, ReasonDialog, ReviewAction, ReviewUi};
use crate::analysis::endpoints::{Unit, choices_in_words};
use crate::analysis::format;
use crate::analysis::pipeline::Report;
use crate::analysis::pv::relations::EspvrFit;
use crate::analysis::settings::{CdfrReference, MinimalResistanceChoice};
use crate::review::analysis::{State, WindowKind, case_settings, window_kind, window_settings};
use crate::review::beat_table::{COLUMNS, rows};
use crate::review::session::{CaseChoices, Edit, Snapshot};
use crate::review::waveforms::{BeatLoop, Waveforms, padded_range};
use crate::ui::{keys, theme};

/// Columns of the on-screen table for each kind of window (positions in [`COLUMNS`]).
fn screen_columns(kind: Option<WindowKind>) -> &'static [usize] {
    match kind {
        Some(kind) if kind.is_coronary() => &[0, 2, 3, 4, 5],
        _ => &[5, 6, 7, 8, 11, 12],
    }
}

pub(super) fn side_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    snapshot: &Snapshot,
    waveforms: Option<&Waveforms>,
    busy: bool,
    actions: &mut Vec<ReviewAction>,
) {
    ui.heading("Analysis windows");
    if snapshot.analysis.windows.is_empty() {
        ui.label("No analysis windows yet: add one over the part of the recording shown.");
    }
    let selected = state.selected_window.and_then(|id| snapshot.window(id)).cloned();
    egui::ComboBox::from_id_salt("review-window")
        .width(ui.available_width() - 10.0)
        .selected_text(selected.as_ref().map_or("choose a window".into(), window_label))
        .show_ui(ui, |ui| {
            for (window, _, _) in &snapshot.analysis.windows {
                if ui
                    .selectable_label(state.selected_window == Some(window.id), window_label(window))
                    .clicked()
                {
                    state.selected_window = Some(window.id);
                    state.selected_beat = None;
                    state.occlusion = None;
                    let margin = (window.end_s - window.start_s) * 0.05;
                    let duration = snapshot.summary.duration_s;
                    state.set_view(window.start_s - margin, window.end_s + margin, duration);
                }
            }
        });
    window_tools_ui(ui, state, snapshot, busy);
    choices_ui(ui, state, snapshot, busy);
    let Some(window) = selected else {
        annotation_ui(ui, state, snapshot, busy, actions);
        return;
    };
    let kind = window_kind(&window);
    let Some(report) = snapshot.analysis.reports.get(&window.id) else {
        ui.label("Not analysed yet.");
        return;
    };
    summary_ui(ui, report, kind);
    if kind == Some(WindowKind::PvPreloadReduction) {
        let loops = waveforms
            .and_then(|w| w.occlusion_loops.get(&window.id))
            .map(Vec::as_slice);
        occlusion_ui(ui, state, &window, report, loops, busy, actions);
    }
    beat_actions_ui(ui, state, snapshot, window.id, busy);
    ui.separator();
    beat_table_ui(ui, state, snapshot, window.id, report, kind);
    annotation_ui(ui, state, snapshot, busy, actions);
}

/// The case's analysis choices (CDFR reference, minimal-MR rule, vessel diameter, MVO2 constants): a change goes
/// through the reason dialog; the session refuses, with the reason, a choice that cannot apply to the case.
fn choices_ui(ui: &mut egui::Ui, state: &mut ReviewUi, snapshot: &Snapshot, busy: bool) {
    let settings = case_settings(&snapshot.analysis);
    let current = CaseChoices::of(&settings);
    let ask = |edit: CaseChoices, title: String, state: &mut ReviewUi| {
        state.dialog = Some(ReasonDialog {
            edit: Edit::SetChoices(edit),
            title,
            reason: String::new(),
            warning: None,
        });
    };
    egui::CollapsingHeader::new("Analysis choices of this case")
        .id_salt("case-choices")
        .default_open(false)
        .show(ui, |ui| {
            ui.label(RichText::new(choices_in_words(&settings)).color(theme::TEXT_DIM));
            ui.add_enabled_ui(!busy, |ui| {
                egui::ComboBox::from_label("CDFR reference")
                    .selected_text(current.cdfr_reference.label())
                    .show_ui(ui, |ui| {
                        for reference in [CdfrReference::EcmoAloneBaseline, CdfrReference::DeviceStandby] {
                            if ui
                                .selectable_label(current.cdfr_reference == reference, reference.label())
                                .clicked()
                                && reference != current.cdfr_reference
                            {
                                let title = format!("CDFR reference: {reference:?}");
                                ask(
                                    CaseChoices {
                                        cdfr_reference: reference,
                                        ..current.clone()
                                    },
                                    title,
                                    state,
                                );
                            }
                        }
                    });
                egui::ComboBox::from_label("Minimal MR rule")
                    .selected_text(current.minimal_resistance.label())
                    .show_ui(ui, |ui| {
                        for rule in MinimalResistanceChoice::ALL {
                            if ui
                                .selectable_label(current.minimal_resistance == rule, rule.label())
                                .clicked()
                                && rule != current.minimal_resistance
                            {
                                ask(
                                    CaseChoices {
                                        minimal_resistance: rule,
                                        ..current.clone()
                                    },
                                    format!("Minimal MR rule: {}", rule.label()),
                                    state,
                                );
                            }
                        }
                    });
                ui.horizontal(|ui| {
                    let id = ui.scope_id().with("vessel-diameter");
                    let mut text: String = ui.data_mut(|d| {
                        d.get_temp(id).unwrap_or_else(|| {
                            current
                                .vessel_diameter_cm
                                .map_or_else(String::new, |d| format!("{d:.2}"))
                        })
                    });
                    ui.label("Vessel diameter, cm");
                    ui.add(egui::TextEdit::singleline(&mut text).desired_width(50.0));
                    ui.data_mut(|d| d.insert_temp(id, text.clone()));
                    if ui.button("Set diameter…").clicked() {
                        let diameter = text.trim().replace(',', ".").parse::<f64>().ok();
                        ask(
                            CaseChoices {
                                vessel_diameter_cm: diameter,
                                ..current.clone()
                            },
                            match diameter {
                                Some(d) => format!("Vessel diameter {d} cm"),
                                None => "No vessel diameter".to_owned(),
                            },
                            state,
                        );
                    }
                });
                mvo2_ui(ui, &current, ask, state);
            });
        });
}

/// The MVO2 constants of the case (Suga: MVO2 = (a PVA + b) x HR): slope a, intercept b and their source, typed
/// and set through the reason dialog, or cleared. Text that is not a number is sent as such (NaN) so the session
/// refuses it with the reason, as it refuses a non-physical slope or intercept or a missing source.
fn mvo2_ui(
    ui: &mut egui::Ui,
    current: &CaseChoices,
    ask: impl Fn(CaseChoices, String, &mut ReviewUi),
    state: &mut ReviewUi,
) {
    let id = ui.scope_id().with("mvo2-constants");
    let mut texts: [String; 3] = ui.data_mut(|d| {
        d.get_temp(id).unwrap_or_else(|| match &current.mvo2 {
            Some(m) => [
                m.ml_o2_per_mmhg_ml.to_string(),
                m.ml_o2_per_beat.to_string(),
                m.source.clone(),
            ],
            None => Default::default(),
        })
    });
    ui.label("MVO2 constants (Suga: MVO2 = (a PVA + b) x HR)");
    egui::Grid::new("mvo2-constants").num_columns(2).show(ui, |ui| {
        for (text, (name, hint)) in texts.iter_mut().zip([
            ("MVO2 slope a, mL O2/(mmHg.mL)", "e.g. 1.8e-5"),
            ("MVO2 intercept b, mL O2/beat", "e.g. 0.0024"),
            ("MVO2 constants source", "publication, species"),
        ]) {
            let label = ui.label(name);
            ui.add(
                egui::TextEdit::singleline(text)
                    .desired_width(110.0)
                    .hint_text(hint),
            )
            .labelled_by(label.id);
            ui.end_row();
        }
    });
    ui.data_mut(|d| d.insert_temp(id, texts.clone()));
    ui.horizontal(|ui| {
        if ui.button("Set MVO2 constants…").clicked() {
            let number = |text: &str| text.trim().replace(',', ".").parse::<f64>().unwrap_or(f64::NAN);
            let constants = crate::analysis::settings::Mvo2Constants {
                ml_o2_per_mmhg_ml: number(&texts[0]),
                ml_o2_per_beat: number(&texts[1]),
                source: texts[2].trim().to_owned(),
            };
            let title = format!("MVO2 constants: {}", constants.describe());
            ask(
                CaseChoices {
                    mvo2: Some(constants),
                    ..current.clone()
                },
                title,
                state,
            );
        }
        if current.mvo2.is_some() && ui.button("No MVO2 estimate…").clicked() {
            ask(
                CaseChoices {
                    mvo2: None,
                    ..current.clone()
                },
                "No MVO2 constants (no MVO2 estimate)".to_owned(),
                state,
            );
        }
    });
}

/// Moving the selected window to the view, adding a window over the view.
fn window_tools_ui(ui: &mut egui::Ui, state: &mut ReviewUi, snapshot: &Snapshot, busy: bool) {
    ui.horizontal_wrapped(|ui| {
        if let Some(window) = state.selected_window.and_then(|id| snapshot.window(id))
            && ui
                .add_enabled(!busy, egui::Button::new("Move window to view"))
                .on_hover_text("Or drag the window's edges on the traces")
                .clicked()
        {
            state.dialog = Some(ReasonDialog {
                edit: Edit::MoveWindow {
                    window_id: window.id,
                    start_s: state.from_s,
                    end_s: state.to_s,
                },
                title: format!(
                    "Move {} to {:.2} – {:.2} s",
                    window_label(window),
                    state.from_s,
                    state.to_s
                ),
                reason: String::new(),
                warning: super::traces::shrink_warning(snapshot, window, state.from_s, state.to_s),
            });
        }
        ui.menu_button("Add window over view", |ui| {
            for state_kind in State::ALL {
                // A window at minimum support exists only after unloading.
                for kind in WindowKind::ALL.into_iter().filter(|kind| {
                    state_kind == State::Post || *kind != WindowKind::CoronaryRestMinimumSupport
                }) {
                    let label = format!("{} {}", state_kind.key(), kind.label());
                    if ui.add_enabled(!busy, egui::Button::new(&label)).clicked() {
                        state.dialog = Some(ReasonDialog {
                            edit: Edit::AddWindow {
                                state: state_kind,
                                kind,
                                start_s: state.from_s,
                                end_s: state.to_s,
                            },
                            title: format!(
                                "Add a {label} window at {:.2} – {:.2} s",
                                state.from_s, state.to_s
                            ),
                            reason: String::new(),
                            warning: None,
                        });
                        ui.close();
                    }
                }
            }
        });
    });
}

/// The window's key values, each with its method on hover.
fn summary_ui(ui: &mut egui::Ui, report: &Report, kind: Option<WindowKind>) {
    let summary = &report.summary;
    ui.label(format!(
        "{} beats, {} accepted{}",
        summary.num_beats,
        summary.num_accepted,
        if summary.rejected.is_empty() {
            String::new()
        } else {
            format!(
                " (rejected: {})",
                summary
                    .rejected
                    .iter()
                    .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ));
    // The window's labelled endpoints, the same the table and the exports show: the key ones on one line, every
    // one grouped under a collapsed header (the beat table keeps the room).
    let key_values: &[&str] = match kind {
        Some(kind) if kind.is_coronary() => &["apv", "pd_pa", "heart_rate_coronary"],
        Some(WindowKind::PvPreloadReduction) => &["ees", "v0", "espvr_r2"],
        _ => &["lvedp", "sv", "ef"],
    };
    ui.horizontal_wrapped(|ui| {
        for endpoint in key_values
            .iter()
            .filter_map(|key| report.endpoints.iter().find(|e| e.key == *key))
        {
            ui.label(RichText::new(format!("{} {}", endpoint.label, endpoint.display())).strong())
                .on_hover_text(endpoint_hover(endpoint, report));
        }
    });
    egui::CollapsingHeader::new(format!("All {} values of this window", report.endpoints.len()))
        .id_salt("window-endpoints")
        .default_open(false)
        .show(ui, |ui| {
            egui::Grid::new("window-endpoint-grid")
                .striped(true)
                .show(ui, |ui| {
                    let mut group = None;
                    for endpoint in &report.endpoints {
                        if group != Some(endpoint.group) {
                            group = Some(endpoint.group);
                            ui.label(RichText::new(endpoint.group.title()).strong());
                            ui.end_row();
                        }
                        let hover = endpoint_hover(endpoint, report);
                        let label = match endpoint.kind {
                            Some(kind) if !endpoint.label.contains(kind.label()) => {
                                format!("{} [{}]", endpoint.label, kind.label())
                            }
                            _ => endpoint.label.clone(),
                        };
                        ui.label(label).on_hover_text(&hover);
                        ui.label(RichText::new(endpoint.display()).strong())
                            .on_hover_text(&hover);
                        let flags: Vec<String> = endpoint.flags.iter().map(|f| f.text()).collect();
                        ui.label(RichText::new(flags.join("; ")).color(theme::WARNING));
                        ui.end_row();
                    }
                });
        });
}

/// A labelled endpoint's method, beats, V0 source and note, for its hover text.
fn endpoint_hover(endpoint: &crate::analysis::endpoints::Endpoint, report: &Report) -> String {
    let mut hover = format!(
        "{}\nalgorithm {}, settings {}",
        endpoint.method, report.algorithm_version, report.settings_hash
    );
    if let (Some(used), Some(excluded)) = (endpoint.num_beats_used, endpoint.num_beats_excluded) {
        hover.push_str(&format!("\nbeats used {used}, excluded {excluded}"));
    }
    if let Some(source) = endpoint.v0_source {
        hover.push_str(&format!("\nV0: {}", source.text()));
    }
    if let Some(note) = &endpoint.note {
        hover.push_str(&format!("\n{note}"));
    }
    hover
}

/// Reject or accept the selected beat (through the reason dialog).
fn beat_actions_ui(ui: &mut egui::Ui, state: &mut ReviewUi, snapshot: &Snapshot, window_id: i64, busy: bool) {
    let Some(number) = state.selected_beat else {
        ui.label(
            RichText::new("Click a beat on the traces or in the table to review it.").color(theme::TEXT_DIM),
        );
        return;
    };
    let Some(beat) = snapshot
        .beats
        .get(&window_id)
        .and_then(|b| b.iter().find(|b| b.number == number))
    else {
        return;
    };
    ui.horizontal(|ui| {
        let verdict = match &beat.reject {
            None => "accepted".to_owned(),
            Some(crate::model::RejectReason::Manual(reason)) => format!("rejected by reviewer: {reason}"),
            Some(reason) => format!("rejected by QC: {}", reason.key().replace('_', " ")),
        };
        ui.label(RichText::new(format!("Beat #{number}: {verdict}")).strong());
    });
    ui.horizontal(|ui| {
        let (label, verdict) = if beat.accepted() {
            (
                "Reject beat…",
                Some(crate::model::RejectReason::Manual(String::new())),
            )
        } else {
            ("Accept beat…", None)
        };
        if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
            state.dialog = Some(ReasonDialog {
                edit: Edit::SetVerdict {
                    window_id,
                    number,
                    verdict: verdict.clone(),
                },
                title: format!(
                    "{} beat #{number}",
                    if verdict.is_some() { "Reject" } else { "Accept" }
                ),
                reason: String::new(),
                warning: None,
            });
        }
    });
}

/// The per-beat table of the window.
fn beat_table_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    snapshot: &Snapshot,
    window_id: i64,
    report: &Report,
    kind: Option<WindowKind>,
) {
    let stored = snapshot
        .beats
        .get(&window_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let columns = screen_columns(kind);
    let height = (ui.available_height() - 90.0).max(120.0);
    egui::ScrollArea::vertical()
        .max_height(height)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("review-beats")
                .striped(true)
                .min_col_width(36.0)
                .show(ui, |ui| {
                    ui.label(RichText::new("Beat").strong());
                    ui.label(RichText::new("t, s").strong());
                    ui.label(RichText::new("QC").strong());
                    for &c in columns {
                        ui.label(RichText::new(COLUMNS[c].short).strong())
                            .on_hover_text(format!("{} [{}]", COLUMNS[c].header, COLUMNS[c].unit.symbol()));
                    }
                    ui.end_row();
                    for row in rows(report, stored) {
                        let number = row.record.number;
                        let selected = state.selected_beat == Some(number);
                        if ui.selectable_label(selected, format!("#{number}")).clicked() {
                            state.selected_beat = Some(number);
                            let half = (state.to_s - state.from_s) / 2.0;
                            let t = row.record.time_s + row.record.duration_s / 2.0;
                            state.set_view(t - half, t + half, snapshot.summary.duration_s);
                        }
                        ui.label(format!("{:.2}", row.record.time_s));
                        match (&row.reviewer_reason, &row.record.reject_reason) {
                            (Some(reason), _) => {
                                ui.label(RichText::new("rejected").color(theme::REVIEW_REJECTED))
                                    .on_hover_text(reason);
                            }
                            (None, Some(reason)) => {
                                ui.label(RichText::new("rejected").color(theme::REVIEW_REJECTED))
                                    .on_hover_text(reason.replace('_', " "));
                            }
                            (None, None) => {
                                ui.label(RichText::new("ok").color(theme::REVIEW_BEAT));
                            }
                        }
                        for &c in columns {
                            ui.label(format::optional((COLUMNS[c].value)(row.metrics), COLUMNS[c].unit));
                        }
                        ui.end_row();
                    }
                });
        });
}

/// Choosing the occlusion beats by dragging across a strip of beat boxes or clicking loops; the fit follows.
fn occlusion_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    window: &crate::store::AnalysisWindow,
    report: &Report,
    loops: Option<&[BeatLoop]>,
    busy: bool,
    actions: &mut Vec<ReviewAction>,
) {
    ui.separator();
    ui.label(RichText::new("ESPVR: drag across the occlusion beats").strong());
    let stored = window_settings(window).occlusion_beats;
    let numbers: Vec<u32> = report.beats.iter().map(|b| b.number).collect();
    if numbers.is_empty() {
        return;
    }
    // Without a stored choice the window's fit is over the automatic occlusion beats: the run starts there.
    let stored_fit = report.summary.espvr.as_ref();
    let fitted = stored.or_else(|| {
        let beats = &stored_fit?.beats;
        Some((*beats.iter().min()?, *beats.iter().max()?))
    });
    let choice = state.occlusion.get_or_insert_with(|| OcclusionChoice {
        window_id: window.id,
        beats: fitted.unwrap_or((numbers[0], numbers[numbers.len() - 1])),
        preview: None,
        dragging: false,
    });
    let width = ui.available_width() - 8.0;
    let (rect, response) = ui.allocate_exact_size(vec2(width, 24.0), Sense::click_and_drag());
    let box_width = rect.width() / numbers.len() as f32;
    let number_at = |x: f32| {
        let i = (((x - rect.left()) / box_width).floor().max(0.0) as usize).min(numbers.len() - 1);
        numbers[i]
    };
    let painter = ui.painter_at(rect);
    for (i, &number) in numbers.iter().enumerate() {
        let r = egui::Rect::from_min_size(
            pos2(rect.left() + i as f32 * box_width, rect.top()),
            vec2(box_width - 1.0, rect.height()),
        );
        let chosen = (choice.beats.0..=choice.beats.1).contains(&number);
        painter.rect_filled(
            r,
            1.0,
            if chosen {
                theme::REVIEW_POST
            } else {
                theme::PLOT_BACKGROUND
            },
        );
        if box_width > 14.0 {
            painter.text(
                r.center(),
                egui::Align2::CENTER_CENTER,
                number.to_string(),
                theme::small_font(),
                if chosen { Color32::BLACK } else { theme::TEXT_DIM },
            );
        }
    }
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, theme::BORDER),
        egui::StrokeKind::Inside,
    );
    let mut changed = false;
    if let Some(pointer) = response.interact_pointer_pos() {
        if response.drag_started() || response.clicked() {
            let n = number_at(pointer.x);
            choice.beats = (n, n);
            choice.dragging = true;
            changed = true;
        } else if response.dragged() {
            let (anchor, n) = (choice.beats.0.min(choice.beats.1), number_at(pointer.x));
            let new = if n >= anchor {
                (anchor, n)
            } else {
                (n, choice.beats.1)
            };
            changed = new != choice.beats;
            choice.beats = new;
        }
    }
    if response.drag_stopped() {
        choice.dragging = false;
    }
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Slider,
            true,
            format!("Occlusion beats {} to {}", choice.beats.0, choice.beats.1),
        )
    });
    let preview = choice.preview.as_ref();
    let shown = match preview {
        Some((beats, fit)) if *beats == choice.beats => Some(fit.clone()),
        _ if Some(choice.beats) == fitted => Some(Ok(stored_fit.cloned())),
        _ => None,
    };
    if let Some(loops) = loops.filter(|loops| !loops.is_empty()) {
        let fit = shown
            .as_ref()
            .and_then(|fit| fit.as_ref().ok())
            .and_then(Option::as_ref);
        if let Some(beats) = occlusion_loops_ui(ui, loops, choice.beats, fit) {
            choice.beats = beats;
            changed = true;
        }
    }
    if changed && choice.beats.1 >= choice.beats.0 + 2 {
        actions.push(ReviewAction::Preview {
            window_id: window.id,
            beats: choice.beats,
        });
    }
    let shown = match preview {
        Some((beats, fit)) if *beats == choice.beats => Some(fit.clone()),
        _ if Some(choice.beats) == fitted => Some(Ok(stored_fit.cloned())),
        _ => None,
    };
    match shown {
        Some(Ok(Some(fit))) => {
            ui.label(
                RichText::new(format!(
                    "Ees {}{} · V0 {} · r² {} · n {}",
                    format::with_unit(fit.ees_mmhg_per_ml, Unit::MmhgPerMl),
                    fit.ees_ci95_mmhg_per_ml
                        .map(|ci| format!(" ({})", format::interval(ci, Unit::MmhgPerMl)))
                        .unwrap_or_default(),
                    format::with_unit(fit.v0_ml, Unit::Ml),
                    format::number(fit.r2, Unit::Ratio),
                    fit.n
                ))
                .strong(),
            )
            .on_hover_text(&fit.provenance.method);
            for warning in &fit.warnings {
                ui.label(RichText::new(warning).color(theme::WARNING));
            }
        }
        Some(Ok(None)) => {
            ui.label("No ESPVR for these beats (see the window's notes).");
        }
        Some(Err(error)) => {
            ui.label(RichText::new(error).color(theme::ERROR));
        }
        None => {
            ui.label(
                RichText::new(format!("beats {}–{}: computing…", choice.beats.0, choice.beats.1))
                    .color(theme::TEXT_DIM),
            );
        }
    }
    let differs = Some(choice.beats) != stored;
    if ui
        .add_enabled(
            differs && !busy && !choice.dragging,
            egui::Button::new("Use these beats…"),
        )
        .clicked()
    {
        state.dialog = Some(ReasonDialog {
            edit: Edit::SetOcclusion {
                window_id: window.id,
                beats: Some(choice.beats),
            },
            title: format!(
                "Occlusion beats {}–{} for the ESPVR",
                choice.beats.0, choice.beats.1
            ),
            reason: String::new(),
            warning: None,
        });
    }
}

/// The run of beats after toggling beat `number` (a click on its loop): the occlusion beats are one run of
/// consecutive beats (`numbers`, ascending, are the window's), so a beat outside the run extends the run to it, a
/// beat at either end leaves it, and a beat inside it moves the nearer end past it. A run keeps at least one beat.
pub(super) fn toggle_beat(run: (u32, u32), number: u32, numbers: &[u32]) -> (u32, u32) {
    let next = |n: u32| numbers.iter().copied().find(|&m| m > n);
    let previous = |n: u32| numbers.iter().rev().copied().find(|&m| m < n);
    let (first, last) = run;
    if number < first {
        (number, last)
    } else if number > last {
        (first, number)
    } else if first == last {
        run
    } else if number - first <= last - number {
        (next(number).unwrap_or(last).min(last), last)
    } else {
        (first, previous(number).unwrap_or(first).max(first))
    }
}

/// Height of the occlusion chooser's loop plot, points.
const LOOPS_HEIGHT: f32 = 190.0;

/// The occlusion window's loops, volume across and pressure up: the chosen beats' loops in the post-unloading
/// colour over the others in grey, the fit's end-systolic points ringed, and the fitted ESPVR line from V0 with Ees
/// and V0 written on it. Each loop is a widget labelled "Loop of beat N" (chosen or not): a click picks the loop
/// nearest the pointer, Space/Enter the focused one, and toggles its beat ([`toggle_beat`]); returns the new run.
fn occlusion_loops_ui(
    ui: &mut egui::Ui,
    loops: &[BeatLoop],
    run: (u32, u32),
    fit: Option<&EspvrFit>,
) -> Option<(u32, u32)> {
    let width = ui.available_width() - 8.0;
    let (rect, _) = ui.allocate_exact_size(vec2(width, LOOPS_HEIGHT), Sense::hover());
    let plot = rect.shrink2(vec2(6.0, 14.0));
    let points = || loops.iter().flat_map(|l| l.points.iter());
    let (v_lo, v_hi) = padded_range(points().map(|p| p.0));
    let (p_lo, p_hi) = padded_range(points().map(|p| p.1));
    let to_screen = |(v, p): (f64, f64)| {
        pos2(
            plot.left() + ((v - v_lo) / (v_hi - v_lo)) as f32 * plot.width(),
            plot.bottom() - ((p - p_lo) / (p_hi - p_lo)) as f32 * plot.height(),
        )
    };
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, theme::PLOT_BACKGROUND);
    let chosen = |number: u32| (run.0..=run.1).contains(&number);
    for pass_chosen in [false, true] {
        for beat_loop in loops.iter().filter(|l| chosen(l.number) == pass_chosen) {
            let line: Vec<egui::Pos2> = beat_loop.points.iter().map(|&p| to_screen(p)).collect();
            let stroke = if pass_chosen {
                Stroke::new(1.5, theme::REVIEW_POST)
            } else {
                Stroke::new(1.0, theme::REVIEW_BASELINE.gamma_multiply(0.5))
            };
            painter.add(egui::Shape::line(line, stroke));
        }
    }
    if let Some(fit) = fit {
        for point in &fit.points {
            painter.circle_stroke(
                to_screen((point.esv_ml, point.esp_mmhg)),
                3.5,
                Stroke::new(1.5, theme::TEXT),
            );
        }
        let v_from = fit.v0_ml.max(v_lo);
        let line = [v_from, v_hi].map(|v| to_screen((v, fit.ees_mmhg_per_ml * (v - fit.v0_ml))));
        painter.line_segment(line, Stroke::new(1.5, theme::ACCENT));
        painter.text(
            plot.left_top(),
            egui::Align2::LEFT_TOP,
            format!(
                "ESPVR: Ees {}, V0 {}",
                format::with_unit(fit.ees_mmhg_per_ml, Unit::MmhgPerMl),
                format::with_unit(fit.v0_ml, Unit::Ml)
            ),
            theme::small_font(),
            theme::ACCENT,
        );
    }
    painter.text(
        rect.left_bottom() + vec2(4.0, -2.0),
        egui::Align2::LEFT_BOTTOM,
        format!("volume {v_lo:.0}-{v_hi:.0} mL across, pressure {p_lo:.0}-{p_hi:.0} mmHg up"),
        theme::small_font(),
        theme::TEXT_DIM,
    );
    let numbers: Vec<u32> = loops.iter().map(|l| l.number).collect();
    let nearest = |pointer: egui::Pos2| {
        loops
            .iter()
            .filter_map(|l| {
                let distance = l
                    .points
                    .iter()
                    .map(|&p| to_screen(p).distance(pointer))
                    .fold(f32::INFINITY, f32::min);
                distance.is_finite().then_some((distance, l.number))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|(distance, _)| *distance < 12.0)
            .map(|(_, number)| number)
    };
    let mut toggled = None;
    for beat_loop in loops {
        let bounds =
            egui::Rect::from_points(&beat_loop.points.iter().map(|&p| to_screen(p)).collect::<Vec<_>>())
                .intersect(rect);
        if !bounds.is_positive() {
            continue;
        }
        let id = ui.scope_id().with(("occlusion-loop", beat_loop.number));
        let response = ui
            .interact(bounds, id, Sense::click())
            .on_hover_cursor(egui::CursorIcon::PointingHand);
        let is_chosen = chosen(beat_loop.number);
        response.widget_info(|| {
            egui::WidgetInfo::selected(
                egui::Role::CheckBox,
                true,
                is_chosen,
                format!("Loop of beat {}", beat_loop.number),
            )
        });
        if response.clicked() {
            // A pointer picks the loop nearest it (the loops overlap); a key or an assistive tool, this loop.
            let number = match response.interact_pointer_pos() {
                Some(pointer) => nearest(pointer),
                None => Some(beat_loop.number),
            };
            toggled = number.map(|n| toggle_beat(run, n, &numbers));
        }
    }
    toggled.filter(|beats| *beats != run)
}

/// An annotation at the view, and the annotations in the view with their text editable (a note does not change a
/// number, so it needs no reason; the audit trail keeps the old text).
fn annotation_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    snapshot: &Snapshot,
    busy: bool,
    actions: &mut Vec<ReviewAction>,
) {
    ui.separator();
    ui.horizontal(|ui| {
        let label = ui.label("Note");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut state.annotation)
                    .desired_width(240.0)
                    .hint_text("annotation over the view"),
            )
            .labelled_by(label.id);
        let warnings = crate::store::text_warnings(&state.annotation);
        let ready = !state.annotation.trim().is_empty() && warnings.is_empty() && !busy;
        if ui.add_enabled(ready, egui::Button::new("Annotate")).clicked() || (ready && keys::entered(&field))
        {
            actions.push(ReviewAction::Apply(
                Edit::AddAnnotation {
                    start_s: state.from_s,
                    end_s: Some(state.to_s),
                    text: state.annotation.trim().to_owned(),
                },
                "annotation".into(),
            ));
            state.annotation.clear();
        }
        if let Some(warning) = warnings.first() {
            ui.label(RichText::new(warning.to_string()).color(theme::WARNING));
        }
    });
    let in_view = snapshot
        .annotations
        .iter()
        .filter(|a| a.end_s.unwrap_or(a.start_s) >= state.from_s && a.start_s <= state.to_s);
    for annotation in in_view {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{:.1} s", annotation.start_s)).color(theme::TEXT_DIM));
            match &mut state.editing_annotation {
                Some((id, text)) if *id == annotation.id => {
                    let label = ui.label("Annotation text");
                    let field = ui
                        .add(egui::TextEdit::singleline(text).desired_width(200.0))
                        .labelled_by(label.id);
                    let warnings = crate::store::text_warnings(text);
                    let ready = !text.trim().is_empty() && warnings.is_empty() && !busy;
                    if ui.add_enabled(ready, egui::Button::new("Save text")).clicked()
                        || (ready && keys::entered(&field))
                    {
                        actions.push(ReviewAction::Apply(
                            Edit::EditAnnotation {
                                id: annotation.id,
                                text: text.trim().to_owned(),
                            },
                            "annotation text edited".into(),
                        ));
                        state.editing_annotation = None;
                    } else if ui.button("Cancel").clicked() || keys::escaped(&field) {
                        state.editing_annotation = None;
                    } else if let Some(warning) = warnings.first() {
                        ui.label(RichText::new(warning.to_string()).color(theme::WARNING));
                    }
                }
                _ => {
                    ui.label(&annotation.text);
                    let edit = egui::Button::new("Edit").small();
                    if ui.add_enabled(!busy, edit).clicked() {
                        state.editing_annotation = Some((annotation.id, annotation.text.clone()));
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::toggle_beat;

    #[test]
    fn a_loop_toggles_its_beat_at_the_runs_edges() {
        let numbers = [1, 2, 3, 5, 6, 7, 8];
        // Outside the run: the run reaches it.
        assert_eq!(toggle_beat((3, 6), 1, &numbers), (1, 6));
        assert_eq!(toggle_beat((3, 6), 8, &numbers), (3, 8));
        // At an end: it leaves (across a missing number).
        assert_eq!(toggle_beat((3, 6), 3, &numbers), (5, 6));
        assert_eq!(toggle_beat((3, 7), 7, &numbers), (3, 6));
        // Inside: the nearer end moves past it.
        assert_eq!(toggle_beat((1, 8), 2, &numbers), (3, 8));
        assert_eq!(toggle_beat((1, 8), 7, &numbers), (1, 6));
        // A run keeps one beat.
        assert_eq!(toggle_beat((5, 5), 5, &numbers), (5, 5));
    }
}
