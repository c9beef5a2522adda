//! Response targets (SLA) on the channels a customer answers later —
//! email, SMS, messaging: every channel whose `Capabilities::realtime` is
//! false.
//!
//! A conversation's clock runs from the oldest customer message no agent
//! has answered: the first one (first response), or the first after an
//! agent's reply (next response), until an agent replies. The queue's
//! target is counted in the queue's business hours
//! (`Calendar::open_until`), so it pauses while the queue is closed. When
//! only the queue's warning time is left the service's ticker commits one
//! `sla_warning` event for that message, and once the due time has passed
//! one `sla_breached`. While the agents wait on the customer (their reply
//! is the latest message) no clock runs: the next one starts at the
//! customer's answer.
//!
//! Only conversations on those channels have clocks: a conversation opened
//! on a real-time channel (chat, voice) is set aside at its
//! `conversation_opened`, and its messages are not kept.
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
    /// The messages whose clocks have a warning logged.
    warned: HashSet<u64>,
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
    /// When the warning is due, if the queue warns.
    warn_at: Option<Timestamp>,
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

    /// When the running clock's warning and the clock itself fall due
    /// under `targets`; counted once per message and targets.
    fn due(
        &mut self,
        message: u64,
        started: Timestamp,
        timer: Timer,
        targets: &Arc<ResponseTargets>,
    ) -> (Option<Timestamp>, Option<Timestamp>) {
        if let Some(d) = &self.due
            && d.message == message
            && Arc::ptr_eq(&d.targets, targets)
        {
            return (d.warn_at, d.at);
        }
        let after = |open: std::time::Duration| match &targets.calendar {
            Some(calendar) => calendar.open_until(started, open),
            None => Some(started + open),
        };
        let target = timer.target(targets);
        let at = target.and_then(after);
        let warn_at = target.zip(targets.warning).and_then(|(t, w)| after(t.saturating_sub(w)));
        self.due = Some(Due { message, targets: targets.clone(), at, warn_at });
        (warn_at, at)
    }
}

#[derive(Debug, Default)]
struct WorkspaceClocks {
    /// Read back from the log since the start.
    loaded: bool,
    clocks: HashMap<ContactId, Clock>,
    /// Open conversations on real-time channels: their messages start no
    /// clock. (A set rather than a check of each message's contact, because
    /// commits may be published out of order: a message may come before
    /// its conversation's opening.)
    untracked: HashSet<ContactId>,
}

/// Every workspace's clocks.
#[derive(Debug, Default)]
pub struct Clocks {
    workspaces: Mutex<HashMap<WorkspaceId, WorkspaceClocks>>,
}

/// Whether an event concerns the clocks.
fn relevant(kind: Kind) -> bool {
    matches!(kind, Kind::Message | Kind::SlaBreached | Kind::SlaWarning | Kind::ConversationOpened) || is_end(kind)
}

impl Clocks {
    /// Folds a committed event in; `tracked` says whether a channel has
    /// response clocks.
    pub fn observe(&self, e: &LoggedEvent, tracked: impl Fn(Channel) -> bool) {
        let (Some(contact), Some(kind)) = (e.contact, Kind::parse(&e.kind)) else { return };
        if !relevant(kind) {
            return;
        }
        let mut all = self.workspaces.lock().expect("SLA clocks lock");
        let ws = all.entry(e.workspace).or_default();
        if ws.untracked.contains(&contact) && !is_end(kind) {
            return;
        }
        match kind {
            Kind::ConversationOpened => {
                let channel = serde_json::from_value::<Channel>(e.payload["channel"].clone());
                if channel.is_ok_and(|ch| !tracked(ch)) {
                    ws.clocks.remove(&contact);
                    ws.untracked.insert(contact);
                }
            }
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
            Kind::SlaBreached | Kind::SlaWarning => {
                if let Some(m) = e.payload["message"].as_u64() {
                    let clock = ws.clocks.entry(contact).or_default();
                    let logged = if kind == Kind::SlaBreached { &mut clock.breached } else { &mut clock.warned };
                    logged.insert(m);
                }
            }
            _ => {
                ws.clocks.remove(&contact);
                ws.untracked.remove(&contact);
            }
        }
    }

    fn is_loaded(&self, ws: WorkspaceId) -> bool {
        self.workspaces.lock().expect("SLA clocks lock").get(&ws).is_some_and(|w| w.loaded)
    }

    fn set_loaded(&self, ws: WorkspaceId) {
        self.workspaces.lock().expect("SLA clocks lock").entry(ws).or_default().loaded = true;
    }

