//! Leaving a message while nobody is there, and ending the chats whose
//! customers left before reaching an agent.

use crate::conversation::{Inbound, IncomingMessage, Opening, Sender, Thread};
use crate::{IdentityValue, Service, ServiceError, normalize_identity};
use serde::Deserialize;
use std::collections::BTreeMap;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_store::{ContactState, IdentityKind};

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

impl Service {
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
}
