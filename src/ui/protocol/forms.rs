//! The data-entry forms of the protocol: the consoles step's pressure actions (zero, equalise Pd to Pa), ECMO
//! settings, the coronary measurement context, the randomisation system's allocation, and the inserted device.
//! Each keeps what the operator typed and turns it into one [`Event`] on its button, or says which field is
//! wrong; the pressure actions need the live channels, so they go to the app as a [`PressureAction`].

use chrono::{DateTime, Duration, Local, NaiveTime, TimeZone, Utc};
use egui::{RichText, Ui};

use crate::analysis::endpoints::Unit;
use crate::analysis::format;
use crate::model::{EcmoSettings, IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, UnloadingDevice};
use crate::protocol::{Arm, CoronaryContext, Event, State, Vessel, VesselSegment};
use crate::ui::{keys, theme};

/// A labelled single-line text field (the label names it for screen readers and tests).
pub(super) fn text_field(ui: &mut Ui, label: &str, text: &mut String, hint: &str) -> egui::Response {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.add(
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .desired_width(140.0),
        )
        .labelled_by(label.id)
    })
    .inner
}

/// Parses a number as typed at the bedside ("3.5" or "3,5"); `None` when empty or not a number.
fn parse_number(text: &str) -> Option<f64> {
    text.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
}

fn error_ui(ui: &mut Ui, error: &Option<String>) {
    if let Some(error) = error {
        ui.label(RichText::new(error).color(theme::ERROR));
    }
}

/// What the consoles step asks the app to do to the live pressure channels (through the same calibration path
/// as the settings view's zero: put in force on the live channel, stored in the case, audited).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PressureAction {
    /// Zero every pressure channel against atmosphere now (the transducers open to air at mid-chest level).
    Zero,
    /// Read Pd/Pa from the live analysis and put the gain on Pd that makes it read 1.
    EqualisePd,
}

impl PressureAction {
    /// The button.
    pub fn label(self) -> &'static str {
        match self {
            PressureAction::Zero => "Zero pressures",
            PressureAction::EqualisePd => "Equalise Pd to Pa",
        }
    }

    /// What failed, before the reason.
    fn failed(self) -> &'static str {
        match self {
            PressureAction::Zero => "Not zeroed",
            PressureAction::EqualisePd => "Not equalised",
        }
    }
}

/// The consoles step's pressure actions: the button pressed this frame (for the app) and why the last one
/// failed.
#[derive(Clone, Debug, Default)]
pub struct PressureForm {
    /// The action asked for, taken by the app.
    pub request: Option<PressureAction>,
    /// The last action that failed and why, until the next one is asked for.
    pub error: Option<(PressureAction, String)>,
}

impl PressureForm {
    /// The two buttons, each with what it recorded or why it failed.
    pub(super) fn ui(&mut self, ui: &mut Ui, state: &State) {
        ui.label(RichText::new("Pressures").strong());
        let hints = [
            (
                PressureAction::Zero,
                "Open every pressure transducer to air at mid-chest level, wait for flat traces, then press",
                state.zero.as_ref().map(ToString::to_string),
            ),
            (
                PressureAction::EqualisePd,
                "With the wire's pressure sensor at the guide catheter tip, press: Pd/Pa is read from the live \
                 beats and Pd scaled so that it reads 1.00",
                state.equalisation.as_ref().map(ToString::to_string),
            ),
        ];
        for (action, hint, recorded) in hints {
            ui.horizontal_wrapped(|ui| {
                if ui.button(action.label()).on_hover_text(hint).clicked() {
                    self.request = Some(action);
                    self.error = None;
                }
                match (&self.error, recorded) {
                    (Some((failed, why)), _) if *failed == action => {
                        ui.label(RichText::new(format!("{}: {why}", action.failed())).color(theme::ERROR));
                    }
                    (_, Some(recorded)) => {
                        ui.label(RichText::new(format!("Recorded: {recorded}")).color(theme::OK));
                    }
                    (_, None) => {}
                }
            });
        }
        // Back here after the context was recorded: it takes every new zero and equalisation, and says so.
        if let Some(context) = &state.coronary_context {
            ui.label(
                RichText::new(format!(
                    "Measurement context, kept in step with each zero and equalisation: {context}"
                ))
                .color(theme::TEXT_DIM),
            );
        }
    }
}

