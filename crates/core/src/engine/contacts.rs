//! What happens to contacts: arrival, steps, leaving, callbacks, transfers, overflow.

use super::*;

impl<M: Matcher> Engine<M> {
    pub fn enqueue(&mut self, spec: ContactSpec, now: Timestamp) -> Result<Enqueued, EngineError> {
        let now = self.advance(now);
        if self.w.contact_ids.contains_key(&spec.id) {
            return Err(EngineError::DuplicateContact(spec.id));
        }
        self.admit(spec, now, 0)
    }

    /// Puts back a contact that was connected to `agent` when the server
    /// stopped: the agent holds it again and nothing is routed. Only the
    /// agent's state change is announced; the log already has the connection.
    pub fn restore_connected(
        &mut self,
        spec: ContactSpec,
        agent: AgentId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let now = self.advance(now);
        if self.w.contact_ids.contains_key(&spec.id) {
            return Err(EngineError::DuplicateContact(spec.id));
        }
        let a = self.agent_idx(agent)?;
        let q = self.queue_idx(spec.queue)?;
        let (contact, channel) = (spec.id, spec.channel);
        let c = self.insert_contact(spec, q, now);
        self.w.contacts[c.0].status = ContactStatus::Connected { agent: a };
        let ag = &mut self.w.agents[a.0];
        ag.load.add(channel);
        ag.slots.push(Slot { contact, channel, queue: q, phase: SlotPhase::Connected { since } });
        self.agent_touched(a, now);
        Ok(())
    }

    pub(super) fn admit(&mut self, spec: ContactSpec, now: Timestamp, hops: u32) -> Result<Enqueued, EngineError> {
        let q = self.queue_idx(spec.queue)?;
        let config = &self.w.queue(q).config;
        if !config.channels.contains(spec.channel) {
            return Err(EngineError::ChannelNotServed { queue: spec.queue, channel: spec.channel });
        }
        let refusal = if config.calendar.as_ref().is_some_and(|cal| !cal.is_open(now)) {
            Some((OverflowReason::Closed, config.after_hours))
        } else if config.max_length.is_some_and(|max| self.w.queue(q).line.len() as u32 >= max) {
            Some((OverflowReason::MaxLength, config.overflow))
        } else {
            None
        };
        if let Some((reason, action)) = refusal {
            self.emit(now, EventKind::ContactOverflowed { contact: spec.id, queue: spec.queue, reason, action });
            match action {
                OverflowAction::Queue(target) if hops < MAX_OVERFLOW_HOPS => {
                    let spec =
                        ContactSpec { queue: target, enqueued_at: Some(spec.enqueued_at.unwrap_or(now)), ..spec };
                    self.admit(spec, now, hops + 1)?;
                }
                OverflowAction::Callback => self.admit_callback(spec, q, now),
                _ => {}
            }
            return Ok(Enqueued::Overflowed { reason, action });
        }
        let c = self.insert_contact(spec, q, now);
        self.enter_queue(c, q, now);
        self.route_arrival(c, now);
        let ct = self.w.contact(c);
        Ok(match ct.status {
            ContactStatus::Offered { agent, .. } => Enqueued::Offered { agent: self.w.agent(agent).config.id },
            _ => {
                let position = self.position_of(c).unwrap_or(0);
                Enqueued::Waiting { position, estimated_wait: self.wait_estimate(q, position) }
            }
        })
    }

    /// Puts a contact in `q`'s line to be called back: it waits without a
    /// caller holding, so no maximum wait applies to it.
    fn admit_callback(&mut self, spec: ContactSpec, q: QIdx, now: Timestamp) {
        let c = self.insert_contact(spec, q, now);
        self.w.contacts[c.0].callback = true;
        self.place(c, q, now);
        self.emit(
            now,
            EventKind::CallbackScheduled { contact: self.w.contact(c).id, queue: self.w.queue(q).config.id },
        );
        self.route_contact(c, now);
    }

