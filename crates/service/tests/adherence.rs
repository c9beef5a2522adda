//! Schedule adherence on both databases, on a clock the test moves: a
//! published roster against what two agents did — one logs in late and
//! takes her break early, the other takes a break off the schedule and
//! works past his shift.

mod support;

use chrono::NaiveDate;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use switchboard_core::agent::{Capacity, Membership, Presence, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::ids::{QueueId, UserId};
use switchboard_core::time::Timestamp;
use switchboard_service::auth::Principal;
use switchboard_service::planning::roster::{BreakInput, PublishRequest, ShiftInput, When};
use switchboard_service::reports::Bound;
use switchboard_service::reports::adherence::{AdherenceRequest, AdherenceRow};
use switchboard_service::reports::intervals::Interval;
use switchboard_service::{AgentSpec, NewUser, Role, Service, ServiceError};

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

async fn measures_scheduled_against_actual(url: String) {
    let clock = Arc::new(AtomicI64::new(at(6, 0)));
    let read = clock.clone();
    let service = Service::open(&url, Arc::new(move || Timestamp(read.load(Ordering::SeqCst))), 12).await.unwrap();
    let (admin, queue) = support::workspace(&service, &["api"]).await;
    let ann = agent(&service, &admin, "Ann", queue).await;
    let ben = agent(&service, &admin, "Ben", queue).await;
    let monday = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
    let shifts = vec![
        shift(ann, queue, at(9, 0), at(17, 30), Some((at(13, 0), at(13, 30)))),
        shift(ben, queue, at(9, 0), at(13, 0), None),
    ];
    service.publish_roster(&admin, &PublishRequest { week: monday, shifts }).await.unwrap();

    let as_ann = Principal { workspace: admin.workspace, user: ann, role: Role::Agent };
    let as_ben = Principal { user: ben, ..as_ann };
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

support::on_both!(measures_scheduled_against_actual);
