//! The embedded store: one SQLite file in WAL mode.
//!
//! SQLite has one writer at a time, so writes go through a single connection
//! owned by the group-commit writer; reads use a small pool of their own,
//! which WAL lets run beside the writer without waiting for it.

use crate::apply::Placeholders;
use crate::kb::{FullText, article_columns, per_counted_word};
use crate::writer::{Dialect, Writer};
use crate::{Backend, Store, StoreError};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Readers beside the writer.
const READERS: u32 = 4;

/// How long a connection waits for a lock held by another process (a
/// backup tool, a second server started by mistake) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Set on every connection.
///
/// `synchronous = NORMAL` in WAL mode does not sync the log on each commit:
/// a committed transaction survives the process being killed (the log is
/// in the OS's hands), though not necessarily a power cut — the promise the
/// project makes. `temp_store = MEMORY` keeps the statement journal, which
/// every multi-row statement of the writer fills, off the disk; the larger
/// page cache (in KiB when negative) lets a group's transaction stay in
/// memory until it commits. `wal_autocheckpoint = 0`: no commit copies
/// the log back into the database itself (see [`Checkpoints`]).
fn pragmas() -> [String; 6] {
    [
        "PRAGMA synchronous = NORMAL".to_string(),
        "PRAGMA foreign_keys = ON".to_string(),
        format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis()),
        "PRAGMA temp_store = MEMORY".to_string(),
        "PRAGMA cache_size = -32768".to_string(),
        "PRAGMA wal_autocheckpoint = 0".to_string(),
    ]
}

/// Opens (creating it if missing) the database named by `url`:
/// `sqlite:PATH`, `sqlite://PATH` or a plain file path. Brings the schema
/// up to date and starts the writer; needs a Tokio runtime.
///
/// A new file is created readable by its owner only (SQLite gives the
/// `-wal` and `-shm` files the database's mode). A database that opens
/// but cannot be written (a read-only file, directory or file system)
/// is an error here, not at the first write; errors name the file.
pub(crate) async fn open(url: &str) -> Result<Store, StoreError> {
    let path = path_of(url)?;
    let (writes, reads) =
        open_pools(&path).await.map_err(|e| StoreError::File { path: path.clone(), source: Box::new(e) })?;
    let writer = Writer::start(
        writes,
        Dialect {
            // Takes the write lock up front: a transaction that starts
            // as a reader and upgrades later could fail with SQLITE_BUSY
            // without waiting, if anything else holds the lock between.
            begin: "BEGIN IMMEDIATE",
            placeholders: Placeholders::Anonymous,
            // One writer at a time: a second connection would wait for the
            // write lock the first holds until its commit returns.
            overlap: false,
        },
    );
    let checkpoints = Some(Checkpoints::start(reads.clone()));
    Ok(Store { backend: Backend::Sqlite, reads, writer, full_text: FULL_TEXT, file: Some(path), checkpoints })
}

/// Checkpoints taken beside the writer, for as long as the store is open.
///
/// SQLite's automatic checkpoint runs inside the commit that fills the log
/// past 1,000 pages: that commit copies the log into the database and syncs
/// it, and with one writer every caller of the group and of the groups
/// queued behind it waits for that. A passive checkpoint on a reader's
/// connection does the same work without holding the write lock, so the
/// writer carries on meanwhile; the log is reused from its start once a
/// checkpoint has caught up with it.
pub(crate) struct Checkpoints {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpoints {
    fn start(reads: AnyPool) -> Checkpoints {
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&reads).await {
                    tracing::warn!(error = %e, "checkpoint failed; the log grows until one succeeds");
                }
            }
        });
        Checkpoints { task }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies the database named by `url` to `to` through one read-only
/// connection: no migration, no writer, nothing written to the source.
/// This is how a backup runs beside the server that owns the database
/// (SQLite lets another process read a WAL database while it is written).
pub(crate) async fn backup_file(url: &str, to: &Path) -> Result<(), StoreError> {
    let path = path_of(url)?;
    install_default_drivers();
    let copy = async {
        let mut connection = AnyConnection::connect(&any_url(&path, "ro")).await?;
        connection.execute(format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis()).as_str()).await?;
        vacuum_into(&mut connection, to).await?;
        connection.close().await?;
        Ok(())
    };
    copy.await.map_err(|e| StoreError::File { path, source: Box::new(e) })
}

/// `VACUUM INTO to`, refusing a target that exists: a consistent copy
/// taken inside one read transaction, so the writer carries on meanwhile.
pub(crate) async fn vacuum_into<'c>(db: impl Executor<'c, Database = sqlx::Any>, to: &Path) -> Result<(), StoreError> {
    // Created empty first (which VACUUM INTO accepts), so that the copy is
    // as private as the database.
    match create_private(to, true) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::Conflict(format!("backup target {}", to.display())));
        }
        result => result?,
    }
    let target = to.to_str().ok_or(StoreError::Unsupported("the backup path must be valid UTF-8"))?;
    // The connections accept URI file names, so a relative path that
    // happens to start with `file:` is made unmistakably a path.
    let target = if target.starts_with("file:") { format!("./{target}") } else { target.to_string() };
    // Bound as a parameter, the path needs no quoting.
    sqlx::query("VACUUM INTO $1").bind(target).execute(db).await?;
    Ok(())
}

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

/// The writer's pool and the readers' pool of the database at `path`.
async fn open_pools(path: &Path) -> Result<(AnyPool, AnyPool), StoreError> {
    create_private(path, false)?;
    install_default_drivers();
    let any_url = any_url(path, "rwc");
    // The writer's connection first: it switches the file to WAL (which
    // sticks to the file) and migrates before any reader looks.
    let writes = pool(&any_url, 1, true).await?;
    MIGRATOR.run(&writes).await?;
    // An up-to-date schema needs no write, so a read-only database gets
    // this far.
    crate::check_writable(&writes).await?;
    let reads = pool(&any_url, READERS, false).await?;
    Ok((writes, reads))
}

/// Creates an empty file with mode 0600, where SQLite would use the
/// process's umask (usually world-readable). An existing file is left as it
/// is, and an error only if `must_be_new`.
fn create_private(path: &Path, must_be_new: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !must_be_new => Ok(()),
        result => result.map(drop),
    }
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

/// The URL the driver is given for `path`, opened in `mode` (`rwc`: read,
/// write, create; `ro`: read only). Its parser splits at `?` and `#` and
/// percent-decodes the rest, so those (and `%`) are encoded here.
fn any_url(path: &Path, mode: &str) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    format!("sqlite:{encoded}?mode={mode}")
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
        assert_eq!(any_url(Path::new("/tmp/a?b#c%d.db"), "rwc"), "sqlite:/tmp/a%3Fb%23c%25d.db?mode=rwc");
    }
}
