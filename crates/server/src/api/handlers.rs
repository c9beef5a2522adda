//! One small handler per route: parse, call the service, answer JSON.

use super::edge::{Client, session_cookie};
use super::extract::{Admin, Needs, Path, Query, Supervisor};
use super::{ApiError, AppState, Auth, Body};
use crate::auth::Principal;
use crate::service::settings::QueueSettings;
use crate::service::{AgentSpec, NewContact, NewUser, ServiceError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::agent::{Presence, ReasonCode};
use switchboard_core::channel::Channel;
use switchboard_core::events::TransferTarget;
use switchboard_core::ids::{AgentId, ContactId, CustomerId, PolicyId, QueueId, UserId};
use switchboard_core::policy::StepSpec;
use switchboard_store::{ContactFilter, ContactRecord, ContactState};

type Result<T> = std::result::Result<T, ApiError>;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the store answers and takes writes (a read-only database
/// would fail every write, logins included). The cause goes to the log
/// only: this route is public.
pub async fn ready(State(s): State<AppState>) -> Response {
    let store = s.store();
    match store.max_ids().await.and(store.check_writable().await) {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let error =
                json!({ "code": "not_ready", "message": "the database does not answer or does not take writes" });
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "error": error }))).into_response()
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API route")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

pub async fn login(State(s): State<AppState>, client: Client, Body(b): Body<Login>) -> Result<Response> {
    let (token, user) = match s.login(&b.email, &b.password, client.ip).await {
        Err(ServiceError::TryLater(wait)) => {
            let retry_after = wait.as_secs_f64().ceil().max(1.0).to_string();
            let error = ApiError::from(ServiceError::TryLater(wait));
            return Ok(([(header::RETRY_AFTER, retry_after)], error).into_response());
        }
        other => other?,
    };
    let cookie = session_cookie(&token, client.https, false);
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({ "token": token, "user": user }))).into_response())
}

/// Ends the caller's session (or revokes the bearer token given); without
/// valid credentials there is nothing to end: 401.
pub async fn logout(State(s): State<AppState>, client: Client, parts: axum::http::request::Parts) -> Result<Response> {
    let token = super::bearer(&parts).ok_or(ServiceError::Unauthenticated)?;
    s.authenticate(&token).await?;
    s.logout(&token).await?;
    let cookie = session_cookie("", client.https, true);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

pub async fn me(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    let user = s.store().user(p.workspace, p.user).await.map_err(ServiceError::from)?;
    Ok(Json(json!({ "principal": p, "user": user })))
}

pub async fn users(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "users": s.users(&p).await? })))
}

pub async fn create_user(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<NewUser>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.create_user(&p, b).await?))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSkill {
    name: String,
}

pub async fn create_skill(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<NewSkill>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.create_skill(&p, &b.name).await?))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    name: String,
    steps: Vec<StepSpec>,
}

pub async fn policies(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "policies": s.policies(&p).await? })))
}

pub async fn create_policy(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<PolicyBody>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.put_policy(&p, None, &b.name, b.steps).await?))))
}

pub async fn update_policy(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(b): Body<PolicyBody>,
) -> Result<Json<Value>> {
    let exists = s.policies(&p).await?.iter().any(|x| x.id == PolicyId(id));
    if !exists {
        return Err(ServiceError::NotFound(format!("policy {id}")).into());
    }
    Ok(Json(json!(s.put_policy(&p, Some(PolicyId(id)), &b.name, b.steps).await?)))
}

#[derive(Deserialize)]
pub struct QueueBody {
    name: String,
    #[serde(flatten)]
    settings: QueueSettings,
}

pub async fn queues(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "queues": s.queues(&p).await? })))
}

pub async fn create_queue(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<QueueBody>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.put_queue(&p, None, &b.name, b.settings).await?))))
}

pub async fn update_queue(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(b): Body<QueueBody>,
) -> Result<Json<Value>> {
    if !s.queues(&p).await?.iter().any(|q| q.id == QueueId(id)) {
        return Err(ServiceError::NotFound(format!("queue {id}")).into());
    }
    Ok(Json(json!(s.put_queue(&p, Some(QueueId(id)), &b.name, b.settings).await?)))
}

