//! Taking access away, end to end over HTTP on SQLite and on PostgreSQL:
//! API tokens listed, renamed, revoked and expiring; users disabled,
//! re-enabled, deleted, their passwords reset and roles changed, each at
//! once despite the principal cache; agents and skills read back.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::service::{NewUser, Service};
use switchboard_store::{Role, Store};

mod common;
use common::*;

/// A workspace with an admin and an available agent serving one queue,
/// and a contact offered to that agent.
struct Setup {
    admin_id: u64,
    admin: String,
    agent_id: u64,
    agent: String,
    queue: u64,
    contact: u64,
}

async fn setup(app: &App, service: &Service) -> Setup {
    let (_, admin_user) = service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin = app.login("admin@acme.example", "admin-password").await;
    for skill in ["billing", "spanish"] {
        app.ok("POST", "/api/v1/skills", &admin, json!({ "name": skill })).await;
    }
    let policy =
        app.ok("POST", "/api/v1/policies", &admin, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
    let queue = app
        .ok("POST", "/api/v1/queues", &admin, json!({ "name": "Support", "channels": ["api"], "policy": policy["id"] }))
        .await["id"]
        .as_u64()
        .unwrap();
    let agent = NewUser {
        email: "agent@acme.example".into(),
        name: "Alice".into(),
        role: Role::Agent,
        password: "agent-password".into(),
    };
    let agent_id = app.ok("POST", "/api/v1/users", &admin, json!(agent_body(&agent))).await["id"].as_u64().unwrap();
    app.ok(
        "PUT",
        &format!("/api/v1/agents/{agent_id}"),
        &admin,
        json!({ "skills": { "billing": 7, "spanish": true }, "capacity": { "api": 2 }, "queues": [{ "queue": queue, "priority": 2 }] }),
    )
    .await;
    let agent = app.login("agent@acme.example", "agent-password").await;
    app.ok("POST", &format!("/api/v1/agents/{agent_id}/state"), &agent, json!({ "state": "available" })).await;
    let contact = app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": queue })).await;
    assert_eq!(contact["state"], "offered", "{contact}");
    Setup { admin_id: admin_user.id.0, admin, agent_id, agent, queue, contact: contact["id"].as_u64().unwrap() }
}

fn agent_body(u: &NewUser) -> Value {
    json!({ "email": u.email, "name": u.name, "role": u.role, "password": u.password })
}

async fn status_of(app: &App, method: &str, path: &str, token: &str, body: Option<Value>) -> StatusCode {
    app.call(method, path, Some(token), body).await.0
}

async fn login_status(app: &App, email: &str, password: &str) -> StatusCode {
    app.call("POST", "/api/v1/auth/login", None, Some(json!({ "email": email, "password": password }))).await.0
}

async fn agents_and_skills_read_back(store: Store) {
    let (app, service) = App::start(store).await;
    let s = setup(&app, &service).await;
    let agent = app.get(&format!("/api/v1/agents/{}", s.agent_id), &s.admin).await;
    assert_eq!(agent["skills"], json!({ "billing": 7, "spanish": true }));
    assert_eq!(agent["capacity"]["api"], 2);
    assert_eq!(agent["queues"][0]["queue"], s.queue);
    assert_eq!(agent["queues"][0]["priority"], 2);
    assert_eq!(agent["presence"]["presence"], "available");
    // What GET answers, PUT takes back unchanged.
    let mut spec = agent.clone();
    for k in ["user", "presence"] {
        spec.as_object_mut().unwrap().remove(k);
    }
    app.ok("PUT", &format!("/api/v1/agents/{}", s.agent_id), &s.admin, spec).await;
    assert_eq!(app.get(&format!("/api/v1/agents/{}", s.agent_id), &s.admin).await, agent);
    let list = app.get("/api/v1/agents", &s.admin).await;
    assert_eq!(list["agents"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/skills", &s.admin).await["skills"], json!(["billing", "spanish"]));
    // An agent reads itself, not others; a user who is no agent is a 404.
    app.get(&format!("/api/v1/agents/{}", s.agent_id), &s.agent).await;
    assert_eq!(status_of(&app, "GET", "/api/v1/agents", &s.agent, None).await, StatusCode::FORBIDDEN);
    let (status, v) = app.call("GET", &format!("/api/v1/agents/{}", s.admin_id), Some(&s.admin), None).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

async fn api_tokens(store: Store) {
    let (app, service) = App::start(store).await;
    let s = setup(&app, &service).await;
    let created = app.ok("POST", "/api/v1/tokens", &s.admin, json!({ "name": "crm", "expires_in_days": 30 })).await;
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    let day = 86_400_000;
    let expires = created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap();
    assert_eq!(expires, 30 * day);

    // Used: the use is recorded (at most once a minute).
    assert_eq!(app.get("/api/v1/me", &secret).await["user"]["id"], s.admin_id);
    let list = app.get("/api/v1/tokens", &s.admin).await;
    let listed = &list["tokens"][0];
    assert_eq!((listed["id"].as_str(), listed["name"].as_str()), (Some(id.as_str()), Some("crm")));
    assert_eq!(listed["created_by"], s.admin_id);
    assert!(listed["last_used_at"].as_i64().is_some(), "{listed}");
    assert!(listed.get("token").is_none() && listed.get("hash").is_none(), "{listed}");
    assert!(!list.to_string().contains(&secret));
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1, "sessions are not listed: {list}");

    // Renamed, then revoked: the next request fails although the token's
    // principal is cached.
    let renamed = app.ok("PUT", &format!("/api/v1/tokens/{id}"), &s.admin, json!({ "name": "crm (old)" })).await;
    assert_eq!(renamed["name"], "crm (old)");
    assert_eq!(
        status_of(&app, "DELETE", &format!("/api/v1/tokens/{id}"), &s.admin, None).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(status_of(&app, "GET", "/api/v1/me", &secret, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/tokens", &s.admin).await["tokens"], json!([]));
    assert_eq!(status_of(&app, "DELETE", &format!("/api/v1/tokens/{id}"), &s.admin, None).await, StatusCode::NOT_FOUND);

    // An expiry at a time: the token answers 401 from then on.
    let now = chrono_now_ms();
    let soon = app.ok("POST", "/api/v1/tokens", &s.admin, json!({ "name": "soon", "expires_at": now + 1500 })).await;
    let soon = soon["token"].as_str().unwrap().to_string();
    app.get("/api/v1/me", &soon).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(status_of(&app, "GET", "/api/v1/me", &soon, None).await, StatusCode::UNAUTHORIZED);

    // Bad expiries name their field; only admins manage tokens, and only their workspace's.
    for (body, field) in [
        (json!({ "name": "x", "expires_in_days": 0 }), "expires_in_days"),
        (json!({ "name": "x", "expires_at": now - 1 }), "expires_at"),
        (json!({ "name": "x", "expires_at": now + day, "expires_in_days": 1 }), "expires_at"),
        (json!({ "name": "x\u{0}y" }), "name"),
    ] {
        let (status, v) = app.call("POST", "/api/v1/tokens", Some(&s.admin), Some(body.clone())).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {v}");
    }
    assert_eq!(status_of(&app, "GET", "/api/v1/tokens", &s.agent, None).await, StatusCode::FORBIDDEN);
    let kept = app.ok("POST", "/api/v1/tokens", &s.admin, json!({ "name": "kept" })).await;
    service.create_workspace("Other", admin("admin@other.example")).await.unwrap();
    let other = app.login("admin@other.example", "admin-password").await;
    let path = format!("/api/v1/tokens/{}", kept["id"].as_str().unwrap());
    assert_eq!(status_of(&app, "DELETE", &path, &other, None).await, StatusCode::NOT_FOUND);
    app.get("/api/v1/me", kept["token"].as_str().unwrap()).await;
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn users(store: Store) {
    let (app, service) = App::start(store).await;
    let s = setup(&app, &service).await;
    let user = |id: u64| format!("/api/v1/users/{id}");
    let admin_token = app.ok("POST", "/api/v1/tokens", &s.admin, json!({ "name": "bot" })).await;
    // Disabling ends the agent's session at once and takes it offline,
    // putting its offer back in line.
    let disabled = app.ok("POST", &format!("{}/disable", user(s.agent_id)), &s.admin, json!({})).await;
    assert_eq!(disabled["state"], "disabled");
    assert_eq!(status_of(&app, "GET", "/api/v1/me", &s.agent, None).await, StatusCode::UNAUTHORIZED);
    let contact = app.get(&format!("/api/v1/contacts/{}", s.contact), &s.admin).await;
    assert_eq!(contact["state"], "queued", "{contact}");
    assert_eq!(app.get(&format!("/api/v1/agents/{}", s.agent_id), &s.admin).await["presence"]["presence"], "offline");
    assert_eq!(login_status(&app, "agent@acme.example", "agent-password").await, StatusCode::UNAUTHORIZED);
    let forced = json!({ "state": "available" });
    let path = format!("/api/v1/agents/{}/state", s.agent_id);
    assert_eq!(status_of(&app, "POST", &path, &s.admin, Some(forced.clone())).await, StatusCode::CONFLICT);

    // Re-enabled: the password works again.
    app.ok("POST", &format!("{}/enable", user(s.agent_id)), &s.admin, json!({})).await;
    let agent = app.login("agent@acme.example", "agent-password").await;

    // A role change holds at once, although the session's principal is cached.
    assert_eq!(status_of(&app, "GET", "/api/v1/agents", &agent, None).await, StatusCode::FORBIDDEN);
    let promoted =
        app.ok("PUT", &user(s.agent_id), &s.admin, json!({ "role": "supervisor", "name": "Alice B." })).await;
    assert_eq!((promoted["role"].as_str(), promoted["name"].as_str()), (Some("supervisor"), Some("Alice B.")));
    app.get("/api/v1/agents", &agent).await;

    // A password reset ends the user's sessions; the old password is gone.
    app.ok("POST", &format!("{}/password", user(s.agent_id)), &s.admin, json!({ "password": "new-password-1" })).await;
    assert_eq!(status_of(&app, "GET", "/api/v1/me", &agent, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, "agent@acme.example", "agent-password").await, StatusCode::UNAUTHORIZED);
    app.login("agent@acme.example", "new-password-1").await;
    let (status, v) = app
        .call("POST", &format!("{}/password", user(s.agent_id)), Some(&s.admin), Some(json!({ "password": "short" })))
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("password")));

    // The last active admin cannot lock the workspace out.
    for (method, path, body) in [
        ("POST", format!("{}/disable", user(s.admin_id)), None),
        ("DELETE", user(s.admin_id), None),
        ("PUT", user(s.admin_id), Some(json!({ "role": "agent" }))),
    ] {
        let (status, v) = app.call(method, &path, Some(&s.admin), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{method} {path}: {v}");
    }

    // Deleted: a tombstone that keeps its name in the list; nothing brings it back.
    let deleted = app.call("DELETE", &user(s.agent_id), Some(&s.admin), None).await;
    assert_eq!((deleted.0, deleted.1["state"].as_str()), (StatusCode::OK, Some("deleted")));
    let listed = app.get("/api/v1/users", &s.admin).await;
    let tomb = listed["users"].as_array().unwrap().iter().find(|u| u["id"] == s.agent_id).unwrap().clone();
    assert_eq!((tomb["name"].as_str(), tomb["state"].as_str()), (Some("Alice B."), Some("deleted")));
    assert!(tomb.get("password_hash").is_none());
    assert_eq!(
        status_of(&app, "POST", &format!("{}/enable", user(s.agent_id)), &s.admin, None).await,
        StatusCode::CONFLICT
    );
    // The admin's token stays: only the changed user's access goes.
    app.get("/api/v1/me", admin_token["token"].as_str().unwrap()).await;

    // Every change is audited; other workspaces and other roles get nowhere.
    let log = app.get("/api/v1/audit?limit=100", &s.admin).await;
    let actions: Vec<&str> =
        log["entries"].as_array().unwrap().iter().filter_map(|e| e["payload"]["action"].as_str()).collect();
    for a in ["disable_user", "enable_user", "update_user", "reset_password", "delete_user"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    service.create_workspace("Other", admin("admin@other.example")).await.unwrap();
    let other = app.login("admin@other.example", "admin-password").await;
    assert_eq!(
        status_of(&app, "PUT", &user(s.admin_id), &other, Some(json!({ "name": "x" }))).await,
        StatusCode::NOT_FOUND
    );
    let login = json!({ "email": "agent@acme.example", "password": "new-password-1" });
    let (status, _) = app.call("POST", "/api/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "deleted users cannot log in");
}

common::on_both!(agents_and_skills_read_back, api_tokens, users);
