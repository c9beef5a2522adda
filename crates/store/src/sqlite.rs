//! The embedded store: one SQLite file in WAL mode.
//!
//! SQLite has one writer at a time, so writes go through a single connection
//! owned by the group-commit writer; reads use a small pool of their own,
//! which WAL lets run beside the writer without waiting for it.

use crate::StoreError;
use crate::apply::Placeholders;
use crate::kb::{FullText, article_columns, per_counted_word};
use crate::shared::{Shared, store_over_shared};
use crate::writer::{Dialect, Writer};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Readers beside the writer.
const READERS: u32 = 4;

/// How long a connection waits for a lock held by another process (a
/// backup tool, a second server started by mistake) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Set on every connection.
///
/// `synchronous = NORMAL` in WAL mode does not sync the log on each commit:
/// a committed transaction survives the process being killed (the log is
/// in the OS's hands), though not necessarily a power cut — the promise the
/// project makes. `temp_store = MEMORY` keeps the statement journal, which
/// every multi-row statement of the writer fills, off the disk; the larger
/// page cache (in KiB when negative) lets a group's transaction stay in
/// memory until it commits.
fn pragmas() -> [String; 5] {
    [
        "PRAGMA synchronous = NORMAL".to_string(),
        "PRAGMA foreign_keys = ON".to_string(),
        format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis()),
        "PRAGMA temp_store = MEMORY".to_string(),
        "PRAGMA cache_size = -32768".to_string(),
    ]
}

pub struct SqliteStore {
    shared: Shared,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database named by `url`:
    /// `sqlite:PATH`, `sqlite://PATH` or a plain file path. Brings the schema
    /// up to date and starts the writer; needs a Tokio runtime.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let path = path_of(url)?;
        install_default_drivers();
        let any_url = any_url(&path);

        // The writer's connection first: it switches the file to WAL (which
        // sticks to the file) and migrates before any reader looks.
        let writes = pool(&any_url, 1, true).await?;
        MIGRATOR.run(&writes).await?;
        let reads = pool(&any_url, READERS, false).await?;

        let writer = Writer::start(
            writes,
            Dialect {
                // Takes the write lock up front: a transaction that starts
                // as a reader and upgrades later could fail with SQLITE_BUSY
                // without waiting, if anything else holds the lock between.
                begin: "BEGIN IMMEDIATE",
                placeholders: Placeholders::Anonymous,
            },
        );
        Ok(SqliteStore { shared: Shared { reads, writer }, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits what is queued, stops the writer and closes the connections.
    pub async fn close(self) {
        self.shared.close().await;
    }

    /// `VACUUM INTO`: a consistent copy taken inside one read transaction,
    /// so the writer carries on meanwhile.
    async fn backup_to(&self, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Conflict(format!("backup target {}", to.display())));
        }
        let target = to.to_str().ok_or(StoreError::Unsupported("the backup path must be valid UTF-8"))?;
        // The connections accept URI file names, so a relative path that
        // happens to start with `file:` is made unmistakably a path.
        let target = if target.starts_with("file:") { format!("./{target}") } else { target.to_string() };
        // Bound as a parameter, the path needs no quoting.
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.shared.reads).await?;
        Ok(())
    }
}

store_over_shared!(SqliteStore, FULL_TEXT);

/// Article search over the FTS5 index `articles_fts` (migration 0003).
///
/// A term is the word as an FTS5 string (in double quotes), which the index
/// stems like the text and no word can break out of. `relevance` is the
/// negated `bm25()`, with a match in the title weighing three times one in
/// the body: bm25 is below 0 for every match (FTS5 floors a word's weight
/// at a tiny positive number), the more so the better. The index holds
/// every workspace's articles; the join to `articles` keeps to one.
///
/// The snippet must come from the query that matched (FTS5's auxiliary
/// functions work on its cursor); coverage, a match per counted word
/// limited to the hit's row, is left to the outer query, so that it is only
/// worked out for the hits returned.
const FULL_TEXT: FullText = FullText { term: fts5_string, or: " OR ", sql: search_sql };