    /// A contact enters `spec.queue`'s line as a callback: a caller who left
    /// a voicemail, for an agent to listen to and call back, or a courtesy
    /// callback due for another attempt. Nobody holds the line, so neither
    /// the queue's hours nor its maximum length turn it away (that is what
    /// sent many callers to voicemail in the first place), and no maximum
    /// wait applies.
    pub fn enqueue_callback(&mut self, spec: ContactSpec, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        if self.w.contact_ids.contains_key(&spec.id) {
            return Err(EngineError::DuplicateContact(spec.id));
        }
        let q = self.queue_idx(spec.queue)?;
        if !self.w.queue(q).config.channels.contains(spec.channel) {
            return Err(EngineError::ChannelNotServed { queue: spec.queue, channel: spec.channel });
        }
        self.admit_callback(spec, q, now);
        Ok(())
    }

    /// A waiting caller chose voicemail (the queue's voicemail key): the
    /// contact leaves the line as an overflow to voicemail, so that no agent
    /// is offered it while the caller speaks.
    pub fn leave_for_voicemail(&mut self, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        if self.w.contact(c).status != ContactStatus::Queued {
            return Err(EngineError::NotQueued(contact));
        }
        let queue = self.w.queue(self.w.contact(c).queue).config.id;
        let (reason, action) = (OverflowReason::Caller, OverflowAction::Voicemail);
        self.emit(now, EventKind::ContactOverflowed { contact, queue, reason, action });
        self.drop_contact(c);
        Ok(())
    }

    pub(super) fn insert_contact(&mut self, spec: ContactSpec, q: QIdx, now: Timestamp) -> CIdx {
        self.next_seq += 1;
        let pred = self.always;
        self.w.preds.retain(pred);
        let id = spec.id;
        let c = CIdx(self.w.contacts.insert(ContactRt {
            id,
            channel: spec.channel,
            priority: spec.priority,
            attributes: spec.attributes,
            preferred_agents: spec.preferred_agents,
            queue: q,
            enqueued_at: spec.enqueued_at.unwrap_or(now),
            queue_entered_at: now,
            seq: self.next_seq,
            step: 0,
            sticky: false,
            step_generation: 0,
            placement: 0,
            pred,
            status: ContactStatus::Queued,
            declined: Vec::new(),
            callback: false,
            pinned: None,
        }));
        self.w.contact_ids.insert(id, c);
        c
    }

    /// Puts a contact that is not in any line into `q`'s line, at step 0.
    pub(super) fn place(&mut self, c: CIdx, q: QIdx, now: Timestamp) {
        self.enter_queue(c, q, now);
        self.line_up(c);
    }

    /// `c`, in no line, enters `q` at step 0 and is announced with the
    /// place it takes in line; the caller then puts it in line or hands it
    /// to an agent at once.
    pub(super) fn enter_queue(&mut self, c: CIdx, q: QIdx, now: Timestamp) {
        let sticky = self.sticky_applies(c, q);
        let ct = &mut self.w.contacts[c.0];
        ct.queue = q;
        ct.queue_entered_at = now;
        ct.placement += 1;
        ct.sticky = sticky;
        ct.status = ContactStatus::Queued;
        ct.step = u32::MAX;
        self.enter_step(c, 0, now);
        let ct = self.w.contact(c);
        let (key, seq, callback, id, channel, placement) =
            (ct.key(), ct.seq, ct.callback, ct.id, ct.channel, ct.placement);
        let queue = self.w.queue(q);
        if let (Some(max), false) = (queue.config.max_wait, callback) {
            self.timers.set_after(now, max, Timer::MaxWait { contact: c, seq, placement });
        }
        for delay in queue.delays.keys() {
            self.timers.set_after(now, *delay, Timer::Recheck { contact: c, seq });
        }
        let position = self.place_in_line(q, (key, c));
        self.emit(now, EventKind::ContactQueued { contact: id, queue: self.w.queue(q).config.id, channel, position });
    }

    pub(super) fn sticky_applies(&self, c: CIdx, q: QIdx) -> bool {
        let ct = self.w.contact(c);
        ct.pinned.is_none() && !self.w.queue(q).config.sticky.is_zero() && !ct.preferred_agents.is_empty()
    }

