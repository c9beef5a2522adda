//! Configuration documents and chat attachments, on both stores.

#[macro_use]
mod common;

use common::*;
use std::sync::Arc;
use switchboard_core::ids::WorkspaceId;
use switchboard_store::*;

both!(
    documents_round_trip_by_kind_and_id,
    documents_are_overwritten_and_deleted_in_order,
    documents_stay_in_their_workspace,
    attachments_round_trip_any_bytes,
    attachments_never_move_between_workspaces,
);

const WS: WorkspaceId = WorkspaceId(1);
const WS2: WorkspaceId = WorkspaceId(2);

async fn commit(s: &Store, changes: Vec<Change>) {
    s.commit(changes).await.expect("commit");
}

async fn workspaces(s: &Store) {
    commit(s, vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))]).await;
}

async fn documents_round_trip_by_kind_and_id(s: &Arc<Store>) {
    workspaces(s).await;
    let mut hours = document(1, "business_hours", 3);
    hours.body =
        serde_json::json!({ "tz": "Europe/Berlin", "mon": [["09:00", "17:00"]], "note": "it's \"quoted\" — ü" });
    commit(
        s,
        vec![
            // Out of order: the order read back is the store's.
            Change::PutDocument(document(1, "disposition_code", 12)),
            Change::PutDocument(document(1, "disposition_code", 2)),
            Change::PutDocument(document(1, "canned_response", 5)),
            Change::PutDocument(hours.clone()),
        ],
    )
    .await;
    assert_eq!(
        s.documents(WS, "disposition_code").await.unwrap(),
        vec![document(1, "disposition_code", 2), document(1, "disposition_code", 12)]
    );
    assert_eq!(s.documents(WS, "canned_response").await.unwrap(), vec![document(1, "canned_response", 5)]);
    assert_eq!(s.documents(WS, "business_hours").await.unwrap(), vec![hours.clone()]);
    assert_eq!(s.documents(WS, "bot_flow").await.unwrap(), vec![]);
    assert_eq!(s.documents(WS, "Disposition_Code").await.unwrap(), vec![], "kinds are exact");

    assert_eq!(s.document(WS, "business_hours", 3).await.unwrap(), Some(hours));
    assert_eq!(s.document(WS, "canned_response", 3).await.unwrap(), None, "the kind is part of the key");
    assert_eq!(s.document(WS, "disposition_code", 12).await.unwrap(), Some(document(1, "disposition_code", 12)));
    assert_eq!(s.document(WS, "disposition_code", 13).await.unwrap(), None);
}

async fn documents_are_overwritten_and_deleted_in_order(s: &Arc<Store>) {
    workspaces(s).await;
    commit(
        s,
        vec![
            Change::PutDocument(document(1, "kb_category", 1)),
            Change::PutDocument(document(1, "kb_category", 2)),
            Change::PutDocument(document(1, "chat_settings", 3)),
        ],
    )
    .await;

    // A put replaces the whole body.
    let mut renamed = document(1, "kb_category", 1);
    renamed.body = serde_json::json!("just a string now");
    renamed.updated_at = ts(123_456);
    commit(s, vec![Change::PutDocument(renamed.clone())]).await;
    assert_eq!(s.document(WS, "kb_category", 1).await.unwrap(), Some(renamed.clone()));

    // A delete names the kind: the same id under another kind stays.
    commit(s, vec![Change::DeleteDocument { workspace: WS, kind: "chat_settings".into(), id: 1 }]).await;
    assert_eq!(s.document(WS, "kb_category", 1).await.unwrap(), Some(renamed));
    commit(s, vec![Change::DeleteDocument { workspace: WS, kind: "kb_category".into(), id: 1 }]).await;
    assert_eq!(s.document(WS, "kb_category", 1).await.unwrap(), None);
    assert_eq!(s.documents(WS, "kb_category").await.unwrap(), vec![document(1, "kb_category", 2)]);
    // Deleting what is not there is no error.
    commit(s, vec![Change::DeleteDocument { workspace: WS, kind: "kb_category".into(), id: 1 }]).await;

    // Within a batch the order holds: put, delete, put again.
    let mut last = document(1, "kb_category", 2);
    last.body = serde_json::json!({ "version": 3 });
    commit(
        s,
        vec![
            Change::PutDocument(document(1, "chat_settings", 3)),
            Change::DeleteDocument { workspace: WS, kind: "kb_category".into(), id: 2 },
            Change::PutDocument(document(1, "kb_category", 2)),
            Change::DeleteDocument { workspace: WS, kind: "chat_settings".into(), id: 3 },
            Change::PutDocument(last.clone()),
        ],
    )
    .await;
    assert_eq!(s.documents(WS, "kb_category").await.unwrap(), vec![last]);
    assert_eq!(s.documents(WS, "chat_settings").await.unwrap(), vec![]);
}

