//! IMAP mailboxes against a real Dovecot started by each test: new mail
//! becomes a contact, replies thread, processed messages are flagged or
//! moved, restarts and a renumbered folder (new UIDVALIDITY) duplicate
//! nothing, a wrong password shows in the endpoint's health and raises the
//! alert after the threshold (on the service's clock, moved forward), and
//! IDLE brings a message in within seconds.

mod common;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use common::dovecot::{self, Dovecot};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use switchboard_core::ids::{ContactId, EndpointId};
use switchboard_core::time::Timestamp;
use switchboard_email::Inbox;
use switchboard_service::auth::Principal;
use switchboard_service::secrets::SecretKey;
use switchboard_service::{ContactRecord, Service};

const SUPPORT: &str = "support@shop.example";
const PASSWORD: &str = "s3cret-imap";

/// A workspace whose mailbox lives on a Dovecot, and the pollers running
/// on a service whose clock the test can move forward.
struct Room {
    service: Service,
    p: Principal,
    endpoint: EndpointId,
    dovecot: Dovecot,
    skew: Arc<AtomicI64>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    pollers: Option<tokio::task::JoinHandle<()>>,
}

async fn room(url: &str, settings: Value) -> Room {
    room_with(url, settings, false).await
}

async fn room_with(url: &str, settings: Value, tls: bool) -> Room {
    let skew = Arc::new(AtomicI64::new(0));
    let clock = {
        let skew = skew.clone();
        let system = switchboard_service::system_clock();
        Arc::new(move || Timestamp(system().0 + skew.load(Ordering::Relaxed))) as switchboard_service::ClockFn
    };
    let service = Service::open(url, clock, 12).await.unwrap();
    service.set_secret_key(SecretKey::generate()).unwrap();
    let (p, queue) = support::workspace(&service, &["email"]).await;
    let dovecot = Dovecot::start_with(&[(SUPPORT, PASSWORD)], tls);
    let mut all = json!({
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_tls": "none",
        "imap_password": PASSWORD,
        // Long: only IDLE brings mail in quickly.
        "imap_poll_seconds": 600,
    });
    all.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    let endpoint = common::mailbox(&service, &p, SUPPORT, queue, all).await;
    let mut room = Room { service, p, endpoint, dovecot, skew, stop: None, pollers: None };
    room.start_pollers();
    room
}

