//! Switchboard's voice channel groundwork: the media plane (SDP offer/answer,
//! RTP and RTCP, G.711, RFC 4733 DTMF, a jitter buffer, a mixer, prompts and a
//! paced media session over UDP) and the validation SIP messages pass before
//! anything acts on them. Nothing here answers a call yet: wiring SIP dialogs
//! to the conversation seam comes next (docs/VOICE.md).

pub mod dtmf;
pub mod g711;
pub mod jitter;
pub mod mixer;
pub mod prompt;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod session;
pub mod sip;

/// Property-test cases: `PROPTEST_CASES` or a few thousand, what CI affords.
#[cfg(test)]
pub(crate) fn proptest_config() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
