//! The demo's past: four weeks of generated contacts before today, so the
//! Reports page has something to show on a fresh demo.
//!
//! Each past day is one commit of closed contact records and their events,
//! with the times they would have had: customers arriving through the day
//! (fewer at weekends), waiting for the first free agent of their queue,
//! some giving up, the rest talked to, wrapped up and sometimes rated; a
//! bot in front of part of the Support chats; agents logging in, taking
//! lunch and logging out. The same seed gives the same days. It is a
//! simple serial model (an agent takes one contact at a time; there are no
//! transfers, overflows or callbacks) — enough to look like a contact
//! center, not a simulation of one (the simulator is `switchboard simulate`).

use crate::auth::Principal;
use crate::kinds::Kind;
use crate::reports::intervals::local_day;
use crate::{Ids, Service, ServiceError};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use switchboard_core::agent::{AgentState, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::events::{CancelReason, Event, EventKind};
use switchboard_core::ids::{AgentId, ContactId, CustomerId, EndpointId, QueueId, UserId};
use switchboard_core::rng::Rng;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, ContactRecord, ContactState, CustomerRecord, Identity, IdentityKind, NewEvent};

/// The demo's history: four weeks.
pub const DAYS: i64 = 28;
const CUSTOMERS: usize = 1500;
const SEED: u64 = 20_260_101;
const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;
const FIRST: [&str; 12] =
    ["Ana", "Ben", "Chloe", "David", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kai", "Lena"];
const LAST: [&str; 10] = ["Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka", "Urban", "Varga", "Weber"];

/// A queue of the demo, with its channels and how busy it is (contacts an hour).
struct Line {
    queue: QueueId,
    channels: Vec<(Channel, f64)>,
    per_hour: f64,
    agents: Vec<UserId>,
}

/// What one day's commit is built from.
struct Day<'a> {
    p: &'a Principal,
    ids: &'a Ids,
    rng: &'a mut Rng,
    endpoints: &'a BTreeMap<Channel, EndpointId>,
    changes: Vec<Change>,
    /// Each agent: free from, lunch taken.
    agents: BTreeMap<UserId, (i64, bool)>,
    /// When lunch is due.
    noon: i64,
    /// The demo customers' ids are this plus 1 to `CUSTOMERS`.
    customer_base: u64,
}

