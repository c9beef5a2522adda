//! Recursive-descent parser from tokens to [`Node`]s, resolving names as it goes.
//!
//! Precedence, loosest first: `||`, `&&`, `!`, comparisons and `in`.
//!
//! Expressions arrive over HTTP, so nothing the parser builds may be deep
//! enough to overflow a stack, here or in the recursive walks over the tree
//! (binding, evaluation, hashing, dropping). Parentheses, `!` and lists count
//! as nesting, limited to [`MAX_NESTING`](super::MAX_NESTING); chains of `&&`
//! and `||` become balanced trees, so a thousand terms add ten levels rather
//! than a thousand.

use super::lexer::{Spanned, Tok};
use super::value::Value;
use super::{CmpOp, ExprError, MAX_NESTING, Node};
use crate::skills::SkillRegistry;

pub struct Parser<'a> {
    toks: Vec<Spanned>,
    pos: usize,
    end_column: usize,
    skills: &'a SkillRegistry,
    /// How many parentheses, `!` and lists enclose the current token.
    nesting: usize,
    /// Whether literals must fit what they are compared with.
    check_literals: bool,
}

impl<'a> Parser<'a> {
    pub fn new(toks: Vec<Spanned>, src_len: usize, skills: &'a SkillRegistry, check_literals: bool) -> Self {
        Parser { toks, pos: 0, end_column: src_len + 1, skills, nesting: 0, check_literals }
    }

