//! The session and the parser over mutated transcripts and messages (the
//! handwritten ones below and the MIME corpus of tests/corpus): whatever a
//! client sends, nothing panics, nothing loops, and every reply is one
//! well-formed line. `PROPTEST_CASES` sets the number of cases (2,000 by
//! default; see docs/EMAIL.md for the million-case run).

use proptest::prelude::*;
use switchboard_email::parse::Email;
use switchboard_email::session::{Limits, Reply, Session, Step};
use switchboard_email::{authres, safety, thread};

const MESSAGES: [&str; 4] = [
    "From: Ann <ann@customer.example>\r\nSubject: =?UTF-8?B?w4dh?=\r\nMessage-ID: <a@b>\r\nReferences: <r@b> <c1.m2.0123456789abcdef@shop.example>\r\n\r\nHello\r\n..dotted\r\n",
    "From: x@y\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9\r\n--q\r\nContent-Type: text/html\r\n\r\n<p onclick=x>hi<script>x</script><img src=http://t/x></p>\r\n--q--\r\n",
    "From: MAILER-DAEMON@r\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\nFinal-Recipient: rfc822; a@b\r\n\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <c3.m4.00112233445566aa@shop.example>\r\n\r\nx\r\n--B--\r\n",
    // As read from a mailbox: the delivering server's Return-Path first.
    "Return-Path: <>\r\nReturn-Path: <bounce+x@lists.example> (older)\r\nFrom: list@lists.example\r\nAuto-Submitted: auto-replied\r\n\r\nAway\r\n",
];

/// The corpus's messages, read once.
static CORPUS: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(|| {
    fn read(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                read(&path, out);
            } else if path.extension().is_some_and(|e| e == "eml") {
                out.push(std::fs::read(path).unwrap());
            }
        }
    }
    let mut out = Vec::new();
    read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"), &mut out);
    assert!(!out.is_empty(), "the corpus is there");
    out
});

/// The lines of the corpus's `Authentication-Results` examples.
static AUTH_RESULTS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/authentication-results.txt");
    std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.starts_with('#')).map(String::from).collect()
});

/// What an `Authentication-Results` value is made of.
fn auth_results_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["(", ")", "\"", "\\", ";", "=", "/", " ", "\r\n ", "dmarc=pass", "spf", "x."])
            .prop_map(String::from),
        any::<String>(),
        "[a-z0-9.=;() \"\\-]{1,24}",
    ]
}

/// Everything the inbox decides on one message from `envelope_from`, which
/// must not panic; whether it was a message at all.
fn examine(raw: &[u8], envelope_from: &str) -> bool {
    let Some(email) = Email::parse(raw) else { return false };
    assert!(email.text.chars().count() <= switchboard_email::parse::MAX_TEXT_CHARS + 60);
    let t = thread::of(email.message_id.as_deref(), &email.in_reply_to, &email.references);
    let _ = (t, safety::automatic(&email.auto), safety::is_bounce(&email, envelope_from));
    let _ = thread::find_ours(&String::from_utf8_lossy(raw));
    true
}

fn transcript(message: &str) -> Vec<u8> {
    format!(
        "EHLO client\r\nMAIL FROM:<ann@customer.example> SIZE=500 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<support@shop.example>\r\nRCPT TO:<other@else.example>\r\nDATA\r\n{message}.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<support@shop.example>\r\nDATA\r\n{message}.\r\nNOOP\r\nQUIT\r\n"
    )
    .into_bytes()
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\r\n.\r\n".to_vec()),
        Just(b"<".to_vec()),
        Just(b"=?".to_vec()),
        Just(b"--q\r\n".to_vec()),
        Just(b"STARTTLS\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        (any::<usize>(), special).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Replace(at, b) if !bytes.is_empty() => bytes[at % len] = *b,
            Mutation::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Delete(at, n) if !bytes.is_empty() => {
                let at = at % len;
                bytes.drain(at..(at + n).min(bytes.len()));
            }
            _ => {}
        }
    }
    bytes
}

/// Feeds `input` in `chunk`-byte reads, as a socket would.
fn drive(input: &[u8], chunk: usize) {
    let limits = Limits { max_message_bytes: 400, max_recipients: 5 };
    let mut session = Session::new("mx.test", limits, true, false);
    let mut output = Vec::new();
    let mut fed = 0;
    let mut steps = 0usize;
    let mut pending: &[u8] = &[];
    loop {
        steps += 1;
        assert!(steps < 10 * input.len() + 1000, "the session makes no progress");
        match session.advance(&mut pending) {
            Step::Read => {
                assert!(pending.is_empty(), "asked to read with input left");
                if fed >= input.len() {
                    break;
                }
                let end = (fed + chunk).min(input.len());
                pending = &input[fed..end];
                fed = end;
            }
            Step::Recipient(a) => session.recipient(a.ends_with("@shop.example")),
            Step::Deliver(envelope, data) => {
                let reply = if examine(&data, &envelope.from) {
                    Reply::new(250, "2.0.0", "taken")
                } else {
                    Reply::new(554, "5.6.0", "not a message")
                };
                session.delivered(reply);
            }
            Step::StartTls | Step::Close => break,
        }
        output.extend(session.take_output());
    }
    output.extend(session.take_output());
    let text = String::from_utf8(output).expect("replies are UTF-8");
    for line in text.split_terminator("\r\n") {
        let code = line.get(..3).unwrap_or("");
        assert!(code.bytes().all(|b| b.is_ascii_digit()) && matches!(&code[..1], "2" | "3" | "4" | "5"), "{line:?}");
        assert!(!line.contains(['\r', '\n']), "{line:?}");
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_sessions_never_panic(
        which in 0..MESSAGES.len(),
        mutations in proptest::collection::vec(mutation(), 0..12),
        chunk in 1usize..600,
    ) {
        let input = mutate(transcript(MESSAGES[which]), &mutations);
        drive(&input, chunk);
    }

    #[test]
    fn mutated_messages_parse_without_panic(
        which in 0..MESSAGES.len(),
        mutations in proptest::collection::vec(mutation(), 0..16),
    ) {
        examine(&mutate(MESSAGES[which].as_bytes().to_vec(), &mutations), "");
    }

    #[test]
    fn authentication_results_parse_without_panic(
        seed in any::<prop::sample::Index>(),
        pieces in proptest::collection::vec((any::<usize>(), auth_results_piece()), 0..8),
    ) {
        let mut value = seed.get(&AUTH_RESULTS).clone();
        for (at, piece) in pieces {
            let mut at = at % (value.len() + 1);
            while !value.is_char_boundary(at) {
                at -= 1;
            }
            value.insert_str(at, &piece);
        }
        if let Some(r) = authres::parse(&value) {
            prop_assert!(!r.authserv_id.is_empty() && !r.authserv_id.contains('='));
            for result in [&r.spf, &r.dkim, &r.dmarc].into_iter().flatten() {
                prop_assert!(!result.is_empty() && result.len() <= 16);
                prop_assert!(result.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
            }
            let _ = r.verdict();
        }
        let _ = authres::trusted([value.as_str(), ""], &["mx.google.com".to_string()]);
    }

    #[test]
    fn mutated_corpus_messages_parse_without_panic(
        which in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..16),
    ) {
        examine(&mutate(which.get(&CORPUS).clone(), &mutations), "");
    }
}
