//! The real `switchboard` binary as a child process, and a small HTTP client
//! for its API. A [`Server`] is killed when dropped, so a failing test never
//! leaves a server behind.

// Each test binary uses its own part of this.
#![allow(dead_code, unused_macros)]

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Every request's limit: a hung server fails the test instead of hanging it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a server keeps its data: a fresh directory and, for PostgreSQL, a
/// fresh database.
pub struct DataDir {
    pub dir: PathBuf,
    pub database_url: Option<String>,
}

impl DataDir {
    pub fn new(label: &str, database_url: Option<String>) -> DataDir {
        let dir = std::env::temp_dir().join(format!("switchboard-{label}-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        DataDir { dir, database_url }
    }

    /// The binary with this data directory's settings and nothing inherited
    /// from the caller's `SWITCHBOARD_*` environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.args(args).arg("--data-dir").arg(&self.dir);
        for var in ["SWITCHBOARD_HTTP", "SWITCHBOARD_DATA_DIR", "SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_LOG_JSON"] {
            cmd.env_remove(var);
        }
        if let Some(url) = &self.database_url {
            cmd.env("SWITCHBOARD_DATABASE_URL", url);
        }
        cmd
    }

    /// Runs `create-workspace` and fails the test with its output if it fails.
    pub fn create_workspace(&self, name: &str, email: &str, password: &str) {
        let out = self
            .command(&["create-workspace", "--name", name, "--admin-email", email, "--admin-password", password])
            .output()
            .expect("running switchboard create-workspace");
        assert!(
            out.status.success(),
            "create-workspace failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A number no other call in this process has had.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    u64::from(nanos) * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// A free port, found by binding port 0 and letting it go. Another process
/// may take it before the server binds it; [`Server::start`] retries then.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// `switchboard serve` running as a child process.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `serve` on a free port and waits until `/health` answers.
    /// `label` names the log file, so the logs of a run and its restart are
    /// both kept.
    pub async fn start(data: &DataDir, label: &str) -> Server {
        Server::start_with(data, label, &[]).await
    }

    /// The same with more arguments for `serve` (`--smtp 127.0.0.1:2526`).
    pub async fn start_with(data: &DataDir, label: &str, extra: &[&str]) -> Server {
        for attempt in 1..=5 {
            let port = free_port();
            let log = data.dir.join(format!("{label}-{attempt}.log"));
            let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
            let err = file.try_clone().expect("cloning the log file handle");
            let http = format!("127.0.0.1:{port}");
            let mut args = vec!["serve", "--http", http.as_str()];
            args.extend_from_slice(extra);
            let child = data
                .command(&args)
                .stdin(Stdio::null())
                .stdout(file)
                .stderr(err)
                .spawn()
                .expect("spawning switchboard serve");
            let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), log };
            match server.wait_healthy().await {
                Ok(()) => return server,
                // Someone took the port between our probe and the server's bind.
                Err(_) if server.log_text().contains("in use") => continue,
                Err(why) => panic!("{why}\n--- server log {} ---\n{}", server.log.display(), server.log_text()),
            }
        }
        panic!("could not find a free port for the server in 5 attempts");
    }

    async fn wait_healthy(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().expect("HTTP client");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("the server exited during start-up: {status}"));
            }
            if let Ok(resp) = http.get(format!("{}/health", self.base)).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the server did not answer /health within {START_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no signal handler runs, nothing is flushed or closed.
    pub fn kill(&mut self) {
        self.child.kill().expect("sending SIGKILL to the server");
        self.child.wait().expect("reaping the killed server");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// JSON over HTTP with a bearer token; every failure names the request.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
}

impl Api {
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("HTTP client")
    }

    /// Logs in and returns a client carrying the session token.
    pub async fn login(base: &str, email: &str, password: &str) -> Api {
        let http = Api::client();
        let mut api = Api { base: base.to_string(), http, token: String::new() };
        let v = api
            .send("POST", "/api/v1/auth/login", Some(serde_json::json!({ "email": email, "password": password })))
            .await;
        api.token = v["token"].as_str().unwrap_or_else(|| panic!("login answered without a token: {v}")).to_string();
        api
    }

    /// Sends a request and returns its JSON, failing unless it succeeded.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.try_send(method, path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    pub async fn try_send(&self, method: &str, path: &str, body: Option<Value>) -> (reqwest::StatusCode, Value) {
        let method: reqwest::Method = method.parse().expect("an HTTP method");
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        self.send("GET", path, None).await
    }
}

/// A fresh database on the local PostgreSQL (`SWITCHBOARD_TEST_POSTGRES`
/// names the server's admin database); fails loudly when there is none.
pub async fn fresh_postgres(label: &str) -> (String, String) {
    let admin_url = std::env::var("SWITCHBOARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pool = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for this test and is not reachable at {admin_url}: {e}"));
    let name = format!("switchboard_{label}_{}_{}", std::process::id(), unique());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    pool.close().await;
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_string();
    (format!("{base}/{name}"), name)
}

/// Drops a database made by [`fresh_postgres`]; best effort, as clean-up.
pub async fn drop_postgres(name: &str) {
    let admin_url = std::env::var("SWITCHBOARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
        pool.close().await;
    }
}

/// Removes a data directory once a test has passed (kept on failure, with
/// the server logs in it).
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// Counters a crash test's load clients share with the test, which watches
/// them to decide when to kill.
#[derive(Default)]
pub struct Progress {
    /// Requests started (the tickets handed out).
    pub issued: std::sync::atomic::AtomicUsize,
    pub acked: std::sync::atomic::AtomicUsize,
    pub in_flight: std::sync::atomic::AtomicUsize,
    /// Set just before the kill: from then on, failed requests are expected.
    pub killed: std::sync::atomic::AtomicBool,
}

/// Each load client's result once the server is killed: a client still
/// running 30 s later, or one that failed while the server lived, fails
/// the test with the server's log.
pub async fn join_clients<T>(tasks: Vec<tokio::task::JoinHandle<Result<T, String>>>, server: &Server) -> Vec<T> {
    let mut out = Vec::new();
    for (c, task) in tasks.into_iter().enumerate() {
        let result = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .unwrap_or_else(|_| panic!("client {c} still running 30 s after the kill"))
            .unwrap_or_else(|e| panic!("client {c} panicked: {e}"));
        out.push(result.unwrap_or_else(|e| panic!("{e}\n--- server log ---\n{}", server.log_text())));
    }
    out
}

/// Every contact of `queue`, in the API's order, paging with `after`.
pub async fn queue_contacts(api: &Api, queue: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let page = api.get(&format!("/api/v1/contacts?queue={queue}&limit=500{cursor}")).await;
        out.extend(page["contacts"].as_array().unwrap_or_else(|| panic!("no contacts list: {page}")).iter().cloned());
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

/// Two tests of one scenario over a `DataDir`: on SQLite, and on a fresh
/// PostgreSQL database dropped afterwards.
macro_rules! on_both_databases {
    ($label:literal, $scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            let data = support::DataDir::new(concat!($label, "-sqlite"), None);
            $scenario(&data).await;
            support::remove(&data.dir);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $postgres() {
            let (url, name) = support::fresh_postgres($label).await;
            let data = support::DataDir::new(concat!($label, "-postgres"), Some(url));
            $scenario(&data).await;
            support::drop_postgres(&name).await;
            support::remove(&data.dir);
        }
    };
}
#[allow(unused_imports)] // Not every test file has a scenario for both.
pub(crate) use on_both_databases;
