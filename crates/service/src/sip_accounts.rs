//! Agents' SIP phones: each user may have a SIP account — a username and
//! what digest authentication needs to check its password — so that the
//! voice channel's registrar can let the agent's phone register and ring it
//! with the voice contacts offered to that agent.
//!
//! Digest (RFC 2617, RFC 8760 with MD5) checks a response computed from
//! HA1 = MD5(username:realm:password); the server must hold the password
//! or HA1, nothing weaker. We keep HA1, never the password: HA1 is
//! password-equivalent for this realm (whoever has it can register as the
//! agent), so it is sealed with the installation's key like endpoints'
//! credentials, never shown by the API and never logged.
//!
//! One SIP listener serves every workspace and a phone names only a user
//! (`sip:alice@<our address>`), so usernames are unique across the
//! installation, not per workspace. The realm is [`SIP_REALM`] everywhere.
//!
//! Accounts are `sip_account` documents whose id is the user's id.

use super::{Service, ServiceError, audit, require};
use crate::auth::Principal;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_core::ids::{UserId, WorkspaceId};
use switchboard_store::{Change, Document, Role, StoreError};

/// The digest realm of every SIP account (HA1 depends on it).
pub const SIP_REALM: &str = "switchboard";
const KIND: &str = "sip_account";
/// The shortest password a phone may have: it is guessable offline from one challenge's answer.
const MIN_PASSWORD: usize = 10;
const MAX_USERNAME: usize = 64;

/// What an admin sets: the password, and the username when not the default.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipAccountUpdate {
    #[serde(default)]
    pub username: Option<String>,
    pub password: String,
}

// Never print a password.
impl std::fmt::Debug for SipAccountUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipAccountUpdate").field("username", &self.username).finish_non_exhaustive()
    }
}

/// An account as the API shows it: the username only.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SipAccount {
    pub user: UserId,
    pub username: String,
    pub realm: &'static str,
}

/// What the registrar needs to check a phone's digest answer.
#[derive(Clone)]
pub struct SipCredentials {
    pub workspace: WorkspaceId,
    pub user: UserId,
    pub username: String,
    /// MD5(username:realm:password), lowercase hex: password-equivalent.
    pub ha1: String,
}

impl std::fmt::Debug for SipCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipCredentials")
            .field("workspace", &self.workspace)
            .field("user", &self.user)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The stored body: the sealed HA1 in hex beside the username.
#[derive(Serialize, Deserialize)]
struct Body {
    username: String,
    sealed_ha1: String,
}

/// Lowercase hex MD5 of `text`, as digest writes its hashes.
pub fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn context(ws: WorkspaceId, user: UserId) -> Vec<u8> {
    format!("sip_account/{}/{}", ws.0, user.0).into_bytes()
}

/// The default username: the e-mail's local part, in the characters a SIP user part takes unescaped.
fn default_username(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(MAX_USERNAME).collect()
}

fn valid_username(name: &str) -> Result<String, ServiceError> {
    let name = name.trim().to_lowercase();
    let ok = !name.is_empty()
        && name.len() <= MAX_USERNAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(name) } else { Err(ServiceError::invalid("username", "1 to 64 letters, digits, '.', '_' and '-'")) }
}

