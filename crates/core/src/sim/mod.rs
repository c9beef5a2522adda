//! The contact-center simulator: a discrete-event simulation that drives the
//! real routing engine with a simulated clock.
//!
//! Customers arrive by a Poisson process whose rate follows the scenario's
//! intraday profile, wait with exponential (or other) patience, and are
//! handled for a sampled time by simulated agents who answer offers after a
//! ring time. Everything routing decides — who gets which contact when,
//! steps, overflow, wrap-up — is the engine's own decision, so the figures
//! say what the production router would do under that load.

pub mod dist;
pub mod scenario;
pub mod staffing;
mod window;

pub use scenario::{Compiled, Replayed, Scenario, ScenarioError};

use crate::agent::{AgentState, Presence};
use crate::contact::ContactSpec;
use crate::engine::{Engine, Settings};
use crate::events::{CancelReason, Event, EventKind};
use crate::ids::{AgentId, ContactId};
use crate::metrics::{Counters, Summary};
use crate::queue::OverflowAction;
use crate::rng::Rng;
use crate::time::Timestamp;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// One row of figures: the metric summary plus the longest line seen.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub summary: Summary,
    pub max_queue_length: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueReport {
    pub name: String,
    pub sl_seconds: f64,
    pub total: Row,
    pub intervals: Vec<Row>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    pub seed: u64,
    pub interval_minutes: u64,
    /// Local start time of each interval, "HH:MM".
    pub intervals: Vec<String>,
    /// Contacts that arrived (including warm-up).
    pub contacts: u64,
    /// Contacts still waiting or in progress when the run ended.
    pub unfinished: u64,
    /// Routing events the engine produced.
    pub engine_events: u64,
    pub queues: Vec<QueueReport>,
    /// All queues together; occupancy over all agents.
    pub total: Row,
    pub total_intervals: Vec<Row>,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Arrival {
        stream: u32,
    },
    /// A contact of `Compiled::replay`.
    Replayed {
        index: u32,
    },
    Abandon {
        contact: u64,
    },
    Accept {
        contact: u64,
        agent: u64,
    },
    End {
        contact: u64,
    },
    ShiftStart {
        agent: u64,
    },
    ShiftEnd {
        agent: u64,
    },
    BreakStart {
        agent: u64,
    },
    BreakEnd {
        agent: u64,
    },
}

/// A step on the agenda. Earlier steps come first, then those planned
/// first (`seq` is unique): the order is total without comparing steps,
/// and the heap's comparisons stay two integers.
#[derive(Clone, Copy, Debug)]
struct Planned {
    at: Timestamp,
    seq: u64,
    step: Step,
}

