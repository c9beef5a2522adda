//! Calls through the service's real operations (what the voice channel
//! calls), on both databases, on a clock the test moves: a caller who
//! waited and then left a voicemail is offered once in reports, not once in
//! line and again as the voicemail; a caller's own hold (their phone's
//! re-INVITE) counts as hold like the agent's, and their resume never ends
//! a hold the agent made; an agent's phone transfers a call to a queue's
//! number or another agent's SIP username.

mod support;

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use switchboard_core::agent::Presence;
use switchboard_core::events::TransferTarget;
use switchboard_core::ids::{AgentId, ContactId, EndpointId, QueueId, UserId};
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;
use switchboard_core::time::Timestamp;
use switchboard_service::auth::Principal;
use switchboard_service::conversation::{Inbound, Sender, Thread};
use switchboard_service::reports::intervals::Interval;
use switchboard_service::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest, Row};
use switchboard_service::secrets::SecretKey;
use switchboard_service::sip_accounts::SipAccountUpdate;
use switchboard_service::{ContactState, IdentityValue, NewUser, Role, Service, ServiceError};
use switchboard_store::IdentityKind;

/// A moment in 2027 the clock starts at.
const START: i64 = 1_800_000_000_000;

struct Office {
    service: Service,
    clock: Arc<AtomicI64>,
    p: Principal,
    queue: QueueId,
    endpoint: EndpointId,
}

async fn office(url: &str) -> Office {
    let clock = Arc::new(AtomicI64::new(START));
    let read = clock.clone();
    let service = Service::open(url, Arc::new(move || Timestamp(read.load(Ordering::SeqCst))), 12).await.unwrap();
    service.set_secret_key(SecretKey::generate()).unwrap();
    let (p, queue) = support::workspace(&service, &["voice"]).await;
    let input = serde_json::from_value(json!({
        "channel": "voice", "name": "Support line", "address": "+15550002000", "queue": queue,
    }))
    .unwrap();
    let endpoint = service.create_endpoint(&p, input).await.unwrap().id;
    Office { service, clock, p, queue, endpoint }
}

impl Office {
    fn wait(&self, seconds: i64) {
        self.clock.fetch_add(seconds * 1000, Ordering::SeqCst);
    }

    /// A call to the number with no IVR: queued at once, as the voice channel opens it.
    async fn call(&self) -> ContactId {
        let sender = Sender {
            identity: Some(IdentityValue { kind: IdentityKind::Phone, value: "+15550100".into() }),
            name: None,
        };
        let inbound = Inbound { sender, ..Default::default() };
        self.service.inbound(self.endpoint, Thread::New, inbound).await.unwrap().contact
    }

    /// An agent of `queue` (voice only, no wrap-up), available, with the SIP account `username`.
    async fn agent(&self, username: &str, queue: QueueId) -> UserId {
        let user = NewUser {
            email: format!("{username}{}@example.com", support::rand_suffix()),
            name: username.into(),
            role: Role::Agent,
            password: "agent-password".into(),
        };
        let user = self.service.create_user(&self.p, user).await.unwrap().id;
        let spec = json!({ "capacity": { "voice": 1 }, "queues": [{ "queue": queue }], "wrap_up": "none" });
        self.service.put_agent(&self.p, user, serde_json::from_value(spec).unwrap()).await.unwrap();
        let account = SipAccountUpdate { username: Some(username.into()), password: "phone-secret".into() };
        self.service.put_sip_account(&self.p, user, account).await.unwrap();
        self.service.set_agent_state(&self.p, user, Presence::Available).await.unwrap();
        user
    }

    /// The day's totals.
    async fn totals(&self) -> Row {
        let day = chrono::DateTime::from_timestamp_millis(START).unwrap().date_naive();
        let request = ReportRequest {
            from: Bound::Date(day - chrono::Duration::days(1)),
            to: Bound::Date(day + chrono::Duration::days(2)),
            interval: Interval::Day,
            dimension: Dimension::Totals,
            short_abandon: DEFAULT_SHORT_ABANDON,
            fcr_window: DEFAULT_FCR_WINDOW,
        };
        let report = self.service.report(&self.p, &request).await.unwrap();
        let [row] = <[Row; 1]>::try_from(report.rows).unwrap_or_else(|rows| panic!("one day: {rows:?}"));
        row
    }
}

async fn a_voicemail_after_waiting_is_offered_once(url: String) {
    let office = office(&url).await;
    let (ws, c) = (office.p.workspace, office.call().await);
    office.wait(40);
    // The caller presses the voicemail key, speaks, and the message goes back to the queue.
    office.service.leave_for_voicemail(ws, c).await.unwrap();
    office.wait(30);
    office.service.voicemail_left(ws, c, &format!("recordings/{}/{}-voicemail.wav", ws.0, c.0), 25.0).await.unwrap();
    let kinds: Vec<String> =
        office.service.store().contact_events(ws, c, None).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "contact_queued").count(), 2, "queued twice in the log: {kinds:?}");
    let row = office.totals().await;
    assert_eq!((row.offered, row.overflowed), (1, 1), "one call, offered once, overflowed once: {row:?}");
    // Another caller sent to voicemail at once (never in line before) is offered once too.
    let other = office.call().await;
    office.service.leave_for_voicemail(ws, other).await.unwrap();
    office.service.voicemail_left(ws, other, "recordings/other.wav", 5.0).await.unwrap();
    assert_eq!(office.totals().await.offered, 2);
}