impl Service {
    /// Sets a user's SIP password (and username): admins only. The
    /// username defaults to the one the account has, else the e-mail's
    /// local part (with `-<user id>` when another account has that).
    pub async fn put_sip_account(
        &self,
        p: &Principal,
        user: UserId,
        update: SipAccountUpdate,
    ) -> Result<SipAccount, ServiceError> {
        require(p, Role::Admin)?;
        let record = self
            .store()
            .user(p.workspace, user)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("user {}", user.0)))?;
        if update.password.chars().count() < MIN_PASSWORD || update.password.len() > 256 {
            return Err(ServiceError::invalid("password", format!("{MIN_PASSWORD} to 256 characters")));
        }
        // One writer at a time, so two admins cannot both take a username.
        let _guard = self.inner.user_changes.lock().await;
        let current = self.sip_body(p.workspace, user).await?.map(|b| b.username);
        let taken = |name: &str, all: &[(WorkspaceId, UserId, String)]| {
            all.iter().any(|(w, u, n)| n == name && (*w, *u) != (p.workspace, user))
        };
        let all = self.all_sip_usernames().await?;
        let username = match (&update.username, current) {
            (Some(name), _) => {
                let name = valid_username(name)?;
                if taken(&name, &all) {
                    return Err(ServiceError::Conflict(format!("SIP username '{name}' is taken")));
                }
                name
            }
            (None, Some(current)) => current,
            (None, None) => {
                let base =
                    valid_username(&default_username(&record.email)).unwrap_or_else(|_| format!("user{}", user.0));
                if taken(&base, &all) { format!("{base}-{}", user.0) } else { base }
            }
        };
        let ha1 = md5_hex(&format!("{username}:{SIP_REALM}:{}", update.password));
        let sealed = self.secret_key()?.seal(ha1.as_bytes(), &context(p.workspace, user));
        let body = Body { username: username.clone(), sealed_ha1: sealed.iter().map(|b| format!("{b:02x}")).collect() };
        let now = self.now();
        let doc = Document {
            workspace: p.workspace,
            kind: KIND.to_string(),
            id: user.0,
            body: serde_json::to_value(&body).map_err(StoreError::from)?,
            updated_at: now,
        };
        // The audit entry names the username, never the password.
        let target = format!("user/{}", user.0);
        self.commit_and_publish(vec![
            Change::PutDocument(doc),
            audit::detailed(p, now, "put_sip_account", target, json!({ "username": username })),
        ])
        .await?;
        Ok(SipAccount { user, username, realm: SIP_REALM })
    }

    /// A user's SIP account (its username): the user or an admin.
    pub async fn sip_account(&self, p: &Principal, user: UserId) -> Result<SipAccount, ServiceError> {
        if user != p.user {
            require(p, Role::Admin)?;
        }
        let body = self.sip_body(p.workspace, user).await?;
        body.map(|b| SipAccount { user, username: b.username, realm: SIP_REALM })
            .ok_or_else(|| ServiceError::NotFound(format!("SIP account of user {}", user.0)))
    }

    /// The workspace's SIP accounts (usernames), for the admin page.
    pub async fn sip_accounts(&self, p: &Principal) -> Result<Vec<SipAccount>, ServiceError> {
        require(p, Role::Admin)?;
        let docs = self.store().documents(p.workspace, KIND).await?;
        docs.into_iter()
            .map(|d| {
                let b: Body = serde_json::from_value(d.body).map_err(StoreError::from)?;
                Ok(SipAccount { user: UserId(d.id), username: b.username, realm: SIP_REALM })
            })
            .collect()
    }

    /// Removes a user's SIP account: their phone can no longer register.
    pub async fn delete_sip_account(&self, p: &Principal, user: UserId) -> Result<(), ServiceError> {
        require(p, Role::Admin)?;
        self.sip_account(p, user).await?;
        let now = self.now();
        self.commit_and_publish(vec![
            Change::DeleteDocument { workspace: p.workspace, kind: KIND.to_string(), id: user.0 },
            audit::entry(p, now, "delete_sip_account", format!("user/{}", user.0)),
        ])
        .await?;
        Ok(())
    }

    /// For the voice channel's registrar: the account a phone names, with
    /// its HA1 in clear. `None` when no account has that username or its
    /// user is not active.
    pub async fn sip_credentials(&self, username: &str) -> Result<Option<SipCredentials>, ServiceError> {
        let Ok(username) = valid_username(username) else { return Ok(None) };
        let found = self.all_sip_usernames().await?.into_iter().find(|(_, _, n)| *n == username);
        let Some((ws, user, _)) = found else { return Ok(None) };
        let active =
            self.store().user(ws, user).await?.is_some_and(|u| u.state == switchboard_store::UserState::Active);
        let Some(body) = self.sip_body(ws, user).await?.filter(|_| active) else { return Ok(None) };
        let sealed: Vec<u8> = (0..body.sealed_ha1.len() / 2)
            .filter_map(|i| u8::from_str_radix(body.sealed_ha1.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let ha1 = self
            .secret_key()?
            .open(&sealed, &context(ws, user))
            .map_err(|e| StoreError::Corrupt(format!("SIP account of user {}: {e}", user.0)))?;
        let ha1 = String::from_utf8(ha1).map_err(|_| StoreError::Corrupt("SIP HA1 is not text".into()))?;
        Ok(Some(SipCredentials { workspace: ws, user, username, ha1 }))
    }

    async fn sip_body(&self, ws: WorkspaceId, user: UserId) -> Result<Option<Body>, ServiceError> {
        let Some(d) = self.store().document(ws, KIND, user.0).await? else { return Ok(None) };
        Ok(Some(serde_json::from_value(d.body).map_err(StoreError::from)?))
    }

    /// Every account's username, across workspaces. Read from the store
    /// each time: registrations are rare (a phone renews every few minutes
    /// at most) and another server sharing the database may have written one.
    pub(crate) async fn all_sip_usernames(&self) -> Result<Vec<(WorkspaceId, UserId, String)>, ServiceError> {
        let mut all = Vec::new();
        for ws in self.store().workspaces().await? {
            for d in self.store().documents(ws.id, KIND).await? {
                let b: Body = serde_json::from_value(d.body).map_err(StoreError::from)?;
                all.push((ws.id, UserId(d.id), b.username));
            }
        }
        Ok(all)
    }
}
