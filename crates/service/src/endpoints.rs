//! Endpoints (other products call them inboxes): every way in to a
//! workspace — a chat widget, a phone number, a mailbox, an SMS number, a
//! WhatsApp, Telegram or Messenger account — with its channel, name,
//! address, where its contacts go (a flow, a queue), business hours, an
//! enabled flag and its channel's settings.
//!
//! A channel's credentials travel in the same settings object but are
//! split off: the keys a channel declares secret ([`is_secret`]) are sealed
//! with the installation's key ([`crate::secrets`]) and stored apart. They
//! are write-only: reads show `{"set": true}` for each, never the value;
//! events and audit entries name the keys that changed, never a value; no
//! `Debug` prints one. Only a channel asks for them in clear, through
//! [`Service::endpoint_credentials`].
//!
//! The service keeps every endpoint in memory, by id and by address, for
//! the lookups inbound traffic makes (each webhook call, each call or mail).
//! Writes are serialised and change that index only after their commit, so
//! it never runs ahead of the store. A miss asks the store, which also
//! finds what another server sharing the database created.

use super::{Ids, Service, ServiceError, audit, names, require};
use crate::auth::Principal;
use crate::customers::normalize_identity;
use crate::documents::BusinessHours;
use crate::endpoint_state::EndpointHealth;
use crate::kinds::Kind;
use crate::secrets::{SecretError, SecretKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{EndpointId, QueueId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, EndpointRecord, IdentityKind, NewEvent, Role, StoreError};

/// The event kinds endpoint changes append (see `webhooks::EVENT_KINDS`).
pub const ENDPOINT_CREATED: &str = Kind::EndpointCreated.as_str();
pub const ENDPOINT_UPDATED: &str = Kind::EndpointUpdated.as_str();
pub const ENDPOINT_DELETED: &str = Kind::EndpointDeleted.as_str();

/// The longest secret value, in characters (a PEM private key fits).
const MAX_SECRET: usize = 16_384;
/// The largest settings object, as JSON.
const MAX_SETTINGS: usize = 64 * 1024;

/// Words that make a settings key secret on every channel, unless the
/// channel declares the key public.
const LOOKS_SECRET: [&str; 4] = ["token", "secret", "password", "key"];

/// The settings keys `channel` declares secret, beyond those named like a
/// secret: what its provider calls its credentials.
pub fn secret_keys(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::Voice => &["sip_password", "auth_token"],
        Channel::Email => &["smtp_password", "imap_password"],
        Channel::Sms => &["auth_token", "api_key"],
        Channel::Whatsapp => &["access_token", "app_secret", "verify_token"],
        Channel::Messenger => &["page_access_token", "app_secret", "verify_token"],
        Channel::Telegram => &["bot_token", "secret_token"],
        Channel::Chat | Channel::Api => &[],
    }
}

/// The settings keys `channel` declares public although they are named like
/// a secret: the chat widget's key is in every page that embeds it.
pub fn public_keys(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::Chat => &["widget_key", "public_key"],
        _ => &[],
    }
}

/// Whether a settings key of `channel` holds a credential.
pub fn is_secret(channel: Channel, key: &str) -> bool {
    if secret_keys(channel).contains(&key) {
        return true;
    }
    let lower = key.to_lowercase();
    !public_keys(channel).contains(&key) && LOOKS_SECRET.iter().any(|w| lower.contains(w))
}

/// An endpoint as the API shows it: its credentials by name only.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Endpoint {
    pub id: EndpointId,
    #[serde(skip)]
    pub workspace: WorkspaceId,
    pub channel: Channel,
    pub name: String,
    pub address: Option<String>,
    pub queue: Option<QueueId>,
    pub flow: Option<u64>,
    pub business_hours: Option<u64>,
    pub enabled: bool,
    /// The settings that are not secret, as a JSON object.
    pub settings: Value,
    /// Each credential that is set, by key: `{"auth_token": {"set": true}}`.
    pub secrets: BTreeMap<String, SecretSet>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// How its channel's link to the provider is doing, in admins' reads,
    /// for channels that keep one (an IMAP mailbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<EndpointHealth>,
}

