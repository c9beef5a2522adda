//! Property test: on random workloads, the indexed engine makes exactly the
//! decisions of the brute-force reference (same events, same errors, in the
//! same order), and after every operation no available agent is left
//! eligible for a waiting contact.

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use switchboard_core::agent::{AgentConfig, Capacity, Membership, Presence, ReasonCode};
use switchboard_core::channel::{Channel, ChannelSet};
use switchboard_core::contact::ContactSpec;
use switchboard_core::engine::{Engine, IndexedMatcher, Matcher, ReferenceMatcher, Settings};
use switchboard_core::events::{CancelReason, Event, EventKind, TransferTarget};
use switchboard_core::expr::Value;
use switchboard_core::ids::{AgentId, ContactId, PolicyId, QueueId};
use switchboard_core::policy::{StepSpec, compile};
use switchboard_core::queue::{OrderingKind, OverflowAction, QueueConfig, WrapUp};
use switchboard_core::rng::Rng;
use switchboard_core::skills::SkillRegistry;
use switchboard_core::time::Timestamp;

const EXPRESSIONS: &[&str] = &[
    "true",
    "billing >= 5",
    "spanish",
    "billing >= 3 && tech",
    "contact.lang == 'es' && spanish || contact.lang != 'es'",
    "agent.id in contact.preferred_agents",
    "contact.vip == true && billing >= 7 || contact.vip != true",
    "tech || spanish",
    "not spanish",
];
const QUEUES: u64 = 3;
const AGENTS: u64 = 6;

#[derive(Clone, Debug)]
enum Op {
    Enqueue { queue: u8, channel: u8, priority: i8, lang: bool, vip: bool, preferred: Option<u8>, back: u8 },
    Presence { agent: u8, which: u8 },
    Accept { pick: u8 },
    Reject { pick: u8 },
    End { pick: u8 },
    EndWrapUp { pick: u8 },
    Transfer { contact: u8, to_agent: bool, target: u8 },
    Cancel { contact: u8 },
    Callback { contact: u8 },
    Advance { secs: u8 },
    Reskill { agent: u8, skill: u8, level: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u8>(), any::<u8>(), -2i8..3, any::<bool>(), any::<bool>(), proptest::option::of(any::<u8>()), 0u8..3)
            .prop_map(|(queue, channel, priority, lang, vip, preferred, back)| Op::Enqueue { queue, channel, priority, lang, vip, preferred, back }),
        2 => (any::<u8>(), 0u8..4).prop_map(|(agent, which)| Op::Presence { agent, which }),
        3 => any::<u8>().prop_map(|pick| Op::Accept { pick }),
        1 => any::<u8>().prop_map(|pick| Op::Reject { pick }),
        2 => any::<u8>().prop_map(|pick| Op::End { pick }),
        1 => any::<u8>().prop_map(|pick| Op::EndWrapUp { pick }),
        1 => (any::<u8>(), any::<bool>(), any::<u8>()).prop_map(|(contact, to_agent, target)| Op::Transfer { contact, to_agent, target }),
        1 => any::<u8>().prop_map(|contact| Op::Cancel { contact }),
        1 => any::<u8>().prop_map(|contact| Op::Callback { contact }),
        3 => (0u8..45).prop_map(|secs| Op::Advance { secs }),
        1 => (any::<u8>(), 0u8..3, 0u8..11).prop_map(|(agent, skill, level)| Op::Reskill { agent, skill, level }),
    ]
}

/// A random contact center, the same for both engines.
struct Setup {
    skills: SkillRegistry,
    agents: Vec<AgentConfig>,
}

