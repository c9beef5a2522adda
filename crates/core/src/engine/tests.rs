//! Scenario tests of the engine's semantics, one behaviour each.

use super::*;
use crate::agent::{Capacity, Membership};
use crate::calendar::Calendar;
use crate::channel::ChannelSet;
use crate::policy::{StepSpec, compile};
use crate::queue::OrderingKind;
use crate::skills::SkillRegistry;

fn t(secs: i64) -> Timestamp {
    Timestamp(secs * 1000)
}

struct Cc {
    e: Engine,
    skills: SkillRegistry,
    next_policy: u64,
}

impl Cc {
    fn new() -> Self {
        let mut skills = SkillRegistry::new();
        for s in ["billing", "spanish", "tech"] {
            skills.intern(s);
        }
        Cc { e: Engine::new(Settings::default()), skills, next_policy: 0 }
    }

    fn policy(&mut self, steps: &[(&str, Option<u64>, bool)]) -> PolicyId {
        self.next_policy += 1;
        let id = PolicyId(self.next_policy);
        let specs: Vec<StepSpec> = steps
            .iter()
            .map(|(e, w, skip)| StepSpec {
                expr: e.to_string(),
                wait: w.map(Duration::from_secs),
                skip_if_unstaffed: *skip,
            })
            .collect();
        self.e.upsert_policy(compile(id, &specs, &self.skills).unwrap(), t(0));
        id
    }

    fn queue(&mut self, id: u64, f: impl FnOnce(&mut QueueConfig)) -> QueueId {
        let policy = self.policy(&[("true", None, false)]);
        self.queue_with(id, policy, f)
    }

    fn queue_with(&mut self, id: u64, policy: PolicyId, f: impl FnOnce(&mut QueueConfig)) -> QueueId {
        let mut q = QueueConfig::new(QueueId(id), format!("q{id}"), ChannelSet::of(Channel::ALL), policy);
        f(&mut q);
        self.e.upsert_queue(q, t(0)).unwrap();
        QueueId(id)
    }

    fn agent(&mut self, id: u64, queues: &[u64], skills: &[(&str, u8)], at: i64) -> AgentId {
        let mut cfg = AgentConfig::new(AgentId(id));
        cfg.memberships = queues.iter().map(|q| Membership::new(QueueId(*q))).collect();
        for (s, l) in skills {
            cfg.skills.set(self.skills.get(s).unwrap(), *l);
        }
        self.e.upsert_agent(cfg, t(at)).unwrap();
        self.e.set_presence(AgentId(id), Presence::Available, t(at)).unwrap();
        AgentId(id)
    }

    fn contact(&mut self, id: u64, queue: u64, at: i64) -> Enqueued {
        self.contact_on(id, queue, Channel::Voice, 0, at)
    }

    fn contact_on(&mut self, id: u64, queue: u64, channel: Channel, priority: i32, at: i64) -> Enqueued {
        let mut spec = ContactSpec::new(ContactId(id), channel, QueueId(queue));
        spec.priority = priority;
        self.e.enqueue(spec, t(at)).unwrap()
    }

    fn offers(&mut self) -> Vec<(u64, u64)> {
        self.e
            .drain_events()
            .filter_map(|ev| match ev.kind {
                EventKind::OfferCreated { contact, agent, .. } => Some((contact.0, agent.0)),
                _ => None,
            })
            .collect()
    }

    fn state(&self, a: u64) -> AgentState {
        self.e.agent_snapshot(AgentId(a)).unwrap().state
    }

    /// Accept and finish the contact offered to `agent` at `at`.
    fn handle(&mut self, contact: u64, agent: u64, at: i64) {
        self.e.accept(ContactId(contact), AgentId(agent), t(at)).unwrap();
        self.e.end_contact(ContactId(contact), t(at)).unwrap();
    }
}

