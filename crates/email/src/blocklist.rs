//! An endpoint's blocked senders (setting `blocklist`: a list of entries).
//!
//! An entry with an `@` and a local part (`spam@example.com`) is one
//! address; `@example.com` or `example.com` is a domain and every domain
//! under it. Matching ignores case. Mail from a blocked sender is taken
//! (250) and dropped with a log line: refusing it would send a bounce to
//! an address that spammers usually forge.

use switchboard_service::endpoints::Endpoint;

/// The setting's name.
pub const SETTING: &str = "blocklist";

/// Whether `sender` is blocked on `endpoint`.
pub fn blocks(endpoint: &Endpoint, sender: &str) -> bool {
    let Some(entries) = endpoint.settings.get(SETTING).and_then(|v| v.as_array()) else { return false };
    let sender = sender.trim().to_ascii_lowercase();
    let domain = sender.rsplit_once('@').map_or("", |(_, d)| d);
    entries.iter().filter_map(|e| e.as_str()).any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        match entry.split_once('@') {
            Some((local, _)) if !local.is_empty() => entry == sender,
            Some((_, blocked)) => within(domain, blocked),
            None => within(domain, &entry),
        }
    })
}

/// `domain` is `blocked` or one of its subdomains.
fn within(domain: &str, blocked: &str) -> bool {
    !blocked.is_empty() && (domain == blocked || domain.strip_suffix(blocked).is_some_and(|rest| rest.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::channel::Channel;
    use switchboard_core::ids::{EndpointId, WorkspaceId};
    use switchboard_core::time::Timestamp;

    fn endpoint(list: serde_json::Value) -> Endpoint {
        Endpoint {
            id: EndpointId(1),
            workspace: WorkspaceId(1),
            channel: Channel::Email,
            name: "Support".into(),
            address: Some("support@shop.example".into()),
            queue: None,
            flow: None,
            business_hours: None,
            enabled: true,
            settings: json!({ SETTING: list }),
            secrets: Default::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            health: None,
        }
    }

    #[test]
    fn addresses_and_domains() {
        let e = endpoint(json!(["Spam@Example.com", "@junk.example", "bulk.example", ""]));
        assert!(blocks(&e, "spam@example.com"));
        assert!(blocks(&e, "SPAM@example.COM"));
        assert!(!blocks(&e, "ham@example.com"));
        assert!(blocks(&e, "anyone@junk.example"));
        assert!(blocks(&e, "anyone@mail.junk.example"));
        assert!(!blocks(&e, "anyone@notjunk.example"));
        assert!(blocks(&e, "x@bulk.example"));
        assert!(!blocks(&e, "x@example.org"));
        assert!(!blocks(&endpoint(json!("not a list")), "spam@example.com"));
    }
}
