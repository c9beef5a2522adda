//! Who hears what, live. Committed events and chat signals (typing, read
//! marks) reach two kinds of listener: a few that follow a whole workspace
//! (agent and supervisor sockets, webhook delivery) and many that follow one
//! conversation (customers' chat sockets).
//!
//! One broadcast for everyone would wake every customer socket for every
//! event only for it to look and drop it: at 10,000 chats and 500 events a
//! second that is five million wake-ups a second, and it is what kept the
//! server from keeping up beyond 1,000 chats (docs/BENCHMARKS.md, "Chat").
//! So each conversation has a channel of its own, made when its first
//! listener comes and dropped with its last; publishing costs one map
//! lookup more.

use super::chat::Signal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use switchboard_core::ids::ContactId;
use switchboard_store::LoggedEvent;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// How many events a workspace listener may fall behind before it is
/// dropped (it then resumes from its last id).
const WORKSPACE_BACKLOG: usize = 4096;

/// The same for one conversation. A bot's answer is a handful of events at
/// once, a conversation sees a few a second at most; the buffer is
/// allocated up front per listened conversation, so it is kept small.
const CONVERSATION_BACKLOG: usize = 64;

/// Something live about one conversation.
#[derive(Clone, Debug)]
pub enum Live {
    Event(Arc<LoggedEvent>),
    Signal(Arc<Signal>),
}

type Conversations = Arc<Mutex<HashMap<ContactId, broadcast::Sender<Live>>>>;

pub struct Fanout {
    events: broadcast::Sender<Arc<LoggedEvent>>,
    signals: broadcast::Sender<Arc<Signal>>,
    conversations: Conversations,
}

impl Default for Fanout {
    fn default() -> Self {
        Fanout {
            events: broadcast::channel(WORKSPACE_BACKLOG).0,
            signals: broadcast::channel(WORKSPACE_BACKLOG).0,
            conversations: Default::default(),
        }
    }
}

impl Fanout {
    /// Every committed event, as it is published.
    pub fn events(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.events.subscribe()
    }

    /// Every signal.
    pub fn signals(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.signals.subscribe()
    }

    /// The events and signals of one conversation, from now on.
    pub fn follow(&self, contact: ContactId) -> Following {
        let mut map = self.conversations.lock().expect("conversations lock");
        let rx = map.entry(contact).or_insert_with(|| broadcast::channel(CONVERSATION_BACKLOG).0).subscribe();
        Following { rx: Some(rx), contact, conversations: self.conversations.clone() }
    }

    pub fn publish(&self, e: LoggedEvent) {
        let e = Arc::new(e);
        if let Some(c) = e.contact {
            self.to_conversation(c, Live::Event(e.clone()));
        }
        let _ = self.events.send(e);
    }

    pub fn signal(&self, s: Signal) {
        let s = Arc::new(s);
        self.to_conversation(s.contact, Live::Signal(s.clone()));
        let _ = self.signals.send(s);
    }

    fn to_conversation(&self, contact: ContactId, live: Live) {
        if let Some(tx) = self.conversations.lock().expect("conversations lock").get(&contact) {
            let _ = tx.send(live);
        }
    }

    /// Conversations with a listener now.
    #[cfg(test)]
    fn followed(&self) -> usize {
        self.conversations.lock().expect("conversations lock").len()
    }
}

/// A listener of one conversation; the conversation's channel goes when
/// its last listener does.
pub struct Following {
    rx: Option<broadcast::Receiver<Live>>,
    contact: ContactId,
    conversations: Conversations,
}

impl Following {
    pub async fn recv(&mut self) -> Result<Live, RecvError> {
        match &mut self.rx {
            Some(rx) => rx.recv().await,
            None => Err(RecvError::Closed),
        }
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let mut map = self.conversations.lock().expect("conversations lock");
        // Dropped under the lock, so a listener arriving now either finds
        // the channel still counted or makes a new one.
        drop(self.rx.take());
        if map.get(&self.contact).is_some_and(|tx| tx.receiver_count() == 0) {
            map.remove(&self.contact);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::ids::WorkspaceId;
    use switchboard_core::time::Timestamp;

    fn event(id: u64, contact: u64) -> LoggedEvent {
        LoggedEvent {
            id,
            workspace: WorkspaceId(1),
            at: Timestamp(0),
            kind: "message".into(),
            contact: Some(ContactId(contact)),
            agent: None,
            queue: None,
            customer: None,
            payload: json!({}),
        }
    }

    #[tokio::test]
    async fn a_conversation_hears_only_its_own() {
        let f = Fanout::default();
        let mut all = f.events();
        let mut seven = f.follow(ContactId(7));
        f.publish(event(1, 8));
        f.publish(event(2, 7));
        assert_eq!(all.recv().await.unwrap().id, 1);
        assert_eq!(all.recv().await.unwrap().id, 2);
        match seven.recv().await.unwrap() {
            Live::Event(e) => assert_eq!(e.id, 2),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_channel_goes_with_its_last_listener() {
        let f = Fanout::default();
        let a = f.follow(ContactId(7));
        let b = f.follow(ContactId(7));
        assert_eq!(f.followed(), 1);
        drop(a);
        assert_eq!(f.followed(), 1);
        drop(b);
        assert_eq!(f.followed(), 0);
    }
}
