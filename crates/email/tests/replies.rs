//! An agent's reply goes out through a real SMTP server (aiosmtpd) with the
//! headers that thread it, and the customer's answer to it comes back into
//! the same conversation.

mod common;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use common::{SUPPORT, Sink, header, mailroom};
use switchboard_core::expr::Value;
use switchboard_email::EmailChannel;
use switchboard_email::parse::Email;
use switchboard_service::ServiceError;
use switchboard_service::conversation::{Addressing, DeliveryOptions, Reply};

async fn a_reply_is_threaded_both_ways(url: String) {
    let sink = Sink::start();
    let m = mailroom(&url, 1024 * 1024, common::relay(&sink)).await;
    let (ok, out) = m
        .mail(
            "ann@customer.example",
            &[
                "--h-Subject",
                "Broken tent pole",
                "--header",
                "Message-Id: <q1@customer.example>",
                "--body",
                "The pole snapped on day one.",
            ],
        )
        .await;
    assert!(ok, "{out}");
    let contact = m.contacts_of("ann@customer.example").await[0].id;

    let reply = m.service.send_message(&m.p, contact, "We are sending a new pole today.", None).await.unwrap();
    let id = reply["id"].as_u64().unwrap();
    let channel = EmailChannel::new(m.service.clone());
    m.service.deliver_pending(&channel, &DeliveryOptions::default()).await.unwrap();
    let sent = sink.message(1).await;
    assert_eq!(header(&sent, "Subject").as_deref(), Some("Re: Broken tent pole"));
    assert_eq!(header(&sent, "To").as_deref(), Some("<ann@customer.example>"));
    assert!(header(&sent, "From").unwrap().contains(SUPPORT), "{sent}");
    assert_eq!(header(&sent, "In-Reply-To").as_deref(), Some("<q1@customer.example>"));
    assert_eq!(header(&sent, "References").as_deref(), Some("<q1@customer.example>"));
    let our_id = header(&sent, "Message-ID").unwrap();
    assert!(our_id.starts_with(&format!("<c{}.m{id}.", contact.0)), "{our_id}");
    assert!(sent.contains("We are sending a new pole today."), "{sent}");
    let shown = m.messages(contact).await;
    let mine = shown.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(mine["delivery"]["state"], "sent");

    // The customer answers; their client kept only In-Reply-To.
    let (ok, out) = m
        .mail(
            "ann@customer.example",
            &[
                "--h-Subject",
                "Re: Broken tent pole",
                "--header",
                "Message-Id: <q2@customer.example>",
                "--header",
                &format!("In-Reply-To: {our_id}"),
                "--body",
                "Thanks, it arrived.",
            ],
        )
        .await;
    assert!(ok, "{out}");
    let contacts = m.contacts_of("ann@customer.example").await;
    assert_eq!(contacts.len(), 1, "the answer joins the conversation");
    let texts: Vec<String> =
        m.messages(contact).await.iter().map(|x| x["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, ["The pole snapped on day one.", "We are sending a new pole today.", "Thanks, it arrived."]);

    // A client that keeps References finds it by the root too, and a
    // repeat of a message changes nothing.
    for _ in 0..2 {
        let (ok, out) = m
            .mail(
                "ann@customer.example",
                &[
                    "--header",
                    "Message-Id: <q3@customer.example>",
                    "--header",
                    "References: <q1@customer.example> <q2@customer.example>",
                    "--body",
                    "One more thing.",
                ],
            )
            .await;
        assert!(ok, "{out}");
    }
    assert_eq!(m.contacts_of("ann@customer.example").await.len(), 1);
    assert_eq!(m.messages(contact).await.len(), 4);

    // The next reply answers the customer's latest message, the thread's
    // root still first in References.
    m.service.send_message(&m.p, contact, "Noted, thank you.", None).await.unwrap();
    m.service.deliver_pending(&channel, &DeliveryOptions::default()).await.unwrap();
    let second = sink.message(2).await;
    assert_eq!(header(&second, "In-Reply-To").as_deref(), Some("<q3@customer.example>"));
    assert_eq!(header(&second, "References").as_deref(), Some("<q1@customer.example> <q3@customer.example>"));
}

async fn an_answer_to_an_ended_conversation_opens_a_linked_one(url: String) {
    let sink = Sink::start();
    let m = mailroom(&url, 1024 * 1024, common::relay(&sink)).await;
    let (ok, out) =
        m.mail("ann@customer.example", &["--header", "Message-Id: <e1@customer.example>", "--body", "Hi"]).await;
    assert!(ok, "{out}");
    let first = m.contacts_of("ann@customer.example").await[0].id;
    m.service.send_message(&m.p, first, "Hello Ann, all done.", None).await.unwrap();
    m.service.deliver_pending(&EmailChannel::new(m.service.clone()), &DeliveryOptions::default()).await.unwrap();
    let our_id = header(&sink.message(1).await, "Message-ID").unwrap();
    m.service.end_conversation(m.p.workspace, first, "agent").await.unwrap();

    let (ok, out) = m
        .mail("ann@customer.example", &["--header", &format!("In-Reply-To: {our_id}"), "--body", "Not done, sorry."])
        .await;
    assert!(ok, "{out}");
    let contacts = m.contacts_of("ann@customer.example").await;
    assert_eq!(contacts.len(), 2, "a new contact");
    let second = &contacts[1];
    assert_eq!(second.attributes["previous_contact"], Value::Num(first.0 as f64));
    assert_eq!(m.messages(second.id).await[0]["text"], "Not done, sorry.");
}

/// A reply to all, in rich text with two files, a Bcc and its own subject:
/// the customer's Cc is on record to reply to, the Bcc is on the envelope
/// only, and the message carries both parts and both files.
async fn a_reply_to_all_carries_rich_text_files_and_copies(url: String) {
    let sink = Sink::start();
    let m = mailroom(&url, 1024 * 1024, common::relay(&sink)).await;
    let (ok, out) = m
        .mail(
            "ann@customer.example",
            &["--h-Subject", "Invoice", "--header", "Cc: Bob <bob@customer.example>", "--body", "Where is it?"],
        )
        .await;
    assert!(ok, "{out}");
    let contact = m.contacts_of("ann@customer.example").await[0].id;
    let first = &m.messages(contact).await[0];
    assert_eq!(first["subject"], "Invoice");
    assert_eq!(first["to"], serde_json::json!([SUPPORT]));
    assert_eq!(first["cc"], serde_json::json!(["bob@customer.example"]));

    let pdf = m.service.upload_attachment(&m.p, contact, "invoice.pdf", "application/pdf", b"%PDF-1.4 x".to_vec());
    let note = m.service.upload_attachment(&m.p, contact, "note.txt", "text/plain", b"paid in full".to_vec());
    let files = vec![pdf.await.unwrap().id, note.await.unwrap().id];
    let reply = Reply {
        text: "Here it is: **attached**.".into(),
        html: Some("<p>Here it is: <strong>attached</strong>.<script>x()</script></p>".into()),
        files,
        addressing: Addressing {
            subject: Some("Re: Invoice (March)".into()),
            to: vec!["ann@customer.example".into()],
            cc: vec!["bob@customer.example".into()],
            bcc: vec!["audit@shop.example".into()],
        },
    };
    let sent = m.service.send_reply(&m.p, contact, reply).await.unwrap();
    assert_eq!(sent["html"], "<p>Here it is: <strong>attached</strong>.</p>", "kept safe");
    assert_eq!(sent["attachments"].as_array().unwrap().len(), 1, "the second file after `attachment`");
    m.service.deliver_pending(&EmailChannel::new(m.service.clone()), &DeliveryOptions::default()).await.unwrap();

    let raw = sink.message(1).await;
    assert_eq!(header(&raw, "Subject").as_deref(), Some("Re: Invoice (March)"));
    assert_eq!(header(&raw, "Cc").as_deref(), Some("<bob@customer.example>"));
    assert_eq!(header(&raw, "Bcc"), None, "{raw}");
    let envelope = sink.envelope(1).await;
    assert_eq!(envelope, [SUPPORT, "ann@customer.example", "bob@customer.example", "audit@shop.example"]);
    let mail = Email::parse(raw.as_bytes()).unwrap();
    assert_eq!(mail.text, "Here it is: **attached**.");
    assert!(mail.html.unwrap().contains("<strong>attached</strong>"));
    let names: Vec<&str> = mail.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["invoice.pdf", "note.txt"]);
    assert!(header(&raw, "In-Reply-To").is_some() && header(&raw, "Message-ID").is_some());

    // What the relay could never take is refused before it is queued.
    let bad = |addressing: Addressing| Reply { text: "x".into(), addressing, ..Default::default() };
    let refused =
        m.service.send_reply(&m.p, contact, bad(Addressing { to: vec!["a b@x".into()], ..Default::default() }));
    assert!(matches!(refused.await, Err(ServiceError::Invalid { .. })));
    let copies_only = Addressing { cc: vec!["bob@customer.example".into()], ..Default::default() };
    assert!(matches!(m.service.send_reply(&m.p, contact, bad(copies_only)).await, Err(ServiceError::Invalid { .. })));
}

/// The endpoint's signature comes with the conversation's messages, for
/// the composer.
async fn the_signature_comes_with_the_messages(url: String) {
    let sink = Sink::start();
    let mut settings = common::relay(&sink);
    settings["signature"] = "The Shop team\nshop.example".into();
    let m = mailroom(&url, 1024 * 1024, settings).await;
    let (ok, out) = m.mail("ann@customer.example", &["--body", "Hello"]).await;
    assert!(ok, "{out}");
    let contact = m.contacts_of("ann@customer.example").await[0].id;
    let answer = m.service.messages(&m.p, contact).await.unwrap();
    assert_eq!(answer.signature.as_deref(), Some("The Shop team\nshop.example"));
}

/// What the relay says decides: 4xx is retried, 5xx is final; both are
/// on record with the relay's words.
async fn relay_refusals_are_retried_or_final_by_class(url: String) {
    let sink = Sink::start();
    let m = mailroom(&url, 1024 * 1024, common::relay(&sink)).await;
    let channel = EmailChannel::new(m.service.clone());
    let options = DeliveryOptions { attempts: 3, first_retry: std::time::Duration::from_millis(5) };
    for (customer, attempts, code) in [("busy@customer.example", 3, "451"), ("gone@customer.example", 1, "550")] {
        let (ok, out) = m.mail(customer, &["--body", "Hello"]).await;
        assert!(ok, "{out}");
        let contact = m.contacts_of(customer).await[0].id;
        let reply = m.service.send_message(&m.p, contact, "Hello back", None).await.unwrap();
        m.service.deliver_pending(&channel, &options).await.unwrap();
        let shown = m.messages(contact).await;
        let mine = shown.iter().find(|x| x["id"] == reply["id"]).unwrap();
        assert_eq!(mine["delivery"]["state"], "failed", "{customer}");
        assert_eq!(mine["delivery"]["final"], true);
        assert!(mine["delivery"]["reason"].as_str().unwrap().contains(code), "{mine}");
        let kind = switchboard_service::kinds::Kind::Delivery.as_str();
        let tries = m.service.store().contact_events(m.p.workspace, contact, Some(kind)).await.unwrap();
        assert_eq!(tries.len(), attempts, "{customer}: {tries:?}");
    }
}

support::on_both!(
    a_reply_is_threaded_both_ways,
    an_answer_to_an_ended_conversation_opens_a_linked_one,
    a_reply_to_all_carries_rich_text_files_and_copies,
    the_signature_comes_with_the_messages,
    relay_refusals_are_retried_or_final_by_class
);
