//! Automation rules as administrators manage them (docs/RULES.md): kept as
//! documents of kind `rule`, in the order a `rule_order` document gives,
//! checked by core's rule language and against what they name (queues,
//! canned responses, webhooks, SLA policies). What runs them is `run.rs`; the dry run of
//! a rule against a past contact is `facts.rs`.

mod facts;
mod run;

pub use facts::{ConditionOutcome, DryRun, DryRunAnswer};

use super::documents::CannedResponse;
use super::sla_policies::SlaPolicy;
use super::{Ids, Service, ServiceError, audit, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_core::ids::WorkspaceId;
use switchboard_core::rules::{Action, Rule};
use switchboard_store::{Change, Document, Role, StoreError};

pub const KIND: &str = "rule";
const ORDER_KIND: &str = "rule_order";
/// One order document per workspace.
const ORDER_ID: u64 = 1;
/// Rules a workspace may have: each event walks them all.
pub const MAX_RULES: usize = 200;

/// A rule as the API shows it: its id beside its fields.
#[derive(Clone, Debug, Serialize)]
pub struct StoredRule {
    pub id: u64,
    #[serde(flatten)]
    pub rule: Rule,
}

/// `PUT /rules/order`: every rule's id, first to fire first.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOrder {
    pub ids: Vec<u64>,
}

/// Per workspace, its rules in order, read once and dropped on every change.
#[derive(Default)]
pub struct RuleCache {
    by_workspace: std::sync::Mutex<HashMap<WorkspaceId, Arc<Vec<StoredRule>>>>,
}

impl Service {
    /// The workspace's rules, first to fire first (admins).
    pub async fn rules(&self, p: &Principal) -> Result<Vec<StoredRule>, ServiceError> {
        require(p, Role::Admin)?;
        Ok(self.workspace_rules(p.workspace).await?.to_vec())
    }

