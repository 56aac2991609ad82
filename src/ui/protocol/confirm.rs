//! The confirmation dialog: what the pending action is, what the operator is asked to acknowledge, and the two
//! answers (Escape cancels).

use egui::{RichText, Ui};

use crate::protocol::{Event, PendingAction, State};
use crate::ui::theme;

/// The modal dialog for the pending action, if any. Returns [`Event::Confirm`] or [`Event::Cancel`].
pub fn confirmation_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let pending = state.pending.as_ref()?;
    let (question, yes, no) = match &pending.action {
        PendingAction::Move(step) => (
            format!("Leave this step for {}?", step.title()),
            "Leave step",
            "Stay",
        ),
        PendingAction::RecordDevice { .. } => (
            "Record a device that differs from the allocation?".to_owned(),
            "Record as deviation",
            "Cancel",
        ),
        PendingAction::SignOff { by } => (
            format!("Sign the case off as {by}?"),
            "Confirm sign-off",
            "Cancel",
        ),
    };
    let mut event = None;
    let modal = egui::Modal::new(egui::Id::unique("protocol-confirmation")).show(ui.ctx(), |ui| {
        ui.set_max_width(520.0);
        ui.label(RichText::new(question).size(theme::TITLE_SIZE - 4.0).strong());
        ui.add_space(6.0);
        for warning in &pending.warnings {
            ui.label(
                RichText::new(warning.to_string())
                    .color(theme::WARNING)
                    .size(theme::BODY_SIZE),
            );
        }
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            let size = theme::BODY_SIZE + 2.0;
            if ui.button(RichText::new(yes).size(size)).clicked() {
                event = Some(Event::Confirm);
            }
            if ui.button(RichText::new(no).size(size)).clicked() {
                event = Some(Event::Cancel);
            }
        });
    });
    if event.is_none() && modal.should_close() {
        event = Some(Event::Cancel);
    }
    event
}
