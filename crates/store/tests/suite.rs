//! One suite for both stores. Every case is a function generic over
//! [`Store`]; `both!` runs each on SQLite and on PostgreSQL, in a database
//! of its own. What only one backend has (backup, the file, the crash) is
//! tested at the end.

mod common;

use common::*;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use switchboard_core::agent::Presence;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::{ContactId, CustomerId, QueueId, UserId, WorkspaceId};
use switchboard_store::*;
use tokio::task::JoinSet;

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::common::with_sqlite(|s, _dir| async move {
                        crate::$case(&s).await;
                        if let Ok(s) = std::sync::Arc::try_unwrap(s) {
                            s.close().await;
                        }
                    })
                    .await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::common::with_postgres(|s, _url| async move {
                        crate::$case(&s).await;
                        if let Ok(s) = std::sync::Arc::try_unwrap(s) {
                            s.close().await;
                        }
                    })
                    .await;
                }
            )*
        }
    };
}

both!(
    every_record_round_trips,
    puts_overwrite_the_whole_record,
    a_taken_email_is_a_conflict,
    rows_never_move_between_workspaces,
    tokens_are_found_by_hash_and_deleted,
    api_tokens_are_listed_touched_and_revoked_per_user,
    users_keep_their_state,
    every_read_stays_in_its_workspace,
    contacts_filter_and_page_by_id,
    open_contacts_come_in_restart_order,
    identities_find_customers_and_search_ignores_case_and_wildcards,
    event_ids_increase_across_batches_and_page,
    customer_events_include_those_of_its_contacts,
    max_ids_follow_the_tables,
    identities_are_deleted_in_their_workspace_only,
    contact_events_come_oldest_first_optionally_of_one_kind,
    concurrent_commits_are_all_acknowledged_and_stored,
    a_failing_batch_fails_alone,
    an_empty_batch_commits_nothing,
    changes_apply_in_their_order,
);

async fn commit(s: &Store, changes: Vec<Change>) -> Vec<u64> {
    s.commit(changes).await.expect("commit")
}

const WS: WorkspaceId = WorkspaceId(1);

async fn every_record_round_trips(s: &Arc<Store>) {
    let ada = user(2, 1, "ada@example.com");
    let mut admin = user(3, 1, "admin@example.com");
    admin.role = Role::Admin;
    let session = token(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0xff], 1, 2);
    let mut api = token(&[7; 32], 1, 3);
    api.kind = TokenKind::Api;
    api.expires_at = None;
    let mut available = agent(3, 1);
    available.presence = Presence::Available;
    available.wrap_up = None;
    available.memberships = Vec::new();
    let customer5 = customer(5, 1, "Ada Lovelace");
    let mut merged = customer(6, 1, "A. Lovelace");
    merged.merged_into = Some(CustomerId(5));
    merged.attributes = BTreeMap::new();
    merged.tags = Vec::new();
    let email = identity(1, 5, IdentityKind::Email, "ada@example.com");
    let phone = identity(1, 5, IdentityKind::Phone, "+4930123456");

    let mut full = contact(10, 1);
    full.customer = Some(CustomerId(5));
    full.channel = Channel::Whatsapp;
    full.direction = Direction::Outbound;
    full.queue = Some(QueueId(4));
    full.state = ContactState::Connected;
    full.priority = -7;
    full.attributes = BTreeMap::from([
        ("order".to_string(), Value::Num(12345.0)),
        ("topic".to_string(), Value::from("billing 'quoted' \"text\"")),
    ])
    .into();
    full.agent = Some(UserId(2));
    full.enqueued_at = Some(ts(7_000));
    full.disposition = Some("sold".to_string());
    full.notes = Some("called back; it's fine — ünïcödé".to_string());
    full.ended_at = Some(ts(9_000));
    let bare = contact(11, 1);

    let mut offer = event(1, "offer_created");
    offer.contact = Some(ContactId(10));
    offer.agent = Some(UserId(2));
    offer.queue = Some(QueueId(4));
    offer.customer = Some(CustomerId(5));
    offer.payload = serde_json::json!({ "type": "offer_created", "nested": { "list": [1, 2.5, null, "x"] } });
    let plain = event(1, "note");

    let ids = commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutUser(ada.clone()),
            Change::PutUser(admin.clone()),
            Change::PutToken(session.clone()),
            Change::PutToken(api.clone()),
            Change::PutSkill(skill(1, "german")),
            Change::PutSkill(skill(1, "billing")),
            Change::PutPolicy(policy(9, 1)),
            Change::PutQueue(queue(4, 1)),
            Change::PutAgent(agent(2, 1)),
            Change::PutAgent(available.clone()),
            Change::PutCustomer(customer5.clone()),
            Change::PutCustomer(merged.clone()),
            Change::PutIdentity(phone.clone()),
            Change::PutIdentity(email.clone()),
            Change::PutContact(full.clone()),
            Change::PutContact(bare.clone()),
            Change::Append(offer.clone()),
            Change::Append(plain.clone()),
        ],
    )
    .await;
    assert_eq!(ids.len(), 2, "one id per appended event");
    assert!(ids[0] < ids[1]);

    assert_eq!(s.workspaces().await.unwrap(), vec![workspace(1)]);
    assert_eq!(s.users(WS).await.unwrap(), vec![ada.clone(), admin]);
    assert_eq!(s.user(WS, ada.id).await.unwrap(), Some(ada.clone()));
    assert_eq!(s.user(WorkspaceId(WS.0 + 1), ada.id).await.unwrap(), None, "another workspace's user is not found");
    assert_eq!(s.user_by_email("ada@example.com").await.unwrap(), Some(ada));
    assert_eq!(s.user_by_email("nobody@example.com").await.unwrap(), None);
    assert_eq!(s.token(&session.hash).await.unwrap(), Some(session));
    assert_eq!(s.token(&api.hash).await.unwrap(), Some(api));
    assert_eq!(s.skills(WS).await.unwrap(), vec![skill(1, "billing"), skill(1, "german")]);
    assert_eq!(s.policies(WS).await.unwrap(), vec![policy(9, 1)]);
    assert_eq!(s.queues(WS).await.unwrap(), vec![queue(4, 1)]);
    assert_eq!(s.agents(WS).await.unwrap(), vec![agent(2, 1), available]);
    assert_eq!(s.customer(WS, CustomerId(5)).await.unwrap(), Some(customer5));
    assert_eq!(s.customer(WS, CustomerId(6)).await.unwrap(), Some(merged));
    assert_eq!(s.customer(WS, CustomerId(7)).await.unwrap(), None);
    assert_eq!(s.identities(WS, CustomerId(5)).await.unwrap(), vec![email, phone]);
    assert_eq!(s.contact(WS, ContactId(10)).await.unwrap(), Some(full));
    assert_eq!(s.contact(WS, ContactId(11)).await.unwrap(), Some(bare));
    assert_eq!(s.contact(WS, ContactId(12)).await.unwrap(), None);

    let logged = s.events(WS, 0, 100).await.unwrap();
    let expect = |id: u64, e: NewEvent| LoggedEvent {
        id,
        workspace: e.workspace,
        at: e.at,
        kind: e.kind,
        contact: e.contact,
        agent: e.agent,
        queue: e.queue,
        customer: e.customer,
        payload: e.payload,
    };
    assert_eq!(logged, vec![expect(ids[0], offer), expect(ids[1], plain)]);
}

