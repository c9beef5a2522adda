//! Customers: CRUD, identities, search and lookup, merge, notes and the
//! timeline across channels.

use super::extract::{Needs, Path, Query, Supervisor};
use super::{ApiError, AppState, Auth, Body};
use crate::service::verification::PinUpdate;
use crate::service::{CustomerUpdate, IdentityValue, NewCustomer, ServiceError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::ids::CustomerId;
use switchboard_store::IdentityKind;

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    q: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    visitor: Option<String>,
    handle: Option<String>,
    limit: Option<u32>,
}

/// `?q=` searches names, emails and phones; `?phone=`, `?email=`,
/// `?visitor=` or `?handle=` looks one identity up; neither lists customers.
pub async fn customers(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<CustomerQuery>,
) -> Result<Json<Value>> {
    let lookups = [
        ("phone", IdentityKind::Phone, q.phone),
        ("email", IdentityKind::Email, q.email),
        ("visitor", IdentityKind::Visitor, q.visitor),
        ("handle", IdentityKind::Handle, q.handle),
    ];
    let mut lookups = lookups.into_iter().filter_map(|(field, kind, v)| v.map(|v| (field, kind, v)));
    let found = match (lookups.next(), q.q) {
        (Some(_), Some(_)) => return Err(ServiceError::invalid("q", "give q or one identity, not both").into()),
        (Some((field, kind, value)), None) => {
            if let Some((second, _, _)) = lookups.next() {
                return Err(ServiceError::invalid(second, "look up one identity at a time").into());
            }
            // An unencoded '+' in a query string arrives as a space.
            let value = match value.strip_prefix(' ') {
                Some(rest) if kind == IdentityKind::Phone => format!("+{rest}"),
                _ => value,
            };
            s.customer_with_identity(&p, kind, &value, field).await?.into_iter().collect()
        }
        (None, text) => s.search_customers(&p, text.as_deref().unwrap_or(""), q.limit.unwrap_or(50)).await?,
    };
    Ok(Json(json!({ "customers": found })))
}

pub async fn create_customer(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Body(b): Body<NewCustomer>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.create_customer(&p, b).await?))))
}

pub async fn customer(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    Ok(Json(json!(s.customer(&p, CustomerId(id)).await?)))
}

pub async fn update_customer(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(id): Path<u64>,
    Body(b): Body<CustomerUpdate>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.update_customer(&p, CustomerId(id), b).await?)))
}

pub async fn add_identity(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(id): Path<u64>,
    Body(b): Body<IdentityValue>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.add_identity(&p, CustomerId(id), b).await?))))
}

/// `DELETE /customers/{id}/identities?kind=email&value=…`
pub async fn remove_identity(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Query(q): Query<IdentityValue>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.remove_identity(&p, CustomerId(id), q).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    from: u64,
}

pub async fn merge(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(id): Path<u64>,
    Body(b): Body<MergeBody>,
) -> Result<Json<Value>> {
    Ok(Json(json!(s.merge_customers(&p, CustomerId(id), CustomerId(b.from)).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    text: String,
}

pub async fn add_note(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<u64>,
    Body(b): Body<NoteBody>,
) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(json!(s.add_customer_note(&p, CustomerId(id), &b.text).await?))))
}

/// Sets the customer's PIN for caller verification; never shown back.
pub async fn put_pin(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(id): Path<u64>,
    Body(b): Body<PinUpdate>,
) -> Result<StatusCode> {
    s.put_customer_pin(&p, CustomerId(id), b).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_pin(
    State(s): State<AppState>,
    Needs(p, ..): Needs<Supervisor>,
    Path(id): Path<u64>,
) -> Result<StatusCode> {
    s.delete_customer_pin(&p, CustomerId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn timeline(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<u64>) -> Result<Json<Value>> {
    let (customer, events) = s.customer_timeline(&p, CustomerId(id)).await?;
    Ok(Json(json!({ "customer": customer, "events": events })))
}
