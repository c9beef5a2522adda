//! One mailbox, kept in step: log in, select the folder, take every
//! message above the stored cursor through the [`Inbox`] (the SMTP
//! listener's path: threading, dedupe by Message-ID, auto-reply and bounce
//! safety), mark each processed once committed, then wait — IDLE where
//! the server offers it, else the poll interval — and again. Failures
//! reconnect with a doubling back-off, and the endpoint's health says how
//! it is going.
//!
//! The cursor, stored through the service per endpoint, is the mailbox's
//! UIDVALIDITY and the last UID taken: UIDs above it are new. With no
//! cursor yet, or a changed UIDVALIDITY (the server renumbered the folder),
//! it starts over from UID 1; in `seen` mode only the messages not flagged
//! `\Seen` up to the folder's last UID at that moment are taken, and the
//! seam's Message-ID dedupe drops any that come back into an open
//! conversation.

use super::ImapError;
use super::connect::{ImapSession, login, timed};
use super::settings::{MailboxSettings, Processed};
use crate::receive::Inbox;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_service::Service;
use switchboard_service::endpoints::Endpoint;
use tokio::sync::watch;

/// The largest message taken, as the listener's default: a larger one is
/// left in the mailbox, unmarked, with a log line.
pub const MAX_MESSAGE_BYTES: u32 = 25 * 1024 * 1024;
/// Messages whose headers are fetched in one command: a large backlog is
/// read a slice at a time, which servers throttle less.
const BATCH: usize = 100;
/// IDLE is re-issued this often (RFC 2177 asks for less than 29 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
/// A server silent this long in IDLE (they send a keep-alive every few
/// minutes) has gone away without closing the connection.
const IDLE_SILENCE: Duration = Duration::from_secs(6 * 60);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Where the poller stands in the mailbox (the endpoint's channel state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cursor {
    uid_validity: Option<u32>,
    last_uid: u32,
    /// Up to this UID only unseen messages are taken (see `pass`); kept
    /// so that a first pass cut short goes on the same way.
    unseen_through: u32,
}

pub struct Poller {
    pub service: Service,
    pub inbox: Arc<Inbox>,
    pub endpoint: Endpoint,
    pub settings: MailboxSettings,
}

