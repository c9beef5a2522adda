//! The routing expression language.
//!
//! Steps of a routing policy say which agents may take a contact with a small
//! boolean language over agent skills and contact attributes:
//!
//! ```text
//! billing >= 5 && spanish
//! agent.id in contact.preferred_agents
//! (tier2 || contact.vip == true) && not trainee
//! ```
//!
//! A bare name is one of the agent's skills (its level, 0 when not held, so a
//! boolean skill is simply truthy); `agent.<skill>` says the same explicitly;
//! `agent.id` is the agent's id; `contact.<name>` is one of the contact's
//! attributes, or `priority`, `channel` or `preferred_agents`. A missing
//! attribute is null, and null compares equal to nothing.
//!
//! Routing evaluates an expression in two stages. When a contact enters a step,
//! [`Expr::bind`] substitutes the contact's attributes and folds constants,
//! leaving a [`Predicate`] over the agent alone. Contacts whose predicates are
//! structurally equal share one bucket in the engine, so matching an agent
//! against a queue costs one predicate test per bucket instead of one per
//! contact.

mod lexer;
mod parser;
mod value;

pub use value::{Value, ValueRef};

use crate::attributes::Attributes;
use crate::channel::Channel;
use crate::ids::{AgentId, SkillId};
use crate::skills::{SkillRegistry, SkillTable};
use std::fmt;

/// How deeply parentheses, `!` and lists may nest. Real rules use a handful
/// of levels; the limit exists so that no input can overflow a stack.
pub const MAX_NESTING: usize = 64;

/// How tall a parsed tree may be. Nesting is limited above and `&&`/`||`
/// chains are balanced, so only a contrived expression reaches this; every
/// recursive walk over a tree (bind, evaluate, hash, drop) relies on it.
pub const MAX_HEIGHT: usize = 4 * MAX_NESTING;

/// A parse or name-resolution error, pointing at a 1-based column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ExprError {
    pub column: usize,
    pub message: String,
}

impl ExprError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        ExprError { column, message: message.into() }
    }

    /// The source with a caret under the offending column, for terminals.
    pub fn caret(&self, src: &str) -> String {
        format!("{src}\n{}^ {}", " ".repeat(self.column.saturating_sub(1)), self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Lit(Value),
    AgentId,
    Skill(SkillId),
    ContactAttr(String),
    List(Vec<Node>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    In(Box<Node>, Box<Node>),
}

/// A parsed expression and its source text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expr {
    source: String,
    root: Node,
}

/// What an expression may read of a contact.
#[derive(Clone, Copy, Debug)]
pub struct ContactFacts<'a> {
    pub attributes: &'a Attributes,
    pub preferred_agents: &'a [AgentId],
    pub priority: i32,
    pub channel: Channel,
}

/// What a predicate may read of an agent.
#[derive(Clone, Copy, Debug)]
pub struct AgentFacts<'a> {
    pub id: AgentId,
    pub skills: &'a SkillTable,
}

impl Expr {
    /// Parses `source`, resolving skill names against `skills`.
    pub fn parse(source: &str, skills: &SkillRegistry) -> Result<Expr, ExprError> {
        Expr::parse_with(source, skills, true)
    }

    /// Parses an expression saved before literals were checked against what
    /// they are compared with (`billing >= 11` never matches but once was
    /// accepted): it still loads. Nesting is limited all the same.
    pub fn parse_saved(source: &str, skills: &SkillRegistry) -> Result<Expr, ExprError> {
        Expr::parse_with(source, skills, false)
    }

    fn parse_with(source: &str, skills: &SkillRegistry, check_literals: bool) -> Result<Expr, ExprError> {
        let toks = lexer::tokenize(source)?;
        let root = parser::Parser::new(toks, source.chars().count(), skills, check_literals).parse_all()?;
        if taller_than(&root, MAX_HEIGHT) {
            return Err(ExprError::new(1, format!("expression nested too deeply (more than {MAX_HEIGHT} levels)")));
        }
        Ok(Expr { source: source.to_string(), root })
    }

    /// The expression that every agent satisfies.
    pub fn always() -> Expr {
        Expr { source: "true".into(), root: Node::Lit(Value::Bool(true)) }
    }

