//! Our Erlang C staffing against an independent implementation, pyworkforce
//! (PyPI), on the same inputs: the test command installs it when missing.

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use switchboard_core::erlang::StaffingInput;
use switchboard_core::rng::Rng;

fn pyworkforce(cases: &Value) -> Vec<Value> {
    let script = format!("{}/tests/peers/erlang_c.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(cases.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyworkforce failed (scripts/test installs it: pip install pyworkforce): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn erlang_c_staffing_agrees_with_pyworkforce() {
    let mut rng = Rng::seeded(2026);
    let mut cases = Vec::new();
    for _ in 0..300 {
        let interval_minutes = [15.0, 30.0, 60.0][rng.below(3)];
        cases.push(json!({
            "calls": 1.0 + (rng.next_f64() * 600.0).round(),
            "aht_seconds": 30.0 + (rng.next_f64() * 870.0).round(),
            "sl_seconds": 5.0 + (rng.next_f64() * 115.0).round(),
            "sl_target": 0.5 + (rng.next_f64() * 49.0).round() / 100.0,
            "shrinkage": (rng.next_f64() * 50.0).round() / 100.0,
            "interval_minutes": interval_minutes,
        }));
    }
    let theirs = pyworkforce(&Value::Array(cases.clone()));
    assert_eq!(theirs.len(), cases.len());
    let mut skipped = 0;
    for (case, peer) in cases.iter().zip(&theirs) {
        let f = |k: &str| case[k].as_f64().unwrap();
        let mut input = StaffingInput::new(
            f("calls"),
            Duration::from_secs_f64(f("interval_minutes") * 60.0),
            Duration::from_secs_f64(f("aht_seconds")),
        );
        input.sl_target = f("sl_target");
        input.sl_threshold = Duration::from_secs_f64(f("sl_seconds"));
        input.shrinkage = f("shrinkage");
        let staffing = input.staff().unwrap();
        let their_agents = peer["agents"].as_u64().unwrap() as u32;
        // pyworkforce starts its search at round(A + 1), which skips ⌊A⌋ + 1
        // when A's fraction is .5 or more: then, and only then, we may
        // need one agent fewer.
        let first_tried = peer["first_tried"].as_u64().unwrap() as u32;
        if staffing.agents < first_tried {
            assert_eq!(their_agents, first_tried, "{case}");
            skipped += 1;
        } else {
            assert_eq!(staffing.agents, their_agents, "agents for {case}");
            assert_eq!(
                u64::from(staffing.scheduled_agents),
                peer["scheduled_agents"].as_u64().unwrap(),
                "scheduled agents for {case}"
            );
        }
        let ours = input.evaluate(their_agents).unwrap();
        for (ours, key) in [
            (ours.service_level, "service_level"),
            (ours.probability_wait, "probability_wait"),
            (ours.occupancy, "occupancy"),
        ] {
            let theirs = peer[key].as_f64().unwrap();
            assert!((ours - theirs).abs() < 1e-9, "{key} {ours} vs {theirs} for {case}");
        }
    }
    assert!(skipped < cases.len() / 10, "{skipped} cases where pyworkforce's search started too high");
}
