//! First- and next-response targets on an SMS conversation (a channel the
//! customer answers later), on the service's clock moved by the test: a
//! breach is committed once, never before its due time, the clock pauses
//! while the queue is closed, an agent's reply stops it, a restart neither
//! repeats nor loses it, and reports, live figures and rules see it; a
//! warning comes once before it, when the queue asks for one.

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
use switchboard_service::auth::Principal;
use switchboard_service::conversation::Thread;
use switchboard_service::kinds::Kind;
use switchboard_service::{Service, ServiceError};
use switchboard_store::LoggedEvent;

const PHONE: &str = "+15550104242";

async fn breaches(service: &Service, p: &Principal, contact: ContactId) -> Vec<LoggedEvent> {
    logged(service, p, contact, Kind::SlaBreached).await
}

/// Whether the customer of `contact` has been tagged `tag`, waiting a
/// little for the rules' task.
async fn tagged(service: &Service, p: &Principal, contact: ContactId, tag: &str) -> bool {
    let customer = service.contact(p, contact).await.unwrap().customer.unwrap();
    for _ in 0..200 {
        if service.customer(p, customer).await.unwrap().customer.tags.iter().any(|t| t == tag) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The queue's open contacts at risk now (warned, not breached).
async fn at_risk(service: &Service, p: &Principal) -> u64 {
    service.queue_stats(p).await.unwrap().remove(0).sla_at_risk_now
}

/// The queue's open contacts past their target now, and its breaches today.
async fn wallboard(service: &Service, p: &Principal) -> (u64, u64) {
    let q = service.queue_stats(p).await.unwrap().remove(0);
    (q.sla_breached_now, q.today.sla_breaches)
}

async fn response_targets_breach_once_in_business_hours(url: String) {
    // Friday 27 November 2026, 16:30 in Berlin (UTC+1).
    let clock = Arc::new(AtomicI64::new(at("2026-11-27T15:30:00Z")));
    let set = |t: &str| clock.store(at(t), Ordering::SeqCst);
    let service = open(&url, &clock).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let policy = service.store().policies(p.workspace).await.unwrap()[0].id;
    let settings = |first: serde_json::Value| {
        serde_json::from_value(json!({
            "channels": ["sms"], "policy": policy,
            "first_response_seconds": first, "next_response_seconds": 1800,
            "calendar": { "time_zone": "Europe/Berlin",
                          "weekly": { "mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                                      "thu": ["09:00-17:00"], "fri": ["09:00-17:00"] } }
        }))
        .unwrap()
    };
    // Targets are checked: a minute at least.
    match service.put_queue(&p, Some(queue), "Support", settings(json!(10))).await {
        Err(ServiceError::Invalid { field, .. }) => assert_eq!(field, "first_response_seconds"),
        other => panic!("{other:?}"),
    }
    service.put_queue(&p, Some(queue), "Support", settings(json!(3600))).await.unwrap();
    let endpoint = support::sms_endpoint(&service, &p, "+15557770042", queue).await;
    let late: Rule = serde_json::from_value(json!({
        "name": "Late", "event": "sla_breached", "actions": [{ "type": "add_tag", "tag": "late" }]
    }))
    .unwrap();
    service.put_rule(&p, None, late).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let rules = service.clone().spawn_rules(stopped);

    let got = service.inbound(endpoint, Thread::Key(PHONE.into()), sms::text(PHONE, "Where is my order?", "m1")).await;
    let contact = got.unwrap().contact;
    // 30 minutes of Friday's hours pass, then the weekend.
    set("2026-11-27T16:00:00Z");
    service.tick().await;
    set("2026-11-30T08:29:59Z");
    service.tick().await;
    assert!(breaches(&service, &p, contact).await.is_empty(), "59 open minutes: not yet due");
    assert_eq!(wallboard(&service, &p).await, (0, 0));

    // Monday 09:30 in Berlin: the hour of open time has passed.
    set("2026-11-30T08:30:00Z");
    service.tick().await;
    set("2026-11-30T08:31:00Z");
    service.tick().await;
    let once = breaches(&service, &p, contact).await;
    assert_eq!(once.len(), 1, "one breach per clock");
    let b = &once[0].payload;
    assert_eq!((b["timer"].as_str(), b["due"].as_i64()), (Some("first_response"), Some(at("2026-11-30T08:30:00Z"))));
    assert_eq!(b["target_seconds"], 3600.0);
    assert_eq!(once[0].queue, Some(queue));
    assert_eq!(wallboard(&service, &p).await, (1, 1));
    assert!(tagged(&service, &p, contact, "late").await);

    // A restart neither repeats the breach nor forgets it.
    let _ = stop.send(true);
    rules.await.unwrap();
    drop(service);
    let service = open(&url, &clock).await;
    assert_eq!(wallboard(&service, &p).await, (1, 1));
    set("2026-11-30T08:40:00Z");
    service.tick().await;
    assert_eq!(breaches(&service, &p, contact).await.len(), 1);

    // The agent's reply stops the clock; the customer's answer starts the
    // next-response clock, which the next reply stops in time.
    set("2026-11-30T08:45:00Z");
    service.send_message(&p, contact, "It left our warehouse today.", None).await.unwrap();
    assert_eq!(wallboard(&service, &p).await, (0, 1));
    set("2026-11-30T09:00:00Z");
    service.inbound(endpoint, Thread::Key(PHONE.into()), sms::text(PHONE, "Tracking number?", "m2")).await.unwrap();
    set("2026-11-30T09:20:00Z");
    service.send_message(&p, contact, "ZX123.", None).await.unwrap();
    set("2026-11-30T12:00:00Z");
    service.tick().await;
    assert_eq!(breaches(&service, &p, contact).await.len(), 1, "answered within 30 minutes");

    // Unanswered, the next one breaches at 30 minutes, once.
    service.inbound(endpoint, Thread::Key(PHONE.into()), sms::text(PHONE, "Thanks! And returns?", "m3")).await.unwrap();
    set("2026-11-30T12:29:00Z");
    service.tick().await;
    assert_eq!(breaches(&service, &p, contact).await.len(), 1);
    set("2026-11-30T12:30:00Z");
    service.tick().await;
    service.tick().await;
    let all = breaches(&service, &p, contact).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].payload["timer"], "next_response");
    assert_eq!(wallboard(&service, &p).await, (1, 2));
}

async fn a_warning_comes_once_before_the_breach(url: String) {
    let clock = Arc::new(AtomicI64::new(at("2026-12-01T10:00:00Z")));
    let set = |t: &str| clock.store(at(t), Ordering::SeqCst);
    let service = open(&url, &clock).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let policy = service.store().policies(p.workspace).await.unwrap()[0].id;
    let settings = |warning: serde_json::Value| {
        serde_json::from_value(json!({
            "channels": ["sms"], "policy": policy, "first_response_seconds": 3600,
            "next_response_seconds": 1800, "sla_warning_seconds": warning
        }))
        .unwrap()
    };
    match service.put_queue(&p, Some(queue), "Support", settings(json!(-5))).await {
        Err(ServiceError::Invalid { field, .. }) => assert_eq!(field, "sla_warning_seconds"),
        other => panic!("{other:?}"),
    }
    service.put_queue(&p, Some(queue), "Support", settings(json!(600))).await.unwrap();
    let endpoint = support::sms_endpoint(&service, &p, "+15557770043", queue).await;
    let rule: Rule = serde_json::from_value(json!({
        "name": "Hurry", "event": "sla_warning", "actions": [{ "type": "add_tag", "tag": "at-risk" }]
    }))
    .unwrap();
    service.put_rule(&p, None, rule).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let rules = service.clone().spawn_rules(stopped);

    let got = service.inbound(endpoint, Thread::Key(PHONE.into()), sms::text(PHONE, "Refund?", "w1")).await;
    let contact = got.unwrap().contact;
    set("2026-12-01T10:49:59Z");
    service.tick().await;
    assert!(logged(&service, &p, contact, Kind::SlaWarning).await.is_empty(), "more than ten minutes left");
    // Ten minutes before the hour's target: one warning, however many ticks.
    set("2026-12-01T10:50:00Z");
    service.tick().await;
    set("2026-12-01T10:55:00Z");
    service.tick().await;
    let once = logged(&service, &p, contact, Kind::SlaWarning).await;
    assert_eq!(once.len(), 1);
    let w = &once[0].payload;
    assert_eq!((w["timer"].as_str(), w["due"].as_i64()), (Some("first_response"), Some(at("2026-12-01T11:00:00Z"))));
    assert_eq!((w["target_seconds"].as_f64(), w["warning_seconds"].as_f64()), (Some(3600.0), Some(600.0)));
    assert_eq!((at_risk(&service, &p).await, wallboard(&service, &p).await), (1, (0, 0)));
    assert!(tagged(&service, &p, contact, "at-risk").await);

    // A restart does not warn again; the breach still comes, and the
    // contact is past its target rather than at risk.
    let _ = stop.send(true);
    rules.await.unwrap();
    drop(service);
    let service = open(&url, &clock).await;
    assert_eq!(at_risk(&service, &p).await, 1);
    set("2026-12-01T11:00:00Z");
    service.tick().await;
    assert_eq!(
        (logged(&service, &p, contact, Kind::SlaWarning).await.len(), breaches(&service, &p, contact).await.len()),
        (1, 1)
    );
    assert_eq!((at_risk(&service, &p).await, wallboard(&service, &p).await), (0, (1, 1)));

    // The agent answers: nothing runs while the customer has the last word
    // to say, however long that takes.
    service.send_message(&p, contact, "Sent today.", None).await.unwrap();
    set("2026-12-03T11:00:00Z");
    service.tick().await;
    assert_eq!(
        (logged(&service, &p, contact, Kind::SlaWarning).await.len(), breaches(&service, &p, contact).await.len()),
        (1, 1)
    );
    assert_eq!((at_risk(&service, &p).await, wallboard(&service, &p).await.0), (0, 0));
    // The customer's answer starts the next-response clock: warned at 20
    // of its 30 minutes.
    service.inbound(endpoint, Thread::Key(PHONE.into()), sms::text(PHONE, "Thanks, when?", "w2")).await.unwrap();
    set("2026-12-03T11:20:00Z");
    service.tick().await;
    let both = logged(&service, &p, contact, Kind::SlaWarning).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[1].payload["timer"], "next_response");
    assert_eq!(at_risk(&service, &p).await, 1);
}

support::on_both!(response_targets_breach_once_in_business_hours, a_warning_comes_once_before_the_breach);
