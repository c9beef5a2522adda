//! Users, API tokens, agents and skills as administrators manage them
//! (service/access.rs): lists that never show a secret, and the changes
//! that take access away at once.

use super::extract::{Admin, Needs, Path};
use super::{ApiError, AppState, Auth, Body};
use crate::service::sip_accounts::SipAccountUpdate;
use crate::service::{NewToken, UserUpdate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::UserId;
use switchboard_store::UserState;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn tokens(State(s): State<AppState>, Needs(p, ..): Needs<Admin>) -> Result<Json<Value>> {
    Ok(Json(json!({ "tokens": s.api_tokens(&p).await? })))
}

pub async fn create_token(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<NewToken>,
) -> Result<(StatusCode, Json<Value>)> {
    let (token, view) = s.create_api_token(&p, b).await?;
    let mut body = json!(view);
    body["token"] = json!(token);
    body["note"] = json!("shown once; store it now");
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    name: String,
}

pub async fn rename_token(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<String>,
    Body(b): Body<Rename>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.rename_api_token(&p, &id, &b.name).await?)))
}

pub async fn revoke_token(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    s.revoke_api_token(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn update_user(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(b): Body<UserUpdate>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.update_user(&p, UserId(id), b).await?)))
}

async fn set_state(s: &AppState, p: Needs<Admin>, id: u64, state: UserState) -> Result<Json<Value>> {
    Ok(Json(json!(s.set_user_state(&p.0, UserId(id), state).await?)))
}

pub async fn disable_user(State(s): State<AppState>, p: Needs<Admin>, Path(id): Path<u64>) -> Result<Json<Value>> {
    set_state(&s, p, id, UserState::Disabled).await
}

pub async fn enable_user(State(s): State<AppState>, p: Needs<Admin>, Path(id): Path<u64>) -> Result<Json<Value>> {
    set_state(&s, p, id, UserState::Active).await
}

pub async fn delete_user(State(s): State<AppState>, p: Needs<Admin>, Path(id): Path<u64>) -> Result<Json<Value>> {
    set_state(&s, p, id, UserState::Deleted).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    password: String,
}

pub async fn reset_password(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(b): Body<NewPassword>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.reset_password(&p, UserId(id), &b.password).await?)))
}

/// The user's SIP account for their desk phone: the username only, never the password.
pub async fn sip_account(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    Ok(Json(json!(s.sip_account(&p, UserId(id)).await?)))
}

/// Sets the SIP password (and username); the answer has the username only.
pub async fn put_sip_account(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(b): Body<SipAccountUpdate>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_sip_account(&p, UserId(id), b).await?)))
}

pub async fn delete_sip_account(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
) -> Result<StatusCode> {
    s.delete_sip_account(&p, UserId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn agents(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "agents": s.agents(&p).await? })))
}

pub async fn agent(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    Ok(Json(json!(s.agent(&p, UserId(id)).await?)))
}

pub async fn skills(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "skills": s.skills(&p).await?.into_iter().map(|k| k.name).collect::<Vec<_>>() })))
}
