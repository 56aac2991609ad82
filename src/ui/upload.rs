//! The upload in the app: the Upload section of Settings (archive URL, kind, user, password, test connection),
//! each case's upload state with "Upload now" (start screen, review), and the queue's status line. Pure egui
//! over plain state ([`UploadForm`], [`UploadStatus`]); what the user asks for comes back as [`UploadAction`]s
//! for the app to hand to the upload thread. The password typed here goes only into the private secrets file
//! (on Save) and is never shown again.

use std::path::{Path, PathBuf};

use egui::{ComboBox, RichText, TextEdit, Ui};

use crate::store::UploadState;
use crate::upload::settings::{AuthKind, UploadSettings};
use crate::upload::worker::UploadStatus;
use crate::upload::{ArchiveKind, QueueCounts, entry_words};

use super::{keys, theme};

/// What the user asked of the upload.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadAction {
    /// Save the settings (and the password, when one was typed, into the private secrets file).
    Save {
        /// The settings.
        settings: UploadSettings,
        /// The password or token typed, if any.
        password: Option<String>,
    },
    /// Check the connection and login with the saved settings.
    TestConnection,
    /// Queue this case and send it now.
    UploadNow {
        /// The case file.
        case_path: PathBuf,
        /// Why it goes although not validly signed off (audited; used only when it is not).
        unsigned_reason: Option<String>,
    },
}

/// The Upload section's fields as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UploadForm {
    /// The settings being edited.
    pub settings: UploadSettings,
    /// The password or token typed (empty: keep the saved one).
    pub password: String,
    /// What the last Save did.
    pub message: Option<Result<String, String>>,
}

/// The Upload section of Settings.
pub fn upload_settings_ui(ui: &mut Ui, form: &mut UploadForm, status: &UploadStatus) -> Vec<UploadAction> {
    let mut actions = Vec::new();
    ui.heading("Upload");
    ui.label(
        RichText::new(
            "Where each signed-off case goes: the core lab's archive (Orthanc, DICOMweb) or a PACS.",
        )
        .color(theme::TEXT_DIM),
    );
    ui.horizontal(|ui| {
        let label = ui.label("Server");
        ui.add(
            TextEdit::singleline(&mut form.settings.server)
                .hint_text("https://corelab.example/orthanc")
                .desired_width(300.0),
        )
        .labelled_by(label.id);
    });
    ComboBox::from_label("Kind")
        .selected_text(form.settings.kind.label())
        .show_ui(ui, |ui| {
            for kind in ArchiveKind::ALL {
                ui.selectable_value(&mut form.settings.kind, kind, kind.label());
            }
        });
    ui.horizontal(|ui| {
        let label = ui.label("User");
        ui.add(TextEdit::singleline(&mut form.settings.user).desired_width(300.0))
            .labelled_by(label.id);
    });
    ComboBox::from_label("Login")
        .selected_text(auth_label(form.settings.auth))
        .show_ui(ui, |ui| {
            for auth in [AuthKind::Basic, AuthKind::Bearer, AuthKind::None] {
                ui.selectable_value(&mut form.settings.auth, auth, auth_label(auth));
            }
        });
    ui.horizontal(|ui| {
        let label = ui.label("Password");
        ui.add(
            TextEdit::singleline(&mut form.password)
                .password(true)
                .hint_text("unchanged")
                .desired_width(300.0),
        )
        .labelled_by(label.id);
    });
    if form.settings.kind == ArchiveKind::Dimse {
        ui.horizontal(|ui| {
            let label = ui.label("Calling AE title");
            ui.add(TextEdit::singleline(&mut form.settings.calling_ae_title).desired_width(160.0))
                .labelled_by(label.id);
        });
    }
    ui.horizontal(|ui| {
        if ui.button("Save upload settings").clicked() {
            let password = std::mem::take(&mut form.password);
            actions.push(UploadAction::Save {
                settings: form.settings.clone(),
                password: (!password.is_empty()).then_some(password),
            });
        }
        if ui.button("Test connection").clicked() {
            actions.push(UploadAction::TestConnection);
        }
    });
    message_ui(ui, form.message.as_ref());
    match &status.connection {
        Some(Ok(answer)) => {
            ui.label(RichText::new(format!("Connected: {answer}")).color(theme::OK));
        }
        Some(Err(problem)) => {
            ui.label(RichText::new(format!("Connection failed: {problem}")).color(theme::ERROR));
        }
        None => {}
    }
    actions
}

