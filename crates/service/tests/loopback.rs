//! A channel written the way a channel crate would be: it uses nothing but
//! the service's public seam (`Service::inbound`, the `ChannelAdapter`
//! trait, the delivery loop). If it needed a private helper, so would SMS.

#[path = "support/sms.rs"]
mod sms;
mod support;

use sms::TestSms as Loopback;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use switchboard_core::channel::Channel;
use switchboard_core::ids::ContactId;
use switchboard_service::Service;
use switchboard_service::conversation::{DeliveryOptions, Inbound, Thread};
use switchboard_service::kinds::Kind;
use switchboard_store::{ContactState, IdentityKind, LoggedEvent};
use tokio::sync::broadcast;

const PHONE: &str = "+15550001234";

fn text(body: &str, id: &str) -> Inbound {
    sms::text(PHONE, body, id)
}

fn fast() -> DeliveryOptions {
    DeliveryOptions { attempts: 4, first_retry: std::time::Duration::from_millis(5) }
}

/// Waits for the delivery event that settles `message`: sent, or failed for good.
async fn settled(events: &mut broadcast::Receiver<Arc<LoggedEvent>>, message: u64) -> Arc<LoggedEvent> {
    loop {
        let e = events.recv().await.expect("the service publishes");
        let settles = e.payload["state"] == "sent" || e.payload["final"] == true;
        if e.kind == Kind::Delivery && e.payload["message"] == message && settles {
            return e;
        }
    }
}

async fn messages(
    service: &Service,
    url_ws: (&switchboard_service::auth::Principal, ContactId),
) -> Vec<serde_json::Value> {
    service.messages(url_ws.0, url_ws.1).await.unwrap().messages
}

async fn inbound_opens_a_contact_and_dedupes(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let endpoint = support::sms_endpoint(&service, &p, "+15557770000", queue).await;
    let first = service.inbound(endpoint, Thread::Key(PHONE.into()), text("hello", "m1")).await.unwrap();
    assert!(first.opened && !first.repeat);
    let customer = service.store().customer_by_identity(p.workspace, IdentityKind::Phone, PHONE).await.unwrap();
    assert_eq!(customer.map(|c| c.id), first.customer);
    let contact = service.store().contact(p.workspace, first.contact).await.unwrap().unwrap();
    assert_eq!((contact.channel, contact.state, contact.queue), (Channel::Sms, ContactState::Queued, Some(queue)));

    // The same thread goes on in the same conversation; a repeat changes nothing.
    let again = service.inbound(endpoint, Thread::Key(PHONE.into()), text("hello", "m1")).await.unwrap();
    assert!(again.repeat && !again.opened);
    let second = service.inbound(endpoint, Thread::Key(PHONE.into()), text("are you there?", "m2")).await.unwrap();
    assert_eq!((second.contact, second.opened, second.repeat), (first.contact, false, false));
    assert_eq!(messages(&service, (&p, first.contact)).await.len(), 2);

    // After a restart the repeat is still known: it is in the store.
    drop(service);
    let service = support::service(&url).await;
    let after = service.inbound(endpoint, Thread::Key(PHONE.into()), text("hello", "m1")).await.unwrap();
    assert!(after.repeat);
    assert_eq!(after.contact, first.contact);
    assert_eq!(messages(&service, (&p, first.contact)).await.len(), 2);
}

