//! What the group commit does with the batches it merges, seen from the
//! database itself: a side connection installs triggers that count the
//! writes to `contacts`, or refuse one contact, on both backends.
//!
//! The tests run on a current-thread runtime: batches handed to the writer
//! one after another, before the test awaits anything, are all waiting when
//! the writer next runs, so they make one group.

mod common;

use common::*;
use sqlx::{AnyConnection, Connection, Executor};
use std::future::Future;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_store::*;

const WS: WorkspaceId = WorkspaceId(1);

/// The contact every test puts several times, and the one the refusing
/// trigger refuses.
const HOT: u64 = 13;

/// Installs the counting triggers: `writes.n` grows by one for every row
/// of `contacts` inserted or updated.
const COUNT_SQLITE: &[&str] = &[
    "CREATE TABLE writes (n INTEGER NOT NULL)",
    "INSERT INTO writes VALUES (0)",
    "CREATE TRIGGER count_inserts AFTER INSERT ON contacts BEGIN UPDATE writes SET n = n + 1; END",
    "CREATE TRIGGER count_updates AFTER UPDATE ON contacts BEGIN UPDATE writes SET n = n + 1; END",
];
const COUNT_POSTGRES: &[&str] = &[
    "CREATE TABLE writes (n BIGINT NOT NULL)",
    "INSERT INTO writes VALUES (0)",
    "CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN UPDATE writes SET n = n + 1; RETURN NULL; END $$",
    "CREATE TRIGGER count_write AFTER INSERT OR UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION count_write()",
];

/// Installs a trigger that makes every write of contact [`HOT`] fail.
const REFUSE_SQLITE: &[&str] = &[
    "CREATE TRIGGER refuse_insert BEFORE INSERT ON contacts WHEN NEW.id = 13 \
     BEGIN SELECT RAISE(ABORT, 'contact 13 refused'); END",
    "CREATE TRIGGER refuse_update BEFORE UPDATE ON contacts WHEN NEW.id = 13 \
     BEGIN SELECT RAISE(ABORT, 'contact 13 refused'); END",
];
const REFUSE_POSTGRES: &[&str] = &[
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN IF NEW.id = 13 THEN RAISE EXCEPTION 'contact 13 refused'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION refuse()",
];

/// The same refusal, but only when the transaction commits: a deferred
/// constraint trigger (PostgreSQL only), so that every statement succeeds
/// and the COMMIT itself fails.
const REFUSE_AT_COMMIT_POSTGRES: &[&str] = &[
    REFUSE_POSTGRES[0],
    "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT OR UPDATE ON contacts \
     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()",
];

/// A connection of its own to the store's database.
struct Side {
    conn: AnyConnection,
    postgres: bool,
}

impl Side {
    async fn open(url: &str, postgres: bool) -> Side {
        sqlx::any::install_default_drivers();
        Side { conn: AnyConnection::connect(url).await.expect("side connection"), postgres }
    }

