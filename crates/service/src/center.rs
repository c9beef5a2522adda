//! One workspace's live state: its routing engine and the records the
//! engine's events change, rebuilt from the store at start.

use super::ServiceError;
use super::documents::{BusinessHours, DocumentBody};
use super::settings::{QueueSettings, ResponseTargets};
use crate::kinds::Kind;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use switchboard_core::agent::AgentConfig;
use switchboard_core::calendar::Calendar;
use switchboard_core::contact::ContactSpec;
use switchboard_core::engine::Engine;
use switchboard_core::events::{CancelReason, Event, EventKind};
use switchboard_core::ids::{AgentId, ContactId, PolicyId, QueueId, UserId, WorkspaceId};
use switchboard_core::policy;
use switchboard_core::queue::OverflowAction;
use switchboard_core::skills::SkillRegistry;
use switchboard_core::time::Timestamp;
use switchboard_store::{
    AgentRecord, Change, ContactRecord, ContactState, NewEvent, PolicyRecord, QueueRecord, Store, StoreError,
};

pub struct Center {
    pub workspace: WorkspaceId,
    pub engine: Engine,
    pub skills: SkillRegistry,
    pub policies: HashMap<PolicyId, PolicyRecord>,
    pub queues: HashMap<QueueId, QueueRecord>,
    pub agents: HashMap<UserId, AgentRecord>,
    /// Contacts the engine still routes or an agent still holds.
    pub contacts: HashMap<ContactId, ContactRecord>,
    /// Named calendars queues may use, by document id.
    pub business_hours: HashMap<u64, Calendar>,
    /// Each queue's response targets, replaced (never changed) when the
    /// queue or its calendar is: the clocks keep a due time while the
    /// targets they were counted from are the same `Arc`.
    pub response_targets: HashMap<QueueId, Arc<ResponseTargets>>,
}

impl Center {
    pub async fn load(store: &Store, ws: WorkspaceId, now: Timestamp) -> Result<Center, ServiceError> {
        let mut c = Center {
            workspace: ws,
            engine: Engine::new(Default::default()),
            skills: SkillRegistry::new(),
            policies: HashMap::new(),
            queues: HashMap::new(),
            agents: HashMap::new(),
            contacts: HashMap::new(),
            business_hours: HashMap::new(),
            response_targets: HashMap::new(),
        };
        for d in store.documents(ws, BusinessHours::KIND).await? {
            let hours: BusinessHours = serde_json::from_value(d.body).map_err(|e| corrupt(e.to_string()))?;
            c.business_hours.insert(d.id, hours.calendar);
        }
        for s in store.skills(ws).await? {
            c.skills.intern(&s.name);
        }
        for p in store.policies(ws).await? {
            c.install_policy(p, now).map_err(corrupt)?;
        }
        // Overflow targets may be created after the queue that names them:
        // install every queue plainly first, then with its real settings.
        let mut queues = store.queues(ws).await?;
        for q in &mut queues {
            let Ok(mut s) = serde_json::from_value::<QueueSettings>(q.settings.clone()) else { continue };
            // Saved before the bounds existed: load it within them.
            if s.clamp_bounds() {
                q.settings = serde_json::to_value(&s).map_err(|e| corrupt(e.to_string()))?;
            }
            let mut plain = q.clone();
            s.overflow = OverflowAction::Disconnect;
            s.after_hours = OverflowAction::Disconnect;
            plain.settings = serde_json::to_value(s).map_err(|e| corrupt(e.to_string()))?;
            c.install_queue(plain, now).map_err(corrupt)?;
        }
        for q in queues {
            c.install_queue(q, now).map_err(corrupt)?;
        }
        for a in store.agents(ws).await? {
            c.install_agent(a, now).map_err(corrupt)?;
        }
        for contact in store.open_contacts(ws).await? {
            c.restore_contact(contact, now).map_err(corrupt)?;
        }
        // What the engine announced while loading is a replay, not news.
        c.engine.drain_events().for_each(drop);
        Ok(c)
    }

