//! Reports against a straightforward recomputation from the contacts an
//! event log was generated from, and agents' time by state.

use super::intervals::Interval;
use super::rollup::Rollup;
use super::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest, Row, Thresholds, read};
use crate::kinds::Kind;
use chrono::TimeZone;
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use switchboard_core::agent::{AgentState, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::events::{CancelReason, Event, EventKind, TransferTarget};
use switchboard_core::ids::{AgentId, ContactId, CustomerId, QueueId, UserId, WorkspaceId};
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;
use switchboard_core::time::Timestamp;
use switchboard_store::LoggedEvent;

const S: i64 = 1000;
const SL: i64 = 20 * S;

#[derive(Clone, Debug)]
enum Outcome {
    Handled { wait: i64, agent: u64, talk: i64, wrap: i64, transferred: bool, rating: Option<u8> },
    Abandoned { wait: i64 },
}

#[derive(Clone, Debug)]
struct Contact {
    customer: u64,
    channel: Channel,
    queue: u64,
    arrive: i64,
    outcome: Outcome,
}

fn contact(start: i64, span: i64) -> impl Strategy<Value = Contact> {
    let handled = (0..120i64, 1..4u64, 1..1200i64, 0..300i64, prop::bool::weighted(0.1), prop::option::of(1..6u8))
        .prop_map(|(w, agent, t, wr, transferred, rating)| Outcome::Handled {
            wait: w * S,
            agent,
            talk: t * S,
            wrap: wr * S,
            transferred,
            rating,
        });
    let abandoned = (0..90i64).prop_map(|w| Outcome::Abandoned { wait: w * S });
    (
        0..8u64,
        prop::sample::select(vec![Channel::Chat, Channel::Email, Channel::Voice]),
        1..3u64,
        0..span,
        prop_oneof![3 => handled, 1 => abandoned],
    )
        .prop_map(move |(customer, channel, queue, at, outcome)| Contact {
            customer,
            channel,
            queue,
            arrive: start + at,
            outcome,
        })
}

/// An event to log: the engine's (no name), or a service kind's name and payload.
type Pending = (EventKind, &'static str, serde_json::Value);

/// The events the service would log for these contacts, in time order.
fn log(contacts: &[Contact]) -> Vec<LoggedEvent> {
    let mut events: Vec<(i64, u64, Option<u64>, Pending)> = Vec::new();
    for (i, c) in contacts.iter().enumerate() {
        let id = i as u64 + 1;
        let (contact, queue) = (ContactId(id), QueueId(c.queue));
        let engine = |kind: EventKind| (kind, "", json!(null));
        let mut push = |at: i64, agent: Option<u64>, pending: Pending| events.push((at, id, agent, pending));
        push(c.arrive, None, engine(EventKind::ContactQueued { contact, queue, channel: c.channel, position: 1 }));
        match c.outcome {
            Outcome::Abandoned { wait } => push(
                c.arrive + wait,
                None,
                engine(EventKind::ContactLeft {
                    contact,
                    queue,
                    reason: CancelReason::Abandoned,
                    waited: Duration::from_millis(wait as u64),
                }),
            ),
            Outcome::Handled { wait, agent, talk, wrap, transferred, rating } => {
                let answered = c.arrive + wait;
                let a = AgentId(agent);
                push(
                    answered,
                    Some(agent),
                    engine(EventKind::OfferAccepted {
                        contact,
                        queue,
                        agent: a,
                        waited: Duration::from_millis(wait as u64),
                    }),
                );
                // A transfer ends the first agent's handling halfway; the
                // contact queues again and another agent takes it a second later.
                let (agent, a, answered) = if transferred {
                    let moved = answered + talk / 2;
                    let target = TransferTarget::Queue(queue);
                    push(moved, None, engine(EventKind::ContactTransferred { contact, from: queue, target }));
                    push(moved + wrap, Some(agent), engine(EventKind::WrapUpEnded { contact, agent: a }));
                    let channel = c.channel;
                    push(moved, None, engine(EventKind::ContactQueued { contact, queue, channel, position: 1 }));
                    let (next, b) = (agent % 3 + 1, AgentId(agent % 3 + 1));
                    let waited = Duration::from_millis(S as u64);
                    push(moved + S, Some(next), engine(EventKind::OfferAccepted { contact, queue, agent: b, waited }));
                    (next, b, moved + S - talk / 2)
                } else {
                    (agent, a, answered)
                };
                push(answered + talk, Some(agent), engine(EventKind::ContactEnded { contact, queue, agent: a }));
                push(answered + talk + wrap, Some(agent), engine(EventKind::WrapUpEnded { contact, agent: a }));
                if let Some(score) = rating {
                    let dummy = EventKind::StepChanged { contact, queue, step: 0 };
                    push(
                        answered + talk + wrap + S,
                        Some(agent),
                        (dummy, Kind::Csat.as_str(), json!({ "score": score })),
                    );
                }
            }
        }
    }
    events.sort_by_key(|e| e.0);
    events
        .into_iter()
        .enumerate()
        .map(|(i, (at, contact, agent, (kind, name, payload)))| {
            let (kind_name, payload) = if name.is_empty() {
                let name = Kind::of_engine(&kind).as_str();
                (name, serde_json::to_value(Event { at: Timestamp(at), kind }).unwrap())
            } else {
                (name, payload)
            };
            LoggedEvent {
                id: i as u64 + 1,
                workspace: WorkspaceId(1),
                at: Timestamp(at),
                kind: kind_name.to_string(),
                contact: Some(ContactId(contact)),
                agent: agent.map(UserId),
                queue: Some(QueueId(contacts[contact as usize - 1].queue)),
                customer: Some(CustomerId(contacts[contact as usize - 1].customer)),
                payload,
            }
        })
        .collect()
}

fn request(from: i64, to: i64, interval: Interval, dimension: Dimension) -> ReportRequest {
    ReportRequest {
        from: Bound::Instant(from),
        to: Bound::Instant(to),
        interval,
        dimension,
        short_abandon: DEFAULT_SHORT_ABANDON,
        fcr_window: DEFAULT_FCR_WINDOW,
    }
}

fn report(events: &[LoggedEvent], r: &ReportRequest, zone: Tz, now: i64) -> Vec<Row> {
    let mut rollup = Rollup::default();
    for e in events {
        rollup.fold(e);
    }
    let (Bound::Instant(from), Bound::Instant(to)) = (r.from, r.to) else { unreachable!() };
    read(&rollup, r, zone, from, to, now, &Thresholds::new(), &HashMap::new())
}

/// The figures of one local day and queue, counted from the contacts.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    offered: u64,
    handled: u64,
    within_sl: u64,
    wait: i64,
    abandoned: u64,
    short: u64,
    handle: i64,
    transferred: u64,
    ratings: Vec<u8>,
    resolved: u64,
    repeated: u64,
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (a, b) => a == b,
    }
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Over the week of Berlin's autumn clock change, by local day and queue.
    #[test]
    fn reports_agree_with_a_recount(contacts in prop::collection::vec(contact(ms("2026-10-22T00:00:00+02:00"), 6 * 86_400 * S), 1..120)) {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let day = |at: i64| berlin.timestamp_millis_opt(at).unwrap().date_naive();
        let mut expected: BTreeMap<(chrono::NaiveDate, u64), Expected> = BTreeMap::new();
        for c in &contacts {
            expected.entry((day(c.arrive), c.queue)).or_default().offered += 1;
            match c.outcome {
                Outcome::Abandoned { wait } => {
                    let e = expected.entry((day(c.arrive + wait), c.queue)).or_default();
                    if wait < 5 * S { e.short += 1 } else { e.abandoned += 1 }
                }
                Outcome::Handled { wait, talk, wrap, transferred, rating, .. } => {
                    let answered = c.arrive + wait;
                    let e = expected.entry((day(answered), c.queue)).or_default();
                    e.handled += 1;
                    e.within_sl += (wait <= SL) as u64;
                    e.wait += wait;
                    // A transferred contact: two handlings, each with its talk and wrap-up.
                    let (answered, talk) = if transferred {
                        let moved = answered + talk / 2;
                        e.handle += talk / 2 + wrap;
                        e.transferred += 1;
                        expected.entry((day(moved), c.queue)).or_default().offered += 1;
                        let e = expected.entry((day(moved + S), c.queue)).or_default();
                        e.handled += 1;
                        e.within_sl += 1;
                        e.wait += S;
                        (moved + S, talk - talk / 2)
                    } else {
                        (answered, talk)
                    };
                    let ended = answered + talk;
                    let e = expected.entry((day(answered), c.queue)).or_default();
                    e.handle += talk + wrap;
                    e.resolved += 1;
                    let window = DEFAULT_FCR_WINDOW.as_millis() as i64;
                    e.repeated += contacts.iter().any(|o| o.customer == c.customer && o.arrive > ended && o.arrive <= ended + window) as u64;
                    if let Some(r) = rating {
                        expected.entry((day(ended + wrap + S), c.queue)).or_default().ratings.push(r);
                    }
                }
            }
        }
        let events = log(&contacts);
        let (from, to) = (ms("2026-10-20T00:00:00+02:00"), ms("2026-11-01T00:00:00+01:00"));
        let rows = report(&events, &request(from, to, Interval::Day, Dimension::Queues), berlin, to);
        let mut seen = 0;
        for row in &rows {
            let local = berlin.timestamp_millis_opt(row.start).unwrap();
            prop_assert_eq!(local.time(), chrono::NaiveTime::MIN, "a day starts at local midnight");
            let e = &expected[&(local.date_naive(), row.id.as_u64().unwrap())];
            seen += 1;
            prop_assert_eq!(row.offered, e.offered);
            prop_assert_eq!(row.handled, e.handled);
            prop_assert_eq!(row.abandoned, e.abandoned);
            prop_assert_eq!(row.short_abandoned, e.short);
            prop_assert_eq!(row.transferred, e.transferred);
            prop_assert!(close(row.service_level, (e.handled > 0).then(|| e.within_sl as f64 / e.handled as f64)));
            prop_assert!(close(row.asa_seconds, (e.handled > 0).then(|| e.wait as f64 / 1000.0 / e.handled as f64)));
            prop_assert!(close(row.aht_seconds, (e.handled > 0).then(|| e.handle as f64 / 1000.0 / e.handled as f64)));
            prop_assert!(close(row.abandonment_rate, (e.offered > 0).then(|| e.abandoned as f64 / e.offered as f64)));
            prop_assert_eq!(row.resolved, e.resolved);
            prop_assert!(close(row.fcr, (e.resolved > 0).then(|| (e.resolved - e.repeated) as f64 / e.resolved as f64)));
            prop_assert_eq!(row.csat_count, e.ratings.len() as u64);
            let n = e.ratings.len() as f64;
            prop_assert!(close(row.csat_mean, (n > 0.0).then(|| e.ratings.iter().map(|r| *r as f64).sum::<f64>() / n)));
            prop_assert!(close(row.csat_top2, (n > 0.0).then(|| e.ratings.iter().filter(|r| **r >= 4).count() as f64 / n)));
        }
        prop_assert_eq!(seen, expected.len(), "every day and queue with something in it has a row");
        // Totals add the queues' counts up.
        let totals = report(&events, &request(from, to, Interval::Week, Dimension::Totals), berlin, to);
        prop_assert_eq!(totals.iter().map(|r| r.offered).sum::<u64>(), expected.values().map(|e| e.offered).sum::<u64>());
        prop_assert_eq!(totals.iter().map(|r| r.handled).sum::<u64>(), rows.iter().map(|r| r.handled).sum::<u64>());
    }
}

