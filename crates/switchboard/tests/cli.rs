//! The real binary, as a user runs it.

use std::process::{Command, Output};

fn switchboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard")).args(args).output().expect("binary runs")
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

const WORKED: &[&str] = &[
    "erlang",
    "--calls",
    "100",
    "--interval-minutes",
    "30",
    "--aht",
    "180",
    "--sl-target",
    "0.8",
    "--sl-seconds",
    "20",
];

#[test]
fn erlang_reproduces_the_worked_example() {
    let mut args = WORKED.to_vec();
    args.extend(["--shrinkage", "0.3", "--json"]);
    let out = switchboard(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agents"], 14);
    assert_eq!(v["scheduled_agents"], 20);
    let close = |key: &str, want: f64, tol: f64| {
        let got = v[key].as_f64().unwrap();
        assert!((got - want).abs() < tol, "{key}: {got} vs {want}");
    };
    close("service_level", 0.8883, 0.0001);
    close("probability_wait", 0.1741, 0.0001);
    close("asa_seconds", 7.84, 0.005);
    close("occupancy", 0.714, 0.0005);
    close("traffic_erlangs", 10.0, 1e-9);
    let row13 = v["table"].as_array().unwrap().iter().find(|r| r["agents"] == 13).unwrap();
    assert!((row13["service_level"].as_f64().unwrap() - 0.7956).abs() < 0.0001);

    let table = switchboard(WORKED);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("Required agents: 14"), "{text}");
    assert!(text.contains("79.56 %"), "{text}");
}

