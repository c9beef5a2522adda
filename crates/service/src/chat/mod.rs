//! The live chat channel: the widget's settings and public key, customer
//! sessions, the bot in front, messages both ways, typing and read marks.
//!
//! A chat is a contact on the `chat` channel. While a bot flow talks to the
//! customer the contact is `new` and outside the routing engine; a hand-off
//! enqueues it like any other contact. Messages are events of kind
//! `message` on the contact, so they are durable with everything else, come
//! back in order after a reconnect (their ids are the log's), and appear on
//! the customer's cross-channel timeline without a table of their own.

mod conversation;
pub mod limits;
pub mod presence;
mod session;
mod signals;

pub use crate::conversation::{AttachmentRef, Author, ButtonView, MessageBody, Messages, frame};
pub use conversation::*;

use super::{Service, ServiceError, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use switchboard_core::ids::{ContactId, QueueId, UserId, WorkspaceId};
use switchboard_store::{Change, Document, Role};

/// Something that is shown live but not logged: typing and read marks.
#[derive(Clone, Debug, Serialize)]
pub struct Signal {
    #[serde(skip)]
    pub workspace: WorkspaceId,
    /// The contact's agent, who (besides supervisors) sees the signal.
    #[serde(skip)]
    pub agent: Option<UserId>,
    pub kind: &'static str,
    pub contact: ContactId,
    pub payload: Value,
}

/// One field of the form shown before a chat starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreChatField {
    /// The contact attribute it fills; `name` and `email` also identify the customer.
    pub name: String,
    pub label: String,
    /// `text`, `email`, `tel` or `textarea`.
    #[serde(default = "text_kind")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
}

fn text_kind() -> String {
    "text".into()
}

/// The workspace's chat widget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatSettings {
    /// Public: it names the workspace in the widget's `<script>` tag.
    pub widget_key: String,
    /// Signs customer sessions; never leaves the server.
    pub secret: String,
    pub title: String,
    pub greeting: String,
    /// Where chats go when the bot hands off without naming a queue (and
    /// every chat when there is no flow).
    pub queue: Option<QueueId>,
    /// The bot flow in front, if any.
    pub flow: Option<u64>,
    pub pre_chat: Vec<PreChatField>,
}

/// What an admin may change; the key and secret are the server's.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSettingsUpdate {
    pub title: Option<String>,
    pub greeting: Option<String>,
    pub queue: Option<QueueId>,
    /// Absent: unchanged; `null`: no bot; an id: that flow.
    #[serde(default, deserialize_with = "present")]
    pub flow: Option<Option<u64>>,
    pub pre_chat: Option<Vec<PreChatField>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The settings as admins see them: without the secret.
#[derive(Debug, Serialize)]
pub struct ChatSettingsView {
    pub widget_key: String,
    pub title: String,
    pub greeting: String,
    pub queue: Option<QueueId>,
    pub flow: Option<u64>,
    pub pre_chat: Vec<PreChatField>,
}

impl From<ChatSettings> for ChatSettingsView {
    fn from(s: ChatSettings) -> Self {
        ChatSettingsView {
            widget_key: s.widget_key,
            title: s.title,
            greeting: s.greeting,
            queue: s.queue,
            flow: s.flow,
            pre_chat: s.pre_chat,
        }
    }
}

const SETTINGS_KIND: &str = "chat_settings";
/// One settings document per workspace.
const SETTINGS_ID: u64 = 1;

/// The chat channel's live state, shared by all workspaces.
#[derive(Default)]
pub struct ChatHub {
    /// Widget key → workspace, filled as keys are used.
    keys: std::sync::Mutex<HashMap<String, WorkspaceId>>,
    /// How far each side has read, per conversation.
    reads: std::sync::Mutex<HashMap<ContactId, ReadMarks>>,
    /// Conversations started (and messages left) per address.
    pub starts: limits::StartLimit,
    /// Customer sockets open per conversation.
    pub presence: presence::Presence,
}

/// The last message id each side of a conversation has read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadMarks {
    pub customer: u64,
    pub agent: u64,
}

impl ChatHub {
    pub fn read_marks(&self, contact: ContactId) -> ReadMarks {
        self.reads.lock().expect("reads lock").get(&contact).copied().unwrap_or_default()
    }

    fn mark_read(&self, contact: ContactId, f: impl FnOnce(&mut ReadMarks)) {
        f(self.reads.lock().expect("reads lock").entry(contact).or_default());
    }
}

fn nonempty_or(value: Option<String>, current: String, field: &str) -> Result<String, ServiceError> {
    match value {
        None => Ok(current),
        Some(v) if v.trim().is_empty() && field == "title" => Err(ServiceError::invalid(field, "must not be empty")),
        Some(v) if v.chars().count() > 2000 => Err(ServiceError::invalid(field, "at most 2000 characters")),
        Some(v) => Ok(v.trim().to_string()),
    }
}

