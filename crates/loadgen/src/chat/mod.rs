//! `loadgen chat`: live chats through the real server, against a bare
//! WebSocket relay measured in the same run.
//!
//! Agents connect first, then N customers open chats (each handed to an
//! agent), then all of them talk at once: every customer sends a message
//! every few seconds, the agent echoes it, and the customer times the round
//! trip — customer socket → server → agent's event socket → agent's `POST`
//! → server → customer socket. The server's memory is read before the
//! customers connect, once they all have, and at the end of the measured
//! window.
//!
//! See docs/BENCHMARKS.md ("Chat") for the figures.

mod agent;
mod customer;
mod jitter;
mod observer;
mod relay;
pub mod report;
mod setup;
mod socket;

pub use relay::serve as serve_relay;

use crate::cpu::{Shares, Snapshot};
use crate::process::{Server, fresh_dir, open_file_limit};
use agent::AgentStats;
use customer::{CustomerLog, Door};
use observer::Gaps;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long after the window customers wait for their last echoes.
const DRAIN: Duration = Duration::from_secs(10);

/// Opening stops after this many chats failed to open.
const MAX_OPEN_FAILURES: u64 = 100;

/// Time for the server to settle (tasks parked, buffers in place) before
/// its memory is read.
const SETTLE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub chats: usize,
    pub agents: usize,
    /// Mean time between two messages of one chat.
    pub interval: Duration,
    pub warmup: Duration,
    pub measure: Duration,
    /// Chats being opened at once.
    pub parallel: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Switchboard,
    Relay,
}

/// When customers send, and which of their messages count. Send times
/// travel in client ids as microseconds since `epoch`.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    pub epoch: Instant,
    pub go: Instant,
    pub interval: Duration,
    pub warmup: Duration,
    pub measure: Duration,
    pub drain: Duration,
}

impl Timeline {
    pub fn from(&self) -> Instant {
        self.go + self.warmup
    }

    pub fn until(&self) -> Instant {
        self.from() + self.measure
    }

    pub fn micros(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }

    /// Whether a message sent at `t` is measured.
    pub fn counts(&self, t: Instant) -> bool {
        t >= self.from() && t < self.until()
    }

    pub fn counts_micros(&self, us: u64) -> bool {
        us >= self.micros(self.from()) && us < self.micros(self.until())
    }
}

/// Round-trip percentiles, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Rtt {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Rtt {
    /// From round trips in microseconds, in any order.
    pub fn of(mut micros: Vec<u32>) -> Rtt {
        micros.sort_unstable();
        let ms = |q: f64| f64::from(crate::stats::percentile(&micros, q)) / 1000.0;
        Rtt { p50_ms: ms(0.50), p95_ms: ms(0.95), p99_ms: ms(0.99), max_ms: ms(1.0) }
    }
}

/// One server's run.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub server: &'static str,
    pub chats_asked: usize,
    /// Chats an agent had when the messages began.
    pub chats_connected: usize,
    /// Of those, chats whose socket was still open when the run ended.
    pub chats_open_at_end: usize,
    pub seconds_to_open: f64,
    pub open_failures: u64,
    pub first_open_failure: Option<String>,
    /// Messages sent in the measured window, answered (by the end of the
    /// drain), and answered per second of the window.
    pub messages_sent: u64,
    pub messages_answered: u64,
    pub messages_per_second: f64,
    pub rtt: Rtt,
    /// Failures while talking: customers' and agents'.
    pub errors: u64,
    pub first_error: Option<String>,
    pub customer_reconnects: u64,
    /// Customers who reconnected to hear that an agent had their chat.
    pub customer_resyncs: u64,
    pub agent_reconnects: u64,
    pub offers_accepted: u64,
    /// Offers accepted only because the agent listed its offers.
    pub offers_polled: u64,
    pub echoes_posted: u64,
    /// Switchboard: how long the agents' echo `POST`s took (the talking
    /// phase, warm-up and drain included).
    pub echo_post: Option<Rtt>,
    /// Switchboard: events an administrator's socket received, and the ids
    /// it never got.
    pub events_seen: Option<u64>,
    pub events_skipped: Option<u64>,
    /// Server RSS with only the agents connected, with every chat open and
    /// idle, and at the end of the measured window.
    pub rss_before_kib: u64,
    pub rss_connected_kib: u64,
    pub rss_load_kib: u64,
    pub cpu: Shares,
    pub server_open_file_limit: Option<u64>,
    pub client_open_file_limit: Option<u64>,
}