impl PartialEq for Planned {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Planned {}

impl PartialOrd for Planned {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Planned {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Offered,
    Connected,
    Done,
}

struct SimContact {
    interval: usize,
    counted: bool,
    handle: Duration,
    phase: Phase,
    queue: usize,
    in_line: bool,
    callback: bool,
    accepted_at: Timestamp,
}

struct SimAgent {
    state: AgentState,
    since: Timestamp,
    queues: Vec<usize>,
    answer: Duration,
}

struct Sim<'a> {
    c: &'a Compiled,
    engine: Engine,
    rng: Rng,
    agenda: BinaryHeap<Reverse<Planned>>,
    /// The reporting interval in milliseconds.
    interval_ms: i64,
    agenda_seq: u64,
    contacts: window::Window<SimContact>,
    agents: Vec<SimAgent>,
    live: u64,
    arrivals_pending: usize,
    /// Each stream's last arrival in exact milliseconds: the engine's
    /// clock counts whole milliseconds, but gaps are drawn from the exact
    /// time, or every arrival's fraction of a millisecond would be lost
    /// and traffic run high (0.28 % on a busy center — 11 points of
    /// service level at 99 % occupancy).
    arrival_clock: Vec<f64>,
    engine_events: u64,
    counters: Vec<Vec<Counters>>,
    max_len: Vec<Vec<u32>>,
    waiting: Vec<u32>,
    all_agents: Vec<Counters>,
    scratch: Vec<Event>,
}

/// Runs the scenario; `progress` is told the fraction of simulated time done.
pub fn run(c: &Compiled, progress: &mut dyn FnMut(f64)) -> Result<SimReport, ScenarioError> {
    let mut sim = Sim::new(c)?;
    sim.run(progress)?;
    Ok(sim.report())
}

fn engine_error(e: crate::engine::EngineError) -> ScenarioError {
    ScenarioError::Invalid { field: "scenario".into(), message: e.to_string() }
}

impl<'a> Sim<'a> {
    fn new(c: &'a Compiled) -> Result<Self, ScenarioError> {
        let mut engine: Engine = Engine::new(Settings { seed: c.seed, ..Settings::default() });
        for p in &c.policies {
            engine.upsert_policy(p.clone(), c.start);
        }
        // Two passes: overflow targets may be declared after the queue.
        for q in &c.queues {
            let mut plain = q.clone();
            plain.overflow = OverflowAction::Disconnect;
            plain.after_hours = OverflowAction::Disconnect;
            engine.upsert_queue(plain, c.start).map_err(engine_error)?;
        }
        for q in &c.queues {
            engine.upsert_queue(q.clone(), c.start).map_err(engine_error)?;
        }
        let n_q = c.queues.len();
        let mut sim = Sim {
            c,
            engine,
            rng: Rng::seeded(c.seed),
            agenda: BinaryHeap::new(),
            agenda_seq: 0,
            interval_ms: c.interval.as_millis() as i64,
            contacts: window::Window::new(),
            agents: Vec::new(),
            live: 0,
            arrivals_pending: 0,
            arrival_clock: vec![c.start.0 as f64; c.streams.len()],
            engine_events: 0,
            counters: vec![vec![Counters::default(); c.intervals]; n_q],
            max_len: vec![vec![0; c.intervals]; n_q],
            waiting: vec![0; n_q],
            all_agents: vec![Counters::default(); c.intervals],
            scratch: Vec::new(),
        };
        for a in &c.agents {
            sim.engine.upsert_agent(a.config.clone(), c.start).map_err(engine_error)?;
            let id = a.config.id.0;
            sim.agents.push(SimAgent {
                state: AgentState::Offline,
                since: c.start,
                queues: a.config.memberships.iter().map(|m| m.queue.0 as usize - 1).collect(),
                answer: a.answer,
            });
            let (on, off) = a.shift.unwrap_or((c.start, c.drain_end));
            if off > c.start {
                sim.schedule(on.max(c.start), Step::ShiftStart { agent: id });
                if off < c.drain_end {
                    sim.schedule(off, Step::ShiftEnd { agent: id });
                }
            }
            // Only within the shift: away while logged out would log in.
            for &(from, to) in &a.away {
                let (from, to) = (from.max(on).max(c.start), to.min(off));
                if from < to {
                    sim.schedule(from, Step::BreakStart { agent: id });
                    sim.schedule(to, Step::BreakEnd { agent: id });
                }
            }
        }
        for (index, r) in c.replay.iter().enumerate() {
            sim.schedule(r.at, Step::Replayed { index: index as u32 });
            sim.arrivals_pending += 1;
        }
        for s in 0..c.streams.len() {
            if let Some(t) = sim.next_arrival(s) {
                sim.schedule(t, Step::Arrival { stream: s as u32 });
                sim.arrivals_pending += 1;
            }
        }
        Ok(sim)
    }

    fn schedule(&mut self, at: Timestamp, step: Step) {
        self.agenda_seq += 1;
        self.agenda.push(Reverse(Planned { at, seq: self.agenda_seq, step }));
    }

    fn interval_of(&self, t: Timestamp) -> usize {
        let i = (t.0 - self.c.start.0).max(0) / self.interval_ms;
        (i as usize).min(self.c.intervals - 1)
    }

    /// When interval `i` ends.
    fn interval_end(&self, i: usize) -> Timestamp {
        Timestamp(self.c.start.0 + self.interval_ms * (i as i64 + 1))
    }

