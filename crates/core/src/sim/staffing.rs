//! Staffing by simulation: the fewest agents of each group, interval by
//! interval, with which every queue meets its service-level target when the
//! production engine routes the scenario's demand.
//!
//! Erlang C staffs one queue served by one pool of identical agents. Real
//! centers have agents in several queues with skills, steps that relax,
//! channels with several chats at once, and queues that borrow from each
//! other: the shared agents serve the peaks of both queues, and Erlang per
//! queue over-staffs. Here the staffing is searched against the simulator:
//!
//! 1. **Start** from Erlang C per queue and interval (the queue's traffic
//!    divided by the capacity of its first group on that channel), given
//!    to the queue's first priority-one group.
//! 2. **Add** while some queue misses its target: at the earliest interval
//!    that misses, try one more agent of each group serving that queue and
//!    keep the one that leaves the smallest shortfall.
//! 3. **Remove** from the last interval to the first, one agent of a group
//!    at a time, as long as every queue still meets its target.
//!
//! Every evaluation runs the same seeds (common random numbers), so two
//! staffings are compared on the same customers, and their figures are
//! summed over the seeds before the service level is taken.
//!
//! Each queue has its own target. Core reads no clock: a caller that must
//! answer within a time budget passes `keep_going`, asked before every
//! evaluation; when it says stop, the staffing reached so far is returned
//! marked incomplete.

use super::Compiled;
use super::scenario::ScenarioError;
use crate::erlang::StaffingInput;
use serde::Serialize;
use std::time::Duration;

/// Evaluations allowed before the search gives up.
const MAX_EVALUATIONS: u32 = 20_000;

#[derive(Clone, Debug)]
pub struct Search {
    /// Each queue's target, in the order of the scenario's queues: the
    /// share of handled contacts answered within the queue's threshold.
    pub sl_targets: Vec<f64>,
    /// Simulated days per evaluation.
    pub seeds: u32,
    /// No group may have more agents than this in an interval.
    pub max_per_group: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Staffed {
    pub groups: Vec<String>,
    /// Local start of each interval, "HH:MM".
    pub intervals: Vec<String>,
    pub interval_minutes: u64,
    /// Agents of each group on duty in each interval: `agents[group][interval]`.
    pub agents: Vec<Vec<u32>>,
    pub queues: Vec<QueueOutcome>,
    pub agent_hours: f64,
    /// Erlang C's staffing of each queue on its own, summed: what a
    /// planner with only Erlang would schedule.
    pub erlang_agent_hours: f64,
    pub evaluations: u32,
    /// False when `keep_going` stopped the search: a queue may still miss
    /// its target (while adding) or an agent be spare (while removing).
    pub complete: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueOutcome {
    pub name: String,
    pub sl_seconds: f64,
    pub sl_target: f64,
    /// Over the whole run and all seeds; `None` with nothing offered.
    pub service_level_total: Option<f64>,
    /// Mean contacts offered per interval, over the seeds.
    pub offered: Vec<f64>,
    /// Service level per interval over all seeds (0 when contacts came and
    /// none was handled); `None` with nothing offered.
    pub service_level: Vec<Option<f64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StaffingError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("sl_target is a fraction above 0 and at most 1, got {0}")]
    Target(f64),
    #[error("{given} service-level targets for {queues} queues")]
    Targets { given: usize, queues: usize },
    #[error("seeds must be at least 1")]
    Seeds,
    #[error("queue '{queue}' at {interval}: no group serving it can be added (each has {max} agents there)")]
    Unreachable { queue: String, interval: String, max: u32 },
    #[error("no staffing found after {MAX_EVALUATIONS} simulations")]
    TooLong,
}

/// Per queue and interval, summed over the seeds.
#[derive(Clone, Default)]
struct Tally {
    offered: f64,
    handled: f64,
    within: f64,
}

struct Searcher<'a> {
    base: &'a Compiled,
    search: &'a Search,
    evaluations: u32,
    keep_going: &'a mut dyn FnMut() -> bool,
    stopped: bool,
}

