//! One analysis on several threads gives the report of one thread, byte for byte (and `--json` writes it as serde
//! would, on those threads): a simulated 8-minute record with ECG, arterial, distal, Doppler and LV pressure-volume
//! channels at 1 kHz (every per-beat value block by block, each block's LV traces made for it), and TestICU's
//! arterial pressure at 125 Hz repeated to 15 minutes (phases and coronary values block by block at the recorded
//! rate, chunks of beats cutting through blocks). The work is really split (counted), and a short record is not.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use heracles::analysis::AnalysisSettings;
use heracles::analysis::pipeline::{AnalysisRequest, ChannelChoice, Report, analyze_recording};
use heracles::cli::analyze::AnalysisThreads;
use heracles::cli::analyze::json::write_report;
use heracles::formats::{self, Format};
use heracles::model::workers::{Runner, Workers};
use heracles::model::{Recording, SignalKind};
use heracles::sim::{SensorLevel, Simulator};

use crate::analysis::{heracles, simulate};

/// The command line's threads, counting the parts they are given.
pub(crate) struct Counting {
    pub(crate) parts: AtomicUsize,
}

impl Runner for Counting {
    fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
        self.parts.fetch_add(tasks.len(), Ordering::Relaxed);
        AnalysisThreads.run_all(tasks);
    }
}

/// `recording` repeated `times` times end to end.
fn repeated(recording: Recording, times: usize) -> Recording {
    let mut segment = recording.segments.into_iter().next().unwrap();
    for channel in &mut segment.channels {
        channel.samples = channel.samples.repeat(times);
    }
    Recording {
        segments: vec![segment],
        markers: vec![],
    }
}

/// TestICU (5 minutes at 125 Hz) and the request for its arterial pressure.
fn test_icu() -> (Recording, AnalysisRequest) {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wfdb/TestICU.hea"
    ));
    let request = AnalysisRequest {
        channels: vec![ChannelChoice {
            kind: SignalKind::Pa,
            index: 2,
        }],
        ..AnalysisRequest::default()
    };
    (formats::read(path, Format::Wfdb).unwrap(), request)
}

/// The report of `recording` on `count` threads (counted by `runner`), as JSON text.
fn report_json(
    recording: &Recording,
    request: &AnalysisRequest,
    count: usize,
    runner: &'static Counting,
) -> String {
    let request = AnalysisRequest {
        workers: Workers::new(NonZeroUsize::new(count).unwrap(), runner),
        ..request.clone()
    };
    let report: Report = analyze_recording(recording, &AnalysisSettings::default(), &request).unwrap();
    let text = serde_json::to_string(&report).unwrap();
    // `--json` writes the same bytes, its beats serialised on the same threads.
    let mut written = Vec::new();
    write_report(&report, request.workers, &mut written).unwrap();
    assert!(
        written == format!("{text}\n").into_bytes(),
        "{count} threads: `--json` differs from serde's JSON of the report"
    );
    text
}

/// Every thread count gives one thread's report, and more than one thread is used.
fn assert_same_on_every_count(recording: &Recording, request: &AnalysisRequest, runner: &'static Counting) {
    let one = report_json(recording, request, 1, runner);
    assert_eq!(
        runner.parts.load(Ordering::Relaxed),
        0,
        "one thread: nothing handed to the runner"
    );
    for count in [2, 3, 4] {
        let before = runner.parts.load(Ordering::Relaxed);
        let many = report_json(recording, request, count, runner);
        let parts = runner.parts.load(Ordering::Relaxed) - before;
        assert!(
            parts > 2,
            "{count} threads: the beats were split into {parts} parts"
        );
        assert!(
            one == many,
            "{count} threads: the report differs from one thread's"
        );
    }
}

#[test]
fn a_pressure_volume_record_on_several_threads_gives_one_threads_report() {
    static RUNNER: Counting = Counting {
        parts: AtomicUsize::new(0),
    };
    let simulator = Simulator::new("shock-ecmo-af", 3, SensorLevel::Realistic).unwrap();
    let recording = repeated(simulate(simulator, 120.0).0, 4);
    let request = AnalysisRequest::default();
    let one = report_json(&recording, &request, 1, &RUNNER);
    let report: serde_json::Value = serde_json::from_str(&one).unwrap();
    // Enough beats for three chunks, each with its PV values.
    let per_beat = report["per_beat"].as_array().unwrap();
    assert!(per_beat.len() > 3 * 256, "{} beats", per_beat.len());
    assert!(per_beat.iter().filter(|beat| !beat["pv"].is_null()).count() > per_beat.len() / 2);
    assert_same_on_every_count(&recording, &request, &RUNNER);
}

#[test]
fn an_arterial_record_at_125_hz_on_several_threads_gives_one_threads_report() {
    static RUNNER: Counting = Counting {
        parts: AtomicUsize::new(0),
    };
    // 15 minutes, about 1100 beats: chunks of 275-550 beats, whose edges fall inside the minute-long blocks the
    // 125 Hz samples are brought to the analysis rate in.
    let (recording, request) = test_icu();
    assert_same_on_every_count(&repeated(recording, 3), &request, &RUNNER);
}

#[test]
fn a_short_record_runs_on_the_callers_thread() {
    static RUNNER: Counting = Counting {
        parts: AtomicUsize::new(0),
    };
    let (recording, request) = test_icu();
    // Two minutes: about 150 beats.
    let request = AnalysisRequest {
        to_s: Some(120.0),
        ..request
    };
    let one = report_json(&recording, &request, 1, &RUNNER);
    assert_eq!(one, report_json(&recording, &request, 4, &RUNNER));
    assert_eq!(RUNNER.parts.load(Ordering::Relaxed), 0);
}

#[test]
fn jobs_bounds_one_records_threads_without_changing_its_report() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/wfdb/TestICU.hea");
    let run = |jobs: &str| {
        let output = heracles(&["analyze", path, "--signal", "abp=2", "--json", "--jobs", jobs]);
        assert!(
            output.status.success(),
            "--jobs {jobs}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    assert_eq!(run("1"), run("3"));
}
