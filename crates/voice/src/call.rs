//! One incoming call, from INVITE to hang-up, in its own task: the number
//! looked up, the SDP answered, the call answered, the conversation opened
//! through the seam, the endpoint's flow driven as an IVR (speech and
//! recordings out, RFC 4733 keys in), then the queue with a waiting prompt
//! and hold music, or goodbye. Queued, an offer to an agent whose phone is
//! registered rings it ([`crate::leg`]); the phone's answer accepts the
//! offer as that agent and bridges the two legs' audio until either side
//! hangs up. Whatever state it is in, the caller's BYE ends the
//! conversation (abandoned, or to wrap-up once answered), so no contact
//! stays queued, and no phone keeps ringing, for a caller who is gone.

pub(crate) mod callback;
mod transfer;
mod trunk;
mod voicemail;

use crate::agent::{Agent, phrase};
use crate::dtmf::Digit;
use crate::hold::MusicOnHold;
use crate::leg::{Leg, LegEvent};
use crate::prompt::Prompt;
use crate::recording::Recording;
use crate::reoffer::{Reoffer, Settled};
use crate::sdp::{self, Direction, LocalMedia, Negotiated, SessionDescription};
use crate::session::{MediaEvent, MediaPorts, MediaSession, SessionConfig};
use crate::sip::message::{Message, addr_uri, display_name, response, uri_user};
use crate::transport::{Peer, Transport};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, CustomerId, UserId, WorkspaceId};
use switchboard_service::conversation::{
    Action, Choice, InLine, Inbound, Input, Opening, Party, Received, Sender, Thread,
};
use switchboard_service::endpoints::Endpoint;
use switchboard_service::metrics::{CallPlace, CallStage};
use switchboard_service::waiting::{CallerCare, PlaceInLine};
use switchboard_service::{IdentityKind, IdentityValue, ServiceError};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};

/// What the user agent's loop tells a call.
#[derive(Debug)]
pub(crate) enum CallEvent {
    /// The ACK, with its body: the answer to our offer after a late-offer INVITE.
    Ack(Vec<u8>),
    Cancel,
    Bye,
    Reinvite(Box<Message>, Peer),
    /// A key the caller pressed, signalled in a SIP INFO.
    Digit(Digit),
    /// The agent put the caller on hold (`true`) or took them off it, on the desktop or their phone.
    Held(bool),
    /// A response to our BYE.
    Response(u16),
    /// The contact was offered to this agent.
    Offered(UserId),
    /// The offer to this agent ended (timed out, rejected, taken back).
    OfferGone(UserId),
    /// This agent accepted the offer (on the desktop, or through their phone).
    Accepted(UserId),
    /// The conversation ended elsewhere (the agent hung up on the desktop).
    ContactEnded,
    /// The queue let go of the contact (overflow): voicemail, another queue, or a disconnect.
    Overflowed,
    /// The agent paused (true) or resumed the call's recording.
    PauseRecording(bool),
    /// The agent muted themselves (true) on the desktop, or unmuted.
    Muted(bool),
    /// The contact was transferred away from its agent (to a queue or another agent).
    Transferred,
}

/// How long the survey waits for the caller's key after asking.
const SURVEY_WAIT: Duration = Duration::from_secs(10);
/// RFC 3261's T1 and T2: retransmission intervals over UDP.
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
/// Said while the caller waits for an agent.
const WAITING: &str = "All our agents are busy. Please stay on the line and we will be with you shortly.";
const GOODBYE: &str = "Thank you for calling. Goodbye.";
/// The post-call survey's question, after the agent hung up.
const SURVEY: &str =
    "Before you go, please rate this call. Press 1 to 5 on your keypad, where 5 is excellent and 1 is poor.";
const SURVEY_THANKS: &str = "Thank you for your rating. Goodbye.";

/// The caller is gone (BYE, CANCEL, no ACK): the call stops where it is.
struct Gone;

pub(crate) async fn run(
    agent: Arc<Agent>,
    invite: Message,
    peer: Peer,
    to_tag: String,
    events: mpsc::UnboundedReceiver<CallEvent>,
) {
    let call_id = invite.call_id().to_string();
    let mut call = Call {
        agent: agent.clone(),
        invite,
        peer,
        to_tag,
        events,
        media: None,
        session: None,
        deferred: VecDeque::new(),
        contact: None,
        place: agent.service.observed().calls().call(),
        late: None,
    };
    if let Err(e) = call.run().await {
        tracing::warn!(call_id, error = %e, "call failed");
    }
    {
        // Unless a new INVITE in the same Call-ID (after our challenge) took the entry.
        let mut calls = agent.calls.lock().expect("calls lock");
        if calls.get(&call_id).is_some_and(|c| Some(c.invite_branch.as_str()) == call.invite.branch()) {
            calls.remove(&call_id);
        }
    }
    if let Some(contact) = call.contact {
        agent.contacts.lock().expect("contacts lock").remove(&contact);
    }
    if let Some((session, _)) = call.media.take() {
        session.stop().await;
    }
}

struct Call {
    agent: Arc<Agent>,
    invite: Message,
    peer: Peer,
    to_tag: String,
    events: mpsc::UnboundedReceiver<CallEvent>,
    media: Option<(MediaSession, mpsc::Receiver<MediaEvent>)>,
    /// Our side of the session, answering the caller's re-INVITEs (hold, resume).
    session: Option<Reoffer>,
    /// The contact's news that came while a prompt played, for the queue's loop.
    deferred: VecDeque<CallEvent>,
    contact: Option<ContactId>,
    /// Where the call counts in `/metrics` (IVR, queued, bridged) until it ends.
    place: CallPlace,
    /// A late-offer INVITE (no SDP): our media ports and side, offered in
    /// the 200, waiting for the ACK's answer before the session starts.
    late: Option<(MediaPorts, LocalMedia)>,
}

