//! Merchant API: checkout sessions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kasir_shared::payment::{SessionStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::ids::{new_id, random_token};
use crate::payments::{CreateSessionRequest, NewSession, SessionObject};
use crate::store::{
    IdempotencyOutcome, IdempotentRequest, SessionRow, SessionTransition, StoreError, StoredResponse, now_ms,
};

/// `/v1/checkout_sessions` and `/v1/checkout_sessions/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkout_sessions", get(list).post(create))
        .route("/v1/checkout_sessions/{id}", get(retrieve))
        .route("/v1/checkout_sessions/{id}/cancel", post(cancel))
}

/// The `Idempotency-Key` header, if sent: 1-255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || ApiError::BadRequest(ValidationError::new(ErrorCode::IdempotencyKeyInvalid));
    let key = value.to_str().map_err(|_| bad())?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

fn json_response(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    (status, [(header::CONTENT_TYPE, "application/json")], stored.body).into_response()
}

async fn create(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    headers: HeaderMap,
    AppJson(request): AppJson<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let session: NewSession = request.parse()?;
    let now = now_ms();
    let id = new_id("cs");
    let customer = serde_json::json!({
        "name": session.name.as_ref().map(|n| n.as_str()),
        "email": session.email.as_ref().map(|e| e.as_str()),
        "phone": session.phone.as_ref().map(|p| p.e164()),
    });
    let methods: Vec<&str> = session.payment_methods.iter().map(|m| m.as_str()).collect();
    let row = SessionRow {
        client_secret: format!("{id}_secret_{}", random_token(32)),
        id,
        merchant_id: merchant.id.clone(),
        status: SessionStatus::Open.as_str().to_owned(),
        amount: session.amount.to_i64(),
        currency: "IDR".into(),
        reference: session.reference.as_str().to_owned(),
        description: session.description.clone(),
        payment_methods: to_json(&methods)?,
        customer: to_json(&customer)?,
        return_url: session.return_url.clone(),
        locale: session.locale.as_str().to_owned(),
        metadata: to_json(&session.metadata)?,
        created_at: now,
        expires_at: now + session.expires_in * 1000,
    };
    let object = SessionObject::from_row(row.clone(), &state.config.public_url)?;
    let response = StoredResponse { status: 201, body: to_json(&object)? };
    let outcome = match key.as_deref() {
        None => state.store.create_session(&row, None).await?,
        Some(key) => {
            // Sorted keys make the hash independent of the order fields were sent in.
            let canonical = serde_json::to_value(&request).map_err(|e| ApiError::Store(e.into()))?;
            let request_hash = format!("{:x}", Sha256::digest(to_json(&canonical)?.as_bytes()));
            let idem = IdempotentRequest { key, request_hash: &request_hash, response: &response };
            state.store.create_session(&row, Some(idem)).await?
        }
    };
    match outcome {
        IdempotencyOutcome::Created => {
            tracing::info!(session = %object.id, merchant = %merchant.id, amount = object.amount, "session created");
            Ok(json_response(response))
        }
        IdempotencyOutcome::Replayed(saved) => Ok(json_response(saved)),
        IdempotencyOutcome::Conflict => Err(ApiError::IdempotencyConflict),
    }
}

async fn retrieve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<SessionObject>, ApiError> {
    let row = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(SessionObject::from_row(row, &state.config.public_url)?))
}

/// Cancels an open session (or one waiting for the shopper). Cancelling a
/// cancelled session again returns it unchanged; a session that is paid,
/// expired or has an attempt in flight is `409 session.not_cancellable`.
async fn cancel(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<SessionObject>, ApiError> {
    let public_url = state.config.public_url.clone();
    let snapshot = move |row: &SessionRow| -> Result<String, StoreError> {
        Ok(serde_json::to_string(&SessionObject::from_row(row.clone(), &public_url)?)?)
    };
    let outcome = state
        .store
        .transition_session(
            &merchant.id,
            &id,
            SessionStatus::Cancelled,
            StatusSource::Cancellation,
            &snapshot,
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    match outcome {
        SessionTransition::Changed(row, event) => {
            tracing::info!(session = %row.id, event = %event.id, "session cancelled");
            Ok(Json(SessionObject::from_row(row, &state.config.public_url)?))
        }
        SessionTransition::Unchanged(row) => {
            Ok(Json(SessionObject::from_row(row, &state.config.public_url)?))
        }
        SessionTransition::Refused(..) => Err(ApiError::Conflict(ErrorCode::SessionNotCancellable)),
    }
}

/// `?limit=&starting_after=`.
#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    pub(super) limit: Option<u32>,
    pub(super) starting_after: Option<String>,
}

impl ListQuery {
    /// The page size, 1-100 (default 10), or `400 pagination.limit`.
    pub(super) fn limit(&self) -> Result<u32, ApiError> {
        let limit = self.limit.unwrap_or(10);
        if (1..=100).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::BadRequest(ValidationError::new(ErrorCode::PaginationLimit)))
        }
    }
}

async fn list(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = query.limit()?;
    let page = state.store.sessions(&merchant.id, limit, query.starting_after.as_deref()).await?.ok_or_else(
        || ApiError::BadRequest(ValidationError::new(ErrorCode::ResourceNotFound).at("starting_after")),
    )?;
    let data = page
        .sessions
        .into_iter()
        .map(|row| SessionObject::from_row(row, &state.config.public_url))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "object": "list", "data": data, "has_more": page.has_more })))
}

/// Serialising our own values cannot fail in practice; if it ever does, it
/// is an internal error, not a panic.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Store(e.into()))
}
