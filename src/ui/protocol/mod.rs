//! The guided protocol at the bedside: the start screen, the step list, the step panel (instructions, channels,
//! checklist, capture and its quality, the eligibility, randomisation, device and sign-off forms), the action bar
//! with its keyboard shortcuts, the confirmation dialog and the live endpoint panel.
//!
//! Every view draws from a [`crate::protocol::State`] and returns the [`Event`]s the operator asked for; it never
//! changes the protocol state itself. What the operator is typing lives in [`ProtocolForms`].

mod action_bar;
mod capture;
mod confirm;
mod endpoints;
mod forms;
mod screen;
mod start;
mod step_list;
mod step_panel;

pub use action_bar::{Shortcut, action_bar_ui};
pub use capture::{capture_progress_ui, capture_ui, saved_columns};
pub use confirm::{confirmation_ui, question_ui};
pub use endpoints::{
    Cdfr, EndpointRow, EndpointView, LOOPS_LABEL, WindowNumber, WindowNumbers, endpoint_panel_ui,
    primary_endpoint_ui, saved_numbers_ui,
};
pub use forms::{AllocationForm, ContextForm, DeviceForm, EcmoForm, PressureAction, PressureForm};
pub use screen::{PanelRequest, ProtocolView, protocol_panels_ui, shows_live_traces};
pub use start::{ExistingCase, StartChoice, StartForm, start_ui};
pub use step_list::step_list_ui;
pub use step_panel::{checklist_ui, step_panel_ui};

use crate::model::SignalKind;

/// What the operator is typing in the protocol views (not yet sent as events), and the last refusal to show.
#[derive(Clone, Debug, Default)]
pub struct ProtocolForms {
    /// The start screen.
    pub start: StartForm,
    /// Text of the next marked event.
    pub mark_text: String,
    /// Why the current measurement is skipped.
    pub skip_reason: String,
    /// The pressure actions (preparation step).
    pub pressures: PressureForm,
    /// ECMO settings (preparation step).
    pub ecmo: EcmoForm,
    /// The coronary measurement context (baseline coronary step).
    pub context: ContextForm,
    /// The allocation (randomisation step).
    pub allocation: AllocationForm,
    /// The device (device step).
    pub device: DeviceForm,
    /// Who signs off.
    pub sign_off_by: String,
    /// Why the last event was refused, shown until the next accepted one.
    pub message: Option<String>,
    /// Whether the operator asked to close the case and is being asked to confirm.
    pub closing: bool,
}

/// Whether a channel is delivering now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChannelStatus {
    /// Samples are arriving.
    Live,
    /// The source that carries it is disconnected.
    Disconnected,
    /// No configured source carries it.
    #[default]
    Absent,
}

impl ChannelStatus {
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            ChannelStatus::Live => "live",
            ChannelStatus::Disconnected => "disconnected",
            ChannelStatus::Absent => "not connected",
        }
    }
}

/// The live status of every known channel, as the app reads it from the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveChannels {
    status: [ChannelStatus; 7],
}

impl LiveChannels {
    /// Every channel live (the simulated patient).
    pub fn all_live() -> LiveChannels {
        LiveChannels {
            status: [ChannelStatus::Live; 7],
        }
    }

    /// Sets the status of `kind`.
    pub fn set(&mut self, kind: SignalKind, status: ChannelStatus) {
        if let Some(slot) = SignalKind::ALL
            .iter()
            .position(|k| *k == kind)
            .and_then(|i| self.status.get_mut(i))
        {
            *slot = status;
        }
    }

    /// The status of `kind`.
    pub fn status(&self, kind: SignalKind) -> ChannelStatus {
        SignalKind::ALL
            .iter()
            .position(|k| *k == kind)
            .and_then(|i| self.status.get(i))
            .copied()
            .unwrap_or_default()
    }
}
