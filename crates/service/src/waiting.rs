//! What a channel needs to look after a customer waiting in line and after
//! the agent: their place and expected wait (the engine's own figures, the
//! same the chat widget shows), and what their queue asks for — periodic
//! announcements, a post-call survey (see the queue settings).

use super::settings::QueueSettings;
use super::{Service, ServiceError};
use std::time::Duration;
use switchboard_core::ids::{ContactId, WorkspaceId};

/// A waiting contact's place in line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceInLine {
    /// 1 for the next to be offered.
    pub position: u32,
    /// The engine's estimate: position × recent handle time / agents available.
    pub wait: Duration,
}

/// What the contact's current queue asks a voice channel to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallerCare {
    /// How often to announce the place in line; `None` for never.
    pub announce_every: Option<Duration>,
    /// Ask for a 1–5 rating after the agent hangs up.
    pub survey: bool,
    /// The key that takes a waiting caller to voicemail.
    pub voicemail_key: Option<char>,
    /// The longest voicemail.
    pub voicemail_max: Duration,
    /// The key that asks for a courtesy callback.
    pub callback_key: Option<char>,
    /// Record the call once an agent answers.
    pub record: bool,
}

impl Default for CallerCare {
    /// A queue without settings: no announcements, survey or voicemail key;
    /// calls recorded, as they always were.
    fn default() -> CallerCare {
        CallerCare {
            announce_every: None,
            survey: false,
            voicemail_key: None,
            voicemail_max: Duration::from_secs(120),
            callback_key: None,
            record: true,
        }
    }
}

impl Service {
    /// Where a contact waits; `None` when it is not waiting in line (being
    /// offered, answered, gone).
    pub async fn place_in_line(&self, ws: WorkspaceId, id: ContactId) -> Result<Option<PlaceInLine>, ServiceError> {
        self.inspect(ws, |c| {
            let position = c.engine.position(id)?;
            Some(PlaceInLine { position, wait: c.engine.estimated_wait(id)? })
        })
        .await
    }

    /// What the queue the contact is in (or was last in: a caller sent to
    /// voicemail has left the line) asks for; the defaults for a queue
    /// without settings.
    pub async fn caller_care(&self, ws: WorkspaceId, id: ContactId) -> Result<CallerCare, ServiceError> {
        let queue = self.open_record(ws, id).await?.queue;
        self.inspect(ws, |c| {
            let queue = queue.and_then(|q| c.queues.get(&q));
            let Some(settings) = queue.and_then(|q| serde_json::from_value::<QueueSettings>(q.settings.clone()).ok())
            else {
                return CallerCare::default();
            };
            let fallback = CallerCare::default();
            CallerCare {
                announce_every: settings.announce_every().ok().flatten(),
                survey: settings.post_call_survey,
                voicemail_key: settings.voicemail_key().ok().flatten(),
                voicemail_max: settings.voicemail_max().unwrap_or(fallback.voicemail_max),
                callback_key: settings.callback_key().ok().flatten(),
                record: settings.record_calls,
            }
        })
        .await
    }
}
