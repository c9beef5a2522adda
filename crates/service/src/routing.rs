//! Routing set-up: skills, routing policies and queues.
//! Each operation takes the caller's principal, checks its role, and
//! works inside its workspace only.

use super::documents::BusinessHours;
use super::settings::QueueSettings;
use super::{Ids, Service, ServiceError, audit, names, require};
use crate::auth::Principal;
use switchboard_core::ids::{PolicyId, QueueId};
use switchboard_core::policy::StepSpec;
use switchboard_store::{Change, PolicyRecord, QueueRecord, Role, Skill};

impl Service {
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

    pub async fn queues(&self, p: &Principal) -> Result<Vec<QueueRecord>, ServiceError> {
        Ok(self.store().queues(p.workspace).await?)
    }

    pub async fn policies(&self, p: &Principal) -> Result<Vec<PolicyRecord>, ServiceError> {
        Ok(self.store().policies(p.workspace).await?)
    }
}
