//! The engine's state, shared by its state machine and its matchers.
//!
//! Everything here is plain data plus the *definition* of eligibility and of
//! the two orders (agents for a contact, contacts for an agent). Matchers
//! decide with these definitions; the indexed matcher only finds the answer
//! faster than the reference one.

use super::ordering::{AgentOrdering, AgentRank, OrderKey};
use super::slab::Slab;
use crate::agent::{AgentConfig, AgentState, Load, Presence};
use crate::attributes::Attributes;
use crate::channel::Channel;
use crate::expr::{AgentFacts, Predicate};
use crate::fasthash::FastMap;
use crate::ids::{AgentId, ContactId, PolicyId, QueueId};
use crate::policy::Policy;
use crate::queue::QueueConfig;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Slot numbers: dense, reused, never seen outside the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AIdx(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CIdx(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QIdx(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PredId(pub u32);

/// A contact's place in line: higher priority first, then earlier enqueue
/// time, then arrival order. Never changes while the contact waits, so a
/// rejected offer puts the contact back exactly where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactKey {
    neg_priority: i64,
    enqueued_at: Timestamp,
    pub seq: u64,
}

/// How an agent ranks a contact: its queue priority (0 for contacts sent to
/// the agent personally), then the contact's place in line.
pub type CandidateKey = (u8, ContactKey);

#[derive(Debug)]
pub struct QueueRt {
    pub config: QueueConfig,
    pub ordering: Box<dyn AgentOrdering>,
    /// Members, whatever their presence.
    pub members: BTreeSet<AIdx>,
    /// Distinct positive member delays, with how many memberships use each.
    pub delays: BTreeMap<Duration, u32>,
    /// Queued (not offered) contacts in line order: positions and wait estimates.
    pub line: BTreeSet<(ContactKey, CIdx)>,
    /// Offers made from this queue so far: the round-robin clock.
    pub offers_made: u64,
    /// Exponentially weighted handle time in ms, for wait estimates.
    pub handle_ms: f64,
    /// Per policy step, its predicate if it does not read the contact (so
    /// all contacts share it); held by the queue.
    pub step_preds: Vec<Option<PredId>>,
    /// Members whose presence is available, for wait estimates.
    pub available_members: u32,
}

impl QueueRt {
    /// Whether every contact of the queue shares a step predicate: no
    /// step reads the contact and no sticky step comes first.
    pub fn all_steps_shared(&self) -> bool {
        self.config.sticky.is_zero() && self.step_preds.iter().all(Option::is_some)
    }
}

#[derive(Clone, Debug)]
pub struct MemberRt {
    pub queue: QIdx,
    pub priority: u8,
    pub delay: Duration,
    pub skill_score: i64,
    pub last_offered: u64,
    /// The queue's shared step predicates this agent satisfies (skills change
    /// rarely, routing constantly: evaluated once, on configuration).
    pub shared_matches: Vec<PredId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotPhase {
    Offered { since: Timestamp, expires: Timestamp },
    Connected { since: Timestamp },
    WrapUp { connected_at: Timestamp, ends: Option<Timestamp> },
}

/// One contact an agent holds. In wrap-up the contact itself may already be
/// gone (completed or transferred) while the agent's work on it goes on.
#[derive(Clone, Debug)]
pub struct Slot {
    pub contact: ContactId,
    pub channel: Channel,
    pub queue: QIdx,
    pub phase: SlotPhase,
}

impl Slot {
    pub fn is_offered(&self) -> bool {
        matches!(self.phase, SlotPhase::Offered { .. })
    }
}

#[derive(Debug)]
pub struct AgentRt {
    pub config: AgentConfig,
    pub memberships: Vec<MemberRt>,
    pub presence: Presence,
    pub load: Load,
    pub slots: Vec<Slot>,
    /// Became available or finished a contact: the longest-idle key.
    pub last_activity: Timestamp,
    pub missed_in_a_row: u32,
    pub state: AgentState,
    pub state_since: Timestamp,
}

impl AgentRt {
    pub fn membership(&self, q: QIdx) -> Option<&MemberRt> {
        self.memberships.iter().find(|m| m.queue == q)
    }

    pub fn facts(&self) -> AgentFacts<'_> {
        AgentFacts { id: self.config.id, skills: &self.config.skills }
    }

    pub fn available(&self) -> bool {
        self.presence == Presence::Available
    }

    pub fn rank(&self, m: &MemberRt) -> AgentRank {
        let capacity = self.config.capacity.total().max(1) as i64;
        AgentRank {
            last_activity: self.last_activity,
            occupancy_permille: self.load.total() as i64 * 1000 / capacity,
            skill_score: m.skill_score,
            last_offered: m.last_offered,
        }
    }

    /// The state reports show: work in progress wins over presence, and an
    /// offer that is only ringing is not work yet.
    pub fn derived_state(&self) -> AgentState {
        if self.slots.iter().any(|s| matches!(s.phase, SlotPhase::Connected { .. })) {
            AgentState::OnContact
        } else if self.slots.iter().any(|s| matches!(s.phase, SlotPhase::WrapUp { .. })) {
            AgentState::WrapUp
        } else {
            match self.presence {
                Presence::Offline => AgentState::Offline,
                Presence::Available => AgentState::Available,
                Presence::Away(_) => AgentState::Away,
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactStatus {
    Queued,
    Offered { agent: AIdx, since: Timestamp },
    Connected { agent: AIdx },
}

#[derive(Debug)]
pub struct ContactRt {
    pub id: ContactId,
    pub channel: Channel,
    pub priority: i32,
    pub attributes: Attributes,
    pub preferred_agents: Vec<AgentId>,
    pub queue: QIdx,
    pub enqueued_at: Timestamp,
    pub queue_entered_at: Timestamp,
    pub seq: u64,
    /// Index into the effective steps: a sticky step (if any) comes first.
    pub step: u32,
    pub sticky: bool,
    /// Bumped on every step entry and every placement in a queue, so timers
    /// set for an earlier step or stay recognise themselves as stale.
    pub step_generation: u32,
    pub placement: u32,
    pub pred: PredId,
    pub status: ContactStatus,
    /// Agents who rejected or missed this contact, excluded until the time given.
    pub declined: Vec<(AIdx, Timestamp)>,
    pub callback: bool,
    /// Sent to one agent personally (a transfer): queue membership not needed.
    pub pinned: Option<AIdx>,
}

impl ContactRt {
    pub fn key(&self) -> ContactKey {
        ContactKey { neg_priority: -(self.priority as i64), enqueued_at: self.enqueued_at, seq: self.seq }
    }

    pub fn declined_by(&self, a: AIdx, now: Timestamp) -> bool {
        self.declined.iter().any(|(x, until)| *x == a && *until > now)
    }
}

/// Interned predicates with reference counts, so that contacts whose step
/// binds to the same predicate share a bucket.
#[derive(Debug, Default)]
pub struct Predicates {
    ids: FastMap<Predicate, PredId>,
    entries: Slab<(Predicate, u32)>,
}

impl Predicates {
    pub fn intern(&mut self, p: Predicate) -> PredId {
        if let Some(id) = self.ids.get(&p) {
            self.entries[id.0].1 += 1;
            return *id;
        }
        let id = PredId(self.entries.insert((p.clone(), 1)));
        self.ids.insert(p, id);
        id
    }

    /// Takes one more reference to an already interned predicate.
    pub fn retain(&mut self, id: PredId) {
        self.entries[id.0].1 += 1;
    }

    pub fn release(&mut self, id: PredId) {
        let e = &mut self.entries[id.0];
        e.1 -= 1;
        if e.1 == 0 {
            let (p, _) = self.entries.remove(id.0).expect("live predicate");
            self.ids.remove(&p);
        }
    }

    pub fn get(&self, id: PredId) -> &Predicate {
        &self.entries[id.0].0
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[derive(Debug, Default)]
pub struct World {
    pub queues: Vec<QueueRt>,
    pub queue_ids: FastMap<QueueId, QIdx>,
    pub policies: FastMap<PolicyId, Policy>,
    pub agents: Slab<AgentRt>,
    pub agent_ids: FastMap<AgentId, AIdx>,
    pub contacts: Slab<ContactRt>,
    pub contact_ids: FastMap<ContactId, CIdx>,
    pub preds: Predicates,
}

impl World {
    pub fn agent(&self, a: AIdx) -> &AgentRt {
        &self.agents[a.0]
    }

    pub fn contact(&self, c: CIdx) -> &ContactRt {
        &self.contacts[c.0]
    }

    pub fn queue(&self, q: QIdx) -> &QueueRt {
        &self.queues[q.0 as usize]
    }

    /// The definition of eligibility: may `a` be offered `c` right now?
    pub fn eligible(&self, a: AIdx, c: CIdx, now: Timestamp) -> bool {
        self.eligible_but_step(a, c, now) && self.satisfies_step(a, c)
    }

    /// All of eligibility but `c`'s step predicate, for a matcher that
    /// knows `a` satisfies it (agents indexed by a shared step).
    pub fn eligible_but_step(&self, a: AIdx, c: CIdx, now: Timestamp) -> bool {
        let (ag, ct) = (self.agent(a), self.contact(c));
        if ct.status != ContactStatus::Queued || !ag.available() || !ag.config.capacity.can_take(&ag.load, ct.channel) {
            return false;
        }
        if ct.declined_by(a, now) {
            return false;
        }
        match ct.pinned {
            Some(p) => p == a,
            None => {
                self.queue(ct.queue).config.channels.contains(ct.channel)
                    && ag.membership(ct.queue).is_some_and(|m| now >= ct.queue_entered_at + m.delay)
            }
        }
    }

    /// Whether `a` satisfies `c`'s step predicate; a contact sent to one
    /// agent personally has none.
    fn satisfies_step(&self, a: AIdx, c: CIdx) -> bool {
        let ct = self.contact(c);
        ct.pinned.is_some() || self.preds.get(ct.pred).matches(self.agent(a).facts())
    }

    /// How `q` ranks `a` among its ready agents (ties: lower agent id).
    pub fn order_key(&self, a: AIdx, q: QIdx) -> OrderKey {
        let ag = self.agent(a);
        let m = ag.membership(q).expect("ranked agents are members");
        self.queue(q).ordering.key(&ag.rank(m))
    }

    /// How `a` ranks the queued contact `c`.
    pub fn candidate_key(&self, a: AIdx, c: CIdx) -> CandidateKey {
        let ct = self.contact(c);
        let priority = match ct.pinned {
            Some(_) => 0,
            None => self.agent(a).membership(ct.queue).map_or(u8::MAX, |m| m.priority),
        };
        (priority, ct.key())
    }
}
