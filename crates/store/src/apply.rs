//! Batches of [`Change`]s as SQL, the same statements on both backends.
//!
//! Every `Put` is `INSERT … ON CONFLICT (key) DO UPDATE`, which SQLite and
//! PostgreSQL spell alike (see `tables`). Records keyed by an id carry a
//! guard: the update only happens when the stored row belongs to the same
//! workspace, so an upsert can never move a row from one tenant to
//! another; a guarded row that was neither inserted nor updated is reported
//! as a conflict.
//!
//! A statement costs a round trip to the database (on SQLite, to the
//! driver's worker thread), and that, not SQLite, is what limits a writer
//! issuing one statement per change. So the changes of a whole group are
//! sorted by table, keeping their order within each table, and written as
//! multi-row statements. Moving changes of different tables past each other
//! changes nothing: no put reads another table, foreign keys are checked at
//! commit, and the events keep their order, hence ids in commit order.

use crate::StoreError;
use crate::edits::{self, Edit};
use crate::records::*;
use crate::rows::{Named, db_id, db_opt_id, json};
use crate::statements::{Check, Statement, Statements};
use crate::tables::Record;
use sqlx::AnyConnection;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use switchboard_core::ids::{UserId, WorkspaceId};
use switchboard_core::time::Timestamp;

/// How a transaction turns its changes into statements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Rows per statement at most: a power of two (see [`runs`]).
    max_rows: usize,
    /// Whether the puts of one row are merged into its last (see
    /// [`last_puts`]).
    merge: bool,
}

/// Committing a group: past a few dozen rows per statement the round trips
/// saved no longer show; 64 rows of the widest table are 1,024 parameters,
/// far below either backend's limit.
pub(crate) const GROUPED: Shape = Shape { max_rows: 64, merge: true };

/// One change per statement, each as the batch gave it: slower, but an
/// error names its change exactly, and a put that a later one overwrites is
/// still checked on its own.
pub(crate) const SINGLY: Shape = Shape { max_rows: 1, merge: false };

/// How a backend's statements mark their parameters: the one thing in the
/// write statements that differs between the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placeholders {
    /// `$1, $2, …`, which PostgreSQL requires.
    Numbered,
    /// `?, ?, …`, for SQLite: the driver looks up the name of every numbered
    /// parameter in a list that grows with the statement, which turns
    /// quadratic for multi-row statements; anonymous ones bind by position.
    Anonymous,
}

impl Placeholders {
    /// `rows` parenthesised lists of `width` parameters, numbered on from 1.
    pub(crate) fn rows(self, rows: usize, width: usize) -> String {
        let row = |r: usize| {
            let params: Vec<String> = (1..=width)
                .map(|c| match self {
                    Placeholders::Numbered => format!("${}", r * width + c),
                    Placeholders::Anonymous => "?".to_string(),
                })
                .collect();
            format!("({})", params.join(", "))
        };
        (0..rows).map(row).collect::<Vec<_>>().join(", ")
    }
}

/// Applies `batches` in one go on `conn` (inside the caller's transaction),
/// shaped by `shape`, and returns the ids given to each
/// batch's appended events.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    batches: &[&[Change]],
    shape: Shape,
    p: Placeholders,
) -> Result<Vec<Vec<u64>>, StoreError> {
    let mut plan = Plan::default();
    for (batch, changes) in batches.iter().enumerate() {
        for change in changes.iter() {
            plan.add(batch, change);
        }
    }
    // Anonymous parameters number on across the statements of a script,
    // which is how SQLite's statements go out together (see `statements`).
    let mut statements = Statements::new(conn, p == Placeholders::Anonymous, batches.len());
    let w = &mut statements;
    plan.workspaces.upsert(w, shape, p).await?;
    plan.users.upsert(w, shape, p).await?;
    write_tokens(w, &plan.tokens, shape, p).await?;
    plan.skills.upsert(w, shape, p).await?;
    plan.policies.upsert(w, shape, p).await?;
    plan.queues.upsert(w, shape, p).await?;
    plan.agents.upsert(w, shape, p).await?;
    plan.customers.upsert(w, shape, p).await?;
    edits::write(w, &plan.identities, shape, p).await?;
    plan.contacts.upsert(w, shape, p).await?;
    edits::write(w, &plan.webhooks, shape, p).await?;
    plan.deliveries.upsert(w, shape, p).await?;
    edits::write(w, &plan.documents, shape, p).await?;
    edits::write(w, &plan.articles, shape, p).await?;
    plan.attachments.upsert(w, shape, p).await?;
    edits::write(w, &plan.endpoints, shape, p).await?;
    edits::write(w, &plan.roster, shape, p).await?;
    for run in runs(&plan.events, |_| None::<()>, shape.max_rows) {
        w.run(append(run, p)).await?;
    }
    statements.finish().await
}