/// ECMO flow and pump speed as typed.
#[derive(Clone, Debug, Default)]
pub struct EcmoForm {
    /// Pump flow, L/min.
    pub flow_l_min: String,
    /// Pump speed, rpm (may be left empty).
    pub rpm: String,
    error: Option<String>,
}

impl EcmoForm {
    /// The settings typed, or what is wrong with them.
    fn settings(&self) -> Result<EcmoSettings, String> {
        let flow_l_min = parse_number(&self.flow_l_min).ok_or("enter the ECMO flow in L/min")?;
        let rpm = match self.rpm.trim() {
            "" => None,
            text => Some(parse_number(text).ok_or("the ECMO pump speed is not a number")?),
        };
        Ok(EcmoSettings { flow_l_min, rpm })
    }

    /// The ECMO fields; returns whether Enter was pressed in one of them.
    fn fields_ui(&mut self, ui: &mut Ui, state: &State) -> bool {
        if self.flow_l_min.is_empty()
            && let Some(ecmo) = state.ecmo
        {
            self.flow_l_min = format!("{:.2}", ecmo.flow_l_min);
            self.rpm = ecmo.rpm.map(|rpm| format!("{rpm:.0}")).unwrap_or_default();
        }
        let flow = text_field(ui, "ECMO flow (L/min)", &mut self.flow_l_min, "e.g. 3.5");
        let rpm = text_field(ui, "ECMO pump speed (rpm)", &mut self.rpm, "optional");
        keys::entered(&flow) || keys::entered(&rpm)
    }

    /// The ECMO form with its own button (preparation step).
    pub(super) fn ui(&mut self, ui: &mut Ui, state: &State) -> Option<Event> {
        ui.label(RichText::new("ECMO settings").strong());
        let entered = self.fields_ui(ui, state);
        if let Some(ecmo) = state.ecmo {
            ui.label(RichText::new(format!("Recorded: {}", ecmo.describe())).color(theme::TEXT_DIM));
        }
        let mut event = None;
        if ui.button("Record ECMO settings").clicked() || entered {
            match self.settings() {
                Ok(settings) => {
                    self.error = None;
                    event = Some(Event::SetEcmo(settings));
                }
                Err(error) => self.error = Some(error),
            }
        }
        error_ui(ui, &self.error);
        event
    }
}

/// The coronary measurement context as entered (baseline coronary step).
#[derive(Clone, Debug)]
pub struct ContextForm {
    /// The vessel.
    pub vessel: Option<Vessel>,
    /// The segment.
    pub segment: Option<VesselSegment>,
    /// The wire position in words.
    pub wire_position: String,
    /// Pd/Pa read at equalisation.
    pub pd_pa: String,
    /// Whether the pressures were zeroed.
    pub zeroed: bool,
    /// Whether a recorded context is being changed (the form is open again).
    pub editing: bool,
    error: Option<String>,
}

impl Default for ContextForm {
    fn default() -> ContextForm {
        ContextForm {
            vessel: None,
            segment: None,
            wire_position: String::new(),
            pd_pa: "1.00".to_owned(),
            zeroed: false,
            editing: false,
            error: None,
        }
    }
}

impl ContextForm {
    /// The context as entered; the state machine adds the consoles step's zero and equalisation.
    fn context(&self) -> Result<CoronaryContext, String> {
        Ok(CoronaryContext {
            vessel: self.vessel.ok_or("choose the vessel")?,
            segment: self.segment.ok_or("choose the segment")?,
            wire_position: self.wire_position.trim().to_owned(),
            pd_pa_at_equalisation: parse_number(&self.pd_pa)
                .ok_or("enter the Pd/Pa read at equalisation, e.g. 1.00")?,
            zeroed: self.zeroed,
            zero: None,
            equalisation: None,
        })
    }

