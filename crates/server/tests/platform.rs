//! Webhooks, the audit log, `/metrics` and the API description, end to
//! end over HTTP on SQLite and on PostgreSQL: a server on port 0 with a
//! fresh database per test, and for webhooks a small receiver of our own.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_server::Options;
use switchboard_server::delivery::DeliveryOptions;
use switchboard_server::service::{NewUser, Service};

mod common;
use common::*;
use switchboard_store::{Role, Store};

// ---- harness: the shared one, plus what these tests set up ----

/// Webhook retries in milliseconds rather than seconds, so tests see them.
fn fast_retries() -> Options {
    Options {
        webhooks: DeliveryOptions {
            attempts: 3,
            first_retry: Duration::from_millis(100),
            timeout: Duration::from_secs(5),
            per_webhook: 4,
        },
        ..Options::default()
    }
}

impl App {
    async fn workspace(&self, service: &Service, name: &str) -> (u64, u64, String) {
        let email = format!("admin@{}.example", name.to_lowercase());
        let admin = NewUser {
            email: email.clone(),
            name: "Admin".into(),
            role: Role::Admin,
            password: "admin-password".into(),
        };
        let (ws, user) = service.create_workspace(name, admin).await.unwrap();
        (ws.id.0, user.id.0, self.login(&email, "admin-password").await)
    }

    /// A queue served by one available agent: (queue id, agent user id).
    async fn staffed_queue(&self, admin: &str, domain: &str) -> (u64, u64) {
        let policy =
            self.ok("POST", "/api/v1/policies", admin, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
        let queue = self
            .ok(
                "POST",
                "/api/v1/queues",
                admin,
                json!({ "name": "Support", "channels": ["api"], "policy": policy["id"] }),
            )
            .await;
        let email = format!("agent@{domain}");
        let agent = self
            .ok(
                "POST",
                "/api/v1/users",
                admin,
                json!({ "email": email, "name": "Agent", "role": "agent", "password": "agent-password" }),
            )
            .await;
        let agent_id = agent["id"].as_u64().unwrap();
        self.ok(
            "PUT",
            &format!("/api/v1/agents/{agent_id}"),
            admin,
            json!({ "capacity": { "api": 5 }, "queues": [{ "queue": queue["id"] }] }),
        )
        .await;
        let token = self.login(&email, "agent-password").await;
        self.ok("POST", &format!("/api/v1/agents/{agent_id}/state"), &token, json!({ "state": "available" })).await;
        (queue["id"].as_u64().unwrap(), agent_id)
    }
}

/// Polls `check` every 50 ms until it holds, for at most 10 s.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

// ---- the webhook receiver ----

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Deliveries answered once already: the first attempt at each gets a 500.
    seen: Arc<Mutex<HashSet<String>>>,
}

impl Receiver {
    async fn start() -> (SocketAddr, Receiver) {
        async fn take(
            State(r): State<Receiver>,
            Path(path): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> AxumStatus {
            let delivery =
                headers.get("x-switchboard-delivery").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            r.received.lock().unwrap().push(Received { path, headers, body });
            if r.seen.lock().unwrap().insert(delivery) { AxumStatus::INTERNAL_SERVER_ERROR } else { AxumStatus::OK }
        }
        let r = Receiver::default();
        let app = axum::Router::new().route("/{path}", axum::routing::post(take)).with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, r)
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.received.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }
}

