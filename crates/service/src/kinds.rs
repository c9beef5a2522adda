//! Every kind of event the log holds, in one place: the engine's (named
//! after `switchboard_core::events::EventKind`) and the service's own.
//!
//! The names are the wire format: webhooks, the events WebSocket, the chat
//! widget and the timeline read them, so they never change once released.
//! Code names a kind through [`Kind`], never by a string literal, so a kind
//! cannot be misspelt in one place and right in another.

use switchboard_core::events::EventKind;

/// An event kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    // The routing engine's.
    ContactQueued,
    StepChanged,
    OfferCreated,
    OfferAccepted,
    OfferEnded,
    ContactEnded,
    WrapUpEnded,
    ContactTransferred,
    ContactOverflowed,
    CallbackScheduled,
    ContactLeft,
    ContactCancelled,
    AgentStateChanged,
    // The service's.
    DispositionSet,
    CustomerNote,
    CustomerMerged,
    /// A message of a conversation, any channel, either way.
    Message,
    /// Where an outbound message stands with its channel's provider.
    Delivery,
    BotContained,
    BotHandoff,
    Csat,
    /// A customer opened a conversation at an endpoint; the payload names
    /// `channel` and `endpoint`, which reports group by.
    ConversationOpened,
    /// A conversation ended (by the customer, the agent, or a timeout) on
    /// any channel but the API's; the payload names `by` and `channel`.
    /// Events written before there were other channels say `chat_ended`.
    ConversationEnded,
    /// A call's recording was written; the payload names its file.
    Recording,
    /// The agent put the customer on hold (a call, from the desktop or the
    /// agent's phone: the payload's `by`); reports count the time until
    /// `contact_resumed` (or the end) as hold, not talk.
    ContactHeld,
    /// The agent took the customer off hold.
    ContactResumed,
    /// The agent muted themselves on a call (the desktop's Mute): the caller
    /// stops hearing them and the recording's agent side is silence; the
    /// payload names `by`, the user.
    ContactMuted,
    /// The agent unmuted themselves.
    ContactUnmuted,
    /// The agent paused a call's recording (a card number is read out); the
    /// payload names `by`, the user.
    RecordingPaused,
    /// The agent resumed it.
    RecordingResumed,
    /// A flow's `verify` block finished: the payload names the `check` and
    /// its `outcome` (`verified`, `failed`, `not_attempted`).
    Verification,
    EndpointCreated,
    EndpointUpdated,
    EndpointDeleted,
    /// An endpoint's channel has failed to reach its provider for longer
    /// than the endpoint allows (an IMAP mailbox that cannot be polled).
    EndpointFailing,
    /// It works again after an `EndpointFailing`.
    EndpointRecovered,
    Audit,
    /// An automation rule fired on a contact; the payload names the rule
    /// and every action with its outcome.
    RuleFired,
    /// Yesterday's totals per queue, sent as the workspace's daily summary.
    DailySummary,
    /// A conversation's first- or next-response target passed without an
    /// agent's reply: once per customer message that started the clock;
    /// the payload names the `timer`, that `message`, and the `due` time.
    SlaBreached,
    /// A supervisor published or edited an agent's roster shifts: the
    /// event names the agent and the payload the `days` changed, so the
    /// agent's open desktops read the schedule again.
    RosterChanged,
    /// A response target is about to pass (the queue's
    /// `sla_warning_seconds` of business time are left): once per clock,
    /// before its `SlaBreached`; the payload is the breach's.
    SlaWarning,
    /// One attempt to call back a customer who asked for a courtesy
    /// callback ended: the payload names the `attempt`, how many the queue
    /// allows (`of`), its `outcome` (`answered`, `busy`, `no_answer`,
    /// `failed`), the `number`, the `agent`, and `next` (`talking`,
    /// `retry` with `retry_at`, or `given_up`).
    CallbackAttempted,
    /// An agent on a published shift has been out of adherence (the
    /// `breach`: `not_working` or `working_on_break`) for the workspace's
    /// threshold (`phase` `started`, from `since`), or is no longer
    /// (`ended`, at `until`, after `seconds`). Logged by the service's
    /// ticker; see `realtime_adherence.rs`.
    AdherenceException,
    /// An automation rule put a conversation under an SLA policy: the
    /// payload names the `policy`, the `rule`, and holds the policy as it
    /// was then (`sla_policy`), whose targets the conversation's clocks follow.
    SlaPolicyApplied,
}