    /// `agent.id in [ids]`: used for sticky routing and transfers to an agent.
    pub fn agent_in(ids: &[AgentId]) -> Expr {
        let list = ids.iter().map(|a| Value::Num(a.0 as f64)).collect();
        let source = format!("agent.id in [{}]", ids.iter().map(|a| a.0.to_string()).collect::<Vec<_>>().join(", "));
        Expr { source, root: Node::In(Box::new(Node::AgentId), Box::new(Node::Lit(Value::List(list)))) }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Substitutes the contact's facts and folds constants.
    pub fn bind(&self, contact: &ContactFacts<'_>) -> Predicate {
        Predicate(fold(&self.root, contact))
    }

    /// Whether the expression reads the contact: if not, every contact binds
    /// it to the same predicate, which the engine then binds only once.
    pub fn reads_contact(&self) -> bool {
        fn reads(n: &Node) -> bool {
            match n {
                Node::ContactAttr(_) => true,
                Node::Lit(_) | Node::AgentId | Node::Skill(_) => false,
                Node::List(items) => items.iter().any(reads),
                Node::Not(a) => reads(a),
                Node::And(a, b) | Node::Or(a, b) | Node::Cmp(_, a, b) | Node::In(a, b) => reads(a) || reads(b),
            }
        }
        reads(&self.root)
    }

    /// Skills the expression reads, for skill-based agent orderings.
    pub fn skills(&self) -> Vec<SkillId> {
        let mut out = Vec::new();
        collect_skills(&self.root, &mut out);
        out.sort();
        out.dedup();
        out
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Whether `n` is more than `limit` levels tall; recurses at most `limit` deep.
fn taller_than(n: &Node, limit: usize) -> bool {
    let Some(below) = limit.checked_sub(1) else { return true };
    match n {
        Node::Lit(_) | Node::AgentId | Node::Skill(_) | Node::ContactAttr(_) => false,
        Node::List(items) => items.iter().any(|i| taller_than(i, below)),
        Node::Not(a) => taller_than(a, below),
        Node::And(a, b) | Node::Or(a, b) | Node::Cmp(_, a, b) | Node::In(a, b) => {
            taller_than(a, below) || taller_than(b, below)
        }
    }
}

fn collect_skills(n: &Node, out: &mut Vec<SkillId>) {
    match n {
        Node::Skill(s) => out.push(*s),
        Node::Lit(_) | Node::AgentId | Node::ContactAttr(_) => {}
        Node::List(items) => items.iter().for_each(|i| collect_skills(i, out)),
        Node::Not(a) => collect_skills(a, out),
        Node::And(a, b) | Node::Or(a, b) | Node::Cmp(_, a, b) | Node::In(a, b) => {
            collect_skills(a, out);
            collect_skills(b, out);
        }
    }
}

/// An expression with the contact's facts bound in: it reads only the agent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Predicate(Node);

impl Predicate {
    pub fn matches(&self, agent: AgentFacts<'_>) -> bool {
        eval(&self.0, &agent).truthy()
    }

    /// `Some(answer)` when the predicate does not depend on the agent at all.
    pub fn constant(&self) -> Option<bool> {
        match &self.0 {
            Node::Lit(v) => Some(v.truthy()),
            _ => None,
        }
    }
}

fn contact_attr(name: &str, c: &ContactFacts<'_>) -> Value {
    match name {
        "priority" => Value::Num(c.priority as f64),
        "channel" => Value::Str(c.channel.as_str().to_string()),
        "preferred_agents" => Value::List(c.preferred_agents.iter().map(|a| Value::Num(a.0 as f64)).collect()),
        other => c.attributes.get(other).cloned().unwrap_or(Value::Null),
    }
}

fn lit(n: &Node) -> Option<&Value> {
    match n {
        Node::Lit(v) => Some(v),
        _ => None,
    }
}

/// Partial evaluation: contact attributes become literals and every subtree
/// without agent references collapses to one literal.
fn fold(n: &Node, c: &ContactFacts<'_>) -> Node {
    let no_agent = SkillTable::default();
    let constant = |node: Node| -> Node {
        if is_constant(&node) {
            Node::Lit(eval(&node, &AgentFacts { id: AgentId(0), skills: &no_agent }).to_owned_value())
        } else {
            node
        }
    };
    match n {
        Node::ContactAttr(name) => Node::Lit(contact_attr(name, c)),
        Node::Lit(_) | Node::AgentId | Node::Skill(_) => n.clone(),
        Node::List(items) => {
            let items: Vec<Node> = items.iter().map(|i| fold(i, c)).collect();
            if items.iter().all(|i| lit(i).is_some()) {
                Node::Lit(Value::List(items.into_iter().filter_map(|i| lit(&i).cloned()).collect()))
            } else {
                Node::List(items)
            }
        }
        Node::Not(a) => constant(Node::Not(Box::new(fold(a, c)))),
        Node::And(a, b) => {
            let (a, b) = (fold(a, c), fold(b, c));
            match (lit(&a).map(Value::truthy), lit(&b).map(Value::truthy)) {
                (Some(false), _) | (_, Some(false)) => Node::Lit(Value::Bool(false)),
                (Some(true), _) => truthy(b),
                (_, Some(true)) => truthy(a),
                _ => Node::And(Box::new(a), Box::new(b)),
            }
        }
        Node::Or(a, b) => {
            let (a, b) = (fold(a, c), fold(b, c));
            match (lit(&a).map(Value::truthy), lit(&b).map(Value::truthy)) {
                (Some(true), _) | (_, Some(true)) => Node::Lit(Value::Bool(true)),
                (Some(false), _) => truthy(b),
                (_, Some(false)) => truthy(a),
                _ => Node::Or(Box::new(a), Box::new(b)),
            }
        }
        Node::Cmp(op, a, b) => constant(Node::Cmp(*op, Box::new(fold(a, c)), Box::new(fold(b, c)))),
        Node::In(a, b) => constant(Node::In(Box::new(fold(a, c)), Box::new(fold(b, c)))),
    }
}

/// Keeps boolean meaning when `true && x` folds to `x`: `x` may be a skill
/// level, and `!!x` reads as its truthiness.
fn truthy(n: Node) -> Node {
    match n {
        Node::Lit(v) => Node::Lit(Value::Bool(v.truthy())),
        Node::Not(_) | Node::And(..) | Node::Or(..) | Node::Cmp(..) | Node::In(..) => n,
        other => Node::Not(Box::new(Node::Not(Box::new(other)))),
    }
}

fn is_constant(n: &Node) -> bool {
    match n {
        Node::Lit(_) => true,
        Node::AgentId | Node::Skill(_) | Node::ContactAttr(_) => false,
        Node::List(items) => items.iter().all(is_constant),
        Node::Not(a) => is_constant(a),
        Node::And(a, b) | Node::Or(a, b) | Node::Cmp(_, a, b) | Node::In(a, b) => is_constant(a) && is_constant(b),
    }
}

fn eval<'a>(n: &'a Node, agent: &AgentFacts<'_>) -> ValueRef<'a> {
    match n {
        Node::Lit(v) => v.as_ref(),
        Node::AgentId => ValueRef::Num(agent.id.0 as f64),
        Node::Skill(s) => ValueRef::Num(agent.skills.level(*s) as f64),
        // Unbound attributes only exist before `bind`; they read as null.
        Node::ContactAttr(_) => ValueRef::Null,
        Node::List(items) => ValueRef::Bool(!items.is_empty()),
        Node::Not(a) => ValueRef::Bool(!eval(a, agent).truthy()),
        Node::And(a, b) => ValueRef::Bool(eval(a, agent).truthy() && eval(b, agent).truthy()),
        Node::Or(a, b) => ValueRef::Bool(eval(a, agent).truthy() || eval(b, agent).truthy()),
        Node::Cmp(op, a, b) => {
            let (x, y) = (eval(a, agent), eval(b, agent));
            let r = match op {
                CmpOp::Eq => x.equals(y),
                CmpOp::Ne => !x.equals(y) && x != ValueRef::Null && y != ValueRef::Null,
                CmpOp::Lt => x.compare(y).is_some_and(|o| o.is_lt()),
                CmpOp::Le => x.compare(y).is_some_and(|o| o.is_le()),
                CmpOp::Gt => x.compare(y).is_some_and(|o| o.is_gt()),
                CmpOp::Ge => x.compare(y).is_some_and(|o| o.is_ge()),
            };
            ValueRef::Bool(r)
        }
        Node::In(a, b) => {
            let x = eval(a, agent);
            let found = match &**b {
                Node::List(items) => items.iter().any(|i| eval(i, agent).equals(x)),
                other => match eval(other, agent) {
                    ValueRef::List(vs) => vs.iter().any(|v| v.as_ref().equals(x)),
                    ValueRef::Str(hay) => matches!(x, ValueRef::Str(needle) if hay.contains(needle)),
                    _ => false,
                },
            };
            ValueRef::Bool(found)
        }
    }
}

#[cfg(test)]
mod tests;