/// What a read says of a credential: that it is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SecretSet {
    pub set: bool,
}

/// A new endpoint (`POST`) or an endpoint's new state (`PUT`). On `PUT`
/// the channel may be left out (it cannot change), a left-out address
/// keeps the current one, and credentials left out are kept: a client that
/// never saw them can send the rest back.
///
/// Credentials come either in `settings` under a key [`is_secret`] names,
/// or in `secrets`: a string sets one, `null` or `{"set": false}` removes
/// it, `{"set": true}` (what a read shows) keeps it.
///
/// No `Debug`: it carries credentials in clear.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    #[serde(default)]
    pub channel: Option<Channel>,
    pub name: String,
    /// Normalised for its channel (E.164 for voice and SMS, lower case for
    /// email); a chat endpoint created without one gets a new widget key.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub queue: Option<QueueId>,
    #[serde(default)]
    pub flow: Option<u64>,
    #[serde(default)]
    pub business_hours: Option<u64>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub settings: Map<String, Value>,
    #[serde(default)]
    pub secrets: BTreeMap<String, Option<SecretInput>>,
}

fn enabled_by_default() -> bool {
    true
}

/// One credential in an [`EndpointInput`].
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub enum SecretInput {
    Value(String),
    Marker { set: bool },
}

/// An endpoint's credentials in clear, for its channel only. `Debug` shows
/// the keys, never a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials(BTreeMap<String, String>);

impl Credentials {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.keys()).finish()
    }
}

/// Every endpoint, by id and by address: see the module's comment.
#[derive(Default)]
pub(crate) struct EndpointIndex {
    by_id: HashMap<EndpointId, EndpointRecord>,
    by_address: HashMap<(Channel, String), EndpointId>,
    /// A workspace's endpoints of a channel, oldest first: the channels
    /// without addresses (the api channel) find theirs per contact.
    by_channel: HashMap<(WorkspaceId, Channel), BTreeSet<EndpointId>>,
}

impl EndpointIndex {
    pub(crate) fn of(records: Vec<EndpointRecord>) -> Self {
        let mut index = EndpointIndex::default();
        for r in records {
            index.put(r);
        }
        index
    }

    fn put(&mut self, record: EndpointRecord) {
        self.remove(record.id);
        if let Some(address) = &record.address {
            self.by_address.insert((record.channel, address.clone()), record.id);
        }
        self.by_channel.entry((record.workspace, record.channel)).or_default().insert(record.id);
        self.by_id.insert(record.id, record);
    }

    pub(crate) fn records(&self) -> impl Iterator<Item = &EndpointRecord> {
        self.by_id.values()
    }

    /// The workspace's oldest endpoint of `channel`.
    pub(crate) fn first(&self, ws: WorkspaceId, channel: Channel) -> Option<&EndpointRecord> {
        let id = self.by_channel.get(&(ws, channel))?.first()?;
        self.by_id.get(id)
    }

    fn remove(&mut self, id: EndpointId) {
        let Some(old) = self.by_id.remove(&id) else { return };
        if let Some(address) = old.address {
            self.by_address.remove(&(old.channel, address));
        }
        let key = (old.workspace, old.channel);
        if let Some(ids) = self.by_channel.get_mut(&key) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_channel.remove(&key);
            }
        }
    }
}

/// What a credentials blob is sealed to: its endpoint, so that a blob
/// copied to another row does not open there.
fn context(id: EndpointId) -> Vec<u8> {
    format!("switchboard endpoint {}", id.0).into_bytes()
}

/// An address in its channel's normal form.
fn normalize_address(channel: Channel, raw: &str) -> Result<String, ServiceError> {
    match channel {
        Channel::Voice | Channel::Sms => normalize_identity(IdentityKind::Phone, raw, "address"),
        Channel::Email => normalize_identity(IdentityKind::Email, raw, "address"),
        _ => names::line("address", raw, names::MAX_NAME),
    }
}

