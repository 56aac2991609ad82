//! The capture part of a measurement step: the optional windows, the running capture's progress and quality
//! (beats accepted and rejected with reasons, heart-rate and ECMO-flow stability), save or discard, and the windows
//! already saved.

use egui::{RichText, Ui};

use crate::analysis::endpoints::Unit;
use crate::analysis::format;
use crate::model::{IabpRatio, ImpellaSettings, RejectReason, UnloadingDevice};
use crate::protocol::{
    CaptureQuality, CaptureStatus, CaptureTarget, Event, SavedWindow, State, WindowKind, guide,
};
use crate::ui::theme;

use super::endpoints::{SavedColumn, WindowNumbers};

/// The settings the device can be turned down to for the resting window at minimum support (the within-session
/// CDFR reference): an IABP on standby; an Impella at P-1 or P-2, below its target (never P-0, where blood flows
/// back through the pump).
fn minimum_settings(device: UnloadingDevice) -> Vec<UnloadingDevice> {
    match device {
        UnloadingDevice::Iabp(iabp) => vec![UnloadingDevice::Iabp(crate::model::IabpSettings {
            ratio: IabpRatio::Standby,
            ..iabp
        })],
        UnloadingDevice::Impella(impella) => (1..impella.p_level.min(3))
            .map(|p_level| {
                UnloadingDevice::Impella(ImpellaSettings {
                    p_level,
                    displayed_flow_l_min: None,
                    ..impella
                })
            })
            .collect(),
        UnloadingDevice::None => Vec::new(),
    }
}

/// Recording the device's minimum support before the window at minimum support, or the setting in force.
fn minimum_support_ui(ui: &mut Ui, state: &State, idle: bool) -> Option<Event> {
    let mut event = None;
    ui.horizontal_wrapped(|ui| match state.minimum_support {
        Some(device) => {
            ui.label(
                RichText::new(format!(
                    "Device at minimum support: {} (back to target when the window is saved or discarded)",
                    device.describe()
                ))
                .color(theme::ACCENT),
            );
        }
        None => {
            ui.label("Within-session CDFR reference: turn the device down, then record");
            for device in minimum_settings(state.device) {
                if ui
                    .add_enabled(idle, egui::Button::new(device.describe()))
                    .clicked()
                {
                    event = Some(Event::RecordMinimumSupport(device));
                }
            }
        }
    });
    event
}

/// The capture controls of the current step (nothing in steps that capture no window), and a line per saved window
/// (the running capture is pinned in view by the screen, [`capture_progress_ui`], and what each saved window
/// measured is in the saved windows' table pinned under it: [`saved_columns`]).
pub fn capture_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let step = state.current;
    let captures = guide(step).captures;
    let mut event = None;
    if captures.is_empty() {
        return None;
    }
    let idle = !state.capture.as_ref().is_some_and(|capture| capture.running());
    if captures.contains(&WindowKind::CoronaryRestMinimumSupport) {
        event = minimum_support_ui(ui, state, idle).or(event);
    }
    ui.horizontal_wrapped(|ui| {
        for kind in captures.iter().filter(|kind| !kind.required()) {
            if ui
                .add_enabled(idle, egui::Button::new(format!("Capture {}", kind.label())))
                .clicked()
            {
                event = Some(Event::StartCapture(*kind));
            }
        }
    });
    for window in &state.record(step).windows {
        let steady = window.quality.issues(&window.target).is_empty();
        ui.label(RichText::new(saved_summary(window)).color(if steady { theme::OK } else { theme::WARNING }));
    }
    event
}

/// The current step's capture while it runs and until it is saved or discarded: its progress, its quality and
/// Save/Discard. The screen pins it over the step's saved windows and checklist, so that the seconds and beats
/// collected never scroll out of view, however long the step's panel (nothing without a capture in this step).
pub fn capture_progress_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let capture = state
        .capture
        .as_ref()
        .filter(|capture| capture.step == state.current)?;
    let mut event = None;
    egui::Frame::new()
        .fill(theme::BAR_BACKGROUND)
        .inner_margin(8.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            let target = capture.target;
            let elapsed_s = capture.elapsed_s();
            match capture.status {
                CaptureStatus::Running => {
                    ui.label(
                        RichText::new(format!("Capturing the {}", capture.kind.label()))
                            .strong()
                            .color(theme::ACCENT),
                    );
                    let fraction = (elapsed_s / target.duration_s).clamp(0.0, 1.0) as f32;
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .text(format!("{elapsed_s:.1} of {:.0} s", target.duration_s))
                            .fill(theme::ACCENT),
                    );
                }
                CaptureStatus::Finished { reason, .. } => {
                    ui.label(
                        RichText::new(format!(
                            "{}: {} after {elapsed_s:.1} s",
                            capture.kind.label(),
                            reason.label()
                        ))
                        .strong(),
                    );
                }
            }
            quality_ui(ui, &capture.quality, &target);
            if !capture.running() {
                ui.horizontal(|ui| {
                    if ui
                        .button(RichText::new("Save window").size(theme::BODY_SIZE + 2.0))
                        .clicked()
                    {
                        event = Some(Event::SaveCapture);
                    }
                    if ui.button("Discard").clicked() {
                        event = Some(Event::DiscardCapture);
                    }
                });
            }
        });
    event
}

/// A saved window's duration, beats and verdict in words.
fn saved_summary(window: &SavedWindow) -> String {
    let issues = window.quality.issues(&window.target);
    let verdict = if issues.is_empty() {
        "steady".to_owned()
    } else {
        format!("{} issue(s)", issues.len())
    };
    format!(
        "Saved {}: {:.1} s, {} beats accepted, {} rejected, {verdict}",
        window.kind.label(),
        window.end.recording_s - window.start.recording_s,
        window.quality.num_beats_accepted,
        window.quality.num_beats_rejected
    )
}

