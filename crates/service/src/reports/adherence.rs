//! Schedule adherence per agent and interval: the published roster's shifts
//! and breaks against the agent's states in the event log, by core's
//! definitions (`switchboard_core::adherence`).
//!
//! The states come from the rollup's timelines (every `agent_state_changed`
//! in time order), so this reads no more of the log than reports do.
//! Exceptions (stretches out of adherence past the workspace's threshold)
//! are counted in the interval they began in, with the threshold as it is
//! now: the same definition the ticker's real-time exceptions follow.

use super::Bound;
use super::intervals::{Interval, local_label};
use super::rollup::{BUCKET_MS, bucket_of};
use crate::auth::Principal;
use crate::{Service, ServiceError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchboard_core::adherence::{self, Adherence, Planned, Span};
use switchboard_core::agent::AgentState;
use switchboard_core::ids::UserId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Role, RosterShift};

/// Shifts last at most a day: one that started this long before a range
/// may still reach into it.
pub(crate) const LONGEST_SHIFT_MS: i64 = 25 * 3_600_000;

#[derive(Clone, Debug)]
pub struct AdherenceRequest {
    pub from: Bound,
    pub to: Bound,
    pub interval: Interval,
    /// One agent's rows only.
    pub agent: Option<UserId>,
}

#[derive(Debug, Serialize)]
pub struct AdherenceReport {
    pub from: i64,
    pub to: i64,
    pub time_zone: String,
    pub rows: Vec<AdherenceRow>,
}

/// One agent in one interval; times in seconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AdherenceRow {
    pub start: i64,
    pub start_local: String,
    pub id: UserId,
    pub name: String,
    pub scheduled_seconds: f64,
    pub scheduled_work_seconds: f64,
    pub scheduled_break_seconds: f64,
    pub in_adherence_seconds: f64,
    pub out_of_adherence_seconds: f64,
    /// In adherence / scheduled; `null` with nothing scheduled.
    pub adherence: Option<f64>,
    pub worked_seconds: f64,
    /// Working while not scheduled.
    pub unscheduled_work_seconds: f64,
    /// Exceptions that began in the interval.
    pub exceptions: u32,
}

/// Each agent's shifts as spans of work and breaks, in order.
pub(crate) fn schedules(shifts: &[RosterShift]) -> BTreeMap<UserId, Vec<Span>> {
    let mut out: BTreeMap<UserId, Vec<Span>> = BTreeMap::new();
    for s in shifts {
        out.entry(s.agent).or_default().extend(spans(s));
    }
    for list in out.values_mut() {
        list.sort_by_key(|s| s.start);
    }
    out
}

/// An agent's state at `from` (offline before any change) and its changes
/// in `(from, to)`, from the rollup's timeline.
pub(crate) fn state_changes(
    timeline: &[(i64, AgentState)],
    from: i64,
    to: i64,
) -> (AgentState, Vec<(Timestamp, AgentState)>) {
    let first = timeline.partition_point(|c| c.0 <= from);
    let initial = first.checked_sub(1).map_or(AgentState::Offline, |i| timeline[i].1);
    let last = timeline.partition_point(|c| c.0 < to).max(first);
    (initial, timeline[first..last].iter().map(|(at, s)| (Timestamp(*at), *s)).collect())
}

/// A shift as spans of work and breaks, in order.
fn spans(s: &RosterShift) -> Vec<Span> {
    let mut out = Vec::new();
    let mut at = s.start;
    for b in &s.breaks {
        if at < b.start {
            out.push(Span { start: at, end: b.start, planned: Planned::Work });
        }
        out.push(Span { start: b.start, end: b.end, planned: Planned::Break });
        at = b.end;
    }
    if at < s.end {
        out.push(Span { start: at, end: s.end, planned: Planned::Work });
    }
    out
}

