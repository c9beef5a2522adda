//! Schedule adherence on both databases, on a clock the test moves: a
//! published roster against what two agents did — one logs in late and
//! takes her break early, the other takes a break off the schedule and
//! works past his shift. Real-time exceptions: the ticker logs when an
//! agent has been out of adherence past the workspace's threshold and when
//! it ends, once each across a restart, the wallboard lists who is out now,
//! and the report counts them — also for a night shift across the end of
//! summer time in Paris.

mod support;

use chrono::NaiveDate;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use switchboard_core::agent::{Capacity, Membership, Presence, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::ids::{QueueId, UserId};
use switchboard_core::time::Timestamp;
use switchboard_service::auth::Principal;
use switchboard_service::kinds::Kind;
use switchboard_service::planning::roster::{BreakInput, PublishRequest, ShiftInput, When};
use switchboard_service::reports::Bound;
use switchboard_service::reports::adherence::{AdherenceRequest, AdherenceRow};
use switchboard_service::reports::intervals::Interval;
use switchboard_service::workspace::WorkspaceUpdate;
use switchboard_service::{AgentSpec, NewUser, Role, Service, ServiceError};
use switchboard_store::LoggedEvent;

/// Monday 2030-01-07 00:00 UTC (a new workspace's zone is UTC).
const MONDAY: i64 = 1_893_974_400_000;
const MIN: i64 = 60_000;

fn at(hh: i64, mm: i64) -> i64 {
    MONDAY + (hh * 60 + mm) * MIN
}

async fn agent(service: &Service, admin: &Principal, name: &str, queue: QueueId) -> UserId {
    let user = NewUser {
        email: format!("{name}{}@example.com", support::rand_suffix()),
        name: name.into(),
        role: Role::Agent,
        password: "agent-password".into(),
    };
    let u = service.create_user(admin, user).await.unwrap();
    let spec = AgentSpec {
        skills: Default::default(),
        capacity: Capacity::of(&[(Channel::Api, 1)]),
        queues: vec![Membership::new(queue)],
        wrap_up: None,
    };
    service.put_agent(admin, u.id, spec).await.unwrap();
    u.id
}

fn shift(agent: UserId, queue: QueueId, start: i64, end: i64, lunch: Option<(i64, i64)>) -> ShiftInput {
    ShiftInput {
        agent: Some(agent),
        queue,
        template: None,
        start: When::Millis(start),
        end: When::Millis(end),
        breaks: lunch
            .map(|(s, e)| BreakInput { start: When::Millis(s), end: When::Millis(e), paid: false })
            .into_iter()
            .collect(),
    }
}

/// A workspace where Ann works Monday 09:00–17:30 with lunch at 13:00 and
/// Ben 09:00–13:00: its admin, Ann and Ben as agents, and the Monday.
async fn ann_and_ben(service: &Service) -> (Principal, Principal, Principal, NaiveDate) {
    let (admin, queue) = support::workspace(service, &["api"]).await;
    let ann = agent(service, &admin, "Ann", queue).await;
    let ben = agent(service, &admin, "Ben", queue).await;
    let monday = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
    let shifts = vec![
        shift(ann, queue, at(9, 0), at(17, 30), Some((at(13, 0), at(13, 30)))),
        shift(ben, queue, at(9, 0), at(13, 0), None),
    ];
    service.publish_roster(&admin, &PublishRequest { week: monday, shifts }).await.unwrap();
    let as_ann = Principal { workspace: admin.workspace, user: ann, role: Role::Agent };
    let as_ben = Principal { user: ben, ..as_ann };
    (admin, as_ann, as_ben, monday)
}

async fn measures_scheduled_against_actual(url: String) {
    let clock = Arc::new(AtomicI64::new(at(6, 0)));
    let service = open(&url, &clock).await;
    let (admin, as_ann, as_ben, monday) = ann_and_ben(&service).await;
    let (ann, ben) = (as_ann.user, as_ben.user);
    let away = || Presence::Away(ReasonCode("break".into()));
    let steps: Vec<(i64, &Principal, Presence)> = vec![
        (at(9, 0), &as_ben, Presence::Available),
        (at(9, 15), &as_ann, Presence::Available), // 15 minutes late
        (at(10, 0), &as_ben, away()),              // a break the schedule does not have
        (at(10, 30), &as_ben, Presence::Available),
        (at(12, 40), &as_ann, away()), // lunch 20 minutes early
        (at(13, 30), &as_ann, Presence::Available),
        (at(13, 30), &as_ben, Presence::Offline), // 30 minutes past his shift
        (at(17, 30), &as_ann, Presence::Offline),
    ];
    for (t, who, presence) in steps {
        clock.store(t, Ordering::SeqCst);
        service.set_agent_state(who, who.user, presence).await.unwrap();
    }
    clock.store(at(18, 0), Ordering::SeqCst);

    let day = |agent| AdherenceRequest {
        from: Bound::Date(monday),
        to: Bound::Date(monday.succ_opt().unwrap()),
        interval: Interval::Day,
        agent,
    };
    let report = service.adherence(&admin, &day(None)).await.unwrap();
    let row = |id: UserId| -> &AdherenceRow { report.rows.iter().find(|r| r.id == id).unwrap() };
    assert_eq!(report.rows.len(), 2, "{:?}", report.rows);
    let a = row(ann);
    assert_eq!(a.name, "Ann");
    assert_eq!(a.start, MONDAY);
    assert_eq!(a.scheduled_work_seconds, 480.0 * 60.0);
    assert_eq!(a.scheduled_break_seconds, 30.0 * 60.0);
    assert_eq!(a.out_of_adherence_seconds, 35.0 * 60.0, "late 15, early lunch 20");
    assert_eq!(a.adherence, Some(475.0 / 510.0));
    assert_eq!(a.unscheduled_work_seconds, 0.0);
    let b = row(ben);
    assert_eq!(b.scheduled_seconds, 240.0 * 60.0);
    assert_eq!(b.in_adherence_seconds, 210.0 * 60.0, "30 minutes away while scheduled to work");
    assert_eq!(b.adherence, Some(210.0 / 240.0));
    assert_eq!(b.unscheduled_work_seconds, 30.0 * 60.0);
    assert_eq!(b.worked_seconds, 240.0 * 60.0);

    // By the hour: Ann's 09:00 hour lost its first quarter.
    let hourly = AdherenceRequest { interval: Interval::Minutes60, ..day(Some(ann)) };
    let hours = service.adherence(&admin, &hourly).await.unwrap();
    let nine = hours.rows.iter().find(|r| r.start == at(9, 0)).unwrap();
    assert_eq!((nine.scheduled_seconds, nine.in_adherence_seconds), (3600.0, 2700.0));
    assert!(hours.rows.iter().all(|r| r.id == ann));
    let total: f64 = hours.rows.iter().map(|r| r.in_adherence_seconds).sum();
    assert_eq!(total, a.in_adherence_seconds, "hours add up to the day");

    // What has not happened is not measured: at 11:00 only the morning counts.
    clock.store(at(11, 0), Ordering::SeqCst);
    let so_far = service.adherence(&admin, &day(Some(ann))).await.unwrap();
    assert_eq!(so_far.rows[0].scheduled_seconds, 120.0 * 60.0);
    clock.store(at(18, 0), Ordering::SeqCst);

    // An agent reads their own adherence only.
    let own = service.adherence(&as_ann, &day(None)).await.unwrap();
    assert_eq!(own.rows, vec![row(ann).clone()]);
    let refused = service.adherence(&as_ann, &day(Some(ben))).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    // Another workspace sees nobody.
    let (stranger, _) = support::workspace(&service, &["api"]).await;
    assert!(service.adherence(&stranger, &day(None)).await.unwrap().rows.is_empty());
    let backwards = AdherenceRequest { from: Bound::Instant(at(12, 0)), to: Bound::Instant(at(11, 0)), ..day(None) };
    let refused = service.adherence(&admin, &backwards).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "to"), "{refused:?}");
}

