//! Bot flows: named, versioned definitions in the flow language of
//! `switchboard_core::flow`, validated on every save.

use super::{Ids, Service, ServiceError, audit, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::channel::Channel;
use switchboard_core::flow::definition::{Handoff, Verify, key_path};
use switchboard_core::flow::{Block, Flow, FlowError};
use switchboard_core::ids::WorkspaceId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Document, Role};

const KIND: &str = "flow";
/// Variables the chat channel sets before a flow starts (so templates
/// naming them are not warned about).
const CHAT_VARIABLES: &[&str] = &["name", "email"];

/// An earlier version, kept so a change can be looked at and undone.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowVersion {
    pub version: u32,
    pub definition: Value,
    pub saved_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowRecord {
    pub id: u64,
    pub name: String,
    /// Starts at 1; every save adds one.
    pub version: u32,
    pub definition: Value,
    pub warnings: Vec<String>,
    #[serde(default)]
    pub history: Vec<FlowVersion>,
}

impl FlowRecord {
    pub fn compile(&self) -> Result<Flow, ServiceError> {
        compile(&self.definition).map(|(f, _)| f)
    }
}

/// The definition as a flow, or the first error naming its field.
fn compile(definition: &Value) -> Result<(Flow, Vec<String>), ServiceError> {
    match Flow::parse_with(&definition.to_string(), CHAT_VARIABLES) {
        Ok(flow) => {
            let warnings = flow.warnings().iter().map(ToString::to_string).collect();
            Ok((flow, warnings))
        }
        Err(errors) => {
            let all = errors.to_string();
            let first = errors.errors.first();
            let field = match first.and_then(FlowError::field) {
                Some(path) => format!("definition.{path}"),
                None => "definition".to_string(),
            };
            Err(ServiceError::invalid(field, all))
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowUpdate {
    pub name: Option<String>,
    pub definition: Value,
}

impl Service {
    pub async fn flows(&self, ws: WorkspaceId) -> Result<Vec<FlowRecord>, ServiceError> {
        self.store()
            .documents(ws, KIND)
            .await?
            .into_iter()
            .map(|d| Ok(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?))
            .collect()
    }

    pub async fn flow(&self, ws: WorkspaceId, id: u64) -> Result<FlowRecord, ServiceError> {
        let d =
            self.store().document(ws, KIND, id).await?.ok_or_else(|| ServiceError::NotFound(format!("flow {id}")))?;
        Ok(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?)
    }

    /// Every queue a hand-off names exists: the chat would otherwise fall back
    /// to the default queue without anyone noticing the typo.
    async fn check_handoff_queues(&self, ws: WorkspaceId, flow: &Flow) -> Result<(), ServiceError> {
        let queues = self.store().queues(ws).await?;
        for (id, block) in &flow.definition().blocks {
            let queue = match block {
                Block::Handoff(Handoff { queue: Some(name), .. }) | Block::Verify(Verify { queue: Some(name), .. }) => {
                    name
                }
                _ => continue,
            };
            if !queues.iter().any(|q| q.name.eq_ignore_ascii_case(queue)) {
                let field = format!("definition.blocks{}.queue", key_path(id.as_str()));
                return Err(ServiceError::invalid(field, format!("no queue named '{queue}'")));
            }
        }
        Ok(())
    }

    /// A flow a phone number runs must stay one a caller can answer with keys.
    async fn check_phone_numbers(&self, ws: WorkspaceId, id: u64, flow: &Flow) -> Result<(), ServiceError> {
        let numbers = self.store().endpoints(ws).await?;
        let Some(number) = numbers.iter().find(|e| e.channel == Channel::Voice && e.flow == Some(id)) else {
            return Ok(());
        };
        match switchboard_core::flow::validate::on_phone(flow.definition()).first() {
            None => Ok(()),
            Some(problem) => Err(ServiceError::invalid(
                format!("definition.{}", problem.field().unwrap_or_default()),
                format!(
                    "the number {} runs this flow: {}",
                    number.address.as_deref().unwrap_or("?"),
                    problem.message()
                ),
            )),
        }
    }

    /// Creates a flow (`id` None) or saves a new version of one.
    pub async fn put_flow(&self, p: &Principal, id: Option<u64>, u: FlowUpdate) -> Result<FlowRecord, ServiceError> {
        require(p, Role::Admin)?;
        let (flow, warnings) = compile(&u.definition)?;
        self.check_handoff_queues(p.workspace, &flow).await?;
        if let Some(id) = id {
            self.check_phone_numbers(p.workspace, id, &flow).await?;
        }
        let now = self.now();
        let record = match id {
            Some(id) => {
                let mut old = self.flow(p.workspace, id).await?;
                old.history.push(FlowVersion {
                    version: old.version,
                    definition: std::mem::take(&mut old.definition),
                    saved_at: now,
                });
                FlowRecord {
                    id,
                    // A blank name keeps the old one.
                    name: match u.name.filter(|n| !n.trim().is_empty()) {
                        Some(n) => super::names::name("name", &n)?,
                        None => old.name,
                    },
                    version: old.version + 1,
                    definition: u.definition,
                    warnings,
                    history: old.history,
                }
            }
            None => {
                let name = super::names::name("name", u.name.as_deref().unwrap_or(""))?;
                FlowRecord {
                    id: Ids::next(&self.ids().document),
                    name,
                    version: 1,
                    definition: u.definition,
                    warnings,
                    history: Vec::new(),
                }
            }
        };
        let doc = Document {
            workspace: p.workspace,
            kind: KIND.into(),
            id: record.id,
            body: serde_json::to_value(&record).map_err(switchboard_store::StoreError::from)?,
            updated_at: now,
        };
        let target = format!("flow/{}@{}", record.id, record.version);
        self.commit_and_publish(vec![Change::PutDocument(doc), audit::entry(p, now, "put_flow", target)]).await?;
        Ok(record)
    }
}
