//! The API described: the OpenAPI 3.1 document (`openapi.json`, written by
//! hand beside this file and embedded in the binary) and a page that
//! renders it (`docs.html`, also embedded). Nothing is fetched from
//! elsewhere, at build time or at run time.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub const OPENAPI: &str = include_str!("openapi.json");
const PAGE: &str = include_str!("docs.html");

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /api/docs`: the page loads only its own inline script and style
/// and the document above.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            ),
        ],
        PAGE,
    )
        .into_response()
}
