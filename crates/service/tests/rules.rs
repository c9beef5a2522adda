//! Automation rules run on a conversation of a channel, the way the server
//! runs them: a task following committed events. Their effects land in the
//! routing engine, the contact, the customer and the conversation, each
//! firing logged as `rule_fired` — and a rule's own reply triggers nothing.

mod support;

use serde_json::json;
use std::time::Duration;
use switchboard_core::ids::ContactId;
use switchboard_core::rules::Rule;
use switchboard_service::auth::Principal;
use switchboard_service::conversation::{Inbound, IncomingMessage, Sender, Thread};
use switchboard_service::documents::CannedResponse;
use switchboard_service::kinds::Kind;
use switchboard_service::{IdentityValue, Service};
use switchboard_store::{IdentityKind, LoggedEvent};

const PHONE: &str = "+15550009876";

fn text(body: &str, id: &str) -> Inbound {
    Inbound {
        sender: Sender { identity: Some(IdentityValue { kind: IdentityKind::Phone, value: PHONE.into() }), name: None },
        message: Some(IncomingMessage { text: body.into(), client_id: Some(id.into()), ..Default::default() }),
        ..Default::default()
    }
}

fn rule(v: serde_json::Value) -> Rule {
    serde_json::from_value(v).unwrap()
}

async fn events_of(service: &Service, p: &Principal, contact: ContactId, kind: Kind) -> Vec<LoggedEvent> {
    service.store().contact_events(p.workspace, contact, Some(kind.as_str())).await.unwrap()
}