    /// Next Poisson arrival after `from` with the rate of each interval;
    /// the exponential's memorylessness lets it restart at each boundary.
    /// The stream's next arrival, on the engine's millisecond clock (the
    /// exact time, rounded down: no bias accumulates from one to the next).
    fn next_arrival(&mut self, s: usize) -> Option<Timestamp> {
        let mut t = self.arrival_clock[s];
        let end = self.c.end.0 as f64;
        while t < end {
            let i = self.interval_of(Timestamp(t as i64));
            let boundary = self.interval_end(i).min(self.c.end).0 as f64;
            let per_sec = self.c.streams[s].counts[i] / self.c.interval.as_secs_f64();
            if per_sec > 0.0 {
                let at = t + dist::exponential(&mut self.rng, 1.0 / per_sec) * 1000.0;
                if at < boundary {
                    self.arrival_clock[s] = at;
                    return Some(Timestamp(at as i64));
                }
            }
            // Memoryless: the next interval's rate starts afresh at its boundary.
            t = boundary;
        }
        self.arrival_clock[s] = t;
        None
    }

    fn run(&mut self, progress: &mut dyn FnMut(f64)) -> Result<(), ScenarioError> {
        let span = (self.c.end.0 - self.c.start.0).max(1) as f64;
        let mut steps = 0u64;
        loop {
            let next_step = self.agenda.peek().map(|e| e.0.at);
            let next_timer = self.engine.next_deadline();
            let t = match (next_step, next_timer) {
                (None, None) => break,
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (Some(a), Some(b)) => a.min(b),
            };
            let finished = t >= self.c.end && self.arrivals_pending == 0 && self.live == 0;
            if finished || t > self.c.drain_end {
                break;
            }
            if next_timer == Some(t) && next_step.is_none_or(|a| a > t) {
                self.engine.advance(t);
            } else {
                let step = self.agenda.pop().expect("peeked").0.step;
                self.step(t, step)?;
            }
            self.absorb_events(t)?;
            self.contacts.trim(|c| c.phase == Phase::Done);
            steps += 1;
            if steps.is_multiple_of(16_384) {
                progress(((t.0 - self.c.start.0) as f64 / span).min(1.0));
            }
        }
        let until = self.c.end;
        for a in 0..self.agents.len() {
            let (state, since) = (self.agents[a].state, self.agents[a].since);
            self.account_agent(a, state, since, until);
        }
        progress(1.0);
        Ok(())
    }

    fn step(&mut self, now: Timestamp, step: Step) -> Result<(), ScenarioError> {
        match step {
            Step::Arrival { stream } => {
                self.arrivals_pending -= 1;
                self.arrive_from(stream as usize, now)?;
                if let Some(t) = self.next_arrival(stream as usize) {
                    self.schedule(t, Step::Arrival { stream });
                    self.arrivals_pending += 1;
                }
            }
            Step::Replayed { index } => {
                self.arrivals_pending -= 1;
                let r = &self.c.replay[index as usize];
                let more = r.more_patience.map(|d| Duration::from_millis((d.sample(&mut self.rng) * 1000.0) as u64));
                let patience = r.patience.map(|p| p + more.unwrap_or_default());
                let spec = ContactSpec::new(ContactId(0), r.channel, r.queue);
                self.arrive(spec, r.handle, patience, now)?;
            }
            Step::Abandon { contact } => {
                // A contact already dropped from the window was finished.
                let waiting = self
                    .contacts
                    .get(contact)
                    .is_some_and(|c| matches!(c.phase, Phase::Waiting | Phase::Offered) && !c.callback);
                if waiting {
                    self.engine.cancel(ContactId(contact), CancelReason::Abandoned, now).map_err(engine_error)?;
                }
            }
            Step::Accept { contact, agent } => {
                if self.contacts.get(contact).is_some_and(|c| c.phase == Phase::Offered) {
                    // The offer may have been withdrawn meanwhile; then there is nothing to accept.
                    let _ = self.engine.accept(ContactId(contact), AgentId(agent), now);
                }
            }
            Step::End { contact } => {
                self.engine.end_contact(ContactId(contact), now).map_err(engine_error)?;
            }
            Step::ShiftStart { agent } => {
                self.engine.set_presence(AgentId(agent), Presence::Available, now).map_err(engine_error)?;
            }
            Step::ShiftEnd { agent } => {
                self.engine.set_presence(AgentId(agent), Presence::Offline, now).map_err(engine_error)?;
            }
            Step::BreakStart { agent } => {
                let away = Presence::Away(crate::agent::ReasonCode("break".into()));
                self.engine.set_presence(AgentId(agent), away, now).map_err(engine_error)?;
            }
            Step::BreakEnd { agent } => {
                self.engine.set_presence(AgentId(agent), Presence::Available, now).map_err(engine_error)?;
            }
        }
        Ok(())
    }

