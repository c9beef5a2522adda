//! The endpoints API end to end over HTTP, on SQLite and on PostgreSQL:
//! CRUD and its errors, credentials write-only (never in an answer, an
//! event, the audit log or the database in clear), workspaces kept apart,
//! roles, and the public URL.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_server::Options;
use switchboard_server::service::secrets::SecretKey;
use switchboard_server::service::{NewUser, Service};
use switchboard_store::{Role, Store};

mod common;
use common::*;

/// `both!(a, b)`: like `on_both!`, but the test also gets the database's
/// URL, to read rows as they are stored.
macro_rules! both {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let url = crate::common::sqlite_url();
                super::$name(switchboard_store::Store::open(&url).await.unwrap(), url).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let url = crate::common::postgres_url().await;
                super::$name(switchboard_store::Store::open(&url).await.unwrap(), url).await;
            })*
        }
    };
}

both!(
    endpoints_are_created_read_replaced_and_deleted,
    credentials_never_come_back_out,
    other_workspaces_and_roles_are_kept_out,
    the_public_url_defaults_to_the_servers_address,
    business_hours_an_endpoint_keeps_cannot_be_deleted,
    sip_accounts_are_set_by_admins_and_never_echo_the_password
);

/// A server whose service has a secret key, a workspace with an admin
/// (logged in) and a queue.
struct Setup {
    app: App,
    service: Service,
    admin: String,
    queue: u64,
}

async fn setup(store: Store, options: Options) -> Setup {
    let (app, service) = App::start_with(store, options).await;
    service.set_secret_key(SecretKey::generate()).unwrap();
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin = app.login("admin@acme.example", "admin-password").await;
    let queue = make_queue(&app, &admin).await;
    Setup { app, service, admin, queue }
}

