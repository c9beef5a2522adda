//! The conversation seam: what every channel calls, with no HTTP and no
//! user behind it (a channel acts for a workspace and its endpoint, not for
//! a supervisor). See docs/CHANNELS.md.
//!
//! - [`Service::inbound`] takes a customer's message on any channel: the
//!   customer, the contact, the message, the bot and the queue in one commit.
//! - The agent's and the bot's messages are events of kind `message`; the
//!   [`delivery`] loop hands them to the channel's [`ChannelAdapter`] and
//!   records how that went as `delivery` events.
//! - Ending, rating and leaving a message ([`end`]) work alike everywhere.
//! - The bot is the channel-neutral [`driver`].
//!
//! Messages are events on their contact, so they are durable with
//! everything else, come back in order after a reconnect (their ids are the
//! log's), and appear on the customer's cross-channel timeline.

mod callback;
mod channel;
pub mod delivery;
pub mod driver;
pub mod end;
mod hold;
mod inbound;
mod inline;
mod messages;
mod mute;
mod recordings;
mod reply;
mod retention;
mod transfer;
mod voicemail;

pub use callback::{AfterAttempt, CALLBACK_ATTEMPTS, CALLBACK_NUMBER, CallbackCall, CallbackOutcome, is_callback};
pub(crate) use callback::{callback_due, requeue_due_callbacks};
pub use channel::*;
pub use delivery::DeliveryOptions;
pub use driver::{Action, Choice, Input, Party, SECRET, Step};
pub use inbound::*;
pub use messages::*;
pub use reply::*;
pub use retention::RecordingSettings;
pub use voicemail::{InLine, VOICEMAIL_ATTRIBUTE, is_voicemail};

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use switchboard_core::flow::Run;
use switchboard_core::ids::{ContactId, UserId};
use tokio::sync::Mutex;

/// Where a bot conversation stands, kept as a document so a restart resumes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct BotRun {
    flow: u64,
    run: Run,
}

const BOT_RUN_KIND: &str = "bot_run";

/// What the service remembers of one conversation between calls: never
/// more than the store has (it is filled from the store on first use and
/// changed only after a commit).
#[derive(Default)]
pub(crate) struct Live {
    loaded: bool,
    bot: Option<BotRun>,
    /// The senders' ids of messages taken (see `IncomingMessage::client_id`).
    client_ids: HashSet<String>,
}

/// The conversations' memory: one lock per conversation, so a customer's
/// messages, the bot and the agent's posts are handled one at a time.
#[derive(Default)]
pub struct Conversations {
    map: std::sync::Mutex<HashMap<ContactId, Arc<Mutex<Live>>>>,
    /// Users' names, by id (see `Service::user_name`).
    pub(crate) names: std::sync::Mutex<HashMap<UserId, String>>,
    /// `Thread::Once` keys' locks, by the key's hash: one key's requests
    /// one at a time, other keys' alongside.
    once: [Mutex<()>; 32],
}

impl Conversations {
    pub(crate) fn get(&self, contact: ContactId) -> Arc<Mutex<Live>> {
        self.map.lock().expect("conversations lock").entry(contact).or_default().clone()
    }

    /// The lock of the `Thread::Once` keys hashing to `hash`.
    pub(crate) fn once_lock(&self, hash: u64) -> &Mutex<()> {
        &self.once[(hash % self.once.len() as u64) as usize]
    }

    /// Forgets a finished conversation's memory (its record stays in the store).
    pub(crate) fn forget(&self, contact: ContactId) {
        self.map.lock().expect("conversations lock").remove(&contact);
    }
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| format!("{x:02x}")).collect()
}