#[test]
fn one_global_order_across_queues() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.queue(2, |_| {});
    cc.contact(10, 1, 0);
    cc.contact(11, 2, 5);
    cc.contact_on(12, 2, Channel::Voice, 5, 6);
    cc.offers();
    cc.agent(100, &[1, 2], &[], 10);
    assert_eq!(cc.offers(), vec![(12, 100)], "higher priority first, whatever its queue");
    cc.handle(12, 100, 11);
    assert_eq!(cc.offers(), vec![(10, 100)], "then longest waiting, across queues");
    cc.handle(10, 100, 12);
    assert_eq!(cc.offers(), vec![(11, 100)]);
    assert!(cc.e.routable_pairs().is_empty());
}

#[test]
fn longest_idle_agent_gets_the_contact() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.agent(101, &[1], &[], 2);
    cc.agent(100, &[1], &[], 5);
    cc.offers();
    cc.contact(10, 1, 10);
    assert_eq!(cc.offers(), vec![(10, 101)]);
}

#[test]
fn rejected_contact_keeps_its_place_and_goes_to_the_next_agent() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 1);
    cc.contact(11, 1, 2);
    assert_eq!(cc.offers(), vec![(10, 100)]);
    cc.e.reject(ContactId(10), AgentId(100), t(3)).unwrap();
    // 100 is not offered 10 again during the cooldown, so it gets 11...
    assert_eq!(cc.offers(), vec![(11, 100)]);
    cc.agent(101, &[1], &[], 4);
    // ...and 10, still first in line, goes to the next agent.
    assert_eq!(cc.offers(), vec![(10, 101)]);
    assert_eq!(cc.e.contact_snapshot(ContactId(10)).unwrap().enqueued_at, t(1));
}

#[test]
fn decline_cooldown_expires() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 1);
    cc.e.reject(ContactId(10), AgentId(100), t(2)).unwrap();
    cc.offers();
    cc.e.advance(t(31));
    assert!(cc.offers().is_empty());
    cc.e.advance(t(32));
    assert_eq!(cc.offers(), vec![(10, 100)], "offered again after 30 s");
}

#[test]
fn decline_cooldown_is_a_queue_setting_and_zero_turns_it_off() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.decline_cooldown = Duration::from_secs(5));
    cc.queue(2, |q| q.decline_cooldown = Duration::ZERO);
    cc.agent(100, &[1, 2], &[], 0);
    cc.contact(10, 1, 1);
    assert_eq!(cc.offers(), vec![(10, 100)]);
    cc.e.reject(ContactId(10), AgentId(100), t(2)).unwrap();
    assert!(cc.offers().is_empty());
    // The agent sees what it is waiting for, and until when.
    assert_eq!(cc.e.cooldowns(AgentId(100), t(3)).unwrap(), vec![(ContactId(10), t(7))]);
    cc.e.advance(t(7));
    assert_eq!(cc.offers(), vec![(10, 100)], "offered again after the queue's 5 s");
    assert!(cc.e.cooldowns(AgentId(100), t(7)).unwrap().is_empty());
    // With no cooldown a rejected contact comes straight back to its only agent.
    cc.e.accept(ContactId(10), AgentId(100), t(8)).unwrap();
    cc.contact(20, 2, 9);
    cc.e.end_contact(ContactId(10), t(9)).unwrap();
    assert_eq!(cc.offers(), vec![(20, 100)]);
    cc.e.reject(ContactId(20), AgentId(100), t(10)).unwrap();
    assert_eq!(cc.offers(), vec![(20, 100)]);
    assert!(cc.e.cooldowns(AgentId(100), t(10)).unwrap().is_empty());
}

#[test]
fn missed_offers_set_the_agent_away_and_nobody_stays_reserved() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.offer_timeout = Duration::from_secs(10));
    cc.agent(100, &[1], &[], 0);
    for i in 0..3 {
        cc.contact(10 + i, 1, 0);
    }
    // Three offers time out in a row (each contact once; the agent is then away).
    cc.e.advance(t(10));
    cc.e.advance(t(20));
    cc.e.advance(t(30));
    let snap = cc.e.agent_snapshot(AgentId(100)).unwrap();
    assert_eq!(snap.presence, Presence::Away(ReasonCode::new("missed")));
    assert!(snap.contacts.is_empty(), "no offer left reserved");
    let events: Vec<_> = cc.e.drain_events().collect();
    let timeouts =
        events.iter().filter(|e| matches!(e.kind, EventKind::OfferEnded { reason: OfferEnd::TimedOut, .. })).count();
    assert_eq!(timeouts, 3);
    assert_eq!(cc.e.queue_snapshot(QueueId(1)).unwrap().waiting, 3);
}

