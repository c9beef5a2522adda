//! The customer's side of a chat: their session, the frames of their
//! socket (messages, buttons, files, typing, read marks, rating, end), the
//! backlog after a reconnect, the status line and their files.

use super::{Signal, session};
use crate::conversation::{AttachmentRef, Inbound, IncomingMessage, Thread, is_closed};
use crate::conversation::{MESSAGE, frame};
use crate::kinds::Kind;
use crate::{Service, ServiceError};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::{ContactId, EndpointId, WorkspaceId};
use switchboard_store::ContactState;

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

impl Service {
    /// The customer's session, if the token is genuine for this widget.
    pub async fn chat_session(&self, key: &str, token: &str) -> Result<ChatSession, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        let contact = session::verify(&settings.secret, ws, token).ok_or(ServiceError::Unauthenticated)?;
        Ok(ChatSession { workspace: ws, endpoint: settings.endpoint, contact, key: key.into(), token: token.into() })
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
