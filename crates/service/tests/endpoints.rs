//! Endpoints through the service, on both stores: validation, credentials
//! sealed at rest and never shown, the in-memory index following commits,
//! and scoping.

#[path = "../../store/tests/common/mod.rs"]
mod common;

use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_core::channel::Channel;
use switchboard_core::ids::EndpointId;
use switchboard_service::auth::Principal;
use switchboard_service::endpoints::{ENDPOINT_CREATED, EndpointInput};
use switchboard_service::secrets::SecretKey;
use switchboard_service::{NewUser, Service, ServiceError, system_clock};
use switchboard_store::{Role, Store};

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::common::with_sqlite(|s, _dir| async move { crate::$case(s).await }).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::common::with_postgres(|s, _url| async move { crate::$case(s).await }).await;
                }
            )*
        }
    };
}

both!(
    endpoints_are_created_checked_and_listed,
    credentials_are_sealed_write_only_and_open_for_channels,
    inbound_lookups_follow_commits,
    endpoints_stay_in_their_workspace_and_need_an_admin,
    a_phone_number_runs_only_flows_a_caller_can_answer_with_keys,
);

/// A service over `store` (which it then owns), with a key, and a
/// workspace with an admin, a queue and the admin's principal.
struct World {
    service: Service,
    admin: Principal,
    queue: u64,
}

async fn world(store: Arc<Store>) -> World {
    let store = Arc::try_unwrap(store).expect("the test holds the only store");
    let service = Service::new(store, system_clock(), 12).await.unwrap();
    service.set_secret_key(SecretKey::generate()).unwrap();
    let admin = workspace(&service, "acme").await;
    let queue = queue(&service, &admin).await;
    World { service, admin, queue }
}

async fn workspace(service: &Service, name: &str) -> Principal {
    let new = NewUser {
        email: format!("admin@{name}.example"),
        name: "Admin".into(),
        role: Role::Admin,
        password: "correct horse battery".into(),
    };
    let (ws, user) = service.create_workspace(name, new).await.unwrap();
    Principal { workspace: ws.id, user: user.id, role: Role::Admin }
}

async fn queue(service: &Service, p: &Principal) -> u64 {
    let steps = serde_json::from_value(json!([{ "expr": "true" }])).unwrap();
    let policy = service.put_policy(p, None, "Everyone", steps).await.unwrap();
    let settings = serde_json::from_value(json!({ "policy": policy.id })).unwrap();
    service.put_queue(p, None, "Support", settings).await.unwrap().id.0
}

fn input(v: Value) -> EndpointInput {
    serde_json::from_value(v).expect("an endpoint input")
}

fn field(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::Invalid { field, .. }) => field,
        other => panic!("expected invalid, got {other:?}"),
    }
}

