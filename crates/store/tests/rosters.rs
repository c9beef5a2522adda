//! Published roster shifts, on both stores: read by range and agent,
//! overwritten and deleted by (agent, day), kept within their workspace.

#[macro_use]
mod common;

use common::*;
use std::sync::Arc;
use switchboard_core::ids::{QueueId, UserId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::*;

both!(shifts_round_trip_by_range_and_agent, shifts_are_replaced_and_deleted_by_day, shifts_stay_in_their_workspace);

const WS: WorkspaceId = WorkspaceId(1);
const WS2: WorkspaceId = WorkspaceId(2);
const HOUR: i64 = 3_600_000;

fn shift(ws: u64, agent: u64, day: u32, start_hour: i64) -> RosterShift {
    let start = Timestamp(i64::from(day) * 24 * HOUR + start_hour * HOUR);
    RosterShift {
        workspace: WorkspaceId(ws),
        agent: UserId(agent),
        day: format!("1970-01-{:02}", day + 1),
        queue: QueueId(7),
        template: "full — \"early\"".into(),
        start,
        end: Timestamp(start.0 + 8 * HOUR),
        breaks: vec![ShiftBreak {
            start: Timestamp(start.0 + 4 * HOUR),
            end: Timestamp(start.0 + 9 * HOUR / 2),
            paid: false,
        }],
        updated_at: Timestamp(5),
    }
}

async fn setup(s: &Store) {
    s.commit(vec![Change::PutWorkspace(workspace(1)), Change::PutWorkspace(workspace(2))]).await.unwrap();
}

async fn shifts_round_trip_by_range_and_agent(s: &Arc<Store>) {
    setup(s).await;
    let (a, b, c) = (shift(1, 3, 1, 9), shift(1, 4, 1, 7), shift(1, 3, 2, 8));
    s.commit(vec![
        Change::PutRosterShift(a.clone()),
        Change::PutRosterShift(b.clone()),
        Change::PutRosterShift(c.clone()),
    ])
    .await
    .unwrap();
    let all = s.roster(WS, Timestamp(0), Timestamp(10 * 24 * HOUR), None).await.unwrap();
    assert_eq!(all, vec![b.clone(), a.clone(), c.clone()], "by start");
    let day1 = s.roster(WS, Timestamp(24 * HOUR), Timestamp(2 * 24 * HOUR), None).await.unwrap();
    assert_eq!(day1, vec![b, a.clone()], "[from, to) by start");
    let agent = s.roster(WS, Timestamp(0), Timestamp(10 * 24 * HOUR), Some(UserId(3))).await.unwrap();
    assert_eq!(agent, vec![a, c]);
}

async fn shifts_are_replaced_and_deleted_by_day(s: &Arc<Store>) {
    setup(s).await;
    let first = shift(1, 3, 1, 9);
    let moved = RosterShift { template: "manual".into(), ..shift(1, 3, 1, 12) };
    s.commit(vec![
        Change::PutRosterShift(first.clone()),
        Change::PutRosterShift(shift(1, 3, 2, 9)),
        // In one batch: the day's second put replaces the first.
        Change::PutRosterShift(moved.clone()),
        Change::DeleteRosterShift { workspace: WS, agent: UserId(3), day: "1970-01-03".into() },
    ])
    .await
    .unwrap();
    let all = s.roster(WS, Timestamp(0), Timestamp(10 * 24 * HOUR), None).await.unwrap();
    assert_eq!(all, vec![moved]);
    // Deleting what is not there is no error; a delete then a put puts it back.
    s.commit(vec![
        Change::DeleteRosterShift { workspace: WS, agent: UserId(9), day: "1970-01-02".into() },
        Change::DeleteRosterShift { workspace: WS, agent: UserId(3), day: "1970-01-02".into() },
        Change::PutRosterShift(first.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(s.roster(WS, Timestamp(0), Timestamp(10 * 24 * HOUR), None).await.unwrap(), vec![first]);
}

async fn shifts_stay_in_their_workspace(s: &Arc<Store>) {
    setup(s).await;
    let mine = shift(1, 3, 1, 9);
    let theirs = RosterShift { queue: QueueId(8), ..shift(2, 3, 1, 9) };
    s.commit(vec![Change::PutRosterShift(mine.clone()), Change::PutRosterShift(theirs.clone())]).await.unwrap();
    s.commit(vec![Change::DeleteRosterShift { workspace: WS2, agent: UserId(3), day: mine.day.clone() }])
        .await
        .unwrap();
    let range = (Timestamp(0), Timestamp(10 * 24 * HOUR));
    assert_eq!(s.roster(WS, range.0, range.1, None).await.unwrap(), vec![mine]);
    assert_eq!(s.roster(WS2, range.0, range.1, None).await.unwrap(), vec![]);
}
