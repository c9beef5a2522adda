//! A received message, read with mail-parser: what the conversation shows
//! (text, HTML made safe to display, attachments and inline images) and what
//! threading and safety decide on (ids, the sender, auto-reply headers, a
//! delivery report).

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use std::collections::HashSet;
use switchboard_service::conversation::IncomingFile;

/// Longest text kept in the conversation, in characters (the service's
/// limit for a message); the whole message is kept as its source.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Largest HTML part sanitised; a larger one is shown as text only.
const MAX_HTML_IN: usize = 1024 * 1024;
/// Largest sanitised HTML kept in the message.
const MAX_HTML_OUT: usize = 256 * 1024;
/// Attachments and inline parts stored one by one; a message with more
/// (a mail bomb of tiny parts) has the rest in its source only.
pub const MAX_PARTS: usize = 50;
/// Longest attachment name kept, in bytes (what file systems take).
const MAX_NAME_BYTES: usize = 200;
/// Addresses kept of one To or Cc header (a list mailed to thousands is
/// not a reply-all list).
const MAX_ADDRESSES: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mailbox {
    pub address: String,
    pub name: Option<String>,
}

/// What an RFC 3464 delivery status notification says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Some recipient failed for good (`Action: failed` or a 5.x.x status),
    /// rather than the message being delayed.
    pub failed: bool,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    pub recipient: Option<String>,
    /// The Message-ID of the message it reports on, from its returned
    /// message or headers.
    pub original_id: Option<String>,
}

/// The headers that say a message was sent by a machine (RFC 3834 and
/// what list and vacation software add).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoHeaders {
    pub auto_submitted: Option<String>,
    pub x_autoreply: bool,
    pub precedence: Option<String>,
    pub list_id: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Email {
    /// Each id with its angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Mailbox>,
    /// The addresses of To and Cc (a reply to all goes to them too).
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The envelope sender the delivering server recorded (`Return-Path`),
    /// empty for the null reverse path: what a message read from a mailbox
    /// has for `MAIL FROM`.
    pub return_path: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    /// Sanitised for display: no script, no style, no remote image; an
    /// inline image keeps its `cid:` source.
    pub html: Option<String>,
    /// The first [`MAX_PARTS`] attachments and inline parts (an image the
    /// HTML shows by `cid:`), decoded, their names made safe to offer.
    pub attachments: Vec<IncomingFile>,
    /// How many more the message has (in its source only).
    pub attachments_left: usize,
    pub auto: AutoHeaders,
    /// Set when the message is a delivery status notification.
    pub report: Option<Report>,
    /// Every `Authentication-Results` value, topmost first (see `authres`).
    pub authentication_results: Vec<String>,
}

impl Email {
    /// Reads `raw`; `None` when it is not a message at all.
    pub fn parse(raw: &[u8]) -> Option<Email> {
        let message = MessageParser::default().parse(raw)?;
        if message.headers().is_empty() {
            return None;
        }
        let from = message.from().and_then(|a| a.first()).and_then(|a| {
            let address = a.address.as_deref()?.trim().to_string();
            let name = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
            (!address.is_empty()).then_some(Mailbox { address, name })
        });
        let addresses = |list: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            list.into_iter()
                .flat_map(|l| l.iter())
                .filter_map(|a| a.address.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_string))
                .take(MAX_ADDRESSES)
                .collect()
        };
        let mut text: String = message
            .text_bodies()
            .filter_map(|p| match &p.body {
                PartType::Text(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let html_part = message.html_bodies().find_map(|p| match &p.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        });
        if text.trim().is_empty()
            && let Some(h) = message.body_text(0)
        {
            // HTML only: mail-parser's text rendering of it.
            text = h.into_owned();
        }
        let mut attachments = attachments(&message);
        let attachments_left = attachments.len().saturating_sub(MAX_PARTS);
        attachments.truncate(MAX_PARTS);
        Some(Email {
            message_id: message.message_id().map(crate::thread::bracketed),
            in_reply_to: ids(message.in_reply_to()),
            references: ids(message.references()),
            from,
            to: addresses(message.to()),
            cc: addresses(message.cc()),
            return_path: message.header_raw("Return-Path").map(return_path),
            subject: message.subject().map(|s| printable(s).trim().to_string()),
            text: cut(printable(&text).trim(), MAX_TEXT_CHARS),
            html: html_part.filter(|h| h.len() <= MAX_HTML_IN).map(sanitise).filter(|h| h.len() <= MAX_HTML_OUT),
            attachments,
            attachments_left,
            auto: auto_headers(&message),
            report: report(&message),
            authentication_results: message
                .headers_raw()
                .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
                .map(|(_, value)| value.to_string())
                .collect(),
        })
    }
}

