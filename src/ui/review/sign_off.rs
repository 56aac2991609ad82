//! Sign-off: the signatures so far, each VALID or INVALIDATED (naming the first edit after it: who, when, what,
//! why), and the form to sign: the name, what the signature means, the statement it attests and the results
//! digest it will be bound to.

use egui::RichText;

use super::{ReviewAction, ReviewUi};
use crate::review::session::{Edit, Snapshot};
use crate::review::sign_off::{SignOffState, SignatureMeaning, attested_sentence};
use crate::ui::icons::{Icon, icon_ui};
use crate::ui::theme;

pub(super) fn sign_off_ui(
    ui: &mut egui::Ui,
    state: &mut ReviewUi,
    snapshot: &Snapshot,
    reviewer: &str,
    busy: bool,
    actions: &mut Vec<ReviewAction>,
) {
    ui.heading("Sign-off");
    if snapshot.sign_offs.is_empty() {
        ui.label("Not signed off yet.");
    }
    for status in &snapshot.sign_offs {
        let sign_off = &status.sign_off;
        ui.group(|ui| {
            ui.horizontal(|ui| match &status.state {
                SignOffState::Valid => {
                    icon_ui(ui, Icon::Tick, theme::OK, 22.0);
                    ui.label(RichText::new("VALID").strong().color(theme::OK));
                }
                SignOffState::Invalidated { .. } => {
                    icon_ui(ui, Icon::Warning, theme::WARNING, 22.0);
                    ui.label(RichText::new("INVALIDATED").strong().color(theme::WARNING));
                }
            });
            ui.label(format!(
                "Signed by {} as {}, {} UTC",
                sign_off.who, sign_off.role, sign_off.utc
            ));
            ui.label(RichText::new(attested_sentence(&sign_off.statement)).italics());
            if let Some(digest) = &status.signed_digest {
                ui.label(
                    RichText::new(format!("Bound to results SHA-256 {digest}"))
                        .color(theme::TEXT_DIM)
                        .small(),
                );
            }
            match &status.state {
                SignOffState::Invalidated {
                    first_edit,
                    num_edits,
                    results_changed,
                } => {
                    ui.label(
                        RichText::new(format!(
                            "Edited after signing: {} by {} at {} UTC ({}); {num_edits} change(s) since.",
                            first_edit.action.replace('_', " "),
                            first_edit.who,
                            first_edit.utc,
                            first_edit.reason
                        ))
                        .color(theme::WARNING),
                    );
                    ui.label(match (&status.signed_digest, results_changed) {
                        (None, _) => {
                            "This signature is bound to no results digest, so whether the numbers changed cannot \
                             be told: sign again after reviewing them."
                        }
                        (Some(_), true) => "The results differ from those signed: sign again after reviewing them.",
                        (Some(_), false) => {
                            "The stored results are still those signed, but what they are read with changed: \
                             sign again after reviewing them."
                        }
                    });
                }
                SignOffState::Valid if status.num_notes_since > 0 => {
                    ui.label(
                        RichText::new(format!(
                            "{} note(s) added since; notes do not change what was signed.",
                            status.num_notes_since
                        ))
                        .color(theme::TEXT_DIM),
                    );
                }
                SignOffState::Valid => {}
            }
        });
    }
    ui.add_space(12.0);
    ui.label(RichText::new("Sign the case").strong());
    ui.label(format!("Name: {reviewer} (the reviewer who opened the case)"));
    ui.horizontal(|ui| {
        ui.label("Meaning");
        for meaning in SignatureMeaning::ALL {
            ui.radio_value(&mut state.meaning, meaning, meaning.label());
        }
    });
    ui.label(RichText::new(state.meaning.statement()).italics());
    ui.label(
        RichText::new(
            "The signature records your name, this meaning and the UTC time, bound to a SHA-256 of the current \
             results; a later change of a window, a beat, a result, the follow-up or a calibration invalidates it \
             visibly (notes do not).",
        )
        .color(theme::TEXT_DIM),
    );
    let ready = !busy;
    if ui
        .add_enabled(
            ready,
            egui::Button::new(RichText::new("Sign").strong()).min_size(theme::BUTTON_MIN_SIZE),
        )
        .clicked()
    {
        actions.push(ReviewAction::Apply(
            Edit::SignOff {
                meaning: state.meaning,
            },
            String::new(),
        ));
    }
}
