//! A leg we call out on, as a UAC (RFC 3261 §17.1.1, §13.2): an agent's
//! registered phone when a voice contact is offered to that agent
//! ([`Leg::start`]), or a number through a trunk ([`crate::outbound`]).
//! The INVITE is resent on T1 doubling until a provisional answer; a
//! `401`/`407` challenge is answered once with the target's digest
//! credentials (a new INVITE, CSeq one up); the final answer is ACKed (a
//! 2xx's in its own transaction, a failure's in the INVITE's); CANCEL goes
//! out when the call no longer wants the leg (the caller hung up, the
//! offer timed out or was taken back) or when it rang longer than the
//! target's ring timeout (then reported as `408`); BYE both ways once
//! answered.
//!
//! It runs as its own task and tells the call what happened; dropping the
//! [`Leg`] hangs it up, so a call that ends for any reason never leaves a
//! phone ringing. The phone's REFER (a blind transfer, [`crate::refer`]) is
//! accepted here and handed to the call, which says how it went.

use crate::agent::{ALLOW, Agent, LegEntry, phrase};
use crate::outbound::authorization;
use crate::registrar::Binding;
use crate::reoffer::Reoffer;
use crate::sdp::{self, Direction, LocalMedia, SessionDescription};
use crate::session::{MediaEvent, MediaSession, SessionConfig};
use crate::sip::message::{addr_uri, response};
use crate::transport::{Peer, Transport};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_service::trunk::TrunkAuth;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);

/// What the leg tells its call.
#[derive(Debug)]
pub(crate) enum LegEvent {
    /// 180 or 183: the phone rings.
    Ringing,
    /// 200: the agent picked up; the leg's media is running.
    Answered(MediaSession, mpsc::Receiver<MediaEvent>),
    /// A final failure: busy (486), declined (603), no answer (408, 480, or
    /// our ring timeout), a challenge we could not answer (401, 407), …
    Refused(u16),
    /// The phone changed the call's direction by a re-INVITE: ours is now
    /// this (`recvonly` or `inactive` while the agent holds the call).
    Direction(Direction),
    /// The agent hung up (their BYE).
    Ended,
    /// The phone asks for a blind transfer to this number or SIP username
    /// (its REFER, accepted): the call answers with [`Leg::transfer_outcome`].
    Refer(String),
}

/// What the call tells its leg.
enum Control {
    /// How the transfer the phone asked for went (a SIP status), for its NOTIFY.
    TransferOutcome(u16),
}

/// A leg being rung or talking; dropping it hangs up.
pub(crate) struct Leg {
    pub events: mpsc::UnboundedReceiver<LegEvent>,
    control: mpsc::UnboundedSender<Control>,
}

/// Whom a leg calls, and how.
pub(crate) struct Target {
    /// Where the INVITE goes (the phone's or the trunk's address).
    pub addr: Peer,
    /// The Request-URI.
    pub uri: String,
    /// Our From, without its tag.
    pub from: String,
    pub to: String,
    /// Headers the INVITE carries besides the usual (P-Asserted-Identity).
    pub extra: Vec<(&'static str, String)>,
    /// Our credentials, for a challenge.
    pub auth: Option<TrunkAuth>,
    /// How long it may ring before we CANCEL it; none: until the call drops the leg.
    pub ring_timeout: Option<Duration>,
}

impl Target {
    /// The agent's phone at `binding`, showing `display` as who calls and `user` as their SIP user.
    pub(crate) fn phone(agent: &Agent, binding: &Binding, display: &str, user: &str) -> Target {
        // Over TCP, the connection the phone registered on; once it is gone, a new one to its Contact.
        let source = binding.source;
        let addr = match source.transport {
            Transport::Tcp if !agent.connections.is_open(source.addr) => {
                Peer::from_uri(&binding.contact).map_or(source, |c| Peer::tcp(c.addr))
            }
            _ => source,
        };
        Target {
            addr,
            uri: binding.contact.clone(),
            from: format!("\"{}\" <sip:{}@{}>", display.replace('"', ""), sip_user(user), agent.local),
            to: format!("<sip:{}@{}>", binding.username, agent.local),
            extra: Vec::new(),
            auth: None,
            ring_timeout: None,
        }
    }
}

impl Leg {
    /// Rings the phone at `binding`, showing `caller` (a number or name) as who calls.
    pub(crate) fn start(agent: Arc<Agent>, binding: Binding, caller: String) -> Leg {
        let target = Target::phone(&agent, &binding, &caller, &caller);
        Leg::call(agent, target)
    }

