//! What rules know of a contact when they run (or are tried on a past
//! one): the contact, its customer's tags and attributes, the text (and
//! subject) and rating of the event.

use crate::auth::Principal;
use crate::conversation::{Author, MessageBody};
use crate::kinds::Kind;
use crate::{Service, ServiceError, require};
use serde::{Deserialize, Serialize};
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_core::rules::{Action, Condition, Facts, Rule, Trigger, explain};
use switchboard_store::{ContactRecord, CustomerRecord, LoggedEvent, Role};

/// The facts of a contact and the record they came from.
pub(super) struct Known {
    pub record: ContactRecord,
    pub facts: Facts,
}

/// What a customer's message said: its text and, on email, its subject.
#[derive(Default)]
pub(super) struct Said {
    pub text: Option<String>,
    pub subject: Option<String>,
}

impl Said {
    /// A text without a subject (a rating's comment).
    pub fn text(text: Option<String>) -> Said {
        Said { text, subject: None }
    }
}

/// The facts of `record` with its customer's tags and attributes, and
/// what was `said` and the `rating` as the event gives them.
pub(super) fn facts_of(
    record: &ContactRecord,
    customer: Option<&CustomerRecord>,
    said: Said,
    rating: Option<u8>,
) -> Facts {
    Facts {
        channel: record.channel,
        queue: record.queue,
        priority: record.priority,
        text: said.text,
        subject: said.subject,
        tags: customer.map(|c| c.tags.clone()).unwrap_or_default(),
        attributes: record.attributes.to_map(),
        customer_attributes: customer.map(|c| c.attributes.clone()).unwrap_or_default(),
        rating,
    }
}

/// What a customer's message said, if `e` is one.
pub(super) fn customer_said(e: &LoggedEvent) -> Option<Said> {
    let body: MessageBody = serde_json::from_value(e.payload.clone()).ok()?;
    (body.from == Author::Customer).then_some(Said { text: Some(body.text), subject: body.addressing.subject })
}

/// A rating event's score and comment.
pub(super) fn rating_of(e: &LoggedEvent) -> (Option<u8>, Option<String>) {
    let score = e.payload.get("score").and_then(|s| s.as_u64()).and_then(|s| u8::try_from(s).ok());
    let comment = e.payload.get("comment").and_then(|c| c.as_str()).map(str::to_string);
    (score, comment)
}

/// `POST /rules/dry-run`: a rule (saved or being edited) tried on a past
/// contact, for `event` (by default the rule's own).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    pub rule: Rule,
    pub contact: ContactId,
    #[serde(default)]
    pub event: Option<Trigger>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConditionOutcome {
    #[serde(flatten)]
    pub condition: Condition,
    pub holds: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct DryRunAnswer {
    pub contact: ContactId,
    pub event: Trigger,
    /// Whether the rule listens for `event`.
    pub event_matches: bool,
    pub would_fire: bool,
    pub conditions: Vec<ConditionOutcome>,
    /// What it would do, in order (nothing is done).
    pub actions: Vec<Action>,
    /// What the conditions read.
    pub facts: Facts,
}

impl Service {
    /// The facts of a stored contact as of now, for `trigger`: the text is
    /// the customer's last message (the first for `contact_created`, the
    /// rating's comment for `csat_received`).
    pub(super) async fn known_of_past(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        trigger: Trigger,
    ) -> Result<Known, ServiceError> {
        let record =
            self.store().contact(ws, id).await?.ok_or_else(|| ServiceError::NotFound(format!("contact {}", id.0)))?;
        let events = self.store().contact_events(ws, id, None).await?;
        let mut said = events.iter().filter(|e| e.kind == Kind::Message).filter_map(customer_said);
        let (rating, comment) = events.iter().find(|e| e.kind == Kind::Csat).map(rating_of).unwrap_or_default();
        let said = match trigger {
            Trigger::ContactCreated => said.next(),
            Trigger::CsatReceived => Some(Said::text(comment)),
            Trigger::MessageReceived | Trigger::ContactEnded | Trigger::SlaBreached | Trigger::SlaWarning => {
                said.next_back()
            }
        };
        let customer = self.customer_of(&record).await?;
        let facts = facts_of(&record, customer.as_ref(), said.unwrap_or_default(), rating);
        Ok(Known { record, facts })
    }

    /// The contact's customer.
    pub(super) async fn customer_of(&self, record: &ContactRecord) -> Result<Option<CustomerRecord>, ServiceError> {
        Ok(match record.customer {
            Some(c) => self.store().customer(record.workspace, c).await?,
            None => None,
        })
    }

    /// Whether a rule would fire on a past contact, and why.
    pub async fn dry_run_rule(&self, p: &Principal, run: DryRun) -> Result<DryRunAnswer, ServiceError> {
        require(p, Role::Admin)?;
        let mut rule = run.rule;
        rule.validate().map_err(|e| ServiceError::invalid(format!("rule.{}", e.field), e.message))?;
        rule.enabled = true;
        let event = run.event.unwrap_or(rule.event);
        let known = self.known_of_past(p.workspace, run.contact, event).await?;
        let why = explain(&rule, event, &known.facts);
        let conditions = rule
            .conditions
            .iter()
            .zip(why.conditions)
            .map(|(c, holds)| ConditionOutcome { condition: c.clone(), holds })
            .collect();
        Ok(DryRunAnswer {
            contact: known.record.id,
            event,
            event_matches: why.event,
            would_fire: why.would_fire,
            conditions,
            actions: rule.actions,
            facts: known.facts,
        })
    }
}
