//! The `api` channel: contacts integrators create over HTTP (a CRM's case,
//! a web form, a task), taken in through the conversation seam like every
//! other channel's, with nothing of its own: the workspace's `api`
//! endpoint names the channel and a default queue, [`Service::inbound`]
//! finds or makes the customer, opens the contact with its
//! `conversation_opened` event, logs the integrator's first message and
//! routes it — one commit.
//!
//! The endpoint is a real one, listed and edited with the others (its
//! default queue, a flow, disabling it turns the channel off). Like the
//! chat widget's, it is made on first use: the workspace's first API
//! contact, once its customer and queue are known good, so that a refused
//! request leaves nothing behind. Should there be several, the first serves.

use crate::auth::Principal;
use crate::conversation::{Inbound, IncomingMessage, Opening, Sender, Thread, Unidentified};
use crate::{IdentityValue, Service, ServiceError, names, require};
use serde::Deserialize;
use std::collections::BTreeMap;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::{CustomerId, QueueId, WorkspaceId};
use switchboard_store::{ContactRecord, EndpointRecord, Role};

/// The attribute an integrator's `subject` becomes.
pub const SUBJECT_ATTRIBUTE: &str = "subject";
/// The longest subject, in characters.
const MAX_SUBJECT: usize = 998;
/// The longest first message, in characters.
const MAX_MESSAGE: usize = 64 * 1024;
/// The longest idempotency key, in characters.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// A contact an integrator creates (`POST /contacts`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// Where it waits; by default the API endpoint's queue (or its flow).
    #[serde(default)]
    pub queue: Option<QueueId>,
    /// Only `api`: requests from before the channel was an endpoint's may
    /// still name it. The other channels come in through their endpoints.
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// A customer by id; with neither this nor `customer_identity` the
    /// contact has no customer.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// Instead of `customer`: the customer with this identity, created if new.
    #[serde(default)]
    pub customer_identity: Option<IdentityValue>,
    /// What it is about: kept as the contact's `subject` attribute.
    #[serde(default)]
    pub subject: Option<String>,
    /// The customer's first message, logged as theirs.
    #[serde(default)]
    pub message: Option<String>,
    /// The request's `Idempotency-Key`: the same key again answers the
    /// contact the first request made, and makes nothing.
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl Service {
    /// A contact on the `api` channel, through the conversation seam (see
    /// the module's note): answered as it stands once committed (routing
    /// may already have offered it).
    pub async fn create_contact(&self, p: &Principal, new: NewContact) -> Result<ContactRecord, ServiceError> {
        require(p, Role::Supervisor)?;
        if new.channel.is_some_and(|c| c != Channel::Api) {
            return Err(ServiceError::invalid(
                "channel",
                "contacts created over the API are on the api channel; the others come in through their endpoints",
            ));
        }
        let once = new.idempotency_key.as_deref().map(|k| names::line("idempotency_key", k, MAX_IDEMPOTENCY_KEY));
        let once = once.transpose()?;
        let mut attributes = new.attributes;
        if let Some(subject) = &new.subject {
            if attributes.contains_key(SUBJECT_ATTRIBUTE) {
                return Err(ServiceError::invalid("subject", "given in attributes too"));
            }
            attributes.insert(SUBJECT_ATTRIBUTE.into(), Value::Str(names::line("subject", subject, MAX_SUBJECT)?));
        }
        let message = new.message.as_deref().map(|m| names::text("message", m, MAX_MESSAGE)).transpose()?;
        let customer = new.customer.map_or(Unidentified::Nobody, Unidentified::Known);
        let inbound = Inbound {
            sender: Sender { identity: new.customer_identity, name: None },
            message: message.map(|text| IncomingMessage { text, ..Default::default() }),
            opening: Opening { attributes, customer, queue: new.queue, priority: new.priority, ..Default::default() },
        };
        let endpoint = self.api_endpoint(p.workspace, &inbound).await?;
        if !endpoint.enabled {
            return Err(ServiceError::Conflict(format!(
                "contacts over the API are turned off: endpoint {} is disabled",
                endpoint.id.0
            )));
        }
        if new.queue.is_none() && endpoint.queue.is_none() && endpoint.flow.is_none() {
            return Err(ServiceError::invalid(
                "queue",
                format!("name a queue: the API endpoint ({}) has no default queue", endpoint.id.0),
            ));
        }
        let received = self.inbound(endpoint.id, once.map_or(Thread::New, Thread::Once), inbound).await?;
        self.open_record(p.workspace, received.contact).await
    }

    /// The workspace's `api` endpoint, made if it has none: see the
    /// module's note. The request's customer and queue are checked before
    /// one is made, in the order `inbound` checks them.
    async fn api_endpoint(&self, ws: WorkspaceId, request: &Inbound) -> Result<EndpointRecord, ServiceError> {
        if let Some(known) = self.indexed_api_endpoint(ws) {
            return Ok(known);
        }
        // Serialises the workspace's first API contacts: one endpoint.
        let _guard = self.customers_lock(ws).await;
        let stored = self.store().endpoints(ws).await?.into_iter().filter(|r| r.channel == Channel::Api);
        if let Some(found) = stored.min_by_key(|r| r.id) {
            return Ok(found);
        }
        self.opening_customer(ws, &request.sender, request.opening.customer, None).await?;
        let Some(queue) = request.opening.queue else {
            return Err(ServiceError::invalid("queue", "name a queue: the API endpoint has no default queue"));
        };
        if !self.inspect(ws, |c| c.queues.contains_key(&queue)).await? {
            return Err(ServiceError::invalid("queue", format!("no queue {}", queue.0)));
        }
        self.make_endpoint(ws, Channel::Api, "API", "the workspace's first contact over the API").await
    }

    /// The first `api` endpoint of the workspace in the service's index.
    fn indexed_api_endpoint(&self, ws: WorkspaceId) -> Option<EndpointRecord> {
        self.inner.endpoints.read().expect("endpoints lock").first(ws, Channel::Api).cloned()
    }
}
