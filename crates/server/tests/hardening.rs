//! Input that used to crash the server or be accepted wrongly, end to end
//! over HTTP on SQLite and on PostgreSQL: nesting deep enough to overflow a
//! stack, literals no skill level can equal, bounds on queue settings, skill
//! levels, flow hand-offs to queues that do not exist, and the decline
//! cooldown as the agent's visible state.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_server::service::Service;
use switchboard_store::Store;

mod common;
use common::*;

/// The server's limit on a request body.
const BODY_LIMIT: usize = 1024 * 1024;

/// A workspace with the skill `billing`, a policy for anyone, the queue
/// "Support" and one available agent in it: (admin token, queue, agent id,
/// agent token).
async fn center(app: &App, service: &Service) -> (String, u64, u64, String) {
    let domain = format!("h{}.example", rand_suffix());
    let email = format!("admin@{domain}");
    service.create_workspace("Hardening", admin(&email)).await.unwrap();
    let token = app.login(&email, "admin-password").await;
    app.ok("POST", "/api/v1/skills", &token, json!({ "name": "billing" })).await;
    let policy =
        app.ok("POST", "/api/v1/policies", &token, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
    let queue = app
        .ok("POST", "/api/v1/queues", &token, json!({ "name": "Support", "channels": ["api"], "policy": policy["id"] }))
        .await;
    let queue = queue["id"].as_u64().unwrap();
    let agent_email = format!("agent@{domain}");
    let user = json!({ "email": agent_email, "name": "Agent", "role": "agent", "password": "agent-password" });
    let agent = app.ok("POST", "/api/v1/users", &token, user).await["id"].as_u64().unwrap();
    let spec = json!({ "skills": { "billing": 5 }, "capacity": { "api": 1 }, "queues": [{ "queue": queue }] });
    app.ok("PUT", &format!("/api/v1/agents/{agent}"), &token, spec).await;
    let agent_token = app.login(&agent_email, "agent-password").await;
    app.ok("POST", &format!("/api/v1/agents/{agent}/state"), &agent_token, json!({ "state": "available" })).await;
    (token, queue, agent, agent_token)
}

/// A 400 naming `field`, and the message it gave.
async fn refused(app: &App, method: &str, path: &str, token: &str, body: Value, field: &str) -> String {
    let (status, v) = app.call(method, path, Some(token), Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {v}");
    assert_eq!(v["error"]["field"], field, "{v}");
    v["error"]["message"].as_str().unwrap_or_default().to_string()
}

async fn still_serving(app: &App, token: &str) {
    app.get("/api/v1/queues", token).await;
}

async fn nesting(store: Store) {
    let (app, service) = App::start(store).await;
    let (token, ..) = center(&app, &service).await;
    let policy = |expr: String| json!({ "name": "Deep", "steps": [{ "expr": expr }] });
    // The two expressions that used to abort the process.
    let parens = format!("{}billing{}", "(".repeat(2500), ")".repeat(2500));
    let message = refused(&app, "POST", "/api/v1/policies", &token, policy(parens), "steps[0].expr").await;
    assert!(message.contains("column 65: expression nested too deeply"), "{message}");
    let nots = format!("{}billing", "!".repeat(100_000));
    let message = refused(&app, "POST", "/api/v1/policies", &token, policy(nots), "steps[0].expr").await;
    assert!(message.contains("nested too deeply"), "{message}");
    still_serving(&app, &token).await;
    // The deepest allowed expression is stored and routes.
    let deepest = format!("{}billing >= 1{}", "(".repeat(64), ")".repeat(64));
    app.ok("POST", "/api/v1/policies", &token, policy(deepest)).await;

    // JSON nested past serde_json's limit, where any value is taken (a flow's
    // definition, a contact's attributes), is a 400, not a crash.
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    for (path, body) in [
        ("/api/v1/flows", format!("{{\"name\":\"x\",\"definition\":{}}}", deep(100_000))),
        ("/api/v1/contacts", format!("{{\"queue\":1,\"attributes\":{{\"x\":{}}}}}", deep(100_000))),
    ] {
        let resp = app
            .http
            .post(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("recursion limit exceeded"), "{path}: {body}");
    }
    // So is YAML nested deeply in a flow's definition, and at once: the YAML
    // parser's own limit comes only after time that grows with the square of
    // the depth (50,000 levels took 20 s).
    for (open, close) in [("[", "]"), ("{a: ", "}"), ("[", ""), ("{a: ", "")] {
        let n = (BODY_LIMIT - 100) / (open.len() + close.len());
        let yaml = format!("name: Deep\ndefinition: {}1{}\n", open.repeat(n), close.repeat(n));
        let started = std::time::Instant::now();
        let resp = app
            .http
            .post(format!("{}/api/v1/flows", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/yaml")
            .body(yaml)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_yaml", "{body}");
        assert!(started.elapsed().as_secs() < 2, "{open}: {:?}", started.elapsed());
    }
    still_serving(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_on_sqlite() {
    nesting(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_on_postgres() {
    nesting(Store::open(&postgres_url().await).await.unwrap()).await;
}

async fn bounds(store: Store) {
    let (app, service) = App::start(store).await;
    let (token, queue, agent, _) = center(&app, &service).await;
    let policy = |expr: &str| json!({ "name": "P", "steps": [{ "expr": expr }] });
    for (expr, column) in
        [("billing >= 11", 12), ("billing >= 1e20", 12), ("billing == 'x'", 12), ("contact.x in 5", 14)]
    {
        let message = refused(&app, "POST", "/api/v1/policies", &token, policy(expr), "steps[0].expr").await;
        assert!(message.contains(&format!("column {column}:")), "{expr}: {message}");
    }

    // Offer timeouts from 5 s to an hour; cooldowns from 0 to an hour.
    let policy_id = app.get("/api/v1/policies", &token).await;
    let policy_id = policy_id["policies"][0]["id"].clone();
    let queue_with = |extra: Value| {
        let mut q = json!({ "name": "Sales", "channels": ["api"], "policy": policy_id });
        q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        q
    };
    for bad in [json!(0), json!(4.9), json!(3601), json!(1e18), json!(-1)] {
        let body = queue_with(json!({ "offer_timeout_seconds": bad }));
        let message = refused(&app, "POST", "/api/v1/queues", &token, body, "offer_timeout_seconds").await;
        assert!(message.contains("from 5 to 3600 seconds"), "{message}");
    }
    for bad in [json!(-1), json!(3601)] {
        let body = queue_with(json!({ "decline_cooldown_seconds": bad }));
        refused(&app, "POST", "/api/v1/queues", &token, body, "decline_cooldown_seconds").await;
    }
    let made = app
        .ok(
            "POST",
            "/api/v1/queues",
            &token,
            queue_with(json!({ "offer_timeout_seconds": 5, "decline_cooldown_seconds": 0 })),
        )
        .await;
    assert_eq!(made["settings"]["decline_cooldown_seconds"], 0.0, "{made}");
    let support = app.get("/api/v1/queues", &token).await;
    let support = support["queues"].as_array().unwrap().iter().find(|q| q["id"] == queue).unwrap().clone();
    assert_eq!(support["settings"]["decline_cooldown_seconds"], 30.0, "the default: {support}");
    let update = json!({ "name": "Support", "channels": ["api"], "policy": policy_id, "offer_timeout_seconds": 0 });
    refused(&app, "PUT", &format!("/api/v1/queues/{queue}"), &token, update, "offer_timeout_seconds").await;

    // Skill levels are 1 to 10.
    for level in [0, 11] {
        let spec = json!({ "skills": { "billing": level }, "capacity": { "api": 1 }, "queues": [{ "queue": queue }] });
        let message = refused(&app, "PUT", &format!("/api/v1/agents/{agent}"), &token, spec, "skills.billing").await;
        assert!(message.contains("from 1 to 10"), "{message}");
    }

    // A flow's hand-off names a queue that exists.
    let flow = |queue: &str| {
        json!({ "name": "Bot", "definition": { "start": "hi", "blocks": {
            "hi": { "type": "message", "text": "Hi", "next": "to_agent" },
            "to_agent": { "type": "handoff", "queue": queue },
        } } })
    };
    let message =
        refused(&app, "POST", "/api/v1/flows", &token, flow("Suport"), "definition.blocks.to_agent.queue").await;
    assert!(message.contains("no queue named 'Suport'"), "{message}");
    let saved = app.ok("POST", "/api/v1/flows", &token, flow("support")).await;
    let id = saved["id"].as_u64().unwrap();
    refused(&app, "PUT", &format!("/api/v1/flows/{id}"), &token, flow("Nowhere"), "definition.blocks.to_agent.queue")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounds_on_sqlite() {
    bounds(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounds_on_postgres() {
    bounds(Store::open(&postgres_url().await).await.unwrap()).await;
}

async fn cooldown(store: Store) {
    let (app, service) = App::start(store).await;
    let (token, queue, agent, agent_token) = center(&app, &service).await;
    let contact = app.ok("POST", "/api/v1/contacts", &token, json!({ "queue": queue })).await;
    let contact = contact["id"].as_u64().unwrap();
    app.ok("POST", &format!("/api/v1/contacts/{contact}/reject"), &agent_token, json!({})).await;
    // Available, yet not offered the contact it just declined: the wallboard says why.
    let stats = app.get("/api/v1/stats/agents", &token).await;
    let row = stats["agents"].as_array().unwrap().iter().find(|a| a["agent"] == agent).unwrap().clone();
    assert_eq!(row["state"], "available", "{row}");
    assert_eq!(row["cooldowns"][0]["contact"], contact, "{row}");
    let left = row["cooldowns"][0]["seconds_left"].as_f64().unwrap();
    assert!(left > 25.0 && left <= 30.0, "{row}");
    // With the cooldown off, the same contact comes straight back.
    let policy = app.get("/api/v1/policies", &token).await["policies"][0]["id"].clone();
    let settings = json!({ "name": "Support", "channels": ["api"], "policy": policy, "decline_cooldown_seconds": 0 });
    app.ok("PUT", &format!("/api/v1/queues/{queue}"), &token, settings).await;
    let c2 = app.ok("POST", "/api/v1/contacts", &token, json!({ "queue": queue })).await["id"].as_u64().unwrap();
    let offered = app.get(&format!("/api/v1/contacts/{c2}"), &token).await;
    let first = if offered["state"] == "offered" { c2 } else { contact };
    app.ok("POST", &format!("/api/v1/contacts/{first}/reject"), &agent_token, json!({})).await;
    let again = app.get(&format!("/api/v1/contacts/{first}"), &token).await;
    assert_eq!(again["state"], "offered", "offered again at once: {again}");
    let stats = app.get("/api/v1/stats/agents", &token).await;
    let row = stats["agents"].as_array().unwrap().iter().find(|a| a["agent"] == agent).unwrap().clone();
    assert!(row["cooldowns"].as_array().unwrap().iter().all(|c| c["contact"] != first), "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldown_on_sqlite() {
    cooldown(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldown_on_postgres() {
    cooldown(Store::open(&postgres_url().await).await.unwrap()).await;
}
