//! `loadgen`: contacts created, persisted and routed per second over HTTP,
//! by the real `switchboard serve` and by a bare axum + sqlx peer measured
//! in the same run, on SQLite and on PostgreSQL. With `--websockets N`, the
//! memory N idle event sockets cost the server instead. `loadgen chat`
//! measures live chats against a bare WebSocket relay; `loadgen voice`
//! measures calls over SIP and RTP against sipp and Kamailio; `loadgen
//! email` measures inbound mail through the SMTP listener against aiosmtpd
//! and Postfix's smtp-sink.
//!
//! See docs/BENCHMARKS.md ("Contacts over HTTP", "Chat", "Email") for the figures.

mod chat;
mod cpu;
mod drive;
mod email;
mod peer;
mod postgres;
mod process;
mod report;
mod stats;
mod switchboard;
mod voice;
mod websockets;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use drive::Plan;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Load generator for Switchboard's HTTP API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The `switchboard` binary to measure [default: release build under CARGO_TARGET_DIR or ./target].
    #[arg(long, global = true)]
    binary: Option<PathBuf>,
    /// Measured seconds per server.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent clients, each on its own connection, one request at a time.
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    clients: usize,
    #[arg(long, value_enum, default_value_t = Backend::Both)]
    backend: Backend,
    /// A database on the PostgreSQL server to connect to for creating fresh ones.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Connections of the peer's pool on SQLite: the fastest of 1, 2, 4 and 8 on the
    /// machine of docs/BENCHMARKS.md (each connection has a thread of its own).
    #[arg(long, default_value_t = 8)]
    peer_sqlite_connections: u32,
    /// Connections of the peer's pool on PostgreSQL (8, 16 and 64 were tried; 8 and 16 tie).
    #[arg(long, default_value_t = 16)]
    peer_postgres_connections: u32,
    /// PostgreSQL: ANALYZE both databases halfway through the warm-up, as autovacuum
    /// eventually does; without it, the planner only has the statistics of empty tables.
    #[arg(long)]
    analyze: bool,
    /// Instead of the load: open this many idle event WebSockets and report the server's memory.
    #[arg(long)]
    websockets: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Live chats: customers, auto-answering agents, round trips and server memory.
    Chat(ChatArgs),
    /// Calls from sipp over SIP and RTP: calls held per core, set-ups per CPU-second.
    #[command(subcommand)]
    Voice(VoiceCommand),
    /// Inbound mail through the SMTP listener until committed, with Postfix's smtp-source,
    /// against aiosmtpd storing to disk and Postfix's smtp-sink.
    Email(EmailArgs),
    /// The bare WebSocket relay peer of `chat` (started by loadgen itself).
    #[command(hide = true)]
    Relay {
        #[arg(long)]
        http: SocketAddr,
        #[arg(long)]
        agents: u64,
    },
    /// The bare axum + sqlx peer (started by loadgen itself).
    #[command(hide = true)]
    Peer {
        #[arg(long)]
        database: String,
        #[arg(long)]
        connections: u32,
        #[arg(long)]
        http: SocketAddr,
    },
}

#[derive(Debug, clap::Args)]
struct ChatArgs {
    /// Concurrent chats.
    #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
    chats: usize,
    /// Auto-answering agents sharing the chats (each may hold chats / agents, at most 255).
    #[arg(long, default_value_t = 100, value_parser = at_least_one)]
    agents: usize,
    /// Mean seconds between two messages of one chat; each gap is 0.5–1.5 times it.
    #[arg(long, default_value_t = 4.0, value_parser = positive_seconds)]
    interval: f64,
    /// Measured seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Seconds of messages before measuring [default: 1.5 × interval, at most 10]. The rate is
    /// steady from the start (first messages spread evenly over one interval), so long intervals
    /// need no longer warm-up.
    #[arg(long, value_parser = positive_seconds)]
    warmup: Option<f64>,
    /// Chats being opened at once.
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    parallel: usize,
    #[arg(long, value_enum, default_value_t = ChatTarget::Both)]
    target: ChatTarget,
}