#[test]
fn going_away_revokes_offers() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 1);
    cc.offers();
    cc.e.set_presence(AgentId(100), Presence::Away(ReasonCode::new("lunch")), t(2)).unwrap();
    assert_eq!(cc.e.contact_snapshot(ContactId(10)).unwrap().status, "queued");
    assert_eq!(cc.state(100), AgentState::Away);
    cc.agent(101, &[1], &[], 3);
    assert_eq!(cc.offers(), vec![(10, 101)]);
}

#[test]
fn wrap_up_blocks_then_frees() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.wrap_up = WrapUp::Fixed(Duration::from_secs(15)));
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 0);
    cc.contact(11, 1, 0);
    cc.offers();
    cc.handle(10, 100, 5);
    assert_eq!(cc.state(100), AgentState::WrapUp);
    cc.e.advance(t(19));
    assert!(cc.offers().is_empty());
    cc.e.advance(t(20));
    assert_eq!(cc.offers(), vec![(11, 100)]);
}

#[test]
fn wrap_up_until_ended_and_agent_override() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.wrap_up = WrapUp::UntilEnded);
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 0);
    cc.contact(11, 1, 0);
    cc.handle(10, 100, 5);
    cc.e.advance(t(500));
    assert_eq!(cc.state(100), AgentState::WrapUp);
    cc.offers();
    cc.e.end_wrap_up(AgentId(100), ContactId(10), t(501)).unwrap();
    assert_eq!(cc.offers(), vec![(11, 100)]);
    let err = cc.e.end_wrap_up(AgentId(100), ContactId(10), t(502)).unwrap_err();
    assert!(matches!(err, EngineError::NotInWrapUp { .. }));
}

#[test]
fn steps_relax_while_the_contact_waits() {
    let mut cc = Cc::new();
    let p = cc.policy(&[("billing >= 8", Some(30), false), ("billing >= 3", None, false)]);
    cc.queue_with(1, p, |_| {});
    cc.agent(100, &[1], &[("billing", 5)], 0);
    cc.contact(10, 1, 0);
    cc.e.advance(t(29));
    assert!(cc.offers().is_empty());
    cc.e.advance(t(30));
    assert_eq!(cc.offers(), vec![(10, 100)]);
}

#[test]
fn a_contact_leaving_when_its_step_relaxes_is_not_offered() {
    let mut cc = Cc::new();
    let p = cc.policy(&[("billing >= 8", Some(30), false), ("billing >= 3", None, false)]);
    cc.queue_with(1, p, |_| {});
    cc.agent(100, &[1], &[("billing", 5)], 0);
    cc.contact(10, 1, 0);
    cc.contact(11, 1, 0);
    cc.offers();
    // Contact 10's patience ends on the millisecond its step relaxes: it
    // leaves first, so the agent is offered contact 11 instead.
    cc.e.cancel(ContactId(10), CancelReason::Abandoned, t(30)).unwrap();
    let events: Vec<EventKind> = cc.e.drain_events().map(|ev| ev.kind).collect();
    assert!(matches!(events[0], EventKind::ContactLeft { contact: ContactId(10), .. }), "{events:?}");
    let offered: Vec<u64> = events
        .iter()
        .filter_map(|k| match k {
            EventKind::OfferCreated { contact, .. } => Some(contact.0),
            _ => None,
        })
        .collect();
    assert_eq!(offered, vec![11]);
    assert!(cc.e.contact_snapshot(ContactId(10)).is_err());
}

