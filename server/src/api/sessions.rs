//! Merchant API: checkout sessions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::ids::{new_id, random_token};
use crate::payments::attempt::void_waiting_attempt;
use crate::payments::{CreateSessionRequest, NewSession, SessionObject, snapshot_fn};
use crate::providers::{AttemptRef, ProviderError};
use crate::store::{
    IdempotencyOutcome, IdempotentRequest, RefundReserve, RefundRow, SessionRow, SessionTransition,
    StoredResponse, now_ms,
};

/// `/v1/checkout_sessions` and `/v1/checkout_sessions/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkout_sessions", get(list).post(create))
        .route("/v1/checkout_sessions/{id}", get(retrieve))
        .route("/v1/checkout_sessions/{id}/cancel", post(cancel))
        .route("/v1/checkout_sessions/{id}/refunds", post(refund))
        .route("/v1/checkout_sessions/{id}/resolve", post(resolve))
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

#[utoipa::path(post, path = "/v1/checkout_sessions", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Replays the stored response for the same body; 409 `idempotency_key.reused` for another body. Kept at least 24 h.")),
    request_body = crate::payments::CreateSessionRequest,
    responses((status = 201, body = crate::payments::SessionObject),
        (status = 400, description = "Malformed JSON or header (`request.malformed`, `idempotency_key.invalid`)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "`idempotency_key.reused`", body = crate::openapi::ErrorBody),
        (status = 422, description = "A field is not acceptable; `field` names it", body = crate::openapi::ErrorBody)))]
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
    let object = SessionObject::from_row(row.clone(), &state.config.public_url)?;
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
            tracing::info!(session = %object.id, merchant = %merchant.id, amount = object.amount, "session created");
            Ok(json_response(response))
        }
        IdempotencyOutcome::Replayed(saved) => Ok(json_response(saved)),
        IdempotencyOutcome::Conflict => Err(ApiError::IdempotencyConflict),
    }
}

#[utoipa::path(get, path = "/v1/checkout_sessions/{id}", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    responses((status = 200, body = crate::payments::SessionObject), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = crate::openapi::ErrorBody), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = crate::openapi::ErrorBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<SessionObject>, ApiError> {
    Ok(Json(session_view(&state, &merchant.id, &id).await?))
}

/// Cancels an open session (or one waiting for the shopper). Cancelling a
/// cancelled session again returns it unchanged; a session that is paid,
/// expired or has an attempt in flight is `409 session.not_cancellable`.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/cancel", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    responses((status = 200, body = crate::payments::SessionObject), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = crate::openapi::ErrorBody), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Paid, expired or with an attempt in flight (`session.not_cancellable`)", body = crate::openapi::ErrorBody),
        (status = 502, description = "The provider could not void the waiting payment (`provider.unavailable`)", body = crate::openapi::ErrorBody)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<SessionObject>, ApiError> {
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
        SessionTransition::Refused(..) => return Err(ApiError::Conflict(ErrorCode::SessionNotCancellable)),
    };
    let latest = state.store.latest_attempt(&row.id).await?;
    Ok(Json(SessionObject::from_row(row, &state.config.public_url)?.with_attempt(latest.as_ref())))
}

/// `POST /v1/checkout_sessions/{id}/refunds`: `{"amount"}` (whole rupiah;
/// the rest of the payment when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundRequest {
    #[serde(default)]
    amount: Option<i64>,
}

/// Refunds all or part of a paid session through its provider. The amount
/// is reserved with a compare-and-set first, so concurrent refunds never
/// exceed the payment.
#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/refunds", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    request_body = crate::openapi::RefundRequestDoc,
    responses((status = 201, body = crate::openapi::RefundObject),
        (status = 400, description = "`request.malformed`: not a JSON object of this shape", body = crate::openapi::ErrorBody), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = crate::openapi::ErrorBody), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not paid (`refund.not_allowed`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "More than remains (`refund.amount`)", body = crate::openapi::ErrorBody),
        (status = 502, description = "`provider.unavailable`", body = crate::openapi::ErrorBody)))]