    /// The measurement context form with its own button (baseline coronary step). Once recorded it folds to one
    /// line with a Change button, so the capture and the checklist stay in view.
    pub(super) fn ui(&mut self, ui: &mut Ui, state: &State) -> Option<Event> {
        ui.label(RichText::new("Measurement context").strong());
        if let Some(context) = state.coronary_context.as_ref().filter(|_| !self.editing) {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(format!("Recorded: {context}")).color(theme::OK));
                if ui.button("Change").clicked() {
                    self.editing = true;
                }
            });
            return None;
        }
        ui.horizontal_wrapped(|ui| {
            for vessel in Vessel::ALL {
                ui.selectable_value(
                    &mut self.vessel,
                    Some(vessel),
                    RichText::new(vessel.label()).size(theme::BODY_SIZE + 2.0),
                );
            }
            ui.separator();
            for segment in VesselSegment::ALL {
                ui.selectable_value(
                    &mut self.segment,
                    Some(segment),
                    RichText::new(segment.label()).size(theme::BODY_SIZE + 2.0),
                );
            }
        });
        let wire = text_field(
            ui,
            "Wire position",
            &mut self.wire_position,
            "e.g. past the first diagonal",
        );
        // Equalised by the app at the consoles step: the ratio it read, not to be typed over.
        if let Some(equalisation) = &state.equalisation {
            self.pd_pa = format::number(equalisation.pd_pa_read, Unit::Ratio);
        }
        let pd_pa = ui
            .add_enabled_ui(state.equalisation.is_none(), |ui| {
                text_field(ui, "Pd/Pa at equalisation", &mut self.pd_pa, "e.g. 1.00")
            })
            .inner;
        let entered = keys::entered(&wire) || keys::entered(&pd_pa);
        // Zeroed by the app at the consoles step: what it did, with its offsets; otherwise the operator states it
        // (a console that zeroes itself).
        match &state.zero {
            Some(zero) => {
                self.zeroed = true;
                ui.label(RichText::new(format!("Zero: {zero}")).color(theme::OK));
            }
            None => {
                ui.checkbox(&mut self.zeroed, "Pressures zeroed at mid-chest level");
            }
        }
        let mut event = None;
        if ui.button("Record measurement context").clicked() || entered {
            match self.context() {
                Ok(context) => {
                    self.error = None;
                    self.editing = false;
                    event = Some(Event::SetCoronaryContext(context));
                }
                Err(error) => self.error = Some(error),
            }
        }
        error_ui(ui, &self.error);
        event
    }
}

/// The baseline's measurement context, read-only, where the post-unloading capture must match it.
pub(super) fn baseline_context_ui(ui: &mut Ui, state: &State) {
    ui.label(RichText::new("Same vessel as baseline?").strong());
    match &state.coronary_context {
        Some(context) => {
            ui.label(RichText::new(format!("Baseline: {context}")).size(theme::BODY_SIZE + 2.0));
            ui.label(
                RichText::new("CDFR is valid only with the wire in the same vessel and position.")
                    .color(theme::TEXT_DIM),
            );
        }
        None => {
            ui.label(
                RichText::new(
                    "The baseline vessel was not recorded (the baseline coronary step was skipped).",
                )
                .color(theme::WARNING),
            );
        }
    }
}

/// The allocation as read from the trial's randomisation system.
#[derive(Clone, Debug, Default)]
pub struct AllocationForm {
    /// The arm chosen.
    pub arm: Option<Arm>,
    /// The randomisation reference.
    pub reference: String,
    /// The allocation time, local `HH:MM`, as the trial system gave it (empty until typed or set to now: a time
    /// filled in by the software would be taken for the trial system's).
    pub time_hhmm: String,
    error: Option<String>,
}

