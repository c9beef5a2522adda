//! Deadlines the engine must act on: offer timeouts, wrap-up ends, step
//! changes, maximum waits and re-checks when a delay or a decline runs out.
//!
//! Timers are never cancelled; each carries enough to recognise itself as
//! stale when it fires (the contact's arrival number and the state it was set
//! for), which keeps every state change O(1) on the timer side. Ties at the
//! same instant fire in the order they were set, so the engine is
//! deterministic.

use super::world::{AIdx, CIdx};
use crate::ids::ContactId;
use crate::time::Timestamp;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    OfferTimeout { contact: CIdx, seq: u64, agent: AIdx, since: Timestamp },
    WrapUpEnd { agent: AIdx, contact: ContactId },
    StepExpiry { contact: CIdx, seq: u64, generation: u32 },
    MaxWait { contact: CIdx, seq: u64, placement: u32 },
    Recheck { contact: CIdx, seq: u64 },
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    at: Timestamp,
    order: u64,
    timer: Timer,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Most deadlines are "now + a configured duration" (an offer timeout, a
/// wrap-up, a step's wait): timers of one duration are set in time order,
/// so each duration gets a FIFO lane with O(1) set and pop. Other deadlines
/// go to a heap. The earliest timer is the least (time, order) among the
/// lane fronts and the heap top, exactly as if all were in one heap.
#[derive(Debug, Default)]
pub struct Timers {
    lanes: Vec<(Duration, VecDeque<Entry>)>,
    heap: BinaryHeap<Reverse<Entry>>,
    next_order: u64,
    /// The latest `now` given to `set_after`: lanes stay sorted only if it never goes back.
    latest: Timestamp,
    /// Where the earliest timer is, kept up to date: the engine asks before
    /// every operation, and the answer is nearly always "not yet".
    first: Option<(Timestamp, Option<usize>)>,
}

/// Past this many distinct durations, more lanes would cost more than the heap.
const MAX_LANES: usize = 16;

impl Timers {
    /// A timer due at `at`, whatever its origin.
    pub fn set(&mut self, at: Timestamp, timer: Timer) {
        self.next_order += 1;
        self.heap.push(Reverse(Entry { at, order: self.next_order, timer }));
        self.note(at, None);
    }

    /// A timer was just set at `at` in `place`: later than every timer
    /// before it, so it is the earliest only if due sooner.
    fn note(&mut self, at: Timestamp, place: Option<usize>) {
        if self.first.is_none_or(|(first, _)| at < first) {
            self.first = Some((at, place));
        }
    }

    /// A timer due `delay` after `now`; `now` must not go back between calls.
    pub fn set_after(&mut self, now: Timestamp, delay: Duration, timer: Timer) {
        debug_assert!(now >= self.latest, "timers set in the past");
        self.latest = now;
        let at = now + delay;
        let lane = match self.lanes.iter().position(|(d, _)| *d == delay) {
            Some(i) => i,
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push((delay, VecDeque::new()));
                self.lanes.len() - 1
            }
            None => return self.set(at, timer),
        };
        self.next_order += 1;
        self.lanes[lane].1.push_back(Entry { at, order: self.next_order, timer });
        self.note(at, Some(lane));
    }

    /// Where the earliest timer is: `Some(lane)` or `None` for the heap.
    fn earliest(&self) -> Option<(Timestamp, Option<usize>)> {
        let mut best = self.heap.peek().map(|e| ((e.0.at, e.0.order), None));
        for (i, (_, lane)) in self.lanes.iter().enumerate() {
            if let Some(e) = lane.front()
                && best.is_none_or(|(key, _)| (e.at, e.order) < key)
            {
                best = Some(((e.at, e.order), Some(i)));
            }
        }
        best.map(|((at, _), place)| (at, place))
    }

    /// The earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, Timer)> {
        let (at, place) = self.first?;
        if at > now {
            return None;
        }
        let entry = match place {
            Some(lane) => self.lanes[lane].1.pop_front(),
            None => self.heap.pop().map(|Reverse(e)| e),
        };
        self.first = self.earliest();
        entry.map(|e| (e.at, e.timer))
    }

    pub fn next_due(&self) -> Option<Timestamp> {
        self.first.map(|(at, _)| at)
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|(_, l)| l.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recheck(seq: u64) -> Timer {
        Timer::Recheck { contact: CIdx(0), seq }
    }

    #[test]
    fn fires_in_time_then_set_order_across_lanes_and_heap() {
        let mut t = Timers::default();
        let s = |ms| Duration::from_millis(ms);
        t.set_after(Timestamp(0), s(30), recheck(1)); // 30
        t.set_after(Timestamp(0), s(10), recheck(2)); // 10
        t.set(Timestamp(10), recheck(3)); // 10, set later than 2
        t.set_after(Timestamp(5), s(10), recheck(4)); // 15
        t.set(Timestamp(1), recheck(5)); // 1
        assert_eq!(t.next_due(), Some(Timestamp(1)));
        let mut fired = Vec::new();
        while let Some((at, Timer::Recheck { seq, .. })) = t.pop_due(Timestamp(100)) {
            fired.push((at.0, seq));
        }
        assert_eq!(fired, vec![(1, 5), (10, 2), (10, 3), (15, 4), (30, 1)]);
        assert_eq!(t.len(), 0);
        assert_eq!(t.pop_due(Timestamp(100)), None);
    }
}
