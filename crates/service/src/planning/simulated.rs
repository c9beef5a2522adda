//! Multi-skill, multichannel staffing of a day by simulation, from the
//! workspace's own configuration and history: every queue's forecast
//! (split over its channels as its history splits, each channel with its
//! own handle time) arrives at the simulator; the agents form groups of
//! those configured alike (the same queues, skills and capacity); the
//! production routing policies and queue settings route them; and core's
//! greedy search (`sim::staffing`) finds the agents of each group on duty
//! per interval with which every queue meets its own service-level target.
//!
//! The search runs the simulator hundreds of times, so a request has a
//! time budget: when it runs out, the staffing found so far is returned
//! marked incomplete, and its queues' service levels say where it misses.

use super::history::{self, ChannelShare};
use super::simulation::SimConfig;
use super::{ForecastInputs, IntervalView, check_targets};
use crate::auth::Principal;
use crate::reports::intervals::local_label;
use crate::settings::QueueSettings;
use crate::{Service, ServiceError, require};
use chrono::{Days, NaiveDate, Offset, TimeZone};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use switchboard_core::agent::AgentConfig;
use switchboard_core::attributes::Attributes;
use switchboard_core::channel::{Channel, ChannelSet};
use switchboard_core::forecast::{self, Forecast, Grid};
use switchboard_core::ids::{AgentId, QueueId, UserId};
use switchboard_core::sim::dist::Dist;
use switchboard_core::sim::scenario::{GroupTemplate, SimAgentSpec, Stream};
use switchboard_core::sim::staffing::{self, Search};
use switchboard_core::time::Timestamp;
use switchboard_store::{Role, UserState};

/// How long a request may search (the Planning page waits for it).
pub const SEARCH_BUDGET: Duration = Duration::from_secs(10);
/// The longest budget a caller may give (the command line's).
pub const MOST_BUDGET: Duration = Duration::from_secs(600);
/// How long after the day the simulation may go on to finish its contacts.
const DRAIN: Duration = Duration::from_secs(2 * 3600);
/// How far ahead a day may be staffed (the forecast's reach).
const MOST_DAYS_AHEAD: u64 = 13;
/// The handle time history gives per channel is that of the last weeks.
const MIX_WEEKS: u64 = 6;
const MOST_PER_GROUP: u32 = 500;

#[derive(Clone, Debug)]
pub struct SimulatedRequest {
    /// A local day from today to 13 days ahead; without one, the first
    /// day of the next week with contacts forecast.
    pub day: Option<NaiveDate>,
    /// 15, 30 or 60.
    pub interval_minutes: u32,
    /// Simulated days per evaluation, 1 to 20.
    pub seeds: u32,
    /// Every queue's target; each queue's own (`sl_target_percent`) when
    /// not given.
    pub sl_target: Option<f64>,
    pub shrinkage: f64,
    pub budget: Duration,
}

#[derive(Debug, Serialize)]
pub struct SimulatedStaffing {
    pub day: NaiveDate,
    pub time_zone: String,
    pub interval_minutes: u32,
    pub seeds: u32,
    pub shrinkage: f64,
    pub intervals: Vec<IntervalView>,
    pub groups: Vec<GroupStaffing>,
    pub queues: Vec<QueueStaffing>,
    /// Agents on duty over the day, and paid with shrinkage.
    pub agent_hours: f64,
    pub paid_hours: f64,
    /// Erlang C's staffing of each queue on its own, summed.
    pub erlang_agent_hours: f64,
    /// Simulated staffings tried; each is `seeds` days.
    pub evaluations: u32,
    /// False when the time budget ran out before the search ended.
    pub complete: bool,
    pub budget_seconds: f64,
    /// Queues left out of the simulation, and why.
    pub problems: Vec<String>,
}

