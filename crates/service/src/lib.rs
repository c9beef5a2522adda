//! The service layer: the operations every channel and the HTTP API call.
//! It has no HTTP in it: the server crate is one edge over it, and channel
//! crates (voice, email, messaging) are others.
//!
//! Each workspace has a [`center::Center`] behind an async mutex. An
//! operation locks it, changes the engine, turns the engine's events into
//! record updates and log entries, hands them to the store's group commit
//! *before* unlocking (so commits happen in the engine's order), unlocks,
//! and answers once the commit is durable. Committed events are then
//! broadcast to WebSocket subscribers. If a commit fails, the workspace's
//! center is dropped and rebuilt from the store on next use, so memory never
//! runs ahead of what is on disk.

mod access;
mod agents;
mod api_channel;
pub mod audit;
pub mod auth;
mod center;
pub mod chat;
mod contacts;
pub mod conversation;
mod customers;
pub mod daily_summary;
pub mod demo;
mod demo_history;
pub mod documents;
pub mod endpoint_state;
pub mod endpoints;
pub mod fanout;
pub mod flows;
pub mod kb;
pub mod kinds;
mod login;
pub mod metrics;
pub mod names;
pub mod observe;
pub mod planning;
pub mod realtime_adherence;
pub mod reports;
mod routing;
pub mod rules;
pub mod secrets;
pub mod settings;
pub mod sip_accounts;
pub mod sla;
pub mod sla_policies;
mod stats;
pub mod throttle;
pub mod today;
mod tokens;
pub mod trunk;
mod users;
pub mod verification;
pub mod waiting;
mod webhooks;
pub mod workspace;

pub use access::*;
pub use agents::*;
pub use api_channel::*;
pub use center::Center;
pub use customers::*;
pub use stats::*;
/// The kinds of customer identity, which a channel names its senders by.
// Store types that appear in the service's own calls and answers, so that
// a channel (and its tests) need no dependency on the store.
pub use switchboard_store::{Attachment, ContactFilter, ContactRecord, ContactState, IdentityKind, Role};
pub use tokens::*;
pub use users::*;
pub use webhooks::*;

use crate::auth::Principal;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchboard_core::engine::EngineError;
use switchboard_core::ids::WorkspaceId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, LoggedEvent, MaxIds, Store, StoreError};
use tokio::sync::{Mutex, broadcast};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("this needs the {0} role")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again later")]
    RateLimited,
    #[error("too many failed logins; try again in {} s", .0.as_secs().max(1))]
    TryLater(std::time::Duration),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), message: message.into() }
    }
}

/// Hands out ids without a database round trip; seeded from the store's
/// largest ids at start. (One server per database.)
#[derive(Debug, Default)]
pub struct Ids {
    pub workspace: AtomicU64,
    pub user: AtomicU64,
    pub policy: AtomicU64,
    pub queue: AtomicU64,
    pub customer: AtomicU64,
    pub contact: AtomicU64,
    pub webhook: AtomicU64,
    pub document: AtomicU64,
    pub article: AtomicU64,
    pub attachment: AtomicU64,
    pub endpoint: AtomicU64,
}

impl Ids {
    fn seeded(m: MaxIds) -> Self {
        Ids {
            workspace: AtomicU64::new(m.workspace),
            user: AtomicU64::new(m.user),
            policy: AtomicU64::new(m.policy),
            queue: AtomicU64::new(m.queue),
            customer: AtomicU64::new(m.customer),
            contact: AtomicU64::new(m.contact),
            webhook: AtomicU64::new(m.webhook),
            document: AtomicU64::new(m.document),
            article: AtomicU64::new(m.article),
            attachment: AtomicU64::new(m.attachment),
            endpoint: AtomicU64::new(m.endpoint),
        }
    }

