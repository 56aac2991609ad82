//! The offline review screens: Review (overview strip, synchronised channels with beats, windows and annotations,
//! the per-beat table and the window tools), Comparison (baseline against post-unloading), Follow-up and
//! Sign-off. They draw from the case's [`Snapshot`] and the channel [`Track`]s, keep only view state
//! ([`ReviewUi`]), and report what the reviewer asked for as [`ReviewAction`]s; every edit passes through the
//! reason dialog first (an edit that changes a stored number always has a reason).

pub mod chooser;
mod comparison;
mod export;
mod follow_up;
mod label_rows;
mod side;
mod sign_off;
mod traces;

use egui::{Key, RichText};

use crate::analysis::pv::relations::EspvrFit;
use crate::review::session::{Edit, Snapshot};
use crate::review::sign_off::SignatureMeaning;
use crate::review::tracks::Track;
use crate::review::waveforms::Waveforms;

use super::theme;

pub use export::ExportDraft;
pub use follow_up::FollowUpDraft;

/// The review screen's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewTab {
    /// Traces, beats, windows, annotations.
    Review,
    /// Baseline against post-unloading.
    Comparison,
    /// The clinical follow-up form.
    FollowUp,
    /// Signing the case off.
    SignOff,
    /// Exporting the endpoints, beats, waveforms and report.
    Export,
}

impl ReviewTab {
    const ALL: [ReviewTab; 5] = [
        ReviewTab::Review,
        ReviewTab::Comparison,
        ReviewTab::FollowUp,
        ReviewTab::SignOff,
        ReviewTab::Export,
    ];

    fn label(self) -> &'static str {
        match self {
            ReviewTab::Review => "Traces",
            ReviewTab::Comparison => "Comparison",
            ReviewTab::FollowUp => "Follow-up",
            ReviewTab::SignOff => "Sign-off",
            ReviewTab::Export => "Export",
        }
    }
}

/// An edit waiting for its reason.
#[derive(Clone, Debug, PartialEq)]
pub struct ReasonDialog {
    /// The edit (a rejection's words are taken from the reason).
    pub edit: Edit,
    /// What the dialog says the edit is.
    pub title: String,
    /// The reason typed so far.
    pub reason: String,
    /// What the edit would do that the reviewer may not expect (a steady window shrunk below its minimum), shown
    /// before it is applied.
    pub warning: Option<String>,
}

/// A preview's answer: the ESPVR fit, none (too few usable beats), or why it could not be computed.
pub type PreviewFit = Result<Option<EspvrFit>, String>;

/// The occlusion beats being chosen by dragging, with the live fit.
#[derive(Clone, Debug, PartialEq)]
pub struct OcclusionChoice {
    /// The preload-reduction window.
    pub window_id: i64,
    /// First and last beat chosen so far.
    pub beats: (u32, u32),
    /// The newest preview: the beats it was computed for and the fit (or why there is none).
    pub preview: Option<((u32, u32), PreviewFit)>,
    /// Whether the mouse is still dragging.
    pub dragging: bool,
}

/// A window edge being dragged on the traces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowDrag {
    /// The window.
    pub window_id: i64,
    /// New start, s.
    pub start_s: f64,
    /// New end, s.
    pub end_s: f64,
    /// Whether the start edge was taken (else the end): it alone follows the pointer, wherever it goes.
    pub moving_start: bool,
}

/// Everything the review screens remember between frames (nothing here is stored in the case file).
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewUi {
    /// The tab shown.
    pub tab: ReviewTab,
    /// Left edge of the traces, s.
    pub from_s: f64,
    /// Right edge of the traces, s.
    pub to_s: f64,
    /// The analysis window whose beats are listed.
    pub selected_window: Option<i64>,
    /// The selected beat of that window.
    pub selected_beat: Option<u32>,
    /// The edit waiting for a reason.
    pub dialog: Option<ReasonDialog>,
    /// The occlusion beats being chosen.
    pub occlusion: Option<OcclusionChoice>,
    /// A window edge being dragged.
    pub window_drag: Option<WindowDrag>,
    /// The annotation being typed.
    pub annotation: String,
    /// The annotation whose text is being changed, and the new text.
    pub editing_annotation: Option<(i64, String)>,
    /// The follow-up form being typed.
    pub follow_up: FollowUpDraft,
    /// What the signature means.
    pub meaning: SignatureMeaning,
    /// The export form.
    pub export: ExportDraft,
    /// Whether the view was fitted to the case once it loaded.
    pub fitted: bool,
}

