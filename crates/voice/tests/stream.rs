//! The stream framer (SIP over TCP): a stream cut into chunks anywhere
//! gives the same messages, and the same error, as the whole of it read at
//! once, and no bytes make it panic or hand out more than a message may
//! hold. `PROPTEST_CASES` sets the number of cases of each property (2,000
//! by default; 500,000 runs the two a million times).

use proptest::prelude::*;
use switchboard_voice::sip::stream::{FrameError, Framer, MAX_HEADERS};
use switchboard_voice::sip::validate::MAX_MESSAGE;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every message `chunks` frame into, and the error that stopped it, if any.
fn frame(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Option<FrameError>) {
    let mut framer = Framer::default();
    let mut messages = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        loop {
            match framer.next_message() {
                Ok(Some(m)) => messages.push(m),
                Ok(None) => break,
                Err(e) => return (messages, Some(e)),
            }
        }
    }
    (messages, None)
}

/// A piece of a stream: a message with a right Content-Length (its header
/// spelt one of several ways), keep-alives, a message whose framing is
/// wrong, headers that never end, or bytes of any kind.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let body = prop::collection::vec(any::<u8>(), 0..300);
    let name = prop::sample::select(vec!["Content-Length", "content-length", "l", "CONTENT-LENGTH ", "l\t"]);
    let message = (name, body, 0usize..4).prop_map(|(name, body, padding)| {
        let mut m = format!(
            "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n{name}: {}{}\r\nCSeq: 1 OPTIONS\r\n\r\n",
            "0".repeat(padding),
            body.len()
        )
        .into_bytes();
        m.extend(body);
        m
    });
    let keep_alive = prop::sample::select(vec![&b"\r\n"[..], b"\r\n\r\n", b"\n", b"\r"]).prop_map(<[u8]>::to_vec);
    let broken = prop::sample::select(vec![
        &b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"[..],
        b"INVITE sip:a@b SIP/2.0\r\nl: 12x\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab",
        b"INVITE sip:a@b SIP/2.0\r\nl: 99999\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ])
    .prop_map(<[u8]>::to_vec);
    let endless = (MAX_HEADERS - 64..MAX_HEADERS + 64).prop_map(|n| {
        let mut m = b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n".to_vec();
        m.extend(std::iter::repeat_n(b'a', n));
        m.extend(b"\r\n\r\n");
        m
    });
    prop_oneof![
        8 => message,
        3 => keep_alive,
        1 => broken,
        1 => endless,
        2 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_stream_cut_anywhere_frames_as_the_whole(
        pieces in prop::collection::vec(piece(), 0..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let stream = pieces.concat();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        at.push(0);
        at.push(stream.len());
        at.sort_unstable();
        let chunks: Vec<&[u8]> = at.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
        prop_assert_eq!(frame(&chunks), frame(&[&stream]));
    }

    #[test]
    fn any_bytes_frame_without_panic_into_bounded_messages(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..512), 0..8),
    ) {
        let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let (messages, _) = frame(&chunks);
        for m in messages {
            prop_assert!(m.len() <= MAX_MESSAGE);
            prop_assert!(m.windows(4).any(|w| w == b"\r\n\r\n"));
            prop_assert!(m[0] != b'\r' && m[0] != b'\n', "keep-alives are not part of a message");
        }
    }
}
