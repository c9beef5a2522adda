//! The registrar for agents' phones (RFC 3261 §10): a phone registers as
//! its agent's SIP account with digest authentication (RFC 2617, RFC 8760
//! with MD5 and `qop=auth`), and the binding says where to send the
//! INVITE that rings it.
//!
//! - No or a stale `Authorization`: `401` with a fresh nonce (valid for
//!   [`NONCE_LIFETIME`]; an expired one is `stale=true`, so the phone
//!   answers again without asking its user).
//! - A wrong answer, an unknown username, or an address-of-record that is not
//!   the username's: `403`.
//! - The expiry is the Contact's `expires` parameter, else `Expires`, else
//!   an hour; below [`MIN_EXPIRES`] is `423` with `Min-Expires`, above
//!   [`MAX_EXPIRES`] is cut to it. `Expires: 0` (or `Contact: *`) unregisters.
//! - NAT: the binding keeps the address the REGISTER came from (as
//!   `rport` does for responses), and INVITEs go there, not to the Contact's
//!   host, which behind NAT is a private address. A phone registered over
//!   TCP is called on the connection it registered on while that is open
//!   (RFC 3261 §18 connection reuse, all a phone behind NAT can take), else
//!   on a new connection to its Contact (`;transport=tcp`).
//!
//! Bindings live in memory only: after a restart phones are unknown until
//! they register again (most do within their expiry; `MAX_EXPIRES` bounds it).
//! One binding per agent: a second phone registering replaces the first.

use crate::agent::{Agent, phrase};
use crate::sip::message::{Message, addr_uri, param, response, uri_user};
use crate::transport::Peer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::ids::{UserId, WorkspaceId};
use switchboard_service::sip_accounts::{SIP_REALM, md5_hex};
use tokio::time::Instant;

/// How long a nonce we issued is accepted.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// The shortest registration we keep (RFC 3261 §10.3 recommends an hour's
/// default; a minute keeps a phone that asks for less from flooding us).
pub const MIN_EXPIRES: u32 = 60;
/// The longest: a restart forgets bindings, so phones must come back within this.
pub const MAX_EXPIRES: u32 = 3600;
const DEFAULT_EXPIRES: u32 = 3600;

/// Where an agent's phone can be reached.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The Contact URI the phone registered (the INVITE's Request-URI).
    pub contact: String,
    /// The address and transport its REGISTER came by: where we send.
    pub source: Peer,
    pub username: String,
    pub expires: Instant,
}

/// Bindings and the nonces we handed out.
#[derive(Default)]
pub(crate) struct Registrar {
    bindings: Mutex<HashMap<(WorkspaceId, UserId), Binding>>,
    nonces: Mutex<HashMap<String, Instant>>,
}

impl Registrar {
    /// The agent's phone, when it is registered and its registration has not expired.
    pub(crate) fn binding(&self, ws: WorkspaceId, user: UserId) -> Option<Binding> {
        let mut bindings = self.bindings.lock().expect("bindings lock");
        let now = Instant::now();
        bindings.retain(|_, b| b.expires > now);
        bindings.get(&(ws, user)).cloned()
    }

    /// A digest challenge in our realm with a fresh nonce; `stale` when
    /// the answer was to a nonce that expired (RFC 2617 §3.2.1).
    /// Whether a phone's registration came from `peer`.
    pub(crate) fn binds(&self, peer: Peer) -> bool {
        let now = Instant::now();
        self.bindings.lock().expect("bindings lock").values().any(|b| b.source == peer && b.expires > now)
    }

    pub(crate) fn challenge(&self, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        format!("Digest realm=\"{SIP_REALM}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"{stale}", self.nonce())
    }

    fn nonce(&self) -> String {
        let nonce = crate::random_token() + &crate::random_token();
        let mut nonces = self.nonces.lock().expect("nonces lock");
        let now = Instant::now();
        nonces.retain(|_, issued| now.duration_since(*issued) < NONCE_LIFETIME);
        nonces.insert(nonce.clone(), now);
        nonce
    }

    pub(crate) fn nonce_fresh(&self, nonce: &str) -> bool {
        let nonces = self.nonces.lock().expect("nonces lock");
        nonces.get(nonce).is_some_and(|issued| issued.elapsed() < NONCE_LIFETIME)
    }
}

/// The parameters of a `Digest` credentials header (RFC 2617 §3.2.2).
#[derive(Debug, Default, PartialEq)]
pub struct DigestAnswer {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
    pub algorithm: Option<String>,
}

impl DigestAnswer {
    /// Parses `Digest k="v", k=v, …`; `None` for another scheme or a missing field.
    pub fn parse(value: &str) -> Option<DigestAnswer> {
        let rest = value.trim();
        let (scheme, rest) = rest.split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let mut d = DigestAnswer::default();
        for (k, v) in params(rest) {
            match k.to_ascii_lowercase().as_str() {
                "username" => d.username = v,
                "realm" => d.realm = v,
                "nonce" => d.nonce = v,
                "uri" => d.uri = v,
                "response" => d.response = v.to_ascii_lowercase(),
                "qop" => d.qop = Some(v),
                "nc" => d.nc = Some(v),
                "cnonce" => d.cnonce = Some(v),
                "algorithm" => d.algorithm = Some(v),
                _ => {}
            }
        }
        (!d.username.is_empty() && !d.nonce.is_empty() && !d.response.is_empty()).then_some(d)
    }

