//! A contact's last steps, end to end on SQLite and on PostgreSQL, with the
//! service's clock moved by the test: a disposition recorded after wrap-up
//! has ended (and refused after the grace period or to another agent),
//! events that name what happened (`contact_cancelled`, no `conversation_ended` on
//! an `api` contact), and chat sessions whose customer never connects.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_server::demo;
use switchboard_server::service::Service;
use switchboard_store::Store;

mod common;
use common::*;

/// A server whose clock the test sets (milliseconds since the epoch).
async fn start_at_noon(store: Store) -> (App, Service, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(1_795_000_000_000));
    let clock = {
        let now = now.clone();
        Arc::new(move || Timestamp(now.load(Ordering::Relaxed)))
    };
    let (app, service) = App::start_at(store, clock, switchboard_server::Options::default()).await;
    (app, service, now)
}

fn later(now: &AtomicI64, seconds: i64) {
    now.fetch_add(seconds * 1000, Ordering::Relaxed);
}

/// Polls the contact until `pick` holds, for at most 10 s.
async fn contact_until(app: &App, token: &str, id: u64, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let c = app.get(&format!("/api/v1/contacts/{id}"), token).await;
        if pick(&c) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn kinds(service: &Service, ws: u64, contact: u64) -> Vec<String> {
    let events = service.store().contact_events(WorkspaceId(ws), ContactId(contact), None).await.unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

struct Desk {
    admin: String,
    ws: u64,
    /// Queues without wrap-up and with a fixed 5 s one.
    no_wrap_up: u64,
    fixed: u64,
    alice: (u64, String),
    bob: (u64, String),
}

async fn desk(app: &App, service: &Service) -> Desk {
    let (ws, _) = service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin = app.login("admin@acme.example", "admin-password").await;
    let policy =
        app.ok("POST", "/api/v1/policies", &admin, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
    let queue = |name: &str, wrap_up: Value| {
        let body = json!({ "name": name, "channels": ["api"], "policy": policy["id"], "wrap_up": wrap_up,
                           "disposition_grace_seconds": 120 });
        let (app, admin) = (&app, &admin);
        async move { app.ok("POST", "/api/v1/queues", admin, body).await["id"].as_u64().unwrap() }
    };
    let no_wrap_up = queue("Plain", json!("none")).await;
    let fixed = queue("Timed", json!({ "fixed": 5 })).await;
    let mut agents = Vec::new();
    for name in ["alice", "bob"] {
        let email = format!("{name}@acme.example");
        let body = json!({ "email": email, "name": name, "role": "agent", "password": "agent-password" });
        let id = app.ok("POST", "/api/v1/users", &admin, body).await["id"].as_u64().unwrap();
        let queues = json!([{ "queue": no_wrap_up }, { "queue": fixed }]);
        app.ok("PUT", &format!("/api/v1/agents/{id}"), &admin, json!({ "capacity": { "api": 1 }, "queues": queues }))
            .await;
        agents.push((id, app.login(&email, "agent-password").await));
    }
    let bob = agents.pop().unwrap();
    let alice = agents.pop().unwrap();
    Desk { admin, ws: ws.id.0, no_wrap_up, fixed, alice, bob }
}

/// A contact on `queue` handled by Alice (the only agent available) and
/// ended by her without a disposition: wrap-up is over or running.
async fn handled(app: &App, d: &Desk, queue: u64) -> u64 {
    let (alice, token) = (&d.alice.0, &d.alice.1);
    app.ok("POST", &format!("/api/v1/agents/{alice}/state"), token, json!({ "state": "available" })).await;
    let c = app.ok("POST", "/api/v1/contacts", &d.admin, json!({ "queue": queue })).await;
    let id = c["id"].as_u64().unwrap();
    assert_eq!(c["agent"], *alice, "{c}");
    app.ok("POST", &format!("/api/v1/contacts/{id}/accept"), token, json!({})).await;
    let (status, v) = app.call("POST", &format!("/api/v1/contacts/{id}/end"), Some(token), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    id
}

async fn complete(app: &App, token: &str, id: u64, body: Value) -> (StatusCode, Value) {
    app.call("POST", &format!("/api/v1/contacts/{id}/complete"), Some(token), Some(body)).await
}

async fn wrap_up_never_loses_work(store: Store) {
    let (app, service, now) = start_at_noon(store).await;
    let d = desk(&app, &service).await;
    let alice = &d.alice.1;

    // No wrap-up: the contact is completed as it ends; the agent's
    // disposition and notes still count, with their own event.
    let id = handled(&app, &d, d.no_wrap_up).await;
    let c = app.get(&format!("/api/v1/contacts/{id}"), &d.admin).await;
    assert_eq!(c["state"], "completed", "{c}");
    // Only the agent who handled it (or a supervisor) may.
    let (status, _) = complete(&app, &d.bob.1, id, json!({ "disposition": "resolved" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = complete(&app, alice, id, json!({ "disposition": "resolved", "notes": "refund sent" })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let c = app.get(&format!("/api/v1/contacts/{id}"), &d.admin).await;
    assert_eq!((c["disposition"].as_str(), c["notes"].as_str()), (Some("resolved"), Some("refund sent")), "{c}");
    let k = kinds(&service, d.ws, id).await;
    assert!(k.contains(&"disposition_set".to_string()), "{k:?}");
    // An `api` contact ended over the API is no chat.
    assert!(k.contains(&"contact_ended".to_string()) && !k.contains(&"conversation_ended".to_string()), "{k:?}");
    // A supervisor may correct it within the grace period; after it, a clear 409.
    later(&now, 100);
    let (status, _) = complete(&app, &d.admin, id, json!({ "notes": "refund sent twice" })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    later(&now, 30);
    let (status, v) = complete(&app, alice, id, json!({ "disposition": "other" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("no longer"), "{v}");
    let c = app.get(&format!("/api/v1/contacts/{id}"), &d.admin).await;
    assert_eq!((c["disposition"].as_str(), c["notes"].as_str()), (Some("resolved"), Some("refund sent twice")));

    // A fixed wrap-up that runs out before the agent submits.
    let id = handled(&app, &d, d.fixed).await;
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}"), &d.admin).await["state"], "wrap_up");
    later(&now, 6);
    contact_until(&app, &d.admin, id, "the wrap-up timer", |c| c["state"] == "completed").await;
    let (status, v) = complete(&app, alice, id, json!({ "disposition": "resolved" })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}"), &d.admin).await["disposition"], "resolved");

    // A contact that was never handled has no disposition to record.
    let (bob, bob_token) = &d.bob;
    app.ok("POST", &format!("/api/v1/agents/{bob}/state"), bob_token, json!({ "state": "offline" })).await;
    app.ok("POST", &format!("/api/v1/agents/{}/state", d.alice.0), alice, json!({ "state": "offline" })).await;
    let c = app.ok("POST", "/api/v1/contacts", &d.admin, json!({ "queue": d.no_wrap_up })).await;
    let id = c["id"].as_u64().unwrap();
    let (status, _) = app.call("POST", &format!("/api/v1/contacts/{id}/cancel"), Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = complete(&app, &d.admin, id, json!({ "disposition": "resolved" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");

    // Bad grace settings are refused.
    let (status, v) = app
        .call(
            "PUT",
            &format!("/api/v1/queues/{}", d.fixed),
            Some(&d.admin),
            Some(json!({ "name": "Timed", "channels": ["api"], "policy": 1, "disposition_grace_seconds": -1 })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    app.running.stop().await;
}

async fn cancelled_contacts(store: Store) {
    let (app, service, _) = start_at_noon(store).await;
    let d = desk(&app, &service).await;
    let c = app.ok("POST", "/api/v1/contacts", &d.admin, json!({ "queue": d.no_wrap_up })).await;
    let id = c["id"].as_u64().unwrap();
    let (status, _) = app.call("POST", &format!("/api/v1/contacts/{id}/cancel"), Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let c = app.get(&format!("/api/v1/contacts/{id}"), &d.admin).await;
    assert_eq!(c["state"], "cancelled", "{c}");
    let k = kinds(&service, d.ws, id).await;
    assert!(k.contains(&"contact_cancelled".to_string()) && !k.contains(&"contact_left".to_string()), "{k:?}");
    let listed = app.get("/api/v1/contacts?state=cancelled", &d.admin).await;
    assert_eq!(listed["contacts"].as_array().map(Vec::len), Some(1), "{listed}");
    // Withdrawn is neither handled nor abandoned.
    let stats = app.get("/api/v1/stats/queues", &d.admin).await;
    let plain = stats["queues"].as_array().unwrap().iter().find(|q| q["queue"] == d.no_wrap_up).unwrap().clone();
    assert_eq!((plain["offered"].clone(), plain["abandoned"].clone()), (json!(1), json!(0)), "{plain}");
    app.running.stop().await;
}

async fn chats_that_never_connect(store: Store) {
    let (app, service, now) = start_at_noon(store).await;
    demo::ensure(&service, None).await.unwrap();
    let admin = app.login(demo::ADMIN_EMAIL, demo::PASSWORD).await;
    let key = app.get("/api/v1/chat/settings", &admin).await["widget_key"].as_str().unwrap().to_string();
    let (status, started) =
        app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({ "name": "Nobody" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["contact"].as_u64().unwrap();
    // Within the grace period the page may still connect.
    later(&now, 30);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}"), &admin).await["state"], "new");
    later(&now, 31);
    let c = contact_until(&app, &admin, id, "the abandoned chat", |c| c["state"] != "new").await;
    assert_eq!(c["state"], "abandoned", "{c}");
    app.running.stop().await;
}

/// Each case as two tests, `sqlite::case` and `postgres::case`.
macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::$case(super::Store::open(&super::sqlite_url()).await.unwrap()).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::$case(super::Store::open(&super::postgres_url().await).await.unwrap()).await;
                }
            )*
        }
    };
}

both!(wrap_up_never_loses_work, cancelled_contacts, chats_that_never_connect);
