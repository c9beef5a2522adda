//! Switchboard's durable store.
//!
//! One [`Store`] over two databases: SQLite (the embedded default, WAL) and
//! PostgreSQL (chosen by a `postgres://` URL). One shared test suite runs on
//! both.
//!
//! Writes go through [`Store::commit`]: a batch of whole-record upserts and
//! event appends, applied in one transaction, so that a state change and its
//! event are durable together or not at all. Concurrent batches are group
//! committed: one writer merges whatever is waiting into a single
//! transaction, and each caller is answered when that transaction has
//! committed — only then may the server acknowledge the request.
//!
//! Both databases run the same SQL through sqlx's `Any` driver: `queries`
//! (reads, as methods of [`Store`]), `apply` (a group of batches as multi-row upserts and appends),
//! `tables` (the upserted tables' columns and keys), `edits` (tables that
//! also take deletes), `rows` (how values are stored and read back) and
//! `writer` (group commit); a few subjects have a module of their own for
//! all of that: `webhooks`, `documents`, `kb` (articles and their search),
//! `attachments`, `endpoints` and `rosters` (published shifts). The `sqlite` and `postgres` modules hold only what
//! differs: migrations, connection setup, how a write transaction begins,
//! the placeholder style of the generated statements, the full-text search
//! statement, and backup.

pub mod records;

mod apply;
mod attachments;
mod documents;
mod edits;
mod endpoints;
mod kb;
mod postgres;
mod queries;
mod rosters;
mod rows;
mod sqlite;
mod statements;
mod tables;
mod webhooks;
mod writer;

pub use records::*;

use std::future::Future;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("bad database URL '{url}': {reason}")]
    BadUrl { url: String, reason: String },
    /// The URL's scheme is neither SQLite's nor PostgreSQL's. The URL itself
    /// is not repeated: it may hold a password.
    #[error("unsupported database URL scheme '{0}://': use postgres://, postgresql://, sqlite://PATH or a file path")]
    UnsupportedScheme(String),
    /// The database server did not answer at all (no refusal either).
    #[error("no answer from the database server within {} s", .0.as_secs())]
    Unreachable(std::time::Duration),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Something went wrong with the database file, which is named.
    #[error("{}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        #[source]
        source: Box<StoreError>,
    },
    /// The database opens but refuses to write (a read-only file,
    /// directory or file system).
    #[error("not writable: {0}")]
    NotWritable(#[source] sqlx::Error),
}

/// Stored JSON (and, in practice never, a record that will not encode).
impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Which database a URL names: `sqlite:PATH` / `sqlite://PATH` / a plain
/// file path, or `postgres://…` / `postgresql://…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of `url`. Any other scheme (`mysql://…`) is refused
    /// rather than taken for an SQLite file name.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres);
        }
        match url.split_once("://") {
            Some((scheme, _))
                if scheme != "sqlite"
                    && !scheme.is_empty()
                    && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                Err(StoreError::UnsupportedScheme(scheme.to_string()))
            }
            _ => Ok(Backend::Sqlite),
        }
    }
}

/// The durable store: one type over both databases. The queries are the
/// same SQL on both (sqlx's `Any` driver); what differs is kept in
/// `backend`, `full_text` and the modules `sqlite` and `postgres`. All
/// reads are scoped to a workspace where the data belongs to one; there is
/// no call that reads across workspaces except listing the workspaces and
/// resolving a login.
pub struct Store {
    backend: Backend,
    reads: sqlx::AnyPool,
    writer: writer::Writer,
    full_text: kb::FullText,
    /// The SQLite file (`None` on PostgreSQL).
    file: Option<PathBuf>,
    /// SQLite's checkpoints, taken beside the writer (`None` on PostgreSQL).
    checkpoints: Option<sqlite::Checkpoints>,
}

impl std::fmt::Debug for Store {
    // A PostgreSQL URL may hold a password, so it is not kept for showing.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("file", &self.file).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store a URL names (see [`Backend::of_url`]): creates a
    /// missing SQLite file, brings the schema up to date and starts the
    /// writer; needs a Tokio runtime.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        match Backend::of_url(url)? {
            Backend::Sqlite => sqlite::open(url).await,
            Backend::Postgres => postgres::open(url).await,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database file, on SQLite.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Applies `changes` in one transaction (group committed with concurrent
    /// callers) and returns the ids given to the appended events, in order.
    ///
    /// The batch is handed to the writer *when `commit` is called*, not when
    /// the returned future is first polled: a caller that calls `commit`
    /// under a lock and awaits after releasing it gets its batches committed
    /// in the order it made them.
    pub fn commit(&self, changes: Vec<Change>) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send + 'static {
        self.writer.commit(changes)
    }

    /// Commits what is queued, stops the writer and closes the connections.
    pub async fn close(self) {
        // Stopped first: closing the last connection checkpoints anyway.
        drop(self.checkpoints);
        self.writer.close().await;
        self.reads.close().await;
    }

    /// Ok if the database takes writes (it writes nothing): what `/ready`
    /// and start-up ask, so that a read-only database is found before the
    /// first request fails.
    ///
    /// An empty transaction is not enough: SQLite begins one (even `BEGIN
    /// IMMEDIATE`) on a read-only file, and only a statement that writes is
    /// refused — one that matches no row will do.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        check_writable(&self.reads).await
    }

    /// An online, consistent copy of the database to `to` (SQLite); the
    /// PostgreSQL store answers `Unsupported` (use pg_dump).
    pub async fn backup(&self, to: &Path) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => sqlite::vacuum_into(&self.reads, to).await,
            Backend::Postgres => Err(StoreError::Unsupported(postgres::NO_BACKUP)),
        }
    }
}

/// See [`Store::check_writable`].
async fn check_writable(db: &sqlx::AnyPool) -> Result<(), StoreError> {
    let probe = async {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE _sqlx_migrations SET version = version WHERE 1 = 0").execute(&mut *tx).await?;
        tx.rollback().await
    };
    probe.await.map_err(StoreError::NotWritable)
}

/// Copies the database a URL names to `to` without opening it as a store
/// (see [`sqlite::backup_file`]); PostgreSQL answers `Unsupported`.
pub async fn backup(url: &str, to: &Path) -> Result<(), StoreError> {
    match Backend::of_url(url)? {
        Backend::Sqlite => sqlite::backup_file(url, to).await,
        Backend::Postgres => Err(StoreError::Unsupported(postgres::NO_BACKUP)),
    }
}
