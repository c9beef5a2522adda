//! The workspace itself: its name, the time zone its day is counted in
//! ("today" on the wallboard starts at the workspace's midnight, not UTC's),
//! and how long an agent may be out of adherence before it is an exception.

use super::{Service, ServiceError, audit, require};
use crate::auth::Principal;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use switchboard_core::ids::WorkspaceId;
use switchboard_store::{Change, Document, Role, StoreError, Workspace};

const KIND: &str = "workspace_settings";
/// One settings document per workspace.
const ID: u64 = 1;

/// An agent out of adherence this long is an exception, unless set.
pub const DEFAULT_ADHERENCE_THRESHOLD: std::time::Duration = std::time::Duration::from_secs(300);
/// The longest threshold a workspace may set: a day.
const MOST_ADHERENCE_THRESHOLD_SECONDS: f64 = 86_400.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Settings {
    time_zone: String,
    #[serde(default = "default_adherence_threshold")]
    adherence_threshold_seconds: f64,
}

fn default_adherence_threshold() -> f64 {
    DEFAULT_ADHERENCE_THRESHOLD.as_secs_f64()
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { time_zone: "UTC".into(), adherence_threshold_seconds: default_adherence_threshold() }
    }
}

/// The workspace as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct WorkspaceView {
    #[serde(flatten)]
    pub workspace: Workspace,
    /// An IANA time zone name, e.g. `Europe/Berlin`; `UTC` until set.
    pub time_zone: String,
    /// How long an agent on a shift may be out of adherence before it is
    /// an exception (300 until set).
    pub adherence_threshold_seconds: f64,
}

/// `PUT /workspace`: what an admin may change.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceUpdate {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    /// From 0 to a day.
    #[serde(default)]
    pub adherence_threshold_seconds: Option<f64>,
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

    async fn settings(&self, ws: WorkspaceId) -> Result<Settings, ServiceError> {
        match self.store().document(ws, KIND, ID).await? {
            Some(d) => Ok(serde_json::from_value(d.body).map_err(StoreError::from)?),
            None => Ok(Settings::default()),
        }
    }

    /// The workspace's time zone (UTC until an admin sets one).
    pub async fn time_zone(&self, ws: WorkspaceId) -> Result<Tz, ServiceError> {
        // Checked when saved; a zone a newer server knew and this one does
        // not is read as UTC rather than failing reports.
        Ok(self.settings(ws).await?.time_zone.parse().unwrap_or(Tz::UTC))
    }

    /// How long an agent may be out of adherence before it is an exception.
    pub async fn adherence_threshold(&self, ws: WorkspaceId) -> Result<std::time::Duration, ServiceError> {
        let seconds = self.settings(ws).await?.adherence_threshold_seconds;
        Ok(std::time::Duration::try_from_secs_f64(seconds).unwrap_or(DEFAULT_ADHERENCE_THRESHOLD))
    }

    pub async fn workspace_view(&self, p: &Principal) -> Result<WorkspaceView, ServiceError> {
        let workspace = self.workspace_record(p.workspace).await?;
        let settings = self.settings(p.workspace).await?;
        Ok(view(workspace, &settings))
    }

    pub async fn update_workspace(&self, p: &Principal, u: WorkspaceUpdate) -> Result<WorkspaceView, ServiceError> {
        require(p, Role::Admin)?;
        let mut workspace = self.workspace_record(p.workspace).await?;
        let mut changes = Vec::new();
        if let Some(name) = u.name {
            workspace.name = super::names::name("name", &name)?;
            changes.push(Change::PutWorkspace(workspace.clone()));
        }
        let mut settings = self.settings(p.workspace).await?;
        let zone = u.time_zone.map(|name| parse_zone(&name)).transpose()?;
        if let Some(zone) = zone {
            settings.time_zone = zone.name().to_string();
        }
        if let Some(seconds) = u.adherence_threshold_seconds {
            if !(seconds.is_finite() && (0.0..=MOST_ADHERENCE_THRESHOLD_SECONDS).contains(&seconds)) {
                return Err(ServiceError::invalid("adherence_threshold_seconds", "from 0 to 86400"));
            }
            settings.adherence_threshold_seconds = seconds;
        }
        if zone.is_some() || u.adherence_threshold_seconds.is_some() {
            let body = serde_json::to_value(&settings).map_err(StoreError::from)?;
            changes.push(Change::PutDocument(Document {
                workspace: p.workspace,
                kind: KIND.into(),
                id: ID,
                body,
                updated_at: self.now(),
            }));
        }
        if !changes.is_empty() {
            changes.push(audit::entry(p, self.now(), "update_workspace", "workspace".into()));
            self.commit_and_publish(changes).await?;
        }
        if zone.is_some() {
            // Today's figures are counted again from the new midnight.
            self.forget_today(p.workspace);
        }
        Ok(view(workspace, &settings))
    }
}

fn view(workspace: Workspace, s: &Settings) -> WorkspaceView {
    WorkspaceView {
        workspace,
        time_zone: s.time_zone.parse().unwrap_or(Tz::UTC).name().to_string(),
        adherence_threshold_seconds: s.adherence_threshold_seconds,
    }
}
