//! What a rule does when it fires, in order.

use super::RuleError;
use super::condition::attribute_name;
use crate::expr::Value;
use crate::ids::QueueId;
use serde::{Deserialize, Serialize};

/// The longest tag or notification, in characters.
const MAX_TAG: usize = 64;
const MAX_MESSAGE: usize = 1_000;
/// Priorities a rule may set; the engine orders contacts by them.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i32> = -1_000..=1_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Sets the contact's priority (a waiting contact is reordered in line).
    SetPriority { priority: i32 },
    /// Sets one of the contact's attributes (routing reads them).
    SetAttribute { name: String, value: Value },
    /// Adds a tag to the contact's customer.
    AddTag { tag: String },
    /// Moves a waiting contact to another queue.
    Transfer { queue: QueueId },
    /// Sends the canned response with this shortcut to the customer.
    Reply { canned: String },
    /// Posts the `rule_fired` event to this webhook (signed with its secret).
    Webhook { webhook: u64 },
    /// Tells the workspace's supervisors, on their live event stream.
    NotifySupervisors { message: String },
    /// Puts the conversation under this SLA policy: its response (and
    /// resolution) clocks follow the policy's targets from then on.
    ApplySlaPolicy { policy: u64 },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::SetPriority { .. } => "set_priority",
            Action::SetAttribute { .. } => "set_attribute",
            Action::AddTag { .. } => "add_tag",
            Action::Transfer { .. } => "transfer",
            Action::Reply { .. } => "reply",
            Action::Webhook { .. } => "webhook",
            Action::NotifySupervisors { .. } => "notify_supervisors",
            Action::ApplySlaPolicy { .. } => "apply_sla_policy",
        }
    }

    pub(crate) fn validate(&self) -> Result<(), RuleError> {
        match self {
            Action::SetPriority { priority } if !PRIORITY_RANGE.contains(priority) => {
                Err(RuleError::new("priority", format!("from {} to {}", PRIORITY_RANGE.start(), PRIORITY_RANGE.end())))
            }
            Action::SetAttribute { name, value } => {
                attribute_name(name).map_err(|m| RuleError::new("name", m))?;
                match value {
                    Value::Str(s) if s.chars().count() > MAX_MESSAGE || s.contains('\0') => {
                        Err(RuleError::new("value", format!("at most {MAX_MESSAGE} characters, no NUL")))
                    }
                    Value::Num(n) if !n.is_finite() => Err(RuleError::new("value", "a finite number")),
                    Value::List(_) => Err(RuleError::new("value", "a text, a number, true/false or null")),
                    _ => Ok(()),
                }
            }
            Action::AddTag { tag } => line("tag", tag, MAX_TAG),
            Action::Reply { canned } => line("canned", canned, MAX_TAG),
            Action::NotifySupervisors { message } => line("message", message, MAX_MESSAGE),
            Action::SetPriority { .. }
            | Action::Transfer { .. }
            | Action::Webhook { .. }
            | Action::ApplySlaPolicy { .. } => Ok(()),
        }
    }
}

/// One line of text: not blank, bounded, no control characters.
fn line(field: &str, s: &str, max: usize) -> Result<(), RuleError> {
    if s.trim().is_empty() {
        return Err(RuleError::new(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(RuleError::new(field, format!("at most {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(RuleError::new(field, "must be one line without control characters"));
    }
    Ok(())
}
