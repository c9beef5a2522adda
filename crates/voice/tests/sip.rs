//! The SIP validation corpus (tests/corpus/sip, verdicts in verdicts.txt):
//! every message gets its expected verdict, and no bytes, random or a
//! mutated corpus message, make validation panic. `PROPTEST_CASES` sets the
//! number of cases (2,000 by default).

use proptest::prelude::*;
use std::path::PathBuf;
use switchboard_voice::sip::SipMessage;
use switchboard_voice::sip::validate::{Invalid, Transport, validate};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/sip")
}

struct Case {
    file: String,
    transport: Transport,
    expected: String,
}

fn cases() -> Vec<Case> {
    let table = std::fs::read_to_string(corpus_dir().join("verdicts.txt")).unwrap();
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let l = l.split('#').next().unwrap();
            let mut f = l.split_whitespace();
            let file = f.next().unwrap().to_string();
            let transport = match f.next().unwrap() {
                "udp" => Transport::Udp,
                "tcp" => Transport::Tcp,
                t => panic!("{file}: transport {t}"),
            };
            Case { file, transport, expected: f.collect::<Vec<_>>().join(" ") }
        })
        .collect()
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(file)).unwrap()
}

fn body(m: &SipMessage) -> &[u8] {
    match m {
        SipMessage::Request(r) => r.body(),
        SipMessage::Response(r) => r.body(),
    }
}

#[test]
fn every_corpus_message_gets_its_verdict() {
    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sip"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = cases.iter().map(|c| c.file.clone()).collect();
    listed.sort();
    assert_eq!(files, listed, "every corpus file has a verdict and every verdict a file");
    let mut wrong = Vec::new();
    for case in &cases {
        let got = match validate(&read(&case.file), case.transport) {
            Ok(m) if case.expected.starts_with("valid body=") => format!("valid body={}", body(&m).len()),
            Ok(_) => "valid".to_string(),
            Err(Invalid::Reject { status, reason }) => {
                if case.expected != format!("reject {status}") {
                    wrong.push(format!("{}: ({reason})", case.file));
                }
                format!("reject {status}")
            }
            Err(Invalid::Drop { .. }) => "drop".to_string(),
        };
        if got != case.expected {
            wrong.push(format!("{}: expected {}, got {got}", case.file, case.expected));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn valid_messages_keep_what_matters() {
    let Ok(SipMessage::Request(r)) = validate(&read("valid-invite-sdp.sip"), Transport::Udp) else { panic!() };
    let sdp = switchboard_voice::sdp::SessionDescription::parse(std::str::from_utf8(r.body()).unwrap()).unwrap();
    assert_eq!(sdp.media[0].port, 40376);
    let Ok(SipMessage::Request(r)) = validate(&read("valid-udp-body-longer-than-content-length.sip"), Transport::Udp)
    else {
        panic!()
    };
    assert!(r.body().ends_with(b"a=sendrecv\r\n"), "cut exactly at Content-Length");
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One edit of a message: overwrite, insert, delete or cut.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to SIP's grammar come up more often than chance would bring them.
    let byte = prop_oneof![any::<u8>(), prop::sample::select(b"\r\n :;,<>\"\\@0123456789-\t%[]=".to_vec())];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), prop::collection::vec(byte, 1..8)).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut m: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = m.len().max(1);
        match e {
            Edit::Set(i, b) if !m.is_empty() => m[i % len] = *b,
            Edit::Insert(i, b) => {
                let at = i % (m.len() + 1);
                m.splice(at..at, b.iter().copied());
            }
            Edit::Delete(i, n) if !m.is_empty() => {
                let at = i % len;
                let end = (at + n).min(m.len());
                m.drain(at..end);
            }
            Edit::Truncate(i) => m.truncate(i % (m.len() + 1)),
            _ => {}
        }
    }
    m
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048), tcp in any::<bool>()) {
        let _ = validate(&data, if tcp { Transport::Tcp } else { Transport::Udp });
    }

    #[test]
    fn mutated_corpus_messages_never_panic(index in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6), tcp in any::<bool>()) {
        let cases = cases();
        let case = &cases[index.index(cases.len())];
        let data = apply(read(&case.file), &edits);
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        if let Ok(m) = validate(&data, transport) {
            // Whatever passes has a body no longer than what arrived.
            prop_assert!(body(&m).len() <= data.len());
        }
    }
}
