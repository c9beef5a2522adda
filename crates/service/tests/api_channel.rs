//! The `api` channel: contacts integrators create over HTTP go through the
//! conversation seam like every channel's — the workspace's `api` endpoint,
//! the customer found or made, `conversation_opened`, the first message,
//! the queue — with an idempotency key, rules firing once, and refused
//! requests leaving nothing behind.

mod support;

use serde_json::json;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::{ContactId, QueueId};
use switchboard_core::rules::Rule;
use switchboard_service::auth::Principal;
use switchboard_service::kinds::Kind;
use switchboard_service::{ContactFilter, IdentityValue, NewContact, Service, ServiceError};
use switchboard_store::{IdentityKind, LoggedEvent};

fn new(v: serde_json::Value) -> NewContact {
    serde_json::from_value(v).unwrap()
}

async fn events_of(service: &Service, p: &Principal, contact: ContactId, kind: Kind) -> Vec<LoggedEvent> {
    service.store().contact_events(p.workspace, contact, Some(kind.as_str())).await.unwrap()
}

async fn api_endpoints(service: &Service, p: &Principal) -> Vec<switchboard_service::endpoints::Endpoint> {
    service.endpoints(p).await.unwrap().into_iter().filter(|e| e.channel == Channel::Api).collect()
}

async fn all_contacts(service: &Service, p: &Principal) -> Vec<switchboard_store::ContactRecord> {
    service.contacts(p, ContactFilter::default(), None, 500).await.unwrap()
}

async fn event_count(service: &Service, p: &Principal) -> usize {
    service.store().events(p.workspace, 0, 10_000).await.unwrap().len()
}

fn field(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::Invalid { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn a_contact_comes_through_the_seam(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["api"]).await;
    let body = json!({
        "queue": queue,
        "priority": 3,
        "attributes": { "order": "A-1042" },
        "subject": "Broken tent pole",
        "message": "The pole snapped on the first night.",
        "customer_identity": { "kind": "email", "value": "Robin@Example.com" },
    });
    let contact = service.create_contact(&p, new(body)).await.unwrap();
    assert_eq!((contact.channel, contact.queue, contact.priority), (Channel::Api, Some(queue), 3));
    assert_eq!(contact.attributes.get("order"), Some(&Value::Str("A-1042".into())));
    assert_eq!(contact.attributes.get("subject"), Some(&Value::Str("Broken tent pole".into())));

    // The workspace's api endpoint, made for it, is a real endpoint.
    let endpoints = api_endpoints(&service, &p).await;
    assert_eq!(endpoints.len(), 1);
    let endpoint = &endpoints[0];
    assert_eq!((endpoint.name.as_str(), endpoint.enabled, endpoint.queue), ("API", true, None));

    // The customer was found or made the way every channel's is.
    let customer = service.store().customer_by_identity(p.workspace, IdentityKind::Email, "robin@example.com").await;
    let customer = customer.unwrap().expect("a customer for the identity");
    assert_eq!((contact.customer, customer.name.as_str()), (Some(customer.id), "robin@example.com"));

    // Opened on the endpoint, with the integrator's message as the customer's.
    let opened = events_of(&service, &p, contact.id, Kind::ConversationOpened).await;
    assert_eq!(opened.len(), 1);
    assert_eq!(
        (opened[0].payload["channel"].clone(), opened[0].payload["endpoint"].clone()),
        (json!("api"), json!(endpoint.id))
    );
    let messages = events_of(&service, &p, contact.id, Kind::Message).await;
    let said: Vec<(&str, &str)> =
        messages.iter().map(|m| (m.payload["from"].as_str().unwrap(), m.payload["text"].as_str().unwrap())).collect();
    assert_eq!(said, [("customer", "The pole snapped on the first night.")]);

    // The same endpoint serves the next one; a known customer by id, or none.
    let again = service.create_contact(&p, new(json!({ "queue": queue, "customer": customer.id }))).await.unwrap();
    assert_eq!(again.customer, Some(customer.id));
    let nobody = service.create_contact(&p, new(json!({ "queue": queue, "channel": "api" }))).await.unwrap();
    assert_eq!(nobody.customer, None);
    assert_eq!(api_endpoints(&service, &p).await.len(), 1);
    assert!(events_of(&service, &p, nobody.id, Kind::Message).await.is_empty());

    // Without a queue: the endpoint's default one, once an admin sets it.
    assert_eq!(field(service.create_contact(&p, new(json!({}))).await), "queue");
    let policy = service.store().policies(p.workspace).await.unwrap()[0].id;
    let settings = serde_json::from_value(json!({ "channels": ["api"], "policy": policy })).unwrap();
    let billing = service.put_queue(&p, None, "Billing", settings).await.unwrap().id;
    let update = serde_json::from_value(json!({ "name": "Integrations", "queue": billing })).unwrap();
    service.update_endpoint(&p, endpoint.id, update).await.unwrap();
    let defaulted = service.create_contact(&p, new(json!({}))).await.unwrap();
    assert_eq!(defaulted.queue, Some(billing));
    let named = service.create_contact(&p, new(json!({ "queue": queue }))).await.unwrap();
    assert_eq!(named.queue, Some(queue), "the request's queue wins");

    // Another channel is not the API's; a disabled endpoint turns the channel off.
    assert_eq!(field(service.create_contact(&p, new(json!({ "queue": queue, "channel": "chat" }))).await), "channel");
    let update = serde_json::from_value(json!({ "name": "Integrations", "queue": billing, "enabled": false })).unwrap();
    service.update_endpoint(&p, endpoint.id, update).await.unwrap();
    let off = service.create_contact(&p, new(json!({ "queue": queue }))).await;
    assert!(matches!(off, Err(ServiceError::Conflict(ref m)) if m.contains("disabled")), "{off:?}");
}

async fn a_retried_request_makes_one_contact(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["api"]).await;
    let keyed = |key: &str| NewContact {
        idempotency_key: Some(key.into()),
        customer_identity: Some(IdentityValue { kind: IdentityKind::Phone, value: "+15550004321".into() }),
        ..new(json!({ "queue": queue, "message": "Call me back" }))
    };
    // Two at once, then a retry: one contact, one customer, one message.
    let (a, b) =
        tokio::join!(service.create_contact(&p, keyed("order-7")), service.create_contact(&p, keyed("order-7")));
    let (a, b) = (a.unwrap(), b.unwrap());
    let retry = service.create_contact(&p, keyed("order-7")).await.unwrap();
    assert_eq!((a.id, b.id), (retry.id, retry.id));
    assert_eq!(all_contacts(&service, &p).await.len(), 1);
    assert_eq!(events_of(&service, &p, a.id, Kind::Message).await.len(), 1);
    assert_eq!(events_of(&service, &p, a.id, Kind::ConversationOpened).await.len(), 1);

    // Still the same contact once it has ended; another key is another contact.
    service.cancel(&p, a.id).await.unwrap();
    assert_eq!(service.create_contact(&p, keyed("order-7")).await.unwrap().id, a.id);
    let other = service.create_contact(&p, keyed("order-8")).await.unwrap();
    assert_ne!(other.id, a.id);
    assert_eq!(other.customer, a.customer);
    assert_eq!(all_contacts(&service, &p).await.len(), 2);

    // A key that failed made nothing, so its retry does.
    let refused = NewContact { queue: Some(QueueId(queue.0 + 100)), ..keyed("order-9") };
    assert_eq!(field(service.create_contact(&p, refused).await), "queue");
    let made = service.create_contact(&p, keyed("order-9")).await.unwrap();
    assert_eq!(all_contacts(&service, &p).await.len(), 3);
    assert_eq!(field(service.create_contact(&p, keyed(" \n ")).await), "idempotency_key");
    assert!(made.id != a.id && made.id != other.id);
}

