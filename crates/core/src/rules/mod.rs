//! Automation rules: on an event of a contact, conditions on what is known
//! of it, then ordered actions — as help-desk triggers do it.
//!
//! ```json
//! { "name": "VIP first", "event": "contact_created", "match": "all",
//!   "conditions": [ { "field": "attribute.tier", "op": "equals", "value": "gold" },
//!                   { "field": "channel", "op": "in", "value": ["chat", "email"] } ],
//!   "actions": [ { "type": "set_priority", "priority": 10 },
//!                { "type": "add_tag", "tag": "vip" } ] }
//! ```
//!
//! This module is the pure part: the rule's shape and checks
//! ([`Rule::validate`], every error naming its field), and
//! [`evaluate`], which walks a workspace's rules in order over a contact's
//! [`Facts`] and says which fire and with which actions. What an action does
//! to the world (a priority in the routing engine, a message through the
//! channel, a webhook) is the service's job.
//!
//! Rules see each other's effects: a rule that sets `tier` to `gold` makes a
//! later rule on `attribute.tier` match, within the same event. Each rule
//! fires at most once per event.

mod action;
mod condition;
mod evaluate;

pub use action::Action;
pub use condition::{Condition, Field, Op};
pub use evaluate::{Explained, Facts, Firing, MAX_DEPTH, evaluate, explain};

use serde::{Deserialize, Serialize};

/// How many conditions and actions one rule may have: real rules use a
/// handful; the bound keeps a rule's evaluation cheap.
pub const MAX_CONDITIONS: usize = 32;
pub const MAX_ACTIONS: usize = 16;

/// The event a rule listens for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A contact was opened: a conversation on any channel, or an API contact.
    ContactCreated,
    /// The customer wrote (never a message of an agent, the bot or a rule).
    MessageReceived,
    /// Handling ended, or the customer left or the contact was cancelled while waiting.
    ContactEnded,
    /// The customer rated the conversation.
    CsatReceived,
    /// A first- or next-response target passed without an agent's reply.
    SlaBreached,
    /// A first- or next-response target is about to pass (the queue's
    /// warning time is left).
    SlaWarning,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::ContactCreated => "contact_created",
            Trigger::MessageReceived => "message_received",
            Trigger::ContactEnded => "contact_ended",
            Trigger::CsatReceived => "csat_received",
            Trigger::SlaBreached => "sla_breached",
            Trigger::SlaWarning => "sla_warning",
        }
    }
}

/// Whether every condition must hold, or one is enough.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    #[default]
    All,
    Any,
}

/// One automation rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    pub event: Trigger,
    #[serde(default, rename = "match")]
    pub matching: Match,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

fn enabled() -> bool {
    true
}

/// A rule that does not hold together, naming the field (`conditions[1].value`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: String,
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError { field: field.into(), message: message.into() }
    }
}

impl Rule {
    /// Checks the rule's shape: conditions whose operator fits their field
    /// and value, actions with sensible values. (References to queues,
    /// canned responses and webhooks are the service's to check.)
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.conditions.len() > MAX_CONDITIONS {
            return Err(RuleError::new("conditions", format!("at most {MAX_CONDITIONS}")));
        }
        if self.matching == Match::Any && self.conditions.is_empty() {
            return Err(RuleError::new("conditions", "\"any\" needs at least one condition"));
        }
        for (i, c) in self.conditions.iter().enumerate() {
            c.validate(self.event).map_err(|e| RuleError::new(format!("conditions[{i}].{}", e.field), e.message))?;
        }
        if self.actions.is_empty() {
            return Err(RuleError::new("actions", "a rule needs at least one action"));
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(RuleError::new("actions", format!("at most {MAX_ACTIONS}")));
        }
        for (i, a) in self.actions.iter().enumerate() {
            a.validate().map_err(|e| RuleError::new(format!("actions[{i}].{}", e.field), e.message))?;
        }
        Ok(())
    }

    /// Whether the conditions hold for `facts` (the event aside).
    pub fn matches(&self, facts: &Facts) -> bool {
        match self.matching {
            Match::All => self.conditions.iter().all(|c| c.holds(facts)),
            Match::Any => self.conditions.iter().any(|c| c.holds(facts)),
        }
    }
}

#[cfg(test)]
mod tests;