impl Poller {
    /// Runs until `stop` turns true (or its sender is dropped).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let error = tokio::select! {
                Err(e) = self.session(&mut backoff) => e,
                _ = stop.wait_for(|s| *s) => return,
            };
            tracing::warn!(endpoint = self.endpoint.id.0, error = %error, "IMAP mailbox; reconnecting in {backoff:?}");
            if let Err(e) =
                self.service.endpoint_failing(&self.endpoint, &error.to_string(), self.settings.alert_after).await
            {
                tracing::error!(endpoint = self.endpoint.id.0, error = %e, "recording an IMAP mailbox's health");
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection, kept until something fails. Each completed pass
    /// over the mailbox resets the back-off and counts as a success.
    async fn session(&self, backoff: &mut Duration) -> Result<(), ImapError> {
        let mut session = login(&self.settings).await?;
        let capabilities = timed("asking for capabilities", async { Ok(session.capabilities().await?) }).await?;
        let idle = capabilities.has_str("IDLE");
        let server = Server { can_move: capabilities.has_str("MOVE"), uidplus: capabilities.has_str("UIDPLUS") };
        loop {
            self.pass(&mut session, server).await?;
            *backoff = FIRST_BACKOFF;
            self.service.endpoint_working(&self.endpoint).await?;
            if idle {
                session = self.idle(session).await?;
            } else {
                tokio::time::sleep(self.settings.poll).await;
            }
        }
    }

    /// Waits in IDLE until the server reports a change, or for
    /// [`IDLE_RENEW`]; the session is handed back for the next pass.
    async fn idle(&self, session: ImapSession) -> Result<ImapSession, ImapError> {
        let mut handle = session.idle();
        timed("starting IDLE", async { Ok(handle.init().await?) }).await?;
        {
            let (wait, _interrupt) = handle.wait_with_timeout(IDLE_SILENCE);
            match tokio::time::timeout(IDLE_RENEW, wait).await {
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(error)) => return Err(ImapError::Imap { doing: "waiting in IDLE", error }),
            }
        }
        timed("ending IDLE", async { Ok(handle.done().await?) }).await
    }

    /// Selects the folder and takes every message above the cursor.
    async fn pass(&self, session: &mut ImapSession, server: Server) -> Result<(), ImapError> {
        let folder = &self.settings.mailbox;
        let selected = timed("selecting the folder", async { Ok(session.select(folder).await?) }).await?;
        let validity = selected.uid_validity.ok_or(ImapError::NoUidValidity)?;
        let mut saved = self.cursor().await?;
        let mut cursor = saved;
        if cursor.uid_validity != Some(validity) {
            if cursor.uid_validity.is_some() {
                tracing::warn!(
                    endpoint = self.endpoint.id.0,
                    old = cursor.uid_validity,
                    new = validity,
                    "the IMAP folder's UIDVALIDITY changed; reading it again from the start"
                );
            }
            // With `seen`, what was taken before (or read by a person before
            // the first connection) is flagged \Seen: up to the folder's
            // last UID now, only unseen messages are new.
            let unseen_through = match self.settings.processed {
                Processed::Seen => self.search(session, "ALL").await?.last().copied().unwrap_or(0),
                Processed::Move(_) | Processed::Delete => 0,
            };
            cursor = Cursor { uid_validity: Some(validity), last_uid: 0, unseen_through };
            self.save(cursor).await?;
            saved = cursor;
        }
        let next = cursor.last_uid.saturating_add(1);
        let mut wanted = Vec::new();
        if next <= cursor.unseen_through {
            let query = format!("UID {next}:{} UNSEEN", cursor.unseen_through);
            wanted = self.search(session, &query).await?;
        }
        let after = next.max(cursor.unseen_through.saturating_add(1));
        // `n:*` always names the last message, even below n.
        wanted.extend(self.search(session, &format!("UID {after}:*")).await?.into_iter().filter(|u| *u >= after));
        for slice in wanted.chunks(BATCH) {
            for (uid, size, header) in self.headers(session, slice).await? {
                let raw = if size > MAX_MESSAGE_BYTES {
                    tracing::warn!(
                        endpoint = self.endpoint.id.0,
                        uid,
                        size,
                        message_id = message_id(&header).as_deref().unwrap_or("none"),
                        "a message over the size limit; left in the mailbox"
                    );
                    None
                } else {
                    Some(self.body(session, uid).await?)
                };
                let taken = match raw {
                    Some(raw) => self.take(uid, raw).await?,
                    None => false,
                };
                cursor.last_uid = uid;
                self.save(cursor).await?;
                saved = cursor;
                if taken {
                    self.mark(session, server, uid).await?;
                }
            }
        }
        // Everything up to it is taken or was seen already.
        cursor.last_uid = cursor.last_uid.max(cursor.unseen_through);
        if cursor != saved {
            self.save(cursor).await?;
        }
        Ok(())
    }

    /// The UIDs `query` finds, in order.
    async fn search(&self, session: &mut ImapSession, query: &str) -> Result<Vec<u32>, ImapError> {
        let found = timed("searching the folder", async { Ok(session.uid_search(query).await?) }).await?;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Size and header of each of `uids`, in UID order.
    async fn headers(&self, session: &mut ImapSession, uids: &[u32]) -> Result<Vec<(u32, u32, Vec<u8>)>, ImapError> {
        let set = uid_set(uids);
        let fetched = timed("fetching headers", async {
            let stream = session.uid_fetch(&set, "(UID RFC822.SIZE BODY.PEEK[HEADER])").await?;
            Ok(stream.try_collect::<Vec<_>>().await?)
        })
        .await?;
        let mut out: Vec<(u32, u32, Vec<u8>)> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0), f.header().unwrap_or_default().to_vec())))
            .filter(|(uid, ..)| uids.binary_search(uid).is_ok())
            .collect();
        out.sort_unstable_by_key(|(uid, ..)| *uid);
        out.dedup_by_key(|(uid, ..)| *uid);
        Ok(out)
    }

    async fn body(&self, session: &mut ImapSession, uid: u32) -> Result<Vec<u8>, ImapError> {
        let fetched = timed("fetching a message", async {
            let stream = session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await?;
            Ok(stream.try_collect::<Vec<_>>().await?)
        })
        .await?;
        fetched
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec)
            .ok_or(ImapError::Vanished(uid))
    }

    /// Hands one message to the inbox: true when it was committed, false
    /// when it never will be (not an email, refused); a temporary failure
    /// ends the pass, to be tried again.
    async fn take(&self, uid: u32, raw: Vec<u8>) -> Result<bool, ImapError> {
        let reply = self.inbox.fetched(&self.endpoint, raw).await;
        match reply.code {
            200..=299 => Ok(true),
            400..=499 => Err(ImapError::Deferred(reply.text)),
            _ => {
                tracing::warn!(endpoint = self.endpoint.id.0, uid, reason = %reply.text, "a message refused; left in the mailbox");
                // Shown as the last error (the pass goes on, so it is no
                // lasting failure): a refusal may be the endpoint's
                // configuration rather than the message.
                let error = format!("a message (UID {uid}) was refused and left in the mailbox: {}", reply.text);
                self.service.endpoint_failing(&self.endpoint, &error, self.settings.alert_after).await?;
                Ok(false)
            }
        }
    }

    /// Marks a committed message as `imap_processed` says.
    async fn mark(&self, session: &mut ImapSession, server: Server, uid: u32) -> Result<(), ImapError> {
        let uid = uid.to_string();
        match &self.settings.processed {
            Processed::Seen => store_flag(session, &uid, "\\Seen").await,
            Processed::Delete => {
                store_flag(session, &uid, "\\Deleted").await?;
                expunge(session, server, &uid).await
            }
            Processed::Move(folder) => {
                if server.can_move {
                    match timed("moving a message", async { Ok(session.uid_mv(&uid, folder).await?) }).await {
                        Ok(()) => return Ok(()),
                        // The folder may not exist yet: made once, then again.
                        Err(_) => {
                            let _ = timed("creating a folder", async { Ok(session.create(folder).await?) }).await;
                            return timed("moving a message", async { Ok(session.uid_mv(&uid, folder).await?) }).await;
                        }
                    }
                }
                if timed("copying a message", async { Ok(session.uid_copy(&uid, folder).await?) }).await.is_err() {
                    let _ = timed("creating a folder", async { Ok(session.create(folder).await?) }).await;
                    timed("copying a message", async { Ok(session.uid_copy(&uid, folder).await?) }).await?;
                }
                store_flag(session, &uid, "\\Deleted").await?;
                expunge(session, server, &uid).await
            }
        }
    }

    async fn cursor(&self) -> Result<Cursor, ImapError> {
        let state = self.service.channel_state(&self.endpoint).await?.unwrap_or(Value::Null);
        // A cursor for another folder (the setting changed) is no cursor.
        if state["mailbox"].as_str() != Some(self.settings.mailbox.as_str()) {
            return Ok(Cursor::default());
        }
        let number = |k: &str| state[k].as_u64().and_then(|n| u32::try_from(n).ok());
        Ok(Cursor {
            uid_validity: number("uid_validity"),
            last_uid: number("last_uid").unwrap_or(0),
            unseen_through: number("unseen_through").unwrap_or(0),
        })
    }

    async fn save(&self, cursor: Cursor) -> Result<(), ImapError> {
        let state = json!({
            "mailbox": self.settings.mailbox,
            "uid_validity": cursor.uid_validity,
            "last_uid": cursor.last_uid,
            "unseen_through": cursor.unseen_through,
        });
        Ok(self.service.put_channel_state(&self.endpoint, state).await?)
    }
}

