//! `switchboard simulate SCENARIO`: runs the scenario through the real
//! engine and prints service level, ASA, AHT, abandonment, occupancy and
//! queue length per queue and interval.

use crate::chart::{Axis, LineChart, Series};
use crate::cli::SimulateArgs;
use crate::table::{Table, percent, seconds};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write;
use std::io::IsTerminal;
use std::time::Instant;
use switchboard_core::sim::{self, Row, Scenario, SimReport};

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let path = match (&args.scenario, args.from_history) {
        (_, Some(day)) => return super::replay::run(&args, day),
        (Some(path), None) => path,
        (None, None) => anyhow::bail!("give a scenario file or --from-history DAY"),
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut scenario = Scenario::from_toml(&text).with_context(|| format!("in {}", path.display()))?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let compiled = scenario.compile().with_context(|| format!("in {}", path.display()))?;

    // Long runs get a progress bar on a terminal; pipes and CI stay quiet.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {percent:>3}% simulated, {elapsed}").expect("valid template"),
        );
        bar
    });
    let started = Instant::now();
    let report = sim::run(&compiled, &mut |done| {
        if let Some(bar) = &bar {
            bar.set_position((done * 1000.0) as u64);
        }
    })?;
    let wall = started.elapsed();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    if let Some(path) = &args.chart {
        std::fs::write(path, chart(&report).to_svg()).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        return super::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?));
    }
    let mut out = String::new();
    for q in &report.queues {
        writeln!(out, "Queue {} (service level within {} s)", q.name, q.sl_seconds)?;
        if !args.summary {
            write!(out, "{}", rows(&report.intervals, &q.intervals))?;
        }
        writeln!(out, "{}", rows(&["total".to_string()], std::slice::from_ref(&q.total)))?;
    }
    writeln!(out, "All queues")?;
    write!(out, "{}", rows(&["total".to_string()], std::slice::from_ref(&report.total)))?;
    super::emit(&out)?;
    eprintln!(
        "\n{} contacts ({} unfinished), {} routing events, simulated in {:.2} s ({:.0} contacts/s)",
        report.contacts,
        report.unfinished,
        report.engine_events,
        wall.as_secs_f64(),
        report.contacts as f64 / wall.as_secs_f64().max(1e-9)
    );
    Ok(())
}

fn rows(labels: &[String], rows: &[Row]) -> String {
    let mut t = Table::new(&[
        "interval",
        "offered",
        "handled",
        "abandoned",
        "SL",
        "ASA (s)",
        "AHT (s)",
        "abandon",
        "occupancy",
        "max queue",
    ]);
    for (label, r) in labels.iter().zip(rows) {
        let s = &r.summary;
        t.row(vec![
            label.clone(),
            s.offered.to_string(),
            s.handled.to_string(),
            s.abandoned.to_string(),
            percent(s.service_level),
            seconds(s.asa_seconds),
            seconds(s.aht_seconds),
            percent(s.abandonment_rate),
            percent(s.occupancy),
            r.max_queue_length.to_string(),
        ]);
    }
    t.render()
}

fn chart(report: &SimReport) -> LineChart {
    let mut series: Vec<Series> = report
        .queues
        .iter()
        .map(|q| Series {
            name: format!("{}: service level ({} s)", q.name, q.sl_seconds),
            values: q.intervals.iter().map(|r| r.summary.service_level.map(|x| x * 100.0)).collect(),
            axis: Axis::Left,
        })
        .collect();
    series.extend(report.queues.iter().map(|q| Series {
        name: format!("{}: max queue length", q.name),
        values: q.intervals.iter().map(|r| Some(r.max_queue_length as f64)).collect(),
        axis: Axis::Right,
    }));
    LineChart {
        title: "Service level and queue length over the day".into(),
        x_labels: report.intervals.clone(),
        left_label: "service level (%)".into(),
        right_label: "max queue length".into(),
        left_range: Some((0.0, 100.0)),
        series,
        target: None,
    }
}
