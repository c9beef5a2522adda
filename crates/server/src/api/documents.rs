//! The routes of every document kind (dispositions, canned responses,
//! business hours, knowledge-base categories), written once.

use super::extract::{Needs, Path};
use super::{ApiError, AppState, Auth, Body};
use crate::service::documents::DocumentBody;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, ApiError>;

pub async fn list<T: DocumentBody>(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ T::PLURAL: s.documents::<T>(p.workspace).await? })))
}

pub async fn get_one<T: DocumentBody>(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.document::<T>(p.workspace, id).await?)))
}

pub async fn create<T: DocumentBody>(
    State(s): State<AppState>,
    Needs(p, ..): Needs<T>,
    Body(body): Body<T>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.put_document(&p, None, body).await?))))
}

pub async fn update<T: DocumentBody>(
    State(s): State<AppState>,
    Needs(p, ..): Needs<T>,
    Path(id): Path<u64>,
    Body(body): Body<T>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_document(&p, Some(id), body).await?)))
}

pub async fn delete<T: DocumentBody>(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
) -> Result<StatusCode> {
    s.delete_document::<T>(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