pub(crate) async fn refund(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(request): AppJson<RefundRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    // The key names one refund of one session and amount (absent: the rest).
    let request_hash = key.as_ref().map(|_| {
        let canonical =
            format!("{}|{}", session.id, request.amount.map_or_else(|| "rest".into(), |a| a.to_string()));
        crate::providers::crypto::hex(&Sha256::digest(canonical.as_bytes()))
    });
    if let Some(key) = &key
        && let Some(existing) = state.store.refund_by_key(&merchant.id, key).await?
    {
        return replay_refund(&existing, request_hash.as_deref());
    }
    let paid = SessionStatus::from_wire(&session.status)
        .is_some_and(|s| matches!(s, SessionStatus::Succeeded | SessionStatus::PartiallyRefunded));
    let attempt = state.store.succeeded_attempt(&session.id).await?;
    let (true, Some(attempt)) = (paid, attempt) else {
        return Err(ApiError::Conflict(ErrorCode::RefundNotAllowed));
    };
    let remaining = session.amount - session.amount_refunded;
    let amount = request.amount.unwrap_or(remaining);
    let bad_amount = || ApiError::Unprocessable(ValidationError::new(ErrorCode::RefundAmount).at("amount"));
    if amount <= 0 || amount > remaining {
        return Err(bad_amount());
    }
    let refund = RefundRow {
        id: new_id("re"),
        session_id: session.id.clone(),
        merchant_id: merchant.id.clone(),
        attempt_id: attempt.id.clone(),
        amount,
        status: "pending".into(),
        provider_ref: None,
        created_at: now_ms(),
        idempotency_key: key.clone(),
        request_hash: request_hash.clone(),
    };
    match state.store.reserve_refund(&refund).await? {
        RefundReserve::Reserved => {}
        RefundReserve::Exceeds => return Err(bad_amount()),
        RefundReserve::Existing(existing) => return replay_refund(&existing, request_hash.as_deref()),
    }
    let provider = state.providers.get(&attempt.provider).cloned();
    let idr = Idr::from_i64(amount).unwrap_or(Idr::ZERO);
    let paid = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let r =
        AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount: paid };
    let result = match &provider {
        Some(p) => tokio::time::timeout(state.config.timings.provider_timeout, p.refund(r, &refund.id, idr))
            .await
            .unwrap_or(Err(ProviderError::Timeout)),
        None => Err(ProviderError::Unavailable("provider no longer configured".into())),
    };
    let status = match result {
        Ok(outcome) if outcome.pending => {
            // Accepted, not finished: the amount stays reserved, so a retry
            // cannot refund it twice; the reconciler asks until it ends.
            state.store.refund_pending(&refund, Some(&outcome.provider_ref)).await?;
            tracing::info!(refund = %refund.id, amount, "refund accepted by the provider, not yet finished");
            "pending"
        }
        Ok(outcome) => {
            finish_refund(&state, &refund, Ok(&outcome.provider_ref)).await?;
            tracing::info!(session = %id, refund = %refund.id, amount, "refunded");
            "succeeded"
        }
        Err(ProviderError::Refused { code }) => {
            tracing::warn!(refund = %refund.id, code = %code, "refund refused by the provider");
            finish_refund(&state, &refund, Err(&code)).await?;
            return Err(if code.ends_with("unsupported") {
                ApiError::Coded(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::RefundUnsupported)
            } else {
                bad_amount()
            });
        }
        Err(e) => {
            // No answer: the provider may have refunded. Keep it pending and
            // reserved rather than free the amount for a second refund; the
            // reconciler asks the provider about it.
            tracing::warn!(refund = %refund.id, error = %e, "refund got no answer; left pending");
            "pending"
        }
    };
    let mut done = refund.clone();
    done.status = status.into();
    Ok((StatusCode::CREATED, Json(done.to_json())).into_response())
}

/// Records a refund's final outcome (`Ok(provider_ref)` succeeded,
/// `Err(code)` failed) with its `checkout_session.refund_*` event, and moves
/// the session to `partially_refunded` or `refunded` from the total.
pub(crate) async fn finish_refund(
    state: &AppState,
    refund: &RefundRow,
    outcome: Result<&str, &str>,
) -> Result<(), ApiError> {
    let Some(session) = state.store.session_by_id(&refund.session_id).await? else {
        return Err(ApiError::NotFound);
    };
    let attempt = state.store.attempt(&refund.attempt_id).await?;
    let snapshot = snapshot_fn(state.config.public_url.clone())(&session, attempt.as_ref())?;
    let (succeeded, provider_ref, code) = match outcome {
        Ok(provider_ref) => (true, Some(provider_ref), None),
        Err(code) => (false, None, Some(code)),
    };
    let event = state.store.finish_refund(refund, succeeded, provider_ref, code, &snapshot).await?;
    if event.is_some() {
        state.wake_delivery();
    }
    if succeeded {
        settle_refunded(state, &session.merchant_id, &session).await?;
    }
    Ok(())
}

/// The stored answer to a refund request repeated with its `Idempotency-Key`;
/// `409 idempotency_key.reused` if the key was used for another refund.
fn replay_refund(existing: &RefundRow, request_hash: Option<&str>) -> Result<Response, ApiError> {
    if existing.request_hash.as_deref() != request_hash {
        return Err(ApiError::IdempotencyConflict);
    }
    Ok((StatusCode::CREATED, Json(existing.to_json())).into_response())
}

