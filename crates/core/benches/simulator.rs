//! Simulated contacts per second: the M/M/N scenario of examples/mmn.toml
//! (14 agents, 200 calls an hour, AHT 180 s) through the full engine.
//! `bench/simulator_vs_simpy.py` runs the same model in SimPy side by side.
//!
//! `cargo bench -p switchboard-core --bench simulator`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard_core::sim::{self, Scenario};

fn simulate(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mmn.toml");
    let mut scenario = Scenario::from_toml(&std::fs::read_to_string(path).expect("example")).expect("valid");
    scenario.duration_hours = 500.0;
    let compiled = scenario.compile().expect("valid");
    let contacts = sim::run(&compiled, &mut |_| {}).expect("runs").contacts;
    let mut group = c.benchmark_group("simulator");
    group.throughput(Throughput::Elements(contacts));
    group.sample_size(20);
    group.bench_function("mmn_500h", |b| b.iter(|| sim::run(&compiled, &mut |_| {}).expect("runs")));
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
