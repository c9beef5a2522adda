//! The real `switchboard serve`, set up as a user would: `create-workspace`,
//! then a skill, a policy, a queue and an API token over the API.
//!
//! The queue has no agents, so every contact is routed (the engine looks
//! for an eligible agent, finds none and puts it in line), committed with
//! its event, then acknowledged.

use crate::drive::Request;
use crate::process::Server;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const EMAIL: &str = "admin@load.example";
const PASSWORD: &str = "load-test-password";

pub struct Switchboard {
    pub server: Server,
    pub token: String,
    pub queue: u64,
}

/// `binary` with the data directory and database chosen here, and nothing
/// from the caller's `SWITCHBOARD_*` environment.
pub(crate) fn command(binary: &Path, data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(args).arg("--data-dir").arg(data_dir);
    for var in ["SWITCHBOARD_HTTP", "SWITCHBOARD_DATA_DIR", "SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_LOG_JSON"] {
        cmd.env_remove(var);
    }
    if let Some(url) = database_url {
        cmd.env("SWITCHBOARD_DATABASE_URL", url);
    }
    // Logs at warn: the server's own start-up lines are all the run needs.
    cmd.env("RUST_LOG", "warn");
    cmd
}

impl Switchboard {
    /// Creates the workspace, starts the server and configures the queue.
    pub async fn start(binary: &Path, data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Switchboard> {
        let args = ["create-workspace", "--name", "Load", "--admin-email", EMAIL, "--admin-password", PASSWORD];
        let out = command(binary, data_dir, database_url, &args).output().context("running create-workspace")?;
        if !out.status.success() {
            bail!("create-workspace failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let server = Server::start(&data_dir.join("server.log"), |port| {
            let http = format!("127.0.0.1:{port}");
            command(binary, data_dir, database_url, &["serve", "--http", &http])
        })
        .await?;

        let api = Api::new(&server.base);
        let login = api.call("/api/v1/auth/login", None, json!({ "email": EMAIL, "password": PASSWORD })).await?;
        let session = text(&login, "token")?;
        // An integration creating contacts would hold an API token, not a session.
        let token = api.call("/api/v1/tokens", Some(&session), json!({ "name": "load" })).await?;
        let token = text(&token, "token")?;
        let queue = billing_queue(&api, &token, "api").await?;
        Ok(Switchboard { server, token, queue })
    }

    /// What the clients send: a contact with a couple of attributes, as an
    /// integration would.
    pub fn request(&self) -> Request {
        let body = json!({ "queue": self.queue, "attributes": { "topic": "invoice", "language": "en" } });
        Request {
            url: format!("{}/api/v1/contacts", self.server.base),
            token: Some(self.token.clone()),
            body: body.to_string().into_bytes(),
        }
    }

    /// Contacts waiting in the queue, by the engine's count.
    pub async fn waiting(&self) -> anyhow::Result<u64> {
        let url = format!("{}/api/v1/stats/queues", self.server.base);
        let stats: Value = reqwest::Client::new().get(url).bearer_auth(&self.token).send().await?.json().await?;
        stats["queues"][0]["waiting"].as_u64().with_context(|| format!("no waiting count in {stats}"))
    }
}

/// A Billing queue on `channel` that only agents with the `billing` skill at
/// 3 or more may serve: with no such agent, whatever comes in waits in line.
pub(crate) async fn billing_queue(api: &Api, token: &str, channel: &str) -> anyhow::Result<u64> {
    api.call("/api/v1/skills", Some(token), json!({ "name": "billing" })).await?;
    let policy = json!({ "name": "Billing", "steps": [{ "expr": "billing >= 3" }] });
    let policy = api.call("/api/v1/policies", Some(token), policy).await?;
    let queue = json!({ "name": "Billing", "channels": [channel], "policy": policy["id"] });
    let queue = api.call("/api/v1/queues", Some(token), queue).await?;
    queue["id"].as_u64().with_context(|| format!("a queue without an id: {queue}"))
}

/// JSON calls for the set-up, each failing with the server's answer.
pub(crate) struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(base: &str) -> Api {
        Api { base: base.to_string(), http: reqwest::Client::new() }
    }

    pub(crate) async fn call(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::PUT, path, Some(token), Some(body)).await
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, Some(token), None).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = &body {
            req = req.json(b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let text = resp.text().await.with_context(|| format!("{method} {path}: reading the answer"))?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {text}");
        }
        // Some answers (204) have no body.
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: not JSON: {text}"))
    }
}

pub(crate) fn text(v: &Value, key: &str) -> anyhow::Result<String> {
    v[key].as_str().map(str::to_string).with_context(|| format!("no {key} in {v}"))
}
