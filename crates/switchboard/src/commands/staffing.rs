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
    let search = Search { sl_target: args.targets.sl_target, seeds: args.seeds, max_per_group: 10_000 };
    let staffed = staff(&compiled, &search).with_context(|| format!("staffing {}", path.display()))?;
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&staffed)?));
    }
    let mut out = String::new();
    writeln!(
        out,
        "Agents on duty per group for {} answered within each queue's threshold ({} simulated days per try, {} tries):\n",
        percent(Some(search.sl_target)),
        search.seeds,
        staffed.evaluations
    )?;
    let mut header = vec!["interval"];
    header.extend(staffed.groups.iter().map(String::as_str));
    let names: Vec<String> = staffed.queues.iter().map(|q| format!("{} SL", q.name)).collect();
    header.extend(names.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for (i, label) in staffed.intervals.iter().enumerate() {
        let mut row = vec![label.clone()];
        row.extend(staffed.agents.iter().map(|g| g[i].to_string()));
        row.extend(staffed.queues.iter().map(|q| percent(q.service_level[i])));
        table.row(row);
    }
    write!(out, "{}", table.render())?;
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
