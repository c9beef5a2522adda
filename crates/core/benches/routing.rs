//! Routing decisions per second and decision latency: 10,000 agents, 50
//! skills, 50 queues over voice, chat and email, 5,000 contacts waiting,
//! indexed engine against the brute-force reference in the same run.
//!
//! One cycle is two decisions in steady state: an agent finishes a contact
//! and is routed the best waiting contact for it (agent-side decision), and
//! a new contact arrives and is routed or queued (contact-side decision).
//! Offers are accepted at once, so every cycle also pays the bookkeeping.
//!
//! `cargo bench -p switchboard-core --bench routing`

use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use switchboard_core::agent::{AgentConfig, Capacity, Membership, Presence};
use switchboard_core::channel::{Channel, ChannelSet};
use switchboard_core::contact::ContactSpec;
use switchboard_core::engine::{Engine, IndexedMatcher, Matcher, ReferenceMatcher, Settings};
use switchboard_core::events::EventKind;
use switchboard_core::ids::{AgentId, ContactId, PolicyId, QueueId};
use switchboard_core::policy::{StepSpec, compile};
use switchboard_core::queue::QueueConfig;
use switchboard_core::rng::Rng;
use switchboard_core::skills::SkillRegistry;
use switchboard_core::time::Timestamp;

const AGENTS: u64 = 10_000;
const SKILLS: usize = 50;
const QUEUES: u64 = 50;
const WAITING: usize = 5_000;

fn channel_of(q: u64) -> Channel {
    [Channel::Voice, Channel::Chat, Channel::Email][q as usize % 3]
}

struct Center<M: Matcher> {
    engine: Engine<M>,
    rng: Rng,
    connected: Vec<ContactId>,
    next_contact: u64,
    now: Timestamp,
}

impl<M: Matcher> Center<M> {
    fn build(seed: u64) -> Self {
        let mut rng = Rng::seeded(seed);
        let mut skills = SkillRegistry::new();
        for s in 0..SKILLS {
            skills.intern(&format!("s{s}"));
        }
        let mut engine: Engine<M> = Engine::new(Settings { seed, ..Settings::default() });
        let t0 = Timestamp(0);
        // Each queue reads two skills; its members hold the first (so the
        // relaxed step always finds someone) and often the second.
        let queue_skills: Vec<(usize, usize)> = (0..QUEUES).map(|_| (rng.below(SKILLS), rng.below(SKILLS))).collect();
        for (q, (a, b)) in queue_skills.iter().enumerate() {
            let q = q as u64;
            let steps = [
                StepSpec {
                    expr: format!("s{a} >= 5 && s{b} >= 3"),
                    wait: Some(Duration::from_secs(20)),
                    skip_if_unstaffed: false,
                },
                StepSpec { expr: format!("s{a} >= 1"), wait: None, skip_if_unstaffed: false },
            ];
            engine.upsert_policy(compile(PolicyId(q), &steps, &skills).unwrap(), t0);
            let cfg = QueueConfig::new(QueueId(q), format!("q{q}"), ChannelSet::of([channel_of(q)]), PolicyId(q));
            engine.upsert_queue(cfg, t0).unwrap();
        }
        for a in 1..=AGENTS {
            let mut cfg = AgentConfig::new(AgentId(a));
            // Voice agents serve voice queues, text agents chat and email queues.
            let (capacity, queue_mod): (Capacity, &[u64]) = match rng.below(5) {
                0 | 1 => (Capacity::of(&[(Channel::Voice, 1)]), &[0]),
                2 | 3 => (Capacity::of(&[(Channel::Chat, 3), (Channel::Email, 2)]), &[1, 2]),
                _ => (Capacity::default(), &[0, 1, 2]),
            };
            cfg.capacity = capacity;
            for _ in 0..3 {
                let q = loop {
                    let q = rng.below(QUEUES as usize) as u64;
                    if queue_mod.contains(&(q % 3)) {
                        break q;
                    }
                };
                if cfg.memberships.iter().any(|m| m.queue == QueueId(q)) {
                    continue;
                }
                cfg.memberships.push(Membership::new(QueueId(q)));
                let (sa, sb) = queue_skills[q as usize];
                cfg.skills.set(switchboard_core::ids::SkillId(sa as u16), 1 + rng.below(10) as u8);
                if rng.below(2) == 0 {
                    cfg.skills.set(switchboard_core::ids::SkillId(sb as u16), 1 + rng.below(10) as u8);
                }
            }
            cfg.skills.set(switchboard_core::ids::SkillId(rng.below(SKILLS) as u16), 1 + rng.below(10) as u8);
            engine.upsert_agent(cfg, t0).unwrap();
            engine.set_presence(AgentId(a), Presence::Available, t0).unwrap();
        }
        let mut center = Center { engine, rng, connected: Vec::new(), next_contact: 0, now: t0 };
        // Fill every agent's capacity, then leave WAITING contacts in line.
        let mut waiting = 0;
        while waiting < WAITING {
            if !center.arrive() {
                waiting += 1;
            }
        }
        center
    }

