//! Conditions: a field of the contact, an operator, a value.
//!
//! Text compares without regard to case (`"Refund"` contains `"refund"`);
//! numbers by value. A field the contact does not have (an attribute never
//! set, no rating yet) is *absent*: it equals nothing and contains nothing,
//! so the negative operators hold for it. Every operator has its negation
//! (`equals`/`not_equals`, `contains`/`not_contains`, `in`/`not_in`,
//! `present`/`absent`), and the two always disagree — the property tests
//! check it.

use super::{Facts, RuleError, Trigger};
use crate::channel::Channel;
use crate::expr::Value;
use serde::{Deserialize, Serialize};

/// The most values an `in` list may hold.
const MAX_LIST: usize = 100;
/// The longest text a condition compares with, in characters.
const MAX_TEXT: usize = 1_000;
/// The longest attribute name, in bytes.
pub(crate) const MAX_NAME: usize = 64;

/// What a condition reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Channel,
    /// The queue's id.
    Queue,
    Priority,
    /// The customer's message (`message_received`), the first message of a
    /// new conversation, or the rating's comment.
    Text,
    /// That message's subject, on channels whose messages have one (email).
    Subject,
    /// The customer's tags.
    Tags,
    /// The customer's rating, 1 to 5 (`csat_received` only).
    Rating,
    /// One of the contact's attributes: `attribute.tier`.
    Attribute(String),
    /// One of the customer's attributes: `customer.vip`.
    CustomerAttribute(String),
}

impl Field {
    pub fn parse(s: &str) -> Result<Field, String> {
        Ok(match s {
            "channel" => Field::Channel,
            "queue" => Field::Queue,
            "priority" => Field::Priority,
            "text" => Field::Text,
            "subject" => Field::Subject,
            "tags" => Field::Tags,
            "rating" => Field::Rating,
            other => match (other.strip_prefix("attribute."), other.strip_prefix("customer.")) {
                (Some(name), _) => Field::Attribute(attribute_name(name)?),
                (_, Some(name)) => Field::CustomerAttribute(attribute_name(name)?),
                _ => {
                    return Err(format!(
                        "'{}' is not a field; use channel, queue, priority, text, subject, tags, rating, \
                         attribute.<name> or customer.<name>",
                        other.escape_debug()
                    ));
                }
            },
        })
    }

    pub fn name(&self) -> String {
        match self {
            Field::Channel => "channel".into(),
            Field::Queue => "queue".into(),
            Field::Priority => "priority".into(),
            Field::Text => "text".into(),
            Field::Subject => "subject".into(),
            Field::Tags => "tags".into(),
            Field::Rating => "rating".into(),
            Field::Attribute(n) => format!("attribute.{n}"),
            Field::CustomerAttribute(n) => format!("customer.{n}"),
        }
    }

    /// The operators that make sense for this field.
    fn allows(&self, op: Op) -> bool {
        use Op::*;
        match self {
            Field::Channel => matches!(op, Equals | NotEquals | In | NotIn),
            Field::Queue => matches!(op, Equals | NotEquals | In | NotIn | Present | Absent),
            Field::Priority => matches!(op, Equals | NotEquals | GreaterThan | LessThan | In | NotIn),
            Field::Rating => matches!(op, Equals | NotEquals | GreaterThan | LessThan | In | NotIn | Present | Absent),
            Field::Text | Field::Subject => {
                matches!(op, Equals | NotEquals | Contains | NotContains | StartsWith | Present | Absent)
            }
            Field::Tags => matches!(op, Contains | NotContains | Present | Absent),
            Field::Attribute(_) | Field::CustomerAttribute(_) => true,
        }
    }

