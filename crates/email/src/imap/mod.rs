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
    #[error("login: {0}")]
    Login(String),
    #[error("{doing}: {}", server_words(.error))]
    Imap { doing: &'static str, error: async_imap::error::Error },
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

/// An IMAP client error as a person reads it: a server's NO or BAD by the
/// server's own words (async-imap writes them as `code: …, info: Some("…")`).
pub fn server_words(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error as E;
    let (kind, text) = match e {
        E::No(t) => ("refused", t),
        E::Bad(t) => ("rejected as a bad command", t),
        other => return other.to_string(),
    };
    let words = text
        .split_once("info: Some(\"")
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map_or(text.as_str(), |(words, _)| words);
    format!("{kind}: {words}")
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        ImapError::Imap { doing: "talking to the server", error: e }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::error::Error as E;

    #[test]
    fn the_servers_words_without_the_clients_wrapping() {
        let no = E::No(r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#.into());
        assert_eq!(server_words(&no), "refused: [AUTHENTICATIONFAILED] Authentication failed.");
        assert_eq!(server_words(&E::Bad("odd".into())), "rejected as a bad command: odd");
        assert_eq!(server_words(&E::ConnectionLost), "connection lost");
    }
}
