//! `GET /reports/{dimension}`: historical reports as JSON, or as CSV with
//! `format=csv` or `Accept: text/csv`.

use super::extract::{Needs, Path, Query, Supervisor};
use super::{ApiError, AppState};
use crate::service::ServiceError;
use crate::service::reports::intervals::Interval;
use crate::service::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, Report, ReportRequest};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
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
    let csv = match q.format.as_deref() {
        Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ServiceError::invalid("format", "json or csv").into()),
        None => headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv")),
    };
    let report = s.report(&p, &request).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let body =
        to_csv(&report).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let name = format!("attachment; filename=\"{}-{}-{}.csv\"", dimension_name(dimension), q.from, q.to);
    let disposition = name.replace(|c: char| !c.is_ascii_graphic() && c != ' ', "_");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
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

/// One line per row; nested objects (time in each state) become columns
/// named `state_seconds.<state>`, the union over the rows; empty for null.
fn to_csv(report: &Report) -> Result<String, Box<dyn std::error::Error>> {
    let rows: Vec<Vec<(String, Value)>> =
        report.rows.iter().map(|r| serde_json::to_value(r).map(|v| flatten(&v))).collect::<Result<_, _>>()?;
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    columns.sort_by_key(|c| (LEADING.iter().position(|l| l == c).unwrap_or(LEADING.len()), c.clone()));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&columns)?;
    for row in &rows {
        w.write_record(columns.iter().map(|c| match row.iter().find(|(n, _)| n == c).map(|(_, v)| v) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// A row's fields in order, objects' fields as `outer.inner`.
fn flatten(v: &Value) -> Vec<(String, Value)> {
    let Value::Object(fields) = v else { return vec![] };
    let mut out = Vec::new();
    for (k, v) in fields {
        match v {
            Value::Object(inner) => out.extend(inner.iter().map(|(i, v)| (format!("{k}.{i}"), v.clone()))),
            _ => out.push((k.clone(), v.clone())),
        }
    }
    out
}
