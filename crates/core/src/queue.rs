//! Queues: where contacts wait, with service-level threshold, hours and overflow.

use crate::calendar::Calendar;
use crate::channel::ChannelSet;
use crate::ids::{PolicyId, QueueId};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// After-contact work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrapUp {
    /// The agent is free as soon as the contact ends.
    None,
    /// Wrap-up lasts this long, or until the agent ends it earlier.
    #[serde(with = "crate::serde_secs")]
    Fixed(Duration),
    /// Wrap-up lasts until the agent ends it.
    UntilEnded,
}

/// What happens to a contact that cannot (or can no longer) wait in a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowAction {
    /// Move to another queue, keeping the original enqueue time.
    Queue(QueueId),
    /// Keep the contact's place in line, but stop holding: an agent calls back.
    Callback,
    /// Leave the queue for voicemail; the channel records the message.
    Voicemail,
    /// Leave the queue; the channel plays a closing message and hangs up.
    Disconnect,
}

/// How a queue orders the agents that could take a contact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderingKind {
    /// The agent idle longest: since their last contact ended (wrap-up
    /// included) or they became available (default).
    #[default]
    LongestIdle,
    /// Highest summed proficiency in the skills the queue's policy reads.
    MostSkilled,
    /// Lowest summed proficiency: keeps experts free for hard contacts.
    LeastSkilled,
    /// Fewest contacts relative to capacity.
    LeastOccupied,
    /// The agent offered a contact from this queue least recently.
    RoundRobin,
    /// Uniformly among the eligible, from the engine's seeded generator.
    Random,
}

/// The decline cooldown of a queue that sets none: long enough that an agent
/// who said no is not asked again at once while colleagues are free, short
/// enough that a single agent gets the contact back within the minute.
pub const DEFAULT_DECLINE_COOLDOWN: Duration = Duration::from_secs(30);

/// The shortest and longest offer timeout: below five seconds nobody can
/// accept in time, and beyond an hour the offer is as good as never expiring.
pub const OFFER_TIMEOUT_RANGE: std::ops::RangeInclusive<f64> = 5.0..=3600.0;

/// The decline cooldown's range: zero turns it off, and beyond an hour the
/// contact is as good as never coming back to that agent.
pub const DECLINE_COOLDOWN_RANGE: std::ops::RangeInclusive<f64> = 0.0..=3600.0;

/// `v` seconds as a duration if it lies within `range`, else a message
/// saying the range (for the caller to put beside the field's name).
pub fn seconds_within(v: f64, range: &std::ops::RangeInclusive<f64>) -> Result<Duration, String> {
    let (lo, hi) = (range.start(), range.end());
    let message = || format!("must be from {lo} to {hi} seconds, got {v}");
    if !range.contains(&v) {
        return Err(message());
    }
    Duration::try_from_secs_f64(v).map_err(|_| message())
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueConfig {
    pub id: QueueId,
    pub name: String,
    pub channels: ChannelSet,
    pub policy: PolicyId,
    pub ordering: OrderingKind,
    /// Service-level threshold T: "answered within T".
    pub sl_threshold: Duration,
    pub wrap_up: WrapUp,
    /// How long an offer waits for the agent before it is withdrawn.
    pub offer_timeout: Duration,
    pub max_wait: Option<Duration>,
    pub max_length: Option<u32>,
    pub overflow: OverflowAction,
    /// `None` means always open.
    pub calendar: Option<Calendar>,
    pub after_hours: OverflowAction,
    /// Offer a contact first to the customer's preferred (last) agents for
    /// this long; zero turns sticky routing off.
    pub sticky: Duration,
    /// Handle time assumed for wait estimates until the queue has measured one.
    pub expected_handle_time: Duration,
    /// After an agent rejects or misses an offer, how long the contact is
    /// not offered to that agent again (others may take it at once). Zero
    /// offers it again straight away, which suits a queue of one agent.
    pub decline_cooldown: Duration,
}

impl QueueConfig {
    pub fn new(id: QueueId, name: impl Into<String>, channels: ChannelSet, policy: PolicyId) -> Self {
        QueueConfig {
            id,
            name: name.into(),
            channels,
            policy,
            ordering: OrderingKind::LongestIdle,
            sl_threshold: Duration::from_secs(20),
            wrap_up: WrapUp::None,
            offer_timeout: Duration::from_secs(30),
            max_wait: None,
            max_length: None,
            overflow: OverflowAction::Disconnect,
            calendar: None,
            after_hours: OverflowAction::Voicemail,
            sticky: Duration::ZERO,
            expected_handle_time: Duration::from_secs(300),
            decline_cooldown: DEFAULT_DECLINE_COOLDOWN,
        }
    }
}
