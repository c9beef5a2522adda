//! Planning from the demo's four weeks of history, on both databases: the
//! forecast scored on the held-out week, staffing, shifts that cover it,
//! adjustments kept as documents with an audit event each, what-if
//! replays of yesterday, and who may do what.

mod support;

use std::time::Duration;
use switchboard_core::ids::{PolicyId, UserId};
use switchboard_core::queue::OrderingKind;
use switchboard_core::skills::Proficiency;
use switchboard_service::auth::Principal;
use switchboard_service::demo;
use switchboard_service::planning::simulated::{SimulatedRequest, SimulatedStaffing};
use switchboard_service::planning::whatif::{AgentChange, AgentMove, RoutingChange, StaffingChange, WhatIfRequest};
use switchboard_service::planning::{Depth, PlanningAdjustment, PlanningRequest};
use switchboard_service::{Role, ServiceError};

fn request(queue: switchboard_core::ids::QueueId, depth: Depth) -> PlanningRequest {
    PlanningRequest { queue, weeks: 1, interval_minutes: 30, sl_target: Some(0.8), shrinkage: 0.3, depth }
}

async fn plans_from_the_demo_history(url: String) {
    let service = support::service(&url).await;
    let admin = demo::ensure(&service, None).await.unwrap().admin;
    let queues = service.store().queues(admin.workspace).await.unwrap();
    let billing = queues.iter().find(|q| q.name == "Billing").unwrap().id;

    let plan = service.planning(&admin, &request(billing, Depth::Schedule)).await.unwrap();
    // A week of half hours from today (a day with a clock change has 46 or 50).
    assert!((7 * 48 - 2..=7 * 48 + 2).contains(&plan.intervals.len()), "{}", plan.intervals.len());
    let e = plan.evaluation.as_ref().expect("four weeks hold one out");
    assert_eq!(e.scores.len(), 4, "{e:?}");
    let wape = |m| e.scores.iter().find(|s| s.method == m).and_then(|s| s.accuracy.wape).unwrap();
    let naive = wape(switchboard_core::forecast::Method::SeasonalNaive);
    assert!(wape(plan.method) <= naive, "the chosen method beats as-last-week: {e:?}");
    // The demo's days run 08:00–18:00: nights are forecast (nearly) empty.
    let busy = plan.intervals.iter().filter(|i| i.offered >= 0.5).count();
    assert!((5 * 20..=7 * 22).contains(&busy), "{busy} busy intervals");
    let totals = plan.totals.as_ref().unwrap();
    assert!(totals.peak_required >= 2 && totals.required_hours > 0.0, "{totals:?}");
    // The shifts cover the requirement in every interval.
    let schedule = plan.schedule.as_ref().unwrap();
    assert!(schedule.problem.is_none(), "{:?}", schedule.problem);
    assert!(!schedule.shifts.is_empty() && schedule.paid_hours >= schedule.lower_bound_hours - 1e-6);
    for i in &plan.intervals {
        assert!(i.over_under.unwrap() >= 0, "under at {}: {i:?}", i.start_local);
        assert!(i.scheduled.unwrap() >= i.required.unwrap());
    }
    // Forecast alone: no staffing fields.
    let forecast = service.planning(&admin, &request(billing, Depth::Forecast)).await.unwrap();
    assert!(forecast.totals.is_none() && forecast.intervals.iter().all(|i| i.agents.is_none()));

    // +100 % on the busiest day: that day's intervals double, the rest stay.
    let day = &plan.intervals.iter().max_by(|a, b| a.offered.total_cmp(&b.offered)).unwrap().start_local[..10];
    let adjustment = PlanningAdjustment {
        queue: Some(billing),
        from: format!("{day}T08:00"),
        to: format!("{day}T18:00"),
        change_percent: 100.0,
        note: "a mailing".into(),
    };
    let stored = service.put_document(&admin, None, adjustment.clone()).await.unwrap();
    let adjusted = service.planning(&admin, &request(billing, Depth::Staffing)).await.unwrap();
    for (a, b) in plan.intervals.iter().zip(&adjusted.intervals) {
        let inside = a.start_local.starts_with(day) && ("08:00".."18:00").contains(&&a.start_local[11..16]);
        let factor = if inside { 2.0 } else { 1.0 };
        assert!((b.offered - factor * a.offered).abs() < 1e-9, "{} {} → {}", a.start_local, a.offered, b.offered);
        assert_eq!(b.adjusted, inside.then_some(2.0));
        assert!(b.required >= a.required);
    }
    assert!(adjusted.totals.unwrap().required_hours > totals.required_hours);
    assert_eq!(adjusted.adjustments.len(), 1);
    let audit = service.audit_log(&admin, 0, 500).await.unwrap();
    assert!(audit.iter().any(|e| e.payload["action"] == "put_planning_adjustment"), "an audit event per change");
    service.delete_document::<PlanningAdjustment>(&admin, stored.id).await.unwrap();
    let back = service.planning(&admin, &request(billing, Depth::Staffing)).await.unwrap();
    assert_eq!(back.intervals.iter().map(|i| i.required).collect::<Vec<_>>(), {
        plan.intervals.iter().map(|i| i.required).collect::<Vec<_>>()
    });

    // Bad input is refused naming the field.
    let backwards = PlanningAdjustment { to: format!("{day}T07:00"), ..adjustment };
    let refused = service.put_document(&admin, None, backwards).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "to"), "{refused:?}");
    let refused = service.planning(&admin, &PlanningRequest { weeks: 9, ..request(billing, Depth::Forecast) }).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "weeks"), "{refused:?}");
    let nowhere = service.planning(&admin, &request(switchboard_core::ids::QueueId(999_999), Depth::Forecast)).await;
    assert!(matches!(nowhere, Err(ServiceError::NotFound(_))), "{nowhere:?}");
    // A new workspace has no history to forecast from, and says so.
    let (fresh, queue) = support::workspace(&service, &["api"]).await;
    let refused = service.planning(&fresh, &request(queue, Depth::Forecast)).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "history"), "{refused:?}");
}