    pub fn next(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Where "now" comes from: the wall clock in production.
pub type ClockFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub fn system_clock() -> ClockFn {
    Arc::new(|| {
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        Timestamp(ms as i64)
    })
}

struct Inner {
    store: Store,
    clock: ClockFn,
    ids: Ids,
    centers: std::sync::Mutex<HashMap<WorkspaceId, Arc<Mutex<Center>>>>,
    fanout: fanout::Fanout,
    session_hours: u64,
    logins: throttle::LoginThrottle,
    /// Counters and latencies for `/metrics`.
    observed: crate::metrics::Observed,
    /// Per workspace, serialises writes to customers and identities.
    customer_locks: std::sync::Mutex<HashMap<WorkspaceId, Arc<Mutex<()>>>>,
    /// Principals of recently seen tokens, by token hash (see `authenticate`).
    principals: std::sync::Mutex<HashMap<Vec<u8>, login::CachedPrincipal>>,
    /// Serialises changes to users (see `access.rs`).
    user_changes: Mutex<()>,
    chat: chat::ChatHub,
    conversations: conversation::Conversations,
    channels: conversation::Channels,
    tallies: today::Tallies,
    /// Per workspace, the whole log rolled up for reports.
    rollups: reports::Rollups,
    /// Per workspace, its automation rules in order.
    rules: rules::RuleCache,
    /// Conversations' first- and next-response clocks (see `sla.rs`).
    response_clocks: sla::Clocks,
    /// When the ticker last looked for adherence exceptions.
    adherence_checked: realtime_adherence::Checked,
    /// Every endpoint, for inbound lookups (see `endpoints.rs`).
    endpoints: std::sync::RwLock<endpoints::EndpointIndex>,
    /// Serialises changes to endpoints, so that the index follows commits.
    endpoint_changes: Mutex<()>,
    /// Seals endpoints' credentials; set once at start.
    secret_key: std::sync::OnceLock<secrets::SecretKey>,
    /// How endpoints' links to their providers are doing (see `endpoint_state.rs`).
    healths: endpoint_state::Healths,
    /// The base URL the outside world reaches this server at; set by the
    /// server when it starts.
    public_url: std::sync::RwLock<String>,
    /// The server's data directory, where channels keep recordings.
    data_dir: std::sync::OnceLock<std::path::PathBuf>,
}

pub struct Service {
    inner: Arc<Inner>,
}

impl Clone for Service {
    fn clone(&self) -> Self {
        Service { inner: self.inner.clone() }
    }
}

impl Service {
    /// Opens the store a URL names (see `Store::open`) and starts the service on it.
    pub async fn open(url: &str, clock: ClockFn, session_hours: u64) -> Result<Self, ServiceError> {
        Self::new(Store::open(url).await?, clock, session_hours).await
    }

    pub async fn new(store: Store, clock: ClockFn, session_hours: u64) -> Result<Self, ServiceError> {
        let ids = Ids::seeded(store.max_ids().await?);
        let endpoints = endpoints::EndpointIndex::of(store.all_endpoints().await?);
        let service = Service {
            inner: Arc::new(Inner {
                store,
                clock,
                ids,
                centers: Default::default(),
                fanout: Default::default(),
                session_hours,
                logins: Default::default(),
                observed: Default::default(),
                customer_locks: Default::default(),
                principals: Default::default(),
                user_changes: Default::default(),
                chat: Default::default(),
                conversations: Default::default(),
                channels: Default::default(),
                tallies: Default::default(),
                rollups: Default::default(),
                rules: Default::default(),
                response_clocks: Default::default(),
                adherence_checked: Default::default(),
                endpoints: std::sync::RwLock::new(endpoints),
                endpoint_changes: Default::default(),
                secret_key: Default::default(),
                healths: Default::default(),
                public_url: Default::default(),
                data_dir: Default::default(),
            }),
        };
        service.chat_endpoints_for_old_widgets().await?;
        Ok(service)
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn ids(&self) -> &Ids {
        &self.inner.ids
    }

    pub fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }

    /// The base URL providers and customers reach this server at, for
    /// signatures and callbacks (`public_url`, `SWITCHBOARD_PUBLIC_URL`, by
    /// default `http://` and the server's own address), without a trailing
    /// slash. Empty until a server has started.
    pub fn public_url(&self) -> String {
        self.inner.public_url.read().expect("public URL lock").clone()
    }

    /// Sets [`Service::public_url`]: the server does when it starts.
    pub fn set_public_url(&self, url: &str) {
        *self.inner.public_url.write().expect("public URL lock") = url.trim_end_matches('/').to_string();
    }

    /// The chat channel's live state.
    pub fn chat(&self) -> &chat::ChatHub {
        &self.inner.chat
    }

    /// The conversations' memory (see `conversation`).
    fn conversations(&self) -> &conversation::Conversations {
        &self.inner.conversations
    }

    /// The channels registered at start.
    pub fn channels(&self) -> &conversation::Channels {
        &self.inner.channels
    }

    fn rule_cache(&self) -> &rules::RuleCache {
        &self.inner.rules
    }

    fn tallies(&self) -> &today::Tallies {
        &self.inner.tallies
    }

    /// Reads the workspace's live state without changing it.
    pub async fn inspect<T>(&self, ws: WorkspaceId, f: impl FnOnce(&Center) -> T) -> Result<T, ServiceError> {
        let center = self.center(ws).await?;
        let c = center.lock().await;
        Ok(f(&c))
    }

    /// Where committed events and chat signals are published.
    pub fn fanout(&self) -> &fanout::Fanout {
        &self.inner.fanout
    }

    /// Committed events, as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.inner.fanout.events()
    }

    /// Tells listeners of a batch's events, just committed as `ids`.
    fn publish(&self, ids: Vec<u64>, appended: Vec<switchboard_store::NewEvent>) -> Vec<LoggedEvent> {
        let logged: Vec<LoggedEvent> = ids.into_iter().zip(appended).map(|(id, e)| e.logged(id)).collect();
        for e in &logged {
            self.inner.observed.event(e);
            self.observe_response(e);
            self.inner.fanout.publish(e.clone());
        }
        logged
    }

    async fn center(&self, ws: WorkspaceId) -> Result<Arc<Mutex<Center>>, ServiceError> {
        if let Some(c) = self.inner.centers.lock().expect("centers lock").get(&ws) {
            return Ok(c.clone());
        }
        let loaded = Arc::new(Mutex::new(Center::load(&self.inner.store, ws, self.now()).await?));
        let mut centers = self.inner.centers.lock().expect("centers lock");
        Ok(centers.entry(ws).or_insert(loaded).clone())
    }

    /// Runs `f` on the workspace's center and makes its effects durable.
    /// `f` may push changes of its own; the engine's events are added after.
    pub async fn apply<T>(
        &self,
        ws: WorkspaceId,
        f: impl FnOnce(&mut Center, Timestamp, &mut Vec<Change>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        self.apply_then(ws, f, |out, _| out).await
    }

    /// [`Service::apply`], with `then` looking at what is about to be
    /// committed (engine effects included) to shape the answer — so a
    /// caller can answer with the record as committed instead of reading it
    /// back from the store.
    pub async fn apply_then<T, R>(
        &self,
        ws: WorkspaceId,
        f: impl FnOnce(&mut Center, Timestamp, &mut Vec<Change>) -> Result<T, ServiceError>,
        then: impl FnOnce(T, &[Change]) -> R,
    ) -> Result<R, ServiceError> {
        let center = self.center(ws).await?;
        let (out, commit, appended) = {
            let mut c = center.lock().await;
            let now = self.now();
            let mut changes = Vec::new();
            let out = f(&mut c, now, &mut changes);
            c.absorb(&mut changes);
            let out = out.map(|t| then(t, &changes));
            if changes.is_empty() {
                return out;
            }
            let appended = appended(&changes);
            (out, self.inner.store.commit(changes), appended)
        };
        let started = std::time::Instant::now();
        let commit = commit.await;
        self.inner.observed.commit_took(started.elapsed());
        match commit {
            Ok(ids) => {
                self.publish(ids, appended);
                out
            }
            Err(e) => {
                // Memory is ahead of the disk now: forget it and reload on next use.
                tracing::error!(error = %e, workspace = %ws, "commit failed; reloading the workspace");
                self.inner.centers.lock().expect("centers lock").remove(&ws);
                Err(e.into())
            }
        }
    }

    /// Calls [`Service::tick`] every 100 ms; at start and then hourly,
    /// deletes recordings past their workspace's retention.
    pub fn spawn_ticker(self, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut swept: Option<std::time::Instant> = None;
            loop {
                if swept.is_none_or(|at| at.elapsed() >= RECORDING_SWEEP_EVERY) {
                    swept = Some(std::time::Instant::now());
                    self.sweep_all_recordings().await;
                }
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                self.tick().await;
            }
        })
    }

