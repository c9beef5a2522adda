//! Values that expressions compute with and that contacts carry as attributes.

use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// A JSON-like value. Contact attributes are maps of these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
}

// Expressions are interned by structure, so values must hash. Floats hash by
// their bits; `-0.0 != 0.0` here only means two equal predicates may be
// interned twice, which costs a little memory and never a wrong decision.
impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(h),
            Value::Num(n) => n.to_bits().hash(h),
            Value::Str(s) => s.hash(h),
            Value::List(l) => l.hash(h),
        }
    }
}

impl Value {
    pub fn truthy(&self) -> bool {
        self.as_ref().truthy()
    }

    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Num(n) => ValueRef::Num(*n),
            Value::Str(s) => ValueRef::Str(s),
            Value::List(l) => ValueRef::List(l),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Num(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// A borrowed value: evaluation on the routing hot path allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    List(&'a [Value]),
}

impl<'a> ValueRef<'a> {
    pub fn truthy(self) -> bool {
        match self {
            ValueRef::Null => false,
            ValueRef::Bool(b) => b,
            ValueRef::Num(n) => n > 0.0,
            ValueRef::Str(s) => !s.is_empty(),
            ValueRef::List(l) => !l.is_empty(),
        }
    }

    /// Equality across representations: numbers by value, strings by text.
    /// Null equals nothing, not even Null: a missing attribute never matches.
    pub fn equals(self, other: ValueRef<'_>) -> bool {
        match (self, other) {
            (ValueRef::Bool(a), ValueRef::Bool(b)) => a == b,
            (ValueRef::Num(a), ValueRef::Num(b)) => a == b,
            (ValueRef::Str(a), ValueRef::Str(b)) => a == b,
            // A held boolean skill is the level 1, so `spanish == true` works.
            (ValueRef::Bool(a), ValueRef::Num(n)) | (ValueRef::Num(n), ValueRef::Bool(a)) => a == (n > 0.0),
            (ValueRef::List(a), ValueRef::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.as_ref().equals(y.as_ref()))
            }
            _ => false,
        }
    }

    /// Ordering for `<`, `<=`, `>`, `>=`; `None` when the two do not compare.
    pub fn compare(self, other: ValueRef<'_>) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (ValueRef::Num(a), ValueRef::Num(b)) => a.partial_cmp(&b),
            (ValueRef::Str(a), ValueRef::Str(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    pub fn to_owned_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Num(n) => Value::Num(n),
            ValueRef::Str(s) => Value::Str(s.to_string()),
            ValueRef::List(l) => Value::List(l.to_vec()),
        }
    }
}
