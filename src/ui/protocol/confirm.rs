//! The confirmation dialogs: what the pending action is, what the operator is asked to acknowledge, and the two
//! answers. Every dialog answers from the keyboard as it says: Enter gives the default (the action asked
//! about), Escape cancels, and the function key that asked a move (F8 Next, F7 Back) confirms it when pressed
//! again.

use egui::{Key, RichText, Ui};

use crate::protocol::{Event, PendingAction, State};
use crate::ui::{keys, theme};

use super::Shortcut;

/// A modal question with its default answer `yes` (Enter, and `shortcut` when given) and `no` (Escape).
/// Returns `Some(true)` for yes, `Some(false)` for no, `None` while unanswered.
pub fn question_ui(
    ui: &mut Ui,
    id: &str,
    question: &str,
    details: &[String],
    (yes, no): (&str, &str),
    shortcut: Option<Shortcut>,
) -> Option<bool> {
    // A text field behind the dialog (the note, say) would otherwise keep the keyboard: the dialog takes it.
    if ui.ctx().text_edit_focused() {
        ui.ctx().memory_mut(|memory| memory.stop_text_input());
    }
    let mut answer = None;
    let modal = egui::Modal::new(egui::Id::unique(id)).show(ui.ctx(), |ui| {
        ui.set_max_width(520.0);
        ui.label(RichText::new(question).size(theme::TITLE_SIZE - 4.0).strong());
        ui.add_space(6.0);
        for detail in details {
            ui.label(RichText::new(detail).color(theme::WARNING).size(theme::BODY_SIZE));
        }
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            let size = theme::BODY_SIZE + 2.0;
            if ui.button(RichText::new(yes).size(size).strong()).clicked() {
                answer = Some(true);
            }
            if ui.button(RichText::new(no).size(size)).clicked() {
                answer = Some(false);
            }
        });
        let keys_hint = match shortcut {
            Some(shortcut) => format!("Enter or {}: {yes}. Esc: {no}.", shortcut.key_name()),
            None => format!("Enter: {yes}. Esc: {no}."),
        };
        ui.label(RichText::new(keys_hint).color(theme::TEXT_DIM));
        if answer.is_none()
            && (keys::unfocused_key_pressed(ui, Key::Enter)
                || shortcut.is_some_and(|shortcut| keys::function_key_pressed(ui, shortcut.key())))
        {
            answer = Some(true);
        }
    });
    if answer.is_none() && modal.should_close() {
        answer = Some(false);
    }
    answer
}

/// The modal dialog for the pending action, if any. Returns [`Event::Confirm`] or [`Event::Cancel`].
pub fn confirmation_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let pending = state.pending.as_ref()?;
    let (question, yes, no, shortcut) = match &pending.action {
        PendingAction::Move(step) => (
            format!("Leave this step for {}?", step.title()),
            "Leave step",
            "Stay",
            Some(if *step > state.current {
                Shortcut::Next
            } else {
                Shortcut::Back
            }),
        ),
        PendingAction::RecordDevice { .. } => (
            "Record a device that differs from the allocation?".to_owned(),
            "Record as deviation",
            "Cancel",
            None,
        ),
        PendingAction::SignOff { by } => (
            format!("Sign the case off as {by}?"),
            "Confirm sign-off",
            "Cancel",
            None,
        ),
    };
    let mut details: Vec<String> = pending.warnings.iter().map(ToString::to_string).collect();
    if matches!(pending.action, PendingAction::SignOff { .. }) {
        details.push("Signing off stops the recording of this case.".to_owned());
    }
    question_ui(
        ui,
        "protocol-confirmation",
        &question,
        &details,
        (yes, no),
        shortcut,
    )
    .map(|confirmed| if confirmed { Event::Confirm } else { Event::Cancel })
}
