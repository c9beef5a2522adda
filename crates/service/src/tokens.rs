//! The workspace's API tokens: created (shown once, stored hashed),
//! listed, renamed and revoked by administrators, each change audited. A
//! revoked token is evicted from the principal cache at once (see `login`).

use super::{Service, ServiceError, audit, names, require};
use crate::auth::{self, Principal};
use serde::{Deserialize, Serialize};
use switchboard_core::ids::UserId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Role, Token, TokenKind};

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
}
