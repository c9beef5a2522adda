//! The one check for what people name things (users, skills, policies,
//! queues, customers, documents, tokens…) and for free text: trimmed, not
//! empty, bounded, and free of the characters that break what shows them —
//! a NUL truncates C strings and logs, CR/LF split headers and log lines.

use super::ServiceError;

/// The longest name, in characters (docs/API.md).
pub const MAX_NAME: usize = 200;

/// A one-line name of at most [`MAX_NAME`] characters.
pub fn name(field: &str, value: &str) -> Result<String, ServiceError> {
    line(field, value, MAX_NAME)
}

/// One line of at most `max` characters: no control characters at all.
pub fn line(field: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = bounded(field, value, max)?;
    if value.chars().any(char::is_control) {
        return Err(ServiceError::invalid(field, "must not contain control characters (NUL, line breaks, tabs…)"));
    }
    Ok(value)
}

/// Text of at most `max` characters, line breaks allowed, NUL not.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = bounded(field, value, max)?;
    if value.contains('\0') {
        return Err(ServiceError::invalid(field, "must not contain NUL characters"));
    }
    Ok(value)
}

fn bounded(field: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("at most {max} characters")));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<String, ServiceError>) -> String {
        match r {
            Err(ServiceError::Invalid { field, .. }) => field,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(name("name", "  Billing ").unwrap(), "Billing");
        assert_eq!(name("name", &"é".repeat(MAX_NAME)).unwrap().chars().count(), MAX_NAME);
        assert_eq!(field_of(name("name", &"x".repeat(MAX_NAME + 1))), "name");
        for bad in ["", "   ", "a\0b", "a\r\nb", "a\tb"] {
            assert_eq!(field_of(name("skills[0]", bad)), "skills[0]", "{bad:?}");
        }
        assert_eq!(text("body", "line one\nline two", 100).unwrap(), "line one\nline two");
        assert_eq!(field_of(text("body", "a\0", 100)), "body");
    }
}
