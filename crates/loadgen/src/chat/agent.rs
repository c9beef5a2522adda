//! Auto-answering agents: each reads its `/api/v1/events` socket, accepts
//! every offer and echoes every customer message back with
//! `POST /api/v1/contacts/{id}/messages`, as the agent desktop would with
//! a very fast typist.
//!
//! Requests go over keep-alive connections, at most [`IN_FLIGHT`] at once
//! per agent, as a browser does per host; more wait their turn, so a slow
//! server shows up as round-trip time, not as an unbounded pile of
//! connections.
//!
//! Agents also list their pending offers every [`POLL_EVERY`]: the server
//! can skip events on a socket (docs/BENCHMARKS.md, "Chat"), and an offer
//! never seen would time out and, three in a row, set the agent away. Offers
//! found only that way are counted.

use super::socket::{Socket, connect, ws_base};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// Requests in flight per agent: a browser's limit per host over HTTP/1.1.
const IN_FLIGHT: usize = 6;

/// How often an agent lists its pending offers; well under the 30 s an
/// offer lasts.
const POLL_EVERY: Duration = Duration::from_secs(5);

/// A logged-in agent.
#[derive(Clone, Debug)]
pub struct Agent {
    pub user: u64,
    pub token: String,
}

/// All agents' counts together.
#[derive(Debug, Default)]
pub struct AgentStats {
    pub accepted: AtomicU64,
    /// Offers accepted only because the agent's listing found them: their
    /// `offer_created` never came on the socket.
    pub polled: AtomicU64,
    pub echoed: AtomicU64,
    /// How long each echo's `POST` took, in microseconds, from the moment
    /// it had one of the agent's connections.
    pub echo_micros: Mutex<Vec<u32>>,
    pub errors: AtomicU64,
    pub reconnects: AtomicU64,
    pub first_error: Mutex<Option<String>>,
}

impl AgentStats {
    pub fn error(&self, e: impl std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().expect("first_error lock").get_or_insert_with(|| e.to_string());
    }
}

/// An event as the socket sends it; only what the agent looks at.
#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    id: u64,
    kind: String,
    contact: Option<u64>,
    agent: Option<u64>,
    #[serde(default)]
    payload: Payload,
}

#[derive(Default, Deserialize)]
struct Payload {
    from: Option<String>,
    client_id: Option<String>,
}

/// Opens the agent's event socket (before it goes available, so that no
/// offer is missed).
pub async fn subscribe(base: &str, agent: &Agent) -> anyhow::Result<Socket> {
    connect(&format!("{}/api/v1/events", ws_base(base)), Some(&agent.token)).await
}

struct Desk {
    http: reqwest::Client,
    base: String,
    agent: Agent,
    slots: Arc<Semaphore>,
    stats: Arc<AgentStats>,
    /// Offers being or already accepted, so that the event and the listing
    /// do not both accept one.
    claimed: Mutex<HashSet<u64>>,
}

/// Answers on `socket` until the task is aborted; reconnects after the
/// last event seen if the server drops the socket.
pub async fn answer(base: String, agent: Agent, mut socket: Socket, stats: Arc<AgentStats>) {
    let desk = Arc::new(Desk {
        http: reqwest::Client::new(),
        base,
        agent,
        slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        stats,
        claimed: Mutex::default(),
    });
    let poller = tokio::spawn(poll_offers(desk.clone()));
    // Aborting this task must stop the poller too.
    let _poller = AbortOnDrop(poller);
    let mut last = 0;
    loop {
        while let Some(msg) = socket.next().await {
            let text = match msg {
                Ok(Message::Text(t)) => t,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            match serde_json::from_str::<Event>(&text) {
                Ok(e) => {
                    last = last.max(e.id);
                    on_event(&desk, e);
                }
                Err(e) => desk.stats.error(format!("not an event ({e}): {text}")),
            }
        }
        let url = format!("{}/api/v1/events?after={last}", ws_base(&desk.base));
        match connect(&url, Some(&desk.agent.token)).await {
            Ok(s) => {
                socket = s;
                desk.stats.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                desk.stats.error(format!("agent {} lost its event socket: {e:#}", desk.agent.user));
                return;
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn on_event(desk: &Arc<Desk>, e: Event) {
    let Some(contact) = e.contact else { return };
    match e.kind.as_str() {
        "offer_created" if e.agent == Some(desk.agent.user) => accept(desk, contact, false),
        "message" if e.payload.from.as_deref() == Some("customer") => {
            if let Some(cid) = e.payload.client_id {
                echo(desk, contact, cid);
            }
        }
        _ => {}
    }
}

/// Accepts `contact` unless it is claimed already.
fn accept(desk: &Arc<Desk>, contact: u64, polled: bool) {
    if !desk.claimed.lock().expect("claimed lock").insert(contact) {
        return;
    }
    let desk = desk.clone();
    tokio::spawn(async move {
        if post(&desk, &format!("/api/v1/contacts/{contact}/accept"), None).await {
            desk.stats.accepted.fetch_add(1, Ordering::Relaxed);
            if polled {
                desk.stats.polled.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            // Timed out meanwhile: it may come back in another offer.
            desk.claimed.lock().expect("claimed lock").remove(&contact);
        }
    });
}

/// Echoes a customer's message in a task of its own, timing the `POST`.
fn echo(desk: &Arc<Desk>, contact: u64, client_id: String) {
    let desk = desk.clone();
    tokio::spawn(async move {
        let body = json!({ "text": format!("echo {client_id}") }).to_string();
        let started = std::time::Instant::now();
        if post(&desk, &format!("/api/v1/contacts/{contact}/messages"), Some(body)).await {
            let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
            desk.stats.echoed.fetch_add(1, Ordering::Relaxed);
            desk.stats.echo_micros.lock().expect("echo_micros lock").push(took);
        }
    });
}

/// `POST path`, waiting for one of the agent's connections; false (and
/// the error counted) unless it succeeds.
async fn post(desk: &Desk, path: &str, body: Option<String>) -> bool {
    let Ok(_slot) = desk.slots.acquire().await else { return false };
    let mut req = desk.http.post(format!("{}{path}", desk.base)).bearer_auth(&desk.agent.token);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    match req.send().await {
        Ok(resp) if resp.status().is_success() => {
            // Read to the end so the connection goes back to the pool.
            let _ = resp.bytes().await;
            true
        }
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            desk.stats.error(format!("POST {path}: {status} {text}"));
            false
        }
        Err(e) => {
            desk.stats.error(format!("POST {path}: {e}"));
            false
        }
    }
}

/// Every [`POLL_EVERY`], accepts the pending offers the socket did not bring.
async fn poll_offers(desk: Arc<Desk>) {
    let url = format!("{}/api/v1/contacts?state=offered&agent={}&limit=100", desk.base, desk.agent.user);
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let listed = async {
            let _slot = desk.slots.acquire().await.ok()?;
            let resp = desk.http.get(&url).bearer_auth(&desk.agent.token).send().await.ok()?;
            resp.json::<serde_json::Value>().await.ok()
        };
        let Some(listed) = listed.await else {
            desk.stats.error("listing offers failed");
            continue;
        };
        let contacts = listed["contacts"].as_array().into_iter().flatten();
        for id in contacts.filter_map(|c| c["id"].as_u64()) {
            accept(&desk, id, true);
        }
    }
}