fn build<M: Matcher>(seed: u64) -> (Engine<M>, Setup) {
    let mut rng = Rng::seeded(seed);
    let mut skills = SkillRegistry::new();
    for s in ["billing", "spanish", "tech"] {
        skills.intern(s);
    }
    let settings = Settings { max_missed_offers: 2, seed };
    let mut e: Engine<M> = Engine::new(settings);
    let t0 = Timestamp(0);
    let channels = [
        ChannelSet::of(Channel::ALL),
        ChannelSet::of([Channel::Voice, Channel::Chat]),
        ChannelSet::of([Channel::Chat, Channel::Email]),
    ];
    let orderings = [
        OrderingKind::LongestIdle,
        OrderingKind::MostSkilled,
        OrderingKind::LeastSkilled,
        OrderingKind::LeastOccupied,
        OrderingKind::RoundRobin,
        OrderingKind::Random,
    ];
    for q in 0..QUEUES {
        let n_steps = 1 + rng.below(3);
        let steps: Vec<StepSpec> = (0..n_steps)
            .map(|i| StepSpec {
                expr: EXPRESSIONS[rng.below(EXPRESSIONS.len())].to_string(),
                wait: (i + 1 < n_steps).then(|| Duration::from_secs(5 + rng.below(35) as u64)),
                skip_if_unstaffed: rng.below(2) == 0,
            })
            .collect();
        let policy = compile(PolicyId(q), &steps, &skills).expect("valid policy");
        e.upsert_policy(policy, t0);
        let mut cfg = QueueConfig::new(QueueId(q), format!("q{q}"), channels[q as usize], PolicyId(q));
        cfg.ordering = orderings[rng.below(orderings.len())];
        cfg.sticky = Duration::from_secs([0, 0, 15][rng.below(3)]);
        cfg.wrap_up = match rng.below(4) {
            0 => WrapUp::None,
            1 => WrapUp::UntilEnded,
            _ => WrapUp::Fixed(Duration::from_secs(5 + rng.below(15) as u64)),
        };
        cfg.offer_timeout = Duration::from_secs(10 + rng.below(30) as u64);
        // Zero (off), short and long cooldowns, so that both matchers meet all three.
        cfg.decline_cooldown = Duration::from_secs([0, 5, 20][rng.below(3)]);
        if rng.below(2) == 0 {
            cfg.max_wait = Some(Duration::from_secs(60 + rng.below(140) as u64));
            // Queue 0 serves every channel, so any queue may overflow into it.
            cfg.overflow = match (rng.below(3), q > 0) {
                (0, true) => OverflowAction::Queue(QueueId(0)),
                (1, _) => OverflowAction::Callback,
                _ => OverflowAction::Voicemail,
            };
        }
        if rng.below(3) == 0 {
            cfg.max_length = Some(3 + rng.below(6) as u32);
        }
        e.upsert_queue(cfg, t0).expect("valid queue");
    }
    let mut agents = Vec::new();
    for a in 0..AGENTS {
        let mut cfg = AgentConfig::new(AgentId(a + 1));
        for s in 0..3u16 {
            if rng.below(2) == 0 {
                cfg.skills.set(switchboard_core::ids::SkillId(s), 1 + rng.below(10) as u8);
            }
        }
        cfg.capacity = match rng.below(3) {
            0 => Capacity::default(),
            1 => Capacity::of(&[(Channel::Chat, 2), (Channel::Email, 1)]),
            _ => Capacity::of(&[(Channel::Voice, 1)]),
        };
        for q in 0..QUEUES {
            if rng.below(3) != 0 {
                cfg.memberships.push(Membership {
                    queue: QueueId(q),
                    priority: 1 + rng.below(3) as u8,
                    delay: Duration::from_secs([0, 0, 10][rng.below(3)]),
                });
            }
        }
        e.upsert_agent(cfg.clone(), t0).expect("valid agent");
        agents.push(cfg);
    }
    (e, Setup { skills, agents })
}

/// What the workload driver knows of the engine, learnt from its events.
#[derive(Default)]
struct Tracker {
    offered: BTreeMap<ContactId, AgentId>,
    connected: BTreeMap<ContactId, AgentId>,
    wrap_ups: BTreeSet<(AgentId, ContactId)>,
}

impl Tracker {
    fn observe(&mut self, events: &[Event]) {
        for ev in events {
            match &ev.kind {
                EventKind::OfferCreated { contact, agent, .. } => {
                    self.offered.insert(*contact, *agent);
                }
                EventKind::OfferAccepted { contact, agent, .. } => {
                    self.offered.remove(contact);
                    self.connected.insert(*contact, *agent);
                }
                EventKind::OfferEnded { contact, .. } | EventKind::ContactLeft { contact, .. } => {
                    self.offered.remove(contact);
                }
                EventKind::ContactEnded { contact, agent, .. } => {
                    self.connected.remove(contact);
                    self.wrap_ups.insert((*agent, *contact));
                }
                EventKind::ContactTransferred { contact, .. } => {
                    self.offered.remove(contact);
                    if let Some(agent) = self.connected.remove(contact) {
                        self.wrap_ups.insert((agent, *contact));
                    }
                }
                EventKind::WrapUpEnded { contact, agent } => {
                    self.wrap_ups.remove(&(*agent, *contact));
                }
                _ => {}
            }
        }
    }
}

fn nth<T: Clone>(items: impl IntoIterator<Item = T>, pick: u8) -> Option<T> {
    let v: Vec<T> = items.into_iter().collect();
    (!v.is_empty()).then(|| v[pick as usize % v.len()].clone())
}

