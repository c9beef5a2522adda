//! A received message, from the listener's DATA to the conversation seam:
//! parsed, checked for loops, bounces and auto-replies, threaded, and
//! committed through `Service::inbound` — the reply the client gets (250
//! or why not) is decided here, after that commit.

use crate::authres;
use crate::blocklist;
use crate::parse::Email;
use crate::safety::{self, SenderLimit};
use crate::session::{Envelope, Reply};
use crate::thread::{self, OurId};
use std::collections::BTreeMap;
use std::time::Instant;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value as AttrValue;
use switchboard_service::conversation::{
    Addressing, Inbound, IncomingFile, IncomingMessage, Opening, Sender, SenderVerdict, Thread, delivery::DeliveryState,
};
use switchboard_service::endpoints::Endpoint;
use switchboard_service::{IdentityKind, IdentityValue, Service, ServiceError};

/// Contact attributes an email conversation opens with.
pub const SUBJECT: &str = "subject";
/// The customer's address, which replies go to.
pub const FROM: &str = "email_from";
/// The endpoint's address the customer wrote to, which replies come from.
pub const TO: &str = "email_to";
/// Why the message that opened it counts as automatic, if it does.
pub const AUTOMATIC: &str = "email_automatic";
/// The endpoint setting with the text of the automatic acknowledgement.
pub const AUTO_ACKNOWLEDGE: &str = "auto_acknowledge";
/// The ended conversation a reply to it was made a new contact of.
pub const PREVIOUS_CONTACT: &str = "previous_contact";

/// Where received mail goes: the service, and the per-sender limit.
pub struct Inbox {
    service: Service,
    senders: SenderLimit,
}

impl Inbox {
    pub fn new(service: Service, senders: SenderLimit) -> Self {
        Inbox { service, senders }
    }

    /// The enabled email endpoint at `address`, if any.
    async fn endpoint(&self, address: &str) -> Result<Option<Endpoint>, ServiceError> {
        Ok(self.service.endpoint_at(Channel::Email, address).await?.filter(|e| e.enabled))
    }

