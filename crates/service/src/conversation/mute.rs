//! Mute: the agent on a call stops the caller hearing them (the desktop's
//! Mute, for a cough or a word with a colleague), without putting the
//! caller on hold. Each change is a `contact_muted` or `contact_unmuted`
//! event naming the user; the voice channel follows it (the agent's audio
//! is neither relayed nor recorded meanwhile). A mute ends with the
//! handling: the next agent after a transfer starts unmuted.

use crate::auth::Principal;
use crate::center::contact_event as event;
use crate::kinds::Kind;
use crate::{ContactState, Service, ServiceError};
use serde_json::json;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_store::ContactRecord;

impl Service {
    /// The desktop's Mute (`on`) and Unmute for the agent's own connected
    /// call; muting a muted call or unmuting one that is not is a conflict.
    pub async fn mute(&self, p: &Principal, id: ContactId, on: bool) -> Result<(), ServiceError> {
        let record = self.own_call(p, id).await?;
        // One change at a time per conversation: two tabs cannot both mute.
        let live = self.conversations().get(id);
        let _live = live.lock().await;
        if self.muted(p.workspace, id).await? == on {
            let now = if on { "muted already" } else { "not muted" };
            return Err(ServiceError::Conflict(format!("contact {} is {now}", id.0)));
        }
        let kind = if on { Kind::ContactMuted } else { Kind::ContactUnmuted };
        self.commit_and_publish(vec![event(&record, self.now(), kind, json!({ "by": p.user.0 }))]).await?;
        Ok(())
    }

    /// The user's own contact (any, for supervisors) when it is a connected
    /// call; `Conflict` otherwise.
    pub(super) async fn own_call(&self, p: &Principal, id: ContactId) -> Result<ContactRecord, ServiceError> {
        let record = self.own_contact(p, id).await?;
        if record.channel != Channel::Voice || record.state != ContactState::Connected {
            return Err(ServiceError::Conflict(format!("contact {} is not a call in progress", id.0)));
        }
        Ok(record)
    }

    /// Whether the agent of the contact's current handling is muted.
    pub async fn muted(&self, ws: WorkspaceId, id: ContactId) -> Result<bool, ServiceError> {
        let [muted, unmuted, accepted] =
            self.latest_of(ws, id, [Kind::ContactMuted, Kind::ContactUnmuted, Kind::OfferAccepted]).await?;
        Ok(muted > unmuted.max(accepted))
    }
}
