//! Switchboard's durable store.
//!
//! Two implementations of one [`Store`] trait: [`SqliteStore`] (the embedded
//! default, WAL) and [`PostgresStore`] (chosen by a `postgres://` URL). They
//! pass one shared test suite.
//!
//! Writes go through [`Store::commit`]: a batch of whole-record upserts and
//! event appends, applied in one transaction, so that a state change and its
//! event are durable together or not at all. Concurrent batches are group
//! committed: one writer merges whatever is waiting into a single
//! transaction, and each caller is answered when that transaction has
//! committed — only then may the server acknowledge the request.
//!
//! Both stores run the same SQL through sqlx's `Any` driver: `queries`
//! (reads), `apply` (a group of batches as multi-row upserts and appends),
//! `tables` (the upserted tables' columns and keys), `edits` (tables that
//! also take deletes), `rows` (how values are stored and read back) and
//! `writer` (group commit); a few subjects have a module of their own for
//! all of that: `webhooks`, `documents`, `kb` (articles and their search)
//! and `attachments`. The `sqlite` and `postgres` modules hold only what
//! differs: migrations, connection setup, how a write transaction begins,
//! the placeholder style of the generated statements, the full-text search
//! statement, and backup.

pub mod records;

mod apply;
mod attachments;
mod documents;
mod edits;
mod kb;
mod open;
mod postgres;
mod queries;
mod rows;
mod shared;
mod sqlite;
mod tables;
mod webhooks;
mod writer;

pub use open::{AnyStore, backup, open};
pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

use std::future::Future;
use std::path::Path;
use switchboard_core::ids::{ContactId, CustomerId, UserId, WorkspaceId};

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

/// Everything the server needs from storage. All reads are scoped to a
/// workspace where the data belongs to one; there is no call that reads
/// across workspaces except listing the workspaces and resolving a login.
pub trait Store: Send + Sync + 'static {
    /// Applies `changes` in one transaction (group committed with concurrent
    /// callers) and returns the ids given to the appended events, in order.
    ///
    /// The batch is handed to the writer *when `commit` is called*, not when
    /// the returned future is first polled: a caller that calls `commit`
    /// under a lock and awaits after releasing it gets its batches committed
    /// in the order it made them.
    fn commit(&self, changes: Vec<Change>) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send;

    fn workspaces(&self) -> impl Future<Output = Result<Vec<Workspace>, StoreError>> + Send;
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn users(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;
    /// One user of `ws` (every request's authentication asks this, so it
    /// must not cost a read of all users).
    fn user(&self, ws: WorkspaceId, id: UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// The token with this SHA-256 hash, if any (expired ones included: the
    /// caller decides).
    fn token(&self, hash: &[u8]) -> impl Future<Output = Result<Option<Token>, StoreError>> + Send;
    /// The workspace's API tokens (never sessions), oldest first.
    fn api_tokens(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<Token>, StoreError>> + Send;

    fn skills(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<Skill>, StoreError>> + Send;
    fn policies(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<PolicyRecord>, StoreError>> + Send;
    fn queues(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<QueueRecord>, StoreError>> + Send;
    fn agents(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<AgentRecord>, StoreError>> + Send;

    fn customer(
        &self,
        ws: WorkspaceId,
        id: CustomerId,
    ) -> impl Future<Output = Result<Option<CustomerRecord>, StoreError>> + Send;
    fn identities(
        &self,
        ws: WorkspaceId,
        customer: CustomerId,
    ) -> impl Future<Output = Result<Vec<Identity>, StoreError>> + Send;
    fn customer_by_identity(
        &self,
        ws: WorkspaceId,
        kind: IdentityKind,
        value: &str,
    ) -> impl Future<Output = Result<Option<CustomerRecord>, StoreError>> + Send;
    /// Customers whose name, email or phone contains `query` (case-insensitive).
    fn search_customers(
        &self,
        ws: WorkspaceId,
        query: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CustomerRecord>, StoreError>> + Send;

    fn contact(
        &self,
        ws: WorkspaceId,
        id: ContactId,
    ) -> impl Future<Output = Result<Option<ContactRecord>, StoreError>> + Send;
    /// Contacts matching `filter` with ids greater than `after`, ascending.
    fn contacts(
        &self,
        ws: WorkspaceId,
        filter: &ContactFilter,
        after: Option<ContactId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ContactRecord>, StoreError>> + Send;
    /// Contacts still routed or handled, by (enqueued_at, id): the engine's
    /// state after a restart.
    fn open_contacts(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<ContactRecord>, StoreError>> + Send;

    /// Events with ids greater than `after`, ascending.
    fn events(
        &self,
        ws: WorkspaceId,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>, StoreError>> + Send;
    /// Events of one customer's contacts (and the customer itself), oldest first: the timeline.
    fn customer_events(
        &self,
        ws: WorkspaceId,
        customer: CustomerId,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>, StoreError>> + Send;

    /// Events of one kind (e.g. `audit`) with ids greater than `after`, ascending.
    fn events_of_kind(
        &self,
        ws: WorkspaceId,
        kind: &str,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>, StoreError>> + Send;

    /// The workspace's outbound webhooks, by id.
    fn webhooks(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<Webhook>, StoreError>> + Send;
    /// A webhook's delivery attempts, newest first.
    fn deliveries(
        &self,
        ws: WorkspaceId,
        webhook: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// One contact's events, oldest first; only those of `kind` if given
    /// (a chat's messages are its events of kind `message`).
    fn contact_events(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        kind: Option<&str>,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>, StoreError>> + Send;

    /// The workspace's documents of one kind, by id.
    fn documents(&self, ws: WorkspaceId, kind: &str) -> impl Future<Output = Result<Vec<Document>, StoreError>> + Send;
    fn document(
        &self,
        ws: WorkspaceId,
        kind: &str,
        id: u64,
    ) -> impl Future<Output = Result<Option<Document>, StoreError>> + Send;

    /// The workspace's articles, published or not, by id.
    fn articles(&self, ws: WorkspaceId) -> impl Future<Output = Result<Vec<Article>, StoreError>> + Send;
    fn article(&self, ws: WorkspaceId, id: u64) -> impl Future<Output = Result<Option<Article>, StoreError>> + Send;
    /// The workspace's articles matching any word of `query` in their title
    /// or body (stemmed: `refunds` finds `refund`), best first, at most
    /// `limit`; only published ones if `published_only`.
    ///
    /// `query` is what a customer typed, taken as plain words: quotes,
    /// operators and other punctuation separate words and mean nothing
    /// else, so no input is a syntax error. English stop words (`how`,
    /// `do`, `I`, `my`…) are left out, and only the first 32 distinct words
    /// count; a query with no word left finds nothing. See [`ArticleHit`]
    /// for what `score` and `coverage` mean.
    fn search_articles(
        &self,
        ws: WorkspaceId,
        query: &str,
        published_only: bool,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ArticleHit>, StoreError>> + Send;

    fn attachment(
        &self,
        ws: WorkspaceId,
        id: u64,
    ) -> impl Future<Output = Result<Option<Attachment>, StoreError>> + Send;

    fn max_ids(&self) -> impl Future<Output = Result<MaxIds, StoreError>> + Send;

    /// Ok if the database takes writes (it writes nothing): what `/ready`
    /// and start-up ask, so that a read-only database is found before the
    /// first request fails.
    fn check_writable(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// An online, consistent copy of the database to `to` (SQLite); the
    /// PostgreSQL store answers `Unsupported` (use pg_dump).
    fn backup(&self, to: &Path) -> impl Future<Output = Result<(), StoreError>> + Send;
}
