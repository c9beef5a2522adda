//! `/planning/roster…`: published rosters (agents read their own shifts),
//! drafts from the week's schedules, publishing a week, and supervisors'
//! edits of one agent's shift on one day. Agents' work rules are documents
//! (`/planning/work-rules`).

use super::extract::{Needs, Path, Query, Supervisor};
use super::{ApiError, AppState, Auth, Body};
use crate::service::planning::roster::{PublishRequest, Roster, RosterRequest, ShiftInput, ShiftView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use switchboard_core::ids::UserId;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterQuery {
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    agent: Option<u64>,
}

/// `GET /planning/roster`: a week from today unless asked otherwise.
pub async fn read(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<RosterQuery>,
) -> Result<Json<Roster>, ApiError> {
    Ok(Json(s.roster(&p, q.from, q.days.unwrap_or(7), q.agent.map(UserId)).await?))
}

/// `POST /planning/roster/draft`
pub async fn draft(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Body(r): Body<RosterRequest>,
) -> Result<Json<Roster>, ApiError> {
    Ok(Json(s.draft_roster(&p, &r).await?))
}

/// `POST /planning/roster`: publish a week.
pub async fn publish(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Body(r): Body<PublishRequest>,
) -> Result<Json<Roster>, ApiError> {
    Ok(Json(s.publish_roster(&p, &r).await?))
}

/// `PUT /planning/roster/{agent}/{day}`
pub async fn put_shift(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path((agent, day)): Path<(u64, NaiveDate)>,
    Body(input): Body<ShiftInput>,
) -> Result<Json<ShiftView>, ApiError> {
    Ok(Json(s.put_roster_shift(&p, UserId(agent), day, &input).await?))
}

/// `DELETE /planning/roster/{agent}/{day}`
pub async fn delete_shift(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path((agent, day)): Path<(u64, NaiveDate)>,
) -> Result<StatusCode, ApiError> {
    s.delete_roster_shift(&p, UserId(agent), day).await?;
    Ok(StatusCode::NO_CONTENT)
}
