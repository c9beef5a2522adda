//! Who may get in: users' roles and states, password resets, and the
//! workspace's API tokens. Every change here is audited, and every change
//! that takes access away takes effect at once — the user's tokens are
//! deleted and evicted from the principal cache, and an agent among them
//! goes offline with its offers put back in line.

use super::{Service, ServiceError, audit, names, require};
use crate::auth::{self, Principal};
use serde::{Deserialize, Serialize};
use switchboard_core::agent::Presence;
use switchboard_core::ids::{AgentId, UserId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Role, Token, TokenKind, User, UserState};

/// The longest expiry a token can be given at creation.
const MAX_TOKEN_DAYS: u32 = 3650;
const DAY_MS: i64 = 86_400_000;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// Expires this many days from now (1 to 3650)…
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// …or at this time (ms since the epoch, in the future). Neither: never.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// An API token as it is listed: never the secret, never its hash.
#[derive(Clone, Debug, Serialize)]
pub struct TokenView {
    /// A short public handle for renaming and revoking it.
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// To the minute or so: uses are recorded at most once a minute.
    pub last_used_at: Option<Timestamp>,
    /// The user who created it; the token acts as that user.
    pub created_by: UserId,
}

impl From<&Token> for TokenView {
    fn from(t: &Token) -> Self {
        TokenView {
            id: token_id(&t.hash),
            name: t.name.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            created_by: t.user,
        }
    }
}

/// The public id of a token: the first 8 bytes of its stored SHA-256 digest
/// in hex. The digest is of 32 random bytes, so this tells nothing about
/// the token itself.
fn token_id(hash: &[u8]) -> String {
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
}

/// The workspace keeps at least one active admin after `changed` replaces
/// its old self among `users`.
fn keeps_an_admin(users: &[User], changed: &User) -> bool {
    let active_admin = |u: &User| u.role == Role::Admin && u.state == UserState::Active;
    active_admin(changed) || users.iter().any(|u| u.id != changed.id && active_admin(u))
}

