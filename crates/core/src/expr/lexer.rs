//! Splits an expression into tokens, remembering the column of each.

use super::ExprError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Not,
    In,
    True,
    False,
}

/// A token and its 1-based column.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned {
    pub tok: Tok,
    pub column: usize,
}

pub fn tokenize(src: &str) -> Result<Vec<Spanned>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = |next: char| chars.get(i + 1) == Some(&next);
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '[' => (Tok::LBracket, 1),
            ']' => (Tok::RBracket, 1),
            ',' => (Tok::Comma, 1),
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => (Tok::Dot, 1),
            '=' if two('=') => (Tok::Eq, 2),
            '!' if two('=') => (Tok::Ne, 2),
            '!' => (Tok::Not, 1),
            '<' if two('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if two('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '&' if two('&') => (Tok::And, 2),
            '|' if two('|') => (Tok::Or, 2),
            '=' => return Err(ExprError::new(column, "single '=': compare with '=='")),
            '&' | '|' => {
                return Err(ExprError::new(column, format!("single '{c}': use '{c}{c}'")));
            }
            '"' | '\'' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(ExprError::new(column, "unterminated string")),
                        Some(q) if *q == c => break,
                        Some('\\') if j + 1 < chars.len() => {
                            s.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            j += 1;
                        }
                    }
                }
                (Tok::Str(s), j + 1 - i)
            }
            c if c.is_ascii_digit() || c == '.' || c == '-' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                j = exponent_end(&chars, j);
                let text: String = chars[i..j].iter().collect();
                let n = text.parse::<f64>().map_err(|_| ExprError::new(column, format!("bad number '{text}'")))?;
                if !n.is_finite() {
                    return Err(ExprError::new(column, format!("number '{text}' is too large")));
                }
                (Tok::Num(n), j - i)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '-') {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                let tok = match word.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    _ => Tok::Ident(word),
                };
                (tok, j - i)
            }
            other => return Err(ExprError::new(column, format!("unexpected character '{other}'"))),
        };
        out.push(Spanned { tok, column });
        i += len;
    }
    Ok(out)
}

/// Where an exponent (`e20`, `E-3`) that starts at `j` ends; `j` when there is
/// none, so that `2else` still reads as a number and a name.
fn exponent_end(chars: &[char], j: usize) -> usize {
    if !matches!(chars.get(j), Some('e' | 'E')) {
        return j;
    }
    let mut k = j + 1;
    if matches!(chars.get(k), Some('+' | '-')) {
        k += 1;
    }
    if !chars.get(k).is_some_and(|d| d.is_ascii_digit()) {
        return j;
    }
    while chars.get(k).is_some_and(|d| d.is_ascii_digit()) {
        k += 1;
    }
    k
}