async fn a_callers_hold_counts_as_hold(url: String) {
    let office = office(&url).await;
    let ws = office.p.workspace;
    let alice = office.agent("alice", office.queue).await;
    let c = office.call().await;
    office.service.accept_offer_for(ws, c, alice).await.unwrap();
    let as_alice = Principal { workspace: ws, user: alice, role: Role::Agent };

    // Talk 10 s; the caller holds 20 s (the agent cannot hold a held call); talk 30 s.
    office.wait(10);
    office.service.caller_hold(ws, c, true).await.unwrap();
    assert!(office.service.on_hold(ws, c).await.unwrap());
    let twice = office.service.hold(&as_alice, c, true).await;
    assert!(matches!(twice, Err(ServiceError::Conflict(_))), "{twice:?}");
    office.wait(20);
    office.service.caller_hold(ws, c, false).await.unwrap();
    office.wait(30);
    // Alice holds 15 s; the caller's own hold and resume meanwhile leave her hold alone.
    office.service.hold(&as_alice, c, true).await.unwrap();
    office.wait(5);
    office.service.caller_hold(ws, c, true).await.unwrap();
    office.service.caller_hold(ws, c, false).await.unwrap();
    assert!(office.service.on_hold(ws, c).await.unwrap(), "still held by the agent");
    office.wait(10);
    office.service.hold(&as_alice, c, false).await.unwrap();
    office.wait(5);
    office.service.end_conversation(ws, c, "customer").await.unwrap();

    let events = office.service.store().contact_events(ws, c, None).await.unwrap();
    let holds: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.kind == "contact_held" || e.kind == "contact_resumed")
        .map(|e| (e.kind.as_str(), e.payload["by"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        holds,
        [
            ("contact_held", "caller"),
            ("contact_resumed", "caller"),
            ("contact_held", "desktop"),
            ("contact_resumed", "desktop")
        ]
    );
    let row = office.totals().await;
    assert_eq!(row.handled, 1);
    assert_eq!((row.talk_seconds, row.hold_seconds), (Some(45.0), Some(35.0)), "{row:?}");
    // Not a call with an agent: the caller's hold is nobody's handling time.
    let waiting = office.call().await;
    let refused = office.service.caller_hold(ws, waiting, true).await;
    assert!(matches!(refused, Err(ServiceError::Conflict(_))), "{refused:?}");
}

/// The REFER's Refer-To, as the voice channel hands it on: a queue's number
/// (with or without its +) or an agent's SIP username in the workspace.
async fn a_phone_transfers_to_a_number_or_a_username(url: String) {
    let office = office(&url).await;
    let (p, ws) = (office.p, office.p.workspace);
    let support_queue = office.service.store().queues(ws).await.unwrap().remove(0);
    let settings = serde_json::from_value(support_queue.settings).unwrap();
    let sales = office.service.put_queue(&p, None, "Sales", settings).await.unwrap().id;
    let input = serde_json::from_value(json!({
        "channel": "voice", "name": "Sales line", "address": "+15550003000", "queue": sales,
    }))
    .unwrap();
    office.service.create_endpoint(&p, input).await.unwrap();
    let alice = office.agent("alice", office.queue).await;
    let c = office.call().await;
    office.service.accept_offer_for(ws, c, alice).await.unwrap();

    // Nobody by that name; a phone that is not the call's agent's: refused, the call stays.
    let nobody = office.service.phone_transfer(ws, c, alice, "nobody").await;
    assert!(matches!(nobody, Err(ServiceError::NotFound(_))), "{nobody:?}");
    let bob = office.agent("bob", sales).await;
    let not_his = office.service.phone_transfer(ws, c, bob, "15550003000").await;
    assert!(matches!(not_his, Err(ServiceError::Conflict(_))), "{not_his:?}");
    // To the Sales number (dialled without its +): routed there, to Bob, who answers.
    let to_sales = office.service.phone_transfer(ws, c, alice, "15550003000").await.unwrap();
    assert_eq!(to_sales, TransferTarget::Queue(sales));
    office.service.accept_offer_for(ws, c, bob).await.unwrap();
    let record = office.service.store().contact(ws, c).await.unwrap().unwrap();
    assert_eq!((record.state, record.queue, record.agent), (ContactState::Connected, Some(sales), Some(bob)));
    // Back to Alice by her SIP username.
    let to_alice = office.service.phone_transfer(ws, c, bob, "alice").await.unwrap();
    assert_eq!(to_alice, TransferTarget::Agent(AgentId(alice.0)));
    // A username of another workspace is nobody here.
    let (other, other_queue) = support::workspace(&office.service, &["voice"]).await;
    let carol = NewUser {
        email: format!("carol{}@example.com", support::rand_suffix()),
        name: "Carol".into(),
        role: Role::Agent,
        password: "agent-password".into(),
    };
    let carol = office.service.create_user(&other, carol).await.unwrap().id;
    let spec = json!({ "capacity": { "voice": 1 }, "queues": [{ "queue": other_queue }] });
    office.service.put_agent(&other, carol, serde_json::from_value(spec).unwrap()).await.unwrap();
    let account = SipAccountUpdate { username: Some("carol".into()), password: "phone-secret".into() };
    office.service.put_sip_account(&other, carol, account).await.unwrap();
    office.service.accept_offer_for(ws, c, alice).await.unwrap();
    let elsewhere = office.service.phone_transfer(ws, c, alice, "carol").await;
    assert!(matches!(elsewhere, Err(ServiceError::NotFound(_))), "{elsewhere:?}");
}

support::on_both!(
    a_voicemail_after_waiting_is_offered_once,
    a_callers_hold_counts_as_hold,
    a_phone_transfers_to_a_number_or_a_username
);
