//! How values cross the database boundary, the same on both backends.
//!
//! Ids and times are 64-bit integers, JSON documents are text, enums are
//! text holding the same names serde gives them (so that the database reads
//! like the API), bytes are BLOB / BYTEA, booleans BOOLEAN on PostgreSQL
//! and 0 or 1 on SQLite (see [`flag`]). Everything read back is checked: a value that does not
//! decode is reported as [`StoreError::Corrupt`], never unwrapped.

use crate::StoreError;
use crate::records::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{Any, Decode, Row, Type, ValueRef};
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, CustomerId, PolicyId, QueueId, UserId, WorkspaceId};
use switchboard_core::time::Timestamp;

/// An enum stored as text under its serde name.
pub(crate) trait Named: Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == s)
    }
}

/// Implements [`Named`] from one list, so that `ALL` and `name` cannot
/// disagree; the match in `name` has no wildcard, so a new variant fails to
/// compile here instead of being stored under no name.
macro_rules! named {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl Named for $ty {
            const ALL: &'static [Self] = &[$($ty::$variant),*];
            fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }
        }
    };
}

named!(Role { Agent => "agent", Supervisor => "supervisor", Admin => "admin" });
named!(UserState { Active => "active", Disabled => "disabled", Deleted => "deleted" });
named!(TokenKind { Session => "session", Api => "api" });
named!(IdentityKind { Phone => "phone", Email => "email", Visitor => "visitor", Handle => "handle" });
named!(Direction { Inbound => "inbound", Outbound => "outbound" });
named!(ContactState {
    New => "new",
    Queued => "queued",
    Offered => "offered",
    Connected => "connected",
    WrapUp => "wrap_up",
    Completed => "completed",
    Abandoned => "abandoned",
    Contained => "contained",
    CallbackScheduled => "callback_scheduled",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl Named for Channel {
    const ALL: &'static [Self] = &Channel::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

// ---- writing ----

/// An id as the database keeps it. Ids are dense counters, so one beyond
/// `i64::MAX` is a bug upstream; it is refused rather than wrapped.
pub(crate) fn db_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::Corrupt(format!("id {id} does not fit a 64-bit signed column")))
}

pub(crate) fn db_opt_id(id: Option<u64>) -> Result<Option<i64>, StoreError> {
    id.map(db_id).transpose()
}

/// A cursor (`after`) as the database compares it: one beyond every id
/// simply finds nothing.
pub(crate) fn db_cursor(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

// ---- reading ----

/// One column of a row, any decoding failure reported as corruption.
pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(column).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

pub(crate) fn id(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let v: i64 = get(row, column)?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {column}: negative id {v}")))
}

pub(crate) fn opt_id(row: &AnyRow, column: &str) -> Result<Option<u64>, StoreError> {
    let v: Option<i64> = get(row, column)?;
    v.map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {column}: negative id {v}"))))
        .transpose()
}

/// A boolean: BOOLEAN on PostgreSQL, INTEGER 0 or 1 on SQLite (where the
/// `Any` driver refuses a column declared BOOLEAN), so either is read.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    let raw = row.try_get_raw(column).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))?;
    if raw.type_info().kind() == AnyTypeInfoKind::Bool {
        get(row, column)
    } else {
        match get::<i64>(row, column)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(StoreError::Corrupt(format!("column {column}: {v} is not a boolean"))),
        }
    }
}

pub(crate) fn time(row: &AnyRow, column: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp(get(row, column)?))
}

fn opt_time(row: &AnyRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(get::<Option<i64>>(row, column)?.map(Timestamp))
}

fn named<T: Named>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let s: String = get(row, column)?;
    T::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("column {column}: unknown value '{s}'")))
}

pub(crate) fn doc<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let s: String = get(row, column)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

fn opt_doc<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<Option<T>, StoreError> {
    let s: Option<String> = get(row, column)?;
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))).transpose()
}

// The decoders below read the columns listed in `queries.rs`, by name.

pub(crate) fn workspace(row: &AnyRow) -> Result<Workspace, StoreError> {
    Ok(Workspace { id: WorkspaceId(id(row, "id")?), name: get(row, "name")?, created_at: time(row, "created_at")? })
}

pub(crate) fn user(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(id(row, "id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        email: get(row, "email")?,
        name: get(row, "name")?,
        role: named(row, "role")?,
        password_hash: get(row, "password_hash")?,
        created_at: time(row, "created_at")?,
        state: named(row, "state")?,
    })
}

