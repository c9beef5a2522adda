//! The reads, written once for both backends.
//!
//! Placeholders are `$1`-style, which SQLite and PostgreSQL both accept (a
//! number used twice is one parameter on both). Every query over tenant data
//! starts with `workspace_id = $1`, so no read can return another
//! workspace's rows. Text comparisons are byte-exact except the customer
//! search, which lower-cases both sides.

use crate::records::*;
use crate::rows::{self, Named, db_cursor, db_id, db_opt_id};
use crate::{Store, StoreError};
use std::sync::LazyLock;
use switchboard_core::ids::{ContactId, CustomerId, UserId, WorkspaceId};

// Column lists, as macros so that `concat!` can build whole statements at
// compile time. The decoders in `rows.rs` read these columns by name.
macro_rules! user_columns {
    () => {
        "id, workspace_id, email, name, role, password_hash, created_at, state"
    };
}
macro_rules! customer_columns {
    () => {
        "id, workspace_id, name, attributes, tags, merged_into, created_at"
    };
}
macro_rules! contact_columns {
    () => {
        "id, workspace_id, customer_id, channel, direction, queue_id, state, priority, attributes, agent_id, \
         enqueued_at, disposition, notes, created_at, updated_at, ended_at"
    };
}
macro_rules! event_columns {
    () => {
        "id, workspace_id, at, kind, contact_id, agent_id, queue_id, customer_id, payload"
    };
}

/// An SQL string literal. Only used for names that come from this crate.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Open contacts in restart order. The states are listed in the statement
/// from [`ContactState::is_open`], so that method stays the one definition.
static OPEN_CONTACTS: LazyLock<String> = LazyLock::new(|| {
    let open: Vec<String> = ContactState::ALL.iter().filter(|s| s.is_open()).map(|s| quoted(s.name())).collect();
    format!(
        concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE workspace_id = $1 AND state IN ({}) ORDER BY enqueued_at NULLS LAST, id"
        ),
        open.join(", ")
    )
});

/// A LIKE pattern matching `query` anywhere, case-insensitively; `%`, `_`
/// and the escape character itself match only themselves.
fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn limit(n: u32) -> i64 {
    i64::from(n)
}

const TOKEN_COLUMNS: &str = "hash, kind, workspace_id, user_id, name, created_at, expires_at, last_used_at";

