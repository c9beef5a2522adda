//! The error contract, end to end: every 4xx is `{"error": {"code",
//! "message", "field"?}}` — path, query, body, size and routing errors
//! alike — roles are checked before bodies are read, and input that would
//! break what shows it (NUL, line breaks, over-long names, unknown webhook
//! kinds) is a 400 naming the field. One test walks the OpenAPI document
//! and calls every route with bad input.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_server::demo;
use switchboard_server::service::{NewUser, Service};
use switchboard_store::{Role, Store};

mod common;
use common::*;

/// A raw request: any method, any body text, any headers.
async fn send(
    app: &App,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, String) {
    let mut req = app.http.request(method.parse().unwrap(), format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((content_type, bytes)) = body {
        req = req.header("content-type", content_type).body(bytes);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Panics unless `text` is our JSON error; answers (code, field).
fn contract(what: &str, status: StatusCode, text: &str) -> (String, Option<String>) {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|_| panic!("{what}: {status} is not JSON: {text:?}"));
    let e = &v["error"];
    let code = e["code"].as_str().unwrap_or_else(|| panic!("{what}: no code in {v}"));
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no message in {v}");
    assert!(e.get("field").is_none_or(Value::is_string), "{what}: field is not a string in {v}");
    (code.to_string(), e["field"].as_str().map(str::to_string))
}

async fn expect(
    app: &App,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    want: (u16, &str, Option<&str>),
) {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    let (status, text) = send(app, method, path, token, body).await;
    let what = format!("{method} {path}");
    let (code, field) = contract(&what, status, &text);
    assert_eq!((status.as_u16(), code.as_str(), field.as_deref()), want, "{what}: {text}");
}

async fn workspace(app: &App, service: &Service) -> (String, String) {
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let admin = app.login("admin@acme.example", "admin-password").await;
    let agent = NewUser {
        email: "agent@acme.example".into(),
        name: "Al".into(),
        role: Role::Agent,
        password: "agent-password".into(),
    };
    app.ok(
        "POST",
        "/api/v1/users",
        &admin,
        json!({ "email": agent.email, "name": agent.name, "role": "agent", "password": agent.password }),
    )
    .await;
    let agent = app.login("agent@acme.example", "agent-password").await;
    (admin, agent)
}

async fn the_contract(store: Store) {
    let (app, service) = App::start(store).await;
    let (admin, agent) = workspace(&app, &service).await;
    let a = Some(admin.as_str());
    // Path and query errors name the parameter.
    expect(&app, "GET", "/api/v1/contacts/abc", a, None, (400, "invalid_path", Some("id"))).await;
    expect(&app, "GET", "/api/v1/kb/search", a, None, (400, "invalid_query", Some("q"))).await;
    expect(&app, "GET", "/api/v1/events?after=abc", a, None, (400, "invalid_query", Some("after"))).await;
    expect(&app, "GET", "/api/v1/contacts?limit=-1", a, None, (400, "invalid_query", Some("limit"))).await;
    // Routing: unknown route, known route without the method.
    expect(&app, "GET", "/api/v1/nothing", a, None, (404, "not_found", None)).await;
    expect(&app, "DELETE", "/api/v1/me", a, None, (405, "method_not_allowed", None)).await;
    // Bodies: wrong shapes are 400 (not 422) naming the field serde stopped at.
    expect(&app, "POST", "/api/v1/skills", a, Some(json!({ "name": 5 })), (400, "invalid_json", Some("name"))).await;
    expect(&app, "POST", "/api/v1/skills", a, Some(json!({})), (400, "invalid_json", Some("name"))).await;
    let steps = json!({ "name": "p", "steps": [{ "expr": 5 }] });
    expect(&app, "POST", "/api/v1/policies", a, Some(steps), (400, "invalid_json", Some("steps[0].expr"))).await;
    let (status, text) = send(&app, "POST", "/api/v1/skills", a, Some(("text/plain", b"x".to_vec()))).await;
    assert_eq!(contract("text body", status, &text).0, "unsupported_media_type");
    // Roles before bodies: an agent gets 403 whatever it sends.
    let (status, text) =
        send(&app, "POST", "/api/v1/queues", Some(&agent), Some(("application/json", b"{".to_vec()))).await;
    assert_eq!((status, contract("agent", status, &text).0.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    expect(&app, "POST", "/api/v1/tokens", Some(&agent), Some(json!({ "x": 1 })), (403, "forbidden", None)).await;
    expect(&app, "POST", "/api/v1/contacts", Some(&agent), Some(json!([])), (403, "forbidden", None)).await;
    expect(&app, "POST", "/api/v1/dispositions", Some(&agent), Some(json!(1)), (403, "forbidden", None)).await;
    // No credential: 401 before anything else.
    expect(&app, "POST", "/api/v1/queues", None, Some(json!(1)), (401, "unauthenticated", None)).await;
    // Sizes: a body over 1 MiB, an upload over its limit.
    let big = vec![b' '; 1024 * 1024 + 10];
    let (status, text) = send(&app, "POST", "/api/v1/skills", a, Some(("application/json", big))).await;
    assert_eq!((status, contract("big body", status, &text).0.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    let huge = vec![0u8; 6 * 1024 * 1024];
    let (status, text) = send(&app, "POST", "/api/v1/contacts/1/attachments", a, Some(("image/png", huge))).await;
    assert_eq!(
        (status, contract("big upload", status, &text).0.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
}

async fn rejected_input(store: Store) {
    let (app, service) = App::start(store).await;
    demo::ensure(&service, None).await.unwrap();
    let admin = app.login(demo::ADMIN_EMAIL, demo::PASSWORD).await;
    let a = Some(admin.as_str());
    let long = "x".repeat(201);
    let hook = |url: &str, events: Value| json!({ "url": url, "events": events });
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("POST", "/api/v1/webhooks", hook("http://127.0.0.1:1/x", json!(["nope"])), "events[0]"),
        ("POST", "/api/v1/webhooks", hook("http://127.0.0.1:1/x\r\nX-Evil: 1", json!(["*"])), "url"),
        ("POST", "/api/v1/webhooks", hook("http://127.0.0.1:1/a\nb", json!(["*"])), "url"),
        ("POST", "/api/v1/webhooks", hook("ftp://127.0.0.1/x", json!(["*"])), "url"),
        ("POST", "/api/v1/webhooks", hook("javascript:alert(1)", json!(["*"])), "url"),
        (
            "POST",
            "/api/v1/users",
            json!({ "email": "n@x.example", "name": "a\u{0}b", "role": "agent", "password": "password-1" }),
            "name",
        ),
        (
            "POST",
            "/api/v1/users",
            json!({ "email": "n@x.example", "name": long, "role": "agent", "password": "password-1" }),
            "name",
        ),
        ("POST", "/api/v1/skills", json!({ "name": "bil\u{0}ling" }), "name"),
        ("POST", "/api/v1/queues", json!({ "name": "Q\u{0}", "channels": ["api"], "policy": 1 }), "name"),
        ("POST", "/api/v1/queues", json!({ "name": long, "channels": ["api"], "policy": 1 }), "name"),
        ("POST", "/api/v1/policies", json!({ "name": "P\u{0}", "steps": [] }), "name"),
        ("POST", "/api/v1/customers", json!({ "name": "C\u{0}" }), "name"),
        ("POST", "/api/v1/customers", json!({ "name": long }), "name"),
        ("POST", "/api/v1/dispositions", json!({ "code": "ok", "label": "O\u{0}K" }), "label"),
        ("POST", "/api/v1/canned-responses", json!({ "shortcut": "hi", "title": "H\r\nX", "text": "Hello" }), "title"),
        ("POST", "/api/v1/business-hours", json!({ "name": "Hours", "calendar": {} }), "calendar.time_zone"),
        ("PUT", "/api/v1/workspace", json!({ "name": "W\u{0}" }), "name"),
        ("PUT", "/api/v1/agents/2", json!({ "skills": { "billing\u{0}": 1 } }), "skills"),
        ("POST", "/api/v1/tokens", json!({ "name": long }), "name"),
    ];
    for (method, path, body, field) in cases {
        let what = format!("{method} {path} {body}");
        let (status, text) =
            send(&app, method, path, a, Some(("application/json", body.to_string().into_bytes()))).await;
        let (_, got) = contract(&what, status, &text);
        assert_eq!((status, got.as_deref()), (StatusCode::BAD_REQUEST, Some(field)), "{what}: {text}");
    }
    // Exactly 200 characters is still a name.
    app.ok("POST", "/api/v1/customers", &admin, json!({ "name": "é".repeat(200) })).await;

    // Attachment names: empty, or longer than 255 bytes, are refused.
    let key = app.get("/api/v1/chat/settings", &admin).await["widget_key"].as_str().unwrap().to_string();
    let session = app.ok("POST", &format!("/chat/{key}/sessions"), "", json!({ "name": "Cara" })).await;
    let session = session["session"].as_str().unwrap().to_string();
    for name in ["", "   ", &"n".repeat(5000), &format!("{}.txt", "é".repeat(126))] {
        let resp = app
            .http
            .post(format!("{}/chat/{key}/attachments?session={session}", app.base))
            .header("content-type", "text/plain")
            .header("x-filename", name)
            .body("hello")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let (_, field) = contract("attachment name", status, &resp.text().await.unwrap());
        assert_eq!((status, field.as_deref()), (StatusCode::BAD_REQUEST, Some("X-Filename")), "{} bytes", name.len());
    }
}

/// Every route of the OpenAPI document, with bad path parameters and a
/// malformed body, then with unknown ids and a body of the wrong shape:
/// nothing answers 5xx, and every 4xx follows the contract.
async fn every_route_follows_the_contract(store: Store) {
    let (app, service) = App::start(store).await;
    let (admin, _) = workspace(&app, &service).await;
    let doc: Value = serde_json::from_str(include_str!("../src/api/openapi.json")).unwrap();
    let mut calls = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in
            item.as_object().unwrap().keys().filter(|m| ["get", "post", "put", "delete", "patch"].contains(&m.as_str()))
        {
            calls.push((method.to_uppercase(), path.clone()));
        }
    }
    // Logging out ends the session the walk uses: last.
    calls.sort_by_key(|(_, p)| p.ends_with("/logout"));
    let mut checked = 0;
    for (method, path) in &calls {
        for (param, body) in [("abc", b"{\"oops".to_vec()), ("999999", b"{\"unexpected\": [1]}".to_vec())] {
            let concrete = fill(path, param);
            let (status, text) = send(&app, method, &concrete, Some(&admin), Some(("application/json", body))).await;
            let what = format!("{method} {concrete}");
            assert!(!status.is_server_error(), "{what}: {status} {text}");
            if status.is_client_error() {
                contract(&what, status, &text);
                checked += 1;
            }
        }
    }
    assert!(calls.len() >= 70 && checked >= calls.len(), "{} routes, {checked} errors checked", calls.len());
}

/// `path` with every `{param}` replaced by `value`.
fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &rest[open + rest[open..].find('}').unwrap() + 1..];
    }
    out + rest
}

common::on_both!(the_contract, rejected_input, every_route_follows_the_contract);
