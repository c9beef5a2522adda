//! Recursive-descent parser from tokens to [`Node`]s, resolving names as it goes.
//!
//! Precedence, loosest first: `||`, `&&`, `!`, comparisons and `in`.

use super::lexer::{Spanned, Tok};
use super::value::Value;
use super::{CmpOp, ExprError, Node};
use crate::skills::SkillRegistry;

pub struct Parser<'a> {
    toks: Vec<Spanned>,
    pos: usize,
    end_column: usize,
    skills: &'a SkillRegistry,
}

impl<'a> Parser<'a> {
    pub fn new(toks: Vec<Spanned>, src_len: usize, skills: &'a SkillRegistry) -> Self {
        Parser { toks, pos: 0, end_column: src_len + 1, skills }
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
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Node::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut left = self.not()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Node::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, ExprError> {
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
                let right = self.primary()?;
                return Ok(Node::In(Box::new(left), Box::new(right)));
            }
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
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
                let inner = self.or()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(inner)
            }
            Tok::LBracket => {
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