impl Default for ReviewUi {
    /// The view state of a newly opened case.
    fn default() -> ReviewUi {
        ReviewUi {
            tab: ReviewTab::Review,
            from_s: 0.0,
            to_s: 60.0,
            selected_window: None,
            selected_beat: None,
            dialog: None,
            occlusion: None,
            window_drag: None,
            annotation: String::new(),
            editing_annotation: None,
            follow_up: FollowUpDraft::default(),
            meaning: SignatureMeaning::Review,
            export: ExportDraft::default(),
            fitted: false,
        }
    }
}

impl ReviewUi {
    /// Shows `[from_s, to_s)`, kept inside `[0, duration_s]` and at least half a second wide.
    pub fn set_view(&mut self, from_s: f64, to_s: f64, duration_s: f64) {
        let duration_s = duration_s.max(0.5);
        let span = (to_s - from_s).clamp(0.5, duration_s);
        let from_s = from_s.clamp(0.0, duration_s - span);
        (self.from_s, self.to_s) = (from_s, from_s + span);
    }

    /// Keeps the selected beat when `new` replaces `old` (an edit recomputed the window): a beat is the moment it
    /// starts, not its number, and shrinking a window renumbers its beats. The beat of `new` that starts within
    /// half a beat of the old one's start is selected; none when the beat left the window.
    pub fn keep_selected_beat(&mut self, old: Option<&Snapshot>, new: &Snapshot) {
        let (Some(window_id), Some(number), Some(old)) = (self.selected_window, self.selected_beat, old)
        else {
            return;
        };
        let Some(beat) = old
            .beats
            .get(&window_id)
            .and_then(|beats| beats.iter().find(|b| b.number == number))
        else {
            return;
        };
        let old_rate = traces::beat_rate(old, window_id);
        let start_s = beat.start as f64 / old_rate;
        let reach_s = (beat.end.saturating_sub(beat.start)) as f64 / old_rate / 2.0;
        let new_rate = traces::beat_rate(new, window_id);
        self.selected_beat = new.beats.get(&window_id).and_then(|beats| {
            beats
                .iter()
                .map(|b| (b.number, (b.start as f64 / new_rate - start_s).abs()))
                .filter(|&(_, distance_s)| distance_s <= reach_s)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(number, _)| number)
        });
    }
}

/// What the review screens ask the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ReviewAction {
    /// Apply an edit with its reason.
    Apply(Edit, String),
    /// Take back the last undoable edit.
    Undo,
    /// Preview the ESPVR of these occlusion beats.
    Preview {
        /// The window.
        window_id: i64,
        /// First and last beat.
        beats: (u32, u32),
    },
    /// Load a tile of samples of track `track`.
    LoadTile {
        /// Position of the track.
        track: usize,
        /// The tile.
        tile: u64,
    },
    /// Export parts of the case into a folder.
    Export {
        /// The folder.
        folder: std::path::PathBuf,
        /// The parts.
        what: crate::export::ExportWhat,
    },
    /// Open the system's folder dialog for the export folder.
    ChooseFolder,
    /// Leave the review screen.
    Close,
}

