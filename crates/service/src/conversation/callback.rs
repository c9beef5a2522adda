//! Courtesy callbacks: a caller waiting in line presses the queue's
//! `callback_key`, confirms the number to call (or keys another) and hangs
//! up; the contact keeps its place in line (the engine's
//! `request_callback`, a `callback_scheduled` event) with the number as its
//! `callback_number` attribute, and is not counted as abandoned. When it
//! reaches the front, an agent is offered it like any contact; the voice
//! channel rings the agent's phone, whispers the number and dials the
//! customer through the number's trunk (agent first, as Amazon Connect
//! does), then reports each attempt here.
//!
//! An attempt is a `callback_attempted` event. Answered, the call goes on
//! as any call with an agent. Busy, unanswered or failed, the agent is
//! freed at once (`contact_ended`, no after-contact work for a call that
//! never happened) and, while the queue's `callback_attempts` are not used
//! up, the contact waits out of line for `callback_retry_seconds` (its
//! state `callback_scheduled`, the time in its `callback_due_at`
//! attribute, so a restart keeps it) until the service's ticker puts it
//! back in line as a callback, with its first enqueue time. After the last
//! attempt it ends: `conversation_ended` by the system and the disposition
//! `callback_busy`, `callback_no_answer` or `callback_failed`.

use crate::center::{Center, contact_event as event};
use crate::customers::normalize_identity;
use crate::kinds::Kind;
use crate::settings::QueueSettings;
use crate::{Service, ServiceError};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::contact::ContactSpec;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{AgentId, ContactId, UserId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, ContactRecord, ContactState, IdentityKind};

/// The number to call back, in E.164 (routing and rules read `contact.callback_number`).
pub const CALLBACK_NUMBER: &str = "callback_number";
/// How many attempts were made so far.
pub const CALLBACK_ATTEMPTS: &str = "callback_attempts";
/// When a callback waiting between attempts goes back in line (milliseconds since the epoch).
const CALLBACK_DUE: &str = "callback_due_at";
/// The number the caller dialled: the trunk to call back through, and the caller ID.
const DIALLED: &str = "dialled";

/// How one attempt went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOutcome {
    Answered,
    /// 486, 600: the line was busy.
    Busy,
    /// Nobody answered before the ring timeout (or 408, 480).
    NoAnswer,
    /// Anything else: the carrier refused the call, the number does not exist, no trunk.
    Failed,
}

impl CallbackOutcome {
    /// The outcome of a failed INVITE's final status.
    pub fn of_status(status: u16) -> CallbackOutcome {
        match status {
            486 | 600 => CallbackOutcome::Busy,
            408 | 480 | 487 => CallbackOutcome::NoAnswer,
            _ => CallbackOutcome::Failed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CallbackOutcome::Answered => "answered",
            CallbackOutcome::Busy => "busy",
            CallbackOutcome::NoAnswer => "no_answer",
            CallbackOutcome::Failed => "failed",
        }
    }
}

/// What a voice channel needs to make an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackCall {
    /// Whom to call, in E.164.
    pub number: String,
    /// The number the customer had called (E.164): its trunk, and the caller ID by default.
    pub dialled: Option<String>,
    /// This attempt, from 1.
    pub attempt: u32,
    /// How many the queue allows.
    pub attempts: u32,
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterAttempt {
    /// Answered: the agent talks to the customer.
    Talking,
    /// The callback goes back in line at this time.
    Retry(Timestamp),
    /// That was the last attempt: the contact has ended.
    GivenUp,
}