/// A window's name in the saved windows' table.
fn short_name(kind: WindowKind) -> &'static str {
    match kind {
        WindowKind::CoronaryRest => "rest",
        WindowKind::CoronaryHyperaemia => "hyperaemia",
        WindowKind::CoronaryRestMinimumSupport => "minimum support",
        WindowKind::PvSteady => "steady",
        WindowKind::PvPreloadReduction => "occlusion",
    }
}

/// The current step's saved windows as the columns of the saved windows' table, oldest first, each with what it
/// measured (`numbers`: every analysed window of the case, oldest first).
pub fn saved_columns<'a>(state: &State, numbers: &'a [WindowNumbers]) -> Vec<SavedColumn<'a>> {
    let step = state.current;
    let windows = &state.record(step).windows;
    windows
        .iter()
        .enumerate()
        .map(|(index, window)| {
            // The n-th saved window of a kind in this step is the n-th analysed one of that kind and step.
            let nth = windows[..index].iter().filter(|w| w.kind == window.kind).count();
            let same_kind = windows.iter().filter(|w| w.kind == window.kind).count();
            let heading = if same_kind > 1 {
                format!("{} {}", short_name(window.kind), nth + 1)
            } else {
                short_name(window.kind).to_owned()
            };
            SavedColumn {
                heading,
                numbers: numbers
                    .iter()
                    .filter(|n| n.step == step && n.kind == window.kind)
                    .nth(nth),
                steady: window.quality.issues(&window.target).is_empty(),
                summary: saved_summary(window),
            }
        })
        .collect()
}

/// Beats, heart rate and ECMO flow of a capture, each with its verdict in words.
fn quality_ui(ui: &mut Ui, quality: &CaptureQuality, target: &CaptureTarget) {
    let rejected: Vec<String> = quality
        .rejections
        .iter()
        .map(|counted| format!("{} {}", reject_label(&counted.reason), counted.count))
        .collect();
    let rejected = if rejected.is_empty() {
        String::new()
    } else {
        format!(" ({})", rejected.join(", "))
    };
    let run_ok = quality.longest_accepted_run >= target.min_consecutive_beats
        && quality.longest_accepted_run_s >= target.min_run_s;
    let span = if target.min_run_s > 0.0 {
        format!(
            " over {:.1} of {:.0} s",
            quality.longest_accepted_run_s, target.min_run_s
        )
    } else {
        String::new()
    };
    status_line(
        ui,
        run_ok,
        &format!(
            "Beats: {} accepted, {} rejected{rejected}; longest run {} of {} needed{span}",
            quality.num_beats_accepted,
            quality.num_beats_rejected,
            quality.longest_accepted_run,
            target.min_consecutive_beats
        ),
    );
    let issues = quality.issues(target);
    match quality.heart_rate_bpm {
        Some(hr) => {
            let drift_pct = 100.0 * hr.change() / hr.mean;
            let steady = drift_pct.abs() <= crate::protocol::MAX_HEART_RATE_DRIFT_PCT;
            status_line(
                ui,
                steady,
                &format!(
                    "Heart rate {}, drift {} %",
                    format::with_unit(hr.mean, Unit::PerMin),
                    format::change(drift_pct, Unit::Percent)
                ),
            );
        }
        None => status_line(ui, false, "Heart rate: no accepted beats yet"),
    }
    if let Some(reason) = &quality.no_beats_reason {
        status_line(ui, false, &format!("No beats found yet: {reason}"));
    }
    match quality.ecmo_flow_l_min {
        Some(flow) => {
            let steady = flow.change().abs() <= crate::protocol::MAX_ECMO_FLOW_DRIFT_L_MIN;
            status_line(
                ui,
                steady,
                &format!(
                    "ECMO flow {}, drift {} L/min",
                    format::with_unit(flow.mean, Unit::LPerMin),
                    // To the pump's display resolution: a drift of 0.004 L/min is no drift.
                    format::change((flow.change() * 100.0).round() / 100.0, Unit::LPerMin)
                ),
            );
        }
        None => {
            ui.label(RichText::new("ECMO flow: not recorded (stability not checked)").color(theme::TEXT_DIM));
        }
    }
    if issues.is_empty() {
        ui.label(RichText::new("Steady window").color(theme::OK).strong());
    }
}

/// One quality line: "OK" or "CHECK" in words and colour, then the text.
fn status_line(ui: &mut Ui, good: bool, text: &str) {
    ui.horizontal(|ui| {
        let (word, colour) = if good {
            ("OK", theme::OK)
        } else {
            ("CHECK", theme::WARNING)
        };
        ui.label(RichText::new(word).color(colour).strong().monospace());
        // Wraps in the rest of the panel's width instead of widening (and clipping) the step panel.
        ui.vertical(|ui| {
            ui.add(egui::Label::new(text).wrap());
        });
    });
}

/// A beat rejection reason in words.
pub(super) fn reject_label(reason: &RejectReason) -> String {
    match reason {
        RejectReason::RrOutlier => "RR outlier".to_owned(),
        RejectReason::AfterRrOutlier => "after RR outlier".to_owned(),
        RejectReason::Ectopic => "ectopic".to_owned(),
        RejectReason::DopplerDropout => "Doppler dropout".to_owned(),
        RejectReason::PressureDamping => "pressure damping".to_owned(),
        RejectReason::NonPulsatile => "non-pulsatile".to_owned(),
        RejectReason::MissingData => "missing data".to_owned(),
        RejectReason::FlatPressure => "flat pressure".to_owned(),
        RejectReason::ClippedPressure => "clipped pressure".to_owned(),
        RejectReason::Manual(why) => format!("rejected by reviewer: {why}"),
    }
}
