//! Agents: skills, capacity, queue memberships and presence.

use crate::channel::{Channel, ChannelSet};
use crate::ids::{AgentId, QueueId};
use crate::queue::WrapUp;
use crate::skills::SkillTable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// How many contacts an agent may hold at once, per channel, and which
/// channels exclude all others (a phone call blocks everything).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "CapacitySpec", into = "CapacitySpec")]
pub struct Capacity {
    per_channel: [u8; Channel::COUNT],
    exclusive: ChannelSet,
    max_total: Option<u8>,
}

/// The configuration form: `{ voice = 1, chat = 3, email = 2, exclusive = ["voice"] }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CapacitySpec {
    #[serde(default = "default_exclusive")]
    exclusive: Vec<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_total: Option<u8>,
    #[serde(flatten)]
    limits: BTreeMap<Channel, u8>,
}

fn default_exclusive() -> Vec<Channel> {
    vec![Channel::Voice]
}

impl From<CapacitySpec> for Capacity {
    fn from(s: CapacitySpec) -> Self {
        let mut per_channel = [0; Channel::COUNT];
        for (c, n) in s.limits {
            per_channel[c.index()] = n;
        }
        Capacity { per_channel, exclusive: ChannelSet::of(s.exclusive), max_total: s.max_total }
    }
}

impl From<Capacity> for CapacitySpec {
    fn from(c: Capacity) -> Self {
        CapacitySpec {
            exclusive: c.exclusive.iter().collect(),
            max_total: c.max_total,
            limits: Channel::ALL
                .into_iter()
                .filter(|ch| c.per_channel[ch.index()] > 0)
                .map(|ch| (ch, c.per_channel[ch.index()]))
                .collect(),
        }
    }
}

impl Default for Capacity {
    /// One call (which blocks everything else), or up to three chats or
    /// messaging conversations and two emails at once.
    fn default() -> Self {
        Capacity::from(CapacitySpec {
            exclusive: default_exclusive(),
            max_total: None,
            limits: [
                (Channel::Voice, 1),
                (Channel::Email, 2),
                (Channel::Chat, 3),
                (Channel::Sms, 3),
                (Channel::Whatsapp, 3),
                (Channel::Messenger, 3),
                (Channel::Telegram, 3),
                (Channel::Api, 1),
            ]
            .into(),
        })
    }
}

impl Capacity {
    /// Capacity for exactly the given channel limits, voice exclusive.
    pub fn of(limits: &[(Channel, u8)]) -> Self {
        Capacity::from(CapacitySpec {
            exclusive: default_exclusive(),
            max_total: None,
            limits: limits.iter().copied().collect(),
        })
    }

    pub fn with_exclusive(mut self, exclusive: ChannelSet) -> Self {
        self.exclusive = exclusive;
        self
    }

    pub fn with_max_total(mut self, max_total: Option<u8>) -> Self {
        self.max_total = max_total;
        self
    }

    pub fn limit(&self, c: Channel) -> u8 {
        self.per_channel[c.index()]
    }

    pub fn total(&self) -> u32 {
        self.per_channel.iter().map(|n| *n as u32).sum()
    }

    /// Whether one more contact on `c` fits next to `load`.
    pub fn can_take(&self, load: &Load, c: Channel) -> bool {
        if load.per_channel[c.index()] >= self.per_channel[c.index()] {
            return false;
        }
        if self.max_total.is_some_and(|m| load.total >= m) {
            return false;
        }
        if self.exclusive.contains(c) && load.total > 0 {
            return false;
        }
        !self.exclusive.meets(load.busy)
    }
}

/// Contacts an agent holds right now (offered, connected or in wrap-up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Load {
    per_channel: [u8; Channel::COUNT],
    total: u8,
    /// The channels with at least one contact, kept beside the counts so
    /// that the exclusive-channel rule is one mask test per decision.
    busy: ChannelSet,
}

impl Load {
    pub fn add(&mut self, c: Channel) {
        self.per_channel[c.index()] += 1;
        self.total += 1;
        self.busy.insert(c);
    }

