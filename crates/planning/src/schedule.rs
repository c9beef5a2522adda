//! Shifts that cover a staffing plan with the fewest paid hours.
//!
//! Each shift template (a length, a window of start times, breaks, the
//! days it may be worked) gives one candidate shift per day and start time
//! on the plan's grid. Choosing how many agents work each candidate is a
//! covering integer program: minimise paid hours such that, in every
//! interval, the agents on a shift and not on a break are at least the
//! plan's scheduled agents. It is solved with a pure-Rust solver (good_lp
//! over microlp):
//!
//! 1. the linear relaxation: a lower bound on any schedule's paid hours;
//! 2. the relaxation rounded up (still covering: every coefficient is
//!    non-negative), then trimmed greedily: a schedule at once;
//! 3. branch and bound from that schedule, until it is proven within 0.1 % of
//!    the best or the time budget is spent; the better of 2 and 3 is kept.
//!
//! The answer reports its gap to the bound, so a planner knows how far from
//! the best a schedule can be, whichever step found it.

use chrono::{Datelike, LocalResult, NaiveDate, TimeZone, Weekday};
use good_lp::{
    Expression, Solution, SolverModel, WithInitialSolution, WithMipGap, WithTimeLimit, constraint, microlp, variable,
    variables,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchboard_core::calendar::Hours;
use switchboard_core::forecast::Grid;
use switchboard_core::time::Timestamp;

/// Branch and bound stops once its schedule is proven this close to the best.
const MIP_GAP: f32 = 0.001;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftTemplate {
    pub name: String,
    /// From the first minute to the last, breaks included.
    pub length_minutes: u32,
    /// The first and the last start time, `"07:00-11:00"`; starts step by
    /// the plan's interval.
    pub starts: Hours,
    #[serde(default)]
    pub breaks: Vec<Break>,
    /// The days it may start on; every day when empty.
    #[serde(default)]
    pub days: Vec<Weekday>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    /// Minutes after the shift's start.
    pub after_minutes: u32,
    pub minutes: u32,
    /// A paid break costs like work; an unpaid one (lunch) does not.
    #[serde(default)]
    pub paid: bool,
}

/// `[[shifts]]` tables of a TOML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftFile {
    pub shifts: Vec<ShiftTemplate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schedule {
    /// Candidate shifts worked by at least one agent.
    pub shifts: Vec<Assigned>,
    /// Per plan interval: agents required and agents working (not on a break).
    pub coverage: Vec<Coverage>,
    pub paid_hours: f64,
    /// The relaxation's paid hours: no schedule can do better.
    pub lower_bound_hours: f64,
    /// (paid − bound) / bound.
    pub gap: f64,
    pub method: Method,
    /// Intervals needing agents that no template can work: they stay under,
    /// and the paid hours and the bound are for the rest.
    pub uncovered: Vec<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Branch and bound improved on the rounded relaxation (proven within
    /// 0.1 % of the best, or the best it had when the budget ran out).
    IntegerProgram,
    /// Branch and bound did no better than the rounded relaxation.
    RoundedRelaxation,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assigned {
    pub template: String,
    pub start: Timestamp,
    pub agents: u32,
    pub paid_hours: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Coverage {
    pub start: Timestamp,
    pub required: u32,
    pub scheduled: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    #[error("shift '{name}': {reason}")]
    Template { name: String, reason: String },
    #[error("the solver failed: {0}")]
    Solver(String),
}

/// One candidate: a template started at one time.
struct Candidate {
    template: usize,
    start: Timestamp,
    /// Plan intervals worked (breaks left out).
    covers: Vec<usize>,
    paid_hours: f64,
}

/// `required` is the plan's intervals with the agents to schedule in each;
/// branch and bound stops after `budget`.
pub fn generate(
    grid: &Grid,
    required: &[(Timestamp, u32)],
    templates: &[ShiftTemplate],
    budget: Duration,
) -> Result<Schedule, ScheduleError> {
    validate(grid, templates)?;
    let candidates = candidates(grid, required, templates);
    let mut covering: Vec<Vec<usize>> = vec![Vec::new(); required.len()];
    for (c, candidate) in candidates.iter().enumerate() {
        for &i in &candidate.covers {
            covering[i].push(c);
        }
    }
    // An interval no template can work (contacts at 05:00 when the earliest
    // shift starts at 07:00) is reported and left under; failing the whole
    // schedule would hide the coverage of every interval that can be met.
    let uncovered: Vec<Timestamp> =
        (0..required.len()).filter(|&i| required[i].1 > 0 && covering[i].is_empty()).map(|i| required[i].0).collect();
    let demand: Vec<f64> =
        required.iter().zip(&covering).map(|(&(_, n), c)| if c.is_empty() { 0.0 } else { f64::from(n) }).collect();
    let relaxed = solve(&candidates, &covering, &demand, Search::Relaxation)?;
    let lower_bound_hours: f64 = relaxed.iter().zip(&candidates).map(|(x, c)| x * c.paid_hours).sum();
    let rounded = round_and_trim(&relaxed, &candidates, &demand);
    let cost =
        |counts: &[u32]| -> f64 { counts.iter().zip(&candidates).map(|(&n, c)| f64::from(n) * c.paid_hours).sum() };
    let start: Vec<f64> = rounded.iter().map(|&n| f64::from(n)).collect();
    // A budget spent before any schedule is found is no error: the rounded
    // one stands.
    let searched = solve(&candidates, &covering, &demand, Search::Integer { start: &start, budget })
        .ok()
        .map(|x| x.iter().map(|v| v.round().max(0.0) as u32).collect::<Vec<u32>>())
        .filter(|counts| {
            working(counts, &candidates, demand.len()).iter().zip(&demand).all(|(&w, &d)| f64::from(w) >= d)
        });
    let (counts, method) = match searched {
        Some(counts) if cost(&counts) < cost(&rounded) - 1e-9 => (counts, Method::IntegerProgram),
        _ => (rounded, Method::RoundedRelaxation),
    };
    let working = working(&counts, &candidates, required.len());
    let paid_hours = cost(&counts);
    Ok(Schedule {
        shifts: candidates
            .iter()
            .zip(&counts)
            .filter(|(_, n)| **n > 0)
            .map(|(c, &agents)| Assigned {
                template: templates[c.template].name.clone(),
                start: c.start,
                agents,
                paid_hours: c.paid_hours,
            })
            .collect(),
        coverage: required
            .iter()
            .zip(working)
            .map(|(&(start, required), scheduled)| Coverage { start, required, scheduled })
            .collect(),
        paid_hours,
        lower_bound_hours,
        gap: if lower_bound_hours > 0.0 { (paid_hours - lower_bound_hours) / lower_bound_hours } else { 0.0 },
        method,
        uncovered,
    })
}

fn validate(grid: &Grid, templates: &[ShiftTemplate]) -> Result<(), ScheduleError> {
    templates.iter().try_for_each(|t| t.check(grid.minutes()))
}

impl ShiftTemplate {
    /// Whether the template fits a grid of `step`-minute intervals: its
    /// length, starts and breaks on the grid, its breaks within it.
    pub fn check(&self, step: u32) -> Result<(), ScheduleError> {
        let bad = |reason: String| ScheduleError::Template { name: self.name.clone(), reason };
        if self.length_minutes == 0 || self.length_minutes > 24 * 60 || !self.length_minutes.is_multiple_of(step) {
            return Err(bad(format!("length_minutes must be a multiple of the {step}-minute interval up to a day")));
        }
        let (first, last) = self.starts.minutes();
        if first > last || !first.is_multiple_of(step) || !last.is_multiple_of(step) {
            return Err(bad(format!("starts must run forward within a day, on the {step}-minute grid")));
        }
        for b in &self.breaks {
            if b.minutes == 0 || !b.after_minutes.is_multiple_of(step) || !b.minutes.is_multiple_of(step) {
                return Err(bad(format!("breaks start and last multiples of the {step}-minute interval")));
            }
            if b.after_minutes + b.minutes > self.length_minutes {
                return Err(bad("a break ends after the shift".into()));
            }
        }
        Ok(())
    }
}

fn candidates(grid: &Grid, required: &[(Timestamp, u32)], templates: &[ShiftTemplate]) -> Vec<Candidate> {
    let (Some(&(first, _)), Some(&(last, _))) = (required.first(), required.last()) else { return Vec::new() };
    let step = grid.interval_millis();
    let index = |t: Timestamp| -> Option<usize> {
        let offset = t.0 - first.0;
        (offset >= 0 && offset % step == 0 && t <= last).then(|| (offset / step) as usize)
    };
    let mut out = Vec::new();
    // A shift started the day before may still reach the first interval.
    let from_day = grid.date(first).pred_opt().unwrap_or(grid.date(first));
    for day in from_day.iter_days().take_while(|d| *d <= grid.date(last)) {
        for (ti, t) in templates.iter().enumerate() {
            if !t.days.is_empty() && !t.days.contains(&day.weekday()) {
                continue;
            }
            let (from, to) = t.starts.minutes();
            for minute in (from..=to).step_by(grid.minutes() as usize) {
                let Some(start) = local_time(grid, day, minute) else { continue };
                let unpaid: u32 = t.breaks.iter().filter(|b| !b.paid).map(|b| b.minutes).sum();
                let on_break = |offset: u32| {
                    t.breaks.iter().any(|b| (b.after_minutes..b.after_minutes + b.minutes).contains(&offset))
                };
                let covers: Vec<usize> = (0..t.length_minutes)
                    .step_by(grid.minutes() as usize)
                    .filter(|&offset| !on_break(offset))
                    .filter_map(|offset| index(Timestamp(start.0 + i64::from(offset) * 60_000)))
                    .collect();
                if covers.is_empty() {
                    continue;
                }
                out.push(Candidate {
                    template: ti,
                    start,
                    covers,
                    paid_hours: f64::from(t.length_minutes - unpaid) / 60.0,
                });
            }
        }
    }
    out
}

/// A local time on a day, the first if it happens twice; `None` in the
/// hour the clocks skip.
fn local_time(grid: &Grid, day: NaiveDate, minute: u32) -> Option<Timestamp> {
    let naive = day.and_hms_opt(minute / 60, minute % 60, 0)?;
    match grid.time_zone().from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(Timestamp(t.timestamp_millis())),
        LocalResult::None => None,
    }
}

enum Search<'a> {
    Relaxation,
    Integer { start: &'a [f64], budget: Duration },
}

fn solve(
    candidates: &[Candidate],
    covering: &[Vec<usize>],
    demand: &[f64],
    search: Search,
) -> Result<Vec<f64>, ScheduleError> {
    let integer = matches!(search, Search::Integer { .. });
    let mut vars = variables!();
    let x: Vec<_> = candidates
        .iter()
        .map(|_| vars.add(if integer { variable().integer().min(0) } else { variable().min(0) }))
        .collect();
    let objective: Expression = candidates.iter().zip(&x).map(|(c, &v)| c.paid_hours * v).sum();
    let mut model = vars.minimise(objective).using(microlp);
    if let Search::Integer { start, budget } = search {
        model = model
            .with_initial_solution(x.iter().copied().zip(start.iter().copied()))
            .with_mip_gap(MIP_GAP)
            .map_err(|e| ScheduleError::Solver(e.to_string()))?
            .with_time_limit(budget.as_secs_f64());
    }
    for (i, who) in covering.iter().enumerate() {
        if demand[i] > 0.0 {
            let working: Expression = who.iter().map(|&c| x[c]).sum();
            model = model.with(constraint!(working >= demand[i]));
        }
    }
    let solution = model.solve().map_err(|e| ScheduleError::Solver(e.to_string()))?;
    Ok(x.iter().map(|&v| solution.value(v)).collect())
}

/// Agents working (not on a break) in each interval.
fn working(counts: &[u32], candidates: &[Candidate], intervals: usize) -> Vec<u32> {
    let mut working = vec![0u32; intervals];
    for (c, &n) in candidates.iter().zip(counts) {
        for &i in &c.covers {
            working[i] += n;
        }
    }
    working
}

/// The relaxation rounded up, then each candidate, costliest first, cut
/// down while every interval stays covered.
fn round_and_trim(relaxed: &[f64], candidates: &[Candidate], demand: &[f64]) -> Vec<u32> {
    let mut counts: Vec<u32> = relaxed.iter().map(|x| (x - 1e-9).ceil().max(0.0) as u32).collect();
    let mut working = working(&counts, candidates, demand.len());
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| candidates[b].paid_hours.total_cmp(&candidates[a].paid_hours));
    for c in order {
        while counts[c] > 0 && candidates[c].covers.iter().all(|&i| f64::from(working[i]) - 1.0 >= demand[i]) {
            counts[c] -= 1;
            for &i in &candidates[c].covers {
                working[i] -= 1;
            }
        }
    }
    counts
}
