//! Errors as JSON: `{"error": {"code": …, "message": …, "field": …}}`.
//! A client's mistake is a 4xx naming what was wrong; only our own
//! failures are 500s, and their details stay in the log.

use crate::service::ServiceError;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchboard_core::engine::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), field: None }
    }

    /// Our own failure: the details go to the log, never to the client.
    pub fn internal() -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
    }

    /// A body that is not the JSON the route takes: 400 (415 without a JSON
    /// content type, 413 when too large), naming the field serde stopped
    /// at — `steps[0].expr`, or the missing one.
    pub fn from_json_rejection(r: JsonRejection) -> Self {
        let code = match r {
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            _ => "invalid_json",
        };
        // axum answers 422 for well-formed JSON of the wrong shape; to us that
        // is invalid input like any other (docs/API.md).
        let status = if r.status() == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { r.status() };
        let path = match &r {
            // axum keeps serde_path_to_error's error a few sources down.
            JsonRejection::JsonDataError(e) => std::iter::successors(std::error::Error::source(e), |s| s.source())
                .find_map(|s| s.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>())
                .map(|e| e.path().to_string())
                .filter(|p| p != "."),
            _ => None,
        };
        let message = r.body_text();
        let named = field_named(&message);
        let field = match (path, named) {
            // "calendar: missing field `time_zone`" is about calendar.time_zone.
            (Some(path), Some(missing)) if message.contains("missing field") => Some(format!("{path}.{missing}")),
            (Some(path), _) => Some(path),
            (None, named) => named,
        };
        ApiError { status, code, message, field }
    }

    /// A body that could not be read as YAML (see `yaml.rs`).
    pub fn from_yaml(e: &serde_yaml_ng::Error) -> Self {
        let message = e.to_string();
        ApiError { status: StatusCode::BAD_REQUEST, code: "invalid_yaml", field: field_named(&message), message }
    }
}

/// The field serde's message names: "missing field `queue`", "unknown field `x`".
pub(super) fn field_named(message: &str) -> Option<String> {
    message.split('`').nth(1).filter(|_| message.contains("field")).map(str::to_string)
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            ServiceError::NotFound(_) => (S::NOT_FOUND, "not_found"),
            ServiceError::Invalid { .. } => (S::BAD_REQUEST, "invalid"),
            ServiceError::Unauthenticated => (S::UNAUTHORIZED, "unauthenticated"),
            ServiceError::Forbidden(_) => (S::FORBIDDEN, "forbidden"),
            ServiceError::Conflict(_) => (S::CONFLICT, "conflict"),
            ServiceError::RateLimited | ServiceError::TryLater(_) => (S::TOO_MANY_REQUESTS, "rate_limited"),
            ServiceError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "too_large"),
            ServiceError::Unsupported(_) => (S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ServiceError::Engine(engine) => match engine {
                EngineError::UnknownQueue(_)
                | EngineError::UnknownAgent(_)
                | EngineError::UnknownContact(_)
                | EngineError::UnknownPolicy(_) => (S::NOT_FOUND, "not_found"),
                EngineError::ChannelNotServed { .. }
                | EngineError::OverflowLoop(_)
                | EngineError::OverflowChannel { .. } => (S::BAD_REQUEST, "invalid"),
                _ => (S::CONFLICT, "conflict"),
            },
            ServiceError::Store(inner) => {
                tracing::error!(error = %inner, "store failure");
                return ApiError::internal();
            }
        };
        let field = match &e {
            ServiceError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        let message = match &e {
            ServiceError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        ApiError { status, code, message, field }
    }
}

/// The last line of the contract: a 4xx that is not JSON yet — axum's own
/// answers for a route without the method (405), a socket route asked
/// without an upgrade, a raw upload over its limit — becomes one, keeping
/// its status and text. Our own errors pass as they are.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        _ => "invalid",
    };
    // axum's texts are one short line; a body we cannot read says the status.
    let text = axum::body::to_bytes(response.into_body(), 4096).await.ok();
    let text = text.map(|b| String::from_utf8_lossy(&b).trim().to_string()).filter(|t| !t.is_empty());
    let message = text.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase());
    ApiError::new(status, code, message).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}
