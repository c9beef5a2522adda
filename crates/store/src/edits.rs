//! Tables written by puts and deletes alike (identities, webhooks,
//! documents, articles): one stream of edits per table, applied in the
//! batch's order, so that a put after a delete of the same key puts it back
//! and a delete after a put removes it.

use crate::StoreError;
use crate::apply::{Placeholders, Shape, Upsert};
use crate::statements::{Statement, Statements};
use crate::tables::{Query, Record};

/// A put or a delete of one table's record, as the batch gave it.
pub(crate) enum Edit<'a, R: Deletable + 'a> {
    Put(&'a R),
    Delete(R::Gone<'a>),
}

/// A record that can also be deleted.
pub(crate) trait Deletable: Record {
    /// What a delete names: the key, with the workspace always part of it,
    /// so that a delete never reaches another workspace's row.
    type Gone<'a>: Copy + Send
    where
        Self: 'a;

    /// The statements one delete runs, in order, each with the parameters
    /// [`Deletable::bind_gone`] binds (`$n`-numbered, which both backends
    /// accept; a statement per delete, so SQLite's cost for numbered
    /// parameters in long statements does not arise). Deleting what is not
    /// there deletes nothing and is no error.
    const DELETE: &'static [&'static str];

    fn bind_gone<'q>(gone: Self::Gone<'q>, q: Query<'q>) -> Result<Query<'q>, StoreError>;
}

/// Writes one table's edits of a group in order: runs of puts as multi-row
/// upserts, each delete as it comes.
pub(crate) async fn write<'a, R: Deletable + Sync>(
    w: &mut Statements<'_, 'a>,
    edits: &[Edit<'a, R>],
    shape: Shape,
    p: Placeholders,
) -> Result<(), StoreError> {
    let mut rest = edits;
    while let Some(first) = rest.first() {
        match first {
            Edit::Delete(gone) => {
                for sql in R::DELETE {
                    let gone = *gone;
                    w.now(Statement::new(sql.to_string(), move |q| R::bind_gone(gone, q))).await?;
                }
                rest = &rest[1..];
            }
            Edit::Put(_) => {
                let len = rest.iter().position(|e| matches!(e, Edit::Delete(_))).unwrap_or(rest.len());
                let (run, after) = rest.split_at(len);
                rest = after;
                let puts: Vec<&R> =
                    run.iter().filter_map(|e| if let Edit::Put(r) = e { Some(*r) } else { None }).collect();
                puts.upsert(w, shape, p).await?;
            }
        }
    }
    Ok(())
}

/// The statement that remembers a deleted record's id in `retired_ids`
/// before `table` forgets it, so that `max_ids` never hands it out again.
/// `key` is the delete's condition. Only an id that was there counts: a
/// delete naming a wild id must not push the counter to it.
macro_rules! retire {
    ($kind:literal, $table:literal, $key:literal) => {
        concat!(
            "INSERT INTO retired_ids (kind, id) SELECT '",
            $kind,
            "', id FROM ",
            $table,
            " WHERE ",
            $key,
            // SQLite needs the WHERE above to tell this ON from a join's.
            " ON CONFLICT (kind) DO UPDATE SET id = excluded.id WHERE excluded.id > retired_ids.id"
        )
    };
}

pub(crate) use retire;
