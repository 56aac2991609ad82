//! The console settings view: choose a port (discovered, or typed such as `/dev/pts/3`), a baud rate and a device
//! profile, set up a text line stream's column map, and calibrate channels (zero against atmosphere, two-point
//! scaling, conductance volume). Pure egui over [`SettingsState`]; what the operator asks for comes back as
//! [`SettingsCommand`]s for the app to carry out (it owns the engine, the ports and the case file).

use egui::{ComboBox, RichText, TextEdit};

use crate::acquisition::LiveState;
use crate::acquisition::calibration::{self, Calibration};
use crate::acquisition::profile::{Profile, ProfileFraming};
use crate::acquisition::serial::{Framing, PortInfo, SerialConfig};
use crate::acquisition::text_stream::{ColumnMap, TextStreamConfig};

use super::theme;

/// Baud rates offered (any other can be set by a profile).
pub const BAUD_RATES: [u32; 8] = [9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600];

/// Field separators offered for text lines: (label, character).
pub const DELIMITERS: [(&str, char); 4] =
    [("Tab", '\t'), ("Comma", ','), ("Semicolon", ';'), ("Spaces", ' ')];

/// What the operator asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum SettingsCommand {
    /// List the serial ports again.
    RefreshPorts,
    /// Read a console with this configuration (replacing the current connection of the same source id).
    Connect(SerialConfig),
    /// Zero this channel against atmosphere from its last [`calibration::ZERO_WINDOW_S`] seconds.
    Zero {
        /// Source id.
        source: String,
        /// Channel name.
        channel: String,
    },
    /// Put this calibration in force and store it in the case.
    SetCalibration {
        /// Source id.
        source: String,
        /// Channel name.
        channel: String,
        /// The calibration.
        calibration: Calibration,
        /// How it was obtained, in words.
        method: String,
    },
}

/// A channel as the calibration panel shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationRow {
    /// Source id.
    pub source: String,
    /// Channel name, e.g. `pa`.
    pub channel: String,
    /// Unit, e.g. `mmHg`.
    pub unit: String,
    /// The calibration in force.
    pub calibration: Calibration,
}

impl CalibrationRow {
    fn is_pressure(&self) -> bool {
        crate::model::ChannelSpec {
            name: self.channel.clone(),
            unit: self.unit.clone(),
        }
        .is_pressure()
    }

    fn is_volume(&self) -> bool {
        self.unit == "mL" || matches!(self.calibration, Calibration::Volume { .. })
    }
}

/// Text fields of the two-point and volume panels (kept as typed, parsed on Apply).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CalibrationInputs {
    /// Index into the rows of the channel being scaled.
    pub channel: usize,
    /// Reading at the low point.
    pub raw_low: String,
    /// Known value at the low point.
    pub reference_low: String,
    /// Reading at the high point.
    pub raw_high: String,
    /// Known value at the high point.
    pub reference_high: String,
    /// Slope factor alpha.
    pub alpha: String,
    /// Parallel conductance volume, mL.
    pub parallel_ml: String,
    /// Conductance stroke volume, mL (to compute alpha).
    pub conductance_sv_ml: String,
    /// Reference stroke volume, mL (to compute alpha).
    pub reference_sv_ml: String,
}

/// Everything the settings view shows and edits.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsState {
    /// Ports found by the last discovery.
    pub ports: Vec<PortInfo>,
    /// The port to open (chosen from `ports` or typed).
    pub port_path: String,
    /// Baud rate.
    pub baud: u32,
    /// The device profiles available.
    pub profiles: Vec<Profile>,
    /// Index of the chosen profile.
    pub profile: usize,
    /// Heracles protocol or text lines.
    pub framing: ProfileFraming,
    /// The text stream's layout, when reading text lines.
    pub text: TextStreamConfig,
    /// The channels that can be calibrated.
    pub rows: Vec<CalibrationRow>,
    /// The calibration panels' fields.
    pub inputs: CalibrationInputs,
    /// The outcome of the last action, for the operator (`Err` is shown as an error).
    pub message: Option<Result<String, String>>,
}

