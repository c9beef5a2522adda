//! Recordings of conversations (a call's audio): the channel writes the
//! file under the data directory and records a `recording` event naming
//! it; the agent who took the contact and supervisors read it back.

use crate::auth::Principal;
use crate::center::contact_event as event;
use crate::kinds::Kind;
use crate::{Service, ServiceError};
use serde_json::json;
use std::path::{Component, Path, PathBuf};
use switchboard_core::ids::{ContactId, WorkspaceId};

/// Where recordings live under the data directory; an event naming anything else is not served.
const DIR: &str = "recordings";

impl Service {
    /// A channel wrote the conversation's recording: a `recording` event on
    /// the contact with where the file is, relative to the data directory,
    /// and how long it runs.
    /// `paused` are the spans (seconds from its start) the agent paused it
    /// for, silence in the file.
    pub async fn recording_saved(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        path: &str,
        seconds: f64,
        paused: &[(f64, f64)],
    ) -> Result<(), ServiceError> {
        let record = self.open_record(ws, id).await?;
        let mut payload = RecordingFormat::Call.payload(path, seconds);
        if !paused.is_empty() {
            payload["paused"] = json!(paused.iter().map(|&(from, to)| [from, to]).collect::<Vec<_>>());
        }
        self.commit_and_publish(vec![event(&record, self.now(), Kind::Recording, payload)]).await?;
        Ok(())
    }

    /// The agent pauses (`pause`) or resumes the recording of the call they
    /// are on, to keep a card number or the like out of it: a
    /// `recording_paused` or `recording_resumed` event naming them, which
    /// the voice channel follows (the file holds silence meanwhile).
    /// `Conflict` for a contact that is not a connected call, or a
    /// recording already paused (resumed).
    pub async fn pause_recording(&self, p: &Principal, id: ContactId, pause: bool) -> Result<(), ServiceError> {
        let record = self.own_call(p, id).await?;
        let live = self.conversations().get(id);
        let _live = live.lock().await;
        // Paused now when its latest pause came after its latest resume.
        let [paused, resumed] =
            self.latest_of(p.workspace, id, [Kind::RecordingPaused, Kind::RecordingResumed]).await?;
        let paused_now = paused > resumed;
        if paused_now == pause {
            let state = if pause { "paused" } else { "not paused" };
            return Err(ServiceError::Conflict(format!("the recording of contact {} is {state} already", id.0)));
        }
        let kind = if pause { Kind::RecordingPaused } else { Kind::RecordingResumed };
        self.commit_and_publish(vec![event(&record, self.now(), kind, json!({ "by": p.user.0 }))]).await?;
        Ok(())
    }

    /// The data directory recordings are read from; the server sets it at start.
    pub fn set_data_dir(&self, dir: PathBuf) {
        // Set once; a second call (tests starting twice) keeps the first.
        let _ = self.inner.data_dir.set(dir);
    }

    /// The contact's latest recording (a WAV file's bytes): for the agent
    /// who took the contact and for supervisors; `NotFound` otherwise or
    /// when there is none.
    pub async fn recording(&self, p: &Principal, id: ContactId) -> Result<Vec<u8>, ServiceError> {
        // Agents see only their own contacts.
        self.contact(p, id).await?;
        let missing = || ServiceError::NotFound(format!("recording of contact {}", id.0));
        let events = self.store().contact_events(p.workspace, id, Some(Kind::Recording.as_str())).await?;
        let path = events.last().and_then(|e| e.payload["path"].as_str()).ok_or_else(missing)?;
        let dir = self.inner.data_dir.get().ok_or_else(missing)?;
        let file = recording_file(dir, path).ok_or_else(missing)?;
        tokio::task::spawn_blocking(move || std::fs::read(file)).await.map_err(|_| missing())?.map_err(|_| missing())
    }
}

/// What a recording holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecordingFormat {
    /// A bridged call: the customer on the left, the agent on the right.
    Call,
    /// A caller's message: the customer alone.
    Voicemail,
}

impl RecordingFormat {
    /// The `recording` event's payload.
    pub(super) fn payload(self, path: &str, seconds: f64) -> serde_json::Value {
        match self {
            RecordingFormat::Call => {
                json!({ "path": path, "seconds": seconds, "format": "wav", "channels": ["customer", "agent"] })
            }
            RecordingFormat::Voicemail => {
                json!({ "path": path, "seconds": seconds, "format": "wav", "channels": ["customer"], "voicemail": true })
            }
        }
    }
}

/// The file an event's `path` names under the data directory `dir`: only a
/// plain relative path under recordings/, never anywhere else on the disk.
pub(super) fn recording_file(dir: &Path, path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let inside = path.starts_with(DIR) && path.components().all(|c| matches!(c, Component::Normal(_)));
    inside.then(|| dir.join(path))
}
