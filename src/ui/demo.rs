//! The demo-control panel: drives the built-in simulated patient (ECMO flow, unloading device, adenosine
//! hyperaemia, IVC occlusion, ventilation, pressure transducers open to air) by sending [`Control`]s. Shown only
//! when the simulator is the source.
//!
//! The panel echoes what was last sent, starting from the scenario's set-up; the patient responds with its own
//! dynamics (the ECMO pump ramps, hyperaemia comes on over seconds), which the traces and numbers show.

use egui::RichText;

use super::action::Action;
use crate::model::{IabpRatio, IabpSettings, ImpellaModel, ImpellaSettings, UnloadingDevice};
use crate::sim::{Control, Setup};

use super::theme;

/// Highest ECMO flow offered, L/min.
const MAX_ECMO_FLOW_L_MIN: f64 = 6.0;

/// Which unloading device the panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeviceKind {
    None,
    Iabp,
    Impella,
}

/// What the demo panel last sent to the simulated patient.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoPanel {
    /// The scenario the patient started from.
    pub scenario: String,
    /// ECMO flow target, L/min.
    pub ecmo_flow_l_min: f64,
    device: DeviceKind,
    iabp: IabpSettings,
    impella: ImpellaSettings,
    /// Adenosine hyperaemia on.
    pub hyperaemia: bool,
    /// Mechanical ventilation on.
    pub ventilation: bool,
    /// The pressure transducers open to air (to zero them).
    pub open_to_air: bool,
    /// Why the last control was not applied, if it was not.
    pub last_error: Option<String>,
}

impl DemoPanel {
    /// The panel for a patient started from `scenario` with `setup`.
    pub fn new(scenario: &str, setup: &Setup) -> DemoPanel {
        let default_impella = ImpellaSettings {
            model: ImpellaModel::ImpellaCp,
            p_level: 6,
            displayed_flow_l_min: None,
        };
        let (device, iabp, impella) = match setup.device {
            UnloadingDevice::None => (DeviceKind::None, IabpSettings::default(), default_impella),
            UnloadingDevice::Iabp(iabp) => (DeviceKind::Iabp, iabp, default_impella),
            UnloadingDevice::Impella(impella) => (DeviceKind::Impella, IabpSettings::default(), impella),
        };
        DemoPanel {
            scenario: scenario.to_owned(),
            ecmo_flow_l_min: setup.ecmo_l_min,
            device,
            iabp,
            impella,
            hyperaemia: setup.hyperaemia,
            ventilation: setup.ventilation,
            open_to_air: false,
            last_error: None,
        }
    }

    /// Shows a control someone else (the guided protocol) sent the patient, so the panel never contradicts it.
    pub fn show_sent(&mut self, control: Control) {
        match control {
            Control::EcmoFlow { target_l_min } => self.ecmo_flow_l_min = target_l_min.max(0.0),
            Control::Device(UnloadingDevice::None) => self.device = DeviceKind::None,
            Control::Device(UnloadingDevice::Iabp(iabp)) => {
                (self.device, self.iabp) = (DeviceKind::Iabp, iabp)
            }
            Control::Device(UnloadingDevice::Impella(impella)) => {
                (self.device, self.impella) = (DeviceKind::Impella, impella);
            }
            Control::Hyperaemia(on) => self.hyperaemia = on,
            Control::Ventilation(on) => self.ventilation = on,
            Control::OpenToAir(open) => self.open_to_air = open,
            Control::PreloadReduction => {}
        }
    }

    /// The unloading device as the panel shows it.
    pub fn device(&self) -> UnloadingDevice {
        match self.device {
            DeviceKind::None => UnloadingDevice::None,
            DeviceKind::Iabp => UnloadingDevice::Iabp(self.iabp),
            DeviceKind::Impella => UnloadingDevice::Impella(self.impella),
        }
    }
}

