//! Rosters on both databases, from the demo's history: a draft gives the
//! week's scheduled shifts to agents who serve the queue within their work
//! rules; publishing stores the week in one commit with an audit entry;
//! supervisors edit single shifts; agents read only their own; another
//! workspace sees nothing.

mod support;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::collections::{BTreeMap, HashSet};
use switchboard_core::ids::UserId;
use switchboard_service::auth::Principal;
use switchboard_service::demo;
use switchboard_service::fanout::{Live, Topic};
use switchboard_service::planning::roster::{
    BreakInput, PublishRequest, Requirement, RosterRequest, ShiftInput, ShiftView, When, WorkRules,
};
use switchboard_service::{Role, ServiceError};

fn input(s: &ShiftView) -> ShiftInput {
    ShiftInput {
        agent: s.agent,
        queue: s.queue,
        template: Some(s.template.clone()),
        start: When::Millis(s.start),
        end: When::Millis(s.end),
        breaks: s
            .breaks
            .iter()
            .map(|b| BreakInput { start: When::Millis(b.start), end: When::Millis(b.end), paid: b.paid })
            .collect(),
    }
}

/// A draft of the week holding `week`, every queue at 80 % with 30 % shrinkage.
fn draft_of(week: NaiveDate, requirement: Requirement) -> RosterRequest {
    RosterRequest {
        week,
        queues: vec![],
        interval_minutes: 30,
        sl_target: Some(0.8),
        shrinkage: 0.3,
        requirement,
        seeds: 2,
        budget_seconds: None,
    }
}

