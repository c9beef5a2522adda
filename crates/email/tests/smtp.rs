//! The listener against real clients: swaks and Python's smtplib send
//! plain, HTML, attached, pipelined and SMTPUTF8 mail; strangers, size and
//! garbage are refused the way RFC 5321 says.

mod common;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use common::{SUPPORT, mailroom};
use serde_json::json;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_service::ContactState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MB: usize = 1024 * 1024;

async fn messages_of_every_shape_open_contacts(url: String) {
    let m = mailroom(&url, 25 * MB, json!({})).await;

    let (ok, out) = m
        .mail(
            "ann@customer.example",
            &[
                "--h-From",
                "Ann Example <ann@customer.example>",
                "--h-Subject",
                "Where is my order?",
                "--header",
                "Message-Id: <plain-1@customer.example>",
                "--body",
                "It has not arrived.",
                "--pipeline",
            ],
        )
        .await;
    assert!(ok, "{out}");
    assert!(out.contains("250 2.0.0 taken"), "{out}");
    let contacts = m.contacts_of("ann@customer.example").await;
    assert_eq!(contacts.len(), 1);
    let c = &contacts[0];
    assert_eq!((c.channel, c.state, c.queue), (Channel::Email, ContactState::Queued, Some(m.queue)));
    assert_eq!(c.attributes["subject"], Value::Str("Where is my order?".into()));
    let messages = m.messages(c.id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "It has not arrived.");
    assert_eq!(messages[0]["client_id"], "<plain-1@customer.example>");
    // The source is kept with the message.
    assert_eq!(messages[0]["attachment"]["content_type"], "message/rfc822");
    let customer = m.service.store().customer(m.p.workspace, c.customer.unwrap()).await.unwrap().unwrap();
    assert_eq!(customer.name, "Ann Example");

    // HTML with a text alternative, and an attachment.
    let dir = common::temp_dir();
    let message = dir.join("multipart.eml");
    std::fs::write(
        &message,
        concat!(
            "From: bob@customer.example\r\nTo: support@shop.example\r\nSubject: Receipt\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n",
            "--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n",
            "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOrder #42, receipt attached.\r\n",
            "--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
            "<p>Order <b>#42</b><script>steal()</script><img src=\"http://track.example/x.gif\"></p>\r\n",
            "--a--\r\n",
            "--m\r\nContent-Type: application/pdf; name=\"receipt.pdf\"\r\nContent-Disposition: attachment; filename=\"receipt.pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgcmVjZWlwdA==\r\n--m--\r\n",
        ),
    )
    .unwrap();
    let data = format!("@{}", message.display());
    let (ok, out) = m.mail("bob@customer.example", &["--data", &data]).await;
    assert!(ok, "{out}");
    let c = &m.contacts_of("bob@customer.example").await[0];
    let shown = &m.messages(c.id).await[0];
    let text = shown["text"].as_str().unwrap();
    assert!(text.starts_with("Order #42, receipt attached."), "{text}");
    assert!(!text.contains("receipt.pdf"), "the file is an attachment of its own, not text: {text}");
    assert_eq!(shown["attachments"][0]["name"], "receipt.pdf");
    let html = shown["html"].as_str().unwrap_or_default();
    assert!(html.contains("<b>#42</b>") && !html.contains("script") && !html.contains("track.example"), "{html}");

    // SMTPUTF8: an address and a subject beyond ASCII.
    let (ok, out) = m
        .smtplib(&format!(
            "SMTP.ehlo('client')\nassert SMTP.has_extn('smtputf8')\nmsg = 'From: José <josé@cliente.example>\\r\\nTo: {SUPPORT}\\r\\nSubject: Pedido perdido ñ\\r\\nMessage-ID: <utf8-1@cliente.example>\\r\\n\\r\\nNo llegó.\\r\\n'\nprint(SMTP.sendmail('josé@cliente.example', ['{SUPPORT}'], msg.encode('utf-8'), mail_options=['SMTPUTF8', 'BODY=8BITMIME']))\nSMTP.quit()"
        ))
        .await;
    assert!(ok, "{out}");
    let c = &m.contacts_of("josé@cliente.example").await[0];
    assert_eq!(c.attributes["subject"], Value::Str("Pedido perdido ñ".into()));
    assert_eq!(m.messages(c.id).await[0]["text"], "No llegó.");
    std::fs::remove_dir_all(dir).unwrap();
}

async fn strangers_size_and_garbage_are_refused(url: String) {
    let m = mailroom(&url, MB, json!({})).await;
    let (ok, out) = m.swaks(&["--to", "nobody@shop.example", "--from", "eve@customer.example"]).await;
    assert!(!ok && out.contains("550 5.1.1"), "{out}");

    // Over the limit: 552, and nothing stored.
    let big = "x".repeat(78);
    let body: String = std::iter::repeat_n(format!("{big}\r\n"), 2 * MB / 80).collect();
    let dir = common::temp_dir();
    let file = dir.join("big.txt");
    std::fs::write(&file, body).unwrap();
    let (ok, out) = m.mail("big@customer.example", &["--body", &format!("@{}", file.display())]).await;
    assert!(!ok && out.contains("552 5.3.4"), "{out}");
    assert!(m.contacts_of("big@customer.example").await.is_empty());
    std::fs::remove_dir_all(dir).unwrap();

    // Garbage: a 5xx for each bad line, and the session goes on.
    let mut s = tokio::net::TcpStream::connect(m.smtp).await.unwrap();
    s.write_all(b"\x16\x03\x01\x00\xff\xfe garbage\r\nMAIL FROM:<x@y>\r\nEHLO c\r\nRCPT TO:<a@shop.example>\r\nNOOP\r\nQUIT\r\n").await.unwrap();
    let mut out = String::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let codes: Vec<&str> = out.lines().filter(|l| l.as_bytes().get(3) == Some(&b' ')).map(|l| &l[..3]).collect();
    assert_eq!(codes, ["220", "500", "503", "250", "503", "250", "221"], "{out}");
}

