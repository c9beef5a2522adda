//! Simulated contacts per second: the M/M/N scenario of examples/mmn.toml
//! (14 agents, 200 calls an hour, AHT 180 s) through the full engine, and
//! the same center a hundred times larger (1,400 agents, 20,000 calls an
//! hour: the same occupancy), whose cost per contact should stay close.
//! `bench/simulator_vs_simpy.py` runs the first model in SimPy side by side.
//!
//! `cargo bench -p switchboard-core --bench simulator`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard_core::sim::{self, Scenario};

/// examples/mmn.toml over `hours`, with agents and arrivals times `scale`.
fn mmn(hours: f64, scale: u32) -> sim::Compiled {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mmn.toml");
    let mut scenario = Scenario::from_toml(&std::fs::read_to_string(path).expect("example")).expect("valid");
    scenario.duration_hours = hours;
    scenario.agents[0].count *= scale;
    scenario.arrivals[0].per_interval = scenario.arrivals[0].per_interval.map(|n| n * scale as f64);
    scenario.compile().expect("valid")
}

fn simulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator");
    group.sample_size(20);
    // About 100,000 contacts each.
    for (name, compiled) in [("mmn_500h", mmn(500.0, 1)), ("mmn_x100_5h", mmn(5.0, 100))] {
        let contacts = sim::run(&compiled, &mut |_| {}).expect("runs").contacts;
        group.throughput(Throughput::Elements(contacts));
        group.bench_function(name, |b| b.iter(|| sim::run(&compiled, &mut |_| {}).expect("runs")));
    }
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
