//! Calling customers back, agent first (as Amazon Connect does): when a
//! courtesy callback (a contact with a `callback_number`, no caller on the
//! line) is offered to an agent with a registered phone, the phone rings
//! showing "Callback" and the number; the agent's answer accepts the offer,
//! the agent hears "Calling back 5 5 5 …", and the customer is dialled
//! through the trunk of the number they had called ([`crate::outbound`]),
//! presenting that number (or the trunk's `caller_id`).
//!
//! The customer's answer is a `callback_attempted` event `answered`, and the
//! two legs are bridged and recorded as an inbound call is (hold from the
//! desktop or the phone, recording pause, keys passed on), until either
//! hangs up or the agent ends the contact on the desktop. Busy, no answer
//! within [`crate::VoiceConfig::callback_ring`], or a failure is an
//! attempt with that outcome: the agent hears what happened and whether it
//! will be tried again, and is hung up on; the service frees the agent and
//! schedules the next attempt or ends the contact.

use crate::agent::Agent;
use crate::call::CallEvent;
use crate::call::callback::spoken_number;
use crate::hold::hold_music;
use crate::leg::{Leg, LegEvent, Target};
use crate::recording::Recording;
use crate::session::{MediaEvent, MediaSession, PTIME};
use std::sync::Arc;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, UserId, WorkspaceId};
use switchboard_service::conversation::{AfterAttempt, CallbackCall, CallbackOutcome};
use switchboard_service::metrics::CallStage;
use tokio::sync::mpsc;

/// One attempt, for an offer of `contact` to `user` that no call of ours
/// follows: the agent's phone, the whisper, the customer, the talk (nothing,
/// when the contact is not a callback).
pub(crate) async fn attempt(agent: Arc<Agent>, ws: WorkspaceId, contact: ContactId, user: UserId) {
    let call = match agent.service.callback_call(ws, contact).await {
        Ok(Some(call)) => call,
        Ok(None) => return,
        Err(e) => return tracing::warn!(contact = contact.0, error = %e, "the callback cannot be read"),
    };
    let Some(binding) = agent.registrar.binding(ws, user) else {
        // The offer stays on the desktop; with no phone there is nothing to call from.
        return tracing::info!(
            contact = contact.0,
            user = user.0,
            "the agent has no registered phone for the callback"
        );
    };
    let (tx, news) = mpsc::unbounded_channel();
    {
        let mut contacts = agent.contacts.lock().expect("contacts lock");
        if contacts.contains_key(&contact) {
            return;
        }
        contacts.insert(contact, tx);
    }
    let display = format!("Callback {}", call.number);
    let leg = Leg::call(agent.clone(), Target::phone(&agent, &binding, &display, &call.number));
    let mut attempt =
        Attempt { agent: agent.clone(), ws, contact, user, call, news, place: agent.service.observed().calls().call() };
    attempt.run(leg).await;
    agent.contacts.lock().expect("contacts lock").remove(&contact);
}

struct Attempt {
    agent: Arc<Agent>,
    ws: WorkspaceId,
    contact: ContactId,
    user: UserId,
    call: CallbackCall,
    /// The contact's events, from the voice channel's follower.
    news: mpsc::UnboundedReceiver<CallEvent>,
    place: switchboard_service::metrics::CallPlace,
}

/// What woke an attempt.
enum Woke {
    News(Option<CallEvent>),
    Agent(Option<LegEvent>),
    AgentMedia(Option<MediaEvent>),
    Customer(Option<LegEvent>),
    CustomerMedia(Option<MediaEvent>),
    Record,
}

impl Attempt {
    async fn run(&mut self, mut agent_leg: Leg) {
        let (ws, contact) = (self.ws, self.contact);
        // 1. The agent's phone rings; their answer takes the offer.
        let mut accepted = false;
        let (agent_session, mut agent_media) = loop {
            let woke = tokio::select! {
                e = self.news.recv() => Woke::News(e),
                e = agent_leg.events.recv() => Woke::Agent(e),
            };
            match woke {
                Woke::News(Some(CallEvent::Accepted(u))) if u == self.user => accepted = true,
                Woke::News(Some(CallEvent::OfferGone(u))) if u == self.user && !accepted => return,
                Woke::News(None | Some(CallEvent::ContactEnded)) => return,
                Woke::Agent(Some(LegEvent::Answered(session, rx))) => {
                    if !accepted && let Err(e) = self.agent.service.accept_offer_for(ws, contact, self.user).await {
                        tracing::info!(contact = contact.0, error = %e, "the phone answered a callback offer that is gone");
                        session.stop().await;
                        return;
                    }
                    break (session, rx);
                }
                Woke::Agent(Some(LegEvent::Refused(status))) => {
                    tracing::info!(contact = contact.0, status, "the agent's phone refused the callback");
                    let _ = self.agent.service.decline_offer_for(ws, contact, self.user).await;
                    return;
                }
                Woke::Agent(None | Some(LegEvent::Ended)) => return,
                _ => {}
            }
        };
        // 2. The whisper, then the customer is dialled.
        let whisper = format!("Calling back {}.", spoken_number(&self.call.number));
        agent_session.play(self.agent.speech(&whisper).await);
        loop {
            match agent_media.recv().await {
                Some(MediaEvent::PromptDone) => break,
                Some(_) => {}
                None => break,
            }
        }
        let customer_leg = match self.dial().await {
            Ok(leg) => leg,
            Err(e) => {
                tracing::warn!(contact = contact.0, error = %e, "the callback cannot be dialled");
                self.failed(CallbackOutcome::Failed, &agent_session, &mut agent_media).await;
                agent_session.stop().await;
                return;
            }
        };
        self.talk(agent_leg, agent_session, agent_media, customer_leg).await;
    }

