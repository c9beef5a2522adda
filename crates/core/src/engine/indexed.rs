//! The indexed matcher: answers in time proportional to what the affected
//! queues hold, never by scanning all agents or all contacts.
//!
//! Per queue and channel it keeps the *ready* agents (available with room
//! for one more contact on that channel) sorted by the queue's ordering, and
//! the queued contacts in *buckets* by (channel, bound predicate), each
//! sorted by place in line.
//!
//! - A contact arrives: walk the queue's ready agents in order and take the
//!   first eligible one. Agents skipped are ready but fail the predicate,
//!   the delay or a recent decline, so the walk is short in practice.
//! - An agent frees up: for each queue it serves, test each bucket's
//!   predicate once against the agent, and look at the head of each bucket
//!   that matches. Cost: memberships × buckets, independent of queue length.

use super::matcher::Matcher;
use super::ordering::OrderKey;
use super::ready::{ReadySet, Stamp};
use super::world::{AIdx, CIdx, CandidateKey, ContactKey, PredId, QIdx, World};
use crate::channel::Channel;
use crate::fasthash::FastMap;
use crate::ids::AgentId;
use crate::rng::Rng;
use crate::time::Timestamp;
use std::collections::BTreeSet;

type Line = BTreeSet<(ContactKey, CIdx)>;

/// Contacts of one queue waiting on one channel under one predicate.
#[derive(Debug, Default)]
struct Bucket {
    line: Line,
    /// How many of them no agent has declined.
    undeclined: u32,
}

#[derive(Debug, Default)]
struct QueueIndex {
    /// Per channel, the agents with room for one more contact on it.
    ready: [ReadySet; Channel::COUNT],
    /// The same, per predicate the queue's contacts share (a policy step
    /// that does not read the contact): only agents satisfying it.
    ready_by_pred: FastMap<(Channel, PredId), ReadySet>,
    buckets: FastMap<(Channel, PredId), Bucket>,
}

/// Where an agent stands in a ready set: queue, channel, shared predicate
/// (none for the per-channel set), key.
type Spot = (QIdx, Channel, Option<PredId>, OrderKey, AgentId);

/// An agent's entries in the ready sets (by slot), each with the stamp it
/// was inserted with.
type Entries = Vec<Vec<(Spot, Stamp)>>;

/// Whether the entry of `a` stamped `stamp` is still one of its entries.
fn holds(entries: &Entries, a: AIdx, stamp: Stamp) -> bool {
    entries.get(a.0 as usize).is_some_and(|e| e.iter().any(|(_, s)| *s == stamp))
}

/// Whether `pred` is one of `q`'s shared step predicates. Their sets and
/// buckets are few and fill and empty all day: an empty one is kept, not
/// freed only to be allocated again by the next contact or agent.
fn shared(w: &World, q: QIdx, pred: PredId) -> bool {
    w.queue(q).step_preds.contains(&Some(pred))
}

#[derive(Debug, Default)]
pub struct IndexedMatcher {
    queues: Vec<QueueIndex>,
    /// Each agent's current entries in the ready sets, to remove them; the
    /// vectors are reused, as agents change on every decision.
    ready_entries: Entries,
    /// The last stamp handed out.
    stamp: Stamp,
    /// Contacts sent to one agent personally.
    pinned: FastMap<AIdx, Line>,
    /// Reused buffers for an agent's new spots and entries.
    fresh: Vec<Spot>,
    spare: Vec<(Spot, Stamp)>,
}

impl IndexedMatcher {
    fn queue(&mut self, q: QIdx) -> &mut QueueIndex {
        let i = q.0 as usize;
        if self.queues.len() <= i {
            self.queues.resize_with(i + 1, QueueIndex::default);
        }
        &mut self.queues[i]
    }

    /// Takes `a`'s entries in `gone` (no longer among its entries) out of
    /// their sets.
    fn leave(&mut self, w: &World, a: AIdx, gone: &[(Spot, Stamp)]) {
        let entries = &self.ready_entries;
        let live = |a: AIdx, s: Stamp| holds(entries, a, s);
        for ((q, channel, pred, key, id), _) in gone {
            let index = &mut self.queues[q.0 as usize];
            let place = (*key, *id, a);
            match pred {
                None => index.ready[channel.index()].remove(place, live),
                Some(p) => {
                    if let Some(set) = index.ready_by_pred.get_mut(&(*channel, *p)) {
                        set.remove(place, live);
                        if set.is_empty() && !shared(w, *q, *p) {
                            index.ready_by_pred.remove(&(*channel, *p));
                        }
                    }
                }
            }
        }
    }

