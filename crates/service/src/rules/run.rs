//! Running the rules. A task follows the committed events; for each that is
//! one of the rules' events it evaluates the workspace's rules on the
//! contact (core's `evaluate`) and carries out the actions of those that
//! fire, with one `rule_fired` event per rule naming every action and its
//! outcome, in one commit with the effects.
//!
//! Rules run just after the event's own commit, so a rule on
//! `contact_created` may find the contact already offered to an agent: its
//! priority then counts if the contact comes back to the line.
//!
//! Loops: a rule's reply is the bot's message, never a received one, and
//! its transfer never creates a contact, so a rule's effects trigger no
//! rule. Events a rule makes carry `rule_depth`, and core fires nothing at
//! [`MAX_DEPTH`](switchboard_core::rules::MAX_DEPTH) should that change.

use super::StoredRule;
use super::facts::{Said, customer_said, facts_of, rating_of};
use crate::center::contact_event;
use crate::conversation::{Author, MessageBody};
use crate::documents::CannedResponse;
use crate::kinds::Kind;
use crate::sla_policies::SlaPolicy;
use crate::{Center, Service, ServiceError};
use serde_json::{Value, json};
use std::cell::Cell;
use switchboard_core::channel::Channel;
use switchboard_core::events::TransferTarget;
use switchboard_core::rules::{Action, Rule, Trigger, evaluate};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, ContactRecord, ContactState, CustomerRecord, LoggedEvent};
use tokio::sync::broadcast::error::RecvError;

/// The rules' event an event is, if any. A contact's creation is its
/// `conversation_opened`, on every channel (the API's too): one event per
/// contact, so a rule on `contact_created` fires once.
fn trigger_of(e: &LoggedEvent) -> Option<Trigger> {
    let kind = Kind::parse(&e.kind)?;
    Some(match kind {
        Kind::ConversationOpened => Trigger::ContactCreated,
        Kind::Message if customer_said(e).is_some() => Trigger::MessageReceived,
        Kind::ContactEnded | Kind::ContactLeft | Kind::ContactCancelled => Trigger::ContactEnded,
        Kind::Csat => Trigger::CsatReceived,
        Kind::SlaBreached => Trigger::SlaBreached,
        Kind::SlaWarning => Trigger::SlaWarning,
        _ => return None,
    })
}

/// What carrying out one rule's actions needs besides the center.
struct Firing<'a> {
    rule: &'a StoredRule,
    depth: u32,
    canned: &'a [crate::documents::Stored<CannedResponse>],
    sla_policies: &'a [crate::documents::Stored<SlaPolicy>],
    /// Whether the contact's channel has response clocks.
    clocked: bool,
    /// The SLA policy the contact is under, as the rules leave it.
    sla_policy: &'a Cell<Option<u64>>,
    /// Whether the center holds the contact (it is still open).
    live: bool,
    now: Timestamp,
}

