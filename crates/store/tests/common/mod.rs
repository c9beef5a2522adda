//! The harness: a fresh database per test on each backend, and records to
//! put in it.
//!
//! SQLite gets a new file in a new temporary directory. PostgreSQL gets a
//! new database on the server named by `SWITCHBOARD_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/`), created through the `postgres`
//! maintenance database and dropped afterwards. A server that cannot be
//! reached fails the test: the PostgreSQL store is never skipped quietly.

#![allow(dead_code)] // each test binary uses its own part of the harness

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_core::agent::{Capacity, Membership, Presence, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::{ContactId, CustomerId, PolicyId, QueueId, UserId, WorkspaceId};
use switchboard_core::policy::StepSpec;
use switchboard_core::queue::WrapUp;
use switchboard_core::skills::Proficiency;
use switchboard_core::time::Timestamp;
use switchboard_store::*;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/";

/// A name no other test (in this run or an earlier one) has used.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A directory removed (with everything in it) when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(unique("switchboard_store"));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("temporary paths are UTF-8").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `body` on a SQLite store in a fresh file.
pub async fn with_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Arc<Store>, Arc<TempDir>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = Arc::new(TempDir::new());
    let store = Store::open(&dir.file("switchboard.db")).await.expect("open a SQLite store");
    // The directory outlives the body, whatever the body keeps.
    body(Arc::new(store), Arc::clone(&dir)).await;
    drop(dir);
}

pub fn postgres_server() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_string())
}

/// `server` with its database (path) replaced by `database`, query kept.
pub fn database_url(server: &str, database: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let root = base[authority..].find('/').map_or(base, |i| &base[..authority + i]);
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

async fn admin(server: &str) -> PgConnection {
    PgConnection::connect(&database_url(server, "postgres")).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {server} ({e}). The store's tests run against PostgreSQL too: \
             start it, or set SWITCHBOARD_TEST_POSTGRES to a server where this user may create databases."
        )
    })
}

