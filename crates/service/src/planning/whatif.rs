//! What if a past day had been staffed differently? The day's real
//! contacts — when each arrived, in which queue and channel, how long it
//! was handled (talk and wrap-up), how long a customer who gave up had
//! waited — are replayed through the production routing engine on the
//! simulator, with the workspace's queues, policies and agents as they are
//! configured now, and each agent logged in and away when they really
//! were. Then the staffing is changed per queue and the day replayed
//! again. Both are shown next to what really happened (the day's report).
//!
//! What the log cannot say is modelled:
//! - the patience of a customer who was answered: at least what they
//!   waited, then exponential with the mean the day's abandons give per
//!   queue and channel (total time in line / abandons, the estimate that
//!   counts answered customers as censored); with no abandons, for ever;
//! - the handle time of a customer who gave up: that of the nearest
//!   answered contact of the same queue and channel.
//!
//! Wrap-up is replayed as part of the handling (the recorded time, not the
//! queue's setting); a transferred contact is replayed as one handling in
//! its first queue.

use super::simulation::{SimConfig, number_agents};
use crate::auth::Principal;
use crate::center::Replica;
use crate::reports::intervals::local_day;
use crate::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest, intervals::Interval};
use crate::{Service, ServiceError, require};
use chrono::{NaiveDate, Offset, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use switchboard_core::agent::{AgentConfig, AgentState, Membership};
use switchboard_core::channel::Channel;
use switchboard_core::events::{CancelReason, Event, EventKind};
use switchboard_core::ids::{AgentId, ContactId, PolicyId, QueueId, UserId};
use switchboard_core::metrics::{DEFAULT_SHORT_ABANDON, Summary};
use switchboard_core::queue::{OrderingKind, QueueConfig};
use switchboard_core::sim::dist::Dist;
use switchboard_core::sim::scenario::SimAgentSpec;
use switchboard_core::sim::{self, Compiled, Replayed};
use switchboard_core::skills::{Proficiency, SkillRegistry};
use switchboard_core::time::Timestamp;
use switchboard_store::Role;

/// How long after the day the replay may go on to finish its contacts.
const DRAIN: Duration = Duration::from_secs(6 * 3600);
const INTERVAL: Duration = Duration::from_secs(30 * 60);
/// Agents a change may add or leave in a queue.
const MOST_AGENTS: u32 = 500;

/// A change of a queue's staffing: `+2`, `-1` or `6` agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AgentChange {
    Add(u32),
    Remove(u32),
    Exactly(u32),
}

impl std::str::FromStr for AgentChange {
    type Err = ServiceError;

    fn from_str(s: &str) -> Result<AgentChange, ServiceError> {
        let s = s.trim();
        let number = |t: &str| {
            t.parse::<u32>()
                .ok()
                .filter(|n| *n <= MOST_AGENTS)
                .ok_or_else(|| ServiceError::invalid("change", format!("+N, -N or N agents, N up to {MOST_AGENTS}")))
        };
        Ok(match (s.strip_prefix('+'), s.strip_prefix('-')) {
            (Some(n), _) => AgentChange::Add(number(n)?),
            (_, Some(n)) => AgentChange::Remove(number(n)?),
            _ => AgentChange::Exactly(number(s)?),
        })
    }
}

impl TryFrom<String> for AgentChange {
    type Error = ServiceError;

    fn try_from(s: String) -> Result<AgentChange, ServiceError> {
        s.parse()
    }
}

