//! Choosing the store by its URL.
//!
//! [`Store`] returns plain futures (no boxing), so it cannot be a trait
//! object; [`AnyStore`] is the closed alternative: either store behind one
//! type, for code that learns the backend only at run time.

use crate::records::*;
use crate::{Backend, PostgresStore, SqliteStore, Store, StoreError};
use std::path::Path;
use switchboard_core::ids::{ContactId, CustomerId, UserId, WorkspaceId};

/// Opens the store a URL names: see [`Backend::of_url`].
pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
    Ok(match Backend::of_url(url)? {
        Backend::Sqlite => AnyStore::Sqlite(SqliteStore::open(url).await?),
        Backend::Postgres => AnyStore::Postgres(PostgresStore::open(url).await?),
    })
}

/// Copies the database a URL names to `to` without opening it as a store
/// (see [`SqliteStore::backup_file`]); PostgreSQL answers `Unsupported`.
pub async fn backup(url: &str, to: &Path) -> Result<(), StoreError> {
    match Backend::of_url(url)? {
        Backend::Sqlite => SqliteStore::backup_file(url, to).await,
        Backend::Postgres => Err(StoreError::Unsupported(crate::postgres::NO_BACKUP)),
    }
}

#[derive(Debug)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    pub fn backend(&self) -> Backend {
        match self {
            AnyStore::Sqlite(_) => Backend::Sqlite,
            AnyStore::Postgres(_) => Backend::Postgres,
        }
    }

    /// Commits what is queued, stops the writer and closes the connections.
    pub async fn close(self) {
        match self {
            AnyStore::Sqlite(s) => s.close().await,
            AnyStore::Postgres(s) => s.close().await,
        }
    }
}

/// Calls the same method on whichever store this is.
macro_rules! dispatch {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match $self {
            AnyStore::Sqlite(s) => s.$method($($arg),*).await,
            AnyStore::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store for AnyStore {
    fn commit(&self, changes: Vec<Change>) -> impl std::future::Future<Output = Result<Vec<u64>, StoreError>> + Send {
        // Each store hands the batch over inside its own `commit` call, so the
        // ordering promise of the trait holds through this enum too.
        let pending: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> = match self {
            AnyStore::Sqlite(s) => Box::pin(s.commit(changes)),
            AnyStore::Postgres(s) => Box::pin(s.commit(changes)),
        };
        pending
    }

    async fn workspaces(&self) -> Result<Vec<Workspace>, StoreError> {
        dispatch!(self.workspaces())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        dispatch!(self.user_by_email(email))
    }

    async fn users(&self, ws: WorkspaceId) -> Result<Vec<User>, StoreError> {
        dispatch!(self.users(ws))
    }

    async fn user(&self, ws: WorkspaceId, id: UserId) -> Result<Option<User>, StoreError> {
        dispatch!(self.user(ws, id))
    }

    async fn token(&self, hash: &[u8]) -> Result<Option<Token>, StoreError> {
        dispatch!(self.token(hash))
    }

    async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<Token>, StoreError> {
        dispatch!(self.api_tokens(ws))
    }

    async fn skills(&self, ws: WorkspaceId) -> Result<Vec<Skill>, StoreError> {
        dispatch!(self.skills(ws))
    }

    async fn policies(&self, ws: WorkspaceId) -> Result<Vec<PolicyRecord>, StoreError> {
        dispatch!(self.policies(ws))
    }

    async fn queues(&self, ws: WorkspaceId) -> Result<Vec<QueueRecord>, StoreError> {
        dispatch!(self.queues(ws))
    }

    async fn agents(&self, ws: WorkspaceId) -> Result<Vec<AgentRecord>, StoreError> {
        dispatch!(self.agents(ws))
    }

    async fn customer(&self, ws: WorkspaceId, id: CustomerId) -> Result<Option<CustomerRecord>, StoreError> {
        dispatch!(self.customer(ws, id))
    }

    async fn identities(&self, ws: WorkspaceId, customer: CustomerId) -> Result<Vec<Identity>, StoreError> {
        dispatch!(self.identities(ws, customer))
    }

    async fn customer_by_identity(
        &self,
        ws: WorkspaceId,
        kind: IdentityKind,
        value: &str,
    ) -> Result<Option<CustomerRecord>, StoreError> {
        dispatch!(self.customer_by_identity(ws, kind, value))
    }

    async fn search_customers(
        &self,
        ws: WorkspaceId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<CustomerRecord>, StoreError> {
        dispatch!(self.search_customers(ws, query, limit))
    }

    async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Option<ContactRecord>, StoreError> {
        dispatch!(self.contact(ws, id))
    }

    async fn contacts(
        &self,
        ws: WorkspaceId,
        filter: &ContactFilter,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        dispatch!(self.contacts(ws, filter, after, limit))
    }

    async fn open_contacts(&self, ws: WorkspaceId) -> Result<Vec<ContactRecord>, StoreError> {
        dispatch!(self.open_contacts(ws))
    }

    async fn events(&self, ws: WorkspaceId, after: u64, limit: u32) -> Result<Vec<LoggedEvent>, StoreError> {
        dispatch!(self.events(ws, after, limit))
    }

    async fn customer_events(&self, ws: WorkspaceId, customer: CustomerId) -> Result<Vec<LoggedEvent>, StoreError> {
        dispatch!(self.customer_events(ws, customer))
    }

    async fn events_of_kind(
        &self,
        ws: WorkspaceId,
        kind: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        dispatch!(self.events_of_kind(ws, kind, after, limit))
    }

    async fn webhooks(&self, ws: WorkspaceId) -> Result<Vec<Webhook>, StoreError> {
        dispatch!(self.webhooks(ws))
    }

    async fn deliveries(&self, ws: WorkspaceId, webhook: u64, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        dispatch!(self.deliveries(ws, webhook, limit))
    }

    async fn contact_events(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        kind: Option<&str>,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        dispatch!(self.contact_events(ws, contact, kind))
    }

    async fn documents(&self, ws: WorkspaceId, kind: &str) -> Result<Vec<Document>, StoreError> {
        dispatch!(self.documents(ws, kind))
    }

    async fn document(&self, ws: WorkspaceId, kind: &str, id: u64) -> Result<Option<Document>, StoreError> {
        dispatch!(self.document(ws, kind, id))
    }

    async fn articles(&self, ws: WorkspaceId) -> Result<Vec<Article>, StoreError> {
        dispatch!(self.articles(ws))
    }

    async fn article(&self, ws: WorkspaceId, id: u64) -> Result<Option<Article>, StoreError> {
        dispatch!(self.article(ws, id))
    }

    async fn search_articles(
        &self,
        ws: WorkspaceId,
        query: &str,
        published_only: bool,
        limit: u32,
    ) -> Result<Vec<ArticleHit>, StoreError> {
        dispatch!(self.search_articles(ws, query, published_only, limit))
    }

    async fn attachment(&self, ws: WorkspaceId, id: u64) -> Result<Option<Attachment>, StoreError> {
        dispatch!(self.attachment(ws, id))
    }

    async fn max_ids(&self) -> Result<MaxIds, StoreError> {
        dispatch!(self.max_ids())
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        dispatch!(self.check_writable())
    }

    async fn backup(&self, to: &Path) -> Result<(), StoreError> {
        dispatch!(self.backup(to))
    }
}
