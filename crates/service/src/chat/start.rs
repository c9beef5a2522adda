//! Starting a chat: the widget's config, the pre-chat form, and the
//! conversation opened through the seam with the customer, the greeting
//! and the bot's first words (or the queue).

use super::{ChatSettings, PreChatField, session};
use crate::conversation::{Author, MessageBody};
use crate::conversation::{Inbound, Opening, Sender, Thread};
use crate::{IdentityValue, Service, ServiceError, normalize_identity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{ContactId, CustomerId};
use switchboard_store::IdentityKind;

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
            opening: Opening { attributes, variables, preface, ..Opening::default() },
        };
        let received = self.inbound(settings.endpoint, Thread::New, inbound).await?;
        let id = received.contact;
        self.chat().presence.started(ws, id, self.now());
        let customer = received.customer.ok_or_else(|| ServiceError::Conflict("the chat has no customer".into()))?;
        Ok(ChatStarted { session: session::issue(&settings.secret, ws, id), contact: id, customer })
    }
}
