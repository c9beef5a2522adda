//! What a SIP message must be before it is acted on (RFC 3261), checked on
//! the raw bytes and on rsipstack's parse of them.
//!
//! rsipstack's parser accepts, among other things: a body shorter than its
//! Content-Length (it keeps what is there), an unparseable Content-Length
//! (read as 0), a CSeq above 2³¹−1, a CSeq method that differs from the
//! request's, repeated single-value headers, header lines with no colon
//! (skipped) and lowercase methods. A request that fails a rule gets the
//! status to answer with; a response that fails is dropped (RFC 3261 §18.1.2,
//! §18.2.1: a response cannot be answered).

use rsipstack::sip::SipMessage;
use rsipstack::sip::prelude::*;
use thiserror::Error;

/// The largest message accepted (RFC 3261 §18.1.1 moves anything near the
/// MTU to TCP; this bound only keeps a flood of huge datagrams cheap).
pub const MAX_MESSAGE: usize = 32 * 1024;

/// RFC 3261 §8.1.1.5: CSeq numbers are below 2³¹.
const MAX_CSEQ: u64 = (1 << 31) - 1;

/// How the message arrived: the Content-Length rules differ (RFC 3261 §18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A datagram is one message; without Content-Length the body runs to its end.
    Udp,
    /// A stream, framed by Content-Length, which must be present.
    Tcp,
}

/// Why a message is not acted on.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Invalid {
    /// A request to answer with this status (400, 483, 501, 505, 513).
    #[error("reject with {status}: {reason}")]
    Reject {
        /// The response status.
        status: u16,
        /// The rule it broke, for the reason phrase's Warning and logs.
        reason: &'static str,
    },
    /// A response, a keep-alive or bytes that are not SIP: nothing to answer.
    #[error("drop: {reason}")]
    Drop {
        /// Why.
        reason: &'static str,
    },
}

/// A request that breaks a rule is answered, anything else is dropped.
fn fail(is_request: bool, status: u16, reason: &'static str) -> Invalid {
    if is_request { Invalid::Reject { status, reason } } else { Invalid::Drop { reason } }
}