/// What woke the queue's loop.
enum Wake {
    Caller(Option<CallEvent>),
    CallerMedia(Option<MediaEvent>),
    Leg(Option<LegEvent>),
    AgentMedia(Option<MediaEvent>),
    /// 20 ms more of the recording are due.
    Record,
    /// The caller is due to hear their place in line.
    Announce,
}

impl Call {
    async fn run(&mut self) -> Result<(), ServiceError> {
        let Some(endpoint) = self.endpoint().await? else {
            self.finish(404).await;
            return Ok(());
        };
        if !self.admitted(&endpoint).await {
            return Ok(());
        }
        if !self.negotiate().await {
            return Ok(());
        }
        self.provisional(180).await;
        if self.ring().await.is_err() {
            self.finish(487).await;
            return Ok(());
        }
        self.answer_call().await;
        if let Some((ports, ours)) = self.late.take()
            && !self.media_from_ack(ports, ours).await
        {
            return Ok(());
        }
        self.place.enter(CallStage::Ivr);
        let Received { contact, customer, .. } = self.open(&endpoint).await?;
        self.contact = Some(contact);
        let (tx, rx) = mpsc::unbounded_channel();
        self.agent.contacts.lock().expect("contacts lock").insert(contact, tx);
        self.forward(rx);
        let outcome = match endpoint.flow {
            Some(flow) => self.ivr(&endpoint, contact, customer, flow).await,
            None => Ok(Ended::Queued),
        };
        let ws = endpoint.workspace;
        match outcome {
            Ok(Ended::Contained) => self.hang_up().await,
            Ok(Ended::Failed) => {
                self.hang_up().await;
                self.agent.service.end_conversation(ws, contact, "system").await?
            }
            Ok(Ended::Queued) => match self.in_line(ws, contact).await {
                InLine::Waiting => loop {
                    match self.wait_for_agent(ws, contact).await {
                        Waited::Ended { by, survey } => {
                            self.agent.service.end_conversation(ws, contact, by).await?;
                            if survey {
                                self.survey(ws, contact).await;
                            }
                        }
                        Waited::Voicemail => self.voicemail(ws, contact).await,
                        Waited::LetGo => self.hang_up().await,
                        // Asked for, the caller has hung up and the contact waits as a callback; else back in line.
                        Waited::Callback => match self.ask_for_callback(ws, contact).await {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(Gone) => self.agent.service.end_conversation(ws, contact, "customer").await?,
                        },
                    }
                    break;
                },
                InLine::Voicemail => self.voicemail(ws, contact).await,
                // Turned away (closed, full) with nowhere to go: goodbye.
                InLine::Ended => self.hang_up().await,
            },
            Err(Gone) => self.agent.service.end_conversation(ws, contact, "customer").await?,
        }
        Ok(())
    }

    /// The endpoint of the dialled number (the Request-URI's user, else the To's).
    async fn endpoint(&self) -> Result<Option<Endpoint>, ServiceError> {
        let did = uri_user(self.invite.uri()).or_else(|| self.invite.header("to").and_then(uri_user));
        let Some(did) = did else { return Ok(None) };
        // Numbers are kept in E.164; a number dialled without its + is read as one.
        let did = e164(did).unwrap_or_else(|| did.to_string());
        Ok(self.agent.service.endpoint_at(Channel::Voice, &did).await?.filter(|e| e.enabled))
    }

    /// Our SDP answer and the media session it describes, or for an INVITE
    /// without an offer (late offer, RFC 3261 §13.2.1) our offer, answered
    /// in the ACK; false after a final 488 or 503 when there is none.
    async fn negotiate(&mut self) -> bool {
        let late = self.invite.body.iter().all(u8::is_ascii_whitespace);
        let offer = std::str::from_utf8(&self.invite.body).ok().and_then(|t| SessionDescription::parse(t).ok());
        if offer.is_none() && !late {
            self.finish(488).await;
            return false;
        }
        let Some(ports) = self.agent.bind_media().await else {
            self.finish(503).await;
            return false;
        };
        let Ok(rtp) = ports.rtp_addr() else {
            self.finish(503).await;
            return false;
        };
        let address = SocketAddr::new(self.agent.local.ip(), rtp.port());
        let ours = LocalMedia {
            address,
            codecs: vec![crate::g711::Law::Ulaw, crate::g711::Law::Alaw],
            session_id: u64::from(rand_u32()),
            version: 1,
            direction: Direction::SendRecv,
        };
        let Some(offer) = offer else {
            self.session = Some(Reoffer::new(ours.clone(), Direction::SendRecv, &sdp::offer(&ours)));
            self.late = Some((ports, ours));
            return true;
        };
        let Ok((answer, negotiated)) = sdp::answer(&offer, &ours) else {
            self.finish(488).await;
            return false;
        };
        self.session = Some(Reoffer::new(ours, negotiated.direction, &answer));
        if let Err(e) = self.start_media(ports, &negotiated) {
            tracing::warn!(error = %e, "media session");
            self.finish(503).await;
            return false;
        }
        true
    }

    fn start_media(&mut self, ports: MediaPorts, negotiated: &Negotiated) -> std::io::Result<()> {
        let mut config = SessionConfig::from_negotiated(negotiated, crate::rtp::Ssrc(rand_u32()), "switchboard");
        config.figures = Some(self.agent.service.observed().calls());
        self.media = Some(MediaSession::start(ports, config)?);
        Ok(())
    }

    /// After a late offer: the ACK's answer starts the media. An ACK with
    /// no answer we can use ends the call with our BYE (RFC 3261 §13.3.1.4);
    /// the caller hanging up first ends it too.
    async fn media_from_ack(&mut self, ports: MediaPorts, ours: LocalMedia) -> bool {
        let body = loop {
            match self.events.recv().await {
                Some(CallEvent::Ack(body)) => break body,
                Some(CallEvent::Bye | CallEvent::Cancel) | None => return false,
                Some(_) => {}
            }
        };
        let answer = std::str::from_utf8(&body).ok().and_then(|t| SessionDescription::parse(t).ok());
        let negotiated = answer.as_ref().and_then(|a| sdp::answered(a, &ours).ok());
        let Some(negotiated) = negotiated else {
            tracing::info!(call_id = self.invite.call_id(), "the ACK did not answer our offer; hanging up");
            self.bye().await;
            return false;
        };
        self.session = Some(Reoffer::new(ours.clone(), negotiated.direction, &sdp::offer(&ours)));
        if let Err(e) = self.start_media(ports, &negotiated) {
            tracing::warn!(error = %e, "media session");
            self.bye().await;
            return false;
        }
        true
    }

