//! `switchboard plan`: next week's contacts forecast from history, and the
//! agents each interval needs.

use super::erlang::duration;
use crate::cli::PlanArgs;
use crate::table::{Table, percent};
use anyhow::{Context, bail};
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;
use switchboard_core::calendar::Calendar;
use switchboard_core::forecast::{self, Adjustment, Forecast, Grid, Method, Observation, Request};
use switchboard_core::plan::{self, Plan, Targets};
use switchboard_core::time::Timestamp;
use switchboard_planning::schedule::{self, Method as ScheduleMethod, Schedule, ShiftFile};

pub fn run(args: PlanArgs) -> anyhow::Result<()> {
    super::emit(&render(&args)?)
}

fn render(args: &PlanArgs) -> anyhow::Result<String> {
    if args.simulate {
        return super::simulated::render(args);
    }
    let history = match (&args.history, &args.scenario) {
        (_, Some(scenario)) => return super::staffing::render(scenario, args),
        (Some(history), None) => history,
        (None, None) => bail!("give a history file, --scenario or --simulate"),
    };
    let calendar = args.hours.as_ref().map(|path| read_calendar(path)).transpose()?;
    let time_zone = time_zone(args.time_zone.as_deref(), calendar.as_ref())?;
    let grid = Grid::new(time_zone, args.interval_minutes)?;
    let history_rows = read_history(history, &grid, args.queue.as_deref())?;
    let adjustments = args
        .adjustments
        .iter()
        .map(|a| adjustment(a, time_zone).with_context(|| format!("--adjust {a}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let method = args.method.as_deref().map(|m| serde_json::from_value::<Method>(json!(m))).transpose()?;
    let forecast = forecast::forecast(&Request {
        grid,
        history: &history_rows,
        days: args.days,
        calendar: calendar.as_ref(),
        adjustments: &adjustments,
        method,
    })
    .with_context(|| format!("forecasting from {}", history.display()))?;
    let t = &args.targets;
    let targets = Targets {
        sl_target: t.sl_target(),
        sl_threshold: duration("sl-seconds", t.sl_seconds)?,
        shrinkage: t.shrinkage,
        max_occupancy: t.max_occupancy,
        patience: t.patience.map(|p| duration("patience", p)).transpose()?,
        aht: args.aht.map(|a| duration("aht", a)).transpose()?,
    };
    let plan = plan::staff(&forecast, &grid, &targets)?;
    let schedule = match &args.shifts {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let file: ShiftFile =
                toml::from_str(&text).with_context(|| format!("{} is not a shifts file", path.display()))?;
            let required: Vec<(Timestamp, u32)> = plan.rows.iter().map(|r| (r.start, r.scheduled_agents)).collect();
            Some(
                schedule::generate(
                    &grid,
                    &required,
                    &file.shifts,
                    duration("schedule-seconds", args.schedule_seconds)?,
                )
                .with_context(|| format!("scheduling {}", path.display()))?,
            )
        }
    };
    if args.json {
        let out = json!({ "time_zone": time_zone.name(), "forecast": forecast, "plan": plan, "schedule": schedule });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&out)?));
    }
    let mut out = String::new();
    describe_forecast(&mut out, &grid, &forecast)?;
    writeln!(
        out,
        "\nStaffing for {} answered within {} s, shrinkage {} ({}):\n",
        percent(Some(t.sl_target())),
        t.sl_seconds,
        percent(Some(t.shrinkage)),
        if t.patience.is_some() { "Erlang A" } else { "Erlang C" }
    )?;
    if args.intervals {
        write!(out, "{}", interval_table(&grid, &plan))?;
    } else {
        write!(out, "{}", day_table(&grid, &plan))?;
    }
    writeln!(
        out,
        "\n{:.0} contacts; {:.1} agent-hours on the phones, {:.1} paid; peak {} agents ({} scheduled)",
        plan.rows.iter().map(|r| r.offered).sum::<f64>(),
        plan.agent_hours,
        plan.scheduled_hours,
        plan.peak_agents,
        plan.peak_scheduled_agents
    )?;
    if let Some(s) = &schedule {
        describe_schedule(&mut out, &grid, s)?;
    }
    Ok(out)
}

