//! Keyboard shortcuts that never fight the widget with focus. A single-key shortcut (Space to freeze, the arrows
//! and +/- of the review traces) acts only when no widget has keyboard focus and no dialog is open: a focused
//! text field types the key ("wire in mid LAD" must not freeze the traces) and a focused button takes Space and
//! Enter as a click. A dialog's Enter (its default answer) acts only when none of its own widgets has focus, or
//! when it comes from one of its single-line text fields ([`entered`]): a single-line field has no use for
//! Enter, so there it confirms the dialog or form the field belongs to, and Escape in it cancels ([`escaped`]).
//! A command-key shortcut (Ctrl+Z) leaves a focused text field its own meaning. Function keys never type, so the
//! protocol's F5-F8 act whatever has focus.

use egui::{Key, Modifiers, Response, Ui};

/// Whether `key` was pressed alone this frame while nothing has focus and no dialog is open (the key is then
/// consumed).
pub fn single_key_pressed(ui: &Ui, key: Key) -> bool {
    let dialog_open = ui.ctx().memory(|memory| memory.top_modal_layer().is_some());
    !dialog_open && unfocused_key_pressed(ui, key)
}

/// Whether `key` was pressed alone this frame while no widget has keyboard focus (the key is then consumed). A
/// dialog's default and cancel keys use this: the dialog itself is open.
pub fn unfocused_key_pressed(ui: &Ui, key: Key) -> bool {
    !ui.ctx().egui_wants_keyboard_input() && ui.input_mut(|input| input.consume_key(Modifiers::NONE, key))
}

/// Whether Ctrl (Cmd on macOS) + `key` was pressed this frame while no text field has focus (the key is then
/// consumed).
pub fn command_key_pressed(ui: &Ui, key: Key) -> bool {
    !ui.ctx().text_edit_focused() && ui.input_mut(|input| input.consume_key(Modifiers::COMMAND, key))
}

/// Whether `key` (a function key) was pressed alone this frame, whatever has focus (the key is then consumed).
pub fn function_key_pressed(ui: &Ui, key: Key) -> bool {
    ui.input_mut(|input| input.consume_key(Modifiers::NONE, key))
}

/// Whether Enter was pressed in the single-line text field `field` this frame (the field gave up its focus to
/// it): the dialog or form the field belongs to takes it as its default answer.
pub fn entered(field: &Response) -> bool {
    field.lost_focus() && field.ctx.input(|input| input.key_pressed(Key::Enter))
}

/// Whether Escape was pressed in the text field `field` this frame (the field gave up its focus to it): the
/// dialog or form the field belongs to takes it as its cancel.
pub fn escaped(field: &Response) -> bool {
    field.lost_focus() && field.ctx.input(|input| input.key_pressed(Key::Escape))
}