async fn rosters_a_week(url: String) {
    let service = support::service(&url).await;
    let admin = demo::ensure(&service, None).await.unwrap().admin;
    let ws = admin.workspace;
    let users = service.store().users(ws).await.unwrap();
    let id = |email: &str| users.iter().find(|u| u.email == email).unwrap().id;
    let (alice, bob, carol) = (id("alice@demo.example"), id("bob@demo.example"), id("carol@demo.example"));
    let agents = service.store().agents(ws).await.unwrap();
    let serves = |a: UserId, q| agents.iter().any(|r| r.user == a && r.memberships.iter().any(|m| m.queue == q));

    // Alice: never on Wednesdays, 20 hours a week at most.
    let rules = WorkRules {
        agent: alice,
        max_weekly_hours: 20.0,
        max_days: 5,
        min_rest_hours: 11.0,
        days_off: vec![Weekday::Wed],
        dates_off: vec![],
    };
    service.put_document(&admin, None, rules).await.unwrap();

    let zone = service.time_zone(ws).await.unwrap();
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let next_week = today + Duration::days(7);
    let monday = next_week - Duration::days(i64::from(next_week.weekday().num_days_from_monday()));
    let request = draft_of(next_week, Requirement::Erlang);
    let draft = service.draft_roster(&admin, &request).await.unwrap();
    assert_eq!(draft.from, monday);
    assert_eq!(draft.days, 7);
    assert!(draft.shifts.len() > 10, "{} shifts", draft.shifts.len());
    // Three agents cannot cover the demo's schedules: the rest are open.
    assert_eq!(draft.open, draft.shifts.iter().filter(|s| s.agent.is_none()).count());
    assert!(draft.open > 0);
    let mut days: HashSet<(UserId, NaiveDate)> = HashSet::new();
    let mut hours: BTreeMap<UserId, f64> = BTreeMap::new();
    for s in draft.shifts.iter().filter(|s| s.agent.is_some()) {
        let a = s.agent.unwrap();
        assert!(serves(a, s.queue), "{s:?}");
        assert!(days.insert((a, s.day)), "one shift a day: {s:?}");
        assert!((monday..monday + Duration::days(7)).contains(&s.day));
        *hours.entry(a).or_default() += s.paid_hours;
        if a == alice {
            assert_ne!(s.day.weekday(), Weekday::Wed, "Alice's day off: {s:?}");
        }
    }
    assert!(hours[&alice] <= 20.0 + 1e-9, "{hours:?}");
    assert!(hours.values().all(|h| *h <= 40.0 + 1e-9), "{hours:?}");
    assert!(hours.contains_key(&bob) && hours.contains_key(&carol), "{hours:?}");
    let full = draft.shifts.iter().find(|s| s.template == "Full day").expect("a full day");
    assert_eq!(full.breaks.len(), 1, "the lunch: {full:?}");
    assert!((full.paid_hours - 8.0).abs() < 1e-9);

    // Publish what has an agent: one commit, one audit entry.
    let shifts: Vec<ShiftInput> = draft.shifts.iter().filter(|s| s.agent.is_some()).map(input).collect();
    // Bob's desktop is open: it follows his topic, as the events socket does.
    let mut bobs_desktop = service.fanout().follow(Topic::Agent(bob));
    let published =
        service.publish_roster(&admin, &PublishRequest { week: monday, shifts: shifts.clone() }).await.unwrap();
    let pushed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if let Ok(Live::Event(e)) = bobs_desktop.recv().await
                && e.kind == "roster_changed"
            {
                return e;
            }
        }
    })
    .await
    .expect("Bob's desktop hears of his new shifts");
    assert_eq!(pushed.agent, Some(bob));
    let bobs_days: Vec<String> =
        draft.shifts.iter().filter(|s| s.agent == Some(bob)).map(|s| s.day.to_string()).collect();
    assert_eq!(pushed.payload["days"], serde_json::json!(bobs_days), "{:?}", pushed.payload);
    let assigned: Vec<&ShiftView> = draft.shifts.iter().filter(|s| s.agent.is_some()).collect();
    assert_eq!(published.shifts.len(), assigned.len());
    let read = service.roster(&admin, Some(monday), 7, None).await.unwrap();
    assert_eq!(read.shifts, published.shifts);
    let audit = service.audit_log(&admin, 0, 500).await.unwrap();
    let entry = audit.iter().find(|e| e.payload["action"] == "publish_roster").expect("an audit entry");
    assert_eq!(entry.payload["shifts"], assigned.len());

    // An agent reads their own shifts, and nobody else's.
    let as_bob = Principal { workspace: ws, user: bob, role: Role::Agent };
    let mine = service.roster(&as_bob, Some(monday), 7, None).await.unwrap();
    assert!(!mine.shifts.is_empty() && mine.shifts.iter().all(|s| s.agent == Some(bob)));
    assert_eq!(mine.agents.len(), 1);
    let refused = service.roster(&as_bob, Some(monday), 7, Some(alice)).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let refused = service.publish_roster(&as_bob, &PublishRequest { week: monday, shifts: vec![] }).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let refused = service.delete_roster_shift(&as_bob, bob, mine.shifts[0].day).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");

    // A supervisor moves Carol's first shift an hour later, then removes it.
    let carols = read.shifts.iter().find(|s| s.agent == Some(carol)).unwrap().clone();
    let mut later = input(&carols);
    let hour = 3_600_000;
    later.start = When::Millis(carols.start + hour);
    later.end = When::Millis(carols.end + hour);
    later.breaks.iter_mut().for_each(|b| {
        if let (When::Millis(s), When::Millis(e)) = (&mut b.start, &mut b.end) {
            *s += hour;
            *e += hour;
        }
    });
    let moved = service.put_roster_shift(&admin, carol, carols.day, &later).await.unwrap();
    assert_eq!(moved.start, carols.start + hour);
    let again = service.roster(&admin, Some(carols.day), 1, Some(carol)).await.unwrap();
    assert_eq!(again.shifts, vec![moved.clone()]);
    // Local times work too; a queue Carol does not serve is refused.
    let billing = service.store().queues(ws).await.unwrap().into_iter().find(|q| q.name == "Billing").unwrap().id;
    assert!(!serves(carol, billing));
    let wrong = ShiftInput {
        agent: None,
        queue: billing,
        template: None,
        start: When::Local(format!("{}T09:00", carols.day)),
        end: When::Local(format!("{}T13:00", carols.day)),
        breaks: vec![],
    };
    let refused = service.put_roster_shift(&admin, carol, carols.day, &wrong).await;
    assert!(matches!(&refused, Err(ServiceError::Conflict(m)) if m.contains("does not serve")), "{refused:?}");
    let next = carols.day + Duration::days(1);
    let elsewhere =
        ShiftInput { start: When::Local(format!("{next}T09:00")), end: When::Local(format!("{next}T13:00")), ..wrong };
    let refused = service.put_roster_shift(&admin, carol, carols.day, &elsewhere).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "start"), "{refused:?}");
    service.delete_roster_shift(&admin, carol, carols.day).await.unwrap();
    let gone = service.delete_roster_shift(&admin, carol, carols.day).await;
    assert!(matches!(gone, Err(ServiceError::NotFound(_))), "{gone:?}");
    assert!(audit_actions(&service, &admin).await.contains(&"put_roster_shift".to_string()));

    // Alice's day off holds when publishing by hand too.
    let wednesday = monday + Duration::days(2);
    let on_wednesday = ShiftInput {
        agent: Some(alice),
        queue: billing,
        template: None,
        start: When::Local(format!("{wednesday}T09:00")),
        end: When::Local(format!("{wednesday}T13:00")),
        breaks: vec![],
    };
    let refused = service.publish_roster(&admin, &PublishRequest { week: monday, shifts: vec![on_wednesday] }).await;
    assert!(matches!(&refused, Err(ServiceError::Conflict(m)) if m.contains("off")), "{refused:?}");

    // Publishing again replaces the week: one shift left.
    let one = vec![shifts[0].clone()];
    let replaced = service.publish_roster(&admin, &PublishRequest { week: monday, shifts: one }).await.unwrap();
    assert_eq!(replaced.shifts.len(), 1);
    assert_eq!(service.roster(&admin, Some(monday), 7, None).await.unwrap().shifts.len(), 1);

    // Another workspace sees none of it, and cannot touch it.
    let (stranger, _) = support::workspace(&service, &["api"]).await;
    assert!(service.roster(&stranger, Some(monday), 7, None).await.unwrap().shifts.is_empty());
    let day = replaced.shifts[0].day;
    let refused = service.delete_roster_shift(&stranger, replaced.shifts[0].agent.unwrap(), day).await;
    assert!(matches!(refused, Err(ServiceError::NotFound(_))), "{refused:?}");
    assert_eq!(service.roster(&admin, Some(monday), 7, None).await.unwrap().shifts.len(), 1);

    // A week that is over cannot be drafted or published.
    let past = RosterRequest { week: today - Duration::days(14), ..request };
    let refused = service.draft_roster(&admin, &past).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "week"), "{refused:?}");
}

