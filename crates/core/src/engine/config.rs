//! Configuration: policies, queues and agents, and what changes when they do.

use super::*;
use crate::attributes::Attributes;

impl<M: Matcher> Engine<M> {
    pub fn upsert_policy(&mut self, policy: Policy, now: Timestamp) {
        let now = self.advance(now);
        let id = policy.id;
        self.w.policies.insert(id, policy);
        let affected: Vec<QIdx> =
            (0..self.w.queues.len() as u32).map(QIdx).filter(|q| self.w.queue(*q).config.policy == id).collect();
        for q in affected {
            self.queue_rules_changed(q, now);
        }
    }

    pub fn upsert_queue(&mut self, config: QueueConfig, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        if !self.w.policies.contains_key(&config.policy) {
            return Err(EngineError::UnknownPolicy(config.policy));
        }
        for action in [config.overflow, config.after_hours] {
            if let OverflowAction::Queue(target) = action {
                if target == config.id {
                    return Err(EngineError::OverflowLoop(target));
                }
                let served = self.w.queue(self.queue_idx(target)?).config.channels;
                if let Some(channel) = config.channels.iter().find(|c| !served.contains(*c)) {
                    return Err(EngineError::OverflowChannel { target, channel });
                }
            }
        }
        match self.w.queue_ids.get(&config.id).copied() {
            Some(q) => {
                let rt = &mut self.w.queues[q.0 as usize];
                rt.ordering = ordering::for_kind(config.ordering);
                rt.config = config;
                self.queue_rules_changed(q, now);
            }
            None => {
                let q = QIdx(self.w.queues.len() as u32);
                self.w.queue_ids.insert(config.id, q);
                let handle_ms = config.expected_handle_time.as_millis() as f64;
                self.w.queues.push(QueueRt {
                    ordering: ordering::for_kind(config.ordering),
                    config,
                    members: BTreeSet::new(),
                    delays: BTreeMap::new(),
                    line: BTreeSet::new(),
                    offers_made: 0,
                    handle_ms,
                    step_preds: Vec::new(),
                    available_members: 0,
                });
                self.bind_shared_steps(q);
            }
        }
        Ok(())
    }

    /// Policy, ordering or stickiness of `q` changed: rescore members, restart
    /// the steps of waiting contacts, and route.
    pub(super) fn queue_rules_changed(&mut self, q: QIdx, now: Timestamp) {
        self.bind_shared_steps(q);
        let members: Vec<AIdx> = self.w.queue(q).members.iter().copied().collect();
        for a in &members {
            self.rescore(*a);
            self.m.agent_changed(&self.w, *a);
        }
        let waiting: Vec<CIdx> = self.w.queue(q).line.iter().map(|e| e.1).collect();
        for c in &waiting {
            if self.w.contact(*c).pinned.is_none() {
                let sticky = self.sticky_applies(*c, q);
                self.w.contacts[c.0].sticky = sticky;
                self.enter_step(*c, 0, now);
            }
        }
        for c in waiting {
            self.route_contact(c, now);
        }
    }

    /// Binds once the steps of `q`'s policy that do not read the contact:
    /// every contact shares their predicate, and the matcher indexes agents
    /// by it.
    pub(super) fn bind_shared_steps(&mut self, q: QIdx) {
        let queue = &mut self.w.queues[q.0 as usize];
        for old in queue.step_preds.drain(..).flatten() {
            self.w.preds.release(old);
        }
        let no_attributes = Attributes::new();
        let facts =
            ContactFacts { attributes: &no_attributes, preferred_agents: &[], priority: 0, channel: Channel::Api };
        let steps = &self.w.policies[&queue.config.policy].steps;
        queue.step_preds =
            steps.iter().map(|s| (!s.expr.reads_contact()).then(|| self.w.preds.intern(s.expr.bind(&facts)))).collect();
    }

