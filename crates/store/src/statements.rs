//! Where a group's statements go: run one by one as they are given, or
//! gathered and sent together as one script.
//!
//! On SQLite every statement is a round trip to the driver's worker
//! thread, and under load the writer waits for the operating system to
//! schedule that thread and then itself, once per statement: a group of 28
//! contacts (BEGIN, three runs of contacts, three of events, COMMIT) was
//! measured spending 3.9 ms in its statements (with a build sharing the
//! cores), while the driver's thread was busy for a fraction of that. The
//! driver runs a script of several statements in one round trip, binding
//! anonymous `?` parameters on from one statement to the next, so on
//! SQLite the writes of a group are gathered and sent at once.
//!
//! PostgreSQL runs a statement with parameters only on its own (its
//! extended protocol has no scripts), so there each runs when it is given.
//! A statement whose parameters are numbered (`$1`) cannot join a script
//! either — the driver binds `$n` from the start of the arguments, not from
//! its statement's — and runs after what is gathered ([`Statements::now`]).

use crate::StoreError;
use crate::tables::Query;
use futures_util::TryStreamExt;
use sqlx::any::AnyQueryResult;
use sqlx::{AnyConnection, Either, Execute, Row};

/// Binds a statement's parameters, in order.
pub(crate) type Bind<'a> = Box<dyn FnOnce(Query<'a>) -> Result<Query<'a>, StoreError> + Send + 'a>;

/// What a statement's result must show.
pub(crate) enum Check<'a> {
    /// That it ran.
    Ran,
    /// A guarded upsert: at least `rows` rows written, or the error made by
    /// `short` (a row of another workspace was left alone).
    Written { rows: u64, short: Box<dyn FnOnce() -> StoreError + Send + 'a> },
    /// Appended events (`RETURNING id`): their ids go to these batches, in
    /// order.
    Ids(Vec<usize>),
}

/// One statement with its parameters and what its result must show.
pub(crate) struct Statement<'a> {
    pub(crate) sql: String,
    pub(crate) bind: Bind<'a>,
    pub(crate) check: Check<'a>,
    /// What a broken unique constraint reports, if the caller can say
    /// better than the database.
    pub(crate) unique: Option<Box<dyn FnOnce(sqlx::Error) -> StoreError + Send + 'a>>,
}

impl<'a> Statement<'a> {
    pub(crate) fn new(sql: String, bind: impl FnOnce(Query<'a>) -> Result<Query<'a>, StoreError> + Send + 'a) -> Self {
        Statement { sql, bind: Box::new(bind), check: Check::Ran, unique: None }
    }

    pub(crate) fn check(mut self, check: Check<'a>) -> Self {
        self.check = check;
        self
    }

    pub(crate) fn unique(mut self, unique: impl FnOnce(sqlx::Error) -> StoreError + Send + 'a) -> Self {
        self.unique = Some(Box::new(unique));
        self
    }
}

/// A group's statements on their way to one connection (inside the
/// caller's transaction).
pub(crate) struct Statements<'c, 'a> {
    conn: &'c mut AnyConnection,
    gather: bool,
    pending: Vec<Statement<'a>>,
    /// The ids of each batch's appended events.
    ids: Vec<Vec<u64>>,
}

impl<'c, 'a> Statements<'c, 'a> {
    /// For `batches` batches; `gather` sends statements with anonymous
    /// parameters together (SQLite).
    pub(crate) fn new(conn: &'c mut AnyConnection, gather: bool, batches: usize) -> Self {
        Statements { conn, gather, pending: Vec::new(), ids: vec![Vec::new(); batches] }
    }

    /// A statement with anonymous parameters (or none): gathered, or run now.
    pub(crate) async fn run(&mut self, statement: Statement<'a>) -> Result<(), StoreError> {
        if self.gather {
            self.pending.push(statement);
            Ok(())
        } else {
            self.execute(vec![statement]).await
        }
    }

    /// A statement with numbered parameters: runs after what is gathered.
    pub(crate) async fn now(&mut self, statement: Statement<'a>) -> Result<(), StoreError> {
        self.flush().await?;
        self.execute(vec![statement]).await
    }

    /// Runs what is gathered, and hands back the ids of each batch's events.
    pub(crate) async fn finish(mut self) -> Result<Vec<Vec<u64>>, StoreError> {
        self.flush().await?;
        Ok(self.ids)
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() { Ok(()) } else { self.execute(pending).await }
    }

    /// Runs `list` as one script and checks each statement's result.
    async fn execute(&mut self, list: Vec<Statement<'a>>) -> Result<(), StoreError> {
        let mut query: Query<'a> = sqlx::query("");
        let mut script = String::new();
        let mut checks = Vec::with_capacity(list.len());
        for statement in list {
            query = (statement.bind)(query)?;
            if !script.is_empty() {
                script.push_str(";\n");
            }
            script.push_str(&statement.sql);
            checks.push((statement.check, statement.unique));
        }
        let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?.unwrap_or_default();
        // sqlx 0.8 (pinned) marks running several statements in one query as
        // deprecated, though its SQLite driver supports it and is the one that
        // takes this path; should a later version drop it, the alternative is
        // a statement per round trip, as on PostgreSQL.
        #[allow(deprecated)]
        let mut results = sqlx::query_with(&script, arguments).fetch_many(&mut *self.conn);
        let mut checks = checks.into_iter();
        let mut returned = Vec::new();
        loop {
            let next = match results.try_next().await {
                Ok(next) => next,
                Err(e) => {
                    // The statement at fault is the first not yet finished.
                    return Err(match checks.next().and_then(|(_, unique)| unique) {
                        Some(unique) if is_unique_violation(&e) => unique(e),
                        _ => e.into(),
                    });
                }
            };
            match next {
                None => break,
                Some(Either::Right(row)) => {
                    let id: i64 = row.try_get("id")?;
                    returned.push(
                        u64::try_from(id).map_err(|_| StoreError::Corrupt(format!("event id {id} is negative")))?,
                    );
                }
                Some(Either::Left(done)) => {
                    let (check, _) = checks.next().ok_or_else(|| StoreError::Corrupt("a statement too many".into()))?;
                    settle(&mut self.ids, check, &done, std::mem::take(&mut returned))?;
                }
            }
        }
        if checks.next().is_some() {
            return Err(StoreError::Corrupt("a statement of the script did not run".into()));
        }
        Ok(())
    }
}

/// Checks one statement's result; appended events' ids go to their batches in `ids`.
fn settle(
    ids: &mut [Vec<u64>],
    check: Check<'_>,
    done: &AnyQueryResult,
    mut returned: Vec<u64>,
) -> Result<(), StoreError> {
    match check {
        Check::Ran => Ok(()),
        Check::Written { rows, short } if done.rows_affected() < rows => Err(short()),
        Check::Written { .. } => Ok(()),
        Check::Ids(batches) => {
            if returned.len() != batches.len() {
                return Err(StoreError::Corrupt(format!(
                    "{} events appended, {} ids returned",
                    batches.len(),
                    returned.len()
                )));
            }
            // The rows of one INSERT take their ids in the order of VALUES (from
            // the sequence, one writer), but RETURNING need not list them in that order.
            returned.sort_unstable();
            for (batch, id) in batches.into_iter().zip(returned) {
                ids[batch].push(id);
            }
            Ok(())
        }
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}