async fn endpoints_are_created_checked_and_listed(store: Arc<Store>) {
    let World { service, admin, queue } = world(store).await;
    let phone = service
        .create_endpoint(
            &admin,
            input(json!({
                "channel": "voice", "name": " Hotline ", "address": "+1 (555) 123-4567",
                "queue": queue, "settings": { "greeting": "Hello" }
            })),
        )
        .await
        .unwrap();
    assert_eq!(phone.name, "Hotline");
    assert_eq!(phone.address.as_deref(), Some("+15551234567"));
    assert!(phone.enabled);
    assert_eq!(phone.settings, json!({ "greeting": "Hello" }));
    assert!(phone.secrets.is_empty());

    // A chat endpoint without an address gets a widget key of its own.
    let chat = service
        .create_endpoint(&admin, input(json!({"channel": "chat", "name": "Web", "queue": queue})))
        .await
        .unwrap();
    let key = chat.address.clone().expect("a widget key");
    assert_eq!(key.len(), 24);

    let bad = |v: Value| service.create_endpoint(&admin, input(v));
    assert_eq!(field(bad(json!({"channel": "sms", "name": " ", "queue": queue})).await), "name");
    assert_eq!(field(bad(json!({"name": "x", "queue": queue})).await), "channel");
    assert_eq!(field(bad(json!({"channel": "sms", "name": "x"})).await), "queue", "a queue or a flow");
    assert_eq!(field(bad(json!({"channel": "sms", "name": "x", "queue": 999})).await), "queue");
    assert_eq!(field(bad(json!({"channel": "sms", "name": "x", "flow": 999})).await), "flow");
    let hours = json!({"channel": "sms", "name": "x", "queue": queue, "business_hours": 999});
    assert_eq!(field(bad(hours).await), "business_hours");
    assert_eq!(field(bad(json!({"channel": "sms", "name": "x", "queue": queue, "address": "12"})).await), "address");
    assert!(serde_json::from_value::<EndpointInput>(json!({"channel": "pigeon", "name": "x"})).is_err());

    // The address is unique on its channel, in any spelling of it.
    match bad(json!({"channel": "voice", "name": "Twin", "queue": queue, "address": "+15551234567"})).await {
        Err(ServiceError::Conflict(m)) => assert!(m.contains("+15551234567"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let sms = bad(json!({"channel": "sms", "name": "Texts", "queue": queue, "address": "+15551234567"})).await.unwrap();

    let listed: Vec<EndpointId> = service.endpoints(&admin).await.unwrap().iter().map(|e| e.id).collect();
    assert_eq!(listed, vec![phone.id, chat.id, sms.id]);

    // An update keeps the channel, the address when none is given, and is
    // one commit with its event and audit entry.
    let updated = service
        .update_endpoint(&admin, phone.id, input(json!({"name": "Main line", "queue": queue, "enabled": false})))
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.address.as_deref(), updated.enabled),
        ("Main line", Some("+15551234567"), false)
    );
    assert_eq!(updated.settings, json!({}), "settings are replaced");
    let moved =
        service.update_endpoint(&admin, phone.id, input(json!({"channel": "sms", "name": "x", "queue": queue})));
    assert_eq!(field(moved.await), "channel");

    service.delete_endpoint(&admin, sms.id).await.unwrap();
    assert!(matches!(service.endpoint(&admin, sms.id).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(service.delete_endpoint(&admin, sms.id).await, Err(ServiceError::NotFound(_))));
    let kinds: Vec<String> =
        service.store().events(admin.workspace, 0, 1000).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == ENDPOINT_CREATED).count(), 3);
    assert!(kinds.iter().any(|k| k == "endpoint_updated") && kinds.iter().any(|k| k == "endpoint_deleted"));
}

