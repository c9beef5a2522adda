//! SIP: the validation every message passes before anything acts on it
//! (rsipstack's parser is lenient, so [`validate`] enforces what RFC 3261
//! requires and the parser lets through), the framing of messages on a
//! stream ([`stream`]), the per-source rate limit, and the header reading
//! and response writing of the user agent (`crate::agent`), which keeps
//! its own small transaction state.

pub mod limit;
pub mod message;
pub mod stream;
pub mod validate;

pub use rsipstack::sip::SipMessage;