async fn puts_overwrite_the_whole_record(s: &Arc<Store>) {
    let mut c = contact(1, 1);
    c.customer = Some(CustomerId(1));
    c.notes = Some("first".to_string());
    c.attributes = BTreeMap::from([("a".to_string(), Value::Num(1.0))]).into();
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutUser(user(1, 1, "one@example.com")),
            Change::PutSkill(skill(1, "german")),
            Change::PutPolicy(policy(1, 1)),
            Change::PutQueue(queue(1, 1)),
            Change::PutAgent(agent(1, 1)),
            Change::PutCustomer(customer(1, 1, "First")),
            Change::PutCustomer(customer(2, 1, "Second")),
            Change::PutIdentity(identity(1, 1, IdentityKind::Phone, "+491")),
            Change::PutContact(c),
        ],
    )
    .await;

    let mut ws = workspace(1);
    ws.name = "Renamed".to_string();
    let mut u = user(1, 1, "new@example.com");
    u.name = "New name".to_string();
    u.role = Role::Supervisor;
    u.password_hash = "$argon2id$other".to_string();
    let mut p = policy(1, 1);
    p.steps.truncate(1);
    let mut q = queue(1, 1);
    q.settings = serde_json::json!({ "channels": ["email"] });
    let mut a = agent(1, 1);
    a.skills.clear();
    a.wrap_up = None;
    a.presence = Presence::Offline;
    let mut cu = customer(1, 1, "First, renamed");
    cu.attributes.clear();
    cu.tags = vec!["new".to_string()];
    cu.merged_into = Some(CustomerId(2));
    // Every optional field cleared: the put replaces the record, it does
    // not merge into it.
    let mut c = contact(1, 1);
    c.state = ContactState::Completed;
    commit(
        s,
        vec![
            Change::PutWorkspace(ws.clone()),
            Change::PutUser(u.clone()),
            Change::PutSkill(skill(1, "german")),
            Change::PutPolicy(p.clone()),
            Change::PutQueue(q.clone()),
            Change::PutAgent(a.clone()),
            Change::PutCustomer(cu.clone()),
            // The same identity given to another customer moves.
            Change::PutIdentity(identity(1, 2, IdentityKind::Phone, "+491")),
            Change::PutContact(c.clone()),
        ],
    )
    .await;

    assert_eq!(s.workspaces().await.unwrap(), vec![ws]);
    assert_eq!(s.users(WS).await.unwrap(), vec![u.clone()]);
    assert_eq!(s.user_by_email("new@example.com").await.unwrap(), Some(u));
    assert_eq!(s.user_by_email("one@example.com").await.unwrap(), None);
    assert_eq!(s.skills(WS).await.unwrap(), vec![skill(1, "german")]);
    assert_eq!(s.policies(WS).await.unwrap(), vec![p]);
    assert_eq!(s.queues(WS).await.unwrap(), vec![q]);
    assert_eq!(s.agents(WS).await.unwrap(), vec![a]);
    assert_eq!(s.customer(WS, CustomerId(1)).await.unwrap(), Some(cu));
    assert_eq!(s.identities(WS, CustomerId(1)).await.unwrap(), vec![]);
    assert_eq!(s.identities(WS, CustomerId(2)).await.unwrap(), vec![identity(1, 2, IdentityKind::Phone, "+491")]);
    assert_eq!(
        s.customer_by_identity(WS, IdentityKind::Phone, "+491").await.unwrap().map(|c| c.id),
        Some(CustomerId(2))
    );
    assert_eq!(s.contact(WS, ContactId(1)).await.unwrap(), Some(c));
}

async fn a_taken_email_is_a_conflict(s: &Arc<Store>) {
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutWorkspace(workspace(2)),
            Change::PutUser(user(1, 1, "taken@example.com")),
            Change::PutUser(user(2, 1, "other@example.com")),
        ],
    )
    .await;
    let is_conflict = |r: Result<Vec<u64>, StoreError>| match r {
        Err(StoreError::Conflict(what)) => assert_eq!(what, "email taken@example.com"),
        other => panic!("expected a conflict on the email, got {other:?}"),
    };

    // A new user, in the same or in another workspace: logins are global.
    is_conflict(s.commit(vec![Change::PutUser(user(3, 1, "taken@example.com"))]).await);
    is_conflict(s.commit(vec![Change::PutUser(user(3, 2, "taken@example.com"))]).await);
    // An existing user changing to it.
    is_conflict(s.commit(vec![Change::PutUser(user(2, 1, "taken@example.com"))]).await);
    // The batch holding the conflict is applied not at all.
    is_conflict(
        s.commit(vec![
            Change::PutContact(contact(1, 1)),
            Change::PutUser(user(4, 1, "taken@example.com")),
            Change::Append(event(1, "user_created")),
        ])
        .await,
    );
    assert_eq!(s.contact(WS, ContactId(1)).await.unwrap(), None);
    assert_eq!(s.events(WS, 0, 10).await.unwrap(), vec![]);

    // The owner may put itself again, email unchanged.
    let mut owner = user(1, 1, "taken@example.com");
    owner.name = "Still the owner".to_string();
    commit(s, vec![Change::PutUser(owner.clone())]).await;
    assert_eq!(s.user_by_email("taken@example.com").await.unwrap(), Some(owner));
    assert_eq!(s.users(WS).await.unwrap().len(), 2);
}

async fn rows_never_move_between_workspaces(s: &Arc<Store>) {
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutWorkspace(workspace(2)),
            Change::PutUser(user(1, 1, "one@example.com")),
            Change::PutUser(user(2, 2, "two@example.com")),
            Change::PutToken(token(b"t1", 1, 1)),
            Change::PutPolicy(policy(1, 1)),
            Change::PutQueue(queue(1, 1)),
            Change::PutAgent(agent(1, 1)),
            Change::PutCustomer(customer(1, 1, "One")),
            Change::PutContact(contact(1, 1)),
        ],
    )
    .await;

    // The same keys put again from workspace 2.
    let moves = [
        Change::PutUser(user(1, 2, "one@example.com")),
        Change::PutToken(token(b"t1", 2, 2)),
        Change::PutPolicy(policy(1, 2)),
        Change::PutQueue(queue(1, 2)),
        Change::PutAgent(agent(1, 2)),
        Change::PutCustomer(customer(1, 2, "One")),
        Change::PutContact(contact(1, 2)),
    ];
    for change in moves {
        let shown = format!("{change:?}");
        match s.commit(vec![change]).await {
            Err(StoreError::Conflict(what)) => assert!(what.contains("another workspace"), "{what}"),
            other => panic!("{shown} should conflict, got {other:?}"),
        }
    }

    assert_eq!(s.users(WS).await.unwrap(), vec![user(1, 1, "one@example.com")]);
    assert_eq!(s.token(b"t1").await.unwrap(), Some(token(b"t1", 1, 1)));
    assert_eq!(s.policies(WS).await.unwrap(), vec![policy(1, 1)]);
    assert_eq!(s.queues(WS).await.unwrap(), vec![queue(1, 1)]);
    assert_eq!(s.agents(WS).await.unwrap(), vec![agent(1, 1)]);
    assert_eq!(s.customer(WS, CustomerId(1)).await.unwrap(), Some(customer(1, 1, "One")));
    assert_eq!(s.contact(WS, ContactId(1)).await.unwrap(), Some(contact(1, 1)));
    let ws2 = WorkspaceId(2);
    assert_eq!(s.policies(ws2).await.unwrap(), vec![]);
    assert_eq!(s.contact(ws2, ContactId(1)).await.unwrap(), None);
}

