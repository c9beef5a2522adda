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
//! A conversation an automation rule put under an SLA policy
//! (`sla_policy_applied`, see `sla_policies.rs`) counts with the policy's
//! targets instead, from then on, in its queue's business hours or around
//! the clock as the policy says; a policy with a resolution target adds a
//! resolution clock, from the conversation's opening until it ends, warned
//! of and breached once like the others (`timer: "resolution"`).
//!
//! Only conversations on those channels have clocks: a conversation opened
//! on a real-time channel (chat, voice) is set aside at its
//! `conversation_opened`, and its messages are not kept.
//!
//! The clocks know only what is committed (messages, breaches, policies,
//! ends), folded in whatever order it is published — each fact is a
//! maximum, a set or a removal, so the order does not matter — and read
//! back from the log the first time a workspace is checked after a start:
//! a restart neither loses a breach nor repeats one.

use crate::auth::Principal;
use crate::center::{Center, contact_event};
use crate::conversation::Author;
use crate::kinds::Kind;
use crate::settings::ResponseTargets;
use crate::sla_policies::SlaPolicy;
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
    /// The conversation's end, from its opening (SLA policies only).
    Resolution,
}

impl Timer {
    fn target(self, t: &ResponseTargets) -> Option<std::time::Duration> {
        match self {
            Timer::FirstResponse => t.first,
            Timer::NextResponse => t.next,
            Timer::Resolution => t.resolution,
        }
    }
}

/// The SLA policy applied to a conversation last: the event's id, and the
/// policy's id and body as the event carries them.
#[derive(Debug)]
struct Applied {
    event: u64,
    policy: u64,
    terms: SlaPolicy,
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
    /// The SLA policy it follows instead of its queue's targets.
    policy: Option<Applied>,
    /// The targets counted with under that policy: made from it and the
    /// queue's targets (their calendar) named by the first two.
    counted: Option<(Arc<ResponseTargets>, u64, Arc<ResponseTargets>)>,
    /// The resolution clock's warning and breach, once logged.
    resolution_warned: bool,
    resolution_breached: bool,
    /// Its due time, as last counted.
    resolution_due: Option<Due>,
}

/// A due time and what it was counted from: the same message and the same
/// targets (the queue's, replaced whenever the queue or its hours change,
/// or a policy's).
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

    fn policy_applied(&mut self, event: u64, policy: u64, terms: SlaPolicy) {
        if self.policy.as_ref().is_none_or(|a| a.event < event) {
            self.policy = Some(Applied { event, policy, terms });
        }
    }

    /// The targets this conversation counts with, given its queue's.
    fn targets(&mut self, queue: &Arc<ResponseTargets>) -> Arc<ResponseTargets> {
        let Some(applied) = &self.policy else { return queue.clone() };
        if let Some((q, event, counted)) = &self.counted
            && Arc::ptr_eq(q, queue)
            && *event == applied.event
        {
            return counted.clone();
        }
        let counted = Arc::new(applied.terms.response_targets(queue.calendar.as_ref()));
        self.counted = Some((queue.clone(), applied.event, counted.clone()));
        counted
    }
}

/// When a clock's warning and the clock itself fall due under `targets`;
/// counted once per message (0 for the resolution clock) and targets, and
/// kept in `cache`.
fn due(
    cache: &mut Option<Due>,
    message: u64,
    started: Timestamp,
    timer: Timer,
    targets: &Arc<ResponseTargets>,
) -> (Option<Timestamp>, Option<Timestamp>) {
    if let Some(d) = cache
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
    *cache = Some(Due { message, targets: targets.clone(), at, warn_at });
    (warn_at, at)
}

/// One clock of a conversation as it stands: what it waits for, since
/// when, until when, and what has been logged of it.
struct Standing {
    timer: Timer,
    /// The customer message that started it; none for the resolution clock.
    message: Option<u64>,
    started: Timestamp,
    warn_at: Option<Timestamp>,
    due: Timestamp,
    warned: bool,
    breached: bool,
}

impl Standing {
    /// The event due at `now`, if any: the breach, else the warning.
    fn passing(&self, now: Timestamp) -> Option<Kind> {
        if self.breached {
            None
        } else if self.due <= now {
            Some(Kind::SlaBreached)
        } else if !self.warned && self.warn_at.is_some_and(|w| w <= now) {
            Some(Kind::SlaWarning)
        } else {
            None
        }
    }
}

impl Clock {
    /// The conversation's running clocks under `targets`: the response
    /// clock if one runs, the resolution clock if the targets have one.
    fn standing(&mut self, targets: &Arc<ResponseTargets>, opened: Timestamp) -> Vec<Standing> {
        let mut out = Vec::with_capacity(2);
        if let Some((timer, message, started)) = self.running() {
            let (warn_at, at) = due(&mut self.due, message, started, timer, targets);
            if let Some(at) = at {
                out.push(Standing {
                    timer,
                    message: Some(message),
                    started,
                    warn_at,
                    due: at,
                    warned: self.warned.contains(&message),
                    breached: self.breached.contains(&message),
                });
            }
        }
        if targets.resolution.is_some() {
            let (warn_at, at) = due(&mut self.resolution_due, 0, opened, Timer::Resolution, targets);
            if let Some(at) = at {
                out.push(Standing {
                    timer: Timer::Resolution,
                    message: None,
                    started: opened,
                    warn_at,
                    due: at,
                    warned: self.resolution_warned,
                    breached: self.resolution_breached,
                });
            }
        }
        out
    }
}