    /// A Poisson arrival of stream `s`, its handle time and patience drawn.
    fn arrive_from(&mut self, s: usize, now: Timestamp) -> Result<(), ScenarioError> {
        let stream = &self.c.streams[s];
        let millis = |secs: f64| Duration::from_millis((secs * 1000.0) as u64);
        let handle = millis(stream.handle_time.sample(&mut self.rng));
        let patience = stream.patience.map(|p| millis(p.sample(&mut self.rng)));
        let mut spec = ContactSpec::new(ContactId(0), stream.channel, stream.queue);
        spec.priority = stream.priority;
        spec.attributes = stream.attributes.clone();
        self.arrive(spec, handle, patience, now)
    }

    /// A customer arrives with `spec` (its id is given here).
    fn arrive(
        &mut self,
        mut spec: ContactSpec,
        handle: Duration,
        patience: Option<Duration>,
        now: Timestamp,
    ) -> Result<(), ScenarioError> {
        let id = self.contacts.push(SimContact {
            interval: self.interval_of(now),
            counted: now >= self.c.warmup_end,
            handle,
            phase: Phase::Waiting,
            queue: spec.queue.0 as usize - 1,
            in_line: false,
            callback: false,
            accepted_at: now,
        });
        self.live += 1;
        if let Some(p) = patience {
            self.schedule(now + p, Step::Abandon { contact: id });
        }
        spec.id = ContactId(id);
        self.engine.enqueue(spec, now).map_err(engine_error)?;
        Ok(())
    }

    /// Learns from the engine's events, until it has nothing more to say.
    fn absorb_events(&mut self, now: Timestamp) -> Result<(), ScenarioError> {
        let mut events = std::mem::take(&mut self.scratch);
        loop {
            self.engine.swap_events(&mut events);
            if events.is_empty() {
                break;
            }
            self.engine_events += events.len() as u64;
            for ev in events.drain(..) {
                self.observe(ev, now)?;
            }
        }
        self.scratch = events;
        Ok(())
    }

    fn observe(&mut self, ev: Event, now: Timestamp) -> Result<(), ScenarioError> {
        let t = ev.at;
        match ev.kind {
            EventKind::ContactQueued { contact, queue, .. } => {
                let q = queue.0 as usize - 1;
                let c = self.contact(contact);
                c.queue = q;
                c.in_line = true;
                c.phase = Phase::Waiting;
                let (counted, iv) = (c.counted, c.interval);
                if counted {
                    self.counters[q][iv].offered += 1;
                }
                self.line_changed(q, 1, t);
            }
            EventKind::OfferCreated { contact, agent, .. } => {
                let c = self.contact(contact);
                c.phase = Phase::Offered;
                c.in_line = false;
                let q = c.queue;
                self.line_changed(q, -1, t);
                let answer = self.agents[agent.0 as usize - 1].answer;
                if answer.is_zero() {
                    // Answered on the spot; the engine's events from it are absorbed next round.
                    self.engine.accept(contact, agent, t).map_err(engine_error)?;
                } else {
                    self.schedule(now.max(t) + answer, Step::Accept { contact: contact.0, agent: agent.0 });
                }
            }
            EventKind::OfferEnded { contact, .. } => {
                let c = self.contact(contact);
                c.phase = Phase::Waiting;
                c.in_line = true;
                let q = c.queue;
                self.line_changed(q, 1, t);
            }
            EventKind::OfferAccepted { contact, waited, .. } => {
                let c = self.contact(contact);
                c.phase = Phase::Connected;
                c.accepted_at = t;
                let (q, iv, counted, handle) = (c.queue, c.interval, c.counted, c.handle);
                if counted {
                    let sl = self.c.queues[q].sl_threshold;
                    self.counters[q][iv].record_handled(waited, sl);
                }
                self.schedule(t + handle, Step::End { contact: contact.0 });
            }
            EventKind::WrapUpEnded { contact, .. } => {
                let c = self.contact(contact);
                let (q, iv, counted) = (c.queue, c.interval, c.counted);
                let handled = t.since(c.accepted_at);
                c.phase = Phase::Done;
                self.live -= 1;
                if counted {
                    self.counters[q][iv].handle_ms += handled.as_millis() as u64;
                }
            }
            EventKind::ContactOverflowed { contact, queue, action, .. } => {
                let q = queue.0 as usize - 1;
                let c = self.contact(contact);
                let (was_in_line, iv, counted) = (c.in_line, c.interval, c.counted);
                c.in_line = false;
                if matches!(action, OverflowAction::Voicemail | OverflowAction::Disconnect) {
                    c.phase = Phase::Done;
                    self.live -= 1;
                }
                if was_in_line && !matches!(action, OverflowAction::Callback) {
                    self.line_changed(q, -1, t);
                } else if was_in_line {
                    self.contact(contact).in_line = true;
                }
                if counted {
                    self.counters[q][iv].overflowed += 1;
                }
            }
            EventKind::CallbackScheduled { contact, .. } => {
                self.contact(contact).callback = true;
            }
            EventKind::ContactLeft { contact, waited, .. } => {
                let c = self.contact(contact);
                let (q, iv, counted, in_line) = (c.queue, c.interval, c.counted, c.in_line);
                c.phase = Phase::Done;
                c.in_line = false;
                self.live -= 1;
                if in_line {
                    self.line_changed(q, -1, t);
                }
                if counted {
                    let sl = self.c.queues[q].sl_threshold;
                    self.counters[q][iv].record_abandoned(waited, sl, self.c.short_abandon);
                }
            }
            EventKind::AgentStateChanged { agent, to, .. } => {
                let a = agent.0 as usize - 1;
                let (from, since) = (self.agents[a].state, self.agents[a].since);
                self.account_agent(a, from, since, t);
                self.agents[a].state = to;
                self.agents[a].since = t;
            }
            // The simulator never withdraws a contact (customers only abandon).
            EventKind::ContactCancelled { .. } => {}
            EventKind::StepChanged { .. } | EventKind::ContactEnded { .. } | EventKind::ContactTransferred { .. } => {}
        }
        Ok(())
    }