/// Waits until the contact has `n` events of `kind`, for at most 10 s.
async fn wait_for(service: &Service, p: &Principal, contact: ContactId, kind: Kind, n: usize) -> Vec<LoggedEvent> {
    for _ in 0..200 {
        let found = events_of(service, p, contact, kind).await;
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {n} {kind} events on contact {}", contact.0);
}

async fn rules_act_on_a_conversation(url: String) {
    let service = support::service(&url).await;
    let (p, support_queue) = support::workspace(&service, &["sms"]).await;
    let policy = service.store().policies(p.workspace).await.unwrap()[0].id;
    let settings = serde_json::from_value(json!({ "channels": ["sms"], "policy": policy })).unwrap();
    let refunds = service.put_queue(&p, None, "Refunds", settings).await.unwrap().id;
    let endpoint = support::sms_endpoint(&service, &p, "+15557770001", support_queue).await;
    service
        .put_document(
            &p,
            None,
            CannedResponse {
                shortcut: "refund-ack".into(),
                title: "Refund".into(),
                text: "A refund specialist will answer.".into(),
            },
        )
        .await
        .unwrap();

    // References are checked: an unknown queue, canned response or webhook is refused by name.
    for (actions, field) in [
        (json!([{ "type": "transfer", "queue": 999 }]), "actions[0].queue"),
        (json!([{ "type": "reply", "canned": "nope" }]), "actions[0].canned"),
        (json!([{ "type": "add_tag", "tag": "x" }, { "type": "webhook", "webhook": 5 }]), "actions[1].webhook"),
    ] {
        let r = rule(json!({ "name": "bad", "event": "message_received", "actions": actions }));
        match service.put_rule(&p, None, r).await {
            Err(switchboard_service::ServiceError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }

    let refund = service
        .put_rule(
            &p,
            None,
            rule(json!({ "name": "Refunds", "event": "message_received",
                "conditions": [{ "field": "text", "op": "contains", "value": "refund" }],
                "actions": [
                    { "type": "set_attribute", "name": "topic", "value": "refund" },
                    { "type": "set_priority", "priority": 5 },
                    { "type": "transfer", "queue": refunds.0 },
                    { "type": "reply", "canned": "/Refund-Ack" },
                    { "type": "add_tag", "tag": "refund" },
                    { "type": "notify_supervisors", "message": "a refund request" } ] })),
        )
        .await
        .unwrap();
    // Sees the first rule's attribute, within the same message.
    let follow = service
        .put_rule(
            &p,
            None,
            rule(json!({ "name": "Topic seen", "event": "message_received",
                "conditions": [{ "field": "attribute.topic", "op": "equals", "value": "REFUND" }],
                "actions": [{ "type": "add_tag", "tag": "topic seen" }] })),
        )
        .await
        .unwrap();
    service
        .put_rule(
            &p,
            None,
            rule(json!({ "name": "Off", "enabled": false, "event": "message_received",
                "actions": [{ "type": "add_tag", "tag": "never" }] })),
        )
        .await
        .unwrap();
    // Answers every message, including, were it not guarded, its own.
    let echo = service
        .put_rule(
            &p,
            None,
            rule(json!({ "name": "Echo", "event": "message_received", "match": "any",
                "conditions": [{ "field": "channel", "op": "in", "value": ["sms", "chat"] }],
                "actions": [{ "type": "reply", "canned": "refund-ack" }] })),
        )
        .await
        .unwrap();
    let ended = service
        .put_rule(
            &p,
            None,
            rule(json!({ "name": "Ended", "event": "contact_ended",
                "conditions": [{ "field": "tags", "op": "contains", "value": "refund" }],
                "actions": [{ "type": "notify_supervisors", "message": "a refund conversation ended" }] })),
        )
        .await
        .unwrap();
    let order: Vec<u64> = service.rules(&p).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(order.len(), 5);
    assert_eq!((order[0], order[1]), (refund.id, follow.id), "created ones fire last");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = service.clone().spawn_rules(stopped);

    let got = service.inbound(endpoint, Thread::Key(PHONE.into()), text("I want a REFUND please", "m1")).await.unwrap();
    let fired = wait_for(&service, &p, got.contact, Kind::RuleFired, 3).await;
    let names: Vec<&str> = fired.iter().map(|e| e.payload["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Refunds", "Topic seen", "Echo"]);
    let first = &fired[0].payload;
    assert_eq!(first["event"], "message_received");
    let outcomes: Vec<&str> =
        first["actions"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["done", "done", "done", "sent", "done", "sent"]);
    assert_eq!(first["notify"], json!(["a refund request"]));
    assert_eq!(first["actions"][3]["canned"], "refund-ack", "saved as the shortcut it names");

    let contact = service.store().contact(p.workspace, got.contact).await.unwrap().unwrap();
    assert_eq!((contact.queue, contact.priority), (Some(refunds), 5));
    assert_eq!(contact.attributes.get("topic"), Some(&switchboard_core::expr::Value::Str("refund".into())));
    // The engine has it too: it waits in Refunds.
    let waiting = service.inspect(p.workspace, |c| c.engine.queue_snapshot(refunds).map(|q| q.waiting)).await.unwrap();
    assert_eq!(waiting.unwrap(), 1);
    let customer = service.store().customer(p.workspace, got.customer.unwrap()).await.unwrap().unwrap();
    assert_eq!(customer.tags, ["refund", "topic seen"]);

    // Two replies (Refunds, Echo), neither of which was taken for a customer's message.
    let messages = wait_for(&service, &p, got.contact, Kind::Message, 3).await;
    let replies: Vec<_> = messages.iter().filter(|m| m.payload["from"] == "bot").collect();
    assert_eq!(replies.len(), 2);
    assert!(
        replies.iter().all(|m| m.payload["rule_depth"] == 1 && m.payload["text"] == "A refund specialist will answer.")
    );

    // The next message: not Refunds (no refund in it), Topic seen again (the
    // attribute stays), Echo once more — and nothing loops.
    service.inbound(endpoint, Thread::Key(PHONE.into()), text("thanks", "m2")).await.unwrap();
    wait_for(&service, &p, got.contact, Kind::RuleFired, 5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fired = events_of(&service, &p, got.contact, Kind::RuleFired).await;
    assert_eq!(fired.len(), 5, "{fired:?}");
    assert_eq!((&fired[3].payload["rule"], &fired[4].payload["rule"]), (&json!(follow.id), &json!(echo.id)));
    assert_eq!(fired[3].payload["actions"][0]["outcome"], "already tagged");

    // The customer leaves: the rule on contact_ended reads the tags the first one added.
    service.end_conversation(p.workspace, got.contact, "customer").await.unwrap();
    let fired = wait_for(&service, &p, got.contact, Kind::RuleFired, 6).await;
    assert_eq!(fired[5].payload["rule"], ended.id);
    assert_eq!(fired[5].payload["event"], "contact_ended");

    // A dry run on the past contact says why.
    let run = service
        .dry_run_rule(
            &p,
            serde_json::from_value(json!({ "contact": got.contact, "rule": {
                "name": "x", "event": "message_received",
                "conditions": [{ "field": "text", "op": "contains", "value": "thanks" },
                               { "field": "tags", "op": "contains", "value": "vip" }],
                "actions": [{ "type": "add_tag", "tag": "y" }] } }))
            .unwrap(),
        )
        .await
        .unwrap();
    assert!(run.event_matches && !run.would_fire);
    assert_eq!(run.conditions.iter().map(|c| c.holds).collect::<Vec<_>>(), [true, false]);
    stop.send(true).unwrap();
    runner.await.unwrap();
}

support::on_both!(rules_act_on_a_conversation);
