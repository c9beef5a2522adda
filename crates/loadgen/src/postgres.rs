//! Fresh PostgreSQL databases for a run, dropped afterwards.

use anyhow::Context;

pub struct Database {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl Database {
    /// Creates a database on the server `admin_url` points at (a database
    /// there to connect to, such as `postgres`).
    pub async fn create(admin_url: &str, label: &str) -> anyhow::Result<Database> {
        let pool = sqlx::PgPool::connect(admin_url)
            .await
            .with_context(|| format!("PostgreSQL is not reachable at {admin_url}"))?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
        let name = format!("loadgen_{label}_{}_{nanos}", std::process::id());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .with_context(|| format!("creating {name}"))?;
        pool.close().await;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        Ok(Database { admin_url: admin_url.to_string(), url: format!("{base}/{name}"), name })
    }

    /// Drops the database, even with the server's connections still open.
    pub async fn drop(self) -> anyhow::Result<()> {
        let pool = sqlx::PgPool::connect(&self.admin_url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&pool).await?;
        pool.close().await;
        Ok(())
    }
}

/// Refreshes the planner's statistics of every table of the database `url`.
/// Connections that cached plans for those tables plan them again.
pub async fn analyze(url: &str) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    pool.close().await;
    Ok(())
}
