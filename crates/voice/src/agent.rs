//! The SIP user agent over UDP and TCP on one address: one UDP socket and
//! its loop, and a TCP listener whose connections ([`crate::transport`])
//! hand their messages to the same [`receive`]. Every message passes the
//! per-address rate limit and [`crate::sip::validate`] before anything
//! reads it; a request that fails gets its 4xx/5xx, never a panic. The loop
//! keeps the transaction state RFC 3261 needs for incoming calls (the
//! INVITE's last response, resent when the INVITE is; CANCEL; ACK; BYE; 481
//! for a dialog it does not know) and hands each call to its own task
//! ([`crate::call`]). REGISTERs go to the [`crate::registrar`]; messages
//! of the dialogs we start with agents' phones go to their [`crate::leg`].
//! A follower of the service's committed events tells each call of the
//! offers, and the end, of its contact.

use crate::call::{self, CallEvent};
use crate::dtmf::InfoError;
use crate::prompt::{PromptCache, SpeechEngine};
use crate::registrar::Registrar;
use crate::session::MediaPorts;
use crate::sip::limit::RateLimit;
use crate::sip::message::{Message, response};
use crate::sip::validate::{Invalid, Transport, validate};
use crate::transport::{Connections, Peer, TcpLimits};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_core::ids::{ContactId, UserId};
use switchboard_service::Service;
use switchboard_service::kinds::Kind;
use thiserror::Error;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};

/// Methods we answer, for Allow headers.
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER";
/// A datagram larger than this cannot be a SIP message we accept.
const DATAGRAM: usize = 65_536;

#[derive(Debug, Error)]
pub enum VoiceError {
    #[error("cannot listen for SIP on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
}

/// How the voice channel runs.
#[derive(Debug, Clone)]
pub struct VoiceConfig {
    /// The SIP address, for UDP and TCP alike.
    pub sip: SocketAddr,
    /// Bounds on SIP over TCP.
    pub tcp: TcpLimits,
    /// RTP ports to use (even ones, RTCP on the odd one above).
    pub rtp_ports: (u16, u16),
    /// The address put in SDP and Contact when `sip` is a wildcard.
    pub public_ip: Option<IpAddr>,
    /// Where recordings (`prompts/NAME`) and the speech cache live.
    pub data_dir: PathBuf,
    /// How long a caller hears ringing before the IVR answers.
    pub answer_delay: Duration,
    /// How long a menu waits for a key after its prompt.
    pub key_timeout: Duration,
    /// Messages a source may send at once, and per second after that.
    pub burst: u32,
    pub per_second: u32,
    /// How long a customer we call back may ring before the attempt counts as unanswered.
    pub callback_ring: Duration,
}

impl VoiceConfig {
    pub fn new(sip: SocketAddr, data_dir: impl Into<PathBuf>) -> Self {
        VoiceConfig {
            sip,
            tcp: TcpLimits::default(),
            rtp_ports: (20_000, 20_999),
            public_ip: None,
            data_dir: data_dir.into(),
            answer_delay: Duration::from_millis(300),
            key_timeout: Duration::from_secs(5),
            burst: 100,
            per_second: 50,
            callback_ring: Duration::from_secs(30),
        }
    }
}

/// A listening user agent.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub addr: SocketAddr,
}

/// What the loop knows of a call, shared with the call's task.
pub(crate) struct CallEntry {
    /// The caller: where its in-dialog messages come from and ours go.
    pub peer: Peer,
    pub events: mpsc::UnboundedSender<CallEvent>,
    pub invite_branch: String,
    pub to_tag: String,
    pub answered: bool,
    pub acked: bool,
    /// The INVITE's latest response, resent when the INVITE is (RFC 3261 §17.2.1).
    pub last_response: Vec<u8>,
    /// The CSeq of the last INFO read, so that a retransmitted INFO is not a second key press.
    pub info_cseq: Option<u32>,
}

/// A dialog we started: its peer, and where its messages go (its leg's task).
pub(crate) struct LegEntry {
    pub peer: Peer,
    pub messages: mpsc::UnboundedSender<(Message, Peer)>,
}

/// What the loop and the calls share.
pub(crate) struct Agent {
    pub socket: UdpSocket,
    pub connections: Connections,
    /// The per-source rate limit, shared by datagrams and connections.
    limit: Mutex<RateLimit>,
    pub service: Service,
    pub config: VoiceConfig,
    /// The address in our Via, Contact and SDP.
    pub local: SocketAddr,
    pub calls: Mutex<HashMap<String, CallEntry>>,
    pub prompts: PromptCache,
    pub speech: Option<SpeechEngine>,
    next_port: Mutex<u16>,
    pub registrar: Registrar,
    /// The dialogs we started (with agents' phones, through trunks), by Call-ID.
    pub legs: Mutex<HashMap<String, LegEntry>>,
    /// The calls that have a conversation, by contact: the event follower tells them.
    pub contacts: Mutex<HashMap<ContactId, mpsc::UnboundedSender<CallEvent>>>,
}