    /// Calls `target`.
    pub(crate) fn call(agent: Arc<Agent>, target: Target) -> Leg {
        let (tx, events) = mpsc::unbounded_channel();
        let (control, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(agent, target, tx, rx));
        Leg { events, control }
    }

    /// The outcome of the phone's REFER, told to it in a NOTIFY: `200` once
    /// the caller is on their way (then the call drops the leg, our BYE), a
    /// failure (`404`: nobody by that name) and the call stays as it was.
    pub(crate) fn transfer_outcome(&self, status: u16) {
        let _ = self.control.send(Control::TransferOutcome(status));
    }
}

/// Where the dialog stands.
#[derive(PartialEq)]
enum State {
    /// INVITE sent, nothing back yet: it is resent.
    Calling,
    /// A provisional answer came: the phone rings.
    Proceeding,
    /// CANCEL sent; waiting for the INVITE's 487 (or a 200 that crossed it).
    Cancelling,
    /// Answered and acknowledged.
    Talking,
    /// Our BYE is out; waiting for its 200.
    Leaving,
}

struct Dialog {
    agent: Arc<Agent>,
    target: Peer,
    uri: String,
    call_id: String,
    from: String,
    to: String,
    branch: String,
    /// The INVITE's CSeq number: 1, or 2 after a challenge.
    invite_cseq: u32,
    /// The phone's tag and Contact once it answered.
    remote_tag: Option<String>,
    remote_contact: Option<String>,
    /// Our latest CSeq in the dialog (it starts at the INVITE's).
    cseq: u32,
}

async fn run(
    agent: Arc<Agent>,
    target: Target,
    tx: mpsc::UnboundedSender<LegEvent>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let Some(ports) = agent.bind_media().await else {
        let _ = tx.send(LegEvent::Refused(503));
        return;
    };
    let Ok(rtp) = ports.rtp_addr() else { return };
    let ours = LocalMedia {
        address: SocketAddr::new(agent.local.ip(), rtp.port()),
        codecs: vec![crate::g711::Law::Ulaw, crate::g711::Law::Alaw],
        session_id: u64::from(crate::call::rand_u32()),
        version: 1,
        direction: Direction::SendRecv,
    };
    let offer = sdp::offer(&ours).to_string();
    let (sip_tx, mut sip) = mpsc::unbounded_channel();
    let d = Dialog {
        target: target.addr,
        uri: target.uri,
        call_id: format!("{}@switchboard", crate::random_token()),
        from: format!("{};tag={}", target.from, crate::random_token()),
        to: target.to,
        branch: format!("z9hG4bK{}", crate::random_token()),
        invite_cseq: 1,
        remote_tag: None,
        remote_contact: None,
        cseq: 1,
        agent,
    };
    let entry = LegEntry { peer: d.target, messages: sip_tx };
    d.agent.legs.lock().expect("legs lock").insert(d.call_id.clone(), entry);
    let mut d = d;
    let mut headers = vec![("Content-Type", "application/sdp".to_string()), ("Allow", format!("{ALLOW}, REFER"))];
    headers.extend(target.extra);
    let mut invite = d.request("INVITE", &d.uri, &d.branch, d.invite_cseq, &headers, offer.as_bytes());
    d.send(&invite).await;
    let mut state = State::Calling;
    // Ringing too long: we CANCEL and report it as no answer.
    let ring_until = target.ring_timeout.map(|t| Instant::now() + t);
    let mut timed_out = false;
    let mut challenged = false;
    let mut media = Some(ports);
    let mut resend = T1;
    let mut next_resend = Instant::now() + T1;
    // Timer B (and, once leaving, how long we wait for anything at all).
    let mut deadline = Instant::now() + 64 * T1;
    let mut bye = Vec::new();
    let mut wanted = true;
    // Once answered: our side of the session, for the phone's re-INVITEs (hold, resume).
    let mut session_state: Option<Reoffer> = None;
    // The phone's REFER waiting for its outcome.
    let mut referring = false;
    loop {
        tokio::select! {
            c = control.recv(), if wanted => {
                if let Some(Control::TransferOutcome(status)) = c {
                    if referring {
                        referring = false;
                        d.notify(status).await;
                    }
                    continue;
                }
                // The call dropped the leg: stop this phone.
                wanted = false;
                match state {
                    State::Calling => {} // CANCEL only once something came back (RFC 3261 §9.1).
                    State::Proceeding => {
                        d.send(&d.cancel()).await;
                        state = State::Cancelling;
                        deadline = Instant::now() + 64 * T1;
                    }
                    State::Talking => {
                        bye = d.next_in_dialog("BYE");
                        d.send(&bye).await;
                        state = State::Leaving;
                        (resend, next_resend, deadline) = (T1, Instant::now() + T1, Instant::now() + 64 * T1);
                    }
                    State::Cancelling | State::Leaving => {}
                }
            }
            m = sip.recv() => {
                let Some((m, from)) = m else { break };
                match (m.status(), m.cseq()) {
                    (Some(status), Some((_, "INVITE"))) => {
                        if (100..200).contains(&status) {
                            if state == State::Calling {
                                if wanted {
                                    state = State::Proceeding;
                                } else {
                                    // Hung up before anything came: now CANCEL may go.
                                    d.send(&d.cancel()).await;
                                    state = State::Cancelling;
                                    deadline = Instant::now() + 64 * T1;
                                }
                            }
                            if status != 100 {
                                let _ = tx.send(LegEvent::Ringing);
                            }
                        } else if (200..300).contains(&status) {
                            d.remote_tag = m.to_tag().map(str::to_string);
                            d.remote_contact = m.header("contact").map(|c| addr_uri(c).to_string());
                            // Every 2xx is acknowledged, retransmissions too (RFC 3261 §13.2.2.4).
                            d.send(&d.in_dialog("ACK", d.invite_cseq)).await;
                            if state == State::Talking || state == State::Leaving {
                                continue;
                            }
                            let negotiated = std::str::from_utf8(&m.body)
                                .ok()
                                .and_then(|t| SessionDescription::parse(t).ok())
                                .and_then(|a| sdp::answered(&a, &ours).ok());
                            let session = match (wanted, negotiated, media.take()) {
                                (true, Some(n), Some(ports)) => {
                                    let mut config = SessionConfig::from_negotiated(&n, crate::rtp::Ssrc(crate::call::rand_u32()), "switchboard");
                                    config.figures = Some(d.agent.service.observed().calls());
                                    MediaSession::start(ports, config).ok()
                                }
                                _ => None,
                            };
                            match session {
                                Some((session, rx)) => {
                                    state = State::Talking;
                                    session_state = negotiated.map(|n| Reoffer::new(ours.clone(), n.direction, &sdp::offer(&ours)));
                                    let _ = tx.send(LegEvent::Answered(session, rx));
                                }
                                None => {
                                    // Answered too late (we cancelled) or with nothing we can play: hang up.
                                    bye = d.next_in_dialog("BYE");
                                    d.send(&bye).await;
                                    state = State::Leaving;
                                    (resend, next_resend, deadline) = (T1, Instant::now() + T1, Instant::now() + 64 * T1);
                                }
                            }
                        } else {
                            // A failure's ACK belongs to the INVITE's transaction: same branch.
                            d.remote_tag = m.to_tag().map(str::to_string);
                            let ack = d.request("ACK", &d.uri, &d.branch, d.invite_cseq, &[], b"");
                            d.send(&ack).await;
                            // A challenge is answered once, in a new transaction (RFC 3261 §22.2).
                            let challenge = match status {
                                401 => m.header("www-authenticate").map(|c| ("Authorization", c)),
                                407 => m.header("proxy-authenticate").map(|c| ("Proxy-Authorization", c)),
                                _ => None,
                            };
                            let answer = challenge.filter(|_| wanted && !challenged).and_then(|(name, c)| {
                                let auth = target.auth.as_ref()?;
                                Some((name, authorization(c, auth, "INVITE", &d.uri)?))
                            });
                            if let Some((name, value)) = answer {
                                challenged = true;
                                d.remote_tag = None;
                                d.invite_cseq += 1;
                                d.cseq = d.invite_cseq;
                                d.branch = format!("z9hG4bK{}", crate::random_token());
                                let mut with = headers.clone();
                                with.push((name, value));
                                invite = d.request("INVITE", &d.uri, &d.branch, d.invite_cseq, &with, offer.as_bytes());
                                d.send(&invite).await;
                                state = State::Calling;
                                (resend, next_resend, deadline) = (T1, Instant::now() + T1, Instant::now() + 64 * T1);
                                continue;
                            }
                            let _ = tx.send(LegEvent::Refused(if timed_out { 408 } else { status }));
                            break;
                        }
                    }
                    (Some(status), Some((_, "BYE"))) if status >= 200 => break,
                    (Some(_), _) => {}
                    (None, _) => {
                        let method = m.method().unwrap_or_default().to_string();
                        let ok = |status: u16| response(&m, from.addr, status, phrase(status), None, &[], b"");
                        match method.as_str() {
                            "BYE" => {
                                d.send(&ok(200)).await;
                                let _ = tx.send(LegEvent::Ended);
                                break;
                            }
                            "ACK" => {}
                            // A re-INVITE: the agent holds or resumes on the phone, or refreshes the session.
                            "INVITE" => {
                                let settled = session_state.as_mut().and_then(|s| s.answer(&m.body));
                                let (Some(settled), Some(state)) = (settled, &session_state) else {
                                    d.send(&ok(488)).await;
                                    continue;
                                };
                                let extra = [("Contact", d.agent.contact(d.target.transport)), ("Content-Type", "application/sdp".into())];
                                let bytes = response(&m, from.addr, 200, "OK", None, &extra, &state.sdp);
                                d.send(&bytes).await;
                                if settled.changed {
                                    let _ = tx.send(LegEvent::Direction(settled.direction));
                                }
                            }
                            // A blind transfer: accepted, then the call says where it went.
                            "REFER" if state != State::Talking => d.send(&ok(481)).await,
                            "REFER" if referring => d.send(&ok(491)).await,
                            "REFER" => match crate::refer::target(&m) {
                                Ok(to) => {
                                    let contact = [("Contact", d.agent.contact(d.target.transport))];
                                    d.send(&response(&m, from.addr, 202, phrase(202), None, &contact, b"")).await;
                                    d.notify(100).await;
                                    referring = true;
                                    let _ = tx.send(LegEvent::Refer(to));
                                }
                                Err(refused) => {
                                    let warning = [("Warning", format!("399 switchboard \"{}\"", refused.reason))];
                                    let bytes = response(&m, from.addr, refused.status, phrase(refused.status), None, &warning, b"");
                                    d.send(&bytes).await;
                                }
                            },
                            _ => d.send(&ok(200)).await,
                        }
                    }
                }
            }
            // Over TCP the transport is reliable: nothing is resent (RFC 3261 §17.1.1.2, §17.1.2.2).
            () = sleep_until(next_resend), if d.target.transport == Transport::Udp && (state == State::Calling || state == State::Leaving) => {
                let bytes = if state == State::Calling { &invite } else { &bye };
                d.send(bytes).await;
                resend = if state == State::Calling { resend * 2 } else { (resend * 2).min(T2) };
                next_resend = Instant::now() + resend;
            }
            () = async { match ring_until { Some(at) => sleep_until(at).await, None => std::future::pending().await } }, if wanted && !timed_out && (state == State::Calling || state == State::Proceeding) => {
                // No answer in time: CANCEL once something came back, else give up as Timer B would.
                timed_out = true;
                if state == State::Proceeding {
                    d.send(&d.cancel()).await;
                    state = State::Cancelling;
                    deadline = Instant::now() + 64 * T1;
                } else {
                    let _ = tx.send(LegEvent::Refused(408));
                    break;
                }
            }
            () = sleep_until(deadline), if state != State::Talking && state != State::Proceeding => {
                if state == State::Calling {
                    let _ = tx.send(LegEvent::Refused(408));
                }
                break;
            }
        }
    }
    d.agent.legs.lock().expect("legs lock").remove(&d.call_id);
}

impl Dialog {
    async fn send(&self, bytes: &[u8]) {
        self.agent.send(bytes, self.target).await;
    }