    async fn run(&mut self, sqlite: &[&str], postgres: &[&str]) {
        for sql in if self.postgres { postgres } else { sqlite } {
            self.conn.execute(*sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// Rows of `contacts` written since the counting triggers went in.
    async fn writes(&mut self) -> i64 {
        sqlx::query_scalar("SELECT n FROM writes").fetch_one(&mut self.conn).await.expect("count")
    }
}

/// Runs `case` on each backend with the store and a side connection.
async fn on_both<F, Fut>(case: F)
where
    F: Fn(Store, Side) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_sqlite(|s, dir| async move {
        let side = Side::open(&format!("sqlite://{}", dir.file("switchboard.db")), false).await;
        case(unshared(s), side).await;
    })
    .await;
    with_postgres(move |s, url| async move {
        let side = Side::open(&url, true).await;
        case(unshared(s), side).await;
    })
    .await;
}

fn unshared(s: std::sync::Arc<Store>) -> Store {
    std::sync::Arc::try_unwrap(s).expect("the harness keeps no other handle")
}

fn version(state: ContactState, updated: i64) -> ContactRecord {
    let mut c = contact(HOT, 1);
    c.state = state;
    c.updated_at = ts(updated);
    c
}

fn about(id: u64, kind: &str) -> Change {
    let mut e = event(1, kind);
    e.contact = Some(ContactId(id));
    Change::Append(e)
}

/// Hands every batch to the writer before waiting for any, so that they
/// commit as one group, and returns each caller's answer in order.
async fn one_group(s: &Store, batches: Vec<Vec<Change>>) -> Vec<Result<Vec<u64>, StoreError>> {
    let waits: Vec<_> = batches.into_iter().map(|b| s.commit(b)).collect();
    let mut answers = Vec::new();
    for wait in waits {
        answers.push(wait.await);
    }
    answers
}

#[tokio::test]
async fn a_row_put_many_times_in_a_group_is_written_once_as_its_last_put() {
    on_both(|s, mut side| async move {
        s.commit(vec![Change::PutWorkspace(workspace(1))]).await.expect("workspace");
        side.run(COUNT_SQLITE, COUNT_POSTGRES).await;

        let last = version(ContactState::Connected, 9_004);
        let answers = one_group(
            &s,
            vec![
                // As a contact is created: put new, then again once routed.
                vec![
                    Change::PutContact(version(ContactState::New, 9_001)),
                    about(HOT, "contact_queued"),
                    Change::PutContact(version(ContactState::Queued, 9_001)),
                ],
                vec![Change::PutContact(contact(14, 1)), about(14, "contact_queued")],
                vec![Change::PutContact(version(ContactState::Offered, 9_002)), about(HOT, "offer_created")],
                vec![
                    Change::PutContact(version(ContactState::Connected, 9_003)),
                    Change::PutContact(last.clone()),
                    about(HOT, "offer_accepted"),
                ],
            ],
        )
        .await;
        let ids: Vec<Vec<u64>> = answers.into_iter().map(|a| a.expect("commit")).collect();
        assert_eq!(ids.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1, 1, 1]);
        assert!(ids.windows(2).all(|w| w[0][0] < w[1][0]), "event ids follow the batches: {ids:?}");

        assert_eq!(s.contact(WS, ContactId(HOT)).await.unwrap(), Some(last.clone()));
        assert_eq!(s.contact(WS, ContactId(14)).await.unwrap(), Some(contact(14, 1)));
        assert_eq!(side.writes().await, 2, "six puts of two rows, one write each");
        let kinds: Vec<String> =
            s.contact_events(WS, ContactId(HOT), None).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["contact_queued", "offer_created", "offer_accepted"]);

        // A later group updates the stored row, once.
        let ended = version(ContactState::Completed, 9_005);
        let answers = one_group(
            &s,
            vec![
                vec![Change::PutContact(version(ContactState::WrapUp, 9_005))],
                vec![Change::PutContact(ended.clone())],
            ],
        )
        .await;
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        assert_eq!(s.contact(WS, ContactId(HOT)).await.unwrap(), Some(ended));
        assert_eq!(side.writes().await, 3);
        s.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_group_that_cannot_commit_fails_its_callers_and_leaves_nothing() {
    on_both(|s, side| refused(s, side, REFUSE_SQLITE, REFUSE_POSTGRES)).await;
}

#[tokio::test]
async fn a_group_refused_by_its_commit_fails_its_callers_and_leaves_nothing() {
    with_postgres(|s, url| async move {
        let side = Side::open(&url, true).await;
        refused(unshared(s), side, &[], REFUSE_AT_COMMIT_POSTGRES).await;
    })
    .await;
}

/// Every batch of a group writes the contact the triggers `sqlite` or
/// `postgres` refuse: every caller fails, nothing of the group is left, and
/// the next group commits.
async fn refused(s: Store, mut side: Side, sqlite: &[&str], postgres: &[&str]) {
    s.commit(vec![Change::PutWorkspace(workspace(1))]).await.expect("workspace");
    side.run(COUNT_SQLITE, COUNT_POSTGRES).await;
    side.run(sqlite, postgres).await;

    // The first batch also writes another contact, which must not survive
    // either.
    let answers = one_group(
        &s,
        vec![
            vec![Change::PutContact(contact(12, 1)), Change::PutContact(version(ContactState::New, 9_001))],
            vec![Change::PutContact(version(ContactState::Queued, 9_002)), about(HOT, "contact_queued")],
            vec![about(12, "contact_queued"), Change::PutContact(version(ContactState::Offered, 9_003))],
        ],
    )
    .await;
    for answer in &answers {
        match answer {
            Err(StoreError::Database(e)) => assert!(e.to_string().contains("contact 13 refused"), "{e}"),
            other => panic!("every caller should fail, got {other:?}"),
        }
    }
    assert_eq!(all_contacts(&s, 1, &ContactFilter::default(), 100).await, vec![]);
    assert_eq!(all_events(&s, 1, 100).await.len(), 0);
    assert_eq!(side.writes().await, 0);

    // The writer goes on: the next group commits.
    let answers = one_group(
        &s,
        vec![
            vec![Change::PutContact(contact(12, 1)), about(12, "contact_queued")],
            vec![Change::PutContact(contact(14, 1)), about(14, "contact_queued")],
        ],
    )
    .await;
    let ids: Vec<u64> = answers.into_iter().flat_map(|a| a.expect("commit")).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);
    let stored: Vec<u64> = all_contacts(&s, 1, &ContactFilter::default(), 100).await.iter().map(|c| c.id.0).collect();
    assert_eq!(stored, vec![12, 14]);
    assert_eq!(all_events(&s, 1, 100).await.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert_eq!(side.writes().await, 2);
    s.close().await;
}