    /// Binds step `i` of `c`'s effective steps (a sticky step, if any,
    /// comes before the policy's) and interns the predicate. An index past
    /// the end means the last step: a policy update may have shortened it.
    pub(super) fn bind_step(&mut self, c: CIdx, i: u32) -> BoundStep {
        // Field by field, so that the predicate table can be borrowed mutably.
        let ct = &self.w.contacts[c.0];
        let q = &self.w.queues[ct.queue.0 as usize];
        let policy_id = q.config.policy;
        let steps = &self.w.policies[&policy_id].steps;
        let facts = ContactFacts {
            attributes: &ct.attributes,
            preferred_agents: &ct.preferred_agents,
            priority: ct.priority,
            channel: ct.channel,
        };
        if ct.sticky && i == 0 {
            let wait = Some(q.config.sticky);
            let pred = self.w.preds.intern(Expr::agent_in(&ct.preferred_agents).bind(&facts));
            return BoundStep { index: 0, pred, wait, skippable: true, last: false };
        }
        let offset = ct.sticky as usize;
        let policy_index = (i as usize - offset).min(steps.len() - 1);
        let step = &steps[policy_index];
        let last = policy_index + 1 == steps.len();
        let (wait, skippable) = (if last { None } else { step.wait }, step.skip_if_unstaffed);
        let pred = match q.step_preds[policy_index] {
            Some(shared) => {
                self.w.preds.retain(shared);
                shared
            }
            None => self.w.preds.intern(step.expr.bind(&facts)),
        };
        BoundStep { index: (policy_index + offset) as u32, pred, wait, skippable, last }
    }

    /// Moves `c` to step `from` or, skipping unstaffed steps, a later one;
    /// rebinds its predicate and re-buckets it if it is queued.
    pub(super) fn enter_step(&mut self, c: CIdx, from: u32, now: Timestamp) {
        let mut bound = self.bind_step(c, from);
        while !bound.last && bound.skippable && !self.staffed(self.w.contact(c).queue, bound.pred) {
            self.w.preds.release(bound.pred);
            bound = self.bind_step(c, bound.index + 1);
        }
        let BoundStep { index: step, pred: new, wait, .. } = bound;
        let queued = self.w.contact(c).status == ContactStatus::Queued && self.w.contact(c).step != u32::MAX;
        if queued {
            self.m.contact_unqueued(&self.w, c);
        }
        let ct = &mut self.w.contacts[c.0];
        let old = std::mem::replace(&mut ct.pred, new);
        let changed = ct.step != u32::MAX;
        ct.step = step;
        ct.step_generation += 1;
        let (seq, id, q, generation) = (ct.seq, ct.id, ct.queue, ct.step_generation);
        self.w.preds.release(old);
        if queued {
            self.m.contact_queued(&self.w, c);
        }
        if let Some(wait) = wait {
            self.timers.set_after(now, wait, Timer::StepExpiry { contact: c, seq, generation });
        }
        if changed {
            self.emit(now, EventKind::StepChanged { contact: id, queue: self.w.queue(q).config.id, step });
        }
    }

    /// Whether a logged-in member of `q` satisfies `pred`.
    pub(super) fn staffed(&self, q: QIdx, pred: world::PredId) -> bool {
        let pred = self.w.preds.get(pred);
        self.w.queue(q).members.iter().any(|a| {
            let ag = self.w.agent(*a);
            ag.presence != Presence::Offline && pred.matches(ag.facts())
        })
    }

    pub fn cancel(&mut self, contact: ContactId, reason: CancelReason, now: Timestamp) -> Result<(), EngineError> {
        // The cancellation comes before the timers due at this very
        // millisecond: run first, such a timer could offer the leaving
        // contact, and the caller would learn of an offer only after the
        // call returned, for a contact already gone. Timers due earlier
        // have had their time and run as usual.
        let now = now.max(self.now);
        self.fire_due_before(now);
        let result = self.cancel_now(contact, reason, now);
        self.advance(now);
        result
    }

    fn cancel_now(&mut self, contact: ContactId, reason: CancelReason, now: Timestamp) -> Result<(), EngineError> {
        let c = self.contact_idx(contact)?;
        let ct = self.w.contact(c);
        let (queue, waited) = (self.w.queue(ct.queue).config.id, now.since(ct.enqueued_at));
        let freed = match ct.status {
            ContactStatus::Queued => None,
            ContactStatus::Offered { agent, .. } => Some(agent),
            ContactStatus::Connected { .. } => return Err(EngineError::NotQueued(contact)),
        };
        if let Some(a) = freed {
            self.withdraw_offer(c, a);
        }
        self.emit(
            now,
            match reason {
                CancelReason::Abandoned => EventKind::ContactLeft { contact, queue, reason, waited },
                CancelReason::Cancelled => EventKind::ContactCancelled { contact, queue, waited },
            },
        );
        self.drop_contact(c);
        if let Some(a) = freed {
            self.agent_freed(a, now);
        }
        Ok(())
    }

