//! Merchant API: settling what Kasir could not learn from the provider,
//! with what the merchant confirmed there: a payment under review, a refund
//! under review, a late payment's refund under review. Each resolution is
//! recorded (outcome, merchant and key hint, time, note).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use kasir_shared::api::CheckoutSession;
use kasir_shared::payment::{PaymentStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;

use super::sessions::{session_view, to_json};
use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::store::now_ms;

/// The three `…/resolve` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkout_sessions/{id}/resolve", post(resolve))
        .route("/v1/checkout_sessions/{id}/refunds/{refund_id}/resolve", post(resolve_refund))
        .route(
            "/v1/checkout_sessions/{id}/late_payments/{late_payment_id}/resolve",
            post(resolve_late_payment),
        )
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
    crate::payments::refund::resolve_late(
        &state,
        &merchant.id,
        &id,
        &late_payment_id,
        succeeded,
        &resolution,
    )
    .await?;
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