/// The changes of a group, by table, each table's in their original order.
#[derive(Default)]
struct Plan<'a> {
    workspaces: Vec<&'a Workspace>,
    users: Vec<&'a User>,
    tokens: Vec<TokenChange<'a>>,
    skills: Vec<&'a Skill>,
    policies: Vec<&'a PolicyRecord>,
    queues: Vec<&'a QueueRecord>,
    agents: Vec<&'a AgentRecord>,
    customers: Vec<&'a CustomerRecord>,
    identities: Vec<Edit<'a, Identity>>,
    contacts: Vec<&'a ContactRecord>,
    webhooks: Vec<Edit<'a, Webhook>>,
    deliveries: Vec<&'a Delivery>,
    documents: Vec<Edit<'a, Document>>,
    articles: Vec<Edit<'a, Article>>,
    attachments: Vec<&'a Attachment>,
    endpoints: Vec<Edit<'a, EndpointRecord>>,
    roster: Vec<Edit<'a, RosterShift>>,
    /// With the index of the batch each belongs to.
    events: Vec<(usize, &'a NewEvent)>,
}

enum TokenChange<'a> {
    Put(&'a Token),
    Delete(&'a [u8]),
    DeleteOf { workspace: WorkspaceId, user: UserId, kind: Option<TokenKind> },
    Touch { hash: &'a [u8], at: Timestamp },
}

impl<'a> Plan<'a> {
    fn add(&mut self, batch: usize, change: &'a Change) {
        match change {
            Change::PutWorkspace(w) => self.workspaces.push(w),
            Change::PutUser(u) => self.users.push(u),
            Change::PutToken(t) => self.tokens.push(TokenChange::Put(t)),
            Change::DeleteToken { hash } => self.tokens.push(TokenChange::Delete(hash)),
            Change::DeleteTokensOf { workspace, user, kind } => {
                self.tokens.push(TokenChange::DeleteOf { workspace: *workspace, user: *user, kind: *kind })
            }
            Change::TouchToken { hash, at } => self.tokens.push(TokenChange::Touch { hash, at: *at }),
            Change::PutSkill(s) => self.skills.push(s),
            Change::PutPolicy(p) => self.policies.push(p),
            Change::PutQueue(q) => self.queues.push(q),
            Change::PutAgent(a) => self.agents.push(a),
            Change::PutCustomer(c) => self.customers.push(c),
            Change::PutIdentity(i) => self.identities.push(Edit::Put(i)),
            Change::DeleteIdentity { workspace, kind, value } => {
                self.identities.push(Edit::Delete((*workspace, *kind, value.as_str())))
            }
            Change::PutContact(c) => self.contacts.push(c),
            Change::Append(e) => self.events.push((batch, e)),
            Change::PutWebhook(w) => self.webhooks.push(Edit::Put(w)),
            Change::DeleteWebhook { workspace, id } => self.webhooks.push(Edit::Delete((*workspace, *id))),
            Change::PutDelivery(d) => self.deliveries.push(d),
            Change::PutDocument(d) => self.documents.push(Edit::Put(d)),
            Change::DeleteDocument { workspace, kind, id } => {
                self.documents.push(Edit::Delete((*workspace, kind.as_str(), *id)))
            }
            Change::PutArticle(a) => self.articles.push(Edit::Put(a)),
            Change::DeleteArticle { workspace, id } => self.articles.push(Edit::Delete((*workspace, *id))),
            Change::PutAttachment(a) => self.attachments.push(a),
            Change::PutEndpoint(e) => self.endpoints.push(Edit::Put(e)),
            Change::DeleteEndpoint { workspace, id } => self.endpoints.push(Edit::Delete((*workspace, *id))),
            Change::PutRosterShift(r) => self.roster.push(Edit::Put(r)),
            Change::DeleteRosterShift { workspace, agent, day } => {
                self.roster.push(Edit::Delete((*workspace, *agent, day.as_str())))
            }
        }
    }
}

/// Splits `items` into runs of one statement each: at most `max_rows`
/// long, a power of two long (so only a handful of statement texts occur,
/// each prepared once and then cached), and no key twice in a run —
/// PostgreSQL refuses to update one row twice in a statement, and the
/// second update must see the first anyway.
fn runs<T, K: Eq + Hash>(items: &[T], key: impl Fn(&T) -> Option<K>, max_rows: usize) -> Vec<&[T]> {
    fn powers_of_two<'s, T>(mut items: &'s [T], max_rows: usize, out: &mut Vec<&'s [T]>) {
        while !items.is_empty() {
            let n = items.len().min(max_rows.max(1));
            let n = 1 << n.ilog2();
            out.push(&items[..n]);
            items = &items[n..];
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(k) = key(item)
            && !seen.insert(k)
        {
            powers_of_two(&items[start..i], max_rows, &mut out);
            start = i;
            seen.clear();
            seen.extend(key(item));
        }
    }
    powers_of_two(&items[start..], max_rows, &mut out);
    out
}

/// Writes one table's records of a group, in order, as multi-row upserts.
pub(crate) trait Upsert<'a> {
    async fn upsert(&self, w: &mut Statements<'_, 'a>, shape: Shape, p: Placeholders) -> Result<(), StoreError>;
}

impl<'a, R: Record + Sync> Upsert<'a> for Vec<&'a R> {
    async fn upsert(&self, w: &mut Statements<'_, 'a>, shape: Shape, p: Placeholders) -> Result<(), StoreError> {
        let puts = if shape.merge { last_puts(self) } else { self.clone() };
        for run in runs(&puts, |r| Some(r.key()), shape.max_rows) {
            let run = run.to_vec();
            let first = run[0];
            let rows = run.len() as u64;
            let mut statement = Statement::new(R::TABLE.upsert_sql(run.len(), p), move |mut q| {
                for record in run {
                    q = record.bind(q)?;
                }
                Ok(q)
            })
            // With several rows, the record named may not be the culprit;
            // the writer then retries one row at a time to find it.
            .unique(move |e| first.taken().map_or(e.into(), StoreError::Conflict));
            if R::TABLE.guarded {
                statement = statement
                    .check(Check::Written { rows, short: Box::new(move || StoreError::Conflict(first.elsewhere())) });
            }
            w.run(statement).await?;
        }
        Ok(())
    }
}

