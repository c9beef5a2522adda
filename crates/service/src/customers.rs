//! Customers: people with identities (phone, email, chat visitor,
//! messaging handle), notes, tags and attributes, merged when two records
//! turn out to be one person, and a timeline of every contact they had on
//! any channel.
//!
//! Writes to a workspace's customers are serialised by a lock of their own
//! (not the routing center's), held until the write is durable: checking
//! that an identity is free and taking it must not interleave with another
//! request doing the same. A merge also re-points the customer's contacts,
//! some of which the routing center holds live, so it takes the center's
//! lock too (always after the customers' lock).

use super::{Ids, Service, ServiceError, require};
use crate::auth::Principal;
use crate::kinds::Kind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::{ContactId, CustomerId, WorkspaceId};
use switchboard_store::{
    Change, ContactFilter, ContactRecord, CustomerRecord, Identity, IdentityKind, LoggedEvent, NewEvent, Role,
    StoreError,
};
use tokio::sync::OwnedMutexGuard;

/// Merged customers point at their survivor; merges keep those chains one
/// link long, so more than this many links means a broken record.
const MAX_MERGE_HOPS: usize = 8;

/// The most results a search or listing returns.
pub const MAX_CUSTOMER_RESULTS: u32 = 100;

/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// An identity as clients give it and see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityValue {
    pub kind: IdentityKind,
    pub value: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Defaults to the first identity's value.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub identities: Vec<IdentityValue>,
}

/// A change of a customer: each field given replaces the stored one.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// A customer with its identities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CustomerView {
    #[serde(flatten)]
    pub customer: CustomerRecord,
    pub identities: Vec<IdentityValue>,
}

/// One entry of a timeline: the event, and the channel of its contact.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub event: LoggedEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

/// An identity's value in its normal form: emails trimmed and lower-cased,
/// phones in E.164 (`+` and 7–15 digits, the usual separators dropped),
/// visitor ids and handles trimmed. `field` names the input in errors.
pub fn normalize_identity(kind: IdentityKind, value: &str, field: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    match kind {
        IdentityKind::Email => {
            let email = value.to_lowercase();
            match email.split_once('@') {
                Some((local, domain))
                    if !local.is_empty() && !domain.is_empty() && !email.contains(char::is_whitespace) =>
                {
                    Ok(email)
                }
                _ => Err(ServiceError::invalid(field, format!("'{value}' is not an email address"))),
            }
        }
        IdentityKind::Phone => {
            let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
            let digits = compact.strip_prefix('+').unwrap_or("");
            if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(compact)
            } else {
                Err(ServiceError::invalid(
                    field,
                    format!("'{value}' is not a phone number in E.164 form ('+', then 7 to 15 digits)"),
                ))
            }
        }
        IdentityKind::Visitor | IdentityKind::Handle => Ok(value.to_string()),
    }
}

fn kind_name(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Phone => "phone",
        IdentityKind::Email => "email",
        IdentityKind::Visitor => "visitor",
        IdentityKind::Handle => "handle",
    }
}

fn not_found(id: CustomerId) -> ServiceError {
    ServiceError::NotFound(format!("customer {}", id.0))
}

fn clean_name(name: &str, field: &str) -> Result<String, ServiceError> {
    super::names::name(field, name)
}

/// Tags trimmed, without empties or repeats, in the order given.
fn clean_tags(tags: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        let tag = super::names::name(&format!("tags[{i}]"), tag)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// The `customer_merged` events in `events` that name `survivor` as the
/// survivor: the customers merged into it.
fn merged_into(events: &[LoggedEvent], survivor: CustomerId) -> impl Iterator<Item = CustomerId> + '_ {
    events
        .iter()
        .filter(move |e| {
            e.kind == Kind::CustomerMerged
                && e.customer == Some(survivor)
                && e.payload.get("into").and_then(|v| v.as_u64()) == Some(survivor.0)
        })
        .filter_map(|e| e.payload.get("from").and_then(|v| v.as_u64()).map(CustomerId))
}

