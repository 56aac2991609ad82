//! The protocol's panels around the live monitor. While the case is recording the traces stay in view on every
//! step (the patient is on the table whatever the step): the step list and the current step sit on the left, a
//! quarter of the screen in the measurement steps (preparation, captures, device), close to half in the form
//! steps (case set-up, eligibility, randomisation, review, sign-off), followed by the endpoints so far once a
//! post-unloading window exists. When nothing is recorded, a form step takes the centre of the screen. The step's
//! checklist is pinned under its panel, never below the fold, over it the table of what the step's saved windows
//! measured, and over that the capture in progress. The action bar is always at the bottom, and the confirmation dialogs (the protocol's, and
//! closing a case that is recording) above everything.

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
    /// Whether the case is being recorded (closing it then asks first).
    pub recording: bool,
}

/// Width of the left protocol panel in the measurement steps, as a fraction of the window: the step and its
/// forms stay readable while the traces, the live PV loop and the numbers keep the rest.
const STEP_PANEL_FRACTION: f32 = 0.25;

/// Narrowest and widest left protocol panel, points.
const STEP_PANEL_WIDTH: (f32, f32) = (330.0, 440.0);

/// Width of the left protocol panel in a form step while the traces are in view, as a fraction of the window,
/// and its narrowest and widest, points: the form is read and typed in, the traces only watched.
const FORM_PANEL_FRACTION: f32 = 0.45;
const FORM_PANEL_WIDTH: (f32, f32) = (560.0, 900.0);

/// Width of the step list when the current step takes the centre.
const STEP_LIST_WIDTH: f32 = 320.0;

/// What the operator asked for in the protocol panels.
#[derive(Clone, Debug, PartialEq)]
pub enum PanelRequest {
    /// An event for the protocol.
    Event(Event),
    /// Close the case (back to the start screen).
    CloseCase,
    /// Zero the pressures or equalise Pd to Pa (the consoles step).
    Pressures(super::PressureAction),
}

/// Whether the live traces are drawn during `step` (the caller then draws them in the space left): always while
/// the case is `recording`, and in the steps that measure (they need channels) even when it is not.
pub fn shows_live_traces(step: StepId, recording: bool) -> bool {
    recording || measures(step)
}

/// Whether `step` measures from the live channels.
fn measures(step: StepId) -> bool {
    !guide(step).channels.is_empty()
}

/// Draws the protocol panels inside `ui` and returns what the operator asked for this frame, if anything. When
/// [`shows_live_traces`] is false for the current step, the centre is used too.
pub fn protocol_panels_ui(
    ui: &mut Ui,
    view: ProtocolView<'_>,
    forms: &mut ProtocolForms,
) -> Option<PanelRequest> {
    let mut events = Vec::new();
    let mut close = false;
    egui::Panel::bottom("protocol-actions").show(ui, |ui| {
        ui.add_space(4.0);
        events.extend(super::action_bar_ui(ui, view.state, forms));
        ui.add_space(2.0);
    });
    let step_ui = |ui: &mut Ui, forms: &mut ProtocolForms| {
        // The checklist first, as a panel at the bottom: the scrolling step takes what is left above it.
        let mut checked = None;
        if !guide(view.state.current).checklist.is_empty() {
            egui::Panel::bottom("protocol-checklist").show(ui, |ui| {
                checked = super::checklist_ui(ui, view.state);
            });
        }
        // Over it, pinned too, what the step's saved windows measured: no captured number scrolls out of view.
        let numbers = view.endpoints.map_or(&[][..], |e| &e.windows[..]);
        let columns = super::saved_columns(view.state, numbers);
        if !columns.is_empty() {
            egui::Panel::bottom("protocol-saved-windows").show(ui, |ui| {
                ui.add_space(4.0);
                super::saved_numbers_ui(ui, &columns);
                ui.add_space(2.0);
            });
        }
        // Over them, the capture in progress (its seconds and beats, then Save or Discard): pinned, never scrolled
        // away by a long step panel.
        let mut captured = None;
        if view
            .state
            .capture
            .as_ref()
            .is_some_and(|c| c.step == view.state.current)
        {
            egui::Panel::bottom("protocol-capture").show(ui, |ui| {
                ui.add_space(4.0);
                captured = super::capture_progress_ui(ui, view.state);
                ui.add_space(2.0);
            });
        }
        // Not shrunk to the content: a wrapping label then takes the panel's width instead of its own last width.
        egui::ScrollArea::vertical()
            .id_salt("protocol-step")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let event = super::step_panel_ui(ui, view.state, forms, view.live, view.endpoints, view.now);
                // Once a post-unloading window exists, the endpoints so far follow the step (the full panel
                // with the loops is on the review step, so not twice there).
                if let Some(endpoints) = view
                    .endpoints
                    .filter(|e| e.cdfr.is_some() || !e.post_loop.is_empty())
                    .filter(|_| view.state.current != StepId::Review)
                {
                    ui.separator();
                    egui::CollapsingHeader::new(
                        egui::RichText::new("Endpoints so far")
                            .size(theme::BODY_SIZE + 2.0)
                            .strong(),
                    )
                    .default_open(true)
                    .show(ui, |ui| super::primary_endpoint_ui(ui, endpoints));
                }
                event
            })
            .inner
            .or(checked)
            .or(captured)
    };
    let width = if measures(view.state.current) {
        (ui.available_width() * STEP_PANEL_FRACTION).clamp(STEP_PANEL_WIDTH.0, STEP_PANEL_WIDTH.1)
    } else {
        (ui.available_width() * FORM_PANEL_FRACTION).clamp(FORM_PANEL_WIDTH.0, FORM_PANEL_WIDTH.1)
    };
    if shows_live_traces(view.state.current, view.recording) {
        egui::Panel::left("protocol-steps")
            .exact_size(width)
            .show(ui, |ui| {
                egui::CollapsingHeader::new("Protocol steps")
                    .default_open(false)
                    .show(ui, |ui| {
                        events.extend(super::step_list_ui(ui, view.state));
                        close = ui.button("Close case").clicked();
                    });
                ui.separator();
                events.extend(step_ui(ui, forms));
            });
    } else {
        egui::Panel::left("protocol-step-list")
            .exact_size(STEP_LIST_WIDTH)
            .show(ui, |ui| {
                ui.label(egui::RichText::new("Protocol steps").strong());
                events.extend(super::step_list_ui(ui, view.state));
                ui.add_space(8.0);
                close = ui.button("Close case").clicked();
            });
        egui::CentralPanel::default().show(ui, |ui| events.extend(step_ui(ui, forms)));
    }
    events.extend(super::confirmation_ui(ui, view.state));
    if let Some(action) = forms.pressures.request.take() {
        return Some(PanelRequest::Pressures(action));
    }
    if close && !view.recording {
        return Some(PanelRequest::CloseCase);
    }
    forms.closing |= close;
    if forms.closing {
        let case = view
            .state
            .case
            .as_ref()
            .map_or_else(|| "the case".to_owned(), |case| case.case_id.to_string());
        let details = [
            "Recording stops: nothing more of this patient is saved in the case.".to_owned(),
            "The case can be opened again from the start screen.".to_owned(),
        ];
        match super::question_ui(
            ui,
            "close-case-confirmation",
            &format!("Close {case} while it is recording?"),
            &details,
            ("Close case and stop recording", "Keep recording"),
            None,
        ) {
            Some(true) => {
                forms.closing = false;
                return Some(PanelRequest::CloseCase);
            }
            Some(false) => forms.closing = false,
            None => {}
        }
    }
    events.into_iter().next().map(PanelRequest::Event)
}
