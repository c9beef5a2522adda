//! `switchboard plan --simulate`: a day of a data directory's workspace
//! staffed on the simulator from its own history and configuration (the
//! service's simulated staffing, as the Planning page shows it); with
//! `--roster`, a week's draft roster covering that requirement or Erlang C's.

use super::replay::as_admin;
use super::staffing::staffing_table;
use crate::cli::PlanArgs;
use crate::table::percent;
use anyhow::bail;
use std::fmt::Write;
use std::time::Duration;
use switchboard_server::service::planning::roster::{Requirement, Roster, RosterRequest};
use switchboard_server::service::planning::simulated::{MOST_BUDGET, SimulatedRequest, SimulatedStaffing};

pub fn render(args: &PlanArgs) -> anyhow::Result<String> {
    let budget = Duration::try_from_secs_f64(args.search_seconds).ok().filter(|b| !b.is_zero() && *b <= MOST_BUDGET);
    let Some(budget) = budget else {
        bail!("--search-seconds is from 1 to {}, got {}", MOST_BUDGET.as_secs(), args.search_seconds)
    };
    if let Some(week) = args.roster {
        return draft(args, week, budget);
    }
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

fn draft(args: &PlanArgs, week: chrono::NaiveDate, budget: Duration) -> anyhow::Result<String> {
    let requirement = if args.requirement == "erlang" { Requirement::Erlang } else { Requirement::Simulated };
    let request = RosterRequest {
        week,
        queues: Vec::new(),
        interval_minutes: args.interval_minutes,
        sl_target: args.targets.sl_target,
        shrinkage: args.targets.shrinkage,
        requirement,
        seeds: args.seeds,
        budget_seconds: Some(budget.as_secs_f64()),
    };
    let roster = as_admin(&args.server, args.workspace.as_deref(), async |service, admin| {
        Ok(service.draft_roster(&admin, &request).await?)
    })?;
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&roster)?));
    }
    describe_roster(&roster)
}

fn describe_roster(r: &Roster) -> anyhow::Result<String> {
    let mut out = String::new();
    let covered = r.requirement.map_or("", |q| if q == Requirement::Simulated { "simulated" } else { "Erlang C" });
    writeln!(
        out,
        "Draft roster from {} ({} days, {}), covering the {covered} requirement\n",
        r.from, r.days, r.time_zone
    )?;
    for s in &r.shifts {
        let who = s.agent.and_then(|a| r.agents.iter().find(|x| x.id == a)).map_or("OPEN", |a| a.name.as_str());
        writeln!(out, "{} to {}  {:<10} {:<12} {who}", s.start_local, &s.end_local[11..], s.template, s.queue_name)?;
    }
    let required: f64 = r.coverage.iter().map(|c| f64::from(c.required)).sum();
    let hours = r.coverage.windows(2).next().map_or(0.0, |w| (w[1].start - w[0].start) as f64 / 3_600_000.0);
    let under = r.coverage.iter().filter(|c| c.scheduled < c.required).count();
    writeln!(
        out,
        "\n{} shifts ({} open), {:.1} paid hours for {:.1} required; {under} intervals under",
        r.shifts.len(),
        r.open,
        r.paid_hours,
        required * hours,
    )?;
    for p in &r.problems {
        writeln!(out, "problem: {p}")?;
    }
    Ok(out)
}
