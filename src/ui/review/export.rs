//! The Export tab: which parts (endpoints CSV+JSON, per-beat CSV, WFDB waveforms, PDF report, endpoints as CDISC
//! ODM) into which folder.
//! The folder is typed, or chosen in the system's dialog, which the app runs asynchronously off the UI thread;
//! the export itself runs on its own thread in the app and is refused, naming the field, when a free-text field looks like it holds an identifier.

use std::path::PathBuf;

use egui::RichText;

use super::ReviewAction;
use crate::export::ExportWhat;
use crate::ui::{keys, theme};

/// What the reviewer chose to export, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportDraft {
    /// The folder, as typed (created if missing; it must not already hold this case's files).
    pub folder: String,
    /// The parts.
    pub what: ExportWhat,
}

impl Default for ExportDraft {
    /// Everything, into no folder yet.
    fn default() -> ExportDraft {
        ExportDraft {
            folder: String::new(),
            what: ExportWhat::ALL,
        }
    }
}

/// Draws the export form; `running` disables it while an export (or an edit) is under way, `outcome` is the last
/// export's message (`true`: refused or failed).
pub(super) fn export_ui(
    ui: &mut egui::Ui,
    draft: &mut ExportDraft,
    running: bool,
    outcome: Option<(&str, bool)>,
    actions: &mut Vec<ReviewAction>,
) {
    ui.heading("Export");
    ui.label(
        "Every number comes from the case file's stored results. Exports carry the pseudonymous case id only, \
         times in UTC and people by role (operator 1, reviewer 1), never by name; every file says whether the case \
         was recorded, simulated or imported. An export is refused if a note, marker, reason or statement looks \
         like it holds an identifier.",
    );
    ui.add_space(8.0);
    let mut folder_entered = false;
    ui.horizontal(|ui| {
        let label = ui.label("Folder");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut draft.folder)
                    .desired_width(560.0)
                    .hint_text("e.g. /media/usb/heracles"),
            )
            .labelled_by(label.id);
        folder_entered = keys::entered(&field);
        if ui
            .add_enabled(!running, egui::Button::new("Choose…"))
            .on_hover_text("The system's folder dialog (the screen keeps running while it is open)")
            .clicked()
        {
            actions.push(ReviewAction::ChooseFolder);
        }
    });
    ui.checkbox(&mut draft.what.endpoints, "Endpoint table (CSV and JSON)");
    ui.checkbox(&mut draft.what.beats, "Per-beat table (CSV)");
    ui.checkbox(
        &mut draft.what.wfdb,
        "Waveforms (WFDB format 16, header with units and gains)",
    );
    ui.checkbox(&mut draft.what.report, "One-page case report (PDF)");
    ui.checkbox(
        &mut draft.what.odm,
        "Endpoints for the trial database (CDISC ODM 1.3.2 XML)",
    );
    let what = draft.what;
    let anything = what.needs_analysis() || what.wfdb;
    let folder = draft.folder.trim();
    let ready = anything && !folder.is_empty() && !running;
    ui.add_space(8.0);
    if ui
        .add_enabled(
            ready,
            egui::Button::new(RichText::new("Export to folder").strong()).min_size(theme::BUTTON_MIN_SIZE),
        )
        .clicked()
        || (ready && folder_entered)
    {
        actions.push(ReviewAction::Export {
            folder: PathBuf::from(folder),
            what,
        });
    }
    if running {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Exporting…");
        });
    }
    if let Some((message, error)) = outcome {
        let colour = if error { theme::ERROR } else { theme::OK };
        ui.label(RichText::new(message).color(colour));
    }
}
