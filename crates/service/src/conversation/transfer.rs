//! A call's blind transfer asked for by the agent's phone (its REFER): the
//! address it names is a queue's number (a voice endpoint's, the queue it
//! hands to; its IVR is not run again) or another agent's SIP username.
//! Either becomes the desktop's transfer of the contact (`contact_transferred`),
//! which the voice channel follows as it does the desktop's.

use crate::{ContactState, Service, ServiceError};
use switchboard_core::channel::Channel;
use switchboard_core::events::TransferTarget;
use switchboard_core::ids::{AgentId, ContactId, UserId, WorkspaceId};

impl Service {
    /// The phone of `agent`, talking on contact `id`, transfers it to `to`
    /// (a number or a SIP username). `NotFound` when `to` is neither in the
    /// contact's workspace; `Conflict` when the contact is not that agent's
    /// connected call, or the transfer is refused (to the same agent).
    pub async fn phone_transfer(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        agent: UserId,
        to: &str,
    ) -> Result<TransferTarget, ServiceError> {
        let target = self
            .transfer_target(ws, to)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no queue's number or agent '{to}' to transfer to")))?;
        self.apply(ws, move |c, now, _| {
            let record = c.contacts.get(&id).ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
            if record.state != ContactState::Connected || record.agent != Some(agent) {
                return Err(ServiceError::Conflict(format!("contact {} is not user {}'s call", id.0, agent.0)));
            }
            c.engine.transfer(id, target, now).map_err(|e| ServiceError::Conflict(e.to_string()))
        })
        .await?;
        Ok(target)
    }

    /// What `to` names in workspace `ws`: the queue of the voice endpoint
    /// at that number, else the agent with that SIP username.
    async fn transfer_target(&self, ws: WorkspaceId, to: &str) -> Result<Option<TransferTarget>, ServiceError> {
        // A number dialled without its + is read as international, as for incoming calls.
        let plus = (to.len() > 1 && to.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{to}"));
        for number in std::iter::once(to).chain(plus.as_deref()) {
            let endpoint = self.endpoint_at(Channel::Voice, number).await?.filter(|e| e.workspace == ws && e.enabled);
            if let Some(endpoint) = endpoint {
                return Ok(endpoint.queue.map(TransferTarget::Queue));
            }
        }
        let account = self.all_sip_usernames().await?.into_iter().find(|(w, _, name)| *w == ws && name == to);
        Ok(account.map(|(_, user, _)| TransferTarget::Agent(AgentId(user.0))))
    }
}
