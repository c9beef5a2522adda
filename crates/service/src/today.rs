//! Today's figures — per queue, per agent, per interval, and ratings — read
//! from the event log by the fold every report uses (`reports::rollup`).
//!
//! Each workspace keeps a rollup of today only, with the id of the last
//! event folded in; a request folds in what was logged since, so a
//! wallboard polling every few seconds reads only the new events. "Today"
//! starts at midnight in the workspace's time zone. The first request after
//! a start finds the day's first event by a binary search over event ids
//! (ids follow commit order, and times follow ids to within the few
//! milliseconds a commit takes), so a long log is not read from its
//! beginning.

use super::{Service, ServiceError};
use crate::auth::Principal;
use crate::reports::intervals::{local_day, local_interval};
use crate::reports::rollup::{BUCKET_MS, Cell, Key, Rollup};
use crate::reports::{DEFAULT_SL, Fold, Thresholds, counters, scores};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchboard_core::ids::{QueueId, UserId, WorkspaceId};
use switchboard_core::metrics::{self, Counters, DEFAULT_SHORT_ABANDON};
use switchboard_store::LoggedEvent;
use tokio::sync::Mutex;

/// How far an event's time may run behind one with a lower id (its
/// request read the clock before another's commit); the day's first event
/// is looked for this much before midnight.
const CLOCK_SLACK_MS: i64 = 60_000;

#[derive(Debug, Default)]
pub struct Tally {
    /// The workspace's time zone, and today in it: [start, end) in ms.
    zone: Option<Tz>,
    day_end: i64,
    rollup: Rollup,
}

impl Tally {
    /// Starts counting the day of `zone` that holds `at`.
    fn reset(&mut self, zone: Tz, at: i64) {
        let (day_start, day_end) = local_day(zone, at);
        *self = Tally { zone: Some(zone), day_end, rollup: Rollup::starting(day_start, self.rollup.last_id) };
    }

    /// Today's counters of each cell, with the queues' thresholds.
    fn counted<'a>(&'a self, sl: &'a Thresholds) -> impl Iterator<Item = (i64, &'a Key, Counters)> + 'a {
        self.rollup.cells.iter().map(move |((bucket, key), cell)| {
            let threshold = key.queue.and_then(|q| sl.get(&q)).copied().unwrap_or(DEFAULT_SL);
            (*bucket, key, counters(cell, threshold, DEFAULT_SHORT_ABANDON))
        })
    }
}

impl Fold for Tally {
    fn last_id(&self) -> u64 {
        self.rollup.last_id
    }

    fn fold(&mut self, e: &LoggedEvent) {
        if e.at.0 >= self.day_end
            && let Some(zone) = self.zone
        {
            self.reset(zone, e.at.0);
        }
        self.rollup.fold(e);
    }
}

/// The id of the last event before `at` (0 if none), given the first
/// event after an id (`first_after(x)`: its id and time): by doubling, then
/// halving, over ids — about 2·log₂(events) reads.
async fn last_before<F, Fut>(at: i64, first_after: F) -> Result<u64, ServiceError>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Option<(u64, i64)>, ServiceError>>,
{
    // Whether the first event after id `x` is before `at` (its id if so):
    // true below the answer, false from it on.
    let early = |x: u64| {
        let next = first_after(x);
        async move { Ok::<_, ServiceError>(next.await?.filter(|(_, t)| *t < at).map(|(id, _)| id)) }
    };
    let Some(first) = early(0).await? else { return Ok(0) };
    // Invariant: early(lo) is Some, early(hi) is None.
    let (mut lo, mut step) = (first - 1, 1u64);
    let mut hi = loop {
        let probe = lo.saturating_add(step);
        match early(probe).await? {
            Some(id) if probe < u64::MAX => {
                lo = id - 1;
                step = step.saturating_mul(2);
            }
            _ => break probe,
        }
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match early(mid).await? {
            Some(id) => lo = (id - 1).clamp(mid, hi - 1),
            None => hi = mid,
        }
    }
    Ok(hi)
}