    /// Installs a policy that `put_policy` checked, or one saved before the
    /// checks grew stricter: such a policy still loads.
    pub fn install_policy(&mut self, p: PolicyRecord, now: Timestamp) -> Result<(), String> {
        let compiled = policy::compile_saved(p.id, &p.steps, &self.skills).map_err(|e| e.to_string())?;
        self.engine.upsert_policy(compiled, now);
        self.policies.insert(p.id, p);
        Ok(())
    }

    pub fn install_queue(&mut self, q: QueueRecord, now: Timestamp) -> Result<(), String> {
        let config = self.queue_config(&q)?;
        let settings: QueueSettings = serde_json::from_value(q.settings.clone()).map_err(|e| e.to_string())?;
        let targets = settings.response_targets(config.calendar.clone()).map_err(|e| e.to_string())?;
        self.engine.upsert_queue(config, now).map_err(|e| e.to_string())?;
        self.response_targets.insert(q.id, Arc::new(targets));
        self.queues.insert(q.id, q);
        Ok(())
    }

    /// A queue's engine configuration from its record.
    fn queue_config(&self, q: &QueueRecord) -> Result<switchboard_core::queue::QueueConfig, String> {
        let settings: QueueSettings = serde_json::from_value(q.settings.clone()).map_err(|e| e.to_string())?;
        settings.to_config(q.id, &q.name, |b| self.business_hours.get(&b).cloned()).map_err(|e| e.to_string())
    }

    /// The routing configuration as the engine has it — policies, queues
    /// and agents — for a simulation of this workspace.
    pub fn replica(&self) -> Result<Replica, String> {
        let mut skills = self.skills.clone();
        let mut policies = Vec::new();
        for p in self.policies.values() {
            policies.push(policy::compile_saved(p.id, &p.steps, &skills).map_err(|e| e.to_string())?);
        }
        let mut queues = self.queues.values().map(|q| self.queue_config(q)).collect::<Result<Vec<_>, _>>()?;
        queues.sort_by_key(|q| q.id);
        let mut agents: Vec<AgentConfig> = self.agents.values().map(|a| agent_config(&mut skills, a)).collect();
        agents.sort_by_key(|a| a.id);
        Ok(Replica { policies, queues, agents, skills })
    }

    /// Each queue's service-level threshold, for counting today's figures.
    pub fn sl_thresholds(&self) -> crate::reports::Thresholds {
        self.queues
            .values()
            .map(|q| {
                let sl = q.settings.get("sl_seconds").and_then(|v| v.as_f64()).unwrap_or(20.0);
                (q.id, std::time::Duration::from_secs_f64(sl.max(0.0)))
            })
            .collect()
    }

    /// Installs (or replaces) a named calendar and re-installs the queues using it.
    pub fn set_business_hours(&mut self, id: u64, calendar: Option<Calendar>, now: Timestamp) -> Result<(), String> {
        match calendar {
            Some(c) => self.business_hours.insert(id, c),
            None => self.business_hours.remove(&id),
        };
        let using: Vec<QueueRecord> = self
            .queues
            .values()
            .filter(|q| q.settings.get("business_hours").and_then(|v| v.as_u64()) == Some(id))
            .cloned()
            .collect();
        for q in using {
            self.install_queue(q, now)?;
        }
        Ok(())
    }

    pub fn install_agent(&mut self, a: AgentRecord, now: Timestamp) -> Result<(), String> {
        let config = agent_config(&mut self.skills, &a);
        let id = config.id;
        self.engine.upsert_agent(config, now).map_err(|e| e.to_string())?;
        self.engine.set_presence(id, a.presence.clone(), now).map_err(|e| e.to_string())?;
        self.agents.insert(a.user, a);
        Ok(())
    }

