//! Agent orderings: which of several eligible agents gets the contact.
//!
//! An ordering turns what it needs to know of an agent into a sort key; the
//! engine keeps each queue's ready agents sorted by it, so picking is taking
//! the first eligible entry. New orderings implement [`AgentOrdering`].

use crate::queue::OrderingKind;
use crate::time::Timestamp;

/// What orderings may look at.
#[derive(Clone, Copy, Debug)]
pub struct AgentRank {
    /// Last time the agent became available or finished a contact (wrap-up
    /// included): "idle since", as Asterisk and Amazon Connect count it.
    pub last_activity: Timestamp,
    /// Contacts held per thousand of capacity.
    pub occupancy_permille: i64,
    /// Summed proficiency in the skills the queue's policy reads.
    pub skill_score: i64,
    /// When (in the queue's offer sequence) this agent last got an offer from it.
    pub last_offered: u64,
}

/// Smaller keys are preferred; ties go to the lower agent id.
pub type OrderKey = (i64, i64);

pub trait AgentOrdering: std::fmt::Debug + Send + Sync {
    fn key(&self, agent: &AgentRank) -> OrderKey;

    /// Pick uniformly among all eligible agents instead of taking the first.
    fn random(&self) -> bool {
        false
    }

    /// Whether an agent's key, whenever it changes, becomes at least every
    /// key given so far (it is a clock: "now", "the latest offer"). Then a
    /// ready agent nearly always joins at the back, and the engine keeps the
    /// queue's ready agents in a list rather than a tree. Only speed
    /// depends on it: a key that breaks the rule is still placed exactly.
    fn key_only_grows(&self) -> bool {
        false
    }
}

#[derive(Debug)]
struct LongestIdle;
impl AgentOrdering for LongestIdle {
    fn key(&self, a: &AgentRank) -> OrderKey {
        (a.last_activity.0, 0)
    }
    fn key_only_grows(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct MostSkilled;
impl AgentOrdering for MostSkilled {
    fn key(&self, a: &AgentRank) -> OrderKey {
        (-a.skill_score, a.last_activity.0)
    }
}

#[derive(Debug)]
struct LeastSkilled;
impl AgentOrdering for LeastSkilled {
    fn key(&self, a: &AgentRank) -> OrderKey {
        (a.skill_score, a.last_activity.0)
    }
}

#[derive(Debug)]
struct LeastOccupied;
impl AgentOrdering for LeastOccupied {
    fn key(&self, a: &AgentRank) -> OrderKey {
        (a.occupancy_permille, a.last_activity.0)
    }
}

#[derive(Debug)]
struct RoundRobin;
impl AgentOrdering for RoundRobin {
    fn key(&self, a: &AgentRank) -> OrderKey {
        (a.last_offered as i64, 0)
    }
    fn key_only_grows(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct Random;
impl AgentOrdering for Random {
    fn key(&self, a: &AgentRank) -> OrderKey {
        (a.last_activity.0, 0)
    }
    fn random(&self) -> bool {
        true
    }
    fn key_only_grows(&self) -> bool {
        true
    }
}

pub fn for_kind(kind: OrderingKind) -> Box<dyn AgentOrdering> {
    match kind {
        OrderingKind::LongestIdle => Box::new(LongestIdle),
        OrderingKind::MostSkilled => Box::new(MostSkilled),
        OrderingKind::LeastSkilled => Box::new(LeastSkilled),
        OrderingKind::LeastOccupied => Box::new(LeastOccupied),
        OrderingKind::RoundRobin => Box::new(RoundRobin),
        OrderingKind::Random => Box::new(Random),
    }
}
