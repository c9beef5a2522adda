//! `switchboard plan --simulate`: a day of a data directory's workspace
//! staffed on the simulator from its own history and configuration (the
//! service's simulated staffing, as the Planning page shows it).

use super::replay::as_admin;
use super::staffing::staffing_table;
use crate::cli::PlanArgs;
use crate::table::percent;
use anyhow::bail;
use std::fmt::Write;
use std::time::Duration;
use switchboard_server::service::planning::simulated::{MOST_BUDGET, SimulatedRequest, SimulatedStaffing};

pub fn render(args: &PlanArgs) -> anyhow::Result<String> {
    let budget = Duration::try_from_secs_f64(args.search_seconds).ok().filter(|b| !b.is_zero() && *b <= MOST_BUDGET);
    let Some(budget) = budget else {
        bail!("--search-seconds is from 1 to {}, got {}", MOST_BUDGET.as_secs(), args.search_seconds)
    };
    let request = SimulatedRequest {
        day: args.day,
        interval_minutes: args.interval_minutes,
        seeds: args.seeds,
        sl_target: args.targets.sl_target,
        shrinkage: args.targets.shrinkage,
        budget,
    };
    let staffed = as_admin(&args.server, args.workspace.as_deref(), async |service, admin| {
        Ok(service.simulated_staffing(&admin, &request).await?)
    })?;
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&staffed)?));
    }
    describe(&staffed)
}

fn describe(s: &SimulatedStaffing) -> anyhow::Result<String> {
    let mut out = String::new();
    let targets: Vec<String> = s
        .queues
        .iter()
        .map(|q| format!("{} {} within {} s", q.name, percent(Some(q.sl_target)), q.sl_seconds))
        .collect();
    writeln!(
        out,
        "{} ({}): agents on duty per group for {} ({} simulated days per try, {} tries{})\n",
        s.day,
        s.time_zone,
        targets.join(", "),
        s.seeds,
        s.evaluations,
        if s.complete { String::new() } else { format!("; stopped after {} s with what it had", s.budget_seconds) }
    )?;
    let labels: Vec<String> = s.intervals.iter().map(|i| i.start_local[11..16].to_string()).collect();
    let groups: Vec<(&str, &[u32])> = s.groups.iter().map(|g| (g.name.as_str(), g.on_duty.as_slice())).collect();
    let queues: Vec<(&str, &[Option<f64>])> =
        s.queues.iter().map(|q| (q.name.as_str(), q.service_level.as_slice())).collect();
    // The night is empty: only intervals with agents or contacts.
    let busy = |i: usize| groups.iter().any(|g| g.1[i] > 0) || s.queues.iter().any(|q| q.offered[i] > 0.0);
    write!(out, "{}", staffing_table(&labels, &groups, &queues, busy))?;
    writeln!(out)?;
    for g in &s.groups {
        writeln!(out, "{}: {}", g.name, g.agents.join(", "))?;
    }
    for q in &s.queues {
        writeln!(
            out,
            "{}: {} over the day, target {} {}",
            q.name,
            percent(q.service_level_total),
            percent(Some(q.sl_target)),
            if q.met { "met" } else { "MISSED" }
        )?;
    }
    for p in &s.problems {
        writeln!(out, "left out: {p}")?;
    }
    writeln!(
        out,
        "{:.1} agent-hours on duty, {:.1} paid with {} shrinkage; Erlang C staffing each queue on its own: {:.1}",
        s.agent_hours,
        s.paid_hours,
        percent(Some(s.shrinkage)),
        s.erlang_agent_hours
    )?;
    Ok(out)
}