    fn contact(&mut self, id: ContactId) -> &mut SimContact {
        // Dropped only once finished, and the engine names no finished contact.
        self.contacts.get_mut(id.0).expect("an event names a contact in play")
    }

    fn line_changed(&mut self, q: usize, delta: i32, t: Timestamp) {
        self.waiting[q] = (self.waiting[q] as i32 + delta).max(0) as u32;
        if t < self.c.end && t >= self.c.warmup_end {
            let iv = self.interval_of(t);
            self.max_len[q][iv] = self.max_len[q][iv].max(self.waiting[q]);
        }
    }

    /// Adds the time `a` spent in `state` between `from` and `to` to the
    /// occupancy counters of each interval (and each queue it serves).
    fn account_agent(&mut self, a: usize, state: AgentState, from: Timestamp, to: Timestamp) {
        let busy = matches!(state, AgentState::OnContact | AgentState::WrapUp);
        if !busy && state != AgentState::Available {
            return;
        }
        let (from, to) = (from.max(self.c.warmup_end), to.min(self.c.end));
        let mut t = from;
        while t < to {
            let iv = self.interval_of(t);
            let boundary = self.interval_end(iv).min(to);
            let ms = (boundary.0 - t.0) as u64;
            let add = |c: &mut Counters| {
                if busy {
                    c.busy_ms += ms;
                } else {
                    c.available_ms += ms;
                }
            };
            add(&mut self.all_agents[iv]);
            for q in &self.agents[a].queues {
                add(&mut self.counters[*q][iv]);
            }
            t = boundary;
        }
    }