#[test]
fn a_repeat_contact_on_another_channel_within_the_window_is_not_first_contact_resolution() {
    let day = 86_400 * S;
    let t0 = ms("2026-06-01T09:00:00Z");
    let handled = |customer, channel, arrive| Contact {
        customer,
        channel,
        queue: 1,
        arrive,
        outcome: Outcome::Handled { wait: S, agent: 1, talk: 60 * S, wrap: 0, transferred: false, rating: None },
    };
    let contacts = [
        // Customer 1 chats, then writes an email three days later: not resolved the first time.
        handled(1, Channel::Chat, t0),
        handled(1, Channel::Email, t0 + 3 * day),
        // Customer 2 calls, and calls again ten days later: resolved (outside 7 days).
        handled(2, Channel::Voice, t0),
        handled(2, Channel::Voice, t0 + 10 * day),
    ];
    let events = log(&contacts);
    let first_day = request(t0 - 9 * 3_600_000, t0 + 15 * 3_600_000, Interval::Day, Dimension::Channels);
    let rows = report(&events, &first_day, Tz::UTC, t0 + 20 * day);
    let fcr: BTreeMap<String, Option<f64>> = rows.iter().map(|r| (r.name.clone(), r.fcr)).collect();
    assert_eq!(fcr, BTreeMap::from([("chat".into(), Some(0.0)), ("voice".into(), Some(1.0))]));
    // With a 14-day window the second call is a repeat too.
    let wider = ReportRequest { fcr_window: Duration::from_secs(14 * 86_400), ..first_day };
    let rows = report(&events, &wider, Tz::UTC, t0 + 20 * day);
    assert!(rows.iter().all(|r| r.fcr == Some(0.0)), "{rows:?}");
}

