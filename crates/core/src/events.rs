//! Everything the engine decides is announced as a typed event. The store
//! appends them to the log, reports aggregate them, WebSockets push them.

use crate::agent::{AgentState, ReasonCode};
use crate::channel::Channel;
use crate::ids::{AgentId, ContactId, QueueId};
use crate::queue::OverflowAction;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Why an offer went back to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferEnd {
    Rejected,
    TimedOut,
    /// The agent went away or offline, or was removed.
    Revoked,
}

/// Why a contact left its queue without reaching an agent there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowReason {
    MaxWait,
    MaxLength,
    Closed,
    /// The caller chose to leave the line for voicemail (the queue's voicemail key).
    Caller,
}

/// Where a transfer sends a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "id")]
pub enum TransferTarget {
    Queue(QueueId),
    Agent(AgentId),
}

/// Why a queued contact was taken out by the outside world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The customer left (hung up, closed the chat).
    Abandoned,
    /// An agent, supervisor or integration withdrew it.
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    ContactQueued {
        contact: ContactId,
        queue: QueueId,
        channel: Channel,
        position: u32,
    },
    StepChanged {
        contact: ContactId,
        queue: QueueId,
        step: u32,
    },
    OfferCreated {
        contact: ContactId,
        queue: QueueId,
        agent: AgentId,
        expires_at: Timestamp,
    },
    OfferAccepted {
        contact: ContactId,
        queue: QueueId,
        agent: AgentId,
        #[serde(with = "crate::serde_secs")]
        waited: Duration,
    },
    OfferEnded {
        contact: ContactId,
        queue: QueueId,
        agent: AgentId,
        reason: OfferEnd,
    },
    /// Handling is over; the agent's wrap-up (if any) begins.
    ContactEnded {
        contact: ContactId,
        queue: QueueId,
        agent: AgentId,
    },
    WrapUpEnded {
        contact: ContactId,
        agent: AgentId,
    },
    ContactTransferred {
        contact: ContactId,
        from: QueueId,
        target: TransferTarget,
    },
    ContactOverflowed {
        contact: ContactId,
        queue: QueueId,
        reason: OverflowReason,
        action: OverflowAction,
    },
    CallbackScheduled {
        contact: ContactId,
        queue: QueueId,
    },
    /// The customer left before reaching an agent. `reason` is always
    /// `abandoned` now; logs written before [`EventKind::ContactCancelled`]
    /// existed also hold `cancelled` here.
    ContactLeft {
        contact: ContactId,
        queue: QueueId,
        reason: CancelReason,
        #[serde(with = "crate::serde_secs")]
        waited: Duration,
    },
    /// An agent, supervisor or integration withdrew the contact before it
    /// reached an agent: neither handled nor abandoned.
    ContactCancelled {
        contact: ContactId,
        queue: QueueId,
        #[serde(with = "crate::serde_secs")]
        waited: Duration,
    },
    AgentStateChanged {
        agent: AgentId,
        from: AgentState,
        to: AgentState,
        reason: Option<ReasonCode>,
    },
}
