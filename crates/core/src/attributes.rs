//! A contact's attributes: a small map, read by every routing decision and
//! changed seldom, held by the contact's record and by the engine at once.
//!
//! A `BTreeMap<String, Value>` costs a node of eleven keys and values (about
//! 630 bytes) however few it holds, and a contact had two of them — its
//! record's and the engine's copy — for typically two or three attributes:
//! about half of a waiting contact's memory. [`Attributes`] keeps the pairs
//! in one sorted, shared slice instead: cloning it (record → engine, or a
//! simulated stream → each of its contacts) shares the slice, and a change
//! builds a new one, which is cheap at this size and rare.

use crate::expr::Value;
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One attribute: its name and value.
type Pair = (Box<str>, Value);

/// Attributes by name, each name once, in name order.
#[derive(Clone, Default, PartialEq)]
pub struct Attributes(Option<Arc<[Pair]>>);

impl Attributes {
    pub fn new() -> Self {
        Attributes(None)
    }

    fn pairs(&self) -> &[Pair] {
        self.0.as_deref().unwrap_or(&[])
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.pairs().binary_search_by(|(k, _)| (**k).cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.pairs()[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }

    /// The pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.pairs().iter().map(|(k, v)| (&**k, v))
    }

    /// Sets `key` to `value`, replacing what it held.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        self.extend([(key.into(), value)]);
    }

    /// Sets `key` to `value` unless it is already set.
    pub fn insert_missing(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if !self.contains_key(key) {
            self.insert(key, value());
        }
    }

    /// Removes `key`, saying whether it was set.
    pub fn remove(&mut self, key: &str) -> bool {
        let Ok(i) = self.find(key) else { return false };
        let rest: Vec<Pair> =
            self.pairs().iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| p.clone()).collect();
        self.0 = (!rest.is_empty()).then(|| rest.into());
        true
    }

    /// The attributes as an ordinary map, for changing many at once.
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        self.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }
}

impl Extend<(String, Value)> for Attributes {
    /// Sets each pair, later ones winning; builds the new slice once.
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, pairs: I) {
        let mut map = self.to_map();
        let mut changed = false;
        for (k, v) in pairs {
            changed |= map.get(&k) != Some(&v);
            map.insert(k, v);
        }
        if changed {
            *self = Attributes::from(map);
        }
    }
}

impl From<BTreeMap<String, Value>> for Attributes {
    fn from(map: BTreeMap<String, Value>) -> Self {
        if map.is_empty() {
            return Attributes(None);
        }
        Attributes(Some(map.into_iter().map(|(k, v)| (k.into_boxed_str(), v)).collect()))
    }
}

impl FromIterator<(String, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(pairs: I) -> Self {
        Attributes::from(pairs.into_iter().collect::<BTreeMap<_, _>>())
    }
}

/// `attributes["topic"]`, like a map's: panics when the name is not set.
impl std::ops::Index<&str> for Attributes {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or_else(|| panic!("no attribute {key:?}"))
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// As a map (a JSON object), the form the attributes always had.
impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, Value>::deserialize(d).map(Attributes::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, Value)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn reads_like_a_map() {
        let a = attrs(&[("topic", Value::Str("invoice".into())), ("language", Value::Str("en".into()))]);
        assert_eq!(a.get("topic"), Some(&Value::Str("invoice".into())));
        assert_eq!(a.get("missing"), None);
        assert!(a.contains_key("language"));
        assert_eq!(a.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["language", "topic"]);
        assert_eq!(format!("{a:?}"), r#"{"language": Str("en"), "topic": Str("invoice")}"#);
    }

    #[test]
    fn a_clone_shares_and_a_change_does_not_leak_into_it() {
        let mut a = attrs(&[("vip", Value::Bool(true))]);
        let b = a.clone();
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        a.insert("csat", Value::Num(5.0));
        a.insert_missing("vip", || Value::Bool(false));
        assert_eq!(a.get("vip"), Some(&Value::Bool(true)));
        assert_eq!((a.len(), b.len()), (2, 1));
        // Setting what is already there keeps the shared slice.
        let before = a.clone();
        a.insert("csat", Value::Num(5.0));
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), before.0.as_ref().unwrap()));
    }

    #[test]
    fn a_removed_key_is_gone_and_the_rest_stay_in_order() {
        let mut a = attrs(&[("a", Value::Null), ("b", Value::Bool(true)), ("c", Value::Num(1.0))]);
        let before = a.clone();
        assert!(a.remove("b"));
        assert!(!a.remove("b"));
        assert_eq!(a.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(before.len(), 3, "a clone keeps what it had");
        assert!(a.remove("a") && a.remove("c"));
        assert!(a.is_empty() && a == Attributes::new());
    }

    #[test]
    fn serialises_as_the_map_it_was() {
        let json = r#"{"b":[1.0,"x"],"a":null,"c":true}"#;
        let a: Attributes = serde_json::from_str(json).unwrap();
        let map: BTreeMap<String, Value> = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&map).unwrap());
        assert_eq!(a.to_map(), map);
        assert_eq!(serde_json::to_string(&Attributes::new()).unwrap(), "{}");
        assert!(serde_json::from_str::<Attributes>("[1]").is_err());
    }
}