    /// The field's value for this contact; `Null` when absent.
    fn read(&self, f: &Facts) -> Value {
        match self {
            Field::Channel => Value::Str(f.channel.as_str().into()),
            Field::Queue => f.queue.map_or(Value::Null, |q| Value::Num(q.0 as f64)),
            Field::Priority => Value::Num(f64::from(f.priority)),
            Field::Text => f.text.clone().map_or(Value::Null, Value::Str),
            Field::Subject => f.subject.clone().map_or(Value::Null, Value::Str),
            Field::Tags => Value::List(f.tags.iter().map(|t| Value::Str(t.clone())).collect()),
            Field::Rating => f.rating.map_or(Value::Null, |r| Value::Num(f64::from(r))),
            Field::Attribute(n) => f.attributes.get(n).cloned().unwrap_or(Value::Null),
            Field::CustomerAttribute(n) => f.customer_attributes.get(n).cloned().unwrap_or(Value::Null),
        }
    }
}

/// An attribute's name: letters, digits, `_`, `-` and `.`, at most 64 bytes.
pub(crate) fn attribute_name(name: &str) -> Result<String, String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("an attribute name has 1 to {MAX_NAME} characters"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err("an attribute name has letters, digits, '_', '-' and '.' only".into());
    }
    Ok(name.to_string())
}

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        let s = String::deserialize(d)?;
        Field::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equals,
    NotEquals,
    Contains,
    NotContains,
    StartsWith,
    GreaterThan,
    LessThan,
    In,
    NotIn,
    Present,
    Absent,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::Equals,
        Op::NotEquals,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::GreaterThan,
        Op::LessThan,
        Op::In,
        Op::NotIn,
        Op::Present,
        Op::Absent,
    ];

    /// The operator that holds exactly when this one does not, if any.
    pub fn negation(self) -> Option<Op> {
        Some(match self {
            Op::Equals => Op::NotEquals,
            Op::NotEquals => Op::Equals,
            Op::Contains => Op::NotContains,
            Op::NotContains => Op::Contains,
            Op::In => Op::NotIn,
            Op::NotIn => Op::In,
            Op::Present => Op::Absent,
            Op::Absent => Op::Present,
            Op::StartsWith | Op::GreaterThan | Op::LessThan => return None,
        })
    }
}

/// `field op value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    #[serde(default)]
    pub value: Value,
}

impl Condition {
    /// Checks that the operator fits the field and the value the operator;
    /// errors name `field`, `op` or `value`.
    pub fn validate(&self, event: Trigger) -> Result<(), RuleError> {
        if self.field == Field::Rating && event != Trigger::CsatReceived {
            return Err(RuleError::new("field", "a rating is only known on csat_received"));
        }
        if !self.field.allows(self.op) {
            return Err(RuleError::new("op", format!("{} does not apply to {}", op_name(self.op), self.field.name())));
        }
        let v = &self.value;
        match self.op {
            Op::Present | Op::Absent => {
                if *v != Value::Null {
                    return Err(RuleError::new("value", format!("{} takes no value", op_name(self.op))));
                }
            }
            Op::In | Op::NotIn => {
                let Value::List(items) = v else {
                    return Err(RuleError::new("value", "a list of values"));
                };
                if items.is_empty() || items.len() > MAX_LIST {
                    return Err(RuleError::new("value", format!("1 to {MAX_LIST} values")));
                }
                for (i, item) in items.iter().enumerate() {
                    self.check_scalar(item).map_err(|m| RuleError::new(format!("value[{i}]"), m))?;
                }
            }
            Op::GreaterThan | Op::LessThan => {
                if !matches!(v, Value::Num(n) if n.is_finite()) {
                    return Err(RuleError::new("value", "a number"));
                }
            }
            Op::Contains | Op::NotContains | Op::StartsWith => match v {
                Value::Str(s) if !s.trim().is_empty() => check_text(s).map_err(|m| RuleError::new("value", m))?,
                // A list attribute may hold numbers.
                Value::Num(n)
                    if matches!(self.field, Field::Attribute(_) | Field::CustomerAttribute(_)) && n.is_finite() => {}
                _ => return Err(RuleError::new("value", "a text that is not empty")),
            },
            Op::Equals | Op::NotEquals => self.check_scalar(v).map_err(|m| RuleError::new("value", m))?,
        }
        Ok(())
    }