fn text(record: &ContactRecord, key: &str) -> Option<String> {
    match record.attributes.get(key) {
        Some(AttrValue::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Whether a contact is a courtesy callback (it has a number to call).
pub fn is_callback(record: &ContactRecord) -> bool {
    record.channel == Channel::Voice && text(record, CALLBACK_NUMBER).is_some()
}

/// When a callback waiting between two attempts goes back in line.
pub(crate) fn callback_due(record: &ContactRecord) -> Option<Timestamp> {
    match record.attributes.get(CALLBACK_DUE) {
        Some(AttrValue::Num(ms)) if record.state == ContactState::CallbackScheduled => Some(Timestamp(*ms as i64)),
        _ => None,
    }
}

fn attempts_made(record: &ContactRecord) -> u32 {
    match record.attributes.get(CALLBACK_ATTEMPTS) {
        Some(AttrValue::Num(n)) if *n >= 0.0 => *n as u32,
        _ => 0,
    }
}

/// The contact's queue's attempts and wait between two (the defaults when it has no settings).
fn retries(c: &Center, record: &ContactRecord) -> (u32, Duration) {
    let settings = record
        .queue
        .and_then(|q| c.queues.get(&q))
        .and_then(|q| serde_json::from_value::<QueueSettings>(q.settings.clone()).ok());
    settings.and_then(|s| s.callback_retries().ok()).unwrap_or((3, Duration::from_secs(300)))
}

/// Puts the callbacks whose wait between attempts is over back in line (the service's ticker).
pub(crate) fn requeue_due_callbacks(c: &mut Center, now: Timestamp) {
    let due: Vec<ContactId> =
        c.contacts.values().filter(|r| callback_due(r).is_some_and(|at| at <= now)).map(|r| r.id).collect();
    for id in due {
        let Some(record) = c.contacts.get_mut(&id) else { continue };
        let Some(queue) = record.queue else { continue };
        record.attributes.remove(CALLBACK_DUE);
        let mut spec = ContactSpec::new(id, record.channel, queue);
        spec.priority = record.priority;
        spec.attributes = record.attributes.clone();
        spec.enqueued_at = record.enqueued_at;
        if let Err(e) = c.engine.enqueue_callback(spec, now) {
            tracing::warn!(contact = id.0, error = %e, "a callback could not go back in line");
        }
    }
}

impl Service {
    /// A waiting caller asked to be called back at `number`: the contact
    /// keeps its place in line as a callback. Says the number as kept
    /// (E.164). `Conflict` when it is not waiting in line (an agent's phone
    /// rings for it already).
    pub async fn request_callback(&self, ws: WorkspaceId, id: ContactId, number: &str) -> Result<String, ServiceError> {
        let number = normalize_identity(IdentityKind::Phone, number, "number")?;
        let kept = number.clone();
        self.apply(ws, move |c, now, _| {
            let record = c.contacts.get_mut(&id).ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
            if record.channel != Channel::Voice {
                return Err(ServiceError::Conflict(format!("contact {} is not a call", id.0)));
            }
            c.engine.request_callback(id, now).map_err(|e| ServiceError::Conflict(e.to_string()))?;
            // Written with the engine's `callback_scheduled`, which touches the record.
            record.attributes.insert(CALLBACK_NUMBER, AttrValue::Str(number));
            Ok(())
        })
        .await?;
        Ok(kept)
    }

    /// The callback an agent's offer is for, if the contact is one.
    pub async fn callback_call(&self, ws: WorkspaceId, id: ContactId) -> Result<Option<CallbackCall>, ServiceError> {
        let record = self.open_record(ws, id).await?;
        let Some(number) = text(&record, CALLBACK_NUMBER).filter(|_| is_callback(&record)) else { return Ok(None) };
        let attempt = attempts_made(&record) + 1;
        let attempts = self.inspect(ws, |c| retries(c, &record).0).await?;
        Ok(Some(CallbackCall { number, dialled: text(&record, DIALLED), attempt, attempts }))
    }

    /// An attempt by `agent` (who accepted the offer) ended with `outcome`.
    pub async fn callback_attempted(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        agent: UserId,
        outcome: CallbackOutcome,
    ) -> Result<AfterAttempt, ServiceError> {
        self.apply(ws, move |c, now, changes| {
            let mut record =
                c.contacts.get(&id).cloned().ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
            if record.state != ContactState::Connected || record.agent != Some(agent) || !is_callback(&record) {
                return Err(ServiceError::Conflict(format!(
                    "contact {} is not a callback user {} took",
                    id.0, agent.0
                )));
            }
            let attempt = attempts_made(&record) + 1;
            let (attempts, wait) = retries(c, &record);
            let after = match outcome {
                CallbackOutcome::Answered => AfterAttempt::Talking,
                _ if attempt < attempts => AfterAttempt::Retry(Timestamp(now.as_millis() + wait.as_millis() as i64)),
                _ => AfterAttempt::GivenUp,
            };
            let (next, retry_at) = match after {
                AfterAttempt::Talking => ("talking", None),
                AfterAttempt::Retry(at) => ("retry", Some(at.to_utc())),
                AfterAttempt::GivenUp => ("given_up", None),
            };
            record.attributes.insert(CALLBACK_ATTEMPTS, AttrValue::Num(f64::from(attempt)));
            record.updated_at = now;
            let payload = json!({
                "attempt": attempt, "of": attempts, "outcome": outcome, "number": text(&record, CALLBACK_NUMBER),
                "agent": agent, "next": next, "retry_at": retry_at,
            });
            changes.push(event(&record, now, Kind::CallbackAttempted, payload));
            c.contacts.insert(id, record.clone());
            if after == AfterAttempt::Talking {
                changes.push(Change::PutContact(record));
                return Ok(after);
            }
            // No call took place: the agent is free at once, with no after-contact work.
            c.engine.end_contact(id, now)?;
            let a = AgentId(agent.0);
            if c.engine.agent_snapshot(a)?.contacts.iter().any(|(x, _, phase)| *x == id && *phase == "wrap_up") {
                c.engine.end_wrap_up(a, id, now)?;
            }
            c.absorb(changes);
            record.agent = None;
            match after {
                AfterAttempt::Retry(at) => {
                    record.state = ContactState::CallbackScheduled;
                    record.attributes.insert(CALLBACK_DUE, AttrValue::Num(at.as_millis() as f64));
                    c.contacts.insert(id, record.clone());
                }
                _ => {
                    record.state = ContactState::Completed;
                    record.ended_at = Some(now);
                    record.disposition = Some(format!("callback_{}", outcome.as_str()));
                    changes.push(event(
                        &record,
                        now,
                        Kind::ConversationEnded,
                        json!({ "by": "system", "channel": record.channel }),
                    ));
                    c.contacts.remove(&id);
                }
            }
            changes.push(Change::PutContact(record));
            Ok(after)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_are_told_apart() {
        assert_eq!(CallbackOutcome::of_status(486), CallbackOutcome::Busy);
        assert_eq!(CallbackOutcome::of_status(600), CallbackOutcome::Busy);
        for s in [408, 480, 487] {
            assert_eq!(CallbackOutcome::of_status(s), CallbackOutcome::NoAnswer);
        }
        for s in [403, 404, 407, 500, 503, 603] {
            assert_eq!(CallbackOutcome::of_status(s), CallbackOutcome::Failed);
        }
    }
}