async fn credentials_are_sealed_write_only_and_open_for_channels(store: Arc<Store>) {
    let World { service, admin, queue } = world(store).await;
    let created = service
        .create_endpoint(
            &admin,
            input(json!({
                "channel": "telegram", "name": "Bot", "address": "acme_bot", "queue": queue,
                "settings": { "bot_token": "123:SECRET-bot-token", "greeting": "Hi" },
                "secrets": { "webhook_password": "SECRET-hook-password" }
            })),
        )
        .await
        .unwrap();
    let shown = serde_json::to_string(&created).unwrap();
    assert!(!shown.contains("SECRET"), "{shown}");
    assert_eq!(
        serde_json::to_value(&created).unwrap()["secrets"],
        json!({ "bot_token": { "set": true }, "webhook_password": { "set": true } })
    );
    assert_eq!(created.settings, json!({ "greeting": "Hi" }));
    assert!(!format!("{created:?}").contains("SECRET"));

    // Sealed in the database; the log names the keys that changed only.
    let record = service.store().endpoint(created.id).await.unwrap().unwrap();
    assert!(!record.secrets.windows(6).any(|w| w == b"SECRET"), "sealed at rest");
    assert!(!format!("{record:?}").contains("SECRET"));
    let log = service.store().events(admin.workspace, 0, 1000).await.unwrap();
    assert!(!serde_json::to_string(&log.iter().map(|e| &e.payload).collect::<Vec<_>>()).unwrap().contains("SECRET"));
    let audit = log.iter().rfind(|e| e.kind == "audit").unwrap();
    assert_eq!(audit.payload["action"], "create_endpoint");
    assert_eq!(audit.payload["secrets_changed"], json!(["bot_token", "webhook_password"]));

    let credentials = service.endpoint_credentials(created.id).await.unwrap();
    assert_eq!(credentials.get("bot_token"), Some("123:SECRET-bot-token"));
    assert_eq!(credentials.get("webhook_password"), Some("SECRET-hook-password"));
    assert!(!format!("{credentials:?}").contains("SECRET"));

    // Sending back what a read shows keeps them; null removes one; a new
    // value replaces one.
    let body = json!({
        "name": "Bot", "queue": queue, "settings": { "greeting": "Hi" },
        "secrets": { "bot_token": { "set": true }, "webhook_password": null }
    });
    let kept = service.update_endpoint(&admin, created.id, input(body)).await.unwrap();
    assert_eq!(serde_json::to_value(&kept).unwrap()["secrets"], json!({ "bot_token": { "set": true } }));
    let credentials = service.endpoint_credentials(created.id).await.unwrap();
    assert_eq!(credentials.get("bot_token"), Some("123:SECRET-bot-token"));
    assert_eq!(credentials.get("webhook_password"), None);
    let body = json!({ "name": "Bot", "queue": queue, "secrets": { "bot_token": "456:NEW" } });
    service.update_endpoint(&admin, created.id, input(body)).await.unwrap();
    assert_eq!(service.endpoint_credentials(created.id).await.unwrap().get("bot_token"), Some("456:NEW"));
}

async fn inbound_lookups_follow_commits(store: Arc<Store>) {
    let World { service, admin, queue } = world(store).await;
    let mail = service
        .create_endpoint(
            &admin,
            input(json!({"channel": "email", "name": "Help", "address": "help@acme.example", "queue": queue})),
        )
        .await
        .unwrap();
    let found = service.endpoint_at(Channel::Email, " Help@ACME.example").await.unwrap();
    assert_eq!(found.map(|e| e.id), Some(mail.id));
    assert_eq!(service.endpoint_at(Channel::Sms, "help@acme.example").await.unwrap(), None);
    assert_eq!(service.endpoint_by_id(mail.id).await.unwrap().map(|e| e.name), Some("Help".into()));

    let body = json!({"name": "Help", "address": "support@acme.example", "queue": queue});
    service.update_endpoint(&admin, mail.id, input(body)).await.unwrap();
    assert_eq!(service.endpoint_at(Channel::Email, "help@acme.example").await.unwrap(), None);
    assert!(service.endpoint_at(Channel::Email, "support@acme.example").await.unwrap().is_some());

    // A refused change leaves the index as it was.
    let taken = json!({"channel": "email", "name": "Twin", "address": "support@acme.example", "queue": queue});
    assert!(matches!(service.create_endpoint(&admin, input(taken)).await, Err(ServiceError::Conflict(_))));
    assert_eq!(service.endpoint_at(Channel::Email, "support@acme.example").await.unwrap().map(|e| e.id), Some(mail.id));

    service.delete_endpoint(&admin, mail.id).await.unwrap();
    assert_eq!(service.endpoint_by_id(mail.id).await.unwrap(), None);
    assert_eq!(service.endpoint_at(Channel::Email, "support@acme.example").await.unwrap(), None);
}

