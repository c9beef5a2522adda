//! Workspaces and users: the installation's first workspace and its administrator, and the users an admin adds.
//! Each operation takes the caller's principal, checks its role, and
//! works inside its workspace only.

use super::{Ids, Service, ServiceError, audit, names, require};
use crate::auth::{self, Principal};
use serde::Deserialize;
use switchboard_core::ids::{UserId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Role, User, UserState, Workspace};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// An argon2id hash of a new password, which must have at least 8 characters.
pub(super) async fn password_hash(password: &str) -> Result<String, ServiceError> {
    if password.chars().count() < 8 {
        return Err(ServiceError::invalid("password", "must have at least 8 characters"));
    }
    let password = password.to_string();
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ServiceError::invalid("password", e.to_string()))
}

impl Service {
    /// A new workspace with its first administrator (installation set-up,
    /// not an API call: there is no principal yet).
    pub async fn create_workspace(&self, name: &str, admin: NewUser) -> Result<(Workspace, User), ServiceError> {
        let now = self.now();
        let ws = Workspace {
            id: WorkspaceId(Ids::next(&self.ids().workspace)),
            name: names::name("name", name)?,
            created_at: now,
        };
        let user = self.user_record(ws.id, admin, now).await?;
        self.store().commit(vec![Change::PutWorkspace(ws.clone()), Change::PutUser(user.clone())]).await?;
        Ok((ws, user))
    }

    async fn user_record(&self, ws: WorkspaceId, u: NewUser, now: Timestamp) -> Result<User, ServiceError> {
        let email = names::line("email", &u.email, 254)?.to_lowercase();
        if !email.contains('@') {
            return Err(ServiceError::invalid("email", format!("'{email}' is not an email address")));
        }
        let name = names::name("name", &u.name)?;
        if self.store().user_by_email(&email).await?.is_some() {
            return Err(ServiceError::Conflict(format!("a user with email {email} exists")));
        }
        let password_hash = password_hash(&u.password).await?;
        Ok(User {
            id: UserId(Ids::next(&self.ids().user)),
            workspace: ws,
            email,
            name,
            role: u.role,
            password_hash,
            created_at: now,
            state: UserState::Active,
        })
    }

    pub async fn create_user(&self, p: &Principal, u: NewUser) -> Result<User, ServiceError> {
        require(p, Role::Admin)?;
        let user = self.user_record(p.workspace, u, self.now()).await?;
        let (record, principal) = (user.clone(), *p);
        self.apply(p.workspace, move |_, now, changes| {
            changes.push(audit::entry(&principal, now, "create_user", format!("user/{}", record.id.0)));
            changes.push(Change::PutUser(record));
            Ok(())
        })
        .await?;
        Ok(user)
    }

    /// Everyone in the workspace (agents too: they transfer to colleagues
    /// and read their names on timelines). Password hashes are never shown.
    pub async fn users(&self, p: &Principal) -> Result<Vec<User>, ServiceError> {
        Ok(self.store().users(p.workspace).await?)
    }
}
