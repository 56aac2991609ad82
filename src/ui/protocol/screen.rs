//! The protocol's panels around the live monitor. In the measurement steps (preparation, captures, device) the
//! traces stay in view: the step list and the current step sit on the left, the endpoints so far on the right once
//! a post-unloading window exists. In the form steps (case set-up, eligibility, randomisation, review, sign-off)
//! the current step takes the centre of the screen, so its form is readable without scrolling at 1366x768.
//! The action bar is always at the bottom, and the confirmation dialog above everything.

use chrono::{DateTime, Utc};
use egui::Ui;

use crate::model::StepId;
use crate::protocol::{Event, State, guide};
use crate::ui::theme;

use super::{EndpointView, LiveChannels, ProtocolForms};

/// What the protocol panels draw from.
#[derive(Clone, Copy, Debug)]
pub struct ProtocolView<'a> {
    /// The protocol state.
    pub state: &'a State,
    /// Live status of the channels.
    pub live: &'a LiveChannels,
    /// The endpoints so far (`None` until a baseline window is saved).
    pub endpoints: Option<&'a EndpointView>,
    /// Now, to date the allocation form.
    pub now: DateTime<Utc>,
}

/// Width of the left protocol panel in the measurement steps: the step and its forms stay readable at 1366x768
/// while the traces keep more than half of the screen.
const STEP_PANEL_WIDTH: f32 = 430.0;

/// Width of the step list when the current step takes the centre.
const STEP_LIST_WIDTH: f32 = 320.0;

/// Width of the right endpoint panel.
const ENDPOINT_PANEL_WIDTH: f32 = 380.0;

/// Whether the operator needs the live traces during `step` (the caller then draws them in the space left).
pub fn shows_live_traces(step: StepId) -> bool {
    !guide(step).channels.is_empty()
}

/// Draws the protocol panels inside `ui` and returns the operator's event of this frame, if any. When
/// [`shows_live_traces`] is false for the current step, the centre is used too.
pub fn protocol_panels_ui(ui: &mut Ui, view: ProtocolView<'_>, forms: &mut ProtocolForms) -> Option<Event> {
    let mut events = Vec::new();
    egui::Panel::bottom("protocol-actions").show(ui, |ui| {
        ui.add_space(4.0);
        events.extend(super::action_bar_ui(ui, view.state, forms));
        ui.add_space(2.0);
    });
    let step_ui = |ui: &mut Ui, forms: &mut ProtocolForms| {
        egui::ScrollArea::vertical()
            .id_salt("protocol-step")
            .show(ui, |ui| {
                super::step_panel_ui(ui, view.state, forms, view.live, view.endpoints, view.now)
            })
            .inner
    };
    if shows_live_traces(view.state.current) {
        egui::Panel::left("protocol-steps")
            .exact_size(STEP_PANEL_WIDTH)
            .show(ui, |ui| {
                egui::CollapsingHeader::new("Protocol steps")
                    .default_open(false)
                    .show(ui, |ui| {
                        events.extend(super::step_list_ui(ui, view.state));
                    });
                ui.separator();
                events.extend(step_ui(ui, forms));
            });
        let post_exists = view
            .endpoints
            .is_some_and(|view| view.cdfr.is_some() || !view.post_loop.is_empty());
        if let Some(endpoints) = view.endpoints.filter(|_| post_exists) {
            egui::Panel::right("protocol-endpoints")
                .exact_size(ENDPOINT_PANEL_WIDTH)
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new("Endpoints so far")
                            .size(theme::BODY_SIZE + 2.0)
                            .strong(),
                    );
                    egui::ScrollArea::vertical()
                        .id_salt("protocol-endpoints")
                        .show(ui, |ui| super::endpoint_panel_ui(ui, endpoints, 180.0));
                });
        }
    } else {
        egui::Panel::left("protocol-step-list")
            .exact_size(STEP_LIST_WIDTH)
            .show(ui, |ui| {
                ui.label(egui::RichText::new("Protocol steps").strong());
                events.extend(super::step_list_ui(ui, view.state));
            });
        egui::CentralPanel::default().show(ui, |ui| events.extend(step_ui(ui, forms)));
    }
    events.extend(super::confirmation_ui(ui, view.state));
    events.into_iter().next()
}
