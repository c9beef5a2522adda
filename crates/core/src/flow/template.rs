//! `{{variable}}` templates in block text.
//!
//! Deliberately tiny: substitution only, no conditions or filters, so that
//! the same text reads well in a chat bubble and through text-to-speech and a
//! flow author cannot write a program by accident. Branching belongs in
//! `branch` blocks, where validation can see it.

use std::collections::BTreeMap;

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// A template that does not parse, pointing at a 1-based character column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub column: usize,
    pub message: String,
}

/// Whether `name` may be a variable: what `{{…}}` accepts, and what `save_as`
/// and `set` may write, so that every stored variable can be read back.
pub(crate) fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Splits `src` into text and variables, or says where it is malformed.
pub(crate) fn parse(src: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let column = |byte: usize| src[..byte].chars().count() + 1;
    let mut pieces = Vec::new();
    let mut rest = 0;
    while let Some(open) = src[rest..].find("{{").map(|i| rest + i) {
        if open > rest {
            pieces.push(Piece::Text(&src[rest..open]));
        }
        let inner_start = open + 2;
        let Some(close) = src[inner_start..].find("}}").map(|i| inner_start + i) else {
            return Err(TemplateError { column: column(open), message: "'{{' is never closed by '}}'".into() });
        };
        let name = src[inner_start..close].trim();
        if !is_variable_name(name) {
            let message = if name.is_empty() {
                "'{{}}' names no variable".to_string()
            } else {
                format!("'{name}' is not a variable name (letters, digits, '_', '-' and '.')")
            };
            return Err(TemplateError { column: column(open), message });
        }
        pieces.push(Piece::Var(name));
        rest = close + 2;
    }
    if rest < src.len() {
        pieces.push(Piece::Text(&src[rest..]));
    }
    Ok(pieces)
}

/// The variables `src` reads (empty when it does not parse).
pub(crate) fn variables(src: &str) -> Vec<&str> {
    parse(src)
        .map(|pieces| {
            pieces
                .into_iter()
                .filter_map(|p| match p {
                    Piece::Var(v) => Some(v),
                    Piece::Text(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Substitutes variables; a missing one reads as the empty string. Validation
/// rejects malformed templates, so one met here (a definition built without
/// validation) is said as written rather than failing the conversation.
///
/// The result is cut at [`MAX_RENDERED`] bytes: a `set` block that feeds a
/// variable into itself (`"x": "{{x}}{{x}}"`) in a loop would otherwise
/// double it on every turn until memory runs out.
pub fn render(src: &str, vars: &BTreeMap<String, String>) -> String {
    let Ok(pieces) = parse(src) else { return src.to_string() };
    let mut out = String::with_capacity(src.len());
    for p in pieces {
        let piece = match p {
            Piece::Text(t) => t,
            Piece::Var(v) => vars.get(v).map(String::as_str).unwrap_or(""),
        };
        let room = MAX_RENDERED.saturating_sub(out.len());
        if piece.len() > room {
            let mut cut = room;
            while !piece.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&piece[..cut]);
            break;
        }
        out.push_str(piece);
    }
    out
}

/// The longest text a template renders to, in bytes.
pub const MAX_RENDERED: usize = 16 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn substitutes_and_blanks_missing() {
        let v = vars(&[("name", "Ada"), ("order.id", "42")]);
        assert_eq!(render("Hi {{name}}!", &v), "Hi Ada!");
        assert_eq!(render("Hi {{ name }}, order {{order.id}}.", &v), "Hi Ada, order 42.");
        assert_eq!(render("Hi {{nobody}}!", &v), "Hi !");
        assert_eq!(render("{{name}}{{name}}", &v), "AdaAda");
        assert_eq!(render("no variables", &v), "no variables");
        assert_eq!(render("", &v), "");
        // A single brace is text.
        assert_eq!(render("{name} }}", &v), "{name} }}");
    }

    #[test]
    fn substituted_values_are_not_templates_again() {
        let v = vars(&[("a", "{{b}}"), ("b", "x")]);
        assert_eq!(render("{{a}}", &v), "{{b}}");
    }

    #[test]
    fn malformed_templates_point_at_the_braces() {
        let e = parse("Hi {{name").unwrap_err();
        assert_eq!((e.column, e.message.as_str()), (4, "'{{' is never closed by '}}'"));
        assert_eq!(parse("é {{ }}").unwrap_err().column, 3);
        assert!(parse("{{two words}}").unwrap_err().message.contains("'two words' is not a variable name"));
        // Rendering a malformed template says it as written.
        assert_eq!(render("Hi {{name", &vars(&[("name", "Ada")])), "Hi {{name");
    }

    #[test]
    fn lists_variables_read() {
        assert_eq!(variables("{{a}} and {{ b }} and {{a}}"), vec!["a", "b", "a"]);
        assert!(variables("{{broken").is_empty());
    }
}