/// Agents configured alike: the same queues (with priorities and delays),
/// skills and capacity.
#[derive(Debug, Serialize)]
pub struct GroupStaffing {
    pub name: String,
    /// The workspace's agents in the group, by name and by id.
    pub agents: Vec<String>,
    pub agent_ids: Vec<UserId>,
    pub queues: Vec<String>,
    /// The queues' ids, in the order of the agents' memberships.
    pub queue_ids: Vec<QueueId>,
    /// Agents of the group on duty per interval.
    pub on_duty: Vec<u32>,
    /// To schedule: on duty with shrinkage.
    pub required: Vec<u32>,
    pub agent_hours: f64,
}

#[derive(Debug, Serialize)]
pub struct QueueStaffing {
    pub queue: QueueId,
    pub name: String,
    pub sl_target: f64,
    pub sl_seconds: f64,
    pub channels: Vec<ChannelView>,
    /// Contacts forecast per interval.
    pub offered: Vec<f64>,
    /// Simulated per interval, over all seeds; `None` with nothing offered.
    pub service_level: Vec<Option<f64>>,
    pub service_level_total: Option<f64>,
    /// Every interval judged (a contact a day on average) meets the target.
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct ChannelView {
    pub channel: Channel,
    pub share: f64,
    pub aht_seconds: f64,
}

/// A queue ready to simulate.
struct Planned {
    id: QueueId,
    name: String,
    inputs: ForecastInputs,
    mix: Vec<ChannelShare>,
}

impl SimulatedRequest {
    fn check(&self) -> Result<(), ServiceError> {
        check_targets(self.interval_minutes, self.sl_target, self.shrinkage)?;
        if !(1..=20).contains(&self.seeds) {
            return Err(ServiceError::invalid("seeds", "from 1 to 20"));
        }
        if self.budget.is_zero() || self.budget > MOST_BUDGET {
            return Err(ServiceError::invalid("budget", "from 1 second to 10 minutes"));
        }
        Ok(())
    }
}

impl Service {
    /// A day's staffing of every queue by simulation (supervisors and admins).
    pub async fn simulated_staffing(
        &self,
        p: &Principal,
        r: &SimulatedRequest,
    ) -> Result<SimulatedStaffing, ServiceError> {
        let mut inputs = self.simulation_inputs(p, r).await?;
        if let Some(day) = r.day {
            inputs.check_day(day)?;
        }
        let request = r.clone();
        tokio::task::spawn_blocking(move || {
            let days = match request.day {
                Some(day) => (day - inputs.first).num_days() as u32 + 1,
                None => 7,
            };
            let mut problems = inputs.problems.clone();
            let forecasts = forecast_each(&inputs.grid, std::mem::take(&mut inputs.planned), days, &mut problems);
            let day = request.day.or_else(|| busy_day(&inputs.grid, &forecasts)).ok_or_else(|| {
                ServiceError::invalid("day", "no contacts are forecast in the next week: nothing to staff")
            })?;
            inputs.setup(day).staff(&forecasts, &request, problems)
        })
        .await
        .map_err(|e| ServiceError::Unsupported(format!("the simulation failed: {e}")))?
    }

    /// The staffing of each of `days` (in order, from today to 13 days
    /// ahead) by simulation, the forecasts made once; `r.budget` is shared
    /// out evenly among the days. A roster drafted from the simulated
    /// requirement covers these.
    pub(super) async fn simulated_days(
        &self,
        p: &Principal,
        r: &SimulatedRequest,
        days: &[NaiveDate],
    ) -> Result<Vec<SimulatedStaffing>, ServiceError> {
        let mut inputs = self.simulation_inputs(p, r).await?;
        days.iter().try_for_each(|d| inputs.check_day(*d))?;
        let Some(&last) = days.last() else { return Ok(Vec::new()) };
        let days = days.to_vec();
        let per_day = SimulatedRequest { budget: r.budget / days.len().max(1) as u32, ..r.clone() };
        tokio::task::spawn_blocking(move || {
            let mut problems = inputs.problems.clone();
            let reach = (last - inputs.first).num_days() as u32 + 1;
            let forecasts = forecast_each(&inputs.grid, std::mem::take(&mut inputs.planned), reach, &mut problems);
            days.iter().map(|&day| inputs.setup(day).staff(&forecasts, &per_day, problems.clone())).collect()
        })
        .await
        .map_err(|e| ServiceError::Unsupported(format!("the simulation failed: {e}")))?
    }