async fn starttls_with_a_certificate(url: String) {
    let dir = common::temp_dir();
    let tls = common::certificate(&dir, "mx.shop.example");
    let m = common::mailroom_with(&url, MB, json!({}), Some(tls)).await;
    let (ok, out) = m.mail("tls@customer.example", &["--tls", "--body", "Sent over TLS."]).await;
    assert!(ok, "{out}");
    assert!(out.contains("STARTTLS") && out.contains("TLS started"), "{out}");
    let c = &m.contacts_of("tls@customer.example").await[0];
    assert_eq!(m.messages(c.id).await[0]["text"], "Sent over TLS.");
    std::fs::remove_dir_all(dir).unwrap();
}

/// An HTML message with an inline image (multipart/related, `cid:`) and an
/// attachment: each part is a file of its own with its type, size and hash,
/// the image shows from the stored part, and only the workspace's users may
/// read them.
async fn inline_images_and_attachments_are_stored_one_by_one(url: String) {
    let m = mailroom(&url, 25 * MB, json!({})).await;
    // The eight bytes of PNG's signature stand for an image.
    let png: &[u8] = b"\x89PNG\r\n\x1a\n";
    let dir = common::temp_dir();
    let message = dir.join("related.eml");
    std::fs::write(
        &message,
        concat!(
            "From: Dee <dee@customer.example>\r\nTo: support@shop.example\r\nSubject: The crack\r\n",
            "Message-ID: <related-1@customer.example>\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n",
            "--m\r\nContent-Type: multipart/related; boundary=\"r\"; type=\"text/html\"\r\n\r\n",
            "--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
            "<p>Here:</p><img src=\"cid:crack.1@customer.example\" alt=\"photo\">",
            "<img src=\"https://track.example/open.gif\">\r\n",
            "--r\r\nContent-Type: image/png; name=\"crack.png\"\r\nContent-ID: <crack.1@customer.example>\r\n",
            "Content-Disposition: inline; filename=\"crack.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "iVBORw0KGgo=\r\n--r--\r\n",
            "--m\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n",
            "Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgcmVjZWlwdA==\r\n--m--\r\n",
        ),
    )
    .unwrap();
    let data = format!("@{}", message.display());
    let (ok, out) = m.mail("dee@customer.example", &["--data", &data]).await;
    assert!(ok && out.contains("250 2.0.0 taken"), "{out}");
    let c = &m.contacts_of("dee@customer.example").await[0];
    let shown = &m.messages(c.id).await[0];
    // The source, whole, as before; then each part.
    assert_eq!(shown["attachment"]["content_type"], "message/rfc822");
    let parts = shown["attachments"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{shown}");
    let (image, pdf) = (&parts[0], &parts[1]);
    assert_eq!((image["name"].as_str(), image["content_type"].as_str()), (Some("crack.png"), Some("image/png")));
    assert_eq!((image["size"].as_u64(), image["content_id"].as_str()), (Some(8), Some("crack.1@customer.example")));
    assert_eq!(
        image["sha256"], "4c4b6a3be1314ab86138bef4314dde022e600960d8689a2c8f8631802d20dab6",
        "the SHA-256 of PNG's signature"
    );
    assert_eq!((pdf["name"].as_str(), pdf["size"].as_u64()), (Some("invoice.pdf"), Some(16)));
    assert!(pdf.get("content_id").is_none());
    // The inline image points at its stored part; a remote one loads nothing.
    let image_id = image["id"].as_u64().unwrap();
    let html = shown["html"].as_str().unwrap();
    assert!(html.contains(&format!("<img src=\"/api/v1/attachments/{image_id}\" alt=\"photo\">")), "{html}");
    assert!(!html.contains("cid:") && !html.contains("track.example"), "{html}");
    // Each part is read back whole, as the server's route serves it.
    let stored = m.service.attachment_for(&m.p, image_id).await.unwrap();
    assert_eq!((stored.bytes.as_slice(), stored.contact), (png, c.id));
    let stored = m.service.attachment_for(&m.p, pdf["id"].as_u64().unwrap()).await.unwrap();
    assert_eq!(stored.bytes, b"%PDF-1.4 receipt");
    // Another workspace's admin does not see it.
    let (other, _) = support::workspace(&m.service, &["email"]).await;
    assert!(m.service.attachment_for(&other, image_id).await.is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

support::on_both!(
    inline_images_and_attachments_are_stored_one_by_one,
    messages_of_every_shape_open_contacts,
    strangers_size_and_garbage_are_refused,
    starttls_with_a_certificate
);