/// What the review screens draw from besides their own state.
#[derive(Clone, Copy, Debug)]
pub struct ReviewData<'a> {
    /// The case, once the worker has read it.
    pub snapshot: Option<&'a Snapshot>,
    /// Averaged waveforms for the comparison.
    pub waveforms: Option<&'a Waveforms>,
    /// An edit is being applied (edits wait).
    pub busy: bool,
    /// Tiles of samples are loading.
    pub loading: bool,
    /// The last message for the reviewer (`true`: an error).
    pub message: Option<(&'a str, bool)>,
    /// Who is reviewing.
    pub reviewer: &'a str,
    /// An export is running.
    pub exporting: bool,
    /// The last export's outcome (`true`: refused or failed).
    pub export_outcome: Option<(&'a str, bool)>,
}

/// Draws the review screen into `ui`; returns what the reviewer asked for.
pub fn review_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    tracks: &mut [Track],
    data: ReviewData<'_>,
) -> Vec<ReviewAction> {
    let mut actions = Vec::new();
    egui::Panel::top("review-header")
        .exact_size(theme::TOP_BAR_HEIGHT)
        .frame(super::live::bar_frame())
        .show(ui, |ui| header_ui(ui, state, data, &mut actions));
    egui::Panel::bottom("review-status")
        .exact_size(theme::BOTTOM_BAR_HEIGHT)
        .frame(super::live::bar_frame())
        .show(ui, |ui| status_ui(ui, data));
    if let Some(why) = data.snapshot.and_then(|snapshot| snapshot.read_only.as_deref()) {
        read_only_banner_ui(ui, why);
    }
    match data.snapshot {
        None => {
            egui::CentralPanel::default().show(ui, |ui| {
                traces::overview_only_ui(ui, state, tracks, &mut actions);
            });
        }
        Some(snapshot) => match state.tab {
            ReviewTab::Review => {
                egui::Panel::right("review-side")
                    .exact_size(theme::REVIEW_SIDE_WIDTH)
                    .resizable(false)
                    .frame(super::live::bar_frame())
                    .show(ui, |ui| {
                        side::side_ui(ui, state, snapshot, data.waveforms, data.busy, &mut actions)
                    });
                egui::CentralPanel::default()
                    .frame(
                        egui::Frame::NONE
                            .fill(theme::BACKGROUND)
                            .inner_margin(theme::PANEL_MARGIN),
                    )
                    .show(ui, |ui| {
                        traces::traces_ui(ui, state, tracks, snapshot, &mut actions)
                    });
            }
            ReviewTab::Comparison => {
                egui::CentralPanel::default()
                    .show(ui, |ui| comparison::comparison_ui(ui, snapshot, data.waveforms));
            }
            ReviewTab::FollowUp => {
                egui::CentralPanel::default().show(ui, |ui| {
                    follow_up::follow_up_ui(ui, &mut state.follow_up, snapshot, &mut state.dialog, data.busy)
                });
            }
            ReviewTab::SignOff => {
                egui::CentralPanel::default().show(ui, |ui| {
                    sign_off::sign_off_ui(ui, state, snapshot, data.reviewer, data.busy, &mut actions)
                });
            }
            ReviewTab::Export => {
                egui::CentralPanel::default().show(ui, |ui| {
                    export::export_ui(
                        ui,
                        &mut state.export,
                        data.exporting || data.busy,
                        data.export_outcome,
                        &mut actions,
                    )
                });
            }
        },
    }
    reason_dialog_ui(ui, state, data.busy, &mut actions);
    actions
}

fn header_ui(ui: &mut egui::Ui, state: &mut ReviewUi, data: ReviewData<'_>, actions: &mut Vec<ReviewAction>) {
    ui.horizontal_centered(|ui| {
        ui.label(RichText::new("HERACLES review").heading().strong());
        ui.separator();
        // The tabs first, so that a long case, status or name never pushes one under the buttons on the right.
        for tab in ReviewTab::ALL {
            let button =
                egui::Button::selectable(state.tab == tab, tab.label()).min_size(theme::BUTTON_MIN_SIZE);
            if ui.add_enabled(data.snapshot.is_some(), button).clicked() {
                state.tab = tab;
            }
        }
        ui.separator();
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Close review")
                .on_hover_text("Back to the live monitor")
                .clicked()
            {
                actions.push(ReviewAction::Close);
            }
            let undo = data.snapshot.and_then(|s| s.undo.clone());
            let hint = undo.clone().unwrap_or_else(|| "nothing to undo".into());
            let undo_pressed = crate::ui::keys::command_key_pressed(ui, Key::Z);
            let enabled = undo.is_some() && !data.busy;
            if (ui
                .add_enabled(enabled, egui::Button::new("Undo"))
                .on_hover_text(hint)
                .clicked()
                || undo_pressed)
                && enabled
            {
                actions.push(ReviewAction::Undo);
            }
            ui.separator();
            // Case, status and reviewer share what is left, shortened with an ellipsis (full text on hover).
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let truncated = |ui: &mut egui::Ui, text: RichText| {
                    ui.add(egui::Label::new(text).truncate());
                };
                match data.snapshot {
                    Some(snapshot) => {
                        let summary = &snapshot.summary;
                        truncated(ui, RichText::new(format!("Case: {}", summary.case_id)).strong());
                        let status = if snapshot.sign_offs.is_empty() {
                            summary.status.replace('_', " ")
                        } else {
                            crate::review::sign_off::status_label(&snapshot.sign_offs)
                        };
                        truncated(ui, RichText::new(format!("Status: {status}")));
                    }
                    None => truncated(ui, RichText::new("Opening the case…")),
                }
                truncated(
                    ui,
                    RichText::new(format!("Reviewer: {}", data.reviewer)).color(theme::TEXT_DIM),
                );
            });
        });
    });
}

