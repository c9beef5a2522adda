//! Group commit: one task writes, many callers wait.
//!
//! Every [`Store::commit`](crate::Store::commit) becomes a job on a channel.
//! The writer task takes everything waiting (up to [`MAX_GROUP`] batches),
//! applies all of it in one transaction and commits once, then answers each
//! caller. A commit — and on SQLite the WAL append behind it — costs about
//! the same for one batch as for a thousand, and the group's changes go out
//! as multi-row statements (see `apply`), which is what lets a single writer
//! keep up with many concurrent requests.
//!
//! If the combined transaction fails, each batch of the group is retried in
//! a transaction of its own, so a bad batch fails alone and the others are
//! committed as if they had never met it. (A group of one is retried too:
//! the retry writes one row per statement, so the error it reports names
//! the change at fault.)
//!
//! On PostgreSQL the COMMIT — the wait for the WAL to reach the disk — is
//! most of a group's time, so the writer overlaps it with the next group:
//! while group N commits on one connection, group N+1's statements run on
//! a second. Event ids still increase in commit order: N+1's events are
//! inserted after all of N's (ids come from a sequence, in the order they
//! are asked for), and N+1's COMMIT is only sent once N's has returned. A
//! row both groups write waits on N's row lock, so N+1 sees N's version.
//! SQLite has one writer at a time and gains nothing from this.

use crate::StoreError;
use crate::apply::{GROUPED, Placeholders, SINGLY, Shape, apply};
use crate::records::Change;
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The most batches merged into one transaction: bounds the transaction's
/// size and the latency of the first caller in a long queue.
const MAX_GROUP: usize = 1000;

type Reply = oneshot::Sender<Result<Vec<u64>, StoreError>>;

struct Job {
    changes: Vec<Change>,
    reply: Reply,
}

/// What writing looks like on one backend.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    /// The statement that opens a write transaction.
    pub(crate) begin: &'static str,
    pub(crate) placeholders: Placeholders,
    /// Whether a group's statements may run while the group before it
    /// commits, on a second connection of the pool.
    pub(crate) overlap: bool,
}

pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    task: JoinHandle<()>,
}

impl Writer {
    /// Starts the writer task on `pool`, which the writer is the only user
    /// of: one connection, or two with [`Dialect::overlap`].
    pub(crate) fn start(pool: AnyPool, dialect: Dialect) -> Writer {
        let (jobs, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(pool, dialect, rx));
        Writer { jobs, task }
    }

    /// Hands `changes` to the writer now, and returns the wait for their
    /// commit. Handing over at the call (not at the first poll) is what lets
    /// a caller commit in the order it decided, then wait outside its lock.
    /// The queue is unbounded because every batch in it has a caller waiting
    /// for it: it never holds more batches than there are requests in flight.
    /// A batch the writer has taken is applied even if the caller stops waiting.
    pub(crate) fn commit(
        &self,
        changes: Vec<Change>,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let handed = self.jobs.send(Job { changes, reply });
        async move {
            handed.map_err(|_| StoreError::Closed)?;
            answer.await.map_err(|_| StoreError::Closed)?
        }
    }

    /// Lets the writer finish what is queued, then stops it.
    pub(crate) async fn close(self) {
        drop(self.jobs);
        // A writer that panicked has nothing left to finish.
        let _ = self.task.await;
    }
}

