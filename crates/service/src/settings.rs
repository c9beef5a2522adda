//! A queue's settings as the API takes them and the store keeps them.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;
use std::time::Duration;
use switchboard_core::calendar::Calendar;
use switchboard_core::channel::{Channel, ChannelSet};
use switchboard_core::ids::{PolicyId, QueueId};
use switchboard_core::queue::{
    DECLINE_COOLDOWN_RANGE, DEFAULT_DECLINE_COOLDOWN, OFFER_TIMEOUT_RANGE, OrderingKind, OverflowAction, QueueConfig,
    WrapUp, seconds_within,
};

fn default_channels() -> Vec<Channel> {
    vec![Channel::Api]
}
fn default_sl() -> f64 {
    20.0
}
fn default_sl_target() -> f64 {
    80.0
}
fn default_offer_timeout() -> f64 {
    30.0
}
fn default_decline_cooldown() -> f64 {
    DEFAULT_DECLINE_COOLDOWN.as_secs_f64()
}
fn default_handle() -> f64 {
    300.0
}
fn disconnect() -> OverflowAction {
    OverflowAction::Disconnect
}
fn voicemail() -> OverflowAction {
    OverflowAction::Voicemail
}
fn yes() -> bool {
    true
}
fn default_voicemail_max() -> f64 {
    120.0
}
fn default_callback_attempts() -> u32 {
    3
}
fn default_callback_retry() -> f64 {
    300.0
}
fn no_wrap_up() -> WrapUp {
    WrapUp::None
}
fn default_disposition_grace() -> f64 {
    DEFAULT_DISPOSITION_GRACE_SECONDS
}

/// How long after wrap-up ends an agent may still record a disposition and
/// notes, unless the queue says otherwise: long enough to finish typing when
/// the queue has no wrap-up or a fixed one runs out first.
pub const DEFAULT_DISPOSITION_GRACE_SECONDS: f64 = 600.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    #[serde(default = "default_channels")]
    pub channels: Vec<Channel>,
    pub policy: PolicyId,
    #[serde(default)]
    pub ordering: OrderingKind,
    #[serde(default = "default_sl")]
    pub sl_seconds: f64,
    /// The service-level target: this share (%) of contacts answered within
    /// `sl_seconds`; planning staffs for it, the wallboard and reports
    /// measure against it. Above 0, below 100.
    #[serde(default = "default_sl_target")]
    pub sl_target_percent: f64,
    /// `"none"`, `{ "fixed": 30 }` (seconds) or `"until_ended"`.
    #[serde(default = "no_wrap_up")]
    pub wrap_up: WrapUp,
    /// From 5 s to 1 h.
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_seconds: f64,
    /// How long a contact an agent rejected or missed is not offered to that
    /// agent again; 0 to 1 h, 0 turns it off.
    #[serde(default = "default_decline_cooldown")]
    pub decline_cooldown_seconds: f64,
    #[serde(default)]
    pub max_wait_seconds: Option<f64>,
    #[serde(default)]
    pub max_length: Option<u32>,
    /// `"disconnect"`, `"voicemail"`, `"callback"` or `{ "queue": 2 }`.
    #[serde(default = "disconnect")]
    pub overflow: OverflowAction,
    #[serde(default)]
    pub calendar: Option<Calendar>,
    /// A named calendar (`/business-hours/{id}`) used instead of `calendar`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<u64>,
    #[serde(default = "voicemail")]
    pub after_hours: OverflowAction,
    #[serde(default)]
    pub sticky_seconds: f64,
    #[serde(default = "default_handle")]
    pub expected_handle_seconds: f64,
    /// After wrap-up ends, how long `complete` still records a disposition
    /// and notes (see [`DEFAULT_DISPOSITION_GRACE_SECONDS`]).
    #[serde(default = "default_disposition_grace")]
    pub disposition_grace_seconds: f64,
    /// Voice: how often a waiting caller hears their place in line and
    /// expected wait, between the hold music; 0 (the default) never, else
    /// [`ANNOUNCE_EVERY_RANGE`].
    #[serde(default)]
    pub announce_every_seconds: f64,
    /// Voice: after the agent hangs up, the caller stays on the line to
    /// rate the call 1 to 5 by keypad, stored as CSAT like chat's rating.
    #[serde(default)]
    pub post_call_survey: bool,
    /// Voice: the key a waiting caller presses to leave a voicemail instead
    /// of holding (one of `0`–`9`, `*`, `#`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_key: Option<String>,
    /// Voice: the longest voicemail a caller may leave, in seconds
    /// ([`VOICEMAIL_MAX_RANGE`]).
    #[serde(default = "default_voicemail_max")]
    pub voicemail_max_seconds: f64,
    /// Voice: the key a waiting caller presses to be called back instead of
    /// holding, keeping their place in line (one of `0`–`9`, `*`; `#` ends
    /// the number they key); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_key: Option<String>,
    /// Voice: how many times a courtesy callback is tried before it is given
    /// up ([`CALLBACK_ATTEMPTS_RANGE`]).
    #[serde(default = "default_callback_attempts")]
    pub callback_attempts: u32,
    /// Voice: how long after a busy, unanswered or failed attempt the
    /// callback goes back in line, in seconds ([`CALLBACK_RETRY_RANGE`]).
    #[serde(default = "default_callback_retry")]
    pub callback_retry_seconds: f64,
    /// Voice: record the queue's bridged calls (on by default).
    #[serde(default = "yes")]
    pub record_calls: bool,
    /// Channels the customer answers later (email, SMS, messaging): the
    /// longest the customer's first message may wait for an agent's first
    /// reply, counted in the queue's business hours; none for no target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_seconds: Option<f64>,
    /// The same for each later customer message after an agent's reply,
    /// until the agent's next reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response_seconds: Option<f64>,
    /// How long before either target passes (in business time) a
    /// conversation is at risk: one `sla_warning` event then; none for no
    /// warning. A warning as long as the target warns at the first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_warning_seconds: Option<f64>,
}

