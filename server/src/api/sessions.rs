//! Merchant API: checkout sessions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::ids::{new_id, random_token};
use crate::payments::void::void_waiting_attempt;
use crate::payments::{
    CreateSessionRequest, NewSession, session_object, session_view as session_object_view, snapshot_fn,
};
use crate::store::{
    IdempotencyOutcome, IdempotentRequest, SessionRow, SessionTransition, StoredResponse, now_ms,
};
use kasir_shared::api::{CheckoutSession, List, RefundRequest};

/// `/v1/checkout_sessions` and `/v1/checkout_sessions/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkout_sessions", get(list).post(create))
        .route("/v1/checkout_sessions/{id}", get(retrieve))
        .route("/v1/checkout_sessions/{id}/cancel", post(cancel))
        .route("/v1/checkout_sessions/{id}/refunds", post(refund))
}

/// The `Idempotency-Key` header, if sent: 1-255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || ApiError::Rejected(ValidationError::new(ErrorCode::IdempotencyKeyInvalid));
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

#[utoipa::path(post, path = "/v1/checkout_sessions", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Replays the stored response for the same body; 409 `idempotency_key.reused` for another body. Kept at least 24 h.")),
    request_body = crate::payments::CreateSessionRequest,
    responses((status = 201, body = kasir_shared::api::CheckoutSession),
        (status = 400, description = "Malformed JSON or header (`request.malformed`, `idempotency_key.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "`idempotency_key.reused`", body = kasir_shared::api::ErrorResponse),
        (status = 422, description = "A field is not acceptable; `field` names it", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    headers: HeaderMap,
    AppJson(request): AppJson<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let mut session: NewSession = request.parse()?;
    if merchant.max_amount.is_some_and(|max| session.amount > max) {
        return Err(ValidationError::new(ErrorCode::AmountTooLarge).at("amount").into());
    }
    // Only the methods this merchant allows (a live merchant's are all
    // routed to real providers; checked at start).
    let allowed = merchant.allowed_methods();
    if request.payment_methods.is_none() {
        session.payment_methods.retain(|m| allowed.contains(m));
    } else if let Some(i) = session.payment_methods.iter().position(|m| !allowed.contains(m)) {
        let names = request.payment_methods.as_deref().unwrap_or_default();
        let at = names
            .iter()
            .position(|n| {
                kasir_shared::payment::PaymentMethodKind::parse(n).ok() == Some(session.payment_methods[i])
            })
            .unwrap_or(i);
        return Err(ValidationError::new(ErrorCode::PaymentMethodNotAllowed)
            .at(format!("payment_methods[{at}]"))
            .into());
    }
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
        amount_refunded: 0,
        livemode: merchant.livemode(),
    };
    let object = session_object(row.clone(), &state.config.public_url)?;
    let response = StoredResponse { status: 201, body: to_json(&object)? };
    let outcome = match key.as_deref() {
        None => state.store.create_session(&row, None).await?,
        Some(key) => {
            // Sorted keys make the hash independent of the order fields were sent in.
            let canonical = serde_json::to_value(&request).map_err(|e| ApiError::Store(e.into()))?;
            let request_hash =
                crate::providers::crypto::hex(&Sha256::digest(to_json(&canonical)?.as_bytes()));
            let idem = IdempotentRequest { key, request_hash: &request_hash, response: &response };
            state.store.create_session(&row, Some(idem)).await?
        }
    };
    match outcome {
        IdempotencyOutcome::Created => {
            tracing::info!(session = %object.id, merchant = %merchant.id, amount = object.amount.rupiah(), "session created");
            Ok(json_response(response))
        }
        IdempotencyOutcome::Replayed(saved) => Ok(json_response(saved)),
        IdempotencyOutcome::Conflict => Err(ApiError::code(ErrorCode::IdempotencyKeyReused)),
    }
}

#[utoipa::path(get, path = "/v1/checkout_sessions/{id}", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    responses((status = 200, body = kasir_shared::api::CheckoutSession), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<CheckoutSession>, ApiError> {
    Ok(Json(session_view(&state, &merchant.id, &id).await?))
}

