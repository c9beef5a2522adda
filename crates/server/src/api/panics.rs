//! The last line of defence: a panic inside one request's handler answers
//! that request with a 500 and leaves the server serving everyone else.
//!
//! Without it hyper drops the connection, so the client sees a reset rather
//! than the documented error shape, and the panic message goes to stderr
//! without the request that caused it.

use super::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Middleware: runs the rest of the stack, turning a panic into a logged 500.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    match (CatchUnwind { inner: Box::pin(next.run(req)) }).await {
        Ok(response) => response,
        Err(payload) => {
            tracing::error!(%method, %path, panic = panic_message(payload.as_ref()), "request handler panicked");
            ApiError::internal().into_response()
        }
    }
}

/// A future that stops a panic from any of its polls.
struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Unwind safety: after a panic the inner future is never polled again,
        // and the state it shares (the service's locks) recovers on its own.
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_json_and_the_server_keeps_serving() {
        async fn boom() -> &'static str {
            tokio::task::yield_now().await;
            panic!("boom in a handler")
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(catch_panic));
        let base = serve(app).await;
        let client = reqwest::Client::new();
        for _ in 0..3 {
            let r = client.get(format!("{base}/boom")).send().await.unwrap();
            assert_eq!(r.status(), 500);
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "internal");
            assert!(body["error"]["message"].is_string());
            assert!(!body.to_string().contains("boom"), "the panic stays in the log: {body}");
            let r = client.get(format!("{base}/fine")).send().await.unwrap();
            assert_eq!((r.status().as_u16(), r.text().await.unwrap().as_str()), (200, "fine"));
        }
    }

    #[test]
    fn names_the_panic() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42), "(not a string)");
    }
}