pub(crate) fn token(row: &AnyRow) -> Result<Token, StoreError> {
    Ok(Token {
        hash: get(row, "hash")?,
        kind: named(row, "kind")?,
        workspace: WorkspaceId(id(row, "workspace_id")?),
        user: UserId(id(row, "user_id")?),
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
        expires_at: opt_time(row, "expires_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
    })
}

pub(crate) fn skill(row: &AnyRow) -> Result<Skill, StoreError> {
    Ok(Skill { workspace: WorkspaceId(id(row, "workspace_id")?), name: get(row, "name")? })
}

pub(crate) fn policy(row: &AnyRow) -> Result<PolicyRecord, StoreError> {
    Ok(PolicyRecord {
        id: PolicyId(id(row, "id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        steps: doc(row, "steps")?,
    })
}

pub(crate) fn queue(row: &AnyRow) -> Result<QueueRecord, StoreError> {
    Ok(QueueRecord {
        id: QueueId(id(row, "id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        settings: doc(row, "settings")?,
    })
}

pub(crate) fn agent(row: &AnyRow) -> Result<AgentRecord, StoreError> {
    Ok(AgentRecord {
        user: UserId(id(row, "user_id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        skills: doc(row, "skills")?,
        capacity: doc(row, "capacity")?,
        memberships: doc(row, "memberships")?,
        wrap_up: opt_doc(row, "wrap_up")?,
        presence: doc(row, "presence")?,
    })
}

pub(crate) fn customer(row: &AnyRow) -> Result<CustomerRecord, StoreError> {
    Ok(CustomerRecord {
        id: CustomerId(id(row, "id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        attributes: doc(row, "attributes")?,
        tags: doc(row, "tags")?,
        merged_into: opt_id(row, "merged_into")?.map(CustomerId),
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn identity(row: &AnyRow) -> Result<Identity, StoreError> {
    Ok(Identity {
        workspace: WorkspaceId(id(row, "workspace_id")?),
        customer: CustomerId(id(row, "customer_id")?),
        kind: named(row, "kind")?,
        value: get(row, "value")?,
    })
}

pub(crate) fn contact(row: &AnyRow) -> Result<ContactRecord, StoreError> {
    let priority: i64 = get(row, "priority")?;
    Ok(ContactRecord {
        id: ContactId(id(row, "id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        customer: opt_id(row, "customer_id")?.map(CustomerId),
        channel: named(row, "channel")?,
        direction: named(row, "direction")?,
        queue: opt_id(row, "queue_id")?.map(QueueId),
        state: named(row, "state")?,
        priority: i32::try_from(priority)
            .map_err(|_| StoreError::Corrupt(format!("column priority: {priority} is out of range")))?,
        attributes: doc(row, "attributes")?,
        agent: opt_id(row, "agent_id")?.map(UserId),
        enqueued_at: opt_time(row, "enqueued_at")?,
        disposition: get(row, "disposition")?,
        notes: get(row, "notes")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        ended_at: opt_time(row, "ended_at")?,
    })
}

pub(crate) fn event(row: &AnyRow) -> Result<LoggedEvent, StoreError> {
    Ok(LoggedEvent {
        id: id(row, "id")?,
        workspace: WorkspaceId(id(row, "workspace_id")?),
        at: time(row, "at")?,
        kind: get(row, "kind")?,
        contact: opt_id(row, "contact_id")?.map(ContactId),
        agent: opt_id(row, "agent_id")?.map(UserId),
        queue: opt_id(row, "queue_id")?.map(QueueId),
        customer: opt_id(row, "customer_id")?.map(CustomerId),
        payload: doc(row, "payload")?,
    })
}

pub(crate) fn max_ids(row: &AnyRow) -> Result<MaxIds, StoreError> {
    Ok(MaxIds {
        workspace: id(row, "workspaces")?,
        user: id(row, "users")?,
        policy: id(row, "policies")?,
        queue: id(row, "queues")?,
        customer: id(row, "customers")?,
        contact: id(row, "contacts")?,
        webhook: id(row, "webhooks")?,
        document: id(row, "documents")?,
        article: id(row, "articles")?,
        attachment: id(row, "attachments")?,
        endpoint: id(row, "endpoints")?,
    })
}

/// A whole result set through one decoder.
pub(crate) fn all<T>(rows: &[AnyRow], decode: fn(&AnyRow) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(decode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored names are the serde names, so the database and the API
    /// spell every value alike.
    fn names_match_serde<T: Named + Serialize>() {
        for v in T::ALL {
            assert_eq!(serde_json::to_value(v).ok(), Some(serde_json::Value::from(v.name())));
            assert!(T::parse(v.name()).is_some_and(|p| p.name() == v.name()));
        }
    }

    #[test]
    fn stored_names_are_serde_names() {
        names_match_serde::<Role>();
        names_match_serde::<TokenKind>();
        names_match_serde::<UserState>();
        names_match_serde::<IdentityKind>();
        names_match_serde::<Direction>();
        names_match_serde::<ContactState>();
        names_match_serde::<Channel>();
    }

    #[test]
    fn ids_beyond_the_column_are_refused() {
        assert!(db_id(i64::MAX as u64).is_ok());
        assert!(matches!(db_id(u64::MAX), Err(StoreError::Corrupt(_))));
        assert_eq!(db_cursor(u64::MAX), i64::MAX);
    }
}