impl Agent {
    pub(crate) async fn send(&self, bytes: &[u8], to: Peer) {
        match to.transport {
            Transport::Udp => {
                if let Err(e) = self.socket.send_to(bytes, to.addr).await {
                    tracing::warn!(%to, error = %e, "SIP send failed");
                }
            }
            Transport::Tcp => self.connections.send(bytes, to.addr),
        }
    }

    /// Whether a message (or a connection) from `ip` may be handled now.
    pub(crate) fn allowed(&self, ip: IpAddr) -> bool {
        self.limit.lock().expect("rate limit lock").allow(ip, Instant::now())
    }

    /// Whether a call, a leg or a phone's registration talks to `peer`: its connection stays open.
    pub(crate) fn in_use(&self, peer: Peer) -> bool {
        // One lock at a time: nothing else here holds two.
        let calling = self.calls.lock().expect("calls lock").values().any(|c| c.peer == peer);
        let leg = self.legs.lock().expect("legs lock").values().any(|l| l.peer == peer);
        calling || leg || self.registrar.binds(peer)
    }

    /// Our Contact for a dialog over `transport`.
    pub(crate) fn contact(&self, transport: Transport) -> String {
        format!("<sip:{}{}>", self.local, transport.uri_param())
    }

    /// `text` spoken (through the prompt cache); a moment of silence when it cannot be.
    pub(crate) async fn speech(&self, text: &str) -> crate::prompt::Prompt {
        let Some(engine) = &self.speech else { return crate::call::silence() };
        match self.prompts.speak(text, engine).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "text to speech failed");
                crate::call::silence()
            }
        }
    }

    /// The next RTP port to try, going round the configured range.
    pub(crate) fn rtp_port(&self) -> u16 {
        let (lo, hi) = self.config.rtp_ports;
        let mut next = self.next_port.lock().expect("port lock");
        let port = *next;
        *next = if port.saturating_add(2) > hi { lo + lo % 2 } else { port + 2 };
        port
    }

    /// RTP and RTCP ports from the configured range; `None` when all are taken.
    pub(crate) async fn bind_media(&self) -> Option<MediaPorts> {
        let (lo, hi) = self.config.rtp_ports;
        for _ in 0..=(hi.saturating_sub(lo) / 2) {
            if let Ok(p) = MediaPorts::bind_at(self.local.ip(), self.rtp_port()).await {
                return Some(p);
            }
        }
        None
    }
}

/// Listens for SIP over UDP and TCP on `config.sip` until `stop` turns true.
pub async fn listen(
    service: Service,
    config: VoiceConfig,
    stop: watch::Receiver<bool>,
) -> Result<Listening, VoiceError> {
    let (socket, listener, addr) = bind(config.sip).await?;
    let ip = match (addr.ip().is_unspecified(), config.public_ip) {
        (_, Some(ip)) => ip,
        (true, None) => IpAddr::from([127, 0, 0, 1]),
        (false, None) => addr.ip(),
    };
    let speech = SpeechEngine::detect().inspect_err(|e| tracing::warn!(error = %e, "calls will hear no speech")).ok();
    let prompts = PromptCache::new(config.data_dir.join("prompt-cache"))?;
    let first = config.rtp_ports.0 + config.rtp_ports.0 % 2;
    let (connections, dials) = Connections::new(config.tcp);
    let agent = Arc::new(Agent {
        socket,
        connections,
        limit: Mutex::new(RateLimit::new(config.burst, config.per_second)),
        service,
        local: SocketAddr::new(ip, addr.port()),
        calls: Mutex::new(HashMap::new()),
        prompts,
        speech,
        next_port: Mutex::new(first),
        config,
        registrar: Registrar::default(),
        legs: Mutex::new(HashMap::new()),
        contacts: Mutex::new(HashMap::new()),
    });
    tokio::spawn(follow(agent.clone(), stop.clone()));
    tokio::spawn(crate::transport::accept(agent.clone(), listener, stop.clone()));
    tokio::spawn(crate::transport::dial(agent.clone(), dials, stop.clone()));
    tokio::spawn(serve(agent, stop));
    Ok(Listening { addr })
}

