//! Rows as CSV for the report and planning exports: `format=csv` or
//! `Accept: text/csv`, a header line, then one line per row.

use super::ApiError;
use crate::service::ServiceError;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Whether the caller asked for CSV: `format` (json or csv), else the
/// Accept header.
pub fn wanted(format: Option<&str>, headers: &HeaderMap) -> Result<bool, ServiceError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ServiceError::invalid("format", "json or csv")),
        None => Ok(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"))),
    }
}

/// `rows` as a CSV download named `name`.csv. Columns start with `leading`
/// (those the rows have), then the rest by name; nested objects become
/// columns named `outer.inner`, the union over the rows; null is empty.
pub fn download<T: Serialize>(rows: &[T], leading: &[&str], name: &str) -> Result<Response, ApiError> {
    let body = to_csv(rows, leading)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let name = format!("attachment; filename=\"{name}.csv\"");
    let disposition = name.replace(|c: char| !c.is_ascii_graphic() && c != ' ', "_");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

fn to_csv<T: Serialize>(rows: &[T], leading: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let rows: Vec<Vec<(String, Value)>> =
        rows.iter().map(|r| serde_json::to_value(r).map(|v| flatten(&v))).collect::<Result<_, _>>()?;
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    columns.sort_by_key(|c| (leading.iter().position(|l| l == c).unwrap_or(leading.len()), c.clone()));
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
