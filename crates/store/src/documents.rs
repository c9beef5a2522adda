//! Configuration documents: written by upsert and delete (see `edits`),
//! read by kind within one workspace.

use crate::edits::{Deletable, retire};
use crate::records::Document;
use crate::rows::{self, db_id, doc, get, id, json, time};
use crate::tables::{Query, Record, Table};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use switchboard_core::ids::WorkspaceId;

impl Record for Document {
    // The workspace is part of the key, as for identities: the same key put
    // from another workspace is another row, so there is nothing to guard.
    const TABLE: Table = Table {
        name: "documents",
        columns: &["workspace_id", "kind", "id", "body", "updated_at"],
        key: &["workspace_id", "kind", "id"],
        guarded: false,
    };
    type Key<'k> = (u64, &'k str, u64);

    fn key(&self) -> (u64, &str, u64) {
        (self.workspace.0, &self.kind, self.id)
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.workspace.0)?)
            .bind(self.kind.as_str())
            .bind(db_id(self.id)?)
            .bind(json(&self.body)?)
            .bind(self.updated_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("{} {}", self.kind, self.id)
    }
}

impl Deletable for Document {
    type Gone<'a> = (WorkspaceId, &'a str, u64);

    const DELETE: &'static [&'static str] = &[
        retire!("document", "documents", "workspace_id = $1 AND kind = $2 AND id = $3"),
        "DELETE FROM documents WHERE workspace_id = $1 AND kind = $2 AND id = $3",
    ];

    fn bind_gone<'q>((ws, kind, id): (WorkspaceId, &'q str, u64), q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(ws.0)?).bind(kind).bind(db_id(id)?))
    }
}

macro_rules! document_columns {
    () => {
        "workspace_id, kind, id, body, updated_at"
    };
}

fn document_row(row: &AnyRow) -> Result<Document, StoreError> {
    Ok(Document {
        workspace: WorkspaceId(id(row, "workspace_id")?),
        kind: get(row, "kind")?,
        id: id(row, "id")?,
        body: doc(row, "body")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// The workspace's documents of one kind, by id.
    pub async fn documents(&self, ws: WorkspaceId, kind: &str) -> Result<Vec<Document>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(concat!(
            "SELECT ",
            document_columns!(),
            " FROM documents WHERE workspace_id = $1 AND kind = $2 ORDER BY id"
        ))
        .bind(db_id(ws.0)?)
        .bind(kind)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, document_row)
    }

    pub async fn document(&self, ws: WorkspaceId, kind: &str, id: u64) -> Result<Option<Document>, StoreError> {
        let pool = &self.reads;
        let row = sqlx::query(concat!(
            "SELECT ",
            document_columns!(),
            " FROM documents WHERE workspace_id = $1 AND kind = $2 AND id = $3"
        ))
        .bind(db_id(ws.0)?)
        .bind(kind)
        .bind(db_id(id)?)
        .fetch_optional(pool)
        .await?;
        row.as_ref().map(document_row).transpose()
    }
}
