//! Which events a socket has sent. Requests publish their events when their
//! own commit returns, so with group commit an event can be published after
//! one with a higher id: a socket must not drop an event just because its id
//! is lower than the last one sent. It remembers the ids sent instead.

use std::collections::BTreeSet;

/// Ids remembered; an event later than this many others is dropped.
const WINDOW: usize = 8192;

pub struct Seen {
    /// Everything at or below this was sent (or is too late).
    floor: u64,
    ids: BTreeSet<u64>,
}

impl Seen {
    /// After a backlog that ended at `floor`.
    pub fn after(floor: u64) -> Self {
        Seen { floor, ids: BTreeSet::new() }
    }

    /// True the first time `id` is offered (and it is not too late).
    pub fn first(&mut self, id: u64) -> bool {
        if id <= self.floor || !self.ids.insert(id) {
            return false;
        }
        while self.ids.len() > WINDOW {
            if let Some(oldest) = self.ids.pop_first() {
                self.floor = oldest;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn late_events_are_sent_once() {
        let mut s = super::Seen::after(10);
        assert!(!s.first(9));
        assert!(s.first(12));
        assert!(s.first(11), "published after 12, still sent");
        assert!(!s.first(11));
    }
}
