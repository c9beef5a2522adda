//! `loadgen voice`: calls from sipp to the real `switchboard serve --sip`,
//! each against a peer in the same run.
//!
//! - `hold`: N callers held at once — in the queue with hold music, or in
//!   an IVR prompt — audio flowing both ways (sipp plays a G.711 pcap to
//!   us). The pacing of the audio *we* send is read from a loopback
//!   capture, outside our process; our CPU and memory from /proc. The peer
//!   is sipp's own pcap-playing answerer, measured the same way.
//! - `setup`: short calls (INVITE, 200, ACK, BYE) at a given rate: calls
//!   per CPU-second, against Kamailio replying statelessly.
//!
//! See docs/BENCHMARKS.md ("Voice") for the figures.

mod capture;
mod pcap;
pub mod report;
mod sipp;
mod targets;

use crate::cpu::{Shares, Snapshot};
use crate::process::{fresh_dir, rss_kib};
use anyhow::Context;
use capture::{Capture, Pacing};
use serde::Serialize;
use sipp::{Counts, Launch, Sipp};
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};
use targets::{Kamailio, RTP_PORTS, VoiceSwitchboard, free_udp_port};

/// The callers' first media port; each call's is 4 above the last one's.
const CALLER_MEDIA: u16 = 30_000;
/// The same for sipp's answerer.
const ANSWERER_MEDIA: u16 = 40_000;
/// sipp's `[auto_media_port]` goes round after 2,500 calls.
pub const MAX_CALLS: usize = 2_500;
/// How long set-up may lag the asked rate before the run gives up.
const READY_SLACK: Duration = Duration::from_secs(20);
/// The pacing a held call must keep (p99 of |gap − 20 ms|), and loss 0.
pub const P99_LIMIT_MS: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldTarget {
    Switchboard,
    /// sipp answering every call with a pcap of its own.
    SippAnswerer,
}

#[derive(Clone, Debug)]
pub struct HoldPlan {
    pub calls: Vec<usize>,
    /// New calls a second while ramping up.
    pub rate: u32,
    /// Time between the last call answered and the measured window.
    pub settle: Duration,
    pub measure: Duration,
    /// Callers hear an IVR recording (longer than the call) instead of hold music.
    pub ivr: bool,
    /// Run the target (Switchboard or sipp's answerer alike) at real-time
    /// priority, so that a machine busy with other work delays its packets
    /// no more than a dedicated one would.
    pub realtime: bool,
    pub targets: Vec<HoldTarget>,
}

impl HoldPlan {
    /// How long each caller stays: the ramp, the slack, the settling and the window, and a margin.
    fn hold(&self, calls: usize) -> Duration {
        Duration::from_secs_f64(calls as f64 / f64::from(self.rate))
            + READY_SLACK
            + self.settle
            + self.measure
            + Duration::from_secs(2)
    }
}

/// One target holding N calls.
#[derive(Debug, Serialize)]
pub struct Held {
    pub target: HoldTarget,
    pub calls: usize,
    /// sipp's counts at the end of the run (every call should have succeeded).
    pub callers: Counts,
    /// Switchboard: callers in the queue at the end of the window.
    pub waiting: Option<u64>,
    pub cpu: Shares,
    /// Cores the target used over the window.
    pub cores: f64,
    pub rss_idle_kib: u64,
    pub rss_load_kib: u64,
    pub pacing: Pacing,
}

impl Held {
    /// Calls held per core the target used.
    pub fn calls_per_core(&self) -> f64 {
        self.calls as f64 / self.cores.max(f64::MIN_POSITIVE)
    }

    pub fn kib_per_call(&self) -> f64 {
        self.rss_load_kib.saturating_sub(self.rss_idle_kib) as f64 / self.calls.max(1) as f64
    }

    /// Held as asked: every call up, every stream seen, p99 under the limit, nothing lost.
    pub fn passed(&self) -> bool {
        self.callers.failed == 0
            && self.pacing.streams >= self.calls
            && self.pacing.p99_ms < P99_LIMIT_MS
            && self.pacing.lost == 0
            && self.pacing.capture_dropped == 0
    }
}

