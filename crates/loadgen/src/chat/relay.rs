//! The peer: the least a chat server can do — a customer's socket, an
//! in-memory hop, an agent's socket, and back. No persistence, no routing
//! (chat N belongs to agent N mod agents), no bot, no session; the agent
//! answers on its socket instead of over HTTP. It is the floor of this
//! machine for a chat round trip, Switchboard's figures are read against it.
//!
//! It runs as `loadgen relay …` in a process of its own, with the same
//! WebSocket stack as the server (axum over tungstenite, 4 KiB buffers), so
//! that its memory per socket is comparable.

use super::socket::{Socket, connect, ws_base};
use anyhow::Context;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as ClientMessage;

use super::agent::AgentStats;

type Outbox = mpsc::UnboundedSender<String>;

struct Hub {
    agents: u64,
    customers: Mutex<HashMap<u64, Outbox>>,
    desks: Mutex<HashMap<u64, Outbox>>,
}

#[derive(Deserialize)]
struct CustomerQuery {
    chat: u64,
}

#[derive(Deserialize)]
struct AgentQuery {
    id: u64,
}

/// What a customer sends (the widget's message frame).
#[derive(Deserialize)]
struct FromCustomer {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
    client_id: Option<String>,
}

/// What the relay hands an agent, and what the agent answers.
#[derive(Deserialize)]
struct ToAgent {
    chat: u64,
    client_id: String,
}

#[derive(Deserialize)]
struct FromAgent {
    chat: u64,
    text: String,
}

/// `loadgen relay`: serves until killed.
pub async fn serve(http: SocketAddr, agents: u64) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(http).await.with_context(|| format!("listening on {http}"))?;
    axum::serve(listener, router(agents)).await?;
    Ok(())
}

fn router(agents: u64) -> Router {
    let hub = Arc::new(Hub { agents: agents.max(1), customers: Default::default(), desks: Default::default() });
    Router::new()
        .route("/customer", get(customer))
        .route("/agent", get(agent))
        .route("/health", get(|| async { "ok" }))
        .with_state(hub)
}

async fn customer(State(hub): State<Arc<Hub>>, Query(q): Query<CustomerQuery>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(4096).write_buffer_size(4096).on_upgrade(move |s| relay(hub, Side::Customer(q.chat), s))
}

async fn agent(State(hub): State<Arc<Hub>>, Query(q): Query<AgentQuery>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(4096).write_buffer_size(4096).on_upgrade(move |s| relay(hub, Side::Agent(q.id), s))
}

#[derive(Clone, Copy)]
enum Side {
    Customer(u64),
    Agent(u64),
}

/// One socket: what it sends goes to the other side's outbox, what its
/// outbox receives goes out on it.
async fn relay(hub: Arc<Hub>, side: Side, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    match side {
        Side::Customer(chat) => {
            hub.customers.lock().expect("customers lock").insert(chat, tx);
            // The widget's "an agent has it": the chat is paired from the start.
            let status = json!({ "type": "status", "state": "connected" }).to_string();
            if socket.send(Message::Text(status.into())).await.is_err() {
                return;
            }
        }
        Side::Agent(id) => {
            hub.desks.lock().expect("desks lock").insert(id, tx);
        }
    }
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => forward(&hub, side, &text),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    match side {
        Side::Customer(chat) => hub.customers.lock().expect("customers lock").remove(&chat),
        Side::Agent(id) => hub.desks.lock().expect("desks lock").remove(&id),
    };
}

fn forward(hub: &Hub, side: Side, text: &str) {
    match side {
        Side::Customer(chat) => {
            let Ok(m) = serde_json::from_str::<FromCustomer>(text) else { return };
            let Some(client_id) = m.client_id.filter(|_| m.kind == "message") else { return };
            let frame = json!({ "chat": chat, "client_id": client_id, "text": m.text }).to_string();
            if let Some(desk) = hub.desks.lock().expect("desks lock").get(&(chat % hub.agents)) {
                let _ = desk.send(frame);
            }
        }
        Side::Agent(_) => {
            let Ok(m) = serde_json::from_str::<FromAgent>(text) else { return };
            let frame = json!({ "type": "message", "from": "agent", "text": m.text }).to_string();
            if let Some(customer) = hub.customers.lock().expect("customers lock").get(&m.chat) {
                let _ = customer.send(frame);
            }
        }
    }
}

/// The relay's agent: connects as desk `id`.
pub async fn subscribe(base: &str, id: u64) -> anyhow::Result<Socket> {
    connect(&format!("{}/agent?id={id}", ws_base(base)), None).await
}

/// Echoes every customer message on the agent's own socket until aborted.
pub async fn answer(mut socket: Socket, stats: Arc<AgentStats>) {
    while let Some(msg) = socket.next().await {
        let text = match msg {
            Ok(ClientMessage::Text(t)) => t,
            Ok(ClientMessage::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let Ok(m) = serde_json::from_str::<ToAgent>(&text) else {
            stats.error(format!("not a relayed message: {text}"));
            continue;
        };
        let echo = json!({ "chat": m.chat, "text": format!("echo {}", m.client_id) }).to_string();
        if let Err(e) = socket.send(ClientMessage::text(echo)).await {
            stats.error(format!("relay agent: {e}"));
            break;
        }
        stats.echoed.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Timeline;
    use crate::chat::customer::{self, Door};
    use std::time::{Duration, Instant};

    /// A customer and an agent through the relay: every message the customer
    /// sends in the window comes back, and is timed. Counts only, no clocks:
    /// the window holds several sends whatever the machine's speed, and the
    /// drain is long enough for any echo (the customer stops once all are back).
    #[tokio::test]
    async fn every_message_comes_back() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(2)).await });
        let stats = Arc::new(AgentStats::default());
        for id in 0..2 {
            tokio::spawn(answer(subscribe(&base, id).await.unwrap(), stats.clone()));
        }
        let chat = customer::open(&Door::Relay { base }, 3).await.unwrap();
        let (go, waiting) = tokio::sync::watch::channel(None);
        let talking = tokio::spawn(customer::converse(chat, waiting));
        let now = Instant::now();
        let interval = Duration::from_millis(20);
        let t = Timeline {
            epoch: now,
            go: now,
            interval,
            warmup: Duration::ZERO,
            measure: interval * 10,
            drain: Duration::from_secs(60),
        };
        go.send(Some(t)).unwrap();
        let log = talking.await.unwrap();
        assert!(log.sent >= 1, "{log:?}");
        assert_eq!(log.answered, log.sent, "{log:?}");
        assert_eq!(log.rtts.len() as u64, log.sent);
        assert_eq!((log.errors, log.lost), (0, false), "{log:?}");
        assert!(stats.echoed.load(Ordering::Relaxed) >= log.sent);
    }
}
