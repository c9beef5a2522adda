//! The tables the writer upserts into: columns, key, guard, and how each
//! record binds to its columns. The statements themselves are built here,
//! once for both backends.

use crate::StoreError;
use crate::apply::Placeholders;
use crate::edits::Deletable;
use crate::records::*;
use crate::rows::{Named, db_id, db_opt_id, json};
use sqlx::Any;
use sqlx::any::AnyArguments;
use std::hash::Hash;
use switchboard_core::ids::WorkspaceId;

pub(crate) type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

/// A table written by upserts.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [&'static str],
    /// The conflict target: the record's key.
    pub(crate) key: &'static [&'static str],
    /// Whether an existing row is only updated from its own workspace.
    pub(crate) guarded: bool,
}

impl Table {
    /// `INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE SET …` for `rows`
    /// rows, numbering the placeholders row after row.
    pub(crate) fn upsert_sql(&self, rows: usize, p: Placeholders) -> String {
        // The workspace is never updated: guarded, it is equal already.
        let updates: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !self.key.contains(c) && **c != "workspace_id")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let action = if updates.is_empty() {
            "DO NOTHING".to_string()
        } else if self.guarded {
            format!("DO UPDATE SET {} WHERE {}.workspace_id = excluded.workspace_id", updates.join(", "), self.name)
        } else {
            format!("DO UPDATE SET {}", updates.join(", "))
        };
        format!(
            "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) {action}",
            self.name,
            self.columns.join(", "),
            p.rows(rows, self.columns.len()),
            self.key.join(", ")
        )
    }
}

/// A record kept by upsert.
pub(crate) trait Record {
    const TABLE: Table;
    type Key<'k>: Eq + Hash
    where
        Self: 'k;

    fn key(&self) -> Self::Key<'_>;

    /// The workspace the row belongs to (a workspace's own row: itself).
    /// Two puts of one key in a group are merged only when they agree on
    /// it, so that a guarded put from another workspace is still refused.
    fn workspace(&self) -> WorkspaceId;

    /// Binds the columns of [`Record::TABLE`], in order.
    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError>;

    /// What a guarded upsert that changed nothing reports.
    fn elsewhere(&self) -> String;

    /// What a broken uniqueness other than the key's reports, if the record
    /// has such a constraint.
    fn taken(&self) -> Option<String> {
        None
    }
}

impl Record for Workspace {
    const TABLE: Table =
        Table { name: "workspaces", columns: &["id", "name", "created_at"], key: &["id"], guarded: false };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.id
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?).bind(self.name.as_str()).bind(self.created_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("workspace {}", self.id)
    }
}

impl Record for User {
    const TABLE: Table = Table {
        name: "users",
        columns: &["id", "workspace_id", "email", "name", "role", "password_hash", "created_at", "state"],
        key: &["id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?)
            .bind(db_id(self.workspace.0)?)
            .bind(self.email.as_str())
            .bind(self.name.as_str())
            .bind(self.role.name())
            .bind(self.password_hash.as_str())
            .bind(self.created_at.0)
            .bind(self.state.name()))
    }

    fn elsewhere(&self) -> String {
        format!("user {} in another workspace", self.id)
    }

    /// The id is the conflict target, so the only uniqueness left to break
    /// is the email's.
    fn taken(&self) -> Option<String> {
        Some(format!("email {}", self.email))
    }
}

impl Record for Token {
    const TABLE: Table = Table {
        name: "tokens",
        columns: &["hash", "kind", "workspace_id", "user_id", "name", "created_at", "expires_at"],
        key: &["hash"],
        guarded: true,
    };
    type Key<'k> = &'k [u8];

    fn key(&self) -> &[u8] {
        &self.hash
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(self.hash.as_slice())
            .bind(self.kind.name())
            .bind(db_id(self.workspace.0)?)
            .bind(db_id(self.user.0)?)
            .bind(self.name.as_str())
            .bind(self.created_at.0)
            .bind(self.expires_at.map(|t| t.0)))
    }

    fn elsewhere(&self) -> String {
        // The hash is a secret's digest: it stays out of messages.
        "token in another workspace".to_string()
    }
}

impl Record for Skill {
    const TABLE: Table = Table {
        name: "skills",
        columns: &["workspace_id", "name"],
        // The key is the whole record: putting it again changes nothing.
        key: &["workspace_id", "name"],
        guarded: false,
    };
    type Key<'k> = (u64, &'k str);

    fn key(&self) -> (u64, &str) {
        (self.workspace.0, &self.name)
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.workspace.0)?).bind(self.name.as_str()))
    }

    fn elsewhere(&self) -> String {
        format!("skill {}", self.name)
    }
}

impl Record for PolicyRecord {
    const TABLE: Table =
        Table { name: "policies", columns: &["id", "workspace_id", "name", "steps"], key: &["id"], guarded: true };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?).bind(db_id(self.workspace.0)?).bind(self.name.as_str()).bind(json(&self.steps)?))
    }

    fn elsewhere(&self) -> String {
        format!("policy {} in another workspace", self.id)
    }
}