async fn tokens_are_found_by_hash_and_deleted(s: &Arc<Store>) {
    let a = token(&[1; 32], 1, 1);
    let b = token(&[2; 32], 1, 1);
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutUser(user(1, 1, "one@example.com")),
            Change::PutToken(a.clone()),
            Change::PutToken(b.clone()),
        ],
    )
    .await;
    assert_eq!(s.token(&a.hash).await.unwrap(), Some(a.clone()));
    assert_eq!(s.token(&[3; 32]).await.unwrap(), None);
    assert_eq!(s.token(&a.hash[..31]).await.unwrap(), None, "a prefix is not the hash");

    let mut renewed = a.clone();
    renewed.expires_at = Some(ts(9_999_999));
    commit(s, vec![Change::PutToken(renewed.clone())]).await;
    assert_eq!(s.token(&a.hash).await.unwrap(), Some(renewed));

    commit(s, vec![Change::DeleteToken { hash: a.hash.clone() }]).await;
    assert_eq!(s.token(&a.hash).await.unwrap(), None);
    assert_eq!(s.token(&b.hash).await.unwrap(), Some(b));
    // Deleting what is not there is no error.
    commit(s, vec![Change::DeleteToken { hash: a.hash.clone() }]).await;
}

async fn api_tokens_are_listed_touched_and_revoked_per_user(s: &Arc<Store>) {
    let api = |hash: u8, ws: u64, user: u64, at: i64| Token {
        kind: TokenKind::Api,
        name: format!("ci {hash}"),
        created_at: ts(at),
        expires_at: None,
        ..token(&[hash; 32], ws, user)
    };
    let (a, b, other_ws) = (api(1, 1, 1, 5_000), api(2, 1, 2, 4_000), api(3, 2, 3, 1_000));
    let session = token(&[4; 32], 1, 1);
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutWorkspace(workspace(2)),
            Change::PutUser(user(1, 1, "one@example.com")),
            Change::PutUser(user(2, 1, "two@example.com")),
            Change::PutUser(user(3, 2, "three@example.com")),
            Change::PutToken(a.clone()),
            Change::PutToken(b.clone()),
            Change::PutToken(other_ws.clone()),
            Change::PutToken(session.clone()),
        ],
    )
    .await;
    // API tokens only, of this workspace, oldest first.
    assert_eq!(s.api_tokens(WS).await.unwrap(), vec![b.clone(), a.clone()]);

    // A use is recorded, and a later put (a rename) does not move it back.
    commit(s, vec![Change::TouchToken { hash: a.hash.clone(), at: ts(7_000) }]).await;
    let renamed = Token { name: "renamed".into(), ..a.clone() };
    commit(s, vec![Change::PutToken(renamed.clone())]).await;
    let stored = s.token(&a.hash).await.unwrap().unwrap();
    assert_eq!(stored, Token { last_used_at: Some(ts(7_000)), ..renamed });
    // Touching a token that is not there is no error.
    commit(s, vec![Change::TouchToken { hash: vec![9; 32], at: ts(8_000) }]).await;

    // Sessions only, then all of user 1's tokens; never another user's or workspace's.
    let of = |ws: u64, user: u64, kind| Change::DeleteTokensOf { workspace: WorkspaceId(ws), user: UserId(user), kind };
    commit(s, vec![of(1, 1, Some(TokenKind::Session))]).await;
    assert_eq!(s.token(&session.hash).await.unwrap(), None);
    assert!(s.token(&a.hash).await.unwrap().is_some());
    commit(s, vec![of(1, 1, None), of(1, 3, None)]).await;
    assert_eq!(s.api_tokens(WS).await.unwrap(), vec![b]);
    assert_eq!(s.api_tokens(WorkspaceId(2)).await.unwrap(), vec![other_ws]);
}

async fn users_keep_their_state(s: &Arc<Store>) {
    let mut u = user(1, 1, "one@example.com");
    commit(s, vec![Change::PutWorkspace(workspace(1)), Change::PutUser(u.clone())]).await;
    assert_eq!(s.user(WS, u.id).await.unwrap().unwrap().state, UserState::Active);
    for state in [UserState::Disabled, UserState::Deleted, UserState::Active] {
        u.state = state;
        commit(s, vec![Change::PutUser(u.clone())]).await;
        assert_eq!(s.user(WS, u.id).await.unwrap(), Some(u.clone()));
        assert_eq!(s.user_by_email(&u.email).await.unwrap(), Some(u.clone()));
    }
}

/// Workspaces 1 and 2 hold the same kinds of rows, some with equal names
/// and identities; ids are offset by `base`.
async fn populate(s: &Arc<Store>, ws: u64, base: u64) {
    let mut open = contact(base + 1, ws);
    open.customer = Some(CustomerId(base + 1));
    open.enqueued_at = Some(ts(100));
    let mut closed = contact(base + 2, ws);
    closed.state = ContactState::Completed;
    closed.customer = Some(CustomerId(base + 1));
    let mut by_contact = event(ws, "contact_created");
    by_contact.contact = Some(ContactId(base + 1));
    let mut by_customer = event(ws, "customer_updated");
    by_customer.customer = Some(CustomerId(base + 1));
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(ws)),
            Change::PutUser(user(base + 1, ws, &format!("agent{ws}@example.com"))),
            Change::PutToken(token(&[ws as u8; 32], ws, base + 1)),
            Change::PutSkill(skill(ws, "german")),
            Change::PutPolicy(policy(base + 1, ws)),
            Change::PutQueue(queue(base + 1, ws)),
            Change::PutAgent(agent(base + 1, ws)),
            Change::PutCustomer(customer(base + 1, ws, "Shared Name")),
            Change::PutIdentity(identity(ws, base + 1, IdentityKind::Email, "same@example.com")),
            Change::PutContact(open),
            Change::PutContact(closed),
            Change::Append(by_contact),
            Change::Append(by_customer),
        ],
    )
    .await;
}

