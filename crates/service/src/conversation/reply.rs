//! An agent's reply with more than a line of text, on channels that carry
//! it (email): rich text, several files, its own recipients and subject.
//! What a channel cannot carry is refused, never dropped on the way out.

use super::messages::{Addressing, Author, MessageBody, frame, message_text};
use crate::auth::Principal;
use crate::endpoints::Endpoint;
use crate::kinds::Kind;
use crate::{Service, ServiceError};
use serde_json::Value;
use std::collections::HashSet;
use switchboard_core::ids::{ContactId, EndpointId, WorkspaceId};
use switchboard_store::Attachment;

/// Files on one message.
pub const MAX_FILES: usize = 10;
/// Recipients on one message: To, Cc and Bcc together.
pub const MAX_RECIPIENTS: usize = 50;
/// The longest address (RFC 5321's path limit).
const MAX_ADDRESS: usize = 254;
/// The longest subject, in characters (RFC 5322's line limit).
const MAX_SUBJECT: usize = 998;
/// The largest rich text kept, once made safe.
const MAX_HTML: usize = 256 * 1024;
/// The endpoint setting with the text added under an agent's replies.
pub const SIGNATURE_SETTING: &str = "signature";

/// What an agent sends. Only `text` is needed; the rest is for channels
/// whose capabilities say they carry it.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    /// The message as plain text (the text part of an email).
    pub text: String,
    /// The same as rich text (a small, safe HTML subset is kept).
    pub html: Option<String>,
    /// Uploaded attachments of the contact, by id.
    pub files: Vec<u64>,
    /// Empty: the channel's own (the customer, the conversation's subject).
    pub addressing: Addressing,
}

/// Rich text as an agent may send it: formatting, lists, quotes and links,
/// nothing that runs, loads or styles (the customer's mail client shows it,
/// and so does every agent's desktop).
pub fn safe_html(html: &str) -> String {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "div",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h2",
        "h3",
        "h4",
    ]
    .into_iter()
    .collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    ammonia::Builder::default().tags(tags).url_schemes(schemes).clean(html).to_string()
}

/// One address: a single printable token (the channel checks its own form).
fn address(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_ADDRESS {
        return Err(ServiceError::invalid(field, format!("each address has 1 to {MAX_ADDRESS} bytes")));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c)) {
        return Err(ServiceError::invalid(field, format!("'{value}' is not one address")));
    }
    Ok(value.to_string())
}

/// `addressing` checked: addresses trimmed and bounded, none twice, the
/// subject one line.
fn checked(addressing: Addressing) -> Result<Addressing, ServiceError> {
    let mut seen = HashSet::new();
    let mut list = |field: &str, values: Vec<String>| -> Result<Vec<String>, ServiceError> {
        let mut out = Vec::new();
        for v in values {
            let a = address(field, &v)?;
            if seen.insert(a.to_ascii_lowercase()) {
                out.push(a);
            }
        }
        Ok(out)
    };
    let to = list("to", addressing.to)?;
    let cc = list("cc", addressing.cc)?;
    let bcc = list("bcc", addressing.bcc)?;
    if to.len() + cc.len() + bcc.len() > MAX_RECIPIENTS {
        return Err(ServiceError::invalid("to", format!("at most {MAX_RECIPIENTS} recipients in all")));
    }
    if to.is_empty() && !(cc.is_empty() && bcc.is_empty()) {
        return Err(ServiceError::invalid("to", "name the main recipient when there are copies"));
    }
    let subject = match addressing.subject {
        Some(s) => Some(crate::names::line("subject", &s, MAX_SUBJECT)?),
        None => None,
    };
    Ok(Addressing { subject, to, cc, bcc })
}

