//! Email that must make no noise: auto-replies are marked and never get the
//! bot's answer, bounces never open a contact and mark the delivery of the
//! message they report on failed, our own mail coming back is a loop,
//! blocked senders open nothing, and the acknowledgement of new mail is
//! sent once and never to a machine.

mod common;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use common::{SUPPORT, Sink, header, mailroom};
use serde_json::json;
use switchboard_core::expr::Value;
use switchboard_email::EmailChannel;
use switchboard_service::conversation::DeliveryOptions;
use switchboard_service::flows::FlowUpdate;

async fn auto_replies_are_marked_and_never_answered(url: String) {
    let m = mailroom(&url, 1024 * 1024, json!({})).await;
    // A bot in front of the mailbox: it answers people at once.
    let definition: serde_json::Value = serde_json::from_str(switchboard_core::flow::example()).unwrap();
    let flow = m.service.put_flow(&m.p, None, FlowUpdate { name: Some("Bot".into()), definition }).await.unwrap();
    let input = serde_json::from_value(json!({ "name": "Shop support", "queue": m.queue, "flow": flow.id })).unwrap();
    m.service.update_endpoint(&m.p, m.endpoint, input).await.unwrap();

    let (ok, out) = m.mail("person@customer.example", &["--body", "Hello?"]).await;
    assert!(ok, "{out}");
    let person = &m.contacts_of("person@customer.example").await[0];
    assert!(m.messages(person.id).await.iter().any(|x| x["from"] == "bot"), "a person gets the bot");

    let (ok, out) = m
        .mail(
            "away@customer.example",
            &[
                "--header",
                "Auto-Submitted: auto-replied",
                "--h-Subject",
                "Out of office",
                "--body",
                "I am away until Monday.",
            ],
        )
        .await;
    assert!(ok, "{out}");
    let away = &m.contacts_of("away@customer.example").await[0];
    assert_eq!(away.attributes["email_automatic"], Value::Str("auto-submitted".into()));
    assert_eq!(away.queue, Some(m.queue), "straight to the queue, past the bot");
    let shown = m.messages(away.id).await;
    assert_eq!(shown.len(), 1, "no answer: {shown:?}");
    assert_eq!(shown[0]["automatic"], true);

    let (ok, out) = m.mail("list@lists.example", &["--header", "Precedence: bulk", "--body", "News"]).await;
    assert!(ok, "{out}");
    let list = &m.contacts_of("list@lists.example").await[0];
    assert_eq!(list.attributes["email_automatic"], Value::Str("precedence".into()));
}

