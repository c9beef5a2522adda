//! The chat widget is an endpoint: its key is the endpoint's address and
//! its bot and queue are the endpoint's. A widget set up before chat
//! endpoints gets one at start, keeping its key.

mod support;

use serde_json::json;
use switchboard_core::channel::Channel;
use switchboard_store::{Change, Document};

async fn old_widgets_keep_their_key_on_an_endpoint(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["chat"]).await;
    // The settings document as it was written before chat endpoints.
    let old = json!({
        "widget_key": "0123456789abcdef01234567",
        "secret": "s".repeat(64),
        "title": "Talk to us",
        "greeting": "Hello!",
        "queue": queue,
        "flow": null,
        "pre_chat": [],
    });
    let doc =
        Document { workspace: p.workspace, kind: "chat_settings".into(), id: 1, body: old, updated_at: service.now() };
    service.store().commit(vec![Change::PutDocument(doc)]).await.unwrap();
    drop(service);

    let service = support::service(&url).await;
    let endpoint =
        service.endpoint_at(Channel::Chat, "0123456789abcdef01234567").await.unwrap().expect("made at start");
    assert_eq!(
        (endpoint.workspace, endpoint.queue, endpoint.flow, endpoint.enabled),
        (p.workspace, Some(queue), None, true)
    );
    let settings = service.chat_settings(p.workspace).await.unwrap();
    assert_eq!((settings.endpoint, settings.widget_key.as_str()), (endpoint.id, "0123456789abcdef01234567"));
    assert_eq!(
        (settings.title.as_str(), settings.greeting.as_str(), settings.queue),
        ("Talk to us", "Hello!", Some(queue))
    );
    let (ws, _) = service.chat_workspace("0123456789abcdef01234567").await.unwrap();
    assert_eq!(ws, p.workspace);
    // A chat starts on it, and goes to its queue.
    let started = service.start_chat("0123456789abcdef01234567", Default::default()).await.unwrap();
    let contact = service.store().contact(p.workspace, started.contact).await.unwrap().unwrap();
    assert_eq!((contact.channel, contact.queue), (Channel::Chat, Some(queue)));

    // Once made, the endpoint is not made again after another restart.
    drop(service);
    let service = support::service(&url).await;
    assert_eq!(service.chat_settings(p.workspace).await.unwrap().endpoint, endpoint.id);
    let chats: Vec<_> =
        service.endpoints(&p).await.unwrap().into_iter().filter(|e| e.channel == Channel::Chat).collect();
    assert_eq!(chats.len(), 1, "{chats:?}");
    // Made by the server, not by a user: in the audit log all the same.
    let audit = service.audit_log(&p, 0, 100).await.unwrap();
    let made: Vec<_> = audit.iter().filter(|e| e.payload["action"] == "create_endpoint").collect();
    assert_eq!(made.len(), 1, "{audit:?}");
    assert_eq!(made[0].payload["target"], format!("endpoint/{}", endpoint.id.0));
    assert_eq!(made[0].payload["by"], serde_json::Value::Null);

    // A disabled chat endpoint is a widget nobody finds.
    let input = serde_json::from_value(json!({ "name": "Chat widget", "queue": queue, "enabled": false })).unwrap();
    service.update_endpoint(&p, endpoint.id, input).await.unwrap();
    assert!(service.chat_workspace("0123456789abcdef01234567").await.is_err());
    assert!(service.start_chat("0123456789abcdef01234567", Default::default()).await.is_err());
}

support::on_both!(old_widgets_keep_their_key_on_an_endpoint);
