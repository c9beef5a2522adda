//! Security defaults at the edge: page headers, the session cookie,
//! `/metrics` access, login throttling and logout.

mod common;

use common::App;
use reqwest::StatusCode;
use serde_json::json;
use switchboard_server::Options;
use switchboard_server::api::edge::Edge;
use switchboard_store::Store;

async fn sqlite() -> Store {
    Store::open(&common::sqlite_url()).await.unwrap()
}

/// The workspace `Acme` with `admin@acme.example` / `admin-password`.
async fn acme(service: &switchboard_server::service::Service) {
    service.create_workspace("Acme", common::admin("admin@acme.example")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_strict_content_security_policy() {
    let (app, service) = App::start(sqlite().await).await;
    acme(&service).await;
    for (path, framed) in [("/desktop", false), ("/admin", false), ("/", false), ("/demo", true), ("/api/docs", false)]
    {
        let resp = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") || csp.contains("script-src 'sha256-"), "{path}: {csp}");
        assert_eq!(csp.contains("frame-ancestors 'none'"), !framed, "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        let html = resp.text().await.unwrap();
        assert!(!html.contains(" style=\""), "{path} has an inline style attribute");
        if path != "/api/docs" {
            assert!(!html.contains("<style") && !html.contains("<script>"), "{path} has inline style or script");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_secure_behind_a_trusted_https_proxy_only() {
    let edge = Edge { trusted_proxy: Some("127.0.0.1".parse().unwrap()), metrics_token: None };
    let (app, service) = App::start_with(sqlite().await, Options { edge, ..Options::default() }).await;
    acme(&service).await;
    let login = |client: reqwest::Client, proto: Option<&'static str>| {
        let url = format!("{}/api/v1/auth/login", app.base);
        async move {
            let mut req =
                client.post(url).json(&json!({ "email": "admin@acme.example", "password": "admin-password" }));
            if let Some(p) = proto {
                req = req.header("x-forwarded-proto", p);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.headers()["set-cookie"].to_str().unwrap().to_string()
        }
    };
    let cookie = login(reqwest::Client::new(), Some("https")).await;
    assert!(cookie.contains("HttpOnly") && cookie.ends_with("; Secure"), "{cookie}");
    assert!(!login(reqwest::Client::new(), Some("http")).await.contains("Secure"));
    assert!(!login(reqwest::Client::new(), None).await.contains("Secure"));
    // Another peer is not the proxy: its header means nothing.
    let other =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    assert!(!login(other, Some("https")).await.contains("Secure"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_or_their_own_listener() {
    let (app, _) = App::start(sqlite().await).await;
    let resp = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "not on the public listener by default");
    assert!(
        resp.json::<serde_json::Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("metrics_listen")
    );

    let edge = Edge { trusted_proxy: None, metrics_token: Some("metrics-secret".into()) };
    let options = Options { edge, metrics_listen: Some("127.0.0.1:0".parse().unwrap()), ..Options::default() };
    let (app, _) = App::start_with(sqlite().await, options).await;
    let url = format!("{}/metrics", app.base);
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.http.get(&url).bearer_auth("wrong").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let ok = app.http.get(&url).bearer_auth("metrics-secret").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("switchboard_workspaces_loaded"));
    let own = format!("http://{}/metrics", app.running.metrics_addr.unwrap());
    assert_eq!(app.http.get(&own).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_back_off_per_address_and_the_owner_still_gets_in() {
    let (app, service) = App::start(sqlite().await).await;
    acme(&service).await;
    let attempt = |client: &reqwest::Client, password: &str| {
        let req = client
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({ "email": "admin@acme.example", "password": password }));
        async move { req.send().await.unwrap() }
    };
    let attacker = reqwest::Client::new();
    let mut throttled = None;
    for _ in 0..10 {
        let resp = attempt(&attacker, "guess").await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(resp);
            break;
        }
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = throttled.expect("no back-off after ten failures");
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"]["code"], "rate_limited");
    // Even the right password waits, from the guessing address …
    assert_eq!(attempt(&attacker, "admin-password").await.status(), StatusCode::TOO_MANY_REQUESTS);
    // … but the owner, elsewhere, logs in at once.
    let owner =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    assert_eq!(attempt(&owner, "admin-password").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_needs_credentials_and_clears_the_cookie() {
    let (app, service) = App::start(sqlite().await).await;
    acme(&service).await;
    let (status, body) = app.call("POST", "/api/v1/auth/logout", None, Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(app.call("POST", "/api/v1/auth/logout", Some("nonsense"), Some(json!({}))).await.0, 401);
    let token = app.login("admin@acme.example", "admin-password").await;
    let resp = app.http.post(format!("{}/api/v1/auth/logout", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.call("GET", "/api/v1/me", Some(&token), None).await.0, 401);
}
