//! Outbound webhooks as an administrator manages them. Delivering the
//! events is the job of the server's webhook delivery.

use super::audit;
use super::{Ids, Service, ServiceError, require};
use crate::auth::Principal;
use crate::kinds::Kind;
use serde::Deserialize;
use switchboard_store::{Change, Delivery, Role, Webhook};

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    /// Event kinds, or `["*"]` for every kind.
    pub events: Vec<String>,
    /// The signing key; one is generated when absent.
    #[serde(default)]
    pub secret: Option<String>,
}

/// Whether this build can deliver over TLS (it cannot: the HTTP client is
/// built without a TLS stack, so `https://` URLs are refused up front
/// rather than failing at every delivery).
pub const DELIVERS_HTTPS: bool = false;

const MIN_SECRET: usize = 16;
const MAX_SECRET: usize = 256;

fn check_url(url: &str) -> Result<String, ServiceError> {
    let url = url.trim();
    // The URL parser drops tabs and line breaks silently; the stored text
    // must not hold them either (it goes into logs and request lines).
    if url.chars().any(char::is_control) {
        return Err(ServiceError::invalid("url", "must not contain control characters (CR, LF, NUL…)"));
    }
    let parsed = url::Url::parse(url).map_err(|e| ServiceError::invalid("url", format!("not a URL: {e}")))?;
    match parsed.scheme() {
        "http" => {}
        "https" if DELIVERS_HTTPS => {}
        "https" => {
            return Err(ServiceError::invalid(
                "url",
                "this build delivers over plain HTTP only; use http:// (e.g. to a TLS-terminating proxy)",
            ));
        }
        other => return Err(ServiceError::invalid("url", format!("scheme '{other}' is not http"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ServiceError::invalid("url", "the URL names no host"));
    }
    Ok(url.to_string())
}

/// Every kind of event a webhook can follow (see [`Kind::ALL`]).
pub const EVENT_KINDS: [&str; Kind::ALL.len()] = {
    let mut out = [""; Kind::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = Kind::ALL[i].as_str();
        i += 1;
    }
    out
};

/// `["*"]` or distinct kinds of [`EVENT_KINDS`].
fn check_events(events: Vec<String>) -> Result<Vec<String>, ServiceError> {
    if events.is_empty() {
        return Err(ServiceError::invalid("events", "name at least one event kind, or \"*\""));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for (i, e) in events.into_iter().enumerate() {
        let e = e.trim().to_string();
        if e != "*" && !EVENT_KINDS.contains(&e.as_str()) {
            let message =
                format!("'{}' is not an event kind; use \"*\" or one of {}", e.escape_debug(), EVENT_KINDS.join(", "));
            return Err(ServiceError::invalid(format!("events[{i}]"), message));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.len() > 1 && out.iter().any(|e| e == "*") {
        return Err(ServiceError::invalid("events", "\"*\" already names every kind; give it alone"));
    }
    Ok(out)
}

fn check_secret(secret: &str) -> Result<String, ServiceError> {
    let n = secret.chars().count();
    if !(MIN_SECRET..=MAX_SECRET).contains(&n) {
        return Err(ServiceError::invalid("secret", format!("must have {MIN_SECRET} to {MAX_SECRET} characters")));
    }
    if secret.chars().any(char::is_control) {
        return Err(ServiceError::invalid("secret", "must not contain control characters"));
    }
    Ok(secret.to_string())
}

/// A new signing key: `whsec_` and 32 random bytes in hex.
fn new_secret() -> String {
    format!("whsec_{}", crate::auth::new_token())
}

impl Service {
    /// A new webhook and its secret, which is returned this once.
    pub async fn create_webhook(&self, p: &Principal, new: NewWebhook) -> Result<(Webhook, String), ServiceError> {
        require(p, Role::Admin)?;
        let url = check_url(&new.url)?;
        let events = check_events(new.events)?;
        let secret = match new.secret.as_deref() {
            Some(s) => check_secret(s)?,
            None => new_secret(),
        };
        let hook = Webhook {
            id: Ids::next(&self.ids().webhook),
            workspace: p.workspace,
            url,
            events,
            secret: secret.clone(),
            created_by: p.user,
            created_at: self.now(),
        };
        let (record, principal) = (hook.clone(), *p);
        self.apply(p.workspace, move |_, now, changes| {
            changes.push(audit::entry(&principal, now, "create_webhook", format!("webhook/{}", record.id)));
            changes.push(Change::PutWebhook(record));
            Ok(())
        })
        .await?;
        Ok((hook, secret))
    }

    pub async fn webhooks(&self, p: &Principal) -> Result<Vec<Webhook>, ServiceError> {
        require(p, Role::Admin)?;
        Ok(self.store().webhooks(p.workspace).await?)
    }

    async fn webhook(&self, p: &Principal, id: u64) -> Result<Webhook, ServiceError> {
        require(p, Role::Admin)?;
        self.store()
            .webhooks(p.workspace)
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("webhook {id}")))
    }

    /// Deletes the webhook and its delivery log; deliveries under way stop
    /// before their next attempt.
    pub async fn delete_webhook(&self, p: &Principal, id: u64) -> Result<(), ServiceError> {
        let hook = self.webhook(p, id).await?;
        let principal = *p;
        self.apply(p.workspace, move |_, now, changes| {
            changes.push(Change::DeleteWebhook { workspace: hook.workspace, id: hook.id });
            changes.push(audit::entry(&principal, now, "delete_webhook", format!("webhook/{}", hook.id)));
            Ok(())
        })
        .await
    }

    /// The webhook's delivery attempts, newest first.
    pub async fn deliveries(&self, p: &Principal, id: u64, limit: u32) -> Result<Vec<Delivery>, ServiceError> {
        let hook = self.webhook(p, id).await?;
        Ok(self.store().deliveries(p.workspace, hook.id, limit.clamp(1, 500)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_events_and_secrets_are_checked() {
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        for bad in ["ftp://x/", "not a url", "https://example.com/hook", "http://", "http://x/a\r\nb", "http://x/\0"] {
            assert!(matches!(check_url(bad), Err(ServiceError::Invalid { .. })), "{bad}");
        }
        assert_eq!(check_events(vec!["*".into()]).unwrap(), vec!["*"]);
        assert_eq!(
            check_events(vec!["offer_created".into(), "audit".into(), "audit".into()]).unwrap(),
            vec!["offer_created", "audit"]
        );
        assert!(check_events(vec![]).is_err());
        assert!(check_events(vec!["nope".into()]).is_err(), "only known kinds");
        assert!(check_events(vec!["*".into(), "audit".into()]).is_err());
        match check_events(vec!["audit".into(), "Offer Created".into()]) {
            Err(ServiceError::Invalid { field, .. }) => assert_eq!(field, "events[1]"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert!(check_secret("short").is_err());
        assert!(check_secret("a-long-enough-secret").is_ok());
        let s = new_secret();
        assert!(s.starts_with("whsec_") && s.len() == 70, "{s}");
    }
}