/// The response targets a queue may set: a minute at least (the clocks are
/// checked as time passes, not to the millisecond), a year at most.
pub const RESPONSE_TARGET_RANGE: RangeInclusive<f64> = 60.0..=366.0 * 86_400.0;

/// A conversation's targets (SLA) with the calendar they count in: its
/// queue's, or those of the SLA policy applied to it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseTargets {
    pub first: Option<Duration>,
    pub next: Option<Duration>,
    /// From the conversation's opening to its end (policies only).
    pub resolution: Option<Duration>,
    /// How long before a target passes the conversation is at risk.
    pub warning: Option<Duration>,
    /// `None`: counted around the clock.
    pub calendar: Option<Calendar>,
}

/// How long a voicemail may be, in seconds.
pub const VOICEMAIL_MAX_RANGE: RangeInclusive<f64> = 10.0..=600.0;

/// How many attempts a courtesy callback may have.
pub const CALLBACK_ATTEMPTS_RANGE: RangeInclusive<u32> = 1..=10;
/// The wait between two attempts, in seconds: at least a minute, at most a day.
pub const CALLBACK_RETRY_RANGE: RangeInclusive<f64> = 60.0..=86_400.0;

/// The periods an announcement may have, in seconds: often enough to be
/// told, seldom enough to hear some music between two.
pub const ANNOUNCE_EVERY_RANGE: RangeInclusive<f64> = 10.0..=3600.0;

#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingsError {
    pub field: &'static str,
    pub message: String,
}

/// One key of a phone's keypad among those `allowed` says, if set.
fn keypad_key(field: &'static str, key: Option<&str>, allowed: &str) -> Result<Option<char>, SettingsError> {
    let Some(key) = key else { return Ok(None) };
    let mut chars = key.chars();
    match (chars.next(), chars.next()) {
        (Some(k @ ('0'..='9' | '*' | '#')), None) => Ok(Some(k)),
        _ => Err(SettingsError { field, message: format!("one keypad key ({allowed}), got {key:?}") }),
    }
}

fn secs(field: &'static str, v: f64) -> Result<Duration, SettingsError> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| SettingsError { field, message: format!("must be a non-negative number of seconds, got {v}") })
}

fn within(field: &'static str, v: f64, range: &RangeInclusive<f64>) -> Result<Duration, SettingsError> {
    seconds_within(v, range).map_err(|message| SettingsError { field, message })
}

/// A response target, if set, within [`RESPONSE_TARGET_RANGE`].
pub fn response_target(field: &'static str, v: Option<f64>) -> Result<Option<Duration>, SettingsError> {
    v.map(|v| within(field, v, &RESPONSE_TARGET_RANGE)).transpose()
}

