//! Outbound delivery: a loop per registered channel follows the committed
//! `message` events written by agents and the bot on contacts of its
//! channel, hands each to the channel's [`ChannelAdapter::send`], and
//! records how it went as `delivery` events on the contact:
//!
//! - no `delivery` event yet: queued;
//! - `{"state": "sent", "provider_id"}` once the provider took it;
//! - `{"state": "failed", "reason", "attempt", "final": false}` after a
//!   failed attempt that will be retried (after 1 × `first_retry`, then
//!   doubling), and `"final": true` when it will not be (a permanent error,
//!   or the attempts are used up): the agent sees it and can write again;
//! - `delivered` and `read` when the provider reports them
//!   ([`Service::report_delivery`]).
//!
//! The loop keeps its place per workspace in memory and in a document
//! (`delivery_cursor`), stored after a pass that sent something and at least
//! once a page, so a restart resumes with what was committed but not yet
//! sent (reading again what it had read, not sending it again). Messages
//! of one channel go out one at a time, in the log's order.

use super::channel::{ChannelAdapter, Outbound, SendError};
use super::inbound::THREAD_ATTRIBUTE;
use super::messages::{Author, MessageBody};
use crate::center::contact_event;
use crate::kinds::Kind;
use crate::{Service, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_store::{Change, ContactRecord, Document, LoggedEvent};
use tokio::sync::broadcast::error::RecvError;

const CURSOR_KIND: &str = "delivery_cursor";
/// Messages read from the log per query.
const PAGE: u32 = 200;

/// Where a delivery loop is in each workspace's log: after event `after`,
/// with `unsaved` messages read since the place was last stored.
struct Place {
    after: u64,
    unsaved: usize,
}

type Places = HashMap<WorkspaceId, Place>;

/// How sends are attempted.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    /// Attempts per message, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; each later wait doubles.
    pub first_retry: Duration,
}

impl Default for DeliveryOptions {
    /// Six attempts, waiting 2, 4, 8, 16 and 32 s between them.
    fn default() -> Self {
        DeliveryOptions { attempts: 6, first_retry: Duration::from_secs(2) }
    }
}

impl DeliveryOptions {
    fn backoff(&self, attempt: u32) -> Duration {
        self.first_retry.saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
    }
}

/// Where a message stands with the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

/// The latest `delivery` event of one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryStatus {
    pub state: DeliveryState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a failure: whether no further attempt will be made.
    #[serde(rename = "final")]
    pub last: bool,
}