impl Day<'_> {
    fn event(&mut self, at: i64, kind: Kind, c: &ContactRecord, agent: Option<UserId>, payload: serde_json::Value) {
        self.changes.push(Change::Append(NewEvent {
            workspace: self.p.workspace,
            at: Timestamp(at),
            kind: kind.as_str().into(),
            contact: Some(c.id),
            agent,
            queue: c.queue,
            customer: c.customer,
            payload,
        }));
    }

    fn engine(&mut self, c: Option<&ContactRecord>, agent: Option<UserId>, kind: EventKind, at: i64) {
        let name = Kind::of_engine(&kind);
        let payload = serde_json::to_value(Event { at: Timestamp(at), kind }).unwrap_or_default();
        self.changes.push(Change::Append(NewEvent {
            workspace: self.p.workspace,
            at: Timestamp(at),
            kind: name.as_str().into(),
            contact: c.map(|c| c.id),
            agent,
            queue: c.and_then(|c| c.queue),
            customer: c.and_then(|c| c.customer),
            payload,
        }));
    }

    fn state(&mut self, agent: UserId, at: i64, from: AgentState, to: AgentState, reason: Option<&str>) {
        let reason = reason.map(|r| ReasonCode(r.into()));
        self.engine(None, Some(agent), EventKind::AgentStateChanged { agent: AgentId(agent.0), from, to, reason }, at);
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.next_f64()
    }

    /// One customer arriving on `line` at `at`.
    fn contact(&mut self, line: &Line, at: i64) {
        let pick = self.rng.next_f64();
        let mut acc = 0.0;
        let channel = line.channels.iter().find(|(_, share)| {
            acc += share;
            pick < acc
        });
        let channel = channel.map_or(Channel::Api, |(c, _)| *c);
        let customer = CustomerId(self.rng.below(CUSTOMERS) as u64 + 1 + self.customer_base);
        let id = ContactId(Ids::next(&self.ids.contact));
        let mut c =
            ContactRecord::inbound(id, self.p.workspace, Some(customer), channel, BTreeMap::new(), Timestamp(at));
        if let Some(endpoint) = self.endpoints.get(&channel).copied() {
            self.event(
                at,
                Kind::ConversationOpened,
                &c.clone(),
                None,
                json!({ "channel": channel, "endpoint": endpoint }),
            );
        }
        let mut at = at;
        // A bot answers part of the chats first, and ends some of them itself.
        if channel == Channel::Chat && self.rng.next_f64() < 0.4 {
            at += (self.uniform(30.0, 120.0) * 1000.0) as i64;
            if self.rng.next_f64() < 0.45 {
                c.state = ContactState::Contained;
                c.ended_at = Some(Timestamp(at));
                self.event(at, Kind::BotContained, &c.clone(), None, json!({}));
                self.changes.push(Change::PutContact(c));
                return;
            }
            c.queue = Some(line.queue);
            self.event(at, Kind::BotHandoff, &c.clone(), None, json!({ "reason": "flow", "attributes": {} }));
        }
        c.queue = Some(line.queue);
        c.enqueued_at = Some(Timestamp(at));
        let queue = line.queue;
        self.engine(Some(&c.clone()), None, EventKind::ContactQueued { contact: id, queue, channel, position: 1 }, at);
        // The first free agent of the queue takes it, after lunch if it is due.
        let Some((agent, (free, had_lunch))) =
            line.agents.iter().filter_map(|a| self.agents.get(a).map(|s| (*a, *s))).min_by_key(|(a, (f, _))| (*f, *a))
        else {
            return;
        };
        let noon = self.noon;
        let mut free = free.max(at);
        let lunched = had_lunch || free >= noon;
        if lunched && !had_lunch {
            self.state(agent, free, AgentState::Available, AgentState::Away, Some("lunch"));
            self.state(agent, free + 30 * MINUTE, AgentState::Away, AgentState::Available, None);
            free += 30 * MINUTE;
        }
        // Seconds a customer waits at most; nobody gives up on an email.
        let patience = if channel == Channel::Email { 86_400 } else { self.uniform(20.0, 300.0) as i64 };
        let wait = free - at;
        if wait > patience * 1000 {
            let waited = Duration::from_millis(patience as u64 * 1000);
            let left = at + patience * 1000;
            self.engine(
                Some(&c.clone()),
                None,
                EventKind::ContactLeft { contact: id, queue, reason: CancelReason::Abandoned, waited },
                left,
            );
            c.state = ContactState::Abandoned;
            c.ended_at = Some(Timestamp(left));
            self.agents.insert(agent, (free, lunched));
            self.changes.push(Change::PutContact(c));
            return;
        }
        let a = AgentId(agent.0);
        let waited = Duration::from_millis(wait as u64);
        c.agent = Some(agent);
        self.engine(
            Some(&c.clone()),
            Some(agent),
            EventKind::OfferCreated { contact: id, queue, agent: a, expires_at: Timestamp(free + 30_000) },
            free,
        );
        self.engine(
            Some(&c.clone()),
            Some(agent),
            EventKind::OfferAccepted { contact: id, queue, agent: a, waited },
            free,
        );
        self.state(agent, free, AgentState::Available, AgentState::OnContact, None);
        let talk = (match channel {
            Channel::Voice => self.uniform(150.0, 480.0),
            Channel::Email => self.uniform(90.0, 300.0),
            _ => self.uniform(240.0, 720.0),
        } * 1000.0) as i64;
        let ended = free + talk;
        self.engine(Some(&c.clone()), Some(agent), EventKind::ContactEnded { contact: id, queue, agent: a }, ended);
        self.state(agent, ended, AgentState::OnContact, AgentState::WrapUp, None);
        let done = ended + (self.uniform(15.0, 90.0) * 1000.0) as i64;
        self.engine(Some(&c.clone()), Some(agent), EventKind::WrapUpEnded { contact: id, agent: a }, done);
        self.state(agent, done, AgentState::WrapUp, AgentState::Available, None);
        if channel != Channel::Api && self.rng.next_f64() < 0.3 {
            let score = [1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5][self.rng.below(11)];
            self.event(done + MINUTE, Kind::Csat, &c.clone(), Some(agent), json!({ "score": score, "comment": null }));
        }
        c.state = ContactState::Completed;
        c.disposition = Some(if self.rng.next_f64() < 0.8 { "resolved" } else { "follow_up" }.into());
        c.ended_at = Some(Timestamp(ended));
        c.updated_at = Timestamp(done);
        self.agents.insert(agent, (done, lunched));
        self.changes.push(Change::PutContact(c));
    }
}

