//! The end-to-end harness shared by the tests: a server on port 0 over a
//! fresh SQLite file or a fresh PostgreSQL database, and a small HTTP client.

// Each test binary uses its own part of this.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_server::Running;
use switchboard_server::service::{NewUser, Service, system_clock};
use switchboard_store::{Role, Store};

pub struct App {
    pub running: Running,
    pub base: String,
    pub http: reqwest::Client,
}

impl App {
    pub async fn start(store: Store) -> (App, Service) {
        App::start_with(store, switchboard_server::Options::default()).await
    }

    pub async fn start_with(store: Store, options: switchboard_server::Options) -> (App, Service) {
        App::start_at(store, system_clock(), options).await
    }

    /// With the service's clock set by the test (sessions last three days,
    /// so that a test may move the clock by a day or two).
    pub async fn start_at(
        store: Store,
        clock: switchboard_server::service::ClockFn,
        options: switchboard_server::Options,
    ) -> (App, Service) {
        let service = Service::new(store, clock, 72).await.unwrap();
        let addr = "127.0.0.1:0".parse().unwrap();
        let running = switchboard_server::start_with(service.clone(), addr, options).await.unwrap();
        let base = format!("http://{}", running.addr);
        (App { running, base, http: reqwest::Client::new() }, service)
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn ok(&self, method: &str, path: &str, token: &str, body: Value) -> Value {
        let (status, v) = self.call(method, path, Some(token), Some(body)).await;
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// A GET that must succeed.
    pub async fn get(&self, path: &str, token: &str) -> Value {
        let (status, v) = self.call("GET", path, Some(token), None).await;
        assert!(status.is_success(), "GET {path}: {status} {v}");
        v
    }

    /// A queue "Billing" on the api channel routed by the policy `expr`,
    /// and agent Alice (alice@acme.example, alice-password) serving it with
    /// `spec`'s skills and capacity; answers the queue and Alice's id.
    pub async fn billing_with_alice(&self, admin: &str, expr: &str, mut spec: Value) -> (Value, u64) {
        let steps = json!({ "name": "Billing", "steps": [{ "expr": expr }] });
        let policy = self.ok("POST", "/api/v1/policies", admin, steps).await;
        let queue = json!({ "name": "Billing", "channels": ["api"], "policy": policy["id"] });
        let queue = self.ok("POST", "/api/v1/queues", admin, queue).await;
        let alice =
            json!({ "email": "alice@acme.example", "name": "Alice", "role": "agent", "password": "alice-password" });
        let alice = self.ok("POST", "/api/v1/users", admin, alice).await["id"].as_u64().unwrap();
        spec["queues"] = json!([{ "queue": queue["id"] }]);
        self.ok("PUT", &format!("/api/v1/agents/{alice}"), admin, spec).await;
        (queue, alice)
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, v) =
            self.call("POST", "/api/v1/auth/login", None, Some(json!({ "email": email, "password": password }))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }
}

pub fn admin(email: &str) -> NewUser {
    NewUser { email: email.into(), name: "Admin".into(), role: Role::Admin, password: "admin-password".into() }
}

// Fresh databases, workspaces and SMS endpoints as the service's own tests make them.
// Its `on_both!` runs a test by URL; ours below, by store.
#[allow(unused_macros, unused_imports)]
#[path = "../../../service/tests/support/mod.rs"]
pub mod support;
#[allow(unused_imports)]
pub use support::{postgres_url, rand_suffix, sqlite_url};

/// `on_both!(a, b)`: tests `sqlite::a`, `postgres::a`, … each running the
/// async fn `a(store)` of the calling file on a fresh database.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(switchboard_store::Store::open(&crate::common::sqlite_url()).await.unwrap()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(switchboard_store::Store::open(&crate::common::postgres_url().await).await.unwrap())
                    .await;
            })*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both;