/// Runs `body` on a PostgreSQL store in a database of its own, which is
/// dropped afterwards, also when `body` panics.
pub async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(Arc<Store>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let server = postgres_server();
    let name = unique("switchboard_test");
    let mut admin = admin(&server).await;
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create a test database");
    let url = database_url(&server, &name);
    let store = Store::open(&url).await.unwrap_or_else(|e| panic!("open the PostgreSQL store at {url}: {e}"));

    // In a task of its own so that a failing test still gets here to drop
    // its database; FORCE ends the connections the store may still hold.
    let outcome = tokio::spawn(body(Arc::new(store), url)).await;
    let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

// ---- records ----

pub fn ts(ms: i64) -> Timestamp {
    Timestamp(ms)
}

pub fn workspace(id: u64) -> Workspace {
    Workspace { id: WorkspaceId(id), name: format!("Workspace {id}"), created_at: ts(1_000 + id as i64) }
}

pub fn user(id: u64, ws: u64, email: &str) -> User {
    User {
        id: UserId(id),
        workspace: WorkspaceId(ws),
        email: email.to_string(),
        name: format!("User {id}"),
        role: Role::Agent,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string(),
        created_at: ts(2_000),
        state: UserState::Active,
    }
}

pub fn token(hash: &[u8], ws: u64, user: u64) -> Token {
    Token {
        hash: hash.to_vec(),
        kind: TokenKind::Session,
        workspace: WorkspaceId(ws),
        user: UserId(user),
        name: "browser".to_string(),
        created_at: ts(3_000),
        expires_at: Some(ts(3_600_000)),
        last_used_at: None,
    }
}

pub fn skill(ws: u64, name: &str) -> Skill {
    Skill { workspace: WorkspaceId(ws), name: name.to_string() }
}

pub fn policy(id: u64, ws: u64) -> PolicyRecord {
    PolicyRecord {
        id: PolicyId(id),
        workspace: WorkspaceId(ws),
        name: format!("Policy {id}"),
        steps: vec![
            StepSpec {
                expr: "skills.german >= 5".to_string(),
                wait: Some(Duration::from_secs(30)),
                skip_if_unstaffed: true,
            },
            StepSpec { expr: "true".to_string(), wait: None, skip_if_unstaffed: false },
        ],
    }
}

pub fn queue(id: u64, ws: u64) -> QueueRecord {
    QueueRecord {
        id: QueueId(id),
        workspace: WorkspaceId(ws),
        name: format!("Queue {id}"),
        settings: serde_json::json!({ "channels": ["voice", "chat"], "service_level": { "seconds": 20, "target": 0.8 } }),
    }
}

pub fn agent(user: u64, ws: u64) -> AgentRecord {
    AgentRecord {
        user: UserId(user),
        workspace: WorkspaceId(ws),
        skills: BTreeMap::from([
            ("german".to_string(), Proficiency::Level(7)),
            ("billing".to_string(), Proficiency::Held(true)),
        ]),
        capacity: Capacity::of(&[(Channel::Voice, 1), (Channel::Chat, 3)]).with_max_total(Some(3)),
        memberships: vec![Membership { queue: QueueId(1), priority: 2, delay: Duration::from_millis(2_500) }],
        wrap_up: Some(WrapUp::Fixed(Duration::from_secs(45))),
        presence: Presence::Away(ReasonCode::new("lunch")),
    }
}

pub fn customer(id: u64, ws: u64, name: &str) -> CustomerRecord {
    CustomerRecord {
        id: CustomerId(id),
        workspace: WorkspaceId(ws),
        name: name.to_string(),
        attributes: BTreeMap::from([
            ("tier".to_string(), Value::Str("gold".to_string())),
            ("score".to_string(), Value::Num(4.5)),
            ("vip".to_string(), Value::Bool(true)),
            ("langs".to_string(), Value::List(vec![Value::from("de"), Value::from("en")])),
            ("nothing".to_string(), Value::Null),
        ]),
        tags: vec!["b2b".to_string(), "churn-risk".to_string()],
        merged_into: None,
        created_at: ts(4_000),
    }
}

pub fn identity(ws: u64, customer: u64, kind: IdentityKind, value: &str) -> Identity {
    Identity { workspace: WorkspaceId(ws), customer: CustomerId(customer), kind, value: value.to_string() }
}

/// A waiting voice contact with nothing optional set.
pub fn contact(id: u64, ws: u64) -> ContactRecord {
    ContactRecord {
        id: ContactId(id),
        workspace: WorkspaceId(ws),
        customer: None,
        channel: Channel::Voice,
        direction: Direction::Inbound,
        queue: None,
        state: ContactState::Queued,
        priority: 0,
        attributes: Default::default(),
        agent: None,
        enqueued_at: None,
        disposition: None,
        notes: None,
        created_at: ts(5_000 + id as i64),
        updated_at: ts(5_000 + id as i64),
        ended_at: None,
    }
}

pub fn event(ws: u64, kind: &str) -> NewEvent {
    NewEvent {
        workspace: WorkspaceId(ws),
        at: ts(6_000),
        kind: kind.to_string(),
        contact: None,
        agent: None,
        queue: None,
        customer: None,
        payload: serde_json::json!({ "type": kind }),
    }
}

/// Every contact of a workspace, through the cursor.
pub async fn all_contacts(s: &Store, ws: u64, filter: &ContactFilter, page: u32) -> Vec<ContactRecord> {
    let mut out: Vec<ContactRecord> = Vec::new();
    loop {
        let after = out.last().map(|c| c.id);
        let batch = s.contacts(WorkspaceId(ws), filter, after, page).await.expect("contacts");
        assert!(batch.len() <= page as usize, "a page holds at most `limit` contacts");
        let done = batch.len() < page as usize;
        out.extend(batch);
        if done {
            return out;
        }
    }
}

/// Every event of a workspace, through the cursor.
pub async fn all_events(s: &Store, ws: u64, page: u32) -> Vec<LoggedEvent> {
    let mut out: Vec<LoggedEvent> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.id);
        let batch = s.events(WorkspaceId(ws), after, page).await.expect("events");
        let done = batch.len() < page as usize;
        out.extend(batch);
        if done {
            return out;
        }
    }
}

pub fn document(ws: u64, kind: &str, id: u64) -> Document {
    Document {
        workspace: WorkspaceId(ws),
        kind: kind.to_string(),
        id,
        body: serde_json::json!({ "name": format!("{kind} {id}"), "nested": { "list": [1, 2.5, null, "x"] } }),
        updated_at: ts(7_000 + id as i64),
    }
}

/// A published article without a category.
pub fn article(id: u64, ws: u64, title: &str, body: &str) -> Article {
    Article {
        workspace: WorkspaceId(ws),
        id,
        category: None,
        title: title.to_string(),
        body: body.to_string(),
        published: true,
        created_at: ts(8_000 + id as i64),
        updated_at: ts(8_500 + id as i64),
    }
}

pub fn attachment(id: u64, ws: u64, contact: u64, bytes: &[u8]) -> Attachment {
    Attachment {
        workspace: WorkspaceId(ws),
        id,
        contact: ContactId(contact),
        name: format!("file-{id}.bin"),
        content_type: "application/octet-stream".to_string(),
        bytes: bytes.to_vec(),
        created_at: ts(9_000 + id as i64),
    }
}

/// `both!(case, …)`: each case, an `async fn case(&Arc<Store>)` of the test
/// file, as one test on SQLite and one on PostgreSQL.
#[allow(unused_macros)] // not every test binary runs its cases this way
macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::common::with_sqlite(|s, _dir| async move { crate::$case(&s).await }).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::common::with_postgres(|s, _url| async move { crate::$case(&s).await }).await;
                }
            )*
        }
    };
}
