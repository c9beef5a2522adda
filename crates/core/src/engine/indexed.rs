//! The indexed matcher: answers in time proportional to what the affected
//! queues hold, never by scanning all agents or all contacts.
//!
//! Per queue it keeps the *ready* agents (available with room on one of the
//! queue's channels) sorted by the queue's ordering, and the queued contacts
//! in *buckets* by (channel, bound predicate), each sorted by place in line.
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
use crate::ids::AgentId;
use crate::rng::Rng;
use crate::time::Timestamp;
use std::collections::{BTreeSet, HashMap};

type Line = BTreeSet<(ContactKey, CIdx)>;

#[derive(Debug, Default)]
struct QueueIndex {
    ready: BTreeSet<(OrderKey, AgentId, AIdx)>,
    buckets: HashMap<(Channel, PredId), Line>,
}

#[derive(Debug, Default)]
pub struct IndexedMatcher {
    queues: Vec<QueueIndex>,
    /// Each agent's current entries in the ready sets, to remove them.
    ready_entries: HashMap<AIdx, Vec<(QIdx, OrderKey, AgentId)>>,
    /// Contacts sent to one agent personally.
    pinned: HashMap<AIdx, Line>,
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
        for (q, key, id) in self.ready_entries.remove(&a).unwrap_or_default() {
            self.queue(q).ready.remove(&(key, id, a));
        }
    }
}

impl Matcher for IndexedMatcher {
    fn contact_queued(&mut self, w: &World, c: CIdx) {
        let ct = w.contact(c);
        let entry = (ct.key(), c);
        match ct.pinned {
            Some(a) => self.pinned.entry(a).or_default().insert(entry),
            None => self.queue(ct.queue).buckets.entry((ct.channel, ct.pred)).or_default().insert(entry),
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
                if let Some(line) = buckets.get_mut(&key) {
                    line.remove(&entry);
                    if line.is_empty() {
                        buckets.remove(&key);
                    }
                }
            }
        }
    }

    fn agent_changed(&mut self, w: &World, a: AIdx) {
        self.unready(a);
        let ag = w.agent(a);
        let entries: Vec<_> = ag
            .memberships
            .iter()
            .filter(|m| w.ready_for(a, m.queue))
            .map(|m| (m.queue, w.order_key(a, m.queue), ag.config.id))
            .collect();
        for (q, key, id) in &entries {
            self.queue(*q).ready.insert((*key, *id, a));
        }
        if !entries.is_empty() {
            self.ready_entries.insert(a, entries);
        }
    }

    fn agent_removed(&mut self, _: &World, a: AIdx) {
        self.unready(a);
        self.pinned.remove(&a);
    }

    fn best_agent(&mut self, w: &World, c: CIdx, now: Timestamp, rng: &mut Rng) -> Option<AIdx> {
        let ct = w.contact(c);
        if let Some(a) = ct.pinned {
            return w.eligible(a, c, now).then_some(a);
        }
        let q = ct.queue;
        let ready = &self.queue(q).ready;
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
            for ((channel, pred), line) in &index.buckets {
                if !ag.config.capacity.can_take(&ag.load, *channel) || !w.preds.get(*pred).matches(ag.facts()) {
                    continue;
                }
                for (key, c) in line {
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