    /// Whether `address` is an enabled email endpoint (RCPT TO).
    pub async fn accepts(&self, address: &str) -> bool {
        match self.endpoint(address).await {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::error!(error = %e, "looking up an email recipient");
                false
            }
        }
    }

    /// Stores one message for every recipient, and answers what the client
    /// is told: 250 only once everything is committed.
    pub async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Reply {
        let mut endpoints: Vec<Endpoint> = Vec::new();
        for to in &envelope.to {
            match self.endpoint(to).await {
                // One conversation per mailbox, however often it was named.
                Ok(Some(e)) if endpoints.iter().any(|known| known.id == e.id) => {}
                Ok(Some(e)) => endpoints.push(e),
                Ok(None) => return Reply::new(550, "5.1.1", format!("no mailbox here by the name <{to}>")),
                Err(e) => return failed(&e),
            }
        }
        self.take(&envelope.from, &endpoints, raw).await
    }

    /// A message read from `endpoint`'s own mailbox (IMAP): the same path
    /// as one the listener took, its envelope sender the `Return-Path` the
    /// delivering server recorded (else its From). The reply says whether
    /// it was committed (2xx), is worth another try (4xx) or never will be
    /// taken (5xx).
    pub async fn fetched(&self, endpoint: &Endpoint, raw: Vec<u8>) -> Reply {
        let Some(email) = Email::parse(&raw) else {
            return Reply::new(554, "5.6.0", "this is not an email message");
        };
        let from = match (&email.return_path, &email.from) {
            (Some(path), _) => path.clone(),
            (None, Some(m)) => m.address.clone(),
            (None, None) => String::new(),
        };
        self.take_parsed(&from, std::slice::from_ref(endpoint), &email, raw).await
    }

    async fn take(&self, envelope_from: &str, endpoints: &[Endpoint], raw: Vec<u8>) -> Reply {
        let Some(email) = Email::parse(&raw) else {
            return Reply::new(554, "5.6.0", "this is not an email message");
        };
        self.take_parsed(envelope_from, endpoints, &email, raw).await
    }

    async fn take_parsed(&self, envelope_from: &str, endpoints: &[Endpoint], email: &Email, raw: Vec<u8>) -> Reply {
        if let Some(own) = email.message_id.as_deref().and_then(thread::ours) {
            tracing::warn!(
                contact = own.contact.0,
                message = own.message,
                "one of our own messages came back in; dropped (a mail loop)"
            );
            return Reply::new(250, "2.0.0", "taken (a loop: not stored)");
        }
        let bounce = safety::is_bounce(email, envelope_from);
        if !bounce && !envelope_from.is_empty() {
            let sender = email.from.as_ref().map_or(envelope_from, |m| m.address.as_str());
            if !self.senders.allow(sender, Instant::now()) {
                tracing::warn!("a sender over the rate limit; deferred");
                return Reply::new(450, "4.7.1", "too many messages from this sender; try again later");
            }
        }
        let mut reply = Reply::new(250, "2.0.0", "taken");
        let sender = email.from.as_ref().map_or(envelope_from, |m| m.address.as_str());
        for endpoint in endpoints {
            let taken = if !bounce && blocklist::blocks(endpoint, sender) {
                tracing::info!(endpoint = endpoint.id.0, "mail from a blocked sender; dropped");
                Ok(None)
            } else if bounce {
                self.bounce(endpoint, email, &raw).await
            } else if envelope_from.is_empty() {
                self.null_sender_auto_reply(endpoint, email, raw.clone()).await
            } else {
                self.message(endpoint, envelope_from, email, raw.clone()).await
            };
            match taken {
                Ok(Some(r)) => reply = r,
                Ok(None) => {}
                Err(e) => return failed(&e),
            }
        }
        reply
    }

    /// A bounce never opens a conversation: it marks the delivery of the
    /// message it reports on failed, when that message is ours.
    async fn bounce(&self, endpoint: &Endpoint, email: &Email, raw: &[u8]) -> Result<Option<Reply>, ServiceError> {
        let report = email.report.clone().unwrap_or_default();
        // A report names the message it is about; a bounce that is not a
        // proper report usually quotes it.
        let original = report
            .original_id
            .as_deref()
            .and_then(|id| thread::ours(id).map(|o| (id.to_string(), o)))
            .or_else(|| thread::find_ours(&String::from_utf8_lossy(raw)));
        let Some((id, OurId { contact, .. })) = original else {
            tracing::info!(endpoint = endpoint.id.0, "a bounce about no message of ours; dropped");
            return Ok(Some(Reply::new(250, "2.0.0", "taken (a bounce: not stored)")));
        };
        if email.report.is_some() && !report.failed {
            tracing::info!(contact = contact.0, "a delivery delayed report; nothing to do");
            return Ok(Some(Reply::new(250, "2.0.0", "taken")));
        }
        let reason = [report.status, report.diagnostic, report.recipient.map(|r| format!("to {r}"))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let reason = if reason.is_empty() { "bounced".to_string() } else { format!("bounced: {reason}") };
        match self.service.report_delivery(endpoint.workspace, contact, &id, DeliveryState::Failed, Some(reason)).await
        {
            Ok(()) => Ok(None),
            Err(ServiceError::NotFound(what)) => {
                tracing::info!(contact = contact.0, what, "a bounce about a message not on record; dropped");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// An auto-reply sent with the null reverse path (a vacation notice):
    /// it joins the conversation of ours it answers, and never opens one.
    async fn null_sender_auto_reply(
        &self,
        endpoint: &Endpoint,
        email: &Email,
        raw: Vec<u8>,
    ) -> Result<Option<Reply>, ServiceError> {
        let threading = thread::of(email.message_id.as_deref(), &email.in_reply_to, &email.references);
        let Some(ours) = threading.answers else {
            tracing::info!(endpoint = endpoint.id.0, "an auto-reply with no sender about nothing of ours; dropped");
            return Ok(None);
        };
        let sender = email.from.clone().map(|m| m.address).unwrap_or_default();
        let inbound = self.inbound_of(endpoint, &sender, email, raw, None);
        match self.service.inbound(endpoint.id, Thread::Contact(ours.contact), inbound).await {
            Ok(_) => Ok(None),
            Err(ServiceError::Conflict(_) | ServiceError::NotFound(_)) => {
                tracing::info!(contact = ours.contact.0, "an auto-reply to an ended conversation; dropped");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn message(
        &self,
        endpoint: &Endpoint,
        envelope_from: &str,
        email: &Email,
        raw: Vec<u8>,
    ) -> Result<Option<Reply>, ServiceError> {
        let sender = email.from.as_ref().map_or_else(|| envelope_from.to_string(), |m| m.address.clone());
        let threading = thread::of(email.message_id.as_deref(), &email.in_reply_to, &email.references);
        let by_key = |previous| {
            let thread = match &threading.key {
                Some(k) => Thread::Key(k.clone()),
                None => Thread::New,
            };
            (thread, previous)
        };
        let (thread, previous) = match threading.answers {
            Some(ours) => {
                let inbound = self.inbound_of(endpoint, &sender, email, raw.clone(), None);
                match self.service.inbound(endpoint.id, Thread::Contact(ours.contact), inbound).await {
                    Ok(_) => return Ok(None),
                    // Ended: a new contact, linked to the one it answers.
                    Err(ServiceError::Conflict(_)) => by_key(Some(ours.contact.0)),
                    // Not a conversation of this workspace's email.
                    Err(ServiceError::NotFound(_)) => by_key(None),
                    Err(e) => return Err(e),
                }
            }
            None => by_key(None),
        };
        let inbound = self.inbound_of(endpoint, &sender, email, raw, previous);
        self.service.inbound(endpoint.id, thread, inbound).await?;
        Ok(None)
    }

    /// The seam's view of `email` from `sender` to `endpoint`, its source
    /// attached.
    fn inbound_of(
        &self,
        endpoint: &Endpoint,
        sender: &str,
        email: &Email,
        raw: Vec<u8>,
        previous: Option<u64>,
    ) -> Inbound {
        let automatic = safety::automatic(&email.auto);
        let sender_check = authres::sender_check(endpoint, &email.authentication_results);
        // A forged sender is never answered by a machine: the answer would
        // go to whoever was impersonated.
        let acknowledgement = acknowledgement(endpoint).filter(|_| sender_check.verdict != SenderVerdict::Failed);
        let mut attributes = BTreeMap::new();
        if let Some(s) = &email.subject {
            attributes.insert(SUBJECT.into(), AttrValue::Str(s.clone()));
        }
        attributes.insert(FROM.into(), AttrValue::Str(sender.to_ascii_lowercase()));
        if let Some(a) = &endpoint.address {
            attributes.insert(TO.into(), AttrValue::Str(a.clone()));
        }
        if let Some(why) = automatic {
            attributes.insert(AUTOMATIC.into(), AttrValue::Str(why.into()));
        }
        if let Some(p) = previous {
            attributes.insert(PREVIOUS_CONTACT.into(), AttrValue::Num(p as f64));
        }
        let mut text = email.text.clone();
        if email.attachments_left > 0 {
            text.push_str(&format!(
                "\n\n{} more attachments are in the attached message only.",
                email.attachments_left
            ));
        }
        // The source first (the message's `attachment`), then each part.
        let source = IncomingFile {
            name: "message.eml".into(),
            content_type: "message/rfc822".into(),
            content_id: None,
            bytes: raw,
        };
        let parts = email.attachments.iter().cloned();
        Inbound {
            sender: Sender {
                identity: Some(IdentityValue { kind: IdentityKind::Email, value: sender.to_string() }),
                name: email.from.as_ref().and_then(|m| m.name.clone()),
            },
            message: Some(IncomingMessage {
                text: text.trim().to_string(),
                html: email.html.clone(),
                addressing: Addressing {
                    subject: email.subject.clone(),
                    to: email.to.clone(),
                    cc: email.cc.clone(),
                    bcc: Vec::new(),
                },
                client_id: email.message_id.clone(),
                files: std::iter::once(source).chain(parts).collect(),
                automatic: automatic.is_some(),
                sender_check: Some(sender_check),
                ..Default::default()
            }),
            opening: Opening { attributes, acknowledgement, ..Default::default() },
        }
    }
}

/// The endpoint's automatic acknowledgement of new conversations (setting
/// `auto_acknowledge`, `{{reference}}` standing for the conversation's
/// number), if it has one.
fn acknowledgement(endpoint: &Endpoint) -> Option<String> {
    endpoint.settings.get(AUTO_ACKNOWLEDGE)?.as_str().map(str::trim).filter(|t| !t.is_empty()).map(String::from)
}

/// What the client is told when the service could not take a message.
fn failed(e: &ServiceError) -> Reply {
    match e {
        ServiceError::Invalid { .. } | ServiceError::TooLarge(_) | ServiceError::Unsupported(_) => {
            Reply::new(550, "5.6.0", format!("message refused: {e}"))
        }
        ServiceError::NotFound(_) => Reply::new(550, "5.1.1", "no such mailbox"),
        _ => {
            tracing::error!(error = %e, "storing an email failed; the sender will retry");
            Reply::new(451, "4.3.0", "could not store the message; try again later")
        }
    }
}
