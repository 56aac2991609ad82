//! The follow-up form: randomisation time, the ECMO outcome with its days, ICU stays (discharges and
//! readmissions), death and the 6-month contact. Days are typed as numbers or as dates, which are turned into
//! days from randomisation at once (the date itself is never stored). The clinical endpoints are shown as they
//! will be computed, before saving.

use egui::RichText;

use super::ReasonDialog;
use crate::analysis::clinical::IcuStay;
use crate::review::follow_up::{Computed, EcmoOutcomeEntry, FollowUpForm, parse_day, parse_randomisation};
use crate::review::session::{Edit, Snapshot};
use crate::ui::theme;

/// The form as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FollowUpDraft {
    /// Filled from the case once.
    pub loaded: bool,
    /// Randomisation time, `YYYY-MM-DD HH:MM` UTC.
    pub randomised: String,
    /// ECMO outcome.
    pub outcome: Option<EcmoOutcomeEntry>,
    /// Decannulation day or date.
    pub decannulation: String,
    /// Re-cannulation day or date.
    pub recannulation: String,
    /// Bridge (VAD/transplant) day or date.
    pub bridge: String,
    /// ICU stays: admission and discharge, days or dates.
    pub stays: Vec<(String, String)>,
    /// Day or date of death.
    pub death: String,
    /// Last contact, day or date.
    pub last_contact: String,
}

fn day_text(day: Option<f64>) -> String {
    day.map(|d| d.to_string()).unwrap_or_default()
}

impl FollowUpDraft {
    /// The draft of a stored form.
    pub fn of(form: &FollowUpForm) -> FollowUpDraft {
        FollowUpDraft {
            loaded: true,
            randomised: form
                .randomised()
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            outcome: form.decannulation.outcome,
            decannulation: day_text(form.decannulation.decannulation_day),
            recannulation: day_text(form.decannulation.recannulation_day),
            bridge: day_text(form.decannulation.bridge_day),
            stays: form
                .icu
                .stays
                .iter()
                .map(|s| (s.admission_day.to_string(), day_text(s.discharge_day)))
                .collect(),
            death: day_text(form.death.death_day),
            last_contact: day_text(form.month_6.last_contact_day),
        }
    }

    /// The form, or the first field that does not read.
    pub fn form(&self) -> Result<FollowUpForm, String> {
        let randomised = match self.randomised.trim() {
            "" => None,
            text => Some(parse_randomisation(text)?),
        };
        let day = |text: &str| -> Result<Option<f64>, String> {
            match text.trim() {
                "" => Ok(None),
                text => parse_day(text, randomised).map(Some),
            }
        };
        let mut form = FollowUpForm::default();
        form.randomisation.randomised_utc =
            randomised.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        form.decannulation.outcome = self.outcome;
        form.decannulation.decannulation_day = day(&self.decannulation)?;
        form.decannulation.recannulation_day = day(&self.recannulation)?;
        form.decannulation.bridge_day = day(&self.bridge)?;
        for (admission, discharge) in &self.stays {
            let admission_day = day(admission)?.ok_or("an ICU stay needs its admission day")?;
            form.icu.stays.push(IcuStay {
                admission_day,
                discharge_day: day(discharge)?,
            });
        }
        form.death.death_day = day(&self.death)?;
        form.month_6.last_contact_day = day(&self.last_contact)?;
        Ok(form)
    }
}

fn field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .desired_width(180.0)
            .hint_text(hint),
    )
    .labelled_by(label.id);
    ui.end_row();
}

fn computed_text<T>(value: &Computed<T>, show: impl Fn(&T) -> String) -> (String, bool) {
    match value {
        Computed::Value(v) => (show(v), true),
        Computed::Unavailable(reason) => (format!("no value: {reason}"), false),
    }
}

