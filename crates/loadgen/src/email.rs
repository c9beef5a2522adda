//! `loadgen email`: inbound mail per second through an SMTP server until
//! it answers 250, for Switchboard's listener (each message parsed,
//! threaded and committed as a new contact before the 250) and two peers in
//! the same run: aiosmtpd writing each message to its own fsynced file
//! (`bench/aiosmtpd_store.py`), and Postfix's `smtp-sink`, which keeps
//! nothing (the protocol's own cost).
//!
//! Throughput is Postfix's `smtp-source` sending a fixed number of messages
//! over parallel sessions, timed from its start to its exit. smtp-source
//! reports no latencies, so a client of our own then keeps the same number
//! of sessions busy for a while and times each message from the end of its
//! data to the server's reply: the acknowledgement latency a sending MTA
//! waits for.

use crate::process::{Server, free_port, fresh_dir};
use crate::stats::Summary;
use crate::switchboard::{Api, billing_queue, command, text};
use anyhow::{Context, bail, ensure};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const ADMIN_EMAIL: &str = "admin@load.example";
const ADMIN_PASSWORD: &str = "load-test-password";
const MAILBOX: &str = "support@load.example";
const SENDER: &str = "load@customer.example";

#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Messages smtp-source sends.
    pub messages: usize,
    /// Parallel SMTP sessions, for smtp-source and the latency client.
    pub sessions: usize,
    /// Body size in bytes (smtp-source's `-l`; the latency client's too).
    pub size: usize,
    /// How long the latency client sends.
    pub latency_for: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Switchboard on SQLite in its data directory.
    SwitchboardSqlite,
    /// Switchboard on a fresh PostgreSQL database.
    SwitchboardPostgres,
    Aiosmtpd,
    SmtpSink,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::SwitchboardSqlite => "Switchboard (SQLite)",
            Target::SwitchboardPostgres => "Switchboard (PostgreSQL)",
            Target::Aiosmtpd => "aiosmtpd, fsync per message",
            Target::SmtpSink => "Postfix smtp-sink (stores nothing)",
        }
    }
}

/// What one target did.
#[derive(Debug)]
pub struct Row {
    pub target: Target,
    /// smtp-source's messages per second, start to exit.
    pub per_second: f64,
    /// The latency client's run.
    pub latency: Summary,
    /// Messages the target kept, of those acknowledged (none for smtp-sink).
    pub kept: Option<u64>,
    pub acknowledged: u64,
}

/// A running SMTP server under test.
struct Running {
    smtp: u16,
    kept: Kept,
    /// Held to be stopped when dropped.
    _server: Option<Server>,
    _child: Option<Killed>,
}

/// Where a target keeps what it took.
enum Kept {
    /// Contacts waiting in Switchboard's queue: one per message.
    Contacts { api: Api, token: String },
    /// The files aiosmtpd wrote.
    Files(PathBuf),
    /// smtp-sink keeps nothing.
    Nothing,
}

impl Kept {
    async fn count(&self) -> anyhow::Result<Option<u64>> {
        Ok(match self {
            Kept::Contacts { api, token } => {
                let stats = api.get("/api/v1/stats/queues", token).await?;
                Some(stats["queues"][0]["waiting"].as_u64().with_context(|| format!("no waiting count in {stats}"))?)
            }
            Kept::Files(dir) => {
                let mail = std::fs::read_dir(dir)?.filter_map(Result::ok);
                Some(mail.filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count() as u64)
            }
            Kept::Nothing => None,
        })
    }
}

