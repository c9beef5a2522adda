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
pub mod audit;
pub mod auth;
mod center;
pub mod chat;
mod contacts;
pub mod conversation;
mod customers;
pub mod demo;
pub mod documents;
pub mod endpoints;
pub mod fanout;
pub mod flows;
pub mod kb;
pub mod kinds;
pub mod metrics;
pub mod names;
pub mod observe;
mod routing;
pub mod secrets;
pub mod settings;
mod stats;
pub mod throttle;
pub mod today;
mod users;
mod webhooks;
pub mod workspace;

pub use access::*;
pub use agents::*;
pub use center::Center;
pub use contacts::*;
pub use customers::*;
pub use stats::*;
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
use switchboard_store::{Change, LoggedEvent, MaxIds, Role, Store, StoreError, Token, TokenKind, UserState};
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
    principals: std::sync::Mutex<HashMap<Vec<u8>, CachedPrincipal>>,
    /// Serialises changes to users (see `access.rs`).
    user_changes: Mutex<()>,
    chat: chat::ChatHub,
    conversations: conversation::Conversations,
    channels: conversation::Channels,
    tallies: today::Tallies,
    /// Every endpoint, for inbound lookups (see `endpoints.rs`).
    endpoints: std::sync::RwLock<endpoints::EndpointIndex>,
    /// Serialises changes to endpoints, so that the index follows commits.
    endpoint_changes: Mutex<()>,
    /// Seals endpoints' credentials; set once at start.
    secret_key: std::sync::OnceLock<secrets::SecretKey>,
    /// The base URL the outside world reaches this server at; set once at start.
    public_url: std::sync::OnceLock<String>,
}

/// A token's principal as the store last answered, and until when to trust it.
#[derive(Clone, Copy)]
struct CachedPrincipal {
    principal: Principal,
    /// The earlier of the token's expiry and the end of the cache period.
    valid_until: Timestamp,
}

/// How long a token's principal is trusted without asking the store: a
/// logout on this server takes effect at once, a token deleted by another
/// server sharing the database within this time.
const PRINCIPAL_TTL_MS: i64 = 30_000;

/// A token's use is recorded at most this often (`last_used_at`), so that
/// using a token costs a write once a minute, not once a request.
const TOKEN_TOUCH_MS: i64 = 60_000;

/// At most this many cached principals; the cache is emptied when full
/// (simple, and a refill costs one read per active token).
const PRINCIPAL_CACHE_MAX: usize = 100_000;

pub struct Service {
    inner: Arc<Inner>,
}

impl Clone for Service {
    fn clone(&self) -> Self {
        Service { inner: self.inner.clone() }
    }
}

impl Service {
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
                endpoints: std::sync::RwLock::new(endpoints),
                endpoint_changes: Default::default(),
                secret_key: Default::default(),
                public_url: Default::default(),
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
    /// slash. Empty until the server has set it.
    pub fn public_url(&self) -> &str {
        self.inner.public_url.get().map_or("", String::as_str)
    }

