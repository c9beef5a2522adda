//! What a channel knows about a contact when it asks for routing.

use crate::attributes::Attributes;
use crate::channel::Channel;
use crate::ids::{AgentId, ContactId, QueueId};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq)]
pub struct ContactSpec {
    pub id: ContactId,
    pub channel: Channel,
    pub queue: QueueId,
    /// Higher is served first.
    pub priority: i32,
    pub attributes: Attributes,
    /// The customer's recent agents, for sticky routing and expressions.
    pub preferred_agents: Vec<AgentId>,
    /// When the customer started waiting. `None` means now; callbacks and
    /// restarts pass the original time so the contact keeps its place.
    pub enqueued_at: Option<Timestamp>,
}

impl ContactSpec {
    pub fn new(id: ContactId, channel: Channel, queue: QueueId) -> Self {
        ContactSpec {
            id,
            channel,
            queue,
            priority: 0,
            attributes: Attributes::new(),
            preferred_agents: Vec::new(),
            enqueued_at: None,
        }
    }
}
