//! `GET /reports/{dimension}`: historical reports as JSON, or as CSV with
//! `format=csv` or `Accept: text/csv`; `GET /reports/adherence` likewise.

use super::extract::{Needs, Path, Query, Supervisor};
use super::{ApiError, AppState, Auth};
use crate::service::ServiceError;
use crate::service::reports::adherence::AdherenceRequest;
use crate::service::reports::intervals::Interval;
use crate::service::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;
use switchboard_core::ids::UserId;
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    from: String,
    to: String,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    short_abandon_seconds: Option<f64>,
    #[serde(default)]
    fcr_days: Option<f64>,
    #[serde(default)]
    format: Option<String>,
}

fn seconds(field: &str, s: Option<f64>, default: Duration) -> Result<Duration, ServiceError> {
    match s {
        None => Ok(default),
        Some(s) if s.is_finite() && (0.0..=366.0 * 86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        Some(_) => Err(ServiceError::invalid(field, "a number of seconds from 0 up to a year")),
    }
}

pub async fn report(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(dimension): Path<String>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let dimension = Dimension::parse(&dimension)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such report"))?;
    let interval = match q.interval.as_deref() {
        None => Interval::Day,
        Some(i) => {
            Interval::parse(i).ok_or_else(|| ServiceError::invalid("interval", "15m, 30m, 60m, day, week or month"))?
        }
    };
    let request = ReportRequest {
        from: q.from.parse()?,
        to: q.to.parse::<Bound>()?,
        interval,
        dimension,
        short_abandon: seconds("short_abandon_seconds", q.short_abandon_seconds, DEFAULT_SHORT_ABANDON)?,
        fcr_window: seconds("fcr_days", q.fcr_days.map(|d| d * 86_400.0), DEFAULT_FCR_WINDOW)?,
    };
    let csv = super::csv_export::wanted(q.format.as_deref(), &headers)?;
    let report = s.report(&p, &request).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    super::csv_export::download(&report.rows, &LEADING, &format!("{}-{}-{}", dimension_name(dimension), q.from, q.to))
}

fn dimension_name(d: Dimension) -> &'static str {
    match d {
        Dimension::Totals => "totals",
        Dimension::Queues => "queues",
        Dimension::Agents => "agents",
        Dimension::Channels => "channels",
        Dimension::Endpoints => "endpoints",
    }
}

/// What a line starts with; the measures follow by name.
const LEADING: [&str; 4] = ["start", "start_local", "id", "name"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdherenceQuery {
    from: String,
    to: String,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    agent: Option<u64>,
    #[serde(default)]
    format: Option<String>,
}

/// `GET /reports/adherence`: scheduled against actual per agent and
/// interval (a day by default). Agents get their own rows only.
pub async fn adherence(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<AdherenceQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let interval = match q.interval.as_deref() {
        None => Interval::Day,
        Some(i) => {
            Interval::parse(i).ok_or_else(|| ServiceError::invalid("interval", "15m, 30m, 60m, day, week or month"))?
        }
    };
    let request =
        AdherenceRequest { from: q.from.parse()?, to: q.to.parse::<Bound>()?, interval, agent: q.agent.map(UserId) };
    let csv = super::csv_export::wanted(q.format.as_deref(), &headers)?;
    let report = s.adherence(&p, &request).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    super::csv_export::download(&report.rows, &LEADING, &format!("adherence-{}-{}", q.from, q.to))
}
