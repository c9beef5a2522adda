//! The one fold of the event log into report cells, used by today's figures
//! and by historical reports alike.
//!
//! A cell holds what happened in one 15-minute bucket to one combination of
//! queue, agent, channel and endpoint, as raw facts (each handled contact's
//! wait, each abandon's wait, rating counts, milliseconds) rather than
//! ratios: a report picks its own thresholds when it reads them and turns
//! them into `switchboard_core::metrics::Counters`, so every figure comes
//! from core's definitions. Every zone's offset is a whole number of quarter
//! hours, so UTC quarter hours are local ones too and any local interval is
//! a union of buckets.

use crate::kinds::Kind;
use std::collections::{BTreeMap, HashMap};
use switchboard_core::agent::{AgentState, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::events::{CancelReason, Event, EventKind, OfferEnd};
use switchboard_core::ids::{ContactId, CustomerId, EndpointId, QueueId, UserId};
use switchboard_core::queue::OverflowAction;
use switchboard_store::LoggedEvent;

/// The finest interval kept; coarser ones are sums of these.
pub const BUCKET_MS: i64 = 15 * 60_000;

/// The bucket holding `at` (ms).
pub fn bucket_of(at: i64) -> i64 {
    at - at.rem_euclid(BUCKET_MS)
}

/// What a cell is about. `None` where an event does not say: a queued
/// contact has no agent yet, the bot works before any queue, a contact
/// opened before `conversation_opened` existed has no endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub queue: Option<QueueId>,
    pub agent: Option<UserId>,
    pub channel: Option<Channel>,
    pub endpoint: Option<EndpointId>,
}

/// One bucket's facts for one key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    pub offered: u64,
    /// Each handled contact's wait, ms, in the bucket it was answered.
    pub handled_waits: Vec<u32>,
    /// Each abandoned contact's wait, ms.
    pub abandoned_waits: Vec<u32>,
    pub overflowed: u64,
    pub transferred: u64,
    pub contained: u64,
    pub handed_off: u64,
    /// Talk, hold and wrap-up of the contacts answered in this bucket
    /// (added when they end, to the bucket they were answered in).
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub wrap_ms: u64,
    /// Ratings: `ratings[s]` answers scored `s`.
    pub ratings: [u64; 6],
    /// Response and resolution targets breached (`sla_breached`).
    pub sla_breaches: u64,
}

/// One agent's activity in one bucket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activity {
    /// Time in each logged-in state, with its reason code (away only), ms.
    pub states: BTreeMap<(AgentState, Option<String>), u64>,
    pub logins: u64,
    pub offers: u64,
    /// Offers that timed out.
    pub missed: u64,
    pub rejected: u64,
}

impl Activity {
    /// Adds `other`'s counts and times.
    pub fn add(&mut self, other: &Activity) {
        for (k, ms) in &other.states {
            *self.states.entry(k.clone()).or_default() += ms;
        }
        self.logins += other.logins;
        self.offers += other.offers;
        self.missed += other.missed;
        self.rejected += other.rejected;
    }
}

/// A handled contact, for first-contact resolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resolution {
    pub customer: CustomerId,
    pub at: i64,
    /// Where its handling is counted.
    pub bucket: i64,
    pub key: Key,
}

/// What the fold remembers of a contact it has seen.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    first: i64,
    channel: Option<Channel>,
    endpoint: Option<EndpointId>,
    customer: Option<CustomerId>,
    /// Answered: its bucket, key and time.
    answered: Option<(i64, Key, i64)>,
    /// While answered: held since (ms), and the hold time of holds already resumed.
    held: Option<i64>,
    hold_ms: u64,
    /// Counted as offered already; and sent to voicemail since, so that its
    /// voicemail coming back to the queue is the same call, not a second offer.
    offered: bool,
    voicemail: bool,
}

impl Seen {
    /// The handling's time from `answered` to `at` as talk and hold.
    fn talk_and_hold(&self, answered: i64, at: i64) -> (u64, u64) {
        let open = self.held.map_or(0, |since| (at - since).max(0) as u64);
        let connected = (at - answered).max(0) as u64;
        let hold = (self.hold_ms + open).min(connected);
        (connected - hold, hold)
    }
}

/// An agent's state since a time, with its reason code.
#[derive(Clone, Debug)]
struct Current {
    state: AgentState,
    reason: Option<String>,
    since: i64,
}

/// The log folded up to `last_id`.
#[derive(Debug, Default)]
pub struct Rollup {
    pub last_id: u64,
    /// Events before this time are skipped (today's figures start at midnight).
    pub from: i64,
    pub cells: BTreeMap<(i64, Key), Cell>,
    pub activity: BTreeMap<(i64, UserId), Activity>,
    /// Each agent's state changes, `(ms, new state)` in time order: what
    /// schedule adherence is measured against.
    pub timelines: HashMap<UserId, Vec<(i64, AgentState)>>,
    /// The adherence exceptions logged as started and not yet ended, by
    /// agent: their `since` (ms). The ticker ends and starts them against it.
    pub adherence_open: HashMap<UserId, i64>,
    /// Each contact's first appearance: (customer, ms). A contact whose
    /// customer is learnt later is added then, at its first time.
    pub starts: Vec<(CustomerId, i64)>,
    pub resolutions: Vec<Resolution>,
    contacts: HashMap<ContactId, Seen>,
    /// Handlings ended and not yet wrapped up, by contact and agent: where
    /// they are counted and when they ended.
    wrapping: HashMap<(ContactId, UserId), (i64, Key, i64)>,
    agents: HashMap<UserId, Current>,
}

