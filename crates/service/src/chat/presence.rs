//! Whether a customer is still there. A customer who closes the page while
//! the bot talks or while waiting in line has left, and so has one whose
//! page started a conversation but never opened its socket: after a grace
//! period without any socket (long enough for a reload or a flaky network),
//! the chat ends as abandoned — otherwise the line would fill with people
//! long gone, conversations would stay `new` for ever, and an agent would
//! be offered an empty room. A chat already with an agent is left to the
//! agent to close.
//!
//! Absence is measured on the service's clock and swept by its ticker, so
//! that tests can move time instead of waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_core::time::Timestamp;

/// How long a conversation may have no customer socket by default.
pub const GRACE: Duration = Duration::from_secs(60);

pub struct Presence {
    sockets: std::sync::Mutex<HashMap<ContactId, usize>>,
    /// Conversations with no socket, and since when.
    absent: std::sync::Mutex<HashMap<ContactId, (WorkspaceId, Timestamp)>>,
    grace_ms: AtomicU64,
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            sockets: Default::default(),
            absent: Default::default(),
            grace_ms: AtomicU64::new(GRACE.as_millis() as u64),
        }
    }
}

impl Presence {
    pub fn set_grace(&self, grace: Duration) {
        self.grace_ms.store(grace.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.grace_ms.load(Ordering::Relaxed))
    }

    /// A conversation has started: its customer has no socket yet.
    pub fn started(&self, ws: WorkspaceId, contact: ContactId, now: Timestamp) {
        self.absent.lock().expect("presence lock").insert(contact, (ws, now));
    }

    pub fn opened(&self, contact: ContactId) {
        *self.sockets.lock().expect("presence lock").entry(contact).or_default() += 1;
        self.absent.lock().expect("presence lock").remove(&contact);
    }

    /// Counts a socket closed; the conversation's last one starts its absence.
    pub fn closed(&self, ws: WorkspaceId, contact: ContactId, now: Timestamp) {
        let mut sockets = self.sockets.lock().expect("presence lock");
        let n = sockets.entry(contact).or_default();
        *n = n.saturating_sub(1);
        if *n == 0 {
            sockets.remove(&contact);
            self.absent.lock().expect("presence lock").insert(contact, (ws, now));
        }
    }

    pub fn is_present(&self, contact: ContactId) -> bool {
        self.sockets.lock().expect("presence lock").contains_key(&contact)
    }

    /// The conversations absent for longer than the grace period at `now`,
    /// each returned once.
    pub fn overdue(&self, now: Timestamp) -> Vec<(WorkspaceId, ContactId)> {
        let grace = self.grace();
        let mut absent = self.absent.lock().expect("presence lock");
        let due: Vec<(WorkspaceId, ContactId)> =
            absent.iter().filter(|(_, (_, since))| now.since(*since) >= grace).map(|(c, (ws, _))| (*ws, *c)).collect();
        for (_, c) in &due {
            absent.remove(c);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sockets_per_conversation() {
        let p = Presence::default();
        let (ws, c) = (WorkspaceId(1), ContactId(1));
        p.opened(c);
        p.opened(c);
        p.closed(ws, c, Timestamp(0));
        assert!(p.is_present(c));
        p.closed(ws, c, Timestamp(0));
        assert!(!p.is_present(c));
    }

    #[test]
    fn absent_past_the_grace_period_once() {
        let p = Presence::default();
        p.set_grace(Duration::from_secs(60));
        let ws = WorkspaceId(1);
        // One never connects, one connects and stays, one leaves later.
        p.started(ws, ContactId(1), Timestamp(0));
        p.started(ws, ContactId(2), Timestamp(0));
        p.opened(ContactId(2));
        p.started(ws, ContactId(3), Timestamp(0));
        p.opened(ContactId(3));
        p.closed(ws, ContactId(3), Timestamp(30_000));
        assert_eq!(p.overdue(Timestamp(59_999)), []);
        assert_eq!(p.overdue(Timestamp(60_000)), [(ws, ContactId(1))]);
        assert_eq!(p.overdue(Timestamp(89_999)), []);
        assert_eq!(p.overdue(Timestamp(90_000)), [(ws, ContactId(3))]);
        assert_eq!(p.overdue(Timestamp(1_000_000)), []);
    }
}
