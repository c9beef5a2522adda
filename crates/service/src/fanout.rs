//! Who hears what, live. Committed events and chat signals (typing, read
//! marks) reach three kinds of listener: a few that follow a whole
//! workspace (supervisor sockets, webhook delivery), one socket or a few per
//! agent that follow that agent's contacts, and many that follow one
//! conversation (customers' chat sockets).
//!
//! One broadcast for everyone would wake every socket for every event only
//! for it to look and drop it: at 10,000 chats and 500 events a second that
//! is five million wake-ups a second, and it is what kept the server from
//! keeping up beyond 1,000 chats (docs/BENCHMARKS.md, "Chat"). So each
//! conversation and each agent has a channel of its own (a *topic*), made
//! when its first listener comes and dropped with its last; publishing
//! costs a map lookup or two more.

use super::chat::Signal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use switchboard_core::ids::{ContactId, UserId};
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

/// The same for one agent, who may have a hundred chats at once.
const AGENT_BACKLOG: usize = 1024;

/// What a listener follows besides a whole workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ContactId),
    /// Everything about an agent's contacts and the agent itself: what the
    /// events socket shows an agent.
    Agent(UserId),
}

impl Topic {
    fn backlog(self) -> usize {
        match self {
            Topic::Conversation(_) => CONVERSATION_BACKLOG,
            Topic::Agent(_) => AGENT_BACKLOG,
        }
    }
}

/// Something live about one conversation.
#[derive(Clone, Debug)]
pub enum Live {
    Event(Arc<LoggedEvent>),
    Signal(Arc<Signal>),
}

type Topics = Arc<Mutex<HashMap<Topic, broadcast::Sender<Live>>>>;

pub struct Fanout {
    events: broadcast::Sender<Arc<LoggedEvent>>,
    signals: broadcast::Sender<Arc<Signal>>,
    topics: Topics,
}

impl Default for Fanout {
    fn default() -> Self {
        Fanout {
            events: broadcast::channel(WORKSPACE_BACKLOG).0,
            signals: broadcast::channel(WORKSPACE_BACKLOG).0,
            topics: Default::default(),
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

    /// The events and signals of one topic, from now on.
    pub fn follow(&self, topic: Topic) -> Following {
        let mut map = self.topics.lock().expect("topics lock");
        let rx = map.entry(topic).or_insert_with(|| broadcast::channel(topic.backlog()).0).subscribe();
        Following { rx: Some(rx), topic, topics: self.topics.clone() }
    }

    /// Everything of every workspace (the listener filters by its own).
    pub fn follow_all(&self) -> Feed {
        Feed::All { events: self.events(), signals: self.signals() }
    }

    pub fn publish(&self, e: LoggedEvent) {
        let e = Arc::new(e);
        self.to_topics(e.contact, e.agent, || Live::Event(e.clone()));
        let _ = self.events.send(e);
    }

    pub fn signal(&self, s: Signal) {
        let s = Arc::new(s);
        self.to_topics(Some(s.contact), s.agent, || Live::Signal(s.clone()));
        let _ = self.signals.send(s);
    }

    fn to_topics(&self, contact: Option<ContactId>, agent: Option<UserId>, live: impl Fn() -> Live) {
        let map = self.topics.lock().expect("topics lock");
        let topics = [contact.map(Topic::Conversation), agent.map(Topic::Agent)];
        for tx in topics.into_iter().flatten().filter_map(|t| map.get(&t)) {
            let _ = tx.send(live());
        }
    }

    /// Topics with a listener now.
    #[cfg(test)]
    fn followed(&self) -> usize {
        self.topics.lock().expect("topics lock").len()
    }
}

/// A listener's stream: one topic, or everything.
pub enum Feed {
    One(Following),
    All { events: broadcast::Receiver<Arc<LoggedEvent>>, signals: broadcast::Receiver<Arc<Signal>> },
}

impl Feed {
    /// The next event or signal. An error means events were missed (the
    /// listener fell too far behind) or the server is stopping; signals
    /// missed on the workspace feed are not worth closing for.
    pub async fn recv(&mut self) -> Result<Live, RecvError> {
        match self {
            Feed::One(f) => f.recv().await,
            Feed::All { events, signals } => loop {
                tokio::select! {
                    e = events.recv() => return e.map(Live::Event),
                    s = signals.recv() => match s {
                        Ok(s) => return Ok(Live::Signal(s)),
                        Err(RecvError::Lagged(_)) => continue,
                        Err(e) => return Err(e),
                    },
                }
            },
        }
    }
}

/// A listener of one topic; the topic's channel goes when its last
/// listener does.
pub struct Following {
    rx: Option<broadcast::Receiver<Live>>,
    topic: Topic,
    topics: Topics,
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
        let mut map = self.topics.lock().expect("topics lock");
        // Dropped under the lock, so a listener arriving now either finds
        // the channel still counted or makes a new one.
        drop(self.rx.take());
        if map.get(&self.topic).is_some_and(|tx| tx.receiver_count() == 0) {
            map.remove(&self.topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::ids::WorkspaceId;
    use switchboard_core::time::Timestamp;

    fn event(id: u64, contact: u64, agent: Option<u64>) -> LoggedEvent {
        LoggedEvent {
            id,
            workspace: WorkspaceId(1),
            at: Timestamp(0),
            kind: "message".into(),
            contact: Some(ContactId(contact)),
            agent: agent.map(UserId),
            queue: None,
            customer: None,
            payload: json!({}),
        }
    }

    fn id(live: Live) -> u64 {
        match live {
            Live::Event(e) => e.id,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_topic_hears_only_its_own() {
        let f = Fanout::default();
        let mut all = f.follow_all();
        let mut seven = f.follow(Topic::Conversation(ContactId(7)));
        let mut alice = f.follow(Topic::Agent(UserId(2)));
        f.publish(event(1, 8, None));
        f.publish(event(2, 7, None));
        f.publish(event(3, 9, Some(2)));
        assert_eq!([id(all.recv().await.unwrap()), id(all.recv().await.unwrap())], [1, 2]);
        assert_eq!(id(seven.recv().await.unwrap()), 2);
        assert_eq!(id(alice.recv().await.unwrap()), 3);
    }

    #[tokio::test]
    async fn the_channel_goes_with_its_last_listener() {
        let f = Fanout::default();
        let a = f.follow(Topic::Conversation(ContactId(7)));
        let b = f.follow(Topic::Conversation(ContactId(7)));
        let c = f.follow(Topic::Agent(UserId(7)));
        assert_eq!(f.followed(), 2);
        drop(a);
        assert_eq!(f.followed(), 2);
        drop(b);
        drop(c);
        assert_eq!(f.followed(), 0);
    }
}