fn check_secret(field: &str, value: String) -> Result<String, ServiceError> {
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty (use null to remove it)"));
    }
    if value.chars().count() > MAX_SECRET {
        return Err(ServiceError::invalid(field, format!("at most {MAX_SECRET} characters")));
    }
    if value.contains('\0') {
        return Err(ServiceError::invalid(field, "must not contain NUL characters"));
    }
    Ok(value)
}

/// Splits the input's settings into what is shown and the credential
/// changes (`None`: remove), and applies those to `current`. Returns the
/// settings and the keys whose credential changed.
fn split_settings(
    channel: Channel,
    settings: Map<String, Value>,
    secrets: BTreeMap<String, Option<SecretInput>>,
    current: &mut BTreeMap<String, String>,
) -> Result<(Map<String, Value>, Vec<String>), ServiceError> {
    let mut shown = Map::new();
    let mut changes: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (key, value) in settings {
        if !is_secret(channel, &key) {
            shown.insert(key, value);
            continue;
        }
        let field = format!("settings.{key}");
        match value {
            Value::Null => changes.insert(key, None),
            Value::String(s) => changes.insert(key, Some(check_secret(&field, s)?)),
            _ => return Err(ServiceError::invalid(field, "a credential is a string (or null to remove it)")),
        };
    }
    for (key, value) in secrets {
        let field = format!("secrets.{key}");
        if changes.contains_key(&key) {
            return Err(ServiceError::invalid(field, "given in settings too"));
        }
        names::line(&field, &key, 100)?;
        match value {
            None | Some(SecretInput::Marker { set: false }) => changes.insert(key, None),
            Some(SecretInput::Marker { set: true }) => None,
            Some(SecretInput::Value(s)) => changes.insert(key, Some(check_secret(&field, s)?)),
        };
    }
    if serde_json::to_string(&shown).map_err(StoreError::from)?.len() > MAX_SETTINGS {
        return Err(ServiceError::invalid("settings", format!("at most {MAX_SETTINGS} bytes of JSON")));
    }
    let mut changed = Vec::new();
    for (key, value) in changes {
        let differs = match value {
            Some(v) => current.insert(key.clone(), v.clone()).as_ref() != Some(&v),
            None => current.remove(&key).is_some(),
        };
        if differs {
            changed.push(key);
        }
    }
    Ok((shown, changed))
}

impl Service {
    /// The installation's key for credentials. The server sets it once at
    /// start; until then an endpoint with credentials cannot be written or
    /// read.
    pub fn set_secret_key(&self, key: SecretKey) -> Result<(), ServiceError> {
        self.inner.secret_key.set(key).map_err(|_| ServiceError::Conflict("the secret key is set already".into()))
    }

    /// Whether [`Service::set_secret_key`] was called.
    pub fn has_secret_key(&self) -> bool {
        self.inner.secret_key.get().is_some()
    }

    /// The installation's key; its absence is the server's fault (a 500
    /// that is logged), never the caller's.
    pub(crate) fn secret_key(&self) -> Result<&SecretKey, ServiceError> {
        let missing = StoreError::Unsupported("no secret key is configured for endpoint credentials");
        self.inner.secret_key.get().ok_or(ServiceError::Store(missing))
    }

    fn unseal(&self, record: &EndpointRecord) -> Result<BTreeMap<String, String>, ServiceError> {
        if record.secrets.is_empty() {
            return Ok(BTreeMap::new());
        }
        let plain = self
            .secret_key()?
            .open(&record.secrets, &context(record.id))
            .map_err(|e: SecretError| StoreError::Corrupt(format!("endpoint {}: {e}", record.id.0)))?;
        Ok(serde_json::from_slice(&plain).map_err(StoreError::from)?)
    }

