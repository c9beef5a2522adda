//! The parts of a SIP message the user agent reads and writes, on the raw
//! text. It runs after `validate` (or, to answer a message that failed
//! validation, as best it can): rsipstack's parse is only the validator's
//! witness, while replies copy the request's own header lines byte for byte
//! as RFC 3261 §8.2.6.2 asks (Via, From, Call-ID and CSeq unchanged).

use std::net::SocketAddr;

/// A request or a response, split into its start line, headers and body.
#[derive(Debug, Clone)]
pub struct Message {
    /// `INVITE sip:1000@host SIP/2.0` or `SIP/2.0 200 OK`.
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn compact(name: &str) -> &str {
    match name {
        "f" => "from",
        "t" => "to",
        "i" => "call-id",
        "v" => "via",
        "l" => "content-length",
        "m" => "contact",
        "c" => "content-type",
        "r" => "refer-to",
        _ => name,
    }
}

impl Message {
    /// Splits `bytes`; `None` when there is no start line and header block.
    pub fn split(bytes: &[u8]) -> Option<Message> {
        let start = bytes.iter().position(|&b| b != b'\r' && b != b'\n')?;
        let bytes = &bytes[start..];
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n");
        let (head, body) = match end {
            Some(i) => (&bytes[..i], bytes[i + 4..].to_vec()),
            None => (bytes, Vec::new()),
        };
        let head = String::from_utf8_lossy(head);
        let mut lines = head.split("\r\n");
        let start = lines.next()?.to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            // Folded continuation lines (RFC 3261 §7.3.1) join the previous value.
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else { continue };
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        Some(Message { start, headers, body })
    }

    /// A request's method, `None` for a response.
    pub fn method(&self) -> Option<&str> {
        (!self.start.starts_with("SIP/")).then(|| self.start.split(' ').next().unwrap_or_default())
    }

    /// A request's Request-URI.
    pub fn uri(&self) -> &str {
        self.start.split(' ').nth(1).unwrap_or_default()
    }

    /// A response's status code.
    pub fn status(&self) -> Option<u16> {
        self.start.starts_with("SIP/").then(|| self.start.split(' ').nth(1)?.parse().ok()).flatten()
    }

    /// Every value of a header, by its long or compact name.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_string();
        self.headers.iter().filter(move |(n, _)| compact(&n.to_ascii_lowercase()) == name).map(|(_, v)| v.as_str())
    }

    /// The first value of a header (`name` in lowercase, long form).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }

    pub fn call_id(&self) -> &str {
        self.header("call-id").unwrap_or_default()
    }

    /// The top Via's branch: the transaction's id (RFC 3261 §17.2.3).
    pub fn branch(&self) -> Option<&str> {
        param(self.header("via")?, "branch")
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> Option<(u32, &str)> {
        let (n, m) = self.header("cseq")?.split_once(' ')?;
        Some((n.trim().parse().ok()?, m.trim()))
    }

    /// The To header's tag: set once a dialog exists.
    pub fn to_tag(&self) -> Option<&str> {
        param(self.header("to")?, "tag")
    }

    pub fn from_tag(&self) -> Option<&str> {
        param(self.header("from")?, "tag")
    }
}

/// A header parameter (`;tag=abc`), after the URI's `>` when there is one.
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let params = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    params.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The user part of a SIP URI in a header value or Request-URI
/// (`"Ann" <sip:+15550100@host>;tag=1` gives `+15550100`).
pub fn uri_user(value: &str) -> Option<&str> {
    let uri = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value),
    };
    let rest = uri.strip_prefix("sip:").or_else(|| uri.strip_prefix("sips:")).or_else(|| uri.strip_prefix("tel:"))?;
    let user = rest.split(['@', ';', '?']).next()?;
    (!user.is_empty() && rest.contains('@') || uri.starts_with("tel:")).then_some(user)
}

