//! SIP: for now, the validation every message passes before anything acts
//! on it. Transactions and dialogs will come from rsipstack behind our own
//! trait; its parser is lenient, so [`validate`] enforces what RFC 3261
//! requires and the parser lets through.

pub mod validate;

pub use rsipstack::sip::SipMessage;
