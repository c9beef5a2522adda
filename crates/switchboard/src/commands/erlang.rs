//! `switchboard erlang`: the staffing table planners know from the
//! published calculators.

use crate::cli::ErlangArgs;
use crate::table::{Table, percent, seconds};
use anyhow::{Context, bail};
use serde_json::json;
use std::fmt::Write;
use std::time::Duration;
use switchboard_core::erlang::{Model, StaffingInput, StaffingRow};

pub(super) fn duration(name: &str, secs: f64) -> anyhow::Result<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        bail!("--{name} must be a non-negative number, got {secs}");
    }
    Duration::try_from_secs_f64(secs).with_context(|| format!("--{name} {secs} is out of range"))
}

pub fn run(args: ErlangArgs) -> anyhow::Result<()> {
    super::emit(&render(args)?)
}

fn render(args: ErlangArgs) -> anyhow::Result<String> {
    let mut out = String::new();
    let input = StaffingInput {
        calls: args.calls,
        interval: duration("interval-minutes", args.interval_minutes * 60.0)?,
        aht: duration("aht", args.aht)?,
        sl_target: args.targets.sl_target(),
        sl_threshold: duration("sl-seconds", args.targets.sl_seconds)?,
        shrinkage: args.targets.shrinkage,
        max_occupancy: args.targets.max_occupancy,
        patience: args.targets.patience.map(|p| duration("patience", p)).transpose()?,
    };
    input.validate()?;
    if let Some(agents) = args.agents {
        let row = input.evaluate(agents)?;
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json!({ "traffic_erlangs": input.traffic(), "row": row }))?
            )?;
        } else {
            write!(out, "{}", rows_table(&[row], None))?;
        }
        return Ok(out);
    }
    let staffing = input.staff()?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&staffing)?)?;
        return Ok(out);
    }
    let model = match staffing.model {
        Model::ErlangC => "Erlang C".to_string(),
        Model::ErlangA => format!("Erlang A (mean patience {} s)", args.targets.patience.unwrap_or_default()),
    };
    writeln!(
        out,
        "Traffic {:.2} Erlangs ({} contacts per {} min, AHT {} s) — {model}\n",
        staffing.traffic_erlangs, args.calls, args.interval_minutes, args.aht
    )?;
    write!(out, "{}", rows_table(&staffing.table, Some(staffing.agents)))?;
    writeln!(
        out,
        "\nRequired agents: {} (service level {} for a target of {} in {} s)",
        staffing.agents,
        percent(Some(staffing.service_level)),
        percent(Some(args.targets.sl_target())),
        args.targets.sl_seconds
    )?;
    writeln!(
        out,
        "Scheduled agents with {} shrinkage: {}",
        percent(Some(args.targets.shrinkage)),
        staffing.scheduled_agents
    )?;
    Ok(out)
}

fn rows_table(rows: &[StaffingRow], chosen: Option<u32>) -> String {
    let abandon = rows.iter().any(|r| r.abandon_rate.is_some());
    let mut header = vec!["", "agents", "service level", "ASA (s)", "P(wait)", "occupancy"];
    if abandon {
        header.push("abandoned");
    }
    let mut t = Table::new(&header);
    for r in rows {
        let mut cells = vec![
            if Some(r.agents) == chosen { ">".into() } else { String::new() },
            r.agents.to_string(),
            percent(Some(r.service_level)),
            seconds(Some(r.asa_seconds)),
            percent(Some(r.probability_wait)),
            percent(Some(r.occupancy)),
        ];
        if abandon {
            cells.push(percent(r.abandon_rate));
        }
        t.row(cells);
    }
    t.render()
}