fn fts5_string(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

fn search_sql(counted: usize) -> String {
    let covered = per_counted_word(
        counted,
        |p| format!("EXISTS (SELECT 1 FROM articles_fts AS t WHERE t.articles_fts MATCH {p} AND t.rowid = h.id)"),
        " + ",
        "0",
    );
    format!(
        concat!(
            "SELECT ",
            article_columns!(),
            ", relevance, snippet, {} AS covered FROM (",
            "SELECT a.*, -bm25(articles_fts, 3.0, 1.0) AS relevance, ",
            "snippet(articles_fts, 1, '**', '**', '…', 24) AS snippet ",
            "FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid ",
            "WHERE articles_fts MATCH $2 AND a.workspace_id = $1 AND (a.published <> 0 OR $3 = 0) ",
            "ORDER BY relevance DESC, a.id LIMIT $4",
            ") AS h ORDER BY relevance DESC, id"
        ),
        covered
    )
}

/// The file a URL names.
fn path_of(url: &str) -> Result<PathBuf, StoreError> {
    let bad = |reason: &str| StoreError::BadUrl { url: url.to_string(), reason: reason.to_string() };
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    let path = match rest {
        // A URL may carry a query; the store decides the mode itself, so
        // only the harmless `mode=rwc` is accepted there.
        Some(rest) => match rest.split_once('?') {
            None => rest,
            Some((path, "mode=rwc")) => path,
            Some(_) => return Err(bad("query parameters are not supported (the store sets its own)")),
        },
        None => url,
    };
    if path.is_empty() {
        return Err(bad("no file name"));
    }
    if path == ":memory:" {
        return Err(bad("an in-memory database would not survive the process; name a file"));
    }
    Ok(PathBuf::from(path))
}

/// The URL the driver is given for `path`. Its parser splits at `?` and `#`
/// and percent-decodes the rest, so those (and `%`) are encoded here.
fn any_url(path: &Path) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    format!("sqlite:{encoded}?mode=rwc")
}

async fn pool(any_url: &str, size: u32, writer: bool) -> Result<AnyPool, StoreError> {
    let options = AnyPoolOptions::new().max_connections(size).min_connections(1).after_connect(move |conn, _| {
        Box::pin(async move {
            if writer {
                // Persistent: stored in the file, set once by the writer.
                conn.execute("PRAGMA journal_mode = WAL").await?;
            }
            for pragma in pragmas() {
                conn.execute(pragma.as_str()).await?;
            }
            Ok(())
        })
    });
    Ok(options.connect(any_url).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_name_the_same_file() {
        for url in ["sqlite:data/sb.db", "sqlite://data/sb.db", "data/sb.db", "sqlite:data/sb.db?mode=rwc"] {
            assert_eq!(path_of(url).ok(), Some(PathBuf::from("data/sb.db")), "{url}");
        }
        assert_eq!(path_of("sqlite:///var/lib/sb.db").ok(), Some(PathBuf::from("/var/lib/sb.db")));
        assert!(matches!(path_of("sqlite::memory:"), Err(StoreError::BadUrl { .. })));
        assert!(matches!(path_of("sqlite:x.db?mode=ro"), Err(StoreError::BadUrl { .. })));
        assert!(matches!(path_of(""), Err(StoreError::BadUrl { .. })));
    }

    #[test]
    fn a_search_term_is_one_fts5_string() {
        assert_eq!(fts5_string("refund"), "\"refund\"");
        // Words never hold a quote, but one would stay inside the string.
        assert_eq!(fts5_string("a\"b"), "\"a\"\"b\"");
        assert!(search_sql(0).contains("0 AS covered"));
        assert_eq!(search_sql(3).matches("MATCH $").count(), 1 + 3);
    }

    #[test]
    fn awkward_file_names_survive_the_url() {
        assert_eq!(any_url(Path::new("/tmp/a?b#c%d.db")), "sqlite:/tmp/a%3Fb%23c%25d.db?mode=rwc");
    }
}
