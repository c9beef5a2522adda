//! Automation rules and the daily summary over HTTP on SQLite and
//! PostgreSQL: the API (admins only, checked field by field, ordered, dry
//! runs), a rule on new API contacts acting on routing and the customer,
//! and its webhook — and the daily summary — reaching a real receiver,
//! signed.

use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::TimeZone;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::time::Timestamp;
use switchboard_server::service::{NewUser, Service};

mod common;
use common::*;
use switchboard_store::{Role, Store};

/// A webhook receiver answering 200 to everything, keeping what came.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

impl Receiver {
    async fn start() -> (SocketAddr, Receiver) {
        let r = Receiver::default();
        let kept = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
                kept.0.lock().unwrap().push((headers, body));
                "ok"
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, r)
    }

    /// The bodies of `kind` received so far, each checked against `secret`.
    fn of(&self, kind: &str, secret: &str) -> Vec<Value> {
        let header = |h: &HeaderMap, n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _)| header(h, "x-switchboard-event") == kind)
            .map(|(h, body)| {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(header(h, "x-switchboard-timestamp").as_bytes());
                mac.update(b".");
                mac.update(body);
                let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(header(h, "x-switchboard-signature"), format!("sha256={hex}"));
                serde_json::from_slice(body).unwrap()
            })
            .collect()
    }
}

