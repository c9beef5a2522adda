//! Today's figures — per queue, per agent, per interval, and ratings — read
//! from the event log, as every report is.
//!
//! Each workspace keeps a running tally and the id of the last event folded
//! in; a request folds in what was logged since, so a wallboard polling
//! every few seconds reads only the new events. "Today" is the UTC day.
//! On the first request after a start the log is read from its beginning
//! (limitation: slow for a very long log; an index by time would fix it).

use super::{Service, ServiceError};
use crate::auth::Principal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::events::{CancelReason, Event, EventKind};
use switchboard_core::ids::{QueueId, UserId, WorkspaceId};
use switchboard_core::metrics::{Counters, DEFAULT_SHORT_ABANDON};
use switchboard_store::{LoggedEvent, Store};
use tokio::sync::Mutex;

const DAY_MS: i64 = 86_400_000;
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
    day: i64,
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
    fn reset(&mut self, day: i64) {
        *self = Tally { day, last_id: self.last_id, ..Default::default() };
    }

    fn fold(&mut self, e: &LoggedEvent, sl: &Thresholds) {
        self.last_id = self.last_id.max(e.id);
        let day = e.at.0.div_euclid(DAY_MS);
        if day > self.day {
            self.reset(day);
        }
        if day < self.day {
            return;
        }
        let bucket = e.at.0 - e.at.0.rem_euclid(BUCKET_MINUTES * 60_000);
        let threshold = e.queue.and_then(|q| sl.get(&q)).copied().unwrap_or(Duration::from_secs(20));
        match e.kind.as_str() {
            "bot_contained" => {
                for cell in self.cells(bucket, e.queue) {
                    cell.contained += 1;
                }
            }
            "csat" => {
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

impl<S: Store> Service<S> {
    /// Runs `f` on the workspace's tally after folding in the new events.
    pub(crate) async fn today<T>(&self, ws: WorkspaceId, f: impl FnOnce(&Tally) -> T) -> Result<T, ServiceError> {
        let tally = self.tallies().by_workspace.lock().expect("tallies lock").entry(ws).or_default().clone();
        let mut tally = tally.lock().await;
        let thresholds: Thresholds = self.inspect(ws, |c| c.sl_thresholds()).await?;
        let day = self.now().0.div_euclid(DAY_MS);
        if tally.day < day {
            tally.reset(day);
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

    pub async fn intervals(&self, p: &Principal, minutes: i64) -> Result<Vec<Interval>, ServiceError> {
        if minutes <= 0 || minutes % BUCKET_MINUTES != 0 || minutes > 24 * 60 {
            return Err(ServiceError::invalid("minutes", format!("a multiple of {BUCKET_MINUTES} up to 1440")));
        }
        let width = minutes * 60_000;
        self.today(p.workspace, |t| {
            let mut merged: BTreeMap<(i64, Option<QueueId>), Cell> = BTreeMap::new();
            for ((start, q), cell) in &t.buckets {
                let m = merged.entry((start - start.rem_euclid(width), *q)).or_default();
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