impl AllocationForm {
    /// The allocation time as UTC: today at `HH:MM` local time, or yesterday if that is still to come.
    fn allocated_utc(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        if self.time_hhmm.trim().is_empty() {
            return Err(
                "enter the allocation time the trial system gave (HH:MM, local time), or press Now".into(),
            );
        }
        let time = NaiveTime::parse_from_str(self.time_hhmm.trim(), "%H:%M")
            .map_err(|_| "enter the allocation time as HH:MM".to_owned())?;
        let local_now = now.with_timezone(&Local);
        let today = local_now.date_naive().and_time(time);
        let at = Local
            .from_local_datetime(&today)
            .earliest()
            .ok_or("that time does not exist today (clock change)")?;
        let at = if at > local_now + Duration::minutes(5) {
            at - Duration::days(1)
        } else {
            at
        };
        Ok(at.with_timezone(&Utc))
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, state: &State, now: DateTime<Utc>) -> Option<Event> {
        ui.label(RichText::new("Allocation from the trial system").strong());
        ui.horizontal(|ui| {
            for arm in Arm::ALL {
                ui.selectable_value(
                    &mut self.arm,
                    Some(arm),
                    RichText::new(arm.label()).size(theme::BODY_SIZE + 4.0),
                );
            }
        });
        let reference = text_field(
            ui,
            "Randomisation reference",
            &mut self.reference,
            "as given by the web system",
        );
        let mut entered = keys::entered(&reference);
        let local_now = now.with_timezone(&Local);
        ui.horizontal(|ui| {
            let time = text_field(
                ui,
                "Allocation time (HH:MM)",
                &mut self.time_hhmm,
                "from the trial system",
            );
            entered |= keys::entered(&time);
            if ui
                .button("Now")
                .on_hover_text("The time on this workstation now")
                .clicked()
            {
                self.time_hhmm = local_now.format("%H:%M").to_string();
            }
            ui.label(
                RichText::new(format!("local time, UTC{}", local_now.format("%:z"))).color(theme::TEXT_DIM),
            );
        });
        if let Some(allocation) = &state.allocation {
            ui.label(
                RichText::new(format!(
                    "Recorded: {} (reference {}, allocated {} local, {} UTC; day 0 of the follow-up)",
                    allocation.arm.label(),
                    allocation.reference,
                    allocation
                        .allocated_utc
                        .with_timezone(&Local)
                        .format("%Y-%m-%d %H:%M"),
                    allocation.allocated_utc.format("%H:%M")
                ))
                .color(theme::OK),
            );
        }
        let mut event = None;
        if ui.button("Record allocation").clicked() || entered {
            let checked = self
                .arm
                .ok_or_else(|| "choose the allocated arm".to_owned())
                .and_then(|arm| {
                    Ok(Event::RecordAllocation {
                        arm,
                        reference: self.reference.clone(),
                        allocated_utc: self.allocated_utc(now)?,
                    })
                });
            match checked {
                Ok(checked) => {
                    self.error = None;
                    event = Some(checked);
                }
                Err(error) => self.error = Some(error),
            }
        }
        error_ui(ui, &self.error);
        event
    }
}

/// The device and its settings, and the ECMO settings, as typed.
#[derive(Clone, Debug)]
pub struct DeviceForm {
    /// The device type (defaults to the allocated arm).
    pub arm: Option<Arm>,
    /// IABP trigger ratio.
    pub iabp_ratio: IabpRatio,
    /// IABP balloon volume, mL.
    pub balloon_volume_ml: String,
    /// IABP inflation timing offset, ms.
    pub inflation_offset_ms: String,
    /// IABP deflation timing offset, ms.
    pub deflation_offset_ms: String,
    /// Impella model.
    pub impella_model: ImpellaModel,
    /// Impella performance level.
    pub p_level: u8,
    /// Impella flow shown on its console, L/min (may be left empty).
    pub impella_flow_l_min: String,
    /// ECMO settings with the device in.
    pub ecmo: EcmoForm,
    error: Option<String>,
}

impl Default for DeviceForm {
    fn default() -> DeviceForm {
        let iabp = IabpSettings::default();
        DeviceForm {
            arm: None,
            iabp_ratio: iabp.ratio,
            balloon_volume_ml: format!("{:.0}", iabp.balloon_volume_ml),
            inflation_offset_ms: "0".into(),
            deflation_offset_ms: "0".into(),
            impella_model: ImpellaModel::ImpellaCp,
            p_level: 6,
            impella_flow_l_min: String::new(),
            ecmo: EcmoForm::default(),
            error: None,
        }
    }
}