/// One put per row: where the row is first put, its last put. A put is
/// the whole record, so the last is what the row ends up as either way, and
/// writing only it spares a statement and, on PostgreSQL, a dead row version
/// for each put it overwrites (a contact is put when it is created and again
/// when routing has placed it, often in one batch). What an overwritten put
/// alone would have broken (a unique email, say) is not checked: what it
/// wrote would not have survived the commit. Puts of one key from different
/// workspaces stay apart, so that the guard still refuses the stranger.
fn last_puts<'a, R: Record>(puts: &[&'a R]) -> Vec<&'a R> {
    let mut at = HashMap::with_capacity(puts.len());
    let mut out: Vec<&R> = Vec::with_capacity(puts.len());
    for put in puts {
        match at.entry((put.key(), put.workspace())) {
            Entry::Occupied(row) => out[*row.get()] = *put,
            Entry::Vacant(row) => {
                row.insert(out.len());
                out.push(*put);
            }
        }
    }
    out
}

/// Token changes, in their order: runs of puts and runs of deletes by hash
/// become one statement each; a user's tokens and a use are a statement
/// each (both are rare: an administrator's action, a token's first use in
/// a minute).
async fn write_tokens<'a>(
    w: &mut Statements<'_, 'a>,
    changes: &[TokenChange<'a>],
    shape: Shape,
    p: Placeholders,
) -> Result<(), StoreError> {
    let same = |a: &TokenChange<'_>, b: &TokenChange<'_>| std::mem::discriminant(a) == std::mem::discriminant(b);
    let mut rest = changes;
    while let Some(first) = rest.first() {
        let len = match first {
            TokenChange::Put(_) | TokenChange::Delete(_) => {
                rest.iter().position(|c| !same(c, first)).unwrap_or(rest.len())
            }
            _ => 1,
        };
        let (run, after) = rest.split_at(len);
        rest = after;
        match first {
            TokenChange::Put(_) => {
                let puts: Vec<&Token> =
                    run.iter().filter_map(|c| if let TokenChange::Put(t) = c { Some(*t) } else { None }).collect();
                puts.upsert(w, shape, p).await?;
            }
            TokenChange::Delete(_) => {
                let hashes: Vec<&[u8]> =
                    run.iter().filter_map(|c| if let TokenChange::Delete(h) = c { Some(*h) } else { None }).collect();
                for run in runs(&hashes, |_| None::<()>, shape.max_rows) {
                    // One row of `run.len()` parameters is the list.
                    let sql = format!("DELETE FROM tokens WHERE hash IN {}", p.rows(1, run.len()));
                    let run = run.to_vec();
                    w.run(Statement::new(sql, move |mut q| {
                        for hash in run {
                            q = q.bind(hash);
                        }
                        Ok(q)
                    }))
                    .await?;
                }
            }
            TokenChange::DeleteOf { workspace, user, kind } => {
                let sql = match kind {
                    None => "DELETE FROM tokens WHERE workspace_id = $1 AND user_id = $2",
                    Some(_) => "DELETE FROM tokens WHERE workspace_id = $1 AND user_id = $2 AND kind = $3",
                };
                let (workspace, user, kind) = (db_id(workspace.0)?, db_id(user.0)?, *kind);
                w.now(Statement::new(sql.into(), move |q| {
                    let q = q.bind(workspace).bind(user);
                    Ok(match kind {
                        Some(k) => q.bind(k.name()),
                        None => q,
                    })
                }))
                .await?;
            }
            TokenChange::Touch { hash, at } => {
                let (hash, at) = (*hash, at.0);
                w.now(Statement::new("UPDATE tokens SET last_used_at = $1 WHERE hash = $2".into(), move |q| {
                    Ok(q.bind(at).bind(hash))
                }))
                .await?;
            }
        }
    }
    Ok(())
}