/// The UDP socket and the TCP listener on one address. With port 0 the
/// UDP port is chosen first and TCP takes the same; when it is taken for
/// TCP another pair is tried.
async fn bind(sip: SocketAddr) -> Result<(UdpSocket, TcpListener, SocketAddr), VoiceError> {
    let mut attempts = if sip.port() == 0 { 20 } else { 1 };
    loop {
        let socket = UdpSocket::bind(sip).await.map_err(|e| VoiceError::Bind(sip, e))?;
        let addr = socket.local_addr().map_err(|e| VoiceError::Bind(sip, e))?;
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok((socket, listener, addr)),
            Err(e) => {
                attempts -= 1;
                if attempts == 0 {
                    return Err(VoiceError::Bind(addr, e));
                }
            }
        }
    }
}

async fn serve(agent: Arc<Agent>, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            r = agent.socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                // ICMP port unreachable from an earlier send surfaces here on some systems.
                Err(e) => { tracing::debug!(error = %e, "SIP receive"); continue }
            },
            _ = stop.changed() => return,
        };
        if !agent.allowed(from.ip()) {
            tracing::debug!(%from, "SIP rate limit: dropped");
            continue;
        }
        receive(&agent, &buf[..n], Peer::udp(from)).await;
    }
}

/// One message, a datagram or cut from a stream, past the rate limit.
pub(crate) async fn receive(agent: &Arc<Agent>, bytes: &[u8], from: Peer) {
    match validate(bytes, from.transport) {
        Ok(_) => {
            if let Some(m) = Message::split(bytes) {
                dispatch(agent, m, from).await;
            }
        }
        Err(Invalid::Reject { status, reason }) => {
            tracing::info!(%from, status, reason, "SIP request rejected");
            // Answered when enough of it is there to address a response.
            if let Some(m) = Message::split(bytes).filter(|m| m.header("via").is_some()) {
                let warning = [("Warning", format!("399 switchboard \"{reason}\""))];
                agent.send(&response(&m, from.addr, status, phrase(status), None, &warning, b""), from).await;
            }
        }
        Err(Invalid::Drop { reason }) => tracing::debug!(%from, reason, "SIP message dropped"),
    }
}

/// Follows committed events for the contacts of our calls: an offer rings
/// the agent's phone, an offer's end stops it, the contact's end (the
/// agent hung up on the desktop) ends the call, a hold (from the desktop
/// or the agent's phone) plays the caller music until it is resumed, an
/// overflow may send the caller to voicemail, and the agent pauses and
/// resumes the recording. An offer of a contact no call has starts a
/// courtesy callback's attempt ([`crate::callback`]).
async fn follow(agent: Arc<Agent>, mut stop: watch::Receiver<bool>) {
    let mut events = agent.service.subscribe();
    loop {
        let event = tokio::select! {
            e = events.recv() => match e {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    // The ticker's offer timeouts still end offers; a missed offer stays for the desktop.
                    tracing::warn!(missed = n, "voice fell behind the event stream");
                    continue;
                }
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let Some(contact) = event.contact else { continue };
        let call = agent.contacts.lock().expect("contacts lock").get(&contact).cloned();
        let Some(call) = call else {
            // No call of ours has the contact: an offer of a courtesy callback is made from here.
            if let (Some(Kind::OfferCreated), Some(user)) = (Kind::parse(&event.kind), event.agent) {
                tokio::spawn(crate::callback::attempt(agent.clone(), event.workspace, contact, user));
            }
            continue;
        };
        let agent_of = || event.agent.unwrap_or(UserId(0));
        let told = match Kind::parse(&event.kind) {
            Some(Kind::OfferCreated) => CallEvent::Offered(agent_of()),
            Some(Kind::OfferEnded) => CallEvent::OfferGone(agent_of()),
            Some(Kind::OfferAccepted) => CallEvent::Accepted(agent_of()),
            Some(Kind::ContactEnded | Kind::ConversationEnded) => CallEvent::ContactEnded,
            Some(Kind::ContactHeld) => CallEvent::Held(true),
            Some(Kind::ContactResumed) => CallEvent::Held(false),
            Some(Kind::ContactMuted) => CallEvent::Muted(true),
            Some(Kind::ContactUnmuted) => CallEvent::Muted(false),
            Some(Kind::ContactTransferred) => CallEvent::Transferred,
            Some(Kind::ContactOverflowed) => CallEvent::Overflowed,
            Some(Kind::RecordingPaused) => CallEvent::PauseRecording(true),
            Some(Kind::RecordingResumed) => CallEvent::PauseRecording(false),
            _ => continue,
        };
        let _ = call.send(told);
    }
}

pub(crate) fn phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        423 => "Interval Too Brief",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        481 => "Call/Transaction Does Not Exist",
        491 => "Request Pending",
        483 => "Too Many Hops",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        _ => "Error",
    }
}

