//! Delivering committed events to the workspaces' webhooks.
//!
//! One task follows the committed events ([`Service::subscribe`]) and, for
//! every webhook of the event's workspace that wants its kind, starts a
//! delivery: an HTTP `POST` of the event as JSON (the same document the
//! events WebSocket sends), signed, retried with exponential backoff, every
//! attempt written to the webhook's delivery log.
//!
//! Signing: with `t` the attempt's Unix time in seconds (header
//! `X-Switchboard-Timestamp`) and `body` the exact bytes sent,
//! `X-Switchboard-Signature: sha256=` followed by the lower-case hex
//! HMAC-SHA256 of `t + "." + body` under the webhook's secret. A receiver
//! recomputes it, compares in constant time, and refuses timestamps more
//! than a few minutes old, so a captured request cannot be replayed later.
//! `X-Switchboard-Delivery` is the same for every attempt at one event, so
//! a receiver can drop repeats.
//!
//! An event whose payload lists webhook ids under `webhooks` (an
//! automation rule's `webhook` action, the daily summary) goes to those
//! webhooks too, whatever kinds they follow.
//!
//! Deliveries are at least once and not ordered: retries of one event do
//! not hold back the next (events carry increasing `id`s to sort by). At
//! most [`DeliveryOptions::per_webhook`] requests to one webhook are in
//! flight at a time. Webhooks are cached per workspace; creating or
//! deleting one commits an `audit` event, which is what tells this task to
//! read the workspace's webhooks again. The secret is never logged, and
//! neither is the URL (it may carry credentials).

use crate::service::Service;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchboard_core::ids::WorkspaceId;
use switchboard_store::{Change, Delivery, LoggedEvent, Webhook};
use tokio::sync::Semaphore;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

/// How deliveries are attempted.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    /// Attempts per event, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; each later wait doubles.
    pub first_retry: Duration,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// Requests in flight to one webhook at most.
    pub per_webhook: usize,
}

impl Default for DeliveryOptions {
    /// Five attempts, waiting 1, 2, 4 and 8 s between them; 10 s each.
    fn default() -> Self {
        DeliveryOptions {
            attempts: 5,
            first_retry: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            per_webhook: 8,
        }
    }
}

impl DeliveryOptions {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.first_retry.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(20))
    }
}

pub const EVENT_HEADER: &str = "x-switchboard-event";
pub const DELIVERY_HEADER: &str = "x-switchboard-delivery";
pub const TIMESTAMP_HEADER: &str = "x-switchboard-timestamp";
pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";

/// `sha256=<hex>`: the HMAC-SHA256 of `timestamp.body` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `header` is the signature of `timestamp.body` under `secret`,
/// compared in constant time. (What a receiver does; used by the tests.)
pub fn verify(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else { return false };
    let Some(given) = decode_hex(hex) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// A random id in the form of a version-4 UUID.
pub fn delivery_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS has randomness");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A webhook as the deliveries share it.
struct Hook {
    webhook: Webhook,
    /// Limits the requests in flight to this webhook.
    permits: Semaphore,
    /// Set once the webhook is deleted: deliveries stop before their next attempt.
    gone: AtomicBool,
}

/// Starts the delivery task; it stops (abandoning deliveries under way)
/// when `stop` changes.
pub fn spawn(
    service: Service,
    options: DeliveryOptions,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // Subscribe now, not when the task first runs, so nothing committed in between is missed.
    let mut events = service.subscribe();
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook deliveries are off: no HTTP client");
                return;
            }
        };
        let mut d = Dispatcher { service, client, options, hooks: HashMap::new(), tasks: JoinSet::new(), seen: 0 };
        let mut lagged = false;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                Some(_) = d.tasks.join_next(), if !d.tasks.is_empty() => {}
                event = events.recv() => match event {
                    Ok(e) => {
                        if std::mem::take(&mut lagged) {
                            d.backfill(e.id).await;
                        }
                        d.dispatch(e).await;
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "webhook deliveries fell behind; reading the skipped events back");
                        lagged = true;
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        }
        d.tasks.abort_all();
    })
}

struct Dispatcher {
    service: Service,
    client: reqwest::Client,
    options: DeliveryOptions,
    hooks: HashMap<WorkspaceId, Vec<Arc<Hook>>>,
    tasks: JoinSet<()>,
    /// The largest event id dispatched.
    seen: u64,
}

impl Dispatcher {
    async fn dispatch(&mut self, e: Arc<LoggedEvent>) {
        self.seen = self.seen.max(e.id);
        if e.kind == crate::service::audit::AUDIT
            && e.payload.get("target").and_then(|t| t.as_str()).is_some_and(|t| t.starts_with("webhook/"))
        {
            self.reload(e.workspace).await;
        }
        let Some(hooks) = self.hooks_of(e.workspace).await else { return };
        for hook in hooks.iter().filter(|h| h.webhook.wants(&e.kind) || names(&e, h.webhook.id)) {
            let job = deliver(self.service.clone(), self.client.clone(), self.options.clone(), hook.clone(), e.clone());
            self.tasks.spawn(job);
        }
    }

    async fn hooks_of(&mut self, ws: WorkspaceId) -> Option<Vec<Arc<Hook>>> {
        if !self.hooks.contains_key(&ws) {
            self.reload(ws).await;
        }
        self.hooks.get(&ws).cloned()
    }

