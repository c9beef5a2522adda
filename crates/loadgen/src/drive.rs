//! The load itself: N clients, each on its own connection, sending one
//! request after another (closed loop) for a fixed time.
//!
//! Only requests that start after the warm-up and finish before the end
//! count, so the figure is not flattered by a cold start nor by the last
//! requests' slow tail being cut off.

use crate::cpu::{Shares, Snapshot};
use crate::stats::Summary;
use std::time::{Duration, Instant};

/// What every client sends: one `POST` with a JSON body.
#[derive(Clone, Debug)]
pub struct Request {
    pub url: String,
    pub token: Option<String>,
    /// Serialized once: the clients share the machine with the server, so
    /// their own work is kept small.
    pub body: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub clients: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// The run: the measured window's summary, plus every success (warm-up and
/// tail included) so the caller can check the server kept them all.
pub struct Outcome {
    pub summary: Summary,
    pub acknowledged: u64,
    pub first_error: Option<String>,
    /// CPU over the measured window.
    pub cpu: Shares,
}

struct ClientLog {
    latencies: Vec<u32>,
    errors: u64,
    acknowledged: u64,
    first_error: Option<String>,
}

/// Runs `plan` against `request`, served by process `server_pid`; every
/// answer must be `201 Created`.
pub async fn run(request: &Request, plan: Plan, server_pid: u32) -> Outcome {
    let start = Instant::now();
    let window = (start + plan.warmup, start + plan.warmup + plan.measure);
    let tasks: Vec<_> = (0..plan.clients).map(|_| tokio::spawn(client(request.clone(), window))).collect();
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(window.0.into()).await;
        let from = Snapshot::take(server_pid);
        tokio::time::sleep_until(window.1.into()).await;
        from.shares_until(Snapshot::take(server_pid))
    });
    let mut latencies = Vec::new();
    let (mut errors, mut acknowledged, mut first_error) = (0, 0, None);
    for task in tasks {
        match task.await {
            Ok(log) => {
                latencies.extend(log.latencies);
                errors += log.errors;
                acknowledged += log.acknowledged;
                first_error = first_error.or(log.first_error);
            }
            Err(e) => {
                errors += 1;
                first_error = first_error.or(Some(format!("client task failed: {e}")));
            }
        }
    }
    let cpu = cpu.await.unwrap_or_default();
    Outcome { summary: Summary::new(latencies, errors, plan.measure), acknowledged, first_error, cpu }
}

async fn client(request: Request, (from, until): (Instant, Instant)) -> ClientLog {
    let mut log = ClientLog { latencies: Vec::new(), errors: 0, acknowledged: 0, first_error: None };
    let http = match reqwest::Client::builder().timeout(Duration::from_secs(30)).build() {
        Ok(h) => h,
        Err(e) => {
            log.errors += 1;
            log.first_error = Some(format!("HTTP client: {e}"));
            return log;
        }
    };
    loop {
        let sent = Instant::now();
        if sent >= until {
            return log;
        }
        let result = send(&http, &request).await;
        let done = Instant::now();
        let counted = sent >= from && done <= until;
        match result {
            Ok(()) => {
                log.acknowledged += 1;
                if counted {
                    log.latencies.push(u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX));
                }
            }
            Err(e) => {
                if counted {
                    log.errors += 1;
                }
                log.first_error.get_or_insert(e);
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn send(http: &reqwest::Client, request: &Request) -> Result<(), String> {
    let mut req = http.post(&request.url).header("content-type", "application/json").body(request.body.clone());
    if let Some(token) = &request.token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    // The whole answer is read: a request is done when the client has it.
    let body = resp.bytes().await.map_err(|e| format!("reading the answer: {e}"))?;
    if status != reqwest::StatusCode::CREATED {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
    }
    Ok(())
}
