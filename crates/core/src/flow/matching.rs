//! How customer text is compared with hand-off phrases and button options.
//!
//! Customers type "Agent!", "talk to  SOMEONE please" or "billing." and mean
//! the same as the clean words, so both sides are reduced to lower-case words
//! before comparing. Phrases match whole words only: "agent" must not fire on
//! "management" or "reagent".

use super::definition::ButtonOption;

/// Lower-case words separated by single spaces: everything that is not a
/// letter or digit separates words.
pub(crate) fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Whether `text` contains `phrase` as a run of whole words.
pub(crate) fn contains_phrase(text: &str, phrase: &str) -> bool {
    let phrase = words(phrase);
    if phrase.is_empty() {
        return false;
    }
    // Padding both with spaces turns "whole words" into a substring test.
    format!(" {} ", words(text)).contains(&format!(" {phrase} "))
}

/// The option `text` chooses: its value, label or key, ignoring case,
/// surrounding space and punctuation. Exact comparison comes first because a
/// phone key such as `#` or `*` is nothing but punctuation.
pub(crate) fn choose<'a>(options: &'a [ButtonOption], text: &str) -> Option<&'a ButtonOption> {
    let trimmed = text.trim().to_lowercase();
    let exact = |candidate: &str| candidate.trim().to_lowercase() == trimmed;
    if let Some(o) = options.iter().find(|o| exact(o.value()) || exact(&o.label) || o.key.as_deref().is_some_and(exact))
    {
        return Some(o);
    }
    let typed = words(text);
    if typed.is_empty() {
        return None;
    }
    let loose = |candidate: &str| words(candidate) == typed;
    options.iter().find(|o| loose(o.value()) || loose(&o.label) || o.key.as_deref().is_some_and(loose))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(label: &str, value: Option<&str>, key: Option<&str>) -> ButtonOption {
        ButtonOption { label: label.into(), value: value.map(Into::into), key: key.map(Into::into), next: "x".into() }
    }

    #[test]
    fn phrases_match_whole_words_in_any_case() {
        assert!(contains_phrase("I want an AGENT!", "agent"));
        assert!(contains_phrase("agent", "agent"));
        assert!(contains_phrase("can I talk to   someone, please?", "talk to someone"));
        assert!(contains_phrase("Talk-to-someone", "talk to someone"));
        assert!(!contains_phrase("management", "agent"));
        assert!(!contains_phrase("reagents", "agent"));
        assert!(!contains_phrase("talk to me someone", "talk to someone"));
        assert!(!contains_phrase("anything", ""));
        assert!(!contains_phrase("anything", "?!"));
        assert!(contains_phrase("Ich möchte einen MENSCHEN", "menschen"));
    }

    #[test]
    fn options_match_by_value_label_or_key() {
        let opts = vec![
            option("Billing question", Some("billing"), Some("1")),
            option("Order status", None, Some("2")),
            option("Operator", Some("op"), Some("#")),
        ];
        let pick = |t: &str| choose(&opts, t).map(|o| o.value().to_string());
        assert_eq!(pick("billing").as_deref(), Some("billing"));
        assert_eq!(pick("  BILLING question ").as_deref(), Some("billing"));
        assert_eq!(pick("1").as_deref(), Some("billing"));
        assert_eq!(pick("order status.").as_deref(), Some("Order status"));
        assert_eq!(pick("2").as_deref(), Some("Order status"));
        assert_eq!(pick("#").as_deref(), Some("op"));
        assert_eq!(pick("3"), None);
        assert_eq!(pick("bill"), None);
        assert_eq!(pick(""), None);
        assert_eq!(pick("!!"), None);
    }
}
