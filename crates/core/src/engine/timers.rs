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
use std::collections::BinaryHeap;

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

#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    next_order: u64,
}

impl Timers {
    pub fn set(&mut self, at: Timestamp, timer: Timer) {
        self.next_order += 1;
        self.heap.push(Reverse(Entry { at, order: self.next_order, timer }));
    }

    /// The earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, Timer)> {
        if self.heap.peek()?.0.at > now {
            return None;
        }
        self.heap.pop().map(|Reverse(e)| (e.at, e.timer))
    }

    pub fn next_due(&self) -> Option<Timestamp> {
        self.heap.peek().map(|e| e.0.at)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}