/// The statement appending `events` (each with its batch), which returns
/// their ids.
fn append<'a>(events: &[(usize, &'a NewEvent)], p: Placeholders) -> Statement<'a> {
    let sql = format!(
        "INSERT INTO events (workspace_id, at, kind, contact_id, agent_id, queue_id, customer_id, payload) \
         VALUES {} RETURNING id",
        p.rows(events.len(), 8)
    );
    let batches = events.iter().map(|(batch, _)| *batch).collect();
    let events: Vec<&NewEvent> = events.iter().map(|(_, e)| *e).collect();
    Statement::new(sql, move |mut q| {
        for e in events {
            q = q
                .bind(db_id(e.workspace.0)?)
                .bind(e.at.0)
                .bind(e.kind.as_str())
                .bind(db_opt_id(e.contact.map(|x| x.0))?)
                .bind(db_opt_id(e.agent.map(|x| x.0))?)
                .bind(db_opt_id(e.queue.map(|x| x.0))?)
                .bind(db_opt_id(e.customer.map(|x| x.0))?)
                .bind(json(&e.payload)?);
        }
        Ok(q)
    })
    .check(Check::Ids(batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_powers_of_two_without_a_repeated_key() {
        let items = [1, 2, 3, 4, 5, 6, 2, 7, 8];
        let lens = |max| runs(&items, |i| Some(*i), max).iter().map(|r| r.to_vec()).collect::<Vec<_>>();
        assert_eq!(lens(256), vec![vec![1, 2, 3, 4], vec![5, 6], vec![2, 7], vec![8]]);
        assert_eq!(lens(2), vec![vec![1, 2], vec![3, 4], vec![5, 6], vec![2, 7], vec![8]]);
        assert_eq!(lens(1).len(), items.len());
        assert!(runs(&[] as &[u8], |_| None::<()>, 256).is_empty());
    }
}