/// Moves a paid session to `partially_refunded` or `refunded` from what its
/// succeeded refunds add up to, read after this refund committed: however
/// concurrent refunds interleave, the one that completes the amount makes
/// the session `refunded`.
pub(crate) async fn settle_refunded(
    state: &AppState,
    merchant_id: &str,
    session: &SessionRow,
) -> Result<(), ApiError> {
    let total = state.store.refunded_total(&session.id).await?;
    let to = if total >= session.amount { SessionStatus::Refunded } else { SessionStatus::PartiallyRefunded };
    let snapshot = snapshot_fn(state.config.public_url.clone());
    let moved = state
        .store
        .transition_session(merchant_id, &session.id, to, StatusSource::ProviderResponse, &snapshot)
        .await?;
    if let Some(SessionTransition::Changed(_, event)) = moved {
        tracing::info!(session = %session.id, event = %event.id, total, "refund total recorded");
        state.wake_delivery();
    }
    Ok(())
}

/// The merchant's session as the API shows it: with its latest attempt and
/// its late payments.
async fn session_view(state: &AppState, merchant_id: &str, id: &str) -> Result<SessionObject, ApiError> {
    let row = state.store.session(merchant_id, id).await?.ok_or(ApiError::NotFound)?;
    let latest = state.store.latest_attempt(&row.id).await?;
    let late = state.store.late_payments(&row.id).await?;
    Ok(SessionObject::from_row(row, &state.config.public_url)?
        .with_attempt(latest.as_ref())
        .with_late_payments(&late))
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
            Err(ApiError::BadRequest(ValidationError::new(ErrorCode::PaginationLimit)))
        }
    }
}

#[utoipa::path(get, path = "/v1/checkout_sessions", tag = "checkout_sessions", security(("merchant_key" = [])),
    params(("limit" = Option<u32>, Query, description = "1-100, default 10", minimum = 1, maximum = 100), ("starting_after" = Option<String>, Query, description = "A session id: the page after it, newest first")),
    responses((status = 200, body = crate::openapi::SessionList),
        (status = 400, description = "`pagination.limit`", body = crate::openapi::ErrorBody),
        (status = 404, description = "`resource.not_found`: no such `starting_after` session", body = crate::openapi::ErrorBody), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = crate::openapi::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = query.limit()?;
    let page = state.store.sessions(&merchant.id, limit, query.after()).await?.ok_or(ApiError::NotFound)?;
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
    responses((status = 200, body = crate::payments::SessionObject),
        (status = 400, description = "`request.malformed`", body = crate::openapi::ErrorBody),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "`resource.not_found`", body = crate::openapi::ErrorBody),
        (status = 409, description = "`session.not_under_review`", body = crate::openapi::ErrorBody),
        (status = 422, description = "`resolution.outcome`, `resolution.note`", body = crate::openapi::ErrorBody)))]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
    AppJson(request): AppJson<ResolveRequest>,
) -> Result<Json<SessionObject>, ApiError> {
    let outcome = match request.outcome.as_str() {
        "succeeded" => PaymentStatus::Succeeded,
        "failed" => PaymentStatus::Failed,
        _ => return Err(ValidationError::new(ErrorCode::ResolutionOutcome).into()),
    };
    let note = request.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500 || n.chars().any(char::is_control)) {
        return Err(ValidationError::new(ErrorCode::ResolutionNote).into());
    }
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    let attempt = state.store.latest_attempt(&session.id).await?;
    let Some(attempt) = attempt.filter(|a| {
        a.review_requested_at.is_some()
            && a.resolution.is_none()
            && matches!(a.status.as_str(), "unknown" | "processing")
    }) else {
        return Err(ApiError::Conflict(ErrorCode::NotUnderReview));
    };
    let key = merchant.secret_key.expose_secret();
    let key_hint = format!("{}…{}", &key[..key.len().min(8)], &key[key.len().saturating_sub(4)..]);
    let resolution = serde_json::json!({
        "outcome": outcome.as_str(), "by": { "merchant": merchant.id, "key": key_hint },
        "at": now_ms() / 1000, "note": note,
    });
    let update = crate::store::AttemptUpdate {
        failure_code: (outcome == PaymentStatus::Failed).then(|| "resolved_failed".to_owned()),
        resolution: Some(to_json(&resolution)?),
        ..crate::store::AttemptUpdate::default()
    };
    let settled = crate::payments::attempt::settle(
        &state,
        &attempt.id,
        outcome,
        StatusSource::Resolution,
        &update,
        None,
    )
    .await?;
    if settled.status != outcome.as_str() {
        return Err(ApiError::Conflict(ErrorCode::NotUnderReview));
    }
    tracing::warn!(session = %session.id, attempt = %attempt.id, merchant = %merchant.id, outcome = %outcome,
        "payment resolved by the merchant");
    Ok(Json(session_view(&state, &merchant.id, &id).await?))
}