async fn every_read_stays_in_its_workspace(s: &Arc<Store>) {
    populate(s, 1, 100).await;
    populate(s, 2, 200).await;

    for (ws, base, other) in [(1u64, 100u64, 200u64), (2, 200, 100)] {
        let id = WorkspaceId(ws);
        let mine = |w: WorkspaceId| assert_eq!(w, id);

        let users = s.users(id).await.unwrap();
        assert_eq!(users.len(), 1);
        users.iter().for_each(|u| mine(u.workspace));
        let skills = s.skills(id).await.unwrap();
        assert_eq!(skills.len(), 1);
        skills.iter().for_each(|x| mine(x.workspace));
        let policies = s.policies(id).await.unwrap();
        assert_eq!(policies.len(), 1);
        policies.iter().for_each(|x| mine(x.workspace));
        let queues = s.queues(id).await.unwrap();
        assert_eq!(queues.len(), 1);
        queues.iter().for_each(|x| mine(x.workspace));
        let agents = s.agents(id).await.unwrap();
        assert_eq!(agents.len(), 1);
        agents.iter().for_each(|x| mine(x.workspace));

        assert!(s.customer(id, CustomerId(base + 1)).await.unwrap().is_some());
        assert_eq!(s.customer(id, CustomerId(other + 1)).await.unwrap(), None);
        assert_eq!(s.identities(id, CustomerId(base + 1)).await.unwrap().len(), 1);
        assert_eq!(s.identities(id, CustomerId(other + 1)).await.unwrap(), vec![]);
        let found = s.customer_by_identity(id, IdentityKind::Email, "same@example.com").await.unwrap();
        assert_eq!(found.map(|c| c.id), Some(CustomerId(base + 1)));
        let found = s.search_customers(id, "shared", 10).await.unwrap();
        assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![CustomerId(base + 1)]);
        let found = s.search_customers(id, "same@", 10).await.unwrap();
        assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![CustomerId(base + 1)]);

        assert!(s.contact(id, ContactId(base + 1)).await.unwrap().is_some());
        assert_eq!(s.contact(id, ContactId(other + 1)).await.unwrap(), None);
        let contacts = s.contacts(id, &ContactFilter::default(), None, 100).await.unwrap();
        assert_eq!(contacts.iter().map(|c| c.id.0).collect::<Vec<_>>(), vec![base + 1, base + 2]);
        let filter = ContactFilter { customer: Some(CustomerId(other + 1)), ..ContactFilter::default() };
        assert_eq!(s.contacts(id, &filter, None, 100).await.unwrap(), vec![]);
        let open = s.open_contacts(id).await.unwrap();
        assert_eq!(open.iter().map(|c| c.id.0).collect::<Vec<_>>(), vec![base + 1]);

        let events = s.events(id, 0, 100).await.unwrap();
        assert_eq!(events.len(), 2);
        events.iter().for_each(|e| mine(e.workspace));
        assert_eq!(s.customer_events(id, CustomerId(base + 1)).await.unwrap(), events);
        assert_eq!(s.customer_events(id, CustomerId(other + 1)).await.unwrap(), vec![]);
    }
    // Installation-wide by design: the workspaces themselves and logins.
    assert_eq!(s.workspaces().await.unwrap().len(), 2);
    assert!(s.user_by_email("agent2@example.com").await.unwrap().is_some());
}

async fn contacts_filter_and_page_by_id(s: &Arc<Store>) {
    let states = [ContactState::Queued, ContactState::Connected, ContactState::Completed];
    let all: Vec<ContactRecord> = (1..=30u64)
        .map(|id| {
            let mut c = contact(id, 1);
            c.state = states[id as usize % 3];
            c.channel = if id % 2 == 0 { Channel::Chat } else { Channel::Voice };
            c.queue = Some(QueueId(1 + id % 2));
            c.agent = (c.state == ContactState::Connected).then_some(UserId(10 + id % 4));
            c.customer = (id % 5 != 0).then_some(CustomerId(1 + id % 3));
            c
        })
        .collect();
    let mut changes = vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))];
    changes.extend((1..=3).map(|id| Change::PutCustomer(customer(id, 1, "C"))));
    // Stored out of order: the order read back is the store's.
    changes.extend(all.iter().rev().cloned().map(Change::PutContact));
    changes.extend((31..=35).map(|id| Change::PutContact(contact(id, 2))));
    commit(s, changes).await;

    let filters = [
        ContactFilter::default(),
        ContactFilter { state: Some(ContactState::Connected), ..Default::default() },
        ContactFilter { channel: Some(Channel::Chat), ..Default::default() },
        ContactFilter { queue: Some(QueueId(2)), ..Default::default() },
        ContactFilter { agent: Some(UserId(11)), ..Default::default() },
        ContactFilter { customer: Some(CustomerId(2)), ..Default::default() },
        ContactFilter {
            state: Some(ContactState::Queued),
            channel: Some(Channel::Voice),
            queue: Some(QueueId(2)),
            customer: Some(CustomerId(3)),
            agent: None,
        },
        ContactFilter { state: Some(ContactState::Failed), ..Default::default() },
    ];
    for filter in &filters {
        let expected: Vec<ContactRecord> = all
            .iter()
            .filter(|c| {
                filter.state.is_none_or(|x| c.state == x)
                    && filter.channel.is_none_or(|x| c.channel == x)
                    && filter.queue.is_none_or(|x| c.queue == Some(x))
                    && filter.agent.is_none_or(|x| c.agent == Some(x))
                    && filter.customer.is_none_or(|x| c.customer == Some(x))
            })
            .cloned()
            .collect();
        assert_eq!(all_contacts(s, 1, filter, 7).await, expected, "{filter:?}");
        assert_eq!(all_contacts(s, 1, filter, 100).await, expected, "{filter:?}");
    }

    let ids = |cs: Vec<ContactRecord>| cs.into_iter().map(|c| c.id.0).collect::<Vec<_>>();
    let any = ContactFilter::default();
    assert_eq!(ids(s.contacts(WS, &any, None, 3).await.unwrap()), vec![1, 2, 3]);
    assert_eq!(ids(s.contacts(WS, &any, Some(ContactId(10)), 3).await.unwrap()), vec![11, 12, 13]);
    assert_eq!(ids(s.contacts(WS, &any, Some(ContactId(30)), 3).await.unwrap()), Vec::<u64>::new());
    assert_eq!(ids(s.contacts(WS, &any, None, 0).await.unwrap()), Vec::<u64>::new());
}

