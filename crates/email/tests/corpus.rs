//! The MIME corpus (tests/corpus: real-world and broken messages, see its
//! README): every message parses without a panic into the text its line in
//! `expected.txt` starts with, and what an agent would see is text and safe
//! HTML, never MIME source. Mutated corpus messages are in `fuzz.rs`.

use std::path::{Path, PathBuf};
use switchboard_email::parse::{Email, MAX_TEXT_CHARS};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every `.eml` under `dir`, as paths relative to the corpus, sorted.
fn messages(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            messages(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path.strip_prefix(corpus_dir()).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

/// What `expected.txt` records of a message: the start of the text the
/// agent sees (whitespace made single spaces), `(no text)`, or `(not a
/// message)` when the parser finds no headers at all.
fn summary(email: Option<&Email>) -> String {
    let Some(email) = email else { return "(not a message)".into() };
    let words = email.text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() { "(no text)".into() } else { words.chars().take(48).collect::<String>().trim_end().into() }
}

/// Messages whose text is what the sender wrote although it looks like MIME
/// source: `thirdparty/001` labels base64 as `binary`, and the two
/// `malformed` ones lack the blank line after a part's headers, so their
/// nested parts are text. Shown as sent (the source is attached), nothing lost.
const SHOWN_AS_SENT: [&str; 3] = ["malformed/020.eml", "malformed/021.eml", "thirdparty/001.eml"];

/// Why what an agent would see of `email` is not sensible, if it is not.
fn not_sensible(email: &Email) -> Option<String> {
    let text = &email.text;
    if text.chars().count() > MAX_TEXT_CHARS + 60 {
        return Some(format!("text of {} characters", text.chars().count()));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
        return Some(format!("the control character {c:?} in the text"));
    }
    // MIME source shown as text: a part's headers or a long base64 run.
    if let Some(line) = text.lines().find(|l| {
        let l = l.trim();
        l.to_ascii_lowercase().starts_with("content-transfer-encoding:")
            || (l.len() >= 76
                && !l.contains(' ')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)))
    }) {
        return Some(format!("MIME source in the text: {line}"));
    }
    if let Some(html) = &email.html {
        let lower = html.to_ascii_lowercase();
        for unsafe_bit in
            ["<script", "<style", "javascript:", " onload=", " onclick=", " onerror=", "srcset", "<iframe"]
        {
            if lower.contains(unsafe_bit) {
                return Some(format!("{unsafe_bit} in the HTML shown"));
            }
        }
        // An image may show only a part of the message itself (`cid:`).
        if lower.split(" src=\"").skip(1).any(|source| !source.starts_with("cid:")) {
            return Some("an image source other than cid: in the HTML shown".into());
        }
    }
    None
}

#[test]
fn every_corpus_message_parses_into_its_expected_text() {
    let mut files = Vec::new();
    messages(&corpus_dir(), &mut files);
    files.sort();
    assert!(files.len() >= 100, "{} messages", files.len());
    let table = std::fs::read_to_string(corpus_dir().join("expected.txt")).unwrap();
    let expected: Vec<(String, String)> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (file, text) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (file.to_string(), text.trim().to_string())
        })
        .collect();
    let listed: Vec<&String> = expected.iter().map(|(f, _)| f).collect();
    assert_eq!(files.iter().collect::<Vec<_>>(), listed, "every message has a line and every line a message, in order");

    let mut wrong = Vec::new();
    let mut got_table = Vec::new();
    for (file, want) in &expected {
        let raw = std::fs::read(corpus_dir().join(file)).unwrap();
        let email = Email::parse(&raw);
        let got = summary(email.as_ref());
        if let Some(why) = email.as_ref().and_then(not_sensible).filter(|_| !SHOWN_AS_SENT.contains(&file.as_str())) {
            wrong.push(format!("{file}: {why}"));
        }
        if &got != want {
            wrong.push(format!("{file}: expected {want:?}, got {got:?}"));
        }
        got_table.push(format!("{file:<24} {got}"));
    }
    assert!(wrong.is_empty(), "{}\n\nwhat the parser gives now:\n{}", wrong.join("\n"), got_table.join("\n"));
}

/// The examples of `authentication-results.txt`: (what its `==` line
/// expects, the header value as sent).
fn authentication_results() -> Vec<(Vec<String>, String)> {
    let text = std::fs::read_to_string(corpus_dir().join("authentication-results.txt")).unwrap();
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        match line.strip_prefix("== ") {
            Some(expect) => out.push((expect.split_whitespace().map(String::from).collect(), String::new())),
            None => {
                let (_, value) = out.last_mut().expect("a value after its == line");
                if !value.is_empty() {
                    value.push_str("\r\n");
                }
                value.push_str(line);
            }
        }
    }
    out
}

#[test]
fn authentication_results_of_real_relays_are_read() {
    use switchboard_email::authres;
    let examples = authentication_results();
    assert!(examples.len() >= 15, "{} examples", examples.len());
    let relays: Vec<String> = examples.iter().map(|(e, _)| e[1].trim_matches('"').to_string()).collect();
    for (expect, value) in &examples {
        let [verdict, id, spf, dkim, dmarc] = &expect[..] else { panic!("bad == line {expect:?}") };
        let or_none = |s: &String| (s != "-").then(|| s.clone());
        let parsed = authres::parse(value);
        match parsed.as_ref() {
            None => assert_eq!(id, "-", "{value}"),
            Some(r) => {
                assert_eq!(&r.authserv_id, id.trim_matches('"'), "{value}");
                assert_eq!(
                    (r.spf.clone(), r.dkim.clone(), r.dmarc.clone()),
                    (or_none(spf), or_none(dkim), or_none(dmarc))
                );
                assert_eq!(&format!("{:?}", r.verdict()).to_lowercase(), verdict, "{value}");
            }
        }
        // As a header of a message, read back the same, and believed only from a trusted relay.
        let raw = format!("Authentication-Results:{value}\r\nFrom: ann@shop.example\r\nSubject: x\r\n\r\nHello\r\n");
        let email = Email::parse(raw.as_bytes()).unwrap();
        assert_eq!(email.authentication_results.len(), 1);
        assert_eq!(authres::parse(&email.authentication_results[0]), parsed, "{value}");
        let believed = authres::trusted(email.authentication_results.iter().map(String::as_str), &relays);
        assert_eq!(believed, parsed);
        assert_eq!(authres::trusted(email.authentication_results.iter().map(String::as_str), &[]), None);
    }
}
