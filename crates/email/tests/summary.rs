//! The daily summary mailed through a mailbox's relay (a real SMTP server,
//! aiosmtpd): once, at the local time set, with yesterday's figures per
//! queue (none here) — and not again after a restart.

mod common;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use common::{SUPPORT, Sink, header, mailroom};
use serde_json::json;
use std::sync::Arc;
use switchboard_core::time::Timestamp;
use switchboard_email::EmailChannel;

async fn the_summary_is_mailed_once_a_day(url: String) {
    let sink = Sink::start();
    let m = mailroom(&url, 1024 * 1024, common::relay(&sink)).await;
    m.service.channels().register(Arc::new(EmailChannel::new(m.service.clone())));
    let settings = serde_json::from_value(json!({
        "enabled": true, "at": "07:30",
        "email": { "endpoint": m.endpoint, "to": ["lead@shop.example"] } }))
    .unwrap();
    m.service.set_daily_summary(&m.p, settings).await.unwrap();
    // The workspace's day is UTC's: 1 June 2026 starts at this instant.
    const JUNE_1: i64 = 1_780_272_000_000;
    let at = |d: i64, h: i64, min: i64| Timestamp(JUNE_1 + (((d - 1) * 24 + h) * 60 + min) * 60_000);

    assert_eq!(m.service.send_daily_summaries(at(2, 7, 29)).await.unwrap(), 0);
    assert_eq!(m.service.send_daily_summaries(at(2, 7, 30)).await.unwrap(), 1);
    let mail = sink.message(1).await;
    assert_eq!(header(&mail, "Subject").as_deref(), Some("Loopback: daily summary for 2026-06-01"));
    assert_eq!(header(&mail, "To").as_deref(), Some("<lead@shop.example>"));
    assert!(header(&mail, "From").unwrap().contains(SUPPORT), "{mail}");
    assert_eq!(header(&mail, "Auto-Submitted").as_deref(), Some("auto-generated"));
    assert!(mail.contains("No contacts that day."), "{mail}");

    // A restart the same day sends nothing more: the day is on record.
    let service = support::service(&url).await;
    service.channels().register(Arc::new(EmailChannel::new(service.clone())));
    assert_eq!(service.send_daily_summaries(at(2, 12, 0)).await.unwrap(), 0);
    assert_eq!(service.send_daily_summaries(at(3, 7, 30)).await.unwrap(), 1);
    let next = sink.message(2).await;
    assert_eq!(header(&next, "Subject").as_deref(), Some("Loopback: daily summary for 2026-06-02"));
}

support::on_both!(the_summary_is_mailed_once_a_day);