    pub fn remove(&mut self, c: Channel) {
        self.per_channel[c.index()] -= 1;
        self.total -= 1;
        if self.per_channel[c.index()] == 0 {
            self.busy.remove(c);
        }
    }

    pub fn total(&self) -> u8 {
        self.total
    }
}

/// Why an agent is away. Free text chosen from the workspace's reason codes;
/// the engine itself uses [`ReasonCode::MISSED`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReasonCode(pub String);

impl ReasonCode {
    /// Set by the engine after too many offers in a row timed out.
    pub const MISSED: &'static str = "missed";

    pub fn new(s: impl Into<String>) -> Self {
        ReasonCode(s.into())
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the agent asked for: the engine routes only to `Available` agents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "presence", content = "reason", rename_all = "snake_case")]
pub enum Presence {
    Offline,
    Available,
    Away(ReasonCode),
}

/// The state reports and wallboards show, derived from presence and work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Offline,
    Available,
    OnContact,
    WrapUp,
    Away,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Offline => "offline",
            AgentState::Available => "available",
            AgentState::OnContact => "on_contact",
            AgentState::WrapUp => "wrap_up",
            AgentState::Away => "away",
        }
    }
}

/// An agent serves a queue with a priority (1 = first) and a delay: a contact
/// must have waited `delay` in the queue before it is offered to this agent
/// (Amazon Connect routing profiles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub queue: QueueId,
    #[serde(default = "default_priority")]
    pub priority: u8,
    #[serde(default, with = "crate::serde_secs")]
    pub delay: Duration,
}

fn default_priority() -> u8 {
    1
}

impl Membership {
    pub fn new(queue: QueueId) -> Self {
        Membership { queue, priority: 1, delay: Duration::ZERO }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    pub id: AgentId,
    pub skills: SkillTable,
    pub capacity: Capacity,
    pub memberships: Vec<Membership>,
    /// Overrides the queue's wrap-up when set.
    pub wrap_up: Option<WrapUp>,
}

impl AgentConfig {
    pub fn new(id: AgentId) -> Self {
        AgentConfig {
            id,
            skills: SkillTable::default(),
            capacity: Capacity::default(),
            memberships: Vec::new(),
            wrap_up: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_blocks_everything_and_is_blocked_by_anything() {
        let cap = Capacity::default();
        let mut load = Load::default();
        assert!(cap.can_take(&load, Channel::Voice));
        load.add(Channel::Chat);
        assert!(!cap.can_take(&load, Channel::Voice));
        assert!(cap.can_take(&load, Channel::Email));
        load.remove(Channel::Chat);
        load.add(Channel::Voice);
        assert!(!cap.can_take(&load, Channel::Chat));
    }

    #[test]
    fn an_exclusive_channel_waits_for_the_last_contact_of_another_to_end() {
        let cap = Capacity::default();
        let mut load = Load::default();
        load.add(Channel::Chat);
        load.add(Channel::Chat);
        load.remove(Channel::Chat);
        assert!(!cap.can_take(&load, Channel::Voice), "one chat is still open");
        load.remove(Channel::Chat);
        assert!(cap.can_take(&load, Channel::Voice));
        assert_eq!(load, Load::default(), "the same load as one that never held a contact");
    }

    #[test]
    fn per_channel_and_total_limits() {
        let cap = Capacity::of(&[(Channel::Chat, 3), (Channel::Email, 2)]).with_max_total(Some(4));
        let mut load = Load::default();
        for _ in 0..3 {
            assert!(cap.can_take(&load, Channel::Chat));
            load.add(Channel::Chat);
        }
        assert!(!cap.can_take(&load, Channel::Chat));
        assert!(cap.can_take(&load, Channel::Email));
        load.add(Channel::Email);
        assert!(!cap.can_take(&load, Channel::Email), "max_total 4 reached");
        assert!(!cap.can_take(&Load::default(), Channel::Voice), "no voice limit configured");
    }

    #[test]
    fn capacity_reads_from_toml_form() {
        let cap: Capacity = toml::from_str("chat = 3\nemail = 2\n").unwrap();
        assert_eq!(cap.limit(Channel::Chat), 3);
        assert_eq!(cap.limit(Channel::Voice), 0);
    }
}
