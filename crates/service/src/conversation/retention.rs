//! How long recordings are kept. An admin sets a number of days per
//! workspace; a sweep deletes the files of recordings older than that and
//! writes an audit entry for each, in the same commit that moves the
//! sweep's place in the event log forward. A sweep that dies half-way
//! starts again from its last commit: a file already gone is simply
//! deleted again (nothing) and audited once more at worst.

use super::recordings::recording_file;
use crate::auth::Principal;
use crate::{Service, ServiceError, audit, require};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use switchboard_core::ids::WorkspaceId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Document, Role, StoreError};

const KIND: &str = "recording_settings";
/// One settings document per workspace.
const ID: u64 = 1;
/// Recording events read per page of a sweep.
const PAGE: u32 = 200;
/// The longest retention one may set: ten years.
const MOST_DAYS: u32 = 3650;

/// What an admin sets: `retention_days` null keeps recordings for ever.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingSettings {
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// The stored document: the setting and how far sweeps have got.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    settings: RecordingSettings,
    /// The id of the last `recording` event a sweep dealt with.
    #[serde(default)]
    swept_through: u64,
}

impl Service {
    async fn stored_recording_settings(&self, ws: WorkspaceId) -> Result<Stored, ServiceError> {
        match self.store().document(ws, KIND, ID).await? {
            Some(d) => Ok(serde_json::from_value(d.body).map_err(StoreError::from)?),
            None => Ok(Stored::default()),
        }
    }

    fn recording_settings_change(&self, ws: WorkspaceId, stored: &Stored) -> Result<Change, ServiceError> {
        let body = serde_json::to_value(stored).map_err(StoreError::from)?;
        Ok(Change::PutDocument(Document { workspace: ws, kind: KIND.into(), id: ID, body, updated_at: self.now() }))
    }

    /// The workspace's recording settings (supervisors and admins).
    pub async fn recording_settings(&self, p: &Principal) -> Result<RecordingSettings, ServiceError> {
        require(p, Role::Supervisor)?;
        Ok(self.stored_recording_settings(p.workspace).await?.settings)
    }

    /// Sets the retention (admins); audited.
    pub async fn put_recording_settings(
        &self,
        p: &Principal,
        settings: RecordingSettings,
    ) -> Result<RecordingSettings, ServiceError> {
        require(p, Role::Admin)?;
        if settings.retention_days.is_some_and(|d| d == 0 || d > MOST_DAYS) {
            return Err(ServiceError::invalid(
                "retention_days",
                format!("a number of days from 1 to {MOST_DAYS}, or null to keep recordings"),
            ));
        }
        let mut stored = self.stored_recording_settings(p.workspace).await?;
        stored.settings = settings.clone();
        let details = json!({ "retention_days": settings.retention_days });
        let changes = vec![
            self.recording_settings_change(p.workspace, &stored)?,
            audit::detailed(p, self.now(), "update_recording_settings", "recordings".into(), details),
        ];
        self.commit_and_publish(changes).await?;
        Ok(settings)
    }

    /// Deletes the workspace's recordings older than its retention, as of
    /// `now`; answers how many were deleted.
    pub async fn sweep_recordings(&self, ws: WorkspaceId, now: Timestamp) -> Result<usize, ServiceError> {
        let mut stored = self.stored_recording_settings(ws).await?;
        let Some(days) = stored.settings.retention_days else { return Ok(0) };
        let Some(dir) = self.inner.data_dir.get().cloned() else { return Ok(0) };
        let cutoff = now - Duration::from_secs(u64::from(days) * 86_400);
        let mut deleted = 0;
        loop {
            let page = self
                .store()
                .events_of_kind(ws, crate::kinds::Kind::Recording.as_str(), stored.swept_through, PAGE)
                .await?;
            // Events are in commit order, which is time order: the first one
            // too young to delete ends the sweep.
            let due: Vec<_> = page.iter().take_while(|e| e.at < cutoff).collect();
            if due.is_empty() {
                return Ok(deleted);
            }
            let mut changes = Vec::new();
            let mut failed = false;
            let before = stored.swept_through;
            for e in &due {
                if let Some(file) = e.payload["path"].as_str().and_then(|p| recording_file(&dir, p)) {
                    match tokio::fs::remove_file(&file).await {
                        Ok(()) => {}
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => {
                            // Kept, and tried again by the next sweep.
                            tracing::warn!(path = %file.display(), error = %err, "recording not deleted");
                            failed = true;
                            break;
                        }
                    }
                    let contact = e.contact.map_or(0, |c| c.0);
                    let details = json!({ "retention_days": days, "recorded_at": e.at });
                    let target = format!("contact/{contact}/recording");
                    changes.push(audit::by_server(ws, now, "delete_recording", target, details));
                    deleted += 1;
                }
                stored.swept_through = e.id;
            }
            if stored.swept_through == before {
                return Ok(deleted);
            }
            changes.push(self.recording_settings_change(ws, &stored)?);
            self.commit_and_publish(changes).await?;
            if failed || due.len() < page.len() || page.len() < PAGE as usize {
                return Ok(deleted);
            }
        }
    }
}