impl Service {
    /// Runs `adapter`'s delivery loop until `stop` turns true.
    pub fn spawn_delivery(
        &self,
        adapter: Arc<dyn ChannelAdapter>,
        options: DeliveryOptions,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        // Subscribed before the first pass, so nothing committed meanwhile is missed.
        let mut events = self.subscribe();
        tokio::spawn(async move {
            let mut dirty: Option<Vec<WorkspaceId>> = None; // None: every workspace
            let mut places = Places::new();
            loop {
                let pass = match dirty.take() {
                    None => service.deliver_everywhere(adapter.as_ref(), &options, &mut places).await,
                    Some(list) => service.deliver_in(&list, adapter.as_ref(), &options, &mut places).await,
                };
                if let Err(e) = pass {
                    tracing::warn!(error = %e, channel = %adapter.kind(), "delivery pass failed");
                }
                tokio::select! {
                    _ = stop.changed() => return,
                    heard = events.recv() => match heard {
                        Ok(e) if e.kind == Kind::Message => dirty = Some(vec![e.workspace]),
                        Ok(_) => dirty = Some(Vec::new()),
                        // Missed some: look through everything.
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        })
    }

    /// Sends whatever is committed and not yet settled on `adapter`'s
    /// channel, in every workspace. The loop calls this; a test may too.
    pub async fn deliver_pending(
        &self,
        adapter: &dyn ChannelAdapter,
        options: &DeliveryOptions,
    ) -> Result<(), ServiceError> {
        self.deliver_everywhere(adapter, options, &mut Places::new()).await
    }

    async fn deliver_everywhere(
        &self,
        adapter: &dyn ChannelAdapter,
        options: &DeliveryOptions,
        places: &mut Places,
    ) -> Result<(), ServiceError> {
        let all: Vec<WorkspaceId> = self.store().workspaces().await?.into_iter().map(|w| w.id).collect();
        self.deliver_in(&all, adapter, options, places).await
    }

    async fn deliver_in(
        &self,
        workspaces: &[WorkspaceId],
        adapter: &dyn ChannelAdapter,
        options: &DeliveryOptions,
        places: &mut Places,
    ) -> Result<(), ServiceError> {
        for ws in workspaces {
            self.deliver_workspace(*ws, adapter, options, places).await?;
        }
        Ok(())
    }

    async fn deliver_workspace(
        &self,
        ws: WorkspaceId,
        adapter: &dyn ChannelAdapter,
        options: &DeliveryOptions,
        places: &mut Places,
    ) -> Result<(), ServiceError> {
        let cursor_id = adapter.kind().index() as u64;
        let place = match places.get_mut(&ws) {
            Some(place) => place,
            None => {
                let stored = match self.store().document(ws, CURSOR_KIND, cursor_id).await? {
                    Some(d) => d.body["after"].as_u64().unwrap_or(0),
                    None => 0,
                };
                places.entry(ws).or_insert(Place { after: stored, unsaved: 0 })
            }
        };
        let mut channels: HashMap<ContactId, Option<ContactRecord>> = HashMap::new();
        loop {
            let page = self.store().events_of_kind(ws, Kind::Message.as_str(), place.after, PAGE).await?;
            let Some(last) = page.last().map(|e| e.id) else { return Ok(()) };
            place.unsaved += page.len();
            let mut sent = false;
            for e in page {
                let Some(contact) = e.contact else { continue };
                // Customers' messages, the most of them, need no lookup.
                let Some(body) = outbound_body(&e) else { continue };
                let record = match channels.get(&contact) {
                    Some(known) => known.clone(),
                    None => {
                        let record = self.store().contact(ws, contact).await?.filter(|r| r.channel == adapter.kind());
                        channels.insert(contact, record.clone());
                        record
                    }
                };
                let Some(record) = record else { continue };
                if !self.settled(ws, contact, e.id).await? {
                    self.deliver(adapter, options, &record, &e, body).await?;
                    sent = true;
                }
            }
            place.after = last;
            // Every channel's loop reads every message, and a commit of the
            // place per message made each channel cost every other one a
            // write. It is stored when this channel sent something, or a page
            // on; a restart then reads at most a page again and sends nothing
            // twice (a message sent already is settled by its `delivery` event).
            if sent || place.unsaved >= PAGE as usize {
                self.save_cursor(ws, cursor_id, last).await?;
                place.unsaved = 0;
            }
        }
    }

    async fn save_cursor(&self, ws: WorkspaceId, id: u64, after: u64) -> Result<(), ServiceError> {
        let doc = Document {
            workspace: ws,
            kind: CURSOR_KIND.into(),
            id,
            body: json!({ "after": after }),
            updated_at: self.now(),
        };
        self.store().commit(vec![Change::PutDocument(doc)]).await?;
        Ok(())
    }

    /// Whether a message was sent, or failed for good, already.
    async fn settled(&self, ws: WorkspaceId, contact: ContactId, message: u64) -> Result<bool, ServiceError> {
        Ok(self
            .delivery_statuses(ws, contact)
            .await?
            .get(&message)
            .is_some_and(|s| s.state != DeliveryState::Failed || s.last))
    }

    /// Attempts one message until it is sent or given up.
    async fn deliver(
        &self,
        adapter: &dyn ChannelAdapter,
        options: &DeliveryOptions,
        record: &ContactRecord,
        e: &LoggedEvent,
        body: MessageBody,
    ) -> Result<(), ServiceError> {
        let thread = match record.attributes.get(THREAD_ATTRIBUTE) {
            Some(AttrValue::Str(t)) => Some(t.clone()),
            _ => None,
        };
        // Only a channel that addresses its messages names the one it
        // answers: the others are spared the read.
        let in_reply_to = match adapter.capabilities().addressing {
            true => self.answered(record, e.id).await?,
            false => None,
        };
        let message = Outbound {
            workspace: record.workspace,
            contact: record.id,
            customer: record.customer,
            message: e.id,
            thread,
            in_reply_to,
            attributes: record.attributes.clone(),
            body,
        };
        for attempt in 1..=options.attempts.max(1) {
            let payload = match adapter.send(message.clone()).await {
                Ok(sent) => {
                    json!({ "message": e.id, "state": DeliveryState::Sent, "provider_id": sent.provider_id, "attempt": attempt })
                }
                Err(err) => {
                    let last = matches!(err, SendError::Permanent(_)) || attempt >= options.attempts;
                    let payload = json!({ "message": e.id, "state": DeliveryState::Failed, "reason": err.to_string(), "attempt": attempt, "final": last });
                    self.commit_and_publish(vec![contact_event(record, self.now(), Kind::Delivery, payload)]).await?;
                    if last {
                        return Ok(());
                    }
                    tokio::time::sleep(options.backoff(attempt)).await;
                    continue;
                }
            };
            self.commit_and_publish(vec![contact_event(record, self.now(), Kind::Delivery, payload)]).await?;
            return Ok(());
        }
        Ok(())
    }

    /// The sender's id of the customer's latest message before event
    /// `before` of the conversation.
    async fn answered(&self, record: &ContactRecord, before: u64) -> Result<Option<String>, ServiceError> {
        let messages = self.store().contact_events(record.workspace, record.id, Some(Kind::Message.as_str())).await?;
        Ok(messages
            .iter()
            .rev()
            .filter(|m| m.id < before && m.payload["from"] == json!(Author::Customer))
            .find_map(|m| m.payload["client_id"].as_str().map(str::to_string)))
    }

    /// A provider's report on a message it took (delivered, read, or failed
    /// after all), found by the provider's id; the channel's webhook calls it.
    pub async fn report_delivery(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        provider_id: &str,
        state: DeliveryState,
        reason: Option<String>,
    ) -> Result<(), ServiceError> {
        let events = self.store().contact_events(ws, contact, Some(Kind::Delivery.as_str())).await?;
        let Some(message) = events
            .iter()
            .find(|e| e.payload["provider_id"].as_str() == Some(provider_id))
            .and_then(|e| e.payload["message"].as_u64())
        else {
            return Err(ServiceError::NotFound(format!("message {provider_id}")));
        };
        let record = self.open_record(ws, contact).await?;
        let payload =
            json!({ "message": message, "state": state, "reason": reason, "provider_id": provider_id, "final": true });
        self.commit_and_publish(vec![contact_event(&record, self.now(), Kind::Delivery, payload)]).await?;
        Ok(())
    }

    /// Each outbound message's latest delivery state on `contact`, by message id.
    pub async fn delivery_statuses(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
    ) -> Result<HashMap<u64, DeliveryStatus>, ServiceError> {
        let mut out = HashMap::new();
        for e in self.store().contact_events(ws, contact, Some(Kind::Delivery.as_str())).await? {
            let Some(message) = e.payload["message"].as_u64() else { continue };
            let Ok(state) = serde_json::from_value::<DeliveryState>(e.payload["state"].clone()) else { continue };
            let reason = e.payload["reason"].as_str().map(str::to_string);
            let last = e.payload["final"].as_bool().unwrap_or(state != DeliveryState::Failed);
            out.insert(message, DeliveryStatus { state, reason, last });
        }
        Ok(out)
    }
}

/// The message of an agent, the bot or the system, which the customer's
/// channel must carry; `None` for the customer's own.
fn outbound_body(e: &LoggedEvent) -> Option<MessageBody> {
    let body: MessageBody = serde_json::from_value(e.payload.clone()).ok()?;
    (body.from != Author::Customer).then_some(body)
}