async fn run(pool: AnyPool, dialect: Dialect, mut rx: mpsc::UnboundedReceiver<Job>) {
    // A group whose statements have run, committing while the next one's
    // statements run on the other connection (PostgreSQL only).
    let mut committing: Option<Applied> = None;
    loop {
        let mut jobs = Vec::with_capacity(MAX_GROUP);
        let (earlier, taken) = match committing.take() {
            None => {
                if rx.recv_many(&mut jobs, MAX_GROUP).await == 0 {
                    break;
                }
                (None, Some(start(&pool, dialect, jobs).await))
            }
            Some(group) => {
                let commit = group.commit();
                tokio::pin!(commit);
                // The next group starts when its first batch comes; the
                // commit is answered (or retried) without waiting for one.
                let received = tokio::select! {
                    failed = &mut commit => Err(failed),
                    received = rx.recv_many(&mut jobs, MAX_GROUP) => Ok(received),
                };
                match received {
                    Err(failed) => (failed, None),
                    Ok(0) => (commit.await, None),
                    Ok(_) => {
                        let (failed, taken) = tokio::join!(commit, start(&pool, dialect, jobs));
                        (failed, Some(taken))
                    }
                }
            }
        };
        if let Some(failed) = earlier {
            // The group taken meanwhile may have built on what did not
            // commit: it starts again after the failed group's retries, so
            // that rows end as the callers made them, in their order. (A
            // commit that fails after its statements ran is rare: a lost
            // connection, a deferred check.)
            let again = match taken {
                Some(Taken::Applied(group)) => group.abandon().await,
                Some(Taken::Failed(jobs)) => jobs,
                None => Vec::new(),
            };
            one_by_one(&pool, dialect, failed).await;
            one_by_one(&pool, dialect, again).await;
            continue;
        }
        match taken {
            None => {}
            Some(Taken::Failed(jobs)) => one_by_one(&pool, dialect, jobs).await,
            Some(Taken::Applied(group)) if dialect.overlap => committing = Some(group),
            Some(Taken::Applied(group)) => {
                if let Some(failed) = group.commit().await {
                    one_by_one(&pool, dialect, failed).await;
                }
            }
        }
    }
    pool.close().await;
}

/// A group whose statements have all run in its open transaction.
struct Applied {
    tx: Transaction<'static, Any>,
    jobs: Vec<Job>,
    ids: Vec<Vec<u64>>,
}

impl Applied {
    /// Commits and answers every caller; if the commit fails, answers none
    /// and hands the jobs back.
    async fn commit(self) -> Option<Vec<Job>> {
        match self.tx.commit().await {
            Ok(()) => {
                for (job, ids) in self.jobs.into_iter().zip(self.ids) {
                    // A caller that stopped waiting needs no answer.
                    let _ = job.reply.send(Ok(ids));
                }
                None
            }
            Err(_) => Some(self.jobs),
        }
    }

    /// Rolls back, and hands the jobs back unanswered.
    async fn abandon(self) -> Vec<Job> {
        // A rollback that fails leaves nothing committed either: the
        // connection is closed, and the transaction with it.
        let _ = self.tx.rollback().await;
        self.jobs
    }
}

/// A group the writer took: its statements ran, or one of them failed (and
/// its transaction was rolled back).
enum Taken {
    Applied(Applied),
    Failed(Vec<Job>),
}

/// Runs the statements of `jobs`, as one group, in a new transaction.
async fn start(pool: &AnyPool, dialect: Dialect, jobs: Vec<Job>) -> Taken {
    let applied = {
        let batches: Vec<&[Change]> = jobs.iter().map(|job| job.changes.as_slice()).collect();
        statements(pool, dialect, &batches, GROUPED).await
    };
    match applied {
        Ok((tx, ids)) => Taken::Applied(Applied { tx, jobs, ids }),
        Err(_) => Taken::Failed(jobs),
    }
}

/// After a group failed: the error belongs to one batch or another, and a
/// transaction per batch, one row per statement, finds out which and tells
/// that caller only, naming the change at fault.
async fn one_by_one(pool: &AnyPool, dialect: Dialect, jobs: Vec<Job>) {
    for job in jobs {
        let result = transaction(pool, dialect, &[job.changes.as_slice()], SINGLY)
            .await
            .map(|ids| ids.into_iter().next().unwrap_or_default());
        let _ = job.reply.send(result);
    }
}

/// Runs the statements of `batches` in a new transaction, left open.
async fn statements(
    pool: &AnyPool,
    dialect: Dialect,
    batches: &[&[Change]],
    shape: Shape,
) -> Result<(Transaction<'static, Any>, Vec<Vec<u64>>), StoreError> {
    let mut tx = pool.begin_with(dialect.begin).await?;
    let ids = apply(&mut tx, batches, shape, dialect.placeholders).await?;
    Ok((tx, ids))
}

/// Applies `batches` in one transaction; the event ids of each, in order.
async fn transaction(
    pool: &AnyPool,
    dialect: Dialect,
    batches: &[&[Change]],
    shape: Shape,
) -> Result<Vec<Vec<u64>>, StoreError> {
    let (tx, ids) = statements(pool, dialect, batches, shape).await?;
    tx.commit().await?;
    Ok(ids)
}
