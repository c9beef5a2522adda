//! Auto-answering agents: each reads its `/api/v1/events` socket, accepts
//! every offer and echoes every customer message back with
//! `POST /api/v1/contacts/{id}/messages`, as the agent desktop would with
//! a very fast typist.
//!
//! Requests go over keep-alive connections, at most [`IN_FLIGHT`] at once
//! per agent, as a browser does per host; more wait their turn, so a slow
//! server shows up as round-trip time, not as an unbounded pile of
//! connections.

use super::socket::{Socket, connect, ws_base};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// Requests in flight per agent: a browser's limit per host over HTTP/1.1.
const IN_FLIGHT: usize = 6;

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
    pub echoed: AtomicU64,
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
    });
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

fn on_event(desk: &Arc<Desk>, e: Event) {
    let Some(contact) = e.contact else { return };
    match e.kind.as_str() {
        "offer_created" if e.agent == Some(desk.agent.user) => {
            call(desk, format!("/api/v1/contacts/{contact}/accept"), None, |s| &s.accepted);
        }
        "message" if e.payload.from.as_deref() == Some("customer") => {
            if let Some(cid) = e.payload.client_id {
                let body = json!({ "text": format!("echo {cid}") }).to_string();
                call(desk, format!("/api/v1/contacts/{contact}/messages"), Some(body), |s| &s.echoed);
            }
        }
        _ => {}
    }
}

/// `POST path` in a task of its own, counted in `counter` on success.
fn call(desk: &Arc<Desk>, path: String, body: Option<String>, counter: fn(&AgentStats) -> &AtomicU64) {
    let desk = desk.clone();
    tokio::spawn(async move {
        let Ok(_slot) = desk.slots.clone().acquire_owned().await else { return };
        let mut req = desk.http.post(format!("{}{path}", desk.base)).bearer_auth(&desk.agent.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                // Read to the end so the connection goes back to the pool.
                let _ = resp.bytes().await;
                counter(&desk.stats).fetch_add(1, Ordering::Relaxed);
            }
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                desk.stats.error(format!("POST {path}: {status} {text}"));
            }
            Err(e) => desk.stats.error(format!("POST {path}: {e}")),
        }
    });
}
