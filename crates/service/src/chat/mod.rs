//! The live chat channel: the widget's settings and public key, customer
//! sessions, the bot in front, messages both ways, typing and read marks.
//!
//! A chat is a contact on the `chat` channel. While a bot flow talks to the
//! customer the contact is `new` and outside the routing engine; a hand-off
//! enqueues it like any other contact. Messages are events of kind
//! `message` on the contact, so they are durable with everything else, come
//! back in order after a reconnect (their ids are the log's), and appear on
//! the customer's cross-channel timeline without a table of their own.

mod customer;
mod left;
pub mod limits;
pub mod presence;
mod session;
mod signals;
mod start;

pub use crate::conversation::{AttachmentRef, Author, ButtonView, MessageBody, Messages, frame};
pub use customer::*;
pub use left::*;
pub use start::*;

use super::{Ids, Service, ServiceError, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, EndpointId, QueueId, UserId, WorkspaceId};
use switchboard_store::{Change, Document, EndpointRecord, Role};

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

/// The workspace's chat widget: its own settings (stored as a document)
/// and its endpoint's (the widget key is the endpoint's address, and the
/// endpoint names the bot and the queue, as every channel's does).
#[derive(Clone, Debug, PartialEq)]
pub struct ChatSettings {
    pub endpoint: EndpointId,
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
    /// Whether the endpoint takes chats: a disabled widget is not found.
    pub enabled: bool,
}