async fn audit_actions(service: &switchboard_service::Service, admin: &Principal) -> Vec<String> {
    let log = service.audit_log(admin, 0, 500).await.unwrap();
    log.iter().map(|e| e.payload["action"].as_str().unwrap_or_default().to_string()).collect()
}

/// Next week drafted from the simulated requirement (every queue together,
/// per group of agents configured alike) against the one from each queue's
/// Erlang C: its shifts cover what the simulation needs in every interval,
/// go to agents of the group they were cut for, and take no more paid hours.
async fn drafts_from_the_simulated_requirement(url: String) {
    let service = support::service(&url).await;
    let admin = demo::ensure(&service, None).await.unwrap().admin;
    let ws = admin.workspace;
    let agents = service.store().agents(ws).await.unwrap();
    let serves = |a: UserId, q| agents.iter().any(|r| r.user == a && r.memberships.iter().any(|m| m.queue == q));
    let zone = service.time_zone(ws).await.unwrap();
    let next_week = chrono::Utc::now().with_timezone(&zone).date_naive() + Duration::days(7);
    // Not timed: the search runs to its end.
    let erlang = RosterRequest { budget_seconds: Some(600.0), ..draft_of(next_week, Requirement::Erlang) };
    let simulated = RosterRequest { requirement: Requirement::Simulated, ..erlang.clone() };
    let by_erlang = service.draft_roster(&admin, &erlang).await.unwrap();
    let by_simulation = service.draft_roster(&admin, &simulated).await.unwrap();
    assert_eq!(by_erlang.requirement, Some(Requirement::Erlang));
    assert_eq!(by_simulation.requirement, Some(Requirement::Simulated));
    assert!(by_simulation.problems.is_empty(), "{:?}", by_simulation.problems);

    // Every interval of the week, each with the simulated need covered.
    let cover = &by_simulation.coverage;
    assert_eq!(cover.len(), by_erlang.coverage.len());
    assert!(cover.len() >= 7 * 46, "{} intervals", cover.len());
    let required: u32 = cover.iter().map(|c| c.required).sum();
    assert!(required > 0, "the demo's contacts need agents");
    for c in cover {
        assert!(c.scheduled >= c.required, "{} under: {c:?}", c.start_local);
        assert!(c.assigned <= c.scheduled);
    }
    // The draft's shifts are what it counts.
    let paid: f64 = by_simulation.shifts.iter().map(|s| s.paid_hours).sum();
    assert!((paid - by_simulation.paid_hours).abs() < 1e-9);
    // Agents serving several queues count for each: fewer hours than
    // staffing every queue apart.
    assert!(by_simulation.paid_hours > 0.0);
    assert!(
        by_simulation.paid_hours <= by_erlang.paid_hours + 1e-9,
        "simulated {} h, Erlang C {} h",
        by_simulation.paid_hours,
        by_erlang.paid_hours
    );
    let erlang_required: u32 = by_erlang.coverage.iter().map(|c| c.required).sum();
    assert!(required <= erlang_required, "simulated {required}, Erlang C {erlang_required} agent-intervals");
    for s in by_simulation.shifts.iter().filter(|s| s.agent.is_some()) {
        assert!(serves(s.agent.unwrap(), s.queue), "{s:?}");
    }
    assert!(by_simulation.shifts.iter().any(|s| s.agent.is_some()), "shifts given to the demo's agents");

    // Past the forecast's reach, there is no simulated requirement.
    let far = RosterRequest { week: next_week + Duration::days(14), ..simulated };
    let refused = service.draft_roster(&admin, &far).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "week"), "{refused:?}");
}

support::on_both!(drafts_from_the_simulated_requirement, rosters_a_week);