/// The address in a `Return-Path` value (`<a@b>`, `<>`, or a bare address).
fn return_path(raw: &str) -> String {
    let raw = raw.trim();
    let inner = match raw.strip_prefix('<') {
        Some(rest) => rest.split_once('>').map_or(rest, |(a, _)| a),
        None => raw.split_whitespace().next().unwrap_or(""),
    };
    inner.trim().to_string()
}

/// `text` without control characters but line breaks and tabs: a message
/// declared text may hold anything (a NUL, a form feed, bare CRs), and an
/// agent's screen shows none of it.
fn printable(text: &str) -> String {
    text.chars().filter(|&c| !c.is_control() || c == '\n' || c == '\t').collect()
}

/// `text` cut to `max` characters, saying so.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}\n[… cut here; the whole message is attached]", &text[..at]),
    }
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![crate::thread::bracketed(t)],
        HeaderValue::TextList(list) => list.iter().map(|t| crate::thread::bracketed(t)).collect(),
        _ => Vec::new(),
    }
}

fn header_text(message: &Message<'_>, name: &str) -> Option<String> {
    let value = message.header(name)?;
    match value {
        HeaderValue::Text(t) => Some(t.trim().to_string()),
        HeaderValue::TextList(l) => l.first().map(|t| t.trim().to_string()),
        _ => message.header_raw(name).map(|r| r.trim().to_string()),
    }
}

fn auto_headers(message: &Message<'_>) -> AutoHeaders {
    AutoHeaders {
        auto_submitted: header_text(message, "Auto-Submitted"),
        x_autoreply: message.header("X-Autoreply").is_some() || message.header("X-Autorespond").is_some(),
        precedence: header_text(message, "Precedence"),
        list_id: message.header("List-Id").is_some(),
    }
}

fn attachments(message: &Message<'_>) -> Vec<IncomingFile> {
    message
        .attachments()
        .enumerate()
        .map(|(i, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match &ct.c_subtype {
                    Some(sub) => format!("{}/{sub}", ct.c_type),
                    None => ct.c_type.to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let name = part.attachment_name().map(file_name).filter(|n| !n.is_empty());
            let content_id = part
                .content_id()
                .map(|id| id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string())
                .filter(|id| !id.is_empty());
            IncomingFile {
                name: name.unwrap_or_else(|| format!("attachment-{}", i + 1)),
                content_type,
                content_id,
                bytes: part.contents().to_vec(),
            }
        })
        .collect()
}

/// A sender's file name as one we can offer: printable, on one line,
/// without a path (`../../x` is `.._.._x`), at most [`MAX_NAME_BYTES`].
fn file_name(name: &str) -> String {
    let clean: String =
        name.chars().filter(|c| !c.is_control()).map(|c| if matches!(c, '/' | '\\') { '_' } else { c }).collect();
    let clean = clean.trim();
    let mut end = clean.len().min(MAX_NAME_BYTES);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].trim_end().to_string()
}

/// HTML as the desktop may show it: ammonia's safe subset, links that open
/// elsewhere, and no image loaded from anywhere (a remote image tells the
/// sender the message was read) but the message's own parts, named by
/// `cid:` (the service links them to the stored parts).
pub fn sanitise(html: &str) -> String {
    let schemes: HashSet<&str> = ["http", "https", "mailto", "cid"].into_iter().collect();
    ammonia::Builder::default()
        .url_schemes(schemes)
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("img", "src") if is_cid(value) => Some(value.into()),
            ("img", "src" | "srcset") => None,
            // A link to a part is no link.
            (_, "href") if is_cid(value) => None,
            _ => Some(value.into()),
        })
        .clean(html)
        .to_string()
}