    fn seal(&self, id: EndpointId, secrets: &BTreeMap<String, String>) -> Result<Vec<u8>, ServiceError> {
        if secrets.is_empty() {
            return Ok(Vec::new());
        }
        let plain = serde_json::to_vec(secrets).map_err(StoreError::from)?;
        Ok(self.secret_key()?.seal(&plain, &context(id)))
    }

    pub(crate) fn endpoint_view(&self, r: EndpointRecord) -> Result<Endpoint, ServiceError> {
        let secrets = self.unseal(&r)?.into_keys().map(|k| (k, SecretSet { set: true })).collect();
        Ok(Endpoint {
            id: r.id,
            workspace: r.workspace,
            channel: r.channel,
            name: r.name,
            address: r.address,
            queue: r.queue,
            flow: r.flow,
            business_hours: r.business_hours,
            enabled: r.enabled,
            settings: r.settings,
            secrets,
            created_at: r.created_at,
            updated_at: r.updated_at,
            health: None,
        })
    }

    /// The workspace's endpoints, by id.
    pub async fn endpoints(&self, p: &Principal) -> Result<Vec<Endpoint>, ServiceError> {
        require(p, Role::Admin)?;
        self.store().endpoints(p.workspace).await?.into_iter().map(|r| self.admin_view(r)).collect()
    }

    pub async fn endpoint(&self, p: &Principal, id: EndpointId) -> Result<Endpoint, ServiceError> {
        require(p, Role::Admin)?;
        self.admin_view(self.own_endpoint(p.workspace, id).await?)
    }

    /// An endpoint as admins see it: with its health.
    fn admin_view(&self, r: EndpointRecord) -> Result<Endpoint, ServiceError> {
        let health = self.health_of(r.id);
        Ok(Endpoint { health, ..self.endpoint_view(r)? })
    }

    async fn own_endpoint(&self, ws: WorkspaceId, id: EndpointId) -> Result<EndpointRecord, ServiceError> {
        self.store()
            .endpoint(id)
            .await?
            .filter(|r| r.workspace == ws)
            .ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", id.0)))
    }

    pub async fn create_endpoint(&self, p: &Principal, input: EndpointInput) -> Result<Endpoint, ServiceError> {
        require(p, Role::Admin)?;
        let _serial = self.inner.endpoint_changes.lock().await;
        let channel = input.channel.ok_or_else(|| ServiceError::invalid("channel", "is required"))?;
        let id = EndpointId(Ids::next(&self.ids().endpoint));
        let address = match (&input.address, channel) {
            (None, Channel::Chat) => Some(crate::auth::new_token()[..24].to_string()),
            _ => None,
        };
        let blank = self.blank_endpoint(id, p.workspace, channel, address);
        self.write_endpoint(p, blank, input, ENDPOINT_CREATED, "create_endpoint").await
    }

    pub async fn update_endpoint(
        &self,
        p: &Principal,
        id: EndpointId,
        input: EndpointInput,
    ) -> Result<Endpoint, ServiceError> {
        require(p, Role::Admin)?;
        let _serial = self.inner.endpoint_changes.lock().await;
        let current = self.own_endpoint(p.workspace, id).await?;
        if input.channel.is_some_and(|c| c != current.channel) {
            return Err(ServiceError::invalid("channel", "cannot change: create another endpoint"));
        }
        self.write_endpoint(p, current, input, ENDPOINT_UPDATED, "update_endpoint").await
    }

