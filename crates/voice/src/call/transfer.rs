//! A bridged call handed on to a queue or another agent (a blind transfer):
//! from the desktop (`POST /contacts/{id}/transfer`, followed through its
//! `contact_transferred` event) or from the agent's phone (its REFER, done
//! here through the service). Either way the call lets the agent's phone go
//! (our BYE), the caller hears the music and announcements again while
//! routing offers them on, and the next agent's phone is rung and bridged
//! as the first was. The recording goes on across it, so the file holds
//! the caller on the left throughout and each agent on the right in turn.

use super::Call;
use switchboard_core::ids::{ContactId, UserId, WorkspaceId};
use switchboard_service::ServiceError;

impl Call {
    /// Transfers the contact as the phone of `agent` asked (its Refer-To
    /// named `to`): the SIP status the phone is told in the NOTIFY.
    pub(super) async fn refer(&self, ws: WorkspaceId, contact: ContactId, agent: UserId, to: &str) -> u16 {
        match self.agent.service.phone_transfer(ws, contact, agent, to).await {
            Ok(target) => {
                tracing::info!(contact = contact.0, user = agent.0, ?target, "the agent's phone transferred the call");
                200
            }
            Err(e) => {
                tracing::info!(contact = contact.0, user = agent.0, to, error = %e, "the phone's transfer was refused");
                match e {
                    ServiceError::NotFound(_) => 404,
                    ServiceError::Conflict(_) | ServiceError::Invalid { .. } => 403,
                    _ => 500,
                }
            }
        }
    }
}
