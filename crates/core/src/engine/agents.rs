//! What agents do: presence, accepting and rejecting offers, ending contacts, wrap-up.

use super::*;

impl<M: Matcher> Engine<M> {
    pub fn set_presence(&mut self, id: AgentId, presence: Presence, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let a = self.agent_idx(id)?;
        self.change_presence(a, presence, now);
        Ok(())
    }

    pub(super) fn change_presence(&mut self, a: AIdx, presence: Presence, now: Timestamp) {
        let ag = &mut self.w.agents[a.0];
        if ag.presence == presence {
            return;
        }
        let available = presence == Presence::Available;
        if available != ag.available() {
            for m in &ag.memberships {
                let count = &mut self.w.queues[m.queue.0 as usize].available_members;
                *count = if available { *count + 1 } else { *count - 1 };
            }
        }
        let ag = &mut self.w.agents[a.0];
        ag.presence = presence;
        if available {
            ag.last_activity = now;
            ag.missed_in_a_row = 0;
        } else {
            // Nobody stays reserved: offers go back to the line.
            let offered: Vec<ContactId> =
                ag.slots.iter().filter(|s| matches!(s.phase, SlotPhase::Offered { .. })).map(|s| s.contact).collect();
            for contact in offered {
                let c = self.w.contact_ids[&contact];
                self.return_offer(c, a, OfferEnd::Revoked, now);
            }
        }
        if available {
            self.agent_freed(a, now);
        } else {
            self.agent_touched(a, now);
        }
    }

    pub fn accept(&mut self, contact: ContactId, agent: AgentId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let (c, a) = self.offered(contact, agent)?;
        let ct = &mut self.w.contacts[c.0];
        ct.status = ContactStatus::Connected { agent: a };
        let (q, waited) = (ct.queue, now.since(ct.enqueued_at));
        let queue = self.w.queue(q).config.id;
        let ag = &mut self.w.agents[a.0];
        ag.missed_in_a_row = 0;
        if let Some(slot) = ag.slots.iter_mut().find(|s| s.contact == contact && s.is_offered()) {
            slot.phase = SlotPhase::Connected { since: now };
        }
        self.emit(now, EventKind::OfferAccepted { contact, queue, agent, waited });
        // Taking the offer changes neither the agent's load nor its rank.
        self.announce_state(a, now);
        Ok(())
    }

    pub fn reject(&mut self, contact: ContactId, agent: AgentId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let (c, a) = self.offered(contact, agent)?;
        self.return_offer(c, a, OfferEnd::Rejected, now);
        Ok(())
    }

    /// Handling is over: the agent goes into wrap-up for this contact (or is
    /// free at once), and the contact leaves the engine.
    pub fn end_contact(&mut self, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let ContactStatus::Connected { agent: a } = self.w.contact(c).status else {
            return Err(EngineError::NotConnected(contact));
        };
        let queue = self.w.queue(self.w.contact(c).queue).config.id;
        self.emit(now, EventKind::ContactEnded { contact, queue, agent: self.w.agent(a).config.id });
        self.drop_contact(c);
        self.start_wrap_up(a, contact, now);
        Ok(())
    }

    /// The agent ends wrap-up for `contact` (before its time, or when the
    /// queue leaves wrap-up open).
    pub fn end_wrap_up(&mut self, agent: AgentId, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let a = self.agent_idx(agent)?;
        if !self.w.agent(a).slots.iter().any(|s| s.contact == contact && matches!(s.phase, SlotPhase::WrapUp { .. })) {
            return Err(EngineError::NotInWrapUp { agent, contact });
        }
        self.finish_slot(a, contact, true, now);
        Ok(())
    }

    pub(super) fn start_wrap_up(&mut self, a: AIdx, contact: ContactId, now: Timestamp) {
        let ag = &mut self.w.agents[a.0];
        let slot = ag
            .slots
            .iter_mut()
            .find(|s| s.contact == contact && matches!(s.phase, SlotPhase::Connected { .. }))
            .expect("connected slot");
        let connected_at = match slot.phase {
            SlotPhase::Connected { since } => since,
            _ => now,
        };
        let wrap = ag.config.wrap_up.unwrap_or(self.w.queues[slot.queue.0 as usize].config.wrap_up);
        match wrap {
            WrapUp::None => self.finish_slot(a, contact, false, now),
            WrapUp::Fixed(d) if d.is_zero() => self.finish_slot(a, contact, false, now),
            WrapUp::Fixed(d) => {
                slot.phase = SlotPhase::WrapUp { connected_at, ends: Some(now + d) };
                self.timers.set_after(now, d, Timer::WrapUpEnd { agent: a, contact });
                self.agent_touched(a, now);
            }
            WrapUp::UntilEnded => {
                slot.phase = SlotPhase::WrapUp { connected_at, ends: None };
                self.agent_touched(a, now);
            }
        }
    }

    /// The agent is done with `contact` altogether: the slot frees up.
    /// `wrapping` says which slot: the one in wrap-up or the connected one (a
    /// contact transferred away and back may have both with one agent).
    pub(super) fn finish_slot(&mut self, a: AIdx, contact: ContactId, wrapping: bool, now: Timestamp) {
        let ag = &mut self.w.agents[a.0];
        let i = ag
            .slots
            .iter()
            .position(|s| {
                s.contact == contact && matches!(s.phase, SlotPhase::WrapUp { .. }) == wrapping && !s.is_offered()
            })
            .expect("slot");
        let slot = ag.slots.swap_remove(i);
        ag.load.remove(slot.channel);
        ag.last_activity = now;
        let started = match slot.phase {
            SlotPhase::WrapUp { connected_at, .. } => connected_at,
            SlotPhase::Connected { since } => since,
            SlotPhase::Offered { since, .. } => since,
        };
        // Wait estimates follow the queue's recent handle times.
        let q = &mut self.w.queues[slot.queue.0 as usize];
        q.handle_ms = 0.9 * q.handle_ms + 0.1 * now.since(started).as_millis() as f64;
        let agent = ag.config.id;
        self.emit(now, EventKind::WrapUpEnded { contact, agent });
        self.agent_freed(a, now);
    }
}