#[test]
fn unstaffed_steps_are_skipped() {
    let mut cc = Cc::new();
    let p = cc.policy(&[("spanish", Some(60), true), ("true", None, false)]);
    cc.queue_with(1, p, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.offers();
    cc.contact(10, 1, 1);
    assert_eq!(cc.offers(), vec![(10, 100)], "no Spanish speaker logged in: step 1 skipped");
    // With a Spanish speaker logged in (busy), the step holds.
    cc.agent(101, &[1], &[("spanish", 1)], 2);
    cc.e.set_presence(AgentId(101), Presence::Away(ReasonCode::new("break")), t(2)).unwrap();
    cc.handle(10, 100, 3);
    cc.offers();
    cc.contact(11, 1, 4);
    assert!(cc.offers().is_empty());
    assert_eq!(cc.e.contact_snapshot(ContactId(11)).unwrap().step, 0);
}

#[test]
fn sticky_routing_prefers_the_last_agent_for_a_while() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.sticky = Duration::from_secs(20));
    cc.agent(100, &[1], &[], 0);
    cc.agent(101, &[1], &[], 5);
    cc.e.set_presence(AgentId(101), Presence::Away(ReasonCode::new("busy")), t(6)).unwrap();
    cc.offers();
    let mut spec = ContactSpec::new(ContactId(10), Channel::Voice, QueueId(1));
    spec.preferred_agents = vec![AgentId(101)];
    cc.e.enqueue(spec, t(10)).unwrap();
    assert!(cc.offers().is_empty(), "held for the preferred agent although 100 is idle");
    cc.e.set_presence(AgentId(101), Presence::Available, t(15)).unwrap();
    assert_eq!(cc.offers(), vec![(10, 101)]);
    // Preferred agent not logged in at all: the sticky step is skipped.
    let mut spec = ContactSpec::new(ContactId(11), Channel::Voice, QueueId(1));
    spec.preferred_agents = vec![AgentId(999)];
    cc.e.enqueue(spec, t(16)).unwrap();
    assert_eq!(cc.offers(), vec![(11, 100)]);
}

#[test]
fn sticky_step_expires() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.sticky = Duration::from_secs(20));
    cc.agent(100, &[1], &[], 0);
    cc.agent(101, &[1], &[], 0);
    cc.e.set_presence(AgentId(101), Presence::Away(ReasonCode::new("busy")), t(1)).unwrap();
    cc.offers();
    let mut spec = ContactSpec::new(ContactId(10), Channel::Voice, QueueId(1));
    spec.preferred_agents = vec![AgentId(101)];
    cc.e.enqueue(spec, t(10)).unwrap();
    cc.e.advance(t(30));
    assert_eq!(cc.offers(), vec![(10, 100)]);
}

#[test]
fn transfers_to_queue_and_to_agent() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.wrap_up = WrapUp::Fixed(Duration::from_secs(10)));
    cc.queue(2, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.agent(101, &[2], &[], 0);
    cc.agent(102, &[2], &[], 0);
    cc.contact(10, 1, 1);
    cc.e.accept(ContactId(10), AgentId(100), t(2)).unwrap();
    cc.offers();
    cc.e.transfer(ContactId(10), TransferTarget::Queue(QueueId(2)), t(3)).unwrap();
    assert_eq!(cc.offers(), vec![(10, 101)]);
    assert_eq!(cc.state(100), AgentState::WrapUp, "the transferring agent wraps up their part");
    cc.e.accept(ContactId(10), AgentId(101), t(4)).unwrap();
    cc.e.transfer(ContactId(10), TransferTarget::Agent(AgentId(100)), t(5)).unwrap();
    cc.offers();
    cc.e.advance(t(13));
    assert_eq!(cc.offers(), vec![(10, 100)], "offered to the named agent once free, not to idle 102");
    // The named agent says no: the queue takes over.
    cc.e.reject(ContactId(10), AgentId(100), t(14)).unwrap();
    assert_eq!(cc.offers(), vec![(10, 102)]);
}

#[test]
fn abandon_while_offered_frees_the_agent() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 1);
    cc.contact(11, 1, 2);
    cc.offers();
    cc.e.cancel(ContactId(10), CancelReason::Abandoned, t(3)).unwrap();
    assert_eq!(cc.offers(), vec![(11, 100)]);
    assert!(cc.e.contact_snapshot(ContactId(10)).is_err());
}

