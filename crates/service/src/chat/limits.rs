//! How often one address may start conversations or leave messages. The
//! chat endpoints need no login, so without a limit a script could fill a
//! workspace with customers and queue entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use switchboard_core::time::Timestamp;

/// Starts (sessions and left messages) allowed per address per window by
/// default; `chat_start_limit` in the configuration changes it.
pub const STARTS_PER_WINDOW: u32 = 20;
pub const WINDOW_MS: i64 = 10 * 60 * 1000;
/// Addresses remembered at most; the table is emptied when full.
const MAX_ADDRESSES: usize = 100_000;

pub struct StartLimit {
    by_address: std::sync::Mutex<HashMap<IpAddr, (Timestamp, u32)>>,
    /// 0: no limit.
    per_window: AtomicU32,
}

impl Default for StartLimit {
    fn default() -> Self {
        StartLimit { by_address: Default::default(), per_window: AtomicU32::new(STARTS_PER_WINDOW) }
    }
}

impl StartLimit {
    /// Starts allowed per address per window from now on; 0 lifts the limit
    /// (for load tests from one address).
    pub fn set(&self, per_window: u32) {
        self.per_window.store(per_window, Ordering::Relaxed);
    }

    /// Counts a start from `ip`; false once it has used up its window.
    pub fn allow(&self, ip: IpAddr, now: Timestamp) -> bool {
        let mut table = self.by_address.lock().expect("limits lock");
        if table.len() >= MAX_ADDRESSES && !table.contains_key(&ip) {
            table.clear();
        }
        let entry = table.entry(ip).or_insert((now, 0));
        if now.0 - entry.0.0 >= WINDOW_MS {
            *entry = (now, 0);
        }
        entry.1 += 1;
        let limit = self.per_window.load(Ordering::Relaxed);
        limit == 0 || entry.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_starts_per_address() {
        let limit = StartLimit::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..STARTS_PER_WINDOW {
            assert!(limit.allow(a, Timestamp(0)));
        }
        assert!(!limit.allow(a, Timestamp(1)));
        assert!(limit.allow(b, Timestamp(1)));
        assert!(limit.allow(a, Timestamp(WINDOW_MS)));
        limit.set(0);
        assert!((0..100).all(|_| limit.allow(b, Timestamp(2))));
    }
}
