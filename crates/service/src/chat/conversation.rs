//! A chat: the widget's side of a conversation. Starting it, the
//! customer's messages, leaving a message, ending and rating go through the
//! conversation seam (`crate::conversation`) like every channel's; what is
//! left here is the widget's own: sessions, the pre-chat form, its config,
//! typing and read marks, and its status line.

use super::{ChatSettings, PreChatField, Signal, session};
use crate::conversation::{AttachmentRef, Inbound, IncomingMessage, Opening, Sender, Thread, is_closed};
use crate::conversation::{Author, MESSAGE, MessageBody, frame};
use crate::kinds::Kind;
use crate::{IdentityValue, Service, ServiceError, normalize_identity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, CustomerId, EndpointId, WorkspaceId};
use switchboard_store::{ContactState, IdentityKind};

/// `POST /chat/{key}/sessions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartChat {
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ChatStarted {
    pub session: String,
    pub contact: ContactId,
    pub customer: CustomerId,
}

/// `POST /chat/{key}/messages`: a message left while nobody is there.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeftMessage {
    pub name: Option<String>,
    pub email: String,
    pub text: String,
    /// The conversation waiting for an agent that becomes the message (the
    /// bot handed off while nobody is on shift); without it, a new one.
    #[serde(default)]
    pub session: Option<String>,
}

/// What the customer's socket sends.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerFrame {
    Message { text: String, client_id: Option<String> },
    Button { value: String, label: Option<String> },
    Attachment { id: u64, client_id: Option<String> },
    Typing { on: bool },
    Read { upto: u64 },
    Csat { score: u8, comment: Option<String> },
    End,
}

/// A verified customer session.
#[derive(Clone, Debug)]
pub struct ChatSession {
    pub workspace: WorkspaceId,
    /// The widget's endpoint.
    pub endpoint: EndpointId,
    pub contact: ContactId,
    pub key: String,
    pub token: String,
}

/// The widget's view of the settings.
#[derive(Debug, Serialize)]
pub struct ChatConfig {
    pub title: String,
    pub greeting: String,
    pub pre_chat: Vec<PreChatField>,
    /// False when nobody could answer now: the widget offers to leave a
    /// message (after the bot, when there is one).
    pub open: bool,
    /// Whether a bot answers first: it does whether or not anyone is on shift.
    pub bot: bool,
    pub attachments: Value,
}

