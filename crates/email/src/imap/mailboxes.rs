//! The pollers of every email endpoint with a mailbox: one per enabled
//! endpoint whose settings name an `imap_host`. The endpoints are looked at
//! again every few seconds (from the service's memory, no query): a new
//! one gets a poller, an edited one (its `updated_at` moved: settings,
//! credentials, enabled) a fresh poller, and a disabled or deleted one
//! none. An endpoint whose mailbox settings cannot be used reports that as
//! its health, so the admin sees why nothing comes in.

use super::poll::Poller;
use super::settings::{DEFAULT_ALERT, MailboxSettings};
use crate::receive::Inbox;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::ids::EndpointId;
use switchboard_core::time::Timestamp;
use switchboard_service::Service;
use switchboard_service::endpoints::Endpoint;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the endpoints are looked at for changes.
pub const RESCAN: Duration = Duration::from_secs(2);

/// A running poller and the endpoint version it runs for.
struct Running {
    version: Timestamp,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    async fn end(self) {
        let _ = self.stop.send(true);
        if self.task.await.is_err() {
            tracing::error!("an IMAP poller panicked");
        }
    }
}

/// Runs the pollers until `stop` turns true, then stops them all.
pub async fn run_mailboxes(service: Service, inbox: Arc<Inbox>, mut stop: watch::Receiver<bool>) {
    let mut running: HashMap<EndpointId, Running> = HashMap::new();
    loop {
        match service.endpoints_of_channel(Channel::Email) {
            Ok(endpoints) => reconcile(&service, &inbox, endpoints, &mut running).await,
            Err(e) => tracing::error!(error = %e, "listing the email endpoints for their mailboxes"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RESCAN) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    for (_, r) in running.drain() {
        r.end().await;
    }
}

async fn reconcile(
    service: &Service,
    inbox: &Arc<Inbox>,
    endpoints: Vec<Endpoint>,
    running: &mut HashMap<EndpointId, Running>,
) {
    // Endpoints to poll (unchanged or new), those to (re)start, and those
    // whose settings cannot be used.
    let mut keep = HashSet::new();
    let mut start = Vec::new();
    let mut unusable = Vec::new();
    for endpoint in endpoints {
        if !endpoint.enabled {
            // A disabled mailbox has no health to show, even a stale error.
            service.forget_endpoint_health(endpoint.id);
            continue;
        }
        if running.get(&endpoint.id).is_some_and(|r| r.version == endpoint.updated_at) {
            keep.insert(endpoint.id);
            continue;
        }
        match mailbox_of(service, &endpoint).await {
            Ok(Some(settings)) => {
                keep.insert(endpoint.id);
                start.push((endpoint, settings));
            }
            // No mailbox (any more): nothing to show.
            Ok(None) => service.forget_endpoint_health(endpoint.id),
            Err(reason) => unusable.push((endpoint, reason)),
        }
    }
    let restarted: HashSet<EndpointId> = start.iter().map(|(e, _)| e.id).collect();
    let ending: Vec<EndpointId> =
        running.keys().filter(|id| !keep.contains(id) || restarted.contains(id)).copied().collect();
    for id in ending {
        if let Some(r) = running.remove(&id) {
            r.end().await;
        }
        if !keep.contains(&id) {
            service.forget_endpoint_health(id);
        }
    }
    for (endpoint, reason) in unusable {
        if let Err(e) = service.endpoint_failing(&endpoint, &reason, DEFAULT_ALERT).await {
            tracing::error!(endpoint = endpoint.id.0, error = %e, "recording an IMAP mailbox's health");
        }
    }
    for (endpoint, settings) in start {
        tracing::info!(endpoint = endpoint.id.0, mailbox = ?settings, "polling an IMAP mailbox");
        let (stop, stopped) = watch::channel(false);
        let (id, version) = (endpoint.id, endpoint.updated_at);
        let poller = Poller { service: service.clone(), inbox: inbox.clone(), endpoint, settings };
        let task = tokio::spawn(poller.run(stopped));
        running.insert(id, Running { version, stop, task });
    }
}

/// The endpoint's mailbox, `None` without one; `Err` says why its settings
/// cannot be used.
async fn mailbox_of(service: &Service, endpoint: &Endpoint) -> Result<Option<MailboxSettings>, String> {
    // Most email endpoints have none: their credentials stay sealed.
    if endpoint.settings.get("imap_host").is_none_or(serde_json::Value::is_null) {
        return Ok(None);
    }
    let credentials = service
        .endpoint_credentials(endpoint.id)
        .await
        .map_err(|e| format!("reading the mailbox's credentials: {e}"))?;
    MailboxSettings::of(endpoint, &credentials).map_err(|e| e.to_string())
}
