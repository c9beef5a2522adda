//! The customer's side of the chat channel (no login: a widget key names
//! the workspace, a signed session token the conversation), the demo shop
//! and the public help center.

use super::extract::{Path, Query};
use super::{ApiError, AppState, Body};
use crate::service::ServiceError;
use crate::service::chat::{ChatSession, CustomerFrame, LeftMessage, StartChat};
use crate::service::fanout::{Live, Topic};
use crate::service::kinds::Kind;
use crate::web::Assets;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_store::LoggedEvent;
use tokio::sync::broadcast::error::RecvError;

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Deserialize)]
pub struct SessionQuery {
    session: String,
    #[serde(default)]
    after: u64,
}

pub async fn config(State(s): State<AppState>, Path(key): Path<String>) -> Result<Json<Value>> {
    Ok(Json(json!(s.chat_config(&key).await?)))
}

/// Refuses a start from `peer` beyond its allowance (429). The address is
/// the TCP peer's: behind a reverse proxy every visitor shares the proxy's.
fn count_start(s: &AppState, peer: SocketAddr) -> Result<()> {
    if s.chat().starts.allow(peer.ip(), s.now()) { Ok(()) } else { Err(ServiceError::RateLimited.into()) }
}

pub async fn start(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(key): Path<String>,
    Body(b): Body<StartChat>,
) -> Result<(StatusCode, Json<Value>)> {
    count_start(&s, peer)?;
    Ok((StatusCode::CREATED, Json(json!(s.start_chat(&key, b).await?))))
}

pub async fn leave_message(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(key): Path<String>,
    Body(b): Body<LeftMessage>,
) -> Result<(StatusCode, Json<Value>)> {
    count_start(&s, peer)?;
    let contact = s.leave_message(&key, b).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "contact": contact }))))
}

/// The name and type of an upload, from its headers. Header values are
/// ASCII, so clients percent-encode other names (`r%C3%A9sum%C3%A9.pdf`).
pub fn upload_meta(headers: &HeaderMap) -> (String, String) {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (percent_decoded(&get("x-filename")), get(header::CONTENT_TYPE.as_str()))
}

/// `%XX` escapes decoded as UTF-8; anything malformed is kept as it was.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The widget runs on customers' own sites: the chat endpoints answer any
/// origin. No cookies are involved (the session is in the URL), so `*` lets
/// no other site act with a visitor's credentials.
pub async fn cors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let preflight = req.method() == axum::http::Method::OPTIONS;
    let mut r = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(req).await };
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if preflight {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, x-filename"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        assert_eq!(super::percent_decoded("r%C3%A9sum%C3%A9.pdf"), "résumé.pdf");
        assert_eq!(super::percent_decoded("100%.txt"), "100%.txt");
        assert_eq!(super::percent_decoded("%FF%FE"), "%FF%FE");
    }
}

pub async fn upload(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<SessionQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let session = s.chat_session(&key, &q.session).await?;
    let (name, content_type) = upload_meta(&headers);
    let a = s.customer_upload(&session, &name, &content_type, bytes.to_vec()).await?;
    let url = format!("/chat/{key}/attachments/{}?session={}", a.id, q.session);
    let mut v = json!(a);
    v["url"] = json!(url);
    Ok((StatusCode::CREATED, Json(v)))
}

/// A stored file as a download: never rendered inline as HTML (the
/// accepted types exclude it, and `nosniff` stops a browser guessing).
pub fn file_response(a: switchboard_store::Attachment) -> Response {
    // Files received by email carry whatever type their sender wrote: only
    // pictures a browser cannot run anything in are shown in place, and a
    // sandbox keeps anything opened anyway from acting as this site.
    let shown = ["image/png", "image/jpeg", "image/gif", "image/webp"].contains(&a.content_type.as_str());
    let disposition = if shown { "inline" } else { "attachment" };
    let name: String = a.name.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| *c != '"').collect();
    let mut r = a.bytes.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    r
}

pub async fn attachment(
    State(s): State<AppState>,
    Path((key, id)): Path<(String, u64)>,
    Query(q): Query<SessionQuery>,
) -> Result<Response> {
    let session = s.chat_session(&key, &q.session).await?;
    Ok(file_response(s.customer_attachment(&session, id).await?))
}

