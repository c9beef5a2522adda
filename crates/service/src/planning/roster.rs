//! Rosters: the shifts of a week's schedules given to named agents.
//!
//! A draft takes each queue's schedule (the counts of agents per template
//! and start that cover its forecast) and hands every shift to an agent who
//! serves the queue, within the agent's work rules: at most one shift a
//! local day, a weekly cap on paid hours, a most number of days a week, a
//! rest between shifts, and days off. Publishing stores the week's shifts
//! in one commit with an audit entry; supervisors then move, add or remove
//! single shifts, each checked by the same rules. Agents read their own.
//!
//! The assignment is greedy and deterministic: shifts in order of start
//! (then queue, then template), each to the eligible agent serving the
//! fewest queues (specialists first, so that agents who can cover several
//! queues are left for where only they can), then with the fewest hours so
//! far (fairness), then the lowest id. It looks no further ahead than the
//! shift in hand, so it may leave a shift open that a search would fill
//! by giving an earlier one to someone else; open shifts are listed.

use super::simulated::{self, GroupStaffing, SimulatedRequest};
use super::{Depth, PlanningRequest, SCHEDULE_BUDGET, ShiftTemplate, instant, local_time};
use crate::auth::Principal;
use crate::documents::DocumentBody;
use crate::kinds::Kind;
use crate::reports::intervals::{day_start, local_date};
use crate::{Service, ServiceError, audit, require};
use chrono::{Datelike, Duration as Days, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use switchboard_core::forecast::Grid;
use switchboard_core::ids::{QueueId, UserId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_planning::schedule;
use switchboard_store::{Change, NewEvent, Role, RosterShift, ShiftBreak, UserState};

const HOUR_MS: i64 = 3_600_000;
/// The template name of a shift a supervisor entered by hand.
const MANUAL: &str = "manual";
/// Work rules of an agent without a `work_rules` document.
const DEFAULT_WEEKLY_HOURS: f64 = 40.0;
const DEFAULT_MAX_DAYS: u8 = 5;
/// The EU working-time directive's daily rest.
const DEFAULT_REST_HOURS: f64 = 11.0;

/// An agent's work rules, a document of the workspace
/// (`/api/v1/planning/work-rules`), one per agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkRules {
    pub agent: UserId,
    /// Paid hours a week (Monday to Sunday, local), at most.
    #[serde(default = "default_weekly_hours")]
    pub max_weekly_hours: f64,
    /// Days with a shift in a week, at most.
    #[serde(default = "default_max_days")]
    pub max_days: u8,
    /// Hours between the end of a shift and the start of the next, at least.
    #[serde(default = "default_rest_hours")]
    pub min_rest_hours: f64,
    /// Weekdays the agent never works, e.g. `["Sat", "Sun"]`.
    #[serde(default)]
    pub days_off: Vec<Weekday>,
    /// Single days off (holidays, leave), local dates.
    #[serde(default)]
    pub dates_off: Vec<NaiveDate>,
}

fn default_weekly_hours() -> f64 {
    DEFAULT_WEEKLY_HOURS
}
fn default_max_days() -> u8 {
    DEFAULT_MAX_DAYS
}
fn default_rest_hours() -> f64 {
    DEFAULT_REST_HOURS
}

impl WorkRules {
    fn default_for(agent: UserId) -> WorkRules {
        WorkRules {
            agent,
            max_weekly_hours: DEFAULT_WEEKLY_HOURS,
            max_days: DEFAULT_MAX_DAYS,
            min_rest_hours: DEFAULT_REST_HOURS,
            days_off: Vec::new(),
            dates_off: Vec::new(),
        }
    }
}

impl DocumentBody for WorkRules {
    const KIND: &'static str = "work_rules";
    const PLURAL: &'static str = "work_rules";
    const WRITER: Role = Role::Supervisor;

    fn validate(&mut self) -> Result<(), ServiceError> {
        if !(self.max_weekly_hours.is_finite() && (0.0..=168.0).contains(&self.max_weekly_hours)) {
            return Err(ServiceError::invalid("max_weekly_hours", "from 0 to 168"));
        }
        if self.max_days > 7 {
            return Err(ServiceError::invalid("max_days", "from 0 to 7"));
        }
        if !(self.min_rest_hours.is_finite() && (0.0..=48.0).contains(&self.min_rest_hours)) {
            return Err(ServiceError::invalid("min_rest_hours", "from 0 to 48"));
        }
        if self.dates_off.len() > 366 {
            return Err(ServiceError::invalid("dates_off", "at most 366 dates"));
        }
        self.days_off.sort_by_key(|d| d.num_days_from_monday());
        self.days_off.dedup();
        self.dates_off.sort();
        self.dates_off.dedup();
        Ok(())
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("agent", self.agent.0.to_string()))
    }
}

/// What a draft roster is asked for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterRequest {
    /// Any day of the week to roster (Monday to Sunday, local); days before
    /// today are left as they are.
    pub week: NaiveDate,
    /// The queues to staff; every queue when empty.
    #[serde(default)]
    pub queues: Vec<QueueId>,
    #[serde(default = "default_interval")]
    pub interval_minutes: u32,
    /// Every queue's service-level target; each queue's own when left out.
    #[serde(default)]
    pub sl_target: Option<f64>,
    #[serde(default = "default_shrinkage")]
    pub shrinkage: f64,
    /// The agents per interval the shifts are to cover.
    #[serde(default)]
    pub requirement: Requirement,
    /// Simulated requirement: days simulated per try, 1 to 20.
    #[serde(default = "default_seeds")]
    pub seeds: u32,
    /// Simulated requirement: the search's time for the whole week
    /// (`DRAFT_SEARCH_BUDGET` when left out), at most 10 minutes.
    #[serde(default)]
    pub budget_seconds: Option<f64>,
}

