//! The metric definitions of the domain brief, computed exactly one way for
//! the simulator, the real-time statistics and the reports.
//!
//! - Offered = contacts that entered the queue. Handled = connected to an agent.
//!   Abandoned = left while queued or offered; short abandons (under the
//!   short-abandon threshold, default 5 s) are counted separately.
//! - Service level (threshold T) = handled within T / handled.
//!   SL2 = (handled within T + abandoned within T) / (handled + abandoned).
//! - ASA = total queue wait of handled contacts / handled.
//! - AHT = (talk + hold + after-contact work) / handled.
//! - Abandonment rate = abandoned / offered.
//! - Occupancy = time handling / (time available + time handling).
//! - Utilisation = time handling / time logged in (handling, available or away).
//! - Transfer rate = transferred / handled.
//! - Containment = contacts the bot ended / (those it ended + those it handed
//!   to a queue).
//! - SLA breaches = first- and next-response targets passed without an
//!   agent's reply, counted where they passed.

use serde::{Deserialize, Serialize};
use std::ops::AddAssign;
use std::time::Duration;

/// Below this wait an abandon is "short": a misdial, not a failure of service.
pub const DEFAULT_SHORT_ABANDON: Duration = Duration::from_secs(5);

/// Additive counts from which every ratio is derived. Counters of intervals
/// or queues add up; ratios never are averaged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    pub offered: u64,
    pub handled: u64,
    pub handled_within_sl: u64,
    pub abandoned: u64,
    pub abandoned_within_sl: u64,
    pub short_abandoned: u64,
    /// Left the queue for another queue, voicemail or a disconnect.
    pub overflowed: u64,
    pub wait_ms_handled: u64,
    pub handle_ms: u64,
    pub busy_ms: u64,
    pub available_ms: u64,
    /// Logged in but away (on a break, in training, …).
    pub away_ms: u64,
    /// The parts of `handle_ms`: connected and talking, on hold (the agent
    /// held the customer), and after-contact work.
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub wrap_ms: u64,
    pub transferred: u64,
    /// Ended by the bot (or IVR) without an agent.
    pub contained: u64,
    /// Handed by the bot (or IVR) to a queue.
    pub handed_off: u64,
    /// First- and next-response targets passed without an agent's reply
    /// (one per customer message that started the clock).
    #[serde(default)]
    pub sla_breaches: u64,
}

