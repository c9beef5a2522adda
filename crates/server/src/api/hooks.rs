//! `GET|POST /hooks/{endpoint}`: providers' webhooks. The server knows no
//! channel: it hands the request, as plain method, headers, query and body,
//! to the service, which finds the endpoint's channel. No auth header is
//! asked for: the provider's signature is the auth, and the channel checks it.

use super::{ApiError, AppState};
use crate::service::conversation::HookRequest;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use switchboard_core::ids::EndpointId;

pub async fn hook(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Ok(id) = endpoint.parse::<u64>() else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint").into_response();
    };
    let request = HookRequest {
        method: method.as_str().to_string(),
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        query: query.as_deref().map(parse_query).unwrap_or_default(),
        body: body.to_vec(),
    };
    let answer = s.hook(EndpointId(id), request).await;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(n, v);
        }
    }
    response
}

/// `a=1&b=x%20y` as pairs, decoded (`+` is a space, as forms send it).
fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes()).into_owned().collect()
}
