//! Everything the views can ask for, handled in one place. Views push [`Command`]s while drawing; the app applies
//! them after the frame's drawing, so a view never mutates shared state directly.

use crate::sim::Control;
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
    /// Steer the simulated patient (the demo panel).
    Simulate(Control),
}

impl HeraclesApp {
    /// Applies one command.
    pub fn handle(&mut self, command: Command) {
        match command {
            Command::SetFrozen(frozen) => self.live.frozen = frozen,
            Command::SetSweep(sweep_s) => self.live.sweep_s = sweep_s,
            Command::SetRange(strip, range) => self.live.ranges[strip as usize] = range,
            Command::Simulate(control) => {
                let Some(sim) = &mut self.sim else {
                    log::warn!("simulator control {control:?} ignored: the simulator is not the source");
                    return;
                };
                let result = sim.control.send(control);
                if let Err(error) = &result {
                    log::warn!("simulator control {control:?} not applied: {error}");
                }
                sim.panel.last_error = result.err().map(|error| error.to_string());
            }
        }
    }
}