async fn bounces_fail_the_delivery_and_open_nothing(url: String) {
    let sink = Sink::start();
    let m = mailroom(&url, 1024 * 1024, common::relay(&sink)).await;
    let (ok, out) = m.mail("moved@customer.example", &["--body", "Help"]).await;
    assert!(ok, "{out}");
    let contact = m.contacts_of("moved@customer.example").await[0].id;
    let reply = m.service.send_message(&m.p, contact, "How can we help?", None).await.unwrap();
    let id = reply["id"].as_u64().unwrap();
    m.service.deliver_pending(&EmailChannel::new(m.service.clone()), &DeliveryOptions::default()).await.unwrap();
    let our_id = header(&sink.message(1).await, "Message-ID").unwrap();

    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\nTo: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n\
         Final-Recipient: rfc822; moved@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {our_id}\r\nSubject: Re: Help\r\n\r\n--B--\r\n"
    );
    let dir = common::temp_dir();
    let file = dir.join("dsn.eml");
    std::fs::write(&file, &dsn).unwrap();
    let (ok, out) = m.mail("<>", &["--data", &format!("@{}", file.display())]).await;
    assert!(ok, "{out}");
    let shown = m.messages(contact).await;
    let mine = shown.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(mine["delivery"]["state"], "failed", "{shown:?}");
    assert!(mine["delivery"]["reason"].as_str().unwrap().contains("5.1.1"), "{mine}");
    assert!(m.contacts_of("mailer-daemon@relay.example").await.is_empty(), "a bounce opens nothing");

    // A bounce about nothing of ours is dropped; so is our own message
    // coming back in (a loop).
    std::fs::write(&file, dsn.replace(&our_id, "<someone-else@x.example>")).unwrap();
    let (ok, out) = m.mail("<>", &["--data", &format!("@{}", file.display())]).await;
    assert!(ok && out.contains("not stored"), "{out}");
    let (ok, out) = m.mail("loop@customer.example", &["--header", &format!("Message-Id: {our_id}")]).await;
    assert!(ok && out.contains("a loop"), "{out}");
    assert!(m.contacts_of("loop@customer.example").await.is_empty());
    assert!(m.contacts_of("mailer-daemon@relay.example").await.is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

async fn blocked_senders_open_nothing_and_new_mail_is_acknowledged_once(url: String) {
    let sink = Sink::start();
    let mut settings = common::relay(&sink);
    settings["blocklist"] = json!(["spam@customer.example", "@junk.example"]);
    settings["auto_acknowledge"] = json!("We have your message (reference {{reference}}) and will answer soon.");
    let m = mailroom(&url, 1024 * 1024, settings).await;

    for blocked in ["spam@customer.example", "offers@mail.junk.example"] {
        let (ok, out) = m.mail(blocked, &["--body", "Buy now"]).await;
        assert!(ok, "taken, so no bounce goes to a forged sender: {out}");
        assert!(m.contacts_of(blocked).await.is_empty(), "{blocked} opens nothing");
    }

    let (ok, out) = m.mail("person@customer.example", &["--h-Subject", "Broken lamp", "--body", "It flickers."]).await;
    assert!(ok, "{out}");
    let contact = m.contacts_of("person@customer.example").await[0].id;
    let shown = m.messages(contact).await;
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(shown[1]["from"], "bot");
    let text = shown[1]["text"].as_str().unwrap();
    assert!(text.contains(&format!("reference {}", contact.0)), "{text}");
    m.service.deliver_pending(&EmailChannel::new(m.service.clone()), &DeliveryOptions::default()).await.unwrap();
    let ack = sink.message(1).await;
    assert!(ack.contains(&format!("reference {}", contact.0)), "{ack}");
    assert_eq!(header(&ack, "Subject").as_deref(), Some("Re: Broken lamp"));
    let our_id = header(&ack, "Message-ID").unwrap();

    // The customer's answer continues the conversation: no second acknowledgement.
    let (ok, out) = m
        .mail("person@customer.example", &["--header", &format!("In-Reply-To: {our_id}"), "--body", "Any news?"])
        .await;
    assert!(ok, "{out}");
    let shown = m.messages(contact).await;
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(shown[2]["from"], "customer");

    // An auto-reply opening a conversation is never acknowledged (a loop).
    let (ok, out) =
        m.mail("away@customer.example", &["--header", "Auto-Submitted: auto-replied", "--body", "Away"]).await;
    assert!(ok, "{out}");
    let away = m.contacts_of("away@customer.example").await[0].id;
    assert_eq!(m.messages(away).await.len(), 1);
}

async fn senders_are_checked_by_trusted_relays_and_forgeries_never_acknowledged(url: String) {
    let mut settings = json!({});
    settings["auto_acknowledge"] = json!("We have your message (reference {{reference}}).");
    settings["trusted_relays"] = json!(["mx.shop.example"]);
    let m = mailroom(&url, 1024 * 1024, settings).await;
    let results = |value: &str| format!("Authentication-Results: {value}");
    let cases = [
        // The relay vouches for the sender: acknowledged, shown as verified.
        (
            "ann@customer.example",
            results(
                "mx.shop.example; spf=pass smtp.mailfrom=customer.example; dkim=pass header.d=customer.example; dmarc=pass header.from=customer.example",
            ),
            "trusted",
            2,
        ),
        // DMARC failed at the relay: the From is forged, and no machine answers it.
        (
            "ceo@bank.example",
            results(
                "mx.shop.example (OpenDMARC); spf=fail smtp.mailfrom=bank.example; dmarc=fail (p=reject) header.from=bank.example",
            ),
            "failed",
            1,
        ),
        // A pass claimed by a host nobody trusts (the sender's own) is not believed.
        ("boss@bank.example", results("mail.bank.example; dmarc=pass header.from=bank.example"), "unknown", 2),
    ];
    for (from, header, verdict, shown) in cases {
        let (ok, out) = m.mail(from, &["--header", &header, "--body", "Please pay this invoice."]).await;
        assert!(ok, "{out}");
        let contact = m.contacts_of(from).await[0].id;
        let messages = m.messages(contact).await;
        assert_eq!(messages.len(), shown, "{from}: {messages:?}");
        assert_eq!(messages[0]["sender_check"]["verdict"], verdict, "{from}: {messages:?}");
    }
    let ann = m.contacts_of("ann@customer.example").await[0].id;
    let check = &m.messages(ann).await[0]["sender_check"];
    assert_eq!(check["checked_by"], "mx.shop.example");
    assert_eq!(check["results"], json!({ "spf": "pass", "dkim": "pass", "dmarc": "pass" }));
}

support::on_both!(
    senders_are_checked_by_trusted_relays_and_forgeries_never_acknowledged,
    auto_replies_are_marked_and_never_answered,
    bounces_fail_the_delivery_and_open_nothing,
    blocked_senders_open_nothing_and_new_mail_is_acknowledged_once
);
