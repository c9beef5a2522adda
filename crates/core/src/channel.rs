//! The channels a contact can arrive on.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Voice,
    Email,
    Chat,
    Sms,
    Whatsapp,
    Messenger,
    Telegram,
    /// A generic task created over the API (TaskRouter style).
    Api,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Channel::Voice,
        Channel::Email,
        Channel::Chat,
        Channel::Sms,
        Channel::Whatsapp,
        Channel::Messenger,
        Channel::Telegram,
        Channel::Api,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// Dense index, for per-channel arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Messenger => "messenger",
            Channel::Telegram => "telegram",
            Channel::Api => "api",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown channel '{0}' (expected one of voice, email, chat, sms, whatsapp, messenger, telegram, api)")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

/// A set of channels as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChannelSet(u16);

impl ChannelSet {
    pub const EMPTY: ChannelSet = ChannelSet(0);

    pub fn of(channels: impl IntoIterator<Item = Channel>) -> Self {
        let mut set = ChannelSet::EMPTY;
        for c in channels {
            set.insert(c);
        }
        set
    }

    pub fn insert(&mut self, c: Channel) {
        self.0 |= 1 << c.index();
    }

    pub fn remove(&mut self, c: Channel) {
        self.0 &= !(1 << c.index());
    }

    pub fn contains(self, c: Channel) -> bool {
        self.0 & (1 << c.index()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members in index order. Walks the set bits only: the matcher
    /// calls this for every queue an agent serves on every decision.
    pub fn iter(self) -> impl Iterator<Item = Channel> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let i = bits.trailing_zeros() as usize;
            let c = *Channel::ALL.get(i)?;
            bits &= bits - 1;
            Some(c)
        })
    }

    /// Whether the two sets share a channel.
    pub fn meets(self, other: ChannelSet) -> bool {
        self.0 & other.0 != 0
    }
}

impl Serialize for ChannelSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ChannelSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ChannelSet::of(Vec::<Channel>::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_lists_its_members_in_index_order() {
        for bits in 0u16..(1 << Channel::COUNT) {
            let set = ChannelSet::of(Channel::ALL.into_iter().filter(|c| bits & (1 << c.index()) != 0));
            let listed: Vec<Channel> = set.iter().collect();
            let expected: Vec<Channel> = Channel::ALL.into_iter().filter(|c| set.contains(*c)).collect();
            assert_eq!(listed, expected);
            let mut emptied = set;
            listed.iter().for_each(|c| emptied.remove(*c));
            assert!(emptied.is_empty());
            assert_eq!(set.meets(ChannelSet::of([Channel::Voice])), set.contains(Channel::Voice));
        }
    }
}