impl Service {
    /// A token for an integration, returned this once and stored hashed.
    pub async fn create_api_token(&self, p: &Principal, new: NewToken) -> Result<(String, TokenView), ServiceError> {
        require(p, Role::Admin)?;
        let now = self.now();
        let expires_at = match (new.expires_in_days, new.expires_at) {
            (Some(_), Some(_)) => {
                return Err(ServiceError::invalid("expires_at", "give expires_in_days or expires_at, not both"));
            }
            (Some(days), None) if (1..=MAX_TOKEN_DAYS).contains(&days) => Some(Timestamp(now.0 + days as i64 * DAY_MS)),
            (Some(_), None) => {
                return Err(ServiceError::invalid("expires_in_days", format!("1 to {MAX_TOKEN_DAYS} days")));
            }
            (None, Some(at)) if at > now && at.0 <= now.0 + MAX_TOKEN_DAYS as i64 * DAY_MS => Some(at),
            (None, Some(_)) => {
                return Err(ServiceError::invalid(
                    "expires_at",
                    format!("a time (ms since the epoch) in the next {MAX_TOKEN_DAYS} days"),
                ));
            }
            (None, None) => None,
        };
        let token = auth::new_token();
        let record = Token {
            hash: auth::token_hash(&token),
            kind: TokenKind::Api,
            workspace: p.workspace,
            user: p.user,
            name: names::name("name", &new.name)?,
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        let view = TokenView::from(&record);
        let principal = *p;
        self.apply(p.workspace, move |_, now, changes| {
            // The token's id and name only: the token and its hash stay out of the log.
            changes.push(audit::entry(&principal, now, "create_token", format!("token/{}", token_id(&record.hash))));
            changes.push(Change::PutToken(record));
            Ok(())
        })
        .await?;
        Ok((token, view))
    }

    pub async fn api_tokens(&self, p: &Principal) -> Result<Vec<TokenView>, ServiceError> {
        require(p, Role::Admin)?;
        Ok(self.store().api_tokens(p.workspace).await?.iter().map(TokenView::from).collect())
    }

    async fn api_token(&self, p: &Principal, id: &str) -> Result<Token, ServiceError> {
        require(p, Role::Admin)?;
        let tokens = self.store().api_tokens(p.workspace).await?;
        tokens
            .into_iter()
            .find(|t| token_id(&t.hash) == id)
            .ok_or_else(|| ServiceError::NotFound(format!("token {id}")))
    }

    pub async fn rename_api_token(&self, p: &Principal, id: &str, name: &str) -> Result<TokenView, ServiceError> {
        let mut token = self.api_token(p, id).await?;
        token.name = names::name("name", name)?;
        let view = TokenView::from(&token);
        let principal = *p;
        self.apply(p.workspace, move |_, now, changes| {
            changes.push(audit::entry(&principal, now, "rename_token", format!("token/{}", token_id(&token.hash))));
            changes.push(Change::PutToken(token));
            Ok(())
        })
        .await?;
        Ok(view)
    }

    /// Deletes the token; its next request answers 401.
    pub async fn revoke_api_token(&self, p: &Principal, id: &str) -> Result<(), ServiceError> {
        let token = self.api_token(p, id).await?;
        let (hash, principal) = (token.hash.clone(), *p);
        self.apply(p.workspace, move |_, now, changes| {
            changes.push(audit::entry(&principal, now, "revoke_token", format!("token/{}", token_id(&hash))));
            changes.push(Change::DeleteToken { hash });
            Ok(())
        })
        .await?;
        // After the delete: a request racing the revocation cannot re-cache it.
        self.forget_principals(|hash, _| *hash == token.hash);
        Ok(())
    }

    /// Renames a user or changes their role.
    pub async fn update_user(&self, p: &Principal, id: UserId, u: UserUpdate) -> Result<User, ServiceError> {
        let name = u.name.as_deref().map(|n| names::name("name", n)).transpose()?;
        self.change_user(p, id, "update_user", |user| {
            if let Some(name) = name {
                user.name = name;
            }
            if let Some(role) = u.role {
                user.role = role;
            }
            Ok(())
        })
        .await
    }

    /// Disables, re-enables or deletes a user. Disabling and deleting end
    /// their sessions and API tokens and take them offline at once; a
    /// deleted user is a tombstone that stays in the list (and keeps its
    /// email) so that contacts and events still name it.
    pub async fn set_user_state(&self, p: &Principal, id: UserId, state: UserState) -> Result<User, ServiceError> {
        let action = match state {
            UserState::Active => "enable_user",
            UserState::Disabled => "disable_user",
            UserState::Deleted => "delete_user",
        };
        self.change_user(p, id, action, |user| {
            if user.state == UserState::Deleted {
                return Err(ServiceError::Conflict(format!("user {} is deleted", id.0)));
            }
            user.state = state;
            Ok(())
        })
        .await
    }

    /// Sets a new password; the user's sessions end (API tokens stay).
    pub async fn reset_password(&self, p: &Principal, id: UserId, password: &str) -> Result<User, ServiceError> {
        let hash = super::users::password_hash(password).await?;
        self.change_user(p, id, "reset_password", |user| {
            user.password_hash = hash;
            Ok(())
        })
        .await
    }

    /// Reads user `id`, lets `edit` change it, checks that the workspace
    /// keeps an active admin, and commits the user with its audit entry and
    /// what the change takes away: sessions on a password change, all tokens
    /// and the agent's presence when the user stops being active.
    async fn change_user(
        &self,
        p: &Principal,
        id: UserId,
        action: &'static str,
        edit: impl FnOnce(&mut User) -> Result<(), ServiceError>,
    ) -> Result<User, ServiceError> {
        require(p, Role::Admin)?;
        // One user change at a time, so that two admins demoting each other
        // cannot both pass the last-admin check.
        let _serial = self.user_changes().lock().await;
        let users = self.store().users(p.workspace).await?;
        let before =
            users.iter().find(|u| u.id == id).ok_or_else(|| ServiceError::NotFound(format!("user {}", id.0)))?;
        let mut user = before.clone();
        edit(&mut user)?;
        if !keeps_an_admin(&users, &user) {
            return Err(ServiceError::Conflict("the workspace would have no active admin left".into()));
        }
        let revoked = user.state != UserState::Active && before.state == UserState::Active;
        let sessions_end = user.password_hash != before.password_hash;
        let (record, principal) = (user.clone(), *p);
        self.apply(p.workspace, move |c, now, changes| {
            changes.push(audit::entry(&principal, now, action, format!("user/{}", id.0)));
            let kind = if revoked {
                None
            } else if sessions_end {
                Some(TokenKind::Session)
            } else {
                // A rename or a new role: the cache below picks up the role.
                changes.push(Change::PutUser(record));
                return Ok(());
            };
            changes.push(Change::DeleteTokensOf { workspace: c.workspace, user: id, kind });
            if revoked && let Some(agent) = c.agents.get_mut(&id) {
                c.engine.set_presence(AgentId(id.0), Presence::Offline, now)?;
                agent.presence = Presence::Offline;
                changes.push(Change::PutAgent(agent.clone()));
            }
            changes.push(Change::PutUser(record));
            Ok(())
        })
        .await?;
        // After the commit: a request racing the change cannot re-cache the
        // old principal (role, or access at all).
        self.forget_principals(|_, principal| principal.user == id && principal.workspace == p.workspace);
        Ok(user)
    }
}