    /// The event follower's news joins the call's own events (one queue, in order).
    fn forward(&self, mut rx: mpsc::UnboundedReceiver<CallEvent>) {
        let events = self.agent.calls.lock().expect("calls lock").get(self.invite.call_id()).map(|c| c.events.clone());
        let Some(events) = events else { return };
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                if events.send(e).is_err() {
                    return;
                }
            }
        });
    }

    async fn provisional(&self, status: u16) {
        let bytes = response(&self.invite, self.peer.addr, status, phrase(status), Some(&self.to_tag), &[], b"");
        self.remember(&bytes, false);
        self.agent.send(&bytes, self.peer).await;
    }

    /// A final non-2xx answer to the INVITE; its ACK is absorbed by the loop.
    async fn finish(&self, status: u16) {
        self.finish_with(status, &[]).await;
    }

    /// The same with `extra` headers (a challenge).
    async fn finish_with(&self, status: u16, extra: &[(&str, String)]) {
        let bytes = response(&self.invite, self.peer.addr, status, phrase(status), Some(&self.to_tag), extra, b"");
        self.remember(&bytes, false);
        self.agent.send(&bytes, self.peer).await;
        if self.peer.transport == Transport::Tcp {
            // A stream does not lose it: nothing to resend (RFC 3261 §17.2.1, Timer G).
            return;
        }
        // Resent until the ACK, as long as a UDP server transaction lasts (RFC 3261 §17.2.1).
        let mut wait = T1;
        let deadline = Instant::now() + 64 * T1;
        while Instant::now() < deadline {
            if self.acked() {
                return;
            }
            sleep(wait).await;
            if !self.acked() {
                self.agent.send(&bytes, self.peer).await;
            }
            wait = (wait * 2).min(T2);
        }
    }

    /// Whether the INVITE's transaction is over: ACKed, or replaced by a new
    /// INVITE in the same Call-ID (the answer to our challenge).
    fn acked(&self) -> bool {
        let calls = self.agent.calls.lock().expect("calls lock");
        calls
            .get(self.invite.call_id())
            .is_none_or(|c| c.acked || Some(c.invite_branch.as_str()) != self.invite.branch())
    }

    fn remember(&self, bytes: &[u8], answered: bool) {
        if let Some(c) = self.agent.calls.lock().expect("calls lock").get_mut(self.invite.call_id()) {
            c.last_response = bytes.to_vec();
            c.answered |= answered;
        }
    }

    /// Rings for the configured delay; a CANCEL or BYE ends it.
    async fn ring(&mut self) -> Result<(), Gone> {
        let until = Instant::now() + self.agent.config.answer_delay;
        loop {
            tokio::select! {
                _ = sleep_until(until) => return Ok(()),
                e = self.events.recv() => match e {
                    Some(CallEvent::Cancel | CallEvent::Bye) | None => return Err(Gone),
                    Some(_) => {}
                },
            }
        }
    }

    fn ok_with_answer(&self, request: &Message) -> Vec<u8> {
        let extra = [
            ("Contact", self.agent.contact(self.peer.transport)),
            ("Allow", crate::agent::ALLOW.to_string()),
            ("Content-Type", "application/sdp".to_string()),
        ];
        let sdp = self.session.as_ref().map_or(&[][..], |s| &s.sdp[..]);
        response(request, self.peer.addr, 200, "OK", Some(&self.to_tag), &extra, sdp)
    }

    /// 200 OK with the SDP, resent until the ACK comes (RFC 3261 §13.3.1.4).
    async fn answer_call(&self) {
        let ok = self.ok_with_answer(&self.invite);
        self.remember(&ok, true);
        self.agent.send(&ok, self.peer).await;
        let (agent, peer, call_id) = (self.agent.clone(), self.peer, self.invite.call_id().to_string());
        tokio::spawn(async move {
            let mut wait = T1;
            let deadline = Instant::now() + 64 * T1;
            while Instant::now() < deadline {
                sleep(wait).await;
                let pending =
                    agent.calls.lock().expect("calls lock").get(&call_id).map(|c| (c.acked, c.events.clone()));
                match pending {
                    Some((false, _)) => agent.send(&ok, peer).await,
                    _ => return,
                }
                wait = (wait * 2).min(T2);
            }
            // No ACK: the caller is gone (RFC 3261 §13.3.1.4 asks for a BYE, which hang-up sends).
            if let Some(events) = agent.calls.lock().expect("calls lock").get(&call_id).map(|c| c.events.clone()) {
                let _ = events.send(CallEvent::Bye);
            }
        });
    }

    /// The conversation, opened through the seam with the caller's number.
    async fn open(&self, endpoint: &Endpoint) -> Result<Received, ServiceError> {
        let from = self.invite.header("from").unwrap_or_default();
        let identity = uri_user(from).and_then(e164).map(|value| IdentityValue { kind: IdentityKind::Phone, value });
        let mut attributes = BTreeMap::new();
        if let Some(did) = &endpoint.address {
            attributes.insert("dialled".to_string(), AttrValue::Str(did.clone()));
        }
        let opening = Opening { attributes, channel_runs_flow: endpoint.flow.is_some(), ..Opening::default() };
        let inbound = Inbound { sender: Sender { identity, name: display_name(from) }, message: None, opening };
        self.agent.service.inbound(endpoint.id, Thread::New, inbound).await
    }

    /// Drives the flow until it hands off, ends, or the caller hangs up.
    async fn ivr(
        &mut self,
        endpoint: &Endpoint,
        contact: ContactId,
        customer: Option<CustomerId>,
        flow_id: u64,
    ) -> Result<Ended, Gone> {
        let service = self.agent.service.clone();
        let ws = endpoint.workspace;
        let party = Party { workspace: ws, customer };
        let flow = match service.flow(ws, flow_id).await.and_then(|f| f.compile()) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "the number's flow does not run; straight to the queue");
                return Ok(Ended::Queued);
            }
        };
        let caller = self.invite.header("from").and_then(uri_user).unwrap_or_default().to_string();
        let mut step = match service.start_flow(party, &flow, BTreeMap::from([("phone".into(), caller)])).await {
            Ok(s) => s,
            Err(e) => return self.broken(e),
        };
        let mut keys: Option<String> = None;
        // Keys pressed ahead (during a prompt, after the one a menu took) answer the next question.
        let mut ahead = String::new();
        loop {
            if let Err(e) = service.bot_step(endpoint.id, contact, flow_id, keys.take(), step.clone()).await {
                return self.broken(e);
            }
            let mut early = std::mem::take(&mut ahead);
            let mut wait = Wait::Nothing;
            let mut outcome = None;
            for action in step.actions {
                match action {
                    Action::Say(text) => early += &self.say(&text).await?,
                    Action::Play { recording, text } => {
                        let prompt = self.recording(&recording, &text).await;
                        early += &self.play(prompt).await?;
                    }
                    Action::Ask { text, choices } if choices.iter().any(|c| c.key.is_some()) => {
                        let mut spoken = text;
                        for c in &choices {
                            if let Some(key) = &c.key {
                                spoken.push_str(&format!(" For {}, press {key}.", c.label));
                            }
                        }
                        early += &self.say(&spoken).await?;
                        wait = Wait::Key(choices);
                    }
                    // A free answer by phone: keys up to '#', there is no speech recognition.
                    Action::Ask { text, .. } => {
                        early += &self.say(&text).await?;
                        wait = Wait::Digits {
                            min: 1,
                            max: 32,
                            terminator: "#".into(),
                            timeout: self.agent.config.key_timeout,
                        };
                    }
                    Action::Collect { text, min, max, terminator, timeout } => {
                        early += &self.say(&text).await?;
                        wait = Wait::Digits { min, max, terminator, timeout };
                    }
                    // Recorded by the service with the step.
                    Action::Verified { .. } => {}
                    Action::HandOff { .. } => outcome = Some(Ended::Queued),
                    Action::End => outcome = Some(Ended::Contained),
                }
            }
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
            let input = match wait {
                Wait::Nothing if step.run.is_finished() => return Ok(Ended::Contained),
                Wait::Nothing => Input::Silence,
                Wait::Key(choices) => {
                    let mut early = early.chars();
                    let key = match early.next() {
                        Some(k) => Some(k),
                        None => self.key(self.agent.config.key_timeout).await?,
                    };
                    ahead = early.collect();
                    match key {
                        Some(k) => {
                            keys = Some(k.to_string());
                            let chosen = choices.iter().find(|c| c.key.as_deref() == Some(&*k.to_string()));
                            Input::Press(chosen.map_or_else(|| k.to_string(), |c| c.value.clone()))
                        }
                        None => Input::Silence,
                    }
                }
                Wait::Digits { min, max, terminator, timeout } => {
                    let digits = self.digits(early, max, &terminator, timeout).await?;
                    if digits.is_empty() {
                        Input::Silence
                    } else {
                        keys = Some(digits.clone());
                        // Too few digits are the flow's to judge (it counts a try).
                        let _ = min;
                        Input::Digits(digits)
                    }
                }
            };
            step = match service.step_flow(party, &flow, step.run, input).await {
                Ok(s) => s,
                Err(e) => return self.broken(e),
            };
        }
    }

    /// A flow that fails mid-call (the store is down, a hand-off the queue
    /// refuses): the caller hears goodbye rather than waiting for nothing.
    fn broken(&self, e: ServiceError) -> Result<Ended, Gone> {
        tracing::warn!(error = %e, "the IVR failed; the call ends");
        Ok(Ended::Failed)
    }

    /// Where the contact stands after its hand-off (an after-hours queue
    /// sends the caller to voicemail at once); waiting, when that cannot be read.
    async fn in_line(&self, ws: WorkspaceId, contact: ContactId) -> InLine {
        self.agent.service.in_line(ws, contact).await.unwrap_or_else(|e| {
            tracing::warn!(contact = contact.0, error = %e, "where the caller stands in line is unknown");
            InLine::Waiting
        })
    }

    /// Queued: the waiting prompt and hold music, with the place in line
    /// announced as often as the queue says; an offer to an agent with a
    /// registered phone rings it, its answer accepts the offer and bridges
    /// the call until one side hangs up. Says who ended it, and whether the
    /// caller, still on the line after the agent hung up, is to be surveyed;
    /// or that the caller is to leave a voicemail (the queue's voicemail key,
    /// or its overflow), or that the queue let go of them.
    async fn wait_for_agent(&mut self, ws: WorkspaceId, contact: ContactId) -> Waited {
        // The waiting prompt, then the music (each `PromptDone` starts it again); an offer may ring meanwhile.
        self.place.enter(CallStage::Queued);
        // What the queue asks for, read again at each announcement and at the answer (a transfer changes the queue).
        let mut care = self.care(ws, contact).await;
        let waiting = self.speech(&callback::waiting_prompt(WAITING, care.callback_key)).await;
        // Where each side is in the music: the caller's while waiting or held, the agent's while they hold.
        let mut caller_music = MusicOnHold::default();
        let mut agent_music = MusicOnHold::default();
        if let Some((session, _)) = &self.media {
            session.play(waiting);
        }
        let caller =
            self.invite.header("from").and_then(|f| display_name(f).or_else(|| uri_user(f).map(str::to_string)));
        let caller = caller.unwrap_or_else(|| "caller".into());
        // The phone being rung (or talking) and its agent; the agent leg's media once answered.
        let mut leg: Option<(UserId, Leg)> = None;
        let mut bridge: Option<(MediaSession, mpsc::Receiver<MediaEvent>)> = None;
        // Once bridged: the recording and its 20 ms clock.
        let mut recording: Option<(Recording, tokio::time::Interval)> = None;
        // The agent who accepted the offer (on the desktop while their phone rang, say): their phone's answer needs no accept.
        let mut accepted: Option<UserId> = None;
        let mut next_announcement = care.announce_every.map(|every| Instant::now() + every);
        let mut survey = false;
        // The agent holds the call: the caller hears the music, neither side hears the other.
        let mut held = false;
        // Paused from the desktop; a pause that comes before the recording starts holds for it.
        let mut paused = false;
        // The agent muted themselves: the caller does not hear them, nor does the recording.
        let mut muted = false;
        let by = loop {
            let wake = match self.deferred.pop_front() {
                Some(e) => Wake::Caller(Some(e)),
                None => {
                    // No announcement once the caller talks to an agent.
                    let announce_at = next_announcement.filter(|_| bridge.is_none());
                    let Call { media, events, .. } = self;
                    let Some((_, caller_media)) = media else { break Waited::by("customer") };
                    tokio::select! {
                        e = events.recv() => Wake::Caller(e),
                        m = caller_media.recv() => Wake::CallerMedia(m),
                        e = async { match &mut leg { Some((_, l)) => l.events.recv().await, None => std::future::pending().await } } => Wake::Leg(e),
                        m = async { match &mut bridge { Some((_, rx)) => rx.recv().await, None => std::future::pending().await } } => Wake::AgentMedia(m),
                        () = async { match &mut recording { Some((_, clock)) => { clock.tick().await; } None => std::future::pending().await } } => Wake::Record,
                        () = async { match announce_at { Some(at) => sleep_until(at).await, None => std::future::pending().await } } => Wake::Announce,
                    }
                }
            };
            match wake {
                Wake::Caller(None | Some(CallEvent::Bye | CallEvent::Cancel)) | Wake::CallerMedia(None) => {
                    break Waited::by("customer");
                }
                Wake::Caller(Some(CallEvent::PauseRecording(pause))) => {
                    tracing::info!(contact = contact.0, pause, "the agent paused or resumed the recording");
                    paused = pause;
                    if let Some((r, _)) = &mut recording {
                        r.pause(pause);
                    }
                }
                Wake::Caller(Some(CallEvent::Overflowed)) => match self.in_line(ws, contact).await {
                    InLine::Waiting => {}
                    InLine::Voicemail => break Waited::Voicemail,
                    InLine::Ended => break Waited::LetGo,
                },
                Wake::CallerMedia(Some(MediaEvent::Digit(d))) | Wake::Caller(Some(CallEvent::Digit(d)))
                    if bridge.is_none() && leg.is_none() && care.voicemail_key == Some(d.as_char()) =>
                {
                    match self.agent.service.leave_for_voicemail(ws, contact).await {
                        Ok(()) => break Waited::Voicemail,
                        // An offer came first: the caller stays for the agent.
                        Err(e) => tracing::info!(contact = contact.0, error = %e, "no voicemail for this caller now"),
                    }
                }
                Wake::CallerMedia(Some(MediaEvent::Digit(d))) | Wake::Caller(Some(CallEvent::Digit(d)))
                    if bridge.is_none() && leg.is_none() && care.callback_key == Some(d.as_char()) =>
                {
                    break Waited::Callback;
                }
                Wake::Caller(Some(CallEvent::Reinvite(m, from))) => {
                    let settled = self.reinvite(&m, from).await;
                    // The caller holds (or resumes) while talking to an agent: counted as hold, as the agent's.
                    if let Some(settled) = settled.filter(|s| s.changed && bridge.is_some())
                        && let Err(e) = self.agent.service.caller_hold(ws, contact, !settled.direction.sends()).await
                    {
                        tracing::warn!(contact = contact.0, error = %e, "the caller's hold was not recorded");
                    }
                }
                Wake::Caller(Some(CallEvent::Ack(_) | CallEvent::Response(_))) => {}
                Wake::Caller(Some(CallEvent::Offered(user))) => {
                    if leg.is_some() {
                        continue;
                    }
                    match self.agent.registrar.binding(ws, user) {
                        Some(binding) => {
                            tracing::info!(contact = contact.0, user = user.0, "ringing the agent's phone");
                            leg = Some((user, Leg::start(self.agent.clone(), binding, caller.clone())));
                        }
                        // The offer stays for the desktop, where the agent can accept it (with no audio).
                        None => tracing::info!(contact = contact.0, user = user.0, "the agent has no registered phone"),
                    }
                }
                Wake::Caller(Some(CallEvent::OfferGone(user))) => {
                    // Dropping the leg sends CANCEL: the phone stops ringing.
                    if bridge.is_none() && leg.as_ref().is_some_and(|(u, _)| *u == user) {
                        leg = None;
                    }
                }
                Wake::Caller(Some(CallEvent::Accepted(user))) => accepted = Some(user),
                Wake::Caller(Some(CallEvent::Held(on))) => {
                    if let (Some((agent_session, _)), Some((session, _))) = (&bridge, &self.media)
                        && on != held
                    {
                        held = on;
                        tracing::info!(contact = contact.0, held, "the call was held or resumed");
                        // Live frames stop coming while held, so the music takes their place on both
                        // sides (the agent knows the caller still waits); resumed, they do again.
                        for (music, session) in [(&mut caller_music, session), (&mut agent_music, agent_session)] {
                            if held {
                                music.play(session);
                            } else {
                                music.pause();
                                session.hush();
                            }
                        }
                    }
                }
                Wake::Caller(Some(CallEvent::Muted(on))) => {
                    if bridge.is_some() {
                        tracing::info!(contact = contact.0, muted = on, "the agent muted or unmuted");
                        muted = on;
                    }
                }
                // Handed on: the agent's phone is let go (our BYE), the caller waits with the music
                // and announcements again, and the next agent's offer rings their phone.
                Wake::Caller(Some(CallEvent::Transferred)) => {
                    if let Some((agent_session, _)) = bridge.take() {
                        tracing::info!(contact = contact.0, "the call was transferred; back in line");
                        leg = None;
                        agent_session.stop().await;
                        (held, muted, accepted) = (false, false, None);
                        care = self.care(ws, contact).await;
                        next_announcement = care.announce_every.map(|every| Instant::now() + every);
                        self.place.enter(CallStage::Queued);
                        if let Some((session, _)) = &self.media {
                            caller_music.play(session);
                        }
                    }
                }
                // Ended on the desktop: our BYE to both, or the survey for the caller.
                Wake::Caller(Some(CallEvent::ContactEnded)) => {
                    survey = bridge.is_some() && care.survey;
                    if !survey {
                        self.bye().await;
                    }
                    break Waited::by("agent");
                }
                Wake::Leg(Some(LegEvent::Ringing)) => {}
                // The agent's phone transfers the call (its REFER): told how it went; done, the
                // call is let go at once, before the phone's own BYE can read as a hang-up.
                Wake::Leg(Some(LegEvent::Refer(to))) => {
                    if let (Some((user, l)), Some(_)) = (&leg, &bridge) {
                        let status = self.refer(ws, contact, *user, &to).await;
                        l.transfer_outcome(status);
                        if status == 200 {
                            self.deferred.push_front(CallEvent::Transferred);
                        }
                    }
                }
                // The agent's phone held or resumed: recorded through the service, whose event holds the caller.
                Wake::Leg(Some(LegEvent::Direction(direction))) => {
                    if let (Some((agent_session, _)), Some((user, _))) = (&bridge, &leg) {
                        agent_session.set_direction(direction);
                        let on = !direction.sends();
                        if let Err(e) = self.agent.service.phone_hold(ws, contact, *user, on).await {
                            tracing::warn!(contact = contact.0, error = %e, "the phone's hold was not recorded");
                        }
                    }
                }
                Wake::Leg(Some(LegEvent::Answered(session, rx))) => {
                    let Some((user, _)) = &leg else { continue };
                    let taken = match accepted {
                        Some(a) if a == *user => Ok(()),
                        _ => self.agent.service.accept_offer_for(ws, contact, *user).await,
                    };
                    match taken {
                        Ok(()) => {
                            if let Some((caller_session, _)) = &self.media {
                                caller_music.pause();
                                caller_session.hush();
                            }
                            care = self.care(ws, contact).await;
                            bridge = Some((session, rx));
                            self.place.enter(CallStage::Bridged);
                            // After a transfer the recording goes on: one file for the whole call.
                            if care.record && recording.is_none() {
                                match Recording::call(&self.agent.config.data_dir, ws, contact) {
                                    Ok(mut r) => {
                                        r.pause(paused);
                                        recording = Some((r, tokio::time::interval(crate::session::PTIME)));
                                    }
                                    Err(e) => {
                                        tracing::warn!(contact = contact.0, error = %e, "the call is not recorded")
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            tracing::info!(error = %e, "the phone answered an offer that is gone; hanging it up");
                            leg = None;
                            session.stop().await;
                        }
                    }
                }
                Wake::Leg(Some(LegEvent::Refused(status))) => {
                    if let Some((user, _)) = leg.take() {
                        tracing::info!(
                            contact = contact.0,
                            user = user.0,
                            status,
                            "the agent's phone refused the call"
                        );
                        // Declined: routing offers it elsewhere. The offer may have ended meanwhile.
                        let _ = self.agent.service.decline_offer_for(ws, contact, user).await;
                    }
                }
                Wake::Leg(Some(LegEvent::Ended)) => {
                    if bridge.is_some() {
                        survey = care.survey;
                        if !survey {
                            self.bye().await;
                        }
                        break Waited::by("agent");
                    }
                    leg = None;
                }
                Wake::Leg(None) => leg = None,
                Wake::CallerMedia(Some(MediaEvent::Audio(frame))) => {
                    if let Some((r, _)) = &mut recording {
                        r.caller(&frame);
                    }
                    if let Some((agent_session, _)) = bridge.as_ref().filter(|_| !held) {
                        agent_session.feed(frame);
                    }
                }
                Wake::CallerMedia(Some(MediaEvent::PromptDone)) => {
                    if (bridge.is_none() || held)
                        && let Some((session, _)) = &self.media
                    {
                        caller_music.prompt_done(session);
                    }
                }
                // The caller's keys (by RFC 4733 or INFO) reach the agent's phone once bridged.
                Wake::CallerMedia(Some(MediaEvent::Digit(d))) | Wake::Caller(Some(CallEvent::Digit(d))) => {
                    if let Some((agent_session, _)) = bridge.as_ref().filter(|_| !held) {
                        agent_session.send_digits(&d.as_char().to_string());
                    }
                }
                Wake::CallerMedia(Some(_)) => {}
                // Muted, the agent's audio goes nowhere: their side of the recording is silence.
                Wake::AgentMedia(Some(MediaEvent::Audio(_))) if muted => {}
                Wake::AgentMedia(Some(MediaEvent::Audio(frame))) => {
                    if let Some((r, _)) = &mut recording {
                        r.agent(&frame);
                    }
                    if let Some((caller_session, _)) = self.media.as_ref().filter(|_| !held) {
                        caller_session.feed(frame);
                    }
                }
                Wake::AgentMedia(Some(MediaEvent::PromptDone)) => {
                    if let Some((agent_session, _)) = bridge.as_ref().filter(|_| held) {
                        agent_music.prompt_done(agent_session);
                    }
                }
                Wake::AgentMedia(Some(_)) => {}
                // The agent leg's media loop is gone (it never stops while held): end the call rather than spin.
                Wake::AgentMedia(None) => {
                    tracing::warn!(contact = contact.0, "the agent leg's media stopped");
                    self.bye().await;
                    break Waited::by("system");
                }
                Wake::Announce => {
                    care = self.care(ws, contact).await;
                    next_announcement = care.announce_every.map(|every| Instant::now() + every);
                    // Only while waiting in line: not while a phone rings for the caller.
                    match self.agent.service.place_in_line(ws, contact).await {
                        Ok(Some(place)) if leg.is_none() => {
                            tracing::debug!(
                                contact = contact.0,
                                position = place.position,
                                "announcing the place in line"
                            );
                            let prompt = self.announcement(place).await;
                            if let Some((session, _)) = &self.media {
                                caller_music.pause();
                                session.play(prompt);
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(contact = contact.0, error = %e, "no place in line to announce"),
                    }
                }
                Wake::Record => {
                    if let Some((r, _)) = &mut recording
                        && let Err(e) = r.tick()
                    {
                        tracing::warn!(contact = contact.0, error = %e, "recording stopped");
                        recording = None;
                    }
                }
            }
        };
        // Dropping the leg hangs it up: CANCEL while ringing, BYE once answered.
        drop(leg);
        if let Some((session, _)) = bridge {
            session.stop().await;
        }
        if let Some((r, _)) = recording {
            r.save(&self.agent.service, ws, contact).await;
        }
        match by {
            Waited::Ended { by, .. } => Waited::Ended { by, survey },
            other => other,
        }
    }

    /// What the contact's queue asks for (nothing, if it cannot be read).
    async fn care(&self, ws: WorkspaceId, contact: ContactId) -> CallerCare {
        self.agent.service.caller_care(ws, contact).await.unwrap_or_else(|e| {
            tracing::warn!(contact = contact.0, error = %e, "the queue's announcements and survey are off for this call");
            CallerCare::default()
        })
    }

    /// "You are number 3 in line…", said from cached pieces.
    async fn announcement(&self, place: PlaceInLine) -> Prompt {
        let mut parts = Vec::new();
        for piece in crate::announce::pieces(place) {
            parts.push(self.speech(&piece).await);
        }
        Prompt::join(&parts)
    }

    /// The post-call survey: the agent hung up, the caller stayed. A key
    /// from 1 to 5 is the contact's CSAT, as a chat's rating; anything
    /// else, silence or the caller hanging up records nothing.
    async fn survey(&mut self, ws: WorkspaceId, contact: ContactId) {
        self.place.enter(CallStage::Ivr);
        let Ok(early) = self.say(SURVEY).await else { return };
        let key = match early.chars().next() {
            Some(k) => Some(k),
            None => match self.key(SURVEY_WAIT).await {
                Ok(k) => k,
                Err(Gone) => return,
            },
        };
        let score = key.and_then(|k| k.to_digit(10)).filter(|d| (1..=5).contains(d));
        let Some(score) = score else {
            self.hang_up().await;
            return;
        };
        match self.agent.service.rate(ws, contact, score as u8, None).await {
            Ok(()) => {
                if self.say(SURVEY_THANKS).await.is_ok() {
                    self.bye().await;
                }
            }
            Err(e) => {
                tracing::warn!(contact = contact.0, error = %e, "the call's rating was not stored");
                self.hang_up().await;
            }
        }
    }

    /// A re-INVITE from the caller: a hold (`sendonly`, `inactive`) is
    /// answered `recvonly` or `inactive` and we stop sending to them; a
    /// resume (`sendrecv`) starts it again; a refresh keeps the session. An
    /// offer we cannot take is 488 and the session stays as it was.
    async fn reinvite(&mut self, m: &Message, from: Peer) -> Option<Settled> {
        let settled = self.session.as_mut().and_then(|s| s.answer(&m.body));
        let Some(settled) = settled else {
            let bytes = response(m, from.addr, 488, phrase(488), Some(&self.to_tag), &[], b"");
            self.agent.send(&bytes, from).await;
            return None;
        };
        if settled.changed
            && let Some((session, _)) = &self.media
        {
            tracing::info!(call_id = self.invite.call_id(), direction = ?settled.direction, "the caller changed the call's direction");
            session.set_direction(settled.direction);
        }
        let ok = self.ok_with_answer(m);
        self.agent.send(&ok, from).await;
        Some(settled)
    }

    /// Goodbye and our BYE: the flow ended the call.
    async fn hang_up(&mut self) {
        if self.say(GOODBYE).await.is_ok() {
            self.bye().await;
        }
    }

    /// Our BYE to the caller, resent until answered (over UDP; over TCP it is sent once and awaited as long).
    async fn bye(&mut self) {
        let from = self.invite.header("to").unwrap_or_default();
        let to = self.invite.header("from").unwrap_or_default();
        let target = self.invite.header("contact").map(addr_uri).unwrap_or_else(|| addr_uri(to)).to_string();
        let cseq = self.invite.cseq().map_or(1, |(n, _)| n.saturating_add(1));
        let bye = format!(
            "BYE {target} SIP/2.0\r\nVia: SIP/2.0/{} {};branch=z9hG4bK{};rport\r\nMax-Forwards: 70\r\nFrom: {from};tag={}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} BYE\r\nContent-Length: 0\r\n\r\n",
            self.peer.transport.via_name(),
            self.agent.local,
            crate::random_token(),
            self.to_tag,
            self.invite.call_id(),
        );
        let mut wait = T1;
        for attempt in 0..6 {
            if attempt == 0 || self.peer.transport == Transport::Udp {
                self.agent.send(bye.as_bytes(), self.peer).await;
            }
            let until = Instant::now() + wait;
            loop {
                tokio::select! {
                    _ = sleep_until(until) => break,
                    e = self.events.recv() => match e {
                        Some(CallEvent::Response(s)) if s >= 200 => return,
                        None | Some(CallEvent::Bye) => return,
                        Some(_) => {}
                    },
                }
            }
            wait = (wait * 2).min(T2);
        }
    }

    async fn say(&mut self, text: &str) -> Result<String, Gone> {
        let prompt = self.speech(text).await;
        self.play(prompt).await
    }

    async fn speech(&self, text: &str) -> Prompt {
        self.agent.speech(text).await
    }

    /// `prompts/NAME` (or NAME.wav) from the data directory; its transcript spoken when missing.
    async fn recording(&self, name: &str, text: &str) -> Prompt {
        let safe = !name.is_empty()
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let dir = self.agent.config.data_dir.join("prompts");
        if safe {
            for path in [dir.join(name), dir.join(format!("{name}.wav"))] {
                if let Ok(bytes) = tokio::fs::read(&path).await {
                    match self.agent.prompts.wav(&bytes).await {
                        Ok(p) => return p,
                        Err(e) => tracing::warn!(path = %path.display(), error = %e, "recording unusable"),
                    }
                }
            }
        }
        tracing::warn!(recording = name, "recording missing from {}; speaking its transcript", dir.display());
        self.speech(text).await
    }

    /// Plays a prompt to its end; answers the keys pressed meanwhile.
    async fn play(&mut self, prompt: Prompt) -> Result<String, Gone> {
        let Some((session, _)) = &self.media else { return Err(Gone) };
        session.play(prompt);
        let mut keys = String::new();
        loop {
            match self.next(None).await? {
                Heard::Key(k) => keys.push(k),
                Heard::PromptDone => return Ok(keys),
                Heard::Timeout => {}
            }
        }
    }

    /// One key within `timeout`, `None` when none came.
    async fn key(&mut self, timeout: Duration) -> Result<Option<char>, Gone> {
        let until = Instant::now() + timeout;
        loop {
            match self.next(Some(until)).await? {
                Heard::Key(k) => return Ok(Some(k)),
                Heard::Timeout => return Ok(None),
                Heard::PromptDone => {}
            }
        }
    }

    /// Keys up to `max`, the terminator (not kept) or `timeout` after the last key.
    async fn digits(&mut self, mut got: String, max: u8, terminator: &str, timeout: Duration) -> Result<String, Gone> {
        loop {
            if let Some(end) = terminator.chars().next().and_then(|t| got.find(t)) {
                got.truncate(end);
                return Ok(got);
            }
            if got.chars().count() >= usize::from(max.max(1)) {
                return Ok(got.chars().take(usize::from(max.max(1))).collect());
            }
            match self.key(timeout).await? {
                Some(k) => got.push(k),
                None => return Ok(got),
            }
        }
    }

    /// The next thing from the caller: a key, the prompt's end, or the
    /// deadline; signalling (BYE, CANCEL, a re-INVITE) is handled on the way.
    async fn next(&mut self, until: Option<Instant>) -> Result<Heard, Gone> {
        let deadline = sleep_until(until.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400)));
        tokio::pin!(deadline);
        loop {
            let Some((_, media)) = &mut self.media else { return Err(Gone) };
            let event = tokio::select! {
                _ = &mut deadline => return Ok(Heard::Timeout),
                m = media.recv() => match m {
                    Some(MediaEvent::PromptDone) => return Ok(Heard::PromptDone),
                    Some(MediaEvent::Digit(d)) => return Ok(Heard::Key(d.as_char())),
                    Some(_) => continue,
                    None => return Err(Gone),
                },
                e = self.events.recv() => e,
            };
            match event {
                Some(CallEvent::Bye | CallEvent::Cancel) | None => return Err(Gone),
                Some(CallEvent::Reinvite(m, from)) => {
                    self.reinvite(&m, from).await;
                }
                Some(CallEvent::Digit(d)) => return Ok(Heard::Key(d.as_char())),
                Some(CallEvent::Ack(_) | CallEvent::Response(_)) => {}
                // For the queue's loop, once the prompt is over.
                Some(
                    e @ (CallEvent::Offered(_)
                    | CallEvent::OfferGone(_)
                    | CallEvent::Accepted(_)
                    | CallEvent::ContactEnded
                    | CallEvent::Held(_)
                    | CallEvent::Overflowed
                    | CallEvent::PauseRecording(_)
                    | CallEvent::Muted(_)
                    | CallEvent::Transferred),
                ) => self.deferred.push_back(e),
            }
        }
    }
}

/// How waiting in line ended.
enum Waited {
    /// The conversation ends: who ended it, and whether the caller is surveyed.
    Ended { by: &'static str, survey: bool },
    /// The caller leaves a voicemail.
    Voicemail,
    /// The queue turned the caller away (an overflow that disconnects).
    LetGo,
    /// The caller pressed the queue's callback key.
    Callback,
}

impl Waited {
    fn by(by: &'static str) -> Waited {
        Waited::Ended { by, survey: false }
    }
}

enum Heard {
    Key(char),
    PromptDone,
    Timeout,
}

/// How the IVR part of a call ended.
enum Ended {
    /// Handed to a queue: the caller waits.
    Queued,
    /// The flow ended it: goodbye.
    Contained,
    /// The IVR could not go on: goodbye, and the conversation ends.
    Failed,
}

/// What the caller is asked for after the prompts.
enum Wait {
    Nothing,
    Key(Vec<Choice>),
    Digits { min: u8, max: u8, terminator: String, timeout: Duration },
}

/// A moment of silence, for a prompt that could not be made.
pub(crate) fn silence() -> Prompt {
    Prompt::from_samples(vec![0; 1600])
}

/// A caller's number in E.164, when it is one: `+15550100`, or digits
/// taken as already international (`15550100` gives `+15550100`).
fn e164(user: &str) -> Option<String> {
    let digits = user.strip_prefix('+').unwrap_or(user);
    ((7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{digits}"))
}

pub(crate) fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the OS random source works");
    u32::from_be_bytes(b)
}
