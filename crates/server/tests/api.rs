//! End to end over HTTP and WebSocket, on SQLite and on PostgreSQL: a
//! server on port 0 with a fresh database per test.

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::service::ServiceError;
use switchboard_store::Store;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod common;

use common::*;

/// The whole life of a contact, over the API.
async fn contact_lifecycle(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin_token = app.login("admin@acme.example", "admin-password").await;

    app.ok("POST", "/api/v1/skills", &admin_token, json!({ "name": "billing" })).await;
    let (queue, agent_id) = app
        .billing_with_alice(
            &admin_token,
            "billing >= 3",
            json!({ "skills": { "billing": 5 }, "capacity": { "api": 2 } }),
        )
        .await;

    let alice = app.login("alice@acme.example", "alice-password").await;
    let mut request = format!("ws://{}/api/v1/events", app.running.addr).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {alice}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    app.ok("POST", &format!("/api/v1/agents/{agent_id}/state"), &alice, json!({ "state": "available" })).await;

    let contact = app
        .ok(
            "POST",
            "/api/v1/contacts",
            &admin_token,
            json!({ "queue": queue["id"], "attributes": { "topic": "invoice" } }),
        )
        .await;
    let contact_id = contact["id"].as_u64().unwrap();
    assert_eq!(contact["state"], "offered", "{contact}");

    // The offer arrives on Alice's WebSocket.
    let offer = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(msg) = ws.next().await {
            let v: Value = serde_json::from_str(msg.unwrap().to_text().unwrap()).unwrap();
            if v["kind"] == "offer_created" {
                return v;
            }
        }
        panic!("socket closed before the offer");
    })
    .await
    .expect("offer within 5 s");
    assert_eq!(offer["contact"], contact_id);

    app.ok("POST", &format!("/api/v1/contacts/{contact_id}/accept"), &alice, json!({})).await;
    app.ok(
        "POST",
        &format!("/api/v1/contacts/{contact_id}/complete"),
        &alice,
        json!({ "disposition": "resolved", "notes": "refund issued" }),
    )
    .await;
    let (_, done) = app.call("GET", &format!("/api/v1/contacts/{contact_id}"), Some(&admin_token), None).await;
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["disposition"], "resolved");

    let (_, stats) = app.call("GET", "/api/v1/stats/queues", Some(&admin_token), None).await;
    assert_eq!(stats["queues"][0]["handled"], 1, "{stats}");
    assert_eq!(stats["queues"][0]["service_level"], 1.0);
    let (_, agents) = app.call("GET", "/api/v1/stats/agents", Some(&alice), None).await;
    assert_eq!(agents["agents"].as_array().unwrap().len(), 1, "an agent sees itself only");

    // Another workspace sees nothing of this one.
    service.create_workspace("Other", admin("admin@other.example")).await.unwrap();
    let other = app.login("admin@other.example", "admin-password").await;
    let (status, _) = app.call("GET", &format!("/api/v1/contacts/{contact_id}"), Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.call("POST", &format!("/api/v1/contacts/{contact_id}/cancel"), Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.call("GET", "/api/v1/contacts", Some(&other), None).await;
    assert_eq!(list["contacts"].as_array().unwrap().len(), 0);

    app.running.stop().await;
}

/// Clients' mistakes are 4xx with a JSON error; nothing is a 500.
async fn bad_input(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let token = app.login("admin@acme.example", "admin-password").await;
    let (status, v) = app.call("GET", "/api/v1/queues", None, None).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (status, _) = app.call("GET", "/api/v1/queues", Some("not-a-token"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A session that logged out is refused at once, though its principal was cached.
    let session = app.login("admin@acme.example", "admin-password").await;
    app.get("/api/v1/me", &session).await;
    app.ok("POST", "/api/v1/auth/logout", &session, json!({})).await;
    let (status, _) = app.call("GET", "/api/v1/me", Some(&session), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let resp = app
        .http
        .post(format!("{}/api/v1/skills", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_json");

    let (status, v) = app.call("POST", "/api/v1/skills", Some(&token), Some(json!({ "nmae": "x" }))).await;
    assert!(status.is_client_error(), "{status}");
    assert!(v["error"]["message"].as_str().unwrap().contains("nmae"), "{v}");

    let (status, v) = app
        .call(
            "POST",
            "/api/v1/policies",
            Some(&token),
            Some(json!({ "name": "p", "steps": [{ "expr": "billing >= " }] })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "steps[0].expr", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("column"), "{v}");

    let (status, v) = app.call("POST", "/api/v1/contacts", Some(&token), Some(json!({ "queue": 999 }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("queue")), "{v}");
    let (status, _) = app.call("POST", "/api/v1/contacts/12345/accept", Some(&token), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.call("GET", "/api/v1/nothing-here", Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let big = "x".repeat(2 * 1024 * 1024);
    let (status, _) = app.call("POST", "/api/v1/skills", Some(&token), Some(json!({ "name": big }))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // An agent cannot administer.
    app.ok(
        "POST",
        "/api/v1/users",
        &token,
        json!({ "email": "a@acme.example", "name": "A", "role": "agent", "password": "agent-password" }),
    )
    .await;
    let agent = app.login("a@acme.example", "agent-password").await;
    let (status, v) = app.call("POST", "/api/v1/skills", Some(&agent), Some(json!({ "name": "x" }))).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));

    // Login failures back off (tests/security.rs has the details).
    for _ in 0..5 {
        let (status, _) = app
            .call("POST", "/api/v1/auth/login", None, Some(json!({ "email": "a@acme.example", "password": "wrong" })))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": "a@acme.example", "password": "agent-password" })),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(
        service.create_workspace("Dup", admin("admin@acme.example")).await,
        Err(ServiceError::Conflict(_))
    ));
    app.running.stop().await;
}

/// The `api` channel over HTTP: a retried POST with the same
/// `Idempotency-Key` makes one contact; a body that does not parse or names
/// no queue of the workspace is a 400 that stores nothing.
async fn api_channel(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let token = app.login("admin@acme.example", "admin-password").await;
    let policy =
        app.ok("POST", "/api/v1/policies", &token, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
    let queue = json!({ "name": "Cases", "channels": ["api"], "policy": policy["id"] });
    let queue = app.ok("POST", "/api/v1/queues", &token, queue).await["id"].as_u64().unwrap();
    let post = |key: Option<&'static str>, body: String| {
        let mut request = app
            .http
            .post(format!("{}/api/v1/contacts", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let stored = async || {
        let contacts = app.get("/api/v1/contacts", &token).await["contacts"].as_array().unwrap().len();
        let endpoints = app.get("/api/v1/endpoints", &token).await["endpoints"].as_array().unwrap().len();
        (contacts, endpoints)
    };

    // Refused before anything exists: not even the channel's endpoint is made.
    let (status, v) = post(None, "{\"queue\": ".into()).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")), "{v}");
    let unknown = json!({ "queue": queue + 100, "message": "hi", "customer_identity": { "kind": "email", "value": "a@b.example" } });
    let (status, v) = post(Some("k-1"), unknown.to_string()).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("queue")), "{v}");
    assert_eq!(stored().await, (0, 0));
    let (status, customers) = app.call("GET", "/api/v1/customers?email=a@b.example", Some(&token), None).await;
    assert_eq!((status, customers["customers"].clone()), (StatusCode::OK, json!([])));

    // A retried request answers the first one's contact.
    let body = json!({ "queue": queue, "subject": "Refund", "message": "Order A-1042 arrived broken",
        "customer_identity": { "kind": "email", "value": "a@b.example" } });
    let (status, first) = post(Some("k-1"), body.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!((first["channel"].as_str(), first["attributes"]["subject"].as_str()), (Some("api"), Some("Refund")));
    let (status, retry) = post(Some("k-1"), body.to_string()).await;
    assert_eq!((status, retry["id"].clone()), (StatusCode::CREATED, first["id"].clone()), "{retry}");
    assert_eq!(stored().await, (1, 1), "one contact, and the api endpoint");
    let endpoint = &app.get("/api/v1/endpoints", &token).await["endpoints"][0];
    assert_eq!((endpoint["channel"].as_str(), endpoint["name"].as_str()), (Some("api"), Some("API")));
    let messages = app.get(&format!("/api/v1/contacts/{}/messages", first["id"]), &token).await;
    assert_eq!(messages["messages"][0]["text"], "Order A-1042 arrived broken", "{messages}");
    let (status, other) = post(None, body.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(other["id"], first["id"], "no key, a new contact");

    // Refused once it exists: nothing more stored.
    let (status, v) = post(None, json!({ "queue": queue, "channel": "email" }).to_string()).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("channel")), "{v}");
    let (status, _) = post(None, unknown.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stored().await, (2, 1));
    app.running.stop().await;
}

common::on_both!(api_channel);

#[tokio::test]
async fn contact_lifecycle_on_sqlite() {
    contact_lifecycle(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn contact_lifecycle_on_postgres() {
    contact_lifecycle(Store::open(&postgres_url().await).await.unwrap()).await;
}

#[tokio::test]
async fn bad_input_on_sqlite() {
    bad_input(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn bad_input_on_postgres() {
    bad_input(Store::open(&postgres_url().await).await.unwrap()).await;
}