/// The banner of a case that cannot be saved where it is (read-only media, a folder the reviewer cannot write):
/// always in view, in words, so an edit's refusal is no surprise.
fn read_only_banner_ui(ui: &mut egui::Ui, why: &str) {
    egui::Panel::top("review-read-only")
        .frame(
            egui::Frame::NONE
                .fill(theme::WARNING)
                .inner_margin(theme::PANEL_MARGIN),
        )
        .show(ui, |ui| {
            ui.label(
                RichText::new(format!("READ-ONLY: {why}"))
                    .color(theme::TEXT_ON_WARNING)
                    .strong(),
            );
        });
}

fn status_ui(ui: &mut egui::Ui, data: ReviewData<'_>) {
    ui.horizontal_centered(|ui| {
        if data.busy {
            ui.spinner();
            ui.label("Saving and recomputing…");
        } else if data.snapshot.is_none() {
            ui.spinner();
            ui.label("Reading the case (the overview is ready; the results follow)…");
        }
        if data.loading {
            ui.label(RichText::new("loading samples…").color(theme::TEXT_DIM));
        }
        if let Some((message, error)) = data.message {
            let colour = if error { theme::ERROR } else { theme::TEXT };
            ui.label(RichText::new(message).color(colour));
        }
    });
}

/// The dialog that asks for the reason of an edit; the edit is sent only with a reason.
fn reason_dialog_ui(ui: &mut egui::Ui, state: &mut ReviewUi, busy: bool, actions: &mut Vec<ReviewAction>) {
    let Some(dialog) = &mut state.dialog else { return };
    let mut close = false;
    let modal = egui::Modal::new(egui::Id::unique("review-reason")).show(ui.ctx(), |ui| {
        ui.set_width(460.0);
        ui.heading(&dialog.title);
        if let Some(warning) = &dialog.warning {
            ui.label(RichText::new(warning).color(theme::WARNING));
        }
        ui.label("Every change to a stored number is audited. Say why:");
        let label = ui.label("Reason");
        let edit = ui.add(
            egui::TextEdit::singleline(&mut dialog.reason)
                .desired_width(f32::INFINITY)
                .hint_text("e.g. ectopic beat, catheter whip, Doppler signal lost"),
        );
        let edit = edit.labelled_by(label.id);
        // The reason is what the dialog asks for: the cursor starts in it.
        if !edit.has_focus() && !edit.lost_focus() && dialog.reason.is_empty() {
            edit.request_focus();
        }
        let entered = super::keys::entered(&edit);
        if dialog.reason.trim().is_empty() {
            ui.label(RichText::new("A reason is required.").color(theme::TEXT_DIM));
        }
        let warnings = crate::store::text_warnings(&dialog.reason);
        for warning in &warnings {
            ui.label(RichText::new(warning.to_string()).color(theme::WARNING));
        }
        ui.horizontal(|ui| {
            let ready = !dialog.reason.trim().is_empty() && warnings.is_empty() && !busy;
            if ui.add_enabled(ready, egui::Button::new("Save")).clicked() || (ready && entered) {
                let reason = dialog.reason.trim().to_owned();
                let edit = match &dialog.edit {
                    Edit::SetVerdict {
                        window_id,
                        number,
                        verdict: Some(_),
                    } => Edit::SetVerdict {
                        window_id: *window_id,
                        number: *number,
                        verdict: Some(crate::model::RejectReason::Manual(reason.clone())),
                    },
                    other => other.clone(),
                };
                actions.push(ReviewAction::Apply(edit, reason));
                close = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
        ui.label(RichText::new("Enter: Save. Esc: Cancel.").color(theme::TEXT_DIM));
    });
    if close || modal.should_close() {
        state.dialog = None;
    }
}
