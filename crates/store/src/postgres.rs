//! The server store: PostgreSQL, chosen by a `postgres://` URL.
//!
//! The same shape as the SQLite store: one connection for the group-commit
//! writer — which is also what keeps event ids increasing in commit order,
//! since a sequence hands out numbers in the order they are asked for — and
//! a pool for reads.

use crate::apply::Placeholders;
use crate::shared::{Shared, store_over_shared};
use crate::writer::{Dialect, Writer};
use crate::{Backend, StoreError};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use std::path::Path;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Readers beside the writer.
const READERS: u32 = 8;

pub struct PostgresStore {
    shared: Shared,
}

impl std::fmt::Debug for PostgresStore {
    // The URL may hold a password, so it is not kept for showing.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database named by `url` (`postgres://…` or
    /// `postgresql://…`), brings the schema up to date and starts the
    /// writer; needs a Tokio runtime.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        if Backend::of_url(url) != Backend::Postgres {
            return Err(StoreError::BadUrl {
                url: url.to_string(),
                reason: "expected postgres:// or postgresql://".to_string(),
            });
        }
        install_default_drivers();
        let writes = AnyPoolOptions::new().max_connections(1).min_connections(1).connect(url).await?;
        MIGRATOR.run(&writes).await?;
        let reads = AnyPoolOptions::new().max_connections(READERS).connect(url).await?;
        let writer = Writer::start(writes, Dialect { begin: "BEGIN", placeholders: Placeholders::Numbered });
        Ok(PostgresStore { shared: Shared { reads, writer } })
    }

    /// Commits what is queued, stops the writer and closes the connections.
    pub async fn close(self) {
        self.shared.close().await;
    }

    async fn backup_to(&self, _to: &Path) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("the PostgreSQL store has no built-in backup: use pg_dump"))
    }
}

store_over_shared!(PostgresStore);
