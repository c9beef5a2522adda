//! Webhooks and the audit log: administrators only.

use super::extract::{Admin, Needs, Path, Query};
use super::{ApiError, AppState, Auth, Body};
use crate::service::NewWebhook;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, ApiError>;

/// `?after=&limit=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    after: Option<u64>,
    limit: Option<u32>,
}

pub async fn create_webhook(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<NewWebhook>,
) -> Result<(StatusCode, Json<Value>)> {
    let (hook, secret) = s.create_webhook(&p, b).await?;
    let mut body = json!(hook);
    body["secret"] = json!(secret);
    body["note"] = json!("the secret is shown once; store it now");
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn webhooks(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "webhooks": s.webhooks(&p).await? })))
}

pub async fn delete_webhook(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.delete_webhook(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deliveries(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Query(q): Query<Page>,
) -> Result<Json<Value>> {
    if q.after.is_some() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "deliveries take `limit` only"));
    }
    Ok(Json(json!({ "deliveries": s.deliveries(&p, id, q.limit.unwrap_or(100)).await? })))
}

pub async fn audit(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<Page>) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(100);
    let entries = s.audit_log(&p, q.after.unwrap_or(0), limit).await?;
    let next = (entries.len() as u32 >= limit.clamp(1, 500)).then(|| entries.last().map(|e| e.id)).flatten();
    Ok(Json(json!({ "entries": entries, "next_after": next })))
}
