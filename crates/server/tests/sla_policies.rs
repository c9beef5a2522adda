//! SLA policies over HTTP on SQLite and PostgreSQL: everyone reads them,
//! only admins write them; bad targets answer 400 naming the field, a taken
//! name 409; a rule applies one only if it exists, and a policy a rule
//! applies is not deleted. A contact's JSON says where its clock stands.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_server::Options;
use switchboard_server::auth::Principal;
use switchboard_server::service::conversation::Thread;
use switchboard_store::{Role, Store};

mod common;
use common::*;
#[path = "../../service/tests/support/sms.rs"]
mod sms;

async fn user(app: &App, admin: &str, email: &str, role: &str) -> String {
    let body = json!({ "email": email, "name": email, "role": role, "password": "user-password" });
    app.ok("POST", "/api/v1/users", admin, body).await;
    app.login(email, "user-password").await
}

async fn policies_are_admins_to_write_and_checked(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin = app.login("admin@acme.example", "admin-password").await;
    let supervisor = user(&app, &admin, "sam@acme.example", "supervisor").await;
    let agent = user(&app, &admin, "alice@acme.example", "agent").await;
    let vip = json!({
        "name": "VIP", "description": "Gold customers", "first_response_seconds": 900,
        "next_response_seconds": 1800, "resolution_seconds": 86400, "warning_seconds": 300,
        "business_hours_only": true
    });

    // Roles: nobody without a token; only admins write.
    let (status, _) = app.call("GET", "/api/v1/sla-policies", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for token in [&supervisor, &agent] {
        let (status, v) = app.call("POST", "/api/v1/sla-policies", Some(token), Some(vip.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    }
    let created = app.ok("POST", "/api/v1/sla-policies", &admin, vip.clone()).await;
    let id = created["id"].as_u64().unwrap();
    assert_eq!((created["name"].as_str(), created["resolution_seconds"].as_f64()), (Some("VIP"), Some(86400.0)));
    let path = format!("/api/v1/sla-policies/{id}");
    for token in [&supervisor, &agent] {
        let (status, _) = app.call("PUT", &path, Some(token), Some(vip.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.call("DELETE", &path, Some(token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Everyone reads them: the desktop names the policy a conversation is under.
        assert_eq!(app.get("/api/v1/sla-policies", token).await["sla_policies"][0]["id"], json!(id));
    }
    assert_eq!(app.get(&path, &agent).await["business_hours_only"], true);

    // Bad targets and bodies: 400 naming the field.
    let with = |extra: Value| {
        let mut body = json!({ "name": "Fast" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    for (body, field) in [
        (with(json!({ "first_response_seconds": 30 })), "first_response_seconds"),
        (with(json!({ "next_response_seconds": -60 })), "next_response_seconds"),
        (with(json!({ "resolution_seconds": 1e12 })), "resolution_seconds"),
        (with(json!({ "first_response_seconds": 600, "warning_seconds": 0 })), "warning_seconds"),
        (with(json!({})), "first_response_seconds"),
        (json!({ "name": " ", "first_response_seconds": 600 }), "name"),
    ] {
        let (status, v) = app.call("POST", "/api/v1/sla-policies", Some(&admin), Some(body.clone())).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    for body in [with(json!({ "first_response_seconds": "soon" })), with(json!({ "first_response": 600 }))] {
        let (status, v) = app.call("POST", "/api/v1/sla-policies", Some(&admin), Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
    let (status, v) = app.call("POST", "/api/v1/sla-policies", Some(&admin), Some(vip.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "a taken name: {v}");
    let mut edited = vip.clone();
    edited["first_response_seconds"] = json!(600);
    assert_eq!(app.ok("PUT", &path, &admin, edited).await["first_response_seconds"], 600.0);

    // A rule applies a policy that exists; while it does, the policy stays.
    let rule = |policy: u64| {
        json!({ "name": "VIP SLA", "event": "contact_created",
                "conditions": [{ "field": "customer.vip", "op": "equals", "value": true }],
                "actions": [{ "type": "apply_sla_policy", "policy": policy }] })
    };
    let (status, v) = app.call("POST", "/api/v1/rules", Some(&admin), Some(rule(id + 999))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("actions[0].policy")), "{v}");
    let made = app.ok("POST", "/api/v1/rules", &admin, rule(id)).await;
    let (status, v) = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("VIP SLA"), "{v}");
    let (status, _) = app.call("DELETE", &format!("/api/v1/rules/{}", made["id"]), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call("GET", &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_contacts_json_says_where_its_clock_stands(store: Store) {
    let options = Options { channels: vec![Arc::new(sms::TestSms::default())], ..Options::default() };
    let (app, service) = App::start_with(store, options).await;
    let (ws, user) = service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let p = Principal { workspace: ws.id, user: user.id, role: Role::Admin };
    let admin = app.login("admin@acme.example", "admin-password").await;
    let policy =
        app.ok("POST", "/api/v1/policies", &admin, json!({ "name": "Anyone", "steps": [{ "expr": "true" }] })).await;
    let queue =
        json!({ "name": "Texts", "channels": ["sms", "api"], "policy": policy["id"], "first_response_seconds": 3600 });
    let queue = app.ok("POST", "/api/v1/queues", &admin, queue).await;
    let queue = switchboard_core::ids::QueueId(queue["id"].as_u64().unwrap());
    let number = support::sms_endpoint(&service, &p, "+15550188", queue).await;
    let text = sms::text("+15550123", "Is my order on its way?", "SM1");
    let contact = service.inbound(number, Thread::Key("+15550123".into()), text).await.unwrap().contact;

    let one = app.get(&format!("/api/v1/contacts/{}", contact.0), &admin).await;
    let due = one["created_at"].as_i64().unwrap() + 3_600_000;
    assert_eq!(one["sla"], json!({ "timer": "first_response", "due": due, "state": "running" }), "{one}");
    let listed = app.get("/api/v1/contacts?channel=sms", &admin).await;
    assert_eq!(listed["contacts"][0]["sla"], one["sla"]);
    // The reply stops it: nothing runs while the customer has the next word.
    service.send_message(&p, contact, "Yes, it ships today.", None).await.unwrap();
    assert_eq!(app.get(&format!("/api/v1/contacts/{}", contact.0), &admin).await["sla"], Value::Null);
    // A contact on a channel without clocks says so too.
    let api = app.ok("POST", "/api/v1/contacts", &admin, json!({ "queue": queue.0 })).await;
    let api = app.get(&format!("/api/v1/contacts/{}", api["id"]), &admin).await;
    assert!(api.as_object().unwrap().contains_key("sla") && api["sla"].is_null(), "{api}");
}

common::on_both!(policies_are_admins_to_write_and_checked, a_contacts_json_says_where_its_clock_stands);