impl Service {
    /// The lock serialising customer writes in `ws`.
    pub(super) async fn customers_lock(&self, ws: WorkspaceId) -> OwnedMutexGuard<()> {
        let lock = self.inner.customer_locks.lock().expect("customer locks").entry(ws).or_default().clone();
        lock.lock_owned().await
    }

    /// Commits `changes` and tells subscribers of the events among them.
    pub(super) async fn commit_and_publish(&self, changes: Vec<Change>) -> Result<Vec<LoggedEvent>, ServiceError> {
        let appended = super::appended(&changes);
        let ids = self.store().commit(changes).await?;
        Ok(self.publish(ids, appended))
    }

    /// The customer `id` names, following merges to the survivor.
    pub(super) async fn surviving_customer(
        &self,
        ws: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<CustomerRecord>, ServiceError> {
        let Some(mut record) = self.store().customer(ws, id).await? else { return Ok(None) };
        for _ in 0..MAX_MERGE_HOPS {
            let Some(next) = record.merged_into else { return Ok(Some(record)) };
            record = self.store().customer(ws, next).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("customer {} was merged into {}, which is missing", record.id.0, next.0))
            })?;
        }
        Err(StoreError::Corrupt(format!("customer {}: more than {MAX_MERGE_HOPS} merges to follow", id.0)).into())
    }

    async fn survivor_or_404(&self, ws: WorkspaceId, id: CustomerId) -> Result<CustomerRecord, ServiceError> {
        self.surviving_customer(ws, id).await?.ok_or_else(|| not_found(id))
    }

    async fn view(&self, customer: CustomerRecord) -> Result<CustomerView, ServiceError> {
        let identities = self
            .store()
            .identities(customer.workspace, customer.id)
            .await?
            .into_iter()
            .map(|i| IdentityValue { kind: i.kind, value: i.value })
            .collect();
        Ok(CustomerView { customer, identities })
    }

    /// Normalises `identities` (without repeats) and checks that no other
    /// customer of `ws` has one of them. Call under the customers' lock.
    async fn free_identities(
        &self,
        ws: WorkspaceId,
        owner: Option<CustomerId>,
        identities: &[IdentityValue],
        field: impl Fn(usize) -> String,
    ) -> Result<Vec<IdentityValue>, ServiceError> {
        let mut out: Vec<IdentityValue> = Vec::with_capacity(identities.len());
        for (i, identity) in identities.iter().enumerate() {
            let value = normalize_identity(identity.kind, &identity.value, &field(i))?;
            let normal = IdentityValue { kind: identity.kind, value };
            if out.contains(&normal) {
                continue;
            }
            if let Some(other) = self.store().customer_by_identity(ws, normal.kind, &normal.value).await?
                && Some(other.id) != owner
            {
                return Err(ServiceError::Conflict(format!(
                    "{} {} belongs to customer {}",
                    kind_name(normal.kind),
                    normal.value,
                    other.id.0
                )));
            }
            out.push(normal);
        }
        Ok(out)
    }

    // ----- operations ----------------------------------------------------

    pub async fn create_customer(&self, p: &Principal, new: NewCustomer) -> Result<CustomerView, ServiceError> {
        require(p, Role::Supervisor)?;
        let tags = clean_tags(&new.tags)?;
        let _guard = self.customers_lock(p.workspace).await;
        let identities =
            self.free_identities(p.workspace, None, &new.identities, |i| format!("identities[{i}].value")).await?;
        let name = match identities.first() {
            Some(first) if new.name.trim().is_empty() => first.value.clone(),
            _ => clean_name(&new.name, "name")?,
        };
        let customer = CustomerRecord {
            id: CustomerId(Ids::next(&self.ids().customer)),
            workspace: p.workspace,
            name,
            attributes: new.attributes,
            tags,
            merged_into: None,
            created_at: self.now(),
        };
        let mut changes = vec![Change::PutCustomer(customer.clone())];
        changes.extend(identities.iter().map(|i| {
            Change::PutIdentity(Identity {
                workspace: p.workspace,
                customer: customer.id,
                kind: i.kind,
                value: i.value.clone(),
            })
        }));
        self.commit_and_publish(changes).await?;
        Ok(CustomerView { customer, identities })
    }

    /// One customer with its identities; a merged one answers as its survivor.
    pub async fn customer(&self, p: &Principal, id: CustomerId) -> Result<CustomerView, ServiceError> {
        let customer = self.survivor_or_404(p.workspace, id).await?;
        self.view(customer).await
    }

    pub async fn update_customer(
        &self,
        p: &Principal,
        id: CustomerId,
        update: CustomerUpdate,
    ) -> Result<CustomerView, ServiceError> {
        require(p, Role::Supervisor)?;
        let _guard = self.customers_lock(p.workspace).await;
        let mut customer = self.survivor_or_404(p.workspace, id).await?;
        if let Some(name) = &update.name {
            customer.name = clean_name(name, "name")?;
        }
        if let Some(tags) = &update.tags {
            customer.tags = clean_tags(tags)?;
        }
        if let Some(attributes) = update.attributes {
            customer.attributes = attributes;
        }
        self.commit_and_publish(vec![Change::PutCustomer(customer.clone())]).await?;
        self.view(customer).await
    }

    /// Gives the customer one more identity (409 if another customer has it).
    pub async fn add_identity(
        &self,
        p: &Principal,
        id: CustomerId,
        identity: IdentityValue,
    ) -> Result<CustomerView, ServiceError> {
        require(p, Role::Supervisor)?;
        let _guard = self.customers_lock(p.workspace).await;
        let customer = self.survivor_or_404(p.workspace, id).await?;
        let mut normal = self
            .free_identities(p.workspace, Some(customer.id), std::slice::from_ref(&identity), |_| "value".into())
            .await?;
        let identity = normal.pop().expect("one identity in, one out");
        self.commit_and_publish(vec![Change::PutIdentity(Identity {
            workspace: p.workspace,
            customer: customer.id,
            kind: identity.kind,
            value: identity.value,
        })])
        .await?;
        self.view(customer).await
    }

    /// Removes one of the customer's identities (404 if it has no such one).
    pub async fn remove_identity(
        &self,
        p: &Principal,
        id: CustomerId,
        identity: IdentityValue,
    ) -> Result<CustomerView, ServiceError> {
        require(p, Role::Supervisor)?;
        let value = normalize_identity(identity.kind, &identity.value, "value")?;
        let _guard = self.customers_lock(p.workspace).await;
        let customer = self.survivor_or_404(p.workspace, id).await?;
        let owns = self.store().identities(p.workspace, customer.id).await?;
        if !owns.iter().any(|i| i.kind == identity.kind && i.value == value) {
            return Err(ServiceError::NotFound(format!("identity {value} of customer {}", customer.id.0)));
        }
        self.commit_and_publish(vec![Change::DeleteIdentity { workspace: p.workspace, kind: identity.kind, value }])
            .await?;
        self.view(customer).await
    }

    /// Customers whose name, email or phone contains `query` (any case),
    /// merged ones left out; an empty query lists customers by id.
    pub async fn search_customers(
        &self,
        p: &Principal,
        query: &str,
        limit: u32,
    ) -> Result<Vec<CustomerView>, ServiceError> {
        let limit = limit.clamp(1, MAX_CUSTOMER_RESULTS);
        let found = self.store().search_customers(p.workspace, query.trim(), limit).await?;
        let mut out = Vec::with_capacity(found.len());
        for customer in found.into_iter().filter(|c| c.merged_into.is_none()) {
            out.push(self.view(customer).await?);
        }
        Ok(out)
    }

    /// The customer with this identity, if any; `field` names the input in errors.
    pub async fn customer_with_identity(
        &self,
        p: &Principal,
        kind: IdentityKind,
        value: &str,
        field: &str,
    ) -> Result<Option<CustomerView>, ServiceError> {
        let value = normalize_identity(kind, value, field)?;
        let Some(owner) = self.store().customer_by_identity(p.workspace, kind, &value).await? else {
            return Ok(None);
        };
        match self.surviving_customer(p.workspace, owner.id).await? {
            Some(customer) => Ok(Some(self.view(customer).await?)),
            None => Ok(None),
        }
    }

    /// Appends a note to the customer's timeline.
    pub async fn add_customer_note(
        &self,
        p: &Principal,
        id: CustomerId,
        text: &str,
    ) -> Result<LoggedEvent, ServiceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServiceError::invalid("text", "must not be empty"));
        }
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(ServiceError::invalid("text", format!("must have at most {MAX_NOTE_CHARS} characters")));
        }
        let customer = self.survivor_or_404(p.workspace, id).await?;
        let note = Change::Append(NewEvent {
            workspace: p.workspace,
            at: self.now(),
            kind: Kind::CustomerNote.as_str().into(),
            contact: None,
            agent: None,
            queue: None,
            customer: Some(customer.id),
            payload: json!({ "type": Kind::CustomerNote.as_str(), "text": text, "author": p.user }),
        });
        let mut logged = self.commit_and_publish(vec![note]).await?;
        logged.pop().ok_or_else(|| StoreError::Corrupt("the note was appended without an id".into()).into())
    }

    /// The customers merged (directly or not) into `root`, and the events of
    /// `root` and all of them, by id.
    async fn family(
        &self,
        ws: WorkspaceId,
        root: CustomerId,
    ) -> Result<(Vec<CustomerId>, BTreeMap<u64, LoggedEvent>), ServiceError> {
        let mut seen = BTreeSet::from([root]);
        let mut todo = vec![root];
        let mut events = BTreeMap::new();
        while let Some(c) = todo.pop() {
            let mine = self.store().customer_events(ws, c).await?;
            for from in merged_into(&mine, c) {
                if seen.insert(from) {
                    todo.push(from);
                }
            }
            events.extend(mine.into_iter().map(|e| (e.id, e)));
        }
        seen.remove(&root);
        Ok((seen.into_iter().collect(), events))
    }

    /// Every event of the customer, of the customers merged into it and of
    /// all their contacts, oldest first, with each contact's channel: what
    /// an agent sees of the person across channels.
    pub async fn customer_timeline(
        &self,
        p: &Principal,
        id: CustomerId,
    ) -> Result<(CustomerId, Vec<TimelineEntry>), ServiceError> {
        let customer = self.survivor_or_404(p.workspace, id).await?;
        let (_, events) = self.family(p.workspace, customer.id).await?;
        let mut channels: HashMap<ContactId, Option<Channel>> =
            self.contacts_of(p.workspace, customer.id).await?.into_iter().map(|c| (c.id, Some(c.channel))).collect();
        let mut out = Vec::with_capacity(events.len());
        for event in events.into_values() {
            let channel = match event.contact {
                None => None,
                Some(contact) => match channels.get(&contact) {
                    Some(known) => *known,
                    None => {
                        let found = self.store().contact(p.workspace, contact).await?.map(|c| c.channel);
                        channels.insert(contact, found);
                        found
                    }
                },
            };
            out.push(TimelineEntry { event, channel });
        }
        Ok((customer.id, out))
    }

    /// All contacts naming `customer`, paging through the store.
    async fn contacts_of(&self, ws: WorkspaceId, customer: CustomerId) -> Result<Vec<ContactRecord>, ServiceError> {
        const PAGE: u32 = 500;
        let filter = ContactFilter { customer: Some(customer), ..Default::default() };
        let mut out: Vec<ContactRecord> = Vec::new();
        loop {
            let page = self.store().contacts(ws, &filter, out.last().map(|c| c.id), PAGE).await?;
            let done = (page.len() as u32) < PAGE;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    /// Merges `from` into `into`: `from`'s identities and contacts move to
    /// `into`, its tags are added and its attributes fill what `into` lacks,
    /// and `from` becomes an alias of `into` — as do the customers merged
    /// into `from` before. One commit, with a `customer_merged` event.
    pub async fn merge_customers(
        &self,
        p: &Principal,
        into: CustomerId,
        from: CustomerId,
    ) -> Result<CustomerView, ServiceError> {
        require(p, Role::Supervisor)?;
        let ws = p.workspace;
        let _guard = self.customers_lock(ws).await;
        let mut survivor = self.survivor_or_404(ws, into).await?;
        let merged = self
            .surviving_customer(ws, from)
            .await?
            .ok_or_else(|| ServiceError::invalid("from", format!("no customer {}", from.0)))?;
        if merged.id == survivor.id {
            return Err(if from == into {
                ServiceError::invalid("from", "a customer cannot be merged into itself")
            } else {
                ServiceError::Conflict(format!("customers {} and {} are already merged", from.0, into.0))
            });
        }

        let (aliases, _) = self.family(ws, merged.id).await?;
        let mut gone = vec![merged.clone()];
        for alias in &aliases {
            if let Some(record) = self.store().customer(ws, *alias).await? {
                gone.push(record);
            }
        }
        let mut changes = Vec::new();
        for record in &gone {
            for tag in &record.tags {
                if !survivor.tags.contains(tag) {
                    survivor.tags.push(tag.clone());
                }
            }
            for (k, v) in &record.attributes {
                survivor.attributes.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for mut identity in self.store().identities(ws, record.id).await? {
                identity.customer = survivor.id;
                changes.push(Change::PutIdentity(identity));
            }
            let mut alias = record.clone();
            alias.merged_into = Some(survivor.id);
            changes.push(Change::PutCustomer(alias));
        }
        changes.push(Change::PutCustomer(survivor.clone()));
        changes.push(Change::Append(NewEvent {
            workspace: ws,
            at: self.now(),
            kind: Kind::CustomerMerged.as_str().into(),
            contact: None,
            agent: None,
            queue: None,
            customer: Some(survivor.id),
            payload: json!({ "type": Kind::CustomerMerged.as_str(), "from": merged.id, "into": survivor.id, "by": p.user }),
        }));
        self.repoint_contacts(ws, gone.iter().map(|c| c.id).collect(), survivor.id, changes).await?;
        self.view(survivor).await
    }

    /// Adds to `changes` the contacts of `from` moved to `to`, and commits
    /// them. Some contacts are live in the routing center, which writes them
    /// again as they change: those are changed there, under its lock, and
    /// the rest read only once everything committed before is durable. The
    /// lock is held until the commit is durable: merges are rare, and the
    /// workspace's routing waits for one commit at most.
    async fn repoint_contacts(
        &self,
        ws: WorkspaceId,
        from: Vec<CustomerId>,
        to: CustomerId,
        changes: Vec<Change>,
    ) -> Result<(), ServiceError> {
        let appended = super::appended(&changes);
        let mut attempts = 0;
        let committed = loop {
            let center = self.center(ws).await?;
            let mut c = center.lock().await;
            // Nothing changes in the workspace now; wait for what changed before.
            self.store().commit(Vec::new()).await?;
            let mut stored = Vec::new();
            for customer in &from {
                stored.extend(self.contacts_of(ws, *customer).await?);
            }
            // An open contact the center no longer holds has ended, and its
            // last write is still on its way: read again shortly.
            if stored.iter().any(|r| r.state.is_open() && !c.contacts.contains_key(&r.id)) {
                drop(c);
                attempts += 1;
                if attempts == 20 {
                    return Err(ServiceError::Conflict("the customer's contacts keep changing; try again".into()));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            let mut batch = changes.clone();
            let mut before = Vec::new();
            for mut record in stored {
                match c.contacts.get_mut(&record.id) {
                    Some(live) => {
                        before.push((live.id, live.customer));
                        live.customer = Some(to);
                        batch.push(Change::PutContact(live.clone()));
                    }
                    None => {
                        record.customer = Some(to);
                        batch.push(Change::PutContact(record));
                    }
                }
            }
            // Committed before the lock is released, so that no later write
            // of a live contact can reach the store ahead of this one.
            let committed = self.store().commit(batch).await;
            if let Err(e) = &committed {
                // Memory must not run ahead of the disk: undo, and reload
                // the workspace on next use besides.
                tracing::error!(error = %e, workspace = %ws, "commit failed; reloading the workspace");
                for (id, customer) in before {
                    if let Some(live) = c.contacts.get_mut(&id) {
                        live.customer = customer;
                    }
                }
                self.inner.centers.lock().expect("centers lock").remove(&ws);
            }
            break committed;
        };
        self.publish(committed?, appended);
        Ok(())
    }

    /// The owner of `identity` (its survivor if merged), or a new customer
    /// with it, named `name` or after the identity, as changes to commit
    /// with the caller's own: the contact the customer arrives with and the
    /// customer are one commit. The caller holds the workspace's customers
    /// lock until it has committed (see the module's note).
    pub(crate) async fn identified_customer(
        &self,
        ws: WorkspaceId,
        identity: IdentityValue,
        name: Option<&str>,
    ) -> Result<Identified, ServiceError> {
        let value = normalize_identity(identity.kind, &identity.value, "customer_identity.value")?;
        if let Some(owner) = self.store().customer_by_identity(ws, identity.kind, &value).await? {
            let survivor = self.surviving_customer(ws, owner.id).await?;
            let id = survivor.map_or(owner.id, |s| s.id);
            return Ok(Identified { id, changes: Vec::new() });
        }
        let customer = CustomerRecord {
            id: CustomerId(Ids::next(&self.ids().customer)),
            workspace: ws,
            name: name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&value).to_string(),
            attributes: BTreeMap::new(),
            tags: Vec::new(),
            merged_into: None,
            created_at: self.now(),
        };
        let id = customer.id;
        let changes = vec![
            Change::PutCustomer(customer),
            Change::PutIdentity(Identity { workspace: ws, customer: id, kind: identity.kind, value }),
        ];
        Ok(Identified { id, changes })
    }
}

/// A customer found or made for an arriving contact.
#[derive(Debug)]
pub struct Identified {
    pub id: CustomerId,
    /// Empty for a known customer; the new customer and identity otherwise.
    pub changes: Vec<Change>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ServiceError) -> String {
        match e {
            ServiceError::Invalid { field, .. } => field,
            other => panic!("not invalid input: {other}"),
        }
    }

    #[test]
    fn identities_are_normalised() {
        let n = |kind, v| normalize_identity(kind, v, "value");
        assert_eq!(n(IdentityKind::Email, "  Ada@Example.COM ").unwrap(), "ada@example.com");
        assert_eq!(n(IdentityKind::Phone, "+44 (20) 7946-0018").unwrap(), "+442079460018");
        assert_eq!(n(IdentityKind::Phone, "+1.555.010.0199").unwrap(), "+15550100199");
        assert_eq!(n(IdentityKind::Visitor, "  v-1 ").unwrap(), "v-1");
        assert_eq!(n(IdentityKind::Handle, "whatsapp:+49 1").unwrap(), "whatsapp:+49 1");
    }

    #[test]
    fn bad_identities_name_their_field() {
        for (kind, v) in [
            (IdentityKind::Email, "nobody"),
            (IdentityKind::Email, "@example.com"),
            (IdentityKind::Email, "a b@example.com"),
            (IdentityKind::Phone, "020 7946 0018"),
            (IdentityKind::Phone, "+123456"),
            (IdentityKind::Phone, "+1234567890123456"),
            (IdentityKind::Phone, "+44 20 7946 00x8"),
            (IdentityKind::Phone, "++442079460018"),
            (IdentityKind::Visitor, "   "),
        ] {
            let e = normalize_identity(kind, v, "identities[2].value").expect_err(v);
            assert_eq!(field_of(e), "identities[2].value", "{v}");
        }
        assert!(normalize_identity(IdentityKind::Phone, "+1234567", "f").is_ok());
        assert!(normalize_identity(IdentityKind::Phone, "+123456789012345", "f").is_ok());
    }

    #[test]
    fn tags_are_trimmed_once_each() {
        let tags = clean_tags(&[" vip".into(), "vip ".into(), "late payer".into()]).unwrap();
        assert_eq!(tags, ["vip", "late payer"]);
        assert_eq!(field_of(clean_tags(&["a".into(), " ".into()]).unwrap_err()), "tags[1]");
    }
}