pub(super) fn follow_up_ui(
    ui: &mut egui::Ui,
    draft: &mut FollowUpDraft,
    snapshot: &Snapshot,
    dialog: &mut Option<ReasonDialog>,
    busy: bool,
) {
    if !draft.loaded {
        *draft = FollowUpDraft::of(&snapshot.follow_up);
    }
    ui.heading("Follow-up");
    ui.label(
        RichText::new("Days are counted from randomisation: type a number of days (e.g. 5.5) or a date (YYYY-MM-DD [HH:MM], UTC); only the day count is stored.")
            .color(theme::TEXT_DIM),
    );
    ui.columns(2, |columns| {
        let ui = &mut columns[0];
        egui::Grid::new("follow-up-form")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                field(
                    ui,
                    "Randomisation (UTC)",
                    &mut draft.randomised,
                    "YYYY-MM-DD HH:MM",
                );
                ui.label("ECMO outcome");
                egui::ComboBox::from_id_salt("ecmo-outcome")
                    .selected_text(draft.outcome.map_or("not entered", EcmoOutcomeEntry::label))
                    .show_ui(ui, |ui| {
                        for outcome in EcmoOutcomeEntry::ALL {
                            ui.selectable_value(&mut draft.outcome, Some(outcome), outcome.label());
                        }
                    });
                ui.end_row();
                field(ui, "Decannulation", &mut draft.decannulation, "day or date");
                field(
                    ui,
                    "Re-cannulation",
                    &mut draft.recannulation,
                    "day or date, if any",
                );
                field(
                    ui,
                    "Bridge to VAD/transplant",
                    &mut draft.bridge,
                    "day or date, if any",
                );
                field(ui, "Death", &mut draft.death, "day or date, if died");
                field(
                    ui,
                    "Last contact (6-month)",
                    &mut draft.last_contact,
                    "day or date",
                );
            });
        ui.add_space(8.0);
        ui.label(RichText::new("ICU stays (admission, discharge)").strong());
        let mut remove = None;
        for (i, (admission, discharge)) in draft.stays.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(admission)
                        .desired_width(90.0)
                        .hint_text("admitted"),
                );
                ui.add(
                    egui::TextEdit::singleline(discharge)
                        .desired_width(90.0)
                        .hint_text("discharged"),
                );
                if ui.button("Remove").clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            draft.stays.remove(i);
        }
        ui.horizontal(|ui| {
            if ui.button("Add ICU stay").clicked() {
                draft.stays.push((
                    if draft.stays.is_empty() {
                        "0".into()
                    } else {
                        String::new()
                    },
                    String::new(),
                ));
            }
        });

        let ui = &mut columns[1];
        ui.label(RichText::new("Clinical endpoints").strong());
        match draft.form() {
            Err(error) => {
                ui.label(RichText::new(error).color(theme::ERROR));
            }
            Ok(form) => {
                let horizons = crate::review::analysis::case_settings(&snapshot.analysis).clinical;
                let endpoints = form.endpoints(&horizons);
                let (decannulation, ok) = computed_text(&endpoints.decannulation, |o| {
                    serde_json::to_value(o)
                        .ok()
                        .and_then(|v| v.as_object().cloned())
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| {
                                    format!(
                                        "{}: {}",
                                        k.replace('_', " "),
                                        v.as_str().map_or(v.to_string(), |s| s.replace('_', " "))
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default()
                });
                ui.label(
                    RichText::new(format!("Time to decannulation: {decannulation}")).color(if ok {
                        theme::TEXT
                    } else {
                        theme::TEXT_DIM
                    }),
                );
                if endpoints.outcome_differs_from_entry {
                    ui.label(
                        RichText::new("The computed outcome differs from the one entered: check the form.")
                            .color(theme::WARNING),
                    );
                }
                let (days, ok) = computed_text(&endpoints.days_alive_out_of_icu_30, |d| format!("{d} days"));
                ui.label(
                    RichText::new(format!("Days alive and out of ICU at 30 days: {days}")).color(if ok {
                        theme::TEXT
                    } else {
                        theme::TEXT_DIM
                    }),
                );
                let (status, ok) = computed_text(&endpoints.six_month_status, |s| match s.day_words() {
                    Some(day) => format!("{} ({day})", s.words()),
                    None => s.words().to_owned(),
                });
                ui.label(RichText::new(format!("6-month status: {status}")).color(if ok {
                    theme::TEXT
                } else {
                    theme::TEXT_DIM
                }));
                ui.add_space(12.0);
                let changed = form != snapshot.follow_up;
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(changed && !busy, egui::Button::new("Save follow-up…"))
                        .clicked()
                    {
                        *dialog = Some(ReasonDialog {
                            edit: Edit::SetFollowUp(Box::new(form)),
                            title: "Save the follow-up".into(),
                            reason: String::new(),
                            warning: None,
                        });
                    }
                    if ui.add_enabled(changed, egui::Button::new("Revert")).clicked() {
                        *draft = FollowUpDraft::of(&snapshot.follow_up);
                    }
                });
            }
        }
    });
}