#[test]
fn erlang_explains_impossible_inputs() {
    for (extra, needle) in [
        (vec!["--agents", "9"], "agents"),
        (vec!["--sl-seconds", "-5"], "sl-seconds"),
        (vec!["--shrinkage", "1"], "shrinkage"),
    ] {
        let mut args = WORKED.to_vec();
        args.extend(extra.iter().copied());
        let out = switchboard(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error:") && err.contains(needle), "{err}");
    }
    let out = switchboard(&["erlang", "--calls", "-3", "--aht", "180"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("calls must be") && err.contains("-3"), "{err}");
    let out = switchboard(&["erlang", "--calls", "100", "--aht", "180", "--sl-target", "1.5"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("sl_target"), "{err}");
}

#[test]
fn erlang_a_with_patience() {
    let out = switchboard(&["erlang", "--calls", "100", "--aht", "180", "--patience", "60", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "erlang_a");
    assert!(v["agents"].as_u64().unwrap() < 14, "abandonment lowers the staff needed: {v}");
    assert!(v["abandon_rate"].as_f64().unwrap() > 0.0);
}

#[test]
fn simulate_prints_tables_json_and_a_chart() {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = dir.join("day.svg");
    let out = switchboard(&["simulate", &example("day.toml"), "--chart", chart.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in ["Queue billing", "Queue spanish", "Queue chat", "08:00", "17:30", "All queues"] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(svg.contains("billing: service level"));

    let out = switchboard(&["simulate", &example("day.toml"), "--json", "--seed", "9"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], 9);
    assert_eq!(v["queues"].as_array().unwrap().len(), 3);
    assert_eq!(v["intervals"].as_array().unwrap().len(), 20);
}

#[test]
fn simulate_rejects_bad_scenarios_clearly() {
    let dir = std::env::temp_dir().join(format!("switchboard-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "duration_hours = 1\n[[queues]]\nname = \"a\"\nsteps = [{ expr = \"tech >=\" }]\n").unwrap();
    let out = switchboard(&["simulate", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing field") || err.contains("arrivals"), "{err}");
    let out = switchboard(&["simulate", "/nonexistent/scenario.toml"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent/scenario.toml"));
}

/// Runs the binary with its stdout a pipe whose reader has already gone, as
/// behind `| head -1` once head has its line.
fn into_closed_pipe(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("binary ends")
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let day = example("day.toml");
    for args in
        [WORKED.to_vec(), [WORKED, &["--json"]].concat(), vec!["simulate", &day], vec!["simulate", &day, "--json"]]
    {
        let out = into_closed_pipe(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?}\n{stderr}", out.status);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn plan_forecasts_the_example_history_and_staffs_it() {
    let history = example("history.csv");
    let out = switchboard(&["plan", &history, "--time-zone", "Europe/Berlin", "--shrinkage", "0.3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Scored on the held-out week 2026-11-22 – 2026-11-28"), "{text}");
    assert!(text.contains("as last week") && text.contains("chosen"), "{text}");
    assert!(text.contains("Mon 2026-11-30"), "{text}");

    let out = switchboard(&["plan", &history, "--hours", &example("hours.toml"), "--json", "--days", "14"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["time_zone"], "Europe/Berlin", "taken from the hours");
    let intervals = v["forecast"]["intervals"].as_array().unwrap();
    let rows = v["plan"]["rows"].as_array().unwrap();
    assert_eq!(intervals.len(), 14 * 48);
    assert_eq!(rows.len(), intervals.len());
    let scores = v["forecast"]["evaluation"]["scores"].as_array().unwrap();
    let wape = |m: &str| scores.iter().find(|s| s["method"] == m).unwrap()["wape"].as_f64().unwrap();
    let chosen = v["forecast"]["method"].as_str().unwrap();
    assert!(wape(chosen) < wape("seasonal_naive"), "{chosen} beats the naive forecast on this history");
    for (i, r) in intervals.iter().zip(rows) {
        if i["open"] == false {
            assert_eq!(i["offered"], 0.0);
            assert_eq!(r["agents"], 0);
        }
    }

    // +20 % on Monday morning, and only there.
    let plain = switchboard(&["plan", &history, "--time-zone", "Europe/Berlin", "--json"]);
    let adjusted = switchboard(&[
        "plan",
        &history,
        "--time-zone",
        "Europe/Berlin",
        "--json",
        "--adjust",
        "2026-11-30 08:00/2026-11-30 12:00=+20%",
    ]);
    let (p, a): (serde_json::Value, serde_json::Value) =
        (serde_json::from_slice(&plain.stdout).unwrap(), serde_json::from_slice(&adjusted.stdout).unwrap());
    let offered = |v: &serde_json::Value| -> Vec<f64> {
        v["forecast"]["intervals"].as_array().unwrap().iter().map(|i| i["offered"].as_f64().unwrap()).collect()
    };
    let changed: Vec<usize> =
        offered(&p).iter().zip(offered(&a)).enumerate().filter(|(_, (x, y))| *x != y).map(|(i, _)| i).collect();
    // The forecast starts on Sunday the 29th: Monday 08:00 is interval 48 + 16.
    assert_eq!(changed, (64..72).collect::<Vec<_>>());
}

#[test]
fn plan_schedules_shifts_that_cover_it() {
    let out = switchboard(&[
        "plan",
        &example("history.csv"),
        "--hours",
        &example("hours.toml"),
        "--shrinkage",
        "0.3",
        "--shifts",
        &example("shifts.toml"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["schedule"];
    for c in s["coverage"].as_array().unwrap() {
        assert!(c["scheduled"].as_u64() >= c["required"].as_u64(), "{c}");
    }
    let (paid, bound) = (s["paid_hours"].as_f64().unwrap(), s["lower_bound_hours"].as_f64().unwrap());
    assert!(paid >= bound - 1e-6 && s["gap"].as_f64().unwrap() < 0.05, "{paid} against {bound}");
    let saturday: Vec<_> = s["shifts"].as_array().unwrap().iter().filter(|a| a["template"] == "saturday").collect();
    assert_eq!(saturday.len(), 1, "one start time, on Saturdays only");

    let bad = switchboard(&["plan", &example("history.csv"), "--shifts", &example("hours.toml")]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a shifts file"));
}

#[test]
fn plan_reads_a_report_csv_one_queue_at_a_time() {
    // The columns a report's CSV has (GET /api/v1/reports/queues?...&format=csv):
    // the start in milliseconds, the queue's name, the measures by name.
    let dir = std::env::temp_dir().join(format!("switchboard-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("queues.csv");
    let first = 1_795_478_400_000_i64; // 2026-11-24T00:00:00Z
    let mut csv = String::from("start,start_local,id,name,aht_seconds,offered\n");
    for day in 0..14 {
        for half_hour in 16..36 {
            let start = first + (day * 48 + half_hour) * 1_800_000;
            csv.push_str(&format!("{start},x,1,Billing,240,{}\n", 10 + half_hour % 5));
            csv.push_str(&format!("{start},x,2,Support,300,3\n"));
        }
    }
    std::fs::write(&path, csv).unwrap();
    let file = path.to_str().unwrap();
    let out = switchboard(&["plan", file, "--queue", "Billing", "--json", "--days", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let busy: Vec<f64> = v["forecast"]["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["offered"].as_f64().unwrap())
        .filter(|&o| o > 0.0)
        .collect();
    assert_eq!(busy.len(), 20);
    assert!(busy.iter().all(|&o| (10.0..=14.0).contains(&o)), "Billing's volumes, not Support's: {busy:?}");
    assert_eq!(v["forecast"]["intervals"][20]["aht_seconds"], 240.0);

    let err = String::from_utf8_lossy(&switchboard(&["plan", file]).stderr).to_string();
    assert!(err.contains("pick one with --queue") && err.contains("'Support'"), "{err}");
    let err = String::from_utf8_lossy(&switchboard(&["plan", file, "--queue", "Sales"]).stderr).to_string();
    assert!(err.contains("no rows named 'Sales'"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn plan_names_the_bad_line() {
    let dir = std::env::temp_dir().join(format!("switchboard-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.csv");
    std::fs::write(&path, "start,offered\n2026-11-02 09:00,4\n2026-11-02 09:30,many\n").unwrap();
    let out = switchboard(&["plan", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("'many' is not a number"), "{err}");

    std::fs::write(&path, "start,offered\n2026-11-02 09:10,4\n").unwrap();
    let err = String::from_utf8_lossy(&switchboard(&["plan", path.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("does not start a 30-minute interval"), "{err}");

    std::fs::write(&path, "when,offered\n").unwrap();
    let err = String::from_utf8_lossy(&switchboard(&["plan", path.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("no 'start' column"), "{err}");

    let history = example("history.csv");
    let err =
        String::from_utf8_lossy(&switchboard(&["plan", &history, "--time-zone", "Mars/Olympus"]).stderr).to_string();
    assert!(err.contains("unknown time zone 'Mars/Olympus'"), "{err}");
    let err = String::from_utf8_lossy(&switchboard(&["plan", &history, "--adjust", "2026-11-30 08:00=+20%"]).stderr)
        .to_string();
    assert!(err.contains("expected FROM/TO"), "{err}");
}

#[test]
fn plan_staffs_a_scenario_by_simulation() {
    let out = switchboard(&["plan", "--scenario", &example("day.toml"), "--seeds", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["groups"].as_array().unwrap().len(), 4);
    assert_eq!(v["intervals"].as_array().unwrap().len(), 20);
    for q in v["queues"].as_array().unwrap() {
        for (sl, offered) in q["service_level"].as_array().unwrap().iter().zip(q["offered"].as_array().unwrap()) {
            // Judged where a contact a day came on average.
            if offered.as_f64().unwrap() >= 1.0 {
                assert!(sl.as_f64().unwrap() >= 0.8, "{}: {sl}", q["name"]);
            }
        }
    }
    let text = switchboard(&["plan", "--scenario", &example("day.toml"), "--seeds", "2"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("billing SL") && text.contains("Erlang C staffing each queue on its own"), "{text}");

    let both = switchboard(&["plan", &example("history.csv"), "--scenario", &example("day.toml")]);
    assert!(!both.status.success());
}
