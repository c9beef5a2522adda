//! Published rosters: an agent's shift per local day, written by upsert and
//! delete (see `edits`), read by time range within one workspace.

use crate::edits::Deletable;
use crate::records::RosterShift;
use crate::rows::{self, db_id, db_opt_id, doc, get, id, json, time};
use crate::tables::{Query, Record, Table};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use switchboard_core::ids::{QueueId, UserId, WorkspaceId};
use switchboard_core::time::Timestamp;

impl Record for RosterShift {
    // The workspace is part of the key, as for documents: a put from another
    // workspace is a row of its own there.
    const TABLE: Table = Table {
        name: "roster_shifts",
        columns: &[
            "workspace_id",
            "agent_id",
            "day",
            "queue_id",
            "template",
            "starts_at",
            "ends_at",
            "breaks",
            "updated_at",
        ],
        key: &["workspace_id", "agent_id", "day"],
        guarded: false,
    };
    type Key<'k> = (u64, u64, &'k str);

    fn key(&self) -> (u64, u64, &str) {
        (self.workspace.0, self.agent.0, &self.day)
    }

    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    fn bind<'q>(&'q self, q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(self.workspace.0)?)
            .bind(db_id(self.agent.0)?)
            .bind(self.day.as_str())
            .bind(db_id(self.queue.0)?)
            .bind(self.template.as_str())
            .bind(self.start.0)
            .bind(self.end.0)
            .bind(json(&self.breaks)?)
            .bind(self.updated_at.0))
    }

    fn elsewhere(&self) -> String {
        format!("shift of agent {} on {}", self.agent.0, self.day)
    }
}

impl Deletable for RosterShift {
    type Gone<'a> = (WorkspaceId, UserId, &'a str);

    const DELETE: &'static [&'static str] =
        &["DELETE FROM roster_shifts WHERE workspace_id = $1 AND agent_id = $2 AND day = $3"];

    fn bind_gone<'q>((ws, agent, day): (WorkspaceId, UserId, &'q str), q: Query<'q>) -> Result<Query<'q>, StoreError> {
        Ok(q.bind(db_id(ws.0)?).bind(db_id(agent.0)?).bind(day))
    }
}

fn shift_row(row: &AnyRow) -> Result<RosterShift, StoreError> {
    Ok(RosterShift {
        workspace: WorkspaceId(id(row, "workspace_id")?),
        agent: UserId(id(row, "agent_id")?),
        day: get(row, "day")?,
        queue: QueueId(id(row, "queue_id")?),
        template: get(row, "template")?,
        start: time(row, "starts_at")?,
        end: time(row, "ends_at")?,
        breaks: doc(row, "breaks")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// The workspace's shifts starting in `[from, to)`, of one agent if
    /// given, by start then agent.
    pub async fn roster(
        &self,
        ws: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
        agent: Option<UserId>,
    ) -> Result<Vec<RosterShift>, StoreError> {
        let pool = &self.reads;
        let rows = sqlx::query(
            "SELECT workspace_id, agent_id, day, queue_id, template, starts_at, ends_at, breaks, updated_at
             FROM roster_shifts
             WHERE workspace_id = $1 AND starts_at >= $2 AND starts_at < $3 AND ($4 IS NULL OR agent_id = $4)
             ORDER BY starts_at, agent_id",
        )
        .bind(db_id(ws.0)?)
        .bind(from.0)
        .bind(to.0)
        .bind(db_opt_id(agent.map(|a| a.0))?)
        .fetch_all(pool)
        .await?;
        rows::all(&rows, shift_row)
    }
}