    /// Sets [`Service::public_url`], once, at start.
    pub fn set_public_url(&self, url: &str) -> Result<(), ServiceError> {
        let url = url.trim_end_matches('/').to_string();
        self.inner.public_url.set(url).map_err(|_| ServiceError::Conflict("the public URL is set already".into()))
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

    /// Fires the engines' timers (offer timeouts, wrap-up ends, step changes)
    /// every 100 ms, for every loaded workspace, and ends the chats whose
    /// customers are gone.
    pub fn spawn_ticker(self, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                let loaded: Vec<WorkspaceId> =
                    self.inner.centers.lock().expect("centers lock").keys().copied().collect();
                for ws in loaded {
                    let result = self
                        .apply(ws, |c, now, _| {
                            c.engine.advance(now);
                            Ok(())
                        })
                        .await;
                    if let Err(e) = result {
                        tracing::warn!(error = %e, workspace = %ws, "timer tick failed");
                    }
                }
                self.end_left_chats().await;
            }
        })
    }

    // ----- authentication ------------------------------------------------

    /// The principal behind a bearer token or session cookie value.
    ///
    /// Every API request asks this, so recent answers are kept in memory for
    /// [`PRINCIPAL_TTL_MS`]: without that, two store reads per request were
    /// most of the cost of a small request.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        let hash = auth::token_hash(token);
        let now = self.now();
        if let Some(cached) = self.inner.principals.lock().expect("principals lock").get(&hash)
            && cached.valid_until > now
        {
            return Ok(cached.principal);
        }
        let t = self.inner.store.token(&hash).await?.ok_or(ServiceError::Unauthenticated)?;
        if t.expires_at.is_some_and(|e| e <= now) {
            return Err(ServiceError::Unauthenticated);
        }
        let user = self.inner.store.user(t.workspace, t.user).await?.ok_or(ServiceError::Unauthenticated)?;
        if user.state != UserState::Active {
            return Err(ServiceError::Unauthenticated);
        }
        // Only here, on a cache miss, so at most once per cache period; and
        // only when the recorded use is a minute old.
        if t.kind == TokenKind::Api && t.last_used_at.is_none_or(|at| now.0 - at.0 >= TOKEN_TOUCH_MS) {
            let touch = Change::TouchToken { hash: hash.clone(), at: now };
            if let Err(e) = self.inner.store.commit(vec![touch]).await {
                tracing::warn!(error = %e, "could not record a token's use");
            }
        }
        let principal = Principal { workspace: user.workspace, user: user.id, role: user.role };
        let ttl_end = Timestamp(now.0 + PRINCIPAL_TTL_MS);
        let valid_until = t.expires_at.map_or(ttl_end, |e| e.min(ttl_end));
        let mut cache = self.inner.principals.lock().expect("principals lock");
        if cache.len() >= PRINCIPAL_CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, CachedPrincipal { principal, valid_until });
        Ok(principal)
    }

    /// Checks a password and opens a session for a caller at `from`.
    /// Failures slow down further attempts (see [`throttle`]).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        from: std::net::IpAddr,
    ) -> Result<(String, switchboard_store::User), ServiceError> {
        let email = email.trim().to_lowercase();
        let now = self.now();
        if let Some(wait) = self.inner.logins.wait(&email, from, now) {
            return Err(ServiceError::TryLater(wait));
        }
        let user = self.inner.store.user_by_email(&email).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = password.to_string();
        // Verify even for unknown logins, so timing does not tell which exist.
        let ok = tokio::task::spawn_blocking(move || {
            auth::verify_password(&password, hash.as_deref().unwrap_or(auth::dummy_hash())) && hash.is_some()
        })
        .await
        .unwrap_or(false);
        // A disabled or deleted user's password no longer opens a session.
        let Some(user) = user.filter(|u| ok && u.state == UserState::Active) else {
            self.inner.logins.failed(&email, from, now);
            return Err(ServiceError::Unauthenticated);
        };
        self.inner.logins.succeeded(&email, from);
        let token = auth::new_token();
        let expires = Timestamp(now.0 + self.inner.session_hours as i64 * 3_600_000);
        self.inner
            .store
            .commit(vec![Change::PutToken(Token {
                hash: auth::token_hash(&token),
                kind: TokenKind::Session,
                workspace: user.workspace,
                user: user.id,
                name: "session".into(),
                created_at: now,
                expires_at: Some(expires),
                last_used_at: None,
            })])
            .await?;
        Ok((token, user))
    }

    /// Drops cached principals `gone` names, after a change took their
    /// access away or changed their role.
    fn forget_principals(&self, gone: impl Fn(&[u8], &Principal) -> bool) {
        self.inner.principals.lock().expect("principals lock").retain(|hash, c| !gone(hash, &c.principal));
    }

    fn user_changes(&self) -> &Mutex<()> {
        &self.inner.user_changes
    }

    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        let hash = auth::token_hash(token);
        self.inner.store.commit(vec![Change::DeleteToken { hash: hash.clone() }]).await?;
        // After the delete: a request racing the logout cannot re-cache it.
        self.inner.principals.lock().expect("principals lock").remove(&hash);
        Ok(())
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