fn is_cid(url: &str) -> bool {
    url.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("cid:"))
}

fn is_type<'a>(part: &impl MimeHeaders<'a>, ctype: &str, subtypes: &[&str]) -> bool {
    subtypes.iter().any(|s| part.is_content_type(ctype, s))
}

/// The delivery status notification in `message`, if it is one.
fn report(message: &Message<'_>) -> Option<Report> {
    let root = message.root_part();
    let report_type = root.content_type().and_then(|ct| ct.attribute("report-type")).unwrap_or("");
    if !is_type(root, "multipart", &["report"]) || !report_type.eq_ignore_ascii_case("delivery-status") {
        return None;
    }
    let mut report = Report::default();
    for part in &message.parts {
        if is_type(part, "message", &["delivery-status", "global-delivery-status"]) {
            status_fields(&String::from_utf8_lossy(part.contents()), &mut report);
        } else if report.original_id.is_none() {
            report.original_id = match &part.body {
                PartType::Message(m) => m.message_id().map(crate::thread::bracketed),
                _ if is_type(part, "text", &["rfc822-headers"]) || is_type(part, "message", &["rfc822-headers"]) => {
                    MessageParser::default()
                        .parse_headers(part.contents())
                        .and_then(|m| m.message_id().map(crate::thread::bracketed))
                }
                _ => None,
            };
        }
    }
    Some(report)
}

