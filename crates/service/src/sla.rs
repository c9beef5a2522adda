//! Response targets (SLA) on the channels a customer answers later —
//! email, SMS, messaging: every channel whose `Capabilities::realtime` is
//! false.
//!
//! A conversation's clock runs from the oldest customer message no agent
//! has answered: the first one (first response), or the first after an
//! agent's reply (next response), until an agent replies. The queue's
//! target is counted in the queue's business hours
//! (`Calendar::open_until`), so it pauses while the queue is closed. Once
//! the due time has passed, the service's ticker commits one
//! `sla_breached` event for that message.
//!
//! The clocks know only what is committed (messages, breaches, ends),
//! folded in whatever order it is published — each fact is a maximum, a
//! set or a removal, so the order does not matter — and read back from the
//! log the first time a workspace is checked after a start: a restart
//! neither loses a breach nor repeats one.

use crate::center::{Center, contact_event};
use crate::conversation::Author;
use crate::kinds::Kind;
use crate::settings::ResponseTargets;
use crate::{Service, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, QueueId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, LoggedEvent};

/// Which response a clock waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The agents' first reply to the conversation.
    FirstResponse,
    /// Their reply to a customer message that came after one of theirs.
    NextResponse,
}

impl Timer {
    fn target(self, t: &ResponseTargets) -> Option<std::time::Duration> {
        match self {
            Timer::FirstResponse => t.first,
            Timer::NextResponse => t.next,
        }
    }
}

/// What is known of one conversation's replies.
#[derive(Debug, Default)]
struct Clock {
    /// The event id of the agents' latest reply.
    replied: Option<u64>,
    /// The customer's messages after it: event id → when it arrived.
    waiting: BTreeMap<u64, Timestamp>,
    /// The messages whose clocks have a breach logged.
    breached: HashSet<u64>,
    /// The due time of the running clock, as last counted.
    due: Option<Due>,
}

/// A due time and what it was counted from: the same message and the same
/// targets (the queue's, replaced whenever the queue or its hours change).
#[derive(Debug)]
struct Due {
    message: u64,
    targets: Arc<ResponseTargets>,
    at: Option<Timestamp>,
}

impl Clock {
    /// The running clock: which timer and the message that started it.
    fn running(&self) -> Option<(Timer, u64, Timestamp)> {
        let (&message, &at) = self.waiting.first_key_value()?;
        let timer = if self.replied.is_some() { Timer::NextResponse } else { Timer::FirstResponse };
        Some((timer, message, at))
    }

    fn customer_wrote(&mut self, id: u64, at: Timestamp) {
        if self.replied.is_none_or(|r| id > r) {
            self.waiting.insert(id, at);
        }
    }

    fn agent_replied(&mut self, id: u64) {
        let latest = self.replied.map_or(id, |r| r.max(id));
        self.replied = Some(latest);
        self.waiting.retain(|m, _| *m > latest);
    }

    /// When the running clock falls due under `targets`; counted once per
    /// message and targets.
    fn due(
        &mut self,
        message: u64,
        started: Timestamp,
        timer: Timer,
        targets: &Arc<ResponseTargets>,
    ) -> Option<Timestamp> {
        if let Some(d) = &self.due
            && d.message == message
            && Arc::ptr_eq(&d.targets, targets)
        {
            return d.at;
        }
        let at = timer.target(targets).and_then(|target| match &targets.calendar {
            Some(calendar) => calendar.open_until(started, target),
            None => Some(started + target),
        });
        self.due = Some(Due { message, targets: targets.clone(), at });
        at
    }
}

#[derive(Debug, Default)]
struct WorkspaceClocks {
    /// Read back from the log since the start.
    loaded: bool,
    clocks: HashMap<ContactId, Clock>,
}

/// Every workspace's clocks.
#[derive(Debug, Default)]
pub struct Clocks {
    workspaces: Mutex<HashMap<WorkspaceId, WorkspaceClocks>>,
}

/// Whether an event concerns the clocks.
fn relevant(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Message
            | Kind::SlaBreached
            | Kind::ContactEnded
            | Kind::ContactLeft
            | Kind::ContactCancelled
            | Kind::ConversationEnded
            | Kind::BotContained
    )
}

