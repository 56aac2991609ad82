//! The panel of the current step: title and instructions, the channels it needs with their live status, the
//! step's own form (eligibility, ECMO, allocation, device, sign-off), its captures, skipping a measurement with a
//! reason, and the endpoints on the review step; and the step's checklist, which the screen pins in view.

use chrono::{DateTime, Utc};
use egui::{RichText, Ui};

use crate::model::StepId;
use crate::protocol::{Criterion, CriterionKind, Event, State, Verdict, guide, required_window};
use crate::ui::{keys, theme};

use super::endpoints::{EndpointView, endpoint_panel_ui};
use super::{ChannelStatus, LiveChannels, ProtocolForms, capture_ui};

/// The current step's panel. `endpoints` feeds the review step; `now` dates the allocation form.
pub fn step_panel_ui(
    ui: &mut Ui,
    state: &State,
    forms: &mut ProtocolForms,
    live: &LiveChannels,
    endpoints: Option<&EndpointView>,
    now: DateTime<Utc>,
) -> Option<Event> {
    let step = state.current;
    let guide = guide(step);
    let mut event = None;
    ui.label(
        RichText::new(format!("{}. {}", step as usize + 1, step.title()))
            .size(theme::TITLE_SIZE)
            .strong(),
    );
    ui.label(RichText::new(guide.instructions).size(theme::BODY_SIZE));
    if let Some(signed) = &state.signed_off {
        ui.label(
            RichText::new(format!(
                "Signed off by {} at {}",
                signed.by,
                signed.at.utc.format("%Y-%m-%d %H:%M UTC")
            ))
            .color(theme::OK)
            .size(theme::BODY_SIZE + 2.0),
        );
    }
    if !guide.channels.is_empty() {
        channels_ui(ui, guide.channels, live);
    }
    ui.add_space(6.0);
    let form_event = match step {
        StepId::CaseSetup => {
            case_ui(ui, state);
            None
        }
        StepId::Eligibility => eligibility_ui(ui, state),
        StepId::Preparation => {
            forms.pressures.ui(ui, state);
            ui.add_space(6.0);
            forms.ecmo.ui(ui, state)
        }
        StepId::Randomisation => forms.allocation.ui(ui, state, now),
        StepId::DeviceInsertion => forms.device.ui(ui, state),
        StepId::BaselineCoronary => {
            let context = forms.context.ui(ui, state);
            ui.add_space(6.0);
            capture_ui(ui, state).or(context)
        }
        StepId::PostCoronary => {
            super::forms::baseline_context_ui(ui, state);
            ui.add_space(6.0);
            capture_ui(ui, state)
        }
        StepId::BaselinePv | StepId::PostPv => capture_ui(ui, state),
        StepId::Review => {
            match endpoints {
                Some(view) => endpoint_panel_ui(ui, view, 220.0),
                None => {
                    ui.label(RichText::new("No endpoints yet.").color(theme::TEXT_DIM));
                }
            }
            None
        }
        StepId::SignOff => sign_off_ui(ui, state, forms),
    };
    event = event.or(form_event);
    if let Some(kind) = required_window(step) {
        event = event.or(skip_ui(ui, state, forms, kind.label()));
    }
    if let Some(missing) = state
        .missing(step)
        .filter(|_| state.signed_off.is_none() && step != StepId::SignOff)
    {
        ui.add_space(4.0);
        ui.label(RichText::new(format!("Before going on: {missing}.")).color(theme::WARNING));
    }
    event
}

/// The current step's checklist (nothing when it has none). The screen draws it pinned under the step's
/// scrolling panel, so no item is ever below the fold, however long the step's form and captures grow.
pub fn checklist_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let step = state.current;
    let checklist = guide(step).checklist;
    if checklist.is_empty() {
        return None;
    }
    let mut event = None;
    ui.add_space(4.0);
    ui.label(RichText::new("Checklist").strong());
    let record = state.record(step);
    for (item, text) in checklist.iter().enumerate() {
        let mut ticked = record.checklist.get(item).copied().unwrap_or(false);
        if ui
            .checkbox(&mut ticked, RichText::new(*text).size(theme::BODY_SIZE))
            .changed()
        {
            event = Some(Event::CheckItem { item, ticked });
        }
    }
    ui.add_space(2.0);
    event
}

fn channels_ui(ui: &mut Ui, channels: &[crate::model::SignalKind], live: &LiveChannels) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Channels").strong());
        for kind in channels {
            let status = live.status(*kind);
            let colour = match status {
                ChannelStatus::Live => theme::OK,
                ChannelStatus::Disconnected => theme::ERROR,
                ChannelStatus::Absent => theme::WARNING,
            };
            ui.label(RichText::new(format!("{} {}", kind.title(), status.label())).color(colour));
        }
    });
}

