//! The agent's side of a conversation: messages, typing, read marks,
//! attachments, ending a chat, a call's recording and how long recordings are kept.

use super::chat::{file_response, upload_meta};
use super::extract::{Admin, Needs, Path};
use super::{ApiError, AppState, Auth, Body};
use crate::service::conversation::RecordingSettings;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::ContactId;
use switchboard_service::conversation::{Addressing, Reply};

type Result<T> = std::result::Result<T, ApiError>;

/// The contact's recording as `audio/wav`: its agent and supervisors.
pub async fn recording(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<impl IntoResponse> {
    let wav = s.recording(&p, ContactId(id)).await?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav))
}

/// The agent on the call pauses its recording (card numbers are read out): `204`.
pub async fn pause_recording(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.pause_recording(&p, ContactId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The agent resumes it: `204`.
pub async fn resume_recording(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.pause_recording(&p, ContactId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long recordings are kept (supervisors read it, admins set it).
pub async fn recording_settings(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!(s.recording_settings(&p).await?)))
}

pub async fn put_recording_settings(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<RecordingSettings>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_recording_settings(&p, b).await?)))
}

pub async fn messages(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    Ok(Json(json!(s.messages(&p, ContactId(id)).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outgoing {
    #[serde(default)]
    text: String,
    html: Option<String>,
    attachment: Option<u64>,
    /// More files, on channels that carry several.
    #[serde(default)]
    attachments: Vec<u64>,
    // Not flattened from `Addressing`: serde cannot deny unknown fields then.
    subject: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    cc: Vec<String>,
    #[serde(default)]
    bcc: Vec<String>,
}

pub async fn send(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<Outgoing>,
) -> Result<(StatusCode, Json<Value>)> {
    let reply = Reply {
        text: b.text,
        html: b.html,
        files: b.attachment.into_iter().chain(b.attachments).collect(),
        addressing: Addressing { subject: b.subject, to: b.to, cc: b.cc, bcc: b.bcc },
    };
    Ok((StatusCode::CREATED, Json(s.send_reply(&p, ContactId(id), reply).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    on: bool,
}

pub async fn typing(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<Typing>,
) -> Result<StatusCode> {
    s.agent_typing(&p, ContactId(id), b.on).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    upto: u64,
}

pub async fn read(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<Read>,
) -> Result<StatusCode> {
    s.agent_read(&p, ContactId(id), b.upto).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn upload(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let (name, content_type) = upload_meta(&headers);
    let a = s.upload_attachment(&p, ContactId(id), &name, &content_type, bytes.to_vec()).await?;
    let mut v = json!(a);
    v["url"] = json!(format!("/api/v1/attachments/{}", a.id));
    Ok((StatusCode::CREATED, Json(v)))
}

pub async fn attachment(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Response> {
    Ok(file_response(s.attachment_for(&p, id).await?))
}

pub async fn end(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.agent_ends_chat(&p, ContactId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts the caller on hold: the voice channel plays them music until `resume`.
pub async fn hold(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.hold(&p, ContactId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn resume(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.hold(&p, ContactId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mutes the agent on a call: the caller stops hearing them until `unmute`.
pub async fn mute(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.mute(&p, ContactId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unmute(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.mute(&p, ContactId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}
