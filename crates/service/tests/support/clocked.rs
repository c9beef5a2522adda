//! What the response-target tests share: a service opened on a clock the
//! test moves (not the support's), with the test SMS channel, and the
//! events of one kind a contact has logged.

use crate::sms;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use switchboard_core::ids::ContactId;
use switchboard_core::time::Timestamp;
use switchboard_service::Service;
use switchboard_service::auth::Principal;
use switchboard_service::kinds::Kind;
use switchboard_store::LoggedEvent;

/// An RFC 3339 time in milliseconds since the epoch.
pub fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

/// A service on `url` whose clock is `clock`, with the SMS channel.
pub async fn open(url: &str, clock: &Arc<AtomicI64>) -> Service {
    let read = clock.clone();
    let service = Service::open(url, Arc::new(move || Timestamp(read.load(Ordering::SeqCst))), 12).await.unwrap();
    service.channels().register(Arc::new(sms::TestSms::default()));
    service
}

pub async fn logged(service: &Service, p: &Principal, contact: ContactId, kind: Kind) -> Vec<LoggedEvent> {
    service.store().contact_events(p.workspace, contact, Some(kind.as_str())).await.unwrap()
}