/// Cancels an open session (or one waiting for the shopper). Cancelling a
/// cancelled session again returns it unchanged; a session that is paid,
/// expired or has an attempt in flight is `409 session.not_cancellable`.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/cancel", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    responses((status = 200, body = kasir_shared::api::CheckoutSession), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "Paid, expired or with an attempt in flight (`session.not_cancellable`)", body = kasir_shared::api::ErrorResponse),
        (status = 502, description = "The provider could not void the waiting payment (`provider.unavailable`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    if session.status == SessionStatus::RequiresAction.as_str() {
        // Void the QR/VA/3DS at the provider first: if the shopper paid in
        // the meantime, the session is paid and cannot be cancelled.
        void_waiting_attempt(&state, &session, PaymentStatus::Cancelled, Some(SessionStatus::Cancelled))
            .await?;
    }
    let snapshot = snapshot_fn(state.config.public_url.clone());
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
    let row = match outcome {
        SessionTransition::Changed(row, event) => {
            tracing::info!(session = %row.id, event = %event.id, "session cancelled");
            state.notify_session(&row.id);
            state.wake_delivery();
            row
        }
        SessionTransition::Unchanged(row) => row,
        SessionTransition::Refused(..) => return Err(ApiError::code(ErrorCode::SessionNotCancellable)),
    };
    let latest = state.store.latest_attempt(&row.id).await?;
    Ok(Json(session_object_view(row, &state.config.public_url, latest.as_ref())?))
}

/// Refunds all or part of a paid session through its provider. The amount
/// is reserved with a compare-and-set first, so concurrent refunds never
/// exceed the payment.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/refunds", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    request_body = kasir_shared::api::RefundRequest,
    responses((status = 201, body = kasir_shared::api::Refund),
        (status = 400, description = "`request.malformed`: not a JSON object of this shape", body = kasir_shared::api::ErrorResponse), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "Not paid (`refund.not_allowed`)", body = kasir_shared::api::ErrorResponse),
        (status = 422, description = "More than remains (`refund.amount`), or the provider cannot refund this payment (`refund.unsupported`)", body = kasir_shared::api::ErrorResponse),
        (status = 502, description = "`provider.unavailable`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn refund(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(request): AppJson<RefundRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let refund = crate::payments::refund::refund(&state, &merchant.id, &id, request.amount, key).await?;
    Ok((StatusCode::CREATED, Json(refund)).into_response())
}

/// The merchant's session as the API shows it: with its latest attempt and
/// its late payments.
pub(super) async fn session_view(
    state: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<CheckoutSession, ApiError> {
    let row = state.store.session(merchant_id, id).await?.ok_or(ApiError::NotFound)?;
    let latest = state.store.latest_attempt(&row.id).await?;
    let late = state.store.late_payments(&row.id).await?;
    let mut object = session_object_view(row, &state.config.public_url, latest.as_ref())?;
    object.late_payments =
        late.iter().map(crate::payments::late_payment_object).collect::<Result<Vec<_>, _>>()?;
    Ok(object)
}

/// `?limit=&starting_after=`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    pub(super) limit: Option<u32>,
    pub(super) starting_after: Option<String>,
}

impl ListQuery {
    /// The id to page after; empty means none.
    pub(super) fn after(&self) -> Option<&str> {
        self.starting_after.as_deref().filter(|s| !s.is_empty())
    }

    /// The page size, 1-100 (default 10), or `400 pagination.limit`.
    pub(super) fn limit(&self) -> Result<u32, ApiError> {
        let limit = self.limit.unwrap_or(10);
        if (1..=100).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::Rejected(ValidationError::new(ErrorCode::PaginationLimit)))
        }
    }
}

#[utoipa::path(get, path = "/v1/checkout_sessions", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("limit" = Option<u32>, Query, description = "1-100, default 10", minimum = 1, maximum = 100), ("starting_after" = Option<String>, Query, description = "A session id: the page after it, newest first")),
    responses((status = 200, body = kasir_shared::api::List<kasir_shared::api::CheckoutSession>),
        (status = 400, description = "`pagination.limit`", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "`resource.not_found`: no such `starting_after` session", body = kasir_shared::api::ErrorResponse), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<List<CheckoutSession>>, ApiError> {
    let limit = query.limit()?;
    let page = state.store.sessions(&merchant.id, limit, query.after()).await?.ok_or(ApiError::NotFound)?;
    let data = page
        .sessions
        .into_iter()
        .map(|row| session_object(row, &state.config.public_url))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(List::new(data, page.has_more)))
}

/// Serialising our own values cannot fail in practice; if it ever does, it
/// is an internal error, not a panic.
pub(super) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Store(e.into()))
}