/// What the server can do that changes how messages are marked.
#[derive(Clone, Copy, Debug)]
struct Server {
    can_move: bool,
    uidplus: bool,
}

async fn store_flag(session: &mut ImapSession, uid: &str, flag: &str) -> Result<(), ImapError> {
    timed("flagging a message", async {
        let stream = session.uid_store(uid, format!("+FLAGS.SILENT ({flag})")).await?;
        stream.try_collect::<Vec<_>>().await?;
        Ok(())
    })
    .await
}

/// Removes the message flagged `\Deleted`: only it with UIDPLUS; without,
/// EXPUNGE removes every message flagged so.
async fn expunge(session: &mut ImapSession, server: Server, uid: &str) -> Result<(), ImapError> {
    timed("expunging a message", async {
        if server.uidplus {
            session.uid_expunge(uid).await?.try_collect::<Vec<_>>().await?;
        } else {
            session.expunge().await?.try_collect::<Vec<_>>().await?;
        }
        Ok(())
    })
    .await
}

/// UIDs as an IMAP set, runs written as ranges: `3:7,9`.
fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// The Message-ID in a header block, for the log line of a message left behind.
fn message_id(header: &[u8]) -> Option<String> {
    crate::parse::Email::parse(header).and_then(|e| e.message_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
    }
}