    fn request(
        &self,
        method: &str,
        uri: &str,
        branch: &str,
        cseq: u32,
        extra: &[(&str, String)],
        body: &[u8],
    ) -> Vec<u8> {
        let to = match &self.remote_tag {
            Some(tag) => format!("{};tag={tag}", self.to),
            None => self.to.clone(),
        };
        let mut out = format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{} {};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: {}\r\n",
            self.target.transport.via_name(),
            self.agent.local,
            self.from,
            self.call_id,
            self.agent.contact(self.target.transport),
        );
        for (name, value) in extra {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("User-Agent: Switchboard\r\nContent-Length: {}\r\n\r\n", body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    /// CANCEL: the INVITE's Request-URI, branch and CSeq number (RFC 3261 §9.1).
    fn cancel(&self) -> Vec<u8> {
        self.request("CANCEL", &self.uri, &self.branch, self.invite_cseq, &[], b"")
    }

    /// A request in the dialog (the 2xx's ACK, BYE): to the phone's Contact, in a new transaction.
    fn in_dialog(&self, method: &str, cseq: u32) -> Vec<u8> {
        self.in_dialog_with(method, cseq, &[], b"")
    }

    fn in_dialog_with(&self, method: &str, cseq: u32, extra: &[(&str, String)], body: &[u8]) -> Vec<u8> {
        let uri = self.remote_contact.clone().unwrap_or_else(|| self.uri.clone());
        self.request(method, &uri, &format!("z9hG4bK{}", crate::random_token()), cseq, extra, body)
    }

    /// A new request of ours in the dialog, with the next CSeq.
    fn next_in_dialog(&mut self, method: &str) -> Vec<u8> {
        self.cseq += 1;
        self.in_dialog(method, self.cseq)
    }

    /// How the phone's transfer stands, in a NOTIFY (RFC 3515 §2.4.4). Sent
    /// once: a lost one leaves the phone to time its subscription out, and
    /// our BYE, which is resent, follows a successful transfer anyway.
    async fn notify(&mut self, status: u16) {
        let (headers, body) = crate::refer::progress(status);
        self.cseq += 1;
        let bytes = self.in_dialog_with("NOTIFY", self.cseq, &headers, &body);
        self.send(&bytes).await;
    }
}

/// The caller shown on the phone, as a SIP user part: digits and `+`, else `caller`.
fn sip_user(caller: &str) -> String {
    let user: String = caller.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+').collect();
    if user.is_empty() { "caller".into() } else { user }
}