fn auth_label(auth: AuthKind) -> &'static str {
    match auth {
        AuthKind::Basic => "user and password",
        AuthKind::Bearer => "token",
        AuthKind::None => "none",
    }
}

fn message_ui(ui: &mut Ui, message: Option<&Result<String, String>>) {
    match message {
        Some(Ok(text)) => {
            ui.label(RichText::new(text).color(theme::OK));
        }
        Some(Err(text)) => {
            ui.label(RichText::new(text).color(theme::ERROR));
        }
        None => {}
    }
}

/// What the case lists need to show each case's upload: the status, the reason field's text, and the actions
/// asked for while drawing.
pub struct CaseUploads<'a> {
    /// The upload thread's status.
    pub status: &'a UploadStatus,
    /// The reason typed for uploading a case that is not validly signed off.
    pub reason: &'a mut String,
    /// What was asked for.
    pub actions: Vec<UploadAction>,
}

impl CaseUploads<'_> {
    /// Draws `case_id`'s upload state and button ([`case_upload_ui`]), keeping what was asked for.
    pub fn case_ui(&mut self, ui: &mut Ui, case_id: &str, case_path: &Path) {
        if let Some(action) = case_upload_ui(ui, case_id, case_path, self.status, self.reason) {
            self.actions.push(action);
        }
    }
}

/// One case's upload state and its "Upload now" button; `reason` is the text offered for a case that is not
/// validly signed off (shown once the case failed).
pub fn case_upload_ui(
    ui: &mut Ui,
    case_id: &str,
    case_path: &Path,
    status: &UploadStatus,
    reason: &mut String,
) -> Option<UploadAction> {
    let entry = status.entry(case_id);
    let mut action = None;
    let sending = status.sending.as_deref() == Some(case_id);
    let upload_now = |reason: &str| UploadAction::UploadNow {
        case_path: case_path.to_owned(),
        unsigned_reason: (!reason.trim().is_empty()).then(|| reason.trim().to_owned()),
    };
    ui.horizontal(|ui| {
        let (words, colour) = match entry {
            None => ("not uploaded".to_owned(), theme::TEXT_DIM),
            Some(entry) => (
                entry_words(entry),
                match entry.state {
                    UploadState::Confirmed => theme::OK,
                    UploadState::Failed => theme::ERROR,
                    _ => theme::WARNING,
                },
            ),
        };
        ui.label(RichText::new(format!("{case_id}: {words}")).color(colour));
        if ui
            .add_enabled(!sending, egui::Button::new("Upload now"))
            .clicked()
        {
            action = Some(upload_now(reason));
        }
    });
    if entry.is_some_and(|e| e.state == UploadState::Failed) {
        ui.horizontal(|ui| {
            let label = ui.label("Reason to upload without a valid sign-off (audited)");
            let field = ui
                .add(TextEdit::singleline(reason).desired_width(260.0))
                .labelled_by(label.id);
            // Enter in the reason is "Upload now", the form's default answer.
            if keys::entered(&field) && !sending {
                action = Some(upload_now(reason));
            }
        });
    }
    action
}

/// The queue's status line: counts by state, the case being sent, and any problem with the queue or settings.
pub fn queue_line_ui(ui: &mut Ui, status: &UploadStatus) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(QueueCounts::of(&status.entries).line()).size(theme::SMALL_SIZE));
        if let Some(case_id) = &status.sending {
            ui.label(
                RichText::new(format!("sending {case_id}"))
                    .size(theme::SMALL_SIZE)
                    .color(theme::WARNING),
            );
        }
        if let Some(problem) = &status.problem {
            ui.label(RichText::new(problem).size(theme::SMALL_SIZE).color(theme::ERROR));
        }
    });
}
