//! A token bucket per source address: a flood from one address is dropped
//! before any parsing, while everyone else is served.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Past this many addresses, full buckets (idle sources) are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
pub struct RateLimit {
    burst: f64,
    per_second: f64,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl RateLimit {
    /// `burst` messages at once, refilled at `per_second`.
    pub fn new(burst: u32, per_second: u32) -> Self {
        RateLimit { burst: f64::from(burst), per_second: f64::from(per_second), buckets: HashMap::new() }
    }

    /// Whether a message from `ip` may be handled now.
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.buckets.len() >= MAX_TRACKED {
            let (burst, rate) = (self.burst, self.per_second);
            self.buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = self.buckets.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_flood_is_cut_and_refills_with_time() {
        let mut limit = RateLimit::new(5, 10);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t = Instant::now();
        assert_eq!((0..20).filter(|_| limit.allow(a, t)).count(), 5);
        assert!(limit.allow(b, t), "another source is not affected");
        assert!(limit.allow(a, t + Duration::from_millis(100)), "one token back after 100 ms");
        assert!(!limit.allow(a, t + Duration::from_millis(100)));
    }
}
