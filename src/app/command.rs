//! Everything the views can ask for, handled in one place. Views push [`Command`]s while drawing; the app applies
//! them after the frame's drawing, so a view never mutates shared state directly.

use crate::ui::traces::{Strip, YRange};

use super::HeraclesApp;

/// A request from a view.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Freeze (`true`) or resume (`false`) the traces, PV loop and numbers; acquisition and recording go on.
    SetFrozen(bool),
    /// Show this many seconds across the traces.
    SetSweep(f64),
    /// Give a strip a new vertical scale.
    SetRange(Strip, YRange),
}

impl HeraclesApp {
    /// Applies one command.
    pub fn handle(&mut self, command: Command) {
        match command {
            Command::SetFrozen(frozen) => self.live.frozen = frozen,
            Command::SetSweep(sweep_s) => self.live.sweep_s = sweep_s,
            Command::SetRange(strip, range) => self.live.ranges[strip as usize] = range,
        }
    }
}