/// The methods rsipstack knows, spelt as RFC 3261 requires (methods are case-sensitive).
const METHODS: &[&str] = &[
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// Headers that may appear once (RFC 3261 §7.3.1: only comma-list headers repeat).
const SINGLE: &[&str] = &["from", "to", "call-id", "cseq", "max-forwards", "content-length"];

fn canonical(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    // Compact forms (RFC 3261 §7.3.3) of the headers checked here.
    match lower.as_str() {
        "f" => "from",
        "t" => "to",
        "i" => "call-id",
        "v" => "via",
        "l" => "content-length",
        _ => return lower,
    }
    .to_string()
}

/// Checks a message; on success returns it parsed, its body cut to
/// Content-Length (UDP, RFC 3261 §18.3) or running to the datagram's end
/// when a UDP message has no Content-Length.
pub fn validate(bytes: &[u8], transport: Transport) -> Result<SipMessage, Invalid> {
    // RFC 3261 §7.5: CRLFs before the start line are ignored (they are keep-alives on their own).
    let start = bytes.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.is_empty() {
        return Err(Invalid::Drop { reason: "keep-alive or empty datagram" });
    }
    let is_request = !bytes.starts_with(b"SIP/");
    if bytes.len() > MAX_MESSAGE {
        return Err(fail(is_request, 513, "message too large"));
    }
    let first_line_end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    let Ok(first_line) = std::str::from_utf8(&bytes[..first_line_end]) else {
        return Err(Invalid::Drop { reason: "start line is not text" });
    };
    let first_line = first_line.strip_suffix('\r').unwrap_or(first_line);
    let method = if is_request {
        Some(request_line(first_line)?)
    } else {
        status_line(first_line)?;
        None
    };
    let Some(separator) = find(bytes, b"\r\n\r\n") else {
        return Err(fail(is_request, 400, "no empty line after the headers"));
    };
    let Ok(head) = std::str::from_utf8(&bytes[..separator]) else {
        return Err(fail(is_request, 400, "headers are not UTF-8"));
    };
    let body_len = bytes.len() - separator - 4;
    let headers = header_lines(head).ok_or(fail(is_request, 400, "header line without a colon"))?;
    for single in SINGLE {
        // Identical repeats are still repeats: the RFC allows one.
        if headers.iter().filter(|(n, _)| n == single).count() > 1 {
            return Err(fail(is_request, 400, "a single-value header appears twice"));
        }
    }
    let value = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let content_length = match value("content-length") {
        Some(v) => Some(number(v, 10).ok_or(fail(is_request, 400, "Content-Length is not a number"))?),
        None if transport == Transport::Tcp => return Err(fail(is_request, 400, "no Content-Length on a stream")),
        None => None,
    };
    if let Some(cl) = content_length
        && cl > body_len as u64
    {
        return Err(fail(is_request, 400, "body shorter than Content-Length"));
    }
    if transport == Transport::Tcp && content_length != Some(body_len as u64) {
        return Err(fail(is_request, 400, "bytes after the body on a stream"));
    }

    let cseq = value("cseq").ok_or(fail(is_request, 400, "no CSeq"))?;
    let (cseq_number, cseq_method) = cseq_parts(cseq).ok_or(fail(is_request, 400, "CSeq is malformed"))?;
    if cseq_number > MAX_CSEQ {
        return Err(fail(is_request, 400, "CSeq number above 2^31-1"));
    }
    if let Some(method) = method
        && cseq_method != method
    {
        return Err(fail(is_request, 400, "CSeq method differs from the request's"));
    }
    if is_request {
        match value("max-forwards") {
            None => return Err(Invalid::Reject { status: 400, reason: "no Max-Forwards" }),
            Some(v) => match number(v, 3).filter(|&n| n <= 255) {
                None => return Err(Invalid::Reject { status: 400, reason: "Max-Forwards is not 0-255" }),
                Some(0) => return Err(Invalid::Reject { status: 483, reason: "Max-Forwards is 0" }),
                Some(_) => {}
            },
        }
    }

    let mut message =
        rsipstack::sip::parser::parse_message(bytes).map_err(|_| fail(is_request, 400, "unparseable message"))?;
    if let SipMessage::Request(r) = &message
        && !host_is_valid(r.uri())
    {
        return Err(Invalid::Reject { status: 400, reason: "Request-URI host is malformed" });
    }
    let via = message.headers().iter().find_map(|h| match h {
        rsipstack::sip::Header::Via(v) => Some(v.clone()),
        _ => None,
    });
    let via = via.ok_or(fail(is_request, 400, "no Via"))?;
    let top = via.first_value().and_then(|v| v.typed()).map_err(|_| fail(is_request, 400, "Via is malformed"))?;
    if top.branch().is_none_or(|b| b.to_string().is_empty()) {
        return Err(fail(is_request, 400, "Via has no branch"));
    }
    let from = match &message {
        SipMessage::Request(r) => r.from_header().and_then(|f| f.typed()),
        SipMessage::Response(r) => r.from_header().and_then(|f| f.typed()),
    }
    .map_err(|_| fail(is_request, 400, "no valid From"))?;
    if is_request && from.tag().is_none_or(|t| t.to_string().is_empty()) {
        return Err(Invalid::Reject { status: 400, reason: "From has no tag" });
    }
    match &message {
        SipMessage::Request(r) => r.to_header().and_then(|t| t.typed()).map(drop),
        SipMessage::Response(r) => r.to_header().and_then(|t| t.typed()).map(drop),
    }
    .map_err(|_| fail(is_request, 400, "no valid To"))?;
    if value("call-id").is_none_or(|v| v.trim().is_empty() || v.contains(char::is_whitespace)) {
        return Err(fail(is_request, 400, "no valid Call-ID"));
    }
    if content_length.is_none() {
        // UDP without Content-Length: the body is the rest of the datagram (RFC 3261 §18.3).
        let body = bytes[separator + 4..].to_vec();
        match &mut message {
            SipMessage::Request(r) => *r.body_mut() = body,
            SipMessage::Response(r) => *r.body_mut() = body,
        }
    }
    Ok(message)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `Method SP Request-URI SP SIP-Version`, exactly (RFC 3261 §7.1); the URI
/// itself is left to rsipstack.
fn request_line(line: &str) -> Result<&'static str, Invalid> {
    let mut parts = line.split(' ');
    let looks_like_sip =
        line.contains(" SIP/") && line.split(' ').next().is_some_and(|m| !m.is_empty() && m.bytes().all(is_token));
    if !looks_like_sip {
        // Nothing suggests SIP: no one to answer.
        return Err(Invalid::Drop { reason: "not a SIP message" });
    }
    let (Some(method), Some(uri), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(reject(400, "Request-Line is not three fields"));
    };
    if method.is_empty() || uri.is_empty() || !method.bytes().all(is_token) {
        return Err(reject(400, "Request-Line is malformed"));
    }
    if version != "SIP/2.0" {
        return Err(if version.starts_with("SIP/") {
            reject(505, "SIP version not supported")
        } else {
            reject(400, "Request-Line has no SIP version")
        });
    }
    METHODS.iter().copied().find(|m| *m == method).ok_or(reject(501, "method not implemented"))
}

fn reject(status: u16, reason: &'static str) -> Invalid {
    Invalid::Reject { status, reason }
}

/// `SIP/2.0 SP 3DIGIT SP Reason-Phrase` with a code of 100–699.
fn status_line(line: &str) -> Result<(), Invalid> {
    let mut parts = line.splitn(3, ' ');
    let ok = parts.next() == Some("SIP/2.0")
        && parts.next().is_some_and(|c| c.len() == 3 && number(c, 3).is_some_and(|n| (100..=699).contains(&n)));
    if ok { Ok(()) } else { Err(Invalid::Drop { reason: "Status-Line is malformed" }) }
}

/// rsipstack takes any text as a host name; a SIP or SIPS URI's host must be
/// an IP address or a host name (RFC 3261 §25.1 `hostname`).
fn host_is_valid(uri: &rsipstack::sip::Uri) -> bool {
    let sip = uri.scheme.as_ref().is_some_and(|s| matches!(s.to_string().as_str(), "sip" | "sips"));
    match &uri.host_with_port.host {
        rsipstack::sip::Host::Domain(d) if sip => {
            let name = d.0.strip_suffix('.').unwrap_or(&d.0);
            !name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
        _ => true,
    }
}

/// RFC 3261 §25.1 `token` characters.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A decimal of at most `digits` significant digits (leading zeros allowed).
fn number(v: &str, digits: usize) -> Option<u64> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = v.trim_start_matches('0');
    if significant.len() > digits {
        // Too many digits to be anything but out of range; u64::MAX says so without overflow.
        return Some(u64::MAX);
    }
    Some(significant.parse().unwrap_or(0))
}

fn cseq_parts(v: &str) -> Option<(u64, &str)> {
    let mut parts = v.split_whitespace();
    let (Some(n), Some(method), None) = (parts.next(), parts.next(), parts.next()) else { return None };
    Some((number(n, 11)?, method)).filter(|(_, m)| m.bytes().all(is_token))
}

/// Header lines unfolded (RFC 3261 §7.3.1), names canonical; `None` when a
/// line has no colon or an empty name.
fn header_lines(head: &str) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split('\n').skip(1) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            let (_, value) = out.last_mut()?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':')?;
        let name = name.trim_end_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token) {
            return None;
        }
        out.push((canonical(name), value.trim().to_string()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(" 0042 ", 3), Some(42));
        assert_eq!(number("99999999999999999999999", 10), Some(u64::MAX));
        assert_eq!(number("-1", 3), None);
        assert_eq!(number("", 3), None);
        assert_eq!(cseq_parts("2147483648 INVITE"), Some((2_147_483_648, "INVITE")));
        assert_eq!(cseq_parts("1 INVITE extra"), None);
    }

    #[test]
    fn lines() {
        assert_eq!(request_line("INVITE sip:a@b SIP/2.0"), Ok("INVITE"));
        assert_eq!(request_line("invite sip:a@b SIP/2.0"), Err(reject(501, "method not implemented")));
        assert_eq!(request_line("INVITE sip:a@b SIP/3.0"), Err(reject(505, "SIP version not supported")));
        assert_eq!(request_line("INVITE  sip:a@b SIP/2.0"), Err(reject(400, "Request-Line is not three fields")));
        assert_eq!(request_line("\u{1}\u{2} x"), Err(Invalid::Drop { reason: "not a SIP message" }));
        assert!(status_line("SIP/2.0 200 OK").is_ok());
        assert!(status_line("SIP/2.0 099 Early").is_err());
        assert!(status_line("SIP/2.0 1000 Big").is_err());
    }
}