impl Service {
    /// Starts the task that runs the rules on committed events; it stops
    /// when `stop` changes. Having fallen behind the event stream, it reads
    /// what it missed back from the store.
    pub fn spawn_rules(self, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let mut events = self.subscribe();
        tokio::spawn(async move {
            let (mut seen, mut lagged) = (0u64, false);
            loop {
                let received = tokio::select! {
                    _ = stop.changed() => return,
                    e = events.recv() => e,
                };
                match received {
                    Ok(e) => {
                        if std::mem::take(&mut lagged) {
                            self.rules_catch_up(seen, e.id).await;
                        }
                        seen = seen.max(e.id);
                        self.run_rules_logged(&e).await;
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "automation rules fell behind; reading the skipped events back");
                        lagged = true;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }

    async fn run_rules_logged(&self, e: &LoggedEvent) {
        if let Err(err) = self.run_rules_on(e).await {
            tracing::warn!(error = %err, event = e.id, workspace = %e.workspace, "running automation rules");
        }
    }

    /// Runs the rules on the events between `after` and `next` (exclusive).
    async fn rules_catch_up(&self, after: u64, next: u64) {
        let workspaces = match self.store().workspaces().await {
            Ok(w) => w,
            Err(e) => return tracing::warn!(error = %e, "listing workspaces to catch up on automation rules"),
        };
        for ws in workspaces {
            if !self.workspace_rules(ws.id).await.is_ok_and(|r| !r.is_empty()) {
                continue;
            }
            let mut from = after;
            'pages: loop {
                let page = match self.store().events(ws.id, from, crate::reports::PAGE).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading events to catch up on automation rules");
                        break;
                    }
                };
                let full = page.len() == crate::reports::PAGE as usize;
                for e in &page {
                    if e.id >= next {
                        break 'pages;
                    }
                    from = e.id;
                    self.run_rules_logged(e).await;
                }
                if !full {
                    break;
                }
            }
        }
    }

    /// Runs the workspace's rules on one committed event: nothing unless
    /// it is one of the rules' events and some enabled rule listens for it.
    pub async fn run_rules_on(&self, e: &LoggedEvent) -> Result<(), ServiceError> {
        let (Some(id), Some(trigger)) = (e.contact, trigger_of(e)) else { return Ok(()) };
        let ws = e.workspace;
        let rules = self.workspace_rules(ws).await?;
        if !rules.iter().any(|r| r.rule.enabled && r.rule.event == trigger) {
            return Ok(());
        }
        let Some(stored) = self.store().contact(ws, id).await? else { return Ok(()) };
        let depth = e.payload.get("rule_depth").and_then(Value::as_u64).unwrap_or(0) as u32;
        let (said, rating) = match trigger {
            Trigger::MessageReceived => (customer_said(e).unwrap_or_default(), None),
            Trigger::CsatReceived => {
                let (score, comment) = rating_of(e);
                (Said::text(comment), score)
            }
            // The first message, or the latest one that waited too long.
            Trigger::ContactCreated | Trigger::SlaBreached | Trigger::SlaWarning => {
                let messages = self.store().contact_events(ws, id, Some(Kind::Message.as_str())).await?;
                let mut said = messages.iter().filter_map(customer_said);
                let one = if trigger == Trigger::ContactCreated { said.next() } else { said.next_back() };
                (one.unwrap_or_default(), None)
            }
            Trigger::ContactEnded => (Said::default(), None),
        };
        let acts = |f: fn(&Action) -> bool| rules.iter().any(|r| r.rule.actions.iter().any(f));
        let canned = if acts(|a| matches!(a, Action::Reply { .. })) {
            self.documents::<CannedResponse>(ws).await?
        } else {
            Vec::new()
        };
        let sla_policies = if acts(|a| matches!(a, Action::ApplySlaPolicy { .. })) {
            self.documents::<SlaPolicy>(ws).await?
        } else {
            Vec::new()
        };
        let sla_policy = Cell::new(self.sla_policy_of(ws, id).await?);
        let clocked = self.has_response_clocks(stored.channel);
        // Tags are written with the rest, and nobody else writes the customer meanwhile.
        let _guard = self.customers_lock(ws).await;
        let customer = match stored.customer {
            Some(c) => self.store().customer(ws, c).await?,
            None => None,
        };
        let cause = e.id;
        self.apply(ws, move |c, now, changes| {
            let live = c.contacts.contains_key(&id);
            let mut record = c.contacts.get(&id).cloned().unwrap_or(stored);
            let mut facts = facts_of(&record, customer.as_ref(), said, rating);
            let list: Vec<Rule> = rules.iter().map(|r| r.rule.clone()).collect();
            let fired = evaluate(&list, trigger, &mut facts, depth);
            if fired.is_empty() {
                return Ok(());
            }
            let mut customer = customer;
            let tags_before = customer.as_ref().map(|c| c.tags.len());
            for f in fired {
                let firing = Firing {
                    rule: &rules[f.index],
                    depth,
                    canned: &canned,
                    sla_policies: &sla_policies,
                    clocked,
                    sla_policy: &sla_policy,
                    live,
                    now,
                };
                let mut done = Vec::with_capacity(f.actions.len());
                let mut out = Vec::new();
                for a in f.actions {
                    let outcome = firing.carry_out(c, &mut record, customer.as_mut(), a, &mut out)?;
                    let mut entry = serde_json::to_value(a).unwrap_or_default();
                    entry["outcome"] = json!(outcome);
                    done.push(entry);
                }
                let webhooks: Vec<u64> = f
                    .actions
                    .iter()
                    .filter_map(|a| if let Action::Webhook { webhook } = a { Some(*webhook) } else { None })
                    .collect();
                let notify: Vec<&str> = f
                    .actions
                    .iter()
                    .filter_map(|a| {
                        if let Action::NotifySupervisors { message } = a { Some(message.as_str()) } else { None }
                    })
                    .collect();
                let payload = json!({
                    "rule": firing.rule.id,
                    "name": firing.rule.rule.name,
                    "event": trigger.as_str(),
                    "cause": cause,
                    "rule_depth": depth + 1,
                    "actions": done,
                    "webhooks": webhooks,
                    "notify": notify,
                });
                changes.push(contact_event(&record, now, Kind::RuleFired, payload));
                changes.append(&mut out);
            }
            record.updated_at = now;
            if live {
                c.contacts.insert(id, record.clone());
            }
            changes.push(Change::PutContact(record));
            if let Some(cust) = customer.filter(|c| Some(c.tags.len()) != tags_before) {
                changes.push(Change::PutCustomer(cust));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }
}

impl Firing<'_> {
    /// Carries out one action on the contact, pushing what it logs to
    /// `out`; answers what came of it, for the `rule_fired` event.
    fn carry_out(
        &self,
        c: &mut Center,
        record: &mut ContactRecord,
        customer: Option<&mut CustomerRecord>,
        action: &Action,
        out: &mut Vec<Change>,
    ) -> Result<&'static str, ServiceError> {
        let (live, now) = (self.live, self.now);
        let routed = live
            && matches!(
                record.state,
                ContactState::Queued
                    | ContactState::Offered
                    | ContactState::Connected
                    | ContactState::CallbackScheduled
            );
        Ok(match action {
            Action::SetPriority { priority } => {
                record.priority = *priority;
                update_engine(c, record, routed, now)?;
                "done"
            }
            Action::SetAttribute { name, value } => {
                record.attributes.insert(name.clone(), value.clone());
                update_engine(c, record, routed, now)?;
                "done"
            }
            Action::AddTag { tag } => match customer {
                None => "skipped: no customer",
                Some(cust) if cust.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) => "already tagged",
                Some(cust) => {
                    cust.tags.push(tag.clone());
                    "done"
                }
            },
            Action::Transfer { queue } => {
                if !routed || record.state == ContactState::Connected {
                    "skipped: not waiting in a queue"
                } else if record.queue == Some(*queue) {
                    "skipped: already in that queue"
                } else if !c.queues.contains_key(queue) {
                    "skipped: the queue is gone"
                } else {
                    // Routing's own checks (the queue must serve the channel) decide.
                    c.contacts.insert(record.id, record.clone());
                    match c.engine.transfer(record.id, TransferTarget::Queue(*queue), now) {
                        Ok(()) => "done",
                        Err(_) => "skipped: that queue does not take this channel",
                    }
                }
            }
            Action::Reply { canned } => {
                let found = self.canned.iter().find(|r| r.body.shortcut == *canned);
                match found {
                    _ if matches!(record.channel, Channel::Api | Channel::Voice) => {
                        "skipped: the channel carries no messages"
                    }
                    None => "skipped: the canned response is gone",
                    Some(r) => {
                        let mut change =
                            MessageBody::new(Author::Bot, &self.rule.rule.name, r.body.text.clone()).event(record, now);
                        if let Change::Append(ev) = &mut change {
                            ev.payload["rule"] = json!(self.rule.id);
                            ev.payload["rule_depth"] = json!(self.depth + 1);
                        }
                        out.push(change);
                        "sent"
                    }
                }
            }
            Action::Webhook { .. } => "queued",
            Action::NotifySupervisors { .. } => "sent",
            Action::ApplySlaPolicy { policy } => {
                let found = self.sla_policies.iter().find(|p| p.id == *policy);
                match found {
                    _ if !live => "skipped: the conversation has ended",
                    _ if !self.clocked => "skipped: the channel has no response targets",
                    None => "skipped: the SLA policy is gone",
                    Some(_) if self.sla_policy.get() == Some(*policy) => "already applied",
                    Some(p) => {
                        let payload = json!({
                            "policy": p.id,
                            "sla_policy": p.body,
                            "rule": self.rule.id,
                            "rule_depth": self.depth + 1,
                        });
                        out.push(contact_event(record, now, Kind::SlaPolicyApplied, payload));
                        self.sla_policy.set(Some(p.id));
                        "done"
                    }
                }
            }
        })
    }
}

/// Hands a routed contact's new priority and attributes to the engine.
fn update_engine(c: &mut Center, record: &ContactRecord, routed: bool, now: Timestamp) -> Result<(), ServiceError> {
    if routed {
        c.engine.update_contact(record.id, record.priority, record.attributes.clone(), now)?;
    }
    Ok(())
}
