//! Calling out through a voice number's trunk ([`dial`]): the number
//! written as the trunk wants it, our caller ID in From and
//! P-Asserted-Identity (RFC 3325), the carrier's digest challenge answered
//! with the trunk's credentials ([`authorization`]), and a ring timeout
//! after which the call is cancelled as unanswered. The leg itself is
//! [`crate::leg`]'s, so a dialled number is talked to, held and hung up
//! exactly as an agent's phone is. A courtesy callback dials through it;
//! so will a transfer to an outside number.

use crate::agent::Agent;
use crate::leg::{Leg, Target};
use crate::registrar::{DigestAnswer, params};
use crate::transport::Peer;
use std::sync::Arc;
use std::time::Duration;
use switchboard_service::sip_accounts::md5_hex;
use switchboard_service::trunk::{Trunk, TrunkAuth};
use thiserror::Error;

/// Why a number could not be dialled at all (before any SIP went out).
#[derive(Debug, Error)]
pub enum DialError {
    #[error("the number's trunk has no host to call out through (trunk_host)")]
    NoTrunk,
    #[error("the trunk's host {0} has no address: {1}")]
    Resolve(String, String),
}

/// Calls `number` (E.164) through `trunk`, presenting `caller_id` (E.164);
/// it rings for at most `ring_timeout`. The leg reports what happens.
pub(crate) async fn dial(
    agent: Arc<Agent>,
    trunk: &Trunk,
    number: &str,
    caller_id: &str,
    ring_timeout: Duration,
) -> Result<Leg, DialError> {
    let host = trunk.host.clone().ok_or(DialError::NoTrunk)?;
    // A name is looked up as A/AAAA records (no NAPTR or SRV): a carrier names a host and a port.
    let addr = tokio::net::lookup_host((host.as_str(), trunk.port))
        .await
        .map_err(|e| DialError::Resolve(host.clone(), e.to_string()))?
        .next()
        .ok_or_else(|| DialError::Resolve(host.clone(), "no address".into()))?;
    let dialled = trunk.format.dial(number);
    let port = if trunk.port == 5060 { String::new() } else { format!(":{}", trunk.port) };
    let ours = format!("<sip:{caller_id}@{}>", agent.local);
    let target = Target {
        // Trunks are reached over UDP, as carriers expect unless told otherwise.
        addr: Peer::udp(addr),
        uri: format!("sip:{dialled}@{host}{port}"),
        from: ours.clone(),
        to: format!("<sip:{dialled}@{host}{port}>"),
        extra: vec![("P-Asserted-Identity", ours)],
        auth: trunk.auth.clone(),
        ring_timeout: Some(ring_timeout),
    };
    tracing::info!(trunk = host, number = dialled, "dialling out");
    Ok(Leg::call(agent, target))
}

/// Our `Authorization` (or `Proxy-Authorization`) value answering a
/// `WWW-Authenticate` (`Proxy-Authenticate`) challenge for `method` on
/// `uri` (RFC 2617 §3.2.2, MD5 with `qop=auth` when offered); `None` for a
/// challenge we cannot answer (another scheme or algorithm, `auth-int` only).
pub(crate) fn authorization(challenge: &str, auth: &TrunkAuth, method: &str, uri: &str) -> Option<String> {
    let (scheme, rest) = challenge.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let p = params(rest);
    let get = |name: &str| p.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let (realm, nonce) = (get("realm")?, get("nonce")?);
    if get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("md5")) {
        return None;
    }
    let qop = match get("qop") {
        Some(offered) if offered.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth")) => Some("auth".to_string()),
        Some(_) => return None,
        None => None,
    };
    let cnonce = qop.as_ref().map(|_| crate::random_token());
    let nc = qop.as_ref().map(|_| "00000001".to_string());
    let answer = DigestAnswer {
        username: auth.username.clone(),
        realm,
        nonce,
        uri: uri.to_string(),
        response: String::new(),
        qop,
        nc,
        cnonce,
        algorithm: None,
    };
    let ha1 = md5_hex(&format!("{}:{}:{}", auth.username, answer.realm, auth.password));
    let response = answer.expected(&ha1, method);
    let quote = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm=MD5",
        quote(&answer.username),
        quote(&answer.realm),
        quote(&answer.nonce),
        quote(uri),
    );
    if let (Some(qop), Some(nc), Some(cnonce)) = (&answer.qop, &answer.nc, &answer.cnonce) {
        out.push_str(&format!(", qop={qop}, nc={nc}, cnonce=\"{cnonce}\""));
    }
    if let Some(opaque) = get("opaque") {
        out.push_str(&format!(", opaque=\"{}\"", quote(&opaque)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn acme() -> TrunkAuth {
        TrunkAuth { username: "acme".into(), password: "trunk-secret".into() }
    }

    #[test]
    fn our_answer_is_what_a_registrar_checks() {
        let challenge = r#"Digest realm="carrier", nonce="abc123", algorithm=MD5, qop="auth,auth-int", opaque="xyz""#;
        let value = authorization(challenge, &acme(), "INVITE", "sip:+15550100@carrier.example").unwrap();
        let answer = DigestAnswer::parse(&value).unwrap();
        assert_eq!(
            (answer.username.as_str(), answer.realm.as_str(), answer.nonce.as_str()),
            ("acme", "carrier", "abc123")
        );
        assert_eq!(answer.qop.as_deref(), Some("auth"));
        assert!(value.contains(r#"opaque="xyz""#));
        let ha1 = md5_hex("acme:carrier:trunk-secret");
        assert_eq!(answer.expected(&ha1, "INVITE"), answer.response);
        assert_ne!(answer.expected(&md5_hex("acme:carrier:wrong"), "INVITE"), answer.response);
    }

    #[test]
    fn rfc_2069_challenges_without_qop_are_answered_too() {
        let value = authorization(r#"Digest realm="r", nonce="n""#, &acme(), "INVITE", "sip:1@h").unwrap();
        let answer = DigestAnswer::parse(&value).unwrap();
        assert_eq!(answer.qop, None);
        assert_eq!(
            answer.response,
            md5_hex(&format!("{}:n:{}", md5_hex("acme:r:trunk-secret"), md5_hex("INVITE:sip:1@h")))
        );
    }

    #[test]
    fn challenges_we_cannot_answer_are_refused() {
        for c in [
            r#"Basic realm="r""#,
            r#"Digest realm="r", nonce="n", algorithm=SHA-256"#,
            r#"Digest realm="r", nonce="n", qop="auth-int""#,
            r#"Digest nonce="n""#,
            "",
        ] {
            assert_eq!(authorization(c, &acme(), "INVITE", "sip:1@h"), None, "{c}");
        }
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn any_challenge_is_read_without_panic(text in "[ -~]{0,200}", realm in "[ -~]{0,20}") {
            let _ = authorization(&text, &acme(), "INVITE", "sip:1@h");
            let c = format!("Digest realm=\"{}\", nonce=\"n\"", realm.replace('\\', "\\\\").replace('"', "\\\""));
            let value = authorization(&c, &acme(), "INVITE", "sip:1@h").unwrap();
            // Our answer reads back with the realm it was given.
            prop_assert_eq!(DigestAnswer::parse(&value).unwrap().realm, realm.trim());
        }
    }
}