impl Kind {
    /// Every kind, engine's first: what a webhook may follow.
    pub const ALL: [Kind; 45] = [
        Kind::ContactQueued,
        Kind::StepChanged,
        Kind::OfferCreated,
        Kind::OfferAccepted,
        Kind::OfferEnded,
        Kind::ContactEnded,
        Kind::WrapUpEnded,
        Kind::ContactTransferred,
        Kind::ContactOverflowed,
        Kind::CallbackScheduled,
        Kind::ContactLeft,
        Kind::ContactCancelled,
        Kind::DispositionSet,
        Kind::AgentStateChanged,
        Kind::CustomerNote,
        Kind::CustomerMerged,
        Kind::Message,
        Kind::Delivery,
        Kind::BotContained,
        Kind::BotHandoff,
        Kind::Csat,
        Kind::ConversationOpened,
        Kind::ConversationEnded,
        Kind::Recording,
        Kind::ContactHeld,
        Kind::ContactResumed,
        Kind::ContactMuted,
        Kind::ContactUnmuted,
        Kind::RecordingPaused,
        Kind::RecordingResumed,
        Kind::Verification,
        Kind::EndpointCreated,
        Kind::EndpointUpdated,
        Kind::EndpointDeleted,
        Kind::EndpointFailing,
        Kind::EndpointRecovered,
        Kind::Audit,
        Kind::RuleFired,
        Kind::DailySummary,
        Kind::SlaBreached,
        Kind::RosterChanged,
        Kind::SlaWarning,
        Kind::CallbackAttempted,
        Kind::AdherenceException,
        Kind::SlaPolicyApplied,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::ContactQueued => "contact_queued",
            Kind::StepChanged => "step_changed",
            Kind::OfferCreated => "offer_created",
            Kind::OfferAccepted => "offer_accepted",
            Kind::OfferEnded => "offer_ended",
            Kind::ContactEnded => "contact_ended",
            Kind::WrapUpEnded => "wrap_up_ended",
            Kind::ContactTransferred => "contact_transferred",
            Kind::ContactOverflowed => "contact_overflowed",
            Kind::CallbackScheduled => "callback_scheduled",
            Kind::ContactLeft => "contact_left",
            Kind::ContactCancelled => "contact_cancelled",
            Kind::AgentStateChanged => "agent_state_changed",
            Kind::DispositionSet => "disposition_set",
            Kind::CustomerNote => "customer_note",
            Kind::CustomerMerged => "customer_merged",
            Kind::Message => "message",
            Kind::Delivery => "delivery",
            Kind::BotContained => "bot_contained",
            Kind::BotHandoff => "bot_handoff",
            Kind::Csat => "csat",
            Kind::ConversationOpened => "conversation_opened",
            Kind::ConversationEnded => "conversation_ended",
            Kind::Recording => "recording",
            Kind::ContactHeld => "contact_held",
            Kind::ContactResumed => "contact_resumed",
            Kind::ContactMuted => "contact_muted",
            Kind::ContactUnmuted => "contact_unmuted",
            Kind::RecordingPaused => "recording_paused",
            Kind::RecordingResumed => "recording_resumed",
            Kind::Verification => "verification",
            Kind::EndpointCreated => "endpoint_created",
            Kind::EndpointUpdated => "endpoint_updated",
            Kind::EndpointDeleted => "endpoint_deleted",
            Kind::EndpointFailing => "endpoint_failing",
            Kind::EndpointRecovered => "endpoint_recovered",
            Kind::Audit => "audit",
            Kind::RuleFired => "rule_fired",
            Kind::DailySummary => "daily_summary",
            Kind::SlaBreached => "sla_breached",
            Kind::RosterChanged => "roster_changed",
            Kind::SlaWarning => "sla_warning",
            Kind::CallbackAttempted => "callback_attempted",
            Kind::AdherenceException => "adherence_exception",
            Kind::SlaPolicyApplied => "sla_policy_applied",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The kind of the log entry an engine event becomes.
    pub fn of_engine(kind: &EventKind) -> Kind {
        match kind {
            EventKind::ContactQueued { .. } => Kind::ContactQueued,
            EventKind::StepChanged { .. } => Kind::StepChanged,
            EventKind::OfferCreated { .. } => Kind::OfferCreated,
            EventKind::OfferAccepted { .. } => Kind::OfferAccepted,
            EventKind::OfferEnded { .. } => Kind::OfferEnded,
            EventKind::ContactEnded { .. } => Kind::ContactEnded,
            EventKind::WrapUpEnded { .. } => Kind::WrapUpEnded,
            EventKind::ContactTransferred { .. } => Kind::ContactTransferred,
            EventKind::ContactOverflowed { .. } => Kind::ContactOverflowed,
            EventKind::CallbackScheduled { .. } => Kind::CallbackScheduled,
            EventKind::ContactLeft { .. } => Kind::ContactLeft,
            EventKind::ContactCancelled { .. } => Kind::ContactCancelled,
            EventKind::AgentStateChanged { .. } => Kind::AgentStateChanged,
        }
    }

    /// Whether an event of this kind changes where a conversation stands
    /// for its customer (with the bot, waiting, with an agent, ended,
    /// rated): a channel that shows the customer a status tells them again.
    pub fn changes_customer_status(self) -> bool {
        matches!(
            self,
            Kind::ContactQueued
                | Kind::OfferCreated
                | Kind::OfferEnded
                | Kind::OfferAccepted
                | Kind::ContactEnded
                | Kind::ConversationEnded
                | Kind::BotContained
                | Kind::ContactLeft
                | Kind::ContactCancelled
                | Kind::ContactTransferred
                | Kind::Csat
        )
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<Kind> for str {
    fn eq(&self, k: &Kind) -> bool {
        self == k.as_str()
    }
}

impl PartialEq<Kind> for String {
    fn eq(&self, k: &Kind) -> bool {
        self == k.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_parse_back() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(Kind::ALL.iter().filter(|o| o.as_str() == k.as_str()).count(), 1, "{k}");
        }
    }
}