    /// Puts `a`'s entry `spot`, already among its entries, into its set,
    /// first giving the set the shape the queue's ordering asks for.
    fn join(&mut self, w: &World, a: AIdx, (spot, stamp): (Spot, Stamp)) {
        let (q, channel, pred, key, id) = spot;
        let fifo = w.queue(q).ordering.key_only_grows();
        let i = q.0 as usize;
        if self.queues.len() <= i {
            self.queues.resize_with(i + 1, QueueIndex::default);
        }
        let entries = &self.ready_entries;
        let index = &mut self.queues[i];
        let set = match pred {
            None => &mut index.ready[channel.index()],
            Some(p) => index.ready_by_pred.entry((channel, p)).or_default(),
        };
        if set.is_fifo() != fifo {
            let stamp_of = |b: AIdx| {
                entries[b.0 as usize].iter().find(|(s, _)| (s.0, s.1, s.2) == (q, channel, pred)).map_or(0, |e| e.1)
            };
            set.reshape(fifo, stamp_of, |b, s| holds(entries, b, s));
        }
        set.insert((key, id, a), stamp);
    }
}

impl Matcher for IndexedMatcher {
    fn contact_queued(&mut self, w: &World, c: CIdx) {
        let ct = w.contact(c);
        let entry = (ct.key(), c);
        match ct.pinned {
            Some(a) => self.pinned.entry(a).or_default().insert(entry),
            None => {
                let bucket = self.queue(ct.queue).buckets.entry((ct.channel, ct.pred)).or_default();
                bucket.undeclined += ct.declined.is_empty() as u32;
                bucket.line.insert(entry)
            }
        };
    }

    fn contact_unqueued(&mut self, w: &World, c: CIdx) {
        let ct = w.contact(c);
        let entry = (ct.key(), c);
        match ct.pinned {
            Some(a) => {
                if let Some(line) = self.pinned.get_mut(&a) {
                    line.remove(&entry);
                    if line.is_empty() {
                        self.pinned.remove(&a);
                    }
                }
            }
            None => {
                let buckets = &mut self.queue(ct.queue).buckets;
                let key = (ct.channel, ct.pred);
                if let Some(bucket) = buckets.get_mut(&key) {
                    bucket.line.remove(&entry);
                    bucket.undeclined -= ct.declined.is_empty() as u32;
                    if bucket.line.is_empty() && !shared(w, ct.queue, ct.pred) {
                        buckets.remove(&key);
                    }
                }
            }
        }
    }

    fn agent_changed(&mut self, w: &World, a: AIdx) {
        let i = a.0 as usize;
        if self.ready_entries.len() <= i {
            self.ready_entries.resize_with(i + 1, Vec::new);
        }
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        let ag = w.agent(a);
        if ag.available() {
            for m in &ag.memberships {
                let queue = w.queue(m.queue);
                let mut channels =
                    queue.config.channels.iter().filter(|ch| ag.config.capacity.can_take(&ag.load, *ch)).peekable();
                if channels.peek().is_none() {
                    continue;
                }
                // The membership is at hand: no need to look it up again.
                let key = queue.ordering.key(&ag.rank(m));
                let id = ag.config.id;
                // The per-channel set serves contacts whose predicate is their own.
                let general = !queue.all_steps_shared();
                for channel in channels {
                    if general {
                        fresh.push((m.queue, channel, None, key, id));
                    }
                    fresh.extend(m.shared_matches.iter().map(|p| (m.queue, channel, Some(*p), key, id)));
                }
            }
        }
        // Most changes (an accepted offer, a call that ends wrap-up into the
        // same rank) leave the agent where it was: then nothing moves.
        let old = &self.ready_entries[i];
        if old.len() == fresh.len() && old.iter().zip(&fresh).all(|((o, _), f)| o == f) {
            self.fresh = fresh;
            return;
        }
        // Entries that stay keep their stamps; only the others leave and join.
        // Spots are distinct (memberships, their channels and their
        // deduplicated shared predicates) and listed in the same order each
        // time, so a kept entry is nearly always the next old one: the search
        // starts there instead of scanning from the front.
        let mut next = std::mem::take(&mut self.spare);
        next.clear();
        let first_new = self.stamp + 1;
        let mut kept_any = false;
        let mut cursor = 0;
        for spot in &fresh {
            let found = old[cursor..].iter().position(|(o, _)| o == spot).map(|k| cursor + k);
            match found.or_else(|| old[..cursor].iter().position(|(o, _)| o == spot)) {
                Some(k) => {
                    next.push(old[k]);
                    cursor = k + 1;
                    kept_any = true;
                }
                None => {
                    self.stamp += 1;
                    next.push((*spot, self.stamp));
                }
            }
        }
        let mut old = std::mem::replace(&mut self.ready_entries[i], next);
        if kept_any {
            old.retain(|(_, s)| !holds(&self.ready_entries, a, *s));
        }
        self.leave(w, a, &old);
        for k in 0..self.ready_entries[i].len() {
            let entry = self.ready_entries[i][k];
            if entry.1 >= first_new {
                self.join(w, a, entry);
            }
        }
        self.spare = old;
        self.fresh = fresh;
    }

