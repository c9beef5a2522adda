//! The email channel: an SMTP listener taking mail for the workspaces'
//! email endpoints, threaded into conversations through the service's
//! conversation seam, and replies sent by SMTP submission through each
//! endpoint's relay. See docs/EMAIL.md.
//!
//! - [`session`]: one SMTP session, a state machine without I/O;
//! - [`listener`]: the TCP (and STARTTLS) side driving sessions;
//! - [`authres`]: `Authentication-Results` from trusted relays, and the
//!   sender's verdict;
//! - [`parse`]: a received message read (text, safe HTML, attachments,
//!   delivery reports);
//! - [`thread`]: our Message-IDs and which conversation a message joins;
//! - [`safety`]: auto-replies, bounces and the per-sender limit;
//! - [`blocklist`]: an endpoint's blocked senders;
//! - [`receive`]: a received message through the seam, committed before 250;
//! - [`imap`]: IMAP mailboxes polled into the same inbox;
//! - [`send`] and [`channel`]: replies out, as the `ChannelAdapter`.

pub mod authres;
pub mod blocklist;
pub mod channel;
pub mod imap;
pub mod listener;
pub mod parse;
pub mod receive;
pub mod safety;
pub mod send;
pub mod session;
pub mod thread;

pub use channel::EmailChannel;
pub use imap::run_mailboxes;
pub use listener::{ListenError, ListenerConfig, Listening, TlsFiles, listen};
pub use receive::Inbox;
