//! The protocol steps as a list: the current one highlighted, each with its status in words; clicking a step goes
//! there (the state machine refuses steps that cannot be reached yet, with the reason).

use egui::{RichText, Ui};

use crate::model::StepId;
use crate::protocol::{Event, State, StepStatus};
use crate::ui::theme;

/// The step list. Returns a [`Event::GoTo`] when the operator clicks another step.
pub fn step_list_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let mut event = None;
    for (number, step) in StepId::ALL.into_iter().enumerate() {
        let status = state.status(step);
        let (word, colour) = match status {
            StepStatus::Current => ("now", theme::ACCENT),
            StepStatus::Complete => ("done", theme::OK),
            StepStatus::Skipped => ("skipped", theme::WARNING),
            StepStatus::Incomplete => ("to finish", theme::WARNING),
            StepStatus::NotStarted => ("to do", theme::TEXT_DIM),
        };
        let current = status == StepStatus::Current;
        let title = RichText::new(format!("{}. {}", number + 1, step.title())).size(theme::BODY_SIZE);
        let title = if current {
            title.strong().color(theme::ACCENT)
        } else {
            title
        };
        let response = ui
            .add(
                egui::Button::selectable(current, title)
                    .right_text(RichText::new(word).color(colour))
                    .min_size(egui::vec2(ui.available_width(), 28.0)),
            )
            .on_hover_text(crate::protocol::guide(step).instructions);
        if response.clicked() && !current {
            event = Some(Event::GoTo(step));
        }
    }
    event
}
