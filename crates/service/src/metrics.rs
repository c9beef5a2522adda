//! Prometheus metrics at `GET /metrics`, in the text exposition format
//! (version 0.0.4), written by hand.
//!
//! Gauges are read from the loaded workspaces when scraped; counters and
//! histograms are kept by the service ([`Observed`]) and by the HTTP edge,
//! which times every request labelled by the route's template
//! (`/api/v1/contacts/{id}`), never by the raw path, so the number of
//! series stays bounded. A channel with live media (voice) keeps its own
//! figures in [`CallFigures`], which the service holds for it: the channel
//! writes them, `/metrics` reads them, and neither knows the other.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::agent::AgentState;
use switchboard_core::ids::{QueueId, WorkspaceId};
use switchboard_store::{ContactState, LoggedEvent};

/// The states a loaded workspace holds contacts in (open ones and wrap-up),
/// so that each is reported, at zero too.
pub const LIVE_STATES: [ContactState; 6] = [
    ContactState::New,
    ContactState::Queued,
    ContactState::Offered,
    ContactState::Connected,
    ContactState::WrapUp,
    ContactState::CallbackScheduled,
];

pub const AGENT_STATES: [AgentState; 5] =
    [AgentState::Offline, AgentState::Available, AgentState::OnContact, AgentState::WrapUp, AgentState::Away];

/// One queue's depth now.
#[derive(Clone, Debug)]
pub struct QueueGauge {
    pub queue: QueueId,
    pub waiting: u32,
    pub callbacks: u32,
    pub oldest_wait_seconds: f64,
}

/// One loaded workspace, now.
#[derive(Clone, Debug)]
pub struct WorkspaceGauges {
    pub workspace: WorkspaceId,
    /// Every state of [`LIVE_STATES`], then any other state found.
    pub contacts: Vec<(ContactState, u64)>,
    pub queues: Vec<QueueGauge>,
    pub agents: BTreeMap<AgentState, u64>,
}

/// Upper bounds of the latency buckets, in seconds (`+Inf` is implied).
pub const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A fixed-bucket histogram of durations.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Per bucket (not cumulative); what exceeds the last bound is only in `count`.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// `_bucket`, `_sum` and `_count` lines for `name` with `labels`.
    fn render(&self, out: &mut String, name: &str, labels: &[(&str, &str)]) {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            let le = bound.to_string();
            sample(out, &format!("{name}_bucket"), &with(labels, ("le", &le)), cumulative as f64);
        }
        sample(out, &format!("{name}_bucket"), &with(labels, ("le", "+Inf")), self.count as f64);
        sample(out, &format!("{name}_sum"), labels, self.sum);
        sample(out, &format!("{name}_count"), labels, self.count as f64);
    }
}

fn with<'a>(labels: &[(&'a str, &'a str)], extra: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
    let mut all = labels.to_vec();
    all.push(extra);
    all
}

/// How requests to one route (and method) went.
#[derive(Clone, Debug, Default)]
struct RouteStats {
    latency: Histogram,
    by_status: BTreeMap<u16, u64>,
}

/// The counters and histograms a service keeps while it runs.
#[derive(Debug, Default)]
pub struct Observed {
    /// By (route template, method).
    http: Mutex<BTreeMap<(String, String), RouteStats>>,
    commits: Mutex<Histogram>,
    /// By (workspace, outcome): created, accepted, rejected, timed_out, revoked.
    offers: Mutex<BTreeMap<(WorkspaceId, String), u64>>,
    /// By outcome: delivered, failed (an attempt), abandoned (after the last attempt).
    deliveries: Mutex<BTreeMap<&'static str, u64>>,
    /// The voice channel's calls and media.
    calls: Arc<CallFigures>,
}

/// Where a live call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStage {
    /// With the IVR (or the post-call survey): the machine talks.
    Ivr,
    /// Waiting for an agent, with the phone possibly ringing.
    Queued,
    /// Talking to an agent (held calls too).
    Bridged,
}

impl CallStage {
    pub const ALL: [CallStage; 3] = [CallStage::Ivr, CallStage::Queued, CallStage::Bridged];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStage::Ivr => "ivr",
            CallStage::Queued => "queued",
            CallStage::Bridged => "bridged",
        }
    }
}

/// The figures of the calls of a voice channel: calls by stage now, and
/// what their media sessions received since the server started.
#[derive(Debug, Default)]
pub struct CallFigures {
    stages: [AtomicI64; 3],
    rtp_received: AtomicU64,
    rtp_lost: AtomicU64,
    rtp_late: AtomicU64,
    /// Each media session's interarrival jitter, observed at its reports.
    jitter: Mutex<Histogram>,
}

impl CallFigures {
    /// A call entering the stages: it counts where it is until dropped.
    pub fn call(self: &Arc<Self>) -> CallPlace {
        CallPlace { figures: self.clone(), at: None }
    }

    /// Calls in `stage` now.
    pub fn in_stage(&self, stage: CallStage) -> i64 {
        self.stages[stage as usize].load(Ordering::Relaxed)
    }

