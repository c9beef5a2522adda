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

type Ready = BTreeSet<(OrderKey, AgentId, AIdx)>;

#[derive(Debug, Default)]
struct QueueIndex {
    /// Per channel, the agents with room for one more contact on it.
    ready: [Ready; Channel::COUNT],
    /// The same, per predicate the queue's contacts share (a policy step
    /// that does not read the contact): only agents satisfying it.
    ready_by_pred: FastMap<(Channel, PredId), Ready>,
    buckets: FastMap<(Channel, PredId), Bucket>,
}

/// Where an agent stands in a ready set: queue, channel, shared predicate
/// (none for the per-channel set), key.
type ReadyEntry = (QIdx, Channel, Option<PredId>, OrderKey, AgentId);

#[derive(Debug, Default)]
pub struct IndexedMatcher {
    queues: Vec<QueueIndex>,
    /// Each agent's current entries in the ready sets (by slot), to remove
    /// them; the vectors are reused, as agents change on every decision.
    ready_entries: Vec<Vec<ReadyEntry>>,
    /// Contacts sent to one agent personally.
    pinned: FastMap<AIdx, Line>,
    /// Reused buffer for an agent's new ready entries.
    fresh: Vec<ReadyEntry>,
}

impl IndexedMatcher {
    fn queue(&mut self, q: QIdx) -> &mut QueueIndex {
        let i = q.0 as usize;
        if self.queues.len() <= i {
            self.queues.resize_with(i + 1, QueueIndex::default);
        }
        &mut self.queues[i]
    }

    fn unready(&mut self, a: AIdx) {
        let Some(entries) = self.ready_entries.get_mut(a.0 as usize) else { return };
        for (q, channel, pred, key, id) in entries.drain(..) {
            let index = &mut self.queues[q.0 as usize];
            match pred {
                None => {
                    index.ready[channel.index()].remove(&(key, id, a));
                }
                Some(p) => {
                    if let Some(set) = index.ready_by_pred.get_mut(&(channel, p)) {
                        set.remove(&(key, id, a));
                        if set.is_empty() {
                            index.ready_by_pred.remove(&(channel, p));
                        }
                    }
                }
            }
        }
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
                    if bucket.line.is_empty() {
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
                let key = w.order_key(a, m.queue);
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
        if fresh != self.ready_entries[i] {
            self.unready(a);
            for (q, channel, pred, key, id) in &fresh {
                let entry = (*key, *id, a);
                let index = self.queue(*q);
                match pred {
                    None => index.ready[channel.index()].insert(entry),
                    Some(p) => index.ready_by_pred.entry((*channel, *p)).or_default().insert(entry),
                };
            }
            std::mem::swap(&mut self.ready_entries[i], &mut fresh);
        }
        self.fresh = fresh;
    }

    fn agent_removed(&mut self, _: &World, a: AIdx) {
        self.unready(a);
        self.pinned.remove(&a);
    }

    fn best_agent(&mut self, w: &World, c: CIdx, now: Timestamp, rng: &mut Rng, arrival: bool) -> Option<AIdx> {
        let ct = w.contact(c);
        if let Some(a) = ct.pinned {
            return w.eligible(a, c, now).then_some(a);
        }
        let q = ct.queue;
        // A newcomer behind a contact of its bucket that nobody declined has
        // no chance: an agent eligible for it would be eligible for that
        // contact too (same queue, channel and predicate, a longer wait), and
        // the matching was maximal. This keeps arrivals into a long line O(1).
        if arrival && self.queue(q).buckets.get(&(ct.channel, ct.pred)).is_some_and(|b| b.undeclined >= 2) {
            return None;
        }
        // Contacts of a shared step look only at agents known to satisfy it.
        let shared = w.queue(q).step_preds.contains(&Some(ct.pred));
        let index = self.queue(q);
        let ready =
            if shared { index.ready_by_pred.get(&(ct.channel, ct.pred))? } else { &index.ready[ct.channel.index()] };
        if w.queue(q).ordering.random() {
            let eligible: Vec<AIdx> = ready.iter().map(|e| e.2).filter(|a| w.eligible(*a, c, now)).collect();
            return (!eligible.is_empty()).then(|| eligible[rng.below(eligible.len())]);
        }
        ready.iter().map(|e| e.2).find(|a| w.eligible(*a, c, now))
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
                if !ag.config.capacity.can_take(&ag.load, *channel) || !w.preds.get(*pred).matches(ag.facts()) {
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
