//! Idle WebSocket connections: how much memory the server spends per
//! subscriber of `GET /api/v1/events`.
//!
//! Opens N authenticated sockets and reads the server's resident memory
//! before and after. Then one contact is created and every socket must see
//! its event, which shows they were live subscriptions, not half-open
//! connections, and times the fan-out.

use crate::process::{fresh_dir, open_file_limit};
use crate::switchboard::Switchboard;
use anyhow::Context;
use futures_util::StreamExt;
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connections opened at once.
const PARALLEL: usize = 128;

#[derive(Debug, Serialize)]
pub struct Report {
    pub asked: usize,
    pub opened: usize,
    /// Why opening stopped short, if it did.
    pub stopped_by: Option<String>,
    pub seconds_to_open: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kib_per_socket: f64,
    pub server_open_file_limit: Option<u64>,
    pub client_open_file_limit: Option<u64>,
    /// Sockets that saw the one event, and how long until the last did.
    pub received_event: usize,
    pub fan_out_ms: f64,
}

pub async fn run(binary: &Path, n: usize) -> anyhow::Result<Report> {
    let dir = fresh_dir("websockets")?;
    let sb = Switchboard::start(binary, &dir, None).await?;
    let rss_before_kib = sb.server.rss_kib()?;
    let url = format!("{}/api/v1/events", sb.server.base.replacen("http", "ws", 1));

    let started = Instant::now();
    let (sockets, stopped_by) = open_all(&url, &sb.token, n).await;
    let seconds_to_open = started.elapsed().as_secs_f64();
    // Let the server settle (tasks parked, buffers in place) before reading.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after_kib = sb.server.rss_kib()?;
    let opened = sockets.len();
    let kib_per_socket = rss_after_kib.saturating_sub(rss_before_kib) as f64 / opened.max(1) as f64;

    let (received_event, fan_out_ms) = fan_out(&sb, sockets).await?;
    let report = Report {
        asked: n,
        opened,
        stopped_by,
        seconds_to_open,
        rss_before_kib,
        rss_after_kib,
        kib_per_socket,
        server_open_file_limit: open_file_limit(&sb.server.pid().to_string()),
        client_open_file_limit: open_file_limit("self"),
        received_event,
        fan_out_ms,
    };
    drop(sb);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// Opens up to `n` sockets, [`PARALLEL`] at a time; stops at the first
/// failure (typically the open-file limit) and says why.
async fn open_all(url: &str, token: &str, n: usize) -> (Vec<Socket>, Option<String>) {
    let mut sockets = Vec::with_capacity(n);
    let mut connecting = JoinSet::new();
    let mut started = 0;
    let mut stopped_by = None;
    loop {
        while stopped_by.is_none() && started < n && connecting.len() < PARALLEL {
            connecting.spawn(connect(url.to_string(), token.to_string()));
            started += 1;
        }
        match connecting.join_next().await {
            None => return (sockets, stopped_by),
            Some(Ok(Ok(socket))) => sockets.push(socket),
            Some(Ok(Err(e))) => {
                stopped_by.get_or_insert(format!("after {} sockets: {e:#}", sockets.len()));
            }
            Some(Err(e)) => {
                stopped_by.get_or_insert(format!("connecting task failed: {e}"));
            }
        }
    }
}

/// A server out of file descriptors leaves new connections in its accept
/// backlog, unanswered: without a limit, opening would wait forever.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

async fn connect(url: String, token: String) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (socket, _) = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request))
        .await
        .context("no answer within 10 s")??;
    Ok(socket)
}

/// Creates one contact and waits for every socket to receive its event.
async fn fan_out(sb: &Switchboard, sockets: Vec<Socket>) -> anyhow::Result<(usize, f64)> {
    let mut readers = JoinSet::new();
    let started = Instant::now();
    for mut socket in sockets {
        readers.spawn(async move {
            let seen = async {
                while let Some(Ok(msg)) = socket.next().await {
                    if msg.to_text().is_ok_and(|t| t.contains("\"contact_queued\"")) {
                        return true;
                    }
                }
                false
            };
            tokio::time::timeout(Duration::from_secs(30), seen).await.unwrap_or(false)
        });
    }
    let req = sb.request();
    let resp = reqwest::Client::new()
        .post(&req.url)
        .bearer_auth(&sb.token)
        .header("content-type", "application/json")
        .body(req.body)
        .send()
        .await
        .context("creating the contact whose event the sockets wait for")?;
    anyhow::ensure!(resp.status().is_success(), "creating a contact: {}", resp.status());
    let mut received = 0;
    while let Some(r) = readers.join_next().await {
        received += usize::from(r.unwrap_or(false));
    }
    Ok((received, started.elapsed().as_secs_f64() * 1000.0))
}
