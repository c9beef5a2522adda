//! The HTTP API under `/api/v1`: JSON in and out, errors as JSON naming the
//! field, every call authenticated and scoped to the caller's workspace.

mod admin;
mod chat;
mod conversations;
mod customers;
mod docs;
mod documents;
pub mod edge;
mod errors;
mod events;
mod extract;
mod handlers;
mod panics;
mod people;
mod seen;
mod selfservice;
mod yaml;

pub use errors::ApiError;

use crate::auth::Principal;
use crate::service::Service;
use crate::service::documents::{BusinessHours, CannedResponse, Disposition, DocumentBody, KbCategory};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use switchboard_store::Store;

pub type AppState<S> = Arc<Service<S>>;

/// Bodies larger than this are refused with 413.
const BODY_LIMIT: usize = 1024 * 1024;
/// Uploads may be as large as an attachment, and a little for the envelope.
const UPLOAD_LIMIT: usize = crate::service::chat::MAX_ATTACHMENT_BYTES + 1024;

pub fn router<S: Store>(service: AppState<S>, assets: Arc<crate::web::Assets>) -> Router {
    let api = Router::new()
        .route("/auth/login", post(handlers::login::<S>))
        .route("/auth/logout", post(handlers::logout::<S>))
        .route("/me", get(handlers::me::<S>))
        .route("/tokens", get(people::tokens::<S>).post(people::create_token::<S>))
        .route("/tokens/{id}", put(people::rename_token::<S>).delete(people::revoke_token::<S>))
        .route("/users", get(handlers::users::<S>).post(handlers::create_user::<S>))
        .route("/users/{id}", put(people::update_user::<S>).delete(people::delete_user::<S>))
        .route("/users/{id}/disable", post(people::disable_user::<S>))
        .route("/users/{id}/enable", post(people::enable_user::<S>))
        .route("/users/{id}/password", post(people::reset_password::<S>))
        .route("/skills", get(people::skills::<S>).post(handlers::create_skill::<S>))
        .route("/policies", get(handlers::policies::<S>).post(handlers::create_policy::<S>))
        .route("/policies/{id}", put(handlers::update_policy::<S>))
        .route("/queues", get(handlers::queues::<S>).post(handlers::create_queue::<S>))
        .route("/queues/{id}", put(handlers::update_queue::<S>))
        .route("/agents", get(people::agents::<S>))
        .route("/agents/{id}", get(people::agent::<S>).put(handlers::put_agent::<S>))
        .route("/agents/{id}/state", post(handlers::agent_state::<S>))
        .route("/contacts", get(handlers::contacts::<S>).post(handlers::create_contact::<S>))
        .route("/contacts/{id}", get(handlers::contact::<S>))
        .route("/contacts/{id}/accept", post(handlers::accept::<S>))
        .route("/contacts/{id}/reject", post(handlers::reject::<S>))
        .route("/contacts/{id}/complete", post(handlers::complete::<S>))
        .route("/contacts/{id}/transfer", post(handlers::transfer::<S>))
        .route("/contacts/{id}/cancel", post(handlers::cancel::<S>))
        .route("/customers", get(customers::customers::<S>).post(customers::create_customer::<S>))
        .route("/customers/{id}", get(customers::customer::<S>).put(customers::update_customer::<S>))
        .route("/customers/{id}/identities", post(customers::add_identity::<S>).delete(customers::remove_identity::<S>))
        .route("/customers/{id}/merge", post(customers::merge::<S>))
        .route("/customers/{id}/notes", post(customers::add_note::<S>))
        .route("/customers/{id}/timeline", get(customers::timeline::<S>))
        .route("/stats/queues", get(handlers::queue_stats::<S>))
        .route("/stats/agents", get(handlers::agent_stats::<S>))
        .route("/stats/intervals", get(handlers::interval_stats::<S>))
        .route("/stats/csat", get(handlers::csat_stats::<S>))
        .route("/workspace", get(handlers::workspace::<S>).put(handlers::update_workspace::<S>))
        .route("/contacts/{id}/messages", get(conversations::messages::<S>).post(conversations::send::<S>))
        .route("/contacts/{id}/typing", post(conversations::typing::<S>))
        .route("/contacts/{id}/read", post(conversations::read::<S>))
        .route("/contacts/{id}/end", post(conversations::end::<S>))
        .route(
            "/contacts/{id}/attachments",
            post(conversations::upload::<S>).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/attachments/{id}", get(conversations::attachment::<S>))
        .route("/chat/settings", get(selfservice::chat_settings::<S>).put(selfservice::update_chat_settings::<S>))
        .route("/flows", get(selfservice::flows::<S>).post(selfservice::create_flow::<S>))
        .route("/flows/{id}", get(selfservice::flow::<S>).put(selfservice::update_flow::<S>))
        .route("/kb/articles", get(selfservice::articles::<S>).post(selfservice::create_article::<S>))
        .route(
            "/kb/articles/{id}",
            get(selfservice::article::<S>)
                .put(selfservice::update_article::<S>)
                .delete(selfservice::delete_article::<S>),
        )
        .route("/kb/search", get(selfservice::search::<S>))
        .route("/events", get(events::events::<S>))
        .route("/webhooks", get(admin::webhooks::<S>).post(admin::create_webhook::<S>))
        .route("/webhooks/{id}", delete(admin::delete_webhook::<S>))
        .route("/webhooks/{id}/deliveries", get(admin::deliveries::<S>))
        .route("/audit", get(admin::audit::<S>));
    let api = document_routes::<S, Disposition>(api, "/dispositions");
    let api = document_routes::<S, CannedResponse>(api, "/canned-responses");
    let api = document_routes::<S, BusinessHours>(api, "/business-hours");
    let api = document_routes::<S, KbCategory>(api, "/kb/categories")
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn(errors::json_errors));
    let public = Router::new()
        .route("/chat/{key}/config", get(chat::config::<S>))
        .route("/chat/{key}/sessions", post(chat::start::<S>))
        .route("/chat/{key}/messages", post(chat::leave_message::<S>))
        .route("/chat/{key}/attachments", post(chat::upload::<S>).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/chat/{key}/attachments/{id}", get(chat::attachment::<S>))
        .route("/chat/{key}/ws", get(chat::socket::<S>))
        .layer(axum::middleware::from_fn(chat::cors))
        .layer(axum::middleware::from_fn(errors::json_errors))
        .route("/demo", get(chat::demo::<S>))
        .route("/help/{key}", get(chat::help_page::<S>))
        .route("/help/{key}/search", get(chat::help_search::<S>))
        .route("/help/{key}/categories", get(chat::help_categories::<S>))
        .route("/help/{key}/articles/{id}", get(chat::help_article::<S>))
        .layer(axum::Extension(assets));
    Router::new()
        .nest("/api/v1", api)
        .merge(public)
        .route("/health", get(handlers::health))
        .route("/ready", get(handlers::ready::<S>))
        .route("/metrics", get(edge::metrics::<S>))
        .route("/api/openapi.json", get(docs::openapi))
        .route("/api/docs", get(docs::page))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(panics::catch_panic))
        .layer(axum::middleware::from_fn_with_state(service.clone(), crate::metrics::track::<S>))
        .with_state(service)
}

/// List, create, read, replace and delete for one document kind at `path`.
fn document_routes<S: Store, T: DocumentBody>(api: Router<AppState<S>>, path: &str) -> Router<AppState<S>> {
    api.route(path, get(documents::list::<S, T>).post(documents::create::<S, T>)).route(
        &format!("{path}/{{id}}"),
        get(documents::get_one::<S, T>).put(documents::update::<S, T>).delete(documents::delete::<S, T>),
    )
}

/// The authenticated caller, from `Authorization: Bearer …` or the
/// `sb_session` cookie.
pub struct Auth(pub Principal);

pub const SESSION_COOKIE: &str = "sb_session";

pub fn bearer(parts: &Parts) -> Option<String> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) {
        return Some(token.trim().to_string());
    }
    let cookies = parts.headers.get(axum::http::header::COOKIE).and_then(|v| v.to_str().ok())?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

impl<S: Store> FromRequestParts<AppState<S>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::from(crate::service::ServiceError::Unauthenticated))?;
        Ok(Auth(state.authenticate(&token).await?))
    }
}

/// A JSON body whose errors come back as our JSON errors.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &St) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError::from_json_rejection(rejection)),
        }
    }
}