impl Service {
    /// Adherence per agent and interval (supervisors; an agent, their own).
    pub async fn adherence(&self, p: &Principal, r: &AdherenceRequest) -> Result<AdherenceReport, ServiceError> {
        let agent = if p.at_least(Role::Supervisor) {
            r.agent
        } else {
            match r.agent {
                Some(a) if a != p.user => return Err(ServiceError::Forbidden(Role::Supervisor.as_str())),
                _ => Some(p.user),
            }
        };
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let (from, to) = (r.from.resolve(zone), r.to.resolve(zone));
        if from >= to {
            return Err(ServiceError::invalid("to", "must be after from"));
        }
        if (to - from) / BUCKET_MS > 366 * 96 {
            return Err(ServiceError::invalid("to", "at most a year after from"));
        }
        let shifts = self.store().roster(ws, Timestamp(from - LONGEST_SHIFT_MS), Timestamp(to), agent).await?;
        let schedules = schedules(&shifts);
        let threshold = self.adherence_threshold(ws).await?;
        let timelines: HashMap<UserId, Vec<(i64, AgentState)>> = {
            let rollup = self.rollup(ws).await?;
            rollup
                .timelines
                .iter()
                .filter(|(a, _)| agent.is_none_or(|x| x == **a))
                .map(|(a, t)| (*a, t.clone()))
                .collect()
        };
        let names: HashMap<UserId, String> =
            self.store().users(ws).await?.into_iter().map(|u| (u.id, u.name)).collect();
        // What has not happened yet is not measured.
        let until = to.min(self.now().0);
        let bounds = boundaries(r.interval, zone, from, until);
        let agents: BTreeSet<UserId> = schedules.keys().chain(timelines.keys()).copied().collect();
        let mut rows = Vec::new();
        // Each agent's exceptions over the whole range, a day before it on
        // to catch those already going on as it starts.
        let began: HashMap<UserId, Vec<i64>> = agents
            .iter()
            .map(|a| {
                let schedule = schedules.get(a).map_or(&[][..], |v| v);
                let timeline = timelines.get(a).map_or(&[][..], |v| v);
                let (initial, changes) = state_changes(timeline, from - LONGEST_SHIFT_MS, until);
                let found = adherence::exceptions(
                    schedule,
                    initial,
                    &changes,
                    Timestamp(from - LONGEST_SHIFT_MS),
                    Timestamp(until),
                    threshold,
                );
                (*a, found.iter().map(|e| e.start.0).collect())
            })
            .collect();
        for (start, end) in bounds.iter().zip(bounds.iter().skip(1)) {
            for a in &agents {
                let schedule = schedules.get(a).map_or(&[][..], |v| v);
                let timeline = timelines.get(a).map_or(&[][..], |v| v);
                let (initial, changes) = state_changes(timeline, *start, *end);
                let m = adherence::measure(schedule, initial, &changes, Timestamp(*start), Timestamp(*end));
                if m == Adherence::default() {
                    continue;
                }
                let exceptions = began.get(a).map_or(0, |b| b.iter().filter(|t| (*start..*end).contains(*t)).count());
                let mut row = row(*start, zone, *a, names.get(a).cloned().unwrap_or_default(), &m);
                row.exceptions = u32::try_from(exceptions).unwrap_or(u32::MAX);
                rows.push(row);
            }
        }
        Ok(AdherenceReport { from, to, time_zone: zone.name().to_string(), rows })
    }
}

/// The starts of the intervals over `[from, until)`, clipped to it, and
/// `until` last.
fn boundaries(interval: Interval, zone: chrono_tz::Tz, from: i64, until: i64) -> Vec<i64> {
    let mut out = vec![from];
    let mut bucket = bucket_of(from);
    while bucket < until {
        let start = interval.start(zone, bucket);
        if start > *out.last().expect("from is there") {
            out.push(start);
        }
        bucket += BUCKET_MS;
    }
    if until > from {
        out.push(until);
    } else {
        out.clear();
    }
    out
}

fn row(start: i64, zone: chrono_tz::Tz, id: UserId, name: String, m: &Adherence) -> AdherenceRow {
    let s = |ms: u64| ms as f64 / 1000.0;
    AdherenceRow {
        start,
        start_local: local_label(zone, start),
        id,
        name,
        scheduled_seconds: s(m.scheduled_ms()),
        scheduled_work_seconds: s(m.scheduled_work_ms),
        scheduled_break_seconds: s(m.scheduled_break_ms),
        in_adherence_seconds: s(m.in_adherence_ms),
        out_of_adherence_seconds: s(m.out_of_adherence_ms()),
        adherence: m.adherence(),
        worked_seconds: s(m.worked_ms),
        unscheduled_work_seconds: s(m.unscheduled_work_ms),
        exceptions: 0,
    }
}