    /// What a simulated staffing is made from: the routing configuration,
    /// the active agents, and each queue's forecast inputs and channel mix.
    async fn simulation_inputs(&self, p: &Principal, r: &SimulatedRequest) -> Result<Inputs, ServiceError> {
        require(p, Role::Supervisor)?;
        r.check()?;
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let grid = Grid::new(zone, r.interval_minutes).map_err(|e| ServiceError::invalid("interval", e.to_string()))?;
        let today = crate::reports::intervals::local_day(zone, self.now().0).0;
        let first = grid.date(Timestamp(today));
        let replica = self.inspect(ws, |c| c.replica()).await?.map_err(ServiceError::Unsupported)?;
        let names: HashMap<UserId, String> = self
            .store()
            .users(ws)
            .await?
            .into_iter()
            .filter(|u| u.state == UserState::Active)
            .map(|u| (u.id, u.name))
            .collect();
        let mix_from = grid.midnight(first - Days::new(7 * MIX_WEEKS)).0;
        let mut planned = Vec::new();
        let mut targets = HashMap::new();
        let mut problems = Vec::new();
        for queue in self.store().queues(ws).await? {
            let inputs = self.forecast_inputs(ws, &queue, &grid, today).await?;
            let settings = &inputs.settings;
            targets.insert(queue.id, r.sl_target.unwrap_or(settings.sl_target()));
            if inputs.observations.is_empty() {
                problems.push(format!("{}: no history yet", queue.name));
                continue;
            }
            let mix = history::channel_mix(&*self.rollup(ws).await?, queue.id, mix_from, today);
            planned.push(Planned { id: queue.id, name: queue.name, inputs, mix });
        }
        Ok(Inputs { grid, first, replica, names, planned, targets, problems })
    }
}

/// What the simulation of some days starts from.
struct Inputs {
    grid: Grid,
    /// Today.
    first: NaiveDate,
    replica: crate::center::Replica,
    /// The active users.
    names: HashMap<UserId, String>,
    planned: Vec<Planned>,
    targets: HashMap<QueueId, f64>,
    problems: Vec<String>,
}

impl Inputs {
    fn setup(&self, day: NaiveDate) -> Setup<'_> {
        Setup { grid: &self.grid, day, replica: &self.replica, names: &self.names, targets: &self.targets }
    }

    /// Days from today to the forecast's reach may be staffed.
    fn check_day(&self, day: NaiveDate) -> Result<(), ServiceError> {
        let last = self.first + Days::new(MOST_DAYS_AHEAD);
        if day < self.first || day > last {
            return Err(ServiceError::invalid("day", format!("from {} to {last}", self.first)));
        }
        Ok(())
    }
}

/// Each queue's forecast; one that cannot be made is a problem, left out.
fn forecast_each(
    grid: &Grid,
    planned: Vec<Planned>,
    days: u32,
    problems: &mut Vec<String>,
) -> Vec<(Planned, Forecast)> {
    planned
        .into_iter()
        .filter_map(|q| {
            let made = forecast::forecast(&forecast::Request {
                grid: *grid,
                history: &q.inputs.observations,
                days,
                calendar: q.inputs.calendar.as_ref(),
                adjustments: &q.inputs.factors,
                method: None,
            });
            match made {
                Ok(f) => Some((q, f)),
                Err(e) => {
                    problems.push(format!("{}: {e}", q.name));
                    None
                }
            }
        })
        .collect()
}

/// The first day with contacts forecast in any queue.
fn busy_day(grid: &Grid, forecasts: &[(Planned, Forecast)]) -> Option<NaiveDate> {
    forecasts.iter().flat_map(|(_, f)| f.intervals.iter().filter(|i| i.offered > 0.0)).map(|i| grid.date(i.start)).min()
}

