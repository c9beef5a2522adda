//! Endpoints, on both stores: round trips, lookups across workspaces,
//! the uniqueness of an address on its channel, and deletes.

#[macro_use]
mod common;

use common::*;
use std::sync::Arc;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{EndpointId, QueueId, WorkspaceId};
use switchboard_store::*;

both!(
    endpoints_round_trip_and_are_found_by_id_and_address,
    an_address_is_unique_on_its_channel_across_workspaces,
    endpoints_never_move_between_workspaces,
    deleted_endpoints_free_their_address_but_not_their_id,
);

const WS: WorkspaceId = WorkspaceId(1);
const WS2: WorkspaceId = WorkspaceId(2);

async fn commit(s: &Store, changes: Vec<Change>) {
    s.commit(changes).await.expect("commit");
}

async fn workspaces(s: &Store) {
    commit(s, vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))]).await;
}

fn endpoint(id: u64, ws: u64, channel: Channel, address: Option<&str>) -> EndpointRecord {
    EndpointRecord {
        id: EndpointId(id),
        workspace: WorkspaceId(ws),
        channel,
        name: format!("endpoint {id}"),
        address: address.map(str::to_string),
        queue: Some(QueueId(3)),
        flow: None,
        business_hours: Some(9),
        enabled: true,
        settings: serde_json::json!({ "greeting": "Hallo — ü", "n": 2 }),
        secrets: vec![0, 1, 2, 255, 0],
        created_at: ts(1_000),
        updated_at: ts(2_000),
    }
}

async fn endpoints_round_trip_and_are_found_by_id_and_address(s: &Arc<Store>) {
    workspaces(s).await;
    let phone = endpoint(4, 1, Channel::Voice, Some("+15551234567"));
    let mut mail = endpoint(2, 1, Channel::Email, Some("support@example.com"));
    mail.queue = None;
    mail.flow = Some(17);
    mail.business_hours = None;
    mail.enabled = false;
    mail.secrets = Vec::new();
    let theirs = endpoint(3, 2, Channel::Sms, Some("+15557654321"));
    let unaddressed = endpoint(5, 1, Channel::Api, None);
    commit(
        s,
        vec![
            Change::PutEndpoint(phone.clone()),
            Change::PutEndpoint(mail.clone()),
            Change::PutEndpoint(theirs.clone()),
            Change::PutEndpoint(unaddressed.clone()),
        ],
    )
    .await;
    assert_eq!(s.endpoints(WS).await.unwrap(), vec![mail.clone(), phone.clone(), unaddressed.clone()]);
    assert_eq!(s.endpoints(WS2).await.unwrap(), vec![theirs.clone()]);
    assert_eq!(s.endpoints(WorkspaceId(3)).await.unwrap(), vec![]);
    assert_eq!(s.all_endpoints().await.unwrap(), vec![mail.clone(), theirs.clone(), phone.clone(), unaddressed]);

    assert_eq!(s.endpoint(EndpointId(3)).await.unwrap(), Some(theirs.clone()), "by id, in any workspace");
    assert_eq!(s.endpoint(EndpointId(99)).await.unwrap(), None);
    assert_eq!(s.endpoint_by_address(Channel::Sms, "+15557654321").await.unwrap(), Some(theirs));
    assert_eq!(s.endpoint_by_address(Channel::Email, "support@example.com").await.unwrap(), Some(mail.clone()));
    assert_eq!(s.endpoint_by_address(Channel::Voice, "+15557654321").await.unwrap(), None, "the channel counts");
    assert_eq!(s.endpoint_by_address(Channel::Email, "Support@example.com").await.unwrap(), None, "exact match");

    // A put replaces the whole record.
    let mut renamed = phone.clone();
    renamed.name = "Hotline".into();
    renamed.address = Some("+15550000000".into());
    renamed.settings = serde_json::json!({});
    renamed.updated_at = ts(3_000);
    commit(s, vec![Change::PutEndpoint(renamed.clone())]).await;
    assert_eq!(s.endpoint(EndpointId(4)).await.unwrap(), Some(renamed));
    assert_eq!(s.endpoint_by_address(Channel::Voice, "+15551234567").await.unwrap(), None);
}

async fn an_address_is_unique_on_its_channel_across_workspaces(s: &Arc<Store>) {
    workspaces(s).await;
    commit(s, vec![Change::PutEndpoint(endpoint(1, 1, Channel::Sms, Some("+15551234567")))]).await;
    match s.commit(vec![Change::PutEndpoint(endpoint(2, 2, Channel::Sms, Some("+15551234567")))]).await {
        Err(StoreError::Conflict(what)) => assert!(what.contains("+15551234567"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The same number on another channel, and any number without one.
    commit(
        s,
        vec![
            Change::PutEndpoint(endpoint(3, 2, Channel::Whatsapp, Some("+15551234567"))),
            Change::PutEndpoint(endpoint(4, 1, Channel::Chat, None)),
            Change::PutEndpoint(endpoint(5, 2, Channel::Chat, None)),
        ],
    )
    .await;
    assert_eq!(s.endpoint(EndpointId(2)).await.unwrap(), None, "the refused batch left nothing");
    assert_eq!(s.all_endpoints().await.unwrap().len(), 4);
}

async fn endpoints_never_move_between_workspaces(s: &Arc<Store>) {
    workspaces(s).await;
    let mine = endpoint(1, 1, Channel::Telegram, Some("bot123"));
    commit(s, vec![Change::PutEndpoint(mine.clone())]).await;
    let mut moved = mine.clone();
    moved.workspace = WS2;
    moved.name = "taken over".into();
    match s.commit(vec![Change::PutEndpoint(moved)]).await {
        Err(StoreError::Conflict(what)) => assert!(what.contains("another workspace"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A delete names the workspace: another's reaches nothing.
    commit(s, vec![Change::DeleteEndpoint { workspace: WS2, id: EndpointId(1) }]).await;
    assert_eq!(s.endpoint(EndpointId(1)).await.unwrap(), Some(mine));
}

async fn deleted_endpoints_free_their_address_but_not_their_id(s: &Arc<Store>) {
    workspaces(s).await;
    commit(
        s,
        vec![
            Change::PutEndpoint(endpoint(7, 1, Channel::Email, Some("help@example.com"))),
            Change::PutEndpoint(endpoint(2, 1, Channel::Chat, Some("k3y"))),
        ],
    )
    .await;
    assert_eq!(s.max_ids().await.unwrap().endpoint, 7);
    // Deleted and put back in one batch, in order: the put wins; then the
    // address is taken by another endpoint once the first is gone.
    commit(
        s,
        vec![
            Change::DeleteEndpoint { workspace: WS, id: EndpointId(2) },
            Change::PutEndpoint(endpoint(2, 1, Channel::Chat, Some("k3y"))),
            Change::DeleteEndpoint { workspace: WS, id: EndpointId(7) },
            Change::PutEndpoint(endpoint(3, 2, Channel::Email, Some("help@example.com"))),
        ],
    )
    .await;
    assert_eq!(s.endpoint(EndpointId(7)).await.unwrap(), None);
    assert!(s.endpoint(EndpointId(2)).await.unwrap().is_some());
    assert_eq!(
        s.endpoint_by_address(Channel::Email, "help@example.com").await.unwrap().map(|e| e.id),
        Some(EndpointId(3))
    );
    assert_eq!(s.max_ids().await.unwrap().endpoint, 7, "a deleted endpoint's id is not handed out again");
}
