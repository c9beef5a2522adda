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

mod agents;
mod config;
mod contacts;
pub mod indexed;
mod matcher;
mod ordering;
mod queries;
mod ready;
pub mod reference;
mod slab;
mod timers;
mod world;

pub use indexed::IndexedMatcher;
pub use matcher::Matcher;
pub use ordering::{AgentOrdering, AgentRank, OrderKey};
pub use reference::ReferenceMatcher;

use crate::agent::{AgentConfig, AgentState, Load, Presence, ReasonCode};
use crate::attributes::Attributes;
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
    /// Seed for the `random` agent ordering.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_missed_offers: 3, seed: 0x005b_0a4d }
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
        let no_attributes = Attributes::new();
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

    /// Fires the timers due strictly before `now` (the clock never goes
    /// back: one that is already at `now` stays there).
    fn fire_due_before(&mut self, now: Timestamp) {
        while let Some((at, timer)) = self.timers.pop_due(Timestamp(now.0 - 1)) {
            self.now = self.now.max(at);
            self.fire(timer, at);
        }
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

    fn route_contact(&mut self, c: CIdx, now: Timestamp) {
        if self.w.contact(c).status != ContactStatus::Queued {
            return;
        }
        if let Some(a) = self.m.best_agent(&self.w, c, now, &mut self.rng, false) {
            self.offer(c, a, now);
        }
    }

    /// Routes a contact that has just entered its queue and is in no line
    /// yet ([`Engine::enter_queue`]): an agent takes it at once, or it joins
    /// the line. A queue with agents to spare takes most arrivals at once,
    /// and then the line and the matcher's buckets are never touched.
    fn route_arrival(&mut self, c: CIdx, now: Timestamp) {
        match self.m.best_agent(&self.w, c, now, &mut self.rng, true) {
            Some(a) => self.hand_over(c, a, now),
            None => self.line_up(c),
        }
    }

    /// Offers `a` what it should take now; says whether it offered anything.
    fn route_agent(&mut self, a: AIdx, now: Timestamp) -> bool {
        let mut offered = false;
        while let Some(c) = self.m.best_contact(&self.w, a, now) {
            self.offer(c, a, now);
            offered = true;
        }
        offered
    }

    fn offer(&mut self, c: CIdx, a: AIdx, now: Timestamp) {
        self.unqueue(c);
        self.hand_over(c, a, now);
    }

    /// Offers `c`, queued but out of line, to `a`.
    fn hand_over(&mut self, c: CIdx, a: AIdx, now: Timestamp) {
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

    /// Keeps `a` from being offered `c` again for the decline cooldown of
    /// queue `q`, and routes the contact once more when it ends. The contact
    /// must not be queued: the matcher counts contacts nobody declined.
    fn cool_down(&mut self, c: CIdx, a: AIdx, q: QIdx, now: Timestamp) {
        let cooldown = self.w.queue(q).config.decline_cooldown;
        let ct = &mut self.w.contacts[c.0];
        ct.declined.retain(|(_, until)| *until > now);
        if cooldown.is_zero() {
            return;
        }
        ct.declined.push((a, now + cooldown));
        self.timers.set_after(now, cooldown, Timer::Recheck { contact: c, seq: ct.seq });
    }

    /// Takes an offer back from the agent; the contact is queued again at its
    /// original place and routed, then the agent is routed.
    fn return_offer(&mut self, c: CIdx, a: AIdx, why: OfferEnd, now: Timestamp) {
        self.withdraw_offer(c, a);
        let (contact, q) = (self.w.contact(c).id, self.w.contact(c).queue);
        if why != OfferEnd::Revoked {
            self.cool_down(c, a, q, now);
        }
        let ct = &mut self.w.contacts[c.0];
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
        self.w.contacts[c.0].status = ContactStatus::Queued;
        self.line_up(c);
    }

    /// Puts the queued contact `c` in its queue's line and the matcher's index.
    fn line_up(&mut self, c: CIdx) {
        let ct = self.w.contact(c);
        let (entry, q) = ((ct.key(), c), ct.queue);
        self.w.queues[q.0 as usize].line.insert(entry);
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
        self.announce_state(a, now);
    }

    /// `a` may have room for more: announce its state, route it, and only
    /// then re-index it. An offer re-indexes the agent anyway, so an agent
    /// who takes a contact at once does not join the ready sets only to
    /// leave them (routing an agent never reads them).
    fn agent_freed(&mut self, a: AIdx, now: Timestamp) {
        self.announce_state(a, now);
        if !self.route_agent(a, now) {
            self.m.agent_changed(&self.w, a);
        }
    }

    /// Emits `a`'s change of state, if its state changed.
    fn announce_state(&mut self, a: AIdx, now: Timestamp) {
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
}

#[cfg(test)]
mod tests;
