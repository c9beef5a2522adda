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

    pub fn from_json_rejection(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match r {
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            _ => "invalid_json",
        };
        let message = r.body_text();
        let field = field_named(&message);
        ApiError { status, code, message, field }
    }

    /// A body that could not be read as YAML (see `yaml.rs`).
    pub fn from_yaml(e: &serde_yaml_ng::Error) -> Self {
        let message = e.to_string();
        ApiError { status: StatusCode::BAD_REQUEST, code: "invalid_yaml", field: field_named(&message), message }
    }
}

/// The field serde's message names: "missing field `queue`", "unknown field `x`".
fn field_named(message: &str) -> Option<String> {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}
