//! The simulator against queueing theory, and its scenario checks.

use std::time::Duration;
use switchboard_core::erlang::StaffingInput;
use switchboard_core::sim::{self, Scenario};

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn simulate(text: &str) -> sim::SimReport {
    let compiled = Scenario::from_toml(text).unwrap().compile().unwrap();
    sim::run(&compiled, &mut |_| {}).unwrap()
}

#[test]
fn day_example_runs_and_adds_up() {
    let r = simulate(&example("day.toml"));
    assert_eq!(r.intervals.len(), 20);
    assert_eq!(r.intervals[0], "08:00");
    let t = &r.total.summary;
    assert!(t.offered > 1000, "{t:?}");
    assert!(t.handled + t.abandoned <= t.offered);
    for q in &r.queues {
        let s = &q.total.summary;
        assert!(s.service_level.is_some_and(|x| (0.0..=1.0).contains(&x)), "{}: {s:?}", q.name);
        assert!(s.occupancy.is_some_and(|x| (0.0..=1.0).contains(&x)), "{}: {s:?}", q.name);
    }
    let again = simulate(&example("day.toml"));
    assert_eq!(r, again, "a seed gives the same run");
}

/// Runs an example for `hours` and returns its one queue's totals.
fn long_run(name: &str, hours: f64) -> switchboard_core::metrics::Summary {
    let mut scenario = Scenario::from_toml(&example(name)).unwrap();
    scenario.duration_hours = hours;
    let report = sim::run(&scenario.compile().unwrap(), &mut |_| {}).unwrap();
    report.queues[0].total.summary
}

fn staffing(patience: Option<u64>) -> StaffingInput {
    StaffingInput {
        patience: patience.map(Duration::from_secs),
        ..StaffingInput::new(100.0, Duration::from_secs(1800), Duration::from_secs(180))
    }
}

#[test]
fn mmn_matches_erlang_c() {
    let sim = long_run("mmn.toml", 3000.0);
    let theory = staffing(None).evaluate(14).unwrap();
    let (sl, asa) = (sim.service_level.unwrap(), sim.asa_seconds.unwrap());
    assert!((sl - theory.service_level).abs() < 0.02, "SL {sl} vs Erlang C {}", theory.service_level);
    assert!((asa / theory.asa_seconds - 1.0).abs() < 0.05, "ASA {asa} vs Erlang C {}", theory.asa_seconds);
    assert!((sim.occupancy.unwrap() - theory.occupancy).abs() < 0.01);
    assert!(sim.handled > 500_000);
}

#[test]
fn abandonment_matches_erlang_a() {
    let sim = long_run("abandonment.toml", 3000.0);
    let theory = staffing(Some(60)).evaluate(11).unwrap();
    let abandon = theory.abandon_rate.unwrap();
    let (sl, asa, ab) = (sim.service_level.unwrap(), sim.asa_seconds.unwrap(), sim.abandonment_rate.unwrap());
    assert!((sl - theory.service_level).abs() < 0.02, "SL {sl} vs Erlang A {}", theory.service_level);
    assert!((asa / theory.asa_seconds - 1.0).abs() < 0.05, "ASA {asa} vs Erlang A {}", theory.asa_seconds);
    assert!((ab - abandon).abs() < 0.01, "abandoned {ab} vs Erlang A {abandon}");
    // Erlang C cannot even describe 11 agents well: it ignores the callers who leave.
    let c = staffing(None).evaluate(11).unwrap();
    assert!(c.asa_seconds > 2.0 * asa, "Erlang C ASA {} vs simulated {asa}", c.asa_seconds);
}

#[test]
fn scenario_errors_name_the_field() {
    let bad = |text: &str| Scenario::from_toml(text).and_then(|s| s.compile()).unwrap_err().to_string();
    let base = example("mmn.toml");
    assert!(bad(&base.replace("queue = \"support\"", "queue = \"suport\"")).contains("unknown queue 'suport'"));
    assert!(bad(&base.replace("per_interval = 100", "profile = [1, 2]")).contains("profile"));
    assert!(bad(&base.replace("mean_seconds = 180", "mean_seconds = -1")).contains("mean_seconds"));
    assert!(bad(&base.replace("duration_hours = 200", "duration_hours = 0")).contains("duration_hours"));
    assert!(
        bad(&base.replace("sl_seconds = 20", "sl_seconds = 20\nsteps = [{ expr = \"billing >=\" }]"))
            .contains("step 1")
    );
    assert!(bad("nonsense = [").contains("TOML") || bad("nonsense = [").contains("expected"));
}
