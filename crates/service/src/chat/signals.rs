//! Typing and read marks: shown live, never logged.

use super::Signal;
use crate::auth::Principal;
use crate::{Service, ServiceError};
use serde_json::json;
use switchboard_core::ids::ContactId;

impl Service {
    /// The agent's typing indicator, shown to the customer.
    pub async fn agent_typing(&self, p: &Principal, id: ContactId, on: bool) -> Result<(), ServiceError> {
        let record = self.own_contact(p, id).await?;
        let name = self.user_name(p.workspace, p.user).await?;
        self.fanout().signal(Signal {
            workspace: p.workspace,
            agent: record.agent,
            kind: "typing",
            contact: id,
            payload: json!({ "from": "agent", "on": on, "name": name }),
        });
        Ok(())
    }

    /// The agent has read the customer's messages up to `upto`.
    pub async fn agent_read(&self, p: &Principal, id: ContactId, upto: u64) -> Result<(), ServiceError> {
        let record = self.own_contact(p, id).await?;
        self.chat().mark_read(id, |m| m.agent = m.agent.max(upto));
        self.fanout().signal(Signal {
            workspace: p.workspace,
            agent: record.agent,
            kind: "read",
            contact: id,
            payload: json!({ "from": "agent", "upto": upto }),
        });
        Ok(())
    }
}