/// The widget's own settings as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WidgetDoc {
    /// `None` in a document written before chat endpoints.
    #[serde(default)]
    endpoint: Option<EndpointId>,
    secret: String,
    title: String,
    greeting: String,
    pre_chat: Vec<PreChatField>,
    // Before chat endpoints these were the document's; read once, to make
    // the endpoint, and never written again.
    #[serde(default, skip_serializing)]
    widget_key: Option<String>,
    #[serde(default, skip_serializing)]
    queue: Option<QueueId>,
    #[serde(default, skip_serializing)]
    flow: Option<u64>,
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
    /// The workspace's chat settings, made (with a fresh key and its
    /// endpoint) on first use.
    pub async fn chat_settings(&self, ws: WorkspaceId) -> Result<ChatSettings, ServiceError> {
        if let Some(s) = self.stored_chat_settings(ws).await? {
            return Ok(s);
        }
        let _guard = self.customers_lock(ws).await;
        if let Some(s) = self.stored_chat_settings(ws).await? {
            return Ok(s);
        }
        let doc = match self.widget_doc(ws).await? {
            // Its endpoint was deleted: the widget gets a new one (and key).
            Some(doc) => doc,
            None => WidgetDoc {
                endpoint: None,
                secret: crate::conversation::random_hex(32),
                title: "Chat with us".into(),
                greeting: String::new(),
                pre_chat: vec![
                    PreChatField {
                        name: "name".into(),
                        label: "Your name".into(),
                        kind: "text".into(),
                        required: false,
                    },
                    PreChatField { name: "email".into(), label: "Email".into(), kind: "email".into(), required: false },
                ],
                widget_key: None,
                queue: None,
                flow: None,
            },
        };
        self.make_chat_endpoint(ws, doc).await
    }

    async fn widget_doc(&self, ws: WorkspaceId) -> Result<Option<WidgetDoc>, ServiceError> {
        let Some(d) = self.store().document(ws, SETTINGS_KIND, SETTINGS_ID).await? else { return Ok(None) };
        Ok(Some(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?))
    }

    /// The settings with their endpoint; `None` when either is missing.
    async fn stored_chat_settings(&self, ws: WorkspaceId) -> Result<Option<ChatSettings>, ServiceError> {
        let Some(doc) = self.widget_doc(ws).await? else { return Ok(None) };
        let Some(id) = doc.endpoint else { return Ok(None) };
        let Some(e) = self.endpoint_by_id(id).await?.filter(|e| e.workspace == ws) else { return Ok(None) };
        Ok(Some(ChatSettings {
            endpoint: e.id,
            widget_key: e.address.unwrap_or_default(),
            secret: doc.secret,
            title: doc.title,
            greeting: doc.greeting,
            queue: e.queue,
            flow: e.flow,
            pre_chat: doc.pre_chat,
            enabled: e.enabled,
        }))
    }

    /// Gives the widget its endpoint, with the key, bot and queue a
    /// document from before chat endpoints held: one commit. The caller
    /// holds the workspace's customers lock.
    async fn make_chat_endpoint(&self, ws: WorkspaceId, mut doc: WidgetDoc) -> Result<ChatSettings, ServiceError> {
        let address = doc.widget_key.take().unwrap_or_else(|| crate::conversation::random_hex(12));
        let mut record =
            self.blank_endpoint(EndpointId(Ids::next(&self.ids().endpoint)), ws, Channel::Chat, Some(address));
        record.name = "Chat widget".into();
        record.queue = doc.queue.take();
        record.flow = doc.flow.take();
        doc.endpoint = Some(record.id);
        let audit = crate::audit::by_server(
            ws,
            self.now(),
            "create_endpoint",
            format!("endpoint/{}", record.id.0),
            json!({ "why": "the chat widget needs one" }),
        );
        self.save_chat_settings(ws, &doc, Some(record), vec![audit]).await?;
        self.stored_chat_settings(ws).await?.ok_or_else(|| ServiceError::NotFound("chat widget".into()))
    }

    /// Makes the endpoints of widgets set up before chat endpoints, so that
    /// their keys are found; the service calls this at start.
    pub(crate) async fn chat_endpoints_for_old_widgets(&self) -> Result<(), ServiceError> {
        for w in self.store().workspaces().await? {
            if self.widget_doc(w.id).await?.is_some_and(|d| d.endpoint.is_none()) {
                self.chat_settings(w.id).await?;
            }
        }
        Ok(())
    }

    /// Stores the widget's document, with its endpoint when that changed
    /// and `more` (an audit entry), in one commit.
    async fn save_chat_settings(
        &self,
        ws: WorkspaceId,
        doc: &WidgetDoc,
        endpoint: Option<EndpointRecord>,
        mut more: Vec<Change>,
    ) -> Result<(), ServiceError> {
        let doc = Document {
            workspace: ws,
            kind: SETTINGS_KIND.into(),
            id: SETTINGS_ID,
            body: serde_json::to_value(doc).map_err(switchboard_store::StoreError::from)?,
            updated_at: self.now(),
        };
        more.insert(0, Change::PutDocument(doc));
        match endpoint {
            Some(record) => self.commit_with_endpoint(record, more).await,
            None => self.commit_and_publish(more).await.map(|_| ()),
        }
    }

    pub async fn update_chat_settings(
        &self,
        p: &Principal,
        u: ChatSettingsUpdate,
    ) -> Result<ChatSettingsView, ServiceError> {
        require(p, Role::Admin)?;
        let s = self.chat_settings(p.workspace).await?;
        let mut endpoint = self
            .store()
            .endpoint(s.endpoint)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", s.endpoint.0)))?;
        let mut doc = WidgetDoc {
            endpoint: Some(s.endpoint),
            secret: s.secret,
            title: nonempty_or(u.title, s.title, "title")?,
            greeting: nonempty_or(u.greeting, s.greeting, "greeting")?,
            pre_chat: s.pre_chat,
            widget_key: None,
            queue: None,
            flow: None,
        };
        if let Some(q) = u.queue {
            if !self.store().queues(p.workspace).await?.iter().any(|r| r.id == q) {
                return Err(ServiceError::invalid("queue", format!("no queue {}", q.0)));
            }
            endpoint.queue = Some(q);
        }
        match u.flow {
            Some(Some(f)) => {
                self.flow(p.workspace, f).await.map_err(|_| ServiceError::invalid("flow", format!("no flow {f}")))?;
                endpoint.flow = Some(f);
            }
            Some(None) => endpoint.flow = None,
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
            doc.pre_chat = fields;
        }
        endpoint.updated_at = self.now();
        let audit = super::audit::entry(p, self.now(), "update_chat_settings", "chat".into());
        self.save_chat_settings(p.workspace, &doc, Some(endpoint), vec![audit]).await?;
        Ok(self.chat_settings(p.workspace).await?.into())
    }

    /// The workspace whose widget has `key`: its chat endpoint's address.
    pub async fn chat_workspace(&self, key: &str) -> Result<(WorkspaceId, ChatSettings), ServiceError> {
        let unknown = || ServiceError::NotFound("chat widget".into());
        let endpoint = self.endpoint_at(Channel::Chat, key).await?.ok_or_else(unknown)?;
        let s = self.chat_settings(endpoint.workspace).await?;
        if s.endpoint != endpoint.id || !s.enabled {
            return Err(unknown());
        }
        Ok((endpoint.workspace, s))
    }
}
