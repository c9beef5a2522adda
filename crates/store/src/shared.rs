//! What both stores are made of: a pool for reads and the group-commit
//! writer, both over the `Any` driver so that one set of queries serves both
//! backends.

use crate::StoreError;
use crate::writer::Writer;
use sqlx::AnyPool;

pub(crate) struct Shared {
    pub(crate) reads: AnyPool,
    pub(crate) writer: Writer,
}

impl Shared {
    pub(crate) async fn close(self) {
        self.writer.close().await;
        self.reads.close().await;
    }
}

/// Fails with [`StoreError::NotWritable`] unless the database takes a
/// write, and writes nothing. An empty transaction is not enough: SQLite
/// begins one (even `BEGIN IMMEDIATE`) on a read-only file, and only a
/// statement that writes is refused — one that matches no row will do.
pub(crate) async fn check_writable(db: &AnyPool) -> Result<(), StoreError> {
    let probe = async {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE _sqlx_migrations SET version = version WHERE 1 = 0").execute(&mut *tx).await?;
        tx.rollback().await
    };
    probe.await.map_err(StoreError::NotWritable)
}

/// Implements [`Store`](crate::Store) for a store type with a field
/// `shared: Shared` and an inherent `async fn backup_to(&self, &Path)`, whose
/// full-text search is `$full_text` (a [`FullText`](crate::kb::FullText)):
/// every method but the backup is the same on both backends, and the search
/// differs only in its statement.
macro_rules! store_over_shared {
    ($store:ty, $full_text:expr) => {
        // An anonymous const gives the `use`s below a scope of their own.
        const _: () = {
            use std::path::Path;
            use switchboard_core::ids::{ContactId, CustomerId, UserId, WorkspaceId};
            use $crate::queries;
            use $crate::records::*;
            use $crate::{Store, StoreError};

            impl Store for $store {
                fn commit(
                    &self,
                    changes: Vec<Change>,
                ) -> impl std::future::Future<Output = Result<Vec<u64>, StoreError>> + Send {
                    self.shared.writer.commit(changes)
                }

                async fn workspaces(&self) -> Result<Vec<Workspace>, StoreError> {
                    queries::workspaces(&self.shared.reads).await
                }

                async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
                    queries::user_by_email(&self.shared.reads, email).await
                }

                async fn users(&self, ws: WorkspaceId) -> Result<Vec<User>, StoreError> {
                    queries::users(&self.shared.reads, ws).await
                }

                async fn user(&self, ws: WorkspaceId, id: UserId) -> Result<Option<User>, StoreError> {
                    queries::user(&self.shared.reads, ws, id).await
                }

                async fn token(&self, hash: &[u8]) -> Result<Option<Token>, StoreError> {
                    queries::token(&self.shared.reads, hash).await
                }

                async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<Token>, StoreError> {
                    queries::api_tokens(&self.shared.reads, ws).await
                }

                async fn skills(&self, ws: WorkspaceId) -> Result<Vec<Skill>, StoreError> {
                    queries::skills(&self.shared.reads, ws).await
                }

                async fn policies(&self, ws: WorkspaceId) -> Result<Vec<PolicyRecord>, StoreError> {
                    queries::policies(&self.shared.reads, ws).await
                }

                async fn queues(&self, ws: WorkspaceId) -> Result<Vec<QueueRecord>, StoreError> {
                    queries::queues(&self.shared.reads, ws).await
                }

                async fn agents(&self, ws: WorkspaceId) -> Result<Vec<AgentRecord>, StoreError> {
                    queries::agents(&self.shared.reads, ws).await
                }

                async fn customer(
                    &self,
                    ws: WorkspaceId,
                    id: CustomerId,
                ) -> Result<Option<CustomerRecord>, StoreError> {
                    queries::customer(&self.shared.reads, ws, id).await
                }

                async fn identities(&self, ws: WorkspaceId, customer: CustomerId) -> Result<Vec<Identity>, StoreError> {
                    queries::identities(&self.shared.reads, ws, customer).await
                }

                async fn customer_by_identity(
                    &self,
                    ws: WorkspaceId,
                    kind: IdentityKind,
                    value: &str,
                ) -> Result<Option<CustomerRecord>, StoreError> {
                    queries::customer_by_identity(&self.shared.reads, ws, kind, value).await
                }

                async fn search_customers(
                    &self,
                    ws: WorkspaceId,
                    query: &str,
                    limit: u32,
                ) -> Result<Vec<CustomerRecord>, StoreError> {
                    queries::search_customers(&self.shared.reads, ws, query, limit).await
                }

                async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Option<ContactRecord>, StoreError> {
                    queries::contact(&self.shared.reads, ws, id).await
                }

                async fn contacts(
                    &self,
                    ws: WorkspaceId,
                    filter: &ContactFilter,
                    after: Option<ContactId>,
                    limit: u32,
                ) -> Result<Vec<ContactRecord>, StoreError> {
                    queries::contacts(&self.shared.reads, ws, filter, after, limit).await
                }

                async fn open_contacts(&self, ws: WorkspaceId) -> Result<Vec<ContactRecord>, StoreError> {
                    queries::open_contacts(&self.shared.reads, ws).await
                }

                async fn events(
                    &self,
                    ws: WorkspaceId,
                    after: u64,
                    limit: u32,
                ) -> Result<Vec<LoggedEvent>, StoreError> {
                    queries::events(&self.shared.reads, ws, after, limit).await
                }

                async fn customer_events(
                    &self,
                    ws: WorkspaceId,
                    customer: CustomerId,
                ) -> Result<Vec<LoggedEvent>, StoreError> {
                    queries::customer_events(&self.shared.reads, ws, customer).await
                }

                async fn events_of_kind(
                    &self,
                    ws: WorkspaceId,
                    kind: &str,
                    after: u64,
                    limit: u32,
                ) -> Result<Vec<LoggedEvent>, StoreError> {
                    queries::events_of_kind(&self.shared.reads, ws, kind, after, limit).await
                }

                async fn webhooks(&self, ws: WorkspaceId) -> Result<Vec<Webhook>, StoreError> {
                    $crate::webhooks::webhooks(&self.shared.reads, ws).await
                }

                async fn deliveries(
                    &self,
                    ws: WorkspaceId,
                    webhook: u64,
                    limit: u32,
                ) -> Result<Vec<Delivery>, StoreError> {
                    $crate::webhooks::deliveries(&self.shared.reads, ws, webhook, limit).await
                }

                async fn contact_events(
                    &self,
                    ws: WorkspaceId,
                    contact: ContactId,
                    kind: Option<&str>,
                ) -> Result<Vec<LoggedEvent>, StoreError> {
                    queries::contact_events(&self.shared.reads, ws, contact, kind).await
                }

                async fn documents(&self, ws: WorkspaceId, kind: &str) -> Result<Vec<Document>, StoreError> {
                    $crate::documents::documents(&self.shared.reads, ws, kind).await
                }

                async fn document(&self, ws: WorkspaceId, kind: &str, id: u64) -> Result<Option<Document>, StoreError> {
                    $crate::documents::document(&self.shared.reads, ws, kind, id).await
                }

                async fn articles(&self, ws: WorkspaceId) -> Result<Vec<Article>, StoreError> {
                    $crate::kb::articles(&self.shared.reads, ws).await
                }

                async fn article(&self, ws: WorkspaceId, id: u64) -> Result<Option<Article>, StoreError> {
                    $crate::kb::article(&self.shared.reads, ws, id).await
                }

                async fn search_articles(
                    &self,
                    ws: WorkspaceId,
                    query: &str,
                    published_only: bool,
                    limit: u32,
                ) -> Result<Vec<ArticleHit>, StoreError> {
                    $crate::kb::search(&self.shared.reads, &$full_text, ws, query, published_only, limit).await
                }

                async fn attachment(&self, ws: WorkspaceId, id: u64) -> Result<Option<Attachment>, StoreError> {
                    $crate::attachments::attachment(&self.shared.reads, ws, id).await
                }

                async fn max_ids(&self) -> Result<MaxIds, StoreError> {
                    queries::max_ids(&self.shared.reads).await
                }

                async fn check_writable(&self) -> Result<(), StoreError> {
                    $crate::shared::check_writable(&self.shared.reads).await
                }

                async fn backup(&self, to: &Path) -> Result<(), StoreError> {
                    self.backup_to(to).await
                }
            }
        };
    };
}

pub(crate) use store_over_shared;