impl Store {
    pub async fn workspaces(&self) -> Result<Vec<Workspace>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query("SELECT id, name, created_at FROM workspaces ORDER BY id").fetch_all(pool).await?;
        rows::all(&rows, rows::workspace)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(pool)
            .await?;
        row.as_ref().map(rows::user).transpose()
    }

    pub async fn users(&self, ws: WorkspaceId) -> Result<Vec<User>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE workspace_id = $1 ORDER BY id"))
            .bind(db_id(ws.0)?)
            .fetch_all(pool)
            .await?;
        rows::all(&rows, rows::user)
    }

    /// One user of `ws` (every request's authentication asks this, so it
    /// must not cost a read of all users).
    pub async fn user(&self, ws: WorkspaceId, id: UserId) -> Result<Option<User>, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1 AND workspace_id = $2"))
            .bind(db_id(id.0)?)
            .bind(db_id(ws.0)?)
            .fetch_optional(pool)
            .await?;
        row.as_ref().map(rows::user).transpose()
    }

    /// The token with this SHA-256 hash, if any (expired ones included: the
    /// caller decides).
    pub async fn token(&self, hash: &[u8]) -> Result<Option<Token>, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1"))
            .bind(hash)
            .fetch_optional(pool)
            .await?;
        row.as_ref().map(rows::token).transpose()
    }

    /// The workspace's API tokens (never sessions), oldest first.
    pub async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<Token>, StoreError> {
        let pool = &self.reads;
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE workspace_id = $1 AND kind = 'api' ORDER BY created_at, hash"
        );
        let rows = sqlx::query(&sql).bind(db_id(ws.0)?).fetch_all(pool).await?;
        rows::all(&rows, rows::token)
    }

    pub async fn skills(&self, ws: WorkspaceId) -> Result<Vec<Skill>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query("SELECT workspace_id, name FROM skills WHERE workspace_id = $1 ORDER BY name")
            .bind(db_id(ws.0)?)
            .fetch_all(pool)
            .await?;
        rows::all(&rows, rows::skill)
    }

    pub async fn policies(&self, ws: WorkspaceId) -> Result<Vec<PolicyRecord>, StoreError> {
        let pool = &self.reads;
        let rows =
            sqlx::query("SELECT id, workspace_id, name, steps FROM policies WHERE workspace_id = $1 ORDER BY id")
                .bind(db_id(ws.0)?)
                .fetch_all(pool)
                .await?;
        rows::all(&rows, rows::policy)
    }

    pub async fn queues(&self, ws: WorkspaceId) -> Result<Vec<QueueRecord>, StoreError> {
        let pool = &self.reads;
        let rows =
            sqlx::query("SELECT id, workspace_id, name, settings FROM queues WHERE workspace_id = $1 ORDER BY id")
                .bind(db_id(ws.0)?)
                .fetch_all(pool)
                .await?;
        rows::all(&rows, rows::queue)
    }

    pub async fn agents(&self, ws: WorkspaceId) -> Result<Vec<AgentRecord>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(
            "SELECT user_id, workspace_id, skills, capacity, memberships, wrap_up, presence
             FROM agents WHERE workspace_id = $1 ORDER BY user_id",
        )
        .bind(db_id(ws.0)?)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::agent)
    }

    pub async fn customer(&self, ws: WorkspaceId, id: CustomerId) -> Result<Option<CustomerRecord>, StoreError> {
        let pool = &self.reads;
        let row =
            sqlx::query(concat!("SELECT ", customer_columns!(), " FROM customers WHERE workspace_id = $1 AND id = $2"))
                .bind(db_id(ws.0)?)
                .bind(db_id(id.0)?)
                .fetch_optional(pool)
                .await?;
        row.as_ref().map(rows::customer).transpose()
    }

    pub async fn identities(&self, ws: WorkspaceId, customer: CustomerId) -> Result<Vec<Identity>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(
            "SELECT workspace_id, kind, value, customer_id FROM identities
             WHERE workspace_id = $1 AND customer_id = $2 ORDER BY kind, value",
        )
        .bind(db_id(ws.0)?)
        .bind(db_id(customer.0)?)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::identity)
    }

    pub async fn customer_by_identity(
        &self,
        ws: WorkspaceId,
        kind: IdentityKind,
        value: &str,
    ) -> Result<Option<CustomerRecord>, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE workspace_id = $1 AND id = \
             (SELECT customer_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3)"
        ))
        .bind(db_id(ws.0)?)
        .bind(kind.name())
        .bind(value)
        .fetch_optional(pool)
        .await?;
        row.as_ref().map(rows::customer).transpose()
    }

    /// Customers whose name, email or phone contains `query` (case-insensitive).
    pub async fn search_customers(
        &self,
        ws: WorkspaceId,
        query: &str,
        n: u32,
    ) -> Result<Vec<CustomerRecord>, StoreError> {
        let pool = &self.reads;
        // Lower-cased on both sides: SQLite's LIKE ignores ASCII case by itself,
        // PostgreSQL's does not, and so they agree. SQLite's LOWER folds ASCII
        // only, so there a non-ASCII letter matches only in the case given.
        let rows = sqlx::query(concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE workspace_id = $1 AND (LOWER(name) LIKE $2 ESCAPE '\\' OR id IN \
             (SELECT customer_id FROM identities WHERE workspace_id = $1 AND kind IN ('email', 'phone') \
             AND LOWER(value) LIKE $2 ESCAPE '\\')) ORDER BY id LIMIT $3"
        ))
        .bind(db_id(ws.0)?)
        .bind(contains_pattern(query))
        .bind(limit(n))
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::customer)
    }

    pub async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Option<ContactRecord>, StoreError> {
        let pool = &self.reads;
        let row =
            sqlx::query(concat!("SELECT ", contact_columns!(), " FROM contacts WHERE workspace_id = $1 AND id = $2"))
                .bind(db_id(ws.0)?)
                .bind(db_id(id.0)?)
                .fetch_optional(pool)
                .await?;
        row.as_ref().map(rows::contact).transpose()
    }

    /// Contacts matching `filter` with ids greater than `after`, ascending.
    pub async fn contacts(
        &self,
        ws: WorkspaceId,
        filter: &ContactFilter,
        after: Option<ContactId>,
        n: u32,
    ) -> Result<Vec<ContactRecord>, StoreError> {
        let pool = &self.reads;
        // One statement for every combination of filters: an absent filter is
        // bound as NULL and switches its condition off. The (workspace_id, id)
        // index serves the cursor either way.
        let rows = sqlx::query(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE workspace_id = $1 AND id > $2 \
             AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR channel = $4) AND ($5 IS NULL OR queue_id = $5) \
             AND ($6 IS NULL OR agent_id = $6) AND ($7 IS NULL OR customer_id = $7) \
             ORDER BY id LIMIT $8"
        ))
        .bind(db_id(ws.0)?)
        // Ids are unsigned, so -1 is below all of them.
        .bind(after.map_or(-1, |a| db_cursor(a.0)))
        .bind(filter.state.map(Named::name))
        .bind(filter.channel.map(Named::name))
        .bind(db_opt_id(filter.queue.map(|q| q.0))?)
        .bind(db_opt_id(filter.agent.map(|a| a.0))?)
        .bind(db_opt_id(filter.customer.map(|c| c.0))?)
        .bind(limit(n))
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::contact)
    }

    /// Contacts still routed or handled, by (enqueued_at, id): the engine's
    /// state after a restart.
    pub async fn open_contacts(&self, ws: WorkspaceId) -> Result<Vec<ContactRecord>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(OPEN_CONTACTS.as_str()).bind(db_id(ws.0)?).fetch_all(pool).await?;
        rows::all(&rows, rows::contact)
    }

    /// Events with ids greater than `after`, ascending.
    pub async fn events(&self, ws: WorkspaceId, after: u64, n: u32) -> Result<Vec<LoggedEvent>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(db_id(ws.0)?)
        .bind(db_cursor(after))
        .bind(limit(n))
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::event)
    }

    /// Events of one kind, ids greater than `after`, ascending.
    pub async fn events_of_kind(
        &self,
        ws: WorkspaceId,
        kind: &str,
        after: u64,
        n: u32,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE workspace_id = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(db_id(ws.0)?)
        .bind(kind)
        .bind(db_cursor(after))
        .bind(limit(n))
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::event)
    }

    /// Events of one customer's contacts (and the customer itself), oldest first: the timeline.
    pub async fn customer_events(&self, ws: WorkspaceId, customer: CustomerId) -> Result<Vec<LoggedEvent>, StoreError> {
        let pool = &self.reads;
        // Events name the customer directly once it is known; earlier ones (the
        // contact arrived before it was matched to anybody) only name the
        // contact, which is linked through the contacts table.
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE workspace_id = $1 AND (customer_id = $2 OR contact_id IN \
             (SELECT id FROM contacts WHERE workspace_id = $1 AND customer_id = $2)) ORDER BY id"
        ))
        .bind(db_id(ws.0)?)
        .bind(db_id(customer.0)?)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::event)
    }

    /// One contact's events, optionally of one kind only, oldest first.
    pub async fn contact_events(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        kind: Option<&str>,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let pool = &self.reads;
        // As in `contacts`, an absent kind is bound as NULL and switches its
        // condition off; (workspace_id, contact_id, id) serves both.
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE workspace_id = $1 AND contact_id = $2 AND ($3 IS NULL OR kind = $3) ORDER BY id"
        ))
        .bind(db_id(ws.0)?)
        .bind(db_id(contact.0)?)
        .bind(kind)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, rows::event)
    }

    pub async fn max_ids(&self) -> Result<MaxIds, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(
            "SELECT
                 (SELECT COALESCE(MAX(id), 0) FROM workspaces) AS workspaces,
                 (SELECT COALESCE(MAX(id), 0) FROM users) AS users,
                 (SELECT COALESCE(MAX(id), 0) FROM policies) AS policies,
                 (SELECT COALESCE(MAX(id), 0) FROM queues) AS queues,
                 (SELECT COALESCE(MAX(id), 0) FROM customers) AS customers,
                 (SELECT COALESCE(MAX(id), 0) FROM contacts) AS contacts,
                 (SELECT COALESCE(MAX(m), 0) FROM (SELECT MAX(id) AS m FROM webhooks
                  UNION ALL SELECT MAX(webhook_id) FROM webhook_deliveries) AS w) AS webhooks,
                 (SELECT COALESCE(MAX(m), 0) FROM (SELECT MAX(id) AS m FROM documents
                  UNION ALL SELECT id FROM retired_ids WHERE kind = 'document') AS d) AS documents,
                 (SELECT COALESCE(MAX(m), 0) FROM (SELECT MAX(id) AS m FROM articles
                  UNION ALL SELECT id FROM retired_ids WHERE kind = 'article') AS a) AS articles,
                 (SELECT COALESCE(MAX(id), 0) FROM attachments) AS attachments,
                 (SELECT COALESCE(MAX(m), 0) FROM (SELECT MAX(id) AS m FROM endpoints
                  UNION ALL SELECT id FROM retired_ids WHERE kind = 'endpoint') AS e) AS endpoints",
        )
        .fetch_one(pool)
        .await?;
        rows::max_ids(&row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_a_search_match_only_themselves() {
        assert_eq!(contains_pattern("Ab"), "%ab%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn open_contacts_lists_exactly_the_open_states() {
        let sql = OPEN_CONTACTS.as_str();
        for s in ContactState::ALL {
            assert_eq!(sql.contains(&quoted(s.name())), s.is_open(), "{s:?}");
        }
    }
}