impl Room {
    fn start_pollers(&mut self) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let inbox = Arc::new(Inbox::new(self.service.clone(), Default::default()));
        self.pollers = Some(tokio::spawn(switchboard_email::run_mailboxes(self.service.clone(), inbox, stopped)));
        self.stop = Some(stop);
    }

    async fn stop_pollers(&mut self) {
        self.stop.take().unwrap().send(true).unwrap();
        self.pollers.take().unwrap().await.unwrap();
    }

    async fn imap(&self) -> dovecot::TestSession {
        self.dovecot.session(SUPPORT, PASSWORD).await
    }

    async fn deliver(&self, message: &str) {
        let mut s = self.imap().await;
        dovecot::append(&mut s, "INBOX", message).await;
        s.logout().await.unwrap();
    }

    async fn contacts_of(&self, address: &str) -> Vec<ContactRecord> {
        common::contacts_of(&self.service, self.p.workspace, address).await
    }

    /// Waits up to `within` for `address` to have `n` contacts.
    async fn wait_contacts(&self, address: &str, n: usize, within: Duration) -> Vec<ContactRecord> {
        let deadline = Instant::now() + within;
        loop {
            let found = self.contacts_of(address).await;
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn messages(&self, contact: ContactId) -> Vec<Value> {
        self.service.messages(&self.p, contact).await.unwrap().messages
    }

    async fn wait_messages(&self, contact: ContactId, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.messages(contact).await;
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn health(&self) -> Value {
        let endpoint = self.service.endpoint(&self.p, self.endpoint).await.unwrap();
        serde_json::to_value(&endpoint).unwrap()["health"].clone()
    }

    /// Waits until the health satisfies `test`.
    async fn wait_health(&self, what: &str, test: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let h = self.health().await;
            if test(&h) {
                return h;
            }
            assert!(Instant::now() < deadline, "no health with {what}: {h}\n{}", self.dovecot.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The workspace's events of `kind`, their payloads.
    async fn events(&self, kind: &str) -> Vec<Value> {
        let store = self.service.store();
        store.events_of_kind(self.p.workspace, kind, 0, 1000).await.unwrap().into_iter().map(|e| e.payload).collect()
    }

    /// Changes some of the endpoint's settings (the pollers restart).
    async fn set(&self, changes: Value) {
        let e = self.service.endpoint(&self.p, self.endpoint).await.unwrap();
        let mut settings = e.settings.clone();
        settings.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
        let input = serde_json::from_value(json!({
            "name": e.name, "queue": e.queue, "settings": settings, "enabled": e.enabled,
        }))
        .unwrap();
        self.service.update_endpoint(&self.p, self.endpoint, input).await.unwrap();
    }
}

fn message(from: &str, id: &str, subject: &str, body: &str) -> String {
    message_with(from, id, subject, "", body)
}

fn message_with(from: &str, id: &str, subject: &str, headers: &str, body: &str) -> String {
    format!(
        "Return-Path: <{from}>\nFrom: Customer <{from}>\nTo: {SUPPORT}\nSubject: {subject}\nMessage-ID: {id}\n{headers}\n{body}\n"
    )
}

const WAIT: Duration = Duration::from_secs(20);

async fn new_mail_becomes_a_contact_replies_thread_and_restarts_duplicate_nothing(url: String) {
    let mut r = room(&url, json!({})).await;
    r.deliver(&message("ann@customer.example", "<first@customer.example>", "Broken kettle", "It leaks.")).await;
    let contacts = r.wait_contacts("ann@customer.example", 1, WAIT).await;
    assert_eq!(contacts.len(), 1, "{}", r.dovecot.log());
    let c = &contacts[0];
    assert_eq!(c.attributes["subject"], switchboard_core::expr::Value::Str("Broken kettle".into()));
    assert_eq!(c.attributes["email_to"], switchboard_core::expr::Value::Str(SUPPORT.into()));
    let shown = r.messages(c.id).await;
    assert_eq!(shown[0]["text"], "It leaks.");
    assert_eq!(shown[0]["attachment"]["content_type"], "message/rfc822");

    // Marked \Seen once committed, left in the INBOX.
    let mut s = r.imap().await;
    let deadline = Instant::now() + WAIT;
    while dovecot::search(&mut s, "INBOX", "SEEN").await.is_empty() {
        assert!(Instant::now() < deadline, "the message was never flagged \\Seen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dovecot::search(&mut s, "INBOX", "ALL").await, vec![1]);

    // The customer's answer threads into the same conversation.
    let threading = "In-Reply-To: <first@customer.example>\nReferences: <first@customer.example>\n";
    let from = "ann@customer.example";
    r.deliver(&message_with(from, "<second@customer.example>", "Re: Broken kettle", threading, "Still leaking.")).await;
    let shown = r.wait_messages(c.id, 2).await;
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[1]["text"], "Still leaking.");
    assert_eq!(r.contacts_of("ann@customer.example").await.len(), 1);

    // Pollers stopped and started again (a server restart): the two
    // messages are not taken again; one that came in meanwhile is.
    r.stop_pollers().await;
    r.deliver(&message("bob@customer.example", "<third@customer.example>", "Invoice", "Wrong amount.")).await;
    // Unflagged, as if the marking had been lost: the cursor alone skips them.
    dovecot::unsee_all(&mut s, "INBOX").await;
    r.start_pollers();
    assert_eq!(r.wait_contacts("bob@customer.example", 1, WAIT).await.len(), 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(r.contacts_of("ann@customer.example").await.len(), 1);
    assert_eq!(r.messages(c.id).await.len(), 2);
    let _ = s.logout().await;
}

async fn processed_mail_is_moved_or_deleted_as_the_endpoint_says(url: String) {
    let r = room(&url, json!({ "imap_processed": "move:Done" })).await;
    r.deliver(&message("cat@customer.example", "<move-1@customer.example>", "Hello", "Moved after commit.")).await;
    assert_eq!(r.wait_contacts("cat@customer.example", 1, WAIT).await.len(), 1);
    let mut s = r.imap().await;
    let deadline = Instant::now() + WAIT;
    // The folder did not exist: it is made on the first move.
    while !dovecot::search(&mut s, "INBOX", "ALL").await.is_empty() {
        assert!(Instant::now() < deadline, "the message was never moved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dovecot::search(&mut s, "Done", "ALL").await.len(), 1);

    // Edited to delete: the pollers pick the change up.
    r.set(json!({ "imap_processed": "delete" })).await;
    tokio::time::sleep(switchboard_email::imap::mailboxes::RESCAN * 2).await;
    r.deliver(&message("dan@customer.example", "<delete-1@customer.example>", "Hi", "Deleted after commit.")).await;
    assert_eq!(r.wait_contacts("dan@customer.example", 1, WAIT).await.len(), 1);
    let deadline = Instant::now() + WAIT;
    while !dovecot::search(&mut s, "INBOX", "ALL").await.is_empty() {
        assert!(Instant::now() < deadline, "the message was never deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dovecot::search(&mut s, "Done", "ALL").await.len(), 1, "nothing more moved");
    let _ = s.logout().await;
}

async fn a_renumbered_folder_duplicates_nothing(url: String) {
    let mut r = room(&url, json!({})).await;
    for (n, who) in ["eve", "fay"].iter().enumerate() {
        let from = format!("{who}@customer.example");
        r.deliver(&message(&from, &format!("<renumber-{n}@customer.example>"), "Question", "Before.")).await;
        assert_eq!(r.wait_contacts(&from, 1, WAIT).await.len(), 1);
    }
    let mut s = r.imap().await;
    let before = dovecot::uid_validity(&mut s, "INBOX").await;
    let _ = s.logout().await;
    r.stop_pollers().await;
    r.dovecot.renumber(SUPPORT);
    let mut s = r.imap().await;
    assert_ne!(dovecot::uid_validity(&mut s, "INBOX").await, before, "the folder was renumbered");
    // One of the two lost its \Seen flag too: only the Message-ID stops it.
    let eve = dovecot::search(&mut s, "INBOX", "HEADER Message-ID renumber-0").await;
    let _ = futures_util::TryStreamExt::try_collect::<Vec<_>>(
        s.uid_store(eve[0].to_string(), "-FLAGS.SILENT (\\Seen)").await.unwrap(),
    )
    .await;
    dovecot::append(
        &mut s,
        "INBOX",
        &message("gus@customer.example", "<renumber-2@customer.example>", "New", "After."),
    )
    .await;
    r.start_pollers();
    assert_eq!(r.wait_contacts("gus@customer.example", 1, WAIT).await.len(), 1);
    let deadline = Instant::now() + WAIT;
    while dovecot::search(&mut s, "INBOX", "SEEN").await.len() < 3 {
        assert!(Instant::now() < deadline, "not every message was flagged again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for who in ["eve", "fay"] {
        let contacts = r.contacts_of(&format!("{who}@customer.example")).await;
        assert_eq!(contacts.len(), 1, "{who}");
        assert_eq!(r.messages(contacts[0].id).await.len(), 1, "{who}");
    }
    let _ = s.logout().await;
}

async fn a_wrong_password_shows_in_health_and_alerts_after_the_threshold(url: String) {
    let r = room(&url, json!({ "imap_password": "not-the-password", "imap_alert_minutes": 15 })).await;
    let h = r.wait_health("an error", |h| h["last_error"].is_string()).await;
    let error = h["last_error"].as_str().unwrap();
    assert_eq!(error, "login: refused: [AUTHENTICATIONFAILED] Authentication failed.");
    assert!(!error.contains("not-the-password"));
    assert!(h["failing_since"].is_number() && h["last_success"].is_null(), "{h}");
    assert!(r.events("endpoint_failing").await.is_empty(), "not before the threshold");

    // Sixteen minutes later, on the service's clock: the alert, once.
    r.skew.store(16 * 60 * 1000, Ordering::Relaxed);
    r.wait_health("the alert", |h| h["alerted"] == true).await;
    let alerts = r.events("endpoint_failing").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["endpoint"], r.endpoint.0);
    assert!(alerts[0]["error"].as_str().unwrap().contains("AUTHENTICATIONFAILED"));
    assert!(!alerts[0].to_string().contains("not-the-password"));
    let failures = |h: &Value| h["last_error_at"].as_i64().unwrap();
    let seen = failures(&r.health().await);
    r.wait_health("another failure", |h| failures(h) > seen).await;
    assert_eq!(r.events("endpoint_failing").await.len(), 1, "alerted once per failure");

    // The right password: working again, and the recovery event.
    r.set(json!({ "imap_password": PASSWORD })).await;
    let h = r.wait_health("a success", |h| h["last_success"].is_number() && h["failing_since"].is_null()).await;
    assert_eq!(h["alerted"], false);
    let recovered = r.events("endpoint_recovered").await;
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0]["failed_since"], alerts[0]["failing_since"]);
}

async fn idle_brings_mail_in_within_seconds(url: String) {
    let r = room(&url, json!({})).await;
    // The first pass is done and the poller waits in IDLE; the poll
    // interval is ten minutes.
    r.wait_health("a first pass", |h| h["last_success"].is_number()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Instant::now();
    r.deliver(&message("hal@customer.example", "<idle-1@customer.example>", "Quick", "Pushed.")).await;
    assert_eq!(r.wait_contacts("hal@customer.example", 1, Duration::from_secs(10)).await.len(), 1);
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(5), "IDLE took {took:?}");
    eprintln!("IDLE: a message appended while idle was a contact after {took:?}");
}

async fn an_untrusted_certificate_is_refused_with_either_tls(url: String) {
    // STARTTLS on the plain port: the upgrade happens, the certificate is
    // checked against the machine's trust store, and the login is never sent.
    let r = room_with(&url, json!({ "imap_tls": "starttls" }), true).await;
    let h = r.wait_health("a TLS error", |h| h["last_error"].is_string()).await;
    let error = h["last_error"].as_str().unwrap();
    assert!(error.starts_with("TLS:") && error.contains("certificate"), "{error}");
    assert!(!r.dovecot.log().contains("Login: user="), "no login without TLS");

    // Implicit TLS on the other port: the same refusal.
    let implicit = r.dovecot.tls_port.unwrap();
    let edited = r.service.now().0;
    r.set(json!({ "imap_tls": "implicit", "imap_port": implicit })).await;
    // Past two rescans, the failures are the restarted poller's.
    let restarted = edited + 2 * switchboard_email::imap::mailboxes::RESCAN.as_millis() as i64;
    let h = r.wait_health("an implicit TLS error", |h| h["last_error_at"].as_i64() > Some(restarted)).await;
    let error = h["last_error"].as_str().unwrap();
    assert!(error.starts_with("TLS:") && error.contains("certificate"), "{error}");
}

async fn a_first_connection_takes_only_unseen_mail(url: String) {
    // The folder does not exist yet: the health says so.
    let r = room(&url, json!({ "imap_mailbox": "Old" })).await;
    let h = r.wait_health("a missing folder", |h| h["last_error"].is_string()).await;
    assert!(h["last_error"].as_str().unwrap().contains("Old"), "{h}");

    // It appears (renamed: at once) with a message read long ago and one
    // not read yet.
    let mut s = r.imap().await;
    s.create("Staging").await.unwrap();
    let old = message("ivy@customer.example", "<old-1@customer.example>", "Last year", "Read already.");
    dovecot::append_flagged(&mut s, "Staging", Some("(\\Seen)"), &old).await;
    let unread = message("jay@customer.example", "<old-2@customer.example>", "Now", "Unread.");
    dovecot::append(&mut s, "Staging", &unread).await;
    s.rename("Staging", "Old").await.unwrap();
    assert_eq!(r.wait_contacts("jay@customer.example", 1, WAIT).await.len(), 1);
    r.wait_health("a success", |h| h["failing_since"].is_null()).await;
    assert!(r.contacts_of("ivy@customer.example").await.is_empty(), "old, read mail is not imported");

    // From then on, everything new is taken, read or not.
    let new = message("kim@customer.example", "<old-3@customer.example>", "Later", "Read on the phone first.");
    dovecot::append_flagged(&mut s, "Old", Some("(\\Seen)"), &new).await;
    assert_eq!(r.wait_contacts("kim@customer.example", 1, WAIT).await.len(), 1);
    let _ = s.logout().await;
}

support::on_both!(
    new_mail_becomes_a_contact_replies_thread_and_restarts_duplicate_nothing,
    processed_mail_is_moved_or_deleted_as_the_endpoint_says,
    a_renumbered_folder_duplicates_nothing,
    a_wrong_password_shows_in_health_and_alerts_after_the_threshold,
    idle_brings_mail_in_within_seconds,
    an_untrusted_certificate_is_refused_with_either_tls,
    a_first_connection_takes_only_unseen_mail
);