    /// Appends, for every clock of `c`'s open contacts, an `sla_breached`
    /// event when it is past due at `now` and has none yet, else an
    /// `sla_warning` when its warning is due and it has none yet. The clock
    /// learns of them when the commit is published.
    pub fn passing(&self, c: &Center, now: Timestamp, out: &mut Vec<Change>) {
        let mut all = self.workspaces.lock().expect("SLA clocks lock");
        let Some(ws) = all.get_mut(&c.workspace).filter(|w| w.loaded) else { return };
        for (contact, clock) in &mut ws.clocks {
            let Some((timer, message, started)) = clock.running().filter(|(_, m, _)| !clock.breached.contains(m))
            else {
                continue;
            };
            let Some(record) = c.contacts.get(contact) else { continue };
            let Some(targets) = record.queue.and_then(|q| c.response_targets.get(&q)) else { continue };
            let (warn_at, due) = clock.due(message, started, timer, targets);
            let Some(due) = due else { continue };
            let kind = if due <= now {
                Kind::SlaBreached
            } else if warn_at.is_some_and(|w| w <= now) && !clock.warned.contains(&message) {
                Kind::SlaWarning
            } else {
                continue;
            };
            let target = timer.target(targets).unwrap_or_default();
            let mut payload = json!({
                "timer": timer,
                "message": message,
                "started_at": started,
                "due": due,
                "target_seconds": target.as_secs_f64(),
            });
            if let (Kind::SlaWarning, Some(w)) = (kind, targets.warning) {
                payload["warning_seconds"] = json!(w.as_secs_f64());
            }
            out.push(contact_event(record, now, kind, payload));
        }
    }

    /// Per queue, the open contacts of `c` whose running clock has breached
    /// (`.0`) or been warned of without breaching yet (`.1`, at risk).
    pub fn passing_now(&self, c: &Center) -> HashMap<QueueId, (u64, u64)> {
        let all = self.workspaces.lock().expect("SLA clocks lock");
        let mut out: HashMap<QueueId, (u64, u64)> = HashMap::new();
        let Some(ws) = all.get(&c.workspace) else { return out };
        for (contact, clock) in &ws.clocks {
            let Some((_, m, _)) = clock.running() else { continue };
            let (breached, warned) = (clock.breached.contains(&m), clock.warned.contains(&m));
            if let Some(q) = c.contacts.get(contact).and_then(|r| r.queue).filter(|_| breached || warned) {
                let n = out.entry(q).or_default();
                if breached {
                    n.0 += 1;
                } else {
                    n.1 += 1;
                }
            }
        }
        out
    }
}

/// Whether `kind` ends a conversation's clocks.
fn is_end(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::ContactEnded | Kind::ContactLeft | Kind::ContactCancelled | Kind::ConversationEnded | Kind::BotContained
    )
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
                clocks.observe(&e, |ch| self.has_response_clocks(ch));
            }
        }
        clocks.set_loaded(ws);
        Ok(())
    }

    /// Folds a committed event into the response clocks.
    pub(crate) fn observe_response(&self, e: &LoggedEvent) {
        self.inner.response_clocks.observe(e, |ch| self.has_response_clocks(ch));
    }

    /// The warnings and breaches due at `now` in `c`, for the ticker's commit.
    pub(crate) fn response_passing(&self, c: &Center, now: Timestamp, out: &mut Vec<Change>) {
        self.inner.response_clocks.passing(c, now, out);
    }

    /// Per queue of `c`, its open contacts whose response clock has
    /// breached, and those at risk (warned, not breached).
    pub(crate) fn passing_now(&self, c: &Center) -> HashMap<QueueId, (u64, u64)> {
        self.inner.response_clocks.passing_now(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u64, contact: u64, kind: Kind, payload: serde_json::Value) -> LoggedEvent {
        LoggedEvent {
            id,
            workspace: WorkspaceId(1),
            at: Timestamp(id as i64 * 1000),
            kind: kind.as_str().into(),
            contact: Some(ContactId(contact)),
            agent: None,
            queue: None,
            customer: None,
            payload,
        }
    }

    fn opened(id: u64, contact: u64, channel: Channel) -> LoggedEvent {
        event(id, contact, Kind::ConversationOpened, json!({ "channel": channel }))
    }

    fn customer_wrote(id: u64, contact: u64) -> LoggedEvent {
        event(id, contact, Kind::Message, json!({ "from": "customer", "name": "C", "text": "hi" }))
    }

    fn kept(clocks: &Clocks) -> (usize, usize) {
        let all = clocks.workspaces.lock().unwrap();
        all.get(&WorkspaceId(1)).map_or((0, 0), |w| (w.clocks.len(), w.untracked.len()))
    }

    #[test]
    fn real_time_conversations_keep_no_clock_whatever_the_order() {
        let clocks = Clocks::default();
        let later = |ch: Channel| ch != Channel::Chat;
        // A chat: set aside at its opening, its messages not kept.
        clocks.observe(&opened(1, 7, Channel::Chat), later);
        clocks.observe(&customer_wrote(2, 7), later);
        assert_eq!(kept(&clocks), (0, 1));
        // A message published before its chat's opening is dropped by it.
        clocks.observe(&customer_wrote(4, 8), later);
        assert_eq!(kept(&clocks), (1, 1));
        clocks.observe(&opened(3, 8, Channel::Chat), later);
        assert_eq!(kept(&clocks), (0, 2));
        // An email keeps its clock; ends forget both kinds.
        clocks.observe(&opened(5, 9, Channel::Email), later);
        clocks.observe(&customer_wrote(6, 9), later);
        assert_eq!(kept(&clocks), (1, 2));
        for contact in [7, 8, 9] {
            clocks.observe(&event(10 + contact, contact, Kind::ConversationEnded, json!({})), later);
        }
        assert_eq!(kept(&clocks), (0, 0));
    }
}
