//! An administrator's event socket that counts the events it never got.
//!
//! Event ids are the log's, consecutive in commit order, and an admin's
//! socket is sent every event of the workspace. They may arrive out of
//! order (each request publishes its events when its own commit returns),
//! so an id missing now may still come: the ids never seen by the end are
//! the events the socket lost — the same would happen on agents' and
//! customers' sockets, where it loses offers and messages.

use super::socket::{Socket, connect, ws_base};
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::BTreeSet;
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
    // Ids skipped over so far that have not come since.
    let mut missing = BTreeSet::new();
    while let Some(Ok(msg)) = socket.next().await {
        let Message::Text(text) = msg else { continue };
        // Typing and read marks are not logged: they have no id.
        let Ok(Event { id }) = serde_json::from_str(&text) else { continue };
        if id == 0 {
            continue;
        }
        gaps.seen.fetch_add(1, Ordering::Relaxed);
        if id > last {
            // The first event starts the count: what came before the socket is not its to miss.
            if last > 0 {
                missing.extend(last + 1..id);
            }
            last = id;
        } else {
            missing.remove(&id);
        }
        gaps.skipped.store(missing.len() as u64, Ordering::Relaxed);
    }
}