    /// What time passing does, at the service's clock, in every loaded
    /// workspace: fires the engine's timers (offer timeouts, wrap-up ends,
    /// step changes), commits the response targets' warnings and breaches (`sla.rs`)
    /// and the adherence exceptions (`realtime_adherence.rs`), and ends the chats whose
    /// customers are gone.
    pub async fn tick(&self) {
        for ws in self.loaded_workspaces() {
            let ticked = async {
                self.load_response_clocks(ws).await?;
                self.apply(ws, |c, now, out| {
                    c.engine.advance(now);
                    crate::conversation::requeue_due_callbacks(c, now);
                    self.response_passing(c, now, out);
                    Ok(())
                })
                .await?;
                self.check_adherence(ws).await
            };
            if let Err(e) = ticked.await {
                tracing::warn!(error = %e, workspace = %ws, "timer tick failed");
            }
        }
        self.end_left_chats().await;
    }

    /// The workspaces whose centers are in memory.
    fn loaded_workspaces(&self) -> Vec<WorkspaceId> {
        self.inner.centers.lock().expect("centers lock").keys().copied().collect()
    }
}

/// How often recordings past their retention are looked for.
const RECORDING_SWEEP_EVERY: Duration = Duration::from_secs(3600);

impl Service {
    async fn sweep_all_recordings(&self) {
        let workspaces = match self.store().workspaces().await {
            Ok(w) => w,
            Err(e) => return tracing::warn!(error = %e, "recordings not swept"),
        };
        for w in workspaces {
            match self.sweep_recordings(w.id, self.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(workspace = %w.id, deleted = n, "recordings past their retention deleted"),
                Err(e) => tracing::warn!(workspace = %w.id, error = %e, "recordings not swept"),
            }
        }
    }
}

/// The events a batch appends, to publish once it is committed.
fn appended(changes: &[Change]) -> Vec<switchboard_store::NewEvent> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Append(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Fails unless `p` has at least `role`.
pub fn require(p: &Principal, role: Role) -> Result<(), ServiceError> {
    if p.at_least(role) { Ok(()) } else { Err(ServiceError::Forbidden(role.as_str())) }
}
