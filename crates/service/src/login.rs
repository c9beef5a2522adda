//! Signing in and out, and who a token is: passwords checked (with failed
//! attempts slowed down, see `throttle`), sessions opened and ended, and
//! each request's bearer token or cookie resolved to its principal through
//! a short-lived cache.

use super::{Service, ServiceError, auth};
use crate::auth::Principal;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Token, TokenKind, UserState};

/// A token's principal as the store last answered, and until when to trust it.
#[derive(Clone, Copy)]
pub(crate) struct CachedPrincipal {
    principal: Principal,
    /// The earlier of the token's expiry and the end of the cache period.
    valid_until: Timestamp,
}

/// How long a token's principal is trusted without asking the store: a
/// logout on this server takes effect at once, a token deleted by another
/// server sharing the database within this time.
const PRINCIPAL_TTL_MS: i64 = 30_000;

/// A token's use is recorded at most this often (`last_used_at`), so that
/// using a token costs a write once a minute, not once a request.
const TOKEN_TOUCH_MS: i64 = 60_000;

/// At most this many cached principals; the cache is emptied when full
/// (simple, and a refill costs one read per active token).
const PRINCIPAL_CACHE_MAX: usize = 100_000;

impl Service {
    /// The principal behind a bearer token or session cookie value.
    ///
    /// Every API request asks this, so recent answers are kept in memory for
    /// [`PRINCIPAL_TTL_MS`]: without that, two store reads per request were
    /// most of the cost of a small request.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        let hash = auth::token_hash(token);
        let now = self.now();
        if let Some(cached) = self.inner.principals.lock().expect("principals lock").get(&hash)
            && cached.valid_until > now
        {
            return Ok(cached.principal);
        }
        let t = self.inner.store.token(&hash).await?.ok_or(ServiceError::Unauthenticated)?;
        if t.expires_at.is_some_and(|e| e <= now) {
            return Err(ServiceError::Unauthenticated);
        }
        let user = self.inner.store.user(t.workspace, t.user).await?.ok_or(ServiceError::Unauthenticated)?;
        if user.state != UserState::Active {
            return Err(ServiceError::Unauthenticated);
        }
        // Only here, on a cache miss, so at most once per cache period; and
        // only when the recorded use is a minute old.
        if t.kind == TokenKind::Api && t.last_used_at.is_none_or(|at| now.0 - at.0 >= TOKEN_TOUCH_MS) {
            let touch = Change::TouchToken { hash: hash.clone(), at: now };
            if let Err(e) = self.inner.store.commit(vec![touch]).await {
                tracing::warn!(error = %e, "could not record a token's use");
            }
        }
        let principal = Principal { workspace: user.workspace, user: user.id, role: user.role };
        let ttl_end = Timestamp(now.0 + PRINCIPAL_TTL_MS);
        let valid_until = t.expires_at.map_or(ttl_end, |e| e.min(ttl_end));
        let mut cache = self.inner.principals.lock().expect("principals lock");
        if cache.len() >= PRINCIPAL_CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, CachedPrincipal { principal, valid_until });
        Ok(principal)
    }

    /// Checks a password and opens a session for a caller at `from`.
    /// Failures slow down further attempts (see [`throttle`]).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        from: std::net::IpAddr,
    ) -> Result<(String, switchboard_store::User), ServiceError> {
        let email = email.trim().to_lowercase();
        let now = self.now();
        if let Some(wait) = self.inner.logins.wait(&email, from, now) {
            return Err(ServiceError::TryLater(wait));
        }
        let user = self.inner.store.user_by_email(&email).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = password.to_string();
        // Verify even for unknown logins, so timing does not tell which exist.
        let ok = tokio::task::spawn_blocking(move || {
            auth::verify_password(&password, hash.as_deref().unwrap_or(auth::dummy_hash())) && hash.is_some()
        })
        .await
        .unwrap_or(false);
        // A disabled or deleted user's password no longer opens a session.
        let Some(user) = user.filter(|u| ok && u.state == UserState::Active) else {
            self.inner.logins.failed(&email, from, now);
            return Err(ServiceError::Unauthenticated);
        };
        self.inner.logins.succeeded(&email, from);
        let token = auth::new_token();
        let expires = Timestamp(now.0 + self.inner.session_hours as i64 * 3_600_000);
        self.inner
            .store
            .commit(vec![Change::PutToken(Token {
                hash: auth::token_hash(&token),
                kind: TokenKind::Session,
                workspace: user.workspace,
                user: user.id,
                name: "session".into(),
                created_at: now,
                expires_at: Some(expires),
                last_used_at: None,
            })])
            .await?;
        Ok((token, user))
    }

    /// Drops cached principals `gone` names, after a change took their
    /// access away or changed their role.
    pub(crate) fn forget_principals(&self, gone: impl Fn(&[u8], &Principal) -> bool) {
        self.inner.principals.lock().expect("principals lock").retain(|hash, c| !gone(hash, &c.principal));
    }

    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        let hash = auth::token_hash(token);
        self.inner.store.commit(vec![Change::DeleteToken { hash: hash.clone() }]).await?;
        // After the delete: a request racing the logout cannot re-cache it.
        self.inner.principals.lock().expect("principals lock").remove(&hash);
        Ok(())
    }
}
