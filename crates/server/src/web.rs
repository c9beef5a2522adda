//! The web UI: the agent desktop, wallboard, admin pages, demo shop, help
//! center and chat widget, embedded in the binary by `build.rs`.
//!
//! With [`Options::assets_dir`](crate::Options) set the files are read from
//! that directory on every request instead, so the pages can be edited
//! without rebuilding; nothing else changes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Where the pages come from.
#[derive(Clone, Debug, Default)]
pub struct Assets {
    dir: Option<PathBuf>,
}

impl Assets {
    pub fn new(dir: Option<PathBuf>) -> Self {
        Assets { dir }
    }

    /// The file at `path` (relative to the assets root), if there is one.
    /// Paths with `..` or absolute parts are refused, so a request cannot
    /// reach outside the root when serving from disk.
    pub fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            return None;
        }
        match &self.dir {
            Some(dir) => std::fs::read(dir.join(path)).ok().map(Cow::Owned),
            None => embedded::ASSETS.iter().find(|(name, _)| *name == path).map(|(_, bytes)| Cow::Borrowed(*bytes)),
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// A file as a response, or 404.
pub fn serve(assets: &Assets, path: &str) -> Response {
    match assets.get(path) {
        Some(bytes) => {
            let mut response = bytes.into_owned().into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
            // Pages change with the binary; a short cache keeps upgrades visible.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            if path.ends_with(".html") {
                page_headers(headers, Framing::Nobody);
            }
            response
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Who may show a page in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// The staff pages: nobody, so no other site can overlay them.
    Nobody,
    /// The customer's pages (demo shop, help center): any site may embed them.
    Anyone,
}

/// The pages load scripts, styles, images and sockets from this origin only,
/// and run no inline script or style (there are none: scripts are modules
/// under `/assets`). Images may also be `data:` and `blob:` URLs
/// (attachments shown before upload, icons).
macro_rules! page_policy {
    () => {
        concat!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; ",
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
        )
    };
}

/// The security headers of an HTML page: its Content-Security-Policy, no
/// MIME sniffing, no referrer sent to other sites, and who may frame it.
pub fn page_headers(headers: &mut HeaderMap, framing: Framing) {
    let policy = match framing {
        Framing::Nobody => concat!(page_policy!(), "; frame-ancestors 'none'"),
        Framing::Anyone => page_policy!(),
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if framing == Framing::Nobody {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// The routes of the pages; `/demo` and `/help/{key}` are added by the
/// caller, which knows the workspaces.
pub fn router<St: Clone + Send + Sync + 'static>(assets: Arc<Assets>) -> Router<St> {
    let page = |file: &'static str| {
        let assets = assets.clone();
        get(move || async move { serve(&assets, file) })
    };
    Router::new()
        .route("/", page("index.html"))
        .route("/desktop", page("desktop.html"))
        .route("/wallboard", page("wallboard.html"))
        .route("/admin", page("admin.html"))
        .route("/reports", page("reports.html"))
        .route("/planning", page("planning.html"))
        .route("/widget.js", page("widget.js"))
        .route("/assets/{*path}", get(asset).with_state(assets.clone()))
}

async fn asset(State(assets): State<Arc<Assets>>, Path(path): Path<String>) -> Response {
    serve(&assets, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_root() {
        let dir = std::env::temp_dir().join(format!("sb-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("js")).unwrap();
        std::fs::write(dir.join("js/a.js"), "x").unwrap();
        let assets = Assets::new(Some(dir.join("js")));
        assert_eq!(assets.get("a.js").as_deref(), Some(&b"x"[..]));
        assert!(assets.get("../js/a.js").is_none());
        assert!(assets.get("/etc/passwd").is_none());
        assert!(assets.get("./a.js").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn embedded_pages_are_there() {
        let assets = Assets::default();
        assert!(assets.get("no/such/file.js").is_none());
        assert_eq!(content_type("desktop.html"), "text/html; charset=utf-8");
    }
}
