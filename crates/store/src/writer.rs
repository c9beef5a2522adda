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

use crate::StoreError;
use crate::apply::{GROUPED, Placeholders, SINGLY, apply};
use crate::records::Change;
use sqlx::AnyPool;
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
}

pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    task: JoinHandle<()>,
}

impl Writer {
    /// Starts the writer task on `pool`, which should hold one connection:
    /// the writer is its only user.
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
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        commit_group(&pool, dialect, &mut group).await;
    }
    pool.close().await;
}

/// Commits and answers every job of `group`, leaving it empty.
async fn commit_group(pool: &AnyPool, dialect: Dialect, group: &mut Vec<Job>) {
    let batches: Vec<&[Change]> = group.iter().map(|job| job.changes.as_slice()).collect();
    if let Ok(ids) = transaction(pool, dialect, &batches, GROUPED).await {
        for (job, ids) in group.drain(..).zip(ids) {
            // A caller that stopped waiting needs no answer.
            let _ = job.reply.send(Ok(ids));
        }
        return;
    }
    // The error belongs to one batch or another: a transaction per batch,
    // one row per statement, finds out which and tells that caller only,
    // naming the change at fault.
    for job in group.drain(..) {
        let result = transaction(pool, dialect, &[job.changes.as_slice()], SINGLY)
            .await
            .map(|ids| ids.into_iter().next().unwrap_or_default());
        let _ = job.reply.send(result);
    }
}

/// Applies `batches` in one transaction; the event ids of each, in order.
async fn transaction(
    pool: &AnyPool,
    dialect: Dialect,
    batches: &[&[Change]],
    max_rows: usize,
) -> Result<Vec<Vec<u64>>, StoreError> {
    let mut tx = pool.begin_with(dialect.begin).await?;
    let ids = apply(&mut tx, batches, max_rows, dialect.placeholders).await?;
    tx.commit().await?;
    Ok(ids)
}
