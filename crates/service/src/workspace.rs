//! The workspace itself: its name and the time zone its day is counted in
//! ("today" on the wallboard starts at the workspace's midnight, not UTC's).

use super::{Service, ServiceError, audit, require};
use crate::auth::Principal;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use switchboard_core::ids::WorkspaceId;
use switchboard_store::{Change, Document, Role, StoreError, Workspace};

const KIND: &str = "workspace_settings";
/// One settings document per workspace.
const ID: u64 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Settings {
    time_zone: String,
}

/// The workspace as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct WorkspaceView {
    #[serde(flatten)]
    pub workspace: Workspace,
    /// An IANA time zone name, e.g. `Europe/Berlin`; `UTC` until set.
    pub time_zone: String,
}

/// `PUT /workspace`: what an admin may change.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceUpdate {
    pub name: Option<String>,
    pub time_zone: Option<String>,
}

/// A time zone by its IANA name.
pub fn parse_zone(name: &str) -> Result<Tz, ServiceError> {
    name.trim().parse::<Tz>().map_err(|_| {
        ServiceError::invalid("time_zone", format!("'{name}' is not a time zone name such as Europe/Berlin or UTC"))
    })
}

impl Service {
    pub(crate) async fn workspace_record(&self, ws: WorkspaceId) -> Result<Workspace, ServiceError> {
        let found = self.store().workspaces().await?.into_iter().find(|w| w.id == ws);
        found.ok_or_else(|| ServiceError::NotFound("workspace".into()))
    }

    /// The workspace's time zone (UTC until an admin sets one).
    pub async fn time_zone(&self, ws: WorkspaceId) -> Result<Tz, ServiceError> {
        match self.store().document(ws, KIND, ID).await? {
            Some(d) => {
                let s: Settings = serde_json::from_value(d.body).map_err(StoreError::from)?;
                // Checked when saved; a zone a newer server knew and this
                // one does not is read as UTC rather than failing reports.
                Ok(s.time_zone.parse().unwrap_or(Tz::UTC))
            }
            None => Ok(Tz::UTC),
        }
    }

    pub async fn workspace_view(&self, p: &Principal) -> Result<WorkspaceView, ServiceError> {
        let workspace = self.workspace_record(p.workspace).await?;
        Ok(WorkspaceView { workspace, time_zone: self.time_zone(p.workspace).await?.name().to_string() })
    }

    pub async fn update_workspace(&self, p: &Principal, u: WorkspaceUpdate) -> Result<WorkspaceView, ServiceError> {
        require(p, Role::Admin)?;
        let mut workspace = self.workspace_record(p.workspace).await?;
        let mut changes = Vec::new();
        if let Some(name) = u.name {
            workspace.name = super::names::name("name", &name)?;
            changes.push(Change::PutWorkspace(workspace.clone()));
        }
        let zone = match u.time_zone {
            Some(name) => {
                let zone = parse_zone(&name)?;
                let body =
                    serde_json::to_value(Settings { time_zone: zone.name().to_string() }).map_err(StoreError::from)?;
                changes.push(Change::PutDocument(Document {
                    workspace: p.workspace,
                    kind: KIND.into(),
                    id: ID,
                    body,
                    updated_at: self.now(),
                }));
                Some(zone)
            }
            None => None,
        };
        if !changes.is_empty() {
            changes.push(audit::entry(p, self.now(), "update_workspace", "workspace".into()));
            self.commit_and_publish(changes).await?;
        }
        if zone.is_some() {
            // Today's figures are counted again from the new midnight.
            self.forget_today(p.workspace);
        }
        let time_zone = match zone {
            Some(z) => z.name().to_string(),
            None => self.time_zone(p.workspace).await?.name().to_string(),
        };
        Ok(WorkspaceView { workspace, time_zone })
    }
}