async fn endpoints_stay_in_their_workspace_and_need_an_admin(store: Arc<Store>) {
    let World { service, admin, queue } = world(store).await;
    let other = workspace(&service, "globex").await;
    let other_queue = self::queue(&service, &other).await;
    let mine = service
        .create_endpoint(
            &admin,
            input(json!({"channel": "sms", "name": "Mine", "address": "+15550001111", "queue": queue})),
        )
        .await
        .unwrap();
    assert!(matches!(service.endpoint(&other, mine.id).await, Err(ServiceError::NotFound(_))));
    let body = json!({"name": "Stolen", "queue": other_queue});
    assert!(matches!(service.update_endpoint(&other, mine.id, input(body)).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(service.delete_endpoint(&other, mine.id).await, Err(ServiceError::NotFound(_))));
    assert!(service.endpoints(&other).await.unwrap().is_empty());
    // Another workspace's queue is no queue here.
    let body = json!({"channel": "sms", "name": "x", "queue": other_queue});
    assert_eq!(field(service.create_endpoint(&admin, input(body)).await), "queue");
    // The address is taken across workspaces.
    let twin = json!({"channel": "sms", "name": "Twin", "address": "+15550001111", "queue": other_queue});
    assert!(matches!(service.create_endpoint(&other, input(twin)).await, Err(ServiceError::Conflict(_))));

    let supervisor = Principal { role: Role::Supervisor, ..admin };
    assert!(matches!(service.endpoints(&supervisor).await, Err(ServiceError::Forbidden(_))));
    let body = json!({"channel": "sms", "name": "x", "queue": queue});
    assert!(matches!(service.create_endpoint(&supervisor, input(body)).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(service.delete_endpoint(&supervisor, mine.id).await, Err(ServiceError::Forbidden(_))));
}

async fn a_phone_number_runs_only_flows_a_caller_can_answer_with_keys(store: Arc<Store>) {
    let World { service, admin, queue } = world(store).await;
    let flow = |keys: bool, digits: bool| {
        let option = |label: &str, key: &str, next: &str| {
            let mut o = json!({ "label": label, "next": next });
            if keys {
                o["key"] = json!(key);
            }
            o
        };
        let mut order = json!({ "type": "input", "text": "Your order number?", "save_as": "order", "next": "agent" });
        if digits {
            order["digits"] = json!({ "max": 8 });
        }
        json!({
            "start": "menu",
            "blocks": {
                "menu": { "type": "buttons", "text": "What is it about?", "options": [
                    option("Billing", "1", "agent"), option("An order", "2", "order")
                ]},
                "order": order,
                "agent": { "type": "handoff" }
            }
        })
    };
    let update = |definition: Value| switchboard_service::flows::FlowUpdate { name: Some("IVR".into()), definition };
    let chatty = service.put_flow(&admin, None, update(flow(false, false))).await.unwrap();
    let body =
        json!({"channel": "voice", "name": "Line", "address": "+15550002000", "queue": queue, "flow": chatty.id});
    match service.create_endpoint(&admin, input(body.clone())).await {
        Err(ServiceError::Invalid { field, message }) => {
            assert_eq!(field, "flow");
            assert!(message.contains("blocks.menu.options[0].key"), "{message}");
            assert!(message.contains("blocks.order.digits"), "{message}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    // The same flow is fine for chat, and keyed it is fine for a phone.
    let sms = json!({"channel": "sms", "name": "Texts", "address": "+15550002001", "queue": queue, "flow": chatty.id});
    service.create_endpoint(&admin, input(sms)).await.unwrap();
    let keyed = service.put_flow(&admin, None, update(flow(true, true))).await.unwrap();
    let body = json!({"channel": "voice", "name": "Line", "address": "+15550002000", "queue": queue, "flow": keyed.id});
    service.create_endpoint(&admin, input(body)).await.unwrap();
    // Once a number runs it, a new version must stay answerable with keys.
    let err = service.put_flow(&admin, Some(keyed.id), update(flow(true, false))).await;
    match err {
        Err(ServiceError::Invalid { field, message }) => {
            assert_eq!(field, "definition.blocks.order.digits");
            assert!(message.contains("+15550002000"), "{message}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    service.put_flow(&admin, Some(chatty.id), update(flow(false, false))).await.unwrap();
}