/// Today's counts of one queue.
#[derive(Clone, Debug, Default, Serialize)]
pub struct QueueToday {
    pub offered: u64,
    pub handled: u64,
    pub abandoned: u64,
    pub contained: u64,
    /// Response targets breached.
    pub sla_breaches: u64,
    pub service_level: Option<f64>,
    pub asa_seconds: Option<f64>,
}

impl From<Counters> for QueueToday {
    fn from(c: Counters) -> Self {
        QueueToday {
            offered: c.offered,
            handled: c.handled,
            abandoned: c.abandoned,
            contained: c.contained,
            sla_breaches: c.sla_breaches,
            service_level: c.service_level(),
            asa_seconds: c.asa_seconds(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Interval {
    /// Start, ms since the epoch.
    pub start: i64,
    /// `null` for self-service (the bot before any queue).
    pub queue: Option<QueueId>,
    #[serde(flatten)]
    pub counts: QueueToday,
}

#[derive(Debug, Serialize)]
pub struct RatingRow<K> {
    #[serde(flatten)]
    pub key: K,
    pub name: String,
    pub count: u64,
    pub average: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct AgentKey {
    pub agent: UserId,
}

#[derive(Debug, Serialize)]
pub struct QueueKey {
    pub queue: QueueId,
}

#[derive(Debug, Serialize)]
pub struct CsatReport {
    pub agents: Vec<RatingRow<AgentKey>>,
    pub queues: Vec<RatingRow<QueueKey>>,
}

/// Per workspace, the tally so far.
#[derive(Default)]
pub struct Tallies {
    by_workspace: std::sync::Mutex<HashMap<WorkspaceId, Arc<Mutex<Tally>>>>,
}

/// Adds a cell's ratings to `into[k]`.
fn add_ratings<K: std::hash::Hash + Eq>(into: &mut HashMap<K, [u64; 6]>, k: K, cell: &Cell) {
    let r = into.entry(k).or_default();
    for (s, n) in cell.ratings.iter().enumerate() {
        r[s] += n;
    }
}

/// A rating row's count and average, by core's CSAT.
fn rated(ratings: &[u64; 6]) -> (u64, Option<f64>) {
    let scores = scores(ratings);
    (scores.len() as u64, metrics::csat(&scores).map(|(_, mean)| mean))
}

impl Service {
    /// Runs `f` on the workspace's tally, with the queues' thresholds, after
    /// folding in the new events.
    pub(crate) async fn today<T>(
        &self,
        ws: WorkspaceId,
        f: impl FnOnce(&Tally, &Thresholds) -> T,
    ) -> Result<T, ServiceError> {
        let tally = self.tallies().by_workspace.lock().expect("tallies lock").entry(ws).or_default().clone();
        let mut tally = tally.lock().await;
        let thresholds: Thresholds = self.inspect(ws, |c| c.sl_thresholds()).await?;
        let now = self.now().0;
        if tally.zone.is_none() {
            let zone = self.time_zone(ws).await?;
            tally.reset(zone, now);
            tally.rollup.last_id = self.last_event_before(ws, tally.rollup.from - CLOCK_SLACK_MS).await?;
        } else if now >= tally.day_end
            && let Some(zone) = tally.zone
        {
            tally.reset(zone, now);
        }
        self.catch_up(ws, &mut *tally).await?;
        Ok(f(&tally, &thresholds))
    }

    /// Starts today's count again (the time zone changed).
    pub(crate) fn forget_today(&self, ws: WorkspaceId) {
        self.tallies().by_workspace.lock().expect("tallies lock").remove(&ws);
    }

    /// The last event of `ws` logged before `at` (0 if none), in a few
    /// indexed reads.
    async fn last_event_before(&self, ws: WorkspaceId, at: i64) -> Result<u64, ServiceError> {
        last_before(at, |x| async move {
            let next = self.store().events(ws, x, 1).await?;
            Ok(next.first().map(|e| (e.id, e.at.0)))
        })
        .await
    }

    pub async fn intervals(&self, p: &Principal, minutes: i64) -> Result<Vec<Interval>, ServiceError> {
        let bucket_minutes = BUCKET_MS / 60_000;
        if minutes <= 0 || minutes % bucket_minutes != 0 || minutes > 24 * 60 {
            return Err(ServiceError::invalid("minutes", format!("a multiple of {bucket_minutes} up to 1440")));
        }
        let width = minutes * 60_000;
        self.today(p.workspace, |t, sl| {
            let zone = t.zone.unwrap_or(Tz::UTC);
            let mut merged: BTreeMap<(i64, Option<QueueId>), Counters> = BTreeMap::new();
            for (bucket, key, c) in t.counted(sl) {
                *merged.entry((local_interval(zone, bucket, width), key.queue)).or_default() += c;
            }
            merged.into_iter().map(|((start, queue), c)| Interval { start, queue, counts: c.into() }).collect()
        })
        .await
    }

    /// Today's counts per queue, and handled per agent.
    pub(crate) async fn today_by_queue(
        &self,
        ws: WorkspaceId,
    ) -> Result<(HashMap<Option<QueueId>, QueueToday>, HashMap<UserId, u64>), ServiceError> {
        self.today(ws, |t, sl| {
            let mut queues: HashMap<Option<QueueId>, Counters> = HashMap::new();
            let mut handled: HashMap<UserId, u64> = HashMap::new();
            for (_, key, c) in t.counted(sl) {
                *queues.entry(key.queue).or_default() += c;
                if let Some(a) = key.agent {
                    *handled.entry(a).or_default() += c.handled;
                }
            }
            (queues.into_iter().map(|(q, c)| (q, c.into())).collect(), handled)
        })
        .await
    }

    pub async fn csat_report(&self, p: &Principal) -> Result<CsatReport, ServiceError> {
        let (agents, queues) = self
            .today(p.workspace, |t, _| {
                let mut agents: HashMap<UserId, [u64; 6]> = HashMap::new();
                let mut queues: HashMap<QueueId, [u64; 6]> = HashMap::new();
                for ((_, key), cell) in t.rollup.cells.iter().filter(|(_, c)| c.ratings.iter().any(|n| *n > 0)) {
                    if let Some(a) = key.agent {
                        add_ratings(&mut agents, a, cell);
                    }
                    if let Some(q) = key.queue {
                        add_ratings(&mut queues, q, cell);
                    }
                }
                (agents, queues)
            })
            .await?;
        let users = self.store().users(p.workspace).await?;
        let queue_names = self.store().queues(p.workspace).await?;
        let mut a: Vec<_> = agents
            .into_iter()
            .map(|(agent, r)| {
                let (count, average) = rated(&r);
                RatingRow {
                    name: users.iter().find(|u| u.id == agent).map(|u| u.name.clone()).unwrap_or_default(),
                    key: AgentKey { agent },
                    count,
                    average,
                }
            })
            .collect();
        a.sort_by_key(|r| r.key.agent);
        let mut q: Vec<_> = queues
            .into_iter()
            .map(|(queue, r)| {
                let (count, average) = rated(&r);
                RatingRow {
                    name: queue_names.iter().find(|x| x.id == queue).map(|x| x.name.clone()).unwrap_or_default(),
                    key: QueueKey { queue },
                    count,
                    average,
                }
            })
            .collect();
        q.sort_by_key(|r| r.key.queue);
        Ok(CsatReport { agents: a, queues: q })
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_days_first_event_is_found_in_few_reads() {
        // Ids with gaps (other workspaces' events), times rising with them.
        let log: Vec<(u64, i64)> = (1..=3000u64).filter(|i| i % 7 != 3).map(|i| (i, i as i64 * 10)).collect();
        for at in [0, 5, 10, 11, 15_000, 29_990, 30_000, 40_000] {
            let reads = std::cell::Cell::new(0);
            let found = super::last_before(at, |x| {
                reads.set(reads.get() + 1);
                let next = log.iter().find(|(id, _)| *id > x).copied();
                async move { Ok(next) }
            })
            .await
            .unwrap();
            let expected = log.iter().filter(|(_, t)| *t < at).map(|(id, _)| *id).max().unwrap_or(0);
            assert_eq!(found, expected, "at {at}");
            assert!(reads.get() <= 30, "{} reads at {at}", reads.get());
        }
    }
}