impl Clocks {
    /// Folds a committed event in.
    pub fn observe(&self, e: &LoggedEvent) {
        let (Some(contact), Some(kind)) = (e.contact, Kind::parse(&e.kind)) else { return };
        if !relevant(kind) {
            return;
        }
        let mut all = self.workspaces.lock().expect("SLA clocks lock");
        let ws = all.entry(e.workspace).or_default();
        match kind {
            Kind::Message => {
                // A machine's message (an out-of-office reply) asks nothing;
                // the bot's and the system's answer nothing.
                if e.payload["automatic"].as_bool() == Some(true) {
                    return;
                }
                match serde_json::from_value::<Author>(e.payload["from"].clone()) {
                    Ok(Author::Customer) => ws.clocks.entry(contact).or_default().customer_wrote(e.id, e.at),
                    Ok(Author::Agent) => ws.clocks.entry(contact).or_default().agent_replied(e.id),
                    _ => {}
                }
            }
            Kind::SlaBreached => {
                if let Some(m) = e.payload["message"].as_u64() {
                    ws.clocks.entry(contact).or_default().breached.insert(m);
                }
            }
            _ => {
                ws.clocks.remove(&contact);
            }
        }
    }

    fn is_loaded(&self, ws: WorkspaceId) -> bool {
        self.workspaces.lock().expect("SLA clocks lock").get(&ws).is_some_and(|w| w.loaded)
    }

    fn set_loaded(&self, ws: WorkspaceId) {
        self.workspaces.lock().expect("SLA clocks lock").entry(ws).or_default().loaded = true;
    }

    /// Appends an `sla_breached` event for every clock of `c`'s open
    /// contacts on a `tracked` channel that is past due at `now` and has
    /// none yet. The clock learns of it when the commit is published.
    pub fn breaches(&self, c: &Center, now: Timestamp, tracked: impl Fn(Channel) -> bool, out: &mut Vec<Change>) {
        let mut all = self.workspaces.lock().expect("SLA clocks lock");
        let Some(ws) = all.get_mut(&c.workspace).filter(|w| w.loaded) else { return };
        for (contact, clock) in &mut ws.clocks {
            let Some((timer, message, started)) = clock.running().filter(|(_, m, _)| !clock.breached.contains(m))
            else {
                continue;
            };
            let Some(record) = c.contacts.get(contact).filter(|r| tracked(r.channel)) else { continue };
            let Some(targets) = record.queue.and_then(|q| c.response_targets.get(&q)) else { continue };
            let Some(due) = clock.due(message, started, timer, targets).filter(|d| *d <= now) else { continue };
            let target = timer.target(targets).unwrap_or_default();
            out.push(contact_event(
                record,
                now,
                Kind::SlaBreached,
                json!({
                    "timer": timer,
                    "message": message,
                    "started_at": started,
                    "due": due,
                    "target_seconds": target.as_secs_f64(),
                }),
            ));
        }
    }

    /// Per queue, the open contacts of `c` whose running clock has breached.
    pub fn breached_now(&self, c: &Center) -> HashMap<QueueId, u64> {
        let all = self.workspaces.lock().expect("SLA clocks lock");
        let mut out = HashMap::new();
        let Some(ws) = all.get(&c.workspace) else { return out };
        for (contact, clock) in &ws.clocks {
            let breached = clock.running().is_some_and(|(_, m, _)| clock.breached.contains(&m));
            if let Some(q) = c.contacts.get(contact).and_then(|r| r.queue).filter(|_| breached) {
                *out.entry(q).or_default() += 1;
            }
        }
        out
    }
}

impl Service {
    /// Whether conversations on `channel` have response clocks: its
    /// registered channel answers later.
    fn has_response_clocks(&self, channel: Channel) -> bool {
        self.channels().get(channel).is_some_and(|a| !a.capabilities().realtime)
    }

    /// Reads a workspace's clocks back from the log once after a start:
    /// the messages and breaches of its open contacts on channels with
    /// clocks. Events published meanwhile are folded too, in any order.
    pub(crate) async fn load_response_clocks(&self, ws: WorkspaceId) -> Result<(), ServiceError> {
        let clocks = &self.inner.response_clocks;
        if clocks.is_loaded(ws) {
            return Ok(());
        }
        for contact in self.store().open_contacts(ws).await? {
            if !self.has_response_clocks(contact.channel) {
                continue;
            }
            for e in self.store().contact_events(ws, contact.id, None).await? {
                clocks.observe(&e);
            }
        }
        clocks.set_loaded(ws);
        Ok(())
    }

    /// The breaches due at `now` in `c`, for the ticker's commit.
    pub(crate) fn response_breaches(&self, c: &Center, now: Timestamp, out: &mut Vec<Change>) {
        self.inner.response_clocks.breaches(c, now, |ch| self.has_response_clocks(ch), out);
    }

    /// Per queue of `c`, its open contacts whose response clock has breached.
    pub(crate) fn breached_now(&self, c: &Center) -> HashMap<QueueId, u64> {
        self.inner.response_clocks.breached_now(c)
    }
}