impl Rollup {
    /// An empty rollup of events from `from` (ms) on, after event `last_id`.
    pub fn starting(from: i64, last_id: u64) -> Self {
        Rollup { from, last_id, ..Default::default() }
    }

    /// Folds one logged event in.
    pub fn fold(&mut self, e: &LoggedEvent) {
        self.last_id = self.last_id.max(e.id);
        let at = e.at.0;
        if at < self.from {
            return;
        }
        let bucket = bucket_of(at);
        if let Some(contact) = e.contact {
            self.see(contact, e.customer, at);
        }
        let seen = e.contact.and_then(|c| self.contacts.get(&c)).copied().unwrap_or_default();
        let key = |queue: Option<QueueId>, agent: Option<UserId>| Key {
            queue,
            agent,
            channel: seen.channel,
            endpoint: seen.endpoint,
        };
        match Kind::parse(&e.kind) {
            Some(Kind::ConversationOpened) => {
                if let Some(s) = e.contact.and_then(|c| self.contacts.get_mut(&c)) {
                    s.channel = serde_json::from_value(e.payload["channel"].clone()).ok();
                    s.endpoint = e.payload["endpoint"].as_u64().map(EndpointId);
                }
            }
            Some(Kind::BotContained) => self.cell(bucket, key(e.queue, None)).contained += 1,
            // The bot works before any queue: its hand-offs count against its
            // containment there, not against the queue it hands to.
            Some(Kind::BotHandoff) => self.cell(bucket, key(None, None)).handed_off += 1,
            Some(Kind::ContactHeld) => {
                if let Some(s) = e.contact.and_then(|c| self.contacts.get_mut(&c))
                    && s.answered.is_some()
                {
                    s.held.get_or_insert(at);
                }
            }
            Some(Kind::ContactResumed) => {
                if let Some(s) = e.contact.and_then(|c| self.contacts.get_mut(&c))
                    && let Some(since) = s.held.take()
                {
                    s.hold_ms += (at - since).max(0) as u64;
                }
            }
            Some(Kind::SlaBreached) => self.cell(bucket, key(e.queue, e.agent)).sla_breaches += 1,
            Some(Kind::AdherenceException) => {
                if let Some(agent) = e.agent {
                    match (e.payload["phase"].as_str(), e.payload["since"].as_i64()) {
                        (Some("started"), Some(since)) => {
                            self.adherence_open.insert(agent, since);
                        }
                        _ => {
                            self.adherence_open.remove(&agent);
                        }
                    }
                }
            }
            Some(Kind::Csat) => {
                let score = e.payload["score"].as_u64().unwrap_or(0).min(5) as usize;
                self.cell(bucket, key(e.queue, e.agent)).ratings[score] += 1;
            }
            _ => {
                // Engine events carry the engine's event as their payload.
                if let Ok(ev) = serde_json::from_value::<Event>(e.payload.clone()) {
                    self.engine(&ev, at, bucket, e.contact, seen, key(e.queue, e.agent));
                }
            }
        }
    }

    /// Learns a contact's first time and its customer.
    fn see(&mut self, contact: ContactId, customer: Option<CustomerId>, at: i64) {
        let seen = self.contacts.entry(contact).or_insert_with(|| Seen { first: at, ..Default::default() });
        if seen.customer.is_none()
            && let Some(c) = customer
        {
            seen.customer = Some(c);
            self.starts.push((c, seen.first));
        }
    }

    fn cell(&mut self, bucket: i64, key: Key) -> &mut Cell {
        self.cells.entry((bucket, key)).or_default()
    }

