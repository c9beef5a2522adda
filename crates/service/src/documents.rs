//! Small configuration objects of a workspace — disposition codes, canned
//! responses, business hours, knowledge-base categories — kept as typed
//! documents in the store's generic `documents` table.
//!
//! Each type says how it is validated and which field must be unique; the
//! create/update/delete operations, their audit entries and the HTTP
//! handlers are written once for all of them.

use super::{Ids, Service, ServiceError, audit, require};
use crate::auth::Principal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::calendar::Calendar;
use switchboard_core::ids::WorkspaceId;
use switchboard_core::rules::Action;
use switchboard_store::{Change, Document, Role};

/// A kind of document.
pub trait DocumentBody: Serialize + DeserializeOwned + Send + 'static {
    /// The `kind` column, also the audit target prefix.
    const KIND: &'static str;
    /// The key of the list in `GET` answers: `{"dispositions": [...]}`.
    const PLURAL: &'static str;
    /// Who may create, change and delete them (everyone in the workspace may read).
    const WRITER: Role = Role::Admin;
    /// Whether queues refer to documents of this kind, so the routing
    /// engine must hear of changes and deleting a used one is refused.
    const ROUTING: bool = false;

    /// Checks and normalises the body; errors name the field.
    fn validate(&mut self) -> Result<(), ServiceError>;

    /// The value that must be unique among documents of this kind, and the
    /// field it is in.
    fn unique(&self) -> Option<(&'static str, String)> {
        None
    }

    /// The document an automation rule's action names, if it names one of
    /// this kind: deleting a document a rule names is refused.
    fn named_by(_action: &Action) -> Option<u64> {
        None
    }
}

/// A one-line field of a document (see [`names`](super::names)).
fn required(field: &str, value: &mut String, max: usize) -> Result<(), ServiceError> {
    *value = super::names::line(field, value, max)?;
    Ok(())
}

/// A wrap-up outcome an agent picks when completing a contact.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    /// Short and stable, used in reports: `resolved`, `refund_issued`.
    pub code: String,
    pub label: String,
}

impl DocumentBody for Disposition {
    const KIND: &'static str = "disposition";
    const PLURAL: &'static str = "dispositions";

    fn validate(&mut self) -> Result<(), ServiceError> {
        required("code", &mut self.code, 64)?;
        if !self.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(ServiceError::invalid("code", "letters, digits, '_' and '-' only"));
        }
        required("label", &mut self.label, 200)
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("code", self.code.clone()))
    }
}

/// A reply an agent inserts by shortcut (`/refund`) or from a picker.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedResponse {
    pub shortcut: String,
    pub title: String,
    pub text: String,
}

impl DocumentBody for CannedResponse {
    const KIND: &'static str = "canned_response";
    const PLURAL: &'static str = "canned_responses";
    const WRITER: Role = Role::Supervisor;

    fn validate(&mut self) -> Result<(), ServiceError> {
        required("shortcut", &mut self.shortcut, 32)?;
        self.shortcut = self.shortcut.trim_start_matches('/').to_lowercase();
        if self.shortcut.is_empty() || !self.shortcut.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return Err(ServiceError::invalid("shortcut", "letters, digits, '_' and '-' only"));
        }
        required("title", &mut self.title, 200)?;
        self.text = super::names::text("text", &self.text, 10_000)?;
        Ok(())
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("shortcut", self.shortcut.clone()))
    }
}

/// A named calendar (time zone, weekly hours, holidays) queues refer to by id.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub name: String,
    pub calendar: Calendar,
}

impl DocumentBody for BusinessHours {
    const KIND: &'static str = "business_hours";
    const PLURAL: &'static str = "business_hours";
    const ROUTING: bool = true;

    fn validate(&mut self) -> Result<(), ServiceError> {
        required("name", &mut self.name, 200)
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }
}

/// A knowledge-base category.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbCategory {
    pub name: String,
}

impl DocumentBody for KbCategory {
    const KIND: &'static str = "kb_category";
    const PLURAL: &'static str = "categories";
    const WRITER: Role = Role::Supervisor;

    fn validate(&mut self) -> Result<(), ServiceError> {
        required("name", &mut self.name, 200)
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }
}

/// A document as the API shows it: its id beside its fields.
#[derive(Debug, Serialize)]
pub struct Stored<T> {
    pub id: u64,
    #[serde(flatten)]
    pub body: T,
}

impl Service {
    /// Every document of kind `T` in the caller's workspace, by id.
    pub async fn documents<T: DocumentBody>(&self, ws: WorkspaceId) -> Result<Vec<Stored<T>>, ServiceError> {
        self.store()
            .documents(ws, T::KIND)
            .await?
            .into_iter()
            .map(|d| {
                let body = serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?;
                Ok(Stored { id: d.id, body })
            })
            .collect()
    }