    /// A single value to compare the field with.
    fn check_scalar(&self, v: &Value) -> Result<(), String> {
        match (&self.field, v) {
            (Field::Channel, Value::Str(s)) => {
                if Channel::ALL.iter().any(|c| c.as_str() == s) {
                    Ok(())
                } else {
                    let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                    Err(format!("'{}' is not a channel; one of {}", s.escape_debug(), names.join(", ")))
                }
            }
            (Field::Channel, _) => Err("a channel's name".into()),
            (Field::Queue, Value::Num(n)) if *n >= 1.0 && n.fract() == 0.0 => Ok(()),
            (Field::Queue, _) => Err("a queue's id".into()),
            (Field::Priority | Field::Rating, Value::Num(n)) if n.is_finite() => Ok(()),
            (Field::Priority | Field::Rating, _) => Err("a number".into()),
            (Field::Text | Field::Subject, Value::Str(s)) => check_text(s),
            (Field::Text | Field::Subject, _) => Err("a text".into()),
            (Field::Tags, _) => Err("tags take contains or not_contains".into()),
            (Field::Attribute(_) | Field::CustomerAttribute(_), Value::Str(s)) => check_text(s),
            (Field::Attribute(_) | Field::CustomerAttribute(_), Value::Num(n)) if n.is_finite() => Ok(()),
            (Field::Attribute(_) | Field::CustomerAttribute(_), Value::Bool(_)) => Ok(()),
            (Field::Attribute(_) | Field::CustomerAttribute(_), _) => Err("a text, a number or true/false".into()),
        }
    }

    /// Whether the condition holds for these facts.
    pub fn holds(&self, facts: &Facts) -> bool {
        let fact = self.field.read(facts);
        let v = &self.value;
        match self.op {
            Op::Equals => equals(&fact, v),
            Op::NotEquals => !equals(&fact, v),
            Op::Contains => contains(&fact, v),
            Op::NotContains => !contains(&fact, v),
            Op::StartsWith => match (&fact, v) {
                (Value::Str(f), Value::Str(p)) => f.to_lowercase().starts_with(&p.to_lowercase()),
                _ => false,
            },
            Op::GreaterThan => matches!((&fact, v), (Value::Num(a), Value::Num(b)) if a > b),
            Op::LessThan => matches!((&fact, v), (Value::Num(a), Value::Num(b)) if a < b),
            Op::In => is_in(&fact, v),
            Op::NotIn => !is_in(&fact, v),
            Op::Present => present(&fact),
            Op::Absent => !present(&fact),
        }
    }
}

fn check_text(s: &str) -> Result<(), String> {
    if s.chars().count() > MAX_TEXT {
        return Err(format!("at most {MAX_TEXT} characters"));
    }
    if s.contains('\0') {
        return Err("must not contain NUL".into());
    }
    Ok(())
}

pub(crate) fn op_name(op: Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Equality as conditions mean it: text without regard to case, numbers
/// by value, a held boolean as itself; absent equals nothing.
fn equals(fact: &Value, v: &Value) -> bool {
    match (fact, v) {
        (Value::Str(a), Value::Str(b)) => a.to_lowercase() == b.to_lowercase(),
        (Value::Null, _) | (_, Value::Null) => false,
        (a, b) => a.as_ref().equals(b.as_ref()),
    }
}

fn contains(fact: &Value, v: &Value) -> bool {
    match fact {
        Value::Str(hay) => matches!(v, Value::Str(needle) if hay.to_lowercase().contains(&needle.to_lowercase())),
        Value::List(items) => items.iter().any(|i| equals(i, v)),
        _ => false,
    }
}

fn is_in(fact: &Value, v: &Value) -> bool {
    matches!(v, Value::List(items) if items.iter().any(|i| equals(fact, i)))
}

fn present(fact: &Value) -> bool {
    match fact {
        Value::Null => false,
        Value::Str(s) => !s.trim().is_empty(),
        Value::List(l) => !l.is_empty(),
        Value::Bool(_) | Value::Num(_) => true,
    }
}
