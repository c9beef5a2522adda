//! A dialog's session across re-INVITEs (RFC 3264 §8): each new offer from
//! the peer — hold (`sendonly`, `inactive`, the old `c=0.0.0.0`) or resume
//! (`sendrecv`) — is answered against our side of the session, and our
//! description's version goes up only when what it says changed (§8: the
//! same answer again keeps its version). Both legs of the B2BUA use it: the
//! caller's dialog and the dialog with the agent's phone.

use crate::sdp::{self, Direction, LocalMedia, SessionDescription};

/// Our side of one dialog's session and the answer we last gave.
#[derive(Debug, Clone)]
pub(crate) struct Reoffer {
    ours: LocalMedia,
    /// Our direction as last negotiated.
    direction: Direction,
    /// Our current description, sent again for a re-INVITE without an offer.
    pub sdp: Vec<u8>,
}

/// What a re-INVITE's offer settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settled {
    /// Our direction now: we stop sending when the peer holds.
    pub direction: Direction,
    /// Whether it changed with this offer.
    pub changed: bool,
}

impl Reoffer {
    /// The session as first negotiated: `ours` and the description we sent.
    pub(crate) fn new(ours: LocalMedia, direction: Direction, sdp: &SessionDescription) -> Self {
        Reoffer { ours, direction, sdp: sdp.to_string().into_bytes() }
    }

    /// Answers a re-INVITE's body. An empty body asks us to offer (we offer
    /// the session as it is); an offer we cannot read or take is `None`
    /// (a 488, and the session stays as it was, RFC 3261 §14.2).
    pub(crate) fn answer(&mut self, body: &[u8]) -> Option<Settled> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Some(Settled { direction: self.direction, changed: false });
        }
        let offer = std::str::from_utf8(body).ok().and_then(|t| SessionDescription::parse(t).ok())?;
        let (answer, negotiated) = sdp::answer(&offer, &self.ours).ok()?;
        let changed = negotiated.direction != self.direction;
        if changed {
            self.ours.version += 1;
            self.direction = negotiated.direction;
        }
        // Written again with the version as it now stands.
        let (answer, _) = if changed { sdp::answer(&offer, &self.ours).ok()? } else { (answer, negotiated) };
        self.sdp = answer.to_string().into_bytes();
        Some(Settled { direction: self.direction, changed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Law;

    fn offer(direction: &str, version: u32) -> Vec<u8> {
        format!(
            "v=0\r\no=- 1 {version} IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na={direction}\r\n"
        )
        .into_bytes()
    }

    fn ours() -> LocalMedia {
        LocalMedia {
            address: "192.0.2.9:20000".parse().unwrap(),
            codecs: vec![Law::Ulaw],
            session_id: 7,
            version: 1,
            direction: Direction::SendRecv,
        }
    }

    fn text(r: &Reoffer) -> String {
        String::from_utf8(r.sdp.clone()).unwrap()
    }

    #[test]
    fn hold_and_resume_change_the_direction_and_the_version() {
        let first = SessionDescription::parse(std::str::from_utf8(&offer("sendrecv", 1)).unwrap()).unwrap();
        let (answer, n) = sdp::answer(&first, &ours()).unwrap();
        let mut r = Reoffer::new(ours(), n.direction, &answer);
        // A refresh: the same answer, the same version.
        assert_eq!(r.answer(&offer("sendrecv", 2)), Some(Settled { direction: Direction::SendRecv, changed: false }));
        assert!(text(&r).contains("o=switchboard 7 1 ") && text(&r).contains("a=sendrecv"), "{}", text(&r));
        assert_eq!(r.answer(&offer("sendonly", 3)), Some(Settled { direction: Direction::RecvOnly, changed: true }));
        assert!(text(&r).contains("o=switchboard 7 2 ") && text(&r).contains("a=recvonly"), "{}", text(&r));
        assert_eq!(r.answer(&offer("inactive", 4)), Some(Settled { direction: Direction::Inactive, changed: true }));
        assert!(text(&r).contains("a=inactive"));
        assert_eq!(r.answer(&offer("sendrecv", 5)), Some(Settled { direction: Direction::SendRecv, changed: true }));
        assert!(text(&r).contains("o=switchboard 7 4 ") && text(&r).contains("a=sendrecv"), "{}", text(&r));
        // No offer: ours as it is; a broken one: refused, nothing changed.
        assert_eq!(r.answer(b""), Some(Settled { direction: Direction::SendRecv, changed: false }));
        assert_eq!(r.answer(b"v=0\r\nnonsense"), None);
        assert!(text(&r).contains("o=switchboard 7 4 "));
    }
}
