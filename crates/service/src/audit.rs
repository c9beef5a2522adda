//! The audit log: every successful administrative change appends an event
//! of kind `audit` in the same commit as the change itself, so the log
//! holds exactly what happened. No table of its own: it is read from the
//! event log by kind.

use super::{Service, ServiceError, require};
use crate::auth::Principal;
use serde_json::{Value, json};
use switchboard_core::ids::WorkspaceId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, LoggedEvent, NewEvent, Role};

/// The event kind of audit entries.
pub const AUDIT: &str = crate::kinds::Kind::Audit.as_str();

/// An audit entry to commit with the change it records: `action` (e.g.
/// `create_queue`) on `target` (e.g. `queue/3`) by the principal's user.
/// Never put a credential in `target`.
pub fn entry(p: &Principal, at: Timestamp, action: &str, target: String) -> Change {
    detailed(p, at, action, target, json!({}))
}

/// [`entry`] with more to say, e.g. which credentials changed (their
/// names: never a value). `details` is an object whose fields join the
/// entry's.
pub fn detailed(p: &Principal, at: Timestamp, action: &str, target: String, details: Value) -> Change {
    appended(p.workspace, json!(p.user), at, action, target, details)
}

/// An entry for a change the server made on its own (`by` is null): the
/// chat widget's endpoint, made the first time the widget is asked for.
pub fn by_server(ws: WorkspaceId, at: Timestamp, action: &str, target: String, details: Value) -> Change {
    appended(ws, Value::Null, at, action, target, details)
}

fn appended(ws: WorkspaceId, by: Value, at: Timestamp, action: &str, target: String, details: Value) -> Change {
    let mut payload = json!({ "type": AUDIT, "action": action, "target": target, "by": by });
    if let (Value::Object(payload), Value::Object(details)) = (&mut payload, details) {
        payload.extend(details);
    }
    Change::Append(NewEvent {
        workspace: ws,
        at,
        kind: AUDIT.to_string(),
        contact: None,
        agent: None,
        queue: None,
        customer: None,
        payload,
    })
}

impl Service {
    /// Audit entries with ids greater than `after`, oldest first.
    pub async fn audit_log(&self, p: &Principal, after: u64, limit: u32) -> Result<Vec<LoggedEvent>, ServiceError> {
        require(p, Role::Admin)?;
        Ok(self.store().events_of_kind(p.workspace, AUDIT, after, limit.clamp(1, 500)).await?)
    }
}
