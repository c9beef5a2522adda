//! Recordings past their workspace's retention are deleted, each deletion
//! audited, younger ones and other workspaces' kept; on both databases.

// Only the provider's texts are used here, and not all of the support.
#[allow(dead_code)]
#[path = "support/sms.rs"]
mod sms;
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use switchboard_core::ids::{ContactId, EndpointId};
use switchboard_core::time::Timestamp;
use switchboard_service::ServiceError;
use switchboard_service::auth::Principal;
use switchboard_service::conversation::{RecordingSettings, Thread};
use switchboard_service::{Role, Service};

const DAY: Duration = Duration::from_secs(86_400);

/// A conversation with a recording; answers its contact and its file.
async fn recorded(
    service: &Service,
    dir: &Path,
    p: &Principal,
    endpoint: EndpointId,
    from: &str,
) -> (ContactId, PathBuf) {
    let got = service.inbound(endpoint, Thread::Key(from.into()), sms::text(from, "hello", from)).await.unwrap();
    let name = format!("recordings/{}/{}.wav", p.workspace.0, got.contact.0);
    let file = dir.join(&name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"RIFF....WAVE").unwrap();
    service.recording_saved(p.workspace, got.contact, &name, 1.0, &[]).await.unwrap();
    (got.contact, file)
}

async fn recordings_past_retention_are_deleted_and_audited(url: String) {
    // The service's clock, moved by the test.
    let clock = Arc::new(AtomicI64::new(1_800_000_000_000));
    let read = clock.clone();
    let service = Service::open(&url, Arc::new(move || Timestamp(read.load(Ordering::SeqCst))), 12).await.unwrap();
    let dir = std::env::temp_dir().join(format!("switchboard-retention-{}", support::rand_suffix()));
    service.set_data_dir(dir.clone());
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let endpoint = support::sms_endpoint(&service, &p, "+15550100", queue).await;
    let (other, other_queue) = support::workspace(&service, &["sms"]).await;
    let other_endpoint = support::sms_endpoint(&service, &other, "+15550200", other_queue).await;

    // Kept for ever until a retention is set; admins only, within bounds.
    let (old, old_file) = recorded(&service, &dir, &p, endpoint, "+15550001").await;
    let (_, kept_elsewhere) = recorded(&service, &dir, &other, other_endpoint, "+15550002").await;
    let start = service.now();
    assert_eq!(service.sweep_recordings(p.workspace, start + 400 * DAY).await.unwrap(), 0);
    let supervisor = Principal { role: Role::Supervisor, ..p };
    let thirty = RecordingSettings { retention_days: Some(30) };
    let refused = service.put_recording_settings(&supervisor, thirty.clone()).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    for days in [0, 3651] {
        let bad = RecordingSettings { retention_days: Some(days) };
        match service.put_recording_settings(&p, bad).await {
            Err(ServiceError::Invalid { field, .. }) => assert_eq!(field, "retention_days"),
            other => panic!("{days} days: {other:?}"),
        }
    }
    assert_eq!(service.put_recording_settings(&p, thirty.clone()).await.unwrap(), thirty);
    assert_eq!(service.recording_settings(&supervisor).await.unwrap(), thirty);

    // Recorded ten days later, the young one outlives the old by ten days.
    clock.fetch_add(10 * DAY.as_millis() as i64, Ordering::SeqCst);
    let (young, young_file) = recorded(&service, &dir, &p, endpoint, "+15550003").await;
    assert_eq!(service.sweep_recordings(p.workspace, start + 29 * DAY).await.unwrap(), 0);
    assert!(old_file.exists());
    assert_eq!(service.sweep_recordings(p.workspace, start + 31 * DAY).await.unwrap(), 1);
    assert!(!old_file.exists() && young_file.exists() && kept_elsewhere.exists());
    let missing = service.recording(&p, old).await;
    assert!(matches!(missing, Err(ServiceError::NotFound(_))), "{missing:?}");
    let audit = service.audit_log(&p, 0, 100).await.unwrap();
    let deleted: Vec<_> = audit.iter().filter(|e| e.payload["action"] == "delete_recording").collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].payload["target"], format!("contact/{}/recording", old.0));
    assert!(deleted[0].payload["by"].is_null());
    // Swept again, the old one is not audited twice; forty-one days on, the young one goes.
    assert_eq!(service.sweep_recordings(p.workspace, start + 31 * DAY).await.unwrap(), 0);
    assert!(service.recording(&p, young).await.is_ok());
    assert_eq!(service.sweep_recordings(p.workspace, start + 41 * DAY).await.unwrap(), 1);
    assert!(!young_file.exists() && kept_elsewhere.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

support::on_both!(recordings_past_retention_are_deleted_and_audited);