impl Record for QueueRecord {
    const TABLE: Table =
        Table { name: "queues", columns: &["id", "workspace_id", "name", "settings"], key: &["id"], guarded: true };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?)
            .bind(db_id(self.workspace.0)?)
            .bind(self.name.as_str())
            .bind(json(&self.settings)?))
    }

    fn elsewhere(&self) -> String {
        format!("queue {} in another workspace", self.id)
    }
}

impl Record for AgentRecord {
    const TABLE: Table = Table {
        name: "agents",
        columns: &["user_id", "workspace_id", "skills", "capacity", "memberships", "wrap_up", "presence"],
        key: &["user_id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.user.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.user.0)?)
            .bind(db_id(self.workspace.0)?)
            .bind(json(&self.skills)?)
            .bind(json(&self.capacity)?)
            .bind(json(&self.memberships)?)
            .bind(self.wrap_up.as_ref().map(json).transpose()?)
            .bind(json(&self.presence)?))
    }

    fn elsewhere(&self) -> String {
        format!("agent {} in another workspace", self.user)
    }
}

impl Record for CustomerRecord {
    const TABLE: Table = Table {
        name: "customers",
        columns: &["id", "workspace_id", "name", "attributes", "tags", "merged_into", "created_at"],
        key: &["id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?)
            .bind(db_id(self.workspace.0)?)
            .bind(self.name.as_str())
            .bind(json(&self.attributes)?)
            .bind(json(&self.tags)?)
            .bind(db_opt_id(self.merged_into.map(|m| m.0))?)
            .bind(self.created_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("customer {} in another workspace", self.id)
    }
}

impl Record for Identity {
    // The workspace is part of the key: an identity is never shared across
    // tenants, and giving it to another customer is an update.
    const TABLE: Table = Table {
        name: "identities",
        columns: &["workspace_id", "kind", "value", "customer_id"],
        key: &["workspace_id", "kind", "value"],
        guarded: false,
    };
    type Key<'k> = (u64, IdentityKind, &'k str);

    fn key(&self) -> (u64, IdentityKind, &str) {
        (self.workspace.0, self.kind, &self.value)
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.workspace.0)?)
            .bind(self.kind.name())
            .bind(self.value.as_str())
            .bind(db_id(self.customer.0)?))
    }

    fn elsewhere(&self) -> String {
        format!("identity {}", self.value)
    }
}

impl Deletable for Identity {
    type Gone<'a> = (WorkspaceId, IdentityKind, &'a str);

    const DELETE: &'static [&'static str] =
        &["DELETE FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3"];

    fn bind_gone<'q>(
        (ws, kind, value): (WorkspaceId, IdentityKind, &'q str),
        q: Query<'q>,
    ) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(ws.0)?).bind(kind.name()).bind(value))
    }
}

impl Record for ContactRecord {
    const TABLE: Table = Table {
        name: "contacts",
        columns: &[
            "id",
            "workspace_id",
            "customer_id",
            "channel",
            "direction",
            "queue_id",
            "state",
            "priority",
            "attributes",
            "agent_id",
            "enqueued_at",
            "disposition",
            "notes",
            "created_at",
            "updated_at",
            "ended_at",
        ],
        key: &["id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?)
            .bind(db_id(self.workspace.0)?)
            .bind(db_opt_id(self.customer.map(|x| x.0))?)
            .bind(self.channel.name())
            .bind(self.direction.name())
            .bind(db_opt_id(self.queue.map(|x| x.0))?)
            .bind(self.state.name())
            .bind(i64::from(self.priority))
            .bind(json(&self.attributes)?)
            .bind(db_opt_id(self.agent.map(|x| x.0))?)
            .bind(self.enqueued_at.map(|t| t.0))
            .bind(self.disposition.as_deref())
            .bind(self.notes.as_deref())
            .bind(self.created_at.0)
            .bind(self.updated_at.0)
            .bind(self.ended_at.map(|t| t.0)))
    }

    fn elsewhere(&self) -> String {
        format!("contact {} in another workspace", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_update_everything_but_key_and_workspace() {
        let sql = <Skill as Record>::TABLE.upsert_sql(1, Placeholders::Numbered);
        assert!(sql.ends_with("ON CONFLICT (workspace_id, name) DO NOTHING"), "{sql}");
        let sql = <QueueRecord as Record>::TABLE.upsert_sql(2, Placeholders::Numbered);
        assert_eq!(
            sql,
            "INSERT INTO queues (id, workspace_id, name, settings) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, settings = excluded.settings \
             WHERE queues.workspace_id = excluded.workspace_id"
        );
        assert_eq!(Placeholders::Anonymous.rows(2, 2), "(?, ?), (?, ?)");
    }
}