impl Service {
    /// The workspace's chat settings, made (with a fresh key) on first use.
    pub async fn chat_settings(&self, ws: WorkspaceId) -> Result<ChatSettings, ServiceError> {
        if let Some(d) = self.store().document(ws, SETTINGS_KIND, SETTINGS_ID).await? {
            return Ok(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?);
        }
        let _guard = self.customers_lock(ws).await;
        if let Some(d) = self.store().document(ws, SETTINGS_KIND, SETTINGS_ID).await? {
            return Ok(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?);
        }
        let settings = ChatSettings {
            widget_key: crate::conversation::random_hex(12),
            secret: crate::conversation::random_hex(32),
            title: "Chat with us".into(),
            greeting: String::new(),
            queue: None,
            flow: None,
            pre_chat: vec![
                PreChatField { name: "name".into(), label: "Your name".into(), kind: "text".into(), required: false },
                PreChatField { name: "email".into(), label: "Email".into(), kind: "email".into(), required: false },
            ],
        };
        self.save_chat_settings(ws, &settings, Vec::new()).await?;
        Ok(settings)
    }

    /// Stores `settings`, with `more` (an audit entry) in the same commit.
    async fn save_chat_settings(
        &self,
        ws: WorkspaceId,
        settings: &ChatSettings,
        mut more: Vec<Change>,
    ) -> Result<(), ServiceError> {
        let doc = Document {
            workspace: ws,
            kind: SETTINGS_KIND.into(),
            id: SETTINGS_ID,
            body: serde_json::to_value(settings).map_err(switchboard_store::StoreError::from)?,
            updated_at: self.now(),
        };
        more.insert(0, Change::PutDocument(doc));
        self.commit_and_publish(more).await?;
        self.chat().keys.lock().expect("keys lock").insert(settings.widget_key.clone(), ws);
        Ok(())
    }

    pub async fn update_chat_settings(
        &self,
        p: &Principal,
        u: ChatSettingsUpdate,
    ) -> Result<ChatSettingsView, ServiceError> {
        require(p, Role::Admin)?;
        let mut s = self.chat_settings(p.workspace).await?;
        s.title = nonempty_or(u.title, s.title, "title")?;
        s.greeting = nonempty_or(u.greeting, s.greeting, "greeting")?;
        if let Some(q) = u.queue {
            if !self.store().queues(p.workspace).await?.iter().any(|r| r.id == q) {
                return Err(ServiceError::invalid("queue", format!("no queue {}", q.0)));
            }
            s.queue = Some(q);
        }
        match u.flow {
            Some(Some(f)) => {
                self.flow(p.workspace, f).await.map_err(|_| ServiceError::invalid("flow", format!("no flow {f}")))?;
                s.flow = Some(f);
            }
            Some(None) => s.flow = None,
            None => {}
        }
        if let Some(fields) = u.pre_chat {
            for (i, f) in fields.iter().enumerate() {
                if f.name.trim().is_empty() || !f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(ServiceError::invalid(format!("pre_chat[{i}].name"), "letters, digits and '_' only"));
                }
                if !["text", "email", "tel", "textarea"].contains(&f.kind.as_str()) {
                    return Err(ServiceError::invalid(
                        format!("pre_chat[{i}].kind"),
                        "one of text, email, tel, textarea",
                    ));
                }
            }
            s.pre_chat = fields;
        }
        let audit = super::audit::entry(p, self.now(), "update_chat_settings", "chat".into());
        self.save_chat_settings(p.workspace, &s, vec![audit]).await?;
        Ok(s.into())
    }

    /// The workspace whose widget has `key`.
    pub async fn chat_workspace(&self, key: &str) -> Result<(WorkspaceId, ChatSettings), ServiceError> {
        let known = self.chat().keys.lock().expect("keys lock").get(key).copied();
        let unknown = || ServiceError::NotFound("chat widget".into());
        if let Some(ws) = known {
            let s = self.chat_settings(ws).await?;
            return if s.widget_key == key { Ok((ws, s)) } else { Err(unknown()) };
        }
        // Not seen since start: look through the workspaces once.
        for w in self.store().workspaces().await? {
            if let Some(d) = self.store().document(w.id, SETTINGS_KIND, SETTINGS_ID).await? {
                let s: ChatSettings = serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?;
                self.chat().keys.lock().expect("keys lock").insert(s.widget_key.clone(), w.id);
                if s.widget_key == key {
                    return Ok((w.id, s));
                }
            }
        }
        Err(unknown())
    }
}