    /// An open contact from the store goes back where it was: connected to
    /// its agent, or in line with its original enqueue time (offers that
    /// were in flight are made again).
    fn restore_contact(&mut self, mut c: ContactRecord, now: Timestamp) -> Result<(), String> {
        let Some(queue) = c.queue else { return Ok(()) };
        let mut spec = ContactSpec::new(c.id, c.channel, queue);
        spec.priority = c.priority;
        spec.attributes = c.attributes.clone();
        spec.enqueued_at = c.enqueued_at;
        match (c.state, c.agent) {
            (ContactState::Connected, Some(agent)) => {
                let since = c.updated_at;
                self.engine.restore_connected(spec, AgentId(agent.0), since, now).map_err(|e| e.to_string())?;
            }
            // A callback between two attempts waits out of line until the ticker puts it back.
            _ if crate::conversation::callback_due(&c).is_some() => c.agent = None,
            // A voicemail or a courtesy callback waits whatever the queue's hours say.
            _ if crate::conversation::is_voicemail(&c) || crate::conversation::is_callback(&c) => {
                self.engine.enqueue_callback(spec, now).map_err(|e| e.to_string())?;
                c.state = ContactState::CallbackScheduled;
                c.agent = None;
            }
            _ => {
                self.engine.enqueue(spec, now).map_err(|e| e.to_string())?;
                c.state = ContactState::Queued;
                c.agent = None;
            }
        }
        self.contacts.insert(c.id, c);
        Ok(())
    }

    /// Turns what the engine decided into record updates and log entries.
    pub fn absorb(&mut self, changes: &mut Vec<Change>) {
        let events: Vec<Event> = self.engine.drain_events().collect();
        let mut touched = BTreeSet::new();
        for ev in events {
            touched.extend(self.log_engine_event(&ev, changes));
        }
        for id in touched {
            if let Some(record) = self.contacts.get(&id) {
                changes.push(Change::PutContact(record.clone()));
                // Wrap-up is over only when the agent says so: keep it until then.
                if !record.state.is_open() && record.state != ContactState::WrapUp {
                    self.contacts.remove(&id);
                }
            }
        }
    }
}

impl Center {
    /// One of the engine's events as a log entry, applied to its contact's
    /// record when routing holds it; says which contact that was.
    pub fn log_engine_event(&mut self, ev: &Event, changes: &mut Vec<Change>) -> Option<ContactId> {
        let (contact, agent, queue) = event_subjects(&ev.kind);
        let mut agent = agent.map(|a| UserId(a.0));
        let mut touched = None;
        if let Some(id) = contact
            && let Some(record) = self.contacts.get_mut(&id)
        {
            apply_to_contact(record, ev);
            touched = Some(id);
            // A customer leaving during an offer, or a transfer away,
            // concerns the agent who had the contact: name them, so
            // their desktop hears of it.
            agent = agent.or(record.agent);
        }
        let customer = contact.and_then(|c| self.contacts.get(&c)).and_then(|r| r.customer);
        changes.push(Change::Append(NewEvent {
            workspace: self.workspace,
            at: ev.at,
            kind: Kind::of_engine(&ev.kind).as_str().into(),
            contact,
            agent,
            queue,
            customer,
            payload: serde_json::to_value(ev).unwrap_or_default(),
        }));
        touched
    }
}

/// An event about a contact that is not the engine's (chat, dispositions),
/// naming the contact's agent, queue and customer like the engine's.
/// A workspace's routing configuration, copied out of its engine.
pub struct Replica {
    pub policies: Vec<switchboard_core::policy::Policy>,
    pub queues: Vec<switchboard_core::queue::QueueConfig>,
    pub agents: Vec<AgentConfig>,
    /// The skills the policies and agents name, interned as they have them.
    pub skills: SkillRegistry,
}