/// What a receiver checks: HMAC-SHA256 of `timestamp.body`, hex, after `sha256=`.
fn signature_holds(secret: &str, r: &Received) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(r.header("x-switchboard-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    r.header("x-switchboard-signature") == format!("sha256={hex}")
}

// ---- webhooks ----

async fn webhooks(store: Store) {
    let (app, service) = App::start_with(store, fast_retries()).await;
    let (hooks_addr, receiver) = Receiver::start().await;
    let (acme, _, admin) = app.workspace(&service, "Acme").await;
    let (_, _, other) = app.workspace(&service, "Other").await;

    // Checked input; administrators only.
    for (body, field) in [
        (json!({ "url": "https://example.com/x", "events": ["*"] }), "url"),
        (json!({ "url": "not a url", "events": ["*"] }), "url"),
        (json!({ "url": "http://127.0.0.1:1/x", "events": [] }), "events"),
        (json!({ "url": "http://127.0.0.1:1/x", "events": ["Offer Created"] }), "events[0]"),
        (json!({ "url": "http://127.0.0.1:1/x", "events": ["*"], "secret": "short" }), "secret"),
    ] {
        let (status, v) = app.call("POST", "/api/v1/webhooks", Some(&admin), Some(body)).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{v}");
    }

    // Offers only, with a secret of our choosing; everything, with one generated.
    let secret = "a-secret-of-our-own-0123";
    let offers = app
        .ok(
            "POST",
            "/api/v1/webhooks",
            &admin,
            json!({ "url": format!("http://{hooks_addr}/offers"), "events": ["offer_created"], "secret": secret }),
        )
        .await;
    assert_eq!(offers["secret"], secret);
    let all = app
        .ok("POST", "/api/v1/webhooks", &admin, json!({ "url": format!("http://{hooks_addr}/all"), "events": ["*"] }))
        .await;
    let all_secret = all["secret"].as_str().unwrap().to_string();
    assert!(all_secret.starts_with("whsec_"), "{all}");
    // Nobody listens on port 1: every attempt fails without an answer.
    let dead = app
        .ok(
            "POST",
            "/api/v1/webhooks",
            &admin,
            json!({ "url": "http://127.0.0.1:1/dead", "events": ["contact_queued"] }),
        )
        .await;
    let (offers_id, all_id, dead_id) =
        (offers["id"].as_u64().unwrap(), all["id"].as_u64().unwrap(), dead["id"].as_u64().unwrap());

    // The secret is shown once only.
    let listed = app.get("/api/v1/webhooks", &admin).await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 3, "{listed}");
    assert!(!listed.to_string().contains("secret"), "{listed}");

    // Another workspace neither sees nor touches these, and its events never arrive.
    assert_eq!(app.get("/api/v1/webhooks", &other).await["webhooks"], json!([]));
    let (status, _) = app.call("DELETE", &format!("/api/v1/webhooks/{offers_id}"), Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.call("GET", &format!("/api/v1/webhooks/{offers_id}/deliveries"), Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (other_queue, _) = app.staffed_queue(&other, "other.example").await;
    app.ok("POST", "/api/v1/contacts", &other, json!({ "queue": other_queue })).await;

    let (queue, _) = app.staffed_queue(&admin, "acme.example").await;
    let contact = app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": queue })).await;
    assert_eq!(contact["state"], "offered", "{contact}");

    // The offer comes twice: the receiver fails the first attempt.
    eventually("the offer's second attempt", async || receiver.at("offers").len() >= 2).await;
    let got = receiver.at("offers");
    assert_eq!(got.len(), 2, "one offer, two attempts: {got:?}");
    let (first, second) = (&got[0], &got[1]);
    assert_eq!(first.header("x-switchboard-delivery"), second.header("x-switchboard-delivery"));
    assert_eq!(first.header("x-switchboard-delivery").len(), 36);
    for r in &got {
        assert_eq!(r.header("x-switchboard-event"), "offer_created");
        assert_eq!(r.header("content-type"), "application/json");
        assert!(signature_holds(secret, r), "signature of {r:?}");
        assert!(!signature_holds("another-secret-entirely", r));
        let event = r.json();
        assert_eq!((event["kind"].as_str(), event["workspace"].as_u64()), (Some("offer_created"), Some(acme)));
        assert_eq!(event["contact"], contact["id"]);
    }
    // The signature covers the timestamp: the same body at another time does not verify.
    let mut replayed = second.clone();
    let t: i64 = second.header("x-switchboard-timestamp").parse().unwrap();
    replayed.headers.insert("x-switchboard-timestamp", (t + 600).to_string().parse().unwrap());
    assert!(!signature_holds(secret, &replayed));

    // The log shows both attempts, newest first.
    let path = format!("/api/v1/webhooks/{offers_id}/deliveries");
    eventually("both attempts logged", async || {
        app.get(&path, &admin).await["deliveries"].as_array().unwrap().len() == 2
    })
    .await;
    let log = app.get(&path, &admin).await["deliveries"].clone();
    assert_eq!(log[0]["attempt"], 2, "{log}");
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[1]["attempt"], 1);
    assert_eq!(log[1]["status"], 500);
    assert_eq!(log[0]["delivery"], first.header("x-switchboard-delivery"));
    assert_eq!(log[0]["event"], first.json()["id"]);
    assert_eq!(log[0]["kind"], "offer_created");

    // Everything of Acme reaches the catch-all, nothing of Other, and it verifies with the generated secret.
    eventually("the catch-all's offer", async || {
        receiver.at("all").iter().any(|r| r.header("x-switchboard-event") == "offer_created")
    })
    .await;
    let kinds: BTreeSet<String> = receiver.at("all").iter().map(|r| r.header("x-switchboard-event")).collect();
    assert!(kinds.contains("contact_queued") && kinds.contains("agent_state_changed"), "{kinds:?}");
    for r in receiver.at("all").iter().chain(receiver.at("offers").iter()) {
        assert_eq!(r.json()["workspace"].as_u64(), Some(acme), "another workspace's event arrived: {r:?}");
    }
    assert!(receiver.at("all").iter().all(|r| signature_holds(&all_secret, r)));

    // Unanswered attempts are logged with their error, until the attempts run out.
    let path = format!("/api/v1/webhooks/{dead_id}/deliveries");
    eventually("three failed attempts", async || {
        app.get(&path, &admin).await["deliveries"].as_array().unwrap().len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let log = app.get(&path, &admin).await["deliveries"].clone();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3, "attempts are limited: {log:?}");
    for entry in log {
        assert!(entry["status"].is_null() && entry["error"].as_str().is_some_and(|e| !e.is_empty()), "{entry}");
        assert!(!entry["error"].as_str().unwrap().contains("127.0.0.1:1/dead"), "URLs stay out of the log");
    }

    // Deleted: gone from the list, its log with it, and nothing more arrives.
    let (status, _) = app.call("DELETE", &format!("/api/v1/webhooks/{offers_id}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call("GET", &format!("/api/v1/webhooks/{offers_id}/deliveries"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let ids: Vec<u64> = app.get("/api/v1/webhooks", &admin).await["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![all_id, dead_id]);
    let before = receiver.at("all").len();
    app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": queue })).await;
    eventually("the next offer at the catch-all", async || {
        receiver.at("all").iter().skip(before).filter(|r| r.header("x-switchboard-event") == "offer_created").count()
            >= 2
    })
    .await;
    assert_eq!(receiver.at("offers").len(), 2, "a deleted webhook gets nothing");

    // Agents cannot manage webhooks.
    let agent = app.login("agent@acme.example", "agent-password").await;
    let (status, _) = app.call("GET", "/api/v1/webhooks", Some(&agent), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_on_sqlite() {
    webhooks(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_on_postgres() {
    webhooks(Store::open(&postgres_url().await).await.unwrap()).await;
}

// ---- the audit log ----

async fn audit(store: Store) {
    let (app, service) = App::start_with(store, fast_retries()).await;
    let (_, admin_id, admin) = app.workspace(&service, "Acme").await;
    let (_, _, other) = app.workspace(&service, "Other").await;

    app.ok("POST", "/api/v1/skills", &admin, json!({ "name": "billing" })).await;
    let (queue, agent) = app.staffed_queue(&admin, "acme.example").await;
    let token = app.ok("POST", "/api/v1/tokens", &admin, json!({ "name": "crm" })).await;
    let policy = app.get("/api/v1/policies", &admin).await["policies"][0]["id"].as_u64().unwrap();
    app.ok(
        "PUT",
        &format!("/api/v1/policies/{policy}"),
        &admin,
        json!({ "name": "Any", "steps": [{ "expr": "billing >= 1" }] }),
    )
    .await;
    app.ok(
        "PUT",
        &format!("/api/v1/queues/{queue}"),
        &admin,
        json!({ "name": "Support", "channels": ["api"], "policy": policy, "sl_seconds": 30 }),
    )
    .await;
    let hook =
        app.ok("POST", "/api/v1/webhooks", &admin, json!({ "url": "http://127.0.0.1:1/x", "events": ["audit"] })).await;
    let hook = hook["id"].as_u64().unwrap();
    app.call("DELETE", &format!("/api/v1/webhooks/{hook}"), Some(&admin), None).await;
    // A refused change leaves no entry.
    let (status, _) = app
        .call("POST", "/api/v1/policies", Some(&admin), Some(json!({ "name": "p", "steps": [{ "expr": "(" }] })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let log = app.get("/api/v1/audit", &admin).await;
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["payload"]["action"].as_str().unwrap(), e["payload"]["target"].as_str().unwrap()))
        .collect();
    let (policy_t, queue_t, agent_u, agent_a) =
        (format!("policy/{policy}"), format!("queue/{queue}"), format!("user/{agent}"), format!("agent/{agent}"));
    let hook_t = format!("webhook/{hook}");
    let token_t = format!("token/{}", token["id"].as_str().unwrap());
    assert_eq!(
        actions,
        vec![
            ("create_skill", "skill/billing"),
            ("create_policy", policy_t.as_str()),
            ("create_queue", queue_t.as_str()),
            ("create_user", agent_u.as_str()),
            ("put_agent", agent_a.as_str()),
            ("create_token", token_t.as_str()),
            ("update_policy", policy_t.as_str()),
            ("update_queue", queue_t.as_str()),
            ("create_webhook", hook_t.as_str()),
            ("delete_webhook", hook_t.as_str()),
        ],
        "{log}"
    );
    for e in entries {
        assert_eq!((e["kind"].as_str(), e["payload"]["by"].as_u64()), (Some("audit"), Some(admin_id)), "{e}");
    }
    assert!(!log.to_string().contains(token["token"].as_str().unwrap()), "the token stays out of the log");
    assert_eq!(log["next_after"], Value::Null);

    // Pages by id.
    let first = app.get("/api/v1/audit?limit=4", &admin).await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 4);
    let after = first["next_after"].as_u64().unwrap();
    let rest = app.get(&format!("/api/v1/audit?after={after}&limit=100"), &admin).await;
    assert_eq!(rest["entries"].as_array().unwrap().len(), 6);
    assert_eq!(rest["entries"][0]["id"], entries[4]["id"]);
    let (status, _) = app.call("GET", "/api/v1/audit?after=x", Some(&admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Administrators of this workspace only, on the events WebSocket too.
    let sup =
        json!({ "email": "sup@acme.example", "name": "Sup", "role": "supervisor", "password": "supervisor-password" });
    app.ok("POST", "/api/v1/users", &admin, sup).await;
    let sup = app.login("sup@acme.example", "supervisor-password").await;
    let kinds = |token: String| {
        let addr = app.running.addr;
        async move {
            use futures_util::StreamExt;
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            let mut request = format!("ws://{addr}/api/v1/events?after=0").into_client_request().unwrap();
            request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
            let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            let mut kinds = BTreeSet::new();
            while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
                let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
                kinds.insert(v["kind"].as_str().unwrap().to_string());
            }
            kinds
        }
    };
    assert!(kinds(admin.clone()).await.contains("audit"));
    let seen = kinds(sup).await;
    assert!(seen.contains("agent_state_changed") && !seen.contains("audit"), "{seen:?}");

    // `after=now`: no backlog, only what happens next.
    {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let socket = |after: &str| {
            let mut request =
                format!("ws://{}/api/v1/events?after={after}", app.running.addr).into_client_request().unwrap();
            request.headers_mut().insert("authorization", format!("Bearer {admin}").parse().unwrap());
            tokio_tungstenite::connect_async(request)
        };
        let (mut ws, _) = socket("now").await.unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
        assert!(quiet.is_err(), "no backlog: {quiet:?}");
        let later = app.ok("POST", "/api/v1/tokens", &admin, json!({ "name": "later" })).await;
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        let v: Value = serde_json::from_str(next.to_text().unwrap()).unwrap();
        let target = format!("token/{}", later["id"].as_str().unwrap());
        assert_eq!((v["kind"].as_str(), v["payload"]["target"].as_str()), (Some("audit"), Some(target.as_str())));
        let refused = socket("soon").await.unwrap_err().to_string();
        assert!(refused.contains("400"), "{refused}");
    }
    assert_eq!(app.get("/api/v1/audit", &other).await["entries"], json!([]));
    let agent_token = app.login("agent@acme.example", "agent-password").await;
    let (status, _) = app.call("GET", "/api/v1/audit", Some(&agent_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_on_sqlite() {
    audit(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_on_postgres() {
    audit(Store::open(&postgres_url().await).await.unwrap()).await;
}

// ---- the workspace's day ----

/// "Today" starts at the workspace's midnight; the first count after a
/// start skips the earlier days' events.
async fn workspace_day(store: Store) {
    use std::sync::atomic::{AtomicI64, Ordering};
    let ms = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis();
    let now = Arc::new(AtomicI64::new(ms("2026-11-20T12:00:00Z")));
    let clock = {
        let now = now.clone();
        Arc::new(move || switchboard_core::time::Timestamp(now.load(Ordering::Relaxed)))
    };
    let (app, service) = App::start_at(store, clock, switchboard_server::Options::default()).await;
    let (_, _, admin) = app.workspace(&service, "Acme").await;
    let (queue, _) = app.staffed_queue(&admin, "acme.example").await;
    let contacts = |n: usize| {
        let app = &app;
        let admin = &admin;
        async move {
            for _ in 0..n {
                app.ok("POST", "/api/v1/contacts", admin, json!({ "queue": queue })).await;
            }
        }
    };
    contacts(2).await;
    now.store(ms("2026-11-21T09:00:00Z"), Ordering::Relaxed);
    contacts(3).await;
    now.store(ms("2026-11-21T10:30:00Z"), Ordering::Relaxed);
    let offered = || async {
        let stats = app.get("/api/v1/stats/queues", &admin).await;
        stats["queues"][0]["offered"].as_u64().unwrap()
    };
    assert_eq!(app.get("/api/v1/workspace", &admin).await["time_zone"], "UTC");
    assert_eq!(offered().await, 3, "the UTC day");
    for (zone, expected) in [("Pacific/Kiritimati", 0), ("Pacific/Pago_Pago", 5), ("America/Los_Angeles", 3)] {
        let ws = app.ok("PUT", "/api/v1/workspace", &admin, json!({ "time_zone": zone })).await;
        assert_eq!(ws["time_zone"], zone);
        assert_eq!(offered().await, expected, "the day in {zone}");
    }
    let (status, v) =
        app.call("PUT", "/api/v1/workspace", Some(&admin), Some(json!({ "time_zone": "Mars/Olympus" }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("time_zone")), "{v}");
    let agent = app.login("agent@acme.example", "agent-password").await;
    let (status, _) = app.call("PUT", "/api/v1/workspace", Some(&agent), Some(json!({ "name": "Mine" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let renamed = app.ok("PUT", "/api/v1/workspace", &admin, json!({ "name": "Acme Ltd" })).await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["time_zone"].as_str()),
        (Some("Acme Ltd"), Some("America/Los_Angeles"))
    );
    app.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workspace_day_on_sqlite() {
    workspace_day(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workspace_day_on_postgres() {
    workspace_day(Store::open(&postgres_url().await).await.unwrap()).await;
}

// ---- /metrics ----

/// Checks every line of an exposition and returns the families by type.
fn parse_exposition(text: &str) -> Vec<(String, String)> {
    let mut families: Vec<(String, String)> = Vec::new();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(name_ok(name), "HELP names a metric: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("TYPE has a name and a type: {line}"));
            assert!(name_ok(name), "{line}");
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            assert!(!families.iter().any(|(n, _)| n == name), "one TYPE per family: {line}");
            families.push((name.to_string(), kind.to_string()));
            continue;
        }
        assert!(!line.starts_with('#') && !line.trim().is_empty(), "a sample: {line:?}");
        // name, optional {labels}, value.
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value), "value of {line}");
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, Some(l.strip_suffix('}').unwrap_or_else(|| panic!("labels end with }}: {line}")))),
            None => (series, None),
        };
        assert!(name_ok(name), "{line}");
        if let Some(labels) = labels {
            // key="value" pairs, values with \\, \" and \n escaped.
            let mut rest = labels;
            while !rest.is_empty() {
                let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("label in {line}"));
                assert!(name_ok(key), "label name {key} in {line}");
                let mut chars = after.char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => assert!(matches!(chars.next(), Some((_, '\\' | '"' | 'n'))), "escape in {line}"),
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.unwrap_or_else(|| panic!("unterminated label value in {line}"));
                rest = &after[end + 1..];
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
        }
        let family = families.iter().rev().find(|(n, kind)| {
            name == n
                || (kind == "histogram"
                    && [format!("{n}_bucket"), format!("{n}_sum"), format!("{n}_count")].contains(&name.to_string()))
        });
        assert!(family.is_some(), "sample of an undeclared family: {line}");
    }
    families
}

async fn metrics(store: Store) {
    let edge =
        switchboard_server::api::edge::Edge { metrics_token: Some("metrics-token".into()), ..Default::default() };
    let (app, service) = App::start_with(store, Options { edge, ..fast_retries() }).await;
    let (ws, _, admin) = app.workspace(&service, "Acme").await;
    let (queue, _) = app.staffed_queue(&admin, "acme.example").await;
    let contact = app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": queue })).await;
    let id = contact["id"].as_u64().unwrap();
    app.get(&format!("/api/v1/contacts/{id}"), &admin).await;
    app.ok("POST", &format!("/api/v1/contacts/{id}/reject"), &admin, json!({})).await;
    // The rejected contact waits (its agent declined it), and so does one in
    // a queue nobody serves.
    let policy = app.get("/api/v1/policies", &admin).await["policies"][0]["id"].clone();
    let empty = app
        .ok("POST", "/api/v1/queues", &admin, json!({ "name": "Empty", "channels": ["api"], "policy": policy }))
        .await;
    app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": empty["id"] })).await;

    let resp = app.http.get(format!("{}/metrics", app.base)).bearer_auth("metrics-token").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = resp.text().await.unwrap();
    let families = parse_exposition(&text);
    for (name, kind) in [
        ("switchboard_contacts", "gauge"),
        ("switchboard_queue_waiting", "gauge"),
        ("switchboard_agents", "gauge"),
        ("switchboard_offers_total", "counter"),
        ("switchboard_http_requests_total", "counter"),
        ("switchboard_http_request_duration_seconds", "histogram"),
        ("switchboard_store_commit_duration_seconds", "histogram"),
    ] {
        assert!(families.contains(&(name.to_string(), kind.to_string())), "{name} {kind} in\n{text}");
    }
    let has = |line: &str| text.lines().any(|l| l == line);
    let empty_id = empty["id"].as_u64().unwrap();
    assert!(has(&format!("switchboard_queue_waiting{{workspace=\"{ws}\",queue=\"{queue}\"}} 1")), "{text}");
    assert!(has(&format!("switchboard_queue_waiting{{workspace=\"{ws}\",queue=\"{empty_id}\"}} 1")), "{text}");
    assert!(has(&format!("switchboard_contacts{{workspace=\"{ws}\",state=\"queued\"}} 2")), "{text}");
    assert!(has(&format!("switchboard_contacts{{workspace=\"{ws}\",state=\"offered\"}} 0")), "{text}");
    assert!(has(&format!("switchboard_agents{{workspace=\"{ws}\",state=\"available\"}} 1")), "{text}");
    assert!(has(&format!("switchboard_offers_total{{workspace=\"{ws}\",outcome=\"created\"}} 1")), "{text}");
    assert!(has(&format!("switchboard_offers_total{{workspace=\"{ws}\",outcome=\"rejected\"}} 1")), "{text}");
    // Routes are labelled by their template, never by the ids in the path.
    assert!(
        has("switchboard_http_request_duration_seconds_count{route=\"/api/v1/contacts/{id}\",method=\"GET\"} 1"),
        "{text}"
    );
    assert!(
        has("switchboard_http_requests_total{route=\"/api/v1/contacts\",method=\"POST\",status=\"201\"} 2"),
        "{text}"
    );
    assert!(!text.contains(&format!("/api/v1/contacts/{id}\"")));
    assert!(
        text.lines().any(|l| l.starts_with("switchboard_store_commit_duration_seconds_count ") && !l.ends_with(" 0"))
    );
    app.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_on_sqlite() {
    metrics(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_on_postgres() {
    metrics(Store::open(&postgres_url().await).await.unwrap()).await;
}

// ---- the API description ----

/// Every (method, path) the router registers, read from its source: routes
/// before the API's fallback are under `/api/v1`, the others at the root.
fn router_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../src/api/mod.rs");
    let body = &src[src.find("pub fn router").expect("the router")..];
    let api_end = body.find(".fallback(").expect("the API's fallback");
    let mut out = BTreeSet::new();
    let mut at = 0;
    while let Some(i) = body[at..].find(".route(") {
        // The path literal, perhaps on the next line.
        let open = at + i + ".route(".len();
        let Some(quote) = body[open..].find(|c: char| !c.is_whitespace()).filter(|q| body[open + q..].starts_with('"'))
        else {
            at = open;
            continue;
        };
        let start = open + quote + 1;
        let path_end = start + body[start..].find('"').unwrap();
        let path = &body[start..path_end];
        // The route's arguments, to the parenthesis closing `.route(`.
        let mut depth = 1;
        let mut end = path_end;
        for (j, c) in body[path_end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = path_end + j;
                break;
            }
        }
        let args = &body[path_end..end];
        let full = if start < api_end { format!("/api/v1{path}") } else { path.to_string() };
        let mut methods = 0;
        for m in ["get", "post", "put", "delete", "patch"] {
            let bytes = args.as_bytes();
            let mut k = 0;
            while let Some(p) = args[k..].find(&format!("{m}(")) {
                let pos = k + p;
                let before = if pos == 0 { b' ' } else { bytes[pos - 1] };
                if !(before.is_ascii_alphanumeric() || before == b'_' || before == b':') {
                    out.insert((m.to_string(), full.clone()));
                    methods += 1;
                }
                k = pos + m.len();
            }
        }
        assert!(methods > 0, "no method found for {full}");
        at = end;
    }
    // Document kinds get their five routes from one helper call each.
    let mut at = 0;
    while let Some(i) = body[at..].find("(api, \"") {
        let start = at + i + "(api, \"".len();
        let path = &body[start..start + body[start..].find('"').unwrap()];
        let base = format!("/api/v1{path}");
        for (m, p) in [("get", &base), ("post", &base)] {
            out.insert((m.to_string(), p.clone()));
        }
        for m in ["get", "put", "delete"] {
            out.insert((m.to_string(), format!("{base}/{{id}}")));
        }
        at = start;
    }
    out
}

async fn api_description(store: Store) {
    let (app, _service) = App::start_with(store, fast_retries()).await;
    let (status, doc) = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");

    let routes = router_routes();
    assert!(routes.len() >= 30, "the router was read: {routes:?}");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| k.as_str() != "parameters")
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "routes without documentation: {missing:?}");
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");

    // Every operation has a summary and responses; every reference resolves.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has a summary");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has responses");
            for param in path.split('/').filter(|s| s.starts_with('{')) {
                let name = param.trim_matches(|c| c == '{' || c == '}');
                let declared = |v: &Value| {
                    v.as_array().is_some_and(|ps| {
                        ps.iter().any(|p| {
                            let p = resolve(&doc, p);
                            p["name"] == name && p["in"] == "path"
                        })
                    })
                };
                assert!(
                    declared(&op["parameters"]) || declared(&item["parameters"]),
                    "{method} {path} declares {name}"
                );
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "{refs:?}");
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("local references only: {r}"));
        assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
    }
    for schema in ["Contact", "QueueSettings", "Policy", "Error", "Event", "Webhook", "Delivery", "AuditEntry"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(
        (schemes["cookie"]["in"].as_str(), schemes["cookie"]["name"].as_str()),
        (Some("cookie"), Some("sb_session"))
    );

    // The page renders the document with nothing from elsewhere.
    let resp = app.http.get(format!("{}/api/docs", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let page = resp.text().await.unwrap();
    assert!(page.contains("/api/openapi.json"));
    for external in ["src=\"http", "href=\"http", "src='http", "href='http", "@import", "//cdn"] {
        assert!(!page.contains(external), "the page loads nothing from elsewhere ({external})");
    }
    app.running.stop().await;
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_string());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_description_on_sqlite() {
    api_description(Store::open(&sqlite_url()).await.unwrap()).await;
}