struct Setup<'a> {
    grid: &'a Grid,
    day: NaiveDate,
    replica: &'a crate::center::Replica,
    names: &'a HashMap<UserId, String>,
    /// Each queue's target.
    targets: &'a HashMap<QueueId, f64>,
}

impl Setup<'_> {
    fn staff(
        &self,
        forecasts: &[(Planned, Forecast)],
        r: &SimulatedRequest,
        problems: Vec<String>,
    ) -> Result<SimulatedStaffing, ServiceError> {
        let (start, end) = (self.grid.midnight(self.day), self.grid.midnight(self.day + Days::new(1)));
        let interval = Duration::from_secs(u64::from(self.grid.minutes()) * 60);
        let zone = self.grid.time_zone();
        let offset = zone.offset_from_utc_datetime(&start.to_utc().naive_utc()).fix().local_minus_utc() / 60;
        let sim = SimConfig::new(self.replica);
        let mut base = sim.run(start.0, end.0, offset, interval, DRAIN);
        let in_day = |f: &Forecast| -> Vec<f64> {
            let mut counts = vec![0.0; base.intervals];
            for i in f.intervals.iter().filter(|i| i.start >= start && i.start < end) {
                counts[((i.start.0 - start.0) / self.grid.interval_millis()) as usize] = i.offered;
            }
            counts
        };
        let mut shown = Vec::new();
        for (q, f) in forecasts {
            let Some(id) = sim.queue(q.id) else { continue };
            let counts = in_day(f);
            let channels = streams_of(&q.mix, sim.queues[id.0 as usize - 1].channels, &q.inputs.settings, f);
            for c in &channels {
                base.streams.push(Stream {
                    queue: id,
                    channel: c.channel,
                    counts: counts.iter().map(|n| n * c.share).collect(),
                    handle_time: Dist::Exponential { mean_seconds: c.aht_seconds },
                    patience: None,
                    priority: 0,
                    attributes: Attributes::default(),
                });
            }
            shown.push((id, q.id, q.name.clone(), channels, counts));
        }
        let groups = self.groups(&sim);
        if groups.is_empty() {
            return Err(ServiceError::invalid("agents", "no active agent serves a queue: nobody to staff"));
        }
        base.groups =
            groups.iter().map(|g| GroupTemplate { name: g.name.clone(), agent: g.template.clone() }).collect();
        let sl_targets: Vec<f64> =
            (0..sim.queues.len()).map(|i| self.targets.get(&sim.workspace_queue(i)).copied().unwrap_or(0.8)).collect();
        let search = Search { sl_targets, seeds: r.seeds, max_per_group: MOST_PER_GROUP };
        let deadline = Instant::now() + r.budget;
        let staffed = staffing::staff(&base, &search, &mut || Instant::now() < deadline)
            .map_err(|e| ServiceError::invalid("staffing", e.to_string()))?;
        let hours = interval.as_secs_f64() / 3600.0;
        let with_shrinkage = |n: u32| (f64::from(n) / (1.0 - r.shrinkage) - 1e-9).ceil().max(0.0) as u32;
        let groups: Vec<GroupStaffing> = groups
            .into_iter()
            .zip(&staffed.agents)
            .map(|(g, on_duty)| GroupStaffing {
                name: g.name,
                agents: g.agents,
                agent_ids: g.agent_ids,
                queues: g.queues,
                queue_ids: g.queue_ids,
                required: on_duty.iter().map(|&n| with_shrinkage(n)).collect(),
                agent_hours: on_duty.iter().map(|&n| f64::from(n) * hours).sum(),
                on_duty: on_duty.clone(),
            })
            .collect();
        let queues = shown
            .into_iter()
            .map(|(id, queue, name, channels, offered)| {
                let outcome = &staffed.queues[id.0 as usize - 1];
                // As the search judges: a contact a day on average, simulated.
                let judged = |i: usize| outcome.offered[i] >= 1.0;
                let met = outcome
                    .service_level
                    .iter()
                    .enumerate()
                    .all(|(i, sl)| !judged(i) || sl.is_some_and(|sl| sl >= outcome.sl_target - 1e-12));
                QueueStaffing {
                    queue,
                    name,
                    sl_target: outcome.sl_target,
                    sl_seconds: outcome.sl_seconds,
                    channels,
                    offered,
                    service_level: outcome.service_level.clone(),
                    service_level_total: outcome.service_level_total,
                    met,
                }
            })
            .collect();
        Ok(SimulatedStaffing {
            day: self.day,
            time_zone: zone.name().to_string(),
            interval_minutes: self.grid.minutes(),
            seeds: r.seeds,
            shrinkage: r.shrinkage,
            intervals: (0..base.intervals)
                .map(|i| {
                    let at = start.0 + i as i64 * self.grid.interval_millis();
                    IntervalView { start: at, start_local: local_label(zone, at) }
                })
                .collect(),
            agent_hours: staffed.agent_hours,
            paid_hours: groups.iter().map(|g| g.required.iter().map(|&n| f64::from(n) * hours).sum::<f64>()).sum(),
            groups,
            queues,
            erlang_agent_hours: staffed.erlang_agent_hours,
            evaluations: staffed.evaluations,
            complete: staffed.complete,
            budget_seconds: r.budget.as_secs_f64(),
            problems,
        })
    }

    /// The active agents serving some queue, in groups of those configured
    /// alike, each named by its queues.
    fn groups(&self, sim: &SimConfig) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        for a in &self.replica.agents {
            let Some(name) = self.names.get(&UserId(a.id.0)) else { continue };
            let config = AgentConfig { id: AgentId(0), ..sim.agent(a) };
            if config.memberships.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|g| g.template.config == config) {
                Some(g) => {
                    g.agents.push(name.clone());
                    g.agent_ids.push(UserId(a.id.0));
                }
                None => {
                    let queues: Vec<String> =
                        config.memberships.iter().map(|m| sim.queues[m.queue.0 as usize - 1].name.clone()).collect();
                    let mut label = queues.join(" + ");
                    let alike = groups.iter().filter(|g| g.queues == queues).count();
                    if alike > 0 {
                        label = format!("{label} ({})", alike + 1);
                    }
                    let queue_ids =
                        config.memberships.iter().map(|m| sim.workspace_queue(m.queue.0 as usize - 1)).collect();
                    let template = SimAgentSpec { config, shift: None, away: Vec::new(), answer: Duration::ZERO };
                    groups.push(Group {
                        name: label,
                        agents: vec![name.clone()],
                        agent_ids: vec![UserId(a.id.0)],
                        queues,
                        queue_ids,
                        template,
                    });
                }
            }
        }
        groups
    }
}

