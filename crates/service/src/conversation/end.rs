//! What ends a conversation the same way on every channel: the customer
//! leaving, the agent closing it, a timeout; the rating; a message left
//! while waiting; and putting a conversation in line.

use super::BOT_RUN_KIND;
use super::inbound::is_closed;
use super::messages::{Author, MessageBody};
use crate::center::contact_event as event;
use crate::kinds::Kind;
use crate::{Center, Service, ServiceError};
use serde_json::json;
use std::collections::BTreeMap;
use switchboard_core::agent::Presence;
use switchboard_core::channel::Channel;
use switchboard_core::engine::EngineError;
use switchboard_core::events::CancelReason;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, QueueId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, ContactRecord, ContactState};

impl Center {
    /// Puts a contact (not yet routed) in line in `queue`.
    pub fn enqueue_record(
        &mut self,
        mut record: ContactRecord,
        queue: QueueId,
        now: Timestamp,
        changes: &mut Vec<Change>,
    ) -> Result<ContactRecord, ServiceError> {
        if !self.queues.contains_key(&queue) {
            return Err(ServiceError::invalid("queue", format!("no queue {}", queue.0)));
        }
        record.queue = Some(queue);
        record.enqueued_at = Some(now);
        let mut spec = switchboard_core::contact::ContactSpec::new(record.id, record.channel, queue);
        spec.priority = record.priority;
        spec.attributes = record.attributes.clone();
        self.engine.enqueue(spec, now).map_err(|e| match e {
            EngineError::ChannelNotServed { .. } => ServiceError::invalid("channel", e.to_string()),
            other => other.into(),
        })?;
        changes.push(Change::PutContact(record.clone()));
        self.contacts.insert(record.id, record.clone());
        Ok(record)
    }

    /// Whether anyone could answer a chat in `queue` now.
    pub fn staffed(&self, queue: QueueId, now: Timestamp) -> bool {
        self.engine.is_open(queue, now).unwrap_or(false)
            && self
                .agents
                .values()
                .any(|a| a.presence != Presence::Offline && a.memberships.iter().any(|m| m.queue == queue))
    }
}

impl Service {
    /// Ends a conversation: a customer leaving, an agent closing it, or a
    /// timeout, on any channel. One with an agent goes to wrap-up; one waiting is abandoned; one
    /// with the bot ends there (abandoned in self-service).
    pub async fn end_conversation(&self, ws: WorkspaceId, id: ContactId, by: &'static str) -> Result<(), ServiceError> {
        let record = self.open_record(ws, id).await?;
        if is_closed(record.state) {
            return Ok(());
        }
        if record.state == ContactState::New {
            let now = self.now();
            let mut r = record;
            r.state = ContactState::Abandoned;
            r.ended_at = Some(now);
            r.updated_at = now;
            let ended = event(&r, now, Kind::ConversationEnded, json!({ "by": by, "channel": r.channel }));
            self.commit_and_publish(vec![
                ended,
                Change::PutContact(r),
                Change::DeleteDocument { workspace: ws, kind: BOT_RUN_KIND.into(), id: id.0 },
            ])
            .await?;
            self.conversations().forget(id);
            return Ok(());
        }
        self.apply(ws, move |c, now, changes| {
            let Some(r) = c.contacts.get(&id).cloned() else { return Ok(()) };
            // Contacts of the API channel (tasks, not conversations) end with
            // the engine's `contact_ended` only.
            if r.channel != Channel::Api {
                changes.push(event(&r, now, Kind::ConversationEnded, json!({ "by": by, "channel": r.channel })));
            }
            match r.state {
                ContactState::Connected => c.engine.end_contact(id, now)?,
                ContactState::Queued | ContactState::Offered | ContactState::CallbackScheduled => {
                    c.engine.cancel(id, CancelReason::Abandoned, now)?
                }
                _ => {}
            }
            Ok(())
        })
        .await
    }

    /// The agent closes the chat; the customer is asked for a rating.
    pub async fn agent_ends_chat(&self, p: &crate::auth::Principal, id: ContactId) -> Result<(), ServiceError> {
        let record = self.own_contact(p, id).await?;
        if record.state != ContactState::Connected {
            return Err(ServiceError::Conflict(format!("contact {} is not connected", id.0)));
        }
        self.end_conversation(p.workspace, id, "agent").await
    }

    /// The customer's 1–5 rating, once per contact, of a conversation an agent handled.
    pub async fn rate(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        score: u8,
        comment: Option<String>,
    ) -> Result<(), ServiceError> {
        if !(1..=5).contains(&score) {
            return Err(ServiceError::invalid("score", "a rating is 1 to 5"));
        }
        let comment = comment.map(|c| c.trim().chars().take(2000).collect::<String>()).filter(|c| !c.is_empty());
        let live = self.conversations().get(id);
        let _live = live.lock().await;
        if !self.store().contact_events(ws, id, Some(Kind::Csat.as_str())).await?.is_empty() {
            return Err(ServiceError::Conflict("this chat is rated already".into()));
        }
        let stored = self.open_record(ws, id).await?;
        if stored.agent.is_none() {
            return Err(ServiceError::Conflict("only a chat with an agent can be rated".into()));
        }
        let mut closed = stored;
        self.apply(ws, move |c, now, changes| {
            // Still in wrap-up, routing holds it; else the stored one is current.
            let record = c.contacts.get_mut(&id).unwrap_or(&mut closed);
            record.attributes.insert("csat", AttrValue::Num(score as f64));
            changes.push(event(record, now, Kind::Csat, json!({ "score": score, "comment": comment })));
            changes.push(Change::PutContact(record.clone()));
            Ok(())
        })
        .await
    }

    /// Turns a conversation waiting in line into a left message: it keeps its
    /// place, the customer may go, and the agent answers by email.
    pub async fn leave_message_in_line(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        name: String,
        text: String,
        attributes: BTreeMap<String, AttrValue>,
    ) -> Result<ContactId, ServiceError> {
        self.apply(ws, move |c, now, changes| {
            let record = c
                .contacts
                .get_mut(&id)
                .filter(|r| matches!(r.state, ContactState::Queued | ContactState::Offered))
                .ok_or_else(|| ServiceError::Conflict("this chat is not waiting for an agent".into()))?;
            record.attributes.extend(attributes);
            record.updated_at = now;
            changes.push(MessageBody::new(Author::Customer, &name, text).event(record, now));
            changes.push(Change::PutContact(record.clone()));
            Ok(id)
        })
        .await
    }
}
