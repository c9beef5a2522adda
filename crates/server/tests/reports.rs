//! Historical reports over HTTP, on SQLite and on PostgreSQL: figures of a
//! handled contact, who may read them, and the CSV export; planning from the
//! demo's history over HTTP.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_server::demo;
use switchboard_store::Store;

mod common;

use common::*;

async fn reports(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin_token = app.login("admin@acme.example", "admin-password").await;
    let (queue, agent_id) = app.billing_with_alice(&admin_token, "true", json!({ "capacity": { "api": 1 } })).await;
    let alice = app.login("alice@acme.example", "alice-password").await;
    app.ok("POST", &format!("/api/v1/agents/{agent_id}/state"), &alice, json!({ "state": "available" })).await;
    let customer = json!({ "kind": "email", "value": "pat@example.com" });
    let contact = app
        .ok("POST", "/api/v1/contacts", &admin_token, json!({ "queue": queue["id"], "customer_identity": customer }))
        .await;
    let id = contact["id"].as_u64().unwrap();
    app.ok("POST", &format!("/api/v1/contacts/{id}/accept"), &alice, json!({})).await;
    app.ok("POST", &format!("/api/v1/contacts/{id}/complete"), &alice, json!({})).await;

    // The workspace's zone is UTC: yesterday to tomorrow holds today.
    let today = chrono::Utc::now().date_naive();
    let range = format!("from={}&to={}", today.pred_opt().unwrap(), today.succ_opt().unwrap().succ_opt().unwrap());
    let queues = app.get(&format!("/api/v1/reports/queues?{range}&interval=day"), &admin_token).await;
    assert_eq!(queues["time_zone"], "UTC");
    let rows = queues["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{queues}");
    assert_eq!((rows[0]["id"].clone(), rows[0]["name"].clone()), (queue["id"].clone(), json!("Billing")));
    assert_eq!((rows[0]["offered"].as_u64(), rows[0]["handled"].as_u64()), (Some(1), Some(1)), "{queues}");
    assert_eq!(rows[0]["service_level"], 1.0);
    assert_eq!(rows[0]["start_local"], format!("{today}T00:00:00+00:00"));
    let agents = app.get(&format!("/api/v1/reports/agents?{range}&interval=week"), &admin_token).await;
    let alice_row = agents["rows"].as_array().unwrap().iter().find(|r| r["id"] == agent_id).unwrap().clone();
    assert_eq!((alice_row["name"].clone(), alice_row["handled"].clone()), (json!("Alice"), json!(1)), "{agents}");
    assert_eq!((alice_row["logins"].clone(), alice_row["offers"].clone()), (json!(1), json!(1)));
    assert!(alice_row["state_seconds"]["available"].as_f64().is_some(), "{alice_row}");
    let totals = app.get(&format!("/api/v1/reports/totals?{range}&interval=month"), &admin_token).await;
    assert_eq!(totals["rows"][0]["handled"], 1, "{totals}");

    // CSV: a header, then one line per row; asked for by parameter or by Accept.
    let url = format!("{}/api/v1/reports/queues?{range}&format=csv", app.base);
    let resp = app.http.get(&url).bearer_auth(&admin_token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"queues-"));
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("start,start_local,id,name,"), "{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let line: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(header.len(), line.len());
    let field = |name: &str| line[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!((field("name"), field("handled"), field("fcr")), ("Billing", "1", "1.0"));
    assert_eq!(field("csat_mean"), "", "no ratings: empty");
    let url = format!("{}/api/v1/reports/agents?{range}", app.base);
    let resp = app.http.get(&url).bearer_auth(&admin_token).header("accept", "text/csv").send().await.unwrap();
    let csv = resp.text().await.unwrap();
    assert!(csv.lines().next().unwrap().contains("state_seconds.available"), "{csv}");

    // Mistakes are 400s that name the parameter; unknown reports 404.
    for (query, field) in [
        (format!("{range}&interval=7m"), "interval"),
        ("from=yesterday&to=2026-01-01".to_string(), "from/to"),
        (format!("from={today}&to={today}"), "to"),
        (format!("{range}&format=xml"), "format"),
        (format!("{range}&short_abandon_seconds=-1"), "short_abandon_seconds"),
    ] {
        let (status, body) =
            app.call("GET", &format!("/api/v1/reports/queues?{query}"), Some(&admin_token), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let (status, _) = app.call("GET", &format!("/api/v1/reports/skills?{range}"), Some(&admin_token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Agents may not read reports; another workspace sees nothing of this one.
    let (status, _) = app.call("GET", &format!("/api/v1/reports/queues?{range}"), Some(&alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    service.create_workspace("Other", admin("admin@other.example")).await.unwrap();
    let other = app.login("admin@other.example", "admin-password").await;
    for dimension in ["queues", "agents", "totals", "channels", "endpoints"] {
        let report = app.get(&format!("/api/v1/reports/{dimension}?{range}"), &other).await;
        assert_eq!(report["rows"], json!([]), "{dimension}: {report}");
    }
    app.running.stop().await;
}

#[tokio::test]
async fn reports_on_sqlite() {
    reports(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn reports_on_postgres() {
    reports(Store::open(&postgres_url().await).await.unwrap()).await;
}

/// The Planning API over the demo's four weeks: a supervisor's plan as JSON
/// and CSV, adjustments, a what-if; agents may do none of it.
async fn planning(store: Store) {
    let (app, service) = App::start(store).await;
    demo::ensure(&service, None).await.unwrap();
    let dave = app.login("dave@demo.example", demo::PASSWORD).await;
    let alice = app.login("alice@demo.example", demo::PASSWORD).await;
    let queues = app.get("/api/v1/queues", &dave).await;
    let billing = queues["queues"].as_array().unwrap().iter().find(|q| q["name"] == "Billing").unwrap()["id"].clone();

    let plan = app.get(&format!("/api/v1/planning/schedule?queue={billing}&weeks=1"), &dave).await;
    assert_eq!(plan["queue_name"], "Billing");
    assert_eq!(plan["evaluation"]["scores"].as_array().unwrap().len(), 4, "{}", plan["evaluation"]);
    assert!(plan["schedule"]["shifts"].as_array().is_some_and(|s| !s.is_empty()), "{}", plan["schedule"]);
    let intervals = plan["intervals"].as_array().unwrap();
    assert!(intervals.iter().all(|i| i["over_under"].as_i64().is_some_and(|o| o >= 0)));
    let forecast = app.get(&format!("/api/v1/planning/forecast?queue={billing}"), &dave).await;
    assert!(forecast["intervals"][0].get("required").is_none(), "a forecast has no staffing");

    let url = format!("{}/api/v1/planning/staffing?queue={billing}&format=csv", app.base);
    let resp = app.http.get(&url).bearer_auth(&dave).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("start,start_local,offered,"), "{csv}");
    assert_eq!(csv.lines().count(), intervals.len() + 1);

    let adjustment =
        json!({ "queue": billing, "from": "2030-01-07T08:00", "to": "2030-01-07T12:00", "change_percent": 20 });
    let (status, _) = app.call("POST", "/api/v1/planning/adjustments", Some(&alice), Some(adjustment.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let made = app.ok("POST", "/api/v1/planning/adjustments", &dave, adjustment).await;
    assert_eq!(made["change_percent"], 20.0);
    let listed = app.get("/api/v1/planning/adjustments", &dave).await;
    assert_eq!(listed["adjustments"].as_array().unwrap().len(), 1, "{listed}");

    let yesterday = chrono::Utc::now().date_naive().pred_opt().unwrap();
    let ask = json!({ "day": yesterday, "agents": [{ "queue": billing, "change": "+1" }], "seeds": 1 });
    let what_if = app.ok("POST", "/api/v1/planning/what-if", &dave, ask.clone()).await;
    assert_eq!(what_if["queues"].as_array().unwrap().len(), 3, "{what_if}");
    for (path, body) in [
        (format!("/api/v1/planning/staffing?queue={billing}"), None),
        ("/api/v1/planning/what-if".to_string(), Some(ask)),
    ] {
        let method = if body.is_some() { "POST" } else { "GET" };
        let (status, _) = app.call(method, &path, Some(&alice), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, body) = app.call("GET", "/api/v1/planning/staffing?queue=1&interval=7m", Some(&dave), None).await;
    assert_eq!((status, body["error"]["field"].clone()), (StatusCode::BAD_REQUEST, json!("interval")));
    app.running.stop().await;
}

#[tokio::test]
async fn planning_on_sqlite() {
    planning(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn planning_on_postgres() {
    planning(Store::open(&postgres_url().await).await.unwrap()).await;
}