struct Group {
    name: String,
    agents: Vec<String>,
    agent_ids: Vec<UserId>,
    queues: Vec<String>,
    queue_ids: Vec<QueueId>,
    template: SimAgentSpec,
}

/// The queue's channels as its history splits them (those it still
/// serves), each with its handle time: the channel's own from history,
/// else the forecast's mean, else the queue's expected handle time. A
/// queue with no channel in its history takes its first channel.
fn streams_of(mix: &[ChannelShare], serves: ChannelSet, settings: &QueueSettings, f: &Forecast) -> Vec<ChannelView> {
    let served: Vec<&ChannelShare> = mix.iter().filter(|c| serves.contains(c.channel)).collect();
    let total: f64 = served.iter().map(|c| c.share).sum();
    let (n, handle) = f
        .intervals
        .iter()
        .filter_map(|i| i.aht_seconds.map(|a| (i.offered, i.offered * a)))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let fallback = if n > 0.0 { handle / n } else { settings.expected_handle_seconds }.max(1.0);
    if total <= 0.0 {
        let channel = settings.channels.first().copied().unwrap_or(Channel::Api);
        return vec![ChannelView { channel, share: 1.0, aht_seconds: fallback }];
    }
    served
        .into_iter()
        .map(|c| ChannelView {
            channel: c.channel,
            share: c.share / total,
            aht_seconds: c.aht_seconds.unwrap_or(fallback).max(1.0),
        })
        .collect()
}
