//! Switchboard's voice channel: a SIP user agent over UDP and TCP
//! ([`transport`]) taking calls to voice endpoints' numbers ([`agent`],
//! [`call`]), the IVR driven by the conversation seam's flow driver, the
//! queue with hold music ([`hold`]), and the media plane under it (SDP
//! offer/answer, RTP and RTCP, G.711, RFC 4733 DTMF, a jitter buffer, a
//! mixer, prompts and a paced media session). See docs/VOICE.md.

pub mod agent;
pub mod announce;
mod call;
mod callback;
pub mod dtmf;
pub mod g711;
pub mod hold;
pub mod jitter;
mod leg;
pub mod mixer;
mod outbound;
pub mod prompt;
mod recording;
mod refer;
pub mod registrar;
mod reoffer;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod session;
pub mod sip;
pub mod transport;

pub use agent::{Listening, VoiceConfig, VoiceError, listen};

/// A random token for tags and branches (RFC 3261 asks for 32 bits of randomness or more).
pub(crate) fn random_token() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Property-test cases: `PROPTEST_CASES` or a few thousand, what CI affords.
#[cfg(test)]
pub(crate) fn proptest_config() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