async fn replies_are_delivered_retried_and_failures_shown(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let endpoint = support::sms_endpoint(&service, &p, "+15557770000", queue).await;
    let got = service.inbound(endpoint, Thread::Key(PHONE.into()), text("hello", "m1")).await.unwrap();

    let loopback = Arc::new(Loopback::default());
    loopback.failures.store(2, Ordering::SeqCst);
    service.channels().register(loopback.clone());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut events = service.subscribe();
    let delivery = service.spawn_delivery(loopback.clone(), fast(), stopped);

    let reply = service.send_message(&p, got.contact, "Hi! How can we help?", None).await.unwrap();
    let id = reply["id"].as_u64().unwrap();
    let done = settled(&mut events, id).await;
    assert_eq!(done.payload["state"], "sent");
    let sent = loopback.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].message, sent[0].thread.as_deref()), (id, Some(PHONE)));
    assert_eq!(sent[0].body.text, "Hi! How can we help?");
    // Both failed attempts are on record, neither final.
    let failed = service.store().contact_events(p.workspace, got.contact, Some(Kind::Delivery.as_str())).await.unwrap();
    let failed: Vec<_> = failed.iter().filter(|e| e.payload["state"] == "failed").collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|e| e.payload["final"] == false && e.payload["reason"] == "provider busy"));
    // The agent's message list shows where each of their messages stands.
    let list = messages(&service, (&p, got.contact)).await;
    let shown = list.iter().find(|m| m["id"] == id).unwrap();
    assert_eq!(shown["delivery"]["state"], "sent");
    // The customer's own message is not sent back to them.
    assert!(list.iter().filter(|m| m["from"] == "customer").all(|m| m.get("delivery").is_none()));

    // A provider that refuses: the failure is final and shown, with its reason.
    loopback.refuse.store(true, std::sync::atomic::Ordering::SeqCst);
    let refused = service.send_message(&p, got.contact, "Still there?", None).await.unwrap();
    let refused = refused["id"].as_u64().unwrap();
    let done = settled(&mut events, refused).await;
    assert_eq!(done.payload["state"], "failed");
    let list = messages(&service, (&p, got.contact)).await;
    let shown = list.iter().find(|m| m["id"] == refused).unwrap();
    assert_eq!(shown["delivery"]["state"], "failed");
    assert_eq!(shown["delivery"]["reason"], "the number does not take messages");
    assert_eq!(shown["delivery"]["final"], true);
    stop.send(true).unwrap();
    delivery.await.unwrap();
}

async fn a_restart_resumes_delivery(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let endpoint = support::sms_endpoint(&service, &p, "+15557770000", queue).await;
    let got = service.inbound(endpoint, Thread::Key(PHONE.into()), text("hello", "m1")).await.unwrap();
    // Committed while no delivery loop runs (the server stopped before sending).
    let reply = service.send_message(&p, got.contact, "We are on it.", None).await.unwrap();
    let id = reply["id"].as_u64().unwrap();
    drop(service);

    let service = support::service(&url).await;
    let loopback = Arc::new(Loopback::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut events = service.subscribe();
    let delivery = service.spawn_delivery(loopback.clone(), fast(), stopped);
    assert_eq!(settled(&mut events, id).await.payload["state"], "sent");
    // And once only, even when the loop looks again.
    service.deliver_pending(loopback.as_ref(), &fast()).await.unwrap();
    assert_eq!(loopback.sent.lock().unwrap().len(), 1);
    stop.send(true).unwrap();
    delivery.await.unwrap();
}

/// A channel continues only its own conversations: a message naming a
/// contact of another channel (a forged reference) finds nothing, and one
/// naming an ended contact is refused as such.
async fn a_known_conversation_is_continued_on_its_own_channel_only(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms", "email"]).await;
    let sms = support::sms_endpoint(&service, &p, "+15557770000", queue).await;
    let input = serde_json::from_value(
        serde_json::json!({ "channel": "email", "name": "Mail", "address": "help@shop.example", "queue": queue }),
    )
    .unwrap();
    let mail = service.create_endpoint(&p, input).await.unwrap().id;
    let got = service.inbound(sms, Thread::Key(PHONE.into()), text("hello", "m1")).await.unwrap();
    let forged = service.inbound(mail, Thread::Contact(got.contact), text("let me in", "m2")).await;
    assert!(matches!(forged, Err(switchboard_service::ServiceError::NotFound(_))), "{forged:?}");
    service.end_conversation(p.workspace, got.contact, "customer").await.unwrap();
    let late = service.inbound(sms, Thread::Contact(got.contact), text("one more", "m3")).await;
    assert!(matches!(late, Err(switchboard_service::ServiceError::Conflict(_))), "{late:?}");
}

support::on_both!(
    a_known_conversation_is_continued_on_its_own_channel_only,
    inbound_opens_a_contact_and_dedupes,
    replies_are_delivered_retried_and_failures_shown,
    a_restart_resumes_delivery
);
