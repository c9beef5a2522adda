//! Rosters and adherence over HTTP, on SQLite and on PostgreSQL: who may
//! publish, edit and read which shifts; agents see only their own; another
//! workspace sees and touches nothing.

use chrono::{Datelike, Duration};
use reqwest::StatusCode;
use serde_json::json;
use switchboard_store::Store;

mod common;

use common::*;

async fn roster_scoping(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin_token = app.login("admin@acme.example", "admin-password").await;
    let (queue, alice) = app.billing_with_alice(&admin_token, "true", json!({ "capacity": { "api": 1 } })).await;
    let bob = json!({ "email": "bob@acme.example", "name": "Bob", "role": "agent", "password": "bob-password" });
    let bob = app.ok("POST", "/api/v1/users", &admin_token, bob).await["id"].as_u64().unwrap();
    let spec = json!({ "capacity": { "api": 1 }, "queues": [{ "queue": queue["id"] }] });
    app.ok("PUT", &format!("/api/v1/agents/{bob}"), &admin_token, spec).await;
    let alice_token = app.login("alice@acme.example", "alice-password").await;

    // Next week, Monday and Tuesday (the workspace's zone is UTC).
    let today = chrono::Utc::now().date_naive();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let tuesday = monday + Duration::days(1);
    let shift = |agent: u64, day: chrono::NaiveDate| {
        json!({ "agent": agent, "queue": queue["id"], "start": format!("{day}T09:00"), "end": format!("{day}T17:30"),
                "breaks": [{ "start": format!("{day}T13:00"), "end": format!("{day}T13:30") }] })
    };
    let week = json!({ "week": monday, "shifts": [shift(alice, monday), shift(bob, monday), shift(alice, tuesday)] });
    let published = app.ok("POST", "/api/v1/planning/roster", &admin_token, week.clone()).await;
    assert_eq!(published["shifts"].as_array().unwrap().len(), 3, "{published}");
    assert_eq!(published["shifts"][0]["paid_hours"], 8.0);

    // Alice reads her own shifts only, and may change nothing.
    let url = format!("/api/v1/planning/roster?from={monday}&days=7");
    let mine = app.get(&url, &alice_token).await;
    let agents: Vec<u64> = mine["shifts"].as_array().unwrap().iter().map(|s| s["agent"].as_u64().unwrap()).collect();
    assert_eq!(agents, vec![alice, alice], "{mine}");
    assert_eq!(mine["agents"].as_array().unwrap().len(), 1);
    let (status, _) = app.call("GET", &format!("{url}&agent={bob}"), Some(&alice_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (method, path, body) in [
        ("POST", "/api/v1/planning/roster".to_string(), week.clone()),
        ("POST", "/api/v1/planning/roster/draft".to_string(), json!({ "week": monday })),
        ("PUT", format!("/api/v1/planning/roster/{alice}/{monday}"), shift(alice, monday)),
        ("DELETE", format!("/api/v1/planning/roster/{bob}/{monday}"), json!({})),
        ("POST", "/api/v1/planning/work-rules".to_string(), json!({ "agent": alice, "max_weekly_hours": 60 })),
    ] {
        let (status, body) = app.call(method, &path, Some(&alice_token), Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
    }
    let everyone = app.get(&url, &admin_token).await;
    assert_eq!(everyone["shifts"].as_array().unwrap().len(), 3);

    // Adherence: Alice's own rows, nobody else's.
    let range = format!("from={}&to={}", today - Duration::days(1), today + Duration::days(1));
    let own = app.get(&format!("/api/v1/reports/adherence?{range}"), &alice_token).await;
    assert!(own["rows"].as_array().unwrap().iter().all(|r| r["id"] == alice), "{own}");
    let (status, _) =
        app.call("GET", &format!("/api/v1/reports/adherence?{range}&agent={bob}"), Some(&alice_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let url_csv = format!("{}/api/v1/reports/adherence?{range}&format=csv", app.base);
    let resp = app.http.get(&url_csv).bearer_auth(&admin_token).send().await.unwrap();
    assert_eq!(
        (resp.status(), resp.headers()["content-type"].to_str().unwrap()),
        (StatusCode::OK, "text/csv; charset=utf-8")
    );

    // Rules are checked over HTTP too: a second shift on a day, a shift on a queue not served.
    let rules = json!({ "agent": bob, "days_off": ["Tue"] });
    app.ok("POST", "/api/v1/planning/work-rules", &admin_token, rules).await;
    let (status, body) = app
        .call("PUT", &format!("/api/v1/planning/roster/{bob}/{tuesday}"), Some(&admin_token), Some(shift(bob, tuesday)))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let bad = json!({ "agent": alice, "max_days": 9 });
    let (status, body) = app.call("POST", "/api/v1/planning/work-rules", Some(&admin_token), Some(bad)).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("max_days")), "{body}");
    let (status, body) = app
        .call(
            "PUT",
            &format!("/api/v1/planning/roster/{alice}/not-a-day"),
            Some(&admin_token),
            Some(shift(alice, monday)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A supervisor moves Bob's Monday and removes it.
    let later = json!({ "queue": queue["id"], "start": format!("{monday}T10:00"), "end": format!("{monday}T14:00") });
    let moved = app.ok("PUT", &format!("/api/v1/planning/roster/{bob}/{monday}"), &admin_token, later).await;
    assert_eq!(moved["start_local"], format!("{monday}T10:00"));
    let (status, _) =
        app.call("DELETE", &format!("/api/v1/planning/roster/{bob}/{monday}"), Some(&admin_token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Another workspace's admin sees no shifts and reaches none.
    service.create_workspace("Other", admin("admin@other.example")).await.unwrap();
    let other = app.login("admin@other.example", "admin-password").await;
    let theirs = app.get(&url, &other).await;
    assert!(theirs["shifts"].as_array().unwrap().is_empty() && theirs["agents"].as_array().unwrap().is_empty());
    let (status, _) =
        app.call("DELETE", &format!("/api/v1/planning/roster/{alice}/{monday}"), Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call("PUT", &format!("/api/v1/planning/roster/{alice}/{monday}"), Some(&other), Some(shift(alice, monday)))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let adherence = app.get(&format!("/api/v1/reports/adherence?{range}"), &other).await;
    assert!(adherence["rows"].as_array().unwrap().is_empty(), "{adherence}");
    assert_eq!(app.get(&url, &admin_token).await["shifts"].as_array().unwrap().len(), 2, "untouched");
}

on_both!(roster_scoping);
