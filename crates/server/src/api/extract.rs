//! Our own extractors, so that every client mistake answers our JSON error
//! contract (`errors.rs`) instead of axum's plain-text rejections, naming
//! the field where there is one: `Path` and `Query` wrap axum's, and
//! `Needs<R>` checks the caller's role before anything reads the body, so
//! that a caller without the role gets 403 whatever it sent.

use super::{ApiError, AppState, Auth};
use crate::auth::Principal;
use crate::service::documents::DocumentBody;
use crate::service::require;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use switchboard_store::Role;

/// Path parameters; one that does not parse is a 400 naming it.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, St: Send + Sync> FromRequestParts<St> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        let rejection = match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => return Ok(Path(v)),
            Err(r) => r,
        };
        let mut error = ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", rejection.body_text());
        if let PathRejection::FailedToDeserializePathParams(e) = &rejection {
            error.field = match e.kind() {
                ErrorKind::ParseErrorAtKey { key, .. } | ErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                // A single parameter's error names no key: it is the only one.
                _ => RawPathParams::from_request_parts(parts, state).await.ok().and_then(|params| {
                    let mut names = params.iter().map(|(k, _)| k.to_string());
                    names.next().filter(|_| names.next().is_none())
                }),
            };
        }
        Err(error)
    }
}

/// The query string; a missing or malformed parameter is a 400 naming it.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequestParts<St> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            let mut error = ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message);
            // "." is the whole query: then serde's message names the field, if any.
            error.field = if path == "." { super::errors::field_named(&error.message) } else { Some(path) };
            error
        })
    }
}

/// A role a route needs, checked by [`Needs`].
pub trait Needed {
    const ROLE: Role;
}

pub struct Admin;
pub struct Supervisor;

impl Needed for Admin {
    const ROLE: Role = Role::Admin;
}

impl Needed for Supervisor {
    const ROLE: Role = Role::Supervisor;
}

/// A document kind needs the role that may write it.
impl<T: DocumentBody> Needed for T {
    const ROLE: Role = T::WRITER;
}

/// The authenticated caller, who has at least role `R::ROLE` (else 403).
/// Put it before the body in a handler's arguments: extractors run in
/// order, and the body is always last.
pub struct Needs<R>(pub Principal, pub PhantomData<R>);

impl<R: Needed> FromRequestParts<AppState> for Needs<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Auth(p) = Auth::from_request_parts(parts, state).await?;
        require(&p, R::ROLE)?;
        Ok(Needs(p, PhantomData))
    }
}
