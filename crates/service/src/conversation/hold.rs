//! Hold: an agent puts the customer of a connected call on hold and takes
//! them off it, from the desktop or from their phone. Each change is a
//! `contact_held` or `contact_resumed` event on the contact (its `by` says
//! where it came from), so the voice channel following the events plays the
//! caller music meanwhile, and reports count the held time as hold rather
//! than talk (AHT = talk + hold + after-contact work). The caller's own hold
//! (their phone's re-INVITE while bridged) is recorded the same way, `by`
//! `caller`: the agent waits as much as when they hold, and so reports count it.

use crate::auth::Principal;
use crate::center::contact_event as event;
use crate::kinds::Kind;
use crate::{ContactState, Service, ServiceError};
use serde_json::json;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, UserId, WorkspaceId};

/// The `by` of a hold the caller's own phone made.
const CALLER: &str = "caller";

impl Service {
    /// The desktop's Hold (`on`) and Resume for the agent's own connected
    /// call; holding a held call or resuming one that is not is a conflict.
    pub async fn hold(&self, p: &Principal, id: ContactId, on: bool) -> Result<(), ServiceError> {
        let record = self.own_contact(p, id).await?;
        if record.channel != Channel::Voice {
            return Err(ServiceError::Conflict(format!("contact {} is not a call: only calls are held", id.0)));
        }
        if !self.set_hold(p.workspace, id, None, on, "desktop").await? {
            let now = if on { "on hold already" } else { "not on hold" };
            return Err(ServiceError::Conflict(format!("contact {} is {now}", id.0)));
        }
        Ok(())
    }

    /// The agent's phone held (`on`) or resumed the call of `agent`; a
    /// phone repeating itself changes nothing.
    pub async fn phone_hold(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        agent: UserId,
        on: bool,
    ) -> Result<(), ServiceError> {
        self.set_hold(ws, id, Some(agent), on, "phone").await.map(|_| ())
    }

    /// The caller's phone held (`on`) or resumed the call they are on with
    /// an agent. Their resume ends only a hold they began: a hold the agent
    /// made meanwhile (or before) stays until the agent resumes.
    pub async fn caller_hold(&self, ws: WorkspaceId, id: ContactId, on: bool) -> Result<(), ServiceError> {
        self.set_hold(ws, id, None, on, CALLER).await.map(|_| ())
    }

    /// Writes the change if it is one; whether it was.
    async fn set_hold(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        agent: Option<UserId>,
        on: bool,
        by: &str,
    ) -> Result<bool, ServiceError> {
        // One change at a time per conversation, so the desktop and the phone cannot both hold.
        let live = self.conversations().get(id);
        let _live = live.lock().await;
        let record = self.open_record(ws, id).await?;
        if record.state != ContactState::Connected || agent.is_some_and(|a| record.agent != Some(a)) {
            return Err(ServiceError::Conflict(format!("contact {} is not connected", id.0)));
        }
        let holder = self.holder(ws, id).await?;
        if holder.is_some() == on || (by == CALLER && holder.as_deref().is_some_and(|h| h != CALLER)) {
            return Ok(false);
        }
        let kind = if on { Kind::ContactHeld } else { Kind::ContactResumed };
        let payload = json!({ "by": by, "channel": record.channel });
        self.commit_and_publish(vec![event(&record, self.now(), kind, payload)]).await?;
        Ok(true)
    }

    /// Whether the contact is on hold now: held since it was last resumed
    /// or answered (a hold left open by a transfer is not the next agent's).
    pub async fn on_hold(&self, ws: WorkspaceId, id: ContactId) -> Result<bool, ServiceError> {
        Ok(self.holder(ws, id).await?.is_some())
    }

    /// Who holds the call now (the latest `contact_held`'s `by`), if it is held.
    async fn holder(&self, ws: WorkspaceId, id: ContactId) -> Result<Option<String>, ServiceError> {
        let (mut held, mut ended) = (None, 0);
        for e in self.store().contact_events(ws, id, None).await? {
            match Kind::parse(&e.kind) {
                Some(Kind::ContactHeld) => {
                    held = Some((e.id, e.payload["by"].as_str().unwrap_or_default().to_string()))
                }
                Some(Kind::ContactResumed | Kind::OfferAccepted) => ended = ended.max(e.id),
                _ => {}
            }
        }
        Ok(held.filter(|(at, _)| *at > ended).map(|(_, by)| by))
    }

    /// The id of the contact's latest event of each of `kinds` (0 for none),
    /// from one read of its log: which of two toggles came last (held or
    /// resumed, paused or resumed).
    pub(crate) async fn latest_of<const N: usize>(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        kinds: [Kind; N],
    ) -> Result<[u64; N], ServiceError> {
        let mut last = [0u64; N];
        for e in self.store().contact_events(ws, id, None).await? {
            if let Some(i) = kinds.iter().position(|k| k.as_str() == e.kind) {
                last[i] = last[i].max(e.id);
            }
        }
        Ok(last)
    }
}