fn describe_schedule(out: &mut String, grid: &Grid, s: &Schedule) -> anyhow::Result<()> {
    let over: u32 = s.coverage.iter().map(|c| c.scheduled.saturating_sub(c.required)).sum();
    writeln!(
        out,
        "\nShifts ({}): {:.1} paid hours; no schedule can do with less than {:.1} (gap {}); {:.1} agent-hours over the requirement\n",
        match s.method {
            ScheduleMethod::IntegerProgram => "branch and bound",
            ScheduleMethod::RoundedRelaxation => "relaxation rounded up and trimmed",
        },
        s.paid_hours,
        s.lower_bound_hours,
        percent(Some(s.gap)),
        f64::from(over) * f64::from(grid.minutes()) / 60.0
    )?;
    let mut table = Table::new(&["day", "shift", "start", "agents"]);
    for a in &s.shifts {
        let local = grid.local(a.start);
        table.row(vec![
            local.format("%a %Y-%m-%d").to_string(),
            a.template.clone(),
            local.format("%H:%M").to_string(),
            a.agents.to_string(),
        ]);
    }
    write!(out, "{}", table.render())?;
    if let Some(first) = s.uncovered.first() {
        writeln!(
            out,
            "\n{} interval(s) needing agents fall outside every shift template and stay under (the first {}).",
            s.uncovered.len(),
            grid.local(*first).format("%a %Y-%m-%d %H:%M")
        )?;
    }
    Ok(())
}

fn time_zone(given: Option<&str>, calendar: Option<&Calendar>) -> anyhow::Result<Tz> {
    let given = given
        .map(|name| {
            name.parse::<Tz>()
                .map_err(|_| anyhow::anyhow!("unknown time zone '{name}' (an IANA name such as Europe/Berlin)"))
        })
        .transpose()?;
    match (given, calendar) {
        (Some(tz), Some(c)) if tz != c.time_zone => {
            bail!("--time-zone {} differs from the hours' time zone {}", tz.name(), c.time_zone.name())
        }
        (Some(tz), _) => Ok(tz),
        (None, Some(c)) => Ok(c.time_zone),
        (None, None) => Ok(Tz::UTC),
    }
}

fn read_calendar(path: &std::path::Path) -> anyhow::Result<Calendar> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a business-hours file", path.display()))
}

const LOCAL_FORMATS: [&str; 4] = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"];

/// A time with its offset, or a local time in the zone. Local times in the
/// hour the clocks go back happen twice: the first is taken unless it
/// would not follow `after`.
fn parse_time(text: &str, tz: Tz, after: Option<Timestamp>) -> anyhow::Result<Timestamp> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp(t.timestamp_millis()));
    }
    // A report's CSV gives the start in milliseconds since the epoch.
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Timestamp(text.parse().with_context(|| format!("'{text}' is not a time"))?));
    }
    let local = LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .with_context(|| format!("'{text}' is not a time (2026-11-02 09:30, or RFC 3339 with an offset)"))?;
    let millis = |t: DateTime<Tz>| Timestamp(t.timestamp_millis());
    match tz.from_local_datetime(&local) {
        LocalResult::None => bail!("{text} does not exist in {} (the clocks skip it)", tz.name()),
        LocalResult::Single(t) => Ok(millis(t)),
        LocalResult::Ambiguous(first, second) => {
            Ok(if after.is_some_and(|a| a >= millis(first)) { millis(second) } else { millis(first) })
        }
    }
}