/// A peer's process, killed when dropped (Switchboard's is a [`Server`]).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Measures `target` under `plan`; `binary` is Switchboard's, `postgres`
/// the admin URL fresh databases are made from, `bench` the directory of
/// the aiosmtpd script.
pub async fn measure(target: Target, plan: Plan, binary: &Path, postgres: &str, bench: &Path) -> anyhow::Result<Row> {
    let dir = fresh_dir("email")?;
    let database = match target {
        Target::SwitchboardPostgres => Some(crate::postgres::Database::create(postgres, "email").await?),
        _ => None,
    };
    let running = match target {
        Target::SwitchboardSqlite | Target::SwitchboardPostgres => {
            switchboard(binary, &dir, database.as_ref().map(|d| d.url.as_str())).await?
        }
        Target::Aiosmtpd => aiosmtpd(bench, &dir).await?,
        Target::SmtpSink => smtp_sink(&dir).await?,
    };
    let row = run(target, plan, &running).await;
    drop(running);
    if let Some(db) = database {
        db.drop().await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    row
}

async fn run(target: Target, plan: Plan, running: &Running) -> anyhow::Result<Row> {
    let per_second = smtp_source(plan, running.smtp).await?;
    let latency = latency(plan, running.smtp).await?;
    let acknowledged = plan.messages as u64 + latency.requests;
    let kept = running.kept.count().await?;
    if let Some(kept) = kept {
        ensure!(kept == acknowledged, "{}: {acknowledged} messages acknowledged, {kept} kept", target.label());
    }
    Ok(Row { target, per_second, latency, kept, acknowledged })
}

/// Switchboard set up as a user would: a workspace, a queue taking email
/// that no agent serves (so every message waits in line as a contact), and
/// an email endpoint for the queue. All the mail comes from one address
/// and one sender, as from a relay: the per-address connection limit and
/// the per-sender limit (a loop breaker) are raised for it.
async fn switchboard(binary: &Path, dir: &Path, database_url: Option<&str>) -> anyhow::Result<Running> {
    let args = ["create-workspace", "--name", "Load", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD];
    let out = command(binary, dir, database_url, &args).output().context("running create-workspace")?;
    if !out.status.success() {
        bail!("create-workspace failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let smtp = free_port()?;
    let server = Server::start(&dir.join("server.log"), |port| {
        let http = format!("127.0.0.1:{port}");
        let smtp = format!("127.0.0.1:{smtp}");
        let args = ["serve", "--http", &http, "--smtp", &smtp, "--smtp-connections-per-ip", "1000"];
        let mut cmd = command(binary, dir, database_url, &args);
        cmd.args(["--smtp-sender-limit", "4000000000"]);
        cmd
    })
    .await?;
    let api = Api::new(&server.base);
    let login = api.call("/api/v1/auth/login", None, json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }));
    let session = text(&login.await?, "token")?;
    let token = text(&api.call("/api/v1/tokens", Some(&session), json!({ "name": "load" })).await?, "token")?;
    let queue = billing_queue(&api, &token, "email").await?;
    let endpoint = json!({ "channel": "email", "name": "Support", "address": MAILBOX, "queue": queue });
    api.call("/api/v1/endpoints", Some(&token), endpoint).await?;
    wait_smtp(smtp).await?;
    Ok(Running { smtp, kept: Kept::Contacts { api, token }, _server: Some(server), _child: None })
}

async fn aiosmtpd(bench: &Path, dir: &Path) -> anyhow::Result<Running> {
    let smtp = free_port()?;
    let mail = dir.join("mail");
    let child = Command::new("python3")
        .arg(bench.join("aiosmtpd_store.py"))
        .arg(smtp.to_string())
        .arg(&mail)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("starting python3 bench/aiosmtpd_store.py (is aiosmtpd installed?)")?;
    let child = Killed(child);
    wait_smtp(smtp).await?;
    Ok(Running { smtp, kept: Kept::Files(mail), _server: None, _child: Some(child) })
}

async fn smtp_sink(dir: &Path) -> anyhow::Result<Running> {
    let smtp = free_port()?;
    let child = Command::new("smtp-sink")
        // As root it must be told whom to run as.
        .args(["-u", "nobody", &format!("127.0.0.1:{smtp}"), "1024"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .spawn()
        .context("starting smtp-sink (Debian's postfix package)")?;
    let child = Killed(child);
    wait_smtp(smtp).await?;
    Ok(Running { smtp, kept: Kept::Nothing, _server: None, _child: Some(child) })
}

/// Waits until something answers on the SMTP port.
async fn wait_smtp(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        ensure!(Instant::now() < deadline, "nothing listens on SMTP port {port} after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// smtp-source's run: messages per second, start to exit.
async fn smtp_source(plan: Plan, port: u16) -> anyhow::Result<f64> {
    let started = Instant::now();
    let out = tokio::process::Command::new("smtp-source")
        // -d: each session sends its messages one after another over one
        // connection, as an MTA with a queue for us does.
        .arg("-d")
        .args(["-s", &plan.sessions.to_string(), "-m", &plan.messages.to_string(), "-l", &plan.size.to_string()])
        .args(["-f", SENDER, "-t", MAILBOX, &format!("127.0.0.1:{port}")])
        .output()
        .await
        .context("running smtp-source (Debian's postfix package)")?;
    let took = started.elapsed();
    ensure!(out.status.success(), "smtp-source failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(plan.messages as f64 / took.as_secs_f64())
}

/// `plan.sessions` sessions sending for `plan.latency_for`, each message
/// timed from the end of its data to the reply.
async fn latency(plan: Plan, port: u16) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let until = started + plan.latency_for;
    let mut sessions = tokio::task::JoinSet::new();
    for s in 0..plan.sessions {
        sessions.spawn(session(port, s, plan.size, until));
    }
    let mut all = Vec::new();
    while let Some(done) = sessions.join_next().await {
        all.extend(done.context("a latency session")??);
    }
    Ok(Summary::new(all, 0, started.elapsed()))
}

/// One session: EHLO, then messages until `until`; the microseconds each
/// waited for its 250. Any other reply is an error.
async fn session(port: u16, n: usize, size: usize, until: Instant) -> anyhow::Result<Vec<u32>> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    expect(&mut read, "220").await?;
    write.write_all(b"EHLO loadgen.example\r\n").await?;
    expect(&mut read, "250").await?;
    let body: String = "x".repeat(76).chars().chain("\r\n".chars()).cycle().take(size).collect();
    let mut waited = Vec::new();
    let run = std::process::id();
    for m in 0.. {
        if Instant::now() >= until {
            break;
        }
        write.write_all(format!("MAIL FROM:<{SENDER}>\r\n").as_bytes()).await?;
        expect(&mut read, "250").await?;
        write.write_all(format!("RCPT TO:<{MAILBOX}>\r\n").as_bytes()).await?;
        expect(&mut read, "250").await?;
        write.write_all(b"DATA\r\n").await?;
        expect(&mut read, "354").await?;
        let message = format!(
            "From: <{SENDER}>\r\nTo: <{MAILBOX}>\r\nSubject: load {n}.{m}\r\nMessage-ID: <{run}.{n}.{m}@loadgen.example>\r\n\r\n{body}\r\n.\r\n"
        );
        write.write_all(message.as_bytes()).await?;
        let sent = Instant::now();
        expect(&mut read, "250").await?;
        waited.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    write.write_all(b"QUIT\r\n").await?;
    Ok(waited)
}

/// Reads one (possibly multi-line) reply, which must have `code`.
async fn expect(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) -> anyhow::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        ensure!(read.read_line(&mut line).await? > 0, "the server closed the connection");
        ensure!(line.starts_with(code), "expected {code}, got {}", line.trim_end());
        // `250-` goes on; `250 ` is the last line.
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
}

/// The table of a run, and the ratio of each Switchboard row to aiosmtpd.
pub fn report(plan: Plan, rows: &[Row]) {
    println!(
        "{} messages of {} bytes by smtp-source over {} sessions; latency: {} sessions for {} s",
        plan.messages,
        plan.size,
        plan.sessions,
        plan.sessions,
        plan.latency_for.as_secs()
    );
    println!("{:<36} {:>12} {:>10} {:>10} {:>10} {:>10}", "target", "msg/s", "ack p50", "ack p99", "ack/s", "kept");
    for r in rows {
        let kept = r.kept.map_or("-".to_string(), |k| format!("{k}/{}", r.acknowledged));
        println!(
            "{:<36} {:>12.0} {:>8.1}ms {:>8.1}ms {:>10.0} {:>10}",
            r.target.label(),
            r.per_second,
            r.latency.p50_ms,
            r.latency.p99_ms,
            r.latency.per_second,
            kept
        );
    }
    if let Some(peer) = rows.iter().find(|r| r.target == Target::Aiosmtpd) {
        for r in rows.iter().filter(|r| matches!(r.target, Target::SwitchboardSqlite | Target::SwitchboardPostgres)) {
            println!("{}: {:.2}x aiosmtpd's messages per second", r.target.label(), r.per_second / peer.per_second);
        }
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at the end: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    }
}
