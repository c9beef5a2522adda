//! Reports through the service's real operations, on both databases: a
//! conversation opened at an SMS endpoint and a contact created over the
//! API, by endpoint and by channel; who may read them.

mod support;

use serde_json::json;
use switchboard_core::channel::Channel;
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;
use switchboard_service::auth::Principal;
use switchboard_service::conversation::{Inbound, IncomingMessage, Sender, Thread};
use switchboard_service::reports::intervals::Interval;
use switchboard_service::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest};
use switchboard_service::{IdentityValue, NewUser, Role, ServiceError};
use switchboard_store::IdentityKind;

fn around_today(dimension: Dimension) -> ReportRequest {
    let today = chrono::Utc::now().date_naive();
    ReportRequest {
        from: Bound::Date(today - chrono::Duration::days(1)),
        to: Bound::Date(today + chrono::Duration::days(2)),
        interval: Interval::Day,
        dimension,
        short_abandon: DEFAULT_SHORT_ABANDON,
        fcr_window: DEFAULT_FCR_WINDOW,
    }
}

async fn by_endpoint_and_channel(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms", "api"]).await;
    let endpoint = support::sms_endpoint(&service, &p, "+15557770000", queue).await;
    let sender = Sender {
        identity: Some(IdentityValue { kind: IdentityKind::Phone, value: "+15550001234".into() }),
        name: None,
    };
    let text = Inbound {
        sender,
        message: Some(IncomingMessage { text: "hello".into(), ..Default::default() }),
        ..Default::default()
    };
    service.inbound(endpoint, Thread::Key("+15550001234".into()), text).await.unwrap();
    let api = serde_json::from_value(json!({ "queue": queue })).unwrap();
    service.create_contact(&p, api).await.unwrap();
    let api_endpoint = service.endpoints(&p).await.unwrap().into_iter().find(|e| e.channel == Channel::Api);
    let api_endpoint = api_endpoint.expect("the API contact's endpoint").id;

    let endpoints = service.report(&p, &around_today(Dimension::Endpoints)).await.unwrap();
    let mut rows: Vec<(serde_json::Value, String, u64)> =
        endpoints.rows.iter().map(|r| (r.id.clone(), r.name.clone(), r.offered)).collect();
    rows.sort_by_key(|r| r.0.as_u64());
    let mut expected = [(json!(endpoint), "+15557770000".to_string(), 1), (json!(api_endpoint), "API".to_string(), 1)];
    expected.sort_by_key(|r| r.0.as_u64());
    assert_eq!(rows, expected, "the API contact came in on the workspace's API endpoint");
    let channels = service.report(&p, &around_today(Dimension::Channels)).await.unwrap();
    let rows: Vec<(String, u64)> = channels.rows.iter().map(|r| (r.name.clone(), r.offered)).collect();
    assert_eq!(rows, [("sms".to_string(), 1), ("api".to_string(), 1)]);
    // Today's figures read the same fold.
    let stats = service.queue_stats(&p).await.unwrap();
    assert_eq!(stats[0].today.offered, 2);

    // Agents may not read reports; another workspace sees nothing of this one.
    let agent = NewUser {
        email: format!("agent{}@example.com", support::rand_suffix()),
        name: "Agent".into(),
        role: Role::Agent,
        password: "agent-password".into(),
    };
    let agent = service.create_user(&p, agent).await.unwrap();
    let as_agent = Principal { workspace: p.workspace, user: agent.id, role: Role::Agent };
    let refused = service.report(&as_agent, &around_today(Dimension::Totals)).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let (other, _) = support::workspace(&service, &["api"]).await;
    for d in [Dimension::Totals, Dimension::Queues, Dimension::Agents, Dimension::Channels, Dimension::Endpoints] {
        assert!(service.report(&other, &around_today(d)).await.unwrap().rows.is_empty());
    }
}

support::on_both!(by_endpoint_and_channel);
