//! Messages: events of kind `message` on their contact, on every channel;
//! what agents do with them (send, list, attach files).

use crate::auth::Principal;
use crate::{Service, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Attachment, Change, ContactRecord, LoggedEvent, NewEvent, Role};

pub const MESSAGE: &str = crate::kinds::Kind::Message.as_str();

/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// The longest attachment file name, in bytes of UTF-8.
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Types accepted: pictures, PDFs and plain text — nothing a browser runs.
pub const ATTACHMENT_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain"];
/// Longest message text, in characters.
const MAX_TEXT: usize = 10_000;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    Agent,
    Bot,
    System,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ButtonView {
    pub label: String,
    pub value: String,
}

/// An attachment as messages name it (the bytes are fetched separately).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: u64,
    pub name: String,
    pub content_type: String,
    pub size: usize,
    /// SHA-256 of the bytes, hex: set for files a channel received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// What the message's HTML called it (`cid:`), for a received part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
}

/// Who a message is addressed to and under what subject, on channels whose
/// messages carry them (email): what a customer's message said, or what
/// the agent chose for a reply. Empty on the others, and for a reply that
/// keeps the conversation's own (the channel then answers the customer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Addressing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// Only ever on an agent's message: the customer never sees it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<String>,
}

impl Addressing {
    pub fn is_empty(&self) -> bool {
        self.subject.is_none() && self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty()
    }
}

/// Whether a customer's message comes from who it says, as a relay the
/// endpoint trusts checked it (email: DMARC, SPF, DKIM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderVerdict {
    /// The sender's domain vouched for it.
    Trusted,
    /// The check failed: the sender is likely forged.
    Failed,
    /// Not checked, or nothing conclusive.
    Unknown,
}

/// What was found of a message's sender, and by whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderCheck {
    pub verdict: SenderVerdict,
    /// The host that checked (an email's authserv-id), when one was believed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_by: Option<String>,
    /// Each method's result keyword (`spf`, `dkim`, `dmarc` → `pass`, `fail`…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub results: BTreeMap<String, String>,
}

/// The payload of a `message` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageBody {
    pub from: Author,
    pub name: String,
    pub text: String,
    /// The message as HTML too, where the channel has it (email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ButtonView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentRef>,
    /// The files after the first, on channels that carry several (email).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
    #[serde(flatten)]
    pub addressing: Addressing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Sent by a machine, not a person (an email auto-reply).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub automatic: bool,
    /// A customer's message: whether its sender is who it claims, where
    /// the channel can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_check: Option<SenderCheck>,
}

impl MessageBody {
    pub fn new(from: Author, name: &str, text: impl Into<String>) -> Self {
        MessageBody {
            from,
            name: name.to_string(),
            text: text.into(),
            html: None,
            buttons: Vec::new(),
            attachment: None,
            attachments: Vec::new(),
            addressing: Addressing::default(),
            client_id: None,
            automatic: false,
            sender_check: None,
        }
    }

    /// Every file of the message, the first first.
    pub fn files(&self) -> impl Iterator<Item = &AttachmentRef> {
        self.attachment.iter().chain(&self.attachments)
    }

    /// The log entry of this message on `contact`.
    pub fn event(&self, record: &ContactRecord, at: Timestamp) -> Change {
        let mut payload = serde_json::to_value(self).unwrap_or_default();
        payload["type"] = json!(MESSAGE);
        Change::Append(NewEvent {
            workspace: record.workspace,
            at,
            kind: MESSAGE.into(),
            contact: Some(record.id),
            agent: record.agent,
            queue: record.queue,
            customer: record.customer,
            payload,
        })
    }
}