    /// Checks `input` against the workspace, applies it to `record` and
    /// commits it with its event and audit entry. The caller holds the
    /// endpoint write lock.
    async fn write_endpoint(
        &self,
        p: &Principal,
        mut record: EndpointRecord,
        input: EndpointInput,
        kind: &str,
        action: &str,
    ) -> Result<Endpoint, ServiceError> {
        let ws = p.workspace;
        record.name = names::name("name", &input.name)?;
        if let Some(raw) = &input.address {
            record.address = Some(normalize_address(record.channel, raw)?);
        }
        if input.queue.is_none() && input.flow.is_none() {
            return Err(ServiceError::invalid("queue", "name a queue or a flow for the endpoint's contacts"));
        }
        if let Some(q) = input.queue
            && !self.store().queues(ws).await?.iter().any(|r| r.id == q)
        {
            return Err(ServiceError::invalid("queue", format!("no queue {} in this workspace", q.0)));
        }
        if let Some(f) = input.flow {
            let flow = self
                .flow(ws, f)
                .await
                .map_err(|_| ServiceError::invalid("flow", format!("no flow {f} in this workspace")))?;
            if record.channel == Channel::Voice {
                let problems = switchboard_core::flow::validate::on_phone(flow.compile()?.definition());
                if !problems.is_empty() {
                    let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    return Err(ServiceError::invalid(
                        "flow",
                        format!("flow {f} cannot run on a phone: {}", all.join("; ")),
                    ));
                }
            }
        }
        if let Some(h) = input.business_hours {
            self.document::<BusinessHours>(ws, h).await.map_err(|_| {
                ServiceError::invalid("business_hours", format!("no business hours {h} in this workspace"))
            })?;
        }
        if let Some(address) = &record.address
            && let Some(other) = self.store().endpoint_by_address(record.channel, address).await?
            && other.id != record.id
        {
            return Err(ServiceError::Conflict(format!("{} address '{address}' is taken", record.channel)));
        }
        let mut secrets = self.unseal(&record)?;
        let (settings, changed) = split_settings(record.channel, input.settings, input.secrets, &mut secrets)?;
        if record.channel == Channel::Voice {
            let password = secrets.get(crate::trunk::TRUNK_PASSWORD).map(String::as_str);
            crate::trunk::Trunk::from_settings(&settings, password)?;
        }
        record.queue = input.queue;
        record.flow = input.flow;
        record.business_hours = input.business_hours;
        record.enabled = input.enabled;
        record.settings = Value::Object(settings);
        record.secrets = self.seal(record.id, &secrets)?;
        record.updated_at = self.now();

        let target = format!("endpoint/{}", record.id.0);
        let audit = audit::detailed(p, record.updated_at, action, target, json!({ "secrets_changed": changed }));
        let changes = vec![Change::PutEndpoint(record.clone()), event(&record, kind), audit];
        self.commit_endpoint(changes).await?;
        self.inner.endpoints.write().expect("endpoints lock").put(record.clone());
        self.endpoint_view(record)
    }

    /// Deletes the endpoint; its address is free at once, its id is never
    /// given again.
    pub async fn delete_endpoint(&self, p: &Principal, id: EndpointId) -> Result<(), ServiceError> {
        require(p, Role::Admin)?;
        let _serial = self.inner.endpoint_changes.lock().await;
        let record = self.own_endpoint(p.workspace, id).await?;
        let now = self.now();
        let changes = vec![
            Change::DeleteEndpoint { workspace: record.workspace, id },
            event(&EndpointRecord { updated_at: now, ..record }, ENDPOINT_DELETED),
            audit::entry(p, now, "delete_endpoint", format!("endpoint/{}", id.0)),
        ];
        self.commit_endpoint(changes).await?;
        self.inner.endpoints.write().expect("endpoints lock").remove(id);
        Ok(())
    }

    /// Commits an endpoint change; an address another writer took in the
    /// meantime (another server on the database) is a conflict, not a fault.
    async fn commit_endpoint(&self, changes: Vec<Change>) -> Result<(), ServiceError> {
        match self.commit_and_publish(changes).await {
            Err(ServiceError::Store(StoreError::Conflict(what))) => {
                Err(ServiceError::Conflict(format!("{what} is taken")))
            }
            other => other.map(|_| ()),
        }
    }