impl QueueSettings {
    /// Moves the bounded settings into their ranges, saying whether any
    /// changed: a queue saved before the bounds existed still loads.
    pub fn clamp_bounds(&mut self) -> bool {
        let before = (self.offer_timeout_seconds, self.decline_cooldown_seconds);
        let clamp =
            |v: f64, r: &RangeInclusive<f64>| if v.is_nan() { *r.start() } else { v.clamp(*r.start(), *r.end()) };
        self.offer_timeout_seconds = clamp(self.offer_timeout_seconds, &OFFER_TIMEOUT_RANGE);
        self.decline_cooldown_seconds = clamp(self.decline_cooldown_seconds, &DECLINE_COOLDOWN_RANGE);
        before != (self.offer_timeout_seconds, self.decline_cooldown_seconds)
    }

    /// The service-level target as a fraction (0.8 for 80 %).
    pub fn sl_target(&self) -> f64 {
        self.sl_target_percent / 100.0
    }

    /// How often a waiting caller hears their place in line; `None` for never.
    pub fn announce_every(&self) -> Result<Option<Duration>, SettingsError> {
        if self.announce_every_seconds == 0.0 {
            return Ok(None);
        }
        seconds_within(self.announce_every_seconds, &ANNOUNCE_EVERY_RANGE).map(Some).map_err(|m| SettingsError {
            field: "announce_every_seconds",
            message: format!("0 (never) or {}", m.trim_start_matches("must be ")),
        })
    }

    /// The key that takes a waiting caller to voicemail, if the queue has one.
    pub fn voicemail_key(&self) -> Result<Option<char>, SettingsError> {
        keypad_key("voicemail_key", self.voicemail_key.as_deref(), "0-9, * or #")
    }

    /// The key that asks for a courtesy callback, if the queue has one: not
    /// `#` (it ends a keyed number) nor the voicemail key.
    pub fn callback_key(&self) -> Result<Option<char>, SettingsError> {
        let key = keypad_key("callback_key", self.callback_key.as_deref(), "0-9 or *")?;
        if key == Some('#') {
            return Err(SettingsError {
                field: "callback_key",
                message: "one keypad key (0-9 or *), got \"#\"".into(),
            });
        }
        if key.is_some() && key == self.voicemail_key()? {
            return Err(SettingsError { field: "callback_key", message: "must differ from voicemail_key".into() });
        }
        Ok(key)
    }

    /// How many attempts a callback has, and the wait between two.
    pub fn callback_retries(&self) -> Result<(u32, Duration), SettingsError> {
        if !CALLBACK_ATTEMPTS_RANGE.contains(&self.callback_attempts) {
            return Err(SettingsError {
                field: "callback_attempts",
                message: format!(
                    "from {} to {}, got {}",
                    CALLBACK_ATTEMPTS_RANGE.start(),
                    CALLBACK_ATTEMPTS_RANGE.end(),
                    self.callback_attempts
                ),
            });
        }
        let wait = within("callback_retry_seconds", self.callback_retry_seconds, &CALLBACK_RETRY_RANGE)?;
        Ok((self.callback_attempts, wait))
    }

    /// The longest voicemail the queue takes.
    pub fn voicemail_max(&self) -> Result<Duration, SettingsError> {
        within("voicemail_max_seconds", self.voicemail_max_seconds, &VOICEMAIL_MAX_RANGE)
    }

    /// The queue's response targets, counted in `calendar` (its business hours).
    pub fn response_targets(&self, calendar: Option<Calendar>) -> Result<ResponseTargets, SettingsError> {
        Ok(ResponseTargets {
            first: response_target("first_response_seconds", self.first_response_seconds)?,
            next: response_target("next_response_seconds", self.next_response_seconds)?,
            resolution: None,
            warning: response_target("sla_warning_seconds", self.sla_warning_seconds)?,
            calendar,
        })
    }

