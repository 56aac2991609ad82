//! Simulator speed: simulated seconds per CPU second with everything on (VA-ECMO, an IABP or an Impella, the
//! coronary branch, ventilation, realistic sensors), at the 1 kHz output rate. The target is at least 500x real
//! time on one core.
//!
//! Run: `cargo bench --bench sim`. Each iteration generates 10 simulated seconds; criterion's throughput is in
//! samples per second, so the real-time factor is that figure divided by 1000.

// A benchmark whose scenario does not exist should stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heracles::sim::{OUTPUT_RATE_HZ, SensorLevel, Simulator};

const SECONDS_PER_ITERATION: f64 = 10.0;

fn simulate(c: &mut Criterion) {
    let num_samples = (SECONDS_PER_ITERATION * OUTPUT_RATE_HZ) as usize;
    let mut group = c.benchmark_group("sim");
    group.sample_size(20).measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(num_samples as u64));
    for scenario in ["shock-ecmo-iabp", "shock-ecmo-impella"] {
        let mut sim = Simulator::new(scenario, 1, SensorLevel::Realistic).expect("scenario exists");
        group.bench_function(format!("{scenario}_10s_realistic"), |b| {
            b.iter(|| black_box(sim.generate(num_samples)));
        });
    }
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