    /// A new contact; true if it was offered (and accepted) at once.
    fn arrive(&mut self) -> bool {
        self.next_contact += 1;
        let q = self.rng.below(QUEUES as usize) as u64;
        let mut spec = ContactSpec::new(ContactId(self.next_contact), channel_of(q), QueueId(q));
        spec.priority = (self.rng.below(10) == 0) as i32;
        self.engine.enqueue(spec, self.now).unwrap();
        self.accept_offers() > 0
    }

    fn accept_offers(&mut self) -> usize {
        let offers: Vec<_> = self
            .engine
            .drain_events()
            .filter_map(|e| match e.kind {
                EventKind::OfferCreated { contact, agent, .. } => Some((contact, agent)),
                _ => None,
            })
            .collect();
        for (contact, agent) in &offers {
            self.engine.accept(*contact, *agent, self.now).unwrap();
            self.connected.push(*contact);
        }
        self.engine.drain_events().for_each(drop);
        offers.len()
    }

    /// An agent finishes a contact and is routed the next one.
    fn finish_one(&mut self) {
        let i = self.rng.below(self.connected.len());
        let contact = self.connected.swap_remove(i);
        self.engine.end_contact(contact, self.now).unwrap();
        self.accept_offers();
    }

    fn cycle(&mut self) {
        self.now = Timestamp(self.now.0 + 1);
        self.finish_one();
        self.arrive();
    }
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing");
    group.throughput(Throughput::Elements(2));
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    // Built on first use, so that a filtered run builds only what it measures.
    let mut fast = None;
    group.bench_function("indexed", |b| {
        let center = fast.get_or_insert_with(|| Center::<IndexedMatcher>::build(1));
        b.iter(|| black_box(&mut *center).cycle())
    });
    let mut slow = None;
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("reference", |b| {
        let center = slow.get_or_insert_with(|| Center::<ReferenceMatcher>::build(1));
        b.iter(|| black_box(&mut *center).cycle())
    });
    group.finish();
}

/// Percentiles of single operations, which criterion's means do not show.
fn latency<M: Matcher>(name: &str, cycles: usize) {
    let mut center = Center::<M>::build(2);
    let mut samples = Vec::with_capacity(cycles * 2);
    for _ in 0..cycles {
        center.now = Timestamp(center.now.0 + 1);
        let t = Instant::now();
        center.finish_one();
        samples.push(t.elapsed());
        let t = Instant::now();
        center.arrive();
        samples.push(t.elapsed());
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    let total: Duration = samples.iter().sum();
    println!(
        "latency/{name}: {} decisions, mean {:?}, p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}, {:.0} decisions/s",
        samples.len(),
        total / samples.len() as u32,
        pct(0.5),
        pct(0.99),
        pct(0.999),
        samples[samples.len() - 1],
        samples.len() as f64 / total.as_secs_f64()
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    latency::<IndexedMatcher>("indexed", 200_000);
    latency::<ReferenceMatcher>("reference", 2_000);
    c.final_summary();
}