/// Polls `check` every 50 ms until it answers, for at most 10 s.
async fn eventually<T, F: AsyncFnMut() -> Option<T>>(what: &str, mut check: F) -> T {
    for _ in 0..200 {
        if let Some(t) = check().await {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn setup(app: &App, service: &Service) -> (String, Value, Value) {
    let (_, _) = service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin = app.login("admin@acme.example", "admin-password").await;
    let policy =
        app.ok("POST", "/api/v1/policies", &admin, json!({ "name": "Any", "steps": [{ "expr": "true" }] })).await;
    let support = app
        .ok("POST", "/api/v1/queues", &admin, json!({ "name": "Support", "channels": ["api"], "policy": policy["id"] }))
        .await;
    let vip = app
        .ok("POST", "/api/v1/queues", &admin, json!({ "name": "VIP", "channels": ["api"], "policy": policy["id"] }))
        .await;
    (admin, support, vip)
}

async fn rules_over_the_api(store: Store) {
    let (app, service) = App::start(store).await;
    let (hooks, receiver) = Receiver::start().await;
    let (admin, support, vip) = setup(&app, &service).await;
    let hook = app
        .ok("POST", "/api/v1/webhooks", &admin, json!({ "url": format!("http://{hooks}/hook"), "events": ["audit"] }))
        .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let supervisor = NewUser {
        email: "sup@acme.example".into(),
        name: "Sup".into(),
        role: Role::Supervisor,
        password: "sup-password".into(),
    };
    let p = service.authenticate(&admin).await.unwrap();
    service.create_user(&p, supervisor).await.unwrap();
    let sup = app.login("sup@acme.example", "sup-password").await;

    let vip_rule = json!({
        "name": "Gold customers", "event": "contact_created",
        "conditions": [{ "field": "attribute.tier", "op": "equals", "value": "gold" },
                       { "field": "channel", "op": "equals", "value": "api" }],
        "actions": [{ "type": "set_priority", "priority": 9 },
                    { "type": "transfer", "queue": vip["id"] },
                    { "type": "add_tag", "tag": "vip" },
                    { "type": "webhook", "webhook": hook["id"] },
                    { "type": "notify_supervisors", "message": "a gold customer is waiting" }] });
    // Administrators only, reading included.
    for (method, path) in [("GET", "/api/v1/rules"), ("POST", "/api/v1/rules")] {
        let (status, _) = app.call(method, path, Some(&sup), Some(vip_rule.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    // Checked field by field.
    for (change, field) in [
        (json!({ "event": "contact_teleported" }), "event"),
        (json!({ "conditions": [{ "field": "colour", "op": "equals", "value": 1 }] }), "conditions"),
        (json!({ "conditions": [{ "field": "priority", "op": "contains", "value": "x" }] }), "conditions[0].op"),
        (json!({ "conditions": [{ "field": "rating", "op": "present" }] }), "conditions[0].field"),
        (json!({ "actions": [] }), "actions"),
        (json!({ "actions": [{ "type": "transfer", "queue": 4242 }] }), "actions[0].queue"),
        (json!({ "name": " " }), "name"),
    ] {
        let mut body = vip_rule.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let (status, v) = app.call("POST", "/api/v1/rules", Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {v}");
        assert!(v["error"]["field"].as_str().unwrap_or_default().starts_with(field), "{field}: {v}");
    }
    let gold = app.ok("POST", "/api/v1/rules", &admin, vip_rule.clone()).await;
    let (status, _) = app.call("POST", "/api/v1/rules", Some(&admin), Some(vip_rule.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "names are unique");
    let silver = app
        .ok(
            "POST",
            "/api/v1/rules",
            &admin,
            json!({ "name": "Silver", "enabled": false, "event": "contact_created",
            "actions": [{ "type": "add_tag", "tag": "silver" }] }),
        )
        .await;
    let ids = |v: &Value| v["rules"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&app.get("/api/v1/rules", &admin).await), [gold["id"].clone(), silver["id"].clone()]);
    let (status, _) =
        app.call("PUT", "/api/v1/rules/order", Some(&admin), Some(json!({ "ids": [silver["id"]] }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "every rule, once");
    let reordered = app.ok("PUT", "/api/v1/rules/order", &admin, json!({ "ids": [silver["id"], gold["id"]] })).await;
    assert_eq!(ids(&reordered), [silver["id"].clone(), gold["id"].clone()]);

    // A gold customer's contact: moved, prioritised, tagged, announced.
    let contact = app
        .ok(
            "POST",
            "/api/v1/contacts",
            &admin,
            json!({ "queue": support["id"], "attributes": { "tier": "Gold" },
            "customer_identity": { "kind": "email", "value": "ada@example.com" } }),
        )
        .await;
    let id = contact["id"].as_u64().unwrap();
    let moved = eventually("the rule's transfer", async || {
        let c = app.get(&format!("/api/v1/contacts/{id}"), &admin).await;
        (c["queue"] == vip["id"]).then_some(c)
    })
    .await;
    assert_eq!(moved["priority"], 9);
    let customer = app.get(&format!("/api/v1/customers/{}", moved["customer"]), &admin).await;
    assert_eq!(customer["tags"], json!(["vip"]));
    let delivered = eventually("the rule's webhook", async || receiver.of("rule_fired", &secret).pop()).await;
    assert_eq!(delivered["contact"], id);
    assert_eq!(delivered["payload"]["name"], "Gold customers");
    assert_eq!(delivered["payload"]["notify"], json!(["a gold customer is waiting"]));
    let outcomes: Vec<Value> =
        delivered["payload"]["actions"].as_array().unwrap().iter().map(|a| a["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("done"), json!("done"), json!("done"), json!("queued"), json!("sent")]);

    // A silver one: nothing fires (the Silver rule is disabled).
    let plain = app
        .ok("POST", "/api/v1/contacts", &admin, json!({ "queue": support["id"], "attributes": { "tier": "silver" } }))
        .await;
    let dry = |contact: &Value| json!({ "rule": vip_rule.clone(), "contact": contact["id"] });
    let run = app.ok("POST", "/api/v1/rules/dry-run", &admin, dry(&plain)).await;
    assert_eq!((run["would_fire"].clone(), run["conditions"][0]["holds"].clone()), (json!(false), json!(false)));
    let run = app.ok("POST", "/api/v1/rules/dry-run", &admin, dry(&contact)).await;
    assert_eq!(run["would_fire"], true, "{run}");
    let (status, _) = app
        .call("POST", "/api/v1/rules/dry-run", Some(&admin), Some(json!({ "rule": vip_rule, "contact": 99999 })))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ws = service.authenticate(&admin).await.unwrap().workspace;
    let plain_id = switchboard_core::ids::ContactId(plain["id"].as_u64().unwrap());
    assert!(service.store().contact_events(ws, plain_id, Some("rule_fired")).await.unwrap().is_empty());

    // Edited, disabled, deleted.
    let mut off = vip_rule_named(&gold);
    off["enabled"] = json!(false);
    let saved = app.ok("PUT", &format!("/api/v1/rules/{}", gold["id"]), &admin, off).await;
    assert_eq!(saved["enabled"], false);
    let (status, _) = app.call("DELETE", &format!("/api/v1/rules/{}", silver["id"]), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ids(&app.get("/api/v1/rules", &admin).await), [gold["id"].clone()]);
}

/// A saved rule's body, without its id.
fn vip_rule_named(saved: &Value) -> Value {
    let mut body = saved.clone();
    body.as_object_mut().unwrap().remove("id");
    body
}

async fn daily_summary_is_posted_once_a_day(store: Store) {
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let local = |d: u32, h: u32| berlin.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap().timestamp_millis();
    let clock = Arc::new(AtomicI64::new(local(9, 10)));
    let now = clock.clone();
    let (app, service) =
        App::start_at(store, Arc::new(move || Timestamp(now.load(Ordering::SeqCst))), Default::default()).await;
    let (hooks, receiver) = Receiver::start().await;
    let (admin, support, _) = setup(&app, &service).await;
    app.ok("PUT", "/api/v1/workspace", &admin, json!({ "time_zone": "Europe/Berlin" })).await;
    let hook = app
        .ok("POST", "/api/v1/webhooks", &admin, json!({ "url": format!("http://{hooks}/hook"), "events": ["audit"] }))
        .await;
    let secret = hook["secret"].as_str().unwrap().to_string();

    assert_eq!(app.get("/api/v1/workspace/daily-summary", &admin).await["enabled"], false);
    for (body, field) in [
        (json!({ "enabled": true, "at": "25:00" }), "at"),
        (json!({ "enabled": true, "at": "08:00" }), "webhook"),
        (json!({ "enabled": true, "at": "08:00", "webhook": 777 }), "webhook"),
        (
            json!({ "enabled": true, "at": "08:00", "email": { "endpoint": 777, "to": ["a@b.example"] } }),
            "email.endpoint",
        ),
    ] {
        let (status, v) = app.call("PUT", "/api/v1/workspace/daily-summary", Some(&admin), Some(body)).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{v}");
    }
    let set = app
        .ok(
            "PUT",
            "/api/v1/workspace/daily-summary",
            &admin,
            json!({ "enabled": true, "at": "8:00", "webhook": hook["id"] }),
        )
        .await;
    assert_eq!(set["at"], "08:00");

    // Two contacts on 9 March.
    for _ in 0..2 {
        app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": support["id"] })).await;
    }
    // Not before 08:00 Berlin the next day; once at it; not again, even after a restart.
    clock.store(local(10, 7), Ordering::SeqCst);
    assert_eq!(service.send_daily_summaries(Timestamp(local(10, 7))).await.unwrap(), 0);
    assert_eq!(service.send_daily_summaries(Timestamp(local(10, 8))).await.unwrap(), 1);
    assert_eq!(service.send_daily_summaries(Timestamp(local(10, 9))).await.unwrap(), 0);
    let sent = eventually("the summary's delivery", async || receiver.of("daily_summary", &secret).pop()).await;
    let p = &sent["payload"];
    assert_eq!((p["date"].as_str(), p["time_zone"].as_str()), (Some("2026-03-09"), Some("Europe/Berlin")));
    assert_eq!(p["queues"][0]["name"], "Support");
    assert_eq!(p["queues"][0]["offered"], 2);
    assert_eq!(p["totals"]["offered"], 2);
    assert_eq!(p["queues"][0]["handled"], 0);
    assert_eq!(service.send_daily_summaries(Timestamp(local(11, 8))).await.unwrap(), 1, "the next day's");
}

common::on_both!(rules_over_the_api, daily_summary_is_posted_once_a_day);