impl SettingsState {
    /// A settings view offering `profiles` (the first chosen) and the discovered `ports`.
    pub fn new(profiles: Vec<Profile>, ports: Vec<PortInfo>) -> SettingsState {
        let mut state = SettingsState {
            port_path: ports.first().map(|p| p.path.clone()).unwrap_or_default(),
            ports,
            baud: crate::acquisition::serial::DEFAULT_BAUD,
            profiles,
            profile: 0,
            framing: ProfileFraming::Heracles,
            text: TextStreamConfig {
                delimiter: '\t',
                sample_rate_hz: 1000.0,
                columns: Vec::new(),
            },
            rows: Vec::new(),
            inputs: CalibrationInputs::default(),
            message: None,
        };
        state.choose_profile(0);
        state
    }

    /// Takes the settings of profile `index`: baud, framing, text layout and the channels' default calibrations.
    pub fn choose_profile(&mut self, index: usize) {
        let Some(profile) = self.profiles.get(index) else {
            return;
        };
        self.profile = index;
        self.baud = profile.baud;
        self.framing = profile.framing;
        self.text = match profile.serial_config("", None).framing {
            Framing::Text(text) => text,
            // A starting point should the operator switch to text lines: the profile's channels in order.
            Framing::Heracles { .. } => TextStreamConfig {
                delimiter: '\t',
                sample_rate_hz: profile.sample_rate_hz,
                columns: profile
                    .channels
                    .iter()
                    .enumerate()
                    .map(|(column, c)| ColumnMap {
                        column,
                        name: c.name.clone(),
                        unit: c.unit.clone(),
                        scale: 1.0,
                        offset: 0.0,
                    })
                    .collect(),
            },
        };
        self.rows = rows_of(profile);
    }

    /// The connection the fields describe, or why they do not describe one.
    pub fn serial_config(&self) -> Result<SerialConfig, String> {
        let profile = self.profiles.get(self.profile).ok_or("choose a device profile")?;
        let path = self.port_path.trim();
        if path.is_empty() {
            return Err("choose a port or type its path (e.g. /dev/ttyUSB0 or /dev/pts/3)".into());
        }
        let mut config = profile.serial_config(path, Some(self.baud));
        if self.framing == ProfileFraming::Text {
            if self.text.columns.is_empty() {
                return Err("add at least one column to the text layout".into());
            }
            if !(self.text.sample_rate_hz.is_finite() && self.text.sample_rate_hz > 0.0) {
                return Err("the text stream needs a positive sample rate".into());
            }
            config.framing = Framing::Text(self.text.clone());
            config.spec = self.text.spec(&profile.id, &profile.label);
        } else if let Framing::Text(_) = config.framing {
            config.framing = Framing::Heracles {
                source_id: profile.source_id,
            };
        }
        Ok(config)
    }

    /// Shows the channels of the connected sources, with the calibration in force on each, in place of the
    /// profile's (the app calls this every frame: what can be calibrated is what is live).
    pub fn show_live(&mut self, live: &LiveState) {
        let rows: Vec<CalibrationRow> = live
            .sources
            .iter()
            .flat_map(|source| {
                source
                    .spec
                    .channels
                    .iter()
                    .zip(&source.calibrations)
                    .map(|(channel, calibration)| CalibrationRow {
                        source: source.spec.id.clone(),
                        channel: channel.name.clone(),
                        unit: channel.unit.clone(),
                        calibration: *calibration,
                    })
            })
            .collect();
        if !rows.is_empty() {
            self.rows = rows;
        }
    }

    /// Records that `calibration` is now in force on `source`/`channel` (called by the app once applied).
    pub fn set_calibration(&mut self, source: &str, channel: &str, calibration: Calibration) {
        if let Some(row) = self
            .rows
            .iter_mut()
            .find(|r| r.source == source && r.channel == channel)
        {
            row.calibration = calibration;
        }
    }
}