/// Searches the staffing; `keep_going` is asked before each evaluation
/// (`&mut || true` to search to the end).
pub fn staff(base: &Compiled, search: &Search, keep_going: &mut dyn FnMut() -> bool) -> Result<Staffed, StaffingError> {
    if search.sl_targets.len() != base.queues.len() {
        return Err(StaffingError::Targets { given: search.sl_targets.len(), queues: base.queues.len() });
    }
    if let Some(&bad) = search.sl_targets.iter().find(|t| !(**t > 0.0 && **t <= 1.0)) {
        return Err(StaffingError::Target(bad));
    }
    if search.seeds == 0 {
        return Err(StaffingError::Seeds);
    }
    let mut s = Searcher { base, search, evaluations: 0, keep_going, stopped: false };
    let (start, erlang_agent_hours) = s.erlang_start();
    let mut agents = start;
    let mut tally = s.evaluate(&agents)?.expect("the first evaluation always runs");
    // Add where targets are missed, earliest interval first: a backlog there
    // spills into every later interval.
    'adding: while let Some((queue, interval)) = s.first_miss(&tally) {
        let mut best: Option<(f64, usize, Vec<Vec<Tally>>)> = None;
        for g in s.groups_serving(queue) {
            if agents[g][interval] >= search.max_per_group {
                continue;
            }
            agents[g][interval] += 1;
            let t = s.evaluate(&agents)?;
            agents[g][interval] -= 1;
            let Some(t) = t else { break 'adding };
            let shortfall = s.shortfall(&t);
            if best.as_ref().is_none_or(|b| shortfall < b.0) {
                best = Some((shortfall, g, t));
            }
        }
        let Some((_, g, t)) = best else {
            return Err(StaffingError::Unreachable {
                queue: base.queue_names[queue].clone(),
                interval: base.interval_label(interval),
                max: search.max_per_group,
            });
        };
        agents[g][interval] += 1;
        tally = t;
    }
    // Then take away what is not needed, latest interval first (removing
    // there cannot hurt an earlier one).
    'removing: for interval in (0..base.intervals).rev() {
        for g in 0..base.groups.len() {
            while agents[g][interval] > 0 && !s.stopped {
                agents[g][interval] -= 1;
                let Some(t) = s.evaluate(&agents)? else {
                    agents[g][interval] += 1;
                    break 'removing;
                };
                if s.first_miss(&t).is_some() {
                    agents[g][interval] += 1;
                    break;
                }
                tally = t;
            }
        }
    }
    let hours = base.interval.as_secs_f64() / 3600.0;
    let seeds = f64::from(search.seeds);
    Ok(Staffed {
        groups: base.groups.iter().map(|g| g.name.clone()).collect(),
        intervals: (0..base.intervals).map(|i| base.interval_label(i)).collect(),
        interval_minutes: base.interval.as_secs() / 60,
        agent_hours: agents.iter().flatten().map(|&n| f64::from(n) * hours).sum(),
        erlang_agent_hours,
        queues: tally
            .iter()
            .enumerate()
            .map(|(q, cells)| QueueOutcome {
                name: base.queue_names[q].clone(),
                sl_seconds: base.queues[q].sl_threshold.as_secs_f64(),
                sl_target: search.sl_targets[q],
                service_level_total: {
                    let all = cells.iter().fold(Tally::default(), |a, c| Tally {
                        offered: a.offered + c.offered,
                        handled: a.handled + c.handled,
                        within: a.within + c.within,
                    });
                    (all.offered > 0.0).then(|| service_level(&all))
                },
                offered: cells.iter().map(|c| c.offered / seeds).collect(),
                service_level: cells.iter().map(|c| (c.offered > 0.0).then(|| service_level(c))).collect(),
            })
            .collect(),
        agents,
        evaluations: s.evaluations,
        complete: !s.stopped,
    })
}

/// Handled within the threshold / handled; none handled of some offered is 0.
fn service_level(t: &Tally) -> f64 {
    if t.handled > 0.0 { t.within / t.handled } else { 0.0 }
}