#[test]
fn a_withdrawn_contact_is_cancelled_not_abandoned() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.contact(10, 1, 1);
    cc.e.drain_events().for_each(drop);
    cc.e.cancel(ContactId(10), CancelReason::Cancelled, t(4)).unwrap();
    let kinds: Vec<EventKind> = cc.e.drain_events().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::ContactCancelled { contact: ContactId(10), queue: QueueId(1), waited: Duration::from_secs(3) }]
    );
}

#[test]
fn callbacks_keep_their_place() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.contact(10, 1, 10);
    cc.contact(11, 1, 20);
    cc.e.request_callback(ContactId(10), t(25)).unwrap();
    // The callback comes back later with its original enqueue time.
    let mut spec = ContactSpec::new(ContactId(12), Channel::Voice, QueueId(1));
    spec.enqueued_at = Some(t(5));
    cc.e.enqueue(spec, t(30)).unwrap();
    assert_eq!(cc.e.position(ContactId(12)), Some(1));
    assert_eq!(cc.e.position(ContactId(10)), Some(2));
    assert_eq!(cc.e.queue_snapshot(QueueId(1)).unwrap().callbacks, 1);
}

#[test]
fn closed_queues_apply_after_hours_action() {
    let mut cc = Cc::new();
    cc.queue(2, |_| {});
    let mut closed = Calendar::always_open();
    closed.weekly = Default::default();
    cc.queue(1, |q| {
        q.calendar = Some(closed);
        q.after_hours = OverflowAction::Queue(QueueId(2));
    });
    let r = cc.contact(10, 1, 0);
    assert_eq!(r, Enqueued::Overflowed { reason: OverflowReason::Closed, action: OverflowAction::Queue(QueueId(2)) });
    assert_eq!(cc.e.contact_snapshot(ContactId(10)).unwrap().queue, QueueId(2));
    assert!(!cc.e.is_open(QueueId(1), t(0)).unwrap());
}

#[test]
fn a_voicemail_waits_as_a_callback_even_when_the_queue_is_closed() {
    let mut cc = Cc::new();
    let mut closed = Calendar::always_open();
    closed.weekly = Default::default();
    cc.queue(1, |q| {
        q.calendar = Some(closed);
        q.max_wait = Some(Duration::from_secs(5));
    });
    let r = cc.contact(10, 1, 0);
    assert_eq!(r, Enqueued::Overflowed { reason: OverflowReason::Closed, action: OverflowAction::Voicemail });
    assert!(cc.e.contact_snapshot(ContactId(10)).is_err(), "left for voicemail");
    cc.e.drain_events().for_each(drop);
    // The caller left a message: it waits in line, past the maximum wait, for an agent.
    cc.e.enqueue_callback(ContactSpec::new(ContactId(10), Channel::Voice, QueueId(1)), t(10)).unwrap();
    let kinds: Vec<_> = cc.e.drain_events().map(|e| e.kind).collect();
    assert!(matches!(kinds[..], [EventKind::ContactQueued { .. }, EventKind::CallbackScheduled { .. }]), "{kinds:?}");
    cc.e.advance(t(100));
    assert!(cc.e.contact_snapshot(ContactId(10)).unwrap().callback);
    cc.agent(100, &[1], &[], 101);
    assert_eq!(cc.offers(), vec![(10, 100)]);
    let again = cc.e.enqueue_callback(ContactSpec::new(ContactId(10), Channel::Voice, QueueId(1)), t(102));
    assert_eq!(again, Err(EngineError::DuplicateContact(ContactId(10))));
}