impl Service {
    /// The customer's session, if the token is genuine for this widget.
    pub async fn chat_session(&self, key: &str, token: &str) -> Result<ChatSession, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        let contact = session::verify(&settings.secret, ws, token).ok_or(ServiceError::Unauthenticated)?;
        Ok(ChatSession { workspace: ws, endpoint: settings.endpoint, contact, key: key.into(), token: token.into() })
    }

    pub async fn chat_config(&self, key: &str) -> Result<ChatConfig, ServiceError> {
        let (ws, s) = self.chat_workspace(key).await?;
        let now = self.now();
        let open = match s.queue {
            Some(q) => self.inspect(ws, |c| c.staffed(q, now)).await?,
            None => false,
        };
        Ok(ChatConfig {
            title: s.title,
            greeting: s.greeting,
            pre_chat: s.pre_chat,
            open,
            bot: s.flow.is_some(),
            attachments: json!({
                "max_bytes": crate::conversation::MAX_ATTACHMENT_BYTES,
                "types": crate::conversation::ATTACHMENT_TYPES,
            }),
        })
    }

    /// Checks the pre-chat form and returns the contact attributes it fills.
    fn pre_chat(settings: &ChatSettings, start: &StartChat) -> Result<BTreeMap<String, AttrValue>, ServiceError> {
        for name in start.fields.keys() {
            if !settings.pre_chat.iter().any(|f| f.name == *name) {
                return Err(ServiceError::invalid(format!("fields.{name}"), "not a field of this chat"));
            }
        }
        let mut attributes = BTreeMap::new();
        for f in &settings.pre_chat {
            let value = match f.name.as_str() {
                "name" => start.name.clone(),
                "email" => start.email.clone(),
                other => start.fields.get(other).cloned(),
            }
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
            let field = if ["name", "email"].contains(&f.name.as_str()) {
                f.name.clone()
            } else {
                format!("fields.{}", f.name)
            };
            match value {
                None if f.required => return Err(ServiceError::invalid(field, "required")),
                None => {}
                Some(v) if v.chars().count() > 2000 => {
                    return Err(ServiceError::invalid(field, "at most 2000 characters"));
                }
                Some(v) if f.kind == "email" && !v.contains('@') => {
                    return Err(ServiceError::invalid(field, "not an email address"));
                }
                Some(v) => {
                    attributes.insert(f.name.clone(), AttrValue::Str(v));
                }
            }
        }
        Ok(attributes)
    }

    /// Starts a conversation: the customer, the contact, the greeting, and
    /// the bot's first words (or the queue, when there is no bot).
    pub async fn start_chat(&self, key: &str, start: StartChat) -> Result<ChatStarted, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        let attributes = Self::pre_chat(&settings, &start)?;
        let email = start.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let identity = match email {
            Some(e) => Some(IdentityValue {
                kind: IdentityKind::Email,
                value: normalize_identity(IdentityKind::Email, e, "email")?,
            }),
            None => None,
        };
        let mut variables = BTreeMap::new();
        variables.insert("name".to_string(), start.name.clone().unwrap_or_default().trim().to_string());
        variables.insert("email".to_string(), email.unwrap_or_default().to_string());
        for (k, v) in &start.fields {
            variables.insert(k.clone(), v.clone());
        }
        let mut preface = Vec::new();
        if !settings.greeting.is_empty() {
            preface.push(MessageBody::new(Author::System, &settings.title, settings.greeting.clone()));
        }
        let inbound = Inbound {
            sender: Sender { identity, name: start.name.clone() },
            message: None,
            opening: Opening { attributes, variables, preface, skip_flow: false },
        };
        let received = self.inbound(settings.endpoint, Thread::New, inbound).await?;
        let id = received.contact;
        self.chat().presence.started(ws, id, self.now());
        let customer = received.customer.ok_or_else(|| ServiceError::Conflict("the chat has no customer".into()))?;
        Ok(ChatStarted { session: session::issue(&settings.secret, ws, id), contact: id, customer })
    }

    /// A frame from the customer's socket.
    pub async fn customer_frame(&self, s: &ChatSession, frame: CustomerFrame) -> Result<(), ServiceError> {
        let (ws, id) = (s.workspace, s.contact);
        match frame {
            CustomerFrame::Typing { on } => {
                let record = self.open_record(ws, id).await?;
                self.fanout().signal(Signal {
                    workspace: ws,
                    agent: record.agent,
                    kind: "typing",
                    contact: id,
                    payload: json!({ "from": "customer", "on": on }),
                });
                Ok(())
            }
            CustomerFrame::Read { upto } => {
                let record = self.open_record(ws, id).await?;
                self.chat().mark_read(id, |m| m.customer = m.customer.max(upto));
                self.fanout().signal(Signal {
                    workspace: ws,
                    agent: record.agent,
                    kind: "read",
                    contact: id,
                    payload: json!({ "from": "customer", "upto": upto }),
                });
                Ok(())
            }
            CustomerFrame::Message { text, client_id } => {
                let text = crate::conversation::message_text(&text, false)?;
                self.customer_says(s, IncomingMessage { text, client_id, ..Default::default() }).await
            }
            CustomerFrame::Button { value, label } => {
                let text = label.unwrap_or_else(|| value.clone());
                self.customer_says(s, IncomingMessage { text, press: Some(value), ..Default::default() }).await
            }
            CustomerFrame::Attachment { id: a, client_id } => {
                let attachment = Some(self.attachment_ref(ws, id, a).await?);
                self.customer_says(s, IncomingMessage { attachment, client_id, ..Default::default() }).await
            }
            CustomerFrame::Csat { score, comment } => self.rate(ws, id, score, comment).await,
            CustomerFrame::End => self.end_conversation(ws, id, "customer").await,
        }
    }

    /// A customer's message (or button, or file), through the seam: logged,
    /// and fed to the bot while one is talking.
    async fn customer_says(&self, s: &ChatSession, message: IncomingMessage) -> Result<(), ServiceError> {
        let inbound = Inbound { message: Some(message), ..Default::default() };
        self.inbound(s.endpoint, Thread::Contact(s.contact), inbound).await?;
        Ok(())
    }

    /// Ends the conversations whose customers have been gone for the grace
    /// period (see `presence`); the service's ticker calls this.
    pub async fn end_left_chats(&self) {
        for (ws, contact) in self.chat().presence.overdue(self.now()) {
            if let Err(e) = self.end_if_left(ws, contact).await {
                tracing::warn!(error = %e, contact = contact.0, "ending a left chat");
            }
        }
    }

    /// Ends a conversation whose customer left before reaching an agent
    /// (see `presence`): still with the bot or waiting, and no socket back.
    async fn end_if_left(&self, ws: WorkspaceId, id: ContactId) -> Result<(), ServiceError> {
        if self.chat().presence.is_present(id) {
            return Ok(());
        }
        let record = self.open_record(ws, id).await?;
        let unattended = matches!(record.state, ContactState::New | ContactState::Queued | ContactState::Offered);
        if unattended && !record.attributes.contains_key("left_message") {
            self.end_conversation(ws, id, "timeout").await?;
        }
        Ok(())
    }

    /// A message left while the chat was closed: a contact in the chat
    /// queue, answered when someone is there.
    pub async fn leave_message(&self, key: &str, m: LeftMessage) -> Result<ContactId, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        if !m.email.contains('@') {
            return Err(ServiceError::invalid("email", "not an email address"));
        }
        let text = crate::conversation::message_text(&m.text, false)?;
        let email = normalize_identity(IdentityKind::Email, &m.email, "email")?;
        let mut attributes = BTreeMap::new();
        attributes.insert("left_message".to_string(), AttrValue::Bool(true));
        attributes.insert("email".to_string(), AttrValue::Str(email.clone()));
        if let Some(token) = &m.session {
            let s = self.chat_session(key, token).await?;
            return self.leave_message_in_line(ws, s.contact, m.name.unwrap_or_default(), text, attributes).await;
        }
        let inbound = Inbound {
            sender: Sender { identity: Some(IdentityValue { kind: IdentityKind::Email, value: email }), name: m.name },
            message: Some(IncomingMessage { text, ..Default::default() }),
            opening: Opening { attributes, skip_flow: true, ..Default::default() },
        };
        Ok(self.inbound(settings.endpoint, Thread::New, inbound).await?.contact)
    }

    /// The messages of the customer's conversation after `after`, as frames.
    pub async fn customer_backlog(&self, s: &ChatSession, after: u64) -> Result<Vec<Value>, ServiceError> {
        let url = |a: u64| format!("/chat/{}/attachments/{a}?session={}", s.key, s.token);
        Ok(self
            .store()
            .contact_events(s.workspace, s.contact, Some(MESSAGE))
            .await?
            .iter()
            .filter(|e| e.id > after)
            .map(|e| frame(e, url))
            .collect())
    }

    /// Where the conversation is, for the customer's socket.
    pub async fn chat_status(&self, s: &ChatSession) -> Result<Value, ServiceError> {
        let record = self.open_record(s.workspace, s.contact).await?;
        let id = s.contact;
        Ok(match record.state {
            ContactState::New => json!({ "type": "status", "state": "bot" }),
            ContactState::Queued | ContactState::Offered | ContactState::CallbackScheduled => {
                let now = self.now();
                let (position, wait, staffed) = self
                    .inspect(s.workspace, |c| {
                        let staffed = record.queue.is_some_and(|q| c.staffed(q, now));
                        (c.engine.position(id), c.engine.estimated_wait(id), staffed)
                    })
                    .await?;
                json!({
                    "type": "status",
                    "state": "waiting",
                    "position": position,
                    "wait_seconds": wait.map(|w| w.as_secs()),
                    "staffed": staffed,
                })
            }
            ContactState::Connected => {
                let agent = match record.agent {
                    Some(a) => self.user_name(s.workspace, a).await?,
                    None => String::new(),
                };
                json!({ "type": "status", "state": "connected", "agent": agent })
            }
            _ => json!({ "type": "status", "state": "ended" }),
        })
    }

    /// Whether the customer should be asked for a rating now: an agent
    /// handled the chat, it has ended, and it is not rated yet.
    pub async fn wants_rating(&self, s: &ChatSession) -> Result<bool, ServiceError> {
        let record = self.open_record(s.workspace, s.contact).await?;
        Ok(record.agent.is_some()
            && is_closed(record.state)
            && self.store().contact_events(s.workspace, s.contact, Some(Kind::Csat.as_str())).await?.is_empty())
    }

    /// A file the customer uploads to their own conversation.
    pub async fn customer_upload(
        &self,
        s: &ChatSession,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentRef, ServiceError> {
        self.store_attachment(s.workspace, s.contact, name, content_type, bytes).await
    }

    /// A file of the customer's own conversation.
    pub async fn customer_attachment(
        &self,
        s: &ChatSession,
        id: u64,
    ) -> Result<switchboard_store::Attachment, ServiceError> {
        self.store()
            .attachment(s.workspace, id)
            .await?
            .filter(|a| a.contact == s.contact)
            .ok_or_else(|| ServiceError::NotFound(format!("attachment {id}")))
    }
}