pub async fn put_agent(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Path(id): Path<u64>,
    Body(b): Body<AgentSpec>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.put_agent(&p, UserId(id), b).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// "available", "away" or "offline".
    state: String,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn agent_state(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<StateBody>,
) -> Result<StatusCode> {
    let presence = match b.state.as_str() {
        "available" => Presence::Available,
        "offline" => Presence::Offline,
        "away" => Presence::Away(ReasonCode::new(b.reason.unwrap_or_else(|| "away".into()))),
        other => {
            return Err(ServiceError::invalid("state", format!("'{other}': use available, away or offline")).into());
        }
    };
    s.set_agent_state(&p, UserId(id), presence).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A contact on the `api` channel. A retried request with the same
/// `Idempotency-Key` answers the contact the first one made.
pub async fn create_contact(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    headers: HeaderMap,
    Body(mut b): Body<NewContact>,
) -> Result<(StatusCode, Json<Value>)> {
    if let Some(key) = headers.get(IDEMPOTENCY_KEY) {
        let key = key.to_str().map_err(|_| ServiceError::invalid("idempotency_key", "must be visible ASCII"))?;
        b.idempotency_key = Some(key.to_string());
    }
    Ok((StatusCode::CREATED, Json(json!(s.create_contact(&p, b).await?))))
}

/// The header naming a request's idempotency key.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub async fn contact(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    let record = s.contact(&p, ContactId(id)).await?;
    Ok(Json(with_sla(&s, &p, vec![record]).await?.remove(0)))
}

/// Contacts as the API shows them: each record with `sla`, where it stands
/// with its response or resolution targets (null when no clock runs).
async fn with_sla(s: &AppState, p: &Principal, records: Vec<ContactRecord>) -> Result<Vec<Value>> {
    let ids: Vec<ContactId> = records.iter().map(|r| r.id).collect();
    let mut status = s.sla_status(p, &ids).await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let sla = status.remove(&r.id);
            let mut v = json!(r);
            v["sla"] = json!(sla);
            v
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    state: Option<ContactState>,
    channel: Option<Channel>,
    queue: Option<u64>,
    agent: Option<u64>,
    customer: Option<u64>,
    after: Option<u64>,
    limit: Option<u32>,
}

pub async fn contacts(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<ContactQuery>) -> Result<Json<Value>> {
    let filter = ContactFilter {
        state: q.state,
        channel: q.channel,
        queue: q.queue.map(QueueId),
        agent: q.agent.map(UserId),
        customer: q.customer.map(CustomerId),
    };
    let limit = q.limit.unwrap_or(50);
    let page = s.contacts(&p, filter, q.after.map(ContactId), limit).await?;
    let next = (page.len() as u32 >= limit.clamp(1, 500)).then(|| page.last().map(|c| c.id.0)).flatten();
    Ok(Json(json!({ "contacts": with_sla(&s, &p, page).await?, "next_after": next })))
}

pub async fn accept(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.accept(&p, ContactId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reject(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.reject(&p, ContactId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[serde(default)]
    disposition: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

pub async fn complete(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<CompleteBody>,
) -> Result<StatusCode> {
    s.complete(&p, ContactId(id), b.disposition, b.notes).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    queue: Option<u64>,
    agent: Option<u64>,
}

pub async fn transfer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<TransferBody>,
) -> Result<StatusCode> {
    let target = match (b.queue, b.agent) {
        (Some(q), None) => TransferTarget::Queue(QueueId(q)),
        (None, Some(a)) => TransferTarget::Agent(AgentId(a)),
        _ => return Err(ServiceError::invalid("queue", "give exactly one of queue and agent").into()),
    };
    s.transfer(&p, ContactId(id), target).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn cancel(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<StatusCode> {
    s.cancel(&p, ContactId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn queue_stats(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "queues": s.queue_stats(&p).await? })))
}

pub async fn agent_stats(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!({ "agents": s.agent_stats(&p).await? })))
}

/// `GET /stats/adherence`: the agents out of adherence now (supervisors).
pub async fn adherence_stats(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<crate::service::realtime_adherence::AdherenceNow>> {
    Ok(Json(s.adherence_now(&p).await?))
}

#[derive(Deserialize)]
pub struct IntervalQuery {
    #[serde(default = "half_hour")]
    minutes: i64,
}

fn half_hour() -> i64 {
    30
}

pub async fn interval_stats(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<IntervalQuery>,
) -> Result<Json<Value>> {
    Ok(Json(json!({ "intervals": s.intervals(&p, q.minutes).await? })))
}

pub async fn csat_stats(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!(s.csat_report(&p).await?)))
}

/// The caller's workspace.
pub async fn workspace(State(s): State<AppState>, Auth(p): Auth) -> Result<Json<Value>> {
    Ok(Json(json!(s.workspace_view(&p).await?)))
}

pub async fn update_workspace(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Admin>,
    Body(b): Body<crate::service::workspace::WorkspaceUpdate>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.update_workspace(&p, b).await?)))
}