async fn dispatch(agent: &Arc<Agent>, m: Message, from: Peer) {
    let leg = agent.legs.lock().expect("legs lock").get(m.call_id()).map(|l| l.messages.clone());
    if let Some(leg) = leg {
        let _ = leg.send((m, from));
        return;
    }
    if m.method() == Some("REGISTER") {
        tokio::spawn(crate::registrar::register(agent.clone(), m, from));
        return;
    }
    let Some(method) = m.method().map(str::to_string) else {
        // A response: to our BYE.
        let entry = agent.calls.lock().expect("calls lock").get(m.call_id()).map(|c| c.events.clone());
        if let (Some(events), Some(status)) = (entry, m.status()) {
            let _ = events.send(CallEvent::Response(status));
        }
        return;
    };
    let reply = |status: u16, to_tag: Option<&str>, extra: &[(&str, String)]| {
        response(&m, from.addr, status, phrase(status), to_tag, extra, b"")
    };
    let out: Option<Vec<u8>> = {
        let mut calls = agent.calls.lock().expect("calls lock");
        let call = calls.get_mut(m.call_id());
        match (method.as_str(), call) {
            // The same INVITE again; a new one in the Call-ID (answering our challenge) is a new call.
            ("INVITE", Some(c))
                if m.to_tag().is_none()
                    && !(c.acked && !c.answered && m.branch() != Some(c.invite_branch.as_str())) =>
            {
                Some(c.last_response.clone())
            }
            // A re-INVITE (a session refresh, hold): answered with the session as it is.
            ("INVITE", Some(c)) if m.to_tag() == Some(c.to_tag.as_str()) => {
                let _ = c.events.send(CallEvent::Reinvite(Box::new(m.clone()), from));
                None
            }
            ("INVITE", _) if m.to_tag().is_none() => {
                let (events, rx) = mpsc::unbounded_channel();
                let to_tag = crate::random_token();
                let trying = reply(100, None, &[]);
                calls.insert(
                    m.call_id().to_string(),
                    CallEntry {
                        peer: from,
                        events,
                        invite_branch: m.branch().unwrap_or_default().to_string(),
                        to_tag: to_tag.clone(),
                        answered: false,
                        acked: false,
                        last_response: trying.clone(),
                        info_cseq: None,
                    },
                );
                tokio::spawn(call::run(agent.clone(), m.clone(), from, to_tag, rx));
                Some(trying)
            }
            ("ACK", Some(c)) => {
                c.acked = true;
                let _ = c.events.send(CallEvent::Ack(m.body.clone()));
                None
            }
            // An ACK for nothing is never answered (RFC 3261 §17.2.3).
            ("ACK", None) => None,
            ("CANCEL", Some(c)) if m.branch() == Some(c.invite_branch.as_str()) => {
                if !c.answered {
                    let _ = c.events.send(CallEvent::Cancel);
                }
                Some(reply(200, None, &[]))
            }
            ("BYE", Some(c)) if m.to_tag() == Some(c.to_tag.as_str()) => {
                let _ = c.events.send(CallEvent::Bye);
                Some(reply(200, None, &[]))
            }
            ("OPTIONS", _) if m.to_tag().is_none() => {
                Some(reply(200, None, &[("Allow", ALLOW.into()), ("Accept", "application/sdp".into())]))
            }
            // A key in an INFO goes where RFC 4733 keys go; a retransmission (the same CSeq) is answered again only.
            ("INFO", Some(c)) if m.to_tag() == Some(c.to_tag.as_str()) => {
                match crate::dtmf::from_info(m.header("content-type"), &m.body) {
                    Ok(digit) => {
                        let cseq = m.cseq().map_or(0, |(n, _)| n);
                        if let Some(d) = digit.filter(|_| c.info_cseq.is_none_or(|last| cseq > last)) {
                            let _ = c.events.send(CallEvent::Digit(d));
                        }
                        c.info_cseq = Some(cseq).max(c.info_cseq);
                        Some(reply(200, None, &[]))
                    }
                    Err(InfoError::Unsupported(_)) => {
                        Some(reply(415, None, &[("Accept", "application/dtmf-relay, application/dtmf".into())]))
                    }
                    Err(e @ InfoError::Malformed(_)) => {
                        tracing::info!(%from, error = %e, "INFO refused");
                        Some(reply(400, None, &[("Warning", format!("399 switchboard \"{e}\""))]))
                    }
                }
            }
            ("OPTIONS" | "UPDATE", Some(c)) if m.to_tag() == Some(c.to_tag.as_str()) => Some(reply(200, None, &[])),
            // In-dialog, for a dialog we do not have, or a CANCEL matching nothing.
            (_, _) if m.to_tag().is_some() || method == "CANCEL" || method == "BYE" => Some(reply(481, None, &[])),
            ("INVITE" | "INFO" | "OPTIONS", _) => Some(reply(481, None, &[])),
            _ => Some(reply(405, None, &[("Allow", ALLOW.into())])),
        }
    };
    if let Some(bytes) = out {
        agent.send(&bytes, from).await;
    }
}