    fn engine(&mut self, ev: &Event, at: i64, bucket: i64, contact: Option<ContactId>, seen: Seen, key: Key) {
        let ms = |d: std::time::Duration| d.as_millis().min(u32::MAX as u128) as u32;
        match &ev.kind {
            EventKind::ContactQueued { channel, queue, .. } => {
                let mut key = key;
                key.channel = key.channel.or(Some(*channel));
                key.queue = Some(*queue);
                let mut again = false;
                if let Some(s) = contact.and_then(|c| self.contacts.get_mut(&c)) {
                    s.channel = key.channel;
                    // A caller's voicemail back in line after they waited was offered once, in line.
                    again = std::mem::take(&mut s.voicemail) && s.offered;
                    s.offered = true;
                }
                if !again {
                    self.cell(bucket, key).offered += 1;
                }
            }
            EventKind::OfferAccepted { waited, .. } => {
                self.cell(bucket, key).handled_waits.push(ms(*waited));
                if let Some(s) = contact.and_then(|c| self.contacts.get_mut(&c)) {
                    s.answered = Some((bucket, key, at));
                }
            }
            EventKind::ContactLeft { reason: CancelReason::Abandoned, waited, .. } => {
                self.cell(bucket, key).abandoned_waits.push(ms(*waited));
            }
            EventKind::ContactOverflowed { action, .. } => {
                if let Some(s) = contact.and_then(|c| self.contacts.get_mut(&c)) {
                    s.voicemail = *action == OverflowAction::Voicemail;
                }
                self.cell(bucket, key).overflowed += 1;
            }
            EventKind::ContactTransferred { .. } => {
                // Counted where the contact was handled, if it was: that
                // handling ends here and its agent wraps up; the next agent's
                // is a handling of its own.
                let Some((b, k, answered)) = seen.answered else {
                    self.cell(bucket, key).transferred += 1;
                    return;
                };
                let (talk, hold) = seen.talk_and_hold(answered, at);
                let cell = self.cell(b, k);
                cell.transferred += 1;
                cell.talk_ms += talk;
                cell.hold_ms += hold;
                self.hand_over(contact, b, k, at);
            }
            EventKind::ContactEnded { .. } => {
                if let Some((b, k, answered)) = seen.answered {
                    let (talk, hold) = seen.talk_and_hold(answered, at);
                    let cell = self.cell(b, k);
                    cell.talk_ms += talk;
                    cell.hold_ms += hold;
                    if let Some(customer) = seen.customer {
                        self.resolutions.push(Resolution { customer, at, bucket: b, key: k });
                    }
                    self.hand_over(contact, b, k, at);
                }
            }
            EventKind::WrapUpEnded { agent, .. } => {
                if let Some((b, k, ended)) = contact.and_then(|c| self.wrapping.remove(&(c, UserId(agent.0)))) {
                    self.cell(b, k).wrap_ms += (at - ended).max(0) as u64;
                }
            }
            EventKind::OfferCreated { agent, .. } => self.act(bucket, UserId(agent.0)).offers += 1,
            EventKind::OfferEnded { agent, reason, .. } => {
                let a = self.act(bucket, UserId(agent.0));
                match reason {
                    OfferEnd::TimedOut => a.missed += 1,
                    OfferEnd::Rejected => a.rejected += 1,
                    OfferEnd::Revoked => {}
                }
            }
            EventKind::AgentStateChanged { agent, from, to, reason } => {
                let agent = UserId(agent.0);
                if *from == AgentState::Offline && *to != AgentState::Offline {
                    self.act(bucket, agent).logins += 1;
                }
                let timeline = self.timelines.entry(agent).or_default();
                // The demo's generated history is logged after later events:
                // keep the timeline in time order all the same.
                let at_or_before = timeline.partition_point(|c| c.0 <= at);
                timeline.insert(at_or_before, (at, *to));
                let reason = reason.as_ref().map(|ReasonCode(r)| r.clone());
                let next = Current { state: *to, reason, since: at };
                if let Some(prev) = self.agents.insert(agent, next) {
                    self.spend(agent, &prev, at);
                }
            }
            _ => {}
        }
    }

    /// A handling of `contact` ended at `at`: its agent (in `k`) wraps up
    /// until its `wrap_up_ended`, counted in the same cell.
    fn hand_over(&mut self, contact: Option<ContactId>, b: i64, k: Key, at: i64) {
        if let Some(s) = contact.and_then(|c| self.contacts.get_mut(&c)) {
            s.answered = None;
            s.held = None;
            s.hold_ms = 0;
        }
        if let (Some(c), Some(agent)) = (contact, k.agent) {
            self.wrapping.insert((c, agent), (b, k, at));
        }
    }

    fn act(&mut self, bucket: i64, agent: UserId) -> &mut Activity {
        self.activity.entry((bucket, agent)).or_default()
    }

    /// Adds `agent`'s time in `state` up to `until`, bucket by bucket.
    fn spend(&mut self, agent: UserId, state: &Current, until: i64) {
        if state.state == AgentState::Offline {
            return;
        }
        spans(state.since, until, |bucket, ms| {
            *self.act(bucket, agent).states.entry((state.state, state.reason.clone())).or_default() += ms;
        });
    }

    /// The time each agent has spent in its current state up to `now`,
    /// not yet in `activity` (it is added when the state changes).
    pub fn open_activity(&self, now: i64) -> BTreeMap<(i64, UserId), Activity> {
        let mut out: BTreeMap<(i64, UserId), Activity> = BTreeMap::new();
        for (agent, c) in self.agents.iter().filter(|(_, c)| c.state != AgentState::Offline) {
            spans(c.since, now, |bucket, ms| {
                *out.entry((bucket, *agent)).or_default().states.entry((c.state, c.reason.clone())).or_default() += ms;
            });
        }
        out
    }
}

/// Splits [from, until) at bucket boundaries.
fn spans(from: i64, until: i64, mut f: impl FnMut(i64, u64)) {
    let mut t = from;
    while t < until {
        let bucket = bucket_of(t);
        let end = (bucket + BUCKET_MS).min(until);
        f(bucket, (end - t) as u64);
        t = end;
    }
}