impl Service {
    /// An agent's (or supervisor's) reply to the customer.
    pub async fn send_reply(&self, p: &Principal, id: ContactId, reply: Reply) -> Result<Value, ServiceError> {
        let record = self.own_contact(p, id).await?;
        let can = self.channels().get(record.channel).map(|a| a.capabilities());
        let channel = record.channel;
        if reply.html.is_some() && !can.is_some_and(|c| c.html) {
            return Err(ServiceError::Unsupported(format!("{channel} messages are plain text: send the text alone")));
        }
        if reply.files.len() > 1 && !can.is_some_and(|c| c.attachments) {
            return Err(ServiceError::Unsupported(format!("{channel} messages carry one file each")));
        }
        if reply.files.len() > MAX_FILES {
            return Err(ServiceError::invalid("attachments", format!("at most {MAX_FILES} files")));
        }
        if !reply.addressing.is_empty() && !can.is_some_and(|c| c.addressing) {
            return Err(ServiceError::Unsupported(format!("{channel} messages have no recipients or subject")));
        }
        let text = message_text(&reply.text, !reply.files.is_empty())?;
        let addressing = checked(reply.addressing)?;
        let html = match reply.html.as_deref().map(safe_html) {
            Some(h) if h.len() > MAX_HTML => {
                return Err(ServiceError::TooLarge(format!("rich text is at most {MAX_HTML} bytes")));
            }
            Some(h) if !h.trim().is_empty() => Some(h),
            _ => None,
        };
        let mut files = Vec::new();
        for a in reply.files {
            if !files.iter().any(|f: &super::AttachmentRef| f.id == a) {
                files.push(self.attachment_ref(p.workspace, id, a).await?);
            }
        }
        let name = self.user_name(p.workspace, p.user).await?;
        let mut body = MessageBody::new(Author::Agent, &name, text);
        body.html = html;
        let mut files = files.into_iter();
        body.attachment = files.next();
        body.attachments = files.collect();
        body.addressing = addressing;
        let e = self.post_message(&record, body).await?;
        Ok(frame(&e, super::inline::attachment_url))
    }

    /// The endpoint a conversation came in on, from its opening.
    pub async fn contact_endpoint(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
    ) -> Result<Option<Endpoint>, ServiceError> {
        let opened = self.store().contact_events(ws, contact, Some(Kind::ConversationOpened.as_str())).await?;
        let Some(id) = opened.first().and_then(|e| e.payload["endpoint"].as_u64()) else { return Ok(None) };
        Ok(self.endpoint_by_id(EndpointId(id)).await?.filter(|e| e.workspace == ws))
    }

    /// The signature the conversation's endpoint adds under replies, if any.
    pub(crate) async fn signature(&self, ws: WorkspaceId, contact: ContactId) -> Result<Option<String>, ServiceError> {
        let endpoint = self.contact_endpoint(ws, contact).await?;
        Ok(endpoint
            .and_then(|e| e.settings.get(SIGNATURE_SETTING)?.as_str().map(str::trim).map(str::to_string))
            .filter(|s| !s.is_empty()))
    }

    /// One of `contact`'s files, bytes and all, for its channel to send.
    pub async fn contact_file(&self, ws: WorkspaceId, contact: ContactId, id: u64) -> Result<Attachment, ServiceError> {
        self.store()
            .attachment(ws, id)
            .await?
            .filter(|a| a.contact == contact)
            .ok_or_else(|| ServiceError::NotFound(format!("attachment {id} of contact {}", contact.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_text_keeps_formatting_and_nothing_that_runs() {
        let html = safe_html(
            "<p style=\"color:red\" onclick=\"x()\"><strong>Hi</strong> <a href=\"javascript:x()\">a</a> <a href=\"https://e.example/\">b</a></p><script>x()</script><img src=\"https://t.example/p.gif\"><blockquote>old</blockquote>",
        );
        assert!(html.contains("<strong>Hi</strong>") && html.contains("<blockquote>old</blockquote>"), "{html}");
        assert!(html.contains("href=\"https://e.example/\""), "{html}");
        for gone in ["script", "onclick", "style", "javascript", "img", "t.example"] {
            assert!(!html.contains(gone), "{gone} in {html}");
        }
    }

    #[test]
    fn addresses_are_checked_and_deduplicated() {
        let a = |to: &[&str], cc: &[&str]| {
            checked(Addressing {
                subject: Some(" Re: x ".into()),
                to: to.iter().map(|s| s.to_string()).collect(),
                cc: cc.iter().map(|s| s.to_string()).collect(),
                bcc: Vec::new(),
            })
        };
        let ok = a(&[" ann@x.example "], &["ANN@x.example", "bob@y.example"]).unwrap();
        assert_eq!(
            (ok.to, ok.cc, ok.subject.as_deref()),
            (vec!["ann@x.example".to_string()], vec!["bob@y.example".to_string()], Some("Re: x"))
        );
        assert!(a(&["ann@x.example, bob@y.example"], &[]).is_err());
        assert!(a(&["Ann <ann@x.example>"], &[]).is_err());
        assert!(a(&[], &["bob@y.example"]).is_err());
        assert!(checked(Addressing { subject: Some("a\r\nBcc: evil@x".into()), ..Default::default() }).is_err());
    }
}