/// Checks a message's text: trimmed, not empty unless there is an attachment.
pub fn message_text(text: &str, has_attachment: bool) -> Result<String, ServiceError> {
    let text = text.trim();
    if text.is_empty() && !has_attachment {
        return Err(ServiceError::invalid("text", "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(ServiceError::invalid("text", format!("at most {MAX_TEXT} characters")));
    }
    Ok(text.to_string())
}

/// A message as both sides' clients show it: the frame of docs/CHAT.md.
/// `attachment_url` makes the link for the viewer (customer or agent).
pub fn frame(e: &LoggedEvent, attachment_url: impl Fn(u64) -> String) -> Value {
    let mut v = e.payload.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("type");
        obj.insert("type".into(), json!(MESSAGE));
        obj.insert("id".into(), json!(e.id));
        obj.insert("at".into(), json!(e.at.0));
        let files = obj.iter_mut().flat_map(|(key, v)| match (key.as_str(), v) {
            ("attachment", file) => std::slice::from_mut(file),
            ("attachments", Value::Array(files)) => files.as_mut_slice(),
            _ => &mut [],
        });
        for a in files.filter_map(Value::as_object_mut) {
            if let Some(id) = a.get("id").and_then(Value::as_u64) {
                a.insert("url".into(), json!(attachment_url(id)));
            }
        }
    }
    v
}

/// A new attachment's checks: size and type.
pub fn check_attachment(name: &str, content_type: &str, size: usize) -> Result<String, ServiceError> {
    if size > MAX_ATTACHMENT_BYTES {
        return Err(ServiceError::TooLarge(format!("attachments are at most {MAX_ATTACHMENT_BYTES} bytes")));
    }
    let base = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !ATTACHMENT_TYPES.contains(&base.as_str()) {
        return Err(ServiceError::Unsupported(format!(
            "attachments of type '{base}' are not accepted; use one of {}",
            ATTACHMENT_TYPES.join(", ")
        )));
    }
    file_name(name)
}

/// An attachment's name, checked: it is shown and offered for download, so
/// one printable line, no path, at most MAX_FILE_NAME_BYTES (what file
/// systems take).
pub(crate) fn file_name(name: &str) -> Result<String, ServiceError> {
    let name = super::super::names::line("X-Filename", name, MAX_FILE_NAME_BYTES)?;
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(ServiceError::invalid("X-Filename", format!("at most {MAX_FILE_NAME_BYTES} bytes")));
    }
    if name.contains(['/', '\\']) {
        return Err(ServiceError::invalid("X-Filename", "must not contain '/' or '\\'"));
    }
    Ok(name)
}

/// The contact's messages and the customer's read mark, for the agent.
#[derive(Debug, Serialize)]
pub struct Messages {
    pub messages: Vec<Value>,
    pub read_upto: u64,
    /// What the conversation's endpoint adds under an agent's reply (its
    /// setting `signature`), for the composer to put in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Service {
    /// A contact the caller may message: its agent's, or any for supervisors.
    pub(crate) async fn own_contact(&self, p: &Principal, id: ContactId) -> Result<ContactRecord, ServiceError> {
        let record = self.open_record(p.workspace, id).await?;
        if p.role == Role::Agent && record.agent != Some(p.user) {
            return Err(ServiceError::NotFound(format!("contact {}", id.0)));
        }
        Ok(record)
    }