    /// A new endpoint with nothing set but its place and address, enabled.
    pub(crate) fn blank_endpoint(
        &self,
        id: EndpointId,
        workspace: WorkspaceId,
        channel: Channel,
        address: Option<String>,
    ) -> EndpointRecord {
        let now = self.now();
        EndpointRecord {
            id,
            workspace,
            channel,
            name: String::new(),
            address,
            queue: None,
            flow: None,
            business_hours: None,
            enabled: true,
            settings: json!({}),
            secrets: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Commits `changes` with `record` put, and indexes it once durable:
    /// for an endpoint the service keeps with a channel's own settings (the
    /// chat widget's), which an admin's write does not go through.
    pub(crate) async fn commit_with_endpoint(
        &self,
        record: EndpointRecord,
        mut changes: Vec<Change>,
    ) -> Result<(), ServiceError> {
        let _serial = self.inner.endpoint_changes.lock().await;
        changes.insert(0, Change::PutEndpoint(record.clone()));
        self.commit_endpoint(changes).await?;
        self.inner.endpoints.write().expect("endpoints lock").put(record);
        Ok(())
    }

    /// Makes an endpoint a channel needs and no admin set up yet (the
    /// workspace's `api` endpoint, on its first contact over the API):
    /// enabled, with neither queue nor flow, committed with its event and
    /// an audit entry saying `why`.
    pub(crate) async fn make_endpoint(
        &self,
        ws: WorkspaceId,
        channel: Channel,
        name: &str,
        why: &str,
    ) -> Result<EndpointRecord, ServiceError> {
        let mut record = self.blank_endpoint(EndpointId(Ids::next(&self.ids().endpoint)), ws, channel, None);
        record.name = name.to_string();
        let target = format!("endpoint/{}", record.id.0);
        let audit = audit::by_server(ws, record.updated_at, "create_endpoint", target, json!({ "why": why }));
        self.commit_with_endpoint(record.clone(), vec![event(&record, ENDPOINT_CREATED), audit]).await?;
        Ok(record)
    }

    // ----- for channels ---------------------------------------------------

    /// The endpoint `id` names, in whichever workspace: what a provider's
    /// webhook (`/hooks/{id}`) is for. Disabled ones too: the channel
    /// decides what a disabled endpoint answers.
    pub async fn endpoint_by_id(&self, id: EndpointId) -> Result<Option<Endpoint>, ServiceError> {
        let known = self.inner.endpoints.read().expect("endpoints lock").by_id.get(&id).cloned();
        let record = match known {
            Some(r) => Some(r),
            None => self.store().endpoint(id).await?,
        };
        record.map(|r| self.endpoint_view(r)).transpose()
    }

    /// The endpoint with `address` on `channel` (normalised as when it was
    /// stored), in whichever workspace: how an inbound call or mail finds
    /// where it belongs.
    pub async fn endpoint_at(&self, channel: Channel, address: &str) -> Result<Option<Endpoint>, ServiceError> {
        let Ok(address) = normalize_address(channel, address) else { return Ok(None) };
        let known = {
            let index = self.inner.endpoints.read().expect("endpoints lock");
            index.by_address.get(&(channel, address.clone())).and_then(|id| index.by_id.get(id)).cloned()
        };
        let record = match known {
            Some(r) => Some(r),
            None => self.store().endpoint_by_address(channel, &address).await?,
        };
        record.map(|r| self.endpoint_view(r)).transpose()
    }

    /// The endpoint's credentials in clear. For channel crates only, to
    /// talk to their provider: never answer, log or store what this gives.
    pub async fn endpoint_credentials(&self, id: EndpointId) -> Result<Credentials, ServiceError> {
        let known = self.inner.endpoints.read().expect("endpoints lock").by_id.get(&id).cloned();
        let record = match known {
            Some(r) => r,
            None => {
                self.store().endpoint(id).await?.ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", id.0)))?
            }
        };
        Ok(Credentials(self.unseal(&record)?))
    }
}

/// The event an endpoint change appends: what it is, never a credential.
fn event(r: &EndpointRecord, kind: &str) -> Change {
    Change::Append(NewEvent {
        workspace: r.workspace,
        at: r.updated_at,
        kind: kind.to_string(),
        contact: None,
        agent: None,
        queue: r.queue,
        customer: None,
        payload: json!({
            "type": kind,
            "endpoint": r.id,
            "channel": r.channel,
            "name": r.name,
            "address": r.address,
            "enabled": r.enabled,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_declare_their_secrets_and_names_give_the_rest_away() {
        assert!(is_secret(Channel::Telegram, "bot_token"));
        assert!(is_secret(Channel::Voice, "sip_password"));
        assert!(is_secret(Channel::Email, "smtp_password"));
        for generic in ["api_key", "Client_Secret", "accessToken", "password"] {
            assert!(is_secret(Channel::Sms, generic), "{generic}");
        }
        assert!(!is_secret(Channel::Chat, "widget_key"), "the widget's key is public");
        assert!(is_secret(Channel::Email, "widget_key"), "only on chat");
        assert!(!is_secret(Channel::Sms, "from_name"));
    }

    fn split(
        settings: Value,
        secrets: Value,
        current: &mut BTreeMap<String, String>,
    ) -> Result<(Map<String, Value>, Vec<String>), ServiceError> {
        let settings = serde_json::from_value(settings).unwrap();
        let secrets = serde_json::from_value(secrets).unwrap();
        split_settings(Channel::Sms, settings, secrets, current)
    }

    #[test]
    fn credentials_are_split_off_set_kept_and_removed() {
        let mut current = BTreeMap::new();
        let (shown, changed) =
            split(json!({"from": "Acme", "auth_token": "t0k"}), json!({"account_sid": "AC1"}), &mut current).unwrap();
        assert_eq!(Value::Object(shown), json!({"from": "Acme"}));
        assert_eq!(changed, vec!["account_sid", "auth_token"]);
        assert_eq!(current.get("auth_token").map(String::as_str), Some("t0k"));

        // What a read shows, sent back, changes nothing; the same value
        // again is no change either.
        let (_, changed) =
            split(json!({"auth_token": "t0k"}), json!({"account_sid": {"set": true}}), &mut current).unwrap();
        assert!(changed.is_empty());
        assert_eq!(current.len(), 2);

        let (_, changed) = split(json!({"auth_token": null}), json!({"account_sid": null}), &mut current).unwrap();
        assert_eq!(changed, vec!["account_sid", "auth_token"]);
        assert!(current.is_empty());

        let field = |r: Result<_, ServiceError>| match r {
            Err(ServiceError::Invalid { field, .. }) => field,
            _ => panic!("expected invalid"),
        };
        assert_eq!(field(split(json!({"api_key": 5}), json!({}), &mut current)), "settings.api_key");
        assert_eq!(field(split(json!({"api_key": ""}), json!({}), &mut current)), "settings.api_key");
        assert_eq!(field(split(json!({"api_key": "a"}), json!({"api_key": "b"}), &mut current)), "secrets.api_key");
    }

    #[test]
    fn addresses_take_their_channels_normal_form() {
        assert_eq!(normalize_address(Channel::Voice, " +1 (555) 123-4567 ").unwrap(), "+15551234567");
        assert_eq!(normalize_address(Channel::Email, "Support@Example.com").unwrap(), "support@example.com");
        assert_eq!(normalize_address(Channel::Telegram, " acme_bot ").unwrap(), "acme_bot");
        assert!(normalize_address(Channel::Sms, "12").is_err());
        assert!(normalize_address(Channel::Chat, "a\nb").is_err());
    }

    #[test]
    fn credentials_never_show_their_values() {
        let c = Credentials(BTreeMap::from([("bot_token".to_string(), "s3cr3t".to_string())]));
        assert_eq!(format!("{c:?}"), r#"{"bot_token"}"#);
        assert_eq!(c.get("bot_token"), Some("s3cr3t"));
    }
}
