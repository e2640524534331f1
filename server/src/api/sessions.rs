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
        .route("/v1/checkout_sessions/{id}/resolve", post(resolve))
        .route("/v1/checkout_sessions/{id}/refunds/{refund_id}/resolve", post(resolve_refund))
        .route(
            "/v1/checkout_sessions/{id}/late_payments/{late_payment_id}/resolve",
            post(resolve_late_payment),
        )
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
async fn session_view(state: &AppState, merchant_id: &str, id: &str) -> Result<CheckoutSession, ApiError> {
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
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Store(e.into()))
}

/// `POST /v1/checkout_sessions/{id}/resolve`: the outcome the merchant
/// confirmed at the provider for a payment Kasir could not learn.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveRequest {
    /// `succeeded` or `failed`, as the provider's dashboard or support says.
    outcome: String,
    /// Why, for the record (at most 500 characters).
    #[serde(default)]
    note: Option<String>,
}

/// Settles a payment under review (`checkout_session.requires_review`) with
/// the outcome the merchant confirmed at the provider; recorded on the
/// attempt with who and when. `succeeded` pays the session; `failed` opens it
/// again for the shopper.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/resolve", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    request_body = ResolveRequest,
    responses((status = 200, body = kasir_shared::api::CheckoutSession),
        (status = 400, description = "`request.malformed`", body = kasir_shared::api::ErrorResponse),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "`resource.not_found`", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "`session.not_under_review`", body = kasir_shared::api::ErrorResponse),
        (status = 422, description = "`resolution.outcome`, `resolution.note`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
    AppJson(request): AppJson<ResolveRequest>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let (succeeded, resolution) = resolution(&merchant, &request)?;
    let outcome = if succeeded { PaymentStatus::Succeeded } else { PaymentStatus::Failed };
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    let attempt = state.store.latest_attempt(&session.id).await?;
    let Some(attempt) = attempt.filter(|a| {
        a.review_requested_at.is_some()
            && a.resolution.is_none()
            && matches!(a.status.as_str(), "unknown" | "processing")
    }) else {
        return Err(ApiError::code(ErrorCode::NotUnderReview));
    };
    let update = crate::store::AttemptUpdate {
        failure_code: (outcome == PaymentStatus::Failed).then(|| "resolved_failed".to_owned()),
        resolution: Some(resolution),
        ..crate::store::AttemptUpdate::default()
    };
    let settled = crate::payments::settle::settle(
        &state,
        &attempt.id,
        outcome,
        StatusSource::Resolution,
        &update,
        None,
    )
    .await?;
    if settled.status != outcome.as_str() {
        return Err(ApiError::code(ErrorCode::NotUnderReview));
    }
    tracing::warn!(session = %session.id, attempt = %attempt.id, merchant = %merchant.id, outcome = %outcome,
        "payment resolved by the merchant");
    Ok(Json(session_view(&state, &merchant.id, &id).await?))
}

/// Settles a refund under review (`checkout_session.refund_requires_review`)
/// with the outcome the merchant confirmed at the provider; recorded on the
/// refund with who and when. `succeeded` counts towards the refunded total;
/// `failed` releases the amount for another refund.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/refunds/{refund_id}/resolve", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`"), ("refund_id" = String, Path, description = "`re_…`")),
    request_body = ResolveRequest,
    responses((status = 200, body = kasir_shared::api::Refund),
        (status = 400, description = "`request.malformed`", body = kasir_shared::api::ErrorResponse),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "`resource.not_found`", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "`refund.not_under_review`", body = kasir_shared::api::ErrorResponse),
        (status = 422, description = "`resolution.outcome`, `resolution.note`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn resolve_refund(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path((id, refund_id)): Path<(String, String)>,
    AppJson(request): AppJson<ResolveRequest>,
) -> Result<Json<kasir_shared::api::Refund>, ApiError> {
    let (succeeded, resolution) = resolution(&merchant, &request)?;
    let refund =
        crate::payments::refund::resolve(&state, &merchant.id, &id, &refund_id, succeeded, &resolution)
            .await?;
    Ok(Json(refund))
}

/// Settles a late payment whose automatic refund Kasir could not learn the
/// outcome of (`checkout_session.late_payment_refund_requires_review`) with
/// what the merchant confirmed at the provider: `succeeded` (the provider
/// did refund it) makes it `refunded`; `failed` (it did not) makes it
/// `refund_failed`, the money the merchant's to return. Recorded on the late
/// payment as `resolution`, with its `late_payment_refund_*` event; asked
/// about no more.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/late_payments/{late_payment_id}/resolve", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`"), ("late_payment_id" = String, Path, description = "`lp_…`")),
    request_body = ResolveRequest,
    responses((status = 200, body = kasir_shared::api::CheckoutSession),
        (status = 400, description = "`request.malformed`", body = kasir_shared::api::ErrorResponse),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "`resource.not_found`", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "`late_payment.not_under_review`", body = kasir_shared::api::ErrorResponse),
        (status = 422, description = "`resolution.outcome`, `resolution.note`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn resolve_late_payment(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path((id, late_payment_id)): Path<(String, String)>,
    AppJson(request): AppJson<ResolveRequest>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let (succeeded, resolution) = resolution(&merchant, &request)?;
    let late =
        state.store.late_payment_of(&merchant.id, &id, &late_payment_id).await?.ok_or(ApiError::NotFound)?;
    if late.status != "refund_pending" || late.review_requested_at.is_none() {
        return Err(ApiError::code(ErrorCode::LatePaymentNotUnderReview));
    }
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    let attempt = state.store.attempt(&late.attempt_id).await?;
    let snapshot = crate::payments::snapshot_fn(state.config.public_url.clone())(&session, attempt.as_ref())?;
    let (status, code) =
        if succeeded { ("refunded", None) } else { ("refund_failed", Some("resolved_failed")) };
    let event =
        state.store.finish_late_refund(&late, status, None, code, Some(&resolution), &snapshot).await?;
    // Settled meanwhile by the provider's own answer, or a first resolve.
    if event.is_none() {
        return Err(ApiError::code(ErrorCode::LatePaymentNotUnderReview));
    }
    state.wake_delivery();
    tracing::warn!(session = %id, late_payment = %late_payment_id, merchant = %merchant.id, succeeded,
        "late payment's refund resolved by the merchant");
    Ok(Json(session_view(&state, &merchant.id, &id).await?))
}

/// The merchant's resolution as recorded (`outcome`, `by` merchant and key
/// hint, `at`, `note`) and whether it says `succeeded`; `422` for an outcome
/// other than `succeeded`/`failed` or a note that is too long or has
/// control characters.
fn resolution(
    merchant: &crate::config::MerchantConfig,
    request: &ResolveRequest,
) -> Result<(bool, String), ApiError> {
    let succeeded = match request.outcome.as_str() {
        "succeeded" => true,
        "failed" => false,
        _ => return Err(ValidationError::new(ErrorCode::ResolutionOutcome).into()),
    };
    let note = request.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500 || n.chars().any(char::is_control)) {
        return Err(ValidationError::new(ErrorCode::ResolutionNote).into());
    }
    let key = merchant.secret_key.expose_secret();
    let key_hint = format!("{}…{}", &key[..key.len().min(8)], &key[key.len().saturating_sub(4)..]);
    let resolution = serde_json::json!({
        "outcome": request.outcome, "by": { "merchant": merchant.id, "key": key_hint },
        "at": now_ms() / 1000, "note": note,
    });
    Ok((succeeded, to_json(&resolution)?))
}
