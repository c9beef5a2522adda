//! The peer: the least a service can do to create a contact over HTTP — an
//! axum route that parses the JSON, inserts one row with sqlx (autocommit)
//! and answers 201 with the row. No authentication, no routing, no event
//! log. It is what Switchboard's figure is compared against.
//!
//! It runs as `loadgen peer …` in a process of its own, as Switchboard does.

use crate::drive::Request;
use crate::process::Server;
use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Deserialize)]
struct NewContact {
    queue: i64,
    #[serde(default)]
    attributes: Value,
}

type Failure = (StatusCode, String);

fn failed(e: sqlx::Error) -> Failure {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn create(State(db): State<Db>, Json(new): Json<NewContact>) -> Result<(StatusCode, Json<Value>), Failure> {
    let attributes = new.attributes.to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let id: i64 = match &db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar("INSERT INTO contacts (queue, attributes, created_at) VALUES (?, ?, ?) RETURNING id")
                .bind(new.queue)
                .bind(&attributes)
                .bind(now)
                .fetch_one(pool)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("INSERT INTO contacts (queue, attributes, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(new.queue)
                .bind(&attributes)
                .bind(now)
                .fetch_one(pool)
                .await
        }
    }
    .map_err(failed)?;
    let row = json!({ "id": id, "queue": new.queue, "attributes": new.attributes, "created_at": now });
    Ok((StatusCode::CREATED, Json(row)))
}

/// Rows stored, to check after a run that every 201 was kept.
async fn count(State(db): State<Db>) -> Result<Json<Value>, Failure> {
    let n: i64 = match &db {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT count(*) FROM contacts").fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar("SELECT count(*) FROM contacts").fetch_one(pool).await,
    }
    .map_err(failed)?;
    Ok(Json(json!({ "count": n })))
}

/// Opens the database (`sqlite:PATH` or `postgres://…`) and creates the table.
async fn open(url: &str, connections: u32) -> anyhow::Result<Db> {
    if url.starts_with("postgres") {
        let pool = PgPoolOptions::new().max_connections(connections).connect(url).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS contacts (id BIGSERIAL PRIMARY KEY, queue BIGINT NOT NULL, \
             attributes TEXT NOT NULL, created_at BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        return Ok(Db::Postgres(pool));
    }
    // WAL with synchronous = NORMAL: Switchboard's own settings, so both
    // keep a commit through a crash of the process, not through a power cut.
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new().max_connections(connections).connect_with(options).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS contacts (id INTEGER PRIMARY KEY, queue INTEGER NOT NULL, \
         attributes TEXT NOT NULL, created_at INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await?;
    Ok(Db::Sqlite(pool))
}

/// `loadgen peer`: serves until killed.
pub async fn serve(database: &str, connections: u32, http: SocketAddr) -> anyhow::Result<()> {
    let db = open(database, connections).await.with_context(|| format!("opening {database}"))?;
    let app = Router::new()
        .route("/contacts", post(create))
        .route("/count", get(count))
        .route("/health", get(|| async { "ok" }))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(http).await.with_context(|| format!("listening on {http}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The peer started as a child process of this program.
pub struct Peer {
    pub server: Server,
}

impl Peer {
    pub async fn start(database: &str, connections: u32, dir: &Path) -> anyhow::Result<Peer> {
        let me = std::env::current_exe().context("finding this program to start the peer")?;
        let server = Server::start(&dir.join("peer.log"), |port| {
            let mut cmd = std::process::Command::new(&me);
            cmd.args(["peer", "--database", database, "--connections", &connections.to_string()])
                .args(["--http", &format!("127.0.0.1:{port}")]);
            cmd
        })
        .await?;
        Ok(Peer { server })
    }

    pub fn request(&self) -> Request {
        let body = json!({ "queue": 1, "attributes": { "topic": "invoice", "language": "en" } });
        Request { url: format!("{}/contacts", self.server.base), token: None, body: body.to_string().into_bytes() }
    }

    pub async fn stored(&self) -> anyhow::Result<u64> {
        let v: Value = reqwest::get(format!("{}/count", self.server.base)).await?.json().await?;
        v["count"].as_u64().with_context(|| format!("no count in {v}"))
    }
}