#[derive(Debug, clap::Args)]
struct EmailArgs {
    /// Messages smtp-source sends to each target.
    #[arg(long, default_value_t = 20_000, value_parser = at_least_one)]
    messages: usize,
    /// Parallel SMTP sessions (smtp-source's and the latency client's).
    #[arg(long, default_value_t = 32, value_parser = at_least_one)]
    sessions: usize,
    /// Bytes of each message's body.
    #[arg(long, default_value_t = 2000, value_parser = at_least_one)]
    size: usize,
    /// Seconds the latency client sends to each target.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    latency_seconds: u64,
    /// The directory of aiosmtpd_store.py.
    #[arg(long, default_value = "bench")]
    bench: PathBuf,
    /// Which targets, in this order.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [EmailTarget::Sqlite, EmailTarget::Postgres, EmailTarget::Aiosmtpd, EmailTarget::SmtpSink])]
    targets: Vec<EmailTarget>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EmailTarget {
    /// Switchboard on SQLite.
    Sqlite,
    /// Switchboard on PostgreSQL.
    Postgres,
    Aiosmtpd,
    SmtpSink,
}

#[derive(Debug, Subcommand)]
enum VoiceCommand {
    /// Calls held at once with audio both ways: RTP pacing (from a loopback capture), CPU and memory per call.
    Hold(HoldArgs),
    /// Short calls (INVITE, 200, ACK, BYE) at rising rates: calls per CPU-second.
    Setup(SetupArgs),
}

#[derive(Debug, clap::Args)]
struct HoldArgs {
    /// Calls held at once, one step each (at most 2,500).
    #[arg(long, value_delimiter = ',', default_value = "50,100,200,400,800", value_parser = at_least_one)]
    calls: Vec<usize>,
    /// New calls a second while ramping up.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    rate: u32,
    /// Seconds between the last call answered and the measured window.
    #[arg(long, default_value_t = 3)]
    settle: u64,
    /// Measured seconds per step.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Callers hear an IVR recording instead of the queue's hold music.
    #[arg(long)]
    ivr: bool,
    /// Run the target at real-time priority (SCHED_FIFO 10), as on a machine of its own.
    #[arg(long)]
    realtime: bool,
    #[arg(long, value_enum, default_value_t = HoldWith::Both)]
    target: HoldWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum HoldWith {
    Switchboard,
    Sipp,
    Both,
}

#[derive(Debug, clap::Args)]
struct SetupArgs {
    /// Calls a second, one step each.
    #[arg(long, value_delimiter = ',', default_value = "100,200,400,800", value_parser = clap::value_parser!(u32).range(1..))]
    rates: Vec<u32>,
    /// Seconds of calls per step.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    seconds: u32,
    /// Kamailio's UDP worker processes.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    kamailio_workers: u32,
    #[arg(long, value_enum, default_value_t = SetupWith::Both)]
    target: SetupWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SetupWith {
    Switchboard,
    Kamailio,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ChatTarget {
    Switchboard,
    Relay,
    Both,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(_) => Err("must be a positive number of seconds".into()),
        Err(e) => Err(format!("{e}")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
    Both,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}")),
    }
}

fn default_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("release").join("switchboard")
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Some(Command::Peer { database, connections, http }) => return peer::serve(database, *connections, *http).await,
        Some(Command::Relay { http, agents }) => return chat::serve_relay(*http, *agents).await,
        Some(Command::Chat(_) | Command::Voice(_) | Command::Email(_)) | None => {}
    }
    let binary = cli.binary.clone().unwrap_or_else(default_binary);
    anyhow::ensure!(
        binary.exists(),
        "{} does not exist: build it with `cargo build --release -p switchboard`, or name it with --binary",
        binary.display()
    );
    if let Some(Command::Chat(args)) = &cli.command {
        return run_chat(&binary, args).await;
    }
    if let Some(Command::Voice(command)) = &cli.command {
        return run_voice(&binary, command).await;
    }
    if let Some(Command::Email(args)) = &cli.command {
        return run_email(&binary, args, &cli.postgres).await;
    }
    if let Some(n) = cli.websockets {
        let r = websockets::run(&binary, n).await?;
        report::websockets(&r);
        return Ok(());
    }
    let plan = Plan {
        clients: cli.clients,
        warmup: Duration::from_secs(cli.warmup),
        measure: Duration::from_secs(cli.seconds),
    };
    eprintln!(
        "{} clients, {} s warm-up + {} s measured per server; client and server share this machine's {} cores",
        plan.clients,
        cli.warmup,
        cli.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut rows = Vec::new();
    if matches!(cli.backend, Backend::Sqlite | Backend::Both) {
        rows.push(sqlite(&binary, plan, cli.peer_sqlite_connections).await.context("SQLite")?);
    }
    if matches!(cli.backend, Backend::Postgres | Backend::Both) {
        let row = postgres(&binary, plan, &cli.postgres, cli.peer_postgres_connections, cli.analyze).await;
        rows.push(row.context("PostgreSQL")?);
    }
    report::table(&rows);
    for row in &rows {
        println!("{}", report::json_line(row, plan));
    }
    Ok(())
}

async fn run_chat(binary: &std::path::Path, args: &ChatArgs) -> anyhow::Result<()> {
    let interval = Duration::from_secs_f64(args.interval);
    let plan = chat::Plan {
        chats: args.chats,
        agents: args.agents,
        interval,
        warmup: args.warmup.map_or(interval.mul_f64(1.5).min(Duration::from_secs(10)), Duration::from_secs_f64),
        measure: Duration::from_secs(args.seconds),
        parallel: args.parallel,
    };
    let mut targets = Vec::new();
    if matches!(args.target, ChatTarget::Switchboard | ChatTarget::Both) {
        targets.push(chat::Target::Switchboard);
    }
    if matches!(args.target, ChatTarget::Relay | ChatTarget::Both) {
        targets.push(chat::Target::Relay);
    }
    let mut rows = Vec::new();
    for target in targets {
        rows.push(chat::measure(binary, plan, target).await.with_context(|| format!("{target:?}"))?);
    }
    chat::report::table(plan, &rows);
    for row in &rows {
        println!("{}", chat::report::json_line(plan, row));
    }
    Ok(())
}

async fn run_email(binary: &std::path::Path, args: &EmailArgs, postgres: &str) -> anyhow::Result<()> {
    let plan = email::Plan {
        messages: args.messages,
        sessions: args.sessions,
        size: args.size,
        latency_for: Duration::from_secs(args.latency_seconds),
    };
    let mut rows = Vec::new();
    for target in &args.targets {
        let target = match target {
            EmailTarget::Sqlite => email::Target::SwitchboardSqlite,
            EmailTarget::Postgres => email::Target::SwitchboardPostgres,
            EmailTarget::Aiosmtpd => email::Target::Aiosmtpd,
            EmailTarget::SmtpSink => email::Target::SmtpSink,
        };
        eprintln!("{} …", target.label());
        rows.push(email::measure(target, plan, binary, postgres, &args.bench).await.context(target.label())?);
    }
    email::report(plan, &rows);
    Ok(())
}

async fn run_voice(binary: &std::path::Path, command: &VoiceCommand) -> anyhow::Result<()> {
    match command {
        VoiceCommand::Hold(a) => {
            anyhow::ensure!(
                a.calls.iter().all(|&n| n <= voice::MAX_CALLS),
                "at most {} calls (sipp's media ports go round after that)",
                voice::MAX_CALLS
            );
            let mut targets = Vec::new();
            if matches!(a.target, HoldWith::Switchboard | HoldWith::Both) {
                targets.push(voice::HoldTarget::Switchboard);
            }
            if matches!(a.target, HoldWith::Sipp | HoldWith::Both) {
                targets.push(voice::HoldTarget::SippAnswerer);
            }
            let plan = voice::HoldPlan {
                calls: a.calls.clone(),
                rate: a.rate,
                settle: Duration::from_secs(a.settle),
                measure: Duration::from_secs(a.seconds),
                ivr: a.ivr,
                realtime: a.realtime,
                targets,
            };
            voice::report::held_header(&plan);
            let rows = voice::hold(binary, &plan).await?;
            voice::report::held_summary(&rows);
        }
        VoiceCommand::Setup(a) => {
            let mut targets = Vec::new();
            if matches!(a.target, SetupWith::Switchboard | SetupWith::Both) {
                targets.push(voice::SetupTarget::Switchboard);
            }
            if matches!(a.target, SetupWith::Kamailio | SetupWith::Both) {
                targets.push(voice::SetupTarget::Kamailio);
            }
            let plan = voice::SetupPlan {
                rates: a.rates.clone(),
                seconds: a.seconds,
                targets,
                kamailio_workers: a.kamailio_workers,
            };
            voice::report::setup_header(&plan);
            let rows = voice::setup(binary, &plan).await?;
            voice::report::setup_summary(&rows);
        }
    }
    Ok(())
}

async fn sqlite(binary: &std::path::Path, plan: Plan, peer_connections: u32) -> anyhow::Result<report::Row> {
    let dir = process::fresh_dir("sqlite")?;
    let switchboard = measure_switchboard(binary, plan, &dir, None, false).await?;
    let url = format!("sqlite:{}", dir.join("peer.db").display());
    let peer = measure_peer(&url, peer_connections, plan, &dir, false).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report::Row { backend: "sqlite", switchboard, peer, peer_connections, analyzed: false })
}

async fn postgres(
    binary: &std::path::Path,
    plan: Plan,
    admin_url: &str,
    peer_connections: u32,
    analyze: bool,
) -> anyhow::Result<report::Row> {
    let dir = process::fresh_dir("postgres")?;
    let db = postgres::Database::create(admin_url, "switchboard").await?;
    let switchboard = measure_switchboard(binary, plan, &dir, Some(&db.url), analyze).await;
    db.drop().await?;
    let switchboard = switchboard?;
    let db = postgres::Database::create(admin_url, "peer").await?;
    let peer = measure_peer(&db.url, peer_connections, plan, &dir, analyze).await;
    db.drop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report::Row { backend: "postgres", switchboard, peer: peer?, peer_connections, analyzed: analyze })
}

