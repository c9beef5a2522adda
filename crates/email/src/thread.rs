//! Which conversation a message belongs to.
//!
//! A conversation's thread key is its root: the first Message-ID of
//! `References` (RFC 5322 keeps the thread's first message there), else
//! `In-Reply-To`, else the message's own Message-ID. Our own Message-IDs
//! name the contact they were sent from (`<c{contact}.m{message}.{random}@{domain}>`),
//! so a reply whose client dropped `References` still finds its
//! conversation, and a message that *is* one of ours coming back in is
//! recognised as a loop.

use switchboard_core::ids::ContactId;

/// One of our Message-IDs, read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OurId {
    pub contact: ContactId,
    /// The event id of the message it carried.
    pub message: u64,
}

/// Hex digits in the random part: it makes an id unique across restarts
/// and installations, and one we did not send unlikely to look like ours.
const RANDOM_HEX: usize = 16;

/// A new Message-ID, with its angle brackets, for `message` of `contact`.
pub fn new_id(contact: ContactId, message: u64, domain: &str) -> String {
    format!("<c{}.m{message}.{}@{domain}>", contact.0, random_hex())
}

/// A notice's Message-ID (`<n.{random}@{domain}>`): no conversation's, so
/// an answer to it opens a new one.
pub fn notice_id(domain: &str) -> String {
    format!("<n.{}@{domain}>", random_hex())
}

fn random_hex() -> String {
    let mut random = [0u8; RANDOM_HEX / 2];
    getrandom::fill(&mut random).expect("the OS random source works");
    random.iter().map(|b| format!("{b:02x}")).collect()
}

/// `id` (with or without angle brackets) read as one of ours.
pub fn ours(id: &str) -> Option<OurId> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, domain) = id.split_once('@')?;
    if domain.is_empty() {
        return None;
    }
    let mut parts = local.split('.');
    let contact = parts.next()?.strip_prefix('c')?;
    let message = parts.next()?.strip_prefix('m')?;
    let random = parts.next()?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    let hex = random.len() == RANDOM_HEX && random.bytes().all(|b| b.is_ascii_hexdigit());
    if parts.next().is_some() || !digits(contact) || !digits(message) || !hex {
        return None;
    }
    Some(OurId { contact: ContactId(contact.parse().ok()?), message: message.parse().ok()? })
}

/// The first of our Message-IDs anywhere in `text` (a bounce quoting the
/// message it could not deliver), with its angle brackets.
pub fn find_ours(text: &str) -> Option<(String, OurId)> {
    let mut rest = text;
    while let Some(start) = rest.find("<c") {
        let candidate = &rest[start..];
        // Ids are short: looking no further than 200 bytes keeps a long
        // run of "<c" without a '>' linear.
        let window = &candidate.as_bytes()[..candidate.len().min(200)];
        if let Some(end) = window.iter().position(|&b| b == b'>') {
            let id = &candidate[..=end];
            if let Some(found) = ours(id) {
                return Some((id.to_string(), found));
            }
        }
        rest = &rest[start + 2..];
    }
    None
}

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threading {
    /// The thread key (the root Message-ID), when the message has any id.
    pub key: Option<String>,
    /// The conversation of ours it answers, newest reference first.
    pub answers: Option<OurId>,
}

/// The thread of a message with Message-ID `own`, `In-Reply-To` and
/// `References` (each id with its angle brackets).
pub fn of(own: Option<&str>, in_reply_to: &[String], references: &[String]) -> Threading {
    let key = references.first().or(in_reply_to.first()).map(String::as_str).or(own).map(bracketed);
    let answers = in_reply_to.iter().chain(references.iter().rev()).find_map(|id| ours(id));
    Threading { key, answers }
}

/// An id in its usual form, `<…>`, whatever form the parser gave it in.
pub fn bracketed(id: &str) -> String {
    format!("<{}>", id.trim().trim_start_matches('<').trim_end_matches('>'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ids_name_their_contact_and_message() {
        let id = new_id(ContactId(42), 7, "demo.example");
        assert!(id.starts_with("<c42.m7.") && id.ends_with("@demo.example>"), "{id}");
        assert_eq!(ours(&id), Some(OurId { contact: ContactId(42), message: 7 }));
        assert_eq!(ours(id.trim_matches(['<', '>'])), Some(OurId { contact: ContactId(42), message: 7 }));
        for other in
            ["<c42.m7@x>", "<c42.m7.0123456789abcdeg@x>", "<cx.m7.0123456789abcdef@x>", "<c1.m2.0123456789abcdef@>"]
        {
            assert_eq!(ours(other), None, "{other}");
        }
        let quoted = format!("Original-Message-ID: <c>\r\nMessage-ID: {id}\r\n");
        assert_eq!(find_ours(&quoted).map(|(i, _)| i), Some(id));
    }

    #[test]
    fn the_root_is_the_first_reference() {
        let ours_id = new_id(ContactId(3), 9, "d.example");
        let refs = vec!["<root@a>".to_string(), ours_id.clone()];
        let t = of(Some("<new@a>"), std::slice::from_ref(&ours_id), &refs);
        assert_eq!(t.key.as_deref(), Some("<root@a>"));
        assert_eq!(t.answers.map(|o| o.contact), Some(ContactId(3)));
        assert_eq!(of(Some("new@a"), &["x@a".into()], &[]).key.as_deref(), Some("<x@a>"));
        assert_eq!(of(Some("new@a"), &[], &[]), Threading { key: Some("<new@a>".into()), answers: None });
        assert_eq!(of(None, &[], &[]).key, None);
    }
}
