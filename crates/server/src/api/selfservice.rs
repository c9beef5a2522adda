//! Configuration of self-service: the chat widget, bot flows and the
//! knowledge base.

use super::extract::{Admin, Needs, Path, Query, Supervisor};
use super::yaml::{JsonOrYaml, wants_yaml, yaml_response};
use super::{ApiError, AppState, Auth, Body};
use crate::service::ServiceError;
use crate::service::chat::{ChatSettingsUpdate, ChatSettingsView};
use crate::service::flows::FlowUpdate;
use crate::service::kb::ArticleBody;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_store::Role;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn chat_settings(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    crate::service::require(&p, Role::Admin)?;
    Ok(Json(json!(ChatSettingsView::from(s.chat_settings(p.workspace).await?))))
}

pub async fn update_chat_settings(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<ChatSettingsUpdate>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.update_chat_settings(&p, b).await?)))
}

pub async fn flows(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "flows": s.flows(p.workspace).await? })))
}

/// A flow; in YAML, as a file to edit and save back: its name and definition.
pub async fn flow(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Result<Response> {
    let flow = s.flow(p.workspace, id).await?;
    Ok(if wants_yaml(&headers) {
        yaml_response(&json!({ "name": flow.name, "definition": flow.definition }))
    } else {
        Json(json!(flow)).into_response()
    })
}

pub async fn create_flow(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    JsonOrYaml(b): JsonOrYaml<FlowUpdate>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.put_flow(&p, None, b).await?))))
}

pub async fn update_flow(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    JsonOrYaml(b): JsonOrYaml<FlowUpdate>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_flow(&p, Some(id), b).await?)))
}

pub async fn articles(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "articles": s.articles(p.workspace, false).await? })))
}

pub async fn article(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    Ok(Json(json!(s.article(p.workspace, id, false).await?)))
}

pub async fn create_article(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Body(b): Body<ArticleBody>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.put_article(&p, None, b).await?))))
}

pub async fn update_article(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(id): Path<u64>,
    Body(b): Body<ArticleBody>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_article(&p, Some(id), b).await?)))
}

pub async fn delete_article(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.delete_article(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct Search {
    q: String,
    limit: Option<u32>,
}

pub async fn search(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<Search>) -> Result<Json<Value>> {
    if q.q.trim().is_empty() {
        return Err(ServiceError::invalid("q", "must not be empty").into());
    }
    Ok(Json(json!({ "hits": s.search_articles(p.workspace, &q.q, false, q.limit.unwrap_or(10)).await? })))
}
