//! SLA policies on SMS conversations (a channel the customer answers
//! later), on the service's clock moved by the test: an automation rule
//! puts a VIP customer's conversation, or one whose subject asks for it,
//! under a policy; its clocks follow the policy's targets instead of the
//! queue's, a resolution target adds a clock that only the conversation's
//! end stops, a restart reads the policy back from the log, and the live
//! figures count each conversation once. Policies are checked, counted in
//! business hours when they say so, keep the targets they were applied
//! with, and cannot be deleted while a rule applies them.

// The service is opened on a clock of the test's, not the support's.
#[path = "support/clocked.rs"]
mod clocked;
#[path = "support/sms.rs"]
mod sms;
#[allow(dead_code)]
mod support;

use clocked::{at, logged, open};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use switchboard_core::ids::ContactId;
use switchboard_core::rules::Rule;
use switchboard_core::time::Timestamp;
use switchboard_service::auth::Principal;
use switchboard_service::conversation::{Addressing, Thread};
use switchboard_service::documents::Stored;
use switchboard_service::kinds::Kind;
use switchboard_service::sla::{SlaState, SlaStatus, Timer};
use switchboard_service::sla_policies::SlaPolicy;
use switchboard_service::{NewCustomer, Service, ServiceError};
use switchboard_store::LoggedEvent;

const VIP: &str = "+15550107001";
const PLAIN: &str = "+15550107002";

