//! Reading the engine: events, positions, wait estimates, snapshots.

use super::*;

impl<M: Matcher> Engine<M> {
    pub(super) fn queue_idx(&self, id: QueueId) -> Result<QIdx, EngineError> {
        self.w.queue_ids.get(&id).copied().ok_or(EngineError::UnknownQueue(id))
    }

    pub(super) fn agent_idx(&self, id: AgentId) -> Result<AIdx, EngineError> {
        self.w.agent_ids.get(&id).copied().ok_or(EngineError::UnknownAgent(id))
    }

    pub(super) fn contact_idx(&self, id: ContactId) -> Result<CIdx, EngineError> {
        self.w.contact_ids.get(&id).copied().ok_or(EngineError::UnknownContact(id))
    }

    pub(super) fn offered(&self, contact: ContactId, agent: AgentId) -> Result<(CIdx, AIdx), EngineError> {
        let c = self.contact_idx(contact)?;
        let a = self.agent_idx(agent)?;
        match self.w.contact(c).status {
            ContactStatus::Offered { agent: x, .. } if x == a => Ok((c, a)),
            _ => Err(EngineError::NotOffered { contact, agent }),
        }
    }

    /// Takes the events decided since the last call.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Swaps the pending events into `buf` (pass an empty one) without
    /// copying them: for callers that process millions, like the simulator.
    pub fn swap_events(&mut self, buf: &mut Vec<Event>) {
        debug_assert!(buf.is_empty(), "events would be lost");
        std::mem::swap(&mut self.events, buf);
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(super) fn position_of(&self, c: CIdx) -> Option<u32> {
        let ct = self.w.contact(c);
        if ct.status != ContactStatus::Queued {
            return None;
        }
        Some(self.place_in_line(ct.queue, (ct.key(), c)))
    }

    /// The 1-based place `entry` has, or would have, in `q`'s line.
    pub(super) fn place_in_line(&self, q: QIdx, entry: (world::ContactKey, CIdx)) -> u32 {
        let line = &self.w.queue(q).line;
        // New arrivals usually join at the back: answer that without a walk.
        match line.last() {
            None => 1,
            Some(last) if *last == entry => line.len() as u32,
            Some(last) if *last < entry => line.len() as u32 + 1,
            Some(_) => line.range(..entry).count() as u32 + 1,
        }
    }

    /// 1-based place in line of a queued contact, for announcements.
    pub fn position(&self, contact: ContactId) -> Option<u32> {
        self.position_of(self.contact_idx(contact).ok()?)
    }

    /// Position × recent handle time / agents available for the queue.
    pub(super) fn wait_estimate(&self, q: QIdx, position: u32) -> Duration {
        let queue = self.w.queue(q);
        let staffed = queue.available_members.max(1);
        Duration::from_millis((position as f64 * queue.handle_ms / staffed as f64) as u64)
    }

    pub fn estimated_wait(&self, contact: ContactId) -> Option<Duration> {
        let c = self.contact_idx(contact).ok()?;
        let position = self.position_of(c)?;
        Some(self.wait_estimate(self.w.contact(c).queue, position))
    }

    pub fn is_open(&self, queue: QueueId, now: Timestamp) -> Result<bool, EngineError> {
        let q = self.queue_idx(queue)?;
        Ok(self.w.queue(q).config.calendar.as_ref().is_none_or(|c| c.is_open(now)))
    }

    pub fn queue_snapshot(&self, queue: QueueId) -> Result<QueueSnapshot, EngineError> {
        let q = self.w.queue(self.queue_idx(queue)?);
        let mut agents = BTreeMap::new();
        for a in &q.members {
            *agents.entry(self.w.agent(*a).state).or_insert(0) += 1;
        }
        let contacts = q.line.iter().map(|(_, c)| self.w.contact(*c));
        let (mut waiting, mut callbacks, mut oldest) = (0, 0, None::<Timestamp>);
        for ct in contacts {
            waiting += 1;
            callbacks += ct.callback as u32;
            oldest = Some(oldest.map_or(ct.enqueued_at, |o| o.min(ct.enqueued_at)));
        }
        Ok(QueueSnapshot { id: queue, waiting, callbacks, oldest_enqueued_at: oldest, agents })
    }

    pub fn agent_snapshot(&self, agent: AgentId) -> Result<AgentSnapshot, EngineError> {
        let ag = self.w.agent(self.agent_idx(agent)?);
        Ok(AgentSnapshot {
            id: agent,
            presence: ag.presence.clone(),
            state: ag.state,
            state_since: ag.state_since,
            missed_in_a_row: ag.missed_in_a_row,
            contacts: ag
                .slots
                .iter()
                .map(|s| {
                    let phase = match s.phase {
                        SlotPhase::Offered { .. } => "offered",
                        SlotPhase::Connected { .. } => "connected",
                        SlotPhase::WrapUp { .. } => "wrap_up",
                    };
                    (s.contact, s.channel, phase)
                })
                .collect(),
        })
    }

    /// The contacts `agent` rejected or missed and is not offered again yet,
    /// with when each may be offered again, soonest first: while any is
    /// waiting, an available agent may sit idle beside a queue that is not empty.
    pub fn cooldowns(&self, agent: AgentId, now: Timestamp) -> Result<Vec<(ContactId, Timestamp)>, EngineError> {
        let a = self.agent_idx(agent)?;
        let mut out: Vec<(ContactId, Timestamp)> = self
            .w
            .contacts
            .iter()
            .filter(|(_, ct)| ct.status == ContactStatus::Queued)
            .filter_map(|(_, ct)| {
                ct.declined.iter().filter(|(x, until)| *x == a && *until > now).map(|(_, until)| (ct.id, *until)).max()
            })
            .collect();
        out.sort_by_key(|&(contact, until)| (until, contact));
        Ok(out)
    }

    pub fn contact_snapshot(&self, contact: ContactId) -> Result<ContactSnapshot, EngineError> {
        let c = self.contact_idx(contact)?;
        let ct = self.w.contact(c);
        let (status, agent) = match ct.status {
            ContactStatus::Queued => ("queued", None),
            ContactStatus::Offered { agent, .. } => ("offered", Some(agent)),
            ContactStatus::Connected { agent } => ("connected", Some(agent)),
        };
        Ok(ContactSnapshot {
            id: contact,
            queue: self.w.queue(ct.queue).config.id,
            status,
            agent: agent.map(|a| self.w.agent(a).config.id),
            step: ct.step,
            position: self.position_of(c),
            enqueued_at: ct.enqueued_at,
            callback: ct.callback,
        })
    }

    /// Counts for tests and benchmarks: (agents, contacts, interned predicates, timers).
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        (self.w.agents.len(), self.w.contacts.len(), self.w.preds.len(), self.timers.len())
    }

    /// Brute force: the (agent, contact) pairs that could be offered right
    /// now. After every operation this must be empty; tests assert it.
    pub fn routable_pairs(&self) -> Vec<(AgentId, ContactId)> {
        let mut pairs = Vec::new();
        for (a, ag) in self.w.agents.iter() {
            for (c, ct) in self.w.contacts.iter() {
                if self.w.eligible(AIdx(a), CIdx(c), self.now) {
                    pairs.push((ag.config.id, ct.id));
                }
            }
        }
        pairs
    }
}
