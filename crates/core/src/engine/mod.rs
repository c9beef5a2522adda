//! The routing engine: a deterministic state machine over queues, agents and
//! contacts, with time passed in.
//!
//! Every public operation takes `now`, first fires the timers due by then,
//! then applies the change and routes whatever the change made routable.
//! Afterwards no available agent is eligible for any queued contact (the
//! matching is *maximal*); the property tests check this and that the
//! [`indexed::IndexedMatcher`] decides exactly as the
//! [`reference::ReferenceMatcher`].
//!
//! Two triggers decide everything:
//! - a contact becomes routable (arrives, comes back from an offer, relaxes a
//!   step, outlives a delay): it goes to the first eligible agent in its
//!   queue's ordering;
//! - an agent becomes routable (available, frees capacity): it gets the first
//!   eligible contact in its own order: queue priority, then contact
//!   priority, then longest waiting, across all the queues it serves.
//!
//! Decisions are announced as [`Event`]s, collected until drained.

pub mod indexed;
mod matcher;
mod ordering;
pub mod reference;
mod slab;
mod timers;
mod world;

pub use indexed::IndexedMatcher;
pub use matcher::Matcher;
pub use ordering::{AgentOrdering, AgentRank, OrderKey};
pub use reference::ReferenceMatcher;

use crate::agent::{AgentConfig, AgentState, Load, Presence, ReasonCode};
use crate::channel::Channel;
use crate::contact::ContactSpec;
use crate::events::{CancelReason, Event, EventKind, OfferEnd, OverflowReason, TransferTarget};
use crate::expr::{ContactFacts, Expr};
use crate::ids::{AgentId, ContactId, PolicyId, QueueId};
use crate::policy::Policy;
use crate::queue::{OverflowAction, QueueConfig, WrapUp};
use crate::rng::Rng;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use timers::{Timer, Timers};
use world::{AIdx, AgentRt, CIdx, ContactRt, ContactStatus, MemberRt, QIdx, QueueRt, Slot, SlotPhase, World};

/// Engine-wide behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Offers in a row an agent may let time out before being set away.
    pub max_missed_offers: u32,
    /// How long an agent who rejected or missed a contact is not offered it again.
    pub decline_cooldown: Duration,
    /// Seed for the `random` agent ordering.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_missed_offers: 3, decline_cooldown: Duration::from_secs(30), seed: 0x005b_0a4d }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error("unknown contact {0}")]
    UnknownContact(ContactId),
    #[error("unknown routing policy {0}")]
    UnknownPolicy(PolicyId),
    #[error("contact {0} is already being routed")]
    DuplicateContact(ContactId),
    #[error("queue {queue} does not serve the {channel} channel")]
    ChannelNotServed { queue: QueueId, channel: Channel },
    #[error("contact {contact} is not offered to agent {agent}")]
    NotOffered { contact: ContactId, agent: AgentId },
    #[error("contact {0} is not connected to an agent")]
    NotConnected(ContactId),
    #[error("contact {0} is not waiting in a queue")]
    NotQueued(ContactId),
    #[error("agent {agent} has no wrap-up for contact {contact}")]
    NotInWrapUp { agent: AgentId, contact: ContactId },
    #[error("contact {contact} is already with agent {agent}")]
    AlreadyWithAgent { contact: ContactId, agent: AgentId },
    #[error("agent {0} still has contacts")]
    AgentBusy(AgentId),
    #[error("queue {0} cannot overflow into itself")]
    OverflowLoop(QueueId),
    #[error("overflow queue {target} does not serve the {channel} channel")]
    OverflowChannel { target: QueueId, channel: Channel },
}

