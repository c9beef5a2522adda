//! An endpoint's IMAP mailbox, as its settings and credentials name it.
//!
//! Settings: `imap_host`, `imap_port` (993 with implicit TLS, else 143),
//! `imap_tls` (`implicit`, the default; `starttls`; `none` for a server on
//! this machine only), `imap_username` (the endpoint's address when left
//! out), `imap_mailbox` (`INBOX`), `imap_poll_seconds` (60),
//! `imap_processed` (`seen`, the default; `move:<folder>`; `delete`) and
//! `imap_alert_minutes` (15); the password is the sealed credential
//! `imap_password`.

use serde_json::Value;
use std::time::Duration;
use switchboard_service::endpoints::{Credentials, Endpoint};

const IMPLICIT_PORT: u16 = 993;
const PLAIN_PORT: u16 = 143;
const DEFAULT_POLL: Duration = Duration::from_secs(60);
/// How long polling may fail before the alert, unless the endpoint says.
pub const DEFAULT_ALERT: Duration = Duration::from_secs(15 * 60);
/// Polling more often than this only loads the server.
const MIN_POLL_SECONDS: f64 = 1.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain, then STARTTLS before the login (port 143).
    StartTls,
    /// Plain text: for a server on the same machine only.
    None,
}

/// What happens to a message in the mailbox once it is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Processed {
    /// Flagged `\Seen`, left where it is.
    Seen,
    /// Moved to this folder (MOVE, or COPY and EXPUNGE where MOVE is missing).
    Move(String),
    /// Deleted (flagged `\Deleted` and expunged).
    Delete,
}

/// One endpoint's mailbox. `Debug` never shows the password.
#[derive(Clone, PartialEq)]
pub struct MailboxSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: String,
    pub password: String,
    pub mailbox: String,
    pub poll: Duration,
    pub processed: Processed,
    /// How long polling may fail before the alert event.
    pub alert_after: Duration,
}

impl std::fmt::Debug for MailboxSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("mailbox", &self.mailbox)
            .field("processed", &self.processed)
            .finish()
    }
}

/// A setting that cannot be used; the text names the setting, never a
/// credential's value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl MailboxSettings {
    /// The mailbox `endpoint` names; `Ok(None)` when it has no `imap_host`
    /// (its mail comes in by SMTP only).
    pub fn of(endpoint: &Endpoint, credentials: &Credentials) -> Result<Option<MailboxSettings>, SettingsError> {
        Self::parse(&endpoint.settings, endpoint.address.as_deref(), credentials.get("imap_password"))
    }

    fn parse(
        settings: &Value,
        address: Option<&str>,
        password: Option<&str>,
    ) -> Result<Option<MailboxSettings>, SettingsError> {
        let setting = |k: &str| settings.get(k).filter(|v| !v.is_null());
        let text = |k: &str| -> Result<Option<String>, SettingsError> {
            match setting(k) {
                None => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err(SettingsError(format!("{k} is not a string"))),
            }
        };
        let Some(host) = text("imap_host")? else { return Ok(None) };
        let tls = match text("imap_tls")?.as_deref().unwrap_or("implicit") {
            "implicit" => Tls::Implicit,
            "starttls" => Tls::StartTls,
            "none" => Tls::None,
            other => {
                return Err(SettingsError(format!("imap_tls '{other}' is not one of implicit, starttls, none")));
            }
        };
        let port = match setting("imap_port") {
            None => match tls {
                Tls::Implicit => IMPLICIT_PORT,
                _ => PLAIN_PORT,
            },
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
                .ok_or_else(|| SettingsError("imap_port is not a port".into()))?,
        };
        let username = match text("imap_username")? {
            Some(u) => u,
            None => address
                .map(str::to_string)
                .ok_or_else(|| SettingsError("imap_username is missing (and the endpoint has no address)".into()))?,
        };
        let password = password
            .map(str::to_string)
            .ok_or_else(|| SettingsError("the imap_password credential is not set".into()))?;
        let mailbox = text("imap_mailbox")?.unwrap_or_else(|| "INBOX".into());
        let poll = seconds(setting("imap_poll_seconds"), "imap_poll_seconds", 1.0)?.unwrap_or(DEFAULT_POLL);
        let poll = poll.max(Duration::from_secs_f64(MIN_POLL_SECONDS));
        let processed = match text("imap_processed")?.as_deref().unwrap_or("seen") {
            "seen" => Processed::Seen,
            "delete" => Processed::Delete,
            other => match other.strip_prefix("move:").map(str::trim) {
                Some(folder) if !folder.is_empty() => Processed::Move(folder.to_string()),
                _ => {
                    return Err(SettingsError(format!(
                        "imap_processed '{other}' is not one of seen, move:<folder>, delete"
                    )));
                }
            },
        };
        let alert_after = seconds(setting("imap_alert_minutes"), "imap_alert_minutes", 60.0)?.unwrap_or(DEFAULT_ALERT);
        Ok(Some(MailboxSettings { host, port, tls, username, password, mailbox, poll, processed, alert_after }))
    }
}

/// A positive number of `unit` seconds (a number or a numeric string).
fn seconds(value: Option<&Value>, key: &str, unit: f64) -> Result<Option<Duration>, SettingsError> {
    let Some(v) = value else { return Ok(None) };
    let n = v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    match n {
        Some(n) if n.is_finite() && n > 0.0 && n * unit < 1e9 => Ok(Some(Duration::from_secs_f64(n * unit))),
        _ => Err(SettingsError(format!("{key} is not a positive number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(settings: Value) -> Result<Option<MailboxSettings>, SettingsError> {
        MailboxSettings::parse(&settings, Some("support@shop.example"), Some("pw"))
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        assert_eq!(parse(json!({"smtp_host": "relay"})), Ok(None), "no imap_host: no mailbox");
        let m = parse(json!({"imap_host": " imap.example.net "})).unwrap().unwrap();
        assert_eq!((m.host.as_str(), m.port, m.tls), ("imap.example.net", 993, Tls::Implicit));
        assert_eq!((m.username.as_str(), m.mailbox.as_str()), ("support@shop.example", "INBOX"));
        assert_eq!((m.poll, m.processed.clone(), m.alert_after), (DEFAULT_POLL, Processed::Seen, DEFAULT_ALERT));
        let m = parse(json!({"imap_host": "h", "imap_tls": "starttls", "imap_processed": "move: Done",
                             "imap_poll_seconds": "30", "imap_alert_minutes": 0.5}))
        .unwrap()
        .unwrap();
        assert_eq!((m.port, m.tls), (143, Tls::StartTls));
        assert_eq!(m.processed, Processed::Move("Done".into()));
        assert_eq!((m.poll, m.alert_after), (Duration::from_secs(30), Duration::from_secs(30)));
        assert!(!format!("{m:?}").contains("pw"), "Debug never shows the password");
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let error = |v: Value| parse(v).unwrap_err().0;
        assert!(error(json!({"imap_host": "h", "imap_tls": "ssl"})).contains("imap_tls"));
        assert!(error(json!({"imap_host": "h", "imap_port": 70000})).contains("imap_port"));
        assert!(error(json!({"imap_host": "h", "imap_processed": "move:"})).contains("imap_processed"));
        assert!(error(json!({"imap_host": "h", "imap_poll_seconds": -1})).contains("imap_poll_seconds"));
        let no_password = MailboxSettings::parse(&json!({"imap_host": "h"}), Some("a@b"), None).unwrap_err();
        assert!(no_password.0.contains("imap_password"));
    }
}