fn rows_of(profile: &Profile) -> Vec<CalibrationRow> {
    profile
        .channels
        .iter()
        .map(|c| CalibrationRow {
            source: profile.id.clone(),
            channel: c.name.clone(),
            unit: c.unit.clone(),
            calibration: profile.default_calibration(&c.name),
        })
        .collect()
}

/// Draws the settings view; returns what the operator asked for in this frame.
pub fn settings_ui(ui: &mut egui::Ui, state: &mut SettingsState) -> Vec<SettingsCommand> {
    let mut commands = Vec::new();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Console connection");
        connection_ui(ui, state, &mut commands);
        if state.framing == ProfileFraming::Text {
            ui.add_space(theme::PANEL_MARGIN);
            text_layout_ui(ui, &mut state.text);
        }
        ui.add_space(theme::PANEL_MARGIN);
        if ui
            .add(egui::Button::new("Connect").min_size(theme::BUTTON_MIN_SIZE))
            .clicked()
        {
            match state.serial_config() {
                Ok(config) => {
                    state.message = Some(Ok(format!(
                        "connecting to {} at {} baud",
                        config.path, config.baud
                    )));
                    commands.push(SettingsCommand::Connect(config));
                }
                Err(message) => state.message = Some(Err(message)),
            }
        }
        ui.separator();
        ui.heading("Calibration");
        calibration_ui(ui, state, &mut commands);
        message_ui(ui, &state.message);
    });
    commands
}

fn connection_ui(ui: &mut egui::Ui, state: &mut SettingsState, commands: &mut Vec<SettingsCommand>) {
    ui.horizontal(|ui| {
        ui.label("Ports found:");
        if state.ports.is_empty() {
            ui.label(RichText::new("none").color(theme::TEXT_DIM));
        }
        for port in &state.ports {
            let chosen = state.port_path == port.path;
            if ui
                .selectable_label(chosen, &port.path)
                .on_hover_text(&port.description)
                .clicked()
            {
                state.port_path = port.path.clone();
            }
        }
        if ui.button("Refresh ports").clicked() {
            commands.push(SettingsCommand::RefreshPorts);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Port path");
        ui.add(TextEdit::singleline(&mut state.port_path).hint_text("/dev/ttyUSB0 or /dev/pts/3"))
            .labelled_by(label.id);
    });
    ComboBox::from_label("Baud")
        .selected_text(state.baud.to_string())
        .show_ui(ui, |ui| {
            for baud in BAUD_RATES {
                ui.selectable_value(&mut state.baud, baud, baud.to_string());
            }
        });
    let mut profile = state.profile;
    let current = state
        .profiles
        .get(profile)
        .map_or("none", |p| p.label.as_str())
        .to_owned();
    ComboBox::from_label("Profile")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for (index, p) in state.profiles.iter().enumerate() {
                ui.selectable_value(&mut profile, index, &p.label);
            }
        });
    if profile != state.profile {
        state.choose_profile(profile);
    }
    ui.horizontal(|ui| {
        ui.label("Framing");
        ui.radio_value(&mut state.framing, ProfileFraming::Heracles, "heracles protocol");
        ui.radio_value(&mut state.framing, ProfileFraming::Text, "Text lines");
    });
}

