//! A queue's ready agents on one channel, in the queue's order: the set the
//! indexed matcher walks to find the best agent for a contact.
//!
//! Agents join and leave these sets on nearly every decision (an agent who
//! takes a contact may have no room left; one who finishes is ready again,
//! with a new key), so the cost of a change is the cost of routing. Two
//! shapes, chosen by the ordering:
//!
//! - [`ReadySet::Sorted`], a B-tree: any ordering, O(log n) per change.
//! - [`ReadySet::Fifo`] for orderings whose key only grows (longest idle,
//!   round robin: an agent's new key is "now" or "the latest offer"), where
//!   an agent who becomes ready nearly always goes to the back. Joining is a
//!   push at the back and leaving marks the entry dead in O(1): a dead entry
//!   is one whose stamp the agent no longer holds, skipped by walks and
//!   dropped when the front reaches it or when the dead outnumber the live.
//!   A key that does not go to the back (an offer taken back leaves the
//!   agent its old key) is placed by binary search, so the order is exact
//!   whatever the keys: the ordering only decides what is fast.

use super::ordering::OrderKey;
use super::world::AIdx;
use crate::ids::AgentId;
use std::collections::{BTreeSet, VecDeque, btree_set, vec_deque};

/// Tells one entry of an agent from its earlier ones: unique per insertion.
pub type Stamp = u64;

/// Where an agent stands in a set: smaller first, ties by agent id.
pub type Place = (OrderKey, AgentId, AIdx);

#[derive(Debug)]
pub enum ReadySet {
    Sorted(BTreeSet<Place>),
    Fifo(Fifo),
}

impl Default for ReadySet {
    fn default() -> Self {
        ReadySet::Sorted(BTreeSet::new())
    }
}

/// Entries in order, live and dead; `live` counts the live ones.
#[derive(Debug, Default)]
pub struct Fifo {
    entries: VecDeque<(Place, Stamp)>,
    live: usize,
}

/// Past this many dead entries, and more dead than live, a set is compacted.
const MIN_DEAD_TO_COMPACT: usize = 32;

impl ReadySet {
    pub fn is_empty(&self) -> bool {
        match self {
            ReadySet::Sorted(set) => set.is_empty(),
            ReadySet::Fifo(fifo) => fifo.live == 0,
        }
    }

    /// Makes this set the shape `fifo` asks for (the queue's ordering
    /// changed, or the set is new), keeping its live entries.
    /// `stamp_of` gives the stamp each agent in it holds for it.
    pub fn reshape(&mut self, fifo: bool, stamp_of: impl Fn(AIdx) -> Stamp, live: impl Fn(AIdx, Stamp) -> bool) {
        match (&*self, fifo) {
            (ReadySet::Sorted(set), true) => {
                let entries: VecDeque<_> = set.iter().map(|p| (*p, stamp_of(p.2))).collect();
                *self = ReadySet::Fifo(Fifo { live: entries.len(), entries });
            }
            (ReadySet::Fifo(f), false) => {
                *self = ReadySet::Sorted(f.entries.iter().filter(|(p, s)| live(p.2, *s)).map(|(p, _)| *p).collect());
            }
            _ => {}
        }
    }

    pub fn is_fifo(&self) -> bool {
        matches!(self, ReadySet::Fifo(_))
    }

    pub fn insert(&mut self, place: Place, stamp: Stamp) {
        match self {
            ReadySet::Sorted(set) => {
                set.insert(place);
            }
            ReadySet::Fifo(f) => {
                f.live += 1;
                match f.entries.back() {
                    Some((last, _)) if *last > place => {
                        // Dead entries stay sorted with the live ones, so the
                        // search may land among them: the order is the same.
                        let at = f.entries.partition_point(|(p, _)| *p <= place);
                        f.entries.insert(at, (place, stamp));
                    }
                    _ => f.entries.push_back((place, stamp)),
                }
            }
        }
    }

    /// Takes `place` out; for a FIFO set the entry must already be dead by
    /// `live` (its agent dropped the stamp).
    pub fn remove(&mut self, place: Place, live: impl Fn(AIdx, Stamp) -> bool) {
        match self {
            ReadySet::Sorted(set) => {
                set.remove(&place);
            }
            ReadySet::Fifo(f) => {
                f.live -= 1;
                while f.entries.front().is_some_and(|(p, s)| !live(p.2, *s)) {
                    f.entries.pop_front();
                }
                let dead = f.entries.len() - f.live;
                if dead >= MIN_DEAD_TO_COMPACT && dead > f.live {
                    f.entries.retain(|(p, s)| live(p.2, *s));
                }
            }
        }
    }

    /// The live agents in order.
    pub fn iter<L: Fn(AIdx, Stamp) -> bool>(&self, live: L) -> Iter<'_, L> {
        match self {
            ReadySet::Sorted(set) => Iter::Sorted(set.iter()),
            ReadySet::Fifo(f) => Iter::Fifo(f.entries.iter(), live),
        }
    }
}

pub enum Iter<'a, L> {
    Sorted(btree_set::Iter<'a, Place>),
    Fifo(vec_deque::Iter<'a, (Place, Stamp)>, L),
}

impl<L: Fn(AIdx, Stamp) -> bool> Iterator for Iter<'_, L> {
    type Item = AIdx;

    fn next(&mut self) -> Option<AIdx> {
        match self {
            Iter::Sorted(it) => it.next().map(|p| p.2),
            Iter::Fifo(it, live) => it.find(|(p, s)| live(p.2, *s)).map(|(p, _)| p.2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use std::collections::HashMap;

    /// Random joins and leaves, keys mostly growing and sometimes not, and
    /// changes of shape: the set always lists what a sorted set would.
    #[test]
    fn lists_the_live_agents_in_order_whatever_the_keys() {
        let mut rng = Rng::seeded(7);
        let mut set = ReadySet::default();
        set.reshape(true, |_| 0, |_, _| false);
        let mut model = BTreeSet::new();
        // The stamp each agent in the set holds.
        let mut held: HashMap<AIdx, (Place, Stamp)> = HashMap::new();
        let (mut clock, mut stamp) = (0i64, 0);
        for round in 0..20_000 {
            let a = AIdx(rng.below(40) as u32);
            if let Some((place, _)) = held.remove(&a) {
                model.remove(&place);
                set.remove(place, |b, s| held.get(&b).is_some_and(|h| h.1 == s));
            } else {
                clock += rng.below(3) as i64;
                let key = if rng.below(10) == 0 { clock - rng.below(50) as i64 } else { clock };
                let place = ((key, 0), AgentId(a.0 as u64 % 7), a);
                stamp += 1;
                held.insert(a, (place, stamp));
                model.insert(place);
                set.insert(place, stamp);
            }
            if round % 5_000 == 4_999 {
                let fifo = !set.is_fifo();
                set.reshape(fifo, |b| held[&b].1, |b, s| held.get(&b).is_some_and(|h| h.1 == s));
            }
            let listed: Vec<AIdx> = set.iter(|b, s| held.get(&b).is_some_and(|h| h.1 == s)).collect();
            let expected: Vec<AIdx> = model.iter().map(|p| p.2).collect();
            assert_eq!(listed, expected, "round {round}");
            assert_eq!(set.is_empty(), model.is_empty());
        }
    }
}