    /// The response a phone knowing the password computes for `method` (RFC 2617 §3.2.2.1).
    pub fn expected(&self, ha1: &str, method: &str) -> String {
        let ha2 = md5_hex(&format!("{method}:{}", self.uri));
        match (&self.qop, &self.nc, &self.cnonce) {
            (Some(qop), Some(nc), Some(cnonce)) => md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", self.nonce)),
            _ => md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce)),
        }
    }
}

/// `k="v", k=v` pairs, quotes (with backslash escapes) removed.
pub(crate) fn params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim().to_string();
        if key.is_empty() {
            return out;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value.trim().to_string()));
    }
}

/// Answers a REGISTER (its own task: checking a password reads the store).
pub(crate) async fn register(agent: Arc<Agent>, m: Message, from: Peer) {
    let out = answer(&agent, &m, from).await;
    agent.send(&out, from).await;
}

async fn answer(agent: &Agent, m: &Message, from: Peer) -> Vec<u8> {
    let reply = |status: u16, extra: &[(&str, String)]| {
        response(m, from.addr, status, phrase(status), Some(&crate::random_token()), extra, b"")
    };
    let challenge = |stale: bool| reply(401, &[("WWW-Authenticate", agent.registrar.challenge(stale))]);
    let Some(digest) = m.header("authorization").and_then(DigestAnswer::parse) else { return challenge(false) };
    if digest.realm != SIP_REALM || digest.algorithm.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case("md5")) {
        return challenge(false);
    }
    if !agent.registrar.nonce_fresh(&digest.nonce) {
        return challenge(true);
    }
    let credentials = match agent.service.sip_credentials(&digest.username).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "SIP credentials could not be read");
            return reply(500, &[]);
        }
    };
    let aor = m.header("to").and_then(uri_user).map(str::to_ascii_lowercase);
    let Some(account) = credentials.filter(|c| {
        digest.expected(&c.ha1, "REGISTER") == digest.response && aor.as_deref() == Some(c.username.as_str())
    }) else {
        // The username is not said in the log line beyond what the phone sent; never a hash.
        tracing::info!(%from, username = digest.username, "SIP registration refused");
        return reply(403, &[]);
    };
    let contact = m.header("contact").unwrap_or_default();
    let expires = param(contact, "expires")
        .or_else(|| m.header("expires"))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(DEFAULT_EXPIRES);
    let key = (account.workspace, account.user);
    if expires == 0 || contact.trim() == "*" {
        agent.registrar.bindings.lock().expect("bindings lock").remove(&key);
        tracing::info!(username = account.username, "phone unregistered");
        return reply(200, &[]);
    }
    if contact.is_empty() {
        // A query: the current binding, if any.
        let current = agent.registrar.binding(account.workspace, account.user);
        let extra: Vec<(&str, String)> = current
            .iter()
            .map(|b| {
                (
                    "Contact",
                    format!(
                        "<{}>;expires={}",
                        b.contact,
                        b.expires.saturating_duration_since(Instant::now()).as_secs()
                    ),
                )
            })
            .collect();
        return reply(200, &extra);
    }
    if expires < MIN_EXPIRES {
        return reply(423, &[("Min-Expires", MIN_EXPIRES.to_string())]);
    }
    let expires = expires.min(MAX_EXPIRES);
    let uri = addr_uri(contact).to_string();
    let binding = Binding {
        contact: uri.clone(),
        source: from,
        username: account.username.clone(),
        expires: Instant::now() + Duration::from_secs(u64::from(expires)),
    };
    agent.registrar.bindings.lock().expect("bindings lock").insert(key, binding);
    tracing::info!(username = account.username, %from, expires, "phone registered");
    reply(200, &[("Contact", format!("<{uri}>;expires={expires}")), ("Expires", expires.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_digest_answer_and_checks_it() {
        // RFC 2617 §3.5's example, with qop=auth.
        let header = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let d = DigestAnswer::parse(header).unwrap();
        assert_eq!(d.username, "Mufasa");
        assert_eq!(d.uri, "/dir/index.html");
        let ha1 = md5_hex("Mufasa:testrealm@host.com:Circle Of Life");
        assert_eq!(d.expected(&ha1, "GET"), "6629fae49393a05397450978507c4ef1");
        assert_ne!(d.expected(&md5_hex("Mufasa:testrealm@host.com:wrong"), "GET"), d.response);
    }

    #[test]
    fn other_schemes_and_missing_fields_are_not_answers() {
        assert_eq!(DigestAnswer::parse("Basic QWxhZGRpbjpvcGVu"), None);
        assert_eq!(DigestAnswer::parse(r#"Digest username="a", nonce="n""#), None);
        assert_eq!(DigestAnswer::parse(""), None);
    }

    #[test]
    fn quoted_values_keep_commas_and_escapes() {
        let p = params(r#"a="x, y", b=z ,c="q\"r""#);
        assert_eq!(p, vec![("a".into(), "x, y".into()), ("b".into(), "z".into()), ("c".into(), "q\"r".into())]);
    }
}
