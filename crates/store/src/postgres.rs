//! The server store: PostgreSQL, chosen by a `postgres://` URL.
//!
//! The same shape as the SQLite store: the group-commit writer — two
//! connections, which it uses so that event ids still increase in commit
//! order (see `writer`) — and a pool for reads.

use crate::apply::Placeholders;
use crate::kb::{FullText, article_columns, per_counted_word};
use crate::writer::{Dialect, Writer};
use crate::{Backend, Store, StoreError};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, Connection};
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Readers beside the writer.
const READERS: u32 = 8;

pub(crate) const NO_BACKUP: &str = "the PostgreSQL store has no built-in backup: use pg_dump";

/// How long the first connection may take before the server is called
/// unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection made directly, before any pool: a pool retries a refused
/// connection until its acquire timeout (30 s) and then says only "pool
/// timed out", where this says at once why (connection refused, unknown
/// host, authentication failed).
async fn probe(url: &str) -> Result<(), StoreError> {
    let connection = tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect(url))
        .await
        .map_err(|_| StoreError::Unreachable(CONNECT_TIMEOUT))??;
    connection.close().await?;
    Ok(())
}

/// Connects to the database named by `url` (`postgres://…` or
/// `postgresql://…`), brings the schema up to date and starts the
/// writer; needs a Tokio runtime.
pub(crate) async fn open(url: &str) -> Result<Store, StoreError> {
    install_default_drivers();
    probe(url).await?;
    // Two: one group commits while the next one's statements run.
    let writes = AnyPoolOptions::new().max_connections(2).min_connections(2).connect(url).await?;
    MIGRATOR.run(&writes).await?;
    let reads = AnyPoolOptions::new().max_connections(READERS).connect(url).await?;
    let writer = Writer::start(writes, Dialect { begin: "BEGIN", placeholders: Placeholders::Numbered, overlap: true });
    Ok(Store { backend: Backend::Postgres, reads, writer, full_text: FULL_TEXT, file: None, checkpoints: None })
}

/// Article search over the generated `tsvector` column `search` and its GIN
/// index (migration 0003).
///
/// A term is the word itself: the query goes through
/// `websearch_to_tsquery`, which never fails on its input (and words, being
/// letters and digits, hold none of its operators but the `or` that joins
/// them), and each counted word through `plainto_tsquery`; both stem as
/// the index does and drop the same stop words. `relevance` is `ts_rank()`
/// with its default weights, so a match in the title (A) weighs 1.0 and one
/// in the body (B) 0.4.
///
/// `ts_headline` reads the whole body again, so it and coverage are left to
/// the outer query: they are only worked out for the hits returned.
const FULL_TEXT: FullText = FullText { term: str::to_string, or: " or ", sql: search_sql };

fn search_sql(counted: usize) -> String {
    let covered =
        per_counted_word(counted, |p| format!("(search @@ plainto_tsquery('english', {p}))::int"), " + ", "0");
    format!(
        concat!(
            "SELECT ",
            article_columns!(),
            ", relevance, ",
            "ts_headline('english', body, query, 'StartSel=**, StopSel=**, MaxWords=24, MinWords=12') AS snippet, ",
            "({})::bigint AS covered FROM (",
            "SELECT a.*, q.query, ts_rank(a.search, q.query)::float8 AS relevance ",
            "FROM articles AS a, websearch_to_tsquery('english', $2) AS q (query) ",
            "WHERE a.workspace_id = $1 AND a.search @@ q.query AND (a.published OR NOT $3) ",
            "ORDER BY relevance DESC, a.id LIMIT $4",
            ") AS h ORDER BY relevance DESC, id"
        ),
        covered
    )
}