    /// Steps one level deeper at `column`; callers step back with `leave`.
    fn enter(&mut self, column: usize) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(ExprError::new(column, format!("expression nested too deeply (at most {MAX_NESTING} levels)")));
        }
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.nesting -= levels;
    }

    pub fn parse_all(mut self) -> Result<Node, ExprError> {
        if self.toks.is_empty() {
            return Err(ExprError::new(1, "empty expression"));
        }
        let node = self.or()?;
        if let Some(t) = self.toks.get(self.pos) {
            return Err(ExprError::new(t.column, format!("unexpected {}", describe(&t.tok))));
        }
        Ok(node)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn column(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_column, |t| t.column)
    }

    fn bump(&mut self) -> Option<Spanned> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ExprError> {
        match self.peek() {
            Some(t) if *t == want => {
                self.pos += 1;
                Ok(())
            }
            Some(t) => Err(ExprError::new(self.column(), format!("expected {what}, found {}", describe(t)))),
            None => Err(ExprError::new(self.column(), format!("expected {what} at end of expression"))),
        }
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(balanced(terms, &Node::Or))
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut terms = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            terms.push(self.not()?);
        }
        Ok(balanced(terms, &Node::And))
    }

    /// `!` chains are read in a loop, so a long one is refused by the nesting
    /// limit instead of by the stack.
    fn not(&mut self) -> Result<Node, ExprError> {
        let mut nots = 0;
        while self.peek() == Some(&Tok::Not) {
            self.enter(self.column())?;
            self.pos += 1;
            nots += 1;
        }
        let mut node = self.comparison()?;
        self.leave(nots);
        for _ in 0..nots {
            node = Node::Not(Box::new(node));
        }
        Ok(node)
    }

    fn comparison(&mut self) -> Result<Node, ExprError> {
        let left_column = self.column();
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Tok::Eq) => CmpOp::Eq,
            Some(Tok::Ne) => CmpOp::Ne,
            Some(Tok::Lt) => CmpOp::Lt,
            Some(Tok::Le) => CmpOp::Le,
            Some(Tok::Gt) => CmpOp::Gt,
            Some(Tok::Ge) => CmpOp::Ge,
            Some(Tok::In) => {
                self.pos += 1;
                let right_column = self.column();
                let right = self.primary()?;
                if self.check_literals {
                    check_collection(&right, right_column)?;
                }
                return Ok(Node::In(Box::new(left), Box::new(right)));
            }
            _ => return Ok(left),
        };
        self.pos += 1;
        let right_column = self.column();
        let right = self.primary()?;
        if self.check_literals {
            check_skill_comparison(&left, &right, right_column)?;
            check_skill_comparison(&right, &left, left_column)?;
        }
        Ok(Node::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let column = self.column();
        let Some(t) = self.bump() else {
            return Err(ExprError::new(column, "expression ends too early"));
        };
        match t.tok {
            Tok::Num(n) => Ok(Node::Lit(Value::Num(n))),
            Tok::Str(s) => Ok(Node::Lit(Value::Str(s))),
            Tok::True => Ok(Node::Lit(Value::Bool(true))),
            Tok::False => Ok(Node::Lit(Value::Bool(false))),
            Tok::LParen => {
                self.enter(column)?;
                let inner = self.or()?;
                self.expect(Tok::RParen, "')'")?;
                self.leave(1);
                Ok(inner)
            }
            Tok::LBracket => {
                self.enter(column)?;
                let mut items = Vec::new();
                if self.peek() != Some(&Tok::RBracket) {
                    loop {
                        items.push(self.primary()?);
                        if self.peek() == Some(&Tok::Comma) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(Tok::RBracket, "']'")?;
                self.leave(1);
                Ok(Node::List(items))
            }
            Tok::Ident(name) => self.path(name, column),
            other => Err(ExprError::new(column, format!("unexpected {}", describe(&other)))),
        }
    }

    /// `skill`, `agent.skill`, `agent.id` or `contact.attribute`.
    fn path(&mut self, root: String, column: usize) -> Result<Node, ExprError> {
        let member = if self.peek() == Some(&Tok::Dot) {
            self.pos += 1;
            let col = self.column();
            match self.bump().map(|t| t.tok) {
                Some(Tok::Ident(m)) => Some((m, col)),
                Some(Tok::In) => Some(("in".to_string(), col)),
                _ => return Err(ExprError::new(col, "expected a name after '.'")),
            }
        } else {
            None
        };
        if self.peek() == Some(&Tok::Dot) {
            return Err(ExprError::new(self.column(), "paths have at most two parts"));
        }
        match (root.as_str(), member) {
            ("agent", Some((m, _))) if m == "id" => Ok(Node::AgentId),
            ("agent", Some((skill, col))) => self.skill(&skill, col),
            ("contact", Some((attr, _))) => Ok(Node::ContactAttr(attr)),
            ("agent" | "contact", None) => Err(ExprError::new(
                column,
                format!("'{root}' needs a member, e.g. '{root}.{}'", if root == "agent" { "id" } else { "language" }),
            )),
            (_, Some(_)) => {
                Err(ExprError::new(column, format!("unknown name '{root}': paths start with 'agent.' or 'contact.'")))
            }
            (_, None) => self.skill(&root, column),
        }
    }

    fn skill(&self, name: &str, column: usize) -> Result<Node, ExprError> {
        self.skills.get(name).map(Node::Skill).ok_or_else(|| ExprError::new(column, format!("unknown skill '{name}'")))
    }
}

/// Joins `terms` (at least one) with `join`, halving recursively: the
/// operators are associative and side-effect free, so only the height of the
/// tree changes, from `n` to `log2(n)`, and evaluation order stays left to right.
fn balanced(mut terms: Vec<Node>, join: &dyn Fn(Box<Node>, Box<Node>) -> Node) -> Node {
    if terms.len() == 1 {
        return terms.pop().unwrap_or(Node::Lit(Value::Null));
    }
    let right = terms.split_off(terms.len() / 2);
    join(Box::new(balanced(terms, join)), Box::new(balanced(right, join)))
}

/// Agents hold skills at levels 1 to 10 (0 when not held), so a skill compared
/// with a literal that no level can equal is a mistake, not a rule that never
/// matches. `true`/`false` stay allowed: they read as held and not held.
fn check_skill_comparison(skill: &Node, literal: &Node, column: usize) -> Result<(), ExprError> {
    let (Node::Skill(_), Node::Lit(value)) = (skill, literal) else { return Ok(()) };
    match value {
        Value::Bool(_) => Ok(()),
        Value::Num(n) if (0.0..=f64::from(crate::skills::MAX_LEVEL)).contains(n) => Ok(()),
        Value::Num(n) => Err(ExprError::new(
            column,
            format!("skill levels run from 1 to {} (0 when not held): {n} is out of range", crate::skills::MAX_LEVEL),
        )),
        other => Err(ExprError::new(column, format!("a skill level is a number, not {}", kind(other)))),
    }
}

/// The right of `in` is searched: a list, or a string for a substring test.
/// A contact attribute may be either, so only what is certainly neither
/// (numbers, booleans, skill levels, the agent's id) is refused.
fn check_collection(node: &Node, column: usize) -> Result<(), ExprError> {
    let what = match node {
        Node::Lit(v @ (Value::Null | Value::Bool(_) | Value::Num(_))) => kind(v),
        Node::Skill(_) => "a skill level",
        Node::AgentId => "the agent's id",
        _ => return Ok(()),
    };
    Err(ExprError::new(column, format!("'in' needs a list or a string on its right, not {what}")))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Num(_) => "a number",
        Value::Str(_) => "a string",
        Value::List(_) => "a list",
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("name '{s}'"),
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::Comma => "','".into(),
        Tok::Dot => "'.'".into(),
        Tok::Eq => "'=='".into(),
        Tok::Ne => "'!='".into(),
        Tok::Lt => "'<'".into(),
        Tok::Le => "'<='".into(),
        Tok::Gt => "'>'".into(),
        Tok::Ge => "'>='".into(),
        Tok::And => "'&&'".into(),
        Tok::Or => "'||'".into(),
        Tok::Not => "'!'".into(),
        Tok::In => "'in'".into(),
        Tok::True => "'true'".into(),
        Tok::False => "'false'".into(),
    }
}
