//! Automation rules and the daily summary: administrators only.

use super::extract::{Admin, Needs, Path};
use super::{ApiError, AppState, Auth, Body};
use crate::service::daily_summary::DailySummarySettings;
use crate::service::rules::{DryRun, RuleOrder};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use switchboard_core::rules::Rule;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "rules": s.rules(&p).await? })))
}

pub async fn get_one(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    Ok(Json(json!(s.rule(&p, id).await?)))
}

pub async fn create(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(rule): Body<Rule>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.put_rule(&p, None, rule).await?))))
}

pub async fn update(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(rule): Body<Rule>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_rule(&p, Some(id), rule).await?)))
}

pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.delete_rule(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn order(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(order): Body<RuleOrder>,
) -> Result<Json<Value>> {
    Ok(Json(json!({ "rules": s.order_rules(&p, order).await? })))
}

pub async fn dry_run(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(run): Body<DryRun>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.dry_run_rule(&p, run).await?)))
}

pub async fn daily_summary(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!(s.daily_summary(&p).await?)))
}

pub async fn set_daily_summary(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(settings): Body<DailySummarySettings>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.set_daily_summary(&p, settings).await?)))
}
