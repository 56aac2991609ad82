//! The top bar, shown above every view: the case, the protocol step, an unmistakable recording indicator and one
//! chip per source. Every state has a word and an icon, never colour alone.

use egui::{Align, Frame, Layout, RichText, Stroke};

use super::action::{Action, View};
use crate::acquisition::engine::RecordingState;
use crate::acquisition::{LiveSource, LiveState};

use super::icons::{Icon, icon_ui};
use super::theme;

/// What the top bar shows besides the live state (placeholders until the protocol and the case store exist).
#[derive(Clone, Debug, Default)]
pub struct TopBarInfo {
    /// The open case's pseudonymous id, if a case is open.
    pub case_id: Option<String>,
    /// The current protocol step's name, if a protocol is running.
    pub step: Option<String>,
}

/// Draws the top bar into `ui`, with a tab per view (`current` selected).
pub fn top_bar_ui(
    ui: &mut egui::Ui,
    info: &TopBarInfo,
    current: View,
    state: &LiveState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_centered(|ui| {
        let about = ui
            .add(egui::Button::new(RichText::new("HERACLES").heading().strong()).frame(false))
            .on_hover_text("About heracles");
        egui::Popup::from_toggle_button_response(&about).show(about_ui);
        for view in View::ALL {
            let tab =
                egui::Button::selectable(view == current, view.label()).min_size(theme::BUTTON_MIN_SIZE);
            if ui.add(tab).clicked() && view != current {
                actions.push(Action::ShowView(view));
            }
        }
        ui.separator();
        // The indicator comes before the case and step, and those share what the source chips leave (shortened
        // with an ellipsis, full text on hover), so a long step name never pushes RECORDING under a chip.
        recording_ui(ui, &state.recording);
        if state.recording.failure.is_some()
            && ui
                .button("Save to another folder…")
                .on_hover_text(
                    "Continue the case in a new file in another folder, with everything held in memory",
                )
                .clicked()
        {
            actions.push(Action::SaveElsewhere);
        }
        ui.separator();
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            for source in state.sources.iter().rev() {
                source_chip_ui(ui, source);
            }
            ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                let case = info.case_id.as_deref().unwrap_or("no case open");
                ui.add(
                    egui::Label::new(RichText::new(format!("Case: {case}")).color(theme::TEXT)).truncate(),
                );
                ui.separator();
                let step = info.step.as_deref().unwrap_or("—");
                ui.add(
                    egui::Label::new(RichText::new(format!("Step: {step}")).color(theme::TEXT)).truncate(),
                );
            });
        });
    });
}

/// The About box: what this build is (version, commit, licence) and what it is for.
fn about_ui(ui: &mut egui::Ui) {
    use crate::model::about;
    ui.set_max_width(420.0);
    ui.label(RichText::new("heracles").heading().strong());
    ui.label(format!("Version {}", about::VERSION));
    ui.label(format!("Commit {}", about::COMMIT));
    ui.label(format!("Licence {}", about::LICENCE));
    ui.separator();
    ui.label(
        "Cath-lab workstation for the HERACLES trial (VA-ECMO with LV unloading by IABP or Impella). \
         Research software for the trial's protocol: not a medical device.",
    );
}

/// RECORDING / NOT RECORDING / NOT SAVING, large, with the backlog and losses on hover.
fn recording_ui(ui: &mut egui::Ui, recording: &RecordingState) {
    let (icon, text, fill, colour) = match (&recording.failure, recording.active) {
        (Some(_), _) => (
            Icon::Warning,
            "NOT SAVING",
            theme::WARNING,
            theme::TEXT_ON_WARNING,
        ),
        (None, true) => (Icon::Dot, "RECORDING", theme::RECORDING, theme::TEXT_ON_ALERT),
        (None, false) => (
            Icon::Ring,
            "NOT RECORDING",
            theme::BAR_BACKGROUND,
            theme::TEXT_DIM,
        ),
    };
    let mut details = match &recording.failure {
        Some(message) => format!("The recorder failed: {message}. Samples are held in memory but not saved."),
        None if recording.active => "Every sample is being written to the case file.".to_owned(),
        None => "Nothing is being saved.".to_owned(),
    };
    if recording.backlog_s > 0.5 {
        details.push_str(&format!(
            "\n{:.1} s of samples waiting for the disk.",
            recording.backlog_s
        ));
    }
    if recording.num_lost_samples > 0 {
        details.push_str(&format!(
            "\n{} samples lost (recorded as gaps).",
            recording.num_lost_samples
        ));
    }
    Frame::NONE
        .fill(fill)
        .stroke(Stroke::new(
            1.0,
            if recording.active { fill } else { theme::BORDER },
        ))
        .corner_radius(theme::CORNER_RADIUS)
        .inner_margin(egui::Margin::symmetric(10, 3))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                icon_ui(ui, icon, colour, theme::INDICATOR_SIZE);
                ui.label(
                    RichText::new(text)
                        .size(theme::INDICATOR_SIZE)
                        .strong()
                        .color(colour),
                );
            });
        })
        .response
        .on_hover_text(details);
    if recording.num_lost_samples > 0 {
        icon_ui(ui, Icon::Warning, theme::WARNING, theme::BODY_SIZE);
        let lost = format!("{} samples lost", recording.num_lost_samples);
        ui.label(RichText::new(lost).strong().color(theme::WARNING));
    }
}

