//! Choosing a case for review: the case files of the data folder (or any path) and the reviewer's name, which
//! every edit and the sign-off will carry.

use std::path::PathBuf;

use egui::RichText;

use crate::ui::theme;

/// The chooser's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChooserState {
    /// The data folder listed, when known.
    pub data_dir: Option<PathBuf>,
    /// Its case files.
    pub files: Vec<PathBuf>,
    /// Why the folder could not be listed.
    pub error: Option<String>,
    /// A path typed by hand.
    pub path: String,
    /// The reviewer's name.
    pub reviewer: String,
}

impl ChooserState {
    /// Lists the case files of `data_dir`.
    pub fn new(data_dir: Option<PathBuf>) -> ChooserState {
        let (files, error) = match &data_dir {
            Some(dir) => match crate::store::list_case_files(dir) {
                Ok(files) => (files, None),
                Err(error) => (Vec::new(), Some(error.to_string())),
            },
            None => (
                Vec::new(),
                Some("no data folder is known; type the case file's path".into()),
            ),
        };
        ChooserState {
            data_dir,
            files,
            error,
            ..ChooserState::default()
        }
    }
}

/// What the chooser asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ChooserAction {
    /// Open this case file as this reviewer.
    Open(PathBuf, String),
    /// Back to the live monitor.
    Close,
}

/// Draws the chooser.
pub fn chooser_ui(ui: &mut egui::Ui, state: &mut ChooserState) -> Option<ChooserAction> {
    let mut action = None;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.heading("Open a case for review");
        ui.horizontal(|ui| {
            let label = ui.label("Reviewer");
            ui.add(
                egui::TextEdit::singleline(&mut state.reviewer).hint_text("your name as it will be audited"),
            )
            .labelled_by(label.id);
        });
        let named = !state.reviewer.trim().is_empty();
        if !named {
            ui.label(
                RichText::new("Enter your name first: every edit and the sign-off carry it.")
                    .color(theme::TEXT_DIM),
            );
        }
        if let Some(dir) = &state.data_dir {
            ui.label(RichText::new(format!("Cases in {}", dir.display())).color(theme::TEXT_DIM));
        }
        if let Some(error) = &state.error {
            ui.label(RichText::new(error).color(theme::WARNING));
        }
        for file in &state.files {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ui.add_enabled(named, egui::Button::new(name)).clicked() {
                action = Some(ChooserAction::Open(
                    file.clone(),
                    state.reviewer.trim().to_owned(),
                ));
            }
        }
        ui.horizontal(|ui| {
            let label = ui.label("Case file");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut state.path)
                        .desired_width(420.0)
                        .hint_text("path to a .heracles file"),
                )
                .labelled_by(label.id);
            let ready = named && !state.path.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new("Open")).clicked()
                || (ready && crate::ui::keys::entered(&field))
            {
                action = Some(ChooserAction::Open(
                    PathBuf::from(state.path.trim()),
                    state.reviewer.trim().to_owned(),
                ));
            }
        });
        if ui.button("Back to the live monitor").clicked() {
            action = Some(ChooserAction::Close);
        }
    });
    action
}
