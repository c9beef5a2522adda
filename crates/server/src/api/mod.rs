//! The HTTP API under `/api/v1`: JSON in and out, errors as JSON naming the
//! field, every call authenticated and scoped to the caller's workspace.

mod admin;
mod chat;
mod conversations;
mod csv_export;
mod customers;
mod docs;
mod documents;
pub mod edge;
mod endpoints;
mod errors;
mod events;
mod extract;
mod handlers;
mod hooks;
mod linger;
mod metrics;
mod panics;
mod people;
mod planning;
mod reports;
mod roster;
mod rules;
mod seen;
mod selfservice;
mod yaml;

pub use errors::ApiError;

use crate::auth::Principal;
use crate::service::Service;
use crate::service::documents::{BusinessHours, CannedResponse, Disposition, DocumentBody, KbCategory};
use crate::service::planning::roster::WorkRules;
use crate::service::planning::{PlanningAdjustment, ShiftTemplate};
use crate::service::sla_policies::SlaPolicy;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use serde::de::DeserializeOwned;
use std::sync::Arc;

pub type AppState = Arc<Service>;

/// Bodies larger than this are refused with 413.
const BODY_LIMIT: usize = 1024 * 1024;
/// Uploads may be as large as an attachment, and a little for the envelope.
const UPLOAD_LIMIT: usize = crate::service::conversation::MAX_ATTACHMENT_BYTES + 1024;