    /// Dials the customer through the trunk of the number they had called.
    async fn dial(&self) -> Result<Leg, String> {
        let dialled = self.call.dialled.clone().ok_or("the contact has no dialled number to call back from")?;
        let endpoint = self
            .agent
            .service
            .endpoint_at(Channel::Voice, &dialled)
            .await
            .map_err(|e| e.to_string())?
            .filter(|e| e.workspace == self.ws)
            .ok_or_else(|| format!("no voice number {dialled} to call back through"))?;
        let trunk = self.agent.service.trunk(endpoint.id).await.map_err(|e| e.to_string())?;
        let caller_id = trunk.caller_id.clone().unwrap_or(dialled);
        let ring = self.agent.config.callback_ring;
        crate::outbound::dial(self.agent.clone(), &trunk, &self.call.number, &caller_id, ring)
            .await
            .map_err(|e| e.to_string())
    }

    /// Records a failed attempt and tells the agent what follows.
    async fn failed(&self, outcome: CallbackOutcome, session: &MediaSession, media: &mut mpsc::Receiver<MediaEvent>) {
        let after = self.agent.service.callback_attempted(self.ws, self.contact, self.user, outcome).await;
        let what = match outcome {
            CallbackOutcome::Busy => "The line is busy.",
            CallbackOutcome::NoAnswer => "There is no answer.",
            _ => "The call could not be made.",
        };
        let next = match after {
            Ok(AfterAttempt::Retry(_)) => "The callback will be tried again later.",
            Ok(_) => "That was the last attempt.",
            Err(e) => {
                tracing::warn!(contact = self.contact.0, error = %e, "the callback attempt was not recorded");
                ""
            }
        };
        tracing::info!(contact = self.contact.0, ?outcome, "callback attempt failed");
        session.play(self.agent.speech(&format!("{what} {next} Goodbye.")).await);
        while let Some(e) = media.recv().await {
            if matches!(e, MediaEvent::PromptDone) {
                break;
            }
        }
    }