/// A tick and `name · rate · dropped`, or a cross and `name · DISCONNECTED: reason`, outlined green or red.
fn source_chip_ui(ui: &mut egui::Ui, source: &LiveSource) {
    let spec = &source.spec;
    let (icon, text, colour) = if source.connected {
        let text = format!(
            "{} · {:.0} Hz · {} dropped",
            spec.label, spec.sample_rate_hz, source.num_dropped_samples
        );
        let colour = if source.num_dropped_samples > 0 {
            theme::WARNING
        } else {
            theme::OK
        };
        (Icon::Tick, text, colour)
    } else if source.finished {
        (
            Icon::Square,
            format!("{} · finished", spec.label),
            theme::TEXT_DIM,
        )
    } else {
        let reason = source.disconnect_reason.as_deref().unwrap_or("waiting for data");
        (
            Icon::Cross,
            format!("{} · DISCONNECTED: {reason}", spec.label),
            theme::ERROR,
        )
    };
    let status = &source.status;
    let details = format!(
        "{} channels at {:.0} Hz\n{} samples received, {} dropped\nframes ok {}, CRC failures {}, resyncs {}, reconnects {}",
        spec.channels.len(),
        spec.sample_rate_hz,
        source.num_samples,
        source.num_dropped_samples,
        status.num_frames_ok,
        status.num_crc_failures,
        status.num_resyncs,
        status.num_reconnects,
    );
    Frame::NONE
        .stroke(Stroke::new(1.5, colour))
        .corner_radius(theme::CORNER_RADIUS)
        .inner_margin(egui::Margin::symmetric(8, 3))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                icon_ui(ui, icon, colour, theme::BODY_SIZE);
                ui.label(RichText::new(text).color(colour));
            });
        })
        .response
        .on_hover_text(details);
}

/// What the "save to another folder" dialog answers.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveElsewhere {
    /// Continue saving in this folder.
    Folder(std::path::PathBuf),
    /// Open the system's folder dialog (asynchronous: the screen keeps drawing).
    Choose,
    /// Closed without choosing (the case stays NOT SAVING).
    Cancel,
}

/// The dialog offered while NOT SAVING: a folder typed or chosen in the system's dialog ("Choose…", never
/// blocking the screen; `choosing` while it is open), then "Continue saving there". `folder` is the text so far;
/// returns the answer once there is one.
pub fn save_elsewhere_ui(ctx: &egui::Context, folder: &mut String, choosing: bool) -> Option<SaveElsewhere> {
    let mut answer = None;
    egui::Modal::new(egui::Id::unique("save-elsewhere")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.label(RichText::new("NOT SAVING: continue in another folder").strong().color(theme::WARNING));
        ui.label(
            "The case file cannot be written where it is. The case continues in a new file of the same name in \
             the folder you give, with every sample held in memory; the old file keeps what was saved before, and \
             the move is recorded in the new file's audit trail.",
        );
        ui.horizontal(|ui| {
            let label = ui.label("Folder");
            ui.add(egui::TextEdit::singleline(folder).desired_width(380.0))
                .labelled_by(label.id);
            if ui.add_enabled(!choosing, egui::Button::new("Choose…")).clicked() {
                answer = Some(SaveElsewhere::Choose);
            }
        });
        ui.horizontal(|ui| {
            let chosen = !folder.trim().is_empty();
            if ui
                .add_enabled(chosen, egui::Button::new("Continue saving there"))
                .clicked()
            {
                answer = Some(SaveElsewhere::Folder(std::path::PathBuf::from(folder.trim())));
            }
            if ui.button("Cancel").clicked() {
                answer = Some(SaveElsewhere::Cancel);
            }
        });
    });
    answer
}
