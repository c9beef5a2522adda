//! Login throttling with exponential back-off.
//!
//! A lock of the account after N failures from anywhere lets anyone lock
//! any agent out. Failures are instead counted per account *from one
//! address* and per address across all accounts: past a few free failures
//! each further one doubles the wait before that key may try again (1 s,
//! 2 s, 4 s … at most 15 minutes). The account's owner logging in from
//! another address is not slowed by someone guessing elsewhere, and one
//! address spraying many accounts is slowed as a whole.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use switchboard_core::time::Timestamp;

/// Failures of one account from one address before the back-off starts.
const FREE_PER_ACCOUNT: u32 = 5;
/// Failures from one address, any accounts, before the back-off starts.
const FREE_PER_ADDRESS: u32 = 20;
const FIRST_WAIT_MS: i64 = 1_000;
const MAX_WAIT_MS: i64 = 15 * 60 * 1_000;
/// A key with no failure for this long starts afresh.
const FORGET_AFTER_MS: i64 = 30 * 60 * 1_000;
/// Past this many keys, forgotten ones are dropped (bounds the memory an
/// attacker changing addresses can make us hold).
const MAX_KEYS: usize = 100_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Key {
    Account(String, IpAddr),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Backoff {
    failures: u32,
    last: Timestamp,
    /// No attempt before this.
    until: Timestamp,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    keys: std::sync::Mutex<HashMap<Key, Backoff>>,
}

impl LoginThrottle {
    /// How long `email` from `from` must still wait, if at all.
    pub fn wait(&self, email: &str, from: IpAddr, now: Timestamp) -> Option<Duration> {
        let keys = self.keys.lock().expect("throttle lock");
        let until = Self::keys_of(email, from)
            .iter()
            .filter_map(|k| keys.get(k))
            .filter(|b| now.0 - b.last.0 < FORGET_AFTER_MS)
            .map(|b| b.until.0)
            .max()?;
        (until > now.0).then(|| Duration::from_millis((until - now.0) as u64))
    }

    /// Counts a failed attempt against both keys.
    pub fn failed(&self, email: &str, from: IpAddr, now: Timestamp) {
        let mut keys = self.keys.lock().expect("throttle lock");
        if keys.len() >= MAX_KEYS {
            keys.retain(|_, b| now.0 - b.last.0 < FORGET_AFTER_MS);
        }
        for key in Self::keys_of(email, from) {
            let free = match key {
                Key::Account(..) => FREE_PER_ACCOUNT,
                Key::Address(_) => FREE_PER_ADDRESS,
            };
            let b = keys.entry(key).or_insert(Backoff { failures: 0, last: now, until: now });
            if now.0 - b.last.0 >= FORGET_AFTER_MS {
                b.failures = 0;
            }
            b.failures += 1;
            b.last = now;
            if b.failures >= free {
                let doublings = (b.failures - free).min(20);
                b.until = Timestamp(now.0 + (FIRST_WAIT_MS << doublings).min(MAX_WAIT_MS));
            }
        }
    }

    /// A success clears the account's count from that address.
    pub fn succeeded(&self, email: &str, from: IpAddr) {
        self.keys.lock().expect("throttle lock").remove(&Key::Account(email.to_string(), from));
    }

    fn keys_of(email: &str, from: IpAddr) -> [Key; 2] {
        [Key::Account(email.to_string(), from), Key::Address(from)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_per_key_and_spares_other_addresses() {
        let t = LoginThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let at = |ms| Timestamp(ms);
        for _ in 0..FREE_PER_ACCOUNT - 1 {
            t.failed("x@y", a, at(0));
        }
        assert_eq!(t.wait("x@y", a, at(0)), None);
        t.failed("x@y", a, at(0));
        assert_eq!(t.wait("x@y", a, at(0)), Some(Duration::from_secs(1)));
        t.failed("x@y", a, at(1_000));
        assert_eq!(t.wait("x@y", a, at(1_000)), Some(Duration::from_secs(2)));
        assert_eq!(t.wait("x@y", b, at(1_000)), None, "another address is not slowed");
        assert_eq!(t.wait("other@y", a, at(1_000)), None, "nor another account under the address's own limit");
        t.succeeded("x@y", a);
        assert_eq!(t.wait("x@y", a, at(1_000)), None);
        assert_eq!(t.wait("x@y", a, at(FORGET_AFTER_MS * 2)), None);
    }
}
