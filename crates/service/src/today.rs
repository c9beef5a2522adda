//! Today's figures — per queue, per agent, per interval, and ratings — read
//! from the event log, as every report is.
//!
//! Each workspace keeps a running tally and the id of the last event folded
//! in; a request folds in what was logged since, so a wallboard polling
//! every few seconds reads only the new events. "Today" starts at midnight
//! in the workspace's time zone. The first request after a start finds the
//! day's first event by a binary search over event ids (ids follow commit
//! order, and times follow ids to within the few milliseconds a commit
//! takes), so a long log is not read from its beginning.

use super::{Service, ServiceError};
use crate::auth::Principal;
use crate::kinds::Kind;
use chrono::{NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::events::{CancelReason, Event, EventKind};
use switchboard_core::ids::{QueueId, UserId, WorkspaceId};
use switchboard_core::metrics::{Counters, DEFAULT_SHORT_ABANDON};
use switchboard_store::LoggedEvent;
use tokio::sync::Mutex;

/// How far an event's time may run behind one with a lower id (its
/// request read the clock before another's commit); the day's first event
/// is looked for this much before midnight.
const CLOCK_SLACK_MS: i64 = 60_000;
/// The finest interval kept; coarser ones are sums of these.
pub const BUCKET_MINUTES: i64 = 15;
const PAGE: u32 = 5000;

/// One queue's (or self-service's, queue `None`) counts in one interval.
#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    counters: Counters,
    contained: u64,
}

/// Ratings' sum and count.
#[derive(Clone, Copy, Debug, Default)]
struct Ratings {
    sum: u64,
    count: u64,
}

impl Ratings {
    fn add(&mut self, score: u64) {
        self.sum += score;
        self.count += 1;
    }

    fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

#[derive(Debug, Default)]
pub struct Tally {
    /// The workspace's time zone, and today in it: [start, end) in ms.
    zone: Option<Tz>,
    day_start: i64,
    day_end: i64,
    last_id: u64,
    queues: HashMap<Option<QueueId>, Cell>,
    /// (bucket start, queue) → counts.
    buckets: BTreeMap<(i64, Option<QueueId>), Cell>,
    handled_by: HashMap<UserId, u64>,
    csat_agents: HashMap<UserId, Ratings>,
    csat_queues: HashMap<QueueId, Ratings>,
}

/// The service-level threshold of each queue, for counting.
pub type Thresholds = HashMap<QueueId, Duration>;

impl Tally {
    /// Starts counting the day of `zone` that holds `at`.
    fn reset(&mut self, zone: Tz, at: i64) {
        let (day_start, day_end) = local_day(zone, at);
        *self = Tally { zone: Some(zone), day_start, day_end, last_id: self.last_id, ..Default::default() };
    }

    fn fold(&mut self, e: &LoggedEvent, sl: &Thresholds) {
        self.last_id = self.last_id.max(e.id);
        if e.at.0 >= self.day_end
            && let Some(zone) = self.zone
        {
            self.reset(zone, e.at.0);
        }
        if e.at.0 < self.day_start {
            return;
        }
        // Every zone's offset is a whole number of quarter hours, so UTC
        // quarter hours are local ones too.
        let bucket = e.at.0 - e.at.0.rem_euclid(BUCKET_MINUTES * 60_000);
        let threshold = e.queue.and_then(|q| sl.get(&q)).copied().unwrap_or(Duration::from_secs(20));
        match Kind::parse(&e.kind) {
            Some(Kind::BotContained) => {
                for cell in self.cells(bucket, e.queue) {
                    cell.contained += 1;
                }
            }
            Some(Kind::Csat) => {
                let score = e.payload.get("score").and_then(|v| v.as_u64()).unwrap_or(0);
                if let Some(a) = e.agent {
                    self.csat_agents.entry(a).or_default().add(score);
                }
                if let Some(q) = e.queue {
                    self.csat_queues.entry(q).or_default().add(score);
                }
            }
            _ => {
                // Engine events carry the engine's event as their payload.
                let Ok(ev) = serde_json::from_value::<Event>(e.payload.clone()) else { return };
                if let EventKind::OfferAccepted { agent, .. } = ev.kind {
                    *self.handled_by.entry(UserId(agent.0)).or_default() += 1;
                }
                for cell in self.cells(bucket, e.queue) {
                    count(&mut cell.counters, &ev, threshold);
                }
            }
        }
    }