/// Applies `op` to an engine and returns the outcome as text (errors included).
fn apply<M: Matcher>(
    e: &mut Engine<M>,
    setup: &mut Setup,
    tr: &Tracker,
    op: &Op,
    now: Timestamp,
    created: &mut u64,
) -> String {
    let contact_id = |pick: u8, created: u64| ContactId(1 + pick as u64 % created.max(1));
    match op {
        Op::Enqueue { queue, channel, priority, lang, vip, preferred, back } => {
            *created += 1;
            let q = *queue as u64 % QUEUES;
            let allowed: Vec<Channel> = [Channel::Voice, Channel::Chat, Channel::Email]
                .into_iter()
                .filter(|c| q == 0 || (q == 1 && *c != Channel::Email) || (q == 2 && *c != Channel::Voice))
                .collect();
            let mut spec =
                ContactSpec::new(ContactId(*created), allowed[*channel as usize % allowed.len()], QueueId(q));
            spec.priority = *priority as i32;
            if *lang {
                spec.attributes.insert("lang", Value::from("es"));
            }
            spec.attributes.insert("vip", Value::Bool(*vip));
            spec.preferred_agents = preferred.map(|p| AgentId(1 + p as u64 % AGENTS)).into_iter().collect();
            if *back > 0 {
                spec.enqueued_at = Some(Timestamp(now.0 - *back as i64 * 7_000));
            }
            format!("{:?}", e.enqueue(spec, now))
        }
        Op::Presence { agent, which } => {
            let presence = match which {
                0 | 1 => Presence::Available,
                2 => Presence::Away(ReasonCode::new("break")),
                _ => Presence::Offline,
            };
            format!("{:?}", e.set_presence(AgentId(1 + *agent as u64 % AGENTS), presence, now))
        }
        Op::Accept { pick } | Op::Reject { pick } => match nth(tr.offered.iter().map(|(c, a)| (*c, *a)), *pick) {
            Some((c, a)) if matches!(op, Op::Accept { .. }) => format!("{:?}", e.accept(c, a, now)),
            Some((c, a)) => format!("{:?}", e.reject(c, a, now)),
            None => "none".into(),
        },
        Op::End { pick } => match nth(tr.connected.keys().copied(), *pick) {
            Some(c) => format!("{:?}", e.end_contact(c, now)),
            None => "none".into(),
        },
        Op::EndWrapUp { pick } => match nth(tr.wrap_ups.iter().copied(), *pick) {
            Some((a, c)) => format!("{:?}", e.end_wrap_up(a, c, now)),
            None => "none".into(),
        },
        Op::Transfer { contact, to_agent, target } => {
            let target = if *to_agent {
                TransferTarget::Agent(AgentId(1 + *target as u64 % AGENTS))
            } else {
                TransferTarget::Queue(QueueId(*target as u64 % QUEUES))
            };
            format!("{:?}", e.transfer(contact_id(*contact, *created), target, now))
        }
        Op::Cancel { contact } => {
            format!("{:?}", e.cancel(contact_id(*contact, *created), CancelReason::Abandoned, now))
        }
        Op::Callback { contact } => format!("{:?}", e.request_callback(contact_id(*contact, *created), now)),
        Op::Advance { .. } => format!("{:?}", e.advance(now)),
        Op::Reskill { agent, skill, level } => {
            let cfg = &mut setup.agents[*agent as usize % AGENTS as usize];
            cfg.skills.set(switchboard_core::ids::SkillId(*skill as u16), *level);
            let _ = &setup.skills;
            format!("{:?}", e.upsert_agent(cfg.clone(), now))
        }
    }
}

fn run(seed: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let (mut fast, mut fast_setup) = build::<IndexedMatcher>(seed);
    let (mut slow, mut slow_setup) = build::<ReferenceMatcher>(seed);
    let mut tracker = Tracker::default();
    let (mut created_fast, mut created_slow) = (0, 0);
    let mut now = Timestamp(1_000_000);
    for (i, op) in ops.iter().enumerate() {
        if let Op::Advance { secs } = op {
            now = Timestamp(now.0 + *secs as i64 * 1000);
        }
        let a = apply(&mut fast, &mut fast_setup, &tracker, op, now, &mut created_fast);
        let b = apply(&mut slow, &mut slow_setup, &tracker, op, now, &mut created_slow);
        prop_assert_eq!(&a, &b, "op {} {:?}: outcomes differ", i, op);
        let ea: Vec<Event> = fast.drain_events().collect();
        let eb: Vec<Event> = slow.drain_events().collect();
        prop_assert_eq!(&ea, &eb, "op {} {:?}: decisions differ", i, op);
        let pairs = fast.routable_pairs();
        prop_assert!(
            pairs.is_empty(),
            "op {} {:?}: agents eligible for waiting contacts: {:?} {:?}",
            i,
            op,
            pairs,
            pairs.first().map(|(a, c)| (fast.agent_snapshot(*a), fast.contact_snapshot(*c)))
        );
        tracker.observe(&ea);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn indexed_engine_decides_as_the_reference(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..200)) {
        run(seed, &ops)?;
    }
}