async fn open_contacts_come_in_restart_order(s: &Arc<Store>) {
    let c = |id: u64, state: ContactState, enqueued: Option<i64>| {
        let mut c = contact(id, 1);
        c.state = state;
        c.enqueued_at = enqueued.map(ts);
        c
    };
    let contacts = [
        c(1, ContactState::Queued, Some(300)),
        c(2, ContactState::Completed, Some(100)),
        c(3, ContactState::Offered, Some(100)),
        c(4, ContactState::New, None),
        c(5, ContactState::Connected, Some(100)),
        c(6, ContactState::CallbackScheduled, Some(50)),
        c(7, ContactState::WrapUp, Some(10)),
        c(8, ContactState::Abandoned, Some(10)),
        c(9, ContactState::Contained, Some(10)),
        c(10, ContactState::Failed, Some(10)),
        c(11, ContactState::Queued, None),
    ];
    let mut changes = vec![Change::PutWorkspace(workspace(1))];
    changes.extend(contacts.iter().rev().cloned().map(Change::PutContact));
    commit(s, changes).await;

    let open = s.open_contacts(WS).await.unwrap();
    let order: Vec<u64> = open.iter().map(|c| c.id.0).collect();
    // By enqueue time, ties by id, never-enqueued last.
    assert_eq!(order, vec![6, 3, 5, 1, 4, 11]);
    assert!(open.iter().all(|c| c.state.is_open()));
    assert_eq!(open[0], contacts[5]);
}

async fn identities_find_customers_and_search_ignores_case_and_wildcards(s: &Arc<Store>) {
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutCustomer(customer(1, 1, "Ada Lovelace")),
            Change::PutCustomer(customer(2, 1, "Grace Hopper")),
            Change::PutCustomer(customer(3, 1, "100% Cotton")),
            Change::PutCustomer(customer(4, 1, "snake_case Ltd")),
            Change::PutCustomer(customer(5, 1, "Plain")),
            Change::PutIdentity(identity(1, 1, IdentityKind::Email, "ada@example.com")),
            Change::PutIdentity(identity(1, 2, IdentityKind::Phone, "+4930123456")),
            Change::PutIdentity(identity(1, 2, IdentityKind::Email, "grace@navy.mil")),
            // Visitor ids and handles are lookups, not search material.
            Change::PutIdentity(identity(1, 5, IdentityKind::Visitor, "v-ada-77")),
            Change::PutIdentity(identity(1, 5, IdentityKind::Handle, "telegram:ada")),
        ],
    )
    .await;

    let by = |kind, value: &'static str| {
        let s = Arc::clone(s);
        async move { s.customer_by_identity(WS, kind, value).await.unwrap().map(|c| c.id.0) }
    };
    assert_eq!(by(IdentityKind::Email, "ada@example.com").await, Some(1));
    assert_eq!(by(IdentityKind::Phone, "+4930123456").await, Some(2));
    assert_eq!(by(IdentityKind::Visitor, "v-ada-77").await, Some(5));
    assert_eq!(by(IdentityKind::Phone, "ada@example.com").await, None, "the kind is part of the key");
    assert_eq!(by(IdentityKind::Email, "nobody@example.com").await, None);

    let search = |query: &'static str, limit: u32| {
        let s = Arc::clone(s);
        async move { s.search_customers(WS, query, limit).await.unwrap().into_iter().map(|c| c.id.0).collect::<Vec<_>>() }
    };
    assert_eq!(search("ada", 10).await, vec![1]);
    assert_eq!(search("ADA LOVE", 10).await, vec![1]);
    assert_eq!(search("EXAMPLE.COM", 10).await, vec![1]);
    assert_eq!(search("4930", 10).await, vec![2]);
    assert_eq!(search("Navy", 10).await, vec![2]);
    assert_eq!(search("o", 10).await, vec![1, 2, 3]);
    assert_eq!(search("o", 2).await, vec![1, 2]);
    assert_eq!(search("", 10).await, vec![1, 2, 3, 4, 5]);
    assert_eq!(search("telegram", 10).await, Vec::<u64>::new());
    // Wildcards in the query are plain characters.
    assert_eq!(search("%", 10).await, vec![3]);
    assert_eq!(search("0% c", 10).await, vec![3]);
    assert_eq!(search("_", 10).await, vec![4]);
    assert_eq!(search("e_c", 10).await, vec![4]);
    assert_eq!(search("a_a", 10).await, Vec::<u64>::new());
    assert_eq!(search("\\", 10).await, Vec::<u64>::new());
}

async fn event_ids_increase_across_batches_and_page(s: &Arc<Store>) {
    commit(s, vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))]).await;
    let first = commit(s, (0..3).map(|i| Change::Append(event(1, &format!("first_{i}")))).collect()).await;
    let second = commit(
        s,
        vec![
            Change::Append(event(1, "second_0")),
            Change::PutContact(contact(1, 1)),
            Change::Append(event(2, "elsewhere")),
            Change::Append(event(1, "second_1")),
        ],
    )
    .await;
    let third = commit(s, vec![Change::PutContact(contact(2, 1))]).await;
    assert_eq!(first.len(), 3);
    assert_eq!(second.len(), 3);
    assert_eq!(third, Vec::<u64>::new(), "no appends, no ids");

    let mine: Vec<u64> = first.iter().chain([&second[0], &second[2]]).copied().collect();
    assert!(first.iter().chain(&second).collect::<Vec<_>>().windows(2).all(|w| w[0] < w[1]));

    let events = s.events(WS, 0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), mine);
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec!["first_0", "first_1", "first_2", "second_0", "second_1"]
    );
    assert_eq!(all_events(s, 1, 2).await, events);
    assert_eq!(s.events(WS, first[2], 100).await.unwrap(), events[3..].to_vec());
    assert_eq!(s.events(WS, first[0], 2).await.unwrap(), events[1..3].to_vec());
    assert_eq!(s.events(WS, u64::MAX, 100).await.unwrap(), vec![]);
    assert_eq!(s.events(WorkspaceId(2), 0, 100).await.unwrap().len(), 1);
}

async fn customer_events_include_those_of_its_contacts(s: &Arc<Store>) {
    let mut hers = contact(1, 1);
    hers.customer = Some(CustomerId(1));
    let mut his = contact(2, 1);
    his.customer = Some(CustomerId(2));
    let anonymous = contact(3, 1);
    let e = |kind: &str, contact: Option<u64>, customer: Option<u64>| {
        let mut e = event(1, kind);
        e.contact = contact.map(ContactId);
        e.customer = customer.map(CustomerId);
        Change::Append(e)
    };
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutCustomer(customer(1, 1, "Her")),
            Change::PutCustomer(customer(2, 1, "Him")),
            Change::PutContact(hers),
            Change::PutContact(his),
            Change::PutContact(anonymous),
            e("her_contact_arrived", Some(1), None),
            e("his_contact_arrived", Some(2), None),
            e("her_profile_changed", None, Some(1)),
            e("anonymous_contact", Some(3), None),
            e("her_contact_closed", Some(1), Some(1)),
            e("her_call_about_him", Some(2), Some(1)),
        ],
    )
    .await;

    let kinds = |events: Vec<LoggedEvent>| events.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    assert_eq!(
        kinds(s.customer_events(WS, CustomerId(1)).await.unwrap()),
        vec!["her_contact_arrived", "her_profile_changed", "her_contact_closed", "her_call_about_him"]
    );
    assert_eq!(
        kinds(s.customer_events(WS, CustomerId(2)).await.unwrap()),
        vec!["his_contact_arrived", "her_call_about_him"]
    );
    assert_eq!(s.customer_events(WS, CustomerId(3)).await.unwrap(), vec![]);
}