pub async fn hold(binary: &Path, plan: &HoldPlan) -> anyhow::Result<Vec<Held>> {
    let mut rows = Vec::new();
    for &calls in &plan.calls {
        for &target in &plan.targets {
            let row =
                hold_once(binary, plan, target, calls).await.with_context(|| format!("{target:?}, {calls} calls"))?;
            report::held_line(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

async fn hold_once(binary: &Path, plan: &HoldPlan, target: HoldTarget, calls: usize) -> anyhow::Result<Held> {
    let dir = fresh_dir("voice-hold")?;
    let hold = plan.hold(calls);
    let audio = dir.join("caller.pcap");
    pcap::write_caller_audio(&audio, hold.as_secs() as u32 + 2)?;
    // Where the audio of each call lands: sockets nobody reads (the kernel drops what
    // overflows them), so that no packet draws an ICMP error. sipp holds the first port.
    let mut sinks = Sinks::bind(CALLER_MEDIA, calls);
    let mut switchboard = None;
    let mut answerer = None;
    let (pid, to, capture_ports) = match target {
        HoldTarget::Switchboard => {
            let ivr = plan.ivr.then(|| hold.as_secs() as u32 + 10);
            let sb = VoiceSwitchboard::start(binary, &dir, ivr).await?;
            let out = (sb.server.pid(), sb.sip, RTP_PORTS);
            switchboard = Some(sb);
            out
        }
        HoldTarget::SippAnswerer => {
            sinks.extend(Sinks::bind(ANSWERER_MEDIA, calls));
            let sip = free_udp_port()?;
            let uas = Sipp::start(Launch {
                dir: &dir,
                label: "answerer",
                scenario: &sipp::pcap_answerer(&audio),
                to: None,
                media_port: ANSWERER_MEDIA,
                args: vec!["-p".into(), sip.port().to_string()],
            })?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let out = (uas.pid(), sip, (ANSWERER_MEDIA, ANSWERER_MEDIA + 4 * calls as u16));
            answerer = Some(uas);
            out
        }
    };
    if plan.realtime {
        realtime(pid)?;
    }
    // One call first: the first caller's prompts are spoken or converted and
    // cached (a text-to-speech run per prompt), which is start-up, not load.
    let warm_up = Sipp::start(Launch {
        dir: &dir,
        label: "warm-up",
        scenario: &sipp::held_call(&audio, Duration::from_secs(3)),
        to: Some(to),
        media_port: CALLER_MEDIA,
        args: args(&["-m", "1", "-p", &free_udp_port()?.port().to_string()]),
    })?;
    let warmed = warm_up.finish(Duration::from_secs(60)).await?;
    anyhow::ensure!(warmed.successful == 1, "the warm-up call failed: {warmed:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_kib = rss_kib(pid)?;
    let mut load = Sipp::start(Launch {
        dir: &dir,
        label: "callers",
        scenario: &sipp::held_call(&audio, hold),
        to: Some(to),
        media_port: CALLER_MEDIA,
        args: args(&[
            "-r",
            &plan.rate.to_string(),
            "-m",
            &calls.to_string(),
            "-l",
            &calls.to_string(),
            "-p",
            &free_udp_port()?.port().to_string(),
            "-recv_timeout",
            "20000",
        ]),
    })?;
    let ramp = Duration::from_secs_f64(calls as f64 / f64::from(plan.rate));
    let n = calls as u64;
    load.until(ramp + READY_SLACK, |c| c.created >= n && c.current >= n && c.failed == 0).await?;
    tokio::time::sleep(plan.settle).await;

    let capture = Capture::start(&dir, "sent", capture_ports).await?;
    let before = Snapshot::take(pid);
    tokio::time::sleep(plan.measure).await;
    let cpu = before.shares_until(Snapshot::take(pid));
    let rss_load_kib = rss_kib(pid)?;
    let waiting = match &switchboard {
        Some(sb) if !plan.ivr => Some(sb.waiting().await?),
        _ => None,
    };
    let pacing = capture.stop().await?;
    // The calls are still up (they last longer than the window); the counts say
    // whether any failed. Each step starts afresh, so they are not hung up one by one.
    let callers = load.counts();
    drop((load, switchboard, answerer, sinks));
    let cores = cpu.server / 100.0 * cores_of_machine() as f64;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Held { target, calls, callers, waiting, cpu, cores, rss_idle_kib, rss_load_kib, pacing })
}

/// Every thread of `pid` to SCHED_FIFO at priority 10 (threads it starts later inherit it).
fn realtime(pid: u32) -> anyhow::Result<()> {
    let out = std::process::Command::new("chrt").args(["-a", "-f", "-p", "10", &pid.to_string()]).output();
    let out = out.context("running chrt (util-linux)")?;
    anyhow::ensure!(out.status.success(), "chrt failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn cores_of_machine() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Bound, never read UDP sockets on each call's media ports (RTP and RTCP).
struct Sinks(Vec<UdpSocket>);

impl Sinks {
    fn bind(base: u16, calls: usize) -> Sinks {
        let ports = (1..calls).flat_map(|k| {
            let rtp = base + 4 * k as u16;
            [rtp, rtp + 1]
        });
        Sinks(ports.filter_map(|p| UdpSocket::bind(("127.0.0.1", p)).ok()).collect())
    }

    fn extend(&mut self, other: Sinks) {
        self.0.extend(other.0);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupTarget {
    Switchboard,
    /// Kamailio answering with stateless replies.
    Kamailio,
}

#[derive(Clone, Debug)]
pub struct SetupPlan {
    /// Calls a second, one step each.
    pub rates: Vec<u32>,
    pub seconds: u32,
    pub targets: Vec<SetupTarget>,
    pub kamailio_workers: u32,
}

/// One target taking short calls at one rate.
#[derive(Debug, Serialize)]
pub struct SetUp {
    pub target: SetupTarget,
    pub rate: u32,
    pub callers: Counts,
    /// From sipp's start to its end (the last calls' BYEs answered).
    pub seconds: f64,
    pub cpu: Shares,
    /// CPU time the target used over those seconds.
    pub cpu_seconds: f64,
}

impl SetUp {
    pub fn per_second(&self) -> f64 {
        self.callers.successful as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    pub fn per_cpu_second(&self) -> f64 {
        self.callers.successful as f64 / self.cpu_seconds.max(f64::MIN_POSITIVE)
    }
}

pub async fn setup(binary: &Path, plan: &SetupPlan) -> anyhow::Result<Vec<SetUp>> {
    let mut rows = Vec::new();
    for &target in &plan.targets {
        let dir = fresh_dir("voice-setup")?;
        let (pid, to, running): (u32, _, Box<dyn std::any::Any>) = match target {
            SetupTarget::Switchboard => {
                let sb = VoiceSwitchboard::start(binary, &dir, None).await?;
                (sb.server.pid(), sb.sip, Box::new(sb))
            }
            SetupTarget::Kamailio => {
                let k = Kamailio::start(&dir, plan.kamailio_workers).await?;
                (k.pid(), k.sip, Box::new(k))
            }
        };
        for &rate in &plan.rates {
            let row = setup_once(&dir, pid, to, target, rate, plan.seconds).await;
            let row = row.with_context(|| format!("{target:?} at {rate} calls/s"))?;
            report::setup_line(&row);
            rows.push(row);
        }
        drop(running);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(rows)
}

async fn setup_once(
    dir: &Path,
    pid: u32,
    to: std::net::SocketAddr,
    target: SetupTarget,
    rate: u32,
    seconds: u32,
) -> anyhow::Result<SetUp> {
    let before = Snapshot::take(pid);
    let started = Instant::now();
    let callers = Sipp::start(Launch {
        dir,
        label: &format!("short-{rate}"),
        scenario: &sipp::short_call(),
        to: Some(to),
        media_port: CALLER_MEDIA,
        args: args(&[
            "-r",
            &rate.to_string(),
            "-m",
            &(rate * seconds).to_string(),
            "-l",
            "10000",
            "-p",
            &free_udp_port()?.port().to_string(),
            "-recv_timeout",
            "10000",
        ]),
    })?;
    let callers = callers.finish(Duration::from_secs(u64::from(seconds) * 4 + 60)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = before.shares_until(Snapshot::take(pid));
    let cpu_seconds = cpu.server / 100.0 * cores_of_machine() as f64 * elapsed;
    Ok(SetUp { target, rate, callers, seconds: elapsed, cpu, cpu_seconds })
}
