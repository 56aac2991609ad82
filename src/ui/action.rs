//! What the live views ask for. A view pushes [`Action`]s while it draws; the app applies them once the frame is
//! drawn (as `app::Command::Ui`), so a view never mutates shared state and the UI does not depend on the app.

use crate::sim::Control;

use super::traces::{Strip, YRange};

/// The screens of the workstation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The bedside live monitor (with the guided protocol around it when a case is open).
    Live,
    /// The start screen: new case, open a case, demo case.
    Start,
    /// Console connection and calibration.
    Settings,
    /// Offline review of a recorded case (or choosing one).
    Review,
}

impl View {
    /// Every view reachable from the top bar, in order.
    pub const ALL: [View; 3] = [View::Live, View::Review, View::Settings];

    /// The view's name on its tab.
    pub fn label(self) -> &'static str {
        match self {
            View::Live => "Live",
            View::Settings => "Settings",
            View::Start => "Start",
            View::Review => "Review",
        }
    }
}

/// A request from the live monitor, the top bar or the demo panel.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Freeze (`true`) or resume (`false`) the traces, PV loop and numbers; acquisition and recording go on.
    SetFrozen(bool),
    /// Show this many seconds across the traces.
    SetSweep(f64),
    /// Give a strip a new vertical scale.
    SetRange(Strip, YRange),
    /// Steer the simulated patient (the demo panel).
    Simulate(Control),
    /// Show another screen.
    ShowView(View),
    /// Ask for another folder to continue saving the case in (the top bar offers it while NOT SAVING).
    SaveElsewhere,
}
