//! Who may get in: users' roles and states and password resets (API tokens
//! are in `tokens`, logins and sessions in `login`). Every change here is
//! audited, and every change
//! that takes access away takes effect at once — the user's tokens are
//! deleted and evicted from the principal cache, and an agent among them
//! goes offline with its offers put back in line.

use super::{Service, ServiceError, audit, names, require};
use crate::auth::Principal;
use serde::Deserialize;
use switchboard_core::agent::Presence;
use switchboard_core::ids::{AgentId, UserId};
use switchboard_store::{Change, Role, TokenKind, User, UserState};

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
    /// Serialises changes to users, so that the last admin cannot be
    /// disabled or demoted by two changes racing each other.
    fn user_changes(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.user_changes
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
