//! Whether a customer is still there. A customer who closes the page while
//! the bot talks or while waiting in line has left: after a grace period
//! without any socket (long enough for a reload or a flaky network), the
//! chat ends as abandoned — otherwise the line would fill with people long
//! gone and an agent would be offered an empty room. A chat already with an
//! agent is left to the agent to close.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchboard_core::ids::ContactId;

/// How long a conversation may have no customer socket by default.
pub const GRACE: Duration = Duration::from_secs(60);

pub struct Presence {
    sockets: std::sync::Mutex<HashMap<ContactId, usize>>,
    grace_ms: AtomicU64,
}

impl Default for Presence {
    fn default() -> Self {
        Presence { sockets: Default::default(), grace_ms: AtomicU64::new(GRACE.as_millis() as u64) }
    }
}

impl Presence {
    pub fn set_grace(&self, grace: Duration) {
        self.grace_ms.store(grace.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.grace_ms.load(Ordering::Relaxed))
    }

    pub fn opened(&self, contact: ContactId) {
        *self.sockets.lock().expect("presence lock").entry(contact).or_default() += 1;
    }

    /// Counts a socket closed; true when it was the conversation's last.
    pub fn closed(&self, contact: ContactId) -> bool {
        let mut sockets = self.sockets.lock().expect("presence lock");
        let n = sockets.entry(contact).or_default();
        *n = n.saturating_sub(1);
        if *n == 0 {
            sockets.remove(&contact);
            return true;
        }
        false
    }

    pub fn is_present(&self, contact: ContactId) -> bool {
        self.sockets.lock().expect("presence lock").contains_key(&contact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sockets_per_conversation() {
        let p = Presence::default();
        let c = ContactId(1);
        p.opened(c);
        p.opened(c);
        assert!(!p.closed(c));
        assert!(p.is_present(c));
        assert!(p.closed(c));
        assert!(!p.is_present(c));
    }
}