    /// A media session's packets received, lost (by sequence numbers) and
    /// arrived too late to play, since it last told.
    pub fn media(&self, received: u64, lost: u64, late: u64) {
        self.rtp_received.fetch_add(received, Ordering::Relaxed);
        self.rtp_lost.fetch_add(lost, Ordering::Relaxed);
        self.rtp_late.fetch_add(late, Ordering::Relaxed);
    }

    /// A media session's interarrival jitter now (RFC 3550 §6.4.1).
    pub fn jitter(&self, jitter: Duration) {
        self.jitter.lock().expect("metrics lock").observe(jitter);
    }

    /// Packets received, lost and late since the start.
    pub fn packets(&self) -> (u64, u64, u64) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        (load(&self.rtp_received), load(&self.rtp_lost), load(&self.rtp_late))
    }
}

/// One call's place among the stages; dropping it takes the call out.
#[derive(Debug)]
pub struct CallPlace {
    figures: Arc<CallFigures>,
    at: Option<CallStage>,
}

impl CallPlace {
    /// The call is now in `stage`.
    pub fn enter(&mut self, stage: CallStage) {
        self.leave();
        self.figures.stages[stage as usize].fetch_add(1, Ordering::Relaxed);
        self.at = Some(stage);
    }

    fn leave(&mut self) {
        if let Some(at) = self.at.take() {
            self.figures.stages[at as usize].fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for CallPlace {
    fn drop(&mut self) {
        self.leave();
    }
}

impl Observed {
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let mut http = self.http.lock().expect("metrics lock");
        let stats = http.entry((route.to_string(), method.to_string())).or_default();
        stats.latency.observe(took);
        *stats.by_status.entry(status).or_default() += 1;
    }

    /// One store commit of a service operation, from hand-off to acknowledgement.
    pub fn commit_took(&self, took: Duration) {
        self.commits.lock().expect("metrics lock").observe(took);
    }

    /// A committed event: counts offers by outcome.
    pub fn event(&self, e: &LoggedEvent) {
        let outcome = match e.kind.as_str() {
            "offer_created" => "created",
            "offer_accepted" => "accepted",
            "offer_ended" => e.payload.get("reason").and_then(|r| r.as_str()).unwrap_or("ended"),
            _ => return,
        };
        *self.offers.lock().expect("metrics lock").entry((e.workspace, outcome.to_string())).or_default() += 1;
    }

    /// One webhook delivery attempt's outcome: `delivered`, `failed` or `abandoned`.
    pub fn delivery(&self, outcome: &'static str) {
        *self.deliveries.lock().expect("metrics lock").entry(outcome).or_default() += 1;
    }

    /// The voice channel's figures, for it to write.
    pub fn calls(&self) -> Arc<CallFigures> {
        self.calls.clone()
    }

    /// How many requests to `route` with `method` have been timed.
    pub fn requests(&self, route: &str, method: &str) -> u64 {
        let http = self.http.lock().expect("metrics lock");
        http.get(&(route.to_string(), method.to_string())).map_or(0, |s| s.latency.count())
    }
}

/// The whole exposition.
pub fn render(gauges: &[WorkspaceGauges], o: &Observed) -> String {
    let mut out = String::new();
    family(&mut out, "switchboard_workspaces_loaded", "gauge", "Workspaces whose routing engine is in memory.");
    sample(&mut out, "switchboard_workspaces_loaded", &[], gauges.len() as f64);

    family(&mut out, "switchboard_contacts", "gauge", "Contacts being routed, handled or wrapped up, by state.");
    for g in gauges {
        let ws = g.workspace.0.to_string();
        for (state, n) in &g.contacts {
            let state = serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_string));
            let state = state.unwrap_or_default();
            sample(&mut out, "switchboard_contacts", &[("workspace", &ws), ("state", &state)], *n as f64);
        }
    }

    family(&mut out, "switchboard_queue_waiting", "gauge", "Contacts waiting in a queue (its depth).");
    for g in gauges {
        let ws = g.workspace.0.to_string();
        for q in &g.queues {
            let queue = q.queue.0.to_string();
            sample(&mut out, "switchboard_queue_waiting", &[("workspace", &ws), ("queue", &queue)], q.waiting.into());
        }
    }
    family(&mut out, "switchboard_queue_callbacks", "gauge", "Callbacks scheduled in a queue.");
    for g in gauges {
        let ws = g.workspace.0.to_string();
        for q in &g.queues {
            let queue = q.queue.0.to_string();
            let labels = [("workspace", ws.as_str()), ("queue", queue.as_str())];
            sample(&mut out, "switchboard_queue_callbacks", &labels, q.callbacks.into());
        }
    }
    family(
        &mut out,
        "switchboard_queue_oldest_wait_seconds",
        "gauge",
        "How long the oldest waiting contact has waited.",
    );
    for g in gauges {
        let ws = g.workspace.0.to_string();
        for q in &g.queues {
            let queue = q.queue.0.to_string();
            let labels = [("workspace", ws.as_str()), ("queue", queue.as_str())];
            sample(&mut out, "switchboard_queue_oldest_wait_seconds", &labels, q.oldest_wait_seconds);
        }
    }

