//! The HTTP side of the metrics: timing every request and serving `/metrics`.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Times every request, by the template of the route it matched
/// (`unmatched` for requests no route took).
pub async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    // Clients choose methods freely; only the standard ones get series of their own.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS") => m,
        _ => "OTHER",
    }
    .to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    s.observed().request(&route, &method, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: no authentication (bind it to a private address or
/// filter it at the proxy if the figures are sensitive).
pub async fn metrics(State(s): State<AppState>) -> Response {
    let gauges = s.gauges().await;
    let text = switchboard_service::metrics::render(&gauges, s.observed());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}
