//! Replies out: SMTP submission through the relay an endpoint names in its
//! settings, with the threading headers that make the customer's client
//! (and our own listener, when they answer) put it in the conversation.
//!
//! Endpoint settings: `smtp_host`, `smtp_port` (587), `smtp_tls`
//! (`starttls`, the default; `implicit` for port 465; `none` for a relay on
//! this machine), `smtp_username`; the password is the sealed credential
//! `smtp_password`.

use crate::receive::{FROM, SUBJECT};
use crate::thread;
use mail_send::SmtpClientBuilder;
use mail_send::mail_builder::MessageBuilder;
use std::time::Duration;
use switchboard_core::expr::Value as AttrValue;
use switchboard_service::Attachment;
use switchboard_service::conversation::{Notice, Outbound, SendError};
use switchboard_service::endpoints::{Credentials, Endpoint};

const DEFAULT_PORT: u16 = 587;
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    StartTls,
    Implicit,
    /// Plain text: for a relay on the same machine or network only.
    None,
}

/// How an endpoint's mail goes out.
#[derive(Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    /// Username and password, when the relay wants AUTH.
    pub login: Option<(String, String)>,
}

impl std::fmt::Debug for Relay {
    // Never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("host", &self.host).field("port", &self.port).field("tls", &self.tls).finish()
    }
}

impl Relay {
    /// The relay `endpoint`'s settings and credentials name. A missing or
    /// wrong setting is permanent: retrying will not fix it.
    pub fn of(endpoint: &Endpoint, credentials: &Credentials) -> Result<Relay, SendError> {
        let setting = |k: &str| endpoint.settings.get(k);
        let host = setting("smtp_host")
            .and_then(|v| v.as_str())
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(|| SendError::Permanent("the endpoint has no smtp_host to send replies through".into()))?;
        let port = match setting("smtp_port") {
            None => DEFAULT_PORT,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| SendError::Permanent("the endpoint's smtp_port is not a port".into()))?,
        };
        let tls = match setting("smtp_tls").and_then(|v| v.as_str()).unwrap_or("starttls") {
            "starttls" => Tls::StartTls,
            "implicit" => Tls::Implicit,
            "none" => Tls::None,
            other => {
                return Err(SendError::Permanent(format!(
                    "the endpoint's smtp_tls '{other}' is not one of starttls, implicit, none"
                )));
            }
        };
        let username = setting("smtp_username").and_then(|v| v.as_str()).filter(|u| !u.is_empty());
        let login = match (username, credentials.get("smtp_password")) {
            (Some(u), Some(p)) => Some((u.to_string(), p.to_string())),
            (Some(_), None) => {
                return Err(SendError::Permanent("the endpoint has smtp_username but no smtp_password".into()));
            }
            _ => None,
        };
        Ok(Relay { host: host.trim().to_string(), port, tls, login })
    }
}