async fn replays_yesterday(url: String) {
    let service = support::service(&url).await;
    let admin = demo::ensure(&service, None).await.unwrap().admin;
    let queues = service.store().queues(admin.workspace).await.unwrap();
    let billing = queues.iter().find(|q| q.name == "Billing").unwrap().id;
    let zone = service.time_zone(admin.workspace).await.unwrap();
    let yesterday = chrono::Utc::now().with_timezone(&zone).date_naive() - chrono::Duration::days(1);
    let ask = |agents: Vec<StaffingChange>| WhatIfRequest {
        day: yesterday,
        agents,
        moves: vec![],
        routing: vec![],
        seeds: 3,
    };

    let more = service
        .what_if(&admin, &ask(vec![StaffingChange { queue: billing, change: AgentChange::Add(2) }]))
        .await
        .unwrap();
    assert!(more.contacts > 50, "{} contacts", more.contacts);
    let q = more.queues.iter().find(|q| q.queue == billing).unwrap();
    assert_eq!(q.agents_what_if, q.agents + 2, "{q:?}");
    // Every contact queued that day is replayed.
    assert_eq!(q.replayed.offered, q.actual.offered, "{q:?}");
    assert_eq!(q.replayed.handled + q.replayed.abandoned, q.replayed.offered, "{q:?}");
    // More agents: no worse.
    assert!(q.what_if.service_level.unwrap() >= q.replayed.service_level.unwrap() - 1e-9, "{q:?}");
    assert!(q.what_if.abandoned <= q.replayed.abandoned, "{q:?}");
    // The replay as staffed comes near what happened.
    let gap = (q.replayed.service_level.unwrap() - q.actual.service_level.unwrap()).abs();
    assert!(gap < 0.3, "replayed {q:?}");

    // Nobody left on Billing: its contacts wait and give up.
    let none = service
        .what_if(&admin, &ask(vec![StaffingChange { queue: billing, change: AgentChange::Exactly(0) }]))
        .await
        .unwrap();
    let q = none.queues.iter().find(|q| q.queue == billing).unwrap();
    assert_eq!(q.agents_what_if, 0);
    assert!(q.what_if.handled < q.replayed.handled, "{q:?}");

    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let refused = service.what_if(&admin, &WhatIfRequest { day: today, seeds: 1, ..ask(vec![]) }).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "day"), "{refused:?}");
    let refused = service.what_if(&admin, &WhatIfRequest { seeds: 0, ..ask(vec![]) }).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "seeds"), "{refused:?}");

    // What if Bob also served Support, and Billing routed to anyone?
    let support = queues.iter().find(|q| q.name == "Support").unwrap().id;
    let users = service.store().users(admin.workspace).await.unwrap();
    let bob = users.iter().find(|u| u.email == "bob@demo.example").unwrap().id;
    let policies = service.store().policies(admin.workspace).await.unwrap();
    let anyone = policies.iter().find(|p| p.name == "Anyone").unwrap().id;
    let moved = WhatIfRequest {
        moves: vec![AgentMove { agent: bob, join: vec![support], leave: vec![], skills: Default::default() }],
        routing: vec![RoutingChange {
            queue: billing,
            policy: Some(anyone),
            ordering: Some(OrderingKind::MostSkilled),
        }],
        ..ask(vec![])
    };
    let result = service.what_if(&admin, &moved).await.unwrap();
    let q = result.queues.iter().find(|q| q.queue == support).unwrap();
    assert_eq!(q.agents_what_if, q.agents + 1, "Bob joins Support: {q:?}");
    assert_eq!(q.what_if.offered, q.replayed.offered);
    let b = result.queues.iter().find(|q| q.queue == billing).unwrap();
    assert_eq!(b.agents_what_if, b.agents, "{b:?}");
    // Bob leaves Billing and Español: nobody left on Español.
    let espanol = queues.iter().find(|q| q.name == "Español").unwrap().id;
    let away = WhatIfRequest {
        moves: vec![AgentMove { agent: bob, join: vec![], leave: vec![billing, espanol], skills: Default::default() }],
        ..ask(vec![])
    };
    let result = service.what_if(&admin, &away).await.unwrap();
    let e = result.queues.iter().find(|q| q.queue == espanol).unwrap();
    assert_eq!(e.agents_what_if, 0, "{e:?}");
    assert!(e.what_if.handled < e.replayed.handled || e.replayed.handled == 0.0, "{e:?}");
    // Unknown skills, policies and agents are refused.
    let skill = AgentMove {
        agent: bob,
        join: vec![],
        leave: vec![],
        skills: [("klingon".to_string(), Proficiency::Level(5))].into(),
    };
    let refused = service.what_if(&admin, &WhatIfRequest { moves: vec![skill], ..ask(vec![]) }).await;
    assert!(matches!(&refused, Err(ServiceError::NotFound(m)) if m.contains("klingon")), "{refused:?}");
    let route = RoutingChange { queue: billing, policy: Some(PolicyId(999_999)), ordering: None };
    let refused = service.what_if(&admin, &WhatIfRequest { routing: vec![route], ..ask(vec![]) }).await;
    assert!(matches!(refused, Err(ServiceError::NotFound(_))), "{refused:?}");
    let nobody = AgentMove { agent: UserId(999_999), join: vec![support], leave: vec![], skills: Default::default() };
    let refused = service.what_if(&admin, &WhatIfRequest { moves: vec![nobody], ..ask(vec![]) }).await;
    assert!(matches!(refused, Err(ServiceError::NotFound(_))), "{refused:?}");

    // Agents may do neither.
    let alice = service.store().user_by_email("alice@demo.example").await.unwrap().unwrap();
    let agent = Principal { workspace: admin.workspace, user: alice.id, role: Role::Agent };
    let refused = service.what_if(&agent, &ask(vec![])).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let refused = service.planning(&agent, &request(billing, Depth::Forecast)).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
}