/// The history's rows, those named `only` when it is given (a report's CSV
/// has a row per queue and interval, named in its `name` column).
fn read_history(path: &std::path::Path, grid: &Grid, only: Option<&str>) -> anyhow::Result<Vec<Observation>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().with_context(|| format!("{} is empty", path.display()))?;
    let names: Vec<&str> = fields(header);
    let column = |name: &str| names.iter().position(|&n| n == name);
    let start = column("start").with_context(|| format!("{}: no 'start' column in its header", path.display()))?;
    let offered =
        column("offered").with_context(|| format!("{}: no 'offered' column in its header", path.display()))?;
    let aht = column("aht_seconds");
    let name = match (only, column("name")) {
        (Some(_), None) => bail!("{}: --queue needs a 'name' column to pick rows by", path.display()),
        (Some(wanted), Some(i)) => Some((i, wanted)),
        (None, _) => None,
    };
    let mut history: Vec<Observation> = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (index, line) in lines {
        let at = || format!("{} line {}", path.display(), index + 1);
        let cells = fields(line);
        if let Some(i) = column("name") {
            names.insert(cells.get(i).copied().unwrap_or_default().to_string());
        }
        if let Some((i, wanted)) = name
            && cells.get(i).copied() != Some(wanted)
        {
            continue;
        }
        let cell = |i: usize| cells.get(i).copied().with_context(|| format!("{}: too few fields", at()));
        let number = |i: usize| -> anyhow::Result<f64> {
            let c = cell(i)?;
            c.parse().with_context(|| format!("{}: '{c}' is not a number", at()))
        };
        let previous = history.last().map(|o| o.start);
        history.push(Observation {
            start: parse_time(cell(start)?, grid.time_zone(), previous).with_context(at)?,
            offered: number(offered)?,
            aht_seconds: match aht.map(cell).transpose()? {
                None | Some("") => None,
                Some(_) => Some(number(aht.unwrap_or_default())?),
            },
        });
    }
    if only.is_none() && names.len() > 1 {
        bail!(
            "{} has rows for {} ({}): pick one with --queue",
            path.display(),
            names.len(),
            names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(wanted) = only
        && history.is_empty()
    {
        bail!(
            "{}: no rows named '{wanted}' (there are {})",
            path.display(),
            names.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(history)
}

/// Comma-separated fields, each trimmed and unquoted (times and numbers
/// never hold a comma).
fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(|f| f.trim().trim_matches('"')).collect()
}

fn adjustment(text: &str, tz: Tz) -> anyhow::Result<Adjustment> {
    let (range, change) = text.split_once('=').context("expected FROM/TO=CHANGE")?;
    let (from, to) = range.split_once('/').context("expected FROM/TO before '='")?;
    let factor = match change.strip_suffix('%') {
        Some(p) => 1.0 + p.trim_start_matches('+').parse::<f64>().context("the change is +N% or a factor")? / 100.0,
        None => change.parse().context("the change is +N% or a factor")?,
    };
    let from = parse_time(from, tz, None)?;
    Ok(Adjustment { from, to: parse_time(to, tz, Some(from))?, factor, note: text.to_string() })
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::SeasonalNaive => "as last week",
        Method::SeasonalMean => "mean of 4 weeks",
        Method::HoltWinters => "Holt-Winters",
        Method::WeeklyProfile => "weekly profile",
    }
}

fn describe_forecast(out: &mut String, grid: &Grid, f: &Forecast) -> anyhow::Result<()> {
    let (Some(first), Some(last)) = (f.intervals.first(), f.intervals.last()) else { return Ok(()) };
    writeln!(
        out,
        "Forecast {} – {} ({}, {}-minute intervals) by {}",
        grid.date(first.start),
        grid.date(last.start),
        grid.time_zone().name(),
        grid.minutes(),
        method_name(f.method)
    )?;
    let Some(e) = &f.evaluation else {
        writeln!(out, "(less than two weeks of history: no week could be held out to score the methods)")?;
        return Ok(());
    };
    writeln!(
        out,
        "\nScored on the held-out week {} – {}:\n",
        grid.date(e.holdout_from),
        grid.date(Timestamp(e.holdout_to.0 - 1))
    )?;
    let mut table = Table::new(&["method", "WAPE", "MAPE", "bias", ""]);
    for s in &e.scores {
        let chosen = if s.method == f.method { "chosen" } else { "" };
        table.row(vec![
            method_name(s.method).into(),
            percent(s.accuracy.wape),
            percent(s.accuracy.mape),
            percent(s.accuracy.bias),
            chosen.into(),
        ]);
    }
    write!(out, "{}", table.render())?;
    Ok(())
}

fn day_table(grid: &Grid, plan: &Plan) -> String {
    #[derive(Default)]
    struct Day {
        offered: f64,
        handle: f64,
        peak: u32,
        peak_scheduled: u32,
        agent_hours: f64,
        scheduled_hours: f64,
    }
    let hours = f64::from(plan.interval_minutes) / 60.0;
    let mut days: BTreeMap<chrono::NaiveDate, Day> = BTreeMap::new();
    for r in &plan.rows {
        let d = days.entry(grid.date(r.start)).or_default();
        d.offered += r.offered;
        d.handle += r.offered * r.aht_seconds;
        d.peak = d.peak.max(r.agents);
        d.peak_scheduled = d.peak_scheduled.max(r.scheduled_agents);
        d.agent_hours += f64::from(r.agents) * hours;
        d.scheduled_hours += f64::from(r.scheduled_agents) * hours;
    }
    let mut table =
        Table::new(&["day", "contacts", "AHT (s)", "peak agents", "scheduled", "agent-hours", "paid hours"]);
    for (date, d) in days {
        table.row(vec![
            date.format("%a %Y-%m-%d").to_string(),
            format!("{:.0}", d.offered),
            if d.offered > 0.0 { format!("{:.0}", d.handle / d.offered) } else { "-".into() },
            d.peak.to_string(),
            d.peak_scheduled.to_string(),
            format!("{:.1}", d.agent_hours),
            format!("{:.1}", d.scheduled_hours),
        ]);
    }
    table.render()
}

fn interval_table(grid: &Grid, plan: &Plan) -> String {
    let mut table = Table::new(&["start", "contacts", "AHT (s)", "agents", "scheduled", "service level", "occupancy"]);
    // Nights and closed days would bury the day in rows of zeros; --json
    // has every interval.
    for r in plan.rows.iter().filter(|r| r.offered > 0.0) {
        table.row(vec![
            grid.local(r.start).format("%a %Y-%m-%d %H:%M").to_string(),
            format!("{:.1}", r.offered),
            format!("{:.0}", r.aht_seconds),
            r.agents.to_string(),
            r.scheduled_agents.to_string(),
            percent(r.service_level),
            percent(r.occupancy),
        ]);
    }
    table.render()
}
