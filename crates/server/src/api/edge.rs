//! What the server believes about the connection in front of it: the
//! client's address and scheme (from a trusted reverse proxy only), the
//! session cookie's attributes, and who may read `/metrics`.

use super::{ApiError, AppState};
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Edge {
    /// The proxy whose `X-Forwarded-Proto` and `X-Forwarded-For` are
    /// believed; nobody else's are.
    pub trusted_proxy: Option<IpAddr>,
    /// The bearer token `/metrics` answers on the main listener; without
    /// one it is not served there.
    pub metrics_token: Option<String>,
}

impl Edge {
    fn forwarded<'h>(&self, peer: SocketAddr, headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
        if self.trusted_proxy != Some(peer.ip()) {
            return None;
        }
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The client's address: the TCP peer's, or behind the trusted proxy the
    /// last address of `X-Forwarded-For` (the one that proxy appended).
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        self.forwarded(peer, headers, "x-forwarded-for")
            .and_then(|list| list.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok())
            .unwrap_or(peer.ip())
    }

    /// Whether the client reached the server over HTTPS. The server speaks
    /// plain HTTP itself, so only the trusted proxy can say so.
    pub fn https(&self, peer: SocketAddr, headers: &HeaderMap) -> bool {
        self.forwarded(peer, headers, "x-forwarded-proto").is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }
}

/// The `Set-Cookie` value of the session: HttpOnly (no script reads it),
/// SameSite=Strict (no other site's request carries it), `Secure` when the
/// client came over HTTPS; `clear` expires it.
pub fn session_cookie(value: &str, secure: bool, clear: bool) -> String {
    let mut cookie = format!("{}={value}; HttpOnly; SameSite=Strict; Path=/", super::SESSION_COOKIE);
    if secure {
        cookie.push_str("; Secure");
    }
    if clear {
        cookie.push_str("; Max-Age=0");
    }
    cookie
}

/// The main listener's `/metrics`: only with the metrics token, because
/// the figures name every workspace's queues.
pub async fn metrics(State(s): State<AppState>, Extension(edge): Extension<Arc<Edge>>, parts: Parts) -> Response {
    let Some(expected) = &edge.metrics_token else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "metrics are not served on this address: set metrics_listen or metrics_token",
        )
        .into_response();
    };
    match super::bearer(&parts) {
        Some(given) if same(given.as_bytes(), expected.as_bytes()) => super::metrics::metrics(State(s)).await,
        _ => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "the metrics token is required").into_response()
        }
    }
}

/// Equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Serves `/metrics` alone at `at` (meant for an address only the monitoring
/// can reach) until `stop` changes.
pub async fn serve_metrics(
    service: AppState,
    at: SocketAddr,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(at).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/metrics", get(super::metrics::metrics)).with_state(service);
    let task = tokio::spawn(async move {
        let graceful = async move {
            let _ = stop.changed().await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(graceful).await {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    Ok((addr, task))
}

/// The caller's address and scheme as [`Edge`] sees them, for handlers.
pub struct Client {
    pub ip: IpAddr,
    pub https: bool,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let edge = parts.extensions.get::<Arc<Edge>>().cloned().unwrap_or_default();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |ConnectInfo(a)| *a);
        Ok(Client { ip: edge.client_ip(peer, &parts.headers), https: edge.https(peer, &parts.headers) })
    }
}