async fn open(url: &str, clock: &Arc<AtomicI64>) -> Service {
    let read = clock.clone();
    Service::open(url, Arc::new(move || Timestamp(read.load(Ordering::SeqCst))), 12).await.unwrap()
}

/// The workspace's `adherence_exception` events, oldest first.
async fn exceptions(service: &Service, p: &Principal) -> Vec<LoggedEvent> {
    service.store().events_of_kind(p.workspace, Kind::AdherenceException.as_str(), 0, 100).await.unwrap()
}

/// The phase, agent and `since` of an exception event.
fn phase(e: &LoggedEvent) -> (&str, UserId, i64) {
    (e.payload["phase"].as_str().unwrap(), e.agent.unwrap(), e.payload["since"].as_i64().unwrap())
}

async fn flags_exceptions_as_they_happen(url: String) {
    let clock = Arc::new(AtomicI64::new(at(6, 0)));
    let service = open(&url, &clock).await;
    let (admin, as_ann, as_ben, monday) = ann_and_ben(&service).await;
    let (ann, ben) = (as_ann.user, as_ben.user);
    let away = || Presence::Away(ReasonCode("break".into()));
    let tick_at = async |service: &Service, t: i64| {
        clock.store(t, Ordering::SeqCst);
        service.tick().await;
    };
    let set = async |service: &Service, t: i64, who: &Principal, presence: Presence| {
        clock.store(t, Ordering::SeqCst);
        service.set_agent_state(who, who.user, presence).await.unwrap();
    };

    // Ann starts on time; Ben does not show up.
    set(&service, at(9, 0), &as_ann, Presence::Available).await;
    tick_at(&service, at(9, 4)).await;
    assert!(exceptions(&service, &admin).await.is_empty(), "4 minutes is within the default 5");
    let now = service.adherence_now(&admin).await.unwrap();
    assert_eq!((now.threshold_seconds, now.agents.len()), (300.0, 0));
    tick_at(&service, at(9, 5)).await;
    let logged = exceptions(&service, &admin).await;
    assert_eq!(logged.iter().map(phase).collect::<Vec<_>>(), [("started", ben, at(9, 0))]);
    assert_eq!(logged[0].payload["breach"], "not_working");
    assert_eq!(logged[0].at, Timestamp(at(9, 5)));
    tick_at(&service, at(9, 12)).await;
    assert_eq!(exceptions(&service, &admin).await.len(), 1, "not logged again");
    // The wallboard lists him, and for how long.
    let now = service.adherence_now(&admin).await.unwrap();
    assert_eq!(now.agents.len(), 1, "{:?}", now.agents);
    assert_eq!((now.agents[0].agent, now.agents[0].name.as_str(), now.agents[0].seconds), (ben, "Ben", 720.0));
    let refused = service.adherence_now(&as_ann).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");

    // He logs in at 09:20: it ends then.
    set(&service, at(9, 20), &as_ben, Presence::Available).await;
    tick_at(&service, at(9, 21)).await;
    let logged = exceptions(&service, &admin).await;
    assert_eq!(logged.len(), 2);
    assert_eq!(phase(&logged[1]), ("ended", ben, at(9, 0)));
    assert_eq!(logged[1].payload["until"], at(9, 20));
    assert_eq!(logged[1].payload["seconds"], 1200.0);
    assert!(service.adherence_now(&admin).await.unwrap().agents.is_empty());

    // Ten minutes, now: Ben's break off the schedule at 12:00 is one after 10.
    let threshold = WorkspaceUpdate { name: None, time_zone: None, adherence_threshold_seconds: Some(600.0) };
    assert_eq!(service.update_workspace(&admin, threshold).await.unwrap().adherence_threshold_seconds, 600.0);
    let refused = service
        .update_workspace(
            &admin,
            WorkspaceUpdate { name: None, time_zone: None, adherence_threshold_seconds: Some(-1.0) },
        )
        .await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "adherence_threshold_seconds"));
    set(&service, at(12, 0), &as_ben, away()).await;
    tick_at(&service, at(12, 6)).await;
    assert_eq!(exceptions(&service, &admin).await.len(), 2);
    tick_at(&service, at(12, 10)).await;
    let logged = exceptions(&service, &admin).await;
    assert_eq!(logged.iter().skip(2).map(phase).collect::<Vec<_>>(), [("started", ben, at(12, 0))]);

    // A restart neither logs it again nor forgets to end it.
    drop(service);
    let service = open(&url, &clock).await;
    set(&service, at(12, 20), &as_ben, Presence::Available).await;
    tick_at(&service, at(12, 20)).await;
    let logged = exceptions(&service, &admin).await;
    assert_eq!(
        logged.iter().skip(2).map(phase).collect::<Vec<_>>(),
        [("started", ben, at(12, 0)), ("ended", ben, at(12, 0))]
    );

    // Ann works through the first ten minutes of her lunch.
    tick_at(&service, at(13, 10)).await;
    set(&service, at(13, 10), &as_ann, away()).await;
    tick_at(&service, at(13, 11)).await;
    set(&service, at(13, 30), &as_ann, Presence::Available).await;
    set(&service, at(17, 30), &as_ann, Presence::Offline).await;
    set(&service, at(17, 30), &as_ben, Presence::Offline).await;
    tick_at(&service, at(18, 0)).await;
    let logged = exceptions(&service, &admin).await;
    let anns: Vec<&LoggedEvent> = logged.iter().filter(|e| e.agent == Some(ann)).collect();
    assert_eq!(
        anns.iter().map(|e| phase(e)).collect::<Vec<_>>(),
        [("started", ann, at(13, 0)), ("ended", ann, at(13, 0))]
    );
    assert_eq!(anns[0].payload["breach"], "working_on_break");
    assert_eq!(anns[1].payload["until"], at(13, 10));

    // The report counts each in the hour it began.
    let hourly = AdherenceRequest {
        from: Bound::Date(monday),
        to: Bound::Date(monday.succ_opt().unwrap()),
        interval: Interval::Minutes60,
        agent: None,
    };
    let report = service.adherence(&admin, &hourly).await.unwrap();
    let count = |id: UserId, hour: i64| {
        report.rows.iter().find(|r| r.id == id && r.start == at(hour, 0)).map_or(0, |r| r.exceptions)
    };
    assert_eq!((count(ben, 9), count(ben, 12), count(ann, 13)), (1, 1, 1));
    assert_eq!(report.rows.iter().map(|r| r.exceptions).sum::<u32>(), 3, "{:?}", report.rows);
}

