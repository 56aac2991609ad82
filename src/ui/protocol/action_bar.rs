//! The action bar: Back, Capture, Mark event and Next, each with its keyboard shortcut shown on the button, the
//! note field (Enter marks the note), and the reason the last action was refused, on the same row.

use egui::{Key, RichText, Ui};

use crate::protocol::{Event, State, guide, required_window};
use crate::ui::{keys, theme};

use super::ProtocolForms;

/// The protocol's keyboard shortcuts (function keys: they never type into a text field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// Start, stop or repeat the step's capture.
    Capture,
    /// Mark an event now (with the typed note, or a plain marker).
    Mark,
    /// Previous step.
    Back,
    /// Next step.
    Next,
}

impl Shortcut {
    /// Every shortcut.
    pub const ALL: [Shortcut; 4] = [Shortcut::Capture, Shortcut::Mark, Shortcut::Back, Shortcut::Next];

    /// Its key.
    pub fn key(self) -> Key {
        match self {
            Shortcut::Capture => Key::F5,
            Shortcut::Mark => Key::F6,
            Shortcut::Back => Key::F7,
            Shortcut::Next => Key::F8,
        }
    }

    /// The key's name as printed on the button.
    pub fn key_name(self) -> &'static str {
        self.key().name()
    }
}

/// Text of a marker placed with the shortcut before a note is typed.
const PLAIN_MARKER: &str = "Event marked";

/// The action bar. Keyboard shortcuts act as the buttons do.
pub fn action_bar_ui(ui: &mut Ui, state: &State, forms: &mut ProtocolForms) -> Option<Event> {
    // While a confirmation is open its dialog answers the keys (F8 there confirms the move it asked about).
    let asking = state.pending.is_some();
    let pressed = |ui: &mut Ui, shortcut: Shortcut| !asking && keys::function_key_pressed(ui, shortcut.key());
    let mut event = None;
    let open = state.signed_off.is_none() && state.case.is_some();
    ui.horizontal(|ui| {
        let size = theme::BODY_SIZE + 2.0;
        let back = button(
            ui,
            open && state.current as usize > 0,
            "Back",
            Shortcut::Back,
            size,
        );
        if back || (open && pressed(ui, Shortcut::Back)) {
            event = Some(Event::Back);
        }
        if let Some((label, capture_event)) = capture_action(state) {
            let clicked = button(ui, open, label, Shortcut::Capture, size);
            if clicked || (open && pressed(ui, Shortcut::Capture)) {
                event = Some(capture_event);
            }
        }
        ui.separator();
        let note = ui.label("Note");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut forms.mark_text)
                    .hint_text("what happened (Enter marks it)")
                    .desired_width(180.0),
            )
            .labelled_by(note.id);
        let entered = field.lost_focus()
            && ui.input(|input| input.key_pressed(egui::Key::Enter))
            && !forms.mark_text.trim().is_empty();
        if button(ui, open, "Mark event", Shortcut::Mark, size)
            || (open && (entered || pressed(ui, Shortcut::Mark)))
        {
            let text = if forms.mark_text.trim().is_empty() {
                PLAIN_MARKER.to_owned()
            } else {
                forms.mark_text.clone()
            };
            forms.mark_text.clear();
            event = Some(Event::Mark { text });
        }
        ui.separator();
        let has_next = open && state.current as usize + 1 < crate::model::StepId::ALL.len();
        if button(ui, has_next, "Next", Shortcut::Next, size) || (has_next && pressed(ui, Shortcut::Next)) {
            event = Some(Event::Next);
        }
        // On the bar's own row, cut to its width (whole on hover): a refusal never makes the bar taller, so
        // nothing above it moves when one appears or goes.
        if let Some(message) = &forms.message {
            ui.separator();
            let text = RichText::new(message).color(theme::ERROR).size(theme::BODY_SIZE);
            ui.add(egui::Label::new(text).truncate()).on_hover_text(message);
        }
    });
    event
}

fn button(ui: &mut Ui, enabled: bool, text: &str, shortcut: Shortcut, size: f32) -> bool {
    ui.add_enabled(
        enabled,
        egui::Button::new(RichText::new(text).size(size))
            .shortcut_text(RichText::new(shortcut.key_name()).size(size - 4.0)),
    )
    .clicked()
}

/// The Capture button's label and event in the current step: start the required window, stop the running
/// capture, or repeat a finished one.
fn capture_action(state: &State) -> Option<(&'static str, Event)> {
    let required = required_window(state.current)?;
    match state
        .capture
        .as_ref()
        .filter(|capture| guide(state.current).captures.contains(&capture.kind))
    {
        None => Some(("Capture", Event::StartCapture(required))),
        Some(capture) if capture.running() => Some(("Stop capture", Event::StopCapture)),
        Some(capture) => Some(("Repeat capture", Event::StartCapture(capture.kind))),
    }
}