fn attribute<'a>(message: &'a Outbound, key: &str) -> Option<&'a str> {
    match message.attributes.get(key) {
        Some(AttrValue::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// "Re: " and the subject, once.
pub fn reply_subject(subject: Option<&str>) -> String {
    let subject = subject.map(str::trim).unwrap_or("");
    let lower = subject.to_ascii_lowercase();
    if lower.starts_with("re:") {
        subject.to_string()
    } else if subject.is_empty() {
        "Re: your message".into()
    } else {
        format!("Re: {subject}")
    }
}

/// A reply ready to submit.
#[derive(Clone, Debug)]
pub struct Composed {
    /// Its Message-ID, with angle brackets.
    pub id: String,
    pub from: String,
    /// Every recipient, Bcc included: the envelope's.
    pub recipients: Vec<String>,
    pub bytes: Vec<u8>,
}

/// Whether `address` has the form `local@domain` (the service has already
/// refused spaces, brackets and commas).
fn is_address(address: &str) -> bool {
    matches!(address.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'))
}

/// `list`, each checked to be an address.
fn addresses(header: &str, list: &[String]) -> Result<Vec<String>, SendError> {
    match list.iter().find(|a| !is_address(a)) {
        Some(bad) => Err(SendError::Permanent(format!("{header}: '{bad}' is not an email address"))),
        None => Ok(list.to_vec()),
    }
}

/// The message `message` becomes, from `endpoint`, with `files` (the
/// message's attachments, in order) attached.
pub fn compose(endpoint: &Endpoint, message: &Outbound, files: &[Attachment]) -> Result<Composed, SendError> {
    let from = endpoint
        .address
        .clone()
        .ok_or_else(|| SendError::Permanent("the endpoint has no address to send from".into()))?;
    let chosen = &message.body.addressing;
    // The agent's recipients, else the customer's address.
    let to = if chosen.to.is_empty() {
        let customer = attribute(message, FROM)
            .ok_or_else(|| SendError::Permanent("this conversation has no customer email address".into()))?;
        vec![customer.to_string()]
    } else {
        chosen.to.clone()
    };
    let to = addresses("To", &to)?;
    let cc = addresses("Cc", &chosen.cc)?;
    let bcc = addresses("Bcc", &chosen.bcc)?;
    let subject = match &chosen.subject {
        Some(s) => s.clone(),
        None => reply_subject(attribute(message, SUBJECT)),
    };
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let id = thread::new_id(message.contact, message.message, domain);
    let bare = |id: &str| id.trim_start_matches('<').trim_end_matches('>').to_string();
    let mut builder = MessageBuilder::new()
        .from((endpoint.name.clone(), from.clone()))
        .to(to.clone())
        .subject(subject)
        .message_id(bare(&id))
        .header("Auto-Submitted", mail_send::mail_builder::headers::raw::Raw::new(auto_submitted(message)))
        .text_body(message.body.text.clone());
    if !cc.is_empty() {
        builder = builder.cc(cc.clone());
    }
    if let Some(html) = &message.body.html {
        builder = builder.html_body(html.clone());
    }
    for f in files {
        builder = builder.attachment(f.content_type.clone(), f.name.clone(), f.bytes.as_slice());
    }
    // In-Reply-To names the message answered: the customer's latest, else
    // the thread's root. References keeps the root first and the answered
    // message last (RFC 5322 3.6.4 lets the middle be dropped), so every
    // mail client threads the reply under what the customer just sent.
    let answered = message.in_reply_to.as_deref().or(message.thread.as_deref());
    if let Some(parent) = answered {
        let mut references: Vec<String> = message.thread.iter().map(|root| bare(root)).collect();
        if !references.contains(&bare(parent)) {
            references.push(bare(parent));
        }
        builder = builder.in_reply_to(bare(parent)).references(references);
    }
    let bytes = builder.write_to_vec().map_err(|e| SendError::Permanent(format!("building the message: {e}")))?;
    // Bcc is on the envelope only: no header names them.
    let recipients = to.into_iter().chain(cc).chain(bcc).collect();
    Ok(Composed { id, from, recipients, bytes })
}

/// A notice (the daily summary) from `endpoint` to one of its recipients:
/// generated by the server, so `Auto-Submitted: auto-generated` (RFC 3834).
pub fn compose_notice(endpoint: &Endpoint, to: &str, notice: &Notice) -> Result<Composed, SendError> {
    let from = endpoint
        .address
        .clone()
        .ok_or_else(|| SendError::Permanent("the endpoint has no address to send from".into()))?;
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let id = thread::notice_id(domain);
    let bytes = MessageBuilder::new()
        .from((endpoint.name.clone(), from.clone()))
        .to(to.to_string())
        .subject(notice.subject.clone())
        .message_id(id.trim_start_matches('<').trim_end_matches('>').to_string())
        .header("Auto-Submitted", mail_send::mail_builder::headers::raw::Raw::new("auto-generated"))
        .text_body(notice.text.clone())
        .write_to_vec()
        .map_err(|e| SendError::Permanent(format!("building the message: {e}")))?;
    Ok(Composed { id, from, recipients: vec![to.to_string()], bytes })
}

/// RFC 3834: the bot's answers are automatic, an agent's are not.
fn auto_submitted(message: &Outbound) -> &'static str {
    match message.body.from {
        switchboard_service::conversation::Author::Agent => "no",
        _ => "auto-replied",
    }
}

/// Hands `mail` to `relay`.
pub async fn submit(relay: &Relay, mail: &Composed) -> Result<(), SendError> {
    let from = mail.from.as_str();
    let message =
        mail_send::smtp::message::Message::new(from, mail.recipients.iter().map(String::as_str), mail.bytes.as_slice());
    let mut builder = SmtpClientBuilder::new(relay.host.as_str(), relay.port)
        .map_err(|e| SendError::Permanent(format!("TLS set-up: {e}")))?
        .timeout(TIMEOUT)
        .implicit_tls(relay.tls == Tls::Implicit)
        .helo_host(from.rsplit_once('@').map_or("localhost", |(_, d)| d));
    if let Some((user, password)) = &relay.login {
        builder = builder.credentials((user.as_str(), password.as_str()));
    }
    let result: mail_send::Result<()> = async {
        match relay.tls {
            Tls::None => {
                let mut client = builder.connect_plain().await?;
                client.send(message).await?;
                // The message is taken; a QUIT that goes wrong changes nothing.
                let _ = client.quit().await;
            }
            Tls::StartTls | Tls::Implicit => {
                let mut client = builder.connect().await?;
                client.send(message).await?;
                let _ = client.quit().await;
            }
        }
        Ok(())
    }
    .await;
    result.map_err(|e| classify(&relay.host, e))
}

/// 4xx and trouble on the way are worth another try; 5xx and a relay we
/// cannot talk to as configured are not.
fn classify(host: &str, e: mail_send::Error) -> SendError {
    use mail_send::Error as E;
    let reason = format!("{host}: {}", describe(&e));
    match e {
        E::UnexpectedReply(r) | E::AuthenticationFailed(r) if r.code >= 500 => SendError::Permanent(reason),
        E::UnexpectedReply(_) | E::AuthenticationFailed(_) | E::Io(_) | E::Timeout | E::UnparseableReply => {
            SendError::Retryable(reason)
        }
        _ => SendError::Permanent(reason),
    }
}

fn describe(e: &mail_send::Error) -> String {
    use mail_send::Error as E;
    match e {
        E::UnexpectedReply(r) => format!("{} {}", r.code, r.message),
        E::AuthenticationFailed(r) => format!("authentication failed: {} {}", r.code, r.message),
        E::Io(io) => format!("connection: {io}"),
        E::Tls(t) => format!("TLS: {t}"),
        E::Timeout => "timed out".into(),
        E::MissingStartTls => "the relay does not offer STARTTLS".into(),
        E::UnsupportedAuthMechanism => "the relay offers no login this client speaks".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_get_one_re() {
        assert_eq!(reply_subject(Some("Help")), "Re: Help");
        assert_eq!(reply_subject(Some("RE: Help")), "RE: Help");
        assert_eq!(reply_subject(None), "Re: your message");
    }
}