    pub async fn rule(&self, p: &Principal, id: u64) -> Result<StoredRule, ServiceError> {
        self.rules(p)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("rule {id}")))
    }

    /// The workspace's rules in order, from memory once read.
    pub(crate) async fn workspace_rules(&self, ws: WorkspaceId) -> Result<Arc<Vec<StoredRule>>, ServiceError> {
        if let Some(r) = self.rule_cache().by_workspace.lock().expect("rules lock").get(&ws) {
            return Ok(r.clone());
        }
        let order = self.rule_order(ws).await?;
        let mut rules = Vec::new();
        for d in self.store().documents(ws, KIND).await? {
            let rule: Rule = serde_json::from_value(d.body).map_err(StoreError::from)?;
            rules.push(StoredRule { id: d.id, rule });
        }
        // Rules the order does not name (none, unless written by hand) come last, by id.
        rules.sort_by_key(|r| (order.iter().position(|id| *id == r.id).unwrap_or(usize::MAX), r.id));
        let rules = Arc::new(rules);
        self.rule_cache().by_workspace.lock().expect("rules lock").insert(ws, rules.clone());
        Ok(rules)
    }

    async fn rule_order(&self, ws: WorkspaceId) -> Result<Vec<u64>, ServiceError> {
        Ok(match self.store().document(ws, ORDER_KIND, ORDER_ID).await? {
            Some(d) => serde_json::from_value::<RuleOrder>(d.body).map_err(StoreError::from)?.ids,
            None => Vec::new(),
        })
    }

    fn order_document(&self, ws: WorkspaceId, ids: Vec<u64>) -> Change {
        Change::PutDocument(Document {
            workspace: ws,
            kind: ORDER_KIND.into(),
            id: ORDER_ID,
            body: json!({ "ids": ids }),
            updated_at: self.now(),
        })
    }

    /// Creates (`id` None, placed last) or replaces a rule.
    pub async fn put_rule(&self, p: &Principal, id: Option<u64>, mut rule: Rule) -> Result<StoredRule, ServiceError> {
        require(p, Role::Admin)?;
        rule.name = super::names::name("name", &rule.name)?;
        rule.validate().map_err(|e| ServiceError::invalid(e.field, e.message))?;
        self.check_references(p.workspace, &mut rule).await?;
        // The documents' lock: two writers cannot both take a name or reorder at once.
        let _guard = self.customers_lock(p.workspace).await;
        let existing = self.workspace_rules(p.workspace).await?;
        if let Some(id) = id
            && !existing.iter().any(|r| r.id == id)
        {
            return Err(ServiceError::NotFound(format!("rule {id}")));
        }
        if existing.iter().any(|r| Some(r.id) != id && r.rule.name.to_lowercase() == rule.name.to_lowercase()) {
            return Err(ServiceError::Conflict(format!("name '{}' is taken", rule.name)));
        }
        if id.is_none() && existing.len() >= MAX_RULES {
            return Err(ServiceError::Conflict(format!("a workspace has at most {MAX_RULES} rules")));
        }
        let id = id.unwrap_or_else(|| Ids::next(&self.ids().document));
        let now = self.now();
        let mut changes = vec![
            Change::PutDocument(Document {
                workspace: p.workspace,
                kind: KIND.into(),
                id,
                body: serde_json::to_value(&rule).map_err(StoreError::from)?,
                updated_at: now,
            }),
            audit::entry(p, now, "put_rule", format!("rule/{id}")),
        ];
        if !existing.iter().any(|r| r.id == id) {
            let ids = existing.iter().map(|r| r.id).chain([id]).collect();
            changes.push(self.order_document(p.workspace, ids));
        }
        self.commit_and_publish(changes).await?;
        self.forget_rules(p.workspace);
        Ok(StoredRule { id, rule })
    }

    pub async fn delete_rule(&self, p: &Principal, id: u64) -> Result<(), ServiceError> {
        require(p, Role::Admin)?;
        let _guard = self.customers_lock(p.workspace).await;
        let existing = self.workspace_rules(p.workspace).await?;
        if !existing.iter().any(|r| r.id == id) {
            return Err(ServiceError::NotFound(format!("rule {id}")));
        }
        let ids = existing.iter().map(|r| r.id).filter(|r| *r != id).collect();
        self.commit_and_publish(vec![
            Change::DeleteDocument { workspace: p.workspace, kind: KIND.into(), id },
            self.order_document(p.workspace, ids),
            audit::entry(p, self.now(), "delete_rule", format!("rule/{id}")),
        ])
        .await?;
        self.forget_rules(p.workspace);
        Ok(())
    }

    /// Puts the rules in this order: every rule's id, each once.
    pub async fn order_rules(&self, p: &Principal, order: RuleOrder) -> Result<Vec<StoredRule>, ServiceError> {
        require(p, Role::Admin)?;
        let _guard = self.customers_lock(p.workspace).await;
        let existing = self.workspace_rules(p.workspace).await?;
        let mut given = order.ids.clone();
        given.sort_unstable();
        given.dedup();
        let mut known: Vec<u64> = existing.iter().map(|r| r.id).collect();
        known.sort_unstable();
        if given.len() != order.ids.len() || given != known {
            return Err(ServiceError::invalid("ids", "name every rule of the workspace once, first to fire first"));
        }
        self.commit_and_publish(vec![
            self.order_document(p.workspace, order.ids),
            audit::entry(p, self.now(), "order_rules", "rule_order".into()),
        ])
        .await?;
        self.forget_rules(p.workspace);
        self.rules(p).await
    }

    fn forget_rules(&self, ws: WorkspaceId) {
        self.rule_cache().by_workspace.lock().expect("rules lock").remove(&ws);
    }

    /// What a rule names must exist: its queues, canned responses and
    /// webhooks; tags are cleaned as customers' tags are.
    async fn check_references(&self, ws: WorkspaceId, rule: &mut Rule) -> Result<(), ServiceError> {
        let queues = self.store().queues(ws).await?;
        let canned = self.documents::<CannedResponse>(ws).await?;
        let webhooks = self.store().webhooks(ws).await?;
        let sla_policies = self.documents::<SlaPolicy>(ws).await?;
        for (i, a) in rule.actions.iter_mut().enumerate() {
            let field = |f: &str| format!("actions[{i}].{f}");
            match a {
                Action::Transfer { queue } if !queues.iter().any(|q| q.id == *queue) => {
                    return Err(ServiceError::invalid(field("queue"), format!("no queue {}", queue.0)));
                }
                Action::Reply { canned: shortcut } => {
                    *shortcut = shortcut.trim().trim_start_matches('/').to_lowercase();
                    if !canned.iter().any(|c| c.body.shortcut == *shortcut) {
                        return Err(ServiceError::invalid(
                            field("canned"),
                            format!("no canned response with shortcut '{shortcut}'"),
                        ));
                    }
                }
                Action::Webhook { webhook } if !webhooks.iter().any(|w| w.id == *webhook) => {
                    return Err(ServiceError::invalid(field("webhook"), format!("no webhook {webhook}")));
                }
                Action::AddTag { tag } => *tag = super::names::name(&field("tag"), tag)?,
                Action::ApplySlaPolicy { policy } if !sla_policies.iter().any(|s| s.id == *policy) => {
                    return Err(ServiceError::invalid(field("policy"), format!("no SLA policy {policy}")));
                }
                _ => {}
            }
        }
        for (i, c) in rule.conditions.iter().enumerate() {
            if c.field == switchboard_core::rules::Field::Queue {
                let ids = match &c.value {
                    switchboard_core::expr::Value::List(items) => items.clone(),
                    switchboard_core::expr::Value::Null => Vec::new(),
                    one => vec![one.clone()],
                };
                for v in ids {
                    let id = v.as_ref();
                    if !queues.iter().any(|q| switchboard_core::expr::ValueRef::Num(q.id.0 as f64) == id) {
                        return Err(ServiceError::invalid(format!("conditions[{i}].value"), "no such queue"));
                    }
                }
            }
        }
        Ok(())
    }
}
