//! IMAP mailboxes: the other way in for an email endpoint, beside the SMTP
//! listener. An endpoint whose settings name an `imap_host` gets a poller
//! ([`poll`]) that reads its folder and hands each new message to the same
//! [`Inbox`](crate::Inbox) the listener uses; [`mailboxes`] starts, restarts
//! and stops the pollers as endpoints are created, edited, disabled and
//! deleted. See docs/EMAIL.md, "IMAP mailboxes".

pub mod connect;
pub mod mailboxes;
pub mod poll;
pub mod settings;

pub use mailboxes::run_mailboxes;
pub use settings::{MailboxSettings, Processed, SettingsError, Tls};

use switchboard_service::ServiceError;

/// Why a poller lost its connection or could not finish a pass. The text is
/// what admins see as the endpoint's health: it never holds a credential
/// (the login's error is the server's answer, which does not echo it).
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("{0}")]
    Settings(#[from] SettingsError),
    #[error("connecting to {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("login refused: {0}")]
    Login(String),
    #[error("{0}: {1}")]
    Imap(&'static str, async_imap::error::Error),
    #[error("the server took too long {0}")]
    Timeout(&'static str),
    #[error("the folder has no UIDVALIDITY: the server cannot be polled safely")]
    NoUidValidity,
    #[error("message UID {0} vanished while it was being read")]
    Vanished(u32),
    #[error("a message was deferred: {0}")]
    Deferred(String),
    #[error("storing: {0}")]
    Service(#[from] ServiceError),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        ImapError::Imap("talking to the server", e)
    }
}