impl Measured {
    /// Server memory per open chat, at full load.
    pub fn kib_per_chat(&self) -> f64 {
        self.rss_load_kib.saturating_sub(self.rss_before_kib) as f64 / self.chats_connected.max(1) as f64
    }

    /// The same, with every chat open but idle.
    pub fn kib_per_idle_chat(&self) -> f64 {
        self.rss_connected_kib.saturating_sub(self.rss_before_kib) as f64 / self.chats_connected.max(1) as f64
    }
}

/// A server ready for customers: its agents connected and answering.
struct Stage {
    server: Server,
    door: Door,
    /// The agents' tasks (and the observer's), aborted at the end.
    agents: Vec<JoinHandle<()>>,
    stats: Arc<AgentStats>,
    gaps: Option<Arc<Gaps>>,
}

/// Runs `plan` against `target`, on a fresh data directory.
pub async fn measure(binary: &Path, plan: Plan, target: Target) -> anyhow::Result<Measured> {
    let dir = fresh_dir("chat")?;
    let stage = match target {
        Target::Switchboard => switchboard(binary, &dir, plan).await,
        Target::Relay => relay(&dir, plan).await,
    };
    let name = match target {
        Target::Switchboard => "switchboard",
        Target::Relay => "relay",
    };
    let result = match stage {
        Ok(stage) => run(stage, plan, name).await,
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn switchboard(binary: &Path, dir: &Path, plan: Plan) -> anyhow::Result<Stage> {
    let center = setup::start(binary, dir, plan.chats, plan.agents).await?;
    let base = center.server.base.clone();
    let stats = Arc::new(AgentStats::default());
    let mut agents = Vec::with_capacity(center.agents.len());
    for a in center.agents {
        let socket = agent::subscribe(&base, &a).await?;
        setup::available(&base, &a).await?;
        agents.push(tokio::spawn(agent::answer(base.clone(), a, socket, stats.clone())));
    }
    let gaps = Arc::new(Gaps::default());
    let socket = observer::subscribe(&base, &center.admin_token).await?;
    agents.push(tokio::spawn(observer::watch(socket, gaps.clone())));
    let door = Door::Widget { http: reqwest::Client::new(), base, key: center.widget_key };
    Ok(Stage { server: center.server, door, agents, stats, gaps: Some(gaps) })
}

async fn relay(dir: &Path, plan: Plan) -> anyhow::Result<Stage> {
    let me = std::env::current_exe()?;
    let server = Server::start(&dir.join("relay.log"), |port| {
        let mut cmd = std::process::Command::new(&me);
        cmd.args(["relay", "--http", &format!("127.0.0.1:{port}"), "--agents", &plan.agents.to_string()]);
        cmd
    })
    .await?;
    let stats = Arc::new(AgentStats::default());
    let mut agents = Vec::with_capacity(plan.agents);
    for id in 0..plan.agents as u64 {
        let socket = relay::subscribe(&server.base, id).await?;
        agents.push(tokio::spawn(relay::answer(socket, stats.clone())));
    }
    let door = Door::Relay { base: server.base.clone() };
    Ok(Stage { server, door, agents, stats, gaps: None })
}

async fn run(stage: Stage, plan: Plan, name: &'static str) -> anyhow::Result<Measured> {
    let pid = stage.server.pid();
    let rss_before_kib = stage.server.rss_kib()?;
    let (go, waiting) = watch::channel(None);
    let epoch = Instant::now();
    let opened = open_all(&stage.door, plan, waiting).await;
    let seconds_to_open = epoch.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss_connected_kib = stage.server.rss_kib()?;

    let t = Timeline {
        epoch,
        go: Instant::now(),
        interval: plan.interval,
        warmup: plan.warmup,
        measure: plan.measure,
        drain: DRAIN,
    };
    eprintln!(
        "{name}: {} chats open in {seconds_to_open:.1} s; talking for {:.0} s + {:.0} s measured",
        opened.talking.len(),
        plan.warmup.as_secs_f64(),
        plan.measure.as_secs_f64()
    );
    let _ = go.send(Some(t));
    tokio::time::sleep_until(t.from().into()).await;
    let cpu_from = Snapshot::take(pid);
    tokio::time::sleep_until(t.until().into()).await;
    let cpu = cpu_from.shares_until(Snapshot::take(pid));
    let rss_load_kib = stage.server.rss_kib()?;

    let chats_connected = opened.talking.len();
    let mut all = CustomerLog::default();
    let mut open_at_end = 0;
    for task in opened.talking {
        match task.await {
            Ok(log) => {
                open_at_end += usize::from(!log.lost);
                all.rtts.extend(log.rtts);
                all.sent += log.sent;
                all.answered += log.answered;
                all.reconnects += log.reconnects;
                all.resyncs += log.resyncs;
                all.errors += log.errors;
                all.first_error = all.first_error.or(log.first_error);
            }
            Err(e) => {
                all.errors += 1;
                all.first_error.get_or_insert(format!("customer task failed: {e}"));
            }
        }
    }
    for a in &stage.agents {
        a.abort();
    }
    let s = &stage.stats;
    let agent_errors = s.errors.load(Ordering::Relaxed);
    let agent_first = s.first_error.lock().expect("first_error lock").clone();
    Ok(Measured {
        server: name,
        chats_asked: plan.chats,
        chats_connected,
        chats_open_at_end: open_at_end,
        seconds_to_open,
        open_failures: opened.failures,
        first_open_failure: opened.first_failure,
        messages_sent: all.sent,
        messages_answered: all.answered,
        messages_per_second: all.answered as f64 / plan.measure.as_secs_f64(),
        rtt: Rtt::of(all.rtts),
        errors: all.errors + agent_errors,
        first_error: all.first_error.or(agent_first),
        customer_reconnects: all.reconnects,
        customer_resyncs: all.resyncs,
        agent_reconnects: s.reconnects.load(Ordering::Relaxed),
        offers_accepted: s.accepted.load(Ordering::Relaxed),
        offers_polled: s.polled.load(Ordering::Relaxed),
        echoes_posted: s.echoed.load(Ordering::Relaxed),
        echo_post: stage
            .gaps
            .is_some()
            .then(|| Rtt::of(std::mem::take(&mut *s.echo_micros.lock().expect("echo_micros lock")))),
        events_seen: stage.gaps.as_ref().map(|g| g.seen.load(Ordering::Relaxed)),
        events_skipped: stage.gaps.as_ref().map(|g| g.skipped.load(Ordering::Relaxed)),
        rss_before_kib,
        rss_connected_kib,
        rss_load_kib,
        cpu,
        server_open_file_limit: open_file_limit(&pid.to_string()),
        client_open_file_limit: open_file_limit("self"),
    })
}

struct Opened {
    /// Each open chat's conversation, waiting for the go.
    talking: Vec<JoinHandle<CustomerLog>>,
    failures: u64,
    first_failure: Option<String>,
}

/// Opens the chats, `plan.parallel` at a time; each, once an agent has it,
/// waits for the go on `go`.
async fn open_all(door: &Door, plan: Plan, go: watch::Receiver<Option<Timeline>>) -> Opened {
    let mut opened = Opened { talking: Vec::with_capacity(plan.chats), failures: 0, first_failure: None };
    let mut opening = JoinSet::new();
    let mut next = 0;
    let started = Instant::now();
    loop {
        while next < plan.chats && opening.len() < plan.parallel && opened.failures < MAX_OPEN_FAILURES {
            let door = door.clone();
            let id = next as u64;
            opening.spawn(async move { (id, customer::open(&door, id).await) });
            next += 1;
        }
        let failure = match opening.join_next().await {
            None => return opened,
            Some(Ok((_, Ok(chat)))) => {
                opened.talking.push(tokio::spawn(customer::converse(chat, go.clone())));
                if opened.talking.len().is_multiple_of(1000) {
                    let n = opened.talking.len();
                    eprintln!("  {n} chats open after {:.1} s", started.elapsed().as_secs_f64());
                }
                continue;
            }
            Some(Ok((id, Err(e)))) => format!("chat {id}: {e:#}"),
            Some(Err(e)) => format!("opening task failed: {e}"),
        };
        opened.failures += 1;
        opened.first_failure.get_or_insert(failure);
    }
}
