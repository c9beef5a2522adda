//! Endpoints: written by upsert and delete (see `edits`), read within one
//! workspace, or across all of them by id or by address — which is how an
//! inbound call, mail or webhook finds the workspace it belongs to.

use crate::edits::{Deletable, retire};
use crate::records::EndpointRecord;
use crate::rows::{self, Named, db_id, db_opt_id, doc, flag, get, id, opt_id, time};
use crate::tables::{Query, Record, Table};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{EndpointId, QueueId, WorkspaceId};

impl Record for EndpointRecord {
    const TABLE: Table = Table {
        name: "endpoints",
        columns: &[
            "id",
            "workspace_id",
            "channel",
            "name",
            "address",
            "queue_id",
            "flow_id",
            "business_hours_id",
            "enabled",
            "settings",
            "secrets",
            "created_at",
            "updated_at",
        ],
        key: &["id"],
        guarded: true,
    };
    type Key<'k> = u64;

    fn key(&self) -> u64 {
        self.id.0
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.id.0)?)
            .bind(db_id(self.workspace.0)?)
            .bind(self.channel.name())
            .bind(self.name.as_str())
            .bind(self.address.as_deref())
            .bind(db_opt_id(self.queue.map(|q| q.0))?)
            .bind(db_opt_id(self.flow)?)
            .bind(db_opt_id(self.business_hours)?)
            .bind(self.enabled)
            .bind(rows::json(&self.settings)?)
            .bind(self.secrets.as_slice())
            .bind(self.created_at.0)
            .bind(self.updated_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("endpoint {} in another workspace", self.id.0)
    }

    /// The id is the conflict target, so the only uniqueness left to break
    /// is the address's on its channel.
    fn taken(&self) -> Option<String> {
        Some(format!("{} address '{}'", self.channel, self.address.as_deref().unwrap_or_default()))
    }
}

impl Deletable for EndpointRecord {
    type Gone<'a> = (WorkspaceId, EndpointId);

    const DELETE: &'static [&'static str] = &[
        retire!("endpoint", "endpoints", "workspace_id = $1 AND id = $2"),
        "DELETE FROM endpoints WHERE workspace_id = $1 AND id = $2",
    ];

    fn bind_gone<'q>((ws, id): (WorkspaceId, EndpointId), q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(ws.0)?).bind(db_id(id.0)?))
    }
}

macro_rules! endpoint_columns {
    () => {
        "id, workspace_id, channel, name, address, queue_id, flow_id, business_hours_id, enabled, settings, \
         secrets, created_at, updated_at"
    };
}

fn endpoint_row(row: &AnyRow) -> Result<EndpointRecord, StoreError> {
    let channel: String = get(row, "channel")?;
    Ok(EndpointRecord {
        id: EndpointId(id(row, "id")?),
        workspace: WorkspaceId(id(row, "workspace_id")?),
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Corrupt(format!("column channel: unknown channel '{channel}'")))?,
        name: get(row, "name")?,
        address: get(row, "address")?,
        queue: opt_id(row, "queue_id")?.map(QueueId),
        flow: opt_id(row, "flow_id")?,
        business_hours: opt_id(row, "business_hours_id")?,
        enabled: flag(row, "enabled")?,
        settings: doc(row, "settings")?,
        secrets: get(row, "secrets")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// The workspace's endpoints, by id.
    pub async fn endpoints(&self, ws: WorkspaceId) -> Result<Vec<EndpointRecord>, StoreError> {
        let rows =
            sqlx::query(concat!("SELECT ", endpoint_columns!(), " FROM endpoints WHERE workspace_id = $1 ORDER BY id"))
                .bind(db_id(ws.0)?)
                .fetch_all(&self.reads)
                .await?;
        rows::all(&rows, endpoint_row)
    }

    /// Every endpoint of every workspace, by id: what a server indexes at
    /// start to route inbound traffic.
    pub async fn all_endpoints(&self) -> Result<Vec<EndpointRecord>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", endpoint_columns!(), " FROM endpoints ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        rows::all(&rows, endpoint_row)
    }

    /// The endpoint `id` names, whichever workspace it is in: a provider's
    /// webhook (`/hooks/{id}`) names nothing else.
    pub async fn endpoint(&self, id: EndpointId) -> Result<Option<EndpointRecord>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", endpoint_columns!(), " FROM endpoints WHERE id = $1"))
            .bind(db_id(id.0)?)
            .fetch_optional(&self.reads)
            .await?;
        row.as_ref().map(endpoint_row).transpose()
    }

    /// The endpoint with `address` on `channel`, whichever workspace it is
    /// in: how an inbound call or mail finds where it belongs. Exact match:
    /// the service normalises addresses before storing and before asking.
    pub async fn endpoint_by_address(
        &self,
        channel: Channel,
        address: &str,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let row =
            sqlx::query(concat!("SELECT ", endpoint_columns!(), " FROM endpoints WHERE channel = $1 AND address = $2"))
                .bind(channel.name())
                .bind(address)
                .fetch_optional(&self.reads)
                .await?;
        row.as_ref().map(endpoint_row).transpose()
    }
}