async fn a_contact_created_rule_fires_once(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["api"]).await;
    for (name, tag) in [("Tag every contact", "seen"), ("Tag them again", "seen twice")] {
        let rule: Rule = serde_json::from_value(json!({
            "name": name,
            "event": "contact_created",
            "actions": [{ "type": "add_tag", "tag": tag }, { "type": "set_priority", "priority": 4 }],
        }))
        .unwrap();
        service.put_rule(&p, None, rule).await.unwrap();
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = service.clone().spawn_rules(stopped);

    let identity = json!({ "kind": "email", "value": "ada@example.com" });
    let body = json!({ "queue": queue, "message": "Hello", "customer_identity": identity });
    let first = service.create_contact(&p, new(body.clone())).await.unwrap();
    // The runner takes events in order: once the next contact's rules have
    // fired, everything the first one's events could fire has.
    let next = service.create_contact(&p, new(body)).await.unwrap();
    let mut fired = Vec::new();
    for _ in 0..200 {
        fired = events_of(&service, &p, next.id, Kind::RuleFired).await;
        if fired.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fired.len(), 2, "the second contact's rules never fired");
    let first_fired = events_of(&service, &p, first.id, Kind::RuleFired).await;
    let names: Vec<&str> = first_fired.iter().map(|e| e.payload["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Tag every contact", "Tag them again"], "each rule once");
    assert!(first_fired.iter().all(|e| e.payload["event"] == "contact_created"));
    let customer = service.store().customer(p.workspace, first.customer.unwrap()).await.unwrap().unwrap();
    assert_eq!(customer.tags, ["seen", "seen twice"]);
    let _ = stop.send(true);
    runner.await.unwrap();
}

async fn a_refused_request_leaves_nothing(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["api"]).await;
    let before = event_count(&service, &p).await;
    let identity = json!({ "kind": "email", "value": "nobody@example.com" });
    // The workspace's very first API contact, refused: not even its endpoint is made.
    let unknown = json!({ "queue": queue.0 + 100, "customer_identity": identity, "message": "hi" });
    assert_eq!(field(service.create_contact(&p, new(unknown.clone())).await), "queue");
    assert!(api_endpoints(&service, &p).await.is_empty());
    assert_eq!(event_count(&service, &p).await, before);
    // A request that does not parse never reaches the service.
    assert!(serde_json::from_value::<NewContact>(json!({ "queue": queue, "queue_name": "Support" })).is_err());

    // Once the endpoint exists: still nothing of a refused contact.
    service.create_contact(&p, new(json!({ "queue": queue }))).await.unwrap();
    let before = event_count(&service, &p).await;
    assert_eq!(field(service.create_contact(&p, new(unknown)).await), "queue");
    let other_channel = json!({ "queue": queue, "channel": "voice", "customer_identity": identity });
    assert_eq!(field(service.create_contact(&p, new(other_channel)).await), "channel");
    let unknown_customer = json!({ "queue": queue, "customer": 9999, "message": "hi" });
    assert_eq!(field(service.create_contact(&p, new(unknown_customer)).await), "customer");
    assert_eq!(event_count(&service, &p).await, before);
    assert_eq!(all_contacts(&service, &p).await.len(), 1);
    let customer = service.store().customer_by_identity(p.workspace, IdentityKind::Email, "nobody@example.com").await;
    assert!(customer.unwrap().is_none());
}

support::on_both!(
    a_contact_comes_through_the_seam,
    a_retried_request_makes_one_contact,
    a_contact_created_rule_fires_once,
    a_refused_request_leaves_nothing
);