    /// The customer's phone rings; answered, the two talk until either hangs up.
    async fn talk(
        &mut self,
        agent_leg: Leg,
        agent_session: MediaSession,
        mut agent_media: mpsc::Receiver<MediaEvent>,
        customer_leg: Leg,
    ) {
        let (ws, contact) = (self.ws, self.contact);
        let mut agent_leg = Some(agent_leg);
        let mut customer_leg = Some(customer_leg);
        let mut customer: Option<(MediaSession, mpsc::Receiver<MediaEvent>)> = None;
        let mut recording: Option<(Recording, tokio::time::Interval)> = None;
        let (mut held, mut paused) = (false, false);
        let music = hold_music();
        let care = self.agent.service.caller_care(ws, contact).await.unwrap_or_default();
        let by: Option<&str> = loop {
            let woke = tokio::select! {
                e = self.news.recv() => Woke::News(e),
                e = next_leg(&mut agent_leg) => Woke::Agent(e),
                m = agent_media.recv() => Woke::AgentMedia(m),
                e = next_leg(&mut customer_leg) => Woke::Customer(e),
                m = async { match &mut customer { Some((_, rx)) => rx.recv().await, None => std::future::pending().await } } => Woke::CustomerMedia(m),
                () = async { match &mut recording { Some((_, clock)) => { clock.tick().await; } None => std::future::pending().await } } => Woke::Record,
            };
            match woke {
                Woke::News(None | Some(CallEvent::ContactEnded)) => break None,
                Woke::News(Some(CallEvent::Held(on))) if customer.is_some() && on != held => {
                    held = on;
                    if let Some((session, _)) = &customer {
                        if held { session.play(music.clone()) } else { session.hush() }
                    }
                }
                Woke::News(Some(CallEvent::PauseRecording(pause))) => {
                    paused = pause;
                    if let Some((r, _)) = &mut recording {
                        r.pause(pause);
                    }
                }
                Woke::News(Some(_)) => {}
                Woke::Customer(Some(LegEvent::Answered(session, rx))) => {
                    if let Err(e) =
                        self.agent.service.callback_attempted(ws, contact, self.user, CallbackOutcome::Answered).await
                    {
                        tracing::warn!(contact = contact.0, error = %e, "the answered callback was not recorded");
                    }
                    tracing::info!(contact = contact.0, "the customer answered the callback");
                    agent_session.hush();
                    self.place.enter(CallStage::Bridged);
                    if care.record {
                        match Recording::call(&self.agent.config.data_dir, ws, contact) {
                            Ok(mut r) => {
                                r.pause(paused);
                                recording = Some((r, tokio::time::interval(PTIME)));
                            }
                            Err(e) => tracing::warn!(contact = contact.0, error = %e, "the callback is not recorded"),
                        }
                    }
                    customer = Some((session, rx));
                }
                Woke::Customer(Some(LegEvent::Refused(status))) => {
                    customer_leg = None;
                    self.failed(CallbackOutcome::of_status(status), &agent_session, &mut agent_media).await;
                    break None;
                }
                Woke::Customer(Some(LegEvent::Ended)) => break Some("customer"),
                Woke::Customer(Some(LegEvent::Direction(d))) => {
                    if let Some((session, _)) = &customer {
                        session.set_direction(d);
                    }
                }
                Woke::Customer(Some(LegEvent::Ringing))
                | Woke::Agent(Some(LegEvent::Ringing | LegEvent::Answered(..) | LegEvent::Refused(_))) => {}
                Woke::Customer(None) => customer_leg = None,
                // A callback is not transferred (its agent chose to make it): the REFER's NOTIFY says
                // so, and the call goes on as it was.
                Woke::Agent(Some(LegEvent::Refer(_))) => {
                    if let Some(leg) = &agent_leg {
                        leg.transfer_outcome(501);
                    }
                }
                Woke::Customer(Some(LegEvent::Refer(_))) => {
                    if let Some(leg) = &customer_leg {
                        leg.transfer_outcome(403);
                    }
                }
                Woke::Agent(Some(LegEvent::Direction(d))) => {
                    agent_session.set_direction(d);
                    if let Err(e) = self.agent.service.phone_hold(ws, contact, self.user, !d.sends()).await {
                        tracing::warn!(contact = contact.0, error = %e, "the phone's hold was not recorded");
                    }
                }
                Woke::Agent(None | Some(LegEvent::Ended)) => {
                    agent_leg = None;
                    if customer.is_none() {
                        // The agent gave up before the customer answered: an attempt that failed.
                        customer_leg = None;
                        if let Err(e) =
                            self.agent.service.callback_attempted(ws, contact, self.user, CallbackOutcome::Failed).await
                        {
                            tracing::warn!(contact = contact.0, error = %e, "the abandoned attempt was not recorded");
                        }
                        break None;
                    }
                    break Some("agent");
                }
                Woke::AgentMedia(Some(MediaEvent::Audio(frame))) => {
                    if let Some((r, _)) = &mut recording {
                        r.agent(&frame);
                    }
                    if let Some((session, _)) = customer.as_ref().filter(|_| !held) {
                        session.feed(frame);
                    }
                }
                Woke::AgentMedia(Some(MediaEvent::Digit(d))) => {
                    if let Some((session, _)) = customer.as_ref().filter(|_| !held) {
                        session.send_digits(&d.as_char().to_string());
                    }
                }
                Woke::CustomerMedia(Some(MediaEvent::Audio(frame))) => {
                    if let Some((r, _)) = &mut recording {
                        r.caller(&frame);
                    }
                    if !held {
                        agent_session.feed(frame);
                    }
                }
                Woke::CustomerMedia(Some(MediaEvent::PromptDone)) => {
                    if held && let Some((session, _)) = &customer {
                        session.play(music.clone());
                    }
                }
                Woke::CustomerMedia(Some(_)) | Woke::AgentMedia(Some(_)) => {}
                Woke::AgentMedia(None) | Woke::CustomerMedia(None) => {
                    tracing::warn!(contact = contact.0, "a callback leg's media stopped");
                    break Some("system");
                }
                Woke::Record => {
                    if let Some((r, _)) = &mut recording
                        && let Err(e) = r.tick()
                    {
                        tracing::warn!(contact = contact.0, error = %e, "recording stopped");
                        recording = None;
                    }
                }
            }
        };
        // Dropping a leg hangs it up: CANCEL while ringing, BYE once answered.
        drop((agent_leg, customer_leg));
        agent_session.stop().await;
        if let Some((session, _)) = customer {
            session.stop().await;
        }
        if let Some((r, _)) = recording {
            r.save(&self.agent.service, ws, contact).await;
        }
        if let Some(by) = by
            && let Err(e) = self.agent.service.end_conversation(ws, contact, by).await
        {
            tracing::warn!(contact = contact.0, error = %e, "the callback's end was not recorded");
        }
    }
}

/// The next event of a leg that may be gone.
async fn next_leg(leg: &mut Option<Leg>) -> Option<LegEvent> {
    match leg {
        Some(l) => l.events.recv().await,
        None => std::future::pending().await,
    }
}
