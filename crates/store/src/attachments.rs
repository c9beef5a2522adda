//! Chat attachments: written by upsert like the other tables, read one at a
//! time within one workspace. The bytes are a BLOB on SQLite and a BYTEA on
//! PostgreSQL, which the `Any` driver passes through alike.

use crate::records::Attachment;
use crate::rows::{db_id, get, id, time};
use crate::tables::{Query, Record, Table};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use switchboard_core::ids::{ContactId, WorkspaceId};

impl Record for Attachment {
    const TABLE: Table = Table {
        name: "attachments",
        columns: &["id", "workspace_id", "contact_id", "name", "content_type", "bytes", "created_at"],
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
            .bind(db_id(self.contact.0)?)
            .bind(self.name.as_str())
            .bind(self.content_type.as_str())
            .bind(self.bytes.as_slice())
            .bind(self.created_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("attachment {} in another workspace", self.id)
    }
}

fn attachment_row(row: &AnyRow) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        workspace: WorkspaceId(id(row, "workspace_id")?),
        id: id(row, "id")?,
        contact: ContactId(id(row, "contact_id")?),
        name: get(row, "name")?,
        content_type: get(row, "content_type")?,
        bytes: get(row, "bytes")?,
        created_at: time(row, "created_at")?,
    })
}

impl Store {
    pub async fn attachment(&self, ws: WorkspaceId, id: u64) -> Result<Option<Attachment>, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(
            "SELECT id, workspace_id, contact_id, name, content_type, bytes, created_at
             FROM attachments WHERE workspace_id = $1 AND id = $2",
        )
        .bind(db_id(ws.0)?)
        .bind(db_id(id)?)
        .fetch_optional(pool)
        .await?;
        row.as_ref().map(attachment_row).transpose()
    }
}