/// Which agents per interval a draft covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Each queue on its own by Erlang C, and shifts cut per queue.
    #[default]
    Erlang,
    /// Every queue together on the simulator (`simulated`), per group of
    /// agents configured alike, and shifts cut per group: an agent who
    /// serves several queues counts for each, so fewer hours are needed.
    Simulated,
}

/// How long a draft from the simulated requirement may search, over its
/// days: the Planning page waits for it.
pub const DRAFT_SEARCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

fn default_seeds() -> u32 {
    2
}

fn default_interval() -> u32 {
    30
}
fn default_shrinkage() -> f64 {
    0.3
}

/// A time in a request: ms since the epoch, or a local time of the
/// workspace (`2026-12-07T08:00`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum When {
    Millis(i64),
    Local(String),
}

impl When {
    fn at(&self, zone: Tz, field: &str) -> Result<Timestamp, ServiceError> {
        match self {
            When::Millis(ms) => Ok(Timestamp(*ms)),
            When::Local(text) => local_time(field, text).map(|l| instant(zone, l)),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakInput {
    pub start: When,
    pub end: When,
    #[serde(default)]
    pub paid: bool,
}

/// A shift as a supervisor gives it (the agent is in the path of an edit).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftInput {
    #[serde(default)]
    pub agent: Option<UserId>,
    pub queue: QueueId,
    #[serde(default)]
    pub template: Option<String>,
    pub start: When,
    pub end: When,
    #[serde(default)]
    pub breaks: Vec<BreakInput>,
}

/// A week's shifts to publish.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    pub week: NaiveDate,
    pub shifts: Vec<ShiftInput>,
}

/// A roster: published (read) or drafted.
#[derive(Debug, Serialize)]
pub struct Roster {
    pub from: NaiveDate,
    pub days: u32,
    pub time_zone: String,
    pub agents: Vec<RosterAgent>,
    pub shifts: Vec<ShiftView>,
    /// Draft only: shifts no agent could take.
    pub open: usize,
    /// Draft only: queues that could not be planned, and why.
    pub problems: Vec<String>,
    /// Paid hours of the shifts (a draft's open ones included).
    pub paid_hours: f64,
    /// Draft only: the requirement the shifts cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
    /// Draft only: per interval of the days drafted, the agents required
    /// and those the shifts put to work.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<Coverage>,
}

/// One interval of a draft: agents to schedule (with shrinkage) against the
/// shifts at work then (not on a break).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Coverage {
    pub start: i64,
    pub start_local: String,
    pub required: u32,
    /// Every drafted shift, open ones too.
    pub scheduled: u32,
    /// The shifts given to agents.
    pub assigned: u32,
}

