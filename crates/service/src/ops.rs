//! The operations, grouped by what they act on. Each takes the caller's
//! principal, checks its role, and works inside its workspace only.

use super::center::contact_event;
use super::documents::{BusinessHours, Disposition};
use super::settings::{DEFAULT_DISPOSITION_GRACE_SECONDS, QueueSettings};
use super::{Center, Ids, Service, ServiceError, audit, names, require};
use crate::auth::{self, Principal};
use crate::kinds::Kind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use switchboard_core::agent::{AgentState, Capacity, Membership, Presence};
use switchboard_core::channel::Channel;
use switchboard_core::contact::ContactSpec;
use switchboard_core::events::{CancelReason, TransferTarget};
use switchboard_core::expr::Value;
use switchboard_core::ids::{AgentId, ContactId, CustomerId, PolicyId, QueueId, UserId, WorkspaceId};
use switchboard_core::policy::StepSpec;
use switchboard_core::queue::WrapUp;
use switchboard_core::skills::{MAX_LEVEL, Proficiency};
use switchboard_core::time::Timestamp;
use switchboard_store::{
    AgentRecord, Change, ContactFilter, ContactRecord, ContactState, Direction, PolicyRecord, QueueRecord, Role, Skill,
    User, UserState, Workspace,
};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    #[serde(default)]
    pub skills: BTreeMap<String, Proficiency>,
    #[serde(default)]
    pub capacity: Capacity,
    #[serde(default)]
    pub queues: Vec<Membership>,
    #[serde(default)]
    pub wrap_up: Option<WrapUp>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub queue: QueueId,
    #[serde(default = "api_channel")]
    pub channel: Channel,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// Instead of `customer`: the customer with this identity, created if new.
    #[serde(default)]
    pub customer_identity: Option<super::IdentityValue>,
}