    family(&mut out, "switchboard_agents", "gauge", "Agents by state.");
    for g in gauges {
        let ws = g.workspace.0.to_string();
        for (state, n) in &g.agents {
            sample(&mut out, "switchboard_agents", &[("workspace", &ws), ("state", state.as_str())], *n as f64);
        }
    }

    family(&mut out, "switchboard_offers_total", "counter", "Offers to agents by outcome, since the server started.");
    for ((ws, outcome), n) in o.offers.lock().expect("metrics lock").iter() {
        let ws = ws.0.to_string();
        sample(&mut out, "switchboard_offers_total", &[("workspace", &ws), ("outcome", outcome)], *n as f64);
    }

    family(
        &mut out,
        "switchboard_webhook_deliveries_total",
        "counter",
        "Webhook delivery attempts by outcome: delivered, failed (will retry) or abandoned (the last attempt failed).",
    );
    for (outcome, n) in o.deliveries.lock().expect("metrics lock").iter() {
        sample(&mut out, "switchboard_webhook_deliveries_total", &[("outcome", outcome)], *n as f64);
    }

    let http = o.http.lock().expect("metrics lock").clone();
    family(
        &mut out,
        "switchboard_http_requests_total",
        "counter",
        "HTTP requests by route template, method and status.",
    );
    for ((route, method), stats) in &http {
        for (status, n) in &stats.by_status {
            let status = status.to_string();
            let labels = [("route", route.as_str()), ("method", method.as_str()), ("status", status.as_str())];
            sample(&mut out, "switchboard_http_requests_total", &labels, *n as f64);
        }
    }
    family(
        &mut out,
        "switchboard_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by route template and method.",
    );
    for ((route, method), stats) in &http {
        let labels = [("route", route.as_str()), ("method", method.as_str())];
        stats.latency.render(&mut out, "switchboard_http_request_duration_seconds", &labels);
    }

    family(
        &mut out,
        "switchboard_store_commit_duration_seconds",
        "histogram",
        "Time from handing a service operation's changes to the store until they are durable.",
    );
    let commits = o.commits.lock().expect("metrics lock").clone();
    commits.render(&mut out, "switchboard_store_commit_duration_seconds", &[]);
    render_calls(&mut out, &o.calls);
    out
}

fn render_calls(out: &mut String, calls: &CallFigures) {
    family(out, "switchboard_calls", "gauge", "Voice calls now, by stage: ivr (or the survey), queued, bridged.");
    for stage in CallStage::ALL {
        sample(out, "switchboard_calls", &[("stage", stage.as_str())], calls.in_stage(stage) as f64);
    }
    let (received, lost, late) = calls.packets();
    for (name, help, n) in [
        (
            "switchboard_rtp_packets_received_total",
            "RTP packets the voice channel's media sessions received.",
            received,
        ),
        ("switchboard_rtp_packets_lost_total", "RTP packets that never arrived, by their sequence numbers.", lost),
        ("switchboard_rtp_packets_late_total", "RTP packets that arrived after their turn to play.", late),
    ] {
        family(out, name, "counter", help);
        sample(out, name, &[], n as f64);
    }
    family(
        out,
        "switchboard_rtp_jitter_seconds",
        "histogram",
        "Interarrival jitter of the voice channel's media sessions, observed at each of their RTCP reports.",
    );
    let jitter = calls.jitter.lock().expect("metrics lock").clone();
    jitter.render(out, "switchboard_rtp_jitter_seconds", &[]);
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// A label value: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_counts_in_one_stage_until_dropped() {
        let o = Observed::default();
        let mut call = o.calls().call();
        call.enter(CallStage::Ivr);
        call.enter(CallStage::Queued);
        let mut other = o.calls().call();
        other.enter(CallStage::Queued);
        o.calls().media(50, 3, 1);
        let text = render(&[], &o);
        assert!(text.contains("switchboard_calls{stage=\"ivr\"} 0\n"), "{text}");
        assert!(text.contains("switchboard_calls{stage=\"queued\"} 2\n"), "{text}");
        assert!(text.contains("switchboard_rtp_packets_lost_total 3\n"), "{text}");
        drop(call);
        other.enter(CallStage::Bridged);
        assert_eq!(CallStage::ALL.map(|s| o.calls().in_stage(s)), [0, 0, 1]);
        drop(other);
        assert_eq!(CallStage::ALL.map(|s| o.calls().in_stage(s)), [0, 0, 0]);
    }

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let mut h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(60));
        let mut out = String::new();
        h.render(&mut out, "x", &[("route", "/a\"b")]);
        assert!(out.contains("x_bucket{route=\"/a\\\"b\",le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{route=\"/a\\\"b\",le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{route=\"/a\\\"b\",le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count{route=\"/a\\\"b\"} 3\n"), "{out}");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(2.0), "2");
    }
}