/// A call held twice: 20 s resumed, then 10 s still held when it ends.
/// AHT is talk + hold + wrap-up, and hold is apart from talk.
#[test]
fn hold_is_told_apart_from_talk() {
    let t0 = ms("2026-06-01T09:00:00Z");
    let call = Contact {
        customer: 1,
        channel: Channel::Voice,
        queue: 1,
        arrive: t0,
        outcome: Outcome::Handled { wait: S, agent: 1, talk: 120 * S, wrap: 10 * S, transferred: false, rating: None },
    };
    let mut events = log(&[call]);
    let answered = t0 + S;
    for (after, kind) in [(60, Kind::ContactHeld), (80, Kind::ContactResumed), (110, Kind::ContactHeld)] {
        let mut e = events[0].clone();
        e.at = Timestamp(answered + after * S);
        e.kind = kind.as_str().into();
        e.agent = Some(UserId(1));
        e.payload = json!({ "by": "desktop", "channel": "voice" });
        events.push(e);
    }
    events.sort_by_key(|e| e.at);
    for (i, e) in events.iter_mut().enumerate() {
        e.id = i as u64 + 1;
    }
    let day = request(t0 - 9 * 3_600_000, t0 + 15 * 3_600_000, Interval::Day, Dimension::Channels);
    let rows = report(&events, &day, Tz::UTC, t0 + 86_400 * S);
    let [row] = rows.as_slice() else { panic!("{rows:?}") };
    assert_eq!((row.talk_seconds, row.hold_seconds, row.wrap_seconds), (Some(90.0), Some(30.0), Some(10.0)));
    assert_eq!(row.aht_seconds, Some(130.0));
}

