//! An administrator's event socket that counts the events it never got.
//!
//! Event ids are the log's, consecutive in commit order, and an admin's
//! socket is sent every event of the workspace; the server skips an event
//! whose id is below one it already sent on that socket. So every gap in
//! the ids seen is an event the socket skipped — the same happens on
//! agents' and customers' sockets, where it loses offers and messages.

use super::socket::{Socket, connect, ws_base};
use futures_util::StreamExt;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Default)]
pub struct Gaps {
    pub seen: AtomicU64,
    pub skipped: AtomicU64,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    id: u64,
}

pub async fn subscribe(base: &str, admin_token: &str) -> anyhow::Result<Socket> {
    connect(&format!("{}/api/v1/events", ws_base(base)), Some(admin_token)).await
}

/// Counts until the socket closes or the task is aborted.
pub async fn watch(mut socket: Socket, gaps: Arc<Gaps>) {
    let mut last = 0;
    while let Some(Ok(msg)) = socket.next().await {
        let Message::Text(text) = msg else { continue };
        // Typing and read marks are not logged: they have no id.
        let Ok(Event { id }) = serde_json::from_str(&text) else { continue };
        if id == 0 {
            continue;
        }
        gaps.seen.fetch_add(1, Ordering::Relaxed);
        if id > last + 1 {
            gaps.skipped.fetch_add(id - last - 1, Ordering::Relaxed);
        }
        last = last.max(id);
    }
}