/// The `sla_policy_applied` events of `contact`, waiting a little for the rules' task.
async fn applied(service: &Service, p: &Principal, contact: ContactId) -> Vec<LoggedEvent> {
    for _ in 0..200 {
        let fired = logged(service, p, contact, Kind::RuleFired).await;
        if !fired.is_empty() {
            return logged(service, p, contact, Kind::SlaPolicyApplied).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no rule fired on contact {}", contact.0);
}

async fn status(service: &Service, p: &Principal, contact: ContactId) -> Option<SlaStatus> {
    service.sla_status(p, &[contact]).await.unwrap().remove(&contact)
}

/// The queue's open contacts past a target now, at risk now, and its breaches today.
async fn wallboard(service: &Service, p: &Principal) -> (u64, u64, u64) {
    let q = service.queue_stats(p).await.unwrap().remove(0);
    (q.sla_breached_now, q.sla_at_risk_now, q.today.sla_breaches)
}

fn policy(body: serde_json::Value) -> SlaPolicy {
    serde_json::from_value(body).unwrap()
}

fn invalid_field<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> String {
    match r {
        Err(ServiceError::Invalid { field, .. }) => field,
        other => panic!("expected a 400, got {other:?}"),
    }
}

async fn text(
    service: &Service,
    endpoint: switchboard_core::ids::EndpointId,
    from: &str,
    body: &str,
    id: &str,
) -> ContactId {
    service.inbound(endpoint, Thread::Key(from.into()), sms::text(from, body, id)).await.unwrap().contact
}

async fn a_rule_puts_a_vip_under_a_policy_with_a_resolution_clock(url: String) {
    let clock = Arc::new(AtomicI64::new(at("2026-12-01T10:00:00Z")));
    let set = |t: &str| clock.store(at(t), Ordering::SeqCst);
    let service = open(&url, &clock).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let routing = service.store().policies(p.workspace).await.unwrap()[0].id;
    let settings =
        serde_json::from_value(json!({ "channels": ["sms"], "policy": routing, "first_response_seconds": 3600 }))
            .unwrap();
    service.put_queue(&p, Some(queue), "Support", settings).await.unwrap();
    let endpoint = support::sms_endpoint(&service, &p, "+15557770071", queue).await;

    // Policies are checked: a target of a minute at least, one target at least.
    let bad = service.put_document(&p, None, policy(json!({ "name": "Fast", "first_response_seconds": 30 }))).await;
    assert_eq!(invalid_field(bad), "first_response_seconds");
    let bad = service.put_document(&p, None, policy(json!({ "name": "None" }))).await;
    assert_eq!(invalid_field(bad), "first_response_seconds");
    let vip: Stored<SlaPolicy> = service
        .put_document(
            &p,
            None,
            policy(json!({
                "name": "VIP", "description": "Gold customers",
                "first_response_seconds": 600, "next_response_seconds": 600,
                "resolution_seconds": 7200, "warning_seconds": 120
            })),
        )
        .await
        .unwrap();
    let taken = service.put_document(&p, None, policy(json!({ "name": "vip", "resolution_seconds": 600 }))).await;
    assert!(matches!(taken, Err(ServiceError::Conflict(_))), "{taken:?}");

    // A rule applies it to a VIP customer's messages; it must name a policy that exists.
    let rule = |policy: u64| -> Rule {
        serde_json::from_value(json!({
            "name": "VIP SLA", "event": "contact_created",
            "conditions": [{ "field": "customer.vip", "op": "equals", "value": true },
                           { "field": "channel", "op": "equals", "value": "sms" }],
            "actions": [{ "type": "apply_sla_policy", "policy": policy }]
        }))
        .unwrap()
    };
    assert_eq!(invalid_field(service.put_rule(&p, None, rule(vip.id + 1000)).await), "actions[0].policy");
    service.put_rule(&p, None, rule(vip.id)).await.unwrap();
    let new: NewCustomer = serde_json::from_value(json!({
        "name": "Vera", "attributes": { "vip": true }, "identities": [{ "kind": "phone", "value": VIP }]
    }))
    .unwrap();
    service.create_customer(&p, new).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let rules = service.clone().spawn_rules(stopped);

    let vera = text(&service, endpoint, VIP, "My order never came.", "v1").await;
    let paul = text(&service, endpoint, PLAIN, "Where is my order?", "p1").await;
    let put = applied(&service, &p, vera).await;
    assert_eq!(put.len(), 1);
    let terms = &put[0].payload["sla_policy"];
    assert_eq!((put[0].payload["policy"].as_u64(), terms["name"].as_str()), (Some(vip.id), Some("VIP")));
    assert_eq!(terms["resolution_seconds"], 7200.0);
    assert!(logged(&service, &p, paul, Kind::SlaPolicyApplied).await.is_empty(), "not a VIP");

    // Vera counts with the policy, Paul with the queue.
    let running = |timer, due: &str, state, policy| Some(SlaStatus { timer, due: Timestamp(at(due)), state, policy });
    assert_eq!(
        status(&service, &p, vera).await,
        running(Timer::FirstResponse, "2026-12-01T10:10:00Z", SlaState::Running, Some(vip.id))
    );
    assert_eq!(
        status(&service, &p, paul).await,
        running(Timer::FirstResponse, "2026-12-01T11:00:00Z", SlaState::Running, None)
    );

    // Two minutes before: at risk; at ten minutes: breached, once.
    set("2026-12-01T10:08:00Z");
    service.tick().await;
    assert_eq!(logged(&service, &p, vera, Kind::SlaWarning).await.len(), 1);
    assert_eq!(wallboard(&service, &p).await, (0, 1, 0));
    set("2026-12-01T10:10:00Z");
    service.tick().await;
    service.tick().await;
    let breach = logged(&service, &p, vera, Kind::SlaBreached).await;
    assert_eq!(breach.len(), 1);
    assert_eq!(
        (breach[0].payload["timer"].as_str(), breach[0].payload["policy"].as_u64()),
        (Some("first_response"), Some(vip.id))
    );
    assert_eq!(breach[0].payload["target_seconds"], 600.0);
    assert_eq!(wallboard(&service, &p).await, (1, 0, 1));

    // The reply stops the response clock; the resolution clock runs on
    // from the opening until the conversation ends.
    set("2026-12-01T10:15:00Z");
    service.send_message(&p, vera, "A new one ships today.", None).await.unwrap();
    assert_eq!(
        status(&service, &p, vera).await,
        running(Timer::Resolution, "2026-12-01T12:00:00Z", SlaState::Running, Some(vip.id))
    );
    assert_eq!(wallboard(&service, &p).await, (0, 0, 1));

    // A restart reads the policy back from the log.
    let _ = stop.send(true);
    rules.await.unwrap();
    drop(service);
    let service = open(&url, &clock).await;
    assert_eq!(
        status(&service, &p, vera).await,
        running(Timer::Resolution, "2026-12-01T12:00:00Z", SlaState::Running, Some(vip.id))
    );
    // Paul's queue target passes at 11:00; Vera's resolution warns at 11:58 and breaches at 12:00.
    set("2026-12-01T11:58:00Z");
    service.tick().await;
    assert_eq!(logged(&service, &p, paul, Kind::SlaBreached).await.len(), 1);
    let warned = logged(&service, &p, vera, Kind::SlaWarning).await;
    assert_eq!((warned.len(), warned[1].payload["timer"].as_str()), (2, Some("resolution")));
    assert_eq!(status(&service, &p, vera).await.unwrap().state, SlaState::AtRisk);
    assert_eq!(wallboard(&service, &p).await, (1, 1, 2), "Paul breached, Vera at risk");
    set("2026-12-01T12:00:00Z");
    service.tick().await;
    service.tick().await;
    let breaches = logged(&service, &p, vera, Kind::SlaBreached).await;
    assert_eq!((breaches.len(), breaches[1].payload["timer"].as_str()), (2, Some("resolution")));
    assert_eq!(
        status(&service, &p, vera).await,
        running(Timer::Resolution, "2026-12-01T12:00:00Z", SlaState::Breached, Some(vip.id))
    );
    // Vera's customer answer starts a next-response clock: still one conversation past its target.
    text(&service, endpoint, VIP, "Thanks, and the refund?", "v2").await;
    assert_eq!(wallboard(&service, &p).await, (2, 0, 3));

    // Ended, neither counts any more; the log keeps the breaches.
    service.end_conversation(p.workspace, vera, "customer").await.unwrap();
    service.end_conversation(p.workspace, paul, "customer").await.unwrap();
    assert_eq!(wallboard(&service, &p).await, (0, 0, 3));
    assert_eq!(status(&service, &p, vera).await, None);
}

async fn policies_count_in_business_hours_keep_their_targets_and_stay_while_used(url: String) {
    // Friday 27 November 2026, 16:30 in Berlin (UTC+1).
    let clock = Arc::new(AtomicI64::new(at("2026-11-27T15:30:00Z")));
    let set = |t: &str| clock.store(at(t), Ordering::SeqCst);
    let service = open(&url, &clock).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let routing = service.store().policies(p.workspace).await.unwrap()[0].id;
    let settings = serde_json::from_value(json!({
        "channels": ["sms"], "policy": routing,
        "calendar": { "time_zone": "Europe/Berlin",
                      "weekly": { "mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                                  "thu": ["09:00-17:00"], "fri": ["09:00-17:00"] } }
    }))
    .unwrap();
    service.put_queue(&p, Some(queue), "Support", settings).await.unwrap();
    let endpoint = support::sms_endpoint(&service, &p, "+15557770072", queue).await;
    let urgent: Stored<SlaPolicy> = service
        .put_document(
            &p,
            None,
            policy(json!({ "name": "Urgent", "first_response_seconds": 3600, "business_hours_only": true })),
        )
        .await
        .unwrap();
    let rule: Rule = serde_json::from_value(json!({
        "name": "Urgent subjects", "event": "contact_created",
        "conditions": [{ "field": "subject", "op": "contains", "value": "urgent" }],
        "actions": [{ "type": "apply_sla_policy", "policy": urgent.id }]
    }))
    .unwrap();
    let rule = service.put_rule(&p, None, rule).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let rules = service.clone().spawn_rules(stopped);

    let mut urgent_text = sms::text(PLAIN, "The heater is broken.", "u1");
    if let Some(m) = &mut urgent_text.message {
        m.addressing = Addressing { subject: Some("URGENT: no heating".into()), ..Default::default() };
    }
    let contact = service.inbound(endpoint, Thread::Key(PLAIN.into()), urgent_text).await.unwrap().contact;
    assert_eq!(applied(&service, &p, contact).await.len(), 1);
    // The queue has no target of its own: the policy's hour counts in its
    // hours, 30 minutes on Friday and 30 on Monday from 09:00 Berlin.
    let due = Timestamp(at("2026-11-30T08:30:00Z"));
    assert_eq!(status(&service, &p, contact).await.map(|s| s.due), Some(due));

    // Editing the policy changes no conversation it is already applied to.
    let mut faster = urgent.body.clone();
    faster.first_response_seconds = Some(600.0);
    service.put_document(&p, Some(urgent.id), faster).await.unwrap();
    assert_eq!(status(&service, &p, contact).await.map(|s| s.due), Some(due));
    set("2026-11-30T08:29:00Z");
    service.tick().await;
    assert!(logged(&service, &p, contact, Kind::SlaBreached).await.is_empty());
    set("2026-11-30T08:30:00Z");
    service.tick().await;
    assert_eq!(logged(&service, &p, contact, Kind::SlaBreached).await.len(), 1);

    // A policy a rule applies is not deleted; once the rule is gone it is.
    let used = service.delete_document::<SlaPolicy>(&p, urgent.id).await;
    assert!(matches!(&used, Err(ServiceError::Conflict(m)) if m.contains("Urgent subjects")), "{used:?}");
    service.delete_rule(&p, rule.id).await.unwrap();
    service.delete_document::<SlaPolicy>(&p, urgent.id).await.unwrap();
    let _ = stop.send(true);
    rules.await.unwrap();
}

support::on_both!(
    a_rule_puts_a_vip_under_a_policy_with_a_resolution_clock,
    policies_count_in_business_hours_keep_their_targets_and_stay_while_used
);
