//! Caller verification through the seam, typed in a text channel (SMS):
//! the PIN set through the customer API and kept hashed, the answers
//! masked in the transcript, the outcome recorded as an event and as the
//! `verified` attribute routing reads, on both databases.

mod support;

use serde_json::json;
use switchboard_core::expr::Value;
use switchboard_core::ids::{ContactId, CustomerId, EndpointId};
use switchboard_service::auth::Principal;
use switchboard_service::conversation::{Inbound, IncomingMessage, Opening, SECRET, Sender, Thread};
use switchboard_service::verification::PinUpdate;
use switchboard_service::{IdentityKind, IdentityValue, Service, ServiceError};
use switchboard_store::{ContactState, Role};

const FLOW: &str = r#"{
  "start": "pin",
  "blocks": {
    "pin": {"type": "verify", "text": "Please send your PIN.", "check": "pin", "attempts": 2,
            "verified": "thanks", "queue": "Support"},
    "thanks": {"type": "handoff", "text": "Thank you, you are verified.", "queue": "Support"}
  }
}"#;

async fn customer(service: &Service, p: &Principal, phone: &str) -> CustomerId {
    let new = serde_json::from_value(json!({
        "identities": [{"kind": "phone", "value": phone}],
        "attributes": {"account_number": "12-34-56"},
    }))
    .unwrap();
    service.create_customer(p, new).await.unwrap().customer.id
}

/// A text from `phone` to the number; the first opens the conversation.
async fn text(service: &Service, endpoint: EndpointId, phone: &str, text: &str, opening: Opening) -> ContactId {
    let sender =
        Sender { identity: Some(IdentityValue { kind: IdentityKind::Phone, value: phone.into() }), name: None };
    let message = IncomingMessage { text: text.into(), ..IncomingMessage::default() };
    let inbound = Inbound { sender, message: Some(message), opening };
    service.inbound(endpoint, Thread::Key(phone.into()), inbound).await.unwrap().contact
}

/// The contact's verification outcomes, customer messages and `verified` attribute.
async fn seen(
    service: &Service,
    p: &Principal,
    id: ContactId,
) -> (Vec<String>, Vec<String>, Option<Value>, ContactState) {
    let (outcomes, said) = support::verification_log(service, p, id).await;
    let record = service.store().contact(p.workspace, id).await.unwrap().unwrap();
    (outcomes, said, record.attributes.get("verified").cloned(), record.state)
}

async fn a_pin_typed_in_a_text_channel_verifies_the_customer(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let flow = service
        .put_flow(
            &p,
            None,
            serde_json::from_value(
                json!({"name": "Verify", "definition": serde_json::from_str::<serde_json::Value>(FLOW).unwrap()}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let input = serde_json::from_value(
        json!({"channel": "sms", "name": "Texts", "address": "+15550003000", "queue": queue, "flow": flow.id}),
    )
    .unwrap();
    let endpoint = service.create_endpoint(&p, input).await.unwrap().id;
    let ada = customer(&service, &p, "+15550100001").await;

    // Setting a PIN: digits only, supervisors only, kept as a hash and never shown.
    let pin = |pin: &str| PinUpdate { pin: pin.into() };
    for bad in ["123", "12a4", "1234567890123"] {
        let err = service.put_customer_pin(&p, ada, pin(bad)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { ref field, .. } if field == "pin"), "{err}");
    }
    let agent = Principal { role: Role::Agent, ..p };
    assert!(matches!(service.put_customer_pin(&agent, ada, pin("2468")).await, Err(ServiceError::Forbidden(_))));
    service.put_customer_pin(&p, ada, pin("2468")).await.unwrap();
    let doc = service.store().document(p.workspace, "customer_pin", ada.0).await.unwrap().unwrap();
    assert!(doc.body["hash"].as_str().unwrap().starts_with("$argon2id$"));
    assert!(!doc.body.to_string().contains("2468"));
    let view = serde_json::to_string(&service.customer(&p, ada).await.unwrap()).unwrap();
    assert!(!view.contains("argon2") && !view.contains("2468"), "{view}");
    let audit = service.audit_log(&p, 0, 100).await.unwrap();
    assert!(audit.iter().any(|e| e.payload["action"] == "put_customer_pin"));

    // A wrong PIN, asked again, then the right one: verified, handed to the queue.
    // The form's claim to be verified already is dropped.
    let claim = Opening { attributes: [("verified".to_string(), Value::Bool(true))].into(), ..Opening::default() };
    let id = text(&service, endpoint, "+15550100001", "1111", claim).await;
    let (outcomes, said, verified, state) = seen(&service, &p, id).await;
    assert_eq!((outcomes.len(), verified, state), (0, None, ContactState::New));
    assert_eq!(said, [SECRET]);
    text(&service, endpoint, "+15550100001", "2468", Opening::default()).await;
    let (outcomes, said, verified, state) = seen(&service, &p, id).await;
    assert_eq!(outcomes, ["pin verified"]);
    assert_eq!(said, [SECRET, SECRET], "the PIN never reaches the transcript");
    assert_eq!((verified, state), (Some(Value::Bool(true)), ContactState::Queued));
    let all = service.store().contact_events(p.workspace, id, None).await.unwrap();
    assert!(!serde_json::to_string(&all.iter().map(|e| &e.payload).collect::<Vec<_>>()).unwrap().contains("2468"));

    // Two wrong answers: locked out, escalated, `verified` false.
    let bob = customer(&service, &p, "+15550100002").await;
    service.put_customer_pin(&p, bob, pin("1357")).await.unwrap();
    let id = text(&service, endpoint, "+15550100002", "0000", Opening::default()).await;
    text(&service, endpoint, "+15550100002", "not my pin", Opening::default()).await;
    let (outcomes, said, verified, state) = seen(&service, &p, id).await;
    assert_eq!(outcomes, ["pin failed"]);
    assert_eq!(said, [SECRET, SECRET]);
    assert_eq!((verified, state), (Some(Value::Bool(false)), ContactState::Queued));
    let handoff = service.store().contact_events(p.workspace, id, Some("bot_handoff")).await.unwrap();
    assert_eq!(handoff[0].payload["reason"], "verification");

    // No PIN set: nothing to check, not attempted, escalated at once.
    service.delete_customer_pin(&p, bob).await.unwrap();
    assert!(matches!(service.delete_customer_pin(&p, bob).await, Err(ServiceError::NotFound(_))));
    service.end_conversation(p.workspace, id, "customer").await.unwrap();
    let id = text(&service, endpoint, "+15550100002", "1357", Opening::default()).await;
    let (outcomes, _, verified, state) = seen(&service, &p, id).await;
    assert_eq!(outcomes, ["pin not_attempted"]);
    assert_eq!((verified, state), (Some(Value::Bool(false)), ContactState::Queued));
}

support::on_both!(a_pin_typed_in_a_text_channel_verifies_the_customer);