async fn measure_switchboard(
    binary: &std::path::Path,
    plan: Plan,
    dir: &std::path::Path,
    database_url: Option<&str>,
    analyze: bool,
) -> anyhow::Result<report::Measured> {
    let sb = switchboard::Switchboard::start(binary, dir, database_url).await?;
    let rss_before = sb.server.rss_kib()?;
    let analyze = database_url.filter(|_| analyze);
    let outcome = drive_analyzing(&sb.request(), plan, sb.server.pid(), analyze).await?;
    let rss_after = sb.server.rss_kib()?;
    // Every 201 must be a contact in line: the server kept what it acknowledged.
    let kept = sb.waiting().await?;
    Ok(report::Measured::new(outcome, kept, rss_before, rss_after))
}

async fn measure_peer(
    url: &str,
    connections: u32,
    plan: Plan,
    dir: &std::path::Path,
    analyze: bool,
) -> anyhow::Result<report::Measured> {
    let peer = peer::Peer::start(url, connections, dir).await?;
    let rss_before = peer.server.rss_kib()?;
    let analyze = Some(url).filter(|_| analyze);
    let outcome = drive_analyzing(&peer.request(), plan, peer.server.pid(), analyze).await?;
    let rss_after = peer.server.rss_kib()?;
    let kept = peer.stored().await?;
    Ok(report::Measured::new(outcome, kept, rss_before, rss_after))
}

/// [`drive::run`], refreshing the statistics of the PostgreSQL database
/// `analyze` names halfway through the warm-up, while the load runs.
async fn drive_analyzing(
    request: &drive::Request,
    plan: Plan,
    server_pid: u32,
    analyze: Option<&str>,
) -> anyhow::Result<drive::Outcome> {
    let refresh = analyze.map(|url| {
        let url = url.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(plan.warmup / 2).await;
            postgres::analyze(&url).await
        })
    });
    let outcome = drive::run(request, plan, server_pid).await;
    if let Some(refresh) = refresh {
        refresh.await.context("the ANALYZE task")?.context("ANALYZE")?;
    }
    Ok(outcome)
}