async fn identities_are_deleted_in_their_workspace_only(s: &Arc<Store>) {
    populate(s, 1, 100).await;
    populate(s, 2, 200).await;
    let phone = identity(1, 101, IdentityKind::Phone, "+491");
    commit(s, vec![Change::PutIdentity(phone.clone())]).await;
    let email = |ws: u64| Change::DeleteIdentity {
        workspace: WorkspaceId(ws),
        kind: IdentityKind::Email,
        value: "same@example.com".to_string(),
    };

    commit(s, vec![email(1)]).await;
    assert_eq!(s.customer_by_identity(WS, IdentityKind::Email, "same@example.com").await.unwrap(), None);
    assert_eq!(s.identities(WS, CustomerId(101)).await.unwrap(), vec![phone.clone()]);
    // Workspace 2's identity of the same value stays.
    let theirs = s.customer_by_identity(WorkspaceId(2), IdentityKind::Email, "same@example.com").await.unwrap();
    assert_eq!(theirs.map(|c| c.id), Some(CustomerId(201)));
    // Deleting what is not there is no error; the kind is part of the key.
    commit(s, vec![email(1)]).await;
    commit(s, vec![Change::DeleteIdentity { workspace: WS, kind: IdentityKind::Email, value: "+491".to_string() }])
        .await;
    assert_eq!(s.identities(WS, CustomerId(101)).await.unwrap(), vec![phone.clone()]);

    // In a batch the order holds: deleted then put is there, put then
    // deleted is not.
    let delete_phone =
        || Change::DeleteIdentity { workspace: WS, kind: IdentityKind::Phone, value: "+491".to_string() };
    commit(s, vec![delete_phone(), Change::PutIdentity(phone.clone())]).await;
    assert_eq!(s.identities(WS, CustomerId(101)).await.unwrap(), vec![phone.clone()]);
    commit(s, vec![Change::PutIdentity(phone), delete_phone()]).await;
    assert_eq!(s.identities(WS, CustomerId(101)).await.unwrap(), vec![]);
    assert_eq!(s.identities(WorkspaceId(2), CustomerId(201)).await.unwrap().len(), 1);
}

async fn contact_events_come_oldest_first_optionally_of_one_kind(s: &Arc<Store>) {
    let e = |ws: u64, kind: &str, contact: Option<u64>, text: &str| {
        let mut e = event(ws, kind);
        e.contact = contact.map(ContactId);
        e.payload = serde_json::json!({ "type": kind, "text": text });
        Change::Append(e)
    };
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutWorkspace(workspace(2)),
            e(1, "contact_created", Some(1), ""),
            e(1, "message", Some(1), "hello"),
            e(1, "message", Some(2), "other chat"),
            e(1, "offer_created", Some(1), ""),
            e(1, "customer_updated", None, ""),
            // Another workspace's events of a contact with the same id.
            e(2, "message", Some(1), "theirs"),
        ],
    )
    .await;
    commit(s, vec![e(1, "message", Some(1), "how can I help?"), e(1, "contact_ended", Some(1), "")]).await;

    let shown = |events: Vec<LoggedEvent>| {
        assert!(events.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
        events.into_iter().map(|e| (e.kind, e.payload["text"].as_str().unwrap_or("").to_string())).collect::<Vec<_>>()
    };
    let pair = |k: &str, t: &str| (k.to_string(), t.to_string());
    assert_eq!(
        shown(s.contact_events(WS, ContactId(1), None).await.unwrap()),
        vec![
            pair("contact_created", ""),
            pair("message", "hello"),
            pair("offer_created", ""),
            pair("message", "how can I help?"),
            pair("contact_ended", ""),
        ]
    );
    assert_eq!(
        shown(s.contact_events(WS, ContactId(1), Some("message")).await.unwrap()),
        vec![pair("message", "hello"), pair("message", "how can I help?")]
    );
    assert_eq!(
        shown(s.contact_events(WS, ContactId(2), Some("message")).await.unwrap()),
        vec![pair("message", "other chat")]
    );
    assert_eq!(s.contact_events(WS, ContactId(1), Some("no_such_kind")).await.unwrap(), vec![]);
    assert_eq!(s.contact_events(WS, ContactId(3), None).await.unwrap(), vec![]);
    assert_eq!(
        shown(s.contact_events(WorkspaceId(2), ContactId(1), None).await.unwrap()),
        vec![pair("message", "theirs")]
    );
    assert_eq!(s.contact_events(WorkspaceId(3), ContactId(1), None).await.unwrap(), vec![]);
}

async fn max_ids_follow_the_tables(s: &Arc<Store>) {
    assert_eq!(s.max_ids().await.unwrap(), MaxIds::default());
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(3)),
            Change::PutWorkspace(workspace(1)),
            Change::PutUser(user(40, 1, "a@example.com")),
            Change::PutUser(user(7, 3, "b@example.com")),
            Change::PutPolicy(policy(5, 1)),
            Change::PutQueue(queue(6, 3)),
            Change::PutCustomer(customer(80, 1, "A")),
            Change::PutContact(contact(900, 3)),
            Change::PutContact(contact(12, 1)),
        ],
    )
    .await;
    let expected = MaxIds {
        workspace: 3,
        user: 40,
        policy: 5,
        queue: 6,
        customer: 80,
        contact: 900,
        webhook: 0,
        document: 0,
        article: 0,
        attachment: 0,
        endpoint: 0,
    };
    assert_eq!(s.max_ids().await.unwrap(), expected);

    // Document ids count across kinds and workspaces.
    commit(
        s,
        vec![
            Change::PutDocument(document(1, "disposition_code", 30)),
            Change::PutDocument(document(3, "canned_response", 31)),
            Change::PutDocument(document(1, "kb_category", 4)),
            Change::PutArticle(article(8, 3, "Title", "Body")),
            Change::PutArticle(article(3, 1, "Title", "Body")),
            Change::PutAttachment(attachment(70, 1, 12, b"x")),
            Change::PutAttachment(attachment(9, 3, 900, b"")),
        ],
    )
    .await;
    let expected = MaxIds { document: 31, article: 8, attachment: 70, ..expected };
    assert_eq!(s.max_ids().await.unwrap(), expected);

    // A deleted document's or article's id is never handed out again, even
    // when it was the largest: something may still name it.
    commit(
        s,
        vec![
            Change::DeleteDocument { workspace: WorkspaceId(3), kind: "canned_response".into(), id: 31 },
            Change::DeleteArticle { workspace: WorkspaceId(3), id: 8 },
        ],
    )
    .await;
    assert_eq!(s.max_ids().await.unwrap(), expected);
    // Deletes of what is not there (another workspace's, or none at all)
    // move nothing.
    commit(
        s,
        vec![
            Change::DeleteDocument { workspace: WorkspaceId(3), kind: "disposition_code".into(), id: 30 },
            Change::DeleteDocument { workspace: WS, kind: "kb_category".into(), id: 1_000 },
            Change::DeleteArticle { workspace: WS, id: u64::MAX >> 1 },
        ],
    )
    .await;
    assert_eq!(s.max_ids().await.unwrap(), expected);
    assert!(s.document(WS, "disposition_code", 30).await.unwrap().is_some());
    // Only a larger deleted id raises the mark.
    commit(
        s,
        vec![
            Change::PutDocument(document(1, "kb_category", 40)),
            Change::DeleteDocument { workspace: WS, kind: "kb_category".into(), id: 4 },
            Change::DeleteDocument { workspace: WS, kind: "kb_category".into(), id: 40 },
            Change::DeleteArticle { workspace: WS, id: 3 },
        ],
    )
    .await;
    assert_eq!(s.max_ids().await.unwrap(), MaxIds { document: 40, ..expected });
}

