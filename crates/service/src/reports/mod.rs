//! Historical reports: any range of the past, by interval and by queue,
//! agent, channel or endpoint, read from each workspace's rollup of the
//! event log (see `rollup.rs`).
//!
//! The rollup lives in memory. It is built by folding the workspace's whole
//! log after a start (in the background as the server starts, or at the
//! first report if that comes first) and then kept up to date by folding
//! what was logged since the last folded event, at each request. Building it
//! costs one pass over the log (docs/BENCHMARKS.md has the numbers);
//! answering reads only the 15-minute cells of the range.

pub mod adherence;
pub mod intervals;
pub mod rollup;

use crate::auth::Principal;
use crate::{Service, ServiceError, require};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use intervals::{Interval, local_label};
use rollup::{Activity, Cell, Key, Rollup, bucket_of};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::agent::AgentState;
use switchboard_core::ids::{QueueId, WorkspaceId};
use switchboard_core::metrics::{self, Counters};
use switchboard_store::Role;
use tokio::sync::Mutex;

/// Events read from the store at a time while folding.
pub(crate) const PAGE: u32 = 5000;
/// The service-level threshold of a queue that sets none.
pub const DEFAULT_SL: Duration = Duration::from_secs(20);
/// A repeat contact within this long makes a resolution not first-contact.
pub const DEFAULT_FCR_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// The service-level threshold of each queue, for counting.
pub type Thresholds = HashMap<QueueId, Duration>;

/// What a report's rows are about besides time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Totals,
    Queues,
    Agents,
    Channels,
    Endpoints,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Dimension> {
        Some(match s {
            "totals" => Dimension::Totals,
            "queues" => Dimension::Queues,
            "agents" => Dimension::Agents,
            "channels" => Dimension::Channels,
            "endpoints" => Dimension::Endpoints,
            _ => return None,
        })
    }

    /// The part of a cell's key this dimension groups by (the rest left out).
    fn project(self, k: &Key) -> Key {
        match self {
            Dimension::Totals => Key::default(),
            Dimension::Queues => Key { queue: k.queue, ..Key::default() },
            Dimension::Agents => Key { agent: k.agent, ..Key::default() },
            Dimension::Channels => Key { channel: k.channel, ..Key::default() },
            Dimension::Endpoints => Key { endpoint: k.endpoint, ..Key::default() },
        }
    }

    /// A projected key's id, as JSON.
    fn id(self, k: &Key) -> Value {
        match self {
            Dimension::Totals => Value::Null,
            Dimension::Queues => json!(k.queue),
            Dimension::Agents => json!(k.agent),
            Dimension::Channels => json!(k.channel),
            Dimension::Endpoints => json!(k.endpoint),
        }
    }

    /// Whether agents' activity (states, offers) belongs in its rows.
    fn has_activity(self) -> bool {
        matches!(self, Dimension::Totals | Dimension::Agents)
    }
}

/// A range's bound: a local date (its first instant) or an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    Date(NaiveDate),
    /// ms since the epoch.
    Instant(i64),
}

impl std::str::FromStr for Bound {
    type Err = ServiceError;

    /// `2026-03-29` or `2026-03-29T10:00:00+02:00`.
    fn from_str(s: &str) -> Result<Bound, ServiceError> {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Bound::Date(d));
        }
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Bound::Instant(t.timestamp_millis()))
            .map_err(|_| ServiceError::invalid("from/to", "a date (2026-03-29) or an RFC 3339 time"))
    }
}