pub async fn socket(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<SessionQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response> {
    let session = s.chat_session(&key, &q.session).await?;
    Ok(ws.read_buffer_size(4096).write_buffer_size(4096).on_upgrade(move |socket| async move {
        let (ws, contact) = (session.workspace, session.contact);
        s.chat().presence.opened(contact);
        converse(s.clone(), session, q.after, socket).await;
        // Gone for good unless a socket comes back within the grace period.
        s.chat().presence.closed(ws, contact, s.now());
    }))
}

async fn send(socket: &mut WebSocket, v: &Value) -> bool {
    socket.send(Message::Text(v.to_string().into())).await.is_ok()
}

/// How often a waiting customer hears their position again.
const POSITION_EVERY: Duration = Duration::from_secs(5);

/// The customer's socket: the backlog after `last`, the status, then live
/// messages, signals and status changes; frames from the customer go to
/// the service one at a time.
async fn converse(s: AppState, session: ChatSession, mut last: u64, mut socket: WebSocket) {
    // Follow before reading the backlog, so nothing falls between.
    let mut live = s.fanout().follow(Topic::Conversation(session.contact));
    let backlog = match s.customer_backlog(&session, last).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "chat backlog");
            return;
        }
    };
    for m in backlog {
        last = last.max(m["id"].as_u64().unwrap_or(0));
        if !send(&mut socket, &m).await {
            return;
        }
    }
    let mut waiting = false;
    if !status(&s, &session, &mut socket, &mut waiting).await {
        return;
    }
    let mut seen = super::seen::Seen::after(last);
    let mut tick = tokio::time::interval(POSITION_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let answer = match serde_json::from_str::<CustomerFrame>(&text) {
                        Ok(frame) => s.customer_frame(&session, frame).await.err().map(|e| error_frame(&e)),
                        Err(e) => Some(json!({ "type": "error", "message": format!("not a frame: {e}") })),
                    };
                    if let Some(err) = answer && !send(&mut socket, &err).await {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            heard = live.recv() => match heard {
                Ok(Live::Event(e)) => {
                    if e.workspace != session.workspace || !seen.first(e.id) {
                        continue;
                    }
                    if !relay(&s, &session, &e, &mut socket, &mut waiting).await {
                        return;
                    }
                }
                Ok(Live::Signal(sig)) => {
                    if sig.workspace != session.workspace || sig.payload["from"] == "customer" {
                        continue;
                    }
                    let mut frame = sig.payload.clone();
                    frame["type"] = json!(sig.kind);
                    if !send(&mut socket, &frame).await {
                        return;
                    }
                }
                // Too slow a reader: close; the widget resumes from its last id.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            },
            // Only a place in line changes without an event of the
            // conversation's own (others ahead are answered or leave).
            _ = tick.tick(), if waiting => {
                if !status(&s, &session, &mut socket, &mut waiting).await {
                    return;
                }
            }
        }
    }
}

fn error_frame(e: &ServiceError) -> Value {
    json!({ "type": "error", "message": e.to_string() })
}

/// Sends where the conversation is, and a rating request once an agent's
/// chat has ended; notes whether the customer is waiting in line. False
/// when the socket is gone.
async fn status(s: &AppState, session: &ChatSession, socket: &mut WebSocket, waiting: &mut bool) -> bool {
    let Ok(v) = s.chat_status(session).await else { return true };
    *waiting = v["state"] == "waiting";
    let ended = v["state"] == "ended";
    if !send(socket, &v).await {
        return false;
    }
    if ended && matches!(s.wants_rating(session).await, Ok(true)) {
        return send(socket, &json!({ "type": "csat" })).await;
    }
    true
}

/// One committed event of the conversation, as the customer sees it.
async fn relay(
    s: &AppState,
    session: &ChatSession,
    e: &LoggedEvent,
    socket: &mut WebSocket,
    waiting: &mut bool,
) -> bool {
    match Kind::parse(&e.kind) {
        Some(Kind::Message) => {
            let url = |a: u64| format!("/chat/{}/attachments/{a}?session={}", session.key, session.token);
            send(socket, &crate::service::chat::frame(e, url)).await
        }
        Some(k) if k.changes_customer_status() => status(s, session, socket, waiting).await,
        _ => true,
    }
}

// ----- the demo shop and the help center ------------------------------------

/// `/demo`: the demo shop with the first workspace's widget.
pub async fn demo(State(s): State<AppState>, Extension(assets): Extension<Arc<Assets>>) -> Result<Response> {
    let ws = s.store().workspaces().await.map_err(ServiceError::from)?.into_iter().next();
    let Some(ws) = ws else { return Err(ServiceError::NotFound("workspace".into()).into()) };
    let key = s.chat_settings(ws.id).await?.widget_key;
    Ok(page_with_key(&assets, "demo.html", &key))
}

/// A page with `{{WIDGET_KEY}}` filled in.
fn page_with_key(assets: &Assets, file: &str, key: &str) -> Response {
    let Some(bytes) = assets.get(file) else { return StatusCode::NOT_FOUND.into_response() };
    let html = String::from_utf8_lossy(&bytes).replace("{{WIDGET_KEY}}", key);
    let mut r = html.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    crate::web::page_headers(r.headers_mut(), crate::web::Framing::Anyone);
    r
}

pub async fn help_page(
    State(s): State<AppState>,
    Extension(assets): Extension<Arc<Assets>>,
    Path(key): Path<String>,
) -> Result<Response> {
    s.chat_workspace(&key).await?;
    Ok(page_with_key(&assets, "help.html", &key))
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

pub async fn help_search(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<Search>,
) -> Result<Json<Value>> {
    let (ws, _) = s.chat_workspace(&key).await?;
    if q.q.trim().is_empty() {
        let articles = s.articles(ws, true).await?;
        return Ok(Json(json!({ "articles": articles.iter().map(public_article).collect::<Vec<_>>() })));
    }
    Ok(Json(json!({ "hits": s.search_articles(ws, &q.q, true, q.limit.unwrap_or(10)).await? })))
}

fn public_article(a: &switchboard_store::Article) -> Value {
    json!({ "id": a.id, "title": a.title, "body": a.body, "category": a.category, "updated_at": a.updated_at })
}

pub async fn help_article(State(s): State<AppState>, Path((key, id)): Path<(String, u64)>) -> Result<Json<Value>> {
    let (ws, _) = s.chat_workspace(&key).await?;
    Ok(Json(public_article(&s.article(ws, id, true).await?)))
}

pub async fn help_categories(State(s): State<AppState>, Path(key): Path<String>) -> Result<Json<Value>> {
    let (ws, _) = s.chat_workspace(&key).await?;
    let categories = s.documents::<crate::service::documents::KbCategory>(ws).await?;
    Ok(Json(json!({ "categories": categories })))
}
