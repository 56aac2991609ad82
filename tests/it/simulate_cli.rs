//! `heracles simulate` -> `heracles analyze` as a user runs them (the binary): the simulator's own CSV analyses as
//! it is, `--truth` writes the per-beat truth beside it, and the analysis's end of systole matches it; the CSV
//! is the simulator's samples at their printed precision, byte for byte; and `heracles validate` in a small
//! configuration.

use std::path::Path;
use std::process::Command;

fn heracles() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heracles"));
    command.env_remove("HERACLES_DATA_DIR").env("RUST_LOG", "warn");
    command
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?}: {}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `heracles simulate` for `seconds` of `scenario` with `sensors` and `seed`, with `--truth`; returns the
/// CSV's and the truth's paths.
fn simulate(
    dir: &Path,
    scenario: &str,
    sensors: &str,
    seconds: &str,
    seed: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let csv = dir.join(format!("{scenario}-{sensors}.csv"));
    let truth = dir.join(format!("{scenario}-{sensors}.truth.csv"));
    run_ok(
        heracles()
            .args([
                "simulate",
                "--scenario",
                scenario,
                "--sensors",
                sensors,
                "--seconds",
                seconds,
                "--seed",
                seed,
                "--out",
            ])
            .arg(&csv)
            .arg("--truth")
            .arg(&truth),
    );
    (csv, truth)
}

#[test]
fn simulated_csv_analyses_as_it_is_and_matches_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, truth) = simulate(dir.path(), "shock-ecmo-iabp", "clean", "12", "1");
    let report: serde_json::Value =
        serde_json::from_str(&run_ok(heracles().arg("analyze").arg(&csv).arg("--json"))).unwrap();
    let beats = report["beats"].as_array().unwrap();
    assert!(beats.len() >= 15, "{} beats", beats.len());
    assert!(
        report["summary"]["coronary"]["apv_cm_s"].is_number(),
        "{}",
        report["summary"]
    );

    let text = std::fs::read_to_string(&truth).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect();
    assert!(rows.len() >= 15);
    let mut compared = 0;
    for (beat, metrics) in beats.iter().zip(report["per_beat"].as_array().unwrap()) {
        let start_s = beat["time_s"].as_f64().unwrap();
        let Some(row) = rows.iter().find(|row| {
            let t: f64 = row[column("start_s")].parse().unwrap();
            (t - start_s).abs() < 0.03
        }) else {
            continue;
        };
        let diastole_s = metrics["coronary"]["diastole_s"].as_f64().unwrap();
        let systole_end_s = start_s + beat["duration_s"].as_f64().unwrap() - diastole_s;
        let closure_s: f64 = row[column("valve_close_s")].parse().unwrap();
        assert!(
            (systole_end_s - closure_s).abs() <= 0.005,
            "beat at {start_s} s: systole ends at {systole_end_s}, valve closes at {closure_s}"
        );
        assert_eq!(row[column("balloon_inflated")], "1");
        compared += 1;
    }
    assert!(compared >= 15, "{compared} beats compared");
}

/// The CSV of `heracles simulate` is, byte for byte, the samples of one uninterrupted run of the simulator
/// written by the general formatter at the documented decimals: the command's own number writer, its blocks and
/// `--truth` beside it change nothing, on both sensor levels and with each unloading device.
#[test]
fn simulated_csv_is_the_samples_at_their_printed_precision() {
    use heracles::sim::{SensorLevel, Simulator};
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let seconds = 2.5;
    for scenario in ["shock-ecmo", "shock-ecmo-iabp", "shock-ecmo-impella"] {
        for (sensors, level) in [
            ("realistic", SensorLevel::Realistic),
            ("clean", SensorLevel::Clean),
        ] {
            let (csv, _) = simulate(dir.path(), scenario, sensors, &seconds.to_string(), "4");
            let mut expected = String::from("t_s,ecg,pa,pd,ipv,lvp,lvv,ecmo_flow\n");
            let mut sim = Simulator::new(scenario, 4, level).unwrap();
            sim.advance((seconds * 1000.0) as usize, |sample| {
                let t_s = sample.index as f64 / 1000.0;
                let [ecg, pa, pd, ipv, lvp, lvv, ecmo] = sample.measured;
                writeln!(
                    expected,
                    "{t_s:.3},{ecg:.4},{pa:.3},{pd:.3},{ipv:.3},{lvp:.3},{lvv:.3},{ecmo:.4}"
                )
                .unwrap();
            });
            let written = std::fs::read_to_string(&csv).unwrap();
            assert!(
                written == expected,
                "{scenario}, {sensors} sensors: the CSV differs"
            );
        }
    }
}

#[test]
fn validate_prints_the_tables_in_a_small_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("validation.md");
    let output = run_ok(
        heracles()
            .args([
                "validate",
                "--seconds",
                "6",
                "--seeds",
                "1",
                "--only",
                "IABP 1:2",
                "--markdown",
            ])
            .arg(&doc),
    );
    assert!(output.contains("| IABP | clean |"), "{output}");
    let text = std::fs::read_to_string(&doc).unwrap();
    assert!(text.contains("heracles validate --seconds 6 --seeds 1"), "{text}");
    assert!(text.contains("diastolic APV"));
}