impl DeviceForm {
    fn device(&self, arm: Arm) -> Result<UnloadingDevice, String> {
        match arm {
            Arm::Iabp => Ok(UnloadingDevice::Iabp(IabpSettings {
                ratio: self.iabp_ratio,
                balloon_volume_ml: parse_number(&self.balloon_volume_ml)
                    .ok_or("enter the balloon volume in mL")?,
                inflation_offset_ms: parse_number(&self.inflation_offset_ms)
                    .ok_or("enter the inflation timing offset in ms (0 = on time)")?,
                deflation_offset_ms: parse_number(&self.deflation_offset_ms)
                    .ok_or("enter the deflation timing offset in ms (0 = on time)")?,
            })),
            Arm::Impella => Ok(UnloadingDevice::Impella(ImpellaSettings {
                model: self.impella_model,
                p_level: self.p_level,
                displayed_flow_l_min: match self.impella_flow_l_min.trim() {
                    "" => None,
                    text => Some(parse_number(text).ok_or("the Impella flow is not a number")?),
                },
            })),
        }
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, state: &State) -> Option<Event> {
        ui.label(RichText::new("Device inserted").strong());
        let allocated = state.allocation.as_ref().map(|allocation| allocation.arm);
        let mut arm = self.arm.or(allocated);
        let mut entered = false;
        ui.horizontal(|ui| {
            for choice in Arm::ALL {
                ui.selectable_value(
                    &mut arm,
                    Some(choice),
                    RichText::new(choice.label()).size(theme::BODY_SIZE + 4.0),
                );
            }
        });
        self.arm = arm;
        match arm {
            Some(Arm::Iabp) => {
                ui.horizontal_wrapped(|ui| {
                    ui.label("Ratio");
                    for ratio in IabpRatio::ALL {
                        ui.selectable_value(&mut self.iabp_ratio, ratio, ratio.label());
                    }
                });
                let fields = [
                    text_field(ui, "Balloon volume (mL)", &mut self.balloon_volume_ml, "e.g. 40"),
                    text_field(
                        ui,
                        "Inflation offset (ms)",
                        &mut self.inflation_offset_ms,
                        "negative = early",
                    ),
                    text_field(
                        ui,
                        "Deflation offset (ms)",
                        &mut self.deflation_offset_ms,
                        "positive = late",
                    ),
                ];
                entered |= fields.iter().any(keys::entered);
            }
            Some(Arm::Impella) => {
                ui.horizontal(|ui| {
                    for model in ImpellaModel::ALL {
                        ui.selectable_value(&mut self.impella_model, model, model.label());
                    }
                });
                ui.horizontal_wrapped(|ui| {
                    ui.label("P-level");
                    for level in 0..=9u8 {
                        ui.selectable_value(&mut self.p_level, level, format!("P-{level}"));
                    }
                });
                let flow = text_field(
                    ui,
                    "Impella flow (L/min)",
                    &mut self.impella_flow_l_min,
                    "as on the console",
                );
                entered |= keys::entered(&flow);
            }
            None => {
                ui.label(RichText::new("Choose the device that was inserted.").color(theme::TEXT_DIM));
            }
        }
        entered |= self.ecmo.fields_ui(ui, state);
        let mut event = None;
        if ui.button("Record device").clicked() || entered {
            let checked = arm.ok_or_else(|| "choose the device".to_owned()).and_then(|arm| {
                Ok(Event::RecordDevice {
                    device: self.device(arm)?,
                    ecmo: self.ecmo.settings()?,
                })
            });
            match checked {
                Ok(checked) => {
                    self.error = None;
                    event = Some(checked);
                }
                Err(error) => self.error = Some(error),
            }
        }
        error_ui(ui, &self.error);
        if state.device != UnloadingDevice::None {
            ui.label(RichText::new(format!("Recorded: {}", state.device.describe())).color(theme::OK));
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_typed_at_the_bedside() {
        assert_eq!(parse_number(" 3,5 "), Some(3.5));
        assert_eq!(parse_number("40"), Some(40.0));
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn the_allocation_time_is_today_or_yesterday_never_ahead() {
        let now = Utc::now();
        let mut form = AllocationForm::default();
        assert!(form.allocated_utc(now).unwrap_err().contains("Now"));
        form.time_hhmm = now.with_timezone(&Local).format("%H:%M").to_string();
        let at = form.allocated_utc(now).unwrap();
        assert!(at <= now && now - at < Duration::minutes(1), "{at} vs {now}");
        // An hour ahead of now means yesterday's allocation.
        form.time_hhmm = (now + Duration::hours(1))
            .with_timezone(&Local)
            .format("%H:%M")
            .to_string();
        let at = form.allocated_utc(now).unwrap();
        assert!(at < now && now - at > Duration::hours(22), "{at} vs {now}");
        form.time_hhmm = "25:00".into();
        assert!(form.allocated_utc(now).is_err());
    }
}