/// Reads the per-recipient fields of a `message/delivery-status` body.
fn status_fields(body: &str, report: &mut Report) {
    for line in body.lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim().to_string();
        match name.trim().to_ascii_lowercase().as_str() {
            "action" if value.eq_ignore_ascii_case("failed") => report.failed = true,
            "status" => {
                report.failed |= value.starts_with('5');
                report.status.get_or_insert(value);
            }
            "diagnostic-code" => {
                report.diagnostic.get_or_insert(value);
            }
            "final-recipient" | "original-recipient" => {
                let address = value.rsplit(';').next().unwrap_or(&value).trim().to_string();
                report.recipient.get_or_insert(address);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_html_charsets_encoded_words_and_attachments() {
        let raw = concat!(
            "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.com>\r\n",
            "To: support@demo.example, \"Bob\" <bob@example.com>\r\n",
            "Cc: carol@example.com\r\n",
            "Subject: =?UTF-8?B?w4dhIG5lIG1hcmNoZSBwYXM=?=\r\n",
            "Message-ID: <m1@example.com>\r\n",
            "References: <root@example.com> <c3.m9.0123456789abcdef@demo.example>\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=b1\r\n\r\n",
            "--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n",
            "--b2\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "Caf=E9 froid\r\n",
            "--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
            "<p onclick=\"x()\">Caf\u{e9} <b>froid</b><script>alert(1)</script><img src=\"https://track.example/p.gif\" alt=\"logo\"></p>\r\n",
            "--b2--\r\n",
            "--b1\r\nContent-Type: application/pdf; name=\"facture.pdf\"\r\nContent-Disposition: attachment; filename=\"facture.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "JVBERi0xLjQK\r\n",
            "--b1--\r\n"
        );
        let e = Email::parse(raw.as_bytes()).unwrap();
        assert_eq!(e.from, Some(Mailbox { address: "andre@example.com".into(), name: Some("André".into()) }));
        assert_eq!(e.subject.as_deref(), Some("Ça ne marche pas"));
        assert_eq!(
            (e.to, e.cc),
            (vec!["support@demo.example".into(), "bob@example.com".into()], vec!["carol@example.com".into()])
        );
        assert_eq!(e.text, "Café froid");
        let html = e.html.unwrap();
        assert!(html.contains("<b>froid</b>") && !html.contains("script") && !html.contains("onclick"), "{html}");
        assert!(!html.contains("track.example") && html.contains("alt=\"logo\""), "{html}");
        assert_eq!(e.message_id.as_deref(), Some("<m1@example.com>"));
        assert_eq!(e.references, vec!["<root@example.com>", "<c3.m9.0123456789abcdef@demo.example>"]);
        assert_eq!(
            e.attachments,
            vec![IncomingFile {
                name: "facture.pdf".into(),
                content_type: "application/pdf".into(),
                content_id: None,
                bytes: b"%PDF-1.4\n".to_vec()
            }]
        );
        assert_eq!(e.report, None);
    }

    #[test]
    fn inline_images_keep_their_cid_and_nothing_else_loads() {
        let raw = concat!(
            "From: ann@example.com\r\nTo: support@demo.example\r\nSubject: Broken\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/related; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
            "<p>See <img src=\"cid:shot.1@example.com\" alt=\"shot\"> <img src=\"https://t.example/p.gif\">",
            " <img srcset=\"cid:shot.1@example.com 2x\"> <a href=\"cid:shot.1@example.com\">it</a></p>\r\n",
            "--r\r\nContent-Type: image/png\r\nContent-ID: <shot.1@example.com>\r\n",
            "Content-Disposition: inline; filename=\"../../etc/shot\u{7}.png\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n"
        );
        let e = Email::parse(raw.as_bytes()).unwrap();
        let html = e.html.unwrap();
        assert!(html.contains("src=\"cid:shot.1@example.com\""), "{html}");
        assert!(!html.contains("t.example") && !html.contains("srcset") && !html.contains("href"), "{html}");
        assert_eq!(e.attachments.len(), 1);
        let part = &e.attachments[0];
        assert_eq!((part.name.as_str(), part.content_type.as_str()), (".._.._etc_shot.png", "image/png"));
        assert_eq!(
            (part.content_id.as_deref(), part.bytes.as_slice()),
            (Some("shot.1@example.com"), &b"\x89PNG\r\n\x1a\n"[..])
        );
    }

    #[test]
    fn a_delivery_status_notification_is_read() {
        let raw = concat!(
            "From: MAILER-DAEMON@relay.example\r\nSubject: Undelivered Mail\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n",
            "--r\r\nContent-Type: message/delivery-status\r\n\r\n",
            "Reporting-MTA: dns; relay.example\r\n\r\n",
            "Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
            "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n",
            "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n",
            "Message-ID: <c5.m12.00112233445566aa@demo.example>\r\nSubject: Re: help\r\n",
            "--r--\r\n"
        );
        let report = Email::parse(raw.as_bytes()).unwrap().report.unwrap();
        assert!(report.failed);
        assert_eq!(report.status.as_deref(), Some("5.1.1"));
        assert_eq!(report.recipient.as_deref(), Some("gone@customer.example"));
        assert_eq!(report.diagnostic.as_deref(), Some("smtp; 550 5.1.1 no such user"));
        assert_eq!(report.original_id.as_deref(), Some("<c5.m12.00112233445566aa@demo.example>"));
    }

    #[test]
    fn the_return_path_is_the_envelope_sender() {
        let path =
            |h: &str| Email::parse(format!("{h}From: a@x.example\r\n\r\nhi\r\n").as_bytes()).unwrap().return_path;
        assert_eq!(path("Return-Path: <bounce@x.example>\r\n").as_deref(), Some("bounce@x.example"));
        assert_eq!(path("Return-Path: <>\r\n").as_deref(), Some(""));
        assert_eq!(path("Return-Path: bare@x.example (comment)\r\n").as_deref(), Some("bare@x.example"));
        assert_eq!(path(""), None);
    }

    #[test]
    fn control_characters_are_not_shown() {
        let e = Email::parse(b"From: a@x.example\r\nSubject: a\x07b\r\n\r\none\x00two\r\n\tthree\x0c\r\n").unwrap();
        assert_eq!((e.subject.as_deref(), e.text.as_str()), (Some("ab"), "onetwo\n\tthree"));
    }

    #[test]
    fn long_text_is_cut_on_a_character() {
        let long = "é".repeat(MAX_TEXT_CHARS + 5);
        let c = cut(&long, MAX_TEXT_CHARS);
        assert!(c.starts_with(&"é".repeat(MAX_TEXT_CHARS)) && c.ends_with("attached]"));
        assert_eq!(cut("short", 10), "short");
    }
}
