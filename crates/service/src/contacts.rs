//! Contacts over the API: offered, accepted, rejected, completed with a
//! disposition, transferred and cancelled (integrators create them on the
//! `api` channel: see `api_channel`).
//! Each operation takes the caller's principal, checks its role, and
//! works inside its workspace only.

use super::center::contact_event;
use super::documents::Disposition;
use super::settings::DEFAULT_DISPOSITION_GRACE_SECONDS;
use super::{Center, Service, ServiceError, require};
use crate::auth::Principal;
use crate::kinds::Kind;
use serde_json::json;
use switchboard_core::events::{CancelReason, TransferTarget};
use switchboard_core::ids::{AgentId, ContactId, UserId, WorkspaceId};
use switchboard_store::{Change, ContactFilter, ContactRecord, ContactState, Role};

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

impl Service {
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

    /// A channel's device answered an offer for the agent it was made to
    /// (the agent's SIP phone picked up): accepted as that agent, as if
    /// from the desktop. `Conflict` when the offer is no longer that
    /// agent's (it timed out or was taken back meanwhile).
    pub async fn accept_offer_for(&self, ws: WorkspaceId, id: ContactId, agent: UserId) -> Result<(), ServiceError> {
        self.apply(ws, move |c, now, _| {
            Self::offered_to(c, id, agent)?;
            c.engine.accept(id, AgentId(agent.0), now)?;
            Ok(())
        })
        .await
    }

    /// A channel's device declined an offer for its agent (the phone was
    /// busy or rejected the call): the same as the agent's reject.
    pub async fn decline_offer_for(&self, ws: WorkspaceId, id: ContactId, agent: UserId) -> Result<(), ServiceError> {
        self.apply(ws, move |c, now, _| {
            Self::offered_to(c, id, agent)?;
            c.engine.reject(id, AgentId(agent.0), now)?;
            Ok(())
        })
        .await
    }

    fn offered_to(c: &Center, id: ContactId, agent: UserId) -> Result<(), ServiceError> {
        let record = c.contacts.get(&id).ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
        if record.state != ContactState::Offered || record.agent != Some(agent) {
            return Err(ServiceError::Conflict(format!("contact {} is not offered to user {}", id.0, agent.0)));
        }
        Ok(())
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
}
