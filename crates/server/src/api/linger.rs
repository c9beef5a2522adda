//! A request refused as too large has its declared body read and thrown away
//! before the 413 goes out. Otherwise the connection closes with the
//! client's upload still arriving, the kernel answers it with a reset, and
//! the client — a browser attaching a large file — sees a broken connection
//! instead of our "too large" error. This is the lingering close that web
//! servers do, bounded in bytes and in time so it cannot be used to hold a
//! connection open.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The most a refused request may still send: beyond it the client gets the
/// reset, as it would from any server.
const MOST: u64 = 32 * 1024 * 1024;
/// How long the rest of a refused body may take to arrive.
const PATIENCE: Duration = Duration::from_secs(10);

/// The body stays reachable from here after the handler drops its end.
struct Shared(Arc<Mutex<Body>>);

impl HttpBody for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let mut body = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Pin::new(&mut *body).poll_frame(cx)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).size_hint()
    }
}

/// Middleware: passes the request on, and reads out what is left of a body
/// the answer refused with 413.
pub async fn drain_refused(req: Request, next: Next) -> Response {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // No route takes less than the general limit, so a body declared within
    // it is never refused as too large: it passes untouched.
    if declared.is_none_or(|n| n <= super::BODY_LIMIT as u64) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = Arc::new(Mutex::new(body));
    let response = next.run(Request::from_parts(parts, Body::new(Shared(body.clone())))).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && declared.is_some_and(|n| n <= MOST) {
        let _ = tokio::time::timeout(PATIENCE, drain(&body)).await;
    }
    response
}

async fn drain(body: &Mutex<Body>) {
    let mut read = 0u64;
    while read <= MOST {
        let frame = std::future::poll_fn(|cx| {
            let mut body = body.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Pin::new(&mut *body).poll_frame(cx)
        })
        .await;
        match frame {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
            _ => return,
        }
    }
}