fn text_layout_ui(ui: &mut egui::Ui, text: &mut TextStreamConfig) {
    ui.label(RichText::new("Text line layout: one sample per line").strong());
    let delimiter_label = DELIMITERS
        .iter()
        .find(|(_, d)| *d == text.delimiter)
        .map_or("Other", |(l, _)| l);
    ComboBox::from_label("Delimiter")
        .selected_text(delimiter_label)
        .show_ui(ui, |ui| {
            for (label, delimiter) in DELIMITERS {
                ui.selectable_value(&mut text.delimiter, delimiter, label);
            }
        });
    ui.horizontal(|ui| {
        let label = ui.label("Sample rate (Hz)");
        ui.add(egui::DragValue::new(&mut text.sample_rate_hz).range(0.1..=100_000.0))
            .labelled_by(label.id);
    });
    let mut remove = None;
    egui::Grid::new("text columns").striped(true).show(ui, |ui| {
        // The header labels name each row's fields for screen readers and UI tests.
        let header = ["Column", "Channel", "Unit", "Scale", "Offset"]
            .map(|title| ui.label(RichText::new(title).color(theme::TEXT_DIM)).id);
        ui.label("");
        ui.end_row();
        for (index, column) in text.columns.iter_mut().enumerate() {
            ui.add(egui::DragValue::new(&mut column.column).range(0..=255))
                .labelled_by(header[0]);
            ui.add(TextEdit::singleline(&mut column.name).desired_width(80.0))
                .labelled_by(header[1]);
            ui.add(TextEdit::singleline(&mut column.unit).desired_width(60.0))
                .labelled_by(header[2]);
            ui.add(egui::DragValue::new(&mut column.scale).speed(0.01))
                .labelled_by(header[3]);
            ui.add(egui::DragValue::new(&mut column.offset).speed(0.1))
                .labelled_by(header[4]);
            if ui.button(format!("Remove {}", column.name)).clicked() {
                remove = Some(index);
            }
            ui.end_row();
        }
    });
    if let Some(index) = remove {
        text.columns.remove(index);
    }
    if ui.button("Add column").clicked() {
        let column = text.columns.iter().map(|c| c.column + 1).max().unwrap_or(0);
        text.columns.push(ColumnMap {
            column,
            name: format!("ch{column}"),
            unit: String::new(),
            scale: 1.0,
            offset: 0.0,
        });
    }
}

fn calibration_ui(ui: &mut egui::Ui, state: &mut SettingsState, commands: &mut Vec<SettingsCommand>) {
    egui::Grid::new("calibrations").striped(true).show(ui, |ui| {
        for row in &state.rows {
            ui.label(format!("{} ({})", row.channel, row.unit));
            ui.label(RichText::new(row.calibration.describe()).color(theme::TEXT_DIM));
            if row.is_pressure() {
                let zero = ui
                    .add(egui::Button::new(format!("Zero {}", row.channel)).min_size(theme::BUTTON_MIN_SIZE))
                    .on_hover_text("Open the transducer to air, wait for a flat trace, then press");
                if zero.clicked() {
                    commands.push(SettingsCommand::Zero {
                        source: row.source.clone(),
                        channel: row.channel.clone(),
                    });
                }
            } else {
                ui.label("");
            }
            ui.end_row();
        }
    });
    if state.rows.is_empty() {
        return;
    }
    ui.add_space(theme::PANEL_MARGIN);
    ui.label(RichText::new("Two-point scaling").strong());
    let inputs = &mut state.inputs;
    inputs.channel = inputs.channel.min(state.rows.len() - 1);
    let selected = state.rows[inputs.channel].channel.clone();
    ComboBox::from_label("Channel to scale")
        .selected_text(selected)
        .show_ui(ui, |ui| {
            for (index, row) in state.rows.iter().enumerate() {
                ui.selectable_value(&mut inputs.channel, index, &row.channel);
            }
        });
    egui::Grid::new("two point").show(ui, |ui| {
        number_field_ui(ui, "Raw low", &mut inputs.raw_low);
        number_field_ui(ui, "Reference low", &mut inputs.reference_low);
        ui.end_row();
        number_field_ui(ui, "Raw high", &mut inputs.raw_high);
        number_field_ui(ui, "Reference high", &mut inputs.reference_high);
        ui.end_row();
    });
    if ui.button("Apply two-point").clicked() {
        let row = &state.rows[inputs.channel];
        let result = parse_all([
            &inputs.raw_low,
            &inputs.reference_low,
            &inputs.raw_high,
            &inputs.reference_high,
        ])
        .and_then(|[rl, fl, rh, fh]| {
            calibration::two_point(rl, fl, rh, fh)
                .map(|c| {
                    (
                        c,
                        format!("two-point: raw {rl} -> {fl}, raw {rh} -> {fh} {}", row.unit),
                    )
                })
                .map_err(|e| e.to_string())
        });
        state.message = Some(
            result
                .clone()
                .map(|(c, _)| format!("{}: {}", row.channel, c.describe())),
        );
        if let Ok((calibration, method)) = result {
            commands.push(SettingsCommand::SetCalibration {
                source: row.source.clone(),
                channel: row.channel.clone(),
                calibration,
                method,
            });
        }
    }
    if let Some(volume) = state.rows.iter().position(CalibrationRow::is_volume) {
        volume_ui(ui, state, volume, commands);
    }
}