/// Every queue of the demo staffed together on the simulator, each for its
/// own target: Billing's is raised to 90 % in its settings.
async fn staffs_every_queue_together(url: String) {
    let service = support::service(&url).await;
    let admin = demo::ensure(&service, None).await.unwrap().admin;
    let queues = service.store().queues(admin.workspace).await.unwrap();
    let billing = queues.iter().find(|q| q.name == "Billing").unwrap();
    let mut settings = billing.settings.clone();
    settings["sl_target_percent"] = serde_json::json!(90);
    let settings = serde_json::from_value(settings).unwrap();
    service.put_queue(&admin, Some(billing.id), &billing.name, settings).await.unwrap();
    // The Planning page's Erlang staffing defaults to the queue's own target too.
    let own = PlanningRequest { sl_target: None, ..request(billing.id, Depth::Staffing) };
    assert_eq!(service.planning(&admin, &own).await.unwrap().sl_target, 0.9);

    let ask = SimulatedRequest {
        day: None,
        interval_minutes: 60,
        seeds: 4,
        sl_target: None,
        shrinkage: 0.3,
        // Not timed: the search runs to its end.
        budget: Duration::from_secs(600),
    };
    let staffed: SimulatedStaffing = service.simulated_staffing(&admin, &ask).await.unwrap();
    assert!(staffed.complete, "{} tries", staffed.evaluations);
    assert!(staffed.problems.is_empty(), "{:?}", staffed.problems);
    // Alice (Billing + Support), Bob (Billing + Español) and Carol (Support)
    // are each configured differently: three groups of one.
    let mut groups: Vec<(&str, Vec<String>)> =
        staffed.groups.iter().map(|g| (g.name.as_str(), g.agents.clone())).collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            ("Billing + Español", vec!["Bob".to_string()]),
            ("Billing + Support", vec!["Alice".to_string()]),
            ("Support", vec!["Carol".to_string()])
        ]
    );
    assert!((23..=25).contains(&staffed.intervals.len()), "a day of hours: {}", staffed.intervals.len());
    let target = |name: &str| staffed.queues.iter().find(|q| q.name == name).unwrap();
    assert_eq!(target("Billing").sl_target, 0.9);
    assert_eq!(target("Support").sl_target, 0.8);
    assert!(target("Billing").channels.len() >= 2, "voice and chat: {:?}", target("Billing").channels);
    for q in &staffed.queues {
        assert!(q.offered.iter().sum::<f64>() > 5.0, "{}: {:?}", q.name, q.offered);
        assert!(q.met, "{} misses {}: {:?}", q.name, q.sl_target, q.service_level);
        assert!(q.service_level_total.unwrap() >= q.sl_target, "{}: {:?}", q.name, q.service_level_total);
    }
    // Agents are on duty where contacts are forecast, with shrinkage on top.
    assert!(staffed.agent_hours > 0.0 && staffed.paid_hours >= staffed.agent_hours, "{staffed:?}");
    for g in &staffed.groups {
        for (on, required) in g.on_duty.iter().zip(&g.required) {
            assert!(required >= on);
        }
    }
    // The day asked for is the day staffed; past days and far ones are refused.
    let zone = service.time_zone(admin.workspace).await.unwrap();
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    for (day, field) in [(today - chrono::Duration::days(1), "day"), (today + chrono::Duration::days(30), "day")] {
        let refused = service.simulated_staffing(&admin, &SimulatedRequest { day: Some(day), ..ask.clone() }).await;
        assert!(matches!(&refused, Err(ServiceError::Invalid { field: f, .. }) if f == field), "{refused:?}");
    }
    let refused = service.simulated_staffing(&admin, &SimulatedRequest { seeds: 0, ..ask.clone() }).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { field, .. }) if field == "seeds"), "{refused:?}");
    // A budget too short to finish still answers, and says so.
    let quick = SimulatedRequest { budget: Duration::from_millis(1), day: Some(staffed.day), ..ask.clone() };
    let stopped = service.simulated_staffing(&admin, &quick).await.unwrap();
    assert!(!stopped.complete && stopped.evaluations >= 1, "{} tries", stopped.evaluations);
    let alice = service.store().user_by_email("alice@demo.example").await.unwrap().unwrap();
    let agent = Principal { workspace: admin.workspace, user: alice.id, role: Role::Agent };
    let refused = service.simulated_staffing(&agent, &ask).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
}

support::on_both!(plans_from_the_demo_history, replays_yesterday, staffs_every_queue_together);