    pub fn upsert_agent(&mut self, config: AgentConfig, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let mut resolved = Vec::with_capacity(config.memberships.len());
        for m in &config.memberships {
            let q = self.queue_idx(m.queue)?;
            resolved.push(MemberRt {
                queue: q,
                priority: m.priority,
                delay: m.delay,
                skill_score: 0,
                last_offered: 0,
                shared_matches: Vec::new(),
            });
        }
        let a = match self.w.agent_ids.get(&config.id).copied() {
            Some(a) => {
                let old = std::mem::take(&mut self.w.agents[a.0].memberships);
                for m in &old {
                    self.unlink_member(a, m);
                }
                for m in &mut resolved {
                    if let Some(prev) = old.iter().find(|p| p.queue == m.queue) {
                        m.last_offered = prev.last_offered;
                    }
                }
                self.w.agents[a.0].config = config;
                a
            }
            None => {
                let id = config.id;
                let a = AIdx(self.w.agents.insert(AgentRt {
                    config,
                    memberships: Vec::new(),
                    presence: Presence::Offline,
                    load: Load::default(),
                    slots: Vec::new(),
                    last_activity: now,
                    missed_in_a_row: 0,
                    state: AgentState::Offline,
                    state_since: now,
                }));
                self.w.agent_ids.insert(id, a);
                a
            }
        };
        for m in &resolved {
            self.link_member(a, m, now);
        }
        self.w.agents[a.0].memberships = resolved;
        self.rescore(a);
        self.agent_freed(a, now);
        Ok(())
    }

    pub(super) fn link_member(&mut self, a: AIdx, m: &MemberRt, now: Timestamp) {
        let available = self.w.agent(a).available();
        let q = &mut self.w.queues[m.queue.0 as usize];
        q.members.insert(a);
        q.available_members += available as u32;
        if m.delay > Duration::ZERO {
            let count = q.delays.entry(m.delay).or_insert(0);
            *count += 1;
            if *count == 1 {
                // A delay no waiting contact was timed for: time them now.
                let due: Vec<(CIdx, Timestamp, u64)> = q
                    .line
                    .iter()
                    .map(|(_, c)| (*c, self.w.contacts[c.0].queue_entered_at + m.delay, self.w.contacts[c.0].seq))
                    .collect();
                for (c, at, seq) in due {
                    if at > now {
                        self.timers.set(at, Timer::Recheck { contact: c, seq });
                    }
                }
            }
        }
    }

    pub(super) fn unlink_member(&mut self, a: AIdx, m: &MemberRt) {
        let available = self.w.agent(a).available();
        let q = &mut self.w.queues[m.queue.0 as usize];
        q.members.remove(&a);
        q.available_members -= available as u32;
        if let Some(count) = q.delays.get_mut(&m.delay) {
            *count -= 1;
            if *count == 0 {
                q.delays.remove(&m.delay);
            }
        }
    }

    /// Recomputes, for each queue `a` serves, its skill score there
    /// and which of the queue's shared step predicates it satisfies.
    pub(super) fn rescore(&mut self, a: AIdx) {
        let w = &mut self.w;
        let ag = &mut w.agents[a.0];
        let facts = crate::expr::AgentFacts { id: ag.config.id, skills: &ag.config.skills };
        for m in &mut ag.memberships {
            let q = &w.queues[m.queue.0 as usize];
            let policy = &w.policies[&q.config.policy];
            let mut skills: Vec<_> = policy.steps.iter().flat_map(|s| s.expr.skills()).collect();
            skills.sort();
            skills.dedup();
            m.skill_score = skills.iter().map(|s| ag.config.skills.level(*s) as i64).sum();
            // Two steps may bind to one predicate: each is listed once, so
            // that the agent has one entry per ready set.
            m.shared_matches.clear();
            for p in q.step_preds.iter().flatten() {
                if !m.shared_matches.contains(p) && w.preds.get(*p).matches(facts) {
                    m.shared_matches.push(*p);
                }
            }
        }
    }

    pub fn remove_agent(&mut self, id: AgentId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let a = self.agent_idx(id)?;
        if self.w.agent(a).slots.iter().any(|s| !matches!(s.phase, SlotPhase::Offered { .. })) {
            return Err(EngineError::AgentBusy(id));
        }
        self.set_presence(id, Presence::Offline, now)?;
        let pinned: Vec<CIdx> =
            self.w.contacts.iter().filter(|(_, c)| c.pinned == Some(a)).map(|(i, _)| CIdx(i)).collect();
        for c in &pinned {
            self.unpin(*c, now);
        }
        self.m.agent_removed(&self.w, a);
        for m in std::mem::take(&mut self.w.agents[a.0].memberships) {
            self.unlink_member(a, &m);
        }
        self.w.agents.remove(a.0);
        self.w.agent_ids.remove(&id);
        for c in pinned {
            self.route_contact(c, now);
        }
        Ok(())
    }
}
