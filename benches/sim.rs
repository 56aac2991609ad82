//! Simulator speed: simulated seconds per CPU second with everything on (VA-ECMO, an IABP or an Impella, the
//! coronary branch, ventilation, realistic sensors), at the 1 kHz output rate. The target is at least 1000x real
//! time on one core for `heracles simulate` (issue 18).
//!
//! Run: `cargo bench --bench sim`. Each iteration generates 10 simulated seconds; criterion's throughput is in
//! samples per second, so the real-time factor is that figure divided by 1000. `_csv` is what `heracles simulate
//! --out` does per simulated second (`cli::simulate::write_rows`: the samples written as CSV rows, to a sink
//! here), the figure to compare the command's CPU time per simulated second with; `_block` is the blocks the
//! workstation's live view takes (`Simulator::generate`).

// A benchmark whose scenario does not exist should stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heracles::cli::simulate::write_rows;
use heracles::sim::{OUTPUT_RATE_HZ, SensorLevel, Simulator};

const SECONDS_PER_ITERATION: f64 = 10.0;

fn simulate(c: &mut Criterion) {
    let num_samples = (SECONDS_PER_ITERATION * OUTPUT_RATE_HZ) as usize;
    let mut group = c.benchmark_group("sim");
    group.sample_size(20).measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(num_samples as u64));
    for scenario in ["shock-ecmo-iabp", "shock-ecmo-impella"] {
        let mut sim = Simulator::new(scenario, 1, SensorLevel::Realistic).expect("scenario exists");
        group.bench_function(format!("{scenario}_10s_realistic_csv"), |b| {
            b.iter(|| {
                write_rows(&mut sim, num_samples, &mut std::io::sink(), None).expect("a sink takes anything")
            });
        });
        group.bench_function(format!("{scenario}_10s_realistic_block"), |b| {
            b.iter(|| black_box(sim.generate(num_samples)));
        });
    }
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
