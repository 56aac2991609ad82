//! The start screen: who is working (the operator every action of the case is attributed to, demo cases
//! included), then a new trial case (pseudonymous case id checked as it is typed, site), an existing case from
//! the data folder, or a demo case on the simulated patient.

use std::path::PathBuf;

use egui::{RichText, Ui};

use crate::model::{CaseId, Site};
use crate::protocol::Event;
use crate::ui::theme;
use crate::ui::upload::CaseUploads;

use super::forms::text_field;

/// What the operator typed on the start screen.
#[derive(Clone, Debug, Default)]
pub struct StartForm {
    /// The case id, `HER-<site>-<4 digits>`.
    pub case_id: String,
    /// The site.
    pub site: Option<Site>,
    /// The operator.
    pub operator: String,
}

/// A case file found in the data folder.
#[derive(Clone, Debug, PartialEq)]
pub struct ExistingCase {
    /// Its case id.
    pub case_id: CaseId,
    /// Where it is.
    pub path: PathBuf,
    /// One line about it (protocol step reached, when last changed).
    pub summary: String,
}

/// What the operator chose on the start screen.
#[derive(Clone, Debug, PartialEq)]
pub enum StartChoice {
    /// Set up a new case (the app creates its file and hands the event to the protocol).
    NewCase(Event),
    /// Open an existing case file.
    Open(PathBuf),
    /// Review a recorded case file offline (the review screen's chooser, with this file filled in).
    Review(PathBuf),
    /// Start a demo case on the simulated patient, run by this operator.
    Demo {
        /// The operator, as entered on the start screen.
        operator: String,
    },
}

/// The start screen. `cases` are the case files in the data folder, newest first, each shown with its upload
/// state from `uploads` (whose actions it collects).
pub fn start_ui(
    ui: &mut Ui,
    form: &mut StartForm,
    cases: &[ExistingCase],
    uploads: &mut CaseUploads<'_>,
    message: Option<&str>,
) -> Option<StartChoice> {
    let mut choice = None;
    ui.add_space(12.0);
    ui.label(RichText::new("HERACLES case").size(theme::TITLE_SIZE).strong());
    ui.label(
        RichText::new("VA-ECMO with LV unloading by IABP or Impella: coronary flow reserve and PV loops")
            .color(theme::TEXT_DIM),
    );
    ui.add_space(12.0);
    let field = text_field(ui, "Operator", &mut form.operator, "your name or staff code");
    // The first thing to type: the cursor starts there (Tab would otherwise start at the top bar's tabs, where a
    // typed space switches the view).
    if form.operator.is_empty() && ui.ctx().memory(|memory| memory.focused().is_none()) {
        field.request_focus();
    }
    let operator = form.operator.trim().to_owned();
    ui.label(
        RichText::new("Every action in the case, and its sign-off, carries this name.")
            .color(theme::TEXT_DIM),
    );
    ui.add_space(8.0);
    ui.columns(3, |columns| {
        card(&mut columns[0], "New case", |ui| {
            let (valid, entered) = new_case_ui(ui, form);
            if (ui.add_enabled(valid, egui::Button::new(RichText::new("Create case").size(theme::BODY_SIZE + 2.0))).clicked()
                || (valid && entered))
                && let Some(site) = form.site
            {
                choice = Some(StartChoice::NewCase(Event::SetUpCase {
                    case_id: form.case_id.clone(),
                    site,
                    operator: form.operator.clone(),
                }));
            }
        });
        card(&mut columns[1], "Open a case", |ui| {
            if cases.is_empty() {
                ui.label(RichText::new("No case files in the data folder yet.").color(theme::TEXT_DIM));
            }
            egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                for case in cases {
                    ui.horizontal(|ui| {
                        if ui.button(format!("Open {}", case.case_id)).clicked() {
                            choice = Some(StartChoice::Open(case.path.clone()));
                        }
                        if ui
                            .button("Review")
                            .on_hover_text("Review the recorded case offline: beats, windows, sign-off, export")
                            .clicked()
                        {
                            choice = Some(StartChoice::Review(case.path.clone()));
                        }
                        ui.label(RichText::new(&case.summary).color(theme::TEXT_DIM));
                    });
                    uploads.case_ui(ui, &case.case_id.to_string(), &case.path);
                }
            });
        });
        card(&mut columns[2], "Demo case", |ui| {
            ui.label(
                "Walk a whole case on the simulated patient: the device you record is given to the simulated \
                 patient, so the post-unloading numbers respond. Stored as a HER-DEM case, never a trial case.",
            );
            ui.add_space(6.0);
            let named = !operator.is_empty();
            let button = egui::Button::new(RichText::new("Start demo case").size(theme::BODY_SIZE + 2.0));
            if ui.add_enabled(named, button).clicked() {
                choice = Some(StartChoice::Demo {
                    operator: operator.clone(),
                });
            }
            if !named {
                ui.label(RichText::new("Enter the operator first.").color(theme::WARNING));
            }
        });
    });
    if let Some(message) = message {
        ui.add_space(8.0);
        ui.label(RichText::new(message).color(theme::ERROR).size(theme::BODY_SIZE));
    }
    choice
}

fn card(ui: &mut Ui, title: &str, add_contents: impl FnOnce(&mut Ui)) {
    egui::Frame::new()
        .fill(theme::BAR_BACKGROUND)
        .inner_margin(12.0)
        .corner_radius(6.0)
        .show(ui, |ui| {
            ui.set_min_height(260.0);
            ui.label(RichText::new(title).size(theme::BODY_SIZE + 4.0).strong());
            ui.add_space(6.0);
            add_contents(ui);
        });
}

/// The new-case fields, with the case id checked as it is typed. Returns whether they can be submitted, and
/// whether Enter was pressed in the case id (which submits them).
fn new_case_ui(ui: &mut Ui, form: &mut StartForm) -> (bool, bool) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Site");
        for site in Site::TRIAL {
            ui.selectable_value(&mut form.site, Some(site), site.label());
        }
    });
    let hint = format!("HER-{}-0001", form.site.unwrap_or(Site::Sth).code());
    let field = text_field(ui, "Case id", &mut form.case_id, &hint);
    let id: Result<CaseId, String> = form
        .case_id
        .trim()
        .parse()
        .map_err(|error: crate::model::CaseIdError| error.to_string());
    let problem = match (&id, form.site) {
        _ if form.case_id.trim().is_empty() => Some("Enter the case id from the trial system.".to_owned()),
        (Err(error), _) => Some(format!("Not valid: {error}.")),
        (Ok(_), None) => Some("Choose the site.".to_owned()),
        (Ok(id), Some(site)) if id.site() != site => Some(format!(
            "{id} belongs to {}, not {}.",
            id.site().label(),
            site.label()
        )),
        _ if form.operator.trim().is_empty() => Some("Enter the operator.".to_owned()),
        _ => None,
    };
    match &problem {
        Some(problem) => ui.label(RichText::new(problem).color(theme::WARNING)),
        None => ui.label(RichText::new("Case id valid.").color(theme::OK)),
    };
    ui.label(RichText::new("Never enter a name, date of birth or hospital number.").color(theme::TEXT_DIM));
    (problem.is_none(), crate::ui::keys::entered(&field))
}