#[test]
fn a_waiting_caller_leaves_for_voicemail() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.contact(10, 1, 0);
    cc.e.drain_events().for_each(drop);
    cc.e.leave_for_voicemail(ContactId(10), t(3)).unwrap();
    let kinds: Vec<_> = cc.e.drain_events().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::ContactOverflowed {
            contact: ContactId(10),
            queue: QueueId(1),
            reason: OverflowReason::Caller,
            action: OverflowAction::Voicemail
        }]
    );
    cc.agent(100, &[1], &[], 4);
    assert!(cc.offers().is_empty(), "no agent is offered a caller who is leaving a message");
    assert_eq!(cc.e.leave_for_voicemail(ContactId(10), t(5)), Err(EngineError::UnknownContact(ContactId(10))));
    cc.contact(11, 1, 6);
    assert_eq!(cc.e.leave_for_voicemail(ContactId(11), t(7)), Err(EngineError::NotQueued(ContactId(11))), "offered");
}

#[test]
fn max_length_and_max_wait_overflow() {
    let mut cc = Cc::new();
    cc.queue(2, |_| {});
    cc.queue(1, |q| {
        q.max_length = Some(1);
        q.max_wait = Some(Duration::from_secs(60));
        q.overflow = OverflowAction::Queue(QueueId(2));
    });
    cc.contact(10, 1, 0);
    let r = cc.contact(11, 1, 1);
    assert!(matches!(r, Enqueued::Overflowed { reason: OverflowReason::MaxLength, .. }));
    cc.e.advance(t(60));
    let snap = cc.e.contact_snapshot(ContactId(10)).unwrap();
    assert_eq!((snap.queue, snap.enqueued_at), (QueueId(2), t(0)), "keeps its original enqueue time");
    assert_eq!(cc.e.position(ContactId(10)), Some(1));
    cc.queue(3, |q| {
        q.max_wait = Some(Duration::from_secs(5));
        q.overflow = OverflowAction::Voicemail;
    });
    cc.contact(12, 3, 100);
    cc.e.advance(t(105));
    assert!(cc.e.contact_snapshot(ContactId(12)).is_err(), "left for voicemail");
}

#[test]
fn position_and_estimated_wait() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.expected_handle_time = Duration::from_secs(120));
    cc.agent(100, &[1], &[], 0);
    cc.agent(101, &[1], &[], 0);
    for i in 0..6 {
        cc.contact(10 + i, 1, 1 + i as i64);
    }
    // Two offered at once, four waiting.
    assert_eq!(cc.e.position(ContactId(12)), Some(1));
    assert_eq!(cc.e.position(ContactId(15)), Some(4));
    let ewt = cc.e.estimated_wait(ContactId(15)).unwrap();
    assert_eq!(ewt, Duration::from_secs(4 * 120 / 2));
    let r = cc.contact(16, 1, 10);
    assert_eq!(r, Enqueued::Waiting { position: 5, estimated_wait: Duration::from_secs(300) });
}

#[test]
fn routing_profile_priority_and_delay() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.queue(2, |_| {});
    let mut cfg = AgentConfig::new(AgentId(100));
    cfg.memberships = vec![
        Membership { queue: QueueId(1), priority: 2, delay: Duration::ZERO },
        Membership { queue: QueueId(2), priority: 1, delay: Duration::from_secs(20) },
    ];
    cc.e.upsert_agent(cfg, t(0)).unwrap();
    for c in [11, 12, 13] {
        cc.contact(c, 1, 0);
    }
    cc.contact(10, 2, 1);
    cc.e.set_presence(AgentId(100), Presence::Available, t(5)).unwrap();
    assert_eq!(cc.offers(), vec![(11, 100)], "queue 2 is preferred, but its contact has not waited 20 s");
    cc.handle(11, 100, 6);
    assert_eq!(cc.offers(), vec![(12, 100)]);
    cc.e.accept(ContactId(12), AgentId(100), t(6)).unwrap();
    cc.e.advance(t(21));
    cc.e.end_contact(ContactId(12), t(30)).unwrap();
    assert_eq!(cc.offers(), vec![(10, 100)], "queue priority beats the older contact of queue 1");
}