    /// The contact as routing holds it now, or as stored once it is closed.
    pub(crate) async fn open_record(&self, ws: WorkspaceId, id: ContactId) -> Result<ContactRecord, ServiceError> {
        if let Some(r) = self.inspect(ws, |c| c.contacts.get(&id).cloned()).await? {
            return Ok(r);
        }
        self.store().contact(ws, id).await?.ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))
    }

    pub async fn messages(&self, p: &Principal, id: ContactId) -> Result<Messages, ServiceError> {
        let record = self.own_contact(p, id).await?;
        let events = self.store().contact_events(p.workspace, record.id, Some(MESSAGE)).await?;
        // Channels with a provider between: how each outbound message went.
        let delivery = self.delivery_statuses(p.workspace, record.id).await?;
        let messages = events
            .iter()
            .map(|e| {
                let mut f = frame(e, super::inline::attachment_url);
                if let Some(d) = delivery.get(&e.id) {
                    f["delivery"] = json!(d);
                }
                f
            })
            .collect();
        let read_upto = self.chat().read_marks(id).customer;
        let signature = self.signature(p.workspace, record.id).await?;
        Ok(Messages { messages, read_upto, signature })
    }

    /// An agent's (or supervisor's) message to the customer.
    pub async fn send_message(
        &self,
        p: &Principal,
        id: ContactId,
        text: &str,
        attachment: Option<u64>,
    ) -> Result<Value, ServiceError> {
        let reply =
            super::Reply { text: text.to_string(), files: attachment.into_iter().collect(), ..Default::default() };
        self.send_reply(p, id, reply).await
    }

    /// Logs one message and tells every listener.
    pub(crate) async fn post_message(
        &self,
        record: &ContactRecord,
        body: MessageBody,
    ) -> Result<LoggedEvent, ServiceError> {
        let change = body.event(record, self.now());
        let mut logged = self.commit_and_publish(vec![change]).await?;
        logged.pop().ok_or_else(|| ServiceError::Conflict("the message was not logged".into()))
    }

    /// A user's name as messages and the customer's status show it.
    /// Remembered once found: it is asked for every message an agent sends,
    /// and users are never renamed (a rename would have to forget it here).
    pub async fn user_name(
        &self,
        ws: WorkspaceId,
        user: switchboard_core::ids::UserId,
    ) -> Result<String, ServiceError> {
        if let Some(name) = self.conversations().names.lock().expect("names lock").get(&user) {
            return Ok(name.clone());
        }
        let Some(u) = self.store().user(ws, user).await? else {
            return Ok(String::new());
        };
        self.conversations().names.lock().expect("names lock").insert(user, u.name.clone());
        Ok(u.name)
    }

    /// Stores an uploaded file for `contact` after checking it.
    pub(crate) async fn store_attachment(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentRef, ServiceError> {
        let name = check_attachment(name, content_type, bytes.len())?;
        let content_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let id = crate::Ids::next(&self.ids().attachment);
        let size = bytes.len();
        let a = Attachment {
            workspace: ws,
            id,
            contact,
            name: name.clone(),
            content_type: content_type.clone(),
            bytes,
            created_at: self.now(),
        };
        self.store().commit(vec![Change::PutAttachment(a)]).await?;
        Ok(AttachmentRef { id, name, content_type, size, sha256: None, content_id: None })
    }

    pub async fn upload_attachment(
        &self,
        p: &Principal,
        contact: ContactId,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentRef, ServiceError> {
        self.own_contact(p, contact).await?;
        self.store_attachment(p.workspace, contact, name, content_type, bytes).await
    }

    /// An attachment of `contact`, as messages name it.
    pub(crate) async fn attachment_ref(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        id: u64,
    ) -> Result<AttachmentRef, ServiceError> {
        let a = self
            .store()
            .attachment(ws, id)
            .await?
            .filter(|a| a.contact == contact)
            .ok_or_else(|| ServiceError::invalid("attachment", format!("no attachment {id} on this contact")))?;
        Ok(AttachmentRef {
            id,
            size: a.bytes.len(),
            name: a.name,
            content_type: a.content_type,
            sha256: None,
            content_id: None,
        })
    }

    /// An attachment for an agent (its contact's) or a supervisor.
    pub async fn attachment_for(&self, p: &Principal, id: u64) -> Result<Attachment, ServiceError> {
        let a = self
            .store()
            .attachment(p.workspace, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("attachment {id}")))?;
        if p.role == Role::Agent {
            let c = self.store().contact(p.workspace, a.contact).await?;
            if c.and_then(|c| c.agent) != Some(p.user) {
                return Err(ServiceError::NotFound(format!("attachment {id}")));
            }
        }
        Ok(a)
    }
}
