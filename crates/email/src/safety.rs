//! What keeps email quiet: auto-replies are recognised (so nothing
//! automatic answers them), bounces never open a conversation, and one
//! sender can only write so often (two automatons that slipped past the
//! rest still stop).

use crate::parse::{AutoHeaders, Email};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a message counts as sent by a machine, if it does (RFC 3834 and
/// the headers list and vacation software add).
pub fn automatic(auto: &AutoHeaders) -> Option<&'static str> {
    if auto
        .auto_submitted
        .as_deref()
        .is_some_and(|v| !v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("no"))
    {
        return Some("auto-submitted");
    }
    if auto.x_autoreply {
        return Some("x-autoreply");
    }
    if let Some(p) = &auto.precedence
        && ["bulk", "list", "junk"].iter().any(|k| p.eq_ignore_ascii_case(k))
    {
        return Some("precedence");
    }
    if auto.list_id {
        return Some("list");
    }
    None
}

/// Whether a message is a bounce: a delivery status notification, or
/// anything sent with the null reverse path that is not an auto-reply.
pub fn is_bounce(email: &Email, envelope_from: &str) -> bool {
    email.report.is_some() || (envelope_from.is_empty() && automatic(&email.auto).is_none())
}

/// At most `per_window` messages from one sender in `window`.
pub struct SenderLimit {
    per_window: u32,
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Past this many senders, those whose window has passed are forgotten
/// (bounds what a spray of forged senders can make us hold).
const MAX_SENDERS: usize = 100_000;

impl SenderLimit {
    pub fn new(per_window: u32, window: Duration) -> Self {
        SenderLimit { per_window, window, seen: Mutex::new(HashMap::new()) }
    }

    /// Counts a message from `sender`; false when it is over the limit.
    pub fn allow(&self, sender: &str, now: Instant) -> bool {
        let mut seen = self.seen.lock().expect("sender limit lock");
        if seen.len() >= MAX_SENDERS {
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = seen.entry(sender.to_ascii_lowercase()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_window
    }
}

/// The window of the per-sender limit.
pub const SENDER_WINDOW: Duration = Duration::from_secs(600);

impl Default for SenderLimit {
    /// 30 messages in 10 minutes: more than a person writes, few enough
    /// that a loop is cut quickly.
    fn default() -> Self {
        SenderLimit::new(30, SENDER_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(f: impl FnOnce(&mut AutoHeaders)) -> Option<&'static str> {
        let mut h = AutoHeaders::default();
        f(&mut h);
        automatic(&h)
    }

    #[test]
    fn machines_are_recognised() {
        assert_eq!(auto(|_| {}), None);
        assert_eq!(auto(|h| h.auto_submitted = Some("no".into())), None);
        assert_eq!(auto(|h| h.auto_submitted = Some("No; comment".into())), None);
        assert_eq!(auto(|h| h.auto_submitted = Some("auto-replied".into())), Some("auto-submitted"));
        assert_eq!(auto(|h| h.x_autoreply = true), Some("x-autoreply"));
        assert_eq!(auto(|h| h.precedence = Some("Bulk".into())), Some("precedence"));
        assert_eq!(auto(|h| h.precedence = Some("first-class".into())), None);
        assert_eq!(auto(|h| h.list_id = true), Some("list"));
    }

    #[test]
    fn a_sender_over_the_limit_waits_for_the_next_window() {
        let limit = SenderLimit::new(2, Duration::from_secs(60));
        let t = Instant::now();
        assert!(limit.allow("A@x", t) && limit.allow("a@x", t));
        assert!(!limit.allow("a@x", t), "the third in the window");
        assert!(limit.allow("b@x", t), "others are not slowed");
        assert!(limit.allow("a@x", t + Duration::from_secs(61)));
    }
}