impl Searcher<'_> {
    /// Runs the staffing on every seed; `None` once `keep_going` said stop.
    fn evaluate(&mut self, agents: &[Vec<u32>]) -> Result<Option<Vec<Vec<Tally>>>, StaffingError> {
        if self.evaluations > 0 && (self.stopped || !(self.keep_going)()) {
            self.stopped = true;
            return Ok(None);
        }
        self.evaluations += 1;
        if self.evaluations > MAX_EVALUATIONS {
            return Err(StaffingError::TooLong);
        }
        let mut c = self.base.with_staffing(agents);
        let mut tally = vec![vec![Tally::default(); c.intervals]; c.queues.len()];
        for seed in 0..u64::from(self.search.seeds) {
            c.seed = self.base.seed.wrapping_add(seed);
            let report = super::run(&c, &mut |_| {})?;
            for (q, queue) in report.queues.iter().enumerate() {
                for (i, row) in queue.intervals.iter().enumerate() {
                    let s = &row.summary;
                    let t = &mut tally[q][i];
                    t.offered += s.offered as f64;
                    t.handled += s.handled as f64;
                    t.within += s.service_level.unwrap_or(0.0) * s.handled as f64;
                }
            }
        }
        Ok(Some(tally))
    }

    /// A queue's interval is judged once it has a contact a day on average
    /// (below that its service level is noise); one whose contacts were
    /// never handled (nobody served the queue) misses by all of them.
    fn misses(&self, queue: usize, t: &Tally) -> bool {
        t.offered >= f64::from(self.search.seeds) && service_level(t) < self.search.sl_targets[queue] - 1e-12
    }

    fn first_miss(&self, tally: &[Vec<Tally>]) -> Option<(usize, usize)> {
        (0..self.base.intervals).find_map(|i| (0..tally.len()).find(|&q| self.misses(q, &tally[q][i])).map(|q| (q, i)))
    }

    /// Contacts short of their queue's target over every interval that
    /// misses it.
    fn shortfall(&self, tally: &[Vec<Tally>]) -> f64 {
        tally
            .iter()
            .enumerate()
            .flat_map(|(q, cells)| cells.iter().map(move |t| (q, t)))
            .filter(|(q, t)| self.misses(*q, t))
            // With none handled, every contact offered counts short.
            .map(|(q, t)| self.search.sl_targets[q] * if t.handled > 0.0 { t.handled } else { t.offered } - t.within)
            .sum()
    }

    fn groups_serving(&self, queue: usize) -> Vec<usize> {
        let id = self.base.queues[queue].id;
        (0..self.base.groups.len())
            .filter(|&g| self.base.groups[g].agent.config.memberships.iter().any(|m| m.queue == id))
            .collect()
    }

    /// Erlang C per queue and interval, given to the queue's first
    /// priority-one group, and the agent-hours of that staffing.
    fn erlang_start(&self) -> (Vec<Vec<u32>>, f64) {
        let c = self.base;
        let mut agents = vec![vec![0u32; c.intervals]; c.groups.len()];
        let mut hours = 0.0;
        for (q, queue) in c.queues.iter().enumerate() {
            let streams: Vec<_> = c.streams.iter().filter(|s| s.queue == queue.id).collect();
            let serving = self.groups_serving(q);
            let primary = serving
                .iter()
                .copied()
                .find(|&g| c.groups[g].agent.config.memberships.iter().any(|m| m.queue == queue.id && m.priority == 1))
                .or(serving.first().copied());
            let wrap_up = match queue.wrap_up {
                crate::queue::WrapUp::Fixed(d) => d.as_secs_f64(),
                _ => 0.0,
            };
            // A chat agent takes several at once: Erlang's agents are
            // conversations in progress.
            let per_agent = match (primary, streams.first()) {
                (Some(g), Some(s)) => u32::from(c.groups[g].agent.config.capacity.limit(s.channel).max(1)),
                _ => 1,
            };
            let needed: Vec<u32> = (0..c.intervals)
                .map(|i| {
                    let calls: f64 = streams.iter().map(|s| s.counts[i]).sum();
                    if calls <= 0.0 {
                        return 0;
                    }
                    let aht = streams.iter().map(|s| s.counts[i] * s.handle_time.mean_seconds()).sum::<f64>() / calls
                        + wrap_up;
                    let mut input = StaffingInput::new(calls, c.interval, Duration::from_secs_f64(aht.max(1.0)));
                    input.sl_target = self.search.sl_targets[q];
                    input.sl_threshold = queue.sl_threshold;
                    input.staff().map_or(0, |s| s.agents.div_ceil(per_agent))
                })
                .collect();
            hours += needed.iter().map(|&n| f64::from(n)).sum::<f64>() * c.interval.as_secs_f64() / 3600.0;
            if let Some(g) = primary {
                for (a, n) in agents[g].iter_mut().zip(needed) {
                    *a = a.saturating_add(n).min(self.search.max_per_group);
                }
            }
        }
        (agents, hours)
    }
}
