//! Agents' SIP accounts: the default username, uniqueness across
//! workspaces, the password kept only as a sealed HA1 (never shown, never
//! in the audit log), who may read and write them.

mod support;

use switchboard_core::ids::UserId;
use switchboard_service::auth::Principal;
use switchboard_service::secrets::SecretKey;
use switchboard_service::sip_accounts::{SIP_REALM, SipAccountUpdate, md5_hex};
use switchboard_service::{NewUser, Role, Service, ServiceError};

async fn user(service: &Service, p: &Principal, local: &str, role: Role) -> UserId {
    let new = NewUser {
        email: format!("{local}@{}.example.com", support::rand_suffix()),
        name: local.into(),
        role,
        password: "user-password".into(),
    };
    service.create_user(p, new).await.unwrap().id
}

fn password(p: &str) -> SipAccountUpdate {
    SipAccountUpdate { username: None, password: p.into() }
}

async fn accounts_are_unique_and_keep_only_a_sealed_ha1(url: String) {
    let service = support::service(&url).await;
    service.set_secret_key(SecretKey::generate()).unwrap();
    let (admin, _) = support::workspace(&service, &["voice"]).await;
    let alice = user(&service, &admin, "alice", Role::Agent).await;

    // The default username is the e-mail's part before @.
    let account = service.put_sip_account(&admin, alice, password("first-secret-1")).await.unwrap();
    assert_eq!((account.username.as_str(), account.realm), ("alice", SIP_REALM));
    let found = service.sip_credentials("alice").await.unwrap().unwrap();
    assert_eq!((found.workspace, found.user), (admin.workspace, alice));
    assert_eq!(found.ha1, md5_hex(&format!("alice:{SIP_REALM}:first-secret-1")));
    // A new password keeps the username and replaces HA1.
    service.put_sip_account(&admin, alice, password("second-secret-2")).await.unwrap();
    let found = service.sip_credentials("ALICE").await.unwrap().unwrap();
    assert_eq!(found.ha1, md5_hex(&format!("alice:{SIP_REALM}:second-secret-2")));

    // Another workspace's alice gets `alice-<id>` by default, and cannot take `alice` by name.
    let (other, _) = support::workspace(&service, &["voice"]).await;
    let alice2 = user(&service, &other, "alice", Role::Agent).await;
    let taken = SipAccountUpdate { username: Some("Alice".into()), password: "third-secret-3".into() };
    assert!(matches!(service.put_sip_account(&other, alice2, taken).await, Err(ServiceError::Conflict(_))));
    let account = service.put_sip_account(&other, alice2, password("third-secret-3")).await.unwrap();
    assert_eq!(account.username, format!("alice-{}", alice2.0));

    // Short passwords and odd usernames are refused, naming the field.
    let short = service.put_sip_account(&admin, alice, password("short")).await;
    assert!(matches!(short, Err(ServiceError::Invalid { ref field, .. }) if field == "password"), "{short:?}");
    let odd = SipAccountUpdate { username: Some("a b".into()), password: "fourth-secret-4".into() };
    let odd = service.put_sip_account(&admin, alice, odd).await;
    assert!(matches!(odd, Err(ServiceError::Invalid { ref field, .. }) if field == "username"), "{odd:?}");

    // Agents read their own account (the username), not others'; only admins write.
    let as_alice = Principal { workspace: admin.workspace, user: alice, role: Role::Agent };
    assert_eq!(service.sip_account(&as_alice, alice).await.unwrap().username, "alice");
    assert!(service.sip_account(&as_alice, admin.user).await.is_err());
    assert!(service.put_sip_account(&as_alice, alice, password("fifth-secret-55")).await.is_err());

    // Audited with the username, never the password or HA1.
    let audit = service.audit_log(&admin, 0, 100).await.unwrap();
    let sip: Vec<_> = audit.iter().filter(|e| e.payload["action"] == "put_sip_account").collect();
    assert_eq!(sip.len(), 2);
    assert_eq!(sip[0].payload["username"], "alice");
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains("second-secret-2") && !text.contains(&found.ha1), "{text}");

    // A disabled user's phone no longer finds its account; a deleted account is gone.
    service.set_user_state(&admin, alice, switchboard_store::UserState::Disabled).await.unwrap();
    assert!(service.sip_credentials("alice").await.unwrap().is_none());
    service.delete_sip_account(&other, alice2).await.unwrap();
    assert!(service.sip_credentials(&format!("alice-{}", alice2.0)).await.unwrap().is_none());
    assert!(service.sip_credentials("nobody").await.unwrap().is_none());
}

support::on_both!(accounts_are_unique_and_keep_only_a_sealed_ha1);
