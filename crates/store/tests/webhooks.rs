//! Webhooks, their delivery log and reading the event log by kind, on both
//! stores.

#[macro_use]
mod common;

use common::*;
use std::sync::Arc;
use switchboard_core::ids::{UserId, WorkspaceId};
use switchboard_store::*;

both!(webhooks_round_trip_and_stay_in_their_workspace, deleting_a_webhook_takes_its_log, events_read_by_kind);

fn webhook(id: u64, ws: u64, events: &[&str]) -> Webhook {
    Webhook {
        id,
        workspace: WorkspaceId(ws),
        url: format!("http://127.0.0.1:9/hook/{id}"),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: format!("secret-{id}"),
        created_by: UserId(1),
        created_at: ts(1_000 + id as i64),
    }
}

fn attempt(webhook: u64, ws: u64, event: u64, attempt: u32, status: Option<u16>) -> Delivery {
    Delivery {
        delivery: format!("d-{webhook}-{event}"),
        attempt,
        workspace: WorkspaceId(ws),
        webhook,
        event,
        kind: "offer_created".into(),
        status,
        error: status.is_none().then(|| "connection refused".to_string()),
        at: ts(2_000 + attempt as i64),
    }
}

async fn commit(s: &Store, changes: Vec<Change>) {
    s.commit(changes).await.expect("commit");
}

async fn webhooks_round_trip_and_stay_in_their_workspace(s: &Arc<Store>) {
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutWorkspace(workspace(2)),
            Change::PutWebhook(webhook(1, 1, &["*"])),
            Change::PutWebhook(webhook(2, 2, &["offer_created", "audit"])),
            Change::PutDelivery(attempt(1, 1, 10, 1, None)),
            Change::PutDelivery(attempt(1, 1, 10, 2, Some(204))),
        ],
    )
    .await;
    assert_eq!(s.webhooks(WorkspaceId(1)).await.unwrap(), vec![webhook(1, 1, &["*"])]);
    assert_eq!(s.webhooks(WorkspaceId(2)).await.unwrap(), vec![webhook(2, 2, &["offer_created", "audit"])]);
    assert_eq!(
        s.deliveries(WorkspaceId(1), 1, 10).await.unwrap(),
        vec![attempt(1, 1, 10, 2, Some(204)), attempt(1, 1, 10, 1, None)],
        "newest first"
    );
    assert_eq!(s.deliveries(WorkspaceId(1), 1, 1).await.unwrap().len(), 1);
    assert!(s.deliveries(WorkspaceId(2), 1, 10).await.unwrap().is_empty(), "another workspace's log");

    // A put from another workspace cannot take the webhook over.
    let err = s.commit(vec![Change::PutWebhook(webhook(1, 2, &["*"]))]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(s.webhooks(WorkspaceId(1)).await.unwrap()[0].workspace, WorkspaceId(1));

    let shown = format!("{:?}", Change::PutWebhook(webhook(7, 1, &["*"])));
    assert!(!shown.contains("secret-7"), "the secret is hidden: {shown}");
    assert!(serde_json::to_string(&webhook(7, 1, &["*"])).unwrap().find("secret-7").is_none());
    assert_eq!(s.max_ids().await.unwrap().webhook, 2);
}

async fn deleting_a_webhook_takes_its_log(s: &Arc<Store>) {
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutWorkspace(workspace(2)),
            Change::PutWebhook(webhook(1, 1, &["*"])),
            Change::PutWebhook(webhook(5, 1, &["*"])),
            Change::PutDelivery(attempt(5, 1, 10, 1, Some(500))),
        ],
    )
    .await;
    // Another workspace's delete touches nothing.
    commit(s, vec![Change::DeleteWebhook { workspace: WorkspaceId(2), id: 5 }]).await;
    assert_eq!(s.webhooks(WorkspaceId(1)).await.unwrap().len(), 2);

    // Put, delete and put again in one batch apply in their order.
    commit(
        s,
        vec![
            Change::PutWebhook(webhook(3, 1, &["*"])),
            Change::DeleteWebhook { workspace: WorkspaceId(1), id: 5 },
            Change::DeleteWebhook { workspace: WorkspaceId(1), id: 3 },
            Change::PutWebhook(webhook(4, 1, &["*"])),
        ],
    )
    .await;
    let ids: Vec<u64> = s.webhooks(WorkspaceId(1)).await.unwrap().iter().map(|w| w.id).collect();
    assert_eq!(ids, vec![1, 4]);
    assert!(s.deliveries(WorkspaceId(1), 5, 10).await.unwrap().is_empty());

    // An attempt logged after the delete is never read, and its webhook id
    // is not handed out again.
    commit(s, vec![Change::PutDelivery(attempt(9, 1, 11, 1, Some(200)))]).await;
    assert_eq!(s.max_ids().await.unwrap().webhook, 9);
}

async fn events_read_by_kind(s: &Arc<Store>) {
    let event = |ws: u64, kind: &str| {
        Change::Append(NewEvent {
            workspace: WorkspaceId(ws),
            at: ts(5),
            kind: kind.into(),
            contact: None,
            agent: None,
            queue: None,
            customer: None,
            payload: serde_json::json!({ "type": kind }),
        })
    };
    commit(s, vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))]).await;
    let ids = s
        .commit(vec![
            event(1, "audit"),
            event(1, "offer_created"),
            event(2, "audit"),
            event(1, "audit"),
            event(1, "audit"),
        ])
        .await
        .unwrap();
    let page = s.events_of_kind(WorkspaceId(1), "audit", 0, 2).await.unwrap();
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[0], ids[3]]);
    let rest = s.events_of_kind(WorkspaceId(1), "audit", ids[3], 10).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[4]]);
    assert_eq!(s.events_of_kind(WorkspaceId(2), "audit", 0, 10).await.unwrap().len(), 1);
    assert!(s.events_of_kind(WorkspaceId(1), "nothing", 0, 10).await.unwrap().is_empty());
}