    fn report(&self) -> SimReport {
        let c = self.c;
        let labels = (0..c.intervals).map(|i| c.interval_label(i)).collect();
        let row = |counters: &Counters, max_len: u32| Row { summary: counters.summary(), max_queue_length: max_len };
        let mut total = Counters::default();
        let mut total_by_interval = vec![Counters::default(); c.intervals];
        let mut total_max = vec![0u32; c.intervals];
        let queues = (0..c.queues.len())
            .map(|q| {
                let mut sum = Counters::default();
                for (i, iv) in self.counters[q].iter().enumerate() {
                    sum += *iv;
                    let mut queue_only = *iv;
                    queue_only.busy_ms = 0;
                    queue_only.available_ms = 0;
                    total_by_interval[i] += queue_only;
                    total_max[i] += self.max_len[q][i];
                }
                let mut queue_only = sum;
                queue_only.busy_ms = 0;
                queue_only.available_ms = 0;
                total += queue_only;
                QueueReport {
                    name: c.queue_names[q].clone(),
                    sl_seconds: c.queues[q].sl_threshold.as_secs_f64(),
                    total: row(&sum, self.max_len[q].iter().copied().max().unwrap_or(0)),
                    intervals: self.counters[q].iter().zip(&self.max_len[q]).map(|(k, m)| row(k, *m)).collect(),
                }
            })
            .collect();
        // Occupancy of the whole center counts each agent once.
        for (i, agents) in self.all_agents.iter().enumerate() {
            total_by_interval[i].busy_ms = agents.busy_ms;
            total_by_interval[i].available_ms = agents.available_ms;
            total.busy_ms += agents.busy_ms;
            total.available_ms += agents.available_ms;
        }
        SimReport {
            seed: c.seed,
            interval_minutes: c.interval.as_secs() / 60,
            intervals: labels,
            contacts: self.contacts.arrived(),
            unfinished: self.live,
            engine_events: self.engine_events,
            queues,
            total: row(&total, total_max.iter().copied().max().unwrap_or(0)),
            total_intervals: total_by_interval.iter().zip(&total_max).map(|(k, m)| row(k, *m)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One queue, one agent, no random arrivals: what is replayed is all.
    fn one_agent() -> Compiled {
        Scenario::from_toml(
            r#"
            duration_hours = 1
            arrivals = []
            [[queues]]
            name = "support"
            [[agents]]
            queues = ["support"]
            "#,
        )
        .unwrap()
        .compile()
        .unwrap()
    }

    fn replayed(c: &Compiled, at_s: i64, handle_s: u64, patience_s: Option<u64>) -> Replayed {
        Replayed {
            at: Timestamp(c.start.0 + at_s * 1000),
            queue: crate::ids::QueueId(1),
            channel: crate::channel::Channel::Voice,
            handle: Duration::from_secs(handle_s),
            patience: patience_s.map(Duration::from_secs),
            more_patience: None,
        }
    }

    #[test]
    fn replayed_contacts_arrive_and_are_handled_as_given() {
        let mut c = one_agent();
        // Handled at 0, 60 (waited 50) and 120 (waited 100): ASA 50 s; the
        // fourth gives up after 30 s, before the agent is free.
        c.replay = vec![
            replayed(&c, 0, 60, None),
            replayed(&c, 10, 60, None),
            replayed(&c, 20, 60, None),
            replayed(&c, 30, 60, Some(30)),
        ];
        let r = run(&c, &mut |_| {}).unwrap();
        let s = &r.queues[0].total.summary;
        assert_eq!((s.offered, s.handled, s.abandoned), (4, 3, 1));
        assert_eq!(s.asa_seconds, Some(50.0));
        assert_eq!(s.aht_seconds, Some(60.0));
        assert_eq!(r.contacts, 4);
    }

    #[test]
    fn an_agent_away_takes_nothing_until_back() {
        let mut c = one_agent();
        c.replay = vec![replayed(&c, 0, 60, None)];
        c.agents[0].away = vec![(c.start, Timestamp(c.start.0 + 90_000))];
        let r = run(&c, &mut |_| {}).unwrap();
        assert_eq!(r.queues[0].total.summary.asa_seconds, Some(90.0));
    }

    #[test]
    fn memory_follows_the_contacts_in_play_not_the_run() {
        let scenario = Scenario::from_toml(
            r#"
            duration_hours = 100
            [[queues]]
            name = "support"
            [[arrivals]]
            queue = "support"
            per_interval = 100
            handle_time = { distribution = "exponential", mean_seconds = 180 }
            patience = { distribution = "exponential", mean_seconds = 120 }
            [[agents]]
            count = 11
            queues = ["support"]
            "#,
        )
        .unwrap()
        .compile()
        .unwrap();
        let mut sim = Sim::new(&scenario).unwrap();
        sim.run(&mut |_| {}).unwrap();
        let (held, arrived) = (sim.contacts.held(), sim.contacts.arrived());
        assert!(arrived > 19_000, "{arrived}");
        assert!(held < 100, "{held} contacts held at the end of a run of {arrived}");
    }
}
