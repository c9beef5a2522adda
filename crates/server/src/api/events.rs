//! `GET /api/v1/events?after=ID`: a WebSocket of committed events, scoped by
//! role — an agent sees what concerns itself, supervisors and admins the
//! whole workspace. Reconnecting with the last id seen resumes without a
//! gap: the backlog comes from the store, then live events follow.
//! `after=now` skips the backlog.

use super::extract::Query;
use super::{AppState, Auth};
use crate::auth::Principal;
use crate::service::fanout::{Feed, Live, Topic};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::Deserialize;
use switchboard_store::{LoggedEvent, Role};
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize)]
pub struct Resume {
    #[serde(default)]
    after: After,
}

/// Where a socket starts: after an event id (0: the whole log), or `now` —
/// no backlog, for a page that has just read the current state and would
/// otherwise replay months of history to learn what it already knows.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(try_from = "String")]
enum After {
    Id(u64),
    Now,
}

impl Default for After {
    fn default() -> Self {
        After::Id(0)
    }
}

impl TryFrom<String> for After {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "now" => Ok(After::Now),
            _ => s.parse().map(After::Id).map_err(|_| format!("after: an event id or 'now', not '{s}'")),
        }
    }
}

pub async fn events(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(resume): Query<Resume>,
    ws: WebSocketUpgrade,
) -> Response {
    // Events are small and most sockets idle: the library's default 128 KiB
    // read and write buffers per socket would cap a server at a few thousand
    // agents per GiB; 4 KiB keeps an idle socket near 7 KiB (docs/BENCHMARKS.md).
    ws.read_buffer_size(4096).write_buffer_size(4096).on_upgrade(move |socket| stream(s, p, resume.after, socket))
}

fn visible(p: &Principal, e: &LoggedEvent) -> bool {
    // The audit log is the administrators'.
    if e.kind == crate::service::audit::AUDIT && p.role < Role::Admin {
        return false;
    }
    e.workspace == p.workspace && (p.role >= Role::Supervisor || e.agent == Some(p.user))
}

async fn send(socket: &mut WebSocket, e: &LoggedEvent) -> bool {
    let text = serde_json::to_string(e).unwrap_or_default();
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Sends the visible events after `last`; the id of the last one read, or
/// `None` once the socket or the store fails.
async fn backlog(s: &AppState, p: &Principal, mut last: u64, socket: &mut WebSocket) -> Option<u64> {
    loop {
        let batch = match s.store().events(p.workspace, last, 1000).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "event backlog");
                return None;
            }
        };
        let done = batch.len() < 1000;
        for e in batch {
            last = e.id;
            if visible(p, &e) && !send(socket, &e).await {
                return None;
            }
        }
        if done {
            return Some(last);
        }
    }
}

async fn stream(s: AppState, p: Principal, after: After, mut socket: WebSocket) {
    // Follow first, so nothing committed while the backlog is read is
    // missed. An agent follows its own topic, not the workspace's.
    let mut live = if p.role >= Role::Supervisor {
        s.fanout().follow_all()
    } else {
        Feed::One(s.fanout().follow(Topic::Agent(p.user)))
    };
    let floor = match after {
        After::Id(id) => match backlog(&s, &p, id, &mut socket).await {
            Some(last) => last,
            None => return,
        },
        // Every live event is new.
        After::Now => 0,
    };
    let mut seen = super::seen::Seen::after(floor);
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            heard = live.recv() => match heard {
                Ok(Live::Event(e)) => {
                    if seen.first(e.id) && visible(&p, &e) && !send(&mut socket, &e).await {
                        return;
                    }
                }
                // Typing and read marks: shown live, never logged, so no id.
                Ok(Live::Signal(sig)) => {
                    let mine = sig.workspace == p.workspace && (p.role >= Role::Supervisor || sig.agent == Some(p.user));
                    if mine && sig.payload["from"] == "customer" {
                        let text = serde_json::to_string(&*sig).unwrap_or_default();
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                }
                // Too slow a reader: close, the client resumes from its last id.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            },
        }
    }
}