    /// Reads the workspace's webhooks again, keeping the state of those
    /// that remain and marking the others gone.
    async fn reload(&mut self, ws: WorkspaceId) {
        let fresh = match self.service.store().webhooks(ws).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, workspace = %ws, "reading webhooks");
                self.hooks.remove(&ws);
                return;
            }
        };
        let old = self.hooks.remove(&ws).unwrap_or_default();
        let mut hooks = Vec::with_capacity(fresh.len());
        for webhook in fresh {
            match old.iter().find(|h| h.webhook == webhook) {
                Some(h) => hooks.push(h.clone()),
                None => hooks.push(Arc::new(Hook {
                    webhook,
                    permits: Semaphore::new(self.options.per_webhook.max(1)),
                    gone: AtomicBool::new(false),
                })),
            }
        }
        for h in old.iter().filter(|h| !hooks.iter().any(|k| Arc::ptr_eq(h, k))) {
            h.gone.store(true, Ordering::Relaxed);
        }
        self.hooks.insert(ws, hooks);
    }

    /// After falling behind: dispatches, from the store, the committed
    /// events between the last one dispatched and `next` (the first one
    /// received again), for every workspace with webhooks.
    async fn backfill(&mut self, next: u64) {
        let workspaces = match self.service.store().workspaces().await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "reading workspaces to catch up on webhook deliveries");
                return;
            }
        };
        let from = self.seen;
        for ws in workspaces {
            if self.hooks_of(ws.id).await.is_none_or(|h| h.is_empty()) {
                continue;
            }
            let mut after = from;
            loop {
                let page = match self.service.store().events(ws.id, after, 500).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, workspace = %ws.id, "reading events to catch up on webhook deliveries");
                        break;
                    }
                };
                let full = page.len() == 500;
                for e in page {
                    if e.id >= next {
                        return;
                    }
                    after = e.id;
                    self.dispatch(Arc::new(e)).await;
                }
                if !full {
                    break;
                }
            }
        }
    }
}

/// Whether the event names the webhook as its recipient: an automation
/// rule's `webhook` action, the daily summary's webhook.
fn names(e: &LoggedEvent, webhook: u64) -> bool {
    e.payload
        .get("webhooks")
        .and_then(|w| w.as_array())
        .is_some_and(|w| w.iter().any(|id| id.as_u64() == Some(webhook)))
}

/// Every attempt at one event for one webhook, until one is answered 2xx,
/// the attempts run out or the webhook is deleted.
async fn deliver(
    service: Service,
    client: reqwest::Client,
    options: DeliveryOptions,
    hook: Arc<Hook>,
    event: Arc<LoggedEvent>,
) {
    let body = match serde_json::to_vec(&*event) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, event = event.id, "event does not encode");
            return;
        }
    };
    let delivery = delivery_id();
    let w = &hook.webhook;
    for attempt in 1..=options.attempts.max(1) {
        if hook.gone.load(Ordering::Relaxed) {
            return;
        }
        let (status, error) = {
            let Ok(_permit) = hook.permits.acquire().await else { return };
            let timestamp = service.now().0.div_euclid(1000);
            let request = client
                .post(&w.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(EVENT_HEADER, &event.kind)
                .header(DELIVERY_HEADER, &delivery)
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signature(&w.secret, timestamp, &body))
                .body(body.clone());
            match request.send().await {
                Ok(response) => (Some(response.status().as_u16()), None),
                Err(e) => (None, Some(describe(&e))),
            }
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let last = attempt >= options.attempts;
        let outcome = if delivered {
            "delivered"
        } else if last {
            "abandoned"
        } else {
            "failed"
        };
        service.observed().delivery(outcome);
        let logged = Delivery {
            delivery: delivery.clone(),
            attempt,
            workspace: w.workspace,
            webhook: w.id,
            event: event.id,
            kind: event.kind.clone(),
            status,
            error: error.clone(),
            at: service.now(),
        };
        if let Err(e) = service.store().commit(vec![Change::PutDelivery(logged)]).await {
            tracing::warn!(error = %e, webhook = w.id, event = event.id, "logging a webhook delivery");
        }
        if delivered {
            return;
        }
        tracing::info!(
            webhook = w.id,
            event = event.id,
            %delivery,
            attempt,
            status = status.map(i64::from).unwrap_or(-1),
            error = error.as_deref().unwrap_or(""),
            "webhook delivery failed"
        );
        if last {
            tracing::warn!(webhook = w.id, event = event.id, %delivery, "webhook delivery abandoned");
            return;
        }
        tokio::time::sleep(options.backoff(attempt)).await;
    }
}

/// An HTTP client error with its causes, without the URL.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_string() } else { String::new() };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.is_empty() { "request failed".to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        // Computed independently: HMAC-SHA256 of `1700000000.{"a":1}` under `whsec_test`.
        let known = "sha256=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789";
        assert_eq!(signature("whsec_test", 1_700_000_000, br#"{"a":1}"#), known);
        let sig = signature("key", 1, b"x");
        assert!(verify("key", 1, b"x", &sig));
        assert!(!verify("key", 2, b"x", &sig), "another time");
        assert!(!verify("key", 1, b"y", &sig), "another body");
        assert!(!verify("other", 1, b"x", &sig), "another key");
        assert!(!verify("key", 1, b"x", "sha256=zz"));
        assert!(!verify("key", 1, b"x", sig.trim_start_matches("sha256=")));
    }

    #[test]
    fn delivery_ids_look_like_uuids_and_backoff_doubles() {
        let id = delivery_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_ne!(id, delivery_id());
        let o = DeliveryOptions::default();
        let waits: Vec<u64> = (1..5).map(|a| o.backoff(a).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8]);
    }
}