    pub async fn document<T: DocumentBody>(&self, ws: WorkspaceId, id: u64) -> Result<Stored<T>, ServiceError> {
        let d = self
            .store()
            .document(ws, T::KIND, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("{} {id}", T::KIND)))?;
        let body = serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?;
        Ok(Stored { id, body })
    }

    /// Creates (`id` None) or replaces a document, checking uniqueness
    /// under the workspace's document lock so two writers cannot both take
    /// one code.
    pub async fn put_document<T: DocumentBody>(
        &self,
        p: &Principal,
        id: Option<u64>,
        mut body: T,
    ) -> Result<Stored<T>, ServiceError> {
        require(p, T::WRITER)?;
        body.validate()?;
        // The customers' lock doubles as the documents' one: both are rare writes.
        let _guard = self.customers_lock(p.workspace).await;
        if let Some(id) = id {
            self.document::<T>(p.workspace, id).await?;
        }
        if let Some((field, value)) = body.unique() {
            let taken = self.documents::<T>(p.workspace).await?.into_iter().any(|d| {
                Some(d.id) != id && d.body.unique().is_some_and(|(_, v)| v.to_lowercase() == value.to_lowercase())
            });
            if taken {
                return Err(ServiceError::Conflict(format!("{field} '{value}' is taken")));
            }
        }
        let id = id.unwrap_or_else(|| Ids::next(&self.ids().document));
        let now = self.now();
        let doc = Document {
            workspace: p.workspace,
            kind: T::KIND.to_string(),
            id,
            body: serde_json::to_value(&body).map_err(switchboard_store::StoreError::from)?,
            updated_at: now,
        };
        let action = format!("put_{}", T::KIND);
        self.commit_and_publish(vec![
            Change::PutDocument(doc),
            audit::entry(p, now, &action, format!("{}/{id}", T::KIND)),
        ])
        .await?;
        if T::ROUTING {
            self.reload_business_hours(p.workspace).await?;
        }
        Ok(Stored { id, body })
    }

    pub async fn delete_document<T: DocumentBody>(&self, p: &Principal, id: u64) -> Result<(), ServiceError> {
        require(p, T::WRITER)?;
        self.document::<T>(p.workspace, id).await?;
        let rules = self.workspace_rules(p.workspace).await?;
        if let Some(r) = rules.iter().find(|r| r.rule.actions.iter().any(|a| T::named_by(a) == Some(id))) {
            return Err(ServiceError::Conflict(format!("rule '{}' uses {} {id}", r.rule.name, T::KIND)));
        }
        if T::ROUTING {
            let used = self
                .store()
                .queues(p.workspace)
                .await?
                .into_iter()
                .find(|q| q.settings.get(T::KIND).and_then(|v| v.as_u64()) == Some(id));
            if let Some(q) = used {
                return Err(ServiceError::Conflict(format!("queue '{}' uses {} {id}", q.name, T::KIND)));
            }
            // An endpoint keeps the same calendars (business hours) as a queue.
            let endpoint =
                self.store().endpoints(p.workspace).await?.into_iter().find(|e| e.business_hours == Some(id));
            if let Some(e) = endpoint {
                return Err(ServiceError::Conflict(format!("endpoint '{}' uses {} {id}", e.name, T::KIND)));
            }
        }
        let now = self.now();
        let action = format!("delete_{}", T::KIND);
        self.commit_and_publish(vec![
            Change::DeleteDocument { workspace: p.workspace, kind: T::KIND.to_string(), id },
            audit::entry(p, now, &action, format!("{}/{id}", T::KIND)),
        ])
        .await?;
        if T::ROUTING {
            self.reload_business_hours(p.workspace).await?;
        }
        Ok(())
    }

    /// Hands the workspace's named calendars to its routing engine.
    async fn reload_business_hours(&self, ws: WorkspaceId) -> Result<(), ServiceError> {
        let hours = self.documents::<BusinessHours>(ws).await?;
        self.apply(ws, move |c, now, _| {
            let stale: Vec<u64> =
                c.business_hours.keys().filter(|id| !hours.iter().any(|h| h.id == **id)).copied().collect();
            for id in stale {
                c.set_business_hours(id, None, now).map_err(|m| ServiceError::invalid("calendar", m))?;
            }
            for h in hours {
                c.set_business_hours(h.id, Some(h.body.calendar), now)
                    .map_err(|m| ServiceError::invalid("calendar", m))?;
            }
            Ok(())
        })
        .await
    }
}