impl From<AgentChange> for String {
    fn from(c: AgentChange) -> String {
        match c {
            AgentChange::Add(n) => format!("+{n}"),
            AgentChange::Remove(n) => format!("-{n}"),
            AgentChange::Exactly(n) => n.to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffingChange {
    pub queue: QueueId,
    pub change: AgentChange,
}

/// A named agent serving other queues, or with other skills, in the
/// what-if: "what if Bob also served Billing".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentMove {
    pub agent: UserId,
    /// Queues the agent also serves (priority 1, no delay).
    #[serde(default)]
    pub join: Vec<QueueId>,
    /// Queues the agent no longer serves.
    #[serde(default)]
    pub leave: Vec<QueueId>,
    /// Skills given (a level, or `true`) or taken away (`false`, 0).
    #[serde(default)]
    pub skills: BTreeMap<String, Proficiency>,
}

/// A queue routed otherwise in the what-if: another of the workspace's
/// routing policies, or another agent ordering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingChange {
    pub queue: QueueId,
    #[serde(default)]
    pub policy: Option<PolicyId>,
    #[serde(default)]
    pub ordering: Option<OrderingKind>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatIfRequest {
    /// A past local day of the workspace.
    pub day: NaiveDate,
    #[serde(default)]
    pub agents: Vec<StaffingChange>,
    /// Applied before `agents`: an agent added to a queue copies its first
    /// agent as moved.
    #[serde(default)]
    pub moves: Vec<AgentMove>,
    #[serde(default)]
    pub routing: Vec<RoutingChange>,
    /// Replays of each staffing, averaged (only patience and the engine's
    /// ties are random).
    #[serde(default = "default_seeds")]
    pub seeds: u32,
}

fn default_seeds() -> u32 {
    3
}

/// One queue's day three ways.
#[derive(Debug, Serialize)]
pub struct WhatIfQueue {
    pub queue: QueueId,
    pub name: String,
    /// Agents serving the queue who were logged in that day, and in the
    /// what-if.
    pub agents: u32,
    pub agents_what_if: u32,
    /// From the day's report.
    pub actual: Outcome,
    /// Replayed with the real staffing: how close the replay comes.
    pub replayed: Outcome,
    pub what_if: Outcome,
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Outcome {
    pub offered: f64,
    pub handled: f64,
    pub abandoned: f64,
    pub service_level: Option<f64>,
    pub asa_seconds: Option<f64>,
    pub aht_seconds: Option<f64>,
    pub abandonment_rate: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct WhatIf {
    pub day: NaiveDate,
    pub time_zone: String,
    pub seeds: u32,
    /// Contacts replayed.
    pub contacts: usize,
    pub queues: Vec<WhatIfQueue>,
}

/// A contact of the day as the log tells it.
#[derive(Clone, Debug)]
struct Traced {
    at: i64,
    queue: QueueId,
    channel: Channel,
    /// Waited until answered, or until the customer left.
    waited: Option<Duration>,
    left: bool,
    accepted: Option<i64>,
    ended: Option<i64>,
    handle_ms: i64,
    handled: bool,
}

/// An agent's day: logged in from `on` to `off`, away in between.
#[derive(Clone, Debug)]
struct Attendance {
    on: i64,
    off: Option<i64>,
    away: Vec<(i64, i64)>,
}

impl Attendance {
    fn logged_ms(&self, day_end: i64) -> i64 {
        let off = self.off.unwrap_or(day_end);
        off - self.on - self.away.iter().map(|(a, b)| b - a).sum::<i64>()
    }
}

impl Service {
    /// Replays a past day with changed staffing (supervisors and admins).
    pub async fn what_if(&self, p: &Principal, r: &WhatIfRequest) -> Result<WhatIf, ServiceError> {
        require(p, Role::Supervisor)?;
        if !(1..=20).contains(&r.seeds) {
            return Err(ServiceError::invalid("seeds", "from 1 to 20"));
        }
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let noon = zone
            .from_local_datetime(&r.day.and_hms_opt(12, 0, 0).expect("noon exists"))
            .earliest()
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| ServiceError::invalid("day", "not a day of the workspace's time zone"))?;
        let (day_start, day_end) = local_day(zone, noon);
        if day_end > local_day(zone, self.now().0).0 {
            return Err(ServiceError::invalid("day", "must be a day before today"));
        }
        let replica = self.inspect(ws, |c| c.replica()).await?.map_err(ServiceError::Unsupported)?;
        let names: HashMap<QueueId, String> =
            self.store().queues(ws).await?.into_iter().map(|q| (q.id, q.name)).collect();
        let queue_named = |q: &QueueId| {
            if names.contains_key(q) { Ok(()) } else { Err(ServiceError::NotFound(format!("queue {}", q.0))) }
        };
        for c in &r.agents {
            queue_named(&c.queue)?;
        }
        for c in &r.routing {
            queue_named(&c.queue)?;
            if let Some(policy) = c.policy
                && !replica.policies.iter().any(|p| p.id == policy)
            {
                return Err(ServiceError::NotFound(format!("policy {}", policy.0)));
            }
        }
        let skills: Vec<String> = self.store().skills(ws).await?.into_iter().map(|s| s.name).collect();
        for m in &r.moves {
            if !replica.agents.iter().any(|a| a.id.0 == m.agent.0) {
                return Err(ServiceError::NotFound(format!("agent {}", m.agent.0)));
            }
            m.join.iter().chain(&m.leave).try_for_each(queue_named)?;
            if let Some(unknown) = m.skills.keys().find(|k| !skills.contains(k)) {
                return Err(ServiceError::NotFound(format!("skill '{unknown}'")));
            }
        }
        let (contacts, attendance) = self.trace(ws, day_start, day_end).await?;
        if let Some(m) = r.moves.iter().find(|m| !attendance.contains_key(&m.agent)) {
            return Err(ServiceError::invalid(
                "moves",
                format!("agent {} was not logged in on {}: moving them changes nothing", m.agent.0, r.day),
            ));
        }
        if contacts.is_empty() {
            return Err(ServiceError::invalid("day", format!("no contacts were queued on {}", r.day)));
        }
        let report = self
            .report(
                p,
                &ReportRequest {
                    from: Bound::Date(r.day),
                    to: Bound::Date(r.day.succ_opt().unwrap_or(r.day)),
                    interval: Interval::Day,
                    dimension: Dimension::Queues,
                    short_abandon: DEFAULT_SHORT_ABANDON,
                    fcr_window: DEFAULT_FCR_WINDOW,
                },
            )
            .await?;
        let offset = zone.offset_from_utc_datetime(&Timestamp(day_start).to_utc().naive_utc()).fix();
        let day = Day { start: day_start, end: day_end, offset_minutes: offset.local_minus_utc() / 60 };
        let request = r.clone();
        let replayed = contacts.len();
        let runs = tokio::task::spawn_blocking(move || replay(&replica, &day, &contacts, &attendance, &request))
            .await
            .map_err(|e| ServiceError::Unsupported(format!("the replay failed: {e}")))??;
        let queues = runs
            .into_iter()
            .map(|run| {
                let actual = report
                    .rows
                    .iter()
                    .find(|row| row.id == serde_json::json!(run.queue))
                    .map(|row| Outcome {
                        offered: row.offered as f64,
                        handled: row.handled as f64,
                        abandoned: row.abandoned as f64,
                        service_level: row.service_level,
                        asa_seconds: row.asa_seconds,
                        aht_seconds: row.aht_seconds,
                        abandonment_rate: row.abandonment_rate,
                    })
                    .unwrap_or_default();
                WhatIfQueue {
                    name: names.get(&run.queue).cloned().unwrap_or_default(),
                    queue: run.queue,
                    agents: run.agents,
                    agents_what_if: run.agents_what_if,
                    actual,
                    replayed: run.replayed,
                    what_if: run.what_if,
                }
            })
            .collect();
        Ok(WhatIf { day: r.day, time_zone: zone.name().to_string(), seeds: r.seeds, contacts: replayed, queues })
    }

    /// The day's contacts (those first queued in it) and each agent's
    /// attendance, from the whole log: the log is in commit order, not in
    /// time order, so every page is looked at.
    async fn trace(
        &self,
        ws: switchboard_core::ids::WorkspaceId,
        day_start: i64,
        day_end: i64,
    ) -> Result<(Vec<Traced>, BTreeMap<UserId, Attendance>), ServiceError> {
        let mut contacts: HashMap<ContactId, Traced> = HashMap::new();
        // Each agent's last state before the day, and their changes in it.
        let mut before: HashMap<UserId, (i64, u64, AgentState)> = HashMap::new();
        let mut changes: Vec<(UserId, i64, u64, AgentState)> = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store().events(ws, after, crate::reports::PAGE).await?;
            for e in &page {
                after = e.id;
                let at = e.at.0;
                if at >= day_end + DRAIN.as_millis() as i64 {
                    continue;
                }
                let Ok(ev) = serde_json::from_value::<Event>(e.payload.clone()) else { continue };
                if let EventKind::AgentStateChanged { agent, to, .. } = ev.kind {
                    let agent = UserId(agent.0);
                    if at < day_start {
                        let last = before.entry(agent).or_insert((at, e.id, to));
                        if (at, e.id) >= (last.0, last.1) {
                            *last = (at, e.id, to);
                        }
                    } else if at < day_end {
                        changes.push((agent, at, e.id, to));
                    }
                    continue;
                }
                if at < day_start {
                    continue;
                }
                let Some(contact) = e.contact else { continue };
                trace_contact(&mut contacts, contact, &ev.kind, at, day_end);
            }
            if page.len() < crate::reports::PAGE as usize {
                break;
            }
        }
        let mut contacts: Vec<Traced> = contacts.into_values().collect();
        contacts.sort_by_key(|c| c.at);
        changes.sort_by_key(|&(agent, at, id, _)| (agent, at, id));
        let mut attendance = BTreeMap::new();
        let agents: std::collections::BTreeSet<UserId> =
            before.keys().copied().chain(changes.iter().map(|c| c.0)).collect();
        for agent in agents {
            let start = before.get(&agent).map_or(AgentState::Offline, |b| b.2);
            let day: Vec<(i64, AgentState)> =
                changes.iter().filter(|c| c.0 == agent).map(|&(_, at, _, to)| (at, to)).collect();
            if let Some(a) = attend(day_start, start, &day) {
                attendance.insert(agent, a);
            }
        }
        Ok((contacts, attendance))
    }
}

/// Folds one event of a contact into what is known of it. Only contacts
/// first queued before `day_end` are kept.
fn trace_contact(contacts: &mut HashMap<ContactId, Traced>, id: ContactId, kind: &EventKind, at: i64, day_end: i64) {
    if let EventKind::ContactQueued { queue, channel, .. } = kind {
        if !contacts.contains_key(&id) && at < day_end {
            let traced = Traced {
                at,
                queue: *queue,
                channel: *channel,
                waited: None,
                left: false,
                accepted: None,
                ended: None,
                handle_ms: 0,
                handled: false,
            };
            contacts.insert(id, traced);
        }
        return;
    }
    let Some(c) = contacts.get_mut(&id) else { return };
    match kind {
        EventKind::OfferAccepted { waited, .. } => {
            c.waited = c.waited.or(Some(*waited));
            c.accepted = Some(at);
            c.handled = true;
        }
        EventKind::ContactEnded { .. } | EventKind::ContactTransferred { .. } => {
            if let Some(accepted) = c.accepted.take() {
                c.handle_ms += (at - accepted).max(0);
                c.ended = Some(at);
            }
        }
        EventKind::WrapUpEnded { .. } => {
            if let Some(ended) = c.ended.take() {
                c.handle_ms += (at - ended).max(0);
            }
        }
        EventKind::ContactLeft { waited, reason, .. } if !c.handled => {
            c.waited = Some(*waited);
            c.left = *reason == CancelReason::Abandoned;
        }
        _ => {}
    }
}

/// An agent's attendance from their state at the day's start and their
/// changes in it; `None` if they never logged in.
fn attend(day_start: i64, start: AgentState, day: &[(i64, AgentState)]) -> Option<Attendance> {
    let mut state = start;
    let mut since = day_start;
    let mut on = (start != AgentState::Offline).then_some(day_start);
    let mut off = None;
    let mut away = Vec::new();
    for &(at, to) in day {
        let resting = |s: AgentState| matches!(s, AgentState::Away | AgentState::Offline);
        if on.is_some() && resting(state) && !resting(to) && at > since {
            away.push((since, at));
        }
        if on.is_none() && to != AgentState::Offline {
            on = Some(at);
        }
        if resting(to) && !resting(state) {
            since = at;
        }
        off = (to == AgentState::Offline).then_some(at);
        state = to;
    }
    let on = on?;
    // Away spans are within the attendance; the last logout ends it.
    Some(Attendance { on, off: if state == AgentState::Offline { off } else { None }, away })
}

struct Day {
    start: i64,
    end: i64,
    offset_minutes: i32,
}

struct QueueRun {
    queue: QueueId,
    agents: u32,
    agents_what_if: u32,
    replayed: Outcome,
    what_if: Outcome,
}

/// Replays the day as staffed and as changed, `seeds` times each.
fn replay(
    replica: &Replica,
    day: &Day,
    contacts: &[Traced],
    attendance: &BTreeMap<UserId, Attendance>,
    r: &WhatIfRequest,
) -> Result<Vec<QueueRun>, ServiceError> {
    let sim = SimConfig::new(replica);
    let renumber = |q: QueueId| sim.queue(q);
    let staffed: Vec<(AgentConfig, &Attendance)> =
        replica.agents.iter().filter_map(|a| attendance.get(&UserId(a.id.0)).map(|t| (sim.agent(a), t))).collect();
    let base = Compiled {
        replay: replayed_contacts(contacts, &renumber),
        ..sim.run(day.start, day.end, day.offset_minutes, INTERVAL, DRAIN)
    };
    let as_staffed: Vec<SimAgentSpec> = staffed.iter().map(|(a, t)| on_duty(a, t, day)).collect();
    let mut skills = replica.skills.clone();
    let moved: Vec<(AgentConfig, &Attendance)> =
        staffed.iter().map(|(a, t)| (apply_moves(a, &r.moves, &sim, &mut skills), *t)).collect();
    let changed = change(&moved, &r.agents, &renumber, day, &base)?;
    let rerouted = Compiled { queues: reroute(&base.queues, &r.routing, &sim), ..base.clone() };
    let serving = |agents: &[SimAgentSpec], q: QueueId| {
        agents.iter().filter(|a| a.config.memberships.iter().any(|m| m.queue == q)).count() as u32
    };
    let runs = |base: &Compiled, agents: Vec<SimAgentSpec>| -> Result<Vec<sim::SimReport>, ServiceError> {
        (1..=u64::from(r.seeds))
            .map(|seed| {
                let mut c = Compiled { seed, agents: agents.clone(), ..base.clone() };
                number_agents(&mut c);
                sim::run(&c, &mut |_| {}).map_err(|e| ServiceError::invalid("day", format!("the replay failed: {e}")))
            })
            .collect()
    };
    let before = runs(&base, as_staffed.clone())?;
    let after = runs(&rerouted, changed.clone())?;
    Ok(replica
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| QueueRun {
            queue: q.id,
            agents: serving(&as_staffed, QueueId(i as u64 + 1)),
            agents_what_if: serving(&changed, QueueId(i as u64 + 1)),
            replayed: mean(before.iter().map(|r| &r.queues[i].total.summary)),
            what_if: mean(after.iter().map(|r| &r.queues[i].total.summary)),
        })
        .collect())
}

/// An agent as the moves leave them: queues joined and left, skills given
/// and taken (interned in `skills`, the replica's registry: a skill no
/// policy names gets a new id no step reads).
fn apply_moves(a: &AgentConfig, moves: &[AgentMove], sim: &SimConfig, skills: &mut SkillRegistry) -> AgentConfig {
    let mut a = a.clone();
    for m in moves.iter().filter(|m| m.agent.0 == a.id.0) {
        let leave: Vec<QueueId> = m.leave.iter().filter_map(|q| sim.queue(*q)).collect();
        a.memberships.retain(|x| !leave.contains(&x.queue));
        for q in m.join.iter().filter_map(|q| sim.queue(*q)) {
            if !a.memberships.iter().any(|x| x.queue == q) {
                a.memberships.push(Membership::new(q));
            }
        }
        for (name, p) in &m.skills {
            a.skills.set(skills.intern(name), p.level());
        }
    }
    a
}

/// The queues routed as changed: another policy or agent ordering.
fn reroute(queues: &[QueueConfig], routing: &[RoutingChange], sim: &SimConfig) -> Vec<QueueConfig> {
    let mut queues = queues.to_vec();
    for c in routing {
        let Some(q) = sim.queue(c.queue) else { continue };
        let queue = &mut queues[q.0 as usize - 1];
        queue.policy = c.policy.unwrap_or(queue.policy);
        queue.ordering = c.ordering.unwrap_or(queue.ordering);
    }
    queues
}

/// The day's contacts for the simulator: handle times and patience as the
/// module's comment says.
fn replayed_contacts(contacts: &[Traced], renumber: &impl Fn(QueueId) -> Option<QueueId>) -> Vec<Replayed> {
    // Mean patience per queue and channel: time in line / abandons.
    let mut line: HashMap<(QueueId, Channel), (f64, u32)> = HashMap::new();
    for c in contacts {
        let e = line.entry((c.queue, c.channel)).or_default();
        e.0 += c.waited.map_or(0.0, |w| w.as_secs_f64());
        e.1 += u32::from(c.left);
    }
    let handled: Vec<&Traced> = contacts.iter().filter(|c| c.handled).collect();
    contacts
        .iter()
        .filter_map(|c| {
            let queue = renumber(c.queue)?;
            let handle_ms = if c.handled {
                c.handle_ms
            } else {
                handled
                    .iter()
                    .filter(|h| h.queue == c.queue && h.channel == c.channel)
                    .min_by_key(|h| (h.at - c.at).abs())
                    .map_or(0, |h| h.handle_ms)
            };
            let (total, abandons) = line.get(&(c.queue, c.channel)).copied().unwrap_or_default();
            let more =
                (abandons > 0 && total > 0.0).then(|| Dist::Exponential { mean_seconds: total / f64::from(abandons) });
            let (patience, more_patience) = match (c.left, c.handled) {
                (true, _) => (c.waited, None),
                (false, true) => (more.map(|_| c.waited.unwrap_or_default()), more),
                // Neither answered nor given up (overflowed, still waiting):
                // as patient as the queue's customers are.
                (false, false) => (more.map(|_| Duration::ZERO), more),
            };
            Some(Replayed {
                at: Timestamp(c.at),
                queue,
                channel: c.channel,
                handle: Duration::from_millis(handle_ms.max(0) as u64),
                patience,
                more_patience,
            })
        })
        .collect()
}

/// An agent logged in and away as they were.
fn on_duty(config: &AgentConfig, t: &Attendance, day: &Day) -> SimAgentSpec {
    SimAgentSpec {
        config: config.clone(),
        shift: Some((Timestamp(t.on), Timestamp(t.off.unwrap_or(day.end + DRAIN.as_millis() as i64)))),
        away: t.away.iter().map(|&(a, b)| (Timestamp(a), Timestamp(b))).collect(),
        answer: Duration::ZERO,
    }
}

/// The real staffing with each queue's change applied in turn: agents
/// added serve only that queue (with the skills of its first agent, so
/// that its steps pass them) from the first login to the last logout of
/// its agents that day; agents removed are those of the queue logged in
/// the least.
fn change(
    staffed: &[(AgentConfig, &Attendance)],
    changes: &[StaffingChange],
    renumber: &impl Fn(QueueId) -> Option<QueueId>,
    day: &Day,
    base: &Compiled,
) -> Result<Vec<SimAgentSpec>, ServiceError> {
    let mut agents: Vec<(SimAgentSpec, i64)> =
        staffed.iter().map(|(a, t)| (on_duty(a, t, day), t.logged_ms(day.end))).collect();
    for c in changes {
        let q = renumber(c.queue).ok_or_else(|| ServiceError::NotFound(format!("queue {}", c.queue.0)))?;
        let serves = |a: &SimAgentSpec| a.config.memberships.iter().any(|m| m.queue == q);
        let now = agents.iter().filter(|(a, _)| serves(a)).count() as u32;
        let (add, remove) = match c.change {
            AgentChange::Add(n) => (n, 0),
            AgentChange::Remove(n) => (0, n.min(now)),
            AgentChange::Exactly(n) => (n.saturating_sub(now), now.saturating_sub(n)),
        };
        for _ in 0..remove {
            let least = agents
                .iter()
                .enumerate()
                .filter(|(_, (a, _))| serves(a))
                .min_by_key(|(i, (_, ms))| (*ms, std::cmp::Reverse(*i)))
                .map(|(i, _)| i);
            if let Some(i) = least {
                agents.remove(i);
            }
        }
        if add == 0 {
            continue;
        }
        let template = agents.iter().map(|(a, _)| a).find(|a| serves(a));
        let mut config = template.map_or_else(|| AgentConfig::new(AgentId(0)), |a| a.config.clone());
        let membership = config.memberships.iter().find(|m| m.queue == q).cloned();
        config.memberships = vec![membership.unwrap_or_else(|| Membership::new(q))];
        let shifts: Vec<(Timestamp, Timestamp)> =
            agents.iter().filter(|(a, _)| serves(a)).filter_map(|(a, _)| a.shift).collect();
        let first = base.replay.iter().find(|r| r.queue == q).map_or(base.start, |r| r.at);
        let shift = (
            shifts.iter().map(|s| s.0).min().unwrap_or(first),
            shifts.iter().map(|s| s.1).max().unwrap_or(base.drain_end),
        );
        for _ in 0..add {
            let spec =
                SimAgentSpec { config: config.clone(), shift: Some(shift), away: Vec::new(), answer: Duration::ZERO };
            agents.push((spec, 0));
        }
    }
    Ok(agents.into_iter().map(|(a, _)| a).collect())
}

/// The mean of the seeds' figures.
fn mean<'a>(runs: impl Iterator<Item = &'a Summary>) -> Outcome {
    let runs: Vec<&Summary> = runs.collect();
    let n = runs.len().max(1) as f64;
    let avg = |f: fn(&Summary) -> Option<f64>| {
        let known: Vec<f64> = runs.iter().copied().filter_map(f).collect();
        (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
    };
    Outcome {
        offered: runs.iter().map(|s| s.offered as f64).sum::<f64>() / n,
        handled: runs.iter().map(|s| s.handled as f64).sum::<f64>() / n,
        abandoned: runs.iter().map(|s| s.abandoned as f64).sum::<f64>() / n,
        service_level: avg(|s| s.service_level),
        asa_seconds: avg(|s| s.asa_seconds),
        aht_seconds: avg(|s| s.aht_seconds),
        abandonment_rate: avg(|s| s.abandonment_rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_added_removed_or_exact() {
        assert_eq!("+2".parse::<AgentChange>().unwrap(), AgentChange::Add(2));
        assert_eq!(" -1 ".parse::<AgentChange>().unwrap(), AgentChange::Remove(1));
        assert_eq!("6".parse::<AgentChange>().unwrap(), AgentChange::Exactly(6));
        assert!("two".parse::<AgentChange>().is_err());
        assert!("+100000".parse::<AgentChange>().is_err());
    }

    #[test]
    fn attendance_is_from_the_first_login_to_the_last_logout_with_breaks_away() {
        use AgentState::*;
        let day = [(100, Available), (150, OnContact), (200, Away), (260, Available), (300, Offline), (400, Available)];
        let a = attend(0, Offline, &day).unwrap();
        assert_eq!((a.on, a.off), (100, None));
        assert_eq!(a.away, vec![(200, 260), (300, 400)]);
        let b = attend(0, Available, &[(500, Offline)]).unwrap();
        assert_eq!((b.on, b.off, b.away.len()), (0, Some(500), 0));
        assert!(attend(0, Offline, &[]).is_none());
    }
}
