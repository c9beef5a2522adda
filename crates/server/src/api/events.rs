//! `GET /api/v1/events?after=ID`: a WebSocket of committed events, scoped by
//! role — an agent sees what concerns itself, supervisors and admins the
//! whole workspace. Reconnecting with the last id seen resumes without a
//! gap: the backlog comes from the store, then live events follow.

use super::{AppState, Auth};
use crate::auth::Principal;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use switchboard_store::{LoggedEvent, Role, Store};
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize)]
pub struct Resume {
    #[serde(default)]
    after: u64,
}

pub async fn events<S: Store>(
    State(s): State<AppState<S>>,
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

async fn stream<S: Store>(s: AppState<S>, p: Principal, mut last: u64, mut socket: WebSocket) {
    // Subscribe first, so nothing committed while the backlog is read is missed.
    let mut live = s.subscribe();
    let mut signals = s.fanout().signals();
    loop {
        let backlog = match s.store().events(p.workspace, last, 1000).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "event backlog");
                return;
            }
        };
        let done = backlog.len() < 1000;
        for e in backlog {
            last = e.id;
            if visible(&p, &e) && !send(&mut socket, &e).await {
                return;
            }
        }
        if done {
            break;
        }
    }
    let mut seen = super::seen::Seen::after(last);
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            event = live.recv() => match event {
                Ok(e) => {
                    let e: Arc<LoggedEvent> = e;
                    if seen.first(e.id) && visible(&p, &e) && !send(&mut socket, &e).await {
                        return;
                    }
                }
                // Too slow a reader: close, the client resumes from its last id.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            },
            // Typing and read marks: shown live, never logged, so no id.
            signal = signals.recv() => match signal {
                Ok(sig) => {
                    let mine = sig.workspace == p.workspace && (p.role >= Role::Supervisor || sig.agent == Some(p.user));
                    if mine && sig.payload["from"] == "customer" {
                        let text = serde_json::to_string(&*sig).unwrap_or_default();
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}