async fn make_queue(app: &App, token: &str) -> u64 {
    let policy =
        app.ok("POST", "/api/v1/policies", token, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
    app.ok("POST", "/api/v1/queues", token, json!({ "name": "Support", "policy": policy["id"] })).await["id"]
        .as_u64()
        .unwrap()
}

fn error_field(v: &Value) -> &str {
    v["error"]["field"].as_str().unwrap_or_else(|| panic!("no field in {v}"))
}

async fn endpoints_are_created_read_replaced_and_deleted(store: Store, _url: String) {
    let Setup { app, admin, queue, .. } = setup(store, Options::default()).await;
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/endpoints",
            Some(&admin),
            Some(json!({
                "channel": "sms", "name": "Texts", "address": "+1 555 123 4567", "queue": queue,
                "settings": { "signature": "— Acme" }
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_u64().unwrap();
    for key in ["id", "channel", "name", "address", "queue", "flow", "business_hours", "enabled", "settings", "secrets"]
    {
        assert!(created.get(key).is_some(), "{key} in {created}");
    }
    assert!(created.get("created_at").is_some() && created.get("updated_at").is_some());
    assert_eq!(created["address"], "+15551234567");
    assert_eq!(created["queue"], queue);
    assert_eq!(created["flow"], Value::Null);
    assert_eq!(created["enabled"], true);
    assert_eq!(created["settings"], json!({ "signature": "— Acme" }));
    assert_eq!(created["secrets"], json!({}));

    let listed = app.get("/api/v1/endpoints", &admin).await;
    assert_eq!(listed["endpoints"].as_array().unwrap().len(), 1);
    assert_eq!(listed["endpoints"][0], created);
    assert_eq!(app.get(&format!("/api/v1/endpoints/{id}"), &admin).await, created);

    let replaced = app
        .ok(
            "PUT",
            &format!("/api/v1/endpoints/{id}"),
            &admin,
            json!({ "name": "SMS", "queue": queue, "enabled": false }),
        )
        .await;
    assert_eq!((replaced["name"].as_str(), replaced["enabled"].as_bool()), (Some("SMS"), Some(false)));
    assert_eq!(replaced["address"], "+15551234567", "kept when not given");

    // Errors: a field named, a conflict, a missing one.
    let post = |body: Value| app.call("POST", "/api/v1/endpoints", Some(&admin), Some(body));
    let (status, v) = post(json!({ "channel": "sms", "name": "", "queue": queue })).await;
    assert_eq!((status, error_field(&v)), (StatusCode::BAD_REQUEST, "name"));
    let (status, v) = post(json!({ "channel": "pigeon", "name": "x", "queue": queue })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) = post(json!({ "channel": "sms", "name": "x", "queue": queue + 100 })).await;
    assert_eq!((status, error_field(&v)), (StatusCode::BAD_REQUEST, "queue"));
    let (status, v) = post(json!({ "channel": "sms", "name": "x", "flow": 12345 })).await;
    assert_eq!((status, error_field(&v)), (StatusCode::BAD_REQUEST, "flow"));
    let (status, v) =
        post(json!({ "channel": "sms", "name": "Twin", "address": "+15551234567", "queue": queue })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, _) =
        app.call("PUT", "/api/v1/endpoints/999", Some(&admin), Some(json!({ "name": "x", "queue": queue }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = app.call("GET", "/api/v1/endpoints/nope", Some(&admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");

    let (status, _) = app.call("DELETE", &format!("/api/v1/endpoints/{id}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = app.call("GET", &format!("/api/v1/endpoints/{id}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    // The address is free again.
    let (status, v) =
        post(json!({ "channel": "sms", "name": "Again", "address": "+15551234567", "queue": queue })).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_ne!(v["id"].as_u64(), Some(id), "a deleted endpoint's id is not given again");
}

const TOKEN: &str = "tg-SECRET-4f1c9a";
const PASSWORD: &str = "pw-SECRET-77ab";

async fn credentials_never_come_back_out(store: Store, url: String) {
    let Setup { app, service, admin, queue } = setup(store, Options::default()).await;
    let created = app
        .ok(
            "POST",
            "/api/v1/endpoints",
            &admin,
            json!({
                "channel": "telegram", "name": "Bot", "address": "acme_bot", "queue": queue,
                "settings": { "bot_token": TOKEN, "greeting": "Hi" },
                "secrets": { "webhook_password": PASSWORD }
            }),
        )
        .await;
    let id = created["id"].as_u64().unwrap();
    let expected = json!({ "bot_token": { "set": true }, "webhook_password": { "set": true } });
    assert_eq!(created["secrets"], expected);
    assert_eq!(created["settings"], json!({ "greeting": "Hi" }));
    let read = app.get(&format!("/api/v1/endpoints/{id}"), &admin).await;
    let listed = app.get("/api/v1/endpoints", &admin).await;
    // A read sent back keeps the credentials.
    let mut back = read.clone();
    for key in ["id", "channel", "created_at", "updated_at"] {
        back.as_object_mut().unwrap().remove(key);
    }
    let replaced = app.ok("PUT", &format!("/api/v1/endpoints/{id}"), &admin, back).await;
    assert_eq!(replaced["secrets"], expected);
    let audit = app.get("/api/v1/audit", &admin).await;
    let entries: Vec<&Value> = audit["entries"].as_array().unwrap().iter().collect();
    let created_entry = entries.iter().find(|e| e["payload"]["action"] == "create_endpoint").unwrap();
    assert_eq!(created_entry["payload"]["secrets_changed"], json!(["bot_token", "webhook_password"]));
    let updated_entry = entries.iter().find(|e| e["payload"]["action"] == "update_endpoint").unwrap();
    assert_eq!(updated_entry["payload"]["secrets_changed"], json!([]));

    let ws = service.store().workspaces().await.unwrap()[0].id;
    let events = service.store().events(ws, 0, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "endpoint_created"));
    for shown in [created, read, listed, replaced, audit, json!(events)] {
        let text = shown.to_string();
        assert!(!text.contains(TOKEN) && !text.contains(PASSWORD), "{text}");
    }

    // In the database: sealed, nowhere in clear.
    let (settings, sealed) = raw_row(&url, id).await;
    assert!(!settings.contains("SECRET"), "{settings}");
    assert!(!sealed.is_empty());
    assert!(!sealed.windows(6).any(|w| w == b"SECRET"), "the credentials are sealed at rest");

    // The channel, and only it, reads them in clear.
    let credentials = service.endpoint_credentials(switchboard_core::ids::EndpointId(id)).await.unwrap();
    assert_eq!((credentials.get("bot_token"), credentials.get("webhook_password")), (Some(TOKEN), Some(PASSWORD)));
}

/// The endpoint's `settings` and `secrets` columns as stored.
async fn raw_row(url: &str, id: u64) -> (String, Vec<u8>) {
    let sql = "SELECT settings, secrets FROM endpoints WHERE id = $1";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_as(sql).bind(id as i64).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_as(sql).bind(id as i64).fetch_one(&pool).await.unwrap()
    }
}

async fn other_workspaces_and_roles_are_kept_out(store: Store, _url: String) {
    let Setup { app, service, admin, queue } = setup(store, Options::default()).await;
    let mine = app
        .ok(
            "POST",
            "/api/v1/endpoints",
            &admin,
            json!({ "channel": "email", "name": "Help", "address": "help@acme.example", "queue": queue }),
        )
        .await;
    let path = format!("/api/v1/endpoints/{}", mine["id"]);

    service.create_workspace("Globex", common::admin("admin@globex.example")).await.unwrap();
    let theirs = app.login("admin@globex.example", "admin-password").await;
    let their_queue = make_queue(&app, &theirs).await;
    for (method, body) in [("GET", None), ("PUT", Some(json!({ "name": "x", "queue": their_queue }))), ("DELETE", None)]
    {
        let (status, v) = app.call(method, &path, Some(&theirs), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {v}");
    }
    assert_eq!(app.get("/api/v1/endpoints", &theirs).await["endpoints"], json!([]));

    let supervisor = NewUser {
        email: "sup@acme.example".into(),
        name: "Sam".into(),
        role: Role::Supervisor,
        password: "supervisor-password".into(),
    };
    app.ok("POST", "/api/v1/users", &admin, json!({ "email": supervisor.email, "name": supervisor.name, "role": "supervisor", "password": supervisor.password })).await;
    let sup = app.login("sup@acme.example", "supervisor-password").await;
    let body = json!({ "channel": "chat", "name": "Web", "queue": queue });
    for (method, path, body) in [
        ("GET", "/api/v1/endpoints", None),
        ("POST", "/api/v1/endpoints", Some(body.clone())),
        ("GET", path.as_str(), None),
        ("PUT", path.as_str(), Some(body.clone())),
        ("DELETE", path.as_str(), None),
    ] {
        let (status, v) = app.call(method, path, Some(&sup), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {v}");
        let (status, _) = app.call(method, path, None, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

async fn the_public_url_defaults_to_the_servers_address(store: Store, _url: String) {
    let Setup { app, service, .. } = setup(store, Options::default()).await;
    assert_eq!(service.public_url(), app.base);
    app.running.stop().await;
    let behind_a_proxy = Options { public_url: Some("https://cc.example.com/".into()), ..Options::default() };
    let (_app, service) = App::start_with(Store::open(&sqlite_url()).await.unwrap(), behind_a_proxy).await;
    assert_eq!(service.public_url(), "https://cc.example.com");
}

async fn business_hours_an_endpoint_keeps_cannot_be_deleted(store: Store, _url: String) {
    let Setup { app, admin, queue, .. } = setup(store, Options::default()).await;
    let calendar = json!({ "time_zone": "Europe/Berlin", "weekly": { "mon": ["09:00-17:00"] } });
    let hours =
        app.ok("POST", "/api/v1/business-hours", &admin, json!({ "name": "Office", "calendar": calendar })).await;
    let endpoint = app
        .ok(
            "POST",
            "/api/v1/endpoints",
            &admin,
            json!({ "channel": "chat", "name": "Site", "queue": queue, "business_hours": hours["id"] }),
        )
        .await;
    let path = format!("/api/v1/business-hours/{}", hours["id"]);
    let (status, v) = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("endpoint 'Site'"), "{v}");

    // Once the endpoint has gone, so can they.
    let (status, _) = app.call("DELETE", &format!("/api/v1/endpoints/{}", endpoint["id"]), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
}

/// `PUT /users/{id}/sip` answers with the username only; the user reads
/// their own account, nobody reads the password; agents cannot write.
async fn sip_accounts_are_set_by_admins_and_never_echo_the_password(store: Store, _url: String) {
    let Setup { app, admin, .. } = setup(store, Options::default()).await;
    let alice = app
        .ok(
            "POST",
            "/api/v1/users",
            &admin,
            json!({ "email": "alice@acme.example", "name": "Alice", "role": "agent", "password": "alice-password" }),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let path = format!("/api/v1/users/{alice}/sip");
    let (status, none) = app.call("GET", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    let set = app.ok("PUT", &path, &admin, json!({ "password": "phone-secret-1" })).await;
    assert_eq!(set, json!({ "user": alice, "username": "alice", "realm": "switchboard" }));
    let (status, short) = app.call("PUT", &path, Some(&admin), Some(json!({ "password": "short" }))).await;
    assert_eq!((status, error_field(&short)), (StatusCode::BAD_REQUEST, "password"));
    let as_alice = app.login("alice@acme.example", "alice-password").await;
    assert_eq!(app.get(&path, &as_alice).await, set);
    let (status, _) = app.call("PUT", &path, Some(&as_alice), Some(json!({ "password": "mine-secret-12" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let audit = app.get("/api/v1/audit", &admin).await.to_string();
    assert!(audit.contains("put_sip_account") && !audit.contains("phone-secret-1"), "{audit}");
    let (status, _) = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call("GET", &path, Some(&as_alice), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
