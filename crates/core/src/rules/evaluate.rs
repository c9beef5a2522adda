//! Which rules fire for an event, in order, each seeing the effects of
//! those before it.

use super::{Action, Rule, Trigger};
use crate::channel::Channel;
use crate::expr::Value;
use crate::ids::QueueId;
use std::collections::BTreeMap;

/// How deep rules may chain: an event caused by a rule's action carries the
/// depth of the rule that caused it plus one, and events this deep fire
/// nothing. (A rule's own message never counts as received, so today's
/// actions cannot chain at all; the bound keeps it so if one ever could.)
pub const MAX_DEPTH: u32 = 3;

/// What conditions may read of a contact.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Facts {
    pub channel: Channel,
    pub queue: Option<QueueId>,
    pub priority: i32,
    pub text: Option<String>,
    /// The subject of the message `text` is from, where it has one (email).
    pub subject: Option<String>,
    /// The customer's tags.
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, Value>,
    /// The customer's attributes.
    pub customer_attributes: BTreeMap<String, Value>,
    pub rating: Option<u8>,
}

impl Facts {
    pub fn new(channel: Channel) -> Self {
        Facts {
            channel,
            queue: None,
            priority: 0,
            text: None,
            subject: None,
            tags: Vec::new(),
            attributes: BTreeMap::new(),
            customer_attributes: BTreeMap::new(),
            rating: None,
        }
    }

    /// What an action changes of the facts, for the rules after it.
    fn apply(&mut self, a: &Action) {
        match a {
            Action::SetPriority { priority } => self.priority = *priority,
            Action::SetAttribute { name, value } => {
                self.attributes.insert(name.clone(), value.clone());
            }
            Action::AddTag { tag } => {
                if !self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                    self.tags.push(tag.clone());
                }
            }
            Action::Transfer { queue } => self.queue = Some(*queue),
            Action::Reply { .. }
            | Action::Webhook { .. }
            | Action::NotifySupervisors { .. }
            | Action::ApplySlaPolicy { .. } => {}
        }
    }
}

/// A rule that fires: its place in the list given and its actions.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing<'r> {
    pub index: usize,
    pub actions: &'r [Action],
}

/// The rules that fire for `trigger`, in the order given (disabled ones
/// skipped), at chain depth `depth`. `facts` ends as the actions left them.
pub fn evaluate<'r>(rules: &'r [Rule], trigger: Trigger, facts: &mut Facts, depth: u32) -> Vec<Firing<'r>> {
    if depth >= MAX_DEPTH {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        if !rule.enabled || rule.event != trigger || !rule.matches(facts) {
            continue;
        }
        for a in &rule.actions {
            facts.apply(a);
        }
        out.push(Firing { index, actions: &rule.actions });
    }
    out
}

/// A dry run of one rule: what held and what would fire.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Explained {
    /// Whether the rule listens for this event.
    pub event: bool,
    /// Each condition's outcome, in order.
    pub conditions: Vec<bool>,
    pub would_fire: bool,
}

/// Evaluates one rule on `facts` for `trigger`, saying why it would or
/// would not fire (a disabled rule is explained as if enabled).
pub fn explain(rule: &Rule, trigger: Trigger, facts: &Facts) -> Explained {
    let conditions: Vec<bool> = rule.conditions.iter().map(|c| c.holds(facts)).collect();
    let event = rule.event == trigger;
    Explained { event, would_fire: event && rule.matches(facts), conditions }
}