#[derive(Debug, Serialize)]
pub struct RosterAgent {
    pub id: UserId,
    pub name: String,
    pub queues: Vec<QueueId>,
    /// Paid hours in the roster's days.
    pub hours: f64,
    pub rules: WorkRules,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShiftView {
    /// `None` for an open shift of a draft.
    pub agent: Option<UserId>,
    pub day: NaiveDate,
    pub queue: QueueId,
    pub queue_name: String,
    pub template: String,
    pub start: i64,
    pub end: i64,
    /// Local times of the workspace, `2026-12-07T08:00`.
    pub start_local: String,
    pub end_local: String,
    pub breaks: Vec<BreakView>,
    pub paid_hours: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BreakView {
    pub start: i64,
    pub end: i64,
    pub start_local: String,
    pub end_local: String,
    pub paid: bool,
}

/// A shift being planned or checked.
#[derive(Clone, Debug)]
struct Planned {
    day: NaiveDate,
    queue: QueueId,
    template: String,
    start: Timestamp,
    end: Timestamp,
    breaks: Vec<ShiftBreak>,
}

impl Planned {
    fn paid_hours(&self) -> f64 {
        let unpaid: i64 = self.breaks.iter().filter(|b| !b.paid).map(|b| b.end.0 - b.start.0).sum();
        (self.end.0 - self.start.0 - unpaid) as f64 / HOUR_MS as f64
    }

    fn from_stored(s: &RosterShift) -> Result<Planned, ServiceError> {
        let day = s.day.parse().map_err(|_| ServiceError::Unsupported(format!("stored roster day '{}'", s.day)))?;
        Ok(Planned {
            day,
            queue: s.queue,
            template: s.template.clone(),
            start: s.start,
            end: s.end,
            breaks: s.breaks.clone(),
        })
    }
}

/// A drafted shift, and the agents it may go to: any who serve its queue,
/// or only those of the group it was cut for.
#[derive(Clone, Debug)]
struct Drafted {
    shift: Planned,
    only: Option<std::sync::Arc<[UserId]>>,
}

/// The shifts cut to cover a requirement: agents to schedule per interval
/// start (ms), and what could not be planned.
#[derive(Default)]
struct Cut {
    shifts: Vec<Drafted>,
    required: Vec<(i64, u32)>,
    problems: Vec<String>,
}

/// Per interval of `required`, the shifts at work at its start (a template's
/// breaks lie on the interval grid).
fn coverage(zone: Tz, required: &[(i64, u32)], shifts: &[ShiftView]) -> Vec<Coverage> {
    let at_work =
        |s: &ShiftView, t: i64| s.start <= t && t < s.end && !s.breaks.iter().any(|b| b.start <= t && t < b.end);
    required
        .iter()
        .map(|&(start, required)| {
            let working = shifts.iter().filter(|s| at_work(s, start));
            let (scheduled, assigned) = working.fold((0, 0), |(n, a), s| (n + 1, a + u32::from(s.agent.is_some())));
            Coverage { start, start_local: local_minutes(zone, start), required, scheduled, assigned }
        })
        .collect()
}

/// An agent who may be rostered.
struct Staff {
    id: UserId,
    name: String,
    queues: Vec<QueueId>,
    rules: WorkRules,
}

/// The Monday of `day`'s week.
fn monday(day: NaiveDate) -> NaiveDate {
    day - Days::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Why `shift` breaks `staff`'s rules beside `others` (the agent's other
/// shifts, none on the same day), or `None` when it fits.
fn breaks_rules(staff: &Staff, others: &[Planned], shift: &Planned) -> Option<String> {
    let rules = &staff.rules;
    if !staff.queues.contains(&shift.queue) {
        return Some(format!("{} does not serve queue {}", staff.name, shift.queue.0));
    }
    if rules.days_off.contains(&shift.day.weekday()) || rules.dates_off.contains(&shift.day) {
        return Some(format!("{} is off on {}", staff.name, shift.day));
    }
    if others.iter().any(|o| o.day == shift.day) {
        return Some(format!("{} already has a shift on {}", staff.name, shift.day));
    }
    let week = monday(shift.day);
    let same_week: Vec<&Planned> = others.iter().filter(|o| monday(o.day) == week).collect();
    let hours = same_week.iter().map(|o| o.paid_hours()).sum::<f64>() + shift.paid_hours();
    if hours > rules.max_weekly_hours + 1e-9 {
        return Some(format!(
            "{} would work {hours:.1} h in the week of {week}, over {:.1}",
            staff.name, rules.max_weekly_hours
        ));
    }
    if same_week.len() + 1 > usize::from(rules.max_days) {
        return Some(format!("{} would work more than {} days in the week of {week}", staff.name, rules.max_days));
    }
    let rest = (rules.min_rest_hours * HOUR_MS as f64) as i64;
    if let Some(o) = others.iter().find(|o| shift.start.0 < o.end.0 + rest && o.start.0 < shift.end.0 + rest) {
        return Some(format!(
            "{} needs {:.0} h of rest between the shifts of {} and {}",
            staff.name, rules.min_rest_hours, o.day, shift.day
        ));
    }
    None
}

fn local_minutes(zone: Tz, at: i64) -> String {
    zone.timestamp_millis_opt(at).single().map_or_else(|| at.to_string(), |t| t.format("%Y-%m-%dT%H:%M").to_string())
}

fn view(zone: Tz, agent: Option<UserId>, p: &Planned, queue_names: &HashMap<QueueId, String>) -> ShiftView {
    ShiftView {
        agent,
        day: p.day,
        queue: p.queue,
        queue_name: queue_names.get(&p.queue).cloned().unwrap_or_default(),
        template: p.template.clone(),
        start: p.start.0,
        end: p.end.0,
        start_local: local_minutes(zone, p.start.0),
        end_local: local_minutes(zone, p.end.0),
        breaks: p
            .breaks
            .iter()
            .map(|b| BreakView {
                start: b.start.0,
                end: b.end.0,
                start_local: local_minutes(zone, b.start.0),
                end_local: local_minutes(zone, b.end.0),
                paid: b.paid,
            })
            .collect(),
        paid_hours: p.paid_hours(),
    }
}

/// The shifts of a template started at `start`: its end and breaks.
fn from_template(zone: Tz, queue: QueueId, t: &ShiftTemplate, start: Timestamp) -> Planned {
    let at = |minutes: u32| Timestamp(start.0 + i64::from(minutes) * 60_000);
    Planned {
        day: local_date(zone, start.0),
        queue,
        template: t.name.clone(),
        start,
        end: at(t.length_minutes),
        breaks: t
            .breaks
            .iter()
            .map(|b| ShiftBreak { start: at(b.after_minutes), end: at(b.after_minutes + b.minutes), paid: b.paid })
            .collect(),
    }
}

/// Gives each shift, in order, to an eligible agent (see the module's
/// comment); `taken` holds each agent's shifts already fixed, and a shift
/// cut for a group of agents goes to one of them only. Returns each
/// shift's agent.
fn assign(staff: &[Staff], taken: &mut BTreeMap<UserId, Vec<Planned>>, shifts: &[Drafted]) -> Vec<Option<UserId>> {
    shifts
        .iter()
        .map(|Drafted { shift, only }| {
            let hours = |id: UserId| -> f64 { taken.get(&id).map_or(0.0, |s| s.iter().map(Planned::paid_hours).sum()) };
            let chosen = staff
                .iter()
                .filter(|s| only.as_ref().is_none_or(|o| o.contains(&s.id)))
                .filter(|s| breaks_rules(s, taken.get(&s.id).map_or(&[][..], |v| v), shift).is_none())
                .min_by(|a, b| {
                    a.queues
                        .len()
                        .cmp(&b.queues.len())
                        .then(hours(a.id).total_cmp(&hours(b.id)))
                        .then(a.id.0.cmp(&b.id.0))
                })
                .map(|s| s.id);
            if let Some(id) = chosen {
                taken.entry(id).or_default().push(shift.clone());
            }
            chosen
        })
        .collect()
}

impl Service {
    /// The workspace's agents who may be rostered (active users with an
    /// agent record), with their work rules.
    async fn staff(&self, ws: WorkspaceId) -> Result<Vec<Staff>, ServiceError> {
        let users: HashMap<UserId, (String, UserState)> =
            self.store().users(ws).await?.into_iter().map(|u| (u.id, (u.name, u.state))).collect();
        let mut rules: HashMap<UserId, WorkRules> =
            self.documents::<WorkRules>(ws).await?.into_iter().map(|d| (d.body.agent, d.body)).collect();
        Ok(self
            .store()
            .agents(ws)
            .await?
            .into_iter()
            .filter_map(|a| {
                let (name, state) = users.get(&a.user)?;
                (*state == UserState::Active).then(|| Staff {
                    id: a.user,
                    name: name.clone(),
                    queues: a.memberships.iter().map(|m| m.queue).collect(),
                    rules: rules.remove(&a.user).unwrap_or_else(|| WorkRules::default_for(a.user)),
                })
            })
            .collect())
    }

    async fn queue_names(&self, ws: WorkspaceId) -> Result<HashMap<QueueId, String>, ServiceError> {
        Ok(self.store().queues(ws).await?.into_iter().map(|q| (q.id, q.name)).collect())
    }

    /// Published shifts of local days `[from, to)`, by agent.
    async fn published(
        &self,
        ws: WorkspaceId,
        zone: Tz,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<UserId, Vec<Planned>>, ServiceError> {
        let stored =
            self.store().roster(ws, Timestamp(day_start(zone, from)), Timestamp(day_start(zone, to)), None).await?;
        let mut out: BTreeMap<UserId, Vec<Planned>> = BTreeMap::new();
        for s in &stored {
            out.entry(s.agent).or_default().push(Planned::from_stored(s)?);
        }
        Ok(out)
    }

    /// The published roster of local days `[from, from + days)` (today
    /// and the next 6 by default). Agents see only their own shifts.
    pub async fn roster(
        &self,
        p: &Principal,
        from: Option<NaiveDate>,
        days: u32,
        agent: Option<UserId>,
    ) -> Result<Roster, ServiceError> {
        let agent = if p.at_least(Role::Supervisor) {
            agent
        } else {
            match agent {
                Some(a) if a != p.user => return Err(ServiceError::Forbidden(Role::Supervisor.as_str())),
                _ => Some(p.user),
            }
        };
        if !(1..=62).contains(&days) {
            return Err(ServiceError::invalid("days", "from 1 to 62"));
        }
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let from = from.unwrap_or_else(|| local_date(zone, self.now().0));
        let to = from + Days::days(i64::from(days));
        let stored =
            self.store().roster(ws, Timestamp(day_start(zone, from)), Timestamp(day_start(zone, to)), agent).await?;
        let names = self.queue_names(ws).await?;
        let shifts = stored
            .iter()
            .map(|s| Ok(view(zone, Some(s.agent), &Planned::from_stored(s)?, &names)))
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let staff = self.staff(ws).await?.into_iter().filter(|s| agent.is_none_or(|a| a == s.id));
        Ok(Roster {
            from,
            days,
            time_zone: zone.name().to_string(),
            agents: roster_agents(staff, &shifts),
            paid_hours: shifts.iter().map(|v| v.paid_hours).sum(),
            shifts,
            open: 0,
            problems: Vec::new(),
            requirement: None,
            coverage: Vec::new(),
        })
    }

    /// A draft roster for a week: the shifts that cover the requirement
    /// asked for, given to agents. Nothing is stored.
    pub async fn draft_roster(&self, p: &Principal, r: &RosterRequest) -> Result<Roster, ServiceError> {
        let ws = p.workspace;
        let week = self.week(p, r.week).await?;
        let Week { zone, today, monday, first, end } = week;
        let weeks = u32::try_from((end - today).num_days()).unwrap_or(u32::MAX).div_ceil(7);
        if weeks > 8 {
            return Err(ServiceError::invalid("week", "at most 8 weeks ahead"));
        }
        let names = self.queue_names(ws).await?;
        let queues: Vec<QueueId> = if r.queues.is_empty() {
            let mut all: Vec<QueueId> = names.keys().copied().collect();
            all.sort_by_key(|q| q.0);
            all
        } else {
            if let Some(q) = r.queues.iter().find(|q| !names.contains_key(q)) {
                return Err(ServiceError::NotFound(format!("queue {}", q.0)));
            }
            r.queues.clone()
        };
        let templates: HashMap<String, ShiftTemplate> =
            self.documents::<ShiftTemplate>(ws).await?.into_iter().map(|t| (t.body.name.clone(), t.body)).collect();
        if templates.is_empty() {
            return Err(ServiceError::invalid("shifts", "the workspace has no shift templates"));
        }
        let cut = match r.requirement {
            Requirement::Erlang => self.erlang_cut(p, r, &week, weeks, &queues, &names, &templates).await?,
            Requirement::Simulated => self.simulated_cut(p, r, &week, &queues, &templates).await?,
        };
        let Cut { mut shifts, required, problems } = cut;
        shifts.sort_by(|a, b| {
            let (a, b) = (&a.shift, &b.shift);
            a.start.cmp(&b.start).then(a.queue.0.cmp(&b.queue.0)).then(a.template.cmp(&b.template))
        });
        let staff = self.staff(ws).await?;
        // Shifts already worked or published outside the days drafted count
        // towards the week's hours and the rest before and after.
        let mut taken = self.published(ws, zone, monday - Days::days(1), end + Days::days(1)).await?;
        for list in taken.values_mut() {
            list.retain(|s| s.day < first || s.day >= end);
        }
        let assigned = assign(&staff, &mut taken, &shifts);
        let views: Vec<ShiftView> =
            shifts.iter().zip(&assigned).map(|(d, a)| view(zone, *a, &d.shift, &names)).collect();
        Ok(Roster {
            from: first,
            days: u32::try_from((end - first).num_days()).unwrap_or(7),
            time_zone: zone.name().to_string(),
            agents: roster_agents(staff.into_iter(), &views),
            open: assigned.iter().filter(|a| a.is_none()).count(),
            paid_hours: views.iter().map(|v| v.paid_hours).sum(),
            coverage: coverage(zone, &required, &views),
            requirement: Some(r.requirement),
            shifts: views,
            problems,
        })
    }

    /// Each queue's Erlang C schedule of the days drafted, cut per queue.
    #[allow(clippy::too_many_arguments)]
    async fn erlang_cut(
        &self,
        p: &Principal,
        r: &RosterRequest,
        week: &Week,
        weeks: u32,
        queues: &[QueueId],
        names: &HashMap<QueueId, String>,
        templates: &HashMap<String, ShiftTemplate>,
    ) -> Result<Cut, ServiceError> {
        let zone = week.zone;
        let (from_ms, to_ms) = (day_start(zone, week.first), day_start(zone, week.end));
        let mut cut = Cut::default();
        let mut required: BTreeMap<i64, u32> = BTreeMap::new();
        for &queue in queues {
            let request = PlanningRequest {
                queue,
                weeks,
                interval_minutes: r.interval_minutes,
                sl_target: r.sl_target,
                shrinkage: r.shrinkage,
                depth: Depth::Schedule,
            };
            let name = names.get(&queue).cloned().unwrap_or_default();
            let plan = match self.planning(p, &request).await {
                Ok(plan) => plan,
                // A queue with no history yet cannot be forecast: the others still are.
                Err(ServiceError::Invalid { field, message }) if field == "history" => {
                    cut.problems.push(message);
                    continue;
                }
                Err(e) => return Err(e),
            };
            for i in plan.intervals.iter().filter(|i| (from_ms..to_ms).contains(&i.start)) {
                *required.entry(i.start).or_default() += i.required.unwrap_or(0);
            }
            let Some(schedule) = plan.schedule else { continue };
            if let Some(problem) = schedule.problem {
                cut.problems.push(format!("queue '{name}': {problem}"));
            }
            for s in schedule.shifts.iter().filter(|s| (from_ms..to_ms).contains(&s.start)) {
                let Some(t) = templates.get(&s.template) else { continue };
                let shift = Drafted { shift: from_template(zone, queue, t, Timestamp(s.start)), only: None };
                cut.shifts.extend(std::iter::repeat_n(shift, s.agents as usize));
            }
        }
        cut.required = required.into_iter().collect();
        Ok(cut)
    }

    /// The simulated staffing of each day drafted, every queue together:
    /// each group of agents configured alike gets shifts covering its own
    /// requirement, filed under the group's first queue and given to its
    /// agents only. Queues not asked for are simulated all the same (their
    /// agents serve them too) but a group serving none of the asked ones
    /// gets no shifts.
    async fn simulated_cut(
        &self,
        p: &Principal,
        r: &RosterRequest,
        week: &Week,
        queues: &[QueueId],
        templates: &HashMap<String, ShiftTemplate>,
    ) -> Result<Cut, ServiceError> {
        let zone = week.zone;
        let budget = match r.budget_seconds {
            None => DRAFT_SEARCH_BUDGET,
            Some(s) if s.is_finite() && s > 0.0 && s <= simulated::MOST_BUDGET.as_secs_f64() => {
                std::time::Duration::from_secs_f64(s)
            }
            Some(_) => return Err(ServiceError::invalid("budget_seconds", "from 1 second to 10 minutes")),
        };
        let request = SimulatedRequest {
            day: None,
            interval_minutes: r.interval_minutes,
            seeds: r.seeds,
            sl_target: r.sl_target,
            shrinkage: r.shrinkage,
            budget,
        };
        let days: Vec<NaiveDate> = week.first.iter_days().take_while(|d| *d < week.end).collect();
        let staffed = self.simulated_days(p, &request, &days).await.map_err(|e| match e {
            ServiceError::Invalid { field, message } if field == "day" => {
                ServiceError::invalid("week", format!("the simulated requirement reaches days {message}"))
            }
            other => other,
        })?;
        let mut cut = Cut::default();
        // Each group's requirement over the days, in order.
        let mut groups: Vec<(&GroupStaffing, Vec<(Timestamp, u32)>)> = Vec::new();
        for day in &staffed {
            if !day.complete {
                cut.problems.push(format!("{}: the search ran out of time; the staffing may fall short", day.day));
            }
            for problem in &day.problems {
                if !cut.problems.contains(problem) {
                    cut.problems.push(problem.clone());
                }
            }
            for g in &day.groups {
                let needs = day.intervals.iter().zip(&g.required).map(|(i, &n)| (Timestamp(i.start), n));
                match groups.iter_mut().find(|(known, _)| known.name == g.name) {
                    Some((_, list)) => list.extend(needs),
                    None => groups.push((g, needs.collect())),
                }
            }
        }
        let mut required: BTreeMap<i64, u32> = BTreeMap::new();
        let grid = Grid::new(zone, r.interval_minutes).map_err(|e| ServiceError::invalid("interval", e.to_string()))?;
        let list: Vec<ShiftTemplate> = templates.values().cloned().collect();
        let (from_ms, to_ms) = (day_start(zone, week.first), day_start(zone, week.end));
        for (group, needs) in groups {
            let Some(&queue) = group.queue_ids.iter().find(|q| queues.contains(q)) else { continue };
            for &(at, n) in &needs {
                *required.entry(at.0).or_default() += n;
            }
            let only: std::sync::Arc<[UserId]> = group.agent_ids.clone().into();
            let schedule = match schedule::generate(&grid, &needs, &list, SCHEDULE_BUDGET) {
                Ok(s) => s,
                Err(e) => {
                    cut.problems.push(format!("group '{}': {e}", group.name));
                    continue;
                }
            };
            if !schedule.uncovered.is_empty() {
                cut.problems.push(format!(
                    "group '{}': {} intervals need agents no shift template can work; they stay under",
                    group.name,
                    schedule.uncovered.len()
                ));
            }
            for s in schedule.shifts.iter().filter(|s| (from_ms..to_ms).contains(&s.start.0)) {
                let Some(t) = templates.get(&s.template) else { continue };
                let shift = Drafted { shift: from_template(zone, queue, t, s.start), only: Some(only.clone()) };
                cut.shifts.extend(std::iter::repeat_n(shift, s.agents as usize));
            }
        }
        cut.required = required.into_iter().collect();
        Ok(cut)
    }

    /// Publishes a week: its shifts from today on are replaced by these, in
    /// one commit with an audit entry. Days before today are kept.
    pub async fn publish_roster(&self, p: &Principal, r: &PublishRequest) -> Result<Roster, ServiceError> {
        let ws = p.workspace;
        let Week { zone, monday: week, first, end, .. } = self.week(p, r.week).await?;
        if r.shifts.len() > 10_000 {
            return Err(ServiceError::TooLarge("at most 10,000 shifts a week".into()));
        }
        let staff = self.staff(ws).await?;
        let names = self.queue_names(ws).await?;
        let mut taken = self.published(ws, zone, week - Days::days(1), end + Days::days(1)).await?;
        let replaced: Vec<(UserId, NaiveDate)> = taken
            .iter()
            .flat_map(|(a, list)| list.iter().filter(|s| s.day >= first && s.day < end).map(move |s| (*a, s.day)))
            .collect();
        for list in taken.values_mut() {
            list.retain(|s| s.day < first || s.day >= end);
        }
        let now = self.now();
        let mut changes: Vec<Change> = Vec::new();
        let mut put: Vec<(UserId, NaiveDate)> = Vec::new();
        for (i, input) in r.shifts.iter().enumerate() {
            let field = format!("shifts[{i}]");
            let agent = input.agent.ok_or_else(|| ServiceError::invalid(format!("{field}.agent"), "required"))?;
            let shift = planned(zone, input, &names, &field)?;
            if shift.day < first || shift.day >= end {
                return Err(ServiceError::invalid(
                    format!("{field}.start"),
                    format!("must start from {first} to {}", end - Days::days(1)),
                ));
            }
            let who = staff
                .iter()
                .find(|s| s.id == agent)
                .ok_or_else(|| ServiceError::NotFound(format!("agent {}", agent.0)))?;
            let others = taken.entry(agent).or_default();
            if let Some(reason) = breaks_rules(who, others, &shift) {
                return Err(ServiceError::Conflict(reason));
            }
            changes.push(Change::PutRosterShift(stored(ws, agent, &shift, now)));
            put.push((agent, shift.day));
            others.push(shift);
        }
        let deleted: Vec<(UserId, NaiveDate)> = replaced.into_iter().filter(|k| !put.contains(k)).collect();
        for &(agent, day) in &deleted {
            changes.push(Change::DeleteRosterShift { workspace: ws, agent, day: day.to_string() });
        }
        changes.extend(roster_changed(ws, now, put.iter().chain(&deleted).copied()));
        changes.push(audit::detailed(
            p,
            now,
            "publish_roster",
            format!("roster/{week}"),
            serde_json::json!({ "from": first, "shifts": put.len() }),
        ));
        self.commit_and_publish(changes).await?;
        self.roster(p, Some(first), u32::try_from((end - first).num_days()).unwrap_or(7), None).await
    }

    /// Adds or replaces an agent's shift on a local day.
    pub async fn put_roster_shift(
        &self,
        p: &Principal,
        agent: UserId,
        day: NaiveDate,
        input: &ShiftInput,
    ) -> Result<ShiftView, ServiceError> {
        require(p, Role::Supervisor)?;
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let names = self.queue_names(ws).await?;
        if input.agent.is_some_and(|a| a != agent) {
            return Err(ServiceError::invalid("agent", "the agent is the path's"));
        }
        let shift = planned(zone, input, &names, "shift")?;
        if shift.day != day {
            return Err(ServiceError::invalid("start", format!("must be on {day}")));
        }
        let staff = self.staff(ws).await?;
        let who =
            staff.iter().find(|s| s.id == agent).ok_or_else(|| ServiceError::NotFound(format!("agent {}", agent.0)))?;
        let week = monday(day);
        let mut taken = self.published(ws, zone, week - Days::days(1), week + Days::days(8)).await?;
        let others: Vec<Planned> =
            taken.remove(&agent).unwrap_or_default().into_iter().filter(|s| s.day != day).collect();
        if let Some(reason) = breaks_rules(who, &others, &shift) {
            return Err(ServiceError::Conflict(reason));
        }
        let now = self.now();
        let mut changes = vec![
            Change::PutRosterShift(stored(ws, agent, &shift, now)),
            audit::entry(p, now, "put_roster_shift", format!("roster/{}/{day}", agent.0)),
        ];
        changes.extend(roster_changed(ws, now, [(agent, day)]));
        self.commit_and_publish(changes).await?;
        Ok(view(zone, Some(agent), &shift, &names))
    }

    pub async fn delete_roster_shift(&self, p: &Principal, agent: UserId, day: NaiveDate) -> Result<(), ServiceError> {
        require(p, Role::Supervisor)?;
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let there = self.published(ws, zone, day, day + Days::days(1)).await?;
        if !there.get(&agent).is_some_and(|l| l.iter().any(|s| s.day == day)) {
            return Err(ServiceError::NotFound(format!("shift of agent {} on {day}", agent.0)));
        }
        let now = self.now();
        let mut changes = vec![
            Change::DeleteRosterShift { workspace: ws, agent, day: day.to_string() },
            audit::entry(p, now, "delete_roster_shift", format!("roster/{}/{day}", agent.0)),
        ];
        changes.extend(roster_changed(ws, now, [(agent, day)]));
        self.commit_and_publish(changes).await?;
        Ok(())
    }
}

/// A week being drafted or published, in the workspace's zone.
struct Week {
    zone: Tz,
    today: NaiveDate,
    monday: NaiveDate,
    /// The first day of it that is not over.
    first: NaiveDate,
    /// The next Monday.
    end: NaiveDate,
}

impl Service {
    /// The week holding `day`, for a supervisor; refused once it is over.
    async fn week(&self, p: &Principal, day: NaiveDate) -> Result<Week, ServiceError> {
        require(p, Role::Supervisor)?;
        let zone = self.time_zone(p.workspace).await?;
        let today = local_date(zone, self.now().0);
        let monday = monday(day);
        let end = monday + Days::days(7);
        if end <= today {
            return Err(ServiceError::invalid("week", "that week is over"));
        }
        Ok(Week { zone, today, monday, first: monday.max(today), end })
    }
}

/// A `roster_changed` event to each agent whose shifts changed, naming
/// the days: it goes to the agent's own event stream, so an open desktop
/// reads its schedule again at once.
fn roster_changed(
    ws: WorkspaceId,
    at: Timestamp,
    changed: impl IntoIterator<Item = (UserId, NaiveDate)>,
) -> Vec<Change> {
    let mut days: BTreeMap<UserId, Vec<NaiveDate>> = BTreeMap::new();
    for (agent, day) in changed {
        days.entry(agent).or_default().push(day);
    }
    days.into_iter()
        .map(|(agent, mut days)| {
            days.sort();
            days.dedup();
            Change::Append(NewEvent {
                workspace: ws,
                at,
                kind: Kind::RosterChanged.as_str().into(),
                contact: None,
                agent: Some(agent),
                queue: None,
                customer: None,
                payload: serde_json::json!({ "type": Kind::RosterChanged.as_str(), "days": days }),
            })
        })
        .collect()
}

fn stored(ws: WorkspaceId, agent: UserId, s: &Planned, now: Timestamp) -> RosterShift {
    RosterShift {
        workspace: ws,
        agent,
        day: s.day.to_string(),
        queue: s.queue,
        template: s.template.clone(),
        start: s.start,
        end: s.end,
        breaks: s.breaks.clone(),
        updated_at: now,
    }
}

/// A shift given by a supervisor, checked: its queue exists, it runs
/// forward for at most a day, its breaks lie inside it without overlapping.
fn planned(
    zone: Tz,
    input: &ShiftInput,
    names: &HashMap<QueueId, String>,
    field: &str,
) -> Result<Planned, ServiceError> {
    let at = |w: &When, name: &str| w.at(zone, &format!("{field}.{name}"));
    let (start, end) = (at(&input.start, "start")?, at(&input.end, "end")?);
    if !names.contains_key(&input.queue) {
        return Err(ServiceError::NotFound(format!("queue {}", input.queue.0)));
    }
    if end <= start || end.0 - start.0 > 24 * HOUR_MS {
        return Err(ServiceError::invalid(format!("{field}.end"), "after the start, within 24 hours"));
    }
    let mut breaks = input
        .breaks
        .iter()
        .map(|b| Ok(ShiftBreak { start: at(&b.start, "breaks.start")?, end: at(&b.end, "breaks.end")?, paid: b.paid }))
        .collect::<Result<Vec<_>, ServiceError>>()?;
    breaks.sort_by_key(|b| b.start);
    let inside = breaks.iter().all(|b| start <= b.start && b.start < b.end && b.end <= end);
    if !inside || breaks.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(ServiceError::invalid(format!("{field}.breaks"), "within the shift, one after another"));
    }
    let template = match input.template.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => crate::names::line(&format!("{field}.template"), t, 200)?,
        _ => MANUAL.to_string(),
    };
    Ok(Planned { day: local_date(zone, start.0), queue: input.queue, template, start, end, breaks })
}

fn roster_agents(staff: impl Iterator<Item = Staff>, shifts: &[ShiftView]) -> Vec<RosterAgent> {
    staff
        .map(|s| RosterAgent {
            hours: shifts.iter().filter(|v| v.agent == Some(s.id)).map(|v| v.paid_hours).sum(),
            id: s.id,
            name: s.name,
            queues: s.queues,
            rules: s.rules,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(id: u64, queues: &[u64], rules: impl FnOnce(&mut WorkRules)) -> Staff {
        let mut r = WorkRules::default_for(UserId(id));
        rules(&mut r);
        Staff {
            id: UserId(id),
            name: format!("agent {id}"),
            queues: queues.iter().map(|&q| QueueId(q)).collect(),
            rules: r,
        }
    }

    /// A shift of `hours` from `hour` o'clock UTC on day `day` of December 2026 (the 7th is a Monday).
    fn shift(day: u32, queue: u64, hour: i64, hours: i64) -> Planned {
        let date = NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        let start = day_start(Tz::UTC, date) + hour * HOUR_MS;
        Planned {
            day: date,
            queue: QueueId(queue),
            template: "t".into(),
            start: Timestamp(start),
            end: Timestamp(start + hours * HOUR_MS),
            breaks: vec![],
        }
    }

    #[test]
    fn shifts_go_to_agents_who_serve_the_queue_within_their_rules() {
        let team = [
            staff(1, &[1, 2], |_| {}),
            staff(2, &[1], |r| r.days_off = vec![Weekday::Tue]),
            staff(3, &[2], |r| r.max_weekly_hours = 16.0),
        ];
        let shifts = [
            shift(7, 1, 8, 8),  // Mon: the specialist 2 before 1, who serves two queues
            shift(7, 2, 8, 8),  // Mon: 3
            shift(7, 1, 9, 8),  // Mon: 1 (2 has a shift that day)
            shift(8, 1, 8, 8),  // Tue: 2 is off → 1
            shift(8, 2, 8, 8),  // Tue: 3
            shift(9, 2, 8, 8),  // Wed: 3 is at 16 h → 1
            shift(9, 2, 10, 8), // Wed: nobody (1 has one; 2 does not serve 2)
        ];
        let shifts: Vec<Drafted> = shifts.into_iter().map(|shift| Drafted { shift, only: None }).collect();
        let mut taken = BTreeMap::new();
        let got = assign(&team, &mut taken, &shifts);
        let ids: Vec<Option<u64>> = got.iter().map(|a| a.map(|u| u.0)).collect();
        assert_eq!(ids, vec![Some(2), Some(3), Some(1), Some(1), Some(3), Some(1), None]);
        // The same input, the same roster.
        assert_eq!(assign(&team, &mut BTreeMap::new(), &shifts), got);
    }

    #[test]
    fn a_groups_shift_goes_to_its_agents_only() {
        // 1 serves queues 1 and 2 alone; 2 serves queue 1 with another configuration.
        let team = [staff(1, &[1, 2], |_| {}), staff(2, &[1], |_| {})];
        let only: std::sync::Arc<[UserId]> = vec![UserId(1)].into();
        let shifts = [
            Drafted { shift: shift(7, 1, 8, 8), only: Some(only.clone()) },
            Drafted { shift: shift(8, 1, 8, 8), only: None },
            Drafted { shift: shift(7, 1, 9, 8), only: Some(only) },
        ];
        let got = assign(&team, &mut BTreeMap::new(), &shifts);
        // The specialist would come first were the shift anyone's.
        assert_eq!(got, vec![Some(UserId(1)), Some(UserId(2)), None]);
    }

    #[test]
    fn rest_days_and_caps_are_enforced() {
        let a = staff(1, &[1], |r| r.max_days = 2);
        let late = shift(7, 1, 15, 8); // Mon 15:00–23:00
        assert!(
            breaks_rules(&a, std::slice::from_ref(&late), &shift(8, 1, 6, 8)).unwrap().contains("rest"),
            "7 h of rest"
        );
        assert!(breaks_rules(&a, std::slice::from_ref(&late), &shift(8, 1, 10, 8)).is_none(), "11 h of rest");
        let two = [late.clone(), shift(8, 1, 10, 8)];
        assert!(breaks_rules(&a, &two, &shift(10, 1, 10, 8)).unwrap().contains("days"));
        // The next Monday is another week.
        assert!(breaks_rules(&a, &two, &shift(14, 1, 10, 8)).is_none());
        assert!(breaks_rules(&a, &[], &shift(7, 2, 10, 8)).unwrap().contains("does not serve"));
        let off = staff(1, &[1], |r| r.dates_off = vec![NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()]);
        assert!(breaks_rules(&off, &[], &shift(9, 1, 10, 8)).unwrap().contains("off"));
    }
}