/// Where a conversation stands with its targets: the clock that matters
/// most (a breached one, else the one due first), for the desktop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlaStatus {
    pub timer: Timer,
    /// When it passes (or passed).
    pub due: Timestamp,
    pub state: SlaState,
    /// The SLA policy the conversation is under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    Running,
    /// Its warning time has come.
    AtRisk,
    Breached,
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
    matches!(
        kind,
        Kind::Message | Kind::SlaBreached | Kind::SlaWarning | Kind::ConversationOpened | Kind::SlaPolicyApplied
    ) || is_end(kind)
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
                let clock = ws.clocks.entry(contact).or_default();
                let breach = kind == Kind::SlaBreached;
                if e.payload["timer"] == json!(Timer::Resolution) {
                    *(if breach { &mut clock.resolution_breached } else { &mut clock.resolution_warned }) = true;
                } else if let Some(m) = e.payload["message"].as_u64() {
                    (if breach { &mut clock.breached } else { &mut clock.warned }).insert(m);
                }
            }
            Kind::SlaPolicyApplied => {
                let terms = serde_json::from_value::<SlaPolicy>(e.payload["sla_policy"].clone());
                if let (Some(policy), Ok(terms)) = (e.payload["policy"].as_u64(), terms) {
                    ws.clocks.entry(contact).or_default().policy_applied(e.id, policy, terms);
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
            let Some(record) = c.contacts.get(contact) else { continue };
            let Some(queue) = record.queue.and_then(|q| c.response_targets.get(&q)) else { continue };
            let targets = clock.targets(queue);
            let policy = clock.policy.as_ref().map(|a| a.policy);
            for s in clock.standing(&targets, record.created_at) {
                let Some(kind) = s.passing(now) else { continue };
                let mut payload = json!({
                    "timer": s.timer,
                    "started_at": s.started,
                    "due": s.due,
                    "target_seconds": s.timer.target(&targets).unwrap_or_default().as_secs_f64(),
                });
                if let Some(m) = s.message {
                    payload["message"] = json!(m);
                }
                if let Some(p) = policy {
                    payload["policy"] = json!(p);
                }
                if let (Kind::SlaWarning, Some(w)) = (kind, targets.warning) {
                    payload["warning_seconds"] = json!(w.as_secs_f64());
                }
                out.push(contact_event(record, now, kind, payload));
            }
        }
    }

    /// Per queue, the open contacts of `c` with a clock that has breached
    /// (`.0`) or been warned of without any breaching (`.1`, at risk).
    pub fn passing_now(&self, c: &Center) -> HashMap<QueueId, (u64, u64)> {
        let all = self.workspaces.lock().expect("SLA clocks lock");
        let mut out: HashMap<QueueId, (u64, u64)> = HashMap::new();
        let Some(ws) = all.get(&c.workspace) else { return out };
        for (contact, clock) in &ws.clocks {
            let (mut breached, mut warned) = (clock.resolution_breached, clock.resolution_warned);
            if let Some((_, m, _)) = clock.running() {
                breached |= clock.breached.contains(&m);
                warned |= clock.warned.contains(&m);
            }
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

    /// Where each of `contacts` of `c` stands with its targets at `now`,
    /// for those with a clock running.
    pub fn status(&self, c: &Center, contacts: &[ContactId], now: Timestamp) -> HashMap<ContactId, SlaStatus> {
        let mut all = self.workspaces.lock().expect("SLA clocks lock");
        let mut out = HashMap::new();
        let Some(ws) = all.get_mut(&c.workspace) else { return out };
        for id in contacts {
            let (Some(clock), Some(record)) = (ws.clocks.get_mut(id), c.contacts.get(id)) else { continue };
            let Some(queue) = record.queue.and_then(|q| c.response_targets.get(&q)) else { continue };
            let targets = clock.targets(queue);
            let policy = clock.policy.as_ref().map(|a| a.policy);
            let state = |s: &Standing| {
                if s.breached || s.due <= now {
                    SlaState::Breached
                } else if s.warned || s.warn_at.is_some_and(|w| w <= now) {
                    SlaState::AtRisk
                } else {
                    SlaState::Running
                }
            };
            let first = clock
                .standing(&targets, record.created_at)
                .into_iter()
                .map(|s| (state(&s), s))
                .min_by_key(|(state, s)| (*state != SlaState::Breached, s.due));
            if let Some((state, s)) = first {
                out.insert(*id, SlaStatus { timer: s.timer, due: s.due, state, policy });
            }
        }
        out
    }

    /// The SLA policy applied to a contact, if any.
    fn policy_of(&self, ws: WorkspaceId, contact: ContactId) -> Option<u64> {
        let all = self.workspaces.lock().expect("SLA clocks lock");
        all.get(&ws)?.clocks.get(&contact)?.policy.as_ref().map(|a| a.policy)
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
    pub(crate) fn has_response_clocks(&self, channel: Channel) -> bool {
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

    /// The SLA policy applied to a contact, if any.
    pub(crate) async fn sla_policy_of(&self, ws: WorkspaceId, contact: ContactId) -> Result<Option<u64>, ServiceError> {
        self.load_response_clocks(ws).await?;
        Ok(self.inner.response_clocks.policy_of(ws, contact))
    }

    /// Where each of the caller's `contacts` stands with its targets now
    /// (those with a clock running): what the desktop counts down.
    pub async fn sla_status(
        &self,
        p: &Principal,
        contacts: &[ContactId],
    ) -> Result<HashMap<ContactId, SlaStatus>, ServiceError> {
        self.load_response_clocks(p.workspace).await?;
        let now = self.now();
        self.inspect(p.workspace, |c| self.inner.response_clocks.status(c, contacts, now)).await
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
