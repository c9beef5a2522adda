//! Blind transfer from an agent's phone: a REFER (RFC 3515) in the dialog
//! of the agent leg, whose Refer-To names where the caller goes — a queue's
//! number or another agent's SIP username (`<sip:bob@our-address>`). We are
//! the transferee's side of it (a B2BUA: the caller never sees the REFER):
//! 202 Accepted, a NOTIFY with `100 Trying`, then one with the outcome as a
//! `message/sipfrag` (`200 OK` once the contact is back in line, terminating
//! the implicit subscription), and our BYE to the phone. Attended transfer
//! (a Refer-To with `Replaces`) is refused.

use crate::agent::phrase;
use crate::sip::message::{Message, addr_uri, uri_user};

/// Why a REFER is refused outright: its status and the reason for a `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    pub status: u16,
    pub reason: &'static str,
}

/// The user part a REFER's Refer-To names (a number or a SIP username).
pub(crate) fn target(m: &Message) -> Result<String, Refused> {
    let mut all = m.all("refer-to");
    let (Some(refer_to), None) = (all.next(), all.next()) else {
        return Err(Refused { status: 400, reason: "a REFER needs exactly one Refer-To" });
    };
    let uri = addr_uri(refer_to);
    if uri.to_ascii_lowercase().contains("replaces=") {
        return Err(Refused { status: 501, reason: "attended transfer (Replaces) is not supported" });
    }
    match uri_user(refer_to) {
        Some(user) if user.chars().all(|c| c.is_ascii_alphanumeric() || "+-_.!~*'".contains(c)) => Ok(user.to_string()),
        Some(_) => Err(Refused { status: 400, reason: "the Refer-To's user is not a number or a username" }),
        None => Err(Refused { status: 400, reason: "the Refer-To names no user" }),
    }
}

/// A NOTIFY's headers and body telling the phone how the transfer stands:
/// `status` as a sipfrag; a final one ends the subscription (RFC 3515 §2.4.5).
pub(crate) fn progress(status: u16) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let state = if status >= 200 { "terminated;reason=noresource" } else { "active;expires=60" };
    let headers = vec![
        ("Event", "refer".to_string()),
        ("Subscription-State", state.to_string()),
        ("Content-Type", "message/sipfrag;version=2.0".to_string()),
    ];
    (headers, format!("SIP/2.0 {status} {}\r\n", phrase(status)).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refer(headers: &str) -> Message {
        let text = format!(
            "REFER sip:switchboard@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:x@127.0.0.1>;tag=b\r\nCall-ID: c\r\nCSeq: 2 REFER\r\nMax-Forwards: 70\r\n{headers}Content-Length: 0\r\n\r\n"
        );
        Message::split(text.as_bytes()).unwrap()
    }

    #[test]
    fn the_refer_to_names_a_number_or_a_username() {
        assert_eq!(target(&refer("Refer-To: <sip:bob@127.0.0.1:5060>\r\n")), Ok("bob".into()));
        assert_eq!(target(&refer("r: sip:+15550003000@127.0.0.1\r\n")), Ok("+15550003000".into()));
        assert_eq!(target(&refer("Refer-To: <tel:15550003000>\r\n")), Ok("15550003000".into()));
    }

    #[test]
    fn what_cannot_be_done_is_refused() {
        assert_eq!(target(&refer("")).unwrap_err().status, 400);
        let two = "Refer-To: <sip:bob@h>\r\nRefer-To: <sip:carol@h>\r\n";
        assert_eq!(target(&refer(two)).unwrap_err().status, 400);
        assert_eq!(target(&refer("Refer-To: <sip:h>\r\n")).unwrap_err().status, 400);
        assert_eq!(target(&refer("Refer-To: <sip:b%22ob@h>\r\n")).unwrap_err().status, 400);
        let attended = "Refer-To: <sip:bob@h?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n";
        assert_eq!(target(&refer(attended)).unwrap_err().status, 501);
    }

    #[test]
    fn the_outcome_is_a_sipfrag_ending_the_subscription() {
        let (headers, body) = progress(100);
        assert!(headers.contains(&("Subscription-State", "active;expires=60".into())));
        assert_eq!(body, b"SIP/2.0 100 Trying\r\n");
        let (headers, body) = progress(404);
        assert!(headers.contains(&("Subscription-State", "terminated;reason=noresource".into())));
        assert!(headers.contains(&("Content-Type", "message/sipfrag;version=2.0".into())));
        assert_eq!(body, b"SIP/2.0 404 Not Found\r\n");
    }
}
