//! Skills: named attributes with a proficiency, held by agents.

use crate::ids::SkillId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Highest proficiency an agent can have in a skill.
pub const MAX_LEVEL: u8 = 10;

/// Interns skill names so that engine lookups are array indexing.
#[derive(Clone, Debug, Default)]
pub struct SkillRegistry {
    by_name: HashMap<String, SkillId>,
    names: Vec<String>,
}

impl SkillRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `name`, registering it on first sight.
    pub fn intern(&mut self, name: &str) -> SkillId {
        if let Some(id) = self.by_name.get(name) {
            return *id;
        }
        let id = SkillId(self.names.len() as u16);
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), id);
        id
    }

    pub fn get(&self, name: &str) -> Option<SkillId> {
        self.by_name.get(name).copied()
    }

    pub fn name(&self, id: SkillId) -> &str {
        &self.names[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How well an agent masters a skill: a level from 1 to 10, or simply held.
/// A held boolean skill evaluates as `true` and as the level 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Proficiency {
    Held(bool),
    Level(u8),
}

impl Proficiency {
    /// The numeric level used by expressions and orderings; 0 = not held.
    pub fn level(self) -> u8 {
        match self {
            Proficiency::Held(true) => 1,
            Proficiency::Held(false) => 0,
            Proficiency::Level(l) => l.min(MAX_LEVEL),
        }
    }
}

/// An agent's skills as a dense table indexed by [`SkillId`]; 0 = not held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkillTable(Vec<u8>);

impl SkillTable {
    pub fn set(&mut self, skill: SkillId, level: u8) {
        let i = skill.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = level.min(MAX_LEVEL);
    }

    pub fn level(&self, skill: SkillId) -> u8 {
        self.0.get(skill.0 as usize).copied().unwrap_or(0)
    }

    pub fn held(&self) -> impl Iterator<Item = (SkillId, u8)> + '_ {
        self.0.iter().enumerate().filter(|(_, l)| **l > 0).map(|(i, l)| (SkillId(i as u16), *l))
    }
}