async fn concurrent_commits_are_all_acknowledged_and_stored(s: &Arc<Store>) {
    const TASKS: u64 = 50;
    const EACH: u64 = 40;
    commit(s, vec![Change::PutWorkspace(workspace(1))]).await;

    let mut tasks = JoinSet::new();
    for t in 0..TASKS {
        let s = Arc::clone(s);
        tasks.spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..EACH {
                let id = 1 + t * EACH + i;
                let mut e = event(1, "contact_created");
                e.contact = Some(ContactId(id));
                let ids = s.commit(vec![Change::PutContact(contact(id, 1)), Change::Append(e)]).await.expect("commit");
                assert_eq!(ids.len(), 1);
                acknowledged.push((id, ids[0]));
            }
            acknowledged
        });
    }
    let mut acknowledged = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let mine = done.expect("task");
        // One task commits one batch after another: later, larger.
        assert!(mine.windows(2).all(|w| w[0].1 < w[1].1), "event ids follow commit order");
        acknowledged.extend(mine);
    }
    let total = (TASKS * EACH) as usize;
    assert_eq!(acknowledged.len(), total);
    assert_eq!(acknowledged.iter().map(|a| a.1).collect::<HashSet<_>>().len(), total, "event ids are unique");

    let contacts = all_contacts(s, 1, &ContactFilter::default(), 500).await;
    assert_eq!(contacts.iter().map(|c| c.id.0).collect::<Vec<_>>(), (1..=total as u64).collect::<Vec<_>>());
    let events = all_events(s, 1, 500).await;
    let stored: HashSet<(u64, u64)> = events.iter().map(|e| (e.contact.map_or(0, |c| c.0), e.id)).collect();
    assert_eq!(stored, acknowledged.into_iter().collect::<HashSet<_>>());
}

async fn a_failing_batch_fails_alone(s: &Arc<Store>) {
    commit(s, vec![Change::PutWorkspace(workspace(1)), Change::PutUser(user(1, 1, "taken@example.com"))]).await;

    // A large batch first keeps the writer busy, so that the ones after it
    // queue up and are committed as one group.
    let mut tasks = JoinSet::new();
    {
        let s = Arc::clone(s);
        let filler: Vec<Change> = (0..3000).map(|_| Change::Append(event(1, "filler"))).collect();
        tasks.spawn(async move { (0, s.commit(filler).await) });
    }
    const BAD: u64 = 7;
    for k in 1..=20u64 {
        let s = Arc::clone(s);
        let mut changes = vec![Change::PutContact(contact(k, 1)), Change::Append(event(1, "contact_created"))];
        if k == BAD {
            changes.insert(1, Change::PutUser(user(2, 1, "taken@example.com")));
        }
        tasks.spawn(async move { (k, s.commit(changes).await) });
    }
    while let Some(done) = tasks.join_next().await {
        match done.expect("task") {
            (0, result) => assert_eq!(result.expect("filler").len(), 3000),
            (BAD, Err(StoreError::Conflict(what))) => assert_eq!(what, "email taken@example.com"),
            (BAD, other) => panic!("the bad batch should conflict, got {other:?}"),
            (k, result) => assert_eq!(result.unwrap_or_else(|e| panic!("batch {k}: {e}")).len(), 1),
        }
    }

    let stored: Vec<u64> =
        all_contacts(s, 1, &ContactFilter::default(), 100).await.into_iter().map(|c| c.id.0).collect();
    assert_eq!(stored, (1..=20).filter(|k| *k != BAD).collect::<Vec<_>>());
    assert_eq!(all_events(s, 1, 1000).await.len(), 3000 + 19);
    assert_eq!(s.users(WS).await.unwrap().len(), 1);
}

/// The writer sorts a group's changes by table; within a table, and so for
/// any one key, the order of the batch still holds.
async fn changes_apply_in_their_order(s: &Arc<Store>) {
    let version = |n: i64| {
        let mut c = contact(1, 1);
        c.updated_at = ts(n);
        c
    };
    let (a, b) = (token(b"a", 1, 1), token(b"b", 1, 1));
    commit(
        s,
        vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutUser(user(1, 1, "x@example.com")),
            Change::PutCustomer(customer(1, 1, "One")),
            Change::PutCustomer(customer(2, 1, "Two")),
        ],
    )
    .await;
    commit(
        s,
        vec![
            Change::PutContact(version(1)),
            Change::PutContact(contact(2, 1)),
            Change::PutContact(version(2)),
            Change::PutToken(a.clone()),
            Change::DeleteToken { hash: a.hash.clone() },
            Change::PutToken(b.clone()),
            Change::DeleteToken { hash: b.hash.clone() },
            Change::PutToken(b.clone()),
            Change::PutIdentity(identity(1, 1, IdentityKind::Phone, "+491")),
            Change::PutIdentity(identity(1, 2, IdentityKind::Phone, "+491")),
            // The email moves from one user to another within the batch.
            Change::PutUser(user(1, 1, "y@example.com")),
            Change::PutUser(user(2, 1, "x@example.com")),
            Change::PutContact(version(3)),
        ],
    )
    .await;
    assert_eq!(s.contact(WS, ContactId(1)).await.unwrap(), Some(version(3)));
    assert_eq!(s.contact(WS, ContactId(2)).await.unwrap(), Some(contact(2, 1)));
    assert_eq!(s.token(&a.hash).await.unwrap(), None);
    assert_eq!(s.token(&b.hash).await.unwrap(), Some(b));
    assert_eq!(
        s.customer_by_identity(WS, IdentityKind::Phone, "+491").await.unwrap().map(|c| c.id),
        Some(CustomerId(2))
    );
    assert_eq!(s.user_by_email("x@example.com").await.unwrap().map(|u| u.id), Some(UserId(2)));
    assert_eq!(s.user_by_email("y@example.com").await.unwrap().map(|u| u.id), Some(UserId(1)));
}

async fn an_empty_batch_commits_nothing(s: &Arc<Store>) {
    assert_eq!(commit(s, vec![]).await, Vec::<u64>::new());
    assert_eq!(s.workspaces().await.unwrap(), vec![]);
}