fn api_channel() -> Channel {
    Channel::Api
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueStats {
    pub queue: QueueId,
    pub name: String,
    pub waiting: u32,
    pub callbacks: u32,
    pub oldest_wait_seconds: Option<f64>,
    pub agents: BTreeMap<AgentState, u32>,
    /// The queue's service-level threshold.
    pub sl_seconds: f64,
    /// Since midnight UTC, from the event log.
    #[serde(flatten)]
    pub today: super::today::QueueToday,
}

#[derive(Clone, Debug, Serialize)]
pub struct AgentStats {
    pub agent: UserId,
    pub presence: Presence,
    pub state: AgentState,
    pub seconds_in_state: f64,
    pub contacts: Vec<ContactId>,
    /// Contacts accepted since midnight UTC.
    pub handled_today: u64,
    /// Contacts this agent rejected or missed and is not offered again until
    /// the queue's decline cooldown ends, soonest first: why an available
    /// agent may sit idle beside a waiting contact.
    pub cooldowns: Vec<Cooldown>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cooldown {
    pub contact: ContactId,
    pub seconds_left: f64,
}

/// What the agent wrote at wrap-up; what is left out keeps the contact's own.
#[derive(Clone, Debug)]
struct Written {
    disposition: Option<String>,
    notes: Option<String>,
}

impl Written {
    fn onto(self, r: &mut ContactRecord) {
        if self.disposition.is_some() {
            r.disposition = self.disposition;
        }
        if self.notes.is_some() {
            r.notes = self.notes;
        }
    }
}

/// An argon2id hash of a new password, which must have at least 8 characters.
pub(super) async fn password_hash(password: &str) -> Result<String, ServiceError> {
    if password.chars().count() < 8 {
        return Err(ServiceError::invalid("password", "must have at least 8 characters"));
    }
    let password = password.to_string();
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ServiceError::invalid("password", e.to_string()))
}

/// An agent as `PUT /agents/{id}` takes it, with its presence: what the
/// admin page edits, so that saving one field keeps the others.
#[derive(Clone, Debug, Serialize)]
pub struct AgentView {
    pub user: UserId,
    pub skills: BTreeMap<String, Proficiency>,
    pub capacity: Capacity,
    pub queues: Vec<Membership>,
    pub wrap_up: Option<WrapUp>,
    pub presence: Presence,
}

impl From<AgentRecord> for AgentView {
    fn from(a: AgentRecord) -> Self {
        AgentView {
            user: a.user,
            skills: a.skills,
            capacity: a.capacity,
            queues: a.memberships,
            wrap_up: a.wrap_up,
            presence: a.presence,
        }
    }
}

impl Service {
    // ----- workspaces and users ------------------------------------------

    /// A new workspace with its first administrator (installation set-up,
    /// not an API call: there is no principal yet).
    pub async fn create_workspace(&self, name: &str, admin: NewUser) -> Result<(Workspace, User), ServiceError> {
        let now = self.now();
        let ws = Workspace {
            id: WorkspaceId(Ids::next(&self.ids().workspace)),
            name: names::name("name", name)?,
            created_at: now,
        };
        let user = self.user_record(ws.id, admin, now).await?;
        self.store().commit(vec![Change::PutWorkspace(ws.clone()), Change::PutUser(user.clone())]).await?;
        Ok((ws, user))
    }

    async fn user_record(&self, ws: WorkspaceId, u: NewUser, now: Timestamp) -> Result<User, ServiceError> {
        let email = names::line("email", &u.email, 254)?.to_lowercase();
        if !email.contains('@') {
            return Err(ServiceError::invalid("email", format!("'{email}' is not an email address")));
        }
        let name = names::name("name", &u.name)?;
        if self.store().user_by_email(&email).await?.is_some() {
            return Err(ServiceError::Conflict(format!("a user with email {email} exists")));
        }
        let password_hash = password_hash(&u.password).await?;
        Ok(User {
            id: UserId(Ids::next(&self.ids().user)),
            workspace: ws,
            email,
            name,
            role: u.role,
            password_hash,
            created_at: now,
            state: UserState::Active,
        })
    }

    pub async fn create_user(&self, p: &Principal, u: NewUser) -> Result<User, ServiceError> {
        require(p, Role::Admin)?;
        let user = self.user_record(p.workspace, u, self.now()).await?;
        let (record, principal) = (user.clone(), *p);
        self.apply(p.workspace, move |_, now, changes| {
            changes.push(audit::entry(&principal, now, "create_user", format!("user/{}", record.id.0)));
            changes.push(Change::PutUser(record));
            Ok(())
        })
        .await?;
        Ok(user)
    }

    /// Everyone in the workspace (agents too: they transfer to colleagues
    /// and read their names on timelines). Password hashes are never shown.
    pub async fn users(&self, p: &Principal) -> Result<Vec<User>, ServiceError> {
        Ok(self.store().users(p.workspace).await?)
    }

    // ----- routing configuration -----------------------------------------

    pub async fn create_skill(&self, p: &Principal, name: &str) -> Result<Skill, ServiceError> {
        require(p, Role::Admin)?;
        let name = names::name("name", name)?;
        if !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return Err(ServiceError::invalid("name", "use letters, digits, '_' and '-' only"));
        }
        let skill = Skill { workspace: p.workspace, name };
        let (record, principal) = (skill.clone(), *p);
        self.apply(p.workspace, move |c, now, changes| {
            c.skills.intern(&record.name);
            changes.push(audit::entry(&principal, now, "create_skill", format!("skill/{}", record.name)));
            changes.push(Change::PutSkill(record));
            Ok(())
        })
        .await?;
        Ok(skill)
    }

    pub async fn put_policy(
        &self,
        p: &Principal,
        id: Option<PolicyId>,
        name: &str,
        steps: Vec<StepSpec>,
    ) -> Result<PolicyRecord, ServiceError> {
        require(p, Role::Admin)?;
        let action = if id.is_some() { "update_policy" } else { "create_policy" };
        let principal = *p;
        let id = id.unwrap_or_else(|| PolicyId(Ids::next(&self.ids().policy)));
        let record = PolicyRecord { id, workspace: p.workspace, name: names::name("name", name)?, steps };
        let out = record.clone();
        self.apply(p.workspace, move |c, now, changes| {
            if let Some(existing) = c.policies.get(&id).map(|x| x.workspace) {
                debug_assert_eq!(existing, c.workspace);
            }
            switchboard_core::policy::compile(id, &record.steps, &c.skills).map_err(|e| {
                let field = e.step().map_or("steps".to_string(), |s| format!("steps[{}].expr", s - 1));
                ServiceError::invalid(field, e.to_string())
            })?;
            c.install_policy(record.clone(), now).map_err(|m| ServiceError::invalid("steps", m))?;
            changes.push(audit::entry(&principal, now, action, format!("policy/{}", id.0)));
            changes.push(Change::PutPolicy(record));
            Ok(())
        })
        .await?;
        Ok(out)
    }

    pub async fn put_queue(
        &self,
        p: &Principal,
        id: Option<QueueId>,
        name: &str,
        settings: QueueSettings,
    ) -> Result<QueueRecord, ServiceError> {
        require(p, Role::Admin)?;
        let action = if id.is_some() { "update_queue" } else { "create_queue" };
        let principal = *p;
        let id = id.unwrap_or_else(|| QueueId(Ids::next(&self.ids().queue)));
        let name = names::name("name", name)?;
        let hours = self.documents::<BusinessHours>(p.workspace).await?;
        settings
            .to_config(id, &name, |b| hours.iter().find(|h| h.id == b).map(|h| h.body.calendar.clone()))
            .map_err(|e| ServiceError::invalid(e.field, e.message))?;
        let record = QueueRecord {
            id,
            workspace: p.workspace,
            name,
            settings: serde_json::to_value(&settings).map_err(|e| ServiceError::invalid("settings", e.to_string()))?,
        };
        let out = record.clone();
        self.apply(p.workspace, move |c, now, changes| {
            if !c.policies.contains_key(&settings.policy) {
                return Err(ServiceError::invalid("policy", format!("no routing policy {}", settings.policy.0)));
            }
            c.install_queue(record.clone(), now).map_err(|m| ServiceError::invalid("settings", m))?;
            changes.push(audit::entry(&principal, now, action, format!("queue/{}", id.0)));
            changes.push(Change::PutQueue(record));
            Ok(())
        })
        .await?;
        Ok(out)
    }

    pub async fn skills(&self, p: &Principal) -> Result<Vec<Skill>, ServiceError> {
        Ok(self.store().skills(p.workspace).await?)
    }

    /// The workspace's agents, by user id.
    pub async fn agents(&self, p: &Principal) -> Result<Vec<AgentView>, ServiceError> {
        require(p, Role::Supervisor)?;
        let mut agents: Vec<AgentView> =
            self.inspect(p.workspace, |c| c.agents.values().cloned().map(AgentView::from).collect()).await?;
        agents.sort_by_key(|a| a.user);
        Ok(agents)
    }

    /// An agent reads itself; supervisors read anyone.
    pub async fn agent(&self, p: &Principal, user: UserId) -> Result<AgentView, ServiceError> {
        if user != p.user {
            require(p, Role::Supervisor)?;
        }
        let found = self.inspect(p.workspace, |c| c.agents.get(&user).cloned()).await?;
        found.map(AgentView::from).ok_or_else(|| ServiceError::NotFound(format!("agent {}", user.0)))
    }

    pub async fn queues(&self, p: &Principal) -> Result<Vec<QueueRecord>, ServiceError> {
        Ok(self.store().queues(p.workspace).await?)
    }

    pub async fn policies(&self, p: &Principal) -> Result<Vec<PolicyRecord>, ServiceError> {
        Ok(self.store().policies(p.workspace).await?)
    }

    /// Makes a user an agent, or changes an agent's skills, capacity and queues.
    pub async fn put_agent(&self, p: &Principal, user: UserId, spec: AgentSpec) -> Result<AgentRecord, ServiceError> {
        require(p, Role::Admin)?;
        if self.store().user(p.workspace, user).await?.is_none() {
            return Err(ServiceError::NotFound(format!("user {}", user.0)));
        }
        let principal = *p;
        self.apply(p.workspace, move |c, now, changes| {
            for m in &spec.queues {
                if !c.queues.contains_key(&m.queue) {
                    return Err(ServiceError::invalid("queues", format!("no queue {}", m.queue.0)));
                }
            }
            for (name, proficiency) in &spec.skills {
                if c.skills.get(name).is_none() {
                    return Err(ServiceError::invalid("skills", format!("unknown skill '{name}'")));
                }
                if let Proficiency::Level(level) = proficiency
                    && !(1..=MAX_LEVEL).contains(level)
                {
                    let message = format!("skill levels run from 1 to {MAX_LEVEL}, got {level}");
                    return Err(ServiceError::invalid(format!("skills.{name}"), message));
                }
            }
            let presence = c.agents.get(&user).map_or(Presence::Offline, |a| a.presence.clone());
            let record = AgentRecord {
                user,
                workspace: c.workspace,
                skills: spec.skills,
                capacity: spec.capacity,
                memberships: spec.queues,
                wrap_up: spec.wrap_up,
                presence,
            };
            c.install_agent(record.clone(), now).map_err(|m| ServiceError::invalid("agent", m))?;
            changes.push(audit::entry(&principal, now, "put_agent", format!("agent/{}", user.0)));
            changes.push(Change::PutAgent(record.clone()));
            Ok(record)
        })
        .await
    }

    /// Agents change their own state; supervisors may force anyone's.
    pub async fn set_agent_state(&self, p: &Principal, user: UserId, presence: Presence) -> Result<(), ServiceError> {
        if user != p.user {
            require(p, Role::Supervisor)?;
        }
        // A disabled or deleted user stays offline, even by a supervisor's hand.
        let active = self.store().user(p.workspace, user).await?.is_some_and(|u| u.state == UserState::Active);
        if !active && presence != Presence::Offline {
            return Err(ServiceError::Conflict(format!("user {} is disabled or deleted", user.0)));
        }
        self.apply(p.workspace, move |c, now, changes| {
            let record = c.agents.get_mut(&user).ok_or_else(|| ServiceError::NotFound(format!("agent {}", user.0)))?;
            c.engine.set_presence(AgentId(user.0), presence.clone(), now)?;
            record.presence = presence;
            changes.push(Change::PutAgent(record.clone()));
            Ok(())
        })
        .await
    }

    // ----- contacts ------------------------------------------------------

    /// A contact on the generic `api` channel (or any channel a queue
    /// serves), routed at once.
    pub async fn create_contact(&self, p: &Principal, new: NewContact) -> Result<ContactRecord, ServiceError> {
        require(p, Role::Supervisor)?;
        // Held until the commit: the new customer is written with the contact.
        let (identified, _guard) = self.customer_for_contact(p, new.customer, new.customer_identity.clone()).await?;
        let customer = identified.as_ref().map(|i| i.id);
        let new_customer = identified.map(|i| i.changes).unwrap_or_default();
        let id = ContactId(Ids::next(&self.ids().contact));
        let create = move |c: &mut Center, now: Timestamp, changes: &mut Vec<Change>| {
            if !c.queues.contains_key(&new.queue) {
                return Err(ServiceError::invalid("queue", format!("no queue {}", new.queue.0)));
            }
            let record = ContactRecord {
                id,
                workspace: c.workspace,
                customer,
                channel: new.channel,
                direction: Direction::Inbound,
                queue: Some(new.queue),
                state: ContactState::New,
                priority: new.priority,
                attributes: new.attributes.clone(),
                agent: None,
                enqueued_at: Some(now),
                disposition: None,
                notes: None,
                created_at: now,
                updated_at: now,
                ended_at: None,
            };
            let mut spec = ContactSpec::new(id, new.channel, new.queue);
            spec.priority = new.priority;
            spec.attributes = new.attributes;
            c.engine.enqueue(spec, now).map_err(|e| match e {
                switchboard_core::engine::EngineError::ChannelNotServed { .. } => {
                    ServiceError::invalid("channel", e.to_string())
                }
                other => other.into(),
            })?;
            // Only now, with routing agreed: a refused contact leaves no customer behind.
            changes.extend(new_customer);
            changes.push(Change::PutContact(record.clone()));
            c.contacts.insert(id, record.clone());
            Ok(record)
        };
        // The answer is the contact as committed (routing may already have
        // offered it), taken from the batch rather than read back.
        let last_put = |record: ContactRecord, changes: &[Change]| {
            changes
                .iter()
                .rev()
                .find_map(|ch| match ch {
                    Change::PutContact(r) if r.id == id => Some(r.clone()),
                    _ => None,
                })
                .unwrap_or(record)
        };
        self.apply_then(p.workspace, create, last_put).await
    }

    pub async fn contact(&self, p: &Principal, id: ContactId) -> Result<ContactRecord, ServiceError> {
        let record = self
            .store()
            .contact(p.workspace, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
        if p.role == Role::Agent && record.agent != Some(p.user) {
            return Err(ServiceError::NotFound(format!("contact {}", id.0)));
        }
        Ok(record)
    }

    pub async fn contacts(
        &self,
        p: &Principal,
        mut filter: ContactFilter,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<ContactRecord>, ServiceError> {
        if p.role == Role::Agent {
            filter.agent = Some(p.user);
        }
        Ok(self.store().contacts(p.workspace, &filter, after, limit.clamp(1, 500)).await?)
    }

    /// The contact must be the caller's (agents) or in the workspace (supervisors).
    fn check_own(p: &Principal, record: &ContactRecord) -> Result<(), ServiceError> {
        if p.role == Role::Agent && record.agent != Some(p.user) {
            return Err(ServiceError::NotFound(format!("contact {}", record.id.0)));
        }
        Ok(())
    }

    pub async fn accept(&self, p: &Principal, id: ContactId) -> Result<(), ServiceError> {
        let user = p.user;
        let principal = *p;
        self.apply(p.workspace, move |c, now, _| {
            let record = c.contacts.get(&id).ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
            Self::check_own(&principal, record)?;
            let agent = record.agent.unwrap_or(user);
            c.engine.accept(id, AgentId(agent.0), now)?;
            Ok(())
        })
        .await
    }

    pub async fn reject(&self, p: &Principal, id: ContactId) -> Result<(), ServiceError> {
        let principal = *p;
        self.apply(p.workspace, move |c, now, _| {
            let record = c.contacts.get(&id).ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
            Self::check_own(&principal, record)?;
            let agent = record.agent.ok_or(ServiceError::Conflict(format!("contact {} is not offered", id.0)))?;
            c.engine.reject(id, AgentId(agent.0), now)?;
            Ok(())
        })
        .await
    }

    /// Ends handling (if still connected) and wrap-up, with a disposition.
    /// Once wrap-up has ended (a queue without one, or a fixed one that ran
    /// out first) the disposition and notes are still recorded, for the
    /// queue's `disposition_grace_seconds`: the agent's work is not lost.
    pub async fn complete(
        &self,
        p: &Principal,
        id: ContactId,
        disposition: Option<String>,
        notes: Option<String>,
    ) -> Result<(), ServiceError> {
        if let Some(code) = &disposition {
            let known = self.documents::<Disposition>(p.workspace).await?;
            if !known.is_empty() && !known.iter().any(|d| d.body.code == *code) {
                return Err(ServiceError::invalid("disposition", format!("no disposition code '{code}'")));
            }
        }
        let principal = *p;
        let written = Written { disposition, notes };
        let late = written.clone();
        let live = self
            .apply(p.workspace, move |c, now, _| {
                let Some(record) = c.contacts.get_mut(&id) else { return Ok(false) };
                Self::check_own(&principal, record)?;
                let agent =
                    AgentId(record.agent.ok_or(ServiceError::Conflict(format!("contact {} has no agent", id.0)))?.0);
                written.onto(record);
                if record.state == ContactState::Connected {
                    c.engine.end_contact(id, now)?;
                }
                // A queue with wrap-up leaves the agent wrapping up: completing ends that too.
                if c.engine.agent_snapshot(agent)?.contacts.iter().any(|(x, _, phase)| *x == id && *phase == "wrap_up")
                {
                    c.engine.end_wrap_up(agent, id, now)?;
                }
                Ok(true)
            })
            .await?;
        if live { Ok(()) } else { self.late_disposition(p, id, late).await }
    }

    /// Records a disposition and notes on a contact whose wrap-up is over,
    /// with a `disposition_set` event, within the queue's grace period.
    async fn late_disposition(&self, p: &Principal, id: ContactId, written: Written) -> Result<(), ServiceError> {
        let mut record = self
            .store()
            .contact(p.workspace, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
        Self::check_own(p, &record)?;
        if record.state != ContactState::Completed {
            let state = serde_json::to_value(record.state).unwrap_or_default();
            return Err(ServiceError::Conflict(format!("contact {} was not handled (it is {state})", id.0)));
        }
        if written.disposition.is_none() && written.notes.is_none() {
            return Ok(());
        }
        let by = p.user;
        self.apply(p.workspace, move |c, now, changes| {
            let grace = record
                .queue
                .and_then(|q| c.queues.get(&q))
                .and_then(|q| q.settings.get("disposition_grace_seconds")?.as_f64())
                .unwrap_or(DEFAULT_DISPOSITION_GRACE_SECONDS);
            let ended = record.ended_at.unwrap_or(record.updated_at);
            if now.since(ended).as_secs_f64() > grace {
                return Err(ServiceError::Conflict(format!(
                    "contact {} was wrapped up more than {grace} s ago: its disposition and notes can no longer be set",
                    id.0
                )));
            }
            let payload =
                json!({ "contact": id, "disposition": written.disposition, "notes": written.notes, "by": by });
            written.onto(&mut record);
            record.updated_at = now;
            changes.push(contact_event(&record, now, Kind::DispositionSet, payload));
            changes.push(Change::PutContact(record));
            Ok(())
        })
        .await
    }

    pub async fn transfer(&self, p: &Principal, id: ContactId, target: TransferTarget) -> Result<(), ServiceError> {
        let principal = *p;
        self.apply(p.workspace, move |c, now, _| {
            let record = c.contacts.get(&id).ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
            Self::check_own(&principal, record)?;
            c.engine.transfer(id, target, now)?;
            Ok(())
        })
        .await
    }

    pub async fn cancel(&self, p: &Principal, id: ContactId) -> Result<(), ServiceError> {
        require(p, Role::Supervisor)?;
        self.apply(p.workspace, move |c, now, _| {
            c.engine.cancel(id, CancelReason::Cancelled, now)?;
            Ok(())
        })
        .await
    }

    // ----- statistics ----------------------------------------------------

    pub async fn queue_stats(&self, p: &Principal) -> Result<Vec<QueueStats>, ServiceError> {
        let (today, _) = self.today_by_queue(p.workspace).await?;
        self.inspect(p.workspace, |c| {
            let now = self.now();
            let mut out = Vec::new();
            let mut ids: Vec<_> = c.queues.keys().copied().collect();
            ids.sort();
            for q in ids {
                let snap = c.engine.queue_snapshot(q)?;
                let day = today.get(&Some(q)).cloned().unwrap_or_default();
                let sl_seconds = c.queues[&q].settings.get("sl_seconds").and_then(|v| v.as_f64()).unwrap_or(20.0);
                out.push(QueueStats {
                    queue: q,
                    name: c.queues[&q].name.clone(),
                    waiting: snap.waiting,
                    callbacks: snap.callbacks,
                    oldest_wait_seconds: snap.oldest_enqueued_at.map(|t| now.since(t).as_secs_f64()),
                    agents: snap.agents,
                    sl_seconds,
                    today: day,
                });
            }
            Ok(out)
        })
        .await?
    }

    pub async fn agent_stats(&self, p: &Principal) -> Result<Vec<AgentStats>, ServiceError> {
        let own = (p.role == Role::Agent).then_some(p.user);
        let (_, handled) = self.today_by_queue(p.workspace).await?;
        let now = self.now();
        self.inspect(p.workspace, move |c| {
            let mut ids: Vec<_> = c.agents.keys().copied().filter(|u| own.is_none_or(|o| o == *u)).collect();
            ids.sort();
            ids.into_iter()
                .map(|u| {
                    let s = c.engine.agent_snapshot(AgentId(u.0))?;
                    let cooldowns = c.engine.cooldowns(AgentId(u.0), now)?;
                    Ok(AgentStats {
                        agent: u,
                        presence: s.presence,
                        state: s.state,
                        seconds_in_state: now.since(s.state_since).as_secs_f64(),
                        contacts: s.contacts.iter().map(|x| x.0).collect(),
                        handled_today: handled.get(&u).copied().unwrap_or(0),
                        cooldowns: cooldowns
                            .into_iter()
                            .map(|(contact, until)| Cooldown { contact, seconds_left: until.since(now).as_secs_f64() })
                            .collect(),
                    })
                })
                .collect()
        })
        .await?
    }
}