    /// The engine's configuration; `hours` resolves a business-hours id.
    pub fn to_config(
        &self,
        id: QueueId,
        name: &str,
        hours: impl Fn(u64) -> Option<Calendar>,
    ) -> Result<QueueConfig, SettingsError> {
        if self.channels.is_empty() {
            return Err(SettingsError { field: "channels", message: "a queue needs at least one channel".into() });
        }
        let mut c = QueueConfig::new(id, name, ChannelSet::of(self.channels.iter().copied()), self.policy);
        c.ordering = self.ordering;
        c.sl_threshold = secs("sl_seconds", self.sl_seconds)?;
        if !(self.sl_target_percent > 0.0 && self.sl_target_percent < 100.0) {
            return Err(SettingsError {
                field: "sl_target_percent",
                message: format!("a percentage above 0 and below 100, got {}", self.sl_target_percent),
            });
        }
        c.wrap_up = self.wrap_up;
        c.offer_timeout = within("offer_timeout_seconds", self.offer_timeout_seconds, &OFFER_TIMEOUT_RANGE)?;
        c.decline_cooldown =
            within("decline_cooldown_seconds", self.decline_cooldown_seconds, &DECLINE_COOLDOWN_RANGE)?;
        c.max_wait = self.max_wait_seconds.map(|s| secs("max_wait_seconds", s)).transpose()?;
        c.max_length = self.max_length;
        c.overflow = self.overflow;
        c.calendar =
            match self.business_hours {
                Some(b) => Some(hours(b).ok_or_else(|| SettingsError {
                    field: "business_hours",
                    message: format!("no business hours {b}"),
                })?),
                None => self.calendar.clone(),
            };
        c.after_hours = self.after_hours;
        c.sticky = secs("sticky_seconds", self.sticky_seconds)?;
        c.expected_handle_time = secs("expected_handle_seconds", self.expected_handle_seconds)?;
        secs("disposition_grace_seconds", self.disposition_grace_seconds)?;
        self.announce_every()?;
        self.voicemail_key()?;
        self.voicemail_max()?;
        self.callback_key()?;
        self.callback_retries()?;
        self.response_targets(None)?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(extra: serde_json::Value) -> QueueSettings {
        let mut body = json!({ "channels": ["voice"], "policy": 1 });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn the_callback_key_is_a_keypad_key_other_than_pound_and_the_voicemail_key() {
        let plain = settings(json!({}));
        assert_eq!(plain.callback_key().unwrap(), None);
        assert_eq!(plain.callback_retries().unwrap(), (3, Duration::from_secs(300)));
        assert_eq!(settings(json!({ "callback_key": "1" })).callback_key().unwrap(), Some('1'));
        assert_eq!(settings(json!({ "callback_key": "*" })).callback_key().unwrap(), Some('*'));
        for bad in [
            json!({ "callback_key": "#" }),
            json!({ "callback_key": "12" }),
            json!({ "callback_key": "5", "voicemail_key": "5" }),
        ] {
            let config = settings(bad.clone()).to_config(QueueId(1), "q", |_| None);
            assert_eq!(config.unwrap_err().field, "callback_key", "{bad}");
        }
        for (bad, field) in [
            (json!({ "callback_attempts": 0 }), "callback_attempts"),
            (json!({ "callback_attempts": 11 }), "callback_attempts"),
            (json!({ "callback_retry_seconds": 59 }), "callback_retry_seconds"),
        ] {
            assert_eq!(settings(bad).to_config(QueueId(1), "q", |_| None).unwrap_err().field, field);
        }
    }

    #[test]
    fn the_voicemail_key_is_one_keypad_key_and_calls_are_recorded_by_default() {
        let plain = settings(json!({}));
        assert!(plain.record_calls);
        assert_eq!((plain.voicemail_key().unwrap(), plain.voicemail_max().unwrap()), (None, Duration::from_secs(120)));
        for (key, ok) in [("5", true), ("*", true), ("#", true), ("55", false), ("a", false), ("", false)] {
            let s = settings(json!({ "voicemail_key": key }));
            assert_eq!(s.voicemail_key().is_ok(), ok, "{key:?}");
            let config = s.to_config(QueueId(1), "q", |_| None);
            assert_eq!(config.is_ok(), ok, "{key:?}");
            if !ok {
                assert_eq!(config.unwrap_err().field, "voicemail_key");
            }
        }
        assert_eq!(settings(json!({ "voicemail_key": "#" })).voicemail_key().unwrap(), Some('#'));
        let long = settings(json!({ "voicemail_max_seconds": 601 })).to_config(QueueId(1), "q", |_| None);
        assert_eq!(long.unwrap_err().field, "voicemail_max_seconds");
        assert!(!settings(json!({ "record_calls": false })).record_calls);
    }

    #[test]
    fn the_service_level_target_is_a_percentage_eighty_by_default() {
        assert_eq!(settings(json!({})).sl_target(), 0.8);
        assert_eq!(settings(json!({ "sl_target_percent": 90 })).sl_target(), 0.9);
        for bad in [0.0, 100.0, -5.0, 150.0] {
            let config = settings(json!({ "sl_target_percent": bad })).to_config(QueueId(1), "q", |_| None);
            assert_eq!(config.unwrap_err().field, "sl_target_percent", "{bad}");
        }
    }
}
