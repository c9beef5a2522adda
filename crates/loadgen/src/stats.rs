//! Latency percentiles from every sample, sorted: exact, and cheap enough
//! for the few million samples a run collects.

use serde::Serialize;
use std::time::Duration;

/// What one measured run achieved.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Successful requests in the measured window, per second.
    pub per_second: f64,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// `latencies` in microseconds, in any order; `window` is the measured time.
    pub fn new(mut latencies: Vec<u32>, errors: u64, window: Duration) -> Summary {
        latencies.sort_unstable();
        let ms = |q: f64| f64::from(percentile(&latencies, q)) / 1000.0;
        Summary {
            per_second: latencies.len() as f64 / window.as_secs_f64(),
            requests: latencies.len() as u64,
            errors,
            p50_ms: ms(0.50),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: ms(1.0),
        }
    }
}

/// The nearest-rank percentile of sorted samples: the smallest sample with
/// at least a fraction `q` of all samples at or below it. Zero when empty.
pub fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&s, 0.5), 500);
        assert_eq!(percentile(&s, 0.99), 990);
        assert_eq!(percentile(&s, 0.999), 999);
        assert_eq!(percentile(&s, 1.0), 1000);
        assert_eq!(percentile(&s, 0.0), 1);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.999), 7);
    }

    #[test]
    fn summary_rate_and_milliseconds() {
        let s = Summary::new(vec![3000, 1000, 2000, 4000], 1, Duration::from_secs(2));
        assert_eq!(s.per_second, 2.0);
        assert_eq!((s.p50_ms, s.max_ms, s.errors), (2.0, 4.0, 1));
    }
}
