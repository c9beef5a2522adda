//! `GET /planning/{forecast,staffing,schedule}`: a queue's plan from the
//! workspace's history, as JSON or, with `format=csv`, one line per
//! interval (the schedule's CSV is its shifts).
//! `GET /planning/simulated-staffing`: every queue staffed together on the
//! simulator. `POST /planning/what-if`
//! replays a past day with changed staffing. Adjustments and shift
//! templates are documents (`/planning/adjustments`, `/planning/shifts`).

use super::extract::{Needs, Query, Supervisor};
use super::{ApiError, AppState, Body};
use crate::service::ServiceError;
use crate::service::planning::simulated::{SEARCH_BUDGET, SimulatedRequest, SimulatedStaffing};
use crate::service::planning::whatif::WhatIfRequest;
use crate::service::planning::{Depth, Planning, PlanningRequest};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use switchboard_core::ids::QueueId;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    queue: u64,
    #[serde(default)]
    weeks: Option<u32>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    sl_target: Option<f64>,
    #[serde(default)]
    shrinkage: Option<f64>,
    #[serde(default)]
    format: Option<String>,
}

/// What a line of the intervals' CSV starts with.
const LEADING: [&str; 3] = ["start", "start_local", "offered"];

/// The depths of `plan`, as its const parameter (one handler per route).
pub const FORECAST: u8 = 0;
pub const STAFFING: u8 = 1;
pub const SCHEDULE: u8 = 2;

/// `GET /planning/forecast`, `/staffing` or `/schedule` by `DEPTH`.
pub async fn plan<const DEPTH: u8>(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Query(q): Query<PlanQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let depth = match DEPTH {
        FORECAST => Depth::Forecast,
        STAFFING => Depth::Staffing,
        _ => Depth::Schedule,
    };
    let request = PlanningRequest {
        queue: QueueId(q.queue),
        weeks: q.weeks.unwrap_or(1),
        interval_minutes: interval_minutes(q.interval.as_deref())?,
        sl_target: q.sl_target,
        shrinkage: q.shrinkage.unwrap_or(0.3),
        depth,
    };
    let csv = super::csv_export::wanted(q.format.as_deref(), &headers)?;
    let planning: Planning = s.planning(&p, &request).await?;
    if !csv {
        return Ok(Json(planning).into_response());
    }
    let name = |what: &str| format!("{what}-{}", planning.queue_name);
    match (depth, &planning.schedule) {
        (Depth::Schedule, Some(schedule)) => {
            super::csv_export::download(&schedule.shifts, &["start", "start_local", "template"], &name("schedule"))
        }
        (Depth::Forecast, _) => super::csv_export::download(&planning.intervals, &LEADING, &name("forecast")),
        _ => super::csv_export::download(&planning.intervals, &LEADING, &name("staffing")),
    }
}

/// `15m`, `30m` (the default) or `60m`.
fn interval_minutes(text: Option<&str>) -> Result<u32, ServiceError> {
    match text {
        None | Some("30m") => Ok(30),
        Some("15m") => Ok(15),
        Some("60m") => Ok(60),
        Some(_) => Err(ServiceError::invalid("interval", "15m, 30m or 60m")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedQuery {
    #[serde(default)]
    day: Option<NaiveDate>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    seeds: Option<u32>,
    #[serde(default)]
    sl_target: Option<f64>,
    #[serde(default)]
    shrinkage: Option<f64>,
}

/// Simulated days per try unless asked: enough to judge an interval with a
/// few contacts, few enough to answer the page within the budget.
const DEFAULT_SEEDS: u32 = 8;

/// `GET /planning/simulated-staffing`: a day's multi-skill staffing of
/// every queue, searched on the simulator within `SEARCH_BUDGET`.
pub async fn simulated(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Query(q): Query<SimulatedQuery>,
) -> Result<Json<SimulatedStaffing>, ApiError> {
    let request = SimulatedRequest {
        day: q.day,
        interval_minutes: interval_minutes(q.interval.as_deref())?,
        seeds: q.seeds.unwrap_or(DEFAULT_SEEDS),
        sl_target: q.sl_target,
        shrinkage: q.shrinkage.unwrap_or(0.3),
        budget: SEARCH_BUDGET,
    };
    Ok(Json(s.simulated_staffing(&p, &request).await?))
}

pub async fn what_if(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Body(request): Body<WhatIfRequest>,
) -> Result<Json<crate::service::planning::whatif::WhatIf>, ApiError> {
    Ok(Json(s.what_if(&p, &request).await?))
}
