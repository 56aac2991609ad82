//! The console settings view driven by the labels an operator reads: choosing a port (discovered or typed), baud
//! and profile, laying out a text line stream, and calibrating (zero, two-point, volume); what it asks the app to
//! do comes out as commands.

use crate::ui_protocol::{App, app_click, app_close_case, run_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heracles::acquisition::calibration::Calibration;
use heracles::acquisition::profile::load_profiles;
use heracles::acquisition::serial::{Framing, PortInfo};
use heracles::ui::action::{Action, View};
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

/// Focuses the field labelled `label` and types `text` into it (any screen under test).
pub fn type_into<State>(harness: &mut Harness<'_, State>, label: &str, text: &str) {
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

/// A coronary console whose aortic transducer is open to air (reading a steady 7.5 mmHg, +-0.1 alternating) and
/// whose distal one is on the patient (pulsatile), paced to real time in 20 ms blocks.
struct OpenToAir;

/// What the open transducer reads at sample `index`.
fn air_mmhg(index: u64) -> f32 {
    if index.is_multiple_of(2) { 7.4 } else { 7.6 }
}

impl heracles::acquisition::Source for OpenToAir {
    fn spec(&self) -> heracles::model::SourceSpec {
        let channel = |name: &str| heracles::model::ChannelSpec {
            name: name.into(),
            unit: "mmHg".into(),
        };
        heracles::model::SourceSpec {
            id: "coronary".into(),
            label: "Coronary console".into(),
            sample_rate_hz: 1000.0,
            channels: vec![channel("pa"), channel("pd")],
        }
    }

    fn run(self: Box<Self>, sink: heracles::acquisition::SourceSink) {
        use heracles::acquisition::SourceEvent;
        let connected = SourceEvent::Connected {
            spec: self.spec(),
            first_sample: 0,
        };
        if sink.send(connected).is_err() {
            return;
        }
        let start = std::time::Instant::now();
        let mut next = 0u64;
        while !sink.should_stop() {
            let due = (start.elapsed().as_secs_f64() * 1000.0) as u64;
            if next + 20 > due {
                std::thread::sleep(std::time::Duration::from_millis(2));
                continue;
            }
            let indices = next..next + 20;
            let block = heracles::model::Block {
                first_sample: next,
                channels: vec![
                    indices.clone().map(air_mmhg).collect(),
                    indices.map(|i| 90.0 + 25.0 * (i as f32 * 0.0075).sin()).collect(),
                ],
            };
            if sink.send(SourceEvent::Block(block)).is_err() {
                return;
            }
            next += 20;
        }
    }
}

/// The newest sample of the live `pa` channel and its index, as the app shows it.
fn newest_pa(harness: &App) -> Option<(u64, f32)> {
    let state = harness.state().engine().lock();
    let ring = &state.sources[0].channels[0];
    let index = ring.end_sample().checked_sub(1)?;
    Some((index, ring.at(index)?))
}

#[test]
fn zeroing_a_live_pressure_shifts_it_and_lands_in_the_case_file_with_who_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_owned();
    let sources: Vec<Box<dyn heracles::acquisition::Source>> = vec![Box::new(OpenToAir)];
    let mut harness: App = Harness::builder()
        .with_size([1366.0, 768.0])
        .build_eframe(move |cc| {
            let mut app = heracles::app::HeraclesApp::new(&cc.egui_ctx, sources).unwrap();
            app.set_data_dir(Some(data_dir));
            app.handle(heracles::app::Command::ShowStart);
            app
        });
    let before_utc = chrono::Utc::now();

    // Without a case there is nowhere to store a calibration: refused, nothing applied.
    harness
        .state_mut()
        .handle(heracles::app::Command::Ui(Action::ShowView(View::Settings)));
    run_until(&mut harness, "2 s open to air", 10.0, |h| {
        newest_pa(h).is_some_and(|(index, _)| index > 2_200)
    });
    app_click(&mut harness, "Zero pa");
    harness.get_by_label_contains("open a case first");
    assert_eq!(
        harness.state().engine().lock().sources[0].calibrations[0],
        Calibration::IDENTITY
    );

    harness.state_mut().handle(heracles::app::Command::ShowStart);
    harness.run_steps(3);
    harness.get_by_label("Operator").focus();
    harness.run_steps(2);
    harness.get_by_label("Operator").type_text("nurse B");
    harness.run_steps(2);
    app_click(&mut harness, "Start demo case");
    run_until(&mut harness, "the case file", 10.0, |h| {
        h.state().protocol().is_some_and(|p| p.path().is_some())
    });
    let path = harness.state().protocol().unwrap().path().unwrap().to_owned();
    run_until(&mut harness, "the recording", 10.0, |h| {
        h.state().engine().lock().recording.active
    });
    let recording_from = newest_pa(&harness).unwrap().0;
    run_until(&mut harness, "samples recorded before the zero", 10.0, |h| {
        newest_pa(h).is_some_and(|(index, _)| index > recording_from + 300)
    });

    app_click(&mut harness, "Settings");
    // The calibration panel lists the live channels; only pressures have a zero button.
    harness.get_by_label("pa (mmHg)");
    let (index_before, value_before) = newest_pa(&harness).unwrap();
    assert_eq!(
        value_before,
        air_mmhg(index_before),
        "uncalibrated, the ring holds the raw reading"
    );
    app_click(&mut harness, "Zero pa");
    harness.get_by_label_contains("stored in the case by nurse B");
    let from = harness.state().engine().lock().sources[0].calibrated_from[0];
    assert!(from > index_before);

    // From the zero on, the live value is the raw reading shifted by the offset: 7.5 mmHg (the mean open to
    // air) is taken off every sample.
    run_until(&mut harness, "samples after the zero", 10.0, |h| {
        newest_pa(h).is_some_and(|(index, _)| index > from + 100)
    });
    let (index_after, value_after) = newest_pa(&harness).unwrap();
    assert!(
        (value_after - (air_mmhg(index_after) - 7.5)).abs() < 1e-3,
        "{value_after} at {index_after}"
    );
    {
        let state = harness.state().engine().lock();
        let ring = &state.sources[0].channels[0];
        assert_eq!(
            ring.at(from - 1),
            Some(air_mmhg(from - 1)),
            "samples before the zero keep theirs"
        );
    }

    // A pulsatile pressure is not zeroed.
    app_click(&mut harness, "Zero pd");
    harness.get_by_label_contains("varies too much");

    app_click(&mut harness, "Live");
    app_close_case(&mut harness);
    // The case is recording: closing asks first.
    app_click(&mut harness, "Close case and stop recording");
    assert!(harness.state().protocol().is_none());
    let after_utc = chrono::Utc::now();

    let file = heracles::store::CaseFile::open_read_only(&path).unwrap();
    let stored = heracles::acquisition::calibration::stored_calibrations(&file).unwrap();
    let [(utc, record)] = stored.as_slice() else {
        panic!("expected one calibration, got {stored:?}");
    };
    assert_eq!(
        (record.source.as_str(), record.channel.as_str()),
        ("coronary", "pa")
    );
    assert_eq!(record.who, "nurse B");
    assert_eq!(record.first_sample(1000.0), from);
    let Calibration::Linear { gain, offset } = record.calibration else {
        panic!("{:?}", record.calibration);
    };
    assert_eq!(gain, 1.0);
    assert!((offset + 7.5).abs() < 1e-4, "{offset}");
    let stored_at = chrono::DateTime::parse_from_rfc3339(utc).unwrap();
    assert!(before_utc <= stored_at && stored_at <= after_utc, "{utc}");
    let audit = file.audit_trail().unwrap();
    assert!(
        audit
            .iter()
            .any(|entry| entry.action == "set_calibration" && entry.who == "nurse B"),
        "the audit trail names who calibrated"
    );

    // Stored raw (lossless), read calibrated from the zero on.
    let channel = file
        .channels()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "pa")
        .unwrap();
    let end = channel.end_sample;
    assert!(end > from + 50, "recorded past the zero");
    let raw = file.read_samples(channel.id, channel.first_sample, end).unwrap();
    for (i, value) in raw.values.iter().enumerate() {
        let index = raw.first_sample + i as u64;
        assert_eq!(*value, air_mmhg(index), "raw sample {index}");
    }
    let recording = file.recording(None, None).unwrap();
    let pa = recording.segments[0]
        .channels
        .iter()
        .find(|c| c.name == "pa")
        .unwrap();
    assert!(channel.first_sample + 2 <= from, "recorded before the zero");
    for index in [from - 2, from - 1, from, from + 1, end - 1] {
        let expected = if index < from {
            f64::from(air_mmhg(index))
        } else {
            f64::from(air_mmhg(index)) - 7.5
        };
        let read = pa.samples[index as usize];
        assert!(
            (read - expected).abs() < 1e-3,
            "sample {index}: {read} vs {expected}"
        );
    }
    // The review screen's traces read the same (its tiles; the chunk-level envelope is unit-tested).
    let tile = heracles::review::tracks::load_tile(&file, &channel, 0).unwrap();
    for index in [from - 1, from, end - 1] {
        let shift = if index < from { 0.0 } else { 7.5 };
        let read = tile.samples[index as usize];
        assert!(
            (read - (air_mmhg(index) - shift)).abs() < 1e-3,
            "review sample {index}: {read}"
        );
    }
}
