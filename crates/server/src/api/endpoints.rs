//! Endpoints (the ways in: chat widgets, numbers, mailboxes, messaging
//! accounts): administrators only. Credentials go in and never come out.

use super::extract::{Admin, Needs, Path};
use super::{ApiError, AppState, Body};
use crate::service::endpoints::{Endpoint, EndpointInput};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use switchboard_core::ids::EndpointId;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn list(State(s): State<AppState>, Needs(p, ..): Needs<Admin>) -> Result<Json<Value>> {
    Ok(Json(json!({ "endpoints": s.endpoints(&p).await? })))
}

pub async fn create(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<EndpointInput>,
) -> Result<(StatusCode, Json<Endpoint>)> {
    Ok((StatusCode::CREATED, Json(s.create_endpoint(&p, b).await?)))
}

pub async fn get_one(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<EndpointId>,
) -> Result<Json<Endpoint>> {
    Ok(Json(s.endpoint(&p, id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<EndpointId>,
    Body(b): Body<EndpointInput>,
) -> Result<Json<Endpoint>> {
    Ok(Json(s.update_endpoint(&p, id, b).await?))
}

pub async fn delete(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<EndpointId>,
) -> Result<StatusCode> {
    s.delete_endpoint(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