impl AddAssign for Counters {
    fn add_assign(&mut self, o: Counters) {
        self.offered += o.offered;
        self.handled += o.handled;
        self.handled_within_sl += o.handled_within_sl;
        self.abandoned += o.abandoned;
        self.abandoned_within_sl += o.abandoned_within_sl;
        self.short_abandoned += o.short_abandoned;
        self.overflowed += o.overflowed;
        self.wait_ms_handled += o.wait_ms_handled;
        self.handle_ms += o.handle_ms;
        self.busy_ms += o.busy_ms;
        self.available_ms += o.available_ms;
        self.away_ms += o.away_ms;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_ms += o.wrap_ms;
        self.transferred += o.transferred;
        self.contained += o.contained;
        self.handed_off += o.handed_off;
        self.sla_breaches += o.sla_breaches;
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Counters {
    /// A contact reached an agent after waiting `wait`.
    pub fn record_handled(&mut self, wait: Duration, sl_threshold: Duration) {
        self.handled += 1;
        self.handled_within_sl += (wait <= sl_threshold) as u64;
        self.wait_ms_handled += wait.as_millis() as u64;
    }

    /// A customer left after waiting `wait`.
    pub fn record_abandoned(&mut self, wait: Duration, sl_threshold: Duration, short: Duration) {
        self.abandoned += 1;
        self.abandoned_within_sl += (wait <= sl_threshold) as u64;
        self.short_abandoned += (wait < short) as u64;
    }

    /// A customer left after waiting `wait`, counted as reports count it:
    /// under `short` it is a short abandon only (a misdial is neither a
    /// failure of service nor an abandoned contact), else abandoned.
    pub fn record_left(&mut self, wait: Duration, sl_threshold: Duration, short: Duration) {
        if wait < short {
            self.short_abandoned += 1;
        } else {
            self.record_abandoned(wait, sl_threshold, short);
        }
    }

    pub fn service_level(&self) -> Option<f64> {
        ratio(self.handled_within_sl, self.handled)
    }

    pub fn service_level_2(&self) -> Option<f64> {
        ratio(self.handled_within_sl + self.abandoned_within_sl, self.handled + self.abandoned)
    }

    pub fn asa_seconds(&self) -> Option<f64> {
        ratio(self.wait_ms_handled, self.handled).map(|ms| ms / 1000.0)
    }

    pub fn aht_seconds(&self) -> Option<f64> {
        ratio(self.handle_ms, self.handled).map(|ms| ms / 1000.0)
    }

    pub fn abandonment_rate(&self) -> Option<f64> {
        ratio(self.abandoned, self.offered)
    }

    pub fn occupancy(&self) -> Option<f64> {
        ratio(self.busy_ms, self.busy_ms + self.available_ms)
    }

    pub fn utilisation(&self) -> Option<f64> {
        ratio(self.busy_ms, self.busy_ms + self.available_ms + self.away_ms)
    }

    /// Average talk time per handled contact.
    pub fn talk_seconds(&self) -> Option<f64> {
        ratio(self.talk_ms, self.handled).map(|ms| ms / 1000.0)
    }

    /// Average hold time per handled contact.
    pub fn hold_seconds(&self) -> Option<f64> {
        ratio(self.hold_ms, self.handled).map(|ms| ms / 1000.0)
    }

    /// Average after-contact work per handled contact.
    pub fn wrap_seconds(&self) -> Option<f64> {
        ratio(self.wrap_ms, self.handled).map(|ms| ms / 1000.0)
    }

    pub fn transfer_rate(&self) -> Option<f64> {
        ratio(self.transferred, self.handled)
    }

    pub fn containment(&self) -> Option<f64> {
        ratio(self.contained, self.contained + self.handed_off)
    }

    pub fn summary(&self) -> Summary {
        Summary {
            offered: self.offered,
            handled: self.handled,
            abandoned: self.abandoned,
            short_abandoned: self.short_abandoned,
            overflowed: self.overflowed,
            service_level: self.service_level(),
            service_level_2: self.service_level_2(),
            asa_seconds: self.asa_seconds(),
            aht_seconds: self.aht_seconds(),
            abandonment_rate: self.abandonment_rate(),
            occupancy: self.occupancy(),
        }
    }
}

/// The ratios, as fractions; `None` where the denominator is zero.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub offered: u64,
    pub handled: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub overflowed: u64,
    pub service_level: Option<f64>,
    pub service_level_2: Option<f64>,
    pub asa_seconds: Option<f64>,
    pub aht_seconds: Option<f64>,
    pub abandonment_rate: Option<f64>,
    pub occupancy: Option<f64>,
}

/// First-contact resolution: resolved contacts with no repeat contact from
/// the same customer within `window` / resolved contacts. `resolutions` are
/// (customer, resolved at) and `contacts` (customer, started at), both in
/// any order; times in ms.
pub fn first_contact_resolution<C: Ord + Copy>(
    resolutions: &[(C, i64)],
    contacts: &[(C, i64)],
    window: Duration,
) -> Option<f64> {
    let mut starts: Vec<(C, i64)> = contacts.to_vec();
    starts.sort();
    let window = window.as_millis() as i64;
    let repeated = resolutions
        .iter()
        .filter(|(customer, at)| {
            let from = starts.partition_point(|(c, t)| (c, t) <= (customer, at));
            starts.get(from).is_some_and(|(c, t)| c == customer && *t <= at + window)
        })
        .count();
    ratio((resolutions.len() - repeated) as u64, resolutions.len() as u64)
}

/// CSAT = share of answers 4–5 on a 1–5 scale; also the mean.
pub fn csat(scores: &[u8]) -> Option<(f64, f64)> {
    let n = scores.len() as u64;
    let satisfied = scores.iter().filter(|s| **s >= 4).count() as u64;
    let mean = ratio(scores.iter().map(|s| *s as u64).sum(), n)?;
    Some((ratio(satisfied, n)?, mean))
}

/// NPS = % promoters (9–10) minus % detractors (0–6), in points.
pub fn nps(scores: &[u8]) -> Option<f64> {
    let n = scores.len() as u64;
    let promoters = scores.iter().filter(|s| **s >= 9).count() as u64;
    let detractors = scores.iter().filter(|s| **s <= 6).count() as u64;
    Some(100.0 * (ratio(promoters, n)? - ratio(detractors, n)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_asa_and_abandonment() {
        let t = Duration::from_secs(20);
        let mut c = Counters { offered: 5, ..Default::default() };
        c.record_handled(Duration::from_secs(10), t);
        c.record_handled(Duration::from_secs(20), t);
        c.record_handled(Duration::from_secs(50), t);
        c.record_abandoned(Duration::from_secs(3), t, DEFAULT_SHORT_ABANDON);
        c.record_abandoned(Duration::from_secs(40), t, DEFAULT_SHORT_ABANDON);
        assert_eq!(c.service_level(), Some(2.0 / 3.0));
        assert_eq!(c.service_level_2(), Some(3.0 / 5.0));
        assert_eq!(c.asa_seconds(), Some(80.0 / 3.0));
        assert_eq!(c.abandonment_rate(), Some(0.4));
        assert_eq!(c.short_abandoned, 1);
        assert_eq!(Counters::default().service_level(), None);
    }

    #[test]
    fn fcr_csat_nps() {
        let day = 86_400_000;
        // Customer 1 resolved at day 0 and came back on day 3: not first-contact resolved.
        // Customer 2 resolved and came back after 10 days: resolved.
        let resolutions = [(1, 0), (2, 0), (3, 0)];
        let contacts = [(1, 0), (1, 3 * day), (2, 0), (2, 10 * day), (3, 0)];
        let fcr = first_contact_resolution(&resolutions, &contacts, Duration::from_secs(7 * 86_400)).unwrap();
        assert!((fcr - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(csat(&[5, 4, 3, 1]), Some((0.5, 3.25)));
        assert_eq!(nps(&[10, 9, 8, 6]), Some(25.0));
        assert_eq!(csat(&[]), None);
    }
}
