//! Voicemail: a caller whose queue sends them to voicemail (its overflow or
//! after-hours action) or who presses the queue's voicemail key leaves a
//! message, and the contact goes on as that message.
//!
//! The call's contact itself continues, rather than a new one linked to it:
//! the agent sees what the IVR collected, the verification and the caller's
//! transcript on the same contact, the customer's timeline shows one call
//! with its message, and reports count the call once. In the log the
//! contact first leaves its line (`contact_overflowed` with the action
//! `voicemail`, as the engine says), then, once the message is recorded,
//! comes back to the queue as a callback (`contact_queued`,
//! `callback_scheduled`) with the attribute `voicemail` and the message's
//! `recording` event; an agent is offered it like any contact. A caller who
//! hangs up before saying anything has abandoned the call.

use super::recordings::RecordingFormat;
use crate::center::contact_event as event;
use crate::kinds::Kind;
use crate::{Service, ServiceError};
use serde_json::json;
use switchboard_core::contact::ContactSpec;
use switchboard_core::events::{CancelReason, Event, EventKind};
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_store::{Change, ContactRecord, ContactState};

/// The attribute a voicemail's contact carries (routing and rules read it as `contact.voicemail`).
pub const VOICEMAIL_ATTRIBUTE: &str = "voicemail";
/// The disposition the engine's overflow to voicemail leaves on a contact.
const OVERFLOWED_TO_VOICEMAIL: &str = "voicemail";

/// Where a queued caller stands, as far as a voice channel must know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InLine {
    /// Waiting for an agent, offered, or talking to one.
    Waiting,
    /// The queue sent the caller to voicemail (overflow, after hours, the voicemail key).
    Voicemail,
    /// The queue let go of the caller otherwise (an overflow that disconnects).
    Ended,
}

/// Whether a contact is a caller's voicemail waiting for (or with) an agent.
pub fn is_voicemail(record: &ContactRecord) -> bool {
    record.attributes.get(VOICEMAIL_ATTRIBUTE) == Some(&AttrValue::Bool(true))
}

impl Service {
    /// Where the call's contact stands after its hand-off to a queue, or
    /// after the queue overflowed it.
    pub async fn in_line(&self, ws: WorkspaceId, id: ContactId) -> Result<InLine, ServiceError> {
        let record = self.open_record(ws, id).await?;
        Ok(if record.state.is_open() {
            InLine::Waiting
        } else if record.state == ContactState::Failed && record.disposition.as_deref() == Some(OVERFLOWED_TO_VOICEMAIL)
        {
            InLine::Voicemail
        } else {
            InLine::Ended
        })
    }

    /// A waiting caller pressed the queue's voicemail key: the contact
    /// leaves the line for voicemail. `Conflict` when it is not waiting in
    /// line (an agent's phone rings for it, or it was answered).
    pub async fn leave_for_voicemail(&self, ws: WorkspaceId, id: ContactId) -> Result<(), ServiceError> {
        self.apply(ws, move |c, now, _| {
            c.engine.leave_for_voicemail(id, now).map_err(|e| ServiceError::Conflict(e.to_string()))
        })
        .await
    }

    /// The caller left a message, recorded at `path` (under the data
    /// directory) for `seconds`: the `recording` event, and the contact back
    /// in its queue as a voicemail for an agent.
    pub async fn voicemail_left(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        path: &str,
        seconds: f64,
    ) -> Result<(), ServiceError> {
        let stored = self.open_record(ws, id).await?;
        if self.in_line(ws, id).await? != InLine::Voicemail {
            return Err(ServiceError::Conflict(format!("contact {} was not sent to voicemail", id.0)));
        }
        let queue = stored.queue.ok_or_else(|| ServiceError::Conflict(format!("contact {} has no queue", id.0)))?;
        self.apply(ws, move |c, now, changes| {
            if c.contacts.contains_key(&id) {
                return Err(ServiceError::Conflict(format!("contact {} is in line already", id.0)));
            }
            let mut record = stored;
            record.attributes.insert(VOICEMAIL_ATTRIBUTE, AttrValue::Bool(true));
            record.disposition = None;
            record.ended_at = None;
            record.agent = None;
            record.updated_at = now;
            let format = RecordingFormat::Voicemail;
            changes.push(event(&record, now, Kind::Recording, format.payload(path, seconds)));
            let mut spec = ContactSpec::new(id, record.channel, queue);
            spec.priority = record.priority;
            spec.attributes = record.attributes.clone();
            spec.enqueued_at = record.enqueued_at;
            c.contacts.insert(id, record);
            let queued = c.engine.enqueue_callback(spec, now);
            if queued.is_err() {
                c.contacts.remove(&id);
            }
            queued.map_err(|e| ServiceError::Conflict(e.to_string()))
        })
        .await
    }

    /// The caller sent to voicemail hung up without leaving a message: the
    /// call is abandoned, as if they had hung up waiting in line.
    pub async fn voicemail_abandoned(&self, ws: WorkspaceId, id: ContactId) -> Result<(), ServiceError> {
        let stored = self.open_record(ws, id).await?;
        if self.in_line(ws, id).await? != InLine::Voicemail {
            return Err(ServiceError::Conflict(format!("contact {} was not sent to voicemail", id.0)));
        }
        let queue = stored.queue.ok_or_else(|| ServiceError::Conflict(format!("contact {} has no queue", id.0)))?;
        self.apply(ws, move |c, now, changes| {
            let mut record = stored;
            record.disposition = None;
            let waited = record.enqueued_at.map_or(std::time::Duration::ZERO, |at| now.since(at));
            let left = EventKind::ContactLeft { contact: id, queue, reason: CancelReason::Abandoned, waited };
            changes.push(event(
                &record,
                now,
                Kind::ConversationEnded,
                json!({ "by": "customer", "channel": record.channel }),
            ));
            // Logged as the engine logs a caller who hangs up in line, so reports count it abandoned.
            c.contacts.insert(id, record);
            c.log_engine_event(&Event { at: now, kind: left }, changes);
            if let Some(record) = c.contacts.remove(&id) {
                changes.push(Change::PutContact(record));
            }
            Ok(())
        })
        .await
    }
}