#[test]
fn half_hours_on_the_day_the_clocks_go_back() {
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let (from, to) = (ms("2026-10-25T00:00:00+02:00"), ms("2026-10-26T00:00:00+01:00"));
    // One contact abandoned quickly at the start of every quarter hour of the day: 100 of them.
    let contacts: Vec<Contact> = (0..100)
        .map(|i| Contact {
            customer: 1,
            channel: Channel::Chat,
            queue: 1,
            arrive: from + i * 15 * 60 * S,
            outcome: Outcome::Abandoned { wait: S },
        })
        .collect();
    let rows = report(&log(&contacts), &request(from, to, Interval::Minutes30, Dimension::Totals), berlin, to);
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r.offered == 2 && r.short_abandoned == 2 && r.abandoned == 0));
    let labels: Vec<&str> = rows[4..7].iter().map(|r| r.start_local.as_str()).collect();
    assert_eq!(labels, ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00"]);
    // A short-abandon threshold of zero counts every one as abandoned.
    let strict = ReportRequest { short_abandon: Duration::ZERO, ..request(from, to, Interval::Day, Dimension::Totals) };
    let day = report(&log(&contacts), &strict, berlin, to);
    assert_eq!((day.len(), day[0].abandoned, day[0].short_abandoned), (1, 100, 0));
}

fn state_change(id: u64, at: &str, from: AgentState, to: AgentState, reason: Option<&str>) -> LoggedEvent {
    let kind =
        EventKind::AgentStateChanged { agent: AgentId(7), from, to, reason: reason.map(|r| ReasonCode(r.into())) };
    LoggedEvent {
        id,
        workspace: WorkspaceId(1),
        at: Timestamp(ms(at)),
        kind: Kind::AgentStateChanged.as_str().into(),
        contact: None,
        agent: Some(UserId(7)),
        queue: None,
        customer: None,
        payload: serde_json::to_value(Event { at: Timestamp(ms(at)), kind }).unwrap(),
    }
}

#[test]
fn agents_time_by_state_and_reason_gives_occupancy_and_utilisation() {
    use AgentState::*;
    let events = [
        state_change(1, "2026-06-01T09:00:00Z", Offline, Available, None),
        state_change(2, "2026-06-01T09:10:00Z", Available, OnContact, None),
        state_change(3, "2026-06-01T09:40:00Z", OnContact, WrapUp, None),
        state_change(4, "2026-06-01T09:50:00Z", WrapUp, Away, Some("lunch")),
        state_change(5, "2026-06-01T10:20:00Z", Away, Available, None),
    ];
    // Still available at "now", 10:30: counted up to then.
    let (from, to) = (ms("2026-06-01T00:00:00Z"), ms("2026-06-02T00:00:00Z"));
    let rows = report(
        &events,
        &request(from, to, Interval::Minutes60, Dimension::Agents),
        Tz::UTC,
        ms("2026-06-01T10:30:00Z"),
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let nine = &rows[0];
    assert_eq!(nine.logins, Some(1));
    let states = nine.state_seconds.clone().unwrap();
    assert_eq!(
        states,
        BTreeMap::from([
            ("available".into(), 600.0),
            ("on_contact".into(), 1800.0),
            ("wrap_up".into(), 600.0),
            ("away:lunch".into(), 600.0)
        ])
    );
    assert!(close(nine.occupancy, Some(2400.0 / 3000.0)));
    assert!(close(nine.utilisation, Some(2400.0 / 3600.0)));
    let ten = &rows[1];
    assert_eq!(
        ten.state_seconds.clone().unwrap(),
        BTreeMap::from([("away:lunch".into(), 1200.0), ("available".into(), 600.0)])
    );
    assert!(close(ten.occupancy, Some(0.0)));
    // Queues have no agent activity.
    let by_queue = report(&events, &request(from, to, Interval::Day, Dimension::Queues), Tz::UTC, to);
    assert!(by_queue.iter().all(|r| r.occupancy.is_none() && r.state_seconds.is_none()));
}
