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

/// Whole-second waits, patience and answer times make many events fall on
/// the same millisecond (a customer giving up as a step relaxes, an agent
/// answering as an offer times out): the runs that once stopped with
/// "unknown contact". No scenario and seed may make a run fail.
mod never_fails {
    use super::*;
    use proptest::prelude::*;

    fn scenario(patience: u64, step_wait: u64, answer: u64, handle: u64, per_interval: u32) -> String {
        format!(
            r#"
duration_hours = 4
interval_minutes = 30

[[queues]]
name = "billing"
channels = ["voice", "chat"]
sl_seconds = 20
wrap_up_seconds = 5
offer_timeout_seconds = 10
max_wait_seconds = {max_wait}
overflow = "callback"
steps = [
  {{ expr = "billing >= 7", wait_seconds = {step_wait} }},
  {{ expr = "billing >= 3", wait_seconds = {step_wait} }},
  {{ expr = "true" }},
]

[[arrivals]]
queue = "billing"
channel = "voice"
per_interval = {per_interval}
handle_time = {{ distribution = "fixed", seconds = {handle} }}
patience = {{ distribution = "fixed", seconds = {patience} }}

[[arrivals]]
queue = "billing"
channel = "chat"
per_interval = {per_interval}
handle_time = {{ distribution = "exponential", mean_seconds = {handle} }}
patience = {{ distribution = "exponential", mean_seconds = {patience} }}

[[agents]]
count = 4
skills = {{ billing = 8 }}
queues = ["billing"]
capacity = {{ voice = 1, chat = 2 }}
answer_seconds = {answer}

[[agents]]
count = 3
skills = {{ billing = 4 }}
queues = ["billing"]
answer_seconds = {answer}
shift = "00:00-02:00"
"#,
            max_wait = step_wait * 3 + patience / 2 + 1,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn random_scenarios_and_seeds_run_to_the_end(
            seed in any::<u64>(),
            step_wait in 1u64..30,
            // Patience often a multiple of the step's wait: the customer
            // gives up on the very millisecond a step relaxes.
            patience_steps in prop_oneof![Just(None), (1u64..=3).prop_map(Some)],
            any_patience in 1u64..60,
            // Often answered on the spot: accepted within the same call.
            answer in prop_oneof![Just(0u64), 1u64..12],
            handle in 1u64..200,
            per_interval in 1u32..120,
        ) {
            let patience = patience_steps.map_or(any_patience, |k| k * step_wait);
            let mut s = Scenario::from_toml(&scenario(patience, step_wait, answer, handle, per_interval)).unwrap();
            s.seed = seed;
            let compiled = s.compile().unwrap();
            let report = sim::run(&compiled, &mut |_| {});
            prop_assert!(report.is_ok(), "seed {seed}: {:?}", report.err());
        }
    }

    #[test]
    fn the_example_day_runs_on_many_seeds() {
        for seed in 0..300 {
            let mut s = Scenario::from_toml(&example("day.toml")).unwrap();
            s.seed = seed;
            sim::run(&s.compile().unwrap(), &mut |_| {}).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }
}