    /// The customer stops holding but keeps their place; an agent calls back.
    pub fn request_callback(&mut self, contact: ContactId, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let ct = &mut self.w.contacts[c.0];
        if ct.status != ContactStatus::Queued {
            return Err(EngineError::NotQueued(contact));
        }
        ct.callback = true;
        let q = ct.queue;
        let queue = self.w.queue(q).config.id;
        self.emit(now, EventKind::CallbackScheduled { contact, queue });
        Ok(())
    }

    /// Changes a contact's priority and attributes (an automation rule's
    /// doing). A waiting contact keeps its queue, step and enqueue time —
    /// its place among contacts of its new priority — with its step bound
    /// again to the new attributes, and is routed at once if that makes an
    /// agent eligible. Nothing is announced: the contact was not queued
    /// again. An offered or connected contact keeps the values for when it
    /// comes back to the line.
    pub fn update_contact(
        &mut self,
        contact: ContactId,
        priority: i32,
        attributes: Attributes,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let queued = self.w.contact(c).status == ContactStatus::Queued;
        if queued {
            self.unqueue(c);
        }
        let ct = &mut self.w.contacts[c.0];
        ct.priority = priority;
        ct.attributes = attributes;
        let step = ct.step;
        let bound = self.bind_step(c, step);
        let old = std::mem::replace(&mut self.w.contacts[c.0].pred, bound.pred);
        self.w.preds.release(old);
        if queued {
            self.requeue(c);
            self.route_contact(c, now);
        }
        Ok(())
    }

    pub fn transfer(&mut self, contact: ContactId, target: TransferTarget, now: Timestamp) -> Result<(), EngineError> {
        let now = self.advance(now);
        let c = self.contact_idx(contact)?;
        let (q_to, pinned) = match target {
            TransferTarget::Queue(q) => (self.queue_idx(q)?, None),
            TransferTarget::Agent(a) => (self.w.contact(c).queue, Some(self.agent_idx(a)?)),
        };
        let channel = self.w.contact(c).channel;
        let q_to_config = &self.w.queue(q_to).config;
        if pinned.is_none() && !q_to_config.channels.contains(channel) {
            return Err(EngineError::ChannelNotServed { queue: q_to_config.id, channel });
        }
        let from = self.w.queue(self.w.contact(c).queue).config.id;
        if let (Some(to), ContactStatus::Offered { agent, .. } | ContactStatus::Connected { agent }) =
            (pinned, self.w.contact(c).status)
            && to == agent
        {
            return Err(EngineError::AlreadyWithAgent { contact, agent: self.w.agent(agent).config.id });
        }
        let freed = match self.w.contact(c).status {
            ContactStatus::Queued => {
                self.unqueue(c);
                None
            }
            ContactStatus::Offered { agent, .. } => {
                self.withdraw_offer(c, agent);
                Some(agent)
            }
            ContactStatus::Connected { agent } => Some(agent),
        };
        self.emit(now, EventKind::ContactTransferred { contact, from, target });
        let ct = &mut self.w.contacts[c.0];
        ct.pinned = pinned;
        ct.enqueued_at = now;
        ct.declined.clear();
        let was_connected = matches!(ct.status, ContactStatus::Connected { .. });
        if let (Some(a), true) = (freed, pinned.is_none()) {
            // Whoever hands a contact on should not get it straight back.
            self.cool_down(c, a, q_to, now);
        }
        self.place(c, q_to, now);
        if let Some(a) = freed {
            if was_connected {
                self.start_wrap_up(a, contact, now);
            } else {
                self.agent_touched(a, now);
            }
        }
        self.route_contact(c, now);
        if let Some(a) = freed {
            self.route_agent(a, now);
        }
        Ok(())
    }
}