async fn documents_stay_in_their_workspace(s: &Arc<Store>) {
    workspaces(s).await;
    let mine = document(1, "canned_response", 7);
    commit(s, vec![Change::PutDocument(mine.clone())]).await;

    // Another workspace reads nothing of it.
    assert_eq!(s.documents(WS2, "canned_response").await.unwrap(), vec![]);
    assert_eq!(s.document(WS2, "canned_response", 7).await.unwrap(), None);

    // The same kind and id put from workspace 2 is a row of its own there:
    // workspace 1's is untouched.
    let mut theirs = document(2, "canned_response", 7);
    theirs.body = serde_json::json!({ "text": "theirs" });
    commit(s, vec![Change::PutDocument(theirs.clone())]).await;
    assert_eq!(s.document(WS, "canned_response", 7).await.unwrap(), Some(mine.clone()));
    assert_eq!(s.document(WS2, "canned_response", 7).await.unwrap(), Some(theirs.clone()));

    // A delete from one workspace leaves the other's.
    commit(s, vec![Change::DeleteDocument { workspace: WS2, kind: "canned_response".into(), id: 7 }]).await;
    assert_eq!(s.document(WS2, "canned_response", 7).await.unwrap(), None);
    assert_eq!(s.documents(WS, "canned_response").await.unwrap(), vec![mine]);
}

async fn attachments_round_trip_any_bytes(s: &Arc<Store>) {
    workspaces(s).await;
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let large: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut utf8ish = attachment(4, 1, 10, "not text: \0 \u{fffd}".as_bytes());
    utf8ish.name = "it's \"a\" näme.txt".to_string();
    utf8ish.content_type = "text/plain; charset=utf-8".to_string();
    let cases = [
        attachment(1, 1, 10, &[]),
        attachment(2, 1, 10, &every_byte),
        attachment(3, 1, 11, &large),
        utf8ish,
        attachment(5, 1, 11, &[0]),
    ];
    commit(s, cases.iter().cloned().map(Change::PutAttachment).collect()).await;
    for a in &cases {
        assert_eq!(s.attachment(WS, a.id).await.unwrap().as_ref(), Some(a), "attachment {}", a.id);
    }
    assert_eq!(s.attachment(WS, 6).await.unwrap(), None);

    // A put replaces it, bytes and all.
    let mut replaced = attachment(2, 1, 12, b"short");
    replaced.name = "renamed".to_string();
    commit(s, vec![Change::PutAttachment(replaced.clone())]).await;
    assert_eq!(s.attachment(WS, 2).await.unwrap(), Some(replaced));
    let emptied = attachment(3, 1, 11, &[]);
    commit(s, vec![Change::PutAttachment(emptied.clone())]).await;
    assert_eq!(s.attachment(WS, 3).await.unwrap(), Some(emptied));
}

async fn attachments_never_move_between_workspaces(s: &Arc<Store>) {
    workspaces(s).await;
    let mine = attachment(1, 1, 10, b"mine");
    commit(s, vec![Change::PutAttachment(mine.clone())]).await;
    assert_eq!(s.attachment(WS2, 1).await.unwrap(), None);

    match s.commit(vec![Change::PutAttachment(attachment(1, 2, 20, b"theirs"))]).await {
        Err(StoreError::Conflict(what)) => assert!(what.contains("another workspace"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(s.attachment(WS, 1).await.unwrap(), Some(mine));
    assert_eq!(s.attachment(WS2, 1).await.unwrap(), None);
}

#[test]
fn debug_output_shows_an_attachments_size_not_its_bytes() {
    let a = attachment(1, 1, 1, &[0xab; 1000]);
    let shown = format!("{a:?} {:?}", Change::PutAttachment(a.clone()));
    assert!(shown.contains("<1000 bytes>"), "{shown}");
    assert!(!shown.contains("171"), "{shown}");
}
