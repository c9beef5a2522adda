//! Historical reports over HTTP, on SQLite and on PostgreSQL: figures of a
//! handled contact, who may read them, and the CSV export.

use reqwest::StatusCode;
use serde_json::json;
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
