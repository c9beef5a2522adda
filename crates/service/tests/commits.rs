//! One commit per operation, and no memory ahead of a commit that fails.
//! The failure is a real one: a trigger, added over a connection of the
//! test's own, makes the database refuse a chosen message.

mod support;

use switchboard_core::channel::Channel;
use switchboard_service::conversation::{Inbound, IncomingMessage, Sender, Thread};
use switchboard_service::{IdentityValue, NewContact, ServiceError};
use switchboard_store::{ContactFilter, IdentityKind};

const POISON: &str = "poison-pill";

/// Makes every insert of an event whose payload holds [`POISON`] fail.
async fn break_commits_of_poison(url: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(&format!(
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.payload LIKE '%{POISON}%' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ))
        .execute(&pool)
        .await
        .unwrap();
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(&format!(
            "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.payload LIKE '%{POISON}%' THEN RAISE EXCEPTION 'injected failure'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql"
        ))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()")
            .execute(&pool)
            .await
            .unwrap();
    }
}

fn from(phone: &str, text: &str) -> Inbound {
    Inbound {
        sender: Sender { identity: Some(IdentityValue { kind: IdentityKind::Phone, value: phone.into() }), name: None },
        message: Some(IncomingMessage { text: text.into(), ..Default::default() }),
        ..Default::default()
    }
}

async fn a_failed_commit_leaves_nothing_ahead(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let endpoint = support::sms_endpoint(&service, &p, "+15557770000", queue).await;
    break_commits_of_poison(&url).await;

    // A new customer, a new contact, its message and its place in line: refused together.
    let refused = service.inbound(endpoint, Thread::Key("+15550000001".into()), from("+15550000001", POISON)).await;
    assert!(refused.is_err(), "{refused:?}");
    let customer = service.store().customer_by_identity(p.workspace, IdentityKind::Phone, "+15550000001").await;
    assert!(customer.unwrap().is_none(), "no customer is left behind");
    let contacts = service.store().contacts(p.workspace, &ContactFilter::default(), None, 100).await.unwrap();
    assert!(contacts.is_empty(), "{contacts:?}");
    let stats = service.queue_stats(&p).await.unwrap();
    assert_eq!(stats[0].waiting, 0, "the engine has nobody in line");

    // What works still works, and memory matches the store.
    let ok =
        service.inbound(endpoint, Thread::Key("+15550000002".into()), from("+15550000002", "hello")).await.unwrap();
    let stats = service.queue_stats(&p).await.unwrap();
    assert_eq!(stats[0].waiting, 1);
    let contacts = service.store().contacts(p.workspace, &ContactFilter::default(), None, 100).await.unwrap();
    assert_eq!(contacts.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ok.contact]);

    // A refused message on an open conversation is not taken as seen: sent
    // again (once the database takes it), it is logged.
    let mut poisoned = from("+15550000002", POISON);
    poisoned.message.as_mut().unwrap().client_id = Some("m-1".into());
    assert!(service.inbound(endpoint, Thread::Key("+15550000002".into()), poisoned.clone()).await.is_err());
    let pool_url = url.clone();
    drop_trigger(&pool_url).await;
    let again = service.inbound(endpoint, Thread::Key("+15550000002".into()), poisoned).await.unwrap();
    assert!(!again.repeat);
}

async fn drop_trigger(url: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query("DROP TRIGGER poison").execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query("DROP TRIGGER poison ON events").execute(&pool).await.unwrap();
    }
}

async fn an_api_contact_is_one_commit(url: String) {
    let service = support::service(&url).await;
    let (p, queue) = support::workspace(&service, &["api"]).await;
    let new = |queue| NewContact {
        queue: Some(queue),
        channel: Some(Channel::Api),
        customer_identity: Some(IdentityValue { kind: IdentityKind::Email, value: "ada@example.com".into() }),
        ..Default::default()
    };
    // An invalid queue leaves nothing behind: not even the new customer.
    let refused = service.create_contact(&p, new(switchboard_core::ids::QueueId(queue.0 + 100))).await;
    assert!(matches!(refused, Err(ServiceError::Invalid { ref field, .. }) if field == "queue"), "{refused:?}");
    let customer = service.store().customer_by_identity(p.workspace, IdentityKind::Email, "ada@example.com").await;
    assert!(customer.unwrap().is_none());

    let contact = service.create_contact(&p, new(queue)).await.unwrap();
    let customer = service.store().customer_by_identity(p.workspace, IdentityKind::Email, "ada@example.com").await;
    assert_eq!(customer.unwrap().map(|c| c.id), contact.customer);
}

support::on_both!(a_failed_commit_leaves_nothing_ahead, an_api_contact_is_one_commit);
