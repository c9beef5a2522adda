//! `Authentication-Results` (RFC 8601): what a relay that checked a
//! message's sender found — SPF, DKIM, DMARC — and the verdict an agent
//! sees. Only a header whose authserv-id is one the endpoint trusts
//! (setting `trusted_relays`) is believed (§5: anyone can write the
//! header; the receiving relay removes copies carrying its own id), and of
//! those the topmost, the last added.

use std::collections::BTreeMap;
use switchboard_service::conversation::{SenderCheck, SenderVerdict as Verdict};
use switchboard_service::endpoints::Endpoint;

/// The endpoint setting: the authserv-ids (host names) of the relays whose
/// results are believed, e.g. `["mx.example.net"]`.
pub const TRUSTED_RELAYS: &str = "trusted_relays";

/// Longer header values are not read: real ones are a few hundred bytes.
const MAX_HEADER: usize = 16 * 1024;
/// Longest result keyword kept (`temperror`, `permerror`, `softfail`…).
const MAX_RESULT: usize = 16;

/// One `Authentication-Results` header, as far as a verdict needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthResults {
    /// Lower case: the host that did the checks.
    pub authserv_id: String,
    /// Result keywords in lower case (`pass`, `fail`, `softfail`…); for
    /// DKIM, the best of its signatures.
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
}

impl AuthResults {
    /// Trusted when DMARC passed (the From domain sent it); failed when it
    /// failed, or, without DMARC, SPF failed and no DKIM signature passed;
    /// else unknown.
    pub fn verdict(&self) -> Verdict {
        let is = |r: &Option<String>, v: &str| r.as_deref() == Some(v);
        if is(&self.dmarc, "pass") {
            Verdict::Trusted
        } else if is(&self.dmarc, "fail") || (self.dmarc.is_none() && is(&self.spf, "fail") && !is(&self.dkim, "pass"))
        {
            Verdict::Failed
        } else {
            Verdict::Unknown
        }
    }
}

/// Reads one header value; `None` when it has no authserv-id or is too
/// long to be real.
pub fn parse(value: &str) -> Option<AuthResults> {
    if value.len() > MAX_HEADER {
        return None;
    }
    let plain = without_comments(value);
    let mut parts = split_outside_quotes(&plain).into_iter();
    let head = parts.next()?;
    let first = head.split_whitespace().next()?;
    // A header without an authserv-id (`spf=pass …` straight away) cannot
    // be tied to a relay, so nothing in it can be believed.
    if first.contains('=') {
        return None;
    }
    let authserv_id = unquote(first).to_ascii_lowercase();
    if authserv_id.is_empty() {
        return None;
    }
    let mut out = AuthResults { authserv_id, ..Default::default() };
    for part in parts {
        let Some((method, result)) = method_result(part) else { continue };
        let slot = match method.as_str() {
            "spf" => &mut out.spf,
            "dkim" => &mut out.dkim,
            "dmarc" => &mut out.dmarc,
            _ => continue,
        };
        // Several signatures: one that passes is enough for the sender.
        if slot.as_deref() != Some("pass") {
            *slot = Some(result);
        }
    }
    Some(out)
}

/// The results a message's `Authentication-Results` headers (in the order
/// they stand, topmost first) give, believing only `trusted` authserv-ids.
pub fn trusted<'a>(headers: impl IntoIterator<Item = &'a str>, trusted: &[String]) -> Option<AuthResults> {
    headers
        .into_iter()
        .filter_map(parse)
        .find(|r| trusted.iter().any(|t| t.trim().eq_ignore_ascii_case(&r.authserv_id)))
}

/// What `endpoint` may believe of a message with these
/// `Authentication-Results` values (topmost first).
pub fn sender_check(endpoint: &Endpoint, headers: &[String]) -> SenderCheck {
    let relays: Vec<String> = endpoint
        .settings
        .get(TRUSTED_RELAYS)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).map(String::from).collect())
        .unwrap_or_default();
    let Some(found) = trusted(headers.iter().map(String::as_str), &relays) else {
        return SenderCheck { verdict: Verdict::Unknown, checked_by: None, results: BTreeMap::new() };
    };
    let results = [("spf", &found.spf), ("dkim", &found.dkim), ("dmarc", &found.dmarc)]
        .into_iter()
        .filter_map(|(m, r)| r.clone().map(|r| (m.to_string(), r)))
        .collect();
    SenderCheck { verdict: found.verdict(), checked_by: Some(found.authserv_id), results }
}

/// `method[/version] = result …` of one resinfo, both lower case.
fn method_result(part: &str) -> Option<(String, String)> {
    let (method, rest) = part.split_once('=')?;
    let method = method.split('/').next()?.trim().to_ascii_lowercase();
    let result: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(MAX_RESULT)
        .collect::<String>()
        .to_ascii_lowercase();
    (!method.is_empty() && !result.is_empty()).then_some((method, result))
}

/// The value with its comments (nested parentheses, RFC 5322 §3.2.2)
/// replaced by a space, quoted strings kept as they are.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(if c.is_control() { ' ' } else { c }),
            _ => {}
        }
    }
    out
}

/// Splits at each `;` that is not inside a quoted string.
fn split_outside_quotes(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8601_examples() {
        // Appendix B.2: nothing was checked.
        let none = parse("example.org 1; none").unwrap();
        assert_eq!((none.authserv_id.as_str(), none.verdict()), ("example.org", Verdict::Unknown));
        // B.4: SPF and sender ID, with comments and a property.
        let spf =
            parse("example.com;\r\n spf=pass smtp.mailfrom=example.net\r\n (more comments (nested) here)").unwrap();
        assert_eq!(spf.spf.as_deref(), Some("pass"));
        // B.6: two DKIM signatures, one failing.
        let dkim = parse(
            "example.com; dkim=pass (good signature) header.d=mail-router.example.net; \
             dkim=fail (bad signature) header.d=newyork.example.com",
        )
        .unwrap();
        assert_eq!(dkim.dkim.as_deref(), Some("pass"));
    }

    #[test]
    fn verdicts() {
        let v = |s: &str| parse(s).unwrap().verdict();
        assert_eq!(v("mx.example.net; spf=pass; dkim=pass; dmarc=pass header.from=shop.example"), Verdict::Trusted);
        assert_eq!(v("mx.example.net; spf=fail; dkim=none; dmarc=fail (p=REJECT)"), Verdict::Failed);
        assert_eq!(v("mx.example.net; spf=softfail; dkim=pass"), Verdict::Unknown);
        assert_eq!(v("mx.example.net; spf=fail; dkim=none"), Verdict::Failed);
        assert_eq!(v("mx.example.net; DMARC/1 = PASS"), Verdict::Trusted);
        assert_eq!(v("mx.example.net; dmarc=\"pass;\" x; dkim=pass"), Verdict::Unknown);
    }

    #[test]
    fn only_trusted_ids_count() {
        let forged = "mx.example.net; dmarc=pass";
        let real = "MX.example.net (Postfix); spf=fail; dmarc=fail";
        let ids = vec!["mx.example.net".to_string()];
        assert_eq!(trusted([forged, real], &ids).unwrap().verdict(), Verdict::Trusted, "the topmost trusted one");
        assert_eq!(trusted([real, forged], &ids).unwrap().verdict(), Verdict::Failed);
        assert_eq!(trusted(["other.example; dmarc=pass"], &ids), None);
        assert_eq!(trusted([real], &[]), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("  ; spf=pass"), None);
        assert_eq!(parse(&"a".repeat(MAX_HEADER + 1)), None);
    }
}