/// A night shift from 22:00 on Saturday 24 October 2026 to 06:00 on
/// Sunday, in Paris: the clocks go back at 03:00, so it lasts nine hours.
/// The agent leaves at 05:00; the exception ends with the shift at 06:00
/// (05:00 UTC), an hour later, not at the eighth hour.
async fn follows_a_shift_across_the_end_of_summer_time(url: String) {
    let utc = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    let clock = Arc::new(AtomicI64::new(utc("2026-10-24T12:00:00Z")));
    let service = open(&url, &clock).await;
    let (admin, queue) = support::workspace(&service, &["api"]).await;
    let paris =
        WorkspaceUpdate { name: None, time_zone: Some("Europe/Paris".into()), adherence_threshold_seconds: None };
    service.update_workspace(&admin, paris).await.unwrap();
    let nia = agent(&service, &admin, "Nia", queue).await;
    let night = ShiftInput {
        agent: Some(nia),
        queue,
        template: None,
        start: When::Local("2026-10-24T22:00".into()),
        end: When::Local("2026-10-25T06:00".into()),
        breaks: vec![],
    };
    let saturday = NaiveDate::from_ymd_opt(2026, 10, 24).unwrap();
    let published =
        service.publish_roster(&admin, &PublishRequest { week: saturday, shifts: vec![night] }).await.unwrap();
    let (start, end) = (utc("2026-10-24T20:00:00Z"), utc("2026-10-25T05:00:00Z"));
    assert_eq!((published.shifts[0].start, published.shifts[0].end), (start, end), "nine hours");

    let as_nia = Principal { workspace: admin.workspace, user: nia, role: Role::Agent };
    clock.store(start, Ordering::SeqCst);
    service.set_agent_state(&as_nia, nia, Presence::Available).await.unwrap();
    // 05:00 in winter time, an hour before the shift ends.
    let left = utc("2026-10-25T04:00:00Z");
    clock.store(left, Ordering::SeqCst);
    service.set_agent_state(&as_nia, nia, Presence::Offline).await.unwrap();
    for t in [left + 4 * MIN, left + 5 * MIN, left + 30 * MIN, end - MIN, end, end + 10 * MIN] {
        clock.store(t, Ordering::SeqCst);
        service.tick().await;
    }
    let logged = exceptions(&service, &admin).await;
    assert_eq!(logged.iter().map(phase).collect::<Vec<_>>(), [("started", nia, left), ("ended", nia, left)]);
    assert_eq!(logged[0].at, Timestamp(left + 5 * MIN));
    assert_eq!(logged[1].payload["until"], end);
    assert_eq!(logged[1].payload["seconds"], 3600.0);

    // Sunday is 25 hours long in Paris: it holds seven of the shift's.
    let sunday = saturday.succ_opt().unwrap();
    let day = AdherenceRequest {
        from: Bound::Date(sunday),
        to: Bound::Date(sunday.succ_opt().unwrap()),
        interval: Interval::Day,
        agent: None,
    };
    let report = service.adherence(&admin, &day).await.unwrap();
    assert_eq!(report.rows.len(), 1, "{:?}", report.rows);
    let row = &report.rows[0];
    assert_eq!(row.start, utc("2026-10-24T22:00:00Z"));
    assert_eq!(row.scheduled_work_seconds, 7.0 * 3600.0);
    assert_eq!(row.out_of_adherence_seconds, 3600.0);
    assert_eq!(row.exceptions, 1);
}

support::on_both!(
    measures_scheduled_against_actual,
    flags_exceptions_as_they_happen,
    follows_a_shift_across_the_end_of_summer_time
);