/// What happened to a contact handed to [`Engine::enqueue`].
#[derive(Clone, Debug, PartialEq)]
pub enum Enqueued {
    /// Offered to an agent at once.
    Offered { agent: AgentId },
    /// Waiting in line.
    Waiting { position: u32, estimated_wait: Duration },
    /// Turned away: closed, full. With `OverflowAction::Queue` it now waits
    /// in the other queue; with `Callback` it keeps a place in line.
    Overflowed { reason: OverflowReason, action: OverflowAction },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSnapshot {
    pub id: QueueId,
    pub waiting: u32,
    pub callbacks: u32,
    pub oldest_enqueued_at: Option<Timestamp>,
    pub agents: BTreeMap<AgentState, u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub presence: Presence,
    pub state: AgentState,
    pub state_since: Timestamp,
    pub missed_in_a_row: u32,
    pub contacts: Vec<(ContactId, Channel, &'static str)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContactSnapshot {
    pub id: ContactId,
    pub queue: QueueId,
    pub status: &'static str,
    pub agent: Option<AgentId>,
    pub step: u32,
    pub position: Option<u32>,
    pub enqueued_at: Timestamp,
    pub callback: bool,
}

/// A step of a contact's effective steps with the contact's facts bound in.
struct BoundStep {
    index: u32,
    /// Interned, with one reference for the caller.
    pred: world::PredId,
    wait: Option<Duration>,
    skippable: bool,
    last: bool,
}

/// Keeps queues of deeply chained overflows from looping for ever.
const MAX_OVERFLOW_HOPS: u32 = 8;

pub struct Engine<M: Matcher = IndexedMatcher> {
    settings: Settings,
    w: World,
    m: M,
    timers: Timers,
    rng: Rng,
    next_seq: u64,
    now: Timestamp,
    events: Vec<Event>,
    /// The predicate every agent satisfies, held for good: new contacts start with it.
    always: world::PredId,
}

impl<M: Matcher> Engine<M> {
    pub fn new(settings: Settings) -> Self {
        let rng = Rng::seeded(settings.seed);
        let mut w = World::default();
        let no_attributes = BTreeMap::new();
        let always = w.preds.intern(Expr::always().bind(&ContactFacts {
            attributes: &no_attributes,
            preferred_agents: &[],
            priority: 0,
            channel: Channel::Api,
        }));
        Engine {
            always,
            settings,
            w,
            m: M::default(),
            timers: Timers::default(),
            rng,
            next_seq: 0,
            now: Timestamp::EPOCH,
            events: Vec::new(),
        }
    }

    // ----- configuration -------------------------------------------------

    pub fn upsert_policy(&mut self, policy: Policy, now: Timestamp) {
        let now = self.advance(now);
        let id = policy.id;
        self.w.policies.insert(id, policy);
        let affected: Vec<QIdx> =
            (0..self.w.queues.len() as u32).map(QIdx).filter(|q| self.w.queue(*q).config.policy == id).collect();
        for q in affected {
            self.queue_rules_changed(q, now);
        }
    }

    pub fn upsert_queue(&mut self, config: QueueConfig, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        if !self.w.policies.contains_key(&config.policy) {
            return Err(EngineError::UnknownPolicy(config.policy));
        }
        for action in [config.overflow, config.after_hours] {
            if let OverflowAction::Queue(target) = action {
                if target == config.id {
                    return Err(EngineError::OverflowLoop(target));
                }
                let served = self.w.queue(self.queue_idx(target)?).config.channels;
                if let Some(channel) = config.channels.iter().find(|c| !served.contains(*c)) {
                    return Err(EngineError::OverflowChannel { target, channel });
                }
            }
        }
        match self.w.queue_ids.get(&config.id).copied() {
            Some(q) => {
                let rt = &mut self.w.queues[q.0 as usize];
                rt.ordering = ordering::for_kind(config.ordering);
                rt.config = config;
                self.queue_rules_changed(q, now);
            }
            None => {
                let q = QIdx(self.w.queues.len() as u32);
                self.w.queue_ids.insert(config.id, q);
                let handle_ms = config.expected_handle_time.as_millis() as f64;
                self.w.queues.push(QueueRt {
                    ordering: ordering::for_kind(config.ordering),
                    config,
                    members: BTreeSet::new(),
                    delays: BTreeMap::new(),
                    line: BTreeSet::new(),
                    offers_made: 0,
                    handle_ms,
                    step_preds: Vec::new(),
                    available_members: 0,
                });
                self.bind_shared_steps(q);
            }
        }
        Ok(())
    }

    /// Policy, ordering or stickiness of `q` changed: rescore members, restart
    /// the steps of waiting contacts, and route.
    fn queue_rules_changed(&mut self, q: QIdx, now: Timestamp) {
        self.bind_shared_steps(q);
        let members: Vec<AIdx> = self.w.queue(q).members.iter().copied().collect();
        for a in &members {
            self.rescore(*a);
            self.m.agent_changed(&self.w, *a);
        }
        let waiting: Vec<CIdx> = self.w.queue(q).line.iter().map(|e| e.1).collect();
        for c in &waiting {
            if self.w.contact(*c).pinned.is_none() {
                let sticky = self.sticky_applies(*c, q);
                self.w.contacts[c.0].sticky = sticky;
                self.enter_step(*c, 0, now);
            }
        }
        for c in waiting {
            self.route_contact(c, now);
        }
    }

    /// Binds once the steps of `q`'s policy that do not read the contact:
    /// every contact shares their predicate, and the matcher indexes agents
    /// by it.
    fn bind_shared_steps(&mut self, q: QIdx) {
        let queue = &mut self.w.queues[q.0 as usize];
        for old in queue.step_preds.drain(..).flatten() {
            self.w.preds.release(old);
        }
        let no_attributes = BTreeMap::new();
        let facts =
            ContactFacts { attributes: &no_attributes, preferred_agents: &[], priority: 0, channel: Channel::Api };
        let steps = &self.w.policies[&queue.config.policy].steps;
        queue.step_preds =
            steps.iter().map(|s| (!s.expr.reads_contact()).then(|| self.w.preds.intern(s.expr.bind(&facts)))).collect();
    }

    pub fn upsert_agent(&mut self, config: AgentConfig, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let mut resolved = Vec::with_capacity(config.memberships.len());
        for m in &config.memberships {
            let q = self.queue_idx(m.queue)?;
            resolved.push(MemberRt { queue: q, priority: m.priority, delay: m.delay, skill_score: 0, last_offered: 0 });
        }
        let a = match self.w.agent_ids.get(&config.id).copied() {
            Some(a) => {
                let old = std::mem::take(&mut self.w.agents[a.0].memberships);
                for m in &old {
                    self.unlink_member(a, m);
                }
                for m in &mut resolved {
                    if let Some(prev) = old.iter().find(|p| p.queue == m.queue) {
                        m.last_offered = prev.last_offered;
                    }
                }
                self.w.agents[a.0].config = config;
                a
            }
            None => {
                let id = config.id;
                let a = AIdx(self.w.agents.insert(AgentRt {
                    config,
                    memberships: Vec::new(),
                    presence: Presence::Offline,
                    load: Load::default(),
                    slots: Vec::new(),
                    last_activity: now,
                    missed_in_a_row: 0,
                    state: AgentState::Offline,
                    state_since: now,
                }));
                self.w.agent_ids.insert(id, a);
                a
            }
        };
        for m in &resolved {
            self.link_member(a, m, now);
        }
        self.w.agents[a.0].memberships = resolved;
        self.rescore(a);
        self.agent_touched(a, now);
        self.route_agent(a, now);
        Ok(())
    }

    fn link_member(&mut self, a: AIdx, m: &MemberRt, now: Timestamp) {
        let available = self.w.agent(a).available();
        let q = &mut self.w.queues[m.queue.0 as usize];
        q.members.insert(a);
        q.available_members += available as u32;
        if m.delay > Duration::ZERO {
            let count = q.delays.entry(m.delay).or_insert(0);
            *count += 1;
            if *count == 1 {
                // A delay no waiting contact was timed for: time them now.
                let due: Vec<(CIdx, Timestamp, u64)> = q
                    .line
                    .iter()
                    .map(|(_, c)| (*c, self.w.contacts[c.0].queue_entered_at + m.delay, self.w.contacts[c.0].seq))
                    .collect();
                for (c, at, seq) in due {
                    if at > now {
                        self.timers.set(at, Timer::Recheck { contact: c, seq });
                    }
                }
            }
        }
    }

    fn unlink_member(&mut self, a: AIdx, m: &MemberRt) {
        let available = self.w.agent(a).available();
        let q = &mut self.w.queues[m.queue.0 as usize];
        q.members.remove(&a);
        q.available_members -= available as u32;
        if let Some(count) = q.delays.get_mut(&m.delay) {
            *count -= 1;
            if *count == 0 {
                q.delays.remove(&m.delay);
            }
        }
    }

    /// Recomputes `a`'s skill score in each queue it serves.
    fn rescore(&mut self, a: AIdx) {
        let w = &mut self.w;
        let ag = &mut w.agents[a.0];
        for m in &mut ag.memberships {
            let q = &w.queues[m.queue.0 as usize];
            let policy = &w.policies[&q.config.policy];
            let mut skills: Vec<_> = policy.steps.iter().flat_map(|s| s.expr.skills()).collect();
            skills.sort();
            skills.dedup();
            m.skill_score = skills.iter().map(|s| ag.config.skills.level(*s) as i64).sum();
        }
    }

    pub fn remove_agent(&mut self, id: AgentId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let a = self.agent_idx(id)?;
        if self.w.agent(a).slots.iter().any(|s| !matches!(s.phase, SlotPhase::Offered { .. })) {
            return Err(EngineError::AgentBusy(id));
        }
        self.set_presence(id, Presence::Offline, now)?;
        let pinned: Vec<CIdx> =
            self.w.contacts.iter().filter(|(_, c)| c.pinned == Some(a)).map(|(i, _)| CIdx(i)).collect();
        for c in &pinned {
            self.unpin(*c, now);
        }
        self.m.agent_removed(&self.w, a);
        for m in std::mem::take(&mut self.w.agents[a.0].memberships) {
            self.unlink_member(a, &m);
        }
        self.w.agents.remove(a.0);
        self.w.agent_ids.remove(&id);
        for c in pinned {
            self.route_contact(c, now);
        }
        Ok(())
    }

    // ----- agents --------------------------------------------------------

    pub fn set_presence(&mut self, id: AgentId, presence: Presence, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let a = self.agent_idx(id)?;
        self.change_presence(a, presence, now);
        Ok(())
    }

    fn change_presence(&mut self, a: AIdx, presence: Presence, now: Timestamp) {
        let ag = &mut self.w.agents[a.0];
        if ag.presence == presence {
            return;
        }
        let available = presence == Presence::Available;
        if available != ag.available() {
            for m in &ag.memberships {
                let count = &mut self.w.queues[m.queue.0 as usize].available_members;
                *count = if available { *count + 1 } else { *count - 1 };
            }
        }
        let ag = &mut self.w.agents[a.0];
        ag.presence = presence;
        if available {
            ag.last_activity = now;
            ag.missed_in_a_row = 0;
        } else {
            // Nobody stays reserved: offers go back to the line.
            let offered: Vec<ContactId> =
                ag.slots.iter().filter(|s| matches!(s.phase, SlotPhase::Offered { .. })).map(|s| s.contact).collect();
            for contact in offered {
                let c = self.w.contact_ids[&contact];
                self.return_offer(c, a, OfferEnd::Revoked, now);
            }
        }
        self.agent_touched(a, now);
        if available {
            self.route_agent(a, now);
        }
    }

    pub fn accept(&mut self, contact: ContactId, agent: AgentId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let (c, a) = self.offered(contact, agent)?;
        let ct = &mut self.w.contacts[c.0];
        ct.status = ContactStatus::Connected { agent: a };
        let (q, waited) = (ct.queue, now.since(ct.enqueued_at));
        let queue = self.w.queue(q).config.id;
        let ag = &mut self.w.agents[a.0];
        ag.missed_in_a_row = 0;
        ag.last_activity = now;
        if let Some(slot) = ag.slots.iter_mut().find(|s| s.contact == contact && s.is_offered()) {
            slot.phase = SlotPhase::Connected { since: now };
        }
        self.emit(now, EventKind::OfferAccepted { contact, queue, agent, waited });
        self.agent_touched(a, now);
        Ok(())
    }

    pub fn reject(&mut self, contact: ContactId, agent: AgentId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let (c, a) = self.offered(contact, agent)?;
        self.return_offer(c, a, OfferEnd::Rejected, now);
        Ok(())
    }

    /// Handling is over: the agent goes into wrap-up for this contact (or is
    /// free at once), and the contact leaves the engine.
    pub fn end_contact(&mut self, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let ContactStatus::Connected { agent: a } = self.w.contact(c).status else {
            return Err(EngineError::NotConnected(contact));
        };
        let queue = self.w.queue(self.w.contact(c).queue).config.id;
        self.emit(now, EventKind::ContactEnded { contact, queue, agent: self.w.agent(a).config.id });
        self.drop_contact(c);
        self.start_wrap_up(a, contact, now);
        Ok(())
    }

    /// The agent ends wrap-up for `contact` (before its time, or when the
    /// queue leaves wrap-up open).
    pub fn end_wrap_up(&mut self, agent: AgentId, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let a = self.agent_idx(agent)?;
        if !self.w.agent(a).slots.iter().any(|s| s.contact == contact && matches!(s.phase, SlotPhase::WrapUp { .. })) {
            return Err(EngineError::NotInWrapUp { agent, contact });
        }
        self.finish_slot(a, contact, true, now);
        Ok(())
    }

    fn start_wrap_up(&mut self, a: AIdx, contact: ContactId, now: Timestamp) {
        let ag = &mut self.w.agents[a.0];
        let slot = ag
            .slots
            .iter_mut()
            .find(|s| s.contact == contact && matches!(s.phase, SlotPhase::Connected { .. }))
            .expect("connected slot");
        let connected_at = match slot.phase {
            SlotPhase::Connected { since } => since,
            _ => now,
        };
        let wrap = ag.config.wrap_up.unwrap_or(self.w.queues[slot.queue.0 as usize].config.wrap_up);
        match wrap {
            WrapUp::None => self.finish_slot(a, contact, false, now),
            WrapUp::Fixed(d) if d.is_zero() => self.finish_slot(a, contact, false, now),
            WrapUp::Fixed(d) => {
                slot.phase = SlotPhase::WrapUp { connected_at, ends: Some(now + d) };
                self.timers.set_after(now, d, Timer::WrapUpEnd { agent: a, contact });
                self.agent_touched(a, now);
            }
            WrapUp::UntilEnded => {
                slot.phase = SlotPhase::WrapUp { connected_at, ends: None };
                self.agent_touched(a, now);
            }
        }
    }

    /// The agent is done with `contact` altogether: the slot frees up.
    /// `wrapping` says which slot: the one in wrap-up or the connected one (a
    /// contact transferred away and back may have both with one agent).
    fn finish_slot(&mut self, a: AIdx, contact: ContactId, wrapping: bool, now: Timestamp) {
        let ag = &mut self.w.agents[a.0];
        let i = ag
            .slots
            .iter()
            .position(|s| {
                s.contact == contact && matches!(s.phase, SlotPhase::WrapUp { .. }) == wrapping && !s.is_offered()
            })
            .expect("slot");
        let slot = ag.slots.swap_remove(i);
        ag.load.remove(slot.channel);
        ag.last_activity = now;
        let started = match slot.phase {
            SlotPhase::WrapUp { connected_at, .. } => connected_at,
            SlotPhase::Connected { since } => since,
            SlotPhase::Offered { since, .. } => since,
        };
        // Wait estimates follow the queue's recent handle times.
        let q = &mut self.w.queues[slot.queue.0 as usize];
        q.handle_ms = 0.9 * q.handle_ms + 0.1 * now.since(started).as_millis() as f64;
        let agent = ag.config.id;
        self.emit(now, EventKind::WrapUpEnded { contact, agent });
        self.agent_touched(a, now);
        self.route_agent(a, now);
    }

    // ----- contacts ------------------------------------------------------

    pub fn enqueue(&mut self, spec: ContactSpec, now: Timestamp) -> Result<Enqueued, EngineError> {
        let now = self.advance(now);
        if self.w.contact_ids.contains_key(&spec.id) {
            return Err(EngineError::DuplicateContact(spec.id));
        }
        self.admit(spec, now, 0)
    }

    fn admit(&mut self, spec: ContactSpec, now: Timestamp, hops: u32) -> Result<Enqueued, EngineError> {
        let q = self.queue_idx(spec.queue)?;
        let config = &self.w.queue(q).config;
        if !config.channels.contains(spec.channel) {
            return Err(EngineError::ChannelNotServed { queue: spec.queue, channel: spec.channel });
        }
        let refusal = if config.calendar.as_ref().is_some_and(|cal| !cal.is_open(now)) {
            Some((OverflowReason::Closed, config.after_hours))
        } else if config.max_length.is_some_and(|max| self.w.queue(q).line.len() as u32 >= max) {
            Some((OverflowReason::MaxLength, config.overflow))
        } else {
            None
        };
        if let Some((reason, action)) = refusal {
            self.emit(now, EventKind::ContactOverflowed { contact: spec.id, queue: spec.queue, reason, action });
            match action {
                OverflowAction::Queue(target) if hops < MAX_OVERFLOW_HOPS => {
                    let spec =
                        ContactSpec { queue: target, enqueued_at: Some(spec.enqueued_at.unwrap_or(now)), ..spec };
                    self.admit(spec, now, hops + 1)?;
                }
                OverflowAction::Callback => {
                    let c = self.insert_contact(spec, q, now);
                    self.w.contacts[c.0].callback = true;
                    self.place(c, q, now);
                    self.emit(
                        now,
                        EventKind::CallbackScheduled {
                            contact: self.w.contact(c).id,
                            queue: self.w.queue(q).config.id,
                        },
                    );
                    self.route_contact(c, now);
                }
                _ => {}
            }
            return Ok(Enqueued::Overflowed { reason, action });
        }
        let c = self.insert_contact(spec, q, now);
        self.place(c, q, now);
        self.route_contact_as(c, now, true);
        let ct = self.w.contact(c);
        Ok(match ct.status {
            ContactStatus::Offered { agent, .. } => Enqueued::Offered { agent: self.w.agent(agent).config.id },
            _ => {
                let position = self.position_of(c).unwrap_or(0);
                Enqueued::Waiting { position, estimated_wait: self.wait_estimate(q, position) }
            }
        })
    }

    fn insert_contact(&mut self, spec: ContactSpec, q: QIdx, now: Timestamp) -> CIdx {
        self.next_seq += 1;
        let pred = self.always;
        self.w.preds.retain(pred);
        let id = spec.id;
        let c = CIdx(self.w.contacts.insert(ContactRt {
            id,
            channel: spec.channel,
            priority: spec.priority,
            attributes: spec.attributes,
            preferred_agents: spec.preferred_agents,
            queue: q,
            enqueued_at: spec.enqueued_at.unwrap_or(now),
            queue_entered_at: now,
            seq: self.next_seq,
            step: 0,
            sticky: false,
            step_generation: 0,
            placement: 0,
            pred,
            status: ContactStatus::Queued,
            declined: Vec::new(),
            callback: false,
            pinned: None,
        }));
        self.w.contact_ids.insert(id, c);
        c
    }

    /// Puts a contact that is not in any line into `q`'s line, at step 0.
    fn place(&mut self, c: CIdx, q: QIdx, now: Timestamp) {
        let sticky = self.sticky_applies(c, q);
        let ct = &mut self.w.contacts[c.0];
        ct.queue = q;
        ct.queue_entered_at = now;
        ct.placement += 1;
        ct.sticky = sticky;
        ct.status = ContactStatus::Queued;
        ct.step = u32::MAX;
        self.enter_step(c, 0, now);
        let ct = self.w.contact(c);
        let (key, seq, callback, id, channel, placement) =
            (ct.key(), ct.seq, ct.callback, ct.id, ct.channel, ct.placement);
        let queue = &mut self.w.queues[q.0 as usize];
        queue.line.insert((key, c));
        self.m.contact_queued(&self.w, c);
        let queue = self.w.queue(q);
        if let (Some(max), false) = (queue.config.max_wait, callback) {
            self.timers.set_after(now, max, Timer::MaxWait { contact: c, seq, placement });
        }
        for delay in queue.delays.keys() {
            self.timers.set_after(now, *delay, Timer::Recheck { contact: c, seq });
        }
        let position = self.position_of(c).unwrap_or(0);
        self.emit(now, EventKind::ContactQueued { contact: id, queue: self.w.queue(q).config.id, channel, position });
    }

    fn sticky_applies(&self, c: CIdx, q: QIdx) -> bool {
        let ct = self.w.contact(c);
        ct.pinned.is_none() && !self.w.queue(q).config.sticky.is_zero() && !ct.preferred_agents.is_empty()
    }

    /// Binds step `i` of `c`'s effective steps (a sticky step, if any,
    /// comes before the policy's) and interns the predicate. An index past
    /// the end means the last step: a policy update may have shortened it.
    fn bind_step(&mut self, c: CIdx, i: u32) -> BoundStep {
        // Field by field, so that the predicate table can be borrowed mutably.
        let ct = &self.w.contacts[c.0];
        let q = &self.w.queues[ct.queue.0 as usize];
        let policy_id = q.config.policy;
        let steps = &self.w.policies[&policy_id].steps;
        let facts = ContactFacts {
            attributes: &ct.attributes,
            preferred_agents: &ct.preferred_agents,
            priority: ct.priority,
            channel: ct.channel,
        };
        if ct.sticky && i == 0 {
            let wait = Some(q.config.sticky);
            let pred = self.w.preds.intern(Expr::agent_in(&ct.preferred_agents).bind(&facts));
            return BoundStep { index: 0, pred, wait, skippable: true, last: false };
        }
        let offset = ct.sticky as usize;
        let policy_index = (i as usize - offset).min(steps.len() - 1);
        let step = &steps[policy_index];
        let last = policy_index + 1 == steps.len();
        let (wait, skippable) = (if last { None } else { step.wait }, step.skip_if_unstaffed);
        let pred = match q.step_preds[policy_index] {
            Some(shared) => {
                self.w.preds.retain(shared);
                shared
            }
            None => self.w.preds.intern(step.expr.bind(&facts)),
        };
        BoundStep { index: (policy_index + offset) as u32, pred, wait, skippable, last }
    }

    /// Moves `c` to step `from` or, skipping unstaffed steps, a later one;
    /// rebinds its predicate and re-buckets it if it is queued.
    fn enter_step(&mut self, c: CIdx, from: u32, now: Timestamp) {
        let mut bound = self.bind_step(c, from);
        while !bound.last && bound.skippable && !self.staffed(self.w.contact(c).queue, bound.pred) {
            self.w.preds.release(bound.pred);
            bound = self.bind_step(c, bound.index + 1);
        }
        let BoundStep { index: step, pred: new, wait, .. } = bound;
        let queued = self.w.contact(c).status == ContactStatus::Queued && self.w.contact(c).step != u32::MAX;
        if queued {
            self.m.contact_unqueued(&self.w, c);
        }
        let ct = &mut self.w.contacts[c.0];
        let old = std::mem::replace(&mut ct.pred, new);
        let changed = ct.step != u32::MAX;
        ct.step = step;
        ct.step_generation += 1;
        let (seq, id, q, generation) = (ct.seq, ct.id, ct.queue, ct.step_generation);
        self.w.preds.release(old);
        if queued {
            self.m.contact_queued(&self.w, c);
        }
        if let Some(wait) = wait {
            self.timers.set_after(now, wait, Timer::StepExpiry { contact: c, seq, generation });
        }
        if changed {
            self.emit(now, EventKind::StepChanged { contact: id, queue: self.w.queue(q).config.id, step });
        }
    }

    /// Whether a logged-in member of `q` satisfies `pred`.
    fn staffed(&self, q: QIdx, pred: world::PredId) -> bool {
        let pred = self.w.preds.get(pred);
        self.w.queue(q).members.iter().any(|a| {
            let ag = self.w.agent(*a);
            ag.presence != Presence::Offline && pred.matches(ag.facts())
        })
    }

    pub fn cancel(&mut self, contact: ContactId, reason: CancelReason, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let ct = self.w.contact(c);
        let (queue, waited) = (self.w.queue(ct.queue).config.id, now.since(ct.enqueued_at));
        let freed = match ct.status {
            ContactStatus::Queued => None,
            ContactStatus::Offered { agent, .. } => Some(agent),
            ContactStatus::Connected { .. } => return Err(EngineError::NotQueued(contact)),
        };
        if let Some(a) = freed {
            self.withdraw_offer(c, a);
        }
        self.emit(now, EventKind::ContactLeft { contact, queue, reason, waited });
        self.drop_contact(c);
        if let Some(a) = freed {
            self.agent_touched(a, now);
            self.route_agent(a, now);
        }
        Ok(())
    }

    /// The customer stops holding but keeps their place; an agent calls back.
    pub fn request_callback(&mut self, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let ct = &mut self.w.contacts[c.0];
        if ct.status != ContactStatus::Queued {
            return Err(EngineError::NotQueued(contact));
        }
        ct.callback = true;
        let q = ct.queue;
        let queue = self.w.queue(q).config.id;
        self.emit(now, EventKind::CallbackScheduled { contact, queue });
        Ok(())
    }

    pub fn transfer(&mut self, contact: ContactId, target: TransferTarget, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let (q_to, pinned) = match target {
            TransferTarget::Queue(q) => (self.queue_idx(q)?, None),
            TransferTarget::Agent(a) => (self.w.contact(c).queue, Some(self.agent_idx(a)?)),
        };
        let channel = self.w.contact(c).channel;
        let q_to_config = &self.w.queue(q_to).config;
        if pinned.is_none() && !q_to_config.channels.contains(channel) {
            return Err(EngineError::ChannelNotServed { queue: q_to_config.id, channel });
        }
        let from = self.w.queue(self.w.contact(c).queue).config.id;
        if let (Some(to), ContactStatus::Offered { agent, .. } | ContactStatus::Connected { agent }) =
            (pinned, self.w.contact(c).status)
            && to == agent
        {
            return Err(EngineError::AlreadyWithAgent { contact, agent: self.w.agent(agent).config.id });
        }
        let freed = match self.w.contact(c).status {
            ContactStatus::Queued => {
                self.unqueue(c);
                None
            }
            ContactStatus::Offered { agent, .. } => {
                self.withdraw_offer(c, agent);
                Some(agent)
            }
            ContactStatus::Connected { agent } => Some(agent),
        };
        self.emit(now, EventKind::ContactTransferred { contact, from, target });
        let ct = &mut self.w.contacts[c.0];
        ct.pinned = pinned;
        ct.enqueued_at = now;
        ct.declined.clear();
        let was_connected = matches!(ct.status, ContactStatus::Connected { .. });
        if let (Some(a), true) = (freed, pinned.is_none()) {
            // Whoever hands a contact on should not get it straight back.
            ct.declined.push((a, now + self.settings.decline_cooldown));
            self.timers.set_after(now, self.settings.decline_cooldown, Timer::Recheck { contact: c, seq: ct.seq });
        }
        self.place(c, q_to, now);
        if let Some(a) = freed {
            if was_connected {
                self.start_wrap_up(a, contact, now);
            } else {
                self.agent_touched(a, now);
            }
        }
        self.route_contact(c, now);
        if let Some(a) = freed {
            self.route_agent(a, now);
        }
        Ok(())
    }

    // ----- time ----------------------------------------------------------

    /// Fires every timer due by `now` (each at its own instant) and returns
    /// the time the engine is now at: never earlier than before.
    pub fn advance(&mut self, now: Timestamp) -> Timestamp {
        let now = now.max(self.now);
        while let Some((at, timer)) = self.timers.pop_due(now) {
            self.now = at;
            self.fire(timer, at);
        }
        self.now = now;
        now
    }

    /// When the engine next needs [`Engine::advance`] to be called.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.next_due()
    }

    fn live(&self, c: CIdx, seq: u64) -> Option<&ContactRt> {
        self.w.contacts.get(c.0).filter(|ct| ct.seq == seq)
    }

    fn fire(&mut self, timer: Timer, at: Timestamp) {
        match timer {
            Timer::OfferTimeout { contact, seq, agent, since } => {
                if self.live(contact, seq).is_some_and(|ct| ct.status == ContactStatus::Offered { agent, since }) {
                    self.return_offer(contact, agent, OfferEnd::TimedOut, at);
                }
            }
            Timer::WrapUpEnd { agent, contact } => {
                let due = self.w.agents.get(agent.0).is_some_and(|ag| {
                    ag.slots.iter().any(|s| {
                        s.contact == contact && matches!(s.phase, SlotPhase::WrapUp { ends: Some(e), .. } if e == at)
                    })
                });
                if due {
                    self.finish_slot(agent, contact, true, at);
                }
            }
            Timer::StepExpiry { contact, seq, generation } => {
                if self.live(contact, seq).is_some_and(|ct| ct.step_generation == generation && ct.pinned.is_none()) {
                    let next = self.w.contact(contact).step + 1;
                    self.enter_step(contact, next, at);
                    self.route_contact(contact, at);
                }
            }
            Timer::MaxWait { contact, seq, placement } => {
                if self
                    .live(contact, seq)
                    .is_some_and(|ct| ct.placement == placement && ct.status == ContactStatus::Queued && !ct.callback)
                {
                    self.overflow(contact, OverflowReason::MaxWait, at);
                }
            }
            Timer::Recheck { contact, seq } => {
                if self.live(contact, seq).is_some() {
                    self.route_contact(contact, at);
                }
            }
        }
    }

    fn overflow(&mut self, c: CIdx, reason: OverflowReason, now: Timestamp) {
        let ct = self.w.contact(c);
        let q = self.w.queue(ct.queue);
        let (contact, queue, action) = (ct.id, q.config.id, q.config.overflow);
        self.emit(now, EventKind::ContactOverflowed { contact, queue, reason, action });
        match action {
            OverflowAction::Queue(target) => {
                self.unqueue(c);
                let q = self.w.queue_ids[&target];
                self.place(c, q, now);
                self.route_contact(c, now);
            }
            OverflowAction::Callback => {
                self.w.contacts[c.0].callback = true;
                self.emit(now, EventKind::CallbackScheduled { contact, queue });
                self.route_contact(c, now);
            }
            OverflowAction::Voicemail | OverflowAction::Disconnect => {
                self.drop_contact(c);
            }
        }
    }

    // ----- routing -------------------------------------------------------

    fn route_contact(&mut self, c: CIdx, now: Timestamp) {
        self.route_contact_as(c, now, false);
    }

    fn route_contact_as(&mut self, c: CIdx, now: Timestamp, arrival: bool) {
        if self.w.contact(c).status != ContactStatus::Queued {
            return;
        }
        if let Some(a) = self.m.best_agent(&self.w, c, now, &mut self.rng, arrival) {
            self.offer(c, a, now);
        }
    }

    fn route_agent(&mut self, a: AIdx, now: Timestamp) {
        while let Some(c) = self.m.best_contact(&self.w, a, now) {
            self.offer(c, a, now);
        }
    }

    fn offer(&mut self, c: CIdx, a: AIdx, now: Timestamp) {
        self.unqueue(c);
        let ct = &mut self.w.contacts[c.0];
        ct.status = ContactStatus::Offered { agent: a, since: now };
        let (q, contact, channel, seq) = (ct.queue, ct.id, ct.channel, ct.seq);
        let queue = &mut self.w.queues[q.0 as usize];
        queue.offers_made += 1;
        let (offers_made, timeout, queue_id) = (queue.offers_made, queue.config.offer_timeout, queue.config.id);
        let ag = &mut self.w.agents[a.0];
        ag.load.add(channel);
        let expires = now + timeout;
        ag.slots.push(Slot { contact, channel, queue: q, phase: SlotPhase::Offered { since: now, expires } });
        if let Some(m) = ag.memberships.iter_mut().find(|m| m.queue == q) {
            m.last_offered = offers_made;
        }
        let agent = ag.config.id;
        self.timers.set_after(now, timeout, Timer::OfferTimeout { contact: c, seq, agent: a, since: now });
        self.emit(now, EventKind::OfferCreated { contact, queue: queue_id, agent, expires_at: expires });
        self.agent_touched(a, now);
    }

    /// Takes an offer back from the agent; the contact is queued again at its
    /// original place and routed, then the agent is routed.
    fn return_offer(&mut self, c: CIdx, a: AIdx, why: OfferEnd, now: Timestamp) {
        self.withdraw_offer(c, a);
        let cooldown = self.settings.decline_cooldown;
        let ct = &mut self.w.contacts[c.0];
        let (contact, q, seq) = (ct.id, ct.queue, ct.seq);
        if why != OfferEnd::Revoked {
            ct.declined.retain(|(_, until)| *until > now);
            ct.declined.push((a, now + cooldown));
            self.timers.set_after(now, cooldown, Timer::Recheck { contact: c, seq });
        }
        let unpin = ct.pinned.is_some() && why != OfferEnd::Revoked;
        self.requeue(c);
        if unpin {
            // The agent it was sent to said no: the queue takes over, from step 0.
            self.unpin(c, now);
        }
        let agent = self.w.agent(a).config.id;
        self.emit(now, EventKind::OfferEnded { contact, queue: self.w.queue(q).config.id, agent, reason: why });
        if why == OfferEnd::TimedOut {
            let ag = &mut self.w.agents[a.0];
            ag.missed_in_a_row += 1;
            if ag.missed_in_a_row >= self.settings.max_missed_offers {
                self.change_presence(a, Presence::Away(ReasonCode::new(ReasonCode::MISSED)), now);
            }
        }
        self.agent_touched(a, now);
        let ct = self.w.contact(c);
        let max_wait = self.w.queue(q).config.max_wait;
        if max_wait
            .is_some_and(|m| ct.status == ContactStatus::Queued && !ct.callback && now >= ct.queue_entered_at + m)
        {
            self.overflow(c, OverflowReason::MaxWait, now);
        } else {
            self.route_contact(c, now);
        }
        self.route_agent(a, now);
    }

    /// Removes the offer from the agent's slots without routing anything.
    fn withdraw_offer(&mut self, c: CIdx, a: AIdx) {
        let contact = self.w.contact(c).id;
        let ag = &mut self.w.agents[a.0];
        if let Some(i) = ag.slots.iter().position(|s| s.contact == contact && s.is_offered()) {
            let slot = ag.slots.swap_remove(i);
            ag.load.remove(slot.channel);
        }
    }

    fn unpin(&mut self, c: CIdx, now: Timestamp) {
        let queued = self.w.contact(c).status == ContactStatus::Queued;
        if queued {
            self.m.contact_unqueued(&self.w, c);
        }
        self.w.contacts[c.0].pinned = None;
        if queued {
            self.m.contact_queued(&self.w, c);
        }
        self.enter_step(c, 0, now);
    }

    /// Queued → out of line (offered, transferred, dropped).
    fn unqueue(&mut self, c: CIdx) {
        self.m.contact_unqueued(&self.w, c);
        let ct = self.w.contact(c);
        let (entry, q) = ((ct.key(), c), ct.queue);
        self.w.queues[q.0 as usize].line.remove(&entry);
    }

    /// Back in line at the original place, same queue and step.
    fn requeue(&mut self, c: CIdx) {
        let ct = &mut self.w.contacts[c.0];
        ct.status = ContactStatus::Queued;
        let entry = (ct.key(), c);
        self.w.queues[ct.queue.0 as usize].line.insert(entry);
        self.m.contact_queued(&self.w, c);
    }

    /// Forgets a contact (it is no longer routed).
    fn drop_contact(&mut self, c: CIdx) {
        if self.w.contact(c).status == ContactStatus::Queued {
            self.unqueue(c);
        }
        let ct = self.w.contacts.remove(c.0).expect("live contact");
        self.w.contact_ids.remove(&ct.id);
        self.w.preds.release(ct.pred);
    }

    /// After any change to `a`: re-index it and announce a state change.
    fn agent_touched(&mut self, a: AIdx, now: Timestamp) {
        self.m.agent_changed(&self.w, a);
        let ag = &mut self.w.agents[a.0];
        let state = ag.derived_state();
        if state != ag.state {
            let from = std::mem::replace(&mut ag.state, state);
            ag.state_since = now;
            let reason = match (&ag.presence, state) {
                (Presence::Away(r), AgentState::Away) => Some(r.clone()),
                _ => None,
            };
            let agent = ag.config.id;
            self.emit(now, EventKind::AgentStateChanged { agent, from, to: state, reason });
        }
    }

    fn emit(&mut self, at: Timestamp, kind: EventKind) {
        self.events.push(Event { at, kind });
    }

    // ----- lookups and queries -------------------------------------------

    fn queue_idx(&self, id: QueueId) -> Result<QIdx, EngineError> {
        self.w.queue_ids.get(&id).copied().ok_or(EngineError::UnknownQueue(id))
    }

    fn agent_idx(&self, id: AgentId) -> Result<AIdx, EngineError> {
        self.w.agent_ids.get(&id).copied().ok_or(EngineError::UnknownAgent(id))
    }

    fn contact_idx(&self, id: ContactId) -> Result<CIdx, EngineError> {
        self.w.contact_ids.get(&id).copied().ok_or(EngineError::UnknownContact(id))
    }

    fn offered(&self, contact: ContactId, agent: AgentId) -> Result<(CIdx, AIdx), EngineError> {
        let c = self.contact_idx(contact)?;
        let a = self.agent_idx(agent)?;
        match self.w.contact(c).status {
            ContactStatus::Offered { agent: x, .. } if x == a => Ok((c, a)),
            _ => Err(EngineError::NotOffered { contact, agent }),
        }
    }

    /// Takes the events decided since the last call.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Swaps the pending events into `buf` (pass an empty one) without
    /// copying them: for callers that process millions, like the simulator.
    pub fn swap_events(&mut self, buf: &mut Vec<Event>) {
        debug_assert!(buf.is_empty(), "events would be lost");
        std::mem::swap(&mut self.events, buf);
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn position_of(&self, c: CIdx) -> Option<u32> {
        let ct = self.w.contact(c);
        if ct.status != ContactStatus::Queued {
            return None;
        }
        let line = &self.w.queue(ct.queue).line;
        let entry = (ct.key(), c);
        // New arrivals usually join at the back: answer that without a walk.
        if line.last() == Some(&entry) {
            return Some(line.len() as u32);
        }
        Some(line.range(..entry).count() as u32 + 1)
    }

    /// 1-based place in line of a queued contact, for announcements.
    pub fn position(&self, contact: ContactId) -> Option<u32> {
        self.position_of(self.contact_idx(contact).ok()?)
    }

    /// Position × recent handle time / agents available for the queue.
    fn wait_estimate(&self, q: QIdx, position: u32) -> Duration {
        let queue = self.w.queue(q);
        let staffed = queue.available_members.max(1);
        Duration::from_millis((position as f64 * queue.handle_ms / staffed as f64) as u64)
    }

    pub fn estimated_wait(&self, contact: ContactId) -> Option<Duration> {
        let c = self.contact_idx(contact).ok()?;
        let position = self.position_of(c)?;
        Some(self.wait_estimate(self.w.contact(c).queue, position))
    }

    pub fn is_open(&self, queue: QueueId, now: Timestamp) -> Result<bool, EngineError> {
        let q = self.queue_idx(queue)?;
        Ok(self.w.queue(q).config.calendar.as_ref().is_none_or(|c| c.is_open(now)))
    }

    pub fn queue_snapshot(&self, queue: QueueId) -> Result<QueueSnapshot, EngineError> {
        let q = self.w.queue(self.queue_idx(queue)?);
        let mut agents = BTreeMap::new();
        for a in &q.members {
            *agents.entry(self.w.agent(*a).state).or_insert(0) += 1;
        }
        let contacts = q.line.iter().map(|(_, c)| self.w.contact(*c));
        let (mut waiting, mut callbacks, mut oldest) = (0, 0, None::<Timestamp>);
        for ct in contacts {
            waiting += 1;
            callbacks += ct.callback as u32;
            oldest = Some(oldest.map_or(ct.enqueued_at, |o| o.min(ct.enqueued_at)));
        }
        Ok(QueueSnapshot { id: queue, waiting, callbacks, oldest_enqueued_at: oldest, agents })
    }

    pub fn agent_snapshot(&self, agent: AgentId) -> Result<AgentSnapshot, EngineError> {
        let ag = self.w.agent(self.agent_idx(agent)?);
        Ok(AgentSnapshot {
            id: agent,
            presence: ag.presence.clone(),
            state: ag.state,
            state_since: ag.state_since,
            missed_in_a_row: ag.missed_in_a_row,
            contacts: ag
                .slots
                .iter()
                .map(|s| {
                    let phase = match s.phase {
                        SlotPhase::Offered { .. } => "offered",
                        SlotPhase::Connected { .. } => "connected",
                        SlotPhase::WrapUp { .. } => "wrap_up",
                    };
                    (s.contact, s.channel, phase)
                })
                .collect(),
        })
    }

    pub fn contact_snapshot(&self, contact: ContactId) -> Result<ContactSnapshot, EngineError> {
        let c = self.contact_idx(contact)?;
        let ct = self.w.contact(c);
        let (status, agent) = match ct.status {
            ContactStatus::Queued => ("queued", None),
            ContactStatus::Offered { agent, .. } => ("offered", Some(agent)),
            ContactStatus::Connected { agent } => ("connected", Some(agent)),
        };
        Ok(ContactSnapshot {
            id: contact,
            queue: self.w.queue(ct.queue).config.id,
            status,
            agent: agent.map(|a| self.w.agent(a).config.id),
            step: ct.step,
            position: self.position_of(c),
            enqueued_at: ct.enqueued_at,
            callback: ct.callback,
        })
    }

    /// Counts for tests and benchmarks: (agents, contacts, interned predicates, timers).
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        (self.w.agents.len(), self.w.contacts.len(), self.w.preds.len(), self.timers.len())
    }

    /// Brute force: the (agent, contact) pairs that could be offered right
    /// now. After every operation this must be empty; tests assert it.
    pub fn routable_pairs(&self) -> Vec<(AgentId, ContactId)> {
        let mut pairs = Vec::new();
        for (a, ag) in self.w.agents.iter() {
            for (c, ct) in self.w.contacts.iter() {
                if self.w.eligible(AIdx(a), CIdx(c), self.now) {
                    pairs.push((ag.config.id, ct.id));
                }
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests;