    /// The day's cell and the interval's cell of `queue`.
    fn cells(&mut self, bucket: i64, queue: Option<QueueId>) -> [&mut Cell; 2] {
        [self.queues.entry(queue).or_default(), self.buckets.entry((bucket, queue)).or_default()]
    }
}

/// The local day of `zone` holding `at`: [its first instant, the next
/// day's first instant), in ms. Where a day has no midnight (clocks
/// moved forward across it) it starts at its first existing minute.
pub fn local_day(zone: Tz, at: i64) -> (i64, i64) {
    let date = zone
        .timestamp_millis_opt(at)
        .single()
        .map_or_else(|| Utc.timestamp_millis_opt(at).unwrap().date_naive(), |t| t.date_naive());
    let start = |d: NaiveDate| {
        let midnight = d.and_time(NaiveTime::MIN);
        (0..=180)
            .find_map(|m| zone.from_local_datetime(&(midnight + chrono::Duration::minutes(m))).earliest())
            .map_or(midnight.and_utc().timestamp_millis(), |t| t.timestamp_millis())
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}

/// Where `start` (an interval's start, ms) falls in intervals `width` ms
/// wide that begin at local midnight.
fn local_interval(zone: Tz, start: i64, width: i64) -> i64 {
    let offset =
        zone.timestamp_millis_opt(start).single().map_or(0, |t| i64::from(t.offset().fix().local_minus_utc()) * 1000);
    start - (start + offset).rem_euclid(width)
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

/// Adds one engine event to `c`, by the metric definitions of `switchboard_core::metrics`.
pub fn count(c: &mut Counters, ev: &Event, sl: Duration) {
    match &ev.kind {
        EventKind::ContactQueued { .. } => c.offered += 1,
        EventKind::OfferAccepted { waited, .. } => c.record_handled(*waited, sl),
        EventKind::ContactLeft { reason: CancelReason::Abandoned, waited, .. } => {
            c.record_abandoned(*waited, sl, DEFAULT_SHORT_ABANDON)
        }
        EventKind::ContactOverflowed { .. } => c.overflowed += 1,
        _ => {}
    }
}

/// Today's counts of one queue.
#[derive(Clone, Debug, Default, Serialize)]
pub struct QueueToday {
    pub offered: u64,
    pub handled: u64,
    pub abandoned: u64,
    pub contained: u64,
    pub service_level: Option<f64>,
    pub asa_seconds: Option<f64>,
}

impl From<Cell> for QueueToday {
    fn from(c: Cell) -> Self {
        QueueToday {
            offered: c.counters.offered,
            handled: c.counters.handled,
            abandoned: c.counters.abandoned,
            contained: c.contained,
            service_level: c.counters.service_level(),
            asa_seconds: c.counters.asa_seconds(),
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

impl Service {
    /// Runs `f` on the workspace's tally after folding in the new events.
    pub(crate) async fn today<T>(&self, ws: WorkspaceId, f: impl FnOnce(&Tally) -> T) -> Result<T, ServiceError> {
        let tally = self.tallies().by_workspace.lock().expect("tallies lock").entry(ws).or_default().clone();
        let mut tally = tally.lock().await;
        let thresholds: Thresholds = self.inspect(ws, |c| c.sl_thresholds()).await?;
        let now = self.now().0;
        if tally.zone.is_none() {
            let zone = self.time_zone(ws).await?;
            tally.reset(zone, now);
            tally.last_id = self.last_event_before(ws, tally.day_start - CLOCK_SLACK_MS).await?;
        } else if now >= tally.day_end
            && let Some(zone) = tally.zone
        {
            tally.reset(zone, now);
        }
        loop {
            let page = self.store().events(ws, tally.last_id, PAGE).await?;
            let done = page.len() < PAGE as usize;
            for e in &page {
                tally.fold(e, &thresholds);
            }
            if done {
                break;
            }
        }
        Ok(f(&tally))
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
        if minutes <= 0 || minutes % BUCKET_MINUTES != 0 || minutes > 24 * 60 {
            return Err(ServiceError::invalid("minutes", format!("a multiple of {BUCKET_MINUTES} up to 1440")));
        }
        let width = minutes * 60_000;
        self.today(p.workspace, |t| {
            let zone = t.zone.unwrap_or(Tz::UTC);
            let mut merged: BTreeMap<(i64, Option<QueueId>), Cell> = BTreeMap::new();
            for ((start, q), cell) in &t.buckets {
                let m = merged.entry((local_interval(zone, *start, width), *q)).or_default();
                m.counters += cell.counters;
                m.contained += cell.contained;
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
        self.today(ws, |t| (t.queues.iter().map(|(q, c)| (*q, (*c).into())).collect(), t.handled_by.clone())).await
    }

    pub async fn csat_report(&self, p: &Principal) -> Result<CsatReport, ServiceError> {
        let (agents, queues) = self.today(p.workspace, |t| (t.csat_agents.clone(), t.csat_queues.clone())).await?;
        let users = self.store().users(p.workspace).await?;
        let queue_names = self.store().queues(p.workspace).await?;
        let mut a: Vec<_> = agents
            .into_iter()
            .map(|(agent, r)| RatingRow {
                name: users.iter().find(|u| u.id == agent).map(|u| u.name.clone()).unwrap_or_default(),
                key: AgentKey { agent },
                count: r.count,
                average: r.average(),
            })
            .collect();
        a.sort_by_key(|r| r.key.agent);
        let mut q: Vec<_> = queues
            .into_iter()
            .map(|(queue, r)| RatingRow {
                name: queue_names.iter().find(|x| x.id == queue).map(|x| x.name.clone()).unwrap_or_default(),
                key: QueueKey { queue },
                count: r.count,
                average: r.average(),
            })
            .collect();
        q.sort_by_key(|r| r.key.queue);
        Ok(CsatReport { agents: a, queues: q })
    }
}

#[cfg(test)]
mod tests {
    use super::{local_day, local_interval};
    use chrono_tz::Tz;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let (start, end) = local_day(berlin, ms("2026-11-22T23:30:00Z"));
        assert_eq!((start, end), (ms("2026-11-23T00:00:00+01:00"), ms("2026-11-24T00:00:00+01:00")));
        // The day the clocks go forward has 23 hours, the day they go back 25.
        let (start, end) = local_day(berlin, ms("2026-03-29T12:00:00+02:00"));
        assert_eq!(end - start, 23 * 3_600_000);
        let (start, end) = local_day(berlin, ms("2026-10-25T12:00:00+01:00"));
        assert_eq!(end - start, 25 * 3_600_000);
        assert_eq!(local_day(Tz::UTC, ms("2026-11-22T10:00:00Z")).0, ms("2026-11-22T00:00:00Z"));
    }

    #[test]
    fn a_day_without_midnight_starts_at_its_first_minute() {
        // Brazil moved its clocks from 00:00 to 01:00 on 4 November 2018.
        let sao_paulo: Tz = "America/Sao_Paulo".parse().unwrap();
        let (start, _) = local_day(sao_paulo, ms("2018-11-04T12:00:00-02:00"));
        assert_eq!(start, ms("2018-11-04T01:00:00-02:00"));
    }

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

    #[test]
    fn hours_are_local_hours() {
        // India is 5:30 ahead: its hours begin at half past in UTC.
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let quarter = ms("2026-11-22T04:45:00Z"); // 10:15 local
        assert_eq!(local_interval(kolkata, quarter, 3_600_000), ms("2026-11-22T04:30:00Z"));
        assert_eq!(local_interval(Tz::UTC, quarter, 3_600_000), ms("2026-11-22T04:00:00Z"));
    }
}