/// Draws the panel; every change becomes a [`Action::Simulate`].
pub fn demo_panel_ui(ui: &mut egui::Ui, panel: &mut DemoPanel, actions: &mut Vec<Action>) {
    let header = format!("Simulated patient controls · {}", panel.scenario);
    egui::CollapsingHeader::new(RichText::new(header).strong())
        .id_salt("demo-panel")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("demo-grid")
                .num_columns(2)
                .spacing([10.0, 8.0])
                .show(ui, |ui| {
                    ui.label("ECMO flow");
                    let slider = egui::Slider::new(&mut panel.ecmo_flow_l_min, 0.0..=MAX_ECMO_FLOW_L_MIN)
                        .step_by(0.1)
                        .suffix(" L/min");
                    if ui
                        .add(slider)
                        .on_hover_text("Target pump flow; the pump ramps to it")
                        .changed()
                    {
                        actions.push(Action::Simulate(Control::EcmoFlow {
                            target_l_min: panel.ecmo_flow_l_min,
                        }));
                    }
                    ui.end_row();

                    ui.label("Unloading");
                    let before = panel.device();
                    ui.horizontal(|ui| {
                        ui.selectable_value(&mut panel.device, DeviceKind::None, "None");
                        ui.selectable_value(&mut panel.device, DeviceKind::Iabp, "IABP");
                        ui.selectable_value(&mut panel.device, DeviceKind::Impella, "Impella");
                    });
                    ui.end_row();
                    match panel.device {
                        DeviceKind::None => {}
                        DeviceKind::Iabp => {
                            ui.label("IABP ratio");
                            ui.horizontal(|ui| {
                                for ratio in IabpRatio::ALL {
                                    ui.selectable_value(&mut panel.iabp.ratio, ratio, ratio.label());
                                }
                            });
                            ui.end_row();
                        }
                        DeviceKind::Impella => {
                            ui.label(panel.impella.model.label());
                            ui.add(egui::Slider::new(&mut panel.impella.p_level, 0..=9).prefix("P-"));
                            ui.end_row();
                        }
                    }
                    if panel.device() != before {
                        actions.push(Action::Simulate(Control::Device(panel.device())));
                    }

                    ui.label("Adenosine");
                    if ui.checkbox(&mut panel.hyperaemia, "hyperaemia").changed() {
                        actions.push(Action::Simulate(Control::Hyperaemia(panel.hyperaemia)));
                    }
                    ui.end_row();

                    ui.label("Ventilation");
                    if ui
                        .checkbox(&mut panel.ventilation, "mechanical ventilation")
                        .changed()
                    {
                        actions.push(Action::Simulate(Control::Ventilation(panel.ventilation)));
                    }
                    ui.end_row();

                    ui.label("Transducers");
                    if ui
                        .checkbox(&mut panel.open_to_air, "open to air")
                        .on_hover_text(
                            "Turn the pressure stopcocks to air, as before a zero; untick to return",
                        )
                        .changed()
                    {
                        actions.push(Action::Simulate(Control::OpenToAir(panel.open_to_air)));
                    }
                    ui.end_row();

                    ui.label("Preload");
                    let occlusion = ui
                        .button("IVC occlusion")
                        .on_hover_text("Occlude the inferior vena cava for about 10 beats, then release");
                    if occlusion.clicked() {
                        actions.push(Action::Simulate(Control::PreloadReduction));
                    }
                    ui.end_row();
                });
            if let Some(error) = &panel.last_error {
                ui.label(RichText::new(format!("Not applied: {error}")).color(theme::ERROR));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario;

    #[test]
    fn the_panel_shows_what_the_protocol_sent() {
        let setup = scenario::setup("shock-ecmo").unwrap();
        let mut panel = DemoPanel::new("shock-ecmo", &setup);
        assert_eq!(panel.device(), UnloadingDevice::None);
        let impella = ImpellaSettings {
            model: ImpellaModel::ImpellaCp,
            p_level: 8,
            displayed_flow_l_min: Some(3.1),
        };
        panel.show_sent(Control::Device(UnloadingDevice::Impella(impella)));
        panel.show_sent(Control::EcmoFlow { target_l_min: 3.0 });
        panel.show_sent(Control::Hyperaemia(true));
        assert_eq!(panel.device(), UnloadingDevice::Impella(impella));
        assert_eq!(panel.ecmo_flow_l_min, 3.0);
        assert!(panel.hyperaemia);
        panel.show_sent(Control::Device(UnloadingDevice::None));
        assert_eq!(panel.device(), UnloadingDevice::None);
    }
}
