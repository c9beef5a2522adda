//! Outbound webhooks and their delivery log: how they are written (as the
//! other tables, by upsert; a webhook's delete, see `edits`, also takes its
//! log) and read (always within one workspace).

use crate::edits::Deletable;
use crate::records::*;
use crate::rows::{self, db_id, doc, get, id, json, time};
use crate::tables::{Query, Record, Table};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use switchboard_core::ids::{UserId, WorkspaceId};

impl Record for Webhook {
    const TABLE: Table = Table {
        name: "webhooks",
        columns: &["id", "workspace_id", "url", "events", "secret", "created_by", "created_at"],
        key: &["id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id)?)
            .bind(db_id(self.workspace.0)?)
            .bind(self.url.as_str())
            .bind(json(&self.events)?)
            .bind(self.secret.as_str())
            .bind(db_id(self.created_by.0)?)
            .bind(self.created_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("webhook {} in another workspace", self.id)
    }
}

impl Deletable for Webhook {
    type Gone<'a> = (WorkspaceId, u64);

    /// A webhook goes with its delivery log.
    const DELETE: &'static [&'static str] = &[
        "DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2",
        "DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND webhook_id = $2",
    ];

    fn bind_gone<'q>((ws, id): (WorkspaceId, u64), q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(ws.0)?).bind(db_id(id)?))
    }
}

impl Record for Delivery {
    const TABLE: Table = Table {
        name: "webhook_deliveries",
        columns: &["delivery_id", "attempt", "workspace_id", "webhook_id", "event_id", "kind", "status", "error", "at"],
        key: &["delivery_id", "attempt"],
        guarded: true,
    };
    type Key<'k> = (&'k str, u32);

    fn key(&self) -> (&str, u32) {
        (&self.delivery, self.attempt)
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(self.delivery.as_str())
            .bind(i64::from(self.attempt))
            .bind(db_id(self.workspace.0)?)
            .bind(db_id(self.webhook)?)
            .bind(db_id(self.event)?)
            .bind(self.kind.as_str())
            .bind(self.status.map(i64::from))
            .bind(self.error.as_deref())
            .bind(self.at.0))
    }

    fn elsewhere(&self) -> String {
        format!("delivery {} in another workspace", self.delivery)
    }
}

fn webhook(row: &AnyRow) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: id(row, "id")?,
        workspace: WorkspaceId(id(row, "workspace_id")?),
        url: get(row, "url")?,
        events: doc(row, "events")?,
        secret: get(row, "secret")?,
        created_by: UserId(id(row, "created_by")?),
        created_at: time(row, "created_at")?,
    })
}

fn delivery(row: &AnyRow) -> Result<Delivery, StoreError> {
    let attempt: i64 = get(row, "attempt")?;
    let status: Option<i64> = get(row, "status")?;
    Ok(Delivery {
        delivery: get(row, "delivery_id")?,
        attempt: u32::try_from(attempt)
            .map_err(|_| StoreError::Corrupt(format!("column attempt: {attempt} is out of range")))?,
        workspace: WorkspaceId(id(row, "workspace_id")?),
        webhook: id(row, "webhook_id")?,
        event: id(row, "event_id")?,
        kind: get(row, "kind")?,
        status: status
            .map(|s| u16::try_from(s).map_err(|_| StoreError::Corrupt(format!("column status: {s} is out of range"))))
            .transpose()?,
        error: get(row, "error")?,
        at: time(row, "at")?,
    })
}

impl Store {
    /// The workspace's outbound webhooks, by id.
    pub async fn webhooks(&self, ws: WorkspaceId) -> Result<Vec<Webhook>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(
            "SELECT id, workspace_id, url, events, secret, created_by, created_at
             FROM webhooks WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(db_id(ws.0)?)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, webhook)
    }

    /// A webhook's delivery attempts, newest first.
    pub async fn deliveries(&self, ws: WorkspaceId, webhook: u64, n: u32) -> Result<Vec<Delivery>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(
            "SELECT delivery_id, attempt, workspace_id, webhook_id, event_id, kind, status, error, at
             FROM webhook_deliveries WHERE workspace_id = $1 AND webhook_id = $2
             ORDER BY at DESC, event_id DESC, attempt DESC LIMIT $3",
        )
        .bind(db_id(ws.0)?)
        .bind(db_id(webhook)?)
        .bind(i64::from(n))
        .fetch_all(pool)
        .await?;
        rows::all(&rows, delivery)
    }
}