pub fn router(service: AppState, assets: Arc<crate::web::Assets>) -> Router {
    let api = Router::new()
        .route("/auth/login", post(handlers::login))
        .route("/auth/logout", post(handlers::logout))
        .route("/me", get(handlers::me))
        .route("/tokens", get(people::tokens).post(people::create_token))
        .route("/tokens/{id}", put(people::rename_token).delete(people::revoke_token))
        .route("/users", get(handlers::users).post(handlers::create_user))
        .route("/users/{id}", put(people::update_user).delete(people::delete_user))
        .route("/users/{id}/disable", post(people::disable_user))
        .route("/users/{id}/enable", post(people::enable_user))
        .route("/users/{id}/password", post(people::reset_password))
        .route(
            "/users/{id}/sip",
            get(people::sip_account).put(people::put_sip_account).delete(people::delete_sip_account),
        )
        .route("/skills", get(people::skills).post(handlers::create_skill))
        .route("/policies", get(handlers::policies).post(handlers::create_policy))
        .route("/policies/{id}", put(handlers::update_policy))
        .route("/queues", get(handlers::queues).post(handlers::create_queue))
        .route("/queues/{id}", put(handlers::update_queue))
        .route("/agents", get(people::agents))
        .route("/agents/{id}", get(people::agent).put(handlers::put_agent))
        .route("/agents/{id}/state", post(handlers::agent_state))
        .route("/contacts", get(handlers::contacts).post(handlers::create_contact))
        .route("/contacts/{id}", get(handlers::contact))
        .route("/contacts/{id}/accept", post(handlers::accept))
        .route("/contacts/{id}/reject", post(handlers::reject))
        .route("/contacts/{id}/complete", post(handlers::complete))
        .route("/contacts/{id}/transfer", post(handlers::transfer))
        .route("/contacts/{id}/cancel", post(handlers::cancel))
        .route("/customers", get(customers::customers).post(customers::create_customer))
        .route("/customers/{id}", get(customers::customer).put(customers::update_customer))
        .route("/customers/{id}/identities", post(customers::add_identity).delete(customers::remove_identity))
        .route("/customers/{id}/merge", post(customers::merge))
        .route("/customers/{id}/notes", post(customers::add_note))
        .route("/customers/{id}/pin", put(customers::put_pin).delete(customers::delete_pin))
        .route("/customers/{id}/timeline", get(customers::timeline))
        .route("/stats/queues", get(handlers::queue_stats))
        .route("/stats/agents", get(handlers::agent_stats))
        .route("/stats/intervals", get(handlers::interval_stats))
        .route("/stats/csat", get(handlers::csat_stats))
        .route("/stats/adherence", get(handlers::adherence_stats))
        .route("/reports/adherence", get(reports::adherence))
        .route("/reports/{dimension}", get(reports::report))
        .route("/planning/forecast", get(planning::plan::<{ planning::FORECAST }>))
        .route("/planning/staffing", get(planning::plan::<{ planning::STAFFING }>))
        .route("/planning/schedule", get(planning::plan::<{ planning::SCHEDULE }>))
        .route("/planning/simulated-staffing", get(planning::simulated))
        .route("/planning/what-if", post(planning::what_if))
        .route("/planning/roster", get(roster::read).post(roster::publish))
        .route("/planning/roster/draft", post(roster::draft))
        .route("/planning/roster/{agent}/{day}", put(roster::put_shift).delete(roster::delete_shift))
        .route("/workspace", get(handlers::workspace).put(handlers::update_workspace))
        .route("/workspace/daily-summary", get(rules::daily_summary).put(rules::set_daily_summary))
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/order", put(rules::order))
        .route("/rules/dry-run", post(rules::dry_run))
        .route("/rules/{id}", get(rules::get_one).put(rules::update).delete(rules::delete))
        .route("/contacts/{id}/messages", get(conversations::messages).post(conversations::send))
        .route("/contacts/{id}/recording", get(conversations::recording))
        .route("/contacts/{id}/recording/pause", post(conversations::pause_recording))
        .route("/contacts/{id}/recording/resume", post(conversations::resume_recording))
        .route(
            "/recordings/settings",
            get(conversations::recording_settings).put(conversations::put_recording_settings),
        )
        .route("/contacts/{id}/typing", post(conversations::typing))
        .route("/contacts/{id}/read", post(conversations::read))
        .route("/contacts/{id}/end", post(conversations::end))
        .route("/contacts/{id}/hold", post(conversations::hold))
        .route("/contacts/{id}/resume", post(conversations::resume))
        .route("/contacts/{id}/mute", post(conversations::mute))
        .route("/contacts/{id}/unmute", post(conversations::unmute))
        .route("/contacts/{id}/attachments", post(conversations::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/attachments/{id}", get(conversations::attachment))
        .route("/chat/settings", get(selfservice::chat_settings).put(selfservice::update_chat_settings))
        .route("/flows", get(selfservice::flows).post(selfservice::create_flow))
        .route("/flows/{id}", get(selfservice::flow).put(selfservice::update_flow))
        .route("/kb/articles", get(selfservice::articles).post(selfservice::create_article))
        .route(
            "/kb/articles/{id}",
            get(selfservice::article).put(selfservice::update_article).delete(selfservice::delete_article),
        )
        .route("/kb/search", get(selfservice::search))
        .route("/events", get(events::events))
        .route("/webhooks", get(admin::webhooks).post(admin::create_webhook))
        .route("/webhooks/{id}", delete(admin::delete_webhook))
        .route("/webhooks/{id}/deliveries", get(admin::deliveries))
        .route("/audit", get(admin::audit))
        .route("/endpoints", get(endpoints::list).post(endpoints::create))
        .route("/endpoints/{id}", get(endpoints::get_one).put(endpoints::update).delete(endpoints::delete));
    let api = document_routes::<Disposition>(api, "/dispositions");
    let api = document_routes::<CannedResponse>(api, "/canned-responses");
    let api = document_routes::<BusinessHours>(api, "/business-hours");
    let api = document_routes::<SlaPolicy>(api, "/sla-policies");
    let api = document_routes::<PlanningAdjustment>(api, "/planning/adjustments");
    let api = document_routes::<ShiftTemplate>(api, "/planning/shifts");
    let api = document_routes::<WorkRules>(api, "/planning/work-rules");
    let api = document_routes::<KbCategory>(api, "/kb/categories")
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn(errors::json_errors));
    let public = Router::new()
        .route("/chat/{key}/config", get(chat::config))
        .route("/chat/{key}/sessions", post(chat::start))
        .route("/chat/{key}/messages", post(chat::leave_message))
        .route("/chat/{key}/attachments", post(chat::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/chat/{key}/attachments/{id}", get(chat::attachment))
        .route("/chat/{key}/ws", get(chat::socket))
        .layer(axum::middleware::from_fn(chat::cors))
        .layer(axum::middleware::from_fn(errors::json_errors))
        .route("/demo", get(chat::demo))
        .route("/help/{key}", get(chat::help_page))
        .route("/help/{key}/search", get(chat::help_search))
        .route("/help/{key}/categories", get(chat::help_categories))
        .route("/help/{key}/articles/{id}", get(chat::help_article))
        .layer(axum::Extension(assets));
    Router::new()
        .nest("/api/v1", api)
        .merge(public)
        .route("/hooks/{endpoint}", get(hooks::hook).post(hooks::hook))
        .route("/health", get(handlers::health))
        .route("/ready", get(handlers::ready))
        .route("/metrics", get(edge::metrics))
        .route("/api/openapi.json", get(docs::openapi))
        .route("/api/docs", get(docs::page))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(linger::drain_refused))
        .layer(axum::middleware::from_fn(panics::catch_panic))
        .layer(axum::middleware::from_fn_with_state(service.clone(), metrics::track))
        .with_state(service)
}

/// List, create, read, replace and delete for one document kind at `path`.
fn document_routes<T: DocumentBody>(api: Router<AppState>, path: &str) -> Router<AppState> {
    api.route(path, get(documents::list::<T>).post(documents::create::<T>)).route(
        &format!("{path}/{{id}}"),
        get(documents::get_one::<T>).put(documents::update::<T>).delete(documents::delete::<T>),
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

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
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
