//! Agents: their skills, capacity and queues, and their presence.
//! Each operation takes the caller's principal, checks its role, and
//! works inside its workspace only.

use super::{Service, ServiceError, audit, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchboard_core::agent::{Capacity, Membership, Presence};
use switchboard_core::ids::{AgentId, UserId};
use switchboard_core::queue::WrapUp;
use switchboard_core::skills::{MAX_LEVEL, Proficiency};
use switchboard_store::{AgentRecord, Change, Role, UserState};

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
}
