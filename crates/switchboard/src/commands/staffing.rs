//! `switchboard plan --scenario`: the staffing of a simulation scenario's
//! agent groups, searched on the real engine.

use crate::cli::PlanArgs;
use crate::table::{Table, percent};
use anyhow::Context;

use std::fmt::Write;
use std::path::Path;
use switchboard_core::sim::Scenario;
use switchboard_core::sim::staffing::{Search, staff};

pub fn render(path: &Path, args: &PlanArgs) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let scenario = Scenario::from_toml(&text).with_context(|| format!("in {}", path.display()))?;
    let compiled = scenario.compile().with_context(|| format!("in {}", path.display()))?;
    if !(0.0..1.0).contains(&args.targets.shrinkage) {
        anyhow::bail!("--shrinkage is a fraction from 0 up to (not including) 1, got {}", args.targets.shrinkage);
    }
    let search = Search {
        sl_targets: vec![args.targets.sl_target(); compiled.queues.len()],
        seeds: args.seeds,
        max_per_group: 10_000,
    };
    let staffed = staff(&compiled, &search, &mut || true).with_context(|| format!("staffing {}", path.display()))?;
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&staffed)?));
    }
    let mut out = String::new();
    writeln!(
        out,
        "Agents on duty per group for {} answered within each queue's threshold ({} simulated days per try, {} tries):\n",
        percent(Some(args.targets.sl_target())),
        search.seeds,
        staffed.evaluations
    )?;
    let groups: Vec<(&str, &[u32])> =
        staffed.groups.iter().map(String::as_str).zip(staffed.agents.iter().map(Vec::as_slice)).collect();
    let queues: Vec<(&str, &[Option<f64>])> =
        staffed.queues.iter().map(|q| (q.name.as_str(), q.service_level.as_slice())).collect();
    write!(out, "{}", staffing_table(&staffed.intervals, &groups, &queues, |_| true))?;
    let more = staffed.erlang_agent_hours / staffed.agent_hours - 1.0;
    writeln!(
        out,
        "\n{:.1} agent-hours on duty, {:.1} paid with {} shrinkage; Erlang C staffing each queue on its own: {:.1} on duty ({} {})",
        staffed.agent_hours,
        staffed.agent_hours / (1.0 - args.targets.shrinkage),
        percent(Some(args.targets.shrinkage)),
        staffed.erlang_agent_hours,
        percent(Some(more.abs())),
        if more >= 0.0 { "more" } else { "fewer" }
    )?;
    Ok(out)
}

/// A row per interval `shown`: each group's agents on duty, then each
/// queue's simulated service level.
pub fn staffing_table(
    intervals: &[String],
    groups: &[(&str, &[u32])],
    queues: &[(&str, &[Option<f64>])],
    shown: impl Fn(usize) -> bool,
) -> String {
    let mut header = vec!["interval"];
    header.extend(groups.iter().map(|g| g.0));
    let names: Vec<String> = queues.iter().map(|q| format!("{} SL", q.0)).collect();
    header.extend(names.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for (i, label) in intervals.iter().enumerate().filter(|(i, _)| shown(*i)) {
        let mut row = vec![label.clone()];
        row.extend(groups.iter().map(|g| g.1[i].to_string()));
        row.extend(queues.iter().map(|q| percent(q.1[i])));
        table.row(row);
    }
    table.render()
}