impl Bound {
    fn resolve(self, zone: Tz) -> i64 {
        match self {
            Bound::Date(d) => {
                intervals::local_day(
                    zone,
                    zone.from_local_datetime(&d.and_hms_opt(12, 0, 0).expect("noon exists"))
                        .earliest()
                        .map_or(0, |t| t.timestamp_millis()),
                )
                .0
            }
            Bound::Instant(ms) => ms,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ReportRequest {
    /// [from, to): `to` a date means up to that day's start.
    pub from: Bound,
    pub to: Bound,
    pub interval: Interval,
    pub dimension: Dimension,
    /// Abandons quicker than this are short and not counted as abandoned.
    pub short_abandon: Duration,
    pub fcr_window: Duration,
}

/// A report: rows by interval start, then key.
#[derive(Debug, Serialize)]
pub struct Report {
    pub from: i64,
    pub to: i64,
    pub time_zone: String,
    pub rows: Vec<Row>,
}

/// One interval of one queue, agent, channel or endpoint (or of everything).
#[derive(Debug, Serialize, PartialEq)]
pub struct Row {
    /// The interval's start, ms since the epoch, and in local time.
    pub start: i64,
    pub start_local: String,
    /// The queue, agent or endpoint id, the channel's name, or `null`
    /// (totals; or what has none: self-service before a queue, contacts not
    /// yet with an agent, contacts without an endpoint).
    pub id: Value,
    pub name: String,
    pub offered: u64,
    pub handled: u64,
    /// Abandoned after the short-abandon threshold.
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub overflowed: u64,
    pub service_level: Option<f64>,
    pub service_level_2: Option<f64>,
    pub asa_seconds: Option<f64>,
    pub aht_seconds: Option<f64>,
    pub talk_seconds: Option<f64>,
    pub hold_seconds: Option<f64>,
    pub wrap_seconds: Option<f64>,
    pub abandonment_rate: Option<f64>,
    pub transferred: u64,
    pub transfer_rate: Option<f64>,
    pub contained: u64,
    pub handed_off: u64,
    pub containment: Option<f64>,
    /// First- and next-response targets breached in the interval.
    pub sla_breaches: u64,
    /// Handled contacts resolved (ended by the agent) in the interval.
    pub resolved: u64,
    pub fcr: Option<f64>,
    pub csat_count: u64,
    pub csat_mean: Option<f64>,
    /// Share of ratings 4 or 5.
    pub csat_top2: Option<f64>,
    /// Agents' activity: totals and agent rows only.
    pub occupancy: Option<f64>,
    pub utilisation: Option<f64>,
    pub logins: Option<u64>,
    pub offers: Option<u64>,
    pub missed_offers: Option<u64>,
    pub rejected_offers: Option<u64>,
    /// Seconds in each logged-in state; away by reason code as `away:<code>`.
    pub state_seconds: Option<BTreeMap<String, f64>>,
}

/// What a group adds up while a report is read.
#[derive(Default)]
struct Group {
    counters: Counters,
    ratings: [u64; 6],
    resolutions: Vec<(switchboard_core::ids::CustomerId, i64)>,
    repeats: Vec<(switchboard_core::ids::CustomerId, i64)>,
    activity: Option<Activity>,
}

/// A cell's facts as core's counters, with these thresholds: the one
/// place the log's facts become metrics.
pub fn counters(cell: &Cell, sl: Duration, short: Duration) -> Counters {
    let mut c = Counters {
        offered: cell.offered,
        overflowed: cell.overflowed,
        transferred: cell.transferred,
        contained: cell.contained,
        handed_off: cell.handed_off,
        sla_breaches: cell.sla_breaches,
        talk_ms: cell.talk_ms,
        hold_ms: cell.hold_ms,
        wrap_ms: cell.wrap_ms,
        handle_ms: cell.talk_ms + cell.hold_ms + cell.wrap_ms,
        ..Default::default()
    };
    for w in &cell.handled_waits {
        c.record_handled(Duration::from_millis(u64::from(*w)), sl);
    }
    for w in &cell.abandoned_waits {
        c.record_left(Duration::from_millis(u64::from(*w)), sl, short);
    }
    c
}

/// An agent's activity as core's counters of time.
fn activity_counters(a: &Activity) -> Counters {
    let mut c = Counters::default();
    for ((state, _), ms) in &a.states {
        match state {
            AgentState::Available => c.available_ms += ms,
            AgentState::OnContact | AgentState::WrapUp => c.busy_ms += ms,
            AgentState::Away => c.away_ms += ms,
            AgentState::Offline => {}
        }
    }
    c
}

/// The scores behind a rating histogram, for core's CSAT.
pub fn scores(ratings: &[u64; 6]) -> Vec<u8> {
    ratings.iter().enumerate().flat_map(|(s, n)| std::iter::repeat_n(s as u8, *n as usize)).collect()
}

/// What folds the log in order: a rollup, today's tally.
pub(crate) trait Fold {
    /// The last event folded in.
    fn last_id(&self) -> u64;
    fn fold(&mut self, e: &switchboard_store::LoggedEvent);
}

impl Fold for Rollup {
    fn last_id(&self) -> u64 {
        self.last_id
    }

    fn fold(&mut self, e: &switchboard_store::LoggedEvent) {
        Rollup::fold(self, e)
    }
}

/// Per workspace, its rollup of the whole log.
#[derive(Default)]
pub struct Rollups {
    by_workspace: std::sync::Mutex<HashMap<WorkspaceId, Arc<Mutex<Rollup>>>>,
}

impl Service {
    /// Folds what was logged since `into` last saw into it.
    pub(crate) async fn catch_up(&self, ws: WorkspaceId, into: &mut impl Fold) -> Result<(), ServiceError> {
        loop {
            let page = self.store().events(ws, into.last_id(), PAGE).await?;
            for e in &page {
                into.fold(e);
            }
            if page.len() < PAGE as usize {
                return Ok(());
            }
        }
    }

    /// A report of the caller's workspace (supervisors and admins).
    pub async fn report(&self, p: &Principal, r: &ReportRequest) -> Result<Report, ServiceError> {
        require(p, Role::Supervisor)?;
        self.workspace_report(p.workspace, r).await
    }

    /// A report of workspace `ws`, for the server's own use (the daily summary).
    pub(crate) async fn workspace_report(&self, ws: WorkspaceId, r: &ReportRequest) -> Result<Report, ServiceError> {
        let zone = self.time_zone(ws).await?;
        let (from, to) = (r.from.resolve(zone), r.to.resolve(zone));
        if from >= to {
            return Err(ServiceError::invalid("to", "must be after from"));
        }
        let thresholds: Thresholds = self.inspect(ws, |c| c.sl_thresholds()).await?;
        let rollup = self.rollup(ws).await?;
        let now = self.now().0;
        let names = self.names_of(ws, r.dimension).await?;
        let rows = read(&rollup, r, zone, from, to, now, &thresholds, &names);
        Ok(Report { from, to, time_zone: zone.name().to_string(), rows })
    }

    /// The workspace's rollup, caught up with the log.
    pub(crate) async fn rollup(&self, ws: WorkspaceId) -> Result<tokio::sync::OwnedMutexGuard<Rollup>, ServiceError> {
        let rollup = self.rollups().by_workspace.lock().expect("rollups lock").entry(ws).or_default().clone();
        let mut rollup = rollup.lock_owned().await;
        self.catch_up(ws, &mut *rollup).await?;
        Ok(rollup)
    }

    /// Builds every workspace's rollup in the background (the server does
    /// at start), so that the first report after a start does not wait for
    /// the whole log to be read — unless it comes before this is done.
    pub fn spawn_report_warmup(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let workspaces = match self.store().workspaces().await {
                Ok(w) => w,
                Err(e) => return tracing::warn!(error = %e, "listing workspaces to build their reports"),
            };
            for w in workspaces {
                if let Err(e) = self.rollup(w.id).await {
                    tracing::warn!(error = %e, workspace = w.id.0, "building a workspace's reports");
                }
            }
        })
    }

    /// Names of the dimension's keys, by their JSON.
    async fn names_of(&self, ws: WorkspaceId, d: Dimension) -> Result<HashMap<String, String>, ServiceError> {
        let mut names: HashMap<String, String> = HashMap::new();
        match d {
            Dimension::Totals => {
                names.insert("null".into(), "All".into());
            }
            Dimension::Queues => {
                names.insert("null".into(), "Self-service (before a queue)".into());
                for q in self.store().queues(ws).await? {
                    names.insert(json!(q.id).to_string(), q.name);
                }
            }
            Dimension::Agents => {
                names.insert("null".into(), "(not with an agent)".into());
                for u in self.store().users(ws).await? {
                    names.insert(json!(u.id).to_string(), u.name);
                }
            }
            Dimension::Channels => {
                names.insert("null".into(), "(unknown)".into());
            }
            Dimension::Endpoints => {
                names.insert("null".into(), "(no endpoint)".into());
                for e in self.store().endpoints(ws).await? {
                    names.insert(json!(e.id).to_string(), e.name);
                }
            }
        }
        Ok(names)
    }

    fn rollups(&self) -> &Rollups {
        &self.inner.rollups
    }
}

/// The report's rows from the rollup's cells in [from, to).
#[allow(clippy::too_many_arguments)]
fn read(
    rollup: &Rollup,
    r: &ReportRequest,
    zone: Tz,
    from: i64,
    to: i64,
    now: i64,
    thresholds: &Thresholds,
    names: &HashMap<String, String>,
) -> Vec<Row> {
    let (lo, hi) = (bucket_of(from), to);
    let mut groups: BTreeMap<(i64, Key), Group> = BTreeMap::new();
    let mut starts: HashMap<i64, i64> = HashMap::new();
    let mut start_of = |bucket: i64| *starts.entry(bucket).or_insert_with(|| r.interval.start(zone, bucket));
    for ((bucket, key), cell) in rollup.cells.range((lo, Key::default())..(hi, Key::default())) {
        let g = groups.entry((start_of(*bucket), r.dimension.project(key))).or_default();
        let sl = key.queue.and_then(|q| thresholds.get(&q)).copied().unwrap_or(DEFAULT_SL);
        g.counters += counters(cell, sl, r.short_abandon);
        for (s, n) in cell.ratings.iter().enumerate() {
            g.ratings[s] += n;
        }
    }
    // First-contact resolution: each resolution with the same customer's
    // next contact, which is all core's definition looks at.
    let mut all_starts = rollup.starts.clone();
    all_starts.sort_unstable();
    for res in rollup.resolutions.iter().filter(|x| x.bucket >= lo && x.bucket < hi) {
        let g = groups.entry((start_of(res.bucket), r.dimension.project(&res.key))).or_default();
        g.resolutions.push((res.customer, res.at));
        let next = all_starts.partition_point(|s| *s <= (res.customer, res.at));
        if let Some(s) = all_starts.get(next).filter(|s| s.0 == res.customer) {
            g.repeats.push(*s);
        }
    }
    if r.dimension.has_activity() {
        let open = rollup.open_activity(now.min(to));
        let closed =
            rollup.activity.range((lo, switchboard_core::ids::UserId(0))..(hi, switchboard_core::ids::UserId(0)));
        let open = open.range((lo, switchboard_core::ids::UserId(0))..(hi, switchboard_core::ids::UserId(0)));
        for ((bucket, agent), a) in closed.chain(open) {
            let key = Key { agent: Some(*agent), ..Default::default() };
            let g = groups.entry((start_of(*bucket), r.dimension.project(&key))).or_default();
            g.activity.get_or_insert_with(Activity::default).add(a);
        }
    }
    groups
        .into_iter()
        .map(|((start, key), g)| {
            let id = r.dimension.id(&key);
            let id_text = id.to_string();
            let mut c = g.counters;
            let activity = r.dimension.has_activity().then(|| g.activity.unwrap_or_default());
            if let Some(a) = &activity {
                c += activity_counters(a);
            }
            let s = c.summary();
            let scores = scores(&g.ratings);
            let csat = metrics::csat(&scores);
            Row {
                start,
                start_local: local_label(zone, start),
                name: names.get(&id_text).cloned().unwrap_or_else(|| id.as_str().unwrap_or(&id_text).to_string()),
                id,
                offered: s.offered,
                handled: s.handled,
                abandoned: s.abandoned,
                short_abandoned: s.short_abandoned,
                overflowed: s.overflowed,
                service_level: s.service_level,
                service_level_2: s.service_level_2,
                asa_seconds: s.asa_seconds,
                aht_seconds: s.aht_seconds,
                talk_seconds: c.talk_seconds(),
                hold_seconds: c.hold_seconds(),
                wrap_seconds: c.wrap_seconds(),
                abandonment_rate: s.abandonment_rate,
                transferred: c.transferred,
                transfer_rate: c.transfer_rate(),
                contained: c.contained,
                handed_off: c.handed_off,
                containment: c.containment(),
                sla_breaches: c.sla_breaches,
                resolved: g.resolutions.len() as u64,
                fcr: metrics::first_contact_resolution(&g.resolutions, &g.repeats, r.fcr_window),
                csat_count: scores.len() as u64,
                csat_mean: csat.map(|x| x.1),
                csat_top2: csat.map(|x| x.0),
                occupancy: activity.as_ref().and(c.occupancy()),
                utilisation: activity.as_ref().and(c.utilisation()),
                logins: activity.as_ref().map(|a| a.logins),
                offers: activity.as_ref().map(|a| a.offers),
                missed_offers: activity.as_ref().map(|a| a.missed),
                rejected_offers: activity.as_ref().map(|a| a.rejected),
                state_seconds: activity.as_ref().map(|a| {
                    let mut out: BTreeMap<String, f64> = BTreeMap::new();
                    for ((state, reason), ms) in &a.states {
                        let name = match reason {
                            Some(code) => format!("{}:{code}", state.as_str()),
                            None => state.as_str().to_string(),
                        };
                        *out.entry(name).or_default() += *ms as f64 / 1000.0;
                    }
                    out
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
