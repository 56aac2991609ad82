//! Beat detection against third-party references (PhysioNet `wabp` onsets on TestICU, the Inca console's own
//! beat counter), against synthetic signals with known beat times, on bad input, and chunk by chunk.

use std::path::{Path, PathBuf};

use heracles::formats::{self, Format};
use heracles::model::{Fiducial, Recording, SignalKind};
use heracles::signal::resample::resample;
use heracles::signal::{SignalSettings, Signals, segment};

fn data(path: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/")).join(path)
}

const RATE: f64 = 1000.0;

/// Channel `index` of a recording resampled to the analysis rate.
fn at_analysis_rate(recording: &Recording, index: usize) -> Vec<f64> {
    let channel = &recording.segments[0].channels[index];
    resample(&channel.samples, channel.sample_rate_hz, RATE).unwrap()
}

fn test_icu_abp() -> Vec<f64> {
    at_analysis_rate(
        &formats::read(&data("wfdb/TestICU.hea"), Format::Wfdb).unwrap(),
        2,
    )
}

fn wabp_onsets_s() -> Vec<f64> {
    let text = std::fs::read_to_string(data("wfdb/TestICU_wabp_onsets.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// One-to-one matching of sorted times within `tolerance_s`: (matched pairs as detected - reference, s).
fn match_times(detected: &[f64], reference: &[f64], tolerance_s: f64) -> Vec<f64> {
    let mut differences = Vec::new();
    let mut j = 0;
    for &r in reference {
        while j < detected.len() && detected[j] < r - tolerance_s {
            j += 1;
        }
        if j < detected.len() && (detected[j] - r).abs() <= tolerance_s {
            differences.push(detected[j] - r);
            j += 1;
        }
    }
    differences
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn test_icu_onsets_match_wabp() {
    let abp = test_icu_abp();
    let settings = SignalSettings::default();
    let signals = Signals {
        pa: Some(&abp),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &settings).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::PressureOnset));
    let mut detected: Vec<f64> = result.beats.iter().map(|b| b.start as f64 / RATE).collect();
    if let Some(last) = result.beats.last() {
        detected.push(last.end as f64 / RATE);
    }
    let reference = wabp_onsets_s();
    let matched = match_times(&detected, &reference, 0.05);
    let sensitivity = matched.len() as f64 / reference.len() as f64;
    let ppv = matched.len() as f64 / detected.len() as f64;
    let median_ms = 1000.0 * median(matched.clone());
    println!(
        "TestICU onsets: {} detected, {} reference, sensitivity {sensitivity:.4}, PPV {ppv:.4}, median offset {median_ms:.1} ms",
        detected.len(),
        reference.len()
    );
    assert!(
        sensitivity >= 0.99 && ppv >= 0.99,
        "sensitivity {sensitivity}, PPV {ppv}"
    );
    assert!(median_ms.abs() < 20.0, "median offset {median_ms} ms");
}

#[test]
fn inca_end_diastole_matches_the_console_beat_counter() {
    let recording = formats::read(&data("inca/inca_ivc_occlusion_example.csv"), Format::Inca).unwrap();
    let segment_data = &recording.segments[0];
    let index = |name: &str| segment_data.channels.iter().position(|c| c.name == name).unwrap();
    let counter = &segment_data.channels[index("beat#")].samples;
    let ecg = at_analysis_rate(&recording, index(SignalKind::Ecg.name()));
    let lvp = at_analysis_rate(&recording, index(SignalKind::Lvp.name()));
    let lvv = at_analysis_rate(&recording, index(SignalKind::Lvv.name()));
    let signals = Signals {
        ecg: Some(&ecg),
        lvp: Some(&lvp),
        lvv: Some(&lvv),
        ..Signals::default()
    };
    let result = segment(&signals, RATE, &SignalSettings::default()).unwrap();
    assert_eq!(result.fiducial, Some(Fiducial::RWave), "{:?}", result.notes);
    // The console's end-diastoles: where its beat counter increments (in 250 Hz samples).
    let transitions: Vec<usize> = (1..counter.len())
        .filter(|&i| counter[i] != counter[i - 1])
        .collect();
    let mut ends: Vec<u64> = result.beats.iter().map(|b| b.start).collect();
    ends.extend(result.beats.last().map(|b| b.end));
    let ours: Vec<f64> = ends.iter().map(|&s| s as f64 / RATE * 250.0).collect();
    let matched = transitions
        .iter()
        .filter(|&&t| ours.iter().any(|&o| (o - t as f64).abs() <= 2.0))
        .count();
    let rate = matched as f64 / transitions.len() as f64;
    println!(
        "Inca: {matched} of {} console end-diastoles matched within 2 samples ({rate:.3})",
        transitions.len()
    );
    assert!(rate >= 0.95);
    // Numbering: beat N starts where the console's counter becomes N.
    for beat in &result.beats {
        let at = (beat.start as f64 / RATE * 250.0).round() as usize;
        assert_eq!(
            counter[at.min(counter.len() - 1)] as u32,
            beat.number,
            "beat {}",
            beat.number
        );
    }
}