/// An agent's engine configuration, its skills interned in `skills`.
fn agent_config(skills: &mut SkillRegistry, a: &AgentRecord) -> AgentConfig {
    let mut config = AgentConfig::new(AgentId(a.user.0));
    for (name, p) in &a.skills {
        config.skills.set(skills.intern(name), p.level());
    }
    config.capacity = a.capacity.clone();
    config.memberships = a.memberships.clone();
    config.wrap_up = a.wrap_up;
    config
}

pub fn contact_event(record: &ContactRecord, at: Timestamp, kind: Kind, mut payload: serde_json::Value) -> Change {
    payload["type"] = serde_json::json!(kind.as_str());
    Change::Append(NewEvent {
        workspace: record.workspace,
        at,
        kind: kind.as_str().into(),
        contact: Some(record.id),
        agent: record.agent,
        queue: record.queue,
        customer: record.customer,
        payload,
    })
}

fn corrupt(message: String) -> ServiceError {
    ServiceError::Store(StoreError::Corrupt(message))
}

fn event_subjects(kind: &EventKind) -> (Option<ContactId>, Option<AgentId>, Option<QueueId>) {
    match *kind {
        EventKind::ContactQueued { contact, queue, .. }
        | EventKind::StepChanged { contact, queue, .. }
        | EventKind::ContactOverflowed { contact, queue, .. }
        | EventKind::CallbackScheduled { contact, queue }
        | EventKind::ContactLeft { contact, queue, .. }
        | EventKind::ContactCancelled { contact, queue, .. } => (Some(contact), None, Some(queue)),
        EventKind::OfferCreated { contact, queue, agent, .. }
        | EventKind::OfferAccepted { contact, queue, agent, .. }
        | EventKind::OfferEnded { contact, queue, agent, .. }
        | EventKind::ContactEnded { contact, queue, agent } => (Some(contact), Some(agent), Some(queue)),
        EventKind::WrapUpEnded { contact, agent } => (Some(contact), Some(agent), None),
        EventKind::ContactTransferred { contact, from, .. } => (Some(contact), None, Some(from)),
        EventKind::AgentStateChanged { agent, .. } => (None, Some(agent), None),
    }
}

fn apply_to_contact(r: &mut ContactRecord, ev: &Event) {
    r.updated_at = ev.at;
    match &ev.kind {
        EventKind::ContactQueued { queue, .. } => {
            r.state = ContactState::Queued;
            r.queue = Some(*queue);
            r.agent = None;
            r.enqueued_at.get_or_insert(ev.at);
        }
        EventKind::OfferCreated { agent, .. } => {
            r.state = ContactState::Offered;
            r.agent = Some(UserId(agent.0));
        }
        EventKind::OfferAccepted { agent, .. } => {
            r.state = ContactState::Connected;
            r.agent = Some(UserId(agent.0));
        }
        EventKind::OfferEnded { .. } => {
            r.state = ContactState::Queued;
            r.agent = None;
        }
        EventKind::ContactEnded { .. } => r.state = ContactState::WrapUp,
        EventKind::WrapUpEnded { .. } => {
            r.state = ContactState::Completed;
            r.ended_at.get_or_insert(ev.at);
        }
        EventKind::ContactLeft { reason, .. } => {
            r.state = match reason {
                CancelReason::Abandoned => ContactState::Abandoned,
                CancelReason::Cancelled => ContactState::Cancelled,
            };
            r.ended_at = Some(ev.at);
        }
        EventKind::ContactCancelled { .. } => {
            r.state = ContactState::Cancelled;
            r.ended_at = Some(ev.at);
        }
        EventKind::ContactOverflowed {
            action: action @ (OverflowAction::Voicemail | OverflowAction::Disconnect),
            ..
        } => {
            r.state = ContactState::Failed;
            r.disposition =
                Some(if *action == OverflowAction::Voicemail { "voicemail" } else { "disconnected" }.into());
            r.ended_at = Some(ev.at);
        }
        EventKind::CallbackScheduled { .. } => r.state = ContactState::CallbackScheduled,
        _ => {}
    }
}