fn volume_ui(
    ui: &mut egui::Ui,
    state: &mut SettingsState,
    volume: usize,
    commands: &mut Vec<SettingsCommand>,
) {
    ui.add_space(theme::PANEL_MARGIN);
    let row = state.rows[volume].clone();
    ui.label(RichText::new(format!("Volume calibration ({})", row.channel)).strong());
    let inputs = &mut state.inputs;
    egui::Grid::new("volume").show(ui, |ui| {
        number_field_ui(ui, "Conductance SV (mL)", &mut inputs.conductance_sv_ml);
        number_field_ui(ui, "Reference SV (mL)", &mut inputs.reference_sv_ml);
        ui.end_row();
    });
    if ui.button("Alpha from stroke volumes").clicked() {
        match parse_all([&inputs.conductance_sv_ml, &inputs.reference_sv_ml])
            .and_then(|[c, r]| calibration::alpha_from_stroke_volumes(c, r).map_err(|e| e.to_string()))
        {
            Ok(alpha) => {
                inputs.alpha = format!("{alpha:.4}");
                state.message = Some(Ok(format!("alpha = {alpha:.4}")));
            }
            Err(message) => state.message = Some(Err(message)),
        }
    }
    let inputs = &mut state.inputs;
    egui::Grid::new("alpha parallel").show(ui, |ui| {
        number_field_ui(ui, "Alpha", &mut inputs.alpha);
        number_field_ui(ui, "Parallel volume (mL)", &mut inputs.parallel_ml);
        ui.end_row();
    });
    if ui.button("Apply volume calibration").clicked() {
        let result = parse_all([&inputs.alpha, &inputs.parallel_ml]).and_then(|[alpha, parallel_ml]| {
            if alpha.is_finite() && alpha > 0.0 {
                Ok(Calibration::Volume { alpha, parallel_ml })
            } else {
                Err("alpha must be a positive number".to_owned())
            }
        });
        state.message = Some(
            result
                .clone()
                .map(|c| format!("{}: {}", row.channel, c.describe())),
        );
        if let Ok(calibration) = result {
            commands.push(SettingsCommand::SetCalibration {
                source: row.source,
                channel: row.channel,
                calibration,
                method: "volume: alpha and parallel conductance volume entered".into(),
            });
        }
    }
}

fn number_field_ui(ui: &mut egui::Ui, label: &str, text: &mut String) {
    let label = ui.label(label);
    ui.add(TextEdit::singleline(text).desired_width(70.0))
        .labelled_by(label.id);
}

/// Parses every field, or says which one is not a number.
fn parse_all<const N: usize>(fields: [&String; N]) -> Result<[f64; N], String> {
    let mut values = [0.0; N];
    for (value, field) in values.iter_mut().zip(fields) {
        *value = field
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not a number", field.trim()))?;
    }
    Ok(values)
}

fn message_ui(ui: &mut egui::Ui, message: &Option<Result<String, String>>) {
    match message {
        Some(Ok(text)) => {
            ui.label(RichText::new(format!("OK: {text}")).color(theme::OK));
        }
        Some(Err(text)) => {
            ui.label(RichText::new(format!("Error: {text}")).color(theme::ERROR));
        }
        None => {}
    }
}