fn case_ui(ui: &mut Ui, state: &State) {
    match &state.case {
        Some(case) => {
            ui.label(
                RichText::new(format!(
                    "Case {} at {}, operator {}",
                    case.case_id,
                    case.case_id.site().label(),
                    case.operator
                ))
                .size(theme::BODY_SIZE + 2.0),
            );
        }
        None => {
            ui.label("Set the case up on the start screen.");
        }
    }
}

fn eligibility_ui(ui: &mut Ui, state: &State) -> Option<Event> {
    let mut event = None;
    for kind in [CriterionKind::Inclusion, CriterionKind::Exclusion] {
        let heading = match kind {
            CriterionKind::Inclusion => "Inclusion (all must be yes)",
            CriterionKind::Exclusion => "Exclusion (all must be no)",
        };
        ui.label(RichText::new(heading).strong());
        // The answers first, at a fixed place, then the criterion wrapping in the rest of the width (a grid would
        // squeeze the wrapping text into its last frame's column width).
        for criterion in Criterion::ALL.into_iter().filter(|c| c.kind() == kind) {
            let answer = state.eligibility.answer(criterion);
            let excluding = answer.is_some_and(|answer| criterion.excludes(answer));
            ui.horizontal(|ui| {
                let mut button_height = 0.0_f32;
                for (word, value) in [("Yes", true), ("No", false)] {
                    let response = ui.selectable_label(
                        answer == Some(value),
                        RichText::new(word).size(theme::BODY_SIZE + 2.0),
                    );
                    button_height = button_height.max(response.rect.height());
                    // The accessible name says which criterion the answer belongs to.
                    let name = format!("{}: {}", criterion.text(), word.to_lowercase());
                    response.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::accesskit::Role::Button,
                            true,
                            answer == Some(value),
                            &name,
                        )
                    });
                    if response.clicked() {
                        event = Some(Event::AnswerCriterion {
                            criterion,
                            answer: value,
                        });
                    }
                }
                let text = RichText::new(criterion.text()).size(theme::BODY_SIZE);
                let line_height = ui.text_style_height(&egui::TextStyle::Body);
                ui.vertical(|ui| {
                    // The first line on the line of the answers beside it; a long criterion wraps on below.
                    ui.add_space(((button_height - line_height) / 2.0).max(0.0));
                    ui.add(egui::Label::new(if excluding { text.color(theme::ERROR) } else { text }).wrap());
                });
            });
            ui.add_space(4.0);
        }
    }
    let verdict = state.eligibility.verdict();
    let colour = match verdict {
        Verdict::Eligible => theme::OK,
        Verdict::Incomplete(_) => theme::WARNING,
        Verdict::Ineligible(_) => theme::ERROR,
    };
    let text = verdict.to_string();
    ui.label(
        RichText::new(text)
            .color(colour)
            .size(theme::BODY_SIZE + 2.0)
            .strong(),
    );
    event
}

fn skip_ui(ui: &mut Ui, state: &State, forms: &mut ProtocolForms, window: &str) -> Option<Event> {
    if let Some(reason) = &state.record(state.current).skipped {
        ui.label(RichText::new(format!("Skipped: {reason}")).color(theme::WARNING));
        return None;
    }
    let mut event = None;
    // A short header (a header does not wrap: a long one would widen the panel and cut its text off).
    egui::CollapsingHeader::new("Cannot capture? Skip with a reason").show(ui, |ui| {
        ui.add(egui::Label::new(format!("Why can the {window} not be captured?")).wrap());
        let field =
            super::forms::text_field(ui, "Reason", &mut forms.skip_reason, "e.g. wire could not cross");
        if ui.button("Skip measurement").clicked() || keys::entered(&field) {
            event = Some(Event::Skip {
                reason: forms.skip_reason.clone(),
            });
        }
    });
    event
}

fn sign_off_ui(ui: &mut Ui, state: &State, forms: &mut ProtocolForms) -> Option<Event> {
    if state.signed_off.is_some() {
        return None;
    }
    if forms.sign_off_by.is_empty()
        && let Some(case) = &state.case
    {
        forms.sign_off_by = case.operator.clone();
    }
    let field = super::forms::text_field(ui, "Signed off by", &mut forms.sign_off_by, "name or staff code");
    let clicked = ui
        .button(RichText::new("Sign off case").size(theme::BODY_SIZE + 2.0))
        .clicked();
    (clicked || keys::entered(&field)).then(|| Event::SignOff {
        by: forms.sign_off_by.clone(),
    })
}
