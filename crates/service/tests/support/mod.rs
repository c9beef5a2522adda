//! What the service's integration tests share: fresh databases, a
//! workspace with a queue, and a run of a test on both databases.

use serde_json::json;
use switchboard_core::ids::{ContactId, EndpointId, QueueId};
use switchboard_service::auth::Principal;
use switchboard_service::{NewUser, Role, Service, system_clock};

pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    nanos * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// A port for a test's SIP peer (sipp, baresip) to bind: even (RTP's rule), free
/// for UDP and TCP, with the one above it, when probed. Drawn at random below
/// the kernel's ephemeral range (32768 and up), so that the outgoing
/// connections of the tests running beside (PostgreSQL's, HTTP clients') cannot
/// take it between the probe and the peer's bind, and two test processes
/// (nextest runs each apart) do not draw the same ports.
#[allow(dead_code)] // not every test binary starts a SIP peer
pub fn peer_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let free = |port: u16| {
        std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
    };
    loop {
        let port = 20_000 + 2 * (RandomState::new().hash_one(rand_suffix()) % 6_000) as u16;
        if free(port) && free(port + 1) {
            return port;
        }
    }
}

pub fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join(format!("switchboard-service-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite://{}", dir.join("test.db").display())
}

/// A fresh database on the local PostgreSQL; fails loudly when there is none.
pub async fn postgres_url() -> String {
    let admin_url = std::env::var("SWITCHBOARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pool = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests and is not reachable at {admin_url}: {e}"));
    let name = format!("switchboard_service_{}", rand_suffix());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_string();
    format!("{base}/{name}")
}

#[allow(dead_code)] // a test on a clock of its own opens its service itself
pub async fn service(url: &str) -> Service {
    Service::open(url, system_clock(), 12).await.unwrap()
}

/// A workspace with an admin and one queue serving `channels`.
pub async fn workspace(service: &Service, channels: &[&str]) -> (Principal, QueueId) {
    let admin = NewUser {
        email: format!("admin{}@example.com", rand_suffix()),
        name: "Admin".into(),
        role: Role::Admin,
        password: "admin-password".into(),
    };
    let (ws, user) = service.create_workspace("Loopback", admin).await.unwrap();
    let p = Principal { workspace: ws.id, user: user.id, role: Role::Admin };
    let policy = service
        .put_policy(&p, None, "Anyone", vec![serde_json::from_value(json!({ "expr": "true" })).unwrap()])
        .await
        .unwrap();
    let settings = serde_json::from_value(json!({ "channels": channels, "policy": policy.id })).unwrap();
    let queue = service.put_queue(&p, None, "Support", settings).await.unwrap();
    (p, queue.id)
}

/// An SMS endpoint (`address`, a number) sending its contacts to `queue`.
#[allow(dead_code)] // not every test binary has an SMS endpoint
pub async fn sms_endpoint(service: &Service, p: &Principal, address: &str, queue: QueueId) -> EndpointId {
    let input =
        serde_json::from_value(json!({ "channel": "sms", "name": address, "address": address, "queue": queue }))
            .unwrap();
    service.create_endpoint(p, input).await.unwrap().id
}

/// A contact's verification outcomes (`"pin verified"`) and what the
/// customer said, as the transcript has it.
#[allow(dead_code)] // not every test binary verifies callers
pub async fn verification_log(service: &Service, p: &Principal, id: ContactId) -> (Vec<String>, Vec<String>) {
    let events = service.store().contact_events(p.workspace, id, None).await.unwrap();
    let outcomes = events
        .iter()
        .filter(|e| e.kind == "verification")
        .map(|e| format!("{} {}", e.payload["check"].as_str().unwrap(), e.payload["outcome"].as_str().unwrap()))
        .collect();
    let said = events
        .iter()
        .filter(|e| e.kind == "message" && e.payload["from"] == "customer")
        .map(|e| e.payload["text"].as_str().unwrap().to_string())
        .collect();
    (outcomes, said)
}

/// `on_both!(a, b)`: tests `sqlite::a`, `postgres::a`, … each running the
/// async fn `a(url)` of the calling file on a fresh database.
macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::support::sqlite_url()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::support::postgres_url().await).await;
            })*
        }
    };
}
pub(crate) use on_both;