#[test]
fn multitasking_chats_up_to_capacity() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    let mut cfg = AgentConfig::new(AgentId(100));
    cfg.memberships = vec![Membership::new(QueueId(1))];
    cfg.capacity = Capacity::of(&[(Channel::Chat, 3), (Channel::Voice, 1)]);
    cc.e.upsert_agent(cfg, t(0)).unwrap();
    for i in 0..4 {
        cc.contact_on(10 + i, 1, Channel::Chat, 0, 0);
    }
    cc.contact_on(20, 1, Channel::Voice, 9, 0);
    cc.e.set_presence(AgentId(100), Presence::Available, t(1)).unwrap();
    assert_eq!(cc.offers(), vec![(20, 100)], "the urgent call first; it blocks chats");
    cc.handle(20, 100, 2);
    assert_eq!(cc.offers(), vec![(10, 100), (11, 100), (12, 100)]);
    cc.e.accept(ContactId(10), AgentId(100), t(3)).unwrap();
    assert_eq!(cc.state(100), AgentState::OnContact);
}

#[test]
fn orderings() {
    for (kind, expect) in [
        (OrderingKind::MostSkilled, 101),
        (OrderingKind::LeastSkilled, 100),
        (OrderingKind::LongestIdle, 100),
        (OrderingKind::RoundRobin, 100),
    ] {
        let mut cc = Cc::new();
        let p = cc.policy(&[("billing > 0", None, false)]);
        cc.queue_with(1, p, |q| q.ordering = kind);
        cc.agent(100, &[1], &[("billing", 2)], 0);
        cc.agent(101, &[1], &[("billing", 9)], 1);
        cc.offers();
        cc.contact(10, 1, 2);
        assert_eq!(cc.offers(), vec![(10, expect)], "{kind:?}");
    }
    // Round robin moves on to the agent offered least recently.
    let mut cc = Cc::new();
    cc.queue(1, |q| q.ordering = OrderingKind::RoundRobin);
    let mut cap = AgentConfig::new(AgentId(100));
    cap.memberships = vec![Membership::new(QueueId(1))];
    cap.capacity = Capacity::of(&[(Channel::Chat, 5)]);
    let mut other = cap.clone();
    other.id = AgentId(101);
    cc.e.upsert_agent(cap, t(0)).unwrap();
    cc.e.upsert_agent(other, t(0)).unwrap();
    cc.e.set_presence(AgentId(100), Presence::Available, t(0)).unwrap();
    cc.e.set_presence(AgentId(101), Presence::Available, t(0)).unwrap();
    for i in 0..4 {
        cc.contact_on(10 + i, 1, Channel::Chat, 0, 1);
    }
    assert_eq!(cc.offers(), vec![(10, 100), (11, 101), (12, 100), (13, 101)]);
}

#[test]
fn random_ordering_is_seeded() {
    let run = || {
        let mut cc = Cc::new();
        cc.queue(1, |q| q.ordering = OrderingKind::Random);
        for a in 0..10 {
            cc.agent(100 + a, &[1], &[], 0);
        }
        cc.offers();
        (0..10).map(|i| cc.contact(10 + i, 1, 1)).collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first, run());
    assert_ne!(first[0], Enqueued::Offered { agent: AgentId(100) }, "not simply the first agent (seeded draw)");
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.channels = ChannelSet::of([Channel::Chat]));
    assert_eq!(
        cc.e.enqueue(ContactSpec::new(ContactId(1), Channel::Voice, QueueId(1)), t(0)),
        Err(EngineError::ChannelNotServed { queue: QueueId(1), channel: Channel::Voice })
    );
    assert_eq!(
        cc.e.enqueue(ContactSpec::new(ContactId(1), Channel::Chat, QueueId(9)), t(0)),
        Err(EngineError::UnknownQueue(QueueId(9)))
    );
    cc.contact_on(1, 1, Channel::Chat, 0, 0);
    assert_eq!(
        cc.e.enqueue(ContactSpec::new(ContactId(1), Channel::Chat, QueueId(1)), t(0)),
        Err(EngineError::DuplicateContact(ContactId(1)))
    );
    assert!(matches!(cc.e.accept(ContactId(1), AgentId(5), t(0)), Err(EngineError::UnknownAgent(_))));
    cc.agent(5, &[], &[], 0);
    assert!(matches!(cc.e.accept(ContactId(1), AgentId(5), t(0)), Err(EngineError::NotOffered { .. })));
    assert!(matches!(cc.e.end_contact(ContactId(1), t(0)), Err(EngineError::NotConnected(_))));
    let mut q = QueueConfig::new(QueueId(7), "x", ChannelSet::of([Channel::Chat]), PolicyId(99));
    assert_eq!(cc.e.upsert_queue(q.clone(), t(0)), Err(EngineError::UnknownPolicy(PolicyId(99))));
    q.policy = PolicyId(1);
    q.overflow = OverflowAction::Queue(QueueId(7));
    assert_eq!(cc.e.upsert_queue(q, t(0)), Err(EngineError::OverflowLoop(QueueId(7))));
}