    fn agent_removed(&mut self, w: &World, a: AIdx) {
        if let Some(entries) = self.ready_entries.get_mut(a.0 as usize) {
            let gone = std::mem::take(entries);
            self.leave(w, a, &gone);
        }
        self.pinned.remove(&a);
    }

    fn best_agent(&mut self, w: &World, c: CIdx, now: Timestamp, rng: &mut Rng, arrival: bool) -> Option<AIdx> {
        let ct = w.contact(c);
        if let Some(a) = ct.pinned {
            return w.eligible(a, c, now).then_some(a);
        }
        let q = ct.queue;
        // A newcomer (not in its bucket yet) behind a contact of its bucket
        // that nobody declined has no chance: an agent eligible for it would
        // be eligible for that contact too (same queue, channel and
        // predicate, a longer wait), and the matching was maximal. This
        // keeps arrivals into a long line O(1).
        if arrival && self.queue(q).buckets.get(&(ct.channel, ct.pred)).is_some_and(|b| b.undeclined >= 1) {
            return None;
        }
        // Contacts of a shared step look only at agents known to satisfy it.
        let by_pred = shared(w, q, ct.pred);
        let index = self.queues.get(q.0 as usize)?;
        let ready =
            if by_pred { index.ready_by_pred.get(&(ct.channel, ct.pred))? } else { &index.ready[ct.channel.index()] };
        let entries = &self.ready_entries;
        let mut agents = ready.iter(|a, s| holds(entries, a, s));
        // Agents indexed by the contact's shared step are known to satisfy it.
        let eligible = |a: &AIdx| if by_pred { w.eligible_but_step(*a, c, now) } else { w.eligible(*a, c, now) };
        if w.queue(q).ordering.random() {
            let eligible: Vec<AIdx> = agents.filter(eligible).collect();
            return (!eligible.is_empty()).then(|| eligible[rng.below(eligible.len())]);
        }
        agents.find(eligible)
    }

    fn best_contact(&mut self, w: &World, a: AIdx, now: Timestamp) -> Option<CIdx> {
        let ag = w.agent(a);
        if !ag.available() {
            return None;
        }
        let mut best: Option<(CandidateKey, CIdx)> = None;
        if let Some(line) = self.pinned.get(&a) {
            best = line.iter().find(|(_, c)| w.eligible(a, *c, now)).map(|(k, c)| ((0, *k), *c));
        }
        for m in &ag.memberships {
            let Some(index) = self.queues.get(m.queue.0 as usize) else { continue };
            for ((channel, pred), bucket) in &index.buckets {
                if !ag.config.capacity.can_take(&ag.load, *channel) {
                    continue;
                }
                // A shared step's answer is known from configuration time.
                let matches = if shared(w, m.queue, *pred) {
                    m.shared_matches.contains(pred)
                } else {
                    w.preds.get(*pred).matches(ag.facts())
                };
                if !matches {
                    continue;
                }
                for (key, c) in &bucket.line {
                    let candidate = (m.priority, *key);
                    if best.is_some_and(|(b, _)| b <= candidate) {
                        break;
                    }
                    let ct = w.contact(*c);
                    if now >= ct.queue_entered_at + m.delay && !ct.declined_by(a, now) {
                        best = Some((candidate, *c));
                        break;
                    }
                }
            }
        }
        best.map(|(_, c)| c)
    }
}