/// Writes the `days` days before today, one commit each (the demo's workspace is new).
pub async fn seed(service: &Service, p: &Principal, days: i64) -> Result<(), ServiceError> {
    let ws = p.workspace;
    let zone = service.time_zone(ws).await?;
    let store = service.store();
    let agents = store.agents(ws).await?;
    let lines: Vec<Line> = store
        .queues(ws)
        .await?
        .into_iter()
        .map(|q| {
            let (per_hour, channels) = match q.name.as_str() {
                "Billing" => (6.0, vec![(Channel::Voice, 0.6), (Channel::Chat, 0.3)]),
                "Support" => (8.0, vec![(Channel::Chat, 0.5), (Channel::Email, 0.4)]),
                _ => (2.0, vec![(Channel::Voice, 0.6), (Channel::Chat, 0.35)]),
            };
            let members = agents.iter().filter(|a| a.memberships.iter().any(|m| m.queue == q.id)).map(|a| a.user);
            Line { queue: q.id, channels, per_hour, agents: members.collect() }
        })
        .collect();
    let mut endpoints = BTreeMap::new();
    for e in store.endpoints(ws).await? {
        endpoints.entry(e.channel).or_insert(e.id);
    }
    let mut rng = Rng::seeded(SEED);
    // The customers, with an email address each.
    let customer_base = service.ids().customer.load(std::sync::atomic::Ordering::Relaxed);
    let (today, _) = local_day(zone, service.now().0);
    let first_day = local_day(zone, today - days * 24 * HOUR + 12 * HOUR).0;
    let mut changes = Vec::with_capacity(2 * CUSTOMERS);
    for _ in 0..CUSTOMERS {
        let id = CustomerId(Ids::next(&service.ids().customer));
        let name = format!("{} {}", FIRST[rng.below(FIRST.len())], LAST[rng.below(LAST.len())]);
        let email = format!("customer{}@example.com", id.0 - customer_base);
        let created_at = Timestamp(first_day);
        changes.push(Change::PutCustomer(CustomerRecord {
            id,
            workspace: ws,
            name,
            attributes: BTreeMap::new(),
            tags: vec![],
            merged_into: None,
            created_at,
        }));
        changes.push(Change::PutIdentity(Identity {
            workspace: ws,
            customer: id,
            kind: IdentityKind::Email,
            value: email,
        }));
    }
    store.commit(changes).await?;
    let mut start = first_day;
    while start < today {
        let (_, end) = local_day(zone, start + 12 * HOUR);
        let hour = |h: i64| start + h * HOUR;
        // Weekends are quieter; the day peaks mid-morning and mid-afternoon.
        let weekday = chrono::TimeZone::timestamp_millis_opt(&zone, start + 12 * HOUR)
            .single()
            .map_or(0, |t| chrono::Datelike::weekday(&t).num_days_from_monday());
        let busy = [1.0, 1.0, 0.95, 0.9, 0.85, 0.4, 0.25][weekday as usize];
        let mut day = Day {
            p,
            ids: service.ids(),
            rng: &mut rng,
            endpoints: &endpoints,
            changes: Vec::new(),
            agents: BTreeMap::new(),
            noon: hour(12),
            customer_base,
        };
        for a in &agents {
            let login = hour(8) - (day.uniform(0.0, 10.0) * MINUTE as f64) as i64;
            day.state(a.user, login, AgentState::Offline, AgentState::Available, None);
            day.agents.insert(a.user, (login, false));
        }
        let mut arrivals: Vec<(i64, usize)> = Vec::new();
        for h in 8..18 {
            let shape = [0.6, 1.2, 1.4, 1.1, 0.8, 0.9, 1.3, 1.2, 0.9, 0.6][(h - 8) as usize];
            for (i, line) in lines.iter().enumerate() {
                let n = (line.per_hour * shape * busy * day.uniform(0.7, 1.3)).round() as usize;
                for _ in 0..n {
                    arrivals.push((hour(h) + (day.uniform(0.0, 1.0) * HOUR as f64) as i64, i));
                }
            }
        }
        arrivals.sort_unstable();
        for (at, i) in arrivals {
            day.contact(&lines[i], at);
        }
        let agents_at_end: Vec<(UserId, i64)> = day.agents.iter().map(|(a, (free, _))| (*a, *free)).collect();
        for (agent, free) in agents_at_end {
            day.state(agent, free.max(hour(18)), AgentState::Available, AgentState::Offline, None);
        }
        let mut changes = day.changes;
        // The log in time order; records after the events that made them.
        changes.sort_by_key(|c| match c {
            Change::Append(e) => (0, e.at.0),
            _ => (1, 0),
        });
        store.commit(changes).await?;
        start = end;
    }
    Ok(())
}