#[test]
fn debug_output_hides_credentials() {
    let t = token(&[0xab; 32], 1, 1);
    let shown = format!("{t:?} {:?}", Change::PutToken(t.clone()));
    assert!(!shown.contains("171"), "the hash's bytes are hidden: {shown}");
    let u = user(1, 1, "a@example.com");
    let shown = format!("{u:?}");
    assert!(!shown.contains("argon2"), "the password hash is hidden: {shown}");
    assert!(shown.contains("a@example.com"));
}

mod sqlite_only {
    use crate::common::*;
    use sqlx::{Connection, Row};
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use switchboard_core::ids::{ContactId, WorkspaceId};
    use switchboard_store::*;

    const WS: WorkspaceId = WorkspaceId(1);

    async fn some_data(s: &Store) {
        s.commit(vec![
            Change::PutWorkspace(workspace(1)),
            Change::PutContact(contact(1, 1)),
            Change::Append(event(1, "contact_created")),
        ])
        .await
        .expect("commit");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn backup_is_a_readable_copy_and_never_overwrites() {
        with_sqlite(|s, dir| async move {
            some_data(&s).await;
            // A quote in the name: the path must not be spliced into SQL.
            let target = dir.path().join("it's a backup.db");
            s.backup(&target).await.expect("backup");

            let copy = Store::open(target.to_str().unwrap()).await.expect("open the copy");
            assert_eq!(copy.workspaces().await.unwrap(), vec![workspace(1)]);
            assert_eq!(copy.contact(WS, ContactId(1)).await.unwrap(), Some(contact(1, 1)));
            assert_eq!(copy.events(WS, 0, 10).await.unwrap(), s.events(WS, 0, 10).await.unwrap());
            copy.close().await;

            match s.backup(&target).await {
                Err(StoreError::Conflict(what)) => assert!(what.contains("backup target"), "{what}"),
                other => panic!("a backup must not overwrite, got {other:?}"),
            }
            // The store carries on after a backup.
            s.commit(vec![Change::PutContact(contact(2, 1))]).await.expect("commit after backup");
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_is_visible_to_a_new_store_at_once() {
        with_sqlite(|s, _dir| async move {
            some_data(&s).await;
            let path = s.path().expect("a file").to_str().unwrap().to_string();
            // While the first is still open…
            let second = Store::open(&path).await.expect("open again");
            assert_eq!(second.contact(WS, ContactId(1)).await.unwrap(), Some(contact(1, 1)));
            second.close().await;
            // …and after it has gone.
            let s = std::sync::Arc::try_unwrap(s).expect("sole owner");
            s.close().await;
            let third = Store::open(&path).await.expect("open once more");
            assert_eq!(third.events(WS, 0, 10).await.unwrap().len(), 1);
            third.close().await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_url_form_opens_the_same_file_in_wal_mode() {
        let dir = TempDir::new();
        let path = dir.file("forms.db");
        let first = Store::open(&format!("sqlite:{path}")).await.expect("sqlite:PATH");
        some_data(&first).await;
        first.close().await;
        for url in [format!("sqlite://{path}"), path.clone(), format!("sqlite:{path}?mode=rwc")] {
            let s = Store::open(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(s.workspaces().await.unwrap(), vec![workspace(1)], "{url}");
            s.close().await;
        }

        let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite:{path}")).await.expect("raw connection");
        let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(&mut raw).await.unwrap().get(0);
        assert_eq!(mode, "wal");
        raw.close().await.unwrap();

        assert!(matches!(Store::open("sqlite::memory:").await, Err(StoreError::BadUrl { .. })));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_url_helper_opens_sqlite() {
        let dir = TempDir::new();
        let s = Store::open(&dir.file("helper.db")).await.expect("open");
        assert_eq!(s.backend(), Backend::Sqlite);
        some_data_any(&s).await;
        s.close().await;
    }

    async fn some_data_any(s: &Store) {
        s.commit(vec![Change::PutWorkspace(workspace(1))]).await.expect("commit");
        assert_eq!(s.workspaces().await.unwrap(), vec![workspace(1)]);
    }

    const CRASH_DB: &str = "SWITCHBOARD_STORE_CRASH_DB";

    /// The child half of `a_commit_survives_kill_9`: does nothing unless
    /// that test started this process to commit and then be killed.
    #[tokio::test]
    async fn crash_child() {
        let Ok(path) = std::env::var(CRASH_DB) else { return };
        let s = Store::open(&path).await.expect("child: open");
        let ids = s.commit(vec![Change::PutWorkspace(workspace(1)), Change::Append(event(1, "last_words"))]).await;
        println!("committed {}", ids.expect("child: commit")[0]);
        // Wait to be killed, the store still open: nothing is flushed or
        // closed on the way out.
        std::thread::sleep(std::time::Duration::from_secs(60));
        panic!("child: was not killed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_survives_kill_9() {
        let dir = TempDir::new();
        let path = dir.file("crash.db");
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "sqlite_only::crash_child", "--nocapture", "--test-threads=1"])
            .env(CRASH_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the child");
        let stdout = child.stdout.take().expect("child's stdout");
        let mut event_id = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read the child");
            // The test harness may have started the line with the test's name.
            if let Some((_, id)) = line.split_once("committed ") {
                event_id = Some(id.trim().parse::<u64>().expect("an event id"));
                break;
            }
        }
        let event_id = event_id.expect("the child reported its commit");
        child.kill().expect("kill -9 the child");
        let status = child.wait().expect("reap the child");
        assert!(!status.success(), "the child was killed: {status}");

        let s = Store::open(&path).await.expect("open after the crash");
        let events = s.events(WS, 0, 10).await.unwrap();
        assert_eq!(events.iter().map(|e| (e.id, e.kind.as_str())).collect::<Vec<_>>(), vec![(event_id, "last_words")]);
        s.close().await;
    }
}

mod postgres_only {
    use crate::common::*;
    use switchboard_core::ids::{ContactId, WorkspaceId};
    use switchboard_store::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn backup_is_left_to_pg_dump() {
        with_postgres(|s, _url| async move {
            match s.backup(std::path::Path::new("/tmp/never-written.db")).await {
                Err(StoreError::Unsupported(why)) => assert!(why.contains("pg_dump"), "{why}"),
                other => panic!("expected Unsupported, got {other:?}"),
            }
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_is_visible_to_a_new_store_and_the_url_helper_picks_postgres() {
        with_postgres(|s, url| async move {
            s.commit(vec![Change::PutWorkspace(workspace(1)), Change::PutContact(contact(1, 1))])
                .await
                .expect("commit");
            let second = Store::open(&url).await.expect("open again");
            assert_eq!(second.backend(), Backend::Postgres);
            assert_eq!(second.contact(WorkspaceId(1), ContactId(1)).await.unwrap(), Some(contact(1, 1)));
            second.close().await;
        })
        .await;
    }

    #[test]
    fn test_databases_are_named_on_the_configured_server() {
        assert_eq!(database_url("postgres://u@h:5432/", "x"), "postgres://u@h:5432/x");
        assert_eq!(database_url("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(database_url("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
    }
}