/// The URI inside a name-addr (`<sip:a@b>` gives `sip:a@b`).
pub fn addr_uri(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// The display name of a name-addr, if any.
pub fn display_name(value: &str) -> Option<String> {
    let name = value.split('<').next()?.trim().trim_matches('"').trim();
    (value.contains('<') && !name.is_empty()).then(|| name.to_string())
}

/// A response to `request`: its Via (with `received` and `rport` filled in,
/// RFC 3581), From, To (with `to_tag` added when it has none), Call-ID and
/// CSeq, then `extra` headers and the body.
pub fn response(
    request: &Message,
    from: SocketAddr,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {status} {reason}\r\n");
    for (i, via) in request.all("via").enumerate() {
        if i == 0 {
            out.push_str(&format!("Via: {}\r\n", via_received(via, from)));
        } else {
            out.push_str(&format!("Via: {via}\r\n"));
        }
    }
    for name in ["from", "to", "call-id", "cseq"] {
        let Some(value) = request.header(name) else { continue };
        let label = match name {
            "from" => "From",
            "to" => "To",
            "call-id" => "Call-ID",
            _ => "CSeq",
        };
        match (name, to_tag) {
            ("to", Some(tag)) if param(value, "tag").is_none() => out.push_str(&format!("To: {value};tag={tag}\r\n")),
            _ => out.push_str(&format!("{label}: {value}\r\n")),
        }
    }
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Server: Switchboard\r\n");
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn via_received(via: &str, from: SocketAddr) -> String {
    let mut parts: Vec<String> = via.split(';').map(str::to_string).collect();
    let mut rport = false;
    for p in parts.iter_mut().skip(1) {
        if p.trim().eq_ignore_ascii_case("rport") {
            *p = format!("rport={}", from.port());
            rport = true;
        }
    }
    if rport || !via.contains(&from.ip().to_string()) {
        parts.push(format!("received={}", from.ip()));
    }
    parts.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::proptest_config())]
        // A message that failed validation is still split to address its 400.
        #[test]
        fn any_bytes_split_and_answer_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            text in "[ -~\r\n<>;=@:]{0,300}",
        ) {
            for input in [bytes.as_slice(), text.as_bytes()] {
                if let Some(m) = Message::split(input) {
                    let from: SocketAddr = "192.0.2.1:5060".parse().unwrap();
                    let _ = (m.method(), m.uri(), m.status(), m.branch(), m.cseq(), m.to_tag(), m.from_tag());
                    for v in m.headers.iter().map(|(_, v)| v.as_str()) {
                        let _ = (uri_user(v), addr_uri(v), display_name(v));
                    }
                    let _ = response(&m, from, 400, "Bad Request", Some("t"), &[], b"");
                }
            }
        }
    }

    const INVITE: &str = "INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK1;rport\r\nf: \"Ann\" <sip:+15550100@example.com>;tag=a1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn reads_what_the_agent_needs() {
        let m = Message::split(INVITE.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(uri_user(m.uri()), Some("1000"));
        assert_eq!(uri_user(m.header("from").unwrap()), Some("+15550100"));
        assert_eq!(display_name(m.header("from").unwrap()).as_deref(), Some("Ann"));
        assert_eq!(m.from_tag(), Some("a1"));
        assert_eq!(m.to_tag(), None);
        assert_eq!(m.branch(), Some("z9hG4bK1"));
        assert_eq!(m.cseq(), Some((1, "INVITE")));
    }

    #[test]
    fn a_response_copies_the_request_and_tags_to() {
        let m = Message::split(INVITE.as_bytes()).unwrap();
        let from: SocketAddr = "192.0.2.7:4000".parse().unwrap();
        let r = String::from_utf8(response(&m, from, 180, "Ringing", Some("x9"), &[], b"")).unwrap();
        assert!(r.starts_with("SIP/2.0 180 Ringing\r\n"));
        assert!(r.contains("Via: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK1;rport=4000;received=192.0.2.7\r\n"));
        assert!(r.contains("To: <sip:1000@127.0.0.1>;tag=x9\r\n"));
        assert!(r.contains("CSeq: 1 INVITE\r\n"));
        let back = Message::split(r.as_bytes()).unwrap();
        assert_eq!(back.status(), Some(180));
    }
}
