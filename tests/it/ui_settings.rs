//! The console settings view driven by the labels an operator reads: choosing a port (discovered or typed), baud
//! and profile, laying out a text line stream, and calibrating (zero, two-point, volume); what it asks the app to
//! do comes out as commands.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heracles::acquisition::calibration::Calibration;
use heracles::acquisition::profile::load_profiles;
use heracles::acquisition::serial::{Framing, PortInfo};
use heracles::ui::settings::{SettingsCommand, SettingsState, settings_ui};

struct Screen {
    settings: SettingsState,
    commands: Vec<SettingsCommand>,
}

fn harness() -> Harness<'static, Screen> {
    let (profiles, errors) = load_profiles(None);
    assert!(errors.is_empty());
    let ports = vec![
        PortInfo {
            path: "/dev/ttyUSB0".into(),
            description: "USB 0403:6001 FT232R".into(),
        },
        PortInfo {
            path: "/dev/ttyUSB1".into(),
            description: "USB 10c4:ea60 CP2102".into(),
        },
    ];
    let screen = Screen {
        settings: SettingsState::new(profiles, ports),
        commands: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1366.0, 1400.0))
        .build_ui_state(
            |ui, screen: &mut Screen| {
                let commands = settings_ui(ui, &mut screen.settings);
                screen.commands.extend(commands);
            },
            screen,
        );
    harness.run();
    harness
}

fn type_into(harness: &mut Harness<'static, Screen>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

#[test]
fn connect_uses_the_chosen_port_baud_and_profile() {
    let mut harness = harness();
    harness.get_by_label("/dev/ttyUSB1").click();
    harness.run();
    // Choosing a profile takes its baud rate; the operator can then change it.
    harness.get_by_label("Profile").click();
    harness.run();
    harness.get_by_label("PV console").click();
    harness.run();
    assert_eq!(harness.state().settings.baud, 921_600);
    harness.get_by_label("Baud").click();
    harness.run();
    harness.get_by_label("115200").click();
    harness.run();
    harness.get_by_label("Connect").click();
    harness.run();
    let [SettingsCommand::Connect(config)] = harness.state().commands.as_slice() else {
        panic!("expected one Connect, got {:?}", harness.state().commands);
    };
    assert_eq!(
        (config.path.as_str(), config.baud, config.spec.id.as_str()),
        ("/dev/ttyUSB1", 115_200, "pv")
    );
    assert_eq!(config.framing, Framing::Heracles { source_id: None });
    harness.get_by_label_contains("connecting to /dev/ttyUSB1");
    // The PV profile's channels are offered for calibration, the volume uncalibrated.
    harness.get_by_label("lvv (mL)");
    harness.get_by_label("Volume calibration (lvv)");
}

#[test]
fn a_typed_pseudo_terminal_and_a_text_layout() {
    let mut harness = harness();
    harness.state_mut().settings.port_path.clear();
    harness.run();
    type_into(&mut harness, "Port path", "/dev/pts/7");
    harness.get_by_label("Text lines").click();
    harness.run();
    harness.get_by_label("Delimiter").click();
    harness.run();
    harness.get_by_label("Comma").click();
    harness.run();
    // The coronary profile's four channels are the starting layout; drop the ECG and add a column.
    harness.get_by_label("Remove ecg").click();
    harness.run();
    harness.get_by_label("Add column").click();
    harness.run();
    harness.get_by_label("Connect").click();
    harness.run();
    let [SettingsCommand::Connect(config)] = harness.state().commands.as_slice() else {
        panic!("expected one Connect, got {:?}", harness.state().commands);
    };
    assert_eq!(config.path, "/dev/pts/7");
    let Framing::Text(text) = &config.framing else {
        panic!("expected text framing")
    };
    assert_eq!(text.delimiter, ',');
    let names: Vec<&str> = text.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["pa", "pd", "ipv", "ch3"]);
    assert_eq!(config.spec.channels.len(), 4);
}

#[test]
fn connect_without_a_port_says_why() {
    let mut harness = harness();
    harness.state_mut().settings.port_path.clear();
    harness.run();
    harness.get_by_label("Connect").click();
    harness.run();
    assert!(harness.state().commands.is_empty());
    harness.get_by_label_contains("Error: choose a port");
}

#[test]
fn zero_and_two_point_calibration() {
    let mut harness = harness();
    harness.get_by_label("Zero pd").click();
    harness.run();
    assert_eq!(
        harness.state().commands,
        vec![SettingsCommand::Zero {
            source: "coronary".into(),
            channel: "pd".into()
        }]
    );
    assert!(
        harness.query_by_label("Zero ecg").is_none(),
        "only pressures are zeroed"
    );
    harness.state_mut().commands.clear();

    type_into(&mut harness, "Raw low", "0.1");
    type_into(&mut harness, "Reference low", "0");
    type_into(&mut harness, "Raw high", "1.1");
    type_into(&mut harness, "Reference high", "100");
    harness.get_by_label("Apply two-point").click();
    harness.run();
    let [
        SettingsCommand::SetCalibration {
            channel,
            calibration: Calibration::Linear { gain, offset },
            ..
        },
    ] = harness.state().commands.as_slice()
    else {
        panic!("expected one SetCalibration, got {:?}", harness.state().commands);
    };
    assert_eq!(channel, "pa");
    assert!((gain - 100.0).abs() < 1e-9 && (offset + 10.0).abs() < 1e-9);
    harness.get_by_label_contains("OK: pa: value = raw x 100");

    // A typo is an error on screen, not a command.
    harness.state_mut().commands.clear();
    type_into(&mut harness, "Raw high", "x");
    harness.get_by_label("Apply two-point").click();
    harness.run();
    assert!(harness.state().commands.is_empty());
    harness.get_by_label_contains("is not a number");
}

#[test]
fn volume_calibration_from_stroke_volumes() {
    let mut harness = harness();
    harness.get_by_label("Profile").click();
    harness.run();
    harness.get_by_label("PV console").click();
    harness.run();
    type_into(&mut harness, "Conductance SV (mL)", "48");
    type_into(&mut harness, "Reference SV (mL)", "60");
    harness.get_by_label("Alpha from stroke volumes").click();
    harness.run();
    assert_eq!(harness.state().settings.inputs.alpha, "0.8000");
    type_into(&mut harness, "Parallel volume (mL)", "35");
    harness.get_by_label("Apply volume calibration").click();
    harness.run();
    assert_eq!(
        harness.state().commands,
        vec![SettingsCommand::SetCalibration {
            source: "pv".into(),
            channel: "lvv".into(),
            calibration: Calibration::Volume {
                alpha: 0.8,
                parallel_ml: 35.0
            },
            method: "volume: alpha and parallel conductance volume entered".into(),
        }]
    );
    // The app applies it and tells the view; the row then shows the formula.
    harness.state_mut().settings.set_calibration(
        "pv",
        "lvv",
        Calibration::Volume {
            alpha: 0.8,
            parallel_ml: 35.0,
        },
    );
    harness.run();
    harness.get_by_label(
        &Calibration::Volume {
            alpha: 0.8,
            parallel_ml: 35.0,
        }
        .describe(),
    );
}