#[test]
fn agent_states_are_announced() {
    let mut cc = Cc::new();
    cc.queue(1, |q| q.wrap_up = WrapUp::Fixed(Duration::from_secs(5)));
    cc.agent(100, &[1], &[], 0);
    cc.contact(10, 1, 1);
    cc.handle(10, 100, 2);
    cc.e.advance(t(7));
    cc.e.set_presence(AgentId(100), Presence::Away(ReasonCode::new("lunch")), t(8)).unwrap();
    let states: Vec<_> =
        cc.e.drain_events()
            .filter_map(|e| match e.kind {
                EventKind::AgentStateChanged { to, reason, .. } => Some((to, reason.map(|r| r.0))),
                _ => None,
            })
            .collect();
    assert_eq!(
        states,
        vec![
            (AgentState::Available, None),
            (AgentState::OnContact, None),
            (AgentState::WrapUp, None),
            (AgentState::Available, None),
            (AgentState::Away, Some("lunch".into())),
        ]
    );
}

#[test]
fn restored_connections_hold_the_agent() {
    let mut cc = Cc::new();
    cc.queue(1, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.offers();
    let spec = ContactSpec::new(ContactId(10), Channel::Voice, QueueId(1));
    cc.e.restore_connected(spec, AgentId(100), t(0), t(5)).unwrap();
    assert_eq!(cc.state(100), AgentState::OnContact);
    cc.contact(11, 1, 6);
    assert!(cc.offers().is_empty(), "the agent is busy with the restored call");
    cc.e.end_contact(ContactId(10), t(7)).unwrap();
    assert_eq!(cc.offers(), vec![(11, 100)]);
}

#[test]
fn an_updated_contact_keeps_its_place_among_its_new_priority_and_rebinds_its_step() {
    let mut cc = Cc::new();
    let policy = cc.policy(&[("!(contact.lang == \"es\") || spanish", None, false)]);
    cc.queue_with(1, policy, |_| {});
    cc.agent(100, &[1], &[], 0);
    cc.e.set_presence(AgentId(100), Presence::Away(ReasonCode::new("lunch")), t(0)).unwrap();
    for (id, at) in [(1, 1), (2, 2), (3, 3)] {
        cc.contact(id, 1, at);
    }
    cc.e.drain_events().for_each(drop);
    // The last to arrive becomes the most urgent without being queued again.
    cc.e.update_contact(ContactId(3), 5, Attributes::new(), t(4)).unwrap();
    assert!(!cc.e.drain_events().any(|e| matches!(e.kind, EventKind::ContactQueued { .. })));
    cc.e.set_presence(AgentId(100), Presence::Available, t(5)).unwrap();
    assert_eq!(cc.offers(), vec![(3, 100)]);
    // An attribute the step reads now keeps the Spanish-less agent out.
    let spanish: Attributes = [("lang".to_string(), crate::expr::Value::Str("es".into()))].into_iter().collect();
    cc.e.update_contact(ContactId(1), 0, spanish, t(6)).unwrap();
    cc.e.reject(ContactId(3), AgentId(100), t(7)).unwrap();
    let offered = cc.offers();
    assert!(!offered.iter().any(|(c, _)| *c == 1), "{offered:?}");
    assert!(cc.e.routable_pairs().is_empty());
}
